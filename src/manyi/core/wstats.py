"""Weighted descriptive statistics with Kish's effective sample size.

With weights w (any positive scale): mean = Σwx/Σw; variance = Σw(x − mean)²/Σw · n_eff/(n_eff − 1)
with n_eff = (Σw)²/Σw² (Kish 1965); the standard error of a mean is sd/√n_eff and intervals use
Student's t with n_eff − 1 degrees of freedom. With all weights equal every formula reduces to the
unweighted one.
"""

from __future__ import annotations

import numpy as np

from manyi.core.tdist import t_ppf, t_sf


def n_eff(w: np.ndarray) -> float:
    w = np.asarray(w, dtype=float)
    s2 = (w**2).sum()
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def mean_test(x: np.ndarray, w: np.ndarray | None = None, level: float = 0.95) -> dict[str, float]:
    """Mean with its t interval and the t test against 0 (a paired test on differences)."""
    x = np.asarray(x, dtype=float)
    ok = ~np.isnan(x)
    x = x[ok]
    w = np.ones(len(x)) if w is None else np.asarray(w, dtype=float)[ok]
    keep = w > 0
    x, w = x[keep], w[keep]
    n = len(x)
    out = {
        "n": n,
        "mean": float(np.average(x, weights=w)) if n else np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "t": np.nan,
        "p": np.nan,
        "sd": np.nan,
        "n_eff": n_eff(w) if n else 0.0,
    }
    ne = out["n_eff"]
    if n < 2 or ne <= 1:
        return out
    m = out["mean"]
    sd = float(np.sqrt(np.average((x - m) ** 2, weights=w) * ne / (ne - 1)))
    se = sd / np.sqrt(ne)
    tc = float(t_ppf(0.5 + level / 2, ne - 1))
    out.update(sd=sd, ci_low=m - tc * se, ci_high=m + tc * se)
    if se > 0:
        t = m / se
        out.update(t=float(t), p=float(2 * t_sf(abs(t), ne - 1)))
    return out


def corr(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted Pearson correlation matrix of the columns of X (rows complete)."""
    X = np.asarray(X, dtype=float)
    if w is None:
        return np.corrcoef(X, rowvar=False)
    w = np.asarray(w, dtype=float)
    m = np.average(X, axis=0, weights=w)
    D = X - m
    C = (D * w[:, None]).T @ D
    d = np.sqrt(np.diag(C))
    return C / np.outer(d, d)


def cov(X: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted covariance matrix (denominator Σw·(n_eff − 1)/n_eff; n − 1 without weights)."""
    X = np.asarray(X, dtype=float)
    if w is None:
        return np.cov(X, rowvar=False, ddof=1)
    w = np.asarray(w, dtype=float)
    m = np.average(X, axis=0, weights=w)
    D = X - m
    ne = n_eff(w)
    return (D * w[:, None]).T @ D / w.sum() * ne / (ne - 1)


def welch(
    x: np.ndarray, wx: np.ndarray | None, y: np.ndarray, wy: np.ndarray | None
) -> tuple[float, float, float]:
    """Welch's t test of mean(y) − mean(x) (weighted: effective n per group); (t, df, p)."""
    a, b = mean_test(x, wx), mean_test(y, wy)
    return welch_from_stats(a["mean"], a["sd"], a["n_eff"], b["mean"], b["sd"], b["n_eff"])


def welch_from_stats(
    mean_a: float, sd_a: float, n_a: float, mean_b: float, sd_b: float, n_b: float
) -> tuple[float, float, float]:
    """Welch (1947) t test of mean_b − mean_a from summaries (n may be an effective n);
    Welch–Satterthwaite degrees of freedom. Returns (t, df, p); NaN when undefined."""
    if not (n_a > 1 and n_b > 1):
        return np.nan, np.nan, np.nan
    va, vb = sd_a**2 / n_a, sd_b**2 / n_b
    se = np.sqrt(va + vb)
    if not se > 0:
        return np.nan, np.nan, np.nan
    t = (mean_b - mean_a) / se
    df = (va + vb) ** 2 / (va**2 / (n_a - 1) + vb**2 / (n_b - 1))
    return float(t), float(df), float(2 * t_sf(abs(t), df))
