"""Draft an instrument from a response file (``manyi instrument infer``).

An export of 问卷星, Qualtrics or SurveyMonkey, or any table, says a great deal of its survey:
the question texts are its headers (or an SPSS file's variable labels), and each column's
distinct answers tell its kind:

- the labels of a built-in satisfaction scale (很满意 … 很不满意, "Extremely satisfied" …), or
  whole numbers within 1–5 or 1–7: an **item** on ``likert5`` or ``likert7``;
  a stray answer or two that read on no scale (at most 1 % of the answers) do not change that;
- whole numbers within 0–10 reaching 9 or 10 (a question about recommending, 推荐): **NPS**;
- a few distinct texts (at most 20, repeated): a **choice** question used as a segment;
- anything else that is text: an **open question**; columns of the tool's own (times, IP
  addresses) are left out.

Items go into one dimension to be named; each keeps its header as ``column:`` so the file
scores as it is. The user then sets the dimensions, weights and English texts, and
``manyi validate`` tells what is left.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np

from manyi.core.instrument.spec import BUILTIN_SCALES, COMPANION_SCALES, RESERVED_COLUMNS, label_key
from manyi.io.responses import _as_text, _number, _wide_number, read_table

#: columns the survey tools add of their own: never questions
TOOL_COLUMNS = {
    "所用时间", "来源", "来源详情", "来自IP", "来自ip", "答题时长", "开始答题时间", "IP", "IP地址", "用户ID",
    "StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
    "RecipientLastName", "RecipientFirstName", "RecipientEmail", "ExternalReference", "LocationLatitude",
    "LocationLongitude", "DistributionChannel", "UserLanguage", "Collector ID", "Start Date", "IP Address",
    "Email Address", "First Name", "Last Name", "lastpage", "startlanguage", "seed", "startdate", "datestamp",
}
_NUMBERING = re.compile(r"^\s*(?:[QqＱ]?\d+(?:[._]\d+)*[、.．:：)）\s]*|[（(]\d+[）)]\s*)")
_RECOMMEND = re.compile(r"推荐|recommend", re.IGNORECASE)


def _ident(header: str, taken: set[str]) -> str:
    """An id from a header: its words without the question number, at most 24 characters."""
    base = _NUMBERING.sub("", header)
    base = re.sub(r"[^\w]+", "_", base).strip("_")[:24].strip("_")
    if not base or not re.match(r"[^\W\d_]", base):
        base = f"q{base}" if base else "q"
    ident, k = base, 2
    while ident in taken or "__" in ident:
        ident = f"{base.replace('__', '_')}_{k}"
        k += 1
    taken.add(ident)
    return ident


def _num(v: str) -> float:
    """A cell as a number (ASCII or full-width digits), else NaN."""
    x = _number(v.strip())
    return _wide_number(v) if x is None else x


def _kind(values: list[str], n_rows: int, header: str) -> tuple[str, Any]:
    """What a column's distinct answers say it is: (item, scale) | (nps, None) |
    (choice, values) | (text, None) | (skip, None)."""
    if not values:
        return "skip", None
    nums = [_num(v) for v in values]
    if all(not np.isnan(x) for x in nums):
        xs = np.array(nums)
        if np.all(xs == np.round(xs)):
            lo, hi = xs.min(), xs.max()
            if lo >= 0 and hi <= 10 and hi >= 9 and (lo == 0 or _RECOMMEND.search(header)):
                return "nps", None
            if lo >= 1 and hi <= 5:
                return "item", "likert5"
            if lo >= 1 and hi <= 7:
                return "item", "likert7"
        return "skip", None
    for scale in ("likert5", "likert7"):
        known = BUILTIN_SCALES[scale].label_map()
        if all(label_key(v) in known or not np.isnan(_num(v)) for v in values):
            return "item", scale
    if len(values) <= 20 and len(values) <= max(1, n_rows // 2):
        return "choice", values
    return "text", None


def _strays(text: Any, values: list[str]) -> list[str]:
    """Answers that read on no built-in scale while the others do: at most three distinct,
    together at most 1 % of the answers (a typo, "N/A"). Scoring reports each of them."""
    known = {**BUILTIN_SCALES["likert5"].label_map(), **BUILTIN_SCALES["likert7"].label_map()}
    odd = [v for v in values if np.isnan(_num(v)) and label_key(v) not in known]
    if not odd or len(odd) > 3 or len(odd) == len(values):
        return []
    return odd if text.isin(odd).sum() <= 0.01 * text.notna().sum() else []


def _column_kind(col: Any, header: str) -> tuple[str, Any]:
    """:func:`_kind` of a column from its distinct answers; a stray answer or two ("很好吧",
    "N/A", :func:`_strays`) does not make an item a question."""
    text = _as_text(col)
    values = sorted({v for v in text if v is not None}, key=lambda v: (np.nan_to_num(_num(v), nan=np.inf), v))
    n = int(text.notna().sum())
    kind, extra = _kind(values, n, header)
    odd = _strays(text, values) if kind != "item" else []
    if odd:
        k2, e2 = _kind([v for v in values if v not in odd], n, header)
        if k2 == "item":
            return k2, e2
    return kind, extra


#: The suffixes of an item's paired answers in manyi's layout (docs/responses.md).
PAIRED = ("__expected", "__importance")


def infer(path: str | Path | bytes, name: str | None = None, source: str | None = None,
          sheet: str | None = None, header_row: int | None = None) -> str:
    """The YAML text of an instrument drafted from a response file."""
    import yaml

    df = read_table(path, sheet=sheet, name=name, source=source, header_row=header_row)
    label = name or (Path(str(path)).name if not isinstance(path, bytes | bytearray) else "survey")
    labels = df.attrs.get("labels", {})
    taken: set[str] = set()
    items, questions = [], []
    by_column: dict[str, dict[str, Any]] = {}
    # an item's expectation and importance answers (x__expected, x__importance, as manyi
    # writes them): flags of the item x, read after it
    paired = [c for c in df.columns if str(c).endswith(PAIRED) and str(c).rsplit("__", 1)[0] in df.columns]
    for col in df.columns:
        if col in RESERVED_COLUMNS or col in TOOL_COLUMNS or col in paired:
            continue
        header = str(labels.get(col) or col)
        kind, extra = _column_kind(df[col], header)
        if kind == "skip":
            continue
        ident = _ident(header, taken)
        shown = _NUMBERING.sub("", header).strip() or header
        entry: dict[str, Any] = {"id": ident}
        if kind == "item":
            entry.update(text={"zh": shown, "en": shown}, scale=extra)
        else:
            entry.update(type={"nps": "nps", "choice": "choice", "text": "text"}[kind],
                         text={"zh": shown, "en": shown})
            if kind == "choice":
                entry.update(role="segment", choices=list(extra))
        if ident != col:
            entry["column"] = str(col)
        (items if kind == "item" else questions).append(entry)
        by_column[str(col)] = entry
    for col in paired:
        base, part = str(col).rsplit("__", 1)
        entry = by_column.get(base)
        kind, scale = _column_kind(df[col], str(col))
        if entry is None or "scale" not in entry or kind not in ("item", "skip"):
            continue  # not the pair of an item: left out, as a column the instrument does not name
        if part == "expected" and scale in (None, entry["scale"]):
            entry["expectation"] = True
        elif part == "importance":
            entry["importance"] = True
            if scale is not None and scale != entry["scale"]:
                entry["importance_scale"] = COMPANION_SCALES[scale][0]
    stem = _ident(Path(label).stem, set())
    doc: dict[str, Any] = {
        "manyi": 1,
        "id": stem,
        "version": "1",
        "title": {"zh": Path(label).stem, "en": Path(label).stem},
        "scoring": {"points": "range", "satisfied_at": 70, "target_rate": 0.85, "min_answered": 0.5},
        "dimensions": [{"id": "dimension_1", "label": {"zh": "待定维度", "en": "Dimension to name"},
                        "items": items}],
        "questions": questions,
    }
    head = (f"# Drafted by `manyi instrument infer` from {label}: {len(items)} item(s), "
            f"{len(questions)} other question(s).\n"
            "# Left to you: split the items into dimensions with their weights, the English texts,\n"
            "# the satisfied threshold and target; `manyi validate` tells what is left.\n")
    return head + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=1000)

