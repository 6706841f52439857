"""Reports for people reading a terminal: each span with its place, suggestion and reasons."""

from __future__ import annotations

import difflib

from unspin.model import Finding, Report

BOLD_RED, GREEN, DIM, RESET = "\033[1;31m", "\033[32m", "\033[2m", "\033[0m"


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a code-point offset."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def explain(finding: Finding) -> str:
    """Why a span was flagged, in words an editor can show an author."""
    ev = finding.evidence
    reasons = []
    if "query" in ev:
        papers = f", which retrieved {ev['papers']:,} papers" if ev.get("papers") else ""
        reasons.append(f"matches fingerprint {ev['query']} of list {ev['list']} (line {ev['line']}{papers})")
        if ev.get("proximity_window"):
            reasons.append("its words are near each other, not side by side: check the suggestion")
    if "lm_gain" in ev:
        reasons.append(_preference("the language model finds", ev["lm_gain"]))
    if "trigram_gain" in ev:
        reasons.append(_preference("trigram statistics find", ev["trigram_gain"]))
    if ev.get("linked_by"):
        reasons.append("synonyms in " + ", ".join(ev["linked_by"]))
    if "window_rate" in ev:
        reasons.append(f"{100 * ev['window_rate']:.0f}% of nearby words also read as swapped")
    return "; ".join(reasons)


def _preference(judge_finds: str, gain: float) -> str:
    """A log-likelihood margin in words: a span can be flagged on other evidence while one judge
    prefers what is written, and a "-0.4 nats more natural" would read as the opposite."""
    if gain > 0.05:
        return f"{judge_finds} the suggestion {gain:.1f} nats more natural here"
    if gain < -0.05:
        return f"{judge_finds} the written words {-gain:.1f} nats more natural here (flagged on the other evidence)"
    return f"{judge_finds} both readings about equally natural here"


def render_text(report: Report, source: str, *, color: bool = False) -> str:
    red, green, dim, reset = (BOLD_RED, GREEN, DIM, RESET) if color else ("", "", "", "")
    verdict = {"spun": "likely machine-spun: review recommended", "suspect": "some signs of spinning: review suggested",
               "clean": "no sign of spinning found"}[report.verdict]
    lines = [
        f"{report.id if report.id is not None else ''}{':' if report.id is not None else ''}"
        f"score {report.score:.2f} ({verdict}); {len(report.spans)} span(s) in {report.words} words"
        f"; mode {report.mode}" + (f", model {report.model}" if report.model else ""),
    ]
    for finding in report.spans:
        line, column = line_column(source, finding.start)
        alternatives = f" (or: {', '.join(finding.alternatives)})" if finding.alternatives else ""
        place = _place(finding.location)
        lines.append(
            f"  {place}{line}:{column}  {red}{finding.text}{reset} -> {green}{finding.suggestion}{reset}"
            f"{alternatives}  confidence {finding.confidence:.2f}"
        )
        lines.append(f"      {dim}why: {explain(finding)}{reset}")
    if report.spans:
        lines.append("")
        lines.append(highlight(source, report.spans, red=red, green=green, reset=reset))
    return "\n".join(lines) + "\n"


def _place(location) -> str:
    """"p. 3, §2.1 Data, " for a finding in a document; nothing for plain text."""
    if not location:
        return ""
    parts = []
    if location.get("page") is not None:
        parts.append(f"p. {location['page']}")
    if location.get("section"):
        parts.append(f"§{location['section'][:40]}")
    return ", ".join(parts) + " " if parts else ""


def highlight(source: str, spans: tuple[Finding, ...], *, red: str = "", green: str = "", reset: str = "") -> str:
    """The text with each span shown as [spun -> suggestion]."""
    out, cursor = [], 0
    for finding in spans:
        out.append(source[cursor:finding.start])
        out.append(f"[{red}{finding.text}{reset} -> {green}{finding.suggestion}{reset}]")
        cursor = finding.end
    out.append(source[cursor:])
    return "".join(out)


def render_diff(original: str, restored: str, name: str) -> str:
    diff = difflib.unified_diff(
        original.splitlines(keepends=True), restored.splitlines(keepends=True),
        fromfile=name, tofile=f"{name} (restored)",
    )
    return "".join(diff)
