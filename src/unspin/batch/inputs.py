"""The documents of a batch, enumerated in one fixed order from folders, files and tables.

Every input item gets a sequence number (`seq`) in an order that depends only on the inputs:
the paths in the order given, a folder's files sorted by relative path, a table's rows in file
order. The same inputs therefore always cut into the same shards, which is what lets a run
resume. An item that cannot be read (a corrupt file, a bad row) is still an item: it carries the
reason in `error` instead of a text, lands in the errors table, and is never silently dropped.

What is an item:
- a file found in a folder, or named on the command line, that is not a table: one document,
  read later (in the worker) by the *reader*, a "module:function" name so that worker processes
  can import it. The default reads UTF-8 `.txt`/`.md`; the function's `suffixes` attribute says
  which files of a folder it wants. The document-extraction module plugs in here. A reader also
  takes the file's bytes as the keyword `data` (the Spark engine ships files read from URIs).
- a row of a `.jsonl`/`.ndjson`, `.csv` or `.parquet` file (named, or found in a folder): one
  document, its text in `text_column`, its id in `id_column` (else "path:line" / "path:row").

Tables are streamed (a line, a CSV record, a Parquet batch at a time), never loaded whole.

Names are local paths, read through `unspin.batch.storage.LOCAL`; given another storage (the Spark
engine's `unspin.batch.hadoop.HadoopStorage`) they may also be URIs (hdfs://, s3a://, file://),
listed and streamed through it in the same order, with the same items.
"""

from __future__ import annotations

import contextlib
import csv
import datetime
import decimal
import hashlib
import importlib
import io
import json
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from unspin.batch.storage import LOCAL
from unspin.errors import InputError, ResourceMissing, UsageError
from unspin.text.load import parse_json

log = logging.getLogger(__name__)

DEFAULT_READER = "unspin.batch.inputs:read_document_file"
TABLE_KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet"}
PARQUET_BATCH_ROWS = 1024


@dataclass(frozen=True)
class Document:
    """One input item. `text` None and `error` None: a file the worker reads with the reader (from
    `data`, its bytes, where the driver shipped them: a file at a URI, which a worker cannot open).

    Not `unspin.web.inputs.Document`: this one is a place in a corpus (seq, source, location, an
    error recorded instead of raised) that travels in shards and keys a resumed run; the web's is
    a request's text with its extracted document. One class would carry both sets of fields."""

    seq: int  # position in the whole input, from 0
    id: Any  # the input's id, else a locator ("path", "path:line")
    source: str  # the file, as named: the argument, or folder/relative path
    location: str = ""  # "line 17" (JSONL, CSV: where the record starts), "row 17" (Parquet, from 1)
    text: str | None = None
    error: str | None = None  # why it could not be read
    data: bytes | None = None  # the file's bytes, for a file that the worker cannot open itself

    def key(self) -> str:
        """What identifies the item in its input, for checking that a resumed run sees the same."""
        return f"{self.seq}\t{self.source}\t{self.location}"


@dataclass(frozen=True)
class Source:
    """One file of the input: a document file or a table."""

    path: str  # as it will appear in ids and tables
    kind: str  # "file" | "jsonl" | "csv" | "parquet"


# -- the pluggable reader for whole files ------------------------------------------------------

def read_text_file(path: str, data: bytes | None = None) -> str:
    """A reader: a UTF-8 text file (BOM dropped); binary or invalid UTF-8 is refused. `data`:
    the file's bytes, already read (a reader takes them as this keyword)."""
    from unspin.text.load import decode, read_input

    return read_input(path) if data is None else decode(data, path)


read_text_file.suffixes = (".txt", ".md")  # type: ignore[attr-defined]


def read_document_file(path: str, data: bytes | None = None):
    """The default reader: any document `unspin check` reads (`unspin.documents.extract`); the
    checker judges it without its excluded parts (references, quotations, code ...). `data`: the
    file's bytes, already read, named by `path` in messages and for the format."""
    from unspin.documents import extract

    return extract(path) if data is None else extract(data, name=path)


