"""A PLS path model and its estimation: construction (seminr style, templates, an
instrument's dimensions), validation, data preparation (missing values, minimum sizes),
fitting on the correlation matrix (``engine``), the bootstrap (``inference``), and the
tables of the result (``tables``, ``quality``, ``index``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.messages import Message
from manyi.core.pls import engine as eng
from manyi.core.pls import tables
from manyi.core.pls.index import index_0_100, item_bounds
from manyi.core.pls.inference import bootstrap as bootstrap_model
from manyi.core.pls.inference import jackknife
from manyi.core.pls.quality import reliability
from manyi.core.pls.result import PLSResult, _err
from manyi.core.pls.spec import ModelSpec, parse_model_spec, resolve_spec


class PLSModel:
    """A PLS path model: constructs (mode A/B, items) and paths (from → to)."""

    def __init__(
        self,
        constructs: Mapping[str, Any] | None = None,
        paths: Sequence[tuple[str, str]] | None = None,
        scheme: str = "path",
        scale: Mapping[str, float] | None = None,
        item_scales: Mapping[str, tuple[float, float]] | None = None,
        target: str | None = None,
        missing: str = "mean",
        max_iter: int = 300,
        tol: float = 1e-7,
        spec: ModelSpec | None = None,
    ):
        if spec is None:
            spec = parse_model_spec(
                {
                    "constructs": dict(constructs or {}),
                    "paths": [list(p) for p in (paths or [])],
                    "scheme": scheme,
                    "scale": dict(scale) if scale else None,
                    "target": target,
                    "missing": missing,
                    "max_iter": max_iter,
                    "tol": tol,
                }
            )
        self.spec = spec
        self.item_scales = dict(item_scales or {})
        self._validate()

    # -- construction helpers -----------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: ModelSpec | Mapping[str, Any], instrument: Any = None) -> PLSModel:
        """From a ``model:`` section (dict or ModelSpec), resolving templates/dimensions."""
        if not isinstance(spec, ModelSpec):
            spec = parse_model_spec(spec)
        spec = resolve_spec(spec, instrument)
        item_scales = {}
        if instrument is not None:
            for it in instrument.items:
                item_scales[it.id] = (it.scale.min, it.scale.max)
        return cls(spec=spec, item_scales=item_scales)

    @classmethod
    def template(cls, name: str, instrument: Any = None, **constructs: Any) -> PLSModel:
        """The ACSI or ECSI structure, constructs from an instrument or given as items."""
        return cls.from_spec({"template": name, "constructs": constructs}, instrument)

    def _validate(self) -> None:
        spec = self.spec
        names = list(spec.constructs)
        if not names:
            raise _err("pls.no_constructs")
        for f, t in spec.paths:
            for c in (f, t):
                if c not in spec.constructs:
                    raise _err(
                        "pls.undefined_construct",
                        path=f"{f} → {t}",
                        construct=c,
                        have=", ".join(names),
                    )
        in_path = {c for p in spec.paths for c in p}
        for c in names:
            if c not in in_path:
                raise _err("pls.isolated", construct=c)
            if not spec.constructs[c].items:
                raise _err("pls.no_items", construct=c)
        seen: dict[str, str] = {}
        for c in names:
            for i in spec.constructs[c].items or []:
                if i in seen:
                    raise _err("pls.item_twice", item=i, a=seen[i], b=c)
                seen[i] = c
        # acyclic: repeated removal of constructs without antecedents
        remaining = set(names)
        edges = set(spec.paths)
        while remaining:
            free = {c for c in remaining if not any(t == c and f in remaining for f, t in edges)}
            if not free:
                raise _err("pls.cycle", constructs=", ".join(sorted(remaining)))
            remaining -= free
        if spec.target is not None and spec.target not in spec.constructs:
            raise _err("pls.unknown_target", target=spec.target, have=", ".join(names))

    @property
    def constructs(self) -> list[str]:
        return list(self.spec.constructs)

    @property
    def items(self) -> list[str]:
        return [i for c in self.constructs for i in (self.spec.constructs[c].items or [])]

    @property
    def target(self) -> str:
        if self.spec.target:
            return self.spec.target
        # the last construct that has no successors, in definition order
        sinks = [c for c in self.constructs if not any(f == c for f, _ in self.spec.paths)]
        return sinks[-1]

    def layout(self) -> eng.Layout:
        names, items = self.constructs, self.items
        p, m = len(items), len(names)
        mask = np.zeros((p, m))
        blocks = []
        for j, c in enumerate(names):
            idx = np.array(
                [items.index(i) for i in self.spec.constructs[c].items or []], dtype=np.int64
            )
            mask[idx, j] = 1.0
            blocks.append(idx)
        P = np.zeros((m, m))
        for f, t in self.spec.paths:
            P[names.index(f), names.index(t)] = 1.0
        endo = [j for j in range(m) if P[:, j].any()]
        mode_b = np.array([self.spec.constructs[c].mode == "B" for c in names])
        return eng.Layout(mask, blocks, mode_b, P, endo, [np.flatnonzero(P[:, j]) for j in endo])

    # -- data ---------------------------------------------------------------------------
    def _prepare(self, data: pd.DataFrame) -> tuple[np.ndarray, list[Message], np.ndarray]:
        missing_cols = [i for i in self.items if i not in data.columns]
        if missing_cols:
            raise _err("pls.missing_items", items=", ".join(missing_cols[:8]))
        cols, bad = [], []
        for c in self.items:
            raw = data[c]
            num = pd.to_numeric(raw, errors="coerce")
            if not pd.api.types.is_numeric_dtype(raw.dtype):
                text = raw.astype("string").str.strip().str.lower()
                blank = text.isna() | text.isin(["", "na", "n/a", "nan", "null", "none", "不适用"])
                if (num.isna() & ~blank).any():
                    bad.append(c)
            cols.append(num.to_numpy(dtype=float, na_value=np.nan))
        if bad:
            raise _err("pls.not_numeric", items=", ".join(bad[:8]))
        X = np.column_stack(cols)
        warnings: list[Message] = []
        nmiss = int(np.isnan(X).sum())
        if self.spec.missing == "casewise":
            keep = ~np.isnan(X).any(axis=1)
            if (~keep).any():
                warnings.append(Message("pls.casewise", {"n": int((~keep).sum())}))
            X = X[keep]
        missing = np.isnan(X)
        if nmiss and self.spec.missing != "casewise":
            means = np.nanmean(X, axis=0)
            rows, cols = np.nonzero(np.isnan(X))
            X[rows, cols] = means[cols]
            warnings.append(Message("pls.mean_replaced", {"n": nmiss}))
        n = len(X)
        # the largest regression of the algorithm: a construct's antecedents (inner model) or
        # a formative (mode B) block's items (outer model)
        preds = [sum(1 for _, t in self.spec.paths if t == c) for c in self.constructs]
        preds += [
            len(self.spec.constructs[c].items or [])
            for c in self.constructs
            if self.spec.constructs[c].mode == "B"
        ]
        k = max(preds + [1])
        if n < max(10, k + 2):
            raise _err("pls.too_few", n=n, minimum=max(10, k + 2), k=k)
        if n < 10 * k:
            warnings.append(Message("pls.ten_times", {"n": n, "k": k, "minimum": 10 * k}))
        if n < len(self.items):
            warnings.append(Message("pls.fewer_than_items", {"n": n, "p": len(self.items)}))
        sd = X.std(axis=0, ddof=1)
        const = [self.items[k] for k in np.flatnonzero(~(sd > 0))]
        if const:
            raise _err("pls.constant", items=", ".join(const))
        return X, warnings, missing

    # -- fitting ------------------------------------------------------------------------
    def fit(
        self,
        data: pd.DataFrame,
        bootstrap: int = 5000,
        seed: int | None = 1,
        scheme: str | None = None,
        indices: np.ndarray | None = None,
        sign_change: str = "none",
        level: float = 0.95,
        progress: Callable[[int, int], None] | None = None,
        batch: int | None = None,
        bootstrap_missing: str = "resample",
        runner: Any = None,
    ) -> PLSResult:
        """Estimate the model on ``data`` (one column per item) and optionally bootstrap it.

        ``bootstrap``: number of resamples (0 for none); ``seed`` makes them reproducible
        (indices drawn as ``numpy.random.default_rng(seed).integers(0, n, n)`` per resample,
        which is also what the seminr package draws for the same seed); ``indices`` (B × n)
        injects resamples. ``sign_change``: ``none`` (SmartPLS/seminr default) or
        ``individual`` (each resample's estimate takes the sign of the full-sample estimate).
        ``runner`` computes the blocks of resamples elsewhere (e.g. on Dask workers; see
        ``manyi.core.pls.inference.LocalBlocks``): the counts are drawn here either way, so a
        seed gives the same intervals.
        """
        scheme = scheme or self.spec.scheme
        if scheme not in eng.SCHEMES:
            raise _err("pls.bad_scheme", scheme=scheme)
        if sign_change not in ("none", "individual"):
            raise _err("pls.bad_sign_change", value=sign_change)
        if bootstrap < 0:
            raise _err("pls.bad_bootstrap", value=bootstrap)
        if bootstrap_missing not in ("resample", "once"):
            raise _err("pls.bad_bootstrap_missing", value=bootstrap_missing)
        X, warnings, miss = self._prepare(data)
        if bootstrap_missing == "once":
            miss = np.zeros_like(miss)
        n = len(X)
        lay = self.layout()
        mean, sd = X.mean(axis=0), X.std(axis=0, ddof=1)
        Z = (X - mean) / sd
        R = (Z.T @ Z / (n - 1))[None]
        fit = eng.estimate(R, lay, scheme, self.spec.max_iter, self.spec.tol)
        if not fit.ok[0]:
            raise _err("pls.singular")
        if not fit.converged[0]:
            raise _err("pls.no_convergence", iterations=int(fit.passes[0]), tol=self.spec.tol)
        est = eng.estimates(fit, lay)
        W = fit.W[0]
        boot = None
        if bootstrap or indices is not None:
            boot = bootstrap_model(
                Z,
                miss,
                lay,
                scheme,
                bootstrap,
                seed,
                indices,
                sign_change,
                est,
                W,
                progress,
                batch,
                self.spec.max_iter,
                self.spec.tol,
                runner,
            )
            if boot.inadmissible:
                warnings.append(
                    Message(
                        "pls.inadmissible",
                        {"n": boot.inadmissible, "of": boot.resamples + boot.inadmissible},
                    )
                )
        return self._result(
            X, Z, miss, R[0], W, est, int(fit.passes[0]), scheme, boot, level, warnings, lay
        )

    def _result(
        self, X, Z, miss, R, W, est, iterations, scheme, boot, level, warnings, lay
    ) -> PLSResult:
        """Every table of the fitted model (``tables``, ``quality``, ``index``)."""
        names, items = self.constructs, self.items
        n = len(X)
        max_iter, tol = self.spec.max_iter, self.spec.tol
        loadings = est.loadings[0]
        jack = jackknife(Z, miss, lay, scheme, max_iter, tol) if boot is not None else None
        paths = tables.paths_table(
            names, est, lay, boot, jack, R, scheme, max_iter, tol, level, warnings
        )
        rel = reliability(R, W, loadings, lay, names)
        ave = rel.set_index("construct")["ave"]
        CYdf = pd.DataFrame(est.CY[0], index=names, columns=names)
        fl_m = est.CY[0].copy()  # Fornell–Larcker: √AVE on the diagonal
        np.fill_diagonal(fl_m, np.sqrt(ave.reindex(names).to_numpy(float)))
        fl = pd.DataFrame(fl_m, index=names, columns=names)
        htmt, htmt_signed, htmt_table = tables.htmt_tables(names, R, lay, boot, level)
        lo, hi = item_bounds(items, self.spec.scale, self.item_scales)
        index, index_table, pts_mean, rescaled = index_0_100(X, W, lay, names, lo, hi, boot, level)
        if np.isnan(lo).any():
            warnings.append(Message("pls.no_scale"))
        return PLSResult(
            model=self,
            n=n,
            iterations=iterations,
            scheme=scheme,
            missing=self.spec.missing,
            constructs=names,
            items=items,
            outer=tables.outer_table(names, items, W, loadings, lay, boot, level),
            paths=paths,
            r2=tables.r2_table(names, est.r2[0], lay, n, boot, level),
            effects=tables.effects_table(names, est, lay, boot, level),
            reliability=rel,
            htmt=htmt,
            htmt_signed=htmt_signed,
            htmt_table=htmt_table,
            fornell_larcker=fl,
            scores=pd.DataFrame(Z @ W, columns=names),
            index=pd.Series(index, name="index"),
            item_performance=pd.Series(pts_mean, index=items, name="performance"),
            rescaled_weights=pd.Series(rescaled, index=items, name="rescaled_weight"),
            bootstrap=boot,
            warnings=warnings,
            construct_corr=CYdf,
            index_table=index_table,
        )
