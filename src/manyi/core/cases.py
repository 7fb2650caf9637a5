"""Cases: every customer contact, its workflow as a pure state machine, and its service levels.

The workflow follows the handling steps of complaint management (listen and record,
apologise, find the cause, remedy, respond, follow up) and the organisation around it:
first-contact ownership (首问负责制: the agent who takes a case stays accountable through
transfers), time-limited closure (限时办结), a call-back on every case (全业务回访) and
escalation of unsatisfied call-backs and repeated complaints (提级处理)::

    new ─acknowledge→ acknowledged ─investigate→ investigating ─resolve→ resolved
                         │   ↑                       │   ↑                  │
                         wait/resume (the clock stops while waiting on the customer)
    resolved ─call_back(satisfied)→ closed
    resolved ─call_back(not satisfied)→ reopened (escalated one level)
    closed/resolved ─reopen(reason)→ reopened ─investigate→ investigating ...

:func:`apply` checks one action against the state and returns the new state and the event to
append to the case's timeline; an action that is not allowed raises, so no stored case can be
in a state the diagram does not reach.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from manyi.core.messages import ManyiError, Message

KINDS = ("complaint", "enquiry", "suggestion", "praise")
CHANNELS = ("hotline", "web", "app", "email", "walk_in", "survey", "import", "api")
SEVERITIES = ("low", "medium", "high", "critical")
STATES = ("new", "acknowledged", "investigating", "waiting", "resolved", "reopened", "closed")
OPEN = frozenset(STATES) - {"closed"}

#: The default taxonomy (DOMAIN: types of complaint) and the cause lists.
CATEGORIES = ("product", "service", "broken_promise", "inconsistency", "own_choice")
CAUSES_COMPANY = ("staff_error", "negligence", "concealment", "product", "rules")
CAUSES_CUSTOMER = ("operation", "installation", "rumours", "new_products", "outside")
#: Category packs of three industries (restaurants, power supply, car dealers).
PACKS: dict[str, tuple[str, ...]] = {
    "restaurant": ("foreign_object", "short_portion", "staff_attitude", "slow_service", "hygiene"),
    "power": ("reliability", "safety", "billing", "information", "business_handling", "channels", "attitude"),
    "car_dealer": ("sales_promise", "delivery", "repair_quality", "repair_time", "parts", "price", "attitude"),
}
#: Every category a case may have: the default list and every pack's.
KNOWN_CATEGORIES = frozenset(CATEGORIES) | {c for pack in PACKS.values() for c in pack}

#: action → (states it may start from, state it leads to; None: stays)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "acknowledge": (frozenset({"new"}), "acknowledged"),
    "investigate": (frozenset({"acknowledged", "reopened"}), "investigating"),
    "wait": (frozenset({"acknowledged", "investigating", "reopened"}), "waiting"),
    "resume": (frozenset({"waiting"}), "investigating"),
    "resolve": (frozenset({"acknowledged", "investigating", "reopened"}), "resolved"),
    "call_back": (frozenset({"resolved"}), None),  # closed or reopened, by the answer
    "reopen": (frozenset({"resolved", "closed"}), "reopened"),
    "transfer": (OPEN, None),
    "note": (frozenset(STATES), None),
}


@dataclass(frozen=True)
class CaseState:
    """What the rules need of a case."""

    status: str = "new"
    owner: str | None = None
    first_owner: str | None = None
    escalation: int = 0
    remedy: str | None = None
    root_cause: str | None = None
    satisfied: bool | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    called_back_at: datetime | None = None
    waiting_since: datetime | None = None
    paused: list[tuple[datetime, datetime]] = field(default_factory=list)


@dataclass(frozen=True)
class Event:
    """One line of a case's timeline."""

    action: str
    actor: str | None
    at: datetime
    from_status: str
    to_status: str
    note: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def allowed(status: str) -> list[str]:
    """The actions open from ``status`` (for the buttons of a case page)."""
    return [a for a, (src, _) in TRANSITIONS.items() if status in src]


def apply(state: CaseState, action: str, actor: str | None, at: datetime, **data: Any) -> tuple[CaseState, Event]:
    """The state after ``action`` by ``actor`` at ``at``, and its event. Raises
    :class:`ManyiError` for an action the state does not allow or a missing field."""
    if action not in TRANSITIONS:
        raise ManyiError(Message("case.bad_action", {"action": action, "choices": ", ".join(TRANSITIONS)}))
    src, dst = TRANSITIONS[action]
    if state.status not in src:
        raise ManyiError(
            Message("case.not_allowed", {"action": action, "status": state.status,
                                          "choices": ", ".join(allowed(state.status)) or "–"})
        )
    note = data.get("note")
    new = state
    if action == "acknowledge":
        owner = state.owner or actor
        new = replace(state, acknowledged_at=at, owner=owner, first_owner=state.first_owner or owner)
    elif action == "wait":
        new = replace(state, waiting_since=at)
    elif action == "resume":
        new = replace(state, waiting_since=None, paused=[*state.paused, (state.waiting_since or at, at)])
    elif action == "resolve":
        remedy, cause = (data.get("remedy") or "").strip(), (data.get("root_cause") or "").strip()
        if not remedy or not cause:
            raise ManyiError(Message("case.resolve_needs", {}))
        new = replace(state, remedy=remedy, root_cause=cause, resolved_at=at)
    elif action == "call_back":
        satisfied = data.get("satisfied")
        if not isinstance(satisfied, bool):
            raise ManyiError(Message("case.callback_needs", {}))
        if satisfied:
            dst = "closed"
            new = replace(state, satisfied=True, called_back_at=at, closed_at=at)
        else:  # not satisfied: reopened and escalated (提级处理)
            dst = "reopened"
            new = replace(state, satisfied=False, called_back_at=at, escalation=state.escalation + 1,
                          resolved_at=None)
    elif action == "reopen":
        if not (note or "").strip():
            raise ManyiError(Message("case.reopen_needs_reason", {}))
        new = replace(state, resolved_at=None, closed_at=None, satisfied=None)
    elif action == "transfer":
        to = (data.get("to") or "").strip()
        if not to:
            raise ManyiError(Message("case.transfer_needs", {}))
        # first-contact ownership: the first owner stays accountable
        new = replace(state, owner=to, first_owner=state.first_owner or state.owner or actor)
    to_status = dst or state.status
    new = replace(new, status=to_status)
    event = Event(action, actor, at, state.status, to_status, note,
                  {k: v for k, v in data.items() if k != "note" and v is not None})
    return new, event


def escalate(state: CaseState, at: datetime, reason: str) -> tuple[CaseState, Event]:
    """One level up (a breached target, a repeated complaint): the state stays."""
    new = replace(state, escalation=state.escalation + 1)
    return new, Event("escalate", None, at, state.status, state.status, reason, {"level": new.escalation})


#: the whole organisation in an escalation chain (managers without a unit); unit ids start at 1
ORGANISATION = 0


def escalation_unit(chain: list[int], level: int, managed: set[int] | frozenset[int]) -> int | None:
    """The unit a case at escalation ``level`` goes to (提级处理 along the unit tree).

    ``chain`` is the case's unit and the units above it, nearest first, ending with
    :data:`ORGANISATION`; ``managed`` the units that have a manager. Level 1 is the case's own
    unit (its team lead), level 2 the unit above (the branch manager), level 3 the one above
    that (the region), capped at the top; a unit without a manager passes the case further up.
    None for level 0, or when nobody manages any unit from there up."""
    if level <= 0 or not chain:
        return None
    for unit in chain[min(level, len(chain)) - 1 :]:
        if unit in managed:
            return unit
    return None
