"""A SpinBot-like article spinner, for labelled evaluation and training data.

Real spinners walk the text left to right and, at a fixed rate, swap a word or phrase for any
thesaurus entry of it, blind to the sense ("deep learning" -> "profound learning"), re-inflected
to the observed form. This module does the same and records every swap as an `Edit` with offsets
into both the spun text and the input, so detectors and restorers can be scored exactly.

Hold the dictionary out: the evaluation spins with `load_thesaurus(("mythes",))` while the
restorer reads Moby + WordNet. MyThes is derived from WordNet, so the two overlap; `overlap()`
measures by how much, for honest reporting.

Real spinners differ from one another, and a detector trained on one of them learns its quirks.
A `Profile` describes one: its dictionaries, whether it also swaps stock phrases and function
words ("because" -> "in light of the fact that", from the idiom table read backwards), how strongly
it prefers rare synonyms, and how often it forgets to re-inflect ("running" -> "sprint").
`PROFILES` names them all: those the detector trains on (`scripts/train_detector.py`), those it is
evaluated on, and spinners that prefer common synonyms, kept for the next retraining.

Determinism: one `random.Random(seed)`, two draws per swappable unit (swap?, which entry?) plus
one for a profile that breaks inflection, and only sorted candidate lists, so the same text, rate,
seed, thesaurus and profile give the same result.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from unspin.errors import UsageError
from unspin.lexicon.morph import analyses, can_take, head_index, inflect
from unspin.lexicon.stopwords import FUNCTION_WORDS
from unspin.lexicon.thesaurus import Thesaurus
from unspin.text.tokenize import Token, match_case, tokenize

MIN_LETTERS = 3


@dataclass(frozen=True, slots=True)
class Edit:
    """One swap: `spun` stands at text[start:end] of the spun text, `original` at [orig_start:orig_end] of the input."""

    start: int
    end: int
    spun: str
    original: str
    orig_start: int
    orig_end: int


@dataclass(frozen=True, slots=True)
class SpinResult:
    text: str
    edits: tuple[Edit, ...]


@dataclass(frozen=True, slots=True)
class Profile:
    """How one spinner behaves (see the module docstring)."""

    name: str
    sources: tuple[str, ...]  # the thesauri it draws from (`load_thesaurus` names)
    phrases: bool = False  # also rewrite stock phrases and function words, the idiom table read backwards
    rare_bias: float = 0.0  # 0: any entry alike; b: an entry weighs exp(-b * its Zipf frequency)
    broken_inflection: float = 0.0  # share of inflected swaps left in the entry's base form


# What the detector learns from, and what it is tested on. MyThes is never trained on: it is the
# held-out dictionary (it derives from WordNet, so `overlap()` says how far it is really unseen).
TRAIN_PROFILES = (
    Profile("moby", ("moby",)),
    Profile("moby-rare", ("moby",), phrases=True, rare_bias=1.0, broken_inflection=0.2),
    Profile("wordnet", ("wordnet",), phrases=True),
    Profile("wordnet-rare", ("wordnet",), rare_bias=1.0, broken_inflection=0.2),
    Profile("moby-wordnet", ("moby", "wordnet"), phrases=True, rare_bias=0.5),
)
HELD_OUT_PROFILES = (
    Profile("mythes", ("mythes",)),
    # No stock phrases here: the engine ships the idiom table they come from, so they would not be unseen.
    Profile("mythes-rare", ("mythes",), rare_bias=1.0, broken_inflection=0.2),
)
# Spinners that prefer common synonyms (rare_bias below 0). The detector trained on TRAIN_PROFILES,
# three of which prefer rare entries, finds a swap into a common word a third of the time
# (docs/evaluation.md, "What the detector reads: mostly rarity"). A short continuation with these
# did not help (same page); they are for the next retraining at scale:
# `scripts/train_detector.py --common-spinners`.
COMMON_PROFILES = (
    Profile("moby-common", ("moby",), rare_bias=-1.0),
    Profile("wordnet-common", ("wordnet",), phrases=True, rare_bias=-1.0),
    Profile("moby-wordnet-common", ("moby", "wordnet"), rare_bias=-0.5),
)
PROFILES = {p.name: p for p in TRAIN_PROFILES + COMMON_PROFILES + HELD_OUT_PROFILES}


def spin(text: str, *, rate: float, seed: int, thesaurus: Thesaurus, profile: Profile | None = None,
         phrases: Mapping[str, tuple[str, ...]] | None = None) -> SpinResult:
    """Spin `text`: each swappable word or phrase is replaced with probability `rate`.

    At each word the longest thesaurus entry starting there (up to `thesaurus.max_words` words,
    inflected forms included) is tried first, then shorter ones. Function words, words under three
    letters, words glued to digits and capitalised words inside a sentence (names, acronyms) are
    left alone. The replacement is any neighbour of any reading of the entry, re-inflected to the
    observed form and written in the observed case. A `profile` (whose `sources` the caller has
    loaded as `thesaurus`) adds phrase swaps from `phrases` (original -> spun wordings; the idiom
    table backwards by default), rare-entry bias and broken inflection.
    """
    if not 0.0 <= rate <= 1.0:
        raise UsageError(f"rate must be between 0 and 1, got {rate!r}")
    rng = random.Random(seed)
    tokens = tokenize(text)
    profile = profile or Profile("plain", thesaurus.sources)
    if profile.phrases and phrases is None:
        phrases = stock_phrases()
    phrases = phrases if profile.phrases else {}
    longest_phrase = max((len(p.split()) for p in phrases), default=0)
    pieces: list[str] = []
    edits: list[Edit] = []
    cursor = 0  # input offset copied so far
    out_len = 0  # length of the spun text built so far
    i = 0
    while i < len(tokens):
        stock = _phrase_at(text, tokens, i, phrases, longest_phrase)
        unit = None if stock else _unit_at(text, tokens, i, thesaurus)
        if stock is None and unit is None:
            i += 1
            continue
        n = stock[0] if stock else unit[0]
        i += n
        if rng.random() >= rate:
            continue
        start, end = tokens[i - n].start, tokens[i - 1].end
        surface = text[start:end]
        if stock:
            candidates = list(stock[1])
        else:
            readings = unit[1]
            if profile.broken_inflection and rng.random() < profile.broken_inflection:
                readings = tuple((lemma, "base") for lemma, _ in readings)
            candidates = _candidates(" ".join(surface.lower().split()), readings, thesaurus)
        if not candidates:
            continue
        replacement = match_case(surface, _choose(rng, candidates, profile.rare_bias))
        pieces.append(text[cursor:start])
        out_len += start - cursor
        pieces.append(replacement)
        edits.append(Edit(out_len, out_len + len(replacement), replacement, surface, start, end))
        out_len += len(replacement)
        cursor = end
    pieces.append(text[cursor:])
    return SpinResult("".join(pieces), tuple(edits))


def _choose(rng: random.Random, candidates: list[str], rare_bias: float) -> str:
    if not rare_bias:
        return rng.choice(candidates)
    weights = [math.exp(-rare_bias * _zipf(c)) for c in candidates]
    return rng.choices(candidates, weights)[0]


@lru_cache(maxsize=262144)
def _zipf(term: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(term, "en")


@lru_cache(maxsize=1)
def stock_phrases() -> dict[str, tuple[str, ...]]:
    """Original wording -> the stock phrases spinners write for it: the idiom table backwards, plus
    function words and short connectives that spinners rewrite ("now" -> "presently")."""
    from unspin.lexicon.idioms import FUNCTION_REWRITES, load_idioms

    backwards: dict[str, set[str]] = {}
    for spun, originals in load_idioms().entries.items():
        for original in originals:
            backwards.setdefault(original.lower(), set()).add(spun)
    for original, spun in FUNCTION_REWRITES.items():
        backwards.setdefault(original, set()).update(spun)
    return {original: tuple(sorted(spun)) for original, spun in sorted(backwards.items())}


def _phrase_at(text: str, tokens: list[Token], i: int, phrases: Mapping[str, tuple[str, ...]],
               longest: int) -> tuple[int, tuple[str, ...]] | None:
    """The longest stock phrase starting at word i: (number of words, what a spinner writes for it)."""
    for n in range(min(longest, len(tokens) - i), 0, -1):
        window = tokens[i:i + n]
        if any(text[a.end:b.start] != " " for a, b in zip(window, window[1:])):
            continue
        if window[0].text[:1].isupper() and not window[0].sentence_start:
            continue
        phrase = " ".join(t.lower for t in window)
        spun = tuple(s for s in phrases.get(phrase, ()) if s != phrase)
        if spun:
            return n, spun
    return None


def _eligible_word(text: str, token: Token, alone: bool) -> bool:
    """May this word be (part of) a swapped unit?"""
    word = token.text
    if any(c.isupper() for c in word[1:]):
        return False  # acronyms, camelCase product names
    if word[0].isupper() and not token.sentence_start:
        return False  # a name
    before = text[token.start - 1] if token.start else ""
    after = text[token.end] if token.end < len(text) else ""
    if before.isdigit() or after.isdigit():
        return False  # part of a number or code ("3D", "COVID19")
    if alone:
        return word.lower() not in FUNCTION_WORDS and sum(c.isalpha() for c in word) >= MIN_LETTERS
    return True


def _unit_at(text: str, tokens: list[Token], i: int, thesaurus: Thesaurus
             ) -> tuple[int, tuple[tuple[str, str], ...]] | None:
    """The longest swappable unit starting at word i: (number of words, its thesaurus readings)."""
    longest = min(thesaurus.max_words, len(tokens) - i)
    for n in range(longest, 0, -1):
        window = tokens[i:i + n]
        if n > 1 and any(text[a.end:b.start] != " " for a, b in zip(window, window[1:])):
            continue
        if not all(_eligible_word(text, t, alone=(n == 1)) for t in window):
            continue
        if n > 1 and all(t.lower in FUNCTION_WORDS for t in window):
            continue
        readings = _readings(" ".join(t.lower for t in window), thesaurus)
        if readings:
            return n, readings
    return None


def _readings(phrase: str, thesaurus: Thesaurus) -> tuple[tuple[str, str], ...]:
    """(lemma, form) readings of a phrase whose lemma the thesaurus holds; the phrase itself first."""
    readings: list[tuple[str, str]] = []
    if phrase in thesaurus:
        readings.append((phrase, "base"))
    for lemma, form in analyses(phrase):
        if lemma in thesaurus and (lemma, form) not in readings and not (lemma == phrase and form == "base"):
            readings.append((lemma, form))
    return tuple(readings)


def _acceptable(candidate: str) -> bool:
    """Only letters, spaces, hyphens and apostrophes, starting and ending with a letter."""
    return (candidate[:1].isalpha() and candidate[-1:].isalpha()
            and all(c.isalpha() or c in " -'" for c in candidate))


def _contains(longer: str, shorter: str) -> bool:
    """Whether the words of `shorter` occur as a run inside the words of `longer`."""
    big, small = longer.split(" "), shorter.split(" ")
    return any(big[k:k + len(small)] == small for k in range(len(big) - len(small) + 1))


def _candidates(phrase: str, readings: tuple[tuple[str, str], ...], thesaurus: Thesaurus) -> list[str]:
    """Every replacement for `phrase`, sorted: neighbours of each reading's lemma, in its form."""
    found: set[str] = set()
    for lemma, form in readings:
        for neighbour in sorted(thesaurus.neighbours(lemma)):
            if not _acceptable(neighbour) or thesaurus.is_proper(neighbour) or not can_take(neighbour, form):
                continue  # odd characters, names, or a word that cannot take the observed form
            candidate = neighbour if form == "base" else _inflect(neighbour, form)
            if not _acceptable(candidate) or candidate == phrase:
                continue
            if any(_contains(a, b) or _contains(b, a) for a in (candidate, neighbour) for b in (phrase, lemma)):
                continue  # never a term by one containing it ("learning" -> "deep learning") or within it
            found.add(candidate)
    return sorted(found)


