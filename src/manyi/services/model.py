"""Use case: fit a PLS path model (ACSI/ECSI) to a response file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from manyi.core.pls import PLSResult
from manyi.io.models import load_model
from manyi.io.responses import read_responses, read_table


def fit_model_file(
    model: str | Path,
    data: str | Path,
    scheme: str | None = None,
    bootstrap: int = 5000,
    seed: int | None = 1,
    progress: Callable[[int, int], None] | None = None,
    date_format: str | None = None,
    sheet: str | None = None,
) -> PLSResult:
    """Load the model (and instrument, if the file is one), read the data, fit.

    With an instrument the responses are validated and reversed like for scoring; with a
    plain model file the item columns are taken as numbers.
    """
    pls, instrument = load_model(model)
    if instrument is not None:
        frame: pd.DataFrame = read_responses(
            data, instrument, date_format=date_format, sheet=sheet
        ).data
    else:
        frame = read_table(data, sheet=sheet, want=set(pls.items))
    return pls.fit(frame, bootstrap=bootstrap, seed=seed, scheme=scheme, progress=progress)
