"""Reports as an Excel workbook: a "Findings" sheet (the CSV's rows) and a "Summary" sheet.

"Summary" has one row per document: its id, score, risk level (`unspin.report.risk`), verdict,
words, number of findings, findings per 1,000 words and its most confident findings. When the
caller passes `resources` (as `unspin.detect.inventory.builtin_resources()` returns them), a
"Resources" sheet lists their versions and sha256 so the result can be reproduced.

openpyxl is an optional dependency (extra `reports`), imported only here. Text cells are guarded
against formula injection as in the CSV (`unspin.report.csv.guard_cell`): openpyxl itself would
store any string starting with "=" as a formula. Characters XML cannot hold (C0 controls such
as NUL or form feed, which PDFs converted to text do contain) become U+FFFD, and a cell is cut
to Excel's limit of 32,767 characters with a final "…". The file is written atomically.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from unspin.errors import ResourceMissing
from unspin.model import Report
from unspin.report.csv import COLUMNS, finding_rows, guard_cell
from unspin.report.risk import count_words, density_per_1k, risk_label, risk_level, verdict_label
from unspin.resources import atomic_write_bytes

SUMMARY_COLUMNS = ("id", "score", "risk level", "verdict", "words", "findings", "density per 1k words",
                   "top findings", "mode", "model", "unspin version")
RESOURCE_COLUMNS = ("name", "kind", "version", "entries", "sha256", "note")
TOP_FINDINGS = 3
EXCEL_CELL_LIMIT = 32_767
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what openpyxl refuses (XML 1.0)
_INSTALL_HINT = 'pip install "unspin[reports]" (or: pip install openpyxl)'


def _cell(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    value = _ILLEGAL.sub("\ufffd", value)
    if len(value) > EXCEL_CELL_LIMIT:
        value = value[:EXCEL_CELL_LIMIT - 1] + "…"
    return value


def top_findings(report: Report, limit: int = TOP_FINDINGS) -> str:
    """The most confident findings as "spun → suggestion (0.93)", joined by "; "."""
    best = sorted(report.spans, key=lambda f: (-f.confidence, f.start))[:limit]
    return "; ".join(f"{f.text} → {f.suggestion} ({f.confidence:.2f})" for f in best)


def summary_row(report: Report, source: str) -> list[Any]:
    words = report.words or count_words(source)
    density = density_per_1k(report, words)
    return [
        guard_cell(report.id) if isinstance(report.id, str) else report.id,
        round(float(report.score), 4), risk_label(risk_level(report, words=words)),
        verdict_label(report.verdict), words, len(report.spans),
        None if density is None else round(density, 2),
        guard_cell(top_findings(report)), guard_cell(report.mode), guard_cell(report.model or ""),
        guard_cell(report.unspin_version),
    ]


def resource_row(item: dict[str, object]) -> list[Any]:
    def text(key: str) -> str:
        value = item.get(key)
        return "" if value is None else guard_cell(str(value))

    entries = item.get("entries")
    return [text("name"), text("kind"), text("version"), entries if isinstance(entries, int) else text("entries"),
            text("sha256"), text("missing")]


def build_workbook(reports_and_sources: Iterable[tuple[Report, str]], *,
                   resources: Sequence[dict[str, object]] | None = None):
    """The workbook (an `openpyxl.Workbook`), not yet saved."""
    try:
        from openpyxl import Workbook
        from openpyxl.styles import Font
    except ImportError:
        raise ResourceMissing("the openpyxl package is not installed (needed for --format xlsx)",
                              _INSTALL_HINT) from None

    pairs = list(reports_and_sources)
    workbook = Workbook()
    findings = workbook.active
    findings.title = "Findings"
    summary = workbook.create_sheet("Summary")
    sheets = [(findings, COLUMNS, finding_rows(pairs)),
              (summary, SUMMARY_COLUMNS, (summary_row(r, s) for r, s in pairs))]
    if resources is not None:
        sheets.append((workbook.create_sheet("Resources"), RESOURCE_COLUMNS, map(resource_row, resources)))
    for sheet, columns, rows in sheets:
        sheet.append(list(columns))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        for row in rows:
            sheet.append([_cell(value) for value in row])
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula, whatever the guard let through
        sheet.freeze_panes = "A2"
        sheet.auto_filter.ref = sheet.dimensions
    confidence = COLUMNS.index("confidence") + 1
    for (cell,) in findings.iter_rows(min_row=2, min_col=confidence, max_col=confidence):
        cell.number_format = "0.00"
    return workbook


def write_xlsx(reports_and_sources: Iterable[tuple[Report, str]], path: str | os.PathLike[str], *,
               resources: Sequence[dict[str, object]] | None = None) -> None:
    """Write the workbook for these `(report, source)` pairs to `path`, atomically."""
    buffer = io.BytesIO()
    build_workbook(reports_and_sources, resources=resources).save(buffer)
    atomic_write_bytes(path, buffer.getvalue())
