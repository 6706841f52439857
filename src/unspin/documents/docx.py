"""DOCX: the body of a Word document, paragraph by paragraph, after a zip-bomb check.

python-docx opens the package (content types, relationships, styles); we walk the body XML
ourselves, because python-docx's `Paragraph.text` drops equations (OMML), content controls and
field results, and its `iter_inner_content` skips content controls. Order is the body's: paragraphs
and tables as they come, content controls (`w:sdt`) opened. Sections are the headings (a "Heading
N" or "Title" style, or an outline level). Excluded: equations (`m:oMath`), tables of numbers,
paragraphs styled Quote / Intense Quote (quotations), code styles and monospace runs (code),
Bibliography-styled paragraphs and everything under a "References" heading (references), and
Author / Affiliation styles (authors). Tables of contents are dropped. Headers, footers, footnotes,
comments and text boxes are not read.

Before python-docx sees the bytes, the archive is checked: at most `MAX_MEMBERS` entries, at most
`MAX_UNCOMPRESSED` bytes unpacked in all, and no member over 1 MiB that unpacks to more than
`MAX_RATIO` times its packed size (real documents stay near 10×; zip bombs reach 1000×). Python's
zipfile never unpacks past the size an entry declares, so the declared sizes bound the work.
"""

from __future__ import annotations

import io
import logging
import re
import zipfile

from unspin.documents.builder import Builder, is_numeric_table
from unspin.documents.errors import CorruptDocument, EncryptedDocument, UnsafeDocument, UnsupportedFormat
from unspin.documents.model import ExtractedDocument

log = logging.getLogger(__name__)

MAX_MEMBERS = 10_000
MAX_UNCOMPRESSED = 256 * 2**20
MAX_RATIO = 100
_RATIO_FLOOR = 2**20  # small members may compress very well (a run of spaces); only big ones count

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_M = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_MONOSPACE = frozenset({"courier", "courier new", "consolas", "menlo", "monaco", "lucida console",
                        "source code pro", "dejavu sans mono", "liberation mono", "fira code", "fira mono"})
_HEADING_STYLE = re.compile(r"^heading\s*(\d)$")
# "<!ENTITY" as UTF-8 and as UTF-16 (which an XML part may be in): only a DTD declares one.
_ENTITY_MARKS = tuple("<!ENTITY".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))


def w(tag: str) -> str:
    return f"{{{_W}}}{tag}"


def m(tag: str) -> str:
    return f"{{{_M}}}{tag}"


def check_archive(data: bytes, label: str) -> None:
    """Refuse a zip bomb or a damaged archive before anything is unpacked."""
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise EncryptedDocument(f"{label} is a password-protected (or legacy) Word file",
                                "save a copy as .docx without a password and check that")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except Exception:  # BadZipFile, NotImplementedError ("zip file version 9.5"), struct errors ...
        raise CorruptDocument(f"{label} is a damaged or truncated DOCX (not a readable zip archive)",
                              "check the file was copied completely, or re-save it from Word") from None
    if len(members) > MAX_MEMBERS:
        raise UnsafeDocument(f"{label} holds {len(members)} files (limit {MAX_MEMBERS}); refusing a possible zip bomb",
                             "a Word document has a few dozen; re-save it from Word")
    total = sum(member.file_size for member in members)
    if total > MAX_UNCOMPRESSED:
        raise UnsafeDocument(
            f"{label} would unpack to {total / 2**20:,.0f} MiB (limit {MAX_UNCOMPRESSED // 2**20} MiB); "
            "refusing a possible zip bomb", "remove large embedded files and re-save it")
    for member in members:
        if member.file_size > _RATIO_FLOOR and member.file_size > MAX_RATIO * max(member.compress_size, 1):
            ratio = member.file_size / max(member.compress_size, 1)
            raise UnsafeDocument(f"{label}: {member.filename} unpacks {ratio:,.0f}× (limit {MAX_RATIO}×); "
                                 "refusing a possible zip bomb", "re-save the document from Word")
    if not any(member.filename == "word/document.xml" for member in members) and not any(
            member.filename == "[Content_Types].xml" for member in members):
        raise UnsupportedFormat(f"{label} is a zip archive, not a DOCX document", "give a Word .docx file")
    _refuse_entities(archive, members, label)


