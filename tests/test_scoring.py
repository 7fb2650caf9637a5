"""Scores: hand-computed cases, published definitions, independent implementations, properties."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

import manyi
from manyi.core.scoring import score_responses, weighted_means
from manyi.core.stats import nps_estimate, t_interval, wilson_interval
from manyi.io.instruments import parse_instrument
from manyi.io.responses import validate_frame


def b2b_row(inst, rid, answers: dict[str, int], default: int) -> dict:
    row = {"response_id": rid, "customer_type": "forwarder"}
    row.update({i: answers.get(i, default) for i in inst.item_ids})
    return row


def test_shipping_line_report(b2b):
    """A shipping line's report: 4 valid questionnaires, one customer at 65, overall 77, rate 75 % < 85 %."""
    dims = {d.id: [i.id for i in d.items] for d in b2b.dimensions}
    rows = [
        # A: booking items at 3 (-20 × 0.20), cargo at 5 (+20 × 0.20): 80
        b2b_row(b2b, "A", {**{i: 3 for i in dims["booking"]}, **{i: 5 for i in dims["cargo"]}}, 4),
        b2b_row(b2b, "B", {}, 4),  # all 4 of 5: 80
        b2b_row(b2b, "C", {i: 5 for i in dims["billing"]}, 4),  # 80 + 20 × 0.15 = 83
        b2b_row(b2b, "D", {i: 4 for i in dims["schedule"]}, 3),  # 60 + 20 × 0.25 = 65
    ]
    res = manyi.score(pd.DataFrame(rows), b2b)
    assert list(res.respondents["csi"]) == pytest.approx([80, 80, 83, 65])
    assert list(res.respondents["satisfied"]) == [True, True, True, False]
    g = res.to_dict()["groups"][0]
    assert g["keys"] == {} and g["n"] == 4
    assert g["csi"] == pytest.approx(77)
    assert g["satisfied_rate"] == pytest.approx(0.75)
    assert g["target_rate"] == 0.85 and g["meets_target"] is False
    assert g["small_sample"] is True
    # t interval on 80, 80, 83, 65 (sd 8.0416) and Wilson on 3/4, by hand
    sd = np.std([80, 80, 83, 65], ddof=1)
    half = stats.t.ppf(0.975, 3) * sd / 2
    assert g["csi_ci"] == pytest.approx([77 - half, 77 + half])
    assert g["margin_of_error"] == pytest.approx(half)
    assert g["satisfied_rate_ci"] == pytest.approx([0.30064, 0.95441], abs=1e-5)


MINI = parse_instrument("""\
manyi: 1
id: mini
version: "1"
title: {zh: 小, en: Mini}
scoring: {points: range, satisfied_at: 70, target_rate: 0.5, min_answered: 0.5}
dimensions:
  - id: d1
    label: {zh: 一, en: One}
    weight: 0.6
    items:
      - {id: x1, text: {zh: a, en: a}, scale: likert5, weight: 3, expectation: true}
      - {id: x2, text: {zh: b, en: b}, scale: likert5, weight: 1, expectation: true}
  - id: d2
    label: {zh: 二, en: Two}
    weight: 0.4
    items:
      - {id: y1, text: {zh: c, en: c}, scale: ten}
questions:
  - {id: nps, type: nps, text: {zh: n, en: n}}
  - {id: csat, type: rating, scale: likert5, text: {zh: c, en: c}}
  - {id: ces, type: rating, scale: likert7, text: {zh: e, en: e}}
""")


