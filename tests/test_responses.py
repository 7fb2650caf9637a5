"""Reading response files: encodings, labels, missing values, reversal, the validation report."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from manyi import read_responses
from manyi.i18n import ManyiError
from manyi.io.instruments import load_example, parse_instrument
from manyi.io.responses import validate_frame

INST = parse_instrument("""\
manyi: 1
id: t
version: "1"
title: {zh: 测试, en: Test}
dimensions:
  - id: a
    label: {zh: 甲, en: A}
    items:
      - {id: a1, text: {zh: 题1, en: Q1}, scale: likert5, expectation: true}
      - {id: a2, text: {zh: 题2, en: Q2}, scale: likert5, reverse: true}
  - id: b
    label: {zh: 乙, en: B}
    items:
      - {id: b1, text: {zh: 题3, en: Q3}, scale: likert7, importance: true, importance_scale: likert5}
questions:
  - {id: nps, type: nps, text: {zh: 推荐, en: Recommend}}
  - id: branch
    type: choice
    role: segment
    text: {zh: 网点, en: Branch}
    choices:
      - {id: bj, label: {zh: 北京, en: Beijing}}
      - sh
""")

HEADER = "response_id,submitted_at,branch,a1,a1__expected,a2,b1,b1__importance,nps,region\n"
ROWS = [
    "r1,2026-01-15 10:00,北京,4,5,2,6,5,9,north",
    "r2,2026-02-03,sh,比较满意,很满意,Dissatisfied,很满意,3,10,south",
    "r3,2026-04-30 23:59,Beijing,NA,,不适用,一般,N/A,0,north",
    "r4,2026-05-01,bj,6,4,3,5,4,11,north",
    "r2,2026-05-02,bj,4,4,4,4,4,4,north",
    ",2026-05-03,bj,4,4,4,4,4,4,north",
    "r7,not a date,西安,很好吧,4,3.5,4,4,7,south",
    "r8,2026-06-01,bj,,,,,,8,south",
]


def write(tmp_path, text: str, encoding: str, name: str = "resp.csv"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_give_the_same_result(tmp_path, encoding):
    p = write(tmp_path, HEADER + "\n".join(ROWS) + "\n", encoding)
    rs = read_responses(p, INST)
    assert [None if pd.isna(b) else b for b in rs.data["branch"]] == ["bj", "sh", "bj", "bj", None]
    assert rs.report.rows_read == 8


def test_values_labels_missing_and_reversal(tmp_path):
    rs = read_responses(write(tmp_path, HEADER + "\n".join(ROWS) + "\n", "utf-8"), INST)
    d = rs.data.set_index("response_id")
    # codes and labels in both languages
    assert d.loc["r1", "a1"] == 4 and d.loc["r2", "a1"] == 4 and d.loc["r2", "a1__expected"] == 5
    # a2 is reversed on read: 2 -> 4, "Dissatisfied" (2) -> 4, 3 -> 3
    assert d.loc["r1", "a2"] == 4 and d.loc["r2", "a2"] == 4 and d.loc["r4", "a2"] == 3
    # likert7 label and an importance answer on its own scale
    assert d.loc["r2", "b1"] == 7 and d.loc["r1", "b1__importance"] == 5
    # NA, blank, 不适用, N/A are missing
    assert np.isnan(d.loc["r3", ["a1", "a1__expected", "a2", "b1__importance"]].astype(float)).all()
    assert d.loc["r3", "b1"] == 4
    assert d.loc["r3", "nps"] == 0
    # extra columns are kept as segments
    assert d.loc["r2", "region"] == "south"
    # times are in Asia/Shanghai
    assert str(d.loc["r1", "submitted_at"].tz) == "Asia/Shanghai"


def test_report_counts_add_up_and_name_every_problem(tmp_path):
    rs = read_responses(write(tmp_path, HEADER + "\n".join(ROWS) + "\n", "utf-8"), INST)
    rep = rs.report
    assert rep.rows_read == 8 and rep.rows_used == 5 and rep.rows_rejected == 3
    assert rep.rows_read == rep.rows_used + rep.rows_rejected
    got = {(i.row, i.column): i.message.render("en") for i in rep.issues}
    assert got[(5, "a1")] == '"6" is outside the scale 1-5'
    assert got[(5, "nps")] == '"11" is outside the scale 0-10'
    assert got[(6, None)] == 'response id "r2" already appeared in row 3; this row was not used'
    assert got[(7, None)] == "the response id is empty"
    assert got[(8, "submitted_at")].startswith('"not a date" is not a date/time')
    assert got[(8, "branch")] == '"西安" is not one of the choices (bj, sh)'
    assert got[(8, "a1")] == '"很好吧" is neither a number nor a label of the scale likert5'
    assert got[(8, "a2")] == '"3.5" is not a whole point of the scale 1-5'
    assert got[(9, None)] == "no item of the index was answered"
    assert len(rep.rejected_values) == 6
    zh = {(i.row, i.column): i.message.render("zh") for i in rep.issues}
    assert zh[(5, "a1")] == '"6" 超出量表范围 1-5'
    assert rep.summary("en") == "8 rows read = 5 used + 3 rejected; 6 values rejected"


def test_strict_stops_at_the_first_bad_value(tmp_path):
    p = write(tmp_path, HEADER + "\n".join(ROWS) + "\n", "utf-8")
    with pytest.raises(ManyiError) as exc:
        read_responses(p, INST, strict=True)
    assert str(exc.value) == 'resp.csv row 5, column a1: "6" is outside the scale 1-5'
    assert exc.value.render("zh") == 'resp.csv 第 5 行，a1 列："6" 超出量表范围 1-5'


def test_strict_passes_clean_files(tmp_path):
    p = write(tmp_path, HEADER + "\n".join(ROWS[:3]) + "\n", "utf-8")
    rs = read_responses(p, INST, strict=True)
    assert len(rs) == 3 and not rs.report.issues


def test_xlsx_with_numbers_and_labels(tmp_path):
    df = pd.DataFrame({"response_id": [1001, 1002], "submitted_at": pd.to_datetime(["2026-01-01", "2026-03-01"]),
                       "a1": [4, "很满意"], "a2": [1, 5], "b1": [7, "一般"], "nps": [10, 6], "branch": ["北京", "sh"]})
    p = tmp_path / "r.xlsx"
    df.to_excel(p, index=False)
    rs = read_responses(p, INST)
    assert list(rs.data["response_id"]) == ["1001", "1002"]
    assert list(rs.data["a1"]) == [4, 5] and list(rs.data["a2"]) == [5, 1] and list(rs.data["b1"]) == [7, 4]
    assert any("a1__expected" in w.render("en") for w in rs.report.warnings)


def test_parquet_numeric_fast_path(tmp_path):
    df = pd.DataFrame({"response_id": ["x", "y", "z"], "a1": [1.0, 5.0, 9.0], "a2": [2, 2, 2], "b1": [1, 7, np.nan]})
    p = tmp_path / "r.parquet"
    df.to_parquet(p)
    rs = read_responses(p, INST)
    assert list(rs.data["a1"][:2]) == [1, 5] and np.isnan(rs.data["a1"][2])
    assert [i.column for i in rs.report.issues] == ["a1"]


def test_bad_files_give_clear_errors(tmp_path):
    with pytest.raises(ManyiError, match="nope.csv: file not found"):
        read_responses(tmp_path / "nope.csv", INST)
    with pytest.raises(ManyiError, match="unsupported file type .sps"):
        read_responses(write(tmp_path, "x", "utf-8", "a.sps"), INST)
    with pytest.raises(ManyiError, match="a.sav: cannot read the file"):  # not SPSS inside
        read_responses(write(tmp_path, "x", "utf-8", "a.sav"), INST)
    with pytest.raises(ManyiError, match="none of the instrument's item columns"):
        read_responses(write(tmp_path, "response_id,foo\n1,2\n", "utf-8"), INST)
    with pytest.raises(ManyiError, match="column a1 appears more than once"):
        read_responses(write(tmp_path, "response_id,a1,a1\n1,2,3\n", "utf-8"), INST)
    with pytest.raises(ManyiError, match="neither UTF-8 nor GBK"):
        read_responses(write(tmp_path, "", "utf-8") if False else _binary(tmp_path), INST)


def _binary(tmp_path):
    p = tmp_path / "bin.csv"
    p.write_bytes(bytes([0x81, 0x20, 0xFF, 0xFE, 0x80]) * 10)
    return p


def test_no_response_id_column_numbers_rows(tmp_path):
    rs = read_responses(write(tmp_path, "a1,a2,b1\n4,4,4\n5,5,5\n", "utf-8"), INST)
    assert list(rs.data["response_id"]) == ["2", "3"]
    assert any("no response_id column" in w.render("en") for w in rs.report.warnings)


def test_trailing_blank_lines_are_not_rows(tmp_path):
    rs = read_responses(write(tmp_path, HEADER + ROWS[0] + "\n,,,,,,,,,\n\n", "utf-8"), INST)
    assert rs.report.rows_read == 1 and rs.report.rows_used == 1


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=300))
def test_fuzzed_bytes_give_errors_not_tracebacks(tmp_path, raw):
    p = tmp_path / "fuzz.csv"
    p.write_bytes(raw)
    try:
        rs = read_responses(p, INST)
    except ManyiError as exc:
        assert exc.render("en")
    else:
        assert rs.report.rows_read == rs.report.rows_used + rs.report.rows_rejected


cell = st.one_of(st.sampled_from(["", "NA", "很满意", "Satisfied", "0", "3", "5", "7", "11", "-1", "2.5",
                                  "x", "不适用", "2026-01-01"]), st.text(max_size=6))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.lists(cell, min_size=10, max_size=10), min_size=1, max_size=8))
def test_fuzzed_cells_are_rejected_or_used_never_crash(tmp_path, rows):
    import csv
    import io
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER.strip().split(","))
    w.writerows(rows)
    p = tmp_path / "cells.csv"
    p.write_text(buf.getvalue(), encoding="utf-8")
    try:
        rs = read_responses(p, INST)
    except ManyiError as exc:
        assert exc.render("zh")
        return
    rep = rs.report
    assert rep.rows_read == rep.rows_used + rep.rows_rejected
    for c in ("a1", "a2"):
        v = rs.data[c].dropna()
        assert ((v >= 1) & (v <= 5) & (v == v.round())).all()


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(min_size=1, max_size=200))
def test_fuzzed_xlsx_gives_errors(tmp_path, raw):
    p = tmp_path / "f.xlsx"
    p.write_bytes(raw)
    with pytest.raises(ManyiError):
        read_responses(p, INST)


_inst = load_example("after-sales")
_cells = st.one_of(
    st.integers(-2, 12).map(str), st.sampled_from(["", " 4 ", "NA", "不适用", "nan", "4.0", "3.5", "1e0", "x", "很满意",
                                                     "Satisfied", "比较满意", "beijing", "北京", "Beijing", "西安",
                                                     "inf", "-0", "1_0", "０"]),
    st.text(max_size=6),
)


@settings(max_examples=int(__import__("os").environ.get("MANYI_FUZZ_EXAMPLES", "150")), deadline=None)
@given(st.fixed_dictionaries({c: _cells for c in
                              [*_inst.item_ids, "skill_diagnosis__expected", "skill_diagnosis__importance",
                               "nps", "csat", "ces", "branch", "tier", "comment"]}))
def test_one_record_gets_the_verdicts_of_the_file_reader(record):
    """validate_record (pure Python, for pages and the API) equals validate_frame on one row."""
    from manyi.io.responses import validate_record

    clean, issues = validate_record(record, _inst)
    rs = validate_frame(pd.DataFrame([{"response_id": "r1", **record}]), _inst)
    got = {(c, m.key) for c, _, m in issues}
    want = {(i.column, i.message.key) for i in rs.report.rejected_values}
    assert got == want
    if len(rs.data):
        row = rs.data.iloc[0]
        for col, v in clean.items():
            if col not in rs.data:
                continue
            w = row[col]
            if isinstance(v, float) or isinstance(w, float):
                assert (pd.isna(v) and pd.isna(w)) or v == pytest.approx(float(w)), col
            else:
                assert (v is None and pd.isna(w)) or v == w, col


def test_the_usual_chinese_label_sets_and_full_width_digits_read_alike_in_both_readers():
    """非常满意/满意/一般/不满意/非常不满意 and 很满意/比较满意/… on the built-in five-point
    scale, full-width letters and digits, inner spaces: the file reader and the one-record
    reader give the same points."""
    import pandas as pd

    from manyi.io.instruments import load_example
    from manyi.io.responses import validate_frame, validate_record

    inst = load_example("after-sales")
    item = inst.item_ids[0]
    cases = {"非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "非常不满意": 1, "很满意": 5, "比较满意": 4,
             "不太满意": 2, "很不满意": 1, "ＳＡＴＩＳＦＩＥＤ": 4, "４": 4, "５": 5, " 比较 满意 ": 4}
    df = pd.DataFrame({k: ["4"] * len(cases) for k in inst.item_ids})
    df[item] = list(cases)
    df.insert(0, "response_id", [f"r{j}" for j in range(len(cases))])
    frame = validate_frame(df, inst).data[item].tolist()
    assert frame == [float(v) for v in cases.values()]
    for text, want in cases.items():
        rec = {k: "" for k in inst.item_ids} | {item: text}
        assert validate_record(rec, inst)[0][item] == want, text


WJX_INSTRUMENT = """\
manyi: 1
id: 订舱
version: "1"
title: {zh: 订舱服务满意度调查, en: Booking service survey}
scoring: {points: range, satisfied_at: 70, target_rate: 0.85, min_answered: 0.5}
dimensions:
  - id: 订舱服务
    label: {zh: 订舱服务, en: Booking service}
    weight: 1
    items:
      - {id: 订舱效率, text: {zh: 订舱效率, en: Speed}, scale: likert5, column: "1、您对订舱效率的满意度"}
      - {id: 订舱准确, text: {zh: 订舱准确性, en: Accuracy}, scale: likert5}
