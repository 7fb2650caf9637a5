"""Reading response files (CSV, XLSX, Parquet) against an instrument, with a validation report.

Layout (docs/responses.md): one row per response; ``response_id``, optional ``submitted_at``,
``customer_id``, segment columns, then one column per item id; expectation and importance
answers of item ``x`` in ``x__expected`` and ``x__importance``. Other columns are kept as
segment columns (usable with ``--by``).

* CSV text may be UTF-8 (with or without BOM) or GBK/GB18030 (Excel in China).
* Answers may be codes (``4``) or labels in either language (``比较满意``, ``Satisfied``).
* Blank, ``NA``, ``N/A`` and ``不适用`` are missing. Reverse-coded items are reversed here.
* Row numbers are those a spreadsheet shows: the header is row 1, the first response row 2.
* Lenient (default): a bad value becomes missing and is reported; a row that cannot be used
  (empty or duplicate response id, no answered index item) is rejected and reported;
  ``rows_read = rows_used + rows_rejected``. Strict: the first bad value stops the read.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument, Question, Scale
from manyi.core.localtime import LOCAL_TZ
from manyi.core.messages import ManyiError, Message, merge_messages

MISSING_TOKENS = {"", "na", "n/a", "不适用", "nan", "none", "null"}
DEFAULT_TZ = LOCAL_TZ


@dataclass
class Issue:
    """One rejected value (``column`` set) or rejected row (``column`` None)."""

    row: int
    column: str | None
    value: str | None
    message: Message
    file: str | None = None  # the part of a dataset (row counts within it); None: one file

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file} if self.file is not None else {}
        out.update(
            {"row": self.row, "column": self.column, "value": self.value,
             "reason": self.message.render(lang)}
        )
        return out

    def render(self, source: str, lang: str | None = None) -> str:
        source = self.file if self.file is not None else source
        if self.column is None:
            return Message(
                "resp.where_row",
                {"file": source, "row": self.row, "reason": self.message.render(lang)},
            ).render(lang)
        return Message(
            "resp.where",
            {
                "file": source,
                "row": self.row,
                "column": self.column,
                "reason": self.message.render(lang),
            },
        ).render(lang)


@dataclass
class ValidationReport:
    """What happened to every row and value of a response file."""

    source: str
    rows_read: int = 0
    rows_used: int = 0
    rows_rejected: int = 0
    issues: list[Issue] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)

    @property
    def rejected_rows(self) -> list[Issue]:
        return [i for i in self.issues if i.column is None]

    @property
    def rejected_values(self) -> list[Issue]:
        return [i for i in self.issues if i.column is not None]

    def summary(self, lang: str | None = None) -> str:
        return Message(
            "resp.report",
            dict(
                read=self.rows_read,
                used=self.rows_used,
                rejected=self.rows_rejected,
                values=len(self.rejected_values),
            ),
        ).render(lang)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "rows_used": self.rows_used,
            "rows_rejected": self.rows_rejected,
            "rejected": [i.to_dict(lang) for i in self.issues],
            "warnings": [w.render(lang) for w in self.warnings],
        }


def merge_reports(reports: list[ValidationReport]) -> ValidationReport:
    """One report for the parts of a file or dataset (chunks, Parquet parts), in their order:
    counts added, issues in order, repeated warnings once (counts in them added)."""
    out = ValidationReport(source=reports[0].source, rows_read=sum(r.rows_read for r in reports))
    out.rows_used = sum(r.rows_used for r in reports)
    out.rows_rejected = sum(r.rows_rejected for r in reports)
    out.issues = [i for r in reports for i in r.issues]
    out.warnings = merge_messages([r.warnings for r in reports])
    return out


@dataclass
class ResponseSet:
    """Clean responses of one instrument: numeric answers, codes for choices, UTC-aware times."""

    data: pd.DataFrame
    instrument: Instrument
    report: ValidationReport
    rows: np.ndarray  # the file row number of every used row
    ids: Any = None  # every distinct response id met (used or not; chunks check across)

    def __len__(self) -> int:
        return len(self.data)


# --------------------------------------------------------------------------------------
# Raw tables
# --------------------------------------------------------------------------------------
def decode_text(raw: bytes, name: str, notes: list[Message] | None = None) -> str:
    """Text of a CSV file, its encoding decided for the whole file.

    UTF-8 (with or without BOM) when every line decodes; GB18030 (a superset of GBK and
    GB2312, Excel in China) when it decodes every line and most non-ASCII lines are not UTF-8;
    a UTF-8 file with a few lines in another encoding keeps UTF-8, and those lines are named
    in ``notes`` (their bad bytes become U+FFFD, which the validation then rejects cell by cell).
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    nonascii = [i for i, ln in enumerate(lines) if not ln.isascii()]
    bad_utf8 = []
    for i in nonascii:
        try:
            lines[i].decode("utf-8")
        except UnicodeDecodeError:
            bad_utf8.append(i)
    mostly_utf8 = len(bad_utf8) <= max(1, len(nonascii) // 10) and len(bad_utf8) < len(nonascii)
    if not mostly_utf8:
        try:
            return raw.decode("gb18030")
        except UnicodeDecodeError:
            if len(bad_utf8) == len(nonascii):
                raise ManyiError(Message("resp.encoding", {"file": name})) from None
    if notes is not None:
        shown = ", ".join(str(i + 1) for i in bad_utf8[:10])
        notes.append(
            Message("resp.mixed_encoding", {"file": name, "lines": shown, "n": len(bad_utf8)})
        )
    return raw.decode("utf-8-sig", errors="replace")


def _head(text: str, rows: int) -> str:
    """A prefix of ``text`` that holds at least its first ``rows`` physical lines (the csv
    module then reads the first rows without copying a large file's whole text); the whole
    text when a quoted line break would cross the cut."""
    end = -1
    for _ in range(rows + 1):
        end = text.find("\n", end + 1)
        if end < 0:
            return text
    head = text[: end + 1]
    return text if head.count('"') % 2 else head


def _first_rows(text: str, sep: str, n: int) -> list[list[str]]:
    """The first ``n`` rows of a CSV text, as far as the csv module reads them (it stops at a
    cell over its size limit; the table's reader reads such cells)."""
    out: list[list[str]] = []
    reader = csv.reader(io.StringIO(_head(text, 4 * n + 64)), delimiter=sep)
    try:
        for row in reader:
            out.append(row)
            if len(out) == n:
                break
    except csv.Error:
        pass
    return out


def _header_index(rows: list[list[str]], header_row: int | None, name: str, notes: list[Message]) -> int:
    """The 0-based index of the header among a table's first rows: ``header_row`` - 1 when
    given; else past title rows (a row with at most one cell filled, above a row with three or
    more), which a note reports."""
    if header_row is not None:
        if header_row < 1 or header_row > len(rows):
            raise ManyiError(Message("resp.bad_header_row", {"file": name, "row": header_row, "rows": len(rows)}))
        return header_row - 1
    filled = [sum(1 for c in r if str(c).strip()) for r in rows]
    k = 0
    while k < len(rows) - 1 and filled[k] <= 1:
        k += 1
    if k and filled[k] >= 3:
        notes.append(Message("resp.title_rows", {"file": name, "n": k, "header": k + 1}))
        return k
    return 0


def csv_layout(
    text: str, ext: str, name: str, source: str | None, header_row: int | None, notes: list[Message]
) -> tuple[str, int, Any]:
    """From a CSV's text (or its first lines): the separator, the title rows above the
    headers (``header_row`` or found), and the tool's layout (``manyi.io.sources``: the
    columns, extra header rows, renames), the headers checked."""
    from manyi.io import sources as tools

    sep = "\t" if ext == ".tsv" or (ext != ".csv" and "\t" in text[:2000].split("\n", 1)[0]) else ","
    first = _first_rows(text, sep, 12)
    title = _header_index(first, header_row, name, notes)
    first = first[title:]
    header = first[0] if first else []
    kind = source or tools.detect(header, *(first[1:3]))
    lay = tools.layout(kind, header, first[1] if len(first) > 1 else None)
    _check_header(lay.columns, name)
    return sep, title, lay


def physical_lines(text: str, sep: str, rows: int) -> int:
    """The physical lines of a CSV's first ``rows`` rows (a quoted cell may break lines)."""
    import itertools

    heads = csv.reader(io.StringIO(_head(text, 4 * rows + 64)), delimiter=sep)
    for _ in itertools.islice(heads, rows):
        pass
    return heads.line_num


def _arrow_csv(
    text: str,
    sep: str,
    columns: list[str],
    skip: int = 1,
    data: bytes | None = None,
    dictionary: set[str] | None = None,
) -> pd.DataFrame | None:
    """The table of a CSV's text parsed by pyarrow (every core; every cell a string, empty
    cells empty strings; quoted line breaks kept), its data starting after ``skip`` physical
    lines, or None where pyarrow would read it differently from the pandas reader it stands
    in for: blank lines (rows of their own there, dropped here), rows of another width,
    repeated header names. The caller then reads it with pandas."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if "\n\n" in text or "\n\r\n" in text or len(set(columns)) != len(columns) or not columns:
        return None
    coded = pa.dictionary(pa.int32(), pa.string())
    types = {c: coded if dictionary and c in dictionary else pa.string() for c in columns}
    try:
        table = pacsv.read_csv(
            io.BytesIO(data if data is not None else text.encode("utf-8")),
            read_options=pacsv.ReadOptions(use_threads=True, column_names=columns, skip_rows=skip),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, null_values=[], strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    # answer columns come dictionary-encoded (a dozen distinct strings, an int32 per cell): a
    # pandas Categorical without a string per cell; the rest as arrow-backed strings
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow", na_value=np.nan)}.get)


def _check_header(columns: list[str], name: str) -> None:
    seen = set()
    for c in columns:
        if c in seen:
            raise ManyiError(Message("resp.duplicate_column", {"file": name, "column": c}))
        seen.add(c)


def _pick_sheet(
    p: Path | io.BytesIO, name: str, sheet: str | None, want: set[str] | None, notes: list[Message]
) -> pd.DataFrame:
    """The sheet to read: ``sheet`` if given; else the one whose header names the most of the
    expected columns ``want`` (or, without them, the first sheet that looks like a table);
    a note says which sheet was read when the workbook has several."""
    book = pd.read_excel(p, dtype=object, engine="calamine", sheet_name=None)  # Rust: fast, also .xls
    names = list(book)
    if sheet is not None:
        if sheet not in book:
            raise ManyiError(
                Message(
                    "resp.no_sheet", {"file": p.name, "sheet": sheet, "sheets": ", ".join(names)}
                )
            )
        return book[sheet]
    if len(names) == 1:
        return book[names[0]]

    def score(df: pd.DataFrame) -> tuple[int, int, int]:
        cols = [str(c).strip() for c in df.columns]
        named = sum(1 for c in cols if c and not c.startswith("Unnamed:"))
        hits = len(want & set(cols)) if want else 0
        return (hits, int("response_id" in cols), named if len(df) else 0)

    best = max(names, key=lambda k: (score(book[k]), -names.index(k)))
    notes.append(
        Message("resp.sheet_read", {"file": p.name, "sheet": best, "sheets": ", ".join(names)})
    )
    return book[best]


def read_table(
    path: str | Path | bytes,
    sheet: str | None = None,
    want: set[str] | None = None,
    name: str | None = None,
    source: str | None = None,
    header_row: int | None = None,
    dictionary: Callable[[str], bool] | None = None,
) -> pd.DataFrame:
    """A response file as a DataFrame of raw cells (strings for CSV, native for XLSX/Parquet).

    ``path`` is a file's path, or its bytes (an upload) with its ``name`` (whose extension
    tells the format). ``sheet`` picks a workbook's sheet; ``want`` (expected column names)
    helps choose one. Exports of other tools (Qualtrics, SurveyMonkey, 问卷星, 腾讯问卷,
    LimeSurvey, Formbricks; :mod:`manyi.io.sources`) are told by their header rows, or named by
    ``source``: their extra header rows are skipped and their id and time columns renamed.
    Notes on what was assumed (encoding, sheet, tool) are in ``df.attrs["warnings"]``; the
    file row of the first data row in ``df.attrs["first_row"]``. ``header_row`` (1-based) names
    the row that holds the headers; without it, title rows above the headers (a first row with
    one cell filled, over a row with several) are found, skipped and reported. ``dictionary``
    says which columns (by their name after the tool's renames) a large CSV may hand over as
    pandas Categoricals of their distinct cells (the reader of responses does, for answers).

    Example::

        >>> df = read_table(b"response_id,q1\\n1,4\\n2,5\\n", name="r.csv")
        >>> df.shape
        (2, 2)
    """
    from manyi.io import sources as tools

    if source is not None and source not in tools.SOURCES:
        raise ManyiError(Message("resp.bad_source", {"value": source, "choices": ", ".join(tools.SOURCES)}))
    notes: list[Message] = []
    if isinstance(path, bytes | bytearray):
        data: bytes | None = bytes(path)
        name = name or "<data>"
        p = Path(name)
    else:
        data = None
        p = Path(path)
        name = p.name
        if not p.exists():
            raise ManyiError(Message("resp.not_found", {"file": str(path)}))
        if p.is_dir():
            raise ManyiError(Message("resp.is_folder", {"file": str(path)}))
    ext = p.suffix.lower()
    src: Path | io.BytesIO = io.BytesIO(data) if data is not None else p
    lay = None
    title = 0
    try:
        if ext in (".csv", ".txt", ".tsv"):
            from manyi.io.progress import step

            size = len(data) if data is not None else p.stat().st_size
            step("progress.read", 0, size, "bytes")
            raw_bytes = data if data is not None else p.read_bytes()
            try:  # plain UTF-8 goes to the parser as it is (no second copy encoded from the text)
                text, utf8 = raw_bytes.decode("utf-8-sig"), raw_bytes
            except UnicodeDecodeError:
                text, utf8 = decode_text(raw_bytes, name, notes), None
            sep, title, lay = csv_layout(text, ext, name, source, header_row, notes)

            def lines(rows: int) -> int:
                return physical_lines(text, sep, rows)

            coded = None
            if dictionary is not None:
                coded = {c for c in lay.columns if dictionary(lay.renames.get(c, c))}
            df = _arrow_csv(text, sep, lay.columns, lines(title + 1 + lay.skip), utf8, coded)
            step("progress.read", size // 2, size, "bytes")
            if df is None:
                df = pd.read_csv(
                    io.StringIO(text),
                    sep=sep,
                    dtype=str,
                    keep_default_na=False,
                    skip_blank_lines=False,
                    on_bad_lines="error",
                    skiprows=lines(title) if title else None,
                )
                df = df.iloc[lay.skip :]
                df.columns = lay.columns
            step("progress.read", size, size, "bytes")
        elif ext in (".xlsx", ".xlsm", ".xls"):
            df = _pick_sheet(src, name, sheet, want, notes)
            top = [[str(c) if not str(c).startswith("Unnamed:") else "" for c in df.columns]]
            top += [[_cell_text(v) or "" for v in df.iloc[k]] for k in range(min(11, len(df)))]
            title = _header_index(top, header_row, name, notes)
            if title:  # the header is data row title - 1 of what pandas read
                df = df.iloc[title:]
                df.columns = [c or f"Unnamed: {j}" for j, c in enumerate(top[title])]
            header = [str(c) for c in df.columns]
            second, third = ([_cell_text(v) or "" for v in df.iloc[k]] if len(df) > k else None for k in (0, 1))
            kind = source or tools.detect(header, second, third)
            lay = tools.layout(kind, header, second)
            df = df.iloc[lay.skip :]
            df.columns = lay.columns
            _check_header([str(c).strip() for c in df.columns if not str(c).startswith("Unnamed:")], name)
        elif ext == ".parquet":
            df = pd.read_parquet(src)
        elif ext in (".sav", ".zsav", ".dta"):
            df = _read_stats_file(src, ext, notes, name)
        else:
            raise ManyiError(Message("resp.format", {"file": name, "ext": ext or "(none)"}))
    except ManyiError:
        raise
    except Exception as exc:  # parser errors of pandas/openpyxl/pyarrow become one sentence
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ManyiError(Message("resp.unreadable", {"file": name, "detail": detail})) from None
    if lay is None:  # Parquet, SPSS, Stata: the columns alone tell the tool
        kind = source or tools.detect([str(c) for c in df.columns])
        lay = tools.layout(kind, [str(c) for c in df.columns])
    if lay.renames:
        df = df.rename(columns=lay.renames)
    if lay.source != "plain":
        notes.append(Message("resp.source_read", {"file": name, "source": lay.source}))
    df = df.reset_index(drop=True)
    df.attrs["first_row"] = 2 + title + lay.skip
    df.columns = [str(c).strip() for c in df.columns]
    # drop the entirely empty rows that spreadsheets and CSV writers leave at the very end
    # (looked for from the end: only those rows are read)
    if len(df) and ext != ".parquet":
        end = len(df)
        while end > 0 and _as_text(pd.Series(list(df.iloc[end - 1]), dtype=object)).isna().all():
            end -= 1
        df = df.iloc[:end]
    df.attrs["warnings"] = notes
    return df


def _read_stats_file(src: Path | io.BytesIO, ext: str, notes: list[Message], name: str) -> pd.DataFrame:
    """An SPSS (.sav, .zsav) or Stata (.dta) file: the stored codes (not their value labels:
    the instrument's scales read the codes), the variable labels kept in
    ``df.attrs["labels"]`` so that a column map may name a column by its question text."""
    if ext == ".dta":
        reader = pd.io.stata.StataReader(src)
        with reader:
            df = reader.read(convert_categoricals=False)
            labels = reader.variable_labels()
    else:
        import tempfile

        import pyreadstat

        if isinstance(src, io.BytesIO):  # pyreadstat reads paths only
            with tempfile.NamedTemporaryFile(suffix=ext) as tmp:
                tmp.write(src.getvalue())
                tmp.flush()
                df, meta = pyreadstat.read_sav(tmp.name, apply_value_formats=False)
        else:
            df, meta = pyreadstat.read_sav(str(src), apply_value_formats=False)
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    df.attrs["labels"] = {k: v for k, v in labels.items() if v}
    return df


# --------------------------------------------------------------------------------------
# Column converters (vectorised; Python loops only over the distinct bad values)
# --------------------------------------------------------------------------------------
def _cell_text(v: Any) -> Any:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # 1001.0 from a spreadsheet is the id 1001
    return str(v)


def _as_text(col: pd.Series) -> pd.Series:
    """Cells as stripped strings (object dtype), missing tokens as None."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # each distinct cell once, then by its code
        codes = col.cat.codes.to_numpy()
        cats = _as_text(pd.Series(np.asarray(col.cat.categories, dtype=object), dtype=object))
        vals = np.append(cats.to_numpy(dtype=object), None)  # code -1 (missing) → None
        return pd.Series(vals[codes], index=col.index, dtype=object)
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        return _arrow_text(col)
    if not (pd.api.types.is_string_dtype(col.dtype) and col.dtype != object):
        col = col.astype(object).map(_cell_text).astype("string")
    st = col.astype("string").str.strip()
    miss = st.isna() | st.str.lower().isin(MISSING_TOKENS)
    return st.astype(object).where(~miss.to_numpy(dtype=bool), None)


def _arrow_text(col: pd.Series) -> pd.Series:
    """:func:`_as_text` of arrow-backed text, in pyarrow's kernels (the same trim and
    lower-casing pandas applies to such text; a third of the time)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(col.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    st = pc.utf8_trim_whitespace(arr)
    tokens = pa.array(sorted(MISSING_TOKENS), type=st.type)
    miss = pc.or_kleene(pc.is_null(st), pc.is_in(pc.utf8_lower(st), value_set=tokens))
    out = st.to_numpy(zero_copy_only=False)
    out[miss.to_numpy(zero_copy_only=False)] = None
    return pd.Series(out, index=col.index, dtype=object)


def _codes(col: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(code per row, -1 where missing; the distinct cells as an object array): pyarrow's
    dictionary encoding for arrow-backed text, pandas' factorize for anything else."""
    if isinstance(col.dtype, pd.CategoricalDtype):  # the codes as they are (small integers)
        cat = col.array
        return np.asarray(cat.codes), np.asarray(cat.categories, dtype=object)
    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        arr = pa.array(col.array)
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        enc = pc.dictionary_encode(arr)
        codes = pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        return codes, np.asarray(enc.dictionary.to_pylist(), dtype=object)
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    return np.asarray(codes, dtype=np.int64), np.asarray(uniq, dtype=object)


#: per scale: each cell's reading, and the arrays of each tuple of distinct cells met
_DISTINCT: dict[tuple[Any, ...], tuple[Scale, dict[Any, tuple[Any, ...]], dict[tuple[Any, ...], Any]]] = {}


def _distinct_values(
    uniq: np.ndarray, scale: Scale, whole: bool
) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The distinct cells of an answer column read once on ``scale``: their text, values (NaN
    where bad), and which are unknown labels, outside the scale, not whole. Each cell's reading
    is remembered for the next chunk of the same file (whose distinct cells are mostly the
    same, perhaps in another order)."""
    key = (id(scale), whole)
    held = _DISTINCT.get(key)
    if held is None or held[0] is not scale:  # another scale at a reused address: start anew
        if len(_DISTINCT) > 64:
            _DISTINCT.clear()
        held = _DISTINCT[key] = (scale, {}, {})
    memo, columns = held[1], held[2]
    cells = uniq.tolist()
    got = None
    if len(cells) <= 64:
        try:  # the same distinct cells in the same order as a column before: its arrays again
            got = columns.get(tuple(cells))
        except TypeError:  # a cell that is not hashable
            got = None
    if got is not None:
        return got
    new = [c for c in dict.fromkeys(cells) if c not in memo]
    if len(memo) + len(new) > 10_000:  # too many distinct cells to remember
        return _read_cells(uniq, scale, whole)
    if new:
        readings = zip(*_read_cells(np.asarray(new, dtype=object), scale, whole), strict=True)
        memo.update(zip(new, readings, strict=True))
    rd = [memo[c] for c in cells]
    got = (
        pd.Series([r[0] for r in rd], dtype=object),
        np.array([r[1] for r in rd], dtype=float),
        np.array([r[2] for r in rd], dtype=bool),
        np.array([r[3] for r in rd], dtype=bool),
        np.array([r[4] for r in rd], dtype=bool),
    )
    for a in got[1:]:
        a.flags.writeable = False  # shared by the columns with these cells
    if len(columns) < 256 and len(cells) <= 64:  # answer columns: a dozen distinct cells
        columns[tuple(cells)] = got
    return got


def _read_cells(
    uniq: np.ndarray, scale: Scale, whole: bool
) -> tuple[pd.Series, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct cells read on ``scale`` (see :func:`_distinct_values`)."""
    lo, hi = scale.min, scale.max
    text = _as_text(pd.Series(uniq, dtype=object))
    ux = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float, na_value=np.nan, copy=True)
    nonnum = text.notna().to_numpy() & np.isnan(ux)
    badlabel = np.zeros(len(ux), dtype=bool)
    if nonnum.any():
        from manyi.core.instrument.spec import label_key

        labels = scale.label_map()
        mapped = text[nonnum].map(lambda s: labels.get(label_key(s), _wide_number(s))).to_numpy(dtype=float)
        ux[nonnum] = mapped
        badlabel[np.flatnonzero(nonnum)[np.isnan(mapped)]] = True
    finite = ~np.isnan(ux)
    outside = finite & ((ux < lo - 1e-9) | (ux > hi + 1e-9))
    with np.errstate(invalid="ignore"):
        notwhole = finite & ~outside & (np.abs((ux - lo) - np.round(ux - lo)) > 1e-9) & whole
    ux[outside | notwhole] = np.nan
    return text, ux, badlabel, outside, notwhole


def convert_scale_column(
    col: pd.Series,
    scale: Scale,
    scale_name: str,
    column: str,
    rows: np.ndarray,
    issues: list[Issue],
    whole: bool = True,
) -> np.ndarray:
    """Answers on ``scale`` (codes or labels) → float array, bad values NaN and reported."""
    lo, hi = scale.min, scale.max
    if pd.api.types.is_numeric_dtype(col.dtype) and not pd.api.types.is_bool_dtype(col.dtype):
        x = col.to_numpy(dtype=float, na_value=np.nan, copy=True)
        finite = ~np.isnan(x)
        outside = finite & ((x < lo - 1e-9) | (x > hi + 1e-9))
        with np.errstate(invalid="ignore"):
            notwhole = finite & ~outside & (np.abs((x - lo) - np.round(x - lo)) > 1e-9) & whole
        for mask, key in ((outside, "resp.outside_scale"), (notwhole, "resp.not_whole")):
            for i in np.flatnonzero(mask):
                shown = f"{x[i]:g}"
                issues.append(Issue(int(rows[i]), column, shown, Message(key, {"value": shown, "min": lo, "max": hi})))
        x[outside | notwhole] = np.nan
        return x
    # text: each distinct cell is read once (a column of answers holds a dozen distinct strings),
    # then spread back to the rows by its code
    codes, uniq = _codes(col)
    text, ux, badlabel, outside, notwhole = _distinct_values(uniq, scale, whole)
    x = np.append(ux, np.nan)[codes]  # code -1 (missing) takes the appended NaN
    for umask, key in ((badlabel, "resp.unknown_label"), (outside, "resp.outside_scale"), (notwhole, "resp.not_whole")):
        if not umask.any():
            continue
        for i in np.flatnonzero(np.append(umask, False)[codes]):  # the rows, in order
            shown = str(text.iat[codes[i]])
            params = ({"value": shown, "scale": scale_name} if key == "resp.unknown_label"
                      else {"value": shown, "min": lo, "max": hi})
            issues.append(Issue(int(rows[i]), column, shown, Message(key, params)))
    return x


def convert_choice_column(
    col: pd.Series, q: Question, column: str, rows: np.ndarray, issues: list[Issue]
) -> pd.Series:
    """Choices (codes or labels) → a categorical of choice codes in the instrument's order."""
    order = [c if isinstance(c, str) else c.id for c in (q.choices or [])]
    if isinstance(col.dtype, pd.CategoricalDtype) and set(col.cat.categories) <= set(order):
        return pd.Series(pd.Categorical(col, categories=order))
    # each distinct cell looked up once, then spread back to the rows by its code
    codes, uniq = _codes(col)
    utext = _as_text(pd.Series(uniq, dtype=object))
    umapped = utext.astype("string").str.lower().map(q.choice_codes()).astype(object)
    ubad = (utext.notna() & umapped.isna()).to_numpy()
    has = codes >= 0
    safe = np.where(has, codes, 0)
    bad = has & ubad[safe]
    for i in np.flatnonzero(bad):
        shown = utext.iat[codes[i]]
        issues.append(
            Issue(
                int(rows[i]),
                column,
                shown,
                Message("resp.unknown_choice", {"value": shown, "choices": ", ".join(order)}),
            )
        )
    cat_codes = np.full(len(codes), -1, dtype=np.int64)
    pos = {c: k for k, c in enumerate(order)}
    ucat = np.array([pos.get(m, -1) if isinstance(m, str) else -1 for m in umapped], dtype=np.int64)
    cat_codes[has] = ucat[codes[has]]
    return pd.Series(pd.Categorical.from_codes(cat_codes, categories=order))


_AWARE = r"(?:Z|[+-]\d{2}:?\d{2})$"
_AMBIGUOUS = r"^\s*(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})\b(.*)$"
DATE_FORMATS = ("dmy", "mdy", "ymd")


def _matches(text: pd.Series, pattern: str, how: str = "search", arr: Any = None) -> np.ndarray:
    """Which cells of an object column of strings (None for missing) match ``pattern``
    (``how``: search, match at the start, or fullmatch). All-ASCII columns go through
    pyarrow's RE2 on every core, where ``\\d`` and ``\\s`` mean what Python's ``re`` means
    for ASCII; any other column through Python's ``re``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if arr is None:  # ``arr``: the column already in arrow, when the caller asks several times
        arr = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    if pc.all(pc.string_is_ascii(arr)).as_py() is not False:
        pat = {"search": pattern, "match": f"^(?:{pattern})", "full": f"^(?:{pattern})$"}[how]
        return pc.fill_null(pc.match_substring_regex(arr, pat), False).to_numpy(zero_copy_only=False)
    import re

    rx = re.compile(pattern)
    test = {"search": rx.search, "match": rx.match, "full": rx.fullmatch}[how]
    return np.fromiter((v is not None and test(v) is not None for v in text), dtype=bool, count=len(text))


class _OrderUndecided(Exception):
    """A part of a column cannot decide the day/month order of the whole column."""


def _date_order(
    text: pd.Series, column: str, date_format: str | None, whole_column: bool = True
) -> pd.Series:
    """Rewrite dates written ``A/B/YYYY`` (also with ``.`` or ``-``) as ISO ``YYYY-MM-DD``.

    The order is decided for the whole column, never row by row: ``date_format`` (``dmy``,
    ``mdy``) if given; else a first part above 12 anywhere means day/month, a second part
    above 12 means month/day; both at once, or neither while some dates differ by order
    (03/02/2026), is an error that lists examples and asks for ``--date-format``.
    """
    if date_format == "ymd":
        return text
    if not _matches(text, _AMBIGUOUS, "match").any():  # ISO dates, the usual case: nothing to rewrite
        return text
    parts = text.astype("string").str.extract(_AMBIGUOUS)
    hit = parts[0].notna().to_numpy()
    if not hit.any():
        return text
    a = parts[0].astype(float).to_numpy()
    b = parts[1].astype(float).to_numpy()
    order = date_format
    if order is None and not whole_column:
        raise _OrderUndecided(column)
    if order is None:
        day_first, month_first = hit & (a > 12), hit & (b > 12)
        if day_first.any() and month_first.any():
            ex = [
                text.iat[int(np.flatnonzero(day_first)[0])],
                text.iat[int(np.flatnonzero(month_first)[0])],
            ]
            raise ManyiError(
                Message("resp.date_orders", {"column": column, "a": ex[0], "b": ex[1]})
            )
        if day_first.any():
            order = "dmy"
        elif month_first.any():
            order = "mdy"
        elif (hit & (a != b)).any():
            ex = ", ".join(dict.fromkeys(text[hit & (a != b)].astype(str).head(3)))
            raise ManyiError(Message("resp.date_ambiguous", {"column": column, "examples": ex}))
        else:
            order = "dmy"  # every such date reads the same both ways (03/03/2026)
    year = parts[2].astype("string")
    year = year.where(year.str.len() == 4, "20" + year)
    day, month = (parts[0], parts[1]) if order == "dmy" else (parts[1], parts[0])
    iso = year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2) + parts[3].fillna("")
    out = text.copy()
    out[hit] = iso[hit].astype(object)
    return out


def _arrow_iso(arr: Any, part: pd.Series) -> pd.Series | None:
    """Naive ISO 8601 dates and times (``2026-03-04``, ``2026-03-04 08:15[:30[.5]]``, with a
    ``T``) parsed by pyarrow, as pandas would parse them; None when any value is written
    another way (pandas then reads them all)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    mask = part.to_numpy(dtype=bool)
    try:
        ts = pc.cast(pc.filter(arr, pa.array(mask)), pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    return pd.Series(ts.to_numpy(zero_copy_only=False), index=part.index[mask])


def _iso_column(col: pd.Series, tz: str) -> pd.Series | None:
    """An arrow-backed text column whose every cell is empty or a plain naive ISO 8601 date or
    time (what survey tools and exports write) parsed by pyarrow without a Python string per
    cell, as local times in ``tz``; None otherwise (the general reader then decides)."""
    if not (isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow"):
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.array(col.array)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    empty = pc.equal(arr, "")
    if pc.any(empty).as_py():
        arr = pc.if_else(empty, pa.scalar(None, pa.string()), arr)
    try:  # pyarrow's ISO 8601 parser takes no spaces around, no offsets, no other writing
        ts = pc.cast(arr, pa.timestamp("ns"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    span = pc.min_max(ts)
    lo, hi = span["min"].as_py(), span["max"].as_py()
    if lo is not None and not (1900 <= lo.year and hi.year < 2200):
        return None  # implausible years are reported by the general path
    local = pd.Series(ts.to_numpy(zero_copy_only=False))
    out = local.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    if out.isna().sum() != local.isna().sum():  # times that do not exist there: the general path
        return None
    return out


def convert_datetime_column(
    col: pd.Series,
    column: str,
    rows: np.ndarray,
    issues: list[Issue],
    tz: str,
    date_format: str | None = None,
    whole_column: bool = True,
) -> pd.Series:
    """Dates/times → tz-aware timestamps in ``tz``.

    Values with an offset (``+08:00``, ``Z``) are converted; values without one are taken as
    local time in ``tz``. Both kinds may be mixed in one column. Day/month order of dates
    like 03/02/2026 is decided per column (:func:`_date_order`).
    """
    if pd.api.types.is_datetime64_any_dtype(col.dtype):
        ts = col.reset_index(drop=True)
        if getattr(ts.dt, "tz", None) is None:
            return ts.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
        return ts.dt.tz_convert(tz)
    fast = _iso_column(col, tz)
    if fast is not None:
        return fast
    text = _as_text(col).reset_index(drop=True)
    shown = text
    text = _date_order(text, column, date_format, whole_column)
    out = pd.Series(pd.NaT, index=text.index, dtype=f"datetime64[ns, {tz}]")
    import pyarrow as pa

    present = text.notna()
    arr = pa.array(text.to_numpy(dtype=object), type=pa.string(), from_pandas=True)
    aware = present & _matches(text, _AWARE, arr=arr)
    naive = present & ~aware
    # a bare number is not a date; years outside 1900-2199 are typing errors
    plausible = present & ~_matches(text, r"[+-]?\d+(\.\d*)?", "full", arr=arr)
    for part, utc in ((naive & plausible, False), (aware & plausible, True)):
        if not part.any():
            continue
        # ISO 8601 first (one fast pass: pyarrow's parser on every core where every value is
        # a plain ISO date or time; else pandas'), then every other way of writing a date
        parsed = _arrow_iso(arr, part) if not utc else None
        if parsed is None:
            parsed = pd.to_datetime(text[part], errors="coerce", format="ISO8601", utc=utc)
        rest = parsed.isna().to_numpy()
        if rest.any():
            other = pd.to_datetime(text[part][rest], errors="coerce", format="mixed", utc=utc)
            if not pd.api.types.is_datetime64_any_dtype(other.dtype):
                other = pd.to_datetime(other, errors="coerce", utc=utc)
            parsed = parsed.astype(other.dtype) if parsed.dtype != other.dtype else parsed
            parsed[rest] = other
        parsed = parsed.where((parsed.dt.year >= 1900) & (parsed.dt.year < 2200))
        if utc:
            out[part] = parsed.dt.tz_convert(tz)
        else:
            out[part] = parsed.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")
    bad = (present & out.isna()).to_numpy()
    for i in np.flatnonzero(bad):
        issues.append(
            Issue(
                int(rows[i]),
                column,
                shown.iat[i],
                Message("resp.bad_date", {"value": shown.iat[i]}),
            )
        )
    return out


# --------------------------------------------------------------------------------------
# The reader
# --------------------------------------------------------------------------------------
def validate_frame(
    raw: pd.DataFrame,
    inst: Instrument,
    source: str = "<data>",
    strict: bool = False,
    tz: str = DEFAULT_TZ,
    date_format: str | None = None,
    whole_column: bool = True,
) -> ResponseSet:
    """Check and convert a raw table against ``inst``; see the module docstring.

    ``date_format`` (``dmy``, ``mdy`` or ``ymd``; default: the instrument's ``date_format``)
    says how to read dates like 03/02/2026. ``whole_column=False`` (a chunk of a file) raises
    ``_OrderUndecided`` where that order would have to be decided from the dates."""
    if date_format is not None and date_format not in DATE_FORMATS:
        raise ManyiError(Message("resp.bad_date_format", {"value": date_format}))
    date_format = date_format or inst.spec.date_format
    report = ValidationReport(source=source, rows_read=len(raw))
    n = len(raw)
    first = int(raw.attrs.get("first_row", 2))  # the file row of the first data row
    rows = np.arange(first, n + first)
    issues: list[Issue] = []
    raw = raw.reset_index(drop=True)
    out: dict[str, Any] = {}

    # identifiers
    if "response_id" in raw.columns:
        ids = _as_text(raw["response_id"])
    else:
        ids = pd.Series([str(r) for r in rows], dtype=object)
        report.warnings.append(Message("resp.no_ids_column"))
    reject = np.zeros(n, dtype=bool)
    row_reasons: dict[int, Message] = {}
    empty = ids.isna().to_numpy()
    for i in np.flatnonzero(empty):
        row_reasons[i] = Message("resp.no_id")
    dup = ids.duplicated(keep="first").to_numpy() & ~empty
    if dup.any():
        first = {}
        for i, v in enumerate(ids):
            if v is not None and v not in first:
                first[v] = rows[i]
        for i in np.flatnonzero(dup):
            row_reasons[i] = Message(
                "resp.duplicate_id", {"id": ids.iat[i], "first": int(first[ids.iat[i]])}
            )
    out["response_id"] = ids

    known = {"response_id"}
    if "submitted_at" in raw.columns:
        out["submitted_at"] = convert_datetime_column(
            raw["submitted_at"], "submitted_at", rows, issues, tz, date_format, whole_column
        )
        known.add("submitted_at")
    if "customer_id" in raw.columns:
        out["customer_id"] = _as_text(raw["customer_id"])
        known.add("customer_id")
    if "weight" in raw.columns:  # respondent weights (``manyi weight``): positive numbers
        out["weight"] = convert_scale_column(
            raw["weight"], Scale(min=0, max=1e12), "weight", "weight", rows, issues, whole=False
        )
        zero = out["weight"] == 0
        for i in np.flatnonzero(zero):
            issues.append(Issue(int(rows[i]), "weight", "0", Message("resp.weight_positive")))
        out["weight"][zero] = np.nan
        known.add("weight")

    # items and their expectation / importance columns
    from manyi.io.progress import step

    present_items = 0
    n_cols = len(inst.items) + len(inst.questions)
    for k, it in enumerate(inst.items):
        step("progress.check", k, n_cols)
        specs = [(it.id, it.scale, it.scale_name, True)]
        if it.expectation:
            specs.append((f"{it.id}__expected", it.expected_scale, it.scale_name, True))
        if it.importance:
            specs.append((f"{it.id}__importance", it.importance_scale, "importance", False))
        for column, scale, scale_name, reversible in specs:
            known.add(column)
            if column not in raw.columns:
                report.warnings.append(Message("resp.missing_column", {"column": column, "file": source}))
                out[column] = np.full(n, np.nan)
                continue
            if column == it.id:
                present_items += 1
            x = convert_scale_column(raw[column], scale, scale_name, column, rows, issues)
            if it.reverse and reversible:
                x = scale.min + scale.max - x
            out[column] = x
    if present_items == 0 and n:
        raise ManyiError(
            Message(
                "resp.no_item_columns", {"file": source, "examples": ", ".join(inst.item_ids[:3])}
            )
        )

    for k, q in enumerate(inst.questions):
        step("progress.check", len(inst.items) + k + 1, n_cols)
        known.add(q.id)
        if q.id not in raw.columns:
            if q.role == "segment" or q.effective_metric:
                report.warnings.append(Message("resp.missing_column", {"column": q.id, "file": source}))
            continue
        if q.type in ("nps", "rating", "points"):
            assert q.scale_name is not None
            out[q.id] = convert_scale_column(
                raw[q.id], inst.scales[q.scale_name], q.scale_name, q.id, rows, issues
            )
        elif q.type == "choice":
            out[q.id] = convert_choice_column(raw[q.id], q, q.id, rows, issues)
        else:
            out[q.id] = _as_text(raw[q.id])
    step("progress.check", n_cols, n_cols)
    for c in raw.columns:
        if c not in known:
            out[c] = _as_text(raw[c])  # extra columns are segments

    if strict and (issues or row_reasons):
        col_order = {c: k for k, c in enumerate(raw.columns)}
        cand = [(i.row, col_order.get(i.column, -1), i) for i in issues]
        cand += [
            (int(rows[r]), -1, Issue(int(rows[r]), None, None, m)) for r, m in row_reasons.items()
        ]
        first_issue = min(cand, key=lambda t: (t[0], t[1]))[2]
        raise ManyiError(_Rendered(first_issue, source))

    answered = np.zeros(n, dtype=bool)
    for it in inst.items:
        answered |= ~np.isnan(np.asarray(out[it.id], dtype=float))
    for i in np.flatnonzero(~answered):
        row_reasons.setdefault(i, Message("resp.no_answers"))
    if answered.any():  # answered, but too little of the index's weight to compute it
        from manyi.core.scoring.response import has_index

        X = [np.asarray(out[it.id], dtype=float) for it in inst.items]
        share = inst.scoring.min_answered
        for i in np.flatnonzero(answered & ~has_index(inst, X)):
            row_reasons.setdefault(i, Message("resp.too_few_answers", {"share": share}))
    if strict and row_reasons:
        r = min(row_reasons)
        raise ManyiError(_Rendered(Issue(int(rows[r]), None, None, row_reasons[r]), source))
    for i in sorted(row_reasons):
        reject[i] = True
        issues.append(Issue(int(rows[i]), None, None, row_reasons[i]))

    issues.sort(key=lambda i: (i.row, i.column is not None, i.column or ""))
    keep = ~reject
    every = bool(keep.all())  # the usual case: the converted columns as they are, no copy
    data = pd.DataFrame(
        {
            k: (v if every else v[keep] if isinstance(v, np.ndarray) else v[keep].reset_index(drop=True))
            for k, v in out.items()
        },
        copy=False,  # one block per column: no consolidation copy (pandas would stack them)
    )
    report.issues = issues
    report.rows_used = int(keep.sum())
    report.rows_rejected = int(reject.sum())
    seen = ids.to_numpy(dtype=object)[~empty & ~dup]
    return ResponseSet(data=data, instrument=inst, report=report, rows=rows[keep], ids=seen)


class _Rendered(Message):
    """An issue with its file and row, for strict mode."""

    def __init__(self, issue: Issue, source: str):
        super().__init__(issue.message.key, issue.message.params)
        self.issue, self.source = issue, source

    def render(self, lang: str | None = None) -> str:
        return self.issue.render(self.source, lang)


def header_key(text: Any) -> str:
    """A column header as it is matched against a column map: NFKC (full-width letters and
    digits as ASCII), without any blanks (exports differ in the spaces they put around
    question numbers)."""
    import re
    import unicodedata

    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text)))


def column_map(instrument: Instrument, extra: dict[str, str] | None = None) -> dict[str, str]:
    """Header → id: the ``column:`` of the instrument's items and questions, then ``extra``
    (a ``--columns`` file), which wins."""
    out = {}
    for it in instrument.items:
        if it.column:
            out[header_key(it.column)] = it.id
    for q in instrument.questions:
        if q.column:
            out[header_key(q.column)] = q.id
    for col, ident in (extra or {}).items():
        out[header_key(col)] = ident
    return out


def rename_columns(df: pd.DataFrame, mapping: dict[str, str], name: str, notes: list[Message]) -> pd.DataFrame:
    """The table with its mapped headers renamed to their ids; a header whose id is already a
    column of the file is left alone and named in ``notes``."""
    if not mapping:
        return df
    have = set(df.columns)
    renames: dict[str, str] = {}
    labels = df.attrs.get("labels", {})  # SPSS/Stata variable labels: the question texts
    for c in df.columns:
        target = mapping.get(header_key(c))
        if target is None and c in labels:
            target = mapping.get(header_key(labels[c]))
        if target is None or target == c:
            continue
        if target in have or target in renames.values():
            notes.append(Message("resp.map_clash", {"file": name, "column": c, "id": target}))
            continue
        renames[c] = target
    return df.rename(columns=renames) if renames else df


def load_column_map(path: str | Path | bytes, name: str | None = None) -> dict[str, str]:
    """A column map file: CSV/XLSX with the columns ``column`` and ``id``, or YAML (a mapping
    ``header: id``, or a list of ``{column, id}``)."""
    label = name or (Path(str(path)).name if not isinstance(path, bytes | bytearray) else "<data>")
    if label.lower().endswith((".yaml", ".yml")):
        from manyi.io import yamlsafe

        raw = path if isinstance(path, bytes | bytearray) else Path(path).read_bytes()
        doc = yamlsafe.load(raw.decode("utf-8-sig"), label)
        pairs = list(doc.items()) if isinstance(doc, dict) else [
            (d.get("column"), d.get("id")) for d in doc if isinstance(d, dict)] if isinstance(doc, list) else None
        if pairs is None:
            raise ManyiError(Message("resp.map_format", {"file": label}))
    else:
        df = read_table(path, name=name)
        if not {"column", "id"} <= set(df.columns):
            raise ManyiError(Message("resp.map_format", {"file": label}))
        pairs = list(zip(df["column"], df["id"], strict=True))
    out: dict[str, str] = {}
    for col, ident in pairs:
        if col is None or ident is None or not str(col).strip() or not str(ident).strip():
            raise ManyiError(Message("resp.map_format", {"file": label}))
        key = header_key(col)
        if key in out and out[key] != str(ident).strip():
            raise ManyiError(Message("resp.map_twice", {"file": label, "column": col}))
        out[key] = str(ident).strip()
    return out


def coded_columns(instrument: Instrument) -> set[str]:
    """The answer columns (by id): read as categoricals of their distinct cells."""
    coded = set(instrument.item_ids)
    coded |= {f"{i.id}__expected" for i in instrument.items if i.expectation}
    coded |= {f"{i.id}__importance" for i in instrument.items if i.importance}
    coded |= {q.id for q in instrument.questions if q.type in ("nps", "rating", "points", "choice")}
    return coded


def read_responses(
    path: str | Path | bytes,
    instrument: Instrument,
    strict: bool = False,
    tz: str = DEFAULT_TZ,
    date_format: str | None = None,
    sheet: str | None = None,
    name: str | None = None,
    columns: dict[str, str] | None = None,
    source: str | None = None,
    header_row: int | None = None,
    chunked: bool = True,
) -> ResponseSet:
    """Read a CSV/XLSX/Parquet response file (a path, or bytes with their ``name``) and
    validate it against ``instrument`` (a large CSV in chunks unless ``chunked=False``). Headers are matched to ids by the instrument's
    ``column:`` entries and ``columns`` (header → id, e.g. from ``--columns FILE``); columns
    mapped to nothing are kept under their own headers (segments for ``--by``)."""
    if chunked and sheet is None and not isinstance(path, bytes | bytearray):
        from manyi.io.chunks import WholeFile, read_in_chunks

        try:  # a large CSV in chunks (smaller temporaries, the same result)
            return read_in_chunks(
                path, instrument, strict=strict, tz=tz, date_format=date_format, columns=columns,
                source=source, header_row=header_row,
            )
        except WholeFile:
            pass
    mapping = column_map(instrument, columns)
    want = set(instrument.item_ids) | {"response_id", "submitted_at"} | set(mapping)
    coded = coded_columns(instrument)
    raw = read_table(path, sheet=sheet, want=want, name=name, source=source, header_row=header_row,
                     dictionary=lambda c: mapping.get(header_key(c), c) in coded)
    raw = rename_columns(raw, mapping, name or str(path)[-60:], raw.attrs.setdefault("warnings", []))
    source = name or (Path(str(path)).name if not isinstance(path, bytes | bytearray) else "<data>")
    rs = validate_frame(
        raw, instrument, source=source, strict=strict, tz=tz, date_format=date_format
    )
    rs.report.warnings = list(raw.attrs.get("warnings", [])) + rs.report.warnings
    return rs


# --------------------------------------------------------------------------------------
# One response at a time (survey pages, the API)
# --------------------------------------------------------------------------------------
def _wide_number(text: str) -> float:
    """A number written in full-width digits (４, ３．５), as the same number; else NaN."""
    import unicodedata

    n = unicodedata.normalize("NFKC", text).strip()
    if n == text.strip():
        return np.nan
    x = _number(n)
    return np.nan if x is None else x


def _number(text: str) -> float | None:
    """The number in ``text`` as pandas reads one (no digit separators), else None."""
    if "_" in text or not text.isascii():  # Python reads 1_0 and full-width digits; pandas not
        return None
    try:
        return float(text)
    except ValueError:
        return None


def validate_record(
    values: dict[str, Any], inst: Instrument
) -> tuple[dict[str, Any], list[tuple[str, str, Message]]]:
    """Check one response given as ``{column: text}`` with the rules of :func:`validate_frame`
    (missing tokens, labels of the scale in either language, the scale's range and whole
    points, choice codes and labels, reverse coding), without pandas: a page or the API gets
    the same verdicts as a file, in microseconds. Returns (clean values, [(column, shown
    value, message)]). A test checks the equivalence with :func:`validate_frame`."""
    clean: dict[str, Any] = {}
    issues: list[tuple[str, str, Message]] = []

    def text_of(col: str) -> str | None:
        v = values.get(col)
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return None
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        t = str(v).strip()
        return None if t.lower() in MISSING_TOKENS else t

    def scale_value(col: str, scale: Scale, scale_name: str, whole: bool) -> float:
        t = text_of(col)
        if t is None:
            return np.nan
        x = _number(t)
        if x is None:
            from manyi.core.instrument.spec import label_key

            x = scale.label_map().get(label_key(t))
            if x is None and not np.isnan(_wide_number(t)):
                x = _wide_number(t)
            if x is None:
                issues.append(
                    (col, t, Message("resp.unknown_label", {"value": t, "scale": scale_name}))
                )
                return np.nan
        lo, hi = scale.min, scale.max
        if np.isnan(x):
            return np.nan
        if x < lo - 1e-9 or x > hi + 1e-9:
            issues.append(
                (col, t, Message("resp.outside_scale", {"value": t, "min": lo, "max": hi}))
            )
            return np.nan
        if whole and abs((x - lo) - round(x - lo)) > 1e-9:
            issues.append((col, t, Message("resp.not_whole", {"value": t, "min": lo, "max": hi})))
            return np.nan
        return float(x)

    for it in inst.items:
        specs = [(it.id, it.scale, it.scale_name, True, True)]
        if it.expectation:
            specs.append((f"{it.id}__expected", it.expected_scale, it.scale_name, True, True))
        if it.importance:
            specs.append((f"{it.id}__importance", it.importance_scale, "importance", False, True))
        for col, scale, name, reversible, whole in specs:
            x = scale_value(col, scale, name, whole)
            if it.reverse and reversible:
                x = scale.min + scale.max - x
            clean[col] = x
    for q in inst.questions:
        if q.type in ("nps", "rating", "points"):
            assert q.scale_name is not None
            clean[q.id] = scale_value(q.id, inst.scales[q.scale_name], q.scale_name, True)
        elif q.type == "choice":
            t = text_of(q.id)
            code = None if t is None else q.choice_codes().get(t.lower())
            if t is not None and code is None:
                order = [c if isinstance(c, str) else c.id for c in (q.choices or [])]
                issues.append(
                    (
                        q.id,
                        t,
                        Message("resp.unknown_choice", {"value": t, "choices": ", ".join(order)}),
                    )
                )
            clean[q.id] = code
        else:
            clean[q.id] = text_of(q.id)
    return clean, issues
