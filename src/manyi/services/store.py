"""Use cases on the store: campaigns, importing response files, scoring a campaign.

A response is written with its clean answers (what the reader leaves: numbers for scales,
codes for choices, reverse-coded items already reversed) and with the per-dimension and
overall scores of the same code as ``manyi score``; scoring a campaign rebuilds the clean
table and runs the same scoring, so the numbers equal those of the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select

from manyi.core.instrument import Instrument
from manyi.core.localtime import LOCAL_TZ, local
from manyi.core.messages import ManyiError, Message
from manyi.core.scoring import ScoreResult, score_responses
from manyi.io.instruments import parse_instrument
from manyi.io.responses import ResponseSet, ValidationReport
from manyi.services.requests import ReadOptions, Source
from manyi.store import db
from manyi.store.models import Campaign, InstrumentVersion, Response


@dataclass
class ImportReport:
    campaign: str
    added: int
    already: int  # responses whose id the campaign already holds (re-import adds nothing)
    report: ValidationReport
    warnings: list[Message] = field(default_factory=list)


def _text(src: Source) -> str:
    raw = src.data if src.data is not None else src.path.read_bytes()  # type: ignore[union-attr]
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030", errors="replace")


def _audit(s: Any, action: str, target: str | None, detail: dict[str, Any] | None = None) -> None:
    """An audit-log event in the caller's transaction, by the person running the command."""
    import getpass

    from manyi.store.models import AuditEvent

    try:
        who = "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no user name in this environment
        who = "cli"
    s.add(AuditEvent(username=os.environ.get("MANYI_ACTOR") or who, action=action, target=target, detail=detail))


def create_campaign(
    name: str,
    instrument: Source,
    purpose: str | None = None,
    target_n: int | None = None,
    target_rate: float | None = None,
    url: str | None = None,
) -> Campaign:
    """A new campaign on an instrument; the instrument's version is stored once (the same id
    and version with other text is refused: a changed instrument needs a new version)."""
    if not name or not name.strip():
        raise ManyiError(Message("store.bad_name", {"name": name}))
    text = _text(instrument)
    inst = parse_instrument(text, instrument.label)
    with db.session(url) as s:
        if s.scalar(select(Campaign).where(Campaign.name == name)) is not None:
            raise ManyiError(Message("store.campaign_exists", {"name": name}))
        iv = s.scalar(
            select(InstrumentVersion).where(
                InstrumentVersion.instrument == inst.id, InstrumentVersion.version == inst.version
            )
        )
        if iv is None:
            iv = InstrumentVersion(instrument=inst.id, version=inst.version, source=text)
            s.add(iv)
            s.flush()
            _audit(s, "instrument.version", f"{inst.id} {inst.version}", {"file": instrument.label})
        elif iv.source != text:
            raise ManyiError(
                Message("store.version_changed", {"id": inst.id, "version": inst.version})
            )
        c = Campaign(
            name=name,
            instrument_version_id=iv.id,
            purpose=purpose,
            target_n=target_n,
            target_rate=target_rate,
            status="draft",
        )
        s.add(c)
        s.flush()
        _audit(s, "campaign.create", name, {"instrument": inst.id, "version": inst.version})
        return c


def _campaign(s: Any, name: str) -> tuple[Campaign, InstrumentVersion, Instrument]:
    c = s.scalar(select(Campaign).where(Campaign.name == name))
    if c is None:
        have = ", ".join(s.scalars(select(Campaign.name).order_by(Campaign.name)).all()[:10])
        raise ManyiError(Message("store.no_campaign", {"name": name, "have": have or "–"}))
    iv = s.get(InstrumentVersion, c.instrument_version_id)
    return c, iv, parse_instrument(iv.source, f"{iv.instrument} v{iv.version}")


def list_campaigns(url: str | None = None) -> pd.DataFrame:
    """Every campaign with its instrument version, status and number of responses."""
    from sqlalchemy import func

    with db.session(url) as s:
        counts = dict(
            s.execute(
                select(Response.campaign_id, func.count()).group_by(Response.campaign_id)
            ).all()
        )
        rows = []
        for c in s.scalars(select(Campaign).order_by(Campaign.name)):
            iv = s.get(InstrumentVersion, c.instrument_version_id)
            rows.append(
                {
                    "campaign": c.name,
                    "instrument": iv.instrument,
                    "version": iv.version,
                    "status": c.status,
                    "responses": int(counts.get(c.id, 0)),
                    "target_n": c.target_n,
                }
            )
    return pd.DataFrame(
        rows, columns=["campaign", "instrument", "version", "status", "responses", "target_n"]
    )