read_document_file.suffixes = (".txt", ".md", ".markdown", ".html", ".htm", ".xhtml", ".pdf", ".docx",  # type: ignore[attr-defined]
                               ".xml", ".nxml")


def resolve(name: str) -> Callable[..., Any]:
    """The function named "package.module:function" (how workers find the reader and checker)."""
    module, _, attribute = name.partition(":")
    if not module or not attribute:
        raise UsageError(f"{name!r} is not a module:function name", "e.g. unspin.batch.inputs:read_text_file")
    try:
        return getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError) as err:
        raise UsageError(f"cannot load {name}: {err}", "check the module is installed") from None


def reader_suffixes(reader: str) -> tuple[str, ...]:
    return tuple(s.lower() for s in getattr(resolve(reader), "suffixes", (".txt", ".md")))


# -- enumerating the input ---------------------------------------------------------------------

def plan_sources(paths: Sequence[str], *, reader: str = DEFAULT_READER,
                 exclude: Sequence[str | os.PathLike[str]] = (), storage=LOCAL) -> list[Source]:
    """Every file to read, in the fixed order, from paths given on the command line.

    Folders are walked recursively (hidden files and folders, and `exclude` — the output
    folder — are left out) and their files sorted by relative path; a folder's tables are
    expanded like named ones, and files the reader has no suffix for are skipped. A file
    named twice (directly or through folders) is read once, where it first comes.
    """
    suffixes = reader_suffixes(reader)
    sources: list[Source] = []
    seen: set = set()
    skipped = 0

    def add(path: str, resolved, kind: str) -> None:
        if resolved in seen:
            log.warning("%s is named more than once; screened once", path)
            return
        seen.add(resolved)
        sources.append(Source(path, kind))

    for arg in paths:
        if arg == "-":
            raise UsageError("screen reads files, not standard input", "save the input to a file first")
        what = storage.kind(arg)
        if what is None:
            raise InputError(f"{arg} does not exist", "check the path")
        if what == "dir":
            found = []
            for parts in storage.walk(arg, exclude):
                suffix = os.path.splitext(parts[-1])[1].lower()
                kind = TABLE_KINDS.get(suffix) or ("file" if suffix in suffixes else None)
                if kind is None:
                    skipped += 1
                    continue
                found.append((parts, kind))
            for parts, kind in sorted(found):
                add(storage.display(arg, parts), storage.key(arg, parts), kind)
        else:
            file = storage.display(arg)
            add(file, storage.key(arg), TABLE_KINDS.get(os.path.splitext(file)[1].lower(), "file"))
    if skipped:
        log.info("skipped %d files of other types in the folders given (readable: %s and tables)",
                 skipped, ", ".join(suffixes))
    return sources


def signature(sources: Sequence[Source], storage=LOCAL) -> dict[str, Any]:
    """What the input is, for refusing to resume over changed input: every file's name, kind,
    size and modification time, hashed (a changed file changes which rows fall in which shard)."""
    digest = hashlib.sha256()
    for source in sources:
        try:
            size, mtime = storage.stat(source.path)
        except OSError:
            size, mtime = -1, -1
        digest.update(f"{source.path}\0{source.kind}\0{size}\0{mtime}\n".encode("utf-8", "backslashreplace"))
    return {"files": len(sources), "sha256": digest.hexdigest()}


def estimate_total(sources: Sequence[Source], storage=LOCAL) -> tuple[int, bool]:
    """(documents, exact) for the progress bar: exact for files and Parquet; JSONL and CSV are
    counted by lines (a blank line, or a CSV record over several lines, makes it an estimate)."""
    total, exact = 0, True
    for source in sources:
        if source.kind == "file":
            total += 1
        elif source.kind == "parquet":
            try:
                with contextlib.ExitStack() as stack:
                    parquet = require_pyarrow()[1].ParquetFile(storage.parquet_source(source.path, stack))
                    total += parquet.metadata.num_rows
            except Exception:  # noqa: BLE001 - a corrupt file is one error item
                total += 1
        else:
            lines = storage.count_lines(source.path)
            total += max(1, lines - (1 if source.kind == "csv" else 0))
            exact = False
    return total, exact


