"""Evaluation of the learned engine on held-out-dictionary spinning, fast enough to iterate on.

Suites: passages of a split spun by a spinner profile (`simulate.PROFILES`) at several rates, the
same split's clean passages (Brown, nlp-corpus, technical prose), and the PPS tortured cases when
the list is there. Every swap is scored with `metrics.score_text` (detection, restoration, false
flags), and each document's score against whether it was spun (AUC).

The encoder's word probabilities are the slow part and do not change while a decision or a
restorer is tuned: `CachedDetector` keeps them on disk, keyed by the detector's weights and the
text, so a second evaluation of the dev split takes seconds of encoder time.

The restorer reads every dictionary (Moby, WordNet, MyThes); a suite spun with one of them is
restored without it (`LearnedEngine.restoring_without`), and the report says how many of the
held-out suites' swaps Moby + WordNet link at all (`simulate.overlap`). `restore_gold` measures
restoration alone: each gold swap handed to the restorer as if it had been detected;
`readability` whether the restored text reads better or worse than its input by a judge LM.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from unspin.evaluate import corpora, simulate, technical
from unspin.evaluate.metrics import Counts, Gold, score_text, total
from unspin.lexicon.thesaurus import load_thesaurus
from unspin.resources import atomic_write_arrays, cache_dir
from unspin.restoration import apply_findings
from unspin.text.tokenize import Token, covered, tokenize

SUITE_RATES = (0.05, 0.15, 0.3)
PASSAGE_WORDS = 300


@dataclass(frozen=True)
class Case:
    """A text and its gold swaps (empty for clean text)."""

    id: str
    text: str
    gold: tuple[Gold, ...]
    rate: float


class CachedDetector:
    """A `SwapDetector` whose word probabilities are kept on disk per text (call `save()`)."""

    def __init__(self, detector) -> None:
        self.detector = detector
        self.path = cache_dir("evaluation") / f"word-probabilities-{detector.sha256[:16]}.npz"
        self.table: dict[str, np.ndarray] = dict(np.load(self.path)) if self.path.is_file() else {}
        self.changed = False

    def word_probabilities(self, text: str, tokens: list[Token]) -> np.ndarray:
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:24]
        if key not in self.table:
            self.table[key] = self.detector.word_probabilities(text, tokens)
            self.changed = True
        return self.table[key]

    def save(self) -> None:
        if self.changed:
            atomic_write_arrays(self.path, **self.table)
            self.changed = False


def _seed(*parts: str) -> int:
    return int(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12], 16)


def _sample(docs: Sequence[corpora.Document], limit: int | None, key: str) -> list[corpora.Document]:
    docs = sorted(docs, key=lambda d: d.id)
    if limit is not None and len(docs) > limit:
        docs = random.Random(_seed(key)).sample(docs, limit)
    return docs


def passages(split: str, limit: int | None) -> list[corpora.Document]:
    """Brown and nlp-corpus passages of `split`, half of `limit` from each."""
    half = None if limit is None else limit // 2
    return [d for c in ("brown", "nlp-corpus") for d in _sample(corpora.passages(c, split, words=PASSAGE_WORDS), half, c)]


def spun_cases(split: str, profile_name: str, *, limit: int | None = 60,
               rates: Sequence[float] = SUITE_RATES) -> list[Case]:
    """`limit` passages of `split`, each spun by the profile at every rate in `rates`."""
    profile = simulate.PROFILES[profile_name]
    thesaurus = load_thesaurus(profile.sources)
    cases = []
    for passage in passages(split, limit):
        for rate in rates:
            result = simulate.spin(passage.text, rate=rate, seed=_seed(profile.name, str(rate), passage.id),
                                   thesaurus=thesaurus, profile=profile)
            gold = tuple(Gold(e.start, e.end, e.original) for e in result.edits)
            cases.append(Case(f"{passage.id}@{profile.name}:{rate}", result.text, gold, rate))
    return cases


def clean_cases(split: str, *, limit: int | None = 60) -> list[Case]:
    docs = passages(split, limit)
    docs += _sample(technical.clean_technical(split, words=PASSAGE_WORDS), None if limit is None else limit // 2,
                    "technical")
    return [Case(d.id, d.text, (), 0.0) for d in docs]


def tortured_cases(split: str, *, limit: int | None = None, pps_path=None) -> list[Case]:
    cases = technical.tortured_cases(pps_path, split)
    cases = sorted(cases, key=lambda c: hashlib.sha256(c.id.encode()).hexdigest())[:limit]
    return [Case(c.id, c.spun_text, tuple(Gold(e.start, e.end, e.original) for e in c.edits), 1.0)
            for c in cases]


@dataclass(frozen=True)
class Judged:
    """What the engine said of one case as a whole."""

    score: float  # P(spun), the document model's
    verdict: str  # "clean", "suspect" or "spun", as a report would say
    findings: int
    restored: str  # the text with every finding's suggestion applied


def score(engine, cases: Sequence[Case], threshold: float | None = None) -> tuple[Counts, list[Judged]]:
    """Counts over `cases`, and each case's document score and verdict."""
    from unspin.detect.score import document_score, found_confidence, verdict

    counts, judged = [], []
    for case in cases:
        detection = engine.detect(case.text, threshold)
        counts.append(score_text(case.text, case.gold, detection.findings, words=detection.words))
        # As a report scores it: from the findings over the engine's own threshold, whatever `threshold` is.
        usual = [f for f in detection.findings if f.confidence >= engine.decision.site.threshold]
        p = document_score(engine.screening, detection.expected, detection.words, detection.rate,
                           found=found_confidence(usual))
        judged.append(Judged(p, verdict(engine.screening, p, detection.findings, detection.words), len(detection.findings),
                             apply_findings(case.text, detection.findings)))
    return total(counts), judged


