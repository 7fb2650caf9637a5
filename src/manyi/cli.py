"""The ``manyi`` command line. Parses, calls ``services``, renders; holds no business rules."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from manyi.i18n import ManyiError, Message, default_lang, t

app = typer.Typer(
    help="manyi (满意): customer-satisfaction management. 客户满意度管理。",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# a pipe or a file gets a wide table rather than Rich's 80-column default
out = Console(soft_wrap=False, width=None if sys.stdout.isatty() else 160)
err = Console(stderr=True, soft_wrap=True)

if TYPE_CHECKING:
    from manyi.core.scoring import ScoreResult

F = TypeVar("F", bound=Callable[..., Any])
LangOpt = Annotated[str, typer.Option("--lang", help="zh | en (default: $MANYI_LANG or en)")]
DateOpt = Annotated[
    str,
    typer.Option("--date-format", help="dates like 03/02/2026: dmy | mdy | ymd / 日期顺序"),
]
SheetOpt = Annotated[str, typer.Option("--sheet", help="XLSX: the sheet to read / 工作表")]


def _lang(lang: str | None) -> str:
    """The language asked for (zh, en; also zh-CN, en_US, ...), else $MANYI_LANG; an unknown
    one is an error rather than a silent English."""
    if not lang:
        return default_lang()
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if code in ("zh", "en"):
        return code
    lg = default_lang()
    err.print(f"[bold red]{t('cli.error', lg)}:[/] ", end="")
    err.print(t("cli.bad_lang", lg, lang=lang), markup=False, highlight=False)
    raise typer.Exit(2)


FORMAT_OF_SUFFIX = {".json": "json", ".csv": "csv", ".xlsx": "xlsx"}


def _format(fmt: str, output: Path | None, allowed: tuple[str, ...], lang: str) -> str:
    """The output format: as given, or from the output file's extension when ``--format`` is
    left at ``table`` (the table still goes to the screen). A format that contradicts the
    extension (``-f csv -o t.xlsx``) is an error."""
    if fmt not in allowed:
        _fail(
            ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": ", ".join(allowed)})), lang
        )
    if output is None:
        return fmt
    by_ext = FORMAT_OF_SUFFIX.get(output.suffix.lower())
    if fmt != "table" and by_ext is not None and by_ext != fmt:
        _fail(
            ManyiError(
                Message(
                    "cli.format_mismatch", {"fmt": fmt, "file": output.name, "ext": output.suffix}
                )
            ),
            lang,
        )
    if fmt == "table" and by_ext == "xlsx" and "xlsx" not in allowed:
        _fail(
            ManyiError(Message("cli.bad_format", {"fmt": "xlsx", "choices": ", ".join(allowed)})),
            lang,
        )
    return fmt


def _fail(exc: ManyiError, lang: str) -> None:
    err.print(f"[bold red]{t('cli.error', lang)}:[/] ", end="")
    err.print(exc.render(lang), markup=False, highlight=False)
    raise typer.Exit(2)


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="instrument YAML file / 问卷定义文件")],
    lang: LangOpt = "",
) -> None:
    """Check an instrument (survey definition) file. 校验问卷定义文件。"""
    from manyi.io.instruments import load_instrument

    lg = _lang(lang)
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


def _fmt(v: Any, spec: str = ".1f") -> str:
    try:
        if v is None or v is getattr(sys.modules.get("pandas"), "NA", None) or v != v:
            return "–"
        return format(float(v), spec)
    except (TypeError, ValueError):
        return str(v)


def _ci(lo: Any, hi: Any, scale: float = 1.0, spec: str = ".1f") -> str:
    if _fmt(lo) == "–" or _fmt(hi) == "–":
        return "–"
    if lo < 0 or hi < 0:  # "-8.2–-6.5" reads badly
        return f"{_fmt(scale * lo, spec)}, {_fmt(scale * hi, spec)}"
    return f"{_fmt(scale * lo, spec)}–{_fmt(scale * hi, spec)}"


def _key_label(result: ScoreResult, key: str, value: Any, lang: str) -> str:
    """A group key as the user reads it: a choice's label in ``lang``, else the value."""
    if value is None or value != value:
        return "–"
    try:
        q = result.instrument.question(key)
    except KeyError:
        return str(value)
    for c in q.choices or []:
        if not isinstance(c, str) and c.id == value:
            return c.label.get(lang)
    return str(value)


