"""Control charts (SPC) for satisfaction over time: special causes, not noise.

* p-chart of the dissatisfied share per period, limits per period for varying n:
  p̄ ± 3·√(p̄(1 − p̄)/nᵢ), p̄ = Σdᵢ/Σnᵢ (Montgomery, *Introduction to Statistical Quality
  Control*, 7th ed., §7.2).
* X̄–S chart of the index by period with variable sample sizes: x̿ = Σnᵢx̄ᵢ/Σnᵢ,
  s̄ = √(Σ(nᵢ − 1)sᵢ²/(Σnᵢ − m)); X̄ limits x̿ ± A₃(nᵢ)s̄, S chart centre s̄ with limits B₃(nᵢ)s̄, B₄(nᵢ)s̄, with
  c₄(n) = √(2/(n − 1))·Γ(n/2)/Γ((n − 1)/2), A₃ = 3/(c₄√n), B₃,₄ = 1 ∓ 3√(1 − c₄²)/c₄
  (Montgomery §6.3).
* I–MR chart when each period has one value: x̄ ± 3·MR̄/d₂, MR UCL = D₄·MR̄ (d₂ = 1.128,
  D₄ = 3.267 for spans of 2).
* Rules: Western Electric (1956) 1-4 and Nelson (1984) 5-8 on each point's distance from the
  centre line in its own sigma units, σ from the chart's model (never from clipped limits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult
from manyi.core.tdist import log_gamma_ratio_half
from manyi.core.wstats import Moments

D2_SPAN2 = 1.128
D4_SPAN2 = 3.267

#: Western Electric (1956) rules 1-4 and Nelson (1984) rules 5-8; their descriptions are in
#: the catalogues (spc.rule.N).
RULES = (1, 2, 3, 4, 5, 6, 7, 8)


def c4(n: np.ndarray | float) -> np.ndarray:
    """c₄(n) = √(2/(n − 1))·Γ(n/2)/Γ((n − 1)/2), NaN for n < 2."""
    n = np.asarray(n, dtype=float)
    ratio = np.array([log_gamma_ratio_half((v - 1) / 2) if v >= 2 else np.nan for v in n.ravel()])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.sqrt(2.0 / (n - 1)) * np.exp(ratio.reshape(n.shape))


def xbar_s_constants(n: np.ndarray | float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A₃, B₃, B₄ for subgroup size n."""
    c = c4(n)
    n = np.asarray(n, dtype=float)
    a3 = 3 / (c * np.sqrt(n))
    k = 3 * np.sqrt(1 - c**2) / c
    return a3, np.maximum(0.0, 1 - k), 1 + k


def p_chart(periods: list[str], dissatisfied: np.ndarray, n: np.ndarray) -> pd.DataFrame:
    d, n = np.asarray(dissatisfied, dtype=float), np.asarray(n, dtype=float)
    pbar = d.sum() / n.sum()
    sigma = np.sqrt(pbar * (1 - pbar) / n)
    half = 3 * sigma
    return pd.DataFrame(
        {
            "period": periods,
            "n": n if np.any(n != np.round(n)) else n.astype(int),
            "dissatisfied": d if np.any(d != np.round(d)) else d.astype(int),
            "p": d / n,
            "cl": pbar,
            "lcl": np.maximum(0.0, pbar - half),
            "ucl": np.minimum(1.0, pbar + half),
            "sigma": sigma,  # the model's σ of p, before the limits are clipped to [0, 1]
        }
    )


