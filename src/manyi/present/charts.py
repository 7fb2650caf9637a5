"""One chart per result kind, all with one signature: ``chart(result, tr, part=None)``.

``tr`` is a :class:`manyi.i18n.Translator`; every label comes from the catalogues
(``chart.*``) or from the result's own labels (item texts, construct names). Results with
several charts (SPC, comparisons) draw them all as panels unless ``part`` names one. A new
analysis adds one function here and registers it in :data:`CHARTS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.result import Result
from manyi.i18n import Translator
from manyi.present.theme import MUTED, SIGNIFICANT, style

Chart = Callable[..., Any]


def _go():
    import plotly.graph_objects as go

    return go


def _name(result: Result, key: str, tr: Translator) -> str:
    """A display name: the result's own label, else the catalogue's (construct.*, column.*)."""
    if key in result.labels:
        return result.label(key, tr.lang)
    return tr.get(f"construct.{key}", tr.get(f"column.{key}", key))


def _group_key(result: Result, table: pd.DataFrame) -> pd.Series | None:
    """A label per row from the result's group keys (``--by``), None without groups."""
    keys = [k for k in result.params.get("by", []) if k in table]
    if not keys:
        return None
    return table[keys].astype(str).agg(" · ".join, axis=1)


def servqual(result: Result, tr: Translator, part: str | None = None):
    """Expectation against perception per dimension (grouped bars, gap in the hover)."""
    go = _go()
    t = result.tables["dimensions"]
    names = [_name(result, d, tr) for d in t["dimension"]]
    g = _group_key(result, t)
    if g is not None:
        names = [f"{a} · {b}" for a, b in zip(g, names, strict=True)]
    fig = go.Figure(
        [
            go.Bar(name=tr("chart.expectation"), x=names, y=t["expectation"]),
            go.Bar(
                name=tr("chart.perception"),
                x=names,
                y=t["perception"],
                customdata=t["gap"],
                hovertemplate="%{y:.2f} (P−E %{customdata:+.2f})",
            ),
        ]
    )
    fig.update_layout(barmode="group", title=tr("chart.servqual_title"))
    return style(fig)


def ipa(result: Result, tr: Translator, part: str | None = None):
    """Importance against performance with the cross-hairs and the four quadrant names."""
    go = _go()
    t = result.tables["items"]
    t = t[t["quadrant"] != "no_data"]
    c = result.tables["crosshairs"].iloc[0]
    text = [_name(result, i, tr) for i in t["item"]]
    fig = go.Figure(
        go.Scatter(
            x=t["performance"],
            y=t["importance"],
            mode="markers+text",
            text=text,
            textposition="top center",
        )
    )
    fig.add_vline(x=float(c["performance_cross"]), line_dash="dot")
    fig.add_hline(y=float(c["importance_cross"]), line_dash="dot")
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
            text=tr(f"quadrant.{quad}"),
        )
    fig.update_layout(
        title=tr("chart.ipa_title"),
        xaxis_title=tr("chart.performance_100"),
        yaxis_title=tr("chart.importance"),
    )
    return style(fig)


def kano(result: Result, tr: Translator, part: str | None = None):
    """Better against |Worse|, with the 0.5 lines that separate the four classic regions."""
    go = _go()
    t = result.tables["attributes"]
    fig = go.Figure(
        go.Scatter(
            x=t["worse"].abs(),
            y=t["better"],
            mode="markers+text",
            text=[_name(result, a, tr) for a in t["attribute"]],
            textposition="top center",
        )
    )
    fig.add_vline(x=0.5, line_dash="dot")
    fig.add_hline(y=0.5, line_dash="dot")
    fig.update_layout(
        title=tr("chart.kano_title"),
        xaxis_title=tr("chart.kano_worse"),
        yaxis_title=tr("chart.kano_better"),
        xaxis_range=[0, 1],
        yaxis_range=[0, 1],
    )
    return style(fig)


