"""Group codes: segment columns and periods (month, quarter, year) as integer codes."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from manyi.core.messages import ManyiError, Message

PERIODS = ("month", "quarter", "year")


# Groups
# --------------------------------------------------------------------------------------
def _factorize(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Sorted integer codes of a key column; a missing value is its own (last) code."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int64)
        labels = list(col.cat.categories)
    else:
        codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        labels = list(uniques)
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(None)
    return codes, labels


def period_codes(ts: pd.Series, period: str) -> tuple[np.ndarray, list[Any]]:
    """Period codes and labels: month '2026-03', quarter '2026Q1', year '2026'.

    Timestamps count in their own time zone (the reader puts them in Asia/Shanghai).
    """
    if period not in PERIODS:
        raise ManyiError(Message("score.bad_period", {"period": period}))
    ts = pd.to_datetime(ts)
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)  # wall-clock time in its zone
    nat = ts.isna().to_numpy()
    ns = ts.to_numpy().astype("datetime64[ns]").view(np.int64)
    months = np.zeros(len(ts), dtype=np.int64)  # months since 1970-01
    if (~nat).any():
        first = np.datetime64(int(ns[~nat].min()), "ns").astype("datetime64[M]")
        last = np.datetime64(int(ns[~nat].max()), "ns").astype("datetime64[M]")
        starts = np.arange(first, last + 2).astype("datetime64[ns]").view(np.int64)
        months[~nat] = first.astype(np.int64) + np.searchsorted(starts, ns[~nat], side="right") - 1
    if period == "month":
        key = months
    elif period == "quarter":
        key = months // 3
    else:
        key = months // 12
    base = int(key[~nat].min()) if (~nat).any() else 0
    key = key - base
    key[nat] = 0
    present = np.bincount(key[~nat], minlength=1) > 0
    uniq = np.flatnonzero(present) + base
    lut = np.cumsum(present) - 1
    out = np.where(nat, len(uniq), lut[key])
    labels: list[Any] = []
    for k in uniq:
        if period == "month":
            labels.append(f"{1970 + k // 12}-{k % 12 + 1:02d}")
        elif period == "quarter":
            labels.append(f"{1970 + k // 4}Q{k % 4 + 1}")
        else:
            labels.append(f"{1970 + k}")
    if nat.any():
        labels.append(None)
    return out, labels


def _combine(
    parts: list[tuple[np.ndarray, list[Any]]], n: int
) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Combine key codes into group codes 0..G-1 (present combinations only, sorted)."""
    if not parts:
        return np.zeros(n, dtype=np.int64), [()]
    combined = np.zeros(n, dtype=np.int64)
    radix = 1
    for codes, labels in reversed(parts):
        combined += codes * radix
        radix *= max(len(labels), 1)
    if radix <= 50_000_000:
        present = np.bincount(combined, minlength=radix) > 0
        lut = np.cumsum(present) - 1
        values = np.flatnonzero(present)
        gcodes = lut[combined]
    else:
        values, gcodes = np.unique(combined, return_inverse=True)
    keys = []
    for v in values:
        tup = []
        for _codes, labels in reversed(parts):
            size = max(len(labels), 1)
            tup.append(labels[int(v % size)])
            v //= size
        keys.append(tuple(reversed(tup)))
    return gcodes, keys
