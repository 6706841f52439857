"""PDF: the text layer, in reading order, page by page, with line-end hyphenation undone.

pdfminer.six rather than pypdf: pypdf hands back each page's text in content-stream order, which
for a two-column paper interleaves or jumbles the columns, while pdfminer's layout analysis groups
characters into lines and lines into text boxes and orders the boxes (`boxes_flow`), which keeps a
column whole before the next. It is pure Python (MIT), slower than a C library — 0.01 to 0.05 s
a page here — and its order is a heuristic: it is right for ordinary one- and two-column pages, and
can go wrong for boxes that straddle columns, sidebars and complex tables.

Each pdfminer text box is a block (a paragraph, more or less); a box that ends mid-sentence and is
continued by one starting in lower case on the same page (the next column) is joined to it. Lines
are joined with a space, or with nothing where a line-end hyphen was a break (`hyphenation.py`;
each such repair is recorded). Running heads and page numbers in the top and bottom margins are
dropped. Headings are told by font size (at least 15 % above the body text, at most two lines) or
by a bold face on a short line of its own, which gives sections and lets "References" open a
reference list. A damaged page fails the whole document (CorruptDocument) rather than leaving a
silent hole in what is checked. Limits: paragraphs set without space between them (indent only)
come out as one block; a word hyphenated across a page break is not rejoined; text in figures is
read only when a page has no other text (pages drawn as one form XObject).
"""

from __future__ import annotations

import io
import logging
import re
import statistics
from dataclasses import dataclass

from unspin.documents.builder import Builder, collapse, is_references_heading
from unspin.documents.errors import CorruptDocument, DocumentError, EncryptedDocument, NoTextLayer
from unspin.documents.hyphenation import join_lines
from unspin.documents.model import ExtractedDocument

log = logging.getLogger(__name__)

MAX_PAGES = 2000
_MARGIN = 0.08  # top and bottom share of the page where running heads and folios live
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s*)?(?:\d+|(?=[ivxlc])c{0,3}(?:xc|xl|l?x{0,3})(?:ix|iv|v?i{0,3}))"
                          r"(?:\s*(?:of|/)\s*\d+)?\s*$", re.IGNORECASE)
_BOLD = re.compile(r"bold|black|heavy|semibold|demi", re.IGNORECASE)
_CID = re.compile(r"\(cid:\d+\)")
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_PLACEHOLDERS = frozenset({"untitled", "anonymous", "unknown", "title", "author"})  # what generators fill in
_ENDS_SENTENCE = re.compile(r"[.!?:;)\]\"'”’]\s*$")


@dataclass
class _Box:
    page: int
    lines: list[str]
    size: float  # mean font size of its characters
    chars: int
    bold: bool  # every letter in a bold face
    top: float  # distance from the top of the page, as a share of its height
    bottom: float
    in_margin: bool

    @property
    def text(self) -> str:
        return " ".join(line.strip() for line in self.lines)


