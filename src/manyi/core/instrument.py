"""Survey definitions (instruments): the YAML format, its validation and derived views.

The format is documented in ``docs/instruments.md``. Loading happens in two stages: pydantic
checks the structure and types, then :func:`semantic_errors` checks what types cannot (scale
references, weight sums, unique ids). All errors are collected with their YAML path, and the
loader adds the line number, so a user sees every mistake at once.

This module does no I/O and reads no YAML: :func:`build_instrument` takes the parsed document
(:func:`manyi.io.instruments.parse_instrument` reads the text).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from manyi.core.messages import ManyiError, Message

SLUG = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]*$")
RESERVED_COLUMNS = {"response_id", "submitted_at", "customer_id", "weight", "period"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """A text in both languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


class Scale(_Model):
    """A rating scale from ``min`` to ``max`` in whole steps, with optional point labels."""

    min: float
    max: float
    labels: dict[float, Text] = Field(default_factory=dict)

    @property
    def points(self) -> int:
        return int(round(self.max - self.min)) + 1


def _labels(pairs: list[tuple[str, str]], lo: int) -> dict[float, Text]:
    return {float(lo + i): Text(zh=zh, en=en) for i, (zh, en) in enumerate(pairs)}


#: Built-in scales. likert5 is the direct-report scale of DOMAIN.md §1; likert7 the seven
#: satisfaction levels of seed 001 (很不满意 … 很满意).
BUILTIN_SCALES: dict[str, Scale] = {
    "likert5": Scale(
        min=1,
        max=5,
        labels=_labels(
            [
                ("很不满意", "Very dissatisfied"),
                ("不太满意", "Dissatisfied"),
                ("一般", "Neutral"),
                ("比较满意", "Satisfied"),
                ("很满意", "Very satisfied"),
            ],
            1,
        ),
    ),
    "likert7": Scale(
        min=1,
        max=7,
        labels=_labels(
            [
                ("很不满意", "Very dissatisfied"),
                ("不满意", "Dissatisfied"),
                ("不太满意", "Somewhat dissatisfied"),
                ("一般", "Neutral"),
                ("较满意", "Fairly satisfied"),
                ("满意", "Satisfied"),
                ("很满意", "Very satisfied"),
            ],
            1,
        ),
    ),
    "nps11": Scale(
        min=0,
        max=10,
        labels={
            0.0: Text(zh="完全不可能", en="Not at all likely"),
            10.0: Text(zh="极有可能", en="Extremely likely"),
        },
    ),
    "kano5": Scale(
        min=1,
        max=5,
        labels=_labels(
            [
                ("我很喜欢", "I like it"),
                ("理所当然", "I expect it"),
                ("无所谓", "I am neutral"),
                ("能忍受", "I can live with it"),
                ("我很不喜欢", "I dislike it"),
            ],
            1,
        ),
    ),
    "points100": Scale(min=0, max=100),
    "ten": Scale(
        min=1,
        max=10,
        labels={1.0: Text(zh="很差", en="Very poor"), 10.0: Text(zh="很好", en="Excellent")},
    ),
}


class Scoring(_Model):
    """How answers become 0-100 points and who counts as satisfied (REFERENCES.md)."""

    points: Literal["range", "ratio"] = "range"
    satisfied_at: float = 70.0  # on the 0-100 index; ranges checked in semantic_errors
    target_rate: float = 0.85  # a share, 0-1
    min_answered: float = 0.5  # a share of the weight, (0, 1]


class Item(_Model):
    id: str
    text: Text
    scale: str
    weight: float = 1.0
    reverse: bool = False
    expectation: bool = False
    importance: bool = False
    importance_scale: str | None = None  # scale of the __importance answers; default: scale
    tags: list[str] = Field(default_factory=list)


class Dimension(_Model):
    id: str
    label: Text
    weight: float | None = None
    items: list[Item]


class Choice(_Model):
    id: str
    label: Text