def xbar_s_chart(
    periods: list[str], groups: list[np.ndarray], weights: list[np.ndarray] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """X̄–S limits; with ``weights`` each period's mean and SD are weighted and n is its n_eff."""
    stats = [
        Moments.of(g, None if weights is None else weights[k]) for k, g in enumerate(groups)
    ]
    return xbar_s_from(periods, stats, weights is not None)


def xbar_s_from(
    periods: list[str], stats: list[Moments], weighted: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """X̄–S limits from each period's moments of the index (column 0 of ``stats``)."""
    if not weighted:
        n = np.array([m.npos[0] for m in stats], dtype=float)
        means = np.array([m.mean[0] for m in stats])
        with np.errstate(invalid="ignore", divide="ignore"):
            sds = np.array(
                [np.sqrt(m.m2[0] / (m.npos[0] - 1)) if m.npos[0] > 1 else np.nan for m in stats]
            )
    else:
        tests = [m.test(0) for m in stats]
        n = np.array([r["n_eff"] for r in tests])
        means = np.array([r["mean"] for r in tests])
        sds = np.array([r["sd"] for r in tests])
    xbb = float((n * means).sum() / n.sum())
    sbar = float(np.sqrt(np.nansum((n - 1) * sds**2) / (n.sum() - len(n))))
    a3, b3, b4 = xbar_s_constants(n)
    xbar = pd.DataFrame(
        {
            "period": periods,
            "n": n if weighted else n.astype(int),
            "mean": means,
            "cl": xbb,
            "lcl": xbb - a3 * sbar,
            "ucl": xbb + a3 * sbar,
            "sigma": a3 * sbar / 3,
        }
    )
    s = pd.DataFrame(
        {
            "period": periods,
            "n": n if weighted else n.astype(int),
            "sd": sds,
            "cl": sbar,  # B3·s̄ and B4·s̄ are centred on s̄ (Montgomery §6.3)
            "lcl": b3 * sbar,
            "ucl": b4 * sbar,
            "sigma": sbar * np.sqrt(1 - c4(n) ** 2) / c4(n),
        }
    )
    return xbar, s


def i_mr_chart(periods: list[str], values: np.ndarray) -> tuple[pd.DataFrame, pd.DataFrame]:
    x = np.asarray(values, dtype=float)
    mr = np.abs(np.diff(x))
    mrbar = float(mr.mean())
    xbar = float(x.mean())
    i = pd.DataFrame(
        {
            "period": periods,
            "n": 1,
            "mean": x,
            "cl": xbar,
            "lcl": xbar - 3 * mrbar / D2_SPAN2,
            "ucl": xbar + 3 * mrbar / D2_SPAN2,
            "sigma": mrbar / D2_SPAN2,
        }
    )
    m = pd.DataFrame(
        {
            "period": periods,
            "mr": np.concatenate([[np.nan], mr]),
            "cl": mrbar,
            "lcl": 0.0,
            "ucl": D4_SPAN2 * mrbar,
        }
    )
    return i, m


def rule_signals(
    values: np.ndarray, cl: np.ndarray, sigma: np.ndarray, rules=(1, 2, 3, 4, 5, 6, 7, 8)
):
    """(index, rule) pairs: the point at which each rule's pattern is complete.

    ``sigma`` is each point's standard deviation under the chart's model (the ``sigma``
    column of the chart tables), never derived from limits, which may be clipped (a p-chart's
    limits stay within [0, 1]).
    """
    x = np.asarray(values, dtype=float)
    cl = np.broadcast_to(np.asarray(cl, dtype=float), x.shape)
    sigma = np.broadcast_to(np.asarray(sigma, dtype=float), x.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        z = (x - cl) / sigma
    out = []
    n = len(x)

    def window(i: int, k: int) -> np.ndarray | None:
        return z[i - k + 1 : i + 1] if i >= k - 1 else None

    for i in range(n):
        if np.isnan(z[i]):
            continue
        if 1 in rules and abs(z[i]) > 3:
            out.append((i, 1))
        for rule, k, m, lim in ((2, 3, 2, 2.0), (3, 5, 4, 1.0)):
            w = window(i, k)
            if rule in rules and w is not None and not np.isnan(w).any():
                for sign in (1, -1):
                    if sign * z[i] > lim and (sign * w > lim).sum() >= m:
                        out.append((i, rule))
        w = window(i, 8)
        if 4 in rules and w is not None and (np.all(w > 0) or np.all(w < 0)):
            out.append((i, 4))
        w = window(i, 6)
        if 5 in rules and w is not None:
            dx = np.diff(x[i - 5 : i + 1])
            if np.all(dx > 0) or np.all(dx < 0):
                out.append((i, 5))
        if 6 in rules and i >= 13:
            dx = np.sign(np.diff(x[i - 13 : i + 1]))
            if np.all(dx != 0) and np.all(dx[1:] * dx[:-1] < 0):
                out.append((i, 6))
        w = window(i, 15)
        if 7 in rules and w is not None and np.all(np.abs(w) < 1):
            out.append((i, 7))
        w = window(i, 8)
        if (
            8 in rules
            and w is not None
            and np.all(np.abs(w) > 1)
            and (w > 0).any()
            and (w < 0).any()
        ):
            out.append((i, 8))
    return out


def spc(
    periods: list[str],
    index_by_period: list[np.ndarray],
    dissatisfied: np.ndarray,
    n_rated: np.ndarray,
    rules=(1, 2, 3, 4, 5, 6, 7, 8),
    weights: list[np.ndarray] | None = None,
) -> AnalysisResult:
    """p-chart, X̄–S (or I–MR) chart and their rule signals over periods.

    With ``weights`` (per period, aligned with ``index_by_period``) pass the weighted
    dissatisfied share × n_eff as ``dissatisfied`` and n_eff as ``n_rated``."""
    stats = [
        Moments.of(g, None if weights is None else weights[k])
        for k, g in enumerate(index_by_period)
    ]
    return spc_from(periods, stats, dissatisfied, n_rated, weights is not None, rules)


def spc_from(
    periods: list[str],
    stats: list[Moments],
    dissatisfied: np.ndarray,
    n_rated: np.ndarray,
    weighted: bool = False,
    rules=(1, 2, 3, 4, 5, 6, 7, 8),
) -> AnalysisResult:
    """:func:`spc` from each period's moments of the index (column 0 of ``stats``): what
    parts of a table on several workers send back (the charts need no single value)."""
    tables: dict[str, pd.DataFrame] = {}
    tables["p_chart"] = p = p_chart(periods, dissatisfied, n_rated)
    if all(m.npos[0] == 1 for m in stats):
        xbar, second = i_mr_chart(periods, np.array([m.mean[0] for m in stats]))
        tables["i_chart"], tables["mr_chart"] = xbar, second
        index_chart = "i_chart"
    else:
        xbar, second = xbar_s_from(periods, stats, weighted)
        tables["xbar_chart"], tables["s_chart"] = xbar, second
        index_chart = "xbar_chart"
    signals = []
    for chart, df, col in (("p_chart", p, "p"), (index_chart, xbar, "mean")):
        for i, rule in rule_signals(
            df[col].to_numpy(), df["cl"].to_numpy(), df["sigma"].to_numpy(), rules
        ):
            signals.append(
                {
                    "chart": chart,
                    "period": df["period"].iloc[i],
                    "rule": rule,
                    "value": float(df[col].iloc[i]),
                }
            )
    tables["signals"] = pd.DataFrame(signals, columns=["chart", "period", "rule", "value"])
    return AnalysisResult("spc", int(np.sum(n_rated)), tables)
