"""Significance of differences between groups (segments or periods).

Welch's t test and the Mann–Whitney U test for the index and each dimension, the
two-proportion z test (pooled) for satisfaction rates, one-way ANOVA and Kruskal–Wallis across
all groups, with Holm (1979) or Benjamini–Hochberg (1995) adjustment across the pairwise
tests of each table.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult, adjust
from manyi.core.messages import Message
from manyi.core.stats import nps_difference, nps_estimate
from manyi.core.tdist import norm_sf
from manyi.core.wstats import n_eff, welch


def two_proportion_z(x1: float, n1: float, x2: float, n2: float) -> tuple[float, float]:
    """Pooled two-proportion z test: z = (p₁ − p₂)/√(p̂(1 − p̂)(1/n₁ + 1/n₂)); two-sided p."""
    if min(n1, n2) == 0:
        return float("nan"), float("nan")
    p = (x1 + x2) / (n1 + n2)
    se = np.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    if se == 0:
        return float("nan"), float("nan")
    z = (x1 / n1 - x2 / n2) / se
    return float(z), float(2 * norm_sf(abs(z)))


def _ties(sorted_values: np.ndarray) -> np.ndarray:
    """The sizes of the runs of equal values in a sorted array."""
    if not len(sorted_values):
        return np.zeros(0)
    starts = np.flatnonzero(np.r_[True, sorted_values[1:] != sorted_values[:-1]])
    return np.diff(np.r_[starts, len(sorted_values)]).astype(float)


def mann_whitney(y_sorted: np.ndarray, x_sorted: np.ndarray) -> tuple[float, float]:
    """Mann–Whitney U test of y against x, two-sided: (U of y, p), the numbers of
    ``scipy.stats.mannwhitneyu(y, x)``: U₁ = Σ over y of (#x below + ½ #x equal); the normal
    approximation with the tie correction and the continuity correction (Mann & Whitney 1947;
    tie term Σ(t³ − t) of the pooled sample), or the exact null distribution when a sample has
    eight values or fewer and nothing is tied, as scipy's ``method="auto"`` does. Both inputs
    sorted (each group is sorted once, not once per pair)."""
    n1, n2 = len(y_sorted), len(x_sorted)
    below = np.searchsorted(x_sorted, y_sorted, side="left")
    upto = np.searchsorted(x_sorted, y_sorted, side="right")
    u1 = float(below.sum() + 0.5 * (upto - below).sum())
    pooled = np.sort(np.concatenate([y_sorted, x_sorted]), kind="mergesort")
    t = _ties(pooled)
    if (n1 <= 8 or n2 <= 8) and not (t > 1).any():
        from scipy.stats import mannwhitneyu  # the exact distribution, for tiny samples only

        r = mannwhitneyu(y_sorted, x_sorted, alternative="two-sided")
        return float(r.statistic), float(r.pvalue)
    n = n1 + n2
    u = max(u1, n1 * n2 - u1)
    s = np.sqrt(n1 * n2 / 12 * ((n + 1) - float(np.sum(t**3 - t)) / (n * (n - 1))))
    with np.errstate(divide="ignore", invalid="ignore"):
        z = (u - n1 * n2 / 2 - 0.5) / s
    return u1, float(np.clip(2 * norm_sf(z), 0.0, 1.0))


def kruskal(samples: list[np.ndarray]) -> tuple[float, float]:
    """Kruskal–Wallis H with the tie correction and its χ²(k − 1) p-value (Kruskal & Wallis
    1952; the numbers of ``scipy.stats.kruskal``)."""
    allv = np.concatenate(samples)
    n_tot = len(allv)
    order = np.argsort(allv, kind="mergesort")
    s = allv[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    counts = np.diff(np.r_[starts, n_tot])
    ranks = np.empty(n_tot)
    ranks[order] = np.repeat(starts + (counts + 1) / 2.0, counts)  # average ranks, 1-based
    ends = np.cumsum([len(v) for v in samples])
    sums = np.add.reduceat(ranks, np.r_[0, ends[:-1]]) if n_tot else np.zeros(len(samples))
    ssbn = float(np.sum(sums**2 / np.array([len(v) for v in samples], dtype=float)))
    h = 12.0 / (n_tot * (n_tot + 1)) * ssbn - 3 * (n_tot + 1)
    c = counts.astype(float)
    h /= 1 - float(np.sum(c**3 - c)) / (n_tot**3 - n_tot)
    from scipy import special  # the χ² tail (imported where a test needs it)

    return float(h), float(special.chdtrc(len(samples) - 1, h))


def anova_oneway(samples: list[np.ndarray]) -> tuple[float, float]:
    """One-way ANOVA F = (SS between / (k − 1)) / (SS within / (N − k)) and its p-value
    (the numbers of ``scipy.stats.f_oneway``; F infinite when every group is constant but
    the means differ)."""
    k = len(samples)
    n = np.array([len(v) for v in samples], dtype=float)
    means = np.array([v.mean() for v in samples])
    grand = float(np.sum(means * n) / n.sum())
    ssb = float(np.sum(n * (means - grand) ** 2))
    ssw = float(sum(np.sum((v - m) ** 2) for v, m in zip(samples, means, strict=True)))
    dfb, dfw = k - 1, n.sum() - k
    if ssw == 0:
        return (np.inf, 0.0) if ssb > 0 else (np.nan, np.nan)
    f = (ssb / dfb) / (ssw / dfw)
    from scipy import special  # the F tail

    return float(f), float(special.fdtrc(dfb, dfw, f))


def compare(
    groups: list[str],
    measures: dict[str, list[np.ndarray]],
    satisfied: list[np.ndarray],
    pairs: str = "all",
    method: str = "holm",
    alpha: float = 0.05,
    weights: list[np.ndarray] | None = None,
    nps: list[np.ndarray] | None = None,
) -> AnalysisResult:
    """Compare ``groups`` on each measure (values per group) and on the satisfaction rate.

    ``nps`` (per group, the 0-10 answers, NaN where unanswered) adds a table ``nps`` with the
    difference of the NPS values and its z test (Var = SE_a² + SE_b², each SE from the ±1
    coding on Kish's effective n).

    ``pairs``: ``all`` (every pair) or ``previous`` (each group against the one before it,
    for periods). ``weights`` (per group, aligned with the values): weighted means, Welch's
    test and the rate test on Kish's effective sizes; Mann–Whitney, ANOVA and Kruskal–Wallis
    stay unweighted (said in a warning).
    """
    warnings: list[Message] = []
    if weights is not None:
        warnings.append(Message("an.unweighted_tests"))
    idx = (
        list(combinations(range(len(groups)), 2))
        if pairs == "all"
        else [(i - 1, i) for i in range(1, len(groups))]
    )
    rows = []
    for name, raw in measures.items():
        oks = [~np.isnan(np.asarray(v, dtype=float)) for v in raw]
        vals = [np.asarray(v, dtype=float)[ok] for v, ok in zip(raw, oks, strict=True)]
        ws = [
            None if weights is None else np.asarray(weights[i], float)[ok]
            for i, ok in enumerate(oks)
        ]
        sorted_ = [np.sort(v) for v in vals]  # each group sorted once for the rank tests
        for a, b in idx:
            x, y = vals[a], vals[b]
            row = {
                "measure": name,
                "group_a": groups[a],
                "group_b": groups[b],
                "n_a": len(x),
                "n_b": len(y),
                "mean_a": np.average(x, weights=ws[a]) if len(x) else np.nan,
                "mean_b": np.average(y, weights=ws[b]) if len(y) else np.nan,
            }
            row["diff"] = row["mean_b"] - row["mean_a"]
            if len(x) >= 2 and len(y) >= 2 and (x.std() > 0 or y.std() > 0):
                tt, tdf, tp = welch(x, ws[a], y, ws[b])
                mw_u, mw_p = mann_whitney(sorted_[b], sorted_[a])
                row.update(welch_t=tt, welch_df=tdf, welch_p=tp, mw_u=mw_u, mw_p=mw_p)
            else:
                row.update(
                    welch_t=np.nan, welch_df=np.nan, welch_p=np.nan, mw_u=np.nan, mw_p=np.nan
                )
            rows.append(row)
    cols = [
        "measure",
        "group_a",
        "group_b",
        "n_a",
        "n_b",
        "mean_a",
        "mean_b",
        "diff",
        "welch_t",
        "welch_df",
        "welch_p",
        "mw_u",
        "mw_p",
    ]
    means = pd.DataFrame(rows, columns=cols)
    means["p_adj"] = adjust(means["welch_p"].to_numpy(), method)
    means["significant"] = means["p_adj"] < alpha

    rate_rows = []
    for a, b in idx:
        oa, ob = ~np.isnan(satisfied[a]), ~np.isnan(satisfied[b])
        sa, sb = satisfied[a][oa], satisfied[b][ob]
        wa = np.ones(len(sa)) if weights is None else np.asarray(weights[a], float)[oa]
        wb = np.ones(len(sb)) if weights is None else np.asarray(weights[b], float)[ob]
        ra = np.average(sa, weights=wa) if len(sa) else np.nan
        rb = np.average(sb, weights=wb) if len(sb) else np.nan
        na, nb = (n_eff(wa), n_eff(wb)) if len(sa) and len(sb) else (0.0, 0.0)
        z, p = two_proportion_z(rb * nb, nb, ra * na, na)
        rate_rows.append(
            {
                "group_a": groups[a],
                "group_b": groups[b],
                "n_a": len(sa),
                "n_b": len(sb),
                "rate_a": ra,
                "rate_b": rb,
                "z": z,
                "p": p,
            }
        )
    rates = pd.DataFrame(
        rate_rows, columns=["group_a", "group_b", "n_a", "n_b", "rate_a", "rate_b", "z", "p"]
    )
    rates["diff"] = rates["rate_b"] - rates["rate_a"]
    rates["p_adj"] = adjust(rates["p"].to_numpy(), method)
    rates["significant"] = rates["p_adj"] < alpha

    tables = {"means": means, "rates": rates}
    if nps is not None:
        tables["nps"] = _nps_table(groups, idx, nps, weights, method, alpha)

    omni = []
    if len(groups) > 2:
        for name, vals in measures.items():
            vals = [np.asarray(v, dtype=float)[~np.isnan(np.asarray(v, dtype=float))] for v in vals]
            vals = [v for v in vals if len(v) >= 2]
            if len(vals) < 3:
                continue
            f, fp = anova_oneway(vals)
            h, hp = kruskal(vals)
            omni.append(
                {
                    "measure": name,
                    "groups": len(vals),
                    "anova_f": f,
                    "anova_p": fp,
                    "kruskal_h": h,
                    "kruskal_p": hp,
                }
            )
    if omni:
        tables["omnibus"] = pd.DataFrame(omni)
    n = int(sum(len(s[~np.isnan(s)]) for s in satisfied))
    return AnalysisResult("compare", n, tables, warnings)


def _nps_table(groups, idx, nps, weights, method, alpha) -> pd.DataFrame:
    """Pairwise NPS differences with their z tests, adjusted like the other tables."""
    est = []
    for i, x in enumerate(nps):
        x = np.asarray(x, dtype=float)
        ok = ~np.isnan(x)
        w = np.ones(ok.sum()) if weights is None else np.asarray(weights[i], float)[ok]
        x = x[ok]
        ne = n_eff(w) if len(x) else 0.0
        W = w.sum()
        pp = float(w[x >= 9].sum() / W) if W > 0 else np.nan
        pdt = float(w[x <= 6].sum() / W) if W > 0 else np.nan
        score, se, _, _ = nps_estimate(pp * ne, pdt * ne, ne)
        est.append((len(x), float(score), float(se)))
    rows = []
    for a, b in idx:
        d, se, z, p, lo, hi = nps_difference(est[a][1], est[a][2], est[b][1], est[b][2])
        rows.append(
            {
                "group_a": groups[a],
                "group_b": groups[b],
                "n_a": est[a][0],
                "n_b": est[b][0],
                "nps_a": est[a][1],
                "nps_b": est[b][1],
                "diff": float(d),
                "se": float(se),
                "ci_low": float(lo),
                "ci_high": float(hi),
                "z": float(z),
                "p": float(p),
            }
        )
    cols = ["group_a", "group_b", "n_a", "n_b", "nps_a", "nps_b", "diff", "se", "ci_low", "ci_high"]
    t = pd.DataFrame(rows, columns=cols + ["z", "p"])
    t["p_adj"] = adjust(t["p"].to_numpy(), method)
    t["significant"] = t["p_adj"] < alpha
    return t
