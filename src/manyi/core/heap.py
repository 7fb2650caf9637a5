"""Freed memory kept for reuse instead of given back to the operating system.

Bootstraps and chunked passes allocate and free arrays of a few megabytes hundreds of times.
glibc's allocator serves such arrays from fresh ``mmap`` regions or gives the top of its heap
back after each ``free`` (its dynamic thresholds start at 128 KiB), so the next array's pages
are faulted in anew. On virtual machines a page fault is slow (about 2.5 µs per 4 KiB page
measured on the 2-core build machine: 11 MB of correlation matrices cost 7 ms to touch),
and the PLS bootstrap on mobi spent about a sixth of its time there.

:func:`keep_freed_memory` sets three of glibc's ``mallopt`` parameters (see ``mallopt(3)``)
once per process:

* ``M_MMAP_THRESHOLD`` = 64 MiB: arrays below it come from the heap, where freed ones are
  reused;
* ``M_TRIM_THRESHOLD`` = 256 MiB: free memory at the heap's top is given back only above it;
* ``M_TOP_PAD`` = 64 MiB: the heap grows in steps of that much.

The cost is memory held after a peak (at most the trim threshold per allocator arena); peak
memory itself stays what the work needs. The ``manyi`` commands call it at start (not the
servers), and so does a bootstrap run on threads (``manyi.core.pls.inference.ThreadBlocks``).
``MANYI_HEAP=system`` leaves the allocator as it is. Other C libraries (macOS, Windows,
musl): nothing is changed.
"""

from __future__ import annotations

import os

M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3

SETTINGS = ((M_MMAP_THRESHOLD, 64 * 2**20), (M_TRIM_THRESHOLD, 256 * 2**20), (M_TOP_PAD, 64 * 2**20))

_done: bool | None = None


def keep_freed_memory() -> bool:
    """Set glibc's thresholds (see the module) once per process; whether they are set (False
    where the C library is not glibc or ``MANYI_HEAP=system``)."""
    global _done
    if _done is None:
        _done = _apply()
    return _done


def _apply() -> bool:
    if os.environ.get("MANYI_HEAP", "").strip().lower() == "system":
        return False
    try:  # "glibc 2.36" on glibc; absent elsewhere
        libc_name = os.confstr("CS_GNU_LIBC_VERSION") or ""
    except (AttributeError, ValueError, OSError):
        libc_name = ""
    if not libc_name.startswith("glibc"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)
