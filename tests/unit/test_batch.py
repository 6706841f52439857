"""`unspin screen`: enumeration, bad input, exactly-once output across interruptions, refusals.

Most tests inject a tiny deterministic checker (`fake_checker`, named "module:function" so that
spawned workers can import it) instead of loading the engine; `test_real_checker_*` runs the
real `--mode fast --no-engine --fingerprints LIST` path through the CLI adapter.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from unspin.batch import runner
from unspin.batch.inputs import iter_documents, plan_sources
from unspin.batch.progress import Progress
from unspin.batch.runner import ScreenConfig, screen
from unspin.errors import UsageError
from unspin.model import Report

from fake_reports import fake_report

HERE = Path(__file__).resolve().parent
FAKE = f"{__name__}:fake_checker"
SLOW = f"{__name__}:slow_checker"
INTERRUPT = {"at": None}  # the fake raises KeyboardInterrupt on this text (in-process runs only)


# -- a checker that needs no engine ------------------------------------------------------------

class FakeChecker:
    mode, model_name, lists = "fast", None, []

    def __init__(self, sleep: float = 0.0, hold_from: int | None = None) -> None:
        self.sleep = sleep
        self.hold_from = hold_from  # documents numbered from here on never finish (until killed)

    def check(self, text: str, id=None) -> Report:
        if INTERRUPT["at"] is not None and text == INTERRUPT["at"]:
            raise KeyboardInterrupt
        if self.hold_from is not None and int(text.split()[1]) >= self.hold_from:
            time.sleep(3600)
        if "CRASH" in text:
            raise RuntimeError("boom")
        if self.sleep:
            time.sleep(self.sleep)
        return fake_report(text, id)


def fake_checker(mode, model, device, fingerprints, engine):
    return FakeChecker()


def slow_checker(mode, model, device, fingerprints, engine):
    hold = os.environ.get("UNSPIN_TEST_HOLD_FROM")
    return FakeChecker(sleep=float(os.environ.get("UNSPIN_TEST_SLEEP", "0")), hold_from=int(hold) if hold else None)


@pytest.fixture(autouse=True)
def quick_resources(monkeypatch):
    """Hashing the thesauri for run.json takes a while; once is enough (the real-path test)."""
    monkeypatch.setattr(runner, "_resources", lambda: [{"name": "test", "sha256": "0"}])


def write_jsonl(path: Path, n: int) -> Path:
    with open(path, "w", encoding="utf-8") as handle:
        for i in range(n):
            text = f"document {i} uses profound learning" if i % 3 == 0 else f"document {i} is plain"
            handle.write(json.dumps({"id": f"d{i}", "text": text}) + "\n")
    return path


def config(*inputs, **options) -> ScreenConfig:
    options.setdefault("checker_factory", FAKE)
    options.setdefault("mode", "fast")
    return ScreenConfig(inputs=tuple(str(p) for p in inputs), **options)


def outputs(out: Path) -> dict[str, bytes]:
    """Every output whose content must not depend on workers or interruptions."""
    kept = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not path.name.startswith(".") and not rel.endswith((".done.json", "summary.json", "run.json")):
            kept[rel] = path.read_bytes()
    return kept


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def summary_rows(out: Path) -> list[dict[str, str]]:
    return read_csv(out / "summary.csv")


def assert_exactly_once(out: Path, n: int) -> None:
    rows = summary_rows(out)
    assert [int(r["seq"]) for r in rows] == list(range(n))
    report_ids = [json.loads(line)["id"] for part in sorted((out / "reports").glob("part-*.jsonl"))
                  for line in part.read_text(encoding="utf-8").splitlines()]
    assert report_ids == [r["id"] for r in rows if r["status"] == "ok"]
    error_seqs = [int(r["seq"]) for r in read_csv(out / "errors.csv")]
    assert error_seqs == [int(r["seq"]) for r in rows if r["status"] == "error"]


# -- enumeration -------------------------------------------------------------------------------

def test_folders_are_walked_in_sorted_order_with_tables_expanded(tmp_path):
    root = tmp_path / "corpus"
    (root / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "b" / "z.txt").write_text("z")
    (root / "a.md").write_text("a")
    (root / "c.bin").write_bytes(b"\x00")  # no reader for it: skipped
    (root / ".secret.txt").write_text("s")
    (root / ".hidden" / "x.txt").write_text("x")
    (root / "b" / "rows.jsonl").write_text('{"text": "r1"}\n\n{"id": 7, "text": "r2"}\n')
    sources = plan_sources([str(root), str(root / "a.md")])  # a.md named twice: read once
    assert [(s.path.removeprefix(str(tmp_path)), s.kind) for s in sources] == [
        ("/corpus/a.md", "file"), ("/corpus/b/rows.jsonl", "jsonl"), ("/corpus/b/z.txt", "file")]
    docs = list(iter_documents(sources))
    assert [(d.seq, d.location, d.text) for d in docs] == [(0, "", None), (1, "line 1", "r1"), (2, "line 3", "r2"),
                                                           (3, "", None)]
    assert docs[1].id == f"{root}/b/rows.jsonl:1" and docs[2].id == 7


def test_the_output_folder_inside_the_input_is_not_screened_and_empty_input_is_fine(tmp_path):
    (tmp_path / "a.txt").write_text("profound learning")
    out = tmp_path / "results"
    assert screen(config(tmp_path), out, workers=1)["documents"] == 1
    assert screen(config(tmp_path), out, workers=1)["resumed_shards"] == 1  # its reports were not picked up
    empty = tmp_path / "empty"
    empty.mkdir()
    summary = screen(config(empty), tmp_path / "none", workers=1)
    assert (summary["documents"], summary["shards"]) == (0, 0)
    assert summary_rows(tmp_path / "none") == []


def test_missing_input_and_stdin_are_usage_errors(tmp_path):
    with pytest.raises(Exception, match="does not exist"):
        plan_sources([str(tmp_path / "nope")])
    with pytest.raises(UsageError, match="standard input"):
        plan_sources(["-"])


def test_the_local_engine_refuses_uris_naming_the_spark_engine(tmp_path, monkeypatch):
    data = write_jsonl(tmp_path / "in.jsonl", 3)
    with pytest.raises(UsageError, match=r"^--out 's3a://bucket/run' is a URI; the local engine") as err:
        screen(config(data), "s3a://bucket/run", workers=1)
    assert err.value.hint == "use --engine spark for hdfs://, s3a:// and file:// URIs"
    with pytest.raises(UsageError, match=r"^input 'hdfs://nn/corpus' is a URI; the local engine"):
        screen(config("hdfs://nn/corpus"), tmp_path / "out", workers=1)
    assert not (tmp_path / "out").exists()
    # A local name that only looks like a URI is a local path.
    (tmp_path / "x:").mkdir()
    (tmp_path / "x:" / "in.jsonl").write_bytes(data.read_bytes())
    monkeypatch.chdir(tmp_path)
    assert screen(config("x://in.jsonl"), tmp_path / "odd", workers=1)["documents"] == 3


# -- bad input is recorded, the run goes on ----------------------------------------------------

def test_bad_jsonl_rows_and_files_are_recorded_with_reasons(tmp_path):
    table = tmp_path / "in.jsonl"
    table.write_bytes(b'{"id": "a", "text": "profound learning"}\n'
                      b'{not json\n'
                      b'[1, 2]\n'
                      b'{"id": "d"}\n'
                      b'{"id": "e", "text": "caf\xe9"}\n'
                      b'{"id": "f", "text": "CRASH here"}\n'
                      b'{"id": "g", "text": "fine"}\n')
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "binary.txt").write_bytes(b"\x00\x01\x02")
    (folder / "ok.txt").write_text("plain text")
    summary = screen(config(table, folder, shard_size=3), tmp_path / "out", workers=1)
    out = tmp_path / "out"
    assert summary["documents"] == 9 and summary["errors"] == 6 and summary["screened"] == 3
    errors = read_csv(out / "errors.csv")
    reasons = {(e["location"] or Path(e["source"]).name): e["reason"] for e in errors}
    assert reasons["line 2"].startswith("not valid JSON")
    assert reasons["line 3"] == 'expected a JSON object like {"id": ..., "text": "..."}'
    assert reasons["line 4"] == 'no "text"'
    assert reasons["line 5"].startswith("not valid UTF-8")
    assert reasons["line 6"] == "internal error while checking: RuntimeError: boom"
    assert "binary" in reasons["binary.txt"]
    assert [e["id"] for e in errors][:5] == [f"{table}:2", f"{table}:3", "d", f"{table}:5", "f"]
    assert_exactly_once(out, 9)


def test_bad_csv_rows_are_recorded_with_their_line_numbers(tmp_path):
    table = tmp_path / "in.csv"
    table.write_bytes(b'id,text\n'
                      b'1,"a text over\ntwo lines with profound learning"\n'
                      b'2,too,many\n'
                      b'3,bad \xff byte\n'
                      b'=cmd,=formula profound learning\n')
    no_column = tmp_path / "other.csv"
    no_column.write_text("id,body\n1,x\n")
    summary = screen(config(table, no_column), tmp_path / "out", workers=1)
    out = tmp_path / "out"
    rows = summary_rows(out)
    assert [(r["location"], r["status"]) for r in rows] == [
        ("line 2", "ok"), ("line 4", "error"), ("line 5", "error"), ("line 6", "ok"), ("line 1", "error")]
    assert rows[1]["error"] == "expected 2 fields, found 3"
    assert rows[2]["error"] == "not valid UTF-8" and rows[2]["id"] == "3"
    assert rows[4]["error"].startswith("no column 'text' in the header")
    assert rows[3]["top_findings"] == "profound learning \u2192 deep learning (0.90)"
    assert summary["errors"] == 3
    assert rows[3]["id"] == "'=cmd"  # spreadsheet formulas are guarded in the CSV (report.csv.guard_cell)
    assert json.loads((out / "reports" / "part-00000.jsonl").read_text().splitlines()[1])["id"] == "=cmd"


def test_parquet_input_corrupt_file_and_parquet_reports(tmp_path):
    pa = pytest.importorskip("pyarrow", reason="pip install 'unspin[batch]'")
    import pyarrow.parquet as pq

    table = tmp_path / "in.parquet"
    pq.write_table(pa.table({"doc": [10, 11, 12], "body": ["profound learning", None, "plain"]}), table)
    corrupt = tmp_path / "broken.parquet"
    corrupt.write_bytes(b"PAR1 this is not parquet")
    out = tmp_path / "out"
    summary = screen(config(table, corrupt, text_column="body", id_column="doc", report_format="parquet"), out,
                     workers=1)
    assert summary["documents"] == 4 and summary["errors"] == 2
    rows = pq.read_table(out / "summary.parquet").to_pylist()
    assert [(r["seq"], r["id"], r["location"], r["status"]) for r in rows] == [
        (0, "10", "row 1", "ok"), (1, "11", "row 2", "error"), (2, "12", "row 3", "ok"), (3, str(corrupt), "", "error")]
    assert rows[1]["error"] == 'no text in "body"' and rows[3]["error"].startswith("not a readable Parquet file")
    reports = pq.read_table(out / "reports" / "part-00000.parquet").to_pylist()
    assert [(r["seq"], r["id"], r["verdict"], r["findings"]) for r in reports] == [(0, "10", "suspect", 1),
                                                                                   (2, "12", "clean", 0)]
    assert json.loads(reports[0]["spans"])[0]["suggestion"] == "deep learning"
    assert pq.read_table(out / "errors.parquet").num_rows == 2


# -- resumption --------------------------------------------------------------------------------

def test_interrupted_run_resumes_to_the_same_outputs_exactly_once(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", 47)
    reference = tmp_path / "reference"
    screen(config(data, shard_size=5), reference, workers=1)

    out = tmp_path / "out"
    INTERRUPT["at"] = "document 23 is plain"  # Ctrl-C inside shard 4
    try:
        with pytest.raises(KeyboardInterrupt):
            screen(config(data, shard_size=5), out, workers=1)
    finally:
        INTERRUPT["at"] = None
    assert sorted(runner.done_shards(out)) == [0, 1, 2, 3]
    # What a kill between the renames or during a write leaves: outputs without marker, temp files.
    (out / "reports" / "part-00004.jsonl").write_text("half\n")
    (out / "shards" / ".00005.summary.jsonl.abc123.tmp").write_text("partial")
    (out / "shards" / "00001.done.json").unlink()  # this shard's outputs stay, unmarked: redone
    (out / "shards" / "00002.errors.jsonl").unlink()  # marked, but a file is gone: redone
    summary = screen(config(data, shard_size=5), out, workers=1)
    assert summary["resumed_shards"] == 2 and summary["documents"] == 47
    assert not list(out.rglob("*.tmp"))
    assert outputs(out) == outputs(reference)
    assert_exactly_once(out, 47)
    again = screen(config(data, shard_size=5), out, workers=1)  # complete: merges again, changes nothing
    assert again["resumed_shards"] == 10 and outputs(out) == outputs(reference)


def test_kill_9_mid_run_then_rerun_gives_the_uninterrupted_outputs(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", 240)
    reference = tmp_path / "reference"
    screen(config(data, shard_size=8, checker_factory=SLOW), reference, workers=1)

    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import sys
        from unspin.batch.runner import ScreenConfig, screen
        if __name__ == "__main__":
            config = ScreenConfig(inputs=({str(data)!r},), shard_size=8, mode="fast", checker_factory={SLOW!r})
            screen(config, sys.argv[1], workers=2)
    """))
    # Documents from 24 on (shard 3 on) never finish in the first run, so the kill always lands
    # with exactly shards 0-2 done and two shards in the workers' hands, whatever the machine's speed.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(HERE.parent), os.environ.get("PYTHONPATH", "")]),
               UNSPIN_TEST_SLEEP="0.01")
    out = tmp_path / "out"
    process = subprocess.Popen([sys.executable, str(driver), str(out)], env=dict(env, UNSPIN_TEST_HOLD_FROM="24"),
                               stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while len(runner.done_shards(out)) < 3 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # a fourth shard, were one to finish, would show now
    workers = children(process.pid)
    assert len(workers) >= 2 or not Path("/proc").is_dir(), workers  # the two workers (and a resource tracker)
    os.kill(process.pid, signal.SIGKILL)
    stderr = process.communicate()[1].decode()
    deadline = time.monotonic() + 10  # orphaned workers notice within a second and stop
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(alive(pid) for pid in workers), "worker processes outlived their killed parent"
    assert process.returncode == -signal.SIGKILL, stderr
    done = len(runner.done_shards(out))
    assert done == 3, "the run was not interrupted where it was held"
    assert not (out / "summary.csv").exists()

    rerun = subprocess.run([sys.executable, str(driver), str(out)], env=dict(env, UNSPIN_TEST_SLEEP="0"),
                           capture_output=True, text=True, timeout=120, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert outputs(out) == outputs(reference)
    assert_exactly_once(out, 240)
    assert json.loads((out / "summary.json").read_text())["resumed_shards"] >= done


def children(pid: int) -> list[int]:
    """The child processes of `pid` (Linux /proc; elsewhere none are checked)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def test_workers_one_and_two_give_identical_outputs(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", 30)
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(5):
        (folder / f"{i}.txt").write_text(f"text {i} with profound learning" if i % 2 else f"text {i}")
    one, two = tmp_path / "one", tmp_path / "two"
    first = screen(config(folder, data, shard_size=4), one, workers=1)
    second = screen(config(folder, data, shard_size=4), two, workers=2)
    assert outputs(one) == outputs(two) and len(outputs(one)) > 10
    timings = ("elapsed_s", "screen_seconds", "docs_per_s")
    assert {k: v for k, v in first.items() if k not in timings} == {k: v for k, v in second.items() if k not in timings}
    assert first["verdicts"] == {"spun": 0, "suspect": 12, "clean": 23}
    assert_exactly_once(two, 35)


def test_ranks_share_one_folder_and_merge_to_the_single_run(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", 23)
    single, ranked = tmp_path / "single", tmp_path / "ranked"
    screen(config(data, shard_size=4), single, workers=1)
    assert screen(config(data, shard_size=4), ranked, workers=1, rank=0, world_size=2) is None
    assert sorted(runner.done_shards(ranked)) == [0, 2, 4]
    assert screen(config(data, shard_size=4), ranked, workers=1, rank=1, world_size=2)["documents"] == 23
    assert outputs(ranked) == outputs(single)


# -- refusals ----------------------------------------------------------------------------------

def test_another_configuration_or_changed_input_is_refused_unless_restart(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", 10)
    out = tmp_path / "out"
    screen(config(data, shard_size=4), out, workers=1)
    with pytest.raises(UsageError, match=r"another configuration \(shard_size: 4 \u2192 5\)") as err:
        screen(config(data, shard_size=5), out, workers=1)
    assert "--restart" in err.value.hint
    write_jsonl(data, 11)  # the input changed: resuming would mix two inputs
    with pytest.raises(UsageError, match="sources"):
        screen(config(data, shard_size=4), out, workers=1)
    summary = screen(config(data, shard_size=5), out, workers=1, restart=True)
    assert summary["documents"] == 11 and summary["shards"] == 3 and summary["resumed_shards"] == 0
    assert sorted(runner.done_shards(out)) == [0, 1, 2]


def test_a_folder_with_other_files_is_not_written_without_force(tmp_path):
    data = write_jsonl(tmp_path / "in.jsonl", 3)
    out = tmp_path / "out"
    out.mkdir()
    (out / "mine.txt").write_text("keep me")
    with pytest.raises(UsageError, match="not empty"):
        screen(config(data), out, workers=1)
    assert screen(config(data), out, workers=1, restart=True)["documents"] == 3
    assert (out / "mine.txt").read_text() == "keep me"


# -- the real checker, through the CLI adapter ------------------------------------------------

def cli_args(argv):
    """The `screen` subcommand as main.py builds it, then its config defaults (`_apply_config`)."""
    from unspin.cli.main import _apply_config
    from unspin.cli.screen import add_parser

    def engine_options(p):  # as in unspin.cli.main.build_parser
        p.add_argument("--mode", choices=("full", "fast"), default=None)
        p.add_argument("--model", default=None)
        p.add_argument("--device", choices=("auto", "cpu", "cuda"), default=None)
        p.add_argument("--fingerprints", action="append", default=[], metavar="LIST")
        p.add_argument("--no-engine", action="store_true")
        p.add_argument("--config", default=None)
        p.add_argument("-v", "--verbose", action="store_true")

    parser = argparse.ArgumentParser(prog="unspin")
    add_parser(parser.add_subparsers(dest="command"), engine_options)
    args = parser.parse_args(argv)
    _apply_config(args)
    return args


def test_real_checker_with_a_fingerprint_list(tmp_path, monkeypatch):
    from unspin.cli.screen import run_screen

    monkeypatch.undo()  # the real resources in run.json
    pps = tmp_path / "pps.csv"
    pps.write_text('tortured_phrase,expected_phrase,num_papers\n"""profound learning""",deep learning,3\n',
                   encoding="utf-8")
    data = write_jsonl(tmp_path / "in.jsonl", 6)
    out = tmp_path / "out"
    argv = ["screen", str(data), "--out", str(out), "--mode", "fast", "--no-engine", "--fingerprints", str(pps),
            "--workers", "1", "--progress", "lines"]
    stdout, stderr = io.StringIO(), io.StringIO()
    assert run_screen(cli_args(argv), None, stdout, stderr) == 0, stderr.getvalue()
    assert stdout.getvalue().startswith(f"screened 6 documents into {out}: 2 spun, 0 suspect, 4 clean, 0 could not")
    assert "unspin: 6/~6 documents" in stderr.getvalue()
    reports = [json.loads(line) for line in (out / "reports" / "part-00000.jsonl").read_text().splitlines()]
    assert reports[0]["schema"] == "unspin.report/1" and reports[0]["spans"][0]["rule"] == "pps:2"
    assert reports[0]["restored"] == "document 0 uses deep learning"
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["fingerprints"][0]["sha256"] == run["checker"]["lists"][0]["sha256"]
    assert {r["name"] for r in run["resources"]} >= {"idioms", "decision-learned-fast"}
    with pytest.raises(UsageError, match="engine"):  # the same DIR with the engine on: refused
        run_screen(cli_args([a for a in argv if a != "--no-engine"]), None, io.StringIO(), io.StringIO())


# -- progress ----------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_lines_off_a_terminal_and_a_bar_on_one():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(stream, interval=10, clock=clock)
    assert progress.mode == "lines"
    progress.start(1000)
    progress.skip(200)
    clock.now = 5
    progress.advance(100)
    assert stream.getvalue() == ""  # not before the interval
    clock.now = 10
    progress.advance(100)
    assert stream.getvalue() == "unspin: 400/1,000 documents, 20.0 docs/s, ETA 0:30, 200 already done\n"
    bar = Progress(io.StringIO(), mode="bar", clock=clock)
    bar.start(10)
    clock.now = 11
    bar.advance(5)
    bar.close()
    assert bar.stream.getvalue().startswith("\r\x1b[K[############............] 5/10 documents")
    assert bar.stream.getvalue().endswith("\n")


def test_screen_reads_documents_and_does_not_judge_their_references(tmp_path):
    import io
    import json as json_module

    from unspin.cli.main import main

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "paper.md").write_text("# Methods\n\nA profound learning model.\n\n# References\n\n"
                                     "Doe J. Profound learning. 2020.\n", encoding="utf-8")
    (tmp_path / "list.tsv").write_text("profound learning\tdeep learning\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    code = main(["screen", str(corpus), "--out", str(tmp_path / "run"), "--workers", "1", "--no-engine",
                 "--fingerprints", str(tmp_path / "list.tsv"), "--progress", "none"],
                stdin=io.BytesIO(b""), stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    (line,) = (tmp_path / "run" / "reports" / "part-00000.jsonl").read_text().splitlines()
    report = json_module.loads(line)
    assert [(s["text"], s["location"]["section"]) for s in report["spans"]] == [("profound learning", "Methods")]


def test_against_adds_the_source_of_flagged_documents(tmp_path):
    import csv as csv_module
    import io

    from unspin.cli.main import main

    sources = [{"id": f"src{i}", "text": f"Paragraph {i} is about the {topic} of the region and how it grew over many years, "
                f"with {topic} measured by the council in every season of the year."}
               for i, topic in enumerate(["river", "forest", "harbour", "railway", "market"])]
    (tmp_path / "corpus.jsonl").write_text("\n".join(json.dumps(s) for s in sources) + "\n", encoding="utf-8")
    spun = sources[2]["text"].replace("Paragraph 2", "Passage 2") + " It uses profound learning."
    (tmp_path / "in.jsonl").write_text(json.dumps({"id": "doc", "text": spun}) + "\n"
                                       + json.dumps({"id": "clean", "text": "Nothing to see."}) + "\n", encoding="utf-8")
    (tmp_path / "list.tsv").write_text("profound learning\tdeep learning\n", encoding="utf-8")
    err = io.StringIO()
    code = main(["screen", str(tmp_path / "in.jsonl"), "--out", str(tmp_path / "run"), "--workers", "1",
                 "--no-engine", "--fingerprints", str(tmp_path / "list.tsv"), "--progress", "none",
                 "--against", str(tmp_path / "corpus.jsonl")], stdin=io.BytesIO(b""), stdout=io.StringIO(), stderr=err)
    assert code == 0, err.getvalue()
    with open(tmp_path / "run" / "summary.csv", encoding="utf-8", newline="") as handle:
        rows = {row["id"]: row for row in csv_module.DictReader(handle)}
    assert rows["doc"]["source_id"] == "src2" and float(rows["doc"]["source_similarity"]) > 0.5
    assert rows["clean"]["source_id"] == ""  # not flagged: not looked up


def test_the_spark_submit_file_hands_over_to_python_m_unspin(monkeypatch):
    # spark-submit runs batch/spark.py as a file; it must become the `unspin` command without the
    # batch layer importing the CLI (which imports it): exec `python -m unspin` in the same process.
    from unspin.batch import spark

    called = []
    monkeypatch.setattr(spark.os, "execv", lambda path, args: called.append((path, args)))
    spark.main(["screen", "in.jsonl", "--out", "run", "--engine", "spark"])
    assert called == [(sys.executable, [sys.executable, "-m", "unspin", "screen", "in.jsonl", "--out", "run",
                                        "--engine", "spark"])]
    done = subprocess.run([sys.executable, "-m", "unspin", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("unspin "), done.stderr


def test_ranks_from_the_command_line_share_one_run(tmp_path):
    """`--rank R --world-size N`: each rank screens its own shards; the last to finish merges, and
    the merged tables hold every document once."""
    import csv as csv_module
    import io

    from unspin.cli.main import main

    (tmp_path / "in.jsonl").write_text("".join(json.dumps({"id": f"d{i}", "text": f"Text {i} about profound learning."})
                                               + "\n" for i in range(6)), encoding="utf-8")
    (tmp_path / "list.tsv").write_text("profound learning\tdeep learning\n", encoding="utf-8")
    common = ["--out", str(tmp_path / "run"), "--workers", "1", "--no-engine", "--shard-size", "2",
              "--fingerprints", str(tmp_path / "list.tsv"), "--progress", "none", "--world-size", "2"]
    first = io.StringIO()
    assert main(["screen", str(tmp_path / "in.jsonl"), *common, "--rank", "0"], stdin=io.BytesIO(b""),
                stdout=first, stderr=io.StringIO()) == 0
    assert "rank 0 of 2 done" in first.getvalue() and not (tmp_path / "run" / "summary.csv").exists()
    assert sorted(runner.done_shards(tmp_path / "run")) == [0, 2]
    assert main(["screen", str(tmp_path / "in.jsonl"), *common, "--rank", "1"], stdin=io.BytesIO(b""),
                stdout=io.StringIO(), stderr=io.StringIO()) == 0
    with open(tmp_path / "run" / "summary.csv", encoding="utf-8", newline="") as handle:
        assert [row["id"] for row in csv_module.DictReader(handle)] == [f"d{i}" for i in range(6)]
    err = io.StringIO()
    assert main(["screen", str(tmp_path / "in.jsonl"), *common, "--rank", "2"], stdin=io.BytesIO(b""),
                stdout=io.StringIO(), stderr=err) == 2
    assert "--rank 2 is not in 0..1" in err.getvalue()
