"""Validation of an instrument document: pydantic types, then what types cannot say (references,
weights, ids, shares on the wrong scale), every error with its YAML path and line."""

from __future__ import annotations

import math
from typing import Any

from pydantic import ValidationError

from manyi.core.instrument.spec import BUILTIN_SCALES, RESERVED_COLUMNS, SLUG, InstrumentSpec
from manyi.core.instrument.view import Instrument
from manyi.core.messages import ManyiError, Message

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
