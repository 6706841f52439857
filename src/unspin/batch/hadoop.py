"""Hadoop's FileSystem API, called from the Spark driver: what lets `--engine spark` use URIs.

`HadoopStorage` and `HadoopFolder` implement the two interfaces of `unspin.batch.storage` for
every `scheme://` name, through the JVM of the run's SparkContext (py4j):
`org.apache.hadoop.fs.Path(uri).getFileSystem(sc._jsc.hadoopConfiguration())`. So a URI works
when Spark's Hadoop can open it: hdfs:// and file:// out of the box, s3a:// with the hadoop-aws
jar and credentials (`spark.jars.packages`, `spark.hadoop.fs.s3a.*`), gs:// or abfs:// with
their connectors. Plain paths still go to the local storage, unchanged.

Only the driver has a JVM to call (a Python executor has none), so for URIs the driver lists and
streams tables itself (as it always read tables), reads document files and ships their bytes
inside the shards (`read_document`), and writes what the executors send back (`HadoopFolder`).

Writes keep the local engine's protocol: a temporary name in the same folder, closed, then
renamed. Hadoop's `FileSystem.rename` will not replace a file (HDFS, S3A), so replacing one is a
delete and a rename: not atomic, but only the merged tables and run.json are ever replaced (shard
files are written to names the cleanup of an interrupted run has just emptied). A closed file is
as durable as its filesystem makes it (HDFS: on its datanodes; S3: an object), so there is no
fsync. The folder takes no lock: two runs writing one URI folder at once are not detected.

`file://` names go to the raw local filesystem, not Hadoop's default checksummed one, so that a
run writes the files the local engine writes and no hidden `.crc` beside each.

A Java error becomes a Python one: a scheme Hadoop has no filesystem for is a UsageError, a
filesystem class missing from the classpath a ResourceMissing with the jar to add, a missing path
FileNotFoundError and anything else OSError; the folder turns those into InputError. No Java
traceback reaches the user.
"""

from __future__ import annotations

import contextlib
import errno
import io
import logging
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit

from unspin.batch.storage import LocalFolder, LocalStorage, is_uri
from unspin.errors import InputError, ResourceMissing, UsageError

log = logging.getLogger(__name__)

CHUNK = 1 << 20  # bytes per py4j call when streaming (each call is a round trip to the JVM)
SAMPLE = 1 << 20  # bytes of a remote table read to estimate its lines for the progress bar
ACCESS_HINT = "check the URI, the credentials, and that the filesystem can be reached from the Spark driver"


# -- Java errors as Python ones ----------------------------------------------------------------

@contextlib.contextmanager
def java_errors(uri: str, hadoop_version: Callable[[], str] = lambda: "?") -> Iterator[None]:
    """Py4JJavaError (a Java exception) raised inside as the Python error it means for `uri`."""
    from py4j.protocol import Py4JJavaError

    try:
        yield
    except Py4JJavaError as err:
        raise translate(_chain(err.java_exception), uri, hadoop_version) from None


def _chain(java: Any) -> list[tuple[str, str]]:
    """(class name, message) of an exception and its causes, outermost first."""
    chain = []
    while java is not None and len(chain) < 10:
        chain.append((java.getClass().getName(), str(java.getMessage() or "")))
        java = java.getCause()
    return chain


def translate(chain: list[tuple[str, str]], uri: str, hadoop_version: Callable[[], str] = lambda: "?") -> Exception:
    """The Python error for a Java exception chain met while accessing `uri`."""
    scheme = urlsplit(uri).scheme.lower()
    names = [name for name, _ in chain]
    if "org.apache.hadoop.fs.UnsupportedFileSystemException" in names:
        return UsageError(f"{uri}: Spark's Hadoop has no filesystem for the scheme {scheme!r}",
                          "check the URI (hdfs://, s3a://, file:// ...); another scheme needs its connector "
                          "jar on Spark's classpath (--conf spark.jars.packages=...)")
    missing = next((message for name, message in chain if name == "java.lang.ClassNotFoundException"), None)
    if missing is not None:
        return ResourceMissing(f"{uri}: the {scheme}:// filesystem is not on Spark's classpath "
                               f"({_first_line(missing)})", connector_hint(scheme, hadoop_version()))
    name, message = chain[0] if chain else ("java.io.IOException", "")
    text = f"{name.rsplit('.', 1)[-1]}: {_first_line(message)}"[:500]
    if name == "java.io.FileNotFoundException":
        return FileNotFoundError(errno.ENOENT, "no such file or folder", uri)
    if any(word in name for word in ("AccessDenied", "AccessControl")):
        return PermissionError(errno.EACCES, text, uri)
    return OSError(errno.EIO, text, uri)


