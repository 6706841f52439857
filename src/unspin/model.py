"""The results unspin hands out: findings and reports. Frozen, and serialised in one place.

The JSON shape is a public contract ("unspin.report/1"); other tools depend on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

SCHEMA = "unspin.report/1"


def density_per_1k(findings: int, words: int) -> float | None:
    """Findings per 1,000 words, or None when the word count is unknown (0): the one definition
    the report, the risk level and the exports share."""
    return None if words <= 0 else 1000.0 * findings / words


@dataclass(frozen=True)
class Finding:
    """One spun span: `text == input[start:end]`, and `suggestion` replaces exactly that."""

    start: int
    end: int
    text: str
    suggestion: str
    alternatives: tuple[str, ...]
    confidence: float
    detector: str
    evidence: Mapping[str, Any] = field(default_factory=dict)
    rule: str | None = None  # the list entry that matched ("pps:12"), for list detectors
    location: Mapping[str, Any] | None = None  # page / paragraph / section, for documents

    def to_dict(self) -> dict[str, Any]:
        data = {
            "start": self.start,
            "end": self.end,
            "text": self.text,
            "suggestion": self.suggestion,
            "alternatives": list(self.alternatives),
            "confidence": round(float(self.confidence), 4),
            "detector": self.detector,
            "rule": self.rule,
            "evidence": dict(self.evidence),
        }
        if self.location is not None:  # only documents (PDF, DOCX, ...) carry one
            data["location"] = dict(self.location)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """A finding back from its `to_dict()` (confidence as rounded there)."""
        return cls(start=data["start"], end=data["end"], text=data["text"], suggestion=data["suggestion"],
                   alternatives=tuple(data.get("alternatives") or ()), confidence=data["confidence"],
                   detector=data["detector"], evidence=data.get("evidence") or {}, rule=data.get("rule"),
                   location=data.get("location"))


@dataclass(frozen=True)
class Report:
    id: Any
    mode: str
    model: str | None
    score: float
    verdict: str  # "spun" | "suspect" | "clean"
    spans: tuple[Finding, ...]
    restored: str
    unspin_version: str = ""
    words: int = 0
    document: Mapping[str, Any] | None = None  # format, excluded regions ... of a document input
    risk: str | None = None  # "none" | "low" | "medium" | "high", from score and density (unspin.detect.score)

    def to_dict(self) -> dict[str, Any]:
        data = {
            "schema": SCHEMA,
            "unspin_version": self.unspin_version,
            "id": self.id,
            "mode": self.mode,
            "model": self.model,
            "score": round(float(self.score), 4),
            "verdict": self.verdict,
            "spans": [span.to_dict() for span in self.spans],
            "restored": self.restored,
        }
        if self.risk is not None:
            data["risk"] = self.risk
            density = density_per_1k(len(self.spans), self.words)
            data["density_per_1k"] = round(density, 3) if density is not None else None
        if self.document is not None:
            data["document"] = dict(self.document)
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], words: int = 0) -> Report:
        """A report back from its `to_dict()` (a stored "unspin.report/1" object), beside the writer so
        that a field added to one is added to the other. `words` is not in the JSON (only the density
        it gives): pass the count of the checked text to keep `density_per_1k` on a second write."""
        return cls(id=data.get("id"), mode=data.get("mode", ""), model=data.get("model"),
                   score=data.get("score", 0.0), verdict=data.get("verdict", "clean"),
                   spans=tuple(Finding.from_dict(span) for span in data.get("spans", ())),
                   restored=data.get("restored", ""), unspin_version=data.get("unspin_version", ""),
                   words=words, document=data.get("document"), risk=data.get("risk"))
