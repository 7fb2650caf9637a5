"""End to end in a real browser: a customer answers the survey on a phone-sized screen, in
Chinese, in headless Chromium (Debian's chromium and chromium-driver; `make test` installs
them when missing). Screenshots go to tests/artifacts/."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from manyi.cli import app as cli
from manyi.io.instruments import example_path, load_instrument

ARTIFACTS = Path(__file__).parent / "artifacts"
runner = CliRunner()

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser():
    if not (shutil.which("chromium") and shutil.which("chromedriver")):
        pytest.skip("Debian's chromium and chromium-driver are not installed (make test installs them)")
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = shutil.which("chromium")
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--window-size=390,844", "--lang=zh-CN"):
        opts.add_argument(a)
    drv = webdriver.Chrome(options=opts, service=Service(shutil.which("chromedriver")))
    yield drv
    drv.quit()


def test_a_customer_answers_on_a_phone_in_chinese(browser, tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'manyi.db'}"
    monkeypatch.setenv("MANYI_DATABASE_URL", url)
    inst_path = str(example_path("after-sales"))
    cust = tmp_path / "c.csv"
    pd.DataFrame({"customer_id": ["C1", "C2"]}).to_csv(cust, index=False)
    for args in (["campaign", "create", "w", "-i", inst_path], ["campaign", "sample", "w", "--customers", str(cust),
                 "--n", "2"], ["campaign", "open", "w"], ["campaign", "invitations", "w", "-o", str(tmp_path / "i.csv")]):
        assert runner.invoke(cli, args).exit_code == 0
    token = pd.read_csv(tmp_path / "i.csv", encoding="utf-8-sig")["token"].iloc[0]
    server, port = _serve(url)
    try:
        ARTIFACTS.mkdir(exist_ok=True)
        from selenium.webdriver.common.by import By

        b = browser

        def wait_for(text: str) -> bool:
            end = time.time() + 15
            while time.time() < end:
                if text in b.page_source:
                    return True
                time.sleep(0.1)
            return False

        b.get(f"http://127.0.0.1:{port}/s/{token}?lang=zh")
        assert "售后服务满意度调查" in b.title
        b.save_screenshot(str(ARTIFACTS / "survey-zh-phone.png"))
        b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()  # nothing answered yet
        assert wait_for("请回答此题")
        b.save_screenshot(str(ARTIFACTS / "survey-zh-errors.png"))
        inst = load_instrument(inst_path)
        names = list(inst.item_ids) + [f"{i.id}__expected" for i in inst.items if i.expectation]
        names += [f"{i.id}__importance" for i in inst.items if i.importance] + ["nps", "csat", "ces"]
        for name in names:
            choice = b.find_elements(By.CSS_SELECTOR, f'input[name="{name}"][value="4"]')
            if choice:
                b.execute_script("arguments[0].scrollIntoView({block: 'center'});", choice[0])
                choice[0].click()
        b.find_element(By.CSS_SELECTOR, 'textarea[name="comment"]').send_keys("师傅很专业，等待时间有点长")
        b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        ok = wait_for("感谢您的参与")
        errors = [e.text for e in b.find_elements(By.CSS_SELECTOR, "p.error")]
        assert ok, errors
        b.save_screenshot(str(ARTIFACTS / "survey-zh-thanks.png"))
        b.get(f"http://127.0.0.1:{port}/s/{token}?lang=zh")
        assert wait_for("您已经回答过了")
    finally:
        server.terminate()
        server.wait(timeout=10)
    res = runner.invoke(cli, ["score", "--campaign", "w", "-f", "json"])
    import json

    total = json.loads(res.stdout)["total"]
    assert total["n"] == 1 and total["nps"] == -100.0  # 4 of 0-10 is a detractor


def _serve(url: str) -> tuple[subprocess.Popen, int]:
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "manyi.cli", "serve", "--port", str(port)],
                              env={**__import__("os").environ, "MANYI_DATABASE_URL": url},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    end = time.time() + 120  # a loaded machine may take long to import and start
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return server, port
        except OSError:
            if server.poll() is not None or time.time() > end:
                server.kill()
                out = server.communicate()[0].decode(errors="replace")
                pytest.fail(f"manyi serve did not start on port {port}:\n{out[-2000:]}")
            time.sleep(0.1)


def test_staff_log_in_filter_the_dashboard_open_a_response_and_export(browser, tmp_path, monkeypatch):
    """Two branch managers and an analyst in a real browser, at desktop and phone sizes."""
    from selenium.webdriver.common.by import By

    from manyi import datasets
    from manyi.services.demo import DEMO_UNITS

    url = f"sqlite:///{tmp_path / 'manyi.db'}"
    monkeypatch.setenv("MANYI_DATABASE_URL", url)
    inst_path = str(example_path("after-sales"))
    data = datasets.after_sales(n=800, seed=4, instrument=load_instrument(inst_path))
    data.to_csv(tmp_path / "r.csv", index=False, encoding="utf-8-sig")
    pd.DataFrame(DEMO_UNITS, columns=["code", "name_zh", "name_en", "parent"]).to_csv(tmp_path / "u.csv", index=False)
    for args in (["unit", "import", str(tmp_path / "u.csv")], ["campaign", "create", "w", "-i", inst_path],
                 ["import", "--campaign", "w", str(tmp_path / "r.csv"), "--unit-column", "branch"],
                 ["user", "create", "bj", "--role", "viewer", "--unit", "beijing", "--password", "beijing-pass-1"],
                 ["user", "create", "sh", "--role", "viewer", "--unit", "shanghai", "--password", "shanghai-pass-1"],
                 ["user", "create", "ana", "--role", "analyst", "--unit", "north", "--password", "analyst-pass-1"]):
        res = runner.invoke(cli, args)
        assert res.exit_code == 0, res.stdout + res.stderr
    server, port = _serve(url)
    base = f"http://127.0.0.1:{port}"
    b = browser
    ARTIFACTS.mkdir(exist_ok=True)

    def log_in(user: str, password: str, lang: str = "zh") -> None:
        b.delete_all_cookies()
        b.get(f"{base}/login?lang={lang}")
        b.find_element(By.NAME, "username").send_keys(user)
        b.find_element(By.NAME, "password").send_keys(password)
        b.find_element(By.CSS_SELECTOR, "form.login button").click()
        end = time.time() + 20
        while "/login" in b.current_url and time.time() < end:  # the answer arrives after the click
            time.sleep(0.1)

    def charts_drawn(n: int) -> int:
        end = time.time() + 60
        while time.time() < end:
            drawn = len(b.find_elements(By.CSS_SELECTOR, ".plot .main-svg"))
            if drawn >= n:
                return drawn
            time.sleep(0.3)
        return len(b.find_elements(By.CSS_SELECTOR, ".plot .main-svg"))

    try:
        b.set_window_size(1280, 2200)
        log_in("bj", "beijing-pass-1")
        assert charts_drawn(6) >= 6  # dimensions, units, trend and the panels
        assert "仪表板" in b.title and "北京" in b.page_source and "上海" not in b.page_source
        b.save_screenshot(str(ARTIFACTS / "dash-zh-desktop-beijing.png"))
        b.set_window_size(390, 844)
        b.save_screenshot(str(ARTIFACTS / "dash-zh-phone-beijing.png"))
        log_in("sh", "shanghai-pass-1", "en")
        assert charts_drawn(3) and "Shanghai" in b.page_source and "Beijing" not in b.page_source
        b.get(f"{base}/dash?unit=beijing")  # a sibling's dashboard: refused
        assert "Not allowed" in b.page_source or "无权访问" in b.page_source
        # the analyst filters by URL-shareable fields, browses and opens a response, exports
        b.set_window_size(1280, 1600)
        log_in("ana", "analyst-pass-1")
        b.get(f"{base}/dash?unit=beijing&start=2026-01&end=2026-06&seg.service_type=repair&panels=0")
        assert charts_drawn(3)
        browse = b.find_element(By.CSS_SELECTOR, "nav.actions a")  # keeps the filter
        assert "start=2026-01" in browse.get_attribute("href")
        b.save_screenshot(str(ARTIFACTS / "dash-zh-desktop-filtered.png"))
        browse.click()
        first = b.find_element(By.CSS_SELECTOR, "table tbody tr td a")
        first.click()
        assert b.title.startswith("AS04-") and "服务技能" in b.page_source and "答卷" in b.page_source
        b.save_screenshot(str(ARTIFACTS / "response-zh-desktop.png"))
        b.set_window_size(390, 844)
        b.save_screenshot(str(ARTIFACTS / "response-zh-phone.png"))
        b.get(f"{base}/dash/responses?unit=beijing&start=2026-01&end=2026-06&seg.service_type=repair")
        href = b.find_element(By.PARTIAL_LINK_TEXT, "CSV").get_attribute("href")
        assert "seg.service_type=repair" in href
        b.get(href)  # the download (the audit log records it)
        from manyi.services.accounts import audit_events

        end = time.time() + 60  # the server writes the export's audit event as it answers
        exports: list = []
        while time.time() < end and not exports:
            exports = [e for e in audit_events()[1] if e["action"] == "export"]
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
    assert exports and exports[0]["user"] == "ana" and exports[0]["detail"]["filter"]["seg.service_type"] == "repair"


def test_a_complaint_from_the_public_form_to_call_back_and_closure(browser, tmp_path, monkeypatch):
    """A customer complains on a phone in Chinese; an agent acknowledges, resolves and calls
    back in the staff workspace; the customer's status link shows the case closed."""
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    url = f"sqlite:///{tmp_path / 'manyi.db'}"
    monkeypatch.setenv("MANYI_DATABASE_URL", url)
    res = runner.invoke(cli, ["user", "create", "wang", "--role", "agent", "--password", "agent-password-1"])
    assert res.exit_code == 0, res.stderr
    server, port = _serve(url)
    base = f"http://127.0.0.1:{port}"
    b = browser
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        b.set_window_size(390, 844)
        b.get(f"{base}/complain?lang=zh")
        assert "投诉与建议" in b.page_source
        Select(b.find_element(By.NAME, "category")).select_by_value("broken_promise")
        b.find_element(By.NAME, "description").send_keys("约好上午十点上门维修，师傅下午三点才到。")
        b.find_element(By.NAME, "remedy_asked").send_keys("希望减免上门费")
        b.find_element(By.NAME, "phone").send_keys("13812345678")
        photo = tmp_path / "门锁照片.png"
        photo.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
        b.find_element(By.NAME, "attachment").send_keys(str(photo))
        b.save_screenshot(str(ARTIFACTS / "complain-zh-phone.png"))
        b.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        end = time.time() + 20
        while "您的工单号是" not in b.page_source and time.time() < end:  # the answer comes after the click
            time.sleep(0.1)
        assert "您的工单号是" in b.page_source
        b.save_screenshot(str(ARTIFACTS / "complain-zh-done.png"))
        status_link = b.find_element(By.CSS_SELECTOR, ".notice a").get_attribute("href")
        number = b.find_element(By.CSS_SELECTOR, ".notice p").text.split("工单号是 ")[1].split("。")[0]
        # the agent's side, at desktop size
        b.delete_all_cookies()
        b.set_window_size(1280, 1000)
        b.get(f"{base}/login?lang=zh")
        b.find_element(By.NAME, "username").send_keys("wang")
        b.find_element(By.NAME, "password").send_keys("agent-password-1")
        b.find_element(By.CSS_SELECTOR, "form.login button").click()
        end = time.time() + 20
        while "/login" in b.current_url and time.time() < end:  # the login's answer arrives after the click
            time.sleep(0.1)
        b.get(f"{base}/cases")
        assert number in b.page_source
        b.save_screenshot(str(ARTIFACTS / "cases-zh-queue.png"))

        def act(action: str, **fields: str) -> None:
            Select(b.find_element(By.NAME, "action")).select_by_value(action)
            for name, value in fields.items():
                el = b.find_element(By.NAME, name)
                if el.tag_name == "select":
                    Select(el).select_by_value(value)
                else:
                    el.send_keys(value)
            b.find_element(By.CSS_SELECTOR, "form.filters button").click()

        def shows(text: str) -> bool:  # the answer to a POST arrives after the click returns
            end = time.time() + 20
            while time.time() < end:
                try:
                    if text in b.find_element(By.TAG_NAME, "h1").text:
                        return True
                except (StaleElementReferenceException, NoSuchElementException):  # the page is changing
                    pass
                time.sleep(0.1)
            return False

        b.get(f"{base}/cases/{number}")
        assert "门锁照片.png" in b.page_source  # the customer's photo came with the complaint
        act("acknowledge")
        assert shows("已确认")
        act("resolve", remedy="减免上门费并致歉", root_cause="negligence")
        assert shows("已处理")
        act("call_back", satisfied="yes")
        assert shows("已结案"), b.page_source[-2000:]
        b.save_screenshot(str(ARTIFACTS / "case-zh-closed.png"))
        rows = b.find_elements(By.CSS_SELECTOR, "section.card table tbody tr")
        assert len(rows) == 5  # opened, the photo attached, acknowledged, resolved, called back
        b.get(status_link)
        assert "已结案" in b.page_source
    finally:
        server.terminate()
        server.wait(timeout=10)
