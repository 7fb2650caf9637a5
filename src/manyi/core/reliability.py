"""Reliability and sampling adequacy of the dimensions.

* Cronbach's α (1951) on the item covariances, listwise complete responses, with Feldt's
  (1965) F interval; α if an item is deleted; corrected item–total correlation (the item with
  the sum of the other items).
* McDonald's ω (1999) from a one-factor solution fitted by minimum residuals (iterated
  principal axes on the correlation matrix, which converges to the unweighted least-squares
  solution): ω = (Σλ)²/((Σλ)² + Σψ).
* Kaiser–Meyer–Olkin measure (Kaiser 1970) overall and per item, from the anti-image
  (partial) correlations; Bartlett's (1950) test of sphericity:
  χ² = −(n − 1 − (2p + 5)/6)·ln|R|, df = p(p − 1)/2.
* Exploratory factor analysis: the number of factors by Horn's (1965) parallel analysis,
  minimum-residual extraction, varimax (Kaiser 1958) and promax (Hendrickson & White 1964)
  rotations, with psych::fa's conventions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult, need
from manyi.core.messages import ManyiError, Message
from manyi.core.wstats import corr as wcorr
from manyi.core.wstats import cov as wcov
from manyi.core.wstats import n_eff


def cronbach_alpha(X: np.ndarray, w: np.ndarray | None = None) -> float:
    return alpha_of_cov(wcov(X, w))


def alpha_of_cov(C: np.ndarray) -> float:
    """Cronbach's α of items with covariance matrix C: k/(k − 1)·(1 − tr C / ΣC)."""
    k = len(C)
    return float(k / (k - 1) * (1 - np.trace(C) / C.sum()))


def feldt_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    from scipy import special  # F quantiles (imported where an interval needs them)

    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * special.fdtri(df1, df2, 1 - (1 - level) / 2)
    hi = 1 - (1 - alpha) * special.fdtri(df1, df2, (1 - level) / 2)
    return float(lo), float(hi)


