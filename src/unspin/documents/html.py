"""HTML: the main content of a page, without scripts, navigation or the site's furniture.

Boilerplate removal is our own, on lxml, rather than trafilatura or readability-lxml: those pull in
a dozen dependencies (date parsers, URL tools, charset guessers) and hand back cleaned HTML or text
without the structure we need for sections and excluded regions. What we do, in order:

1. Parse with lxml's HTML parser (libxml2): no network, comments and processing instructions
   dropped. Nothing is ever executed; `<script>`, `<style>`, `<template>`, `<noscript>`, frames,
   form controls and embedded objects are removed with their content.
2. Drop the page furniture: `<nav>`, `<aside>`, site-level `<header>`/`<footer>`, ARIA landmarks
   (navigation, banner, contentinfo, complementary, search), hidden elements, elements whose class
   or id names a menu, sidebar, footer, cookie banner or share bar, and link lists (mostly links).
   An element holding at least half the page's paragraph text is never dropped on its name alone.
3. Choose the main content: `<main>` (or role=main), else a single `<article>`, else the deepest
   element that still holds 80 % of the paragraph text (readability's idea, reduced to its core).
4. Walk it in document order into blocks: headings open sections; `<blockquote>`/`<q>` are
   quotations, `<pre>`/`<code>`/`<kbd>`/`<samp>` code, `<math>`/MathJax/KaTeX equations, tables of
   numbers tables, `<address>`/bylines authors, and a "References" section (or a list classed as
   references/bibliography) a reference list.
"""

from __future__ import annotations

import codecs
import re

from unspin.documents.builder import Builder, InlineBuffer, collapse, is_numeric_table
from unspin.documents.errors import CorruptDocument
from unspin.documents.model import ExtractedDocument

_DROP_TAGS = frozenset(
    "script style noscript template iframe frame frameset object embed applet svg canvas button select input "
    "textarea option datalist nav aside dialog menu head link meta audio video map source track picture img "
    "base param".split()
)
_DROP_ROLES = frozenset(
    "navigation banner contentinfo complementary search menu menubar toolbar dialog alertdialog".split())
# Class / id words that name page furniture, matched against the parts of each class and id
# ("site-footer" -> "site", "footer").
_FURNITURE = frozenset(
    "nav navbar navigation menu menubar breadcrumb breadcrumbs sidebar footer masthead cookie cookies consent "
    "share sharing social advert advertisement ads newsletter subscribe pagination pager skiplink".split()
)
_FURNITURE_EXACT = frozenset({"comments", "comment-list", "skip-link", "site-header", "page-header", "top-bar"})
_HEADINGS = {f"h{n}": n for n in range(1, 7)}
_BLOCKS = frozenset(
    "html body main article section div header footer p ul ol li dl dt dd blockquote figure figcaption address "
    "hr center details summary fieldset legend caption form hgroup search table tr td th".split()
)
_CONTAINERS = frozenset("div section article main td center form".split())  # where main content may sit
_INLINE_KINDS = {"code": "code", "kbd": "code", "samp": "code", "q": "quotation", "math": "equation",
                 "mjx-container": "equation"}
