"""Where a batch run reads its input and keeps its folder: the few operations it needs, local.

The runner touches files in two ways, and each is one small interface here:

- `Storage`, the input side: what a name is (a folder, a file, nothing), the files under a
  folder, a file's size and time (the input signature), and its bytes as a stream; and
  `folder(out)`, the output side.
- `Folder`, the run's output folder, addressed by names relative to it
  ("shards/00000.done.json"): list, read, size, write (to a temporary name, then renamed), remove.

`LocalStorage` and `LocalFolder` are what the local engine always did, through os and pathlib:
atomic, fsynced writes and an fcntl lock. `unspin.batch.hadoop` implements the same two over
Hadoop's FileSystem API for URIs (hdfs://, s3a://, file://); the Spark engine uses it. The
local storage refuses URIs, naming the engine that reads them.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from unspin.errors import UsageError
from unspin.resources import atomic_path

_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
URI_HINT = "use --engine spark for hdfs://, s3a:// and file:// URIs"


def is_uri(name: str | os.PathLike[str]) -> bool:
    """A `scheme://...` name, unless a local path of that name exists (a folder called "x:")."""
    text = os.fspath(name)
    return bool(_URI_RE.match(text)) and not os.path.exists(text)


# -- the output folder -------------------------------------------------------------------------

class LocalFolder:
    """The output folder on a local (or mounted) filesystem. Writes are fsynced before the
    rename, because a shard's completion is recorded by its marker, written after them."""

    remote = False

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def __str__(self) -> str:
        return str(self.path)

    def describe(self, name: str) -> str:
        """`name` as messages show it."""
        return str(self.path / name)

    def kind(self, name: str = "") -> str | None:
        """"dir", "file", or None where nothing is."""
        path = self.path / name
        return "dir" if path.is_dir() else "file" if path.exists() else None

    def make(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)

    def lock(self, rank: int):
        """An exclusive lock on the folder for this rank, released when the process ends (kill -9
        included). Returns the open file; None where the platform has no fcntl."""
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return None
        handle = open(self.path / f".lock-{rank}", "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise UsageError(f"another unspin screen is writing {self.path}",
                             "wait for it to finish, or use another --out") from None
        return handle

    def list(self, sub: str = "") -> list[str]:
        """The names in the folder `sub` (none if it is not there)."""
        folder = self.path / sub
        return [p.name for p in folder.iterdir()] if folder.is_dir() else []

    def size(self, name: str) -> int | None:
        try:
            return (self.path / name).stat().st_size
        except OSError:
            return None

    def read_bytes(self, name: str) -> bytes:
        return (self.path / name).read_bytes()

    def open(self, name: str) -> IO[bytes]:
        return open(self.path / name, "rb")

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[IO[bytes]]:
        """A binary file that becomes `name` when the block ends without an error."""
        with atomic_path(self.path / name, durable=True) as tmp, open(tmp, "wb") as handle:
            yield handle

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.writing(name) as handle:
            handle.write(data)

    def remove(self, name: str) -> None:
        (self.path / name).unlink(missing_ok=True)

    def remove_tree(self, name: str) -> None:
        import shutil

        shutil.rmtree(self.path / name, ignore_errors=True)

    def sync(self, sub: str = "") -> None:
        """Make the renames in `sub` durable: a marker must not outlive a crash without its files."""
        with contextlib.suppress(OSError, AttributeError):  # not on every platform
            fd = os.open(self.path / sub, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


# -- the input side ----------------------------------------------------------------------------

class LocalStorage:
    """Local paths only; a URI is a UsageError naming the Spark engine."""

    def _local(self, name: str, what: str) -> str:
        if is_uri(name):
            raise UsageError(f"{what} {name!r} is a URI; the local engine reads and writes local paths only",
                             URI_HINT)
        return name

    def folder(self, out: str | os.PathLike[str]) -> Any:
        """The output folder `out` (a LocalFolder, or the Hadoop one for a URI)."""
        return LocalFolder(self._local(os.fspath(out), "--out"))

    def kind(self, name: str) -> str | None:
        path = Path(self._local(name, "input"))
        return "dir" if path.is_dir() else "file" if path.exists() else None

    def display(self, name: str, parts: Sequence[str] = ()) -> str:
        """How a file found in the input (a folder's relative `parts`) is named in ids and tables."""
        return Path(name).joinpath(*parts).as_posix()

    def key(self, name: str, parts: Sequence[str] = ()) -> Any:
        """What two names of one file share (`display`'s arguments): a file named twice is read once."""
        return Path(name).joinpath(*parts).resolve()

    def walk(self, folder: str, exclude: Sequence[str | os.PathLike[str]] = ()) -> Iterator[tuple[str, ...]]:
        """The relative parts of every file under `folder`, hidden ones and `exclude` left out."""
        root = Path(folder)
        excluded = {Path(p).resolve() for p in exclude if not is_uri(p)}
        for parent, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".") and Path(parent, d).resolve() not in excluded]
            for name in files:
                if not name.startswith("."):
                    yield Path(parent, name).relative_to(root).parts

    def stat(self, name: str) -> tuple[int, int]:
        """(size, modification time in ns); OSError if it cannot be had."""
        stat = os.stat(name)
        return stat.st_size, stat.st_mtime_ns

    def open(self, name: str) -> IO[bytes]:
        return open(name, "rb")

    def parquet_source(self, name: str, stack: contextlib.ExitStack) -> Any:
        """What pyarrow opens: a local path as it is (its own reads, no Python in between)."""
        return name

    def count_lines(self, name: str) -> int:
        """Lines (a last one without a newline included); 1 if unreadable, for an estimate."""
        count, last = 0, b"\n"
        try:
            with open(name, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    count += block.count(b"\n")
                    last = block[-1:]
        except OSError:
            return 1
        return count + (last != b"\n")


LOCAL = LocalStorage()


def as_folder(out: Any) -> Any:
    """`out` as a folder: a Folder as it is, a path as a LocalFolder."""
    return out if hasattr(out, "writing") else LocalFolder(out)
