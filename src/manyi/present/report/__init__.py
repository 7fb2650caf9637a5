"""The survey report (满意度调查报告) in four formats from one document.

:func:`document` turns the report's results (:class:`manyi.core.report.ReportData`) into
sections of text, key figures, tables and charts in one language; ``write_html``,
``write_xlsx``, ``write_pptx`` and ``write_pdf`` render that same document, so every format
shows the same numbers. See docs/report.md.
"""

from manyi.present.report.document import Document, document
from manyi.present.report.to_html import render_html, write_html
from manyi.present.report.to_pdf import Browser, find_chromium, start_browser, write_pdf
from manyi.present.report.to_pptx import write_pptx
from manyi.present.report.to_xlsx import write_xlsx

__all__ = [
    "Browser",
    "Document",
    "document",
    "find_chromium",
    "render_html",
    "start_browser",
    "write_html",
    "write_pdf",
    "write_pptx",
    "write_xlsx",
]
