"""Aggregate a document's findings into a score and a verdict.

The score is the document-level part of the decision model (`unspin.detect.decide`), fitted on
simulated spinning: P(spun) from the density of confident findings (their summed confidence is
the expected number of swaps) and the engine's estimate of the substitution rate.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from unspin.detect.decide import DecisionModel
from unspin.model import Finding


def document_score(decision: DecisionModel, expected: float, words: int, rate: float) -> float:
    """P(spun) for a document of `words` words whose findings sum to `expected` swaps."""
    if words == 0:
        return 0.0
    features = {"density": math.log1p(1000.0 * expected / words), "doc_rate": rate}
    return decision.document.probability(features)


def verdict(decision: DecisionModel, score: float, findings: Sequence[Finding]) -> str:
    if findings and score >= decision.spun_score:
        return "spun"
    if findings and score >= decision.suspect_score:
        return "suspect"
    return "clean"
