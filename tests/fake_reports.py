"""The report a fake checker gives: every "profound learning" flagged as a swap of "deep learning".

Shared by the batch and Spark tests, whose fake checkers differ in what they log and when they
stop but must agree on what a checked document looks like. Spark's workers get this file by
`addPyFile`, so it imports nothing from the tests.
"""

from __future__ import annotations

from unspin.model import Finding, Report

SPUN, ORIGINAL = "profound learning", "deep learning"


def fake_report(text: str, id=None) -> Report:
    """Each occurrence of SPUN (any case) a span; the score grows by 0.45 a span."""
    spans, lower, start = [], text.lower(), 0
    while (start := lower.find(SPUN, start)) >= 0:
        spans.append(Finding(start, start + len(SPUN), text[start:start + len(SPUN)], ORIGINAL, (), 0.9, "fake.v1"))
        start += len(SPUN)
    score = min(1.0, 0.45 * len(spans))
    verdict = "spun" if score >= 0.9 else "suspect" if spans else "clean"
    return Report(id=id, mode="fast", model=None, score=score, verdict=verdict, spans=tuple(spans),
                  restored=text.replace(SPUN, ORIGINAL), unspin_version="test", words=len(text.split()))
