"""Batch jobs in SQLite, checked by one background thread, resumed after a restart.

Storage (`JobStore`, the standard library's sqlite3, WAL mode so that readers never wait for the
worker): a `jobs` table (id, status, times, number of documents, the engine settings it was made
with) and a `documents` table (job, position, id, display name, text, the uploaded file's bytes
for a document file, status, attempts, the report as JSON or the error as JSON). A document file
(PDF, DOCX ...) is extracted when the job is submitted, so that a bad file is refused at once, and
again from its stored bytes when it is checked, with `Checker.check_document` as in the CLI.

A document is `pending` until it is `done` (report stored) or `error` (the reason stored); a job
is `pending` until its first document is claimed, `running`, then `done` when no document is
pending (some may have failed: `failed` counts them).

Resuming: nothing is kept in memory that the database does not also hold. The worker asks the
database for the first pending document of the oldest unfinished job every time, so after a
restart (or a crash) it picks up exactly where the database says: pending and running jobs go
on, finished documents are never checked again. A document is marked done in the same
transaction that stores its report.

Poison documents: each claim counts an attempt, and a graceful stop gives the attempt back. A
document that was being checked when the process died three times (out of memory, killed) is
marked `error` ("gave-up") instead of killing every later start.

The worker (`JobWorker`) is one daemon thread. It sends one document at a time to the
`ModelRunner`, so interactive requests queue behind at most one batch document.
"""

from __future__ import annotations

import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import CancelledError
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from unspin.errors import InputError, UnspinError

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
MAX_ATTEMPTS = 3
JOB_ID_LENGTH = 32  # hex characters: 128 random bits, so that ids cannot be guessed

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id        TEXT PRIMARY KEY,
    status    TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    created   TEXT NOT NULL,
    started   TEXT,
    finished  TEXT,
    total     INTEGER NOT NULL,
    settings  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS documents (
    job_id    TEXT NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    doc_id    TEXT NOT NULL,
    name      TEXT,
    text      TEXT NOT NULL,
    source    BLOB,
    status    TEXT NOT NULL CHECK (status IN ('pending', 'done', 'error')),
    attempts  INTEGER NOT NULL DEFAULT 0,
    report    TEXT,
    error     TEXT,
    finished  TEXT,
    PRIMARY KEY (job_id, seq)
);
CREATE INDEX IF NOT EXISTS documents_by_status ON documents (status, job_id, seq);
"""

NEXT_PENDING = """
SELECT d.job_id, d.seq, d.doc_id, d.name, d.text, d.source, d.attempts
FROM documents AS d JOIN jobs AS j ON j.id = d.job_id
WHERE d.status = 'pending'
ORDER BY j.rowid, d.seq
LIMIT 1
"""


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def is_job_id(value: str) -> bool:
    return len(value) == JOB_ID_LENGTH and all(c in "0123456789abcdef" for c in value)


@dataclass(frozen=True)
class Claimed:
    """A pending document handed to the worker."""

    job_id: str
    seq: int
    id: Any
    text: str
    attempt: int
    name: str | None = None
    data: bytes | None = None  # the uploaded file, for a document file

    def task(self):
        """What the model thread runs, as `inputs.Document.check` does; a document file is extracted
        again from its bytes here, in the worker's thread, so the model thread only checks."""
        if self.data is None:
            return lambda checker: checker.check(self.text, id=self.id)
        from unspin.web.inputs import extract_upload

        document = extract_upload(self.data, self.name)
        return lambda checker: checker.check_document(document, id=self.id)


