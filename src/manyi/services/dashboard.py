"""Use cases of the staff dashboard: the scorecard aggregated in SQL on the stored scores, the
analysis panels on the filtered responses, the response browser and its export.

Everything is seen through a :class:`View` (the filter state a URL holds) and the account's
unit scope (:mod:`manyi.core.access`): an account never reads a response of a unit outside
its scope, whatever the filter says.

The scorecard never loads the responses: counts, sums and sums of squares of the stored index,
satisfied flags, dimension scores and NPS answers come from ``GROUP BY`` queries (overall, per
unit, per month), and the figures follow from those sums with the same formulas as
``manyi score`` (t interval on the index, Wilson on rates; docs/scoring.md).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, func, or_, select

from manyi.core.access import can, mask, narrowed, subtree
from manyi.core.instrument import Instrument
from manyi.core.localtime import LOCAL_TZ
from manyi.core.messages import ManyiError, Message
from manyi.core.stats import t_interval, wilson_interval
from manyi.io.instruments import parse_instrument
from manyi.services.accounts import Staff, audit
from manyi.store import db
from manyi.store.models import Campaign, Customer, InstrumentVersion, Invitation, OrgUnit, Response

SMALL_N = 30  # groups below this are flagged, as on the CLI
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
SEGMENT = re.compile(r"^[\w\-.]{1,64}$", re.UNICODE)
TZ_HOURS = 8  # months are counted in Asia/Shanghai time, as `manyi score --period month`


def local_time(t: Any) -> Any:
    """A stored instant (UTC; naive on SQLite) as staff read it: in Asia/Shanghai, the zone the
    months are counted in."""
    if t is None:
        return None
    from zoneinfo import ZoneInfo

    return db.instant(t).astimezone(ZoneInfo(LOCAL_TZ))


@dataclass(frozen=True)
class View:
    """The filter state of a dashboard page; :meth:`query` gives it back as URL parameters."""

    campaign: str | None = None
    instrument: str | None = None
    start: str | None = None  # first month, YYYY-MM
    end: str | None = None  # last month, YYYY-MM
    unit: str | None = None  # an organisation unit's code (with the units below it)
    source: str | None = None  # channel: web | api | import
    segments: tuple[tuple[str, str], ...] = ()
    q: str | None = None  # search in open comments (response browser)

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> View:
        """From URL parameters; ``seg.COLUMN=VALUE`` filters a segment column. Malformed
        months or segment names are left out (a filter never breaks a page)."""
        g = lambda k: (params.get(k) or "").strip() or None  # noqa: E731
        start, end = g("start"), g("end")
        segs = tuple(
            sorted(
                (k[4:], str(v).strip())
                for k, v in params.items()
                if k.startswith("seg.") and SEGMENT.match(k[4:]) and str(v).strip()
            )
        )
        return cls(
            campaign=g("campaign"),
            instrument=g("instrument"),
            start=start if start and MONTH.match(start) else None,
            end=end if end and MONTH.match(end) else None,
            unit=g("unit"),
            source=g("source") if g("source") in ("web", "api", "import") else None,
            segments=segs,
            q=(g("q") or "")[:100] or None,
        )

    def query(self, **change: Any) -> dict[str, str]:
        v = replace(self, **change) if change else self
        out = {
            k: getattr(v, k)
            for k in ("campaign", "instrument", "start", "end", "unit", "source", "q")
            if getattr(v, k)
        }
        out.update({f"seg.{k}": val for k, val in v.segments})
        return out


@dataclass
class Scope:
    """What a view of an account selects: campaigns, the instrument, the SQL conditions."""

    campaigns: list[Campaign]
    instrument: Instrument
    version_ids: list[int]
    where: list[Any]
    units: frozenset[int] | None
    unit_names: dict[int, tuple[str, str, str]] = field(default_factory=dict)  # code, zh, en
    parents: dict[int, int | None] = field(default_factory=dict)
    source: str = ""  # the instrument version's YAML text (it may define a CSI model)


def _month_start(m: str) -> pd.Timestamp:
    return pd.Timestamp(m + "-01", tz=LOCAL_TZ).tz_convert("UTC")


def month_of(s: Any):
    """The month (YYYY-MM, Asia/Shanghai) of a response, as SQL of the store's dialect."""
    if s.bind.dialect.name == "postgresql":
        return func.to_char(func.timezone(LOCAL_TZ, Response.submitted_at), "YYYY-MM")
    return func.strftime("%Y-%m", Response.submitted_at, f"+{TZ_HOURS} hours")


