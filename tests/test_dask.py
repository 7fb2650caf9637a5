"""Parquet datasets scored part by part: in this process and on a 2-worker Dask LocalCluster,
with the numbers of one pass over the same rows in one file (1e-9), rejected values naming
their part and row, and clear stops (an id in two parts, no Dask, a CSV for the Dask engine)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from jsonclose import assert_close
from manyi import datasets
from manyi.cli import app
from manyi.io.instruments import example_path

pytest.importorskip("distributed", reason="Dask is an optional extra: pip install 'manyi[dask]'")

INST = str(example_path("after-sales"))
runner = CliRunner()


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, Path]:
    """One table written as one Parquet file and as a Hive-partitioned dataset (by branch,
    several files per branch), with bad values in a few rows."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    root = tmp_path_factory.mktemp("parts")
    raw = datasets.after_sales(n=4000, seed=9, clean=True)
    raw["submitted_at"] = raw["submitted_at"].astype(str)
    for col in ("skill_diagnosis", "att_courtesy"):
        raw[col] = raw[col].astype("string")
    raw.loc[[5, 1200, 3001], "skill_diagnosis"] = ["9", "excellent", "0"]
    raw.loc[77, "att_courtesy"] = "6"
    raw.loc[300, [c for c in raw.columns if c.startswith(("skill", "att", "time", "parts", "ov_"))]] = None
    raw["weight"] = np.random.default_rng(3).uniform(0.5, 2.0, len(raw))
    one = root / "one.parquet"
    raw.to_parquet(one, index=False)
    ds.write_dataset(
        pa.Table.from_pandas(raw, preserve_index=False), root / "hive", format="parquet",
        partitioning=["branch"], partitioning_flavor="hive", max_rows_per_file=700,
        max_rows_per_group=700,
    )
    return {"one": one, "hive": root / "hive", "root": root}


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c.scheduler_address


def _score(target: Path | str, *extra: str) -> dict:
    res = runner.invoke(
        app, ["score", "-i", INST, str(target), "--by", "branch,tier", "--period", "quarter",
              "--weights", "weight", "--format", "json", *extra],
    )
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout)


def test_dask_equals_local_equals_one_file(data, cluster) -> None:
    local = _score(data["hive"])
    on_dask = _score(data["hive"], "--engine", "dask", "--scheduler", cluster)
    one = _score(data["one"])
    assert local == on_dask  # the same parts, the same order of adding: the same floats
    rej_parts, rej_one = local.pop("rejected"), one.pop("rejected")
    on_dask.pop("rejected")
    assert_close(local, one)
    # every rejected value of the file, found in its part with its row there
    assert len(rej_parts) == len(rej_one) >= 5
    assert sorted(str((r["column"], r["value"])) for r in rej_parts) == sorted(str((r["column"], r["value"])) for r in rej_one)
    import pyarrow.parquet as pq

    for r in rej_parts:
        if r["column"] is None:
            continue
        part = pq.read_table(data["hive"] / r["file"]).to_pandas()
        assert str(part[r["column"]].iloc[r["row"] - 2]) == r["value"]


def test_a_glob_and_a_cluster_of_its_own(data) -> None:
    """A quoted glob of the parts, and --engine dask without a scheduler (a LocalCluster is
    started and closed): the numbers of the folder."""
    folder = _score(data["hive"])
    globbed = _score(f"{data['hive']}/*/*.parquet", "--engine", "dask")
    assert globbed == folder