def _group_labels(result: ScoreResult, lang: str) -> list[str]:
    labels = []
    for _, row in result.groups.iterrows():
        label = " · ".join(_key_label(result, k, row[k], lang) for k in result.keys)
        labels.append(label or t("col.all", lang))
    return labels


def scorecard_table(result: ScoreResult, lang: str) -> Table:
    """The scorecard: one row per group, then the total; index and rate with 95 % intervals."""
    import pandas as pd

    inst = result.instrument
    table = Table(
        title=t("title.scorecard", lang, title=inst.title.get(lang)), title_justify="left"
    )
    table.add_column(t("col.group", lang))
    table.add_column(t("col.n", lang), justify="right")
    table.add_column(f"{t('col.csi', lang)} ({t('col.csi_ci', lang)})", justify="right")
    table.add_column(f"{t('col.rate', lang)} ({t('col.rate_ci', lang)})", justify="right")
    table.add_column(t("col.meets", lang), justify="center")
    metrics = [
        m for m in ("nps", "csat", "ces") if m in result.groups and result.groups[m].notna().any()
    ]
    for m in metrics:
        table.add_column(t(f"col.{m}", lang), justify="right")
    changes = "csi_change" in result.groups
    if changes:
        table.add_column(t("col.change", lang), justify="right")

    def add(row: Any, label: str, bold: bool = False) -> None:
        meets = row["meets_target"]
        meets = None if meets is None or pd.isna(meets) else bool(meets)
        cells = [
            label,
            f"{int(row['n'])}{'*' if bool(row['small_sample']) else ''}",
            f"{_fmt(row['csi'])} ({_ci(row['csi_ci_low'], row['csi_ci_high'])})",
            f"{_fmt(100 * row['satisfied_rate'])}% "
            f"({_ci(row['satisfied_rate_ci_low'], row['satisfied_rate_ci_high'], 100)})",
            "–" if meets is None else ("[green]✓[/]" if meets else "[red]✗[/]"),
        ]
        for m in metrics:
            lo, hi = row.get(f"{m}_ci_low"), row.get(f"{m}_ci_high")
            cells.append(f"{_fmt(row[m])} ({_ci(lo, hi)})" if lo is not None else _fmt(row[m]))
        if changes:
            ch = row.get("csi_change")
            if ch is None or ch != ch:
                cells.append("–")
            else:
                star = "*" if row.get("change_significant") else ""
                cells.append(("[green]▲" if ch > 0 else "[red]▼") + f" {ch:+.1f}{star}[/]")
        table.add_row(*cells, style="bold" if bold else None)

    for label, (_, row) in zip(_group_labels(result, lang), result.groups.iterrows(), strict=True):
        add(row, label)
    if result.keys:
        table.add_section()
        add(result.total.iloc[0], t("col.all", lang), bold=True)
    target = f"{100 * inst.scoring.target_rate:.0f}%"
    table.caption = (
        f"{t('col.target', lang)} {target} · satisfied = index ≥ {inst.scoring.satisfied_at:g} · * n < 30: few responses, wide intervals"
        if lang == "en"
        else f"{t('col.target', lang)} {target} · 满意 = 指数 ≥ {inst.scoring.satisfied_at:g} · * 样本量 < 30：答卷少，区间宽"
    )
    return table


def dimensions_table(result: ScoreResult, lang: str) -> Table:
    """Dimension indices (0-100) per group, then the total."""
    inst = result.instrument
    table = Table(title=t("title.dimensions", lang), title_justify="left")
    table.add_column(t("col.group", lang))
    for d in inst.dimensions:
        table.add_column(d.label.get(lang), justify="right")

    def cells(row: Any) -> list[str]:
        return [
            f"{_fmt(row[f'dim_{d.id}'])} "
            f"({_ci(row[f'dim_{d.id}_ci_low'], row[f'dim_{d.id}_ci_high'])})"
            for d in inst.dimensions
        ]

    for label, (_, row) in zip(_group_labels(result, lang), result.groups.iterrows(), strict=True):
        table.add_row(label, *cells(row))
    if result.keys:
        table.add_section()
        table.add_row(t("col.all", lang), *cells(result.total.iloc[0]), style="bold")
    table.caption = t("cli.ci_caption", lang)
    return table


