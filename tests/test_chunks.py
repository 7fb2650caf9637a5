"""Large files in chunks, and parts added up: the same scorecard as one pass over the whole.

The chunked reader is forced on small files here (``CHUNKED_FROM = 0``, 64 KiB per
chunk); every figure is compared with the whole-file path, which the rest of the suite checks
against hand-computed values.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import manyi
from jsonclose import assert_close
from manyi import datasets
from manyi.core.scoring import finish, merge_partials, partial_frame, score_frame
from manyi.io import chunks, responses
from manyi.io.instruments import example_path
from manyi.io.responses import validate_frame
from manyi.services.requests import ReadOptions, ScoreRequest, Source
from manyi.services.scoring import score_chunks, score_file, to_json

INST = example_path("after-sales")


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 0)
    monkeypatch.setattr(chunks, "BLOCK", 64 * 1024)  # a few hundred rows per chunk
    monkeypatch.setattr(chunks, "PARSE_BLOCK", 32 * 1024)


def _request(path, **kw) -> ScoreRequest:
    return ScoreRequest(instrument=Source(path=INST), responses=Source(path=path), **kw)


def _both(path, monkeypatch, **kw):
    """(chunked result, whole-file result) of one request."""
    chunked = score_chunks(_request(path, **kw), manyi.load_instrument(INST))
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 10**12)
    whole = score_file(_request(path, **kw))
    return chunked, whole


def test_parts_add_up_to_the_whole() -> None:
    """Random cuts of a frame, scored part by part and merged: every table of the whole, with
    weights (some zero), two keys of which one categorical, periods with a missing date."""
    inst = manyi.load_instrument(INST)
    d = validate_frame(datasets.after_sales(n=2500, seed=3), inst).data
    d["w"] = np.random.default_rng(1).uniform(0.2, 3, len(d))
    d.loc[::7, "w"] = 0.0
    for by, period, w in [(["tier"], "month", None), (["tier", "branch"], "quarter", "w"), ([], None, None)]:
        whole = score_frame(inst, d, by, period, w)
        cuts = np.sort(np.random.default_rng(2).choice(len(d), 6, replace=False))
        bounds = zip([0, *cuts], [*cuts, len(d)], strict=True)
        merged = finish(inst, merge_partials([partial_frame(inst, d.iloc[a:b], by, period, w) for a, b in bounds]))
        for name in ("groups", "total", "gaps"):
            pd.testing.assert_frame_equal(
                getattr(whole, name), getattr(merged, name), check_exact=False, rtol=1e-9, check_dtype=False
            )
        pd.testing.assert_frame_equal(whole.respondents, merged.respondents, check_dtype=False)
        assert [m.to_dict() for m in sorted(whole.warnings, key=lambda m: m.key)] == [
            m.to_dict() for m in sorted(merged.warnings, key=lambda m: m.key)
        ]


def test_chunked_file_equals_whole_file(tmp_path, small_chunks, monkeypatch) -> None:
    """A dirty file (bad labels, out-of-scale values, empty ids, unanswered rows, duplicate ids
    inside a chunk, trailing empty rows) read in chunks of 64 KiB: the same JSON, the same
    rejected values with the same file rows, the same counts."""
    raw = datasets.after_sales(n=2000, seed=5, clean=True)
    raw = raw.astype(object)
    raw.loc[10, "skill_diagnosis"] = "excellent?"
    raw.loc[700, "att_courtesy"] = "9"
    raw.loc[701, "response_id"] = ""
    raw.loc[702, [c for c in raw.columns if c not in ("response_id", "submitted_at")]] = ""
    raw.loc[900, "response_id"] = raw.loc[899, "response_id"]  # the same chunk
    path = tmp_path / "big.csv"
    text = raw.to_csv(index=False) + "," * (raw.shape[1] - 1) + "\n" + "," * (raw.shape[1] - 1) + "\n"
    path.write_text(text, encoding="utf-8")
    chunked, whole = _both(path, monkeypatch, by=["tier"], period="month")
    assert chunked is not None
    assert_close(json.loads(to_json(chunked)), json.loads(to_json(whole)))
    assert chunked.rejected == whole.rejected and len(whole.rejected) >= 5
    assert {r["row"] for r in whole.rejected} >= {12, 702, 703, 704, 902}
    assert chunked.report.rows_read == whole.report.rows_read == 2000
    assert chunked.report.rows_used == whole.report.rows_used
    # respondents are left out only when asked
    assert len(chunked.respondents) == whole.report.rows_used
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 0)
    lean = score_chunks(_request(path, respondents=False), manyi.load_instrument(INST))
    assert lean is not None and len(lean.respondents) == 0


def test_what_a_chunk_cannot_decide_reads_the_whole_file(tmp_path, small_chunks, monkeypatch) -> None:
    """An id repeated in another chunk, day/month dates: the chunked path declines (None) and
    the whole-file reader scores the file."""
    monkeypatch.setattr(chunks, "BLOCK", 8 * 1024)  # dozens of rows per chunk
    monkeypatch.setattr(chunks, "PARSE_BLOCK", 8 * 1024)
    inst = manyi.load_instrument(INST)
    raw = datasets.after_sales(n=900, seed=6, clean=True).astype(object)
    cases = {}
    dup = raw.copy()
    dup.loc[800, "response_id"] = dup.loc[5, "response_id"]
    cases["repeated id"] = dup.to_csv(index=False)
    dmy = raw.copy()
    dmy["submitted_at"] = pd.to_datetime(dmy["submitted_at"]).dt.strftime("%d/%m/%Y")
    cases["day/month dates"] = dmy.to_csv(index=False)
    cases["the generator's own dirty rows (ids repeated far apart)"] = datasets.after_sales(n=900, seed=6).to_csv(
        index=False
    )
    for label, body in cases.items():
        p = tmp_path / "x.csv"
        p.write_text(body, encoding="utf-8")
        assert score_chunks(_request(p), inst) is None, label
        assert score_file(_request(p)).report.rows_read >= 900, label
    # a repeated id across chunks is rejected once the file is read whole
    p = tmp_path / "dup.csv"
    p.write_text(cases["repeated id"], encoding="utf-8")
    res = score_file(_request(p))
    assert [i.message.key for i in res.report.issues if i.row == 802] == ["resp.duplicate_id"]


def test_a_blank_line_is_a_rejected_row_in_both(tmp_path, small_chunks, monkeypatch) -> None:
    """pyarrow reads a blank line as a row of empty cells, as pandas does for the whole file:
    the row is rejected (no id) with its file row in both."""
    lines = datasets.after_sales(n=900, seed=6, clean=True).to_csv(index=False).split("\n")
    p = tmp_path / "blank.csv"
    p.write_text("\n".join(lines[:400] + [""] + lines[400:]), encoding="utf-8")
    chunked, whole = _both(p, monkeypatch)
    assert chunked is not None
    assert_close(json.loads(to_json(chunked)), json.loads(to_json(whole)))
    assert [r["row"] for r in whole.rejected] == [401]


def test_chunked_gbk_with_chinese_headers_and_a_column_map(tmp_path, small_chunks, monkeypatch) -> None:
    """A GB18030 file whose headers are question texts, mapped by ``--columns``."""
    inst = manyi.load_instrument(INST)
    raw = datasets.after_sales(n=1500, seed=8, clean=True)
    ren = {i.id: f"{k + 1}、{i.text.zh}" for k, i in enumerate(inst.items[:3])}
    path = tmp_path / "gbk.csv"
    path.write_bytes(raw.rename(columns=ren).to_csv(index=False).encode("gb18030"))
    cmap = tmp_path / "map.csv"
    cmap.write_text("column,id\n" + "".join(f"{v},{k}\n" for k, v in ren.items()), encoding="utf-8")
    opts = ReadOptions(columns=Source(path=cmap))
    chunked, whole = _both(path, monkeypatch, by=["branch"], read=opts)
    assert chunked is not None
    assert_close(json.loads(to_json(chunked)), json.loads(to_json(whole)))
    assert whole.total["n"].iloc[0] > 1400


def test_read_responses_in_chunks_equals_the_whole_file(tmp_path, small_chunks, monkeypatch) -> None:
    """What the analyses read: the clean frame, the used rows' numbers and the report of the
    chunked reader equal the whole-file reader's (bad values, an unanswered row, a choice
    column, times)."""
    from manyi.io.responses import read_responses

    inst = manyi.load_instrument(INST)
    raw = datasets.after_sales(n=1800, seed=12, clean=True).astype(object)
    raw.loc[40, "att_listen"] = "非常好"
    raw.loc[1500, [c for c in raw.columns if c not in ("response_id", "submitted_at")]] = ""
    path = tmp_path / "r.csv"
    raw.to_csv(path, index=False)
    chunked = read_responses(path, inst)
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 10**12)
    whole = read_responses(path, inst)
    pd.testing.assert_frame_equal(chunked.data, whole.data)
    assert chunked.rows.tolist() == whole.rows.tolist()
    assert [i.to_dict() for i in chunked.report.issues] == [i.to_dict() for i in whole.report.issues]
    assert (chunked.report.rows_read, chunked.report.rows_used) == (whole.report.rows_read, whole.report.rows_used)


def test_the_file_is_really_read_in_chunks(tmp_path, small_chunks) -> None:
    """The forced chunk sizes give several chunks, with consecutive file rows."""
    raw = datasets.after_sales(n=1200, seed=2, clean=True)
    path = tmp_path / "c.csv"
    raw.to_csv(path, index=False)
    parts = list(chunks.response_chunks(path, manyi.load_instrument(INST)))
    assert len(parts) >= 3
    firsts = [int(p.rows[0]) for p in parts]
    assert firsts[0] == 2 and firsts == sorted(firsts)
    assert sum(p.report.rows_read for p in parts) == 1200


def test_a_mistake_in_the_options_is_told_without_reading_the_file_twice(tmp_path, small_chunks, monkeypatch) -> None:
    """An unknown --by column is the same mistake in every chunk: the chunked path says it at
    once (the message of the whole-file path), without the whole-file reader."""
    from manyi.core.messages import ManyiError

    raw = datasets.after_sales(n=900, seed=6, clean=True)
    path = tmp_path / "r.csv"
    raw.to_csv(path, index=False)
    inst = manyi.load_instrument(INST)
    with pytest.raises(ManyiError) as chunked:
        score_chunks(_request(path, by=["regoin"]), inst)
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 10**12)
    with pytest.raises(ManyiError) as whole:
        score_file(_request(path, by=["regoin"]))
    assert chunked.value.messages[0].key == "score.unknown_by"
    assert chunked.value.messages[0].render("en") == whole.value.messages[0].render("en")


def test_a_file_the_chunks_decline_is_read_once_more_not_twice(tmp_path, small_chunks, monkeypatch) -> None:
    """Ids repeated far apart: the chunked pass declines, and the file is then read whole
    once (not chunked a second time by the reader of responses)."""
    raw = datasets.after_sales(n=900, seed=6, clean=True).astype(object)
    raw.loc[800, "response_id"] = raw.loc[5, "response_id"]
    path = tmp_path / "dup.csv"
    raw.to_csv(path, index=False)
    calls = {"chunks": 0, "whole": 0}
    real_chunks, real_table = chunks.response_chunks, responses.read_table

    def counting_chunks(*a, **k):
        calls["chunks"] += 1
        yield from real_chunks(*a, **k)

    def counting_table(*a, **k):
        calls["whole"] += 1
        return real_table(*a, **k)

    monkeypatch.setattr(chunks, "response_chunks", counting_chunks)
    monkeypatch.setattr(responses, "read_table", counting_table)
    res = score_file(_request(path))
    assert calls == {"chunks": 1, "whole": 1}
    assert [i.message.key for i in res.report.issues if i.row == 802] == ["resp.duplicate_id"]


@pytest.mark.parametrize(
    "name,by,opts",
    [
        ("ipa", ["tier"], {"importance": "derived", "weights": "w"}),
        ("compare", ["tier"], {}),
        ("compare", [], {"period": "month", "weights": "w"}),
        ("spc", [], {"period": "month"}),
    ],
)
def test_summed_analyses_of_a_large_csv_in_chunks(tmp_path, small_chunks, monkeypatch, name, by, opts) -> None:
    """IPA, compare and SPC of a CSV read in chunks of 64 KiB: each chunk summed, the sums
    merged, no table of all rows put together; the result of the whole file (1e-9), with the
    same validation note."""
    from manyi.services import analysis
    from manyi.services.requests import AnalysisOptions, AnalyzeRequest

    raw = datasets.after_sales(n=2500, seed=6, clean=True).astype(object)
    raw["w"] = np.random.default_rng(5).uniform(0.3, 2.5, len(raw))
    raw.loc[40, "skill_diagnosis"] = "9"
    path = tmp_path / "big.csv"
    raw.to_csv(path, index=False)

    def run() -> dict:
        req = AnalyzeRequest(name=name, instrument=Source(path=INST), responses=Source(path=path), by=by,
                             options=AnalysisOptions(**opts))
        return json.loads(json.dumps(analysis.analyze_file(req).to_dict(), default=str))

    def no_table(*a, **k):
        raise AssertionError("the chunks were put together")

    took: list[bool] = []
    original = analysis.analyze_chunks

    def spied(*a, **k):
        got = original(*a, **k)
        took.append(got is not None)
        return got

    with monkeypatch.context() as m:
        m.setattr(chunks, "read_in_chunks", no_table)
        m.setattr(analysis, "analyze_chunks", spied)
        chunked = run()
    assert took == [True]  # summed chunk by chunk, not declined
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 10**12)
    assert_close(chunked, run())
    assert chunked["warnings"][0]["key"] == "an.validation"


def test_a_summed_analysis_declines_an_id_repeated_across_chunks(tmp_path, small_chunks, monkeypatch) -> None:
    """An id met in two chunks: the chunked sums are declined and the whole file analysed (its
    later row rejected, as one read of the file does)."""
    from manyi.services import analysis
    from manyi.services.requests import AnalysisOptions, AnalyzeRequest

    raw = datasets.after_sales(n=2500, seed=6, clean=True).astype(object)
    raw.loc[2400, "response_id"] = raw.loc[3, "response_id"]
    path = tmp_path / "big.csv"
    raw.to_csv(path, index=False)
    req = AnalyzeRequest(name="compare", instrument=Source(path=INST), responses=Source(path=path), by=["tier"],
                         options=AnalysisOptions())
    assert analysis.analyze_chunks(req, manyi.load_instrument(INST)) is None
    res = analysis.analyze_file(req)
    assert res.n == 2499 and res.warnings[0].params["rejected"] == 1


def test_an_unknown_by_column_is_said_without_reading_the_file_twice(tmp_path, small_chunks, monkeypatch) -> None:
    """A summed analysis of a large CSV with a --by column the file lacks: the message of the
    whole-file path, from the first chunk (the file is not read again)."""
    from manyi.core.messages import ManyiError
    from manyi.services import analysis
    from manyi.services.requests import AnalysisOptions, AnalyzeRequest

    path = tmp_path / "big.csv"
    datasets.after_sales(n=1500, seed=2, clean=True).to_csv(path, index=False)
    req = AnalyzeRequest(name="ipa", instrument=Source(path=INST), responses=Source(path=path), by=["nosuch"],
                         options=AnalysisOptions())

    def whole(*a, **k):
        raise AssertionError("read whole")

    with monkeypatch.context() as m:
        m.setattr(responses, "read_table", whole)
        with pytest.raises(ManyiError) as chunked:
            analysis.analyze_file(req)
    monkeypatch.setattr(chunks, "CHUNKED_FROM", 10**12)
    with pytest.raises(ManyiError) as once:
        analysis.analyze_file(req)
    assert chunked.value.messages == once.value.messages
    assert chunked.value.messages[0].key == "score.unknown_by"


def test_work_made_ahead_on_a_thread():
    """``core.ahead``: the items in order; a mistake made on the thread is raised in the
    caller at its item (after the items before it); leaving early stops the thread."""
    import threading

    from manyi.core.ahead import ahead

    assert list(ahead(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        yield 2
        raise ValueError("bad block")

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for x in ahead(failing()):
            got.append(x)
    assert got == [1, 2]
    made = []

    def endless():
        i = 0
        while True:
            made.append(i)
            yield i
            i += 1

    it = ahead(endless(), depth=1, name="manyi-test-ahead")
    assert [next(it) for _ in range(3)] == [0, 1, 2]
    it.close()
    assert not any(t.name == "manyi-test-ahead" for t in threading.enumerate())
    assert len(made) <= 6  # made at most a few ahead, then stopped
