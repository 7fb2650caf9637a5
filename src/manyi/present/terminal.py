"""Results rendered for a terminal (Rich tables), in the language ``lang`` of a catalogue.

Used by the command line; the web app and the report render the same results to HTML. Each
function returns renderables or lines; printing is the caller's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.table import Table

from manyi.i18n import column, t, translator

if TYPE_CHECKING:
    from manyi.core.scoring import ScoreResult


def fmt(v: Any, spec: str = ".1f") -> str:
    try:
        if v is None or v is pd.NA or v != v:
            return "–"
        return format(float(v), spec)
    except (TypeError, ValueError):
        return str(v)


def ci(lo: Any, hi: Any, scale: float = 1.0, spec: str = ".1f") -> str:
    if fmt(lo) == "–" or fmt(hi) == "–":
        return "–"
    if lo < 0 or hi < 0:  # "-8.2–-6.5" reads badly
        return f"{fmt(scale * lo, spec)}, {fmt(scale * hi, spec)}"
    return f"{fmt(scale * lo, spec)}–{fmt(scale * hi, spec)}"


def _key_label(result: ScoreResult, key: str, value: Any, lang: str) -> str:
    """A group key as the user reads it: a choice's label in ``lang``, else the value."""
    if value is None or value != value:
        return "–"
    try:
        q = result.instrument.question(key)
    except KeyError:
        return str(value)
    for c in q.choices or []:
        if not isinstance(c, str) and c.id == value:
            return c.label.get(lang)
    return str(value)


def _group_labels(result: ScoreResult, lang: str) -> list[str]:
    labels = []
    for _, row in result.groups.iterrows():
        label = " · ".join(_key_label(result, k, row[k], lang) for k in result.keys)
        labels.append(label or t("col.all", lang))
    return labels


def scorecard_table(result: ScoreResult, lang: str) -> Table:
    """The scorecard: one row per group, then the total; index and rate with 95 % intervals."""
    import pandas as pd

    inst = result.instrument
    table = Table(
        title=t("title.scorecard", lang, title=inst.title.get(lang)), title_justify="left"
    )
    table.add_column(t("col.group", lang))
    table.add_column(t("col.n", lang), justify="right")
    table.add_column(f"{t('col.csi', lang)} ({t('col.csi_ci', lang)})", justify="right")
    table.add_column(f"{t('col.rate', lang)} ({t('col.rate_ci', lang)})", justify="right")
    table.add_column(t("col.meets", lang), justify="center")
    metrics = [
        m for m in ("nps", "csat", "ces") if m in result.groups and result.groups[m].notna().any()
    ]
    for m in metrics:
        table.add_column(t(f"col.{m}", lang), justify="right")
    changes = "csi_change" in result.groups
    if changes:
        table.add_column(t("col.change", lang), justify="right")

    def add(row: Any, label: str, bold: bool = False) -> None:
        meets = row["meets_target"]
        meets = None if meets is None or pd.isna(meets) else bool(meets)
        cells = [
            label,
            f"{int(row['n'])}{'*' if bool(row['small_sample']) else ''}",
            f"{fmt(row['csi'])} ({ci(row['csi_ci_low'], row['csi_ci_high'])})",
            f"{fmt(100 * row['satisfied_rate'])}% "
            f"({ci(row['satisfied_rate_ci_low'], row['satisfied_rate_ci_high'], 100)})",
            "–" if meets is None else ("[green]✓[/]" if meets else "[red]✗[/]"),
        ]
        for m in metrics:
            lo, hi = row.get(f"{m}_ci_low"), row.get(f"{m}_ci_high")
            cells.append(f"{fmt(row[m])} ({ci(lo, hi)})" if lo is not None else fmt(row[m]))
        if changes:
            ch = row.get("csi_change")
            if ch is None or ch != ch:
                cells.append("–")
            else:
                star = "*" if row.get("change_significant") else ""
                cells.append(("[green]▲" if ch > 0 else "[red]▼") + f" {ch:+.1f}{star}[/]")
        table.add_row(*cells, style="bold" if bold else None)

    for label, (_, row) in zip(_group_labels(result, lang), result.groups.iterrows(), strict=True):
        add(row, label)
    if result.keys:
        table.add_section()
        add(result.total.iloc[0], t("col.all", lang), bold=True)
    target = f"{100 * inst.scoring.target_rate:.0f}%"
    table.caption = t("cli.scorecard_caption", lang, target=target, at=inst.scoring.satisfied_at)
    return table


