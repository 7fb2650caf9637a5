"""Compiled loops (numba) kept as independent references: the scoring pass row by row
(``manyi.core.scoring.response.score_pass``, vectorised, must give the same scores and sums)
and the PLS iteration resample by resample (``manyi.core.pls.engine.pls_batch`` must give the
same weights, passes and flags). manyi computed with these loops until the vectorised versions
replaced them (they needed a compiler at start-up)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

EPS = 1e-9
ROUND = 1e9
PARTS = 8
BLOCK = 2048


@njit(cache=True, nogil=True, error_model="numpy")
def _score_part(
    cols,
    a,
    b,
    top,
    item_dim,
    item_w,
    dim_w,
    min_answered,
    satisfied_at,
    codes,
    weights,
    lo,
    hi,
    dims,
    csi,
    acc_g,
    acc_gm,
    acc_gk,
):
    """Score rows lo..hi, adding group sums into this part's accumulators.

    acc_g[:, 0..7]: responses, csi n (rated with a positive weight), csi weighted mean (West
    1979, Welford 1962 with weights), csi weighted M2, satisfied (weighted), Σw, Σw² of the
    rated responses, satisfied count; acc_gm[:, :, 0..4]: dimension Σw, Σw·x, Σw·x², Σw²,
    count; acc_gk[:, :, 0..3]: item answered Σw, top box Σw, answered count, Σw². Counts take
    only responses with a positive weight. Unweighted scoring passes weights of 1.
    """
    k = a.shape[0]
    m = dim_w.shape[0]
    num = np.empty((BLOCK, m))
    cov = np.empty((BLOCK, m))
    for start in range(lo, hi, BLOCK):
        stop = min(start + BLOCK, hi)
        num[:] = 0.0
        cov[:] = 0.0
        for j in range(k):  # items outer, rows inner: each column is read contiguously
            col = cols[j]
            d = item_dim[j]
            w, aj, bj, tj = item_w[j], a[j], b[j], top[j] - EPS
            for r in range(start, stop):
                x = col[r]
                if x == x:
                    g = codes[r]
                    num[r - start, d] += w * (x * aj + bj)
                    cov[r - start, d] += w
                    wr = weights[r]
                    acc_gk[g, j, 0] += wr
                    acc_gk[g, j, 1] += wr if x >= tj else 0.0
                    if wr > 0:
                        acc_gk[g, j, 2] += 1.0
                        acc_gk[g, j, 3] += wr * wr
        for r in range(start, stop):
            g = codes[r]
            wr = weights[r]
            acc_g[g, 0] += 1.0
            cnum = 0.0
            ccov = 0.0
            for d in range(m):
                if cov[r - start, d] >= min_answered - EPS:
                    v = np.rint(num[r - start, d] / cov[r - start, d] * ROUND) / ROUND
                    dims[r, d] = v
                    acc_gm[g, d, 0] += wr
                    acc_gm[g, d, 1] += wr * v
                    if wr > 0:
                        acc_gm[g, d, 2] += wr * v * v
                        acc_gm[g, d, 3] += wr * wr
                        acc_gm[g, d, 4] += 1.0
                    cnum += dim_w[d] * v
                    ccov += dim_w[d]
                else:
                    dims[r, d] = np.nan
            if ccov >= min_answered - EPS:
                c = np.rint(cnum / ccov * ROUND) / ROUND
                csi[r] = c
                if wr > 0:
                    acc_g[g, 1] += 1.0
                    acc_g[g, 5] += wr
                    acc_g[g, 6] += wr * wr
                    delta = c - acc_g[g, 2]
                    acc_g[g, 2] += delta * wr / acc_g[g, 5]
                    acc_g[g, 3] += wr * delta * (c - acc_g[g, 2])
                    if c >= satisfied_at - EPS:
                        acc_g[g, 4] += wr
                        acc_g[g, 7] += 1.0
            else:
                csi[r] = np.nan


@njit(cache=True, parallel=True, error_model="numpy")
def score_and_sum(
    cols, a, b, top, item_dim, item_w, dim_w, min_answered, satisfied_at, codes, weights, G
):
    """Per-response dimension scores and index, and per-group sums (see ``_score_part``).

    Returns dims (n×m), csi (n), and the group sums: responses, csi n (count), csi Σw,
    csi Σw², csi weighted sum, csi weighted M2, satisfied (weighted), satisfied (count), the
    dimension sums (G×m×5, see ``_score_part``) and the item sums (G×k×4). ``manyi.core.scoring``
    names them (:class:`~manyi.core.scoring.KernelSums`).
    """
    n = codes.shape[0]
    k = a.shape[0]
    m = dim_w.shape[0]
    dims = np.empty((n, m))
    csi = np.empty(n)
    acc_g = np.zeros((PARTS, G, 8))
    acc_gm = np.zeros((PARTS, G, m, 5))
    acc_gk = np.zeros((PARTS, G, k, 4))
    size = (n + PARTS - 1) // PARTS
    for p in prange(PARTS):
        lo = p * size
        hi = min(n, lo + size)
        if lo < hi:
            _score_part(
                cols,
                a,
                b,
                top,
                item_dim,
                item_w,
                dim_w,
                min_answered,
                satisfied_at,
                codes,
                weights,
                lo,
                hi,
                dims,
                csi,
                acc_g[p],
                acc_gm[p],
                acc_gk[p],
            )
    # combine the parts in order; weighted variance by Chan, Golub & LeVeque (1979)
    n_resp = np.zeros(G)
    csi_n = np.zeros(G)
    csi_w = np.zeros(G)
    csi_w2 = np.zeros(G)
    csi_sum = np.zeros(G)
    csi_m2 = np.zeros(G)
    sat = np.zeros(G)
    sat_n = np.zeros(G)
    for g in range(G):
        mean = 0.0
        for p in range(PARTS):
            n_resp[g] += acc_g[p, g, 0]
            csi_n[g] += acc_g[p, g, 1]
            sat[g] += acc_g[p, g, 4]
            sat_n[g] += acc_g[p, g, 7]
            csi_w2[g] += acc_g[p, g, 6]
            wb = acc_g[p, g, 5]
            if wb > 0:
                wa = csi_w[g]
                delta = acc_g[p, g, 2] - mean
                tot = wa + wb
                mean += delta * wb / tot
                csi_m2[g] += acc_g[p, g, 3] + delta * delta * wa * wb / tot
                csi_w[g] = tot
        csi_sum[g] = mean * csi_w[g]
    gm = acc_gm.sum(axis=0)
    gk = acc_gk.sum(axis=0)
    return (dims, csi, n_resp, csi_n, csi_w, csi_w2, csi_sum, csi_m2, sat, sat_n, gm, gk)


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
