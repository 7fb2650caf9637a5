"""Commands of the complaint desk: cases import|list|open|act|timeline, sla load|show, worker."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from manyi.cli.common import LangOpt, app, err, fail, lang_of, out, src
from manyi.i18n import ManyiError, t, translator

cases_app = typer.Typer(help="Cases: every customer contact. 客户工单。", no_args_is_help=True)
sla_app = typer.Typer(help="Service levels of cases. 服务时限。", no_args_is_help=True)
app.add_typer(cases_app, name="cases")
app.add_typer(sla_app, name="sla")

FmtOpt = Annotated[str, typer.Option("--format", "-f", help="table | json / 输出格式")]


def _fmt(fmt: str, lang: str) -> None:
    from manyi.core.messages import Message

    if fmt not in ("table", "json"):
        fail(ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": "table, json"})), lang)


def _print_cases(rows: list[dict], lang: str) -> None:
    """The cases as a table in ``lang``: kinds, states and targets by name; the time received
    on the clock of its due times (Beijing time when none), like them."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    import pandas as pd

    from manyi.core.localtime import LOCAL_TZ
    from manyi.present.terminal import frame_table

    tr = translator(lang)

    def local(r: dict) -> str:
        due = [datetime.fromisoformat(v) for v in r["due"].values()]
        zone = due[0].tzinfo if due else ZoneInfo(LOCAL_TZ)
        return datetime.fromisoformat(r["received_at"]).astimezone(zone).strftime("%Y-%m-%d %H:%M")

    def target(k: str) -> str:
        return tr.get(f"desk.target.{k}", k)

    table = pd.DataFrame(
        [
            {
                "case": r["number"], "kind": tr.get(f"desk.kind.{r['kind']}", r["kind"]),
                "status": tr.get(f"desk.status.{r['status']}", r["status"]), "received_at": local(r),
                "due": ", ".join(f"{target(k)} {v[:16].replace('T', ' ')}" for k, v in r["due"].items()),
                "breaches": ", ".join(target(b["target"]) for b in r["breaches"]) or "–",
            }
            for r in rows
        ],
        columns=["case", "kind", "status", "received_at", "due", "breaches"],
    )
    out.print(frame_table("cases", table, lang))


@cases_app.command("import")
def cases_import(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX: external_id, kind, category, channel, received_at, customer, description / 工单文件")],
    lang: LangOpt = "",
) -> None:
    """Import cases; importing the same file again adds nothing. 导入工单。"""
    from manyi.services.cases import import_cases

    lg = lang_of(lang)
    try:
        rep = import_cases(src(file))
    except ManyiError as exc:
        fail(exc, lg)
        return
    for _row, msgs in rep.rejected[:20]:
        for m in msgs:
            err.print(f"  {file.name}{translator(lg).colon}{m.render(lg)}", highlight=False, markup=False)
    err.print(t("case.imported", lg, file=file.name, added=rep.added, already=rep.already,
                rejected=len(rep.rejected)), highlight=False)


@cases_app.command("list")
def cases_list(
    fmt: FmtOpt = "table",
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many / 条数上限")] = 100,
    lang: LangOpt = "",
) -> None:
    """Cases, newest first, with their due instants and breaches. 工单列表。"""
    from manyi.services.cases import list_cases

    lg = lang_of(lang)
    _fmt(fmt, lg)
    try:
        rows = list_cases(limit)
    except ManyiError as exc:
        fail(exc, lg)
        return
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
    else:
        _print_cases(rows, lg)