def test_an_id_in_two_parts_stops_with_both_places(data, cluster, tmp_path) -> None:
    hive = tmp_path / "hive"
    shutil.copytree(data["hive"], hive)
    files = sorted(hive.rglob("*.parquet"))
    a, b = pd.read_parquet(files[0]), pd.read_parquet(files[-1])
    b.loc[b.index[4], "response_id"] = a["response_id"].iloc[2]
    b.to_parquet(files[-1], index=False)
    for extra in ([], ["--engine", "dask", "--scheduler", cluster]):
        res = runner.invoke(app, ["score", "-i", INST, str(hive), "--format", "json", "--lang", "en", *extra])
        assert res.exit_code == 2, res.output
        text = " ".join(res.output.split())
        assert a["response_id"].iloc[2] in text and "(row 4)" in text and "(row 6)" in text
        assert files[0].relative_to(hive).as_posix() in text


def test_bad_engine_uses(data, tmp_path, monkeypatch) -> None:
    csv = tmp_path / "r.csv"
    pd.read_parquet(data["one"]).head(50).to_csv(csv, index=False)
    res = runner.invoke(app, ["score", "-i", INST, str(csv), "--engine", "dask", "--lang", "en"])
    assert res.exit_code == 2 and "Parquet" in res.output
    res = runner.invoke(app, ["score", "-i", INST, str(data["hive"]), "--engine", "spark", "--lang", "en"])
    assert res.exit_code == 2 and "local or dask" in res.output
    res = runner.invoke(app, ["score", "-i", INST, str(tmp_path / "empty*"), "--lang", "en"])
    assert res.exit_code == 2 and "no Parquet files" in res.output
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if the extra were not installed
    res = runner.invoke(app, ["score", "-i", INST, str(data["hive"]), "--engine", "dask", "--lang", "en"])
    assert res.exit_code == 2 and 'pip install "manyi[dask]"' in res.output


def test_model_fit_on_dask_gives_the_local_intervals(cluster, tmp_path) -> None:
    """The bootstrap's blocks computed on the workers from counts drawn by the client: the
    same seed, the same estimates, standard errors and intervals (to 1e-9), with blocks of 64
    resamples (several in flight at once) and missing values (each resample's own means);
    and the same through ``manyi model fit --engine dask``."""
    from distributed import Client

    from manyi.io.models import load_model
    from manyi.services.distributed import DaskBlocks

    df = datasets.ecsi(n=1200, seed=4)
    item = df.columns[3]
    df.loc[df.index[::37], item] = np.nan
    model = Path(datasets.__file__).parent / "examples" / "ecsi.yaml"
    pls, _ = load_model(model)
    local = pls.fit(df, bootstrap=300, seed=7, batch=64).to_dict("en")
    with Client(cluster) as client:
        on_dask = pls.fit(df, bootstrap=300, seed=7, batch=64, runner=DaskBlocks(client)).to_dict("en")
    assert_close(local, on_dask)
    assert local["paths"][0]["se"] > 0 and local["bootstrap"]["resamples"] == 300

    data = tmp_path / "ecsi.parquet"
    df.to_parquet(data, index=False)
    outs = []
    for extra in ([], ["--engine", "dask", "--scheduler", cluster]):
        res = runner.invoke(app, ["model", "fit", "--model", str(model), str(data), "--bootstrap", "200",
                                  "--seed", "3", "--format", "json", *extra])
        assert res.exit_code == 0, res.output
        outs.append(json.loads(res.stdout))
    assert_close(outs[0], outs[1])


SUMMED = [
    ["ipa"],
    ["ipa", "--importance", "derived", "--weights", "weight", "--by", "tier"],
    ["ipa", "--importance", "relative", "--by", "branch,tier"],
    ["servqual"],
    ["servqual", "--weights", "weight", "--by", "tier"],
    ["compare", "--by", "tier"],
    ["compare", "--by", "branch", "--weights", "weight"],
    ["compare", "--period", "quarter"],
    ["spc", "--period", "month"],
    ["spc", "--period", "quarter", "--weights", "weight", "--by", "tier"],
]


def _analyze(argv, target, *extra) -> dict:
    res = runner.invoke(app, ["analyze", *argv, "-i", INST, str(target), "--format", "json", "--lang", "en", *extra])
    assert res.exit_code == 0, res.output
    out = json.loads(res.stdout)
    out.pop("warnings")  # the validation note names the file or the dataset
    return out


