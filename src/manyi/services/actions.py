"""Use case: improvement actions (corrective and preventive) and their effectiveness check.

An action answers cases and a survey dimension, and names the metric that should move:

- ``{"type": "dimension", "campaign": NAME | "instrument": ID, "dimension": D}``: the mean
  stored score of dimension D (0-100) — better when it rises;
- ``{"type": "complaints", "category": C (optional)}``: complaints received per 30 days —
  better when it falls.

When the action is recorded, the metric's value over the ``window`` days before is kept
(``before``); the check, after the action is done, takes the value since it was done
(``after``) and judges it: a dimension by Welch's t test on the two periods' scores, complaints
by the conditional binomial test of two Poisson rates (Przyborowski & Wilenski 1940): given
the k complaints of both periods, those after the action follow Bin(k, t_after / (t_before +
t_after)) when nothing changed. ``effective`` needs the metric to move the right way with
p < 0.05; too few data (n < 10 scores per period, or no complaint at all) leave it undecided.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from manyi.core.messages import ManyiError, Message
from manyi.services.cases import _utc
from manyi.store import db
from manyi.store.models import Campaign, Case, ImprovementAction, InstrumentVersion, Response

KINDS = ("corrective", "preventive")
WINDOW_DAYS = 90
ALPHA = 0.05


def _measure(s: Any, metric: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
    """The metric over [start, end): a dimension's n, mean and SD, or a complaint count and rate."""
    if metric["type"] == "dimension":
        q = select(Response.dimensions[metric["dimension"]].as_float())
        if metric.get("campaign"):
            q = q.join(Campaign, Campaign.id == Response.campaign_id).where(Campaign.name == metric["campaign"])
        else:
            q = q.join(InstrumentVersion, InstrumentVersion.id == Response.instrument_version_id).where(
                InstrumentVersion.instrument == metric["instrument"])
        q = q.where(Response.submitted_at >= start, Response.submitted_at < end)
        xs = [x for x in s.scalars(q) if x is not None]
        n = len(xs)
        mean = sum(xs) / n if n else None
        sd = (sum((x - mean) ** 2 for x in xs) / (n - 1)) ** 0.5 if n > 1 else None
        return {"from": start.isoformat(), "to": end.isoformat(), "n": n, "mean": mean, "sd": sd}
    q = select(func.count(Case.id)).where(Case.kind == "complaint", Case.received_at >= start, Case.received_at < end)
    if metric.get("category"):
        q = q.where(Case.category == metric["category"])
    k = s.scalar(q) or 0
    days = max((end - start).total_seconds() / 86400, 1e-9)
    return {"from": start.isoformat(), "to": end.isoformat(), "complaints": k, "days": days, "per_30_days": 30 * k / days}


def _check_metric(metric: Any) -> dict[str, Any]:
    if not isinstance(metric, dict) or metric.get("type") not in ("dimension", "complaints"):
        raise ManyiError(Message("action.bad_metric", {"value": metric}))
    if metric["type"] == "dimension" and not (metric.get("dimension") and (metric.get("campaign") or metric.get("instrument"))):
        raise ManyiError(Message("action.bad_metric", {"value": metric}))
    return metric


def add_action(title: str, metric: dict[str, Any], kind: str = "corrective", owner: str | None = None,
               due: datetime | None = None, cases: list[str] | None = None, description: str | None = None,
               window_days: int = WINDOW_DAYS, now: datetime | None = None, url: str | None = None) -> dict[str, Any]:
    """Record an action and the metric's value over the ``window_days`` before it."""
    if kind not in KINDS:
        raise ManyiError(Message("an.bad_option", {"option": "--kind", "value": kind, "choices": ", ".join(KINDS)}))
    if not title.strip():
        raise ManyiError(Message("action.no_title"))
    metric = _check_metric(metric)
    now = _utc(now) or datetime.now(UTC)
    with db.session(url) as s:
        known = set(s.scalars(select(Case.number).where(Case.number.in_(cases or []))).all())
        missing = [c for c in cases or [] if c not in known]
        if missing:
            raise ManyiError(Message("case.unknown", {"number": ", ".join(missing)}))
        a = ImprovementAction(kind=kind, title=title.strip()[:300], description=description, owner=owner,
                              due=_utc(due), status="open", cases={"numbers": list(cases or [])}, metric=metric,
                              before=_measure(s, metric, now - timedelta(days=window_days), now), created_at=now)
        s.add(a)
        s.flush()
        a.number = f"A{a.id:07d}"
        s.flush()
        from manyi.services.store import _audit

        _audit(s, "action.create", a.number, {"title": a.title, "metric": metric})
        return _dict(a)


def done(number: str, at: datetime | None = None, url: str | None = None) -> dict[str, Any]:
    with db.session(url) as s:
        a = _find(s, number)
        a.status, a.done_at = "done", _utc(at) or datetime.now(UTC)
        return _dict(a)


def check(number: str, now: datetime | None = None, url: str | None = None) -> dict[str, Any]:
    """The effectiveness check: the metric since the action was done against before."""
    from scipy.special import stdtr
    from scipy.stats import binomtest

    now = _utc(now) or datetime.now(UTC)
    with db.session(url) as s:
        a = _find(s, number)
        if a.done_at is None:
            raise ManyiError(Message("action.not_done", {"number": a.number}))
        after = _measure(s, a.metric, _utc(a.done_at), now)
        before = a.before or {}
        verdict, p = None, None
        if a.metric["type"] == "dimension":
            n1, n2 = before.get("n", 0), after["n"]
            if n1 >= 10 and n2 >= 10 and before.get("sd") is not None and after["sd"] is not None:
                v1, v2 = before["sd"] ** 2 / n1, after["sd"] ** 2 / n2
                diff = after["mean"] - before["mean"]
                if v1 + v2 > 0:
                    t = diff / (v1 + v2) ** 0.5
                    dof = (v1 + v2) ** 2 / (v1**2 / (n1 - 1) + v2**2 / (n2 - 1))
                    p = float(2 * stdtr(dof, -abs(t)))
                    verdict = diff > 0 and p < ALPHA
        else:
            k1, k2 = before.get("complaints", 0), after["complaints"]
            t1, t2 = before.get("days", 0), after["days"]
            if k1 + k2 > 0 and t1 > 0 and t2 > 0:
                p = float(binomtest(k2, k1 + k2, t2 / (t1 + t2)).pvalue)
                verdict = (k2 / t2 < k1 / t1) and p < ALPHA
        after.update(p=p, effective=verdict)
        a.after, a.checked_at = after, now
        if verdict is not None:
            a.status = "effective" if verdict else "ineffective"
        return _dict(a)


def _find(s: Any, number: str) -> ImprovementAction:
    a = s.scalar(select(ImprovementAction).where(ImprovementAction.number == number))
    if a is None:
        raise ManyiError(Message("action.unknown", {"number": number}))
    return a


def _dict(a: ImprovementAction) -> dict[str, Any]:
    iso = lambda t: _utc(t).isoformat() if t else None  # noqa: E731
    return {"number": a.number, "kind": a.kind, "title": a.title, "owner": a.owner, "due": iso(a.due),
            "status": a.status, "cases": (a.cases or {}).get("numbers", []), "metric": a.metric,
            "before": a.before, "after": a.after, "done_at": iso(a.done_at), "checked_at": iso(a.checked_at)}


def list_actions(url: str | None = None) -> list[dict[str, Any]]:
    with db.session(url) as s:
        return [_dict(a) for a in s.scalars(select(ImprovementAction).order_by(ImprovementAction.id.desc()))]
