"""Typed requests: what each use case needs, validated (pydantic). The command line builds
them from its options; the web API will take them as request bodies (FastAPI reads pydantic
models as schemas). Files are a :class:`Source`: a path, or bytes with a name (an upload).
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)


class Source(_Request):
    """A file: ``path``, or ``data`` (bytes, e.g. an upload) with its ``name`` (the name's
    extension tells the format, and messages cite it)."""

    path: Path | None = None
    data: bytes | None = None
    name: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Source:
        if (self.path is None) == (self.data is None):
            raise ValueError("give either path or data")
        if self.data is not None and not self.name:
            raise ValueError("bytes need a name (e.g. responses.csv)")
        return self

    @property
    def label(self) -> str:
        return self.name or (self.path.name if self.path else "<data>")

    @classmethod
    def of(cls, value: str | Path | bytes | Source, name: str | None = None) -> Source:
        if isinstance(value, Source):
            return value
        if isinstance(value, bytes):
            return cls(data=value, name=name)
        return cls(path=Path(value))


class ReadOptions(_Request):
    """How to read a response file."""

    strict: bool = False
    date_format: str | None = None  # dmy | mdy | ymd (checked by the reader, with a message)
    sheet: str | None = None
    columns: Source | None = None  # a column map: header → id (CSV column,id or YAML)
    header_row: int | None = None  # the row of the headers (1-based); None: past any title rows
    source: str | None = None  # the tool that wrote the file (manyi.io.sources); None: told by its headers
    engine: str = "local"  # a Parquet dataset's parts read here (local) or on Dask workers (dask)
    scheduler: str | None = None  # a Dask scheduler's address (else a LocalCluster)


class ScoreRequest(_Request):
    instrument: Source
    responses: Source
    by: list[str] = Field(default_factory=list)
    period: str | None = None
    weights: str | None = None
    compare: str | None = None  # "previous"
    read: ReadOptions = Field(default_factory=ReadOptions)
    respondents: bool = True  # keep the per-response scores (large files score faster without)


class AnalysisOptions(_Request):
    """Options of the analyses (each uses those it knows)."""

    importance: str = "stated"  # ipa: stated | derived | relative
    cross: str = "mean"  # ipa: mean | midpoint
    adjust: str = "holm"  # compare: holm | bh | none
    period: str | None = None  # compare/spc
    outcome: str = ""  # drivers
    drivers: str = "dimensions"  # drivers: dimensions | items
    bootstrap: int = 1000
    factors: int | None = None  # reliability
    weights: str | None = None
    seed: int = 1


class AnalyzeRequest(_Request):
    name: str
    instrument: Source
    responses: Source
    by: list[str] = Field(default_factory=list)
    options: AnalysisOptions = Field(default_factory=AnalysisOptions)
    read: ReadOptions = Field(default_factory=ReadOptions)


class FitModelRequest(_Request):
    model: Source
    data: Source
    scheme: str | None = None
    bootstrap: int = 5000
    seed: int | None = 1
    read: ReadOptions = Field(default_factory=ReadOptions)
    engine: str = "local"  # local | dask: the bootstrap's blocks of resamples here or on Dask
    scheduler: str | None = None  # a Dask scheduler's address (else a LocalCluster)


class WeightRequest(_Request):
    responses: Source
    instrument: Source
    margins: Source
    method: str = "rake"
    cap: float | None = None
    floor: float | None = None
    read: ReadOptions = Field(default_factory=ReadOptions)


class SampleRequest(_Request):
    customers: Source
    n: int = 0
    moe: float = 0.0
    rate: float = 0.5
    sd: float = 0.0
    method: str = "srs"
    strata: str | None = None
    allocation: str = "proportional"
    sd_column: str | None = None
    deff: float = 1.0
    seed: int = 1


class ReportRequest(_Request):
    """The survey report (``manyi report``): a response file with its instrument, or a
    campaign of the store; optional model, cases and notes files."""

    instrument: Source | None = None
    responses: Source | None = None
    campaign: str | None = None
    by: list[str] = Field(default_factory=list)
    period: str | None = None  # month | quarter | year; None: month when the answers span months
    weights: str | None = None
    model: Source | None = None
    cases: Source | None = None
    notes: Source | None = None
    bootstrap: int = Field(200, ge=0, le=100_000)  # key drivers' bootstrap resamples
    seed: int = 1
    read: ReadOptions = Field(default_factory=ReadOptions)
