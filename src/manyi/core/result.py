"""The one shape of every result: scores, analyses, models, weighting and sampling.

A :class:`Result` holds data and codes only, never words of a language or a figure:

* ``kind``: what produced it (``score``, ``ipa``, ``pls``, ``weighting``, ...);
* ``n``: the responses it rests on;
* ``tables``: named tidy DataFrames (columns documented per kind in ``docs/``);
* ``params``: the options it was made with (seed, scheme, instrument id and version, ...);
* ``warnings``: :class:`~manyi.core.messages.Message` codes with parameters;
* ``labels``: user data for display, ``{id: {"zh": ..., "en": ...}}`` (item texts, dimension
  and construct labels from the instrument), so presentation needs nothing else.

``to_dict()`` gives plain JSON data (NaN and ±inf become ``None``; messages stay codes) and
``Result.from_dict()`` restores it, so a store can keep results and a page can show them.
Richer results (:class:`~manyi.core.scoring.ScoreResult`, :class:`~manyi.core.pls.PLSResult`)
turn into this shape with ``as_result()``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.messages import Message


def jsonable(v: Any) -> Any:
    """Any value of a result as JSON data: NaN/±inf → None, numpy scalars and arrays → Python,
    timestamps → ISO text, messages → {key, params}. The one encoder of the project."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, bool | np.bool_):
        return bool(v)
    if isinstance(v, int | np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) or math.isinf(v) else float(v)
    if isinstance(v, str):
        return v
    if isinstance(v, Message):
        return {"key": v.key, "params": jsonable(v.params)}
    if isinstance(v, pd.Timestamp | datetime | date):
        return v.isoformat()
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, list | tuple | np.ndarray | pd.Series):
        return [jsonable(x) for x in v]
    if isinstance(v, pd.DataFrame):
        return records(v)
    return v


def as_float(v: Any) -> float | None:
    """A number for JSON: None for missing, NaN and ±inf (:func:`jsonable` of a float)."""
    out = jsonable(v)
    return None if out is None else float(out)


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts.

    >>> records(pd.DataFrame({"n": [3], "mean": [float("nan")]}))
    [{'n': 3, 'mean': None}]
    """
    return [{str(k): jsonable(v) for k, v in row.items()} for row in df.to_dict("records")]


@dataclass
class Result:
    """A result: kind, n, named tables, parameters, warnings (codes), display labels."""

    kind: str
    n: int
    tables: dict[str, pd.DataFrame]
    warnings: list[Message] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    # ``analysis`` is the name of ``kind`` in the analyses' JSON ({"analysis": "ipa", ...})
    @property
    def analysis(self) -> str:
        return self.kind

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def as_result(self) -> Result:
        return self

    def label(self, key: str, lang: str) -> str:
        lab = self.labels.get(key)
        return lab.get(lang, key) if lab else key

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """Plain data. With ``lang`` the warnings are rendered text (the CLI's JSON); without,
        they stay codes with parameters (what a store keeps)."""
        return {
            "analysis": self.kind,
            "n": int(self.n),
            "tables": {name: records(df) for name, df in self.tables.items()},
            "params": jsonable(self.params),
            "warnings": [w.render(lang) if lang else jsonable(w) for w in self.warnings],
            "labels": dict(self.labels),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Result:
        """The inverse of ``to_dict()`` (without ``lang``): tables come back as DataFrames.

        >>> r = Result("demo", 2, {"t": pd.DataFrame({"x": [1.5, 2.5]})}, [Message("an.too_few", {"n": 2})])
        >>> back = Result.from_dict(r.to_dict())
        >>> back.kind, back.n, list(back.tables["t"]["x"]), back.warnings[0].key
        ('demo', 2, [1.5, 2.5], 'an.too_few')
        """
        warnings = [
            Message(w["key"], dict(w.get("params") or {}))
            if isinstance(w, dict)
            else Message("text", {"text": w})
            for w in data.get("warnings", [])
        ]
        return cls(
            kind=data["analysis"],
            n=int(data["n"]),
            tables={k: pd.DataFrame.from_records(v) for k, v in data.get("tables", {}).items()},
            warnings=warnings,
            params=dict(data.get("params") or {}),
            labels=dict(data.get("labels") or {}),
        )