def gaps_table(result: ScoreResult, lang: str) -> Table | None:
    """Perception vs expectation of the total (items and dimensions)."""
    gaps = result.gaps[result.gaps["group"] == -1]
    if not len(gaps):
        return None
    inst = result.instrument
    table = Table(title=t("title.gaps", lang), title_justify="left")
    for key, just in (
        ("col.item", "left"),
        ("col.n", "right"),
        ("col.perception", "right"),
        ("col.expectation", "right"),
        ("col.gap", "right"),
        ("col.gap_ci", "right"),
        ("col.ratio", "right"),
        ("col.ratio_ci", "right"),
    ):
        table.add_column(t(key, lang), justify=just)  # type: ignore[arg-type]
    for _, r in gaps.iterrows():
        if r["level"] == "item":
            name = inst.item(r["id"]).text.get(lang)
        else:
            name = next(d.label.get(lang) for d in inst.dimensions if d.id == r["id"])
        gap = _fmt(r["gap"], "+.1f")
        table.add_row(
            name,
            str(int(r["n"])),
            _fmt(r["perception"]),
            _fmt(r["expectation"]),
            f"[red]{gap}[/]" if r["gap"] < 0 else gap,
            _ci(r["gap_ci_low"], r["gap_ci_high"]),
            _fmt(r["ratio"], ".3f"),
            _ci(r["ratio_ci_low"], r["ratio_ci_high"], spec=".3f"),
            style="bold" if r["level"] == "dimension" else None,
        )
    return table


def print_report(result: ScoreResult, lang: str, limit: int = 15) -> None:
    rep = result.report
    if rep is None:
        return
    err.print(f"[bold]{t('cli.rejected_title', lang)}[/]: {rep.summary(lang)}", highlight=False)
    for issue in rep.issues[:limit]:
        err.print("  " + issue.render(rep.source, lang), markup=False, highlight=False)
    if len(rep.issues) > limit:
        err.print("  " + t("cli.more_rejected", lang, n=len(rep.issues) - limit), markup=False)
    for w in result.warnings:
        err.print("  ! " + w.render(lang), markup=False, highlight=False)


def show_result(result: ScoreResult, lang: str) -> None:
    out.print(scorecard_table(result, lang))
    out.print(dimensions_table(result, lang))
    gt = gaps_table(result, lang)
    if gt is not None:
        out.print(gt)


@app.command()
def score(
    responses: Annotated[
        Path, typer.Argument(help="responses: .csv, .xlsx or .parquet / 答卷文件")
    ],
    instrument: Annotated[
        Path, typer.Option("--instrument", "-i", help="instrument YAML / 问卷定义")
    ],
    by: Annotated[str, typer.Option("--by", help="segment columns, comma-separated / 分组列")] = "",
    period: Annotated[str, typer.Option("--period", help="month | quarter | year / 期间")] = "",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | csv | json | xlsx")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file / 输出文件")
    ] = None,
    respondents: Annotated[
        Path | None, typer.Option("--respondents", help="per-response scores file")
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="stop at the first bad value / 遇错即停")
    ] = False,
    weights: Annotated[
        str, typer.Option("--weights", help="column of respondent weights / 权重列")
    ] = "",
    compare: Annotated[
        str,
        typer.Option(
            "--compare", help="previous: test changes against the previous period / 环比检验"
        ),
    ] = "",
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    lang: LangOpt = "",
) -> None:
    """Score responses: index, satisfaction rate, NPS, dimensions, per group. 计算满意度得分。"""
    from manyi.services.scoring import export, score_file, write_respondents

    lg = _lang(lang)
    fmt = _format(fmt, output, ("table", "csv", "json", "xlsx"), lg)
    try:
        keys = [b.strip() for b in by.split(",") if b.strip()]
        result = score_file(
            instrument,
            responses,
            by=keys,
            period=period or None,
            strict=strict,
            weights=weights or None,
            date_format=date_format or None,
            sheet=sheet or None,
        )
        if compare:
            from manyi.services.scoring import compare_previous

            compare_previous(result, compare)
        if fmt == "table":
            print_report(result, lg)
            show_result(result, lg)
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
        _fail(exc, lg)


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

    lg = _lang(lang)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())) and not force:
        _fail(ManyiError(Message("cli.demo_exists", {"dir": str(directory)})), lg)
    try:
        res = run_demo(directory, seed=seed)
    except ManyiError as exc:
        _fail(exc, lg)
        return
    print_report(res.by_branch, lg, limit=10)
    show_result(res.by_branch, lg)
    m = res.csi_model
    out.print(
        (
            "客户满意度指数模型（ECSI，PLS 路径模型，n = {n}，自助抽样 {b} 次）"
            if lg == "zh"
            else "Customer satisfaction index model (ECSI, PLS path model, n = {n}, {b} bootstrap resamples)"
        ).format(n=m.n, b=m.bootstrap.resamples if m.bootstrap else 0),
        highlight=False,
    )
    for table in _pls_tables(m, lg)[:2]:
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


