"""Bootstrap resamples as row counts (Efron & Tibshirani 1993, ch. 6: a resample of n rows
drawn with replacement is the number of times each row was drawn).

:func:`bootstrap_counts` draws resample after resample exactly as ``rng.integers(0, n, n)``
would index the rows — the stream of seminr's default resampler and of the earlier
implementations — and keeps the counts as bytes, counted by a compiled kernel while the next
piece is drawn on another thread.
The analyses multiply them into the rows' sums and cross-products (:func:`pair_products`: the
products of the column pairs, formed once), so no resample copies the data.
"""

from __future__ import annotations

import numpy as np

#: Row indices drawn per call (int32: 8 MB, a buffer the allocator hands back call after call
#: instead of fresh pages); the stream does not depend on it.
DRAW_VALUES = 2_000_000


def bootstrap_counts(
    rng: np.random.Generator, n: int, k: int, out: np.ndarray | None = None
) -> np.ndarray:
    """Counts (k × n) of the next ``k`` resamples of ``n`` rows from ``rng``: uint8, or wider
    integers in the rare case that a row was drawn more than 255 times in one resample.

    The indices are drawn on a thread of their own (numpy lets go of the interpreter while it
    draws) while the compiled kernel counts the piece drawn before, so drawing and counting
    overlap on two cores. ``out``: a uint8 buffer of at least k × n to count into (reused
    across calls: no fresh memory per batch); the result is a view of it unless a row was drawn
    more than 255 times."""
    from manyi.core._kernels import count_rows
    from manyi.core.ahead import ahead

    buf = np.empty((k, n), dtype=np.uint8) if out is None else out[:k]
    buf[:] = 0
    res: np.ndarray = buf
    dtype = np.int32 if n < 2**31 else np.intp  # the same stream as intp indices
    per = max(1, DRAW_VALUES // max(n, 1))

    def draw(lo: int) -> np.ndarray:
        return rng.integers(0, n, size=(min(per, k - lo), n), dtype=dtype)

    starts = range(0, k, per)
    pieces = ((lo, draw(lo)) for lo in starts)  # drawn on a thread while the last is counted
    for lo, idx in pieces if len(starts) <= 1 else ahead(pieces, depth=2, name="manyi-draws"):
        hi = lo + len(idx)
        if res is buf:
            over = count_rows(idx, buf[lo:hi])
            if not over.any():
                continue
            res = buf.astype(np.uint32)  # exact counts from here on, in wider integers
            for b in np.flatnonzero(over):
                res[lo + b] = np.bincount(idx[b], minlength=n)
        else:
            for b in range(hi - lo):
                res[lo + b] = np.bincount(idx[b], minlength=n)
    return res


def row_counts(idx: np.ndarray) -> np.ndarray:
    """How often each row was drawn in each resample (k × n), from the resamples' row indices
    (k × n): one ``bincount`` for the whole block."""
    k, n = idx.shape
    flat = (np.arange(k)[:, None] * n + idx).ravel()
    return np.bincount(flat, minlength=k * n).reshape(k, n)


def pair_products(X: np.ndarray, buf: np.ndarray | None = None) -> np.ndarray:
    """The products of the column pairs i ≤ j of X (n × p) in the order of
    ``np.triu_indices(p)``: n × p(p+1)/2, written block by block (column i times columns
    i…p−1), which is several times faster than indexing the pairs; into ``buf`` (at least n
    rows) if given."""
    n, p = X.shape
    out = np.empty((n, p * (p + 1) // 2)) if buf is None else buf[:n]
    k = 0
    for i in range(p):
        w = p - i
        np.multiply(X[:, i : i + 1], X[:, i:], out=out[:, k : k + w])
        k += w
    return out
