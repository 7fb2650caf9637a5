"""``manyi calendar due|between``: business-time arithmetic on a calendar (docs/cases.md)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer

from manyi.cli.common import LangOpt, app, fail, lang_of, out
from manyi.i18n import ManyiError, t

calendar_app = typer.Typer(
    help="Business calendars: due instants and working time. 工作日历。", no_args_is_help=True
)
app.add_typer(calendar_app, name="calendar")

CalOpt = Annotated[
    str, typer.Option("--calendar", help="cn (built in) or a calendar YAML file / 日历")
]
FmtOpt = Annotated[str, typer.Option("--format", "-f", help="table | json / 输出格式")]


def _instant(value: str, what: str, lang: str) -> datetime:
    from manyi.core.messages import Message

    try:
        return datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        fail(ManyiError(Message("cal.bad_instant", {"option": what, "value": value})), lang)
        raise  # not reached


def _calendar(spec: str, lang: str):
    from manyi.io.calendars import load_calendar

    try:
        return load_calendar(spec)
    except ManyiError as exc:
        fail(exc, lang)


def _check_format(fmt: str, lang: str) -> None:
    from manyi.core.messages import Message

    if fmt not in ("table", "json"):
        fail(ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": "table, json"})), lang)


@calendar_app.command("due")
def due(
    calendar: CalOpt = "cn",
    start: Annotated[str, typer.Option("--start", help="ISO-8601 instant / 起始时间")] = "",
    within: Annotated[str, typer.Option("--in", help="30m, 4h (working time) or 3d (working days) / 时限：30m、4h（工作时间）或 3d（工作日）")] = "",
    fmt: FmtOpt = "table",
    lang: LangOpt = "",
) -> None:
    """When a target falls due: working minutes/hours, or the close of the N-th working day.
    到期时间。"""
    lg = lang_of(lang)
    _check_format(fmt, lg)
    cal = _calendar(calendar, lg)
    t0 = _instant(start, "--start", lg)
    try:
        when = cal.local(cal.due(t0, within))
    except ManyiError as exc:
        fail(exc, lg)
        return
    if fmt == "json":
        out.print(json.dumps({"due": when.isoformat()}), highlight=False, markup=False)
    else:
        out.print(t("cal.due", lg, due=when.isoformat(), start=cal.local(t0).isoformat(), within=within),
                  highlight=False, markup=False)


@calendar_app.command("between")
def between(
    calendar: CalOpt = "cn",
    start: Annotated[str, typer.Option("--start", help="ISO-8601 instant / 起始时间")] = "",
    end: Annotated[str, typer.Option("--end", help="ISO-8601 instant / 结束时间")] = "",
    fmt: FmtOpt = "table",
    lang: LangOpt = "",
) -> None:
    """Working time between two instants (negative when --end is before --start). 工作时长。"""
    lg = lang_of(lang)
    _check_format(fmt, lg)
    cal = _calendar(calendar, lg)
    a, b = _instant(start, "--start", lg), _instant(end, "--end", lg)
    try:
        secs = cal.between(a, b)
    except ManyiError as exc:
        fail(exc, lg)
        return
    n = int(secs) if float(secs).is_integer() else secs
    if fmt == "json":
        out.print(json.dumps({"business_seconds": n}), highlight=False, markup=False)
    else:
        out.print(t("cal.between", lg, seconds=n, hours=round(secs / 3600, 2)), highlight=False, markup=False)
