"""What one server runs with: engine options, where it keeps its data, and its limits.

A frozen dataclass, validated when made, so that a bad value fails at start-up with a usage error
rather than on the first request. `resolved()` fills in the storage paths:

- `data_dir`: the server's own folder. Default: the folder of `db` when that is given, else
  `unspin.resources.cache_dir("server")` (`$UNSPIN_CACHE/server`, or `~/.cache/unspin/server`).
- `db`: the SQLite file of batch jobs. Default: `data_dir / "jobs.sqlite3"`.

Uploads are never written to disk as files: a request body is read into memory (bounded by the
limits below), its documents are checked there, and batch documents are stored as rows of `db`.
An uploaded file's name is shown to the user and its suffix picks the reader; it is never used as
a path.

Limits (a request over one gets a 413 with the limit in words):

- `max_request_bytes`: one request to `/api/check`, `/api/restore` or the page (default 5 MiB).
- `max_job_bytes`: one batch sent to `/api/jobs` (default 50 MiB).
- `max_job_documents`: documents in one batch (default 10,000).
- `max_page_documents`: documents in one page request, e.g. a JSONL upload (default 100; the
  page hands larger batches to the jobs API's users by saying so).
- `max_parts`: parts of one multipart body (default 1,000 files and fields).
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, replace
from pathlib import Path

from unspin.errors import UsageError

MiB = 1024 * 1024
MODES = ("full", "fast")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_DB_NAME = "jobs.sqlite3"
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")


def is_loopback(host: str) -> bool:
    """True for names and addresses that only this machine can reach."""
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Settings:
    mode: str = "full"
    model: str | None = None
    device: str = "auto"
    fingerprints: tuple[str, ...] = ()
    engine: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    db: Path | None = None
    data_dir: Path | None = None
    max_request_bytes: int = 5 * MiB
    max_job_bytes: int = 50 * MiB
    max_job_documents: int = 10_000
    max_page_documents: int = 100
    max_parts: int = 1_000
    # Host names the server answers to (DNS-rebinding guard). None: the loopback names when bound
    # to a loopback address, any name otherwise (the operator chose to expose it).
    allowed_hosts: tuple[str, ...] | None = None
    preload: bool = True  # load the model at start-up rather than on the first request
    worker: bool = True  # run the batch-job worker (tests switch it off to look at queued jobs)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "fingerprints", tuple(str(p) for p in self.fingerprints))
        if self.db is not None:
            set_(self, "db", Path(self.db).expanduser())
        if self.data_dir is not None:
            set_(self, "data_dir", Path(self.data_dir).expanduser())
        if self.allowed_hosts is not None:
            set_(self, "allowed_hosts", tuple(h.lower().strip("[]") for h in self.allowed_hosts))
        if self.mode not in MODES:
            raise UsageError(f"unknown mode {self.mode!r}", "use --mode full or --mode fast")
        if self.device not in DEVICES:
            raise UsageError(f"unknown device {self.device!r}", "use --device auto, cpu or cuda")
        if not 0 <= int(self.port) <= 65535:
            raise UsageError(f"port {self.port} is out of range", "give a port from 1 to 65535 (0: any free port)")
        for name in ("max_request_bytes", "max_job_bytes", "max_job_documents", "max_page_documents", "max_parts"):
            if int(getattr(self, name)) < 1:
                raise UsageError(f"{name} must be at least 1, not {getattr(self, name)}")

    def resolved(self) -> Settings:
        """These settings with `data_dir` and `db` filled in (the folder is created)."""
        from unspin.resources import cache_dir

        data_dir = self.data_dir or (self.db.parent if self.db is not None else cache_dir("server"))
        data_dir = Path(os.path.abspath(data_dir))
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise UsageError(f"cannot create the data folder {data_dir}: {err.strerror}",
                             "choose another --data-dir") from None
        db = Path(os.path.abspath(self.db)) if self.db is not None else data_dir / DEFAULT_DB_NAME
        return replace(self, data_dir=data_dir, db=db)

    def hosts(self) -> tuple[str, ...]:
        """The Host names requests may carry; ("*",) for any."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return LOOPBACK_NAMES if is_loopback(self.host) else ("*",)

    def checker_options(self) -> dict:
        """Keyword arguments of `unspin.pipeline.get_checker`."""
        return {"mode": self.mode, "model": self.model, "device": self.device,
                "fingerprints": self.fingerprints, "engine": self.engine}

    def describe(self) -> dict:
        """What a client may know about the engine: no paths, only list names."""
        return {"mode": self.mode if self.engine else "fast", "engine": self.engine, "model": self.model,
                "fingerprint_lists": [Path(p).name for p in self.fingerprints]}

    def limits(self) -> dict:
        return {"max_request_bytes": self.max_request_bytes, "max_job_bytes": self.max_job_bytes,
                "max_job_documents": self.max_job_documents, "max_page_documents": self.max_page_documents}


def human_bytes(size: int) -> str:
    """5242880 -> "5 MiB", 1536000 -> "1.5 MiB", 2000 -> "2,000 bytes"; for messages about limits."""
    if size < 10 * 1024:
        return f"{size:,} bytes"
    value, unit = (size / MiB, "MiB") if size >= MiB else (size / 1024, "KiB")
    return f"{value:.1f}".removesuffix(".0") + f" {unit}"
