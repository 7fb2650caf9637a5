"""Weighted descriptive statistics with Kish's effective sample size.

With weights w (any positive scale): mean = Σwx/Σw; variance = Σw(x − mean)²/Σw · n_eff/(n_eff − 1)
with n_eff = (Σw)²/Σw² (Kish 1965); the standard error of a mean is sd/√n_eff and intervals use
Student's t with n_eff − 1 degrees of freedom. With all weights equal every formula reduces to the
unweighted one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from manyi.core.tdist import t_ppf, t_sf


def n_eff(w: np.ndarray) -> float:
    w = np.asarray(w, dtype=float)
    s2 = (w**2).sum()
    return float(w.sum() ** 2 / s2) if s2 > 0 else 0.0


def chan_between(wa: np.ndarray, wb: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """The term two parts' spread adds when they merge (Chan, Golub & LeVeque 1979): with
    total weights wa, wb and the difference of their means δ, M2 = M2a + M2b + δ²·wa·wb/(wa + wb);
    0 where a part is empty."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where((wa > 0) & (wb > 0), delta * delta * (wa * wb / (wa + wb)), 0.0)


@dataclass
class Moments:
    """Mergeable weighted moments of the columns of a matrix (NaN = not answered).

    Per column: ``n`` values present (any weight), ``npos`` of them with a positive weight,
    Σw, Σw², the weighted mean and M2 = Σw(x − mean)² over the rows with a positive weight
    (all weights 1 without weights). Two summaries of disjoint rows merge into the summary of
    their union by the pairwise formula of Chan, Golub & LeVeque (1979), so a table's parts
    (chunks of a file, Parquet parts on workers) give the numbers of one pass to rounding.
    """

    n: np.ndarray
    npos: np.ndarray
    sw: np.ndarray
    sw2: np.ndarray
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, w: np.ndarray | None = None) -> Moments:
        X = np.asarray(X, dtype=float)
        X = X[:, None] if X.ndim == 1 else X
        present = ~np.isnan(X)
        n = present.sum(axis=0).astype(np.int64)
        Xz = np.where(present, X, 0.0)
        if w is None:  # weights 1: Σw = Σw² = n
            sw = n.astype(float)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = Xz.sum(axis=0) / sw
            np.subtract(X, mean, out=Xz, where=present)
            return cls(n, n.copy(), sw, sw.copy(), mean, np.einsum("ij,ij->j", Xz, Xz))
        w = np.asarray(w, dtype=float)
        ok = present & (w > 0)[:, None]
        W = np.where(ok, w[:, None], 0.0)
        sw = W.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.einsum("ij,ij->j", W, Xz) / sw
        np.subtract(X, mean, out=Xz, where=present)
        Xz[~ok] = 0.0
        return cls(
            n=n,
            npos=ok.sum(axis=0).astype(np.int64),
            sw=sw,
            sw2=np.einsum("ij,ij->j", W, W),
            mean=mean,
            m2=np.einsum("ij,ij,ij->j", W, Xz, Xz),
        )

    def merge(self, other: Moments) -> Moments:
        sw = self.sw + other.sw
        delta = other.mean - self.mean
        a, b = self.sw > 0, other.sw > 0
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(a & b, self.mean + delta * (other.sw / sw), np.where(a, self.mean, other.mean))
        between = chan_between(self.sw, other.sw, delta)
        return Moments(
            n=self.n + other.n,
            npos=self.npos + other.npos,
            sw=sw,
            sw2=self.sw2 + other.sw2,
            mean=mean,
            m2=self.m2 + other.m2 + between,
        )

    def n_eff(self, j: int = 0) -> float:
        return float(self.sw[j] ** 2 / self.sw2[j]) if self.sw2[j] > 0 else 0.0

    def test(self, j: int = 0, level: float = 0.95) -> dict[str, float]:
        """:func:`mean_test` of column ``j``."""
        return mean_test_from(int(self.npos[j]), self.n_eff(j), float(self.mean[j]),
                              float(self.m2[j]), float(self.sw[j]), level)


def merge_all(parts: list[Any]) -> Any:
    """Merge mergeable summaries (anything with ``merge``) in their order."""
    out = parts[0]
    for p in parts[1:]:
        out = out.merge(p)
    return out


def mean_test(x: np.ndarray, w: np.ndarray | None = None, level: float = 0.95) -> dict[str, float]:
    """Mean with its t interval and the t test against 0 (a paired test on differences)."""
    return Moments.of(x, w).test(0, level)


