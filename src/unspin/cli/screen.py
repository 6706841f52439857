"""`unspin screen INPUT... --out DIR`: a thin adapter over `unspin.batch.runner.screen`.

Wired into `unspin.cli.main` with `add_parser(sub, engine_options)` and a dispatch to
`run_screen(args, stdin, stdout, stderr)`; main fills --mode/--device/--model/--fingerprints
from the config file before calling it. Results (where they are, the counts) go to stdout,
progress and warnings to stderr.
"""

from __future__ import annotations

import argparse

from unspin.errors import ExitCode, UsageError

DESCRIPTION = """\
Screen folders of text files and JSONL, CSV or Parquet tables, on every core, into DIR:
reports (reports/part-*.jsonl or .parquet), a summary table (summary.csv/.parquet: one row per
document), an errors table for documents that could not be read, summary.json and run.json.
Interrupted (Ctrl-C, kill), the same command continues where it stopped; another configuration
on the same DIR is refused unless --restart."""


def add_parser(sub, engine_options) -> argparse.ArgumentParser:
    p = sub.add_parser("screen", help="screen folders and tables of documents; resumable, on every core",
                       description=DESCRIPTION)
    p.add_argument("inputs", nargs="+", metavar="INPUT",
                   help="a folder (its documents and tables, recursively), a document, or a .jsonl/.csv/.parquet "
                        "table; with --engine spark also a Hadoop URI (hdfs://, s3a://, file://)")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the run's folder (created; reused to resume); with --engine spark also a Hadoop URI")
    p.add_argument("--text-column", default="text", metavar="NAME", help="tables: the column holding the text (default: text)")
    p.add_argument("--id-column", default=None, metavar="NAME",
                   help='tables: the column holding the id (default: "id" where present, else FILE:LINE)')
    p.add_argument("--workers", type=int, default=None, metavar="N", help="worker processes (default: every core)")
    p.add_argument("--engine", choices=("local", "spark"), default="local",
                   help="local: worker processes on this machine; spark: Spark executors "
                        "(pip install 'unspin[spark]', Java 17+)")
    p.add_argument("--master", default=None, metavar="URL",
                   help="--engine spark: the master (default local[*]; spark://HOST:7077, yarn, k8s://...)")
    p.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE",
                   help="--engine spark: a Spark setting for the context started here (repeatable), e.g. "
                        "spark.jars.packages=org.apache.hadoop:hadoop-aws:VERSION for s3a:// URIs")
    p.add_argument("--against", default=None, metavar="CORPUS",
                   help="add each flagged document's likeliest source from CORPUS (a folder, a JSONL or an "
                        "`unspin match` index; indexed once) to the summary table")
    p.add_argument("--shard-size", type=int, default=200, metavar="N",
                   help="documents per shard, the unit of resumption (default: 200)")
    p.add_argument("--report-format", choices=("jsonl", "parquet"), default="jsonl",
                   help="format of the per-document reports (parquet needs pip install 'unspin[batch]')")
    p.add_argument("--restart", "--force", dest="restart", action="store_true",
                   help="discard an earlier run in DIR (or write into a non-empty folder) and start over")
    p.add_argument("--rank", type=int, default=0, metavar="R",
                   help="with --world-size: screen the shards whose index %% N == R; machines sharing "
                        "one --out folder each run one rank, and the last to finish merges")
    p.add_argument("--world-size", type=int, default=1, metavar="N", help="how many ranks share the run (default 1)")
    p.add_argument("--progress", choices=("auto", "bar", "lines", "none"), default="auto",
                   help="auto: a bar on a terminal, a line every 15 s otherwise")
    engine_options(p)
    return p


def config_from_args(args):
    from unspin.batch.runner import ScreenConfig

    return ScreenConfig(
        inputs=tuple(args.inputs), text_column=args.text_column, id_column=args.id_column,
        shard_size=args.shard_size, report_format=args.report_format, mode=args.mode, model=args.model,
        device=args.device, fingerprints=tuple(args.fingerprints), engine=not args.no_engine,
        against=getattr(args, "against_index", None),
    )


def run_screen(args, stdin, stdout, stderr) -> int:
    from unspin.batch.progress import Progress
    from unspin.batch.runner import screen

    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, not {args.workers}")
    if args.engine == "spark" and args.workers is not None:
        raise UsageError("--workers is for --engine local", "Spark uses the cores of its master: --master local[N]")
    if args.engine != "spark" and (args.master is not None or args.conf):
        raise UsageError(f"{'--master' if args.master is not None else '--conf'} is for --engine spark")
    if args.world_size < 1 or not 0 <= args.rank < args.world_size:
        raise UsageError(f"--rank {args.rank} is not in 0..{max(args.world_size, 1) - 1}",
                         "give --world-size N and a --rank from 0 to N-1")
    if args.engine == "spark" and args.world_size != 1:
        raise UsageError("--rank and --world-size are for --engine local", "Spark spreads the shards itself")
    if any("=" not in item or not item.partition("=")[0] for item in args.conf):
        raise UsageError("--conf takes KEY=VALUE", "e.g. --conf spark.executor.memory=4g")
    conf = dict(item.partition("=")[::2] for item in args.conf)
    if args.against is not None:  # the index is built (or found) once, before any worker starts
        from unspin.cli.match import open_index

        args.against_index = str(open_index(args.against, None, stderr=stderr).path.resolve())
    config = config_from_args(args)
    progress = Progress(stderr, mode=args.progress)
    try:
        if args.engine == "spark":
            from unspin.batch.spark import screen_spark

            summary = screen_spark(config, args.out, master=args.master, restart=args.restart, progress=progress,
                                   conf=conf)
        else:
            summary = screen(config, args.out, workers=args.workers, restart=args.restart, progress=progress,
                             rank=args.rank, world_size=args.world_size)
    except KeyboardInterrupt:
        print(f"unspin: interrupted; the finished shards are kept in {args.out}: run the same command again to continue",
              file=stderr)
        return ExitCode.INTERRUPTED
    if summary is None:  # this rank is done; another rank's shards are still to screen
        stdout.write(f"rank {args.rank} of {args.world_size} done in {args.out}; the last rank to finish merges\n")
        return ExitCode.OK
    verdicts = summary["verdicts"]
    stdout.write(
        f"screened {summary['documents']:,} documents into {args.out}: {verdicts['spun']:,} spun, "
        f"{verdicts['suspect']:,} suspect, {verdicts['clean']:,} clean, {summary['errors']:,} could not be read\n"
        f"summary: {args.out}/summary.csv; reports: {args.out}/{summary['outputs']['reports']}\n")
    if summary["errors"]:
        print(f"unspin: warning: {summary['errors']:,} documents could not be read or checked; "
              f"see {args.out}/errors.csv", file=stderr)
    return ExitCode.OK
