"""Use case: run an analysis on a response file (``manyi analyze NAME``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from manyi.core.scoring import period_codes, respondent_weights, score_responses, to_points
from manyi.core.wstats import CoMoments, Moments, pair_moments
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
    return respondent_weights(data, opts.weights)[0]


def _wmeans(X: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """Column means ignoring NaN, weighted when w is given."""
    if w is None:
        w = np.ones(len(X))
    ok = ~np.isnan(X)
    ww = ok * w[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ok, X, 0.0).T @ w / ww.sum(axis=0)


def sum_servqual(
    inst: Instrument, data: pd.DataFrame, opts: Options, w: np.ndarray | None
) -> Any:
    items = [i for i in inst.items if i.expectation and f"{i.id}__expected" in data]
    if not items:
        raise ManyiError(Message("an.no_expectations"))
    P = pd.DataFrame(_values(data, [i.id for i in items]), columns=[i.id for i in items])
    E = pd.DataFrame(
        _values(data, [f"{i.id}__expected" for i in items]), columns=[i.id for i in items]
    )
    dims = list(dict.fromkeys(i.dimension for i in items))
    alloc_q = {
        q.dimension: q.id for q in inst.questions if q.type == "points" and q.dimension in dims
    }
    allocation = None
    if len(alloc_q) == len(dims) and all(qid in data for qid in alloc_q.values()):
        allocation = pd.DataFrame(
            {d: data[alloc_q[d]].to_numpy(dtype=float, na_value=np.nan) for d in dims}
        )
    item_dim, weights = _servqual_weights(inst, items)
    return servqual_mod.servqual_sums(P, E, item_dim, weights, allocation, w)


def _servqual_weights(inst: Instrument, items: list[Any]) -> tuple[dict[str, str], dict[str, float]]:
    dims = list(dict.fromkeys(i.dimension for i in items))
    w = dict(zip(inst.dimension_ids, inst.dimension_weights, strict=True))
    total = sum(w[d] for d in dims)
    return {i.id: i.dimension for i in items}, {d: w[d] / total for d in dims}


def finish_servqual(inst: Instrument, sums: Any, opts: Options) -> AnalysisResult:
    by_id = {i.id: i for i in inst.items}
    item_dim, weights = _servqual_weights(inst, [by_id[i] for i in sums.items])
    return servqual_mod.servqual_from(sums, item_dim, weights)


@dataclass
class IpaSums:
    """What IPA needs of a table (mergeable): the moments of each item's points, the number
    of respondents who answered any item, and by the importance chosen: the moments of the
    stated importances, each item's co-moments with the index (derived), or the co-moments of
    all items and the index over complete rows (relative)."""

    perf: Moments
    n_any: int
    stated: Moments | None = None
    derived: list[CoMoments] | None = None
    relative: CoMoments | None = None

    def merge(self, other: IpaSums) -> IpaSums:
        return IpaSums(
            self.perf.merge(other.perf),
            self.n_any + other.n_any,
            None if self.stated is None else self.stated.merge(other.stated),
            None if self.derived is None
            else [a.merge(b) for a, b in zip(self.derived, other.derived, strict=True)],
            None if self.relative is None else self.relative.merge(other.relative),
        )


def sum_ipa(inst: Instrument, data: pd.DataFrame, opts: Options, w: np.ndarray | None) -> IpaSums:
    items = inst.items
    X = _values(data, [i.id for i in items])
    lo = np.array([i.scale.min for i in items])
    hi = np.array([i.scale.max for i in items])
    sums = IpaSums(
        Moments.of(to_points(X, lo, hi, inst.scoring.points), w),
        int((~np.isnan(X)).any(axis=1).sum()),
    )
    if opts.importance == "stated":
        sums.stated = Moments.of(_values(data, [f"{i.id}__importance" for i in items]), w)
    elif opts.importance == "derived":
        csi = score_responses(inst, X).csi
        sums.derived = pair_moments(X, csi, w)
    elif opts.importance == "relative":
        csi = score_responses(inst, X).csi
        sums.relative = CoMoments.of(np.column_stack([X, csi]), w)
    return sums


def finish_ipa(inst: Instrument, sums: IpaSums, opts: Options) -> AnalysisResult:
    items = inst.items
    perf = sums.perf.mean
    n = sums.n_any
    need(n, 3, "IPA")
    if opts.importance == "stated":
        assert sums.stated is not None
        keep = [k for k, i in enumerate(items) if i.importance and sums.stated.n[k] > 0]
        if not keep:
            raise ManyiError(Message("an.no_importance"))
        imp = sums.stated.mean[keep]
        mids = [(items[k].importance_scale.min + items[k].importance_scale.max) / 2 for k in keep]
        items_k = [items[k] for k in keep]
        perf = perf[keep]
        imp_mid = float(np.mean(mids))
    elif opts.importance == "derived":
        assert sums.derived is not None
        imp = np.array(
            [
                c.corr()[0, 1] if c.n > 2 and c.m2[0, 0] > 0 and c.m2[1, 1] > 0 else np.nan
                for c in sums.derived
            ]
        )
        items_k = items
        imp_mid = float(np.nanmean(imp))
    elif opts.importance == "relative":  # Johnson's relative weights of the items on the index
        assert sums.relative is not None
        need(sums.relative.n, len(items) + 10, "IPA (relative weights)")
        C = sums.relative.corr()
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


def merge_keyed(a: dict, b: dict, merge: Callable[[Any, Any], Any]) -> dict:
    """The sums of two parts kept by key (groups, periods): a key in both parts is merged
    with ``merge``, one in either part alone is taken as it is; the first part's keys first."""
    out = dict(a)
    for k, v in b.items():
        out[k] = merge(out[k], v) if k in out else v
    return out


