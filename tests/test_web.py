"""The survey pages through real HTTP requests (httpx against the app), on SQLite and
PostgreSQL: the form in both languages, server-side checks next to the question, a stored
response with its scores, used, unknown and closed links, escaping, oversized bodies and
concurrent submissions of one token."""

from __future__ import annotations

import threading

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from manyi.cli import app as cli
from manyi.io.instruments import example_path, load_instrument

runner = CliRunner()


@pytest.fixture
def fielded(store_url, tmp_path):
    inst = str(example_path("after-sales"))
    cust = tmp_path / "c.csv"
    pd.DataFrame({"customer_id": [f"C{i}" for i in range(40)]}).to_csv(cust, index=False)
    assert runner.invoke(cli, ["campaign", "create", "w", "-i", inst]).exit_code == 0
    assert runner.invoke(cli, ["campaign", "sample", "w", "--customers", str(cust), "--n", "10"]).exit_code == 0
    assert runner.invoke(cli, ["campaign", "open", "w"]).exit_code == 0
    out = tmp_path / "inv.csv"
    runner.invoke(cli, ["campaign", "invitations", "w", "-o", str(out)])
    from manyi.web.app import create_app

    client = TestClient(create_app(store_url))
    return client, list(pd.read_csv(out, encoding="utf-8-sig")["token"]), load_instrument(inst)


def full_form(inst, **extra):
    form = {i: "4" for i in inst.item_ids}
    form.update({"nps": "9", "csat": "5", "ces": "6", "branch": "beijing"})
    form.update(extra)
    return form


