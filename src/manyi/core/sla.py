"""Service levels of cases: which policy applies, when each target falls due, what is breached.

A policy matches cases by kind, category, severity and channel (the first policy that matches
applies) and sets targets as durations on a business calendar (:mod:`manyi.core.calendar`):
``acknowledge`` and ``first_contact`` count from receipt, ``resolve`` from receipt plus the
working time the case waited on the customer, ``call_back`` from resolution. A target is met
by the acknowledgement (acknowledge, first contact), the resolution (resolve) and the
call-back (call back); it is breached when it is met after its due instant, or not met when
the due instant has passed. ``warn_at`` (e.g. 0.8) marks a target as close to breach once that
share of its working time has gone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from manyi.core.calendar import Calendar, parse_duration
from manyi.core.cases import (
    CATEGORIES,
    CHANNELS,
    KINDS,
    KNOWN_CATEGORIES,
    PACKS,
    SEVERITIES,
    CaseState,
)
from manyi.core.messages import ManyiError, Message

TARGETS = ("acknowledge", "first_contact", "resolve", "call_back")
MATCH_KEYS = ("kind", "category", "severity", "channel")


@dataclass(frozen=True)
class Policy:
    name: str
    match: dict[str, tuple[str, ...]]
    calendar: Calendar
    targets: dict[str, str]  # target → duration
    warn_at: float = 0.8

    def matches(self, case: dict[str, Any]) -> bool:
        return all(str(case.get(k) or "") in v for k, v in self.match.items())


@dataclass(frozen=True)
class Policies:
    policies: tuple[Policy, ...]
    repeat_days: int = 30  # a complaint of the same customer and category within N days escalates
    #: a survey response that opens a case: NPS at most ``nps_at_most`` (a detractor), or not
    #: satisfied (index below the instrument's threshold) when ``dissatisfied`` is true
    from_surveys: dict[str, Any] = field(default_factory=lambda: {"nps_at_most": 6, "dissatisfied": True})
    #: where notices go: ``{"webhooks": [{url, secret_env, events}], "email": {host, port, from,
    #: to, user, password_env, starttls, events}}``
    notify: dict[str, Any] = field(default_factory=dict)
    #: the categories the forms offer (the public complaint form, a new case, an action): the
    #: default list, or an industry pack and/or codes (``categories:`` in the settings)
    categories: tuple[str, ...] = CATEGORIES

    def opens_case(self, nps: float | None, satisfied: int | None) -> bool:
        rule = self.from_surveys or {}
        if rule.get("off"):
            return False
        limit = rule.get("nps_at_most")
        if limit is not None and nps is not None and nps <= float(limit):
            return True
        return bool(rule.get("dissatisfied")) and satisfied == 0

    def for_case(self, case: dict[str, Any]) -> Policy | None:
        return next((p for p in self.policies if p.matches(case)), None)


def build(doc: Any, calendars: dict[str, Calendar], where: str = "sla") -> Policies:
    """Policies from the ``policies:`` list of a settings file (calendars already read)."""
    if not isinstance(doc, list) or not doc:
        raise ManyiError(Message("sla.no_policies", {"where": where}))
    out = []
    for i, p in enumerate(doc, 1):
        here = f"{where}: policy {i}"
        if not isinstance(p, dict):
            raise ManyiError(Message("sla.not_mapping", {"where": here}))
        unknown = sorted(set(p) - {"name", "match", "calendar", "warn_at", *TARGETS})
        if unknown:
            raise ManyiError(Message("sla.unknown_key", {"where": here, "keys": ", ".join(unknown),
                                                          "choices": ", ".join(["name", "match", "calendar", "warn_at", *TARGETS])}))
        match: dict[str, tuple[str, ...]] = {}
        for k, v in (p.get("match") or {}).items():
            if k not in MATCH_KEYS:
                raise ManyiError(Message("sla.bad_match", {"where": here, "key": k, "choices": ", ".join(MATCH_KEYS)}))
            vals = tuple(str(x) for x in (v if isinstance(v, list) else [v]))
            allowed = {"kind": KINDS, "severity": SEVERITIES, "channel": CHANNELS}.get(k)
            bad = [x for x in vals if allowed and x not in allowed]
            if bad:
                raise ManyiError(Message("sla.bad_value", {"where": here, "key": k, "value": ", ".join(bad),
                                                            "choices": ", ".join(allowed or ())}))
            match[k] = vals
        cal_name = str(p.get("calendar") or "cn")
        if cal_name not in calendars:
            raise ManyiError(Message("sla.bad_calendar", {"where": here, "value": cal_name,
                                                           "choices": ", ".join(calendars)}))
        targets = {}
        for t in TARGETS:
            if p.get(t) is not None:
                parse_duration(str(p[t]))  # a clear message for a bad one
                targets[t] = str(p[t])
        if not targets:
            raise ManyiError(Message("sla.no_targets", {"where": here, "choices": ", ".join(TARGETS)}))
        warn = float(p.get("warn_at", 0.8))
        if not 0 < warn <= 1:
            raise ManyiError(Message("sla.bad_warn", {"where": here, "value": p.get("warn_at")}))
        out.append(Policy(str(p.get("name") or f"policy {i}"), match, calendars[cal_name], targets, warn))
    return Policies(tuple(out))


@dataclass
class Clock:
    """The due instants of a case's targets and their state at ``now``."""

    due: dict[str, datetime] = field(default_factory=dict)
    met: dict[str, datetime | None] = field(default_factory=dict)
    warn: dict[str, datetime] = field(default_factory=dict)

    def breached(self, now: datetime) -> dict[str, datetime]:
        """target → due instant, for every target breached by ``now``."""
        out = {}
        for t, d in self.due.items():
            m = self.met.get(t)
            if (m is not None and m > d) or (m is None and now > d):
                out[t] = d
        return out