def item_points(inst: Instrument, X: np.ndarray) -> np.ndarray:
    """Each answer on 0-100 points (after reversal), as the scoring counts it."""
    from manyi.core.scoring import to_points

    lo = np.array([i.scale.min for i in inst.items], dtype=float)
    hi = np.array([i.scale.max for i in inst.items], dtype=float)
    return to_points(np.asarray(X, dtype=float), lo, hi, inst.scoring.points)


def points_dict(inst: Instrument, row: np.ndarray | list[float]) -> dict[str, float | None]:
    values = row.tolist() if isinstance(row, np.ndarray) else row  # Python floats: NaN is v != v
    return {i: None if v != v else v for i, v in zip(inst.item_ids, values, strict=True)}


def _plain(v: Any) -> Any:
    if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def import_file(
    campaign: str,
    responses: Source,
    read: ReadOptions | None = None,
    url: str | None = None,
    unit_column: str | None = None,
) -> ImportReport:
    """Read a response file against the campaign's instrument version (the reader and its
    validation report), and store the responses it does not hold yet (by response id), each
    with its scores. Importing the same file again adds nothing."""
    from manyi.services.scoring import read as read_file

    read = read or ReadOptions()
    with db.session(url) as s:
        c, iv, inst = _campaign(s, campaign)
        rs: ResponseSet = read_file(responses, inst, read)
        data = rs.data
        have = set(
            s.scalars(select(Response.response_id).where(Response.campaign_id == c.id)).all()
        )
        X = (
            np.column_stack([data[i].to_numpy(dtype=float, na_value=np.nan) for i in inst.item_ids])
            if len(data)
            else np.empty((0, len(inst.item_ids)))
        )
        scores = score_responses(inst, X)
        points = item_points(inst, X)
        cols = [k for k in data.columns if k not in ("response_id", "submitted_at")]
        units = _response_units(s, data, unit_column)
        added = already = 0
        for r in range(len(data)):
            rid = str(data["response_id"].iat[r])
            if rid in have:
                already += 1
                continue
            have.add(rid)
            ts = data["submitted_at"].iat[r] if "submitted_at" in data else None
            answers = {k: _plain(data[k].iat[r]) for k in cols}
            csi = scores.csi[r]
            s.add(
                Response(
                    campaign_id=c.id,
                    instrument_version_id=iv.id,
                    response_id=rid,
                    customer_code=_plain(data["customer_id"].iat[r])
                    if "customer_id" in data
                    else None,
                    unit_id=units[r],
                    # stored in UTC: SQLite keeps no offset, and every stored instant is read as UTC
                    submitted_at=None if ts is None or pd.isna(ts) else _stored_utc(ts),
                    answers=answers,
                    dimensions={
                        d: _plain(scores.dimensions[r, j]) for j, d in enumerate(inst.dimension_ids)
                    },
                    items=points_dict(inst, points[r]),
                    csi=None if np.isnan(csi) else float(csi),
                    satisfied=None if np.isnan(scores.satisfied[r]) else int(scores.satisfied[r]),
                    source="import",
                )
            )
            added += 1
        _audit(s, "responses.import", campaign, {"file": responses.label, "added": added, "already": already})
        cid = c.id
    if added:  # the dashboard's sums, folded now rather than on its first look
        from manyi.services import rollup

        rollup.refresh_all([(cid, inst)], url)
    return ImportReport(campaign, added, already, rs.report, list(rs.report.warnings))


