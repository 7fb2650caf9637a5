"""The one result shape of every analysis (issue: "where to act").

``{"analysis": name, "n": int, "tables": {table_name: [row objects]}, "warnings": [str]}`` —
so reports, dashboards and integrations can read any analysis the same way. Tables are tidy
DataFrames with self-explaining columns (the pingouin habit); their columns are documented
per analysis in ``docs/analyses.md``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from manyi.i18n import ManyiError, Message

#: Fonts for charts: the first one installed renders the Chinese labels.
CHART_FONT = (
    "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
)


def style(fig: Any) -> Any:
    """The house style of every chart: a font family that renders Chinese, a white background."""
    fig.update_layout(font={"family": CHART_FONT}, template="plotly_white")
    return fig


@dataclass
class AnalysisResult:
    analysis: str
    n: int
    tables: dict[str, pd.DataFrame]
    warnings: list[Message] = field(default_factory=list)

    def __getitem__(self, name: str) -> pd.DataFrame:
        return self.tables[name]

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {
            "analysis": self.analysis,
            "n": int(self.n),
            "tables": {name: records(df) for name, df in self.tables.items()},
            "warnings": [w.render(lang) for w in self.warnings],
        }


def _plain(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, np.bool_ | bool):
        return bool(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, float | np.floating):
        return None if math.isnan(v) or math.isinf(v) else float(v)
    if v is pd.NA or v is pd.NaT:
        return None
    return v


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (NaN → None, numpy scalars → Python)."""
    return [{str(k): _plain(v) for k, v in row.items()} for row in df.to_dict("records")]


def need(n: int, minimum: int, method: str) -> None:
    """Raise a clear error when a method gets fewer respondents than it needs."""
    if n < minimum:
        raise ManyiError(Message("an.too_few", {"method": method, "n": n, "minimum": minimum}))


def combine(results: list[tuple[dict[str, Any], AnalysisResult]]) -> AnalysisResult:
    """Per-group results (keys, result) as one result whose tables carry the key columns."""
    first = results[0][1]
    tables: dict[str, list[pd.DataFrame]] = {}
    warnings: list[Message] = []
    for keys, res in results:
        for name, df in res.tables.items():
            df = df.copy()
            for i, (k, v) in enumerate(keys.items()):
                df.insert(i, k, v)
            tables.setdefault(name, []).append(df)
        warnings += res.warnings
    return AnalysisResult(
        first.analysis,
        sum(r.n for _, r in results),
        {k: pd.concat(v, ignore_index=True) for k, v in tables.items()},
        warnings,
    )


def holm(p: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p values."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    order = np.argsort(q)
    adj = np.maximum.accumulate((m - np.arange(m)) * q[order])
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Benjamini & Hochberg (1995) false-discovery-rate adjusted p values."""
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = len(q)
    order = np.argsort(q)[::-1]
    ranks = np.arange(m, 0, -1)
    adj = np.minimum.accumulate(q[order] * m / ranks)
    res = np.empty(m)
    res[order] = np.minimum(adj, 1.0)
    out[ok] = res
    return out


def adjust(p: np.ndarray, method: str) -> np.ndarray:
    if method == "holm":
        return holm(p)
    if method in ("bh", "fdr_bh"):
        return benjamini_hochberg(p)
    if method == "none":
        return np.asarray(p, dtype=float)
    raise ManyiError(
        Message("an.bad_option", {"option": "adjust", "value": method, "choices": "holm, bh, none"})
    )