def campaigns_of(url: str | None = None) -> list[dict[str, Any]]:
    """Campaigns and instruments a dashboard can show."""
    with db.session(url) as s:
        rows = s.execute(
            select(Campaign.name, InstrumentVersion.instrument, Campaign.status)
            .join(InstrumentVersion, InstrumentVersion.id == Campaign.instrument_version_id)
            .order_by(Campaign.name)
        ).all()
        return [{"campaign": c, "instrument": i, "status": st} for c, i, st in rows]


def scope(s: Any, view: View, staff: Staff) -> Scope:
    q = select(Campaign, InstrumentVersion).join(
        InstrumentVersion, InstrumentVersion.id == Campaign.instrument_version_id
    )
    if view.campaign:
        q = q.where(Campaign.name == view.campaign)
    elif view.instrument:
        q = q.where(InstrumentVersion.instrument == view.instrument)
    rows = s.execute(q.order_by(Campaign.id)).all()
    if not rows:
        raise ManyiError(
            Message("store.no_campaign", {"name": view.campaign or view.instrument or "", "have": "–"})
        )
    if not view.campaign and not view.instrument:  # default: the newest campaign
        rows = rows[-1:]
    last = max((iv for _, iv in rows), key=lambda iv: iv.id)
    inst = _parsed(last.source)
    units = s.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en, OrgUnit.parent_id)).all()
    parents = {u.id: u.parent_id for u in units}
    names = {u.id: (u.code, u.name_zh, u.name_en) for u in units}
    allowed = staff.scope
    if view.unit:
        uid = next((u.id for u in units if u.code == view.unit), None)
        allowed = narrowed(allowed, subtree(uid, parents) if uid is not None else frozenset())
    where: list[Any] = [Response.campaign_id.in_([c.id for c, _ in rows])]
    if allowed is not None:
        where.append(Response.unit_id.in_(sorted(allowed)) if allowed else Response.id < 0)
    if view.start:
        where.append(Response.submitted_at >= _month_start(view.start).to_pydatetime())
    if view.end:
        nxt = (_month_start(view.end).tz_convert(LOCAL_TZ) + pd.offsets.MonthBegin(1)).tz_convert("UTC")
        where.append(Response.submitted_at < nxt.to_pydatetime())
    if view.source:
        where.append(Response.source == view.source)
    for col, val in view.segments:
        where.append(Response.answers[col].as_string() == val)
    if view.q:
        texts = [q.id for q in inst.questions if q.type == "text"]
        term = "%" + view.q.replace("\\", "").replace("%", "").replace("_", "") + "%"
        where.append(or_(*(Response.answers[t].as_string().ilike(term) for t in texts)) if texts else Response.id < 0)
    return Scope(
        [c for c, _ in rows], inst, sorted({iv.id for _, iv in rows}), where, allowed, names, parents,
        last.source,
    )


# --- the scorecard ---------------------------------------------------------------------------
def _figures(n, s1, s2, sat, rated) -> dict[str, Any]:
    """Index and satisfaction rate with their 95 % intervals from counts and sums."""
    n, s1, s2, sat, rated = (np.asarray(a, dtype=float) for a in (n, s1, s2, sat, rated))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        m2 = np.maximum(s2 - n * mean**2, 0.0)
        sd = np.where(n > 1, np.sqrt(m2 / np.maximum(n - 1, 1)), np.nan)
        lo, hi, _ = t_interval(mean, sd, n)
        rate = np.where(rated > 0, sat / rated, np.nan)
        rlo, rhi = wilson_interval(sat, rated)
    return {
        "csi": mean,
        "csi_sd": sd,
        "csi_ci_low": np.clip(lo, 0, 100),
        "csi_ci_high": np.clip(hi, 0, 100),
        "satisfied_rate": rate,
        "satisfied_rate_ci_low": rlo,
        "satisfied_rate_ci_high": rhi,
    }


def _f(x: Any) -> float | None:
    x = float(x)
    return None if np.isnan(x) else x