def drivers(result: Result, tr: Translator, part: str | None = None):
    """Relative weights with their bootstrap intervals, largest first."""
    go = _go()
    t = result.tables["drivers"]
    fig = go.Figure(
        go.Bar(
            x=t["relative_weight"],
            y=[_name(result, d, tr) for d in t["driver"]],
            orientation="h",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": t["rw_ci_high"] - t["relative_weight"],
                "arrayminus": t["relative_weight"] - t["rw_ci_low"],
            },
        )
    )
    outcome = result.tables["model"]["outcome"].iloc[0]
    fig.update_layout(
        title=tr("chart.drivers_title", outcome=_name(result, outcome, tr)),
        xaxis_title=tr("chart.relative_weight"),
        yaxis={"autorange": "reversed"},
    )
    return style(fig)


def reliability(result: Result, tr: Translator, part: str | None = None):
    """Scree plot: eigenvalues against the random data's 95th percentile (parallel analysis)."""
    go = _go()
    t = result.tables["efa_eigenvalues"]
    fig = go.Figure(
        [
            go.Scatter(
                x=t["component"],
                y=t["eigenvalue"],
                mode="lines+markers",
                name=tr("chart.eigenvalue"),
            ),
            go.Scatter(
                x=t["component"],
                y=t["random_p95"],
                mode="lines",
                line={"dash": "dash"},
                name=tr("chart.random_p95"),
            ),
        ]
    )
    fig.update_layout(
        title=tr("chart.scree_title"),
        xaxis_title=tr("chart.component"),
        yaxis_title=tr("chart.eigenvalue"),
    )
    return style(fig)


def compare(result: Result, tr: Translator, part: str | None = None):
    """Differences between groups, one panel per measure (the index, each dimension, the
    satisfaction rate and NPS); significant ones after adjustment in colour."""
    go = _go()
    from plotly.subplots import make_subplots

    panels: list[tuple[str, pd.DataFrame]] = []
    means = result.tables["means"]
    for m in dict.fromkeys(means["measure"]):
        panels.append((m, means[means["measure"] == m]))
    panels.append(("satisfied_rate", result.tables["rates"]))
    if "nps" in result.tables:
        panels.append(("nps", result.tables["nps"]))
    if part is not None:
        panels = [p for p in panels if p[0] == part] or panels[:1]
    titles = [_name(result, m, tr) for m, _ in panels]
    fig = make_subplots(rows=len(panels), cols=1, subplot_titles=titles)
    for row, (_, t) in enumerate(panels, start=1):
        label = [f"{a} → {b}" for a, b in zip(t["group_a"], t["group_b"], strict=True)]
        colour = [SIGNIFICANT if s else MUTED for s in t["significant"]]
        fig.add_trace(
            go.Bar(x=t["diff"], y=label, orientation="h", marker_color=colour, showlegend=False),
            row=row,
            col=1,
        )
    fig.update_layout(title=tr("chart.compare_title"), height=max(350, 220 * len(panels)))
    fig.update_xaxes(title_text=tr("chart.difference"), row=len(panels), col=1)
    return style(fig)


SPC_VALUE = {
    "p_chart": "p",
    "xbar_chart": "mean",
    "i_chart": "mean",
    "s_chart": "sd",
    "mr_chart": "mr",
}


def spc(result: Result, tr: Translator, part: str | None = None):
    """Every control chart of the result as a panel (or ``part``): values per group, centre
    line, limits, and the rule signals circled."""
    go = _go()
    from plotly.subplots import make_subplots

    names = [n for n in SPC_VALUE if n in result.tables]
    if part is not None:
        names = [n for n in names if n == part] or names[:1]
    fig = make_subplots(rows=len(names), cols=1, subplot_titles=[tr(f"chart.{n}") for n in names])
    sig = result.tables["signals"]
    signal_shown = False
    for row, name in enumerate(names, start=1):
        t = result.tables[name]
        col = SPC_VALUE[name]
        key = _group_key(result, t)
        groups = [(None, t)] if key is None else list(t.groupby(key, sort=False))
        for g, sub in groups:
            prefix = f"{g} · " if g is not None else ""
            fig.add_trace(
                go.Scatter(
                    x=sub["period"],
                    y=sub[col],
                    mode="lines+markers",
                    name=prefix + tr(f"chart.value.{col}"),
                    legendgroup=str(g),
                ),
                row=row,
                col=1,
            )
            for line, dash in (("cl", "solid"), ("lcl", "dash"), ("ucl", "dash")):
                fig.add_trace(
                    go.Scatter(
                        x=sub["period"],
                        y=np.broadcast_to(sub[line], len(sub)),
                        mode="lines",
                        name=prefix + tr.column(line),
                        line={"dash": dash, "shape": "hv", "width": 1},
                        legendgroup=str(g),
                        showlegend=row == 1,
                    ),
                    row=row,
                    col=1,
                )
        s = sig[sig["chart"] == name]
        if len(s):
            fig.add_trace(
                go.Scatter(
                    x=s["period"],
                    y=s["value"],
                    mode="markers",
                    name=tr("chart.signal"),
                    text=[tr(f"spc.rule.{r}") for r in s["rule"]],
                    legendgroup="signal",
                    showlegend=not signal_shown,
                    marker={"size": 12, "symbol": "circle-open", "color": SIGNIFICANT},
                ),
                row=row,
                col=1,
            )
            signal_shown = True
    fig.update_xaxes(type="category")  # periods as written (2026-03, 2026Q1), not dates
    fig.update_layout(title=tr("chart.spc_title"), height=max(400, 320 * len(names)))
    return style(fig)


