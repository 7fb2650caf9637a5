"""The survey report: every format opened with its own reader and checked against the results;
the recommendations against the rules; the command exactly as the docs give it; the pictures
rendered (Chromium for HTML and PDF, LibreOffice for the deck and the workbook)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.io.instruments import example_path, load_example
from manyi.present.report import document, find_chromium
from manyi.services.report import build_report, write_report
from manyi.services.requests import ReportRequest, Source

runner = CliRunner()
INST = example_path("after-sales")


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("report")
    inst = load_example("after-sales")
    data = datasets.after_sales(n=1500, seed=21, instrument=inst)
    data["w"] = np.where(data["tier"].astype(str) == "vip", 0.6, 1.3)
    data.to_csv(d / "resp.csv", index=False, encoding="utf-8-sig")
    datasets.cases(n=300, seed=4).to_csv(d / "cases.csv", index=False)
    return {"dir": d, "responses": d / "resp.csv", "cases": d / "cases.csv"}


@pytest.fixture(scope="module")
def report(files):
    req = ReportRequest(
        instrument=Source.of(INST),
        responses=Source.of(files["responses"]),
        cases=Source.of(files["cases"]),
        by=["branch"],
    )
    return build_report(req)


@pytest.fixture(scope="module")
def written(report, files) -> dict[str, Path]:
    out = {}
    for fmt in ("html", "xlsx", "pptx"):
        out[fmt] = write_report(report, fmt, files["dir"] / f"r.{fmt}", "zh")
    if find_chromium():
        out["pdf"] = write_report(report, "pdf", files["dir"] / "r.pdf", "zh")
    return out


def _dims(report) -> dict[str, float]:
    t = report.scores.total.iloc[0]
    return {d.label.zh: float(t[f"dim_{d.id}"]) for d in report.instrument.dimensions}


# --- the content ------------------------------------------------------------------------
def test_sections_and_key_figures_follow_the_results(report):
    doc = document(report, "zh")
    assert [s.key for s in doc.sections] == [
        "method", "results", "analysis", "recommendations", "appendix"
    ]
    t = report.scores.total.iloc[0]
    fig = next(b for b in doc.sections[1].blocks if type(b).__name__ == "Figures").items
    assert fig[0].value == f"{t['csi']:.1f}"
    assert fig[1].value == f"{100 * t['satisfied_rate']:.1f}%"
    assert fig[1].tone == ("good" if t["meets_target"] else "bad")
    assert "未达标" in fig[1].detail or "已达标" in fig[1].detail
    tables = doc.tables()
    # every section the issue names, from the results that apply to this instrument
    for key in ("method", "dimensions", "units", "items", "trend", "servqual", "ipa", "drivers",
                "questionnaire", "reliability", "cases_pareto"):
        assert key in tables, key
    assert set(doc.charts()) >= {"dimensions", "units", "trend", "servqual", "ipa", "drivers", "spc"}
    # the p-chart plots the dissatisfied share, which the p-values' "p 值" would misname
    pc = doc.charts()["p_chart"]
    assert pc.series[0] == "不满意率 p" and "p 值" not in pc.data.columns
    assert list(pc.data["不满意率 p"]) == pytest.approx(list(report.analyses["spc"].tables["p_chart"]["p"]))
    # the complaints' Pareto names the desk's categories (the codes stay in the result)
    from manyi.i18n import catalogue

    pareto = tables["cases_pareto"].frame
    names = {v for k, v in catalogue("zh").items() if k.startswith("desk.category.")}
    assert set(pareto.iloc[:, 0]) <= names and "维修时间" in set(pareto.iloc[:, 0])
    en = document(report, "en").charts()["cases_pareto"]
    assert en.title.startswith("Repair time accounts for")
    # the units table: ranked by the index, with the n and the small-sample flag of each
    units = tables["units"].frame
    g = report.scores.groups
    known = g[g["branch"].notna()].sort_values("csi", ascending=False)
    assert list(units["满意度指数"].iloc[: len(known)]) == pytest.approx(list(known["csi"]))
    assert list(units["样本量"].iloc[: len(known)]) == list(known["n"])
    # the trend: the change of each period and its p-value from the scorecard's test
    trend = tables["trend"].frame
    tg = report.trend.groups[report.trend.groups["period"].notna()]
    assert list(trend["p 值"].fillna(-1)) == pytest.approx(list(tg["csi_change_p"].fillna(-1)))
    # method: the margin of error is the index's half-interval
    method = dict(tables["method"].frame.itertuples(index=False, name=None))
    assert f"± {t['csi_moe']:.2f}" in method["抽样误差（95%）"]
    assert "85.0%" == method["满意率目标"]


def test_english_report_uses_english_names(report):
    doc = document(report, "en")
    assert doc.title.startswith("After-sales service satisfaction survey")
    assert "Dimension" in doc.tables()["dimensions"].frame.columns
    assert "Timeliness" in list(doc.tables()["dimensions"].frame["Dimension"])
    assert [s.title[:2] for s in doc.sections] == ["1.", "2.", "3.", "4.", "5."]


def test_recommendations_follow_the_rules(report):
    recs = report.recommendations
    kinds = [r.kind for r in recs]
    t = report.scores.total.iloc[0]
    assert ("overall_below" in kinds) == (not bool(t["meets_target"]))
    g = report.scores.groups
    below = g[g["branch"].notna() & (g["meets_target"] == False) & ~g["small_sample"]]  # noqa: E712
    want_units = list(below.sort_values("satisfied_rate")["branch"].astype(str).head(3))
    assert [r.subject for r in recs if r.kind == "unit_below"] == want_units
    ipa = report.analyses["ipa"].tables["items"]
    conc = ipa[ipa["quadrant"] == "concentrate"].sort_values("priority", ascending=False)
    assert [r.subject for r in recs if r.kind == "concentrate"] == list(conc["item"].head(3))
    sq = report.analyses["servqual"].tables["items"]
    gaps = sq[(sq["gap"] < 0) & (sq["p"] < 0.05)].sort_values("gap")
    assert [r.subject for r in recs if r.kind == "gap"] == list(gaps["item"].head(3))
    dr = report.analyses["drivers"].tables["drivers"]
    assert [r.subject for r in recs if r.kind == "driver"] == [
        dr.sort_values("relative_weight", ascending=False)["driver"].iloc[0]
    ]
    # each states its evidence with the numbers it rests on
    doc = document(report, "en")
    bullets = next(b for b in doc.sections[3].blocks if type(b).__name__ == "Bullets").items
    assert len(bullets) == len(recs)
    first_unit = next(r for r in recs if r.kind == "unit_below")
    text, evidence = bullets[recs.index(first_unit)]
    assert f"{100 * first_unit.values['rate']:.1f}%" in evidence and f"n = {first_unit.values['n']}" in evidence


def test_no_recommendation_when_everything_meets_its_target(tmp_path):
    inst = load_example("after-sales")
    rows = []
    for k in range(80):
        row = {"response_id": f"R{k}", "branch": ["beijing", "wuhan"][k % 2],
               "submitted_at": f"2026-0{1 + k % 3}-10"}
        row.update({i: 5 for i in inst.item_ids})
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / "good.csv", index=False)
    rep = build_report(ReportRequest(instrument=Source.of(INST), responses=Source.of(tmp_path / "good.csv"),
                                     by=["branch"]))
    assert [r for r in rep.recommendations if r.kind in ("overall_below", "unit_below")] == []
    # the analyses that cannot run on constant answers are named with their reason
    assert "drivers" in rep.skipped
    doc = document(rep, "en")
    text = " ".join(b.text for s in doc.sections for b in s.blocks if type(b).__name__ == "Para")
    assert "the key-driver analysis is not included" in text


def test_notes_replace_or_extend_the_drafted_recommendations(files, report, tmp_path):
    from manyi.core.report import with_notes
    from manyi.io.notes import load_notes

    md = tmp_path / "notes.md"
    md.write_text("# 建议\n\n- 武汉试点预约提醒短信\n  - 武汉满意率最低\n- <script>alert(1)</script> 复核收费\n",
                  encoding="utf-8")
    notes, replace = load_notes(md)
    assert notes == [{"text": "武汉试点预约提醒短信", "evidence": "武汉满意率最低"},
                     {"text": "<script>alert(1)</script> 复核收费"}] and not replace
    y = tmp_path / "notes.yaml"
    y.write_text("replace: true\nrecommendations:\n  - text: 只保留这一条\n    evidence: 管理层决定\n", encoding="utf-8")
    notes_y, replace_y = load_notes(y)
    assert replace_y and [r.text for r in with_notes(report.recommendations, notes_y, True)] == ["只保留这一条"]
    out = tmp_path / "n.html"
    res = runner.invoke(app, ["report", "-i", str(INST), str(files["responses"]), "--notes", str(md),
                              "--format", "html", "--output", str(out), "--lang", "zh"])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    assert "武汉试点预约提醒短信" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    bad = tmp_path / "bad.yaml"
    bad.write_text("recommendations: {a: [1, 2\n", encoding="utf-8")
    res = runner.invoke(app, ["report", "-i", str(INST), str(files["responses"]), "--notes", str(bad),
                              "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2 and "bad.yaml" in res.output and "Traceback" not in res.output


# --- each format read back with its own reader -----------------------------------------------
def test_html_is_self_contained_with_the_numbers(written, report):
    html = written["html"].read_text(encoding="utf-8")
    assert html.count("Plotly.newPlot(") == len(document(report, "zh").charts())
    # plotly's bundle inlined once; nothing else loaded from anywhere (no src=, no http links)
    assert len(re.findall(r"<script[^>]*\bsrc=", html)) == 0
    start = html.index("<script>")
    bundle = html[start : html.index("</script>", start)]
    assert "plotly.js" in bundle and html.count(bundle) == 1
    rest = html.replace(bundle, "")
    assert "http://" not in rest and "https://" not in rest
    assert 'font-family: Noto Sans CJK SC' in html and "@media print" in html
    table = re.search(r'<table data-key="dimensions">(.*?)</table>', html, re.S).group(1)
    cells = [unescape(c) for c in re.findall(r"<td[^>]*>(.*?)</td>", table)]
    for name, score in _dims(report).items():
        i = cells.index(name)
        assert cells[i + 1] == f"{score:.1f}"
    assert '<nav class="toc">' in html and 'href="#recommendations"' in html


def test_xlsx_tables_and_native_charts_read_the_cells(written, report):
    from openpyxl import load_workbook

    wb = load_workbook(written["xlsx"])
    assert [ws.title for ws in wb.worksheets] == [s.title for s in document(report, "zh").sections]
    ws = wb.worksheets[1]
    assert ws.freeze_panes is not None
    # the dimension table: the scores as numbers with a one-decimal format
    rows = list(ws.iter_rows(values_only=False))
    found = {}
    for r in rows:
        if r[0].value in _dims(report) and isinstance(r[1].value, float) and r[1].number_format == "0.0":
            found.setdefault(r[0].value, r[1].value)
    assert found == pytest.approx(_dims(report))
    # native charts whose series point at the sheet's cells (live numbers)
    charts = ws._charts
    assert len(charts) >= 3
    ref = charts[0].series[0].val.numRef.f
    sheet, rng = ref.rsplit("!", 1)
    vals = [c[0].value for c in ws[rng.replace("$", "")]]
    assert vals == pytest.approx(list(_dims(report).values()))
    ipa_sheet = wb.worksheets[2]
    assert any(type(c).__name__ == "ScatterChart" for c in ipa_sheet._charts)
    font = ws.cell(row=1, column=1).font
    assert font.name == "Microsoft YaHei" and font.charset == 134


def test_pptx_charts_are_native_and_editable(written, report):
    from pptx import Presentation
    from pptx.enum.chart import XL_CHART_TYPE

    prs = Presentation(str(written["pptx"]))
    doc = document(report, "zh")
    charts = {}
    for slide in prs.slides:
        for shape in slide.shapes:
            if shape.has_chart:
                charts[slide.shapes.title.text_frame.text] = shape.chart
            # nothing outside the slide
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= prs.slide_width and shape.top + shape.height <= prs.slide_height
        assert doc.method_note[:40] in slide.notes_slide.notes_text_frame.text
    dims = charts[doc.charts()["dimensions"].title]
    assert dims.chart_type == XL_CHART_TYPE.COLUMN_CLUSTERED
    assert list(dims.plots[0].categories) == list(_dims(report))
    assert list(dims.plots[0].series[0].values) == pytest.approx(list(_dims(report).values()))
    assert dims.part.chart_workbook.xlsx_part is not None  # the data travel with the chart
    ipa = charts[doc.charts()["ipa"].title]
    assert ipa.chart_type == XL_CHART_TYPE.XY_SCATTER
    perf = list(report.analyses["ipa"].tables["items"]["performance"])
    assert sorted(ipa.plots[0].series[0].values) == pytest.approx(sorted(report.analyses["ipa"].tables["items"]["importance"]))
    assert len(perf) == len(ipa.plots[0].series[0].values)
    trend = charts[doc.charts()["trend"].title]
    assert trend.chart_type == XL_CHART_TYPE.LINE_MARKERS
    # Chinese text carries an East Asian typeface
    xml = prs.slides[0].shapes.title.text_frame._txBody.xml
    assert 'ea typeface="Microsoft YaHei"' in xml


def test_pptx_template_gives_the_masters(tmp_path, report):
    from pptx import Presentation
    from pptx.util import Inches

    tpl = Presentation()
    tpl.slide_width, tpl.slide_height = Inches(10), Inches(7.5)
    tpl.slides.add_slide(tpl.slide_layouts[0]).shapes.title.text = "TEMPLATE SLIDE"
    tpl.save(str(tmp_path / "corp.pptx"))
    out = write_report(report, "pptx", tmp_path / "t.pptx", "en", tmp_path / "corp.pptx")
    prs = Presentation(str(out))
    assert prs.slide_width == Inches(10)
    texts = [sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame]
    assert "TEMPLATE SLIDE" not in texts and texts[0].startswith("After-sales")


@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (make browser installs it)")
def test_pdf_text_has_the_numbers_and_chinese(written, report):
    from pypdf import PdfReader

    pdf = PdfReader(str(written["pdf"]))
    text = "".join(p.extract_text() for p in pdf.pages)
    t = report.scores.total.iloc[0]
    assert "售后服务满意度调查报告" in text.replace(" ", "")
    assert f"{t['csi']:.1f}" in text and "改进建议" in text
    assert pdf.pages[0].mediabox.width == pytest.approx(595, abs=2)  # A4


# --- the command as the docs give it ------------------------------------------------------
def test_command_with_every_option(files, tmp_path):
    out = tmp_path / "full.xlsx"
    res = runner.invoke(app, ["report", "--instrument", str(INST), str(files["responses"]), "--by", "branch",
                              "--period", "quarter", "--weights", "w", "--cases", str(files["cases"]),
                              "--lang", "en", "--format", "xlsx", "--output", str(out)])
    assert res.exit_code == 0, res.output
    assert "wrote" in res.output and out.stat().st_size > 10_000
    from openpyxl import load_workbook

    text = " ".join(str(c.value) for ws in load_workbook(out).worksheets for r in ws.iter_rows() for c in r
                    if c.value is not None)
    assert "weighted by the column w" in text and "Trend by quarter" in text
    assert "Complaints by category" in text


def test_bad_input_exits_2_with_a_message(files, tmp_path, monkeypatch):
    base = ["report", "-i", str(INST), str(files["responses"])]
    res = runner.invoke(app, [*base, "--format", "html"])
    assert res.exit_code == 2 and "--output" in res.output
    res = runner.invoke(app, [*base, "-o", str(tmp_path / "x.doc")])
    assert res.exit_code == 2 and "html, xlsx, pptx, pdf" in res.output
    res = runner.invoke(app, [*base, "-o", str(tmp_path / "x.pptx"), "--template", str(tmp_path / "none.pptx")])
    assert res.exit_code == 2 and "none.pptx" in res.output
    res = runner.invoke(app, ["report", "-o", str(tmp_path / "x.html")])
    assert res.exit_code == 2 and "--campaign" in res.output
    monkeypatch.setenv("MANYI_CHROMIUM", str(tmp_path / "no-such-browser"))
    res = runner.invoke(app, [*base, "--format", "pdf", "--output", str(tmp_path / "x.pdf")])
    assert res.exit_code == 2 and "apt-get install chromium" in res.output
    assert not (tmp_path / "x.pdf").exists()


def test_a_profile_still_written_into_is_removed_without_an_error(tmp_path):
    """Chromium's helpers may write into its profile for a moment after the browser has ended
    (a single removal then fails with "Directory not empty", which once failed `make demo`
    after the PDF was printed): the removal is tried again until the folder is gone."""
    import threading
    import time

    from manyi.present.report.to_pdf import remove_profile

    profile = tmp_path / "manyi-chromium-x"
    (profile / "Default").mkdir(parents=True)
    stop = time.monotonic() + 0.4

    def helper() -> None:  # a lingering child process writing its files
        k = 0
        while time.monotonic() < stop:
            try:
                (profile / "Default").mkdir(parents=True, exist_ok=True)
                (profile / "Default" / f"f{k}").write_bytes(b"x" * 100)
            except OSError:
                pass
            k += 1

    th = threading.Thread(target=helper)
    th.start()
    time.sleep(0.05)
    remove_profile(profile)  # no error while the helper writes
    th.join()
    remove_profile(profile)
    assert not profile.exists()


def test_cases_file_pareto_counts_by_hand(tmp_path):
    from manyi.services.report import case_figures

    pd.DataFrame({
        "kind": ["complaint", "complaint", "enquiry", "complaint", "投诉"],
        "category": ["billing", "waiting", "billing", "billing", "waiting"],
        "received_at": ["2026-01-03", "2026-01-09", "2026-02-01", "2026-02-11", "2026-02-12"],
    }).to_csv(tmp_path / "c.csv", index=False)
    res = case_figures(ReportRequest(cases=Source.of(tmp_path / "c.csv")))
    p = res.tables["pareto"]
    assert list(p["category"]) == ["billing", "waiting"] and list(p["complaints"]) == [2, 2]
    assert list(p["cumulative_share"]) == [0.5, 1.0]
    m = res.tables["by_month"]
    assert list(m["contacts"]) == [2, 3] and list(m["complaints"]) == [2, 2]


@pytest.mark.slow
def test_model_section_matches_the_fitted_model(tmp_path):
    from manyi.services.model import fit_model_file
    from manyi.services.requests import FitModelRequest

    model = example_path("ecsi")
    datasets.ecsi(n=400, seed=5).to_csv(tmp_path / "e.csv", index=False)
    rep = build_report(ReportRequest(instrument=Source.of(model), responses=Source.of(tmp_path / "e.csv"),
                                     model=Source.of(model), bootstrap=100, seed=3))
    fit = fit_model_file(FitModelRequest(model=Source.of(model), data=Source.of(tmp_path / "e.csv"),
                                         bootstrap=100, seed=3))
    doc = document(rep, "en")
    paths = doc.tables()["model_paths"].frame
    assert list(paths["Coefficient"]) == pytest.approx(list(fit.paths["estimate"]))
    assert "ipma" in doc.charts()
    assert any(r.kind == "model" for r in rep.recommendations)


@pytest.mark.slow
def test_report_of_a_campaign(store_url, files, report, tmp_path):
    """A stored campaign reports the same numbers as its file."""
    from manyi.services.store import create_campaign, import_file

    create_campaign("rep", Source.of(INST), url=store_url)
    import_file("rep", Source.of(files["responses"]), url=store_url)
    rep = build_report(ReportRequest(campaign="rep", by=["branch"]))
    a, b = rep.scores.total.iloc[0], report.scores.total.iloc[0]
    assert int(a["n"]) == int(b["n"]) and a["csi"] == pytest.approx(b["csi"], abs=1e-9)
    assert rep.params["campaign"] == "rep"
    out = tmp_path / "c.html"
    res = runner.invoke(app, ["report", "--campaign", "rep", "--by", "branch", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert f"n = {int(b['n'])}" in res.output
    assert "rep" in out.read_text(encoding="utf-8")


# --- the pictures ------------------------------------------------------------------------
def _ink(png: bytes) -> float:
    """The share of pixels that are not white."""
    from PIL import Image

    im = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    return float((im < 235).mean())


def _pdf_pngs(pdf: Path, scale: float = 0.6) -> list[bytes]:
    import pypdfium2

    out = []
    doc = pypdfium2.PdfDocument(str(pdf))
    for page in doc:
        buf = io.BytesIO()
        page.render(scale=scale).to_pil().save(buf, "PNG")
        out.append(buf.getvalue())
    return out


def _fonts(pdf: Path) -> set[str]:
    from pypdf import PdfReader

    names = set()
    for page in PdfReader(str(pdf)).pages:
        for f in (page.get("/Resources") or {}).get("/Font", {}).values():
            names.add(str(f.get_object().get("/BaseFont", "")))
    return names


CJK_FONT = re.compile(r"CJK|Han|Hei|WenQuanYi|YaHei|Droid ?Sans ?Fallback|Song|Ming", re.I)


@pytest.mark.slow
@pytest.mark.skipif(find_chromium() is None, reason="Chromium is not installed (make browser installs it)")
def test_html_and_pdf_render_with_chinese_text_and_charts(written, tmp_path):
    shot = tmp_path / "html.png"
    subprocess.run([find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    "--window-size=1100,2400", f"--screenshot={shot}", written["html"].resolve().as_uri()],
                   capture_output=True, timeout=120, check=False)
    assert shot.exists() and _ink(shot.read_bytes()) > 0.05
    pages = _pdf_pngs(written["pdf"])
    assert len(pages) >= 5 and all(_ink(p) > 0.005 for p in pages)
    # Chromium embeds its glyphs as Type 3 fonts (no names): the Chinese text must come back
    import unicodedata

    from pypdf import PdfReader

    # (NFKC: some glyphs map back to their Kangxi-radical look-alikes, ⽬ for 目)
    first = unicodedata.normalize("NFKC", PdfReader(str(written["pdf"])).pages[0].extract_text())
    first = first.replace(" ", "")
    assert "售后服务满意度调查报告" in first and "目录" in first


def _soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


@pytest.mark.slow
@pytest.mark.skipif(_soffice() is None, reason="LibreOffice is not installed (make browser installs it)")
@pytest.mark.parametrize("fmt", ["pptx", "xlsx"])
def test_deck_and_workbook_render_in_libreoffice(written, tmp_path, fmt):
    done = subprocess.run([_soffice(), "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                           "--convert-to", "pdf", "--outdir", str(tmp_path), str(written[fmt])],
                          capture_output=True, timeout=240, check=False)
    pdf = tmp_path / f"r.{fmt}.pdf" if (tmp_path / f"r.{fmt}.pdf").exists() else tmp_path / "r.pdf"
    assert pdf.exists(), done.stderr.decode()
    pages = _pdf_pngs(pdf, 0.5)
    assert len(pages) >= 5
    inked = [_ink(p) for p in pages]
    assert min(inked) > 0.002 and max(inked) > 0.05  # every page has something, charts have ink
    assert any(CJK_FONT.search(f) for f in _fonts(pdf)), _fonts(pdf)
