"""The survey report as data: what it rests on, and the recommendations drafted from it.

The source texts end every satisfaction survey with a report — purpose and method, results,
analysis, recommendations (docs/report.md). This module holds that report's content as
results and codes (no words, no figures): :class:`ReportData` collects the scorecard, the
trend, the analyses, the CSI model and the validation report; :func:`draft` derives the
recommendations, each with the evidence it rests on, from those results by fixed rules:

1. the overall satisfaction rate below its target (rate, its Wilson interval, target);
2. units below target, when their sample is not small (rate, interval, n), worst first;
3. items in the importance–performance "concentrate here" quadrant (Martilla & James 1977),
   by the analysis's priority;
4. the largest negative SERVQUAL gaps that are significant (Parasuraman, Zeithaml & Berry
   1988: perception − expectation, with its interval and p);
5. special-cause signals of the control charts (Western Electric rules), newest first;
6. the strongest key driver (Johnson's relative weight), and in a CSI model the construct
   with the largest total effect and a performance below the average (Ringle & Sarstedt
   2016's importance–performance map).

A :class:`Recommendation` names its rule (``kind``), its subject (an item, unit, dimension,
period or construct id) and the numbers of its evidence; the presentation layer words it.
Notes written by a person (``--notes``) come as plain text and may replace the drafted ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.messages import Message
from manyi.core.result import Result

#: At most this many recommendations of each rule (the report is for management).
PER_RULE = 3


@dataclass
class Recommendation:
    """One recommendation: the rule that drafted it, its subject and its evidence."""

    kind: str  # overall_below | unit_below | concentrate | gap | signal | driver | model
    subject: str
    values: dict[str, Any] = field(default_factory=dict)
    text: str | None = None  # a person's own words (notes); the rule's wording otherwise
    evidence_text: str | None = None


@dataclass
class ReportData:
    """Everything the report shows, as results (see the module docstring)."""

    instrument: Any  # manyi.core.instrument.Instrument
    scores: Any  # ScoreResult by the ``by`` columns (or the total only)
    trend: Any | None  # ScoreResult by period with the changes marked, or None
    analyses: dict[str, Result]
    skipped: dict[str, list[Message]]  # analyses that could not run, and why
    validation: Any  # the reader's validation report
    model: Result | None = None  # a PLS model's result (paths, IPMA)
    cases: Result | None = None  # complaint figures from a cases file
    recommendations: list[Recommendation] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)  # by, period, weights, source, dates


def _num(v: Any) -> float | None:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def draft(data: ReportData) -> list[Recommendation]:
    """The recommendations that the results support, by the rules of the module docstring."""
    out: list[Recommendation] = []
    total = data.scores.total.iloc[0]
    target = float(total["target_rate"])
    if total["meets_target"] is False or total["meets_target"] == np.False_:
        out.append(
            Recommendation(
                "overall_below",
                "total",
                {
                    "rate": float(total["satisfied_rate"]),
                    "low": _num(total["satisfied_rate_ci_low"]),
                    "high": _num(total["satisfied_rate_ci_high"]),
                    "target": target,
                    "n": int(total["n"]),
                },
            )
        )
    keys = list(data.scores.keys)
    if keys:
        g = data.scores.groups
        known = g[keys].notna().all(axis=1)
        below = g[known & (g["meets_target"] == False) & (~g["small_sample"].astype(bool))]  # noqa: E712
        below = below.sort_values("satisfied_rate").head(PER_RULE)
        for _, r in below.iterrows():
            out.append(
                Recommendation(
                    "unit_below",
                    " · ".join(str(r[k]) for k in keys),
                    {
                        "rate": float(r["satisfied_rate"]),
                        "low": _num(r["satisfied_rate_ci_low"]),
                        "high": _num(r["satisfied_rate_ci_high"]),
                        "target": float(r["target_rate"]),
                        "n": int(r["n"]),
                        "csi": _num(r["csi"]),
                    },
                )
            )
    ipa = data.analyses.get("ipa")
    if ipa is not None and not ipa.params.get("by"):
        t = ipa.tables["items"]
        t = t[t["quadrant"] == "concentrate"].sort_values("priority", ascending=False)
        for _, r in t.head(PER_RULE).iterrows():
            out.append(
                Recommendation(
                    "concentrate",
                    str(r["item"]),
                    {
                        "importance": float(r["importance"]),
                        "performance": float(r["performance"]),
                        "importance_kind": ipa.params.get("importance", "stated"),
                    },
                )
            )
    sq = data.analyses.get("servqual")
    if sq is not None and not sq.params.get("by"):
        t = sq.tables["items"]
        t = t[(t["gap"] < 0) & (t["p"] < 0.05)].sort_values("gap")
        for _, r in t.head(PER_RULE).iterrows():
            out.append(
                Recommendation(
                    "gap",
                    str(r["item"]),
                    {
                        "perception": float(r["perception"]),
                        "expectation": float(r["expectation"]),
                        "gap": float(r["gap"]),
                        "low": _num(r["ci_low"]),
                        "high": _num(r["ci_high"]),
                        "p": float(r["p"]),
                        "n": int(r["n"]),
                    },
                )
            )
    spc = data.analyses.get("spc")
    if spc is not None and len(spc.tables.get("signals", [])):
        s = spc.tables["signals"].sort_values("period", ascending=False, kind="stable")
        s = s.drop_duplicates("period").head(PER_RULE)
        for _, r in s.iterrows():
            out.append(
                Recommendation(
                    "signal",
                    str(r["period"]),
                    {"chart": str(r["chart"]), "rule": int(r["rule"]), "value": float(r["value"])},
                )
            )
    dr = data.analyses.get("drivers")
    if dr is not None and not dr.params.get("by") and len(dr.tables["drivers"]):
        r = dr.tables["drivers"].sort_values("relative_weight", ascending=False).iloc[0]
        out.append(
            Recommendation(
                "driver",
                str(r["driver"]),
                {
                    "outcome": str(dr.tables["model"]["outcome"].iloc[0]),
                    "share": _num(r["rescaled_rw"]),
                    "low": _num(r["rw_ci_low"]),
                    "high": _num(r["rw_ci_high"]),
                    "r2": _num(dr.tables["model"]["r2"].iloc[0]),
                },
            )
        )
    if data.model is not None:
        ip = data.model.tables.get("ipma_constructs")
        if ip is not None and len(ip) >= 2:
            mean_perf = float(ip["performance"].mean())
            low = ip[ip["performance"] < mean_perf].sort_values("importance", ascending=False)
            if len(low):
                r = low.iloc[0]
                out.append(
                    Recommendation(
                        "model",
                        str(r["construct"]),
                        {
                            "importance": float(r["importance"]),
                            "performance": float(r["performance"]),
                            "mean_performance": mean_perf,
                            "target": str(data.model.params.get("target", "")),
                        },
                    )
                )
    return out


def with_notes(
    drafted: list[Recommendation], notes: list[dict[str, str]], replace: bool
) -> list[Recommendation]:
    """The recommendations a person signs: their notes after (or instead of) the drafted ones."""
    own = [
        Recommendation("note", "", {}, text=n["text"], evidence_text=n.get("evidence") or None)
        for n in notes
    ]
    return own if replace else drafted + own


def fielding(submitted: pd.Series | None) -> tuple[str | None, str | None]:
    """The first and last day of answers (ISO dates), None without dates."""
    if submitted is None:
        return None, None
    s = pd.to_datetime(submitted, errors="coerce").dropna()
    if s.empty:
        return None, None
    return s.min().date().isoformat(), s.max().date().isoformat()
