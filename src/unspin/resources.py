"""Where unspin keeps resources it builds or caches, and how it writes them safely.

Compiled thesauri and dequantised model weights are built once on first use and cached on disk,
so that later runs start fast. Writes go to a temporary file that is renamed into place: an
interrupted build never leaves a half-written cache behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path


def cache_dir(*parts: str) -> Path:
    """The cache folder ($UNSPIN_CACHE, else ~/.cache/unspin), created on demand."""
    root = Path(os.environ.get("UNSPIN_CACHE") or Path.home() / ".cache" / "unspin")
    path = root.joinpath(*parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


@contextlib.contextmanager
def atomic_path(path: Path, *, durable: bool = False) -> Iterator[Path]:
    """A temporary path beside `path`, renamed onto it when the block ends without an error.

    Write the file at the yielded path (any writer that takes a path); on an error it is removed
    and `path` is untouched. `durable`: fsync the file before the rename, for outputs whose
    completion is recorded elsewhere (batch shards and their markers).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        if durable:
            with open(tmp, "rb+") as handle:
                os.fsync(handle.fileno())
        os.chmod(tmp, 0o644 & ~current_umask())  # mkstemp makes files private; caches are shared
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)


def current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
