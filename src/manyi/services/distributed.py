"""Use case: score a Parquet dataset part by part, in this process or on a Dask cluster.

Each part (one Parquet file, :mod:`manyi.io.parts`) is read, validated and reduced to group
sums where it lies (:func:`score_part`); only the sums, the part's validation report and 64-bit
hashes of its response ids travel back. The client adds the sums in the parts' order
(:func:`manyi.core.scoring.merge_partials`), so the local engine and the Dask engine give the
same numbers, and both the numbers of one pass over all rows (to rounding, 1e-12).

Rejected values name their part and their row in it. A response id met in two parts is a
mistake (which row is "the later" depends on the parts' order): it is reported with both
places, and nothing is scored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import ManyiError, Message
from manyi.core.scoring import Partial, ScoreResult, finish, merge_partials, partial_frame
from manyi.io.parts import Part, dataset_parts, read_part
from manyi.io.responses import (
    ValidationReport,
    column_map,
    merge_reports,
    rename_columns,
    validate_frame,
)
from manyi.services.requests import ScoreRequest

ENGINES = ("local", "dask")


@dataclass
class PartResult:
    """What one part sends back: its sums (None when no row was usable), its report, and the
    hashes of the response ids it met."""

    partial: Partial | None
    report: ValidationReport
    hashes: np.ndarray


def validated_part(
    part: Part,
    inst: Instrument,
    strict: bool = False,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
):
    """One part read and validated (its issues naming the part)."""
    raw = read_part(part)
    notes = list(raw.attrs.get("warnings", []))
    raw = rename_columns(raw, column_map(inst, columns), part.name, notes)
    rs = validate_frame(raw, inst, source=part.name, strict=strict, date_format=date_format)
    for issue in rs.report.issues:
        issue.file = part.name
    rs.report.warnings = notes + rs.report.warnings
    return rs


def part_hashes(rs: Any) -> np.ndarray:
    """64-bit hashes of a part's ids, the same in every process (pandas' fixed-key hash;
    Python's own string hash, used across the chunks of one file, differs between processes)."""
    ids = rs.ids if rs.ids is not None else np.array([], dtype=object)
    return pd.util.hash_array(np.asarray(ids, dtype=object))


def score_part(
    part: Part,
    inst: Instrument,
    by: list[str],
    period: str | None,
    weights: str | None,
    respondents: bool = False,
    strict: bool = False,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
) -> PartResult:
    """Read, validate and sum one part (runs on a worker)."""
    rs = validated_part(part, inst, strict, date_format, columns)
    partial = partial_frame(inst, rs.data, by, period, weights, respondents) if len(rs) else None
    return PartResult(partial, rs.report, part_hashes(rs))


def read_part_clean(
    part: Part,
    inst: Instrument,
    strict: bool = False,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
) -> tuple[pd.DataFrame, ValidationReport, np.ndarray, np.ndarray]:
    """One part's clean rows, report, id hashes and used rows' numbers (runs on a worker)."""
    rs = validated_part(part, inst, strict, date_format, columns)
    return rs.data, rs.report, part_hashes(rs), rs.rows


def read_dataset(
    path: str,
    inst: Instrument,
    strict: bool = False,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
    engine: str = "local",
    scheduler: str | None = None,
):
    """A Parquet dataset's clean responses, its parts read and validated here or on Dask
    workers and put together in path order (what the analyses and the report read). The
    rows travel to the caller: memory is that of the whole clean table."""
    from manyi.io.responses import ResponseSet

    parts = dataset_parts(path)
    run = runner(engine, scheduler)
    try:
        got = run.map(read_part_clean, parts, inst=inst, strict=strict, date_format=date_format,
                      columns=columns)
        check_ids(run, parts, [g[2] for g in got], inst, columns)
    finally:
        run.close()
    frames = [g[0] for g in got]
    data = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    report = merge_reports([g[1] for g in got])
    report.source = str(path)
    return ResponseSet(data=data, instrument=inst, report=report, rows=np.concatenate([g[3] for g in got]))


