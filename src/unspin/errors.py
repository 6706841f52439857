"""The errors a user can meet, each with a stable reference, a message and a hint.

The CLI maps them to exit codes in one place (`unspin.cli.main`); library callers catch
`UnspinError` or the built-in base class each one also derives from.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # findings at or over --fail-on
    USAGE = 2
    UNREADABLE_INPUT = 3
    INTERNAL = 4
    MISSING_RESOURCE = 5
    UNSUPPORTED_DOCUMENT = 6  # read, but its content cannot be checked: a scan, a password, damage
    INTERRUPTED = 130


class UnspinError(Exception):
    """Base of every error unspin raises on purpose."""

    reference = "unspin-error"
    exit_code = ExitCode.INTERNAL

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        hint = f" (hint: {self.hint})" if self.hint else ""
        return single_line(f"unspin: error [{self.reference}]: {self.message}{hint}")


def single_line(text: str) -> str:
    """`text` on one line: messages quote libraries' errors (lxml's hold a line break and the text
    around the fault), and the contract is one line on stderr."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


class UsageError(UnspinError, ValueError):
    reference = "usage"
    exit_code = ExitCode.USAGE


class InputError(UnspinError, ValueError):
    """Input that cannot be read as text: missing, a folder, binary, bad UTF-8, bad JSONL."""

    reference = "unreadable-input"
    exit_code = ExitCode.UNREADABLE_INPUT


class ResourceMissing(UnspinError, LookupError):
    """A thesaurus, model or corpus that is not installed."""

    reference = "missing-resource"
    exit_code = ExitCode.MISSING_RESOURCE