def connector_hint(scheme: str, version: str) -> str:
    if scheme in ("s3a", "s3", "s3n"):
        return (f"add the hadoop-aws jar of Spark's Hadoop ({version}): --conf spark.jars.packages="
                f"org.apache.hadoop:hadoop-aws:{version} (or spark.jars with that jar and its AWS SDK bundle), "
                "and credentials: spark.hadoop.fs.s3a.access.key/secret.key, or the AWS environment; use s3a://")
    return f"add the {scheme}:// connector jar built for Hadoop {version} (--conf spark.jars=... or spark.jars.packages=...)"


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0].strip() if lines else ""


# -- streams -----------------------------------------------------------------------------------

class JavaInput(io.RawIOBase):
    """A Hadoop input stream as a Python binary file, seekable (pyarrow reads Parquet footers
    first). Its length is asked for only when a seek from the end needs it."""

    def __init__(self, stream: Any, uri: str, length: Callable[[], int]) -> None:
        super().__init__()
        self._stream, self._uri, self._length, self._pos = stream, uri, length, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        with java_errors(self._uri):
            data = self._stream.readNBytes(min(len(buffer), CHUNK))  # byte[] comes back as bytes
        memoryview(buffer).cast("B")[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos}.get(whence)
        target = offset + (base if base is not None else self._length())
        with java_errors(self._uri):
            self._stream.seek(target)
        self._pos = target
        return target

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):  # a failed close of a read stream loses nothing
                self._stream.close()
        super().close()


class JavaOutput(io.RawIOBase):
    """A Hadoop output stream as a Python binary file (append only: `tell` counts bytes written)."""

    def __init__(self, stream: Any, uri: str) -> None:
        super().__init__()
        self._stream, self._uri, self._written = stream, uri, 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        view = memoryview(data).cast("B")
        with java_errors(self._uri):
            for start in range(0, len(view), CHUNK):
                self._stream.write(bytes(view[start:start + CHUNK]))  # bytes go to Java as byte[]
        self._written += len(view)
        return len(view)

    def tell(self) -> int:
        return self._written

    def close(self) -> None:
        if not self.closed:
            try:
                with java_errors(self._uri):
                    self._stream.close()  # completes the file: HDFS commits its blocks, S3A uploads
            finally:
                super().close()


# -- the input side ----------------------------------------------------------------------------

