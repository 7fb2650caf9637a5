"""The report as an Excel workbook: one sheet per section, tables with number formats, frozen
headers and widths, and native Excel charts that read the cells (the numbers stay live)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manyi.present.report.document import Bullets, Chart, Document, Figures, Para, Table

HEAD_FILL = "DCE6F1"
GOOD, BAD = "2E7D32", "C62828"


def _font_name(lang: str) -> str:
    # an East Asian font for Chinese text; Excel and LibreOffice substitute when missing
    return "Microsoft YaHei" if lang == "zh" else "Calibri"


def _value(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, float | np.floating):
        return None if np.isnan(v) else float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def _width(text: Any) -> int:
    s = str(text)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


class _Sheet:
    def __init__(self, ws: Any, lang: str):
        from openpyxl.styles import Font

        self.ws, self.lang, self.row = ws, lang, 1
        self.font = _font_name(lang)
        self.widths: dict[int, int] = {}
        self.frozen = False
        self.Font = Font

    def f(self, **kw: Any) -> Any:
        kw.setdefault("name", self.font)
        if self.lang == "zh":
            kw.setdefault("charset", 134)  # GB2312: the East Asian font set
        return self.Font(**kw)

    def text(
        self, value: str, bold: bool = False, size: int = 11, color: str | None = None
    ) -> None:
        c = self.ws.cell(row=self.row, column=1, value=value)
        c.font = self.f(bold=bold, size=size, color=color)
        self.row += 1

    def fit(self, col: int, value: Any, cap: int = 60) -> None:
        self.widths[col] = min(cap, max(self.widths.get(col, 8), _width(value) + 2))

    def table(self, t: Table, caption: bool = True) -> tuple[int, int]:
        """Write a table; returns (header row, last row)."""
        from openpyxl.styles import Alignment, PatternFill

        if caption:
            self.text(t.title, bold=True, size=12)
        head = self.row
        fill = PatternFill("solid", fgColor=HEAD_FILL)
        for j, h in enumerate(t.frame.columns, 1):
            c = self.ws.cell(row=head, column=j, value=str(h))
            c.font, c.fill = self.f(bold=True), fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
            self.fit(j, h, 30)
        for i, r in enumerate(t.frame.itertuples(index=False, name=None), 1):
            for j, (h, v) in enumerate(zip(t.frame.columns, r, strict=True), 1):
                c = self.ws.cell(row=head + i, column=j, value=_value(v))
                c.font = self.f()
                if h in t.formats and isinstance(c.value, int | float):
                    c.number_format = t.formats[h]
                self.fit(j, v if not isinstance(v, float) else f"{v:.3f}")
        last = head + len(t.frame)
        if not self.frozen:  # the first table's header stays in view
            self.ws.freeze_panes = self.ws.cell(row=head + 1, column=1)
            self.frozen = True
        self.row = last + 1
        if t.note:
            self.text(t.note, size=9, color="6B7280")
        self.row += 1
        return head, last

    def chart(self, c: Chart) -> None:
        from openpyxl.chart import BarChart, LineChart, Reference, ScatterChart, Series

        self.text(c.title, bold=True, size=12)
        data = Table(c.key, c.title, c.data, {s: c.number_format for s in c.series})
        head, last = self.table(data, caption=False)
        cols = list(c.data.columns)
        cats = Reference(self.ws, min_col=1, min_row=head + 1, max_row=last)
        if c.kind == "scatter":
            ch = ScatterChart()
            ch.style = 13
            xi, yi = cols.index(c.series[0]) + 1, cols.index(c.series[1]) + 1
            for r in range(head + 1, last + 1):  # one series per point: its name is the legend
                xs = Reference(self.ws, min_col=xi, min_row=r, max_row=r)
                ys = Reference(self.ws, min_col=yi, min_row=r, max_row=r)
                s = Series(
                    ys, xs, title_from_data=False, title=str(self.ws.cell(row=r, column=1).value)
                )
                s.marker.symbol = "circle"
                s.marker.size = 8
                s.graphicalProperties.line.noFill = True
                ch.series.append(s)
            ch.x_axis.title, ch.y_axis.title = c.x_title, c.y_title
        else:
            ch = BarChart() if c.kind == "bar" else LineChart()
            if c.kind == "bar":
                ch.type = "bar" if c.horizontal else "col"
            for s in c.series:
                j = cols.index(s) + 1
                ch.add_data(
                    Reference(self.ws, min_col=j, min_row=head, max_row=last), titles_from_data=True
                )
            ch.set_categories(cats)
            for s, ser in zip(c.series, ch.series, strict=True):
                if s in c.dashed:
                    ser.graphicalProperties.line.dashStyle = "dash"
                    ser.smooth = False
            ch.y_axis.title = c.y_title
            if c.y_range:
                ch.y_axis.scaling.min, ch.y_axis.scaling.max = c.y_range
            ch.y_axis.numFmt = c.number_format
        ch.title = None
        ch.x_axis.delete = False
        ch.y_axis.delete = False
        ch.height, ch.width = (
            (min(40.0, max(7.5, 0.6 * len(c.data) + 2)) if c.horizontal else 7.5),
            16,
        )
        ncols = len(cols)
        self.ws.add_chart(ch, self.ws.cell(row=head, column=ncols + 2).coordinate)
        self.row = max(self.row, head + int(ch.height * 2) + 2)


def write_xlsx(doc: Document, path: Path) -> None:
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    wb = Workbook()
    wb.remove(wb.active)
    for k, s in enumerate(doc.sections):
        ws = wb.create_sheet(s.title[:31].replace("/", "-").replace(":", " ") or f"S{k + 1}")
        sh = _Sheet(ws, doc.lang)
        sh.text(s.title, bold=True, size=14)
        if k == 0:
            sh.text(doc.title, bold=True, size=12)
            sh.text(doc.subtitle)
            sh.text(
                doc.headline,
                bold=True,
                color={"good": GOOD, "bad": BAD}.get(doc.headline_tone or ""),
            )
        sh.row += 1
        for b in s.blocks:
            if isinstance(b, Para):
                sh.text(b.text, color={"good": GOOD, "bad": BAD}.get(b.tone or ""))
            elif isinstance(b, Figures):
                t = Table(
                    "figures",
                    "",
                    pd.DataFrame(
                        [(f.label, f.value, f.detail) for f in b.items],
                        columns=list(doc.figure_headers),
                    ),
                )
                head, _ = sh.table(t, caption=False)
                for i, f in enumerate(b.items, 1):
                    ws.cell(row=head + i, column=2).font = sh.f(
                        bold=True, size=14, color={"good": GOOD, "bad": BAD}.get(f.tone or "")
                    )
            elif isinstance(b, Table):
                sh.table(b)
            elif isinstance(b, Chart):
                sh.chart(b)
            elif isinstance(b, Bullets):
                for i, (text, ev) in enumerate(b.items, 1):
                    sh.text(f"{i}. {text}", bold=True)
                    sh.text(f"    {ev}", color="6B7280")
                    sh.fit(1, "x" * 20)
        ws.page_setup.orientation = "landscape"  # printed: one page wide, as tall as needed
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        for col, w in sh.widths.items():
            ws.column_dimensions[get_column_letter(col)].width = w
    wb.save(path)
