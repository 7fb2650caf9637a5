"""Instrument format: examples load, every error is reported with its line and path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from manyi.core.instrument import BUILTIN_SCALES
from manyi.i18n import ManyiError
from manyi.io import yamlsafe
from manyi.io.instruments import EXAMPLES, example_path, load_example, parse_instrument

MINIMAL = """\
manyi: 1
id: mini
version: "1"
title: {zh: 小问卷, en: Mini survey}
scales:
  sat5: {min: 1, max: 5, labels: {1: {zh: 很不满意, en: Very dissatisfied}, 5: {zh: 很满意, en: Very satisfied}}}
dimensions:
  - id: reliability
    label: {zh: 可靠性, en: Reliability}
    weight: 0.5
    items:
      - id: rel_1
        text: {zh: 按时, en: On time}
        scale: sat5
      - id: rel_2
        text: {zh: 准确, en: Accurate}
        scale: sat5
      - id: rel_3
        text: {zh: 一次做好, en: Right first time}
        scale: sat6
  - id: staff
    label: {zh: 员工, en: Staff}
    weight: 0.45
    items:
      - {id: staff_1, text: {zh: 礼貌, en: Polite}, scale: likert5}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ManyiError) as exc:
        parse_instrument(text, "after-sales.yaml")
    return [m.render("en") for m in exc.value.messages]


@pytest.mark.parametrize("name", EXAMPLES)
def test_examples_are_valid(name):
    inst = load_example(name)
    assert inst.id == name
    assert abs(inst.dimension_weights.sum() - 1) < 1e-12
    for d in inst.dimensions:
        w = [i.weight for i in inst.items if i.dimension == d.id]
        assert abs(sum(w) - 1) < 1e-12


def test_servqual_example_has_22_paired_items_on_rater():
    inst = load_example("servqual")
    assert len(inst.items) == 22
    assert all(i.expectation for i in inst.items)
    counts = {d.id: len(d.items) for d in inst.dimensions}
    assert counts == {"tangibles": 4, "reliability": 5, "responsiveness": 4, "assurance": 4, "empathy": 5}


def test_after_sales_has_the_five_dimensions_equal_weights():
    inst = load_example("after-sales")
    assert [d.label.zh for d in inst.dimensions] == ["服务技能", "服务态度", "服务及时性", "配件供应", "服务综合"]
    assert np.allclose(inst.dimension_weights, 0.2)


def test_b2b_weights_follow_item_importance():
    inst = load_example("b2b-shipping")
    assert inst.scoring.points == "ratio" and inst.scoring.satisfied_at == 70 and inst.scoring.target_rate == 0.85
    # the global weight of an item = dimension weight × weight inside the dimension
    dw = dict(zip(inst.dimension_ids, inst.dimension_weights, strict=True))
    glob = {i.id: dw[i.dimension] * i.weight for i in inst.items}
    assert glob["billing_timeliness"] == pytest.approx(0.04)
    assert glob["doc_accuracy"] == pytest.approx(0.05)
    assert glob["staff_competence"] == pytest.approx(0.06)
    assert sum(glob.values()) == pytest.approx(1.0)


def test_builtin_scales_labels():
    assert [BUILTIN_SCALES["likert5"].labels[float(v)].zh for v in range(1, 6)] == [
        "很不满意", "不太满意", "一般", "比较满意", "很满意"]
    assert [BUILTIN_SCALES["likert7"].labels[float(v)].zh for v in range(7, 0, -1)] == [
        "很满意", "满意", "较满意", "一般", "不太满意", "不满意", "很不满意"]
    assert (BUILTIN_SCALES["nps11"].min, BUILTIN_SCALES["nps11"].max) == (0, 10)
    assert (BUILTIN_SCALES["ten"].min, BUILTIN_SCALES["ten"].max) == (1, 10)