model_app = typer.Typer(
    help="Customer-satisfaction index models (PLS path modelling). 满意度指数模型。",
    no_args_is_help=True,
)
app.add_typer(model_app, name="model")


def _pls_tables(res: Any, lang: str) -> list[Table]:
    zh = lang == "zh"
    lab = res.model.label
    boot = res.bootstrap is not None
    tp = Table(title="路径系数" if zh else "Path coefficients", title_justify="left")
    heads = ["从" if zh else "From", "到" if zh else "To", "估计值" if zh else "Estimate"]
    if boot:
        heads += [
            "标准误" if zh else "SE",
            "t",
            "p",
            "95% 置信区间（百分位）" if zh else "95% CI (percentile)",
            "95% BCa",
        ]
    heads += ["f²"]
    for h in heads:
        tp.add_column(h, justify="left" if h in heads[:2] else "right")
    for _, r in res.paths.iterrows():
        row = [lab(r["from"], lang), lab(r["to"], lang), f"{r['estimate']:.4f}"]
        if boot:
            row += [
                f"{r['se']:.4f}",
                f"{r['t']:.2f}",
                f"{r['p']:.4f}",
                _ci(r["ci_low"], r["ci_high"], spec=".3f"),
                _ci(r["bca_low"], r["bca_high"], spec=".3f"),
            ]
        row += [_fmt(r["f2"], ".3f")]
        tp.add_row(*row)
    tc = Table(
        title="构念：R²、信度、0-100 指数" if zh else "Constructs: R², reliability, 0-100 index",
        title_justify="left",
    )
    for h in (
        ["构念", "R²", "调整 R²", "α", "ρ_A", "ρ_C", "AVE", "指数"]
        if zh
        else ["Construct", "R²", "adj. R²", "α", "ρ_A", "ρ_C", "AVE", "Index"]
    ):
        tc.add_column(h, justify="left" if h in ("构念", "Construct") else "right")
    boot_index = res.bootstrap is not None and res.index_table is not None
    if boot_index:
        tc.add_column("指数 95% 置信区间" if zh else "Index 95% CI", justify="right")
    it = res.index_table.set_index("construct") if res.index_table is not None else None
    r2 = res.r2.set_index("construct")
    rel = res.reliability.set_index("construct")
    for c in res.constructs:
        tc.add_row(
            lab(c, lang),
            _fmt(r2["r2"].get(c), ".3f"),
            _fmt(r2["r2_adj"].get(c), ".3f"),
            *[_fmt(rel.loc[c, k], ".3f") for k in ("alpha", "rho_a", "rho_c", "ave")],
            _fmt(res.index[c], ".1f"),
            *([_ci(it.loc[c, "index_ci_low"], it.loc[c, "index_ci_high"])] if boot_index else []),
        )
    to = Table(title="外部权重与载荷" if zh else "Outer weights and loadings", title_justify="left")
    for h in ["构念", "题目", "权重", "载荷"] if zh else ["Construct", "Item", "Weight", "Loading"]:
        to.add_column(h, justify="left" if h in ("构念", "题目", "Construct", "Item") else "right")
    for _, r in res.outer.iterrows():
        to.add_row(
            lab(r["construct"], lang), r["item"], f"{r['weight']:.4f}", f"{r['loading']:.4f}"
        )
    th = Table(
        title="判别效度：HTMT（绝对相关；带符号）"
        if zh
        else "Discriminant validity: HTMT (absolute correlations; signed)",
        title_justify="left",
    )
    heads = ["构念 A" if zh else "Construct A", "构念 B" if zh else "Construct B", "HTMT"]
    heads += ["带符号" if zh else "signed"]
    if boot:
        heads += [
            "95% 置信区间" if zh else "95% CI",
            "95% 上界" if zh else "95% upper",
            "< 0.85",
            "< 0.90",
        ]
    for h in heads:
        th.add_column(h, justify="left" if h in heads[:2] else "right")
    for _, r in res.htmt_table.iterrows():
        row = [
            lab(r["construct_a"], lang),
            lab(r["construct_b"], lang),
            _fmt(r["htmt"], ".3f"),
            _fmt(r["htmt_signed"], ".3f"),
        ]
        if boot:
            row += [
                _ci(r["ci_low"], r["ci_high"], spec=".3f"),
                _fmt(r["upper"], ".3f"),
                "✓" if r["below_085"] else "✗",
                "✓" if r["below_090"] else "✗",
            ]
        th.add_row(*row)
    return [tp, tc, to, th]