def _response_units(s: Any, data: pd.DataFrame, unit_column: str | None) -> list[int | None]:
    """Each response's organisation unit: the code in ``unit_column``, else the unit of its
    customer (``customer_id``), else none. An unknown column or unit code is an error."""
    from manyi.store.models import Customer, OrgUnit

    n = len(data)
    if unit_column:
        if unit_column not in data:
            raise ManyiError(
                Message("store.no_unit_column", {"column": unit_column, "have": ", ".join(map(str, data.columns[:12]))})
            )
        codes = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        vals = [_plain(v) for v in data[unit_column]]
        unknown = sorted({str(v) for v in vals if v is not None and str(v) not in codes})
        if unknown:
            raise ManyiError(
                Message("store.unknown_units", {"column": unit_column, "codes": ", ".join(unknown[:10]), "n": len(unknown)})
            )
        return [None if v is None else codes[str(v)] for v in vals]
    if "customer_id" in data and n:
        ids = {str(v) for v in data["customer_id"].dropna()}
        by_code = dict(s.execute(select(Customer.code, Customer.unit_id).where(Customer.code.in_(ids))).all()) if ids else {}
        return [by_code.get(str(v)) if v is not None else None for v in map(_plain, data["customer_id"])]
    return [None] * n


def _stored_utc(ts: Any) -> datetime:
    """A read timestamp as an instant in UTC (a time without an offset is Asia/Shanghai time,
    as the reader takes it)."""
    return local(pd.Timestamp(ts).to_pydatetime()).astimezone(UTC)


def campaign_frame(s: Any, c: Campaign, inst: Instrument) -> pd.DataFrame:
    """The campaign's responses as the reader's clean table (choices as ordered categories,
    times in Asia/Shanghai)."""
    return campaign_frame_where(s, inst, [Response.campaign_id == c.id])


def _answers_frame(texts: list[str]) -> pd.DataFrame:
    """Stored answers (JSON objects as text) as a table: parsed by pyarrow's JSON reader in
    one pass (many times faster than one object at a time); where a key holds values of
    different kinds, object by object."""
    import io
    import json

    try:
        from pyarrow import json as pajson

        table = pajson.read_json(io.BytesIO("\n".join(texts).encode("utf-8")))
        return table.to_pandas()
    except Exception:  # noqa: BLE001 - e.g. a key with numbers and text: the sure way
        return pd.DataFrame.from_records([json.loads(t) for t in texts])


def campaign_frame_where(s: Any, inst: Instrument, where: list[Any]) -> pd.DataFrame:
    """The stored responses that meet ``where`` (SQL conditions) as the reader's clean table."""
    from sqlalchemy import Text, and_, cast

    rows = s.execute(
        select(Response.response_id, Response.submitted_at, cast(Response.answers, Text))
        .where(and_(*where))
        .order_by(Response.id)
    ).all()
    if not rows:
        return pd.DataFrame()
    df = _answers_frame([r[2] for r in rows])
    df.insert(0, "submitted_at", [r[1] for r in rows])
    df.insert(0, "response_id", [r[0] for r in rows])
    ts = pd.to_datetime(df["submitted_at"], utc=True)
    df["submitted_at"] = ts.dt.tz_convert(LOCAL_TZ)
    numeric = set(inst.item_ids)
    numeric |= {f"{i.id}__expected" for i in inst.items if i.expectation}
    numeric |= {f"{i.id}__importance" for i in inst.items if i.importance}
    for q in inst.questions:
        if q.type in ("nps", "rating", "points"):
            numeric.add(q.id)
        elif q.type == "choice" and q.id in df:
            order = [ch if isinstance(ch, str) else ch.id for ch in (q.choices or [])]
            df[q.id] = pd.Categorical(df[q.id], categories=order)
    for col in numeric & set(df.columns):
        df[col] = pd.to_numeric(df[col], errors="coerce").astype(float)
    return df


def score_campaign(
    campaign: str,
    by: list[str] | None = None,
    period: str | None = None,
    weights: str | None = None,
    compare: str | None = None,
    url: str | None = None,
) -> ScoreResult:
    """The scorecard of a campaign: the same numbers as ``manyi score`` on the same responses."""
    from manyi.core.scoring import score_frame
    from manyi.services.scoring import compare_previous

    with db.session(url) as s:
        c, _, inst = _campaign(s, campaign)
        data = campaign_frame(s, c, inst)
    if data.empty:
        raise ManyiError(Message("store.no_responses", {"name": campaign}))
    result = score_frame(inst, data, by=by, period=period, weights=weights)
    result.report = ValidationReport(
        source=campaign, rows_read=len(data), rows_used=len(data), rows_rejected=0
    )
    if compare:
        compare_previous(result, compare)
    return result


