"""Messages as codes with parameters, and the error that carries them.

``core`` never holds words of a language: it records a :class:`Message` (a catalogue key and
its parameters) and raises :class:`ManyiError` with messages. The text comes from the
catalogues of :mod:`manyi.i18n` when a message is rendered for a user.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

#: Renders (key, params, lang) to text; :mod:`manyi.i18n` installs it when it is imported.
_renderer: Callable[[str, dict[str, Any], str | None], str] | None = None


def set_renderer(fn: Callable[[str, dict[str, Any], str | None], str]) -> None:
    global _renderer
    _renderer = fn


def render(key: str, params: dict[str, Any], lang: str | None = None) -> str:
    if _renderer is None:  # rendering is asked for: load the catalogues (not a layer import)
        importlib.import_module("manyi.i18n")
    assert _renderer is not None
    return _renderer(key, params, lang)


@dataclass
class Message:
    """A message to show a user: a catalogue key and its parameters."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)

    def render(self, lang: str | None = None) -> str:
        return render(self.key, self.params, lang)

    def to_dict(self) -> dict[str, Any]:
        return {"key": self.key, "params": dict(self.params)}

    def __str__(self) -> str:
        return self.render("en")


class ManyiError(Exception):
    """A user's mistake: one or more messages, shown without a traceback (exit code 2)."""

    def __init__(self, *messages: Message):
        self.messages = list(messages)
        super().__init__(*[m.key for m in messages])

    def __reduce__(self) -> tuple[Any, ...]:  # pickled with its messages (from Dask workers)
        return (self.__class__, tuple(self.messages))

    def render(self, lang: str | None = None) -> str:
        return "\n".join(m.render(lang) for m in self.messages)

    def __str__(self) -> str:
        return self.render("en")


def merge_messages(lists: list[list[Message]]) -> list[Message]:
    """Messages of several parts as one list: a message that repeats is kept once; messages
    that differ only in their counts (``n``) and examples (``rows``) become one, with the
    counts added and the first examples kept."""
    out: list[Message] = []
    seen: dict[tuple[Any, ...], int] = {}
    for msgs in lists:
        for m in msgs:
            fixed = tuple(sorted((k, str(v)) for k, v in m.params.items() if k not in ("n", "rows")))
            key = (m.key, fixed)
            if key not in seen:
                seen[key] = len(out)
                out.append(Message(m.key, dict(m.params)))
                continue
            prev = out[seen[key]]
            if "n" in m.params and "n" in prev.params:
                prev.params["n"] = prev.params["n"] + m.params["n"]
            if "rows" in m.params and "rows" in prev.params:
                shown = [r for r in str(prev.params["rows"]).replace(" …", "").split(", ") if r]
                more = [r for r in str(m.params["rows"]).replace(" …", "").split(", ") if r]
                both = shown + more
                prev.params["rows"] = ", ".join(both[:5]) + (" …" if len(both) > 5 else "")
    return out
