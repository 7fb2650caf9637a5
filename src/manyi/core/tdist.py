"""Normal, Student-t, χ² and F tails and quantiles without scipy: the scorecard's intervals and
the comparisons' tests need no more, and importing ``scipy.special`` costs a command about
0.15–0.25 s.

* Normal quantile: :class:`statistics.NormalDist` (Wichura's AS 241, 1988: about 1e-16).
* Student's t distribution function: P(T > t) = ½·I_x(ν/2, ½) with x = ν/(ν + t²), the
  regularized incomplete beta by its continued fraction (modified Lentz; Press et al.,
  *Numerical Recipes*, 3rd ed., §6.4), on the side where it converges fast.
* Student's t quantile: the Cornish–Fisher expansion in 1/ν to the 1/ν⁴ term (Abramowitz &
  Stegun 1964, 26.7.5), which is the answer from ν = 1,000 on (the next term is below
  1e-13); below, it starts Newton's method on the distribution function, kept inside a
  bracket (bisection where a step leaves it). Tested against scipy's ``stdtrit`` (relative
  1e-12) for ν from 0.5 to 10⁸.
* χ² tail (Kruskal–Wallis) with k degrees of freedom, k a whole number: the finite sums of
  the regularized upper incomplete gamma function Q(k/2, x/2) (Abramowitz & Stegun 1964,
  26.4.4 and 26.4.5): e^(−y)·Σ yʲ/j! for even k, erfc(√y) + e^(−y)·Σ y^(j+½)/Γ(j+3/2) for odd k.
* F tail (one-way ANOVA) with d₁ (a whole number) and d₂ degrees of freedom:
  P(F > f) = I_x(d₂/2, d₁/2), x = d₂/(d₂ + d₁f), by the finite sums of the incomplete beta
  function for a whole or half-whole second parameter (A&S 26.6.4 and 26.6.5; the recurrence
  I_x(a, b + 1) = I_x(a, b) + xᵃ(1 − x)ᵇ/(b·B(a, b)), DLMF 8.17.21), which start from
  Student's t for odd d₁ (F(1, ν) = t²). No continued fraction is involved, so the
  tails stay exact when d₂ is in the millions (groups of a million responses).
  Both tested against scipy's ``chdtrc`` and ``fdtrc``.
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_N = NormalDist()
_lgamma = np.vectorize(math.lgamma, otypes=[float])


def norm_ppf(q: float) -> float:
    """The standard normal quantile of ``q`` (0 < q < 1)."""
    return _N.inv_cdf(q)


def norm_sf(z: np.ndarray | float) -> np.ndarray:
    """P(Z > z) for the standard normal, element-wise (NaN stays NaN)."""
    z = np.asarray(z, dtype=float)
    out = np.full(z.shape, np.nan)
    ok = ~np.isnan(z)
    out[ok] = [0.5 * math.erfc(v / math.sqrt(2.0)) for v in z[ok].ravel()]
    return out


def _betacf(
    a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray, iters: int = 10_000
) -> np.ndarray:
    """The continued fraction of the incomplete beta function (modified Lentz), vectorised;
    converges fast where x < (a + 1)/(a + b + 2). ``y`` = 1 − x: the first denominator
    1 − (a + b)x/(a + 1) is formed as ((1 − b) + (a + b)y)/(a + 1), which does not cancel
    when a is large and x near 1 (Student's t with ν in the millions). The elements still
    converging are kept together (the converged ones leave the arrays): each element's
    arithmetic is the one of its own fraction alone."""
    tiny = 1e-300
    a, b, x = (np.asarray(v, dtype=float) for v in (a, b, x))
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(x)
    d = ((1.0 - b) + qab * y) / qap
    d = np.where(np.abs(d) < tiny, tiny, d)
    d = 1.0 / d
    h = d.copy()
    out = h.copy()
    at = np.arange(len(x))  # the places of the elements still converging
    for m in range(1, iters + 1):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = 1.0 + aa / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        going = np.abs(delta - 1.0) > 1e-16
        if not going.all():
            out[at] = h
            if not going.any():
                break
            at, h, c, d = at[going], h[going], c[going], d[going]
            a, b, x, qab, qap, qam = a[going], b[going], x[going], qab[going], qap[going], qam[going]
    else:
        out[at] = h
    return out


_HALF_LOG_PI = 0.5 * math.log(math.pi)


def _log_gamma_ratio_half(a: np.ndarray) -> np.ndarray:
    """log Γ(a + ½) − log Γ(a) for a ≥ 20 by its asymptotic series, ½·log a − 1/(8a)
    + 1/(192a³) − 1/(640a⁵) + 17/(14336a⁷) (the Bernoulli-polynomial expansion of log Γ(a + b);
    Abramowitz & Stegun 1964, 6.1.40 and 23.1): about 1e-15 at a = 20, where the difference of
    two large log-gammas would lose about log₁₀(a·log a) digits."""
    r = 1.0 / a
    r2 = r * r
    return 0.5 * np.log(a) - r * (1 / 8 - r2 * (1 / 192 - r2 * (1 / 640 - r2 * 17 / 14336)))


def log_gamma_ratio_half(a: float) -> float:
    """log Γ(a + ½) − log Γ(a) (a > 0): the series from a = 20, log-gammas below."""
    if a >= 20:
        return float(_log_gamma_ratio_half(np.asarray(a, dtype=float)))
    return math.lgamma(a + 0.5) - math.lgamma(a)


def _lbeta(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log B(a, b); with b = ½ and a large (Student's t) by the ratio's series."""
    out = np.empty(np.broadcast(a, b).shape)
    a, b = np.broadcast_arrays(a, b)
    t = (b == 0.5) & (a >= 20)
    out[t] = _HALF_LOG_PI - _log_gamma_ratio_half(a[t])
    g = ~t
    out[g] = _lgamma(a[g]) + _lgamma(b[g]) - _lgamma(a[g] + b[g])
    return out


def betainc(
    a: np.ndarray, b: np.ndarray, x: np.ndarray, y: np.ndarray | None = None
) -> np.ndarray:
    """The regularized incomplete beta function I_x(a, b), element-wise (0 ≤ x ≤ 1); ``y``:
    1 − x where the caller has it more exactly than the subtraction (x near 1)."""
    a, b, x = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, x)))
    y = 1.0 - x if y is None else np.broadcast_to(np.asarray(y, dtype=float), x.shape)
    out = np.where(x <= 0, 0.0, np.where(x >= 1, 1.0, np.nan))
    inner = (x > 0) & (x < 1) & (y > 0)
    out = np.where((x > 0) & (y <= 0), 1.0, out)
    if not inner.any():
        return out
    a_, b_, x_, y_ = a[inner], b[inner], x[inner], y[inner]
    log_x = np.where(y_ < 0.5, np.log1p(-y_), np.log(x_))
    log_y = np.where(x_ < 0.5, np.log1p(-x_), np.log(y_))
    front = np.exp(a_ * log_x + b_ * log_y - _lbeta(a_, b_))
    direct = x_ < (a_ + 1.0) / (a_ + b_ + 2.0)
    val = np.empty_like(x_)
    if direct.any():
        val[direct] = front[direct] * _betacf(a_[direct], b_[direct], x_[direct], y_[direct]) / a_[direct]
    flip = ~direct
    if flip.any():
        val[flip] = 1.0 - front[flip] * _betacf(b_[flip], a_[flip], y_[flip], x_[flip]) / b_[flip]
    out[inner] = val
    return out


