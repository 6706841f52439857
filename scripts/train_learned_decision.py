"""Learn the learned engine's decision on text its swap detector never saw; set its threshold on dev.

    .venv/bin/python scripts/train_learned_decision.py [--dev-limit 60]

1. Site model: a logistic regression from `learned.word_features` (the detector's logit, the
   share of suspicious words nearby and in the text, the word's frequency and kind) to "this word
   was swapped", fitted on the decision fold of the train split (`corpora.in_detector_fold` is
   false there), spun by the training profiles at the training rates.
2. Threshold, precision first, on the *dev* split spun by the held-out profiles (MyThes, which no
   part of training used) and on clean dev text: the lowest threshold at which precision is at
   least TARGET_PRECISION on spun dev text and clean dev text has at most TARGET_FALSE_FLAGS false
   flags per 1,000 words.
3. Document model: a logistic regression from (density of flagged swaps, share of suspicious
   words) to "this passage was spun at >= 5 %", fitted on the decision fold at that threshold;
   the verdict thresholds on its score are set on dev, from how many clean passages reach them.

Writes src/unspin/data/decision-learned-v1.json, with the figures it was chosen by.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
from pathlib import Path

import numpy as np

from unspin.detect.decide import DecisionModel, LogisticModel, decision_file
from unspin.detect.encoder import get_detector
from unspin.detect.learned import DECISION, FEATURES, JOIN, LearnedEngine, flagged_spans, site_probabilities, word_features
from unspin.detect.score import document_features
from unspin.evaluate import corpora, learned
from unspin.evaluate.metrics import Gold, score_text, total
from unspin.evaluate.simulate import HELD_OUT_PROFILES, TRAIN_PROFILES, Profile, spin
from unspin.lexicon.thesaurus import load_thesaurus
from unspin.model import Finding
from unspin.resources import atomic_write_bytes
from unspin.text.tokenize import covered, tokenize

RATES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4)
TARGET_PRECISION = 0.90
TARGET_FALSE_FLAGS = 1.0  # per 1,000 clean words
THRESHOLDS = tuple(round(float(t), 2) for t in np.arange(0.30, 0.99, 0.02))
SPUN_DOCUMENT = 0.05  # a passage with at least this share of swaps is "spun" for the document model
VERDICT = {"suspect": 0.5, "spun": 0.8}  # until choose_verdict sets them on dev
VERDICT_GRID = tuple(round(float(t), 2) for t in np.arange(0.05, 0.96, 0.05))
CLEAN_SUSPECT = 0.05  # share of clean dev passages allowed to reach "suspect" ...
CLEAN_SPUN = 0.01  # ... and "spun"
SITE_FEATURES = FEATURES
DOCUMENT_FEATURES = ("density", "doc_rate")
OUT = Path(__file__).resolve().parents[1] / "src/unspin/data" / decision_file(DECISION)
log = logging.getLogger("train_learned_decision")


def decision_fold_cases(limit: int | None) -> list[learned.Case]:
    """Train passages the detector never saw, each spun once (profile and rate by its hash)."""
    return [case for case, _ in decision_fold_spins(limit)]


def decision_fold_spins(limit: int | None, rate: float | None = None) -> list[tuple[learned.Case, Profile]]:
    """`decision_fold_cases`, each with the profile that spun it; given `rate`, the same passages
    and profiles spun at that rate instead (another seed, the rate in the case's id)."""
    thesauri = {p.sources: load_thesaurus(p.sources) for p in TRAIN_PROFILES}
    docs = [d for c in ("brown", "nlp-corpus") for d in corpora.passages(c, "train") if not corpora.in_detector_fold(d.id)]
    docs.sort(key=lambda d: d.id)
    if limit:
        docs = random.Random(0).sample(docs, min(limit, len(docs)))
    cases = []
    for doc in docs:
        rng = random.Random(learned._seed("decision", doc.id))
        profile = TRAIN_PROFILES[rng.randrange(len(TRAIN_PROFILES))]
        drawn = rng.choice(RATES)
        seed = learned._seed("decision-spin", doc.id) if rate is None else learned._seed("decision-spin", doc.id, str(rate))
        result = spin(doc.text, rate=drawn if rate is None else rate, seed=seed,
                      thesaurus=thesauri[profile.sources], profile=profile)
        gold = tuple(Gold(e.start, e.end, e.original) for e in result.edits)
        case_id = doc.id if rate is None else f"{doc.id}@{rate}"
        cases.append((learned.Case(case_id, result.text, gold, drawn if rate is None else rate), profile))
    return cases


def site_rows(engine: LearnedEngine, cases: list[learned.Case]) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for case in cases:
        tokens = tokenize(case.text)
        probability = engine.detector.word_probabilities(case.text, tokens)
        table, _ = word_features(tokens, probability)
        swapped = {k for g in case.gold for k in covered(tokens, g.start, g.end)}
        rows.append(table)
        labels.extend(int(t.index in swapped) for t in tokens)
    return np.concatenate(rows), np.asarray(labels)


def fit_logistic(x: np.ndarray, y: np.ndarray, names: tuple[str, ...], version: str) -> LogisticModel:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    model = LogisticRegression(C=1.0, max_iter=2000).fit((x - mean) / scale, y)
    return LogisticModel(version=version, features=names, coef=tuple(float(c) for c in model.coef_[0]),
                         intercept=float(model.intercept_[0]), mean=tuple(map(float, mean)),
                         scale=tuple(map(float, scale)), threshold=0.5)


def document_rows(engine: LearnedEngine, cases: list[learned.Case]) -> tuple[np.ndarray, np.ndarray]:
    rows, labels = [], []
    for case in cases:
        detection = engine.detect(case.text)
        features = document_features(detection.expected, max(1, detection.words), detection.rate)
        rows.append([features[name] for name in DOCUMENT_FEATURES])
        labels.append(int(len(case.gold) >= SPUN_DOCUMENT * max(1, detection.words)))
    return np.asarray(rows), np.asarray(labels)


def choose_threshold(engine: LearnedEngine, spun: list[learned.Case], clean: list[learned.Case]) -> tuple[float, list[dict]]:
    """The lowest threshold that meets both targets on dev. Detection only (each span's suggestion
    is left as written): restoration does not move the threshold, and skipping it keeps the sweep fast."""
    decided = {}
    for case in spun + clean:
        evidence = engine.evidence(case.text)
        decided[case.id] = (evidence.tokens, site_probabilities(engine.words.site, evidence.features))
    table, chosen = [], None
    for threshold in THRESHOLDS:
        s = _counts(spun, decided, threshold)
        c = _counts(clean, decided, threshold)
        row = {"threshold": threshold, "precision": s.precision, "recall": s.recall,
               "clean_false_flags_per_1k": c.false_flags_per_1k}
        table.append(row)
        log.info("%s", row)
        if chosen is None and (s.precision or 0) >= TARGET_PRECISION and (c.false_flags_per_1k or 0) <= TARGET_FALSE_FLAGS:
            chosen = threshold
    return (chosen if chosen is not None else THRESHOLDS[-1]), table


def _counts(cases: list[learned.Case], decided: dict, threshold: float):
    counts = []
    for case in cases:
        tokens, probability = decided[case.id]
        findings = [Finding(tokens[i].start, tokens[j - 1].end, case.text[tokens[i].start:tokens[j - 1].end],
                            case.text[tokens[i].start:tokens[j - 1].end], (), 1.0, "sweep")
                    for i, j in flagged_spans(case.text, tokens, probability, threshold, JOIN * threshold)]
        counts.append(score_text(case.text, case.gold, findings, words=len(tokens)))
    return total(counts)


def choose_verdict(engine: LearnedEngine, spun: list[learned.Case], clean: list[learned.Case]) -> tuple[dict, list]:
    """Verdict thresholds on the document score, set on dev: the lowest at which at most a share
    CLEAN_SUSPECT (suspect) or CLEAN_SPUN (spun) of the clean dev passages would get that verdict
    (a passage needs a finding as well as the score)."""
    _, clean_judged = learned.score(engine, clean)
    _, spun_judged = learned.score(engine, spun)
    clean_scores = [j.score for j in clean_judged if j.findings]  # no finding: "clean" whatever the score
    chosen = verdict_thresholds(clean_scores, len(clean))
    table = [{"threshold": t, "clean_reaching": sum(score >= t for score in clean_scores),
              "spun_10pct_reaching": sum(j.score >= t for j, case in zip(spun_judged, spun) if case.rate >= 0.1)}
             for t in VERDICT_GRID]
    log.info("verdict thresholds %s", chosen)
    return chosen, table


def verdict_thresholds(reaching: list[float], clean_passages: int) -> dict[str, float]:
    """The lowest VERDICT_GRID thresholds at which at most CLEAN_SUSPECT / CLEAN_SPUN of
    `clean_passages` clean passages would be called suspect / spun; `reaching` are the scores of
    those with a finding (a passage without one is "clean" whatever its score)."""
    def lowest(share: float) -> float:
        return next((t for t in VERDICT_GRID if sum(score >= t for score in reaching) <= share * clean_passages),
                    VERDICT_GRID[-1])

    return {"suspect": lowest(CLEAN_SUSPECT), "spun": max(lowest(CLEAN_SPUN), lowest(CLEAN_SUSPECT))}


def as_json(model: LogisticModel) -> dict:
    return {"kind": "logistic", "version": model.version, "features": list(model.features), "coef": list(model.coef),
            "intercept": model.intercept, "mean": list(model.mean), "scale": list(model.scale),
            "threshold": model.threshold}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=None, help="decision-fold passages (default: all)")
    parser.add_argument("--dev-limit", type=int, default=60, help="dev passages per corpus pair and profile")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    detector = learned.CachedDetector(get_detector())
    placeholder = LogisticModel("placeholder", SITE_FEATURES, (0.0,) * len(SITE_FEATURES), 0.0,
                                (0.0,) * len(SITE_FEATURES), (1.0,) * len(SITE_FEATURES), 0.5)
    document = LogisticModel("placeholder", DOCUMENT_FEATURES, (0.0, 0.0), 0.0, (0.0, 0.0), (1.0, 1.0), 0.5)
    engine = LearnedEngine(decision=DecisionModel(placeholder, document, VERDICT["suspect"], VERDICT["spun"], {}),
                           detector=detector)
    try:
        cases = decision_fold_cases(args.limit)
        x, y = site_rows(engine, cases)
        log.info("decision fold: %d passages, %d words, %d swapped", len(cases), len(y), int(y.sum()))
        site = fit_logistic(x, y, SITE_FEATURES, "learned-site-v1")
        engine.decide_with(DecisionModel(site, document, VERDICT["suspect"], VERDICT["spun"], {}))

        spun = [c for p in HELD_OUT_PROFILES for c in learned.spun_cases("dev", p.name, limit=args.dev_limit)]
        clean = learned.clean_cases("dev", limit=args.dev_limit)
        threshold, table = choose_threshold(engine, spun, clean)
        site = LogisticModel(**{**site.__dict__, "threshold": threshold})
        engine.decide_with(DecisionModel(site, document, VERDICT["suspect"], VERDICT["spun"], {}))
        dx, dy = document_rows(engine, cases)
        document = fit_logistic(dx, dy, DOCUMENT_FEATURES, "learned-document-v1")
        engine.decide_with(DecisionModel(site, document, VERDICT["suspect"], VERDICT["spun"], {}))
        verdict, verdict_table = choose_verdict(engine, spun, clean)
    finally:
        detector.save()

    data = {
        "format": "unspin.decision/1", "mode": DECISION, "site": as_json(site), "document": as_json(document),
        "verdict": verdict,
        "provenance": {
            "detector": detector.detector.version, "detector_sha256": detector.detector.sha256,
            "decision_fold": {"passages": len(cases), "words": int(len(y)), "swapped": int(y.sum())},
            "dev": {"profiles": [p.name for p in HELD_OUT_PROFILES], "rates": list(learned.SUITE_RATES),
                    "spun_cases": len(spun), "clean_cases": len(clean), "sweep": table, "verdict_sweep": verdict_table},
            "targets": {"precision": TARGET_PRECISION, "clean_false_flags_per_1k": TARGET_FALSE_FLAGS},
        },
    }
    atomic_write_bytes(OUT, (json.dumps(data, indent=1) + "\n").encode())
    log.info("threshold %.2f; wrote %s", threshold, OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
