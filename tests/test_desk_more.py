"""The complaint desk's escalation along the unit tree, attachments, the recovery rate, the
customer list and the case API (docs/cases.md)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from manyi.cli import app as cli
from manyi.core.cases import ORGANISATION, escalation_unit
from manyi.io.calendars import DEFAULT_SLA

runner = CliRunner()
SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 6, 1, 9, 0, tzinfo=SH)  # a Monday
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def test_the_escalation_unit_climbs_the_tree_and_skips_units_without_a_manager():
    chain = [4, 3, 2, 1, ORGANISATION]  # team, branch, region, company, the whole organisation
    everyone = {4, 3, 2, 1, ORGANISATION}
    assert [escalation_unit(chain, lvl, everyone) for lvl in range(7)] == [None, 4, 3, 2, 1, 0, 0]
    assert escalation_unit(chain, 1, {2}) == 2  # no team lead, no branch manager: the region
    assert escalation_unit(chain, 3, {3}) is None  # only below the level: nobody above
    assert escalation_unit([ORGANISATION], 2, {ORGANISATION}) == ORGANISATION  # a case without a unit
    assert escalation_unit(chain, 1, set()) is None


def _tree(tmp_path):
    units = tmp_path / "u.csv"
    units.write_text("code,name_zh,name_en,parent\nco,公司,Co,\nnorth,华北,North,co\nbj,北京,Beijing,north\n"
                     "bj-t1,北京一组,Beijing team 1,bj\nsh,石家庄,Shijiazhuang,north\nsh-t1,石家庄一组,SJZ team 1,sh\n",
                     encoding="utf-8")
    assert runner.invoke(cli, ["unit", "import", str(units)]).exit_code == 0
    for user, unit, mail in (("tl", "bj-t1", "tl@example.com"), ("bm", "bj", "bm@example.com"),
                             ("rm", "north", ""), ("ceo", "", "ceo@example.com")):
        args = ["user", "create", user, "--role", "analyst", "--manager", "--password", "manager-password-1"]
        args += ["--unit", unit] if unit else []
        args += ["--email", mail] if mail else []
        r = runner.invoke(cli, args)
        assert r.exit_code == 0, r.stderr
    r = runner.invoke(cli, ["user", "create", "agent", "--role", "agent", "--unit", "bj-t1", "--password",
                            "agent-password-1"])
    assert r.exit_code == 0


def _login(app, user, pw):
    """A client logged in as ``user``."""
    from fastapi.testclient import TestClient

    cl = TestClient(app)
    t = re.search(r'name="csrf" value="([^"]+)"', cl.get("/login").text).group(1)
    cl.post("/login", data={"username": user, "password": pw, "csrf": t})
    return cl


def _unit(code):
    from sqlalchemy import select

    from manyi.store import db
    from manyi.store.models import OrgUnit

    with db.session() as s:
        return s.scalar(select(OrgUnit.id).where(OrgUnit.code == code))


def test_breaches_and_unsatisfied_call_backs_go_up_the_unit_tree_to_its_managers(store_url, tmp_path):
    from manyi.services.cases import act, case_page, open_case, worker_pass
    from manyi.services.notify import listing

    _tree(tmp_path)
    sla = tmp_path / "sla.yaml"
    sla.write_text(DEFAULT_SLA + """notify:
  email: {host: 127.0.0.1, port: 9, from: desk@example.com, to: [desk@example.com]}