@pytest.mark.parametrize("argv", [*SUMMED, ["reliability"]])
def test_analyses_of_a_dataset(data, cluster, argv) -> None:
    """An analysis of a Parquet dataset, here and on the Dask workers, in path order: the
    numbers of the same rows in one file (1e-9). IPA, SERVQUAL, compare and SPC are summed
    where the parts lie (only the sums travel); the others read the clean rows."""
    local = _analyze(argv, data["hive"])
    assert _analyze(argv, data["hive"], "--engine", "dask", "--scheduler", cluster) == local
    assert_close(local, _analyze(argv, data["one"]))


@pytest.mark.parametrize("argv", SUMMED[:1] + SUMMED[4:5] + SUMMED[6:7] + SUMMED[9:])
def test_summed_analyses_never_gather_rows(data, cluster, argv, monkeypatch) -> None:
    """The summed analyses of a dataset do not read its rows into one table."""
    from manyi.services import distributed

    def gathered(*a, **k):
        raise AssertionError("the clean rows were gathered")

    monkeypatch.setattr(distributed, "read_dataset", gathered)
    monkeypatch.setattr(distributed, "read_part_clean", gathered)
    assert_close(_analyze(argv, data["hive"]), _analyze(argv, data["one"]))


def test_parts_without_weights_and_sums_that_merge(tmp_path) -> None:
    """A part whose rows all lack a weight adds nothing to the weighted sums (as its rows add
    nothing in one file); the summaries of random splits of a table merge into the
    summary of the whole (Chan–Golub–LeVeque), 1e-12."""
    from manyi.core.compare import ValueCounts
    from manyi.core.wstats import CoMoments, Moments, mean_test

    raw = datasets.after_sales(n=1500, seed=4, clean=True)
    raw["submitted_at"] = raw["submitted_at"].astype(str)
    raw["weight"] = np.random.default_rng(1).uniform(0.2, 3.0, len(raw))
    raw.loc[raw["branch"] == raw["branch"].iloc[0], "weight"] = np.nan
    raw.to_parquet(tmp_path / "one.parquet", index=False)
    for b, sub in raw.groupby("branch"):
        sub.to_parquet(tmp_path / f"part-{b}.parquet", index=False)
    for argv in (["compare", "--by", "tier", "--weights", "weight"], ["ipa", "--weights", "weight"]):
        assert_close(_analyze(argv, f"{tmp_path}/part-*.parquet"), _analyze(argv, tmp_path / "one.parquet"))
    # and the scorecard (its notes name rows of a part or of the file: the figures compared)
    parts, one = (_score(t) for t in (f"{tmp_path}/part-*.parquet", tmp_path / "one.parquet"))
    for key in ("groups", "total"):
        assert_close(parts[key], one[key])

    rng = np.random.default_rng(7)
    X = rng.normal(50, 10, (1000, 3))
    X[rng.random(X.shape) < 0.1] = np.nan
    w = rng.uniform(0, 2, 1000)
    w[:20] = 0
    cuts = np.sort(rng.choice(np.arange(1, 1000), 5, replace=False))
    pieces = np.split(np.arange(1000), cuts)
    m = Moments.of(X[pieces[0]], w[pieces[0]])
    c = CoMoments.of(X[pieces[0]], w[pieces[0]])
    v = ValueCounts.of(np.round(X[pieces[0], 0]))
    for p in pieces[1:]:
        m, c = m.merge(Moments.of(X[p], w[p])), c.merge(CoMoments.of(X[p], w[p]))
        v = v.merge(ValueCounts.of(np.round(X[p, 0])))
    whole = Moments.of(X, w)
    for f in ("n", "npos", "sw", "sw2", "mean", "m2"):
        np.testing.assert_allclose(getattr(m, f), getattr(whole, f), rtol=1e-12)
    for j in range(3):  # against the plain two-pass formulas
        ok = ~np.isnan(X[:, j]) & (w > 0)
        ref = np.average(X[ok, j], weights=w[ok])
        assert m.mean[j] == pytest.approx(ref, rel=1e-12)
        assert m.m2[j] == pytest.approx(np.sum(w[ok] * (X[ok, j] - ref) ** 2), rel=1e-12)
        assert m.test(j)["ci_low"] == pytest.approx(mean_test(X[:, j], w)["ci_low"], rel=1e-12)
    full = ~np.isnan(X).any(axis=1) & (w > 0)
    D = X[full] - np.average(X[full], axis=0, weights=w[full])
    np.testing.assert_allclose(c.m2, (D * w[full, None]).T @ D, rtol=1e-12)
    assert c.n == full.sum()
    vals, counts = np.unique(np.round(X[~np.isnan(X[:, 0]), 0]), return_counts=True)
    assert np.array_equal(v.values, vals) and np.array_equal(v.counts, counts)


