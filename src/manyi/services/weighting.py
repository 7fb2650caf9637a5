"""Use case: weight a response file to population margins (``manyi weight``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult
from manyi.core.weighting import (
    margin_notes,
    poststratify,
    rake,
    read_margins,
    trim_and_rake,
    weighting_report,
)
from manyi.i18n import ManyiError, Message
from manyi.io.instruments import load_instrument
from manyi.io.responses import read_table, validate_frame

METHODS = ("rake", "poststratify")


@dataclass
class Weighted:
    """The response file as read, with a ``weight`` column (NaN for rows without a weight),
    the weighting report and warnings."""

    table: pd.DataFrame
    report: AnalysisResult
    warnings: list[Message] = field(default_factory=list)


def weight_file(
    responses: str | Path,
    instrument: str | Path,
    margins: str | Path,
    method: str = "rake",
    cap: float | None = None,
    floor: float | None = None,
    date_format: str | None = None,
    sheet: str | None = None,
) -> Weighted:
    """Read and validate the responses, map margin categories written as choice labels to
    their codes, weight by raking (or post-stratification on one variable), then trim to
    ``[floor, cap]`` × the mean weight with re-raking. Responses whose margin variables are
    missing, and rows rejected by the validation, get no weight (a warning counts them)."""
    if method not in METHODS:
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "--method", "value": method, "choices": ", ".join(METHODS)},
            )
        )
    inst = load_instrument(instrument)
    raw = read_table(responses, sheet=sheet, want=set(inst.item_ids))
    checked = validate_frame(raw, inst, source=Path(responses).name, date_format=date_format)
    data = checked.data
    marg = read_margins(read_table(margins), Path(margins).name)
    warnings: list[Message] = margin_notes(marg)
    for var in list(marg):  # categories may be written as choice labels (北京) or codes
        try:
            codes = inst.question(var).choice_codes()
        except KeyError:
            continue
        marg[var] = {codes.get(str(c).strip().lower(), c): v for c, v in marg[var].items()}
    rows = checked.rows
    if all(v in data for v in marg):
        usable = data[list(marg)].notna().all(axis=1).to_numpy()
        if not usable.all():
            warnings.append(Message("wt.left_out", {"n": int((~usable).sum())}))
            rows = rows[usable]
            data = data[usable].reset_index(drop=True)
    if method == "rake":
        w, sweeps = rake(data, marg)
    else:
        var = list(marg)
        if len(var) != 1:
            raise ManyiError(
                Message(
                    "an.bad_option",
                    {
                        "option": "--method poststratify",
                        "value": ", ".join(var),
                        "choices": "one variable (use rake for several)",
                    },
                )
            )
        pop = pd.DataFrame({var[0]: list(marg[var[0]]), "share": list(marg[var[0]].values())})
        w, sweeps = poststratify(data, var, pop), 1
    trim = None
    if cap is not None or floor is not None:
        w, trim = trim_and_rake(data, marg, w, cap, floor)
    report = weighting_report(data, w, marg, method, sweeps, trim)
    table = raw.copy()
    col = np.full(len(raw), np.nan)
    col[rows - 2] = w  # rows rejected by the validation get no weight
    table["weight"] = col
    return Weighted(table, report, warnings + report.warnings)
