"""Importance–performance analysis (Martilla & James 1977, J. Marketing 41(1)).

Performance: the item's mean on 0–100. Importance: stated (mean of the ``__importance``
answers) or derived (Pearson correlation of the item with the overall index). Cross-hairs at
the means of the items (default) or at the scale midpoints. Quadrants: high importance & low
performance "concentrate here"; high & high "keep up the good work"; low & low "low priority";
low importance & high performance "possible overkill". Priority: the standardised importance
minus the standardised performance, largest first, "concentrate here" items first.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult
from manyi.core.messages import Message

#: Quadrant codes (Martilla & James 1977); their names are in the catalogues (quadrant.*).
QUADRANTS = ("concentrate", "keep_up", "low_priority", "overkill", "no_data")


def ipa(
    items: list[str],
    performance: np.ndarray,
    importance: np.ndarray,
    cross: tuple[float, float],
    kind: str,
    dimensions: list[str] | None = None,
    n: int = 0,
) -> AnalysisResult:
    perf, imp = np.asarray(performance, float), np.asarray(importance, float)
    ci, cp = cross
    placed = np.isfinite(perf) & np.isfinite(imp)
    quad = np.where(
        ~placed,
        "no_data",
        np.where(
            imp >= ci,
            np.where(perf < cp, "concentrate", "keep_up"),
            np.where(perf < cp, "low_priority", "overkill"),
        ),
    )
    warnings = []
    if (~placed).any():  # no answers, or no variation to derive an importance from
        left = [it for it, ok in zip(items, placed, strict=True) if not ok]
        warnings.append(Message("an.ipa_unplaced", {"items": ", ".join(left[:10])}))

    def z(v: np.ndarray) -> np.ndarray:
        sd = np.nanstd(v)
        return (v - np.nanmean(v)) / sd if sd > 0 else np.zeros_like(v)

    score = z(imp) - z(perf)
    order = np.lexsort((np.nan_to_num(-score, nan=np.inf), quad != "concentrate", ~placed))
    rank = np.empty(len(items), dtype=int)
    rank[order] = np.arange(1, len(items) + 1)
    t = pd.DataFrame(
        {
            "item": items,
            "dimension": dimensions or [None] * len(items),
            "importance": imp,
            "performance": perf,
            "quadrant": quad,
            "priority": score,
            "rank": rank,
        }
    )
    t = t.sort_values("rank").reset_index(drop=True)
    cross_t = pd.DataFrame(
        [{"importance_kind": kind, "importance_cross": ci, "performance_cross": cp}]
    )
    return AnalysisResult("ipa", n, {"items": t, "crosshairs": cross_t}, warnings)
