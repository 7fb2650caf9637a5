"""Use case: many API submissions at once, written with group commit.

Each submission is checked at once (:meth:`Intake.submit`), with the same code as every other
way in (:func:`manyi.services.survey.validate_answers`), and waits; its batch is scored together
(:func:`manyi.services.survey.scored_rows`, the code of ``manyi score``); :meth:`Intake.flush`
takes every submission waiting and writes them in one transaction (one query for the campaigns' status, one for earlier answers to the same
``Idempotency-Key``\\ s, one for response ids already stored, one multi-row insert each for the
responses and the idempotency answers) and commits. Only then does each caller get its answer,
so an acknowledged submission is on disk, and a retry finds it: nothing acknowledged is lost
when the server is killed, nothing is stored twice.

When a batch fails as a whole (another process stored a twin between the check and the
insert), each of its submissions is written alone through :func:`manyi.services.survey.api_submit`,
which settles the conflict row by row.
"""

from __future__ import annotations

import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select

from manyi.core.instrument import Instrument
from manyi.services.survey import (
    ApiAnswer,
    _digest,
    _errors,
    _previous,
    api_submit,
    instrument_of,
    scored_rows,
    validate_answers,
)
from manyi.store import db
from manyi.store.models import ApiKey, Campaign, Idempotency, InstrumentVersion, Response

BATCH = 500  # submissions per transaction at most
# the batch's queries, built once (expanding parameters: one cached statement for any batch size)
_STATUS = select(Campaign.id, Campaign.status).where(Campaign.id.in_(bindparam("cids", expanding=True)))
_PREVIOUS = select(Idempotency.scope, Idempotency.key, Idempotency.status, Idempotency.body).where(
    Idempotency.scope.in_(bindparam("scopes", expanding=True)), Idempotency.key.in_(bindparam("keys", expanding=True))
)  # the (scope, key) index
_TAKEN = select(Response.campaign_id, Response.response_id).where(
    Response.campaign_id.in_(bindparam("cids", expanding=True)),
    Response.response_id.in_(bindparam("rids", expanding=True)),
)
TTL = 2.0  # seconds a campaign's instrument and an API key's campaign are remembered


@dataclass(frozen=True)
class _Campaign:
    id: int
    name: str
    version_id: int
    instrument: Instrument


@dataclass
class _Item:
    campaign: _Campaign
    rid: str
    key: str | None
    row: dict[str, Any]
    answers: dict[str, Any]
    api_key: str | None
    lang: str | None
    future: Future


