"""JATS XML (and the NLM DTDs before it): the article as PubMed Central and most publishers ship it.

Parsed with lxml, locked down: no DTD loading, no network, entities never resolved
(`resolve_entities=False`), no huge-tree mode. A document whose internal subset declares an
external or parameter entity is refused before parsing — a JATS article has no business doing
that, and it is how XXE attacks start. Named entities that the (unloaded) JATS DTD would have
defined (`&mdash;`) are mapped through the HTML5 entity table; entities declared inside the file
with plain-text values are substituted one level deep (never recursively, so no "billion laughs").

Reading order is the article's: title, authors and affiliations (excluded), abstracts, body,
back matter (acknowledgements, appendices, notes, reference list — excluded). Sections are the
`<sec>` titles with their labels ("2.1 Participants").
"""

from __future__ import annotations

import re
from html.entities import html5
from typing import Any

from unspin.documents.builder import Builder, InlineBuffer, collapse, is_numeric_table
from unspin.documents.errors import CorruptDocument, UnsafeDocument, UnsupportedFormat
from unspin.documents.model import ExtractedDocument

_EXTERNAL_ENTITY = re.compile(r"<!ENTITY\s+(?:%\s*)?[^\s>]+\s+(?:SYSTEM|PUBLIC)\b", re.IGNORECASE)
_PARAMETER_ENTITY = re.compile(r"<!ENTITY\s+%", re.IGNORECASE)

# article-meta children we read, in document order; everything else there is bibliographic data
_FRONT_READ = frozenset({"title-group", "contrib-group", "aff", "aff-alternatives", "author-notes", "abstract",
                         "trans-abstract"})
_SKIP = frozenset(
    "journal-meta article-id article-categories pub-date pub-history volume issue fpage lpage elocation-id history "
    "permissions self-uri related-article related-object funding-group counts custom-meta-group kwd-group "
    "object-id graphic inline-graphic media alt-text long-desc processing-meta trans-title-group issue-title "
    "product conference contrib-id issn isbn publisher journal-id supplementary-material article-version "
    "annotation annotation-xml".split()
)
_CONTAINERS = frozenset(
    "body back sec app app-group ack notes glossary boxed-text statement floats-group fig-group "
    "table-wrap-group sub-article response bio caption list def-list disp-formula-group fn-group "
    "verse-group speech".split()
)
_BLOCKS = frozenset("p fn corresp def term attrib verse-line table-wrap-foot".split())
_STRUCTURED = frozenset("name string-name name-alternatives person-group element-citation nlm-citation contrib aff "
                        "collab".split())
_SOFT = "\x00"  # a space owed between structured parts, paid only if a word follows
_SOFT_BEFORE_WORD = re.compile(r"\x00+(?=\s*\w)")
_IN_PARAGRAPH_BLOCKS = frozenset({"fig", "table-wrap", "list", "disp-quote", "def-list", "fn", "boxed-text"})
_INLINE_KINDS = {"inline-formula": "equation", "tex-math": "equation", "math": "equation", "code": "code",
                 "monospace": "code", "preformat": "code", "disp-formula": "equation"}


def _local(node) -> str:
    tag = node.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _as_text(data: bytes) -> str:
    from unspin.text.load import wide_encoding

    return data.decode(wide_encoding(data) or "utf-8", errors="replace")


def parse(data: bytes, label: str = "the input", check: bool = True):
    """The parsed tree, entities unresolved. `check=False` skips the refusal (for tests only)."""
    from lxml import etree

    if check:
        head = _as_text(data)
        if _EXTERNAL_ENTITY.search(head) or _PARAMETER_ENTITY.search(head):
            raise UnsafeDocument(f"{label} declares an external or parameter XML entity, which unspin never resolves",
                                 "remove the <!ENTITY ...> declarations from the DOCTYPE")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True, recover=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as err:
        if "amplification" in str(err) or "loop" in str(err).lower():
            raise UnsafeDocument(f"{label} defines entities that expand without bound (an entity bomb)",
                                 "remove the <!ENTITY ...> declarations from the DOCTYPE") from None
        line = f" (line {err.lineno})" if getattr(err, "lineno", None) else ""
        raise CorruptDocument(f"{label} is not well-formed XML{line}: {err.msg}",
                              "check the file is complete; truncated XML cannot be read") from None
    if check:
        dtd = root.getroottree().docinfo.internalDTD
        if dtd is not None and any(entity.system_url for entity in dtd.iterentities()):
            raise UnsafeDocument(f"{label} declares an external XML entity, which unspin never resolves",
                                 "remove the <!ENTITY ...> declarations from the DOCTYPE")
    return root


