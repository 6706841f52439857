"""Golden cases as data (tests/cases/*.json), checked against fast mode.

- spun.json: passages with swaps (the test split spun by the held-out MyThes profile, and
  hand-written spinner sentences) and the findings fast mode must report, each as the flagged text
  and its suggestion.
- clean.json: human text in which fast mode must find nothing.
- misses.json: swaps fast mode does not find yet, one test each, `xfail(strict=True)`: a change
  that starts finding one fails here until the case moves to spun.json.

The files were written from the engine's own output when detector v3 shipped; a change of the
engine that loses or gains one of these is meant to be seen and decided, not silently absorbed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

CASES = Path(__file__).resolve().parents[1] / "cases"


def _load(name: str) -> list[dict]:
    return json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))


def _found(report, expected: dict) -> bool:
    return any(span.text == expected["text"] and span.suggestion == expected["suggestion"] for span in report.spans)


@pytest.fixture(scope="module")
def reports(fast_checker):
    cache: dict[str, object] = {}

    def report(text: str):
        if text not in cache:
            cache[text] = fast_checker.check(text)
        return cache[text]

    return report


@pytest.mark.parametrize("case", _load("spun"), ids=lambda c: c["id"])
def test_spun_cases_report_their_findings(reports, case):
    report = reports(case["text"])
    missing = [e for e in case["expect"] if not _found(report, e)]
    assert not missing, f"not reported: {missing}"
    assert report.verdict != "clean" or len(case["expect"]) <= 1


@pytest.mark.parametrize("case", _load("clean"), ids=lambda c: c["id"])
def test_clean_cases_get_no_finding(reports, case):
    report = reports(case["text"])
    assert report.spans == (), [(s.text, s.suggestion) for s in report.spans]
    assert report.verdict == "clean"


MISSES = [(case, expected) for case in _load("misses") for expected in case["expect"]]


@pytest.mark.xfail(strict=True, reason="a known miss of fast mode")
@pytest.mark.parametrize("case,expected", MISSES, ids=[f"{c['id']}:{e['text']}" for c, e in MISSES])
def test_known_misses(reports, case, expected):
    assert _found(reports(case["text"]), expected)
