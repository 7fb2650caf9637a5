"""Commands on the store: db upgrade, campaign create|list|show, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from manyi.cli.common import (
    ColumnsOpt,
    DateOpt,
    HeaderRowOpt,
    InstrumentOpt,
    LangOpt,
    SheetOpt,
    SourceOpt,
    app,
    err,
    fail,
    lang_of,
    out,
    read_options,
    src,
)
from manyi.i18n import ManyiError, t, translator
from manyi.present.terminal import frame_table, named_values

db_app = typer.Typer(
    help="The store (SQLite by default; MANYI_DATABASE_URL). 数据库。", no_args_is_help=True
)
campaign_app = typer.Typer(help="Survey campaigns. 调查活动。", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(campaign_app, name="campaign")


@db_app.command("upgrade")
def db_upgrade(lang: LangOpt = "") -> None:
    """Create or upgrade the database schema (also done on first use). 创建或升级数据库。"""
    from manyi.store.db import _safe, default_url, upgrade

    lg = lang_of(lang)
    try:
        url = default_url()
        rev = upgrade(url)
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(t("store.upgraded", lg, url=_safe(url), rev=rev), highlight=False)


@campaign_app.command("create")
def campaign_create(
    name: Annotated[str, typer.Argument(help="campaign name / 调查活动名称")],
    instrument: InstrumentOpt,
    purpose: Annotated[str, typer.Option("--purpose", help="purpose / 调查目的")] = "",
    target_n: Annotated[
        int, typer.Option("--target-n", help="target sample size / 目标样本量", show_default=False)
    ] = 0,
    target_rate: Annotated[
        float, typer.Option("--target-rate", help="target satisfaction rate (0-1) / 目标满意率", show_default=False)
    ] = 0.0,
    lang: LangOpt = "",
) -> None:
    """Create a campaign on an instrument (its version is kept). 创建调查活动。"""
    from manyi.services.store import create_campaign

    lg = lang_of(lang)
    try:
        c = create_campaign(
            name, src(instrument), purpose or None, target_n or None, target_rate or None
        )
        from manyi.io.instruments import load_instrument

        inst = load_instrument(instrument)
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(
        t("store.created", lg, name=c.name, instrument=inst.id, version=inst.version),
        highlight=False,
    )


@campaign_app.command("list")
def campaign_list(lang: LangOpt = "") -> None:
    """The campaigns with their instrument, status and responses. 调查活动列表。"""
    from manyi.services.store import list_campaigns

    lg = lang_of(lang)
    try:
        table = list_campaigns()
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(frame_table("campaigns", named_values(None, table, lg), lg))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="responses: .csv, .xlsx or .parquet / 答卷文件")],
    campaign: Annotated[str, typer.Option("--campaign", help="campaign name / 调查活动")],
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    columns: ColumnsOpt = None,
    source: SourceOpt = "",
    header_row: HeaderRowOpt = 0,
    unit_column: Annotated[
        str,
        typer.Option(
            "--unit-column",
            help="column with each response's organisation unit code / 所属单位代码列",
        ),
    ] = "",
    lang: LangOpt = "",
) -> None:
    """Import a response file into a campaign; a second import adds nothing. 导入答卷。"""
    from manyi.cli.common import print_validation
    from manyi.services.store import import_file

    lg = lang_of(lang)
    try:
        rep = import_file(
            campaign,
            src(file),
            read_options(date_format, sheet, columns, source, header_row),
            unit_column=unit_column or None,
        )
    except ManyiError as exc:
        fail(exc, lg)
        return

    print_validation(rep.report, [], lg)
    err.print(
        t(
            "store.imported",
            lg,
            file=file.name,
            name=campaign,
            added=rep.added,
            already=rep.already,
        ),
        highlight=False,
    )


def _status(name: str, status: str, lang: str) -> None:
    from manyi.services.store import set_status

    lg = lang_of(lang)
    try:
        set_status(name, status)
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(t("store.status", lg, name=name, status=status), highlight=False)


@campaign_app.command("open")
def campaign_open(
    name: Annotated[str, typer.Argument(help="campaign / 调查活动")], lang: LangOpt = ""
) -> None:
    """Open a campaign for answers. 开放调查活动。"""
    _status(name, "open", lang)


@campaign_app.command("close")
def campaign_close(
    name: Annotated[str, typer.Argument(help="campaign / 调查活动")], lang: LangOpt = ""
) -> None:
    """Close a campaign: no more answers. 关闭调查活动。"""
    _status(name, "closed", lang)


@campaign_app.command("show")
def campaign_show(
    name: Annotated[str, typer.Argument(help="campaign / 调查活动")], lang: LangOpt = ""
) -> None:
    """A campaign's settings and progress. 调查活动详情。"""
    import pandas as pd

    from manyi.services.store import show_campaign

    lg = lang_of(lang)
    try:
        info = show_campaign(name)
    except ManyiError as exc:
        fail(exc, lg)
        return
    info["sampling"] = sampling_text(info["sampling"], lg)
    out.print(frame_table("campaign_detail", named_values(None, pd.DataFrame([info]), lg), lg))


