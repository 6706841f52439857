"""`unspin screen --engine spark`: the same shards as the local runner, screened by Spark executors.

The unit of work does not change. The driver (this process) enumerates the documents exactly as
`unspin.batch.runner.screen` does, cuts them into the same shards, and skips the shards that
already have a `.done.json` marker. Each remaining shard becomes one Spark task that calls
`runner.screen_shard` and `outputs.write_shard` (through `runner._shard_task`, the local workers'
function): the shard's outputs are renamed into place and its marker written last, by the
executor, into the same folder (for a URI --out: sent back and written by the driver, below).
The driver then runs the same `outputs.merge`. So the outputs are byte for byte those of the local
engine, and a run on local paths can be interrupted and continued by either.

Spark runs shards, not documents: `SparkShards` sends them in jobs of `2 x defaultParallelism`
shards (one partition, so one task, each) with at most two jobs in flight, so that the driver
holds a bounded part of the corpus (table rows travel inside the shards) and no core waits for a
job's last task. The checker is built once per Python worker process (`runner.load_checker` is an
`lru_cache`, and Spark reuses its Python workers: `spark.python.worker.reuse`, on by default), i.e.
once per executor core, as with `--workers`. Only each shard's marker comes back to the driver
(with a URI --out, its files too).

Where things must be:
- Local paths (the local engine's): `--out` is written by the executors and read by the driver,
  so it must be a folder that all of them see at the same path (any path for `local[*]`; on a
  cluster a shared filesystem: NFS, Lustre, CephFS, or object storage mounted with gcsfuse /
  mountpoint-s3 / blobfuse). Tables (.jsonl/.csv/.parquet) are read by the driver and their
  rows shipped inside the shards; document files (.txt, .pdf, ...) are read by the executors,
  from the same path (a relative path relative to the driver's working directory).
- Hadoop URIs (hdfs://, s3a://, file://, any scheme Spark's Hadoop has a filesystem for), for
  inputs, --out or both: the driver does every access, through Hadoop's FileSystem API
  (`unspin.batch.hadoop`), since a Python executor has no JVM to call. It lists folders and
  streams tables as it does locally, reads each document file still to screen and ships its
  bytes inside the shard (a job is also sent early once its shards carry `JOB_BYTES`, so the
  driver holds at most about `JOBS_IN_FLIGHT + 1` such jobs), and for a URI --out the executors
  send each shard's files and marker back, which the driver writes with the local engine's
  protocol: every file to a temporary name and renamed, the marker last. So a rerun resumes and
  the outputs are byte for byte the local engine's here too. The cost: all input and output
  bytes pass through the driver. A scheme without a filesystem, a missing connector jar
  (s3a:// needs hadoop-aws: `--conf spark.jars.packages=org.apache.hadoop:hadoop-aws:VERSION`)
  or a missing path is one error line with a hint, before any work.
- Executors need unspin (the same version) and its resources installed; the Python they run is
  `PYSPARK_PYTHON` (for `local[...]` masters this process's own interpreter, unless set).

pyspark and Java are imported and looked for only here, when a Spark run is asked for.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import logging
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NoReturn

from unspin.batch import outputs, runner
from unspin.batch.hadoop import HadoopStorage
from unspin.batch.storage import is_uri
from unspin.errors import ExitCode, ResourceMissing, UnspinError, UsageError

log = logging.getLogger(__name__)

DEFAULT_MASTER = "local[*]"
INSTALL_SPARK = 'pip install "unspin[spark]"'
INSTALL_JAVA = "apt-get install default-jre-headless"
JOBS_IN_FLIGHT = 2
SHARDS_PER_CORE = 2  # shards per Spark job, per core of the cluster (defaultParallelism)
JOB_BYTES = 256 * 2**20  # a job is also sent once its shards carry this much text and document bytes
# Spark's own INFO/WARN start-up chatter would bury our progress lines; errors still show.
_QUIET_LOG4J2 = """\
rootLogger.level = warn
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = spark: %p %c{1}: %m%n%ex
logger.native.name = org.apache.hadoop.util.NativeCodeLoader
logger.native.level = error
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.conf.name = org.apache.spark.SparkConf
logger.conf.level = error
"""


class SparkFailed(UnspinError, RuntimeError):
    """A Spark job failed for a reason of Spark's (a lost executor, a task out of retries)."""

    reference = "spark-failed"
    exit_code = ExitCode.INTERNAL


