"""The shape of the code: kernels against plain numpy, results that round-trip, catalogues
with the same keys, the paths no other test runs, and a new analysis plugged in without
touching the command line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.core.result import Result
from manyi.core.scoring import _Plan
from manyi.io.instruments import example_path, load_example, parse_instrument

runner = CliRunner()

KINST = parse_instrument("""\
manyi: 1
id: k
version: "1"
title: {zh: 核, en: Kernel}
scoring: {points: range, satisfied_at: 60, min_answered: 0.4}
dimensions:
  - id: a
    label: {zh: 甲, en: A}
    weight: 0.7
    items:
      - {id: a1, text: {zh: a1, en: a1}, scale: likert5, weight: 2}
      - {id: a2, text: {zh: a2, en: a2}, scale: likert7, weight: 1}
  - id: b
    label: {zh: 乙, en: B}
    weight: 0.3
    items:
      - {id: b1, text: {zh: b1, en: b1}, scale: ten}
""")


def plain_numpy(X, codes, G, w):
    """The kernel's per-group sums, written out with numpy, row by row of the definitions."""
    lo = np.array([1, 1, 1.0])
    hi = np.array([5, 7, 10.0])
    pts = (X - lo) / (hi - lo) * 100
    iw = np.array([2 / 3, 1 / 3, 1.0])
    member = np.array([[1, 0], [1, 0], [0, 1.0]])
    dw = np.array([0.7, 0.3])
    ok = ~np.isnan(pts)
    cover = ok.astype(float) @ (member * iw[:, None])
    dims = np.where(ok, pts, 0) @ (member * iw[:, None]) / np.where(cover > 0, cover, np.nan)
    dims[cover < 0.4 - 1e-9] = np.nan
    dok = ~np.isnan(dims)
    ccov = dok.astype(float) @ dw
    csi = np.where(dok, dims, 0) @ dw / np.where(ccov > 0, ccov, np.nan)
    csi[ccov < 0.4 - 1e-9] = np.nan
    out = {"csi_n": np.zeros(G), "csi_w": np.zeros(G), "csi_sum": np.zeros(G), "sat_w": np.zeros(G),
           "dim_w": np.zeros((G, 2)), "dim_sum": np.zeros((G, 2)), "item_w": np.zeros((G, 3)),
           "item_top": np.zeros((G, 3))}
    top = np.array([4, 6, 8.0])
    for r in range(len(X)):
        g = codes[r]
        if not np.isnan(csi[r]) and w[r] > 0:
            out["csi_n"][g] += 1
            out["csi_w"][g] += w[r]
            out["csi_sum"][g] += w[r] * csi[r]
            out["sat_w"][g] += w[r] * (csi[r] >= 60 - 1e-9)
        for j in range(2):
            if dok[r, j]:
                out["dim_w"][g, j] += w[r]
                out["dim_sum"][g, j] += w[r] * dims[r, j]
        for k in range(3):
            if ok[r, k]:
                out["item_w"][g, k] += w[r]
                out["item_top"][g, k] += w[r] * (X[r, k] >= top[k])
    return dims, csi, out


cells = st.one_of(st.just(np.nan), st.integers(1, 5).map(float))


@settings(max_examples=60, deadline=None)
@given(X=hnp.arrays(float, st.tuples(st.integers(1, 40), st.just(3)), elements=cells),
       G=st.integers(1, 4), seed=st.integers(0, 1000), weighted=st.booleans())
