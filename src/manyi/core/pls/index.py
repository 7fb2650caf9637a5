"""The ACSI 0–100 index of each construct (Fornell et al. 1996): the standardised outer
weights divided by the items' standard deviations, renormalised within the construct, applied
to the items' means on 0–100 — with bootstrap draws from each resample's own weights, means
and SDs. cSEM's ``getConstructScores(.standardized = FALSE)`` and plspm's ``rescale()`` do
the same rescaling."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from manyi.core.pls import engine as eng
from manyi.core.pls.inference import inferences
from manyi.core.pls.result import Bootstrap


def item_bounds(items: list[str], scale: Any, item_scales: dict[str, tuple[float, float]]):
    """(min, max) arrays of the items' scales: the model's ``scale``, else each item's own
    (from an instrument), else NaN (no index)."""
    lo_hi = []
    for it in items:
        if scale is not None:
            lo_hi.append((scale.min, scale.max))
        elif it in item_scales:
            lo_hi.append(item_scales[it])
        else:
            lo_hi.append((np.nan, np.nan))
    lo, hi = np.array(lo_hi, dtype=float).T
    return lo, hi


def index_0_100(
    X: np.ndarray,
    W: np.ndarray,
    lay: eng.Layout,
    names: list[str],
    lo: np.ndarray,
    hi: np.ndarray,
    boot: Bootstrap | None,
    level: float,
) -> tuple[dict[str, float], pd.DataFrame, np.ndarray, np.ndarray]:
    """(index per construct, index table with bootstrap SE/CI, item means on 0-100,
    rescaled weights w̃ per item)."""
    pts = (X - lo) / (hi - lo) * 100
    pts_mean = pts.mean(axis=0)
    pts_sd = pts.std(axis=0, ddof=1)
    rescaled = np.zeros(X.shape[1])
    index: dict[str, float] = {}
    draws = []
    if boot is not None:  # each resample's item means and SDs on 0-100, from its counts
        sd_x = X.std(axis=0, ddof=1)
        b_mean = (X.mean(axis=0) + sd_x * boot.item_mean_z - lo) / (hi - lo) * 100
        b_sd = sd_x * np.sqrt(boot.item_var_z) / (hi - lo) * 100
    for j, c in enumerate(names):
        blk = lay.blocks[j]
        u = W[blk, j] / pts_sd[blk]
        u = u / u.sum()
        rescaled[blk] = u
        index[c] = float(u @ pts_mean[blk])
        if boot is not None:
            ub = boot.weights[:, blk, j] / b_sd[:, blk]
            ub = ub / ub.sum(axis=1, keepdims=True)
            draws.append((ub * b_mean[:, blk]).sum(axis=1))
    rows = [{"construct": c, "index": index[c]} for c in names]
    if boot is not None:  # every construct's index inferred at once (the figures of each alone)
        inf = inferences(np.array([index[c] for c in names]), np.column_stack(draws), None, level,
                         tests=False)
        for at, row in enumerate(rows):
            row.update({f"index_{s}": float(inf[s][at]) if s in inf else None
                        for s in ("se", "ci_low", "ci_high")})
    return index, pd.DataFrame(rows), pts_mean, rescaled