def _sums(s: Any, sc: Scope, group: Any | None = None) -> list[dict[str, Any]]:
    from manyi.services.rollup import sum_columns

    cols = sum_columns(sc.instrument)
    q = select(*([group.label("g")] if group is not None else []), *cols).where(and_(*sc.where))
    if group is not None:
        q = q.group_by(group).order_by(group)
    return [dict(r._mapping) for r in s.execute(q)]


def _row(inst: Instrument, r: dict[str, Any]) -> dict[str, Any]:
    f = _figures([r["n"]], [r["s1"]], [r["s2"]], [r["sat"]], [r["rated"]])
    out: dict[str, Any] = {
        "responses": int(r["responses"]),
        "n": int(r["n"]),
        "n_sum": float(r["s1"]),
        "n_sumsq": float(r["s2"]),
        "small": int(r["n"]) < SMALL_N,
        **{k: _f(v[0]) for k, v in f.items()},
        "satisfied_n": int(r["sat"]),
    }
    target = inst.scoring.target_rate
    out["target_rate"] = target
    rate = out["satisfied_rate"]
    out["target_met"] = None if rate is None or target is None else rate >= target - 1e-12
    dims = []
    for j, d in enumerate(inst.dimension_ids):
        fd = _figures([r[f"d{j}_n"]], [r[f"d{j}_s1"]], [r[f"d{j}_s2"]], [0], [0])
        dims.append(
            {
                "dimension": d,
                "n": int(r[f"d{j}_n"]),
                "score": _f(fd["csi"][0]),
                "ci_low": _f(fd["csi_ci_low"][0]),
                "ci_high": _f(fd["csi_ci_high"][0]),
            }
        )
    out["dimensions"] = dims
    if "nps_n" in r:
        nn = int(r["nps_n"])
        pro, det = int(r["nps_pro"]), int(r["nps_det"])
        if nn:
            p, d = pro / nn, det / nn
            # NPS as the mean of +1/0/−1 codes: its variance is p + d − (p − d)²
            se = np.sqrt(max(p + d - (p - d) ** 2, 0.0) / nn) if nn > 1 else np.nan
            from manyi.core.stats import Z95

            nps = 100 * (p - d)
            out["nps"] = {
                "n": nn,
                "nps": nps,
                "ci_low": _f(max(-100.0, nps - 100 * Z95 * se)),
                "ci_high": _f(min(100.0, nps + 100 * Z95 * se)),
                "promoters": pro,
                "detractors": det,
            }
    return out


def _change(prev: dict[str, Any], cur: dict[str, Any]) -> dict[str, Any]:
    """The change of the index against the previous period: Welch's t test on the sums, and
    the two-proportion z test for the satisfaction rate."""
    from scipy.special import ndtr, stdtr

    out: dict[str, Any] = {"csi_change": None, "csi_p": None, "rate_change": None, "rate_p": None}
    if prev["csi"] is not None and cur["csi"] is not None:
        out["csi_change"] = cur["csi"] - prev["csi"]
        if prev["n"] > 1 and cur["n"] > 1 and prev["csi_sd"] is not None and cur["csi_sd"] is not None:
            va, vb = prev["csi_sd"] ** 2 / prev["n"], cur["csi_sd"] ** 2 / cur["n"]
            if va + vb > 0:
                t = (cur["csi"] - prev["csi"]) / np.sqrt(va + vb)
                dof = (va + vb) ** 2 / (va**2 / (prev["n"] - 1) + vb**2 / (cur["n"] - 1))
                out["csi_p"] = float(2 * stdtr(dof, -abs(t)))
    pa, pb = prev["satisfied_rate"], cur["satisfied_rate"]
    if pa is not None and pb is not None:
        out["rate_change"] = pb - pa
        na, nb = prev["n"], cur["n"]
        pool = (pa * na + pb * nb) / (na + nb)
        se = np.sqrt(pool * (1 - pool) * (1 / na + 1 / nb)) if na and nb else 0.0
        if se > 0:
            out["rate_p"] = float(2 * ndtr(-abs((pb - pa) / se)))
    return out


