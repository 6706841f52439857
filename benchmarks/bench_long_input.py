"""Very long input: one document of many megabytes through `unspin check`, as a user runs it.

    PYTHONPATH=src .venv/bin/python benchmarks/bench_long_input.py --mb 10 --mode fast --json /tmp/long.json

The learned-detector issue asks that a 10 MB input works within the memory bound (peak ≤ 2 GB) and
gives a whole report. The document is the Brown corpus test split's passages, repeated until the
size is reached (`--rate` spins each copy anew with MyThes, so the engine's per-word caches do not
turn the repeats into lookups), written to a file; `unspin check FILE --format json -o OUT` runs in
its own process, and this script reports its wall time, words per second, peak RSS (the child's own
`ru_maxrss`, from `os.wait4`, so the text building here does not count) and whether the report is
whole: valid JSON whose restored text is the document's length within 5 % (restorations change a
few characters; a report cut short would miss whole passages). Exit status 0 when the report is whole and the
peak is within `--max-gb`, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def build_document(megabytes: float, rate: float, seed: int, path: Path) -> tuple[int, int]:
    """Write a document of at least `megabytes` MB (10^6 bytes) to `path`; return its words and characters."""
    from unspin.evaluate.corpora import passages
    from unspin.evaluate.simulate import spin
    from unspin.lexicon import load_thesaurus
    from unspin.text.tokenize import tokenize

    pool = [p.text for p in passages("brown", "test")]
    thesaurus = load_thesaurus(("mythes",)) if rate > 0 else None
    pieces, size, copy = [], 0, 0
    while size < megabytes * 1e6:
        for k, text in enumerate(pool):
            if rate > 0:
                text = spin(text, rate=rate, seed=seed + copy * len(pool) + k, thesaurus=thesaurus).text
            pieces.append(text)
            size += len(text.encode()) + 2
            if size >= megabytes * 1e6:
                break
        copy += 1
    document = "\n\n".join(pieces)
    path.write_text(document, encoding="utf-8")
    return len(tokenize(document)), len(document)


def check(document: Path, mode: str, out: Path, timeout: float) -> dict[str, object]:
    """`unspin check` on the document in a child process: time, peak RSS, exit status."""
    command = [sys.executable, "-m", "unspin", "check", str(document), "--mode", mode, "--format", "json",
               "-o", str(out)]
    errors = out.with_suffix(".stderr")  # a file, not a pipe: a pipe read only at the end can fill and stall the child
    started = time.perf_counter()
    with errors.open("wb") as sink:
        child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=sink)
        deadline = started + timeout
        while True:
            pid, status, usage = os.wait4(child.pid, os.WNOHANG)
            if pid:
                break
            if time.perf_counter() > deadline:
                child.kill()
                pid, status, usage = os.wait4(child.pid, 0)
                break
            time.sleep(0.5)
    seconds = time.perf_counter() - started
    stderr = errors.read_bytes().decode(errors="replace")
    return {"exit": os.waitstatus_to_exitcode(status), "seconds": round(seconds, 1),
            "peak_rss_bytes": usage.ru_maxrss * 1024, "stderr_tail": stderr[-500:]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=10.0, help="document size in MB (10^6 bytes)")
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    parser.add_argument("--rate", type=float, default=0.0, help="share of words spun in each copy (0: clean)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-gb", type=float, default=2.0, help="the memory bound (10^9 bytes)")
    parser.add_argument("--timeout", type=float, default=7200.0, help="seconds the check may take")
    parser.add_argument("--json", type=Path, help="also write the record here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="unspin-long-") as folder:
        document, out = Path(folder) / "long.txt", Path(folder) / "report.json"
        words, characters = build_document(args.mb, args.rate, args.seed, document)
        result = check(document, args.mode, out, args.timeout)
        whole = False
        findings = None
        if result["exit"] == 0 and out.is_file():
            report = json.loads(out.read_text(encoding="utf-8"))
            whole = abs(len(report.get("restored", "")) - characters) <= 0.05 * characters
            findings = len(report.get("spans", []))
        record = {"megabytes": round(document.stat().st_size / 1e6, 2), "words": words, "mode": args.mode,
                  "rate": args.rate, **result, "words_per_second": round(words / result["seconds"], 1),
                  "findings": findings, "report_whole": whole}
    peak_ok = record["peak_rss_bytes"] <= args.max_gb * 1e9
    print(f"{record['megabytes']} MB, {words:,} words, {args.mode} mode at rate {args.rate}: exit {record['exit']}, "
          f"{record['seconds']} s ({record['words_per_second']:,} words/s), peak RSS "
          f"{record['peak_rss_bytes'] / 1e9:.2f} GB ({'PASS' if peak_ok else 'FAIL'}: <= {args.max_gb} GB), "
          f"report {'whole' if whole else 'NOT whole'}, {findings} findings")
    if record["exit"] != 0:
        print(record["stderr_tail"], file=sys.stderr)
    if args.json:
        args.json.write_text(json.dumps(record, indent=1) + "\n")
    return 0 if whole and peak_ok else 1


if __name__ == "__main__":
    sys.exit(main())
