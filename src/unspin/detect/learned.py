"""The learned engine: the swap detector's verdict per word, decided with the channel's prior, restored.

Per document:  words -> P(swapped) per word from the fine-tuned encoder (`encoder`) -> decision
features (that probability, how many words nearby look swapped too, the word's frequency and
kind) -> P(spun) per word from a logistic decision learned on text the encoder never trained on
(`scripts/train_learned_decision.py`) -> runs of flagged words become spans -> each span is
restored from the dictionaries read backwards, scored with both sides of its context.

Why the neighbourhood matters: a rare-but-right word looks odd to the encoder too; what tells it
from a swap is that a spinner swaps at a rate, so swapped words come in company, while a rare word
in clean text stands alone.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from unspin.detect.candidates import IDIOM_SOURCE, LM_SOURCE, THESAURUS_SOURCES, Candidate, CandidateGenerator, zipf
from unspin.detect.context import left_context, right_context, sentence_ids, source_names
from unspin.detect.decide import (
    DecisionModel, LogisticModel, ReadingRanker, Verification, load_decision, load_document_model, load_ranker,
    load_verification,
)
from unspin.detect.encoder import SwapDetector, get_detector
from unspin.detect.ngram import load_trigram_model
from unspin.detect.protocol import Detection
from unspin.errors import ResourceMissing
from unspin.lexicon.stopwords import FUNCTION_WORDS
from unspin.model import Finding
from unspin.text.tokenize import Token, match_case, tokenize

if TYPE_CHECKING:
    from unspin.detect.lm import FirstTokens, Query

DECISION = "learned"  # data/decision-learned-v1.json: the word-level decision
VERIFICATION = "learned-full"  # data/decision-learned-full-v1.json: full mode's decision over verified spans
FAST_VERIFICATION = "learned-fast"  # data/decision-learned-fast-v1.json: fast mode's, without the LM
FULL_DOCUMENT = "learned-full"  # data/document-learned-full-v1.json: full mode's document score, over its findings
DETECTOR_NAME = "minilm-swap-tagger.v1"
NEIGHBOURHOOD = 30  # words each side over which the share of suspicious neighbours is counted
SUSPICIOUS = 0.5  # a neighbour counts as suspicious at this detector probability
DOC_MIN_WORDS = 200  # a shorter text's rate is counted over this many words (one swap in a title is not a rate)
JOIN = 0.5  # neighbouring words join one span from this fraction of the decision's own threshold
BEAM = 16  # readings kept per position when a multi-word span is restored word by word
# Full mode: how much the LM's expectation at each word after a multi-word span's first (ln P of
# an option's first token against the written word's, given the written text before it) weighs
# in the beam (`_beam`). Dev gold tortured phrases (150): 0.313 at 0, 0.340 at 0.25 and 0.5,
# 0.313 at 0.75, 0.300 at 1.0; at the first word too (0.5), 0.300.
INSIDE_LM_WEIGHT = 0.5
WORD_POOL = 12  # candidates per word that the beam combines, the best in the word's own context
# Full mode reads a span with a written neighbour as one term of art where they spell a multi-word
# dictionary entry (`_term_span`). Such a reading gains TERM_PRIOR nats, counted in its channel (the
# evidence's swap_logprob): a term of art is written as a unit, and a small LM knows few of them.
# Only a neighbour the detector gives TERM_NEIGHBOUR or more is taken in: in dev text, 0.63 of the
# unflagged words inside tortured phrases reach 0.05, 0.26 of the neighbours of flagged words in
# clean text. Chosen on dev (2026-12-07; 150 tortured sentences, 90 clean passages, 10 passages a
# MyThes suite): at 2 and 4 nats the same 5 more tortured phrases of 150 are found, but 4 adds 2
# false flags on clean text and loses 4 restorations a MyThes suite, 2 neither and 1-2.
TERM_PRIOR = 2.0
TERM_NEIGHBOUR = 0.05
MAX_BEAM_WORDS = 6  # longer spans are restored as phrases only
ALTERNATIVES_SHOWN = 3
# Full mode shows an alternative only where the LM reads it within ALTERNATIVE_MARGIN nats of the
# suggestion (channel included): the others are readings it had to score, not ones a reader should
# weigh ("bosom growth" -> "breast cancer", not "lock up"). Dev, 2026-12-07 (10 passages a MyThes
# suite, MyThes held out, and 150 tortured sentences; 823 findings): alternatives shown 2.84 -> 1.62
# a finding, and the original among them where the suggestion is wrong 83 -> 82 of 275 (at 4 nats
# 1.15 and 78, at 8 nats 2.02 and 82).
ALTERNATIVE_MARGIN = 6.0
DETECT_BLOCK_WORDS = 20_000  # words a text is judged in at a time (memory); a longer one in blocks
VERIFIED = 6  # full mode: readings per span that the causal LM scores, chosen among all of them by ...
# ... their trigram score plus this weight times the LM's ln P of their first token, read off the
# pass that scores the span anyway. On 8 dev passages spun with MyThes (158 swaps; MyThes held
# out), the original was among the six scored / restored for: the trigram's best six 0.59 / 0.49;
# the shortlist from all readings at weight 0.5: 0.65 / 0.54, 1: 0.65 / 0.54, 2: 0.62 / 0.51
# (before WordNet's hypernyms were read: best six 0.33 / 0.27, weight 1 0.37 / 0.30).
SHORTLIST_WEIGHT = 1.0
# ... and of those, only the ones within SHORTLIST_MARGIN nats (same score) of the best, for any
# span with two readings or more: a reading that far behind seldom wins in the LM's pass, and
# each costs a packed row. Dev (`scripts/evaluate_learned.py --split dev --engine learned-full
# --limit 10 --tortured-limit 150`), against no margin: at 8 nats detection the same to the span,
# restored 169 / 315 / 21 -> 170 / 316 / 21 (MyThes / rare / tortured), the three suites 306 -> 266
# s; at 5 nats 167 / 310 / 21, recall 1-2 swaps lower a suite (benchmarks/README.md).
SHORTLIST_MARGIN = 8.0
# A reported one-word span whose best reading reads less than SECOND_LOOK_GAIN nats better than the
# written word (channel included) gets a second look: the LM's own top SECOND_LOOK_PROPOSALS words
# there compete with its readings, each at ln P(written | proposal) = SECOND_LOOK_CHANNEL +
# SECOND_LOOK_PER_SIMILARITY x cosine(written, proposal) (base MiniLM), no similarity cut-off. A
# spinner reading Moby swaps along loose associations that WordNet and MyThes rarely share, so the
# dictionaries offer the original for about 0.10 of Moby's swaps, while the LM's top 30 hold it for
# 0.46. Chosen on 10 dev passages spun at 15 % (one-word swaps, 132 Moby / 147 MyThes, the spinning
# dictionary held out), gold spans restored by full mode: Moby 0.053 -> 0.136, MyThes 0.578 ->
# 0.585, the same with or without function words among the proposals for content words (left out:
# "abroad" -> "not"). Without the gate (every span) the proposals crowd out right readings: MyThes
# fell to 0.22.
# Only reported spans get it: the verification was fitted on the dictionaries' readings. A span no
# dictionary offers a reading for gets it too when restored alone (`restore`; detection drops such
# spans). Proposing words for those before the second look as well, as full mode did until
# 2026-12-07, restored no more dev gold spans: Moby 0.128, MyThes 0.610 either way.
SECOND_LOOK_GAIN = 2.0
SECOND_LOOK_PROPOSALS = 10
SECOND_LOOK_CHANNEL = -10.0
SECOND_LOOK_PER_SIMILARITY = 6.0
# A stock spinner idiom ("in spite of the fact that") whose original reads better in context is
# flagged by the table, whatever the encoder says. Held-out evaluation cannot measure this rule
# (the table must not spin its own test text), so the confidence is a stated prior, as before.
IDIOM_CONFIDENCE = 0.95
IDIOM_DETECTOR = "idiom.v1"
# Candidate originals: every dictionary read backwards, the most probable RESTORE_CANDIDATES per
# word or phrase (before context) that people write often enough (wordfreq's Zipf scale). Chosen
# on dev gold spans (`scripts/evaluate_learned.py --gold`): from 96 at Zipf 2.5 with Moby + WordNet,
# MyThes and the wider list offer the original for 0.43 -> 0.50 of MyThes swaps (Moby + WordNet
# only, MyThes held out) and restore 0.18 -> 0.22 of unlisted tortured phrases. WordNet's hypernym
# links ("lungs" - "respiratory organs") then offer it for 0.84 (8 dev passages, 158 swaps): MyThes
# is compiled from WordNet and lists hypernyms as "generic terms", so a spinner reading it swaps
# along them, and held-out MyThes is no independent test of them (held-out Moby is).
RESTORE_SOURCES = ("moby", "wordnet", "mythes", "wordnet-generic")
RESTORE_CANDIDATES = 300
RESTORE_MIN_ZIPF = 1.5


# What the LM expects at word k of a text: ln P of each of `words`' first token there, given the
# written text before it (None where it cannot say): `lm.FirstTokens.logprobs` at the word's start.
Expected = Callable[[int, list[str]], "list[float] | None"]


class Reading(NamedTuple):
    """A candidate original for a span."""

    wording: str
    score: float  # trigram ln P with both sides of the context + the channel's ln P
    sources: int  # thesaurus / idiom-table bits that link it to the written words
    channel: float  # ln P(written | this original): how likely a spinner made the swap


@dataclass
class Span:
    """Words i..j-1 flagged together, with their candidate originals (best first)."""

    i: int
    j: int
    readings: list[Reading]  # best first
    written: float  # trigram score of the written words in the same context
    lm_gain: float | None = None  # full mode: the LM's best reading, channel included, over the written words (nats)
    lm_scores: list[float] | None = None  # full mode: each reading's ln P by the LM, channel included (as readings)


@dataclass
class WordEvidence:
    """What the decision sees for every word of a text."""

    tokens: list[Token]
    probability: np.ndarray  # the encoder's P(swapped)
    features: np.ndarray  # one row per word, columns as FEATURES
    rate: float  # the text's share of suspicious words

    def feature(self, name: str, i: int, j: int) -> np.ndarray:
        return self.features[i:j, FEATURES.index(name)]


@dataclass
class Candidates:
    """What full mode verifies in a text (`LearnedEngine.candidates`)."""

    evidence: WordEvidence
    decided: np.ndarray  # the word-level decision's P(swapped) per word
    idioms: list[tuple[int, int, Finding]]  # the idiom table's findings, words i..j-1
    spans: list[Span]  # the other flagged spans, restored


FEATURES = ("logit", "window", "window_mass", "doc", "logit_x_window", "neighbour_max", "zipf",
            "function_word", "capitalised", "letters")
# What full mode's verification (`Verification.span`) sees of a span once the LM has scored it
# (its dictionaries' readings: the LM proposes words of its own only once a span is reported) ...
SPAN_FEATURES = ("site_logit", "detector_logit", "lm_gain", "lm_gain_positive", "no_reading", "channel",
                 "trigram_gain", "words", "window", "rate", "zipf")
# ... and fast mode's, which has no LM: how much better the trigram reads its best reading is the
# restoration's own evidence that something was swapped there.
FAST_SPAN_FEATURES = ("site_logit", "detector_logit", "no_reading", "channel", "trigram_gain", "words", "window",
                      "rate", "zipf")
GAIN_RANGE = (-10.0, 15.0)  # nats: LM and trigram gains are clipped, one odd window must not dominate
# What fast mode's ranker (`decide.ReadingRanker`, scripts/train_reading_ranker.py) sees of a reading.
# Which dictionary links a reading is left out on purpose: the ranker is fitted with each suite's
# own dictionary held out, so weights per dictionary would learn the held-out arrangement (MyThes'
# link is never there on MyThes-spun text), not what holds when every dictionary is read.
READING_FEATURES = ("trigram", "channel", "zipf", "agreeing", "idiom", "length_gap")


def word_features(tokens: list[Token], probability: np.ndarray) -> tuple[np.ndarray, float]:
    """Decision features per word (one row each, columns as FEATURES), and the text's share of
    suspicious words. Arrays, not a dict per word: a 10 MB text has 1.7 million words."""
    n = len(tokens)
    p = np.clip(probability.astype(np.float64), 1e-6, 1 - 1e-6)
    suspicious = (p >= SUSPICIOUS).astype(np.float64)
    hits = np.concatenate([[0.0], np.cumsum(suspicious)])
    mass = np.concatenate([[0.0], np.cumsum(p)])
    rate = float(hits[n] / max(n, DOC_MIN_WORDS))
    k = np.arange(n)
    a, b = np.maximum(0, k - NEIGHBOURHOOD), np.minimum(n, k + NEIGHBOURHOOD + 1)
    # Fixed denominators (beyond the text's edges counts as clean) and the word's own vote left
    # out, so that the neighbourhood is evidence about the word, not the word again.
    window = (hits[b] - hits[a] - suspicious) / (2 * NEIGHBOURHOOD)
    window_mass = (mass[b] - mass[a] - p) / (2 * NEIGHBOURHOOD)
    doc = (hits[n] - suspicious) / max(n, DOC_MIN_WORDS)
    logit = np.log(p / (1 - p))
    padded = np.concatenate([[0.0], p, [0.0]])
    neighbour_max = np.maximum(padded[:-2], padded[2:])
    lower = [t.lower for t in tokens]
    table = np.column_stack([
        logit, window, window_mass, doc, logit * window, neighbour_max,
        np.array([zipf(w) for w in lower], dtype=np.float64),
        np.array([w in FUNCTION_WORDS for w in lower], dtype=np.float64),
        np.array([t.text[:1].isupper() and not t.sentence_start for t in tokens], dtype=np.float64),
        np.array([min(len(w), 15) for w in lower], dtype=np.float64),
    ]) if n else np.zeros((0, len(FEATURES)))
    return table, rate


def span_features(span: Span, evidence: WordEvidence, decided: np.ndarray) -> list[float]:
    """One row of SPAN_FEATURES: the word-level decision and the detector over the span's words,
    and how much better its best reading reads to the causal LM (`span.lm_gain`) and the trigram."""
    i, j = span.i, span.j
    site = float(np.clip(decided[i:j].max(), 1e-6, 1 - 1e-6))
    detector = float(np.clip(evidence.probability[i:j].max(), 1e-6, 1 - 1e-6))
    best = span.readings[0] if span.readings else None
    lm_gain = float(np.clip(span.lm_gain, *GAIN_RANGE)) if span.lm_gain is not None and best else 0.0
    trigram_gain = float(np.clip(best.score - best.channel - span.written, *GAIN_RANGE)) if best else 0.0
    return [math.log(site / (1 - site)), math.log(detector / (1 - detector)), lm_gain, max(lm_gain, 0.0),
            float(best is None), best.channel if best else 0.0, trigram_gain, float(j - i),
            float(evidence.feature("window", i, j).max()), evidence.rate, float(evidence.feature("zipf", i, j).min())]


def reading_features(reading: Reading, words: int) -> list[float]:
    """One row of READING_FEATURES for a reading of a span of `words` written words."""
    return [reading.score - reading.channel, reading.channel, zipf(reading.wording),
            float(bin(reading.sources & THESAURUS_SOURCES).count("1")), float(bool(reading.sources & IDIOM_SOURCE)),
            float(abs(len(reading.wording.split()) - words))]


def ranked(readings: list[Reading], words: int, ranker: ReadingRanker) -> list[Reading]:
    """`readings` best first by the ranker's score (ties: as they came)."""
    if len(readings) < 2:
        return readings
    columns = [READING_FEATURES.index(name) for name in ranker.features]
    table = np.asarray([reading_features(r, words) for r in readings], dtype=np.float64)[:, columns]
    scores = table @ np.asarray(ranker.weights)
    return [readings[k] for k in np.argsort(-scores, kind="stable")]


