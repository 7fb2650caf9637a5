"""Quality of a fitted model: f² (Cohen 1988, by re-estimation), reliability (α, ρ_A, ρ_C,
AVE) and discriminant validity (HTMT rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.pls import engine as eng


def f2_all(
    R: np.ndarray, lay: eng.Layout, scheme: str, r2: np.ndarray, max_iter: int, tol: float
) -> dict[tuple[int, int], tuple[float, bool]]:
    """:func:`f2` of every path (i, j) of the model. The reduced models that keep every
    construct on a path are estimated together, as one stack with a path matrix each (the
    numbers of estimating them one by one); the others one by one."""
    out: dict[tuple[int, int], tuple[float, bool]] = {}
    together: list[tuple[int, int, np.ndarray]] = []
    for i, j in zip(*np.nonzero(lay.P), strict=True):
        i, j = int(i), int(j)
        P = lay.P.copy()
        P[i, j] = 0.0
        on_path = (P.any(axis=0) | P.any(axis=1)).all()
        if P[:, j].any() and on_path:
            together.append((i, j, P))
        else:
            out[(i, j)] = f2(R, lay, scheme, i, j, float(r2[j]), max_iter, tol)
    if together:
        Ps = np.stack([P for *_, P in together])
        Rs = np.repeat(R[None], len(together), axis=0)
        f = eng.estimate(Rs, lay, scheme, max_iter, tol, paths=Ps)
        CY = f.CY
        for b, (i, j, P) in enumerate(together):
            r2_excl = float("nan")  # a reduced fit that did not converge gives none
            if f.ok[b] and f.converged[b]:
                S = np.flatnonzero(P[:, j])
                try:
                    r2_excl = float(np.linalg.solve(CY[b][np.ix_(S, S)], CY[b][S, j]) @ CY[b][S, j])
                except np.linalg.LinAlgError:
                    pass
            out[(i, j)] = _cohen_f2(float(r2[j]), r2_excl)
    return out


def _cohen_f2(r2_incl: float, r2_excl: float) -> tuple[float, bool]:
    """(f², True), or (NaN, False) where the reduced model has no finite R²."""
    if not np.isfinite(r2_excl):
        return float("nan"), False
    return float((r2_incl - r2_excl) / (1 - r2_incl)), True


def f2(
    R: np.ndarray,
    lay: eng.Layout,
    scheme: str,
    i: int,
    j: int,
    r2_incl: float,
    max_iter: int,
    tol: float,
) -> tuple[float, bool]:
    """Cohen's f² of the path i → j: (R²_incl − R²_excl)/(1 − R²_incl), R²_excl from the model
    re-estimated without the path (Hair et al. 2017, as seminr does).

    Constructs that the reduced model leaves on no path are dropped from it (as seminr does):
    they have no inner proxy and would stop the algorithm. Returns (f², converged); a reduced
    fit that does not converge gives NaN and ``False``.
    """
    P = lay.P.copy()
    P[i, j] = 0.0
    if not P[:, j].any():
        return float(r2_incl / (1 - r2_incl)), True
    keep = [k for k in range(P.shape[0]) if P[k, :].any() or P[:, k].any()]
    P = P[np.ix_(keep, keep)]
    blocks_old = [lay.blocks[k] for k in keep]
    items = np.concatenate(blocks_old)
    pos = {int(it): q for q, it in enumerate(items)}
    blocks = [np.array([pos[int(it)] for it in b], dtype=np.int64) for b in blocks_old]
    mask = np.zeros((len(items), len(keep)))
    for c, b in enumerate(blocks):
        mask[b, c] = 1.0
    endo = [k for k in range(len(keep)) if P[:, k].any()]
    sub = eng.Layout(
        mask, blocks, lay.mode_b[keep], P, endo, [np.flatnonzero(P[:, k]) for k in endo]
    )
    Rs = R[np.ix_(items, items)][None]
    f = eng.estimate(Rs, sub, scheme, max_iter, tol)
    if not (f.ok[0] and f.converged[0]):
        return float("nan"), False
    return _cohen_f2(r2_incl, float(eng.estimates(f, sub).r2[0, keep.index(j)]))


def reliability(R, W, loadings, lay, names) -> pd.DataFrame:
    """Cronbach's α (standardised), ρ_A (Dijkstra & Henseler 2015), ρ_C and AVE (Fornell & Larcker 1981).

    ρ_A is defined for reflective (mode A) blocks; for a formative (mode B) block it is
    reported as 1, as seminr does (SmartPLS reports none).
    """
    rows = []
    for j, c in enumerate(names):
        blk = lay.blocks[j]
        k = len(blk)
        lam = loadings[blk, j]
        rc = float(lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum()))
        ave = float((lam**2).mean())
        if k == 1:
            rows.append({"construct": c, "alpha": 1.0, "rho_a": 1.0, "rho_c": rc, "ave": ave})
            continue
        S = R[np.ix_(blk, blk)]
        alpha = float(k / (k - 1) * (1 - k / S.sum()))
        if lay.mode_b[j]:  # ρ_A is defined for reflective (mode A) blocks; seminr reports 1
            rows.append({"construct": c, "alpha": alpha, "rho_a": 1.0, "rho_c": rc, "ave": ave})
            continue
        w = W[blk, j]
        ww = np.outer(w, w)
        off_s = S - np.diag(np.diag(S))
        off_w = ww - np.diag(np.diag(ww))
        rho_a = float((w @ w) ** 2 * (w @ off_s @ w) / (w @ off_w @ w))
        rows.append({"construct": c, "alpha": alpha, "rho_a": rho_a, "rho_c": rc, "ave": ave})
    return pd.DataFrame(rows, columns=["construct", "alpha", "rho_a", "rho_c", "ave"])
