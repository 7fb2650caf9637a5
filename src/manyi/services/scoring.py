"""Use case: score a response file against an instrument and export the result."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import ManyiError, Message
from manyi.core.scoring import ScoreResult, score_frame
from manyi.io.instruments import load_instrument
from manyi.io.responses import (
    ResponseSet,
    ValidationReport,
    merge_reports,
    read_responses,
    validate_frame,
)
from manyi.services.requests import ReadOptions, ScoreRequest, Source

FORMATS = ("table", "csv", "json", "xlsx")
T = TypeVar("T")


def score(
    responses: ResponseSet | pd.DataFrame,
    instrument: Instrument | None = None,
    by: list[str] | str | None = None,
    period: str | None = None,
    weights: str | None = None,
) -> ScoreResult:
    """Score responses: per respondent and per group (``by`` segment columns, ``period``).

    Definitions and sources: docs/scoring.md (weighted indices, Wilson intervals for rates,
    Reichheld's NPS with its SE, Kish's effective n with weights).

    Parameters
    ----------
    responses:
        What :func:`manyi.read_responses` returned, or a raw DataFrame in the file layout
        (validated leniently first).
    instrument:
        Needed with a DataFrame.
    by:
        Segment columns (a list, or ``"a,b"``).
    period:
        ``month``, ``quarter`` or ``year`` of ``submitted_at``.
    weights:
        A column of respondent weights.

    Returns a :class:`ScoreResult` with ``.groups``, ``.respondents``, ``.gaps``, ``.total``,
    ``.to_dict()`` and ``.as_result()``.

    Examples
    --------
    >>> import manyi
    >>> from manyi import datasets
    >>> from manyi.io.instruments import example_path
    >>> inst = manyi.load_instrument(example_path("after-sales"))
    >>> res = manyi.score(datasets.after_sales(n=200, seed=1, clean=True), inst, by="tier")
    >>> list(res.groups["tier"])
    ['vip', 'regular']
    >>> int(res.total["n"].iloc[0]), bool(res.total["csi_ci_low"].iloc[0] < res.total["csi"].iloc[0])
    (200, True)
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
    return with_report(score_frame(inst, responses.data, by=by, period=period, weights=weights),
                       responses.report)


def with_report(result: ScoreResult, report: ValidationReport) -> ScoreResult:
    """A scorecard with the validation report of its responses: the rejected values, and the
    report's warnings first among the result's."""
    result.report = report
    result.rejected = [i.to_dict() for i in report.issues]
    result.warnings = list(report.warnings) + result.warnings
    return result


def load(source: Source) -> Instrument:
    """The instrument of a request."""
    return load_instrument(source.path if source.path is not None else source.data, source.name)


def read(source: Source, inst: Instrument, opts: ReadOptions, chunked: bool = True) -> ResponseSet:
    """The responses of a request, read and validated (headers renamed by the column map;
    ``chunked=False``: a large CSV read whole, where chunks were already declined)."""
    columns = _column_map(opts)
    if _as_dataset(source, opts):
        from manyi.services.distributed import read_dataset

        return read_dataset(
                str(source.path), inst, strict=opts.strict, date_format=opts.date_format,
                columns=columns, engine=opts.engine, scheduler=opts.scheduler,
            )
    return read_responses(
        source.path if source.path is not None else source.data,
        inst,
        strict=opts.strict,
        date_format=opts.date_format,
        sheet=opts.sheet,
        name=source.name,
        columns=columns,
        source=opts.source,
        header_row=opts.header_row,
        chunked=chunked,
    )


def _as_dataset(source: Source, opts: ReadOptions) -> bool:
    """Whether the responses are read as a Parquet dataset's parts: a folder, glob or URL, or
    any Parquet file with ``--engine dask`` (another file with it is a mistake)."""
    if source.path is None:
        return False
    from manyi.io.parts import is_dataset

    if is_dataset(source.path):
        return True
    if opts.engine == "local":
        return False
    if Path(source.path).suffix.lower() != ".parquet":
        raise ManyiError(Message("parts.not_parquet", {"path": str(source.path)}))
    return True


def _column_map(opts: ReadOptions) -> dict[str, str] | None:
    if opts.columns is None:
        return None
    from manyi.io.responses import load_column_map

    m = opts.columns
    return load_column_map(m.path if m.path is not None else m.data, m.name)


#: mistakes in the options that any chunk shows as the whole file would (no second read)
_OPTION_MISTAKES = {"score.unknown_by", "score.unknown_weights", "score.bad_period"}


