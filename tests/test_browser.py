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
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "manyi.cli", "serve", "--port", str(port)],
                              env={**__import__("os").environ, "MANYI_DATABASE_URL": url},
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
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
