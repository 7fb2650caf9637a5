"""Use case: the survey report (``manyi report``), built once and written in any format.

:func:`build_report` reads and scores the responses (by the ``--by`` columns, and by period
with the significance of each change), runs every analysis the instrument and the data allow
(SERVQUAL with expectations, IPA, key drivers, control charts, reliability), fits the CSI
model when one is given, counts the complaints of a cases file, and drafts the
recommendations (:mod:`manyi.core.report`). An analysis that cannot run on the data (no
expectations asked, too few periods) is left out with its reason, never the whole report.
:func:`write_report` renders the result as HTML, XLSX, PPTX or PDF (:mod:`manyi.present.report`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from manyi.core.messages import ManyiError, Message
from manyi.core.report import ReportData, draft, fielding, with_notes
from manyi.core.result import Result
from manyi.io.responses import ResponseSet, ValidationReport
from manyi.services.requests import AnalysisOptions, ReportRequest

FORMATS = ("html", "xlsx", "pptx", "pdf")


def _responses(req: ReportRequest) -> tuple[ResponseSet, dict[str, Any]]:
    """The validated responses and what is known of the fielding (campaign, response rate)."""
    if req.campaign:
        from manyi.services.store import campaign_responses, show_campaign

        rs = campaign_responses(req.campaign)
        info = show_campaign(req.campaign)
        rate = info["answered"] / info["invitations"] if info["invitations"] else None
        return rs, {
            "campaign": req.campaign,
            "purpose": info.get("purpose") or None,
            "invited": info["invitations"] or None,
            "answered": info["answered"] if info["invitations"] else None,
            "response_rate": rate,
        }
    if req.instrument is None or req.responses is None:
        raise ManyiError(Message("report.needs_input"))
    from manyi.services.scoring import load, read

    inst = load(req.instrument)
    return read(req.responses, inst, req.read), {}


def _auto_period(data: pd.DataFrame) -> str | None:
    """Month when the answers span at least two months, else no trend."""
    if "submitted_at" not in data:
        return None
    s = pd.to_datetime(data["submitted_at"], errors="coerce", utc=True).dropna()
    if s.empty:
        return None
    months = s.dt.year * 12 + s.dt.month
    return "month" if months.nunique() >= 2 else None


def _analyses(
    rs: ResponseSet, req: ReportRequest, period: str | None
) -> tuple[dict[str, Result], dict[str, list[Message]]]:
    from manyi.services.analysis import analyze

    inst = rs.instrument
    opts = AnalysisOptions(
        weights=req.weights, bootstrap=req.bootstrap, seed=req.seed, period=period or "month"
    )
    stated = any(i.importance for i in inst.items) and any(
        f"{i.id}__importance" in rs.data for i in inst.items
    )
    plan: list[tuple[str, AnalysisOptions]] = [
        ("servqual", opts),
        ("ipa", opts.model_copy(update={"importance": "stated" if stated else "derived"})),
        ("drivers", opts),
        ("spc", opts),
        ("reliability", opts.model_copy(update={"factors": None})),
    ]
    done: dict[str, Result] = {}
    skipped: dict[str, list[Message]] = {}
    outcome = any(
        (q := inst.metric_question(m)) is not None
        and q.id in rs.data
        and rs.data[q.id].notna().any()
        for m in ("nps", "csat")
    )
    for name, o in plan:
        if name == "spc" and "submitted_at" not in rs.data:
            skipped[name] = [Message("an.no_periods", {"minimum": 3, "n": 0})]
            continue
        if name == "drivers" and not outcome:
            # the index is made of the dimensions: it cannot be their outcome (R² = 1)
            skipped[name] = [Message("report.no_outcome")]
            continue
        try:
            done[name] = analyze(name, rs, [], o)
        except ManyiError as exc:
            skipped[name] = list(exc.messages)
    return done, skipped


def _model(req: ReportRequest, rs: ResponseSet) -> Result | None:
    if req.model is None:
        return None
    if req.responses is not None:
        from manyi.services.model import fit_model_file
        from manyi.services.requests import FitModelRequest

        fit = fit_model_file(
            FitModelRequest(
                model=req.model,
                data=req.responses,
                bootstrap=req.bootstrap,
                seed=req.seed,
                read=req.read,
            )
        )
    else:
        from manyi.io.models import load_model

        m = req.model
        pls, _ = load_model(m.path if m.path is not None else m.data, m.name)
        fit = pls.fit(rs.data, bootstrap=req.bootstrap, seed=req.seed)
    return fit.as_result()


#: Columns a cases file may have (``manyi cases import`` takes the same file).
CASE_COLUMNS = ("kind", "category", "channel", "received_at")


def case_figures(req: ReportRequest) -> Result | None:
    """Complaint figures of a cases file: the Pareto of categories and the volume by month."""
    if req.cases is None:
        return None
    from manyi.io.responses import read_table

    c = req.cases
    df = read_table(c.path if c.path is not None else c.data, name=c.name)
    df.columns = [str(x).strip().lower() for x in df.columns]
    if "category" not in df:
        raise ManyiError(
            Message(
                "report.cases_columns",
                {"file": c.label, "have": ", ".join(map(str, df.columns[:12]))},
            )
        )
    if "kind" in df:
        kinds = df["kind"].astype(str).str.strip().str.lower()
        complaints = df[kinds.isin(["complaint", "投诉"])]
    else:
        complaints = df
    cat = complaints["category"].astype(str).str.strip().replace({"": "–", "nan": "–"})
    counts = cat.value_counts()
    n = int(counts.sum())
    pareto = pd.DataFrame(
        {
            "category": counts.index.astype(str),
            "complaints": counts.to_numpy(int),
            "share": counts.to_numpy(float) / max(n, 1),
        }
    )
    pareto["cumulative_share"] = pareto["share"].cumsum()
    tables = {"pareto": pareto}
    if "received_at" in df:
        t = pd.to_datetime(df["received_at"], errors="coerce")
        month = t.dt.strftime("%Y-%m")
        vol = pd.DataFrame({"month": month, "complaint": df.index.isin(complaints.index)})
        vol = vol.dropna(subset=["month"])
        by = vol.groupby("month").agg(
            contacts=("complaint", "size"), complaints=("complaint", "sum")
        )
        tables["by_month"] = by.reset_index()
    return Result("cases", n, tables, params={"file": c.label, "contacts": len(df)})


def _notes(req: ReportRequest) -> tuple[list[dict[str, str]], bool]:
    if req.notes is None:
        return [], False
    from manyi.io.notes import load_notes

    n = req.notes
    return load_notes(n.path if n.path is not None else n.data, n.label)


def build_report(req: ReportRequest) -> ReportData:
    """Everything the report shows, computed once (see the module docstring)."""
    from manyi.services.scoring import compare_previous, score

    rs, fielded = _responses(req)
    if len(rs) == 0:
        raise ManyiError(
            Message("score.no_rows", {"file": rs.report.source, "summary": rs.report.summary()})
        )
    notes, replace = _notes(req)  # a bad notes file stops before the long work
    period = req.period or _auto_period(rs.data)
    scores = score(rs, by=req.by, weights=req.weights)
    trend = None
    if period:
        trend = score(rs, period=period, weights=req.weights)
        if len(trend.groups) >= 2:
            compare_previous(trend)
    analyses, skipped = _analyses(rs, req, period)
    model = _model(req, rs)
    cases = case_figures(req)
    first, last = fielding(rs.data.get("submitted_at"))
    data = ReportData(
        instrument=rs.instrument,
        scores=scores,
        trend=trend,
        analyses=analyses,
        skipped=skipped,
        validation=rs.report if rs.report is not None else ValidationReport(source="–"),
        model=model,
        cases=cases,
        params={
            "by": list(req.by),
            "period": period,
            "weights": req.weights,
            "source": rs.report.source if rs.report is not None else "",
            "first": first,
            "last": last,
            "bootstrap": req.bootstrap,
            "seed": req.seed,
            **fielded,
        },
    )
    data.recommendations = with_notes(draft(data), notes, replace)
    return data


def write_report(
    data: ReportData,
    fmt: str,
    output: str | Path,
    lang: str,
    template: str | Path | None = None,
    browser: Any = None,
) -> Path:
    """Write the report in ``fmt`` (html, xlsx, pptx, pdf) to ``output``. For a PDF,
    ``browser`` may be a Chromium started before the computation
    (:func:`manyi.present.report.start_browser`), which saves its start-up time."""
    from manyi.present import report as rep

    if fmt not in FORMATS:
        raise ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": ", ".join(FORMATS)}))
    out = Path(output)
    doc = rep.document(data, lang)
    if fmt == "html":
        rep.write_html(doc, out)
    elif fmt == "xlsx":
        rep.write_xlsx(doc, out)
    elif fmt == "pptx":
        rep.write_pptx(doc, out, template)
    else:
        rep.write_pdf(doc, out, browser)
    return out


def summary_numbers(data: ReportData) -> dict[str, Any]:
    """The headline figures the command prints with the file it wrote."""
    t = data.scores.total.iloc[0]
    return {
        "n": int(t["n"]),
        "csi": float(t["csi"]),
        "satisfied_rate": float(t["satisfied_rate"]),
        "recommendations": len(data.recommendations),
    }
