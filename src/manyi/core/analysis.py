"""Helpers shared by the analyses: the result shape (:class:`manyi.core.result.Result`),
combining per-group results, minimum sizes, p-value adjustment.

``{"analysis": name, "n": int, "tables": {table_name: [row objects]}, "params": {...},
"warnings": [...]}`` — so reports, dashboards and integrations read any analysis the same
way. Tables are tidy DataFrames with self-explaining columns (the pingouin habit); their
columns are documented per analysis in ``docs/analyses.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from manyi.core.messages import ManyiError, Message
from manyi.core.result import Result, records  # noqa: F401 (records: re-exported)

#: Every analysis returns the project's one result shape.
AnalysisResult = Result


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
    return Result(
        first.kind,
        sum(r.n for _, r in results),
        {k: pd.concat(v, ignore_index=True) for k, v in tables.items()},
        warnings,
        params=dict(first.params),
        labels=dict(first.labels),
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