def campaign_responses(campaign: str, url: str | None = None) -> ResponseSet:
    """A campaign's stored responses as the reader gives a file's (for the report)."""
    with db.session(url) as s:
        c, _, inst = _campaign(s, campaign)
        data = campaign_frame(s, c, inst)
    if data.empty:
        raise ManyiError(Message("store.no_responses", {"name": campaign}))
    report = ValidationReport(
        source=campaign, rows_read=len(data), rows_used=len(data), rows_rejected=0
    )
    return ResponseSet(data, inst, report, np.arange(1, len(data) + 1))


def when(v: datetime | None) -> str:
    """A stored instant as ISO text with its offset."""
    return "" if v is None else db.instant(v).isoformat()


STATUSES = ("draft", "open", "closed")


def set_status(campaign: str, status: str, url: str | None = None) -> Campaign:
    """Open or close a campaign (draft → open → closed; a closed one can be reopened)."""

    if status not in STATUSES:
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "status", "value": status, "choices": ", ".join(STATUSES)},
            )
        )
    with db.session(url) as s:
        c, _, _ = _campaign(s, campaign)
        c.status = status
        now = datetime.now(UTC)
        if status == "open" and c.opens_at is None:
            c.opens_at = now
        if status == "closed":
            c.closes_at = now
        _audit(s, "campaign.status", campaign, {"status": status})
        return c


def show_campaign(campaign: str, url: str | None = None) -> dict[str, Any]:
    """A campaign's settings and progress: responses, invitations sent and answered."""
    from sqlalchemy import func

    from manyi.store.models import Invitation

    with db.session(url) as s:
        c, iv, _ = _campaign(s, campaign)
        n_resp = s.scalar(
            select(func.count()).select_from(Response).where(Response.campaign_id == c.id)
        )
        n_inv = s.scalar(
            select(func.count()).select_from(Invitation).where(Invitation.campaign_id == c.id)
        )
        n_ans = s.scalar(
            select(func.count())
            .select_from(Invitation)
            .where(Invitation.campaign_id == c.id, Invitation.answered_at.is_not(None))
        )
        return {
            "campaign": c.name,
            "instrument": iv.instrument,
            "version": iv.version,
            "status": c.status,
            "purpose": c.purpose,
            "target_n": c.target_n,
            "target_rate": c.target_rate,
            "opens_at": when(c.opens_at),
            "closes_at": when(c.closes_at),
            "responses": int(n_resp or 0),
            "invitations": int(n_inv or 0),
            "answered": int(n_ans or 0),
            "sampling": c.sampling,
        }


def sample_campaign(campaign: str, req: Any, url: str | None = None) -> tuple[int, int]:
    """Draw the campaign's sample from a customer list (``SampleRequest``: the landed sampling
    code, seeded) and give every drawn customer an invitation with a random, unguessable
    token. Customers are stored (or updated) by their ``customer_id``; a customer invited
    before keeps the invitation. Returns (drawn, new invitations)."""
    import secrets

    from manyi.services.sampling import plan_sample
    from manyi.store.models import Customer, Invitation

    plan = plan_sample(req)
    picked = plan.sample
    if "customer_id" not in picked:
        raise ManyiError(Message("store.no_customer_id", {"file": req.customers.label}))
    personal = [k for k in ("phone", "mobile", "email", "wechat") if k in picked]
    new = 0
    with db.session(url) as s:
        c, _, _ = _campaign(s, campaign)
        invited = set(
            s.scalars(select(Invitation.customer_id).where(Invitation.campaign_id == c.id)).all()
        )
        for _, row in picked.iterrows():
            code = str(row["customer_id"]).strip()
            cust = s.scalar(select(Customer).where(Customer.code == code))
            if cust is None:
                cust = Customer(code=code)
                s.add(cust)
            for attr in ("name", "type", "tier"):
                if attr in picked and not pd.isna(row[attr]):
                    setattr(cust, attr, str(row[attr]))
            if personal:
                cust.contact = {k: None if pd.isna(row[k]) else str(row[k]) for k in personal}
            s.flush()
            if cust.id in invited:
                continue
            s.add(
                Invitation(campaign_id=c.id, customer_id=cust.id, token=secrets.token_urlsafe(16))
            )
            invited.add(cust.id)
            new += 1
        c.sampling = {
            "method": plan.method,
            "n": plan.n,
            "population": plan.population,
            "seed": plan.seed,
            "strata": getattr(req, "strata", None),
            "allocation": getattr(req, "allocation", None),
        }
    return len(picked), new


