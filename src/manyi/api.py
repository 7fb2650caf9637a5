"""The Python API: ``load_instrument``, ``read_responses``, ``score`` and the use cases.

It re-exports what ``manyi.services`` and ``manyi.io`` offer; nothing below imports it.
"""

from __future__ import annotations

from manyi.io.instruments import load_instrument
from manyi.io.responses import read_responses
from manyi.services.analysis import analyze, analyze_file
from manyi.services.model import fit_model_file
from manyi.services.requests import (
    AnalysisOptions,
    AnalyzeRequest,
    FitModelRequest,
    SampleRequest,
    ScoreRequest,
    Source,
    WeightRequest,
)
from manyi.services.sampling import plan_sample
from manyi.services.scoring import score, score_file
from manyi.services.weighting import weight_file

__all__ = [
    "AnalysisOptions",
    "AnalyzeRequest",
    "FitModelRequest",
    "SampleRequest",
    "ScoreRequest",
    "Source",
    "WeightRequest",
    "analyze",
    "analyze_file",
    "fit_model_file",
    "load_instrument",
    "plan_sample",
    "read_responses",
    "score",
    "score_file",
    "weight_file",
]