@campaign_app.command("sample")
def campaign_sample(
    name: Annotated[str, typer.Argument(help="campaign / 调查活动")],
    customers: Annotated[
        Path, typer.Option("--customers", help="customer list with customer_id / 客户名单")
    ],
    n: Annotated[int, typer.Option("--n", help="sample size (or use --moe) / 样本量", show_default=False)] = 0,
    moe: Annotated[float, typer.Option("--moe", help="target margin of error / 目标误差", show_default=False)] = 0.0,
    method: Annotated[str, typer.Option("--method", help="srs | systematic | stratified / 抽样方法：简单随机 | 系统 | 分层")] = "srs",
    strata: Annotated[str, typer.Option("--strata", help="stratum column / 分层列")] = "",
    allocation: Annotated[
        str, typer.Option("--allocation", help="proportional | equal | neyman / 样本分配：比例 | 等额 | 奈曼")
    ] = "proportional",
    seed: Annotated[int, typer.Option("--seed", help="random seed / 随机种子")] = 1,
    lang: LangOpt = "",
) -> None:
    """Draw the campaign's sample and create one invitation per customer. 抽样并生成邀请。"""
    from manyi.cli.common import request
    from manyi.services.requests import SampleRequest
    from manyi.services.store import sample_campaign

    lg = lang_of(lang)
    try:
        req = request(
            SampleRequest,
            lg,
            customers=src(customers),
            n=n,
            moe=moe,
            method=method,
            strata=strata or None,
            allocation=allocation,
            seed=seed,
        )
        drawn, new = sample_campaign(name, req)
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(t("store.sampled", lg, name=name, drawn=drawn, new=new), highlight=False)


@campaign_app.command("invitations")
def campaign_invitations(
    name: Annotated[str, typer.Argument(help="campaign / 调查活动")],
    output: Annotated[Path, typer.Option("--output", "-o", help="CSV or XLSX / 输出文件")],
    base_url: Annotated[
        str, typer.Option("--base-url", help="the survey server's address / 问卷服务地址")
    ] = "http://127.0.0.1:8000",
    lang: LangOpt = "",
) -> None:
    """Export the invitations with each customer's survey link. 导出邀请链接。"""
    from manyi.services.store import invitations

    lg = lang_of(lang)
    try:
        table = invitations(name, base_url)
    except ManyiError as exc:
        fail(exc, lg)
        return
    if output.suffix.lower() == ".xlsx":
        table.to_excel(output, index=False)
    else:
        table.to_csv(output, index=False, encoding="utf-8-sig")
    err.print(t("cli.written", lg, path=output), highlight=False)


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", help="address to listen on / 监听地址")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="port / 端口")] = 8000,
    workers: Annotated[int, typer.Option("--workers", help="worker processes / 进程数")] = 1,
    clock: Annotated[
        bool,
        typer.Option("--clock/--no-clock", help="run the service-level clock (manyi worker) beside it / 同时运行时限监控"),
    ] = True,
    lang: LangOpt = "",
) -> None:
    """Serve the survey pages, the staff workspace and the API over the store. 启动服务。"""
    import subprocess
    import sys

    import uvicorn

    from manyi.store.db import ensure_schema
    from manyi.web.app import create_app

    lg = lang_of(lang)
    try:
        ensure_schema()
    except ManyiError as exc:
        fail(exc, lg)
        return
    err.print(t("web.serving", lg, host=host, port=port), highlight=False)
    # the clock in its own process: it never holds up a request, and stops with the server
    # (it also stops on its own when the server is killed: it watches its parent)
    import os

    ticker = (
        subprocess.Popen(
            [sys.executable, "-m", "manyi.cli", "worker"],
            stderr=subprocess.DEVNULL,
            env={**os.environ, "MANYI_WORKER_PARENT": str(os.getpid())},
        )
        if clock
        else None
    )
    try:
        if workers > 1:  # each worker process builds its own app over the same store
            uvicorn.run(
                "manyi.web.app:create_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="warning",
            )
        else:
            uvicorn.run(create_app(), host=host, port=port, log_level="warning")
    finally:
        if ticker is not None:
            ticker.terminate()


