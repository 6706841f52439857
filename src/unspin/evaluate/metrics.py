"""Scoring predicted findings against gold spun spans: detection, restoration, false flags.

For one text we have gold edits (`start`, `end` into the *spun* text, and the `original` wording
they replaced) and predicted findings (`unspin.model.Finding`: `start`, `end`, `suggestion`).

Matching. Every (prediction, gold) pair whose spans overlap by at least one character is a
candidate; candidates are taken greedily by overlap length (longest first; ties by position), and
each prediction and each gold span is used at most once. A matched prediction is a true positive;
any other prediction is a false flag, including a second prediction over an already matched gold
span. precision = true positives / predictions; recall = matched gold spans / gold spans.

Restoration. A matched pair is *restored* when applying the prediction gives back the original
wording over the region both spans touch. The region starts as the union of the two spans and
grows to cover every gold span it overlaps (repeated until stable), so a prediction that runs into
a neighbouring spun span is judged against the original there as well. Inside the region:

- the reference is the spun text with every gold span in the region replaced by its original;
- the candidate is the spun text with only this prediction replaced by its suggestion.

Restored iff the two are equal ignoring case and runs of whitespace. Consequences, on purpose:
a prediction covering only part of a multi-word spun span is restored only if the spun words it
left alone happen to equal the original ones; a prediction wider than the gold span must give the
untouched words back unchanged; a correct detection with a wrong suggestion counts for recall but
not for restoration. Restoration is reported over all gold spans (end-to-end) and over the
detected ones (how good the suggestions are when the span is found).

False flags per 1,000 words: predictions that match no gold span, per 1,000 words of the texts
scored (words as `unspin.text.tokenize.tokenize` counts them). On clean texts every prediction is
a false flag. All figures are micro-averaged: counts add up over texts, ratios are taken last.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Protocol

from ..model import Finding
from ..text.tokenize import tokenize


class GoldSpan(Protocol):
    start: int
    end: int
    original: str


@dataclass(frozen=True)
class Gold:
    """A gold span given by hand (tests) or converted from a tuple."""

    start: int
    end: int
    original: str


@dataclass(frozen=True)
class Counts:
    """Additive counts over texts; the ratios are properties (None where undefined)."""

    texts: int = 0
    words: int = 0
    gold: int = 0
    predicted: int = 0
    true_positives: int = 0  # matched predictions == matched gold spans (one-to-one)
    restored: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    @property
    def false_flags(self) -> int:
        return self.predicted - self.true_positives

    @property
    def precision(self) -> float | None:
        return self.true_positives / self.predicted if self.predicted else None

    @property
    def recall(self) -> float | None:
        return self.true_positives / self.gold if self.gold else None

    @property
    def restoration(self) -> float | None:
        """Restored gold spans / all gold spans."""
        return self.restored / self.gold if self.gold else None

    @property
    def restoration_detected(self) -> float | None:
        """Restored gold spans / detected gold spans."""
        return self.restored / self.true_positives if self.true_positives else None

    @property
    def false_flags_per_1k(self) -> float | None:
        return 1000.0 * self.false_flags / self.words if self.words else None

    def as_dict(self) -> dict[str, Any]:
        counts = {f.name: getattr(self, f.name) for f in fields(self)}
        ratios = {
            name: getattr(self, name)
            for name in ("precision", "recall", "restoration", "restoration_detected", "false_flags_per_1k")
        }
        return {**counts, "false_flags": self.false_flags, **ratios}


def total(counts: Iterable[Counts]) -> Counts:
    """Micro-average: the sum of the counts of many texts."""
    result = Counts()
    for item in counts:
        result = result + item
    return result


def _as_gold(item: GoldSpan | tuple[int, int, str]) -> GoldSpan:
    if isinstance(item, tuple):
        start, end, original = item
        return Gold(start, end, original)
    return item


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


def match(gold: Sequence[GoldSpan], predicted: Sequence[Finding]) -> list[tuple[int, int]]:
    """One-to-one (prediction index, gold index) pairs, greedy by overlap length."""
    candidates = []
    for p, finding in enumerate(predicted):
        for g, span in enumerate(gold):
            overlap = min(finding.end, span.end) - max(finding.start, span.start)
            if overlap > 0:
                candidates.append((-overlap, finding.start, span.start, p, g))
    candidates.sort()
    used_p: set[int] = set()
    used_g: set[int] = set()
    pairs = []
    for _, _, _, p, g in candidates:
        if p not in used_p and g not in used_g:
            used_p.add(p)
            used_g.add(g)
            pairs.append((p, g))
    return sorted(pairs)


def is_restored(text: str, finding: Finding, gold_span: GoldSpan, gold: Sequence[GoldSpan]) -> bool:
    """Whether `finding` gives back the original wording over its region (see module doc)."""
    start, end = min(finding.start, gold_span.start), max(finding.end, gold_span.end)
    inside: set[int] = set()
    grown = True
    while grown:
        grown = False
        for index, span in enumerate(gold):
            if index not in inside and span.start < end and span.end > start:
                inside.add(index)
                start, end = min(start, span.start), max(end, span.end)
                grown = True
    reference = text[start:end]
    for span in sorted((gold[i] for i in inside), key=lambda s: s.start, reverse=True):
        reference = reference[: span.start - start] + span.original + reference[span.end - start:]
    candidate = text[start:finding.start] + finding.suggestion + text[finding.end:end]
    return _normal(candidate) == _normal(reference)


def score_text(
    text: str,
    gold: Sequence[GoldSpan | tuple[int, int, str]],
    predicted: Sequence[Finding],
    *,
    words: int | None = None,
) -> Counts:
    """Counts for one spun (or clean: `gold` empty) text. `words` defaults to tokenize's count."""
    spans = [_as_gold(item) for item in gold]
    pairs = match(spans, predicted)
    restored = sum(is_restored(text, predicted[p], spans[g], spans) for p, g in pairs)
    return Counts(
        texts=1,
        words=len(tokenize(text)) if words is None else words,
        gold=len(spans),
        predicted=len(predicted),
        true_positives=len(pairs),
        restored=restored,
    )


def score_clean(text: str, predicted: Sequence[Finding]) -> Counts:
    """Counts for a clean text: every prediction is a false flag."""
    return score_text(text, (), predicted)
