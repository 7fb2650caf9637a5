"""The scoring pass as a compiled row-by-row loop (numba), kept as an independent reference:
``manyi.core.scoring.response.score_pass`` (vectorised) must give the same scores and sums.
This is the loop manyi used to score with until the vectorised pass replaced it (it needed a
compiler at start-up)."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

EPS = 1e-9
ROUND = 1e9
PARTS = 8
BLOCK = 2048


@njit(nogil=True, error_model="numpy")
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


@njit(parallel=True, error_model="numpy")
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