def site_probabilities(model: LogisticModel, table: np.ndarray, names: tuple[str, ...] = FEATURES) -> np.ndarray:
    """The logistic decision for every row of a table at once (columns as `names`: a
    `word_features` table by default, or rows of `span_features`)."""
    columns = [names.index(name) for name in model.features]
    z = model.intercept + ((table[:, columns] - np.asarray(model.mean)) / np.asarray(model.scale)) @ np.asarray(model.coef)
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40.0, 40.0)))


class LearnedEngine:
    """Implements `unspin.detect.protocol.Detector` with the fine-tuned encoder.

    Both modes restore every span the word-level decision flags from a lower threshold
    (`Verification.candidate_threshold`), and, where the verification was chosen so, every span the
    detector alone rates at `Verification.isolated_threshold` (full mode: a swap standing alone),
    and report the spans that their verification, a decision over the word-level evidence *and*
    the restoration's, rates high enough: a swap whose original reads clearly better is kept though
    the encoder was unsure, an odd word that no reading improves is dropped. Full mode's restoration evidence is the causal LM's gain, fast mode's the
    trigram's."""

    def __init__(self, mode: str = "fast", model: str | None = None, device: str = "auto",
                 decision: DecisionModel | None = None, detector: SwapDetector | None = None,
                 verification: Verification | None = None, ranker: ReadingRanker | None = None,
                 restore_sources: tuple[str, ...] = RESTORE_SOURCES) -> None:
        self.mode = mode
        self.detector = detector or get_detector()
        self.detector_name = DETECTOR_NAME if mode == "fast" else DETECTOR_NAME + "+lm"
        self.neural = None
        self.ranker = None
        # `decision`, `verification` and `ranker` are given only while they are being trained (scripts/).
        self.words = decision if decision is not None else load_decision(DECISION)
        self.verification = verification
        if mode == "full":
            from unspin.detect.lm import get_scorer

            self.neural = get_scorer(model, device)
            self.verification = verification if verification is not None else load_verification(VERIFICATION)
        else:
            self.ranker = ranker if ranker is not None else load_ranker()
            # The verification was fitted behind the shipped word-level decision, not another one.
            if verification is None and decision is None:
                self.verification = load_verification(FAST_VERIFICATION)
        # What scores the document: the word-level decision's document model and verdicts, but full
        # mode's findings are verified by the LM and say more about the document than the word-level
        # evidence does, so its own model weighs them (scripts/train_document_score.py).
        own = load_document_model(FULL_DOCUMENT, self.words.site) if mode == "full" and decision is None else None
        self.screening = own or self.words
        # What the protocol calls the decision: its site threshold is what this engine reports at.
        self.decision = self.words if self.verification is None else \
            DecisionModel(self.verification.span, self.screening.document, self.screening.suspect_score,
                          self.screening.spun_score, self.verification.provenance)
        self.model_name = self.neural.name if self.neural is not None else None
        self.trigram = load_trigram_model()
        self.restore_sources = restore_sources
        self.generator = _generator(restore_sources)

    def decide_with(self, decision: DecisionModel) -> None:
        """Fast mode with another word-level decision and no verification (that was fitted behind
        the shipped decision): the decision's training script swaps each fitted stage in."""
        if self.mode == "full":
            raise ValueError("full mode's verification was fitted behind the shipped word-level decision")
        self.verification = None
        self.words = self.decision = self.screening = decision

    def restoring_without(self, sources: tuple[str, ...]) -> LearnedEngine:
        """This engine with a restorer that leaves `sources` out: an evaluation that spins with a
        dictionary must not restore with it (off in normal use)."""
        clone = copy.copy(self)
        # WordNet's hypernym links are WordNet too: holding WordNet out holds them out.
        left_out = set(sources) | ({"wordnet-generic"} if "wordnet" in sources else set())
        clone.restore_sources = tuple(s for s in self.restore_sources if s not in left_out)
        clone.generator = _generator(clone.restore_sources)
        return clone

    # -- evidence and decision --------------------------------------------------------------

    def evidence(self, text: str, tokens: list[Token] | None = None) -> WordEvidence:
        tokens = tokenize(text) if tokens is None else tokens
        probability = self.detector.word_probabilities(text, tokens)
        features, rate = word_features(tokens, probability)
        return WordEvidence(tokens, probability, features, rate)

    def detect(self, text: str, threshold: float | None = None) -> Detection:
        """Findings, words and the evidence the document score needs. A text longer than
        DETECT_BLOCK_WORDS is judged a block of paragraphs at a time, so that memory stays bounded
        whatever its size (a 10 MB text has 1.7 million words, each with its token, features and
        candidates); each block is a document long enough for its own swap rate."""
        blocks = paragraph_blocks(text, DETECT_BLOCK_WORDS)
        if len(blocks) == 1:
            return self._detect(text, threshold)
        findings: list[Finding] = []
        words = suspicious = expected = 0.0
        for start, end in blocks:
            part = self._detect(text[start:end], threshold)
            findings += [dataclasses.replace(f, start=f.start + start, end=f.end + start) for f in part.findings]
            words += part.words
            suspicious += part.rate * max(part.words, DOC_MIN_WORDS)  # the rate's own numerator
            expected += part.expected
        return Detection(findings, int(words), suspicious / max(words, DOC_MIN_WORDS), expected)

    def _detect(self, text: str, threshold: float | None) -> Detection:
        threshold = self.decision.site.threshold if threshold is None else threshold
        # A verifying engine restores from its own word-level threshold (lower still when the
        # findings may be less sure: discovery asks for those), and a finding's confidence is then
        # the verification's.
        found = self.candidates(text, threshold if self.verification is None else
                                min(threshold, self.verification.candidate_threshold),
                                idioms=self.idiom_confidence >= threshold,
                                isolated=None if self.verification is None else self.verification.isolated_threshold)
        evidence = found.evidence
        confidences = self.confidences(found.spans, evidence, found.decided)
        reported = [(span, confidence) for span, confidence in zip(found.spans, confidences) if confidence >= threshold]
        if self.neural is not None:
            # A span no dictionary offers a reading for is not reported: such words are mostly
            # rare originals (terms of art, typos, coinages) that the LM finds improbable and would
            # read back as its own words, while a spinner writes its thesaurus's words, which ours
            # mostly share. Dev (90 clean passages; 30 a MyThes suite, 10 Moby, each held out):
            # clean false flags 30 -> 25, precision MyThes 0.946 -> 0.963, rare 0.946 -> 0.963,
            # Moby 0.927 -> 0.945, recall 0.396 -> 0.393, 0.744 -> 0.738, 0.389 -> 0.365 (held
            # out, Moby's own words are unknown to the other dictionaries: in use every dictionary
            # is read). They are dropped before the second look could propose the LM's own words
            # for them; until 2026-12-07 the LM proposed first, and a span whose readings were all
            # its proposals was dropped after (dev findings the same but one; speed within noise).
            reported = [(span, confidence) for span, confidence in reported if _read_by_a_dictionary(span)]
            lower = [t.lower for t in evidence.tokens]
            spans = self._second_look(text, evidence.tokens, lower, sentence_ids(evidence.tokens),
                                      [span for span, _ in reported])
            reported = [(span, confidence) for span, (_, confidence) in zip(spans, reported)]
        learned = [(span.i, span.j, self.finding(text, evidence, span, confidence)) for span, confidence in reported]
        findings = [finding for _, _, finding in sorted(found.idioms + learned, key=lambda item: item[0])]
        screened = found.decided[found.decided >= self.words.site.threshold]
        expected = float(screened.sum()) + self.idiom_confidence * len(found.idioms)
        return Detection(findings, len(evidence.tokens), evidence.rate, expected)

    @property
    def idiom_confidence(self) -> float:
        # An idiom span is always reported at the engine's own threshold, and like any other
        # span only at thresholds its confidence reaches.
        return max(IDIOM_CONFIDENCE, self.decision.site.threshold)

    def candidates(self, text: str, threshold: float, *, idioms: bool = True,
                   isolated: float | None = None) -> Candidates:
        """The word-level evidence and decision, the idiom table's findings (when `idioms`), and
        the other spans whose word-level decision reaches `threshold` (or, given `isolated`, whose
        detector probability alone reaches it), restored (in full mode with the LM's gain)."""
        evidence = self.evidence(text)
        tokens = evidence.tokens
        decided = site_probabilities(self.words.site, evidence.features)
        lower = [t.lower for t in tokens]
        sentence = sentence_ids(tokens)
        found = self._idiom_findings(text, tokens, lower, sentence, self.idiom_confidence) if idioms else []
        taken = {k for i, j, _ in found for k in range(i, j)}
        flagged = [(i, j) for i, j in flagged_spans(text, tokens, decided, threshold, JOIN * self.words.site.threshold)
                   if not taken & set(range(i, j))]
        if isolated is not None:
            # The word-level decision learned that swaps come in company, so a swap standing alone
            # (a tortured phrase in a paper) rarely reaches it; the verification weighs these spans
            # with the LM's gain instead.
            taken |= {k for i, j in flagged for k in range(i, j)}
            flagged = sorted(flagged + [(i, j) for i, j in flagged_spans(text, tokens, evidence.probability, isolated,
                                                                         JOIN * isolated)
                                        if not taken & set(range(i, j))])
        # Full mode: a span grows into a term of art only by a neighbour the detector finds a little
        # odd too (most neighbours of a false flag in clean text look plain to it). Fast mode never
        # grows one, so it does not pay for the set of a block's plain words.
        fixed = None
        if self.neural is not None:
            fixed = taken | set(np.flatnonzero(evidence.probability < TERM_NEIGHBOUR).tolist())
        spans = self.restore(text, tokens, flagged, lower=lower, sentence=sentence, second_look=False,
                             grow_beside=fixed)
        return Candidates(evidence, decided, found, spans)

    def confidences(self, spans: list[Span], evidence: WordEvidence, decided: np.ndarray) -> list[float]:
        """Each span's probability of being a swap: the verification's over the word-level evidence
        and the restoration's, or the word-level decision's alone (an engine being trained)."""
        if self.verification is None:
            return [float(decided[span.i:span.j].max()) for span in spans]
        if not spans:
            return []
        model = self.verification.span
        table = np.asarray([span_features(span, evidence, decided) for span in spans], dtype=np.float64)
        return site_probabilities(model, table, SPAN_FEATURES).tolist()

    def restore(self, text: str, tokens: list[Token], spans: list[tuple[int, int]], *,
                lower: list[str] | None = None, sentence: list[int] | None = None,
                second_look: bool = True, grow_beside: set[int] | None = None) -> list[Span]:
        """Candidate originals for each span of words i..j-1, best first: by the trigram with both
        sides of the context, and in full mode re-ranked by the causal LM, with its own proposals
        where the readings are weak or missing (`second_look`, off while spans are still being
        verified: detection does not report a span only the LM reads), and
        grown by a neighbour into a term of art where the LM reads that better (given
        `grow_beside`, the words no span may take in). `lower` and `sentence` (the words
        lower-cased, `sentence_ids`) are computed when not given."""
        lower = [t.lower for t in tokens] if lower is None else lower
        sentence = sentence_ids(tokens) if sentence is None else sentence
        restored = [Span(i, j, self.readings(lower, sentence, i, j),
                         _context_score(self.trigram, lower, sentence, i, j, lower[i:j])) for i, j in spans]
        if self.neural is None:
            for span in restored:
                span.readings = ranked(span.readings, span.j - span.i, self.ranker)
            return restored
        # Each span's alternative extent as a term of art (`_term_span`): the LM scores both in one pass.
        terms = [] if grow_beside is None else self._term_spans(lower, sentence, restored, grow_beside)
        scored = self._rank_with_lm(text, tokens, restored + [term for _, term in terms], lower, sentence,
                                    rebuild=len(restored))
        restored = scored[:len(restored)]
        for (k, _), term in zip(terms, scored[len(restored):]):
            own = restored[k].lm_gain if restored[k].readings else None
            if term.lm_gain is not None and (own is None or term.lm_gain > own):
                restored[k] = term
        return self._second_look(text, tokens, lower, sentence, restored) if second_look else restored

    def _term_spans(self, lower: list[str], sentence: list[int], spans: list[Span],
                    taken: set[int]) -> list[tuple[int, Span]]:
        """For each span that has one, its alternative extent as a term of art (`_term_span`),
        neighbours that another span or `taken` holds left out: (index of the span, the term)."""
        occupied = taken | {k for span in spans for k in range(span.i, span.j)}
        terms = []
        for k, span in enumerate(spans):
            term = self._term_span(lower, sentence, span.i, span.j, occupied)
            if term is None:
                continue
            # The trigram first: a term that it reads no better than the span's own best reading
            # (each over its own written words) is not worth the LM's time (speed: benchmarks/).
            if span.readings and term.readings[0].score - term.written < span.readings[0].score - span.written:
                continue
            occupied |= set(range(term.i, term.j))
            terms.append((k, term))
        return terms

    def _term_span(self, lower: list[str], sentence: list[int], i: int, j: int, occupied: set[int]) -> Span | None:
        """Words i..j-1 with a free written neighbour or two, read back as the multi-word dictionary
        entries they spell that change a neighbour too (the others are readings of i..j-1 itself):
        the extent whose best entry reads best to the trigram; None where there is none.

        A spinner swaps each word of a term of art, and the detector often flags only the oddest
        ("viewpoint proportion": only "proportion", read back alone as "scale"; with its neighbour,
        "aspect ratio"). The caller keeps whichever extent the LM reads better."""
        best: Span | None = None
        for a, b in ((i - 1, j), (i, j + 1), (i - 1, j + 1)):
            if a < 0 or b > len(lower) or b - a > MAX_BEAM_WORDS or sentence[a] != sentence[b - 1]:
                continue
            neighbours = [k for k in (a, b - 1) if not i <= k < j]
            if any(k in occupied or not self.generator.is_candidate_position(lower[k]) for k in neighbours):
                continue
            readings = sorted((Reading(wording, _context_score(self.trigram, lower, sentence, a, b, wording.split())
                                       + channel + TERM_PRIOR, sources, channel + TERM_PRIOR)
                               for wording, channel, sources in self.generator.entries_spelled(lower[a:b])
                               if _changes(wording.split(), lower, a, b, neighbours)),
                              key=lambda r: (-r.score, r.wording))
            if readings and (best is None or readings[0].score > best.readings[0].score):
                best = Span(a, b, readings, _context_score(self.trigram, lower, sentence, a, b, lower[a:b]))
        return best

    def _lm_reading(self, lower: list[str], sentence: list[int], i: int, word: str, channel: float) -> Reading:
        """The LM's own `word` as a reading of the one-word span at i, at the channel cost given."""
        return Reading(word, _context_score(self.trigram, lower, sentence, i, i + 1, [word]) + channel, LM_SOURCE, channel)

    def _second_look(self, text: str, tokens: list[Token], lower: list[str], sentence: list[int],
                     spans: list[Span]) -> list[Span]:
        """Full mode, for one-word spans whose best reading hardly beats the written word: the
        LM's own top words there join the readings, each at a channel cost that falls with how much
        it means what the written word means, and the LM re-ranks them all in context, the spans
        whose best reading it is sure of written in around them."""
        from unspin.detect.encoder import get_word_meaning
        from unspin.detect.lm import Query

        weak = [k for k, span in enumerate(spans)
                if span.j - span.i == 1 and (span.lm_gain is None or span.lm_gain < SECOND_LOOK_GAIN)]
        if not weak:
            return spans
        # The LM reads the weak spans with the sure ones already restored around them: a spinner's
        # swaps come in company, and the written ones mislead the LM's left context. Dev (6
        # passages a suite at 5/15/30 %): Moby 0.123 -> 0.128, MyThes 0.603 -> 0.610, at no cost.
        sure = {k for k, span in enumerate(spans)
                if span.readings and span.lm_gain is not None and span.lm_gain >= SECOND_LOOK_GAIN}
        context, shifts = _written_in(text, tokens, spans, sure)
        weak = [k for k in weak if shifts[k] is not None]
        places = [(tokens[spans[k].i].start + shifts[k], tokens[spans[k].i].end + shifts[k]) for k in weak]
        # All in one call: the LM completes several spans' words in one pass (speed: benchmarks/).
        proposals = self.neural.propose_many(context, places, k=SECOND_LOOK_PROPOSALS)
        looked, queries = [], []
        for k, (start, end), proposed in zip(weak, places, proposals):
            span, token = spans[k], tokens[spans[k].i]
            known = {r.wording for r in span.readings} | {lower[span.i]}
            # A function word fits almost any gap ("abroad" -> "not"): proposed for a function word only.
            grammatical = lower[span.i] in FUNCTION_WORDS
            words = [w for w in proposed if w not in known and (grammatical or w not in FUNCTION_WORDS)]
            if not words:
                continue
            similar = get_word_meaning().similarity(lower[span.i], words)
            readings = span.readings[:VERIFIED] + [
                self._lm_reading(lower, sentence, span.i, w, SECOND_LOOK_CHANNEL + SECOND_LOOK_PER_SIMILARITY * float(s))
                for w, s in zip(words, similar)]
            looked.append((k, readings))
            queries.append(Query(start, end, _alternatives(text[token.start:token.end], readings, token)))
        if not queries:
            return spans
        spans = list(spans)
        for (k, readings), scores in zip(looked, self.neural.score_in_context(context, queries)):
            spans[k] = _ranked_by_lm(spans[k], readings, scores.alternatives)
        return spans

    def _rank_with_lm(self, text: str, tokens: list[Token], spans: list[Span], lower: list[str],
                      sentence: list[int], *, rebuild: int = 0) -> list[Span]:
        """The causal LM re-ranks each span's readings with everything before the span and a
        window after it (the channel's ln P added):
        the VERIFIED readings that its first-token shortlist keeps, the others dropped; `lm_gain`
        is how many nats the best reading beats the written words by (None where there is no
        reading to score). The word-by-word readings of the first `rebuild` spans of several words
        are built again in the LM's pass, with what it expects at each of their words (`readings`'
        `expected`)."""
        rebuilt: dict[int, list[Reading]] = {}

        def refine(k: int, first_tokens: FirstTokens) -> Query | None:
            span = spans[k]
            if k >= rebuild or not 1 < span.j - span.i <= MAX_BEAM_WORDS:
                return None
            rebuilt[k] = self.readings(lower, sentence, span.i, span.j,
                                       lambda w, words: first_tokens.logprobs(tokens[w].start, words))
            return self._query(text, tokens, span, rebuilt[k])

        queries = [self._query(text, tokens, span, span.readings) for span in spans]
        results = self.neural.score_in_context(text, queries, refine=refine if INSIDE_LM_WEIGHT else None) \
            if queries else []
        reranked = []
        for k, (span, scores) in enumerate(zip(spans, results)):
            readings = rebuilt.get(k, span.readings)
            if scores.scored is not None:
                readings = [readings[r - 1] for r in scores.scored[1:]]
            reranked.append(_ranked_by_lm(span, readings, scores.alternatives) if readings else span)
        return reranked

    @staticmethod
    def _query(text: str, tokens: list[Token], span: Span, readings: list[Reading]) -> Query:
        """The LM's query for `span` read as each of `readings`: at most VERIFIED of them, those
        that its first-token shortlist keeps (SHORTLIST_MARGIN), when there are two or more."""
        from unspin.detect.lm import Query, Shortlist

        alternatives = _alternatives(text[tokens[span.i].start:tokens[span.j - 1].end], readings, tokens[span.i])
        shortlist = Shortlist(tuple(r.score for r in readings), VERIFIED, SHORTLIST_WEIGHT, SHORTLIST_MARGIN) \
            if len(readings) > 1 else None
        return Query(tokens[span.i].start, tokens[span.j - 1].end, alternatives, shortlist)

    def _idiom_findings(self, text: str, tokens: list[Token], lower: list[str], sentence: list[int],
                        confidence: float) -> list[tuple[int, int, Finding]]:
        """Stock spinner phrases of the idiom table whose original reads better here, longest first."""
        table = self.generator.idioms
        found: list[tuple[int, int, Finding]] = []
        taken: set[int] = set()
        for n in range(table.max_words, 0, -1):
            for i in range(len(tokens) - n + 1):
                j = i + n
                if taken & set(range(i, j)) or sentence[i] != sentence[j - 1] or \
                        not all(_joined(text, tokens, k) for k in range(i, j - 1)):
                    continue
                originals = table.originals(" ".join(lower[i:j]))
                if not originals:
                    continue
                written = _context_score(self.trigram, lower, sentence, i, j, lower[i:j])
                scored = sorted(((_context_score(self.trigram, lower, sentence, i, j, o.lower().split()), o)
                                 for o in originals), key=lambda item: (-item[0], item[1]))
                if scored[0][0] <= written:
                    continue  # the phrase reads as well as its original here: ordinary English
                observed = text[tokens[i].start:tokens[j - 1].end]
                cased = [_cased(observed, o.lower(), tokens[i]) for _, o in scored]
                found.append((i, j, Finding(
                    start=tokens[i].start, end=tokens[j - 1].end, text=observed, suggestion=cased[0],
                    alternatives=tuple(cased[1:ALTERNATIVES_SHOWN + 1]), confidence=confidence,
                    detector=IDIOM_DETECTOR,
                    evidence={"idiom_table": table.version, "trigram_gain": round(scored[0][0] - written, 3)})))
                taken.update(range(i, j))
        return found

    # -- restoration --------------------------------------------------------------------------

    def finding(self, text: str, evidence: WordEvidence, span: Span, confidence: float) -> Finding:
        """What the report shows of a span: its text, the best readings in the text's case, the evidence."""
        tokens = evidence.tokens
        i, j = span.i, span.j
        start, end = tokens[i].start, tokens[j - 1].end
        observed = text[start:end]
        cased = [_cased(observed, r.wording, tokens[i]) for r in span.readings]
        suggestion = cased[0] if cased else observed
        if span.lm_scores is not None:
            cased = [c for c, lm in zip(cased, span.lm_scores) if lm >= span.lm_scores[0] - ALTERNATIVE_MARGIN]
        evidence_dict = {
            "detector_probability": round(float(evidence.probability[i:j].max()), 4),
            "suspicious_nearby": round(float(evidence.feature("window", i, j).max()), 4),
            "word_zipf": round(float(evidence.feature("zipf", i, j).min()), 2),
        }
        if span.readings:
            best = span.readings[0]
            evidence_dict["trigram_gain"] = round(best.score - best.channel - span.written, 3)
            evidence_dict["swap_logprob"] = round(best.channel, 3)
            evidence_dict["sources"] = source_names(best.sources)
        else:
            evidence_dict["no_candidate"] = True
        if span.lm_gain is not None and span.readings:
            # Shown as naturalness alone, as the trigram's gain is: the swap's cost is swap_logprob.
            evidence_dict["lm_gain"] = round(span.lm_gain - span.readings[0].channel, 3)
        return Finding(start=start, end=end, text=observed, suggestion=suggestion,
                       alternatives=tuple(dict.fromkeys(c for c in cased[1:] if c != suggestion))[:ALTERNATIVES_SHOWN],
                       confidence=confidence, detector=self.detector_name, evidence=evidence_dict)

    def readings(self, lower: list[str], sentence: list[int], i: int, j: int,
                 expected: Expected | None = None) -> list[Reading]:
        """Candidate originals for words i..j-1, best first by the trigram with both sides of the
        context plus the channel: the span as one dictionary or idiom entry, and (for a few words)
        each word kept or swapped back, decoded jointly by a beam (with `expected`, the LM's
        expectations weigh in there: `_beam`)."""
        scored: dict[str, Reading] = {}

        def add(words: list[str], channel: float, sources: int, bonus: float = 0.0) -> None:
            wording = " ".join(words)
            if wording == " ".join(lower[i:j]):
                return
            score = _context_score(self.trigram, lower, sentence, i, j, words) + channel + bonus
            if wording not in scored or score > scored[wording].score:
                scored[wording] = Reading(wording, score, sources, channel)

        for c in self.generator.for_term(" ".join(lower[i:j])):
            add(c.original.split(), c.channel, c.sources)
        if 1 < j - i <= MAX_BEAM_WORDS:
            for words, channel, sources, bonus in self._beam(lower, sentence, i, j, expected):
                add(words, channel, sources, bonus)
            if self.neural is not None:
                for wording, channel, sources in self.generator.entries_spelled(lower[i:j]):
                    add(wording.split(), channel + TERM_PRIOR, sources)
        return sorted(scored.values(), key=lambda r: (-r.score, r.wording))

    def _beam(self, lower: list[str], sentence: list[int], i: int, j: int, expected: Expected | None):
        """Word-by-word readings of a multi-word span, each word kept or swapped back, left to right:
        (words, channel, sources, bonus).

        Each word's options are first pruned with both sides of its own context (as if it stood
        alone), then combined by a beam over the span: "bosom growth" -> "breast cancer" needs
        "breast", which the left context alone ranks below "personal". Given `expected`, each word
        after the first also gains INSIDE_LM_WEIGHT times how much likelier the LM finds the
        option's first token there than the written word's (the `bonus`, in the beam and in the
        reading's score): the trigram does not know terms of art ("hydrochloric corrosive" ->
        "hydrochloric acid"), the LM, reading the word kept before it, often does."""
        left = left_context(lower, sentence, i)
        beam: list[tuple[list[str], float, float, int, float]] = [([], 0.0, 0.0, 0, 0.0)]  # words, channel, score, sources, bonus
        for k in range(i, j):
            candidates = self.generator.for_term(lower[k])
            bonus = self._inside_bonus(expected, k, lower[k], candidates) if expected is not None and k > i else {}
            ranked = sorted(candidates, key=lambda c: (
                -(_context_score(self.trigram, lower, sentence, k, k + 1, c.original.split()) + c.channel
                  + bonus.get(c.original, 0.0)), c.original))
            options = [(lower[k], 0.0, 0, 0.0)] + [(c.original, c.channel, c.sources, bonus.get(c.original, 0.0))
                                                   for c in ranked[:WORD_POOL]]
            grown = []
            for words, channel, _, sources, gained in beam:
                for option, option_channel, option_sources, option_bonus in options:
                    new = words + option.split()
                    total, extra = channel + option_channel, gained + option_bonus
                    grown.append((new, total, self.trigram.sequence_logprob(new, left) + total + extra,
                                  sources | option_sources, extra))
            grown.sort(key=lambda item: (-item[2], item[0]))
            beam = grown[:BEAM]
        return [(words, channel, sources, bonus) for words, channel, _, sources, bonus in beam]

    @staticmethod
    def _inside_bonus(expected: Expected, k: int, written: str, candidates: Sequence[Candidate]) -> dict[str, float]:
        """INSIDE_LM_WEIGHT x (ln P of each candidate's first token at word k - the written word's)."""
        logprobs = expected(k, [written] + [c.original for c in candidates])
        if not logprobs:
            return {}
        return {c.original: INSIDE_LM_WEIGHT * (lp - logprobs[0]) for c, lp in zip(candidates, logprobs[1:])}


