"""Use case: a sampling plan from a customer list (``manyi sample``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from manyi.core.messages import ManyiError, Message
from manyi.core.result import Result
from manyi.core.sampling import draw, size_for_mean, size_for_rate, size_stratified, stratum_sds
from manyi.io.responses import read_table
from manyi.services.requests import SampleRequest


@dataclass
class SamplePlan:
    population: int
    n: int  # the planned size (given, or from the margin of error)
    sample: pd.DataFrame  # the drawn rows, with design_weight (and stratum)
    method: str
    seed: int
    sizes: pd.Series | None = None  # stratum sizes in the population

    def as_result(self) -> Result:
        """Kind ``sample``: the drawn rows and, if stratified, the allocation."""
        tables = {"sample": self.sample}
        if self.sizes is not None and "stratum" in self.sample:
            got = self.sample.groupby("stratum", sort=True, dropna=False)
            tables["allocation"] = pd.DataFrame(
                {
                    "stratum": [str(k) for k in self.sizes.index],
                    "population": self.sizes.to_numpy(),
                    "n": [
                        len(got.get_group(k)) if k in got.groups else 0 for k in self.sizes.index
                    ],
                }
            )
        params = {
            "population": self.population,
            "n": self.n,
            "method": self.method,
            "seed": self.seed,
        }
        return Result("sample", len(self.sample), tables, params=params)


def plan_sample(req: SampleRequest) -> SamplePlan:
    """The use case behind ``manyi sample``: read the list, find the sample size, draw.

    Without ``n`` the size follows from ``moe``: for a stratified design from the stratified
    variance (Cochran 1977, eq. 5.25) with each stratum's SD taken from ``sd_column``, else
    ``sd``, else √(rate(1 − rate)); otherwise Cochran's simple-random formula with the finite
    population correction. ``deff`` multiplies the size (clustering, weighting).
    """
    n, moe, rate, sd, method = req.n, req.moe, req.rate, req.sd, req.method
    strata, allocation, sd_column, deff, seed = (
        req.strata,
        req.allocation,
        req.sd_column,
        req.deff,
        req.seed,
    )
    c = req.customers
    customers = c.label
    frame = read_table(c.path if c.path is not None else c.data, name=c.name)
    N = len(frame)
    if N == 0:
        raise ManyiError(Message("sample.empty", {"file": customers}))
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
