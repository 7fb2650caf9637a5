"""Use cases: staff accounts, logins with lock-out, the audit log, the session key.

Passwords are kept as Argon2id hashes (argon2-cffi, RFC 9106 parameters); after
``MAX_FAILED`` failed logins in a row an account is locked for ``LOCK_MINUTES``. Every login,
failed login, lock, account change and export is written to the append-only audit log.
"""

from __future__ import annotations

import csv
import io
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from manyi.core.access import ROLES, can, subtree
from manyi.core.messages import ManyiError, Message
from manyi.store import db
from manyi.store.models import AuditEvent, OrgUnit, Setting, User

MAX_FAILED = 5
LOCK_MINUTES = 15
MIN_PASSWORD = 10


@dataclass(frozen=True)
class Staff:
    """A logged-in account: its role and the units it may see (None: all)."""

    id: int
    username: str
    role: str
    unit: str | None  # the unit's code
    scope: frozenset[int] | None
    lang: str

    def can(self, action: str) -> bool:
        return can(self.role, action)


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()


def _unit_id(s: Any, code: str | None) -> int | None:
    if not code:
        return None
    uid = s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))
    if uid is None:
        have = ", ".join(s.scalars(select(OrgUnit.code).limit(10)).all())
        raise ManyiError(Message("staff.no_unit", {"unit": code, "have": have or "–"}))
    return uid


def create_user(
    username: str,
    password: str,
    role: str,
    unit: str | None = None,
    lang: str = "zh",
    by: str | None = None,
    url: str | None = None,
    email: str | None = None,
    manager: bool = False,
) -> None:
    """A new account; the unit is an organisation unit's code (none: the whole organisation).
    A ``manager`` receives the cases escalated to the unit (a team lead, a branch manager), by
    e-mail at ``email`` when the desk's SMTP notices are set up."""
    username = username.strip()
    email = (email or "").strip() or None
    if email is not None and (len(email) > 200 or "@" not in email.strip("@") or any(c.isspace() for c in email)):
        raise ManyiError(Message("staff.bad_email", {"email": email}))
    if role not in ROLES:
        raise ManyiError(Message("staff.bad_role", {"role": role, "roles": ", ".join(ROLES)}))
    if not username or len(username) > 100:
        raise ManyiError(Message("staff.bad_username"))
    if len(password) < MIN_PASSWORD:
        raise ManyiError(Message("staff.short_password", {"min": MIN_PASSWORD}))
    with db.session(url) as s:
        if s.scalar(select(User.id).where(User.username == username)) is not None:
            raise ManyiError(Message("staff.user_exists", {"user": username}))
        uid = _unit_id(s, unit)
        s.add(
            User(
                username=username,
                password_hash=_hasher().hash(password),
                role=role,
                unit_id=uid,
                lang=lang if lang in ("zh", "en") else "zh",
                active=1,
                failed_logins=0,
                email=email,
                manager=1 if manager else 0,
            )
        )
        s.add(
            AuditEvent(
                username=by, action="user.create", target=username,
                detail={"role": role, "unit": unit, "manager": bool(manager)}
            )
        )


def list_users(url: str | None = None) -> list[dict[str, Any]]:
    with db.session(url) as s:
        rows = s.execute(
            select(User, OrgUnit.code).outerjoin(OrgUnit, OrgUnit.id == User.unit_id).order_by(User.username)
        ).all()
        return [
            {
                "username": u.username,
                "role": u.role,
                "unit": code,
                "manager": bool(u.manager),
                "email": u.email,
                "active": bool(u.active),
                "locked": bool(u.locked_until and _aware(u.locked_until) > datetime.now(UTC)),
            }
            for u, code in rows
        ]


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _parents(s: Any) -> dict[int, int | None]:
    return dict(s.execute(select(OrgUnit.id, OrgUnit.parent_id)).all())


