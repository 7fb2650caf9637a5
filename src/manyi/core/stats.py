"""Interval estimates used by the scorecard, vectorised over groups.

All functions take arrays (one entry per group) and return arrays; empty groups give NaN.
"""

from __future__ import annotations

import numpy as np

from manyi.core.tdist import norm_ppf, norm_sf, t_ppf

# Quantiles computed here (manyi.core.tdist, tested against scipy to 1e-12): the scorecard
# does not import scipy.
Z95 = norm_ppf(0.975)


def t_interval(mean, sd, n, level: float = 0.95):
    """Student-t interval for a mean: mean ± t(1-α/2, n-1)·sd/√n.

    Returns (low, high, half_width); NaN where n < 2.
    """
    mean, sd, n = (np.asarray(a, dtype=float) for a in (mean, sd, n))
    with np.errstate(invalid="ignore", divide="ignore"):
        tcrit = t_ppf(0.5 + level / 2, np.where(n >= 2, n - 1, np.nan))
        half = tcrit * sd / np.sqrt(n)
    half = np.where(n >= 2, half, np.nan)
    return mean - half, mean + half, half


def wilson_interval(successes, n, level: float = 0.95):
    """Wilson (1927) score interval for a proportion.

    centre = (p + z²/2n)/(1 + z²/n), half = z·√(p(1−p)/n + z²/4n²)/(1 + z²/n).

    Parameters
    ----------
    successes, n:
        Counts (or effective counts with weights), one entry per group.
    level:
        Confidence level.

    Returns (low, high); NaN where n = 0.

    Examples
    --------
    The shipping line of docs/scoring.md: 3 of 4 customers satisfied.

    >>> lo, hi = wilson_interval([3], [4])
    >>> round(float(lo[0]), 5), round(float(hi[0]), 5)
    (0.30064, 0.95441)
    """
    k, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    z = norm_ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    low = np.where(n > 0, np.clip(centre - half, 0, 1), np.nan)
    high = np.where(n > 0, np.clip(centre + half, 0, 1), np.nan)
    return low, high


def nps_estimate(promoters, detractors, n, level: float = 0.95):
    """Net Promoter Score (Reichheld 2003) with its standard error and normal interval.

    With answers coded +1 (9-10), 0 (7-8), -1 (0-6): NPS = 100·(p_P − p_D);
    Var = p_P + p_D − (p_P − p_D)²; SE = 100·√(Var/n); interval NPS ± z·SE clipped to ±100.
    Returns (nps, se, low, high); NaN where n = 0 (SE and interval: where n < 2).

    Examples
    --------
    Two promoters and one detractor of three answers: NPS = 33.3.

    >>> nps, se, lo, hi = nps_estimate([2], [1], [3])
    >>> round(float(nps[0]), 1), round(float(se[0]), 1)
    (33.3, 54.4)
    """
    pp, pd_, n = (np.asarray(a, dtype=float) for a in (promoters, detractors, n))
    z = norm_ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p_p, p_d = pp / n, pd_ / n
        nps = 100 * (p_p - p_d)
        var = p_p + p_d - (p_p - p_d) ** 2
        se = 100 * np.sqrt(np.maximum(var, 0) / n)
    nps = np.where(n > 0, nps, np.nan)
    se = np.where(n >= 2, se, np.nan)  # one answer says nothing about the spread
    return nps, se, np.clip(nps - z * se, -100, 100), np.clip(nps + z * se, -100, 100)


def nps_difference(nps_a, se_a, nps_b, se_b, level: float = 0.95):
    """Difference of two NPS values from independent samples, NPS_b − NPS_a, with its z test.

    >>> d, se, z, p, lo, hi = nps_difference(20.0, 3.0, 26.0, 4.0)
    >>> float(d), float(se), round(float(p), 4)
    (6.0, 5.0, 0.2301)


    Each NPS is a mean of ±1/0 codes ×100, so Var(NPS_b − NPS_a) = SE_a² + SE_b²
    (Reichheld 2003 for the score; the variance as in :func:`nps_estimate`).
    Returns (diff, se, z, p, low, high); NaN where either SE is missing or both are 0.
    """
    a, sa, b, sb = (np.asarray(x, dtype=float) for x in (nps_a, se_a, nps_b, se_b))
    zc = norm_ppf(0.5 + level / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = b - a
        se = np.sqrt(sa**2 + sb**2)
        z = np.where(se > 0, diff / se, np.nan)
        p = 2 * norm_sf(np.abs(z))
    return diff, se, z, p, diff - zc * se, diff + zc * se