@dataclass(frozen=True)
class Readability:
    """How a judge LM reads restored texts against their inputs, over the texts restoration changed.

    Per word, because a restoration may change the number of words ("in spite of the fact that" ->
    "although"); the target is that restoration never makes clean text read worse."""

    changed: int = 0
    worse: int = 0  # changed texts the judge reads worse: a lower ln P per word than the input
    delta: float | None = None  # mean ln P per word, restored minus input (nats)

    def as_dict(self) -> dict:
        return {"restored_changed": self.changed, "reads_worse": f"{self.worse}/{self.changed}",
                "lnp_per_word_delta": self.delta}


def readability(judge, inputs: Sequence[str], restored: Sequence[str]) -> Readability:
    """Compare each restored text with its input by `judge`'s (a `lm.NeuralScorer`) ln P per word."""
    deltas = [logprob_per_word(judge, after) - logprob_per_word(judge, before)
              for before, after in zip(inputs, restored) if after != before]
    if not deltas:
        return Readability()
    return Readability(len(deltas), sum(d < 0 for d in deltas), float(np.mean(deltas)))


def logprob_per_word(judge, text: str) -> float:
    """The judge's ln P of the whole text, divided by its words (tokens, as the metrics count them)."""
    return judge.word_logprobs(text, [(0, len(text))])[0] / max(1, len(tokenize(text)))


@dataclass
class GoldRestoration:
    """Restoration alone: how often the restorer, handed a gold swap's span, gives the original."""

    swaps: int = 0
    restored: int = 0  # its first reading is the original
    offered: int = 0  # the original is among the readings it ranked (the candidate list's reach)

    def as_dict(self) -> dict:
        return {"swaps": self.swaps, "gold_restored": self.restored / max(1, self.swaps),
                "gold_offered": self.offered / max(1, self.swaps)}


def restore_gold(engine, cases: Sequence[Case]) -> GoldRestoration:
    """Hand every gold swap's words to `engine.restore` as if they had been detected, each in the
    spun text with its neighbours left as written, and compare its readings with the original."""
    out = GoldRestoration()
    for case in cases:
        tokens = tokenize(case.text)
        located = located_swaps(case, tokens)
        for (_, wanted), span in zip(located, engine.restore(case.text, tokens, [s for s, _ in located])):
            readings = [r.wording for r in span.readings]
            out.restored += bool(readings) and readings[0] == wanted
            out.offered += wanted in readings
        out.swaps += len(case.gold)
    return out


def located_swaps(case: Case, tokens: list[Token]) -> list[tuple[tuple[int, int], str]]:
    """The case's gold swaps that cover words of `tokens`: each as its words i..j-1 and its
    original as a restorer's reading writes it (lower case, single spaces)."""
    located = []
    for gold in case.gold:
        inside = covered(tokens, gold.start, gold.end)
        if inside:
            located.append(((inside[0], inside[-1] + 1), " ".join(gold.original.lower().split())))
    return located


def auc(positive: Sequence[float], negative: Sequence[float]) -> float | None:
    """P(a positive scores above a negative), ties half."""
    if not positive or not negative:
        return None
    neg = np.sort(np.asarray(negative))
    wins = sum(np.searchsorted(neg, p, "left") + 0.5 * (np.searchsorted(neg, p, "right") - np.searchsorted(neg, p, "left"))
               for p in positive)
    return float(wins / (len(positive) * len(negative)))


def dictionary_overlap(cases: Sequence[Case], sources: tuple[str, ...] = ("moby", "wordnet")) -> float:
    """Share of the cases' swaps that the restorer's dictionaries link at all."""
    edits = [simulate.Edit(g.start, g.end, case.text[g.start:g.end], g.original, 0, 0) for case in cases for g in case.gold]
    return simulate.overlap(edits, load_thesaurus(sources))


__all__ = ["Case", "CachedDetector", "GoldRestoration", "Judged", "Readability", "readability", "restore_gold", "located_swaps", "spun_cases", "clean_cases", "tortured_cases", "score", "auc",
           "dictionary_overlap", "SUITE_RATES"]
