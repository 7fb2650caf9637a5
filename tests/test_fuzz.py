"""Fuzzing the command line with broken files and options: every run ends with exit 0 (done)
or 2 (a message for the user), never an exception, within a bounded time.

``make test`` runs a fixed budget (``MANYI_FUZZ_EXAMPLES``, default 12 per test); ``make fuzz``
runs many more. A failure prints the smallest input hypothesis found.
"""

from __future__ import annotations

import io
import os
import resource
import subprocess
import sys
import time

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.io.instruments import example_path

EXAMPLES = int(os.environ.get("MANYI_FUZZ_EXAMPLES", "12"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 12,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
INST = str(example_path("after-sales"))
ECSI = str(example_path("ecsi"))
runner = CliRunner()
BASE = datasets.after_sales(n=60, seed=11).to_csv(index=False)
LIMIT_S = 30.0


def run(args: list[str]) -> None:
    """One invocation: exit 0 or 2, no exception escaping, under the time limit."""
    t0 = time.perf_counter()
    res = runner.invoke(app, args)
    took = time.perf_counter() - t0
    assert res.exception is None or isinstance(res.exception, SystemExit), (
        f"{args}: {type(res.exception).__name__}: {res.exception}"
    )
    assert res.exit_code in (0, 2), (args, res.exit_code, res.stderr[-500:])
    assert "Traceback" not in res.stderr
    assert took < LIMIT_S, (args, took)


cells = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "NA", "不适用", "-1", "0", "5", "11", "4.5", "1e309", "nan", "很满意", "西安",
                     "2026-02-30", "31/12/2026", "12/31/2026", "03/02/2026", "=1+1", "\x00", "1,5"]),
    st.integers(-10**6, 10**6).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)


@st.composite
def broken_csv(draw) -> bytes:
    lines = BASE.splitlines()
    header, rows = lines[0].split(","), [ln.split(",") for ln in lines[1:]]
    for _ in range(draw(st.integers(0, 25))):
        r = draw(st.integers(0, len(rows) - 1))
        c = draw(st.integers(0, len(header) - 1))
        if c < len(rows[r]):
            rows[r][c] = draw(cells).replace(",", ";").replace("\n", " ").replace("\r", " ")
    kind = draw(st.sampled_from(["cells", "drop_col", "dup_col", "short_rows", "header_only", "bytes"]))
    if kind == "drop_col":
        c = draw(st.integers(0, len(header) - 1))
        header = header[:c] + header[c + 1:]
        rows = [r[:c] + r[c + 1:] for r in rows]
    elif kind == "dup_col":
        header = header + [draw(st.sampled_from(header))]
        rows = [r + ["1"] for r in rows]
    elif kind == "short_rows":
        rows = [r[: draw(st.integers(0, len(r)))] if i % 7 == 0 else r for i, r in enumerate(rows)]
    elif kind == "header_only":
        rows = []
    text = "\n".join([",".join(header)] + [",".join(r) for r in rows]) + "\n"
    enc = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    data = text.encode(enc, errors="replace")
    if kind == "bytes":
        pos = draw(st.integers(0, max(len(data) - 1, 0)))
        data = data[:pos] + draw(st.binary(max_size=40)) + data[pos:]
    return data


@FUZZ
@given(data=broken_csv(), cmd=st.sampled_from([
    ["score"], ["score", "--by", "branch", "--period", "month"], ["score", "-f", "json"],
    ["score", "--period", "quarter", "--compare", "previous"], ["analyze", "ipa"], ["analyze", "spc"],
    ["analyze", "compare", "--by", "tier"], ["analyze", "servqual"], ["analyze", "kano"],
    ["analyze", "reliability"], ["analyze", "drivers", "--drivers", "items"],
]))
def test_broken_response_files(tmp_path_factory, data, cmd):
    f = tmp_path_factory.mktemp("fz") / "r.csv"
    f.write_bytes(data)
    run([*cmd, "-i", INST, str(f)] if cmd[0] == "score" else [cmd[0], cmd[1], "-i", INST, str(f), *cmd[2:]])


@st.composite
def broken_yaml(draw) -> str:
    lines = example_path("after-sales").read_text(encoding="utf-8").splitlines()
    for _ in range(draw(st.integers(1, 6))):
        i = draw(st.integers(0, len(lines) - 1))
        op = draw(st.sampled_from(["delete", "duplicate", "number", "text", "indent", "swap"]))
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(i, lines[i])
        elif op == "number":
            lines[i] = lines[i] + " " + str(draw(st.sampled_from([0, -1, 0.7, 85, 1e9, "&a", "*a"])))
        elif op == "text":
            lines[i] = draw(st.text(max_size=30))
        elif op == "indent":
            lines[i] = " " * draw(st.integers(0, 8)) + lines[i].lstrip()
        else:
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
        if not lines:
            break
    return "\n".join(lines) + "\n"