@dataclass
class CompareSums:
    """What a comparison needs of a table (mergeable): each group's :class:`GroupSums` by the
    group's value, and the group column's categories when it has them (their order is the
    groups' order; otherwise groups sort by their text)."""

    column: str
    pairs: str
    weighted: bool
    groups: dict[Any, Any]
    order: list[Any] | None
    nps_answered: bool = False

    def merge(self, other: CompareSums) -> CompareSums:
        groups = merge_keyed(self.groups, other.groups, lambda a, b: a.merge(b))
        # as pandas concatenates parts: categories kept only where every part has the same
        order = self.order if self.order == other.order else None
        return CompareSums(self.column, self.pairs, self.weighted, groups, order,
                           self.nps_answered or other.nps_answered)


def sum_compare(
    inst: Instrument, data: pd.DataFrame, opts: Options, w: np.ndarray | None, by: list[str]
) -> CompareSums:
    rs = _scores(inst, data)
    order = None
    if opts.period:
        codes, labels = period_codes(data["submitted_at"], opts.period)
        key = pd.Series([labels[c] for c in codes], dtype=object)
        column, pairs = "period", "previous"
    elif by:
        column, pairs = by[0], "all"
        key = data[column].astype(object).reset_index(drop=True)
        if isinstance(data[column].dtype, pd.CategoricalDtype):
            order = list(data[column].cat.categories)
    else:
        raise ManyiError(Message("an.groups", {"column": "--by", "n": 1}))
    codes, values = pd.factorize(key, use_na_sentinel=True)
    q = inst.metric_question("nps")
    x = None
    if q is not None and q.id in data:
        x = data[q.id].to_numpy(dtype=float, na_value=np.nan)
    groups = {}
    for c, g in enumerate(values):
        m = codes == c
        measures = {"csi": rs.csi[m]}
        dims = rs.dimensions[m]  # the group's rows once, then a column each
        for j, d in enumerate(inst.dimension_ids):
            measures[d] = dims[:, j]
        groups[g] = compare_mod.GroupSums.of(
            measures, rs.satisfied[m], None if w is None else w[m], None if x is None else x[m]
        )
    return CompareSums(column, pairs, w is not None, groups, order,
                       x is not None and bool((~np.isnan(x)).any()))


def finish_compare(inst: Instrument, sums: CompareSums, opts: Options) -> AnalysisResult:
    have = set(sums.groups)
    groups = (
        [c for c in sums.order if c in have]
        if sums.order is not None
        else sorted(sums.groups, key=str)
    )
    if len(groups) < 2:
        raise ManyiError(Message("an.groups", {"column": sums.column, "n": len(groups)}))
    got = [sums.groups[g] for g in groups]
    if not sums.nps_answered:  # no NPS question, or answered by no one: no NPS table
        got = [compare_mod.GroupSums(g.measures, g.satisfied, None) for g in got]
    return compare_mod.compare_from(
        [str(g) for g in groups], got, sums.pairs, opts.adjust, weighted=sums.weighted
    )


def run_compare(
    inst: Instrument, data: pd.DataFrame, opts: Options, by: list[str]
) -> AnalysisResult:
    return finish_compare(inst, sum_compare(inst, data, opts, _weights(data, opts), by), opts)


