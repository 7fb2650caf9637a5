"""Compiled inner loops (numba): the PLS iteration over many resamples and the bootstrap's
resample counts. Scoring needs no compiler (``manyi.core.scoring.response.score_pass``).

The kernels are compiled on first use and cached on disk (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


# --------------------------------------------------------------------------------------
# PLS path modelling: one resample's iteration on its correlation matrix
# --------------------------------------------------------------------------------------
@njit(cache=True, nogil=True, error_model="numpy")
def _solve_small(A, y):
    """Solve A x = y by Gaussian elimination with partial pivoting (A is tiny); NaN if singular."""
    k = A.shape[0]
    M = A.copy()
    x = y.copy()
    for c in range(k):
        piv = c
        for r in range(c + 1, k):
            if abs(M[r, c]) > abs(M[piv, c]):
                piv = r
        if not abs(M[piv, c]) > 1e-14:
            x[:] = np.nan
            return x
        if piv != c:
            for q in range(k):
                M[c, q], M[piv, q] = M[piv, q], M[c, q]
            x[c], x[piv] = x[piv], x[c]
        for r in range(c + 1, k):
            f = M[r, c] / M[c, c]
            for q in range(c, k):
                M[r, q] -= f * M[c, q]
            x[r] -= f * x[c]
    for c in range(k - 1, -1, -1):
        s = x[c]
        for q in range(c + 1, k):
            s -= M[c, q] * x[q]
        x[c] = s / M[c, c]
    return x


@njit(cache=True, nogil=True, error_model="numpy")
def _pls_one(R, con, bptr, bitems, mode_b, P, eptr, endo, preds, scheme, max_iter, tol, w):
    """PLS iterations for one correlation matrix; ``w`` (p) holds the result.

    Returns (passes, converged, ok). Inner weighting scheme: 0 path (correlations with the
    successors, regression coefficients on the antecedents; Lohmöller 1989, the SmartPLS and
    seminr default), 1 centroid (signs of the correlations of adjacent constructs; Wold 1982),
    2 factorial (the correlations of adjacent constructs; Lohmöller 1989).
    """
    p = R.shape[0]
    m = P.shape[0]
    for a in range(p):
        w[a] = 1.0
    RW = np.empty((p, m))
    CY = np.empty((m, m))
    E = np.empty((m, m))
    d = np.empty(m)
    s = np.empty(m)
    wn = np.empty(p)
    for it in range(max_iter + 1):
        RW[:] = 0.0
        for a in range(p):
            for b in range(p):
                RW[a, con[b]] += R[a, b] * w[b]
        CY[:] = 0.0
        for a in range(p):
            for k in range(m):
                CY[con[a], k] += w[a] * RW[a, k]
        for j in range(m):
            d[j] = np.sqrt(CY[j, j])
        for j in range(m):
            for k in range(m):
                CY[j, k] /= d[j] * d[k]
        # inner weights
        for j in range(m):
            for k in range(m):
                adj = P[j, k] + P[k, j]
                if scheme == 1:
                    E[j, k] = np.sign(CY[j, k]) * adj
                elif scheme == 2:
                    E[j, k] = CY[j, k] * adj
                else:
                    E[j, k] = CY[j, k] * P[k, j]
        if scheme == 0:
            for e in range(endo.shape[0]):
                j = endo[e]
                S = preds[eptr[e] : eptr[e + 1]]
                ns = S.shape[0]
                A = np.empty((ns, ns))
                y = np.empty(ns)
                for u in range(ns):
                    y[u] = CY[S[u], j]
                    for v in range(ns):
                        A[u, v] = CY[S[u], S[v]]
                beta = _solve_small(A, y)
                for u in range(ns):
                    E[S[u], j] = beta[u]
        # standard deviations of the inner proxies Z = Y E
        for j in range(m):
            acc = 0.0
            for i in range(m):
                for k in range(m):
                    acc += E[i, j] * CY[i, k] * E[k, j]
            s[j] = np.sqrt(acc)
        # mode A: covariance of each item with its construct's proxy
        for a in range(p):
            j = con[a]
            acc = 0.0
            for k in range(m):
                acc += RW[a, k] / d[k] * E[k, j]
            wn[a] = acc / s[j]
        # mode B: regression of the proxy on the block
        for j in range(m):
            if mode_b[j]:
                blk = bitems[bptr[j] : bptr[j + 1]]
                nb = blk.shape[0]
                A = np.empty((nb, nb))
                y = np.empty(nb)
                for u in range(nb):
                    y[u] = wn[blk[u]]
                    for v in range(nb):
                        A[u, v] = R[blk[u], blk[v]]
                sol = _solve_small(A, y)
                for u in range(nb):
                    wn[blk[u]] = sol[u]
        # unit variance of every construct score
        for j in range(m):
            blk = bitems[bptr[j] : bptr[j + 1]]
            acc = 0.0
            for u in range(blk.shape[0]):
                for v in range(blk.shape[0]):
                    acc += wn[blk[u]] * wn[blk[v]] * R[blk[u], blk[v]]
            sd = np.sqrt(acc)
            for u in range(blk.shape[0]):
                wn[blk[u]] /= sd
        diff = 0.0
        for a in range(p):
            diff += abs(wn[a] - w[a])
            w[a] = wn[a]
        if not np.isfinite(diff):
            return it + 1, False, False
        if diff < tol:
            return it + 1, True, True
    return max_iter + 1, False, True


@njit(cache=True, parallel=True, error_model="numpy")
def pls_many(Rs, con, bptr, bitems, mode_b, P, eptr, endo, preds, scheme, max_iter, tol):
    """Run :func:`_pls_one` on every correlation matrix of ``Rs`` (B × p × p), in parallel."""
    B = Rs.shape[0]
    p = Rs.shape[1]
    W = np.empty((B, p))
    passes = np.empty(B, dtype=np.int64)
    conv = np.empty(B, dtype=np.bool_)
    ok = np.empty(B, dtype=np.bool_)
    for r in prange(B):
        it, c, o = _pls_one(
            Rs[r], con, bptr, bitems, mode_b, P, eptr, endo, preds, scheme, max_iter, tol, W[r]
        )
        passes[r] = it
        conv[r] = c
        ok[r] = o
    return W, passes, conv, ok


# --------------------------------------------------------------------------------------
# Bootstrap resamples as row counts
# --------------------------------------------------------------------------------------
@njit(cache=True, parallel=True, nogil=True)
def row_counts(idx):
    """How often each row was drawn in each resample (a row of ``idx``: k × n row indices in
    0…n−1), as bytes; ``over[b]`` when a row of resample b was drawn more than 255 times (the
    caller then counts that resample exactly). Resamples are counted in parallel."""
    k, n = idx.shape
    out = np.zeros((k, n), np.uint8)
    over = np.zeros(k, np.bool_)
    for b in prange(k):
        for j in range(n):
            r = idx[b, j]
            if out[b, r] == 255:
                over[b] = True
            else:
                out[b, r] += 1
    return out, over
