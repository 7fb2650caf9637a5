"""PLS path modelling on correlation matrices, many at once.

The PLS algorithm (Wold 1982; Lohmöller 1989) touches the data only through the indicators'
correlation matrix R: construct scores are Y = X W, so every covariance the algorithm needs is
a product of W and R (cov(Y) = WᵀRW, cov(X, Y) = RW, cov(X, Z) = RWE for inner proxies Z = YE).
This module runs the algorithm on a stack of correlation matrices (B × p × p) in lock-step,
so a bootstrap of 5,000 resamples is a few dozen array operations; the resamples' correlation
matrices themselves come from one matrix product of resample counts with the indicators'
cross-products (:func:`correlations_from_counts`).

The iteration is the one of SmartPLS and seminr (``estimate_simplePLS``): outer weights start
at 1 for each construct's items; each pass standardises the scores, computes inner weights
by the scheme, forms and standardises the inner proxies, updates the outer weights by mode A
(covariances with the proxy) or mode B (regression of the proxy on the block), rescales each
construct to unit variance, and stops when Σ|ΔW| < tol (1e-7) or after max_iter + 1 passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SCHEMES = ("path", "centroid", "factorial")


@dataclass(frozen=True)
class Layout:
    """A model's shape as index arrays: p indicators, m constructs."""

    mask: np.ndarray  # p × m, 1 where item belongs to construct
    blocks: list[np.ndarray]  # per construct: indices of its items
    mode_b: np.ndarray  # m bools
    P: np.ndarray  # m × m, 1 at [source, target]
    endogenous: list[int]
    preds: list[np.ndarray]  # per endogenous construct: indices of its antecedents

    @property
    def p(self) -> int:
        return self.mask.shape[0]

    @property
    def m(self) -> int:
        return self.mask.shape[1]


def _diag(a: np.ndarray) -> np.ndarray:
    return np.diagonal(a, axis1=-2, axis2=-1)


@dataclass
class Fit:
    """Outer weights and convergence of a stack of PLS estimations."""

    W: np.ndarray  # B × p × m standardised outer weights (unit-variance scores)
    passes: np.ndarray  # B: outer-weight updates performed
    converged: np.ndarray  # B bools
    ok: np.ndarray  # B bools: finite throughout (no singular block)


def estimate(
    R: np.ndarray, lay: Layout, scheme: str = "path", max_iter: int = 300, tol: float = 1e-7
) -> Fit:
    """Run the PLS algorithm on each correlation matrix of ``R`` (B × p × p).

    The iteration itself is compiled (``manyi.core._kernels.pls_many``) and runs the
    resamples in parallel; each resample's result depends only on its own matrix.
    """
    from manyi.core._kernels import pls_many

    p, m = lay.mask.shape
    con = np.argmax(lay.mask, axis=1).astype(np.int64)
    bptr = np.concatenate([[0], np.cumsum([len(b) for b in lay.blocks])]).astype(np.int64)
    bitems = np.concatenate(lay.blocks).astype(np.int64)
    eptr = np.concatenate([[0], np.cumsum([len(s) for s in lay.preds])]).astype(np.int64)
    preds = (np.concatenate(lay.preds) if lay.preds else np.zeros(0)).astype(np.int64)
    w, passes, conv, ok = pls_many(
        np.ascontiguousarray(R, dtype=np.float64),
        con,
        bptr,
        bitems,
        lay.mode_b.astype(np.bool_),
        np.ascontiguousarray(lay.P, dtype=np.float64),
        eptr,
        np.asarray(lay.endogenous, dtype=np.int64),
        preds,
        SCHEMES.index(scheme),
        int(max_iter),
        float(tol),
    )
    W = np.zeros((R.shape[0], p, m))
    W[:, np.arange(p), con] = w
    return Fit(W, passes, conv, ok)


@dataclass
class Estimates:
    """What follows from converged weights (each B × …)."""

    loadings: np.ndarray  # p × m (masked)
    CY: np.ndarray  # m × m construct correlations
    paths: np.ndarray  # m × m, [source, target]
    r2: np.ndarray  # m (NaN for exogenous)
    total: np.ndarray  # m × m total effects


def estimates(R: np.ndarray, W: np.ndarray, lay: Layout) -> Estimates:
    """Loadings, construct correlations, path coefficients (OLS), R², total effects."""
    with np.errstate(invalid="ignore", divide="ignore"):
        RW = R @ W
        loadings = RW * lay.mask
        CY = np.swapaxes(W, 1, 2) @ RW
        d = np.sqrt(_diag(CY))
        CY = CY / (d[:, :, None] * d[:, None, :])
        B, m = CY.shape[0], lay.m
        paths = np.zeros((B, m, m))
        r2 = np.full((B, m), np.nan)
        for j, S in zip(lay.endogenous, lay.preds, strict=True):
            try:
                beta = np.linalg.solve(CY[:, S[:, None], S[None, :]], CY[:, S, j][..., None])[
                    ..., 0
                ]
            except np.linalg.LinAlgError:
                beta = np.full((B, len(S)), np.nan)
            paths[:, S, j] = beta
            r2[:, j] = np.einsum("bs,bs->b", beta, CY[:, S, j])
        total = total_effects(paths)
    return Estimates(loadings, CY, paths, r2, total)


def total_effects(paths: np.ndarray) -> np.ndarray:
    """Σ_k Bᵏ for an acyclic path matrix (stack): direct plus all indirect effects."""
    total = paths.copy()
    power = paths.copy()
    for _ in range(paths.shape[-1]):
        power = power @ paths
        if not np.any(power):
            break
        total = total + power
    return total


def cross_products(X: np.ndarray) -> np.ndarray:
    """All pairwise products of the columns of X (n × p) as an n × p² matrix."""
    n, p = X.shape
    return (X[:, :, None] * X[:, None, :]).reshape(n, p * p)


def correlations_from_counts(counts: np.ndarray, X: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Correlation matrices of weighted resamples: row r of X taken ``counts[k, r]`` times.

    One matrix product ``counts @ Q`` gives every resample's cross-products at once (Q holds
    the pairwise products of X's columns, :func:`cross_products`); the means come from
    ``counts @ X``. X should be centred and scaled (the full-sample standardised data).
    """
    return correlations_from_sums(counts.sum(axis=1), counts @ X, counts @ Q)


def correlations_from_sums(N: np.ndarray, sums: np.ndarray, cross: np.ndarray) -> np.ndarray:
    """Correlation matrices from case counts N (B), column sums (B × p), cross-products (B × p²)."""
    B, p = sums.shape
    M = sums / N[:, None]
    S = cross.reshape(B, p, p)
    cov = (S - N[:, None, None] * M[:, :, None] * M[:, None, :]) / (N - 1)[:, None, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(_diag(cov))
        return cov / (sd[:, :, None] * sd[:, None, :])