def part_ids(part: Part, inst: Instrument, wanted: set[int], columns: dict[str, str] | None = None) -> list[tuple[str, int]]:
    """The ids of a part whose hash is in ``wanted``, with their rows (for the message)."""
    raw = rename_columns(read_part(part), column_map(inst, columns), part.name, [])
    if "response_id" not in raw:
        return []
    from manyi.io.responses import _as_text

    ids = _as_text(raw["response_id"]).to_numpy(dtype=object)
    present = np.array([v is not None for v in ids], dtype=bool)
    h = pd.util.hash_array(np.where(present, ids, "").astype(object))
    first = int(raw.attrs.get("first_row", 2))
    return [(str(ids[i]), first + i) for i in np.flatnonzero(present) if int(h[i]) in wanted]


class _Local:
    """Runs the parts one after the other in this process."""

    def map(self, fn: Any, items: list[Any], **kw: Any) -> list[Any]:
        from manyi.io.progress import step

        out = []
        for k, item in enumerate(items):
            out.append(fn(item, **kw))
            step("progress.parts", k + 1, len(items), "parts")
        return out

    def close(self) -> None:
        pass


class _Dask:
    """Runs the parts on a Dask cluster: the scheduler at ``address``, else a LocalCluster of
    one single-threaded worker process per core (closed afterwards)."""

    def __init__(self, address: str | None):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ManyiError(Message("parts.need_dask")) from None
        self.cluster = None
        if address:
            try:
                self.client = Client(address, timeout="10s")
            except (OSError, TimeoutError) as exc:
                raise ManyiError(
                    Message("parts.scheduler_unreachable", {"address": address, "detail": str(exc)})
                ) from None
        else:
            self.cluster = LocalCluster(
                n_workers=max(1, min(os.cpu_count() or 1, 8)), threads_per_worker=1,
                processes=True, dashboard_address=None,
            )
            self.client = Client(self.cluster)

    def map(self, fn: Any, items: list[Any], **kw: Any) -> list[Any]:
        from distributed import as_completed

        from manyi.io.progress import step

        futures = self.client.map(fn, items, pure=False, **kw)
        for k, _ in enumerate(as_completed(futures)):
            step("progress.parts", k + 1, len(items), "parts")
        return self.client.gather(futures)

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


_MOMENTS: dict[str, Any] = {}  # on a worker: the data's moments builder of a running fit


def _remote_block(token: str, data: Any, maps: int, counts: np.ndarray, lay: Any, scheme: str,
                  max_iter: int, tol: float) -> tuple[np.ndarray, ...]:
    """One block of bootstrap resamples on a worker (its data's moments builder made once per
    fit and kept while the fit runs)."""
    from manyi.core.pls import engine as eng
    from manyi.core.pls.inference import block_estimates

    mom = _MOMENTS.get(token)
    if mom is None:
        _MOMENTS.clear()  # one fit at a time per worker keeps its data
        Z, miss = data
        mom = _MOMENTS[token] = eng.Moments(Z, miss, maps=maps)
    return block_estimates(mom, counts, lay, scheme, max_iter, tol)


def _forget(token: str) -> None:
    _MOMENTS.pop(token, None)