def test_unknown_scale_and_weight_sum_with_lines():
    errs = errors_of(MINIMAL)
    assert 'after-sales.yaml line 20, dimensions[0].items[2].scale: unknown scale "sat6"' in errs
    assert "after-sales.yaml line 7, dimensions: weights of the dimensions sum to 0.95, expected 1" in errs


def test_all_errors_at_once_structural_and_semantic():
    text = MINIMAL.replace("        scale: sat5\n      - id: rel_2", "        scael: sat5\n      - id: rel_2")
    errs = errors_of(text)
    assert any("line 14, dimensions[0].items[0].scael: unknown field" in e for e in errs)
    assert any("line 14, dimensions[0].items[0].scale: required field is missing" in e or
               "dimensions[0].items[0].scale: required field is missing" in e for e in errs)
    assert any('unknown scale "sat6"' in e for e in errs)
    assert any("sum to 0.95" in e for e in errs)


def test_messages_exist_in_chinese():
    with pytest.raises(ManyiError) as exc:
        parse_instrument(MINIMAL, "a.yaml")
    zh = exc.value.render("zh")
    assert '未知量表 "sat6"' in zh and "各维度权重之和为 0.95，应为 1" in zh


def test_duplicate_ids_and_reserved_names():
    text = MINIMAL.replace("id: rel_3", "id: rel_1").replace("scale: sat6", "scale: sat5").replace(
        "weight: 0.45", "weight: 0.5").replace("id: staff_1", "id: submitted_at")
    errs = errors_of(text)
    assert any('id "rel_1" is used more than once (also at dimensions[0].items[0].id)' in e for e in errs)
    assert any('"submitted_at" is reserved' in e for e in errs)


def test_yaml_syntax_error_has_line_and_hint():
    """libyaml reads a "?" inside { } as text; the pure-Python parser (used for deeply nested
    brackets, and for every message) refuses it, with a hint."""
    text = "manyi: 1\nid: x\ntitle: {zh: 问卷, en: Survey?}\n"
    assert yamlsafe.load(text, "a.yaml")["title"] == {"zh": "问卷", "en": "Survey?"}
    deep = text + "deep: " + "[" * yamlsafe.C_DEPTH + "]" * yamlsafe.C_DEPTH + "\n"
    errs = errors_of(deep)
    assert errs[0].startswith("after-sales.yaml line 3: YAML syntax error")
    assert "must be quoted" in errs[0]
    errs = errors_of("manyi: 1\nid: x\ntitle: {zh: 问卷, en: [Survey}\n")  # wrong for both parsers
    assert errs[0].startswith("after-sales.yaml line 3: YAML syntax error"), errs


def test_missing_language_and_bad_version():
    text = MINIMAL.replace("title: {zh: 小问卷, en: Mini survey}", "title: {zh: 小问卷}").replace("manyi: 1", "manyi: 2")
    errs = errors_of(text)
    assert any(e.startswith("after-sales.yaml line 4, title.en: text needs both zh and en (missing: en)") for e in errs)
    assert any(e.startswith("after-sales.yaml line 1, manyi:") for e in errs)


def test_partial_weights_and_negative_weight():
    text = MINIMAL.replace("    weight: 0.45\n", "").replace("scale: sat6", "scale: sat5")
    assert any("give a weight to every dimension or to none" in e for e in errors_of(text))
    text = MINIMAL.replace("weight: 0.45", "weight: 0.5").replace("scale: sat6", "scale: sat5\n        weight: -1")
    assert any("dimensions[0].items[2].weight: weight must be > 0" in e for e in errors_of(text))


def test_equal_weights_when_omitted():
    text = MINIMAL.replace("    weight: 0.45\n", "").replace("    weight: 0.5\n", "").replace("scale: sat6", "scale: sat5")
    inst = parse_instrument(text)
    assert list(inst.dimension_weights) == [0.5, 0.5]
    assert [i.weight for i in inst.items] == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1])


def test_top_level_not_a_mapping():
    assert "must hold a mapping" in errors_of("- a\n- b\n")[0]