def test_weights_renormalise_over_answered_items_and_min_answered():
    X = np.array([
        [5, 1, 10],          # d1 = (3·100 + 1·0)/4 = 75; d2 = 100; csi = .6·75 + .4·100 = 85
        [np.nan, 3, 1],      # x2 alone carries 1/4 < 0.5 → d1 missing; d2 = 0 carries 0.4 → csi missing
        [4, np.nan, np.nan],  # d1 = 75 (x1 carries 3/4); d2 missing; csi = d1 alone (0.6 ≥ 0.5) = 75
        [np.nan, 5, 4],      # d1 missing, d2 = 33.33 → csi missing
        [2, 5, 4],           # d1 = (3·25 + 100)/4 = 43.75; csi = .6·43.75 + .4·33.33
    ])
    rs = score_responses(MINI, X)
    assert rs.dimensions[0] == pytest.approx([75, 100])
    assert np.isnan(rs.dimensions[1, 0]) and rs.dimensions[1, 1] == pytest.approx(0)
    assert rs.dimensions[2, 0] == pytest.approx(75) and np.isnan(rs.dimensions[2, 1])
    assert rs.csi[[0, 2, 4]] == pytest.approx([85, 75, 0.6 * 43.75 + 0.4 * 100 / 3])
    assert np.isnan(rs.csi[[1, 3]]).all() and np.isnan(rs.satisfied[[1, 3]]).all()
    assert list(rs.satisfied[[0, 2, 4]]) == [1, 1, 0]


def test_ratio_points():
    inst = parse_instrument(MINI.spec.model_dump_json().replace('"range"', '"ratio"'))
    rs = score_responses(inst, np.array([[4.0, 4.0, 8.0]]))
    assert rs.dimensions[0] == pytest.approx([80, 80])  # 4 of 5 → 80; 8 of 10 → 80
    rs = score_responses(MINI, np.array([[4.0, 4.0, 8.0]]))
    assert rs.dimensions[0] == pytest.approx([75, 700 / 9])  # (4-1)/4, (8-1)/9


def frame(rows):
    cols = ["response_id", "submitted_at", "branch", "x1", "x1__expected", "x2", "x2__expected", "y1", "nps",
            "csat", "ces"]
    return pd.DataFrame(rows, columns=cols)


def test_groups_periods_nps_csat_ces_and_gaps():
    rows = [
        ["1", "2026-01-05", "a", 5, 4, 5, 5, 10, 10, 5, 7],
        ["2", "2026-01-20", "a", 4, 5, 2, 4, 7, 9, 4, 6],
        ["3", "2026-02-11", "a", 2, 5, 2, 5, 3, 6, 2, 2],
        ["4", "2026-04-01", "b", 3, 3, 3, 3, 5, 8, 3, 4],
        ["5", "2026-04-02", "b", 5, 4, 4, 4, 9, 0, 5, 5],
    ]
    df = frame(rows)
    res = manyi.score(df, MINI, by=["branch"], period="quarter")
    g = res.groups
    assert list(zip(g["branch"], g["period"], strict=True)) == [("a", "2026Q1"), ("b", "2026Q2")]
    a = res.to_dict()["groups"][0]
    # per respondent by hand (range points): x: (v-1)/4·100, y: (v-1)/9·100
    def csi(x1, x2, y1):
        d1 = (3 * (x1 - 1) / 4 + (x2 - 1) / 4) / 4 * 100
        return 0.6 * d1 + 0.4 * (y1 - 1) / 9 * 100
    ca = [csi(5, 5, 10), csi(4, 2, 7), csi(2, 2, 3)]
    assert list(res.respondents["csi"][:3]) == pytest.approx(ca)
    assert a["csi"] == pytest.approx(np.mean(ca))
    assert a["n"] == 3 and a["satisfied_n"] == sum(c >= 70 for c in ca)
    # NPS: 10, 9 promoters, 6 detractor → (2-1)/3
    assert a["nps"] == pytest.approx(100 / 3)
    var = 2 / 3 + 1 / 3 - (1 / 3) ** 2
    assert a["nps_se"] == pytest.approx(100 * np.sqrt(var / 3))
    assert a["csat"] == pytest.approx(200 / 3)  # 5, 4 top-2 of 5, 2 not
    assert a["ces"] == pytest.approx(5)
    # top-2-box of x1 (5, 4, 2) = 2/3
    assert a["top2box"]["x1"] == pytest.approx(2 / 3)
    # gaps: x1 P = 100, 75, 25; E = 75, 100, 100 → P−E mean = (25 − 25 − 75)/3; ratio of means (raw/5)
    items = a["gaps"]["items"]
    assert items["x1"]["gap"] == pytest.approx(-25)
    assert items["x1"]["ratio"] == pytest.approx((5 + 4 + 2) / (4 + 5 + 5))
    assert items["x1"]["perception"] == pytest.approx(200 / 3)
    # dimension d1 per respondent from both pairs with weights 3:1
    dP = np.array([(3 * 100 + 100) / 4, (3 * 75 + 25) / 4, (3 * 25 + 25) / 4])
    dE = np.array([(3 * 75 + 100) / 4, (3 * 100 + 75) / 4, (3 * 100 + 100) / 4])
    assert a["gaps"]["dimensions"]["d1"]["gap"] == pytest.approx(np.mean(dP - dE))
    # total over both groups
    tot = res.to_dict()["total"]
    assert tot["n"] == 5 and tot["keys"] == {"branch": None, "period": None}
    assert tot["csi"] == pytest.approx(res.respondents["csi"].mean())