@FUZZ
@given(text=broken_yaml())
def test_broken_instruments(tmp_path_factory, text):
    d = tmp_path_factory.mktemp("fy")
    f = d / "i.yaml"
    f.write_text(text, encoding="utf-8")
    run(["validate", str(f)])
    r = d / "r.csv"
    r.write_text(BASE, encoding="utf-8")
    run(["score", "-i", str(f), str(r)])


@FUZZ
@given(rows=st.lists(st.tuples(st.sampled_from(["tier", "branch", "region", "", "tier "]),
                               st.sampled_from(["vip", "regular", "北京", "beijing", "上海", "x", ""]),
                               cells), max_size=8),
       method=st.sampled_from(["rake", "poststratify", "other"]),
       cap=st.sampled_from(["0", "0.5", "3", "nan", "1e9"]))
def test_broken_margins(tmp_path_factory, rows, method, cap):
    d = tmp_path_factory.mktemp("fm")
    r = d / "r.csv"
    r.write_text(BASE, encoding="utf-8")
    m = d / "m.csv"
    buf = io.StringIO()
    pd.DataFrame(rows, columns=["variable", "category", "share"]).to_csv(buf, index=False)
    m.write_text(buf.getvalue(), encoding="utf-8")
    run(["weight", str(r), "-i", INST, "--margins", str(m), "-o", str(d / "w.csv"), "--method", method,
         "--cap", cap])


option_values = st.one_of(st.sampled_from(["", "0", "-5", "1e9", "nan", "abc", "month", "zh", "fr",
                                           "json", "xlsx", "neyman", "stratified", "branch", "0.05"]),
                          st.text(max_size=8))


@FUZZ
@given(opts=st.lists(st.tuples(st.sampled_from([
    "--n", "--moe", "--rate", "--sd", "--deff", "--method", "--strata", "--allocation", "--sd-column", "--seed",
    "--lang"]), option_values), max_size=5))
def test_sample_options(tmp_path_factory, opts):
    d = tmp_path_factory.mktemp("fs")
    f = d / "c.csv"
    f.write_text(BASE, encoding="utf-8")
    run(["sample", str(f), *[x for kv in opts for x in kv]])


@FUZZ
@given(opts=st.lists(st.tuples(st.sampled_from([
    "--by", "--period", "--format", "--lang", "--weights", "--compare", "--date-format", "--sheet"]),
    option_values), max_size=4))
def test_score_options(tmp_path_factory, opts):
    d = tmp_path_factory.mktemp("fo")
    f = d / "r.csv"
    f.write_text(BASE, encoding="utf-8")
    run(["score", "-i", INST, str(f), *[x for kv in opts for x in kv]])


@FUZZ
@given(n=st.integers(0, 40), holes=st.integers(0, 50), bootstrap=st.sampled_from(["0", "20", "-3"]),
       scheme=st.sampled_from(["path", "centroid", "radial"]))
def test_model_fit_on_small_and_holey_data(tmp_path_factory, n, holes, bootstrap, scheme):
    d = tmp_path_factory.mktemp("fp")
    df = datasets.ecsi(n=max(n, 1), seed=n).head(n).astype(object)
    for k in range(min(holes, df.size)):
        df.iat[(k * 7) % max(len(df), 1), k % df.shape[1]] = ["", "x", "11", "0"][k % 4]
    f = d / "e.csv"
    df.to_csv(f, index=False)
    run(["model", "fit", "--model", ECSI, str(f), "--bootstrap", bootstrap, "--scheme", scheme])


@pytest.mark.slow
def test_bounded_memory_and_time_in_a_real_process(tmp_path):
    """The commands run as a user runs them, under a 2 GiB address-space limit and 30 s."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    (tmp_path / "lol.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "r.csv").write_text(BASE, encoding="utf-8")
    big = datasets.after_sales(n=3000, seed=2)
    big.loc[5, "nps"] = "x" * 5_000_000
    big.to_csv(tmp_path / "big.csv", index=False)

    def limit():  # pragma: no cover - runs in the child
        resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))

    for args in (["validate", str(tmp_path / "lol.yaml")],
                 ["score", "-i", INST, str(tmp_path / "big.csv"), "--by", "branch"],
                 ["analyze", "spc", "-i", INST, str(tmp_path / "big.csv"), "--by", "branch"]):
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-m", "manyi.cli", *args], capture_output=True, text=True,
                             timeout=LIMIT_S, preexec_fn=limit)
        assert res.returncode in (0, 2), (args, res.stderr[-800:])
        assert "Traceback" not in res.stderr and time.perf_counter() - t0 < LIMIT_S