def dimensions_table(result: ScoreResult, lang: str) -> Table:
    """Dimension indices (0-100) per group, then the total."""
    inst = result.instrument
    table = Table(title=t("title.dimensions", lang), title_justify="left")
    table.add_column(t("col.group", lang))
    for d in inst.dimensions:
        table.add_column(d.label.get(lang), justify="right")

    def cells(row: Any) -> list[str]:
        return [
            f"{fmt(row[f'dim_{d.id}'])} "
            f"({ci(row[f'dim_{d.id}_ci_low'], row[f'dim_{d.id}_ci_high'])})"
            for d in inst.dimensions
        ]

    for label, (_, row) in zip(_group_labels(result, lang), result.groups.iterrows(), strict=True):
        table.add_row(label, *cells(row))
    if result.keys:
        table.add_section()
        table.add_row(t("col.all", lang), *cells(result.total.iloc[0]), style="bold")
    table.caption = t("cli.ci_caption", lang)
    return table


def gaps_table(result: ScoreResult, lang: str) -> Table | None:
    """Perception vs expectation of the total (items and dimensions)."""
    gaps = result.gaps[result.gaps["group"] == -1]
    if not len(gaps):
        return None
    inst = result.instrument
    table = Table(title=t("title.gaps", lang), title_justify="left")
    for key, just in (
        ("col.item", "left"),
        ("col.n", "right"),
        ("col.perception", "right"),
        ("col.expectation", "right"),
        ("col.gap", "right"),
        ("col.gap_ci", "right"),
        ("col.ratio", "right"),
        ("col.ratio_ci", "right"),
    ):
        table.add_column(t(key, lang), justify=just)  # type: ignore[arg-type]
    for _, r in gaps.iterrows():
        if r["level"] == "item":
            name = inst.item(r["id"]).text.get(lang)
        else:
            name = next(d.label.get(lang) for d in inst.dimensions if d.id == r["id"])
        gap = fmt(r["gap"], "+.1f")
        table.add_row(
            name,
            str(int(r["n"])),
            fmt(r["perception"]),
            fmt(r["expectation"]),
            f"[red]{gap}[/]" if r["gap"] < 0 else gap,
            ci(r["gap_ci_low"], r["gap_ci_high"]),
            fmt(r["ratio"], ".3f"),
            ci(r["ratio_ci_low"], r["ratio_ci_high"], spec=".3f"),
            style="bold" if r["level"] == "dimension" else None,
        )
    return table


def report_lines(result: ScoreResult, lang: str, limit: int = 15) -> list[str]:
    """The validation report of a scoring: its summary, the first ``limit`` issues, then the
    warnings."""
    return validation_lines(result.report, result.warnings, lang, limit)


def validation_lines(rep: Any, warnings: list[Any], lang: str, limit: int = 15) -> list[str]:
    """A validation report (or None) and warnings as lines; the first is the marked-up title."""
    if rep is None:
        return ["  ! " + w.render(lang) for w in warnings]
    lines = [f"[bold]{t('cli.rejected_title', lang)}[/]{translator(lang).colon}{rep.summary(lang)}"]
    lines += ["  " + issue.render(rep.source, lang) for issue in rep.issues[:limit]]
    if len(rep.issues) > limit:
        lines.append("  " + t("cli.more_rejected", lang, n=len(rep.issues) - limit))
    lines += ["  ! " + w.render(lang) for w in warnings]
    return lines


def score_tables(result: ScoreResult, lang: str) -> list[Table]:
    """Scorecard, dimension indices and (with expectation pairs) the gap table."""
    tables = [scorecard_table(result, lang), dimensions_table(result, lang)]
    gt = gaps_table(result, lang)
    if gt is not None:
        tables.append(gt)
    return tables


def frame_table(name: str, df: Any, lang: str) -> Table:
    """Any result table: localised headings; one wide row becomes a list."""
    table = Table(title=column(name, lang), title_justify="left")
    if len(df) == 1 and len(df.columns) > 6:  # one wide row reads better as a list
        table.add_column("")
        table.add_column("", justify="right")
        for c in df.columns:
            table.add_row(column(str(c), lang, name), cell(df[c].iloc[0], lang))
        return table
    for c in df.columns:
        table.add_column(
            column(str(c), lang, name), justify="right" if df[c].dtype.kind in "if" else "left"
        )
    for _, row in df.iterrows():
        table.add_row(*[cell(row[c], lang) for c in df.columns])
    return table


def cell(v: Any, lang: str) -> str:
    if isinstance(v, bool):
        return t("word.yes", lang) if v else t("word.no", lang)
    if isinstance(v, float):
        return "–" if v != v else (f"{v:.4f}" if abs(v) < 10 else f"{v:.2f}")
    return "–" if v is None else str(v)


