"""Use case: run an analysis on a response file (``manyi analyze NAME``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from manyi.core import compare as compare_mod
from manyi.core import drivers as drivers_mod
from manyi.core import ipa as ipa_mod
from manyi.core import kano as kano_mod
from manyi.core import reliability as reliability_mod
from manyi.core import servqual as servqual_mod
from manyi.core import spc as spc_mod
from manyi.core.analysis import AnalysisResult, combine, need
from manyi.core.instrument import Instrument
from manyi.core.messages import ManyiError, Message
from manyi.core.scoring import period_codes, score_responses, to_points
from manyi.core.wstats import corr as wcorr
from manyi.core.wstats import n_eff
from manyi.io.responses import ResponseSet
from manyi.services.requests import AnalysisOptions, AnalyzeRequest

#: The options of the analyses (a typed request part; see ``manyi.services.requests``).
Options = AnalysisOptions


def _values(data: pd.DataFrame, cols: list[str]) -> np.ndarray:
    return (
        np.column_stack(
            [
                data[c].to_numpy(dtype=float, na_value=np.nan)
                if c in data
                else np.full(len(data), np.nan)
                for c in cols
            ]
        )
        if cols
        else np.empty((len(data), 0))
    )


def _weights(data: pd.DataFrame, opts: Options) -> np.ndarray | None:
    """Respondent weights from ``opts.weights`` (missing or non-positive → 0, left out)."""
    if not opts.weights:
        return None
    from manyi.core.scoring import respondent_weights

    return respondent_weights(data, opts.weights)[0]


def _wmeans(X: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column means ignoring NaN, weighted when w is given."""
    if w is None:
        w = np.ones(len(X))
    ok = ~np.isnan(X)
    ww = ok * w[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, X, 0.0).T @ w / ww.sum(axis=0)


def run_servqual(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    items = [i for i in inst.items if i.expectation and f"{i.id}__expected" in data]
    if not items:
        raise ManyiError(Message("an.no_expectations"))
    P = pd.DataFrame(_values(data, [i.id for i in items]), columns=[i.id for i in items])
    E = pd.DataFrame(
        _values(data, [f"{i.id}__expected" for i in items]), columns=[i.id for i in items]
    )
    dims = list(dict.fromkeys(i.dimension for i in items))
    w = dict(zip(inst.dimension_ids, inst.dimension_weights, strict=True))
    total = sum(w[d] for d in dims)
    weights = {d: w[d] / total for d in dims}
    alloc_q = {
        q.dimension: q.id for q in inst.questions if q.type == "points" and q.dimension in dims
    }
    allocation = None
    if len(alloc_q) == len(dims) and all(qid in data for qid in alloc_q.values()):
        allocation = pd.DataFrame(
            {d: data[alloc_q[d]].to_numpy(dtype=float, na_value=np.nan) for d in dims}
        )
    return servqual_mod.servqual(
        P, E, {i.id: i.dimension for i in items}, weights, allocation, _weights(data, opts)
    )


def run_ipa(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    items = inst.items
    X = _values(data, [i.id for i in items])
    lo = np.array([i.scale.min for i in items])
    hi = np.array([i.scale.max for i in items])
    w = _weights(data, opts)
    perf = _wmeans(to_points(X, lo, hi, inst.scoring.points), w)
    n = int((~np.isnan(X)).any(axis=1).sum())
    need(n, 3, "IPA")
    if opts.importance == "stated":
        keep = [
            k
            for k, i in enumerate(items)
            if i.importance
            and f"{i.id}__importance" in data
            and data[f"{i.id}__importance"].notna().any()
        ]
        if not keep:
            raise ManyiError(Message("an.no_importance"))
        imp = _wmeans(_values(data, [f"{items[k].id}__importance" for k in keep]), w)
        mids = [(items[k].importance_scale.min + items[k].importance_scale.max) / 2 for k in keep]
        items_k = [items[k] for k in keep]
        perf = perf[keep]
        imp_mid = float(np.mean(mids))
    elif opts.importance == "derived":
        csi = score_responses(inst, X).csi
        imp = []
        for k in range(len(items)):
            ok = ~np.isnan(X[:, k]) & ~np.isnan(csi) & (True if w is None else w > 0)
            x, y = X[ok, k], csi[ok]
            good = ok.sum() > 2 and x.std() > 0 and y.std() > 0
            imp.append(
                wcorr(np.column_stack([x, y]), None if w is None else w[ok])[0, 1]
                if good
                else np.nan
            )
        imp = np.array(imp)
        items_k = items
        imp_mid = float(np.nanmean(imp))
    elif opts.importance == "relative":  # Johnson's relative weights of the items on the index
        csi = score_responses(inst, X).csi
        ok = ~np.isnan(X).any(axis=1) & ~np.isnan(csi) & (True if w is None else w > 0)
        need(int(ok.sum()), len(items) + 10, "IPA (relative weights)")
        C = wcorr(np.column_stack([X[ok], csi[ok]]), None if w is None else w[ok])
        imp = drivers_mod.relative_weights(C[:-1, :-1], C[:-1, -1])
        items_k = items
        imp_mid = float(np.mean(imp))
    else:
        raise ManyiError(
            Message(
                "an.bad_option",
                {
                    "option": "importance",
                    "value": opts.importance,
                    "choices": "stated, derived, relative",
                },
            )
        )
    if opts.cross == "mean":
        cross = (float(np.nanmean(imp)), float(np.nanmean(perf)))
    elif opts.cross == "midpoint":
        cross = (imp_mid, 50.0)
    else:
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "cross", "value": opts.cross, "choices": "mean, midpoint"},
            )
        )
    return ipa_mod.ipa(
        [i.id for i in items_k],
        perf,
        imp,
        cross,
        opts.importance,
        dimensions=[i.dimension for i in items_k],
        n=n,
    )


