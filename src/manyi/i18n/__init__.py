"""Translations as data: one catalogue per language (``locales/en.yaml``, ``locales/zh.yaml``)
in one key space — messages (``inst.*``, ``resp.*``, ...), column headings (``column.*``),
chart labels (``chart.*``), quadrant, category and rule names.

A :class:`Translator` is passed per call or per request (a web server serves both languages
at once); ``MANYI_LANG`` only picks the command line's default. Codes and parameters come
from ``manyi.core`` as :class:`Message`; this module turns them into text.
"""

from __future__ import annotations

import os
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import yaml

from manyi.core import messages as _messages
from manyi.core.messages import ManyiError, Message

LANGS = ("zh", "en")
__all__ = [
    "LANGS",
    "MESSAGES",
    "ManyiError",
    "Message",
    "Translator",
    "catalogue",
    "column",
    "default_lang",
    "t",
    "translator",
]


@cache
def catalogue(lang: str) -> dict[str, str]:
    """The catalogue of ``lang`` (key → text with ``{param}`` fields)."""
    text = (resources.files("manyi.i18n") / "locales" / f"{lang}.yaml").read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return dict(yaml.load(text, Loader=loader))


def default_lang() -> str:
    """The language from ``MANYI_LANG`` (zh or en), English if unset or unknown."""
    lang = os.environ.get("MANYI_LANG", "en").lower()[:2]
    return lang if lang in LANGS else "en"


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Translator:
    """Text in one language: ``tr("cli.error")``, ``tr("resp.where", file=..., row=...)``,
    ``tr.message(msg)``, ``tr.column("n_eff")``. Text parameters are cut to 200 characters,
    so that a huge bad cell is never echoed whole.

    >>> zh, en = Translator("zh"), Translator("en")
    >>> zh("quadrant.concentrate"), en("quadrant.concentrate")
    ('重点改进区', 'Concentrate here')
    >>> en.message(Message("an.too_few", {"method": "IPA", "n": 2, "minimum": 3}))
    'IPA needs at least 3 respondents with answers; there are 2'
    """

    def __init__(self, lang: str | None = None):
        self.lang = lang if lang in LANGS else default_lang()
        self._cat = catalogue(self.lang)

    def __call__(self, key: str, /, **params: Any) -> str:
        text = self._cat[key]
        return text.format(**{k: self._param(v) for k, v in params.items()})

    def _param(self, v: Any) -> Any:
        if isinstance(v, Message):  # a message inside a message, in the same language
            v = v.render(self.lang)
        return _cut(v) if isinstance(v, str) else v

    def get(self, key: str, default: str) -> str:
        return self._cat.get(key, default)

    @property
    def colon(self) -> str:
        """The colon after a label: full-width in Chinese (状态：), ': ' in English."""
        return "：" if self.lang == "zh" else ": "

    def message(self, msg: Message) -> str:
        return msg.render(self.lang)

    def column(self, name: str, table: str | None = None) -> str:
        """A table or column heading (the id itself when the catalogue has none); in
        ``table``, its own heading first where one column means something else there (the
        p-chart's ``p`` is a share, not a p-value)."""
        if table is not None and f"column.{table}.{name}" in self._cat:
            return self._cat[f"column.{table}.{name}"]
        return self._cat.get(f"column.{name}", name)


@lru_cache(maxsize=4)
def translator(lang: str | None = None) -> Translator:
    return Translator(lang)


def t(key: str, lang: str | None = None, /, **params: Any) -> str:
    """Render ``key`` in ``lang`` with ``params``."""
    return translator(lang if lang in LANGS else default_lang())(key, **params)


def column(name: str, lang: str | None = None, table: str | None = None) -> str:
    return translator(lang if lang in LANGS else default_lang()).column(name, table)


class _Messages(dict):
    """``MESSAGES[key] == {"zh": ..., "en": ...}`` for every key (a read-only view)."""

    def __init__(self) -> None:
        super().__init__({k: {lg: catalogue(lg)[k] for lg in LANGS} for k in catalogue("en")})


def __getattr__(name: str) -> Any:
    """``MESSAGES`` is built on first use: a command parses only the catalogue it speaks."""
    if name == "MESSAGES":
        globals()["MESSAGES"] = value = _Messages()
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _render(key: str, params: dict[str, Any], lang: str | None) -> str:
    return t(key, lang, **params)


_messages.set_renderer(_render)