def scorecard(view: View, staff: Staff, url: str | None = None) -> dict[str, Any]:
    """The scorecard of a view: overall, dimensions, NPS, response rate, per unit (with the
    unit tree) and per month (with the significance of each change). Without segment or text
    filters it adds up the rollup (:mod:`manyi.services.rollup`), else it aggregates the
    matching responses in SQL; both give the same sums."""
    if not staff.can("dashboard"):
        raise PermissionError("dashboard")
    fast = not view.segments and not view.q
    if fast:
        from manyi.services import rollup

        with db.session(url) as s:
            sc = scope(s, view, staff)
            versions = dict(
                s.execute(
                    select(InstrumentVersion.id, InstrumentVersion.source).where(
                        InstrumentVersion.id.in_([c.instrument_version_id for c in sc.campaigns])
                    )
                ).all()
            )
        rollup.refresh_all(
            [(c.id, _parsed(versions[c.instrument_version_id])) for c in sc.campaigns], url
        )
    with db.session(url) as s:
        sc = scope(s, view, staff)
        inst = sc.instrument
        if fast:
            rs = rollup.rows(s, [c.id for c in sc.campaigns], sc.units, view.start, view.end, view.source)
            total = rollup.as_sums(rs, inst)
            by_unit: dict[Any, list[Any]] = {}
            by_month: dict[Any, list[Any]] = {}
            for r in rs:
                by_unit.setdefault(r.unit_id, []).append(r)
                by_month.setdefault(r.month, []).append(r)
            unit_rows = [{"g": k, **rollup.as_sums(v, inst)} for k, v in sorted(by_unit.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))]
            month_rows = [{"g": k, **rollup.as_sums(v, inst)} for k, v in sorted(by_month.items(), key=lambda kv: (kv[0] is None, kv[0] or ""))]
        else:
            total = _sums(s, sc)[0]
            unit_rows = _sums(s, sc, Response.unit_id)
            month_rows = _sums(s, sc, month_of(s))
        overall = _row(inst, total)
        units = []
        for r in unit_rows:
            uid = r["g"]
            code, zh, en = sc.unit_names.get(uid, ("", "", "")) if uid is not None else ("", "", "")
            units.append({"unit_id": uid, "unit": code, "name_zh": zh, "name_en": en,
                          "parent": sc.parents.get(uid) if uid is not None else None, **_row(inst, r)})
        trend, undated = [], 0
        for r in month_rows:
            if r["g"] is None:  # no submission time: in every figure but the trend
                undated = int(r["n"])
                continue
            row = {"period": r["g"], **_row(inst, r)}
            if trend:
                row.update(_change(trend[-1], row))
            trend.append(row)
        cids = [c.id for c in sc.campaigns]
        inv_q = select(func.count(Invitation.id), func.count(Invitation.answered_at)).where(
            Invitation.campaign_id.in_(cids)
        )
        if sc.units is not None:
            inv_q = inv_q.join(Customer, Customer.id == Invitation.customer_id).where(
                Customer.unit_id.in_(sorted(sc.units) or [-1])
            )
        sent, answered = s.execute(inv_q).one()
    return {
        "campaigns": [c.name for c in sc.campaigns],
        "instrument": inst.id,
        "labels": inst.labels(),
        "segment_questions": inst.segment_columns,
        "overall": overall,
        "units": units,
        "trend": trend,
        "undated": undated,
        "invitations": {"sent": sent, "answered": answered, "rate": (answered / sent) if sent else None},
        "view": view.query(),
        "unit_parents": sc.parents,
        "unit_names": sc.unit_names,
    }


def _parsed(source: str) -> Instrument:
    """A stored instrument version, parsed once per process."""
    from manyi.services.survey import _instrument

    return _instrument(source, "stored instrument")


def unit_id(code: str, url: str | None = None) -> int | None:
    with db.session(url) as s:
        return s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def unit_list(url: str | None = None) -> list[tuple[str, str, str]]:
    """Every unit as (code, Chinese name, English name)."""
    with db.session(url) as s:
        return [tuple(r) for r in s.execute(select(OrgUnit.code, OrgUnit.name_zh, OrgUnit.name_en).order_by(OrgUnit.code))]


