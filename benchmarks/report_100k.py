"""Benchmark: ``manyi report`` on 100,000 responses, each format as a whole command.

Writes (once, into benchmarks/data/) 100,000 responses of the after-sales example survey
(``manyi.datasets.after_sales``: five branches, twelve months, expectations and importance,
NPS/CSAT/CES, some invalid values) and 3,000 customer contacts (``datasets.cases``). Then, for
each format, the median of ``--repeat`` runs of

    manyi report -i after-sales.yaml report_100k.csv --by branch --cases cases.csv
                 --lang zh --format F --output report.F

in a subprocess (imports, reading and validating, scoring, the trend with its tests, SERVQUAL,
IPA, key drivers with 200 bootstrap resamples, control charts, reliability, the document, the
file; for PDF also Chromium), with its peak memory (max RSS of the command and its children).
The goal: each format in ≤ 10 s. Run: ``.venv/bin/python benchmarks/report_100k.py``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from read_1m import measured  # noqa: E402

DATA = Path(__file__).parent / "data"
GOAL = 10.0


def ensure_data(n: int) -> tuple[Path, Path, Path]:
    from manyi import datasets
    from manyi.io.instruments import example_path, load_instrument

    inst = example_path("after-sales")
    DATA.mkdir(parents=True, exist_ok=True)
    responses = DATA / f"report_{n // 1000}k.csv"
    cases = DATA / "report_cases.csv"
    if not responses.exists():
        datasets.after_sales(n=n, seed=3, instrument=load_instrument(inst)).to_csv(responses, index=False)
    if not cases.exists():
        datasets.cases(n=3000, seed=5).to_csv(cases, index=False)
    return inst, responses, cases


def run(cmd: list[str]) -> tuple[float, float]:
    """Seconds and peak RSS (bytes) of one command, measured by a fresh wrapper process."""
    took, rss, _ = measured(cmd)
    return took, rss


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--formats", default="html,xlsx,pptx,pdf")
    args = ap.parse_args()
    inst, responses, cases = ensure_data(args.n)
    print(f"responses: {args.n:,} ({responses.stat().st_size / 2**20:.1f} MiB CSV), cases: 3,000; "
          f"median of {args.repeat} runs")
    # the first run in a new installation compiles the kernels once: not timed
    with tempfile.TemporaryDirectory() as tmp:
        base = [sys.executable, "-m", "manyi.cli", "report", "-i", str(inst), str(responses),
                "--by", "branch", "--cases", str(cases), "--lang", "zh"]
        run([*base, "--format", "html", "--output", f"{tmp}/warm.html"])
        for fmt in args.formats.split(","):
            out = Path(tmp) / f"report.{fmt}"
            runs = [run([*base, "--format", fmt, "--output", str(out)]) for _ in range(args.repeat)]
            took = statistics.median(r[0] for r in runs)
            peak = max(r[1] for r in runs)
            print(f"  {fmt:<5} {took:6.2f} s  (runs {', '.join(f'{r[0]:.2f}' for r in runs)}; "
                  f"peak memory {peak / 2**20:,.0f} MiB; file {out.stat().st_size / 2**10:,.0f} KiB)  "
                  f"{'≤' if took <= GOAL else '>'} {GOAL:g} s goal: {'yes' if took <= GOAL else 'NO'}")


if __name__ == "__main__":
    main()
