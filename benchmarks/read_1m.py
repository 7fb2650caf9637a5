"""Benchmark: the whole ``manyi score`` command on a 1,000,000 × 25 CSV against pyarrow's bare
parse of the same file, in the same run.

Writes (once, into benchmarks/data/) the instrument of ``score_1m.py`` and a CSV of 1,000,000
responses: response_id, submitted_at, segment, 25 answers on 1–5 with 2 % left blank, and NPS.
Then, each the median of ``--repeat`` runs:

* bare parse: ``pyarrow.csv.read_csv`` of the file (all cores), nothing else;
* whole command: ``manyi score -i INST FILE --by segment --period month --format json`` in a
  subprocess (import, read, validate, score, JSON), with its peak memory (max RSS).

It prints both times, the ratio (goal ≤ 3×) and peak memory against the file's size (goal
≤ 4×), and for comparison pyarrow's streaming parse of the file on one thread (the way the
command reads it, beside its checks) and the bare parse as a command of its own (a fresh
Python that imports pyarrow and parses: start-up and imports counted on both sides). ``--gbk`` also writes and scores the file in GBK; ``--xlsx N`` an XLSX of N rows (its
parse: python-calamine). Run: ``.venv/bin/python benchmarks/read_1m.py [--n 1000000]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from score_1m import DIMS, PER_DIM, SEGMENTS, instrument_text  # noqa: E402

DATA = Path(__file__).parent / "data"


def write_csv(path: Path, n: int, seed: int = 1, encoding: str = "utf-8") -> None:
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    theta = rng.normal(0, 1, n)
    start = np.datetime64("2026-01-01T00:00:00")
    cols = {
        "response_id": pa.array(np.char.add("R", np.arange(n).astype(str))),
        "submitted_at": pa.array((start + rng.integers(0, 365 * 24 * 3600, n).astype("timedelta64[s]"))
                                 .astype(str)),
        "segment": pa.array(np.asarray(SEGMENTS)[rng.integers(0, len(SEGMENTS), n)]),
    }
    for d in range(DIMS):
        td = theta + rng.normal(0, 0.5, n)
        for i in range(PER_DIM):
            x = np.clip(np.rint(3.7 + 0.8 * td + rng.normal(0, 0.6, n)), 1, 5).astype(np.int8).astype(str)
            x[rng.random(n) < 0.02] = ""
            cols[f"q{d}{i}"] = pa.array(x)
    cols["nps"] = pa.array(np.clip(np.rint(7.5 + 1.8 * theta + rng.normal(0, 1, n)), 0, 10).astype(np.int8))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    pacsv.write_csv(pa.table(cols), tmp, pacsv.WriteOptions(quoting_style="none"))
    if encoding != "utf-8":
        tmp.write_bytes(tmp.read_bytes().decode("utf-8").encode(encoding))
    tmp.replace(path)


def bare_parse(path: Path) -> float:
    import pyarrow.csv as pacsv

    t0 = time.perf_counter()
    pacsv.read_csv(path)
    return time.perf_counter() - t0


def stream_parse(path: Path) -> float:
    """pyarrow's streaming parser over the file on one thread, blocks of 1 MiB, nothing else:
    how ``manyi score`` reads a large CSV (beside the checks of the block before)."""
    import pyarrow.csv as pacsv

    t0 = time.perf_counter()
    reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(use_threads=False, block_size=2**20))
    for _ in reader:
        pass
    return time.perf_counter() - t0


def parse_command(path: Path) -> float:
    """Seconds of the bare parse run as a command of its own, as ``manyi score`` is run: a
    fresh Python that imports pyarrow and parses the file on all cores (start to exit)."""
    code = "import sys, pyarrow.csv as c; c.read_csv(sys.argv[1])"
    return measured([sys.executable, "-c", code, str(path)])[0]


def measured(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float, bytes]:
    """Seconds, peak RSS in bytes and standard output of a command run in a subprocess
    (timed by a small Python parent that reads its child's resource usage); ``env`` adds
    variables."""
    code = (
        "import resource, subprocess, sys, time\n"
        "t0 = time.perf_counter()\n"
        "p = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE)\n"
        "took = time.perf_counter() - t0\n"
        "rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024\n"
        "sys.stderr.write(f'{took} {rss} {p.returncode}\\n')\n"
        "sys.stdout.buffer.write(p.stdout)\n"
    )
    r = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True,
                       env={**os.environ, "NO_COLOR": "1", **(env or {})})
    took, rss, rc = r.stderr.decode().strip().splitlines()[-1].split()
    if int(rc) != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} failed: {r.stderr.decode()[-2000:]}")
    return float(took), float(rss), r.stdout


def machine_state() -> str:
    """How fast this machine is right now, to read the figures by: a pure-Python loop of 10⁷
    additions in a function, and the time to fill 800 MB of fresh memory (slow where the first
    touches of pages are slow, as on some virtual machines)."""
    t0 = time.perf_counter()
    s = 0
    for i in range(10**7):
        s += i
    loop = time.perf_counter() - t0
    t0 = time.perf_counter()
    np.ones(10**8)
    fill = time.perf_counter() - t0
    return f"machine now: Python loop of 10^7 additions {loop:.2f} s; 800 MB of fresh memory filled in {fill:.2f} s"


def whole(inst: Path, path: Path, extra: list[str] | None = None) -> tuple[float, float, dict]:
    """Seconds, peak RSS in bytes, and the JSON of one ``manyi score`` run."""
    took, rss, out = measured([sys.executable, "-m", "manyi.cli", "score", "-i", str(inst), str(path),
                               "--by", "segment", "--period", "month", "--format", "json", *(extra or [])])
    return took, rss, json.loads(out)


def report(label: str, inst: Path, path: Path, repeat: int, parse, stream=None) -> None:
    size = path.stat().st_size
    parses = [parse(path) for _ in range(repeat)]
    runs = [whole(inst, path) for _ in range(repeat)]
    p, w = statistics.median(parses), statistics.median(r[0] for r in runs)
    peak = max(r[1] for r in runs)
    n = runs[0][2]["total"]["n"]
    print(f"{label}: {size / 2**20:,.0f} MiB, n={n:,}; bare parse {p:.2f} s; whole `manyi score` {w:.2f} s "
          f"= {w / p:.2f}× the parse (goal ≤ 3×); peak memory {peak / 2**20:,.0f} MiB "
          f"= {peak / size:.2f}× the file (goal ≤ 4×)")
    if stream is not None:
        s = statistics.median(stream(path) for _ in range(repeat))
        print(f"  for comparison: pyarrow's streaming parse on one thread (as manyi reads) {s:.2f} s; "
              f"the whole command = {w / s:.2f}× it")
        c = statistics.median(parse_command(path) for _ in range(repeat))
        print(f"  for comparison: the bare parse as a command of its own (start Python, import pyarrow, "
              f"parse on all cores) {c:.2f} s; the whole command = {w / c:.2f}× it")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--gbk", action="store_true", help="also a GBK-encoded copy")
    ap.add_argument("--xlsx", type=int, default=0, help="also an XLSX of this many rows")
    args = ap.parse_args()
    inst = DATA / "bench-instrument.yaml"
    DATA.mkdir(parents=True, exist_ok=True)
    inst.write_text(instrument_text(), encoding="utf-8")
    print(machine_state())
    path = DATA / f"responses-{args.n}.csv"
    if not path.exists():
        write_csv(path, args.n)
    report("CSV (UTF-8)", inst, path, args.repeat, bare_parse, stream_parse)
    if args.gbk:
        gbk = DATA / f"responses-{args.n}-gbk.csv"
        if not gbk.exists():
            write_csv(gbk, args.n, encoding="gbk")

        def parse_gbk(p: Path) -> float:
            import pyarrow.csv as pacsv

            t0 = time.perf_counter()
            pacsv.read_csv(p, read_options=pacsv.ReadOptions(encoding="gbk"))
            return time.perf_counter() - t0

        report("CSV (GBK)", inst, gbk, args.repeat, parse_gbk)
    if args.xlsx:
        import pandas as pd

        book = DATA / f"responses-{args.xlsx}.xlsx"
        if not book.exists():
            pd.read_csv(path, nrows=args.xlsx, dtype=str, keep_default_na=False).to_excel(book, index=False)

        def parse_xlsx(p: Path) -> float:
            from python_calamine import CalamineWorkbook

            t0 = time.perf_counter()
            CalamineWorkbook.from_path(str(p)).get_sheet_by_index(0).to_python()
            return time.perf_counter() - t0

        report(f"XLSX ({args.xlsx:,} rows)", inst, book, args.repeat, parse_xlsx)


if __name__ == "__main__":
    main()