# -- what a Spark run needs --------------------------------------------------------------------

def require_pyspark():
    """The pyspark module, or a ResourceMissing naming the extra to install."""
    try:
        import pyspark
    except ImportError:
        raise ResourceMissing("the Spark engine needs pyspark, which is not installed", INSTALL_SPARK) from None
    return pyspark


def java_needed(pyspark_version: str) -> int:
    """The oldest Java that this pyspark runs on: 17 from Spark 4, 8 before."""
    major = int(re.match(r"\d+", pyspark_version).group()) if re.match(r"\d+", pyspark_version) else 4
    return 17 if major >= 4 else 8


def find_java(needed: int = 17) -> str:
    """The `java` that Spark will start (`$JAVA_HOME/bin/java`, else the first on PATH), checked to
    be at least version `needed`; a ResourceMissing with the install command otherwise."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = os.path.join(home, "bin", "java")
        if not os.access(java, os.X_OK):
            raise ResourceMissing(f"JAVA_HOME is {home}, which has no bin/java; the Spark engine needs Java {needed}+",
                                  f"point JAVA_HOME at a Java {needed}+ installation, or unset it and {INSTALL_JAVA}")
    else:
        java = shutil.which("java")
        if java is None:
            raise ResourceMissing(f"the Spark engine needs Java {needed} or later, and no java was found "
                                  "(JAVA_HOME unset, none on PATH)",
                                  f"{INSTALL_JAVA} (Debian/Ubuntu), or set JAVA_HOME to a Java {needed}+ installation")
    try:
        done = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as err:
        raise ResourceMissing(f"cannot run {java} -version: {err}", f"{INSTALL_JAVA}, or set JAVA_HOME") from None
    match = re.search(r'version "(\d+)(?:\.(\d+))?', done.stderr + done.stdout)
    if match:
        version = int(match.group(2) or 0) if match.group(1) == "1" else int(match.group(1))  # "1.8.0" is 8
        if version < needed:
            raise ResourceMissing(f"{java} is Java {version}; this pyspark needs Java {needed} or later",
                                  f"{INSTALL_JAVA} (Debian 12: Java 17), or set JAVA_HOME to a Java {needed}+ installation")
    return java


def _under_spark_submit() -> bool:
    """Started by spark-submit: the JVM is already there, and the master is spark-submit's."""
    return "PYSPARK_GATEWAY_PORT" in os.environ


# -- the Spark context -------------------------------------------------------------------------

