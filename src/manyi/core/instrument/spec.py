"""The instrument as written: pydantic models of the YAML document and the built-in scales."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

#: an id: a letter of any script first (订舱服务, q1, Q_3), then letters, digits, "_" or "-"
SLUG = re.compile(r"^[^\W\d_][\w\-]*$")
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
    #: other wordings of the points that answers use (built-in scales: the usual Chinese sets)
    aliases: dict[str, float] = Field(default_factory=dict)

    @property
    def points(self) -> int:
        return int(round(self.max - self.min)) + 1

    def label_map(self) -> dict[str, float]:
        """Every label and alias, normalised with :func:`label_key`, → its point."""
        out = {label_key(k): v for k, v in self.aliases.items()}
        for v, t in self.labels.items():
            out[label_key(t.zh)] = v
            out[label_key(t.en)] = v
        return out


def label_key(text: str) -> str:
    """A label as it is matched: NFKC (full-width letters and digits become ASCII), no spaces
    around or inside, lower case."""
    import unicodedata

    return "".join(unicodedata.normalize("NFKC", str(text)).split()).lower()


def _labels(pairs: list[tuple[str, str]], lo: int) -> dict[float, Text]:
    return {float(lo + i): Text(zh=zh, en=en) for i, (zh, en) in enumerate(pairs)}


#: Built-in scales. likert5 is the usual five-point direct-report scale of Chinese satisfaction
#: surveys; likert7 the seven satisfaction levels (很不满意 … 很满意).
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
        # the other usual Chinese wordings of a five-point satisfaction question
        aliases={"非常满意": 5, "满意": 4, "较满意": 4, "不满意": 2, "比较不满意": 2, "非常不满意": 1,
                 "neither satisfied nor dissatisfied": 3,
                 # the wording of Qualtrics' and SurveyMonkey's five-point satisfaction scales
                 "extremely satisfied": 5, "somewhat satisfied": 4, "somewhat dissatisfied": 2,
                 "extremely dissatisfied": 1},
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
        aliases={"非常满意": 7, "比较满意": 5, "比较不满意": 3, "非常不满意": 1},
    ),
    # the wording of the importance and the expectation asked beside a satisfaction item
    # (Parasuraman, Zeithaml & Berry 1988 ask the expected level; importance anchors as in
    # Vagias 2006): the same points as likert5/likert7, their own labels
    "importance5": Scale(
        min=1,
        max=5,
        labels=_labels(
            [
                ("很不重要", "Not at all important"),
                ("不太重要", "Slightly important"),
                ("一般", "Moderately important"),
                ("比较重要", "Very important"),
                ("很重要", "Extremely important"),
            ],
            1,
        ),
        aliases={"非常重要": 5, "重要": 4, "较重要": 4, "不重要": 2, "非常不重要": 1},
    ),
    "importance7": Scale(
        min=1,
        max=7,
        labels=_labels(
            [
                ("很不重要", "Not at all important"),
                ("不重要", "Low importance"),
                ("不太重要", "Slightly important"),
                ("一般", "Neutral"),
                ("较重要", "Moderately important"),
                ("重要", "Very important"),
                ("很重要", "Extremely important"),
            ],
            1,
        ),
        aliases={"非常重要": 7, "比较重要": 5, "比较不重要": 3, "非常不重要": 1},
    ),
    "expectation5": Scale(
        min=1,
        max=5,
        labels=_labels(
            [("很低", "Very low"), ("较低", "Low"), ("一般", "Moderate"), ("较高", "High"),
             ("很高", "Very high")],
            1,
        ),
        aliases={"非常低": 1, "低": 2, "高": 4, "非常高": 5},
    ),
    "expectation7": Scale(
        min=1,
        max=7,
        labels=_labels(
            [("很低", "Very low"), ("低", "Low"), ("较低", "Somewhat low"), ("一般", "Moderate"),
             ("较高", "Somewhat high"), ("高", "High"), ("很高", "Very high")],
            1,
        ),
        aliases={"非常低": 1, "非常高": 7},
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


#: The importance and expectation wordings of the built-in satisfaction scales: an item on
#: ``likert5`` asks its importance on ``importance5`` (unless ``importance_scale`` says
#: otherwise) and shows its expectation question with ``expectation5``'s labels.
COMPANION_SCALES: dict[str, tuple[str, str]] = {
    "likert5": ("importance5", "expectation5"),
    "likert7": ("importance7", "expectation7"),
}


def with_old_wording(scale: Scale, old: Scale) -> Scale:
    """``scale`` that also reads the labels and aliases of ``old`` (the same points): answers
    written with the item's own wording, as before the companion scales, still read."""
    aliases = {**old.aliases}
    for v, t in old.labels.items():
        aliases[t.zh], aliases[t.en] = v, v
    return scale.model_copy(update={"aliases": {**aliases, **scale.aliases}})


class Scoring(_Model):
    """How answers become 0-100 points and who counts as satisfied (docs/scoring.md)."""

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
    column: str | None = None  # the header of its column in response files, when not the id


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
    column: str | None = None  # the header of its column in response files, when not the id

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
