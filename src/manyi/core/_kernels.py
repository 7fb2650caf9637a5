"""Compiled inner loop (numba): the bootstrap's resample counts of large data. Scoring and
the PLS iterations need no compiler (``manyi.core.scoring.response.score_pass``,
``manyi.core.pls.engine.pls_batch``).

The kernel is compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit


# --------------------------------------------------------------------------------------
# Bootstrap resamples as row counts
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True)
def count_rows(idx, out):
    """Add how often each row was drawn in each resample (a row of ``idx``: row indices in
    0…n−1) to ``out`` (bytes, zero to start); ``over[b]`` when a row of resample b was drawn
    more than 255 times (the caller then counts that resample exactly). Without the
    interpreter's lock: the next resamples are drawn meanwhile."""
    k, n = idx.shape
    over = np.zeros(k, np.bool_)
    for b in range(k):
        for j in range(n):
            r = idx[b, j]
            if out[b, r] == 255:
                over[b] = True
            else:
                out[b, r] += 1
    return over
