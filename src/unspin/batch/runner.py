"""A resumable batch run: documents cut into fixed shards, screened by worker processes, merged.

The shape follows datatrove: one pure step over shards, and an executor around it.

- `iter_shards` cuts the deterministic document stream (`unspin.batch.inputs`) into shards of
  `shard_size` items: shard `i` always holds items `i*size .. (i+1)*size - 1`.
- `screen_shard(shard, config) -> ShardResult` is pure apart from loading the checker once per
  process; it is what a Spark `mapPartitions` would call.
- `unspin.batch.outputs` writes what a shard produced (`write_shard`: each file atomically, the
  `.done.json` marker with its statistics last) and merges the shards into the run's tables.
- `screen(...)` is the local executor: it takes a lock on the output folder, checks that the
  folder holds a run of the same configuration (`run.json`), removes what an interrupted run
  left half-done, skips shards that have a marker, hands the others to worker processes
  ("spawn"; each builds its checker once), and merges when every shard is done. Shards are
  selected by `index % world_size == rank`, so several ranks can share one folder.
- Files are reached through `unspin.batch.storage`: the output folder as a `Folder` (names
  relative to it), the inputs through a `Storage`. Local by default; the Spark engine passes its
  Hadoop storage, and so reads and writes URIs with this same code.

Output folder:

    run.json                    configuration (compared on resume), versions, resource hashes
    reports/part-00000.jsonl    one "unspin.report/1" object per screened document (or .parquet)
    shards/00000.summary.jsonl  the summary rows of shard 0 (errors included)
    shards/00000.errors.jsonl   the documents of shard 0 that could not be read or checked
    shards/00000.done.json      the marker: written last; its presence means shard 0 is complete
    summary.csv, summary.parquet   one row per document, in input order
    errors.csv, errors.parquet     one row per document that failed, with the reason
    summary.json                counts (documents, errors, verdicts, risk levels), timings

Every item of the input is in exactly one shard, and a shard's outputs appear only complete (a
rename) and count only with their marker, so a run killed at any point and run again ends with
every document exactly once: in the reports and the summary, or in the errors and the summary.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import re
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from unspin.batch.inputs import (
    DEFAULT_READER,
    Document,
    estimate_total,
    iter_documents,
    plan_sources,
    require_pyarrow,
    resolve,
    signature,
)
from unspin.batch.outputs import (
    FINAL_FILES,
    REPORT_FORMATS,
    Screened,
    ShardResult,
    add_source,
    error_row,
    merge,
    summary_row,
    write_shard,
)
from unspin.batch.storage import LOCAL, LocalFolder, as_folder, is_uri
from unspin.errors import ExitCode, InputError, UnspinError, UsageError
from unspin.lexicon.fingerprints import ListSource

log = logging.getLogger(__name__)

RUN_SCHEMA = "unspin.screen-run/1"
SHARD_SCHEMA = "unspin.screen-shard/1"
DEFAULT_CHECKER = "unspin.pipeline:get_checker"


class WorkerDied(UnspinError, RuntimeError):
    reference = "worker-died"
    exit_code = ExitCode.INTERNAL


@dataclass(frozen=True)
class ScreenConfig:
    """Everything that decides the outputs (and so must match on resume). Plain data: it crosses
    to worker processes, and callables are named "module:function"."""

    inputs: tuple[str, ...]
    text_column: str = "text"
    id_column: str | None = None  # None: "id" where a table has one, else "path:line"
    shard_size: int = 200
    report_format: str = "jsonl"
    mode: str = "full"
    model: str | None = None
    device: str = "auto"
    fingerprints: tuple[str, ...] = ()
    engine: bool = True
    reader: str = DEFAULT_READER
    checker_factory: str = DEFAULT_CHECKER
    risk: str = "unspin.report.risk:risk_level"
    against: str | None = None  # an index folder (`unspin match`): flagged documents get their likeliest source

    def validate(self) -> None:
        if not self.inputs:
            raise UsageError("no input given", "name folders, text files or .jsonl/.csv/.parquet tables")
        if self.shard_size < 1:
            raise UsageError(f"--shard-size must be at least 1, not {self.shard_size}")
        if self.report_format not in REPORT_FORMATS:
            raise UsageError(f"unknown report format {self.report_format!r}", "use jsonl or parquet")
        if self.report_format == "parquet":
            require_pyarrow()
        resolve(self.reader), resolve(self.checker_factory), resolve(self.risk)


@dataclass(frozen=True)
class Shard:
    index: int
    documents: tuple[Document, ...]

    def keys_sha256(self) -> str:
        return hashlib.sha256("\n".join(d.key() for d in self.documents).encode("utf-8", "backslashreplace")).hexdigest()


def iter_shards(documents: Iterable[Document], size: int) -> Iterator[Shard]:
    batch: list[Document] = []
    index = 0
    for document in documents:
        batch.append(document)
        if len(batch) == size:
            yield Shard(index, tuple(batch))
            batch, index = [], index + 1
    if batch:
        yield Shard(index, tuple(batch))


# -- the pure step -----------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _cached_checker(factory: str, mode: str, model: str | None, device: str, fingerprints: tuple[str, ...],
                    engine: bool, stamps: tuple = ()):
    return resolve(factory)(mode=mode, model=model, device=device, fingerprints=fingerprints, engine=engine)


def load_checker(config: ScreenConfig):
    """The checker for `config`, built once per process (and again if a list file changed)."""
    return _cached_checker(config.checker_factory, config.mode, config.model, config.device,
                           tuple(config.fingerprints), config.engine,
                           tuple(ListSource.of(path) for path in config.fingerprints))


def checker_info(checker) -> dict[str, Any]:
    return {"mode": getattr(checker, "mode", None), "model": getattr(checker, "model_name", None),
            "lists": [{"name": item.name, "sha256": item.sha256} for item in getattr(checker, "lists", [])]}


def screen_shard(shard: Shard, config: ScreenConfig) -> ShardResult:
    """Read (where needed) and check every document of `shard`. A document that cannot be read
    or checked becomes an error row; a missing resource (no document could be checked) raises."""
    checker = load_checker(config)
    risk = resolve(config.risk)
    reader = None
    reports: list[Screened] = []
    rows: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    started = time.perf_counter()
    for doc in shard.documents:
        text, error = doc.text, doc.error
        if error is None and text is None:
            reader = reader or resolve(config.reader)
            try:  # bytes shipped by the driver (a file at a URI) are read by the reader from memory
                text = reader(doc.source) if doc.data is None else reader(doc.source, data=doc.data)
            except InputError as err:
                error = err.message
            except Exception as err:  # noqa: BLE001 - a reader's failure is this document's, not the run's
                error = f"cannot read: {type(err).__name__}: {err}"
        if error is None:
            try:
                if isinstance(text, str):
                    report = checker.check(text, id=doc.id)
                elif hasattr(checker, "check_document"):  # an extracted document: references etc. not judged
                    report = checker.check_document(text, id=doc.id)
                else:
                    report = checker.check(text.text, id=doc.id)
            except InputError as err:
                error = err.message
            except UnspinError:
                raise
            except Exception as err:  # recorded, so that one odd text cannot stop a run
                log.warning("checking %s failed", doc.id, exc_info=True)
                error = f"internal error while checking: {type(err).__name__}: {err}"
            else:
                level = risk(report)
                reports.append(Screened(doc.seq, doc.source, doc.location, level, report))
                rows.append(summary_row(doc, report, level))
                add_source(rows[-1], report, text if isinstance(text, str) else text.text, config.against)
                continue
        errors.append(error_row(doc, error))
        rows.append(summary_row(doc, None, None, error))
    stats = {
        "schema": SHARD_SCHEMA, "shard": shard.index, "documents": len(shard.documents),
        "screened": len(reports), "errors": len(errors),
        "first_seq": shard.documents[0].seq if shard.documents else None,
        "last_seq": shard.documents[-1].seq if shard.documents else None,
        "keys_sha256": shard.keys_sha256(),
        "verdicts": dict(sorted(Counter(s.report.verdict for s in reports).items())),
        "risk": dict(sorted(Counter(s.risk for s in reports).items())),
        "seconds": round(time.perf_counter() - started, 3),
        "checker": checker_info(checker),
    }
    return ShardResult(shard.index, tuple(reports), tuple(rows), tuple(errors), stats)


# -- the output folder -------------------------------------------------------------------------

_INDEX_RE = re.compile(r"^\.?(?:part-)?(\d+)\.")


def identity(config: ScreenConfig, sources: dict[str, Any], lists: list, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """What a resumed run must share with the first: the configuration, the input files (names,
    sizes, times), the versions and hashes of the code's resources and of the fingerprint lists."""
    from unspin.version import __version__

    data = asdict(config)
    data["inputs_resolved"] = [p if is_uri(p) else str(Path(p).resolve()) for p in config.inputs]
    data["fingerprints"] = [{"path": path, "sha256": item.sha256} for path, item in zip(config.fingerprints, lists)]
    data["sources"] = sources
    data["unspin_version"] = __version__
    data["resources"] = {item["name"]: item.get("sha256") for item in resources}
    return json.loads(json.dumps(data))