def extract_jats(data: bytes, label: str = "the input", check: bool = True) -> ExtractedDocument:
    """The article's text. `check=False` skips the entity refusal, to test the parser alone."""
    root = parse(data, label, check)
    article = root if _local(root) == "article" else next(
        (e for e in root.iter() if _local(e) == "article"), None)
    if article is None:
        raise UnsupportedFormat(f"{label} is XML without a JATS <article>", "unspin reads JATS XML articles")
    walker = _Walker(_declared_entities(root))
    try:
        walker.article(article)
    except RecursionError:
        raise CorruptDocument(f"{label}: XML nested too deeply to read", "") from None
    notes = []
    if walker.unresolved:
        names = ", ".join(sorted(walker.unresolved))
        notes.append(f"unresolved entities dropped: {names}")
    return walker.builder.build(_metadata(article), notes)


def _declared_entities(root) -> dict[str, str]:
    dtd = root.getroottree().docinfo.internalDTD
    declared: dict[str, str] = {}
    if dtd is not None:
        for entity in dtd.iterentities():
            content = entity.content or ""
            if not entity.system_url and "&" not in content and "<" not in content and len(content) <= 1000:
                declared[entity.name] = content
    return declared


def _find(element, *path: str):
    """The first descendant along local names (namespaces ignored)."""
    for name in path:
        element = next((c for c in element if _local(c) == name), None)
        if element is None:
            return None
    return element


def _metadata(article) -> dict[str, Any]:
    meta = _find(article, "front", "article-meta")
    found: dict[str, Any] = {}
    if meta is not None:
        title = _find(meta, "title-group", "article-title")
        if title is not None:
            found["title"] = collapse("".join(title.itertext()))
        for item in meta:
            if _local(item) == "article-id":
                kind = item.get("pub-id-type")
                if kind in ("doi", "pmid", "pmcid", "pmc"):
                    found["pmcid" if kind == "pmc" else kind] = (item.text or "").strip()
    journal = _find(article, "front", "journal-meta", "journal-title-group", "journal-title")
    if journal is not None:
        found["journal"] = collapse("".join(journal.itertext()))
    lang = article.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang:
        found["language"] = lang
    return found


