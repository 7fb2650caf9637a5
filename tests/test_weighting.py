"""Weights: raking and post-stratification, Kish's deff, weighted scorecards."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import manyi
from manyi import datasets
from manyi.cli import app
from manyi.core.weighting import kish, poststratify, rake
from manyi.i18n import ManyiError
from manyi.io.instruments import example_path, load_example
from manyi.io.responses import validate_frame


def test_poststratification_by_hand():
    frame = pd.DataFrame({"region": ["n", "n", "n", "s"]})
    w = poststratify(frame, ["region"], pd.DataFrame({"region": ["n", "s"], "share": [0.5, 0.5]}))
    # sample shares .75/.25 → raw weights (2/3, 2) → mean 1: (0.667, 0.667, 0.667, 2.0)
    assert w == pytest.approx([2 / 3, 2 / 3, 2 / 3, 2.0])
    assert kish(w)[1] == pytest.approx(16 / (3 * 4 / 9 + 4))  # (Σw)²/Σw²


def test_raking_matches_every_margin_and_equals_poststratification_for_one_variable():
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"region": rng.choice(["n", "s", "w"], 500, p=[0.6, 0.3, 0.1]),
                          "tier": rng.choice(["vip", "regular"], 500, p=[0.4, 0.6])})
    margins = {"region": {"n": 0.4, "s": 0.4, "w": 0.2}, "tier": {"vip": 0.2, "regular": 0.8}}
    w, sweeps = rake(frame, margins)
    for var, targets in margins.items():
        for cat, share in targets.items():
            assert w[frame[var] == cat].sum() / w.sum() == pytest.approx(share, abs=1e-9)
    assert w.mean() == pytest.approx(1.0) and sweeps > 1
    one, _ = rake(frame, {"region": margins["region"]})
    ps = poststratify(frame, ["region"], pd.DataFrame({"region": ["n", "s", "w"], "share": [0.4, 0.4, 0.2]}))
    assert one == pytest.approx(ps)
    with pytest.raises(ManyiError, match="no respondent has region = east"):
        rake(frame, {"region": {**margins["region"], "east": 0.1}})
    with pytest.raises(ManyiError, match="categories without a population share: w"):
        rake(frame, {"region": {"n": 0.5, "s": 0.5}})


def test_weighted_scorecard_equals_weighted_formulas():
    inst = load_example("after-sales")
    df = datasets.after_sales(n=1500, seed=9, clean=True)
    rng = np.random.default_rng(1)
    df["weight"] = rng.uniform(0.5, 2.0, len(df))
    rs = validate_frame(df, inst)
    res = manyi.score(rs, weights="weight")
    g = res.groups.iloc[0]
    r = res.respondents.assign(w=rs.data["weight"].to_numpy())
    ok = r["csi"].notna()
    x, w = r.loc[ok, "csi"].to_numpy(), r.loc[ok, "w"].to_numpy()
    mean = np.average(x, weights=w)
    n_eff = w.sum() ** 2 / (w**2).sum()
    assert g["csi"] == pytest.approx(mean)
    assert g["n_eff"] == pytest.approx(n_eff) and g["deff"] == pytest.approx(ok.sum() / n_eff)
    var = np.average((x - mean) ** 2, weights=w) * n_eff / (n_eff - 1)
    assert g["csi_sd"] == pytest.approx(np.sqrt(var))
    from scipy import stats

    half = stats.t.ppf(0.975, n_eff - 1) * np.sqrt(var / n_eff)
    assert g["csi_ci_high"] - g["csi"] == pytest.approx(half)
    sat = r.loc[ok, "satisfied"].astype(float).to_numpy()
    assert g["satisfied_rate"] == pytest.approx(np.average(sat, weights=w))
    d = r.loc[ok, "parts"].to_numpy()
    assert g["dim_parts"] == pytest.approx(np.average(d[~np.isnan(d)], weights=w[~np.isnan(d)]))
    nps = rs.data["nps"].to_numpy(float)
    m = ~np.isnan(nps)
    code = np.where(nps[m] >= 9, 1, np.where(nps[m] <= 6, -1, 0))
    assert g["nps"] == pytest.approx(100 * np.average(code, weights=rs.data["weight"].to_numpy()[m]))
    # equal weights give the unweighted numbers
    rs.data["weight"] = 3.0
    same = manyi.score(rs, weights="weight").groups.iloc[0]
    plain = manyi.score(rs).groups.iloc[0]
    for c in ("csi", "csi_ci_low", "satisfied_rate", "satisfied_rate_ci_low", "nps", "nps_se", "dim_skill"):
        assert same[c] == pytest.approx(plain[c])


def test_weight_cli_then_weighted_score(tmp_path):
    data = tmp_path / "r.csv"
    datasets.after_sales(n=600, seed=3).to_csv(data, index=False)
    margins = tmp_path / "m.csv"
    pd.DataFrame({"variable": ["tier", "tier"], "category": ["vip", "regular"], "share": [30, 70]}).to_csv(
        margins, index=False)
    out = tmp_path / "w.csv"
    runner = CliRunner()
    res = runner.invoke(app, ["weight", str(data), "-i", str(example_path("after-sales")), "--margins", str(margins),
                              "-o", str(out)])
    assert res.exit_code == 0, res.output
    w = pd.read_csv(out, encoding="utf-8-sig")
    ok = w["weight"].notna()
    assert w.loc[ok & (w["tier"] == "vip"), "weight"].sum() / w.loc[ok, "weight"].sum() == pytest.approx(0.3, abs=1e-6)
    res = runner.invoke(app, ["score", "-i", str(example_path("after-sales")), str(out), "--weights", "weight",
                              "--format", "json"])
    assert res.exit_code == 0, res.output
    import json

    g = json.loads(res.stdout)["groups"][0]
    assert g["deff"] > 1 and g["n_eff"] < g["n"]
    res = runner.invoke(app, ["score", "-i", str(example_path("after-sales")), str(out), "--weights", "w8"])
    assert res.exit_code == 2 and "there is no weight column w8" in res.stderr


@pytest.mark.parametrize("name", ["servqual", "compare", "spc", "reliability", "drivers", "ipa"])
def test_equal_weights_reproduce_every_unweighted_analysis(name):
    from manyi.services.analysis import Options, analyze

    inst = load_example("servqual" if name == "servqual" else "after-sales")
    df = datasets.servqual(n=300, seed=2) if name == "servqual" else datasets.after_sales(n=900, seed=2, clean=True)
    df["weight"] = 2.5
    rs = validate_frame(df, inst)
    by = ["tier"] if name == "compare" else None
    plain = analyze(name, rs, by, Options(period="quarter" if name == "spc" else None))
    weighted = analyze(name, rs, by, Options(period="quarter" if name == "spc" else None, weights="weight"))
    for table, frame in plain.tables.items():
        other = weighted.tables[table]
        for col in frame.columns:
            if col in ("n", "n_eff", "bartlett_chi2", "bartlett_p") or frame[col].dtype.kind not in "f":
                continue
            np.testing.assert_allclose(other[col].to_numpy(float), frame[col].to_numpy(float), rtol=1e-7,
                                       atol=1e-9, err_msg=f"{name}.{table}.{col}")


def test_weighted_analyses_use_the_weights():
    import statsmodels.api as sm

    from manyi.services.analysis import Options, analyze

    inst = load_example("servqual")
    df = datasets.servqual(n=300, seed=2)
    w = np.random.default_rng(4).uniform(0.2, 3, len(df))
    df["weight"] = w
    rs = validate_frame(df, inst)
    res = analyze("servqual", rs, opts=Options(weights="weight"))
    gap = (df["sq05"] - df["sq05__expected"]).to_numpy(float)
    assert res.tables["items"].set_index("item").loc["sq05", "gap"] == pytest.approx(np.average(gap, weights=w))
    inst2 = load_example("after-sales")
    df2 = datasets.after_sales(n=900, seed=2, clean=True)
    w2 = np.random.default_rng(5).uniform(0.2, 3, len(df2))
    df2["weight"] = w2
    rs2 = validate_frame(df2, inst2)
    d = analyze("drivers", rs2, opts=Options(weights="weight", bootstrap=20)).tables["drivers"].set_index("driver")
    sc = manyi.score(rs2).respondents
    X = sc[inst2.dimension_ids].to_numpy()
    y = rs2.data["nps"].to_numpy(float)
    ok = ~np.isnan(X).any(axis=1) & ~np.isnan(y)
    Xo, yo, wo = X[ok], y[ok], w2[ok]

    def z(v):
        m = np.average(v, axis=0, weights=wo)
        return (v - m) / np.sqrt(np.average((v - m) ** 2, axis=0, weights=wo))

    wls = sm.WLS(z(yo), sm.add_constant(z(Xo)), weights=wo).fit()
    assert d.loc[inst2.dimension_ids, "beta"].to_numpy() == pytest.approx(wls.params[1:], abs=1e-9)


def test_weight_cli_accepts_choice_labels_and_leaves_out_missing_segments(tmp_path):
    data = tmp_path / "r.csv"
    datasets.after_sales(n=800, seed=7).to_csv(data, index=False)  # one response has branch 西安 (rejected)
    margins = tmp_path / "m.csv"
    margins.write_text("variable,category,share\nbranch,北京,20\nbranch,上海,30\nbranch,广州,20\nbranch,成都,15\n"
                       "branch,武汉,15\n", encoding="utf-8")
    out = tmp_path / "w.csv"
    res = CliRunner().invoke(app, ["weight", str(data), "-i", str(example_path("after-sales")), "--margins",
                                   str(margins), "-o", str(out), "--chart", str(tmp_path / "m.html")])
    assert res.exit_code == 0, res.output
    assert "1 response(s) lack a value of a margin variable" in res.stderr
    w = pd.read_csv(out, encoding="utf-8-sig")
    ok = w["weight"].notna()
    assert w.loc[ok & (w["branch"] == "上海"), "weight"].sum() / w.loc[ok, "weight"].sum() == pytest.approx(0.3)
    assert (tmp_path / "m.html").exists()


def _skewed(n=400, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "region": rng.choice(["n", "s", "w"], n, p=[0.7, 0.2, 0.1]),
        "age": rng.choice(["y", "o"], n, p=[0.8, 0.2]),
    })


def test_trimming_caps_the_weights_and_re_rakes_to_the_margins():
    from manyi.core.weighting import kish, rake, trim_and_rake, weighting_report

    df = _skewed()
    marg = {"region": {"n": 0.4, "s": 0.35, "w": 0.25}, "age": {"y": 0.6, "o": 0.4}}
    w0, _ = rake(df, marg)
    assert w0.max() > 4  # raking alone gives large weights here
    w, tr = trim_and_rake(df, marg, w0, cap=4.0)
    assert w.mean() == pytest.approx(1.0) and w.max() <= 4.0 + 1e-6
    assert tr.trimmed > 0 and tr.margin_error < 1e-5
    for var, targets in marg.items():  # the margins still hold
        for cat, share in targets.items():
            assert w[df[var] == cat].sum() / w.sum() == pytest.approx(share, abs=1e-5)
    assert kish(w)[0] < kish(w0)[0] == pytest.approx(tr.deff_before)
    rep = weighting_report(df, w, marg, "rake", 5, tr).tables["summary"].iloc[0]
    assert rep["deff_before_trim"] == pytest.approx(kish(w0)[0]) and rep["deff"] == pytest.approx(kish(w)[0])
    # bounds that cannot hold with the margins: weights within bounds, the miss is reported
    w2, tr2 = trim_and_rake(df, marg, w0, cap=1.5)
    assert w2.max() <= 1.5 + 1e-9 and tr2.margin_error > 0.01
    rep2 = weighting_report(df, w2, marg, "rake", 5, tr2)
    assert any("too tight" in m.render("en") for m in rep2.warnings)
    with pytest.raises(ManyiError, match="must be above 1"):
        trim_and_rake(df, marg, w0, cap=0.5)


def test_weight_cli_trims_and_reports_deff_before_and_after(tmp_path):
    from manyi import datasets

    df = datasets.after_sales(n=600, seed=5, clean=True)
    data = tmp_path / "r.csv"
    df.to_csv(data, index=False)
    margins = tmp_path / "m.csv"
    pd.DataFrame({"variable": ["tier", "tier"], "category": ["vip", "regular"], "share": ["70%", "30%"]}).to_csv(
        margins, index=False)
    out = tmp_path / "w.csv"
    res = CliRunner().invoke(app, ["weight", str(data), "-i", str(example_path("after-sales")), "--margins",
                                   str(margins), "-o", str(out), "--cap", "3"])
    assert res.exit_code == 0, res.output
    w = pd.read_csv(out, encoding="utf-8-sig")["weight"].dropna().to_numpy()
    assert w.max() == pytest.approx(3)  # vip (about 20 % of the sample, 70 % of the population) capped
    from manyi.core.weighting import kish
    vip = (df.loc[pd.read_csv(out, encoding="utf-8-sig")["weight"].notna(), "tier"] == "vip").to_numpy()
    untrimmed = np.where(vip, 0.7 / vip.mean(), 0.3 / (1 - vip.mean()))
    assert f"Design effect before trimming │ {kish(untrimmed)[0]:.4f}" in res.stdout
    assert f"Design effect                 │ {kish(w)[0]:.4f}" in res.stdout
    assert "bounds are too tight for the margins" in res.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("variable,category,share\ntier,vip,abc\ntier,regular,30%\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["weight", str(data), "-i", str(example_path("after-sales")), "--margins",
                                   str(bad), "-o", str(out)])
    assert res.exit_code == 2 and 'bad.csv row 2: "abc" is not a share' in res.stderr
    uneven = tmp_path / "u.csv"
    uneven.write_text("variable,category,share\ntier,vip,0.5\ntier,regular,0.45\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["weight", str(data), "-i", str(example_path("after-sales")), "--margins",
                                   str(uneven), "-o", str(out)])
    assert res.exit_code == 0 and "sum to 0.95, not 1" in res.stderr
