"""Key drivers of an outcome (the overall index, NPS or any item).

* OLS on standardised variables: β, standard errors, t and p (with an intercept);
  VIF = diag(R_xx⁻¹) — warn about collinearity when a VIF exceeds 5.
* Johnson's (2000) relative weights: with R_xx = QΛQᵀ and Λ* = QΛ^½Qᵀ, β* = Λ*⁻¹r_xy,
  ε_j = Σ_k Λ*_jk²·β*_k²; Σε = R². Percentile intervals from a bootstrap (seeded).
* Shapley decomposition of R² (Lipovetsky & Conklin 2001), equal to general dominance
  (Budescu 1993; Azen & Budescu 2003), for at most 15 drivers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import nullcontext
from itertools import combinations
from math import factorial

import numpy as np
import pandas as pd

from manyi.core.ahead import ahead, parallel_section
from manyi.core.analysis import AnalysisResult, need
from manyi.core.messages import ManyiError, Message
from manyi.core.resample import bootstrap_counts, pair_products
from manyi.core.tdist import t_sf
from manyi.core.wstats import corr, n_eff

MAX_SHAPLEY = 15
ROWS = 65_536  # rows of the bootstrap's products filled at a time
COUNTS_PER_BATCH = 64_000_000  # resamples × rows counted per batch of the bootstrap (bytes)


def _r2(R: np.ndarray, r: np.ndarray, S: tuple[int, ...]) -> float:
    if not S:
        return 0.0
    idx = list(S)
    return float(r[idx] @ np.linalg.solve(R[np.ix_(idx, idx)], r[idx]))


def shapley_r2(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Each driver's Shapley share of R² (sums to the full R²)."""
    k = len(r)
    cache = {S: _r2(R, r, S) for m in range(k + 1) for S in combinations(range(k), m)}
    phi = np.zeros(k)
    for j in range(k):
        others = [i for i in range(k) if i != j]
        for m in range(k):
            w = factorial(m) * factorial(k - m - 1) / factorial(k)
            for S in combinations(others, m):
                phi[j] += w * (cache[tuple(sorted(S + (j,)))] - cache[S])
    return phi


