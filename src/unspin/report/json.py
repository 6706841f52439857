"""Reports as JSON: one object ("unspin.report/1") or one object per line (JSONL).

`dumps` is the one JSON writer of reports (the CLI, the batch shards and the HTTP API use it): it
always writes valid JSON. Python's json module would write NaN and Infinity, which are not JSON,
and fails on integers longer than `sys.get_int_max_str_digits()`; such values (an id passed by a
library caller, a number in evidence) are written as strings instead: "NaN", "Infinity",
"-Infinity", the integer's digits.
"""

from __future__ import annotations

import json
import math
from typing import Any

from unspin.model import Report

_CHUNK = 10**1000  # decimal digits converted at a time, well under the interpreter's limit


def dumps(data: Any, *, indent: int | None = None) -> str:
    """`data` as valid JSON text (UTF-8 characters kept, compact unless `indent`)."""
    options = {"ensure_ascii": False, "allow_nan": False}
    options.update({"indent": indent} if indent is not None else {"separators": (",", ":")})
    try:
        return json.dumps(data, **options)
    except ValueError:  # a non-finite float or an unprintable integer somewhere: the rare path
        return json.dumps(_writable(data), **options)


def render_json(report: Report) -> str:
    return dumps(report.to_dict(), indent=2) + "\n"


def render_jsonl_line(report: Report) -> str:
    return dumps(report.to_dict()) + "\n"


def _writable(value: Any) -> Any:
    """`value` with every number JSON cannot carry replaced by a string."""
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else "Infinity" if value > 0 else "-Infinity"
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            str(value)
        except ValueError:
            return _digits(value)
        return value
    if isinstance(value, dict):
        return {key: _writable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_writable(item) for item in value]
    return value


def _digits(number: int) -> str:
    """The decimal digits of an integer too long for str(), a chunk of 1,000 digits at a time."""
    sign, number, chunks = "-" if number < 0 else "", abs(number), []
    while number:
        number, chunk = divmod(number, _CHUNK)
        chunks.append(chunk)
    return sign + str(chunks[-1]) + "".join(f"{chunk:01000d}" for chunk in reversed(chunks[:-1]))