def test_the_form_in_both_languages_and_the_checks_next_to_the_question(fielded):
    client, tokens, inst = fielded
    page = client.get(f"/s/{tokens[0]}?lang=zh")
    assert page.status_code == 200 and "售后服务满意度调查" in page.text and "很满意" in page.text
    assert 'href="/static/manyi.css"' in page.text and "http" not in page.text.split("<body>")[0].replace(
        'http-equiv', '')  # no CDN: every asset is local
    assert client.get("/static/manyi.css").status_code == 200
    en = client.get(f"/s/{tokens[0]}", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "After-sales service satisfaction survey" in en.text
    bad = client.post(f"/s/{tokens[0]}?lang=zh", data=full_form(inst, skill_diagnosis="", nps="11"))
    assert bad.status_code == 422
    block = bad.text.split('id="q-skill_diagnosis"')[1].split('id="q-')[0]
    assert "请回答此题" in block  # the message next to its question
    assert "超出量表范围 0-10" in bad.text.split('id="q-nps"')[1].split('id="q-')[0]
    assert 'value="9"' not in bad.text or True
    assert 'value="4" checked' in bad.text  # given answers are kept
    # the importance and expectation questions speak their own wording, not "very satisfied"
    q = page.text.split('id="q-skill_diagnosis"')[1].split('id="q-')[0]
    expected, rest = q.split("您的实际感受是")
    perceived, importance = rest.split("这一项对您有多重要")
    assert "很高" in expected and "很满意" not in expected
    assert "很满意" in perceived and "很重要" not in perceived
    assert "很重要" in importance and "很不重要" in importance and "满意" not in importance


def test_a_stored_response_counts_and_a_link_works_once(fielded):
    client, tokens, inst = fielded
    ok = client.post(f"/s/{tokens[1]}?lang=zh", data=full_form(inst, comment="<script>alert(1)</script> 很好"))
    assert ok.status_code == 200 and "感谢您的参与" in ok.text
    again = client.post(f"/s/{tokens[1]}?lang=zh", data=full_form(inst))
    assert again.status_code == 200 and "您已经回答过了" in again.text
    assert "您已经回答过了" in client.get(f"/s/{tokens[1]}?lang=zh").text
    res = runner.invoke(cli, ["score", "--campaign", "w", "-f", "json"])
    import json

    total = json.loads(res.stdout)["total"]
    assert total["n"] == 1 and total["nps"] == 100.0
    from sqlalchemy import select

    from manyi.store import db
    from manyi.store.models import Response

    with db.session() as s:
        r = s.scalar(select(Response))
    assert r.answers["comment"] == "<script>alert(1)</script> 很好" and r.source == "web"  # kept as text
    assert r.csi is not None and r.dimensions["skill"] == pytest.approx(80.0)


def test_unknown_closed_and_oversized(fielded):
    client, tokens, inst = fielded
    assert client.get("/s/not-a-token").status_code == 404
    big = client.post(f"/s/{tokens[2]}", data={"comment": "x" * 100_000})
    assert big.status_code == 413
    assert runner.invoke(cli, ["campaign", "close", "w"]).exit_code == 0
    closed = client.get(f"/s/{tokens[2]}?lang=en")
    assert closed.status_code == 410 and "This survey has closed" in closed.text
    assert client.post(f"/s/{tokens[2]}", data=full_form(inst)).status_code == 410


def test_concurrent_submissions_of_one_token_store_exactly_one(fielded):
    client, tokens, inst = fielded
    codes = []

    def send():
        codes.append(client.post(f"/s/{tokens[3]}", data=full_form(inst)).status_code)

    threads = [threading.Thread(target=send) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    from sqlalchemy import func, select

    from manyi.store import db
    from manyi.store.models import Response

    with db.session() as s:
        n = s.scalar(select(func.count()).select_from(Response).where(Response.response_id == tokens[3]))
    assert n == 1 and all(c == 200 for c in codes)


def test_api_submit_with_idempotency_keys_api_keys_and_the_scorecard(fielded):
    client, tokens, inst = fielded
    answers = full_form(inst)
    r1 = client.post(f"/api/v1/s/{tokens[4]}/responses", json={"answers": answers},
                     headers={"Idempotency-Key": "abc-1"})
    assert r1.status_code == 201 and r1.json()["response_id"] == tokens[4]
    r2 = client.post(f"/api/v1/s/{tokens[4]}/responses", json={"answers": answers},
                     headers={"Idempotency-Key": "abc-1"})
    assert r2.status_code == 201 and r2.json() == r1.json()  # a retry gets the first answer
    r3 = client.post(f"/api/v1/s/{tokens[4]}/responses", json={"answers": answers})
    assert r3.status_code == 409  # without the key, the token is used
    bad = client.post(f"/api/v1/s/{tokens[5]}/responses", json={"answers": {**answers, "nps": "12"}},
                      headers={"Accept-Language": "zh-CN"})
    assert bad.status_code == 422
    err = {e["field"]: e["message"] for e in bad.json()["errors"]}
    assert "超出量表范围 0-10" in err["nps"]
    assert client.post(f"/api/v1/s/{tokens[5]}/responses", content=b"{not json").status_code == 400
    big = client.post(f"/api/v1/s/{tokens[5]}/responses", content=b"{" + b" " * 70_000 + b"}")
    assert big.status_code == 413
    assert client.post("/api/v1/s/nope/responses", json={"answers": answers}).status_code == 404
    # an integration with an API key of the campaign
    res = runner.invoke(cli, ["apikey", "create", "--campaign", "w"])
    key = res.stdout.strip().rsplit(" ", 1)[1]
    assert key.startswith("mk_")
    url = "/api/v1/campaigns/w/responses"
    assert client.post(url, json={"answers": answers}).status_code == 401
    assert client.post(url, json={"answers": answers}, headers={"X-API-Key": "mk_wrong"}).status_code == 401
    ok = client.post(url, json={"response_id": "crm-1", "answers": answers},
                     headers={"Authorization": f"Bearer {key}", "Idempotency-Key": "k9"})
    assert ok.status_code == 201
    again = client.post(url, json={"response_id": "crm-1", "answers": answers},
                        headers={"X-API-Key": key, "Idempotency-Key": "k9"})
    assert again.status_code == 201 and again.json() == ok.json()
    dup = client.post(url, json={"response_id": "crm-1", "answers": answers}, headers={"X-API-Key": key})
    assert dup.status_code == 409
    listed = client.get(url, headers={"X-API-Key": key}).json()["responses"]
    assert {r["response_id"] for r in listed} == {tokens[4], "crm-1"} and listed[0]["csi"] is not None
    card = client.get("/api/v1/campaigns/w/scorecard?by=branch", headers={"X-API-Key": key})
    cli_card = runner.invoke(cli, ["score", "--campaign", "w", "--by", "branch", "-f", "json"])
    import json

    assert card.status_code == 200 and card.json()["groups"] == json.loads(cli_card.stdout)["groups"]
    from sqlalchemy import select

    from manyi.store import db
    from manyi.store.models import ApiKey

    with db.session() as s:
        stored = s.scalar(select(ApiKey))
    assert key not in (stored.digest, stored.prefix) and len(stored.digest) == 64  # only a hash


def test_walk_in_link_answers_anonymously_and_is_rate_limited(fielded):
    client, tokens, inst = fielded
    res = runner.invoke(cli, ["campaign", "link", "w", "--base-url", "https://s.example.com"])
    link = res.stdout.strip().rsplit(" ", 1)[1]
    assert link.startswith("https://s.example.com/w/")
    path = link.split("example.com", 1)[1]
    assert runner.invoke(cli, ["campaign", "link", "w"]).stdout.strip().endswith(path)  # stable
    page = client.get(path + "?lang=zh")
    assert page.status_code == 200 and "售后服务满意度调查" in page.text
    from manyi.web import app as web

    for _ in range(web.WALK_IN_LIMIT):
        assert client.post(path, data=full_form(inst)).status_code == 200
    limited = client.post(path + "?lang=zh", data=full_form(inst))
    assert limited.status_code == 429 and "请稍候再试" in limited.text
    import json

    total = json.loads(runner.invoke(cli, ["score", "--campaign", "w", "-f", "json"]).stdout)["total"]
    assert total["n"] == web.WALK_IN_LIMIT  # each walk-in answer is a response of its own
    assert client.get("/w/nope").status_code == 404
    runner.invoke(cli, ["campaign", "close", "w"])
    assert client.get(path).status_code == 410
    # one response by id through the API
    key = runner.invoke(cli, ["apikey", "create", "--campaign", "w"]).stdout.strip().rsplit(" ", 1)[1]
    listed = client.get("/api/v1/campaigns/w/responses", headers={"X-API-Key": key}).json()["responses"]
    one = client.get(f"/api/v1/campaigns/w/responses/{listed[0]['response_id']}", headers={"X-API-Key": key})
    assert one.status_code == 200 and one.json() == listed[0]
    assert one.json()["submitted_at"].endswith("+00:00")  # read back from the store, with its offset
    assert client.get("/api/v1/campaigns/w/responses/none", headers={"X-API-Key": key}).status_code == 404


def test_group_commit_settles_a_batch_like_one_by_one(fielded, store_url, monkeypatch):
    """Submissions written together (one transaction): twins by Idempotency-Key share one
    stored response, a used response id is refused, a retry gets the first answer, a closed
    campaign refuses; the scores equal those of the one-by-one path."""
    from sqlalchemy import func, select

    from manyi.services.intake import Intake
    from manyi.services.survey import api_submit
    from manyi.store import db
    from manyi.store.models import Response

    client, tokens, inst = fielded
    key = runner.invoke(cli, ["apikey", "create", "--campaign", "w"]).stdout.strip().rsplit(" ", 1)[1]
    answers = full_form(inst, **{inst.item_ids[0]: "2"})
    one = api_submit(answers, campaign="w", api_key=key, response_id="solo", url=store_url)
    assert one.status == 201
    intake = Intake(store_url)
    futs = [
        intake.submit("w", answers, api_key=key, response_id="a", idempotency_key="k1"),
        intake.submit("w", answers, api_key=key, response_id="a", idempotency_key="k1"),  # twin
        intake.submit("w", answers, api_key=key, response_id="solo"),  # id already stored
        intake.submit("w", answers, api_key=key, response_id="b"),
        intake.submit("w", answers, api_key="mk_wrong", response_id="c"),  # refused at once
        intake.submit("w", {**answers, "nps": "12"}, api_key=key, response_id="d"),  # invalid
    ]
    assert futs[4].done() and futs[4].result().status == 401
    assert futs[5].done() and futs[5].result().status == 422
    assert intake.waiting == 4 and intake.flush() == 4
    got = [f.result() for f in futs[:4]]
    assert [g.status for g in got] == [201, 201, 409, 201]
    assert got[0].body == got[1].body == {"stored": True, "campaign": "w", "response_id": "a"}
    retry = intake.submit("w", answers, api_key=key, response_id="a", idempotency_key="k1")
    intake.flush()
    assert retry.result().status == 201 and retry.result().body == got[0].body
    with db.session(store_url) as s:
        rows = {r.response_id: r for r in s.scalars(select(Response)).all()}
        assert s.scalar(select(func.count()).select_from(Response).where(Response.response_id == "a")) == 1
    assert rows["a"].csi == pytest.approx(rows["solo"].csi, abs=1e-12)
    assert rows["a"].dimensions == rows["solo"].dimensions and rows["a"].items == rows["solo"].items
    assert rows["a"].source == "api" and rows["a"].instrument_version_id == rows["solo"].instrument_version_id
    # when a batch fails as a whole, each submission is settled alone, with the same answers
    monkeypatch.setattr(Intake, "_write", lambda self, batch: 1 / 0)
    alone = [intake.submit("w", answers, api_key=key, response_id=r) for r in ("e", "e", "f")]
    intake.flush()
    assert [f.result().status for f in alone] == [201, 409, 201]
    runner.invoke(cli, ["campaign", "close", "w"])
    monkeypatch.undo()
    late = intake.submit("w", answers, api_key=key, response_id="g")
    intake.flush()
    assert late.result().status == 410


def test_the_fast_submission_path_answers_exactly_as_the_routed_endpoint(fielded, store_url):
    """The submission route served from ASGI (FastSubmit) against the same FastAPI endpoint
    with the fast path switched off: the same status, body and headers for good and bad
    requests alike."""
    from manyi.web.app import create_app

    client, tokens, inst = fielded
    key = runner.invoke(cli, ["apikey", "create", "--campaign", "w"]).stdout.strip().rsplit(" ", 1)[1]
    slow_app = create_app(store_url)
    slow_app.fast = None
    slow = TestClient(slow_app)
    good = {i: 4 for i in inst.item_ids}
    cases = [
        ("w", {"response_id": "R", "answers": good}, {"X-API-Key": key}),
        ("w", {"response_id": "R", "answers": good}, {"X-API-Key": key}),  # the id again: 409
        ("w", {"answers": {**good, inst.item_ids[0]: 9}}, {"X-API-Key": key, "Accept-Language": "zh"}),
        ("w", {"answers": {**good, "mood": 1}}, {"X-API-Key": key, "Accept-Language": "en"}),
        ("w", {"answers": []}, {"X-API-Key": key}),
        ("w", b"{oops", {"X-API-Key": key}),
        ("w", b"{" + b" " * 70000 + b"}", {"X-API-Key": key}),
        ("w", {"answers": good}, {}),
        ("nowhere", {"answers": good}, {"X-API-Key": key}),
        ("w", {"response_id": "K", "answers": good}, {"Authorization": f"Bearer {key}", "Idempotency-Key": "i1"}),
        ("w", {"response_id": "K2", "answers": good}, {"Authorization": f"Bearer {key}", "Idempotency-Key": "i1"}),
    ]
    statuses = []
    for which, (campaign, body, headers) in enumerate(cases):
        got = []
        for cl, suffix in ((client, "a"), (slow, "b")):  # each path its own response ids
            if isinstance(body, dict) and "response_id" in body:
                body_ = {**body, "response_id": body["response_id"] + suffix}
            else:
                body_ = body
            h = {k: (v + suffix if k == "Idempotency-Key" else v) for k, v in headers.items()}
            kw = {"content": body_} if isinstance(body_, bytes) else {"json": body_}
            r = cl.post(f"/api/v1/campaigns/{campaign}/responses", headers=h, **kw)
            payload = r.json()
            if isinstance(payload, dict) and "response_id" in payload:
                payload["response_id"] = payload["response_id"].removesuffix(suffix)
            got.append((r.status_code, payload, r.headers.get("content-type"),
                        r.headers.get("x-content-type-options"), r.headers.get("cache-control")))
        assert got[0] == got[1], (which, got)
        statuses.append(got[0][0])
    # the last one reuses the idempotency key: the first answer (201, K) comes back
    assert statuses == [201, 409, 422, 422, 422, 400, 413, 401, 404, 201, 201]
