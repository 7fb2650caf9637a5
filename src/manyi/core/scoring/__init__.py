"""Weighted satisfaction scores: per response and per group, with their uncertainty.

Definitions (docs/scoring.md):

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

How it is fast: groups are integer codes, and one vectorised pass over blocks of rows
(:func:`~manyi.core.scoring.response.score_pass`, numpy; no compiler to load) scores every
response and adds it to its group's sums; NPS/CSAT/CES are answer distributions per group
(``np.bincount``). The total is summed from the groups (variances by the parallel formula of
Chan, Golub & LeVeque 1979), so it costs nothing extra; parts of the responses (chunks of a
file, partitions of a dataset) are added up the same way (:func:`merge_partials`).

Modules: ``response`` (per response, the compiled pass), ``groups`` (keys and periods),
``sums`` (per-group sums; parts of the responses added up by :func:`merge_partials`), ``figures`` (statistics with n and intervals), ``result``
(:class:`ScoreResult`), ``frame`` (:func:`score_frame`).
"""

from __future__ import annotations

from manyi.core.scoring.figures import GAP_FIGURES, SMALL_SAMPLE
from manyi.core.scoring.frame import finish, partial_frame, respondent_weights, score_frame
from manyi.core.scoring.groups import PERIODS, period_codes
from manyi.core.scoring.response import (
    KernelSums,
    ResponseScores,
    _Plan,
    _satisfied,
    _top_box_threshold,
    score_responses,
    to_points,
    weighted_means,
)
from manyi.core.scoring.result import ScoreResult
from manyi.core.scoring.sums import Partial, merge_partials

__all__ = [
    "GAP_FIGURES",
    "PERIODS",
    "SMALL_SAMPLE",
    "KernelSums",
    "Partial",
    "ResponseScores",
    "ScoreResult",
    "_Plan",
    "_satisfied",
    "_top_box_threshold",
    "finish",
    "merge_partials",
    "partial_frame",
    "period_codes",
    "respondent_weights",
    "score_frame",
    "score_responses",
    "to_points",
    "weighted_means",
]
