"""Per-group sums from which every figure follows; the total is their sum."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from manyi.core.instrument import Instrument
from manyi.core.scoring.response import ResponseScores, _Plan, _satisfied, weighted_means


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