@dataclass
class SpcSums:
    """What the control charts need of a table (mergeable): per period, the moments of the
    index and of the dissatisfied indicator over the rated responses, and the count of
    dissatisfied ones."""

    weighted: bool
    periods: dict[str, tuple[Moments, int]]

    def merge(self, other: SpcSums) -> SpcSums:
        periods = merge_keyed(self.periods, other.periods, lambda a, b: (a[0].merge(b[0]), a[1] + b[1]))
        return SpcSums(self.weighted, periods)


def sum_spc(inst: Instrument, data: pd.DataFrame, opts: Options, w: np.ndarray | None) -> SpcSums:
    out = SpcSums(w is not None, {})
    if "submitted_at" not in data or data["submitted_at"].isna().all():
        return out
    rs = _scores(inst, data)
    codes, labels = period_codes(data["submitted_at"], opts.period or "month")
    for c, lab in enumerate(labels):
        if lab is None:
            continue
        m = (codes == c) & ~np.isnan(rs.csi) & (True if w is None else w > 0)
        if not m.any():
            continue
        unhappy = (rs.satisfied[m] == 0).astype(float)
        out.periods[lab] = (
            Moments.of(np.column_stack([rs.csi[m], unhappy]), None if w is None else w[m]),
            int(unhappy.sum()),
        )
    return out


def finish_spc(inst: Instrument, sums: SpcSums, opts: Options) -> AnalysisResult:
    periods = sorted(sums.periods)  # period labels sort in time ("2026-03", "2026Q1", "2026")
    if len(periods) < 3:
        raise ManyiError(Message("an.no_periods", {"minimum": 3, "n": len(periods)}))
    stats = [sums.periods[p][0] for p in periods]
    if sums.weighted:
        ne = np.array([m.n_eff(1) for m in stats])
        dis = np.array([m.mean[1] for m in stats]) * ne
    else:
        ne = np.array([m.npos[0] for m in stats], dtype=float)
        dis = np.array([sums.periods[p][1] for p in periods], dtype=float)
    return spc_mod.spc_from(periods, stats, dis, ne, weighted=sums.weighted)


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


def ready_kernels() -> None:
    """Compile the bootstrap's counting kernel where this installation has not yet (about a
    second, once: numba caches it), saying so on terminals (``progress.compile``)."""
    from manyi.core import _kernels
    from manyi.io.progress import step

    if _kernels.cached():
        return
    step("progress.compile", 0, 1, "steps")
    _kernels.warm()
    step("progress.compile", 1, 1, "steps")


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
    from manyi.io.progress import step

    if opts.bootstrap > 0:
        ready_kernels()
    res = drivers_mod.drivers(
        X, y, opts.outcome, opts.bootstrap, opts.seed, _weights(data, opts),
        progress=lambda done, total: step("progress.bootstrap", done, total, "resamples"),
    )
    if opts.outcome == "csi" and opts.drivers == "dimensions":
        res.warnings.append(Message("an.outcome_from_drivers"))
    return res


#: The analyses computed from mergeable sums of the rows (a table's parts, e.g. Parquet parts
#: on Dask workers, are summed where they lie and only the sums travel): name → (sums of a
#: frame, result from the sums).
SUMS: dict[str, tuple[Callable[..., Any], Callable[..., AnalysisResult]]] = {
    "servqual": (sum_servqual, finish_servqual),
    "ipa": (sum_ipa, finish_ipa),
    "spc": (sum_spc, finish_spc),
}


def is_summed(name: str) -> bool:
    """Whether analysis ``name`` is computed from mergeable sums (:data:`SUMS`, and compare,
    whose sums take the ``--by`` column as its groups)."""
    return name in SUMS or name == "compare"