def chunk_reductions(
    path: Path | None,
    inst: Instrument,
    read: ReadOptions,
    reduce: Callable[[ResponseSet], T],
    first: Callable[[ResponseSet], None] | None = None,
    say_now: Callable[[ManyiError], bool] = lambda exc: False,
) -> tuple[list[T], ValidationReport] | None:
    """A large CSV reduced chunk by chunk (``manyi.io.chunks``): ``reduce`` of each validated
    chunk, and the chunks' validation reports merged. None where the file must be read whole
    (small files, other formats, anything a chunk cannot decide alone, an id met in two
    chunks, a mistake met in the data or by ``reduce``: the whole-file reader then says it
    exactly, with its counts and first rows). Said at once instead: what ``first`` raises on
    the first chunk and the mistakes of ``reduce`` that ``say_now`` names (mistakes in the
    options, the same for every chunk)."""
    from manyi.io.chunks import WholeFile, id_hashes, repeated, response_chunks

    if path is None:
        return None
    out: list[T] = []
    reports, ids = [], []
    said: ManyiError | None = None
    chunks = response_chunks(
        path, inst, strict=read.strict, date_format=read.date_format, columns=_column_map(read),
        source=read.source, header_row=read.header_row,
    )
    try:
        for rs in chunks:
            try:
                if first is not None and not reports:
                    first(rs)
                reports.append(rs.report)
                ids.append(id_hashes(rs))
                out.append(reduce(rs))
            except ManyiError as exc:
                if say_now(exc) or (first is not None and not reports):
                    said = exc
                    break
                return None
    except (ManyiError, WholeFile):  # met while reading a chunk
        return None
    finally:
        chunks.close()
    if said is not None:
        raise said
    if repeated(ids):
        return None
    return out, merge_reports(reports)


def score_chunks(req: ScoreRequest, inst: Instrument) -> ScoreResult | None:
    """A large CSV scored chunk by chunk (:func:`chunk_reductions`): each chunk reduced to
    group sums, the sums added up exactly; memory bounded by the chunk. None where the file
    must be read whole; a mistake in the grouping or weighting options is said at once."""
    from manyi.core.scoring import finish, merge_partials, partial_frame

    got = chunk_reductions(
        req.responses.path, inst, req.read,
        lambda rs: partial_frame(inst, rs.data, req.by, req.period, req.weights, req.respondents)
        if len(rs) else None,
        say_now=lambda exc: bool({m.key for m in exc.messages} & _OPTION_MISTAKES),
    )
    if got is None:
        return None
    parts = [p for p in got[0] if p is not None]
    if not parts:
        return None
    return with_report(finish(inst, merge_partials(parts)), got[1])


def score_file(req: ScoreRequest) -> ScoreResult:
    """The use case behind ``manyi score``: load the instrument, read and validate the
    responses (a large CSV in chunks), score them, and test changes against the previous
    period if asked."""
    inst = load(req.instrument)
    if _as_dataset(req.responses, req.read):
        from manyi.services.distributed import score_dataset

        result = score_dataset(req, inst, _column_map(req.read))
    else:
        result = score_chunks(req, inst) or _score_whole(req, inst)
    if req.compare:
        compare_previous(result, req.compare)
    return result


def _score_whole(req: ScoreRequest, inst: Instrument) -> ScoreResult:
    """The responses read whole (where the chunks declined) and scored."""
    rs = read(req.responses, inst, req.read, chunked=False)  # chunks declined: read it whole
    if len(rs) == 0:
        first = rs.report.issues[:1]
        summary = rs.report.summary() + ("; " + first[0].render(rs.report.source) if first else "")
        raise ManyiError(Message("score.no_rows", {"file": rs.report.source, "summary": summary}))
    return score(rs, by=req.by, period=req.period, weights=req.weights)


def to_json(result: ScoreResult, lang: str | None = None) -> str:
    return json.dumps(result.to_dict(lang), ensure_ascii=False, indent=2, allow_nan=False)


def groups_frame(result: ScoreResult) -> pd.DataFrame:
    """The group table with the total appended as the last row (keys empty)."""
    if not result.keys:
        return result.groups
    return pd.concat([result.groups, result.total], ignore_index=True)


def rejected_frame(result: ScoreResult) -> pd.DataFrame:
    cols = ["row", "column", "value", "reason"]
    if any("file" in r for r in result.rejected):  # a dataset's parts: the file of each row
        cols = ["file", *cols]
    return pd.DataFrame(result.rejected, columns=cols)


def write_xlsx(result: ScoreResult, path: str | Path, lang: str | None = None) -> None:
    """Scorecard workbook: groups (with total), gaps, rejected values and rows."""
    inst = result.instrument
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        groups_frame(result).to_excel(xw, sheet_name="groups", index=False)
        if len(result.gaps):
            result.gaps.to_excel(xw, sheet_name="gaps", index=False)
        rejected_frame(result).to_excel(xw, sheet_name="rejected", index=False)
        labels = pd.DataFrame(
            [("dimension", d.id, d.label.zh, d.label.en) for d in inst.dimensions]
            + [("item", i.id, i.text.zh, i.text.en) for i in inst.items],
            columns=["kind", "id", "zh", "en"],
        )
        labels.to_excel(xw, sheet_name="labels", index=False)


