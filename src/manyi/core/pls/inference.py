"""Inference by resampling: the bootstrap from row counts, the jackknife for BCa, and the
interval summaries (Efron & Tibshirani 1993)."""

from __future__ import annotations

import os
from collections.abc import Callable
from functools import partial

import numpy as np

from manyi.core.ahead import parallel_hold, parallel_release
from manyi.core.pls import engine as eng
from manyi.core.pls.result import Bootstrap, _err
from manyi.core.resample import bootstrap_counts, row_counts
from manyi.core.tdist import norm_ppf, norm_sf, t_sf

#: Up to this many row draws a block of resamples is drawn in one call; above, one resample
#: at a time into a byte per row (the same stream either way).
DRAW_BLOCK = 16_000_000


def inference(
    estimate: float, draws: np.ndarray | None, jk: np.ndarray | None, level: float,
    tests: bool = True,
) -> dict[str, float]:
    """Bootstrap SE (n − 1), t, two-sided p (Student's t on resamples − 1 df; without
    ``tests``, neither), percentile interval and, with jackknife values ``jk``, the BCa
    interval (:func:`inferences` for one statistic)."""
    if draws is None or len(draws) < 2:
        return {}
    many = inferences(
        np.asarray([estimate], dtype=float), np.asarray(draws)[:, None],
        None if jk is None else np.asarray(jk)[:, None], level, tests,
    )
    return {key: float(v[0]) for key, v in many.items()}


def inferences(
    estimates: np.ndarray, draws: np.ndarray, jk: np.ndarray | None, level: float,
    tests: bool = True,
) -> dict[str, np.ndarray]:
    """:func:`inference` of k statistics at once: their estimates (k), bootstrap draws
    (B × k) and jackknife values (J × k, or None): each key an array of k. A statistic's
    figures are the ones it would get alone (its draws are summed in the same order)."""
    est = np.asarray(estimates, dtype=float)
    k, B = len(est), len(draws)
    if B < 2:
        return {}
    D = np.ascontiguousarray(np.asarray(draws, dtype=float).reshape(B, k).T)  # k × B, rows as alone
    alpha_q = (1 - level) / 2
    se = np.std(D, axis=1, ddof=1)
    res = {"se": se}
    if tests:
        pos = se > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            t = np.where(pos, est / np.where(pos, se, 1.0), np.nan)
            res["t"] = t
            res["p"] = np.where(pos, 2 * t_sf(np.abs(np.where(pos, t, 0.0)), B - 1), np.nan)
    S = np.sort(D, axis=1)  # every quantile below is read off the sorted draws
    lo_hi = sorted_quantiles(S, np.broadcast_to([alpha_q, 1 - alpha_q], (k, 2)))
    res["ci_low"], res["ci_high"] = lo_hi[:, 0], lo_hi[:, 1]
    if jk is not None:
        J = np.ascontiguousarray(np.asarray(jk, dtype=float).reshape(len(jk), k).T)
        out = bca_sorted(est, S, J, level)
        res["bca_low"], res["bca_high"] = out[:, 0], out[:, 1]
    return res