@model_app.command("fit")
def model_fit(
    data: Annotated[Path, typer.Argument(help="responses: .csv, .xlsx or .parquet / 数据文件")],
    model: Annotated[
        Path, typer.Option("--model", "-m", help="model YAML or instrument with model: / 模型文件")
    ],
    scheme: Annotated[str, typer.Option("--scheme", help="path | centroid | factorial")] = "",
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", help="resamples (0: none) / 自助抽样次数")
    ] = 5000,
    seed: Annotated[int, typer.Option("--seed", help="random seed / 随机种子")] = 1,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file / 输出文件")
    ] = None,
    ipma: Annotated[
        Path | None, typer.Option("--ipma", help="write the IPMA chart (HTML) / 输出 IPMA 图")
    ] = None,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    lang: LangOpt = "",
) -> None:
    """Fit an ACSI/ECSI model by PLS path modelling, with a bootstrap. 估计满意度指数模型。"""
    import json

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from manyi.services.model import fit_model_file

    lg = _lang(lang)
    fmt = _format(fmt, output, ("table", "json"), lg)
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
            disable=bootstrap == 0,
        ) as prog:
            task = prog.add_task("自助抽样" if lg == "zh" else "bootstrap", total=max(bootstrap, 1))
            res = fit_model_file(
                model,
                data,
                scheme=scheme or None,
                bootstrap=bootstrap,
                seed=seed,
                progress=lambda done, total: prog.update(task, completed=done, total=total),
                date_format=date_format or None,
                sheet=sheet or None,
            )
    except ManyiError as exc:
        _fail(exc, lg)
        return
    for w in res.warnings:
        err.print("! " + w.render(lg), markup=False, highlight=False)
    if ipma is not None:
        res.plot_ipma(lang=lg).write_html(ipma, include_plotlyjs=True)
        err.print(t("cli.written", lg, path=ipma), highlight=False)
    if fmt == "json":
        text = json.dumps(res.to_dict(), ensure_ascii=False, indent=2)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
            err.print(t("cli.written", lg, path=output), highlight=False)
        else:
            sys.stdout.write(text + "\n")
        return
    head = (
        f"PLS 路径模型（{ {'path': '路径', 'centroid': '重心', 'factorial': '因子'}[res.scheme] }加权方案），n = {res.n}，{res.iterations} 次迭代"
        if lg == "zh"
        else f"PLS path model ({res.scheme} weighting), n = {res.n}, {res.iterations} iterations"
    )
    if res.bootstrap:
        head += (
            f"；自助抽样 {res.bootstrap.resamples} 次，不可用 {res.bootstrap.inadmissible} 次"
            if lg == "zh"
            else f"; bootstrap {res.bootstrap.resamples} resamples, {res.bootstrap.inadmissible} inadmissible"
        )
    out.print(head, highlight=False)
    for table in _pls_tables(res, lg):
        out.print(table)


