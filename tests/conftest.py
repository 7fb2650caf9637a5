from __future__ import annotations

from pathlib import Path

import pytest

from manyi.io.instruments import example_path, load_example


@pytest.fixture
def after_sales():
    return load_example("after-sales")


@pytest.fixture
def b2b():
    return load_example("b2b-shipping")


@pytest.fixture
def examples_dir() -> Path:
    return example_path("after-sales").parent
