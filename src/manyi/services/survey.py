"""Use case: a customer answers a survey by the token of an invitation.

The answers go through the same reader as a response file (``validate_frame``), so a page,
the API and an import apply the same rules; the response is stored with its scores, under
the token as its response id, so a second submission of one token can never be stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from manyi.core.instrument import Instrument
from manyi.core.messages import Message
from manyi.core.scoring import score_responses
from manyi.io.instruments import parse_instrument
from manyi.io.responses import validate_record
from manyi.services.store import item_points, points_dict
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


@lru_cache(maxsize=64)
def _instrument(source: str, label: str) -> Instrument:
    """A stored instrument version, parsed once per process (the text never changes)."""
    return parse_instrument(source, label)


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
        return Survey("open", c.name, instrument_of(iv))


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
        sub = _check_and_store(s, c, iv, token, form, source, _customer_of(s, inv))
        if sub.stored:
            inv.answered_at = datetime.now(UTC)
        return sub


def check_answers(
    inst: Instrument, form: dict[str, Any]
) -> tuple[Submission, dict[str, Any] | None]:
    """Check ``form`` with the reader's rules (items required, text at most 2,000 characters)
    and score it as ``manyi score`` does: the outcome and, when valid, the stored fields
    (answers, dimension, item and overall scores, satisfied)."""
    sub, clean = validate_answers(inst, form)
    if clean is None:
        return sub, None
    return sub, scored_rows(inst, [clean])[0]


def validate_answers(
    inst: Instrument, form: dict[str, Any]
) -> tuple[Submission, dict[str, Any] | None]:
    """The checks of :func:`check_answers` without the scoring: the outcome and, when valid,
    the clean answers (what :func:`scored_rows` scores, one at a time or many at once)."""
    values = {k: "" if form.get(k) is None else str(form.get(k)).strip() for k in fields(inst)}
    errors: dict[str, Message] = {}
    for it in inst.items:
        if not values[it.id]:
            errors[it.id] = Message("web.required")
    for q in inst.questions:
        if q.type == "text" and len(values[q.id]) > MAX_TEXT:
            errors[q.id] = Message("web.too_long", {"max": MAX_TEXT})
    unknown = sorted(set(form) - set(values))
    for k in unknown[:10]:
        errors[k] = Message("web.unknown_field")
    clean, issues = validate_record(values, inst)  # the reader's rules, one record, no pandas
    for col, _shown, msg in issues:
        errors.setdefault(col, msg)
    if errors:
        return Submission(False, "invalid", errors, values), None
    return Submission(True, "stored", values=values), clean


def scored_rows(inst: Instrument, cleans: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The stored fields of valid answers (answers, dimension, item and overall scores,
    satisfied), scored together in one call of the compiled kernel, row for row as
    ``manyi score`` scores a file."""
    X = np.array([[c[i] for i in inst.item_ids] for c in cleans], dtype=float)
    sc = score_responses(inst, X)
    pts, dims = item_points(inst, X).tolist(), sc.dimensions.tolist()  # Python floats: NaN is v != v
    csis, sats = sc.csi.tolist(), sc.satisfied.tolist()
    out = []
    for r, clean in enumerate(cleans):
        csi, sat = csis[r], sats[r]
        out.append({
            "answers": {k: None if (isinstance(v, float) and v != v) else v for k, v in clean.items()},
            "dimensions": {d: None if x != x else x for d, x in zip(inst.dimension_ids, dims[r], strict=True)},
            "items": points_dict(inst, pts[r]),
            "csi": None if csi != csi else csi,
            "satisfied": None if sat != sat else int(sat),
        })
    return out


def warm() -> None:
    """Score one response at server start (loading the instrument and scoring modules and
    their first-use work), so that the first requests a server answers do not wait."""
    from manyi.io.instruments import load_example

    inst = load_example("after-sales")
    score_responses(inst, np.full((1, len(inst.item_ids)), 3.0))


def instrument_of(iv: InstrumentVersion) -> Instrument:
    return _instrument(iv.source, f"{iv.instrument} v{iv.version}")


def _customer_of(s: Any, inv: Invitation | None) -> tuple[str | None, int | None]:
    """The code and organisation unit of an invitation's customer (the response's own)."""
    if inv is None or inv.customer_id is None:
        return None, None
    from manyi.store.models import Customer

    row = s.execute(select(Customer.code, Customer.unit_id).where(Customer.id == inv.customer_id)).first()
    return (row[0], row[1]) if row else (None, None)


