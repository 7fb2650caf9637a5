"""Analyses against hand-worked tables, textbook examples and independent implementations
(pingouin, statsmodels, scipy)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import proportions_ztest
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.core import kano as kano_mod
from manyi.core import spc as spc_mod
from manyi.core.analysis import benjamini_hochberg, holm
from manyi.core.compare import compare
from manyi.core.ipa import ipa
from manyi.core.servqual import servqual
from manyi.i18n import ManyiError
from manyi.io.instruments import example_path, load_example, parse_instrument
from manyi.io.responses import validate_frame
from manyi.services.analysis import Options, analyze

# --- Kano ---------------------------------------------------------------------------------


def test_kano_evaluation_table_is_berger_1993():
    rows = ["QAAAO", "RIIIM", "RIIIM", "RIIIM", "RRRRQ"]
    for f in range(1, 6):
        for d in range(1, 6):
            assert kano_mod.classify(np.array([f]), np.array([d]))[0] == rows[f - 1][d - 1]


def test_kano_hand_worked_attribute():
    pairs = [(1, 5)] * 6 + [(3, 5)] * 5 + [(1, 3)] * 4 + [(3, 3)] * 3 + [(5, 1)] + [(1, 1)] + [(np.nan, 2)]
    f, d = np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float)
    r = kano_mod.kano([("wifi", f, d)]).tables["attributes"].iloc[0]
    assert (r["n"], r["A"], r["O"], r["M"], r["I"], r["R"], r["Q"]) == (20, 4, 6, 5, 3, 1, 1)
    assert r["category"] == "O" and r["second"] == "M"
    assert r["better"] == pytest.approx(10 / 18) and r["worse"] == pytest.approx(-11 / 18)
    assert r["fong_threshold"] == pytest.approx(1.65 * np.sqrt(11 * 29 / 40))
    assert not r["fong_significant"]


def test_kano_tie_rule_must_be_first():
    f = np.array([1, 1, 3, 3, 1, 1, 3, 3], float)  # O, O, M, M, A, A, I, I
    d = np.array([5, 5, 5, 5, 3, 3, 3, 3], float)
    res = kano_mod.kano([("x", f, d)])
    r = res.tables["attributes"].iloc[0]
    assert r["category"] == "M" and r["second"] == "O" and "category_name" not in r  # codes only
    from manyi.present.terminal import display_tables

    assert display_tables(res, "zh")["attributes"].iloc[0]["category_name"] == "必备质量"


KANO_INST = """\
manyi: 1
id: k
version: "1"
title: {zh: 卡诺, en: Kano}
dimensions:
  - id: d
    label: {zh: 总体, en: Overall}
    items: [{id: sat, text: {zh: 满意, en: Satisfied}, scale: likert5}]
questions:
  - {id: wifi_f, type: rating, scale: kano5, text: {zh: 有无线网络时, en: With wifi}}
  - {id: wifi_d, type: rating, scale: kano5, text: {zh: 没有无线网络时, en: Without wifi}}
kano:
  - {id: wifi, label: {zh: 无线网络, en: Wifi}, functional: wifi_f, dysfunctional: wifi_d}
