"""The examples in the docstrings run as written (doctest)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "manyi.core.stats",
    "manyi.io.instruments",
    "manyi.io.responses",
    "manyi.services.scoring",
    "manyi.present.charts",
    "manyi.core.result",
    "manyi.i18n",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name):
    mod = importlib.import_module(name)
    res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert res.attempted > 0, f"{name} has no examples"
    assert res.failed == 0