def weighting(result: Result, tr: Translator, part: str | None = None):
    """Target, sample and weighted shares of every margin."""
    go = _go()
    t = result.tables["margins"]
    x = [f"{v}={c}" for v, c in zip(t["variable"], t["category"], strict=True)]
    fig = go.Figure(
        [
            go.Bar(name=tr("chart.population"), x=x, y=t["target"]),
            go.Bar(name=tr("chart.sample"), x=x, y=t["sample"]),
            go.Bar(name=tr("chart.weighted"), x=x, y=t["weighted"]),
        ]
    )
    fig.update_layout(barmode="group", title=tr("chart.weighting_title"))
    return style(fig)


def scorecard(result: Result, tr: Translator, part: str | None = None):
    """The scorecard (the dashboard): dimension scores with their intervals, the index by
    month with its interval band, or units ranked (``part``: dimensions, trend, units)."""
    go = _go()
    part = part or "dimensions"
    t = result.tables[part]
    if part == "dimensions":
        x = [_name(result, d, tr) for d in t["dimension"]]
        fig = go.Figure(
            go.Bar(
                x=x,
                y=t["score"],
                marker={"color": "#1f77b4"},  # the blue of the other panels
                error_y={"type": "data", "symmetric": False,
                         "array": t["ci_high"] - t["score"], "arrayminus": t["score"] - t["ci_low"]},
                hovertemplate="%{x}: %{y:.1f}<extra></extra>",
            )
        )
        fig.update_layout(title=tr("chart.dimensions_title"), yaxis={"range": [0, 100], "title": tr("column.csi")})
    elif part == "trend":
        fig = go.Figure(
            [
                go.Scatter(x=t["period"], y=t["csi_ci_high"], mode="lines", line={"width": 0},
                           showlegend=False, hoverinfo="skip"),
                go.Scatter(x=t["period"], y=t["csi_ci_low"], mode="lines", line={"width": 0},
                           fill="tonexty", fillcolor="rgba(31,119,180,0.15)", name=tr("chart.ci95"),
                           hoverinfo="skip"),
                go.Scatter(x=t["period"], y=t["csi"], mode="lines+markers", name=tr("column.csi"),
                           marker={"color": [MUTED if s else "#1f77b4" for s in t["small"]]}),
            ]
        )
        fig.update_layout(title=tr("chart.trend_title"), xaxis={"type": "category"})
    else:
        t = t.sort_values("csi", ascending=True)
        fig = go.Figure(
            go.Bar(
                x=t["csi"], y=[_name(result, u, tr) for u in t["unit"]], orientation="h",
                marker={"color": [MUTED if s else "#1f77b4" for s in t["small"]]},
                error_x={"type": "data", "symmetric": False,
                         "array": t["csi_ci_high"] - t["csi"], "arrayminus": t["csi"] - t["csi_ci_low"]},
            )
        )
        fig.update_layout(title=tr("chart.units_title"), xaxis={"range": [0, 100], "title": tr("column.csi")})
    return style(fig)


