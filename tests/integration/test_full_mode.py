"""Full mode end to end: the neural model verifies and ranks, reports keep the contract."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

SPUN = ("Atmosphere alteration is presently the greatest danger confronting beach front networks. "
        "Then again, numerous neighborhood pioneers state they need more cash to ensure homes and streets.")


@pytest.fixture(scope="module")
def full_engine():
    from unspin.detect.engine import get_engine

    return get_engine(mode="full")


def test_full_mode_report(full_engine):
    report = full_engine.check(SPUN)
    assert report.mode == "full" and report.model and "smollm2" in report.model
    assert report.spans, "the spun example should have findings"
    for span in report.spans:
        assert SPUN[span.start:span.end] == span.text
        assert span.detector in {"thesaurus-lm.v1", "idiom.v1"}
    assert report.restored.startswith("Climate change")


def test_full_mode_is_deterministic(full_engine):
    assert full_engine.check(SPUN) == full_engine.check(SPUN)


def test_full_mode_leaves_plain_text_alone(full_engine):
    text = "The committee met on Tuesday to discuss the budget for next year."
    assert full_engine.check(text).spans == ()


def test_python_api_matches_engine(full_engine):
    import unspin

    assert unspin.check(SPUN).to_dict() == full_engine.check(SPUN).to_dict()
    assert unspin.restore(SPUN) == full_engine.check(SPUN).restored


def test_the_document_score_is_the_calibrated_screening_score_in_both_modes(full_engine):
    """One calibration (fitted on fast mode, measured there) holds for full mode because the score
    comes from the same screening pass; the neural model changes the spans, not the score."""
    from unspin.detect.engine import get_engine

    fast = get_engine(mode="fast")
    for text in (SPUN, "The committee met on Tuesday to discuss the budget for next year."):
        assert full_engine.check(text).score == fast.check(text).score
    assert full_engine.calibration is not None and full_engine.calibration is fast.calibration


def test_idiom_evidence_agrees_with_the_rule_that_flagged_it(full_engine):
    """An idiom span is flagged because the model reads its original better than the text; the
    evidence must say so. "Then again" -> "On the other hand" once showed a negative margin,
    because the swap's own ln P (the channel) was mixed into a figure reported as naturalness."""
    idioms = [span for span in full_engine.check(SPUN).spans if span.detector == "idiom.v1"]
    assert {span.text for span in idioms} >= {"Atmosphere alteration", "Then again"}
    for span in idioms:
        assert span.evidence["lm_gain"] > 0, span
        assert span.evidence["swap_logprob"] <= 0.0