def run_kano(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    if not inst.spec.kano:
        raise ManyiError(Message("an.no_kano"))
    pairs = []
    for k in inst.spec.kano:
        f = (
            data[k.functional].to_numpy(dtype=float, na_value=np.nan)
            if k.functional in data
            else np.full(len(data), np.nan)
        )
        d = (
            data[k.dysfunctional].to_numpy(dtype=float, na_value=np.nan)
            if k.dysfunctional in data
            else np.full(len(data), np.nan)
        )
        pairs.append((k.id, f, d))
    return kano_mod.kano(pairs, _weights(data, opts))


def _scores(inst: Instrument, data: pd.DataFrame):
    n = len(data)
    return score_responses(
        inst,
        [data[c].to_numpy(dtype=float, na_value=np.nan) if c in data else np.full(n, np.nan)
         for c in inst.item_ids],
    )


def run_compare(
    inst: Instrument, data: pd.DataFrame, opts: Options, by: list[str]
) -> AnalysisResult:
    rs = _scores(inst, data)
    if opts.period:
        codes, labels = period_codes(data["submitted_at"], opts.period)
        key = pd.Series([labels[c] for c in codes])
        column, pairs = "period", "previous"
    elif by:
        column, pairs = by[0], "all"
        key = data[column].astype(object).reset_index(drop=True)
    else:
        raise ManyiError(Message("an.groups", {"column": "--by", "n": 1}))
    groups = [g for g in pd.unique(key.dropna())]
    if (
        isinstance(data.get(column, pd.Series(dtype=object)).dtype, pd.CategoricalDtype)
        and not opts.period
    ):
        groups = [c for c in data[column].cat.categories if c in set(groups)]
    else:
        groups = sorted(groups, key=str)
    if len(groups) < 2:
        raise ManyiError(Message("an.groups", {"column": column, "n": len(groups)}))
    masks = [(key == g).to_numpy() for g in groups]
    measures = {"csi": [rs.csi[m] for m in masks]}
    for j, d in enumerate(inst.dimension_ids):
        measures[d] = [rs.dimensions[m, j] for m in masks]
    w = _weights(data, opts)
    q = inst.metric_question("nps")
    nps = None
    if q is not None and q.id in data and data[q.id].notna().any():
        x = data[q.id].to_numpy(dtype=float, na_value=np.nan)
        nps = [x[m] for m in masks]
    return compare_mod.compare(
        [str(g) for g in groups],
        measures,
        [rs.satisfied[m] for m in masks],
        pairs,
        opts.adjust,
        weights=None if w is None else [w[m] for m in masks],
        nps=nps,
    )


def run_spc(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    if "submitted_at" not in data or data["submitted_at"].isna().all():
        raise ManyiError(Message("an.no_periods", {"minimum": 3, "n": 0}))
    rs = _scores(inst, data)
    codes, labels = period_codes(data["submitted_at"], opts.period or "month")
    w = _weights(data, opts)
    periods, groups, wts, dis, nr = [], [], [], [], []
    for c, lab in enumerate(labels):
        if lab is None:
            continue
        m = (codes == c) & ~np.isnan(rs.csi) & (True if w is None else w > 0)
        if not m.any():
            continue
        periods.append(lab)
        groups.append(rs.csi[m])
        unhappy = (rs.satisfied[m] == 0).astype(float)
        if w is None:
            dis.append(float(unhappy.sum()))
            nr.append(float(m.sum()))
        else:
            wts.append(w[m])
            ne = n_eff(w[m])
            dis.append(float(np.average(unhappy, weights=w[m]) * ne))
            nr.append(ne)
    if len(periods) < 3:
        raise ManyiError(Message("an.no_periods", {"minimum": 3, "n": len(periods)}))
    return spc_mod.spc(
        periods,
        groups,
        np.array(dis),
        np.array(nr),
        weights=wts if w is not None else None,
    )


def run_reliability(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    dims = {d.id: [i.id for i in d.items if i.id in data] for d in inst.dimensions}
    n = len(data)
    frame = pd.DataFrame(  # the item columns as they are (no copy)
        {c: data[c].to_numpy(dtype=float, na_value=np.nan) if c in data else np.full(n, np.nan)
         for c in inst.item_ids},
        copy=False,
    )
    return reliability_mod.reliability(
        frame,
        {d: its for d, its in dims.items() if its},
        opts.factors,
        opts.seed,
        _weights(data, opts),
    )


def run_drivers(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    rs = _scores(inst, data)
    outcome = opts.outcome
    if not outcome:  # an outcome measured apart from the drivers: NPS, else CSAT, else the index
        for metric in ("nps", "csat"):
            q = inst.metric_question(metric)
            if q is not None and q.id in data and data[q.id].notna().any():
                outcome = q.id
                break
        else:
            outcome = "csi"
    opts = opts.model_copy(update={"outcome": outcome})
    if opts.outcome == "csi":
        y = rs.csi
    elif opts.outcome in inst.dimension_ids:
        y = rs.dimensions[:, inst.dimension_ids.index(opts.outcome)]
    elif opts.outcome in data and pd.api.types.is_numeric_dtype(data[opts.outcome]):
        y = data[opts.outcome].to_numpy(dtype=float, na_value=np.nan)
    else:
        raise ManyiError(Message("an.unknown_outcome", {"outcome": opts.outcome}))
    if opts.drivers == "dimensions":
        names = [d for d in inst.dimension_ids if d != opts.outcome]
        X = pd.DataFrame({d: rs.dimensions[:, inst.dimension_ids.index(d)] for d in names})
    elif opts.drivers == "items":
        names = [i for i in inst.item_ids if i != opts.outcome]
        X = pd.DataFrame(_values(data, names), columns=names)
    else:
        raise ManyiError(
            Message(
                "an.bad_option",
                {"option": "drivers", "value": opts.drivers, "choices": "dimensions, items"},
            )
        )
    res = drivers_mod.drivers(X, y, opts.outcome, opts.bootstrap, opts.seed, _weights(data, opts))
    if opts.outcome == "csi" and opts.drivers == "dimensions":
        res.warnings.append(Message("an.outcome_from_drivers"))
    return res


RUNNERS: dict[str, Callable[..., AnalysisResult]] = {
    "reliability": run_reliability,
    "drivers": run_drivers,
    "servqual": run_servqual,
    "ipa": run_ipa,
    "kano": run_kano,
    "compare": run_compare,
    "spc": run_spc,
}


def analyze(
    name: str, responses: ResponseSet, by: list[str] | None = None, opts: Options | None = None
) -> AnalysisResult:
    """Run analysis ``name`` on validated responses, per ``by`` group where it applies."""
    opts = opts or Options()
    if name not in RUNNERS:
        raise ManyiError(Message("an.unknown", {"name": name, "choices": ", ".join(RUNNERS)}))
    inst, data = responses.instrument, responses.data
    by = list(by or [])
    for col in by:
        if col not in data:
            raise ManyiError(
                Message(
                    "score.unknown_by",
                    {"column": col, "have": ", ".join(map(str, data.columns[:12]))},
                )
            )
    if name == "compare":
        return _labelled(_guarded(run_compare, name, inst, data, opts, by), inst, opts, by)
    if not by:
        return _labelled(_guarded(RUNNERS[name], name, inst, data, opts), inst, opts, by)
    parts = []
    skipped: list[Message] = []
    for keys, sub in data.groupby(by, observed=True, sort=True, dropna=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        key_d = dict(zip(by, [None if pd.isna(k) else str(k) for k in keys], strict=True))
        try:
            parts.append(
                (key_d, _guarded(RUNNERS[name], name, inst, sub.reset_index(drop=True), opts))
            )
        except ManyiError as exc:  # one small group must not stop the others
            label = ", ".join(f"{k}={v}" for k, v in key_d.items())
            skipped += [
                Message("an.group_skipped", {"group": label, "reason": m}) for m in exc.messages
            ]
    if not parts:
        raise ManyiError(*skipped)
    res = combine(parts)
    res.warnings = skipped + res.warnings
    return _labelled(res, inst, opts, by)


def _labelled(
    res: AnalysisResult, inst: Instrument, opts: Options, by: list[str]
) -> AnalysisResult:
    """The result with what it was made with (parameters) and the instrument's labels."""
    res.labels = {**inst.labels(), **res.labels}
    params = {k: v for k, v in opts.model_dump().items() if v not in (None, "")}
    res.params = {
        **params,
        "by": list(by),
        "instrument": inst.id,
        "instrument_version": inst.version,
        **res.params,
    }
    return res


def _guarded(fn: Callable[..., AnalysisResult], name: str, *args: Any) -> AnalysisResult:
    """Run an analysis; a singular matrix met in the data (too few or collinear respondents)
    becomes a user message naming the analysis, not an internal error."""
    try:
        return fn(*args)
    except np.linalg.LinAlgError:
        raise ManyiError(Message("an.singular_data", {"name": name})) from None


def analyze_file(req: AnalyzeRequest) -> AnalysisResult:
    """The use case behind ``manyi analyze``: load, read and validate, analyse. The
    validation report's figures and notes come first among the result's warnings (nothing
    is dropped silently)."""
    from manyi.services.scoring import load, read

    inst = load(req.instrument)
    rs = read(req.responses, inst, req.read)
    res = analyze(req.name, rs, req.by, req.options)
    rep = rs.report
    notes: list[Message] = list(rep.warnings)
    if rep.issues:
        notes.insert(
            0,
            Message(
                "an.validation",
                {
                    "file": rep.source,
                    "read": rep.rows_read,
                    "used": rep.rows_used,
                    "rejected": rep.rows_rejected,
                    "values": len(rep.rejected_values),
                },
            ),
        )
    res.warnings = notes + res.warnings
    return res
