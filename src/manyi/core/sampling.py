"""Sampling plans: simple random, systematic and stratified sampling.

Sample sizes (Cochran 1977, *Sampling Techniques*, §4.4): for a rate n₀ = z²·p(1 − p)/e², for
a mean n₀ = (z·σ/e)²; with a population of N, n = n₀/(1 + (n₀ − 1)/N); rounded up.
Allocation to strata: proportional n_h ∝ N_h, equal, or Neyman n_h ∝ N_h·S_h (Cochran §5.5),
rounded by largest remainders and capped at N_h. Draws are seeded; every drawn unit carries its
design weight N_h/n_h.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from manyi.core.messages import ManyiError, Message


def _fpc(n0: float, population: int | None) -> int:
    n = n0 if not population else n0 / (1 + (n0 - 1) / population)
    return int(math.ceil(n - 1e-9))


def size_for_rate(
    moe: float,
    rate: float = 0.5,
    level: float = 0.95,
    population: int | None = None,
    deff: float = 1.0,
) -> int:
    """Sample size so that a rate's interval half-width is ``moe``; n₀ is multiplied by the
    design effect ``deff`` before the finite-population correction."""
    if not 0 < moe < 1:
        raise ManyiError(Message("sample.bad_moe", {"value": moe}))
    if not 0 < rate < 1:
        raise ManyiError(Message("sample.bad_rate", {"value": rate}))
    _check_deff(deff)
    z = stats.norm.ppf(0.5 + level / 2)
    return _fpc(deff * z * z * rate * (1 - rate) / moe**2, population)


def size_for_mean(
    moe: float,
    sd: float,
    level: float = 0.95,
    population: int | None = None,
    deff: float = 1.0,
) -> int:
    """Sample size so that a mean's interval half-width is ``moe`` (σ from a pilot or past
    wave); n₀ is multiplied by the design effect ``deff`` before the finite-population correction."""
    if not moe > 0:
        raise ManyiError(Message("sample.bad_moe_mean", {"value": moe}))
    if not sd > 0:
        raise ManyiError(Message("sample.bad_sd", {"value": sd}))
    _check_deff(deff)
    z = stats.norm.ppf(0.5 + level / 2)
    return _fpc(deff * (z * sd / moe) ** 2, population)


def _check_deff(deff: float) -> None:
    if not (np.isfinite(deff) and deff >= 1):
        raise ManyiError(Message("sample.bad_deff", {"value": deff}))


def size_stratified(
    moe: float,
    sizes: np.ndarray,
    sds: np.ndarray,
    allocation: str = "proportional",
    level: float = 0.95,
    deff: float = 1.0,
) -> int:
    """Total sample size of a stratified sample so that the estimate's half-width is ``moe``.

    Cochran (1977) eq. 5.25: with V = (moe/z)², stratum weights W_h = N_h/N, SDs S_h and the
    allocation's shares w_h = n_h/n, n = (Σ W_h² S_h²/w_h)/(V + Σ W_h S_h²/N). Proportional
    (w_h = W_h) gives n = Σ W_h S_h²/(V + Σ W_h S_h²/N); Neyman (w_h ∝ W_h S_h) gives
    n = (Σ W_h S_h)²/(V + Σ W_h S_h²/N) (eq. 5.26). ``deff`` multiplies the result (a
    design effect from clustering or weighting, Kish 1965). For a rate, S_h = √(p_h(1 − p_h)).
    """
    sizes = np.asarray(sizes, dtype=float)
    sds = np.asarray(sds, dtype=float)
    if not moe > 0 or not (np.isfinite(sds).all() and (sds >= 0).all()) or not deff >= 1:
        raise ManyiError(
            Message(
                "an.bad_option",
                {
                    "option": "moe/sd/deff",
                    "value": f"{moe:g}",
                    "choices": "moe > 0, SD ≥ 0, deff ≥ 1",
                },
            )
        )
    N = sizes.sum()
    W = sizes / N
    if allocation == "proportional":
        share = W
    elif allocation == "equal":
        share = np.full(len(W), 1 / len(W))
    elif allocation == "neyman":
        share = W * sds / (W * sds).sum() if (W * sds).sum() > 0 else W
    else:
        raise ManyiError(
            Message(
                "an.bad_option",
                {
                    "option": "allocation",
                    "value": allocation,
                    "choices": "proportional, equal, neyman",
                },
            )
        )
    z = stats.norm.ppf(0.5 + level / 2)
    V = (moe / z) ** 2
    with np.errstate(invalid="ignore", divide="ignore"):
        num = np.where(share > 0, W**2 * sds**2 / share, 0.0).sum()
    n = num / (V + (W * sds**2).sum() / N)
    return int(min(math.ceil(n * deff - 1e-9), N))


def allocate(
    sizes: np.ndarray, n: int, method: str = "proportional", sds: np.ndarray | None = None
) -> np.ndarray:
    """Stratum sample sizes summing to n (largest remainders), none above its stratum."""
    sizes = np.asarray(sizes, dtype=float)
    if method == "proportional":
        share = sizes
    elif method == "equal":
        share = np.ones_like(sizes)
    elif method == "neyman":
        if sds is None:
            raise ManyiError(
                Message(
                    "an.bad_option",
                    {
                        "option": "allocation",
                        "value": "neyman",
                        "choices": "neyman needs a numeric column for the stratum SDs",
                    },
                )
            )
        share = sizes * np.asarray(sds, dtype=float)
    else:
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "allocation", "value": method, "choices": "proportional, equal, neyman"},
            )
        )
    n = int(min(n, sizes.sum()))
    out = np.zeros(len(sizes), dtype=int)
    free = np.ones(len(sizes), dtype=bool)
    remaining = n
    while remaining > 0 and free.any():
        w = np.where(free, share, 0.0)
        if w.sum() <= 0:
            w = np.where(free, 1.0, 0.0)
        ideal = remaining * w / w.sum()
        base = np.floor(ideal).astype(int)
        left = remaining - base.sum()
        order = np.argsort(-(ideal - base), kind="stable")
        base[order[:left]] += 1
        cap = sizes.astype(int) - out
        take = np.minimum(base, cap)
        out += take
        remaining -= int(take.sum())
        free &= out < sizes
    return out


def stratum_sds(frame: pd.DataFrame, strata: str, column: str) -> np.ndarray:
    """Each stratum's SD (ddof 1) of a numeric column, strata in sorted order. A column that is
    missing or not numeric is an error; a stratum with fewer than two values has SD 0."""
    if column not in frame:
        raise ManyiError(
            Message(
                "sample.unknown_column",
                {"column": column, "have": ", ".join(map(str, frame.columns[:10]))},
            )
        )
    raw = frame[column]
    x = pd.to_numeric(raw, errors="coerce")
    text = raw.astype("string").str.strip()
    bad = x.isna() & text.notna() & (text != "")
    if bad.any():
        example = str(raw[bad].iloc[0])[:40]
        raise ManyiError(
            Message(
                "sample.sd_not_numeric", {"column": column, "n": int(bad.sum()), "example": example}
            )
        )
    sds = x.groupby(frame[strata], sort=True, dropna=False).std(ddof=1)
    return np.nan_to_num(sds.to_numpy(dtype=float))


def draw(
    frame: pd.DataFrame,
    n: int,
    method: str = "srs",
    strata: str | None = None,
    allocation: str = "proportional",
    sd_column: str | None = None,
    seed: int = 1,
) -> pd.DataFrame:
    """Draw a sample of ``n`` rows; adds ``stratum`` (if stratified) and ``design_weight``."""
    rng = np.random.default_rng(seed)
    N = len(frame)
    if method in ("srs", "systematic"):
        n = min(n, N)
        if method == "srs":
            idx = np.sort(rng.choice(N, size=n, replace=False))
        else:
            k = N / n
            idx = np.floor(rng.uniform(0, k) + k * np.arange(n)).astype(int)
        out = frame.iloc[idx].copy()
        out["design_weight"] = N / n
        return out
    if method != "stratified":
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "method", "value": method, "choices": "srs, systematic, stratified"},
            )
        )
    if strata is None or strata not in frame:
        raise ManyiError(
            Message(
                "an.bad_option",
                {
                    "option": "strata",
                    "value": strata or "",
                    "choices": ", ".join(map(str, frame.columns[:10])),
                },
            )
        )
    groups = frame.groupby(strata, sort=True, dropna=False)
    keys = list(groups.groups)
    sizes = np.array([len(groups.get_group(k)) for k in keys])
    sds = stratum_sds(frame, strata, sd_column) if allocation == "neyman" and sd_column else None
    n_h = allocate(sizes, n, allocation, sds)
    parts = []
    for k, size, m in zip(keys, sizes, n_h, strict=True):
        if m == 0:
            continue
        g = groups.get_group(k)
        idx = np.sort(rng.choice(size, size=m, replace=False))
        part = g.iloc[idx].copy()
        part["stratum"] = k
        part["design_weight"] = size / m
        parts.append(part)
    return pd.concat(parts)
