"""What every detector gives the pipeline: text in, findings and the document's evidence out.

The pipeline (`unspin.pipeline.Checker`), discovery and the evaluation call detectors only
through this, and build reports themselves, so a new detector plugs in without touching them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from unspin.detect.decide import DecisionModel
    from unspin.model import Finding


@dataclass(frozen=True)
class Detection:
    findings: list[Finding]
    words: int
    rate: float  # estimated share of the words a spinner swapped
    expected: float  # expected number of swaps by the screening pass (its findings' summed probability)


class Detector(Protocol):
    mode: str
    model_name: str | None
    decision: DecisionModel  # its site threshold is the detector's own
    screening: DecisionModel  # its document model and verdict thresholds score the document

    def detect(self, text: str, threshold: float | None = None) -> Detection:
        """Findings down to `threshold` (default: the decision's own); `expected` and `rate` never depend on it."""
        ...
