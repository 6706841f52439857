"""Time the neural verifier (unspin.detect.lm) on a ~2,000-word English text.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python benchmarks/bench_lm.py [--words 2000] [--queries 100]
        [--alternatives 6] [--dtypes float32,bfloat16] [--no-cold] [--text FILE]

Prints: load time cold (GGUF dequantised into a fresh, temporary cache) and warm (from that
cache, in a new scorer), word_logprobs over every word of the text, score_alternatives (48-token
left context) and score_in_context (up to 640 tokens) for `--queries` queries x `--alternatives`
alternatives, per dtype, how far bf16 scores are from fp32
(and whether the best alternative is the same), and the process's peak RSS. The text is only
for timing: by default the GPL-3 text Debian ships, else any licence text found in
site-packages. Query positions and alternatives are drawn from the text with a fixed seed, so
runs are comparable.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path


def find_text(explicit: str | None) -> str:
    candidates = [Path(explicit)] if explicit else [Path("/usr/share/common-licenses/GPL-3")]
    if not explicit:
        candidates += sorted(Path(sys.prefix).glob("lib/python3*/site-packages/*.dist-info/LICENSE*"))
    for path in candidates:
        if path.is_file():
            return path.read_text(encoding="utf-8", errors="replace")
    raise SystemExit("no English text found for timing; pass --text FILE")


def best_of(repeats: int, function):  # noqa: ANN001, ANN202 - a tiny timing helper
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--alternatives", type=int, default=6)
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--no-cold", action="store_true", help="skip the cold (dequantising) load")
    parser.add_argument("--text")
    args = parser.parse_args(argv)

    from unspin.detect import lm
    from unspin.text.tokenize import tokenize

    import torch

    if not args.no_cold:  # a fresh cache, so the GGUF is really dequantised
        os.environ["UNSPIN_CACHE"] = tempfile.mkdtemp(prefix="unspin-bench-")
    started = time.perf_counter()
    lm.get_scorer(dtype="float32")
    cold = time.perf_counter() - started
    lm._load_scorer.cache_clear()
    started = time.perf_counter()
    lm.get_scorer(dtype="float32")
    warm = time.perf_counter() - started
    label = "cold (dequantise + cache)" if not args.no_cold else "first in process (cache present?)"
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"load: {label} {cold:.2f} s; warm (from cache) {warm:.2f} s")

    words = tokenize(find_text(args.text))[: args.words]
    text = find_text(args.text)[: words[-1].end]
    spans = [(w.start, w.end) for w in words]
    rng = random.Random(13)
    vocabulary = sorted({w.lower for w in words if len(w.text) > 2})
    queries = []
    for word in rng.sample(words, min(args.queries, len(words))):
        others = rng.sample(vocabulary, args.alternatives - 1)
        queries.append(lm.Query(word.start, word.end, (word.text, *others)))
    print(f"text: {len(words)} words, {len(text)} chars; {len(queries)} queries x {args.alternatives} alternatives")

    results = {}
    for dtype in args.dtypes.split(","):
        scorer = lm.get_scorer(dtype=dtype)
        scorer.score_alternatives(text, queries[:4])  # warm up kernels
        t_words, _ = best_of(args.repeats, lambda s=scorer: s.word_logprobs(text, spans))
        t_alts, scores = best_of(args.repeats, lambda s=scorer: s.score_alternatives(text, queries))
        t_ctx, _ = best_of(args.repeats, lambda s=scorer: s.score_in_context(text, queries))
        results[dtype] = scores
        print(f"{scorer.name}: word_logprobs {t_words:.2f} s ({len(words) / t_words:.0f} words/s); "
              f"score_alternatives {t_alts:.2f} s ({len(queries) / t_alts:.1f} queries/s, "
              f"{len(queries) * args.alternatives / t_alts:.0f} alternatives/s); "
              f"score_in_context (whole text before each query, what the engine uses) {t_ctx:.2f} s "
              f"({len(queries) / t_ctx:.1f} queries/s, {t_alts / t_ctx:.2f}x score_alternatives)")
    if "float32" in results and "bfloat16" in results:
        a, b = results["float32"], results["bfloat16"]
        diffs = [abs(x - y) for qa, qb in zip(a, b) for x, y in zip(qa, qb)]
        same_best = sum(max(range(len(qa)), key=qa.__getitem__) == max(range(len(qb)), key=qb.__getitem__)
                        for qa, qb in zip(a, b))
        margin = [abs((qa[0] - max(qa[1:])) - (qb[0] - max(qb[1:]))) for qa, qb in zip(a, b)]
        print(f"bf16 vs fp32: |total diff| mean {sum(diffs) / len(diffs):.3f}, max {max(diffs):.3f} nats; "
              f"same best alternative in {same_best}/{len(a)} queries; "
              f"|observed-vs-best margin diff| mean {sum(margin) / len(margin):.3f}, max {max(margin):.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
