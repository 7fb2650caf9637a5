"""Loading instrument YAML files (the format lives in manyi.core.instrument)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import yaml

from manyi.core.instrument import Instrument, YamlPath, build_instrument
from manyi.core.messages import ManyiError, Message
from manyi.io import yamlsafe

EXAMPLES = ("servqual", "b2b-shipping", "after-sales", "ecsi")


def load_instrument(path: str | Path | bytes, name: str | None = None) -> Instrument:
    """Read and validate an instrument file; ``ManyiError`` lists every problem with its line.

    Example::

        >>> from manyi.io.instruments import example_path, load_instrument
        >>> inst = load_instrument(example_path("after-sales"))
        >>> inst.id, len(inst.dimensions), len(inst.items)
        ('after-sales', 5, 15)
    """
    if isinstance(path, bytes | bytearray):
        return parse_instrument(_decode(bytes(path)), source=name or "<instrument>")
    p = Path(path)
    if not p.exists():
        raise ManyiError(Message("resp.not_found", {"file": str(p)}))
    if p.is_dir():
        raise ManyiError(Message("resp.is_folder", {"file": str(p)}))
    return parse_instrument(_decode(p.read_bytes()), source=p.name)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def parse_instrument(text: str, source: str = "<string>") -> Instrument:
    """Validate YAML ``text`` and return an :class:`Instrument`.

    The text is checked first (size, alias expansion, nesting, duplicate keys:
    :mod:`manyi.io.yamlsafe`); then every error is listed as ``source line N, path: message``.
    """
    data, root = yamlsafe.load_with_nodes(text, source)
    return build_instrument(data, _line_map(root), source)


def _line_map(root: yaml.Node | None) -> dict[YamlPath, int]:
    """Line number (1-based) of every node of a YAML document's graph, by path."""
    lines: dict[YamlPath, int] = {}

    def walk(node: yaml.Node, path: YamlPath) -> None:
        lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                key = k.value
                # pydantic reports dict keys of float type as their text; keep as written
                lines[path + (key,)] = k.start_mark.line + 1
                walk(v, path + (key,))
                lines[path + (key,)] = k.start_mark.line + 1
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                walk(v, path + (i,))

    if root is not None:
        walk(root, ())
    return lines


def example_path(name: str) -> Path:
    """Path of a shipped example instrument (servqual, b2b-shipping, after-sales, ecsi)."""
    return Path(str(resources.files("manyi") / "examples" / f"{name}.yaml"))


def load_example(name: str) -> Instrument:
    return load_instrument(example_path(name))