class HadoopStorage(LocalStorage):
    """URIs through Hadoop's FileSystem API, local paths as the local storage reads them.
    `context()`: the run's SparkContext, asked for at the first URI (the JVM starts then)."""

    def __init__(self, context: Callable[[], Any]) -> None:
        self._context = context
        self._systems: dict[tuple[str, str], Any] = {}
        self._names: dict[str, str] = {}
        self._version: str | None = None

    # JVM access

    def jvm(self) -> Any:
        return self._context()._jvm

    def path(self, uri: str) -> Any:
        return self.jvm().org.apache.hadoop.fs.Path(uri)

    def hadoop_version(self) -> str:
        if self._version is None:
            try:
                self._version = str(self.jvm().org.apache.hadoop.util.VersionInfo.getVersion())
            except Exception:  # noqa: BLE001 - only for a hint
                self._version = "?"
        return self._version

    def errors(self, uri: str):
        return java_errors(uri, self.hadoop_version)

    def filesystem(self, uri: str) -> Any:
        """The Hadoop FileSystem of `uri`'s scheme and authority, opened once per run."""
        parts = urlsplit(uri)
        key = (parts.scheme.lower(), parts.netloc)
        if key not in self._systems:
            with self.errors(uri):
                system = self.path(uri).getFileSystem(self._context()._jsc.hadoopConfiguration())
                checksummed = self.jvm().java.lang.Class.forName("org.apache.hadoop.fs.ChecksumFileSystem")
                if checksummed.isInstance(system):  # file:// (Spark's is Hive's ProxyLocalFileSystem)
                    system = system.getRawFileSystem()  # no .crc file beside each file written
            self._systems[key] = system
        return self._systems[key]

    def status(self, uri: str) -> Any:
        """The FileStatus of `uri`; FileNotFoundError if nothing is there."""
        system = self.filesystem(uri)
        with self.errors(uri):
            return system.getFileStatus(self.path(uri))

    # LocalStorage's interface, for URIs

    def folder(self, out: str | os.PathLike[str]) -> Any:
        name = os.fspath(out)
        return HadoopFolder(self, name) if is_uri(name) else LocalFolder(name)

    def kind(self, name: str) -> str | None:
        if not is_uri(name):
            return super().kind(name)
        try:
            return "dir" if self.status(name).isDirectory() else "file"
        except FileNotFoundError:
            return None
        except OSError as err:
            raise InputError(f"cannot open {name}: {err.strerror}", ACCESS_HINT) from None

    def display(self, name: str, parts: Sequence[str] = ()) -> str:
        if not is_uri(name):
            return super().display(name, parts)
        return "/".join([name.rstrip("/"), *parts]) if parts else name

    def key(self, name: str, parts: Sequence[str] = ()) -> Any:
        if not is_uri(name):
            return super().key(name, parts)
        return "/".join([self._qualified(name).rstrip("/"), *parts]) if parts else self._qualified(name)

    def _qualified(self, uri: str) -> str:
        """`uri` as Hadoop writes it ("file:///a/" is "file:/a"): asked once per name given."""
        if uri not in self._names:
            system = self.filesystem(uri)
            with self.errors(uri):
                self._names[uri] = str(system.makeQualified(self.path(uri)).toString())
        return self._names[uri]

    def walk(self, folder: str, exclude: Sequence[str | os.PathLike[str]] = ()) -> Iterator[tuple[str, ...]]:
        if not is_uri(folder):
            yield from super().walk(folder, exclude)
            return
        system = self.filesystem(folder)
        excluded = set()
        for name in map(os.fspath, exclude):  # the output folder, as a URI or a local path
            with contextlib.suppress(Exception):
                excluded.add(self._qualified(name if is_uri(name) else Path(name).resolve().as_uri()))

        def visit(path: Any, parts: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
            try:
                with self.errors(folder):
                    found = [(s.getPath(), s.isDirectory()) for s in system.listStatus(path)]
            except OSError as err:
                raise InputError(f"cannot list {self.display(folder, parts)}: {err.strerror}", ACCESS_HINT) from None
            for child, is_dir in found:
                name = str(child.getName())
                if name.startswith("."):
                    continue
                if not is_dir:
                    yield (*parts, name)
                elif str(child.toString()) not in excluded:
                    yield from visit(child, (*parts, name))

        yield from visit(self.path(folder), ())

    def stat(self, name: str) -> tuple[int, int]:
        if not is_uri(name):
            return super().stat(name)
        status = self.status(name)
        return int(status.getLen()), int(status.getModificationTime()) * 1_000_000  # ms to ns

    def open(self, name: str) -> IO[bytes]:
        """A buffered binary stream; OSError (FileNotFoundError ...) if it cannot be opened."""
        if not is_uri(name):
            return super().open(name)
        system = self.filesystem(name)
        with self.errors(name):
            stream = system.open(self.path(name))
        return io.BufferedReader(JavaInput(stream, name, lambda: int(self.status(name).getLen())), CHUNK)

    def parquet_source(self, name: str, stack: contextlib.ExitStack) -> Any:
        if not is_uri(name):
            return super().parquet_source(name, stack)
        return stack.enter_context(self.open(name))

    def count_lines(self, name: str) -> int:
        """Local files counted; a remote table estimated from its first MiB, so that the driver
        does not read it all twice just for the progress bar."""
        if not is_uri(name):
            return super().count_lines(name)
        try:
            with self.open(name) as handle:
                sample = handle.read(SAMPLE)
            if len(sample) < SAMPLE:
                return sample.count(b"\n") + (sample[-1:] not in (b"", b"\n"))  # as LocalStorage counts
            return max(1, round(sample.count(b"\n") * self.stat(name)[0] / len(sample)))
        except OSError:
            return 1

    def read_document(self, uri: str, limit: int) -> tuple[bytes | None, str | None]:
        """(the bytes, None) of a document file, or (None, why not) for the errors table."""
        try:
            with self.open(uri) as handle:
                data = handle.read(limit + 1)
            if len(data) > limit:
                size = self.stat(uri)[0]
                return None, (f"{uri} is {size / 2**20:,.1f} MiB, over the {limit / 2**20:,.0f} MiB limit "
                              "for a document read from a URI")
        except OSError as err:
            return None, f"cannot read {uri}: {err.strerror}"
        return data, None


# -- the output folder -------------------------------------------------------------------------

class HadoopFolder:
    """The output folder at a URI: `LocalFolder`'s interface through Hadoop's FileSystem. The
    filesystem is opened here, so that a bad --out fails before any work."""

    remote = True

    def __init__(self, storage: HadoopStorage, uri: str) -> None:
        trimmed = uri.rstrip("/")  # "hdfs://nn/run/" is "hdfs://nn/run"; a root ("file:///") stays
        self.storage, self.uri = storage, trimmed if "/" in trimmed.partition("://")[2] else uri
        self.system = storage.filesystem(self.uri)

    def __str__(self) -> str:
        return self.uri

    def describe(self, name: str) -> str:
        return f"{self.uri.rstrip('/')}/{name}" if name else self.uri

    def _path(self, name: str = "") -> Any:
        return self.storage.path(self.describe(name))

    def _call(self, name: str, call: Callable[[], Any], *, missing: Any = FileNotFoundError) -> Any:
        """`call()`, its Java errors as Python ones: `missing` returned where nothing is at
        `name` (unless it is FileNotFoundError), any other failure an InputError naming `name`."""
        try:
            with self.storage.errors(self.describe(name)):
                return call()
        except FileNotFoundError as err:
            if missing is not FileNotFoundError:
                return missing
            raise InputError(f"cannot access {self.describe(name)}: {err.strerror}", ACCESS_HINT) from None
        except OSError as err:
            raise InputError(f"cannot access {self.describe(name)}: {err.strerror}", ACCESS_HINT) from None

    def kind(self, name: str = "") -> str | None:
        status = self._call(name, lambda: self.system.getFileStatus(self._path(name)), missing=None)
        return None if status is None else "dir" if status.isDirectory() else "file"

    def make(self) -> None:
        self._call("", lambda: self.system.mkdirs(self._path()))

    def lock(self, rank: int) -> None:
        log.info("no lock on %s: Hadoop filesystems have none that a killed run releases", self.uri)

    def list(self, sub: str = "") -> list[str]:
        return self._call(sub, lambda: [str(s.getPath().getName()) for s in self.system.listStatus(self._path(sub))],
                          missing=[])

    def size(self, name: str) -> int | None:
        return self._call(name, lambda: int(self.system.getFileStatus(self._path(name)).getLen()), missing=None)

    def read_bytes(self, name: str) -> bytes:
        def read() -> bytes:
            with self.open(name) as handle:
                return handle.read()

        return self._call(name, read)

    def open(self, name: str) -> IO[bytes]:
        return self.storage.open(self.describe(name))

    @contextlib.contextmanager
    def writing(self, name: str) -> Iterator[IO[bytes]]:
        """A binary file that becomes `name` when the block ends without an error: written
        under a temporary name beside it (which the cleanup of an interrupted run removes)."""
        target = self._path(name)
        tmp = self.storage.jvm().org.apache.hadoop.fs.Path(
            target.getParent(), f".{target.getName()}.{uuid.uuid4().hex[:8]}.tmp")
        stream = self._call(name, lambda: self.system.create(tmp, True))  # parent folders made as needed
        handle = io.BufferedWriter(JavaOutput(stream, self.describe(name)), CHUNK)
        try:
            yield handle
            self._call(name, handle.close)
            self._call(name, lambda: self._replace(tmp, target, name))
        except BaseException:
            with contextlib.suppress(Exception):
                handle.close()
            with contextlib.suppress(Exception):
                self.system.delete(tmp, False)
            raise

    def _replace(self, tmp: Any, target: Any, name: str) -> None:
        if self.system.rename(tmp, target):
            return
        if self.system.exists(target):  # HDFS and S3A do not rename onto a file
            self.system.delete(target, False)
            if self.system.rename(tmp, target):
                return
        raise OSError(errno.EIO, f"cannot rename {tmp.toString()} to {name}")

    def write_bytes(self, name: str, data: bytes) -> None:
        with self.writing(name) as handle:
            handle.write(data)

    def remove(self, name: str) -> None:
        self._call(name, lambda: self.system.delete(self._path(name), False))

    def remove_tree(self, name: str) -> None:
        self._call(name, lambda: self.system.delete(self._path(name), True))

    def sync(self, sub: str = "") -> None:
        """Nothing to do: a closed Hadoop file is as durable as its filesystem makes it."""