class SparkSessionHolder:
    """The SparkContext of a run, started at the first shard (a run with nothing left to do starts
    no JVM) and stopped at the end if this run started it. `spark`: an existing SparkSession or
    SparkContext to use instead (never stopped here)."""

    def __init__(self, master: str | None = None, spark=None, conf: dict[str, str] | None = None) -> None:
        self.master, self.given, self.conf = master, spark, dict(conf or {})
        self.context = None
        self.started_here = False

    def get(self):
        if self.context is None:
            self.context = self._start()
        return self.context

    def _start(self):
        if self.given is not None:
            return getattr(self.given, "sparkContext", self.given)
        from pyspark import SparkConf, SparkContext

        if SparkContext._active_spark_context is not None:  # a notebook's, or spark-submit's
            log.info("using the running SparkContext (master %s)", SparkContext._active_spark_context.master)
            if self.conf:
                log.warning("Spark settings not applied, a SparkContext was already running: %s", ", ".join(self.conf))
            return SparkContext._active_spark_context
        master = self.master or (None if _under_spark_submit() else DEFAULT_MASTER)
        settings = {"spark.app.name": "unspin screen", "spark.ui.showConsoleProgress": "false",
                    "spark.python.worker.reuse": "true"}
        local = master is not None and master.startswith("local")
        if local:  # one machine: nothing to reach from outside (the UI would listen on every interface)
            settings.update({"spark.ui.enabled": "false", "spark.driver.host": "127.0.0.1",
                             "spark.driver.bindAddress": "127.0.0.1"})
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers import the unspin installed here
        settings.update(self.conf)
        log_config = None
        if not _under_spark_submit() and "spark.driver.extraJavaOptions" not in settings \
                and not os.environ.get("SPARK_CONF_DIR"):
            fd, log_config = tempfile.mkstemp(prefix="unspin-log4j2-", suffix=".properties")
            with os.fdopen(fd, "w") as handle:
                handle.write(_QUIET_LOG4J2)
            settings["spark.driver.extraJavaOptions"] = f"-Dlog4j2.configurationFile=file:{log_config}"
        spark_conf = SparkConf()
        if master is not None:
            spark_conf.setMaster(master)
        for key, value in settings.items():
            spark_conf.set(key, str(value))
        started = time.monotonic()
        try:
            context = SparkContext.getOrCreate(spark_conf)
        except Exception as err:  # noqa: BLE001 - the JVM did not start: usually Java
            raise ResourceMissing(f"Spark did not start ({type(err).__name__}: {str(err).strip()[:300]})",
                                  f"check Java 17+ is installed ({INSTALL_JAVA}) or JAVA_HOME, and the master URL") from None
        finally:
            if log_config is not None:
                with contextlib.suppress(OSError):
                    os.unlink(log_config)
        self.started_here = True
        log.info("Spark %s started in %.1f s (master %s, %d cores)", context.version, time.monotonic() - started,
                 context.master, context.defaultParallelism)
        if context.getConf().get("spark.python.worker.reuse", "true").lower() == "false":
            log.warning("spark.python.worker.reuse is false: the checker is loaded again for every shard")
        return context

    def close(self) -> None:
        if self.context is not None and self.started_here:
            self.context.stop()
        self.context = None


# -- what an executor runs ---------------------------------------------------------------------

def _executor_task(shard: runner.Shard, *, config: runner.ScreenConfig, out: str | None, run_id: str, cwd: str
                   ) -> dict[str, Any]:
    """One shard on an executor's Python worker: screened and written by the local workers' own
    function (so the same outputs, atomically, marker last); with `out` None (a URI, which an
    executor cannot write) screened and sent back, files and marker, for the driver to write.
    Misplaced folders come back as errors rather than as a shard of unreadable documents."""
    host = socket.gethostname()
    if out is not None and not os.path.isfile(os.path.join(out, "run.json")):
        return _fatal(UsageError(f"the output folder {out} is not visible on executor {host}",
                                 "--out must be a folder that the driver and every executor see at the same path"))
    files = [d for d in shard.documents if d.text is None and d.error is None and d.data is None]
    previous = os.getcwd()
    try:  # relative paths (documents, lists, a model folder) are the driver's, as for local workers
        os.chdir(cwd)
    except OSError:
        if any(not os.path.isabs(p) for p in [d.source for d in files] + list(config.fingerprints)):
            return _fatal(UsageError(f"executor {host} has no folder {cwd}, which relative input paths refer to",
                                     "give the inputs and lists as absolute paths on a filesystem every executor sees"))
    try:
        for doc in files:
            if not os.path.exists(doc.source) and not os.path.isdir(os.path.dirname(os.path.abspath(doc.source))):
                return _fatal(UsageError(f"executor {host} cannot see the folder of {doc.source}",
                                         "document files are read by the executors: put them on a filesystem every "
                                         "executor sees, at the same path"))
        if out is None:
            return _send_back(shard, config, run_id)
        return runner._shard_task(shard, config, out, run_id)
    finally:
        with contextlib.suppress(OSError):
            os.chdir(previous)  # the Python worker is reused by later tasks, maybe not ours


