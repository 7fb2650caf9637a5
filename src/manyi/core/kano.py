"""Kano classification (Berger et al. 1993, Center for Quality Management Journal 2(4)).

Each attribute is asked twice: functional ("if it is present, how do you feel?") and
dysfunctional ("if it is absent?"), answered on the built-in scale ``kano5``:
1 like, 2 must-be, 3 neutral, 4 live-with, 5 dislike. The evaluation table maps each answer
pair to A (attractive), O (one-dimensional), M (must-be), I (indifferent), R (reverse) or
Q (questionable). Better = (A+O)/(A+O+M+I), Worse = −(O+M)/(A+O+M+I). The category is the most
frequent one, ties broken M > O > A > I (Matzler et al. 1996) then R > Q. Fong's test: the two
most frequent categories differ significantly unless
|m1 − m2| < 1.65·√((m1+m2)(2n − m1 − m2)/(2n)).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult
from manyi.core.messages import Message

CATEGORIES = ("A", "O", "M", "I", "R", "Q")
TIE_ORDER = ("M", "O", "A", "I", "R", "Q")
#: rows: functional answer 1..5, columns: dysfunctional answer 1..5
EVALUATION = (
    ("Q", "A", "A", "A", "O"),
    ("R", "I", "I", "I", "M"),
    ("R", "I", "I", "I", "M"),
    ("R", "I", "I", "I", "M"),
    ("R", "R", "R", "R", "Q"),
)


def classify(functional: np.ndarray, dysfunctional: np.ndarray) -> np.ndarray:
    """Kano category of each answer pair (1-5 each); '' where an answer is missing."""
    f = np.asarray(functional, dtype=float)
    d = np.asarray(dysfunctional, dtype=float)
    ok = ~np.isnan(f) & ~np.isnan(d)
    table = np.array(EVALUATION)
    out = np.full(len(f), "", dtype=object)
    out[ok] = table[f[ok].astype(int) - 1, d[ok].astype(int) - 1]
    return out


def fong_threshold(m1: int, m2: int, n: int) -> float:
    """1.65·√((m1+m2)(2n − m1 − m2)/(2n)) (Fong 1996)."""
    return float(1.65 * np.sqrt((m1 + m2) * (2 * n - m1 - m2) / (2 * n))) if n else float("nan")


def kano(
    pairs: list[tuple[str, np.ndarray, np.ndarray]],
    weights: np.ndarray | None = None,
) -> AnalysisResult:
    """Classify each attribute from its (functional, dysfunctional) answers.

    With ``weights`` the category counts are weighted (scaled so they add up to the number of
    answer pairs)."""
    rows = []
    n_max = 0
    for attr, f, d in pairs:
        cats = classify(f, d)
        valid = cats != ""
        n = int(valid.sum())
        n_max = max(n_max, n)
        if weights is None:
            counts = {c: int((cats == c).sum()) for c in CATEGORIES}
        else:
            wv = np.where(valid, weights, 0.0)
            scale = n / wv.sum() if wv.sum() > 0 else 0.0
            counts = {c: float(wv[cats == c].sum() * scale) for c in CATEGORIES}
        ranked = sorted(CATEGORIES, key=lambda c: (-counts[c], TIE_ORDER.index(c)))
        first, second = ranked[0], ranked[1]
        base = counts["A"] + counts["O"] + counts["M"] + counts["I"]
        better = (counts["A"] + counts["O"]) / base if base else np.nan
        worse = -(counts["O"] + counts["M"]) / base if base else np.nan
        thr = fong_threshold(counts[first], counts[second], n)
        rows.append(
            {
                "attribute": attr,
                "n": n,
                **counts,
                "category": first if n else None,
                "second": second if n else None,
                "better": better,
                "worse": worse,
                "fong_threshold": thr,
                "fong_significant": bool(abs(counts[first] - counts[second]) >= thr) if n else None,
            }
        )
    table = pd.DataFrame(
        rows,
        columns=[
            "attribute",
            "n",
            *CATEGORIES,
            "category",
            "second",
            "better",
            "worse",
            "fong_threshold",
            "fong_significant",
        ],
    )
    warnings = [
        Message("an.kano_questionable", {"attribute": r["attribute"], "share": r["Q"] / r["n"]})
        for r in rows
        if r["n"] and r["Q"] / r["n"] > 0.1
    ]
    return AnalysisResult("kano", n_max, {"attributes": table}, warnings)
