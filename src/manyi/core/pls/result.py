"""The fitted model: :class:`PLSResult` (tables with self-explaining columns) and its
:class:`Bootstrap` draws."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from manyi.core.messages import ManyiError, Message
from manyi.core.result import Result, as_float, jsonable

if TYPE_CHECKING:
    from manyi.core.pls.model import PLSModel


def _err(key: str, **params: Any) -> ManyiError:
    return ManyiError(Message(key, params))


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
    effects: pd.DataFrame  # from, to, direct, indirect, total (+ total_ and indirect_ se/p/ci)
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

    def _boot_params(self) -> dict[str, Any] | None:
        b = self.bootstrap
        if b is None:
            return None
        return {
            "resamples": b.resamples,
            "inadmissible": b.inadmissible,
            "seed": b.seed,
            "sign_change": b.sign_change,
        }

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
            "bootstrap": self._boot_params(),
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

        num = as_float

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
            "bootstrap": self._boot_params(),
            "warnings": [w.render(lang) if lang else jsonable(w) for w in self.warnings],
        }