def _send_back(shard: runner.Shard, config: runner.ScreenConfig, run_id: str) -> dict[str, Any]:
    try:
        files, marker = outputs.shard_outputs(runner.screen_shard(shard, config), config.report_format, run_id)
    except UnspinError as err:
        return _fatal(err)
    return {"files": files, "marker": marker}


def _fatal(err: UnspinError) -> dict[str, Any]:
    return {"fatal": {"module": type(err).__module__, "name": type(err).__qualname__, "message": err.message,
                      "hint": err.hint}}


class SparkShards:
    """The runner's executor interface (`submit`, `finish`, `abort`, like `_Inline` and `_Pool`)
    over Spark. Shards are sent in jobs of `SHARDS_PER_CORE x defaultParallelism` shards, one task
    each, at most `JOBS_IN_FLIGHT` jobs at once, from driver threads (Spark schedules concurrent
    jobs FIFO, so a job's last tasks overlap the next job's first)."""

    def __init__(self, config: runner.ScreenConfig, out, run_id: str, on_done, *,
                 session: SparkSessionHolder, storage: HadoopStorage | None = None) -> None:
        self.config, self.out, self.run_id, self.on_done, self.session = config, out, run_id, on_done, session
        self.storage = storage or HadoopStorage(session.get)
        local_out = None if out.remote else str(out.path.absolute())  # None: the driver writes
        self.task = functools.partial(_executor_task, config=config, out=local_out, run_id=run_id, cwd=os.getcwd())
        self.group = f"unspin-screen-{run_id}-{os.getpid()}-{id(self):x}"
        self.batch: list[runner.Shard] = []
        self.batch_bytes = 0
        self.jobs: deque[Future] = deque()
        self.threads = ThreadPoolExecutor(max_workers=JOBS_IN_FLIGHT, thread_name_prefix="unspin-spark")
        self.wave = 0

    def submit(self, shard: runner.Shard) -> None:
        if not self.wave:
            self.wave = SHARDS_PER_CORE * max(1, self.session.get().defaultParallelism)
        shard = self._ship(shard)
        self.batch.append(shard)
        self.batch_bytes += sum(len(d.data or b"") + len(d.text or "") for d in shard.documents)
        if len(self.batch) >= self.wave or self.batch_bytes >= JOB_BYTES:
            self._launch()

    def _ship(self, shard: runner.Shard) -> runner.Shard:
        """The shard with the bytes of its document files at URIs, read here: a Python executor
        cannot open a URI. Read only for shards still to do, a job at a time; files over the
        extractor's own limit are not shipped (it would refuse them)."""
        from unspin.documents import MAX_BYTES

        documents = list(shard.documents)
        for i, doc in enumerate(documents):
            if doc.text is None and doc.error is None and doc.data is None and is_uri(doc.source):
                data, error = self.storage.read_document(doc.source, MAX_BYTES)
                documents[i] = dataclasses.replace(doc, data=data, error=error)
        return runner.Shard(shard.index, tuple(documents))

    def _launch(self) -> None:
        while len(self.jobs) >= JOBS_IN_FLIGHT:
            self._collect(self.jobs.popleft())
        shards, self.batch, self.batch_bytes = self.batch, [], 0
        self.jobs.append(self.threads.submit(self._run, shards))

    def _run(self, shards: list[runner.Shard]) -> list[dict[str, Any]]:
        context = self.session.get()
        context.setJobGroup(self.group, f"unspin screen: shards {shards[0].index}..{shards[-1].index}",
                            interruptOnCancel=True)
        return context.parallelize(shards, len(shards)).map(self.task).collect()

    def _collect(self, job: Future) -> None:
        try:
            results = job.result()
        except UnspinError:
            raise
        except Exception as err:  # noqa: BLE001 - Py4JJavaError, PythonException: a task out of retries
            raise SparkFailed(f"a Spark job failed: {_first_line(err)}",
                              "the finished shards are kept: run the same command again to continue; "
                              "the executors' logs have the details") from None
        for result in results:
            result = runner._unwrap(result)
            if self.out.remote:  # sent back: written here, files first, the marker last
                self.on_done(outputs.store_shard(self.out, result["files"], result["marker"]))
                continue
            done = outputs.marker_name(result["shard"])
            if self.out.size(done) is None:
                raise UsageError(f"an executor wrote shard {result['shard']}, but {self.out.describe(done)} is not "
                                 "there on the driver",
                                 "--out must be a folder that the driver and every executor see at the same path")
            self.on_done(result)

    def finish(self) -> None:
        if self.batch:
            self._launch()
        try:
            while self.jobs:
                self._collect(self.jobs.popleft())
        except BaseException:
            self.abort()
            raise
        self.threads.shutdown(wait=True)

    def abort(self) -> None:
        context = self.session.context
        if context is not None:
            with contextlib.suppress(Exception):  # Ctrl-C: pyspark has cancelled every job already
                tracker = context.statusTracker()
                if set(tracker.getJobIdsForGroup(self.group)) & set(tracker.getActiveJobsIds()):
                    context.cancelJobGroup(self.group)
        for job in self.jobs:
            job.cancel()
        self.jobs.clear()
        self.threads.shutdown(wait=True, cancel_futures=True)


