"""PLS path modelling on correlation matrices, many at once.

The PLS algorithm (Wold 1982; Lohmöller 1989) touches the data only through the indicators'
correlation matrix R: construct scores are Y = X W, so every covariance the algorithm needs is
a product of W and R (cov(Y) = WᵀRW, cov(X, Y) = RW, cov(X, Z) = RWE for inner proxies Z = YE).
This module runs the algorithm on a stack of correlation matrices (B × p × p) in lock-step,
so a bootstrap of 5,000 resamples is a few dozen array operations; the resamples' correlation
matrices themselves come from one matrix product of resample counts with the indicators'
cross-products (:class:`Moments`).

The iteration is the one of SmartPLS and seminr (``estimate_simplePLS``): outer weights start
at 1 for each construct's items; each pass standardises the scores, computes inner weights
by the scheme, forms and standardises the inner proxies, updates the outer weights by mode A
(covariances with the proxy) or mode B (regression of the proxy on the block), rescales each
construct to unit variance, and stops when Σ|ΔW| < tol (1e-7) or after max_iter + 1 passes.
(Here the proxies are left unscaled: scaling a proxy scales its block's new weights by one
factor, which the rescaling to unit variance takes out again.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from manyi.core.resample import pair_products

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
    RW: np.ndarray  # B × p × m: R W, the items' correlations with the (unit-variance) scores
    CY: np.ndarray  # B × m × m: the scores' correlations


def _solve_stack(A: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Solve each A x = y of a stack (n × k × k, n × k); NaN where A is singular."""
    try:
        return np.linalg.solve(A, y[..., None])[..., 0]
    except np.linalg.LinAlgError:  # one singular matrix fails the stack: one by one
        out = np.full(y.shape, np.nan)
        for i in range(len(A)):
            try:
                out[i] = np.linalg.solve(A[i], y[i])
            except np.linalg.LinAlgError:
                pass
        return out


#: Systems up to this size are solved by elimination across the stack (vectorised), larger
#: ones by LAPACK matrix by matrix
SMALL_SYSTEM = 6


