"""Every mistake a user can make gets a clear answer: an error (exit 2, what, where, how to fix)
or a visible warning — never a traceback, a hang or a number resting on a silent guess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.i18n import MESSAGES, ManyiError
from manyi.io.instruments import example_path, load_example, parse_instrument
from manyi.io.responses import read_responses, validate_frame

runner = CliRunner()
INST = str(example_path("after-sales"))


def manyi(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """The installed command line in its own process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "manyi.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> pd.DataFrame:
    return datasets.after_sales(n=80, seed=3, clean=True)


def write(df: pd.DataFrame, path: Path) -> Path:
    df.to_csv(path, index=False)
    return path


# --- dates -----------------------------------------------------------------------------------

def test_day_first_dates_are_decided_for_the_whole_column(clean, tmp_path):
    d = clean.head(4).copy()
    d["submitted_at"] = ["15/02/2026", "03/02/2026", "28/02/2026", "01/03/2026"]
    rs = read_responses(write(d, tmp_path / "d.csv"), load_example("after-sales"))
    got = rs.data["submitted_at"].dt.strftime("%Y-%m-%d").tolist()
    assert got == ["2026-02-15", "2026-02-03", "2026-02-28", "2026-03-01"]  # 03/02 is 3 February here


def test_ambiguous_dates_are_an_error_unless_a_format_decides(clean, tmp_path):
    d = clean.head(4).copy()
    d["submitted_at"] = ["03/02/2026", "04/05/2026", "03/02/2026", "07/08/2026"]
    f = write(d, tmp_path / "a.csv")
    res = runner.invoke(app, ["score", "-i", INST, str(f), "--period", "month"])
    assert res.exit_code == 2 and "03/02/2026" in res.stderr and "--date-format dmy or mdy" in res.stderr
    res = runner.invoke(app, ["score", "-i", INST, str(f), "--period", "month", "--date-format", "mdy",
                              "-f", "json"])
    assert res.exit_code == 0
    import json

    periods = [g["keys"]["period"] for g in json.loads(res.stdout)["groups"]]
    assert periods == ["2026-03", "2026-04", "2026-07"]
    rs = read_responses(f, load_example("after-sales"), date_format="dmy")
    assert rs.data["submitted_at"].dt.month.tolist() == [2, 5, 2, 8]
    d["submitted_at"] = ["15/02/2026", "02/15/2026", "01/01/2026", "01/01/2026"]
    res = runner.invoke(app, ["score", "-i", INST, str(write(d, tmp_path / "b.csv"))])
    assert res.exit_code == 2 and "both day/month" in res.stderr


# --- instruments -----------------------------------------------------------------------------

BASE = """manyi: 1
id: t
version: "1"
title: {zh: 测, en: T}
scoring: {points: range, satisfied_at: SAT, target_rate: TGT}
dimensions:
  - id: a
    label: {zh: 甲, en: A}
    items:
      - {id: a1, text: {zh: a, en: a}, scale: likert5, weight: 3}
      - {id: a2, text: {zh: b, en: b}, scale: likert5, weight: 2}
"""


def test_thresholds_and_targets_on_the_wrong_scale_are_errors():
    with pytest.raises(ManyiError, match="satisfied_at 0.7 looks like a share.*write 70"):
        parse_instrument(BASE.replace("SAT", "0.7").replace("TGT", "0.85"))
    with pytest.raises(ManyiError, match="target_rate 85 looks like a percentage.*write 0.85"):
        parse_instrument(BASE.replace("SAT", "70").replace("TGT", "85"))
    inst = parse_instrument(BASE.replace("SAT", "70").replace("TGT", "0.85"))
    assert any("sum to 5" in n.render("en") and "rescaled" in n.render("en") for n in inst.notes)
    assert "和为 1" in inst.notes[0].render("zh")


def test_duplicate_keys_name_both_lines(tmp_path):
    f = tmp_path / "dup.yaml"
    f.write_text(BASE.replace("SAT", "70").replace("TGT", "0.85") + "scoring: {satisfied_at: 90}\n", encoding="utf-8")
    res = runner.invoke(app, ["validate", str(f)])
    assert res.exit_code == 2 and 'dup.yaml line 12: the key "scoring" is given twice (also on line 5)' in res.stderr