questions:
  - {id: 区域, type: choice, role: segment, text: {zh: 区域, en: Region}, choices: [华北, 华南]}
"""


def test_a_wenjuanxing_export_with_chinese_headers_scores_with_a_column_map(tmp_path):
    """A 问卷星 export as it comes (序号, 提交答卷时间, metadata columns, numbered Chinese
    question headers, answers as option texts): ids in Chinese, one header named in the
    instrument (``column:``), the rest by ``--columns``; unmapped columns stay usable."""
    import json

    from typer.testing import CliRunner

    from manyi.cli import app

    inst = tmp_path / "订舱.yaml"
    inst.write_text(WJX_INSTRUMENT, encoding="utf-8")
    export = tmp_path / "问卷星导出.csv"
    export.write_text(
        "序号,提交答卷时间,所用时间,来源,来自IP,1、您对订舱效率的满意度,2、您对订舱准确性的满意度,3、区域\n"
        "1,2026/5/6 10:01:02,120秒,微信,1.2.3.4(上海),非常满意,满意,华北\n"
        "2,2026/5/6 11:00:00,95秒,链接,5.6.7.8(北京),一般,非常满意,华南\n"
        "3,2026/5/7 09:30:00,60秒,微信,9.9.9.9(广州),不满意,很不满意,华南\n"
        "4,2026/5/8 14:00:00,75秒,微信,1.1.1.1(天津),５,4,华北\n",
        encoding="utf-8-sig",
    )
    cmap = tmp_path / "map.csv"
    cmap.write_text("column,id\n序号,response_id\n提交答卷时间,submitted_at\n"
                    "2、您对订舱准确性的满意度,订舱准确\n3、 区域,区域\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["score", "-i", str(inst), str(export), "--columns", str(cmap),
                                 "--by", "区域", "--format", "json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    # points: 5→100, 4→75, 3→50, 2→25, 1→0; index = mean of the two items (equal weights)
    want = {"华北": [(100 + 75) / 2, (100 + 75) / 2], "华南": [(50 + 100) / 2, (25 + 0) / 2]}
    got = {g["keys"]["区域"]: g for g in doc["groups"]}
    for region, idx in want.items():
        assert got[region]["n"] == 2 and got[region]["csi"] == pytest.approx(sum(idx) / 2)
    assert doc["total"]["n"] == 4 and doc["rejected"] == []
    # an unmapped metadata column is a segment like any other
    r = CliRunner().invoke(app, ["score", "-i", str(inst), str(export), "--columns", str(cmap),
                                 "--by", "来源", "--format", "json"])
    assert r.exit_code == 0, r.output
    assert {g["keys"]["来源"]: g["n"] for g in json.loads(r.stdout)["groups"]} == {"微信": 3, "链接": 1}
    # without the map only the instrument's own column: is found, and the reader says what it misses
    r = CliRunner().invoke(app, ["score", "-i", str(inst), str(export), "--lang", "en"])
    assert r.exit_code == 0 and f"column 订舱准确 is not in {export.name}" in r.output
    # YAML maps work too, and a map naming one column twice differently is refused
    ymap = tmp_path / "map.yaml"
    ymap.write_text("序号: response_id\n提交答卷时间: submitted_at\n2、您对订舱准确性的满意度: 订舱准确\n3、区域: 区域\n",
                    encoding="utf-8")
    r = CliRunner().invoke(app, ["score", "-i", str(inst), str(export), "--columns", str(ymap), "--format", "json"])
    assert r.exit_code == 0 and json.loads(r.stdout)["total"]["n"] == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("column,id\n序号,response_id\n序号,q9\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["score", "-i", str(inst), str(export), "--columns", str(bad), "--lang", "en"])
    assert r.exit_code == 2 and "mapped twice" in r.output


TOOL_INSTRUMENT = """\
manyi: 1
id: tools
version: "1"
title: {zh: 服务满意度, en: Service satisfaction}
scoring: {points: range, satisfied_at: 70, target_rate: 0.85, min_answered: 0.5}
dimensions:
  - id: service
    label: {zh: 服务, en: Service}
    items:
      - {id: Q1, text: {zh: 总体, en: Overall}, scale: likert5}
      - {id: Q2_1, text: {zh: 速度, en: Speed}, scale: likert5}
      - {id: Q2_2, text: {zh: 准确, en: Accuracy}, scale: likert5}