class DaskBlocks:
    """The bootstrap's blocks of resamples on Dask workers (see
    ``manyi.core.pls.inference.LocalBlocks``): the data goes to every worker once; each block's
    row counts (drawn by the caller, one byte or integer per row and resample) go with it;
    back come the block's estimates. Two blocks per worker are in flight."""

    def __init__(self, client: Any):
        self.client = client
        self.inflight = 2 * max(1, len(client.scheduler_info().get("workers", {})))

    def start(self, Z: np.ndarray, miss: np.ndarray, maps: int) -> None:
        import uuid

        self.token = uuid.uuid4().hex
        self.data = self.client.scatter((Z, miss), broadcast=True)
        self.maps = maps

    def submit(self, counts: np.ndarray, lay: Any, scheme: str, max_iter: int, tol: float) -> Any:
        block = self.client.scatter(counts)  # sent as data, not inside the task's description
        return self.client.submit(
            _remote_block, self.token, self.data, self.maps, block, lay, scheme, max_iter, tol,
            pure=False,
        )

    def result(self, handle: Any) -> tuple[np.ndarray, ...]:
        return handle.result()

    def stop(self) -> None:
        self.client.run(_forget, self.token)


def check_engine(engine: str) -> None:
    if engine not in ENGINES:
        raise ManyiError(Message("parts.bad_engine", {"value": engine}))


def runner(engine: str, scheduler: str | None = None) -> _Local | _Dask:
    check_engine(engine)
    return _Dask(scheduler) if engine == "dask" else _Local()


def score_dataset(
    req: ScoreRequest, inst: Instrument, columns: dict[str, str] | None = None
) -> ScoreResult:
    """Score a Parquet dataset (``req.responses.path``: a folder, a glob or a URL) on the
    engine of ``req.read`` (``local`` or ``dask``, with a Dask scheduler's address)."""
    from manyi.services.scoring import with_report


    assert req.responses.path is not None
    parts = dataset_parts(str(req.responses.path))
    run = runner(req.read.engine, req.read.scheduler)
    try:
        kw = dict(
            inst=inst, by=list(req.by), period=req.period, weights=req.weights,
            respondents=req.respondents, strict=req.read.strict,
            date_format=req.read.date_format, columns=columns,
        )
        results: list[PartResult] = run.map(score_part, parts, **kw)
        check_ids(run, parts, [r.hashes for r in results], inst, columns)
    finally:
        run.close()
    report = merge_reports([r.report for r in results])
    report.source = str(req.responses.path)
    sums = [r.partial for r in results if r.partial is not None]
    if not sums:
        raise ManyiError(Message("score.no_rows", {"file": report.source, "summary": report.summary()}))
    return with_report(finish(inst, merge_partials(sums)), report)


def check_ids(
    run: _Local | _Dask,
    parts: list[Part],
    hashes: list[np.ndarray],
    inst: Instrument,
    columns: dict[str, str] | None,
) -> None:
    """Stop with both places when a response id is met in two parts (``hashes``: each part's
    id hashes, which are the same in every process)."""
    if len(hashes) < 2:
        return
    owner = np.concatenate([np.full(len(h), k) for k, h in enumerate(hashes)])
    h = np.concatenate(hashes)
    order = np.argsort(h, kind="stable")
    hs, ow = h[order], owner[order]
    same = (hs[1:] == hs[:-1]) & (ow[1:] != ow[:-1])
    if not same.any():
        return
    wanted = {int(x) for x in np.unique(hs[1:][same])}
    where = sorted({int(ow[i]) for i in np.flatnonzero(same)} | {int(ow[i + 1]) for i in np.flatnonzero(same)})
    found = run.map(part_ids, [parts[k] for k in where], inst=inst, wanted=wanted, columns=columns)
    seen: dict[str, tuple[str, int]] = {}
    repeated = []
    for k, pairs in zip(where, found, strict=True):
        for rid, row in pairs:
            if rid in seen and seen[rid][0] != parts[k].name:
                repeated.append((rid, seen[rid], (parts[k].name, row)))
            seen.setdefault(rid, (parts[k].name, row))
    if not repeated:  # equal hashes of different ids (about one in 10^19): nothing repeated
        return
    rid, (a, ra), (b, rb) = repeated[0]
    raise ManyiError(
        Message(
            "parts.repeated_id",
            {"id": rid, "a": a, "row_a": ra, "b": b, "row_b": rb, "n": len({r[0] for r in repeated})},
        )
    )
