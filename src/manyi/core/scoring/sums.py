"""Per-group sums from which every figure follows; the total is their sum."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from manyi.core.instrument import Instrument
from manyi.core.messages import Message, merge_messages
from manyi.core.scoring.response import ResponseScores, _Plan, _satisfied, weighted_means
from manyi.core.wstats import chan_between


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


# Parts: chunks of a file, partitions of a dataset
# --------------------------------------------------------------------------------------
@dataclass
class Partial:
    """The group sums of one part of the responses, with what is needed to add parts up:
    the key names, each group's key values, each key's own label order (a categorical's
    categories, else None: sorted by value), messages, and the per-response scores if kept."""

    keys: list[str]
    key_tuples: list[tuple[Any, ...]]
    orders: list[list[Any] | None]
    sums: _Sums
    warnings: list[Message] = field(default_factory=list)
    respondents: Any = None  # pandas DataFrame, or None when left out
    weights: str | None = None  # the weights' column, if weighted
    weighted: bool = True  # False: weighted, and no response has a positive weight


_CHAN = ("csi_w", "csi_sum", "csi_m2")  # merged by the parallel formula, not added


def _sum_fields(s: _Sums) -> dict[str, np.ndarray]:
    out = {f.name: getattr(s, f.name) for f in fields(s) if not isinstance(getattr(s, f.name), dict)}
    for f in fields(s):
        v = getattr(s, f.name)
        if isinstance(v, dict):
            out.update({f"{f.name}\0{k}": a for k, a in v.items()})
    return out


def _key_rank(orders: list[list[Any]], keys: list[tuple[Any, ...]]) -> list[int]:
    """Positions of the groups in the order a whole-file scoring gives them: by each key in
    turn, its categories' order where it has one, else by value; a missing value last."""

    def sort_key(t: tuple[Any, ...]) -> tuple[Any, ...]:
        out: list[Any] = []
        for v, order in zip(t, orders, strict=True):
            if v is None:
                out.append((1, 0))
            elif order:
                out.append((0, order.index(v)))
            else:
                out.append((0, v))
        return tuple(out)

    return sorted(range(len(keys)), key=lambda i: sort_key(keys[i]))


def merge_partials(parts: list[Partial]) -> Partial:
    """Add up the sums of parts exactly as one pass over all their responses would: counts and
    sums are added, the index's sum of squared deviations merged by the parallel formula of
    Chan, Golub & LeVeque (1979); groups in the order of a whole-file scoring; messages that
    repeat are shown once, counts in them added; per-response scores concatenated."""
    if not parts:
        raise ValueError("merge_partials needs at least one part")
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    orders: list[list[Any] | None] = []
    for j in range(len(first.keys)):
        cats = [p.orders[j] for p in parts]
        if all(c is None for c in cats):
            orders.append(None)
        else:  # categories in their first order, later ones appended
            merged: dict[Any, None] = {}
            for c in cats:
                merged.update(dict.fromkeys(c or []))
            orders.append(list(merged))
    index: dict[tuple[Any, ...], int] = {}
    for p in parts:
        for t in p.key_tuples:
            index.setdefault(t, len(index))
    keys = list(index)
    rank = _key_rank([o or [] for o in orders], keys)
    pos = np.empty(len(keys), dtype=np.int64)
    pos[rank] = np.arange(len(keys))
    G = len(keys)
    acc: dict[str, np.ndarray] = {}
    for p in parts:
        idx = pos[[index[t] for t in p.key_tuples]]
        f = _sum_fields(p.sums)
        for name, a in f.items():
            if name in _CHAN:
                continue
            if name not in acc:
                acc[name] = np.zeros((G, *a.shape[1:]), dtype=a.dtype)
            acc[name][idx] += a
        if "csi_w" not in acc:
            acc["csi_w"], acc["csi_sum"], acc["csi_m2"] = np.zeros(G), np.zeros(G), np.zeros(G)
        wa, sa = acc["csi_w"][idx], acc["csi_sum"][idx]
        wb, sb = f["csi_w"], f["csi_sum"]
        with np.errstate(invalid="ignore", divide="ignore"):
            delta = sa / wa - sb / wb
        acc["csi_m2"][idx] += f["csi_m2"] + chan_between(wa, wb, delta)
        acc["csi_w"][idx] += wb
        acc["csi_sum"][idx] += sb
    plain = {k: v for k, v in acc.items() if "\0" not in k}
    nested: dict[str, dict[str, np.ndarray]] = {}
    for k, v in acc.items():
        if "\0" in k:
            outer, inner = k.split("\0", 1)
            nested.setdefault(outer, {})[inner] = v
    for f in fields(first.sums):
        if isinstance(getattr(first.sums, f.name), dict):
            order = list(getattr(first.sums, f.name))
            nested[f.name] = {k: nested.get(f.name, {})[k] for k in order}
    sums = _Sums(**plain, **nested)
    resp = None
    if all(p.respondents is not None for p in parts):
        import pandas as pd

        frames = []
        for p in parts:
            r = p.respondents
            for j, k in enumerate(first.keys):
                cats = orders[j] if orders[j] is not None else sorted(
                    {t[j] for t in keys if t[j] is not None}
                )
                r = r.assign(**{k: r[k].cat.set_categories(cats)})
            frames.append(r)
        resp = pd.concat(frames, ignore_index=True)
    return Partial(
        first.keys, [keys[i] for i in rank], orders, sums, merge_messages([p.warnings for p in parts]), resp,
        first.weights, any(p.weighted for p in parts),
    )
