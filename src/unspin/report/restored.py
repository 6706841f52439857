"""The restored document as a file: an HTML page with the changes marked, or a DOCX.

The DOCX is rebuilt from the restored text, one Word paragraph per paragraph of the text (blank
lines separate paragraphs): the words are the document's, the original layout and styles are
not carried over.
"""

from __future__ import annotations

import io

from unspin.model import Report
from unspin.report.html import CONTENT_SECURITY_POLICY, STYLESHEET, esc, render_restored_fragment


def restored_html(report: Report, source: str, *, title: str = "restored text") -> str:
    changes = len(report.spans)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{esc(CONTENT_SECURITY_POLICY)}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)} (restored)</title><style>{STYLESHEET}</style></head><body><main>"
        f"<h1>{esc(title)}: restored</h1><p>{changes} change{'s' if changes != 1 else ''} "
        "(removed wording struck through, restored wording underlined).</p>"
        f"{render_restored_fragment(report, source)}</main></body></html>\n"
    )


def restored_docx(report: Report) -> bytes:
    from docx import Document

    document = Document()
    for paragraph in report.restored.split("\n\n"):
        if paragraph.strip():
            document.add_paragraph(" ".join(paragraph.split()))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
