"""The report as PDF: the HTML printed by headless Chromium (Debian's ``chromium``), so the
PDF looks like the HTML's print stylesheet. Without Chromium: a message that says how to
install it (the command exits with 2)."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path

from manyi.core.messages import ManyiError, Message
from manyi.present.report.document import Document
from manyi.present.report.to_html import render_html

#: Charts' width in the PDF (pixels at 96 dpi): A4's 210 mm less the print margins.
PRINT_WIDTH = 700

#: Browsers tried in order (``MANYI_CHROMIUM`` first when set).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-extensions",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
)


def remove_profile(path: str | Path, wait: float = 2.0) -> None:
    """Remove a Chromium profile folder. Chromium's helper processes may still write into it
    for a moment after the browser process has ended, so that a single removal can fail
    ("Directory not empty"): removed again until it is gone or ``wait`` seconds have passed,
    and never an error (a leftover folder in the temporary directory must not fail a report
    that is already printed)."""
    end = time.monotonic() + wait
    while True:
        shutil.rmtree(path, ignore_errors=True)
        if not os.path.exists(path) or time.monotonic() > end:
            return
        time.sleep(0.05)


def find_chromium() -> str | None:
    own = os.environ.get("MANYI_CHROMIUM")
    if own is not None:
        return shutil.which(own) or (own if own and Path(own).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


class Browser:
    """A headless Chromium started ahead of time and driven over the DevTools protocol, so
    that its start-up (a second or two) overlaps the report's computation. Used as a
    context manager; :meth:`print_report` prints the report. Where it cannot start, the
    one-shot ``--print-to-pdf`` command is used instead (:func:`print_pdf`)."""

    def __init__(self, exe: str):
        self.profile = tempfile.TemporaryDirectory(prefix="manyi-chromium-", ignore_cleanup_errors=True)
        self.proc = subprocess.Popen(
            [
                exe,
                *FLAGS,
                f"--user-data-dir={self.profile.name}",
                "--remote-debugging-port=0",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.ws: object | None = None
        self.held = ExitStack()  # the connection, entered as its context (left in close())
        self.next_id = 0
        self.session: str | None = None
        self.warm_error: BaseException | None = None
        # connect and load plotly's bundle into a page while the report is computed
        self.warm = threading.Thread(target=self._warm_up, daemon=True)
        self.warm.start()

    def _warm_up(self) -> None:
        try:
            from plotly.offline import get_plotlyjs

            shell = Path(self.profile.name) / "shell.html"
            js = get_plotlyjs().replace("</script", "<\\/script")
            shell.write_text(
                f'<!DOCTYPE html><html><head><meta charset="utf-8"><script>{js}</script></head>'
                "<body></body></html>",
                encoding="utf-8",
            )
            self._connect(60)
            target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = self._call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            self._call("Page.enable", session=session)
            self._call("Page.navigate", {"url": shell.as_uri()}, session)
            self._wait_event("Page.loadEventFired", session, 60)
            self.session = session
        except BaseException as exc:  # noqa: BLE001 - print_pdf reports it
            self.warm_error = exc

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _connect(self, timeout: float) -> object:
        from websockets.sync.client import connect

        if self.ws is not None:
            return self.ws
        port_file = Path(self.profile.name) / "DevToolsActivePort"
        end = time.monotonic() + timeout
        while not port_file.exists() or len(port_file.read_text().split()) < 2:
            if self.proc.poll() is not None or time.monotonic() > end:
                raise OSError("Chromium did not start")
            time.sleep(0.05)
        port, path = port_file.read_text().split()[:2]
        self.ws = self.held.enter_context(
            connect(f"ws://127.0.0.1:{port}{path}", max_size=None, open_timeout=timeout)
        )
        return self.ws

    def _call(
        self,
        method: str,
        params: dict | None = None,
        session: str | None = None,
        timeout: float = 120,
    ) -> dict:
        ws = self.ws
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        ws.send(json.dumps(msg))
        end = time.monotonic() + timeout
        while True:
            reply = json.loads(ws.recv(timeout=max(0.1, end - time.monotonic())))
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise OSError(str(reply["error"].get("message", reply["error"])))
                return reply.get("result", {})

    def _wait_event(self, name: str, session: str, timeout: float) -> None:
        end = time.monotonic() + timeout
        while True:
            ev = json.loads(self.ws.recv(timeout=max(0.1, end - time.monotonic())))
            if ev.get("method") == name and ev.get("sessionId") == session:
                return

    def print_report(self, html: str, pdf: Path, timeout: float = 120) -> None:
        """Print the report's HTML (without plotly's bundle, which the page has loaded
        already): the document is replaced, then its chart scripts are run."""
        self.warm.join(timeout)
        if self.warm_error is not None or self.session is None:
            raise OSError(f"Chromium is not ready: {self.warm_error}")
        session = self.session
        script = (
            "(async () => {"
            f"document.documentElement.innerHTML = {json.dumps(_inner(html))};"
            "for (const s of Array.from(document.querySelectorAll('script'))) {"
            " (0, eval)(s.textContent); }"
            "await document.fonts.ready;"
            "await new Promise(r => requestAnimationFrame(() => r(1)));"
            "return document.querySelectorAll('.plot .main-svg').length; })()"
        )
        self._call(
            "Runtime.evaluate",
            {"expression": script, "awaitPromise": True, "returnByValue": True},
            session,
            timeout,
        )
        out = self._call(
            "Page.printToPDF",
            {"printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False},
            session,
            timeout,
        )
        pdf.write_bytes(base64.b64decode(out["data"]))

    def close(self) -> None:
        self.warm.join(60)
        try:
            if self.ws is not None:
                try:
                    self._call("Browser.close", timeout=5)
                except Exception:  # noqa: BLE001 - closing anyway
                    pass
            self.held.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            remove_profile(self.profile.name)
            self.profile.cleanup()


def _inner(html: str) -> str:
    """The inside of the html element of a page."""
    start = html.index(">", html.index("<html")) + 1
    return html[start : html.rindex("</html>")]


def start_browser() -> Browser | None:
    """A Chromium started now for a PDF printed later; None without Chromium."""
    exe = find_chromium()
    return Browser(exe) if exe else None


def print_pdf(html: Path, pdf: Path, timeout: float = 120) -> None:
    """Print an HTML file to PDF with headless Chromium."""
    exe = find_chromium()
    if exe is None:
        raise ManyiError(Message("report.no_chromium"))
    profile = tempfile.mkdtemp(prefix="manyi-chromium-")
    try:
        cmd = [
            exe,
            *FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ManyiError(
                Message("report.pdf_failed", {"detail": f"timeout {timeout:g} s"})
            ) from None
    finally:
        remove_profile(profile)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
            str(done.returncode)
        ]
        raise ManyiError(Message("report.pdf_failed", {"detail": detail[0][:300]}))


def write_pdf(doc: Document, path: Path, browser: Browser | None = None) -> None:
    """Print the report's HTML to ``path``: with ``browser`` (started earlier by
    :func:`start_browser`) over its DevTools connection, else with a one-shot Chromium."""
    if browser is None and find_chromium() is None:
        raise ManyiError(Message("report.no_chromium"))
    path = path.resolve()
    with tempfile.TemporaryDirectory(prefix="manyi-report-") as tmp:
        out = Path(tmp) / "report.pdf"
        done = False
        if browser is not None:
            try:
                browser.print_report(render_html(doc, bundle=False, chart_width=PRINT_WIDTH), out)
                done = out.exists() and out.stat().st_size > 0
            except Exception:  # noqa: BLE001 - any failure of the connection: the one-shot command
                done = False
        if not done:
            html = Path(tmp) / "report.html"
            html.write_text(render_html(doc, chart_width=PRINT_WIDTH), encoding="utf-8")
            print_pdf(html, out)
        shutil.move(str(out), path)
