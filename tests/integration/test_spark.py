"""`unspin screen --engine spark`: a real local Spark gives the local engine's outputs, byte for byte.

One `local[2]` SparkContext serves the module (starting one takes 10-20 s). It is started by
`SparkSessionHolder`, the code the command itself uses, with the UI off, the driver on 127.0.0.1
and a temporary `spark.local.dir`; this file is shipped to the Python workers (`addPyFile`) so that
they can import the fake checker by its "module:function" name.

The fake checker leaves traces in the folder passed as its `model`: a file per construction and a
line per document checked, one log per process. That is how the driver sees what the executors'
Python workers did: the checker built once per worker process, not per shard, and a resumed run
checking only the shards that were not done.

URIs: the `file://` tests go through Hadoop's FileSystem API in the JVM (listing, streams, create,
rename, delete: the calls hdfs:// and s3a:// take), on its raw local filesystem. HDFS and S3
themselves cannot be reached here (no cluster, no network), so their own behaviour (S3A's
non-atomic rename, HDFS leases) is untested; `s3a://` is used only for its missing-jar error.

Without pyspark or Java these tests skip, saying why; with UNSPIN_REQUIRE_SPARK=1 (as in CI,
which installs both) they fail instead.
"""

from __future__ import annotations

import dataclasses
import io
import json
import os
import sys
from pathlib import Path

import pytest

from unspin.batch import runner
from unspin.batch import spark as spark_engine
from unspin.batch.inputs import have_pyarrow
from unspin.batch.runner import ScreenConfig, screen
from unspin.errors import InputError, ResourceMissing, UsageError
from unspin.model import Report

from fake_reports import fake_report

REQUIRED = os.environ.get("UNSPIN_REQUIRE_SPARK") == "1"
FAKE = f"{__name__}:fake_checker"
MISSING = f"{__name__}:missing_checker"
BROKEN = f"{__name__}:broken_checker"
TIMINGS = ("elapsed_s", "screen_seconds", "docs_per_s")


# -- a checker that needs no engine and says what it did --------------------------------------

class FakeChecker:
    mode, model_name, lists = "fast", None, []

    def __init__(self, log_dir: str) -> None:
        self.log = Path(log_dir) / f"checks-{os.getpid()}.log"
        self.stop = Path(log_dir) / "stop-at"  # a document's text: stop the run there, as a lost resource would

    def check(self, text: str, id=None) -> Report:
        with open(self.log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(id) + "\n")
        if self.stop.exists() and text == self.stop.read_text(encoding="utf-8"):
            raise ResourceMissing("stopped by the test", "remove stop-at")
        if "CRASH" in text:
            raise RuntimeError("boom")
        return fake_report(text, id)


def fake_checker(mode, model, device, fingerprints, engine):
    Path(model, f"load-{os.getpid()}-{len(list(Path(model).glob('load-*')))}").touch()
    return FakeChecker(model)


def missing_checker(mode, model, device, fingerprints, engine):
    raise ResourceMissing("the test model is not installed", "pip install nothing")


def broken_checker(mode, model, device, fingerprints, engine):
    raise RuntimeError("the factory broke")


def loads(log_dir: Path) -> int:
    return len(list(log_dir.glob("load-*")))


def checked(log_dir: Path) -> list:
    ids = [json.loads(line) for log in log_dir.glob("checks-*.log") for line in log.read_text().splitlines()]
    for path in log_dir.iterdir():  # ready for the next run
        path.unlink()
    return sorted(ids, key=str)


# -- Spark, once for the module ---------------------------------------------------------------

