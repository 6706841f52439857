"""Match fingerprint lists (PPS queries) against a text, with exact offsets into the input.

All the phrases of all the loaded lists go into one Aho-Corasick automaton, run once over a
normalised copy of the text (lower case; runs of spaces, line breaks and hyphens as one space;
a hyphen that breaks a word at a line end removed), so the cost grows with the text, not with
the list. Every match is mapped back through the normalisation to code-point offsets of the text
exactly as given. Queries are then evaluated only for the fingerprints whose primary phrase was
seen (`unspin.lexicon.fingerprints` defines the language).
"""

from __future__ import annotations

import bisect
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from unspin.lexicon.fingerprints import (
    And, Fingerprint, FingerprintList, Node, Not, Or, Term, all_terms, primary_terms,
)
from unspin.model import Finding

DETECTOR = "fingerprint.v1"
# A proximity match whose words are not side by side cannot be replaced as a whole: only its
# first word is reported, with less confidence than an exact phrase.
PROXIMITY_CONFIDENCE_FACTOR = 0.85
ALTERNATIVES_SHOWN = 3

# What the matcher reads as one space (whitespace, hyphens), mapped one-to-one first so that
# offsets survive; then runs of spaces collapse and a hyphen that breaks a word at a line end is
# removed. Each step is guarded or literal-led so that a plain text costs a translate and a scan.
_HYPHENS = "-\u2010\u2011\u2013"
_TO_SPACE = {ord(c): " " for c in "\t\n\r\f\v\u00a0\u2007\u202f\u2009\u200a\u3000" + _HYPHENS}
_TRANSLATE = str.maketrans({**_TO_SPACE, "\u2019": "'", "\u2018": "'", "\u02bc": "'"})
_LINE_END_HYPHEN_RE = re.compile(rf"[{_HYPHENS}\u00ad][ \t]*\r?\n\s*")  # between letters: checked in code
_SPACE_RUN_RE = re.compile("  +")
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class Normalised:
    """A lower-cased, separator-collapsed copy of a text and the way back to its offsets."""

    text: str
    anchors_norm: list[int]  # norm offset where a stretch of unchanged text starts ...
    anchors_orig: list[int]  # ... and the input offset it came from

    def to_input(self, position: int) -> int:
        k = bisect.bisect_right(self.anchors_norm, position) - 1
        return self.anchors_orig[k] + (position - self.anchors_norm[k])

    def span_to_input(self, start: int, end: int) -> tuple[int, int]:
        return self.to_input(start), self.to_input(end - 1) + 1


def normalise(text: str) -> Normalised:
    lowered = text.lower()
    if len(lowered) != len(text):  # a few characters grow when lower-cased ("İ"): keep those as they are
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    removed: list[tuple[int, int]] = []  # spans dropped: line-end hyphenation, soft hyphens
    if "\n" in lowered:
        removed.extend(m.span() for m in _LINE_END_HYPHEN_RE.finditer(lowered)
                       if m.start() > 0 and lowered[m.start() - 1].isalnum()
                       and m.end() < len(lowered) and lowered[m.end()].isalnum())
    if "\u00ad" in lowered:
        removed.extend((m.start(), m.end()) for m in re.finditer("\u00ad", lowered)
                       if not any(a <= m.start() < b for a, b in removed))
    spaced = lowered.translate(_TRANSLATE)
    edits = [(a, b, "") for a, b in removed]
    runs = [(m.start() + 1, m.end(), "") for m in _SPACE_RUN_RE.finditer(spaced)]  # a run keeps one space
    if removed:
        runs = [(a, b, r) for a, b, r in runs if not any(x < b and a - 1 < y for x, y in removed)]
    edits.extend(runs)
    if not edits:
        return Normalised(spaced, [0], [0])
    edits.sort()
    pieces: list[str] = []
    anchors_norm, anchors_orig = [0], [0]
    cursor = length = 0
    for start, end, _ in edits:
        if start < cursor:
            continue
        pieces.append(spaced[cursor:start])
        length += start - cursor
        cursor = end
        anchors_norm.append(length)
        anchors_orig.append(cursor)
    pieces.append(spaced[cursor:])
    return Normalised("".join(pieces), anchors_norm, anchors_orig)


@dataclass
class _Pattern:
    key: str  # normalised phrase, words joined by one space
    prefix: bool  # the last word may continue (`optimiz*`)


