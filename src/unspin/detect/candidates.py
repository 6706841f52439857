"""Candidates: the originals a spinner could have turned an observed word or phrase into.

A spinner replaces an original term by one of its thesaurus neighbours, so the originals of an
observed term are its neighbours in the (symmetric) thesauri, re-inflected to the observed form,
plus the entries of the spinner-idiom table. Originals are what people actually write, so the
list is pruned to the most frequent candidates.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from wordfreq import get_frequency_dict

from unspin.lexicon import FUNCTION_WORDS, analyses, inflect, load_thesaurus
from unspin.lexicon.idioms import function_originals, load_idioms

IDIOM_SOURCE = 1 << 7  # bit in Candidate.sources for the idiom table (thesauri use the low bits)
LM_SOURCE = 1 << 6  # ... and for a causal LM's own proposal (full mode)
THESAURUS_SOURCES = LM_SOURCE - 1  # the bits below: one per thesaurus
PLAIN_TERM_RE = re.compile(r"[a-z][a-z' -]*[a-z]")
HYPHEN_OR_SPACE_RE = re.compile(r"[ -]+")
AGREEMENT_BONUS = 1.0  # nats per extra thesaurus that lists the swap: a true synonym, not an association
LENGTH_PENALTY = 1.5  # nats per word of difference: spinners mostly swap word for word
# Memoised terms and lemmas, sized by memory: an entry holds up to `max_candidates` candidates
# (about 50 KB a term and 30 KB a lemma at the learned engine's 300). At 1 << 17 terms and 1 << 13
# lemmas the caches grew with every new word a long text flagged, and full mode's peak on 1 MB of
# text reached 1.96 GB (1.87 GB with these sizes, and no slower: benchmarks/README.md). Terms recur
# mostly within their own document, which these sizes hold.
TERM_CACHE = 1 << 10
LEMMA_CACHE = 1 << 10
_NOTHING: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Candidate:
    original: str  # lower-case, inflected like the observed term
    sources: int  # bitmask: which thesauri (or the idiom table) link it to the observed term
    degree: int  # neighbours of the original: a spinner picks one of them (the channel)
    zipf: float
    fit: float = 0.0  # ln-odds adjustment of the channel for this particular swap (see _fit)

    @property
    def channel(self) -> float:
        """ln P(observed | original): the spinner picked the observed term among `degree` synonyms."""
        return -math.log(self.degree) + self.fit

    @property
    def prior(self) -> float:
        """ln P(original) + ln P(observed | original), up to a constant: for pruning, before context."""
        return self.zipf * math.log(10) + self.channel


@lru_cache(maxsize=1)
def _frequencies() -> dict[str, float]:
    return get_frequency_dict("en", "large")


@lru_cache(maxsize=1 << 18)
def zipf(term: str) -> float:
    """wordfreq's Zipf frequency, from its table directly: its own function tokenises every call.

    A phrase combines its words as wordfreq does (1/f = sum of 1/f_i), rounded the same way.
    """
    frequencies = _frequencies()
    inverse = 0.0
    for word in HYPHEN_OR_SPACE_RE.split(term.lower()):
        if word:
            f = frequencies.get(word, 0.0)
            if f <= 0.0:
                return 0.0
            inverse += 1.0 / f
    return round(math.log10(1.0 / inverse) + 9.0, 2) if inverse else 0.0


class CandidateGenerator:
    """Per-term candidate lists, cached: the same words recur across a corpus."""

    def __init__(self, sources: tuple[str, ...] = ("moby", "wordnet"), *, max_candidates: int = 96,
                 min_zipf: float = 2.5, function_rewrites: bool = False) -> None:
        self.thesaurus = load_thesaurus(sources)
        self.idioms = load_idioms()
        # Spinners' rewrites of function words read backwards ("in light of the fact that" ->
        # "because"): candidates only, for a span something else flagged.
        self.function_originals = function_originals() if function_rewrites else {}
        self.max_candidates = max_candidates
        self.min_zipf = min_zipf
        self.for_term = lru_cache(maxsize=TERM_CACHE)(self._for_term)
        # Lemmas and their neighbours recur across words ("run", "runs", "running"): the ranking
        # (`_rank_entries`) is memoised per lemma, and each vocabulary term's prior is computed
        # once (NaN: not yet). The memo is kept small (up to `max_candidates` a lemma): `for_term`'s
        # own cache holds the results.
        self._ranked_entries = lru_cache(maxsize=LEMMA_CACHE)(self._rank_entries)
        self._priors = np.full(len(self.thesaurus), np.nan)
        self._zipfs = np.full(len(self.thesaurus), np.nan)
        self._following: dict[str, frozenset[str]] | None = None  # built when first asked (entries_spelled)

    @property
    def max_words(self) -> int:
        # Thesaurus phrases are indexed up to 4 words; idioms may be longer ("in spite of the fact that").
        return max(min(4, self.thesaurus.max_words), self.idioms.max_words)

    def is_candidate_position(self, word: str) -> bool:
        return len(word) >= 3 and word not in FUNCTION_WORDS

    def _for_term(self, term: str) -> tuple[Candidate, ...]:
        """Originals for a lower-case word or phrase, most probable first (before context)."""
        found: dict[str, Candidate] = {}
        for original in self.idioms.originals(term):
            original = original.lower()
            found[original] = Candidate(original, IDIOM_SOURCE, self._degree(original), zipf(original),
                                        _fit(term, original, IDIOM_SOURCE))
        for original in self.function_originals.get(term, ()):
            found.setdefault(original, Candidate(original, IDIOM_SOURCE, self._degree(original), zipf(original),
                                                 _fit(term, original, IDIOM_SOURCE)))
        for lemma, form in _analyses(term):
            for entry in self._ranked_entries(lemma):
                original = entry.original if form == "base" else inflect(entry.original, form)
                if not self._plausible(term, original):
                    continue
                known = found.get(original)
                sources = entry.sources | (known.sources if known else 0)
                found[original] = Candidate(original, sources, entry.degree, zipf(original),
                                            _fit(term, original, sources))
        kept = [c for c in found.values() if c.zipf >= self.min_zipf or c.sources & IDIOM_SOURCE]
        kept.sort(key=lambda c: (-(c.sources & IDIOM_SOURCE), -c.prior, c.original))
        return tuple(kept[: self.max_candidates])

    def _rank_entries(self, lemma: str) -> tuple[Candidate, ...]:
        """The lemma's `max_candidates` most probable thesaurus entries (lemmas, before
        context), by prior, ties by term. Only these are inflected: inflecting all of a Moby
        entry's hundreds of neighbours was most of the cost of a new word."""
        vocab, degrees = self.thesaurus.vocab, self.thesaurus.degrees
        ids, masks = self.thesaurus.neighbour_ids(lemma)
        priors = self._priors[ids]
        for k in np.flatnonzero(np.isnan(priors)).tolist():
            j = int(ids[k])
            entry = Candidate(vocab[j], 0, max(1, degrees[j]), zipf(vocab[j]))
            # Candidate.prior itself, so that the order is the same float for float.
            priors[k] = self._priors[j] = entry.prior
            self._zipfs[j] = entry.zipf
        # Ids ascend in sorted-term order, so the secondary key breaks ties by term.
        best = np.lexsort((ids, -priors))[: self.max_candidates]
        ids = ids[best]
        return tuple(Candidate(vocab[j], m, max(1, degrees[j]), z)
                     for j, m, z in zip(ids.tolist(), masks[best].tolist(), self._zipfs[ids].tolist()))

    def _plausible(self, term: str, original: str) -> bool:
        if original == term or not PLAIN_TERM_RE.fullmatch(original):
            return False
        # "learning" is no original of "deep learning", nor the reverse: not a substitution.
        return f" {term} " not in f" {original} " and f" {original} " not in f" {term} "

    def _degree(self, original: str) -> int:
        return max(1, self.thesaurus.degree(original))

    def entries_spelled(self, words: list[str]) -> list[tuple[str, float, int]]:
        """Multi-word dictionary entries that the written words spell when each is kept or read
        back through its own candidates ("bosom growth" -> "breast cancer"): wording, summed
        channel, sources. Grown word by word through the entries' prefixes, so that a pair of
        words with 300 candidates each costs set intersections, not 90,000 lookups."""
        following = self._following_words()
        partial: list[tuple[str, float, int]] = [("", 0.0, 0)]  # the wording so far, channel, sources
        for word in words:
            options = {word: (0.0, 0)}
            for c in self.for_term(word):
                options.setdefault(c.original, (c.channel, c.sources))
            by_head: dict[str, list[str]] = {}
            for option in options:
                by_head.setdefault(option.split(" ", 1)[0], []).append(option)
            heads = frozenset(by_head)
            grown = []
            for wording, channel, sources in partial:
                for head in following.get(wording, _NOTHING) & heads:
                    for option in by_head[head]:
                        spelled = f"{wording} {option}".lstrip()
                        # A phrase option ("in light of") must itself stay on some entry's path.
                        if option == head or spelled in following or spelled in self.thesaurus:
                            option_channel, option_sources = options[option]
                            grown.append((spelled, channel + option_channel, sources | option_sources))
            partial = grown
        # One reading per entry, its likeliest spelling, in a fixed order (sets iterate by hash).
        best: dict[str, tuple[float, int]] = {}
        for wording, channel, sources in partial:
            if wording in best and (-best[wording][0], best[wording][1]) <= (-channel, sources):
                continue
            best[wording] = (channel, sources)
        written = " ".join(words)
        return [(wording, channel, sources) for wording, (channel, sources) in sorted(best.items())
                if wording != written and " " in wording and wording in self.thesaurus]

    def _following_words(self) -> dict[str, frozenset[str]]:
        """For each word prefix of a multi-word entry ("" for none yet), the words that follow it."""
        if self._following is None:
            following: dict[str, set[str]] = {}
            for term in self.thesaurus.vocab:
                parts = term.split()
                for k in range(len(parts) if len(parts) > 1 else 0):
                    following.setdefault(" ".join(parts[:k]), set()).add(parts[k])
            self._following = {prefix: frozenset(words) for prefix, words in following.items()}
        return self._following


def _fit(term: str, original: str, sources: int) -> float:
    agreeing = bin(sources & THESAURUS_SOURCES).count("1")
    length_gap = abs(len(original.split()) - len(term.split()))
    return AGREEMENT_BONUS * (agreeing - 1 if agreeing > 1 else 0) - LENGTH_PENALTY * length_gap


def _analyses(term: str) -> list[tuple[str, str]]:
    found = analyses(term)
    if " " in term and (term, "base") not in found:
        # A phrase is looked up as written too (Moby lists phrases WordNet does not), and through
        # its head word's lemma ("respiratory organs" -> "respiratory organ", plural -> "lungs").
        found.insert(0, (term, "base"))
    return found if found else [(term, "base")]
