"""Command: analyze NAME (every analysis of the services registry)."""

from __future__ import annotations

from typing import Annotated

import typer

from manyi.cli.common import (
    FORMAT_OF_SUFFIX,
    ChartOpt,
    ColumnsOpt,
    DateOpt,
    EngineOpt,
    HeaderRowOpt,
    InstrumentOpt,
    LangOpt,
    OutputOpt,
    ResponsesArg,
    SchedulerOpt,
    SheetOpt,
    SourceOpt,
    WeightsOpt,
    app,
    err,
    fail,
    lang_of,
    out,
    out_format,
    print_warnings,
    read_options,
    request,
    src,
    write_or_print,
)
from manyi.i18n import ManyiError, t
from manyi.present.terminal import frame_table


@app.command()
def analyze(
    name: Annotated[
        str,
        typer.Argument(
            help="the analysis, e.g. ipa, servqual, drivers (an unknown name lists all) / 分析名称"
        ),
    ],
    responses: ResponsesArg,
    instrument: InstrumentOpt,
    by: Annotated[str, typer.Option("--by", help="segment columns / 分组列")] = "",
    period: Annotated[
        str, typer.Option("--period", help="compare/spc: month | quarter | year / 期间")
    ] = "",
    importance: Annotated[
        str, typer.Option("--importance", help="ipa: stated | derived / 重要性来源（自评 | 推导）")
    ] = "stated",
    cross: Annotated[str, typer.Option("--cross", help="ipa: mean | midpoint / 象限分界（均值 | 量表中点）")] = "mean",
    adjust: Annotated[str, typer.Option("--adjust", help="compare: holm | bh | none / 多重比较校正")] = "holm",
    outcome: Annotated[
        str, typer.Option("--outcome", help="drivers: nps | csi | dimension | item / 结果变量")
    ] = "",
    driver_level: Annotated[
        str, typer.Option("--drivers", help="drivers: dimensions | items / 驱动因素层级")
    ] = "dimensions",
    factors: Annotated[
        int, typer.Option("--factors", help="reliability: factors (0: parallel analysis) / 因子数（0：平行分析）")
    ] = 0,
    weights: WeightsOpt = "",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | csv / 输出格式")] = "table",
    output: OutputOpt = None,
    chart: ChartOpt = None,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    engine: EngineOpt = "local",
    scheduler: SchedulerOpt = "",
    lang: LangOpt = "",
) -> None:
    """Analyses that say what to fix: SERVQUAL gaps, IPA, Kano, comparisons, control charts. 分析。"""

    import pandas as pd

    from manyi.present import charts, terminal
    from manyi.present.json import dumps
    from manyi.services.analysis import Options, analyze_file
    from manyi.services.requests import AnalyzeRequest

    lg = lang_of(lang)
    fmt = out_format(fmt, output, ("table", "json", "csv"), lg)
    if fmt == "table" and output is not None:
        fmt = FORMAT_OF_SUFFIX.get(output.suffix.lower(), "csv")
    opts = request(
        Options,
        lg,
        importance=importance,
        cross=cross,
        adjust=adjust,
        period=period or None,
        outcome=outcome,
        factors=factors or None,
        weights=weights or None,
        drivers=driver_level,
    )
    try:
        keys = [b.strip() for b in by.split(",") if b.strip()]
        req = request(
            AnalyzeRequest,
            lg,
            name=name,
            instrument=src(instrument),
            responses=src(responses),
            by=keys,
            options=opts,
            read=read_options(date_format, sheet, columns, source, header_row, engine=engine, scheduler=scheduler),
        )
        res = analyze_file(req)
        if chart is not None and res.kind in charts.CHARTS:
            charts.chart(res, lg).write_html(chart, include_plotlyjs=True)
            err.print(t("cli.written", lg, path=chart), highlight=False)
    except ManyiError as exc:
        fail(exc, lg)
        return
    print_warnings(res.warnings, lg)
    tables = terminal.display_tables(res, lg)
    if fmt == "json":
        doc = res.to_dict(lg)
        doc["tables"] = {k: v for k, v in doc["tables"].items()}
        from manyi.core.result import records

        doc["tables"] = {k: records(df) for k, df in tables.items()}
        text = dumps(doc)
    elif fmt == "csv":
        frames = [df.assign(table=k)[["table", *df.columns]] for k, df in tables.items()]
        text = pd.concat(frames, ignore_index=True).to_csv(index=False)
    else:
        for k, df in tables.items():
            out.print(frame_table(k, terminal.named_values(res, df, lg), lg))
        return
    write_or_print(text, output, fmt, lg)