apikey_app = typer.Typer(help="API keys for integrations. 接口密钥。", no_args_is_help=True)
app.add_typer(apikey_app, name="apikey")


@apikey_app.command("create")
def apikey_create(
    campaign: Annotated[str, typer.Option("--campaign", help="campaign / 调查活动")] = "",
    cases: Annotated[
        bool, typer.Option("--cases", help="a key for the case API (/api/v1/cases) / 案件接口密钥")
    ] = False,
    lang: LangOpt = "",
) -> None:
    """A new API key scoped to one campaign, or with --cases to the desk's case API (stored
    hashed, shown once). 生成接口密钥。"""
    from manyi.services.survey import create_api_key, create_desk_key

    lg = lang_of(lang)
    if bool(campaign) == cases:
        err.print(t("store.apikey_scope", lg), highlight=False)
        raise typer.Exit(2)
    try:
        key = create_desk_key() if cases else create_api_key(campaign)
    except ManyiError as exc:
        fail(exc, lg)
        return
    if cases:
        out.print(t("store.apikey_cases", lg, key=key), highlight=False)
    else:
        out.print(t("store.apikey", lg, name=campaign, key=key), highlight=False)


@campaign_app.command("link")
def campaign_link(
    name: Annotated[str, typer.Argument(help="campaign / 调查活动")],
    base_url: Annotated[
        str, typer.Option("--base-url", help="the survey server's address / 问卷服务地址")
    ] = "http://127.0.0.1:8000",
    lang: LangOpt = "",
) -> None:
    """The campaign's anonymous walk-in link (for a poster or a QR code). 公开问卷链接。"""
    from manyi.services.survey import walk_in_token

    lg = lang_of(lang)
    try:
        token = walk_in_token(name)
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(
        t("store.walk_in", lg, name=name, link=f"{base_url.rstrip('/')}/w/{token}"), highlight=False
    )


unit_app = typer.Typer(
    help="The organisation tree (company → region → branch → team). 组织机构。",
    no_args_is_help=True,
)
app.add_typer(unit_app, name="unit")


@unit_app.command("import")
def unit_import(
    file: Annotated[Path, typer.Argument(help="CSV/XLSX (code, name_zh, name_en, parent) or YAML / 组织机构文件")],
    lang: LangOpt = "",
) -> None:
    """Import or update organisation units by code. 导入组织机构。"""
    from manyi.services.store import import_units

    lg = lang_of(lang)
    try:
        new, updated = import_units(src(file))
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(
        t("store.units_imported", lg, file=file.name, new=new, updated=updated), highlight=False
    )


@unit_app.command("list")
def unit_list(lang: LangOpt = "") -> None:
    """The organisation tree. 组织机构列表。"""
    from manyi.services.store import unit_tree

    lg = lang_of(lang)
    try:
        table = unit_tree()
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(frame_table("units", table, lg))


