"""Read input as text: files, stdin, bytes, with one clear error for each way it can fail."""

from __future__ import annotations

import json
import math
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from unspin.errors import InputError

# Byte-order marks of the wide encodings, UTF-32 first: its little-endian mark begins with UTF-16's.
_WIDE_BOMS = ((b"\xff\xfe\x00\x00", "utf-32"), (b"\x00\x00\xfe\xff", "utf-32"),
              (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
# A surrogate code point in a str can only be unpaired (a JSON "\ud800" escape): UTF-8 cannot
# carry it, so every writer would fail on it later.
_SURROGATE = re.compile("[\ud800-\udfff]")
MAX_ID_DEPTH = 32  # an id is a name; nesting beyond this is an attack on the writers' recursion
# How far into a file a NUL byte is looked for: enough to catch any binary header, cheap on a 64 MiB file.
BINARY_SNIFF_BYTES = 65536


def wide_encoding(data: bytes) -> str | None:
    """"utf-32" or "utf-16" when `data` starts with that encoding's byte-order mark, else None."""
    return next((encoding for bom, encoding in _WIDE_BOMS if data.startswith(bom)), None)


def looks_binary(data: bytes) -> bool:
    """True when a NUL byte comes near the start of `data`: UTF-8 text has none, binary formats
    nearly always do. The one test of "binary" for every reader (text, documents, lists), so that
    they agree on what they refuse; UTF-16 and UTF-32 text holds NULs too, which callers that read
    those check first (`wide_encoding`)."""
    return b"\x00" in data[:BINARY_SNIFF_BYTES]


def decode(data: bytes, source: str) -> str:
    """Decode UTF-8 input, refusing binary data with a clear message."""
    if looks_binary(data):
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


def iter_jsonl(text: str, source: str) -> Iterator[tuple[object, str]]:
    """(id, text) for each line of a JSONL document; a bad line raises naming its number.

    Lines end at "\n" only (a "\r" before it is dropped): JSON strings may hold U+2028, U+0085 or
    U+001C raw, which `str.splitlines()` would take for line ends.
    """
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip(" \t"):
            continue
        where = f"{source} line {number}"
        record = parse_json(line, where)
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise InputError(
                f"{where}: expected an object with a string \"text\"",
                'each line must look like {"id": ..., "text": "..."}',
            )
        yield checked_id(record.get("id"), where), checked_text(record["text"], where)


def parse_json(text: str | bytes, where: str) -> Any:
    """One JSON value, or an InputError naming `where` for anything Python's parser chokes on:
    bad syntax, NaN and Infinity (not JSON), nesting deeper than the interpreter's stack, and
    integers longer than Python converts (`sys.get_int_max_str_digits()`). Control characters
    written raw inside a string (U+001C, a tab) are taken as they are, as most JSON writers and
    readers do: they are text, and refusing them would refuse the line for no gain."""
    try:
        return json.loads(text, strict=False, parse_constant=_refuse_constant, parse_int=_parse_int)
    except json.JSONDecodeError as err:
        at = f"column {err.colno}" if err.lineno == 1 else f"line {err.lineno}, column {err.colno}"
        raise InputError(_at(where, f"not valid JSON ({err.msg} at {at})"), "one JSON object per line") from None
    except RecursionError:
        raise InputError(_at(where, "JSON nested too deeply to read"), "flatten the nested arrays or objects") from None
    except ValueError as err:  # from the two hooks below
        raise InputError(_at(where, str(err)), "write such values as strings") from None


def _at(where: str, what: str) -> str:
    return f"{where}: {what}" if where else what


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"not valid JSON: {name} is not a number in JSON")


def _parse_int(digits: str) -> int:
    limit = sys.get_int_max_str_digits()
    if limit and len(digits.lstrip("-")) > limit:  # int() would refuse it with a message about sys
        raise ValueError(f"a number of {len(digits.lstrip('-')):,} digits; unspin reads at most {limit:,}")
    return int(digits)


def checked_text(text: str, where: str) -> str:
    """`text`, refused when it holds a code point UTF-8 cannot encode (an unpaired surrogate)."""
    at = surrogate_at(text)
    if at is not None:
        raise InputError(_at(where, f"the text contains an unpaired surrogate (character {at})"),
                         "send valid Unicode text")
    return text


def surrogate_at(text: str) -> int | None:
    """Where `text` holds its first unpaired surrogate, or None."""
    found = _SURROGATE.search(text)
    return found.start() if found else None


def checked_id(value: Any, where: str) -> Any:
    """`value`, refused unless every report format can write it back as it came: finite numbers,
    integers Python can print, strings without unpaired surrogates, shallow lists and objects."""
    problem = _id_problem(value)
    if problem:
        raise InputError(_at(where, f'the "id" {problem}'), "give the id as a short string")
    return value


def _id_problem(value: Any) -> str | None:
    stack = [(value, 1)]
    while stack:  # iterative: a deep id must not blow the stack that is checking it
        item, depth = stack.pop()
        if depth > MAX_ID_DEPTH:
            return f"is nested more than {MAX_ID_DEPTH} levels deep"
        if isinstance(item, float) and not math.isfinite(item):
            return "is not a finite number (NaN, Infinity or out of range)"
        if isinstance(item, int) and not isinstance(item, bool) and _too_long(item):
            return "is a number with too many digits to print"
        if isinstance(item, str) and _SURROGATE.search(item):
            return "contains an unpaired surrogate"
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, (list, tuple)):
            stack.extend((part, depth + 1) for part in item)
    return None


def _too_long(number: int) -> bool:
    try:
        str(number)  # refused past sys.get_int_max_str_digits(), by every writer alike
    except ValueError:
        return True
    return False