def _differences(old: dict[str, Any], new: dict[str, Any]) -> str:
    parts = []
    for key in sorted(set(old) | set(new)):
        if old.get(key) != new.get(key):
            a, b = json.dumps(old.get(key)), json.dumps(new.get(key))
            parts.append(f"{key}: {a} \u2192 {b}" if len(a) + len(b) <= 80 else key)
    return "; ".join(parts)


def prepare(out, config_identity: dict[str, Any], run_info: dict[str, Any], *, restart: bool,
            rank: int, world_size: int) -> None:
    """Make `out` (a path or folder) hold this run: refuse another run's folder, clear it on
    restart, write run.json if new, and remove what an interrupted run of this rank left half-written."""
    folder = as_folder(out)
    if folder.kind("run.json") is not None:
        try:
            previous = json.loads(folder.read_bytes("run.json").decode("utf-8"))
        except (OSError, ValueError) as err:
            raise InputError(f"cannot read {folder.describe('run.json')}: {err}",
                             "remove the folder or use --restart") from None
        if restart:
            _clear(folder)
        elif previous.get("config") != config_identity:
            raise UsageError(
                f"{folder} holds a run with another configuration ({_differences(previous.get('config') or {}, config_identity)})",
                "rerun with the same options to continue it, choose another --out, or add --restart to discard it")
    elif not restart and any(not name.startswith(".lock-") for name in folder.list()):
        raise UsageError(f"{folder} is not empty and holds no unspin screen run",
                         "choose a new or empty --out folder, or add --force to write into it")
    if folder.kind("run.json") is None:
        folder.write_bytes("run.json", (json.dumps(dict(run_info, config=config_identity), indent=2) + "\n").encode("utf-8"))
    _clean_stale(folder, rank, world_size)


