"""Customer-satisfaction index models (ACSI, ECSI) by PLS path modelling.

A model reads like the theory (the seminr style)::

    model = PLSModel(
        constructs={"Image": ["IMAG1", "IMAG2"], "Satisfaction": {"mode": "A", "items": ["CUSA1", "CUSA2"]}},
        paths=[("Image", "Satisfaction")],
    )
    result = model.fit(df, bootstrap=5000, seed=1)
    result.summary(); result.paths; result.index; result.ipma()

Estimation: Wold/Lohmöller PLS with path (default), centroid or factorial inner weighting,
mode A or B outer weights, standardised indicators, Σ|ΔW| < 1e-7 and at most 300 iterations
(SmartPLS and seminr defaults), mean replacement (default) or case-wise deletion of missing
values. The algorithm works on the indicators' correlation matrix (``manyi.core.pls_engine``),
which makes bootstraps a handful of stacked matrix operations.

References: Wold (1982); Lohmöller (1989) *Latent Variable Path Modeling with Partial Least
Squares*; Fornell et al. (1996) ACSI, J. Marketing 60(4); ECSI (Cassel & Eklöf 2001);
Dijkstra & Henseler (2015) ρ_A; Henseler, Ringle & Sarstedt (2015) HTMT; Fornell & Larcker
(1981); Ringle & Sarstedt (2016) IPMA; Efron & Tibshirani (1993) bootstrap and BCa.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from scipy import stats

from manyi.core import pls_engine as eng
from manyi.core.messages import ManyiError, Message
from manyi.core.result import Result, jsonable

# --------------------------------------------------------------------------------------
# Specification
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------
@dataclass
class Bootstrap:
    resamples: int
    inadmissible: int
    seed: int | None
    sign_change: str
    paths: np.ndarray  # B × m × m
    total: np.ndarray
    weights: np.ndarray  # B × p × m
    loadings: np.ndarray
    r2: np.ndarray  # B × m
    item_mean_z: np.ndarray  # B × p: each resample's item means, in full-sample z units
    item_var_z: np.ndarray  # B × p: and variances
    htmt: np.ndarray | None = None  # B × m × m (absolute correlations, upper triangle)


@dataclass
class PLSResult:
    """A fitted PLS path model; tables are DataFrames with self-explaining columns."""

    model: PLSModel
    n: int
    iterations: int
    scheme: str
    missing: str
    constructs: list[str]
    items: list[str]
    outer: pd.DataFrame  # construct, item, weight, loading (+ se, ci with a bootstrap)
    paths: pd.DataFrame  # from, to, estimate, se, t, p, ci_low, ci_high, bca_low, bca_high, f2
    r2: pd.DataFrame  # construct, r2, r2_adj
    effects: pd.DataFrame  # from, to, direct, indirect, total (+ total se/ci)
    reliability: pd.DataFrame  # construct, alpha, rho_a, rho_c, ave
    htmt: pd.DataFrame  # construct × construct, absolute correlations (seminr, SmartPLS)
    htmt_signed: pd.DataFrame  # the same with signed correlations (Henseler et al. 2015)
    htmt_table: pd.DataFrame  # pairs: htmt, htmt_signed (+ se, ci, one-sided upper, verdicts)
    fornell_larcker: pd.DataFrame
    scores: pd.DataFrame  # n × constructs, standardised
    index: pd.Series  # 0-100 per construct (NaN without a scale)
    item_performance: pd.Series  # 0-100 per item
    rescaled_weights: pd.Series  # per item: (w/s) renormalised within its construct
    bootstrap: Bootstrap | None = None
    warnings: list[Message] = field(default_factory=list)
    construct_corr: pd.DataFrame | None = None
    index_table: pd.DataFrame | None = None  # construct, index (+ index_se, index_ci_low/high)

    def to_frame(self) -> pd.DataFrame:
        """The path table."""
        return self.paths.copy()

    def ipma(self, target: str | None = None) -> dict[str, pd.DataFrame]:
        """Importance–performance map (Ringle & Sarstedt 2016) for ``target``.

        Constructs: importance = total effect on the target, performance = 0-100 index.
        Indicators: importance = rescaled outer weight × its construct's total effect,
        performance = the item's mean on 0-100.
        """
        target = target or self.model.target
        if target not in self.constructs:
            raise _err("pls.unknown_target", target=target, have=", ".join(self.constructs))
        eff = self.effects[self.effects["to"] == target].set_index("from")["total"]
        rows = [
            {"construct": c, "importance": float(eff[c]), "performance": float(self.index[c])}
            for c in self.constructs
            if c != target and c in eff.index and eff[c] != 0
        ]
        ind = []
        for _, r in self.outer.iterrows():
            c = r["construct"]
            if c in eff.index and eff[c] != 0 and c != target:
                ind.append(
                    {
                        "construct": c,
                        "item": r["item"],
                        "importance": float(self.rescaled_weights[r["item"]] * eff[c]),
                        "performance": float(self.item_performance[r["item"]]),
                    }
                )
        return {
            "constructs": pd.DataFrame(rows, columns=["construct", "importance", "performance"]),
            "indicators": pd.DataFrame(
                ind, columns=["construct", "item", "importance", "performance"]
            ),
        }

    def summary(self) -> str:
        """A plain-text summary of the numbers (ids, no words of a language): paths, R²,
        reliability, 0-100 index. ``manyi.present`` renders them with names and headings."""
        lines = [f"scheme={self.scheme} n={self.n} iterations={self.iterations}"]
        if self.bootstrap:
            lines.append(
                f"bootstrap={self.bootstrap.resamples} inadmissible={self.bootstrap.inadmissible}"
            )
        with pd.option_context("display.width", 160, "display.max_columns", 20):
            lines += [
                "",
                self.paths.round(4).to_string(index=False),
                "",
                self.r2.round(4).to_string(index=False),
                "",
                self.reliability.round(4).to_string(index=False),
                "",
                self.index.round(2).to_string(),
            ]
        return "\n".join(lines)

    def as_result(self) -> Result:
        """The project's one result shape: every table by name, the options as parameters,
        construct labels given in the model."""
        ip = self.ipma()
        tables = {
            "paths": self.paths,
            "r2": self.r2,
            "outer": self.outer,
            "effects": self.effects,
            "reliability": self.reliability,
            "htmt": self.htmt_table,
            "index": self.index_table if self.index_table is not None else self.index.reset_index(),
            "ipma_constructs": ip["constructs"],
            "ipma_indicators": ip["indicators"],
        }
        params = {
            "scheme": self.scheme,
            "missing": self.missing,
            "iterations": self.iterations,
            "target": self.model.target,
            "bootstrap": None
            if self.bootstrap is None
            else {
                "resamples": self.bootstrap.resamples,
                "inadmissible": self.bootstrap.inadmissible,
                "seed": self.bootstrap.seed,
                "sign_change": self.bootstrap.sign_change,
            },
        }
        labels = {
            c: dict(self.model.spec.constructs[c].label)
            for c in self.constructs
            if self.model.spec.constructs[c].label
        }
        return Result("pls", self.n, tables, list(self.warnings), params, labels)

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        """The JSON of ``manyi model fit --format json``; warnings rendered in ``lang``
        (codes with parameters without it)."""

        def num(v: Any) -> float | None:
            return None if v is None or pd.isna(v) else float(v)

        paths = [
            {
                "from": r["from"],
                "to": r["to"],
                "estimate": float(r["estimate"]),
                "se": num(r.get("se")),
                "t": num(r.get("t")),
                "p": num(r.get("p")),
                "ci_low": num(r.get("ci_low")),
                "ci_high": num(r.get("ci_high")),
                "bca_low": num(r.get("bca_low")),
                "bca_high": num(r.get("bca_high")),
                "f2": num(r.get("f2")),
            }
            for _, r in self.paths.iterrows()
        ]
        return {
            "paths": paths,
            "r2": {r["construct"]: float(r["r2"]) for _, r in self.r2.iterrows()},
            "r2_adj": {r["construct"]: float(r["r2_adj"]) for _, r in self.r2.iterrows()},
            "outer": [
                {k: (num(v) if k not in ("construct", "item") else v) for k, v in r.items()}
                for r in self.outer.to_dict("records")
            ],
            "effects": [
                {k: (num(v) if k not in ("from", "to") else v) for k, v in r.items()}
                for r in self.effects.to_dict("records")
            ],
            "reliability": [
                {k: (num(v) if k != "construct" else v) for k, v in r.items()}
                for r in self.reliability.to_dict("records")
            ],
            "htmt": {c: {k: num(v) for k, v in row.items()} for c, row in self.htmt.iterrows()},
            "htmt_pairs": [
                {
                    k: (
                        v
                        if k.startswith("construct")
                        else bool(v)
                        if k.startswith("below")
                        else num(v)
                    )
                    for k, v in r.items()
                }
                for r in self.htmt_table.to_dict("records")
            ],
            "index": {c: num(v) for c, v in self.index.items()},
            "index_ci": None
            if self.bootstrap is None or self.index_table is None
            else {
                r["construct"]: [num(r.get("index_ci_low")), num(r.get("index_ci_high"))]
                for r in self.index_table.to_dict("records")
            },
            "r2_ci": None
            if self.bootstrap is None
            else {
                r["construct"]: [num(r.get("r2_ci_low")), num(r.get("r2_ci_high"))]
                for r in self.r2.to_dict("records")
            },
            "iterations": int(self.iterations),
            "n": int(self.n),
            "scheme": self.scheme,
            "missing": self.missing,
            "bootstrap": None
            if self.bootstrap is None
            else {
                "resamples": self.bootstrap.resamples,
                "inadmissible": self.bootstrap.inadmissible,
                "seed": self.bootstrap.seed,
                "sign_change": self.bootstrap.sign_change,
            },
            "warnings": [w.render(lang) if lang else jsonable(w) for w in self.warnings],
        }


# --------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------
class PLSModel:
    """A PLS path model: constructs (mode A/B, items) and paths (from → to)."""

    def __init__(
        self,
        constructs: Mapping[str, Any] | None = None,
        paths: Sequence[tuple[str, str]] | None = None,
        scheme: str = "path",
        scale: Mapping[str, float] | None = None,
        item_scales: Mapping[str, tuple[float, float]] | None = None,
        target: str | None = None,
        missing: str = "mean",
        max_iter: int = 300,
        tol: float = 1e-7,
        spec: ModelSpec | None = None,
    ):
        if spec is None:
            spec = parse_model_spec(
                {
                    "constructs": dict(constructs or {}),
                    "paths": [list(p) for p in (paths or [])],
                    "scheme": scheme,
                    "scale": dict(scale) if scale else None,
                    "target": target,
                    "missing": missing,
                    "max_iter": max_iter,
                    "tol": tol,
                }
            )
        self.spec = spec
        self.item_scales = dict(item_scales or {})
        self._validate()

    # -- construction helpers -----------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: ModelSpec | Mapping[str, Any], instrument: Any = None) -> PLSModel:
        """From a ``model:`` section (dict or ModelSpec), resolving templates/dimensions."""
        if not isinstance(spec, ModelSpec):
            spec = parse_model_spec(spec)
        spec = resolve_spec(spec, instrument)
        item_scales = {}
        if instrument is not None:
            for it in instrument.items:
                item_scales[it.id] = (it.scale.min, it.scale.max)
        return cls(spec=spec, item_scales=item_scales)

    @classmethod
    def template(cls, name: str, instrument: Any = None, **constructs: Any) -> PLSModel:
        """The ACSI or ECSI structure, constructs from an instrument or given as items."""
        return cls.from_spec({"template": name, "constructs": constructs}, instrument)

    def _validate(self) -> None:
        spec = self.spec
        names = list(spec.constructs)
        if not names:
            raise _err("pls.no_constructs")
        for f, t in spec.paths:
            for c in (f, t):
                if c not in spec.constructs:
                    raise _err(
                        "pls.undefined_construct",
                        path=f"{f} → {t}",
                        construct=c,
                        have=", ".join(names),
                    )
        in_path = {c for p in spec.paths for c in p}
        for c in names:
            if c not in in_path:
                raise _err("pls.isolated", construct=c)
            if not spec.constructs[c].items:
                raise _err("pls.no_items", construct=c)
        seen: dict[str, str] = {}
        for c in names:
            for i in spec.constructs[c].items or []:
                if i in seen:
                    raise _err("pls.item_twice", item=i, a=seen[i], b=c)
                seen[i] = c
        # acyclic: repeated removal of constructs without antecedents
        remaining = set(names)
        edges = set(spec.paths)
        while remaining:
            free = {c for c in remaining if not any(t == c and f in remaining for f, t in edges)}
            if not free:
                raise _err("pls.cycle", constructs=", ".join(sorted(remaining)))
            remaining -= free
        if spec.target is not None and spec.target not in spec.constructs:
            raise _err("pls.unknown_target", target=spec.target, have=", ".join(names))

    @property
    def constructs(self) -> list[str]:
        return list(self.spec.constructs)

    @property
    def items(self) -> list[str]:
        return [i for c in self.constructs for i in (self.spec.constructs[c].items or [])]

    @property
    def target(self) -> str:
        if self.spec.target:
            return self.spec.target
        # the last construct that has no successors, in definition order
        sinks = [c for c in self.constructs if not any(f == c for f, _ in self.spec.paths)]
        return sinks[-1]

    def layout(self) -> eng.Layout:
        names, items = self.constructs, self.items
        p, m = len(items), len(names)
        mask = np.zeros((p, m))
        blocks = []
        for j, c in enumerate(names):
            idx = np.array(
                [items.index(i) for i in self.spec.constructs[c].items or []], dtype=np.int64
            )
            mask[idx, j] = 1.0
            blocks.append(idx)
        P = np.zeros((m, m))
        for f, t in self.spec.paths:
            P[names.index(f), names.index(t)] = 1.0
        endo = [j for j in range(m) if P[:, j].any()]
        mode_b = np.array([self.spec.constructs[c].mode == "B" for c in names])
        return eng.Layout(mask, blocks, mode_b, P, endo, [np.flatnonzero(P[:, j]) for j in endo])

    # -- data ---------------------------------------------------------------------------
    def _prepare(self, data: pd.DataFrame) -> tuple[np.ndarray, list[Message], np.ndarray]:
        missing_cols = [i for i in self.items if i not in data.columns]
        if missing_cols:
            raise _err("pls.missing_items", items=", ".join(missing_cols[:8]))
        cols, bad = [], []
        for c in self.items:
            raw = data[c]
            num = pd.to_numeric(raw, errors="coerce")
            if not pd.api.types.is_numeric_dtype(raw.dtype):
                text = raw.astype("string").str.strip().str.lower()
                blank = text.isna() | text.isin(["", "na", "n/a", "nan", "null", "none", "不适用"])
                if (num.isna() & ~blank).any():
                    bad.append(c)
            cols.append(num.to_numpy(dtype=float, na_value=np.nan))
        if bad:
            raise _err("pls.not_numeric", items=", ".join(bad[:8]))
        X = np.column_stack(cols)
        warnings: list[Message] = []
        nmiss = int(np.isnan(X).sum())
        if self.spec.missing == "casewise":
            keep = ~np.isnan(X).any(axis=1)
            if (~keep).any():
                warnings.append(Message("pls.casewise", {"n": int((~keep).sum())}))
            X = X[keep]
        missing = np.isnan(X)
        if nmiss and self.spec.missing != "casewise":
            means = np.nanmean(X, axis=0)
            rows, cols = np.nonzero(np.isnan(X))
            X[rows, cols] = means[cols]
            warnings.append(Message("pls.mean_replaced", {"n": nmiss}))
        n = len(X)
        # the largest regression of the algorithm: a construct's antecedents (inner model) or
        # a formative (mode B) block's items (outer model)
        preds = [sum(1 for _, t in self.spec.paths if t == c) for c in self.constructs]
        preds += [
            len(self.spec.constructs[c].items or [])
            for c in self.constructs
            if self.spec.constructs[c].mode == "B"
        ]
        k = max(preds + [1])
        if n < max(10, k + 2):
            raise _err("pls.too_few", n=n, minimum=max(10, k + 2), k=k)
        if n < 10 * k:
            warnings.append(Message("pls.ten_times", {"n": n, "k": k, "minimum": 10 * k}))
        if n < len(self.items):
            warnings.append(Message("pls.fewer_than_items", {"n": n, "p": len(self.items)}))
        sd = X.std(axis=0, ddof=1)
        const = [self.items[k] for k in np.flatnonzero(~(sd > 0))]
        if const:
            raise _err("pls.constant", items=", ".join(const))
        return X, warnings, missing

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        bootstrap: int = 5000,
        seed: int | None = 1,
        scheme: str | None = None,
        indices: np.ndarray | None = None,
        sign_change: str = "none",
        level: float = 0.95,
        progress: Callable[[int, int], None] | None = None,
        batch: int | None = None,
        bootstrap_missing: str = "resample",
    ) -> PLSResult:
        """Estimate the model on ``data`` (one column per item) and optionally bootstrap it.

        ``bootstrap``: number of resamples (0 for none); ``seed`` makes them reproducible
        (indices drawn as ``numpy.random.default_rng(seed).integers(0, n, n)`` per resample,
        which is also what the seminr package draws for the same seed); ``indices`` (B × n)
        injects resamples. ``sign_change``: ``none`` (SmartPLS/seminr default) or
        ``individual`` (each resample's estimate takes the sign of the full-sample estimate).
        """
        scheme = scheme or self.spec.scheme
        if scheme not in eng.SCHEMES:
            raise _err("pls.bad_scheme", scheme=scheme)
        if sign_change not in ("none", "individual"):
            raise _err("pls.bad_sign_change", value=sign_change)
        if bootstrap < 0:
            raise _err("pls.bad_bootstrap", value=bootstrap)
        if bootstrap_missing not in ("resample", "once"):
            raise _err("pls.bad_bootstrap_missing", value=bootstrap_missing)
        X, warnings, miss = self._prepare(data)
        if bootstrap_missing == "once":
            miss = np.zeros_like(miss)
        n = len(X)
        lay = self.layout()
        mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
        Z = (X - mean) / sd
        R = (Z.T @ Z / (n - 1))[None]
        fit = eng.estimate(R, lay, scheme, self.spec.max_iter, self.spec.tol)
        if not fit.ok[0]:
            raise _err("pls.singular")
        if not fit.converged[0]:
            raise _err("pls.no_convergence", iterations=int(fit.passes[0]), tol=self.spec.tol)
        est = eng.estimates(R, fit.W, lay)
        W = fit.W[0]
        boot = None
        if bootstrap or indices is not None:
            boot = self._bootstrap(
                Z, miss, lay, scheme, bootstrap, seed, indices, sign_change, est, W, progress, batch
            )
            if boot.inadmissible:
                warnings.append(
                    Message(
                        "pls.inadmissible",
                        {"n": boot.inadmissible, "of": boot.resamples + boot.inadmissible},
                    )
                )
        return self._result(
            X, Z, miss, R[0], W, est, int(fit.passes[0]), scheme, boot, level, warnings, lay
        )

    def _bootstrap(
        self, Z, miss, lay, scheme, B, seed, indices, sign_change, est, W, progress, batch
    ) -> Bootstrap:
        n = len(Z)
        if indices is not None:
            indices = np.asarray(indices, dtype=np.int64)
            if (
                indices.ndim != 2
                or indices.shape[1] != n
                or (indices < 0).any()
                or (indices >= n).any()
            ):
                raise _err("pls.bad_indices", n=n)
            B = len(indices)
        mom = eng.Moments(Z, miss)
        p = Z.shape[1]
        rng = np.random.default_rng(seed)
        if batch is None:  # keep the counts block near 64 MB
            batch = int(max(16, min(1000, 8_000_000 // max(n, 1))))
        keep_paths, keep_total, keep_w, keep_l, keep_r2, keep_m, keep_v = [], [], [], [], [], [], []
        keep_h = []
        done = 0
        bad = 0
        while done < B:
            k = min(batch, B - done)
            # k resamples of n row indices, drawn in one call: the same stream as k draws of n
            idx = (
                indices[done : done + k]
                if indices is not None
                else rng.integers(0, n, size=(k, n), dtype=np.intp)
            )
            flat = (np.arange(k)[:, None] * n + idx).ravel()
            counts = np.bincount(flat, minlength=k * n).reshape(k, n).astype(float)
            N, sums, cross = mom.of(lambda M, c=counts: c @ M)
            Rb = eng.correlations_from_sums(N, sums, cross)
            finite = np.isfinite(Rb).all(axis=(1, 2))
            Rb[~finite] = np.eye(Z.shape[1])  # placeholder, dropped below
            f = eng.estimate(Rb, lay, scheme, self.spec.max_iter, self.spec.tol)
            e = eng.estimates(Rb, f.W, lay)
            good = finite & f.ok & f.converged & np.isfinite(e.paths).all(axis=(1, 2))
            bad += int((~good).sum())
            keep_paths.append(e.paths[good])
            keep_total.append(e.total[good])
            keep_w.append(f.W[good])
            keep_l.append(e.loadings[good])
            keep_r2.append(e.r2[good])
            keep_h.append(eng.htmt_stack(Rb[good], lay.blocks))
            M = sums / N[:, None]
            diag = cross.reshape(k, p, p)[:, np.arange(p), np.arange(p)]
            keep_m.append(M[good])
            keep_v.append(((diag - N[:, None] * M**2) / (N[:, None] - 1))[good])
            done += k
            if progress:
                progress(done, B)
        paths, total = np.concatenate(keep_paths), np.concatenate(keep_total)
        weights, loadings, r2 = (
            np.concatenate(keep_w),
            np.concatenate(keep_l),
            np.concatenate(keep_r2),
        )
        if sign_change == "individual":
            for arr, ref in (
                (paths, est.paths[0]),
                (total, est.total[0]),
                (weights, W),
                (loadings, est.loadings[0]),
            ):
                flip = np.sign(arr) * np.sign(ref) < 0
                arr[flip] = -arr[flip]
        return Bootstrap(
            len(paths),
            bad,
            seed if indices is None else None,
            sign_change,
            paths,
            total,
            weights,
            loadings,
            r2,
            np.concatenate(keep_m),
            np.concatenate(keep_v),
            np.concatenate(keep_h),
        )

    def _jackknife(
        self, Z: np.ndarray, miss: np.ndarray, lay: eng.Layout, scheme: str
    ) -> dict[str, np.ndarray]:
        """Leave-one-out (n ≤ 2000) or leave-one-group-out (1000 groups) estimates, for BCa.

        Each deletion's cross-products are the full sample's minus the deleted rows', so the
        jackknife costs one pass over the data.
        """
        from scipy import sparse

        n = len(Z)
        mom = eng.Moments(Z, miss)
        if n <= 2000:

            def prod(M: np.ndarray) -> np.ndarray:  # leave one row out
                return M.sum(axis=0) - M

        else:
            groups = np.arange(n) % 1000
            ind = sparse.csr_matrix((np.ones(n), (groups, np.arange(n))), shape=(1000, n))

            def prod(M: np.ndarray) -> np.ndarray:  # leave one group of rows out
                return M.sum(axis=0) - np.asarray(ind @ M)

        Rj = eng.correlations_from_sums(*mom.of(prod))
        f = eng.estimate(Rj, lay, scheme, self.spec.max_iter, self.spec.tol)
        e = eng.estimates(Rj, f.W, lay)
        return {"paths": e.paths, "total": e.total}

    def _result(
        self, X, Z, miss, R, W, est, iterations, scheme, boot, level, warnings, lay
    ) -> PLSResult:
        names, items = self.constructs, self.items
        n = len(X)
        Pm = lay.P
        loadings = est.loadings[0]
        CY = est.CY[0]
        paths_m = est.paths[0]
        total_m = est.total[0]
        r2 = est.r2[0]
        alpha_q = (1 - level) / 2
        jack = self._jackknife(Z, miss, lay, scheme) if boot is not None else None

        def inference(
            estimate: float, draws: np.ndarray, jk: np.ndarray | None
        ) -> dict[str, float]:
            if draws is None or len(draws) < 2:
                return {}
            se = float(np.std(draws, ddof=1))
            t = estimate / se if se > 0 else np.nan
            p = float(2 * stats.t.sf(abs(t), len(draws) - 1)) if se > 0 else np.nan
            lo, hi = np.quantile(draws, [alpha_q, 1 - alpha_q])
            res = {"se": se, "t": t, "p": p, "ci_low": float(lo), "ci_high": float(hi)}
            if jk is not None:
                res.update(
                    zip(("bca_low", "bca_high"), _bca(estimate, draws, jk, level), strict=True)
                )
            return res

        rows = []
        for i, f in enumerate(names):
            for j, t in enumerate(names):
                if Pm[i, j]:
                    row = {"from": f, "to": t, "estimate": float(paths_m[i, j])}
                    if boot is not None:
                        row.update(
                            inference(paths_m[i, j], boot.paths[:, i, j], jack["paths"][:, i, j])
                        )
                    row["f2"], conv = _f2(
                        R, lay, scheme, i, j, r2[j], self.spec.max_iter, self.spec.tol
                    )
                    if not conv:
                        warnings.append(Message("pls.f2_no_convergence", {"path": f"{f} → {t}"}))
                    rows.append(row)
        path_cols = (
            ["from", "to", "estimate"]
            + (["se", "t", "p", "ci_low", "ci_high", "bca_low", "bca_high"] if boot else [])
            + ["f2"]
        )
        paths = pd.DataFrame(rows, columns=path_cols)

        outer_rows = []
        for j, c in enumerate(names):
            for k in lay.blocks[j]:
                row = {
                    "construct": c,
                    "item": items[k],
                    "weight": float(W[k, j]),
                    "loading": float(loadings[k, j]),
                }
                if boot is not None:
                    for key, arr, ref in (
                        ("weight", boot.weights, W),
                        ("loading", boot.loadings, loadings),
                    ):
                        inf = inference(ref[k, j], arr[:, k, j], None)
                        row.update({f"{key}_{s}": inf.get(s) for s in ("se", "ci_low", "ci_high")})
                outer_rows.append(row)
        outer = pd.DataFrame(outer_rows)

        r2_rows = []
        for j in lay.endogenous:
            k = int(Pm[:, j].sum())
            row = {
                "construct": names[j],
                "r2": float(r2[j]),
                "r2_adj": float(1 - (1 - r2[j]) * (n - 1) / (n - k - 1)),
            }
            if boot is not None:
                inf = inference(r2[j], boot.r2[:, j], None)
                row.update({f"r2_{s_}": inf.get(s_) for s_ in ("se", "ci_low", "ci_high")})
            r2_rows.append(row)
        r2_df = pd.DataFrame(r2_rows)

        eff_rows = []
        for i, f in enumerate(names):
            for j, t in enumerate(names):
                if total_m[i, j] != 0 or Pm[i, j]:
                    row = {
                        "from": f,
                        "to": t,
                        "direct": float(paths_m[i, j]),
                        "indirect": float(total_m[i, j] - paths_m[i, j]),
                        "total": float(total_m[i, j]),
                    }
                    if boot is not None:
                        inf = inference(total_m[i, j], boot.total[:, i, j], jack["total"][:, i, j])
                        row.update(
                            {f"total_{s}": inf.get(s) for s in ("se", "p", "ci_low", "ci_high")}
                        )
                    eff_rows.append(row)
        effects = pd.DataFrame(eff_rows)

        reliability = _reliability(R, W, loadings, lay, names)
        ave = reliability.set_index("construct")["ave"]
        CYdf = pd.DataFrame(CY, index=names, columns=names)
        fl = CYdf.copy()
        for c in names:
            fl.loc[c, c] = np.sqrt(ave[c])
        htmt = pd.DataFrame(eng.htmt_stack(R[None], lay.blocks)[0], index=names, columns=names)
        htmt_signed = pd.DataFrame(
            eng.htmt_stack(R[None], lay.blocks, signed=True)[0], index=names, columns=names
        )
        htmt_rows = []
        for i, a in enumerate(names):
            for j in range(i + 1, len(names)):
                row = {
                    "construct_a": a,
                    "construct_b": names[j],
                    "htmt": float(htmt.iloc[i, j]),
                    "htmt_signed": float(htmt_signed.iloc[i, j]),
                }
                if boot is not None and boot.htmt is not None:
                    d = boot.htmt[:, i, j]
                    d = d[np.isfinite(d)]
                    lo_, hi_ = np.quantile(d, [alpha_q, 1 - alpha_q])
                    upper = float(np.quantile(d, level))  # one-sided upper bound
                    row.update(
                        se=float(np.std(d, ddof=1)),
                        ci_low=float(lo_),
                        ci_high=float(hi_),
                        upper=upper,
                        below_085=upper < 0.85,
                        below_090=upper < 0.90,
                    )
                htmt_rows.append(row)
        htmt_table = pd.DataFrame(htmt_rows)
        scores = pd.DataFrame(Z @ W, columns=names)

        # 0-100 index (ACSI): unstandardised weights w/s renormalised, applied to 0-100 item means
        lo_hi = []
        for it in items:
            if self.spec.scale is not None:
                lo_hi.append((self.spec.scale.min, self.spec.scale.max))
            elif it in self.item_scales:
                lo_hi.append(self.item_scales[it])
            else:
                lo_hi.append((np.nan, np.nan))
        lo, hi = np.array(lo_hi).T
        pts = (X - lo) / (hi - lo) * 100
        pts_mean = pts.mean(axis=0)
        pts_sd = pts.std(axis=0, ddof=1)
        rescaled = np.zeros(len(items))
        index = {}
        index_rows = []
        if boot is not None:  # each resample's item means and SDs on 0-100, from its counts
            sd_x = X.std(axis=0, ddof=1)
            b_mean = (X.mean(axis=0) + sd_x * boot.item_mean_z - lo) / (hi - lo) * 100
            b_sd = sd_x * np.sqrt(boot.item_var_z) / (hi - lo) * 100
        for j, c in enumerate(names):
            blk = lay.blocks[j]
            u = W[blk, j] / pts_sd[blk]
            u = u / u.sum()
            rescaled[blk] = u
            index[c] = float(u @ pts_mean[blk])
            row = {"construct": c, "index": index[c]}
            if boot is not None:
                ub = boot.weights[:, blk, j] / b_sd[:, blk]
                ub = ub / ub.sum(axis=1, keepdims=True)
                draws = (ub * b_mean[:, blk]).sum(axis=1)
                inf = inference(index[c], draws, None)
                row.update({f"index_{s_}": inf.get(s_) for s_ in ("se", "ci_low", "ci_high")})
            index_rows.append(row)
        if np.isnan(lo).any():
            warnings.append(Message("pls.no_scale"))
        return PLSResult(
            model=self,
            n=n,
            iterations=iterations,
            scheme=scheme,
            missing=self.spec.missing,
            constructs=names,
            items=items,
            outer=outer,
            paths=paths,
            r2=r2_df,
            effects=effects,
            reliability=reliability,
            htmt=htmt,
            htmt_signed=htmt_signed,
            htmt_table=htmt_table,
            fornell_larcker=fl,
            scores=scores,
            index=pd.Series(index, name="index"),
            item_performance=pd.Series(pts_mean, index=items, name="performance"),
            rescaled_weights=pd.Series(rescaled, index=items, name="rescaled_weight"),
            bootstrap=boot,
            warnings=warnings,
            construct_corr=CYdf,
            index_table=pd.DataFrame(index_rows),
        )


def _f2(
    R: np.ndarray,
    lay: eng.Layout,
    scheme: str,
    i: int,
    j: int,
    r2_incl: float,
    max_iter: int,
    tol: float,
) -> tuple[float, bool]:
    """Cohen's f² of the path i → j: (R²_incl − R²_excl)/(1 − R²_incl), R²_excl from the model
    re-estimated without the path (Hair et al. 2017, as seminr does).

    Constructs that the reduced model leaves on no path are dropped from it (as seminr does):
    they have no inner proxy and would stop the algorithm. Returns (f², converged); a reduced
    fit that does not converge gives NaN and ``False``.
    """
    P = lay.P.copy()
    P[i, j] = 0.0
    if not P[:, j].any():
        return float(r2_incl / (1 - r2_incl)), True
    keep = [k for k in range(P.shape[0]) if P[k, :].any() or P[:, k].any()]
    P = P[np.ix_(keep, keep)]
    blocks_old = [lay.blocks[k] for k in keep]
    items = np.concatenate(blocks_old)
    pos = {int(it): q for q, it in enumerate(items)}
    blocks = [np.array([pos[int(it)] for it in b], dtype=np.int64) for b in blocks_old]
    mask = np.zeros((len(items), len(keep)))
    for c, b in enumerate(blocks):
        mask[b, c] = 1.0
    endo = [k for k in range(len(keep)) if P[:, k].any()]
    sub = eng.Layout(
        mask, blocks, lay.mode_b[keep], P, endo, [np.flatnonzero(P[:, k]) for k in endo]
    )
    Rs = R[np.ix_(items, items)][None]
    f = eng.estimate(Rs, sub, scheme, max_iter, tol)
    if not (f.ok[0] and f.converged[0]):
        return float("nan"), False
    r2_excl = float(eng.estimates(Rs, f.W, sub).r2[0, keep.index(j)])
    if not np.isfinite(r2_excl):
        return float("nan"), False
    return float((r2_incl - r2_excl) / (1 - r2_incl)), True


def _reliability(R, W, loadings, lay, names) -> pd.DataFrame:
    """Cronbach's α (standardised), ρ_A (Dijkstra & Henseler 2015), ρ_C and AVE (Fornell & Larcker 1981).

    ρ_A is defined for reflective (mode A) blocks; for a formative (mode B) block it is
    reported as 1, as seminr does (SmartPLS reports none).
    """
    rows = []
    for j, c in enumerate(names):
        blk = lay.blocks[j]
        k = len(blk)
        lam = loadings[blk, j]
        rc = float(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()))
        ave = float((lam**2).mean())
        if k == 1:
            rows.append({"construct": c, "alpha": 1.0, "rho_a": 1.0, "rho_c": rc, "ave": ave})
            continue
        S = R[np.ix_(blk, blk)]
        alpha = float(k / (k - 1) * (1 - k / S.sum()))
        if lay.mode_b[j]:  # ρ_A is defined for reflective (mode A) blocks; seminr reports 1
            rows.append({"construct": c, "alpha": alpha, "rho_a": 1.0, "rho_c": rc, "ave": ave})
            continue
        w = W[blk, j]
        ww = np.outer(w, w)
        off_s = S - np.diag(np.diag(S))
        off_w = ww - np.diag(np.diag(ww))
        rho_a = float((w @ w) ** 2 * (w @ off_s @ w) / (w @ off_w @ w))
        rows.append({"construct": c, "alpha": alpha, "rho_a": rho_a, "rho_c": rc, "ave": ave})
    return pd.DataFrame(rows, columns=["construct", "alpha", "rho_a", "rho_c", "ave"])


def _bca(estimate: float, draws: np.ndarray, jack: np.ndarray, level: float) -> tuple[float, float]:
    """Bias-corrected and accelerated percentile interval (Efron & Tibshirani 1993, §14.3)."""
    B = len(draws)
    prop = (np.sum(draws < estimate) + 0.5 * np.sum(draws == estimate)) / B
    if prop <= 0 or prop >= 1:
        return (np.nan, np.nan)
    z0 = stats.norm.ppf(prop)
    d = jack.mean() - jack
    denom = 6 * (np.sum(d**2) ** 1.5)
    acc = float(np.sum(d**3) / denom) if denom > 0 else 0.0
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        zq = stats.norm.ppf(q)
        adj = stats.norm.cdf(z0 + (z0 + zq) / (1 - acc * (z0 + zq)))
        out.append(float(np.quantile(draws, adj)))
    return out[0], out[1]
