"""Benchmark: ``manyi score`` on a 10,000,000-row Parquet dataset, in one process and on Dask.

Writes (once, into benchmarks/data/parts-10000000/) the dataset as Hive partitions by segment,
parts of ``--rows-per-part`` rows: response_id, submitted_at, 25 answers on 1–5 with 2 % left
blank, NPS (the instrument of ``score_1m.py``). Then runs

* ``manyi score -i INST DATASET --by segment --period month --format json`` (local engine:
  the parts one after the other in one process), with its time and peak memory;
* the same with ``--engine dask --scheduler ADDRESS`` against a LocalCluster started here
  (``--workers`` single-threaded worker processes), with its time, the client's peak memory
  and each worker's peak memory (read on the workers after the run);

and checks that both JSON results are equal to 1e-9. The same for
``manyi analyze compare -i INST DATASET --by segment`` (an analysis that is sums: each part
summed where it lies, only the sums travel; ``--no-analysis`` leaves it out). Run:
``.venv/bin/python benchmarks/dask_10m.py [--n 10000000] [--workers 2]``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from read_1m import measured  # noqa: E402
from score_1m import DIMS, PER_DIM, SEGMENTS, instrument_text  # noqa: E402

DATA = Path(__file__).parent / "data"


def write_parts(root: Path, n: int, rows: int, seed: int = 1) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    tmp = root.with_suffix(".tmp")
    rng = np.random.default_rng(seed)
    start = np.datetime64("2026-01-01T00:00:00")
    written = 0
    k = 0
    while written < n:
        m = min(rows, n - written)
        theta = rng.normal(0, 1, m)
        seg = rng.integers(0, len(SEGMENTS), m)
        cols = {
            "response_id": pa.array(np.char.add("R", np.arange(written, written + m).astype(str))),
            "submitted_at": pa.array((start + rng.integers(0, 365 * 24 * 3600, m).astype("timedelta64[s]"))
                                     .astype(str)),
        }
        for d in range(DIMS):
            td = theta + rng.normal(0, 0.5, m)
            for i in range(PER_DIM):
                x = np.clip(np.rint(3.7 + 0.8 * td + rng.normal(0, 0.6, m)), 1, 5)
                x[rng.random(m) < 0.02] = np.nan
                cols[f"q{d}{i}"] = pa.array(x, from_pandas=True)
        cols["nps"] = pa.array(np.clip(np.rint(7.5 + 1.8 * theta + rng.normal(0, 1, m)), 0, 10).astype(np.int8))
        table = pa.table(cols)
        for s, name in enumerate(SEGMENTS):
            sub = table.filter(pa.array(seg == s))
            folder = tmp / f"segment={name}"
            folder.mkdir(parents=True, exist_ok=True)
            pq.write_table(sub, folder / f"part-{k:04d}.parquet")
        written += m
        k += 1
    tmp.replace(root)


def run(cmd: list[str]) -> tuple[float, float, dict]:
    took, rss, out = measured(cmd)
    return took, rss, json.loads(out)


def close(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float):
        return isinstance(b, float) and abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--rows-per-part", type=int, default=500_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--no-analysis", action="store_true", help="score only")
    args = ap.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    inst = DATA / "bench-instrument.yaml"
    inst.write_text(instrument_text(), encoding="utf-8")
    root = DATA / f"parts-{args.n}"
    if not root.exists():
        t0 = time.perf_counter()
        write_parts(root, args.n, args.rows_per_part)
        print(f"wrote {root} in {time.perf_counter() - t0:.0f} s")
    files = list(root.rglob("*.parquet"))
    size = sum(f.stat().st_size for f in files)
    print(f"{args.n:,} rows in {len(files)} Parquet parts, {size / 2**20:,.0f} MiB")
    score = [sys.executable, "-m", "manyi.cli", "score", "-i", str(inst), str(root), "--by", "segment",
             "--period", "month", "--format", "json"]
    commands = {"score --by segment --period month": score}
    if not args.no_analysis:
        commands["analyze compare --by segment"] = [
            sys.executable, "-m", "manyi.cli", "analyze", "compare", "-i", str(inst), str(root), "--by",
            "segment", "--format", "json"]
    local = {name: run(cmd) for name, cmd in commands.items()}

    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        on_dask = {name: run([*cmd, "--engine", "dask", "--scheduler", cluster.scheduler_address])
                   for name, cmd in commands.items()}

        def peak() -> int:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

        workers = client.run(peak)
    for name in commands:
        (t_local, rss_local, a), (t_dask, rss_client, b) = local[name], on_dask[name]
        print(f"  {name}")
        print(f"    local engine (one process):  {t_local:6.1f} s, peak {rss_local / 2**20:,.0f} MiB")
        print(f"    dask engine ({args.workers} workers):     {t_dask:6.1f} s ({t_local / t_dask:.2f}× the local "
              f"engine), client peak {rss_client / 2**20:,.0f} MiB")
        if a.get("warnings") and b.get("warnings"):  # the validation note names the engine's source
            a, b = {**a, "warnings": []}, {**b, "warnings": []}
        print(f"    n = {a['n'] if 'n' in a and not isinstance(a['n'], dict) else a['total']['n']:,}; "
              f"equal to 1e-9: {'yes' if close(a, b) else 'NO'}")
    for address, rss in sorted(workers.items()):
        print(f"  worker {address}: peak over both commands {rss / 2**20:,.0f} MiB")


if __name__ == "__main__":
    main()
