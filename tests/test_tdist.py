"""Normal and Student-t functions computed without scipy (manyi.core.tdist), against scipy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special

from manyi.core.tdist import betainc, norm_ppf, norm_sf, t_ppf, t_sf

DFS = np.array([0.5, 0.9, 1, 1.3, 2, 2.5, 3, 4.7, 10, 29, 30, 99.5, 500, 1999, 2000, 2001, 1e4, 1e5, 1e6, 1e8])


@pytest.mark.parametrize("q", [0.9, 0.95, 0.975, 0.995, 0.9995])
def test_t_quantiles_equal_scipy(q: float) -> None:
    got = t_ppf(q, DFS)
    ref = special.stdtrit(DFS, q)
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    assert np.isnan(t_ppf(q, np.array([np.nan, 0.0, -1.0]))).all()
    np.testing.assert_allclose(t_ppf(q, DFS), got)  # again, from the memo


@pytest.mark.parametrize("df", [0.7, 1.0, 3.3, 12.0, 39.9, 40.0, 50.0, 1e3, 1e5, 666843.5289301195, 1e8])
def test_t_tails_equal_scipy(df: float) -> None:
    """To 1e-12 relative, large ν included (Welch's ν of two groups of a million responses:
    the log-beta there comes from the series of log Γ(a + ½) − log Γ(a), not a difference of
    log-gammas near 10⁷, which lost 1e-9)."""
    t = np.array([-40.0, -5.0, -2.0, -0.3, 0.0, 0.3, 1.0458666924958, 1.96, 2.5, 8.0, 60.0])
    np.testing.assert_allclose(t_sf(t, df), special.stdtr(df, -t), rtol=1e-12, atol=1e-300)


def test_incomplete_beta_and_the_normal() -> None:
    rng = np.random.default_rng(3)
    a, b, x = rng.uniform(0.2, 60, 200), rng.uniform(0.2, 60, 200), rng.uniform(0, 1, 200)
    np.testing.assert_allclose(betainc(a, b, x), special.betainc(a, b, x), rtol=1e-11, atol=1e-300)
    for q in (0.5, 0.8, 0.975, 0.999999):
        assert norm_ppf(q) == pytest.approx(float(special.ndtri(q)), rel=1e-14, abs=1e-15)
    z = np.array([-8.0, -1.0, 0.0, 1.96, 6.0, np.nan])
    np.testing.assert_allclose(norm_sf(z), special.ndtr(-z), rtol=1e-14)
