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
