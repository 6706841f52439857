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


def test_the_document_score_is_the_calibrated_screening_score_of_the_thesaurus_engine(full_engine,
                                                                                     thesaurus_engine):
    """Full mode's score comes from the thesaurus engine's screening pass, whose calibration was
    fitted there; the neural model changes the spans, not the score."""
    fast = thesaurus_engine
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


def test_the_learned_engine_with_the_language_model_keeps_only_what_it_verifies():
    """The learned engine's full mode (measured by scripts/evaluate_learned.py --engine learned-full,
    not yet what --mode full runs): the LM re-ranks each span's readings and drops a span whose best
    reading it does not prefer to the written words by the margin."""
    from unspin.detect.learned import LearnedEngine

    fast = LearnedEngine(mode="fast")
    full = LearnedEngine(mode="full", detector=fast.detector, verify_margin=0.0)
    text = ("Women with bosom growth were screened in the clinic. The researchers used profound learning "
            "to read the scans, and the results were excessively high for little organizations.")
    fast_spans = {(f.start, f.end) for f in fast.detect(text, threshold=0.3).findings if f.detector != "idiom.v1"}
    verified = [f for f in full.detect(text, threshold=0.3).findings if f.detector != "idiom.v1"]
    assert {(f.start, f.end) for f in verified} <= fast_spans
    for finding in verified:
        assert finding.detector == "minilm-swap-tagger.v1+lm" and finding.evidence["lm_gain"] >= 0.0
        assert finding.suggestion != finding.text


def test_a_full_check_in_a_fresh_process_prints_nothing_on_stderr():
    """Loading the language model must not leave library progress bars on stderr either."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "unspin", "check", "-"], input=SPUN.encode(),
                          capture_output=True, timeout=600)
    assert done.returncode == 0 and done.stdout
    assert done.stderr.decode() == ""
