"""Per response: answers to 0–100 points, dimension scores and the index in one compiled
pass (``manyi.core._kernels``), whose sums come back by name (:class:`KernelSums`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from manyi.core._kernels import EPS, SERIAL_BELOW, score_and_sum, score_and_sum_serial
from manyi.core.instrument import Instrument, Scale


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


def _stack(columns: list[np.ndarray]) -> np.ndarray:
    """Item columns as one contiguous items × rows float64 array."""
    n = len(columns[0]) if columns else 0
    out = np.empty((len(columns), n), dtype=np.float64)
    for k, c in enumerate(columns):
        out[k] = c
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
        columns: list[np.ndarray] | np.ndarray,
        codes: np.ndarray,
        G: int,
        weights: np.ndarray | None = None,
    ) -> KernelSums:
        """Per-response scores and per-group sums in one compiled pass. ``columns`` is a list
        of item columns, or one items × rows array. The kernel takes the array: a numba
        typed list would be compiled again in every process (about 2 s; its methods are
        not cached), while stacking the columns costs one copy of the answers."""
        if not isinstance(columns, np.ndarray):
            columns = _stack(columns)
        if weights is None:
            weights = np.ones(len(codes))
        kernel = score_and_sum_serial if len(codes) < SERIAL_BELOW else score_and_sum
        out = kernel(
            columns,
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


def has_index(inst: Instrument, values: np.ndarray) -> np.ndarray:
    """Which rows of an n × items matrix of answers get an overall index: the rule of the
    scoring kernel (a dimension counts when its answered items carry at least
    ``min_answered`` of its item weight; the index when its counted dimensions carry at least
    that share of the dimension weight) as two matrix products, without scoring."""
    plan = _Plan(inst)
    answered = ~np.isnan(np.asarray(values, dtype=float))
    share = np.zeros((len(plan.item_w), len(plan.dw)))
    share[np.arange(len(plan.item_w)), plan.item_dim] = plan.item_w
    counted = (answered.astype(float) @ share) >= plan.min_answered - EPS
    return (counted.astype(float) @ plan.dw) >= plan.min_answered - EPS


def score_responses(inst: Instrument, values: np.ndarray) -> ResponseScores:
    """Score an n × items matrix of answers (already reversed where the item says so)."""
    v = np.asarray(values, dtype=float)
    cols = np.ascontiguousarray(v.T)  # items × rows: each item's answers contiguous
    out = _Plan(inst).run(cols, np.zeros(len(v), dtype=np.int64), 1)
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