class FingerprintMatcher:
    """Every fingerprint of the given lists, compiled into one automaton."""

    def __init__(self, lists: Sequence[FingerprintList]) -> None:
        import ahocorasick

        self.lists = list(lists)
        self.fingerprints: list[Fingerprint] = [fp for lst in self.lists for fp in lst.fingerprints]
        self._patterns: dict[tuple[str, bool], int] = {}
        self._by_primary: dict[int, list[int]] = defaultdict(list)  # pattern -> fingerprints it may trigger
        for index, fingerprint in enumerate(self.fingerprints):
            for term in all_terms(fingerprint.node):
                self._pattern_id(" ".join(term.words), term.prefix)
                if term.slop is not None:  # the words of a proximity term are also found alone
                    for position, word in enumerate(term.words):
                        self._pattern_id(word, term.prefix and position == len(term.words) - 1)
            for term in primary_terms(fingerprint.node):
                first = self._trigger(term)
                if index not in self._by_primary[first]:
                    self._by_primary[first].append(index)
        self._automaton = ahocorasick.Automaton()
        self._keys_list = [None] * len(self._patterns)
        for (key, prefix), pid in self._patterns.items():
            self._keys_list[pid] = (key, prefix)
        by_key: dict[str, list[int]] = defaultdict(list)
        for (key, prefix), pid in self._patterns.items():
            by_key[key].append(pid)
        for key, pids in by_key.items():
            self._automaton.add_word(key, (len(key), tuple(pids)))
        if by_key:
            self._automaton.make_automaton()

    # -- building ------------------------------------------------------------------------------

    def _pattern_id(self, key: str, prefix: bool) -> int:
        return self._patterns.setdefault((key, prefix), len(self._patterns))

    def _trigger(self, term: Term) -> int:
        """The pattern whose presence makes it worth evaluating a fingerprint (its first word for ~N)."""
        if term.slop is not None:
            return self._pattern_id(term.words[0], term.prefix and len(term.words) == 1)
        return self._pattern_id(" ".join(term.words), term.prefix)

    # -- matching ------------------------------------------------------------------------------

    def match(self, text: str) -> list[Finding]:
        """Every fingerprint match in `text`, overlaps included, in input order."""
        if not self.fingerprints or not text:
            return []
        document = _Document(normalise(text), self)
        triggered = sorted({fp for pid in document.hits for fp in self._by_primary.get(pid, ())})
        findings: list[Finding] = []
        for index in triggered:
            fingerprint = self.fingerprints[index]
            if document.satisfies(fingerprint.node):
                findings.extend(document.findings(text, fingerprint))
        return sorted(findings, key=lambda f: (f.start, -f.end, -f.confidence))


class _Document:
    """The hits of one text, and query evaluation over them."""

    def __init__(self, norm: Normalised, matcher: FingerprintMatcher) -> None:
        self.norm = norm
        self.matcher = matcher
        self.hits: dict[int, list[tuple[int, int]]] = defaultdict(list)
        self._word_starts: list[int] | None = None
        text = norm.text
        size = len(text)
        for last, (length, pids) in matcher._automaton.iter(text):
            start, end = last - length + 1, last + 1
            if start > 0 and text[start - 1].isalnum() and text[start].isalnum():
                continue
            whole_word = end == size or not (text[end].isalnum() and text[end - 1].isalnum())
            for pid in pids:
                prefix = matcher._keys_list[pid][1]
                if prefix:
                    stop = end
                    while stop < size and text[stop].isalnum():
                        stop += 1
                    self.hits[pid].append((start, stop))
                elif whole_word:
                    self.hits[pid].append((start, end))

    # -- query evaluation --------------------------------------------------------------------

    def satisfies(self, node: Node) -> bool:
        if isinstance(node, Term):
            return bool(self.occurrences(node))
        if isinstance(node, Not):
            return not self.satisfies(node.item)
        if isinstance(node, And):
            return all(self.satisfies(item) for item in node.items)
        if isinstance(node, Or):
            return any(self.satisfies(item) for item in node.items)
        raise TypeError(node)

    def occurrences(self, term: Term) -> list[tuple[int, int, bool]]:
        """(start, end, exact) in the normalised text: exact unless a proximity window."""
        key = " ".join(term.words)
        exact = self.hits.get(self.matcher._patterns.get((key, term.prefix), -1), [])
        found = [(start, end, True) for start, end in exact]
        if term.slop is None or len(term.words) == 1:
            return found
        return found + self._windows(term, {start for start, _, _ in found})

    def _windows(self, term: Term, exact_starts: set[int]) -> list[tuple[int, int, bool]]:
        """Minimal windows holding every word of `term` within len + slop words, any order."""
        lists = []
        for position, word in enumerate(term.words):
            prefix = term.prefix and position == len(term.words) - 1
            hits = self.hits.get(self.matcher._patterns.get((word, prefix), -1), [])
            if not hits:
                return []
            lists.append(hits)
        events = sorted((self._word_index(start), start, end, which)
                        for which, hits in enumerate(lists) for start, end in hits)
        need, width = len(lists), len(term.words) - 1 + (term.slop or 0)
        windows, counts, left, covered = [], defaultdict(int), 0, 0
        for right, (index, _, _, which) in enumerate(events):
            counts[which] += 1
            covered += counts[which] == 1
            while covered == need:
                first = events[left]
                if index - first[0] <= width and first[1] not in exact_starts:
                    windows.append((first[1], events[right][2], False))
                counts[first[3]] -= 1
                covered -= counts[first[3]] == 0
                left += 1
        return windows

    def _word_index(self, position: int) -> int:
        if self._word_starts is None:
            self._word_starts = [m.start() for m in _WORD_RE.finditer(self.norm.text)]
        return bisect.bisect_right(self._word_starts, position)

    # -- findings ------------------------------------------------------------------------------

    def findings(self, text: str, fingerprint: Fingerprint) -> Iterable[Finding]:
        for term in primary_terms(fingerprint.node):
            for start, end, exact in self.occurrences(term):
                if not exact:  # only the window's first word can be replaced by the expected text
                    end = start + len(self.norm.text[start:end].split(" ", 1)[0])
                begin, finish = self.norm.span_to_input(start, end)
                observed = text[begin:finish]
                yield Finding(
                    start=begin, end=finish, text=observed,
                    suggestion=fit_case(observed, fingerprint.expected), alternatives=(),
                    confidence=fingerprint.confidence * (1.0 if exact else PROXIMITY_CONFIDENCE_FACTOR),
                    detector=DETECTOR, rule=fingerprint.rule,
                    evidence=_evidence(fingerprint, exact),
                )


