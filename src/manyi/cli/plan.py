"""Commands: sample (sampling plans) and weight (weighting to margins)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from manyi.cli.common import (
    ColumnsOpt,
    DateOpt,
    HeaderRowOpt,
    InstrumentOpt,
    LangOpt,
    SeedOpt,
    SheetOpt,
    SourceOpt,
    app,
    err,
    fail,
    lang_of,
    out,
    read_options,
    request,
    src,
)
from manyi.i18n import ManyiError, t, translator
from manyi.present.terminal import frame_table, named_values


@app.command()
def sample(
    customers: Annotated[
        Path, typer.Argument(help="customer list: .csv, .xlsx or .parquet / 客户名单")
    ],
    n: Annotated[int, typer.Option("--n", help="sample size (or use --moe) / 样本量", show_default=False)] = 0,
    moe: Annotated[float, typer.Option("--moe", help="target margin of error / 目标误差", show_default=False)] = 0.0,
    rate: Annotated[
        float, typer.Option("--rate", help="expected rate for --moe (default 0.5) / 预期比例（默认 0.5）")
    ] = 0.5,
    sd: Annotated[
        float, typer.Option("--sd", help="expected SD for a mean (--moe in its units) / 预期标准差", show_default=False)
    ] = 0.0,
    deff: Annotated[
        float, typer.Option("--deff", help="design effect: multiplies the size (default 1) / 设计效应（默认 1）")
    ] = 1.0,
    method: Annotated[str, typer.Option("--method", help="srs | systematic | stratified / 抽样方法：简单随机 | 系统 | 分层")] = "srs",
    strata: Annotated[str, typer.Option("--strata", help="stratum column / 分层列")] = "",
    allocation: Annotated[
        str, typer.Option("--allocation", help="proportional | equal | neyman / 样本分配：比例 | 等额 | 奈曼")
    ] = "proportional",
    sd_column: Annotated[
        str, typer.Option("--sd-column", help="numeric column for the stratum SDs (neyman, --moe) / 分层标准差所用数值列")
    ] = "",
    seed: SeedOpt = 1,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the sample / 输出文件")
    ] = None,
    lang: LangOpt = "",
) -> None:
    """Sample size and a seeded sample from a customer list. 抽样。"""
    from manyi.services.requests import SampleRequest
    from manyi.services.sampling import plan_sample

    lg = lang_of(lang)
    try:
        plan = plan_sample(
            request(
                SampleRequest,
                lg,
                customers=src(customers),
                n=n,
                moe=moe,
                rate=rate,
                sd=sd,
                method=method,
                strata=strata or None,
                allocation=allocation,
                sd_column=sd_column or None,
                deff=deff,
                seed=seed,
            )
        )
    except ManyiError as exc:
        fail(exc, lg)
        return
    picked = plan.sample
    out.print(
        t("sample.head", lg, N=plan.population, n=len(picked),
          method=translator(lg).get(f"value.method.{method}", method), seed=seed),
        highlight=False,
    )
    if "stratum" in picked and plan.sizes is not None:
        rows = [
            {
                "stratum": str(k),
                "population": int(plan.sizes[k]),
                "n": len(g),
                "design_weight": float(g["design_weight"].iloc[0]),
            }
            for k, g in picked.groupby("stratum", sort=True, dropna=False)
        ]
        out.print(frame_table("allocation", pd.DataFrame(rows), lg))
    if output is not None:
        if output.suffix.lower() == ".xlsx":
            picked.to_excel(output, index=False)
        else:
            picked.to_csv(output, index=False, encoding="utf-8-sig")
        err.print(t("cli.written", lg, path=output), highlight=False)


@app.command()
def weight(
    responses: Annotated[Path, typer.Argument(help="responses / 答卷文件")],
    instrument: InstrumentOpt,
    margins: Annotated[
        Path, typer.Option("--margins", help="CSV/XLSX: variable, category, share / 总体边际")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="responses with a weight column / 输出文件")
    ],
    method: Annotated[str, typer.Option("--method", help="rake | poststratify / 加权方法：迭代 | 事后分层")] = "rake",
    cap: Annotated[
        float, typer.Option("--cap", help="trim weights above cap × mean, re-rake (e.g. 5) / 权重上限（倍均值）", show_default=False)
    ] = 0.0,
    floor: Annotated[
        float, typer.Option("--floor", help="raise weights below floor × mean, re-rake (e.g. 0.2) / 权重下限（倍均值）", show_default=False)
    ] = 0.0,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="write the margins chart (HTML) / 输出边际分布图")
    ] = None,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    lang: LangOpt = "",
) -> None:
    """Weight responses to population margins (raking or post-stratification). 加权。"""
    from manyi.services.requests import WeightRequest
    from manyi.services.weighting import weight_file

    lg = lang_of(lang)
    try:
        res = weight_file(
            request(
                WeightRequest,
                lg,
                responses=src(responses),
                instrument=src(instrument),
                margins=src(margins),
                method=method,
                cap=cap or None,
                floor=floor or None,
                read=read_options(date_format, sheet, columns, source, header_row),
            )
        )
    except ManyiError as exc:
        fail(exc, lg)
        return
    for w in res.warnings:
        err.print("! " + w.render(lg), markup=False, highlight=False)
    if chart is not None:
        from manyi.present.charts import chart as draw

        draw(res.report, lg).write_html(chart, include_plotlyjs=True)
        err.print(t("cli.written", lg, path=chart), highlight=False)
    for k, df in res.report.tables.items():
        out.print(frame_table(k, named_values(res.report, df, lg), lg))
    if output.suffix.lower() == ".xlsx":
        res.table.to_excel(output, index=False)
    else:
        res.table.to_csv(output, index=False, encoding="utf-8-sig")
    err.print(t("cli.written", lg, path=output), highlight=False)
