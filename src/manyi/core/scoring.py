"""Weighted satisfaction scores: per response and per group, with their uncertainty.

Definitions (REFERENCES.md, DOMAIN.md §1):

* item points: ``range`` (x − min)/(max − min)·100 (ACSI habit), ``ratio`` x/max·100
  (4 of 5 → 80, the habit of Chinese company reports);
* dimension score: weighted mean of the answered items' points, the item weights renormalised
  over the answered items; missing when the answered items carry less than ``min_answered``
  of the dimension's weight;
* overall index (CSI): the same rule one level up, over dimensions with dimension weights;
* satisfied: overall ≥ ``satisfied_at``; satisfaction rate with a Wilson interval;
* NPS (Reichheld 2003), CSAT (top-2-box share; top-3 on scales of 10 or more points),
  CES (mean);
* expectation pairs: gap P − E on 0–100 points and the ratio P/E (满意 = 感知 ÷ 期望) of the
  mean answers expressed as x/max, so the ratio does not depend on ``points``.

Everything is vectorised: responses are a dense float matrix, groups are aggregated with one
sparse indicator-matrix product, so a million responses score in well under a second.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse

from manyi.core.instrument import Instrument, Scale
from manyi.core.stats import nps_estimate, t_interval, wilson_interval
from manyi.i18n import ManyiError, Message

SMALL_SAMPLE = 30
PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}


# --------------------------------------------------------------------------------------
# Per response
# --------------------------------------------------------------------------------------
def to_points(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, mode: str) -> np.ndarray:
    """Answers on their scales (columns) to 0-100 points, by ``range`` or ``ratio``."""
    if mode == "ratio":
        return values / hi * 100.0
    return (values - lo) / (hi - lo) * 100.0


def weighted_means(
    points: np.ndarray, weights: np.ndarray, member: np.ndarray, min_answered: float
) -> np.ndarray:
    """Row-wise weighted means over column blocks, weights renormalised over answered cells.

    ``points`` n×k (NaN = missing), ``weights`` k (each block's weights sum to 1),
    ``member`` k×m 0/1 block membership. A block whose answered weight share is below
    ``min_answered`` is NaN.
    """
    mask = ~np.isnan(points)
    filled = np.where(mask, points, 0.0)
    num = (filled * weights) @ member
    cover = (mask * weights) @ member
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / cover
    out[cover < min_answered - 1e-9] = np.nan
    return out


@dataclass
class ResponseScores:
    """Per-response numbers, as arrays aligned with the response rows."""

    points: np.ndarray  # n × items, 0-100
    dimensions: np.ndarray  # n × dimensions
    csi: np.ndarray  # n
    satisfied: np.ndarray  # n, float: 1, 0 or NaN when csi is missing


def _scale_bounds(scales: list[Scale]) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([s.min for s in scales], dtype=float),
        np.array([s.max for s in scales], dtype=float),
    )


def score_responses(inst: Instrument, values: np.ndarray) -> ResponseScores:
    """Score an n × items matrix of answers (already reversed where the item says so)."""
    items = inst.items
    lo, hi = _scale_bounds([i.scale for i in items])
    pts = to_points(np.asarray(values, dtype=float), lo, hi, inst.scoring.points)
    w = np.array([i.weight for i in items])
    dim_index = {d: j for j, d in enumerate(inst.dimension_ids)}
    member = np.zeros((len(items), len(dim_index)))
    for k, it in enumerate(items):
        member[k, dim_index[it.dimension]] = 1.0
    dims = weighted_means(pts, w, member, inst.scoring.min_answered)
    csi = weighted_means(
        dims, inst.dimension_weights, np.ones((len(dim_index), 1)), inst.scoring.min_answered
    )[:, 0]
    sat = np.where(np.isnan(csi), np.nan, (csi >= inst.scoring.satisfied_at - 1e-9).astype(float))
    return ResponseScores(pts, dims, csi, sat)


# --------------------------------------------------------------------------------------
# Per group
# --------------------------------------------------------------------------------------
class _Aggregator:
    """Sums of columns per group through one sparse indicator matrix (groups × rows)."""

    def __init__(self, codes: np.ndarray, n_groups: int):
        n = len(codes)
        keep = codes >= 0
        self.ind = sparse.csr_matrix(
            (np.ones(int(keep.sum())), (codes[keep], np.flatnonzero(keep))), shape=(n_groups, n)
        )
        self.codes = codes

    def sums(self, matrix: np.ndarray) -> np.ndarray:
        return np.asarray(self.ind @ np.asarray(matrix, dtype=float))

    def mean_count(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Column means ignoring NaN, and the counts behind them."""
        mask = ~np.isnan(x)
        cnt = self.sums(mask.astype(float))
        tot = self.sums(np.where(mask, x, 0.0))
        with np.errstate(invalid="ignore", divide="ignore"):
            return tot / cnt, cnt

    def sd(self, x: np.ndarray, mean: np.ndarray, cnt: np.ndarray) -> np.ndarray:
        """Sample standard deviation (n − 1), two-pass for accuracy."""
        mask = ~np.isnan(x)
        mg = np.zeros_like(x)
        ok = self.codes >= 0
        mg[ok] = mean[self.codes[ok]]
        dev2 = np.where(mask, (x - mg) ** 2, 0.0)
        ss = self.sums(dev2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(cnt >= 2, np.sqrt(ss / (cnt - 1)), np.nan)


def _top_box_threshold(scale: Scale) -> float:
    """Lowest answer in the top box: top-2 on short scales, top-3 on scales of 10+ points."""
    k = 3 if scale.points >= 10 else 2
    return scale.max - (k - 1)


def period_labels(ts: pd.Series, period: str) -> pd.Series:
    """month → '2026-03', quarter → '2026Q1', year → '2026' (in the timestamps' own zone)."""
    if period not in PERIODS:
        raise ManyiError(Message("score.bad_period", {"period": period}))
    ts = pd.to_datetime(ts)
    if period == "month":
        out = ts.dt.strftime("%Y-%m")
    elif period == "quarter":
        out = (
            ts.dt.year.astype("Int64").astype(str) + "Q" + ts.dt.quarter.astype("Int64").astype(str)
        )
    else:
        out = ts.dt.year.astype("Int64").astype(str)
    return out.where(ts.notna(), None).astype(object)


@dataclass
class ScoreResult:
    """Scores of one instrument over responses: groups, respondents, gaps, total."""

    instrument: Instrument
    keys: list[str]
    groups: pd.DataFrame
    total: pd.DataFrame
    respondents: pd.DataFrame
    gaps: pd.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    report: Any = None

    def _group_dict(self, row: pd.Series) -> dict[str, Any]:
        inst = self.instrument

        def num(v: Any) -> float | None:
            return None if v is None or pd.isna(v) else float(v)

        g: dict[str, Any] = {
            "keys": {k: (None if pd.isna(row[k]) else str(row[k])) for k in self.keys},
            "n": int(row["n"]),
            "n_responses": int(row["n_responses"]),
            "csi": num(row["csi"]),
            "csi_sd": num(row["csi_sd"]),
            "csi_ci": [num(row["csi_ci_low"]), num(row["csi_ci_high"])],
            "margin_of_error": num(row["csi_moe"]),
            "satisfied_n": int(row["satisfied_n"]),
            "satisfied_rate": num(row["satisfied_rate"]),
            "satisfied_rate_ci": [
                num(row["satisfied_rate_ci_low"]),
                num(row["satisfied_rate_ci_high"]),
            ],
            "target_rate": float(row["target_rate"]),
            "meets_target": None if pd.isna(row["meets_target"]) else bool(row["meets_target"]),
            "nps": num(row.get("nps")),
            "nps_n": int(row["nps_n"]) if "nps_n" in row else 0,
            "nps_se": num(row.get("nps_se")),
            "nps_ci": [num(row.get("nps_ci_low")), num(row.get("nps_ci_high"))],
            "csat": num(row.get("csat")),
            "ces": num(row.get("ces")),
            "dimensions": {d: num(row[f"dim_{d}"]) for d in inst.dimension_ids},
            "top2box": {i: num(row[f"t2b_{i}"]) for i in inst.item_ids},
            "small_sample": bool(row["small_sample"]),
        }
        return g

    def _gap_dict(self, mask: pd.Series) -> dict[str, Any]:
        out: dict[str, Any] = {"items": {}, "dimensions": {}}
        for _, r in self.gaps[mask].iterrows():
            level = "items" if r["level"] == "item" else "dimensions"
            out[level][r["id"]] = {
                "n": int(r["n"]),
                "perception": None if pd.isna(r["perception"]) else float(r["perception"]),
                "expectation": None if pd.isna(r["expectation"]) else float(r["expectation"]),
                "gap": None if pd.isna(r["gap"]) else float(r["gap"]),
                "ratio": None if pd.isna(r["ratio"]) else float(r["ratio"]),
            }
        return out

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        groups = []
        for i, row in self.groups.iterrows():
            g = self._group_dict(row)
            if len(self.gaps):
                g["gaps"] = self._gap_dict(self.gaps["group"] == i)
            groups.append(g)
        total = self._group_dict(self.total.iloc[0])
        if len(self.gaps):
            total["gaps"] = self._gap_dict(self.gaps["group"] == -1)
        return {
            "instrument": self.instrument.id,
            "instrument_version": self.instrument.version,
            "by": self.keys,
            "groups": groups,
            "total": total,
            "rejected": list(self.rejected),
            "warnings": [m.render(lang) for m in self.warnings],
        }


def _group_table(
    inst: Instrument,
    agg: _Aggregator,
    n_groups: int,
    rs: ResponseScores,
    values: np.ndarray,
    metrics: dict[str, np.ndarray],
) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    cols["n_responses"] = agg.sums(np.ones(len(rs.csi)))
    mean, cnt = agg.mean_count(rs.csi)
    sd = agg.sd(rs.csi, mean, cnt)
    lo, hi, half = t_interval(mean, sd, cnt)
    cols.update(n=cnt, csi=mean, csi_sd=sd, csi_ci_low=lo, csi_ci_high=hi, csi_moe=half)
    sat_n = agg.sums(np.nan_to_num(rs.satisfied))
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = sat_n / cnt
    rlo, rhi = wilson_interval(sat_n, cnt)
    target = inst.scoring.target_rate
    cols.update(
        satisfied_n=sat_n,
        satisfied_rate=np.where(cnt > 0, rate, np.nan),
        satisfied_rate_ci_low=rlo,
        satisfied_rate_ci_high=rhi,
        target_rate=np.full(n_groups, target),
        meets_target=pd.array(
            [None if c == 0 else bool(r >= target - 1e-12) for r, c in zip(rate, cnt, strict=True)],
            dtype="boolean",
        ),
    )
    dmean, _ = agg.mean_count(rs.dimensions)
    for j, d in enumerate(inst.dimension_ids):
        cols[f"dim_{d}"] = dmean[:, j]
    # top-2-box share per item, on the answers as reversed on read
    answered = ~np.isnan(values)
    thr = np.array([_top_box_threshold(i.scale) for i in inst.items])
    top = (values >= thr - 1e-9) & answered
    tsum, tcnt = agg.sums(top.astype(float)), agg.sums(answered.astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        t2b = tsum / tcnt
    for k, i in enumerate(inst.item_ids):
        cols[f"t2b_{i}"] = t2b[:, k]

    if "nps" in metrics:
        x = metrics["nps"]
        ans = ~np.isnan(x)
        s = agg.sums(np.column_stack([(x >= 9) & ans, (x <= 6) & ans, ans]).astype(float))
        nps, se, nlo, nhi = nps_estimate(s[:, 0], s[:, 1], s[:, 2])
        cols.update(nps=nps, nps_n=s[:, 2], nps_se=se, nps_ci_low=nlo, nps_ci_high=nhi)
    else:
        cols.update(nps=np.full(n_groups, np.nan), nps_n=np.zeros(n_groups))
    if "csat" in metrics:
        q = inst.metric_question("csat")
        assert q is not None and q.scale_name is not None
        x = metrics["csat"]
        ans = ~np.isnan(x)
        thr_c = _top_box_threshold(inst.scales[q.scale_name])
        s = agg.sums(np.column_stack([(x >= thr_c - 1e-9) & ans, ans]).astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            cols.update(csat=100 * s[:, 0] / s[:, 1], csat_n=s[:, 1])
    if "ces" in metrics:
        m, c = agg.mean_count(metrics["ces"])
        cols.update(ces=m, ces_n=c)
    cols["small_sample"] = cols["n"] < SMALL_SAMPLE
    df = pd.DataFrame(cols)
    for c in ("n_responses", "n", "satisfied_n", "nps_n", "csat_n", "ces_n"):
        if c in df:
            df[c] = df[c].round().astype(int)
    return df


def _gap_rows(
    inst: Instrument,
    agg: _Aggregator,
    values: np.ndarray,
    expected: dict[str, np.ndarray],
    rows: list[dict[str, Any]],
    group_ids: np.ndarray,
) -> None:
    """Append gap rows (item and dimension level) for every group of ``agg``."""
    items = [i for i in inst.items if i.id in expected]
    if not items:
        return
    idx = [inst.item_ids.index(i.id) for i in items]
    P = values[:, idx]
    E = np.column_stack([expected[i.id] for i in items])
    both = ~np.isnan(P) & ~np.isnan(E)
    P = np.where(both, P, np.nan)
    E = np.where(both, E, np.nan)
    lo, hi = _scale_bounds([i.scale for i in items])
    mode = inst.scoring.points
    Pp, Ep = to_points(P, lo, hi, mode), to_points(E, lo, hi, mode)
    Pr, Er = P / hi, E / hi  # ratio view for P/E
    gm, gc = agg.mean_count(Pp - Ep)
    pm, _ = agg.mean_count(Pp)
    em, _ = agg.mean_count(Ep)
    prm, _ = agg.mean_count(Pr)
    erm, _ = agg.mean_count(Er)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = prm / erm
    for g_i, g in enumerate(group_ids):
        for k, it in enumerate(items):
            rows.append(
                dict(
                    group=g,
                    level="item",
                    id=it.id,
                    dimension=it.dimension,
                    n=gc[g_i, k],
                    perception=pm[g_i, k],
                    expectation=em[g_i, k],
                    gap=gm[g_i, k],
                    ratio=ratio[g_i, k],
                )
            )
    # dimensions: per respondent, P and E over the paired items of the dimension
    dims = [d for d in inst.dimension_ids if any(i.dimension == d for i in items)]
    w = np.array([i.weight for i in items])
    member = np.zeros((len(items), len(dims)))
    for k, it in enumerate(items):
        member[k, dims.index(it.dimension)] = 1.0
    w = w / (w @ member @ member.T)  # renormalise over the items that have expectations
    ma = inst.scoring.min_answered
    dP, dE = weighted_means(Pp, w, member, ma), weighted_means(Ep, w, member, ma)
    dPr, dEr = weighted_means(Pr, w, member, ma), weighted_means(Er, w, member, ma)
    gm, gc = agg.mean_count(dP - dE)
    pm, _ = agg.mean_count(dP)
    em, _ = agg.mean_count(dE)
    prm, _ = agg.mean_count(dPr)
    erm, _ = agg.mean_count(dEr)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = prm / erm
    for g_i, g in enumerate(group_ids):
        for j, d in enumerate(dims):
            rows.append(
                dict(
                    group=g,
                    level="dimension",
                    id=d,
                    dimension=d,
                    n=gc[g_i, j],
                    perception=pm[g_i, j],
                    expectation=em[g_i, j],
                    gap=gm[g_i, j],
                    ratio=ratio[g_i, j],
                )
            )


def score_frame(
    inst: Instrument,
    data: pd.DataFrame,
    by: list[str] | None = None,
    period: str | None = None,
) -> ScoreResult:
    """Score a clean response frame (numeric item columns, reversed on read).

    ``by`` names segment columns; ``period`` (month, quarter, year) groups by
    ``submitted_at``. Returns a :class:`ScoreResult`.
    """
    by = list(by or [])
    warnings: list[Message] = []
    n = len(data)
    for col in by:
        if col not in data.columns:
            raise ManyiError(
                Message(
                    "score.unknown_by",
                    {"column": col, "have": ", ".join(map(str, data.columns[:12]))},
                )
            )
    values = (
        np.column_stack(
            [
                data[i].to_numpy(dtype=float, na_value=np.nan) if i in data else np.full(n, np.nan)
                for i in inst.item_ids
            ]
        )
        if n
        else np.empty((0, len(inst.item_ids)))
    )
    rs = score_responses(inst, values)

    keys = list(by)
    key_frame = pd.DataFrame(
        {k: data[k].astype(object).where(data[k].notna(), None) for k in by}, index=data.index
    )
    if period:
        if "submitted_at" not in data.columns or data["submitted_at"].isna().all():
            raise ManyiError(Message("score.no_dates"))
        key_frame["period"] = period_labels(data["submitted_at"], period).to_numpy()
        keys.append("period")
        missing = int(key_frame["period"].isna().sum())
        if missing:
            warnings.append(Message("score.no_period_date", {"n": missing}))

    if keys:
        grouped = key_frame.groupby(keys, sort=True, dropna=False, observed=True)
        codes = grouped.ngroup().to_numpy()
        n_groups = int(codes.max()) + 1 if n else 0
        key_rows = key_frame.assign(_g=codes).drop_duplicates("_g").sort_values("_g")
        key_values = key_rows[keys].reset_index(drop=True)
    else:
        codes = np.zeros(n, dtype=np.int64)
        n_groups = 1
        key_values = pd.DataFrame(index=range(1))

    metrics: dict[str, np.ndarray] = {}
    for m in ("nps", "csat", "ces"):
        q = inst.metric_question(m)
        if q is not None and q.id in data:
            metrics[m] = data[q.id].to_numpy(dtype=float, na_value=np.nan)

    agg = _Aggregator(codes, n_groups)
    table = _group_table(inst, agg, n_groups, rs, values, metrics)
    groups = pd.concat([key_values, table], axis=1)
    total_agg = _Aggregator(np.zeros(n, dtype=np.int64), 1)
    total = _group_table(inst, total_agg, 1, rs, values, metrics)
    for k in reversed(keys):
        total.insert(0, k, [None])

    expected = {
        i.id: data[f"{i.id}__expected"].to_numpy(dtype=float, na_value=np.nan)
        for i in inst.items
        if i.expectation and f"{i.id}__expected" in data
    }
    gap_rows: list[dict[str, Any]] = []
    _gap_rows(inst, agg, values, expected, gap_rows, np.arange(n_groups))
    _gap_rows(inst, total_agg, values, expected, gap_rows, np.array([-1]))
    gaps = pd.DataFrame(
        gap_rows,
        columns=[
            "group",
            "level",
            "id",
            "dimension",
            "n",
            "perception",
            "expectation",
            "gap",
            "ratio",
        ],
    )
    if len(gaps):
        gaps["n"] = gaps["n"].round().astype(int)

    resp = pd.DataFrame(
        {"response_id": data["response_id"].to_numpy() if "response_id" in data else np.arange(n)}
    )
    for k in keys:
        resp[k] = key_frame[k].to_numpy()
    resp["csi"] = rs.csi
    resp["satisfied"] = pd.arrays.BooleanArray(rs.satisfied == 1.0, np.isnan(rs.satisfied))
    for j, d in enumerate(inst.dimension_ids):
        resp[d] = rs.dimensions[:, j]
    return ScoreResult(inst, keys, groups, total, resp, gaps, warnings=warnings)
