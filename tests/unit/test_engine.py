"""The engine's parts: candidates, context, joint restoration, the LM's packing and shortlist."""

from __future__ import annotations

import pytest

from unspin.detect.candidates import IDIOM_SOURCE, Candidate, CandidateGenerator, zipf
from unspin.detect.context import left_context as _left_context, right_context as _right_context, sentence_ids as _sentence_ids
from unspin.text.tokenize import tokenize


def test_context_stops_at_sentence_boundaries():
    tokens = tokenize("He left. We trained a deep model")
    lower = [t.lower for t in tokens]
    sentence = _sentence_ids(tokens)
    assert _left_context(lower, sentence, 2) == (None, "<s>")
    assert _left_context(lower, sentence, 3) == ("<s>", "we")
    assert _left_context(lower, sentence, 4) == ("we", "trained")
    assert _right_context(lower, sentence, 1) == ["left", "</s>"]
    assert _right_context(lower, sentence, 2) == ["</s>"]
    assert _right_context(lower, sentence, 6) == ["model", "</s>"]


@pytest.fixture(scope="module")
def generator():
    return CandidateGenerator()


def test_candidates_are_inflected_like_the_observed_word(generator):
    originals = {c.original for c in generator.for_term("pioneers")}
    assert "leaders" in originals and "leader" not in originals


def test_idiom_candidates_come_first(generator):
    candidates = generator.for_term("atmosphere alteration")
    assert candidates[0].original == "climate change" and candidates[0].sources & IDIOM_SOURCE


def test_ranked_entries_are_the_most_probable_neighbours_ties_by_term(generator):
    # The memoised, id-based ranking must pick exactly what ranking the neighbour strings
    # would: the restorer's candidate lists are cut by it.
    for lemma in ["change", "order", "growth", "set", "deep"]:
        neighbours = generator.thesaurus.neighbours(lemma)
        assert len(neighbours) > generator.max_candidates
        expected = sorted((Candidate(n, m, max(1, generator.thesaurus.degree(n)), zipf(n)) for n, m in neighbours.items()),
                          key=lambda c: (-c.prior, c.original))[: generator.max_candidates]
        assert list(generator._ranked_entries(lemma)) == expected


def test_channel_prefers_rarely_shared_synonyms():
    narrow = Candidate("cancer", 1, 50, 4.5)
    broad = Candidate("like", 1, 300, 6.5)
    assert narrow.channel > broad.channel


def test_zipf_matches_wordfreq():
    from wordfreq import zipf_frequency

    for term in ["deep learning", "artificial", "on the other hand", "co-operate", "xyzzyq"]:
        assert zipf(term) == zipf_frequency(term, "en")


def test_neighbouring_swaps_are_restored_jointly(fast_engine):
    text = "Women with bosom growth were screened."
    [span] = fast_engine.restore(text, tokenize(text), [(2, 4)])
    assert span.readings[0].wording == "breast cancer"


def test_spun_example_restores_its_idiom(fast_checker):
    report = fast_checker.check("Atmosphere alteration is presently the greatest danger.")
    assert report.spans[0].text == "Atmosphere alteration"
    assert report.spans[0].suggestion == "Climate change"
    assert report.spans[0].detector == "idiom.v1"
    assert report.restored.startswith("Climate change is")


def test_empty_and_wordless_inputs(fast_checker):
    for text in ["", "   \n\n", "1234 5678 !!!", "😀😀"]:
        report = fast_checker.check(text)
        assert report.score == 0 and report.spans == () and report.restored == text


def test_clean_sentence_is_not_flagged(fast_checker):
    text = "The committee met on Tuesday to discuss the budget for next year."
    assert fast_checker.check(text).spans == ()


def test_packs_keep_groups_within_the_token_limit():
    from unspin.detect.lm import _packs

    assert _packs([3, 3, 3, 3], 6) == [(0, 2), (2, 4)]
    assert _packs([10, 1, 1], 4) == [(0, 1), (1, 3)]  # a lone larger row still gets a pack
    assert _packs([], 4) == []


def test_shortlist_ranks_by_prior_plus_weighted_first_token() -> None:
    from unspin.detect.lm import Shortlist

    shortlist = Shortlist(prior=(-1.0, -2.0, -3.0, -4.0), keep=2, weight=0.5)
    assert shortlist.best([0.0, 0.0, 0.0, 0.0]) == (0, 1, 2)  # the prior alone: its order
    assert shortlist.best([-9.0, 0.0, 0.0, 0.0]) == (0, 2, 3)  # -5.5 drops the first
    assert shortlist.best([-2.0, -2.0, -2.0, 6.0]) == (0, 4, 1)  # best first, not in index order
    assert Shortlist((0.0, 0.0), keep=5, weight=0.5).best([0.0, 0.0]) == (0, 1, 2)  # ties by index; never more than there are


def test_shortlist_leaves_out_what_falls_far_behind_its_best() -> None:
    """A reading more than `margin` nats behind the best is not worth a row of the LM's pass."""
    from unspin.detect.lm import Shortlist

    shortlist = Shortlist(prior=(-1.0, -4.0, -9.5, -20.0), keep=3, weight=1.0, margin=8.0)
    assert shortlist.best([0.0, 0.0, 0.0, 0.0]) == (0, 1, 2)  # -9.5 is 8.5 behind -1
    assert shortlist.best([0.0, 0.0, 2.0, 0.0]) == (0, 1, 2, 3)  # its first token brings it within 8
    assert shortlist.best([-30.0, 0.0, 0.0, 0.0]) == (0, 2, 3)  # the margin runs from the best kept
    assert Shortlist((-1.0, -4.0, -9.5), keep=3, weight=1.0).best([0.0] * 3) == (0, 1, 2, 3)  # no margin: keep