@cases_app.command("open")
def cases_open(
    kind: Annotated[str, typer.Option("--kind", help="complaint | enquiry | suggestion | praise / 类型：投诉 | 咨询 | 建议 | 表扬")] = "complaint",
    channel: Annotated[str, typer.Option("--channel", help="hotline | web | app | email | walk_in | ... / 渠道")] = "hotline",
    category: Annotated[str, typer.Option("--category", help="product | service | broken_promise | ... / 类别")] = "",
    severity: Annotated[str, typer.Option("--severity", help="low | medium | high | critical / 严重程度：低 | 中 | 高 | 严重")] = "medium",
    customer: Annotated[str, typer.Option("--customer", help="customer code / 客户编号")] = "",
    description: Annotated[str, typer.Option("--description", help="what the customer said / 内容")] = "",
    received_at: Annotated[str, typer.Option("--received-at", help="ISO-8601 (default: now) / 受理时间（默认：现在）")] = "",
    by: Annotated[str, typer.Option("--by", help="the agent who takes it (first-contact owner) / 首问负责人")] = "",
    fmt: FmtOpt = "table",
    lang: LangOpt = "",
) -> None:
    """Record a contact as a case. 登记工单。"""
    from manyi.services.cases import open_case

    lg = lang_of(lang)
    _fmt(fmt, lg)
    try:
        when = datetime.fromisoformat(received_at) if received_at else datetime.now(UTC)
    except ValueError:
        from manyi.core.messages import Message

        fail(ManyiError(Message("cal.bad_instant", {"option": "--received-at", "value": received_at})), lg)
        return
    try:
        c = open_case({"kind": kind, "channel": channel, "category": category or None, "severity": severity,
                       "customer": customer or None, "description": description or None, "received_at": when},
                      by or None)
    except ManyiError as exc:
        fail(exc, lg)
        return
    if fmt == "json":
        print(json.dumps(c, ensure_ascii=False))
    else:
        _print_cases([c], lg)


@cases_app.command("act")
def cases_act(
    case: Annotated[str, typer.Argument(help="case number or external id / 工单号")],
    action: Annotated[str, typer.Argument(help="acknowledge | investigate | wait | resume | resolve | call_back | reopen | transfer | note / 处理动作")],
    by: Annotated[str, typer.Option("--by", help="who acts / 操作人")] = "",
    note: Annotated[str, typer.Option("--note", help="a note; a reason to reopen / 备注")] = "",
    remedy: Annotated[str, typer.Option("--remedy", help="the remedy (resolve) / 处理措施")] = "",
    root_cause: Annotated[str, typer.Option("--root-cause", help="the root cause (resolve) / 根本原因")] = "",
    satisfied: Annotated[str, typer.Option("--satisfied", help="yes | no (call_back) / 是否满意")] = "",
    to: Annotated[str, typer.Option("--to", help="the agent (transfer) / 转派给")] = "",
    version: Annotated[int, typer.Option("--version", help="the version you saw (refused if it changed) / 所见版本（已变更则拒绝）", show_default=False)] = 0,
    at: Annotated[str, typer.Option("--at", help="ISO-8601 instant of the action (default: now) / 处理时间（默认：现在）")] = "",
    fmt: FmtOpt = "table",
    lang: LangOpt = "",
) -> None:
    """Act on a case; every action is an event on its timeline. 处理工单。"""
    from manyi.services.cases import act

    lg = lang_of(lang)
    _fmt(fmt, lg)
    sat = {"yes": True, "no": False, "是": True, "否": False}.get(satisfied.strip().lower()) if satisfied else None
    try:
        when = datetime.fromisoformat(at) if at else None
        c = act(case, action, by or None, version or None, at=when, note=note or None, remedy=remedy or None,
                root_cause=root_cause or None, satisfied=sat, to=to or None)
    except ManyiError as exc:
        fail(exc, lg)
        return
    if fmt == "json":
        print(json.dumps(c, ensure_ascii=False))
    else:
        _print_cases([c], lg)


@cases_app.command("timeline")
def cases_timeline(case: Annotated[str, typer.Argument(help="case number / 工单号")], lang: LangOpt = "") -> None:
    """A case's timeline, oldest first. 工单时间线。"""
    from manyi.services.cases import timeline

    lg = lang_of(lang)
    try:
        print(json.dumps(timeline(case), ensure_ascii=False, indent=1))
    except ManyiError as exc:
        fail(exc, lg)


@sla_app.command("load")
def sla_load(file: Annotated[Path, typer.Argument(help="service-level settings (YAML) / 服务时限设置")], lang: LangOpt = "") -> None:
    """Check and store the service-level settings. 载入服务时限设置。"""
    from manyi.services.cases import load_sla

    lg = lang_of(lang)
    try:
        pol = load_sla(src(file))
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(t("sla.loaded", lg, file=file.name, names=", ".join(p.name for p in pol.policies)), highlight=False)


