"""The detection engine: decode spun text back through the spinner's noisy channel.

For every word and short phrase it asks which originals a spinner could have turned into it
(`candidates`), how much more natural each original reads in context than what is written
(the trigram prior, then in `full` mode the neural model on the positions that survive), and
decides with a learned model (`decide`) that also sees frequencies, the channel's fan-out and
the substitution rate of the surrounding text. Neighbouring swapped words are restored jointly
("counterfeit consciousness" -> "artificial intelligence").

Pipeline per document:  tokens -> sites (spans with candidates) -> trigram scores -> features
-> [full: neural re-ranking of gated sites] -> probabilities -> non-overlapping findings.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass, field
from functools import lru_cache

from unspin.detect.candidates import IDIOM_SOURCE, THESAURUS_SOURCES, Candidate, CandidateGenerator, zipf
from unspin.detect.decide import DecisionModel, load_decision
from unspin.detect.ngram import OOV_LOGPROB, TrigramModel, load_trigram_model
from unspin.detect.context import left_context, right_context, sentence_ids, source_names
from unspin.detect.protocol import Detection
from unspin.detect.score import assemble_report, load_calibration
from unspin.errors import UsageError
from unspin.lexicon.wordcal import WordCalibration, load_word_calibration
from unspin.model import Finding, Report
from unspin.text.tokenize import Token, match_case, tokenize

MODES = ("full", "fast")
BLOCK_WORDS = 2000  # documents are processed in blocks of about this many words (memory, batching)
RATE_WINDOW = 60  # words each side over which the local substitution rate is estimated
SITE_CANDIDATES = 24  # candidates a site keeps after scoring them in context
PAIR_BEAM = 4  # candidates per word combined when restoring two neighbouring words jointly
# The neural model verifies the sites whose fast-mode probability reaches GATE_PROBABILITY, and
# re-ranks their NEURAL_ALTERNATIVES best candidates. Chosen on the dev split (80 passages at 0, 5,
# 15 and 30 %; decision retrained per setting, recall at precision >= 0.9): gate 0.12 / 5
# candidates: recall 0.37 with 107 verified sites per 1,000 clean words (213 spun); 0.15 / 3:
# 0.40 with 74 (167); 0.2 / 3: 0.35 with 42 (115); 0.3 / 3: 0.33 with 18 (62). Three candidates
# restore as many swaps as five (200 vs 198 of ~450 detected) at 60 % of the cost per site.
NEURAL_ALTERNATIVES = 3
# ... chosen by trigram score + SHORTLIST_WEIGHT * the model's ln P of their first token. On 40
# dev passages (460 swaps), the original was among the three chosen for 0.357 of the swaps by
# the trigram alone, 0.378 at weight 1 and 0.389 at 0.5 (0.324 by the model alone).
SHORTLIST_WEIGHT = 0.5
GATE_PROBABILITY = 0.15
ALTERNATIVES_SHOWN = 3
NEURAL_WINDOW = 40  # words each side over which the neural substitution rate is counted
NEURAL_DOC_MIN_WORDS = 200  # the block rate of a shorter text is counted over this many words
NEURAL_HIT_GAIN = 1.0  # nats: a verified word whose best reading beats it by this much counts as a swap
# A stock spinner idiom whose original reads better in context. The simulator cannot measure this
# rule (its dictionary must stay held out of the restorer), so its confidence is a stated prior,
# not a fitted one; the table is kept to phrases that are rare in plain writing.
IDIOM_CONFIDENCE = 0.95


@dataclass
class Site:
    """A span of one or more words that a spinner may have produced, with its candidates."""

    i: int  # first token
    j: int  # one past the last token
    candidates: list[Candidate]
    scores: list[float] = field(default_factory=list)  # trigram ln P + channel per candidate
    observed: float = 0.0  # trigram ln P of what is written
    neural: list[float] | None = None  # neural ln P + channel per candidate, when verified
    neural_observed: float = 0.0
    features: dict[str, float] = field(default_factory=dict)
    probability: float = 0.0
    screening: float = 0.0  # the fast (screening) model's probability: what the document score uses
    idiom: bool = False  # decided by the idiom table (with the language model's agreement)
    observed_span: float = 0.0  # trigram ln P of the written span given its left context
    context_pmi: float = 0.0  # ... minus its ln P without context
    neural_span: float | None = None  # neural ln P of the written span given all the text before it

    @property
    def gain(self) -> float:
        return max(self.scores) - self.observed

    def ranking(self) -> list[int]:
        """Candidate indices, best first: by the neural model when it ran, else the trigram."""
        key = self.neural if self.neural is not None else self.scores
        return sorted(range(len(self.candidates)), key=lambda k: (-key[k], k))


class Engine:
    def __init__(self, mode: str = "full", model: str | None = None, device: str = "auto",
                 decision: DecisionModel | None = None, word_calibration: WordCalibration | None = None) -> None:
        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r}", "use --mode full or --mode fast")
        self.mode = mode
        self.trigram: TrigramModel = load_trigram_model()
        self.generator = CandidateGenerator()
        # `word_calibration` is given only while that table itself is being built (scripts/).
        self.word_calibration = word_calibration if word_calibration is not None else load_word_calibration()
        # `decision` is given only while a decision model is being trained (scripts/).
        self.decision: DecisionModel = decision if decision is not None else load_decision(mode)
        # Full mode verifies the sites that its gate passes. The gate is the fast model the full
        # decision was trained behind (its inputs are the sites that gate let through), kept
        # beside a newer fast model until full mode is retrained (scripts/train_decision.py).
        self.gate: DecisionModel | None = load_decision("gate") if mode == "full" else None
        # The document score comes from the screening (fast) pass in both modes, so that one
        # calibration, fitted and measured on fast mode, holds for both; full mode's neural
        # verification decides the spans, not the score.
        self.screening: DecisionModel = self.decision if mode == "fast" else load_decision("fast")
        self.neural = None
        if mode == "full":
            from unspin.detect.lm import get_scorer

            self.neural = get_scorer(model, device)
        self.model_name = self.neural.name if self.neural is not None else None
        self.detector = "thesaurus-lm.v1" if mode == "full" else "thesaurus-ngram.v1"
        self.calibration = load_calibration("fast")

    # -- public -----------------------------------------------------------------------------

    def check(self, text: str, id=None) -> Report:
        """The engine's own report (no fingerprint lists; `unspin.pipeline` adds those)."""
        result = self.detect(text)
        return assemble_report(text, result.findings, id=id, mode=self.mode, model=self.model_name,
                               words=result.words, expected=result.expected, rate=result.rate,
                               decision=self.screening, calibration=self.calibration)

    def detect(self, text: str, threshold: float | None = None) -> Detection:
        """The engine's findings for `text`, its word count and its estimated substitution rate.

        `threshold`: report sites down to this probability instead of the decision model's own
        (discovery mines below it); the score's inputs (`expected`, `rate`) do not depend on it.
        """
        tokens = tokenize(text)
        lower = [t.lower for t in tokens]
        sentence = sentence_ids(tokens)
        findings: list[Finding] = []
        rate = 0.0  # the substitution rate, averaged over the blocks by their words
        expected = 0.0
        # Blocks bound memory on very long inputs: only findings outlive their block.
        for lo in range(0, len(tokens), BLOCK_WORDS):
            hi = min(len(tokens), lo + BLOCK_WORDS)
            sites = self.analyse(text, tokens, lo, hi, lower=lower, sentence=sentence)
            findings.extend(self.findings(text, tokens, sites, threshold))
            screened = _chosen(sites, self.screening.site.threshold, key=lambda site: site.screening)
            expected += sum(site.screening for site in screened)
            if sites:
                rate += sites[0].features["doc_rate"] * (hi - lo) / len(tokens)
        return Detection(findings, len(tokens), rate, expected)

    # -- analysis ---------------------------------------------------------------------------

    def analyse(self, text: str, tokens: list[Token], lo: int = 0, hi: int | None = None, *,
                lower: list[str] | None = None, sentence: list[int] | None = None) -> list[Site]:
        """Every site of tokens[lo:hi] with its features and probability of being spun."""
        sites = self.candidate_sites(text, tokens, lo, hi, lower=lower, sentence=sentence)
        for site in sites:
            site.probability = site.screening = self.screening.site.probability(site.features)
        if self.neural is not None:
            for site in sites:
                site.probability = self.gate.site.probability(site.features)
            self.add_neural_features(text, tokens, sites, GATE_PROBABILITY)
            for site in sites:
                verified = site.neural is not None
                site.probability = self.decision.site.probability(site.features) if verified else 0.0
        for site in sites:
            if _idiom_reads_better(site):
                site.probability = max(site.probability, IDIOM_CONFIDENCE)
                site.screening = max(site.screening, IDIOM_CONFIDENCE)
                site.idiom = True
        return sites

    def candidate_sites(self, text: str, tokens: list[Token], lo: int = 0, hi: int | None = None, *,
                        lower: list[str] | None = None, sentence: list[int] | None = None) -> list[Site]:
        """Sites of tokens[lo:hi] with candidates, trigram scores and features; nothing decided."""
        hi = len(tokens) if hi is None else hi
        lower = [t.lower for t in tokens] if lower is None else lower
        sentence = sentence_ids(tokens) if sentence is None else sentence
        sites = self._block_sites(text, tokens, lower, sentence, lo, hi)
        self._add_rate_features(sites, tokens, lo, hi)
        return sites

    def _block_sites(self, text, tokens, lower, sentence, lo, hi) -> list[Site]:
        single: dict[int, Site] = {}
        sites: list[Site] = []
        for i in range(lo, hi):
            if not self._eligible(tokens, i):
                continue
            candidates = list(self.generator.for_term(lower[i]))
            if candidates:
                site = Site(i, i + 1, candidates)
                self._score(site, lower, sentence)
                single[i] = site
                sites.append(site)
        sites.extend(self._phrase_sites(text, tokens, lower, sentence, lo, hi))
        sites.extend(self._pair_sites(single, lower, sentence))
        for site in sites:
            site.features = self._features(site, tokens, lower)
        return sites

    def _eligible(self, tokens: list[Token], i: int) -> bool:
        token = tokens[i]
        if not self.generator.is_candidate_position(token.lower):
            return False
        # A capital inside a sentence marks a name, which spinners leave alone.
        return token.sentence_start or not token.text[:1].isupper() or _title_line(tokens, i)

    def _phrase_sites(self, text, tokens, lower, sentence, lo, hi) -> list[Site]:
        """Multi-word thesaurus entries and idioms ("then again")."""
        sites = []
        for n in range(2, self.generator.max_words + 1):
            for i in range(lo, hi - n + 1):
                if sentence[i] != sentence[i + n - 1] or not _plain_gaps(text, tokens, i, i + n):
                    continue
                phrase = " ".join(lower[i:i + n])
                if not self.generator.phrase_in_lexicon(phrase):
                    continue
                candidates = list(self.generator.for_term(phrase))
                if candidates:
                    site = Site(i, i + n, candidates)
                    self._score(site, lower, sentence)
                    sites.append(site)
        return sites

    def _pair_sites(self, single: dict[int, Site], lower, sentence) -> list[Site]:
        """Two neighbouring words swapped together: combine the best candidates of each."""
        sites = []
        for i, first in single.items():
            second = single.get(i + 1)
            if second is None or sentence[i] != sentence[i + 1]:
                continue
            tops = [_top(first), _top(second)]
            combos = [
                Candidate(f"{a.original} {b.original}", a.sources & b.sources | (a.sources | b.sources) << 8,
                          a.degree * b.degree, zipf(f"{a.original} {b.original}"), a.fit + b.fit)
                for a, b in itertools.product(*tops)
            ]
            site = Site(i, i + 2, combos)
            self._score(site, lower, sentence)
            sites.append(site)
        return sites

    def _score(self, site: Site, lower: list[str], sentence: list[int]) -> None:
        left = left_context(lower, sentence, site.i)
        right = right_context(lower, sentence, site.j)
        site.observed = self.trigram.sequence_logprob(lower[site.i:site.j] + right, left)
        # How the written words fit their context, whatever the candidates: a swapped word tends
        # to be unexpected after its left context and to predict its right context badly.
        alone = self.trigram.sequence_logprob(lower[site.i:site.j], (None, None))
        site.observed_span = self.trigram.sequence_logprob(lower[site.i:site.j], left)
        site.context_pmi = site.observed_span - alone
        scores = [self.trigram.sequence_logprob(c.original.split() + right, left) + c.channel for c in site.candidates]
        # The generator's list is pruned without context; prune it again here with both sides.
        keep = sorted(range(len(scores)), key=lambda k: (-scores[k], k))[:SITE_CANDIDATES]
        site.candidates = [site.candidates[k] for k in keep]
        site.scores = [scores[k] for k in keep]

    def _features(self, site: Site, tokens: list[Token], lower: list[str]) -> dict[str, float]:
        best = site.candidates[site.ranking()[0]]
        observed = " ".join(lower[site.i:site.j])
        first = tokens[site.i]
        observed_zipf = zipf(observed)
        thesauri = best.sources & THESAURUS_SOURCES
        return {
            "gain": _clip(site.gain),
            "gain_pos": _clip(max(site.gain, 0.0)),
            "log_degree": math.log(best.degree),
            "zipf_observed": observed_zipf,
            "zipf_best": best.zipf,
            "zipf_gain": best.zipf - observed_zipf,
            "thesauri": float(bin(thesauri).count("1")),
            "idiom": float(bool(best.sources & IDIOM_SOURCE)),
            "words": float(site.j - site.i),
            "pair": float(best.sources > 0xFF),
            "candidate_words": float(len(best.original.split())),
            "sentence_start": float(first.sentence_start),
            "capitalised": float(first.text[:1].isupper() and not first.sentence_start),
            "observed_oov": float(self.trigram.logprob(lower[site.i], None, None) <= OOV_LOGPROB),
            "observed_lp": _clip(site.observed_span / (site.j - site.i)),
            "context_pmi": _clip(site.context_pmi / (site.j - site.i)),
            "right_fit": _clip(site.observed - site.observed_span),
            "lm_gain": _clip(site.scores[site.ranking()[0]] - best.channel - site.observed),
            "runner_up_gap": _clip(_runner_up_gap(site.scores)),
            "candidates": float(len(site.candidates)),
            # The noisy channel's own odds, summed over every original rather than the best one:
            # how much likelier the text is as a swap of *some* candidate than as written, and
            # how often a spinner emits this word relative to how often people write it.
            "channel_gain": _clip(_logsumexp(site.scores) - site.observed),
            "emission_ratio": _clip(_logsumexp([c.prior for c in site.candidates]) - observed_zipf * math.log(10)),
            **self._clean_text_features(site, lower, max(site.gain, 0.0)),
        }

    def _clean_text_features(self, site: Site, lower: list[str], gain_pos: float) -> dict[str, float]:
        """How this site's words behave in clean human text (per-word calibration): a word that
        reads better swapped wherever it stands is weak evidence here; a word that rarely does,
        strong evidence. Averaged over the site's words."""
        stats = [self.word_calibration.stats(word, zipf(word)) for word in lower[site.i:site.j]]
        clean_gain = sum(s.gain for s in stats) / len(stats)
        return {
            "clean_gain": clean_gain,
            "clean_hit_rate": sum(s.hit_rate for s in stats) / len(stats),
            "gain_over_clean": _clip(gain_pos - clean_gain),
        }

    def _add_rate_features(self, sites: list[Site], tokens: list[Token], lo: int, hi: int) -> None:
        """The channel's prior: how often the LM prefers a swap nearby and in the whole block."""
        n = hi - lo
        hits = [0] * (n + 1)  # prefix sums over the block of single-word sites that read better swapped
        eligible = [0] * (n + 1)
        flagged = {s.i - lo for s in sites if s.j - s.i == 1 and s.gain > 0}
        for k in range(n):
            hits[k + 1] = hits[k] + (k in flagged)
            eligible[k + 1] = eligible[k] + self.generator.is_candidate_position(tokens[lo + k].lower)
        doc_rate = hits[n] / max(1, eligible[n])
        for site in sites:
            a, b = max(0, site.i - lo - RATE_WINDOW), min(n, site.j - lo + RATE_WINDOW)
            # Leave the site's own vote out, so the rate is evidence about its neighbours.
            own = int(site.i - lo in flagged and site.j - site.i == 1)
            rate = (hits[b] - hits[a] - own) / max(1, eligible[b] - eligible[a] - 1)
            site.features["window_rate"] = rate
            site.features["doc_rate"] = doc_rate
            site.features["gain_x_rate"] = site.features["gain_pos"] * rate

    # -- neural verification ----------------------------------------------------------------

    def add_neural_features(self, text: str, tokens: list[Token], sites: list[Site], gate: float,
                            candidates: int = NEURAL_ALTERNATIVES) -> None:
        """Re-rank, with the neural model, `candidates` candidates of each site whose cheap
        probability reaches `gate`: those that rank best by the trigram score plus the model's
        own next-token probability of their first token (read off the pass that scores them)."""
        from unspin.detect.lm import Query, Shortlist

        gated = [s for s in sites if s.probability >= gate]
        queries = []
        for site in gated:
            start, end = tokens[site.i].start, tokens[site.j - 1].end
            observed = text[start:end]
            alternatives = (observed,) + tuple(_cased(observed, c.original, tokens[site.i]) for c in site.candidates)
            queries.append(Query(start, end, alternatives, Shortlist(tuple(site.scores), candidates, SHORTLIST_WEIGHT)))
        results = self.neural.score_in_context(text, queries) if queries else []
        for site, scores in zip(gated, results):
            keep = [k - 1 for k in scores.scored[1:]]
            site.candidates = [site.candidates[k] for k in keep]
            site.scores = [site.scores[k] for k in keep]
            site.neural_observed = scores.alternatives[0]
            site.neural = [score + c.channel for score, c in zip(scores.alternatives[1:], site.candidates)]
            site.neural_span = scores.observed_span
        add_neural_site_features(sites, len(tokens))

    # -- decisions ----------------------------------------------------------------------------

    def findings(self, text: str, tokens: list[Token], sites: list[Site],
                 threshold: float | None = None) -> list[Finding]:
        """The most probable sites over the threshold, without overlaps, as findings."""
        threshold = self.decision.site.threshold if threshold is None else threshold
        chosen = _chosen(sites, threshold, key=lambda site: site.probability)
        return [self._finding(text, tokens, site) for site in chosen]

    def _finding(self, text: str, tokens: list[Token], site: Site) -> Finding:
        start, end = tokens[site.i].start, tokens[site.j - 1].end
        observed = text[start:end]
        order = site.ranking()
        ranked = [site.candidates[k] for k in order]
        suggestions = [_cased(observed, c.original, tokens[site.i]) for c in ranked]
        best = ranked[0]
        # The gains say how much more natural the *suggestion* reads than the text, as the reports
        # word them; the scores also hold the channel's ln P of the swap, which is not naturalness
        # and is given on its own (an idiom can read better and still be a costly swap).
        evidence = {
            "trigram_gain": round(site.scores[order[0]] - best.channel - site.observed, 3),
            "swap_logprob": round(best.channel, 3),
            "window_rate": round(site.features["window_rate"], 4),
            "observed_zipf": round(site.features["zipf_observed"], 2),
            "suggestion_zipf": round(best.zipf, 2),
            "linked_by": source_names(best.sources),
        }
        if site.neural is not None:
            evidence["lm_gain"] = round(site.neural[order[0]] - best.channel - site.neural_observed, 3)
        return Finding(
            start=start, end=end, text=observed, suggestion=suggestions[0],
            alternatives=tuple(suggestions[1:1 + ALTERNATIVES_SHOWN]),
            confidence=site.probability, detector="idiom.v1" if site.idiom else self.detector, evidence=evidence,
        )


