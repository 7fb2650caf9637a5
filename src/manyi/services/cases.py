"""Use cases of the complaint desk: open and import cases, act on them (with optimistic
locking), the service-level settings, and the worker pass that finds breaches exactly once.

The rules are pure (:mod:`manyi.core.cases`, :mod:`manyi.core.sla`); this module stores their
results: a case row, its append-only timeline, and one ``sla_breach`` row per missed target
(a unique key makes a second detection of the same breach impossible, whatever number of
worker passes run, at once or after a crash).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from manyi.core.cases import (
    CHANNELS,
    KINDS,
    KNOWN_CATEGORIES,
    ORGANISATION,
    SEVERITIES,
    CaseState,
    apply,
    escalate,
    escalation_unit,
)
from manyi.core.localtime import LOCAL_TZ, local
from manyi.core.messages import ManyiError, Message
from manyi.core.sla import Policies, clock
from manyi.services.requests import Source
from manyi.store import db
from manyi.store.models import Breach, Case, CaseEvent, OrgUnit, Setting

BATCH = 500


# --- settings --------------------------------------------------------------------------------
@lru_cache(maxsize=8)
def _parsed(text: str) -> Policies:
    from manyi.io.calendars import parse_sla

    return parse_sla(text, "sla")


def policies(url: str | None = None) -> Policies:
    """The stored service levels (``manyi sla load``), else the defaults (docs/cases.md)."""
    from manyi.io.calendars import DEFAULT_SLA

    with db.session(url) as s:
        row = s.get(Setting, "sla")
        text = row.value if row is not None else DEFAULT_SLA
    return _parsed(text)


def load_sla(source: Source, url: str | None = None) -> Policies:
    """Check a settings file and store it: from now on every case is timed by it."""
    from manyi.io.calendars import parse_sla
    from manyi.services.store import _audit, _text

    text = _text(source)
    pol = parse_sla(text, source.label)
    with db.session(url) as s:
        row = s.get(Setting, "sla")
        if row is None:
            s.add(Setting(key="sla", value=text))
        else:
            row.value = text
        _audit(s, "settings.sla", source.label, {"policies": [p.name for p in pol.policies]})
    return pol


# --- one case --------------------------------------------------------------------------------
def _state(c: Case) -> CaseState:
    spans = [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in (c.paused or {}).get("spans", [])]
    return CaseState(
        c.status, c.owner, c.first_owner, c.escalation, c.remedy, c.root_cause,
        None if c.satisfied is None else bool(c.satisfied), _aware(c.acknowledged_at), _aware(c.resolved_at),
        _aware(c.closed_at), _aware(c.called_back_at), _aware(c.waiting_since), spans,
    )


def _utc(t: datetime | None) -> datetime | None:
    """An instant in UTC for storing (SQLite keeps no offset: every stored time is UTC)."""
    return None if t is None else (t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC))


def _store_state(c: Case, st: CaseState) -> None:
    c.status, c.owner, c.first_owner, c.escalation = st.status, st.owner, st.first_owner, st.escalation
    c.remedy, c.root_cause = st.remedy, st.root_cause
    c.satisfied = None if st.satisfied is None else int(st.satisfied)
    c.acknowledged_at, c.resolved_at, c.closed_at = _utc(st.acknowledged_at), _utc(st.resolved_at), _utc(st.closed_at)
    c.called_back_at, c.waiting_since = _utc(st.called_back_at), _utc(st.waiting_since)
    c.paused = {"spans": [[a.isoformat(), b.isoformat()] for a, b in st.paused]} if st.paused else None


_aware = db.instant


def _fields(c: Case | dict[str, Any]) -> dict[str, Any]:
    g = c.get if isinstance(c, dict) else lambda k: getattr(c, k)
    return {k: g(k) for k in ("kind", "category", "severity", "channel")}


def _due(pol: Policies, c: Case) -> tuple[str | None, dict[str, str]]:
    p = pol.for_case(_fields(c))
    if p is None:
        return None, {}
    ck = clock(p, _aware(c.received_at), _state(c))
    return p.name, {t: p.calendar.local(d).isoformat() for t, d in ck.due.items()}


def _check(data: dict[str, Any], where: str | Message) -> list[Message]:
    """What is wrong with a new case's fields (empty: nothing)."""
    bad = []
    for key, allowed in (("kind", KINDS), ("channel", CHANNELS), ("severity", SEVERITIES)):
        v = data.get(key)
        if v is not None and v not in allowed:
            bad.append(Message("case.bad_field", {"where": where, "field": key, "value": v, "choices": ", ".join(allowed)}))
    cat = data.get("category")
    if cat and cat not in KNOWN_CATEGORIES:
        bad.append(Message("case.bad_field", {"where": where, "field": "category", "value": cat,
                                               "choices": ", ".join(sorted(KNOWN_CATEGORIES))}))
    if not isinstance(data.get("received_at"), datetime):
        bad.append(Message("case.bad_field", {"where": where, "field": "received_at",
                                               "value": data.get("received_at"), "choices": "ISO-8601"}))
    return bad


def _new_case(s: Any, data: dict[str, Any], actor: str | None, pol: Policies) -> Case:
    c = Case(
        external_id=data.get("external_id"), kind=data.get("kind") or "complaint",
        channel=data.get("channel") or "hotline", category=data.get("category"),
        severity=data.get("severity") or "medium", customer_code=data.get("customer"),
        contact=data.get("contact"), unit_id=data.get("unit_id"), remedy_asked=data.get("remedy_asked"),
        description=data.get("description"), status="new", owner=actor, first_owner=actor, escalation=0,
        received_at=_utc(data["received_at"]),
    )
    c.policy, c.due = _due(pol, c)
    s.add(c)
    if c.kind == "complaint" and c.customer_code and pol.repeat_days:
        since = c.received_at - timedelta(days=pol.repeat_days)
        earlier = s.scalar(
            select(func.count(Case.id)).where(
                Case.customer_code == c.customer_code, Case.kind == "complaint", Case.id.is_not(None),
                Case.category.is_(None) if c.category is None else Case.category == c.category,
                Case.received_at >= since, Case.received_at < c.received_at,
            )
        )
        if earlier:  # a repeated complaint goes one level up at once (提级处理)
            c.escalation = 1
            c.repeat_of = earlier
    return c


