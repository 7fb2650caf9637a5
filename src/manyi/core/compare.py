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
from scipy import special

from manyi.core.analysis import AnalysisResult, adjust
from manyi.core.messages import Message
from manyi.core.stats import nps_difference, nps_estimate
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
    return float(z), float(2 * special.ndtr(-abs(z)))


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
    from scipy import stats  # the rank and ANOVA tests: imported when groups are compared

    rows = []
    for name, raw in measures.items():
        oks = [~np.isnan(np.asarray(v, dtype=float)) for v in raw]
        vals = [np.asarray(v, dtype=float)[ok] for v, ok in zip(raw, oks, strict=True)]
        ws = [
            None if weights is None else np.asarray(weights[i], float)[ok]
            for i, ok in enumerate(oks)
        ]
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
                if weights is None:
                    t = stats.ttest_ind(y, x, equal_var=False)
                    tt, tdf, tp = float(t.statistic), float(t.df), float(t.pvalue)
                else:
                    tt, tdf, tp = welch(x, ws[a], y, ws[b])
                mw = stats.mannwhitneyu(y, x, alternative="two-sided")
                row.update(
                    welch_t=tt,
                    welch_df=tdf,
                    welch_p=tp,
                    mw_u=float(mw.statistic),
                    mw_p=float(mw.pvalue),
                )
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
            f = stats.f_oneway(*vals)
            h = stats.kruskal(*vals)
            omni.append(
                {
                    "measure": name,
                    "groups": len(vals),
                    "anova_f": float(f.statistic),
                    "anova_p": float(f.pvalue),
                    "kruskal_h": float(h.statistic),
                    "kruskal_p": float(h.pvalue),
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