def extract_pdf(data: bytes, label: str = "the input", max_pages: int = MAX_PAGES) -> ExtractedDocument:
    if b"%%EOF" not in data[-1024:]:
        raise CorruptDocument(f"{label} is a truncated PDF (no end-of-file marker)",
                              "check the file was downloaded or copied completely")
    try:
        pages, info, images = _read(data, label, max_pages)
    except DocumentError:
        raise
    except (MemoryError, RecursionError):
        raise CorruptDocument(f"{label}: this PDF is too complex to read", "") from None
    except Exception as err:  # pdfminer raises its own and built-in errors alike on damaged files
        log.debug("pdfminer failed on %s", label, exc_info=True)
        raise CorruptDocument(f"{label} is a damaged PDF ({type(err).__name__}: {err})",
                              "re-save or repair it (e.g. qpdf in.pdf out.pdf) and try again") from None
    boxes = [box for page in pages for box in page]
    text = " ".join(box.text for box in boxes)
    unmapped = text.count("\ufffd")
    if not any(ch.isalnum() for ch in text):
        raise NoTextLayer(f"{label}: no text layer; OCR it first",
                          "the pages are images: run OCR (e.g. ocrmypdf in.pdf out.pdf) and check the result")
    if unmapped * 2 > len(text.replace(" ", "")):
        raise NoTextLayer(f"{label}: the text layer has no Unicode mapping; OCR it first",
                          "its fonts cannot be read as text: run OCR (e.g. ocrmypdf --force-ocr in.pdf out.pdf)")
    notes = [f"{images} image(s) not read"] if images else []
    if unmapped:
        notes.append(f"{unmapped} glyph(s) without a Unicode mapping, shown as U+FFFD")
    document = _assemble(pages, _drop_running_heads(pages))
    metadata = dict(info, pages=len(pages))
    if "title" not in metadata:
        first = next((b for b in document.blocks if b.heading and b.page == 1), None)
        if first is not None:
            metadata["title"] = document.text[first.start:first.end]
    return ExtractedDocument(document.text, "pdf", document.excluded, document.blocks, document.repairs,
                             {k: v for k, v in metadata.items() if v not in (None, "")}, tuple(notes))


