"""Assembling extracted text block by block, with the bookkeeping every format shares.

A format walks its source in reading order and hands each block (paragraph, heading, table row,
PDF text box) to a `Builder`, which joins blocks with a blank line, numbers them, remembers the
current section and page, and records excluded regions. Inside a block, `InlineBuffer` collapses
markup whitespace the way a browser does while keeping the offsets of inline parts (a `<code>`
span, an inline formula) right.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from unspin.documents.model import Block, ExtractedDocument, Repair, normalise_regions

BLOCK_SEPARATOR = "\n\n"

# A heading that opens a reference list. Numbered ("7. References") or not, with a colon or not.
REFERENCES_HEADING = re.compile(
    r"^\s*(?:[0-9IVXivx]+[.)]?\s+)?(?:references?(?:\s+(?:and\s+notes|cited))?|reference\s+list|bibliography"
    r"|works\s+cited|literature\s+cited|cited\s+literature|literature\s+references)\s*:?\s*$",
    re.IGNORECASE,
)

_SPACE = re.compile(r"\s+")
# A table cell that is a number, a range or a statistic: "12.5", "−0.3 ± 0.1", "(n = 40)", "<0.001", "5%".
_CELL_CHARS = r"[\s0-9.,;:%‰()\[\]{}+\-–—−±~<>≤≥=*×xX/^eEnNpP$€£¥]*"
_NUMERIC_CELL = re.compile(rf"^{_CELL_CHARS}\d{_CELL_CHARS}$")
_EMPTY_CELL = re.compile(r"^[\s\-–—−.·…/]*$|^(?:n/?a|nd|ns)$", re.IGNORECASE)


def is_references_heading(text: str) -> bool:
    return REFERENCES_HEADING.match(text) is not None


def is_numeric_table(rows: Sequence[Sequence[str]]) -> bool:
    """A table of numbers: at least half the non-empty cells below the first row are numeric.

    The header row and the row labels are words even in a table of results, so the header row is
    left out and the threshold is a half rather than a majority of every cell.
    """
    body = rows[1:] if len(rows) > 1 else rows
    cells = [cell.strip() for row in body for cell in row]
    filled = [cell for cell in cells if not _EMPTY_CELL.match(cell)]
    if not filled:
        return bool(cells)  # a grid of dashes is no prose either
    numeric = sum(1 for cell in filled if _NUMERIC_CELL.match(cell))
    return numeric * 2 >= len(filled)


def collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


class InlineBuffer:
    """The running text of one block, whitespace collapsed, with inline excluded parts tracked."""

    def __init__(self) -> None:
        self._out: list[str] = []
        self._length = 0
        self._regions: list[tuple[int, int, str]] = []
        self._open: list[tuple[int, str]] = []
        self._after_space = True  # at the start of a block, leading space is dropped
        self._soft = False  # a space is owed if the next text starts a word

    def add(self, text: str | None, kind: str | None = None) -> None:
        if not text:
            return
        piece = _SPACE.sub(" ", text)
        if self._soft and piece[:1].isalnum():
            piece = " " + piece
        self._soft = False
        if self._after_space:
            piece = piece.lstrip(" ")
        if not piece:
            return
        start = self._length
        self._out.append(piece)
        self._length += len(piece)
        self._after_space = piece.endswith((" ", "\n"))
        if kind is not None:
            self._regions.append((start, self._length, kind))

    def newline(self) -> None:
        """A hard line break (`<br>`): kept, with the space before it dropped."""
        if not self._out:
            return
        if self._out[-1].endswith(" "):
            self._out[-1] = self._out[-1][:-1]
            self._length -= 1
        self._out.append("\n")
        self._length += 1
        self._after_space = True

    def begin(self, kind: str) -> None:
        """Open an excluded span covering everything added until `end()` (for nested markup)."""
        self._open.append((self._length, kind))

    def end(self) -> None:
        start, kind = self._open.pop()
        if self._length > start:
            self._regions.append((start, self._length, kind))

    def soft_space(self) -> None:
        """A space between two structured parts (surname, given names) if the next part starts a
        word: "Smith J" but "Smith J." where punctuation follows."""
        if self._out and not self._after_space:
            self._soft = True

    def empty(self) -> bool:
        return not "".join(self._out).strip()

    def finish(self) -> tuple[str, list[tuple[int, int, str]]]:
        """The block's text (trimmed) and its inline regions as offsets into it; then reset."""
        text = "".join(self._out)
        stripped = text.rstrip()
        regions = [(s, min(e, len(stripped)), k) for s, e, k in self._regions if s < len(stripped)]
        self.__init__()
        return stripped, regions


class Builder:
    """Blocks in reading order -> an `ExtractedDocument`."""

    def __init__(self, format: str) -> None:
        self.format = format
        self.page: int | None = None
        self.section: str | None = None
        self._parts: list[str] = []
        self._length = 0
        self._blocks: list[Block] = []
        self._regions: list[tuple[int, int, str]] = []
        self._repairs: list[Repair] = []
        self._references_level: int | None = None  # inside a reference list opened by this heading level

    @property
    def in_references(self) -> bool:
        return self._references_level is not None

    def add(self, text: str, kind: str | None = None, inline: Iterable[tuple[int, int, str]] = (),
            repairs: Iterable[tuple[int, int, str]] = (), heading: bool = False) -> Block | None:
        """Append one block. `kind` excludes all of it; `inline` and `repairs` are block-relative."""
        if not text.strip():
            return None
        if self._parts:
            self._parts.append(BLOCK_SEPARATOR)
            self._length += len(BLOCK_SEPARATOR)
        start = self._length
        self._parts.append(text)
        self._length += len(text)
        if kind is None and self.in_references:
            kind = "references"
        if kind is not None:
            self._regions.append((start, self._length, kind))
        for s, e, k in inline:
            self._regions.append((start + s, start + e, k))
        for s, e, original in repairs:
            self._repairs.append(Repair(start + s, start + e, original))
        block = Block(start, self._length, len(self._blocks) + 1, self.page, self.section, heading)
        self._blocks.append(block)
        return block

    def add_buffer(self, buffer: InlineBuffer, kind: str | None = None) -> Block | None:
        text, inline = buffer.finish()
        return self.add(text, kind, inline)

    def heading(self, text: str, level: int = 1, kind: str | None = None) -> Block | None:
        """A heading opens a section; "References" opens a reference list that runs to the next
        heading of the same or a higher level (a smaller `level` number)."""
        text = collapse(text)
        if not text:
            return None
        if self._references_level is not None and level <= self._references_level:
            self._references_level = None
        if is_references_heading(text):
            self._references_level = level
        self.section = text
        return self.add(text, kind, heading=True)

    def end_references(self) -> None:
        self._references_level = None

    def build(self, metadata: dict[str, Any] | None = None, notes: Iterable[str] = ()) -> ExtractedDocument:
        text = "".join(self._parts)
        return ExtractedDocument(
            text=text,
            format=self.format,
            excluded=normalise_regions(self._regions, text),
            blocks=tuple(self._blocks),
            repairs=tuple(self._repairs),
            metadata={k: v for k, v in (metadata or {}).items() if v not in (None, "")},
            notes=tuple(notes),
        )
