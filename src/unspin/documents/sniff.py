"""Which format a document is in, decided from its bytes first and its name second.

The content decides whenever it can: a PDF named `.txt` is a PDF, a DOCX renamed `.zip` is a
DOCX, and an `.xml` file is read as JATS only if it looks like a JATS article. The name only
settles what the bytes leave open: Markdown against plain text, and sloppy HTML that does not
start with a tag.
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from pathlib import PurePath

from unspin.documents.errors import CorruptDocument, EncryptedDocument, NoTextLayer, UnsupportedFormat
from unspin.text.load import looks_binary, wide_encoding

HEAD = 8192  # bytes looked at for markup sniffing

_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc, and password-protected Office files
_IMAGES = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG", b"GIF87a": "GIF", b"GIF89a": "GIF",
           b"II*\x00": "TIFF", b"MM\x00*": "TIFF"}
_ARCHIVES = {b"\x1f\x8b": "gzip", b"BZh": "bzip2", b"\xfd7zXZ\x00": "xz", b"7z\xbc\xaf\x27\x1c": "7-Zip",
             b"Rar!": "RAR", b"{\\rtf": "RTF"}

# The start of markup after the XML declaration, comments and processing instructions.
_PROLOG = re.compile(r"\A(?:\s+|<\?.*?\?>|<!--.*?-->)*", re.DOTALL)
_DOCTYPE = re.compile(r"<!DOCTYPE\s+([A-Za-z_][\w:.-]*)([^>\[]*)", re.IGNORECASE)
_FIRST_TAG = re.compile(r"<([A-Za-z_][\w:.-]*)")
_JATS_MARKERS = re.compile(
    r"JATS|//NLM//|Journal Archiving|Journal Publishing|Article Authoring|jats\.nlm\.nih\.gov|<front[\s>]"
    r"|<article-meta[\s>]|\bdtd-version=",
)
_HTML_TAGS = frozenset(
    "html head body div p span a h1 h2 h3 h4 h5 h6 section article main header footer nav meta title link "
    "table ul ol li blockquote pre script style img form br hr em strong b i".split()
)
_JATS_WRAPPERS = frozenset({"article", "pmc-articleset", "OAI-PMH", "records"})

# Markdown signals: an ATX heading, a fence, a link, a blockquote, emphasis, a list, a pipe table.
_MD_SIGNALS = (
    re.compile(r"^#{1,6}\s+\S", re.MULTILINE),
    re.compile(r"^(?:```|~~~)", re.MULTILINE),
    re.compile(r"\[[^\]\n]+\]\([^)\s]+\)"),
    re.compile(r"^>\s", re.MULTILINE),
    re.compile(r"(?<![\w*])\*\*[^*\n]+\*\*(?![\w*])|(?<!\w)__[^_\n]+__(?!\w)"),
    re.compile(r"^\s{0,3}(?:[-*+]|\d+\.)\s+\S.*\n\s{0,3}(?:[-*+]|\d+\.)\s+\S", re.MULTILINE),
    re.compile(r"^\|.*\|\s*\n\|?\s*:?-{3,}", re.MULTILINE),
)


def suffix(name: str | None) -> str:
    return PurePath(name).suffix.lower() if name else ""


def head_text(data: bytes, size: int = HEAD) -> str:
    """The first bytes as text, for sniffing only: UTF-16 or UTF-32 by its BOM, else UTF-8 with replacement."""
    head = data[:size]
    encoding = wide_encoding(head)
    if encoding is not None:
        return head.decode(encoding, errors="replace").removeprefix("\ufeff")
    return head.decode("utf-8", errors="replace").removeprefix("\ufeff")


def sniff_format(data: bytes, name: str | None = None) -> str:
    """"text", "markdown", "html", "pdf", "docx" or "jats"; a format unspin cannot read raises.

    Raises `UnsupportedFormat` (generic XML, other archives, legacy .doc), `EncryptedDocument`
    (a password-protected .docx, which is an OLE container), `NoTextLayer` (an image) and
    `CorruptDocument` (a damaged zip).
    """
    label = name or "the input"
    ext = suffix(name)
    if not data.strip() and ext in (".pdf", ".docx"):
        raise CorruptDocument(f"{label} is empty", "check the file was copied completely")
    if _is_pdf(data):
        return "pdf"
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _sniff_zip(data, label, ext)
    if data.startswith(_OLE):
        if ext in (".docx", ".docm", ".xlsx", ".pptx"):
            raise EncryptedDocument(f"{label} is a password-protected Office file",
                                    "save a copy without a password and check that")
        raise UnsupportedFormat(f"{label} is a legacy Office file (.doc, .xls or .ppt)",
                                "save it as .docx and check that")
    for magic, kind in _IMAGES.items():
        if data.startswith(magic):
            raise NoTextLayer(f"{label} is a {kind} image: no text layer; OCR it first",
                              "run OCR (e.g. ocrmypdf or tesseract) and check the text it produces")
    for magic, kind in _ARCHIVES.items():
        if data.startswith(magic):
            raise UnsupportedFormat(f"{label} is a {kind} file", "give .txt, .md, .html, .pdf, .docx or JATS .xml")
    if looks_binary(data) and wide_encoding(data) is None:
        raise UnsupportedFormat(f"{label} looks like a binary file, not a document",
                                "give .txt, .md, .html, .pdf, .docx or JATS .xml")
    return _sniff_text(head_text(data), label, ext)


def _is_pdf(data: bytes) -> bool:
    """A PDF starts with "%PDF-"; readers also accept it later in the first kilobyte (after a mail
    or MacBinary header), so it counts there too, but only in a file that is not UTF-8 text: a
    real PDF carries binary streams or a binary comment, and a note that mentions "%PDF-" is text."""
    at = data.find(b"%PDF-", 0, 1024)
    if at <= 0:
        return at == 0
    try:
        codecs.getincrementaldecoder("utf-8")().decode(data[:65536], final=False)
    except UnicodeDecodeError:
        return True
    return False


def _sniff_zip(data: bytes, label: str, ext: str) -> str:
    try:
        names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
    except Exception:  # BadZipFile, NotImplementedError ("zip file version 9.5"), struct errors ...
        if ext == ".docx":
            return "docx"  # let the DOCX reader say what is wrong with it
        raise CorruptDocument(f"{label} is a damaged zip archive", "check the file was copied completely") from None
    if "word/document.xml" in names or ("[Content_Types].xml" in names and any(n.startswith("word/") for n in names)):
        return "docx"
    if "content.xml" in names and "mimetype" in names:
        raise UnsupportedFormat(f"{label} is an OpenDocument file", "save it as .docx and check that")
    raise UnsupportedFormat(f"{label} is a zip archive, not a DOCX document", "unzip it and check the documents inside")


def _sniff_text(head: str, label: str, ext: str) -> str:
    body = head[_PROLOG.match(head).end():]
    markup = body.lstrip().startswith("<")
    if markup:
        doctype = _DOCTYPE.match(body)
        tag = _FIRST_TAG.search(body[doctype.end():] if doctype else body)
        root = (doctype.group(1) if doctype else tag.group(1) if tag else "").split(":")[-1]
        if root.lower() == "html" or (tag and tag.group(1).split(":")[-1].lower() == "html"):
            return "html"
        if root in _JATS_WRAPPERS and _JATS_MARKERS.search(head):
            return "jats"
        if ext in (".md", ".markdown"):
            return "markdown"  # a README that opens with an HTML comment or a centred <div>
        if root.lower() in _HTML_TAGS and not head.lstrip().startswith("<?xml"):
            return "html"
        if head.lstrip().startswith("<?xml") or doctype or ext == ".xml":
            what = f"<{root}>" if root else "unknown"
            raise UnsupportedFormat(f"{label} is XML ({what} document), not JATS",
                                    "unspin reads JATS XML articles (PubMed Central and most publishers)")
        if ext in (".html", ".htm", ".xhtml"):
            return "html"
    if ext in (".html", ".htm", ".xhtml") and _FIRST_TAG.search(head):
        return "html"
    if ext in (".md", ".markdown", ".mdown", ".mkd"):
        return "markdown"
    signals = sum(1 for pattern in _MD_SIGNALS if pattern.search(head))
    return "markdown" if signals >= 2 else "text"
