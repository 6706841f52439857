"""The report a fake checker gives: every "profound learning" flagged as a swap of "deep learning".

Shared by the batch and Spark tests, whose fake checkers differ in what they log and when they
stop but must agree on what a checked document looks like. Spark's workers get this file by
`addPyFile`, so it imports nothing from the tests.
"""

from __future__ import annotations

from unspin.model import Finding, Report

SPUN, ORIGINAL = "profound learning", "deep learning"


def fake_report(text: str, id=None) -> Report:
    """Each occurrence of SPUN (any case) a span whose suggestion is ORIGINAL in the span's case,
    and the text restored from those spans; the score grows by 0.45 a span."""
    spans, lower, start = [], text.lower(), 0
    while (start := lower.find(SPUN, start)) >= 0:
        found = text[start:start + len(SPUN)]
        spans.append(Finding(start, start + len(SPUN), found, in_case_of(found, ORIGINAL), (), 0.9, "fake.v1"))
        start += len(SPUN)
    score = min(1.0, 0.45 * len(spans))
    verdict = "spun" if score >= 0.9 else "suspect" if spans else "clean"
    return Report(id=id, mode="fast", model=None, score=score, verdict=verdict, spans=tuple(spans),
                  restored=_restore(text, spans), unspin_version="test", words=len(text.split()))


def in_case_of(found: str, word: str) -> str:
    """`word` in the case of `found`: all capitals, a capital first letter, or as it is (as the
    real detectors fit theirs), so that "Profound learning" restores to "Deep learning"."""
    if found.isupper():
        return word.upper()
    if found[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def _restore(text: str, spans: list[Finding]) -> str:
    # By hand rather than with unspin.restoration: the fake stands in for the whole checker.
    for span in reversed(spans):  # right to left: each replacement leaves the earlier offsets valid
        text = text[:span.start] + span.suggestion + text[span.end:]
    return text
