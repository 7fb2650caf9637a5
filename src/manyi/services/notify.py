"""Use case: notices about cases by e-mail and signed webhooks, never lost (an outbox).

A notice is written to the ``notification`` table in the same transaction as what it reports
(a breach found by the worker), so it exists exactly when the breach does. The worker then
delivers pending notices: a webhook is an HTTP POST of JSON with the headers
``X-Manyi-Event``, ``X-Manyi-Delivery`` (the notice's id: a receiver drops a repeat by it) and
``X-Manyi-Signature: sha256=<hex HMAC-SHA256 of the body with the webhook's secret>`` (the
GitHub convention); an e-mail goes through the configured SMTP server. A failure is kept with
its error and retried after 1, 2, 4, ... minutes (at most an hour apart) up to ``MAX_ATTEMPTS``
times, then marked failed — still listed by ``manyi notifications``. Delivery is at least
once: a worker killed between sending and recording sends that notice again.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from manyi.store import db
from manyi.store.models import Notification

MAX_ATTEMPTS = 10


def queue(s: Any, notify: dict[str, Any], event: str, payload: dict[str, Any], case_id: int | None,
          now: datetime, emails: list[str] | None = None) -> int:
    """Add one notice per configured channel that subscribes to ``event`` (in session ``s``);
    ``emails``: people this notice is for whatever the subscriptions (the managers a case is
    escalated to), by e-mail when an SMTP server is configured."""
    n = 0
    for h in notify.get("webhooks", []):
        if event in h["events"]:
            s.add(Notification(case_id=case_id, event=event, channel="webhook", target=h["url"], payload=payload,
                               status="pending", attempts=0, next_at=now))
            n += 1
    e = notify.get("email")
    if e:
        targets = list(e["to"]) if event in e["events"] else []
        targets += [a for a in emails or [] if a not in targets]
        for to in targets:
            s.add(Notification(case_id=case_id, event=event, channel="email", target=to, payload=payload,
                               status="pending", attempts=0, next_at=now))
            n += 1
    return n


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def _webhook(n: Notification, notify: dict[str, Any]) -> None:
    import urllib.request

    hook = next((h for h in notify.get("webhooks", []) if h["url"] == n.target), None)
    if hook is None:
        raise RuntimeError("webhook no longer configured")
    secret = os.environ.get(hook["secret_env"])
    if not secret:
        raise RuntimeError(f"no secret in ${hook['secret_env']}")
    body = json.dumps({"id": n.id, "event": n.event, **n.payload}, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(n.target, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "X-Manyi-Event": n.event,
        "X-Manyi-Delivery": str(n.id), "X-Manyi-Signature": sign(secret, body), "User-Agent": "manyi"})
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - a configured URL
        if not 200 <= resp.status < 300:
            raise RuntimeError(f"HTTP {resp.status}")


def _email(n: Notification, notify: dict[str, Any]) -> None:
    import smtplib
    from email.message import EmailMessage

    e = notify.get("email")
    if not e:
        raise RuntimeError("e-mail no longer configured")
    msg = EmailMessage()
    p = n.payload
    msg["Subject"] = f"[manyi] {n.event}: {p.get('case', '')} {p.get('target', '')}".strip()
    msg["From"], msg["To"] = e["from"], n.target
    msg["X-Manyi-Delivery"] = str(n.id)
    msg.set_content(json.dumps(p, ensure_ascii=False, indent=1))
    with smtplib.SMTP(e["host"], e["port"], timeout=10) as smtp:
        if e.get("starttls"):
            smtp.starttls()
        if e.get("user"):
            smtp.login(e["user"], os.environ.get(e.get("password_env") or "", ""))
        smtp.send_message(msg)


def deliver(notify: dict[str, Any], now: datetime | None = None, url: str | None = None, limit: int = 200) -> tuple[int, int]:
    """Send the notices due by ``now``; returns (sent, failed attempts)."""
    now = now or datetime.now(UTC)
    with db.session(url) as s:
        due = s.scalars(select(Notification).where(Notification.status == "pending", Notification.next_at <= now)
                        .order_by(Notification.id).limit(limit)).all()
        s.expunge_all()
    sent = failed = 0
    for n in due:
        error = None
        try:
            (_webhook if n.channel == "webhook" else _email)(n, notify)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            error = f"{type(exc).__name__}: {exc}"[:500]
        with db.session(url) as s:
            row = s.get(Notification, n.id)
            row.attempts += 1
            if error is None:
                row.status, row.sent_at, row.last_error = "sent", datetime.now(UTC), None
                sent += 1
            else:
                failed += 1
                row.last_error = error
                if row.attempts >= MAX_ATTEMPTS:
                    row.status = "failed"
                else:
                    row.next_at = now + timedelta(seconds=min(60 * 2 ** (row.attempts - 1), 3600))
    return sent, failed


def listing(url: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    with db.session(url) as s:
        return [
            {"id": n.id, "case_id": n.case_id, "event": n.event, "channel": n.channel, "target": n.target,
             "status": n.status, "attempts": n.attempts, "last_error": n.last_error,
             "sent_at": db.instant(n.sent_at).isoformat() if n.sent_at else None}
            for n in s.scalars(select(Notification).order_by(Notification.id.desc()).limit(limit))
        ]