def _clear(folder) -> None:
    for name in ("reports", "shards"):
        folder.remove_tree(name)
    for name in FINAL_FILES + ("run.json",):
        folder.remove(name)


def _clean_stale(folder, rank: int, world_size: int) -> None:
    """Temporary files, and outputs of shards without a marker (killed between the renames):
    this rank's only, since other ranks may be writing theirs."""
    done = done_shards(folder)
    for sub in ("reports", "shards"):
        for name in folder.list(sub):
            match = _INDEX_RE.match(name)
            if match is None or int(match.group(1)) % world_size != rank:
                continue
            if name.endswith(".tmp") or int(match.group(1)) not in done:
                log.info("removing %s, left by an interrupted run", folder.describe(f"{sub}/{name}"))
                folder.remove(f"{sub}/{name}")
    if world_size == 1:
        for name in folder.list():
            if name.startswith(".") and name.endswith(".tmp"):
                folder.remove(name)


def done_shards(out) -> dict[int, str]:
    """The shards with a marker in `out` (a path or folder): {index: the marker's name}."""
    folder = as_folder(out)
    found = {}
    for name in folder.list("shards"):
        match = _INDEX_RE.match(name)
        if match and name.endswith(".done.json") and not name.startswith("."):
            found[int(match.group(1))] = f"shards/{name}"
    return found


# -- executing ---------------------------------------------------------------------------------

def default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def _shard_task(shard: Shard, config: ScreenConfig, out: str, run_id: str) -> dict[str, Any]:
    """One shard, screened and written: what a worker runs. Our own errors come back as data
    (their hint does not survive pickling as an exception)."""
    try:
        return write_shard(LocalFolder(out), screen_shard(shard, config), config.report_format, run_id)
    except UnspinError as err:
        return {"fatal": {"module": type(err).__module__, "name": type(err).__qualname__,
                          "message": err.message, "hint": err.hint}}


