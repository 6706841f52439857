"""The thesaurus engine's parts (full mode's candidates and gate): candidates, context, joint restoration, decisions."""

from __future__ import annotations

import pytest

from unspin.detect.candidates import IDIOM_SOURCE, Candidate, zipf
from unspin.detect.decide import TreeEnsemble, load_decision
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


def test_candidates_are_inflected_like_the_observed_word(thesaurus_engine):
    originals = {c.original for c in thesaurus_engine.generator.for_term("pioneers")}
    assert "leaders" in originals and "leader" not in originals


def test_idiom_candidates_come_first(thesaurus_engine):
    candidates = thesaurus_engine.generator.for_term("atmosphere alteration")
    assert candidates[0].original == "climate change" and candidates[0].sources & IDIOM_SOURCE


def test_ranked_entries_are_the_most_probable_neighbours_ties_by_term(thesaurus_engine):
    # The memoised, id-based ranking must pick exactly what ranking the neighbour strings
    # would: the decision models were trained on those candidates.
    generator = thesaurus_engine.generator
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


def test_neighbouring_swaps_are_restored_jointly(thesaurus_engine):
    text = "Women with bosom growth were screened."
    tokens = tokenize(text)
    sites = thesaurus_engine.candidate_sites(text, tokens)
    pair = next(s for s in sites if (s.i, s.j) == (2, 4))
    assert pair.candidates[pair.ranking()[0]].original == "breast cancer"


def test_spun_example_restores_its_idiom(thesaurus_engine):
    report = thesaurus_engine.check("Atmosphere alteration is presently the greatest danger.")
    assert report.spans[0].text == "Atmosphere alteration"
    assert report.spans[0].suggestion == "Climate change"
    assert report.spans[0].detector == "idiom.v1"
    assert report.restored.startswith("Climate change is")


def test_empty_and_wordless_inputs(thesaurus_engine):
    for text in ["", "   \n\n", "1234 5678 !!!", "😀😀"]:
        report = thesaurus_engine.check(text)
        assert report.score == 0 and report.spans == () and report.restored == text


def test_clean_sentence_is_not_flagged(thesaurus_engine):
    text = "The committee met on Tuesday to discuss the budget for next year."
    assert thesaurus_engine.check(text).spans == ()


def test_tree_ensemble_walks_to_leaves():
    # one stump: x <= 1.0 -> leaf 1 (value -2), else leaf 2 (value +2)
    stump = ((0, 1.0, 1, 2, 0.0, False, True), (0, 0.0, 0, 0, -2.0, True, True), (0, 0.0, 0, 0, 2.0, True, True))
    model = TreeEnsemble("t", ("x",), (stump,), 0.0, 0.5)
    assert model.probability({"x": 0.0}) == pytest.approx(1 / (1 + 2.718281828 ** 2), rel=1e-6)
    assert model.probability({"x": 3.0}) == pytest.approx(1 / (1 + 2.718281828 ** -2), rel=1e-6)


def test_shipped_decision_model_is_complete():
    decision = load_decision("fast")
    assert 0 < decision.site.threshold < 1
    assert decision.suspect_score < decision.spun_score
    assert decision.provenance["generated_by"] == "scripts/train_decision.py"


@pytest.mark.parametrize("mode", ["fast", "gate", "full"])
def test_every_shipped_decision_reads_only_features_the_engine_computes(thesaurus_engine, mode):
    text = "Recent advances in counterfeit consciousness have changed the field. Then again, costs rose."
    from unspin.detect.engine import add_neural_site_features

    tokens = tokenize(text)
    sites = thesaurus_engine.candidate_sites(text, tokens)
    if mode == "full":  # the neural features, as computed after verification (here: none verified)
        add_neural_site_features(sites, len(tokens))
    assert set(load_decision(mode).site.features) <= set(sites[0].features)


def test_neural_rate_counts_neighbours_that_read_better_swapped_not_the_site_itself():
    from unspin.detect.engine import NEURAL_DOC_MIN_WORDS, NEURAL_WINDOW, Site, _add_neural_rate_features

    def verified(i: int, gain: float) -> Site:
        site = Site(i, i + 1, [Candidate("x", 1, 2, 4.0)])
        site.neural, site.neural_observed = [gain], 0.0
        return site

    near = [verified(10, 5.0), verified(12, 4.0), verified(14, 0.2)]  # two hits, one miss
    far = verified(10 + 3 * NEURAL_WINDOW, 6.0)  # out of everyone's window
    unverified = Site(11, 12, [Candidate("y", 1, 2, 4.0)])
    sites = near + [far, unverified]
    _add_neural_rate_features(sites, words=400)
    # hits / the window's 81 words (edges count as clean): site 10 sees site 12's hit, not its own
    window = 2 * NEURAL_WINDOW + 1
    assert near[0].features["neural_window"] == pytest.approx(1 / window)
    assert near[1].features["neural_window"] == pytest.approx(1 / window)
    assert near[2].features["neural_window"] == pytest.approx(2 / window)  # both hits, its own miss
    assert far.features["neural_window"] == 0.0
    assert far.features["neural_doc"] == pytest.approx(2 / NEURAL_DOC_MIN_WORDS)  # the others' hits, short block
    assert unverified.features["neural_window"] == pytest.approx(2 / window)


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
