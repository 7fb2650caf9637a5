"""The validated instrument: resolved scales, normalised weights, look-ups and labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from manyi.core.instrument.spec import (
    BUILTIN_SCALES,
    COMPANION_SCALES,
    Dimension,
    InstrumentSpec,
    Question,
    Scale,
    Scoring,
    Text,
    with_old_wording,
)
from manyi.core.messages import Message


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
    #: the expectation question's scale: the item's points, in the expectation's wording on
    #: the built-in satisfaction scales (the item's own wording reads too)
    expected_scale: Scale
    text: Text
    column: str | None = None  # its header in response files, when not the id


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
                        importance_scale=self._companion(i.scale, 0, i.importance_scale),
                        expected_scale=self._companion(i.scale, 1),
                        text=i.text,
                        column=i.column,
                    )
                )
        return out

    def _companion(self, scale: str, which: int, named: str | None = None) -> Scale:
        """The scale of an item's importance (``which`` 0) or expectation (1) answers: the one
        named, else the built-in companion of a built-in satisfaction scale (reading the
        item's wording too), else the item's own scale."""
        if named:
            return self.scales[named]
        own = self.scales[scale]
        if scale in COMPANION_SCALES and scale not in self.spec.scales:
            return with_old_wording(BUILTIN_SCALES[COMPANION_SCALES[scale][which]], own)
        return own

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

    def choice_labels(self, question_ids: list[str]) -> dict[str, dict[str, str]]:
        """Display labels of the choices of these questions, keyed ``question=choice`` (the
        groups of ``--by``: ``branch=beijing`` → {zh: 北京, en: Beijing})."""
        out: dict[str, dict[str, str]] = {}
        for q in self.questions:
            if q.id in question_ids:
                for c in q.choices or []:
                    if not isinstance(c, str):
                        out[f"{q.id}={c.id}"] = {"zh": c.label.zh, "en": c.label.en}
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
