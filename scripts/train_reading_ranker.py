"""Learn fast mode's choice among a span's readings (full mode lets the LM choose).

    .venv/bin/python scripts/train_reading_ranker.py [--limit 10]

Every gold swap of dev passages spun by each held-out profile (MyThes any / rare entries, WordNet
rare entries, Moby; at 15 %) is handed to the restorer, which reads every dictionary but the one
that spun it, as the evaluation does. A conditional logit over `learned.READING_FEATURES` (the
trigram score with both sides of the context, the channel, frequency, which dictionaries link the
reading, ...) is fitted to put the original first, by gradient ascent on its log-likelihood from
the shipped order (trigram + channel), an L2 pull back towards it. Swaps whose original is not
among the readings teach nothing and are left out. Deterministic: no sampling.

Writes src/unspin/data/ranker-fast-v1.json with the dev accuracy before and after; the test split
is measured by scripts/evaluate_learned.py --gold.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

from unspin.detect.context import sentence_ids
from unspin.detect.decide import ReadingRanker
from unspin.detect.learned import READING_FEATURES, LearnedEngine, reading_features
from unspin.evaluate import learned
from unspin.evaluate.simulate import PROFILES
from unspin.resources import atomic_write_bytes
from unspin.text.tokenize import tokenize

PROFILE_NAMES = ("mythes", "mythes-rare", "wordnet-rare", "moby")
RATE = 0.15
START = {"trigram": 1.0, "channel": 1.0}  # the order readings come in: trigram score + channel
STEPS, STEP_SIZE, L2 = 400, 0.01, 0.01
OUT = Path(__file__).resolve().parents[1] / "src/unspin/data/ranker-fast-v1.json"
log = logging.getLogger("train_reading_ranker")


def collect(limit: int) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Per profile, one (features per reading, is-the-original per reading) pair per gold swap."""
    start = ReadingRanker(READING_FEATURES, tuple(START.get(f, 0.0) for f in READING_FEATURES), {})
    base = LearnedEngine(mode="fast", ranker=start)
    groups: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for name in PROFILE_NAMES:
        engine = base.restoring_without(PROFILES[name].sources)
        groups[name] = []
        for case in learned.spun_cases("dev", name, limit=limit, rates=(RATE,)):
            tokens = tokenize(case.text)
            lower, sentence = [t.lower for t in tokens], sentence_ids(tokens)
            for span, wanted in learned.located_swaps(case, tokens):
                readings = engine.readings(lower, sentence, *span)
                table = np.asarray([reading_features(r, span[1] - span[0]) for r in readings], dtype=np.float64)
                groups[name].append((table.reshape(-1, len(READING_FEATURES)),
                                     np.asarray([r.wording == wanted for r in readings])))
        log.info("%s: %d swaps", name, len(groups[name]))
    return groups


def fit(groups: dict[str, list[tuple[np.ndarray, np.ndarray]]]) -> np.ndarray:
    prior = np.asarray([START.get(f, 0.0) for f in READING_FEATURES])
    train = [(x, y) for rows in groups.values() for x, y in rows if y.any()]
    weights = prior.copy()
    for _ in range(STEPS):
        gradient = np.zeros_like(weights)
        for x, y in train:
            s = x @ weights
            p = np.exp(s - s.max())
            p /= p.sum()
            gradient += x.T @ (y / y.sum() - p)
        weights += STEP_SIZE * (gradient / len(train) - L2 * (weights - prior))
    return weights


def accuracy(groups: dict[str, list[tuple[np.ndarray, np.ndarray]]], weights: np.ndarray) -> dict[str, float]:
    """Per profile, the share of swaps whose first reading is the original."""
    return {name: round(sum(bool(len(y) and y[int(np.argmax(x @ weights))]) for x, y in rows) / max(1, len(rows)), 4)
            for name, rows in groups.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=10, help="dev passages per profile (half Brown, half nlp-corpus)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    groups = collect(args.limit)
    weights = fit(groups)
    before = accuracy(groups, np.asarray([START.get(f, 0.0) for f in READING_FEATURES]))
    after = accuracy(groups, weights)
    log.info("dev first reading right, before %s, after %s", before, after)
    model = {"format": "unspin.reading-ranker/1", "features": list(READING_FEATURES),
             "weights": [round(float(w), 6) for w in weights],
             "provenance": {"trained": time.strftime("%Y-%m-%d"), "command": "scripts/train_reading_ranker.py "
                            + " ".join(argv if argv is not None else sys.argv[1:]),
                            "dev": {"profiles": list(PROFILE_NAMES), "rate": RATE, "passages": args.limit,
                                    "swaps": {name: len(rows) for name, rows in groups.items()},
                                    "first_reading_right_before": before, "first_reading_right_after": after}}}
    atomic_write_bytes(OUT, (json.dumps(model, indent=1) + "\n").encode())
    log.info("wrote %s", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