def _evidence(fingerprint: Fingerprint, exact: bool) -> dict[str, object]:
    evidence: dict[str, object] = {"list": fingerprint.source, "line": fingerprint.line, "query": fingerprint.query}
    if fingerprint.expected_raw != fingerprint.expected:
        evidence["expected_text"] = fingerprint.expected_raw
    if fingerprint.papers is not None:
        evidence["papers"] = fingerprint.papers
    if not exact:
        evidence["proximity_window"] = True
    return evidence


def fit_case(observed: str, expected: str) -> str:
    """The expected wording in the case of the text it replaces, acronyms and names kept.

    The list's own capitals are kept ("Internet of Things"), except that the first letter
    follows the text ("Profound learning" -> "Deep learning", "profound" -> "deep"), and a
    title-cased or upper-cased span gets a title-cased or upper-cased suggestion.
    """
    if not expected or not observed:
        return expected
    letters = [c for c in observed if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return expected.upper()
    words = observed.split()
    first_word = expected.split(" ", 1)[0]
    acronym = sum(c.isupper() for c in first_word) > 1
    if len(words) > 1 and all(w[:1].isupper() for w in words if w[:1].isalpha()):
        return " ".join(w[:1].upper() + w[1:] if w[:1].isalpha() else w for w in expected.split(" "))
    if acronym:
        return expected
    if observed[:1].isupper():
        return expected[:1].upper() + expected[1:]
    if observed[:1].islower() and first_word[1:] == first_word[1:].lower():
        return expected[:1].lower() + expected[1:]
    return expected


def merge(list_findings: Sequence[Finding], engine_findings: Sequence[Finding]) -> list[Finding]:
    """One non-overlapping, sorted set: list matches first (curated, longest and best-supported
    first, other expected texts for the same span as alternatives), then the engine's findings
    where no list match overlaps them."""
    starts: list[int] = []  # the chosen spans, sorted; they never overlap, so ends sort the same way
    ends: list[int] = []
    chosen: list[Finding] = []

    def take(finding: Finding) -> bool:
        k = bisect.bisect_right(starts, finding.start)
        if k > 0 and ends[k - 1] > finding.start:  # the span before runs into this one
            return False
        if k < len(starts) and starts[k] < finding.end:  # the span after starts inside this one
            return False
        starts.insert(k, finding.start)
        ends.insert(k, finding.end)
        return True

    ranked = sorted(list_findings, key=lambda f: (-(f.end - f.start), -f.confidence,
                                                   -int(f.evidence.get("papers") or 0), f.start, f.rule or ""))
    alternatives: dict[tuple[int, int], list[str]] = defaultdict(list)
    for finding in ranked:
        alternatives[(finding.start, finding.end)].append(finding.suggestion)
    for finding in ranked:
        if take(finding):
            others = [s for s in dict.fromkeys(alternatives[(finding.start, finding.end)]) if s != finding.suggestion]
            if others:
                finding = _with_alternatives(finding, tuple(others[:ALTERNATIVES_SHOWN]))
            chosen.append(finding)
    chosen.extend(finding for finding in engine_findings if take(finding))
    return sorted(chosen, key=lambda f: f.start)


def _with_alternatives(finding: Finding, alternatives: tuple[str, ...]) -> Finding:
    from dataclasses import replace

    return replace(finding, alternatives=alternatives)
