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
values. The algorithm works on the indicators' correlation matrix (``manyi.core.pls.engine``),
which makes bootstraps a handful of stacked matrix operations.

References: Wold (1982); Lohmöller (1989) *Latent Variable Path Modeling with Partial Least
Squares*; Fornell et al. (1996) ACSI, J. Marketing 60(4); ECSI (Cassel & Eklöf 2001);
Dijkstra & Henseler (2015) ρ_A; Henseler, Ringle & Sarstedt (2015) HTMT; Fornell & Larcker
(1981); Ringle & Sarstedt (2016) IPMA; Efron & Tibshirani (1993) bootstrap and BCa.

Modules: ``spec`` (the model as written, templates), ``model`` (:class:`PLSModel`),
``engine`` (the algorithm on stacks of correlation matrices), ``inference`` (bootstrap,
jackknife, BCa), ``quality`` (f², reliability), ``index`` (the 0–100 index), ``tables`` and
``result`` (:class:`PLSResult`).
"""

from __future__ import annotations

from manyi.core.pls.model import PLSModel
from manyi.core.pls.quality import f2 as _f2
from manyi.core.pls.result import Bootstrap, PLSResult
from manyi.core.pls.spec import (
    SYNONYMS,
    TEMPLATE_ORDER,
    TEMPLATES,
    ConstructSpec,
    ModelSpec,
    ScaleRange,
    parse_model_spec,
    resolve_spec,
)

__all__ = [
    "SYNONYMS",
    "TEMPLATES",
    "TEMPLATE_ORDER",
    "Bootstrap",
    "ConstructSpec",
    "ModelSpec",
    "PLSModel",
    "PLSResult",
    "ScaleRange",
    "_f2",
    "parse_model_spec",
    "resolve_spec",
]