class Question(_Model):
    id: str
    type: Literal["nps", "rating", "text", "choice", "points"]
    text: Text
    scale: str | None = None
    role: Literal["segment"] | None = None
    metric: Literal["nps", "csat", "ces"] | None = None
    choices: list[Choice | str] | None = None
    dimension: str | None = None  # points: the dimension whose importance the points allocate

    @property
    def scale_name(self) -> str | None:
        if self.scale is None and self.type in ("nps", "points"):
            return "nps11" if self.type == "nps" else "points100"
        return self.scale

    @property
    def effective_metric(self) -> str | None:
        """nps for NPS questions; csat/ces declared by ``metric`` or by the id."""
        if self.metric:
            return self.metric
        if self.type == "nps":
            return "nps"
        if self.type == "rating" and self.id in ("csat", "ces"):
            return self.id
        return None

    def choice_codes(self) -> dict[str, str]:
        """Map every accepted spelling (code, zh and en label) to the choice code."""
        out: dict[str, str] = {}
        for c in self.choices or []:
            if isinstance(c, str):
                out[c.strip().lower()] = c
            else:
                for s in (c.id, c.label.zh, c.label.en):
                    out[s.strip().lower()] = c.id
        return out


class KanoPair(_Model):
    """A Kano attribute: the ids of its functional and dysfunctional questions (scale kano5)."""

    id: str
    label: Text
    functional: str
    dysfunctional: str


