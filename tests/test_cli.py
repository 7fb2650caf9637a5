"""The command line as a user runs it: exit codes, formats, files, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from manyi.cli import app
from manyi.io.instruments import example_path

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("demo")
    res = runner.invoke(app, ["demo", str(d)])
    assert res.exit_code == 0, res.output
    # the demo opens a campaign in the store and prints a survey link that works
    link = [ln.strip() for ln in res.stdout.splitlines() if "/s/" in ln][0]
    from fastapi.testclient import TestClient

    from manyi.web.app import create_app

    page = TestClient(create_app()).get(link.split("8000", 1)[1] + "?lang=zh")
    assert page.status_code == 200 and "售后服务满意度调查" in page.text
    return d


def test_validate_ok_and_errors(tmp_path):
    res = runner.invoke(app, ["validate", str(example_path("after-sales"))])
    assert res.exit_code == 0
    assert "OK" in res.stdout and "after-sales v2026.1, 5 dimensions, 15 items" in res.stdout
    bad = tmp_path / "after-sales.yaml"
    bad.write_text(example_path("b2b-shipping").read_text(encoding="utf-8").replace(
        "weight: 0.25", "weight: 0.20").replace("id: doc_accuracy, weight: 0.05, scale: sat5",
                                                "id: doc_accuracy, weight: 0.05, scale: sat6"), encoding="utf-8")
    res = runner.invoke(app, ["validate", str(bad)])
    assert res.exit_code == 2
    assert "after-sales.yaml line 24, dimensions: weights of the dimensions sum to 0.95, expected 1" in res.stderr
    assert 'dimensions[0].items[1].scale: unknown scale "sat6"' in res.stderr
    assert "Traceback" not in res.output
    res = runner.invoke(app, ["validate", str(bad), "--lang", "zh"])
    assert "各维度权重之和为 0.95，应为 1" in res.stderr


def test_demo_writes_files_and_prints_scorecard(demo_dir):
    for f in ["instruments/servqual.yaml", "instruments/b2b-shipping.yaml", "instruments/after-sales.yaml",
              "after-sales-responses.csv", "servqual-responses.csv", "after-sales-respondents.csv",
              "after-sales-scorecard.xlsx"]:
        assert (demo_dir / f).exists(), f
    xl = pd.read_excel(demo_dir / "after-sales-scorecard.xlsx", sheet_name=None, engine="openpyxl")
    assert {"groups", "gaps", "rejected", "labels"} <= set(xl)


def test_score_json_shape(demo_dir):
    inst = demo_dir / "instruments" / "after-sales.yaml"
    data = demo_dir / "after-sales-responses.csv"
    res = runner.invoke(app, ["score", "--instrument", str(inst), str(data), "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.stdout)
    assert d["instrument"] == "after-sales"
    assert len(d["groups"]) == 1 and d["groups"][0]["keys"] == {}
    g = d["groups"][0]
    for k, typ in [("n", int), ("csi", float), ("satisfied_rate", float), ("target_rate", float),
                   ("meets_target", bool), ("nps", float), ("small_sample", bool)]:
        assert isinstance(g[k], typ), k
    assert len(g["csi_ci"]) == 2 and g["csi_ci"][0] < g["csi"] < g["csi_ci"][1]
    assert len(g["satisfied_rate_ci"]) == 2
    assert set(g["dimensions"]) == {"skill", "attitude", "timeliness", "parts", "overall_service"}
    assert d["rejected"] and all(set(r) >= {"row", "column", "reason"} for r in d["rejected"])
    assert any(r["column"] is None for r in d["rejected"])


def test_score_by_period_csv_and_respondents(demo_dir, tmp_path):
    inst = demo_dir / "instruments" / "after-sales.yaml"
    data = demo_dir / "after-sales-responses.csv"
    out = tmp_path / "groups.csv"
    resp = tmp_path / "resp.csv"
    res = runner.invoke(app, ["score", "-i", str(inst), str(data), "--by", "branch,tier", "--period", "month",
                              "--format", "csv", "--output", str(out), "--respondents", str(resp)])
    assert res.exit_code == 0, res.output
    g = pd.read_csv(out, encoding="utf-8-sig")
    assert {"branch", "tier", "period", "n", "csi", "satisfied_rate", "nps"} <= set(g.columns)
    body = g[g["period"].notna()]
    assert body["period"].str.match(r"^\d{4}-\d{2}$").all()
    assert len(body) > 5 * 2 * 12 - 5  # nearly every branch × tier × month cell
    r = pd.read_csv(resp, encoding="utf-8-sig")
    assert {"response_id", "csi", "satisfied", "skill", "attitude", "timeliness", "parts",
            "overall_service"} <= set(r.columns)
    assert g.loc[g["period"].isna() & g["branch"].isna(), "n"].iloc[0] == r["csi"].notna().sum()


def test_score_table_and_xlsx(demo_dir, tmp_path):
    inst = demo_dir / "instruments" / "after-sales.yaml"
    data = demo_dir / "after-sales-responses.csv"
    res = runner.invoke(app, ["score", "-i", str(inst), str(data), "--by", "branch", "--lang", "zh"])
    assert res.exit_code == 0
    assert "满意度记分卡" in res.stdout and "北京" in res.stdout and "全部" in res.stdout
    assert "数据校验报告" in res.stderr
    x = tmp_path / "s.xlsx"
    res = runner.invoke(app, ["score", "-i", str(inst), str(data), "--format", "xlsx", "-o", str(x)])
    assert res.exit_code == 0 and x.exists()
    book = pd.read_excel(x, sheet_name=None, engine="openpyxl")
    g, gaps = book["groups"], book["gaps"]
    assert {"csat_ci_low", "csat_ci_high", "ces_ci_low", "ces_n", "dim_skill_ci_low", "dim_skill_n",
            "t2b_skill_diagnosis_ci_high", "satisfied_weighted"} <= set(g.columns)
    assert (g["dim_skill_ci_low"] < g["dim_skill"]).all() and (g["dim_skill"] < g["dim_skill_ci_high"]).all()
    assert {"gap_ci_low", "gap_ci_high", "ratio_ci_low", "ratio_ci_high"} <= set(gaps.columns)
    res = runner.invoke(app, ["score", "-i", str(inst), str(data), "--format", "xlsx"])
    assert res.exit_code == 2 and "--format xlsx needs --output" in res.stderr


def test_user_errors_exit_2_without_traceback(demo_dir, tmp_path):
    inst = demo_dir / "instruments" / "after-sales.yaml"
    cases = [
        (["score", "-i", str(inst), str(tmp_path / "missing.csv")], "missing.csv: file not found"),
        (["score", "-i", str(tmp_path / "nope.yaml"), str(demo_dir / "after-sales-responses.csv")], "file not found"),
        (["score", "-i", str(inst), str(demo_dir / "after-sales-responses.csv"), "--by", "region"],
         "cannot group by region"),
        (["score", "-i", str(inst), str(demo_dir / "after-sales-responses.csv"), "--strict"],
         "after-sales-responses.csv row "),
        (["score", "-i", str(inst), str(demo_dir / "after-sales-responses.csv"), "--format", "pdf"],
         'unknown format "pdf"'),
    ]
    for args, msg in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert msg in res.stderr, (msg, res.stderr)
        assert "Traceback" not in res.output


def test_console_script_runs(tmp_path):
    exe = Path(sys.executable).parent / "manyi"
    env = dict(os.environ, MANYI_LANG="zh")
    res = subprocess.run([str(exe), "validate", str(example_path("servqual"))], capture_output=True, text=True,
                         env=env, check=False)
    assert res.returncode == 0 and "22 个题目" in res.stdout


def test_readme_validate_example_is_true():
    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    res = runner.invoke(app, ["validate", str(root / "docs" / "examples" / "broken.yaml")])
    assert res.exit_code == 2
    for line in res.stderr.strip().splitlines():
        assert line in readme, line


def test_public_names_resolve_lazily():
    import manyi

    assert set(manyi.__all__) == set(manyi._EXPORTS)
    for name in manyi.__all__:
        assert getattr(manyi, name) is not None
    with pytest.raises(AttributeError):
        manyi.nothing_here  # noqa: B018


def test_every_command_and_option_is_explained_in_both_languages():
    """The help of every command, option and argument has its English and its Chinese text
    (the help screens are read before any --lang applies, so they carry both)."""
    import re

    import typer

    cjk, latin = re.compile("[\u4e00-\u9fff]"), re.compile("[A-Za-z]{3}")
    missing, seen = [], 0

    def walk(cmd, path):
        nonlocal seen
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])
        texts = [(" ".join(path), cmd.help or "")]
        texts += [(f"{' '.join(path)} {p.name}", getattr(p, "help", None) or "")
                  for p in cmd.params if p.name != "help"]
        for where, text in texts:
            seen += 1
            if not (cjk.search(text) and latin.search(text)):
                missing.append(f"{where}: {text!r}")
        for p in cmd.params:  # 0 meaning "not given" is not shown as a default
            d = getattr(p, "default", None)
            if (not isinstance(d, bool) and d in (0, 0.0) and p.show_default is not False
                    and "(0" not in (p.help or "") and "（0" not in (p.help or "")):
                missing.append(f"{' '.join(path)} {p.name}: shows [default: 0]")

    walk(typer.main.get_command(app), ["manyi"])
    assert seen > 200 and not missing, "\n".join(missing)
    # a default the help itself explains is not shown again as a contradicting "[default: 0]"
    res = runner.invoke(app, ["score", "--help"], env={"COLUMNS": "200"})
    line = next(ln for ln in res.output.splitlines() if "--header-row" in ln)
    assert "(default: found)" in line and "[default: 0]" not in line


def test_the_p_chart_names_its_share_not_a_p_value(demo_dir):
    """In the p-chart the column p is the dissatisfied share; in Chinese "p 值" means a
    p-value, which the SERVQUAL table's p still is."""
    inst = demo_dir / "instruments" / "after-sales.yaml"
    data = demo_dir / "after-sales-responses.csv"
    env = {"COLUMNS": "200"}
    zh = runner.invoke(app, ["analyze", "spc", "-i", str(inst), str(data), "--period", "month",
                             "--lang", "zh"], env=env)
    assert zh.exit_code == 0, zh.output
    head = next(ln for ln in zh.stdout.splitlines() if "不满意数" in ln)
    assert "不满意率 p" in head and "p 值" not in head
    en = runner.invoke(app, ["analyze", "spc", "-i", str(inst), str(data), "--period", "month"],
                       env=env)
    assert "p (dissatisfied share)" in en.stdout
    sq = runner.invoke(app, ["analyze", "servqual", "-i", str(inst), str(data), "--lang", "zh"],
                       env=env)
    assert "p 值" in sq.stdout