def pls_tables(res: Any, lang: str) -> list[Table]:
    """Paths, constructs (R², reliability, index), indirect and total effects (the pairs with
    an indirect effect), outer weights, HTMT of a PLS result."""

    def lab(c: str, lang: str) -> str:
        return construct_label(res, c, lang)

    boot = res.bootstrap is not None
    tp = Table(title=t("pls.title_paths", lang), title_justify="left")
    heads = [t("pls.col_from", lang), t("pls.col_to", lang), t("pls.col_estimate", lang)]
    if boot:
        heads += [t("pls.col_se", lang), "t", "p", t("pls.col_ci_percentile", lang), "95% BCa"]
    heads += ["f²"]
    for h in heads:
        tp.add_column(h, justify="left" if h in heads[:2] else "right")
    for _, r in res.paths.iterrows():
        row = [lab(r["from"], lang), lab(r["to"], lang), f"{r['estimate']:.4f}"]
        if boot:
            row += [
                f"{r['se']:.4f}",
                f"{r['t']:.2f}",
                f"{r['p']:.4f}",
                ci(r["ci_low"], r["ci_high"], spec=".3f"),
                ci(r["bca_low"], r["bca_high"], spec=".3f"),
            ]
        row += [fmt(r["f2"], ".3f")]
        tp.add_row(*row)
    tc = Table(title=t("pls.title_constructs", lang), title_justify="left")
    construct = t("pls.col_construct", lang)
    for h in [
        construct,
        "R²",
        t("pls.col_r2_adj", lang),
        "α",
        "ρ_A",
        "ρ_C",
        "AVE",
        t("pls.col_index", lang),
    ]:
        tc.add_column(h, justify="left" if h == construct else "right")
    boot_index = res.bootstrap is not None and res.index_table is not None
    if boot_index:
        tc.add_column(t("pls.col_index_ci", lang), justify="right")
    it = res.index_table.set_index("construct") if res.index_table is not None else None
    r2 = res.r2.set_index("construct")
    rel = res.reliability.set_index("construct")
    for c in res.constructs:
        tc.add_row(
            lab(c, lang),
            fmt(r2["r2"].get(c), ".3f"),
            fmt(r2["r2_adj"].get(c), ".3f"),
            *[fmt(rel.loc[c, k], ".3f") for k in ("alpha", "rho_a", "rho_c", "ave")],
            fmt(res.index[c], ".1f"),
            *([ci(it.loc[c, "index_ci_low"], it.loc[c, "index_ci_high"])] if boot_index else []),
        )
    te = Table(title=t("pls.title_effects", lang), title_justify="left")
    heads = [t("pls.col_from", lang), t("pls.col_to", lang), t("pls.col_direct", lang),
             t("pls.col_indirect", lang)]
    if boot:
        heads += [t("pls.col_indirect_p", lang), t("pls.col_indirect_ci", lang)]
    heads += [t("pls.col_total", lang)]
    if boot:
        heads += [t("pls.col_total_p", lang), t("pls.col_total_ci", lang)]
    for h in heads:
        te.add_column(h, justify="left" if h in heads[:2] else "right")
    for _, r in res.effects.iterrows():
        if r["indirect"] == 0:  # a direct path only: its row is in the path table
            continue
        row = [lab(r["from"], lang), lab(r["to"], lang), f"{r['direct']:.4f}", f"{r['indirect']:.4f}"]
        if boot:
            row += [fmt(r["indirect_p"], ".4f"), ci(r["indirect_ci_low"], r["indirect_ci_high"], spec=".3f")]
        row += [f"{r['total']:.4f}"]
        if boot:
            row += [fmt(r["total_p"], ".4f"), ci(r["total_ci_low"], r["total_ci_high"], spec=".3f")]
        te.add_row(*row)
    to = Table(title=t("pls.title_outer", lang), title_justify="left")
    heads = [
        construct,
        t("pls.col_item", lang),
        t("pls.col_weight", lang),
        t("pls.col_loading", lang),
    ]
    for h in heads:
        to.add_column(h, justify="left" if h in heads[:2] else "right")
    for _, r in res.outer.iterrows():
        to.add_row(
            lab(r["construct"], lang), r["item"], f"{r['weight']:.4f}", f"{r['loading']:.4f}"
        )
    th = Table(title=t("pls.title_htmt", lang), title_justify="left")
    heads = [t("pls.col_construct_a", lang), t("pls.col_construct_b", lang), "HTMT"]
    heads += [t("pls.col_signed", lang)]
    if boot:
        heads += [t("pls.col_ci", lang), t("pls.col_upper", lang), "< 0.85", "< 0.90"]
    for h in heads:
        th.add_column(h, justify="left" if h in heads[:2] else "right")
    for _, r in res.htmt_table.iterrows():
        row = [
            lab(r["construct_a"], lang),
            lab(r["construct_b"], lang),
            fmt(r["htmt"], ".3f"),
            fmt(r["htmt_signed"], ".3f"),
        ]
        if boot:
            row += [
                ci(r["ci_low"], r["ci_high"], spec=".3f"),
                fmt(r["upper"], ".3f"),
                "✓" if r["below_085"] else "✗",
                "✓" if r["below_090"] else "✗",
            ]
        th.add_row(*row)
    return [tp, tc, te, to, th]