questions:
  - {id: Q3, type: nps, text: {zh: 推荐, en: Recommend}}
"""


def _tool_inst():
    from manyi.io.instruments import parse_instrument

    return parse_instrument(TOOL_INSTRUMENT)


def test_a_qualtrics_export_reads_with_no_rejected_rows(tmp_path):
    """Qualtrics' three header rows (names, question texts with a line break inside quotes,
    ImportId JSON) are skipped, ResponseId and RecordedDate become the id and the time, the
    choice texts read on the built-in scale, and a bad value is reported on its file row."""
    meta = ["StartDate", "EndDate", "Status", "IPAddress", "Progress", "Duration (in seconds)", "Finished",
            "RecordedDate", "ResponseId", "DistributionChannel", "UserLanguage"]
    names = meta + ["Q1", "Q2_1", "Q2_2", "Q3"]
    texts = ["Start Date", "End Date", "Response Type", "IP Address", "Progress", "Duration (in seconds)",
             "Finished", "Recorded Date", "Response ID", "Distribution Channel", "User Language",
             '"How satisfied are you\nwith our service?"', "Rate the following - Speed",
             "Rate the following - Accuracy", "How likely are you to recommend us?"]
    imports = ['"{""ImportId"":""' + n + '"",""timeZone"":""America/Denver""}"' for n in names]
    rows = [
        ["2026-05-01 10:00:00", "2026-05-01 10:05:00", "IP Address", "1.2.3.4", "100", "300", "True",
         "2026-05-01 10:05:01", "R_1a", "anonymous", "EN", "Extremely satisfied", "Somewhat satisfied",
         "Neither satisfied nor dissatisfied", "9"],
        ["2026-05-02 11:00:00", "2026-05-02 11:03:00", "IP Address", "5.6.7.8", "100", "180", "True",
         "2026-05-02 11:03:02", "R_2b", "anonymous", "EN", "Somewhat dissatisfied", "Extremely dissatisfied",
         "Somewhat satisfied", "3"],
        ["2026-05-03 09:00:00", "2026-05-03 09:01:00", "IP Address", "9.9.9.9", "100", "60", "True",
         "2026-05-03 09:01:05", "R_3c", "anonymous", "EN", "Very satisfied", "Somewhat satisfied",
         "Great", "10"],
    ]
    text = "\n".join([",".join(names), ",".join(texts), ",".join(imports)] + [",".join(r) for r in rows]) + "\n"
    p = tmp_path / "qualtrics.csv"
    p.write_text(text, encoding="utf-8")
    rs = read_responses(p, _tool_inst())
    assert rs.report.rows_rejected == 0 and len(rs) == 3
    assert list(rs.data["response_id"]) == ["R_1a", "R_2b", "R_3c"]
    assert list(rs.data["Q1"]) == [5, 2, 5] and list(rs.data["Q2_1"]) == [4, 1, 4]
    assert str(rs.data["submitted_at"].iloc[0]).startswith("2026-05-01 10:05:01")
    bad = [(i.row, i.column, i.value) for i in rs.report.issues]
    assert bad == [(6, "Q2_2", "Great")]  # file row 6: three header rows, then the third response
    assert any("qualtrics" in m.render("en") for m in rs.report.warnings)


def test_a_surveymonkey_export_names_matrix_rows_under_their_question(tmp_path):
    """SurveyMonkey's two header rows: a matrix question's text over its first column only,
    the rows below; the combined headers map to ids with a column map."""
    from manyi.io.responses import load_column_map

    head = ["Respondent ID", "Collector ID", "Start Date", "End Date", "IP Address",
            '"Overall, how satisfied are you?"', "Please rate:", "", "How likely are you to recommend us?"]
    sub = ["", "", "", "", "", "Response", "Speed", "Accuracy", "Response"]
    rows = [["11", "900", "05/01/2026 10:00:00 AM", "05/01/2026 10:04:00 AM", "1.2.3.4",
             "Very satisfied", "Somewhat satisfied", "Very dissatisfied", "8"],
            ["12", "900", "05/02/2026 09:00:00 AM", "05/02/2026 09:02:00 AM", "1.2.3.5",
             "Neither satisfied nor dissatisfied", "Very satisfied", "Somewhat dissatisfied", "10"]]
    p = tmp_path / "monkey.csv"
    p.write_text("\n".join(",".join(r) for r in [head, sub, *rows]) + "\n", encoding="utf-8")
    cmap = tmp_path / "m.csv"
    cmap.write_text('column,id\n"Overall, how satisfied are you?",Q1\nPlease rate: - Speed,Q2_1\n'
                    "Please rate: - Accuracy,Q2_2\nHow likely are you to recommend us?,Q3\n", encoding="utf-8")
    rs = read_responses(p, _tool_inst(), columns=load_column_map(cmap), date_format="mdy")
    assert rs.report.rows_rejected == 0 and list(rs.data["response_id"]) == ["11", "12"]
    assert list(rs.data["Q2_1"]) == [4, 5] and list(rs.data["Q2_2"]) == [1, 2] and list(rs.data["Q3"]) == [8, 10]


def test_spss_and_stata_files_read_by_codes_and_map_by_variable_labels(tmp_path):
    """An SPSS file written with value and variable labels (pyreadstat), and a Stata file: the
    codes are read, and a column map may name a column by its variable label."""
    import pandas as pd
    import pyreadstat

    df = pd.DataFrame({"resp": ["a", "b", "c"], "v1": [5.0, 3.0, 1.0], "v2": [4.0, 4.0, 2.0],
                       "Q2_2": [5.0, 1.0, 3.0], "Q3": [9.0, 6.0, 10.0]})
    sav = tmp_path / "survey.sav"
    pyreadstat.write_sav(df, str(sav), column_labels=["Response", "Overall satisfaction", "Speed", "Accuracy",
                                                      "Recommend"],
                         variable_value_labels={"v1": {1.0: "Very dissatisfied", 5.0: "Very satisfied"}})
    cmap = {"resp": "response_id", "Overall satisfaction": "Q1", "Speed": "Q2_1"}
    rs = read_responses(sav, _tool_inst(), columns=cmap)
    assert rs.report.rows_rejected == 0 and list(rs.data["response_id"]) == ["a", "b", "c"]
    assert list(rs.data["Q1"]) == [5, 3, 1] and list(rs.data["Q2_1"]) == [4, 4, 2]
    dta = tmp_path / "survey.dta"
    df.rename(columns={"v1": "Q1", "v2": "Q2_1"}).to_stata(dta, write_index=False)
    rs = read_responses(dta, _tool_inst(), columns={"resp": "response_id"})
    assert rs.report.rows_rejected == 0 and list(rs.data["Q2_2"]) == [5, 1, 3]


def test_an_instrument_inferred_from_a_wenjuanxing_export_scores_it_as_it_is(tmp_path):
    """`manyi instrument infer` on a 问卷星 export: satisfaction columns (labels, full-width
    and plain digits) become likert5 items, 0-10 with 推荐 in its text NPS, a few repeated
    texts a segment, free text an open question; the tool's own columns are left out; the
    draft validates and scores the file (numbers by hand)."""
    import json

    import yaml
    from typer.testing import CliRunner

    from manyi.cli import app

    export = tmp_path / "订舱调查.csv"
    export.write_text(
        "序号,提交答卷时间,所用时间,来源,来自IP,1、您对订舱效率的满意度,2、您对订舱准确性的满意度,"
        "3、您向同事推荐我们的可能性,4、区域,5、其他建议\n"
        "1,2026/5/6 10:01:02,120秒,微信,1.2.3.4(上海),非常满意,满意,9,华北,很好\n"
        "2,2026/5/6 11:00:00,95秒,链接,5.6.7.8(北京),一般,非常满意,7,华南,慢\n"
        "3,2026/5/7 09:30:00,60秒,微信,9.9.9.9(广州),不满意,很不满意,3,华南,太慢了\n"
        "4,2026/5/8 14:00:00,75秒,微信,1.1.1.1(天津),５,4,10,华北,无\n", encoding="utf-8")
    draft = tmp_path / "draft.yaml"
    r = CliRunner().invoke(app, ["instrument", "infer", str(export), "-o", str(draft), "--lang", "en"])
    assert r.exit_code == 0, r.output
    doc = yaml.safe_load(draft.read_text(encoding="utf-8"))
    items = doc["dimensions"][0]["items"]
    assert [(i["id"], i["scale"], i["column"]) for i in items] == [
        ("您对订舱效率的满意度", "likert5", "1、您对订舱效率的满意度"),
        ("您对订舱准确性的满意度", "likert5", "2、您对订舱准确性的满意度")]
    kinds = {q["id"]: q["type"] for q in doc["questions"]}
    assert kinds == {"您向同事推荐我们的可能性": "nps", "区域": "choice", "其他建议": "text"}
    assert CliRunner().invoke(app, ["validate", str(draft)]).exit_code == 0
    r = CliRunner().invoke(app, ["score", "-i", str(draft), str(export), "--by", "区域", "--format", "json"])
    got = {g["keys"]["区域"]: g for g in json.loads(r.stdout)["groups"]}
    assert got["华北"]["csi"] == pytest.approx(87.5) and got["华南"]["csi"] == pytest.approx(43.75)
    assert got["华北"]["nps"] == pytest.approx(100.0) and got["华南"]["nps"] == pytest.approx(-50.0)


def test_title_rows_above_the_headers_are_found_or_named_and_rows_keep_their_numbers(tmp_path):
    """A report-style file: a title and a date line over the headers. The headers are found
    (a note says so), or named with header_row; rejected values keep the file's row numbers;
    a workbook likewise."""
    import pandas as pd

    from manyi.io.responses import read_table

    body = "response_id,a1,a2,a3\n1,4,5,3\n2,9,4,4\n"
    p = tmp_path / "titled.csv"
    p.write_text("2026年客户满意度调查数据,,,\n导出日期：2026-05-01,,,\n" + body, encoding="utf-8")
    rs = read_responses(p, INST)
    assert list(rs.data["response_id"]) == ["1", "2"]
    assert [(i.row, i.column, i.value) for i in rs.report.issues] == [(5, "a1", "9")]
    assert any("look like a title" in m.render("en") for m in rs.report.warnings)
    p2 = tmp_path / "bare-title.csv"  # a title line of one field: pyarrow refuses it, pandas reads past it
    p2.write_text("客户满意度调查\n" + body, encoding="utf-8")
    assert [(i.row, i.column) for i in read_responses(p2, INST).report.issues] == [(4, "a1")]
    assert list(read_table(p, header_row=3).columns) == ["response_id", "a1", "a2", "a3"]
    with pytest.raises(ManyiError, match="--header-row 40"):
        read_table(p, header_row=40)
    book = tmp_path / "titled.xlsx"
    rows = [["2026年客户满意度调查数据", None, None, None], ["response_id", "a1", "a2", "a3"],
            [1, 4, 5, 3], [2, 9, 4, 4]]
    pd.DataFrame(rows).to_excel(book, index=False, header=False)
    rs = read_responses(book, INST)
    assert list(rs.data["response_id"]) == ["1", "2"]
    assert [(i.row, i.column, i.value) for i in rs.report.issues] == [(4, "a1", "9")]


def test_a_long_read_reports_its_progress_to_an_installed_reporter_only(tmp_path):
    """The reader tells how far it has got (bytes read, columns checked) to a reporter the
    front end installs (the command line: a Rich bar on terminals); without one, nothing."""
    from manyi.io.progress import reporting

    p = write(tmp_path, "response_id,a1,a2,a3\n1,4,5,3\n2,3,4,4\n", "utf-8")
    seen = []
    with reporting(lambda stage, done, total, unit: seen.append((stage, done, total, unit))):
        read_responses(p, INST)
    size = p.stat().st_size
    assert seen[0] == ("progress.read", 0, size, "bytes") and ("progress.read", size, size, "bytes") in seen
    checks = [s for s in seen if s[0] == "progress.check"]
    assert checks[-1][1] == checks[-1][2] == len(INST.items) + len(INST.questions)
    assert [c[1] for c in checks] == sorted(c[1] for c in checks)  # never backwards
    seen.clear()
    read_responses(p, INST)
    assert seen == []


def test_an_spss_file_with_value_labels_round_trips_through_manyi_export(tmp_path):
    """Read an SPSS file, export the checked responses as .sav: the codes, the variable labels
    (question texts in the chosen language) and the value labels (the scale's) are there, and
    reading the export again gives the same data; CSV with --labels shows texts and labels."""
    import pandas as pd
    import pyreadstat
    from typer.testing import CliRunner

    from manyi.cli import app

    inst_file = tmp_path / "tools.yaml"
    inst_file.write_text(TOOL_INSTRUMENT, encoding="utf-8")
    df = pd.DataFrame({"response_id": ["a", "b", "c"], "Q1": [5.0, 3.0, 1.0], "Q2_1": [4.0, 4.0, 2.0],
                       "Q2_2": [5.0, 1.0, 3.0], "Q3": [9.0, 6.0, 10.0], "region": ["north", "south", "north"]})
    sav = tmp_path / "in.sav"
    pyreadstat.write_sav(df, str(sav), variable_value_labels={"Q1": {1.0: "bad", 5.0: "good"}})
    out = tmp_path / "out.sav"
    r = CliRunner().invoke(app, ["export", "-i", str(inst_file), str(sav), "-o", str(out), "--lang", "zh"])
    assert r.exit_code == 0, r.output
    back, meta = pyreadstat.read_sav(str(out), apply_value_formats=False)
    assert list(back["response_id"]) == ["a", "b", "c"] and list(back["Q2_2"]) == [5.0, 1.0, 3.0]
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["Q1"] == "总体" and labels["Q3"] == "推荐"
    assert meta.variable_value_labels["Q1"][5.0] == "很满意" and meta.variable_value_labels["Q1"][1.0] == "很不满意"
    again = read_responses(out, _tool_inst())
    first = read_responses(sav, _tool_inst())
    for c in ("response_id", "Q1", "Q2_1", "Q2_2", "Q3", "region"):
        assert list(again.data[c]) == list(first.data[c])
    csv = tmp_path / "out.csv"
    r = CliRunner().invoke(app, ["export", "-i", str(inst_file), str(sav), "-o", str(csv), "--labels", "--lang", "en"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(csv, encoding="utf-8-sig", dtype=str)
    assert list(table.columns[:3]) == ["response_id", "Overall", "Speed"]
    assert list(table["Overall"]) == ["Very satisfied", "Neutral", "Very dissatisfied"]
    pq = tmp_path / "out.parquet"
    assert CliRunner().invoke(app, ["export", "-i", str(inst_file), str(sav), "-o", str(pq)]).exit_code == 0
    assert list(pd.read_parquet(pq)["Q3"]) == [9.0, 6.0, 10.0]


@pytest.mark.parametrize(("header", "source", "rid", "when"), [
    ("序号,提交答卷时间,所用时间,来源,来自IP,Q1,Q2_1,Q2_2,Q3", "wjx", "序号", "提交答卷时间"),
    ("编号,开始答题时间,结束答题时间,答题时长,Q1,Q2_1,Q2_2,Q3", "tencent", "编号", "结束答题时间"),
    ("id,submitdate,lastpage,startlanguage,seed,Q1,Q2_1,Q2_2,Q3", "limesurvey", "id", "submitdate"),
    ("Response ID,Timestamp,Finished,Q1,Q2_1,Q2_2,Q3", "formbricks", "Response ID", "Timestamp"),
])
def test_each_tool_is_told_by_its_headers_and_its_id_and_time_columns_are_used(tmp_path, header, source, rid, when):
    cols = header.split(",")
    row = {c: "" for c in cols}
    row.update({rid: "77", when: "2026-05-06 10:01:02", "Q1": "5", "Q2_1": "4", "Q2_2": "3", "Q3": "9"})
    p = tmp_path / f"{source}.csv"
    p.write_text(header + "\n" + ",".join(row[c] or "x" for c in cols) + "\n", encoding="utf-8")
    rs = read_responses(p, _tool_inst())
    assert rs.report.rows_rejected == 0 and list(rs.data["response_id"]) == ["77"]
    assert str(rs.data["submitted_at"].iloc[0]).startswith("2026-05-06 10:01:02")
    assert any(source in m.render("en") for m in rs.report.warnings)
    plain = read_responses(p, _tool_inst(), source="plain")  # forced: nothing renamed
    assert list(plain.data["response_id"]) == ["2"] and "submitted_at" not in plain.data.columns


def test_infer_reads_manyis_own_layout_pairs_and_stray_answers(tmp_path):
    """An item's x__expected and x__importance columns become its expectation/importance
    flags (not items of their own); one stray answer in 400 ("很好吧") leaves a column an
    item; the draft validates with the counts of the instrument that made the data."""
    import yaml

    from manyi import datasets
    from manyi.io.infer import infer

    inst = load_example("after-sales")
    df = datasets.after_sales(n=400, seed=5, clean=True)
    df["att_courtesy"] = df["att_courtesy"].astype(object)
    df.loc[7, "att_courtesy"] = "很好吧"
    f = tmp_path / "own.csv"
    df.to_csv(f, index=False)
    doc = yaml.safe_load(infer(f))
    items = {i["id"]: i for i in doc["dimensions"][0]["items"]}
    assert not [i for i in items if "expecte" in i or "importance" in i]
    assert {i for i, it in items.items() if it.get("expectation")} == {
        i.id for i in inst.items if i.expectation}
    assert {i for i, it in items.items() if it.get("importance")} == {
        i.id for i in inst.items if i.importance}
    assert items["att_courtesy"]["scale"] == "likert5"
    parse_instrument(yaml.safe_dump(doc, allow_unicode=True), "draft.yaml")  # it validates