def test_period_month_and_year_and_errors():
    df = frame([["1", "2026-01-31 23:30", "a", 5, 5, 5, 5, 10, 10, 5, 7],
                ["2", "2025-12-31 16:30+00:00", "a", 4, 4, 4, 4, 7, 9, 4, 6]])
    res = manyi.score(df, MINI, period="month")
    # 2025-12-31 16:30 UTC is 2026-01-01 00:30 in Shanghai
    assert list(res.groups["period"]) == ["2026-01"]
    assert list(manyi.score(df, MINI, period="year").groups["period"]) == ["2026"]
    with pytest.raises(manyi.ManyiError, match="cannot group by region"):
        manyi.score(df, MINI, by="region")
    with pytest.raises(manyi.ManyiError, match="period must be month, quarter or year"):
        manyi.score(df, MINI, period="week")
    with pytest.raises(manyi.ManyiError, match="needs a submitted_at column"):
        manyi.score(df.drop(columns="submitted_at"), MINI, period="month")


def test_interval_functions_against_scipy():
    for k, n in [(0, 10), (3, 4), (50, 100), (97, 100), (1, 1)]:
        lo, hi = wilson_interval(k, n)
        ref = stats.binomtest(k, n).proportion_ci(0.95, method="wilson")
        assert (float(lo), float(hi)) == pytest.approx((ref.low, ref.high), abs=1e-12)
    rng = np.random.default_rng(1)
    x = rng.normal(70, 10, 25)
    lo, hi, _ = t_interval(x.mean(), x.std(ddof=1), 25)
    ref = stats.t.interval(0.95, 24, loc=x.mean(), scale=stats.sem(x))
    assert (float(lo), float(hi)) == pytest.approx(ref)
    # NPS standard error equals the standard error of the mean of +1/0/−1 codes (ddof = 0)
    codes = rng.choice([-1, 0, 1], 200, p=[0.2, 0.3, 0.5])
    nps, se, _, _ = nps_estimate((codes == 1).sum(), (codes == -1).sum(), 200)
    assert float(nps) == pytest.approx(100 * codes.mean())
    assert float(se) == pytest.approx(100 * codes.std(ddof=0) / np.sqrt(200))


def test_small_sample_flag_and_json_shape(after_sales):
    from manyi import datasets
    df = datasets.after_sales(n=400, seed=3)
    res = manyi.score(df, after_sales, by=["branch"])
    d = res.to_dict()
    assert set(d) >= {"instrument", "groups", "rejected"}
    for g in d["groups"]:
        assert set(g) >= {"keys", "n", "csi", "csi_ci", "satisfied_rate", "satisfied_rate_ci", "target_rate",
                          "meets_target", "nps", "dimensions", "small_sample"}
        assert g["small_sample"] == (g["n"] < 30)
        assert set(g["dimensions"]) == set(after_sales.dimension_ids)
    assert sum(g["n"] for g in d["groups"]) == d["total"]["n"]
    assert all(set(r) >= {"row", "column", "reason"} for r in d["rejected"])


