"""The staff workspace through real HTTP requests (httpx against the app), on SQLite and
PostgreSQL: every route refuses anonymous and wrong-role or wrong-unit requests, two branch
managers see only their branch (with the numbers of ``manyi score``), CSRF, lock-out,
security headers, the export (masked, audited) and escaping of every text people can enter."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from manyi import datasets
from manyi.cli import app as cli
from manyi.io.instruments import example_path, load_instrument

runner = CliRunner()
XSS = "<script>alert(1)</script>"
UNITS = (
    "code,name_zh,name_en,parent\n"
    "co,公司,Company,\n"
    "north,北方区,North,co\n"
    "south,南方区,South,co\n"
    "beijing,北京,Beijing,north\n"
    "wuhan,武汉,Wuhan,north\n"
    "shanghai,上海,Shanghai,south\n"
    "guangzhou,广州,Guangzhou,south\n"
    f"chengdu,\"成都{XSS}\",Chengdu,co\n"
)
PASSWORDS = {"boss": "boss-password-1", "bj": "bj-password-12", "sh": "sh-password-12",
             "ana": "ana-password-1", "view": "view-password-1", "agt": "agent-password-1"}


def ok(res):
    assert res.exit_code == 0, res.stdout + res.stderr
    return res


@pytest.fixture
def workspace(store_url, tmp_path):
    inst_path = str(example_path("after-sales"))
    inst = load_instrument(inst_path)
    data = datasets.after_sales(n=600, seed=3, instrument=inst)
    data.loc[data.index[:3], "customer_id"] = ["K1", "K2", "K3"]
    csv = tmp_path / "r.csv"
    data.to_csv(csv, index=False, encoding="utf-8-sig")
    units = tmp_path / "units.csv"
    units.write_text(UNITS, encoding="utf-8")
    ok(runner.invoke(cli, ["unit", "import", str(units)]))
    ok(runner.invoke(cli, ["campaign", "create", "c1", "-i", inst_path]))
    ok(runner.invoke(cli, ["import", "--campaign", "c1", str(csv), "--unit-column", "branch"]))
    for user, role, unit in [("boss", "admin", ""), ("bj", "viewer", "beijing"), ("sh", "analyst", "shanghai"),
                             ("ana", "analyst", "north"), ("view", "viewer", ""), ("agt", "agent", "wuhan")]:
        args = ["user", "create", user, "--role", role, "--password", PASSWORDS[user]]
        ok(runner.invoke(cli, args + (["--unit", unit] if unit else [])))
    from manyi.web.app import create_app

    app = create_app(store_url)
    return app, csv, inst, inst_path


def login(app, user, password=None):
    c = TestClient(app)
    tok = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
    r = c.post("/login", data={"username": user, "password": password or PASSWORDS[user], "csrf": tok},
               follow_redirects=False)
    assert r.status_code == 303, r.text[:300]
    return c


def csrf_of(c, path="/dash"):
    return re.search(r'name="csrf" value="([^"]+)"', c.get(path).text).group(1)


PUBLIC_PREFIXES = ("/s/", "/w/", "/complain", "/static", "/assets/", "/login", "/api/", "/docs", "/openapi.json",
                   "/redoc")


def staff_routes(app):
    """Every route of the app that is not public, with each of its methods."""
    out = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path or path.startswith(PUBLIC_PREFIXES):
            continue
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method == "HEAD":
                continue
            out.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return out


def test_every_staff_route_refuses_anonymous_and_wrong_role_or_unit(workspace):
    app = workspace[0]
    routes = staff_routes(app)
    assert {("GET", "/dash"), ("GET", "/dash/export"), ("GET", "/admin/users"), ("POST", "/admin/users"),
            ("GET", "/admin/audit"), ("GET", "/admin/audit.csv"), ("GET", "/dash/responses/1")} <= set(routes)
    anon = TestClient(app)
    for method, path in routes:
        r = anon.request(method, path, follow_redirects=False)
        assert r.status_code in (401, 303), (method, path, r.status_code)
        if r.status_code == 303:
            assert r.headers["location"].startswith("/login"), (method, path)
    # a viewer may see dashboards only: every other staff page is 403
    viewer = login(app, "bj")
    tok = csrf_of(viewer)
    for method, path in routes:
        if path == "/logout":
            continue
        data = {"csrf": tok} if method == "POST" else None
        r = viewer.request(method, path, data=data, follow_redirects=False)
        if path in ("/dash", "/"):
            assert r.status_code in (200, 303), (method, path, r.status_code)
        else:
            assert r.status_code == 403, (method, path, r.status_code)
    # every role on every staff page: what it may open answers, the rest is 403
    from sqlalchemy import select

    from manyi.store import db
    from manyi.store.models import OrgUnit, Response

    with db.session() as s:
        wuhan = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "wuhan"))
        rid_north = s.scalar(select(Response.id).where(Response.unit_id == wuhan).limit(1))
    desk = {"/cases", "/cases/new", "/cases/1", "/cases/figures", "/cases/1/attachments/1"}
    allowed = {
        "agent": {"/", "/dash"} | desk,
        "analyst": {"/", "/dash", "/dash/responses", "/dash/responses/1", "/dash/export", "/actions"} | desk,
        "admin": {p for _, p in routes},
    }
    for user, role in (("agt", "agent"), ("ana", "analyst"), ("boss", "admin")):
        c = login(app, user)
        tok = csrf_of(c)
        for method, path in routes:
            if path == "/logout" or method == "POST":
                continue  # POSTs of the admin are tested with their forms below
            real = path.replace("/dash/responses/1", f"/dash/responses/{rid_north}")
            r = c.request(method, real, follow_redirects=False)
            if path in allowed[role]:
                ok_codes = (200, 303, 404) if path.startswith("/cases/1") else (200, 303)  # no case 1 here
                assert r.status_code in ok_codes, (role, method, path, r.status_code)
            else:
                assert r.status_code == 403, (role, method, path, r.status_code)
        assert c.post("/admin/users", data={"csrf": tok}).status_code == (422 if role == "admin" else 403)
    # a unit outside the account's subtree is refused, a unit inside is fine
    assert viewer.get("/dash?unit=shanghai").status_code == 403
    assert viewer.get("/dash?unit=north").status_code == 403  # above the account's unit
    assert viewer.get("/dash?unit=beijing&panels=0").status_code == 200
    # an analyst of shanghai cannot open a beijing response, by id
    with db.session() as s:
        bj = s.scalar(select(OrgUnit.id).where(OrgUnit.code == "beijing"))
        rid = s.scalar(select(Response.id).where(Response.unit_id == bj).limit(1))
    sh = login(app, "sh")
    assert sh.get(f"/dash/responses/{rid}").status_code == 403
    assert login(app, "ana").get(f"/dash/responses/{rid}").status_code == 200  # north holds beijing


def test_branch_managers_see_only_their_branch_with_the_numbers_of_manyi_score(workspace):
    app, csv, inst, inst_path = workspace
    from manyi.services.accounts import staff_by_id
    from manyi.services.dashboard import View, scorecard

    res = ok(runner.invoke(cli, ["score", "-i", inst_path, str(csv), "--by", "branch", "-f", "json"]))
    groups = {g["keys"]["branch"]: g for g in json.loads(res.stdout)["groups"]}
    from sqlalchemy import select

    from manyi.store import db
    from manyi.store.models import User

    for user, branch in (("bj", "beijing"), ("sh", "shanghai")):
        with db.session() as s:
            uid = s.scalar(select(User.id).where(User.username == user))
        card = scorecard(View(), staff_by_id(uid))
        o, want = card["overall"], groups[branch]
        assert o["n"] == want["n"] and {u["unit"] for u in card["units"]} == {branch}
        assert o["csi"] == pytest.approx(want["csi"], abs=1e-9)
        assert [o["csi_ci_low"], o["csi_ci_high"]] == pytest.approx(want["csi_ci"], abs=1e-9)
        assert o["satisfied_rate"] == pytest.approx(want["satisfied_rate"], abs=1e-12)
        assert [o["satisfied_rate_ci_low"], o["satisfied_rate_ci_high"]] == pytest.approx(
            want["satisfied_rate_ci"], abs=1e-9)
        assert o["nps"]["nps"] == pytest.approx(want["nps"], abs=1e-9)
        assert [o["nps"]["ci_low"], o["nps"]["ci_high"]] == pytest.approx(want["nps_ci"], abs=1e-9)
        for d in o["dimensions"]:
            assert d["score"] == pytest.approx(want["dimensions"][d["dimension"]], abs=1e-9)
            assert [d["ci_low"], d["ci_high"]] == pytest.approx(want["dimensions_ci"][d["dimension"]], abs=1e-9)
        page = login(app, user).get("/dash?panels=0&lang=en")
        assert page.status_code == 200 and f"{want['csi']:.1f}" in page.text
        other = "Shanghai" if user == "bj" else "Beijing"
        assert other not in page.text  # no sibling's name anywhere on the page
    # the admin's company view: every branch, drill-down from the company to the regions
    boss = login(app, "boss")
    top = boss.get("/dash?panels=0&lang=en").text
    assert "Company" in top and "unit=co" in top
    north = boss.get("/dash?panels=0&lang=en&unit=north").text
    assert "unit=beijing" in north and "unit=wuhan" in north and "unit=shanghai" not in north


def test_the_rollup_folds_new_responses_rebuilds_after_a_late_commit_and_equals_sql(workspace, monkeypatch):
    """The scorecard from the rollup equals the one aggregated over the responses (a segment
    filter takes that path), grows with new responses, and is rebuilt when the responses up
    to its read mark are more than it folded."""
    app, csv, inst, inst_path = workspace
    from sqlalchemy import update

    from manyi.services.accounts import Staff
    from manyi.services.dashboard import View, scorecard
    from manyi.services.survey import api_submit, create_api_key
    from manyi.store import db
    from manyi.store.models import RollupState

    admin = Staff(0, "t", "admin", None, None, "en")
    res = ok(runner.invoke(cli, ["score", "-i", inst_path, str(csv), "--by", "branch,service_type", "-f", "json"]))
    want = next(g for g in json.loads(res.stdout)["groups"]
                if g["keys"] == {"branch": "wuhan", "service_type": "repair"})
    raw = scorecard(View(unit="wuhan", segments=(("service_type", "repair"),)), admin)["overall"]
    assert raw["n"] == want["n"] and raw["csi"] == pytest.approx(want["csi"], abs=1e-9)
    fast = scorecard(View(unit="wuhan"), admin)["overall"]
    slow = scorecard(View(unit="wuhan", segments=(("branch", "wuhan"),)), admin)["overall"]
    for k in ("n", "csi", "csi_ci_low", "satisfied_rate", "satisfied_rate_ci_high"):
        assert fast[k] == pytest.approx(slow[k], abs=1e-9), k
    before = scorecard(View(), admin)["overall"]["n"]
    ok(runner.invoke(cli, ["campaign", "open", "c1"]))
    key = create_api_key("c1")
    answers = {i: 5 for i in inst.item_ids}
    answers.update({"nps": 10, "branch": "wuhan"})
    for i in range(3):
        assert api_submit(answers, campaign="c1", api_key=key, response_id=f"new{i}").status == 201
    after = scorecard(View(), admin)["overall"]
    assert after["n"] == before + 3
    with db.session() as s:  # as if a response below the mark had committed late
        s.execute(update(RollupState).values(folded=RollupState.folded - 2))
    from manyi.services import rollup

    monkeypatch.setattr(rollup, "CHECK_EVERY", 0.0)  # the next count check is due
    again = scorecard(View(), admin)["overall"]
    assert again["n"] == after["n"] and again["csi"] == pytest.approx(after["csi"], abs=1e-9)
    with db.session() as s:
        assert s.scalar(select_folded()) == after["responses"]


def select_folded():
    from sqlalchemy import func, select

    from manyi.store.models import RollupState

    return select(func.sum(RollupState.folded))


def test_trend_changes_carry_welch_and_two_proportion_tests(workspace):
    from scipy import stats

    from manyi.services.accounts import Staff
    from manyi.services.dashboard import View, scorecard

    admin = Staff(0, "t", "admin", None, None, "en")
    trend = scorecard(View(), admin)["trend"]
    assert len(trend) >= 3
    a, b = trend[-2], trend[-1]
    t = stats.ttest_ind_from_stats(b["csi"], b["csi_sd"], b["n"], a["csi"], a["csi_sd"], a["n"], equal_var=False)
    assert b["csi_p"] == pytest.approx(t.pvalue, rel=1e-9)
    pa, pb = a["satisfied_rate"], b["satisfied_rate"]
    pool = (pa * a["n"] + pb * b["n"]) / (a["n"] + b["n"])
    z = (pb - pa) / np.sqrt(pool * (1 - pool) * (1 / a["n"] + 1 / b["n"]))
    assert b["rate_p"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    card = scorecard(View(), admin)
    assert card["undated"] == 1  # the generator leaves one response without a time
    assert sum(r["n"] for r in trend) + card["undated"] == card["overall"]["n"]


def test_csrf_lockout_headers_and_the_audit_log(workspace):
    app = workspace[0]
    c = TestClient(app)
    c.get("/login")
    r = c.post("/login", data={"username": "boss", "password": PASSWORDS["boss"]}, follow_redirects=False)
    assert r.status_code == 403  # no CSRF token
    boss = login(app, "boss")
    assert boss.post("/admin/users", data={"username": "x", "password": "long-enough-1", "role": "viewer"},
                     follow_redirects=False).status_code == 403
    tok = csrf_of(boss, "/admin/users")
    r = boss.post("/admin/users", data={"username": "new1", "password": "long-enough-1", "role": "viewer",
                                        "unit": "wuhan", "csrf": tok}, follow_redirects=False)
    assert r.status_code == 303
    bad = boss.post("/admin/users", data={"username": "new2", "password": "short", "role": "viewer", "csrf": tok})
    assert bad.status_code == 422 and "10" in bad.text
    # five wrong passwords lock the account, even against the right one
    for _ in range(5):
        c2 = TestClient(app)
        t2 = re.search(r'name="csrf" value="([^"]+)"', c2.get("/login").text).group(1)
        assert c2.post("/login", data={"username": "new1", "password": "wrong-wrong", "csrf": t2}).status_code == 401
    c3 = TestClient(app)
    t3 = re.search(r'name="csrf" value="([^"]+)"', c3.get("/login").text).group(1)
    assert c3.post("/login", data={"username": "new1", "password": "long-enough-1", "csrf": t3},
                   follow_redirects=False).status_code == 401
    page = boss.get("/dash?panels=0")
    h = page.headers
    assert "script-src 'self'" in h["content-security-policy"] and "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-frame-options"] == "DENY" and h["cache-control"] == "no-store" and h["x-content-type-options"] == "nosniff"
    cookie = boss.cookies.jar
    assert any(ck.name == "manyi_session" for ck in cookie)
    raw = TestClient(app)
    t4 = re.search(r'name="csrf" value="([^"]+)"', raw.get("/login").text).group(1)
    r = raw.post("/login", data={"username": "boss", "password": PASSWORDS["boss"], "csrf": t4}, follow_redirects=False)
    set_cookie = r.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=lax" in set_cookie
    log = boss.get("/admin/audit.csv").content.decode("utf-8-sig")
    actions = [row.split(",")[2] for row in log.splitlines()[1:]]
    assert "user.create" in actions and "login" in actions and actions.count("login.failed") >= 5
    assert '"locked_minutes"' in log or "locked_minutes" in log
    assert "login.locked" in actions


def test_export_of_a_filtered_set_is_labelled_masked_and_audited(workspace, tmp_path):
    app, csv, inst, _ = workspace
    from manyi.services.store import import_units  # noqa: F401 - the units exist already
    from manyi.store import db
    from manyi.store.models import Customer

    with db.session() as s:
        for code, name, phone in (("K1", "王小明", "13812345678"), ("K2", "李华", "13900001111")):
            s.add(Customer(code=code, name=name, contact={"phone": phone, "email": "wx@example.com"}))
    ana = login(app, "ana")  # an analyst of the north region
    r = ana.get("/dash/export?format=csv&lang=zh&unit=beijing&seg.service_type=repair")
    assert r.status_code == 200
    df = pd.read_csv(pd.io.common.BytesIO(r.content), encoding="utf-8-sig")
    assert "服务网点" in df.columns and set(df["服务网点"]) == {"北京"}  # labels in Chinese
    assert (df["服务类型"] == "维修").all() if "服务类型" in df else True
    masked = df[df["客户"].isin(["K1", "K2"])]
    for name, phone in zip(masked["客户姓名"], masked["电话"].astype(str), strict=True):
        assert "*" in name and "*" in phone and "12345678" not in phone
    x = ana.get("/dash/export?format=xlsx&lang=en&unit=north")
    assert x.status_code == 200 and x.content[:2] == b"PK"
    boss = login(app, "boss")
    full = pd.read_csv(pd.io.common.BytesIO(boss.get("/dash/export?format=csv&lang=en").content), encoding="utf-8-sig", dtype=str)
    assert "13812345678" in set(full["phone"].astype(str))  # the admin may export personal data
    # times as the file gave them, in Asia/Shanghai (the zone months are counted in), not UTC
    from manyi.i18n import catalogue

    en = catalogue("en")
    src = pd.read_csv(csv, dtype=str).set_index("response_id")["submitted_at"]
    row = full.dropna(subset=[en["column.submitted_at"]]).iloc[0]
    shown = pd.Timestamp(row[en["column.submitted_at"]])
    assert shown.utcoffset() == pd.Timedelta(hours=8)
    assert shown.tz_localize(None) == pd.Timestamp(src[row[en["column.response_id"]]])
    log = boss.get("/admin/audit.csv").content.decode("utf-8-sig")
    assert log.count(",export,") == 3 and "seg.service_type" in log and "ana" in log
    assert login(app, "view").get("/dash/export?format=csv").status_code == 403


def test_every_entered_text_is_shown_escaped(workspace):
    app, csv, inst, inst_path = workspace
    from manyi.services.survey import api_submit, create_api_key

    ok(runner.invoke(cli, ["campaign", "open", "c1"]))
    key = create_api_key("c1")
    answers = {i: 4 for i in inst.item_ids}
    text_q = next(q.id for q in inst.questions if q.type == "text")
    answers.update({"nps": 9, "branch": "chengdu", text_q: XSS})
    assert api_submit(answers, campaign="c1", api_key=key, response_id="x1").status == 201
    ok(runner.invoke(cli, ["user", "create", XSS, "--role", "viewer", "--password", "long-enough-1"]))
    boss = login(app, "boss")
    from sqlalchemy import select

    from manyi.store import db
    from manyi.store.models import Response

    with db.session() as s:
        rid = s.scalar(select(Response.id).where(Response.response_id == "x1"))
    pages = ["/dash?lang=zh", "/dash?lang=en&panels=0", "/dash/responses", f"/dash/responses/{rid}",
             "/admin/users", "/admin/audit", f"/dash/responses?q={XSS}", f"/dash?seg.branch={XSS}&panels=0"]
    for p in pages:
        r = boss.get(p)
        assert r.status_code in (200, 404), (p, r.status_code)
        assert XSS not in r.text, p
        assert "<script>alert" not in r.text, p
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in boss.get(f"/dash/responses/{rid}").text
    assert "&lt;script&gt;" in boss.get("/admin/users").text
    # labels of an uploaded instrument: a dimension, an item, a choice
    text = open(inst_path, encoding="utf-8").read()
    text = text.replace("id: after-sales", "id: after-sales-x").replace("服务技能", "服务技能" + XSS)
    text = text.replace("Beijing", "Beijing" + XSS).replace("{zh: 服务网点", "{zh: 网点" + XSS)
    evil = csv.parent / "evil.yaml"
    evil.write_text(text, encoding="utf-8")
    ok(runner.invoke(cli, ["campaign", "create", "c2", "-i", str(evil)]))
    ok(runner.invoke(cli, ["import", "--campaign", "c2", str(csv), "--unit-column", "branch"]))
    for p in ["/dash?campaign=c2&lang=zh", "/dash?campaign=c2&lang=en&unit=beijing", "/dash/responses?campaign=c2"]:
        r = boss.get(p)
        assert r.status_code == 200 and XSS not in r.text and "<script>alert" not in r.text, p
    assert "\\u003cscript\\u003e" in boss.get("/dash?campaign=c2&lang=zh").text  # chart data escaped
    xl = boss.get("/dash/export?format=csv&campaign=c2&lang=en")
    assert xl.status_code == 200  # an export is data, not a page: the text is kept as entered


def test_the_csi_model_panel_where_the_instrument_defines_a_model(store_url, tmp_path):
    """The ECSI instrument names its model: the dashboard fits it (PLS with a bootstrap) on
    the filtered responses and draws its importance–performance map; the path coefficients
    equal those of `manyi model fit` on the same file."""
    inst_path = str(example_path("ecsi"))
    data = datasets.ecsi(n=300, seed=5)
    f = tmp_path / "ecsi.csv"
    data.to_csv(f, index=False)
    ok(runner.invoke(cli, ["campaign", "create", "e1", "-i", inst_path]))
    ok(runner.invoke(cli, ["import", "--campaign", "e1", str(f)]))
    ok(runner.invoke(cli, ["user", "create", "boss", "--role", "admin", "--password", PASSWORDS["boss"]]))
    from manyi.services.accounts import Staff
    from manyi.services.dashboard import View, panels

    got = dict(panels(View(campaign="e1"), Staff(0, "t", "admin", None, None, "en")))
    assert "model" in got and "drivers" in got
    cli_fit = json.loads(ok(runner.invoke(cli, ["model", "fit", "--model", inst_path, str(f), "--bootstrap", "200",
                                               "--seed", "1", "--format", "json"])).stdout)
    want = {(p["from"], p["to"]): p["estimate"] for p in cli_fit["paths"]}
    mine = {(p["from"], p["to"]): p["estimate"] for p in got["model"].to_dict("en")["paths"]}
    assert len(want) >= 8 and mine.keys() == want.keys()
    for k, v in want.items():
        assert mine[k] == pytest.approx(v, abs=1e-9), k
    from manyi.web.app import create_app

    page = login(create_app(store_url), "boss").get("/dash?campaign=e1&lang=en")
    assert page.status_code == 200 and 'id="fig-model"' in page.text
