"""`unspin match [SPUN...] --against CORPUS`: which documents of CORPUS the spun texts were made from.

A thin adapter over `unspin.match`. Wired into `unspin.cli.main` with
`add_parser(sub, engine_options)` and a dispatch of "match" to `run_match(args, stdin, stdout,
stderr)`; `main` maps the errors raised here (all `unspin.errors` classes) to exit codes.

The index is built once and kept: in `--index DIR` when given, else in the cache
(`$UNSPIN_CACHE/match/<corpus sha256>-<parameters>`), where the same corpus finds it again.
CORPUS may also be an index folder itself. Without SPUN, the command only builds (or checks)
the index: `unspin match --against CORPUS --index DIR` is how an index is made ahead of time.

Results go to stdout; what is being built, and warnings, to stderr.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import TextIO

from unspin.errors import ExitCode, InputError, UsageError

log = logging.getLogger("unspin")

DESCRIPTION = """\
Find which documents of CORPUS each SPUN text was made from, even when most of its content
words were swapped for synonyms. CORPUS is a folder of .txt/.md/.jsonl files, a JSONL file of
{"id", "text"} objects, or an index folder made earlier. The index is built on first use and
saved (in --index DIR, else in the cache), so later searches of the same corpus start at once.
For each SPUN text the best sources are printed with their similarity and the passages of the
spun text next to the passages of the source they match. Without SPUN, only the index is built."""

PREVIEW = 160  # characters of each aligned passage shown by --format text


def add_parser(sub, engine_options=None) -> argparse.ArgumentParser:
    """Add the `match` subcommand. It takes no engine options (`engine_options` is accepted for
    the common signature): --restore always uses the fast engine."""
    p = sub.add_parser("match", help="find the source documents of spun texts in a corpus",
                       description=DESCRIPTION)
    p.add_argument("spun", nargs="*", metavar="SPUN",
                   help="spun documents (any format `check` reads), or - for standard input; none: only build the index")
    p.add_argument("--against", required=True, metavar="CORPUS",
                   help="a folder of .txt/.md/.jsonl files, a JSONL file of {\"id\", \"text\"}, or an index folder")
    p.add_argument("--index", metavar="DIR", default=None,
                   help="where the index of CORPUS is kept (built there if absent; default: the cache)")
    p.add_argument("--rebuild", action="store_true",
                   help="build the index again even if --index DIR (or the cache) holds one, e.g. of another corpus")
    p.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    p.add_argument("--top", type=int, default=5, metavar="K", help="how many sources to report per text (default 5)")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("-o", "--output", default=None, help="write the results here instead of standard output")
    p.add_argument("--restore", action="store_true",
                   help="restore each spun text with the fast engine first and use both forms (slower; "
                        "it did not change accuracy on the simulated benchmark)")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    return p


def run_match(args, stdin, stdout: TextIO, stderr: TextIO) -> int:
    from unspin.match.index import QueryParams

    if args.top < 1:
        raise UsageError(f"--top must be at least 1, not {args.top}")
    if list(args.spun).count("-") > 1:
        raise UsageError("standard input (-) can be read only once")
    if args.output and args.output != "-" and Path(args.output).exists() and not args.force:
        raise UsageError(f"{args.output} already exists", "add --force to overwrite it")
    queries = [_read_query(path, stdin) for path in args.spun]  # every input checked before any work
    index = open_index(args.against, args.index, rebuild=args.rebuild, stderr=stderr)
    if not queries:
        stdout.write(f"index of {len(index):,} documents ready in {index.path}\n")
        return ExitCode.OK
    params = QueryParams(restore="fast" if args.restore else "off")
    results = []
    for name, text in queries:
        start = time.perf_counter()
        matches = index.query(text, k=args.top, params=params)
        log.info("%s: %d sources in %.0f ms", name, len(matches), (time.perf_counter() - start) * 1000)
        results.append((name, text, matches))
    rendered = render_json(index, results) if args.format == "json" else render_text(index, results)
    _write(args.output, rendered, stdout)
    return ExitCode.OK


def _read_query(path: str, stdin) -> tuple[str, str]:
    from unspin.documents import read_document

    document = read_document(path, stdin)
    return ("standard input" if path == "-" else path), document.text


def open_index(against: str, index_dir: str | None, *, rebuild: bool = False, stderr: TextIO | None = None):
    """The index of `against` (a corpus or an index folder): loaded, or built and saved first."""
    from unspin.match.corpus import read_corpus
    from unspin.match.index import (
        IndexMismatch,
        IndexParams,
        build_index,
        corpus_sha256,
        is_index,
        load_index,
        read_manifest,
    )
    from unspin.resources import cache_dir

    if is_index(against):
        if rebuild:
            raise UsageError("--against names an index folder, which cannot be rebuilt without its corpus",
                             "give the corpus to --against and the folder to --index")
        if index_dir is not None and Path(index_dir).resolve() != Path(against).resolve():
            raise UsageError("--against names an index folder; --index is for building one from a corpus",
                             "leave --index out")
        return load_index(against)
    params = IndexParams()
    documents = read_corpus(against)
    if not documents:
        raise InputError(f"{against} holds no documents", "give a folder of text files or a JSONL file")
    digest = corpus_sha256(documents)
    if index_dir is None:
        settings = hashlib.sha256(json.dumps(params.to_json(), sort_keys=True).encode()).hexdigest()[:8]
        path = cache_dir("match") / f"{digest[:24]}-{settings}"
    else:
        path = Path(index_dir)
    if is_index(path) and not rebuild:
        manifest = read_manifest(path)
        if manifest.get("corpus_sha256") != digest:
            raise IndexMismatch(f"{path} holds the index of another corpus (or of an earlier version of {against})",
                                "add --rebuild to replace it, or give another --index")
        return load_index(path, params)  # refuses an index built with other parameters
    if path.exists() and not is_index(path) and path.is_dir() and any(path.iterdir()):
        raise UsageError(f"{path} is a folder that holds other files, not an index", "give an empty or new --index DIR")
    if path.exists() and not path.is_dir():
        raise UsageError(f"{path} is a file, not an index folder", "give a folder for --index")
    if stderr is not None:
        print(f"unspin: indexing {len(documents):,} documents of {against} into {path} (once)", file=stderr)
    start = time.perf_counter()
    index = build_index(documents, path, params, force=True,
                        progress=lambda n: log.info("indexed %d of %d documents", n, len(documents)))
    log.info("index built in %.1f s", time.perf_counter() - start)
    return index


def render_text(index, results) -> str:
    lines = []
    texts: dict[int, str] = {}
    for name, text, matches in results:
        lines.append(f"{name}: {len(matches)} likely {'source' if len(matches) == 1 else 'sources'} "
                     f"among {len(index):,} documents")
        if not matches:
            lines.append("  (none: no indexed document shares enough with this text)")
        for m in matches:
            how = "" if m.found_by == "lsh" else ", found by a full scan"
            lines.append(f"  {m.rank}. {m.id}  similarity {m.similarity:.3f}  "
                         f"(Jaccard ~{m.jaccard:.2f}, {m.collisions} LSH bands{how})")
            source = texts.setdefault(m.position, index.text(m.position)) if m.passages else ""
            for p in m.passages:
                spun_at = f"{_line_col(text, p.query_start)}-{_line_col(text, p.query_end)}"
                source_at = f"{_line_col(source, p.source_start)}-{_line_col(source, p.source_end)}"
                lines.append(f"       spun   {spun_at:<13} {_preview(p.query_text)}")
                lines.append(f"       source {source_at:<13} {_preview(p.source_text)}  similarity {p.similarity:.2f}")
    return "\n".join(lines) + "\n"


def render_json(index, results) -> str:
    from unspin.version import __version__

    payload = {
        "schema": "unspin.match/1",
        "unspin_version": __version__,
        "index": index.describe(),
        "results": [{"query": name, "characters": len(text), "matches": [m.to_dict() for m in matches]}
                    for name, text, matches in results],
    }
    return json.dumps(payload, indent=2, ensure_ascii=False) + "\n"


def _preview(text: str) -> str:
    flat = " ".join(text.split())
    return json.dumps(flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…", ensure_ascii=False)


def _line_col(text: str, offset: int) -> str:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return f"{line}:{column}"


def _write(output: str | None, rendered: str, stdout: TextIO) -> None:
    if output in (None, "-"):
        stdout.write(rendered)
        return
    from unspin.resources import atomic_write_text

    try:
        atomic_write_text(Path(output), rendered)
    except OSError as err:
        raise InputError(f"cannot write {output}: {err.strerror}", "check the folder exists and is writable") from None


__all__ = ["add_parser", "open_index", "render_json", "render_text", "run_match"]