def unit_children(card: dict[str, Any], staff: Staff, url: str | None = None) -> list[dict[str, Any]]:
    """The drill-down: each unit one level below the view's unit (or below the account's own
    unit, or the top units), with the figures of its whole subtree (sums are additive)."""
    parents: dict[int, int | None] = card["unit_parents"]
    names = card["unit_names"]
    code = card["view"].get("unit") or staff.unit
    here = next((u for u, n in names.items() if n[0] == code), None) if code else None
    kids = [u for u, p in parents.items() if p == here]
    if here is not None and not kids:  # a unit without units below it: the unit itself
        kids = [here]
    if staff.scope is not None:
        kids = [u for u in kids if u in staff.scope]
    rows = {u["unit_id"]: u for u in card["units"] if u["unit_id"] is not None}
    out = []
    for k in sorted(kids, key=lambda u: names[u][0]):
        sub = subtree(k, parents) or frozenset()
        rs = [rows[u] for u in sub if u in rows]
        n = sum(r["n"] for r in rs)
        s1 = sum(r["n_sum"] for r in rs)
        s2 = sum(r["n_sumsq"] for r in rs)
        sat = sum(r["satisfied_n"] for r in rs)
        rated = sum(r["n"] for r in rs)
        f = _figures([n], [s1], [s2], [sat], [rated])
        code_k, zh, en = names[k]
        out.append({"unit": code_k, "name_zh": zh, "name_en": en, "n": n, "small": n < SMALL_N,
                    "has_children": any(p == k for p in parents.values()),
                    **{key: _f(v[0]) for key, v in f.items()}})
    return out


def scorecard_result(card: dict[str, Any], tr: Any = None) -> Any:
    """The scorecard as a :class:`~manyi.core.result.Result` of kind ``scorecard`` (tables
    ``dimensions``, ``units``, ``trend``), what the one charting module draws."""
    from manyi.core.result import Result

    dims = pd.DataFrame(card["overall"]["dimensions"])
    keep = ["n", "csi", "csi_ci_low", "csi_ci_high", "satisfied_rate", "small"]
    none = tr("staff.no_unit_label") if tr is not None else "–"
    units = pd.DataFrame([{"unit": u["unit"] or none, **{k: u[k] for k in keep}} for u in card["units"]])
    labels = dict(card["labels"])
    for u in card["units"]:
        if u["unit"]:
            labels[u["unit"]] = {"zh": u["name_zh"] or u["unit"], "en": u["name_en"] or u["unit"]}
    trend = pd.DataFrame([{"period": t["period"], **{k: t[k] for k in keep}} for t in card["trend"]])
    return Result(
        "scorecard",
        card["overall"]["n"],
        {"dimensions": dims, "units": units, "trend": trend},
        params={"target_rate": card["overall"]["target_rate"], "campaigns": card["campaigns"]},
        labels=labels,
    )


# --- analysis panels -------------------------------------------------------------------------
def frame(view: View, staff: Staff, url: str | None = None) -> tuple[Instrument, pd.DataFrame]:
    """The filtered responses as the reader's clean table (for the panels that need answers)."""
    inst, data, _ = _frame(view, staff, url)
    return inst, data


def _frame(view: View, staff: Staff, url: str | None) -> tuple[Instrument, pd.DataFrame, str]:
    from manyi.services.store import campaign_frame_where

    with db.session(url) as s:
        sc = scope(s, view, staff)
        return sc.instrument, campaign_frame_where(s, sc.instrument, sc.where), sc.source


PANELS = ("servqual", "ipa", "drivers", "spc")


def panels(view: View, staff: Staff, url: str | None = None) -> list[tuple[str, Any]]:
    """The landed analyses on the filtered responses: (name, result or message) for each one
    the instrument supports. SPC runs on the index by month. Kept per filter, account scope
    and data version, so a second look at a view does not read the responses again."""

    if not staff.can("dashboard"):
        raise PermissionError("dashboard")
    with db.session(url) as s:
        sc = scope(s, view, staff)
        version = s.scalar(
            select(func.max(Response.id)).where(Response.campaign_id.in_([c.id for c in sc.campaigns]))
        )
    key = (url, tuple(sorted(view.query().items())), sc.units, version)
    if key in _PANELS:
        return _PANELS[key]
    out = _panels(view, staff, url)
    _PANELS[key] = out
    while len(_PANELS) > 32:  # the oldest filters go first
        _PANELS.pop(next(iter(_PANELS)))
    return out


