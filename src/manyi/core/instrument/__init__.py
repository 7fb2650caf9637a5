"""Survey definitions (instruments): the YAML format, its validation and derived views.

The format is documented in ``docs/instruments.md``. Loading happens in two stages: pydantic
checks the structure and types, then :func:`semantic_errors` checks what types cannot (scale
references, weight sums, unique ids). All errors are collected with their YAML path, and the
loader adds the line number, so a user sees every mistake at once.

This module does no I/O and reads no YAML: :func:`build_instrument` takes the parsed document
(:func:`manyi.io.instruments.parse_instrument` reads the text).

Modules: ``spec`` (the document's models, built-in scales), ``view`` (:class:`Instrument`),
``validate`` (:func:`build_instrument`, :func:`semantic_errors`).
"""

from __future__ import annotations

from manyi.core.instrument.spec import (
    BUILTIN_SCALES,
    RESERVED_COLUMNS,
    SLUG,
    Choice,
    Dimension,
    InstrumentSpec,
    Item,
    KanoPair,
    Question,
    Scale,
    Scoring,
    Text,
)
from manyi.core.instrument.validate import (
    YamlPath,
    build_instrument,
    format_path,
    semantic_errors,
    weight_notes,
)
from manyi.core.instrument.view import Instrument, ItemView

__all__ = [
    "BUILTIN_SCALES",
    "RESERVED_COLUMNS",
    "SLUG",
    "Choice",
    "Dimension",
    "Instrument",
    "InstrumentSpec",
    "Item",
    "ItemView",
    "KanoPair",
    "Question",
    "Scale",
    "Scoring",
    "Text",
    "YamlPath",
    "build_instrument",
    "format_path",
    "semantic_errors",
    "weight_notes",
]
