"""Inflection both ways: analyses() finds (lemma, form) readings, inflect() spells a lemma in a form."""

from __future__ import annotations

import pytest

from unspin.errors import UsageError
from unspin.lexicon.morph import FORMS, analyses, can_take, inflect


@pytest.mark.parametrize(("word", "expected"), [
    ("networks", [("network", "plural"), ("network", "3sg")]),
    ("went", [("go", "past")]),
    ("gone", [("go", "past_participle")]),
    ("children", [("child", "plural")]),
    ("stopped", [("stop", "past"), ("stop", "past_participle")]),
    ("added", [("add", "past"), ("add", "past_participle")]),
    ("carried", [("carry", "past"), ("carry", "past_participle")]),
    ("carries", [("carry", "3sg")]),
    ("making", [("make", "gerund")]),
    ("running", [("run", "gerund")]),
    ("boxes", [("box", "plural"), ("box", "3sg")]),
    ("churches", [("church", "plural")]),
    ("bigger", [("big", "comparative")]),
    ("happiest", [("happy", "superlative")]),
    ("better", [("good", "comparative"), ("well", "comparative")]),
    ("saw", [("saw", "base"), ("see", "past")]),
    ("lay", [("lay", "base"), ("lie", "past")]),
    ("is", [("be", "3sg")]),
    ("neural networks", [("neural network", "plural")]),
    ("carried out", [("carry out", "past"), ("carry out", "past_participle")]),
    ("Networks", [("network", "plural")]),
    ("network", [("network", "base")]),
])
def test_analyses_contains(word, expected):
    found = analyses(word)
    for item in expected:
        assert item in found, (word, item, found)
    assert all(form in FORMS for _, form in found)


def test_analyses_exact_and_empty():
    assert analyses("networks") == [("network", "plural"), ("network", "3sg")]
    assert analyses("went") == [("go", "past")]
    assert analyses("") == [] and analyses("xqzv") == []
    assert ("is", "plural") not in analyses("is")  # noun.exc's "is is" line is ignored


@pytest.mark.parametrize(("lemma", "form", "expected"), [
    # regular spelling rules
    ("network", "plural", "networks"), ("box", "plural", "boxes"), ("church", "plural", "churches"),
    ("dish", "plural", "dishes"), ("city", "plural", "cities"), ("day", "plural", "days"),
    ("quiz", "plural", "quizzes"), ("carry", "3sg", "carries"), ("fix", "3sg", "fixes"),
    ("go", "3sg", "goes"), ("echo", "3sg", "echoes"), ("play", "3sg", "plays"),
    ("stop", "past", "stopped"), ("carry", "past", "carried"), ("play", "past", "played"),
    ("hope", "past", "hoped"), ("agree", "past", "agreed"), ("visit", "past", "visited"),
    ("open", "past_participle", "opened"), ("panic", "past", "panicked"), ("prefer", "past", "preferred"),
    ("make", "gerund", "making"), ("run", "gerund", "running"), ("die", "gerund", "dying"),
    ("see", "gerund", "seeing"), ("open", "gerund", "opening"), ("be", "gerund", "being"),
    ("big", "comparative", "bigger"), ("large", "comparative", "larger"), ("happy", "superlative", "happiest"),
    ("simple", "comparative", "simpler"), ("quiet", "comparative", "quieter"),
    ("beautiful", "comparative", "more beautiful"), ("important", "superlative", "most important"),
    # irregular forms
    ("go", "past", "went"), ("go", "past_participle", "gone"), ("begin", "past", "began"),
    ("begin", "past_participle", "begun"), ("have", "past", "had"), ("be", "3sg", "is"),
    ("have", "3sg", "has"), ("see", "past", "saw"), ("write", "past_participle", "written"),
    ("child", "plural", "children"), ("mouse", "plural", "mice"), ("man", "plural", "men"),
    ("criterion", "plural", "criteria"), ("analysis", "plural", "analyses"),
    ("brother", "plural", "brothers"),  # brethren exists, brothers is far more common
    ("good", "comparative", "better"), ("bad", "superlative", "worst"),
    # multiword: nouns inflect the last word, verbs the first
    ("neural network", "plural", "neural networks"), ("carry out", "past", "carried out"),
    ("look into", "gerund", "looking into"), ("give up", "past_participle", "given up"),
    ("network", "base", "network"),
])
def test_inflect(lemma, form, expected):
    assert inflect(lemma, form) == expected


def test_round_trip_on_regular_verbs():
    for lemma in ("walk", "train", "study", "stop", "hope", "report", "carry", "fix"):
        for form in ("3sg", "past", "past_participle", "gerund"):
            assert (lemma, form) in analyses(inflect(lemma, form)), (lemma, form)


def test_can_take_and_bad_forms():
    assert can_take("train", "past") and not can_take("rattler", "past")
    assert can_take("safety net", "plural") and not can_take("safety net", "3sg")
    assert can_take("carry out", "gerund") and not can_take("reference grid", "3sg")
    assert can_take("anything at all", "base")
    assert can_take("big", "comparative") and not can_take("network", "comparative")
    with pytest.raises(UsageError):
        inflect("network", "dual")


def test_phrases_inflect_on_their_head():
    assert inflect("man of science", "plural") == "men of science"
    assert inflect("jack of all trades", "plural") == "jacks of all trades"
    assert ("man of letters", "plural") in analyses("men of letters")
    assert ("get over", "past") in analyses("got over")
    assert ("make up one's mind", "past") in analyses("made up one's mind")
    assert inflect("make up one's mind", "past") == "made up one's mind"
    assert not can_take("be due", "plural") and can_take("police cruiser", "plural")