""", encoding="utf-8")
    assert runner.invoke(cli, ["sla", "load", str(sla)]).exit_code == 0
    enquiry = open_case({"kind": "enquiry", "channel": "web", "unit_id": _unit("bj-t1"), "received_at": T0})
    assert worker_pass(datetime(2026, 6, 1, 16, 0, tzinfo=SH)) == 1  # acknowledge (4 h) missed: level 1
    staff = type("S", (), {"scope": None, "can": lambda self, a: True})()
    page = case_page(enquiry["number"], staff)
    assert (page["escalation"], page["escalated_to"]) == (1, "bj-t1")
    mails = [(n["event"], n["target"]) for n in listing() if n["channel"] == "email"]
    assert sorted(mails) == [("breach", "desk@example.com"), ("escalation", "tl@example.com")]
    assert worker_pass(datetime(2026, 6, 12, 9, 0, tzinfo=SH)) == 1  # resolve (5 d) missed: level 2
    page = case_page(enquiry["number"], staff)
    assert (page["escalation"], page["escalated_to"]) == (2, "bj")
    assert ("escalation", "bm@example.com") in [(n["event"], n["target"]) for n in listing()]
    up = [e for e in page["timeline"] if e["action"] == "escalate"]
    assert [(e["data"]["unit"], e["data"]["managers"]) for e in up] == [("bj-t1", ["tl"]), ("bj", ["bm"])]

    # an unsatisfied call-back: one level up at once; a team and branch without managers: the region
    c = open_case({"kind": "complaint", "channel": "hotline", "unit_id": _unit("sh-t1"), "received_at": T0})
    act(c["number"], "acknowledge", "agent", at=T0 + timedelta(minutes=10))
    act(c["number"], "resolve", "agent", at=T0 + timedelta(minutes=50), remedy="refund", root_cause="product")
    before = len(listing())
    act(c["number"], "call_back", "agent", at=T0 + timedelta(hours=2), satisfied=False)
    page = case_page(c["number"], staff)
    assert (page["status"], page["escalation"], page["escalated_to"]) == ("reopened", 1, "north")
    new = listing()[: len(listing()) - before]
    assert new == []  # the region manager has no e-mail and the desk's list takes breaches only
    assert next(e for e in page["timeline"] if e["action"] == "call_back")["data"]["managers"] == ["rm"]

    # the queue of escalated cases, as the branch manager sees it
    from fastapi.testclient import TestClient

    from manyi.web.app import create_app

    cl = TestClient(create_app(store_url))
    t = re.search(r'name="csrf" value="([^"]+)"', cl.get("/login").text).group(1)
    cl.post("/login", data={"username": "rm", "password": "manager-password-1", "csrf": t})
    q = cl.get("/cases?escalated=1&lang=en")
    assert q.status_code == 200 and c["number"] in q.text and "↑1 north" in q.text


def test_bad_notice_events_are_refused_with_their_place(store_url, tmp_path):
    sla = tmp_path / "sla.yaml"
    sla.write_text(DEFAULT_SLA + """notify:
  email: {host: 127.0.0.1, from: a@b.cn, to: [c@d.cn], events: [breach, escalaton]}