@lru_cache(maxsize=4)
def get_engine(mode: str = "full", model: str | None = None, device: str = "auto"):
    """One engine per configuration and process: models and tables load once. Both modes are the
    learned engine (`unspin.detect.learned`), full mode with its language model's verification;
    this module's thesaurus engine is measured beside it (scripts/evaluate_learned.py)."""
    from unspin.detect.learned import LearnedEngine

    if mode == "fast":
        return LearnedEngine(mode="fast")
    return LearnedEngine(mode=mode, model=model, device=device)


# -- helpers ----------------------------------------------------------------------------------

def _chosen(sites: list[Site], threshold: float, key) -> list[Site]:
    """The most probable sites (by `key`) at or over the threshold, without overlaps, in order."""
    chosen: list[Site] = []
    taken: set[int] = set()
    for site in sorted(sites, key=lambda s: (-key(s), s.i, s.j)):
        if key(site) < threshold:
            break
        span = set(range(site.i, site.j))
        if span & taken:
            continue
        taken |= span
        chosen.append(site)
    return sorted(chosen, key=lambda s: s.i)


def add_neural_site_features(sites: list[Site], words: int) -> None:
    """The decision's neural features, from each site's neural scores (-10 gain where unverified)."""
    for site in sites:
        neural_gain = max(site.neural) - site.neural_observed if site.neural is not None else -10.0
        site.features["neural_gain"] = _clip(neural_gain)
        site.features["neural_gain_pos"] = _clip(max(neural_gain, 0.0))
        site.features["neural_x_rate"] = site.features["neural_gain_pos"] * site.features["window_rate"]
        best = site.ranking()[0]
        site.features["neural_agrees"] = float(site.neural is not None and best == _argmax(site.scores))
        # How expected the written words are after everything before them, per word; the
        # trees read it beside their frequency (a rare word is unexpected anywhere).
        span = site.neural_span if site.neural_span is not None else site.observed_span
        site.features["neural_lp"] = _clip(span / (site.j - site.i))
        ranked = sorted(site.neural, reverse=True) if site.neural is not None else []
        site.features["neural_margin"] = _clip(ranked[0] - ranked[1]) if len(ranked) > 1 else 10.0
    _add_neural_rate_features(sites, words)