def construct_label(res: Any, construct: str, lang: str) -> str:
    """A construct's name: the model's own label, else the catalogue's (construct.*)."""
    spec = res.model.spec.constructs.get(construct) if hasattr(res, "model") else None
    if spec is not None and spec.label:
        return spec.label.get(lang, construct)
    key = f"construct.{construct}"
    try:
        return t(key, lang)
    except KeyError:
        return construct


def pls_head(res: Any, lang: str) -> str:
    """The first line: scheme, n, iterations (and the bootstrap)."""
    head = t(
        "pls.head",
        lang,
        scheme=t(f"pls.scheme.{res.scheme}", lang),
        n=res.n,
        iterations=res.iterations,
    )
    if res.bootstrap:
        head += t("pls.head_boot", lang, b=res.bootstrap.resamples, bad=res.bootstrap.inadmissible)
    return head


#: Columns whose codes are the instrument's dimensions, items or outcomes: shown by their names.
NAMED_BY_INSTRUMENT = ("dimension", "driver", "outcome", "measure")
#: Columns of the complaint desk whose codes the catalogue names (desk.<list>.<code>).
DESK_CODES = {"category": "category", "kind": "kind", "channel": "channel",
              "severity": "severity", "cause": "cause", "root_cause": "cause"}
#: Outcomes named by their column heading (short) rather than by their question's text.
HEADLINE = ("csi", "nps", "csat", "ces", "satisfied_rate")


def named_values(result: Any, df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """A table for reading on the terminal: dimensions, items and outcomes by their names in
    ``lang``, the groups of ``--by`` by their choices' labels, and the codes the catalogue
    names in words (``value.<column>.<code>``: the SERVQUAL measures, IPA's importance kind;
    the desk's categories, kinds, channels and causes; a campaign's status). JSON and CSV keep
    the codes. ``result``: the result the table belongs to, or None for a plain table."""
    from manyi.core.result import Result

    res = Result("", 0, {}) if result is None else result.as_result()
    tr = translator(lang)
    by = list(res.params.get("by") or [])
    grouped = {b: b for b in by}  # a --by column's values are its choices, as are compare's groups
    if res.kind == "compare" and by and res.params.get("period") in (None, ""):
        grouped.update(group_a=by[0], group_b=by[0])

    def name(c: str, v: Any) -> Any:
        if not isinstance(v, str):
            return v
        if c in grouped and f"{grouped[c]}={v}" in res.labels:
            return res.label(f"{grouped[c]}={v}", lang)
        named = tr.get(f"value.{c}.{v}", "") or (
            tr.get(f"desk.{DESK_CODES[c]}.{v}", "") if c in DESK_CODES else "")
        if named or c not in NAMED_BY_INSTRUMENT:
            return named or v
        return tr.column(v) if v in HEADLINE else res.label(v, lang)

    out = df
    for c in df.columns:
        if df[c].dtype.kind in "biufcmM":  # numbers, dates: no codes
            continue
        names = [name(str(c), v) for v in df[c]]
        if names != list(df[c]):
            out = out.copy() if out is df else out
            out[c] = names
    return out


def display_tables(result: Any, lang: str) -> dict[str, pd.DataFrame]:
    """A result's tables with names for its codes, in ``lang``: IPA items get their text
    (``label``) and ``quadrant_name``, Kano attributes ``category_name``, SPC signals a
    ``description``. JSON, CSV and the terminal show these; the result itself keeps codes."""
    res = result.as_result()
    out = {}
    for name, df in res.tables.items():
        df = df.copy()
        if res.kind == "ipa" and name == "items":
            df.insert(
                df.columns.get_loc("item") + 1, "label", [res.label(i, lang) for i in df["item"]]
            )
            df.insert(
                df.columns.get_loc("quadrant") + 1,
                "quadrant_name",
                [t(f"quadrant.{q}", lang) for q in df["quadrant"]],
            )
        elif res.kind == "kano" and name == "attributes":
            df.insert(
                df.columns.get_loc("category") + 1,
                "category_name",
                [None if pd.isna(c) else t(f"kano.{c}", lang) for c in df["category"]],
            )
        elif res.kind == "spc" and name == "signals":
            df["description"] = [t(f"spc.rule.{int(r)}", lang) for r in df["rule"]]
        out[name] = df
    return out
