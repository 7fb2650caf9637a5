"""Compiled inner loop (numba): the bootstrap's resample counts of large data. Scoring and
the PLS iterations need no compiler (``manyi.core.scoring.response.score_pass``,
``manyi.core.pls.engine.pls_batch``).

The kernel is compiled on first use (about a second) and cached on disk (``cache=True``: next
to this module, or in the user's cache folder where that is not writable, or in
``NUMBA_CACHE_DIR``); later processes load it from there. :func:`cached` tells whether that
has happened, :func:`warm` compiles or loads it (``manyi demo`` does, and the drivers'
bootstrap says "compiling (once)" on terminals when it has to).
"""

from __future__ import annotations

import os

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


def cached() -> bool:
    """Whether the counting kernel is ready without compiling: loaded in this process, or in
    numba's cache on disk (True where numba's cache cannot be inspected)."""
    try:
        return bool(count_rows.signatures) or os.path.exists(count_rows._cache._cache_file._index_path)
    except AttributeError:  # another numba's internals
        return True


def warm() -> None:
    """Compile (once per installation) or load the counting kernel for int32 row indices."""
    count_rows(np.zeros((1, 1), np.int32), np.zeros((1, 1), np.uint8))
