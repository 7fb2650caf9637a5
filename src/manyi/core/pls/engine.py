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


class Moments:
    """Case counts, column sums and cross-products of resamples, from linear maps of the data.

    A resample (or a jackknife deletion) is a linear map ``prod`` of the rows: ``counts @ M``
    for bootstrap counts, ``M.sum(0) − groups @ M`` for deletions. Without missing values the
    moments are ``prod`` of the rows, their products and ones. With missing values, each
    resample replaces them by *its own* means of the observed values (as seminr imputes inside
    each resample); the imputed cross-products still follow from ``prod`` of four fixed
    matrices: with A the data (0 where missing), O the observed mask, M = 1 − O and m the
    resample's means of the observed values,
    Σ x̃ⱼx̃ₖ = Σ AⱼAₖ + mₖ Σ AⱼMₖ + mⱼ Σ MⱼAₖ + mⱼmₖ Σ MⱼMₖ.
    """

    def __init__(self, Z: np.ndarray, missing: np.ndarray | None = None):
        n, p = Z.shape
        self.p = p
        self.ones = np.ones((n, 1))
        if missing is None or not missing.any():
            self.missing = False
            self.Z, self.Q = Z, cross_products(Z)
        else:
            self.missing = True
            A = np.where(missing, 0.0, Z)
            Mi = missing.astype(float)
            self.A, self.O = A, 1.0 - Mi
            self.Q1 = cross_products(A)
            self.Q2 = (A[:, :, None] * Mi[:, None, :]).reshape(n, p * p)
            self.Q3 = cross_products(Mi)

    def of(self, prod) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N (B), column sums (B × p), cross-products (B × p²)) of the resamples ``prod``."""
        N = prod(self.ones)[:, 0]
        if not self.missing:
            return N, prod(self.Z), prod(self.Q)
        B, p = len(N), self.p
        with np.errstate(invalid="ignore", divide="ignore"):
            m = prod(self.A) / prod(self.O)
        S2 = prod(self.Q2).reshape(B, p, p)
        cross = (
            prod(self.Q1).reshape(B, p, p)
            + S2 * m[:, None, :]
            + np.swapaxes(S2, 1, 2) * m[:, :, None]
            + prod(self.Q3).reshape(B, p, p) * m[:, :, None] * m[:, None, :]
        )
        return N, N[:, None] * m, cross.reshape(B, p * p)


def htmt_stack(R: np.ndarray, blocks: list[np.ndarray], signed: bool = False) -> np.ndarray:
    """Heterotrait–monotrait ratios (Henseler, Ringle & Sarstedt 2015) of a stack of
    correlation matrices (B × p × p) → B × m × m (upper triangle; NaN elsewhere).

    ``signed=False`` averages absolute correlations (seminr, SmartPLS); ``signed=True`` the
    correlations as they are (the paper's definition). A single-item block's monotrait mean is 1.
    """
    C = R if signed else np.abs(R)
    B, m = C.shape[0], len(blocks)
    mono = np.ones((B, m))
    for j, blk in enumerate(blocks):
        k = len(blk)
        if k > 1:
            S = C[:, blk[:, None], blk[None, :]]
            mono[:, j] = (S.sum(axis=(1, 2)) - np.trace(S, axis1=1, axis2=2)) / (k * (k - 1))
    out = np.full((B, m, m), np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        for i in range(m):
            for j in range(i + 1, m):
                het = C[:, blocks[i][:, None], blocks[j][None, :]].mean(axis=(1, 2))
                out[:, i, j] = het / np.sqrt(mono[:, i] * mono[:, j])
    return out
