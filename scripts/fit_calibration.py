"""Fit the calibration of the document score on the dev split and measure it on test.

    .venv/bin/python scripts/fit_calibration.py --mode fast [--limit 300] [--test-limit 300]

Writes src/unspin/data/calibration-<mode>-v1.json (Platt scaling of the decision model's raw
document score, see unspin.evaluate.calibration), then prints the calibration curve and ECE of
the raw and the calibrated score on the test split. Only dev is used to fit.
"""

from __future__ import annotations

import argparse
import json
from datetime import date
from pathlib import Path

from unspin.detect.engine import get_engine
from unspin.evaluate.calibration import fit_platt, format_calibration, platt, run_calibration, expected_calibration_error
from unspin.resources import atomic_write_text
from unspin.score import calibration_file

DATA = Path(__file__).resolve().parent.parent / "src" / "unspin" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    parser.add_argument("--limit", type=int, default=None, help="dev passages per corpus")
    parser.add_argument("--test-limit", type=int, default=None, help="test passages per corpus")
    args = parser.parse_args()

    engine = get_engine(mode=args.mode)
    engine.calibration = None  # fit on the raw score
    dev = run_calibration("dev", engine.check, limit=args.limit)
    print("raw score, " + format_calibration(dev), flush=True)
    a, b = fit_platt(dev["scores"], dev["labels"])
    fitted_dev, _ = expected_calibration_error([platt(a, b, s) for s in dev["scores"]], dev["labels"])
    print(f"fitted on dev: a={a:.4f} b={b:.4f}; dev ECE {dev['ece']:.4f} -> {fitted_dev:.4f}", flush=True)
    record = {
        "kind": "platt", "a": round(a, 6), "b": round(b, 6),
        "provenance": {"generated_by": "scripts/fit_calibration.py", "date": date.today().isoformat(),
                       "mode": args.mode, "dev_documents": dev["documents"], "dev_limit": args.limit,
                       "dev_ece_raw": dev["ece"], "dev_ece_fitted": round(fitted_dev, 4)},
    }
    atomic_write_text(DATA / calibration_file(args.mode), json.dumps(record, indent=2) + "\n")
    test = run_calibration("test", engine.check, limit=args.test_limit)
    calibrated = [platt(a, b, s) for s in test["scores"]]
    ece, curve = expected_calibration_error(calibrated, test["labels"])
    print("test, raw score: " + format_calibration(test))
    print("test, calibrated: " + format_calibration({**test, "ece": ece, "curve": curve}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