def _frame_table(name: str, df: Any, lang: str) -> Table:
    from manyi.i18n import column

    table = Table(title=column(name, lang), title_justify="left")
    if len(df) == 1 and len(df.columns) > 6:  # one wide row reads better as a list
        table.add_column("")
        table.add_column("", justify="right")
        for c in df.columns:
            table.add_row(column(str(c), lang), _cell(df[c].iloc[0], lang))
        return table
    for c in df.columns:
        table.add_column(
            column(str(c), lang), justify="right" if df[c].dtype.kind in "if" else "left"
        )
    for _, row in df.iterrows():
        table.add_row(*[_cell(row[c], lang) for c in df.columns])
    return table


def _cell(v: Any, lang: str) -> str:
    if isinstance(v, bool):
        return t("word.yes", lang) if v else t("word.no", lang)
    if isinstance(v, float):
        return "–" if v != v else (f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}")
    return "–" if v is None else str(v)


@app.command()
def analyze(
    name: Annotated[
        str, typer.Argument(help="reliability | drivers | servqual | ipa | kano | compare | spc")
    ],
    responses: Annotated[
        Path, typer.Argument(help="responses: .csv, .xlsx or .parquet / 答卷文件")
    ],
    instrument: Annotated[
        Path, typer.Option("--instrument", "-i", help="instrument YAML / 问卷定义")
    ],
    by: Annotated[str, typer.Option("--by", help="segment columns / 分组列")] = "",
    period: Annotated[
        str, typer.Option("--period", help="compare/spc: month | quarter | year")
    ] = "",
    importance: Annotated[
        str, typer.Option("--importance", help="ipa: stated | derived")
    ] = "stated",
    cross: Annotated[str, typer.Option("--cross", help="ipa: mean | midpoint")] = "mean",
    adjust: Annotated[str, typer.Option("--adjust", help="compare: holm | bh | none")] = "holm",
    outcome: Annotated[
        str, typer.Option("--outcome", help="drivers: nps | csi | dimension | item")
    ] = "",
    driver_level: Annotated[
        str, typer.Option("--drivers", help="drivers: dimensions | items")
    ] = "dimensions",
    factors: Annotated[
        int, typer.Option("--factors", help="reliability: factors (0: parallel analysis)")
    ] = 0,
    weights: Annotated[
        str, typer.Option("--weights", help="column of respondent weights / 权重列")
    ] = "",
    fmt: Annotated[str, typer.Option("--format", "-f", help="table | json | csv")] = "table",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write to this file / 输出文件")
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="write the chart (HTML) / 输出图表")
    ] = None,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    lang: LangOpt = "",
) -> None:
    """Analyses that say what to fix: SERVQUAL gaps, IPA, Kano, comparisons, control charts. 分析。"""
    import json

    import pandas as pd

    from manyi.services.analysis import CHARTS, Options, analyze_file

    lg = _lang(lang)
    fmt = _format(fmt, output, ("table", "json", "csv"), lg)
    if fmt == "table" and output is not None:
        fmt = FORMAT_OF_SUFFIX.get(output.suffix.lower(), "csv")
    opts = Options(
        lang=lg,
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
        res = analyze_file(
            name, instrument, responses, keys, opts, date_format or None, sheet or None
        )
    except ManyiError as exc:
        _fail(exc, lg)
        return
    if chart is not None and name in CHARTS:
        CHARTS[name](res, lang=lg).write_html(chart, include_plotlyjs=True)
        err.print(t("cli.written", lg, path=chart), highlight=False)
    if fmt != "table":
        for w in res.warnings:
            err.print("! " + w.render(lg), markup=False, highlight=False)
    if fmt == "json":
        text = json.dumps(res.to_dict(lg), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    elif fmt == "csv":
        frames = [df.assign(table=k)[["table", *df.columns]] for k, df in res.tables.items()]
        text = pd.concat(frames, ignore_index=True).to_csv(index=False)
    else:
        for k, df in res.tables.items():
            out.print(_frame_table(k, df, lg))
        for w in res.warnings:
            err.print("! " + w.render(lg), markup=False, highlight=False)
        return
    if output is not None:
        output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        err.print(t("cli.written", lg, path=output), highlight=False)
    else:
        sys.stdout.write(text)


@app.command()
def sample(
    customers: Annotated[
        Path, typer.Argument(help="customer list: .csv, .xlsx or .parquet / 客户名单")
    ],
    n: Annotated[int, typer.Option("--n", help="sample size (or use --moe) / 样本量")] = 0,
    moe: Annotated[float, typer.Option("--moe", help="target margin of error / 目标误差")] = 0.0,
    rate: Annotated[
        float, typer.Option("--rate", help="expected rate for --moe (default 0.5)")
    ] = 0.5,
    sd: Annotated[
        float, typer.Option("--sd", help="expected SD for a mean (--moe in its units)")
    ] = 0.0,
    deff: Annotated[
        float, typer.Option("--deff", help="design effect: multiplies the size (default 1)")
    ] = 1.0,
    method: Annotated[str, typer.Option("--method", help="srs | systematic | stratified")] = "srs",
    strata: Annotated[str, typer.Option("--strata", help="stratum column / 分层列")] = "",
    allocation: Annotated[
        str, typer.Option("--allocation", help="proportional | equal | neyman")
    ] = "proportional",
    sd_column: Annotated[
        str, typer.Option("--sd-column", help="numeric column for the stratum SDs (neyman, --moe)")
    ] = "",
    seed: Annotated[int, typer.Option("--seed", help="random seed / 随机种子")] = 1,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="write the sample / 输出文件")
    ] = None,
    lang: LangOpt = "",
) -> None:
    """Sample size and a seeded sample from a customer list. 抽样。"""
    from manyi.services.sampling import plan_sample

    lg = _lang(lang)
    try:
        plan = plan_sample(
            customers,
            n,
            moe,
            rate,
            sd,
            method,
            strata or None,
            allocation,
            sd_column or None,
            deff,
            seed,
        )
    except ManyiError as exc:
        _fail(exc, lg)
        return
    picked = plan.sample
    head = (
        f"总体 {plan.population}，样本 {len(picked)}（{method}，种子 {seed}）"
        if lg == "zh"
        else f"population {plan.population}, sample {len(picked)} ({method}, seed {seed})"
    )
    out.print(head, highlight=False)
    if "stratum" in picked and plan.sizes is not None:
        table = Table(
            title="各层分配" if lg == "zh" else "Allocation by stratum", title_justify="left"
        )
        for h in (
            ["层", "总体", "样本", "设计权重"]
            if lg == "zh"
            else ["Stratum", "N", "n", "Design weight"]
        ):
            table.add_column(h, justify="left" if h in ("层", "Stratum") else "right")
        for k, g in picked.groupby("stratum", sort=True, dropna=False):
            table.add_row(
                str(k), str(int(plan.sizes[k])), str(len(g)), f"{g['design_weight'].iloc[0]:.2f}"
            )
        out.print(table)
    if output is not None:
        if output.suffix.lower() == ".xlsx":
            picked.to_excel(output, index=False)
        else:
            picked.to_csv(output, index=False, encoding="utf-8-sig")
        err.print(t("cli.written", lg, path=output), highlight=False)


