"""`unspin discover CORPUS... --out CANDIDATES.csv`: candidate new fingerprints, for review.

A thin adapter over `unspin.discover`: it gathers the documents (files, folders, JSONL), runs the
engine down to `--min-confidence`, aggregates, and writes the CSV atomically. Wired into
`unspin.cli.main.build_parser` by `add_parser(sub, engine_options)`; `main` maps its errors to
exit codes.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TextIO

from unspin.errors import ExitCode, InputError, UsageError

log = logging.getLogger("unspin")

FOLDER_SUFFIXES = (".txt", ".md", ".jsonl")  # what a folder is searched for, recursively
PROGRESS_EVERY = 100  # documents between progress lines (with -v)


def add_parser(sub, engine_options) -> argparse.ArgumentParser:
    """Add the `discover` subcommand to `sub`; `engine_options(parser, lists=...)` as in main."""
    from unspin.discover import DEFAULT_MIN_CONFIDENCE, DEFAULT_MIN_SUPPORT

    p = sub.add_parser(
        "discover", help="mine candidate new fingerprints (tortured phrases) from a corpus",
        description="Aggregate the engine's findings over many documents and write the (spun phrase, "
                    "original) pairs found in at least --min-support documents as a PPS-style CSV, "
                    "most widespread first, for a person to review.")
    p.add_argument("corpus", nargs="+", metavar="CORPUS",
                   help="a UTF-8 text file, a JSONL file of {\"id\", \"text\"} objects, a folder (its *.txt, *.md "
                        "and *.jsonl files, recursively, in sorted order), or - for standard input")
    p.add_argument("--out", "-o", dest="output", required=True, metavar="CANDIDATES.csv",
                   help="where to write the candidates (- for standard output)")
    p.add_argument("--force", action="store_true", help="overwrite --out if it exists")
    p.add_argument("--min-support", type=int, default=DEFAULT_MIN_SUPPORT, metavar="N",
                   help=f"keep pairs found in at least N documents (default {DEFAULT_MIN_SUPPORT})")
    p.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE, metavar="X",
                   help=f"count the engine's findings from this confidence up (default {DEFAULT_MIN_CONFIDENCE}, "
                        "chosen in fast mode; the engine itself reports from its own, higher threshold)")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="write at most N candidates")
    p.add_argument("--input-format", choices=("text", "jsonl"), default=None,
                   help="how to read the files named and standard input (default: .jsonl files as JSONL, "
                        "others as text); files found in folders are always read by their extension")
    p.add_argument("--fingerprints", action="append", default=[], metavar="LIST",
                   help="a known fingerprint list (PPS CSV, JSON or TSV): what it matches is not a candidate; repeatable")
    engine_options(p, lists=False)
    return p


def run_discover(args, stdin, stdout: TextIO, stderr: TextIO) -> int:
    from unspin.discover import discover, write_candidates_csv

    _validate(args)
    sources = list(_sources(args.corpus, args.input_format))  # every path checked before any work
    reader = _Reader(args, stdin, sources)
    candidates = discover(reader, min_support=args.min_support, min_confidence=args.min_confidence,
                          limit=args.limit)
    if args.output == "-":
        write_candidates_csv(candidates, stdout)
    else:
        write_candidates_csv(candidates, args.output)
    where = "standard output" if args.output == "-" else args.output
    print(f"unspin: read {reader.documents:,} documents ({reader.words:,} words) from {len(sources):,} "
          f"{'source' if len(sources) == 1 else 'sources'}; wrote {len(candidates):,} "
          f"{'candidate' if len(candidates) == 1 else 'candidates'} to {where}", file=stderr)
    return ExitCode.OK


def _validate(args) -> None:
    if args.output != "-" and Path(args.output).exists() and not args.force:
        raise UsageError(f"{args.output} already exists", "add --force to overwrite it")
    if args.output != "-" and Path(args.output).is_dir():
        raise UsageError(f"{args.output} is a folder", "give a file name for the candidates CSV")
    if args.min_support < 1:
        raise UsageError(f"--min-support must be at least 1, got {args.min_support}")
    if not 0.0 <= args.min_confidence <= 1.0:
        raise UsageError(f"--min-confidence must be between 0 and 1, got {args.min_confidence}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be at least 1, got {args.limit}")
    if list(args.corpus).count("-") > 1:
        raise UsageError("standard input (-) can be read only once")


def _sources(items: Sequence[str], input_format: str | None) -> Iterator[tuple[str, str]]:
    """(path, "text" | "jsonl") for every file to read; a missing path or an empty folder is an error."""
    for item in items:
        if item == "-":
            yield item, input_format or "text"
            continue
        path = Path(item)
        if path.is_dir():
            files = sorted(
                (f for f in path.rglob("*") if f.suffix.lower() in FOLDER_SUFFIXES and f.is_file()
                 and not any(part.startswith(".") for part in f.relative_to(path).parts)),
                key=lambda f: f.relative_to(path).as_posix(),
            )
            if not files:
                raise InputError(f"{item} holds no {', '.join('*' + s for s in FOLDER_SUFFIXES)} files",
                                 "give text files, JSONL files or folders of them")
            for file in files:
                yield str(file), "jsonl" if file.suffix.lower() == ".jsonl" else "text"
        elif not path.exists():
            raise InputError(f"{item} does not exist", "check the path")
        else:
            yield item, input_format or ("jsonl" if path.suffix.lower() == ".jsonl" else "text")


class _Reader:
    """The documents as `(report, text)`, read and checked one source at a time.

    A file is one document, known by its path; a JSONL record is one, known by its "id" (records
    sharing an id count as one document) or, without one, by `FILE#N` (its N-th record).
    """

    def __init__(self, args, stdin, sources: list[tuple[str, str]]) -> None:
        self.args = args
        self.stdin = stdin
        self.sources = sources
        self.documents = 0
        self.words = 0

    def __iter__(self):
        from unspin.detect.engine import get_engine
        from unspin.discover import engine_report
        from unspin.text.load import iter_jsonl, read_input

        args = self.args
        engine = get_engine(mode=args.mode or "full", model=args.model, device=args.device or "auto")
        matcher = _known_matcher(getattr(args, "fingerprints", []) or [])
        for path, kind in self.sources:
            text = read_input(path, self.stdin)
            source = "standard input" if path == "-" else path
            if kind == "jsonl":
                # Every line of a file is checked before its first document is read.
                items = [(doc_id if doc_id is not None else f"{source}#{n}", doc)
                         for n, (doc_id, doc) in enumerate(iter_jsonl(text, source), start=1)]
            else:
                items = [(source, text)]
            for doc_id, doc in items:
                report = engine_report(engine, doc, threshold=args.min_confidence, id=doc_id)
                if matcher is not None:
                    report = _without_known(report, doc, matcher)
                self.documents += 1
                self.words += report.words
                if self.documents % PROGRESS_EVERY == 0:
                    log.info("discover: %d documents read", self.documents)
                yield report, doc


def _known_matcher(paths: Sequence[str]):
    if not paths:
        return None
    from unspin.detect.fingerprints import FingerprintMatcher
    from unspin.lexicon.fingerprints import load_fingerprints

    lists = [load_fingerprints(path) for path in paths]
    for loaded in lists:
        if not loaded.complete:
            log.warning("warning: %s", loaded.summary())
    return FingerprintMatcher(lists)


def _without_known(report, text: str, matcher):
    """The report with the known lists' matches merged in (they carry a `rule`, which `discover`
    leaves out) and the engine's findings that overlap them dropped."""
    from dataclasses import replace

    from unspin.detect.fingerprints import merge

    known = matcher.match(text)
    return replace(report, spans=tuple(merge(known, list(report.spans)))) if known else report


__all__ = ["add_parser", "run_discover"]
