"""Use case: score a response file against an instrument and export the result."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from manyi.api import score
from manyi.core.scoring import ScoreResult
from manyi.i18n import ManyiError, Message
from manyi.io.instruments import load_instrument
from manyi.io.responses import read_responses

FORMATS = ("table", "csv", "json", "xlsx")


def score_file(
    instrument: str | Path,
    responses: str | Path,
    by: list[str] | None = None,
    period: str | None = None,
    strict: bool = False,
    weights: str | None = None,
) -> ScoreResult:
    """Load the instrument, read and validate the responses, score them."""
    inst = load_instrument(instrument)
    rs = read_responses(responses, inst, strict=strict)
    return score(rs, by=by, period=period, weights=weights)


def to_json(result: ScoreResult, lang: str | None = None) -> str:
    return json.dumps(result.to_dict(lang), ensure_ascii=False, indent=2, allow_nan=False)


def groups_frame(result: ScoreResult) -> pd.DataFrame:
    """The group table with the total appended as the last row (keys empty)."""
    if not result.keys:
        return result.groups
    return pd.concat([result.groups, result.total], ignore_index=True)


def rejected_frame(result: ScoreResult) -> pd.DataFrame:
    return pd.DataFrame(result.rejected, columns=["row", "column", "value", "reason"])


def write_xlsx(result: ScoreResult, path: str | Path, lang: str | None = None) -> None:
    """Scorecard workbook: groups (with total), gaps, rejected values and rows."""
    inst = result.instrument
    with pd.ExcelWriter(path, engine="openpyxl") as xw:
        groups_frame(result).to_excel(xw, sheet_name="groups", index=False)
        if len(result.gaps):
            result.gaps.to_excel(xw, sheet_name="gaps", index=False)
        rejected_frame(result).to_excel(xw, sheet_name="rejected", index=False)
        labels = pd.DataFrame(
            [("dimension", d.id, d.label.zh, d.label.en) for d in inst.dimensions]
            + [("item", i.id, i.text.zh, i.text.en) for i in inst.items],
            columns=["kind", "id", "zh", "en"],
        )
        labels.to_excel(xw, sheet_name="labels", index=False)


def write_respondents(result: ScoreResult, path: str | Path) -> None:
    p = Path(path)
    if p.suffix.lower() == ".xlsx":
        result.respondents.to_excel(p, index=False)
    elif p.suffix.lower() == ".parquet":
        result.respondents.to_parquet(p, index=False)
    else:
        result.respondents.to_csv(p, index=False, encoding="utf-8-sig")


def export(
    result: ScoreResult, fmt: str, output: str | Path | None, lang: str | None = None
) -> str | None:
    """Write ``result`` as csv/json/xlsx to ``output``; return the text when there is no file."""
    if fmt not in FORMATS:
        raise ManyiError(Message("cli.bad_format", {"fmt": fmt, "choices": ", ".join(FORMATS)}))
    if fmt == "xlsx":
        if output is None:
            raise ManyiError(Message("cli.xlsx_needs_output"))
        write_xlsx(result, output, lang)
        return None
    text: str
    if fmt == "json":
        text = to_json(result, lang) + "\n"
    else:
        text = groups_frame(result).to_csv(index=False)
    if output is not None:
        Path(output).write_text(text, encoding="utf-8-sig" if fmt == "csv" else "utf-8")
        return None
    return text


def compare_previous(
    result: ScoreResult, mode: str = "previous", alpha: float = 0.05
) -> ScoreResult:
    """Mark significant changes of each group against its previous period (same other keys).

    Adds to ``result.groups``: ``prev_period``, ``csi_change`` with Welch's t ``csi_change_p``,
    ``rate_change`` with the two-proportion z ``rate_change_p``, and ``change_significant``
    (either p below ``alpha`` after Holm's adjustment over all the comparisons).
    """
    import numpy as np
    from scipy import stats

    from manyi.core.analysis import holm
    from manyi.core.compare import two_proportion_z

    if mode != "previous":
        raise ManyiError(
            Message("an.bad_option", {"option": "--compare", "value": mode, "choices": "previous"})
        )
    if "period" not in result.keys:
        raise ManyiError(Message("score.compare_needs_period"))
    others = [k for k in result.keys if k != "period"]
    resp = result.respondents
    g = result.groups
    cols = {
        c: [np.nan] * len(g) for c in ("csi_change", "csi_change_p", "rate_change", "rate_change_p")
    }
    prev_col: list[object] = [None] * len(g)
    key_of = [tuple(row[k] for k in others) for _, row in g.iterrows()]
    for i, (_, row) in enumerate(g.iterrows()):
        if row["period"] is None or row["period"] != row["period"]:
            continue
        earlier = [
            j
            for j in range(len(g))
            if key_of[j] == key_of[i]
            and g["period"].iloc[j] is not None
            and g["period"].iloc[j] == g["period"].iloc[j]
            and str(g["period"].iloc[j]) < str(row["period"])
        ]
        if not earlier:
            continue
        j = max(earlier, key=lambda k: str(g["period"].iloc[k]))

        def members(idx: int):
            m = np.ones(len(resp), dtype=bool)
            for k in result.keys:
                m &= (resp[k].astype(object) == g[k].iloc[idx]).to_numpy()
            return m

        a, b = members(j), members(i)
        x, y = resp.loc[a, "csi"].dropna().to_numpy(), resp.loc[b, "csi"].dropna().to_numpy()
        sa = resp.loc[a, "satisfied"].dropna().astype(float).to_numpy()
        sb = resp.loc[b, "satisfied"].dropna().astype(float).to_numpy()
        prev_col[i] = g["period"].iloc[j]
        if len(x) >= 2 and len(y) >= 2:
            cols["csi_change"][i] = float(y.mean() - x.mean())
            cols["csi_change_p"][i] = float(stats.ttest_ind(y, x, equal_var=False).pvalue)
        if len(sa) and len(sb):
            cols["rate_change"][i] = float(sb.mean() - sa.mean())
            cols["rate_change_p"][i] = two_proportion_z(sb.sum(), len(sb), sa.sum(), len(sa))[1]
    g["prev_period"] = pd.Series(prev_col, index=g.index, dtype=object)
    for c, v in cols.items():
        g[c] = v
    pa = holm(
        np.concatenate([g["csi_change_p"].to_numpy(float), g["rate_change_p"].to_numpy(float)])
    )
    n = len(g)
    sig = (np.nan_to_num(pa[:n], nan=1.0) < alpha) | (np.nan_to_num(pa[n:], nan=1.0) < alpha)
    g["change_significant"] = [
        bool(s) if p is not None else None for s, p in zip(sig, prev_col, strict=True)
    ]
    return result