#: Panels per filter and data version (the newest response id): responses are only added,
#: so a new response makes a new key and an old entry is never wrong.
_PANELS: dict[Any, list[tuple[str, Any]]] = {}


def _panels(view: View, staff: Staff, url: str | None) -> list[tuple[str, Any]]:
    from manyi.io.responses import ResponseSet, ValidationReport
    from manyi.services.analysis import Options, analyze

    inst, data, source = _frame(view, staff, url)
    out: list[tuple[str, Any]] = []
    if data.empty:
        return out
    rs = ResponseSet(data, inst, ValidationReport(source="store", rows_read=len(data), rows_used=len(data), rows_rejected=0), np.arange(len(data)))
    for name in PANELS:
        if name == "servqual" and not any(i.expectation for i in inst.items):
            continue
        if name == "ipa" and not (any(i.importance for i in inst.items) or len(data) >= 10):
            continue
        opts = Options(period="month", seed=1) if name == "spc" else Options(seed=1)
        try:
            out.append((name, analyze(name, rs, None, opts)))
        except ManyiError as exc:
            out.append((name, exc.messages[0] if exc.messages else Message("web.internal")))
    if "\nmodel:" in source:  # the instrument defines a CSI model: fit it (PLS, bootstrap)
        from manyi.io.models import load_model

        try:
            pls, _ = load_model(source.encode("utf-8"), "instrument.yaml")
            out.append(("model", pls.fit(data, bootstrap=MODEL_BOOTSTRAP, seed=1)))
        except ManyiError as exc:
            out.append(("model", exc.messages[0] if exc.messages else Message("web.internal")))
    return out


MODEL_BOOTSTRAP = 1000  # resamples of the CSI model's bootstrap on the dashboard


