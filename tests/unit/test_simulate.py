"""The spinner simulator: exact offsets both ways, determinism, skip rules, the held-out dictionary."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspin.errors import UsageError
from unspin.evaluate.simulate import Edit, SpinResult, overlap, spin
from unspin.lexicon import MYTHES, load_thesaurus
from unspin.lexicon.stopwords import FUNCTION_WORDS

TEXT = (
    "Deep learning is a branch of machine learning based on artificial neural networks. "
    "Researchers at Google trained the networks on 3D images and reported better results than before. "
    "The students carried out many experiments quickly, making the models bigger.\n"
    "Counterfeit consciousness is a profound problem; the group decided to study it in the woodland."
)


@pytest.fixture(scope="session")
def lex(tmp_path_factory):
    """The simulator's held-out MyThes and the restorer's Moby + WordNet, built in an empty cache if needed."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSPIN_CACHE", str(tmp_path_factory.mktemp("unspin-cache")))
        return SimpleNamespace(mythes=load_thesaurus(("mythes",)), restorer=load_thesaurus(("moby", "wordnet")))


def check_offsets(source: str, result: SpinResult) -> None:
    """Edits are sorted, disjoint, slice both texts, and undoing them gives the input back."""
    previous_end = previous_orig_end = -1
    for edit in result.edits:
        assert result.text[edit.start:edit.end] == edit.spun
        assert source[edit.orig_start:edit.orig_end] == edit.original
        assert edit.start >= previous_end and edit.orig_start >= previous_orig_end
        assert edit.start < edit.end and edit.orig_start < edit.orig_end
        previous_end, previous_orig_end = edit.end, edit.orig_end
    rebuilt, cursor = [], 0
    for edit in result.edits:
        rebuilt += [result.text[cursor:edit.start], edit.original]
        cursor = edit.end
    assert "".join(rebuilt) + result.text[cursor:] == source


def test_offsets_slice_both_ways(lex):
    for seed in range(5):
        result = spin(TEXT, rate=0.6, seed=seed, thesaurus=lex.mythes)
        assert result.edits
        check_offsets(TEXT, result)


def test_deterministic_per_seed(lex):
    first = spin(TEXT, rate=0.5, seed=7, thesaurus=lex.mythes)
    assert spin(TEXT, rate=0.5, seed=7, thesaurus=lex.mythes) == first
    assert any(spin(TEXT, rate=0.5, seed=s, thesaurus=lex.mythes) != first for s in range(8, 12))


def test_rate_zero_is_identity_and_rate_is_validated(lex):
    assert spin(TEXT, rate=0.0, seed=1, thesaurus=lex.restorer) == SpinResult(TEXT, ())
    assert spin("", rate=1.0, seed=1, thesaurus=lex.mythes) == SpinResult("", ())
    with pytest.raises(UsageError):
        spin(TEXT, rate=1.5, seed=1, thesaurus=lex.mythes)


def test_rate_one_swaps_most_content_words(lex):
    result = spin(TEXT, rate=1.0, seed=3, thesaurus=lex.mythes)
    assert len(result.edits) >= 15
    check_offsets(TEXT, result)


def test_what_is_never_touched(lex):
    text = "The results of Smith and NASA in 3D at the US were good, Smith found it so."
    for seed in range(20):
        for edit in spin(text, rate=1.0, seed=seed, thesaurus=lex.restorer).edits:
            assert edit.original.lower() not in FUNCTION_WORDS
            assert edit.original not in {"Smith", "NASA", "D", "US", "so", "it", "in"}
            assert len(edit.original) >= 3


def test_replacements_are_clean_and_never_contain_the_original(lex):
    for seed in range(10):
        for edit in spin(TEXT, rate=1.0, seed=seed, thesaurus=lex.mythes).edits:
            assert re.fullmatch(r"[^\W\d_][\w' -]*[^\W\d_]", edit.spun) and not re.search(r"\d|_", edit.spun)
            assert edit.spun.lower() != edit.original.lower()
            spun_words, orig_words = edit.spun.lower().split(), edit.original.lower().split()
            assert not set(orig_words) <= set(spun_words) or len(orig_words) > len(spun_words)


def test_case_and_inflection_follow_the_original(lex):
    text = "Networks grow. The networks grew."
    seen = set()
    for seed in range(30):
        for edit in spin(text, rate=1.0, seed=seed, thesaurus=lex.mythes).edits:
            seen.add((edit.original, edit.spun))
            if edit.original == "Networks":
                assert edit.spun[0].isupper()
            if edit.original == "networks":
                assert edit.spun[0].islower() and edit.spun.endswith("s")
    assert any(original == "grew" for original, _ in seen)


def test_multiword_entries_are_swapped_whole(lex):
    found = set()
    for seed in range(40):
        for edit in spin("The team carried out the plan.", rate=1.0, seed=seed, thesaurus=lex.restorer).edits:
            found.add(edit.original)
    assert "carried out" in found and "carried" not in found


