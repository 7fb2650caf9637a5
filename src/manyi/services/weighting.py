"""Use case: weight a response file to population margins (``manyi weight``)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult
from manyi.core.messages import ManyiError, Message
from manyi.core.weighting import (
    margin_notes,
    poststratify,
    rake,
    read_margins,
    trim_and_rake,
    weighting_report,
)
from manyi.io.responses import read_table, validate_frame
from manyi.services.requests import WeightRequest

METHODS = ("rake", "poststratify")


@dataclass
class Weighted:
    """The response file as read, with a ``weight`` column (NaN for rows without a weight),
    the weighting report and warnings."""

    table: pd.DataFrame
    report: AnalysisResult
    warnings: list[Message] = field(default_factory=list)

    def as_result(self) -> AnalysisResult:
        """The weighting report (kind ``weighting``): margins and summary tables."""
        return self.report


def weight_file(req: WeightRequest) -> Weighted:
    """The use case behind ``manyi weight``: read and validate the responses, map margin
    categories written as choice labels to their codes, weight by raking (or
    post-stratification on one variable), then trim to ``[floor, cap]`` × the mean weight with
    re-raking. Responses whose margin variables are missing, and rows rejected by the
    validation, get no weight (a warning counts them)."""
    from manyi.services.scoring import load

    method, cap, floor = req.method, req.cap, req.floor
    if method not in METHODS:
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "--method", "value": method, "choices": ", ".join(METHODS)},
            )
        )
    inst = load(req.instrument)
    r, m = req.responses, req.margins
    raw = read_table(
        r.path if r.path is not None else r.data,
        sheet=req.read.sheet,
        want=set(inst.item_ids),
        name=r.name,
    )
    checked = validate_frame(raw, inst, source=r.label, date_format=req.read.date_format)
    data = checked.data
    marg = read_margins(read_table(m.path if m.path is not None else m.data, name=m.name), m.label)
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
                        "choices": Message("choice.one_variable"),
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
