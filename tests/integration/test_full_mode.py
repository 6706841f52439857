"""Full mode end to end: the neural model verifies and ranks, reports keep the contract."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

SPUN = ("Atmosphere alteration is presently the greatest danger confronting beach front networks. "
        "Then again, numerous neighborhood pioneers state they need more cash to ensure homes and streets.")


@pytest.fixture(scope="module")
def full_checker():
    from unspin.pipeline import get_checker

    return get_checker(mode="full")


def test_full_mode_report(full_checker):
    report = full_checker.check(SPUN)
    assert report.mode == "full" and report.model and "smollm2" in report.model
    assert report.spans, "the spun example should have findings"
    for span in report.spans:
        assert SPUN[span.start:span.end] == span.text
        assert span.detector in {"minilm-swap-tagger.v1+lm", "idiom.v1"}
    assert report.restored.startswith("Climate change")


def test_full_mode_is_deterministic(full_checker):
    assert full_checker.check(SPUN) == full_checker.check(SPUN)


def test_full_mode_leaves_plain_text_alone(full_checker):
    text = "The committee met on Tuesday to discuss the budget for next year."
    assert full_checker.check(text).spans == ()


def test_python_api_matches_the_checker(full_checker):
    import unspin

    assert unspin.check(SPUN).to_dict() == full_checker.check(SPUN).to_dict()
    assert unspin.restore(SPUN) == full_checker.check(SPUN).restored


def test_full_mode_scores_the_document_by_its_verified_findings_too(full_checker, fast_checker):
    """Full mode's findings are verified by the LM, so its document model reads them ("found") beside
    the word-level evidence both modes share; fast mode's reads the word-level evidence alone."""
    from unspin.detect.score import document_score, found_confidence

    full, fast = full_checker.engine, fast_checker.engine
    assert "found" in full.screening.document.features
    assert "found" not in fast.screening.document.features
    assert full.screening.site is fast.screening.site  # the same word-level decision screens in both modes
    assert full.decision.document is full.screening.document
    for text in (SPUN, "The committee met on Tuesday to discuss the budget for next year."):
        detection = full.detect(text)
        expected = document_score(full.screening, detection.expected, detection.words, detection.rate,
                                  found=found_confidence(detection.findings))
        assert full_checker.check(text).score == pytest.approx(expected)


def test_idiom_evidence_agrees_with_the_rule_that_flagged_it(full_checker):
    """An idiom span is flagged because its original reads better there; the evidence must say so."""
    idioms = [span for span in full_checker.check(SPUN).spans if span.detector == "idiom.v1"]
    assert {span.text for span in idioms} >= {"Atmosphere alteration"}
    for span in idioms:
        assert span.evidence["trigram_gain"] > 0, span


