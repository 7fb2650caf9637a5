"""Use case: keep the sums behind the dashboard's scorecard (``score_rollup``).

Responses are only ever added, never changed, so a campaign's rollup grows by folding in the
responses it has not read yet: one ``GROUP BY`` over the new rows (unit, month, channel) adds
their counts, sums and sums of squares to the rollup rows. The scorecard then adds up a few
hundred rollup rows instead of reading a million responses. Every figure follows from these
sums exactly as from the responses (docs/staff.md).

Safety: the fold and the move of the read mark happen in one transaction, and the mark moves
only if nobody moved it meanwhile (compare and set), so two servers never fold a response
twice. A response whose id was handed out before the mark but committed after it (possible on
PostgreSQL under concurrent writes) is caught by the count check: when the responses up to the
mark are more than the rollup has folded, the campaign's rollup is built again from scratch
(checked whenever there are new responses, and otherwise at most every ``CHECK_EVERY``
seconds per process, so a late response shows within seconds).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, delete, func, select, update

from manyi.core.instrument import Instrument
from manyi.store.models import Response, RollupState, ScoreRollup


def _month(s: Any):
    from manyi.services.dashboard import month_of

    return month_of(s)


def sum_columns(inst: Instrument) -> list[Any]:
    """The aggregate columns every scorecard sum comes from (counts, Σ, Σ² of the index and of
    each dimension, satisfied, NPS promoters and detractors); the dashboard's direct queries
    and the rollup's fold use these same columns, so both give the same sums."""
    cols = [
        func.count(Response.id).label("responses"),
        func.count(Response.csi).label("n"),
        func.coalesce(func.sum(Response.csi), 0.0).label("s1"),
        func.coalesce(func.sum(Response.csi * Response.csi), 0.0).label("s2"),
        func.coalesce(func.sum(Response.satisfied), 0).label("sat"),
        func.count(Response.satisfied).label("rated"),
    ]
    for j, d in enumerate(inst.dimension_ids):
        x = Response.dimensions[d].as_float()
        cols += [
            func.count(x).label(f"d{j}_n"),
            func.coalesce(func.sum(x), 0.0).label(f"d{j}_s1"),
            func.coalesce(func.sum(x * x), 0.0).label(f"d{j}_s2"),
        ]
    nps = nps_question(inst)
    if nps:
        a = Response.answers[nps].as_float()
        cols += [
            func.count(a).label("nps_n"),
            func.coalesce(func.sum(case((a >= 9, 1), else_=0)), 0).label("nps_pro"),
            func.coalesce(func.sum(case((a <= 6, 1), else_=0)), 0).label("nps_det"),
        ]
    return cols


def nps_question(inst: Instrument) -> str | None:
    q = inst.metric_question("nps")
    return q.id if q is not None else None


def _fold_query(s: Any, cid: int, lo: int, hi: int, inst: Instrument):
    month = _month(s)
    keys = [Response.unit_id.label("unit_id"), month.label("month"), Response.source.label("source")]
    where = and_(Response.campaign_id == cid, Response.id > lo, Response.id <= hi)
    q = select(*keys, *sum_columns(inst)).where(where).group_by(Response.unit_id, month, Response.source)
    return nps_question(inst), q


class Raced(Exception):
    """Another server folded the same responses first (its rollup stands)."""


def refresh_all(campaigns: list[tuple[int, Instrument]], url: str | None = None) -> None:
    """Bring the rollups of ``campaigns`` (id, instrument) up to date, each in a transaction."""
    from sqlalchemy.exc import IntegrityError

    from manyi.store import db

    for cid, inst in campaigns:
        try:
            with db.session(url) as s:
                refresh(s, cid, inst)
        except (Raced, IntegrityError):
            pass


#: When each campaign's count check last ran in this process (see :func:`refresh`).
_CHECKED: dict[tuple[str, int], float] = {}
CHECK_EVERY = 10.0  # seconds