class _Demoted(logging.Handler):
    """pdfminer's warnings, re-logged at debug level under this module: a damaged PDF either
    reads or fails with unspin's one-line error, never with pdfminer's lines before it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            log.debug("pdfminer: %s", record.getMessage())
        except Exception:  # a malformed message must not become a traceback on stderr
            pass


def _quiet_pdfminer() -> None:
    logger = logging.getLogger("pdfminer")
    if not any(isinstance(handler, _Demoted) for handler in logger.handlers):
        logger.addHandler(_Demoted())
        logger.propagate = False


def _read(data: bytes, label: str, max_pages: int) -> tuple[list[list[_Box]], dict, int]:
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTChar, LTFigure, LTImage, LTTextBox, LTTextLine
    from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    _quiet_pdfminer()
    try:
        document = PDFDocument(PDFParser(io.BytesIO(data)), password="")
    except PDFPasswordIncorrect:
        raise EncryptedDocument(f"{label} is an encrypted PDF that needs a password",
                                "decrypt it first (e.g. qpdf --decrypt --password=PASSWORD in.pdf out.pdf)") from None
    except PDFEncryptionError as err:
        raise EncryptedDocument(f"{label} is encrypted in a way unspin cannot open ({err})",
                                "decrypt it first (e.g. qpdf --decrypt in.pdf out.pdf)") from None
    info = _info(document)
    manager = PDFResourceManager(caching=True)
    device = PDFPageAggregator(manager, laparams=LAParams(all_texts=True))
    interpreter = PDFPageInterpreter(manager, device)
    pages: list[list[_Box]] = []
    images = 0

    def boxes_in(container, height: float, page_number: int, into: list[_Box]) -> None:
        for element in container:
            if isinstance(element, LTTextBox):
                lines = [line for line in element if isinstance(line, LTTextLine)]
                chars = [ch for line in lines for ch in line if isinstance(ch, LTChar)]
                size = statistics.fmean(ch.size for ch in chars) if chars else 0.0
                letters = [ch for ch in chars if ch.get_text().isalpha()]
                bold = bool(letters) and all(_BOLD.search(ch.fontname or "") for ch in letters)
                top = 1 - element.y1 / height if height else 0.0
                bottom = 1 - element.y0 / height if height else 1.0
                into.append(_Box(page_number, [_clean_line(line.get_text()) for line in lines], size,
                                 len(chars), bold, top, bottom, top > 1 - _MARGIN or bottom < _MARGIN))

    def count_images(container) -> int:
        return sum(1 if isinstance(e, LTImage) else count_images(e) if isinstance(e, LTFigure) else 0
                   for e in container)

    for number, page in enumerate(PDFPage.create_pages(document), start=1):
        if number > max_pages:
            log.warning("%s: only the first %d pages are read", label, max_pages)
            break
        interpreter.process_page(page)
        layout = device.get_result()
        height = layout.height
        page_boxes: list[_Box] = []
        boxes_in(layout, height, number, page_boxes)
        figures = [element for element in layout if isinstance(element, LTFigure)]
        images += count_images(layout)
        if not page_boxes:  # the whole page drawn as one form XObject: its text sits in a figure
            for figure in figures:
                if isinstance(figure, LTFigure):
                    boxes_in(figure, height, number, page_boxes)
        pages.append(page_boxes)
    if not pages:
        raise CorruptDocument(f"{label} is a PDF with no pages", "check the file")
    return pages, info, images


def _clean_line(line: str) -> str:
    """Ligatures spelt out ("ﬁ" -> "fi"); a glyph without a Unicode mapping ("(cid:13)") becomes U+FFFD."""
    return _CID.sub("\ufffd", line.translate(_LIGATURES))


def _info(document) -> dict[str, str]:
    from pdfminer.utils import decode_text

    found: dict[str, str] = {}
    for entry in document.info or []:
        for key, name in (("Title", "title"), ("Author", "author")):
            value = entry.get(key)
            if hasattr(value, "resolve"):
                value = value.resolve()
            if isinstance(value, bytes):
                value = decode_text(value)
            if isinstance(value, str) and value.strip() and value.strip().lower() not in _PLACEHOLDERS:
                found[name] = value.strip()
    return found


def _drop_running_heads(pages: list[list[_Box]]) -> set[int]:
    """ids of the margin boxes that are page numbers, or that repeat (digits aside) on many pages."""
    drop: set[int] = set()
    seen: dict[str, list[_Box]] = {}
    for page in pages:
        for box in page:
            if not box.in_margin:
                continue
            if _PAGE_NUMBER.match(box.text):
                drop.add(id(box))
            else:
                seen.setdefault(re.sub(r"\d+", "#", collapse(box.text)).lower(), []).append(box)
    if len(pages) >= 3:
        for same in seen.values():
            if len({box.page for box in same}) * 2 >= len(pages):
                drop.update(id(box) for box in same)
    return drop


def _assemble(pages: list[list[_Box]], dropped: set[int]) -> ExtractedDocument:
    kept = [box for page in pages for box in page if id(box) not in dropped]
    sizes = [box.size for box in kept for _ in range(box.chars)]
    body = statistics.median(sizes) if sizes else 0.0

    def is_heading(box: _Box) -> bool:
        text = box.text
        if len(box.lines) > 2 or len(text) > 150 or not any(ch.isalpha() for ch in text):
            return False
        if body > 0 and box.size >= body * 1.15:
            return True
        # same size as the text but bold, on a line of its own, not a sentence: "2.1 Participants"
        one_line = len(box.lines) == 1
        return one_line and (is_references_heading(text) or (box.bold and len(text) <= 80 and not text.endswith(".")))

    heading_sizes = sorted({round(box.size) for box in kept if is_heading(box) and box.size >= body * 1.15},
                           reverse=True)

    def level(box: _Box) -> int:
        rounded = round(box.size)
        return heading_sizes.index(rounded) + 1 if rounded in heading_sizes else len(heading_sizes) + 1

    builder = Builder("pdf")
    paragraph: list[str] = []
    paragraph_page = 0

    def flush() -> None:
        if paragraph:
            builder.page = paragraph_page
            text, repairs = join_lines(paragraph)
            builder.add(text, repairs=repairs)
            paragraph.clear()

    for box in kept:
        if is_heading(box):
            flush()
            builder.page = box.page
            builder.heading(box.text, level(box))
            continue
        lines = [line for line in box.lines if line.strip()]
        if not lines:
            continue
        continues = (paragraph and box.page == paragraph_page and lines[0].lstrip()[:1].islower()
                     and not _ENDS_SENTENCE.search(paragraph[-1]))
        if not continues:
            flush()
            paragraph_page = box.page
        paragraph.extend(lines)
    flush()
    return builder.build()