def iter_documents(sources: Sequence[Source], *, text_column: str = "text", id_column: str | None = None,
                   storage=LOCAL) -> Iterator[Document]:
    """Every item of every source, numbered from 0. `id_column` None: "id" where there is one."""
    readers = {"file": _file_items, "jsonl": _jsonl_items, "csv": _csv_items, "parquet": _parquet_items}
    seq = 0
    for source in sources:
        for id, location, text, error in readers[source.kind](source.path, text_column, id_column, storage):
            yield Document(seq, id, source.path, location, text, error)
            seq += 1


Item = tuple[Any, str, "str | None", "str | None"]  # id, location, text, error


def _file_items(path: str, text_column: str, id_column: str | None, storage=LOCAL) -> Iterator[Item]:
    yield path, "", None, None  # read in the worker, by the reader


def _jsonl_items(path: str, text_column: str, id_column: str | None, storage=LOCAL) -> Iterator[Item]:
    id_key = id_column or "id"
    try:
        handle = storage.open(path)  # closed below; a failure to open is an item
    except OSError as err:
        yield path, "", None, f"cannot read {path}: {err.strerror}"
        return
    number = 0
    with handle:
        try:
            for number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                fallback, location = f"{path}:{number}", f"line {number}"
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as err:
                    yield fallback, location, None, f"not valid UTF-8 (byte {err.start} of the line)"
                    continue
                try:  # the CLI's parser: deep nesting, NaN and huge numbers are a bad row, not a crash
                    record = parse_json(line.removeprefix("\ufeff") if number == 1 else line, "")
                except InputError as err:
                    yield fallback, location, None, err.message
                    continue
                if not isinstance(record, dict):
                    yield fallback, location, None, 'expected a JSON object like {"id": ..., "text": "..."}'
                    continue
                id = plain_id(record.get(id_key)) if record.get(id_key) is not None else fallback
                text = record.get(text_column)
                if not isinstance(text, str):
                    problem = "no" if text_column not in record else f"{type(text).__name__} instead of a string in"
                    yield id, location, None, f'{problem} "{text_column}"'
                    continue
                yield id, location, text, None
        except OSError as err:
            yield f"{path}:{number + 1}", f"line {number + 1}", None, \
                f"reading stopped here ({err.strerror}); the rest of the file is not screened"


def _csv_items(path: str, text_column: str, id_column: str | None, storage=LOCAL) -> Iterator[Item]:
    # Documents are long; the csv module's default cell limit is 128 KiB (process-wide setting).
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))
    try:  # surrogateescape: a bad byte becomes a bad row, found below, not the end of the file
        handle = io.TextIOWrapper(storage.open(path), encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as err:
        yield path, "", None, f"cannot read {path}: {err.strerror}"
        return
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader)
        except StopIteration:
            return  # an empty file holds no documents
        except (csv.Error, OSError) as err:
            yield path, "line 1", None, f"cannot read the header: {err}"
            return
        if text_column not in header:
            yield path, "line 1", None, f"no column {text_column!r} in the header ({_columns(header)})"
            return
        if id_column is not None and id_column not in header:
            yield path, "line 1", None, f"no id column {id_column!r} in the header ({_columns(header)})"
            return
        text_index = header.index(text_column)
        id_index = header.index(id_column or "id") if (id_column or "id") in header else None
        last = reader.line_num
        while True:
            start = last + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:
                if reader.line_num == last:  # no progress: give up on the rest rather than loop
                    yield f"{path}:{start}", f"line {start}", None, f"CSV error ({err}); the rest of the file is not screened"
                    return
                last = reader.line_num
                yield f"{path}:{start}", f"line {start}", None, f"CSV error ({err})"
                continue
            except OSError as err:
                yield f"{path}:{start}", f"line {start}", None, f"reading stopped here ({err.strerror}); the rest is not screened"
                return
            last = reader.line_num
            if not row:
                continue  # a blank line
            location, fallback = f"line {start}", f"{path}:{start}"
            id = row[id_index] if id_index is not None and id_index < len(row) and row[id_index] != "" else fallback
            if len(row) != len(header):
                yield _escape(id), location, None, f"expected {len(header)} fields, found {len(row)}"
            elif any(_has_bad_bytes(cell) for cell in row):
                yield _escape(id), location, None, "not valid UTF-8"
            else:
                yield id, location, row[text_index], None