@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    try:
        pyspark = spark_engine.require_pyspark()
        spark_engine.find_java(spark_engine.java_needed(pyspark.__version__))
    except ResourceMissing as err:
        if REQUIRED:
            pytest.fail(f"UNSPIN_REQUIRE_SPARK=1 but Spark cannot run here: {err.one_line()}")
        pytest.skip(f"needs pyspark and Java 17+ ({err.message}); UNSPIN_REQUIRE_SPARK=1 makes this a failure")
    holder = spark_engine.SparkSessionHolder("local[2]", conf={
        "spark.local.dir": str(tmp_path_factory.mktemp("spark-local")), "spark.sql.shuffle.partitions": "2",
        "spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1", "spark.driver.bindAddress": "127.0.0.1"})
    context = holder.get()
    context.setLogLevel("ERROR")
    context.addPyFile(__file__)  # the fake checkers, for the workers
    context.addPyFile(str(Path(__file__).parents[1] / "fake_reports.py"))
    yield context
    holder.close()


@pytest.fixture()
def quick_resources(monkeypatch):
    """Hashing the thesauri for run.json takes a while; the real-checker test does it."""
    monkeypatch.setattr(runner, "_resources", lambda: [{"name": "test", "sha256": "0"}])


def make_corpus(root: Path) -> list[str]:
    """A folder of text files (one not UTF-8, one that crashes the checker) and a JSONL table
    with bad lines; returned as relative paths (the tests run in `root`), which executors must
    resolve against the driver's working directory."""
    docs = root / "docs" / "sub"
    docs.mkdir(parents=True)
    for i in range(7):
        (docs.parent if i % 2 else docs).joinpath(f"{i:02d}.txt").write_text(
            f"text {i} with profound learning" if i % 3 == 0 else f"text {i} plain", encoding="utf-8")
    (root / "docs" / "bad.txt").write_bytes(b"caf\xe9 profound learning")
    (root / "docs" / "crash.txt").write_text("CRASH here", encoding="utf-8")
    lines = [json.dumps({"id": f"r{i}", "text": f"row {i} uses profound learning" if i % 4 == 0 else f"row {i}"})
             for i in range(22)]
    lines[5] = "{not json"
    lines[9] = '["a list"]'
    lines[13] = json.dumps({"id": 13, "text": "Profound learning twice: profound learning"})
    (root / "rows.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ["docs", "rows.jsonl"]


def outputs(out: Path) -> dict[str, bytes]:
    """Every output file but the timed ones, which are compared apart."""
    kept = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and not path.name.startswith(".") and not rel.endswith((".done.json", "summary.json", "run.json")):
            kept[rel] = path.read_bytes()
    return kept


def markers(out: Path) -> dict[str, dict]:
    return {path.name: {k: v for k, v in json.loads(path.read_text()).items() if k != "seconds"}
            for path in sorted((out / "shards").glob("*.done.json"))}


def untimed(out: Path) -> tuple[dict, dict]:
    summary = {k: v for k, v in json.loads((out / "summary.json").read_text()).items() if k not in TIMINGS}
    run = {k: v for k, v in json.loads((out / "run.json").read_text()).items() if k != "created"}
    return summary, run


def assert_same_run(local: Path, spark_out: Path) -> None:
    assert outputs(spark_out) == outputs(local)
    assert markers(spark_out) == markers(local)
    assert untimed(spark_out) == untimed(local)


# -- Spark against the local engine -----------------------------------------------------------

def test_spark_writes_the_local_engines_outputs_and_loads_the_checker_once_per_worker(
        spark, quick_resources, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    traces = tmp_path / "traces"
    traces.mkdir()
    config = ScreenConfig(inputs=tuple(make_corpus(tmp_path)), shard_size=4, mode="fast", model=str(traces),
                          checker_factory=FAKE)
    local = screen(config, "local", workers=1)
    local_checked = checked(traces)
    summary = spark_engine.screen_spark(config, "spark", spark=spark)

    assert summary["documents"] == 31 and summary["shards"] == 8 and summary["errors"] == 4
    assert summary["verdicts"] == {"spun": 1, "suspect": 9, "clean": 17}
    assert_same_run(tmp_path / "local", tmp_path / "spark")
    assert {k: v for k, v in summary.items() if k not in TIMINGS} == {k: v for k, v in local.items() if k not in TIMINGS}
    # reports, shard summaries and errors; summary and errors as CSV (and Parquet with pyarrow)
    assert len(outputs(tmp_path / "spark")) == 3 * 8 + (4 if have_pyarrow() else 2)
    errors = (tmp_path / "spark" / "errors.csv").read_text(encoding="utf-8")
    assert "docs/bad.txt" in errors and "not valid UTF-8" in errors and "RuntimeError: boom" in errors
    assert "rows.jsonl:6" in errors and "not valid JSON" in errors
    # Every readable document checked once, by at most the two Python workers of local[2],
    # each building its checker once for the 8 shards.
    assert 1 <= loads(traces) <= 2
    assert checked(traces) == local_checked and len(local_checked) == 28


def test_the_real_fast_checker_with_a_fingerprint_list_gives_identical_outputs(spark, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pps.csv").write_text(
        'tortured_phrase,expected_phrase,num_papers\n"""profound learning""",deep learning,3\n', encoding="utf-8")
    config = ScreenConfig(inputs=tuple(make_corpus(tmp_path)), shard_size=5, mode="fast", engine=False,
                          fingerprints=("pps.csv",))
    local = screen(config, "local", workers=1)
    # No context given: the running one is found and used (and not stopped); master is ignored then.
    summary = spark_engine.screen_spark(config, "spark", master="local[2]")
    assert spark.getConf().get("spark.master") == "local[2]" and spark._jsc is not None

    assert_same_run(tmp_path / "local", tmp_path / "spark")
    assert summary["verdicts"] == local["verdicts"] and summary["verdicts"]["spun"] == 10
    reports = [json.loads(line) for part in sorted((tmp_path / "spark" / "reports").glob("part-*.jsonl"))
               for line in part.read_text(encoding="utf-8").splitlines()]
    flagged = next(r for r in reports if r["id"] == 13)
    assert flagged["restored"] == "Deep learning twice: deep learning" and flagged["spans"][0]["rule"] == "pps:2"
    run = json.loads((tmp_path / "spark" / "run.json").read_text())
    assert run["checker"]["lists"][0]["sha256"] == run["config"]["fingerprints"][0]["sha256"]
    # The list edited: the workers, which outlive a run, read it again (their cached checker is stale).
    with open("pps.csv", "a", encoding="utf-8") as handle:
        handle.write("text 4 plain,text four plain,1\n")
    runner._cached_checker.cache_clear()  # the same for this process, which the local run uses
    screen(config, "local-edited", workers=1)
    spark_engine.screen_spark(config, "spark-edited", spark=spark)
    assert_same_run(tmp_path / "local-edited", tmp_path / "spark-edited")
    assert "text four plain" in (tmp_path / "spark-edited" / "summary.csv").read_text(encoding="utf-8")


def test_a_resumed_spark_run_screens_only_the_shards_not_done(spark, quick_resources, tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": f"d{i}", "text": f"doc {i} profound learning" if i % 3 else f"doc {i}"})
                            + "\n" for i in range(23)), encoding="utf-8")
    traces = tmp_path / "traces"
    traces.mkdir()
    config = ScreenConfig(inputs=(str(data),), shard_size=4, mode="fast", model=str(traces), checker_factory=FAKE)
    single = tmp_path / "single"
    screen(config, single, workers=1)
    checked(traces)
    # Half the shards done by a local rank: the Spark run finds them and screens the others.
    resumed = tmp_path / "resumed"
    assert screen(config, resumed, workers=1, rank=0, world_size=2) is None
    assert checked(traces) == sorted(f"d{i}" for i in range(23) if (i // 4) % 2 == 0)
    kept = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in (resumed / "shards").glob("*.done.json")}
    assert sorted(kept) == ["00000.done.json", "00002.done.json", "00004.done.json"]

    summary = spark_engine.screen_spark(config, resumed, spark=spark)
    assert summary["resumed_shards"] == 3 and summary["documents"] == 23
    assert checked(traces) == sorted(f"d{i}" for i in range(23) if (i // 4) % 2 == 1)
    assert {name: (Path(resumed / "shards" / name).stat().st_mtime_ns, Path(resumed / "shards" / name).read_bytes())
            for name in kept} == kept
    assert outputs(resumed) == outputs(single)
    # Everything done: nothing is sent to Spark, nothing checked.
    assert spark_engine.screen_spark(config, resumed, spark=spark)["resumed_shards"] == 6
    assert checked(traces) == []


def test_an_error_on_an_executor_stops_the_run_with_that_error(spark, quick_resources, tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "a"}\n{"text": "b"}\n', encoding="utf-8")
    config = ScreenConfig(inputs=(str(data),), shard_size=1, mode="fast", checker_factory=MISSING)
    with pytest.raises(ResourceMissing, match="the test model is not installed") as err:  # ours: as raised
        spark_engine.screen_spark(config, tmp_path / "out", spark=spark)
    assert err.value.hint == "pip install nothing"
    assert runner.done_shards(tmp_path / "out") == {}
    config = ScreenConfig(inputs=(str(data),), shard_size=1, mode="fast", checker_factory=BROKEN)
    with pytest.raises(spark_engine.SparkFailed, match="RuntimeError: the factory broke") as err:  # a failed task
        spark_engine.screen_spark(config, tmp_path / "out2", spark=spark)
    assert "run the same command again" in err.value.hint


# -- URIs: Hadoop's FileSystem API ------------------------------------------------------------

def uri(path: Path) -> str:
    return f"file://{path}"


def add_documents(folder: Path) -> None:
    """One document of each format the default reader extracts, two of them with a spun phrase."""
    from docx import Document as Docx
    from reportlab.pdfgen import canvas

    folder.mkdir(parents=True)
    (folder / "paper.md").write_text("# Methods\n\nA profound learning model.\n\n# References\n\nDoe J. 2020.\n",
                                     encoding="utf-8")
    (folder / "page.html").write_text("<html><body><p>An html page, plain.</p></body></html>", encoding="utf-8")
    (folder / "article.xml").write_text(
        '<?xml version="1.0"?><article><front><article-meta><title-group><article-title>A study</article-title>'
        "</title-group></article-meta></front><body><sec><title>Methods</title><p>We trained a profound learning "
        "model.</p></sec></body></article>", encoding="utf-8")
    pdf = canvas.Canvas(str(folder / "scan.pdf"))
    pdf.drawString(72, 760, "A pdf page, plain.")
    pdf.save()
    docx = Docx()
    docx.add_paragraph("A docx paragraph, plain.")
    docx.save(str(folder / "letter.docx"))


def comparable(out: Path, uri_prefix: str | None = None, local_prefix: str = "") -> dict:
    """`outputs(out)`, with the names a run on URIs gave its inputs (`uri_prefix`...) written as
    the local paths they are (`local_prefix`...): text files byte for byte after that, Parquet
    files by their rows."""
    import pyarrow.parquet as pq

    def local(value):
        return value.replace(uri_prefix, local_prefix) if uri_prefix and isinstance(value, str) else value

    kept = {}
    for name, data in outputs(out).items():
        if name.endswith(".parquet"):
            rows = pq.read_table(io.BytesIO(data)).to_pylist()
            kept[name] = [{key: local(value) for key, value in row.items()} for row in rows]
        else:
            kept[name] = data.replace(uri_prefix.encode(), local_prefix.encode()) if uri_prefix else data
    return kept


def marker_counts(out: Path) -> dict[str, dict]:
    """The markers without what depends on the inputs' names (their hash, the run id, file sizes)."""
    return {name: dict({k: v for k, v in marker.items() if k not in ("keys_sha256", "run", "files")},
                       files=sorted(marker["files"]))
            for name, marker in markers(out).items()}


def hidden(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob(".*"))


def test_file_uris_for_documents_a_table_and_out_give_the_local_engines_outputs(spark, quick_resources, tmp_path):
    inputs = [str(tmp_path / name) for name in make_corpus(tmp_path)]
    add_documents(tmp_path / "docs" / "papers")
    (tmp_path / "docs" / ".hidden").mkdir()  # hidden files and folders are left out, as locally
    (tmp_path / "docs" / ".hidden" / "x.txt").write_text("profound learning", encoding="utf-8")
    (tmp_path / "docs" / ".draft.txt").write_text("profound learning", encoding="utf-8")
    traces = tmp_path / "traces"
    traces.mkdir()
    config = ScreenConfig(inputs=tuple(inputs), shard_size=4, mode="fast", model=str(traces), checker_factory=FAKE)
    local = screen(config, tmp_path / "local", workers=1)
    local_checked = checked(traces)

    remote = dataclasses.replace(config, inputs=tuple(uri(Path(p)) for p in inputs))
    spark_out = tmp_path / "docs" / "spark"  # inside an input folder: left out of the input
    summary = spark_engine.screen_spark(remote, uri(spark_out), spark=spark)

    assert summary["documents"] == 36 and summary["errors"] == 4 and summary["verdicts"]["suspect"] == 11
    assert {k: v for k, v in summary.items() if k not in TIMINGS} == {k: v for k, v in local.items() if k not in TIMINGS}
    assert comparable(spark_out, uri(tmp_path), str(tmp_path)) == comparable(tmp_path / "local")
    assert marker_counts(spark_out) == marker_counts(tmp_path / "local")
    assert untimed(spark_out)[0] == untimed(tmp_path / "local")[0]
    run = json.loads((spark_out / "run.json").read_text())
    assert run["config"]["inputs"] == [uri(tmp_path / "docs"), uri(tmp_path / "rows.jsonl")]
    errors = (spark_out / "errors.csv").read_text(encoding="utf-8")
    assert f"{uri(tmp_path)}/docs/bad.txt is not valid UTF-8" in errors and f"{uri(tmp_path)}/rows.jsonl:6" in errors
    reports = [json.loads(line) for part in sorted((spark_out / "reports").glob("*.jsonl"))
               for line in part.read_text(encoding="utf-8").splitlines()]
    assert {r["id"].rsplit("/", 1)[-1]: r["verdict"] for r in reports if "/papers/" in str(r["id"])} == {
        "article.xml": "suspect", "letter.docx": "clean", "page.html": "clean", "paper.md": "suspect",
        "scan.pdf": "clean"}
    # The documents were read by the driver and checked on the executors, each once.
    assert checked(traces) == sorted((i.replace(str(tmp_path), uri(tmp_path)) if isinstance(i, str) else i
                                      for i in local_checked), key=str)
    assert hidden(spark_out) == []  # no .crc beside each file, no temporary file left
    # Run again: the same input (its output folder not in it), every shard found done.
    assert spark_engine.screen_spark(remote, uri(spark_out), spark=spark)["resumed_shards"] == summary["shards"]
    assert checked(traces) == []


def test_csv_and_parquet_tables_at_uris_with_named_columns_and_parquet_reports(spark, quick_resources, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "t.csv").write_text("key,body,other\nc1,plain text,x\nc2,profound learning here,y\nc3,short\n"
                                    'c4,"multi\nline profound learning",z\n,no key,w\n', encoding="utf-8")
    pq.write_table(pa.table({"key": ["p1", "p2", "p3"], "body": ["profound learning", None, "plain"]}),
                   tmp_path / "t.parquet")
    (tmp_path / "t.jsonl").write_text('{"key": "j1", "body": "plain"}\n{"key": "j2", "text": "no body"}\n',
                                      encoding="utf-8")
    names = ["t.csv", "t.parquet", "t.jsonl"]
    traces = tmp_path / "traces"
    traces.mkdir()
    config = ScreenConfig(inputs=tuple(str(tmp_path / n) for n in names), text_column="body", id_column="key",
                          shard_size=3, report_format="parquet", mode="fast", model=str(traces),
                          checker_factory=FAKE)
    local = screen(config, tmp_path / "local", workers=1)
    remote = dataclasses.replace(config, inputs=tuple(uri(tmp_path / n) for n in names))
    summary = spark_engine.screen_spark(remote, uri(tmp_path / "spark"), spark=spark)

    assert (summary["documents"], summary["errors"]) == (10, 3) and summary["verdicts"] == local["verdicts"]
    assert comparable(tmp_path / "spark", uri(tmp_path), str(tmp_path)) == comparable(tmp_path / "local")
    assert marker_counts(tmp_path / "spark") == marker_counts(tmp_path / "local")
    rows = pq.read_table(tmp_path / "spark" / "summary.parquet").to_pylist()
    assert [(r["id"], r["location"], r["status"]) for r in rows] == [
        ("c1", "line 2", "ok"), ("c2", "line 3", "ok"), ("c3", "line 4", "error"), ("c4", "line 5", "ok"),
        (f"{uri(tmp_path)}/t.csv:7", "line 7", "ok"), ("p1", "row 1", "ok"), ("p2", "row 2", "error"),
        ("p3", "row 3", "ok"), ("j1", "line 1", "ok"), ("j2", "line 2", "error")]
    reports = pq.read_table(tmp_path / "spark" / "reports" / "part-00001.parquet").to_pylist()
    assert [(r["id"], r["source"], r["verdict"]) for r in reports] == [
        ("c4", f"{uri(tmp_path)}/t.csv", "suspect"), (f"{uri(tmp_path)}/t.csv:7", f"{uri(tmp_path)}/t.csv", "clean"),
        ("p1", f"{uri(tmp_path)}/t.parquet", "suspect")]
    assert hidden(tmp_path / "spark") == []


def test_a_run_at_a_uri_resumes_after_an_interruption_with_every_document_once(spark, quick_resources, tmp_path):
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": f"d{i}", "text": f"doc {i} profound learning" if i % 3 else f"doc {i}"})
                            + "\n" for i in range(23)), encoding="utf-8")
    traces = tmp_path / "traces"
    traces.mkdir()
    config = ScreenConfig(inputs=(str(data),), shard_size=4, mode="fast", model=str(traces), checker_factory=FAKE)
    screen(config, tmp_path / "local", workers=1)
    checked(traces)

    run = tmp_path / "run"
    (traces / "stop-at").write_text("doc 17 profound learning", encoding="utf-8")  # in shard 4, the second job
    with pytest.raises(ResourceMissing, match="stopped by the test"):
        spark_engine.screen_spark(config, uri(run), spark=spark)
    assert sorted(runner.done_shards(run)) == [0, 1, 2, 3]  # the first job's shards, written by the driver
    checked(traces)  # and the stop removed
    # What a driver killed between its writes leaves: a shard's file without a marker, a temporary
    # file; and a marked shard that lost a file, and one that lost its marker.
    (run / "reports" / "part-00005.jsonl").write_text("half\n")
    (run / "shards" / ".00004.summary.jsonl.1a2b3c4d.tmp").write_text("partial")
    (run / "shards" / "00001.done.json").unlink()
    (run / "shards" / "00002.errors.jsonl").unlink()

    summary = spark_engine.screen_spark(config, uri(run), spark=spark)
    assert summary["resumed_shards"] == 2 and summary["documents"] == 23
    assert checked(traces) == sorted(f"d{i}" for i in range(23) if i // 4 in (1, 2, 4, 5))
    # Byte for byte the local engine's run, markers and run.json included (the count of resumed shards aside).
    assert outputs(run) == outputs(tmp_path / "local") and markers(run) == markers(tmp_path / "local")
    (summary, run_json), (local_summary, local_run_json) = untimed(run), untimed(tmp_path / "local")
    assert run_json == local_run_json and dict(summary, resumed_shards=0) == local_summary
    assert hidden(run) == []
    ids = [line.split(",")[1] for line in (run / "summary.csv").read_text().splitlines()[1:]]
    assert ids == [f"d{i}" for i in range(23)]
    assert spark_engine.screen_spark(config, uri(run), spark=spark)["resumed_shards"] == 6
    assert checked(traces) == []


def test_uris_that_hadoop_cannot_open_fail_with_one_line_and_a_hint(spark, tmp_path, monkeypatch):
    from unspin.cli.main import main

    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "a"}\n', encoding="utf-8")

    def run(inputs, out):
        spark_engine.screen_spark(ScreenConfig(inputs=inputs, mode="fast", checker_factory=FAKE), out, spark=spark)

    with pytest.raises(UsageError, match="Hadoop has no filesystem for the scheme 'nosuchscheme'") as err:
        run(("nosuchscheme://x/in.jsonl",), tmp_path / "a")
    assert "hdfs://, s3a://" in err.value.hint
    with pytest.raises(UsageError, match="nosuchscheme://x/run: Spark's Hadoop has no filesystem"):
        run((str(data),), "nosuchscheme://x/run")
    with pytest.raises(InputError, match=f"^{uri(tmp_path)}/nope.jsonl does not exist$"):
        run((uri(tmp_path / "nope.jsonl"),), tmp_path / "a")
    with pytest.raises(ResourceMissing, match=r"s3a://bucket/run: the s3a:// filesystem is not on Spark's classpath "
                                              r"\(Class org.apache.hadoop.fs.s3a.S3AFileSystem not found\)") as err:
        run((str(data),), "s3a://bucket/run")
    version = spark._jvm.org.apache.hadoop.util.VersionInfo.getVersion()
    assert f"spark.jars.packages=org.apache.hadoop:hadoop-aws:{version}" in err.value.hint
    assert not (tmp_path / "a").exists()
    # On the command line: one line, the exit code of its kind, no Java in sight.
    monkeypatch.chdir(tmp_path)
    for argv, code in ((["nosuchscheme://x/in.jsonl", "--out", "o"], 2),
                       ([uri(tmp_path / "nope.jsonl"), "--out", "o"], 3),
                       ([str(data), "--out", "s3a://bucket/run"], 5)):
        err = io.StringIO()
        assert main(["screen", *argv, "--engine", "spark", "--progress", "none"], stdin=io.BytesIO(b""),
                    stdout=io.StringIO(), stderr=err) == code
        assert err.getvalue().startswith("unspin: error [") and err.getvalue().count("\n") == 1, err.getvalue()
        assert "Traceback" not in err.getvalue() and "Py4J" not in err.getvalue()


def test_replacing_a_file_where_rename_will_not_overwrite_is_delete_then_rename():
    """HDFS and S3A refuse to rename onto a file (Hadoop's LocalFileSystem, which the tests above
    use, overwrites): the branch they take, on a stand-in for their FileSystem."""
    from unspin.batch.hadoop import HadoopFolder

    class NoOverwrite:  # FileSystem.rename/exists/delete as HDFS answers them
        def __init__(self, files):
            self.files, self.calls = files, []

        def rename(self, src, dst):
            self.calls.append(("rename", src, dst))
            if dst in self.files or src not in self.files:
                return False
            self.files[dst] = self.files.pop(src)
            return True

        def exists(self, path):
            return path in self.files

        def delete(self, path, recursive):
            self.calls.append(("delete", path))
            return self.files.pop(path, None) is not None

    folder = object.__new__(HadoopFolder)
    folder.system = NoOverwrite({"tmp": b"new", "run.json": b"old"})
    folder._replace("tmp", "run.json", "run.json")
    assert folder.system.files == {"run.json": b"new"}
    assert folder.system.calls == [("rename", "tmp", "run.json"), ("delete", "run.json"), ("rename", "tmp", "run.json")]
    folder.system = NoOverwrite({})  # the temporary file gone: an error, not a silent loss
    with pytest.raises(OSError, match="cannot rename"):
        folder._replace(type("P", (), {"toString": lambda self: "tmp"})(), "run.json", "run.json")


# -- refusals and missing pieces (no Spark needed) -------------------------------------------

def test_missing_pyspark_or_java_is_a_missing_resource_with_the_install_command(tmp_path, monkeypatch):
    data = tmp_path / "in.jsonl"
    data.write_text('{"text": "a"}\n', encoding="utf-8")
    with monkeypatch.context() as patch:
        patch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
        with pytest.raises(ResourceMissing, match="needs pyspark") as err:
            spark_engine.screen_spark(ScreenConfig(inputs=(str(data),), mode="fast", checker_factory=FAKE),
                                      tmp_path / "out")
        assert err.value.hint == 'pip install "unspin[spark]"'
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(ResourceMissing, match="no java was found") as err:
        spark_engine.find_java(17)
    assert "apt-get install default-jre-headless" in err.value.hint and "JAVA_HOME" in err.value.hint
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    with pytest.raises(ResourceMissing, match="has no bin/java"):
        spark_engine.find_java(17)
    old = tmp_path / "jdk11"
    (old / "bin").mkdir(parents=True)
    (old / "bin" / "java").write_text('#!/bin/sh\necho \'openjdk version "11.0.2" 2019-01-15\' >&2\n')
    (old / "bin" / "java").chmod(0o755)
    monkeypatch.setenv("JAVA_HOME", str(old))
    with pytest.raises(ResourceMissing, match="is Java 11; this pyspark needs Java 17"):
        spark_engine.find_java(17)
    assert spark_engine.find_java(8) == str(old / "bin" / "java")
    assert spark_engine.java_needed("4.3.0") == 17 and spark_engine.java_needed("3.5.1") == 8


def test_the_command_line_runs_on_spark_like_it_runs_locally(spark, tmp_path, monkeypatch):
    import io

    from unspin.cli.main import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "list.tsv").write_text("profound learning\tdeep learning\n", encoding="utf-8")
    inputs = make_corpus(tmp_path)
    common = ["--no-engine", "--fingerprints", "list.tsv", "--progress", "none", "--shard-size", "5"]

    def run(argv):
        err = io.StringIO()
        code = main(argv, stdin=io.BytesIO(b""), stdout=io.StringIO(), stderr=err)
        assert code == 0, err.getvalue()

    run(["screen", *inputs, "--out", "local", "--workers", "1", *common])
    run(["screen", *inputs, "--out", "spark", "--engine", "spark", "--master", "local[2]", *common])
    assert_same_run(tmp_path / "local", tmp_path / "spark")
    run(["screen", *inputs, "--out", uri(tmp_path / "spark-uri"), "--engine", "spark", *common])
    assert_same_run(tmp_path / "local", tmp_path / "spark-uri")
    for wrong, message in ((["--workers", "2", "--engine", "spark"], "--workers is for --engine local"),
                           (["--conf", "spark.executor.memory=1g"], "--conf is for --engine spark"),
                           (["--engine", "spark", "--conf", "spark.executor.memory"], "--conf takes KEY=VALUE")):
        err = io.StringIO()
        assert main(["screen", *inputs, "--out", "x", *wrong, *common], stdin=io.BytesIO(b""), stdout=io.StringIO(),
                    stderr=err) == 2 and message in err.getvalue()
