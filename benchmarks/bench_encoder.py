"""How close fast mode's swap detector runs to this machine's arithmetic limit.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_encoder.py [--words 2000] [--docs 3]

Prints, in one run: the machine's measured float32 matrix-multiply rate (torch, the threads torch
uses), the detector's FLOPs per word (counted from its configuration: the encoder layers' matrix
products and attention, times the windows' overlap and the subwords per word of the texts read),
the words per second that rate would allow, the detector's measured words per second on the same
texts, and the share of the limit it reaches. Then the whole fast-mode check (detector, decision,
restoration, report) on the same texts, so the time outside the encoder shows.
"""

from __future__ import annotations

import argparse
import json
import sys
import time


def matmul_flops(seconds: float = 3.0, size: int = 384, rows: int = 2048) -> float:
    """FLOP/s of float32 (rows x size) @ (size x 4 size) products, the encoder's commonest shape."""
    import torch

    a, b = torch.randn(rows, size), torch.randn(size, 4 * size)
    for _ in range(5):
        a @ b
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        a @ b
        done += 1
    return done * 2 * rows * size * 4 * size / (time.perf_counter() - started)


def flops_per_subword(config, window: int) -> float:
    """Multiply-adds x 2 of one subword's pass through the encoder layers and the head."""
    d, ffn, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    per_layer = 4 * d * d + 2 * d * ffn + 2 * window * d  # Q, K, V, output; feed-forward; scores and mixing
    return 2.0 * (layers * per_layer + d)


def texts(words: int, docs: int) -> list[str]:
    from unspin.evaluate import corpora

    pool = " ".join(p.text for p in corpora.passages("brown", "test")).split()
    return [" ".join(pool[k * words:(k + 1) * words]) for k in range(docs)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--docs", type=int, default=3)
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    import torch

    from unspin.detect.encoder import STRIDE, WINDOW, encode, get_detector, windows
    from unspin.pipeline import get_checker
    from unspin.text.tokenize import tokenize

    documents = texts(args.words, args.docs)
    detector = get_detector()
    checker = get_checker(mode="fast")
    checker.check(documents[0][:2000])  # warm-up: loads, caches
    rate = matmul_flops()

    subwords = words = computed = 0
    detector_seconds = check_seconds = 0.0
    for text in documents:
        tokens = tokenize(text)
        encoded = encode(text, tokens)
        words += len(tokens)
        subwords += len(encoded.ids)
        computed += sum(hi - lo + 2 for lo, hi in windows(len(encoded.ids)))
        started = time.perf_counter()
        detector.word_probabilities(text, tokens)
        detector_seconds += time.perf_counter() - started
        started = time.perf_counter()
        checker.check(text)
        check_seconds += time.perf_counter() - started
    per_subword = flops_per_subword(detector.tagger.encoder.config, WINDOW)
    per_word = per_subword * computed / words
    limit = rate / per_word
    measured = words / detector_seconds
    figures = {
        "threads": torch.get_num_threads(), "matmul_gflops": round(rate / 1e9, 1),
        "window": WINDOW, "stride": STRIDE, "subwords_per_word": round(subwords / words, 3),
        "overlap": round(computed / subwords, 3), "mflops_per_word": round(per_word / 1e6, 1),
        "limit_words_per_s": round(limit), "detector_words_per_s": round(measured),
        "share_of_limit": round(measured / limit, 3), "fast_check_words_per_s": round(words / check_seconds),
        "words": words,
    }
    for key, value in figures.items():
        print(f"{key:24} {value}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(figures, handle, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