@sla_app.command("show")
def sla_show(lang: LangOpt = "") -> None:
    """The service levels in force. 当前服务时限。"""
    from manyi.services.cases import policies

    lg = lang_of(lang)  # an unknown --lang is still an error
    tr = translator(lg)
    pol = policies()
    for p in pol.policies:
        match = ", ".join(f"{k}={'|'.join(v)}" for k, v in p.match.items()) or "*"
        targets = ", ".join(f"{tr.get(f'desk.target.{k}', k)} {v}" for k, v in p.targets.items())
        out.print(tr("sla.show_policy", name=p.name, match=match, targets=targets,
                     calendar=p.calendar.name, warn=f"{p.warn_at:.0%}"), highlight=False, markup=False)
    names = ", ".join(tr.get(f"desk.category.{c}", c) for c in pol.categories)
    out.print(tr("sla.show_categories", names=names), highlight=False, markup=False)


@app.command("worker")
def worker(
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit / 只运行一遍")] = False,
    now: Annotated[str, typer.Option("--now", help="run as of this ISO-8601 instant (replays, tests) / 按此时刻运行（重放、测试）")] = "",
    interval: Annotated[float, typer.Option("--interval", help="seconds between passes / 间隔秒数")] = 60.0,
    lang: LangOpt = "",
) -> None:
    """The service-level clock: finds breached targets (each once) and escalates. 时限监控。"""
    from manyi.services.cases import worker_pass

    lg = lang_of(lang)
    try:
        when = datetime.fromisoformat(now) if now else None
    except ValueError:
        from manyi.core.messages import Message

        fail(ManyiError(Message("cal.bad_instant", {"option": "--now", "value": now})), lg)
        return
    while True:
        try:
            n = worker_pass(when)
        except ManyiError as exc:
            fail(exc, lg)
            return
        err.print(t("case.worker_pass", lg, n=n, now=(when or datetime.now(UTC)).isoformat(timespec="seconds")),
                  highlight=False)
        if once:
            return
        if _wait_or_orphaned(max(1.0, interval)):
            return


def _wait_or_orphaned(seconds: float) -> bool:
    """Sleep ``seconds``; True (stop) as soon as the server that started this worker
    (``MANYI_WORKER_PARENT``) is gone, e.g. killed without the chance to stop its clock."""
    import os

    parent = os.environ.get("MANYI_WORKER_PARENT")
    end = time.monotonic() + seconds
    while True:
        if parent and str(os.getppid()) != parent:
            return True
        left = end - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(1.0, left))


@cases_app.command("kpi")
def cases_kpi(
    by: Annotated[str, typer.Option("--by", help="unit, category, channel, kind, month (comma-separated) / 分组：机构、类别、渠道、类型、月份")] = "",
    since: Annotated[str, typer.Option("--since", help="received from (ISO-8601) / 受理起始时间")] = "",
    until: Annotated[str, typer.Option("--until", help="received before (ISO-8601) / 受理截止时间")] = "",
    fmt: FmtOpt = "table",
    lang: LangOpt = "",
) -> None:
    """The desk's figures: volume, time to acknowledge and resolve (business hours), SLA
    compliance, reopen rate, call-back satisfaction, Pareto, p-chart. 工单指标。"""
    from manyi.core.result import jsonable
    from manyi.present.terminal import frame_table
    from manyi.services.cases import kpis

    lg = lang_of(lang)
    _fmt(fmt, lg)
    try:
        res = kpis([b.strip() for b in by.split(",") if b.strip()],
                   datetime.fromisoformat(since) if since else None, datetime.fromisoformat(until) if until else None)
    except ValueError as exc:
        from manyi.core.messages import Message

        fail(ManyiError(Message("cal.bad_instant", {"option": "--since/--until", "value": str(exc)})), lg)
        return
    except ManyiError as exc:
        fail(exc, lg)
        return
    if fmt == "json":
        print(json.dumps(jsonable(res.to_dict(lg)), ensure_ascii=False))
        return
    from manyi.present.terminal import named_values

    for name, table in res.tables.items():
        out.print(frame_table(name, named_values(res, table, lg), lg))


@app.command("notifications")
def notifications(
    fmt: FmtOpt = "table",
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many / 条数上限")] = 100,
    lang: LangOpt = "",
) -> None:
    """Notices sent, pending and failed (e-mail, webhooks), newest first. 通知记录。"""
    import pandas as pd

    from manyi.present.terminal import frame_table
    from manyi.services.notify import listing

    lg = lang_of(lang)
    _fmt(fmt, lg)
    rows = listing(limit=limit)
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
    else:
        cols = ["id", "event", "channel", "target", "status", "attempts", "last_error"]
        table = pd.DataFrame(rows, columns=cols).rename(columns={"target": "sent_to"})
        out.print(frame_table("notifications", table, lg))


