"""The tables of a fitted model: paths (with inference and f²), outer weights and loadings,
R², effects, HTMT pairs — each a tidy DataFrame with self-explaining columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.messages import Message
from manyi.core.pls import engine as eng
from manyi.core.pls.inference import inferences, sorted_quantiles
from manyi.core.pls.quality import f2_all
from manyi.core.pls.result import Bootstrap

PATH_INFERENCE = ["se", "t", "p", "ci_low", "ci_high", "bca_low", "bca_high"]


def _rows(
    inf: dict[str, np.ndarray], k: int, keys=None, prefix: str = ""
) -> list[dict[str, float | None]]:
    """The figures of :func:`inferences` for k statistics as one dict each: all of them, or
    ``keys`` (None where there are none: too few resamples), named ``prefix + key``."""
    if keys is None:
        return [{key: float(v[i]) for key, v in inf.items()} for i in range(k)]
    return [
        {f"{prefix}{key}": float(inf[key][i]) if key in inf else None for key in keys}
        for i in range(k)
    ]


def paths_table(
    names, est, lay, boot: Bootstrap | None, jack, R, scheme, max_iter, tol, level, warnings
) -> pd.DataFrame:
    paths_m, r2 = est.paths[0], est.r2[0]
    src, dst = np.nonzero(lay.P)  # the paths, in the order of their rows
    infs = (
        _rows(inferences(paths_m[src, dst], boot.paths[:, src, dst], jack["paths"][:, src, dst], level),
              len(src))
        if boot is not None else None
    )
    f2s = f2_all(R, lay, scheme, r2, max_iter, tol)
    rows = []
    for at, (i, j) in enumerate(zip(src, dst, strict=True)):
        a, b = names[i], names[j]
        row = {"from": a, "to": b, "estimate": float(paths_m[i, j])}
        if infs is not None:
            row.update(infs[at])
        row["f2"], converged = f2s[(int(i), int(j))]
        if not converged:
            warnings.append(Message("pls.f2_no_convergence", {"path": f"{a} → {b}"}))
        rows.append(row)
    cols = ["from", "to", "estimate"] + (PATH_INFERENCE if boot else []) + ["f2"]
    return pd.DataFrame(rows, columns=cols)


def outer_table(names, items, W, loadings, lay, boot: Bootstrap | None, level) -> pd.DataFrame:
    cells = [(k, j) for j in range(len(names)) for k in lay.blocks[j]]
    ks = np.array([k for k, _ in cells], dtype=np.intp)
    js = np.array([j for _, j in cells], dtype=np.intp)
    infs = None
    if boot is not None:
        keys = ("se", "ci_low", "ci_high")
        w_inf = _rows(inferences(W[ks, js], boot.weights[:, ks, js], None, level, tests=False), len(ks), keys,
                      "weight_")
        l_inf = _rows(inferences(loadings[ks, js], boot.loadings[:, ks, js], None, level, tests=False), len(ks),
                      keys, "loading_")
        infs = [w | lo for w, lo in zip(w_inf, l_inf, strict=True)]
    rows = []
    for at, (k, j) in enumerate(cells):
        row = {
            "construct": names[j],
            "item": items[k],
            "weight": float(W[k, j]),
            "loading": float(loadings[k, j]),
        }
        if infs is not None:
            row.update(infs[at])
        rows.append(row)
    return pd.DataFrame(rows)


def r2_table(names, r2, lay, n, boot: Bootstrap | None, level) -> pd.DataFrame:
    endo = list(lay.endogenous)
    infs = None
    if boot is not None:
        infs = _rows(inferences(r2[endo], boot.r2[:, endo], None, level, tests=False), len(endo),
                     ("se", "ci_low", "ci_high"), "r2_")
    rows = []
    for at, j in enumerate(endo):
        k = int(lay.P[:, j].sum())
        row = {
            "construct": names[j],
            "r2": float(r2[j]),
            "r2_adj": float(1 - (1 - r2[j]) * (n - 1) / (n - k - 1)),
        }
        if infs is not None:
            row.update(infs[at])
        rows.append(row)
    return pd.DataFrame(rows)


def effects_table(names, est, lay, boot: Bootstrap | None, level) -> pd.DataFrame:
    """Direct, indirect and total effects; with a bootstrap, the total's and the indirect
    effect's SE, p and percentile interval, each from the resamples' own effects (the indirect
    one, total − direct, is the mediation test of Zhao, Lynch & Chen 2010; the percentile
    interval as Aguirre-Urreta & Rönkkö 2018 recommend). Pairs without a mediated route get
    no indirect figures."""
    paths_m, total_m = est.paths[0], est.total[0]
    src, dst = np.nonzero((total_m != 0) | (lay.P != 0))  # in the order of their rows
    infs = None
    if boot is not None:
        keys, k = ("se", "p", "ci_low", "ci_high"), len(src)
        # the totals and the indirect effects inferred together (one pass over both)
        tot = boot.total[:, src, dst]
        both = inferences(
            np.concatenate([total_m[src, dst], (total_m - paths_m)[src, dst]]),
            np.concatenate([tot, tot - boot.paths[:, src, dst]], axis=1), None, level,
        )
        infs = _rows({key: v[:k] for key, v in both.items()}, k, keys, "total_")
        ind = _rows({key: v[k:] for key, v in both.items()}, k, keys, "indirect_")
        # a route through a mediator: a path of two steps or more (Σₖ≥₂ Pᵏ > 0)
        on = (lay.P != 0).astype(float)
        routed = (eng.total_effects(on) - on)[src, dst] > 0
        for at, row in enumerate(ind):
            infs[at].update(row if routed[at] else dict.fromkeys(row))
    rows = []
    for at, (i, j) in enumerate(zip(src, dst, strict=True)):
        row = {
            "from": names[i],
            "to": names[j],
            "direct": float(paths_m[i, j]),
            "indirect": float(total_m[i, j] - paths_m[i, j]),
            "total": float(total_m[i, j]),
        }
        if infs is not None:
            row.update(infs[at])
        rows.append(row)
    return pd.DataFrame(rows)


def htmt_tables(names, R, lay, boot: Bootstrap | None, level):
    """(HTMT matrix of absolute correlations, the signed one, the pairs table with bootstrap
    SE, percentile interval, one-sided upper bound and the 0.85/0.90 verdicts)."""
    htmt = pd.DataFrame(eng.htmt_stack(R[None], lay.blocks)[0], index=names, columns=names)
    signed = pd.DataFrame(
        eng.htmt_stack(R[None], lay.blocks, signed=True)[0], index=names, columns=names
    )
    alpha_q = (1 - level) / 2
    pairs = [(i, j) for i in range(len(names)) for j in range(i + 1, len(names))]
    figures: list[dict] = [{} for _ in pairs]
    if boot is not None and boot.htmt is not None and pairs:
        ii, jj = np.array(pairs).T
        D = np.ascontiguousarray(boot.htmt[:, ii, jj].T)  # a row of draws per pair
        if np.isfinite(D).all():  # the quantiles of every pair at once (the same numbers)
            q = np.broadcast_to([alpha_q, 1 - alpha_q, level], (len(D), 3))
            lo, hi, upper = sorted_quantiles(np.sort(D, axis=1), q).T
            se = np.std(D, axis=1, ddof=1)
        else:
            got = []
            for d in D:
                d = d[np.isfinite(d)]
                got.append([*np.quantile(d, [alpha_q, 1 - alpha_q, level]), np.std(d, ddof=1)])
            lo, hi, upper, se = np.array(got).T
        for at in range(len(pairs)):
            figures[at] = dict(
                se=float(se[at]),
                ci_low=float(lo[at]),
                ci_high=float(hi[at]),
                upper=float(upper[at]),  # one-sided upper bound
                below_085=bool(upper[at] < 0.85),
                below_090=bool(upper[at] < 0.90),
            )
    rows = []
    for at, (i, j) in enumerate(pairs):
        rows.append({
            "construct_a": names[i],
            "construct_b": names[j],
            "htmt": float(htmt.iloc[i, j]),
            "htmt_signed": float(signed.iloc[i, j]),
            **figures[at],
        })
    return htmt, signed, pd.DataFrame(rows)