def mean_test_from(
    n: int, ne: float, mean: float, m2: float, sw: float, level: float = 0.95
) -> dict[str, float]:
    """:func:`mean_test` from a column's moments: n values with a positive weight, Kish's n_eff,
    the weighted mean, M2 = Σw(x − mean)² and Σw."""
    out = {
        "n": n,
        "mean": mean if n else np.nan,
        "ci_low": np.nan,
        "ci_high": np.nan,
        "t": np.nan,
        "p": np.nan,
        "sd": np.nan,
        "n_eff": ne if n else 0.0,
    }
    if n < 2 or ne <= 1:
        return out
    sd = float(np.sqrt(m2 / sw * ne / (ne - 1)))
    se = sd / np.sqrt(ne)
    tc = float(t_ppf(0.5 + level / 2, ne - 1))
    out.update(sd=sd, ci_low=mean - tc * se, ci_high=mean + tc * se)
    if se > 0:
        t = mean / se
        out.update(t=float(t), p=float(2 * t_sf(abs(t), ne - 1)))
    return out


@dataclass
class CoMoments:
    """Mergeable weighted co-moments of the rows where every column is present (and the
    weight positive): n, Σw, the mean vector and M2 = Σw(x − mean)(x − mean)ᵀ (Chan, Golub &
    LeVeque 1979 for the merge)."""

    n: int
    sw: float
    mean: np.ndarray
    m2: np.ndarray

    @classmethod
    def of(cls, X: np.ndarray, w: np.ndarray | None = None) -> CoMoments:
        X = np.asarray(X, dtype=float)
        ok = ~np.isnan(X).any(axis=1)
        if w is not None:
            ok &= np.asarray(w, dtype=float) > 0
        X = X[ok]
        k = X.shape[1]
        if not len(X):
            return cls(0, 0.0, np.full(k, np.nan), np.zeros((k, k)))
        if w is None:
            mean = X.mean(axis=0)
            X -= mean  # (X is a copy: the rows kept)
            return cls(len(X), float(len(X)), mean, X.T @ X)
        ww = np.asarray(w, dtype=float)[ok]
        sw = float(ww.sum())
        mean = ww @ X / sw
        X -= mean
        return cls(len(X), sw, mean, (X * ww[:, None]).T @ X)

    def merge(self, other: CoMoments) -> CoMoments:
        if other.n == 0:
            return self
        if self.n == 0:
            return other
        sw = self.sw + other.sw
        delta = other.mean - self.mean
        return CoMoments(
            self.n + other.n,
            sw,
            self.mean + delta * (other.sw / sw),
            self.m2 + other.m2 + np.outer(delta, delta) * (self.sw * other.sw / sw),
        )

    def corr(self) -> np.ndarray:
        d = np.sqrt(np.diag(self.m2))
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.m2 / np.outer(d, d)


def pair_moments(X: np.ndarray, y: np.ndarray, w: np.ndarray | None = None) -> list[CoMoments]:
    """The co-moments of each column of X with y, each over the rows where both are present
    (and the weight positive): ``[CoMoments.of(column_stack([X[:, k], y]), w) for k]`` in one
    pass over the columns."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    ok = ~np.isnan(X) & ~np.isnan(y)[:, None]
    if w is not None:
        ok &= (np.asarray(w, dtype=float) > 0)[:, None]
    W = ok.astype(float) if w is None else np.where(ok, np.asarray(w, float)[:, None], 0.0)
    sw = W.sum(axis=0)
    Dx = np.where(ok, X, 0.0)
    yz = np.where(np.isnan(y), 0.0, y)
    with np.errstate(invalid="ignore", divide="ignore"):
        mx = np.einsum("ij,ij->j", W, Dx) / sw
        my = (yz @ W) / sw
    np.subtract(X, mx, out=Dx, where=ok)
    Dy = np.where(ok, yz[:, None] - my, 0.0)
    cxx = np.einsum("ij,ij,ij->j", W, Dx, Dx)
    cyy = np.einsum("ij,ij,ij->j", W, Dy, Dy)
    cxy = np.einsum("ij,ij,ij->j", W, Dx, Dy)
    n = ok.sum(axis=0)
    return [
        CoMoments(int(n[k]), float(sw[k]), np.array([mx[k], my[k]]),
                  np.array([[cxx[k], cxy[k]], [cxy[k], cyy[k]]]))
        if n[k] else CoMoments(0, 0.0, np.full(2, np.nan), np.zeros((2, 2)))
        for k in range(X.shape[1])
    ]


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