def list_only_decision() -> DecisionModel:
    """How a run without the engine (list matching alone) scores a document: its list matches are
    read as full mode's verified findings, by full mode's document model over the findings' summed
    confidence (`FULL_DOCUMENT`): a curated list's matches, like those findings, are rarely wrong.
    The word-level decision's document model would not do: it reads the detector's evidence,
    which such a run does not have."""
    model = load_document_model(FULL_DOCUMENT, load_decision(DECISION).site)
    if model is None:
        raise ResourceMissing(f"document model {FULL_DOCUMENT} is not installed", "run scripts/train_document_score.py")
    return model


def _generator(sources: tuple[str, ...]) -> CandidateGenerator:
    return CandidateGenerator(sources, max_candidates=RESTORE_CANDIDATES, min_zipf=RESTORE_MIN_ZIPF,
                              function_rewrites=True)


def paragraph_blocks(text: str, words: int) -> list[tuple[int, int]]:
    """`text` cut into consecutive (start, end) blocks at paragraph breaks, each closed once it
    holds `words` words; a paragraph longer than twice that is cut at a sentence end (or, with
    none, at a space) so that no block grows without bound. Whitespace between blocks is left
    out; a short text is one block."""
    if len(text) <= words:  # too few characters to hold more words
        return [(0, len(text))]
    blocks: list[tuple[int, int]] = []
    start = counted = 0
    for match in _WORD_OR_BREAK_RE.finditer(text):
        word = match.group("word")
        if word:
            counted += 1
            # A paragraph too long for a block: cut after a sentence past twice the size, anywhere past three times.
            too_long = counted >= 3 * words or counted >= 2 * words and word.endswith(_SENTENCE_ENDS)
            if not too_long:
                continue
            end = match.end()
        elif counted < words:
            continue
        else:
            end = match.start()
        blocks.append((start, end))
        start, counted = _SPACE_RE.match(text, end).end(), 0
    if start < len(text) or not blocks:
        blocks.append((start, len(text)))
    return blocks