def relative_weights(R: np.ndarray, r: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh(R)
    lam = vecs @ np.diag(np.sqrt(np.maximum(vals, 0))) @ vecs.T
    beta = np.linalg.solve(lam, r)
    return (lam**2) @ (beta**2)


def _boot_correlations(
    M: np.ndarray, w: np.ndarray | None, B: int, seed: int,
    progress: Callable[[int, int], None] | None = None,
):
    """The correlation matrix of each of ``B`` bootstrap resamples of the rows of ``M``.

    A resample is its count per row (the same draws, in the same order, as indexing the rows
    with ``rng.integers(0, n, n)``), so no resample copies the data: the counts of a batch of
    resamples multiply the rows' cross-products once (Efron & Tibshirani 1993, ch. 6; the
    count form of the bootstrap). Rows are centred on the whole sample's means first, which
    keeps the sums of products accurate. ``progress(done, B)`` after each batch.
    """
    n, p = M.shape
    rng = np.random.default_rng(seed)
    D = M - M.mean(axis=0)
    iu = np.triu_indices(p)
    # per row: its weight, then weight × (the centred values, their pair products), so one
    # product with a resample's counts gives all its sums (n × (1 + p + p(p+1)/2))
    # filled a block of rows at a time: no n-row temporaries (fresh memory is slow to touch)
    Z = np.empty((n, 1 + p + len(iu[0])))
    for lo in range(0, n, ROWS):
        block, Dc = Z[lo : lo + ROWS], D[lo : lo + ROWS]
        block[:, 0] = 1.0
        block[:, 1 : p + 1] = Dc
        pair_products(Dc, block[:, p + 1 :])
        if w is not None:
            block *= w[lo : lo + ROWS, None]
    # counts as bytes (a row drawn more than 255 times in one resample: wider integers), in
    # batches of about 64M, made ahead on a thread (_count_batches); multiplied into the rows
    # a chunk at a time, widened to floats in one more buffer (all reused: no fresh memory)
    batch = max(1, min(B, COUNTS_PER_BATCH // max(n, 1)))
    rows = max(1, 512_000 // max(batch, Z.shape[1], 1))  # 4 MB of floats: widened in cache
    wide = np.empty((batch, min(rows, n)))
    done = 0
    for b, counts in _count_batches(rng, n, B, batch):
        S = np.zeros((b, Z.shape[1]))  # b × (1 + p + p(p+1)/2)
        # the next batch is drawn and counted meanwhile (if any): BLAS leaves it its core
        with parallel_section() if b < B else nullcontext():
            for lo in range(0, n, rows):
                part = counts[:, lo : lo + rows]
                f = wide[:b, : part.shape[1]]
                f[...] = part
                S += f @ Z[lo : lo + rows]
        W = S[:, 0]
        done += b
        if progress is not None:
            progress(done, B)
        for i in range(b):
            m = S[i, 1 : p + 1] / W[i]
            C = np.empty((p, p))
            C[iu] = S[i, p + 1 :] / W[i]
            C[(iu[1], iu[0])] = C[iu]
            C -= np.outer(m, m)
            with np.errstate(invalid="ignore", divide="ignore"):
                d = np.sqrt(np.diag(C))
                yield C / np.outer(d, d)


def _count_batches(rng: np.random.Generator, n: int, B: int, batch: int):
    """(size, counts) of the bootstrap's batches of resamples, in the order of the stream. From
    a second batch on they are drawn and counted on a thread of their own while the caller
    multiplies the batch before (one batch in hand, one waiting, one being made: three
    buffers of counts, reused)."""
    sizes = [min(batch, B - lo) for lo in range(0, B, batch)]
    bufs = [np.empty((batch, n), dtype=np.uint8) for _ in range(min(3, len(sizes)))]

    def made():
        for i, b in enumerate(sizes):
            yield b, bootstrap_counts(rng, n, b, out=bufs[i % len(bufs)])

    if len(sizes) <= 1:
        yield from made()
        return
    yield from ahead(made(), depth=1, name="manyi-counts")


def _rw_or_none(Cb: np.ndarray, k: int) -> np.ndarray | None:
    """Relative weights of one resample's correlations; None for a degenerate resample."""
    if not (np.isfinite(Cb).all() and np.linalg.cond(Cb[:k, :k]) < 1e10):
        return None
    try:
        return relative_weights(Cb[:k, :k], Cb[:k, k])
    except np.linalg.LinAlgError:  # a degenerate resample is left out
        return None


def drivers(
    X: pd.DataFrame,
    y: np.ndarray,
    outcome: str,
    bootstrap: int = 1000,
    seed: int = 1,
    w: np.ndarray | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> AnalysisResult:
    """Standardised OLS, VIF, relative weights (bootstrap CI) and Shapley shares.

    ``w``: respondent weights (weighted correlations; standard errors on Kish's effective n).
    ``progress(done, total)``: resamples through, after each batch of the bootstrap.
    """
    names = list(X.columns)
    M = np.column_stack([X.to_numpy(float), np.asarray(y, float)])
    keep = ~np.isnan(M).any(axis=1)
    if w is not None:
        keep &= np.asarray(w, float) > 0
        w = np.asarray(w, float)[keep]
    M = M[keep]
    n, k = len(M), len(names)
    need(n, k + 10, "Key-driver analysis")
    ne = float(n) if w is None else n_eff(w)
    sd = M.std(axis=0, ddof=1)
    const = [([*names, outcome])[j] for j in np.flatnonzero(~(sd > 0))]
    if const:
        raise ManyiError(Message("an.constant", {"what": ", ".join(const)}))
    C = corr(M, w)
    Rxx, rxy = C[:k, :k], C[:k, k]
    # perfectly (or numerically) collinear drivers: no unique regression, say so
    if not np.isfinite(C).all() or np.linalg.cond(Rxx) > 1e10:
        raise ManyiError(Message("an.singular"))
    try:
        beta = np.linalg.solve(Rxx, rxy)
        vif = np.diag(np.linalg.inv(Rxx))
        rw = relative_weights(Rxx, rxy)
    except np.linalg.LinAlgError:
        raise ManyiError(Message("an.singular")) from None
    r2 = float(beta @ rxy)
    # OLS on z-scores with an intercept: se(β_j)² = (1 − R²)/(n − k − 1)·(R_xx⁻¹)_jj
    df = ne - k - 1  # none left (n ≤ k + 1): no standard errors, t or p
    with np.errstate(invalid="ignore", divide="ignore"):
        se = np.sqrt(max(1 - r2, 0.0) / df * vif) if df > 0 else np.full(k, np.nan)
        t = beta / se
    p = 2 * t_sf(np.abs(t), df) if df > 0 else np.full(k, np.nan)
    boots = [
        rw_b
        for Cb in _boot_correlations(M, w, bootstrap, seed, progress)
        if (rw_b := _rw_or_none(Cb, k)) is not None
    ]
    boots = np.array(boots) if boots else np.full((0, k), np.nan)
    lo, hi = (
        np.quantile(boots, [0.025, 0.975], axis=0) if len(boots) > 1 else (np.full(k, np.nan),) * 2
    )
    table = pd.DataFrame(
        {
            "driver": names,
            "beta": beta,
            "se": se,
            "t": t,
            "p": p,
            "vif": vif,
            "relative_weight": rw,
            "rw_ci_low": lo,
            "rw_ci_high": hi,
            "rescaled_rw": rw / r2,
        }
    )
    warnings = []
    if bootstrap and len(boots) < bootstrap:
        warnings.append(
            Message("an.boot_degenerate", {"n": bootstrap - len(boots), "of": bootstrap})
        )
    if k <= MAX_SHAPLEY:
        sh = shapley_r2(Rxx, rxy)
        table["shapley"] = sh
        table["shapley_share"] = sh / r2
    else:
        warnings.append(Message("an.shapley_skipped", {"k": k, "max": MAX_SHAPLEY}))
    high = [nm for nm, v in zip(names, vif, strict=True) if v > 5]
    if high:
        warnings.append(Message("an.collinear", {"drivers": ", ".join(high)}))
    table = table.sort_values("relative_weight", ascending=False).reset_index(drop=True)
    table.insert(1, "rank", np.arange(1, k + 1))
    model = pd.DataFrame(
        [
            {
                "outcome": outcome,
                "n": n,
                "n_eff": ne,
                "k": k,
                "r2": r2,
                "r2_adj": 1 - (1 - r2) * (ne - 1) / (ne - k - 1),
                "bootstrap": len(boots),
            }
        ]
    )
    return AnalysisResult("drivers", n, {"drivers": table, "model": model}, warnings)