def _add_neural_rate_features(sites: list[Site], words: int) -> None:
    """The channel's prior, measured by the neural model: how many other words nearby (and in
    the block) it would rather read otherwise. Swaps come in clusters at the spinner's rate;
    a rare-but-right word in clean text has few such neighbours."""
    verified = sorted((s.i, max(s.neural) - s.neural_observed) for s in sites
                      if s.neural is not None and s.j - s.i == 1)
    positions = [i for i, _ in verified]
    hits = [0]  # prefix sums of verified single words the model prefers swapped (gain > 1 nat)
    for _, gain in verified:
        hits.append(hits[-1] + (gain > NEURAL_HIT_GAIN))
    lo_word = min((s.i for s in sites), default=0)
    span = max(1, min(words, max((s.j for s in sites), default=0)) - lo_word)  # the block's words
    for site in sites:
        a = bisect.bisect_left(positions, site.i - NEURAL_WINDOW)
        b = bisect.bisect_right(positions, site.j - 1 + NEURAL_WINDOW)
        own = sum(1 for i, gain in verified[a:b] if site.i <= i < site.j and gain > NEURAL_HIT_GAIN)
        # Fixed denominators: beyond the text's edges counts as clean, so that one swap in a short
        # text (a title, one sentence) does not look like a densely spun neighbourhood.
        site.features["neural_window"] = (hits[b] - hits[a] - own) / (2 * NEURAL_WINDOW + site.j - site.i)
        site.features["neural_doc"] = (hits[-1] - own) / max(span, NEURAL_DOC_MIN_WORDS)