@app.command()
def weight(
    responses: Annotated[Path, typer.Argument(help="responses / 答卷文件")],
    instrument: Annotated[
        Path, typer.Option("--instrument", "-i", help="instrument YAML / 问卷定义")
    ],
    margins: Annotated[
        Path, typer.Option("--margins", help="CSV/XLSX: variable, category, share / 总体边际")
    ],
    output: Annotated[
        Path, typer.Option("--output", "-o", help="responses with a weight column / 输出文件")
    ],
    method: Annotated[str, typer.Option("--method", help="rake | poststratify")] = "rake",
    cap: Annotated[
        float, typer.Option("--cap", help="trim weights above cap × mean, re-rake (e.g. 5)")
    ] = 0.0,
    floor: Annotated[
        float, typer.Option("--floor", help="raise weights below floor × mean, re-rake (e.g. 0.2)")
    ] = 0.0,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="write the margins chart (HTML)")
    ] = None,
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    lang: LangOpt = "",
) -> None:
    """Weight responses to population margins (raking or post-stratification). 加权。"""
    from manyi.services.weighting import weight_file

    lg = _lang(lang)
    try:
        res = weight_file(
            responses,
            instrument,
            margins,
            method,
            cap=cap or None,
            floor=floor or None,
            date_format=date_format or None,
            sheet=sheet or None,
        )
    except ManyiError as exc:
        _fail(exc, lg)
        return
    for w in res.warnings:
        err.print("! " + w.render(lg), markup=False, highlight=False)
    if chart is not None:
        from manyi.core.weighting import chart as margins_chart

        margins_chart(res.report, lg).write_html(chart, include_plotlyjs=True)
    for k, df in res.report.tables.items():
        out.print(_frame_table(k, df, lg))
    if output.suffix.lower() == ".xlsx":
        res.table.to_excel(output, index=False)
    else:
        res.table.to_csv(output, index=False, encoding="utf-8-sig")
    err.print(t("cli.written", lg, path=output), highlight=False)


