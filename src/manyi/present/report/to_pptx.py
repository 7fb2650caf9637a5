"""The report as a management deck (python-pptx): a title slide, the key figures, one message
per slide with a native chart whose data is embedded (PowerPoint and LibreOffice can edit
it), the recommendations, and the method in every slide's notes. A template deck
(``--template``) gives the slide masters, colours and fonts; its own slides are dropped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from manyi.present.report.document import PCT, Bullets, Chart, Document, Figures, Table

GOOD, BAD, INK, MUTED_INK = "2E7D32", "C62828", "1F2937", "6B7280"


def _font(lang: str) -> tuple[str, str]:
    """(latin, East Asian) typefaces; the viewer substitutes an installed CJK font."""
    return ("Calibri", "Microsoft YaHei") if lang == "zh" else ("Calibri", "Microsoft YaHei")


def _set_font(
    run_or_font: Any,
    lang: str,
    size: float | None = None,
    bold: bool | None = None,
    color: str | None = None,
) -> None:
    from pptx.dml.color import RGBColor
    from pptx.oxml.ns import qn
    from pptx.util import Pt

    f = run_or_font.font if hasattr(run_or_font, "font") else run_or_font
    latin, ea = _font(lang)
    f.name = latin
    if size:
        f.size = Pt(size)
    if bold is not None:
        f.bold = bold
    if color:
        f.color.rgb = RGBColor.from_string(color)
    rpr = f._rPr if hasattr(f, "_rPr") else f._element
    for tag, face in (("a:ea", ea), ("a:cs", latin)):
        el = rpr.find(qn(tag))
        if el is None:
            el = rpr.makeelement(qn(tag), {})
            rpr.append(el)
        el.set("typeface", face)


def _text(frame: Any, lines: list[tuple[str, float, bool, str | None]], lang: str) -> None:
    frame.clear()
    frame.word_wrap = True
    for k, (text, size, bold, color) in enumerate(lines):
        p = frame.paragraphs[0] if k == 0 else frame.add_paragraph()
        r = p.add_run()
        r.text = text
        _set_font(r, lang, size, bold, color or INK)


def _drop_slides(prs: Any) -> None:
    ids = prs.slides._sldIdLst
    for sld in list(ids):
        prs.part.drop_rel(sld.rId)
        ids.remove(sld)


def _layout(prs: Any, *names: str, index: int = 0) -> Any:
    for lay in prs.slide_layouts:
        if lay.name.lower() in names:
            return lay
    return prs.slide_layouts[min(index, len(prs.slide_layouts) - 1)]


class _Deck:
    def __init__(self, doc: Document, template: Path | None):
        from pptx import Presentation
        from pptx.util import Inches

        self.doc, self.lang = doc, doc.lang
        if template is not None:
            self.prs = Presentation(str(template))
            _drop_slides(self.prs)
        else:
            self.prs = Presentation()
            self.prs.slide_width, self.prs.slide_height = Inches(13.333), Inches(7.5)
        self.W, self.H = self.prs.slide_width, self.prs.slide_height
        self.title_layout = _layout(self.prs, "title slide", index=0)
        self.blank_layout = _layout(self.prs, "title only", index=5)

    def notes(self, slide: Any, extra: str = "") -> None:
        tf = slide.notes_slide.notes_text_frame
        tf.text = (extra + "\n\n" if extra else "") + self.doc.method_note

    def slide(self, title: str, tone: str | None = None) -> Any:
        from pptx.util import Emu, Pt

        s = self.prs.slides.add_slide(self.blank_layout)
        t = s.shapes.title
        if t is None:
            t = s.shapes.add_textbox(
                Emu(int(self.W * 0.05)),
                Emu(int(self.H * 0.04)),
                Emu(int(self.W * 0.9)),
                Emu(int(self.H * 0.14)),
            )
        t.left, t.top = int(self.W * 0.05), int(self.H * 0.04)
        t.width, t.height = int(self.W * 0.9), int(self.H * 0.14)
        _text(
            t.text_frame,
            [(title, 24, True, {"good": GOOD, "bad": BAD}.get(tone or "", INK))],
            self.lang,
        )
        t.text_frame.paragraphs[0].font.size = Pt(24)
        return s

    def box(self, s: Any, x: float, y: float, w: float, h: float) -> Any:
        from pptx.util import Emu

        return s.shapes.add_textbox(
            Emu(int(self.W * x)), Emu(int(self.H * y)), Emu(int(self.W * w)), Emu(int(self.H * h))
        )

    def title_slide(self) -> None:
        s = self.prs.slides.add_slide(self.title_layout)
        if s.shapes.title is not None:
            _text(s.shapes.title.text_frame, [(self.doc.title, 36, True, None)], self.lang)
        subs = [p for p in s.placeholders if p.placeholder_format.idx == 1]
        target = subs[0].text_frame if subs else self.box(s, 0.1, 0.6, 0.8, 0.2).text_frame
        _text(target, [(self.doc.subtitle, 18, False, MUTED_INK)], self.lang)
        self.notes(s)

    def figures(self, b: Figures) -> None:
        s = self.slide(self.doc.headline, self.doc.headline_tone)
        n = len(b.items)
        w = 0.9 / max(n, 1)
        for k, f in enumerate(b.items):
            tb = self.box(s, 0.05 + k * w, 0.32, w - 0.02, 0.45)
            _text(
                tb.text_frame,
                [
                    (f.label, 16, False, MUTED_INK),
                    (f.value, 40, True, {"good": GOOD, "bad": BAD}.get(f.tone or "", INK)),
                    (f.detail, 12, False, MUTED_INK),
                ],
                self.lang,
            )
        self.notes(s)

    def chart(self, c: Chart) -> None:
        from pptx.chart.data import CategoryChartData, XyChartData
        from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
        from pptx.enum.dml import MSO_LINE_DASH_STYLE
        from pptx.util import Emu, Pt

        s = self.slide(c.title)
        d = c.data
        labels = [str(x) for x in d.iloc[:, 0]]
        x, y, cx, cy = (
            Emu(int(self.W * 0.05)),
            Emu(int(self.H * 0.2)),
            Emu(int(self.W * 0.9)),
            Emu(int(self.H * 0.75)),
        )

        def num(v: Any) -> float | None:
            return None if v is None or (isinstance(v, float) and np.isnan(v)) else float(v)

        if c.kind == "scatter":
            cd = XyChartData()
            ser = cd.add_series(c.series[1])
            for xv, yv in zip(d[c.series[0]], d[c.series[1]], strict=True):
                ser.add_data_point(num(xv), num(yv))
            gf = s.shapes.add_chart(XL_CHART_TYPE.XY_SCATTER, x, y, cx, cy, cd)
            ch = gf.chart
            plot = ch.plots[0]
            from pptx.dml.color import RGBColor
            from pptx.enum.chart import XL_MARKER_STYLE

            ser0 = plot.series[0]
            ser0.marker.style = XL_MARKER_STYLE.CIRCLE
            ser0.marker.size = 10
            ser0.marker.format.fill.solid()
            ser0.marker.format.fill.fore_color.rgb = RGBColor.from_string("1F77B4")
            ser0.format.line.fill.background()  # points, not a line through them
            for k, pt_label in enumerate(labels):
                if c.shown is not None and not c.shown[k]:
                    continue
                pt = plot.series[0].points[k]
                pt.data_label.text_frame.text = pt_label
                _set_font(pt.data_label.text_frame.paragraphs[0].runs[0], self.lang, 10)
            ch.has_legend = False
            for axis, title in ((ch.category_axis, c.x_title), (ch.value_axis, c.y_title)):
                axis.has_title = True
                axis.axis_title.text_frame.text = title
                _set_font(axis.axis_title.text_frame.paragraphs[0].runs[0], self.lang, 12)
        else:
            cd = CategoryChartData(number_format=c.number_format)
            cd.categories = labels
            for sname in c.series:
                cd.add_series(sname, [num(v) for v in d[sname]])
            kind = (
                {True: XL_CHART_TYPE.BAR_CLUSTERED, False: XL_CHART_TYPE.COLUMN_CLUSTERED}[
                    c.horizontal
                ]
                if c.kind == "bar"
                else XL_CHART_TYPE.LINE_MARKERS
            )
            gf = s.shapes.add_chart(kind, x, y, cx, cy, cd)
            ch = gf.chart
            ch.has_legend = len(c.series) > 1
            if ch.has_legend:
                ch.legend.position = XL_LEGEND_POSITION.BOTTOM
                ch.legend.include_in_layout = False
            plot = ch.plots[0]
            if c.kind == "bar" and len(c.series) == 1:
                plot.has_data_labels = True
                plot.data_labels.number_format = c.number_format
                plot.data_labels.number_format_is_linked = False
            for sname, ser in zip(c.series, plot.series, strict=True):
                if c.kind == "line" and sname in c.dashed:
                    ser.format.line.dash_style = MSO_LINE_DASH_STYLE.DASH
                    ser.marker.style = None
            va = ch.value_axis
            if c.y_range:
                va.minimum_scale, va.maximum_scale = c.y_range
            va.tick_labels.number_format = c.number_format if c.number_format != PCT else "0%"
            va.tick_labels.number_format_is_linked = False
        ch.font.size = Pt(12)
        _set_font(ch.font, self.lang, 12)
        self.notes(s, c.title)

    def table(self, t: Table, limit: int = 12) -> None:
        from pptx.util import Emu

        from manyi.present.report.to_html import cell

        s = self.slide(t.title)
        fr = t.frame.head(limit)
        rows, cols = len(fr) + 1, len(fr.columns)
        shape = s.shapes.add_table(
            rows,
            cols,
            Emu(int(self.W * 0.05)),
            Emu(int(self.H * 0.2)),
            Emu(int(self.W * 0.9)),
            Emu(int(self.H * 0.05 * rows)),
        )
        tab = shape.table
        for j, h in enumerate(fr.columns):
            tab.cell(0, j).text = str(h)
            _set_font(
                tab.cell(0, j).text_frame.paragraphs[0].runs[0], self.lang, 12, True, "FFFFFF"
            )
        for i, r in enumerate(fr.itertuples(index=False, name=None), 1):
            for j, (h, v) in enumerate(zip(fr.columns, r, strict=True)):
                tab.cell(i, j).text = cell(v, t.formats.get(h))
                _set_font(tab.cell(i, j).text_frame.paragraphs[0].runs[0], self.lang, 11)
        self.notes(s, t.note)

    def bullets(self, title: str, b: Bullets) -> None:
        per = 4
        for start in range(0, max(len(b.items), 1), per):
            s = self.slide(title)
            tb = self.box(s, 0.05, 0.2, 0.9, 0.75)
            lines = []
            for k, (text, ev) in enumerate(b.items[start : start + per], start + 1):
                lines.append((f"{k}. {text}", 16, True, None))
                lines.append((f"    {ev}", 12, False, MUTED_INK))
            _text(tb.text_frame, lines or [("–", 16, False, None)], self.lang)
            self.notes(s)

    def build(self) -> Any:
        self.title_slide()
        want_tables = {"units", "signals", "model_paths"}
        for sec in self.doc.sections:
            if sec.key == "appendix":
                continue
            if sec.key == "method":
                t = next(b for b in sec.blocks if isinstance(b, Table))
                self.table(t, limit=14)
                continue
            for b in sec.blocks:
                if isinstance(b, Figures):
                    self.figures(b)
                elif isinstance(b, Chart):
                    self.chart(b)
                elif isinstance(b, Table) and b.key in want_tables:
                    self.table(b)
                elif isinstance(b, Bullets):
                    self.bullets(sec.title, b)
        return self.prs


def write_pptx(doc: Document, path: Path, template: str | Path | None = None) -> None:
    _Deck(doc, Path(template) if template else None).build().save(str(path))