def _parquet_items(path: str, text_column: str, id_column: str | None, storage=LOCAL) -> Iterator[Item]:
    with contextlib.ExitStack() as stack:  # a stream opened for a URI is closed with the generator
        yield from _parquet_rows(path, text_column, id_column, storage, stack)


def _parquet_rows(path: str, text_column: str, id_column: str | None, storage, stack) -> Iterator[Item]:
    pa, pq = require_pyarrow()
    try:
        file = pq.ParquetFile(storage.parquet_source(path, stack))
        names = file.schema_arrow.names
    except (pa.ArrowException, OSError, ValueError) as err:
        yield path, "", None, f"not a readable Parquet file ({err})"
        return
    if text_column not in names:
        yield path, "", None, f"no column {text_column!r} ({_columns(names)})"
        return
    if id_column is not None and id_column not in names:
        yield path, "", None, f"no id column {id_column!r} ({_columns(names)})"
        return
    id_name = id_column or "id"
    columns = [text_column] + ([id_name] if id_name in names and id_name != text_column else [])
    row = 0
    try:
        for batch in file.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=columns):
            texts = batch.column(0).to_pylist()
            ids = batch.column(1).to_pylist() if len(columns) > 1 else [None] * len(texts)
            for text, id in zip(texts, ids):
                row += 1
                location = f"row {row}"
                id = plain_id(id) if id is not None else f"{path}:{row}"
                if isinstance(text, bytes):
                    try:
                        text = text.decode("utf-8")
                    except UnicodeDecodeError as err:
                        yield id, location, None, f"not valid UTF-8 (byte {err.start})"
                        continue
                if not isinstance(text, str):
                    yield id, location, None, f'{"no text" if text is None else type(text).__name__} in "{text_column}"'
                    continue
                yield id, location, text, None
    except (pa.ArrowException, OSError, ValueError) as err:
        yield f"{path}:{row + 1}", f"row {row + 1}", None, \
            f"reading stopped here ({err}); the rest of the file is not screened"


def _columns(names: Sequence[str]) -> str:
    shown = ", ".join(repr(n) for n in list(names)[:8])
    return f"columns: {shown}{', ...' if len(names) > 8 else ''}"


def _has_bad_bytes(cell: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in cell)


def _escape(value: str) -> str:
    """A string with undecodable bytes shown as \\xNN, so that it can be written as UTF-8."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def plain_id(value: Any) -> Any:
    """An id as JSON can hold it: strings, numbers and booleans as they are, the rest as text."""
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    return json.dumps(value, ensure_ascii=False, default=str) if isinstance(value, (list, dict)) else str(value)


def require_pyarrow():
    """(pyarrow, pyarrow.parquet), or a ResourceMissing naming the extra to install."""
    try:
        import pyarrow
        import pyarrow.parquet
    except ImportError:
        raise ResourceMissing("reading or writing Parquet needs pyarrow",
                              "pip install 'unspin[batch]'") from None
    return pyarrow, pyarrow.parquet


def have_pyarrow() -> bool:
    try:
        require_pyarrow()
    except ResourceMissing:
        return False
    return True
