"""Scoring a clean response frame: keys, weights, sums, figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import ManyiError, Message
from manyi.core.scoring.figures import GAP_FIGURES, _gap_frame, _stats
from manyi.core.scoring.groups import PERIODS, _combine, _factorize, period_codes
from manyi.core.scoring.response import _Plan
from manyi.core.scoring.result import ScoreResult
from manyi.core.scoring.sums import Partial, _group_sums


def respondent_weights(
    data: pd.DataFrame, column: str, allow_none: bool = False
) -> tuple[np.ndarray, list[Message]]:
    """A column of respondent weights as floats, checked: text that is not a number, negative
    or infinite weights are errors naming rows; missing and zero weights leave the response
    out of the weighted figures, with a warning naming rows."""
    if column not in data.columns:
        raise ManyiError(Message("score.unknown_weights", {"column": column}))
    raw = data[column]
    w = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        text = raw.astype("string").str.strip()
        nonnum = np.isnan(w) & text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
        if nonnum.any():
            i = int(np.flatnonzero(nonnum)[0])
            raise ManyiError(
                Message(
                    "score.weights_not_numeric",
                    {
                        "column": column,
                        "n": int(nonnum.sum()),
                        "value": str(raw.iloc[i]),
                        "rows": _rows(nonnum, data),
                    },
                )
            )
    bad = (w < 0) | np.isinf(w)
    if bad.any():
        raise ManyiError(
            Message(
                "score.weights_negative",
                {"column": column, "n": int(bad.sum()), "rows": _rows(bad, data)},
            )
        )
    none = ~(w > 0)
    notes = []
    if none.all() and not allow_none:  # (a part of a table may lack them; the table not)
        raise ManyiError(Message("score.weights_none", {"column": column}))
    if none.any():
        notes.append(
            Message(
                "score.bad_weights",
                {"n": int(none.sum()), "column": column, "rows": _rows(none, data)},
            )
        )
    return np.where(none, 0.0, w), notes


def _rows(mask: np.ndarray, data: pd.DataFrame, limit: int = 5) -> str:
    """The first few responses of ``mask`` by id (or position), for a message."""
    idx = np.flatnonzero(mask)
    ids = data["response_id"] if "response_id" in data else pd.Series(np.arange(len(data)) + 1)
    shown = ", ".join(str(ids.iloc[i]) for i in idx[:limit])
    return shown + (" …" if len(idx) > limit else "")


def _key_parts(
    data: pd.DataFrame, by: list[str], period: str | None, warnings: list[Message]
) -> tuple[list[str], list[tuple[np.ndarray, list[Any]]], list[list[Any] | None]]:
    """The key columns' codes and labels, and each key's own order of labels (a categorical's
    categories; None where the labels are sorted by value)."""
    for col in by:
        if col not in data.columns:
            have = ", ".join(map(str, data.columns[:12]))
            raise ManyiError(Message("score.unknown_by", {"column": col, "have": have}))
    parts = [_factorize(data[k]) for k in by]
    orders: list[list[Any] | None] = [
        list(data[k].cat.categories) if isinstance(data[k].dtype, pd.CategoricalDtype) else None
        for k in by
    ]
    keys = list(by)
    if period:
        if period not in PERIODS:
            raise ManyiError(Message("score.bad_period", {"period": period}))
        if "submitted_at" not in data.columns or data["submitted_at"].isna().all():
            raise ManyiError(Message("score.no_dates"))
        pc = period_codes(data["submitted_at"], period)
        parts.append(pc)
        orders.append(None)
        keys.append("period")
        missing = int((pc[0] == len(pc[1]) - 1).sum()) if pc[1] and pc[1][-1] is None else 0
        if missing:
            warnings.append(Message("score.no_period_date", {"n": missing}))
    return keys, parts, orders


def partial_frame(
    inst: Instrument,
    data: pd.DataFrame,
    by: list[str] | None = None,
    period: str | None = None,
    weights: str | None = None,
    respondents: bool = True,
) -> Partial:
    """The group sums of a clean response frame (or of one part of the responses: a chunk of a
    file, a partition of a dataset); :func:`merge_partials` adds parts, :func:`finish` turns
    them into a :class:`ScoreResult`. ``respondents=False`` leaves out the per-response scores.
    A part may lack positive weights where the whole has some: :func:`finish` says so only
    when the whole has none."""
    by = list(by or [])
    warnings: list[Message] = []
    n = len(data)
    keys, parts, orders = _key_parts(data, by, period, warnings)
    codes, key_tuples = _combine(parts, n)
    G = len(key_tuples)

    def column(c: str) -> np.ndarray:
        if c not in data:
            return np.full(n, np.nan)
        col = data[c]
        if col.dtype == np.float64:
            return col.to_numpy()  # no copy
        return col.to_numpy(dtype=float, na_value=np.nan)

    columns = [column(i) for i in inst.item_ids]
    metrics = {}
    for m in ("nps", "csat", "ces"):
        q = inst.metric_question(m)
        if q is not None and q.id in data:
            metrics[m] = column(q.id)
    expected = {
        i.id: column(f"{i.id}__expected")
        for i in inst.items
        if i.expectation and f"{i.id}__expected" in data
    }
    plan = _Plan(inst)
    w = None
    if weights:
        w, warnings_w = respondent_weights(data, weights, allow_none=True)
        warnings += warnings_w
    sums, rs = _group_sums(inst, plan, columns, codes, G, metrics, expected, w)
    resp = None
    if respondents:
        resp = pd.DataFrame(
            {"response_id": data["response_id"] if "response_id" in data else np.arange(n)}
        )
        resp.index = range(n)
        for k, (pcodes, labels) in zip(keys, parts, strict=True):
            resp[k] = pd.Categorical.from_codes(
                np.where(pcodes < len([x for x in labels if x is not None]), pcodes, -1),
                categories=[x for x in labels if x is not None],
            )
        resp["csi"] = rs.csi
        resp["satisfied"] = pd.arrays.BooleanArray(rs.satisfied == 1.0, np.isnan(rs.satisfied))
        for j, d in enumerate(inst.dimension_ids):
            resp[d] = rs.dimensions[:, j]
    weighted = w is None or bool((w > 0).any())
    return Partial(keys, key_tuples, orders, sums, warnings, resp, weights, weighted)


def finish(inst: Instrument, part: Partial) -> ScoreResult:
    """The scorecard of (merged) group sums: figures per group and in total, gaps."""
    if not part.weighted:
        raise ManyiError(Message("score.weights_none", {"column": part.weights}))
    keys, key_tuples, sums = part.keys, part.key_tuples, part.sums
    G = len(key_tuples)
    total_sums = sums.total()
    key_values = pd.DataFrame(key_tuples, columns=keys) if keys else pd.DataFrame(index=range(1))
    groups = pd.concat([key_values, _stats(inst, sums)], axis=1)
    total = _stats(inst, total_sums)
    for k in reversed(keys):
        total.insert(0, k, [None])
    gaps = pd.DataFrame(
        _gap_frame(inst, sums, np.arange(G)) + _gap_frame(inst, total_sums, np.array([-1])),
        columns=["group", "level", "id", "dimension", "n", *GAP_FIGURES],
    )
    resp = part.respondents
    if resp is None:  # left out: the columns, no rows
        resp = pd.DataFrame(
            columns=["response_id", *keys, "csi", "satisfied", *inst.dimension_ids]
        )
    notes = list(getattr(inst, "notes", []))
    return ScoreResult(inst, keys, groups, total, resp, gaps, warnings=notes + part.warnings)


def score_frame(
    inst: Instrument,
    data: pd.DataFrame,
    by: list[str] | None = None,
    period: str | None = None,
    weights: str | None = None,
) -> ScoreResult:
    """Score a clean response frame (as ``validate_frame`` returns it).

    ``by`` names segment columns; ``period`` (month, quarter, year) groups by
    ``submitted_at``. A missing key value forms its own group (key None). ``weights`` names a
    column of respondent weights (e.g. from ``manyi weight``): means, rates, shares and NPS are
    weighted, intervals use Kish's effective n, and ``n_eff``/``deff`` are reported.
    """
    return finish(inst, partial_frame(inst, data, by, period, weights))