def staff_of(s: Any, u: User) -> Staff:
    code = s.scalar(select(OrgUnit.code).where(OrgUnit.id == u.unit_id)) if u.unit_id else None
    return Staff(u.id, u.username, u.role, code, subtree(u.unit_id, _parents(s)), u.lang)


def authenticate(username: str, password: str, ip: str | None = None, url: str | None = None) -> Staff | None:
    """The account when the password is right and it is not locked, else None (the audit log
    says why). ``MAX_FAILED`` failures in a row lock it for ``LOCK_MINUTES``."""
    from argon2.exceptions import InvalidHashError, VerificationError

    now = datetime.now(UTC)
    with db.session(url) as s:
        u = s.scalar(select(User).where(User.username == username.strip()))
        if u is None or not u.active:
            _hasher().hash(password)  # the same work as for a real account: no timing hint
            s.add(AuditEvent(username=username[:100], action="login.failed", ip=ip, detail={"why": "unknown"}))
            return None
        if u.locked_until and _aware(u.locked_until) > now:
            s.add(AuditEvent(username=u.username, action="login.locked", ip=ip))
            return None
        try:
            _hasher().verify(u.password_hash, password)
        except (VerificationError, InvalidHashError):
            u.failed_logins = (u.failed_logins or 0) + 1
            detail = {"failed": u.failed_logins}
            if u.failed_logins >= MAX_FAILED:
                u.locked_until = now + timedelta(minutes=LOCK_MINUTES)
                u.failed_logins = 0
                detail["locked_minutes"] = LOCK_MINUTES
            s.add(AuditEvent(username=u.username, action="login.failed", ip=ip, detail=detail))
            return None
        u.failed_logins = 0
        u.locked_until = None
        s.add(AuditEvent(username=u.username, action="login", ip=ip))
        return staff_of(s, u)


def staff_by_id(uid: int, url: str | None = None) -> Staff | None:
    """The account of a session (None when it is gone or switched off)."""
    with db.session(url) as s:
        u = s.get(User, uid)
        return None if u is None or not u.active else staff_of(s, u)


def audit(
    username: str | None,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    ip: str | None = None,
    url: str | None = None,
) -> None:
    """Append one event to the audit log (nothing ever changes or deletes one)."""
    with db.session(url) as s:
        s.add(AuditEvent(username=username, action=action, target=target, detail=detail, ip=ip))


def audit_events(limit: int = 200, offset: int = 0, url: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The newest events first, and how many there are."""
    with db.session(url) as s:
        total = s.scalar(select(func.count()).select_from(AuditEvent)) or 0
        rows = s.scalars(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit).offset(offset)).all()
        return total, [
            {
                "at": _aware(e.at).isoformat(timespec="seconds"),
                "user": e.username,
                "action": e.action,
                "target": e.target,
                "detail": e.detail,
                "ip": e.ip,
            }
            for e in rows
        ]


def audit_csv(url: str | None = None) -> str:
    """The whole audit log as CSV (oldest first)."""
    import json

    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["at", "user", "action", "target", "detail", "ip"])
    with db.session(url) as s:
        for e in s.scalars(select(AuditEvent).order_by(AuditEvent.id)):
            w.writerow(
                [
                    _aware(e.at).isoformat(timespec="seconds"),
                    e.username or "",
                    e.action,
                    e.target or "",
                    json.dumps(e.detail, ensure_ascii=False) if e.detail else "",
                    e.ip or "",
                ]
            )
    return buf.getvalue()


def session_key(url: str | None = None) -> str:
    """The key that signs session cookies: ``MANYI_SECRET_KEY``, else one made on first use and
    kept in the store (so every worker and every restart signs with the same key)."""
    env = os.environ.get("MANYI_SECRET_KEY")
    if env:
        return env
    with db.session(url) as s:
        row = s.get(Setting, "session_key")
        if row is None:
            row = Setting(key="session_key", value=secrets.token_urlsafe(48))
            s.add(row)
        return row.value