def _check_and_store(
    s: Any,
    c: Campaign,
    iv: InstrumentVersion,
    response_id: str,
    form: dict[str, Any],
    source: str,
    customer: tuple[str | None, int | None] = (None, None),
) -> Submission:
    """Check and score ``form`` (:func:`check_answers`) and add the response to session ``s``."""
    sub, row = check_answers(instrument_of(iv), form)
    if row is None:
        return sub
    s.add(
        Response(
            campaign_id=c.id,
            instrument_version_id=iv.id,
            response_id=response_id,
            customer_code=customer[0],
            unit_id=customer[1],
            submitted_at=datetime.now(UTC),
            source=source,
            **row,
        )
    )
    s.flush()
    return sub


# --- the API ---------------------------------------------------------------------------------
@dataclass
class ApiAnswer:
    """An API call's outcome: HTTP status and JSON body (what a retry with the same
    ``Idempotency-Key`` gets again)."""

    status: int
    body: dict[str, Any]


def _errors(sub: Submission, lang: str | None) -> dict[str, Any]:
    return {
        "error": "invalid",
        "errors": [{"field": k, "message": m.render(lang)} for k, m in sub.errors.items()],
    }


def api_submit(
    answers: dict[str, Any],
    *,
    token: str | None = None,
    campaign: str | None = None,
    api_key: str | None = None,
    response_id: str | None = None,
    idempotency_key: str | None = None,
    lang: str | None = None,
    url: str | None = None,
) -> ApiAnswer:
    """Store one response through the API: by an invitation's ``token``, or into ``campaign``
    with an API key of that campaign. With an ``idempotency_key``, the first answer is kept in
    the same transaction as the response, and a retry gets it again (never a duplicate)."""
    import uuid

    from manyi.store.models import Idempotency

    scope = f"token:{token}" if token else f"campaign:{campaign}"
    prev = _previous(scope, idempotency_key, url)
    if prev is not None:
        return prev
    try:
        with db.session(url) as s:
            if token:
                inv, c, iv = _load(s, token)
                state = _state(inv, c)
                if state != "open":
                    status = {"unknown": 404, "closed": 410, "answered": 409}[state]
                    return ApiAnswer(status, {"error": state})
                rid = token
            else:
                c = s.scalar(select(Campaign).where(Campaign.name == campaign))
                if c is None:
                    return ApiAnswer(404, {"error": "unknown campaign"})
                if not key_allows(s, api_key, c):
                    return ApiAnswer(401, {"error": "a valid API key of this campaign is needed"})
                if c.status != "open":
                    return ApiAnswer(410, {"error": "closed"})
                iv = s.get(InstrumentVersion, c.instrument_version_id)
                rid = response_id or uuid.uuid4().hex
                exists = s.scalar(
                    select(Response.id).where(
                        Response.campaign_id == c.id, Response.response_id == rid
                    )
                )
                if exists is not None:
                    return ApiAnswer(
                        409, {"error": "response_id already stored", "response_id": rid}
                    )
            sub = _check_and_store(
                s, c, iv, rid, answers, "api", _customer_of(s, inv) if token else (None, None)
            )
            if not sub.stored:
                return ApiAnswer(422, _errors(sub, lang))
            if token:
                inv.answered_at = datetime.now(UTC)
            body = {"stored": True, "campaign": c.name, "response_id": rid}
            if idempotency_key:
                s.add(Idempotency(scope=scope, key=idempotency_key, status=201, body=body))
            return ApiAnswer(201, body)
    except IntegrityError:  # a concurrent twin was stored first
        return _previous(scope, idempotency_key, url) or ApiAnswer(409, {"error": "already stored"})


def _previous(scope: str, key: str | None, url: str | None) -> ApiAnswer | None:
    """The answer already given to ``key`` in ``scope``, if any."""
    from manyi.store.models import Idempotency

    if not key:
        return None
    with db.session(url) as s:
        prev = s.scalar(
            select(Idempotency).where(Idempotency.scope == scope, Idempotency.key == key)
        )
        return None if prev is None else ApiAnswer(prev.status, prev.body)


def _digest(key: str) -> str:
    import hashlib

    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_allows(s: Any, api_key: str | None, c: Campaign) -> bool:
    from manyi.store.models import ApiKey

    if not api_key:
        return False
    k = s.scalar(select(ApiKey).where(ApiKey.digest == _digest(api_key)))
    return k is not None and k.campaign_id == c.id


def create_desk_key(url: str | None = None) -> str:
    """A new API key for the desk's case API (``/api/v1/cases``): shown once, stored hashed."""
    import secrets

    from manyi.store.models import ApiKey

    key = "mk_" + secrets.token_urlsafe(24)
    with db.session(url) as s:
        s.add(ApiKey(campaign_id=None, scope="cases", prefix=key[:10], digest=_digest(key)))
        from manyi.services.store import _audit

        _audit(s, "apikey.create", "cases", {"prefix": key[:10]})
    return key


