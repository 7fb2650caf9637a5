"""Benchmark: the staff dashboard over 1,000,000 stored responses.

1. A fresh store (SQLite by default; ``--database postgresql://...``) with the demo's
   organisation, one campaign on the after-sales instrument and ``--n`` generated responses,
   each stored with its scores computed by the same code as ``manyi score`` (written in bulk).
2. The scorecard page (``/dash?panels=0``) as a logged-in admin: the first look (which folds
   every response into the rollup once) and then the median of ``--repeat`` looks, against
   the goal of 300 ms; a branch manager's view and a month filter the same way.
3. The dashboard with all panels (``/dash``): the first look (reads the responses for the
   panels) and the median of the next looks (panels kept per filter), against the goal of 2 s.

The responses are written in bulk, around ``manyi import``, so the first look at the scorecard
also folds them all into the rollup (which an import does at its end).

Run: ``.venv/bin/python benchmarks/dashboard_1m.py [--n 1000000] [--database URL]``.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def fill(url: str, n: int, chunk: int = 50_000) -> float:
    """The store with ``n`` scored responses; returns the seconds it took."""
    import pandas as pd
    from sqlalchemy import insert, select

    from manyi import datasets
    from manyi.core.scoring import score_responses
    from manyi.io.instruments import example_path, load_example
    from manyi.io.responses import validate_frame
    from manyi.services.accounts import create_user
    from manyi.services.demo import DEMO_UNITS
    from manyi.services.requests import Source
    from manyi.services.store import create_campaign, import_units, item_points, points_dict
    from manyi.store import db
    from manyi.store.models import Campaign, OrgUnit, Response

    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix="manyi-dash-"))
    units = tmp / "units.csv"
    pd.DataFrame(DEMO_UNITS, columns=["code", "name_zh", "name_en", "parent"]).to_csv(units, index=False)
    import_units(Source.of(units), url=url)
    create_campaign("big", Source.of(example_path("after-sales")), url=url)
    create_user("admin", "admin-password", "admin", url=url)
    create_user("bj", "branch-password", "viewer", "beijing", url=url)
    inst = load_example("after-sales")
    with db.session(url) as s:
        cid, ivid = s.execute(select(Campaign.id, Campaign.instrument_version_id)).one()
        codes = dict(s.execute(select(OrgUnit.code, OrgUnit.id)).all())
    eng = db.ensure_schema(url)
    base = datasets.after_sales(n=min(n, 100_000), seed=5, instrument=inst)
    rs = validate_frame(base, inst)
    data = rs.data.reset_index(drop=True)
    X = np.column_stack([data[i].to_numpy(dtype=float, na_value=np.nan) for i in inst.item_ids])
    sc = score_responses(inst, X)
    pts = item_points(inst, X)
    cols = [c for c in data.columns if c not in ("response_id", "submitted_at")]
    recs = []
    for r in range(len(data)):
        ans = {}
        for c in cols:
            v = data[c].iat[r]
            ans[c] = None if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA else (v.item() if hasattr(v, "item") else v)
        ts = data["submitted_at"].iat[r]
        recs.append(
            {
                "answers": ans,
                "dimensions": {d: None if np.isnan(sc.dimensions[r, j]) else float(sc.dimensions[r, j])
                               for j, d in enumerate(inst.dimension_ids)},
                "items": points_dict(inst, pts[r]),
                "csi": None if np.isnan(sc.csi[r]) else float(sc.csi[r]),
                "satisfied": None if np.isnan(sc.satisfied[r]) else int(sc.satisfied[r]),
                "submitted_at": None if pd.isna(ts) else ts.to_pydatetime().astimezone(UTC),
                "unit_id": codes.get(str(ans.get("branch"))),
            }
        )
    done = 0
    now = datetime.now(UTC)
    with eng.begin() as conn:
        while done < n:
            rows = []
            for k in range(done, min(n, done + chunk)):
                rec = recs[k % len(recs)]
                rows.append({"campaign_id": cid, "instrument_version_id": ivid, "response_id": f"R{k:08d}",
                             "customer_code": None, "source": "import", "created_at": now, **rec})
            conn.execute(insert(Response.__table__), rows)
            done += len(rows)
            print(f"  stored {done:,} responses", end="\r", flush=True)
    print()
    return time.perf_counter() - t0


def login(client, user: str, password: str) -> None:
    tok = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/login", data={"username": user, "password": password, "csrf": tok}, follow_redirects=False)
    assert r.status_code == 303, r.status_code


def timed(client, path: str, repeat: int) -> tuple[float, float]:
    """(first look, median of the next ``repeat`` looks) in seconds."""
    t0 = time.perf_counter()
    r = client.get(path)
    first = time.perf_counter() - t0
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        assert client.get(path).status_code == 200
        times.append(time.perf_counter() - t0)
    return first, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--database", default="")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-fill", action="store_true", help="measure a store filled by an earlier run")
    args = ap.parse_args()
    url = args.database or f"sqlite:///{Path(tempfile.mkdtemp(prefix='manyi-dash-')) / 'manyi.db'}"
    os.environ["MANYI_DATABASE_URL"] = url
    from fastapi.testclient import TestClient

    from manyi.web.app import create_app

    print(f"store: {url.split('@')[-1]}; {args.n:,} responses")
    if not args.no_fill:
        took = fill(url, args.n)
        print(f"filled in {took:.0f} s")
    app = create_app(url)
    admin = TestClient(app)
    login(admin, "admin", "admin-password")
    bj = TestClient(app)
    login(bj, "bj", "branch-password")
    rows = [
        ("scorecard, whole company", admin, "/dash?panels=0", 0.3),
        ("scorecard, one branch (viewer)", bj, "/dash?panels=0", 0.3),
        ("scorecard, region north, 3 months", admin, "/dash?panels=0&unit=north&start=2026-01&end=2026-03", 0.3),
        ("dashboard with all panels", admin, "/dash", 2.0),
    ]
    for name, client, path, goal in rows:
        first, med = timed(client, path, args.repeat)
        ok = "met" if med <= goal else "NOT met"
        print(f"{name}: first look {first * 1000:,.0f} ms, then median {med * 1000:,.0f} ms "
              f"(goal ≤ {goal * 1000:,.0f} ms: {ok}; {goal / med:.1f}× inside the goal)" if med <= goal else
              f"{name}: first look {first * 1000:,.0f} ms, then median {med * 1000:,.0f} ms "
              f"(goal ≤ {goal * 1000:,.0f} ms: {ok})")


if __name__ == "__main__":
    main()
