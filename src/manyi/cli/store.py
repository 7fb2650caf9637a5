"""Commands on the store: db upgrade, campaign create|list|show, import."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from manyi.cli.common import (
    DateOpt,
    InstrumentOpt,
    LangOpt,
    SheetOpt,
    app,
    err,
    fail,
    lang_of,
    out,
    print_warnings,
    src,
)
from manyi.i18n import ManyiError, t
from manyi.present.terminal import frame_table

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
        int, typer.Option("--target-n", help="target sample size / 目标样本量")
    ] = 0,
    target_rate: Annotated[
        float, typer.Option("--target-rate", help="target satisfaction rate (0-1) / 目标满意率")
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
    out.print(frame_table("campaigns", table, lg))


@app.command("import")
def import_(
    file: Annotated[Path, typer.Argument(help="responses: .csv, .xlsx or .parquet / 答卷文件")],
    campaign: Annotated[str, typer.Option("--campaign", help="campaign name / 调查活动")],
    date_format: DateOpt = "",
    sheet: SheetOpt = "",
    lang: LangOpt = "",
) -> None:
    """Import a response file into a campaign; a second import adds nothing. 导入答卷。"""
    from manyi.cli.common import print_report
    from manyi.services.requests import ReadOptions
    from manyi.services.store import import_file

    lg = lang_of(lang)
    try:
        rep = import_file(
            campaign, src(file), ReadOptions(date_format=date_format or None, sheet=sheet or None)
        )
    except ManyiError as exc:
        fail(exc, lg)
        return

    class _R:  # the validation report, printed as for scoring
        report = rep.report
        warnings: list = []

    print_report(_R, lg)
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
    print_warnings([], lg)
