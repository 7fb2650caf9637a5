"""The ``manyi`` command line: parses, calls ``manyi.services``, renders with
``manyi.present``; holds no business rules. One module per command group."""

from __future__ import annotations

from manyi.cli import analyze, calendar, cases, model, plan, report, score, store  # noqa: F401 - the commands register
from manyi.cli.common import app
from manyi.cli.root import main

__all__ = ["app", "main"]