def run_servqual(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    return finish_servqual(inst, sum_servqual(inst, data, opts, _weights(data, opts)), opts)


def run_ipa(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    return finish_ipa(inst, sum_ipa(inst, data, opts, _weights(data, opts)), opts)


def run_spc(inst: Instrument, data: pd.DataFrame, opts: Options) -> AnalysisResult:
    return finish_spc(inst, sum_spc(inst, data, opts, _weights(data, opts)), opts)


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
    check_analysis(name)
    inst, data = responses.instrument, responses.data
    by = list(by or [])
    check_by(data, by)
    if name == "compare":
        return _labelled(_guarded(run_compare, name, inst, data, opts, by), inst, opts, by)
    if not by:
        return _labelled(_guarded(RUNNERS[name], name, inst, data, opts), inst, opts, by)
    return per_group(
        name, inst, opts, by,
        ((keys, lambda sub=sub: RUNNERS[name](inst, sub.reset_index(drop=True), opts))
         for keys, sub in data.groupby(by, observed=True, sort=True, dropna=False)),
    )


def check_analysis(name: str) -> None:
    if name not in RUNNERS:
        raise ManyiError(Message("an.unknown", {"name": name, "choices": ", ".join(RUNNERS)}))


def check_by(data: pd.DataFrame, by: list[str]) -> None:
    for col in by:
        if col not in data:
            raise ManyiError(
                Message(
                    "score.unknown_by",
                    {"column": col, "have": ", ".join(map(str, data.columns[:12]))},
                )
            )


def per_group(
    name: str,
    inst: Instrument,
    opts: Options,
    by: list[str],
    groups: Any,
) -> AnalysisResult:
    """One result from an analysis per ``by`` group (``groups``: (keys, run) pairs in the
    groups' order); a group too small for the analysis is skipped with a warning."""
    parts = []
    skipped: list[Message] = []
    for keys, run in groups:
        keys = keys if isinstance(keys, tuple) else (keys,)
        key_d = dict(zip(by, [None if pd.isna(k) else str(k) for k in keys], strict=True))
        try:
            parts.append((key_d, _guarded(run, name)))
        except ManyiError as exc:  # one small group must not stop the others
            # a missing key reads as the tables' dash, never Python's "None"
            label = ", ".join(f"{k}={'–' if v is None else v}" for k, v in key_d.items())
            skipped += [
                Message("an.group_skipped", {"group": label, "reason": m}) for m in exc.messages
            ]
    if not parts:
        raise ManyiError(*skipped)
    res = combine(parts)
    res.warnings = skipped + res.warnings
    return _labelled(res, inst, opts, by)


def group_key(keys: Any) -> tuple[Any, ...]:
    """A group's key as a tuple with None for missing values (the same in every part)."""
    keys = keys if isinstance(keys, tuple) else (keys,)
    return tuple(None if pd.isna(k) else k for k in keys)


def summed(
    name: str, inst: Instrument, data: pd.DataFrame, opts: Options, by: list[str]
) -> tuple[dict[tuple[Any, ...], tuple[Any, bool]], pd.DataFrame | None]:
    """A table's (or a part's) sums for a summed analysis (:data:`SUMS`, compare): per ``by``
    group {key: (sums, whether a row has a positive weight)}, and the groups' keys as a frame
    (their dtypes decide the order, as for one table). Rows without a weight count where
    unweighted counts are asked for, as in one table."""
    check_by(data, by)
    if not len(data):
        return {}, None
    data = data.reset_index(drop=True)
    w = respondent_weights(data, opts.weights, allow_none=True)[0] if opts.weights else None

    def run(sub: pd.DataFrame, rows: np.ndarray | slice) -> tuple[Any, bool]:
        ws = None if w is None else w[rows]
        got = (
            sum_compare(inst, sub, opts, ws, by)
            if name == "compare"
            else SUMS[name][0](inst, sub, opts, ws)
        )
        return got, ws is None or bool((ws > 0).any())

    if name == "compare" or not by:
        return {(): run(data, slice(None))}, None
    out = {
        group_key(keys): run(sub.reset_index(drop=True), sub.index.to_numpy())
        for keys, sub in data.groupby(by, observed=True, sort=True, dropna=False)
    }
    return out, data[by].drop_duplicates()


def finish_summed(
    name: str,
    inst: Instrument,
    opts: Options,
    by: list[str],
    parts: list[tuple[dict[tuple[Any, ...], tuple[Any, bool]], pd.DataFrame | None]],
) -> AnalysisResult:
    """The result of a summed analysis from its parts' sums (see :func:`summed`), merged in
    the parts' order: the numbers of the analysis on all their rows at once."""
    from manyi.core.wstats import merge_all

    finish = finish_compare if name == "compare" else SUMS[name][1]

    def result(key: tuple[Any, ...]) -> AnalysisResult:
        got = [p[0][key] for p in parts if key in p[0]]
        if not any(g[1] for g in got):
            raise ManyiError(Message("score.weights_none", {"column": opts.weights}))
        return finish(inst, merge_all([g[0] for g in got]), opts)

    if not any(p[0] for p in parts):  # every part without a usable row
        raise ManyiError(Message("an.too_few", {"method": name, "n": 0, "minimum": 1}))
    if name == "compare" or not by:
        return _labelled(_guarded(lambda: result(()), name), inst, opts, by)
    frames = [p[1] for p in parts if p[1] is not None]
    keys = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    seen: set[tuple[Any, ...]] = set()
    runs = []
    for k, _ in keys.groupby(by, observed=True, sort=True, dropna=False):
        key = group_key(k)
        if key not in seen:
            seen.add(key)
            runs.append((k, lambda key=key: result(key)))
    return per_group(name, inst, opts, by, runs)


def _labelled(
    res: AnalysisResult, inst: Instrument, opts: Options, by: list[str]
) -> AnalysisResult:
    """The result with what it was made with (parameters) and the instrument's labels."""
    res.labels = {**inst.labels(), **inst.choice_labels(list(by)), **res.labels}
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


def analyse_part(
    part: Any,
    inst: Instrument,
    name: str,
    opts: Any,
    by: list[str],
    strict: bool = False,
    date_format: str | None = None,
    columns: dict[str, str] | None = None,
) -> tuple[Any, Any, np.ndarray, tuple[str, ...]]:
    """Read, validate and sum one part of a dataset for a summed analysis (runs on a worker;
    see :func:`summed`); with its columns."""
    from manyi.services.distributed import part_hashes, validated_part

    rs = validated_part(part, inst, strict, date_format, columns)
    try:
        sums: Any = summed(name, inst, rs.data, opts, by)
    except ManyiError as exc:  # said by the client, unless the parts' columns differ
        sums = exc
    return sums, rs.report, part_hashes(rs), tuple(map(str, rs.data.columns))


def analyze_dataset(
    req: AnalyzeRequest, inst: Instrument, columns: dict[str, str] | None = None
) -> tuple[AnalysisResult, Any] | None:
    """An analysis that is sums (IPA, SERVQUAL, compare, SPC) of a Parquet dataset: each part
    read, validated and summed where it lies (here or on Dask workers); only the sums travel,
    merged in the parts' order. The result and the merged validation report; None where the
    parts' columns differ (what a part lacks changes what the others' rows are summed into,
    e.g. SERVQUAL's dimension gaps: the clean rows are then put together instead)."""
    from manyi.io.parts import dataset_parts
    from manyi.io.responses import merge_reports
    from manyi.services.distributed import check_ids, runner

    assert req.responses.path is not None
    parts = dataset_parts(str(req.responses.path))
    run = runner(req.read.engine, req.read.scheduler)
    try:
        got = run.map(
            analyse_part, parts, inst=inst, name=req.name, opts=req.options, by=list(req.by),
            strict=req.read.strict, date_format=req.read.date_format, columns=columns,
        )
        check_ids(run, parts, [g[2] for g in got], inst, columns)
    finally:
        run.close()
    if len({g[3] for g in got}) > 1:
        return None
    for g in got:
        if isinstance(g[0], ManyiError):
            raise g[0]
    report = merge_reports([g[1] for g in got])
    report.source = str(req.responses.path)
    return finish_summed(req.name, inst, req.options, list(req.by), [g[0] for g in got]), report


def analyze_chunks(req: AnalyzeRequest, inst: Instrument) -> tuple[AnalysisResult, Any] | None:
    """A summed analysis of a large CSV chunk by chunk (``services.scoring.chunk_reductions``):
    each chunk validated and summed, the sums merged (no table of all rows is put together);
    the result and the merged validation report. None where the file must be read whole (the
    whole-file reader and the analysis then say any mistake exactly); a ``--by`` column the
    file lacks is said at once, from the first chunk."""
    from manyi.services.scoring import chunk_reductions

    by = list(req.by)
    got = chunk_reductions(
        req.responses.path, inst, req.read,
        lambda rs: summed(req.name, inst, rs.data, req.options, by),
        first=lambda rs: check_by(rs.data, by),
    )
    if got is None or not any(s[0] for s in got[0]):
        return None
    return finish_summed(req.name, inst, req.options, by, got[0]), got[1]


def analyze_file(req: AnalyzeRequest) -> AnalysisResult:
    """The use case behind ``manyi analyze``: load, read and validate, analyse. The
    validation report's figures and notes come first among the result's warnings (nothing
    is dropped silently). A Parquet dataset is summed part by part for the analyses that are
    sums (:data:`SUMS`, compare), here or on Dask workers; the others read its clean rows."""
    from manyi.services.scoring import _as_dataset, _column_map, load, read

    inst = load(req.instrument)
    check_analysis(req.name)
    got = None
    if is_summed(req.name):
        if _as_dataset(req.responses, req.read):
            got = analyze_dataset(req, inst, _column_map(req.read))
        else:
            got = analyze_chunks(req, inst)
    if got is None:
        rs = read(req.responses, inst, req.read, chunked=not is_summed(req.name))
        got = analyze(req.name, rs, req.by, req.options), rs.report
    res, rep = got
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
