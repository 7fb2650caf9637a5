"""Loading PLS model files: a file with a top-level ``model:`` section, or an instrument
whose ``model:`` section names constructs by items or dimensions (or a template)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from manyi.core.instrument import Instrument
from manyi.core.messages import ManyiError, Message
from manyi.core.pls import PLSModel
from manyi.io import yamlsafe
from manyi.io.instruments import parse_instrument


def load_model(
    path: str | Path | bytes, name: str | None = None
) -> tuple[PLSModel, Instrument | None]:
    """Read a model file (a path, or bytes with their ``name``); returns the model and, for
    an instrument file, the instrument."""
    if isinstance(path, bytes | bytearray):
        p = Path(name or "<model>")
        raw = bytes(path)
    else:
        p = Path(path)
        if not p.exists():
            raise ManyiError(Message("resp.not_found", {"file": str(p)}))
        if p.is_dir():
            raise ManyiError(Message("resp.is_folder", {"file": str(p)}))
        raw = p.read_bytes()
    text = raw.decode("utf-8-sig", errors="replace")
    data: Any = yamlsafe.load(text, p.name)
    if not isinstance(data, dict) or not isinstance(data.get("model"), dict):
        raise ManyiError(Message("pls.no_model", {"file": p.name}))
    instrument = None
    if "dimensions" in data:
        instrument = parse_instrument(text, p.name)
    return PLSModel.from_spec(data["model"], instrument), instrument