def test_a_workers_mistake_reaches_the_user(data, cluster) -> None:
    """A user's mistake met on a worker (an unknown column) comes back as the same clear
    message (exit 2), not as an error about pickling."""
    for cmd in (["score", "--by", "nosuch"], ["analyze", "ipa", "--by", "nosuch"]):
        res = runner.invoke(app, [*cmd, "-i", INST, str(data["hive"]), "--engine", "dask", "--scheduler", cluster,
                                  "--lang", "en"])
        assert res.exit_code == 2, res.output
        assert "nosuch" in res.output and "Traceback" not in res.output


def test_a_plain_model_fits_a_dataset(tmp_path) -> None:
    """manyi model fit with a model file (no instrument) on a folder of Parquet parts: the
    numbers of the same rows in one file."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    df = datasets.ecsi(n=900, seed=2)
    one = tmp_path / "one.parquet"
    df.to_parquet(one, index=False)
    ds.write_dataset(pa.Table.from_pandas(df, preserve_index=False), tmp_path / "parts", format="parquet",
                     max_rows_per_file=250, max_rows_per_group=250)
    model = Path(datasets.__file__).parent / "examples" / "ecsi.yaml"
    outs = []
    for target in (one, tmp_path / "parts"):
        res = runner.invoke(app, ["model", "fit", "--model", str(model), str(target), "--bootstrap", "100",
                                  "--format", "json"])
        assert res.exit_code == 0, res.output
        outs.append(json.loads(res.stdout))
    assert_close(outs[0], outs[1])


def test_parts_with_other_columns_are_put_together(tmp_path) -> None:
    """Parts whose columns differ (one without the expectation answers and NPS): their sums
    would not add up to the table's, so the clean rows are put together; the numbers of one
    file holding both."""
    sq = datasets.servqual(n=300, seed=8)
    a, b = sq.iloc[:150].copy(), sq.iloc[150:].copy()
    b = b[[c for c in b.columns if not c.endswith("__expected") and c != "nps"]]
    a.to_parquet(tmp_path / "a.parquet", index=False)
    b.to_parquet(tmp_path / "b.parquet", index=False)
    pd.concat([a, b], ignore_index=True).to_parquet(tmp_path / "one.parquet", index=False)
    inst = str(example_path("servqual"))
    for argv in (["servqual"], ["compare", "--by", "segment"], ["ipa", "--importance", "derived"]):
        outs = []
        for target in (f"{tmp_path}/[ab].parquet", tmp_path / "one.parquet"):
            res = runner.invoke(app, ["analyze", *argv, "-i", inst, str(target), "--format", "json", "--lang", "en"])
            assert res.exit_code == 0, res.output
            out = json.loads(res.stdout)
            out.pop("warnings")
            outs.append(out)
        assert_close(outs[0], outs[1])
