"""Where unspin keeps resources it builds or caches, and how it writes them safely.

Compiled thesauri and dequantised model weights are built once on first use and cached on disk,
so that later runs start fast. Writes go to a temporary file that is renamed into place: an
interrupted build never leaves a half-written cache behind.

A process killed outright (`kill -9`, a power cut) cannot remove its temporary file, so each one is
named `.NAME.<random>.unspin.tmp` and held under an advisory lock (flock) by its writer while it
lives; the first atomic write of a later process into the same folder deletes those no process
holds, i.e. the leftovers of dead writers, and never a file another writer is still filling.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

TEMP_SUFFIX = ".unspin.tmp"
_SWEPT: set[str] = set()  # folders whose leftovers this process has already deleted


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
    sweep_leftovers(path.parent)
    fd, tmp = _locked_temp(path)
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
    finally:
        os.close(fd)  # releases the lock, after the rename: a sweeper never sees a live file unlocked


def _locked_temp(path: Path) -> tuple[int, str]:
    """A new temporary file beside `path`, open and locked; (its descriptor, its name)."""
    while True:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
        _lock(fd, wait=True)
        if os.fstat(fd).st_nlink:
            return fd, tmp
        os.close(fd)  # a sweeper removed it between its creation and our lock: take another name


def sweep_leftovers(folder: Path) -> None:
    """Delete the temporary files of dead writers in `folder` (once per folder and process)."""
    key = os.path.abspath(folder)
    if key in _SWEPT:
        return
    _SWEPT.add(key)
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        if entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX):
            _remove_if_abandoned(entry.path)


def _remove_if_abandoned(name: str) -> None:
    try:
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return  # gone already, or a link: not ours
    try:
        # Ours to delete only if no live process holds its lock, and the name still means that file.
        if _lock(fd, wait=False) and os.stat(name).st_ino == os.fstat(fd).st_ino:
            os.unlink(name)
    except OSError:
        pass
    finally:
        os.close(fd)


def _lock(fd: int, *, wait: bool) -> bool:
    """Take the exclusive flock of `fd`: True when held, False when another open file holds it or
    the platform or filesystem has no such locks (then nothing is ever swept)."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock; temporary files are then never swept
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except OSError:
        return False
    return True


def atomic_write_bytes(path: Path, data: bytes, *, durable: bool = False) -> None:
    """Write `data` to `path` through a temporary file in the same folder and a rename."""
    with atomic_path(path, durable=durable) as tmp:
        tmp.write_bytes(data)


def atomic_write_arrays(path: Path, **arrays) -> None:
    """NumPy arrays as one .npz file at `path`, written as `atomic_write_bytes` writes (np.savez
    itself would add ".npz" to a temporary file's name)."""
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


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


def quiet_model_loading() -> None:
    """Keep Hugging Face's progress bars ("Loading weights ...") off stderr: unspin's stderr is for
    its own one-line messages. Called by every loader of a transformers model (detector, LM)."""
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
