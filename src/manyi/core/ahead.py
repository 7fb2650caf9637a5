"""Work done one step ahead on a thread of its own: for steps that let go of the interpreter
while they run (pyarrow parsing a block of a file, numpy drawing random numbers), so that they
overlap the caller's work on the step before. And the settings for array work on several
threads at once (:func:`parallel_hold`: BLAS on one thread, a short switch interval)."""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")
_END = object()


def ahead(items: Iterable[T], depth: int = 1, name: str = "manyi-ahead") -> Iterator[T]:
    """The items of ``items`` in order, each made on a thread of its own up to ``depth`` items
    ahead of the caller. An exception raised while making an item is raised in the caller at
    that item; closing the iterator (or leaving it early) stops the thread."""
    q: queue.Queue = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                q.put((True, item))
            q.put((True, _END))
        except BaseException as exc:  # handed to the caller
            q.put((False, exc))

    th = threading.Thread(target=work, daemon=True, name=name)
    th.start()
    try:
        while True:
            ok, item = q.get()
            if not ok:
                raise item
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        while th.is_alive():  # let the thread see the flag (it may wait to put an item)
            try:
                q.get(timeout=0.05)
            except queue.Empty:
                pass


#: The interpreter's switch interval (seconds) while work runs on several threads at once: a
#: thread back from an array operation waits at most this long for one that holds the
#: interpreter. At Python's default (5 ms) two bootstrap blocks of 2,500 PLS resamples side
#: by side took 79–81 ms (median 87–92 ms) on two cores, at 0.5 ms 62–69 ms (median 65–83 ms;
#: one block alone: 60–68 ms).
SWITCH_INTERVAL = 0.0005

_hold_lock = threading.Lock()
_holders = 0
_blas_limits: Any = None
_blas_libraries: Any = None  # threadpoolctl's view of the loaded libraries, looked up once
_switch: float | None = None  # the interval before the first holder


def parallel_hold() -> None:
    """Settings for array work on several threads at once, until every holder has let go
    (:func:`parallel_release`): BLAS on one thread (the threads are the parallel work; its own
    would compete with them for the cores), and the interpreter's switch interval at most
    :data:`SWITCH_INTERVAL`. Work that runs at once on several threads (a bootstrap's blocks,
    a server's requests) shares them, and the last holder gives back what the process had.
    The process's libraries are looked up on the first hold only (a millisecond or more)."""
    global _holders, _blas_limits, _blas_libraries, _switch
    with _hold_lock:
        if _holders == 0:
            if _blas_libraries is None:
                from threadpoolctl import ThreadpoolController

                _blas_libraries = ThreadpoolController()
            _blas_limits = _blas_libraries.limit(limits=1, user_api="blas")
            _switch = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch, SWITCH_INTERVAL))
        _holders += 1


def parallel_release() -> None:
    global _holders, _blas_limits, _switch
    with _hold_lock:
        _holders -= 1
        if _holders == 0:
            if _blas_limits is not None:
                _blas_limits.restore_original_limits()
                _blas_limits = None
            if _switch is not None:
                sys.setswitchinterval(_switch)
                _switch = None


@contextmanager
def parallel_section() -> Iterator[None]:
    """:func:`parallel_hold` for the duration of a ``with`` block."""
    parallel_hold()
    try:
        yield
    finally:
        parallel_release()
