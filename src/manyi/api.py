"""The Python API: ``load_instrument``, ``read_responses``, ``score``."""

from __future__ import annotations

import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.scoring import ScoreResult, score_frame
from manyi.io.instruments import load_instrument
from manyi.io.responses import ResponseSet, read_responses, validate_frame

__all__ = ["load_instrument", "read_responses", "score"]


def score(
    responses: ResponseSet | pd.DataFrame,
    instrument: Instrument | None = None,
    by: list[str] | str | None = None,
    period: str | None = None,
    weights: str | None = None,
) -> ScoreResult:
    """Score responses: per respondent and per group (``by`` segment columns, ``period``).

    ``responses`` is what :func:`read_responses` returned, or a raw DataFrame in the file
    layout (it is validated leniently first). Returns a :class:`ScoreResult` with
    ``.groups``, ``.respondents``, ``.gaps``, ``.total`` and ``.to_dict()``.
    """
    if isinstance(by, str):
        by = [b.strip() for b in by.split(",") if b.strip()]
    if isinstance(responses, pd.DataFrame):
        if instrument is None:
            raise TypeError(
                "score(DataFrame, instrument): the instrument is needed for a DataFrame"
            )
        responses = validate_frame(responses, instrument)
    inst = instrument or responses.instrument
    result = score_frame(inst, responses.data, by=by, period=period, weights=weights)
    result.report = responses.report
    result.rejected = [i.to_dict() for i in responses.report.issues]
    result.warnings = list(responses.report.warnings) + result.warnings
    return result