def test_held_out_dictionary(lex):
    """A MyThes-only run: every swap is a MyThes link, none comes from Moby or WordNet."""
    assert lex.mythes.sources == ("mythes",)
    assert set(lex.mythes.masks.tolist()) == {MYTHES}
    edits = [e for seed in range(10) for e in spin(TEXT, rate=0.8, seed=seed, thesaurus=lex.mythes).edits]
    assert overlap(edits, lex.mythes) >= 0.95
    restorer_overlap = overlap(edits, lex.restorer)
    assert 0.0 < restorer_overlap < 1.0  # MyThes comes from WordNet: overlapping, not identical
    assert overlap([], lex.restorer) == 0.0


def test_overlap_counts_linked_lemmas(lex):
    deep = Edit(0, 8, "profound", "deep", 0, 4)
    nonsense = Edit(0, 5, "zebra", "deep", 0, 4)
    inflected = Edit(0, 9, "artificial", "counterfeit", 0, 11)
    assert overlap([deep, nonsense], lex.restorer) == 0.5
    assert overlap((inflected,), lex.restorer) == 1.0


WORDS = ["deep", "learning", "networks", "carried", "out", "the", "of", "Smith", "profound", "results",
         "quickly", "bigger", "neural", "network", "3D", "it's", "state-of-the-art", "group", "decided"]
SEPARATORS = [" ", " ", " ", ", ", ". ", "\n", "  ", "; ", " (", ") "]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(words=st.lists(st.sampled_from(WORDS), max_size=25),
       seps=st.lists(st.sampled_from(SEPARATORS), min_size=25, max_size=25),
       rate=st.floats(0.0, 1.0), seed=st.integers(0, 2**32), restorer=st.booleans())
def test_property_edits_slice_and_never_overlap(lex, words, seps, rate, seed, restorer):
    text = "".join(w + s for w, s in zip(words, seps))
    thesaurus = lex.restorer if restorer else lex.mythes
    result = spin(text, rate=rate, seed=seed, thesaurus=thesaurus)
    check_offsets(text, result)
    assert result == spin(text, rate=rate, seed=seed, thesaurus=thesaurus)


# -- spinner profiles ------------------------------------------------------------------------------

def test_profiles_keep_offsets_and_determinism(lex):
    from unspin.evaluate.simulate import PROFILES

    for name in ("mythes", "mythes-rare"):
        profile = PROFILES[name]
        result = spin(TEXT, rate=0.5, seed=3, thesaurus=lex.mythes, profile=profile)
        check_offsets(TEXT, result)
        assert spin(TEXT, rate=0.5, seed=3, thesaurus=lex.mythes, profile=profile) == result


def test_a_profile_without_its_quirks_spins_as_the_plain_simulator(lex):
    from unspin.evaluate.simulate import Profile

    plain = spin(TEXT, rate=0.5, seed=9, thesaurus=lex.mythes)
    assert spin(TEXT, rate=0.5, seed=9, thesaurus=lex.mythes, profile=Profile("p", ("mythes",))) == plain


def test_phrase_profiles_rewrite_function_words_into_stock_phrases(lex):
    from unspin.evaluate.simulate import Profile, stock_phrases

    text = "We stayed home because it rained, although the forecast was good."
    profile = Profile("phrases", ("mythes",), phrases=True)
    result = spin(text, rate=1.0, seed=1, thesaurus=lex.mythes, profile=profile)
    check_offsets(text, result)
    by_original = {e.original.lower(): e.spun.lower() for e in result.edits}
    assert by_original["because"] in stock_phrases()["because"]
    assert by_original["although"] in stock_phrases()["although"]
    # The plain simulator leaves function words alone.
    assert all(e.original.lower() not in ("because", "although") for e in spin(text, rate=1.0, seed=1, thesaurus=lex.mythes).edits)


def _mean_spun_zipf(lex, profile):
    """How common the words a profile writes are, on average (wordfreq's Zipf scale)."""
    from unspin.detect.candidates import zipf

    edits = [e for seed in range(6) for e in spin(TEXT, rate=1.0, seed=seed, thesaurus=lex.mythes, profile=profile).edits]
    return sum(zipf(e.spun.lower()) for e in edits) / len(edits)


def test_rare_bias_picks_rarer_entries(lex):
    from unspin.evaluate.simulate import Profile

    any_entry = _mean_spun_zipf(lex, Profile("any", ("mythes",)))
    assert _mean_spun_zipf(lex, Profile("rare", ("mythes",), rare_bias=2.0)) < any_entry - 0.3


def test_the_common_spinners_pick_commoner_entries(lex):
    from unspin.evaluate.simulate import COMMON_PROFILES, Profile

    any_entry = _mean_spun_zipf(lex, Profile("any", ("mythes",)))
    for bias in sorted({p.rare_bias for p in COMMON_PROFILES}):
        assert _mean_spun_zipf(lex, Profile("common", ("mythes",), rare_bias=bias)) > any_entry + 0.2, bias


def test_broken_inflection_leaves_base_forms(lex):
    from unspin.evaluate.simulate import Profile

    text = "The students carried out experiments, making the models bigger and running the tests."
    broken = Profile("broken", ("mythes",), broken_inflection=1.0)
    edits = [e for seed in range(6) for e in spin(text, rate=1.0, seed=seed, thesaurus=lex.mythes, profile=broken).edits]
    inflected = [e for e in edits if e.original.lower() in ("carried", "making", "running", "students", "experiments")]
    assert inflected and all(e.spun.lower() in lex.mythes for e in inflected)  # a dictionary entry, not re-inflected
