"""Command: report (the survey report in HTML, XLSX, PPTX or PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from manyi.cli.common import (
    ColumnsOpt,
    DateOpt,
    EngineOpt,
    HeaderRowOpt,
    LangOpt,
    SchedulerOpt,
    SheetOpt,
    SourceOpt,
    WeightsOpt,
    app,
    err,
    fail,
    lang_of,
    print_validation,
    read_options,
    request,
    src,
)
from manyi.i18n import ManyiError, Message, t

#: The format of an output file's extension, when --format is not given.
SUFFIXES = {".html": "html", ".htm": "html", ".xlsx": "xlsx", ".pptx": "pptx", ".pdf": "pdf"}


@app.command()
def report(
    responses: Annotated[
        Path | None, typer.Argument(help="responses: .csv, .xlsx, .parquet, .sav ... / 答卷文件")
    ] = None,
    instrument: Annotated[
        Path | None, typer.Option("--instrument", "-i", help="instrument YAML / 问卷定义")
    ] = None,
    campaign: Annotated[
        str, typer.Option("--campaign", help="report on a campaign of the store / 调查活动")
    ] = "",
    by: Annotated[
        str, typer.Option("--by", help="units or segments to rank, comma-separated / 分组列")
    ] = "",
    period: Annotated[
        str,
        typer.Option(
            "--period", help="month | quarter | year (default: month when the answers span months) / 期间"
        ),
    ] = "",
    weights: WeightsOpt = "",
    model: Annotated[
        Path | None,
        typer.Option("--model", help="a CSI model (PLS) to fit on the responses / 满意度指数模型"),
    ] = None,
    cases: Annotated[
        Path | None,
        typer.Option(
            "--cases", help="cases file (CSV/XLSX with category, kind, received_at) / 工单文件"
        ),
    ] = None,
    notes: Annotated[
        Path | None, typer.Option("--notes", help="your recommendations: YAML or Markdown / 建议")
    ] = None,
    template: Annotated[
        Path | None,
        typer.Option("--template", help="PPTX: a template deck for corporate colours / 模板"),
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="html | xlsx | pptx | pdf / 输出格式（默认按文件扩展名）")] = "",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="the report file / 报告文件")
    ] = None,
    bootstrap: Annotated[
        int,
        typer.Option("--bootstrap", help="resamples for key drivers and the model / 自助抽样次数"),
    ] = 200,
    seed: Annotated[int, typer.Option("--seed", help="random seed / 随机种子")] = 1,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = "",
    lang: LangOpt = "",
) -> None:
    """The survey report: purpose and method, results, analysis, recommendations, appendix. 满意度调查报告。"""
    from manyi.services.report import FORMATS, build_report, summary_numbers, write_report
    from manyi.services.requests import ReportRequest

    lg = lang_of(lang)
    browser = None
    try:
        if output is None:
            raise ManyiError(Message("report.needs_output"))
        fmt = fmt.strip().lower() or SUFFIXES.get(output.suffix.lower(), "")
        if fmt not in FORMATS:
            raise ManyiError(
                Message(
                    "cli.bad_format", {"fmt": fmt or output.suffix, "choices": ", ".join(FORMATS)}
                )
            )
        if template is not None and not template.is_file():
            raise ManyiError(
                Message(
                    "cli.os_error", {"file": str(template), "reason": t("report.not_a_file", lg)}
                )
            )
        if fmt == "pdf":  # Chromium starts now, while the report is computed
            from manyi.present.report import start_browser

            browser = start_browser()
            if browser is None:
                raise ManyiError(Message("report.no_chromium"))
        if not campaign and (instrument is None or responses is None):
            raise ManyiError(Message("report.needs_input"))
        req = request(
            ReportRequest,
            lg,
            instrument=src(instrument) if instrument is not None and not campaign else None,
            responses=src(responses) if responses is not None and not campaign else None,
            campaign=campaign or None,
            by=[b.strip() for b in by.split(",") if b.strip()],
            period=period or None,
            weights=weights or None,
            model=src(model) if model is not None else None,
            cases=src(cases) if cases is not None else None,
            notes=src(notes) if notes is not None else None,
            bootstrap=bootstrap,
            seed=seed,
            read=read_options(date_format, sheet, columns, source, header_row, engine=engine, scheduler=scheduler),
        )
        data = build_report(req)
        write_report(data, fmt, output, lg, template, browser)
    except ManyiError as exc:
        fail(exc, lg)
        return
    finally:
        if browser is not None:
            browser.close()
    print_validation(data.validation, [], lg, limit=5)
    s = summary_numbers(data)
    err.print(
        t(
            "report.written",
            lg,
            path=str(output),
            fmt=fmt,
            n=s["n"],
            csi=f"{s['csi']:.1f}",
            rate=f"{100 * s['satisfied_rate']:.1f}%",
            recs=s["recommendations"],
        ),
        highlight=False,
    )