#: From this ν on, P(T > t) is the normal tail of the z whose Cornish–Fisher t is t (the
#: continued fraction of the incomplete beta loses digits to cancellation at ν in the
#: millions; Welch's ν of two groups of a million responses is such a ν).
LARGE_DF = 1e5


def t_sf(t: np.ndarray | float, df: np.ndarray | float) -> np.ndarray:
    """P(T > t) for Student's t with ``df`` degrees of freedom (df > 0), element-wise."""
    t, df = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    tail = np.full(t.shape, np.nan)
    big = (df >= LARGE_DF) & (np.abs(t) <= 40) & np.isfinite(t)
    if big.any():
        tail[big] = norm_sf(_cf_inverse(np.abs(t[big]), df[big]))
    rest = ~big
    if rest.any():
        tr, dr = np.abs(t[rest]), df[rest]
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            t2 = tr * tr
            tail[rest] = 0.5 * betainc(dr / 2.0, np.full(dr.shape, 0.5), dr / (dr + t2), t2 / (dr + t2))
    return np.where(np.isnan(t) | np.isnan(df), np.nan, np.where(t >= 0, tail, 1.0 - tail))


def _cf_terms(z: np.ndarray) -> tuple[np.ndarray, ...]:
    """The Cornish–Fisher polynomials g₁..g₄ of Student's t in the normal quantile z
    (Abramowitz & Stegun 1964, 26.7.5): t = z + g₁/ν + g₂/ν² + g₃/ν³ + g₄/ν⁴ + …"""
    z2 = z * z
    return (
        (z2 * z + z) / 4,
        (5 * z2**2 * z + 16 * z2 * z + 3 * z) / 96,
        (3 * z2**3 * z + 19 * z2**2 * z + 17 * z2 * z - 15 * z) / 384,
        (79 * z2**4 * z + 776 * z2**3 * z + 1482 * z2**2 * z - 1920 * z2 * z - 945 * z) / 92160,
    )


