"""Who may do what, and see which units: the rules of the staff workspace, without storage.

Four roles (docs/staff.md): ``admin`` may do everything; ``analyst`` sees all data of their
units, browses responses and exports; ``agent`` works the cases of their units (the complaint
desk) and sees their dashboard; ``viewer`` sees dashboards only. Every account is scoped to one
organisation unit and the units below it; an account without a unit sees the whole
organisation. Personal data of customers (name, phone, e-mail) is shown to the roles that need
it and masked for the others and, unless the role may export it, in exports.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

ROLES = ("admin", "analyst", "agent", "viewer")

#: action → the roles allowed to do it
PERMISSIONS: dict[str, frozenset[str]] = {
    "dashboard": frozenset(ROLES),
    "responses": frozenset({"admin", "analyst"}),
    "export": frozenset({"admin", "analyst"}),
    "personal_data": frozenset({"admin", "analyst", "agent"}),
    "export_personal_data": frozenset({"admin"}),
    "cases": frozenset({"admin", "analyst", "agent"}),
    "actions": frozenset({"admin", "analyst"}),
    "users": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
}


def can(role: str, action: str) -> bool:
    """True when ``role`` may do ``action`` (unknown roles and actions may do nothing)."""
    return role in PERMISSIONS.get(action, frozenset())


def subtree(root: int | None, parents: Mapping[int, int | None]) -> frozenset[int] | None:
    """The unit ``root`` and every unit below it, from each unit's parent; ``None`` (every
    unit, and responses without a unit) when ``root`` is None."""
    if root is None:
        return None
    children: dict[int | None, list[int]] = {}
    for unit, parent in parents.items():
        children.setdefault(parent, []).append(unit)
    out, todo = set(), [root]
    while todo:
        u = todo.pop()
        if u in out:  # a cycle cannot be stored, but never loop on one
            continue
        out.add(u)
        todo.extend(children.get(u, ()))
    return frozenset(out)


def visible(scope: frozenset[int] | None, unit: int | None) -> bool:
    """May an account scoped to ``scope`` see something of ``unit``?"""
    return scope is None or (unit is not None and unit in scope)


def narrowed(scope: frozenset[int] | None, wanted: Iterable[int] | None) -> frozenset[int] | None:
    """The units of a filter (``wanted``) that the scope allows; the scope when no filter."""
    if wanted is None:
        return scope
    w = frozenset(wanted)
    return w if scope is None else w & scope


def mask(value: str | None, kind: str = "text") -> str | None:
    """Personal data masked: a name keeps its first character, a phone number its first three
    and last four digits, an e-mail address the first character and the domain."""
    if value is None or value == "":
        return value
    v = str(value)
    if kind == "phone" or (kind == "text" and sum(ch.isdigit() for ch in v) >= 7):
        digits = [i for i, ch in enumerate(v) if ch.isdigit()]
        keep = set(digits[:3] + digits[-4:])
        return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(v))
    if kind == "email" or "@" in v:
        user, _, domain = v.partition("@")
        return (user[:1] + "***@" + domain) if domain else user[:1] + "***"
    return v[:1] + "*" * max(1, len(v) - 1)
