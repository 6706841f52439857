"""The decisions' models, read from versioned JSON in the package: from evidence to probabilities.

The encoder's P(swapped) also rises on rare-but-correct words in clean text (NOTES-core.md), so a
word's decision (`DecisionModel.site`, scripts/train_learned_decision.py) is a logistic model over
it *and* what tells a swap from a rare word: the share of suspicious words around it (a spinner
swaps at a rate), the word's frequency, its case. A span's `Verification`
(scripts/train_learned_verification.py) adds what its restoration gained; the document model and
verdict thresholds score the whole text; `ReadingRanker` orders fast mode's readings. Each is
fitted on text the detector never trained on, its thresholds set on the dev split.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from unspin.errors import ResourceMissing


@dataclass(frozen=True)
class LogisticModel:
    version: str
    features: tuple[str, ...]
    coef: tuple[float, ...]
    intercept: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    threshold: float

    def probability(self, values: dict[str, float]) -> float:
        z = self.intercept
        for name, w, mu, sd in zip(self.features, self.coef, self.mean, self.scale):
            z += w * (values[name] - mu) / sd
        return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


@dataclass(frozen=True)
class DecisionModel:
    site: LogisticModel  # P(this site was spun)
    document: LogisticModel  # P(the document was spun), from document-level features
    suspect_score: float  # document score from which the verdict is "suspect"
    spun_score: float  # ... and "spun"
    provenance: dict


def _logistic(data: dict) -> LogisticModel:
    n = len(data["features"])
    return LogisticModel(
        version=data.get("version", ""),
        features=tuple(data["features"]),
        coef=tuple(data["coef"]),
        intercept=float(data["intercept"]),
        mean=tuple(data.get("mean", [0.0] * n)),
        scale=tuple(data.get("scale", [1.0] * n)),
        threshold=float(data.get("threshold", 0.5)),
    )


@dataclass(frozen=True)
class Verification:
    """A mode's decision over a whole span once it is restored (in full mode, its readings scored by the causal LM)."""

    candidate_threshold: float  # words the word-level decision rates this high are verified ...
    span: LogisticModel  # ... and a span is reported at span.threshold of this model
    provenance: dict
    # Words the detector alone rates this high are verified too, however few suspicious words
    # surround them (None: not verified): a tortured phrase stands alone in its sentence.
    isolated_threshold: float | None = None


def decision_file(mode: str) -> str:
    """`mode`: "learned" (the learned engine's word-level decision), "learned-full" or
    "learned-fast" (its `Verification` in either mode)."""
    return f"decision-{mode}-v1.json"


def _read(mode: str, hint: str) -> dict:
    name = decision_file(mode)
    try:
        raw = resources.files("unspin.data").joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResourceMissing(f"decision model {name} is not installed", hint) from None
    return json.loads(raw)


@lru_cache(maxsize=2)
def load_verification(mode: str) -> Verification:
    data = _read(mode, "run scripts/train_learned_verification.py")
    isolated = data.get("isolated_threshold")
    return Verification(candidate_threshold=float(data["candidate_threshold"]), span=_logistic(data["span"]),
                        provenance=data.get("provenance", {}),
                        isolated_threshold=None if isolated is None else float(isolated))


@lru_cache(maxsize=4)
def load_decision(mode: str) -> DecisionModel:
    data = _read(mode, "run scripts/train_learned_decision.py")
    return DecisionModel(
        site=_logistic(data["site"]),
        document=_logistic(data["document"]),
        suspect_score=float(data["verdict"]["suspect"]),
        spun_score=float(data["verdict"]["spun"]),
        provenance=data.get("provenance", {}),
    )


def document_file(mode: str) -> str:
    """`mode`: "learned-full", full mode's document score over its verified findings."""
    return f"document-{mode}-v1.json"


@lru_cache(maxsize=2)
def load_document_model(mode: str, site: LogisticModel) -> DecisionModel | None:
    """A mode's own document model and verdict thresholds (scripts/train_document_score.py), with
    `site` as its site model; None where the mode has none and the word-level decision's is used."""
    try:
        raw = resources.files("unspin.data").joinpath(document_file(mode)).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    data = json.loads(raw)
    return DecisionModel(site=site, document=_logistic(data["document"]), suspect_score=float(data["verdict"]["suspect"]),
                         spun_score=float(data["verdict"]["spun"]), provenance=data.get("provenance", {}))


@dataclass(frozen=True)
class ReadingRanker:
    """Fast mode's choice among a span's readings: a conditional logit, one linear score per
    reading over `features` (`learned.reading_features`), the highest first. Full mode lets the
    LM choose instead."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    provenance: dict


RANKER_FILE = "ranker-fast-v1.json"


@lru_cache(maxsize=1)
def load_ranker(name: str = RANKER_FILE) -> ReadingRanker:
    try:
        raw = resources.files("unspin.data").joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ResourceMissing(f"reading ranker {name} is not installed", "run scripts/train_reading_ranker.py") from None
    data = json.loads(raw)
    return ReadingRanker(tuple(data["features"]), tuple(float(w) for w in data["weights"]), data.get("provenance", {}))
