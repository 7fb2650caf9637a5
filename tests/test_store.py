"""The store on SQLite and PostgreSQL: migrations, campaigns, imports, and a campaign
scorecard equal to the file scorecard.

PostgreSQL: ``MANYI_TEST_DATABASE_URL`` (an admin URL), else the server at 127.0.0.1:5432
(trust auth, user postgres, database test); each test gets a fresh database of its own. Where
no server answers, the PostgreSQL cases skip with that reason.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app
from manyi.io.instruments import example_path

runner = CliRunner()
def comparable(doc: dict) -> dict:
    doc = dict(doc)
    doc.pop("rejected"), doc.pop("warnings")
    return doc


def test_campaign_import_twice_and_score_equal_the_file(store_url, tmp_path):
    """The sequence an operator runs: db upgrade; campaign create; import (twice); score."""
    inst = str(example_path("after-sales"))
    data = tmp_path / "r.csv"
    datasets.after_sales(n=800, seed=12).to_csv(data, index=False, encoding="utf-8-sig")
    res = runner.invoke(app, ["db", "upgrade"])
    assert res.exit_code == 0, res.output
    assert runner.invoke(app, ["campaign", "create", "2026Q1", "--instrument", inst]).exit_code == 0
    first = runner.invoke(app, ["import", "--campaign", "2026Q1", str(data)])
    assert first.exit_code == 0, first.output
    again = runner.invoke(app, ["import", "--campaign", "2026Q1", str(data)])
    assert again.exit_code == 0 and "0 response(s) added" in again.stderr
    stored = runner.invoke(app, ["score", "--campaign", "2026Q1", "--by", "branch", "--format", "json"])
    assert stored.exit_code == 0, stored.output
    from_file = runner.invoke(app, ["score", "-i", inst, str(data), "--by", "branch", "--format", "json"])
    a, b = json.loads(stored.stdout), json.loads(from_file.stdout)
    assert comparable(a) == comparable(b)
    assert a["total"]["n"] == b["total"]["n"] > 700
    # periods and another key, as well
    s2 = runner.invoke(app, ["score", "--campaign", "2026Q1", "--by", "tier", "--period", "quarter", "-f", "json"])
    f2 = runner.invoke(app, ["score", "-i", inst, str(data), "--by", "tier", "--period", "quarter", "-f", "json"])
    assert comparable(json.loads(s2.stdout)) == comparable(json.loads(f2.stdout))
    listing = runner.invoke(app, ["campaign", "list"])
    assert "2026Q1" in listing.stdout and str(a["total"]["n_responses"]) in listing.stdout


def test_imported_times_keep_their_month_on_every_database(store_url, tmp_path):
    """A file's times without an offset are Beijing time: 20:00 on 31 March stays in March and
    07:00 on 1 April in April once stored (SQLite keeps no offset: the import stores UTC), in
    the campaign's scorecard as in the file's."""
    inst = str(example_path("after-sales"))
    df = datasets.after_sales(n=200, seed=3, clean=True)
    df["submitted_at"] = ["2026-03-31 20:00"] * 100 + ["2026-04-01 07:00"] * 100
    data = tmp_path / "edge.csv"
    df.to_csv(data, index=False, encoding="utf-8-sig")
    assert runner.invoke(app, ["campaign", "create", "edge", "--instrument", inst]).exit_code == 0
    assert runner.invoke(app, ["import", "--campaign", "edge", str(data)]).exit_code == 0
    stored = json.loads(runner.invoke(app, ["score", "--campaign", "edge", "--period", "month", "-f", "json"]).stdout)
    months = {g["keys"]["period"]: g["n"] for g in stored["groups"]}
    assert months == {"2026-03": 100, "2026-04": 100}
    from_file = json.loads(runner.invoke(app, ["score", "-i", inst, str(data), "--period", "month", "-f", "json"]).stdout)
    assert comparable(stored) == comparable(from_file)


def test_responses_keep_their_scores_and_version(store_url, tmp_path):
    from sqlalchemy import select

    from manyi.core.scoring import score_responses
    from manyi.io.instruments import load_instrument
    from manyi.io.responses import read_responses
    from manyi.services.requests import Source
    from manyi.services.store import create_campaign, import_file
    from manyi.store import db
    from manyi.store.models import InstrumentVersion, Response

    path = example_path("after-sales")
    data = tmp_path / "r.csv"
    datasets.after_sales(n=150, seed=3).to_csv(data, index=False)
    create_campaign("c", Source.of(path), url=store_url)
    rep = import_file("c", Source.of(data), url=store_url)
    inst = load_instrument(path)
    rs = read_responses(data, inst)
    assert rep.added == len(rs.data) and rep.report.rows_rejected == rs.report.rows_rejected
    X = rs.data[inst.item_ids].to_numpy(float)
    expect = score_responses(inst, X)
    with db.session(store_url) as s:
        rows = s.execute(select(Response.response_id, Response.csi, Response.dimensions,
                                Response.instrument_version_id).order_by(Response.id)).all()
        iv = s.scalar(select(InstrumentVersion))
    assert [r[0] for r in rows] == list(rs.data["response_id"])
    np.testing.assert_allclose([np.nan if r[1] is None else r[1] for r in rows], expect.csi, equal_nan=True)
    assert rows[0][2]["skill"] == pytest.approx(expect.dimensions[0, inst.dimension_ids.index("skill")])
    with db.session(store_url) as s:
        first = s.scalar(select(Response).order_by(Response.id))
    x = rs.data["skill_diagnosis"].iloc[0]
    assert first.items["skill_diagnosis"] == pytest.approx(x / 5 * 100)  # ratio points: 4 of 5 → 80
    assert {r[3] for r in rows} == {iv.id} and (iv.instrument, iv.version) == ("after-sales", "2026.1")
    # the same id and version with other content is refused; a new version is kept beside it
    changed = tmp_path / "changed.yaml"
    changed.write_text(path.read_text(encoding="utf-8").replace("satisfied_at: 70", "satisfied_at: 75"),
                       encoding="utf-8")
    from manyi.i18n import ManyiError

    with pytest.raises(ManyiError, match="version 2026.1 is already stored with other content"):
        create_campaign("c2", Source.of(changed), url=store_url)
    bumped = tmp_path / "bumped.yaml"
    bumped.write_text(changed.read_text(encoding="utf-8").replace('version: "2026.1"', 'version: "2026.2"'),
                      encoding="utf-8")
    create_campaign("c2", Source.of(bumped), url=store_url)
    with db.session(store_url) as s:
        assert sorted(s.scalars(select(InstrumentVersion.version)).all()) == ["2026.1", "2026.2"]


def test_store_messages(store_url, tmp_path, monkeypatch):
    res = runner.invoke(app, ["score", "--campaign", "nope", "-f", "json"])
    assert res.exit_code == 2 and "there is no campaign nope" in res.stderr
    inst = str(example_path("after-sales"))
    assert runner.invoke(app, ["campaign", "create", "x", "-i", inst]).exit_code == 0
    res = runner.invoke(app, ["campaign", "create", "x", "-i", inst])
    assert res.exit_code == 2 and "already exists" in res.stderr
    res = runner.invoke(app, ["score", "--campaign", "x"])
    assert res.exit_code == 2 and "holds no responses yet" in res.stderr
    res = runner.invoke(app, ["score"])
    assert res.exit_code == 2 and "--campaign NAME" in res.stderr


def test_unreachable_database_is_a_message(monkeypatch):
    monkeypatch.setenv("MANYI_DATABASE_URL", "postgresql://postgres@127.0.0.1:1/none")
    res = runner.invoke(app, ["db", "upgrade"])
    assert res.exit_code == 2 and "cannot reach the database" in res.stderr


def test_sample_invitations_open_and_close(store_url, tmp_path):
    import pandas as pd

    rng = np.random.default_rng(1)
    cust = tmp_path / "customers.csv"
    pd.DataFrame({"customer_id": [f"C{i:05d}" for i in range(600)],
                  "tier": rng.choice(["vip", "regular"], 600, p=[0.25, 0.75]),
                  "phone": [f"138{i:08d}" for i in range(600)]}).to_csv(cust, index=False)
    inst = str(example_path("after-sales"))
    assert runner.invoke(app, ["campaign", "create", "w1", "-i", inst]).exit_code == 0
    args = ["campaign", "sample", "w1", "--customers", str(cust), "--moe", "0.05", "--method", "stratified",
            "--strata", "tier", "--seed", "3"]
    res = runner.invoke(app, args)
    n = 600 * 384.15 / (600 + 384.15)  # Cochran with the stratified proportional formula, ≈ 235
    assert res.exit_code == 0 and f"{int(np.ceil(n))} customer(s) drawn" in res.stdout
    again = runner.invoke(app, args)
    assert "0 new invitation(s)" in again.stdout  # the same draw invites nobody twice
    out = tmp_path / "inv.csv"
    res = runner.invoke(app, ["campaign", "invitations", "w1", "-o", str(out), "--base-url", "https://s.example.com/"])
    inv = pd.read_csv(out, encoding="utf-8-sig")
    assert len(inv) == int(np.ceil(n)) and inv["token"].is_unique
    assert (inv["link"] == "https://s.example.com/s/" + inv["token"]).all()
    assert inv["token"].str.len().min() >= 20 and "phone" in inv
    for status in ("open", "close"):
        assert runner.invoke(app, ["campaign", status, "w1"]).exit_code == 0
    from manyi.services.store import show_campaign

    info = show_campaign("w1")
    assert info["status"] == "closed" and info["invitations"] == len(inv) and info["sampling"]["seed"] == 3
    shown = runner.invoke(app, ["campaign", "show", "w1", "--lang", "zh"]).stdout
    assert "已关闭" in shown and "分层抽样，从 600 中抽取" in shown and "按 tier 分层（比例分配）" in shown


def test_organisation_units_from_csv_and_yaml(store_url, tmp_path):
    csv = tmp_path / "units.csv"
    csv.write_text("code,name_zh,name_en,parent\nHQ,总部,Head office,\nEAST,华东区,East,HQ\nSH,上海店,Shanghai,EAST\n",
                   encoding="utf-8")
    res = runner.invoke(app, ["unit", "import", str(csv)])
    assert res.exit_code == 0 and "3 unit(s) added, 0 updated" in res.stdout
    yml = tmp_path / "more.yaml"
    yml.write_text("- {code: WEST, name: {zh: 西部区, en: West}, parent: HQ}\n"
                   "- {code: CD, name: {zh: 成都店, en: Chengdu}, parent: WEST}\n"
                   "- {code: SH, name: {zh: 上海旗舰店, en: Shanghai flagship}, parent: EAST}\n", encoding="utf-8")
    res = runner.invoke(app, ["unit", "import", str(yml)])
    assert res.exit_code == 0 and "2 unit(s) added, 1 updated" in res.stdout
    from manyi.services.store import unit_tree

    tree = unit_tree().set_index("unit")
    assert tree.loc["CD", "path"] == "HQ / WEST / CD" and tree.loc["CD", "depth"] == 2
    assert tree.loc["SH", "name_zh"] == "上海旗舰店"
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name_zh,name_en,parent\nX,甲,X,NOPE\n", encoding="utf-8")
    res = runner.invoke(app, ["unit", "import", str(bad)])
    assert res.exit_code == 2 and "the parent NOPE of unit X" in res.stderr
    cyc = tmp_path / "cyc.csv"
    cyc.write_text("code,name_zh,name_en,parent\nA,甲,A,B\nB,乙,B,A\n", encoding="utf-8")
    res = runner.invoke(app, ["unit", "import", str(cyc)])
    assert res.exit_code == 2 and "its own ancestor" in res.stderr
    assert "A" not in set(unit_tree()["unit"])  # nothing of a refused file is kept


def test_the_upgrade_moves_old_sqlite_import_times_to_utc(tmp_path, monkeypatch):
    """A SQLite store imported into before revision 0010 holds Beijing wall-clock times read
    back as UTC; ``manyi db upgrade`` moves the imported ones (not web answers) back by eight
    hours and empties the dashboard's rollup so that it is counted again."""
    from alembic import command
    from sqlalchemy import text

    from manyi.store import db

    url = f"sqlite:///{tmp_path / 'old.db'}"
    monkeypatch.setenv("MANYI_DATABASE_URL", url)
    eng = db.engine(url)
    with eng.begin() as conn:
        cfg = db.alembic_config(url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0009")
        conn.execute(text("INSERT INTO instrument_version (id, instrument, version, source, created_at) "
                          "VALUES (1, 'i', '1', 'x', '2026-01-01 00:00:00.000000')"))
        conn.execute(text("INSERT INTO campaign (id, name, instrument_version_id, status, created_at) "
                          "VALUES (1, 'c', 1, 'open', '2026-01-01 00:00:00.000000')"))
        for rid, at, source in (("a", "2026-03-31 20:00:00.000000", "import"),
                                ("b", "2026-03-31 12:00:00.000000", "web")):
            conn.execute(text("INSERT INTO response (campaign_id, instrument_version_id, response_id, "
                              "submitted_at, answers, dimensions, source, created_at) "
                              f"VALUES (1, 1, '{rid}', '{at}', '{{}}', '{{}}', '{source}', '{at}')"))
        conn.execute(text("INSERT INTO rollup_state (campaign_id, last_id, folded) VALUES (1, 2, 2)"))
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    with eng.connect() as conn:
        got = dict(conn.execute(text("SELECT response_id, submitted_at FROM response")).all())
        assert got == {"a": "2026-03-31 12:00:00.000000", "b": "2026-03-31 12:00:00.000000"}
        assert conn.execute(text("SELECT count(*) FROM rollup_state")).scalar() == 0
