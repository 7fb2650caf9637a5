"""Business calendars from files, and the built-in ``cn`` calendar.

``cn`` is mainland China's working calendar: Monday to Friday, 09:00-12:00 and 13:00-17:30 in
Asia/Shanghai, with the official public holidays and adjusted working days (调休) as the
`chinesecalendar` package publishes them from the State Council's notices (never typed in
here). A YAML calendar may start from it (``base: cn``) and add its own dates::

    calendar:
      base: cn
      timezone: Asia/Shanghai
      hours: ["09:00-12:00", "13:00-17:30"]
      weekdays: [mon, tue, wed, thu, fri]
      holidays: ["2026-06-19"]
      workdays: ["2026-06-28"]
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from manyi.core.calendar import Calendar, parse_hours, parse_weekdays, zone
from manyi.core.localtime import LOCAL_TZ
from manyi.core.messages import ManyiError, Message

CN_HOURS = ("09:00-12:00", "13:00-17:30")
KEYS = {"base", "timezone", "hours", "weekdays", "holidays", "workdays", "name"}


@lru_cache(maxsize=1)
def _cn_dates() -> tuple[frozenset[date], frozenset[date]]:
    import chinese_calendar

    return frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays)


def cn() -> Calendar:
    """The built-in ``cn`` calendar (see the module's docstring)."""
    holidays, workdays = _cn_dates()
    return Calendar(LOCAL_TZ, parse_hours(list(CN_HOURS)), frozenset(range(5)), holidays, workdays, "cn")


def _dates(values: Any, key: str, where: str) -> frozenset[date]:
    if values is None:
        return frozenset()
    if not isinstance(values, list):
        raise ManyiError(Message("cal.bad_key", {"where": where, "key": key, "value": values}))
    out = set()
    for v in values:
        if isinstance(v, date):
            out.add(v)
            continue
        try:
            out.add(date.fromisoformat(str(v).strip()))
        except ValueError:
            raise ManyiError(Message("cal.bad_date", {"where": where, "key": key, "value": v})) from None
    return frozenset(out)


def from_dict(doc: Any, where: str = "calendar", known: dict[str, Calendar] | None = None) -> Calendar:
    """A calendar from its YAML mapping (``base`` may name ``cn`` or a calendar in ``known``)."""
    if not isinstance(doc, dict):
        raise ManyiError(Message("cal.not_mapping", {"where": where}))
    unknown = sorted(set(doc) - KEYS)
    if unknown:
        raise ManyiError(Message("cal.unknown_key", {"where": where, "keys": ", ".join(unknown),
                                                      "choices": ", ".join(sorted(KEYS))}))
    base_name = doc.get("base")
    if base_name is None:
        base = Calendar(holidays=frozenset(), workdays=frozenset())
    elif base_name == "cn":
        base = cn()
    elif known and base_name in known:
        base = known[base_name]
    else:
        raise ManyiError(Message("cal.bad_base", {"where": where, "value": base_name,
                                                   "choices": ", ".join(["cn", *(known or {})])}))
    tz = str(doc.get("timezone", base.timezone))
    zone(tz)
    hours = parse_hours(_list(doc["hours"], "hours", where)) if "hours" in doc else base.hours
    weekdays = parse_weekdays(_list(doc["weekdays"], "weekdays", where)) if "weekdays" in doc else base.weekdays
    own_holidays = _dates(doc.get("holidays"), "holidays", where)
    own_workdays = _dates(doc.get("workdays"), "workdays", where)
    both = own_holidays & own_workdays
    if both:
        raise ManyiError(Message("cal.both", {"where": where, "dates": ", ".join(sorted(map(str, both)))}))
    # the file's own dates win over the base's
    holidays = (base.holidays - own_workdays) | own_holidays
    workdays = (base.workdays - own_holidays) | own_workdays
    return Calendar(tz, hours, weekdays, holidays, workdays, str(doc.get("name") or where))


def _list(v: Any, key: str, where: str) -> list[Any]:
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list):
        raise ManyiError(Message("cal.bad_key", {"where": where, "key": key, "value": v}))
    return v


def load_calendar(spec: str | Path) -> Calendar:
    """``cn``, or a YAML file with a ``calendar:`` mapping (or the mapping at the top)."""
    if str(spec) == "cn":
        return cn()
    from manyi.io import yamlsafe

    p = Path(spec)
    if not p.exists():
        raise ManyiError(Message("cal.not_found", {"file": str(p)}))
    doc = yamlsafe.load(p.read_text(encoding="utf-8-sig"), p.name)
    if isinstance(doc, dict) and "calendar" in doc:
        doc = doc["calendar"]
    return from_dict(doc, p.name)