def test_example_path_exists():
    assert example_path("servqual").exists()


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=400))
def test_fuzzed_yaml_gives_errors_not_tracebacks(text):
    try:
        parse_instrument(text)
    except ManyiError as exc:
        assert exc.render("en") and exc.render("zh")


@settings(max_examples=100, deadline=None)
@given(st.integers(0, len(MINIMAL) - 1), st.sampled_from(["", "{", ":", "- ", "\t", "x", "]", "'"]))
def test_mutated_instrument_gives_errors_not_tracebacks(pos, insert):
    text = MINIMAL[:pos] + insert + MINIMAL[pos + 1:]
    try:
        parse_instrument(text)
    except ManyiError as exc:
        assert exc.render("en")


def test_deep_nesting_is_an_error_not_a_crash():
    """Brackets nested 100,000 deep go to the pure-Python parser (libyaml's composer would
    recurse in C): a message, not a stack overflow."""
    for text in ("x: " + "[" * 100_000 + "]" * 100_000, "x: " + "{a: " * 50_000 + "1" + "}" * 50_000,
                 "- " * 100_000 + "x"):  # block sequences in one line: libyaml refuses, Python recurses
        with pytest.raises(ManyiError) as exc:
            yamlsafe.load(text, "d.yaml")
        assert "d.yaml" in exc.value.render("en") and exc.value.render("zh")


def test_importance_and_expectation_have_their_own_wording_on_the_same_points():
    """An item on likert5 asks its importance on importance5 and shows its expectation on
    expectation5 (same points, so gaps and IPA are unchanged); answers in the item's own
    wording still read; a scale the instrument names or defines itself wins."""
    from manyi.io.responses import validate_frame

    inst = load_example("after-sales")
    it = next(i for i in inst.items if i.importance and i.expectation)
    assert it.importance_scale.labels[5.0].zh == "很重要"
    assert it.importance_scale.labels[1.0].en == "Not at all important"
    assert it.expected_scale.labels[5.0].zh == "很高"
    for sc in (it.importance_scale, it.expected_scale):
        assert (sc.min, sc.max) == (it.scale.min, it.scale.max)
    df = pd.DataFrame({
        "response_id": ["a", "b", "c", "d"],
        **{i.id: ["4"] * 4 for i in inst.items},
        f"{it.id}__importance": ["很重要", "非常重要", "很满意", "不太重要"],
        f"{it.id}__expected": ["很高", "较低", "比较满意", "Very high"],
    })
    rs = validate_frame(df, inst)
    assert list(rs.data[f"{it.id}__importance"]) == [5, 5, 5, 2]
    assert list(rs.data[f"{it.id}__expected"]) == [5, 2, 4, 5]
    # named in the instrument, or a likert5 of its own: that scale, as written
    own = MINIMAL.replace("sat6", "sat5").replace(
        "      - {id: staff_1, text: {zh: 礼貌, en: Polite}, scale: likert5}",
        "      - {id: staff_1, text: {zh: 礼貌, en: Polite}, scale: likert5, importance: true,"
        " importance_scale: sat5}\n"
        "      - {id: staff_2, text: {zh: 耐心, en: Patient}, scale: likert5, importance: true}")
    parsed = parse_instrument(own.replace("weight: 0.45", "weight: 0.5"), "own.yaml")
    by_id = {i.id: i for i in parsed.items}
    assert by_id["staff_1"].importance_scale.labels[5.0].zh == "很满意"
    assert by_id["staff_2"].importance_scale.labels[5.0].zh == "很重要"
    replaced = own.replace("weight: 0.45", "weight: 0.5").replace(
        "scales:\n", "scales:\n  likert5: {min: 1, max: 5, labels: {5: {zh: 好, en: Good}}}\n")
    mine = {i.id: i for i in parse_instrument(replaced, "mine.yaml").items}
    assert mine["staff_2"].importance_scale.labels == {5.0: mine["staff_2"].scale.labels[5.0]}
