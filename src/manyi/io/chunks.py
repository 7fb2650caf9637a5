"""Large CSV files read and validated in chunks, with memory bounded by the chunk size.

:func:`response_chunks` yields one validated :class:`~manyi.io.responses.ResponseSet` per
block of the file (pyarrow's streaming reader parses the next block on other threads while the
current one is validated and scored). Every chunk is validated as the whole-file reader would
validate those rows (same row numbers, same messages); the file is read whole instead
(:class:`WholeFile` is raised, before or while chunks are read) wherever a chunk alone cannot
decide what the whole file decides:

* small files (under :data:`CHUNKED_FROM` bytes), bytes handed over, other formats;
* blank lines, rows of another width, repeated headers (pyarrow stops at them);
* an encoding that is neither UTF-8 nor GB18030 throughout;
* dates written day/month or month/day without ``--date-format`` (the order is decided for
  the whole column);
* a response id repeated in another chunk (the caller checks, :func:`repeated`);
* rows left entirely empty at the very end of the file across a chunk's border.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import Message
from manyi.io.responses import (
    DEFAULT_TZ,
    ResponseSet,
    ValidationReport,
    _as_text,
    _check_header,
    _first_rows,
    _head,
    _header_index,
    _OrderUndecided,
    coded_columns,
    column_map,
    header_key,
    rename_columns,
    validate_frame,
)

CHUNKED_FROM = 16 * 2**20  # files from this size are read in chunks
ROWS = 100_000  # responses per chunk
HEAD = 2**20  # bytes read first, to find the header, the tool and the encoding


class WholeFile(Exception):
    """Something only the whole-file reader decides: read the file whole instead."""


def response_chunks(
    path: str | Path | bytes,
    instrument: Instrument,
    strict: bool = False,
    tz: str = DEFAULT_TZ,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
    header_row: int | None = None,
    rows: int | None = None,
    chunked_from: int | None = None,
) -> Iterator[ResponseSet]:
    """Validated chunks of a large CSV response file (see the module's docstring), ``rows``
    responses each (default :data:`ROWS`) from files of ``chunked_from`` bytes (default
    :data:`CHUNKED_FROM`); raises :class:`WholeFile` where the file must be read whole."""
    rows = rows or ROWS
    chunked_from = CHUNKED_FROM if chunked_from is None else chunked_from
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from manyi.io import sources as tools
    from manyi.io.progress import reporting, step

    if isinstance(path, bytes | bytearray):
        raise WholeFile("bytes")
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in (".csv", ".tsv", ".txt") or not p.is_file():
        raise WholeFile("format")
    size = p.stat().st_size
    if size < chunked_from:
        raise WholeFile("small")
    if source is not None and source not in tools.SOURCES:
        raise WholeFile("source")  # the whole-file reader names the mistake
    with p.open("rb") as f:
        head_bytes = f.read(HEAD)
    cut = head_bytes.rfind(b"\n")
    if cut < 0:
        raise WholeFile("no line break")
    head_bytes = head_bytes[: cut + 1]
    encoding = "utf8"
    try:
        head = head_bytes.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            head = head_bytes.decode("gb18030")
        except UnicodeDecodeError:
            raise WholeFile("encoding") from None
        encoding = "gb18030"
    notes: list[Message] = []
    name = p.name
    sep = "\t" if ext == ".tsv" or (ext != ".csv" and "\t" in head[:2000].split("\n", 1)[0]) else ","
    first = _first_rows(head, sep, 12)
    title = _header_index(first, header_row, name, notes)
    first = first[title:]
    header = first[0] if first else []
    kind = source or tools.detect(header, *(first[1:3]))
    lay = tools.layout(kind, header, first[1] if len(first) > 1 else None)
    _check_header(lay.columns, name)
    if len(set(lay.columns)) != len(lay.columns) or not lay.columns:
        raise WholeFile("header")
    import csv
    import itertools

    heads = csv.reader(io.StringIO(_head(head, 4 * (title + 1 + lay.skip) + 64)), delimiter=sep)
    for _ in itertools.islice(heads, title + 1 + lay.skip):
        pass
    skip = heads.line_num
    if head.count("\n") <= skip:
        raise WholeFile("short head")
    if lay.source != "plain":
        notes.append(Message("resp.source_read", {"file": name, "source": lay.source}))

    mapping = column_map(instrument, columns)
    coded = coded_columns(instrument)
    dict_type = pa.dictionary(pa.int32(), pa.string())
    types = {
        c: dict_type if mapping.get(header_key(lay.renames.get(c, c)), lay.renames.get(c, c)) in coded
        else pa.string()
        for c in lay.columns
    }
    step("progress.read", 0, size, "bytes")
    try:  # the whole file parsed on every core into a compact table (answers as codes)
        table = pacsv.read_csv(
            p,
            read_options=pacsv.ReadOptions(
                use_threads=True, column_names=lay.columns, skip_rows=skip, encoding=encoding
            ),
            parse_options=pacsv.ParseOptions(
                delimiter=sep, newlines_in_values=True, ignore_empty_lines=False
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise WholeFile(str(exc)) from None
    step("progress.read", size, size, "bytes")
    mapper = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get
    n = table.num_rows
    starts = list(range(0, n, rows)) or [0]
    for k, start in enumerate(starts):
        df = table.slice(start, rows).to_pandas(types_mapper=mapper)
        if lay.renames:
            df = df.rename(columns=lay.renames)
        df.columns = [str(c).strip() for c in df.columns]
        if k == len(starts) - 1:  # the entirely empty rows at the very end, dropped
            end = len(df)
            while end > 0 and _as_text(pd.Series(list(df.iloc[end - 1]), dtype=object)).isna().all():
                end -= 1
            if end == 0 and k > 0:
                raise WholeFile("empty end")
            df = df.iloc[:end]
        df.attrs["first_row"] = 2 + title + lay.skip + start
        warn: list[Message] = []
        df = rename_columns(df, mapping, name, warn)
        try:
            with reporting(None):  # the bar counts rows here, not a chunk's columns
                rs = validate_frame(
                    df, instrument, source=name, strict=strict, tz=tz, date_format=date_format,
                    whole_column=False,
                )
        except _OrderUndecided:
            raise WholeFile("date order") from None
        rs.report.warnings = (notes if k == 0 else []) + warn + rs.report.warnings
        step("progress.check", min(start + rows, n), n, "rows")
        yield rs


def repeated(ids: list[np.ndarray]) -> bool:
    """Whether a response id met in one chunk (``ResponseSet.ids``: every distinct id of the
    chunk, its rows used or not) is met again in another: the file is then read whole, which
    rejects the later rows as the whole-file reader does."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = sum(len(a) for a in ids)
    if n < 2:
        return False
    arr = pa.chunked_array([pa.array(a, type=pa.string()) for a in ids], type=pa.string())
    return pc.count_distinct(arr).as_py() < n


def merge_reports(reports: list[ValidationReport]) -> ValidationReport:
    """One report for the chunks of a file: counts added, issues in file order, repeated
    warnings once (counts in them added)."""
    from manyi.core.scoring.sums import merge_messages

    out = ValidationReport(source=reports[0].source, rows_read=sum(r.rows_read for r in reports))
    out.rows_used = sum(r.rows_used for r in reports)
    out.rows_rejected = sum(r.rows_rejected for r in reports)
    out.issues = [i for r in reports for i in r.issues]
    out.warnings = merge_messages([r.warnings for r in reports])
    return out