def test_tables_on_the_terminal_name_their_codes_and_json_keeps_them(demo_dir):
    """Dimensions, outcomes and the catalogue's codes read as words on the terminal, in the
    language asked for; JSON keeps the codes a program reads."""
    inst = demo_dir / "instruments" / "after-sales.yaml"
    data = demo_dir / "after-sales-responses.csv"
    env = {"COLUMNS": "200"}
    zh = runner.invoke(app, ["analyze", "servqual", "-i", str(inst), str(data), "--lang", "zh"],
                       env=env).stdout
    assert "SERVQUAL 差距（不加权）" in zh and "servqual_unweighted" not in zh
    assert "│ 服务技能" in zh and "│ skill " not in zh
    en = runner.invoke(app, ["analyze", "compare", "-i", str(inst), str(data), "--by", "branch"],
                       env=env).stdout
    across = en[en.index("Across all groups"):]
    assert "│ Index " in across and "│ Service skill " in across and "│ skill " not in across
    assert "│ Beijing " in en and "│ beijing " not in en  # compare's groups: the choices' labels
    ipa = runner.invoke(app, ["analyze", "ipa", "-i", str(inst), str(data)], env=env).stdout
    assert "stated by respondents" in ipa
    doc = json.loads(runner.invoke(app, ["analyze", "servqual", "-i", str(inst), str(data),
                                         "--format", "json", "--lang", "zh"], env=env).stdout)
    assert doc["tables"]["overall"][0]["measure"] == "servqual_unweighted"
    assert doc["tables"]["dimensions"][0]["dimension"] == "skill"
