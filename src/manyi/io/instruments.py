"""Loading instrument YAML files (the format lives in manyi.core.instrument)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from manyi.core.instrument import Instrument, parse_instrument
from manyi.i18n import ManyiError, Message

EXAMPLES = ("servqual", "b2b-shipping", "after-sales", "ecsi")


def load_instrument(path: str | Path) -> Instrument:
    """Read and validate an instrument file; ``ManyiError`` lists every problem with its line."""
    p = Path(path)
    if not p.exists():
        raise ManyiError(Message("inst.field", {"detail": f"{p}: "}), Message("inst.not_found"))
    if p.is_dir():
        raise ManyiError(Message("resp.is_folder", {"file": str(p)}))
    try:
        text = p.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        text = p.read_bytes().decode("gb18030", errors="replace")
    return parse_instrument(text, source=p.name)


def example_path(name: str) -> Path:
    """Path of a shipped example instrument (servqual, b2b-shipping, after-sales, ecsi)."""
    return Path(str(resources.files("manyi") / "examples" / f"{name}.yaml"))


def load_example(name: str) -> Instrument:
    return load_instrument(example_path(name))
