"""Use case: a sampling plan from a customer list (``manyi sample``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from manyi.core.sampling import draw, size_for_mean, size_for_rate, size_stratified, stratum_sds
from manyi.i18n import ManyiError, Message
from manyi.io.responses import read_table


@dataclass
class SamplePlan:
    population: int
    n: int  # the planned size (given, or from the margin of error)
    sample: pd.DataFrame  # the drawn rows, with design_weight (and stratum)
    method: str
    seed: int
    sizes: pd.Series | None = None  # stratum sizes in the population


def plan_sample(
    customers: str | Path,
    n: int = 0,
    moe: float = 0.0,
    rate: float = 0.5,
    sd: float = 0.0,
    method: str = "srs",
    strata: str | None = None,
    allocation: str = "proportional",
    sd_column: str | None = None,
    deff: float = 1.0,
    seed: int = 1,
) -> SamplePlan:
    """Read the list, find the sample size and draw the sample.

    Without ``n`` the size follows from ``moe``: for a stratified design from the stratified
    variance (Cochran 1977, eq. 5.25) with each stratum's SD taken from ``sd_column``, else
    ``sd``, else √(rate(1 − rate)); otherwise Cochran's simple-random formula with the finite
    population correction. ``deff`` multiplies the size (clustering, weighting).
    """
    frame = read_table(customers)
    N = len(frame)
    if N == 0:
        raise ManyiError(Message("sample.empty", {"file": Path(customers).name}))
    if n < 0 or (n == 0 and not moe):
        if n < 0:
            raise ManyiError(Message("sample.bad_n", {"value": n}))
        raise ManyiError(
            Message(
                "an.bad_option", {"option": "--n/--moe", "value": "", "choices": "--n N or --moe E"}
            )
        )
    sizes = None
    if method == "stratified" and strata:
        if strata not in frame:
            raise ManyiError(
                Message(
                    "sample.unknown_column",
                    {"column": strata, "have": ", ".join(map(str, frame.columns[:10]))},
                )
            )
        sizes = frame[strata].value_counts(dropna=False).sort_index()
    if not n:
        if sizes is not None:
            if sd_column:
                sds = stratum_sds(frame, strata, sd_column)  # type: ignore[arg-type]
            elif sd:
                size_for_mean(moe, sd)  # checks moe and sd
                sds = np.full(len(sizes), sd)
            else:
                size_for_rate(moe, rate)  # checks moe and rate
                sds = np.full(len(sizes), np.sqrt(rate * (1 - rate)))
            n = size_stratified(moe, sizes.to_numpy(), sds, allocation, deff=deff)
        elif sd:
            n = size_for_mean(moe, sd, population=N, deff=deff)
        else:
            n = size_for_rate(moe, rate, population=N, deff=deff)
    picked = draw(frame, n, method, strata, allocation, sd_column, seed)
    return SamplePlan(N, int(n), picked, method, seed, sizes)
