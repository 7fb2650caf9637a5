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

How it is fast: groups are integer codes, and one compiled pass over the responses
(``manyi.core._kernels``) scores every response and adds it to its group's sums (the index
variance by Welford's 1962 update); NPS/CSAT/CES are answer distributions per group
(``np.bincount``). The total is summed from the groups (variances by the parallel formula of
Chan, Golub & LeVeque 1979), so it costs nothing extra.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from manyi.core._kernels import as_list, score_and_sum
from manyi.core.instrument import Instrument, Scale
from manyi.core.messages import ManyiError, Message
from manyi.core.result import Result
from manyi.core.stats import nps_estimate, t_interval, wilson_interval

SMALL_SAMPLE = 30
#: The figures of a P−E row (items and dimensions), after its keys and n.
GAP_FIGURES = (
    "perception",
    "expectation",
    "gap",
    "gap_ci_low",
    "gap_ci_high",
    "ratio",
    "ratio_ci_low",
    "ratio_ci_high",
)
PERIODS = ("month", "quarter", "year")


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
    wm = member * weights[:, None]
    num = np.where(mask, points, 0.0) @ wm
    cover = mask @ wm
    with np.errstate(invalid="ignore", divide="ignore"):
        out = num / cover
    out[cover < min_answered - 1e-9] = np.nan
    return out


@dataclass
class ResponseScores:
    """Per-response numbers, as arrays aligned with the response rows."""

    dimensions: np.ndarray  # n × dimensions
    csi: np.ndarray  # n
    satisfied: np.ndarray  # n, float: 1, 0 or NaN when csi is missing


def _scale_bounds(scales: list[Scale]) -> tuple[np.ndarray, np.ndarray]:
    return (
        np.array([s.min for s in scales], dtype=float),
        np.array([s.max for s in scales], dtype=float),
    )


class KernelSums(NamedTuple):
    """What the compiled pass returns, by name (``manyi.core._kernels.score_and_sum``)."""

    dims: np.ndarray  # n × m dimension scores
    csi: np.ndarray  # n overall index
    n_responses: np.ndarray  # G
    csi_n: np.ndarray  # G: responses with an index and a positive weight
    csi_w: np.ndarray  # G: their Σw
    csi_w2: np.ndarray  # G: their Σw²
    csi_sum: np.ndarray  # G: Σw·csi
    csi_m2: np.ndarray  # G: Σw·(csi − mean)²
    sat_w: np.ndarray  # G: Σw of the satisfied
    sat_n: np.ndarray  # G: count of the satisfied
    dim: np.ndarray  # G × m × 5: Σw, Σw·x, Σw·x², Σw², count
    item: np.ndarray  # G × k × 4: answered Σw, top-box Σw, answered count, Σw²


class _Plan:
    """What scoring needs from an instrument, as arrays."""

    def __init__(self, inst: Instrument):
        items = inst.items
        self.lo, self.hi = _scale_bounds([i.scale for i in items])
        if inst.scoring.points == "ratio":
            self.a, self.b = 100.0 / self.hi, np.zeros(len(items))
        else:
            self.a = 100.0 / (self.hi - self.lo)
            self.b = -self.lo * self.a
        dim_index = {d: j for j, d in enumerate(inst.dimension_ids)}
        self.dw = np.ascontiguousarray(inst.dimension_weights, dtype=float)
        self.min_answered = inst.scoring.min_answered
        self.satisfied_at = inst.scoring.satisfied_at
        self.top = np.array([_top_box_threshold(i.scale) for i in items])
        self.item_dim = np.array([dim_index[i.dimension] for i in items], dtype=np.int64)
        self.item_w = np.array([i.weight for i in items])

    def run(
        self,
        columns: list[np.ndarray],
        codes: np.ndarray,
        G: int,
        weights: np.ndarray | None = None,
    ) -> KernelSums:
        """Per-response scores and per-group sums in one compiled pass."""
        if weights is None:
            weights = np.ones(len(codes))
        out = score_and_sum(
            as_list(columns),
            self.a,
            self.b,
            self.top,
            self.item_dim,
            self.item_w,
            self.dw,
            float(self.min_answered),
            float(self.satisfied_at),
            np.ascontiguousarray(codes, dtype=np.int64),
            np.ascontiguousarray(weights, dtype=np.float64),
            int(G),
        )
        return KernelSums(*out)


