"""The report as one self-contained HTML file: plotly's JavaScript inlined once (no CDN),
a table of contents, a print stylesheet, a font family that renders Chinese; every text
escaped by Jinja's autoescaping."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manyi.present.report.document import (
    F1,
    F2,
    F3,
    INT,
    PCT,
    Bullets,
    Chart,
    Document,
    Figures,
    Para,
    Table,
)
from manyi.present.theme import CHART_FONT, MUTED, SIGNIFICANT

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#17becf"]


def cell(v: Any, fmt: str | None) -> str:
    """A value as the table shows it (the digits of its Excel number format)."""
    if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
        return "–"
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer | np.floating):
        return str(v)
    x = float(v)
    if fmt == PCT:
        return f"{100 * x:.1f}%"
    if fmt == INT:
        return f"{x:,.0f}"
    digits = {F1: 1, F2: 2, F3: 3}.get(fmt or "", 4 if fmt else 2)
    if fmt and fmt.startswith("0.0000"):
        return f"{x:.4f}" if x >= 1e-4 else f"{x:.1e}"
    return f"{x:,.{digits}f}"


def _values(col: Any) -> list[Any]:
    return [None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in col]


def _padded(col: Any, share: float) -> list[float] | None:
    """An axis range around the values with room for the point labels."""
    v = [x for x in _values(col) if x is not None]
    if not v:
        return None
    lo, hi = min(v), max(v)
    pad = (hi - lo) * share or 1.0
    return [lo - pad, hi + pad]


def figure(c: Chart) -> dict[str, Any]:
    """The plotly.js figure (data and layout as plain JSON data) of a chart block: the same
    data the spreadsheet and the deck embed. Plain dictionaries, not plotly's Python
    objects, whose validation would cost more than the rest of the page."""
    d = c.data
    labels = d.iloc[:, 0].astype(str).tolist()
    traces: list[dict[str, Any]] = []
    if c.kind == "scatter":
        traces.append(
            {
                "type": "scatter",
                "x": _values(d[c.series[0]]),
                "y": _values(d[c.series[1]]),
                "mode": "markers+text",
                "text": labels
                if c.shown is None
                else [t if k else "" for t, k in zip(labels, c.shown, strict=True)],
                "hovertext": labels,
                "hoverinfo": "text+x+y",
                "textposition": "top center",
                "marker": {"size": 10, "color": PALETTE[0]},
                "showlegend": False,
            }
        )
    else:
        for k, s in enumerate(c.series):
            color = MUTED if s in c.dashed else PALETTE[k % len(PALETTE)]
            if c.kind == "bar":
                xy = (
                    {"x": _values(d[s]), "y": labels, "orientation": "h"}
                    if c.horizontal
                    else {"x": labels, "y": _values(d[s])}
                )
                traces.append({"type": "bar", "name": s, "marker": {"color": color}, **xy})
            else:
                traces.append(
                    {
                        "type": "scatter",
                        "x": labels,
                        "y": _values(d[s]),
                        "name": s,
                        "mode": "lines" if s in c.dashed else "lines+markers",
                        "line": {
                            "color": SIGNIFICANT if s in c.limits else color,
                            "dash": "dash" if s in c.dashed else "solid",
                        },
                    }
                )
    grid = {"gridcolor": "#e5e7eb", "zerolinecolor": "#d1d5db", "automargin": True}
    axis_v: dict[str, Any] = {**grid, "title": {"text": c.y_title}}
    if c.y_range and c.kind != "scatter":
        axis_v["range"] = list(c.y_range)
    if c.number_format == PCT:
        axis_v["tickformat"] = ".1%"
    height = 380 if not (c.horizontal and len(d) > 8) else 30 * len(d) + 120
    layout: dict[str, Any] = {
        "font": {"family": CHART_FONT},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "margin": {"l": 60, "r": 20, "t": 30, "b": 60},
        "height": height,
        "barmode": "group",
        "legend": {"orientation": "h", "y": -0.2},
    }
    if c.kind == "scatter":
        layout["xaxis"] = {
            **grid,
            "title": {"text": c.x_title},
            "range": _padded(d[c.series[0]], 0.12),
        }
        layout["yaxis"] = {
            **grid,
            "title": {"text": c.y_title},
            "range": _padded(d[c.series[1]], 0.1),
        }
        if c.cross is not None:  # the cross-hairs that divide the quadrants
            line = {"color": MUTED, "dash": "dot", "width": 1}
            layout["shapes"] = [
                {
                    "type": "line",
                    "xref": "x",
                    "yref": "paper",
                    "x0": c.cross[0],
                    "x1": c.cross[0],
                    "y0": 0,
                    "y1": 1,
                    "line": line,
                },
                {
                    "type": "line",
                    "xref": "paper",
                    "yref": "y",
                    "y0": c.cross[1],
                    "y1": c.cross[1],
                    "x0": 0,
                    "x1": 1,
                    "line": line,
                },
            ]
    elif c.horizontal:
        layout["xaxis"] = axis_v
        layout["yaxis"] = {**grid, "type": "category"}
    else:
        layout["yaxis"] = axis_v
        layout["xaxis"] = {**grid, "type": "category", "title": {"text": c.x_title}}
    return {"data": traces, "layout": layout}


def _script_json(v: Any) -> str:
    """JSON that is safe inside a script element."""
    return json.dumps(v, ensure_ascii=False, allow_nan=False).replace("</", "<\\/")


def chart_html(c: Chart, width: int | None = None) -> str:
    """A chart's div and script; ``width`` (pixels) fixes its width and turns off resizing
    (the PDF: printing would otherwise lay every chart out again at the page's width)."""
    fig = figure(c)
    div = f"c-{c.key}"
    config = {"displaylogo": False, "displayModeBar": False, "responsive": width is None}
    if width is not None:
        fig["layout"]["width"] = width
    return (
        f'<div id="{div}" class="plot" style="height:{fig["layout"]["height"]}px"></div>'
        f"<script>Plotly.newPlot({_script_json(div)}, {_script_json(fig['data'])}, "
        f"{_script_json(fig['layout'])}, {_script_json(config)});</script>"
    )


_TEMPLATE = """<!DOCTYPE html>
<html lang="{{ lang_attr }}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ doc.title }}</title>
<style>
:root { --bad: #c62828; --good: #2e7d32; --muted: #6b7280; --line: #d9dee5; }
body { font-family: {{ font }}; color: #1f2937; margin: 0; line-height: 1.55; }
main { max-width: 1040px; margin: 0 auto; padding: 24px 32px 64px; }
header.cover { border-bottom: 3px solid #1f77b4; margin-bottom: 18px; }
h1 { font-size: 28px; margin: 8px 0 4px; }
h2 { font-size: 22px; margin-top: 36px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
.sub { color: var(--muted); margin: 0 0 12px; }
.headline { font-size: 17px; font-weight: 600; padding: 10px 14px; border-left: 5px solid #1f77b4; background: #f5f8fb; }
.good { color: var(--good); border-color: var(--good); }
.bad { color: var(--bad); border-color: var(--bad); }
nav.toc { background: #f8fafc; border: 1px solid var(--line); padding: 8px 18px; margin: 14px 0; }
nav.toc ol { margin: 6px 0; list-style: none; padding-left: 8px; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 12px; margin: 14px 0; }
.figure { border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; }
.figure .label { color: var(--muted); font-size: 13px; }
.figure .value { font-size: 28px; font-weight: 700; }
.figure .detail { font-size: 12px; color: var(--muted); }
.figure.bad .value { color: var(--bad); } .figure.good .value { color: var(--good); }
table { border-collapse: collapse; width: 100%; font-size: 13px; margin: 6px 0 4px; }
th, td { border-bottom: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f1f5f9; position: sticky; top: 0; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.note { font-size: 12px; color: var(--muted); }
.chart { break-inside: avoid; page-break-inside: avoid; margin: 8px 0 18px; }
.chart h3 { margin-bottom: 0; }
ol.recs li { margin-bottom: 10px; }
ol.recs .evidence { display: block; font-size: 13px; color: var(--muted); }
@media print {
  main { max-width: none; padding: 0 8mm; }
  nav.toc { break-after: page; }
  h2 { break-before: page; }
  th { position: static; }
  .figure, tr { break-inside: avoid; }
  @page { size: A4; margin: 14mm 10mm; }
}
</style>
<script>{{ plotly_js | safe }}</script>
</head>
<body>
<main>
<header class="cover">
<h1>{{ doc.title }}</h1>
<p class="sub">{{ doc.subtitle }}</p>
</header>
<p class="headline {{ doc.headline_tone or '' }}">{{ doc.headline }}</p>
<nav class="toc"><strong>{{ toc_title }}</strong>
<ol>{% for s in doc.sections %}<li><a href="#{{ s.key }}">{{ s.title }}</a></li>{% endfor %}</ol>
</nav>
{% for s in doc.sections %}
<section id="{{ s.key }}">
<h2>{{ s.title }}</h2>
{% for b in s.blocks %}
{% if b.kind_ == 'para' %}<p class="{{ b.tone or '' }}">{{ b.text }}</p>
{% elif b.kind_ == 'figures' %}<div class="figures">{% for f in b.entries %}
<div class="figure {{ f.tone or '' }}"><div class="label">{{ f.label }}</div><div class="value">{{ f.value }}</div><div class="detail">{{ f.detail }}</div></div>{% endfor %}</div>
{% elif b.kind_ == 'table' %}<h3 id="t-{{ b.key }}">{{ b.title }}</h3>
<table data-key="{{ b.key }}"><thead><tr>{% for h, num in b.headers %}<th{% if num %} class="num"{% endif %}>{{ h }}</th>{% endfor %}</tr></thead>
<tbody>{% for row in b.rows %}<tr>{% for v, num in row %}<td{% if num %} class="num"{% endif %}>{{ v }}</td>{% endfor %}</tr>{% endfor %}</tbody></table>
{% if b.note %}<p class="note">{{ b.note }}</p>{% endif %}
{% elif b.kind_ == 'chart' %}<div class="chart" data-key="{{ b.key }}"><h3>{{ b.title }}</h3>{{ b.html | safe }}</div>
{% elif b.kind_ == 'bullets' %}<ol class="recs">{% for text, ev in b.entries %}<li>{{ text }}<span class="evidence">{{ evidence }}: {{ ev }}</span></li>{% endfor %}</ol>
{% endif %}
{% endfor %}
</section>
{% endfor %}
<p class="note">{{ footer }}</p>
</main>
</body>
</html>
"""


def _view(b: Any, width: int | None = None) -> dict[str, Any]:
    if isinstance(b, Para):
        return {"kind_": "para", "text": b.text, "tone": b.tone}
    if isinstance(b, Figures):
        return {"kind_": "figures", "entries": b.items}
    if isinstance(b, Table):
        fr = b.frame
        rows = [
            [
                (cell(v, b.formats.get(h)), h in b.formats and b.formats[h] != "@")
                for h, v in zip(fr.columns, r, strict=True)
            ]
            for r in fr.itertuples(index=False, name=None)
        ]
        return {
            "kind_": "table",
            "key": b.key,
            "title": b.title,
            "headers": [(h, h in b.formats) for h in fr.columns],
            "rows": rows,
            "note": b.note,
        }
    if isinstance(b, Chart):
        return {"kind_": "chart", "key": b.key, "title": b.title, "html": chart_html(b, width)}
    if isinstance(b, Bullets):
        return {"kind_": "bullets", "entries": b.items}
    raise TypeError(type(b))


def render_html(doc: Document, bundle: bool = True, chart_width: int | None = None) -> str:
    """The HTML text of the report."""
    import jinja2
    from plotly.offline import get_plotlyjs

    from manyi.i18n import translator

    tr = translator(doc.lang)
    env = jinja2.Environment(autoescape=True)
    tpl = env.from_string(_TEMPLATE)

    class _S:
        def __init__(self, s: Any):
            self.key, self.title = s.key, s.title
            self.blocks = [_view(b, chart_width) for b in s.blocks]

    view = type("D", (), {})()
    view.title, view.subtitle, view.headline = doc.title, doc.subtitle, doc.headline
    view.headline_tone = doc.headline_tone
    view.sections = [_S(s) for s in doc.sections]
    # plotly's bundle is inlined once; a closing script tag inside it could end the element
    js = get_plotlyjs().replace("</script", "<\\/script") if bundle else ""
    return tpl.render(
        doc=view,
        plotly_js=js,
        font=CHART_FONT,
        lang_attr="zh-CN" if doc.lang == "zh" else "en",
        toc_title=tr("report.toc"),
        evidence=tr("report.evidence"),
        footer=tr("report.footer"),
    )


def write_html(doc: Document, path: Path) -> None:
    path.write_text(render_html(doc), encoding="utf-8")
