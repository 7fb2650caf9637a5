"""Benchmark: scoring 1,000,000 responses × 25 items, grouped by 3 segments × 12 months.

Input form: a Parquet file (columnar, typed: float32 answers, categorical segment, timestamps),
generated once into benchmarks/data/ and read with pyarrow. Times reported:

* read: Parquet → pandas;
* validate: manyi's checks of every value against its scale (``validate_frame``);
* ours: ``manyi.core.scoring.score_frame`` (per-response scores + all group statistics);
* reference: a plain pandas implementation of the same numbers (row-wise weighted means with
  DataFrame arithmetic, then ``groupby(...).apply`` of a per-group statistics function),
  checked to agree with ours before the times count.

Targets (issue 2): ours ≤ 2 s and ≥ 10× faster than the reference. Run: ``make bench`` or
``.venv/bin/python benchmarks/score_1m.py [--n 1000000]``.
"""

from __future__ import annotations

import argparse
import resource
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from manyi.core.scoring import score_frame
from manyi.io.instruments import parse_instrument
from manyi.io.responses import validate_frame

DIMS, PER_DIM = 5, 5
SEGMENTS = ["north", "south", "west"]


def instrument_text() -> str:
    lines = ["manyi: 1", "id: bench", 'version: "1"', "title: {zh: 基准, en: Benchmark}",
             "scoring: {points: range, satisfied_at: 70, target_rate: 0.85, min_answered: 0.5}",
             "dimensions:"]
    for d in range(DIMS):
        lines += [f"  - id: d{d}", f"    label: {{zh: 维度{d}, en: Dimension {d}}}",
                  f"    weight: {[0.3, 0.25, 0.2, 0.15, 0.1][d]}", "    items:"]
        for i in range(PER_DIM):
            lines.append(f"      - {{id: q{d}{i}, text: {{zh: 题{d}{i}, en: Item {d}{i}}}, scale: likert5, "
                         f"weight: {1 + i % 3}}}")
    lines += ["questions:", "  - {id: nps, type: nps, text: {zh: 推荐, en: Recommend}}",
              "  - {id: segment, type: choice, role: segment, text: {zh: 区域, en: Region}, "
              "choices: [north, south, west]}"]
    return "\n".join(lines) + "\n"


def generate(path: Path, n: int, seed: int = 1) -> None:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, n)
    cols: dict[str, object] = {
        "response_id": pd.array(np.char.add("R", np.arange(n).astype(str)), dtype="string"),
        "submitted_at": pd.Timestamp("2026-01-01")
        + pd.to_timedelta(rng.integers(0, 365 * 24 * 3600, n), unit="s"),
        "segment": pd.Categorical(rng.choice(SEGMENTS, n)),
    }
    for d in range(DIMS):
        td = theta + rng.normal(0, 0.5, n)
        for i in range(PER_DIM):
            x = np.clip(np.rint(3.7 + 0.8 * td + rng.normal(0, 0.6, n)), 1, 5).astype(np.float32)
            x[rng.random(n) < 0.02] = np.nan
            cols[f"q{d}{i}"] = x
    cols["nps"] = np.clip(np.rint(7.5 + 1.8 * theta + rng.normal(0, 1, n)), 0, 10).astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(cols).to_parquet(path, index=False)