@lru_cache(maxsize=131072)
def _inflect(lemma: str, form: str) -> str:
    return inflect(lemma, form)


def _lemmas(term: str) -> set[str]:
    """The term, its WordNet readings and, for phrases, every de-inflection of the first or the
    head word even where WordNet lacks the phrase ("men of science" -> "man of science")."""
    term = " ".join(term.lower().split())
    found = {term} | {lemma for lemma, _ in analyses(term)}
    words = term.split(" ")
    if len(words) > 1:
        if words[0] in ("more", "most"):
            found.add(" ".join(words[1:]))  # "more intense" is the comparative of "intense"
        for at in {0, _noun_head(words)}:
            for lemma, _ in analyses(words[at]):
                found.add(" ".join(words[:at] + [lemma] + words[at + 1:]))
    return found


def _noun_head(words: list[str]) -> int:
    return head_index(words, "noun")


def overlap(edits: tuple[Edit, ...] | list[Edit], thesaurus: Thesaurus) -> float:
    """The fraction of edits whose (original lemma, spun lemma) pair `thesaurus` links (0.0 for none).

    Run it with the restorer's thesaurus on edits made with the held-out one: the result is the
    share of swaps the restorer could undo from its own dictionary at all.
    """
    if not edits:
        return 0.0
    linked = 0
    for edit in edits:
        spun = _lemmas(edit.spun)
        if any(spun & thesaurus.neighbours(lemma).keys() for lemma in _lemmas(edit.original)):
            linked += 1
    return linked / len(edits)


__all__ = ["Edit", "SpinResult", "Profile", "PROFILES", "TRAIN_PROFILES", "HELD_OUT_PROFILES", "spin", "overlap",
           "stock_phrases"]