def invitations(
    campaign: str, base_url: str = "http://127.0.0.1:8000", url: str | None = None
) -> pd.DataFrame:
    """Every invitation with its customer and survey link, for the SMS or e-mail tool."""
    from manyi.store.models import Customer, Invitation

    with db.session(url) as s:
        c, _, _ = _campaign(s, campaign)
        rows = s.execute(
            select(
                Customer.code,
                Customer.name,
                Customer.contact,
                Invitation.token,
                Invitation.answered_at,
            )
            .join(Customer, Customer.id == Invitation.customer_id)
            .where(Invitation.campaign_id == c.id)
            .order_by(Invitation.id)
        ).all()
    base = base_url.rstrip("/")
    out = []
    for code, name, contact, token, answered in rows:
        rec = {"customer_id": code, "name": name}
        rec.update(contact or {})
        rec.update(token=token, link=f"{base}/s/{token}", answered=answered is not None)
        out.append(rec)
    return pd.DataFrame(out)


def import_units(source: Source, url: str | None = None) -> tuple[int, int]:
    """Organisation units from a table (CSV/XLSX: ``code``, ``name_zh``, ``name_en``,
    ``parent``) or YAML (a list of ``{code, name: {zh, en}, parent}``); stored or updated by
    code. Parents must be in the file or the store; a cycle is an error. Returns (new,
    updated)."""
    from manyi.io.responses import read_table
    from manyi.store.models import OrgUnit

    label = source.label
    if label.lower().endswith((".yaml", ".yml")):
        from manyi.io import yamlsafe

        doc = yamlsafe.load(_text(source), label)
        if not isinstance(doc, list):
            raise ManyiError(Message("store.units_format", {"file": label}))
        rows = []
        for d in doc:
            d = d if isinstance(d, dict) else {}
            name = d.get("name") if isinstance(d.get("name"), dict) else {}
            rows.append(
                {
                    "code": d.get("code"),
                    "name_zh": name.get("zh") or d.get("name_zh"),
                    "name_en": name.get("en") or d.get("name_en"),
                    "parent": d.get("parent"),
                }
            )
    else:
        table = read_table(
            source.path if source.path is not None else source.data, name=source.name
        )
        missing = {"code", "name_zh", "name_en"} - set(table.columns)
        if missing:
            raise ManyiError(Message("store.units_format", {"file": label}))
        rows = table.to_dict("records")
    parents: dict[str, str | None] = {}
    for i, r in enumerate(rows, start=2):
        code = None if r.get("code") is None or pd.isna(r.get("code")) else str(r["code"]).strip()
        if (
            not code
            or not r.get("name_zh")
            or not r.get("name_en")
            or pd.isna(r.get("name_zh"))
            or pd.isna(r.get("name_en"))
        ):
            raise ManyiError(Message("store.unit_row", {"file": label, "row": i}))
        p = r.get("parent")
        parents[code] = (
            None
            if p is None or (isinstance(p, float) and np.isnan(p)) or str(p).strip() == ""
            else str(p).strip()
        )
    new = updated = 0
    with db.session(url) as s:
        known = {u.code: u for u in s.scalars(select(OrgUnit)).all()}
        for r in rows:
            code = str(r["code"]).strip()
            u = known.get(code)
            if u is None:
                u = OrgUnit(code=code, name_zh=str(r["name_zh"]), name_en=str(r["name_en"]))
                s.add(u)
                known[code] = u
                new += 1
            else:
                u.name_zh, u.name_en = str(r["name_zh"]), str(r["name_en"])
                updated += 1
        s.flush()
        for code, parent in parents.items():
            if parent is not None and parent not in known:
                raise ManyiError(
                    Message("store.unit_parent", {"file": label, "code": code, "parent": parent})
                )
            known[code].parent_id = None if parent is None else known[parent].id
        s.flush()
        by_id = {u.id: u for u in known.values()}
        for u in known.values():  # walk up: a cycle never reaches the top
            seen = set()
            cur = u
            while cur.parent_id is not None:
                if cur.id in seen:
                    raise ManyiError(Message("store.unit_cycle", {"file": label, "code": u.code}))
                seen.add(cur.id)
                cur = by_id[cur.parent_id]
        _audit(s, "units.import", label, {"new": new, "updated": updated})
    return new, updated