def desk_key_ok(api_key: str | None, url: str | None = None) -> bool:
    from manyi.store.models import ApiKey

    if not api_key:
        return False
    with db.session(url) as s:
        return s.scalar(select(ApiKey.id).where(ApiKey.digest == _digest(api_key), ApiKey.scope == "cases")) is not None


def create_api_key(campaign: str, url: str | None = None) -> str:
    """A new API key for ``campaign``: shown once, stored as its SHA-256."""
    import secrets

    from manyi.store.models import ApiKey

    key = "mk_" + secrets.token_urlsafe(24)
    with db.session(url) as s:
        c = s.scalar(select(Campaign).where(Campaign.name == campaign))
        if c is None:
            from manyi.core.messages import ManyiError

            have = ", ".join(s.scalars(select(Campaign.name)).all()[:10])
            raise ManyiError(Message("store.no_campaign", {"name": campaign, "have": have or "–"}))
        s.add(ApiKey(campaign_id=c.id, prefix=key[:10], digest=_digest(key)))
        from manyi.services.store import _audit

        _audit(s, "apikey.create", campaign, {"prefix": key[:10]})
    return key


def api_allowed(campaign: str, api_key: str | None, url: str | None = None) -> int:
    """200 if ``api_key`` opens ``campaign``, 404 for an unknown campaign, else 401."""
    with db.session(url) as s:
        c = s.scalar(select(Campaign).where(Campaign.name == campaign))
        if c is None:
            return 404
        return 200 if key_allows(s, api_key, c) else 401


def get_response(campaign: str, response_id: str, url: str | None = None) -> dict[str, Any] | None:
    """One response of a campaign (as in :func:`list_responses`), or None."""
    with db.session(url) as s:
        c = s.scalar(select(Campaign).where(Campaign.name == campaign))
        r = s.scalar(
            select(Response).where(
                Response.campaign_id == c.id, Response.response_id == response_id
            )
        )
        return None if r is None else _response_dict(r)


def _response_dict(r: Response) -> dict[str, Any]:
    return {
        "response_id": r.response_id,
        "submitted_at": db.instant(r.submitted_at).isoformat() if r.submitted_at else None,
        "source": r.source,
        "csi": r.csi,
        "satisfied": None if r.satisfied is None else bool(r.satisfied),
        "dimensions": r.dimensions,
        "answers": r.answers,
    }


def list_responses(
    campaign: str, limit: int = 100, offset: int = 0, url: str | None = None
) -> list[dict[str, Any]]:
    with db.session(url) as s:
        c = s.scalar(select(Campaign).where(Campaign.name == campaign))
        rows = s.scalars(
            select(Response)
            .where(Response.campaign_id == c.id)
            .order_by(Response.id)
            .limit(limit)
            .offset(offset)
        ).all()
        return [_response_dict(r) for r in rows]


# --- anonymous walk-in links -----------------------------------------------------------------
def walk_in_token(campaign: str, url: str | None = None) -> str:
    """The campaign's anonymous link token (created once): anyone with it may answer, e.g. on
    a poster at the service desk. The web app rate-limits it per visitor."""
    import secrets

    with db.session(url) as s:
        c = s.scalar(select(Campaign).where(Campaign.name == campaign))
        if c is None:
            from manyi.core.messages import ManyiError

            have = ", ".join(s.scalars(select(Campaign.name)).all()[:10])
            raise ManyiError(Message("store.no_campaign", {"name": campaign, "have": have or "–"}))
        if not c.public_token:
            c.public_token = secrets.token_urlsafe(12)
        return c.public_token


def _public(s: Any, ptoken: str) -> tuple[Campaign | None, InstrumentVersion | None]:
    c = s.scalar(select(Campaign).where(Campaign.public_token == ptoken)) if ptoken else None
    return c, (s.get(InstrumentVersion, c.instrument_version_id) if c else None)


def open_walk_in(ptoken: str, url: str | None = None) -> Survey:
    with db.session(url) as s:
        c, iv = _public(s, ptoken)
        if c is None:
            return Survey("unknown")
        if c.status != "open":
            return Survey("closed", c.name)
        return Survey("open", c.name, instrument_of(iv))


def submit_walk_in(ptoken: str, form: dict[str, str], url: str | None = None) -> Submission:
    """Store one anonymous response (a new id each time) through the campaign's walk-in link."""
    import uuid

    with db.session(url) as s:
        c, iv = _public(s, ptoken)
        if c is None:
            return Submission(False, "unknown")
        if c.status != "open":
            return Submission(False, "closed")
        return _check_and_store(s, c, iv, f"walkin-{uuid.uuid4().hex}", form, "web")