def _version(value: bool) -> None:
    if value:
        from manyi import __version__

        out.print(f"manyi {__version__}", highlight=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="show the version / 显示版本"
        ),
    ] = False,
    debug: Annotated[
        bool, typer.Option("--debug", help="show tracebacks of internal errors / 显示内部错误详情")
    ] = False,
) -> None:
    """manyi (满意): customer-satisfaction management. 客户满意度管理。"""


def _argv_lang(argv: list[str]) -> str:
    for i, a in enumerate(argv):
        if a == "--lang" and i + 1 < len(argv):
            return argv[i + 1] if argv[i + 1] in ("zh", "en") else default_lang()
        if a.startswith("--lang="):
            v = a.split("=", 1)[1]
            return v if v in ("zh", "en") else default_lang()
    return default_lang()


def main(argv: list[str] | None = None) -> None:
    """Run the command line. A user's mistake exits 2 with its message (in each command); any
    other exception is an internal error: a short message with a bug-report hint, exit 1
    (``manyi --debug ...`` shows the traceback). numpy/pandas runtime warnings stay quiet:
    what they would say is reported as a message where it matters."""
    import warnings

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.filterwarnings("ignore", module="pandas")
    warnings.filterwarnings("ignore", module="numpy")
    try:
        app(args=args, prog_name="manyi", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        err.print(t("cli.interrupted", _argv_lang(args)), highlight=False)
        sys.exit(130)
    except ManyiError as exc:  # raised outside a command's own handler
        lg = _argv_lang(args)
        err.print(f"[bold red]{t('cli.error', lg)}:[/] ", end="")
        err.print(exc.render(lg), markup=False, highlight=False)
        sys.exit(2)
    except OSError as exc:  # a file that cannot be read or written: the user's to fix
        lg = _argv_lang(args)
        err.print(f"[bold red]{t('cli.error', lg)}:[/] ", end="")
        reason = exc.strerror or str(exc)
        if getattr(exc, "filename", None):
            text = t("cli.os_error", lg, file=str(exc.filename), reason=reason)
        else:
            text = t("cli.os_error_plain", lg, reason=reason)
        err.print(text, markup=False, highlight=False)
        sys.exit(2)
    except MemoryError:
        err.print(t("cli.out_of_memory", _argv_lang(args)), highlight=False)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        if debug:
            raise
        lg = _argv_lang(args)
        detail = f"{type(exc).__name__}: {exc}"
        err.print(f"[bold red]{t('cli.error', lg)}:[/] ", end="")
        err.print(t("cli.internal", lg, detail=detail), markup=False, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