class _Walker:
    def __init__(self, entities: dict[str, str]) -> None:
        self.builder = Builder("jats")
        self.buffer = InlineBuffer()
        self.entities = entities
        self.unresolved: set[str] = set()

    # -- structure --------------------------------------------------------------------------
    def article(self, article) -> None:
        for part in article:
            name = _local(part)
            if name in ("front", "front-stub"):
                self.front(part)
            elif name in ("body", "back", "floats-group"):
                self.container(part, None, 0)
            elif name in ("sub-article", "response"):
                self.builder.end_references()
                self.article(part)

    def front(self, front) -> None:
        meta = _find(front, "article-meta") if _local(front) == "front" else front
        if meta is None:
            return
        for item in meta:
            name = _local(item)
            if name not in _FRONT_READ:
                continue
            if name == "title-group":
                for title in item:
                    if _local(title) in ("article-title", "subtitle"):
                        self.builder.heading(self.text(title), 0)
            elif name in ("contrib-group", "aff", "aff-alternatives", "author-notes"):
                self.authors(item)
            else:  # abstract, trans-abstract
                self.builder.end_references()
                title = _find(item, "title")
                self.builder.heading(self.text(title) if title is not None else "Abstract", 1)
                self.container(item, None, 1, skip_title=True)

    def authors(self, element) -> None:
        name = _local(element)
        if name in ("contrib-group", "author-notes", "aff-alternatives"):
            for child in element:
                self.authors(child)
            return
        if name in ("contrib", "aff", "corresp", "fn", "p", "collab", "on-behalf-of", "author-comment", "bio"):
            self.inline(element, "authors")
            self.flush("authors")

    def container(self, element, kind: str | None, level: int, skip_title: bool = False) -> None:
        name = _local(element)
        if name == "ref-list":
            kind = "references"
        title = _find(element, "title")
        if title is not None and not skip_title:
            label = _find(element, "label")
            heading = " ".join(t for t in (self.text(label) if label is not None else "", self.text(title)) if t)
            self.builder.heading(heading, level, kind)
        for child in element:
            child_name = _local(child)
            if child_name in ("title", "label") and name not in ("list", "caption"):
                continue
            self.visit(child, kind, level)
        self.flush(kind)

    def visit(self, element, kind: str | None, level: int) -> None:
        name = _local(element)
        if not name or name in _SKIP:
            return
        if name in ("sec", "app", "ack", "notes", "glossary", "boxed-text", "ref-list", "bio"):
            self.flush(kind)
            self.container(element, kind, level + 1 if name != "boxed-text" else level)
            if name == "ref-list":
                self.builder.end_references()  # footnotes after the list are not references
        elif name in ("sub-article", "response"):
            self.flush(kind)
            self.article(element)
        elif name == "ref":
            self.flush(kind)
            self.inline(element, kind or "references")
            self.flush(kind or "references")
        elif name == "disp-quote":
            self.flush(kind)
            self.container(element, kind or "quotation", level, skip_title=True)
        elif name in ("disp-formula", "preformat", "code") and self.buffer.empty():
            self.builder.add(self.formula(element) if name == "disp-formula" else self.raw(element),
                             kind or _INLINE_KINDS[name])
        elif name in ("fig", "table-wrap"):
            self.flush(kind)
            self.figure(element, kind, level)
        elif name == "list-item" and any(_local(c) == "p" for c in element):
            self.flush(kind)
            self.container(element, kind, level, skip_title=True)
        elif name in _CONTAINERS:
            self.flush(kind)
            self.container(element, kind, level)
        elif name in _BLOCKS or name in ("list-item", "title", "def-item", "mixed-citation", "element-citation"):
            self.flush(kind)
            self.inline(element, kind)
            self.flush(kind)
        else:
            self.inline(element, kind)

    def figure(self, element, kind: str | None, level: int) -> None:
        label = _find(element, "label")
        caption = _find(element, "caption")
        if label is not None:
            self.buffer.add(self.text(label))
            self.buffer.soft_space()
        if caption is not None:
            for part in caption:
                self.inline(part, None)
                self.buffer.soft_space()
        self.flush(kind)
        for child in element:
            child_name = _local(child)
            if child_name in ("table", "alternatives") and _local(element) == "table-wrap":
                table = child if child_name == "table" else next(
                    (t for t in child.iter() if _local(t) == "table"), None)
                if table is not None:
                    self.table(table, kind)
            elif child_name == "table-wrap-foot":
                self.container(child, kind, level)

    def table(self, table, kind: str | None) -> None:
        rows = []
        for row in table.iter():
            if _local(row) != "tr":
                continue
            cells = [collapse(self.text(cell)) for cell in row if _local(cell) in ("td", "th")]
            if any(cells):
                rows.append(cells)
        row_kind = kind or ("table" if is_numeric_table(rows) else None)
        for cells in rows:
            self.builder.add("\t".join(cells), row_kind)

    # -- text ---------------------------------------------------------------------------------
    def flush(self, kind: str | None) -> None:
        if self.buffer.empty():
            self.buffer.finish()
        else:
            self.builder.add_buffer(self.buffer, kind)

    def inline(self, element, kind: str | None) -> None:
        """The element's text into the running block, inline parts marked."""
        name = _local(element)
        if name in _SKIP:
            return
        if name == "break":
            self.buffer.newline()
            return
        if name in _INLINE_KINDS and kind is None:
            text = self.formula(element) if "formula" in name or name in ("tex-math", "math") else self.raw(element)
            self.buffer.add(text, _INLINE_KINDS[name])
            return
        if name == "alternatives":
            first = next((c for c in element if isinstance(c.tag, str)), None)
            if first is not None:
                self.inline(first, kind)
            return
        structured = name in _STRUCTURED
        self.buffer.add(element.text)
        for child in element:
            if _is_entity(child):
                self.buffer.add(self.entity(child))
            elif _local(child) in _IN_PARAGRAPH_BLOCKS:
                # a block inside a paragraph (JATS allows it): end the paragraph, emit it, go on after
                self.flush(kind)
                self.visit(child, kind, 1)
            elif isinstance(child.tag, str):
                self.inline(child, kind)
                if structured and not (child.tail or "").strip():
                    self.buffer.soft_space()
            self.buffer.add(child.tail)

    def text(self, element) -> str:
        """All text under `element`, entities mapped, whitespace collapsed."""
        return collapse(self.raw(element))

    def raw(self, element) -> str:
        parts: list[str] = []
        self._collect(element, parts)
        joined = _SOFT_BEFORE_WORD.sub(" ", "".join(parts)).replace(_SOFT, "")
        return joined.strip("\n").rstrip()

    def formula(self, element) -> str:
        """An equation's text: its label and TeX if it has TeX, else the MathML's characters."""
        label = _find(element, "label")
        tex = next((e for e in element.iter() if _local(e) == "tex-math"), None)
        body = self.text(tex) if tex is not None else self.text(element)
        if label is not None and tex is not None:
            body = f"{body} {self.text(label)}"
        return body

    def _collect(self, element, parts: list[str]) -> None:
        if _local(element) in _SKIP:
            return
        parts.append(element.text or "")
        for child in element:
            if _is_entity(child):
                parts.append(self.entity(child))
            elif isinstance(child.tag, str):
                if _local(child) == "alternatives":
                    first = next((c for c in child if isinstance(c.tag, str)), None)
                    if first is not None:
                        self._collect(first, parts)
                else:
                    self._collect(child, parts)
                    if _local(element) in _STRUCTURED and not (child.tail or "").strip():
                        parts.append(_SOFT)
            parts.append(child.tail or "")

    def entity(self, node) -> str:
        name = node.name
        if name in self.entities:
            return self.entities[name]
        value = html5.get(f"{name};")
        if value is None:
            self.unresolved.add(f"&{name};")
            return ""
        return value


def _is_entity(node) -> bool:
    from lxml import etree

    return isinstance(node, etree._Entity)
