"""A small, fixed slice of the fuzzing benchmark (`benchmarks/fuzz.py`): seconds, seed 1.

The benchmark feeds 100,000 generated inputs to the JSONL reader, the decoders, the document
extractors and the HTTP API and counts crashes, contract violations and hangs; this runs the same
code on a few hundred of them so that a change that brings one back fails CI. A failure prints the
index to replay: `PYTHONPATH=src python benchmarks/fuzz.py --seed 1 --replay INDEX`.
"""

from __future__ import annotations

import importlib.util

from bench_scripts import load_benchmark


def test_a_fixed_slice_of_the_fuzzer_finds_nothing():
    fuzz = load_benchmark("fuzz")
    web = all(importlib.util.find_spec(name) for name in ("fastapi", "python_multipart", "httpx"))
    targets = fuzz.TARGETS if web else tuple(t for t in fuzz.TARGETS if t != "api")
    tally = fuzz.run(400, seed=1, targets=targets, hang=20.0)
    assert sum(tally.inputs.values()) == 400
    summary = fuzz.report(tally, 1, 0.0)
    assert not tally.crashes and not tally.violations and not tally.hangs, summary