def test_generated_dataset_is_reproducible(after_sales):
    from manyi import datasets
    a = datasets.after_sales(n=200, seed=5)
    b = datasets.after_sales(n=200, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(datasets.after_sales(n=200, seed=6))


def test_reverse_twice_is_identity(after_sales):
    """Reversing on read then reversing the scale again gives the raw answers back."""
    raw = pd.DataFrame({"response_id": ["1", "2", "3", "4", "5"],
                        **{i: [3] * 5 for i in after_sales.item_ids}, "time_wait_long": [1, 2, 3, 4, 5]})
    rs = validate_frame(raw, after_sales)
    sc = after_sales.item("time_wait_long").scale
    back = sc.min + sc.max - rs.data["time_wait_long"].to_numpy()
    assert list(back) == [1, 2, 3, 4, 5]
    assert list(rs.data["time_wait_long"]) == [5, 4, 3, 2, 1]


answers = hnp.arrays(float, st.tuples(st.integers(1, 30), st.just(3)),
                     elements=st.one_of(st.just(np.nan), st.integers(1, 5).map(float)))


@settings(max_examples=200, deadline=None)
@given(answers, st.lists(st.floats(0.01, 100), min_size=3, max_size=3), st.floats(0.05, 1.0))
def test_scores_in_range_and_match_a_row_by_row_computation(X, w, min_answered):
    X = X.copy()
    X[:, 2] = np.where(np.isnan(X[:, 2]), np.nan, X[:, 2] * 2)  # third item on a 1-10 scale
    w = np.array(w)
    weights = np.array([w[0] / (w[0] + w[1]), w[1] / (w[0] + w[1]), 1.0])
    member = np.array([[1.0, 0], [1, 0], [0, 1]])
    pts = np.column_stack([(X[:, 0] - 1) / 4 * 100, (X[:, 1] - 1) / 4 * 100, (X[:, 2] - 1) / 9 * 100])
    dims = weighted_means(pts, weights, member, min_answered)
    finite = dims[~np.isnan(dims)]
    assert ((finite >= -1e-9) & (finite <= 100 + 1e-9)).all()
    for r in range(len(X)):  # independent row-by-row computation of dimension 1
        ok = ~np.isnan(pts[r, :2])
        cover = weights[:2][ok].sum()
        if cover < min_answered - 1e-9:
            assert np.isnan(dims[r, 0])
        else:
            assert dims[r, 0] == pytest.approx((pts[r, :2][ok] * weights[:2][ok]).sum() / cover)


@settings(max_examples=60, deadline=None)
@given(answers, st.floats(0.01, 1000), st.floats(0.01, 1000), st.floats(0.01, 1000))
def test_item_weights_are_relative(X, w1, w2, factor):
    """Multiplying all item weights of a dimension by one factor changes no score."""
    X = X.copy()
    X[:, 2] = np.where(np.isnan(X[:, 2]), np.nan, X[:, 2] * 2)

    def inst(a, b):
        text = MINI.spec.model_dump_json()
        text = text.replace('"weight":3.0', '"weight":@A').replace('"weight":1.0', f'"weight":{b!r}', 1)
        text = text.replace("@A", repr(a))
        return parse_instrument(text)

    base = score_responses(inst(w1, w2), X)
    scaled = score_responses(inst(w1 * factor, w2 * factor), X)
    np.testing.assert_allclose(scaled.dimensions, base.dimensions, rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(scaled.csi, base.csi, rtol=1e-9, equal_nan=True)
    ok = ~np.isnan(base.csi)
    assert ((base.csi[ok] >= -1e-9) & (base.csi[ok] <= 100 + 1e-9)).all()


TIES = parse_instrument("""\
manyi: 1
id: ties
version: "1"
title: {zh: 并列, en: Ties}
dimensions:
  - id: a
    label: {zh: 甲, en: A}
    weight: 0.3
    items:
      - {id: a1, text: {zh: a1, en: a1}, scale: likert5, weight: 0.1}
      - {id: a2, text: {zh: a2, en: a2}, scale: likert5, weight: 0.2}
      - {id: a3, text: {zh: a3, en: a3}, scale: likert5, weight: 0.7}
  - id: b
    label: {zh: 乙, en: B}
    weight: 0.7
    items:
      - {id: b1, text: {zh: b1, en: b1}, scale: likert7, weight: 0.35}
      - {id: b2, text: {zh: b2, en: b2}, scale: likert7, weight: 0.65}
""")


def _exact_index(row) -> float:
    """The index in exact rational arithmetic (weights as decimals), then one rounding."""
    from fractions import Fraction as F

    a = [F(1, 10), F(2, 10), F(7, 10)]
    b = [F(35, 100), F(65, 100)]
    da = sum(w * F(int(x) - 1, 4) * 100 for w, x in zip(a, row[:3], strict=True))
    db = sum(w * F(int(x) - 1, 6) * 100 for w, x in zip(b, row[3:], strict=True))
    return float(F(3, 10) * da + F(7, 10) * db)


def test_mathematically_equal_indices_are_equal_floats_and_rank_tests_see_true_ties():
    """Issue: 6.249999999999998 and 6.25 split ties in Mann–Whitney and Kruskal–Wallis."""
    from itertools import product

    from manyi.core.compare import compare

    patterns = np.array(list(product(range(1, 6), range(1, 6), range(1, 6), range(1, 8), range(1, 8))), float)
    exact = np.array([_exact_index(r) for r in patterns])
    got = score_responses(TIES, patterns).csi
    # a plain floating-point evaluation does split some true ties: the case is real
    naive = (0.3 * ((patterns[:, :3] - 1) / 4 * 100) @ np.array([0.1, 0.2, 0.7])
             + 0.7 * ((patterns[:, 3:] - 1) / 6 * 100) @ np.array([0.35, 0.65]))
    assert len(np.unique(naive)) > len(np.unique(exact))
    # manyi's per-response index has exactly the ties of exact arithmetic
    assert len(np.unique(got)) == len(np.unique(exact))
    np.testing.assert_allclose(got, exact, atol=1e-9)
    rng = np.random.default_rng(5)
    ga, gb, gc = (rng.integers(0, len(patterns), 400) for _ in range(3))
    res = compare(["a", "b", "c"], {"csi": [got[ga], got[gb], got[gc]]},
                  [np.ones(400)] * 3, pairs="all")
    m = res.tables["means"].set_index(["group_a", "group_b"])
    ref = stats.mannwhitneyu(exact[gb], exact[ga], alternative="two-sided")
    assert m.loc[("a", "b"), "mw_u"] == ref.statistic
    assert m.loc[("a", "b"), "mw_p"] == pytest.approx(ref.pvalue, rel=1e-12)
    h = stats.kruskal(exact[ga], exact[gb], exact[gc])
    assert res.tables["omnibus"]["kruskal_h"].iloc[0] == pytest.approx(h.statistic, rel=1e-12)


def test_every_figure_has_its_n_and_interval_against_scipy_and_statsmodels(after_sales):
    """Dimension indices (t), top-2-box (Wilson), CSAT (Wilson), CES (t), gaps (paired t) and
    P/E (delta method), each against an independent computation on the respondents."""
    from statsmodels.stats.proportion import proportion_confint

    from manyi import datasets

    df = validate_frame(datasets.after_sales(n=600, seed=21, clean=True), after_sales).data
    res = manyi.score(df, after_sales, by=["tier"])
    d = res.to_dict()
    g0, row = d["groups"][0], res.groups.iloc[0]
    members = (res.respondents["tier"] == row["tier"]).to_numpy()
    raw = df[members]  # validated: codes, reverse-coded items already reversed
    for dim in after_sales.dimension_ids:
        x = res.respondents.loc[members, dim].dropna().to_numpy()
        lo, hi = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
        assert g0["dimensions_n"][dim] == len(x)
        assert g0["dimensions_ci"][dim] == pytest.approx([lo, hi], abs=1e-9)
    for it in after_sales.items[:4]:
        x = raw[it.id].dropna()
        top = int((x >= 4).sum())
        assert g0["top2box_n"][it.id] == len(x)
        assert g0["top2box_ci"][it.id] == pytest.approx(proportion_confint(top, len(x), method="wilson"), abs=1e-12)
    cs = pd.to_numeric(raw["csat"]).dropna()
    lo, hi = proportion_confint(int((cs >= 4).sum()), len(cs), method="wilson")
    assert g0["csat_n"] == len(cs) and g0["csat_ci"] == pytest.approx([100 * lo, 100 * hi], abs=1e-9)
    ce = pd.to_numeric(raw["ces"]).dropna()
    assert g0["ces_n"] == len(ce)
    assert g0["ces_ci"] == pytest.approx(stats.t.interval(0.95, len(ce) - 1, loc=ce.mean(), scale=stats.sem(ce)))
    # gaps of one item, paired: P and E on 0-100 points, P/E of the raw answers over the max
    it = next(i for i in after_sales.items if i.expectation)
    P = pd.to_numeric(raw[it.id]).to_numpy(float)
    E = pd.to_numeric(raw[f"{it.id}__expected"]).to_numpy(float)
    ok = ~np.isnan(P) & ~np.isnan(E)
    P, E = P[ok], E[ok]
    assert after_sales.scoring.points == "ratio"  # 4 of 5 → 80
    tt = stats.ttest_rel(P / 5 * 100, E / 5 * 100)
    gi = g0["gaps"]["items"][it.id]
    assert gi["n"] == len(P)
    assert gi["gap_ci"] == pytest.approx(list(tt.confidence_interval(0.95)), abs=1e-9)
    p, e = P / 5, E / 5
    r = p.mean() / e.mean()
    var = (p.var(ddof=1) - 2 * r * np.cov(p, e)[0, 1] + r * r * e.var(ddof=1)) / len(p) / e.mean() ** 2
    half = stats.t.ppf(0.975, len(p) - 1) * np.sqrt(var)
    assert gi["ratio_ci"] == pytest.approx([r - half, r + half], abs=1e-9)
    cols = set(res.groups.columns)
    assert {f"dim_{after_sales.dimension_ids[0]}_ci_low", "csat_ci_high", "ces_ci_low", "ces_n"} <= cols
    assert {"gap_ci_low", "gap_ci_high", "ratio_ci_low", "ratio_ci_high"} <= set(res.gaps.columns)


def test_weighted_deff_counts_only_weighted_responses_and_names_the_weighted_count(after_sales):
    from manyi import datasets

    df = datasets.after_sales(n=400, seed=4, clean=True)
    rng = np.random.default_rng(2)
    w = rng.uniform(0.5, 2.0, len(df))
    w[:40] = 0.0  # forty responses without weight
    df["w"] = w
    res = manyi.score(df, after_sales, weights="w")
    t = res.to_dict()["total"]
    rated = res.respondents["csi"].notna().to_numpy()
    keep = rated & (w > 0)
    ne = w[keep].sum() ** 2 / (w[keep] ** 2).sum()
    assert t["n"] == keep.sum() and t["n_eff"] == pytest.approx(ne)
    assert t["deff"] == pytest.approx(keep.sum() / ne)  # Kish: n of the weighted responses
    sat = res.respondents["satisfied"].to_numpy(dtype=float, na_value=np.nan)
    assert t["satisfied_n"] == int(np.nansum(sat[keep]))
    assert t["satisfied_weighted"] == pytest.approx(float((w[keep] * sat[keep]).sum()))
    assert t["satisfied_rate"] == pytest.approx(t["satisfied_weighted"] / w[keep].sum())


@settings(max_examples=150, deadline=None)
@given(st.data())
def test_has_index_agrees_with_the_scoring_kernel_row_for_row(data):
    """The reader's check for rows with too few answers (two matrix products) against the
    compiled kernel's own rule, on random instruments' weights, thresholds and answer gaps."""
    from manyi.core.scoring.response import has_index

    n_dims = data.draw(st.integers(1, 4))
    per = [data.draw(st.integers(1, 4)) for _ in range(n_dims)]
    share = data.draw(st.sampled_from([0.25, 0.34, 0.5, 0.51, 0.67, 0.75, 1.0]))
    lines = ["manyi: 1", "id: h", 'version: "1"', "title: {zh: h, en: h}",
             f"scoring: {{points: range, satisfied_at: 70, target_rate: 0.85, min_answered: {share}}}",
             "dimensions:"]
    weighted = {1: [1.0], 2: [0.3, 0.7], 3: [0.2, 0.3, 0.5], 4: [0.1, 0.2, 0.3, 0.4]}[n_dims]
    use_weights = data.draw(st.booleans())  # given dimension weights, or equal ones
    for d, k in enumerate(per):
        lines += [f"  - id: d{d}", f"    label: {{zh: d{d}, en: d{d}}}"]
        lines += [f"    weight: {weighted[d]}"] if use_weights else []
        lines += ["    items:"]
        for i in range(k):
            iw = data.draw(st.sampled_from([1, 2, 3, 0.5]))
            lines.append(f"      - {{id: q{d}_{i}, text: {{zh: q, en: q}}, scale: likert5, weight: {iw}}}")
    from manyi.io.instruments import parse_instrument

    inst = parse_instrument("\n".join(lines) + "\n")
    rng = np.random.default_rng(data.draw(st.integers(0, 10_000)))
    X = rng.integers(1, 6, size=(300, len(inst.item_ids))).astype(float)
    X[rng.random(X.shape) < data.draw(st.sampled_from([0.1, 0.3, 0.5, 0.7]))] = np.nan
    from manyi.core.scoring import score_responses

    assert np.array_equal(has_index(inst, X), ~np.isnan(score_responses(inst, X).csi))


@pytest.mark.parametrize("weighted", [False, True])
def test_vectorised_pass_equals_the_row_loop(weighted: bool) -> None:
    """The vectorised scoring pass against the compiled row-by-row loop it replaced
    (tests/reference_kernel.py): every per-response score and group sum, on answers with
    gaps, unequal item and dimension weights, several groups, zero weights and blocks of rows
    smaller than the data (so sums cross block borders)."""
    from manyi.core.scoring import response
    from reference_kernel import score_and_sum

    rng = np.random.default_rng(11 + weighted)
    n, k, m, G = 9_000, 11, 4, 7
    X = rng.integers(1, 8, (k, n)).astype(float)
    X[rng.random((k, n)) < 0.25] = np.nan
    a, b = np.full(k, 100 / 6), np.full(k, -100 / 6)
    top = np.full(k, 6.0)
    item_dim = np.sort(np.r_[np.arange(m), rng.integers(0, m, k - m)])
    item_w = rng.uniform(0.5, 2, k)
    for d in range(m):
        item_w[item_dim == d] /= item_w[item_dim == d].sum()
    dim_w = rng.uniform(0.5, 2, m)
    dim_w /= dim_w.sum()
    codes = rng.integers(0, G, n)
    w = rng.uniform(0, 3, n) if weighted else np.ones(n)
    if weighted:
        w[::9] = 0.0
    args = (a, b, top, item_dim, item_w, dim_w, 0.6, 75.0, codes, w, G)
    old_rows = response.ROWS
    response.ROWS = 1000
    try:
        new = response.score_pass(X, *args)
    finally:
        response.ROWS = old_rows
    ref = score_and_sum(X, *args)
    for name, r, q in zip(new._fields, ref, new, strict=True):
        np.testing.assert_allclose(q, r, rtol=1e-10, atol=1e-9, equal_nan=True, err_msg=name)
    assert np.isnan(new.csi).any() and (new.sat_w > 0).all()
