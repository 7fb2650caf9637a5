"""Bootstrap resamples as row counts (Efron & Tibshirani 1993, ch. 6: a resample of n rows
drawn with replacement is the number of times each row was drawn).

:func:`bootstrap_counts` draws resample after resample exactly as ``rng.integers(0, n, n)``
would index the rows — the stream of seminr's default resampler and of the earlier
implementations — and keeps the counts as bytes, counted in parallel by a compiled kernel.
The analyses multiply them into the rows' sums and cross-products, so no resample copies the
data.
"""

from __future__ import annotations

import numpy as np

#: Row indices drawn per call (int64: 128 MB); the stream does not depend on it.
DRAW_VALUES = 16_000_000


def bootstrap_counts(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """Counts (k × n) of the next ``k`` resamples of ``n`` rows from ``rng``: uint8, or wider
    integers in the rare case that a row was drawn more than 255 times in one resample."""
    from manyi.core._kernels import row_counts

    out = np.empty((k, n), dtype=np.uint8)
    step = max(1, DRAW_VALUES // max(n, 1))
    for lo in range(0, k, step):
        hi = min(k, lo + step)
        idx = rng.integers(0, n, size=(hi - lo, n), dtype=np.intp)
        counts, over = row_counts(idx)
        if over.any():  # exact counts for those resamples, in wider integers
            out = out.astype(np.uint32)
            out[lo:hi] = counts
            for b in np.flatnonzero(over):
                out[lo + b] = np.bincount(idx[b], minlength=n)
        else:
            out[lo:hi] = counts
    return out