def sorted_quantiles(S: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Quantiles ``q`` (k × r levels) of each row of ``S`` (k × B, each row sorted, NaN
    last): the numbers of ``np.quantile(row, q_row)`` (its default, linear interpolation
    between order statistics: Hyndman & Fan 1996, definition 7), computed the same way, for
    every row at once. A row holding NaN gives NaN, as does a NaN level."""
    k, B = S.shape
    q = np.asarray(q, dtype=float)
    v = (B - 1) * q
    prev = np.floor(v)
    nxt = prev + 1
    last = (v >= B - 1) | np.isnan(v)
    prev[last] = nxt[last] = B - 1
    first = v < 0
    prev[first] = nxt[first] = 0
    t = v - prev
    rows = np.arange(k)[:, None]
    a, b = S[rows, prev.astype(np.intp)], S[rows, nxt.astype(np.intp)]
    diff = b - a
    out = a + diff * t
    np.subtract(b, diff * (1 - t), out=out, where=t >= 0.5)
    out[np.isnan(S[:, -1])] = np.nan
    out[np.broadcast_to(np.isnan(q), out.shape)] = np.nan
    return out


def bca_sorted(est: np.ndarray, S: np.ndarray, J: np.ndarray, level: float) -> np.ndarray:
    """Bias-corrected and accelerated percentile intervals (Efron & Tibshirani 1993, §14.3)
    of k statistics: estimates (k), their draws sorted by row (k × B), jackknife values
    (k × J) → k × 2 (low, high); NaN where every draw lies on one side of the estimate."""
    k, B = S.shape
    below = (S < est[:, None]).sum(axis=1)
    tied = (S == est[:, None]).sum(axis=1)
    prop = (below + 0.5 * tied) / B
    ok = (prop > 0) & (prop < 1)
    z0 = np.array([norm_ppf(float(x)) if good else np.nan for x, good in zip(prop, ok, strict=True)])
    d = J.mean(axis=1)[:, None] - J
    denom = 6 * (np.sum(d**2, axis=1) ** 1.5)
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = np.where(denom > 0, np.sum(d**3, axis=1) / np.where(denom > 0, denom, 1.0), 0.0)
        zq = np.array([norm_ppf((1 - level) / 2), norm_ppf((1 + level) / 2)])
        z = z0[:, None] + zq[None, :]
        adj = 1.0 - norm_sf(z0[:, None] + z / (1 - acc[:, None] * z))
    out = sorted_quantiles(S, np.where(ok[:, None], adj, np.nan))
    out[~ok] = np.nan
    return out


class LocalBlocks:
    """Runs the bootstrap's blocks of resamples here, one after the other. Another runner
    (``manyi.services.distributed``: on Dask workers) has the same three methods; the draws
    of the row counts stay with the caller, so the seed's stream is the same anywhere."""

    inflight = 0  # blocks submitted ahead of the one collected

    def start(self, Z: np.ndarray, miss: np.ndarray, maps: int) -> None:
        self.mom = eng.Moments(Z, miss, maps=maps)

    def submit(self, counts: np.ndarray, lay: eng.Layout, scheme: str, max_iter: int, tol: float):
        return block_estimates(self.mom, counts, lay, scheme, max_iter, tol)

    def result(self, handle):
        return handle

    def stop(self) -> None:
        self.mom = None


class ThreadBlocks(LocalBlocks):
    """Runs the blocks on ``workers`` threads of this process, each block on one thread while
    the next block's counts are drawn (numpy lets go of the interpreter in its array work).
    Each resample's estimates depend on its own counts only, so the numbers are the ones of
    :class:`LocalBlocks`. Meanwhile the BLAS library runs on one thread (the blocks are the
    parallel work; its own threads would compete with them for the cores) and the interpreter
    switches threads more often (:func:`manyi.core.ahead.parallel_hold`). Freed arrays are
    kept for reuse from then on (:func:`manyi.core.heap.keep_freed_memory`, process-wide)."""

    def __init__(self, workers: int = 2):
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="manyi-pls")
        self.inflight = workers - 1
        self.held = False

    def start(self, Z: np.ndarray, miss: np.ndarray, maps: int) -> None:
        from manyi.core.heap import keep_freed_memory

        super().start(Z, miss, maps)
        keep_freed_memory()  # the blocks' arrays reused, not faulted in anew (once per process)
        parallel_hold()
        self.held = True

    def submit(self, counts: np.ndarray, lay: eng.Layout, scheme: str, max_iter: int, tol: float):
        return self.pool.submit(block_estimates, self.mom, counts, lay, scheme, max_iter, tol)

    def result(self, handle):
        return handle.result()

    def stop(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self.held:
            parallel_release()
            self.held = False
        self.mom = None


def cores() -> int:
    """The processor cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


#: Bootstraps of at most this many row draws in all (B × n) are split into blocks run on the
#: cores at once (their counts are small; larger ones keep one block of counts in memory).
THREADED_UP_TO = 2 * DRAW_BLOCK


def block_estimates(
    mom: eng.Moments,
    counts: np.ndarray | Callable[[], np.ndarray],
    lay: eng.Layout,
    scheme: str,
    max_iter: int,
    tol: float,
) -> tuple[np.ndarray, ...]:
    """The estimates of a block of resamples given by their row counts (k × n, or a function
    that counts them: where the block runs), paths, total effects, weights, loadings, R²,
    HTMT, item means and variances of the admissible ones (finite, converged), and how many
    were not."""
    if callable(counts):
        counts = counts()
    k, p = len(counts), mom.p
    wide = np.empty((k, min(mom.chunk, max(mom.n, 1))))  # a chunk of counts as floats, reused

    def apply(M: np.ndarray, lo: int, hi: int) -> np.ndarray:
        f = wide[:, : hi - lo]
        np.copyto(f, counts[:, lo:hi])
        # (Mᵀ fᵀ)ᵀ = f M, laid out by columns: each moment's row of k resamples is contiguous,
        # as the pair correlations (pairs × k) read them
        return (M.T @ f.T).T

    N, sums, cross = mom.of(apply)
    pairs = mom.pair_correlations(N, sums, cross)
    Rb = mom.expand(pairs)  # p × p × k, side by side
    finite = np.isfinite(pairs).all(axis=0)
    Rb[:, :, ~finite] = np.eye(p)[:, :, None]  # placeholder, dropped below
    f = eng.estimate(Rb, lay, scheme, max_iter, tol, side=True)
    e = eng.estimates(f, lay)
    good = finite & f.ok & f.converged & np.isfinite(e.paths).all(axis=(1, 2))
    M = sums / N[:, None]
    diag = cross[:, mom.diag]
    V = (diag - N[:, None] * M**2) / (N[:, None] - 1)
    out = (e.paths, e.total, f.W, e.loadings, e.r2, eng.htmt_pairs(pairs, p, lay.blocks), M, V)
    bad = int((~good).sum())
    if bad:  # copies of the admissible ones (most blocks have none to drop)
        out = tuple(a[good] for a in out)
    return (*out, np.array(bad))


def bootstrap(
    Z, miss, lay, scheme, B, seed, indices, sign_change, est, W, progress, batch, max_iter, tol,
    runner=None,
) -> Bootstrap:
    """Resamples of the model, each from its row counts (see :class:`engine.Moments`); the
    same PCG64 stream as seminr's default resampler for a given seed. The counts are drawn
    here, block by block; ``runner`` (default :class:`LocalBlocks`) computes each block's
    estimates, here or elsewhere: the same blocks, the same numbers."""
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
    rng = np.random.default_rng(seed)
    threads = min(8, cores()) if runner is None and indices is None and B * n <= THREADED_UP_TO else 1
    if batch is None:  # a block of counts of about 384M small integers (384 MB as uint8)
        batch = int(max(16, min(B, 5000, 384_000_000 // max(n, 1))))
        if threads > 1 and B >= 200:  # a block per core
            batch = min(batch, -(-B // threads))
    if runner is not None:
        run = runner
    else:
        run = ThreadBlocks(threads) if threads > 1 and batch < B else LocalBlocks()
    run.start(Z, miss, min(batch, B))
    kept: list[tuple[np.ndarray, ...]] = []
    pending: list[tuple[object, int]] = []
    reuse: np.ndarray | None = None
    done = 0
    collected = 0

    def collect() -> None:
        nonlocal collected
        handle, k = pending.pop(0)
        kept.append(run.result(handle))
        collected += k
        if progress:
            progress(collected, B)

    try:
        while done < B:
            k = min(batch, B - done)
            # each resample's n row indices (the same stream as one draw of k × n), kept as
            # the count of each row: small integers, widened to floats a chunk of rows at a time
            small = indices is None and k * n <= DRAW_BLOCK
            if small:  # one call and one bincount for the whole block; the count is made
                # where the block runs when it runs here (the next block is drawn meanwhile)
                idx = rng.integers(0, n, size=(k, n), dtype=np.intp)
                counts = partial(row_counts, idx) if runner is None else row_counts(idx)
            elif indices is None:  # a byte per row (the same stream), into one buffer when
                # each block is done with before the next is drawn (here, not on a cluster)
                if reuse is None and run.inflight == 0:
                    reuse = np.empty((k, n), dtype=np.uint8)
                counts = bootstrap_counts(rng, n, k, out=reuse)
            else:  # given resamples: counted one by one
                counts = np.empty((k, n), dtype=np.uint32)
                for j in range(k):
                    counts[j] = np.bincount(indices[done + j], minlength=n)
            pending.append((run.submit(counts, lay, scheme, max_iter, tol), k))
            done += k
            while len(pending) > run.inflight:
                collect()
        while pending:
            collect()
    finally:
        run.stop()
    cols = list(zip(*kept, strict=True))
    keep_paths, keep_total, keep_w, keep_l, keep_r2, keep_h, keep_m, keep_v = cols[:8]
    bad = int(sum(int(b) for b in cols[8]))
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


def jackknife(
    Z: np.ndarray, miss: np.ndarray, lay: eng.Layout, scheme: str, max_iter: int, tol: float
) -> dict[str, np.ndarray]:
    """Leave-one-out (n ≤ 2000) or leave-one-group-out (1000 groups) path estimates, for the
    paths' BCa intervals.

    Each deletion's cross-products are the full sample's minus the deleted rows', so the
    jackknife costs one pass over the data.
    """
    n = len(Z)
    mom = eng.Moments(Z, miss)
    if n <= 2000:

        def prod(M: np.ndarray, lo: int, hi: int) -> np.ndarray:  # leave one row out
            out = np.repeat(M.sum(axis=0)[None, :], n, axis=0)
            out[lo:hi] -= M
            return out

    else:  # row i in group i mod 1000

        def prod(M: np.ndarray, lo: int, hi: int) -> np.ndarray:  # leave one group out
            return M.sum(axis=0)[None, :] - _group_sums(M, lo, 1000)

    Rj = mom.correlations(*mom.of(prod))
    f = eng.estimate(Rj, lay, scheme, max_iter, tol, side=True)
    return {"paths": eng.estimates(f, lay).paths}


def _group_sums(M: np.ndarray, lo: int, g: int) -> np.ndarray:
    """Column sums of the rows of ``M`` (rows lo, lo + 1, … of the data) by group, row i in
    group i mod ``g``: the rows taken g at a time (a line of groups, the first from the group
    of row ``lo``) and added line after line, in row order, without a copy of ``M``."""
    out = np.zeros((g, M.shape[1]))
    at, i = lo % g, 0
    while i < len(M):
        take = min(g - at, len(M) - i)
        out[at : at + take] += M[i : i + take]
        i += take
        at = 0
    return out


def bca(estimate: float, draws: np.ndarray, jack: np.ndarray, level: float) -> tuple[float, float]:
    """Bias-corrected and accelerated percentile interval (Efron & Tibshirani 1993, §14.3) of
    one statistic (:func:`bca_sorted`)."""
    lo, hi = bca_sorted(
        np.array([float(estimate)]), np.sort(np.asarray(draws, dtype=float))[None],
        np.asarray(jack, dtype=float)[None], level,
    )[0]
    return float(lo), float(hi)