"""


def _kano_frame(n: int = 60, seed: int = 4) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"response_id": [str(i) for i in range(n)], "sat": rng.integers(1, 6, n),
                         "wifi_f": rng.choice([1, 2, 3], n, p=[0.6, 0.2, 0.2]),
                         "wifi_d": rng.choice([3, 4, 5], n, p=[0.3, 0.2, 0.5])})


def test_kano_from_an_instrument_and_labels():
    inst = parse_instrument(KANO_INST)
    df = pd.DataFrame({"response_id": ["1", "2", "3"], "sat": [4, 5, 3],
                       "wifi_f": ["我很喜欢", "I like it", "3"], "wifi_d": ["我很不喜欢", "无所谓", "5"]})
    res = analyze("kano", validate_frame(df, inst))
    r = res.tables["attributes"].iloc[0]
    assert (r["O"], r["A"], r["M"]) == (1, 1, 1)
    assert res.label("wifi", "zh") == "无线网络"  # the instrument's label travels with the result
    bad = parse_instrument(KANO_INST.split("kano:")[0])
    with pytest.raises(ManyiError, match="declares no Kano pairs"):
        analyze("kano", validate_frame(df, bad))
    with pytest.raises(ManyiError, match='unknown question "wifi_x"'):
        parse_instrument(KANO_INST.replace("dysfunctional: wifi_d", "dysfunctional: wifi_x"))


# --- SPC ----------------------------------------------------------------------------------
# Montgomery, Introduction to Statistical Quality Control, 7th ed., Example 7.1 (orange-juice
# cans, 30 samples of 50): p̄ = 0.2313, UCL = 0.4102, LCL = 0.0524; samples 15 and 23 out.
CANS = [12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22, 8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6]


def test_p_chart_textbook_example():
    t = spc_mod.p_chart([str(i) for i in range(1, 31)], np.array(CANS), np.full(30, 50))
    assert t["cl"].iloc[0] == pytest.approx(0.2313, abs=5e-5)
    assert t["ucl"].iloc[0] == pytest.approx(0.4102, abs=5e-5)
    assert t["lcl"].iloc[0] == pytest.approx(0.0524, abs=5e-5)
    sig = spc_mod.rule_signals(t["p"].to_numpy(), t["cl"].to_numpy(), t["sigma"].to_numpy(), rules=(1,))
    assert [i + 1 for i, _ in sig] == [15, 23]


def test_p_chart_rules_use_the_model_sigma_when_the_upper_limit_is_clipped():
    """Two responses a month, p̄ = 0.6: UCL = 0.6 + 3·0.346 is clipped to 1. A month with p = 0
    lies 1.73 σ below the centre, inside the limits; σ taken from the clipped limit (0.133) made
    it 4.5 σ and a rule-1 signal."""
    d = np.array([2, 2, 1, 1, 2, 0, 1, 1, 1, 1])
    n = np.full(10, 2)
    t = spc_mod.p_chart([str(i) for i in range(10)], d, n)
    pbar = d.sum() / n.sum()
    assert pbar == pytest.approx(0.6) and (t["ucl"] == 1.0).all()
    z = (d / n - pbar) / np.sqrt(pbar * (1 - pbar) / n)  # the textbook z, computed here
    np.testing.assert_allclose((t["p"] - t["cl"]) / t["sigma"], z)
    assert spc_mod.rule_signals(t["p"], t["cl"], t["sigma"], rules=(1,)) == []
    # rule 7 on small samples: 15 months within 1 σ of p̄ = 0.6 (n = 5, σ = 0.219) signal;
    # σ from the limit clipped at 1 would have been 0.133, and |p − p̄| = 0.2 is 1.5 of those
    d = np.array([2, 4] * 7 + [3])
    t = spc_mod.p_chart([str(i) for i in range(15)], d, np.full(15, 5))
    assert t["cl"].iloc[0] == pytest.approx(0.6) and (t["ucl"] == 1).all()
    assert (14, 7) in spc_mod.rule_signals(t["p"], t["cl"], t["sigma"], rules=(7,))


def test_s_chart_centre_line_is_the_centre_of_its_limits():
    """Montgomery §6.3: with s̄, the S chart is CL = s̄, LCL = B3·s̄, UCL = B4·s̄ (symmetric about s̄)."""
    rng = np.random.default_rng(11)
    groups = [rng.normal(70, 10, 10) for _ in range(12)]
    _, s = spc_mod.xbar_s_chart([str(i) for i in range(12)], groups)
    sbar = np.sqrt(np.mean([g.var(ddof=1) for g in groups]))
    assert s["cl"].iloc[0] == pytest.approx(sbar)
    assert (s["lcl"].iloc[0] + s["ucl"].iloc[0]) / 2 == pytest.approx(sbar)
    assert s["lcl"].iloc[0] == pytest.approx(0.284 * sbar, abs=5e-4 * sbar)


def test_control_chart_constants_match_the_tables():
    """Montgomery Appendix VI: n = 5: c4 .9400, A3 1.427, B3 0, B4 2.089; n = 10: A3 .975, B3 .284, B4 1.716."""
    a3, b3, b4 = spc_mod.xbar_s_constants(np.array([5, 10]))
    assert spc_mod.c4(5) == pytest.approx(0.9400, abs=5e-5)
    assert a3 == pytest.approx([1.427, 0.975], abs=5e-4)
    assert b3 == pytest.approx([0.0, 0.284], abs=5e-4)
    assert b4 == pytest.approx([2.089, 1.716], abs=5e-4)


def test_xbar_s_with_equal_n_and_i_mr():
    rng = np.random.default_rng(1)
    groups = [rng.normal(70, 10, 5) for _ in range(20)]
    xbar, s = spc_mod.xbar_s_chart([str(i) for i in range(20)], groups)
    sbar = np.mean([g.std(ddof=1) for g in groups])  # equal n: pooled s̄ by Montgomery's formula
    pooled = np.sqrt(np.mean([g.var(ddof=1) for g in groups]))
    assert s["lcl"].iloc[0] == pytest.approx(0.0) and xbar["cl"].iloc[0] == pytest.approx(np.mean(groups))
    assert xbar["ucl"].iloc[0] - xbar["cl"].iloc[0] == pytest.approx(1.4273 * pooled, rel=1e-4)
    assert sbar < pooled * 1.05
    x = np.array([10, 12, 11, 13, 12.0])
    i, mr = spc_mod.i_mr_chart(list("abcde"), x)
    assert mr["cl"].iloc[0] == pytest.approx(np.mean([2, 1, 2, 1]))
    assert i["ucl"].iloc[0] == pytest.approx(11.6 + 3 * 1.5 / 1.128)
    assert mr["ucl"].iloc[0] == pytest.approx(3.267 * 1.5)


def test_western_electric_and_nelson_rules():
    cl, ucl = np.zeros(20), np.full(20, 1.0)  # sigma 1
    x = np.array([0.5] * 8 + [0] * 12)
    assert (7, 4) in spc_mod.rule_signals(x, cl, ucl)
    x = np.array([0, 2.5, 0, 2.5] + [0] * 16)
    assert (3, 2) in spc_mod.rule_signals(x, cl, ucl)
    x = np.array([1.5, 1.5, 0, 1.5, 1.5] + [0] * 15)
    assert (4, 3) in spc_mod.rule_signals(x, cl, ucl)
    x = np.array([-1, -0.6, -0.2, 0.2, 0.6, 1.0] + [0] * 14)
    assert (5, 5) in spc_mod.rule_signals(x, cl, ucl)
    x = np.array([0.1 * (-1) ** k for k in range(20)])
    got = spc_mod.rule_signals(x, cl, ucl)
    assert (13, 6) in got and (14, 7) in got
    x = np.array([1.5 * (-1) ** k for k in range(8)] + [0] * 12)
    assert (7, 8) in spc_mod.rule_signals(x, cl, ucl)
    assert spc_mod.rule_signals(np.zeros(5), np.zeros(5), np.full(5, 1.0)) == []


def test_spc_on_responses_finds_the_special_cause():
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=3000, seed=7), inst)
    res = analyze("spc", rs, by=["branch"], opts=Options(period="month"))
    wuhan = res.tables["p_chart"][res.tables["p_chart"]["branch"] == "wuhan"]
    assert len(wuhan) == 12 and (wuhan["ucl"] > wuhan["cl"]).all()
    sig = res.tables["signals"]
    assert {"branch", "chart", "period", "rule", "value"} <= set(sig.columns)
    from manyi.present.terminal import display_tables

    assert display_tables(res, "zh")["signals"]["description"].str.contains("标准差|中心线|连续").all()
    # the group of the rejected branch is named by the tables' dash, not Python's None
    assert any("group branch=– left out" in w.render("en") for w in res.warnings)
    # on the terminal the groups read as the choices' labels
    from manyi.present.terminal import named_values

    assert res.labels["branch=wuhan"] == {"zh": "武汉", "en": "Wuhan"}
    shown = named_values(res, display_tables(res, "zh")["p_chart"], "zh")
    assert set(shown["branch"]) == {"北京", "上海", "广州", "成都", "武汉"}
    assert list(res.tables["p_chart"]["branch"].unique()) == [
        "beijing", "shanghai", "guangzhou", "chengdu", "wuhan"]
    # the generator's special cause: Wuhan's parts shortage in month 8 (2026-08), on both charts
    w_sig = sig[(sig["branch"] == "wuhan") & (sig["period"] == "2026-08") & (sig["rule"] == 1)]
    assert set(w_sig["chart"]) == {"p_chart", "xbar_chart"}
    assert w_sig.set_index("chart").loc["p_chart", "value"] > wuhan["ucl"].iloc[8]
    with pytest.raises(ManyiError, match="at least 3 periods"):
        analyze("spc", rs, opts=Options(period="year"))


# --- comparisons --------------------------------------------------------------------------


def test_compare_against_pingouin_and_statsmodels():
    rng = np.random.default_rng(3)
    a, b, c = rng.normal(70, 12, 80), rng.normal(75, 15, 60), rng.normal(72, 10, 70)
    sa, sb, sc = (a >= 70).astype(float), (b >= 70).astype(float), (c >= 70).astype(float)
    res = compare(["a", "b", "c"], {"csi": [a, b, c]}, [sa, sb, sc], pairs="all", method="holm")
    m = res.tables["means"].set_index(["group_a", "group_b"])
    ref = pg.ttest(b, a, correction=True)
    assert m.loc[("a", "b"), "welch_t"] == pytest.approx(ref["T"].iloc[0])
    assert m.loc[("a", "b"), "welch_df"] == pytest.approx(ref["dof"].iloc[0])
    assert m.loc[("a", "b"), "welch_p"] == pytest.approx(ref["p_val"].iloc[0] if "p_val" in ref else ref["p-val"].iloc[0])
    mw = pg.mwu(b, a)
    assert m.loc[("a", "b"), "mw_p"] == pytest.approx(mw["p_val"].iloc[0] if "p_val" in mw else mw["p-val"].iloc[0])
    assert list(res.tables["means"]["p_adj"]) == pytest.approx(
        list(multipletests(res.tables["means"]["welch_p"], method="holm")[1]))
    r = res.tables["rates"].set_index(["group_a", "group_b"])
    z, p = proportions_ztest([sb.sum(), sa.sum()], [len(sb), len(sa)])
    assert r.loc[("a", "b"), "z"] == pytest.approx(z) and r.loc[("a", "b"), "p"] == pytest.approx(p)
    o = res.tables["omnibus"].iloc[0]
    df = pd.DataFrame({"v": np.concatenate([a, b, c]), "g": ["a"] * 80 + ["b"] * 60 + ["c"] * 70})
    an, kw = pg.anova(df, dv="v", between="g"), pg.kruskal(df, dv="v", between="g")
    assert o["anova_f"] == pytest.approx(an["F"].iloc[0])
    assert o["kruskal_h"] == pytest.approx(kw["H"].iloc[0])


@pytest.mark.parametrize("seed", range(5))
def test_holm_and_bh_equal_statsmodels(seed):
    p = np.random.default_rng(seed).uniform(0, 0.2, 12)
    p[3] = np.nan
    ok = ~np.isnan(p)
    assert holm(p)[ok] == pytest.approx(multipletests(p[ok], method="holm")[1])
    assert benjamini_hochberg(p)[ok] == pytest.approx(multipletests(p[ok], method="fdr_bh")[1])
    assert np.isnan(holm(p)[3])


def test_score_compare_previous_marks_changes():
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=3000, seed=7), inst)
    from manyi import score
    from manyi.services.scoring import compare_previous

    res = compare_previous(score(rs, period="quarter"))
    g = res.groups
    assert pd.isna(g["prev_period"].iloc[0]) and g["prev_period"].iloc[1] == g["period"].iloc[0]
    r = res.respondents
    x = r.loc[r["period"] == g["period"].iloc[0], "csi"].dropna()
    y = r.loc[r["period"] == g["period"].iloc[1], "csi"].dropna()
    assert g["csi_change"].iloc[1] == pytest.approx(y.mean() - x.mean())
    assert g["csi_change_p"].iloc[1] == pytest.approx(stats.ttest_ind(y, x, equal_var=False).pvalue)
    d = res.to_dict()
    assert d["groups"][1]["change"]["previous_period"] == g["period"].iloc[0]
    assert isinstance(d["groups"][1]["change"]["significant"], bool)


# --- SERVQUAL and IPA ----------------------------------------------------------------------


def test_servqual_gaps_against_paired_t():
    inst = load_example("servqual")
    df = datasets.servqual(n=300, seed=5)
    res = analyze("servqual", validate_frame(df, inst))
    items = res.tables["items"].set_index("item")
    ref = pg.ttest(df["sq05"], df["sq05__expected"], paired=True)
    assert items.loc["sq05", "gap"] == pytest.approx((df["sq05"] - df["sq05__expected"]).mean())
    ci = ref["CI95"].iloc[0] if "CI95" in ref else ref["CI95%"].iloc[0]
    assert [items.loc["sq05", "ci_low"], items.loc["sq05", "ci_high"]] == pytest.approx(list(ci), abs=1e-2)
    assert items.loc["sq05", "t"] == pytest.approx(stats.ttest_rel(df["sq05"], df["sq05__expected"]).statistic)
    # dimension gap: mean of the respondents' mean item gaps
    rel = [f"sq{k:02d}" for k in range(5, 10)]
    gap = pd.concat([df[i] - df[f"{i}__expected"] for i in rel], axis=1).mean(axis=1)
    dims = res.tables["dimensions"].set_index("dimension")
    assert dims.loc["reliability", "gap"] == pytest.approx(gap.mean())
    assert dims.loc["reliability", "servperf"] == pytest.approx(df[rel].mean(axis=1).mean())
    over = res.tables["overall"].set_index("measure")
    assert over.loc["servqual_unweighted", "value"] == pytest.approx(dims["gap"].mean())


def test_weighted_servqual_with_point_allocation():
    rows = {"P": [[6, 4], [5, 5]], "E": [[7, 7], [5, 6]]}
    P = pd.DataFrame(rows["P"], columns=["r1", "t1"])
    E = pd.DataFrame(rows["E"], columns=["r1", "t1"])
    alloc = pd.DataFrame({"reliability": [80, 50], "tangibles": [20, 50]})
    res = servqual(P, E, {"r1": "reliability", "t1": "tangibles"}, {"reliability": 0.5, "tangibles": 0.5}, alloc)
    over = res.tables["overall"].set_index("measure")
    # respondent 1: .8·(−1) + .2·(−3) = −1.4; respondent 2: .5·0 + .5·(−1) = −0.5
    assert over.loc["servqual_weighted_allocation", "value"] == pytest.approx((-1.4 - 0.5) / 2)
    assert over.loc["servqual_unweighted", "value"] == pytest.approx(((-1 - 3) / 2 + (0 - 1) / 2) / 2)


def test_servqual_without_expectations_is_a_clear_error():
    inst = load_example("b2b-shipping")
    df = pd.DataFrame({"response_id": ["1", "2"], "booking_ease": [4, 5]})
    with pytest.raises(ManyiError, match="SERVQUAL needs expectation answers"):
        analyze("servqual", validate_frame(df, inst))


def test_ipa_quadrants_by_hand():
    res = ipa(["a", "b", "c", "d"], np.array([60, 90, 50, 95.0]), np.array([4.5, 4.6, 3.0, 3.2]),
              (3.825, 73.75), "stated")
    t = res.tables["items"].set_index("item")
    assert t.loc["a", "quadrant"] == "concentrate" and t.loc["b", "quadrant"] == "keep_up"
    assert t.loc["c", "quadrant"] == "low_priority" and t.loc["d", "quadrant"] == "overkill"
    assert t.loc["a", "rank"] == 1 and "quadrant_name" not in t  # the core returns codes
    from manyi.present.terminal import display_tables

    shown = display_tables(res, "zh")["items"].set_index("item")
    assert shown.loc["a", "quadrant_name"] == "重点改进区"
    assert display_tables(res, "en")["items"].set_index("item").loc["d", "quadrant_name"] == "Possible overkill"


def test_ipa_derived_importance_is_the_correlation_with_the_index():
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=800, seed=2, clean=True), inst)
    res = analyze("ipa", rs, opts=Options(importance="derived", cross="midpoint"))
    t = res.tables["items"].set_index("item")
    from manyi import score

    csi = score(rs).respondents["csi"]
    x = rs.data["parts_price"]
    ok = x.notna() & csi.notna()
    assert t.loc["parts_price", "importance"] == pytest.approx(np.corrcoef(x[ok], csi[ok])[0, 1])
    assert res.tables["crosshairs"]["performance_cross"].iloc[0] == 50
    with pytest.raises(ManyiError, match="stated importance needs __importance answers"):
        b2b = load_example("b2b-shipping")
        analyze("ipa", validate_frame(pd.DataFrame({"response_id": ["1", "2", "3"],
                                                    **{i: [4, 3, 5] for i in b2b.item_ids}}), b2b))


# --- CLI ----------------------------------------------------------------------------------


def test_analyze_cli_json_shape_and_errors(tmp_path):
    data = tmp_path / "sq.csv"
    datasets.servqual(n=120, seed=1).to_csv(data, index=False)
    runner = CliRunner()
    res = runner.invoke(app, ["analyze", "servqual", "-i", str(example_path("servqual")), str(data),
                              "--format", "json", "--chart", str(tmp_path / "c.html")])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["analysis"] == "servqual" and d["n"] == 120 and isinstance(d["warnings"], list)
    assert set(d["tables"]) == {"items", "dimensions", "overall"}
    assert set(d["tables"]["dimensions"][0]) >= {"dimension", "gap", "ci_low", "ci_high", "p"}
    assert (tmp_path / "c.html").exists()
    res = runner.invoke(app, ["analyze", "compare", "-i", str(example_path("servqual")), str(data), "--by",
                              "segment", "--format", "csv"])
    assert res.exit_code == 0 and res.stdout.splitlines()[0].startswith("table,")
    res = runner.invoke(app, ["analyze", "drivers2", "-i", str(example_path("servqual")), str(data)])
    assert res.exit_code == 2 and 'unknown analysis "drivers2"' in res.stderr
    res = runner.invoke(app, ["analyze", "compare", "-i", str(example_path("servqual")), str(data)])
    assert res.exit_code == 2 and "at least two groups" in res.stderr


@pytest.mark.parametrize("name", ["servqual", "ipa", "spc", "drivers", "reliability", "compare", "kano"])
def test_every_chart_draws_its_table_in_chinese(name):
    from manyi.present.charts import chart

    inst = load_example({"servqual": "servqual", "kano": None}.get(name, "after-sales")) if name != "kano" \
        else parse_instrument(KANO_INST)
    df = {"servqual": lambda: datasets.servqual(n=200, seed=1), "kano": lambda: _kano_frame()}.get(
        name, lambda: datasets.after_sales(n=600, seed=1))()
    res = analyze(name, validate_frame(df, inst), ["tier"] if name == "compare" else None,
                  Options(bootstrap=50))
    fig = chart(res, "zh")
    assert fig.data and any("\u4e00" <= ch <= "\u9fff" for ch in fig.layout.title.text)
    assert "Noto Sans CJK SC" in fig.layout.font.family
    if name == "drivers":
        t = res.tables["drivers"]
        assert list(fig.data[0].x) == pytest.approx(list(t["relative_weight"]))


def test_ipa_relative_weight_importance_sums_to_r2():
    from manyi.core.drivers import relative_weights

    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=800, seed=6, clean=True), inst)
    res = analyze("ipa", rs, opts=Options(importance="relative"))
    imp = res.tables["items"]["importance"]
    assert (imp > 0).all() and imp.sum() == pytest.approx(1.0, abs=0.02)  # the index is built from the items
    assert relative_weights(np.eye(2), np.array([0.6, 0.0])) == pytest.approx([0.36, 0.0])


def _nps_by_hand(x, w):
    """NPS and its SE from the ±1/0 coding, weighted, on Kish's n_eff (written out here)."""
    code = np.where(x >= 9, 1.0, np.where(x <= 6, -1.0, 0.0))
    m = np.average(code, weights=w)
    pp, pdt = np.average(code == 1, weights=w), np.average(code == -1, weights=w)
    ne = w.sum() ** 2 / (w**2).sum()
    return 100 * m, 100 * np.sqrt((pp + pdt - m**2) / ne)


