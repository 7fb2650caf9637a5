"""Checked responses written for other tools (``manyi export``): SPSS ``.sav`` with variable
and value labels, Parquet, XLSX and CSV, in the chosen language.

The columns are those of the validated responses: ``response_id``, ``submitted_at``, the items
(codes on their scale, reverse-coded items as answered on the form: min + max − x undone),
expectation/importance answers, the questions, and the file's other columns. In ``.sav`` each
variable carries its question text as variable label and its scale's labels as value labels,
so SPSS shows "很满意" where the data hold 5; Parquet keeps codes and types. CSV and XLSX carry
codes under ids, or with ``labels=True`` the question texts as headers and the scale labels as
answers (what a reader of the table wants to see).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import ManyiError, Message
from manyi.i18n import t
from manyi.io.responses import ResponseSet

FORMATS = (".sav", ".zsav", ".parquet", ".xlsx", ".csv")


def _variables(inst: Instrument, lang: str) -> dict[str, tuple[str, dict[float, str] | None]]:
    """id → (variable label, value labels) for the instrument's columns."""
    out: dict[str, tuple[str, dict[float, str] | None]] = {}
    for it in inst.items:
        values = {float(k): v.get(lang) for k, v in it.scale.labels.items()} or None
        out[it.id] = (it.text.get(lang), values)
        if it.expectation:
            exp = {float(k): v.get(lang) for k, v in it.expected_scale.labels.items()} or None
            out[f"{it.id}__expected"] = (t("resp.var_expected", lang, text=it.text.get(lang)), exp)
        if it.importance:
            imp = {float(k): v.get(lang) for k, v in it.importance_scale.labels.items()} or None
            out[f"{it.id}__importance"] = (t("resp.var_importance", lang, text=it.text.get(lang)), imp)
    for q in inst.questions:
        values = None
        if q.scale_name and q.scale_name in inst.scales:
            values = {float(k): v.get(lang) for k, v in inst.scales[q.scale_name].labels.items()} or None
        out[q.id] = (q.text.get(lang), values)
    return out


def answers_frame(rs: ResponseSet, inst: Instrument) -> pd.DataFrame:
    """The checked answers as they were given (reverse-coded items back to the form's codes)."""
    df = rs.data.copy()
    for it in inst.items:
        if it.reverse and it.id in df:
            df[it.id] = it.scale.min + it.scale.max - df[it.id]
    return df


def write_responses(rs: ResponseSet, inst: Instrument, path: str | Path, lang: str = "zh",
                    labels: bool = False) -> int:
    """Write the checked responses to ``path`` (its suffix picks the format); returns rows."""
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in FORMATS:
        raise ManyiError(Message("resp.export_format", {"file": p.name, "choices": ", ".join(FORMATS)}))
    df = answers_frame(rs, inst)
    meta = _variables(inst, lang)
    if ext in (".sav", ".zsav"):
        import pyreadstat

        out = df.copy()
        for c in out.columns:
            if isinstance(out[c].dtype, pd.CategoricalDtype) or out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
                out[c] = out[c].astype(object).where(out[c].notna(), None).astype(object)
            elif isinstance(out[c].dtype, pd.DatetimeTZDtype):
                out[c] = out[c].dt.tz_localize(None)
        pyreadstat.write_sav(
            out, str(p), compress=ext == ".zsav",
            column_labels=[meta.get(c, (c, None))[0] for c in out.columns],
            variable_value_labels={c: v for c, (_, v) in meta.items() if v and c in out.columns},
        )
    elif ext == ".parquet":
        df.to_parquet(p, index=False)
    else:
        table = df
        if labels:
            table = df.copy()
            for c, (_, values) in meta.items():
                if values and c in table:
                    x = table[c].to_numpy(dtype=float, na_value=np.nan)
                    table[c] = [values.get(float(v), _code(v)) if not np.isnan(v) else None for v in x]
            table = table.rename(columns={c: text for c, (text, _) in meta.items() if c in table})
        if ext == ".xlsx":
            table = table.copy()
            for c in table.columns:
                if isinstance(table[c].dtype, pd.DatetimeTZDtype):
                    table[c] = table[c].dt.tz_localize(None)
            table.to_excel(p, index=False)
        else:
            table.to_csv(p, index=False, encoding="utf-8-sig")
    return len(df)


def _code(v: float) -> Any:
    return int(v) if float(v).is_integer() else v
