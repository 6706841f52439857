"""Fit the calibration of the document score on the dev split and measure it on test.

    .venv/bin/python scripts/fit_calibration.py --mode fast [--limit 250] [--test-limit 250]

Scores the labelled documents of dev and test with the uncalibrated engine (cached under the
unspin cache, keyed by mode and limits), fits isotonic regression (and Platt scaling, printed for
comparison) on dev only, writes src/unspin/data/calibration-<mode>-v1.json, and prints the
calibration curve and ECE of the raw, Platt and isotonic scores on test.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from unspin.evaluate.calibration import (
    auc, brier, expected_calibration_error, fit_isotonic, fit_platt, format_calibration, platt, run_calibration,
)
from unspin.detect.decide import decision_file
from unspin.resources import atomic_write_text, cache_dir, file_sha256
from unspin.detect.score import calibration_file, isotonic

DATA = Path(__file__).resolve().parent.parent / "src" / "unspin" / "data"


def raw_scores(mode: str, split: str, limit: int | None) -> dict:
    # Keyed by the decision model too: scores cached under an older model would be refitted silently.
    model = file_sha256(DATA / decision_file("fast"))[:12]
    cached = cache_dir("calibration") / f"{mode}-{split}-{limit}-{model}.json"
    if cached.is_file():
        return json.loads(cached.read_text())
    from unspin.detect.engine import get_engine

    engine = get_engine(mode=mode)
    engine.calibration = None  # the raw score is what is fitted
    result = run_calibration(split, engine.check, limit=limit)
    atomic_write_text(cached, json.dumps(result))
    return result


def show(name: str, result: dict, scores: list[float]) -> None:
    ece, curve = expected_calibration_error(scores, result["labels"])
    area = auc(scores, result["labels"])
    figures = {"ece": round(ece, 4), "curve": curve, "brier": round(brier(scores, result["labels"]), 4),
               "auc": None if area is None else round(area, 4)}
    print(f"{name}: " + format_calibration({**result, **figures}), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    parser.add_argument("--limit", type=int, default=None, help="dev passages per corpus")
    parser.add_argument("--test-limit", type=int, default=None, help="test passages per corpus")
    args = parser.parse_args()

    dev = raw_scores(args.mode, "dev", args.limit)
    a, b = fit_platt(dev["scores"], dev["labels"])
    xs, ys = fit_isotonic(dev["scores"], dev["labels"])
    show("dev, raw", dev, dev["scores"])
    show("dev, isotonic (fitted here)", dev, [isotonic(xs, ys, s) for s in dev["scores"]])
    record = {
        "kind": "isotonic", "xs": [round(x, 6) for x in xs], "ys": [round(y, 6) for y in ys],
        "provenance": {"generated_by": "scripts/fit_calibration.py", "date": date.today().isoformat(),
                       "mode": args.mode, "dev_documents": dev["documents"], "dev_limit": args.limit,
                       "labelled_documents": "unspin.evaluate.calibration.labelled_documents"},
    }
    atomic_write_text(DATA / calibration_file(args.mode), json.dumps(record, indent=1) + "\n")
    test = raw_scores(args.mode, "test", args.test_limit)
    show("test, raw", test, test["scores"])
    show(f"test, Platt a={a:.3f} b={b:.3f} (not shipped)", test, [platt(a, b, s) for s in test["scores"]])
    show("test, isotonic (shipped)", test, [isotonic(xs, ys, s) for s in test["scores"]])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
