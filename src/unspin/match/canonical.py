"""Spin-robust word units: what a text says, with the spinner's freedom taken out.

A spinner keeps the grammatical skeleton and swaps content words and short phrases for
thesaurus entries, re-inflected ("deep networks" -> "profound meshes", "committee" ->
"administrative unit"). Source finding must compare texts on what survives that, so each text
becomes a sequence of `Unit`s:

- function words (`unspin.lexicon.stopwords.FUNCTION_WORDS`) are dropped: they are the same in
  both texts whatever the rate, so they only dilute the comparison;
- a run of up to `MAX_WORDS` words that the thesaurus holds as one term ("administrative
  unit", "money dealer") is one unit, as the spinner swapped it as one; the longest run wins;
- every unit is lemmatised (`unspin.lexicon.morph`: "meshes" -> "mesh"), because the spinner
  re-inflects its replacement to the original's form, which a lemma makes irrelevant;
- numbers stay (a spinner never touches them, so they are among the surest evidence).

With `function_words=True` the function words are kept too (`content=False`): the index builds
the function-word *skeleton* of a text from them, the part a spinner never changes.

Synonyms are handled in two ways, each measured on the simulator's swaps (MyThes, 40 %, 1,559
swaps in 150 Brown dev paragraphs; see benchmarks/bench_match.py for the document-level figures):

- `neighbours(unit)`: the terms Moby + WordNet link to any reading of the unit. 51 % of the
  swaps link the spun term to the original directly; the rerank counts such a pair as a partial
  match (`meaning.similarity`).
- `class_keys(term, k)`: the min-hash of the term's *closed thesaurus neighbourhood* (the term
  and all its neighbours) under `k` seeded hash functions. Two terms share a key with
  probability equal to the Jaccard similarity of their neighbourhoods; symmetric, and needing no
  choice of a representative word. With k = 2, 13 % of the swapped pairs share a key, and 1 %
  of random word pairs do. As MinHash shingles they raised the similarity of unrelated
  documents about sevenfold for little gain on the spun ones, so the index leaves them out by
  default (`IndexParams.class_keys = 0`); they remain an option.

Mapping each term to one representative of its synonym class (the most frequent word among the
term and its neighbours) was tried first and rejected: Moby's neighbourhoods are so wide that
"deep" maps to "into" and "profound" to "out-and-out", so the pair does not collapse.

The spinner of the evaluation uses MyThes, which this module never reads (Moby + WordNet only).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

import numpy as np

from unspin.lexicon.stopwords import FUNCTION_WORDS
from unspin.lexicon.thesaurus import DEFAULT_SOURCES, Thesaurus

# Bump when anything that changes the units of a text changes: indexes record it.
CANONICAL_VERSION = "canonical.v1"
MAX_WORDS = 4
# Words: letters or digits, with inner apostrophes or hyphens ("don't", "3-D", "state-of-the-art").
WORD_RE = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_MIN_LETTERS = 2
_CACHE_LIMIT = 2_000_000  # entries per cache before it is emptied


@dataclass(frozen=True, slots=True)
class Unit:
    """One unit of a text (a content word or phrase, or when asked a function word): `term` is its
    canonical form, `text[start:end]` its surface."""

    term: str
    start: int
    end: int
    surface: str  # lower case, single spaces
    content: bool = True  # False for a function word (kept only when asked for)


def stable_hash(value: str) -> int:
    """A 64-bit hash of a string that is the same in every process (unlike `hash`)."""
    return int.from_bytes(hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest(), "little")


class Canonicaliser:
    """Turns texts into `Unit`s and gives each term its synonym-class keys and neighbours.

    Built once per thesaurus (`get_canonicaliser`); every per-word result is cached, so the cost
    of a corpus grows with its vocabulary, not its length.
    """

    def __init__(self, thesaurus: Thesaurus, *, phrases: bool = True) -> None:
        self.thesaurus = thesaurus
        self.phrases = phrases
        self._term: dict[str, str] = {}
        self._phrase: dict[str, str] = {}  # "" where the words are no thesaurus term
        self._neighbours: dict[str, frozenset[str]] = {}
        self._keys: dict[tuple[str, int], tuple[str, ...]] = {}
        self._key_table: dict[int, np.ndarray] = {}
        self._neighbour_hashes: dict[str, np.ndarray] = {}
        self._vocab_hashes: np.ndarray | None = None
        # First words of the multiword thesaurus terms: a cheap test before trying a phrase.
        self._phrase_starts = frozenset(t.split(" ", 1)[0] for t in thesaurus.vocab if " " in t)

    # -- units ---------------------------------------------------------------------------------

    def units(self, text: str, function_words: bool = False) -> list[Unit]:
        """The content units of `text`, in order, with offsets into `text`; with
        `function_words`, the function words too (as themselves, `content=False`)."""
        words = [(m.start(), m.end(), m.group().lower()) for m in WORD_RE.finditer(text)]
        units: list[Unit] = []
        i = 0
        while i < len(words):
            start, end, word = words[i]
            if self.phrases and word in self._phrase_starts:
                found = self._phrase_at(text, words, i)
                if found is not None:
                    n, term = found
                    last = words[i + n - 1][1]
                    units.append(Unit(term, start, last, " ".join(w for _, _, w in words[i:i + n])))
                    i += n
                    continue
            i += 1
            if word in FUNCTION_WORDS:
                if function_words:
                    units.append(Unit(word, start, end, word, False))
                continue
            if word.isdigit() or any(c.isdigit() for c in word):
                units.append(Unit(word, start, end, word))
                continue
            if sum(c.isalpha() for c in word) < _MIN_LETTERS:
                continue
            units.append(Unit(self.term(word), start, end, word))
        return units

    def _phrase_at(self, text: str, words: list[tuple[int, int, str]], i: int) -> tuple[int, str] | None:
        """The longest thesaurus term of 2..MAX_WORDS words starting at word i, as (words, term)."""
        longest = min(MAX_WORDS, len(words) - i)
        for n in range(longest, 1, -1):
            window = words[i:i + n]
            if any(text[a[1]:b[0]] != " " for a, b in pairwise(window)):
                continue  # only words separated by one space: never across punctuation
            ws = [w for _, _, w in window]
            if all(w in FUNCTION_WORDS for w in ws):
                continue
            term = self._phrase_term(ws)
            if term is not None:
                return n, term
        return None

    def _phrase_term(self, ws: list[str]) -> str | None:
        phrase = " ".join(ws)
        cached = self._phrase.get(phrase)
        if cached is not None:
            return cached or None
        found = ""
        vocab = self.thesaurus
        if phrase in vocab:
            found = phrase
        else:
            # Inflected phrases: the first word (verbs: "taking off") or the last (nouns: "money dealers").
            for at in (len(ws) - 1, 0):
                for lemma in _lemmas_of(ws[at]):
                    candidate = " ".join(ws[:at] + [lemma] + ws[at + 1:])
                    if candidate in vocab:
                        found = candidate
                        break
                if found:
                    break
        if len(self._phrase) > _CACHE_LIMIT:
            self._phrase.clear()  # bounded memory on huge corpora; the entries are cheap to redo
        self._phrase[phrase] = found
        return found or None

    def term(self, word: str) -> str:
        """The canonical form of one lower-case word: its first WordNet lemma, else itself."""
        cached = self._term.get(word)
        if cached:
            return cached
        lemmas = _lemmas_of(word)
        term = lemmas[0] if lemmas else word
        if len(self._term) > _CACHE_LIMIT:
            self._term.clear()
        self._term[word] = term
        return term

    def terms(self, text: str) -> list[str]:
        return [unit.term for unit in self.units(text)]

    # -- synonym classes -----------------------------------------------------------------------

    def neighbours(self, unit: Unit | str) -> frozenset[str]:
        """Terms the thesaurus links to any reading of the unit (its surface and its lemmas)."""
        surface, term = (unit.surface, unit.term) if isinstance(unit, Unit) else (unit, unit)
        key = surface if surface == term else f"{surface}\0{term}"
        cached = self._neighbours.get(key)
        if cached is not None:
            return cached
        readings = {surface, term, *_lemmas_of(surface)}
        found: set[str] = set()
        for reading in readings:
            found.update(self.thesaurus.neighbours(reading))
        found.discard(term)
        result = frozenset(found)
        self._neighbours[key] = result
        return result

    def neighbour_hashes(self, unit: Unit) -> np.ndarray:
        """`neighbours(unit)` as sorted unique `stable_hash` values (vectorised, cached)."""
        key = f"{unit.surface}\0{unit.term}"
        cached = self._neighbour_hashes.get(key)
        if cached is not None:
            return cached
        th = self.thesaurus
        rows = []
        for reading in {unit.surface, unit.term, *_lemmas_of(unit.surface)}:
            i = th._ids.get(reading)
            if i is not None:
                rows.append(th.indices[int(th.indptr[i]):int(th.indptr[i + 1])])
        if rows:
            hashes = np.unique(self.vocab_hashes()[np.concatenate(rows)])
            own = np.uint64(stable_hash(unit.term))
            hashes = hashes[hashes != own]
        else:
            hashes = np.empty(0, dtype=np.uint64)
        if len(self._neighbour_hashes) > 500_000:
            self._neighbour_hashes.clear()
        self._neighbour_hashes[key] = hashes
        return hashes

    def vocab_hashes(self) -> np.ndarray:
        """`stable_hash` of every thesaurus term, by vocabulary id (computed once, ~0.3 s)."""
        if self._vocab_hashes is None:
            vocab = self.thesaurus.vocab
            self._vocab_hashes = np.fromiter((stable_hash(t) for t in vocab), dtype=np.uint64, count=len(vocab))
        return self._vocab_hashes

    def class_keys(self, term: str, k: int) -> tuple[str, ...]:
        """`k` synonym-class keys of a term: the min-hash of its closed thesaurus neighbourhood
        under `k` seeded hashes. Terms the thesaurus does not hold get none."""
        if k <= 0:
            return ()
        cached = self._keys.get((term, k))
        if cached is not None:
            return cached
        i = self.thesaurus._ids.get(term)
        keys: tuple[str, ...] = ()
        if i is not None:
            table = self._class_table(k)
            keys = tuple(self.thesaurus.vocab[j] for j in table[:, i].tolist())
        self._keys[(term, k)] = keys
        return keys

    def _class_table(self, k: int) -> np.ndarray:
        """(k, terms): for each hash function, the vocabulary id minimising it over each closed
        neighbourhood. Computed once for the whole thesaurus (vectorised over the CSR rows)."""
        table = self._key_table.get(k)
        if table is not None:
            return table
        th = self.thesaurus
        n = len(th.vocab)
        base = self.vocab_hashes()
        table = np.empty((k, n), dtype=np.int64)
        for j in range(k):
            ranks = _mix(base ^ np.uint64(_SEEDS[j]))
            # Closed neighbourhood: the neighbours' ranks, then the term's own rank.
            best = ranks.copy()
            if th.indices.size:
                nonempty = np.diff(th.indptr) > 0
                # reduceat over the starts of the non-empty rows: each segment is exactly one row.
                row_min = np.minimum.reduceat(ranks[th.indices], th.indptr[:-1][nonempty])
                best[nonempty] = np.minimum(best[nonempty], row_min)
            order = np.argsort(ranks)
            position = np.searchsorted(ranks[order], best)
            table[j] = order[position]
        self._key_table[k] = table
        return table


# Fixed seeds of the class-key hash functions (part of CANONICAL_VERSION).
_SEEDS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
          0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x2545F4914F6CDD1D, 0x94D049BB133111EB)
MAX_CLASS_KEYS = len(_SEEDS)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser over a uint64 array (wrapping arithmetic)."""
    x = x.copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


@lru_cache(maxsize=262144)
def _lemmas_of(word: str) -> tuple[str, ...]:
    """The lemmas of a word's WordNet readings, in morph's order (the word itself first if it is one)."""
    from unspin.lexicon.morph import analyses

    seen: list[str] = []
    for lemma, _ in analyses(word):
        if lemma not in seen:
            seen.append(lemma)
    return tuple(seen)


@lru_cache(maxsize=4)
def get_canonicaliser(sources: tuple[str, ...] = DEFAULT_SOURCES, phrases: bool = True) -> Canonicaliser:
    """One `Canonicaliser` per thesaurus and setting, per process."""
    from unspin.lexicon.thesaurus import load_thesaurus

    if "mythes" in sources:
        # Not an error for a library user, but the evaluation spinner's dictionary must stay out.
        import logging

        logging.getLogger(__name__).warning("source finding with MyThes: evaluation figures would be optimistic")
    return Canonicaliser(load_thesaurus(sources), phrases=phrases)


__all__ = ["CANONICAL_VERSION", "MAX_CLASS_KEYS", "Canonicaliser", "Unit", "get_canonicaliser", "stable_hash"]