actions_app = typer.Typer(help="Improvement actions (corrective, preventive). 改进措施。", no_args_is_help=True)
app.add_typer(actions_app, name="actions")


def _print_action(a: dict, fmt: str, lang: str) -> None:
    if fmt == "json":
        print(json.dumps(a, ensure_ascii=False))
        return
    b, f = a.get("before") or {}, a.get("after") or {}

    def shown(m: dict) -> str:
        if m.get("mean") is not None:
            return f"{m['mean']:.1f} (n={m['n']})"
        return f"{m['per_30_days']:.1f}/30d" if "per_30_days" in m else "–"
    out.print(t("action.line", lang, number=a["number"], title=a["title"], status=a["status"],
                before=shown(b) if b else "–", after=shown(f) if f else "–",
                p="–" if not f or f.get("p") is None else f"{f['p']:.3f}"), highlight=False, markup=False)


@actions_app.command("add")
def actions_add(
    title: Annotated[str, typer.Option("--title", help="what is done / 措施")],
    kind: Annotated[str, typer.Option("--kind", help="corrective | preventive / 纠正 | 预防")] = "corrective",
    owner: Annotated[str, typer.Option("--owner", help="who / 负责人")] = "",
    due: Annotated[str, typer.Option("--due", help="by when (ISO date) / 期限")] = "",
    case: Annotated[list[str], typer.Option("--case", help="a case it answers (repeatable) / 关联工单")] = [],  # noqa: B006
    dimension: Annotated[str, typer.Option("--dimension", help="survey dimension to watch / 关注维度")] = "",
    campaign: Annotated[str, typer.Option("--campaign", help="...of this campaign / 所属调查活动")] = "",
    instrument: Annotated[str, typer.Option("--instrument-id", help="...or of every campaign of this instrument / 或该问卷的全部调查活动")] = "",
    complaints: Annotated[str, typer.Option("--complaints", help="watch complaints (of this category, or 'all') / 跟踪投诉（该类别，或 all）")] = "",
    window: Annotated[int, typer.Option("--window", help="days before used as the baseline / 基线天数")] = 90,
    fmt: FmtOpt = "table",
    lang: LangOpt = "",
) -> None:
    """Record an action with the metric it should move and its value before. 新增改进措施。"""
    from manyi.core.messages import Message
    from manyi.services.actions import add_action

    lg = lang_of(lang)
    _fmt(fmt, lg)
    if dimension:
        metric = {"type": "dimension", "dimension": dimension, "campaign": campaign or None, "instrument": instrument or None}
    elif complaints:
        metric = {"type": "complaints", "category": None if complaints == "all" else complaints}
    else:
        fail(ManyiError(Message("action.bad_metric", {"value": "--dimension or --complaints"})), lg)
        return
    try:
        a = add_action(title, metric, kind, owner or None, datetime.fromisoformat(due) if due else None,
                       list(case), window_days=window)
    except ValueError:
        fail(ManyiError(Message("cal.bad_instant", {"option": "--due", "value": due})), lg)
        return
    except ManyiError as exc:
        fail(exc, lg)
        return
    _print_action(a, fmt, lg)


@actions_app.command("done")
def actions_done(number: Annotated[str, typer.Argument(help="action number / 措施编号")], fmt: FmtOpt = "table", lang: LangOpt = "") -> None:
    """Mark an action done: the 'after' period starts now. 措施完成。"""
    from manyi.services.actions import done

    lg = lang_of(lang)
    try:
        _print_action(done(number), fmt, lg)
    except ManyiError as exc:
        fail(exc, lg)


@actions_app.command("check")
def actions_check(number: Annotated[str, typer.Argument(help="action number / 措施编号")], fmt: FmtOpt = "table", lang: LangOpt = "") -> None:
    """Did it work? The metric since it was done against before, with its test. 效果验证。"""
    from manyi.services.actions import check

    lg = lang_of(lang)
    try:
        _print_action(check(number), fmt, lg)
    except ManyiError as exc:
        fail(exc, lg)


@actions_app.command("list")
def actions_list(fmt: FmtOpt = "table", lang: LangOpt = "") -> None:
    """Improvement actions, newest first. 改进措施列表。"""
    from manyi.services.actions import list_actions

    lg = lang_of(lang)
    _fmt(fmt, lg)
    rows = list_actions()
    if fmt == "json":
        print(json.dumps(rows, ensure_ascii=False))
        return
    for a in rows:
        _print_action(a, "table", lg)