def _repeat_event(s: Any, c: Case, pol: Policies, router: _Router | None = None, quiet: bool = False) -> None:
    n = getattr(c, "repeat_of", 0)
    if n:
        now = datetime.now(UTC)
        to = (router or _Router(s)).route(c, "repeat", now, pol, quiet=quiet)
        s.add(CaseEvent(case_id=c.id, at=now, actor=None, action="escalate", from_status=c.status,
                        to_status=c.status, note="repeat", data={"level": 1, "earlier_complaints": n, **to}))


class _Router:
    """Where an escalated case goes: the unit :func:`~manyi.core.cases.escalation_unit` picks
    for its level, and that unit's managers (accounts marked ``manager``). Routing a case sets
    its ``escalated_unit_id`` and, with notices configured, queues an ``escalation`` notice in
    the same transaction: to the webhooks and addresses that subscribe to it, and by e-mail to
    each manager with an address."""

    def __init__(self, s: Any) -> None:
        from manyi.store.models import User

        self.s = s
        units = s.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.code)).all()
        self.parent = {u.id: u.parent_id for u in units}
        self.code = {u.id: u.code for u in units}
        self.managers: dict[int, list[tuple[str, str | None]]] = {}
        for u in s.execute(select(User.username, User.email, User.unit_id).where(User.manager == 1, User.active == 1)):
            self.managers.setdefault(u.unit_id or ORGANISATION, []).append((u.username, u.email))

    def chain(self, unit_id: int | None) -> list[int]:
        out: list[int] = []
        while unit_id is not None and unit_id not in out:
            out.append(unit_id)
            unit_id = self.parent.get(unit_id)
        return [*out, ORGANISATION]

    def route(self, c: Case, reason: str, at: datetime, pol: Policies, quiet: bool = False) -> dict[str, Any]:
        target = escalation_unit(self.chain(c.unit_id), c.escalation, frozenset(self.managers))
        c.escalated_unit_id = target or None
        people = self.managers.get(target, []) if target is not None else []
        to = {"unit": None if target is None else self.code.get(target, "*"), "managers": [p[0] for p in people]}
        if pol.notify and not quiet:
            from manyi.services.notify import queue

            queue(self.s, pol.notify, "escalation", {
                "case": c.number, "kind": c.kind, "category": c.category, "reason": reason, "level": c.escalation,
                "escalated_to": to, "owner": c.owner, "first_owner": c.first_owner,
                "unit": self.code.get(c.unit_id) if c.unit_id else None, "at": _utc(at).isoformat()},
                c.id, _utc(at), emails=[p[1] for p in people if p[1]])
        return to


def _numbered(s: Any) -> None:
    """Case numbers (C0000123) for the cases just inserted."""
    s.flush()
    for c in s.scalars(select(Case).where(Case.number.is_(None))):
        c.number = f"C{c.id:07d}"
    s.flush()  # the version the caller sees is the stored one


def open_case(data: dict[str, Any], actor: str | None = None, url: str | None = None) -> dict[str, Any]:
    """Record one contact; its service levels start at ``received_at``."""
    data = dict(data)
    data.setdefault("received_at", datetime.now(UTC))
    bad = _check(data, "case")
    if bad:
        raise ManyiError(*bad)
    pol = policies(url)
    with db.session(url) as s:
        c = _new_case(s, data, actor, pol)
        _numbered(s)
        s.add(CaseEvent(case_id=c.id, at=datetime.now(UTC), actor=actor, action="open", from_status="new",
                        to_status="new", note=None, data={"channel": c.channel}))
        _repeat_event(s, c, pol)
        return case_dict(c, [])


def act(number: str, action: str, actor: str | None, version: int | None = None, url: str | None = None,
        at: datetime | None = None, **data: Any) -> dict[str, Any]:
    """Apply ``action`` to case ``number`` (its timeline grows by one event). With ``version``
    (the version the agent saw), a case changed meanwhile is refused with a conflict message
    instead of overwriting the other change."""
    at = at or datetime.now(UTC)
    try:
        with db.session(url) as s:
            c = _find(s, number)
            if version is not None and version != c.version:
                raise ManyiError(Message("case.conflict", {"number": c.number, "seen": version, "now": c.version}))
            before = c.escalation
            st, ev = apply(_state(c), action, actor, at, **data)
            _store_state(c, st)
            pol = policies(url)
            c.policy, c.due = _due(pol, c)
            extra = {}
            if c.escalation > before:  # an unsatisfied call-back goes one level up
                extra = _Router(s).route(c, action, at, pol)
            s.add(CaseEvent(case_id=c.id, at=_utc(ev.at), actor=ev.actor, action=ev.action, from_status=ev.from_status,
                            to_status=ev.to_status, note=ev.note, data={**(ev.data or {}), **extra} or None))
            s.flush()
            return case_dict(c, _breaches(s, [c.id]).get(c.id, []))
    except StaleDataError:  # another save got in between the read and this one
        raise ManyiError(Message("case.conflict", {"number": number, "seen": version, "now": "?"})) from None


def _find(s: Any, number: str) -> Case:
    c = s.scalar(select(Case).where(or_(Case.number == number, Case.external_id == number)))
    if c is None and str(number).isdigit():
        c = s.get(Case, int(number))
    if c is None:
        raise ManyiError(Message("case.unknown", {"number": number}))
    return c


