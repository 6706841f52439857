"""Aggregate a document's findings into a score and a verdict.

The score is the document-level part of the decision model (`unspin.detect.decide`), fitted on
simulated spinning: P(spun) from what the model names of the screening pass's expected number of
swaps per 1,000 words ("density"), the engine's estimate of the substitution rate ("doc_rate") and
the reported findings' summed confidence per 1,000 words ("found": what full mode's model reads,
its findings being verified by the language model).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from unspin.detect.decide import DecisionModel
from unspin.model import Finding, Report, density_per_1k
from unspin.restoration import apply_findings


def document_score(decision: DecisionModel, expected: float, words: int, rate: float, found: float = 0.0) -> float:
    """P(spun) for a document of `words` words whose screening pass expects `expected` swaps and
    whose reported findings' confidences sum to `found`; the model reads the features it names."""
    if words == 0:
        return 0.0
    return decision.document.probability(document_features(expected, words, rate, found))


def document_features(expected: float, words: int, rate: float, found: float = 0.0) -> dict[str, float]:
    """Every feature a document model may name, for a document of `words` (> 0) words: the screening
    pass's expected swaps and the reported findings' summed confidence, per 1,000 words (log1p),
    and the estimated substitution rate."""
    return {"density": math.log1p(1000.0 * expected / words), "doc_rate": rate,
            "found": math.log1p(1000.0 * found / words)}


# Risk levels (documented with their reasons in `unspin.report.risk`): findings per 1,000 words
# and the calibrated score decide how much review a document needs.
HIGH_SCORE = 0.8
HIGH_DENSITY = 3.0  # findings per 1,000 words
HIGH_MIN_FINDINGS = 2
MEDIUM_SCORE = 0.5
MEDIUM_DENSITY = 1.0  # findings per 1,000 words: the false-flag target for clean text


def count_words(text: str) -> int:
    """Whitespace-separated words: what a report counts when the engine did not run (list-only
    runs skip the tokenizer, which costs more than the matching itself; the engine's own count
    differs only on numbers and hyphenated words)."""
    return len(text.split())


def risk_level(score: float, findings: int, words: int) -> str:
    """"high", "medium", "low" or "none"."""
    if findings == 0:
        return "none"
    density = density_per_1k(findings, words)
    if score >= HIGH_SCORE and findings >= HIGH_MIN_FINDINGS and (density is None or density >= HIGH_DENSITY):
        return "high"
    if score >= MEDIUM_SCORE and (density is None or density >= MEDIUM_DENSITY):
        return "medium"
    return "low"


# A document with more findings than clean text of its length gives is at least "suspect", whatever
# its score: the score weighs the word-level evidence, which at 5-15 % swapped often stays low while
# the verified findings are several (dev, fast mode: 16 of the 22 passages with >= 10 % swapped that
# were called clean had findings, up to 6 in 300 words). "More than clean text gives": at least
# FINDINGS_MIN findings, a count that clean text at CLEAN_FINDINGS_PER_1K would reach with probability
# below FINDINGS_ALPHA (Poisson), and at least FINDINGS_MIN_DENSITY per 1,000 words (a long clean
# document's chance count grows with it, and its false flags may come at more than the target rate).
CLEAN_FINDINGS_PER_1K = 1.0  # the false-flag target (measured 0.7-1.0 on test, either mode)
FINDINGS_ALPHA = 0.02  # on dev (fast mode, 90 clean passages): the largest that calls no more clean ones suspect
FINDINGS_MIN = 2  # one finding can always be a false flag
FINDINGS_MIN_DENSITY = 5.0  # findings per 1,000 words: five times the target


def poisson_tail(n: int, mean: float) -> float:
    """P(X >= n) for X ~ Poisson(mean), without underflow for the large means of long documents."""
    if n <= 0:
        return 1.0
    if mean <= 0:
        return 0.0
    def term(k: int) -> float:
        return math.exp(k * math.log(mean) - mean - math.lgamma(k + 1))
    if n <= mean:
        return max(0.0, 1.0 - sum(term(k) for k in range(n)))
    total, k, current = 0.0, n, term(n)
    while current > 0.0 and current > total * 1e-15:  # past the mode the terms fall geometrically
        total += current
        k += 1
        current *= mean / k
    return total


def more_findings_than_clean(findings: int, words: int) -> bool:
    """Whether `findings` in `words` words are more than clean text would give by chance."""
    density = density_per_1k(findings, words)
    if findings < FINDINGS_MIN or density is None or density < FINDINGS_MIN_DENSITY:
        return False
    return poisson_tail(findings, CLEAN_FINDINGS_PER_1K * words / 1000.0) < FINDINGS_ALPHA


def verdict(decision: DecisionModel, score: float, findings: Sequence[Finding], words: int) -> str:
    """"spun" or "suspect" from the document score once there is a finding; "suspect" also from
    more findings than clean text of `words` words gives, or from one match of a list the user
    loaded; "clean" otherwise."""
    if findings and score >= decision.spun_score:
        return "spun"
    if findings and (score >= decision.suspect_score or more_findings_than_clean(len(findings), words)
                     or any(f.rule is not None for f in findings)):
        # A curated list's match is rarely chance: the PPS fingerprints matched 2 times in the
        # 1.7 million words of the clean dev and test passages (5,430 of them), a thousand times
        # rarer than the engine's false flags, so one is worth a reader's look.
        return "suspect"
    return "clean"


def found_confidence(findings: Sequence[Finding]) -> float:
    """The reported findings' summed confidence: the swaps they stand for."""
    return sum(f.confidence for f in findings)


def assemble_report(text: str, findings: Sequence[Finding], *, id, mode: str, model: str | None, words: int,
                    expected: float, rate: float, decision: DecisionModel) -> Report:
    """The report of `text`: its findings, the document score, verdict and risk level, restored text.

    `expected` is the screening pass's expected number of swaps (plus list matches), `rate` the
    engine's estimated substitution rate; the engine and the pipeline both report through here.
    """
    from unspin.version import __version__

    score = document_score(decision, expected, words, rate, found=found_confidence(findings))
    return Report(
        id=id, mode=mode, model=model, score=score, verdict=verdict(decision, score, findings, words),
        spans=tuple(findings), restored=apply_findings(text, findings), unspin_version=__version__,
        words=words, risk=risk_level(score, len(findings), words),
    )
