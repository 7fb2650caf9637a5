"""manyi (满意): customer-satisfaction management — measure, analyse, act, retain, report.

The public names are loaded on first use (PEP 562), so that ``manyi --help`` starts quickly.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "load_instrument": "manyi.api",
    "read_responses": "manyi.api",
    "score": "manyi.api",
    "score_file": "manyi.api",
    "analyze": "manyi.api",
    "analyze_file": "manyi.api",
    "fit_model_file": "manyi.api",
    "weight_file": "manyi.api",
    "plan_sample": "manyi.api",
    "Source": "manyi.api",
    "ScoreRequest": "manyi.api",
    "AnalyzeRequest": "manyi.api",
    "FitModelRequest": "manyi.api",
    "WeightRequest": "manyi.api",
    "SampleRequest": "manyi.api",
    "AnalysisOptions": "manyi.api",
    "Result": "manyi.core.result",
    "Instrument": "manyi.core.instrument",
    "PLSModel": "manyi.core.pls",
    "PLSResult": "manyi.core.pls",
    "ScoreResult": "manyi.core.scoring",
    "ManyiError": "manyi.i18n",
    "ResponseSet": "manyi.io.responses",
    "ValidationReport": "manyi.io.responses",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    if name == "datasets":
        return importlib.import_module("manyi.datasets")
    raise AttributeError(f"module 'manyi' has no attribute {name!r}")