CUSTOMER_FIELDS = ("name", "type", "tier")
CUSTOMER_CONTACT = ("phone", "mobile", "email", "wechat")


def import_customers(source: Source, url: str | None = None) -> tuple[int, int, list[Message]]:
    """The customer list (CSV/XLSX): ``customer_id`` and optionally ``name``, ``type``,
    ``tier``, ``unit`` (a unit code), contact fields (``phone``, ``mobile``, ``email``,
    ``wechat``; personal data) and ``left_at`` (the date a customer was lost: a cancelled
    contract, a closed account; blank while a customer). Stored or updated by ``customer_id``;
    a row with an unknown unit or an unreadable date is left out and reported. Returns (new,
    updated, messages)."""
    from manyi.io.responses import read_table
    from manyi.store.models import Customer, OrgUnit

    label = source.label
    df = read_table(source.path if source.path is not None else source.data, name=source.name)
    if "customer_id" not in df.columns:
        raise ManyiError(Message("store.no_customer_id", {"file": label}))
    left = pd.to_datetime(df["left_at"], errors="coerce") if "left_at" in df.columns else None
    new = updated = 0
    bad: list[Message] = []
    with db.session(url) as s:
        units = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        known = {c.code: c for c in s.scalars(select(Customer))}
        def val(row: dict[str, Any], k: str) -> str | None:
            v = row.get(k)
            return None if v is None or pd.isna(v) or not str(v).strip() else str(v).strip()

        for i, row in enumerate(df.to_dict("records")):
            code = val(row, "customer_id") or ""
            where = Message("case.file_row", {"file": label, "row": i + 2})
            if not code:
                bad.append(Message("case.bad_field", {"where": where, "field": "customer_id", "value": "", "choices": Message("choice.text")}))
                continue
            unit = val(row, "unit")
            if unit and unit not in units:
                bad.append(Message("case.bad_field", {"where": where, "field": "unit", "value": unit, "choices": Message("choice.unit_code")}))
                continue
            gone = None
            if left is not None and val(row, "left_at"):
                if pd.isna(left.iloc[i]):
                    bad.append(Message("case.bad_field", {"where": where, "field": "left_at", "value": row["left_at"],
                                                           "choices": Message("choice.date")}))
                    continue
                gone = local(left.iloc[i].to_pydatetime())
            c = known.get(code)
            if c is None:
                c = known[code] = Customer(code=code)
                s.add(c)
                new += 1
            else:
                updated += 1
            for attr in CUSTOMER_FIELDS:
                if val(row, attr):
                    setattr(c, attr, val(row, attr))
            if unit:
                c.unit_id = units[unit]
            contact = {k: val(row, k) for k in CUSTOMER_CONTACT if val(row, k)}
            if contact:
                c.contact = {**(c.contact or {}), **contact}
            if "left_at" in df.columns:
                c.left_at = None if gone is None else gone.astimezone(UTC)
        _audit(s, "customers.import", label, {"new": new, "updated": updated, "rejected": len(bad)})
    return new, updated, bad


def unit_tree(url: str | None = None) -> pd.DataFrame:
    """The organisation tree: one row per unit with its depth and path of codes."""
    from manyi.store.models import OrgUnit

    with db.session(url) as s:
        units = {u.id: u for u in s.scalars(select(OrgUnit)).all()}
    rows = []

    def path(u: Any) -> list[str]:
        out = [u.code]
        while u.parent_id is not None:
            u = units[u.parent_id]
            out.append(u.code)
        return out[::-1]

    for u in units.values():
        p = path(u)
        rows.append(
            {
                "unit": u.code,
                "name_zh": u.name_zh,
                "name_en": u.name_en,
                "depth": len(p) - 1,
                "path": " / ".join(p),
            }
        )
    return (
        pd.DataFrame(rows, columns=["unit", "name_zh", "name_en", "depth", "path"])
        .sort_values("path")
        .reset_index(drop=True)
    )
