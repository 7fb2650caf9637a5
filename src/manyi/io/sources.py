"""Exports of other survey tools, told apart by their header rows, and read like any table.

What each tool writes (from the tools' documentation of their export formats):

- **Qualtrics** (CSV/TSV, "choice text" or "numeric values"): three header rows — the column
  names (``StartDate``, ``ResponseId``, ``Q1``, ``Q2_1``, …), the question texts, and a row of
  ``{"ImportId": …}`` JSON. Data starts on row 4. ``ResponseId`` is the response id,
  ``RecordedDate`` (else ``EndDate``) the time.
- **SurveyMonkey** (CSV/XLSX): two header rows — the question texts (a matrix question's text
  over its first column only, the rest of its cells blank) and the row labels or
  ``Response``/``Open-Ended Response``. A column is named "question" or "question - row".
  ``Respondent ID`` is the response id, ``End Date`` the time. Data starts on row 3.
- **问卷星 (Wenjuanxing)**: one header row — ``序号``, ``提交答卷时间``, ``所用时间``, ``来源``,
  ``来源详情``, ``来自IP``, then the questions numbered ``1、…``; answers by option text or
  number. ``序号`` is the response id, ``提交答卷时间`` the time.
- **腾讯问卷 (Tencent Survey)**: one header row — ``编号`` (or ``序号``), ``开始答题时间``,
  ``结束答题时间``, ``答题时长``, …; ``编号`` is the response id, ``结束答题时间`` the time.
- **LimeSurvey** (CSV, "question code" headings): ``id``, ``submitdate``, ``lastpage``,
  ``startlanguage``, ``seed``, …; ``id`` is the response id, ``submitdate`` the time.
- **Formbricks** (CSV): ``Response ID``, ``Timestamp``, ``Finished``, …
- **SPSS** ``.sav``/``.zsav`` and **Stata** ``.dta``: read by their format; the variable
  labels (question texts) may be named in a column map like headers.

Everything else is a plain table whose first row names the columns. ``--source NAME`` forces a
tool where the headers leave doubt.
"""

from __future__ import annotations

from dataclasses import dataclass, field

SOURCES = ("plain", "qualtrics", "surveymonkey", "wjx", "tencent", "limesurvey", "formbricks", "spss", "stata")

#: per tool: the columns that hold the response id and the time, first found wins
METADATA: dict[str, dict[str, tuple[str, ...]]] = {
    "qualtrics": {"response_id": ("ResponseId", "ResponseID"), "submitted_at": ("RecordedDate", "EndDate")},
    "surveymonkey": {"response_id": ("Respondent ID",), "submitted_at": ("End Date",)},
    "wjx": {"response_id": ("序号", "答卷编号"), "submitted_at": ("提交答卷时间",)},
    "tencent": {"response_id": ("编号", "序号"), "submitted_at": ("结束答题时间", "提交时间")},
    "limesurvey": {"response_id": ("id",), "submitted_at": ("submitdate",)},
    "formbricks": {"response_id": ("Response ID",), "submitted_at": ("Timestamp", "Date")},
}


@dataclass
class Layout:
    """How to read a table: the tool, its column names, how many rows after the first to
    skip (the other header rows), and the renames of its id and time columns."""

    source: str
    columns: list[str]
    skip: int = 0
    renames: dict[str, str] = field(default_factory=dict)


def detect(header: list[str], second: list[str] | None = None, third: list[str] | None = None) -> str:
    """The tool that wrote a table with these first rows (``plain`` when none fits)."""
    names = {h.strip() for h in header}
    if third and sum(c.strip().startswith('{"ImportId"') for c in third) >= max(1, len(third) // 2):
        return "qualtrics"
    if {"Respondent ID", "Collector ID"} <= names:
        return "surveymonkey"
    if "提交答卷时间" in names and ({"序号", "答卷编号"} & names):
        return "wjx"
    if {"开始答题时间", "结束答题时间"} & names and ({"编号", "序号"} & names):
        return "tencent"
    if {"id", "submitdate", "lastpage", "startlanguage"} <= names:
        return "limesurvey"
    if {"Response ID", "Timestamp"} <= names:
        return "formbricks"
    return "plain"


def layout(source: str, header: list[str], second: list[str] | None = None) -> Layout:
    """The column names and the rows to skip for a table written by ``source``."""
    cols = [h.strip() for h in header]
    skip = 0
    if source == "qualtrics":
        skip = 2  # the question texts and the ImportId row
    elif source == "surveymonkey":
        skip = 1
        sub = [s.strip() for s in (second or [])] + [""] * max(0, len(cols) - len(second or []))
        out, top = [], ""
        for c, s in zip(cols, sub, strict=False):
            if c and not c.startswith("Unnamed:"):
                top = c
            elif not top:
                top = c
            out.append(top if s in ("", "Response", "Open-Ended Response") else f"{top} - {s}")
        cols = out
    renames: dict[str, str] = {}
    for target, candidates in METADATA.get(source, {}).items():
        if target in cols:
            continue
        for c in candidates:
            if c in cols:
                renames[c] = target
                break
    return Layout(source, cols, skip, renames)
