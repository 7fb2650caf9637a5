"""The report as PDF: the HTML printed by headless Chromium (Debian's ``chromium``), so the
PDF looks like the HTML's print stylesheet. Without Chromium: a message that says how to
install it (the command exits with 2)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from manyi.core.messages import ManyiError, Message
from manyi.present.report.document import Document
from manyi.present.report.to_html import render_html

#: Browsers tried in order (``MANYI_CHROMIUM`` first when set).
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    own = os.environ.get("MANYI_CHROMIUM")
    if own is not None:
        return shutil.which(own) or (own if own and Path(own).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def print_pdf(html: Path, pdf: Path, timeout: float = 120) -> None:
    """Print an HTML file to PDF with headless Chromium."""
    exe = find_chromium()
    if exe is None:
        raise ManyiError(Message("report.no_chromium"))
    with tempfile.TemporaryDirectory(prefix="manyi-chromium-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=15000",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            raise ManyiError(
                Message("report.pdf_failed", {"detail": f"timeout {timeout:g} s"})
            ) from None
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [
            str(done.returncode)
        ]
        raise ManyiError(Message("report.pdf_failed", {"detail": detail[0][:300]}))


def write_pdf(doc: Document, path: Path) -> None:
    if find_chromium() is None:
        raise ManyiError(Message("report.no_chromium"))
    path = path.resolve()
    with tempfile.TemporaryDirectory(prefix="manyi-report-") as tmp:
        html = Path(tmp) / "report.html"
        html.write_text(render_html(doc), encoding="utf-8")
        out = Path(tmp) / "report.pdf"
        print_pdf(html, out)
        shutil.move(str(out), path)