def _plain_gaps(text: str, tokens: list[Token], i: int, j: int) -> bool:
    return all(text[tokens[k].end:tokens[k + 1].start] == " " for k in range(i, j - 1))


def _title_line(tokens: list[Token], i: int) -> bool:
    """Inside a run of capitalised words (a title or heading), capitals are no sign of a name."""
    near = tokens[max(0, i - 3):i + 4]
    return sum(t.text[:1].isupper() for t in near if len(t.text) > 3) >= max(3, len(near) - 1)


def _top(site: Site) -> list[Candidate]:
    return [site.candidates[k] for k in site.ranking()[:PAIR_BEAM]]


def _cased(observed: str, original: str, first: Token) -> str:
    if first.sentence_start or observed[:1].isupper():
        return match_case(observed.split()[0], original)
    return original


def _idiom_reads_better(site: Site) -> bool:
    """The site's best reading is an idiom-table original, and it reads better than the text."""
    best = site.ranking()[0]
    if not site.candidates[best].sources & IDIOM_SOURCE:
        return False
    if site.neural is not None:
        return site.neural[best] - site.candidates[best].channel > site.neural_observed
    return site.scores[best] - site.candidates[best].channel > site.observed


def _runner_up_gap(scores: list[float]) -> float:
    """How far the best candidate leads the next: how sure the restoration is."""
    top = sorted(scores, reverse=True)[:2]
    return top[0] - top[1] if len(top) == 2 else 10.0


def _logsumexp(values: list[float]) -> float:
    top = max(values)
    return top + math.log(sum(math.exp(v - top) for v in values))


def _argmax(values: list[float]) -> int:
    return max(range(len(values)), key=lambda k: (values[k], -k))


def _clip(value: float, bound: float = 30.0) -> float:
    return max(-bound, min(bound, value))
