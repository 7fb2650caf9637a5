"""Work done one step ahead on a thread of its own: for steps that let go of the interpreter
while they run (pyarrow parsing a block of a file, numpy drawing random numbers), so that they
overlap the caller's work on the step before. And the BLAS library held to one thread while
such threads keep the cores busy (:func:`blas_hold`)."""

from __future__ import annotations

import queue
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


_blas_lock = threading.Lock()
_blas_holders = 0
_blas_limits: Any = None
_blas_libraries: Any = None  # threadpoolctl's view of the loaded libraries, looked up once


def blas_hold() -> None:
    """BLAS on one thread until every holder has let go (:func:`blas_release`): work that
    runs at once on several threads (a bootstrap's blocks, a server's requests) shares the
    limit, and the last holder gives back the threads the process had. The process's
    libraries are looked up on the first hold only (a millisecond or more each time)."""
    global _blas_holders, _blas_limits, _blas_libraries
    with _blas_lock:
        if _blas_holders == 0:
            if _blas_libraries is None:
                from threadpoolctl import ThreadpoolController

                _blas_libraries = ThreadpoolController()
            _blas_limits = _blas_libraries.limit(limits=1, user_api="blas")
        _blas_holders += 1


def blas_release() -> None:
    global _blas_holders, _blas_limits
    with _blas_lock:
        _blas_holders -= 1
        if _blas_holders == 0 and _blas_limits is not None:
            _blas_limits.restore_original_limits()
            _blas_limits = None


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """:func:`blas_hold` for the duration of a ``with`` block."""
    blas_hold()
    try:
        yield
    finally:
        blas_release()