class InstrumentSpec(_Model):
    """The YAML document as written (structure only)."""

    manyi: Literal[1]
    id: str
    version: str
    title: Text
    description: Text | None = None
    scales: dict[str, Scale] = Field(default_factory=dict)
    scoring: Scoring = Field(default_factory=Scoring)
    dimensions: list[Dimension]
    questions: list[Question] = Field(default_factory=list)
    kano: list[KanoPair] = Field(default_factory=list)
    model: dict[str, Any] | None = None  # CSI model section (PLS), read by manyi.core.pls
    date_format: Literal["dmy", "mdy", "ymd"] | None = None  # order of 03/02/2026-style dates
    meta: dict[str, Any] = Field(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_as_text(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v


@dataclass(frozen=True)
class ItemView:
    """An item with everything scoring needs resolved."""

    id: str
    dimension: str
    scale_name: str
    scale: Scale
    weight: float  # normalised within its dimension (sums to 1)
    reverse: bool
    expectation: bool
    importance: bool
    importance_scale: Scale
    text: Text


class Instrument:
    """A validated instrument with resolved scales and normalised weights."""

    def __init__(self, spec: InstrumentSpec, source: str = "<string>"):
        self.spec = spec
        self.source = source
        self.notes: list[Message] = []  # what was assumed (e.g. item weights renormalised)

    # -- plain attributes ---------------------------------------------------------------
    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def title(self) -> Text:
        return self.spec.title

    @property
    def scoring(self) -> Scoring:
        return self.spec.scoring

    @property
    def dimensions(self) -> list[Dimension]:
        return self.spec.dimensions

    @property
    def questions(self) -> list[Question]:
        return self.spec.questions

    # -- derived views ------------------------------------------------------------------
    @cached_property
    def scales(self) -> dict[str, Scale]:
        return {**BUILTIN_SCALES, **self.spec.scales}

    @cached_property
    def dimension_weights(self) -> np.ndarray:
        """Dimension weights, equal when none are given."""
        ws = [d.weight for d in self.dimensions]
        if all(w is None for w in ws):
            return np.full(len(ws), 1.0 / len(ws))
        arr = np.array(ws, dtype=float)
        return arr / arr.sum()

    @cached_property
    def items(self) -> list[ItemView]:
        out = []
        for d in self.dimensions:
            total = sum(i.weight for i in d.items)
            for i in d.items:
                out.append(
                    ItemView(
                        id=i.id,
                        dimension=d.id,
                        scale_name=i.scale,
                        scale=self.scales[i.scale],
                        weight=i.weight / total,
                        reverse=i.reverse,
                        expectation=i.expectation,
                        importance=i.importance,
                        importance_scale=self.scales[i.importance_scale or i.scale],
                        text=i.text,
                    )
                )
        return out

    @cached_property
    def item_ids(self) -> list[str]:
        return [i.id for i in self.items]

    @cached_property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def item(self, item_id: str) -> ItemView:
        for i in self.items:
            if i.id == item_id:
                return i
        raise KeyError(item_id)

    def question(self, qid: str) -> Question:
        for q in self.questions:
            if q.id == qid:
                return q
        raise KeyError(qid)

    def metric_question(self, metric: str) -> Question | None:
        for q in self.questions:
            if q.effective_metric == metric:
                return q
        return None

    @property
    def segment_columns(self) -> list[str]:
        return [q.id for q in self.questions if q.role == "segment"]

    def labels(self) -> dict[str, dict[str, str]]:
        """Display labels of every id: dimensions, items, questions, Kano pairs ({zh, en})."""
        out: dict[str, dict[str, str]] = {}
        for d in self.dimensions:
            out[d.id] = {"zh": d.label.zh, "en": d.label.en}
        for q in self.questions:
            out[q.id] = {"zh": q.text.zh, "en": q.text.en}
        for i in self.items:
            out[i.id] = {"zh": i.text.zh, "en": i.text.en}
        for k in self.spec.kano:
            out[k.id] = {"zh": k.label.zh, "en": k.label.en}
        return out

    def summary(self, file: str, lang: str | None = None) -> str:
        return Message(
            "inst.summary",
            dict(
                file=file,
                id=self.id,
                version=self.version,
                n_dim=len(self.dimensions),
                n_items=len(self.items),
                n_exp=sum(i.expectation for i in self.items),
                n_imp=sum(i.importance for i in self.items),
                n_q=len(self.questions),
            ),
        ).render(lang)

    def __repr__(self) -> str:
        return (
            f"Instrument(id={self.id!r}, version={self.version!r}, "
            f"dimensions={len(self.dimensions)}, items={len(self.items)})"
        )


# --------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------
YamlPath = tuple[str | int, ...]


def format_path(path: YamlPath) -> str:
    """('dimensions', 0, 'items', 2, 'scale') -> 'dimensions[0].items[2].scale'."""
    out = ""
    for p in path:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(top)"


def _line_of(lines: dict[YamlPath, int], path: YamlPath) -> int | None:
    p = tuple(path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get(())


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, int | float):
        return None
    return float(v)


def _list(v: Any) -> list[Any]:
    return v if isinstance(v, list) else []


def _dict(v: Any) -> dict[Any, Any]:
    return v if isinstance(v, dict) else {}


def semantic_errors(data: dict[str, Any]) -> list[tuple[YamlPath, Message]]:
    """What the types cannot say: references, weights, ids. Returns (path, message) pairs.

    Works on the raw YAML data and skips what is malformed (pydantic reports that), so both
    kinds of error are shown together.
    """
    errs: list[tuple[YamlPath, Message]] = []
    user_scales = _dict(data.get("scales"))
    scales: dict[str, Any] = {**BUILTIN_SCALES, **user_scales}

    def slug(path: YamlPath, value: Any) -> None:
        if isinstance(value, str) and (not SLUG.match(value) or "__" in value):
            errs.append((path, Message("inst.bad_slug", {"id": value})))

    slug(("id",), data.get("id"))
    sc_ = _dict(data.get("scoring"))
    at = _num(sc_.get("satisfied_at"))
    if at is not None and not (1 < at <= 100 or at == 0):
        key = "inst.satisfied_at_share" if 0 < at <= 1 else "inst.satisfied_at_range"
        errs.append((("scoring", "satisfied_at"), Message(key, {"value": at, "hint": at * 100})))
    for field_, low_open in (("target_rate", False), ("min_answered", True)):
        v = _num(sc_.get(field_))
        if v is None:
            continue
        if not ((0 < v if low_open else 0 <= v) and v <= 1):
            key = "inst.share_percent" if 1 < v <= 100 else "inst.share_range"
            errs.append(
                (("scoring", field_), Message(key, {"field": field_, "value": v, "hint": v / 100}))
            )
    for name, sc in user_scales.items():
        sc = _dict(sc)
        lo, hi = _num(sc.get("min")), _num(sc.get("max"))
        if lo is None or hi is None:
            continue
        if not lo < hi:
            errs.append((("scales", name), Message("inst.scale_range", {"min": lo, "max": hi})))
            continue
        seen: dict[str, float] = {}
        for value, text in _dict(sc.get("labels")).items():
            v = _num(value)
            if v is None:
                continue
            if not lo <= v <= hi:
                errs.append(
                    (
                        ("scales", name, "labels", value),
                        Message("inst.label_outside", {"value": v, "min": lo, "max": hi}),
                    )
                )
            for lang in ("zh", "en"):
                t = _dict(text).get(lang)
                if not isinstance(t, str):
                    continue
                k = t.strip().lower()
                if k in seen and seen[k] != v:
                    errs.append(
                        (
                            ("scales", name, "labels", value),
                            Message("inst.label_ambiguous", {"label": t, "a": seen[k], "b": v}),
                        )
                    )
                seen[k] = v

    dims = _list(data.get("dimensions"))
    if "dimensions" in data and not dims:
        errs.append((("dimensions",), Message("inst.no_dimensions")))

    ids: dict[str, str] = {}

    def unique(path: YamlPath, value: Any) -> None:
        if not isinstance(value, str):
            return
        slug(path, value)
        if value in RESERVED_COLUMNS:
            errs.append((path, Message("inst.reserved_id", {"id": value})))
        if value in ids:
            errs.append((path, Message("inst.duplicate_id", {"id": value, "other": ids[value]})))
        else:
            ids[value] = format_path(path)

    weights = [_dict(d).get("weight") for d in dims]
    given = [w for w in weights if w is not None]
    if given:
        if len(given) < len(weights):
            errs.append((("dimensions",), Message("inst.dim_weights_partial")))
        elif all(_num(w) is not None for w in given):
            total = float(sum(_num(w) or 0.0 for w in given))
            if abs(total - 1.0) > 1e-6:
                errs.append(
                    (("dimensions",), Message("inst.dim_weights_sum", {"total": round(total, 9)}))
                )

    def check_scale(path: YamlPath, name: Any) -> None:
        if isinstance(name, str) and name not in scales:
            errs.append((path, Message("inst.unknown_scale", {"name": name})))

    used_scales: set[str] = set()
    for di, d in enumerate(dims):
        d = _dict(d)
        unique(("dimensions", di, "id"), d.get("id"))
        w = _num(d.get("weight"))
        if w is not None and not w > 0:
            errs.append((("dimensions", di, "weight"), Message("inst.weight_positive")))
        if "items" in d and not _list(d.get("items")):
            errs.append((("dimensions", di, "items"), Message("inst.no_items")))
        for ii, it in enumerate(_list(d.get("items"))):
            it = _dict(it)
            base: YamlPath = ("dimensions", di, "items", ii)
            unique(base + ("id",), it.get("id"))
            check_scale(base + ("scale",), it.get("scale"))
            check_scale(base + ("importance_scale",), it.get("importance_scale"))
            if isinstance(it.get("scale"), str) and it["scale"] in scales:
                used_scales.add(it["scale"])
            iw = _num(it.get("weight"))
            if iw is not None and not (iw > 0 and math.isfinite(iw)):
                errs.append((base + ("weight",), Message("inst.weight_positive")))

    for qi, q in enumerate(_list(data.get("questions"))):
        q = _dict(q)
        base = ("questions", qi)
        unique(base + ("id",), q.get("id"))
        if q.get("type") == "rating" and q.get("scale") is None:
            errs.append((base + ("scale",), Message("inst.question_scale", {"type": "rating"})))
        check_scale(base + ("scale",), q.get("scale"))
        if q.get("type") == "choice" and not q.get("choices"):
            errs.append((base + ("choices",), Message("inst.choice_needs_choices")))
        dims_ids = {_dict(d).get("id") for d in dims}
        if q.get("dimension") is not None and q.get("dimension") not in dims_ids:
            errs.append(
                (
                    base + ("dimension",),
                    Message("inst.unknown_ref", {"kind": "dimension", "id": q.get("dimension")}),
                )
            )

    question_ids = {_dict(q).get("id") for q in _list(data.get("questions"))}
    for ki, k in enumerate(_list(data.get("kano"))):
        k = _dict(k)
        unique(("kano", ki, "id"), k.get("id"))
        for side in ("functional", "dysfunctional"):
            if isinstance(k.get(side), str) and k[side] not in question_ids:
                errs.append(
                    (
                        ("kano", ki, side),
                        Message("inst.unknown_ref", {"kind": "question", "id": k[side]}),
                    )
                )

    if _dict(data.get("scoring")).get("points") == "ratio":
        for name in sorted(used_scales):
            lo = (
                _num(_dict(scales[name]).get("min"))
                if isinstance(scales[name], dict)
                else scales[name].min
            )
            if lo is not None and lo < 0:
                errs.append(
                    (("scoring", "points"), Message("inst.ratio_min", {"name": name, "min": lo}))
                )
    return errs


def weight_notes(data: dict[str, Any]) -> list[Message]:
    """Notes (not errors) on item weights that are used after renormalising: items with given
    weights whose sum is neither 1 nor their dimension's weight are used relative to each
    other inside the dimension."""
    notes = []
    for d in _list(data.get("dimensions")):
        d = _dict(d)
        raw = [_num(_dict(i).get("weight")) for i in _list(d.get("items"))]
        if not any(w is not None for w in raw):
            continue
        total = sum(1.0 if w is None else w for w in raw)
        dw = _num(d.get("weight"))
        if abs(total - 1) > 1e-6 and (dw is None or abs(total - dw) > 1e-6):
            notes.append(
                Message(
                    "inst.item_weights_renormalised",
                    {"dimension": d.get("id"), "total": round(total, 9)},
                )
            )
    return notes


def _pydantic_message(err: dict[str, Any]) -> Message:
    kind = err.get("type", "")
    loc = err.get("loc", ())
    if kind == "missing" and loc and loc[-1] in ("zh", "en"):  # a text without one language
        return Message("inst.text_missing_lang", {"missing": loc[-1]})
    if kind == "missing":
        return Message("inst.missing")
    if kind == "extra_forbidden":
        return Message("inst.extra")
    return Message("inst.field", {"detail": err.get("msg", kind)})


def _clean_loc(loc: tuple[Any, ...]) -> YamlPath:
    """Drop pydantic's union-branch names (e.g. 'Choice', 'str') from a location."""
    out: list[str | int] = []
    for p in loc:
        if isinstance(p, str) and (p in ("Choice", "str") or p.startswith("function-")):
            continue
        out.append(p)
    return tuple(out)


def build_instrument(
    data: Any, lines: dict[YamlPath, int] | None = None, source: str = "<string>"
) -> Instrument:
    """Validate instrument ``data`` (the parsed YAML document) and return an
    :class:`Instrument`; ``lines`` maps YAML paths to line numbers for the messages.

    Raises :class:`ManyiError` listing every error as ``source line N, path: message``.
    Reading YAML text is :func:`manyi.io.instruments.parse_instrument`.
    """
    name = source
    lines = lines or {}

    def where(path: YamlPath, lines: dict[YamlPath, int], msg: Message) -> Message:
        line = _line_of(lines, path)
        prefix = f"{name} line {line}, " if line else f"{name}, "
        return _Located(prefix + format_path(path) + ": ", msg)

    if not isinstance(data, dict):
        raise ManyiError(_Located(f"{name}: ", Message("inst.not_mapping")))

    located: list[tuple[int, Message]] = []
    spec = None
    try:
        spec = InstrumentSpec.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            path = _clean_loc(err["loc"])
            located.append((_line_of(lines, path) or 0, where(path, lines, _pydantic_message(err))))
    for path, msg in semantic_errors(data):
        located.append((_line_of(lines, path) or 0, where(path, lines, msg)))
    if located or spec is None:
        located.sort(key=lambda t: t[0])
        raise ManyiError(*(m for _, m in located))
    inst = Instrument(spec, source)
    inst.notes = weight_notes(data)
    if spec.model is not None:  # the CSI model section: constructs, dimensions, paths
        from manyi.core.pls import PLSModel

        try:
            PLSModel.from_spec(spec.model, inst)
        except ManyiError as exc:
            raise ManyiError(*(where(("model",), lines, m) for m in exc.messages)) from None
    return inst


class _Located(Message):
    """A message with a location prefix (file, line, path) that is the same in every language."""

    def __init__(self, prefix: str, inner: Message):
        super().__init__(inner.key, inner.params)
        self.prefix = prefix
        self.inner = inner

    def render(self, lang: str | None = None) -> str:
        return self.prefix + self.inner.render(lang)