def one_factor(
    R: np.ndarray, tol: float = 1e-9, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Loadings λ and uniquenesses ψ of a one-factor minimum-residual (ULS) solution."""
    try:  # squared multiple correlations as start
        h2 = 1 - 1 / np.diag(np.linalg.inv(R))
    except np.linalg.LinAlgError:  # singular R (few respondents): the largest correlations
        h2 = np.abs(R - np.eye(len(R))).max(axis=1)
    for _ in range(max_iter):
        Rr = R.copy()
        np.fill_diagonal(Rr, h2)
        vals, vecs = np.linalg.eigh(Rr)
        lam = vecs[:, -1] * np.sqrt(max(vals[-1], 0.0))
        new = lam**2
        if np.max(np.abs(new - h2)) < tol:
            h2 = new
            break
        h2 = new
    if lam.sum() < 0:
        lam = -lam
    return lam, 1 - lam**2


def omega(X: np.ndarray, w: np.ndarray | None = None) -> float:
    return omega_of_corr(wcorr(X, w))


def omega_of_corr(R: np.ndarray) -> float:
    lam, psi = one_factor(R)
    return float(lam.sum() ** 2 / (lam.sum() ** 2 + psi.sum()))


def kmo(R: np.ndarray) -> tuple[float, np.ndarray]:
    inv = np.linalg.inv(R)
    d = np.sqrt(np.diag(inv))
    P = -inv / np.outer(d, d)
    off = ~np.eye(len(R), dtype=bool)
    r2, p2 = np.where(off, R**2, 0), np.where(off, P**2, 0)
    overall = r2.sum() / (r2.sum() + p2.sum())
    per = r2.sum(axis=0) / (r2.sum(axis=0) + p2.sum(axis=0))
    return float(overall), per


def bartlett(R: np.ndarray, n: int) -> tuple[float, int, float]:
    p = len(R)
    sign, logdet = np.linalg.slogdet(R)
    chi2 = -(n - 1 - (2 * p + 5) / 6) * logdet
    df = p * (p - 1) // 2
    from scipy import special

    return float(chi2), df, float(special.chdtrc(df, chi2))


def reliability(
    data: pd.DataFrame,
    dimensions: dict[str, list[str]],
    factors: int | None = None,
    seed: int = 1,
    weights: np.ndarray | None = None,
) -> AnalysisResult:
    """Per dimension α (with interval), ω, α-if-deleted, item–total r; KMO and Bartlett;
    exploratory factor analysis of all items (parallel analysis, varimax, promax).
    With ``weights`` the covariances and correlations are weighted and n is Kish's n_eff."""
    dims, items_rows, warnings = [], [], []
    wall = np.ones(len(data)) if weights is None else np.asarray(weights, float)
    for d, items in dimensions.items():
        ok = data[items].notna().all(axis=1).to_numpy() & (wall > 0)
        X = data[items].to_numpy(float)[ok]
        w = None if weights is None else wall[ok]
        n, k = X.shape
        ne = float(n) if w is None else n_eff(w)
        row = {
            "dimension": d,
            "n": n,
            "n_items": k,
            "alpha": np.nan,
            "alpha_ci_low": np.nan,
            "alpha_ci_high": np.nan,
            "omega": np.nan,
        }
        const = [
            i
            for i, s_ in zip(items, X.std(axis=0) if n else np.zeros(k), strict=True)
            if not s_ > 0
        ]
        if k < 2 or n < 3 or const:
            if const:
                warnings.append(Message("an.constant", {"what": ", ".join(const)}))
            dims.append(row)
            continue
        # one pass over the responses: the items' covariance matrix, from which α, ω, α if
        # deleted and the corrected item–total r all follow (covariances are bilinear: the
        # rest-score's variance is the sum of the other items' block, its covariance with the
        # item the sum of the item's row without its own variance)
        C = wcov(X, w)
        a = alpha_of_cov(C)
        lo, hi = feldt_interval(a, int(round(ne)), k)
        sd = np.sqrt(np.diag(C))
        row.update(
            alpha=a, alpha_ci_low=lo, alpha_ci_high=hi,
            omega=omega_of_corr(C / np.outer(sd, sd)) if k >= 3 else np.nan,
        )
        dims.append(row)
        for j, it in enumerate(items):
            keep = np.arange(k) != j
            rest = C[np.ix_(keep, keep)]
            items_rows.append(
                {
                    "dimension": d,
                    "item": it,
                    "alpha_if_deleted": alpha_of_cov(rest) if k > 2 else np.nan,
                    "item_total_r": float(C[j, keep].sum() / np.sqrt(C[j, j] * rest.sum())),
                }
            )
    all_items = [i for its in dimensions.values() for i in its]
    ok = data[all_items].notna().all(axis=1).to_numpy() & (wall > 0)
    X = data[all_items].to_numpy(float)[ok]
    w = None if weights is None else wall[ok]
    need(len(X), len(all_items) + 1, "KMO/Bartlett")
    if (X.std(axis=0) == 0).any():
        raise ManyiError(
            Message(
                "an.constant",
                {
                    "what": ", ".join(
                        i for i, s_ in zip(all_items, X.std(axis=0), strict=True) if s_ == 0
                    )
                },
            )
        )
    R = wcorr(X, w)
    if abs(np.linalg.det(R)) < 1e-300:
        raise ManyiError(Message("an.singular"))
    ne = float(len(X)) if w is None else n_eff(w)
    k_all, k_items = kmo(R)
    chi2, df, p = bartlett(R, ne)
    tables = {
        "dimensions": pd.DataFrame(dims),
        "items": pd.DataFrame(
            items_rows, columns=["dimension", "item", "alpha_if_deleted", "item_total_r"]
        ),
        "adequacy": pd.DataFrame(
            [
                {
                    "n": len(X),
                    "n_eff": ne,
                    "kmo": k_all,
                    "bartlett_chi2": chi2,
                    "bartlett_df": df,
                    "bartlett_p": p,
                }
            ]
        ),
        "kmo_items": pd.DataFrame({"item": all_items, "msa": k_items}),
    }
    if len(all_items) >= 3:
        efa_tables, efa_warnings = efa(
            R, int(round(ne)), {i: d for d, its in dimensions.items() for i in its}, factors, seed
        )
        tables.update(efa_tables)
        warnings += efa_warnings
    return AnalysisResult("reliability", len(data), tables, warnings)


# --------------------------------------------------------------------------------------
# Exploratory factor analysis
# --------------------------------------------------------------------------------------
def minres(
    R: np.ndarray, m: int, tol: float = 1e-8, max_iter: int = 2000
) -> tuple[np.ndarray, bool]:
    """m-factor minimum-residual (ULS) loadings by iterated principal axes from the squared
    multiple correlations (Harman 1976); returns the loadings and whether a Heywood case
    (a communality ≥ 1) was met and clipped."""
    h2 = 1 - 1 / np.diag(np.linalg.inv(R))
    heywood = False
    for _ in range(max_iter):
        Rr = R.copy()
        np.fill_diagonal(Rr, h2)
        vals, vecs = np.linalg.eigh(Rr)
        vals, vecs = vals[::-1][:m], vecs[:, ::-1][:, :m]
        L = vecs * np.sqrt(np.maximum(vals, 0))
        new = (L**2).sum(axis=1)
        if (new >= 0.995).any():
            heywood = True
            new = np.minimum(new, 0.995)
        if np.max(np.abs(new - h2)) < tol:
            break
        h2 = new
    return L, heywood


def varimax(
    L: np.ndarray, tol: float = 1e-11, max_iter: int = 10000
) -> tuple[np.ndarray, np.ndarray]:
    """Varimax rotation (Kaiser 1958) with Kaiser row normalisation; (loadings, rotation).

    Iterates the SVD update until no element of the rotation matrix moves by more than
    ``tol`` (1e-11), so the rotated loadings are converged to about that. (R's ``varimax``
    and psych stop at a relative gain of the criterion of 1e-5 or 1e-6, which leaves loadings
    up to ~1e-4 from the optimum; the criterion is flat there, the rotation is not.)
    """
    h = np.sqrt((L**2).sum(axis=1))
    A = L / h[:, None]
    p, k = A.shape
    T = np.eye(k)
    for _ in range(max_iter):
        Z = A @ T
        u, s, vt = np.linalg.svd(A.T @ (Z**3 - Z * (Z**2).sum(axis=0) / p))
        T_old, T = T, u @ vt
        if np.abs(T - T_old).max() < tol:
            break
    return (A @ T) * h[:, None], T


def promax(L: np.ndarray, power: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """Promax (Hendrickson & White 1964), Kaiser-normalised as psych::fa does; (pattern, Φ)."""
    h = np.sqrt((L**2).sum(axis=1))
    V, _ = varimax(L / h[:, None])
    target = V * np.abs(V) ** (power - 1)
    U = np.linalg.lstsq(V, target, rcond=None)[0]
    U = U @ np.diag(np.sqrt(np.diag(np.linalg.inv(U.T @ U))))
    Uinv = np.linalg.inv(U)
    return (V @ U) * h[:, None], Uinv @ Uinv.T


def parallel_analysis(
    n: int,
    p: int,
    eigenvalues: np.ndarray,
    resamples: int = 100,
    seed: int = 1,
    quantile: float = 0.95,
) -> tuple[np.ndarray, int]:
    """Horn's (1965) parallel analysis: eigenvalues of the correlation matrices of random
    normal data of the same size (n × p); factors retained while the observed eigenvalue
    exceeds the random ones' 95th percentile.

    The random data are never drawn: the scatter matrix of n independent standard normal
    vectors around their mean is Wishart(n − 1, I_p), drawn at p × p cost by Bartlett's
    decomposition (A lower triangular, A_ii² ~ χ²(n − 1 − i), A_ij ~ N(0, 1) below the
    diagonal; S = A Aᵀ; Bartlett 1933, Odell & Feiveson 1966). Its correlation matrix has
    exactly the distribution of the correlation matrix of the n × p data, so the reference
    eigenvalues are the same in distribution, at a cost independent of n."""
    rng = np.random.default_rng(seed)
    df = max(n - 1, p)
    sims = np.empty((resamples, p))
    rows, cols = np.tril_indices(p, -1)
    chi_df = df - np.arange(p)
    for b in range(resamples):
        A = np.zeros((p, p))
        A[np.diag_indices(p)] = np.sqrt(rng.chisquare(chi_df))
        A[rows, cols] = rng.standard_normal(len(rows))
        S = A @ A.T
        d = 1.0 / np.sqrt(np.diag(S))
        sims[b] = np.linalg.eigvalsh(S * d[:, None] * d[None, :])[::-1]
    thr = np.quantile(sims, quantile, axis=0)
    above = eigenvalues > thr
    k = int(np.argmin(above)) if not above.all() else p
    return thr, k


def _orient(L: np.ndarray) -> np.ndarray:
    """Factors ordered by explained variance, each with a positive sum of loadings."""
    order = np.argsort(-(L**2).sum(axis=0))
    L = L[:, order]
    return L * np.where(L.sum(axis=0) < 0, -1.0, 1.0)


def efa(
    R: np.ndarray, n: int, item_dimension: dict[str, str], factors: int | None = None, seed: int = 1
) -> tuple[dict[str, pd.DataFrame], list[Message]]:
    """Exploratory factor analysis of a correlation matrix R from n responses: parallel analysis,
    minres extraction, varimax and promax."""
    items = list(item_dimension)
    p = len(items)
    ev = np.linalg.eigvalsh(R)[::-1]
    thr, k = parallel_analysis(n, p, ev, seed=seed)
    p = len(R)
    if factors is not None and not 1 <= factors <= max(p - 1, 1):
        raise ManyiError(Message("an.bad_factors", {"value": factors, "max": max(p - 1, 1)}))
    m = factors or max(k, 1)
    warnings: list[Message] = []
    L, heywood = minres(R, m)
    if heywood:
        warnings.append(Message("an.heywood"))
    names = [f"F{j + 1}" for j in range(m)]
    vari = _orient(varimax(L)[0]) if m > 1 else _orient(L)
    tables = {
        "efa_eigenvalues": pd.DataFrame(
            {
                "component": np.arange(1, p + 1),
                "eigenvalue": ev,
                "random_p95": thr,
                "retained": np.arange(p) < k,
            }
        ),
        "loadings_varimax": pd.DataFrame(
            {
                "item": items,
                "dimension": [item_dimension[i] for i in items],
                **{nm: vari[:, j] for j, nm in enumerate(names)},
                "communality": (L**2).sum(axis=1),
            }
        ),
    }
    if m > 1:
        pattern, phi = promax(L)
        order = np.argsort(-(pattern**2).sum(axis=0))
        sign = np.where(pattern[:, order].sum(axis=0) < 0, -1.0, 1.0)
        pattern = pattern[:, order] * sign
        phi = phi[np.ix_(order, order)] * np.outer(sign, sign)
        tables["loadings_promax"] = pd.DataFrame(
            {
                "item": items,
                "dimension": [item_dimension[i] for i in items],
                **{nm: pattern[:, j] for j, nm in enumerate(names)},
            }
        )
        tables["promax_correlations"] = pd.DataFrame(
            {"factor": names, **{nm: phi[:, j] for j, nm in enumerate(names)}}
        )
    return tables, warnings