def timeline(number: str, url: str | None = None) -> list[dict[str, Any]]:
    with db.session(url) as s:
        c = _find(s, number)
        return [
            {"at": _aware(e.at).isoformat(), "actor": e.actor, "action": e.action, "from": e.from_status,
             "to": e.to_status, "note": e.note, "data": e.data}
            for e in s.scalars(select(CaseEvent).where(CaseEvent.case_id == c.id).order_by(CaseEvent.id))
        ]


def case_dict(c: Case, breaches: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": c.id, "number": c.number, "external_id": c.external_id, "kind": c.kind, "channel": c.channel,
        "category": c.category, "severity": c.severity, "status": c.status, "owner": c.owner,
        "first_owner": c.first_owner, "escalation": c.escalation, "escalated_unit_id": c.escalated_unit_id,
        "received_at": _aware(c.received_at).isoformat(), "policy": c.policy, "due": dict(c.due or {}),
        "breaches": breaches, "version": c.version,
    }


def _breaches(s: Any, ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    out: dict[int, list[dict[str, Any]]] = {}
    for b in s.scalars(select(Breach).where(Breach.case_id.in_(ids)).order_by(Breach.id)):
        out.setdefault(b.case_id, []).append(
            {"target": b.target, "due": _aware(b.due).isoformat(), "detected_at": _aware(b.detected_at).isoformat()}
        )
    return out


#: the fields of a case in ``manyi cases list --format json`` and ``GET /api/v1/cases``
LIST_FIELDS = ("id", "number", "external_id", "kind", "channel", "category", "severity", "status", "owner",
               "first_owner", "escalation", "received_at", "due", "breaches", "version")


def list_cases(limit: int = 100, offset: int = 0, url: str | None = None) -> list[dict[str, Any]]:
    """Cases, newest received first, with their due instants and breaches (``LIST_FIELDS``)."""
    with db.session(url) as s:
        rows = s.scalars(select(Case).order_by(Case.received_at.desc(), Case.id.desc()).limit(limit).offset(offset)).all()
        br = _breaches(s, [c.id for c in rows])
        return [{k: d[k] for k in LIST_FIELDS} for d in (case_dict(c, br.get(c.id, [])) for c in rows)]


# --- import ----------------------------------------------------------------------------------
@dataclass
class CaseImport:
    added: int
    already: int
    rejected: list[tuple[int, list[Message]]]


def import_cases(source: Source, url: str | None = None) -> CaseImport:
    """Cases from CSV/XLSX (external_id, kind, category, channel, received_at, customer,
    description; optional severity, unit, remedy_asked). Importing the same file again adds
    nothing (external ids); rows with a wrong value are listed and left out."""
    import pandas as pd

    from manyi.io.responses import read_table

    df = read_table(source.path if source.path is not None else source.data, name=source.name)
    need = ["external_id", "kind", "received_at"]
    missing = [c for c in need if c not in df.columns]
    if missing:
        raise ManyiError(Message("case.import_columns", {"file": source.label, "missing": ", ".join(missing),
                                                          "have": ", ".join(map(str, df.columns[:15]))}))
    pol = policies(url)
    rejected: list[tuple[int, list[Message]]] = []
    with db.session(url) as s:
        have = set(s.scalars(select(Case.external_id).where(Case.external_id.is_not(None))).all())
        units = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
        added = already = 0
        events = []
        for i, r in enumerate(df.to_dict("records"), start=2):  # row 1 holds the headers
            ext = _text(r.get("external_id"))
            if not ext:
                rejected.append((i, [Message("case.bad_field", {"where": Message("case.row", {"row": i}), "field": "external_id", "value": "", "choices": Message("choice.text")})]))
                continue
            if ext in have:
                already += 1
                continue
            ts = pd.to_datetime(_text(r.get("received_at")), errors="coerce", utc=False)
            received = None
            if ts is not None and not pd.isna(ts):
                received = local(ts.to_pydatetime())  # without an offset: the desk's local time
            data = {
                "external_id": ext, "kind": _text(r.get("kind")), "category": _text(r.get("category")),
                "channel": _text(r.get("channel")) or "import", "severity": _text(r.get("severity")) or None,
                "customer": _text(r.get("customer")), "description": _text(r.get("description")),
                "remedy_asked": _text(r.get("remedy_asked")), "received_at": received,
                "unit_id": units.get(_text(r.get("unit"))) if _text(r.get("unit")) else None,
            }
            bad = _check(data, Message("case.row", {"row": i}))
            if _text(r.get("unit")) and data["unit_id"] is None:
                bad.append(Message("case.bad_field", {"where": Message("case.row", {"row": i}), "field": "unit", "value": r.get("unit"), "choices": Message("choice.unit_code")}))
            if bad:
                rejected.append((i, bad))
                continue
            c = _new_case(s, data, None, pol)
            have.add(ext)
            events.append(c)
            added += 1
        _numbered(s)
        now = datetime.now(UTC)
        router = _Router(s)
        for c in events:
            s.add(CaseEvent(case_id=c.id, at=now, actor=None, action="open", from_status="new", to_status="new",
                            note=None, data={"channel": c.channel, "import": source.label}))
            _repeat_event(s, c, pol, router, quiet=True)  # history: routed, no notices
        from manyi.services.store import _audit

        _audit(s, "cases.import", source.label, {"added": added, "already": already, "rejected": len(rejected)})
    return CaseImport(added, already, rejected)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    try:
        import pandas as pd

        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    t = str(v).strip()
    return t or None


# --- the worker ------------------------------------------------------------------------------
def worker_pass(now: datetime | None = None, url: str | None = None) -> int:
    """One pass of the clock as of ``now``: every target breached by then is recorded once,
    with an escalation event; returns the number of breaches recorded by this pass. Cases are
    taken in batches, each in its own transaction, so a pass killed half-way leaves whole
    batches behind, and the next pass finds the rest."""
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    try:
        sweep_surveys(url)
    except IntegrityError:  # a twin worker opened them first
        pass
    pol = policies(url)
    recent = now - timedelta(days=30)
    with db.session(url) as s:
        ids = s.scalars(
            select(Case.id).where(or_(Case.status != "closed", Case.closed_at >= recent)).order_by(Case.id)
        ).all()
    found = 0
    for k in range(0, len(ids), BATCH):
        part = ids[k : k + BATCH]
        try:
            found += _pass_batch(part, now, pol, url)
        except (IntegrityError, StaleDataError):  # a twin worker got there first: one by one
            for cid in part:
                try:
                    found += _pass_batch([cid], now, pol, url)
                except (IntegrityError, StaleDataError):
                    continue
    if pol.notify:
        from manyi.services.notify import deliver

        deliver(pol.notify, now, url)
    return found


def sweep_surveys(url: str | None = None, limit: int = 5000) -> int:
    """Open a case for every new survey response the rule picks (``from_surveys``: a detractor,
    or not satisfied): channel ``survey``, the response's customer and unit, its open comments
    as the description. Reads the responses after a mark kept in the store; a response opens
    one case at most (its external id is ``survey:CAMPAIGN:RESPONSE``). Returns cases opened."""
    from manyi.services.dashboard import _parsed
    from manyi.services.rollup import nps_question
    from manyi.store.models import Campaign, InstrumentVersion, Response

    pol = policies(url)
    if (pol.from_surveys or {}).get("off"):
        return 0
    with db.session(url) as s:
        mark_row = s.get(Setting, "survey_cases_mark")
        mark = int(mark_row.value) if mark_row else 0
        rows = s.execute(
            select(Response.id, Response.campaign_id, Response.response_id, Response.customer_code, Response.unit_id,
                   Response.answers, Response.satisfied, Response.instrument_version_id, Response.source)
            .where(Response.id > mark).order_by(Response.id).limit(limit)
        ).all()
        if not rows:
            return 0
        versions = {iv.id: _parsed(iv.source) for iv in s.scalars(
            select(InstrumentVersion).where(InstrumentVersion.id.in_({r.instrument_version_id for r in rows})))}
        names = dict(s.execute(select(Campaign.id, Campaign.name)).all())
        have = set(s.scalars(select(Case.external_id).where(Case.external_id.like("survey:%"))).all())
        opened = 0
        for r in rows:
            if r.source == "import":  # history read from a file opens no cases
                continue
            inst = versions[r.instrument_version_id]
            nps_q = nps_question(inst)
            nps = (r.answers or {}).get(nps_q) if nps_q else None
            ext = f"survey:{names.get(r.campaign_id, r.campaign_id)}:{r.response_id}"
            if ext in have or not pol.opens_case(None if nps is None else float(nps), r.satisfied):
                continue
            texts = [str(r.answers.get(q.id)) for q in inst.questions if q.type == "text" and r.answers.get(q.id)]
            c = _new_case(s, {"external_id": ext, "kind": "complaint", "channel": "survey", "category": "service",
                              "customer": r.customer_code, "unit_id": r.unit_id, "received_at": datetime.now(UTC),
                              "description": " / ".join(texts) or None,
                              "remedy_asked": None}, None, pol)
            c.contact = {"survey": names.get(r.campaign_id), "response_id": r.response_id, "nps": nps}
            have.add(ext)
            opened += 1
        if mark_row is None:
            s.add(Setting(key="survey_cases_mark", value=str(rows[-1].id)))
        else:
            mark_row.value = str(rows[-1].id)
        _numbered(s)
        for c in s.scalars(select(Case).where(Case.channel == "survey", Case.id.not_in(
                select(CaseEvent.case_id).where(CaseEvent.action == "open")))):
            s.add(CaseEvent(case_id=c.id, at=datetime.now(UTC), actor=None, action="open", from_status="new",
                            to_status="new", note=None, data={"channel": "survey"}))
    return opened


def _pass_batch(ids: list[int], now: datetime, pol: Policies, url: str | None) -> int:
    found = 0
    router: _Router | None = None
    with db.session(url) as s:
        have = {(b.case_id, b.target) for b in s.scalars(select(Breach).where(Breach.case_id.in_(ids)))}
        for c in s.scalars(select(Case).where(Case.id.in_(ids))):
            p = pol.for_case(_fields(c))
            if p is None:
                continue
            st = _state(c)
            for target, due in clock(p, _aware(c.received_at), st).breached(now).items():
                if (c.id, target) in have:
                    continue
                s.add(Breach(case_id=c.id, target=target, due=_utc(due), detected_at=_utc(now)))
                st, ev = escalate(st, now, f"sla:{target}")
                c.escalation = st.escalation
                if router is None:
                    router = _Router(s)
                to = router.route(c, f"sla:{target}", now, pol)
                if pol.notify:  # the notice is written with the breach (an outbox)
                    from manyi.services.notify import queue

                    queue(s, pol.notify, "breach", {
                        "case": c.number, "kind": c.kind, "target": target, "due": _utc(due).isoformat(),
                        "detected_at": _utc(now).isoformat(), "escalation": c.escalation, "owner": c.owner,
                        "unit_id": c.unit_id, "escalated_to": to}, c.id, _utc(now))
                s.add(CaseEvent(case_id=c.id, at=_utc(now), actor=None, action=ev.action, from_status=ev.from_status,
                                to_status=ev.to_status, note=ev.note, data={**(ev.data or {}), **to}))
                found += 1
        s.flush()
    return found


def count_breaches(url: str | None = None) -> int:
    with db.session(url) as s:
        return s.scalar(select(func.count()).select_from(Breach)) or 0


# --- pages: the public form, the agent queue -------------------------------------------------
MAX_DESCRIPTION = 4000


def submit_public(form: dict[str, str], lang: str = "zh", url: str | None = None,
                  files: list[tuple[str, bytes]] | None = None) -> tuple[dict[str, Any] | None, dict[str, Message]]:
    """A complaint (or other contact) from the public form: (the case with its status token,
    or None) and the messages per field when something is missing or wrong. ``files``: the
    attachments sent with it (checked before anything is stored)."""
    import secrets

    errors: dict[str, Message] = {}
    kind = (form.get("kind") or "complaint").strip()
    if kind not in KINDS:
        errors["kind"] = Message("web.required")
    desc = (form.get("description") or "").strip()
    if not desc:
        errors["description"] = Message("web.required")
    elif len(desc) > MAX_DESCRIPTION:
        errors["description"] = Message("web.too_long", {"max": MAX_DESCRIPTION})
    cat = (form.get("category") or "").strip() or None
    if cat and cat not in KNOWN_CATEGORIES:
        errors["category"] = Message("web.unknown_field")
    phone, email, name = ((form.get(k) or "").strip()[:200] for k in ("phone", "email", "name"))
    if not phone and not email:
        errors["phone"] = Message("case.contact_needed")
    files = [(_clean_name(n), d) for n, d in files or [] if d or n]
    for file_name, blob in files[:MAX_ATTACHMENTS]:
        bad = check_attachment(file_name, blob)
        if bad is not None:
            errors["attachment"] = bad
    if len(files) > MAX_ATTACHMENTS:
        errors["attachment"] = Message("case.attach_count", {"number": "", "max": MAX_ATTACHMENTS})
    if errors:
        return None, errors
    token = secrets.token_urlsafe(12)
    data = {"kind": kind, "channel": "web", "category": cat, "description": desc,
            "remedy_asked": (form.get("remedy_asked") or "").strip()[:1000] or None,
            "contact": {"name": name or None, "phone": phone or None, "email": email or None, "lang": lang},
            "received_at": datetime.now(UTC)}
    c = open_case(data, None, url)
    with db.session(url) as s:
        row = s.get(Case, c["id"])
        row.public_token = token
    for file_name, blob in files:
        add_attachment(c["number"], file_name, blob, None, url)
    c["public_token"] = token
    return c, {}


def public_status(token: str, url: str | None = None) -> dict[str, Any] | None:
    """What the customer may see of their case: number, kind, status, received, due to resolve."""
    if not token:
        return None
    with db.session(url) as s:
        c = s.scalar(select(Case).where(Case.public_token == token))
        if c is None:
            return None
        found = {"number": c.number, "kind": c.kind, "status": c.status, "received_at": _aware(c.received_at),
                 "resolve_due": (c.due or {}).get("resolve")}
        match = {"kind": c.kind, "category": c.category, "severity": c.severity, "channel": c.channel}
    # the time it was received on the clock of its service level (the due time's clock), not UTC
    pol = policies(url).for_case(match)
    zone = pol.calendar.zone if pol is not None else ZoneInfo(LOCAL_TZ)
    found["received_at"] = found["received_at"].astimezone(zone)
    return found


def queue(staff: Any, mine: bool = False, url: str | None = None, now: datetime | None = None,
          escalated: bool = False) -> list[dict[str, Any]]:
    """Open cases of the account's units (or its own; or those escalated), the nearest due
    target first, each with its state: ``breach`` (a target past due), ``warn`` (past the
    warning share), ``ok``, and the unit it is escalated to."""
    now = now or datetime.now(UTC)
    pol = policies(url)
    with db.session(url) as s:
        q = select(Case).where(Case.status != "closed")
        if staff.scope is not None:
            q = q.where(Case.unit_id.in_(sorted(staff.scope) or [-1]))
        if mine:
            q = q.where(or_(Case.owner == staff.username, Case.first_owner == staff.username))
        if escalated:
            q = q.where(Case.escalation > 0)
        rows = s.scalars(q.limit(2000)).all()
        codes = dict(s.execute(select(OrgUnit.id, OrgUnit.code)).all())
        out = []
        for c in rows:
            p = pol.for_case(_fields(c))
            ck = clock(p, _aware(c.received_at), _state(c)) if p else None
            pending = {t: d for t, d in (ck.due.items() if ck else []) if ck.met.get(t) is None}
            nxt = min(pending.items(), key=lambda kv: kv[1]) if pending else None
            level = "ok"
            if ck and ck.breached(now):
                level = "breach"
            elif nxt and now >= ck.warn[nxt[0]]:
                level = "warn"
            out.append({**case_dict(c, []), "next_target": nxt[0] if nxt else None,
                        "next_due": nxt[1] if nxt else None, "level": level,
                        "next_due_text": p.calendar.local(nxt[1]).strftime("%m-%d %H:%M") if (p and nxt) else "",
                        "left_seconds": p.calendar.between(now, nxt[1]) if (p and nxt) else None,
                        "escalated_to": codes.get(c.escalated_unit_id, ""), "description": c.description})
        out.sort(key=lambda r: (r["next_due"] is None, r["next_due"] or now))
        return out


def case_page(number: str, staff: Any, url: str | None = None) -> dict[str, Any]:
    """One case with its timeline and breaches, for an account allowed to see its unit
    (PermissionError otherwise); the customer's contact masked unless the role may see it."""
    from manyi.core.access import mask

    with db.session(url) as s:
        c = _find(s, number)
        if staff.scope is not None and c.unit_id not in staff.scope:
            raise PermissionError("unit")
        d = case_dict(c, _breaches(s, [c.id]).get(c.id, []))
        contact = dict(c.contact or {})
        if not staff.can("personal_data"):
            contact = {k: mask(v, "phone" if k == "phone" else ("email" if k == "email" else "name"))
                       if isinstance(v, str) and k != "lang" else v for k, v in contact.items()}
        d.update(description=c.description, remedy_asked=c.remedy_asked, remedy=c.remedy, root_cause=c.root_cause,
                 customer=c.customer_code, contact=contact, allowed=_allowed(c.status),
                 escalated_to=s.scalar(select(OrgUnit.code).where(OrgUnit.id == c.escalated_unit_id))
                 if c.escalated_unit_id else None,
                 attachments=attachments(s, c.id))
    d["timeline"] = timeline(number, url)
    pol = policies(url).for_case(d)
    cal = pol.calendar if pol else None
    for e in d["timeline"]:  # shown in the desk's own time zone
        t = datetime.fromisoformat(e["at"])
        e["local"] = (cal.local(t) if cal else t).strftime("%Y-%m-%d %H:%M")
    return d


def _allowed(status: str) -> list[str]:
    from manyi.core.cases import allowed

    return allowed(status)


def lookup_customers(q: str, url: str | None = None, limit: int = 10) -> list[dict[str, Any]]:
    """Customers whose name, code or phone contains ``q`` (the hotline's first question)."""
    from sqlalchemy import String, cast

    from manyi.store.models import Customer

    q = (q or "").strip()
    if len(q) < 2:
        return []
    term = f"%{q.replace('%', '').replace('_', '')}%"
    with db.session(url) as s:
        rows = s.scalars(
            select(Customer).where(or_(Customer.name.ilike(term), Customer.code.ilike(term),
                                       cast(Customer.contact, String).ilike(term))).limit(limit)
        ).all()
        return [{"code": r.code, "name": r.name, "tier": r.tier, "phone": (r.contact or {}).get("phone")} for r in rows]


# --- desk KPIs -------------------------------------------------------------------------------
KPI_BY = ("unit", "category", "channel", "kind", "month")


def kpis(by: list[str] | None = None, since: datetime | None = None, until: datetime | None = None,
         url: str | None = None, now: datetime | None = None) -> Any:
    """The desk's figures per group (``by``: unit, category, channel, kind, month) as a
    :class:`~manyi.core.result.Result` of kind ``desk``: volume, complaints, complaints per
    1,000 customers of the unit, time to acknowledge and to resolve in business hours (median
    and 90th percentile, on each case's policy calendar), SLA compliance (cases without a
    breach among those with a target due), reopen rate, call-back satisfaction, the recovery
    rate (of the distinct complainants whose complaint was resolved and who were customers
    when they complained, the share not lost since: no ``left_at`` in the customer list,
    ``manyi customers import``; customers unknown to the store are not counted); the Pareto of
    complaint categories and of root causes; and the p-chart of the monthly complaint share of
    all contacts with its rule signals (the landed SPC code)."""
    import numpy as np
    import pandas as pd

    from manyi.core.result import Result
    from manyi.core.spc import p_chart, rule_signals
    from manyi.store.models import Customer

    by = list(by or [])
    bad = [b for b in by if b not in KPI_BY]
    if bad:
        raise ManyiError(Message("an.bad_option", {"option": "--by", "value": ", ".join(bad), "choices": ", ".join(KPI_BY)}))
    now = now or datetime.now(UTC)
    pol = policies(url)
    with db.session(url) as s:
        q = select(Case)
        if since:  # a time without an offset is Beijing time, as in a cases file
            q = q.where(Case.received_at >= _utc(local(since)))
        if until:
            q = q.where(Case.received_at < _utc(local(until)))
        rows = s.scalars(q).all()
        br = {}
        for b in s.scalars(select(Breach)):
            br.setdefault(b.case_id, set()).add(b.target)
        reopened = set(s.scalars(select(CaseEvent.case_id).where(
            or_(CaseEvent.action == "reopen", (CaseEvent.action == "call_back") & (CaseEvent.to_status == "reopened")))).all())
        ever_resolved = set(s.scalars(select(CaseEvent.case_id).where(CaseEvent.action == "resolve")).all())
        units = {u.id: u.code for u in s.scalars(select(OrgUnit))}
        customers = dict(s.execute(select(Customer.unit_id, func.count(Customer.id)).group_by(Customer.unit_id)).all())
        known = {code: _aware(left) for code, left in s.execute(select(Customer.code, Customer.left_at).where(
            Customer.code.in_(select(Case.customer_code).where(Case.kind == "complaint").distinct())))}
        recs = []
        for c in rows:
            p = pol.for_case(_fields(c))
            cal = p.calendar if p else None
            rec_at = _aware(c.received_at)
            ack = _aware(c.acknowledged_at)
            res = _aware(c.resolved_at) or (_aware(c.closed_at) if c.status == "closed" else None)
            due = {t: datetime.fromisoformat(d) for t, d in (c.due or {}).items()}
            left = known.get(c.customer_code, now)  # now: not a known customer
            settled = c.id in ever_resolved or c.status == "closed"
            recs.append({
                "unit": units.get(c.unit_id, "") if c.unit_id else "",
                "unit_id": c.unit_id,
                "category": c.category or "", "channel": c.channel, "kind": c.kind,
                "month": (cal.local(rec_at) if cal else rec_at).strftime("%Y-%m"),
                "complaint": c.kind == "complaint",
                "ack_h": cal.between(rec_at, ack) / 3600 if (cal and ack) else np.nan,
                "resolve_h": cal.between(rec_at, res) / 3600 if (cal and res) else np.nan,
                "targets_due": any(d <= now for d in due.values()) or bool(br.get(c.id)),
                "breached": bool(br.get(c.id)),
                "resolved": c.id in ever_resolved,
                "reopened": c.id in reopened,
                "called_back": c.called_back_at is not None,
                "satisfied": c.satisfied == 1,
                "cause": c.root_cause or "",
                # a complainant still a customer when the complaint came, and whether they stayed
                "complainant": c.customer_code if (c.kind == "complaint" and settled and c.customer_code in known
                                                   and (left is None or left >= rec_at)) else None,
                "lost": left is not None and c.customer_code in known,
            })
    df = pd.DataFrame(recs, columns=["unit", "unit_id", "category", "channel", "kind", "month", "complaint", "ack_h",
                                     "resolve_h", "targets_due", "breached", "resolved", "reopened", "called_back",
                                     "satisfied", "cause", "complainant", "lost"])

    def figures(g: pd.DataFrame) -> dict[str, Any]:
        due = g[g["targets_due"]]
        res = g[g["resolved"]]  # ever resolved: the base of the reopen rate
        cb = g[g["called_back"]]
        base = g["complainant"].dropna().unique()  # distinct complainants with a settled complaint
        lost = g.loc[g["complainant"].notna() & g["lost"], "complainant"].unique()
        unit_ids = {u for u in g["unit_id"].dropna()}
        n_cust = sum(customers.get(u, 0) for u in unit_ids) if unit_ids else sum(customers.values())
        q = lambda col, p: float(np.nanpercentile(g[col], p)) if g[col].notna().any() else None  # noqa: E731
        return {
            "cases": len(g), "complaints": int(g["complaint"].sum()),
            "complaints_per_1000_customers": (1000 * g["complaint"].sum() / n_cust) if n_cust else None,
            "ack_median_h": q("ack_h", 50), "ack_p90_h": q("ack_h", 90),
            "resolve_median_h": q("resolve_h", 50), "resolve_p90_h": q("resolve_h", 90),
            "sla_compliance": (1 - due["breached"].mean()) if len(due) else None,
            "reopen_rate": res["reopened"].mean() if len(res) else None,
            "callback_satisfaction": cb["satisfied"].mean() if len(cb) else None,
            "complainants": int(base.size),
            "recovery_rate": (1 - lost.size / base.size) if base.size else None,
        }

    if by and len(df):
        table = pd.DataFrame([{**dict(zip(by, k if isinstance(k, tuple) else (k,), strict=True)), **figures(g)}
                              for k, g in df.groupby(by, sort=True)])
    else:
        table = pd.DataFrame([figures(df)])
    tables = {"kpis": table}
    for name, col in (("pareto_categories", "category"), ("pareto_causes", "cause")):
        comp = df[df["complaint"] & (df[col] != "")]
        counts = comp[col].value_counts()
        tables[name] = pd.DataFrame({col: counts.index, "n": counts.to_numpy(),
                                     "share": counts.to_numpy() / max(1, counts.sum()),
                                     "cumulative": np.cumsum(counts.to_numpy()) / max(1, counts.sum())})
    months = sorted(df["month"].unique()) if len(df) else []
    if months:
        m = df.groupby("month")
        p = p_chart(months, m["complaint"].sum().reindex(months).to_numpy(), m.size().reindex(months).to_numpy())
        sig = rule_signals(p["p"].to_numpy(), p["cl"].to_numpy(), p["sigma"].to_numpy())
        p["signal"] = [",".join(str(r) for i2, r in sig if i2 == i) for i in range(len(p))]
        tables["complaint_rate"] = p.rename(columns={"dissatisfied": "complaints"})
    return Result("desk", len(df), tables, params={"by": by, "since": since, "until": until})


# --- attachments -----------------------------------------------------------------------------
MAX_ATTACHMENT = 5 * 1024 * 1024  # bytes per file
MAX_ATTACHMENTS = 10  # files per case
#: what a case may carry, told by the file's first bytes (never by its name or the browser's word)
ATTACHMENT_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain")


def sniff(data: bytes) -> str | None:
    """The type of a file from its content: JPEG, PNG, GIF, WebP, PDF, or UTF-8 text (no NUL,
    no markup that a browser would run); None for anything else."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    head = text[:1024].lstrip().lower()
    if "\x00" in text or head.startswith(("<!doctype", "<html", "<script", "<svg", "<?xml")):
        return None
    return "text/plain"


def _clean_name(name: str) -> str:
    import unicodedata

    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C" and ch not in '"<>:|?*').strip(". ")
    return (base or "attachment")[:200]


def check_attachment(name: str, data: bytes) -> Message | None:
    """What is wrong with a file as an attachment (empty, too large, a type not allowed), or None."""
    if not data:
        return Message("case.attach_empty", {"file": name})
    if len(data) > MAX_ATTACHMENT:
        return Message("case.attach_too_large", {"file": name, "size": len(data), "max": MAX_ATTACHMENT})
    if sniff(data) is None:
        return Message("case.attach_type", {"file": name, "choices": "JPEG, PNG, GIF, WebP, PDF, text"})
    return None


def add_attachment(number: str, filename: str, data: bytes, actor: str | None, url: str | None = None,
                   staff: Any = None) -> dict[str, Any]:
    """Attach a file to a case (its timeline records it): at most ``MAX_ATTACHMENT`` bytes, one
    of ``ATTACHMENT_TYPES`` by content, ``MAX_ATTACHMENTS`` per case; anything else is refused
    with a message naming the limit."""
    import hashlib

    from manyi.store.models import Attachment

    name = _clean_name(filename)
    bad = check_attachment(name, data)
    if bad is not None:
        raise ManyiError(bad)
    kind = sniff(data)
    with db.session(url) as s:
        c = _find(s, number)
        if staff is not None and staff.scope is not None and c.unit_id not in staff.scope:
            raise PermissionError("unit")
        have = s.scalar(select(func.count(Attachment.id)).where(Attachment.case_id == c.id)) or 0
        if have >= MAX_ATTACHMENTS:
            raise ManyiError(Message("case.attach_count", {"number": c.number, "max": MAX_ATTACHMENTS}))
        a = Attachment(case_id=c.id, filename=name, content_type=kind, size=len(data),
                       sha256=hashlib.sha256(data).hexdigest(), data=data, uploaded_by=actor, at=datetime.now(UTC))
        s.add(a)
        s.flush()
        s.add(CaseEvent(case_id=c.id, at=datetime.now(UTC), actor=actor, action="attach", from_status=c.status,
                        to_status=c.status, note=name, data={"attachment": a.id, "size": len(data), "type": kind}))
        return {"id": a.id, "filename": name, "content_type": kind, "size": len(data), "sha256": a.sha256}


def attachments(s: Any, case_id: int) -> list[dict[str, Any]]:
    from manyi.store.models import Attachment

    return [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size,
             "uploaded_by": a.uploaded_by, "at": _aware(a.at).isoformat()}
            for a in s.scalars(select(Attachment).where(Attachment.case_id == case_id).order_by(Attachment.id))]


def attachment(number: str, attachment_id: int, staff: Any, url: str | None = None) -> tuple[str, str, bytes]:
    """(file name, type, bytes) of one attachment of a case the account may see."""
    from manyi.store.models import Attachment

    with db.session(url) as s:
        c = _find(s, number)
        if staff is not None and staff.scope is not None and c.unit_id not in staff.scope:
            raise PermissionError("unit")
        a = s.scalar(select(Attachment).where(Attachment.id == attachment_id, Attachment.case_id == c.id))
        if a is None:
            raise ManyiError(Message("case.unknown", {"number": f"{number}/{attachment_id}"}))
        return a.filename, a.content_type, bytes(a.data)


# --- the case API ----------------------------------------------------------------------------
API_FIELDS = ("external_id", "kind", "channel", "category", "severity", "customer", "unit", "description",
              "remedy_asked", "received_at", "contact")


def api_open(body: dict[str, Any], idempotency_key: str | None = None,
             url: str | None = None) -> tuple[int, dict[str, Any] | list[Message]]:
    """Open a case from an integration (``POST /api/v1/cases``): (201, the case) or, when the
    same ``external_id`` (or ``Idempotency-Key``) was sent before, (200, that case): a retry
    never opens a second one; (422, the messages) for wrong fields."""
    bad: list[Message] = []
    unknown = sorted(set(body) - set(API_FIELDS))
    if unknown:
        bad.append(Message("case.bad_field", {"where": "body", "field": unknown[0], "value": "",
                                               "choices": ", ".join(API_FIELDS)}))
    text = {k: (str(body[k]).strip() if body.get(k) is not None else None) for k in API_FIELDS if k != "contact"}
    ext = text["external_id"] or (f"api:{idempotency_key.strip()[:190]}" if idempotency_key else None)
    if ext:
        with db.session(url) as s:
            c = s.scalar(select(Case).where(Case.external_id == ext))
            if c is not None:
                return 200, case_dict(c, _breaches(s, [c.id]).get(c.id, []))
    received: Any = datetime.now(UTC)
    if text["received_at"]:
        try:
            received = datetime.fromisoformat(text["received_at"].replace("Z", "+00:00"))
            if received.tzinfo is None:
                bad.append(Message("case.bad_field", {"where": "body", "field": "received_at",
                                                       "value": text["received_at"], "choices": Message("choice.iso_offset")}))
        except ValueError:
            received = text["received_at"]
    contact = body.get("contact")
    if contact is not None and (not isinstance(contact, dict) or not all(
            isinstance(v, str | None) for v in contact.values())):
        bad.append(Message("case.bad_field", {"where": "body", "field": "contact", "value": str(contact)[:50],
                                               "choices": Message("choice.contact")}))
    desc = text["description"] or ""
    if not desc:
        bad.append(Message("case.bad_field", {"where": "body", "field": "description", "value": "", "choices": Message("choice.text")}))
    elif len(desc) > MAX_DESCRIPTION:
        bad.append(Message("web.too_long", {"max": MAX_DESCRIPTION}))
    unit_id = None
    if text["unit"]:
        with db.session(url) as s:
            unit_id = s.scalar(select(OrgUnit.id).where(OrgUnit.code == text["unit"]))
        if unit_id is None:
            bad.append(Message("case.bad_field", {"where": "body", "field": "unit", "value": text["unit"],
                                                   "choices": Message("choice.unit_code")}))
    data = {"external_id": ext, "kind": text["kind"] or "complaint", "channel": text["channel"] or "api",
            "category": text["category"], "severity": text["severity"], "customer": text["customer"],
            "unit_id": unit_id, "description": desc, "remedy_asked": text["remedy_asked"],
            "contact": {k: v for k, v in contact.items() if v} if isinstance(contact, dict) else None,
            "received_at": received}
    bad += _check(data, "body")
    if bad:
        return 422, bad
    try:
        return 201, open_case(data, None, url)
    except IntegrityError:  # the same external id, sent twice at once: the first one stands
        with db.session(url) as s:
            c = s.scalar(select(Case).where(Case.external_id == ext))
            return 200, case_dict(c, _breaches(s, [c.id]).get(c.id, []))


def api_case(number: str, url: str | None = None) -> dict[str, Any] | None:
    """One case as the API shows it (with its due instants and breaches), or None."""
    with db.session(url) as s:
        try:
            c = _find(s, number)
        except ManyiError:
            return None
        d = case_dict(c, _breaches(s, [c.id]).get(c.id, []))
        d["timeline"] = [{"at": _aware(e.at).isoformat(), "actor": e.actor, "action": e.action, "from": e.from_status,
                          "to": e.to_status} for e in s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == c.id).order_by(CaseEvent.id))]
        return d
