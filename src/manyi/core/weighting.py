"""Respondent weights so that the sample matches known population margins.

* Post-stratification: weight = population share of the respondent's cell / sample share of it.
* Raking (iterative proportional fitting, Deming & Stephan 1940): adjust the weights to each
  variable's margin in turn until every weighted margin is within ``tol`` of its target.
* Weights are scaled to average 1 (they sum to n). Kish's (1965) design effect of the weights,
  deff = n·Σw²/(Σw)², and the effective sample size n_eff = (Σw)²/Σw² are reported.
* Trimming (Kalton & Flores-Cervantes 2003, §3.5; Battaglia et al. 2009, "trim and rake"):
  weights above ``cap`` (or below ``floor``) times the mean weight are set to the bound, then
  the weights are raked again, in turn, until they meet both the margins and the bounds. The
  report gives the deff before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult
from manyi.core.messages import ManyiError, Message


def kish(w: np.ndarray) -> tuple[float, float]:
    """(deff, effective n) of weights w."""
    w = np.asarray(w, dtype=float)
    n_eff = w.sum() ** 2 / (w**2).sum()
    return float(len(w) / n_eff), float(n_eff)


def _check(
    frame: pd.DataFrame, margins: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    out = {}
    for var, targets in margins.items():
        if var not in frame:
            raise ManyiError(Message("wt.unknown_variable", {"variable": var}))
        total = float(sum(targets.values()))
        if total <= 0:
            raise ManyiError(Message("wt.bad_margin", {"variable": var}))
        values = frame[var].astype(object).map(lambda v: None if pd.isna(v) else str(v))
        present = set(values.dropna())
        for cat, share in targets.items():
            if share > 0 and str(cat) not in present:
                raise ManyiError(Message("wt.empty_cell", {"variable": var, "category": cat}))
        unknown = sorted(present - {str(c) for c in targets})
        if unknown:
            raise ManyiError(
                Message("wt.no_target", {"variable": var, "categories": ", ".join(unknown[:5])})
            )
        if values.isna().any():
            raise ManyiError(
                Message("wt.missing_value", {"variable": var, "n": int(values.isna().sum())})
            )
        out[var] = {str(c): s / total for c, s in targets.items()}
    return out


def rake(
    frame: pd.DataFrame,
    margins: dict[str, dict[str, float]],
    max_iter: int = 200,
    tol: float = 1e-10,
    start: np.ndarray | None = None,
) -> tuple[np.ndarray, int]:
    """Raking weights (mean 1) and the number of sweeps; ``start``: initial weights."""
    margins = _check(frame, margins)
    n = len(frame)
    w = np.ones(n) if start is None else np.asarray(start, dtype=float).copy()
    codes = {v: frame[v].astype(object).map(str).to_numpy() for v in margins}
    for sweep in range(1, max_iter + 1):
        worst = 0.0
        for v, targets in margins.items():
            total = w.sum()
            for cat, share in targets.items():
                m = codes[v] == cat
                cur = w[m].sum() / total
                if cur > 0:
                    w[m] *= share / cur
                worst = max(worst, abs(cur - share))
        if worst < tol:
            return w * n / w.sum(), sweep
    raise ManyiError(Message("wt.no_convergence", {"sweeps": max_iter}))


@dataclass
class Trim:
    """What trimming did: the deff before, cycles of trim-and-rake, weights at a bound, and
    the largest margin error left (0 when margins and bounds could both be met)."""

    deff_before: float
    cycles: int
    trimmed: int
    margin_error: float
    cap: float | None
    floor: float | None


def trim_and_rake(
    frame: pd.DataFrame,
    margins: dict[str, dict[str, float]],
    w: np.ndarray,
    cap: float | None = None,
    floor: float | None = None,
    max_cycles: int = 100,
    tol: float = 1e-6,
) -> tuple[np.ndarray, Trim]:
    """Bound the weights (mean 1) to [floor, cap] and re-rake, alternately, until both hold.

    If they cannot both hold (bounds too tight for the margins), the weights end within the
    bounds and ``margin_error`` says how far the worst margin is from its target.
    """
    if cap is not None and not cap > 1:
        raise ManyiError(Message("wt.bad_cap", {"value": cap}))
    if floor is not None and not 0 <= floor < 1:
        raise ManyiError(Message("wt.bad_floor", {"value": floor}))
    deff_before = kish(w)[0]
    lo = 0.0 if floor is None else floor
    hi = np.inf if cap is None else cap
    w = np.asarray(w, dtype=float) * len(w) / np.sum(w)
    at_bound = np.zeros(len(w), dtype=bool)
    cycles = 0
    for cycles in range(1, max_cycles + 1):  # noqa: B007
        out = (w > hi * (1 + tol)) | (w < lo * (1 - tol))
        if not out.any():
            break
        at_bound |= out
        w = np.clip(w, lo, hi)
        w, _ = rake(frame, margins, start=w, tol=1e-10, max_iter=1000)
    for _ in range(1000):  # bounds at mean 1: clip and rescale to a fixed point
        w = np.clip(w * len(w) / w.sum(), lo, hi)
        if abs(w.mean() - 1) < 1e-12:
            break
    err = _margin_error(frame, margins, w)
    return w, Trim(deff_before, cycles, int(at_bound.sum()), err, cap, floor)


def _margin_error(
    frame: pd.DataFrame, margins: dict[str, dict[str, float]], w: np.ndarray
) -> float:
    worst = 0.0
    for var, targets in _check(frame, margins).items():
        values = frame[var].astype(object).map(str).to_numpy()
        for cat, share in targets.items():
            worst = max(worst, abs(w[values == cat].sum() / w.sum() - share))
    return float(worst)


def poststratify(
    frame: pd.DataFrame, cells: list[str], population: pd.DataFrame, share: str = "share"
) -> np.ndarray:
    """Post-stratification weights (mean 1) from a population table of cells and shares/counts."""
    for c in cells:
        if c not in frame or c not in population:
            raise ManyiError(Message("wt.unknown_variable", {"variable": c}))
    key = frame[cells].astype(object).map(str).agg("|".join, axis=1)
    pkey = population[cells].astype(object).map(str).agg("|".join, axis=1)
    target = pd.Series(population[share].to_numpy(float), index=pkey)
    target = target / target.sum()
    sample = key.value_counts(normalize=True)
    missing = sorted(set(sample.index) - set(target.index))
    if missing:
        raise ManyiError(
            Message(
                "wt.no_target", {"variable": "+".join(cells), "categories": ", ".join(missing[:5])}
            )
        )
    empty = sorted(k for k, v in target.items() if v > 0 and k not in sample.index)
    if empty:
        raise ManyiError(
            Message("wt.empty_cell", {"variable": "+".join(cells), "category": empty[0]})
        )
    w = target[key].to_numpy() / sample[key].to_numpy()
    return w * len(w) / w.sum()


def weighting_report(
    frame: pd.DataFrame,
    w: np.ndarray,
    margins: dict[str, dict[str, float]],
    method: str,
    sweeps: int,
    trim: Trim | None = None,
) -> AnalysisResult:
    rows = []
    for var, targets in margins.items():
        total = sum(targets.values())
        values = frame[var].astype(object).map(str).to_numpy()
        for cat, t in targets.items():
            m = values == str(cat)
            rows.append(
                {
                    "variable": var,
                    "category": str(cat),
                    "target": t / total,
                    "sample": m.mean(),
                    "weighted": w[m].sum() / w.sum(),
                    "n": int(m.sum()),
                }
            )
    deff, n_eff = kish(w)
    row = {
        "method": method,
        "n": len(w),
        "n_eff": n_eff,
        "deff": deff,
        "min_weight": w.min(),
        "max_weight": w.max(),
        "sweeps": sweeps,
    }
    warnings = []
    if trim is not None:
        row.update(
            deff_before_trim=trim.deff_before,
            trim_cap=np.nan if trim.cap is None else trim.cap,
            trim_floor=np.nan if trim.floor is None else trim.floor,
            trimmed=trim.trimmed,
            trim_cycles=trim.cycles,
            margin_error=trim.margin_error,
        )
        if trim.margin_error > 1e-4:
            warnings.append(Message("wt.trim_margins", {"error": 100 * trim.margin_error}))
    summary = pd.DataFrame([row])
    return AnalysisResult(
        "weighting", len(w), {"margins": pd.DataFrame(rows), "summary": summary}, warnings
    )


def read_margins(table: pd.DataFrame, source: str = "margins") -> dict[str, dict[str, float]]:
    """Margins from a table with columns variable, category and share (or count).

    Shares may be written as fractions (0.3), percentages ("30%") or counts; a cell that is
    none of these, a negative one, or a category given twice is an error naming its row.
    """
    cols = {str(c).strip().lower(): c for c in table.columns}
    value = cols.get("share") or cols.get("count") or cols.get("population")
    if "variable" not in cols or "category" not in cols or value is None:
        raise ManyiError(Message("wt.margins_columns"))
    out: dict[str, dict[str, float]] = {}
    for i, r in enumerate(table.itertuples(index=False), start=2):
        rec = dict(zip(table.columns, r, strict=True))
        var, cat, raw = rec[cols["variable"]], rec[cols["category"]], rec[value]
        if all(pd.isna(x) or str(x).strip() == "" for x in (var, cat, raw)):
            continue  # a blank line
        text = "" if pd.isna(raw) else str(raw).strip()
        try:
            share = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            share = float("nan")
        if not np.isfinite(share) or share < 0:
            raise ManyiError(
                Message("wt.bad_share", {"file": source, "row": i, "value": _cut(text)})
            )
        var, cat = str(var).strip(), str(cat).strip()
        if cat in out.get(var, {}):
            raise ManyiError(
                Message(
                    "wt.duplicate_category",
                    {"file": source, "row": i, "variable": var, "category": cat},
                )
            )
        out.setdefault(var, {})[cat] = share
    if not out:
        raise ManyiError(Message("wt.no_margins", {"file": source}))
    return out


def margin_notes(margins: dict[str, dict[str, float]]) -> list[Message]:
    """Warnings for margins that are renormalised: shares that do not sum to 1, or counts
    whose totals differ between variables (each variable is scaled to its own total)."""
    notes = []
    totals = {v: float(sum(t.values())) for v, t in margins.items()}
    counts = {v: tot for v, tot in totals.items() if any(x > 1 for x in margins[v].values())}
    for v, tot in totals.items():
        if v not in counts and abs(tot - 1) > 1e-6:
            notes.append(Message("wt.renormalised", {"variable": v, "total": tot}))
    if len(set(round(x, 6) for x in counts.values())) > 1:
        text = ", ".join(f"{v} {tot:g}" for v, tot in counts.items())
        notes.append(Message("wt.count_totals", {"totals": text}))
    return notes


def _cut(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