def _unwrap(result: dict[str, Any]) -> dict[str, Any]:
    fatal = result.get("fatal")
    if fatal is None:
        return result
    try:
        cls = getattr(sys.modules.get(fatal["module"]) or __import__(fatal["module"], fromlist=["_"]), fatal["name"])
    except (ImportError, AttributeError):
        cls = UnspinError
    if not (isinstance(cls, type) and issubclass(cls, UnspinError)):
        cls = UnspinError
    raise cls(fatal["message"], fatal["hint"])


def _init_worker(parent: int, threads: int) -> None:
    # Ctrl-C reaches the whole process group; only the parent decides what happens then.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ.setdefault(name, str(threads))  # before torch is imported: no oversubscription
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _watch_parent(parent: int) -> None:
    """A worker whose parent was killed (kill -9) stops instead of running on as an orphan."""
    while True:
        time.sleep(0.25)
        if os.getppid() != parent:
            os._exit(1)


class _Inline:
    """workers=1: screen in this process (no second copy of the engine)."""

    def __init__(self, config: ScreenConfig, out: LocalFolder, run_id: str, on_done) -> None:
        self.config, self.out, self.run_id, self.on_done = config, out, run_id, on_done

    def submit(self, shard: Shard) -> None:
        self.on_done(_unwrap(_shard_task(shard, self.config, str(self.out.path), self.run_id)))

    def finish(self) -> None:
        pass

    def abort(self) -> None:
        pass


class _Pool:
    """Worker processes, at most two shards each in flight (the input is streamed, not queued)."""

    def __init__(self, config: ScreenConfig, out: LocalFolder, run_id: str, on_done, workers: int) -> None:
        self.config, self.out, self.run_id, self.on_done = config, out, run_id, on_done
        threads = max(1, default_workers() // workers)
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
                                        initializer=_init_worker, initargs=(os.getpid(), threads))
        self.pending: set = set()
        self.limit = 2 * workers

    def submit(self, shard: Shard) -> None:
        while len(self.pending) >= self.limit:
            self._collect()
        self.pending.add(self.pool.submit(_shard_task, shard, self.config, str(self.out.path), self.run_id))

    def _collect(self) -> None:
        done, self.pending = wait(self.pending, return_when=FIRST_COMPLETED)
        for future in done:
            try:
                result = future.result()
            except BrokenProcessPool:
                raise WorkerDied("a worker process died (out of memory?)",
                                 "run the same command again to continue; try fewer --workers") from None
            self.on_done(_unwrap(result))

    def finish(self) -> None:
        while self.pending:
            self._collect()
        self.pool.shutdown(wait=True)

    def abort(self) -> None:
        for future in self.pending:
            future.cancel()
        terminate = getattr(self.pool, "terminate_workers", None)  # Python 3.14
        if terminate is not None:
            terminate()
        else:
            for process in list((getattr(self.pool, "_processes", None) or {}).values()):
                with contextlib.suppress(Exception):
                    process.terminate()
        with contextlib.suppress(Exception):
            self.pool.shutdown(wait=True, cancel_futures=True)


