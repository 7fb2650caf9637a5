"""Commands: model fit (ACSI/ECSI by PLS path modelling)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from manyi.cli.common import (
    ColumnsOpt,
    DateOpt,
    HeaderRowOpt,
    LangOpt,
    OutputOpt,
    SeedOpt,
    SheetOpt,
    SourceOpt,
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
from manyi.present.terminal import pls_head, pls_tables

model_app = typer.Typer(
    help="Customer-satisfaction index models (PLS path modelling). 满意度指数模型。",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")


@model_app.command("fit")
def model_fit(
    data: Annotated[Path, typer.Argument(help="responses: .csv, .xlsx or .parquet / 数据文件")],
    model: Annotated[
        Path, typer.Option("--model", "-m", help="model YAML or instrument with model: / 模型文件")
    ],
    scheme: Annotated[str, typer.Option("--scheme", help="path | centroid | factorial / 内部权重方案")] = "",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="resamples (0: none) / 自助抽样次数")
    ] = 5000,
    seed: SeedOpt = 1,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json / 输出格式")] = "table",
    output: OutputOpt = None,
    ipma: Annotated[
        Path | None, typer.Option("--ipma", help="write the IPMA chart (HTML) / 输出 IPMA 图")
    ] = None,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    engine: Annotated[
        str,
        typer.Option("--engine", help="local | dask: the bootstrap's blocks here or on Dask / 本机或 Dask 集群"),
    ] = "local",
    scheduler: Annotated[
        str, typer.Option("--scheduler", help="Dask scheduler address / Dask 调度器地址")
    ] = "",
    lang: LangOpt = "",
) -> None:
    """Fit an ACSI/ECSI model by PLS path modelling, with a bootstrap. 估计满意度指数模型。"""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from manyi.services.model import fit_model_file
    from manyi.services.requests import FitModelRequest

    lg = lang_of(lang)
    fmt = out_format(fmt, output, ("table", "json"), lg)
    if fmt == "table" and output is not None:
        fmt = "json"
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=bootstrap == 0 or not err.is_terminal,  # nothing on pipes
        ) as prog:
            task = prog.add_task(t("pls.progress", lg), total=max(bootstrap, 1))
            req = request(
                FitModelRequest,
                lg,
                model=src(model),
                data=src(data),
                scheme=scheme or None,
                bootstrap=bootstrap,
                seed=seed,
                read=read_options(date_format, sheet, columns, source, header_row),
                engine=engine,
                scheduler=scheduler or None,
            )
            res = fit_model_file(
                req, progress=lambda done, total: prog.update(task, completed=done, total=total)
            )
    except ManyiError as exc:
        fail(exc, lg)
        return
    print_warnings(res.warnings, lg)
    if ipma is not None:
        from manyi.present.charts import chart

        chart(res, lg).write_html(ipma, include_plotlyjs=True)
        err.print(t("cli.written", lg, path=ipma), highlight=False)
    if fmt == "json":
        from manyi.present.json import dumps

        write_or_print(dumps(res.to_dict(lg)), output, "json", lg)
        return
    out.print(pls_head(res, lg), highlight=False)
    for table in pls_tables(res, lg):
        out.print(table)
