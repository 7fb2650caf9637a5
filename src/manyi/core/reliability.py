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
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from manyi.core.analysis import AnalysisResult, need
from manyi.i18n import ManyiError, Message


def cronbach_alpha(X: np.ndarray) -> float:
    k = X.shape[1]
    C = np.cov(X, rowvar=False, ddof=1)
    return float(k / (k - 1) * (1 - np.trace(C) / C.sum()))


def feldt_interval(alpha: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1 - (1 - alpha) * stats.f.ppf(1 - (1 - level) / 2, df1, df2)
    hi = 1 - (1 - alpha) * stats.f.ppf((1 - level) / 2, df1, df2)
    return float(lo), float(hi)


def one_factor(
    R: np.ndarray, tol: float = 1e-9, max_iter: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Loadings λ and uniquenesses ψ of a one-factor minimum-residual (ULS) solution."""
    h2 = 1 - 1 / np.diag(np.linalg.inv(R))  # squared multiple correlations as start
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


def omega(X: np.ndarray) -> float:
    R = np.corrcoef(X, rowvar=False)
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
    return float(chi2), df, float(stats.chi2.sf(chi2, df))


def reliability(data: pd.DataFrame, dimensions: dict[str, list[str]]) -> AnalysisResult:
    """Per dimension α (with interval), ω, α-if-deleted, item–total r; KMO and Bartlett."""
    dims, items_rows, warnings = [], [], []
    for d, items in dimensions.items():
        X = data[items].dropna().to_numpy(float)
        n, k = X.shape
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
            i for i, s in zip(items, X.std(axis=0) if n else np.zeros(k), strict=True) if not s > 0
        ]
        if k < 2 or n < 3 or const:
            if const:
                warnings.append(Message("an.constant", {"what": ", ".join(const)}))
            dims.append(row)
            continue
        a = cronbach_alpha(X)
        lo, hi = feldt_interval(a, n, k)
        row.update(alpha=a, alpha_ci_low=lo, alpha_ci_high=hi, omega=omega(X) if k >= 3 else np.nan)
        dims.append(row)
        total = X.sum(axis=1)
        for j, it in enumerate(items):
            rest = np.delete(X, j, axis=1)
            items_rows.append(
                {
                    "dimension": d,
                    "item": it,
                    "alpha_if_deleted": cronbach_alpha(rest) if k > 2 else np.nan,
                    "item_total_r": float(np.corrcoef(X[:, j], total - X[:, j])[0, 1]),
                }
            )
    all_items = [i for its in dimensions.values() for i in its]
    X = data[all_items].dropna().to_numpy(float)
    need(len(X), len(all_items) + 1, "KMO/Bartlett")
    if (X.std(axis=0) == 0).any():
        raise ManyiError(
            Message(
                "an.constant",
                {
                    "what": ", ".join(
                        i for i, s in zip(all_items, X.std(axis=0), strict=True) if s == 0
                    )
                },
            )
        )
    R = np.corrcoef(X, rowvar=False)
    if abs(np.linalg.det(R)) < 1e-300:
        raise ManyiError(Message("an.singular"))
    k_all, k_items = kmo(R)
    chi2, df, p = bartlett(R, len(X))
    tables = {
        "dimensions": pd.DataFrame(dims),
        "items": pd.DataFrame(
            items_rows, columns=["dimension", "item", "alpha_if_deleted", "item_total_r"]
        ),
        "adequacy": pd.DataFrame(
            [{"n": len(X), "kmo": k_all, "bartlett_chi2": chi2, "bartlett_df": df, "bartlett_p": p}]
        ),
        "kmo_items": pd.DataFrame({"item": all_items, "msa": k_items}),
    }
    return AnalysisResult("reliability", len(data), tables, warnings)
