"""The report as a document in one language: sections of blocks (text, key figures, tables,
charts, recommendations). Every format (HTML, XLSX, PPTX, PDF) renders this same document,
so the numbers agree across formats; a chart carries its own data table, which the
spreadsheet and the deck embed so the chart stays editable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from manyi.core.report import Recommendation, ReportData
from manyi.i18n import Translator, translator

# number formats of table columns (Excel codes; the HTML and the deck use the same digits)
INT, F1, F2, F3, PCT, P = "#,##0", "0.0", "0.00", "0.000", "0.0%", "0.0000"


@dataclass
class Para:
    text: str
    tone: str | None = None  # good | bad: met or missed targets, in words and colour


@dataclass
class Figure:
    label: str
    value: str
    detail: str = ""
    tone: str | None = None


@dataclass
class Figures:
    items: list[Figure]


@dataclass
class Table:
    key: str  # a stable id (tests and sheet anchors)
    title: str
    frame: pd.DataFrame  # display headers; numbers stay numbers
    formats: dict[str, str] = field(default_factory=dict)
    note: str = ""


@dataclass
class Chart:
    key: str
    kind: str  # bar | line | scatter
    title: str  # the message of the chart (a slide's title)
    data: pd.DataFrame  # first column: categories (bar, line) or point labels (scatter)
    series: list[str]  # value columns (scatter: [x, y])
    x_title: str = ""
    y_title: str = ""
    horizontal: bool = False
    dashed: list[str] = field(default_factory=list)  # reference lines (CL, limits, intervals)
    limits: list[str] = field(default_factory=list)  # of those, control limits (drawn red)
    cross: tuple[float, float] | None = None  # scatter: the cross-hairs (x, y)
    shown: list[bool] | None = None  # scatter: which points carry their label (all: None)
    y_range: tuple[float, float] | None = None
    number_format: str = F1


@dataclass
class Bullets:
    items: list[tuple[str, str]]  # (recommendation, evidence)


Block = Para | Figures | Table | Chart | Bullets


@dataclass
class Section:
    key: str
    title: str
    blocks: list[Block]


@dataclass
class Document:
    lang: str
    title: str
    subtitle: str
    sections: list[Section]
    method_note: str  # for the deck's speaker notes
    headline: str
    headline_tone: str | None
    figure_headers: tuple[str, str, str] = (
        "",
        "",
        "",
    )  # key figures as a table: measure, value, detail

    def tables(self) -> dict[str, Table]:
        return {b.key: b for s in self.sections for b in s.blocks if isinstance(b, Table)}

    def charts(self) -> dict[str, Chart]:
        return {b.key: b for s in self.sections for b in s.blocks if isinstance(b, Chart)}


def _f(v: Any, digits: int = 1) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)) or pd.isna(v):
        return "–"
    return f"{float(v):,.{digits}f}"


def _pct(v: Any, digits: int = 1) -> str:
    if v is None or pd.isna(v):
        return "–"
    return f"{100 * float(v):.{digits}f}%"


def _estimates(total: pd.Series, prefix: str, ids: list[str], name: str) -> dict[str, list[Any]]:
    """The scorecard total's estimate, 95 % interval and n of each id (``{prefix}{id}``,
    ``…_ci_low``, ``…_ci_high``, ``…_n``) as table columns, the estimate named ``name``."""
    return {
        name: [total[f"{prefix}{x}"] for x in ids],
        "ci_low": [total[f"{prefix}{x}_ci_low"] for x in ids],
        "ci_high": [total[f"{prefix}{x}_ci_high"] for x in ids],
        "n": [int(total[f"{prefix}{x}_n"]) for x in ids],
    }


class _Builder:
    def __init__(self, data: ReportData, tr: Translator):
        self.d, self.tr, self.lang = data, tr, tr.lang
        self.inst = data.instrument
        self.labels = self.inst.labels()
        self.choices = {  # the labels of segment answers (units, service types)
            ch.id: {"zh": ch.label.zh, "en": ch.label.en}
            for q in self.inst.questions
            if q.type == "choice"
            for ch in (q.choices or [])
            if not isinstance(ch, str)
        }

    # names -----------------------------------------------------------------------------
    def name(self, key: Any) -> str:
        key = str(key)
        lab = self.labels.get(key)
        if lab:
            return lab.get(self.lang) or key
        if key in self.choices:
            return self.choices[key].get(self.lang) or key
        if self.d.model is not None and key in self.d.model.labels:
            return self.d.model.label(key, self.lang)
        return self.tr.get(f"construct.{key}", self.tr.get(f"column.{key}", key))

    def outcome_name(self, key: str) -> str:
        """An outcome by its short name: NPS or CSAT for their questions, else its label."""
        for metric in ("nps", "csat"):
            q = self.inst.metric_question(metric)
            if q is not None and q.id == key:
                return self.tr(f"report.f.{metric}")
        if key == "csi":
            return self.tr("report.f.csi")
        return self.name(key)

    def col(self, key: str) -> str:
        return self.tr.get(f"report.col.{key}", self.tr.column(key))

    def table(
        self, key: str, title: str, frame: pd.DataFrame, formats: dict[str, str], note: str = ""
    ) -> Table:
        """A table with its columns named in the language (formats keyed by the codes)."""
        names = {c: self.col(c) for c in frame.columns}
        return Table(
            key,
            title,
            frame.rename(columns=names),
            {names[c]: f for c, f in formats.items() if c in names},
            note,
        )

    def yes(self, v: Any) -> str:
        if v is None or pd.isna(v):
            return "–"
        return self.tr("report.yes") if bool(v) else self.tr("report.no")

    # sections ------------------------------------------------------------------------
    def method(self) -> Section:
        tr, inst, d = self.tr, self.inst, self.d
        t = d.scores.total.iloc[0]
        sc = inst.scoring
        title = getattr(inst.title, self.lang)
        blocks: list[Block] = [Para(tr("report.purpose", title=title))]
        if d.params.get("purpose"):
            blocks.append(Para(str(d.params["purpose"])))
        v = d.validation
        rate = d.params.get("response_rate")
        first, last = d.params.get("first"), d.params.get("last")
        weights = d.params.get("weights")
        scales = sorted({f"{i.scale_name} ({i.scale.min:g}–{i.scale.max:g})" for i in inst.items})
        rows = [
            (tr("report.m.instrument"), f"{title} ({inst.id} v{inst.version})"),
            (
                tr("report.m.structure"),
                tr("report.m.structure_v", dims=len(inst.dimensions), items=len(inst.items)),
            ),
            (tr("report.m.scales"), ", ".join(scales)),
            (tr("report.m.conversion"), tr(f"report.m.points_{sc.points}")),
            (tr("report.m.index"), tr("report.m.index_v")),
            (tr("report.m.satisfied"), tr("report.m.satisfied_v", at=f"{sc.satisfied_at:g}")),
            (tr("report.m.target"), _pct(sc.target_rate)),
            (tr("report.m.period"), f"{first} – {last}" if first else tr("report.unknown")),
            (
                tr("report.m.responses"),
                tr(
                    "report.m.responses_v",
                    read=v.rows_read,
                    used=v.rows_used,
                    rejected=v.rows_rejected,
                    values=len(v.rejected_values),
                ),
            ),
            (
                tr("report.m.response_rate"),
                tr(
                    "report.m.response_rate_v",
                    rate=_pct(rate),
                    answered=d.params.get("answered"),
                    invited=d.params.get("invited"),
                )
                if rate is not None
                else tr("report.m.response_rate_unknown"),
            ),
            (
                tr("report.m.weighting"),
                tr(
                    "report.m.weighted",
                    column=weights,
                    n_eff=_f(t["n_eff"], 0),
                    deff=_f(t["deff"], 2),
                )
                if weights
                else tr("report.m.unweighted"),
            ),
            (
                tr("report.m.moe"),
                tr(
                    "report.m.moe_v",
                    moe=_f(t["csi_moe"], 2),
                    rate=_pct((t["satisfied_rate_ci_high"] - t["satisfied_rate_ci_low"]) / 2),
                ),
            ),
            (tr("report.m.source"), str(d.params.get("campaign") or d.params.get("source") or "–")),
        ]
        blocks.append(
            Table(
                "method",
                tr("report.t.method"),
                pd.DataFrame(rows, columns=[tr("report.col.aspect"), tr("report.col.value")]),
            )
        )
        dims = pd.DataFrame(
            {
                "dimension": [self.name(x.id) for x in inst.dimensions],
                "weight": list(inst.dimension_weights),
                "items": [len(x.items) for x in inst.dimensions],
            }
        )
        blocks.append(
            self.table(
                "instrument_dimensions",
                tr("report.t.dimensions_weights"),
                dims,
                {"weight": PCT, "items": INT},
            )
        )
        return Section("method", tr("report.s.method"), blocks)

    def results(self) -> Section:
        tr, inst, d = self.tr, self.inst, self.d
        t = d.scores.total.iloc[0]
        met = None if pd.isna(t["meets_target"]) else bool(t["meets_target"])
        tone = None if met is None else ("good" if met else "bad")
        figs = [
            Figure(
                tr("report.f.csi"),
                _f(t["csi"]),
                tr(
                    "report.f.ci_n",
                    low=_f(t["csi_ci_low"]),
                    high=_f(t["csi_ci_high"]),
                    n=int(t["n"]),
                ),
            ),
            Figure(
                tr("report.f.rate"),
                _pct(t["satisfied_rate"]),
                tr(
                    "report.f.target",
                    target=_pct(t["target_rate"]),
                    verdict=tr("report.met") if met else tr("report.not_met"),
                ),
                tone,
            ),
        ]
        for metric, digits in (("nps", 1), ("csat", 2), ("ces", 2)):
            n = int(t.get(f"{metric}_n", 0) or 0)
            if n > 0 and not pd.isna(t.get(metric)):
                figs.append(
                    Figure(
                        tr(f"report.f.{metric}"),
                        _f(t[metric], digits),
                        tr(
                            "report.f.ci_n",
                            low=_f(t[f"{metric}_ci_low"], digits),
                            high=_f(t[f"{metric}_ci_high"], digits),
                            n=n,
                        ),
                    )
                )
        blocks: list[Block] = [Figures(figs), Para(self.headline()[0], tone)]
        dims = pd.DataFrame(
            {
                "dimension": [self.name(x) for x in inst.dimension_ids],
                **_estimates(t, "dim_", inst.dimension_ids, "score"),
            }
        )
        blocks.append(
            self.table(
                "dimensions",
                tr("report.t.dimensions"),
                dims,
                {"score": F1, "ci_low": F1, "ci_high": F1, "n": INT},
            )
        )
        lowest = dims.sort_values("score").iloc[0]
        blocks.append(
            Chart(
                "dimensions",
                "bar",
                tr("report.c.dimensions", lowest=lowest["dimension"], score=_f(lowest["score"])),
                dims[["dimension", "score"]].rename(
                    columns={"dimension": self.col("dimension"), "score": self.col("score")}
                ),
                [self.col("score")],
                y_title=self.col("score"),
                y_range=(0, 100),
            )
        )
        keys = d.scores.keys
        if keys:
            g = d.scores.groups
            known = g[keys].notna().all(axis=1)
            # units ranked by the index; answers without a unit last, out of the ranking
            g = pd.concat(
                [g[known].sort_values("csi", ascending=False), g[~known]], ignore_index=True
            )
            known = g[keys].notna().all(axis=1).to_numpy()
            unit = [
                " · ".join("–" if pd.isna(v) else str(v) for v in row)
                for row in g[keys].itertuples(index=False, name=None)
            ]
            units = pd.DataFrame(
                {
                    "unit": [self.name(u) for u in unit],
                    "n": g["n"].astype(int).to_numpy(),
                    "csi": g["csi"].to_numpy(),
                    "ci_low": g["csi_ci_low"].to_numpy(),
                    "ci_high": g["csi_ci_high"].to_numpy(),
                    "satisfied_rate": g["satisfied_rate"].to_numpy(),
                    "meets_target": [self.yes(x) for x in g["meets_target"]],
                    "small_sample": [self.yes(x) for x in g["small_sample"]],
                }
            )
            small = int(g["small_sample"].astype(bool).sum())
            note = tr("report.small_note", n=small) if small else ""
            blocks.append(
                self.table(
                    "units",
                    tr("report.t.units", by=", ".join(keys)),
                    units,
                    {"n": INT, "csi": F1, "ci_low": F1, "ci_high": F1, "satisfied_rate": PCT},
                    note,
                )
            )
            chart_units = units[known][["unit", "csi"]].iloc[::-1].reset_index(drop=True)
            ranked = units[known & ~g["small_sample"].astype(bool).to_numpy()]
            if ranked.empty:
                ranked = units[known] if known.any() else units
            below = int((g["meets_target"][known] == False).sum())  # noqa: E712
            blocks.append(
                Chart(
                    "units",
                    "bar",
                    tr(
                        "report.c.units",
                        best=ranked["unit"].iloc[0],
                        worst=ranked["unit"].iloc[-1],
                        below=below,
                        total=int(known.sum()),
                    ),
                    chart_units[["unit", "csi"]].rename(
                        columns={"unit": self.col("unit"), "csi": self.col("csi")}
                    ),
                    [self.col("csi")],
                    y_title=self.col("csi"),
                    horizontal=True,
                    y_range=(0, 100),
                )
            )
        items = pd.DataFrame(
            {
                "item": [self.name(i) for i in inst.item_ids],
                "dimension": [self.name(i.dimension) for i in inst.items],
                **_estimates(t, "t2b_", inst.item_ids, "top2box"),
            }
        )
        blocks.append(
            self.table(
                "items",
                tr("report.t.items"),
                items,
                {"top2box": PCT, "ci_low": PCT, "ci_high": PCT, "n": INT},
            )
        )
        if d.trend is not None:
            g = d.trend.groups
            g = g[g["period"].notna()]
            tt = pd.DataFrame(
                {
                    "period": g["period"].astype(str).to_numpy(),
                    "n": g["n"].astype(int).to_numpy(),
                    "csi": g["csi"].to_numpy(),
                    "ci_low": g["csi_ci_low"].to_numpy(),
                    "ci_high": g["csi_ci_high"].to_numpy(),
                    "satisfied_rate": g["satisfied_rate"].to_numpy(),
                }
            )
            if "csi_change" in g:
                tt["csi_change"] = g["csi_change"].to_numpy()
                tt["csi_change_p"] = g["csi_change_p"].to_numpy()
                tt["change_significant"] = [
                    self.yes(x) if x is not None else "–" for x in g["change_significant"]
                ]
                sig = [
                    p
                    for p, s in zip(tt["period"], g["change_significant"], strict=True)
                    if s is True
                ]
            else:
                sig = []
            note = (
                tr("report.trend_sig", periods=", ".join(sig)) if sig else tr("report.trend_none")
            )
            blocks.append(
                self.table(
                    "trend",
                    tr("report.t.trend", period=tr(f"report.period.{d.params['period']}")),
                    tt,
                    {
                        "n": INT,
                        "csi": F1,
                        "ci_low": F1,
                        "ci_high": F1,
                        "satisfied_rate": PCT,
                        "csi_change": F1,
                        "csi_change_p": P,
                    },
                    note,
                )
            )
            if len(tt) >= 2:
                first, last = tt.iloc[0], tt.iloc[-1]
                blocks.append(
                    Chart(
                        "trend",
                        "line",
                        tr(
                            "report.c.trend",
                            first=first["period"],
                            last=last["period"],
                            a=_f(first["csi"]),
                            b=_f(last["csi"]),
                        ),
                        tt[["period", "csi", "ci_low", "ci_high"]].rename(columns=self.col),
                        [self.col("csi"), self.col("ci_low"), self.col("ci_high")],
                        y_title=self.col("csi"),
                        dashed=[self.col("ci_low"), self.col("ci_high")],
                    )
                )
        return Section("results", tr("report.s.results"), blocks)

    def headline(self) -> tuple[str, str | None]:
        t = self.d.scores.total.iloc[0]
        met = None if pd.isna(t["meets_target"]) else bool(t["meets_target"])
        key = "report.msg.met" if met else "report.msg.not_met"
        return (
            self.tr(
                key,
                rate=_pct(t["satisfied_rate"]),
                target=_pct(t["target_rate"]),
                csi=_f(t["csi"]),
                n=int(t["n"]),
            ),
            None if met is None else ("good" if met else "bad"),
        )

    def analysis(self) -> Section:
        tr, d = self.tr, self.d
        blocks: list[Block] = []
        a = d.analyses
        if "servqual" in a:
            r = a["servqual"]
            dims = r.tables["dimensions"]
            t = pd.DataFrame(
                {
                    "dimension": [self.name(x) for x in dims["dimension"]],
                    "n": dims["n"].astype(int),
                    "perception": dims["perception"],
                    "expectation": dims["expectation"],
                    "gap": dims["gap"],
                    "ci_low": dims["ci_low"],
                    "ci_high": dims["ci_high"],
                    "p": dims["p"],
                    "ratio": dims["ratio"],
                }
            )
            ov = r.tables["overall"].set_index("measure")
            blocks.append(
                Para(tr("report.servqual_intro", gap=_f(ov.loc["servqual_unweighted", "value"], 2)))
            )
            blocks.append(
                self.table(
                    "servqual",
                    tr("report.t.servqual"),
                    t,
                    {
                        "n": INT,
                        "perception": F2,
                        "expectation": F2,
                        "gap": F2,
                        "ci_low": F2,
                        "ci_high": F2,
                        "p": P,
                        "ratio": F3,
                    },
                )
            )
            it = r.tables["items"]
            ti = pd.DataFrame(
                {
                    "item": [self.name(x) for x in it["item"]],
                    "n": it["n"].astype(int),
                    "perception": it["perception"],
                    "expectation": it["expectation"],
                    "gap": it["gap"],
                    "ci_low": it["ci_low"],
                    "ci_high": it["ci_high"],
                    "p": it["p"],
                    "ratio": it["ratio"],
                }
            ).sort_values("gap")
            blocks.append(
                self.table(
                    "servqual_items",
                    tr("report.t.servqual_items"),
                    ti,
                    {
                        "n": INT,
                        "perception": F2,
                        "expectation": F2,
                        "gap": F2,
                        "ci_low": F2,
                        "ci_high": F2,
                        "p": P,
                        "ratio": F3,
                    },
                )
            )
            worst = t.sort_values("gap").iloc[0]
            blocks.append(
                Chart(
                    "servqual",
                    "bar",
                    tr("report.c.servqual", dimension=worst["dimension"], gap=_f(worst["gap"], 2)),
                    t[["dimension", "expectation", "perception"]].rename(columns=self.col),
                    [self.col("expectation"), self.col("perception")],
                    number_format=F2,
                )
            )
        if "ipa" in a:
            r = a["ipa"]
            it = r.tables["items"]
            it = it[it["quadrant"] != "no_data"]
            c = r.tables["crosshairs"].iloc[0]
            t = pd.DataFrame(
                {
                    "item": [self.name(x) for x in it["item"]],
                    "dimension": [self.name(x) for x in it["dimension"]],
                    "importance": it["importance"].to_numpy(),
                    "performance": it["performance"].to_numpy(),
                    "quadrant": [tr(f"quadrant.{q}") for q in it["quadrant"]],
                    "priority": it["priority"].to_numpy(),
                }
            )
            kind = r.params.get("importance", "stated")
            blocks.append(
                Para(
                    tr(
                        "report.ipa_intro",
                        kind=tr(f"report.importance.{kind}"),
                        imp=_f(c["importance_cross"], 2),
                        perf=_f(c["performance_cross"]),
                    )
                )
            )
            blocks.append(
                self.table(
                    "ipa",
                    tr("report.t.ipa"),
                    t,
                    {"importance": F2, "performance": F1, "priority": F2},
                )
            )
            conc = int((it["quadrant"] == "concentrate").sum())
            blocks.append(
                Chart(
                    "ipa",
                    "scatter",
                    tr("report.c.ipa", n=conc),
                    t[["item", "performance", "importance"]].rename(columns=self.col),
                    [self.col("performance"), self.col("importance")],
                    x_title=self.col("performance"),
                    y_title=self.col("importance"),
                    number_format=F2,
                    cross=(float(c["performance_cross"]), float(c["importance_cross"])),
                    # many points: only those to act on are labelled (the rest in the table)
                    shown=None if len(t) <= 12 else list(it["quadrant"] == "concentrate"),
                )
            )
        if "drivers" in a:
            r = a["drivers"]
            dr = r.tables["drivers"]
            m = r.tables["model"].iloc[0]
            outcome = str(m["outcome"])
            t = pd.DataFrame(
                {
                    "driver": [self.name(x) for x in dr["driver"]],
                    "beta": dr["beta"],
                    "p": dr["p"],
                    "relative_weight": dr["relative_weight"],
                    "rw_ci_low": dr["rw_ci_low"],
                    "rw_ci_high": dr["rw_ci_high"],
                    "rescaled_rw": dr["rescaled_rw"],
                }
            )
            blocks.append(
                Para(
                    tr(
                        "report.drivers_intro",
                        outcome=self.outcome_name(outcome),
                        r2=_f(m["r2"], 3),
                        n=int(m["n"]),
                        b=int(m["bootstrap"]),
                    )
                )
            )
            blocks.append(
                self.table(
                    "drivers",
                    tr("report.t.drivers"),
                    t,
                    {
                        "beta": F3,
                        "p": P,
                        "relative_weight": F3,
                        "rw_ci_low": F3,
                        "rw_ci_high": F3,
                        "rescaled_rw": PCT,
                    },
                )
            )
            top = t.sort_values("relative_weight", ascending=False)
            blocks.append(
                Chart(
                    "drivers",
                    "bar",
                    tr(
                        "report.c.drivers",
                        driver=top["driver"].iloc[0],
                        outcome=self.outcome_name(outcome),
                    ),
                    top[["driver", "rescaled_rw"]].iloc[::-1].rename(columns=self.col),
                    [self.col("rescaled_rw")],
                    horizontal=True,
                    number_format=PCT,
                )
            )
        if "spc" in a:
            r = a["spc"]
            sig = r.tables["signals"]
            main = "xbar_chart" if "xbar_chart" in r.tables else "i_chart"
            ch = r.tables[main]
            t = ch[["period", "mean", "cl", "lcl", "ucl"]].rename(columns=self.col)
            n_sig = len(sig)
            blocks.append(
                Chart(
                    "spc",
                    "line",
                    tr("report.c.spc", n=n_sig, chart=tr(f"chart.{main}")),
                    t,
                    [self.col(c) for c in ("mean", "cl", "lcl", "ucl")],
                    y_title=self.col("csi"),
                    dashed=[self.col(c) for c in ("cl", "lcl", "ucl")],
                    limits=[self.col(c) for c in ("lcl", "ucl")],
                )
            )
            p = r.tables["p_chart"]

            def share(c: str) -> str:  # the p-chart's p is the dissatisfied share
                return tr.column(c, "p_chart") if c == "p" else self.col(c)

            blocks.append(
                Chart(
                    "p_chart",
                    "line",
                    tr("chart.p_chart"),
                    p[["period", "p", "cl", "lcl", "ucl"]].rename(columns=share),
                    [share(c) for c in ("p", "cl", "lcl", "ucl")],
                    dashed=[self.col(c) for c in ("cl", "lcl", "ucl")],
                    limits=[self.col(c) for c in ("lcl", "ucl")],
                    number_format=PCT,
                )
            )
            if n_sig:
                sig = sig.sort_values("period", ascending=False, kind="stable")
                more = tr("report.more_signals", n=n_sig - SIGNALS) if n_sig > SIGNALS else ""
                sig = sig.head(SIGNALS)
                st = pd.DataFrame(
                    {
                        "chart": [tr(f"chart.{x}") for x in sig["chart"]],
                        "period": sig["period"].astype(str),
                        "rule": [tr(f"spc.rule.{int(x)}") for x in sig["rule"]],
                        "value": sig["value"],
                    }
                )
                blocks.append(
                    self.table("signals", tr("report.t.signals"), st, {"value": F3}, more)
                )
            else:
                blocks.append(Para(tr("report.no_signals")))
        if d.model is not None:
            blocks += self.model_blocks(d.model)
        if d.cases is not None:
            blocks += self.case_blocks(d.cases)
        for name, msgs in d.skipped.items():
            if name == "reliability":
                continue
            blocks.append(
                Para(
                    tr(
                        "report.skipped",
                        analysis=tr(f"report.analysis.{name}"),
                        reason="; ".join(m.render(self.lang) for m in msgs),
                    )
                )
            )
        return Section("analysis", tr("report.s.analysis"), blocks)

    def model_blocks(self, m: Any) -> list[Block]:
        tr = self.tr
        paths = m.tables["paths"]
        cols = {
            "from": [self.name(x) for x in paths["from"]],
            "to": [self.name(x) for x in paths["to"]],
            "estimate": paths["estimate"],
        }
        for c in ("ci_low", "ci_high", "p"):
            if c in paths:
                cols[c] = paths[c]
        t = pd.DataFrame(cols)
        target = str(m.params.get("target", ""))
        r2 = m.tables["r2"]
        r2t = r2.set_index("construct")["r2"] if "construct" in r2 else pd.Series(dtype=float)
        out: list[Block] = [
            Para(
                tr(
                    "report.model_intro",
                    n=m.n,
                    target=self.name(target),
                    r2=_f(r2t.get(target, float("nan")), 3),
                    b=(m.params.get("bootstrap") or {}).get("resamples", 0),
                )
            ),
            self.table(
                "model_paths",
                tr("report.t.model_paths"),
                t,
                {"estimate": F3, "ci_low": F3, "ci_high": F3, "p": P},
            ),
        ]
        ip = m.tables["ipma_constructs"]
        if len(ip):
            it = pd.DataFrame(
                {
                    "construct": [self.name(x) for x in ip["construct"]],
                    "importance": ip["importance"],
                    "performance": ip["performance"],
                }
            )
            out.append(
                self.table(
                    "ipma",
                    tr("report.t.ipma", target=self.name(target)),
                    it,
                    {"importance": F3, "performance": F1},
                )
            )
            out.append(
                Chart(
                    "ipma",
                    "scatter",
                    tr("chart.ipma_title", target=self.name(target)),
                    it[["construct", "performance", "importance"]].rename(columns=self.col),
                    [self.col("performance"), self.col("importance")],
                    x_title=self.col("performance"),
                    y_title=self.col("importance"),
                    number_format=F3,
                )
            )
        return out

    def case_blocks(self, c: Any) -> list[Block]:
        tr = self.tr
        p = c.tables["pareto"].copy()
        # the desk's category codes by their names; other words as the file wrote them
        p["category"] = [tr.get(f"desk.category.{v}", v) for v in p["category"]]
        out: list[Block] = [
            Para(
                tr(
                    "report.cases_intro",
                    contacts=c.params.get("contacts", c.n),
                    complaints=c.n,
                    file=c.params.get("file", ""),
                )
            )
        ]
        out.append(
            self.table(
                "cases_pareto",
                tr("report.t.cases_pareto"),
                p,
                {"complaints": INT, "share": PCT, "cumulative_share": PCT},
            )
        )
        if len(p):
            top = p.iloc[0]
            out.append(
                Chart(
                    "cases_pareto",
                    "bar",
                    tr("report.c.cases", category=str(top["category"])[:1].upper() + str(top["category"])[1:],
                       share=_pct(top["share"])),
                    p[["category", "complaints"]].rename(columns=self.col),
                    [self.col("complaints")],
                    number_format=INT,
                )
            )
        if "by_month" in c.tables and len(c.tables["by_month"]) >= 2:
            bm = c.tables["by_month"]
            out.append(
                Chart(
                    "cases_month",
                    "line",
                    tr("report.c.cases_month"),
                    bm.rename(columns=self.col),
                    [self.col("contacts"), self.col("complaints")],
                    number_format=INT,
                )
            )
        return out

    def recommendations(self) -> Section:
        items = [self.recommendation(r) for r in self.d.recommendations]
        blocks: list[Block] = [Para(self.tr("report.rec_intro"))]
        blocks.append(Bullets(items) if items else Para(self.tr("report.rec_none")))
        return Section("recommendations", self.tr("report.s.recommendations"), blocks)

    def recommendation(self, r: Recommendation) -> tuple[str, str]:
        if r.kind == "note":
            return r.text or "", r.evidence_text or self.tr("report.ev.note")
        v = dict(r.values)
        tr = self.tr
        fmt = {
            "name": self.name(r.subject),
            "rate": _pct(v.get("rate")),
            "low": v.get("low"),
            "high": v.get("high"),
            "target": _pct(v["target"])
            if isinstance(v.get("target"), float)
            else self.name(v.get("target", "")),
            "n": v.get("n"),
        }
        if r.kind in ("overall_below", "unit_below"):
            fmt.update(low=_pct(v.get("low")), high=_pct(v.get("high")), csi=_f(v.get("csi")))
        elif r.kind == "concentrate":
            fmt.update(
                importance=_f(v["importance"], 2),
                performance=_f(v["performance"]),
                kind=tr(f"report.importance.{v['importance_kind']}"),
            )
        elif r.kind == "gap":
            fmt.update(
                p_=_f(v["perception"], 2),
                e=_f(v["expectation"], 2),
                gap=_f(v["gap"], 2),
                low=_f(v["low"], 2),
                high=_f(v["high"], 2),
                p=f"{v['p']:.2g}",
            )
        elif r.kind == "signal":
            fmt.update(
                chart=tr(f"chart.{v['chart']}"),
                rule=tr(f"spc.rule.{v['rule']}"),
                value=_f(v["value"], 3),
            )
        elif r.kind == "driver":
            fmt.update(
                outcome=self.outcome_name(v["outcome"]),
                share=_pct(v.get("share")),
                low=_f(v.get("low"), 3),
                high=_f(v.get("high"), 3),
                r2=_f(v.get("r2"), 3),
            )
        elif r.kind == "model":
            fmt.update(
                importance=_f(v["importance"], 3),
                performance=_f(v["performance"]),
                mean=_f(v["mean_performance"]),
            )
        return tr(f"report.rec.{r.kind}", **fmt), tr(f"report.ev.{r.kind}", **fmt)

    def appendix(self) -> Section:
        tr, inst, d = self.tr, self.inst, self.d
        blocks: list[Block] = []
        q = pd.DataFrame(
            {
                "dimension": [self.name(i.dimension) for i in inst.items],
                "item": [i.id for i in inst.items],
                "text": [getattr(i.text, self.lang) for i in inst.items],
                "scale": [self.scale_text(i.scale) for i in inst.items],
                "reverse": [self.yes(i.reverse) for i in inst.items],
                "weight": [i.weight for i in inst.items],
            }
        )
        blocks.append(self.table("questionnaire", tr("report.t.questionnaire"), q, {"weight": PCT}))
        other = [x for x in inst.questions]
        if other:
            qq = pd.DataFrame(
                {
                    "question": [x.id for x in other],
                    "text": [getattr(x.text, self.lang) for x in other],
                    "type": [x.type for x in other],
                }
            )
            blocks.append(self.table("questions", tr("report.t.questions"), qq, {}))
        rel = d.analyses.get("reliability")
        if rel is not None:
            rd = rel.tables["dimensions"]
            t = pd.DataFrame(
                {
                    "dimension": [self.name(x) for x in rd["dimension"]],
                    "n": rd["n"],
                    "n_items": rd["n_items"],
                    "alpha": rd["alpha"],
                    "alpha_ci_low": rd["alpha_ci_low"],
                    "alpha_ci_high": rd["alpha_ci_high"],
                    "omega": rd["omega"],
                }
            )
            blocks.append(
                self.table(
                    "reliability",
                    tr("report.t.reliability"),
                    t,
                    {
                        "n": INT,
                        "n_items": INT,
                        "alpha": F3,
                        "alpha_ci_low": F3,
                        "alpha_ci_high": F3,
                        "omega": F3,
                    },
                )
            )
            if "adequacy" in rel.tables:
                ad = rel.tables["adequacy"]
                blocks.append(
                    self.table(
                        "adequacy",
                        tr("report.t.adequacy"),
                        ad[
                            [
                                c
                                for c in ("n", "kmo", "bartlett_chi2", "bartlett_df", "bartlett_p")
                                if c in ad
                            ]
                        ],
                        {
                            "n": INT,
                            "kmo": F3,
                            "bartlett_chi2": F1,
                            "bartlett_df": INT,
                            "bartlett_p": P,
                        },
                    )
                )
        elif "reliability" in d.skipped:
            blocks.append(
                Para(
                    tr(
                        "report.skipped",
                        analysis=tr("report.analysis.reliability"),
                        reason="; ".join(m.render(self.lang) for m in d.skipped["reliability"]),
                    )
                )
            )
        v = d.validation
        blocks.append(Para(v.summary(self.lang)))
        issues = v.issues[:LIMIT]
        if issues:
            vt = pd.DataFrame(
                [i.to_dict(self.lang) for i in issues], columns=["row", "column", "value", "reason"]
            )
            note = (
                tr("report.more_issues", n=len(v.issues) - LIMIT) if len(v.issues) > LIMIT else ""
            )
            blocks.append(self.table("rejected", tr("report.t.rejected"), vt, {"row": INT}, note))
        for w in v.warnings:
            blocks.append(Para(w.render(self.lang)))
        return Section("appendix", tr("report.s.appendix"), blocks)

    def scale_text(self, s: Any) -> str:
        labels = [f"{k:g} {getattr(t, self.lang)}" for k, t in sorted(s.labels.items())]
        rng = f"{s.min:g}–{s.max:g}"
        return f"{rng}: {', '.join(labels)}" if labels else rng

    def build(self) -> Document:
        tr, inst = self.tr, self.inst
        sections = [
            self.method(),
            self.results(),
            self.analysis(),
            self.recommendations(),
            self.appendix(),
        ]
        first, last = self.d.params.get("first"), self.d.params.get("last")
        period = f"{first} – {last}" if first else ""
        sub = tr(
            "report.subtitle",
            n=int(self.d.scores.total["n"].iloc[0]),
            period=period or "–",
            date=date.today().isoformat(),
        )
        method = sections[0].blocks
        design = next(b for b in method if isinstance(b, Table) and b.key == "method")
        method_note = " ".join(f"{a}: {v}." for a, v in design.frame.itertuples(index=False))
        head, tone = self.headline()
        return Document(
            self.lang,
            tr("report.title", title=getattr(inst.title, self.lang)),
            sub,
            sections,
            method_note,
            head,
            tone,
            (tr("report.col.measure"), tr("report.col.value"), tr("report.col.detail")),
        )


#: Rejected values listed in the appendix (the count of the rest is given).
LIMIT = 100
#: Control-chart signals listed, newest first (the count of the rest is given).
SIGNALS = 12


def document(data: ReportData, lang: str | Translator) -> Document:
    """The report of ``data`` in ``lang`` (zh or en)."""
    tr = lang if isinstance(lang, Translator) else translator(lang)
    return _Builder(data, tr).build()
