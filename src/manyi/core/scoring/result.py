"""The scores of one instrument over responses: :class:`ScoreResult`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from manyi.core.instrument import Instrument
from manyi.core.messages import Message
from manyi.core.result import Result, as_float
from manyi.core.scoring.figures import GAP_FIGURES


@dataclass
class ScoreResult:
    """Scores of one instrument over responses: groups, respondents, gaps, total."""

    instrument: Instrument
    keys: list[str]
    groups: pd.DataFrame
    total: pd.DataFrame
    respondents: pd.DataFrame
    gaps: pd.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[Message] = field(default_factory=list)
    report: Any = None

    def _group_dict(self, row: dict[str, Any]) -> dict[str, Any]:
        inst = self.instrument

        num = as_float

        g: dict[str, Any] = {
            "keys": {k: (None if pd.isna(row[k]) else str(row[k])) for k in self.keys},
            "n": int(row["n"]),
            "n_responses": int(row["n_responses"]),
            "n_eff": num(row["n_eff"]),
            "deff": num(row["deff"]),
            "csi": num(row["csi"]),
            "csi_sd": num(row["csi_sd"]),
            "csi_ci": [num(row["csi_ci_low"]), num(row["csi_ci_high"])],
            "margin_of_error": num(row["csi_moe"]),
            "satisfied_n": int(row["satisfied_n"]),
            "satisfied_weighted": num(row["satisfied_weighted"]),
            "satisfied_rate": num(row["satisfied_rate"]),
            "satisfied_rate_ci": [
                num(row["satisfied_rate_ci_low"]),
                num(row["satisfied_rate_ci_high"]),
            ],
            "target_rate": float(row["target_rate"]),
            "meets_target": None if pd.isna(row["meets_target"]) else bool(row["meets_target"]),
            "nps": num(row.get("nps")),
            "nps_n": int(row["nps_n"]) if "nps_n" in row else 0,
            "nps_se": num(row.get("nps_se")),
            "nps_ci": [num(row.get("nps_ci_low")), num(row.get("nps_ci_high"))],
            "csat": num(row.get("csat")),
            "csat_n": int(row["csat_n"]) if "csat_n" in row else 0,
            "csat_ci": [num(row.get("csat_ci_low")), num(row.get("csat_ci_high"))],
            "ces": num(row.get("ces")),
            "ces_n": int(row["ces_n"]) if "ces_n" in row else 0,
            "ces_ci": [num(row.get("ces_ci_low")), num(row.get("ces_ci_high"))],
            "dimensions": {d: num(row[f"dim_{d}"]) for d in inst.dimension_ids},
            "dimensions_n": {d: int(row[f"dim_{d}_n"]) for d in inst.dimension_ids},
            "dimensions_ci": {
                d: [num(row[f"dim_{d}_ci_low"]), num(row[f"dim_{d}_ci_high"])]
                for d in inst.dimension_ids
            },
            "top2box": {i: num(row[f"t2b_{i}"]) for i in inst.item_ids},
            "top2box_n": {i: int(row[f"t2b_{i}_n"]) for i in inst.item_ids},
            "top2box_ci": {
                i: [num(row[f"t2b_{i}_ci_low"]), num(row[f"t2b_{i}_ci_high"])]
                for i in inst.item_ids
            },
            "small_sample": bool(row["small_sample"]),
        }
        if "change_significant" in row and not pd.isna(row.get("prev_period")):
            g["change"] = {
                "previous_period": row["prev_period"],
                "csi": num(row["csi_change"]),
                "csi_p": num(row["csi_change_p"]),
                "satisfied_rate": num(row["rate_change"]),
                "satisfied_rate_p": num(row["rate_change_p"]),
                "nps": num(row.get("nps_change")),
                "nps_p": num(row.get("nps_change_p")),
                "significant": bool(row["change_significant"]),
            }
        return g

    def _gap_dict(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {"items": {}, "dimensions": {}}
        for r in rows:
            level = "items" if r["level"] == "item" else "dimensions"
            f = {k: None if pd.isna(r[k]) else float(r[k]) for k in GAP_FIGURES}
            out[level][r["id"]] = {
                "n": int(r["n"]),
                "perception": f["perception"],
                "expectation": f["expectation"],
                "gap": f["gap"],
                "gap_ci": [f["gap_ci_low"], f["gap_ci_high"]],
                "ratio": f["ratio"],
                "ratio_ci": [f["ratio_ci_low"], f["ratio_ci_high"]],
            }
        return out

    def as_result(self) -> Result:
        """The project's one result shape (kind ``score``): groups with the total as the last
        row, respondents, gaps, rejected values; instrument and keys as parameters."""
        groups = (
            self.groups
            if not self.keys
            else pd.concat([self.groups, self.total], ignore_index=True)
        )
        tables = {
            "groups": groups,
            "respondents": self.respondents,
            "gaps": self.gaps,
            "rejected": pd.DataFrame(self.rejected, columns=["row", "column", "value", "reason"]),
        }
        params = {
            "instrument": self.instrument.id,
            "instrument_version": self.instrument.version,
            "by": list(self.keys),
            "satisfied_at": self.instrument.scoring.satisfied_at,
            "target_rate": self.instrument.scoring.target_rate,
        }
        n = int(self.total["n"].iloc[0]) if len(self.total) else 0
        return Result("score", n, tables, list(self.warnings), params, self.instrument.labels())

    def to_dict(self, lang: str | None = None) -> dict[str, Any]:
        # rows as plain dicts (a Series per row, looked up ~150 times, was most of the time)
        gaps: dict[Any, list[dict[str, Any]]] = {}
        for r in self.gaps.to_dict("records"):
            gaps.setdefault(r["group"], []).append(r)
        groups = []
        for i, row in zip(self.groups.index, self.groups.to_dict("records"), strict=True):
            g = self._group_dict(row)
            if len(self.gaps):
                g["gaps"] = self._gap_dict(gaps.get(i, []))
            groups.append(g)
        total = self._group_dict(self.total.iloc[:1].to_dict("records")[0])
        if len(self.gaps):
            total["gaps"] = self._gap_dict(gaps.get(-1, []))
        return {
            "instrument": self.instrument.id,
            "instrument_version": self.instrument.version,
            "by": self.keys,
            "groups": groups,
            "total": total,
            "rejected": list(self.rejected),
            "warnings": [m.render(lang) for m in self.warnings],
        }