def test_compiled_kernel_equals_plain_numpy(X, G, seed, weighted):
    X = X.copy()
    X[:, 1] = np.where(np.isnan(X[:, 1]), np.nan, X[:, 1] + 2)  # a 1-7 item
    X[:, 2] = np.where(np.isnan(X[:, 2]), np.nan, X[:, 2] * 2)  # a 1-10 item
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, G, len(X))
    w = rng.uniform(0, 3, len(X)) * (rng.random(len(X)) > 0.1) if weighted else np.ones(len(X))
    out = _Plan(KINST).run([X[:, j] for j in range(3)], codes, G, w if weighted else None)
    dims, csi, ref = plain_numpy(X, codes, G, w)
    np.testing.assert_allclose(out.dims, dims, atol=1e-8, equal_nan=True)
    np.testing.assert_allclose(out.csi, csi, atol=1e-8, equal_nan=True)
    np.testing.assert_allclose(out.csi_n, ref["csi_n"])
    np.testing.assert_allclose(out.csi_w, ref["csi_w"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.csi_sum, ref["csi_sum"], rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(out.sat_w, ref["sat_w"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.dim[:, :, 0], ref["dim_w"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.dim[:, :, 1], ref["dim_sum"], rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(out.item[:, :, 0], ref["item_w"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out.item[:, :, 1], ref["item_top"], rtol=1e-12, atol=1e-12)


def test_bca_equals_a_direct_computation():
    """Efron & Tibshirani (1993) §14.3, written out: z0 from the share below the estimate,
    acceleration from the jackknife, adjusted percentiles."""
    from scipy import stats

    from manyi.core.pls.inference import bca

    rng = np.random.default_rng(3)
    x = rng.exponential(2.0, 60)
    est = x.mean()
    draws = np.array([rng.choice(x, 60).mean() for _ in range(4000)])
    jack = np.array([np.delete(x, i).mean() for i in range(60)])
    z0 = stats.norm.ppf((draws < est).mean())
    d = jack.mean() - jack
    a = (d**3).sum() / (6 * ((d**2).sum()) ** 1.5)
    q = [stats.norm.cdf(z0 + (z0 + z) / (1 - a * (z0 + z))) for z in stats.norm.ppf([0.025, 0.975])]
    expect = np.quantile(draws, q)
    assert bca(est, draws, jack, 0.95) == pytest.approx(tuple(expect), rel=1e-12)
    assert a > 0 and expect[1] - est > est - expect[0]  # right-skewed: the interval leans right


def test_weighted_comparisons_equal_a_direct_weighted_computation():
    from scipy import stats

    from manyi.core.compare import compare

    rng = np.random.default_rng(8)
    a, b = rng.normal(70, 10, 120), rng.normal(74, 12, 90)
    wa, wb = rng.uniform(0.3, 3, 120), rng.uniform(0.3, 3, 90)
    res = compare(["a", "b"], {"csi": [a, b]}, [(a >= 70).astype(float), (b >= 70).astype(float)],
                  weights=[wa, wb])
    m = res.tables["means"].iloc[0]

    def direct(x, w):
        ne = w.sum() ** 2 / (w**2).sum()
        mean = (w * x).sum() / w.sum()
        var = (w * (x - mean) ** 2).sum() / w.sum() * ne / (ne - 1)
        return mean, var / ne, ne

    (ma, va, na), (mb, vb, nb) = direct(a, wa), direct(b, wb)
    t = (mb - ma) / np.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))
    assert (m["mean_a"], m["mean_b"]) == pytest.approx((ma, mb))
    assert m["welch_t"] == pytest.approx(t) and m["welch_df"] == pytest.approx(df)
    assert m["welch_p"] == pytest.approx(2 * stats.t.sf(abs(t), df))
    r = res.tables["rates"].iloc[0]
    ra, rb = np.average(a >= 70, weights=wa), np.average(b >= 70, weights=wb)
    p = (ra * na + rb * nb) / (na + nb)
    z = (rb - ra) / np.sqrt(p * (1 - p) * (1 / na + 1 / nb))
    assert r["z"] == pytest.approx(z)


@pytest.mark.slow
def test_jackknife_above_2000_uses_groups_and_bca_stays_sane():
    """Above n = 2,000 the BCa acceleration comes from 1,000 delete-a-group jackknife blocks;
    the groups' values equal fits with those rows removed."""
    from manyi.core.pls import PLSModel
    from manyi.core.pls.inference import jackknife
    from manyi.datasets import MOBI_ECSI_PATHS

    df = datasets.ecsi(n=2600, seed=4)
    spec = load_example("ecsi")
    model = PLSModel.from_spec({"template": "ecsi"}, spec)
    res = model.fit(df, bootstrap=200, seed=1)
    p = res.paths
    assert (p["bca_low"] < p["estimate"]).all() and (p["estimate"] < p["bca_high"]).all()
    X = df[model.items].to_numpy(float)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    jk = jackknife(Z, np.zeros_like(Z, bool), model.layout(), "path", 300, 1e-7)
    assert jk["paths"].shape[0] == 1000
    keep = np.arange(len(df)) % 1000 != 7  # group 7 left out
    direct = model.fit(df[keep].reset_index(drop=True), bootstrap=0)
    names = model.constructs
    for _, r in direct.paths.iterrows():
        i, j = names.index(r["from"]), names.index(r["to"])
        assert jk["paths"][7, i, j] == pytest.approx(r["estimate"], abs=1e-6)
    assert len(MOBI_ECSI_PATHS) == 12


def test_pls_summary_and_as_result_round_trip():
    from manyi.core.pls import PLSModel

    model = PLSModel.from_spec({"template": "ecsi"}, load_example("ecsi"))
    res = model.fit(datasets.ecsi(n=400, seed=2), bootstrap=50, seed=1)
    text = res.summary()
    assert "scheme=path n=400" in text and "bootstrap=50" in text
    assert f"{res.paths['estimate'].iloc[0]:.4f}" in text
    r = res.as_result()
    back = Result.from_dict(json.loads(json.dumps(r.to_dict())))
    assert back.kind == "pls" and back.n == 400 and back.params["target"] == "Loyalty"
    pd.testing.assert_frame_equal(back.tables["paths"], r.tables["paths"].reset_index(drop=True),
                                  check_dtype=False)


def test_results_round_trip_through_json(tmp_path):
    import manyi
    from manyi.io.responses import validate_frame
    from manyi.services.analysis import analyze

    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=400, seed=5), inst)
    for res in (analyze("ipa", rs), analyze("spc", rs, opts=manyi.AnalysisOptions(period="month")),
                manyi.score(rs, by="tier").as_result()):
        doc = res.to_dict()
        back = Result.from_dict(json.loads(json.dumps(doc)))
        assert back.kind == res.kind and back.n == res.n and set(back.tables) == set(res.tables)
        assert [w.key for w in back.warnings] == [w.key for w in res.warnings]
        assert back.to_dict() == doc


def test_catalogues_have_the_same_keys_and_fields():
    import string

    from manyi.i18n import catalogue

    en, zh = catalogue("en"), catalogue("zh")
    assert set(en) == set(zh)
    fmt = string.Formatter()
    for key in en:
        fields = [{f.split(":")[0] for _, f, _, _ in fmt.parse(c[key]) if f} for c in (en, zh)]
        assert fields[0] == fields[1], key
    # every code a core result can hold has a name in both languages
    from manyi.core.ipa import QUADRANTS
    from manyi.core.kano import CATEGORIES
    from manyi.core.spc import RULES

    for k in [f"quadrant.{q}" for q in QUADRANTS] + [f"kano.{c}" for c in CATEGORIES] + [f"spc.rule.{r}" for r in RULES]:
        assert k in en and k in zh


def test_poststratify_from_the_command_line(tmp_path):
    df = datasets.after_sales(n=500, seed=9, clean=True)
    data = tmp_path / "r.csv"
    df.to_csv(data, index=False)
    m = tmp_path / "m.csv"
    m.write_text("variable,category,share\ntier,vip,0.5\ntier,regular,0.5\n", encoding="utf-8")
    out = tmp_path / "w.csv"
    res = runner.invoke(app, ["weight", str(data), "-i", str(example_path("after-sales")), "--margins", str(m),
                              "-o", str(out), "--method", "poststratify"])
    assert res.exit_code == 0, res.output
    w = pd.read_csv(out, encoding="utf-8-sig")
    ok = w["weight"].notna()
    vip = w.loc[ok, "tier"] == "vip"
    assert w.loc[ok & (w["tier"] == "vip"), "weight"].sum() / w.loc[ok, "weight"].sum() == pytest.approx(0.5)
    assert w.loc[ok & (w["tier"] == "vip"), "weight"].nunique() == 1  # one weight per cell
    assert w.loc[ok, "weight"].mean() == pytest.approx(1.0)
    assert vip.mean() < 0.5


def test_a_new_analysis_needs_a_runner_a_chart_and_catalogue_entries_only(tmp_path, monkeypatch):
    """Plug in an analysis (item means) and its chart, add its table's heading to both
    catalogues: `manyi analyze means` then works, with table, JSON and chart, and no change
    to the command line."""
    from manyi.core.result import Result
    from manyi.i18n import catalogue
    from manyi.present import charts
    from manyi.services import analysis

    def item_means(inst, data, opts):  # the core computation: one table
        t = pd.DataFrame({"item": inst.item_ids,
                          "mean": [float(data[i].mean()) for i in inst.item_ids]})
        return Result("means", len(data), {"item_means": t})

    def draw(result, tr, part=None):
        import plotly.graph_objects as go

        t = result.tables["item_means"]
        return go.Figure(go.Bar(x=t["item"], y=t["mean"])).update_layout(title=tr("column.item_means"))

    monkeypatch.setitem(analysis.RUNNERS, "means", item_means)
    monkeypatch.setitem(charts.CHARTS, "means", draw)
    monkeypatch.setitem(catalogue("en"), "column.item_means", "Item means")
    monkeypatch.setitem(catalogue("zh"), "column.item_means", "题目均值")
    data = tmp_path / "r.csv"
    datasets.after_sales(n=120, seed=2).to_csv(data, index=False)
    res = runner.invoke(app, ["analyze", "means", "-i", str(example_path("after-sales")), str(data),
                              "--lang", "zh", "--chart", str(tmp_path / "m.html")])
    assert res.exit_code == 0, res.output
    assert "题目均值" in res.stdout and (tmp_path / "m.html").exists()
    res = runner.invoke(app, ["analyze", "means", "-i", str(example_path("after-sales")), str(data), "-f", "json"])
    doc = json.loads(res.stdout)
    assert doc["analysis"] == "means" and len(doc["tables"]["item_means"]) == 15
