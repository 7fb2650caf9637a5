"""Compiled inner loop (numba): the bootstrap's resample counts of large data. Scoring and
the PLS iterations need no compiler (``manyi.core.scoring.response.score_pass``,
``manyi.core.pls.engine.pls_batch``).

The kernel is compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


# --------------------------------------------------------------------------------------
# Bootstrap resamples as row counts
# --------------------------------------------------------------------------------------
@njit(cache=True, parallel=True, nogil=True)
def row_counts(idx):
    """How often each row was drawn in each resample (a row of ``idx``: k × n row indices in
    0…n−1), as bytes; ``over[b]`` when a row of resample b was drawn more than 255 times (the
    caller then counts that resample exactly). Resamples are counted in parallel."""
    k, n = idx.shape
    out = np.zeros((k, n), np.uint8)
    over = np.zeros(k, np.bool_)
    for b in prange(k):
        for j in range(n):
            r = idx[b, j]
            if out[b, r] == 255:
                over[b] = True
            else:
                out[b, r] += 1
    return out, over
