"""Read input as text: files, stdin, bytes, with one clear error for each way it can fail."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from unspin.errors import InputError


def decode(data: bytes, source: str) -> str:
    """Decode UTF-8 input, refusing binary data with a clear message."""
    if b"\x00" in data[:65536]:
        raise InputError(f"{source} looks like a binary file, not text", "give a UTF-8 text file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{source} is not valid UTF-8 (byte {err.start})",
            "convert it first, e.g. iconv -f latin1 -t utf-8",
        ) from None
    return text.removeprefix("\ufeff")


def read_input(path: str, stdin: BinaryIO | None = None) -> str:
    """The text of `path`, or of `stdin` when path is '-'."""
    if path == "-":
        if stdin is None:
            raise InputError("no standard input to read", "pipe text in or give a file")
        return decode(stdin.read(), "standard input")
    file = Path(path)
    if file.is_dir():
        raise InputError(f"{path} is a directory", "give a text file (batch screening is `unspin screen`)")
    if not file.exists():
        raise InputError(f"{path} does not exist", "check the path")
    try:
        data = file.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read {path}: {err.strerror}", "check its permissions") from None
    return decode(data, path)


def read_document(path: str, stdin: BinaryIO | None = None):
    """The extracted document at `path` (or stdin for '-'): any format `unspin.documents` reads."""
    from unspin.documents import extract

    if path == "-":
        if stdin is None:
            raise InputError("no standard input to read", "pipe text in or give a file")
        return extract(stdin.read(), name="standard input")
    if Path(path).is_dir():
        raise InputError(f"{path} is a directory", "give a document file (batch screening is `unspin screen`)")
    return extract(path)


def iter_jsonl(text: str, source: str) -> Iterator[tuple[object, str]]:
    """(id, text) for each line of a JSONL document; a bad line raises naming its number."""
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{source} line {number}: not valid JSON ({err.msg})", "one JSON object per line") from None
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(
                f"{source} line {number}: expected an object with a string \"text\"",
                'each line must look like {"id": ..., "text": "..."}',
            )
        yield record.get("id"), record["text"]