_WORD_OR_BREAK_RE = re.compile(r"(?P<word>\S+)|(?P<break>\n[ \t\r\f\v]*\n\s*)")
_SPACE_RE = re.compile(r"\s*")
_SENTENCE_ENDS = (".", "!", "?", ";")


def flagged_spans(text: str, tokens: list[Token], decided: np.ndarray, threshold: float,
                  join: float) -> list[tuple[int, int]]:
    """Spans whose most probable word reaches `threshold`. Neighbouring words of one sentence at or
    over `join` form one span, so a spinner's phrase ("in light of the fact that") is flagged whole;
    `join` does not depend on `threshold`, so the spans at a higher threshold are exactly those at
    a lower one whose confidence reaches it (discovery relies on that)."""
    spans: list[tuple[int, int]] = []
    n = len(tokens)
    k = 0
    while k < n:
        j = k + 1
        if decided[k] >= join:
            while j < n and decided[j] >= join and _joined(text, tokens, j - 1):
                j += 1
        if decided[k:j].max() >= threshold:
            spans.append((k, j))
        k = j
    return spans


def _alternatives(observed: str, readings: list[Reading], first: Token) -> tuple[str, ...]:
    """What the LM scores for a span: the written words, then each reading in their case."""
    return (observed,) + tuple(_cased(observed, r.wording, first) for r in readings)


