"""Use case: fit a PLS path model (ACSI/ECSI) to a response file."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from manyi.core.pls import PLSResult
from manyi.io.models import load_model
from manyi.io.responses import read_table
from manyi.services.requests import FitModelRequest


def _is_dataset(path: object) -> bool:
    from manyi.io.parts import is_dataset

    return is_dataset(str(path))


def fit_model_file(
    req: FitModelRequest, progress: Callable[[int, int], None] | None = None
) -> PLSResult:
    """The use case behind ``manyi model fit``: load the model (and instrument, if the file
    is one), read the data, fit with a bootstrap (``progress(done, total)`` is called as it
    goes).

    With an instrument the responses are validated and reversed like for scoring; with a
    plain model file the item columns are taken as numbers. ``req.engine == "dask"`` computes
    the bootstrap's blocks of resamples on Dask workers (the counts are drawn here, from the
    same stream: the same seed gives the same intervals).
    """
    m = req.model
    pls, instrument = load_model(m.path if m.path is not None else m.data, m.name)
    d = req.data
    if instrument is not None:
        from manyi.services.scoring import read

        frame: pd.DataFrame = read(d, instrument, req.read).data
    elif d.path is not None and _is_dataset(d.path):  # a Parquet dataset's parts, in order
        from manyi.io.parts import dataset_parts, read_part

        frame = pd.concat([read_part(p) for p in dataset_parts(str(d.path))], ignore_index=True)
    else:
        frame = read_table(
            d.path if d.path is not None else d.data,
            sheet=req.read.sheet,
            want=set(pls.items),
            name=d.name,
        )
    if req.engine != "local":  # the cluster's module only where a cluster may be asked for
        from manyi.services.distributed import DaskBlocks, check_engine, runner

        check_engine(req.engine)
    if req.engine == "local" or not req.bootstrap:
        return pls.fit(
            frame, bootstrap=req.bootstrap, seed=req.seed, scheme=req.scheme, progress=progress
        )
    cluster = runner(req.engine, req.scheduler)
    try:
        return pls.fit(
            frame, bootstrap=req.bootstrap, seed=req.seed, scheme=req.scheme, progress=progress,
            runner=DaskBlocks(cluster.client),
        )
    finally:
        cluster.close()