def test_compare_previous_is_weighted_and_tests_nps_changes():
    """Weighted responses: the change is the change of the weighted index (not of the plain
    means), its test Welch's on Kish's n_eff; NPS changes get a z test."""
    from manyi import score
    from manyi.core.wstats import welch
    from manyi.services.scoring import compare_previous

    inst = load_example("after-sales")
    df = datasets.after_sales(n=2000, seed=13)
    rng = np.random.default_rng(1)
    df["w"] = np.where(df["tier"] == "vip", 3.0, 0.6) * rng.uniform(0.8, 1.2, len(df))
    rs = validate_frame(df, inst)
    res = compare_previous(score(rs, period="quarter", weights="w"))
    g = res.groups
    i = 2
    assert g["prev_period"].iloc[i] == g["period"].iloc[i - 1]
    assert g["csi_change"].iloc[i] == pytest.approx(g["csi"].iloc[i] - g["csi"].iloc[i - 1])
    r, w = res.respondents, rs.data["w"].to_numpy(float)
    sel = [(r["period"] == g["period"].iloc[k]).to_numpy() & r["csi"].notna().to_numpy() for k in (i - 1, i)]
    plain = r.loc[sel[1], "csi"].mean() - r.loc[sel[0], "csi"].mean()
    assert abs(g["csi_change"].iloc[i] - plain) > 0.05  # weights matter on this set
    _, _, p = welch(r.loc[sel[0], "csi"].to_numpy(), w[sel[0]], r.loc[sel[1], "csi"].to_numpy(), w[sel[1]])
    assert g["csi_change_p"].iloc[i] == pytest.approx(p, rel=1e-9)
    x = rs.data["nps"].to_numpy(float)
    per = [(r["period"] == g["period"].iloc[k]).to_numpy() & ~np.isnan(x) for k in (i - 1, i)]
    (na, sa), (nb, sb) = (_nps_by_hand(x[m], w[m]) for m in per)
    z = (nb - na) / np.hypot(sa, sb)
    assert g["nps_change"].iloc[i] == pytest.approx(nb - na, abs=1e-9)
    assert g["nps_change_p"].iloc[i] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert res.to_dict()["groups"][i]["change"]["nps_p"] == pytest.approx(g["nps_change_p"].iloc[i])


