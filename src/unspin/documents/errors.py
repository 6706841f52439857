"""Why a document could not be read, one class per cause, each with a message and a hint.

All are `InputError`s (so `except InputError` still catches them) with their own exit code, 6:
the file itself was found and read, but its content cannot be checked as it is (a scan without a
text layer, a password, damage, a zip bomb). Exit 3 stays "give me a readable file" — a wrong
path, a folder, bad UTF-8 — so a batch run can tell "fix the path" from "fix the document".
"""

from __future__ import annotations

from unspin.errors import ExitCode, InputError

# ExitCode.UNSUPPORTED_DOCUMENT once errors.py defines it; the number is the contract either way.
UNSUPPORTED_DOCUMENT = int(getattr(ExitCode, "UNSUPPORTED_DOCUMENT", 6))


class DocumentError(InputError):
    """A document whose bytes were read but whose text cannot be extracted."""

    reference = "unreadable-document"
    exit_code = UNSUPPORTED_DOCUMENT


class UnsupportedFormat(DocumentError):
    """Not one of the formats unspin reads (generic XML, an archive, an image, a legacy .doc)."""

    reference = "unsupported-format"


class NoTextLayer(DocumentError):
    """A PDF (or an image) with no text to extract: a scan."""

    reference = "no-text-layer"


class EncryptedDocument(DocumentError):
    """A PDF or Office file that needs a password."""

    reference = "encrypted-document"


class CorruptDocument(DocumentError):
    """Truncated or damaged: the format is known but the file does not parse."""

    reference = "corrupt-document"


class UnsafeDocument(DocumentError):
    """Refused before parsing: a zip bomb, an XML external entity, a file over the size limit."""

    reference = "unsafe-document"