class Intake:
    """Group commit of API submissions into one store (``url``)."""

    def __init__(self, url: str | None = None):
        self.url = url
        self._pending: list[_Item] = []
        self._campaigns: dict[str, tuple[float, _Campaign]] = {}
        self._keys: dict[str, tuple[float, int]] = {}

    # --- the caller's side ------------------------------------------------------------------
    def submit(
        self,
        campaign: str,
        answers: dict[str, Any],
        *,
        api_key: str | None,
        response_id: str | None = None,
        idempotency_key: str | None = None,
        lang: str | None = None,
    ) -> Future:
        """Check and score one submission now; the returned future gets its :class:`ApiAnswer`
        once it is committed by :meth:`flush` (or at once, when it is refused)."""
        fut: Future = Future()
        try:
            answer = self._check(
                campaign, answers, api_key, response_id, idempotency_key, lang, fut
            )
        except Exception as exc:  # pragma: no cover - an internal error reaches the web layer
            fut.set_exception(exc)
            return fut
        if answer is not None:
            fut.set_result(answer)
        return fut

    def _check(
        self,
        campaign: str,
        answers: dict[str, Any],
        api_key: str | None,
        response_id: str | None,
        idempotency_key: str | None,
        lang: str | None,
        fut: Future,
    ) -> ApiAnswer | None:
        c = self._campaign(campaign)
        if c is None:
            return ApiAnswer(404, {"error": "unknown campaign"})
        if not api_key or self._key_campaign(api_key) != c.id:
            return ApiAnswer(401, {"error": "a valid API key of this campaign is needed"})
        sub, row = validate_answers(c.instrument, answers)  # scored with its batch at the flush
        if row is None:  # a retry of a stored request gets its first answer, even if now invalid
            prev = _previous(f"campaign:{c.name}", idempotency_key, self.url)
            return prev or ApiAnswer(422, _errors(sub, lang))
        item = _Item(
            c, response_id or uuid.uuid4().hex, idempotency_key, row, answers, api_key, lang, fut
        )
        self._pending.append(item)
        return None

    def _campaign(self, name: str) -> _Campaign | None:
        hit = self._campaigns.get(name)
        now = time.monotonic()
        if hit and now - hit[0] < TTL:
            return hit[1]
        with db.session(self.url) as s:
            c = s.scalar(select(Campaign).where(Campaign.name == name))
            if c is None:
                return None
            iv = s.get(InstrumentVersion, c.instrument_version_id)
            found = _Campaign(c.id, c.name, iv.id, instrument_of(iv))
        self._campaigns[name] = (now, found)
        return found

    def _key_campaign(self, api_key: str) -> int | None:
        digest = _digest(api_key)
        hit = self._keys.get(digest)
        now = time.monotonic()
        if hit and now - hit[0] < TTL:
            return hit[1]
        with db.session(self.url) as s:
            cid = s.scalar(select(ApiKey.campaign_id).where(ApiKey.digest == digest))
        if cid is not None:
            self._keys[digest] = (now, cid)
        return cid

    # --- the writer's side ------------------------------------------------------------------
    def flush(self) -> int:
        """Write every submission waiting, in transactions of at most ``BATCH``, and give each
        its answer; returns how many were settled. The web app calls it on its event loop as
        soon as the requests that arrived together have been checked: one thread, so no
        waiting for the interpreter lock between the database calls."""
        done = 0
        while self._pending:
            batch, self._pending = self._pending[:BATCH], self._pending[BATCH:]
            try:
                answers = self._write(batch)
            except Exception:  # noqa: BLE001 - settle one by one, each in its own transaction
                answers = [self._alone(it) for it in batch]
            for it, ans in zip(batch, answers, strict=True):
                if isinstance(ans, BaseException):
                    it.future.set_exception(ans)
                else:
                    it.future.set_result(ans)
            done += len(batch)
        return done

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def _alone(self, it: _Item) -> ApiAnswer | BaseException:
        try:
            return api_submit(
                it.answers,
                campaign=it.campaign.name,
                api_key=it.api_key,
                response_id=it.rid,
                idempotency_key=it.key,
                lang=it.lang,
                url=self.url,
            )
        except Exception as exc:  # noqa: BLE001 - the caller answers 500, nothing half-written
            return exc

    def _write(self, batch: list[_Item]) -> list[ApiAnswer]:
        """One transaction for the whole batch; each item's answer in order. The batch's
        answers are scored first, each campaign's in one call of the kernel."""
        groups: dict[int, list[int]] = {}
        for i, it in enumerate(batch):
            groups.setdefault(it.campaign.version_id, []).append(i)
        scored: list[dict[str, Any] | None] = [None] * len(batch)
        for idx in groups.values():
            for i, row in zip(idx, scored_rows(batch[idx[0]].campaign.instrument, [batch[i].row for i in idx]),
                              strict=True):
                scored[i] = row
        cids = {it.campaign.id for it in batch}
        scopes = {f"campaign:{it.campaign.name}" for it in batch}
        keys = {it.key for it in batch if it.key}
        rids = {it.rid for it in batch}
        now = datetime.now(UTC)
        out: list[ApiAnswer | None] = [None] * len(batch)
        with db.ensure_schema(self.url).begin() as s:  # Core: no unit of work to keep
            status = dict(s.execute(_STATUS, {"cids": list(cids)}).all())
            prev: dict[tuple[str, str], ApiAnswer] = {}
            if keys:
                for scope, key, st, body in s.execute(_PREVIOUS, {"scopes": list(scopes), "keys": list(keys)}):
                    if scope in scopes:
                        prev[(scope, key)] = ApiAnswer(st, body)
            taken = set(s.execute(_TAKEN, {"cids": list(cids), "rids": list(rids)}).all())
            rows, idem = [], []
            for i, it in enumerate(batch):
                scope = f"campaign:{it.campaign.name}"
                if it.key and (scope, it.key) in prev:  # a retry: the first answer again
                    out[i] = prev[(scope, it.key)]
                elif status.get(it.campaign.id) != "open":
                    out[i] = ApiAnswer(410, {"error": "closed"})
                elif (it.campaign.id, it.rid) in taken:
                    out[i] = ApiAnswer(
                        409, {"error": "response_id already stored", "response_id": it.rid}
                    )
                else:
                    taken.add((it.campaign.id, it.rid))
                    body = {"stored": True, "campaign": it.campaign.name, "response_id": it.rid}
                    out[i] = ApiAnswer(201, body)
                    rows.append(
                        {
                            "campaign_id": it.campaign.id,
                            "instrument_version_id": it.campaign.version_id,
                            "response_id": it.rid,
                            "customer_code": None,
                            "submitted_at": now,
                            "source": "api",
                            "created_at": now,
                            **scored[i],
                        }
                    )
                    if it.key:
                        prev[(scope, it.key)] = out[i]
                        idem.append(
                            {
                                "scope": scope,
                                "key": it.key,
                                "status": 201,
                                "body": body,
                                "created_at": now,
                            }
                        )
            if rows:
                s.execute(insert(Response.__table__), rows)
            if idem:
                s.execute(insert(Idempotency.__table__), idem)
        return out  # type: ignore[return-value]
