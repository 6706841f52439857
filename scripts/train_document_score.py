"""Learn full mode's document score: P(a passage has at least 5 % of its words swapped), from the
findings full mode reports as well as the word-level evidence, and the verdict thresholds on it.

    .venv/bin/python scripts/train_document_score.py [--limit 150] [--dev-limit 20] [--clean-limit 60] [--rows PATH]

The word-level decision's document model (scripts/train_learned_decision.py) reads the detector's
evidence alone, which at 5 % swapped barely rises over clean text; full mode's findings are verified
by the causal LM (precision about 0.94) and say more. Each passage is one row of the features
`score.document_score` offers ("density", "doc_rate", "found": the reported findings' summed
confidence per 1,000 words, log1p), and:

1. Fitted on the decision fold of the train split (passages the detector never trained on), each
   spun once by a training profile at a rate of train_learned_decision.RATES (0 included: clean
   passages), restored without the dictionary that spun it, as the held-out evaluation restores:
   one logistic regression for each feature set in FEATURE_SETS.
2. Chosen on dev: the feature set whose model ranks dev passages spun by the held-out profiles (at
   learned.SUITE_RATES) above clean dev passages best (mean AUC over the profiles); the verdict
   thresholds on its score are set from the clean dev passages as the word-level decision's are
   (`train_learned_decision.verdict_thresholds`).

`--rows PATH` keeps the passage rows (the slow part: full mode checks every passage) in PATH and
reads them back when they were made with the same arguments. Writes
src/unspin/data/document-learned-full-v1.json, with the figures it was chosen by.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from train_learned_decision import (
    SPUN_DOCUMENT, VERDICT_GRID, as_json, decision_fold_spins, fit_logistic, verdict_thresholds,
)
from train_learned_verification import cached_rows
from unspin.detect.decide import document_file
from unspin.detect.encoder import get_detector
from unspin.detect.learned import FULL_DOCUMENT, LearnedEngine
from unspin.detect.score import document_features, found_confidence
from unspin.evaluate import learned
from unspin.evaluate.simulate import HELD_OUT_PROFILES
from unspin.resources import atomic_write_bytes

COLUMNS = ("density", "doc_rate", "found")  # a row's features, as score.document_features names them
FEATURE_SETS = (("density", "doc_rate"), ("found",), ("density", "found"), ("density", "doc_rate", "found"))
OUT = Path(__file__).resolve().parents[1] / "src/unspin/data" / document_file(FULL_DOCUMENT)
log = logging.getLogger("train_document_score")


def passage_rows(engines: dict, spins: list[tuple[learned.Case, tuple[str, ...], int]]) -> dict[str, np.ndarray]:
    """Per passage: COLUMNS, whether at least SPUN_DOCUMENT of its words were swapped, its rate, its
    suite, and whether it has a finding (a passage without one is "clean" whatever its score).
    `spins` are (case, the dictionaries its restorer leaves out, suite)."""
    x, spun, rate, suite, found_any = [], [], [], [], []
    for n, (case, sources, k) in enumerate(spins, 1):
        detection = engines[sources].detect(case.text)
        words = max(detection.words, 1)
        features = document_features(detection.expected, words, detection.rate, found_confidence(detection.findings))
        x.append([features[name] for name in COLUMNS])
        spun.append(int(len(case.gold) >= SPUN_DOCUMENT * words))
        rate.append(case.rate)
        suite.append(k)
        found_any.append(int(bool(detection.findings)))
        if n % 25 == 0:
            log.info("%d / %d passages", n, len(spins))
    return {"x": np.asarray(x), "spun": np.asarray(spun), "rate": np.asarray(rate), "suite": np.asarray(suite),
            "found_any": np.asarray(found_any)}


def probabilities(model, rows: dict[str, np.ndarray]) -> np.ndarray:
    columns = [COLUMNS.index(name) for name in model.features]
    return np.asarray([model.probability(dict(zip(model.features, row[columns]))) for row in rows["x"]])


def choose_verdict(clean_scores: np.ndarray, clean_found: np.ndarray, heavy_scores: np.ndarray) -> tuple[dict, list]:
    """The word-level decision's rule (`train_learned_decision.verdict_thresholds`) on the clean dev
    passages' scores, and how many clean and >= 10 % swapped dev passages reach each threshold."""
    reaching = clean_scores[clean_found == 1]
    chosen = verdict_thresholds(reaching.tolist(), len(clean_scores))
    table = [{"threshold": t, "clean_reaching": int((reaching >= t).sum()),
              "spun_10pct_reaching": int((heavy_scores >= t).sum())} for t in VERDICT_GRID]
    return chosen, table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--limit", type=int, default=150, help="decision-fold passages (default: 150)")
    parser.add_argument("--dev-limit", type=int, default=20, help="dev passages per held-out profile")
    parser.add_argument("--clean-limit", type=int, default=60, help="clean dev passages (and half as many technical)")
    parser.add_argument("--rows", type=Path, default=None, help="keep the passage rows here (prefix; .fold/.dev.npz)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    engine = LearnedEngine(mode="full", detector=learned.CachedDetector(get_detector()))
    engines = {(): engine}

    def kept(name: str) -> Path | None:
        return None if args.rows is None else args.rows.with_name(f"{args.rows.name}.{name}.npz")

    suites = ("clean",) + tuple(p.name for p in HELD_OUT_PROFILES)  # dev rows' suite: an index into this
    try:
        fold_spins = [(case, profile.sources, 0) for case, profile in decision_fold_spins(args.limit)]
        dev_spins = [(case, (), 0) for case in learned.clean_cases("dev", limit=args.clean_limit)]
        for k, profile in enumerate(HELD_OUT_PROFILES, 1):
            dev_spins += [(case, profile.sources, k)
                          for case in learned.spun_cases("dev", profile.name, limit=args.dev_limit)]
        for _, sources, _ in fold_spins + dev_spins:
            engines.setdefault(sources, engine.restoring_without(sources))
        key = {"engine": engine.detector_name, "model": engine.model_name, "verification": engine.decision.site.version}
        fold = cached_rows(kept("fold"), {**key, "limit": args.limit}, lambda: passage_rows(engines, fold_spins))
        dev = cached_rows(kept("dev"), {**key, "limit": [args.clean_limit, args.dev_limit]},
                          lambda: passage_rows(engines, dev_spins))
    finally:
        engine.detector.save()

    clean = dev["suite"] == 0
    sweep, best = [], None
    for names in FEATURE_SETS:
        columns = [COLUMNS.index(name) for name in names]
        model = fit_logistic(fold["x"][:, columns], fold["spun"], names, "learned-full-document-v1")
        p = probabilities(model, dev)
        aucs = {name: learned.auc(p[(dev["suite"] == k) & (dev["rate"] >= SPUN_DOCUMENT)].tolist(), p[clean].tolist())
                for k, name in enumerate(suites) if k}
        row = {"features": list(names), "dev_auc": {name: round(v, 4) for name, v in aucs.items()},
               "mean_auc": round(float(np.mean(list(aucs.values()))), 4)}
        sweep.append(row)
        log.info("%s", row)
        if best is None or row["mean_auc"] > best[1]["mean_auc"]:
            best = (model, row)
    model, chosen_row = best
    p = probabilities(model, dev)
    verdict, verdict_table = choose_verdict(p[clean], dev["found_any"][clean], p[~clean & (dev["rate"] >= 0.1)])
    log.info("chose %s, verdict thresholds %s", chosen_row, verdict)
    payload = {
        "format": "unspin.document/1", "mode": FULL_DOCUMENT, "document": as_json(model), "verdict": verdict,
        "provenance": {"trainer": "scripts/train_document_score.py", "args": vars(args) | {"rows": None},
                       "fold_passages": len(fold["spun"]), "fold_spun": int(fold["spun"].sum()),
                       "dev_passages": len(dev["spun"]), "sweep": sweep, "verdict_sweep": verdict_table},
    }
    atomic_write_bytes(OUT, (json.dumps(payload, indent=1) + "\n").encode())
    log.info("wrote %s", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
