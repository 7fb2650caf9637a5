"""The ``manyi`` command line: parses, calls ``manyi.services``, renders with
``manyi.present``; holds no business rules. One module per command group."""

from __future__ import annotations

import atexit
import gc

from manyi.cli import analyze, calendar, cases, model, plan, report, score, store  # noqa: F401 - the commands register
from manyi.cli.common import app
from manyi.cli.root import main

# The objects the imports create (modules, classes and functions of pandas, numpy, pydantic, ...:
# some 80,000) live as long as the process. Moved out of the cycle collector's sight, they are
# not walked by every full collection of a command, and not by the collections of the
# interpreter's exit (0.1-0.2 s per command here): frozen once the commands are imported, and
# everything alive is frozen again when the process ends (the other exit handlers still run;
# the operating system takes back memory and files either way).
gc.freeze()
atexit.register(gc.freeze)

__all__ = ["app", "main"]