def desk(result: Result, tr: Translator, part: str | None = None):
    """The complaint desk's figures: the Pareto of complaint categories (or ``part``:
    pareto_causes) as bars with the cumulative share, or the p-chart of the monthly complaint
    share (``part``: complaint_rate) with its limits and signals."""
    go = _go()
    part = part or "pareto_categories"
    t = result.tables.get(part)
    if t is None or t.empty:
        return None
    if part == "complaint_rate":
        fig = go.Figure(
            [
                go.Scatter(x=t["period"], y=t["p"], mode="lines+markers", name=tr.column("p", part),
                           marker={"color": [SIGNIFICANT if s else "#1f77b4" for s in t["signal"]]}),
                go.Scatter(x=t["period"], y=t["cl"], mode="lines", name=tr("column.cl"), line={"color": MUTED}),
                go.Scatter(x=t["period"], y=t["ucl"], mode="lines", name=tr("column.ucl"),
                           line={"color": MUTED, "dash": "dash"}),
                go.Scatter(x=t["period"], y=t["lcl"], mode="lines", name=tr("column.lcl"),
                           line={"color": MUTED, "dash": "dash"}),
            ]
        )
        fig.update_layout(title=tr("column.complaint_rate"), xaxis={"type": "category"})
        return style(fig)
    key = "category" if part == "pareto_categories" else "cause"
    names = [tr.get(f"desk.{key}.{v}", v) for v in t[key]]
    fig = go.Figure(
        [
            go.Bar(x=names, y=t["n"], name=tr("column.n")),
            go.Scatter(x=names, y=t["cumulative"], yaxis="y2", mode="lines+markers", name=tr("column.cumulative")),
        ]
    )
    fig.update_layout(title=tr(f"column.{part}"),
                      yaxis2={"overlaying": "y", "side": "right", "range": [0, 1.05], "tickformat": ".0%"})
    return style(fig)


def pls(result: Result, tr: Translator, part: str | None = None):
    """The importance–performance map of a PLS model (Ringle & Sarstedt 2016): constructs, or
    indicators with ``part="indicators"``."""
    go = _go()
    level = "ipma_indicators" if part == "indicators" else "ipma_constructs"
    t = result.tables[level]
    key = "item" if level == "ipma_indicators" else "construct"
    fig = go.Figure(
        go.Scatter(
            x=t["importance"],
            y=t["performance"],
            mode="markers+text",
            text=[_name(result, v, tr) for v in t[key]],
            textposition="top center",
        )
    )
    fig.add_vline(x=float(t["importance"].mean()), line_dash="dot")
    fig.add_hline(y=float(t["performance"].mean()), line_dash="dot")
    target = result.params.get("target", "")
    fig.update_layout(
        title=tr("chart.ipma_title", target=_name(result, target, tr)),
        xaxis_title=tr("chart.total_effect"),
        yaxis_title=tr("chart.performance_100"),
    )
    return style(fig)


#: The chart of each result kind.
CHARTS: dict[str, Chart] = {
    "servqual": servqual,
    "ipa": ipa,
    "kano": kano,
    "drivers": drivers,
    "reliability": reliability,
    "compare": compare,
    "spc": spc,
    "weighting": weighting,
    "pls": pls,
    "scorecard": scorecard,
    "desk": desk,
}


def chart(result: Any, tr: Translator | str | None = None, part: str | None = None):
    """The chart of ``result`` (any kind that has one) in the language of ``tr``.

    Parameters
    ----------
    result:
        A :class:`~manyi.core.result.Result`, or anything with ``as_result()`` (a
        :class:`~manyi.core.pls.PLSResult`, the weighting report).
    tr:
        A :class:`~manyi.i18n.Translator`, or a language (``zh``, ``en``).
    part:
        One panel of a result with several (``p_chart``, ``xbar_chart``; a measure of a
        comparison; ``indicators`` of a PLS map).

    Examples
    --------
    >>> from manyi.core.kano import kano
    >>> import numpy as np
    >>> res = kano([("wifi", np.array([1.0, 1, 3]), np.array([5.0, 3, 5]))])
    >>> fig = chart(res, "zh")
    >>> fig.layout.title.text
    'Kano 分析：Better–Worse 系数'
    """
    from manyi.i18n import translator

    res = result.as_result()
    if not isinstance(tr, Translator):
        tr = translator(tr)
    if res.kind not in CHARTS:
        from manyi.core.messages import ManyiError, Message

        raise ManyiError(Message("an.no_chart", {"kind": res.kind}))
    return CHARTS[res.kind](res, tr, part)
