"""Documents in: the text of a .txt, .md, .html, .pdf, .docx or JATS .xml file, and where each part is.

    >>> from unspin.documents import extract
    >>> document = extract(b"# Methods\\n\\nWe used profound learning.\\n", name="paper.md")
    >>> document.format, document.text[11:36]
    ('markdown', 'We used profound learning')
    >>> document.location(20)
    {'paragraph': 2, 'section': 'Methods'}

`extract` reads a file (a `str` or `Path` is a path) or bytes, decides the format from the content
(the name only breaks ties: Markdown against plain text), and hands back an `ExtractedDocument`:
the text unspin checks, the regions it must not judge (kept in the text, listed in `excluded`),
blocks with page / paragraph / section for `location()`, and the repairs extraction made. Every
refusal is a `DocumentError` (an `InputError`) with a one-line message and a hint.

Each format is imported only when a document of that format comes (pdfminer, python-docx and lxml
are not loaded to read a text file).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from unspin.documents.errors import (
    CorruptDocument,
    DocumentError,
    EncryptedDocument,
    NoTextLayer,
    UnsafeDocument,
    UnsupportedFormat,
)
from unspin.documents.model import EXCLUDED_KINDS, FORMATS, Block, ExtractedDocument, Region, Repair
from unspin.documents.sniff import sniff_format
from unspin.errors import InputError

__all__ = [
    "EXCLUDED_KINDS",
    "FORMATS",
    "MAX_BYTES",
    "Block",
    "CorruptDocument",
    "DocumentError",
    "EncryptedDocument",
    "ExtractedDocument",
    "NoTextLayer",
    "Region",
    "Repair",
    "UnsafeDocument",
    "UnsupportedFormat",
    "extract",
    "read_document",
    "sniff_format",
]

MAX_BYTES = 64 * 2**20  # a 64 MiB document is far past any paper; larger is refused before reading


def extract(source: str | os.PathLike[str] | bytes, *, name: str | None = None, max_bytes: int = MAX_BYTES,
            format: str | None = None) -> ExtractedDocument:
    """The text of a document and the map back into it.

    `source` is a path (str or Path) or the document's bytes; `name` labels bytes in messages and
    lends its extension to the sniffing. `format` skips sniffing ("pdf", "html", ...).
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        label = name or "the input"
        if len(data) > max_bytes:
            raise _too_large(label, len(data), max_bytes)
    else:
        path = Path(source)
        label = name or str(source)
        name = name or path.name
        data = _read(path, label, max_bytes)
    kind = format or sniff_format(data, label)  # the label is the path (or name): same extension, full name
    if kind not in FORMATS:
        raise ValueError(f"unknown format {kind!r}; one of {', '.join(FORMATS)}")
    return _EXTRACTORS[kind](data, label)


def read_document(path: str, stdin: BinaryIO | None = None) -> ExtractedDocument:
    """The extracted document at `path` (or stdin for '-'), for the commands that read one file.

    It lives here, above `unspin.text.load`, because it needs `extract`: the text layer decodes
    and this package builds on it, never the reverse."""
    if path == "-":
        if stdin is None:
            raise InputError("no standard input to read", "pipe text in or give a file")
        return extract(stdin.read(), name="standard input")
    if Path(path).is_dir():
        raise InputError(f"{path} is a directory", "give a document file (batch screening is `unspin screen`)")
    return extract(path)


def _read(path: Path, label: str, max_bytes: int) -> bytes:
    if path.is_dir():
        raise InputError(f"{label} is a directory", "give a document file")
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError(f"{label} does not exist", "check the path") from None
    except OSError as err:
        raise InputError(f"cannot read {label}: {err.strerror}", "check its permissions") from None
    if size > max_bytes:
        raise _too_large(label, size, max_bytes)
    try:
        with open(path, "rb") as handle:
            data = handle.read(max_bytes + 1)  # a file that grew since stat is still capped
    except OSError as err:
        raise InputError(f"cannot read {label}: {err.strerror}", "check its permissions") from None
    if len(data) > max_bytes:
        raise _too_large(label, len(data), max_bytes)
    return data


def _too_large(label: str, size: int, limit: int) -> UnsafeDocument:
    return UnsafeDocument(f"{label} is {size / 2**20:,.1f} MiB, over the {limit / 2**20:,.0f} MiB limit",
                          "split it, or raise the limit (max_bytes)")


def _text(data: bytes, label: str) -> ExtractedDocument:
    from unspin.documents.plain import decode_text, extract_text

    return extract_text(decode_text(data, label))


def _markdown(data: bytes, label: str) -> ExtractedDocument:
    from unspin.documents.plain import decode_text, extract_markdown

    return extract_markdown(decode_text(data, label))


def _html(data: bytes, label: str) -> ExtractedDocument:
    from unspin.documents.html import extract_html

    return extract_html(data, label)


def _pdf(data: bytes, label: str) -> ExtractedDocument:
    from unspin.documents.pdf import extract_pdf

    return extract_pdf(data, label)


def _docx(data: bytes, label: str) -> ExtractedDocument:
    from unspin.documents.docx import extract_docx

    return extract_docx(data, label)


def _jats(data: bytes, label: str) -> ExtractedDocument:
    from unspin.documents.jats import extract_jats

    return extract_jats(data, label)


_EXTRACTORS = {"text": _text, "markdown": _markdown, "html": _html, "pdf": _pdf, "docx": _docx, "jats": _jats}