""", encoding="utf-8")
    r = runner.invoke(cli, ["sla", "load", str(sla), "--lang", "en"])
    assert r.exit_code == 2 and "escalaton" in r.stderr and "breach, escalation" in r.stderr


def test_attachments_are_checked_by_content_kept_and_downloaded_only_in_scope(store_url, tmp_path):
    from fastapi.testclient import TestClient

    from manyi.services.cases import MAX_ATTACHMENT, open_case
    from manyi.web.app import create_app

    _tree(tmp_path)
    c = open_case({"kind": "complaint", "channel": "hotline", "unit_id": _unit("bj-t1"), "received_at": T0,
                   "description": "屏幕碎了"})
    app = create_app(store_url)

    def login(user, pw):
        return _login(app, user, pw)

    agent = login("agent", "agent-password-1")
    page = agent.get(f"/cases/{c['number']}?lang=en")
    t = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    up = f"/cases/{c['number']}/attachments"
    ok = agent.post(up, data={"csrf": t}, files={"file": ("照片 1.png", PNG, "image/png")}, follow_redirects=False)
    assert ok.status_code == 303
    html = agent.post(up, data={"csrf": t}, files={"file": ("x.png", b"<html><script>alert(1)</script>", "image/png")})
    assert html.status_code == 422 and "cannot be attached" in html.text  # the name and the browser lie
    big = agent.post(up, data={"csrf": t}, files={"file": ("big.pdf", b"%PDF-" + b"0" * MAX_ATTACHMENT, "application/pdf")})
    assert big.status_code == 422 and "more than the limit of 5242880 bytes" in big.text
    huge = agent.post(up, data={"csrf": t}, files={"file": ("huge.pdf", b"%PDF-" + b"0" * (MAX_ATTACHMENT + 99999),
                                                            "application/pdf")})
    assert huge.status_code == 413  # refused while reading
    assert agent.post(up, files={"file": ("a.png", PNG, "image/png")}).status_code == 403  # no CSRF token
    page = agent.get(f"/cases/{c['number']}?lang=en").text
    link = re.search(r'href="(/cases/C\d+/attachments/\d+)">照片 1.png', page).group(1)
    got = agent.get(link)
    assert got.status_code == 200 and got.content == PNG and got.headers["content-type"] == "image/png"
    assert got.headers["content-disposition"].startswith("attachment;") and "sandbox" in got.headers["content-security-policy"]
    assert "attached a file" in page
    # a manager of another branch sees neither the case nor its files
    other = TestClient(app)
    assert runner.invoke(cli, ["user", "create", "sh-agent", "--role", "agent", "--unit", "sh",
                               "--password", "agent-password-1"]).exit_code == 0
    other = login("sh-agent", "agent-password-1")
    assert other.get(link).status_code == 403
    assert TestClient(app).get(link, follow_redirects=False).status_code == 303  # anonymous: to the login

    # the public form takes one file with the complaint, or refuses both together
    pub = TestClient(app)
    t = re.search(r'name="csrf" value="([^"]+)"', pub.get("/complain").text).group(1)
    form = {"csrf": t, "kind": "complaint", "description": "收据看不清", "phone": "13800001111"}
    bad = pub.post("/complain?lang=en", data=form, files={"attachment": ("r.exe", b"MZ\x90\x00\x03", "application/x-msdownload")})
    assert bad.status_code == 422 and "cannot be attached" in bad.text
    done = pub.post("/complain", data=form, files={"attachment": ("receipt.txt", "发票号 123".encode(), "text/plain")})
    assert done.status_code == 200
    number = re.search(r"C\d{7}", done.text).group(0)
    from manyi.services.cases import api_case

    case = api_case(number)
    assert [e["action"] for e in case["timeline"]] == ["open", "attach"]
    from manyi.services.cases import case_page

    admin = type("S", (), {"scope": None, "can": lambda self, a: True})()
    assert case_page(number, admin)["contact"]["name"] is None  # the file's name is not the customer's
    from sqlalchemy import func, select

    from manyi.store import db
    from manyi.store.models import Attachment, Case

    with db.session() as s:  # the refused complaint stored nothing
        assert s.scalar(select(func.count(Case.id)).where(Case.description == "收据看不清")) == 1
        assert s.scalar(select(func.count(Attachment.id))) == 2


def test_the_recovery_rate_counts_complainants_who_stayed(store_url, tmp_path):
    """Five complainants: K1 stayed, K2 left after the complaint, K3 had left before it (not
    counted), K4 is not in the customer list (not counted), K5's complaint is not resolved
    (not counted), K6 complained twice and stayed: 2 of 3 retained."""
    from manyi.services.cases import act, kpis, open_case

    people = tmp_path / "customers.csv"
    people.write_text("customer_id,name,unit,phone,left_at\nK1,甲,,13800000001,\nK2,乙,,,2026-09-01\n"
                      "K3,丙,,,2026-01-01\nK5,戊,,,\nK6,己,,,\n", encoding="utf-8")
    r = runner.invoke(cli, ["customers", "import", str(people), "--lang", "en"])
    assert r.exit_code == 0 and "5 new customer(s)" in r.stdout, r.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("customer_id,left_at,unit\nK7,someday,\nK8,,nowhere\n", encoding="utf-8")
    r = runner.invoke(cli, ["customers", "import", str(bad), "--lang", "en"])
    assert r.exit_code == 0 and "2 row(s) left out" in r.stdout and "someday" in r.stderr and "nowhere" in r.stderr
    for k, who in enumerate(["K1", "K2", "K3", "K4", "K5", "K6", "K6"]):
        c = open_case({"kind": "complaint", "channel": "hotline", "category": ["service", "product"][k % 2],
                       "customer": who, "received_at": T0 + timedelta(days=k * 40)})
        if who != "K5":
            act(c["number"], "acknowledge", "a", at=T0 + timedelta(days=k * 40, minutes=5))
            act(c["number"], "resolve", "a", at=T0 + timedelta(days=k * 40, hours=1), remedy="r", root_cause="product")
    k = kpis()["kpis"].iloc[0]
    assert k["complainants"] == 3 and k["recovery_rate"] == pytest.approx(2 / 3)
    r = runner.invoke(cli, ["cases", "kpi", "--format", "json"])
    assert r.exit_code == 0 and "recovery_rate" in r.stdout


def test_the_case_api_opens_a_case_once_per_key_and_explains_bad_fields(store_url, tmp_path):
    from fastapi.testclient import TestClient

    from manyi.web.app import create_app

    _tree(tmp_path)
    r = runner.invoke(cli, ["apikey", "create", "--cases"])
    assert r.exit_code == 0
    key = re.search(r"mk_\S+", r.stdout).group(0)
    assert runner.invoke(cli, ["apikey", "create"]).exit_code == 2  # neither a campaign nor --cases
    api = TestClient(create_app(store_url))
    body = {"kind": "complaint", "category": "service", "unit": "bj-t1", "customer": "K1",
            "description": "APP 下单后无人联系", "contact": {"phone": "13800000009"},
            "received_at": "2026-06-01T09:00:00+08:00"}
    assert api.post("/api/v1/cases", json=body).status_code == 401
    assert api.post("/api/v1/cases", json=body, headers={"X-API-Key": "mk_wrong"}).status_code == 401
    h = {"Authorization": f"Bearer {key}", "Idempotency-Key": "crm-77"}
    first = api.post("/api/v1/cases", json=body, headers=h)
    assert first.status_code == 201, first.text
    case = first.json()
    assert case["channel"] == "api" and case["status"] == "new" and set(case["due"]) == {
        "acknowledge", "first_contact", "resolve"}  # the call-back is due once resolved
    again = api.post("/api/v1/cases", json=body, headers=h)
    assert again.status_code == 200 and again.json()["number"] == case["number"]
    bad = api.post("/api/v1/cases", json={**body, "kind": "grumble", "unit": "mars", "received_at": "yesterday"},
                   headers={"X-API-Key": key, "Accept-Language": "zh"})
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"kind", "unit", "received_at"}
    assert api.post("/api/v1/cases", content=b"{oops", headers={"X-API-Key": key}).status_code == 400
    got = api.get(f"/api/v1/cases/{case['number']}", headers={"X-API-Key": key})
    assert got.status_code == 200 and got.json()["timeline"][0]["action"] == "open"
    assert api.get("/api/v1/cases/C9999999", headers={"X-API-Key": key}).status_code == 404
    listed = api.get("/api/v1/cases?limit=5", headers={"X-API-Key": key}).json()["cases"]
    assert [c["number"] for c in listed] == [case["number"]]
    assert listed[0]["breaches"] == [] and json.dumps(listed)


def test_the_actions_page_records_marks_done_and_checks_an_action(store_url, tmp_path):

    from manyi.services.cases import open_case
    from manyi.web.app import create_app

    _tree(tmp_path)
    case = open_case({"kind": "complaint", "channel": "hotline", "category": "service", "received_at": T0})
    app = create_app(store_url)

    def login(user, pw):
        return _login(app, user, pw)

    assert login("agent", "agent-password-1").get("/actions").status_code == 403
    tl = login("tl", "manager-password-1")
    page = tl.get("/actions?lang=en")
    assert page.status_code == 200 and "No actions yet." in page.text
    t = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    bad = tl.post("/actions?lang=en", data={"csrf": t, "title": "", "metric": "complaints"})
    assert bad.status_code == 422 and "needs a title" in bad.text
    ok = tl.post("/actions", data={"csrf": t, "title": "<b>回访话术培训</b>", "metric": "complaints",
                                   "category": "service", "cases": case["number"], "due": "2026-12-31"},
                 follow_redirects=False)
    assert ok.status_code == 303
    page = tl.get("/actions?lang=en").text
    assert "&lt;b&gt;回访话术培训&lt;/b&gt;" in page and "<b>回访" not in page and case["number"] in page
    number = re.search(r"A\d{7}", page).group(0)
    assert tl.post(f"/actions/{number}", data={"csrf": t, "step": "check"}).status_code == 422  # not done yet
    assert tl.post(f"/actions/{number}", data={"csrf": t, "step": "done"}, follow_redirects=False).status_code == 303
    assert "Check effect" in tl.get("/actions?lang=en").text
    assert tl.post(f"/actions/{number}", data={"step": "done"}).status_code == 403  # no CSRF token


def test_the_clock_stops_when_its_server_is_killed(tmp_path):
    """`manyi serve` starts the clock as a child; when the server dies without stopping it
    (SIGKILL), the clock notices its parent is gone and exits instead of running on."""
    import os
    import subprocess
    import sys
    import time

    pid_file = tmp_path / "worker.pid"
    parent = (
        "import os, subprocess, sys\n"
        "env = {**os.environ, 'MANYI_WORKER_PARENT': str(os.getpid())}\n"
        "p = subprocess.Popen([sys.executable, '-m', 'manyi.cli', 'worker', '--interval', '1'], env=env,\n"
        "                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))\n"
        "os._exit(0)  # like a SIGKILL: no chance to stop the child\n"
    )
    subprocess.run([sys.executable, "-c", parent], check=True, timeout=60)
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.kill(child, 9)
        raise AssertionError("the clock kept running after its server was gone")
