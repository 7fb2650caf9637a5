"""Parquet datasets: a directory (Hive-partitioned ``key=value/`` folders or not), a glob, or
one file, on the local disk or on object storage (``s3://``, ``gs://``, ``abfs://``, … through
fsspec). A dataset is scored part by part (one Parquet file each), in this process or on a Dask
cluster (``manyi.services.distributed``); both read a part with :func:`read_part`.

Partition keys of Hive folders (``region=north/``) become text columns of every row of the
part (ids and segments stay text: ``0101`` keeps its zero), usable with ``--by``.
"""

from __future__ import annotations

import glob as globlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pandas as pd

from manyi.core.messages import ManyiError, Message


@dataclass(frozen=True)
class Part:
    """One Parquet file of a dataset: where it is, its name in messages (relative to the
    dataset's root), and its partition keys."""

    path: str
    name: str
    keys: dict[str, str | None] = field(default_factory=dict)
    protocol: str = "file"
    storage: dict[str, Any] = field(default_factory=dict)  # fsspec options (credentials)


def _text(path: str | Path) -> str:
    """A path or URL as text (a URL that went through ``Path`` has lost a slash: s3:/b/k)."""
    return re.sub(r"^([A-Za-z][A-Za-z0-9+.-]+):/(?!/)", r"\1://", str(path))


def is_dataset(path: str | Path) -> bool:
    """Whether ``path`` names a dataset rather than one file: a directory, a glob, or a URL."""
    text = _text(path)
    return "://" in text or any(c in text for c in "*?[") or Path(text).is_dir()


HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"  # what Hive, Spark and pyarrow write for a missing key


def _keys(relative: str) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for seg in relative.split("/")[:-1]:
        if "=" in seg:
            k, v = seg.split("=", 1)
            out[unquote(k)] = None if v == HIVE_NULL else unquote(v)
    return out


def _glob_base(pattern: str) -> str:
    """The folder a glob starts from: its path up to the last ``/`` before a wildcard."""
    first = min(i for i, c in enumerate(pattern) if c in "*?[")
    head = pattern[:first]
    return head.rsplit("/", 1)[0] if "/" in head else ""


def dataset_parts(path: str | Path, storage: dict[str, Any] | None = None) -> list[Part]:
    """The Parquet files of a dataset, in a fixed order (sorted by path), with their keys."""
    text = _text(path)
    storage = dict(storage or {})
    if "://" in text and not text.startswith("file://"):
        try:
            import fsspec
        except ImportError:
            raise ManyiError(Message("parts.need_fsspec", {"path": text})) from None
        fs, root = fsspec.core.url_to_fs(text, **storage)
        protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        if any(c in root for c in "*?["):
            files = sorted(fs.glob(root))
            base = _glob_base(root)
        elif fs.isdir(root):
            files = sorted(f for f in fs.find(root) if f.endswith(".parquet"))
            base = root.rstrip("/")
        else:
            files, base = [root], root.rsplit("/", 1)[0]
        return [
            Part(f"{protocol}://{f}", f[len(base):].lstrip("/") or f, _keys(f[len(base):].lstrip("/")),
                 protocol, storage)
            for f in files
        ]
    text = text.removeprefix("file://")
    if any(c in text for c in "*?["):
        files = sorted(globlib.glob(text, recursive=True))
        base = Path(_glob_base(text) or ".")
    elif Path(text).is_dir():
        base = Path(text)
        files = sorted(str(p) for p in base.rglob("*.parquet") if p.is_file())
    else:
        base = Path(text).parent
        files = [text] if Path(text).is_file() else []
    files = [f for f in files if Path(f).is_file() and not Path(f).name.startswith(("_", "."))]
    if not files:
        raise ManyiError(Message("parts.none", {"path": text}))
    parts = []
    for f in files:
        rel = Path(f).resolve().relative_to(base.resolve()).as_posix()
        parts.append(Part(f, rel, _keys(rel)))
    return parts


def read_part(part: Part) -> pd.DataFrame:
    """A part's table of raw cells, as ``manyi.io.responses.read_table`` reads a Parquet file
    (the tool's columns told and renamed), with the partition keys as text columns."""
    from manyi.io.responses import read_table

    if part.protocol == "file":
        df = read_table(part.path)
    else:
        import fsspec

        with fsspec.open(part.path, "rb", **part.storage) as f:
            df = read_table(f.read(), name=Path(part.name).name)
    for k, v in part.keys.items():
        if k not in df.columns:
            df[k] = pd.Series([v] * len(df), dtype=object)
    return df