def test_billion_laughs_is_refused_quickly(tmp_path):
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    f = tmp_path / "lol.yaml"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = manyi("validate", str(f), timeout=20)
    assert res.returncode == 2 and "expands to more than" in res.stderr and "Traceback" not in res.stderr
    m = tmp_path / "m.csv"
    m.write_text("CUSA1\n1\n", encoding="utf-8")
    res = manyi("model", "fit", "--model", str(f), str(m), timeout=20)
    assert res.returncode == 2 and "expands to more than" in res.stderr


# --- response files --------------------------------------------------------------------------

def test_min_answered_drops_are_in_the_report(clean):
    d = clean.head(20).copy()
    inst = load_example("after-sales")
    only_one = [i for i in inst.item_ids if i != "skill_diagnosis"]
    d.loc[d.index[0], only_one] = ""  # one item answered: far below min_answered
    rs = validate_frame(d, inst)
    assert rs.report.rows_used == 19 and rs.report.rows_rejected == 1
    assert "too few items answered" in rs.report.issues[0].message.render("en")
    import manyi

    assert manyi.score(rs).total["n"].iloc[0] == 19  # n equals "used"


def test_weights_column_of_text_negative_or_missing(clean, tmp_path):
    d = clean.copy()
    d["region"] = "north"
    res = runner.invoke(app, ["score", "-i", INST, str(write(d, tmp_path / "r.csv")), "--weights", "region"])
    assert res.exit_code == 2 and "must hold numbers" in res.stderr and "north" in res.stderr
    d["w"] = 1.0
    d.loc[d.index[3], "w"] = -2
    res = runner.invoke(app, ["score", "-i", INST, str(write(d, tmp_path / "n.csv")), "--weights", "w"])
    assert res.exit_code == 2 and "negative" in res.stderr and d["response_id"].iloc[3] in res.stderr
    d.loc[d.index[3], "w"] = np.nan
    res = runner.invoke(app, ["score", "-i", INST, str(write(d, tmp_path / "m.csv")), "--weights", "w"])
    assert res.exit_code == 0 and "1 response(s) have no positive weight" in res.stderr
    assert d["response_id"].iloc[3] in res.stderr


def test_header_only_file_and_empty_results(clean, tmp_path):
    f = write(clean.iloc[:0], tmp_path / "h.csv")
    for fmt in ("table", "json", "csv"):
        res = runner.invoke(app, ["score", "-i", INST, str(f), "-f", fmt])
        assert res.exit_code == 2 and "no responses to score" in res.stderr
    res = runner.invoke(app, ["analyze", "ipa", "-i", INST, str(f)])
    assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit)


def test_xlsx_cover_sheet_is_skipped_and_named(clean, tmp_path):
    f = tmp_path / "book.xlsx"
    with pd.ExcelWriter(f) as xw:
        pd.DataFrame({"客户满意度调查": ["2026 年度报告", "质量部"]}).to_excel(xw, sheet_name="封面", index=False)
        clean.to_excel(xw, sheet_name="答卷", index=False)
    res = runner.invoke(app, ["score", "-i", INST, str(f)])
    assert res.exit_code == 0 and 'read the sheet "答卷"' in res.stderr
    res = runner.invoke(app, ["score", "-i", INST, str(f), "--sheet", "封面"])
    assert res.exit_code == 2
    res = runner.invoke(app, ["score", "-i", INST, str(f), "--sheet", "nope"])
    assert res.exit_code == 2 and 'no sheet "nope"' in res.stderr


def test_one_gbk_line_in_a_utf8_file_is_reported(clean, tmp_path):
    f = write(clean.head(30), tmp_path / "u.csv")
    lines = f.read_bytes().split(b"\n")
    lines[7] = lines[7].decode("utf-8").encode("gbk")
    f.write_bytes(b"\n".join(lines))
    rs = read_responses(f, load_example("after-sales"))
    notes = [w.render("en") for w in rs.report.warnings]
    assert any("read as UTF-8, but 1 line(s)" in n and "lines 8" in n for n in notes)
    assert rs.report.rows_read == 30  # the other lines are read as they are
    assert rs.data["branch"].notna().sum() >= 29


