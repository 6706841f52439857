"""Apply findings to the text they came from. Never detects anything itself."""

from __future__ import annotations

from collections.abc import Iterable

from unspin.model import Finding


def apply_findings(text: str, findings: Iterable[Finding]) -> str:
    """`text` with each finding's span replaced by its suggestion (spans must not overlap)."""
    pieces: list[str] = []
    cursor = 0
    for finding in sorted(findings, key=lambda f: f.start):
        if finding.start < cursor:
            raise ValueError(f"overlapping findings at offset {finding.start}")
        pieces.append(text[cursor:finding.start])
        pieces.append(finding.suggestion)
        cursor = finding.end
    pieces.append(text[cursor:])
    return "".join(pieces)
