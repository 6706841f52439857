"""Hand-made cases for the evaluation metrics: matching, restoration, false flags, averaging."""

from __future__ import annotations

import pytest

from unspin.evaluate.metrics import Counts, Gold, match, score_clean, score_text, total
from unspin.model import Finding

SPUN = "We trained a profound learning model on huge information today."
#       0         1         2         3         4         5         6
#       0123456789012345678901234567890123456789012345678901234567890123


def span(text: str, phrase: str, original: str) -> Gold:
    start = text.index(phrase)
    return Gold(start, start + len(phrase), original)


def find(text: str, phrase: str, suggestion: str) -> Finding:
    start = text.index(phrase)
    return Finding(start, start + len(phrase), phrase, suggestion, (), 0.9, "test")


GOLD = (span(SPUN, "profound learning", "deep learning"), span(SPUN, "huge information", "big data"))


def test_perfect_detection_and_restoration():
    found = [find(SPUN, "profound learning", "deep learning"), find(SPUN, "huge information", "big data")]
    counts = score_text(SPUN, GOLD, found)
    assert (counts.gold, counts.predicted, counts.true_positives, counts.restored) == (2, 2, 2, 2)
    assert counts.precision == counts.recall == counts.restoration == counts.restoration_detected == 1.0
    assert counts.false_flags == 0
    assert counts.words == 10


def test_restoration_ignores_case_and_whitespace():
    found = [find(SPUN, "profound learning", "Deep  Learning")]
    counts = score_text(SPUN, GOLD, found)
    assert counts.restored == 1
    assert counts.restoration == 0.5 and counts.restoration_detected == 1.0


def test_detected_with_wrong_suggestion_counts_for_recall_not_restoration():
    counts = score_text(SPUN, GOLD, [find(SPUN, "profound learning", "intense learning")])
    assert (counts.true_positives, counts.restored) == (1, 0)
    assert counts.precision == 1.0 and counts.recall == 0.5
    assert counts.restoration == 0.0 and counts.restoration_detected == 0.0


def test_partial_overlap_restored_only_if_the_rest_already_matches():
    # Only "profound" flagged, suggestion "deep": the untouched "learning" equals the original.
    counts = score_text(SPUN, GOLD, [find(SPUN, "profound", "deep")])
    assert (counts.true_positives, counts.restored) == (1, 1)
    # Only "huge" flagged, suggestion "big": "information" is left spun, so not restored.
    counts = score_text(SPUN, GOLD, [find(SPUN, "huge", "big")])
    assert (counts.true_positives, counts.restored) == (1, 0)


def test_wider_prediction_must_give_back_untouched_words():
    good = find(SPUN, "a profound learning model", "a deep learning model")
    bad = find(SPUN, "a profound learning model", "a deep learning system")
    assert score_text(SPUN, GOLD, [good]).restored == 1
    assert score_text(SPUN, GOLD, [bad]).restored == 0


def test_prediction_spanning_two_gold_spans_is_judged_on_both():
    text = "a profound learning huge information"
    gold = (span(text, "profound learning", "deep learning"), span(text, "huge information", "big data"))
    both = find(text, "profound learning huge information", "deep learning big data")
    one = find(text, "profound learning huge information", "deep learning huge information")
    counts = score_text(text, gold, [both])
    # One prediction matches one gold span (one-to-one): recall 1/2, and it restores that one.
    assert (counts.true_positives, counts.restored, counts.recall) == (1, 1, 0.5)
    assert score_text(text, gold, [one]).restored == 0


def test_each_gold_span_matched_once_greedy_by_overlap():
    small = find(SPUN, "profound", "deep")
    large = find(SPUN, "profound learning", "deep learning")
    pairs = match(GOLD, [small, large])
    assert pairs == [(1, 0)]  # the larger overlap wins; the other prediction is a false flag
    counts = score_text(SPUN, GOLD, [small, large])
    assert (counts.predicted, counts.true_positives, counts.false_flags) == (2, 1, 1)
    assert counts.precision == 0.5


def test_touching_spans_do_not_overlap():
    gold = (Gold(10, 20, "x"),)
    assert match(gold, [Finding(0, 10, "", "", (), 1.0, "t")]) == []
    assert match(gold, [Finding(19, 25, "", "", (), 1.0, "t")]) == [(0, 0)]


def test_no_predictions_gives_undefined_precision_and_zero_recall():
    counts = score_text(SPUN, GOLD, [])
    assert counts.precision is None
    assert counts.recall == 0.0 and counts.restoration == 0.0
    assert counts.restoration_detected is None
    assert counts.false_flags_per_1k == 0.0


def test_clean_text_false_flags_per_thousand_words():
    text = " ".join(["word"] * 500)
    flags = [Finding(0, 4, "word", "term", (), 0.5, "t")]
    counts = score_clean(text, flags)
    assert counts.words == 500 and counts.gold == 0 and counts.false_flags == 1
    assert counts.false_flags_per_1k == pytest.approx(2.0)
    assert counts.recall is None and counts.precision == 0.0


def test_tuples_accepted_as_gold():
    counts = score_text(SPUN, [(13, 30, "deep learning")], [find(SPUN, "profound learning", "deep learning")])
    assert counts.restored == 1


def test_micro_average_adds_counts_before_ratios():
    a = Counts(texts=1, words=100, gold=1, predicted=1, true_positives=1, restored=1)
    b = Counts(texts=1, words=900, gold=9, predicted=1, true_positives=0, restored=0)
    summed = total([a, b])
    assert summed == Counts(2, 1000, 10, 2, 1, 1)
    assert summed.recall == 0.1  # micro; the macro mean would be 0.5
    assert summed.precision == 0.5
    assert summed.false_flags_per_1k == 1.0
    assert total([]) == Counts()
    row = summed.as_dict()
    assert row["false_flags"] == 1 and row["recall"] == 0.1