def test_huge_bad_cell_is_cut_in_messages(clean, tmp_path):
    d = clean.head(10).copy()
    d["nps"] = d["nps"].astype(object)
    d.loc[d.index[2], "nps"] = "x" * 2_000_000
    res = runner.invoke(app, ["score", "-i", INST, str(write(d, tmp_path / "x.csv"))])
    assert res.exit_code == 0 and "x" * 190 in res.stderr and "x" * 300 not in res.stderr


# --- analyses and models ---------------------------------------------------------------------

def test_small_groups_and_collinear_drivers_give_messages(clean, tmp_path):
    f = write(clean.head(40), tmp_path / "s.csv")
    res = runner.invoke(app, ["analyze", "reliability", "-i", INST, str(f), "--by", "branch"])
    assert res.exception is None or isinstance(res.exception, SystemExit)
    assert res.exit_code in (0, 2) and "left out" in res.stderr
    res = runner.invoke(app, ["analyze", "drivers", "-i", INST, str(f), "--drivers", "items"])
    assert res.exception is None or isinstance(res.exception, SystemExit)
    d = clean.copy()
    d["att_courtesy"] = d["att_respect"]  # a duplicated item: perfectly collinear
    res = runner.invoke(app, ["analyze", "drivers", "-i", INST, str(write(d, tmp_path / "c.csv")),
                              "--drivers", "items"])
    assert res.exit_code == 2 and "collinear" in res.stderr


def test_ipa_leaves_items_without_data_out_of_the_quadrants(clean, tmp_path):
    d = clean.copy()
    d["parts_price"] = ""
    res = runner.invoke(app, ["analyze", "ipa", "-i", INST, str(write(d, tmp_path / "i.csv")), "-f", "json"])
    assert res.exit_code == 0
    import json

    items = {r["item"]: r for r in json.loads(res.stdout)["tables"]["items"]}
    assert items["parts_price"]["quadrant"] == "no_data" and items["parts_price"]["performance"] is None
    assert "not placed in a quadrant" in res.stderr


def test_pls_on_tiny_samples_is_refused_or_warned(tmp_path):
    e = str(example_path("ecsi"))
    res = runner.invoke(app, ["model", "fit", "--model", e, str(write(datasets.ecsi(n=3, seed=1), tmp_path / "3.csv")),
                              "--bootstrap", "50"])
    assert res.exit_code == 2 and "too few" in res.stderr and "Barclay" in res.stderr
    res = runner.invoke(app, ["model", "fit", "--model", e, str(write(datasets.ecsi(n=20, seed=1), tmp_path / "20.csv")),
                              "--bootstrap", "50"])
    assert res.exit_code == 0 and "10-times rule" in res.stderr and "below the number of items" in res.stderr


# --- the command line itself -----------------------------------------------------------------

def test_version_lang_format_and_demo_guard(clean, tmp_path):
    from manyi import __version__

    res = manyi("--version")
    assert res.returncode == 0 and res.stdout.strip() == f"manyi {__version__}"
    f = write(clean, tmp_path / "c.csv")
    res = runner.invoke(app, ["score", "-i", INST, str(f), "--lang", "fr"])
    assert res.exit_code == 2 and 'unknown language "fr"' in res.stderr
    assert runner.invoke(app, ["score", "-i", INST, str(f), "--lang", "zh-CN"]).exit_code == 0
    x = tmp_path / "t.xlsx"
    res = runner.invoke(app, ["score", "-i", INST, str(f), "-o", str(x)])
    assert res.exit_code == 0 and x.read_bytes()[:2] == b"PK"  # a real workbook
    res = runner.invoke(app, ["score", "-i", INST, str(f), "-f", "csv", "-o", str(tmp_path / "t2.xlsx")])
    assert res.exit_code == 2 and "does not match the output file" in res.stderr
    j = tmp_path / "a.json"
    res = runner.invoke(app, ["analyze", "ipa", "-i", INST, str(f), "-o", str(j)])
    assert res.exit_code == 0 and j.read_text(encoding="utf-8").lstrip().startswith("{")
    demo = tmp_path / "demo"
    demo.mkdir()
    (demo / "mine.txt").write_text("keep me", encoding="utf-8")
    res = runner.invoke(app, ["demo", str(demo)])
    assert res.exit_code == 2 and "--force" in res.stderr and (demo / "mine.txt").exists()