# --------------------------------------------------------------------------------------
# The reference: what an analyst would write in plain pandas
# --------------------------------------------------------------------------------------
def reference(df: pd.DataFrame, inst) -> pd.DataFrame:
    sc = inst.scoring
    out = pd.DataFrame({"segment": df["segment"].astype(str),
                        "period": df["submitted_at"].dt.strftime("%Y-%m")})
    dim_scores = {}
    for d in inst.dimensions:
        ids = [i.id for i in d.items]
        w = pd.Series({i.id: i.weight for i in d.items})
        w = w / w.sum()
        pts = (df[ids].astype(float) - 1) / 4 * 100
        num = pts.mul(w).sum(axis=1)
        den = pts.notna().mul(w).sum(axis=1)
        dim_scores[d.id] = (num / den).where(den >= sc.min_answered - 1e-9)
    dims = pd.DataFrame(dim_scores)
    dwt = pd.Series(inst.dimension_weights, index=inst.dimension_ids)
    num = dims.mul(dwt).sum(axis=1)
    den = dims.notna().mul(dwt).sum(axis=1)
    out["csi"] = (num / den).where(den >= sc.min_answered - 1e-9)
    out["satisfied"] = (out["csi"] >= sc.satisfied_at - 1e-9).where(out["csi"].notna())
    for c in dims:
        out[f"dim_{c}"] = dims[c]
    for i in inst.item_ids:
        out[f"t2b_{i}"] = (df[i] >= 4).astype(float).where(df[i].notna())
    out["nps"] = df["nps"].astype(float)
    z = stats.norm.ppf(0.975)

    def group_stats(g: pd.DataFrame) -> pd.Series:
        csi = g["csi"].dropna()
        n = len(csi)
        mean, sd = csi.mean(), csi.std(ddof=1)
        half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
        k = g["satisfied"].sum()
        p = k / n
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        w_half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        nps = g["nps"].dropna()
        pp, pdet = (nps >= 9).mean(), (nps <= 6).mean()
        res = {"n": n, "csi": mean, "csi_ci_low": mean - half, "csi_ci_high": mean + half,
               "satisfied_rate": p, "satisfied_rate_ci_low": centre - w_half,
               "satisfied_rate_ci_high": centre + w_half,
               "nps": 100 * (pp - pdet),
               "nps_se": 100 * np.sqrt((pp + pdet - (pp - pdet) ** 2) / len(nps))}
        for c in g.columns:
            if c.startswith(("dim_", "t2b_")):
                res[c] = g[c].mean()
        return pd.Series(res)

    return out.groupby(["segment", "period"]).apply(group_stats, include_groups=False).reset_index()


def timed(fn, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    inst = parse_instrument(instrument_text(), "bench.yaml")
    path = Path(__file__).parent / "data" / f"responses_{args.n}.parquet"
    if not path.exists():
        t0 = time.perf_counter()
        generate(path, args.n)
        print(f"generated {path} in {time.perf_counter() - t0:.1f} s")
    t_read, raw = timed(lambda: pd.read_parquet(path), 1)
    t_val, rs = timed(lambda: validate_frame(raw, inst, source=path.name), 1)
    data = rs.data
    print(f"responses: {len(data):,} × {len(inst.items)} items, groups: segment × month "
          f"({data['segment'].nunique()} × {data['submitted_at'].dt.strftime('%Y-%m').nunique()})")
    print(f"read parquet:      {t_read:7.3f} s")
    print(f"validate:          {t_val:7.3f} s  ({rs.report.summary('en')})")

    run = lambda: score_frame(inst, data, by=["segment"], period="month")  # noqa: E731
    t_first, _ = timed(run, 1)
    t_ours, ours = timed(run, args.repeat)
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"ours (manyi):      {t_ours:7.3f} s  (best of {args.repeat}; the first call took {t_first:.3f} s "
          f"with loading the compiled kernel; peak memory allocated while scoring {peak / 2**20:,.0f} MiB)")
    # the reference scores the same clean data (the period in the same local time zone)
    t_ref, ref = timed(lambda: reference(data, inst), 1)
    print(f"reference (pandas):{t_ref:7.3f} s  (groupby/apply)")

    g = ours.groups.assign(segment=lambda x: x["segment"].astype(str))
    merged = g.merge(ref, on=["segment", "period"], suffixes=("", "_ref"))
    assert len(merged) == len(g) == len(ref), "group sets differ"
    worst = 0.0
    for c in ref.columns:
        if c in ("segment", "period"):
            continue
        diff = np.nanmax(np.abs(merged[c].astype(float) - merged[f"{c}_ref"].astype(float)))
        worst = max(worst, diff)
        assert diff < 1e-8, f"{c} differs by {diff}"
    print(f"agreement: {len(ref.columns) - 2} statistics × {len(ref)} groups, max |difference| {worst:.2e}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ratio reference/ours: {t_ref / t_ours:6.1f}×   (target ≥ 10×)")
    print(f"ours ≤ 2 s: {'yes' if t_ours <= 2 else 'NO'};   process peak RSS {rss:,.0f} MiB")


if __name__ == "__main__":
    main()