def _example() -> str:
    from pathlib import Path

    return (Path(__file__).resolve().parents[2] / "examples" / "spun-news.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def learned_full(full_checker):
    return full_checker.engine


def test_the_learned_full_mode_reports_the_spans_its_verification_rates_high_enough(learned_full):
    """Full mode verifies every span from the word-level candidate threshold; a finding is a span
    whose verification probability (word-level evidence and the LM's gain) reaches the threshold."""
    verification = learned_full.verification
    assert verification.candidate_threshold < learned_full.words.site.threshold  # the LM sees more than fast mode reports
    text = _example()
    found = learned_full.candidates(text, verification.candidate_threshold, isolated=verification.isolated_threshold)
    assert found.spans, "the example should have candidate spans"
    confidences = learned_full.confidences(found.spans, found.evidence, found.decided)
    tokens = found.evidence.tokens
    expected = {(tokens[s.i].start, tokens[s.j - 1].end): c for s, c in zip(found.spans, confidences)
                if c >= verification.span.threshold}
    assert len(expected) < len(found.spans), "the example should have spans the verification rejects"
    reported = {(f.start, f.end): f for f in learned_full.detect(text).findings if f.detector != "idiom.v1"}
    assert set(reported) == set(expected)
    for where, finding in reported.items():
        assert finding.confidence == pytest.approx(expected[where])
        assert finding.detector == "minilm-swap-tagger.v1+lm"
        # The evidence shows the LM's naturalness gain and the swap's cost apart; together they are
        # what the verification read.
        span = next(s for s in found.spans if (tokens[s.i].start, tokens[s.j - 1].end) == where)
        assert finding.evidence["lm_gain"] + finding.evidence["swap_logprob"] == pytest.approx(span.lm_gain, abs=0.002)
        assert finding.suggestion != finding.text


def test_a_verification_that_trusts_only_the_language_model_drops_what_it_does_not_prefer(learned_full):
    import copy

    from unspin.detect.decide import LogisticModel, Verification
    from unspin.detect.learned import SPAN_FEATURES

    n = len(SPAN_FEATURES)
    coef = tuple(5.0 if name == "lm_gain" else 0.0 for name in SPAN_FEATURES)
    only_lm = copy.copy(learned_full)
    # P = sigmoid(5 * gain - 5): reported at 0.5 when the LM prefers the best reading by 1 nat.
    only_lm.verification = Verification(0.3, LogisticModel("lm-only", SPAN_FEATURES, coef, -5.0, (0.0,) * n,
                                                           (1.0,) * n, 0.5), {})
    text = _example()
    found = only_lm.candidates(text, 0.3)
    preferred = {(found.evidence.tokens[s.i].start, found.evidence.tokens[s.j - 1].end)
                 for s in found.spans if s.readings and s.lm_gain >= 1.0}
    assert preferred and len(preferred) < len(found.spans), "the example should have spans of both kinds"
    reported = {(f.start, f.end) for f in only_lm.detect(text, threshold=0.5).findings
                if f.detector != "idiom.v1"}
    assert reported == preferred


def test_a_full_check_in_a_fresh_process_prints_nothing_on_stderr():
    """Loading the language model must not leave library progress bars on stderr either."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "unspin", "check", "-"], input=SPUN.encode(),
                          capture_output=True, timeout=600)
    assert done.returncode == 0 and done.stdout
    assert done.stderr.decode() == ""


def test_a_word_no_dictionary_knows_gets_the_lms_own_words_when_restored(learned_full):
    from unspin.detect.candidates import LM_SOURCE
    from unspin.text.tokenize import tokenize

    text = "The committee met on Tuesday to discuss the zorblified budget for next year."
    tokens = tokenize(text)
    discuss, invented = ([t.text for t in tokens].index(word) for word in ("discuss", "zorblified"))
    known, unknown = learned_full.restore(text, tokens, [(discuss, discuss + 1), (invented, invented + 1)])
    assert known.readings and known.lm_gain is not None
    assert unknown.readings and all(r.sources == LM_SOURCE for r in unknown.readings) and unknown.lm_gain is not None
    # While spans are verified, the LM proposes nothing: detection reports no span only it reads.
    [verified] = learned_full.restore(text, tokens, [(invented, invented + 1)], second_look=False)
    assert verified.readings == [] and verified.lm_gain is None


def test_a_word_no_dictionary_reading_improves_gets_the_lms_own_words(learned_full):
    """Moby's loose links ("sides" -> "viewpoints") are read by no other dictionary: without Moby
    no reading beats the written word, so the LM's own words there compete, and "sides" wins."""
    from unspin.text.tokenize import tokenize

    text = "Calls upon the military authorities on both viewpoints to cooperate in extending the agreement."
    tokens = tokenize(text)
    i = [t.text for t in tokens].index("viewpoints")
    without_moby = learned_full.restoring_without(("moby",))
    [first] = without_moby.restore(text, tokens, [(i, i + 1)], second_look=False)
    [second] = without_moby.restore(text, tokens, [(i, i + 1)])
    assert "sides" not in [r.wording for r in first.readings] and first.lm_gain < 0
    assert second.readings[0].wording == "sides" and second.lm_gain > 0
    assert set(first.readings) < set(second.readings)  # the readings stay in the race


def test_a_word_whose_reading_reads_clearly_better_gets_no_second_look(learned_full, monkeypatch):
    from unspin.detect import learned
    from unspin.text.tokenize import tokenize

    text = "It is the task of education to construct the defences of coziness in the minds of men."
    tokens = tokenize(text)
    i = [t.text for t in tokens].index("coziness")
    monkeypatch.setattr(learned_full.neural, "propose_many", lambda *args, **kwargs: pytest.fail("proposed"))
    [span] = learned_full.restore(text, tokens, [(i, i + 1)])
    assert span.readings[0].wording == "peace" and span.lm_gain >= learned.SECOND_LOOK_GAIN


def test_the_lm_scores_the_readings_its_first_token_shortlist_keeps(learned_full, monkeypatch):
    """Every reading is offered; the LM scores the VERIFIED that rank best by the trigram plus its
    own first-token probability, less those SHORTLIST_MARGIN nats or more behind the best of them,
    and the span keeps those, in the LM's order."""
    from unspin.detect import learned
    from unspin.text.tokenize import tokenize

    text = "Atmosphere alteration is presently the greatest danger confronting beach front networks."
    tokens = tokenize(text)
    i = [t.text for t in tokens].index("danger")
    all_readings = learned_full.readings([t.lower for t in tokens], learned.sentence_ids(tokens), i, i + 1)
    assert len(all_readings) > learned.VERIFIED
    sent = []
    real = learned_full.neural.score_in_context
    monkeypatch.setattr(learned_full.neural, "score_in_context",
                        lambda text, queries, **kw: sent.extend(queries) or real(text, queries, **kw))
    [span] = learned_full.restore(text, tokens, [(i, i + 1)], second_look=False)
    [query] = sent
    assert len(query.alternatives) == 1 + len(all_readings)
    assert query.shortlist.prior == tuple(r.score for r in all_readings) and query.shortlist.keep == learned.VERIFIED
    assert query.shortlist.margin == learned.SHORTLIST_MARGIN
    assert 1 <= len(span.readings) < learned.VERIFIED  # here some fall more than the margin behind
    assert set(span.readings) <= set(all_readings)
    monkeypatch.setattr(learned, "SHORTLIST_MARGIN", float("inf"))
    [unlimited] = learned_full.restore(text, tokens, [(i, i + 1)], second_look=False)
    assert len(unlimited.readings) == learned.VERIFIED and set(span.readings) < set(unlimited.readings)


def test_a_multi_word_span_is_read_with_what_the_lm_expects_at_its_later_words(learned_full, monkeypatch):
    """"corrosive" has "acid" deep in its candidate list, where the trigram, which does not know the
    term, leaves it out of the beam; the LM, reading "hydrochloric" before it, expects "acid", and
    that brings the reading in and first."""
    from unspin.detect import learned
    from unspin.text.tokenize import tokenize

    text = "The solution was titrated with hydrochloric corrosive until neutral."
    tokens = tokenize(text)
    i = [t.text for t in tokens].index("hydrochloric")

    def readings():
        [span] = learned_full.restore(text, tokens, [(i, i + 2)], second_look=False)
        return [r.wording for r in span.readings]

    assert readings()[0] == "hydrochloric acid"
    monkeypatch.setattr(learned, "INSIDE_LM_WEIGHT", 0.0)
    assert "hydrochloric acid" not in readings()


def test_a_span_grows_to_the_term_of_art_its_neighbour_spells_when_the_lm_reads_it_better(learned_full):
    """The detector flags "proportion" alone; with "viewpoint" it spells "aspect ratio", which the
    LM reads better than "proportion"'s own best reading, so the span takes its neighbour in. A
    span whose own reading the LM prefers keeps its extent."""
    from unspin.detect import learned
    from unspin.text.tokenize import tokenize

    def restored(text, word, beside):
        tokens = tokenize(text)
        lower = [t.lower for t in tokens]
        k = lower.index(word)
        [alone] = learned_full.restore(text, tokens, [(k, k + 1)], second_look=False)
        [span] = learned_full.restore(text, tokens, [(k, k + 1)], second_look=False, grow_beside=beside(k))
        return k, alone, span

    k, alone, grown = restored("Each input image is resized to keep its viewpoint proportion before it is cropped.",
                               "proportion", lambda k: set())
    assert (grown.i, grown.j) == (k - 1, k + 1)
    assert grown.readings[0].wording == "aspect ratio" and grown.lm_gain > alone.lm_gain
    # A neighbour another finding holds is not taken in.
    _, alone, held = restored("Each input image is resized to keep its viewpoint proportion before it is cropped.",
                              "proportion", lambda k: {k - 1})
    assert _same(held, alone)
    _, alone, kept = restored("The model is trained with stochastic inclination descent on small batches.",
                              "inclination", lambda k: set())
    assert alone.readings[0].wording == "gradient" and _same(kept, alone)


def _same(span, other) -> bool:
    """The same extent and readings; the LM's gain to float noise (another query shares its pass)."""
    return (span.i, span.j, span.readings) == (other.i, other.j, other.readings) and \
        span.lm_gain == pytest.approx(other.lm_gain, abs=1e-3)


RADIOSTERILIZED = (
    "Preserving foods with ionizing radiation leads to some undesirable side effects, particularly at the higher "
    "radiation dosages. In this respect, the general palatability and individual acceptance of most radiosterilized "
    "foods has, to date, been found to be low in comparison with fresh and commercially processed foods. A number of "
    "foods are quite acceptable as regards taste and palatability, however, at dosages substantially less than "
    "sterilization levels.")  # Brown, dev split: a rare word the author wrote


def test_a_word_no_dictionary_knows_is_not_reported_whatever_the_verification_says(full_checker, monkeypatch):
    import unspin.detect.learned as learned

    engine = full_checker.engine
    assert full_checker.check(RADIOSTERILIZED).spans == ()
    # Even a verification that passes every span does not report it ...
    monkeypatch.setattr(engine, "confidences", lambda spans, *rest: [1.0] * len(spans))
    assert "radiosterilized" not in [s.text for s in full_checker.check(RADIOSTERILIZED).spans]
    # ... the rule does: without it the LM's own "radioactive" reads far better there.
    monkeypatch.setattr(learned, "_read_by_a_dictionary", lambda span: True)
    flagged = {s.text: s for s in full_checker.check(RADIOSTERILIZED).spans}
    assert flagged["radiosterilized"].evidence.get("sources") == ["language model"]
