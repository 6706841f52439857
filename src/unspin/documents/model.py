"""What document extraction hands out: the text unspin checks, and how to find each part of it.

Every offset here is a Python code-point offset into `ExtractedDocument.text`, the text that is
checked and reported. Parts that must not be judged (reference lists, quotations, code, equations,
tables of numbers, author blocks) stay *in* the text, so that offsets and locations stay simple,
and are listed in `excluded`; `scored_text()` blanks them out without moving anything.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

FORMATS = ("text", "markdown", "html", "pdf", "docx", "jats")
EXCLUDED_KINDS = frozenset({"references", "quotation", "code", "equation", "table", "authors"})


@dataclass(frozen=True)
class Region:
    """A part of the text kept for offsets but never scored: `text[start:end]` is that part."""

    kind: str  # one of EXCLUDED_KINDS
    start: int
    end: int


@dataclass(frozen=True)
class Block:
    """A paragraph-like unit of the text (a paragraph, heading, list item, table row, PDF text box).

    `paragraph` is the block's 1-based position among all blocks of the document (headings and
    table rows count). `page` is the 1-based PDF page the block starts on (None elsewhere);
    `section` is the text of the nearest heading above it (a heading's own text for a heading).
    """

    start: int
    end: int
    paragraph: int
    page: int | None = None
    section: str | None = None
    heading: bool = False


@dataclass(frozen=True)
class Repair:
    """A change extraction made to the source text: `text[start:end]` was `original` there.

    PDF line-end hyphenation is the only one so far ("profound" was "profo-\\nund").
    """

    start: int
    end: int
    original: str


@dataclass(frozen=True)
class ExtractedDocument:
    text: str
    format: str  # one of FORMATS
    excluded: tuple[Region, ...] = ()  # sorted, non-overlapping
    blocks: tuple[Block, ...] = ()  # sorted, non-overlapping
    repairs: tuple[Repair, ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)  # title, author, pages, doi ... when cheap
    notes: tuple[str, ...] = ()  # what was dropped or not resolved, for a log line

    def block_at(self, offset: int) -> Block | None:
        """The block holding `offset`, else the last block that starts before it (a separator)."""
        if not self.blocks:
            return None
        index = bisect_right(self._starts, offset) - 1
        return self.blocks[max(index, 0)]

    def location(self, offset: int) -> dict[str, Any]:
        """Where `offset` is, for people: {"paragraph": n} plus "page" (PDF) and "section" when known."""
        block = self.block_at(offset)
        if block is None:
            return {"paragraph": 1} | ({"page": 1} if self.format == "pdf" else {})
        place: dict[str, Any] = {}
        if block.page is not None:
            place["page"] = block.page
        place["paragraph"] = block.paragraph
        if block.section is not None:
            place["section"] = block.section
        return place

    def excluded_kind(self, start: int, end: int | None = None) -> str | None:
        """The kind of the first excluded region that overlaps [start, end), or None."""
        end = start + 1 if end is None else end
        index = max(bisect_right(self._region_starts, start) - 1, 0)
        for region in self.excluded[index:]:
            if region.start >= end:
                break
            if region.end > start and region.start < end:
                return region.kind
        return None

    def included(self) -> list[tuple[int, int]]:
        """The (start, end) stretches of the text that are scored: everything not excluded."""
        spans, last = [], 0
        for region in self.excluded:
            if region.start > last:
                spans.append((last, region.start))
            last = region.end
        if last < len(self.text):
            spans.append((last, len(self.text)))
        return spans

    def scored_text(self) -> str:
        """The text with each excluded character blanked (a space; line breaks kept): same offsets."""
        if not self.excluded:
            return self.text
        pieces, last = [], 0
        for region in self.excluded:
            pieces.append(self.text[last:region.start])
            pieces.append("".join("\n" if ch == "\n" else " " for ch in self.text[region.start:region.end]))
            last = region.end
        pieces.append(self.text[last:])
        return "".join(pieces)

    @property
    def _starts(self) -> list[int]:
        return _cached(self, "_block_starts", lambda: [block.start for block in self.blocks])

    @property
    def _region_starts(self) -> list[int]:
        return _cached(self, "_excluded_starts", lambda: [region.start for region in self.excluded])


def _cached(document: ExtractedDocument, name: str, make) -> Any:
    value = document.__dict__.get(name)
    if value is None:
        value = make()
        object.__setattr__(document, name, value)  # a lookup table, not state: frozen still holds
    return value


def normalise_regions(regions: Iterable[tuple[int, int, str]], text: str) -> tuple[Region, ...]:
    """Sorted, non-overlapping regions, trimmed of surrounding whitespace.

    Where two regions overlap the one that starts first (the outer one, for nested parts) wins;
    neighbours of one kind separated only by whitespace become one region, so that a reference
    list is one region rather than one per reference.
    """
    ordered = sorted((s, e, k) for s, e, k in regions if e > s)
    merged: list[list[Any]] = []
    for start, end, kind in ordered:
        if kind not in EXCLUDED_KINDS:
            raise ValueError(f"unknown excluded kind {kind!r}")
        while start < end and text[start].isspace():
            start += 1
        while end > start and text[end - 1].isspace():
            end -= 1
        if start >= end:
            continue
        if merged:
            last = merged[-1]
            if start < last[1]:  # overlap: the earlier region keeps its kind
                if kind == last[2]:
                    last[1] = max(last[1], end)
                    continue
                start = last[1]
                while start < end and text[start].isspace():
                    start += 1
                if start >= end:
                    continue
            elif kind == last[2] and not text[last[1]:start].strip():
                last[1] = end
                continue
        merged.append([start, end, kind])
    return tuple(Region(kind, start, end) for start, end, kind in merged)
