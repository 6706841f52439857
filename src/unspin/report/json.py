"""Reports as JSON: one object ("unspin.report/1") or one object per line (JSONL)."""

from __future__ import annotations

import json

from unspin.model import Report


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def render_jsonl_line(report: Report) -> str:
    return json.dumps(report.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"
