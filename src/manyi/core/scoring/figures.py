"""Figures from sums: means, rates, NPS, CSAT, CES, P−E gaps, each with n and a 95 % interval."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.scoring.response import _top_box_threshold
from manyi.core.scoring.sums import _Sums
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