#: The service levels used until ``manyi sla load`` stores others (docs/cases.md).
DEFAULT_SLA = """\
calendars:
  desk: {base: cn}
policies:
  - name: complaints
    match: {kind: complaint}
    calendar: desk
    acknowledge: 1h
    first_contact: 1h
    resolve: 3d
    call_back: 2d
    warn_at: 0.8
  - name: other contacts
    calendar: desk
    acknowledge: 4h
    resolve: 5d
    warn_at: 0.8
"""


def parse_sla(text: str, source: str = "sla.yaml"):
    """Service-level policies from a settings file's text: ``calendars`` (each a calendar
    mapping, ``base`` may name ``cn`` or a calendar defined above it) and ``policies``; also
    ``repeat_days``, ``from_surveys``, ``notify`` and ``categories`` (docs/cases.md)."""
    from manyi.core.sla import build
    from manyi.io import yamlsafe

    doc = yamlsafe.load(text, source)
    if not isinstance(doc, dict):
        raise ManyiError(Message("sla.not_mapping", {"where": source}))
    unknown = sorted(set(doc) - {"calendars", "policies", "repeat_days", "from_surveys", "notify", "categories"})
    if unknown:
        raise ManyiError(Message("sla.unknown_key", {"where": source, "keys": ", ".join(unknown),
                                                      "choices": "calendars, policies, repeat_days, from_surveys, notify, categories"}))
    calendars: dict[str, Calendar] = {"cn": cn()}
    for name, spec in (doc.get("calendars") or {}).items():
        calendars[str(name)] = from_dict(spec, f"{source}: calendars.{name}", calendars)
    policies = build(doc.get("policies"), calendars, source)
    from dataclasses import replace

    if "repeat_days" in doc:
        policies = replace(policies, repeat_days=int(doc["repeat_days"]))
    if "from_surveys" in doc:
        rule = doc["from_surveys"]
        if rule is False or rule == "off":
            rule = {"off": True}
        if not isinstance(rule, dict) or set(rule) - {"nps_at_most", "dissatisfied", "off"}:
            raise ManyiError(Message("sla.unknown_key", {"where": f"{source}: from_surveys", "keys": str(rule),
                                                          "choices": "nps_at_most, dissatisfied (or off)"}))
        policies = replace(policies, from_surveys=rule)
    if "notify" in doc:
        policies = replace(policies, notify=_notify(doc["notify"], source))
    if "categories" in doc:
        from manyi.core.sla import offered_categories

        policies = replace(policies, categories=offered_categories(doc["categories"], f"{source}: categories"))
    return policies


def _notify(doc: Any, source: str) -> dict[str, Any]:
    """The ``notify:`` section: webhooks (each signed with the secret in the environment
    variable ``secret_env``) and an SMTP server for e-mail; ``events`` (``breach``,
    ``escalation``) default to breaches. Managers a case is escalated to get its escalation
    notices by e-mail whenever the SMTP server is set, whatever the ``to`` list subscribes to."""
    where = f"{source}: notify"
    if not isinstance(doc, dict) or set(doc) - {"webhooks", "email"}:
        raise ManyiError(Message("sla.unknown_key", {"where": where, "keys": str(doc), "choices": "webhooks, email"}))
    out: dict[str, Any] = {}
    hooks = doc.get("webhooks") or []
    if not isinstance(hooks, list):
        raise ManyiError(Message("cal.bad_key", {"where": where, "key": "webhooks", "value": hooks}))
    out["webhooks"] = []
    for h in hooks:
        if not isinstance(h, dict) or not str(h.get("url", "")).startswith(("http://", "https://")) or not h.get("secret_env"):
            raise ManyiError(Message("sla.bad_webhook", {"where": where, "value": h}))
        out["webhooks"].append({"url": str(h["url"]), "secret_env": str(h["secret_env"]),
                                "events": _events(h.get("events"), where)})
    if doc.get("email"):
        e = doc["email"]
        if not isinstance(e, dict) or not e.get("host") or not e.get("to") or not e.get("from"):
            raise ManyiError(Message("sla.bad_email", {"where": where}))
        out["email"] = {"host": str(e["host"]), "port": int(e.get("port", 25)), "from": str(e["from"]),
                        "to": [str(x) for x in (e["to"] if isinstance(e["to"], list) else [e["to"]])],
                        "user": e.get("user"), "password_env": e.get("password_env"),
                        "starttls": bool(e.get("starttls", False)), "events": _events(e.get("events"), where)}
    return out


NOTICE_EVENTS = ("breach", "escalation")


def _events(value: Any, where: str) -> list[str]:
    events = value if isinstance(value, list) else [value] if value else ["breach"]
    bad = [str(v) for v in events if v not in NOTICE_EVENTS]
    if bad:
        raise ManyiError(Message("sla.bad_events", {"where": where, "value": ", ".join(bad), "choices": ", ".join(NOTICE_EVENTS)}))
    return [str(v) for v in events]