# --- the response browser --------------------------------------------------------------------
def browse(view: View, staff: Staff, page: int = 1, per_page: int = 50, url: str | None = None) -> dict[str, Any]:
    """One page of the filtered responses, newest first, and how many there are."""
    if not staff.can("responses"):
        raise PermissionError("responses")
    page = max(1, page)
    with db.session(url) as s:
        sc = scope(s, view, staff)
        total = s.scalar(select(func.count(Response.id)).where(and_(*sc.where))) or 0
        rows = s.execute(
            select(Response, Campaign.name)
            .join(Campaign, Campaign.id == Response.campaign_id)
            .where(and_(*sc.where))
            .order_by(Response.submitted_at.desc().nulls_last(), Response.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).all()
        texts = [q.id for q in sc.instrument.questions if q.type == "text"]
        items = [
            {
                "id": r.id,
                "campaign": cname,
                "response_id": r.response_id,
                "submitted_at": local_time(r.submitted_at),
                "unit": sc.unit_names.get(r.unit_id, ("",))[0] if r.unit_id else "",
                "csi": r.csi,
                "satisfied": r.satisfied,
                "source": r.source,
                "comment": " / ".join(str(r.answers.get(t)) for t in texts if r.answers.get(t)),
            }
            for r, cname in rows
        ]
    return {"total": total, "page": page, "pages": max(1, -(-total // per_page)), "items": items}


def _customer(s: Any, code: str | None, staff: Staff, export: bool = False) -> dict[str, Any] | None:
    if not code:
        return None
    c = s.scalar(select(Customer).where(Customer.code == code))
    if c is None:
        return None
    show = staff.can("export_personal_data") if export else staff.can("personal_data")
    contact = dict(c.contact or {})
    out = {"code": c.code, "name": c.name, "type": c.type, "tier": c.tier,
           "phone": contact.get("phone"), "email": contact.get("email")}
    if not show:
        out["name"] = mask(out["name"], "name")
        out["phone"] = mask(out["phone"], "phone")
        out["email"] = mask(out["email"], "email")
    return out


def response(rid: int, staff: Staff, url: str | None = None) -> dict[str, Any] | None:
    """One stored response with its answers and scores; None when it does not exist,
    PermissionError when it lies outside the account's units."""
    if not staff.can("responses"):
        raise PermissionError("responses")
    with db.session(url) as s:
        r = s.get(Response, rid)
        if r is None:
            return None
        if staff.scope is not None and r.unit_id not in staff.scope:
            raise PermissionError("unit")
        c = s.get(Campaign, r.campaign_id)
        iv = s.get(InstrumentVersion, r.instrument_version_id)
        inst = parse_instrument(iv.source, f"{iv.instrument} v{iv.version}")
        unit = s.get(OrgUnit, r.unit_id) if r.unit_id else None
        return {
            "id": r.id,
            "campaign": c.name,
            "instrument": inst,
            "response_id": r.response_id,
            "submitted_at": local_time(r.submitted_at),
            "source": r.source,
            "unit": unit.code if unit else "",
            "csi": r.csi,
            "satisfied": r.satisfied,
            "dimensions": r.dimensions,
            "items": r.items or {},
            "answers": r.answers,
            "customer": _customer(s, r.customer_code, staff),
        }


def export(view: View, staff: Staff, fmt: str, lang: str, ip: str | None = None, url: str | None = None) -> bytes:
    """The filtered responses as CSV or XLSX, headers and choice labels in ``lang``, customers'
    personal data masked unless the role may export it; the export is audited."""
    from manyi.i18n import translator

    if not staff.can("export"):
        raise PermissionError("export")
    if fmt not in ("csv", "xlsx"):
        raise ManyiError(Message("an.bad_option", {"option": "format", "value": fmt, "choices": "csv, xlsx"}))
    tr = translator(lang)
    with db.session(url) as s:
        sc = scope(s, view, staff)
        inst = sc.instrument
        rows = s.execute(
            select(Response, Campaign.name)
            .join(Campaign, Campaign.id == Response.campaign_id)
            .where(and_(*sc.where))
            .order_by(Response.id)
        ).all()
        labels = inst.labels()
        recs = []
        for r, cname in rows:
            rec: dict[str, Any] = {
                tr("column.campaign"): cname,
                tr("column.response_id"): r.response_id,
                tr("column.submitted_at"): local_time(r.submitted_at).isoformat() if r.submitted_at else "",
                tr("column.unit"): sc.unit_names.get(r.unit_id, ("",))[0] if r.unit_id else "",
                tr("column.source"): r.source,
            }
            cust = _customer(s, r.customer_code, staff, export=True)
            rec[tr("column.customer")] = r.customer_code or ""
            rec[tr("column.customer_name")] = (cust or {}).get("name") or ""
            rec[tr("column.phone")] = (cust or {}).get("phone") or ""
            for it in inst.items:
                rec[_label(labels, it.id, lang)] = r.answers.get(it.id)
            for q in inst.questions:
                v = r.answers.get(q.id)
                if q.type == "choice" and v is not None:
                    v = _choice_label(q, v, lang)
                rec[_label(labels, q.id, lang)] = v
            for d in inst.dimension_ids:
                rec[_label(labels, d, lang)] = r.dimensions.get(d)
            rec[tr("column.csi")] = r.csi
            rec[tr("column.satisfied")] = r.satisfied
            recs.append(rec)
    df = pd.DataFrame.from_records(recs)
    audit(staff.username, "export", ",".join(c.name for c in sc.campaigns),
          {"format": fmt, "rows": len(df), "filter": view.query(), "lang": lang}, ip, url)
    if fmt == "csv":
        buf = io.StringIO()
        df.to_csv(buf, index=False, quoting=csv.QUOTE_MINIMAL)
        return ("\ufeff" + buf.getvalue()).encode("utf-8")  # BOM: Excel opens Chinese right
    out = io.BytesIO()
    with pd.ExcelWriter(out, engine="openpyxl") as xw:
        df.to_excel(xw, index=False, sheet_name="responses")
        ws = xw.sheets["responses"]
        ws.freeze_panes = "A2"
    return out.getvalue()


def _label(labels: Mapping[str, Any], key: str, lang: str) -> str:
    lab = labels.get(key)
    if isinstance(lab, Mapping):
        return str(lab.get(lang) or lab.get("en") or lab.get("zh") or key)
    return str(lab or key)


def _choice_label(q: Any, code: Any, lang: str) -> Any:
    for ch in q.choices or []:
        cid = ch if isinstance(ch, str) else ch.id
        if str(cid) == str(code):
            return ch if isinstance(ch, str) else (getattr(ch.label, lang, None) or cid)
    return code


def may(staff: Staff | None, action: str) -> bool:
    return staff is not None and can(staff.role, action)
