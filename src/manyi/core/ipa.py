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

from manyi.core.analysis import AnalysisResult, style
from manyi.i18n import Message

QUADRANTS = {
    "concentrate": {"en": "Concentrate here", "zh": "重点改进区"},
    "keep_up": {"en": "Keep up the good work", "zh": "继续保持区"},
    "low_priority": {"en": "Low priority", "zh": "低优先区"},
    "overkill": {"en": "Possible overkill", "zh": "过度投入区"},
    "no_data": {"en": "Not placed (no data)", "zh": "未定位（无数据）"},
}


def ipa(
    items: list[str],
    performance: np.ndarray,
    importance: np.ndarray,
    cross: tuple[float, float],
    kind: str,
    labels: list[str] | None = None,
    dimensions: list[str] | None = None,
    n: int = 0,
    lang: str = "en",
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
            "label": labels or items,
            "dimension": dimensions or [None] * len(items),
            "importance": imp,
            "performance": perf,
            "quadrant": quad,
            "quadrant_name": [QUADRANTS[q][lang] for q in quad],
            "priority": score,
            "rank": rank,
        }
    )
    t = t.sort_values("rank").reset_index(drop=True)
    cross_t = pd.DataFrame(
        [{"importance_kind": kind, "importance_cross": ci, "performance_cross": cp}]
    )
    return AnalysisResult("ipa", n, {"items": t, "crosshairs": cross_t}, warnings)


def chart(result: AnalysisResult, lang: str = "en"):
    import plotly.graph_objects as go

    t = result.tables["items"]
    c = result.tables["crosshairs"].iloc[0]
    fig = go.Figure(
        go.Scatter(
            x=t["performance"],
            y=t["importance"],
            mode="markers+text",
            text=t["label"],
            textposition="top center",
        )
    )
    fig.add_vline(x=c["performance_cross"], line_dash="dot")
    fig.add_hline(y=c["importance_cross"], line_dash="dot")
    corners = (
        ("concentrate", "left", "top"),
        ("keep_up", "right", "top"),
        ("low_priority", "left", "bottom"),
        ("overkill", "right", "bottom"),
    )
    for quad, xa, ya in corners:
        fig.add_annotation(
            x=0.01 if xa == "left" else 0.99,
            y=0.99 if ya == "top" else 0.01,
            xref="paper",
            yref="paper",
            xanchor=xa,
            yanchor=ya,
            showarrow=False,
            font={"size": 13, "color": "#888"},
            text=QUADRANTS[quad][lang],
        )
    zh = lang == "zh"
    fig.update_layout(
        title="重要性—绩效分析" if zh else "Importance–performance analysis",
        xaxis_title="绩效（0-100）" if zh else "Performance (0-100)",
        yaxis_title="重要性" if zh else "Importance",
    )
    return style(fig)
