"""Use case: a customer answers a survey by the token of an invitation.

The answers go through the same reader as a response file (``validate_frame``), so a page,
the API and an import apply the same rules; the response is stored with its scores, under
the token as its response id, so a second submission of one token can never be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from manyi.core.instrument import Instrument
from manyi.core.messages import Message
from manyi.core.scoring import score_responses
from manyi.io.instruments import parse_instrument
from manyi.io.responses import validate_frame
from manyi.store import db
from manyi.store.models import Campaign, InstrumentVersion, Invitation, Response

MAX_TEXT = 2000


@dataclass
class Survey:
    """What a survey page needs: the state of the token and, when open, the instrument."""

    state: str  # open | answered | closed | unknown
    campaign: str | None = None
    instrument: Instrument | None = None


@dataclass
class Submission:
    stored: bool
    state: str  # stored | invalid | answered | closed | unknown
    errors: dict[str, Message] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)


def _load(
    s: Any, token: str
) -> tuple[Invitation | None, Campaign | None, InstrumentVersion | None]:
    inv = s.scalar(select(Invitation).where(Invitation.token == token)) if token else None
    if inv is None:
        return None, None, None
    c = s.get(Campaign, inv.campaign_id)
    return inv, c, s.get(InstrumentVersion, c.instrument_version_id)


def _state(inv: Invitation | None, c: Campaign | None) -> str:
    if inv is None or c is None:
        return "unknown"
    if inv.answered_at is not None:
        return "answered"
    if c.status != "open":
        return "closed"
    return "open"


def open_survey(token: str, url: str | None = None) -> Survey:
    with db.session(url) as s:
        inv, c, iv = _load(s, token)
        state = _state(inv, c)
        if state != "open":
            return Survey(state, c.name if c else None)
        if inv.opened_at is None:
            inv.opened_at = datetime.now(UTC)
        return Survey("open", c.name, parse_instrument(iv.source, f"{iv.instrument} v{iv.version}"))


def fields(inst: Instrument) -> list[str]:
    """Every answer a page can send: items (with expectation and importance), questions."""
    out = []
    for it in inst.items:
        out.append(it.id)
        if it.expectation:
            out.append(f"{it.id}__expected")
        if it.importance:
            out.append(f"{it.id}__importance")
    out += [q.id for q in inst.questions]
    return out


def submit(
    token: str, form: dict[str, str], url: str | None = None, source: str = "web"
) -> Submission:
    """Check and store one response. Items are required; everything is checked with the
    reader's rules; open text is kept as text (at most 2,000 characters)."""
    try:
        return _submit(token, form, url, source)
    except IntegrityError:  # a concurrent submission of the same token was stored first
        return Submission(False, "answered")


def _submit(token: str, form: dict[str, str], url: str | None, source: str) -> Submission:
    with db.session(url) as s:
        inv, c, iv = _load(s, token)
        state = _state(inv, c)
        if state != "open":
            return Submission(False, state)
        inst = parse_instrument(iv.source, f"{iv.instrument} v{iv.version}")
        values = {k: str(form.get(k, "")).strip() for k in fields(inst)}
        errors: dict[str, Message] = {}
        for it in inst.items:
            if not values[it.id]:
                errors[it.id] = Message("web.required")
        for q in inst.questions:
            if q.type == "text" and len(values[q.id]) > MAX_TEXT:
                errors[q.id] = Message("web.too_long", {"max": MAX_TEXT})
        raw = pd.DataFrame([{"response_id": token, **values}])
        rs = validate_frame(raw, inst, source="web")
        for issue in rs.report.rejected_values:
            errors.setdefault(issue.column, issue.message)
        if errors:
            return Submission(False, "invalid", errors, values)
        data = rs.data
        X = np.array(
            [[float(data[i].iat[0]) if pd.notna(data[i].iat[0]) else np.nan for i in inst.item_ids]]
        )
        sc = score_responses(inst, X)
        answers = {}
        for k in data.columns:
            if k in ("response_id", "submitted_at"):
                continue
            v = data[k].iat[0]
            answers[k] = (
                None
                if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA
                else (v.item() if isinstance(v, np.generic) else v)
            )
        now = datetime.now(UTC)
        csi = float(sc.csi[0])
        s.add(
            Response(
                campaign_id=c.id,
                instrument_version_id=iv.id,
                response_id=token,
                customer_code=None,
                submitted_at=now,
                answers=answers,
                dimensions={
                    d: None if np.isnan(sc.dimensions[0, j]) else float(sc.dimensions[0, j])
                    for j, d in enumerate(inst.dimension_ids)
                },
                csi=None if np.isnan(csi) else csi,
                satisfied=None if np.isnan(sc.satisfied[0]) else int(sc.satisfied[0]),
                source=source,
            )
        )
        inv.answered_at = now
    return Submission(True, "stored")