def _refuse_entities(archive: zipfile.ZipFile, members: list[zipfile.ZipInfo], label: str) -> None:
    """Refuse a package whose XML declares entities, as JATS is refused (exit 6). Word never writes
    a DTD; a part that declares one is crafted, and python-docx, which resolves no entity, would
    silently drop the rest of the paragraph at the first reference to an external one."""
    for member in members:
        if member.is_dir() or not member.filename.lower().endswith((".xml", ".rels")) and not _looks_xml(archive, member):
            continue
        try:
            data = archive.read(member)
        except Exception:  # bad CRC, zlib error: the reader would fail the same way
            raise CorruptDocument(f"{label}: {member.filename} cannot be unpacked",
                                  "check the file was copied completely, or re-save it from Word") from None
        if any(mark in data for mark in _ENTITY_MARKS):
            raise UnsafeDocument(f"{label}: {member.filename} declares an XML entity, which Word never writes "
                                 "and unspin never resolves", "re-save the document from Word")


def _looks_xml(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    """A part under another name that python-docx may still parse as XML (by its content type)."""
    try:
        with archive.open(member) as handle:
            head = handle.read(64)
    except Exception:
        return False  # unreadable: python-docx fails on it by itself if it matters
    return head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").startswith(b"<")


def extract_docx(data: bytes, label: str = "the input") -> ExtractedDocument:
    check_archive(data, label)
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except PackageNotFoundError:
        raise CorruptDocument(f"{label} is not a readable DOCX package", "re-save it from Word") from None
    except ValueError as err:  # python-docx: "file ... is not a Word file, content type is ..."
        raise UnsupportedFormat(f"{label} is not a Word document ({err})", "give a .docx file") from None
    except Exception as err:  # zlib, lxml, KeyError for a missing part: whatever a broken package raises
        log.debug("python-docx failed on %s", label, exc_info=True)
        raise CorruptDocument(f"{label} is a damaged DOCX ({type(err).__name__}: {err})",
                              "re-save it from Word") from None
    walker = _Walker(document)
    try:
        walker.body(document.element.body)
    except Exception as err:  # a damaged part read lazily (styles), found only now
        log.debug("reading the body of %s failed", label, exc_info=True)
        raise CorruptDocument(f"{label} is a damaged DOCX ({type(err).__name__}: {err})",
                              "re-save it from Word") from None
    props = document.core_properties
    metadata = {"title": props.title, "author": props.author, "language": props.language}
    return walker.builder.build(metadata)


class _Walker:
    def __init__(self, document) -> None:
        self.document = document
        self.builder = Builder("docx")
        self._styles: dict[str | None, tuple[str, int | None]] = {}

    def body(self, element) -> None:
        for child in element:
            tag = child.tag
            if tag == w("p"):
                self.paragraph(child)
            elif tag == w("tbl"):
                self.table(child)
            elif tag in (w("sdt"), w("customXml")):
                content = child.find(w("sdtContent")) if tag == w("sdt") else child
                if content is not None:
                    self.body(content)

    # -- paragraphs ---------------------------------------------------------------------------
    def style(self, p) -> tuple[str, int | None]:
        """(lower-case style name, heading level or None) of a paragraph; 0 is the title."""
        style_id = p.find(f"{w('pPr')}/{w('pStyle')}")
        style_id = style_id.get(w("val")) if style_id is not None else None
        if style_id not in self._styles:
            from docx.enum.style import WD_STYLE_TYPE

            name, level = "normal", None
            style = self.document.part.get_style(style_id, WD_STYLE_TYPE.PARAGRAPH)
            chain = style
            for _ in range(6):  # a custom style based on "Heading 2" is a heading too
                if chain is None:
                    break
                chain_name = (chain.name or "").lower()
                if chain_name == "title":
                    level = 0
                elif (match := _HEADING_STYLE.match(chain_name)) is not None:
                    level = int(match.group(1))
                if level is not None:
                    break
                chain = chain.base_style
            name = (style.name or "normal").lower() if style is not None else "normal"
            self._styles[style_id] = (name, level)
        name, level = self._styles[style_id]
        outline = p.find(f"{w('pPr')}/{w('outlineLvl')}")
        if level is None and outline is not None and (outline.get(w("val")) or "").isdigit():
            value = int(outline.get(w("val")))
            level = value + 1 if value < 9 else None
        return name, level

    def paragraph(self, p) -> None:
        name, level = self.style(p)
        if name.startswith("toc") or name == "table of figures":
            return  # a table of contents is navigation
        text, inline = paragraph_text(p)
        if not text.strip():
            return
        if level is not None:
            self.builder.heading(text, level, _style_kind(name))
        else:
            self.builder.add(text, _style_kind(name), inline)

    # -- tables -------------------------------------------------------------------------------
    def table(self, tbl) -> None:
        rows = []
        for tr in tbl.iter(w("tr")):
            cells = []
            for tc in tr.findall(w("tc")):
                parts = [paragraph_text(p)[0].strip() for p in tc.iter(w("p"))]
                cells.append(" ".join(part for part in parts if part))
            if any(cells):
                rows.append(cells)
        if any(len(cell) > 300 for row in rows for cell in row):
            # a layout table (a whole page in a grid): read the cells as ordinary paragraphs
            for tc in tbl.iter(w("tc")):
                for p in tc.findall(w("p")):
                    self.paragraph(p)
            return
        kind = "table" if is_numeric_table(rows) else None
        for cells in rows:
            self.builder.add("\t".join(cells), kind)


def _style_kind(name: str) -> str | None:
    if name in ("quote", "intense quote", "block text"):
        return "quotation"
    if name == "bibliography":
        return "references"
    if "code" in name or name in ("html preformatted", "plain text", "macro text", "source code"):
        return "code"
    if name in ("author", "authors", "affiliation", "affiliations", "address"):
        return "authors"
    return None


def paragraph_text(p) -> tuple[str, list[tuple[int, int, str]]]:
    """A paragraph's text as Word shows it (tracked deletions and field codes left out), and its
    equations and monospace runs as (start, end, kind), relative to the stripped text."""
    pieces: list[str] = []
    regions: list[tuple[int, int, str]] = []
    length = 0

    def emit(text: str, kind: str | None = None) -> None:
        nonlocal length
        if not text:
            return
        if kind is not None:
            regions.append((length, length + len(text), kind))
        pieces.append(text)
        length += len(text)

    def run(r) -> None:
        monospace = _is_monospace(r)
        for child in r:
            tag = child.tag
            if tag == w("t"):
                emit(child.text or "", "code" if monospace else None)
            elif tag == w("tab"):
                emit("\t")
            elif tag == w("br"):
                emit("\n" if child.get(w("type")) in (None, "textWrapping") else " ")
            elif tag == w("cr"):
                emit("\n")
            elif tag == w("noBreakHyphen"):
                emit("-")

    def walk(element) -> None:
        for child in element:
            tag = child.tag
            if tag == w("r"):
                run(child)
            elif tag in (m("oMath"), m("oMathPara")):
                emit("".join(t.text or "" for t in child.iter(m("t"))), "equation")
            elif tag in (w("hyperlink"), w("ins"), w("smartTag"), w("customXml"), w("fldSimple"), w("sdt"),
                         w("sdtContent"), w("bdo"), w("dir"), w("moveTo")):
                walk(child)

    walk(p)
    text = "".join(pieces)
    lead = len(text) - len(text.lstrip())
    stripped = text.strip()
    shifted = [(max(s - lead, 0), min(e - lead, len(stripped)), k) for s, e, k in regions]
    return stripped, [(s, e, k) for s, e, k in shifted if e > s]


def _is_monospace(r) -> bool:
    fonts = r.find(f"{w('rPr')}/{w('rFonts')}")
    if fonts is not None:
        for attribute in ("ascii", "hAnsi"):
            if (fonts.get(w(attribute)) or "").lower() in _MONOSPACE:
                return True
    style = r.find(f"{w('rPr')}/{w('rStyle')}")
    return style is not None and "code" in (style.get(w("val")) or "").lower()
