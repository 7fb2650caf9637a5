"""How far a long read has got: the reader calls :func:`step`; nothing happens unless a
front end has installed a reporter with :func:`reporting` (the command line does, on
terminals only, with a Rich progress bar: nothing is written to pipes and files).

A reporter is a callable ``(stage, done, total, unit)``: ``stage`` a message key
(``progress.read``, ``progress.check``), ``done`` of ``total`` in ``unit`` (``bytes`` or
``columns``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Reporter = Callable[[str, int, int, str], None]

_current: ContextVar[Reporter | None] = ContextVar("manyi_progress", default=None)


def step(stage: str, done: int, total: int, unit: str = "columns") -> None:
    """Tell the installed reporter (if any) that ``done`` of ``total`` are through."""
    rep = _current.get()
    if rep is not None:
        rep(stage, done, total, unit)


@contextmanager
def reporting(reporter: Reporter | None) -> Iterator[None]:
    """Install ``reporter`` for the reads inside the ``with`` block."""
    token = _current.set(reporter)
    try:
        yield
    finally:
        _current.reset(token)
