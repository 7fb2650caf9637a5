"""Large CSV files read and validated in chunks, with memory bounded by the chunk size.

:func:`response_chunks` yields one validated :class:`~manyi.io.responses.ResponseSet` per
chunk of the file (pyarrow's streaming reader parses blocks of :data:`PARSE_BLOCK` bytes on a
thread of its own while the last chunk, :data:`BLOCK` bytes of parsed blocks, is validated
and scored). Every chunk is validated as the whole-file reader would
validate those rows (same row numbers, same messages); the file is read whole instead
(:class:`WholeFile` is raised, before or while chunks are read) wherever a chunk alone cannot
decide what the whole file decides:

* small files (under :data:`CHUNKED_FROM` bytes), bytes handed over, other formats;
* rows of another width, repeated headers (pyarrow stops at them; a blank line is a row of
  empty cells for both readers);
* an encoding that is neither UTF-8 nor GB18030 throughout;
* dates written day/month or month/day without ``--date-format`` (the order is decided for
  the whole column);
* a response id repeated in another chunk (the caller checks: :func:`id_hashes`,
  :func:`repeated`);
* rows left entirely empty at the very end of the file across a chunk's border.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import Message
from manyi.io.responses import (
    DEFAULT_TZ,
    ResponseSet,
    _as_text,
    _OrderUndecided,
    coded_columns,
    column_map,
    csv_layout,
    header_key,
    merge_reports,
    physical_lines,
    rename_columns,
    validate_frame,
)

CHUNKED_FROM = 16 * 2**20  # files from this size are read in chunks
BLOCK = 4 * 2**20  # bytes (parsed, in memory) per chunk: about 50,000 responses of 25 answers
#: bytes per block of pyarrow's streaming parser (its read-ahead and inference buffers grow
#: with the block: about 20× it); a chunk is put together from several
PARSE_BLOCK = 1 * 2**20
#: parsed blocks the parser may hold ready ahead of the checks: about two chunks, so that it
#: goes on parsing while a chunk is checked and scored (with one, it waited for each hand-over)
AHEAD = 2 * BLOCK // PARSE_BLOCK
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
    block: int | None = None,
    chunked_from: int | None = None,
) -> Iterator[ResponseSet]:
    """Validated chunks of a large CSV response file (see the module's docstring), ``block``
    bytes of the file each (default :data:`BLOCK`) from files of ``chunked_from`` bytes
    (default :data:`CHUNKED_FROM`); raises :class:`WholeFile` where the file must be read
    whole."""
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
    sep, title, lay = csv_layout(head, ext, name, source, header_row, notes)
    if len(set(lay.columns)) != len(lay.columns) or not lay.columns:
        raise WholeFile("header")
    skip = physical_lines(head, sep, title + 1 + lay.skip)
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
    counted = _Counted(p)  # the bytes the parser has taken: the progress bar's position
    try:  # blocks of the file parsed on other threads while this one checks the last block
        reader = pacsv.open_csv(
            counted,
            read_options=pacsv.ReadOptions(
                use_threads=False, block_size=PARSE_BLOCK, column_names=lay.columns,
                skip_rows=skip, encoding=encoding,
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
    mapper = {pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get
    start = 0
    held: pd.DataFrame | None = None  # one block held back: empty rows at the very end

    def check(df: pd.DataFrame, last: bool) -> ResponseSet:
        nonlocal start, notes
        if last:  # the entirely empty rows at the very end, dropped as the whole-file reader does
            end = len(df)
            while end > 0 and _as_text(pd.Series(list(df.iloc[end - 1]), dtype=object)).isna().all():
                end -= 1
            if end == 0 and start > 0:
                raise WholeFile("empty end")
            df = df.iloc[:end]
        df.attrs["first_row"] = 2 + title + lay.skip + start
        start += len(df)
        warn: list[Message] = []
        df = rename_columns(df, mapping, name, warn)
        try:
            with reporting(None):  # the bars count the file's bytes here, not a chunk's columns
                rs = validate_frame(
                    df, instrument, source=name, strict=strict, tz=tz, date_format=date_format,
                    whole_column=False,
                )
        except _OrderUndecided:
            raise WholeFile("date order") from None
        rs.report.warnings = notes + warn + rs.report.warnings
        notes = []
        return rs

    dtypes: dict[tuple[str, ...], pd.CategoricalDtype] = {}

    def frame(batches: list[Any]) -> pd.DataFrame:
        df = _to_pandas(pa.Table.from_batches(batches), mapper, dtypes)
        if lay.renames:
            df = df.rename(columns=lay.renames)
        df.columns = [str(c).strip() for c in df.columns]
        return df

    want = block or BLOCK
    batches: list[Any] = []
    gathered = 0
    parsed = _ahead(reader)
    # progress: the parser's position in the file; the checks' position estimated from the
    # blocks taken (each block is PARSE_BLOCK bytes of the file), shown below 100 % until done
    shown = 0
    taken = 0
    held_at = 0
    try:
        for batch in parsed:
            batches.append(batch)
            taken += 1
            gathered += batch.get_total_buffer_size()
            if counted.taken != shown:
                shown = counted.taken
                step("progress.read", min(shown, size), size, "bytes")
            if gathered < want:
                continue
            df = frame(batches)
            batches, gathered = [], 0
            if held is not None:
                yield check(held, last=False)
                step("progress.check", min(held_at, size - 1), size, "bytes")
            held, held_at = df, taken * PARSE_BLOCK
        if shown != size:
            step("progress.read", size, size, "bytes")
        if batches:
            df = frame(batches)
            if held is not None:
                yield check(held, last=False)
                step("progress.check", min(held_at, size - 1), size, "bytes")
            held = df
        if held is not None:
            yield check(held, last=True)
    finally:
        parsed.close()  # stops the parser's thread before its file is closed
        counted.close()
    step("progress.check", size, size, "bytes")


def _to_pandas(table: Any, mapper: Any, dtypes: dict[tuple[str, ...], pd.CategoricalDtype]) -> pd.DataFrame:
    """``table.to_pandas(types_mapper=mapper)``, with the dictionary columns made categorical
    here: one categorical type per distinct dictionary, kept across chunks (pandas would check
    each chunk's few categories anew, column by column: a fifth of reading a chunk)."""
    import pyarrow as pa

    table = table.unify_dictionaries()
    cols: dict[str, Any] = {}
    for name, col in zip(table.column_names, table.columns, strict=True):
        if not pa.types.is_dictionary(col.type) or col.null_count:
            cols[name] = col.to_pandas(types_mapper=mapper)
            continue
        arr = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
        words = tuple(arr.dictionary.to_pylist())
        dtype = dtypes.get(words)
        if dtype is None:
            if len(dtypes) > 10_000:
                dtypes.clear()
            dtype = dtypes[words] = pd.CategoricalDtype(pd.Index(list(words), dtype=object))
        codes = arr.indices.to_numpy(zero_copy_only=False)
        cols[name] = pd.Categorical.from_codes(codes, dtype=dtype, validate=False)
    return pd.DataFrame(cols, copy=False)


class _Counted(io.RawIOBase):
    """A file that counts the bytes read from it (by the parser's thread)."""

    def __init__(self, path: Path):
        self.f = path.open("rb")
        self.taken = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        got = self.f.readinto(b)
        self.taken += got or 0
        return got

    def close(self) -> None:
        self.f.close()
        super().close()


def _ahead(reader: Any) -> Iterator[Any]:
    """The reader's record batches, parsed up to :data:`AHEAD` ahead on a thread of their own (pyarrow lets go
    of the interpreter while it parses, so parsing overlaps the checks of the last block); a
    parsing error is :class:`WholeFile` (the whole-file reader says what is wrong)."""
    import pyarrow as pa

    from manyi.core.ahead import ahead

    def batches() -> Iterator[Any]:
        while True:
            try:
                yield reader.read_next_batch()
            except StopIteration:
                return

    it = ahead(batches(), depth=AHEAD, name="manyi-csv")
    try:
        yield from it
    except pa.ArrowException as exc:
        raise WholeFile(str(exc)) from None
    finally:
        it.close()


def id_hashes(rs: ResponseSet) -> np.ndarray:
    """The hashes of the response ids a chunk met (``ResponseSet.ids``: every distinct id,
    its rows used or not), 8 bytes each instead of the strings: :func:`repeated` compares them
    across chunks (Python's own string hash, fixed within a process)."""
    ids = rs.ids if rs.ids is not None else ()
    return np.fromiter(map(hash, list(ids)), dtype=np.int64, count=len(ids))


def repeated(hashes: list[np.ndarray]) -> bool:
    """Whether an id hash occurs in two chunks (each chunk's ids are distinct already): the
    file is then read whole, which rejects the later rows as the whole-file reader does. (Two
    different ids with one hash, about one in 10^19 pairs, only send the file to that reader.)"""
    if sum(len(h) for h in hashes) < 2:
        return False
    allh = np.sort(np.concatenate(hashes))
    return bool((allh[1:] == allh[:-1]).any())


def read_in_chunks(
    path: str | Path,
    instrument: Instrument,
    strict: bool = False,
    tz: str = DEFAULT_TZ,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
    header_row: int | None = None,
) -> ResponseSet:
    """A large CSV read and validated chunk by chunk, the chunks' clean rows put together: what
    ``read_responses`` returns for the whole file (tested equal), with smaller temporaries.
    Raises :class:`WholeFile` where the whole-file reader must decide (see the module)."""
    from manyi.core.messages import ManyiError

    sets: list[ResponseSet] = []
    try:
        for rs in response_chunks(
            path, instrument, strict=strict, tz=tz, date_format=date_format, columns=columns,
            source=source, header_row=header_row,
        ):
            sets.append(rs)
    except ManyiError:
        raise WholeFile("a mistake to report") from None
    if not sets or repeated([id_hashes(s) for s in sets]):
        raise WholeFile("ids")
    data = pd.concat([s.data for s in sets], ignore_index=True) if len(sets) > 1 else sets[0].data
    report = merge_reports([s.report for s in sets])
    rows = np.concatenate([s.rows for s in sets])
    return ResponseSet(data=data, instrument=instrument, report=report, rows=rows)