def write_respondents(result: ScoreResult, path: str | Path) -> None:
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        result.respondents.to_excel(p, index=False)
    elif p.suffix.lower() == ".parquet":
        result.respondents.to_parquet(p, index=False)
    else:
        result.respondents.to_csv(p, index=False, encoding="utf-8-sig")


def export(
    result: ScoreResult, fmt: str, output: str | Path | None, lang: str | None = None
) -> str | None:
    """Write ``result`` as csv/json/xlsx to ``output``; return the text when there is no file."""
    if fmt not in FORMATS:
        raise ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": ", ".join(FORMATS)}))
    if fmt == "xlsx":
        if output is None:
            raise ManyiError(Message("cli.xlsx_needs_output"))
        write_xlsx(result, output, lang)
        return None
    text: str
    if fmt == "json":
        text = to_json(result, lang) + "\n"
    else:
        text = groups_frame(result).to_csv(index=False)
    if output is not None:
        Path(output).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        return None
    return text


def compare_previous(
    result: ScoreResult, mode: str = "previous", alpha: float = 0.05
) -> ScoreResult:
    """Mark significant changes of each group against its previous period (same other keys).

    Adds to ``result.groups``: ``prev_period``; ``csi_change`` with Welch's t ``csi_change_p``;
    ``rate_change`` with the two-proportion z ``rate_change_p``; ``nps_change`` with its z test
    ``nps_change_p`` (Var = SE_a² + SE_b²); and ``change_significant`` (any p below ``alpha``
    after Holm's adjustment over all the comparisons). The tests work from the groups' own
    statistics, so with ``weights`` they use the weighted means, rates and NPS and Kish's
    effective n, as the scorecard does.
    """
    import numpy as np

    from manyi.core.analysis import holm
    from manyi.core.compare import two_proportion_z
    from manyi.core.stats import nps_difference
    from manyi.core.wstats import welch_from_stats

    if mode != "previous":
        raise ManyiError(
            Message("an.bad_option", {"option": "--compare", "value": mode, "choices": "previous"})
        )
    if "period" not in result.keys:
        raise ManyiError(Message("score.compare_needs_period"))
    others = [k for k in result.keys if k != "period"]
    g = result.groups
    names = ("csi_change", "csi_change_p", "rate_change", "rate_change_p")
    cols = {c: [np.nan] * len(g) for c in names + ("nps_change", "nps_change_p")}
    prev_col: list[object] = [None] * len(g)
    latest: dict[tuple, int] = {}  # other keys → the last group seen (groups are sorted by period)
    order = sorted(
        (i for i in range(len(g)) if isinstance(g["period"].iloc[i], str)),
        key=lambda i: str(g["period"].iloc[i]),
    )
    for i in order:
        key = tuple(g[k].iloc[i] for k in others)
        j = latest.get(key)
        latest[key] = i
        if j is None:
            continue
        a, b = g.iloc[j], g.iloc[i]
        prev_col[i] = a["period"]
        if a["n_eff"] >= 2 and b["n_eff"] >= 2:
            cols["csi_change"][i] = float(b["csi"] - a["csi"])
            cols["csi_change_p"][i] = welch_from_stats(
                a["csi"], a["csi_sd"], a["n_eff"], b["csi"], b["csi_sd"], b["n_eff"]
            )[2]
        if a["n_eff"] > 0 and b["n_eff"] > 0:
            ra, rb = a["satisfied_rate"], b["satisfied_rate"]
            cols["rate_change"][i] = float(rb - ra)
            cols["rate_change_p"][i] = two_proportion_z(
                rb * b["n_eff"], b["n_eff"], ra * a["n_eff"], a["n_eff"]
            )[1]
        if "nps_se" in g and a["nps_n"] > 0 and b["nps_n"] > 0:
            d, _, _, p, _, _ = nps_difference(a["nps"], a["nps_se"], b["nps"], b["nps_se"])
            cols["nps_change"][i], cols["nps_change_p"][i] = float(d), float(p)
    g["prev_period"] = pd.Series(prev_col, index=g.index, dtype=object)
    for c, v in cols.items():
        g[c] = v
    ps = [g[c].to_numpy(float) for c in ("csi_change_p", "rate_change_p", "nps_change_p")]
    pa = holm(np.concatenate(ps))
    n = len(g)
    sig = np.zeros(n, dtype=bool)
    for k in range(3):
        sig |= np.nan_to_num(pa[k * n : (k + 1) * n], nan=1.0) < alpha
    g["change_significant"] = [
        bool(s) if p is not None else None for s, p in zip(sig, prev_col, strict=True)
    ]
    return result
