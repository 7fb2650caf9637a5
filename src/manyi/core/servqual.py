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
from scipy import stats

from manyi.core.analysis import AnalysisResult, need


def paired(gaps: np.ndarray) -> dict[str, float]:
    """Mean of paired differences with its t interval, t and two-sided p."""
    g = gaps[~np.isnan(gaps)]
    n = len(g)
    if n < 2:
        return {
            "n": n,
            "gap": float(g.mean()) if n else np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "t": np.nan,
            "p": np.nan,
        }
    m, se = g.mean(), g.std(ddof=1) / np.sqrt(n)
    tc = stats.t.ppf(0.975, n - 1)
    t = m / se if se > 0 else np.nan
    p = 2 * stats.t.sf(abs(t), n - 1) if se > 0 else np.nan
    return {
        "n": n,
        "gap": float(m),
        "ci_low": float(m - tc * se),
        "ci_high": float(m + tc * se),
        "t": float(t),
        "p": float(p),
    }


def servqual(
    P: pd.DataFrame,
    E: pd.DataFrame,
    item_dimension: dict[str, str],
    dimension_weights: dict[str, float],
    allocation: pd.DataFrame | None = None,
) -> AnalysisResult:
    """Gaps per item, per dimension and overall. P and E: respondents × items (raw answers)."""
    items = list(P.columns)
    both = P.notna() & E.notna()
    need(int(both.any(axis=1).sum()), 2, "SERVQUAL")
    G = (P - E).where(both)
    rows = []
    for it in items:
        r = paired(G[it].to_numpy(float))
        pe = P[it][both[it]].mean(), E[it][both[it]].mean()
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
        columns=[
            "item",
            "dimension",
            "n",
            "perception",
            "expectation",
            "gap",
            "ci_low",
            "ci_high",
            "t",
            "p",
            "ratio",
        ],
    )
    dims = list(dict.fromkeys(item_dimension[i] for i in items))
    dgap = pd.DataFrame(
        {d: G[[i for i in items if item_dimension[i] == d]].mean(axis=1) for d in dims}
    )
    dP = pd.DataFrame(
        {d: P[[i for i in items if item_dimension[i] == d]].where(both).mean(axis=1) for d in dims}
    )
    dE = pd.DataFrame(
        {d: E[[i for i in items if item_dimension[i] == d]].where(both).mean(axis=1) for d in dims}
    )
    dperf = pd.DataFrame(
        {d: P[[i for i in items if item_dimension[i] == d]].mean(axis=1) for d in dims}
    )
    drows = []
    for d in dims:
        r = paired(dgap[d].to_numpy(float))
        drows.append(
            {
                "dimension": d,
                **r,
                "perception": dP[d].mean(),
                "expectation": dE[d].mean(),
                "servperf": dperf[d].mean(),
                "ratio": dP[d].mean() / dE[d].mean(),
                "weight": dimension_weights.get(d, np.nan),
            }
        )
    dim_table = pd.DataFrame(
        drows,
        columns=[
            "dimension",
            "n",
            "perception",
            "expectation",
            "gap",
            "ci_low",
            "ci_high",
            "t",
            "p",
            "servperf",
            "ratio",
            "weight",
        ],
    )
    overall = []
    unweighted = dgap.mean(axis=1)
    overall.append({"measure": "servqual_unweighted", **paired(unweighted.to_numpy(float))})
    if allocation is not None:
        pts = allocation[dims].astype(float)
        w = pts.div(pts.sum(axis=1), axis=0)
        source = "allocation"
    else:
        w = pd.DataFrame(
            {d: np.full(len(dgap), dimension_weights[d]) for d in dims}, index=dgap.index
        )
        source = "instrument"
    ok = dgap.notna().all(axis=1) & w.notna().all(axis=1)
    weighted = (dgap * w).sum(axis=1).where(ok)
    overall.append({"measure": f"servqual_weighted_{source}", **paired(weighted.to_numpy(float))})
    perf = dperf.mean(axis=1).to_numpy(float)
    perf = perf[~np.isnan(perf)]
    overall.append(
        {
            "measure": "servperf",
            "n": len(perf),
            "gap": float(perf.mean()),
            "ci_low": np.nan,
            "ci_high": np.nan,
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


def chart(result: AnalysisResult, labels: dict[str, str] | None = None, lang: str = "en"):
    """Expectation against perception per dimension (grouped bars, gap in the hover)."""
    import plotly.graph_objects as go

    t = result.tables["dimensions"]
    names = [labels.get(d, d) if labels else d for d in t["dimension"]]
    zh = lang == "zh"
    fig = go.Figure(
        [
            go.Bar(name="期望" if zh else "Expectation", x=names, y=t["expectation"]),
            go.Bar(
                name="感知" if zh else "Perception",
                x=names,
                y=t["perception"],
                customdata=t["gap"],
                hovertemplate="%{y:.2f} (gap %{customdata:+.2f})",
            ),
        ]
    )
    fig.update_layout(
        barmode="group",
        title="SERVQUAL：期望与感知" if zh else "SERVQUAL: expectation vs perception",
    )
    return fig
