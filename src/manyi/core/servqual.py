"""SERVQUAL gap analysis (Parasuraman, Zeithaml & Berry 1988, J. Retailing 64(1)).

Item gap Gᵢ = Pᵢ − Eᵢ in scale points; a respondent's dimension gap is the mean of its items'
gaps (over the answered pairs); each mean gap comes with a paired-t 95 % interval and p value.
Unweighted SERVQUAL = the mean of the dimension gaps; weighted SERVQUAL: each respondent's
Σ_d w_d·G_d with w_d = allocated points/Σ points (a 100-point allocation question per
dimension) or the instrument's dimension weights. SERVPERF (Cronin & Taylor 1992) is the mean
perception. P/E is the ratio of mean perception to mean expectation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult, need
from manyi.core.wstats import Moments

#: The columns of a paired P−E comparison (n, means, gap with its t interval and test).
PAIRED = ("n", "perception", "expectation", "gap", "ci_low", "ci_high", "t", "p")


def paired(gaps: np.ndarray, w: np.ndarray | None = None) -> dict[str, float]:
    """Mean of paired differences with its t interval, t and two-sided p (weighted: n_eff)."""
    return _paired(Moments.of(gaps, w), 0)


def _paired(m: Moments, j: int) -> dict[str, float]:
    r = m.test(j)
    return {
        "n": r["n"],
        "gap": r["mean"],
        "ci_low": r["ci_low"],
        "ci_high": r["ci_high"],
        "t": r["t"],
        "p": r["p"],
    }


@dataclass
class ServqualSums:
    """What SERVQUAL needs of a table (mergeable, see :class:`Moments`): the moments of each
    respondent's gaps, perceptions and expectations per item and dimension and of the overall
    measures, and the number of respondents with at least one P–E pair."""

    items: list[str]
    dims: list[str]
    source: str
    moments: Moments
    n_any: int

    def merge(self, other: ServqualSums) -> ServqualSums:
        return ServqualSums(self.items, self.dims, self.source,
                            self.moments.merge(other.moments), self.n_any + other.n_any)


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
    sums = servqual_sums(P, E, item_dimension, dimension_weights, allocation, w)
    return servqual_from(sums, item_dimension, dimension_weights)


def servqual_sums(
    P: pd.DataFrame,
    E: pd.DataFrame,
    item_dimension: dict[str, str],
    dimension_weights: dict[str, float],
    allocation: pd.DataFrame | None = None,
    w: np.ndarray | None = None,
) -> ServqualSums:
    """Each respondent's gaps and means (per item, per dimension, overall) reduced to their
    moments."""
    items = list(P.columns)
    both = P.notna() & E.notna()
    G = (P - E).where(both)
    dims = list(dict.fromkeys(item_dimension[i] for i in items))

    def per_dim(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame(
            {d: frame[[i for i in items if item_dimension[i] == d]].mean(axis=1) for d in dims}
        )

    dgap, dP, dE, dperf = per_dim(G), per_dim(P.where(both)), per_dim(E.where(both)), per_dim(P)
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
    columns = [  # the order servqual_from reads them in
        G.to_numpy(float), P.where(both).to_numpy(float), E.where(both).to_numpy(float),
        dgap.to_numpy(float), dP.to_numpy(float), dE.to_numpy(float), dperf.to_numpy(float),
        dgap.mean(axis=1).to_numpy(float)[:, None], weighted.to_numpy(float)[:, None],
        dperf.mean(axis=1).to_numpy(float)[:, None],
    ]
    return ServqualSums(items, dims, source, Moments.of(np.hstack(columns), w),
                        int(both.any(axis=1).sum()))


def servqual_from(
    sums: ServqualSums, item_dimension: dict[str, str], dimension_weights: dict[str, float]
) -> AnalysisResult:
    """The SERVQUAL tables from a table's :class:`ServqualSums`."""
    need(sums.n_any, 2, "SERVQUAL")
    items, dims, m = sums.items, sums.dims, sums.moments
    k, d = len(items), len(dims)
    gap_at, p_at, e_at = 0, k, 2 * k
    dgap_at, dp_at, de_at, dperf_at = 3 * k, 3 * k + d, 3 * k + 2 * d, 3 * k + 3 * d
    over_at = 3 * k + 4 * d
    rows = []
    for j, it in enumerate(items):
        pe = float(m.mean[p_at + j]), float(m.mean[e_at + j])
        rows.append(
            {
                "item": it,
                "dimension": item_dimension[it],
                **_paired(m, gap_at + j),
                "perception": pe[0],
                "expectation": pe[1],
                "ratio": pe[0] / pe[1] if pe[1] else np.nan,
            }
        )
    item_table = pd.DataFrame(rows, columns=["item", "dimension", *PAIRED, "ratio"])
    drows = []
    for j, dim in enumerate(dims):
        mp, me = float(m.mean[dp_at + j]), float(m.mean[de_at + j])
        drows.append(
            {
                "dimension": dim,
                **_paired(m, dgap_at + j),
                "perception": mp,
                "expectation": me,
                "servperf": float(m.mean[dperf_at + j]),
                "ratio": mp / me,
                "weight": dimension_weights.get(dim, np.nan),
            }
        )
    dim_table = pd.DataFrame(drows, columns=["dimension", *PAIRED, "servperf", "ratio", "weight"])
    overall = [
        {"measure": "servqual_unweighted", **_paired(m, over_at)},
        {"measure": f"servqual_weighted_{sums.source}", **_paired(m, over_at + 1)},
    ]
    perf = m.test(over_at + 2)
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
        "servqual", sums.n_any, {"items": item_table, "dimensions": dim_table, "overall": over}
    )
