"""SERVQUAL gap analysis (Parasuraman, Zeithaml & Berry 1988, J. Retailing 64(1)).

Item gap Gᵢ = Pᵢ − Eᵢ in scale points; a respondent's dimension gap is the mean of its items'
gaps (over the answered pairs); each mean gap comes with a paired-t 95 % interval and p value.
Unweighted SERVQUAL = the mean of the dimension gaps; weighted SERVQUAL: each respondent's
Σ_d w_d·G_d with w_d = allocated points/Σ points (a 100-point allocation question per
dimension) or the instrument's dimension weights. SERVPERF (Cronin & Taylor 1992) is the mean
perception. P/E is the ratio of mean perception to mean expectation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult, need
from manyi.core.wstats import mean_test

#: The columns of a paired P−E comparison (n, means, gap with its t interval and test).
PAIRED = ("n", "perception", "expectation", "gap", "ci_low", "ci_high", "t", "p")


def paired(gaps: np.ndarray, w: np.ndarray | None = None) -> dict[str, float]:
    """Mean of paired differences with its t interval, t and two-sided p (weighted: n_eff)."""
    r = mean_test(gaps, w)
    return {
        "n": r["n"],
        "gap": r["mean"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "t": r["t"],
        "p": r["p"],
    }


def _wmean(x: pd.Series, w: np.ndarray | None) -> float:
    ok = x.notna().to_numpy()
    if not ok.any():
        return float("nan")
    return float(np.average(x.to_numpy(float)[ok], weights=None if w is None else w[ok]))


def servqual(
    P: pd.DataFrame,
    E: pd.DataFrame,
    item_dimension: dict[str, str],
    dimension_weights: dict[str, float],
    allocation: pd.DataFrame | None = None,
    w: np.ndarray | None = None,
) -> AnalysisResult:
    """Gaps per item, per dimension and overall. P and E: respondents × items (raw answers);
    ``w``: respondent weights (optional)."""
    items = list(P.columns)
    both = P.notna() & E.notna()
    need(int(both.any(axis=1).sum()), 2, "SERVQUAL")
    G = (P - E).where(both)
    rows = []
    for it in items:
        r = paired(G[it].to_numpy(float), w)
        pe = _wmean(P[it].where(both[it]), w), _wmean(E[it].where(both[it]), w)
        rows.append(
            {
                "item": it,
                "dimension": item_dimension[it],
                **r,
                "perception": pe[0],
                "expectation": pe[1],
                "ratio": pe[0] / pe[1] if pe[1] else np.nan,
            }
        )
    item_table = pd.DataFrame(
        rows,
        columns=["item", "dimension", *PAIRED, "ratio"],
    )
    dims = list(dict.fromkeys(item_dimension[i] for i in items))

    def per_dim(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {d: frame[[i for i in items if item_dimension[i] == d]].mean(axis=1) for d in dims}
        )

    dgap, dP, dE, dperf = per_dim(G), per_dim(P.where(both)), per_dim(E.where(both)), per_dim(P)
    drows = []
    for d in dims:
        r = paired(dgap[d].to_numpy(float), w)
        mp, me = _wmean(dP[d], w), _wmean(dE[d], w)
        drows.append(
            {
                "dimension": d,
                **r,
                "perception": mp,
                "expectation": me,
                "servperf": _wmean(dperf[d], w),
                "ratio": mp / me,
                "weight": dimension_weights.get(d, np.nan),
            }
        )
    dim_table = pd.DataFrame(
        drows,
        columns=["dimension", *PAIRED, "servperf", "ratio", "weight"],
    )
    overall = [{"measure": "servqual_unweighted", **paired(dgap.mean(axis=1).to_numpy(float), w)}]
    if allocation is not None:
        pts = allocation[dims].astype(float)
        dw = pts.div(pts.sum(axis=1), axis=0)
        source = "allocation"
    else:
        dw = pd.DataFrame(
            {d: np.full(len(dgap), dimension_weights[d]) for d in dims}, index=dgap.index
        )
        source = "instrument"
    ok = dgap.notna().all(axis=1) & dw.notna().all(axis=1)
    weighted = (dgap * dw).sum(axis=1).where(ok)
    overall.append(
        {"measure": f"servqual_weighted_{source}", **paired(weighted.to_numpy(float), w)}
    )
    perf = mean_test(dperf.mean(axis=1).to_numpy(float), w)
    overall.append(
        {
            "measure": "servperf",
            "n": perf["n"],
            "gap": perf["mean"],
            "ci_low": perf["ci_low"],
            "ci_high": perf["ci_high"],
            "t": np.nan,
            "p": np.nan,
        }
    )
    over = pd.DataFrame(overall).rename(columns={"gap": "value"})
    return AnalysisResult(
        "servqual",
        int(both.any(axis=1).sum()),
        {"items": item_table, "dimensions": dim_table, "overall": over},
    )
