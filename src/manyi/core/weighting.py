"""Respondent weights so that the sample matches known population margins.

* Post-stratification: weight = population share of the respondent's cell / sample share of it.
* Raking (iterative proportional fitting, Deming & Stephan 1940): adjust the weights to each
  variable's margin in turn until every weighted margin is within ``tol`` of its target.
* Weights are scaled to average 1 (they sum to n). Kish's (1965) design effect of the weights,
  deff = n·Σw²/(Σw)², and the effective sample size n_eff = (Σw)²/Σw² are reported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from manyi.core.analysis import AnalysisResult, style
from manyi.i18n import ManyiError, Message


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
) -> tuple[np.ndarray, int]:
    """Raking weights (mean 1) and the number of sweeps."""
    margins = _check(frame, margins)
    n = len(frame)
    w = np.ones(n)
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
    summary = pd.DataFrame(
        [
            {
                "method": method,
                "n": len(w),
                "n_eff": n_eff,
                "deff": deff,
                "min_weight": w.min(),
                "max_weight": w.max(),
                "sweeps": sweeps,
            }
        ]
    )
    return AnalysisResult("weighting", len(w), {"margins": pd.DataFrame(rows), "summary": summary})


def read_margins(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Margins from a table with columns variable, category and share (or count)."""
    cols = {c.lower(): c for c in table.columns}
    value = cols.get("share") or cols.get("count") or cols.get("population")
    if "variable" not in cols or "category" not in cols or value is None:
        raise ManyiError(Message("wt.margins_columns"))
    out: dict[str, dict[str, float]] = {}
    for _, r in table.iterrows():
        out.setdefault(str(r[cols["variable"]]).strip(), {})[str(r[cols["category"]]).strip()] = (
            float(r[value])
        )
    return out


def chart(result: AnalysisResult, lang: str = "en"):
    """Target, sample and weighted shares of every margin."""
    import plotly.graph_objects as go

    t = result.tables["margins"]
    zh = lang == "zh"
    x = [f"{v}={c}" for v, c in zip(t["variable"], t["category"], strict=True)]
    fig = go.Figure(
        [
            go.Bar(name=("总体" if zh else "Population"), x=x, y=t["target"]),
            go.Bar(name=("样本" if zh else "Sample"), x=x, y=t["sample"]),
            go.Bar(name=("加权后" if zh else "Weighted"), x=x, y=t["weighted"]),
        ]
    )
    fig.update_layout(
        barmode="group", title="加权前后的边际" if zh else "Margins before and after weighting"
    )
    return style(fig)