def screen(config: ScreenConfig, out: str | os.PathLike[str], *, workers: int | None = None,
           restart: bool = False, rank: int = 0, world_size: int = 1, progress=None,
           executor=None, storage=LOCAL) -> dict[str, Any] | None:
    """Screen every input document into `out`, resuming a run of the same configuration there.

    Returns the summary (also in `out/summary.json`), or None when shards of other ranks are
    still to do. Raises `UsageError` for a folder that holds another run (unless `restart`).
    `executor(config, out, run_id, on_done)`: what screens the shards instead of this machine's
    worker processes (`workers` is then unused), with their interface: `submit(shard)`, which
    calls `on_done(marker)` for each finished shard (now or from a later call), `finish()` and
    `abort()`; e.g. `unspin.batch.spark.SparkShards`; `out` reaches it as a folder
    (`unspin.batch.storage`). `storage`: what reads the inputs and opens `out` (local paths by
    default; the Spark engine's also reads and writes URIs).
    """
    from unspin.batch.progress import Progress

    started = time.monotonic()
    config.validate()
    if not 0 <= rank < world_size:
        raise UsageError(f"rank {rank} is not in 0..{world_size - 1}")
    folder = storage.folder(out)
    if folder.kind() == "file":
        raise UsageError(f"{folder} is not a folder", "give --out a folder to create or reuse")
    sources = plan_sources(config.inputs, reader=config.reader, exclude=[out], storage=storage)
    if any(s.kind == "parquet" for s in sources):
        require_pyarrow()
    lists = _load_lists(config.fingerprints)
    resources = _resources()
    config_identity = identity(config, signature(sources, storage), lists, resources)
    run_id = hashlib.sha256(json.dumps(config_identity, sort_keys=True).encode()).hexdigest()[:16]
    folder.make()
    progress = progress or Progress(sys.stderr, mode="none")
    lock = folder.lock(rank)
    try:
        prepare(folder, config_identity, _run_info(config, lists, resources, run_id),
                restart=restart, rank=rank, world_size=world_size)
        done = done_shards(folder)
        total, exact = estimate_total(sources, storage)
        left = -(-total // config.shard_size) - len(done)
        workers = max(1, min(workers or default_workers(), max(left, 1)))
        progress.start(total, exact)
        counts = {"resumed": 0, "screened_shards": 0}

        def on_done(marker: dict[str, Any]) -> None:
            counts["screened_shards"] += 1
            progress.advance(marker["documents"])

        if executor is not None:
            runner = executor(config, folder, run_id, on_done)
        elif workers == 1:
            runner = _Inline(config, folder, run_id, on_done)
        else:
            runner = _Pool(config, folder, run_id, on_done, workers)
        shards = 0
        try:
            documents = iter_documents(sources, text_column=config.text_column, id_column=config.id_column,
                                       storage=storage)
            for shard in iter_shards(documents, config.shard_size):
                shards = shard.index + 1
                if shard.index % world_size != rank:
                    continue
                if shard.index in done and _check_marker(folder, done[shard.index], shard, run_id):
                    counts["resumed"] += 1
                    progress.skip(len(shard.documents))
                    continue
                runner.submit(shard)
            runner.finish()
        except BaseException:
            runner.abort()
            raise
        finally:
            progress.close()
        log.info("%d shards screened, %d found done, with %d worker(s)", counts["screened_shards"], counts["resumed"], workers)
        if not set(range(shards)) <= set(done_shards(folder)):
            return None  # other ranks' shards are not done yet
        return merge(folder, shards, config.report_format, config.shard_size, elapsed=time.monotonic() - started,
                     resumed=counts["resumed"])
    finally:
        if lock is not None:
            lock.close()


def _check_marker(folder, name: str, shard: Shard, run_id: str) -> bool:
    """Whether the marked shard can be kept: written by this run, for these documents, with its
    files all there (a worker orphaned by kill -9 may have renamed a file after the cleanup)."""
    try:
        marker = json.loads(folder.read_bytes(name).decode("utf-8"))
    except (OSError, ValueError) as err:
        raise InputError(f"cannot read {folder.describe(name)}: {err}", "delete it to screen that shard again") from None
    if marker.get("run") != run_id or marker.get("keys_sha256") != shard.keys_sha256():
        raise UsageError(f"{folder.describe(name)} was written for other input than this run's shard {shard.index}",
                         "use --restart to screen everything again")
    for file, size in marker.get("files", {}).items():
        if folder.size(file) != size:
            log.warning("shard %d: %s is missing or changed; screening the shard again", shard.index, file)
            folder.remove(name)
            return False
    return True


def _load_lists(paths: tuple[str, ...]) -> list:
    from unspin.lexicon.fingerprints import load_fingerprints

    lists = [load_fingerprints(path) for path in paths]
    for item in lists:
        if not item.complete:
            log.warning("warning: %s", item.summary())
    return lists


def _resources() -> list[dict[str, Any]]:
    from unspin.detect.inventory import builtin_resources

    return builtin_resources()


def _run_info(config: ScreenConfig, lists: list, resources: list[dict[str, Any]], run_id: str) -> dict[str, Any]:
    import platform
    from datetime import UTC, datetime

    from unspin.detect.inventory import list_info
    from unspin.version import __version__

    return {"schema": RUN_SCHEMA, "run": run_id, "unspin_version": __version__,
            "python": platform.python_version(), "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "model": {"mode": config.mode, "model": config.model, "device": config.device, "engine": config.engine},
            "resources": resources, "fingerprint_lists": [list_info(item) for item in lists], "checker": None}