customer_app = typer.Typer(help="The customer list. 客户名单。", no_args_is_help=True)
app.add_typer(customer_app, name="customers")


@customer_app.command("import")
def customers_import(
    file: Annotated[
        Path,
        typer.Argument(help="CSV/XLSX: customer_id, name, type, tier, unit, phone, email, left_at / 客户名单"),
    ],
    lang: LangOpt = "",
) -> None:
    """Import or update customers by customer_id (left_at: when a customer was lost). 导入客户。"""
    from manyi.services.store import import_customers

    lg = lang_of(lang)
    try:
        new, updated, bad = import_customers(src(file))
    except ManyiError as exc:
        fail(exc, lg)
        return
    for m in bad:
        err.print(m.render(lg), highlight=False)
    out.print(
        t("store.customers_imported", lg, file=file.name, new=new, updated=updated, rejected=len(bad)),
        highlight=False,
    )


user_app = typer.Typer(help="Staff accounts of the workspace. 工作台用户。", no_args_is_help=True)
app.add_typer(user_app, name="user")


@user_app.command("create")
def user_create(
    username: Annotated[str, typer.Argument(help="user name (default: admin) / 用户名")] = "admin",
    role: Annotated[str, typer.Option("--role", help="admin | analyst | agent | viewer / 角色")] = "viewer",
    unit: Annotated[
        str, typer.Option("--unit", help="organisation unit code (none: all units) / 所属单位")
    ] = "",
    password: Annotated[
        str,
        typer.Option(
            "--password",
            help="at least 10 characters; else MANYI_PASSWORD, else asked for (or read from a pipe) / 密码",
        ),
    ] = "",
    user_lang: Annotated[str, typer.Option("--user-lang", help="zh | en: the user's language / 用户语言")] = "zh",
    email: Annotated[str, typer.Option("--email", help="e-mail for escalation notices / 邮箱")] = "",
    manager: Annotated[
        bool, typer.Option("--manager", help="receives the unit's escalated cases / 单位负责人（接收升级）")
    ] = False,
    lang: LangOpt = "",
) -> None:
    """Create a staff account (the first admin: --role admin). 创建工作台用户。"""
    import os
    import sys

    from manyi.services.accounts import create_user

    lg = lang_of(lang)
    password = password or os.environ.get("MANYI_PASSWORD", "")
    if not password:
        if sys.stdin.isatty():
            password = typer.prompt(t("staff.password", lg), hide_input=True, confirmation_prompt=True)
        else:
            password = sys.stdin.readline().rstrip("\r\n")
    try:
        create_user(username, password, role, unit or None, user_lang, by="cli", email=email or None, manager=manager)
    except ManyiError as exc:
        fail(exc, lg)
        return
    out.print(
        t("staff.user_created", lg, user=username, role=t(f"staff.role.{role}", lg), unit=unit or t("staff.all_units", lg)),
        highlight=False,
    )


@user_app.command("list")
def user_list(lang: LangOpt = "") -> None:
    """Staff accounts with their roles and units. 用户列表。"""
    import pandas as pd

    from manyi.services.accounts import list_users

    lg = lang_of(lang)
    try:
        users = list_users()
    except ManyiError as exc:
        fail(exc, lg)
        return
    table = pd.DataFrame(users, columns=["username", "role", "unit", "active", "locked"])
    out.print(frame_table("users", table, lg))


def sampling_text(plan: dict | None, lang: str) -> str:
    """A campaign's sampling plan in words: method, sample of population, seed, and the strata
    with their allocation when stratified."""
    if not plan:
        return ""
    tr = translator(lang)
    strata = ""
    if plan.get("strata"):
        strata = tr("store.sampling_strata", strata=plan["strata"],
                    allocation=tr.get(f"value.allocation.{plan.get('allocation')}", str(plan.get("allocation"))))
    return tr("store.sampling_plan", method=tr.get(f"value.method.{plan.get('method')}", str(plan.get("method"))),
              n=plan.get("n"), population=plan.get("population"), seed=plan.get("seed"), strata=strata)
