"""Plain text and Markdown: the text is the file itself, so offsets are offsets into the file.

Nothing is rewritten (not even Markdown syntax): a user can find offset N in their editor. Blocks
are runs of non-blank lines. Markdown adds sections (ATX and setext headings) and marks fenced
code, `$$` display maths, `>` quotations, inline `code` and `$maths$`, and pipe tables of
numbers. In both, a "References" heading line opens a reference list that runs to the next heading
of its level or above (for plain text, where there are no levels, to the end).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from unspin.documents.builder import is_numeric_table, is_references_heading
from unspin.documents.errors import UnsupportedFormat
from unspin.documents.model import Block, ExtractedDocument, normalise_regions

_LINE = re.compile(r"[^\n]*(?:\n|$)")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_MATH_FENCE = re.compile(r"^ {0,3}\$\$")
_QUOTE = re.compile(r"^ {0,3}>")
_TABLE_ROW = re.compile(r"^ {0,3}\|.*\|[ \t]*$")
_TABLE_RULE = re.compile(r"^ {0,3}\|?[ \t]*:?-{2,}")
_INLINE_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
# Pandoc's rule for inline TeX: no space inside either dollar, no digit right after the closing
# one, so "$5 and $10" is money and "$x^2$" is maths.
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?=\S)(?:[^$\n\\]|\\.)+?(?<=\S)\$(?![\d$])")


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 (or UTF-16 or UTF-32 with a BOM), the BOM dropped; anything else is refused with a hint."""
    from unspin.text.load import decode, looks_binary, wide_encoding

    encoding = wide_encoding(data)
    if encoding is not None:
        try:
            return data.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    if looks_binary(data):  # refused as a format, as the other document readers refuse theirs
        raise UnsupportedFormat(f"{label} looks like a binary file, not text", "give a UTF-8 text file")
    return decode(data, label)


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, line) for each line; `end` excludes the line break."""
    for match in _LINE.finditer(text):
        if match.start() == len(text) and match.start() > 0:
            break
        line = match.group().rstrip("\n").rstrip("\r")
        yield match.start(), match.start() + len(line), line


def extract_text(text: str) -> ExtractedDocument:
    blocks: list[Block] = []
    regions: list[tuple[int, int, str]] = []
    references_from: int | None = None
    start = end = None
    for line_start, line_end, line in [*_lines(text), (len(text), len(text), "")]:
        if line.strip():
            start = line_start if start is None else start
            end = line_end
            continue
        if start is not None:
            blocks.append(Block(start, end, len(blocks) + 1))
            if references_from is None and is_references_heading(text[start:end]):
                references_from = start
            start = None
    if references_from is not None:
        regions.append((references_from, len(text), "references"))
    return ExtractedDocument(text, "text", normalise_regions(regions, text), tuple(blocks))


def extract_markdown(text: str) -> ExtractedDocument:
    blocks: list[Block] = []
    regions: list[tuple[int, int, str]] = []
    section: str | None = None
    references_level: int | None = None
    references_start = 0

    def close_references(at: int) -> None:
        nonlocal references_level
        if references_level is not None:
            regions.append((references_start, at, "references"))
            references_level = None

    def add(start: int, end: int, kind: str | None = None, heading: bool = False) -> None:
        blocks.append(Block(start, end, len(blocks) + 1, None, section, heading))
        if kind is not None:
            regions.append((start, end, kind))
        elif kind is None and not heading:
            for pattern, inline_kind in ((_INLINE_CODE, "code"), (_INLINE_MATH, "equation")):
                for match in pattern.finditer(text, start, end):
                    regions.append((match.start(), match.end(), inline_kind))

    def heading(start: int, end: int, title: str, level: int) -> None:
        nonlocal section, references_level, references_start
        if references_level is not None and level <= references_level:
            close_references(start)
        section = title.strip() or section
        if references_level is None and is_references_heading(title):
            references_level, references_start = level, start
        add(start, end, heading=True)

    lines = list(_lines(text))
    index = 0
    para: list[tuple[int, int, str]] = []

    def flush() -> None:
        if not para:
            return
        start, end = para[0][0], para[-1][1]
        if all(_QUOTE.match(line) for _, _, line in para):
            add(start, end, "quotation")
        elif len(para) >= 2 and all(_TABLE_ROW.match(line) or _TABLE_RULE.match(line) for _, _, line in para):
            rows = [[cell for cell in line.strip().strip("|").split("|")] for _, _, line in para
                    if not _TABLE_RULE.match(line)]
            add(start, end, "table" if is_numeric_table(rows) else None)
        else:
            add(start, end)
        para.clear()

    while index < len(lines):
        start, end, line = lines[index]
        fence = _FENCE.match(line) or _MATH_FENCE.match(line)
        if fence:
            flush()
            marker = fence.group(1) if fence.re is _FENCE else "$$"
            kind = "code" if fence.re is _FENCE else "equation"
            close = index + 1
            if kind == "equation" and line.strip() != "$$" and line.rstrip().endswith("$$") and len(line.strip()) > 2:
                close = index  # $$ x $$ on one line
            else:
                while close < len(lines) and not lines[close][2].lstrip().startswith(marker):
                    close += 1
            close = min(close, len(lines) - 1)
            add(start, lines[close][1], kind)
            index = close + 1
            continue
        atx = _ATX.match(line)
        if atx:
            flush()
            heading(start, end, atx.group(2) or "", len(atx.group(1)))
            index += 1
            continue
        if para and _SETEXT.match(line) and len(para) == 1 and not _QUOTE.match(para[0][2]):
            title_start, _, title = para.pop()
            heading(title_start, end, title, 1 if line.strip().startswith("=") else 2)
            index += 1
            continue
        if not line.strip():
            flush()
        else:
            para.append((start, end, line))
        index += 1
    flush()
    close_references(len(text))
    return ExtractedDocument(text, "markdown", normalise_regions(regions, text), tuple(blocks))