def _first_line(err: BaseException) -> str:
    text = str(err).strip()
    for line in text.splitlines():  # a Python error on an executor: its last "XxxError: ..." line says most
        if re.match(r"^\w+(\.\w+)*(Error|Exception): ", line.strip()):
            text = line.strip()
    return text.splitlines()[0][:500] if text else type(err).__name__


# -- the driver --------------------------------------------------------------------------------

def screen_spark(config: runner.ScreenConfig, out: str | os.PathLike[str], *, master: str | None = None,
                 restart: bool = False, progress=None, spark=None, conf: dict[str, str] | None = None
                 ) -> dict[str, Any]:
    """`runner.screen` on Spark: the same outputs in `out`, the same resume, the same summary.

    `master`: a Spark master URL (default `local[*]`, or spark-submit's when run under it);
    `spark`: an existing SparkSession or SparkContext to use instead of starting one; `conf`:
    extra Spark settings for a context started here. Raises `ResourceMissing` without pyspark or
    Java, `UsageError` for a folder that holds another run (unless `restart`) and for a URI
    whose scheme Spark's Hadoop has no filesystem for (`ResourceMissing` where its jar is missing).
    """
    config.validate()
    pyspark = require_pyspark()
    if spark is None and not _under_spark_submit():
        from pyspark import SparkContext

        if SparkContext._active_spark_context is None:
            find_java(java_needed(pyspark.__version__))
    session = SparkSessionHolder(master, spark, conf)
    storage = HadoopStorage(session.get)  # the JVM starts at the first URI, else at the first shard
    try:
        return runner.screen(config, out, restart=restart, progress=progress, storage=storage,
                             executor=functools.partial(SparkShards, session=session, storage=storage))
    finally:
        session.close()


def main(argv: list[str] | None = None) -> NoReturn:
    """For spark-submit, which runs a file: `spark-submit [--master URL] .../unspin/batch/spark.py
    screen INPUT... --out DIR --engine spark` is `unspin screen ...` inside spark-submit's driver.

    It becomes `python -m unspin ARGS` in this same process (exec) rather than import the command
    line: the CLI imports this module, and the batch layer must not import it back. Exec keeps the
    pid, the environment (spark-submit's PYSPARK_GATEWAY_PORT) and the standard streams, so
    spark-submit still waits on this process and the run still joins its JVM."""
    args = list(sys.argv[1:] if argv is None else argv)
    os.execv(sys.executable, [sys.executable, "-m", "unspin", *args])


if __name__ == "__main__":
    main()
