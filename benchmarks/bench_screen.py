"""Documents per second of `unspin screen`: local workers=1, workers=2 and Spark local[2], one run.

    PYTHONPATH=src python benchmarks/bench_screen.py [--docs 400] [--engine-docs 100]
        [--list PATH] [--list-lines 200] [--shard-size 25] [--json PATH]

The corpus: `--docs` passages (about 300 words each) of the Brown corpus test split
(`unspin.evaluate.corpora.passages("brown", "test")`, fetched on first use), cycled if more are
asked for than there are, written as one JSONL table. Two configurations:

- `lists`: `--mode fast --no-engine --fingerprints LIST`, list matching only, on all `--docs`
  documents. LIST is the first `--list-lines` entries of `--list` (by default the PPS export in
  ../shared/data/pps, evaluation data that unspin never ships). Checking costs about a
  millisecond a document here, so this measures the runners' own overhead.
- `fast`: `--mode fast` with the engine, on the first `--engine-docs` documents (0: skipped);
  checking dominates.

Each (configuration, runner) runs in a fresh child process (this script with `--_child`), so no
checker or cache carries over, into a fresh output folder: `local-1` (`screen(workers=1)`,
in-process), `local-2` (`screen(workers=2)`, two spawned worker processes) and `spark-2`
(`screen_spark` on a `local[2]` SparkContext). docs/s = documents / the wall time of the screen
call, which includes starting workers and building their checkers; for Spark the JVM start is
timed apart and docs/s is given both without and with it. For `lists`, Spark also screens the
corpus a second time in the same context ("again": Python workers up, checkers built), which
separates Spark's fixed costs from its cost per shard; the engine memoises per word, so `fast`
is not run twice. Ratios are against `local-1` of the
same run. The three outputs (summary.csv, errors.csv, reports) are compared byte for byte.

This machine's load matters: the load average before and after is printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIST = ROOT.parent / "shared" / "data" / "pps" / "fingerprints_pps_export.csv"
RUNNERS = ("local-1", "local-2", "spark-2")


def build_corpus(path: Path, n: int) -> int:
    from unspin.evaluate.corpora import passages

    docs = passages("brown", "test")
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            doc = docs[i % len(docs)]
            handle.write(json.dumps({"id": f"{doc.id}@{i}", "text": doc.text}) + "\n")
    return sum(len(docs[i % len(docs)].text.split()) for i in range(n))


def small_list(source: Path, lines: int, path: Path) -> Path:
    with open(source, encoding="utf-8") as handle:
        head = [next(handle) for _ in range(lines + 1)]  # the header and `lines` entries
    path.write_text("".join(head), encoding="utf-8")
    return path


def child(kind: str, config_json: str, out: str, warm: bool = False) -> None:
    from unspin.batch.runner import ScreenConfig, screen

    options = json.loads(config_json)
    config = ScreenConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in options.items()})
    result: dict = {"runner": kind}
    if kind.startswith("local"):
        started = time.perf_counter()
        summary = screen(config, out, workers=int(kind.split("-")[1].split("+")[0]))
        result["seconds"] = time.perf_counter() - started
    else:
        from unspin.batch.spark import SparkSessionHolder, screen_spark

        started = time.perf_counter()
        holder = SparkSessionHolder(f"local[{kind.split('-')[1].split('+')[0]}]", conf={"spark.local.dir": tempfile.mkdtemp()})
        context = holder.get()
        result["startup_s"] = time.perf_counter() - started
        started = time.perf_counter()
        summary = screen_spark(config, out, spark=context)
        result["seconds"] = time.perf_counter() - started
        if warm:  # again, into another folder: Python workers up, checkers built
            started = time.perf_counter()
            screen_spark(config, out + "-warm", spark=context)
            result["warm_s"] = time.perf_counter() - started
        holder.close()
    result["documents"] = summary["documents"]
    print("RESULT " + json.dumps(result), flush=True)


def run_child(kind: str, config: dict, out: Path, warm: bool = False) -> dict:
    done = subprocess.run([sys.executable, __file__, "--_child", kind + ("+warm" if warm else ""), json.dumps(config),
                           str(out)],
                          capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"{kind} failed:\n{done.stderr[-3000:]}")


def digest(out: Path) -> str:
    h = hashlib.sha256()
    for path in [out / "summary.csv", out / "errors.csv", *sorted((out / "reports").glob("part-*"))]:
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, default=400)
    parser.add_argument("--engine-docs", type=int, default=100)
    parser.add_argument("--list", type=Path, default=DEFAULT_LIST)
    parser.add_argument("--list-lines", type=int, default=200)
    parser.add_argument("--shard-size", type=int, default=25)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--_child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args._child:
        kind, config, out = args._child
        child(kind, config, out, warm=kind.endswith("+warm"))
        return 0

    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="unspin-bench-screen-"))
    corpus = work / "corpus.jsonl"
    words = build_corpus(corpus, args.docs)
    engine_corpus = work / "corpus-engine.jsonl"
    engine_words = build_corpus(engine_corpus, args.engine_docs) if args.engine_docs else 0
    fingerprints = small_list(args.list, args.list_lines, work / "list.csv")
    configs = {"lists": ({"inputs": [str(corpus)], "mode": "fast", "engine": False,
                          "fingerprints": [str(fingerprints)], "shard_size": args.shard_size}, args.docs, words)}
    if args.engine_docs:
        configs["fast"] = ({"inputs": [str(engine_corpus)], "mode": "fast", "shard_size": args.shard_size},
                           args.engine_docs, engine_words)
    print(f"unspin screen benchmark: {platform.processor() or platform.machine()}, {len(os.sched_getaffinity(0))} usable "
          f"cores, Python {platform.python_version()}, load average {load_before[0]:.2f}", flush=True)
    print(f"corpus: {args.docs} Brown test passages ({words:,} words); list: {args.list_lines} entries of {args.list.name}; "
          f"shard size {args.shard_size}", flush=True)
    results = []
    for name, (config, docs, nwords) in configs.items():
        rows = {}
        for kind in RUNNERS:
            out = work / f"{name}-{kind}"
            rows[kind] = run_child(kind, config, out, warm=name == "lists") | {"digest": digest(out)}
        base = docs / rows["local-1"]["seconds"]
        print(f"\n{name}: {docs} documents, {nwords:,} words"
              f"{' (--mode fast --no-engine --fingerprints LIST)' if name == 'lists' else ' (--mode fast)'}")
        print(f"  {'runner':<13} {'seconds':>8} {'docs/s':>8} {'x workers=1':>11}   startup s  docs/s with startup")
        for kind, row in rows.items():
            rate = docs / row["seconds"]
            extra = ""
            if "startup_s" in row:
                total = row["seconds"] + row["startup_s"]
                extra = f"   {row['startup_s']:9.1f}  {docs / total:8.1f} ({docs / total / base:.2f}x)"
            print(f"  {kind:<13} {row['seconds']:8.2f} {rate:8.1f} {rate / base:10.2f}x{extra}")
            if "warm_s" in row:
                warm = docs / row["warm_s"]
                print(f"  {kind + ' again':<13} {row['warm_s']:8.2f} {warm:8.1f} {warm / base:10.2f}x"
                      "   (same SparkContext: Python workers and checkers already up)")
            results.append({"config": name, "documents": docs, "words": nwords, **row, "docs_per_s": rate,
                            "ratio_vs_workers_1": rate / base})
        same = len({row["digest"] for row in rows.values()}) == 1
        print(f"  outputs identical across runners: {'yes' if same else 'NO'}")
    load_after = os.getloadavg()
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f}; outputs in {work}")
    if args.json:
        args.json.write_text(json.dumps({"results": results, "load": [load_before[0], load_after[0]]}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