def refresh(s: Any, cid: int, inst: Instrument) -> None:
    """Fold the campaign's new responses into its rollup (in session ``s``'s transaction;
    :class:`Raced` when another server moved the read mark first: roll back)."""
    import time

    state = s.get(RollupState, cid)
    hi = s.scalar(select(func.max(Response.id)).where(Response.campaign_id == cid)) or 0
    key = (str(s.bind.url), cid)
    if state is not None and hi <= state.last_id and time.monotonic() - _CHECKED.get(key, -1e9) < CHECK_EVERY:
        return  # nothing new, and the count was checked a moment ago
    _CHECKED[key] = time.monotonic()
    if state is not None:
        upto = s.scalar(
            select(func.count(Response.id)).where(Response.campaign_id == cid, Response.id <= state.last_id)
        )
        if upto != state.folded:  # a late commit below the mark: build again
            s.execute(delete(ScoreRollup).where(ScoreRollup.campaign_id == cid))
            s.execute(update(RollupState).where(RollupState.campaign_id == cid).values(last_id=0, folded=0))
            s.expire(state)
            state = s.get(RollupState, cid)
        if hi <= state.last_id:
            return
    lo = state.last_id if state is not None else 0
    nps, q = _fold_query(s, cid, lo, hi, inst)
    rows = [dict(r._mapping) for r in s.execute(q)]
    if state is None:
        s.add(RollupState(campaign_id=cid, last_id=hi, folded=sum(r["responses"] for r in rows)))
        s.flush()  # a twin process inserting at once fails here: its transaction rolls back
    else:
        moved = s.execute(
            update(RollupState)
            .where(RollupState.campaign_id == cid, RollupState.last_id == lo)
            .values(last_id=hi, folded=RollupState.folded + sum(r["responses"] for r in rows))
        ).rowcount
        if moved != 1:  # another server folded these rows first
            raise Raced(cid)
    have = {
        (r.unit_id, r.month, r.source): r
        for r in s.scalars(select(ScoreRollup).where(ScoreRollup.campaign_id == cid))
    }
    dims = inst.dimension_ids
    for r in rows:
        key = (r["unit_id"], r["month"], r["source"])
        cur = have.get(key)
        add_dims = {d: [r[f"d{j}_n"], r[f"d{j}_s1"], r[f"d{j}_s2"]] for j, d in enumerate(dims)}
        add_nps = {"id": nps, "n": r["nps_n"], "pro": r["nps_pro"], "det": r["nps_det"]} if nps else None
        if cur is None:
            s.add(
                ScoreRollup(
                    campaign_id=cid, unit_id=r["unit_id"], month=r["month"], source=r["source"],
                    responses=r["responses"], n=r["n"], s1=r["s1"], s2=r["s2"], sat=r["sat"],
                    rated=r["rated"], dims=add_dims, nps=add_nps,
                )
            )
            continue
        cur.responses += r["responses"]
        cur.n += r["n"]
        cur.s1 += r["s1"]
        cur.s2 += r["s2"]
        cur.sat += r["sat"]
        cur.rated += r["rated"]
        merged = dict(cur.dims)
        for d, v in add_dims.items():
            old = merged.get(d, [0, 0.0, 0.0])
            merged[d] = [old[0] + v[0], old[1] + v[1], old[2] + v[2]]
        cur.dims = merged
        if add_nps:
            old = cur.nps or {"id": nps, "n": 0, "pro": 0, "det": 0}
            cur.nps = {"id": nps, **{k: old[k] + add_nps[k] for k in ("n", "pro", "det")}}


def rows(s: Any, cids: list[int], units: frozenset[int] | None, start: str | None, end: str | None,
         source: str | None) -> list[ScoreRollup]:
    """The rollup rows of a filter (campaigns, unit scope, months, channel)."""
    q = select(ScoreRollup).where(ScoreRollup.campaign_id.in_(cids))
    if units is not None:
        q = q.where(ScoreRollup.unit_id.in_(sorted(units) or [-1]))
    if start:
        q = q.where(ScoreRollup.month >= start)
    if end:
        q = q.where(ScoreRollup.month <= end)
    if source:
        q = q.where(ScoreRollup.source == source)
    return list(s.scalars(q))


def as_sums(rs: list[ScoreRollup], inst: Instrument) -> dict[str, Any]:
    """Rollup rows added up, in the shape of one row of the dashboard's ``GROUP BY`` query."""
    out: dict[str, Any] = {k: 0 for k in ("responses", "n", "sat", "rated")}
    out.update(s1=0.0, s2=0.0)
    nps = nps_question(inst)
    for j, _ in enumerate(inst.dimension_ids):
        out.update({f"d{j}_n": 0, f"d{j}_s1": 0.0, f"d{j}_s2": 0.0})
    if nps:
        out.update(nps_n=0, nps_pro=0, nps_det=0)
    for r in rs:
        for k in ("responses", "n", "sat", "rated", "s1", "s2"):
            out[k] += getattr(r, k)
        for j, d in enumerate(inst.dimension_ids):
            v = (r.dims or {}).get(d)
            if v:
                out[f"d{j}_n"] += v[0]
                out[f"d{j}_s1"] += v[1]
                out[f"d{j}_s2"] += v[2]
        if nps and r.nps and r.nps.get("id") == nps:
            out["nps_n"] += r.nps["n"]
            out["nps_pro"] += r.nps["pro"]
            out["nps_det"] += r.nps["det"]
    return out
