"""Per response: answers to 0–100 points, dimension scores and the index, with the group
sums (:class:`KernelSums`), in one vectorised pass over blocks of rows (:func:`score_pass`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from manyi.core.instrument import Instrument, Scale

EPS = 1e-9
#: Per-response scores are rounded to 1e-9 points (``rint(x·ROUND)/ROUND``), so that answers
#: whose weighted means are mathematically equal get equal floats (6.249999999999998 and 6.25
#: are one value): rank tests and ties then see true ties, and no reported figure moves.
ROUND = 1e9
ROWS = 65_536  # rows per block: a block's temporaries stay small (a few MB)


# --------------------------------------------------------------------------------------
# Per response
# --------------------------------------------------------------------------------------
def to_points(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, mode: str) -> np.ndarray:
    """Answers on their scales (columns) to 0-100 points, by ``range`` or ``ratio``."""
    if mode == "ratio":
        out = np.divide(values, hi, dtype=float)
    else:  # one new array, the same operations in the same order
        out = np.subtract(values, lo, dtype=float)
        out /= hi - lo
    out *= 100.0
    return out


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
    """What the scoring pass returns, by name (:func:`score_pass`)."""

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
        columns: list[np.ndarray] | np.ndarray,
        codes: np.ndarray,
        G: int,
        weights: np.ndarray | None = None,
        sums: bool = True,
    ) -> KernelSums:
        """Per-response scores and per-group sums in one pass (:func:`score_pass`).
        ``columns`` is a list of item columns, or one items × rows array."""
        if weights is None:
            weights = np.ones(len(codes))
        return score_pass(
            columns, self.a, self.b, self.top, self.item_dim, self.item_w, self.dw,
            float(self.min_answered), float(self.satisfied_at),
            np.asarray(codes, dtype=np.int64), np.asarray(weights, dtype=np.float64), int(G),
            sums,
        )


def score_pass(
    cols: list[np.ndarray] | np.ndarray,
    a: np.ndarray,
    b: np.ndarray,
    top: np.ndarray,
    item_dim: np.ndarray,
    item_w: np.ndarray,
    dim_w: np.ndarray,
    min_answered: float,
    satisfied_at: float,
    codes: np.ndarray,
    weights: np.ndarray,
    G: int,
    sums: bool = True,
) -> KernelSums:
    """Score every response and add it to its group's sums, block by block of rows
    (``sums=False``: the scores only; the sums stay zero).

    Item j (on dimension d, weight w_j) gives w_j·(a_j·x + b_j) points when answered; a
    dimension's score is the sum over its answered items divided by their weights, when these
    weights reach ``min_answered``; the index is the same rule over dimensions with ``dim_w``.
    Scores are rounded to 1e-9 points (:data:`ROUND`). Items are added in their order, as a
    row-by-row loop would add them; a block costs a few vector operations per item, so no
    compiler is needed (and none loaded: scoring starts at once).

    Group sums: see :class:`_GroupSums`.
    """
    n = len(codes)
    k, m = len(a), len(dim_w)
    dims = np.empty((n, m))
    csi = np.empty(n)
    acc = _GroupSums(G, k, m, weights, satisfied_at, top) if sums else _NoSums(G, k, m)
    for start in range(0, n, ROWS):
        sl = slice(start, min(start + ROWS, n))
        acc.block(codes[sl], weights[sl], sl)
        rows = sl.stop - sl.start
        num = np.zeros((m, rows))
        cov = np.zeros((m, rows))
        for j in range(k):
            x = np.asarray(cols[j][sl], dtype=float)
            ans = x == x
            d = item_dim[j]
            pts = x * (item_w[j] * a[j])
            pts += item_w[j] * b[j]
            pts[~ans] = 0.0  # unanswered items add nothing
            num[d] += pts
            cov[d] += ans if item_w[j] == 1.0 else item_w[j] * ans
            acc.item(j, x, ans)
        cnum = np.zeros(rows)
        ccov = np.zeros(rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            for d in range(m):
                counted = cov[d] >= min_answered - EPS
                v = np.where(counted, np.rint(num[d] / cov[d] * ROUND) / ROUND, np.nan)
                dims[sl, d] = v
                v0 = np.where(counted, v, 0.0)
                cnum += dim_w[d] * v0
                ccov += dim_w[d] * counted
                acc.dimension(d, counted, v0)
            rated = ccov >= min_answered - EPS
            cs = np.where(rated, np.rint(cnum / ccov * ROUND) / ROUND, np.nan)
        csi[sl] = cs
        acc.index(rated, cs)
    return acc.done(dims, csi, codes)


class _NoSums:
    """The group sums of a pass that keeps none (``score_pass(..., sums=False)``): zeros,
    and responses counted per group."""

    def __init__(self, G: int, k: int, m: int):
        self.G = G
        self.gm = np.zeros((G, m, 5))
        self.gk = np.zeros((G, k, 4))

    def block(self, c: np.ndarray, w: np.ndarray, sl: slice) -> None:
        pass

    def item(self, j: int, x: np.ndarray, ans: np.ndarray) -> None:
        pass

    def dimension(self, d: int, counted: np.ndarray, v0: np.ndarray) -> None:
        pass

    def index(self, rated: np.ndarray, cs: np.ndarray) -> None:
        pass

    def done(self, dims: np.ndarray, csi: np.ndarray, codes: np.ndarray) -> KernelSums:
        z = np.zeros(self.G)
        n_resp = np.bincount(codes, minlength=self.G).astype(float)
        return KernelSums(dims, csi, n_resp, z, z.copy(), z.copy(), z.copy(), z.copy(), z.copy(), z.copy(),
                          self.gm, self.gk)


class _GroupSums(_NoSums):
    """The group sums of :func:`score_pass`, added block by block (group ``codes`` 0..G-1,
    respondent ``weights``; counts take only positive weights): responses; index count, Σw,
    Σw², Σw·csi and Σw·(csi − group mean)² (two passes, not an update formula); satisfied Σw
    and count (index ≥ ``satisfied_at``); per dimension Σw, Σw·x, Σw·x², Σw², count; per item
    answered Σw, top-box Σw (answer ≥ ``top``), answered count, Σw². Without weights (all 1)
    one count per group and state gives several sums at once."""

    def __init__(self, G: int, k: int, m: int, weights: np.ndarray, satisfied_at: float, top: np.ndarray):
        super().__init__(G, k, m)
        self.weights, self.satisfied_at, self.top = weights, satisfied_at, top
        self.pos_all = weights > 0
        self.unweighted = bool((weights == 1.0).all())
        self.g_n, self.g_w, self.g_w2, self.g_sum, self.sat_w, self.sat_n = (np.zeros(G) for _ in range(6))

    def block(self, c: np.ndarray, w: np.ndarray, sl: slice) -> None:
        self.c, self.w, self.pos, self.w2 = c, w, self.pos_all[sl], w * w
        self.c3 = c * 3 if self.unweighted else None  # group × answer state, for item counts

    def item(self, j: int, x: np.ndarray, ans: np.ndarray) -> None:
        c, w, G, gk = self.c, self.w, self.G, self.gk
        state = ans.view(np.int8) + (x >= self.top[j] - EPS).view(np.int8)  # 0, 1, 2 (top box)
        if self.unweighted:  # one count per group and state gives all four sums
            cnt = np.bincount(self.c3 + state, minlength=3 * G).reshape(G, 3)
            answered = cnt[:, 1] + cnt[:, 2]
            gk[:, j, 0] += answered
            gk[:, j, 1] += cnt[:, 2]
            gk[:, j, 2] += answered
            gk[:, j, 3] += answered
            return
        wa = np.where(ans, w, 0.0)
        gk[:, j, 0] += np.bincount(c, wa, minlength=G)
        gk[:, j, 1] += np.bincount(c, np.where(state == 2, w, 0.0), minlength=G)
        ap = ans & self.pos
        gk[:, j, 2] += np.bincount(c, ap, minlength=G)
        gk[:, j, 3] += np.bincount(c, np.where(ap, self.w2, 0.0), minlength=G)

    def dimension(self, d: int, counted: np.ndarray, v0: np.ndarray) -> None:
        c, w, G, gm = self.c, self.w, self.G, self.gm
        if self.unweighted:
            cn = np.bincount(c, counted, minlength=G)
            gm[:, d, 0] += cn
            gm[:, d, 1] += np.bincount(c, v0, minlength=G)
            gm[:, d, 2] += np.bincount(c, v0 * v0, minlength=G)
            gm[:, d, 3] += cn
            gm[:, d, 4] += cn
            return
        cp = counted & self.pos
        gm[:, d, 0] += np.bincount(c, np.where(counted, w, 0.0), minlength=G)
        gm[:, d, 1] += np.bincount(c, w * v0, minlength=G)
        gm[:, d, 2] += np.bincount(c, np.where(cp, w * v0 * v0, 0.0), minlength=G)
        gm[:, d, 3] += np.bincount(c, np.where(cp, self.w2, 0.0), minlength=G)
        gm[:, d, 4] += np.bincount(c, cp, minlength=G)

    def index(self, rated: np.ndarray, cs: np.ndarray) -> None:
        c, w, G = self.c, self.w, self.G
        rp = rated & self.pos
        cs0 = np.where(rp, cs, 0.0)
        wr = np.where(rp, w, 0.0)
        self.g_n += np.bincount(c, rp, minlength=G)
        self.g_w += np.bincount(c, wr, minlength=G)
        self.g_w2 += np.bincount(c, wr * w, minlength=G)
        self.g_sum += np.bincount(c, wr * cs0, minlength=G)
        sat = rp & (cs0 >= self.satisfied_at - EPS)
        self.sat_w += np.bincount(c, np.where(sat, w, 0.0), minlength=G)
        self.sat_n += np.bincount(c, sat, minlength=G)

    def done(self, dims: np.ndarray, csi: np.ndarray, codes: np.ndarray) -> KernelSums:
        G, weights = self.G, self.weights
        n_resp = np.bincount(codes, minlength=G).astype(float)
        # the index's spread about each group's mean: a second pass over the scores
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(self.g_w > 0, self.g_sum / self.g_w, 0.0)
        rp_all = self.pos_all & (csi == csi)
        dev = np.where(rp_all, csi - mean[codes], 0.0)
        g_m2 = np.bincount(codes, np.where(rp_all, weights, 0.0) * dev * dev, minlength=G)
        return KernelSums(dims, csi, n_resp, self.g_n, self.g_w, self.g_w2, self.g_sum, g_m2,
                          self.sat_w, self.sat_n, self.gm, self.gk)


def has_index(inst: Instrument, values: np.ndarray | list[np.ndarray]) -> np.ndarray:
    """Which responses get an overall index, from their answers (an n × items matrix, or a
    list of item columns): the rule of :func:`score_pass` (a dimension counts when its
    answered items carry at least ``min_answered`` of its item weight; the index when its
    counted dimensions carry at least that share of the dimension weight), without scoring."""
    plan = _Plan(inst)
    cols = list(np.asarray(values, dtype=float).T) if isinstance(values, np.ndarray) else values
    n = len(cols[0]) if cols else 0
    cov = np.zeros((len(plan.dw), n))
    for j, x in enumerate(cols):
        x = np.asarray(x, dtype=float)
        cov[plan.item_dim[j]] += plan.item_w[j] * (x == x)
    ccov = np.zeros(n)
    for d in range(len(plan.dw)):
        ccov += plan.dw[d] * (cov[d] >= plan.min_answered - EPS)
    return ccov >= plan.min_answered - EPS


def score_responses(inst: Instrument, values: np.ndarray | list[np.ndarray]) -> ResponseScores:
    """Score answers (already reversed where the item says so): an n × items matrix, or a list
    of item columns (no copy of the answers is made either way)."""
    if isinstance(values, np.ndarray):
        v = np.asarray(values, dtype=float)
        cols: list[np.ndarray] = [v[:, j] for j in range(v.shape[1])]
    else:
        cols = [np.asarray(c, dtype=float) for c in values]
    n = len(cols[0]) if cols else 0
    out = _Plan(inst).run(cols, np.zeros(n, dtype=np.int64), 1, sums=False)
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
