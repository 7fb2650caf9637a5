"""What every command shares: the app, the consoles, language and format options, failing."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from manyi.i18n import ManyiError, Message, default_lang, t, translator

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

F = TypeVar("F", bound=Callable[..., Any])
LangOpt = Annotated[str, typer.Option("--lang", help="zh | en (default: $MANYI_LANG or en) / 语言（默认：$MANYI_LANG 或 en）")]
DateOpt = Annotated[
    str,
    typer.Option("--date-format", help="dates like 03/02/2026: dmy | mdy | ymd / 日期顺序"),
]
SheetOpt = Annotated[str, typer.Option("--sheet", help="XLSX: the sheet to read / 工作表")]
SourceOpt = Annotated[
    str,
    typer.Option(
        "--source",
        help="the tool that wrote the file: qualtrics, surveymonkey, wjx (问卷星), tencent (腾讯问卷), "
        "limesurvey, formbricks, plain (default: told by its headers) / 导出来源",
    ),
]
HeaderRowOpt = Annotated[
    int, typer.Option(
        "--header-row", help="the row that holds the headers (default: found) / 表头所在行",
        show_default=False,
    )
]
ColumnsOpt = Annotated[
    Path | None,
    typer.Option("--columns", help="column map: CSV (column,id) or YAML (header: id) / 列映射文件"),
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="write to this file / 输出文件")
]
ChartOpt = Annotated[Path | None, typer.Option("--chart", help="write the chart (HTML) / 输出图表")]
InstrumentOpt = Annotated[
    Path, typer.Option("--instrument", "-i", help="instrument YAML / 问卷定义")
]
ResponsesArg = Annotated[
    Path,
    typer.Argument(help="responses: .csv, .xlsx, .parquet, or a Parquet dataset (folder, quoted glob, URL) / 答卷文件或 Parquet 数据集"),
]
EngineOpt = Annotated[
    str,
    typer.Option("--engine", help="local | dask: a Parquet dataset's parts here or on Dask / 本机或 Dask 集群"),
]
SchedulerOpt = Annotated[str, typer.Option("--scheduler", help="Dask scheduler address / Dask 调度器地址")]
WeightsOpt = Annotated[str, typer.Option("--weights", help="column of respondent weights / 权重列")]
SeedOpt = Annotated[int, typer.Option("--seed", help="random seed / 随机种子")]


def error_head(lang: str) -> str:
    """The red "Error:" before a message, with the colon of the language (错误：)."""
    colon = translator(lang).colon
    return f"[bold red]{t('cli.error', lang)}{colon.strip()}[/]{colon[len(colon.strip()):]}"


def lang_of(lang: str | None) -> str:
    """The language asked for (zh, en; also zh-CN, en_US, ...), else $MANYI_LANG; an unknown
    one is an error rather than a silent English."""
    if not lang:
        return default_lang()
    code = lang.strip().lower().replace("_", "-").split("-")[0]
    if code in ("zh", "en"):
        return code
    lg = default_lang()
    err.print(error_head(lg), end="")
    err.print(t("cli.bad_lang", lg, lang=lang), markup=False, highlight=False)
    raise typer.Exit(2)


FORMAT_OF_SUFFIX = {".json": "json", ".csv": "csv", ".xlsx": "xlsx"}


def out_format(fmt: str, output: Path | None, allowed: tuple[str, ...], lang: str) -> str:
    """The output format: as given, or from the output file's extension when ``--format`` is
    left at ``table`` (the table still goes to the screen). A format that contradicts the
    extension (``-f csv -o t.xlsx``) is an error."""
    if fmt not in allowed:
        fail(
            ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": ", ".join(allowed)})), lang
        )
    if output is None:
        return fmt
    by_ext = FORMAT_OF_SUFFIX.get(output.suffix.lower())
    if fmt != "table" and by_ext is not None and by_ext != fmt:
        fail(
            ManyiError(
                Message(
                    "cli.format_mismatch", {"fmt": fmt, "file": output.name, "ext": output.suffix}
                )
            ),
            lang,
        )
    if fmt == "table" and by_ext == "xlsx" and "xlsx" not in allowed:
        fail(
            ManyiError(Message("cli.bad_format", {"fmt": "xlsx", "choices": ", ".join(allowed)})),
            lang,
        )
    return fmt


def fail(exc: ManyiError, lang: str) -> None:
    err.print(error_head(lang), end="")
    err.print(exc.render(lang), markup=False, highlight=False)
    raise typer.Exit(2)


def print_lines(lines: list[str], markup: bool = False) -> None:
    for line in lines:
        err.print(line, markup=markup, highlight=False)


def print_report(result: Any, lang: str, limit: int = 15) -> None:
    """The validation report and warnings of a scoring, on standard error."""
    print_validation(result.report, result.warnings, lang, limit)


def read_options(
    date_format: str = "",
    sheet: str = "",
    columns: Path | None = None,
    source: str = "",
    header_row: int = 0,
    strict: bool = False,
    engine: str = "local",
    scheduler: str = "",
) -> Any:
    """The ``ReadOptions`` of a command's reading options (an empty value: the default)."""
    from manyi.services.requests import ReadOptions

    return ReadOptions(
        strict=strict, date_format=date_format or None, sheet=sheet or None,
        columns=src(columns) if columns else None, source=source or None, header_row=header_row or None,
        engine=engine or "local", scheduler=scheduler or None,
    )


def print_validation(report: Any, warnings: list[Any], lang: str, limit: int = 15) -> None:
    """A validation report and warnings on standard error (the title with its markup)."""
    from manyi.present.terminal import validation_lines

    lines = validation_lines(report, warnings, lang, limit)
    if report is not None:
        err.print(lines[0], highlight=False)
        lines = lines[1:]
    print_lines(lines)


def print_warnings(warnings: list[Any], lang: str) -> None:
    print_lines(["! " + w.render(lang) for w in warnings])


def request(cls: Any, lang: str, **fields: Any) -> Any:
    """A typed service request from command-line values; a value the request refuses is a
    message (exit 2), not a traceback."""
    from pydantic import ValidationError

    try:
        return cls(**fields)
    except ValidationError as exc:
        e = exc.errors()[0]
        where = ".".join(str(x) for x in e.get("loc", ()))
        fail(
            ManyiError(Message("cli.bad_value", {"field": where, "detail": e.get("msg", "")})), lang
        )


def src(path: Any) -> Any:
    from manyi.services.requests import Source

    return Source.of(path)


def write_or_print(text: str, output: Path | None, fmt: str, lang: str) -> None:
    """A text result to ``output`` (CSV with a BOM, for Excel) or to standard output."""
    if output is None:
        sys.stdout.write(text)
        return
    output.write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
    err.print(t("cli.written", lang, path=output), highlight=False)
