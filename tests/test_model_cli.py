"""manyi model fit: files, formats, the ECSI template on an instrument, errors."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.i18n import ManyiError
from manyi.io.instruments import example_path, load_example, parse_instrument

runner = CliRunner()

MODEL = """\
model:
  scheme: path
  scale: {min: 1, max: 10}
  constructs:
    Quality: {mode: A, items: [q1, q2, q3]}
    Satisfaction: {mode: A, items: [s1, s2]}
    Loyalty: {mode: B, items: [l1, l2]}
  paths:
    - [Quality, Satisfaction]
    - [Satisfaction, Loyalty]
    - [Quality, Loyalty]
"""


@pytest.fixture(scope="module")
def ecsi_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("ecsi")
    data = d / "ecsi.csv"
    datasets.ecsi(n=400, seed=3).to_csv(data, index=False)
    return example_path("ecsi"), data


def test_fit_instrument_template_json(ecsi_files, tmp_path):
    inst, data = ecsi_files
    out = tmp_path / "m.json"
    res = runner.invoke(app, ["model", "fit", "--model", str(inst), str(data), "--bootstrap", "300", "--seed", "5",
                              "--format", "json", "--output", str(out)])
    assert res.exit_code == 0, res.output
    d = json.loads(out.read_text(encoding="utf-8"))
    assert set(d) >= {"paths", "r2", "outer", "index", "iterations", "n", "bootstrap"}
    assert d["n"] == 400 and d["bootstrap"] == {"resamples": 300, "inadmissible": 0, "seed": 5, "sign_change": "none"}
    assert len(d["paths"]) == 12
    for p in d["paths"]:
        assert set(p) >= {"from", "to", "estimate", "se", "ci_low", "ci_high", "p"}
        assert p["ci_low"] <= p["estimate"] <= p["ci_high"]
    assert set(d["r2"]) == {"Expectation", "Quality", "Value", "Satisfaction", "Complaints", "Loyalty"}
    assert len(d["outer"]) == 24 and set(d["outer"][0]) >= {"construct", "item", "weight", "loading"}
    assert all(0 < v < 100 for v in d["index"].values())
    # the generating model's strong paths are found
    est = {(p["from"], p["to"]): p["estimate"] for p in d["paths"]}
    assert est[("Quality", "Satisfaction")] > 0.25 and est[("Image", "Expectation")] > 0.3
    # on a pipe: the JSON on stdout and nothing at all on stderr (no progress bar, no empty line)
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "manyi.cli", "model", "fit", "--model", str(inst), str(data),
                          "--bootstrap", "50", "--format", "json"], capture_output=True, text=True, check=False)
    assert res.returncode == 0 and json.loads(res.stdout)["n"] == 400 and res.stderr == ""


def _chain_files(tmp_path):
    """MODEL's files: 300 respondents of quality → satisfaction → loyalty (and quality →
    loyalty), items on 1-10, one value missing."""
    import numpy as np

    rng = np.random.default_rng(0)
    q = rng.normal(size=300)
    s = 0.6 * q + 0.8 * rng.normal(size=300)
    loy = 0.5 * s + 0.2 * q + 0.8 * rng.normal(size=300)
    df = pd.DataFrame({f"q{i}": np.clip(np.rint(6 + 1.5 * (q + 0.5 * rng.normal(size=300))), 1, 10) for i in (1, 2, 3)})
    for i in (1, 2):
        df[f"s{i}"] = np.clip(np.rint(6 + 1.5 * (s + 0.5 * rng.normal(size=300))), 1, 10)
        df[f"l{i}"] = np.clip(np.rint(6 + 1.5 * (loy + 0.5 * rng.normal(size=300))), 1, 10)
    df.loc[5, "q2"] = None
    data = tmp_path / "d.csv"
    df.to_csv(data, index=False)
    model = tmp_path / "m.yaml"
    model.write_text(MODEL, encoding="utf-8")
    return model, data


def test_fit_model_file_table_zh_and_ipma(tmp_path):
    model, data = _chain_files(tmp_path)
    html = tmp_path / "ipma.html"
    res = runner.invoke(app, ["model", "fit", "-m", str(model), str(data), "--bootstrap", "200", "--lang", "zh",
                              "--ipma", str(html)])
    assert res.exit_code == 0, res.output
    assert "路径系数" in res.stdout and "感知质量" in res.stdout  # the standard constructs carry zh labels
    assert "1 个缺失值已用题目均值替代" in res.stderr
    text = html.read_text(encoding="utf-8")
    assert "重要性" in text or "\\u91cd\\u8981\\u6027" in text
    assert not re.search(r"<script[^>]*\bsrc=", text) and len(text) > 1_000_000  # plotly.js inline, no CDN


@pytest.mark.parametrize("lang, title", [("en", "Indirect and total effects"), ("zh", "间接效应与总效应")])
def test_the_table_shows_indirect_and_total_effects(tmp_path, lang, title):
    """The terminal's effects table: the pairs with an indirect effect only, the indirect
    effect the product of the paths through the mediator, and the bootstrap p and interval of
    the indirect and the total effect as in the JSON."""
    model, data = _chain_files(tmp_path)
    args = ["model", "fit", "-m", str(model), str(data), "--bootstrap", "200", "--seed", "3"]
    doc = json.loads(runner.invoke(app, [*args, "--format", "json"]).stdout)
    est = {(p["from"], p["to"]): p["estimate"] for p in doc["paths"]}
    res = runner.invoke(app, [*args, "--lang", lang], env={"COLUMNS": "200"})
    assert res.exit_code == 0, res.output
    table = res.stdout[res.stdout.index(title):]
    rows = [line for line in table.splitlines()[4:] if line.startswith("│")]
    rows = rows[: next((i for i, r in enumerate(rows[1:], 1) if r.count("│") != rows[0].count("│")), len(rows))]
    assert len(rows) == 1  # Quality → Loyalty; the other two pairs have no indirect effect
    cells = [c.strip() for c in rows[0].strip("│").split("│")]
    direct, indirect = est[("Quality", "Loyalty")], est[("Quality", "Satisfaction")] * est[("Satisfaction", "Loyalty")]
    eff = next(e for e in doc["effects"] if (e["from"], e["to"]) == ("Quality", "Loyalty"))
    assert cells[2:] == [
        f"{direct:.4f}", f"{indirect:.4f}",
        f"{eff['indirect_p']:.4f}", f"{eff['indirect_ci_low']:.3f}–{eff['indirect_ci_high']:.3f}",
        f"{direct + indirect:.4f}",
        f"{eff['total_p']:.4f}", f"{eff['total_ci_low']:.3f}–{eff['total_ci_high']:.3f}",
    ]
    # a pair without a mediated route has no indirect figures in the JSON
    qs = next(e for e in doc["effects"] if (e["from"], e["to"]) == ("Quality", "Satisfaction"))
    assert qs["indirect"] == 0 and qs["indirect_se"] is None and qs["total_se"] > 0


def test_model_errors_exit_2(tmp_path, ecsi_files):
    _, data = ecsi_files
    bad = tmp_path / "bad.yaml"
    bad.write_text(MODEL.replace("[Quality, Loyalty]", "[Quality, Brand]"), encoding="utf-8")
    res = runner.invoke(app, ["model", "fit", "-m", str(bad), str(data), "--bootstrap", "0"])
    assert res.exit_code == 2
    assert "construct Brand is not defined" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(app, ["model", "fit", "-m", str(tmp_path / "none.yaml"), str(data)])
    assert res.exit_code == 2 and "file not found" in res.stderr
    nomodel = tmp_path / "x.yaml"
    nomodel.write_text("a: 1\n", encoding="utf-8")
    res = runner.invoke(app, ["model", "fit", "-m", str(nomodel), str(data)])
    assert res.exit_code == 2 and "has no model: section" in res.stderr
    model = tmp_path / "m.yaml"
    model.write_text(MODEL, encoding="utf-8")
    res = runner.invoke(app, ["model", "fit", "-m", str(model), str(data), "--bootstrap", "0"])
    assert res.exit_code == 2 and "no column for the items q1, q2, q3" in res.stderr
    res = runner.invoke(app, ["model", "fit", "-m", str(model), str(data), "--scheme", "radial"])
    assert res.exit_code == 2 and 'unknown scheme "radial"' in res.stderr


def test_instrument_model_section_is_validated():
    text = example_path("ecsi").read_text(encoding="utf-8")
    parse_instrument(text)  # the shipped example is valid
    with pytest.raises(ManyiError) as exc:
        parse_instrument(text.replace("  template: ecsi", "  template: ecsi\n  paths: [[image, brand]]"), "e.yaml")
    assert "e.yaml line" in str(exc.value) and "model:" in str(exc.value) and "brand" in str(exc.value)
    inst = load_example("after-sales")
    with pytest.raises(ManyiError, match="no dimension for the construct"):
        parse_instrument(example_path("after-sales").read_text(encoding="utf-8") + "model: {template: acsi}\n")
    assert inst.spec.model is None