_AUTHOR_WORDS = frozenset({"author", "authors", "byline", "affiliation", "affiliations", "contributors"})
_REFERENCE_WORDS = frozenset({"references", "bibliography", "reflist", "ref-list", "citation-list", "references-list"})
_MATH_WORDS = frozenset({"math", "katex", "katex-display", "mathjax", "math-display", "mathjax_display"})

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def decode_html(data: bytes) -> str:
    """UTF-8 when it decodes, else the charset the page declares, else Windows-1252 (what browsers do)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace").removeprefix("\ufeff")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        declared = _META_CHARSET.search(data[:8192])
        encoding = "cp1252"
        if declared:
            try:
                encoding = codecs.lookup(declared.group(1).decode("ascii")).name
            except LookupError:
                pass
        text = data.decode(encoding, errors="replace")
    # lxml refuses str input that still carries an encoding declaration, or control characters
    text = _CONTROL.sub("", text.removeprefix("\ufeff"))
    return _XML_DECLARATION.sub("", text, count=1)


def _tag(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _tokens(element) -> set[str]:
    """The class and id of an element, lower-cased, as whole tokens: what marks a kind of part
    ("byline", "references") is matched whole, so that "author-content" is not a byline."""
    return {token for value in (element.get("class"), element.get("id")) for token in (value or "").lower().split()}


def _words(element) -> set[str]:
    """The class and id of an element, lower-cased, whole and split at - and _."""
    words: set[str] = set()
    for value in (element.get("class"), element.get("id")):
        for token in (value or "").lower().split():
            words.add(token)
            words.update(part for part in re.split(r"[-_]", token) if part)
    return words


def _text_length(element) -> int:
    return len(collapse(element.text_content()))


def extract_html(data: bytes, label: str = "the input") -> ExtractedDocument:
    import lxml.etree
    import lxml.html

    text = decode_html(data)
    if not text.strip():
        return Builder("html").build()
    parser = lxml.html.HTMLParser(no_network=True, remove_comments=True, remove_pis=True, recover=True,
                                  huge_tree=False)
    try:
        root = lxml.html.document_fromstring(text, parser=parser)
    except (lxml.etree.ParserError, lxml.etree.XMLSyntaxError, ValueError):
        return Builder("html").build()  # no elements at all: an empty page
    metadata = _metadata(root)
    notes = _clean(root)
    main = _main_content(root)
    walker = _Walker()
    try:
        walker.visit(main, None)
    except RecursionError:
        raise CorruptDocument(f"{label}: HTML nested too deeply to read", "simplify or re-save the page") from None
    walker.flush(None)
    document = walker.builder.build(metadata, notes)
    if "title" not in document.metadata:
        first = next((block for block in document.blocks if block.heading), None)
        if first is not None:
            document.metadata["title"] = document.text[first.start:first.end]
    return document


def _metadata(root) -> dict[str, str]:
    found: dict[str, str] = {}
    title = root.find(".//title")
    if title is not None and title.text_content().strip():
        found["title"] = collapse(title.text_content())
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key in ("author", "citation_author", "dc.creator") and "author" not in found:
            found["author"] = collapse(meta.get("content") or "")
        elif key in ("citation_title", "og:title", "dc.title") and "title" not in found:
            found["title"] = collapse(meta.get("content") or "")
    if root.get("lang"):
        found["language"] = root.get("lang")
    return found


def _clean(root) -> list[str]:
    """Drop what is never content, then the page furniture; returns notes on what went."""
    scripts = 0
    for element in list(root.iter()):
        if _tag(element) in _DROP_TAGS and element.getparent() is not None:
            scripts += _tag(element) == "script"
            element.drop_tree()
    notes = [f"{scripts} <script> element(s) removed, never run"] if scripts else []

    paragraph_text = _paragraph_text(root)
    total = paragraph_text.get(root, 0)

    def essential(element) -> bool:
        return total > 0 and paragraph_text.get(element, 0) * 2 >= total

    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.getparent() is None:
            continue
        tag = _tag(element)
        if tag in ("html", "body", "main", "article"):
            continue
        hidden = (element.get("hidden") is not None or element.get("aria-hidden") == "true"
                  or _HIDDEN_STYLE.search(element.get("style") or ""))
        role = (element.get("role") or "").lower()
        site_level = tag in ("header", "footer") and not any(
            _tag(a) in ("article", "main") for a in element.iterancestors())
        article_footer = tag == "footer" and not site_level
        words = _words(element)
        furniture = bool(words & _FURNITURE) or bool(words & _FURNITURE_EXACT)
        if _tokens(element) & (_AUTHOR_WORDS | _REFERENCE_WORDS | _MATH_WORDS):
            furniture = False  # "author-nav"? keep: what we would mark is worth more than what we would drop
        if hidden or role in _DROP_ROLES or site_level or article_footer:
            if not essential(element) or hidden:
                element.drop_tree()
            continue
        if furniture and not essential(element) and element.find(".//main") is None:
            element.drop_tree()
            continue
    for element in list(root.iter("ul", "ol", "div", "p", "table", "section")):
        if element.getparent() is None or essential(element):
            continue
        links = [a for a in element.iter("a")]
        if len(links) < 3:
            continue
        length = _text_length(element)
        linked = sum(_text_length(a) for a in links)
        if length and linked / length > 0.6 and not (_tokens(element) & _REFERENCE_WORDS):
            element.drop_tree()
    return notes


def _paragraph_text(root) -> dict:
    """For each element, the length of the paragraph text (<p> of 25+ characters) inside it."""
    counts: dict = {}
    for paragraph in root.iter("p"):
        length = _text_length(paragraph)
        if length < 25:
            continue
        for element in [paragraph, *paragraph.iterancestors()]:
            counts[element] = counts.get(element, 0) + length
    return counts


def _main_content(root):
    body = root.find("body")
    body = body if body is not None else root
    counts = _paragraph_text(body)
    total = counts.get(body, 0)
    mains = [e for e in body.iter() if isinstance(e.tag, str) and (_tag(e) == "main" or e.get("role") == "main")]
    if mains:
        best = max(mains, key=lambda e: (counts.get(e, 0), _text_length(e)))
        if total == 0 or counts.get(best, 0) * 10 >= total * 3:
            return best
    articles = list(body.iter("article"))
    if len(articles) == 1 and (total == 0 or counts.get(articles[0], 0) * 10 >= total * 3):
        return articles[0]
    if total == 0:
        return body
    node = body
    while True:
        child = next((c for c in node if isinstance(c.tag, str) and _tag(c) in _CONTAINERS
                      and counts.get(c, 0) * 10 >= total * 8), None)
        if child is None:
            return node
        node = child


class _Walker:
    def __init__(self) -> None:
        self.builder = Builder("html")
        self.buffer = InlineBuffer()

    def flush(self, kind: str | None) -> None:
        if not self.buffer.empty():
            self.builder.add_buffer(self.buffer, kind)
        else:
            self.buffer.finish()

    def visit(self, element, kind: str | None) -> None:
        tag = _tag(element)
        if not tag:
            return
        words = _tokens(element)
        if tag in _HEADINGS:
            self.flush(kind)
            self.builder.heading(element.text_content(), _HEADINGS[tag], kind)
            return
        if tag == "pre":
            self.flush(kind)
            code = element.text_content().strip("\n").rstrip()
            self.builder.add(code, kind or "code")
            return
        if tag == "br":
            self.buffer.newline()
            return
        if tag == "table" and not self._layout_table(element):
            self.flush(kind)
            self._table(element, kind)
            return
        inline_kind = _INLINE_KINDS.get(tag) or ("equation" if words & _MATH_WORDS else None)
        if tag == "a" and "author" in (element.get("rel") or "").split():
            inline_kind = "authors"
        if inline_kind and tag not in _BLOCKS:
            self.buffer.add(element.text_content(), kind or inline_kind)
            return
        if tag in _BLOCKS:
            self.flush(kind)
            own = kind or self._block_kind(element, tag, words)
            self.buffer.add(element.text)
            for child in element:
                self.visit(child, own)
                self.buffer.add(child.tail)
            self.flush(own)
            return
        # inline markup: its text joins the running block
        self.buffer.add(element.text)
        for child in element:
            self.visit(child, kind)
            self.buffer.add(child.tail)

    def _block_kind(self, element, tag: str, words: set[str]) -> str | None:
        if tag == "blockquote":
            return "quotation"
        if tag == "address" or (words & _AUTHOR_WORDS and _text_length(element) <= 400):  # a byline, not a post
            return "authors"
        if words & _REFERENCE_WORDS or (element.get("role") or "").lower() == "doc-bibliography":
            return "references"
        if words & _MATH_WORDS:
            return "equation"
        return None

    def _layout_table(self, table) -> bool:
        """A table used for page layout (old sites): long prose or nested tables in its cells."""
        if table.find(".//table") is not None:
            return True
        return any(_text_length(cell) > 300 for cell in table.iter("td", "th"))

    def _table(self, table, kind: str | None) -> None:
        caption = table.find("caption")
        if caption is not None:
            self.builder.add(collapse(caption.text_content()), kind)
        rows = []
        for row in table.iter("tr"):
            cells = [collapse(cell.text_content()) for cell in row if _tag(cell) in ("td", "th")]
            if any(cells):
                rows.append(cells)
        row_kind = kind or ("table" if is_numeric_table(rows) else None)
        for cells in rows:
            self.builder.add("\t".join(cells), row_kind)
