"""Commands: validate, score, demo."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from manyi.cli.common import (
    FORMAT_OF_SUFFIX,
    ColumnsOpt,
    DateOpt,
    HeaderRowOpt,
    InstrumentOpt,
    LangOpt,
    OutputOpt,
    SheetOpt,
    SourceOpt,
    WeightsOpt,
    app,
    err,
    fail,
    lang_of,
    out,
    out_format,
    print_report,
    read_options,
    request,
    src,
)
from manyi.i18n import ManyiError, Message, t
from manyi.present.terminal import pls_tables, score_tables


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="instrument YAML file / 问卷定义文件")],
    lang: LangOpt = "",
) -> None:
    """Check an instrument (survey definition) file. 校验问卷定义文件。"""
    from manyi.io.instruments import load_instrument

    lg = lang_of(lang)
    try:
        inst = load_instrument(file)
    except ManyiError as exc:
        err.print(t("inst.errors", lg, n=len(exc.messages), file=file.name), style="bold red")
        for m in exc.messages:
            err.print(m.render(lg), markup=False, highlight=False)
        raise typer.Exit(2) from None
    out.print(inst.summary(str(file), lg), markup=False, highlight=False)
    for note in inst.notes:
        err.print("! " + note.render(lg), markup=False, highlight=False)


@app.command()
def score(
    responses: Annotated[
        Path | None,
        typer.Argument(help="responses: .csv, .xlsx, .parquet, or a Parquet dataset (folder, quoted glob, URL) / 答卷文件或 Parquet 数据集"),
    ] = None,
    instrument: Annotated[
        Path | None, typer.Option("--instrument", "-i", help="instrument YAML / 问卷定义")
    ] = None,
    campaign: Annotated[
        str, typer.Option("--campaign", help="score a campaign of the store / 调查活动")
    ] = "",
    by: Annotated[str, typer.Option("--by", help="segment columns, comma-separated / 分组列")] = "",
    period: Annotated[str, typer.Option("--period", help="month | quarter | year / 期间")] = "",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | csv | json | xlsx / 输出格式")] = "table",
    output: OutputOpt = None,
    respondents: Annotated[
        Path | None, typer.Option("--respondents", help="per-response scores file / 逐份得分文件")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="stop at the first bad value / 遇错即停")
    ] = False,
    weights: WeightsOpt = "",
    compare: Annotated[
        str,
        typer.Option(
            "--compare", help="previous: test changes against the previous period / 环比检验"
        ),
    ] = "",
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    engine: Annotated[
        str,
        typer.Option(
            "--engine",
            help="local | dask: a Parquet dataset (folder, glob, URL) here or on Dask / 本机或 Dask 集群",
        ),
    ] = "local",
    scheduler: Annotated[
        str, typer.Option("--scheduler", help="Dask scheduler address / Dask 调度器地址")
    ] = "",
    lang: LangOpt = "",
) -> None:
    """Score responses: index, satisfaction rate, NPS, dimensions, per group. 计算满意度得分。"""
    from manyi.services.requests import ScoreRequest
    from manyi.services.scoring import export, score_file, write_respondents

    lg = lang_of(lang)
    fmt = out_format(fmt, output, ("table", "csv", "json", "xlsx"), lg)
    try:
        keys = [b.strip() for b in by.split(",") if b.strip()]
        if campaign:
            from manyi.services.store import score_campaign

            result = score_campaign(
                campaign, keys, period or None, weights or None, compare or None
            )
        elif instrument is None or responses is None:
            raise ManyiError(Message("store.need_source"))
        else:
            result = score_file(
                request(
                    ScoreRequest,
                    lg,
                    instrument=src(instrument),
                    responses=src(responses),
                    by=keys,
                    period=period or None,
                    weights=weights or None,
                    compare=compare or None,
                    read=read_options(date_format, sheet, columns, source, header_row, strict=strict,
                                      engine=engine, scheduler=scheduler),
                    respondents=respondents is not None,
                )
            )
        if fmt == "table":
            print_report(result, lg)
            for table in score_tables(result, lg):
                out.print(table)
            if output is not None:
                export(result, FORMAT_OF_SUFFIX.get(output.suffix.lower(), "csv"), output, lg)
                err.print(t("cli.written", lg, path=output), highlight=False)
        else:
            text = export(result, fmt, output, lg)
            if text is not None:
                sys.stdout.write(text)
            if output is not None:
                err.print(t("cli.written", lg, path=output), highlight=False)
            if fmt != "json":
                print_report(result, lg)
        if respondents is not None:
            write_respondents(result, respondents)
            err.print(t("cli.written", lg, path=respondents), highlight=False)
    except ManyiError as exc:
        fail(exc, lg)


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="where to write the demo / 输出目录")] = Path(
        "manyi-demo"
    ),
    seed: Annotated[int, typer.Option(help="random seed / 随机种子")] = 7,
    force: Annotated[
        bool, typer.Option("--force", help="overwrite an existing folder / 覆盖已有目录")
    ] = False,
    lang: LangOpt = "",
) -> None:
    """Write example instruments and generated data, then score them. 演示。"""
    from manyi.services.demo import run_demo

    lg = lang_of(lang)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())) and not force:
        fail(ManyiError(Message("cli.demo_exists", {"dir": str(directory)})), lg)
    try:
        res = run_demo(directory, seed=seed, lang=lg)
    except ManyiError as exc:
        fail(exc, lg)
        return
    print_report(res.by_branch, lg, limit=10)
    for table in score_tables(res.by_branch, lg):
        out.print(table)
    m = res.csi_model
    out.print(
        t("pls.demo_head", lg, n=m.n, b=m.bootstrap.resamples if m.bootstrap else 0),
        highlight=False,
    )
    for table in pls_tables(m, lg)[:2]:
        out.print(table)
    out.print(t("cli.demo_files", lg, dir=res.directory), highlight=False)
    for f in res.files:
        out.print(f"  {f}", highlight=False)
    out.print(
        t(
            "cli.demo_next",
            lg,
            inst=res.directory / "instruments" / "after-sales.yaml",
            data=res.directory / "after-sales-responses.csv",
        ),
        highlight=False,
    )
    model_file, model_data = (
        res.directory / "instruments" / "ecsi.yaml",
        res.directory / "ecsi-responses.csv",
    )
    out.print(t("cli.demo_next_model", lg, inst=model_file, data=model_data), highlight=False)
    if res.reports:
        out.print(t("cli.demo_report", lg, files=", ".join(p.name for p in res.reports)), highlight=False)
    if res.report_note is not None:
        err.print("! " + res.report_note.render(lg), markup=False, highlight=False)
    if res.survey_link:
        out.print(
            t("cli.demo_survey", lg, campaign=res.campaign, link=res.survey_link), highlight=False
        )
    elif res.store_note is not None:
        err.print("! " + res.store_note.render(lg), markup=False, highlight=False)


instrument_app = typer.Typer(help="Draft and check instruments. 问卷定义。", no_args_is_help=True)
app.add_typer(instrument_app, name="instrument")


@instrument_app.command("infer")
def instrument_infer(
    file: Annotated[Path, typer.Argument(help="a response file or a tool's export / 答卷文件")],
    output: Annotated[Path, typer.Option("--output", "-o", help="the instrument YAML to write / 输出文件")],
    source: SourceOpt = "",
    sheet: SheetOpt = "",
    header_row: HeaderRowOpt = 0,
    lang: LangOpt = "",
) -> None:
    """Draft an instrument from a response file: items, scales, NPS, segments, open questions,
    each with its column. 由答卷文件起草问卷定义。"""
    from manyi.io.infer import infer
    from manyi.io.instruments import parse_instrument

    lg = lang_of(lang)
    try:
        text = infer(file, source=source or None, header_row=header_row or None, sheet=sheet or None)
        inst = parse_instrument(text, output.name)
    except ManyiError as exc:
        fail(exc, lg)
        return
    output.write_text(text, encoding="utf-8")
    out.print(t("inst.inferred", lg, file=output, items=len(inst.item_ids), questions=len(inst.questions)),
              highlight=False)


@app.command("export")
def export_responses(
    instrument: InstrumentOpt,
    responses: Annotated[Path, typer.Argument(help="response file / 答卷文件")],
    output: Annotated[
        Path, typer.Option("--output", "-o", help=".sav, .zsav, .parquet, .xlsx or .csv / 输出文件")
    ],
    labels: Annotated[
        bool, typer.Option("--labels", help="CSV/XLSX: question texts as headers, scale labels as answers / 用标签")
    ] = False,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    lang: LangOpt = "",
) -> None:
    """Write the checked responses for other tools: SPSS with variable and value labels,
    Parquet, XLSX or CSV, in the chosen language. 导出答卷（SPSS、Parquet、Excel、CSV）。"""
    from manyi.io.writers import write_responses
    from manyi.services.scoring import load, read

    lg = lang_of(lang)
    try:
        inst = load(src(instrument))
        rs = read(src(responses), inst, read_options(date_format, sheet, columns, source, header_row))
        n = write_responses(rs, inst, output, lg, labels)
    except ManyiError as exc:
        fail(exc, lg)
        return
    from manyi.cli.common import print_validation

    print_validation(rs.report, rs.report.warnings, lg)
    out.print(t("resp.exported", lg, file=output, n=n, rejected=rs.report.rows_rejected), highlight=False)
