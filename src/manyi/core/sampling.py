"""Sampling plans (DOMAIN.md §1: simple random, systematic and stratified sampling).

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

from manyi.i18n import ManyiError, Message


def _fpc(n0: float, population: int | None) -> int:
    n = n0 if not population else n0 / (1 + (n0 - 1) / population)
    return int(math.ceil(n - 1e-9))


def size_for_rate(
    moe: float, rate: float = 0.5, level: float = 0.95, population: int | None = None
) -> int:
    """Sample size so that a rate's interval half-width is ``moe``."""
    if not 0 < moe < 1 or not 0 < rate < 1:
        raise ManyiError(
            Message(
                "an.bad_option",
                {
                    "option": "moe/rate",
                    "value": f"{moe}/{rate}",
                    "choices": "0 < moe < 1, 0 < rate < 1",
                },
            )
        )
    z = stats.norm.ppf(0.5 + level / 2)
    return _fpc(z * z * rate * (1 - rate) / moe**2, population)


def size_for_mean(moe: float, sd: float, level: float = 0.95, population: int | None = None) -> int:
    """Sample size so that a mean's interval half-width is ``moe`` (σ from a pilot or past wave)."""
    if not moe > 0 or not sd > 0:
        raise ManyiError(
            Message("an.bad_option", {"option": "moe/sd", "value": f"{moe}/{sd}", "choices": "> 0"})
        )
    z = stats.norm.ppf(0.5 + level / 2)
    return _fpc((z * sd / moe) ** 2, population)


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
    sds = None
    if allocation == "neyman" and sd_column:
        sds = np.array(
            [
                pd.to_numeric(groups.get_group(k)[sd_column], errors="coerce").std(ddof=1)
                for k in keys
            ]
        )
        sds = np.nan_to_num(sds)
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