def _cf_inverse(t: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The z whose Cornish–Fisher t at ν = v is t (t ≥ 0, v ≥ :data:`LARGE_DF`): the fixed
    point of z = t − (g₁/ν + g₂/ν² + …), a contraction by (3z² + 1)/(4ν) at most."""
    z = t.copy()
    for _ in range(60):
        g1, g2, g3, g4 = _cf_terms(z)
        new = t - (g1 / v + g2 / v**2 + g3 / v**3 + g4 / v**4)
        done = np.abs(new - z) <= 1e-16 * np.maximum(1.0, np.abs(z))
        z = new
        if done.all():
            break
    return z


def _t_pdf(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    logc = _lgamma((df + 1) / 2) - _lgamma(df / 2) - 0.5 * np.log(df * math.pi)
    return np.exp(logc - (df + 1) / 2 * np.log1p(t * t / df))


_MEMO: dict[tuple[float, float], float] = {}  # (q, ν) → quantile, for ν below 1,000


def t_ppf(q: float, df: np.ndarray | float) -> np.ndarray:
    """The ``q`` quantile (0.5 < q < 1) of Student's t with ``df`` degrees of freedom,
    element-wise over ``df`` (NaN where df is NaN or not positive). Each distinct ν is solved
    once per process (a scorecard asks for the same groups' ν for every figure)."""
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    flat, res = df.ravel(), out.ravel()
    small = np.isfinite(flat) & (flat > 0) & (flat < 1000)
    uniq = np.unique(flat[small])
    todo = np.array([v for v in uniq if (q, float(v)) not in _MEMO])
    if len(todo):
        if len(_MEMO) > 100_000:
            _MEMO.clear()
        for v, t in zip(todo, _t_ppf(q, todo), strict=True):
            _MEMO[(q, float(v))] = float(t)
    res[small] = [_MEMO[(q, float(v))] for v in flat[small]]
    rest = ~small
    res[rest] = _t_ppf(q, flat[rest])
    return res.reshape(df.shape)


def _t_ppf(q: float, df: np.ndarray) -> np.ndarray:
    """:func:`t_ppf` without the memo."""
    df = np.asarray(df, dtype=float)
    out = np.full(df.shape, np.nan)
    ok = np.isfinite(df) & (df > 0)
    z = norm_ppf(q)
    g = (z, *(float(x) for x in _cf_terms(np.asarray(z))))

    def expansion(v: np.ndarray) -> np.ndarray:
        return g[0] + g[1] / v + g[2] / v**2 + g[3] / v**3 + g[4] / v**4

    # from ν = 1,000 the expansion's next term is below 1e-13 (for q ≤ 0.9995): it is the answer
    big = ok & (df >= 1000)
    out[big] = expansion(df[big])
    v = df[ok & ~big]
    if not len(v):
        return out
    t = expansion(v)
    t = np.where(np.isfinite(t) & (t > 0), t, z)
    lo, hi = np.zeros_like(v), np.maximum(t, z) * 2
    target = 1.0 - q
    while True:  # a bracket: P(T > hi) < 1 − q
        grow = t_sf(hi, v) > target
        if not grow.any():
            break
        hi = np.where(grow, hi * 4, hi)
    t = np.clip(t, lo, hi)
    for _ in range(200):
        f = t_sf(t, v) - target  # decreasing in t
        lo = np.where(f > 0, t, lo)
        hi = np.where(f <= 0, t, hi)
        step = f / _t_pdf(t, v)
        new = t + step
        new = np.where((new > lo) & (new < hi), new, (lo + hi) / 2)
        done = np.abs(new - t) <= 1e-14 * np.maximum(np.abs(t), 1.0)
        t = new
        if done.all():
            break
    out[ok & ~big] = t
    return out


def _log_rising(a: float, j: int) -> float:
    """log(a·(a + 1)·…·(a + j − 1)) = log Γ(a + j) − log Γ(a), exactly as a sum."""
    return math.fsum(math.log(a + i) for i in range(j))


def chi2_sf(x: float, k: int) -> float:
    """P(X > x) for χ² with ``k`` (a whole number ≥ 1) degrees of freedom (see the module)."""
    k = int(k)
    if k < 1 or math.isnan(x):
        return math.nan
    if x <= 0:
        return 1.0
    if math.isinf(x):
        return 0.0
    y = x / 2.0
    ly = math.log(y)
    if k % 2 == 0:
        terms = [math.exp(-y + j * ly - math.lgamma(j + 1.0)) for j in range(k // 2)]
        return min(1.0, math.fsum(terms))
    terms = [math.exp(-y + (j + 0.5) * ly - math.lgamma(j + 1.5)) for j in range(k // 2)]
    return min(1.0, math.erfc(math.sqrt(y)) + math.fsum(terms))


def f_sf(f: float, d1: int, d2: float) -> float:
    """P(F > f) for Fisher's F with ``d1`` (a whole number ≥ 1) and ``d2`` (> 0) degrees of
    freedom (see the module)."""
    d1 = int(d1)
    if d1 < 1 or not d2 > 0 or math.isnan(f):
        return math.nan
    if f <= 0:
        return 1.0
    if math.isinf(f):
        return 0.0
    a = d2 / 2.0
    r = d1 * f / d2  # y/x, with x = 1/(1 + r) and y = r/(1 + r)
    log_x = -math.log1p(r)
    log_y = math.log(r) + log_x
    if d1 % 2 == 0:  # I_x(a, m) = xᵃ·Σ_{j<m} Γ(a + j)/(Γ(a)·j!)·yʲ
        terms = [math.exp(a * log_x + j * log_y + _log_rising(a, j) - math.lgamma(j + 1.0))
                 for j in range(d1 // 2)]
        return min(1.0, math.fsum(terms))
    # I_x(a, m + ½) = I_x(a, ½) + Σ_{j<m} xᵃ·y^(j+½)/((j + ½)·B(a, j + ½)); I_x(a, ½) = 2·P(T > √(d1·f))
    half = log_gamma_ratio_half(a)
    terms = [
        math.exp(a * log_x + (j + 0.5) * log_y + half + _log_rising(a + 0.5, j)
                 - math.lgamma(j + 0.5) - math.log(j + 0.5))
        for j in range(d1 // 2)
    ]
    start = 2.0 * float(t_sf(math.sqrt(d1 * f), d2))
    return min(1.0, math.fsum([start, *terms]))
