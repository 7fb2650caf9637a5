"""The specification of a PLS path model: constructs (mode A/B, items or an instrument
dimension), paths, the ACSI/ECSI templates, and how a ``model:`` section is read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from manyi.core.messages import ManyiError, Message


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScaleRange(_Strict):
    min: float
    max: float


class ConstructSpec(_Strict):
    """A construct: its measurement mode and items (or an instrument dimension's items)."""

    mode: Literal["A", "B"] = "A"
    items: list[str] | None = None
    dimension: str | None = None
    label: dict[str, str] | None = None  # {zh: ..., en: ...}

    @field_validator("mode", mode="before")
    @classmethod
    def _upper(cls, v: Any) -> Any:
        return v.upper() if isinstance(v, str) else v


class ModelSpec(_Strict):
    """The ``model:`` section of an instrument, or a model file."""

    template: Literal["acsi", "ecsi"] | None = None
    scheme: Literal["path", "centroid", "factorial"] = "path"
    scale: ScaleRange | None = None
    constructs: dict[str, ConstructSpec] = Field(default_factory=dict)
    paths: list[tuple[str, str]] = Field(default_factory=list)
    target: str | None = None  # the construct the IPMA explains (default: the last one)
    missing: Literal["mean", "casewise"] = "mean"
    max_iter: int = Field(300, ge=1)
    tol: float = Field(1e-7, gt=0)

    @field_validator("constructs", mode="before")
    @classmethod
    def _items_shorthand(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: ({"items": c} if isinstance(c, list) else c) for k, c in v.items()}
        return v


#: Structural models of the national indices. ACSI (Fornell et al. 1996); ECSI adds image
#: (Cassel & Eklöf 2001), as in the mobi example of SmartPLS and seminr.
TEMPLATES: dict[str, list[tuple[str, str]]] = {
    "acsi": [
        ("Expectation", "Quality"),
        ("Expectation", "Value"),
        ("Expectation", "Satisfaction"),
        ("Quality", "Value"),
        ("Quality", "Satisfaction"),
        ("Value", "Satisfaction"),
        ("Satisfaction", "Complaints"),
        ("Satisfaction", "Loyalty"),
        ("Complaints", "Loyalty"),
    ],
}
TEMPLATES["ecsi"] = [
    ("Image", "Expectation"),
    ("Image", "Satisfaction"),
    ("Image", "Loyalty"),
] + TEMPLATES["acsi"]

TEMPLATE_ORDER = [
    "Image",
    "Expectation",
    "Quality",
    "Value",
    "Satisfaction",
    "Complaints",
    "Loyalty",
]

#: Names under which an instrument's dimension is taken for a template construct.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "Image": ("image", "corporate_image", "形象", "企业形象"),
    "Expectation": ("expectation", "expectations", "expected_quality", "预期质量", "期望"),
    "Quality": ("quality", "perceived_quality", "感知质量"),
    "Value": ("value", "perceived_value", "感知价值"),
    "Satisfaction": ("satisfaction", "overall_satisfaction", "csi", "客户满意度", "满意度"),
    "Complaints": ("complaints", "complaint", "客户抱怨", "抱怨"),
    "Loyalty": ("loyalty", "客户忠诚度", "忠诚度", "忠诚"),
}


def _err(key: str, **params: Any) -> ManyiError:
    return ManyiError(Message(key, params))


def parse_model_spec(data: Mapping[str, Any], where: str = "model") -> ModelSpec:
    """Validate a ``model:`` mapping; errors name the field."""
    try:
        return ModelSpec.model_validate(dict(data))
    except ValidationError as exc:
        msgs = []
        for e in exc.errors():
            loc = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e["loc"])
            msgs.append(Message("pls.spec_field", {"where": loc, "detail": e.get("msg", "")}))
        raise ManyiError(*msgs) from None


def resolve_spec(spec: ModelSpec, instrument: Any = None) -> ModelSpec:
    """Fill a template's constructs from an instrument and dimension references from items."""
    constructs = dict(spec.constructs)
    paths = list(spec.paths)
    if spec.template:
        if not paths:
            paths = list(TEMPLATES[spec.template])
        names = [c for c in TEMPLATE_ORDER if any(c in p for p in TEMPLATES[spec.template])]
        for name in names:
            if name in constructs:
                continue
            dim = None
            if instrument is not None:
                for d in instrument.dimensions:
                    if (
                        d.id.lower() in SYNONYMS[name]
                        or d.id == name
                        or d.label.zh in SYNONYMS[name]
                    ):
                        dim = d.id
                        break
            if dim is None:
                raise _err(
                    "pls.template_missing",
                    template=spec.template,
                    construct=name,
                    names=", ".join(SYNONYMS[name][:3]),
                )
            constructs[name] = ConstructSpec(dimension=dim)
    if spec.template:
        order = [c for c in TEMPLATE_ORDER if c in constructs] + [
            c for c in constructs if c not in TEMPLATE_ORDER
        ]
        constructs = {c: constructs[c] for c in order}
    out = {}
    for name, c in constructs.items():
        if c.items is None:
            if c.dimension is None:
                raise _err("pls.no_items", construct=name)
            if instrument is None:
                raise _err("pls.dimension_needs_instrument", construct=name, dimension=c.dimension)
            items = [i.id for i in instrument.items if i.dimension == c.dimension]
            if not items:
                raise _err("pls.unknown_dimension", construct=name, dimension=c.dimension)
            c = c.model_copy(update={"items": items})
        out[name] = c
    return spec.model_copy(update={"constructs": out, "paths": paths})