def test_analyze_compare_has_an_nps_table():
    inst = load_example("after-sales")
    rs = validate_frame(datasets.after_sales(n=1500, seed=3), inst)
    res = analyze("compare", rs, ["tier"])
    t = res.tables["nps"].iloc[0]
    x = rs.data["nps"].to_numpy(float)
    tiers = rs.data["tier"].astype(object).to_numpy()
    (na, sa), (nb, sb) = (
        _nps_by_hand(x[(tiers == g) & ~np.isnan(x)], np.ones(((tiers == g) & ~np.isnan(x)).sum()))
        for g in (t["group_a"], t["group_b"])
    )
    assert t["diff"] == pytest.approx(nb - na) and t["se"] == pytest.approx(np.hypot(sa, sb))
    assert t["p"] == pytest.approx(2 * stats.norm.sf(abs((nb - na) / np.hypot(sa, sb))))
    assert t["ci_low"] < t["diff"] < t["ci_high"]


def test_rank_and_anova_tests_match_scipy():
    """The comparison's own Mann–Whitney, Kruskal–Wallis, one-way ANOVA and Welch tests give
    scipy.stats' numbers (ties, no ties, tiny samples, unequal sizes)."""
    from scipy import stats

    from manyi.core.compare import anova_oneway, kruskal, mann_whitney
    from manyi.core.wstats import welch

    rng = np.random.default_rng(8)
    cases = [
        (rng.integers(1, 6, 40).astype(float), rng.integers(1, 6, 55).astype(float)),  # many ties
        (rng.normal(70, 10, 300), rng.normal(72, 12, 250)),  # no ties
        (rng.normal(0, 1, 5), rng.normal(0.5, 1, 7)),  # tiny: exact distribution
        (np.array([1.0, 2, 2, 3]), np.array([2.0, 3, 3, 4, 5])),  # tiny with ties: asymptotic
        (np.round(rng.normal(75, 15, 2000), 1), np.round(rng.normal(76, 15, 1500), 1)),
    ]
    for x, y in cases:
        ref = stats.mannwhitneyu(y, x, alternative="two-sided")
        u, p = mann_whitney(np.sort(y), np.sort(x))
        assert u == pytest.approx(float(ref.statistic), rel=1e-12)
        assert p == pytest.approx(float(ref.pvalue), rel=1e-9, abs=1e-300)
        t_ref = stats.ttest_ind(y, x, equal_var=False)
        t, df, tp = welch(x, None, y, None)
        assert (t, df, tp) == pytest.approx((t_ref.statistic, t_ref.df, t_ref.pvalue), rel=1e-9)
    groups = [rng.integers(1, 11, n).astype(float) for n in (30, 45, 60, 12)]
    h, hp = kruskal(groups)
    ref = stats.kruskal(*groups)
    assert (h, hp) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-9)
    f, fp = anova_oneway(groups)
    ref = stats.f_oneway(*groups)
    assert (f, fp) == pytest.approx((ref.statistic, ref.pvalue), rel=1e-9)
    cont = [rng.normal(m, 3, 200) for m in (10, 10.5, 11)]
    assert kruskal(cont) == pytest.approx(tuple(stats.kruskal(*cont)), rel=1e-9)
    assert anova_oneway(cont) == pytest.approx(tuple(stats.f_oneway(*cont)), rel=1e-9)