def _solve_side(U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Each A x = y of n symmetric positive (semi)definite systems laid side by side (as
    :func:`_eliminate` takes them: ``U`` k × k × n, ``b`` k × n) → k × n, NaN where A is
    singular. Up to :data:`SMALL_SYSTEM` unknowns by Gaussian elimination run on the whole
    stack at once (``U`` and ``b`` overwritten), which for small systems is many times faster
    than LAPACK called matrix by matrix; by LAPACK above."""
    if len(b) > SMALL_SYSTEM:
        return _solve_stack(U.transpose(2, 0, 1), b.T).T
    return _eliminate(U, b)


def _eliminate(U: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The solutions (k × n) of n systems of k unknowns laid side by side: ``U`` (k × k × n)
    holds entry (r, c) of every matrix in ``U[r, c]``, ``b`` (k × n) the right-hand sides;
    both are overwritten. Gaussian elimination without pivoting, which symmetric positive
    definite matrices do not need (Golub & Van Loan 2013, §4.2); NaN where a matrix is
    singular."""
    k = len(b)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        if k == 1:  # one unknown: a division
            x = b / U[0]
            x[~np.isfinite(x)] = np.nan
            return x
        for c in range(k - 1):  # the rows below the pivot at once (each row's own factor)
            f = U[c + 1 :, c] / U[c, c]
            U[c + 1 :, c + 1 :] -= f[:, None] * U[c, None, c + 1 :]
            b[c + 1 :] -= f * b[c]
        x = np.empty_like(b)
        for r in range(k - 1, -1, -1):
            acc = b[r] - (U[r, r + 1 :] * x[r + 1 :]).sum(axis=0) if r + 1 < k else b[r]
            x[r] = acc / U[r, r]
    x[:, ~np.isfinite(x).all(axis=0)] = np.nan
    return x


def _left_out(A: np.ndarray, y: np.ndarray, on: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The regressions (``A`` k × k × …, ``y`` k × …) of models with some antecedents left
    out (``on`` k × …, 0 where left out): their rows and columns those of the identity and
    their right-hand sides 0, so that their coefficients solve to 0."""
    k = len(y)
    eye = np.eye(k).reshape((k, k) + (1,) * (y.ndim - 1))
    return A * on[:, None] * on[None, :] + (1 - on)[:, None] * eye, y * on


def _spans(blocks: list[np.ndarray], p: int) -> tuple[list[tuple[int, int]], np.ndarray | None]:
    """Each block as a run of rows (lo, hi) and the order of the items that makes the blocks
    such runs (None when they already are: a model's items are listed construct by
    construct)."""
    order = np.concatenate(blocks).astype(np.intp) if blocks else np.arange(p)
    spans, at = [], 0
    for b in blocks:
        spans.append((at, at + len(b)))
        at += len(b)
    return spans, (None if np.array_equal(order, np.arange(p)) else order)


def pls_batch(
    Rs: np.ndarray,
    con: np.ndarray,
    blocks: list[np.ndarray],
    mode_b: np.ndarray,
    P: np.ndarray,
    eptr: np.ndarray,
    endo: np.ndarray,
    preds: np.ndarray,
    scheme: int,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, ...]:
    """The PLS iterations (Wold 1982; Lohmöller 1989) on a stack of correlation matrices laid
    side by side, ``Rs`` (p × p × B: entry (i, j) of every matrix in ``Rs[i, j]``), every
    matrix still iterating updated at once.

    Each pass: the constructs' correlations CY from the weights; inner weights E by the scheme
    (0 path: regression of each endogenous construct on its antecedents, correlations with the
    successors — the SmartPLS and seminr default; 1 centroid: signs of the adjacent constructs'
    correlations; 2 factorial: those correlations); new outer weights by mode A (covariance of
    each item with its inner proxy) or mode B (regression of the proxy on the block), scaled to
    unit-variance scores. A matrix stops when the weights change by less than ``tol`` (sum of
    absolute changes), or when they are no longer finite (a singular block).

    A pass touches each correlation matrix once: RU = R U with the new, unscaled weights U (an
    item's weight in its construct's column: RU's column j sums the columns of R of block j,
    weighted) gives both the scores' covariances Q = Uᵀ RU, whose diagonal scales the weights
    to unit-variance scores, and, divided by those standard deviations, the items' covariances
    with the scaled scores that the next pass needs. With the matrices side by side, every
    step is an operation on rows of B numbers (no small matrix products one matrix at a time);
    the small systems of the path scheme and of mode B are solved by elimination across the
    stack (:func:`_solve_side`). The matrices are symmetric, so RU reads a block's columns of
    R as its rows, ``Rs[lo:hi]``: one contiguous slab per block, which takes half the time of
    the strided columns. ``P`` is the models' path matrix (m × m), or one per matrix
    (m × m × B: models with some of the paths of ``preds`` left out, their antecedents' rows
    of the regressions replaced by rows of the identity).

    Returns the weights (B × p), the passes made, converged and ok (finite) flags, and R W
    (B × p × m) and Wᵀ R W (B × m × m) of the final weights, from which the scores'
    correlations with the items and with each other follow (:func:`estimate`).
    """
    p, B = Rs.shape[0], Rs.shape[2]
    m = P.shape[0]
    spans, order = _spans(blocks, p)
    if order is not None:  # items into block order, and back at the end
        Rs = Rs[np.ix_(order, order)]
        con = con[order]
    per = P.ndim == 3  # a path matrix per matrix (models without one path each: f²)
    Pt = np.swapaxes(P, 0, 1)
    adj = P + Pt
    if not per:
        Pt, adj = Pt[:, :, None], adj[:, :, None]
    diag_m = np.arange(m)
    mode_b_spans = [spans[j] for j in range(m) if mode_b[j]]
    regressions = []  # per endogenous construct: its antecedents, their places in CY
    one_s, one_j = [], []  # the constructs with one antecedent: all solved by one division
    for e in range(len(endo)):
        S = preds[eptr[e] : eptr[e + 1]]
        if len(S) == 1:
            one_s.append(int(S[0]))
            one_j.append(int(endo[e]))
        else:
            regressions.append((int(endo[e]), S, np.ix_(S, S)))
    ones = (np.array(one_s, dtype=np.intp), np.array(one_j, dtype=np.intp)) if one_s else None

    def ru_q(R: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = R.shape[2]
        RU, Q = np.empty((p, m, n)), np.empty((m, m, n))
        for j, (lo, hi) in enumerate(spans):  # block j's rows of R (= its columns), weighted
            np.einsum("lib,lb->ib", R[lo:hi], u[lo:hi], out=RU[:, j])
        for j, (lo, hi) in enumerate(spans):  # and block j's rows of RU
            np.einsum("ikb,ib->kb", RU[lo:hi], u[lo:hi], out=Q[j])
        return RU, Q

    W = np.ones((p, B))
    passes = np.full(B, max_iter + 1, dtype=np.int64)
    conv = np.zeros(B, dtype=bool)
    ok = np.ones(B, dtype=bool)
    active = np.arange(B)
    R = Rs
    w = np.ones((p, B))  # the current weights, scaled to unit-variance scores
    RU, Q = ru_q(R, w)  # the items' covariances with the unscaled scores, and theirs
    live = np.ones(B, dtype=bool)  # of the stack: still iterating (the others are left out
    # of it once half of it has stopped; until then they run along, unrecorded)
    for it in range(max_iter + 1):
        n = len(active)
        if not live.any():
            break
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            d = np.sqrt(Q[diag_m, diag_m])  # the scores' standard deviations (m × n)
            CY = Q / (d[:, None] * d[None, :])
            if scheme == 1:
                E = np.sign(CY) * adj
            elif scheme == 2:
                E = CY * adj
            else:
                E = CY * Pt
                if ones is not None:  # one system of one unknown for all of them (1 × 1 × r × n)
                    s1, j1 = ones
                    A, y = CY[s1, s1][None, None], CY[s1, j1][None]
                    if per:
                        A, y = _left_out(A, y, P[s1, j1][None])
                    E[s1, j1] = _solve_side(A, y)[0]
                for j, S, SS in regressions:
                    A, y = CY[SS], CY[S, j]  # k × k × n, k × n (copies)
                    if per:
                        A, y = _left_out(A, y, P[S, j])
                    E[S, j] = _solve_side(A, y)
            # each item's covariance with its construct's inner proxy Σₖ E[k, j]·(score k / d_k);
            # the proxy is not scaled to unit variance: a construct's weights are scaled to
            # unit-variance scores below, which a factor common to its block does not change
            F = E / d[:, None]
            u = np.empty((p, n))
            for j, (lo, hi) in enumerate(spans):
                np.einsum("ikb,kb->ib", RU[lo:hi], F[:, j], out=u[lo:hi])
            for lo, hi in mode_b_spans:
                u[lo:hi] = _solve_side(R[lo:hi, lo:hi].copy(), u[lo:hi].copy())
            RU, Q = ru_q(R, u)
            wn = u / np.sqrt(Q[diag_m, diag_m])[con]
            diff = np.abs(wn - w).sum(axis=0)
        bad = live & ~np.isfinite(diff)
        done = live & ~bad & (diff < tol)
        stop = bad | done
        w = wn
        if stop.any():
            at = active[stop]
            W[:, at] = wn[:, stop]
            passes[at] = it + 1
            ok[active[bad]] = False
            conv[active[done]] = True
            live &= ~stop
            if 2 * live.sum() <= n:  # the stack shrinks (a copy) when half of it has stopped
                keep = live
                active, live = active[keep], live[keep]
                w, R, RU, Q = w[:, keep], R[:, :, keep], RU[:, :, keep], Q[:, :, keep]
                if per:
                    P, Pt, adj = P[:, :, keep], Pt[:, :, keep], adj[:, :, keep]
    W[:, active[live]] = w[:, live]  # the passes ran out
    RU, Q = ru_q(Rs, W)  # R W and Wᵀ R W of the final weights, every matrix at once
    if order is not None:
        back = np.argsort(order)
        W, RU = W[back], RU[back]
    return W.T, passes, conv, ok, RU.transpose(2, 0, 1), Q.transpose(2, 0, 1)


def estimate(
    R: np.ndarray,
    lay: Layout,
    scheme: str = "path",
    max_iter: int = 300,
    tol: float = 1e-7,
    paths: np.ndarray | None = None,
    side: bool = False,
) -> Fit:
    """Run the PLS algorithm on each correlation matrix of ``R`` (B × p × p, or p × p × B
    with ``side``: the matrices side by side, as :func:`pls_batch` takes them).

    The iteration runs on all matrices at once (:func:`pls_batch`, numpy on stacks of
    matrices; no compiler to load); each matrix's result depends only on its own entries.
    ``paths`` (B × m × m), each within ``lay.P``, gives each matrix a model of its own with
    some of the paths left out (every construct still on a path).
    """
    p, m = lay.mask.shape
    con = np.argmax(lay.mask, axis=1).astype(np.int64)
    eptr = np.concatenate([[0], np.cumsum([len(s) for s in lay.preds])]).astype(np.int64)
    preds = (np.concatenate(lay.preds) if lay.preds else np.zeros(0)).astype(np.int64)
    R = np.asarray(R, dtype=np.float64)
    Rt = R if side else np.ascontiguousarray(R.transpose(1, 2, 0))
    P = lay.P if paths is None else np.ascontiguousarray(np.asarray(paths).transpose(1, 2, 0))
    w, passes, conv, ok, RU, Q = pls_batch(
        Rt, con, [np.asarray(b, dtype=np.int64) for b in lay.blocks],
        lay.mode_b.astype(bool), np.asarray(P, dtype=np.float64), eptr,
        np.asarray(lay.endogenous, dtype=np.int64), preds, SCHEMES.index(scheme), int(max_iter),
        float(tol),
    )
    B = Rt.shape[2]
    W = np.zeros((B, p, m))
    W[:, np.arange(p), con] = w
    # RU = R W (the items' correlations with the unit-variance scores) and Q = Wᵀ R W, whose
    # diagonal is 1 up to rounding: the scores' correlations are Q scaled by it
    with np.errstate(invalid="ignore", divide="ignore"):
        sd = np.sqrt(_diag(Q))
        CY = Q / (sd[:, :, None] * sd[:, None, :])
    return Fit(W, passes, conv, ok, RU, CY)


@dataclass
class Estimates:
    """What follows from converged weights (each B × …)."""

    loadings: np.ndarray  # p × m (masked)
    CY: np.ndarray  # m × m construct correlations
    paths: np.ndarray  # m × m, [source, target]
    r2: np.ndarray  # m (NaN for exogenous)
    total: np.ndarray  # m × m total effects


def estimates(fit: Fit, lay: Layout) -> Estimates:
    """Loadings, construct correlations, path coefficients (OLS on the scores'
    correlations), R², total effects of the fits of :func:`estimate`."""
    with np.errstate(invalid="ignore", divide="ignore"):
        loadings = fit.RW * lay.mask
        CY = fit.CY
        B, m = CY.shape[0], lay.m
        paths = np.zeros((B, m, m))
        r2 = np.full((B, m), np.nan)
        CYt = CY.transpose(1, 2, 0)  # entry (r, c) of every matrix side by side
        for j, S in zip(lay.endogenous, lay.preds, strict=True):
            beta = _solve_side(CYt[np.ix_(S, S)], CYt[S, j]).T  # NaN where singular
            paths[:, S, j] = beta
            r2[:, j] = np.einsum("bs,bs->b", beta, CY[:, S, j])
        total = total_effects(paths)
    return Estimates(loadings, CY, paths, r2, total)


def total_effects(paths: np.ndarray) -> np.ndarray:
    """Σ_k Bᵏ for an acyclic path matrix B (or a stack of them, B × m × m, one pattern of
    paths): direct plus all indirect effects. Worked out target by target in causal order,
    T[·, j] = B[·, j] + Σ_{k → j} T[·, k]·B[k, j] (each antecedent's total effects are final
    by then), one small product per construct instead of a matrix power per path length."""
    on = (paths != 0).any(axis=0) if paths.ndim == 3 else paths != 0
    order = _causal_order(on)
    if order is None:  # a model's paths are checked to be acyclic when it is built
        raise ValueError("the paths make a cycle: no total effects")
    total = paths.copy()
    for j in order:
        S = np.flatnonzero(on[:, j])
        if len(S):
            total[..., :, j] += np.einsum("...ik,...k->...i", total[..., :, S], paths[..., S, j])
    return total


def _causal_order(on: np.ndarray) -> list[int] | None:
    """The constructs in an order where each comes after its antecedents (``on[i, j]``: a
    path i → j), or None where the paths make a cycle (Kahn 1962)."""
    m = len(on)
    waiting = on.sum(axis=0).astype(int)
    ready = [j for j in range(m) if waiting[j] == 0]
    order: list[int] = []
    while ready:
        i = ready.pop()
        order.append(i)
        for j in np.flatnonzero(on[i]):
            waiting[j] -= 1
            if waiting[j] == 0:
                ready.append(int(j))
    return order if len(order) == m else None


#: Rows per chunk are chosen so that a chunk's pair products take about this many values
#: (64 MB): the memory of a bootstrap is bounded by the chunk, not by n.
CHUNK_VALUES = 8_000_000


class Moments:
    """Case counts, column sums and cross-products of resamples, from linear maps of the data.

    A resample (or a jackknife deletion) is a linear map of the rows: ``counts @ M`` for
    bootstrap counts, ``M.sum(0) − groups @ M`` for deletions. :meth:`of` takes it as
    ``apply(M_chunk, lo, hi)``, the contribution of rows lo:hi, and adds the chunks up, so
    the rows' products are formed a chunk at a time (about :data:`CHUNK_VALUES` values) and
    only for the p(p+1)/2 distinct pairs of columns; memory does not grow with n beyond the
    data itself. A chunk's columns (ones, the data, their pair products) sit side by side, so
    each chunk is one map of one matrix. Without missing values the moments are the map of the
    rows, their pair products and ones. With missing values, each resample replaces them by
    *its own* means of the observed values (as seminr imputes inside each resample); the
    imputed cross-products still follow from the map of four fixed products: with A the data
    (0 where missing), O the observed mask, M = 1 − O and m the resample's means of the
    observed values, Σ x̃ⱼx̃ₖ = Σ AⱼAₖ + mₖ Σ AⱼMₖ + mⱼ Σ MⱼAₖ + mⱼmₖ Σ MⱼMₖ.
    """

    def __init__(self, Z: np.ndarray, missing: np.ndarray | None = None, maps: int = 1):
        n, p = Z.shape
        self.n, self.p = n, p
        self.iu, self.ju = np.triu_indices(p)
        q = len(self.iu)
        # where each diagonal entry (i, i) and each entry (i, j) of a p × p matrix is among
        # the pairs (i ≤ j) of the upper triangle
        place = np.empty((p, p), dtype=np.intp)
        place[self.iu, self.ju] = np.arange(q)
        place[self.ju, self.iu] = np.arange(q)
        self.full = place.ravel()
        self.diag = place[np.arange(p), np.arange(p)]
        self.missing = missing is not None and bool(missing.any())
        if not self.missing:
            self.Z = Z
            self.width = 1 + p + q  # ones, the data, the pair products
        else:
            self.A = np.where(missing, 0.0, Z)
            self.Mi = missing.astype(float)
            self.width = 1 + 2 * p + 2 * q + p * p  # ones, A, O, AⱼAₖ, AⱼMₖ, MⱼMₖ
        # ``maps``: the rows of the linear maps applied (resamples): their chunk, widened to
        # floats, stays within the same budget as the chunk's products
        self.chunk = max(1, min(n, CHUNK_VALUES // max(self.width, maps, 1)))

    def of(self, apply) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(N (B), column sums (B × p), cross-products (B × p(p+1)/2, the pairs i ≤ j in the
        order of ``np.triu_indices(p)``)) of the resamples ``apply``. A chunk's columns are
        written into a buffer made once per call (fresh memory for every chunk was a good
        part of a large bootstrap's time)."""
        p, iu, ju, q = self.p, self.iu, self.ju, len(self.iu)
        rows = min(self.chunk, max(self.n, 1))
        cols = np.empty((rows, self.width))
        cols[:, 0] = 1.0
        acc: np.ndarray | None = None
        for lo in range(0, max(self.n, 1), self.chunk):
            hi = min(self.n, lo + self.chunk)
            c = cols[: hi - lo]
            if not self.missing:
                Zc = self.Z[lo:hi]
                c[:, 1 : 1 + p] = Zc
                pair_products(Zc, c[:, 1 + p :])
            else:
                Ac, Mc = self.A[lo:hi], self.Mi[lo:hi]
                c[:, 1 : 1 + p] = Ac
                np.subtract(1.0, Mc, out=c[:, 1 + p : 1 + 2 * p])
                at = 1 + 2 * p
                pair_products(Ac, c[:, at : at + q])
                pair_products(Mc, c[:, at + q : at + 2 * q])
                np.multiply(Ac[:, :, None], Mc[:, None, :], out=c[:, at + 2 * q :].reshape(hi - lo, p, p))
            part = apply(c, lo, hi)
            if acc is None:
                acc = np.array(part, dtype=float)
            else:
                acc += part
        assert acc is not None
        N = acc[:, 0]
        if not self.missing:
            return N, acc[:, 1 : 1 + p], acc[:, 1 + p :]
        B = len(N)
        at = 1 + 2 * p
        with np.errstate(invalid="ignore", divide="ignore"):
            m = acc[:, 1 : 1 + p] / acc[:, 1 + p : 1 + 2 * p]
        S2 = acc[:, at + 2 * q :].reshape(B, p, p)  # Σ AⱼMₖ
        mi, mj = m[:, iu], m[:, ju]
        cross = acc[:, at : at + q] + S2[:, iu, ju] * mj + S2[:, ju, iu] * mi + acc[:, at + q : at + 2 * q] * mi * mj
        return N, N[:, None] * m, cross

    def pair_correlations(self, N: np.ndarray, sums: np.ndarray, cross: np.ndarray) -> np.ndarray:
        """The correlations of the p(p+1)/2 pairs i ≤ j (in the order of
        ``np.triu_indices(p)``) of each resample, side by side (pairs × B), from case counts N
        (B), column sums (B × p) and the cross-products of :meth:`of`."""
        iu, ju = self.iu, self.ju
        M = (sums / N[:, None]).T
        # the centred cross-products Σ(x − m)(y − m) = Σxy − N·mₓm_y, scaled by the roots of
        # their diagonal (the N − 1 of the covariances cancels); gathers by ``take``, in place
        c = np.take(M, iu, axis=0)
        c *= np.take(M, ju, axis=0)
        c *= N
        np.subtract(cross.T, c, out=c)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = 1.0 / np.sqrt(np.take(c, self.diag, axis=0))
            scale = np.take(s, iu, axis=0)
            scale *= np.take(s, ju, axis=0)
            c *= scale
        return c

    def expand(self, c: np.ndarray) -> np.ndarray:
        """The correlation matrices (p × p × B, side by side, as :func:`pls_batch` takes
        them) of :meth:`pair_correlations`."""
        return np.take(c, self.full, axis=0).reshape(self.p, self.p, c.shape[1])

    def correlations(self, N: np.ndarray, sums: np.ndarray, cross: np.ndarray) -> np.ndarray:
        """Correlation matrices (p × p × B, side by side) from case counts N (B), column sums
        (B × p) and the cross-products of :meth:`of`, worked out on the distinct pairs."""
        return self.expand(self.pair_correlations(N, sums, cross))


def htmt_pairs(
    c: np.ndarray, p: int, blocks: list[np.ndarray], signed: bool = False
) -> np.ndarray:
    """Heterotrait–monotrait ratios (Henseler, Ringle & Sarstedt 2015) of correlation
    matrices given by their pairs i ≤ j (p(p+1)/2 × B, side by side, in the order of
    ``np.triu_indices(p)``) → B × m × m (upper triangle; NaN elsewhere).

    ``signed=False`` averages absolute correlations (seminr, SmartPLS); ``signed=True`` the
    correlations as they are (the paper's definition). A single-item block's monotrait mean is 1.
    Each pair of distinct items adds to the sum of its pair of blocks (a within-block pair to
    its block's): one matrix product of the pairs with that membership.
    """
    m, B = len(blocks), c.shape[1]
    con = np.full(p, -1)
    for j, blk in enumerate(blocks):
        con[blk] = j
    iu, ju = np.triu_indices(p)
    a, b = con[iu], con[ju]
    use = np.flatnonzero((iu != ju) & (a >= 0) & (b >= 0))
    tr, tc = np.triu_indices(m)  # the pairs of blocks a ≤ b
    place = np.full((m, m), -1)
    place[tr, tc] = np.arange(len(tr))
    S = np.zeros((len(tr), len(use)))
    S[place[np.minimum(a, b)[use], np.maximum(a, b)[use]], np.arange(len(use))] = 1.0
    C = c[use] if signed else np.abs(c[use])
    sums = np.zeros((B, m, m))
    sums[:, tr, tc] = (S @ C).T
    k = np.array([len(blk) for blk in blocks], dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mono = np.where(k > 1, 2 * np.diagonal(sums, axis1=1, axis2=2) / (k * (k - 1)), 1.0)
        het = sums / (k[:, None] * k[None, :])
        out = het / np.sqrt(mono[:, :, None] * mono[:, None, :])
    out[:, ~np.triu(np.ones((m, m), dtype=bool), 1)] = np.nan
    return out


def htmt_stack(R: np.ndarray, blocks: list[np.ndarray], signed: bool = False) -> np.ndarray:
    """:func:`htmt_pairs` of a stack of correlation matrices (B × p × p)."""
    p = R.shape[1]
    iu, ju = np.triu_indices(p)
    return htmt_pairs(np.ascontiguousarray(R[:, iu, ju].T), p, blocks, signed)