def score_responses(inst: Instrument, values: np.ndarray) -> ResponseScores:
    """Score an n × items matrix of answers (already reversed where the item says so)."""
    v = np.asarray(values, dtype=float)
    out = _Plan(inst).run([v[:, j] for j in range(v.shape[1])], np.zeros(len(v), dtype=np.int64), 1)
    dims, csi = out.dims, out.csi
    return ResponseScores(dims, csi, _satisfied(csi, inst.scoring.satisfied_at))


def _satisfied(csi: np.ndarray, at: float) -> np.ndarray:
    with np.errstate(invalid="ignore"):
        return np.where(np.isnan(csi), np.nan, (csi >= at - 1e-9).astype(float))


def _top_box_threshold(scale: Scale) -> float:
    """Lowest answer in the top box: top-2 on short scales, top-3 on scales of 10+ points."""
    k = 3 if scale.points >= 10 else 2
    return scale.max - (k - 1)


# --------------------------------------------------------------------------------------
# Groups
# --------------------------------------------------------------------------------------
def _factorize(col: pd.Series) -> tuple[np.ndarray, list[Any]]:
    """Sorted integer codes of a key column; a missing value is its own (last) code."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy().astype(np.int64)
        labels = list(col.cat.categories)
    else:
        codes, uniques = pd.factorize(col, sort=True, use_na_sentinel=True)
        codes = codes.astype(np.int64)
        labels = list(uniques)
    if (codes < 0).any():
        codes[codes < 0] = len(labels)
        labels.append(None)
    return codes, labels


def period_codes(ts: pd.Series, period: str) -> tuple[np.ndarray, list[Any]]:
    """Period codes and labels: month '2026-03', quarter '2026Q1', year '2026'.

    Timestamps count in their own time zone (the reader puts them in Asia/Shanghai).
    """
    if period not in PERIODS:
        raise ManyiError(Message("score.bad_period", {"period": period}))
    ts = pd.to_datetime(ts)
    if getattr(ts.dt, "tz", None) is not None:
        ts = ts.dt.tz_localize(None)  # wall-clock time in its zone
    nat = ts.isna().to_numpy()
    ns = ts.to_numpy().astype("datetime64[ns]").view(np.int64)
    months = np.zeros(len(ts), dtype=np.int64)  # months since 1970-01
    if (~nat).any():
        first = np.datetime64(int(ns[~nat].min()), "ns").astype("datetime64[M]")
        last = np.datetime64(int(ns[~nat].max()), "ns").astype("datetime64[M]")
        starts = np.arange(first, last + 2).astype("datetime64[ns]").view(np.int64)
        months[~nat] = first.astype(np.int64) + np.searchsorted(starts, ns[~nat], side="right") - 1
    if period == "month":
        key = months
    elif period == "quarter":
        key = months // 3
    else:
        key = months // 12
    base = int(key[~nat].min()) if (~nat).any() else 0
    key = key - base
    key[nat] = 0
    present = np.bincount(key[~nat], minlength=1) > 0
    uniq = np.flatnonzero(present) + base
    lut = np.cumsum(present) - 1
    out = np.where(nat, len(uniq), lut[key])
    labels: list[Any] = []
    for k in uniq:
        if period == "month":
            labels.append(f"{1970 + k // 12}-{k % 12 + 1:02d}")
        elif period == "quarter":
            labels.append(f"{1970 + k // 4}Q{k % 4 + 1}")
        else:
            labels.append(f"{1970 + k}")
    if nat.any():
        labels.append(None)
    return out, labels


def _combine(
    parts: list[tuple[np.ndarray, list[Any]]], n: int
) -> tuple[np.ndarray, list[tuple[Any, ...]]]:
    """Combine key codes into group codes 0..G-1 (present combinations only, sorted)."""
    if not parts:
        return np.zeros(n, dtype=np.int64), [()]
    combined = np.zeros(n, dtype=np.int64)
    radix = 1
    for codes, labels in reversed(parts):
        combined += codes * radix
        radix *= max(len(labels), 1)
    if radix <= 50_000_000:
        present = np.bincount(combined, minlength=radix) > 0
        lut = np.cumsum(present) - 1
        values = np.flatnonzero(present)
        gcodes = lut[combined]
    else:
        values, gcodes = np.unique(combined, return_inverse=True)
    keys = []
    for v in values:
        tup = []
        for _codes, labels in reversed(parts):
            size = max(len(labels), 1)
            tup.append(labels[int(v % size)])
            v //= size
        keys.append(tuple(reversed(tup)))
    return gcodes, keys


@dataclass
class _Sums:
    """Per-group sums from which every statistic follows (G rows; the total is their sum)."""

    n_responses: np.ndarray
    csi_n: np.ndarray  # responses with an index (count)
    csi_w: np.ndarray  # their Σw (= csi_n without weights)
    csi_w2: np.ndarray  # their Σw², for the effective n (Kish 1965)
    csi_sum: np.ndarray  # Σw·csi
    csi_m2: np.ndarray  # Σw·(csi − weighted mean)²
    sat: np.ndarray  # Σw over satisfied responses
    dim_n: np.ndarray  # G × m, Σw
    dim_sum: np.ndarray
    item_n: np.ndarray  # G × k answered (Σw)
    item_top: np.ndarray  # G × k answers in the top box (Σw)
    extra: dict[str, np.ndarray] = field(default_factory=dict)  # additive per-group sums (below)
    metric_dist: dict[str, np.ndarray] = field(default_factory=dict)  # weighted answer counts
    metric_n: dict[str, np.ndarray] = field(default_factory=dict)  # G × 2: count, Σw² of answers
    gap_items: dict[str, np.ndarray] = field(default_factory=dict)  # G × 6 per item
    gap_dims: dict[str, np.ndarray] = field(default_factory=dict)

    def total(self) -> _Sums:
        W = self.csi_w.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            mean_g = self.csi_sum / self.csi_w
            mean = self.csi_sum.sum() / W if W else np.nan
            m2 = self.csi_m2.sum() + np.nansum(self.csi_w * (mean_g - mean) ** 2)
        s = lambda a: a.sum(axis=0, keepdims=True)  # noqa: E731
        return _Sums(
            s(self.n_responses),
            s(self.csi_n),
            s(self.csi_w),
            s(self.csi_w2),
            s(self.csi_sum),
            np.array([m2]),
            s(self.sat),
            s(self.dim_n),
            s(self.dim_sum),
            s(self.item_n),
            s(self.item_top),
            {k: s(v) for k, v in self.extra.items()},
            {k: s(v) for k, v in self.metric_dist.items()},
            {k: s(v) for k, v in self.metric_n.items()},
            {k: s(v) for k, v in self.gap_items.items()},
            {k: s(v) for k, v in self.gap_dims.items()},
        )


def _dist(
    codes: np.ndarray, G: int, x: np.ndarray, lo: float, levels: int, w: np.ndarray | None = None
) -> np.ndarray:
    """G × (levels+1) (weighted) counts of whole answers lo..lo+levels-1, last column missing."""
    miss = np.isnan(x)
    idx = np.where(miss, levels, x - lo).astype(np.int64)
    return (
        np.bincount(codes * (levels + 1) + idx, weights=w, minlength=G * (levels + 1))
        .reshape(G, levels + 1)
        .astype(float)
    )


def _group_sums(
    inst: Instrument,
    plan: _Plan,
    columns: list[np.ndarray],
    codes: np.ndarray,
    G: int,
    metrics: dict[str, np.ndarray],
    expected: dict[str, np.ndarray],
    weights: np.ndarray | None = None,
) -> tuple[_Sums, ResponseScores]:
    out = plan.run(columns, codes, G, weights)
    dims, csi = out.dims, out.csi
    sums = _Sums(
        n_responses=out.n_responses,
        csi_n=out.csi_n,
        csi_w=out.csi_w,
        csi_w2=out.csi_w2,
        csi_sum=out.csi_sum,
        csi_m2=out.csi_m2,
        sat=out.sat_w,
        dim_n=out.dim[:, :, 0],
        dim_sum=out.dim[:, :, 1],
        item_n=out.item[:, :, 0],
        item_top=out.item[:, :, 1],
        extra={
            "csi_count": out.csi_n,
            "sat_count": out.sat_n,
            "dim_sq": out.dim[:, :, 2],
            "dim_w2": out.dim[:, :, 3],
            "dim_count": out.dim[:, :, 4],
            "item_count": out.item[:, :, 2],
            "item_w2": out.item[:, :, 3],
        },
    )
    sat = _satisfied(csi, plan.satisfied_at)
    for name, x in metrics.items():
        q = inst.metric_question(name)
        assert q is not None and q.scale_name is not None
        sc = inst.scales[q.scale_name]
        sums.metric_dist[name] = _dist(codes, G, x, sc.min, sc.points, weights)
        ans = ~np.isnan(x)
        w2 = ans * (1.0 if weights is None else weights**2)
        sums.metric_n[name] = np.column_stack(
            [np.bincount(codes, ans, minlength=G), np.bincount(codes, w2, minlength=G)]
        )
    if expected:
        _gap_sums(inst, plan, columns, expected, codes, G, sums, weights)
    return sums, ResponseScores(dims, csi, sat)


def _gap_sums(
    inst: Instrument,
    plan: _Plan,
    columns: list[np.ndarray],
    expected: dict[str, np.ndarray],
    codes: np.ndarray,
    G: int,
    sums: _Sums,
    weights: np.ndarray | None = None,
) -> None:
    """Sums for P − E and P/E: per item and per dimension (over the paired items)."""
    wts = np.ones(len(codes)) if weights is None else weights
    idx = [k for k, it in enumerate(inst.items) if it.id in expected]
    items = [inst.items[k] for k in idx]
    P = np.column_stack([columns[k] for k in idx])
    E = np.column_stack([expected[it.id] for it in items])
    both = ~np.isnan(P) & ~np.isnan(E)
    P = np.where(both, P, np.nan)
    E = np.where(both, E, np.nan)
    a, b, hi = plan.a[idx], plan.b[idx], plan.hi[idx]
    views = (P * a + b, E * a + b, P / hi, E / hi)  # points P, E; ratio views P, E

    def add(target: dict[str, np.ndarray], key: str, cols: tuple[np.ndarray, ...]) -> None:
        """G × 11: n, Σw, Σw·P, Σw·E (points), Σw·P, Σw·E (x/max), Σw², Σw·(P − E)²,
        Σw·P², Σw·E², Σw·P·E (x/max): the paired sums of the gap's and the ratio's intervals."""
        ok = ~np.isnan(cols[0]) & (wts > 0)
        out = np.empty((G, 11))
        out[:, 0] = np.bincount(codes, ok, minlength=G)
        out[:, 1] = np.bincount(codes, ok * wts, minlength=G)
        for c, x in enumerate(cols):
            out[:, c + 2] = np.bincount(codes, np.where(ok, wts * x, 0.0), minlength=G)
        gp = np.where(ok, cols[0] - cols[1], 0.0)
        pr, er = np.where(ok, cols[2], 0.0), np.where(ok, cols[3], 0.0)
        out[:, 6] = np.bincount(codes, ok * wts * wts, minlength=G)
        out[:, 7] = np.bincount(codes, wts * gp * gp, minlength=G)
        out[:, 8] = np.bincount(codes, wts * pr * pr, minlength=G)
        out[:, 9] = np.bincount(codes, wts * er * er, minlength=G)
        out[:, 10] = np.bincount(codes, wts * pr * er, minlength=G)
        target[key] = out

    for j, it in enumerate(items):
        add(sums.gap_items, it.id, tuple(vw[:, j] for vw in views))
    dims = [d for d in inst.dimension_ids if any(i.dimension == d for i in items)]
    member = np.zeros((len(items), len(dims)))
    for j, it in enumerate(items):
        member[j, dims.index(it.dimension)] = 1.0
    w = np.array([it.weight for it in items])
    w = w / (member @ (member.T @ w))  # renormalise over the items that have expectations
    per_dim = [weighted_means(vw, w, member, plan.min_answered) for vw in views]
    for j, d in enumerate(dims):
        add(sums.gap_dims, d, tuple(pd_[:, j] for pd_ in per_dim))


def _mean_ci(
    total_w: np.ndarray, sum_wx: np.ndarray, sum_wx2: np.ndarray, sum_w2: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Weighted mean, SD, t interval from additive sums (Kish's n_eff; unweighted when w = 1).

    Returns (mean, sd, low, high, n_eff)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        ne = np.where(sum_w2 > 0, total_w**2 / sum_w2, 0.0)
        mean = sum_wx / total_w
        m2 = np.maximum(sum_wx2 - total_w * mean**2, 0.0)
        sd = np.where(ne > 1, np.sqrt(m2 / total_w * ne / (ne - 1)), np.nan)
        lo, hi, _ = t_interval(mean, sd, ne)
    return mean, sd, lo, hi, ne


def _stats(inst: Instrument, s: _Sums) -> pd.DataFrame:
    """Statistics from sums: one row per group.

    Every figure comes with its n and a 95 % interval: the index and dimension indices (t on
    Kish's n_eff, clipped to 0-100), rates and top-2-box shares (Wilson on n_eff), NPS (its
    ±1 coding), CSAT (Wilson) and CES (t, clipped to its scale). With weights, ``n`` counts the
    responses that carry a positive weight, ``deff = n/n_eff`` (Kish 1965), ``satisfied_n`` is
    the count of satisfied responses and ``satisfied_weighted`` their weight.
    """
    G = len(s.n_responses)
    x = s.extra
    with np.errstate(invalid="ignore", divide="ignore"):
        n = x["csi_count"]
        W = s.csi_w
        n_eff = np.where(s.csi_w2 > 0, W**2 / s.csi_w2, 0.0)  # Kish (1965); n without weights
        mean = s.csi_sum / W
        sd = np.where(n_eff > 1, np.sqrt(s.csi_m2 / W * n_eff / (n_eff - 1)), np.nan)
        lo, hi, half = t_interval(mean, sd, n_eff)
        rate = np.where(W > 0, s.sat / W, np.nan)
        rlo, rhi = wilson_interval(rate * n_eff, n_eff)
        target = inst.scoring.target_rate
        cols: dict[str, Any] = dict(
            n_responses=s.n_responses,
            n=n,
            n_eff=n_eff,
            deff=np.where(n_eff > 0, n / n_eff, np.nan),
            csi=mean,
            csi_sd=sd,
            csi_ci_low=np.clip(lo, 0, 100),
            csi_ci_high=np.clip(hi, 0, 100),
            csi_moe=half,
            satisfied_n=x["sat_count"],
            satisfied_weighted=np.where(W > 0, s.sat, 0.0),
            satisfied_rate=rate,
            satisfied_rate_ci_low=rlo,
            satisfied_rate_ci_high=rhi,
            target_rate=np.full(G, target),
            meets_target=pd.arrays.BooleanArray(rate >= target - 1e-12, n == 0),
        )
        dmean, _, dlo, dhi, _ = _mean_ci(s.dim_n, s.dim_sum, x["dim_sq"], x["dim_w2"])
        for j, d in enumerate(inst.dimension_ids):
            cols[f"dim_{d}"] = dmean[:, j]
            cols[f"dim_{d}_n"] = x["dim_count"][:, j]
            cols[f"dim_{d}_ci_low"] = np.clip(dlo[:, j], 0, 100)
            cols[f"dim_{d}_ci_high"] = np.clip(dhi[:, j], 0, 100)
        t2b = s.item_top / s.item_n
        ne_item = np.where(x["item_w2"] > 0, s.item_n**2 / x["item_w2"], 0.0)
        tlo, thi = wilson_interval(t2b * ne_item, ne_item)
        for j, it in enumerate(inst.items):
            cols[f"t2b_{it.id}"] = t2b[:, j]
            cols[f"t2b_{it.id}_n"] = x["item_count"][:, j]
            cols[f"t2b_{it.id}_ci_low"] = tlo[:, j]
            cols[f"t2b_{it.id}_ci_high"] = thi[:, j]
        if "nps" in s.metric_dist:
            d = s.metric_dist["nps"]  # weighted answers 0..10, then missing
            wn = d[:, :11].sum(axis=1)
            cnt, w2 = s.metric_n["nps"][:, 0], s.metric_n["nps"][:, 1]
            ne = np.where(w2 > 0, wn**2 / w2, 0.0)
            nps, se, nlo, nhi = nps_estimate(
                d[:, 9:11].sum(axis=1) / wn * ne, d[:, :7].sum(axis=1) / wn * ne, ne
            )
            cols.update(nps=nps, nps_n=cnt, nps_se=se, nps_ci_low=nlo, nps_ci_high=nhi)
        else:
            cols.update(nps=np.full(G, np.nan), nps_n=np.zeros(G))
        if "csat" in s.metric_dist:
            q = inst.metric_question("csat")
            sc = inst.scales[q.scale_name]  # type: ignore[union-attr,index]
            d = s.metric_dist["csat"]
            first_top = int(round(_top_box_threshold(sc) - sc.min))
            cn = d[:, :-1].sum(axis=1)
            w2 = s.metric_n["csat"][:, 1]
            ne = np.where(w2 > 0, cn**2 / w2, 0.0)
            share = d[:, first_top:-1].sum(axis=1) / cn
            clo, chi = wilson_interval(share * ne, ne)
            cols.update(
                csat=100 * share,
                csat_n=s.metric_n["csat"][:, 0],
                csat_ci_low=100 * clo,
                csat_ci_high=100 * chi,
            )
        if "ces" in s.metric_dist:
            q = inst.metric_question("ces")
            sc = inst.scales[q.scale_name]  # type: ignore[union-attr,index]
            d = s.metric_dist["ces"]
            vals = sc.min + np.arange(d.shape[1] - 1)
            cmean, csd, clo, chi, _ = _mean_ci(
                d[:, :-1].sum(axis=1),
                (d[:, :-1] * vals).sum(axis=1),
                (d[:, :-1] * vals**2).sum(axis=1),
                s.metric_n["ces"][:, 1],
            )
            cols.update(
                ces=cmean,
                ces_n=s.metric_n["ces"][:, 0],
                ces_sd=csd,
                ces_ci_low=np.clip(clo, sc.min, sc.max),
                ces_ci_high=np.clip(chi, sc.min, sc.max),
            )
    cols["small_sample"] = n < SMALL_SAMPLE
    df = pd.DataFrame(cols)
    counts = ["n_responses", "n", "satisfied_n", "nps_n", "csat_n", "ces_n"]
    counts += [c for c in df.columns if c.endswith("_n") and c.startswith(("dim_", "t2b_"))]
    for c in counts:
        if c in df:
            df[c] = df[c].round().astype(int)
    return df


def _gap_frame(inst: Instrument, s: _Sums, group_ids: np.ndarray) -> list[dict[str, Any]]:
    """Per item and dimension: P, E, the gap P − E with a paired t interval (the SD of the
    respondents' differences, Kish's n_eff), and P/E with a delta-method interval:
    Var(P̄/Ē) ≈ (Var P − 2R·Cov(P, E) + R²·Var E)/(n_eff·Ē²) (Cochran 1977, §6.4)."""
    rows = []
    for level, table in (("item", s.gap_items), ("dimension", s.gap_dims)):
        for key, arr in table.items():
            dim = inst.item(key).dimension if level == "item" else key
            with np.errstate(invalid="ignore", divide="ignore"):
                W, w2 = arr[:, 1], arr[:, 6]
                p, e = arr[:, 2] / W, arr[:, 3] / W
                _, _, glo, ghi, ne = _mean_ci(W, arr[:, 2] - arr[:, 3], arr[:, 7], w2)
                mp, me = arr[:, 4] / W, arr[:, 5] / W
                ratio = mp / me
                k = np.where(ne > 1, ne / (ne - 1), np.nan)
                vp = (arr[:, 8] / W - mp**2) * k
                ve = (arr[:, 9] / W - me**2) * k
                cv = (arr[:, 10] / W - mp * me) * k
                se_r = np.sqrt(np.maximum(vp - 2 * ratio * cv + ratio**2 * ve, 0) / ne) / me
                rlo, rhi, _ = t_interval(ratio, se_r * np.sqrt(ne), ne)
            for g_i, g in enumerate(group_ids):
                rows.append(
                    dict(
                        group=int(g),
                        level=level,
                        id=key,
                        dimension=dim,
                        n=int(arr[g_i, 0]),
                        perception=p[g_i],
                        expectation=e[g_i],
                        gap=p[g_i] - e[g_i],
                        gap_ci_low=max(glo[g_i], -100.0),
                        gap_ci_high=min(ghi[g_i], 100.0),
                        ratio=ratio[g_i],
                        ratio_ci_low=max(rlo[g_i], 0.0),
                        ratio_ci_high=rhi[g_i],
                    )
                )
    return rows


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
            "n_eff": num(row["n_eff"]),
            "deff": num(row["deff"]),
            "csi": num(row["csi"]),
            "csi_sd": num(row["csi_sd"]),
            "csi_ci": [num(row["csi_ci_low"]), num(row["csi_ci_high"])],
            "margin_of_error": num(row["csi_moe"]),
            "satisfied_n": int(row["satisfied_n"]),
            "satisfied_weighted": num(row["satisfied_weighted"]),
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
            "csat_n": int(row["csat_n"]) if "csat_n" in row else 0,
            "csat_ci": [num(row.get("csat_ci_low")), num(row.get("csat_ci_high"))],
            "ces": num(row.get("ces")),
            "ces_n": int(row["ces_n"]) if "ces_n" in row else 0,
            "ces_ci": [num(row.get("ces_ci_low")), num(row.get("ces_ci_high"))],
            "dimensions": {d: num(row[f"dim_{d}"]) for d in inst.dimension_ids},
            "dimensions_n": {d: int(row[f"dim_{d}_n"]) for d in inst.dimension_ids},
            "dimensions_ci": {
                d: [num(row[f"dim_{d}_ci_low"]), num(row[f"dim_{d}_ci_high"])]
                for d in inst.dimension_ids
            },
            "top2box": {i: num(row[f"t2b_{i}"]) for i in inst.item_ids},
            "top2box_n": {i: int(row[f"t2b_{i}_n"]) for i in inst.item_ids},
            "top2box_ci": {
                i: [num(row[f"t2b_{i}_ci_low"]), num(row[f"t2b_{i}_ci_high"])]
                for i in inst.item_ids
            },
            "small_sample": bool(row["small_sample"]),
        }
        if "change_significant" in row and not pd.isna(row.get("prev_period")):
            g["change"] = {
                "previous_period": row["prev_period"],
                "csi": num(row["csi_change"]),
                "csi_p": num(row["csi_change_p"]),
                "satisfied_rate": num(row["rate_change"]),
                "satisfied_rate_p": num(row["rate_change_p"]),
                "nps": num(row.get("nps_change")),
                "nps_p": num(row.get("nps_change_p")),
                "significant": bool(row["change_significant"]),
            }
        return g

    def _gap_dict(self, mask: pd.Series) -> dict[str, Any]:
        out: dict[str, Any] = {"items": {}, "dimensions": {}}
        for _, r in self.gaps[mask].iterrows():
            level = "items" if r["level"] == "item" else "dimensions"
            f = {k: None if pd.isna(r[k]) else float(r[k]) for k in GAP_FIGURES}
            out[level][r["id"]] = {
                "n": int(r["n"]),
                "perception": f["perception"],
                "expectation": f["expectation"],
                "gap": f["gap"],
                "gap_ci": [f["gap_ci_low"], f["gap_ci_high"]],
                "ratio": f["ratio"],
                "ratio_ci": [f["ratio_ci_low"], f["ratio_ci_high"]],
            }
        return out

    def as_result(self) -> Result:
        """The project's one result shape (kind ``score``): groups with the total as the last
        row, respondents, gaps, rejected values; instrument and keys as parameters."""
        groups = (
            self.groups
            if not self.keys
            else pd.concat([self.groups, self.total], ignore_index=True)
        )
        tables = {
            "groups": groups,
            "respondents": self.respondents,
            "gaps": self.gaps,
            "rejected": pd.DataFrame(self.rejected, columns=["row", "column", "value", "reason"]),
        }
        params = {
            "instrument": self.instrument.id,
            "instrument_version": self.instrument.version,
            "by": list(self.keys),
            "satisfied_at": self.instrument.scoring.satisfied_at,
            "target_rate": self.instrument.scoring.target_rate,
        }
        n = int(self.total["n"].iloc[0]) if len(self.total) else 0
        return Result("score", n, tables, list(self.warnings), params, self.instrument.labels())

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


def respondent_weights(data: pd.DataFrame, column: str) -> tuple[np.ndarray, list[Message]]:
    """A column of respondent weights as floats, checked: text that is not a number, negative
    or infinite weights are errors naming rows; missing and zero weights leave the response
    out of the weighted figures, with a warning naming rows."""
    if column not in data.columns:
        raise ManyiError(Message("score.unknown_weights", {"column": column}))
    raw = data[column]
    w = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float, na_value=np.nan)
    if not pd.api.types.is_numeric_dtype(raw.dtype):
        text = raw.astype("string").str.strip()
        nonnum = np.isnan(w) & text.notna().to_numpy() & (text != "").fillna(False).to_numpy()
        if nonnum.any():
            i = int(np.flatnonzero(nonnum)[0])
            raise ManyiError(
                Message(
                    "score.weights_not_numeric",
                    {
                        "column": column,
                        "n": int(nonnum.sum()),
                        "value": str(raw.iloc[i]),
                        "rows": _rows(nonnum, data),
                    },
                )
            )
    bad = (w < 0) | np.isinf(w)
    if bad.any():
        raise ManyiError(
            Message(
                "score.weights_negative",
                {"column": column, "n": int(bad.sum()), "rows": _rows(bad, data)},
            )
        )
    none = ~(w > 0)
    notes = []
    if none.all():
        raise ManyiError(Message("score.weights_none", {"column": column}))
    if none.any():
        notes.append(
            Message(
                "score.bad_weights",
                {"n": int(none.sum()), "column": column, "rows": _rows(none, data)},
            )
        )
    return np.where(none, 0.0, w), notes


def _rows(mask: np.ndarray, data: pd.DataFrame, limit: int = 5) -> str:
    """The first few responses of ``mask`` by id (or position), for a message."""
    idx = np.flatnonzero(mask)
    ids = data["response_id"] if "response_id" in data else pd.Series(np.arange(len(data)) + 1)
    shown = ", ".join(str(ids.iloc[i]) for i in idx[:limit])
    return shown + (" …" if len(idx) > limit else "")


def score_frame(
    inst: Instrument,
    data: pd.DataFrame,
    by: list[str] | None = None,
    period: str | None = None,
    weights: str | None = None,
) -> ScoreResult:
    """Score a clean response frame (as ``validate_frame`` returns it).

    ``by`` names segment columns; ``period`` (month, quarter, year) groups by
    ``submitted_at``. A missing key value forms its own group (key None). ``weights`` names a
    column of respondent weights (e.g. from ``manyi weight``): means, rates, shares and NPS are
    weighted, intervals use Kish's effective n, and ``n_eff``/``deff`` are reported.
    """
    by = list(by or [])
    warnings: list[Message] = []
    n = len(data)
    for col in by:
        if col not in data.columns:
            have = ", ".join(map(str, data.columns[:12]))
            raise ManyiError(Message("score.unknown_by", {"column": col, "have": have}))
    parts = [_factorize(data[k]) for k in by]
    keys = list(by)
    if period:
        if period not in PERIODS:
            raise ManyiError(Message("score.bad_period", {"period": period}))
        if "submitted_at" not in data.columns or data["submitted_at"].isna().all():
            raise ManyiError(Message("score.no_dates"))
        pc = period_codes(data["submitted_at"], period)
        parts.append(pc)
        keys.append("period")
        missing = int((pc[0] == len(pc[1]) - 1).sum()) if pc[1] and pc[1][-1] is None else 0
        if missing:
            warnings.append(Message("score.no_period_date", {"n": missing}))
    codes, key_tuples = _combine(parts, n)
    G = len(key_tuples)

    def column(c: str) -> np.ndarray:
        if c not in data:
            return np.full(n, np.nan)
        col = data[c]
        if col.dtype == np.float64:
            return col.to_numpy()  # no copy
        return col.to_numpy(dtype=float, na_value=np.nan)

    columns = [column(i) for i in inst.item_ids]
    metrics = {}
    for m in ("nps", "csat", "ces"):
        q = inst.metric_question(m)
        if q is not None and q.id in data:
            metrics[m] = column(q.id)
    expected = {
        i.id: column(f"{i.id}__expected")
        for i in inst.items
        if i.expectation and f"{i.id}__expected" in data
    }
    plan = _Plan(inst)
    w = None
    warnings_w: list[Message] = []
    if weights:
        w, warnings_w = respondent_weights(data, weights)
    sums, rs = _group_sums(inst, plan, columns, codes, G, metrics, expected, w)
    total_sums = sums.total()

    key_values = pd.DataFrame(key_tuples, columns=keys) if keys else pd.DataFrame(index=range(1))
    groups = pd.concat([key_values, _stats(inst, sums)], axis=1)
    total = _stats(inst, total_sums)
    for k in reversed(keys):
        total.insert(0, k, [None])
    gaps = pd.DataFrame(
        _gap_frame(inst, sums, np.arange(G)) + _gap_frame(inst, total_sums, np.array([-1])),
        columns=["group", "level", "id", "dimension", "n", *GAP_FIGURES],
    )

    resp = pd.DataFrame(
        {"response_id": data["response_id"] if "response_id" in data else np.arange(n)}
    )
    resp.index = range(n)
    for k, (pcodes, labels) in zip(keys, parts, strict=True):
        resp[k] = pd.Categorical.from_codes(
            np.where(pcodes < len([x for x in labels if x is not None]), pcodes, -1),
            categories=[x for x in labels if x is not None],
        )
    resp["csi"] = rs.csi
    resp["satisfied"] = pd.arrays.BooleanArray(rs.satisfied == 1.0, np.isnan(rs.satisfied))
    for j, d in enumerate(inst.dimension_ids):
        resp[d] = rs.dimensions[:, j]
    notes = list(getattr(inst, "notes", []))
    return ScoreResult(
        inst, keys, groups, total, resp, gaps, warnings=notes + warnings + warnings_w
    )
