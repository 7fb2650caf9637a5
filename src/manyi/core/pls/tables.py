"""The tables of a fitted model: paths (with inference and f²), outer weights and loadings,
R², effects, HTMT pairs — each a tidy DataFrame with self-explaining columns."""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.messages import Message
from manyi.core.pls import engine as eng
from manyi.core.pls.inference import inference
from manyi.core.pls.quality import f2
from manyi.core.pls.result import Bootstrap

PATH_INFERENCE = ["se", "t", "p", "ci_low", "ci_high", "bca_low", "bca_high"]


def paths_table(
    names, est, lay, boot: Bootstrap | None, jack, R, scheme, max_iter, tol, level, warnings
) -> pd.DataFrame:
    paths_m, r2 = est.paths[0], est.r2[0]
    rows = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if not lay.P[i, j]:
                continue
            row = {"from": a, "to": b, "estimate": float(paths_m[i, j])}
            if boot is not None:
                row.update(
                    inference(paths_m[i, j], boot.paths[:, i, j], jack["paths"][:, i, j], level)
                )
            row["f2"], converged = f2(R, lay, scheme, i, j, r2[j], max_iter, tol)
            if not converged:
                warnings.append(Message("pls.f2_no_convergence", {"path": f"{a} → {b}"}))
            rows.append(row)
    cols = ["from", "to", "estimate"] + (PATH_INFERENCE if boot else []) + ["f2"]
    return pd.DataFrame(rows, columns=cols)


def outer_table(names, items, W, loadings, lay, boot: Bootstrap | None, level) -> pd.DataFrame:
    rows = []
    for j, c in enumerate(names):
        for k in lay.blocks[j]:
            row = {
                "construct": c,
                "item": items[k],
                "weight": float(W[k, j]),
                "loading": float(loadings[k, j]),
            }
            if boot is not None:
                for key, arr, ref in (
                    ("weight", boot.weights, W),
                    ("loading", boot.loadings, loadings),
                ):
                    inf = inference(ref[k, j], arr[:, k, j], None, level)
                    row.update({f"{key}_{s}": inf.get(s) for s in ("se", "ci_low", "ci_high")})
            rows.append(row)
    return pd.DataFrame(rows)


def r2_table(names, r2, lay, n, boot: Bootstrap | None, level) -> pd.DataFrame:
    rows = []
    for j in lay.endogenous:
        k = int(lay.P[:, j].sum())
        row = {
            "construct": names[j],
            "r2": float(r2[j]),
            "r2_adj": float(1 - (1 - r2[j]) * (n - 1) / (n - k - 1)),
        }
        if boot is not None:
            inf = inference(r2[j], boot.r2[:, j], None, level)
            row.update({f"r2_{s}": inf.get(s) for s in ("se", "ci_low", "ci_high")})
        rows.append(row)
    return pd.DataFrame(rows)


def effects_table(names, est, lay, boot: Bootstrap | None, jack, level) -> pd.DataFrame:
    paths_m, total_m = est.paths[0], est.total[0]
    rows = []
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            if total_m[i, j] == 0 and not lay.P[i, j]:
                continue
            row = {
                "from": a,
                "to": b,
                "direct": float(paths_m[i, j]),
                "indirect": float(total_m[i, j] - paths_m[i, j]),
                "total": float(total_m[i, j]),
            }
            if boot is not None:
                inf = inference(total_m[i, j], boot.total[:, i, j], jack["total"][:, i, j], level)
                row.update({f"total_{s}": inf.get(s) for s in ("se", "p", "ci_low", "ci_high")})
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
    rows = []
    for i, a in enumerate(names):
        for j in range(i + 1, len(names)):
            row = {
                "construct_a": a,
                "construct_b": names[j],
                "htmt": float(htmt.iloc[i, j]),
                "htmt_signed": float(signed.iloc[i, j]),
            }
            if boot is not None and boot.htmt is not None:
                d = boot.htmt[:, i, j]
                d = d[np.isfinite(d)]
                lo, hi = np.quantile(d, [alpha_q, 1 - alpha_q])
                upper = float(np.quantile(d, level))  # one-sided upper bound
                row.update(
                    se=float(np.std(d, ddof=1)),
                    ci_low=float(lo),
                    ci_high=float(hi),
                    upper=upper,
                    below_085=upper < 0.85,
                    below_090=upper < 0.90,
                )
            rows.append(row)
    return htmt, signed, pd.DataFrame(rows)