def _read_by_a_dictionary(span: Span) -> bool:
    """Whether a dictionary (or the idiom table) offers a reading of `span`, not the LM alone."""
    return any(r.sources != LM_SOURCE for r in span.readings)


def _ranked_by_lm(span: Span, readings: list[Reading], scores: list[float]) -> Span:
    """`span` with `readings` best first by the LM's ln P (`scores`: the written words', then each
    reading's) plus the channel, and how many nats the best beats the written words by."""
    lm = [a + r.channel for a, r in zip(scores[1:], readings)]
    order = sorted(range(len(readings)), key=lambda k: (-lm[k], k))
    return dataclasses.replace(span, readings=[readings[k] for k in order], lm_gain=lm[order[0]] - scores[0],
                               lm_scores=[lm[k] for k in order])


def _written_in(text: str, tokens: list[Token], spans: list[Span], chosen: set[int]) -> tuple[str, list[int | None]]:
    """`text` with the best reading of each span in `chosen` written in, and how far each span's
    offsets moved (None for a span that overlaps one written in before it)."""
    pieces: list[str] = []
    shifts: list[int | None] = [None] * len(spans)
    at = shift = 0
    for k in sorted(range(len(spans)), key=lambda k: tokens[spans[k].i].start):
        start, end = tokens[spans[k].i].start, tokens[spans[k].j - 1].end
        if start < at:
            continue
        shifts[k] = shift
        if k in chosen:
            wording = _cased(text[start:end], spans[k].readings[0].wording, tokens[spans[k].i])
            pieces += [text[at:start], wording]
            at, shift = end, shift + len(wording) - (end - start)
    return "".join(pieces) + text[at:], shifts


def _joined(text: str, tokens: list[Token], k: int) -> bool:
    """Whether words k and k+1 are separated by one plain space (same phrase, same sentence)."""
    return text[tokens[k].end:tokens[k + 1].start] == " " and not tokens[k + 1].sentence_start


def _context_score(trigram, lower: list[str], sentence: list[int], i: int, j: int, words: list[str]) -> float:
    """Trigram ln P of `words` standing at i..j-1 and of the two written words after them."""
    return trigram.sequence_logprob(list(words) + right_context(lower, sentence, j), left_context(lower, sentence, i))


def _changes(words: list[str], lower: list[str], a: int, b: int, positions: list[int]) -> bool:
    """Whether `words`, read in place of words a..b-1, change any word at `positions`."""
    return len(words) != b - a or any(words[k - a] != lower[k] for k in positions)


def _cased(observed: str, wording: str, first: Token) -> str:
    return match_case(observed.split()[0], wording) if first.sentence_start or observed[:1].isupper() else wording


__all__ = ["FEATURES", "list_only_decision", "SPAN_FEATURES", "READING_FEATURES", "reading_features", "ranked", "LearnedEngine", "site_probabilities", "span_features", "Reading", "Span", "WordEvidence", "word_features", "flagged_spans"]