def clock(policy: Policy, received_at: datetime, state: CaseState) -> Clock:
    """When each of the policy's targets falls due for a case, and when it was met."""
    cal = policy.calendar
    c = Clock()
    met = {
        "acknowledge": state.acknowledged_at,
        "first_contact": state.acknowledged_at,
        "resolve": state.resolved_at if state.resolved_at else (state.closed_at if state.status == "closed" else None),
        "call_back": state.called_back_at,
    }
    paused = sum(cal.between(a, b) for a, b in state.paused)
    if state.waiting_since is not None and state.status == "waiting":
        paused_open = True
    else:
        paused_open = False
    for t, dur in policy.targets.items():
        if t == "call_back":
            if state.resolved_at is None and state.called_back_at is None:
                continue  # the call-back clock starts at resolution
            start = state.resolved_at or state.called_back_at
        else:
            start = received_at
        due = cal.due(start, dur)
        if t == "resolve" and paused:
            due = cal.add(due, paused)
        if t == "resolve" and paused_open:
            continue  # waiting on the customer: the resolve clock stands still
        c.due[t] = due
        c.met[t] = met.get(t)
        total = cal.between(start, due)
        c.warn[t] = cal.add(start, total * policy.warn_at) if total > 0 else due
    return c


def offered_categories(value: Any, where: str) -> tuple[str, ...]:
    """The ``categories:`` of the settings: a pack name (``car_dealer``, ``power``,
    ``restaurant``), a category code, or a list of both, in the order the forms should offer
    them (a pack expands to its categories; repeats are dropped)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        code = str(item).strip()
        if code in PACKS:
            out += PACKS[code]
        elif code in KNOWN_CATEGORIES:
            out.append(code)
        else:
            raise ManyiError(Message("sla.bad_value", {
                "where": where, "key": "categories", "value": code,
                "choices": ", ".join([*PACKS, *sorted(KNOWN_CATEGORIES)])}))
    if not out:
        raise ManyiError(Message("sla.bad_value", {"where": where, "key": "categories", "value": value,
                                                   "choices": ", ".join(PACKS)}))
    return tuple(dict.fromkeys(out))