def test_an_internal_error_is_a_short_message_and_debug_shows_it(monkeypatch, capsys):
    from manyi import cli

    def boom(*a, **k):
        raise ZeroDivisionError("x")

    monkeypatch.setattr("manyi.services.scoring.score_file", boom)
    with pytest.raises(SystemExit) as exc:
        cli.main(["score", "-i", INST, "whatever.csv"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and "internal error (ZeroDivisionError: x)" in err and "--debug" in err
    assert "Traceback" not in err
    with pytest.raises(ZeroDivisionError):
        cli.main(["--debug", "score", "-i", INST, "whatever.csv"])


def test_weight_margins_and_sample_options(clean, tmp_path):
    f = write(clean, tmp_path / "r.csv")
    for cell, msg in (("abc", '"abc" is not a share'), ("-5", '"-5" is not a share')):
        m = tmp_path / "m.csv"
        m.write_text(f"variable,category,share\ntier,vip,{cell}\ntier,regular,0.7\n", encoding="utf-8")
        res = runner.invoke(app, ["weight", str(f), "-i", INST, "--margins", str(m), "-o", str(tmp_path / "w.csv")])
        assert res.exit_code == 2 and msg in res.stderr
    res = runner.invoke(app, ["sample", str(f), "--moe", "5", "--rate", "0.5"])
    assert res.exit_code == 2 and "moe/rate" not in res.stderr and "0.05 for ±5 points" in res.stderr


def test_every_message_exists_in_both_languages_with_the_same_fields():
    import string

    fmt = string.Formatter()
    for key, entry in MESSAGES.items():
        assert set(entry) == {"zh", "en"}, key
        fields = [{f for _, f, _, _ in fmt.parse(entry[lang]) if f} for lang in ("zh", "en")]
        assert {f.split(":")[0] for f in fields[0]} == {f.split(":")[0] for f in fields[1]}, key


def test_unwritable_outputs_and_bad_factor_counts_are_messages(clean, tmp_path):
    f = write(clean, tmp_path / "c.csv")
    for extra in (["-o", "/nonexistent/dir/x.json"], ["--respondents", "/nonexistent/dir/x.csv"]):
        res = manyi("score", "-i", INST, str(f), *extra)
        assert res.returncode == 2 and "Traceback" not in res.stderr and "/nonexistent/dir" in res.stderr
    res = runner.invoke(app, ["analyze", "reliability", "-i", INST, str(f), "--factors", "99"])
    assert res.exit_code == 2 and "--factors 99: choose from 1 to 14" in res.stderr
    res = runner.invoke(app, ["validate", str(tmp_path)])
    assert res.exit_code == 2 and "is a folder" in res.stderr


@pytest.mark.parametrize(
    ("argv", "zh", "en"),
    [
        (["sample"], "缺少参数 'customers'", "Missing argument 'customers'"),
        (["score", "--instrumnt", "x"], "没有选项 --instrumnt（是否想用 --instrument", "No such option: --instrumnt"),
        (["sample", "c.csv", "--n", "abc"], "'--n' 的值无效：", "Invalid value for '--n'"),
    ],
)
def test_a_mistake_in_the_command_line_is_told_in_the_language_asked_for(argv, zh, en, capsys):
    """Click's usage errors (missing argument, unknown option, a value of the wrong type):
    exit 2, the usage line and where to find help, in Chinese with --lang zh."""
    from manyi import cli

    for lang, expect in (("zh", zh), ("en", en)):
        with pytest.raises(SystemExit) as exc:
            cli.main([*argv, "--lang", lang])
        err = capsys.readouterr().err
        assert exc.value.code == 2 and expect in err, err
        assert "Traceback" not in err
        if lang == "zh":
            assert err.startswith(f"用法：manyi {argv[0]}") and "错误：" in err
            assert f"查看帮助：manyi {argv[0]} --help" in err


def test_the_command_line_exits_as_before(capsys, tmp_path):
    """Help, version and a finished command exit 0; a missing instrument is one message."""
    from manyi import cli

    for argv in (["--version"], ["score", "--help"], ["validate", INST]):
        with pytest.raises(SystemExit) as exc:
            cli.main(argv)
        assert exc.value.code == 0, argv
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        cli.main(["validate", str(tmp_path / "x.yaml"), "--lang", "zh"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "x.yaml 中有 1 处错误" in err and "x.yaml：找不到文件" in err
