"""A person's recommendations for the report (``manyi report --notes FILE``).

Two plain forms, because the person who signs the report writes them:

* YAML — a list of recommendations, or a mapping with ``replace: true|false`` (replace the
  drafted ones, or add to them; default add) and ``recommendations:``; each is a text, or a
  mapping with ``text`` and ``evidence``::

      replace: false
      recommendations:
        - text: 在武汉试点预约提醒短信
          evidence: 武汉的满意率 61%，低于目标 85%

* Markdown — every top-level bullet (``-``, ``*`` or ``1.``) is a recommendation; an
  indented bullet under it is its evidence; a line ``replace: true`` replaces the drafted ones.
"""

from __future__ import annotations

import re
from pathlib import Path

from manyi.core.messages import ManyiError, Message

_BULLET = re.compile(r"^(\s*)(?:[-*+]|\d+[.)])\s+(.*\S)\s*$")


def _error(name: str, reason: str) -> ManyiError:
    return ManyiError(Message("report.bad_notes", {"file": name, "reason": reason}))


def _from_yaml(text: str, name: str) -> tuple[list[dict[str, str]], bool]:
    from manyi.io.yamlsafe import load

    doc = load(text, name)
    replace = False
    if isinstance(doc, dict):
        replace = bool(doc.get("replace", False))
        doc = doc.get("recommendations", [])
    if not isinstance(doc, list):
        raise _error(name, "recommendations: a list")
    out = []
    for k, entry in enumerate(doc, 1):
        if isinstance(entry, str | int | float):
            out.append({"text": str(entry)})
        elif isinstance(entry, dict) and str(entry.get("text", "")).strip():
            note = {"text": str(entry["text"]).strip()}
            if entry.get("evidence"):
                note["evidence"] = str(entry["evidence"]).strip()
            out.append(note)
        else:
            raise _error(name, f"#{k}: text")
    return out, replace


def _from_markdown(text: str) -> tuple[list[dict[str, str]], bool]:
    out: list[dict[str, str]] = []
    replace = False
    for line in text.splitlines():
        if line.strip().lower().replace(" ", "") == "replace:true":
            replace = True
            continue
        m = _BULLET.match(line)
        if not m:
            continue
        indent, body = m.group(1), m.group(2)
        if indent and out:
            prev = out[-1].get("evidence")
            out[-1]["evidence"] = f"{prev}; {body}" if prev else body
        else:
            out.append({"text": body})
    return out, replace


def load_notes(
    source: str | Path | bytes, name: str | None = None
) -> tuple[list[dict[str, str]], bool]:
    """The notes of a YAML or Markdown file: (recommendations, replace the drafted ones)."""
    if isinstance(source, bytes):
        raw, label = source, name or "notes"
    else:
        p = Path(source)
        label = name or p.name
        try:
            raw = p.read_bytes()
        except OSError as exc:
            raise ManyiError(
                Message("cli.os_error", {"file": label, "reason": exc.strerror or str(exc)})
            ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _error(label, "UTF-8") from None
    if label.lower().endswith((".yaml", ".yml")):
        return _from_yaml(text, label)
    return _from_markdown(text)