class JobStore:
    """Jobs and their documents in one SQLite file. Safe to use from any thread: each call opens
    its own short-lived connection (cheap next to a check, and never shared across threads)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        except sqlite3.Error as err:
            raise InputError(f"cannot open the job database {self.path}: {err}",
                             "check that its folder exists and is writable, or give another --db") from None
        try:
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA foreign_keys = ON")
            db.execute("PRAGMA busy_timeout = 30000")
            db.execute("PRAGMA temp_store = MEMORY")  # SQLite's own temporary files stay out of /tmp
            db.execute("PRAGMA synchronous = NORMAL")
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def initialise(self) -> None:
        """Create the tables (or check that an existing file is ours and not from a newer unspin)."""
        try:
            with self._connect() as db:
                version = db.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise InputError(f"the job database {self.path} was written by a newer unspin (schema {version})",
                                     "upgrade unspin or give another --db")
                db.execute("PRAGMA journal_mode = WAL")
                db.executescript(SCHEMA)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except sqlite3.DatabaseError as err:  # not a database, read-only, locked
            raise InputError(f"cannot use the job database {self.path}: {err}",
                             "give another --db (a new file is created)") from None

    # -- jobs ------------------------------------------------------------------------------------

    def create_job(self, documents: Sequence[Any], settings: dict[str, Any]) -> dict[str, Any]:
        """Store a job and its documents (`inputs.Document`s); returns its summary."""
        job_id = secrets.token_hex(JOB_ID_LENGTH // 2)
        created = now()
        with self._write() as db:
            db.execute("INSERT INTO jobs (id, status, created, total, settings) VALUES (?, 'pending', ?, ?, ?)",
                       (job_id, created, len(documents), json.dumps(settings, sort_keys=True)))
            db.executemany(
                "INSERT INTO documents (job_id, seq, doc_id, name, text, source, status)"
                " VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                ((job_id, seq, json.dumps(doc.id, ensure_ascii=False), doc.name, doc.text, getattr(doc, "data", None))
                 for seq, doc in enumerate(documents)),
            )
        return self.job(job_id, results=False)  # type: ignore[return-value]

    def job(self, job_id: str, *, offset: int = 0, limit: int = 100, results: bool = True) -> dict[str, Any] | None:
        """A job's progress, and the results of documents offset..offset+limit; None if unknown."""
        with self._connect() as db:
            row = db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            counts = dict(db.execute("SELECT status, COUNT(*) FROM documents WHERE job_id = ? GROUP BY status",
                                     (job_id,)).fetchall())
            items = db.execute(
                "SELECT seq, doc_id, name, status, report, error FROM documents WHERE job_id = ? AND seq >= ?"
                " ORDER BY seq LIMIT ?", (job_id, offset, limit),
            ).fetchall() if results else []
        total, done, failed = row["total"], counts.get("done", 0), counts.get("error", 0)
        summary: dict[str, Any] = {
            "id": row["id"], "status": row["status"], "created": row["created"], "started": row["started"],
            "finished": row["finished"], "total": total, "done": done, "failed": failed,
            "pending": counts.get("pending", 0), "progress": round((done + failed) / total, 4) if total else 1.0,
            "settings": json.loads(row["settings"]), "url": f"/api/jobs/{row['id']}",
        }
        if results:
            summary["results"] = [
                {"index": item["seq"], "id": json.loads(item["doc_id"]), "name": item["name"], "status": item["status"],
                 "report": json.loads(item["report"]) if item["report"] else None,
                 "error": json.loads(item["error"]) if item["error"] else None}
                for item in items
            ]
            summary["offset"], summary["limit"] = offset, limit
            summary["next_offset"] = offset + limit if offset + limit < total else None
        return summary

    def delete_job(self, job_id: str) -> bool:
        with self._write() as db:
            return db.execute("DELETE FROM jobs WHERE id = ?", (job_id,)).rowcount > 0

    def finished_documents(self, job_id: str) -> list[tuple[dict[str, Any], str, str | None]]:
        """(report, text, name) of each document done so far, in order (for exports)."""
        with self._connect() as db:
            rows = db.execute("SELECT report, text, name FROM documents WHERE job_id = ? AND status = 'done'"
                              " ORDER BY seq", (job_id,)).fetchall()
        return [(json.loads(r["report"]), r["text"], r["name"]) for r in rows]

    def unfinished_jobs(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM jobs WHERE status != 'done'").fetchone()[0]

    # -- the worker's side -----------------------------------------------------------------------

    def claim_next(self) -> Claimed | None:
        """The first pending document of the oldest unfinished job, its attempt counted."""
        with self._write() as db:
            while True:
                row = db.execute(NEXT_PENDING).fetchone()
                if row is None:
                    return None
                job_id, seq = row["job_id"], row["seq"]
                if row["attempts"] >= MAX_ATTEMPTS:
                    error = {"reference": "gave-up",
                             "message": f"the server stopped {row['attempts']} times while checking this document",
                             "hint": "check it on its own (unspin check) to see what goes wrong"}
                    self._settle(db, job_id, seq, "error", None, error)
                    continue
                db.execute("UPDATE documents SET attempts = attempts + 1 WHERE job_id = ? AND seq = ?", (job_id, seq))
                db.execute("UPDATE jobs SET status = 'running', started = COALESCE(started, ?)"
                           " WHERE id = ? AND status = 'pending'", (now(), job_id))
                return Claimed(job_id, seq, json.loads(row["doc_id"]), row["text"], row["attempts"] + 1,
                               row["name"], None if row["source"] is None else bytes(row["source"]))

    def finish(self, claimed: Claimed, report: dict[str, Any]) -> bool:
        with self._write() as db:
            return self._settle(db, claimed.job_id, claimed.seq, "done", report, None)

    def fail(self, claimed: Claimed, error: dict[str, Any]) -> bool:
        with self._write() as db:
            return self._settle(db, claimed.job_id, claimed.seq, "error", None, error)

    def release(self, claimed: Claimed) -> None:
        """Give back a claim that did not finish through no fault of the document (a stop)."""
        with self._write() as db:
            db.execute("UPDATE documents SET attempts = MAX(attempts - 1, 0)"
                       " WHERE job_id = ? AND seq = ? AND status = 'pending'", (claimed.job_id, claimed.seq))

    @staticmethod
    def _settle(db: sqlite3.Connection, job_id: str, seq: int, status: str, report: dict | None,
                error: dict | None) -> bool:
        changed = db.execute(
            "UPDATE documents SET status = ?, report = ?, error = ?, finished = ?"
            " WHERE job_id = ? AND seq = ? AND status = 'pending'",
            (status, None if report is None else json.dumps(report, ensure_ascii=False),
             None if error is None else json.dumps(error, ensure_ascii=False), now(), job_id, seq),
        ).rowcount > 0
        left = db.execute("SELECT COUNT(*) FROM documents WHERE job_id = ? AND status = 'pending'",
                          (job_id,)).fetchone()[0]
        if left == 0:
            db.execute("UPDATE jobs SET status = 'done', finished = COALESCE(finished, ?) WHERE id = ?",
                       (now(), job_id))
        return changed


def error_dict(err: BaseException) -> dict[str, str]:
    if isinstance(err, UnspinError):
        return {"reference": err.reference, "message": err.message, "hint": err.hint}
    return {"reference": "internal", "message": f"internal error: {type(err).__name__}",
            "hint": "the server log has the details"}


class JobWorker:
    """One daemon thread: claim a pending document, check it on the runner, store the result."""

    def __init__(self, store: JobStore, runner, *, idle_wait: float = 5.0, retry_wait: float = 30.0) -> None:
        self.store = store
        self.runner = runner
        self.idle_wait = idle_wait
        self.retry_wait = retry_wait
        self.checked = 0  # documents this worker finished (done or error), for tests and /api/health
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        if self.running:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="unspin-jobs", daemon=True)
        self._thread.start()

    def notify(self) -> None:
        """A job was added: look now rather than at the next idle check."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                claimed = self.store.claim_next()
            except (sqlite3.Error, InputError):
                log.exception("the job worker cannot read the job database")
                self._stop.wait(self.retry_wait)
                continue
            if claimed is None:
                self._wake.wait(self.idle_wait)
                continue
            try:
                self._process(claimed)
            except Exception:  # never let the thread die: log, and go on with the next document
                log.exception("the job worker failed on job %s document %d", claimed.job_id, claimed.seq)

    def _process(self, claimed: Claimed) -> None:
        try:
            task = claimed.task()
        except UnspinError as err:  # accepted when submitted, so only if unspin changed in between
            self.store.fail(claimed, error_dict(err))
            self.checked += 1
            return
        try:
            future = self.runner.submit(task)
        except RuntimeError:  # the runner is closed: the server is stopping
            self.store.release(claimed)
            return
        while True:
            try:
                report = future.result(timeout=0.25)
                break
            except FutureTimeout:
                if self._stop.is_set():  # stopping: leave it pending for the next start
                    future.cancel()
                    self.store.release(claimed)
                    return
            except CancelledError:
                self.store.release(claimed)
                return
            except Exception as err:
                if self.runner.load_error is not None:  # no checker at all: not the document's fault
                    self.store.release(claimed)
                    self._stop.wait(self.retry_wait)
                    return
                if not isinstance(err, UnspinError):
                    log.error("job %s document %d: %s", claimed.job_id, claimed.seq, err, exc_info=err)
                self.store.fail(claimed, error_dict(err))
                self.checked += 1
                return
        self.store.finish(claimed, report.to_dict())
        self.checked += 1
