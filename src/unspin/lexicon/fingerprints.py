"""Fingerprint lists supplied by the user: the PPS query language, its file formats, validation.

A fingerprint is a search query that identifies a tortured phrase, plus the wording it replaced:
`"bosom" AND "breast"` -> "breast". This module only reads and parses lists; matching them
against a text is `unspin.detect.fingerprints`.

Query language (as the Problematic Paper Screener writes it), case-insensitive:
    "a b"            a phrase (a bare word is a one-word phrase)
    optimiz*         a word prefix (also inside quotes, on the last word)
    "a b"~N          proximity: every word of the phrase within len + N words, in any order
    X AND Y          both anywhere in the same document (`X Y` means the same)
    X OR Y           either
    X NOT Y          X, and the document does not contain Y anywhere
    ( ... )          grouping
The spans reported for a match are the *primary* terms: the first term of each alternative
(`"malignant growth" AND "cancer"` highlights "malignant growth" only; "cancer" is context).

Formats: the PPS site export CSV ("Fingerprint - Tortured Phrase", "Expected Text", "Nb Retrieved
Papers"; or lower-case `tortured_phrase,expected_phrase,num_papers`), a JSON list of
`{"tortured", "correct"}` objects (or an object holding it under "phrases"), and a TSV of
`tortured<TAB>expected[<TAB>papers]`. A field without a double quote is a literal phrase.
Lines that cannot be used are skipped with a warning naming the line; the list says how many.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from unspin.errors import InputError
from unspin.resources import file_sha256

DEFAULT_CONFIDENCE = 0.95


class QuerySyntaxError(ValueError):
    """A fingerprint query that cannot be parsed; the message says where."""


# -- the query language ------------------------------------------------------------------------


@dataclass(frozen=True)
class ListSource:
    """A fingerprint list file as a cache key (its real path, modification time and size): an
    edited list, or a relative name that means another file from another working directory, is
    read again. The pipeline's checker cache and the batch runner's both key on it."""

    path: str
    mtime_ns: int
    size: int

    @classmethod
    def of(cls, path: str | os.PathLike[str]) -> ListSource:
        resolved = Path(path).expanduser()
        try:
            stat = resolved.stat()
        except OSError:
            return cls(str(resolved), -1, -1)  # load_fingerprints reports it
        return cls(str(resolved.resolve()), stat.st_mtime_ns, stat.st_size)


@dataclass(frozen=True)
class Term:
    """A phrase of normalised words; `prefix`: the last word is a prefix (`optimiz*`)."""

    words: tuple[str, ...]
    prefix: bool = False
    slop: int | None = None  # "a b"~N

    def __str__(self) -> str:
        text = '"' + " ".join(self.words) + ("*" if self.prefix else "") + '"'
        return text + (f"~{self.slop}" if self.slop is not None else "")


@dataclass(frozen=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    item: Node


Node = Term | And | Or | Not

_TOKEN_RE = re.compile(r'\s*(?:(?P<quoted>"[^"]*")(?:~(?P<slop>\d+))?|(?P<paren>[()])|(?P<word>[^\s"()]+))')
_WORD_SPLIT_RE = re.compile(r"[\s\-\u2010\u2011\u2013\u00ad]+")


def normalise_words(phrase: str) -> tuple[str, ...]:
    """The words of a phrase as the matcher compares them: lower case, hyphens as spaces."""
    phrase = phrase.lower().replace("\u2019", "'")
    return tuple(word for word in _WORD_SPLIT_RE.split(phrase) if word)


def _term(text: str, slop: int | None) -> Term:
    prefix = text.endswith("*")
    body = text[:-1] if prefix else text
    if "*" in body:
        raise QuerySyntaxError(f"wildcard inside a word: {text!r} (only a trailing * is supported)")
    words = normalise_words(body)
    if not words:
        raise QuerySyntaxError("empty phrase")
    if prefix and len(words[-1]) < 3:
        raise QuerySyntaxError(f"wildcard prefix too short: {text!r} (at least 3 letters)")
    return Term(words, prefix, slop)


def _lex(query: str) -> list[tuple[str, object]]:
    if query.count('"') % 2:
        raise QuerySyntaxError("unbalanced double quote")
    tokens: list[tuple[str, object]] = []
    position = 0
    while position < len(query):
        match = _TOKEN_RE.match(query, position)
        if match is None or match.end() == position:
            if query[position:].strip() == "":
                break
            raise QuerySyntaxError(f"unexpected text at character {position + 1}: {query[position:position + 12]!r}")
        position = match.end()
        if match.group("quoted") is not None:
            slop = int(match.group("slop")) if match.group("slop") else None
            tokens.append(("term", _term(match.group("quoted")[1:-1], slop)))
        elif match.group("paren"):
            tokens.append((match.group("paren"), None))
        else:
            word = match.group("word")
            if word in ("AND", "OR", "NOT"):
                tokens.append((word, None))
            elif word.startswith("~"):
                raise QuerySyntaxError(f"proximity {word!r} must follow a quoted phrase")
            else:
                tokens.append(("term", _term(word, None)))
    return tokens


class _Parser:
    """Recursive descent: or := and (OR and)*;  and := unary ((AND | NOT | nothing) unary)*."""

    def __init__(self, tokens: list[tuple[str, object]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> str | None:
        return self.tokens[self.position][0] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, object]:
        token = self.tokens[self.position]
        self.position += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise QuerySyntaxError("empty query")
        node = self.or_()
        if self.peek() is not None:
            raise QuerySyntaxError(f"unexpected {self.peek()!r}")
        return node

    def or_(self) -> Node:
        items = [self.and_()]
        while self.peek() == "OR":
            self.take()
            items.append(self.and_())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_(self) -> Node:
        items = [self.unary()]
        while self.peek() in ("AND", "NOT", "term", "("):
            if self.peek() == "AND":
                self.take()
                items.append(self.unary())
            else:  # "X NOT Y" is "X AND NOT Y"; two terms side by side mean AND
                items.append(self.unary())
        return items[0] if len(items) == 1 else And(tuple(items))

    def unary(self) -> Node:
        kind = self.peek()
        if kind == "NOT":
            self.take()
            return Not(self.unary())
        if kind == "(":
            self.take()
            node = self.or_()
            if self.peek() != ")":
                raise QuerySyntaxError("unbalanced parenthesis")
            self.take()
            return node
        if kind == "term":
            return self.take()[1]  # type: ignore[return-value]
        raise QuerySyntaxError("a query cannot end with an operator" if kind is None else f"unexpected {kind!r}")


def parse_query(query: str) -> Node:
    """The syntax tree of a fingerprint query; a field without a quote is one literal phrase."""
    if '"' not in query and "(" not in query and not re.search(r"\b(AND|OR|NOT)\b|~\d", query):
        words = query.strip()
        return _term(words, None)
    node = _Parser(_lex(query)).parse()
    if not primary_terms(node):
        raise QuerySyntaxError("nothing to match: the query only excludes")
    return node


def primary_terms(node: Node) -> tuple[Term, ...]:
    """The terms a match highlights: the first positive term of each alternative."""
    if isinstance(node, Term):
        return (node,)
    if isinstance(node, Or):
        return tuple(term for item in node.items for term in primary_terms(item))
    if isinstance(node, And):
        for item in node.items:
            if not isinstance(item, Not):
                return primary_terms(item)
    return ()


def all_terms(node: Node) -> tuple[Term, ...]:
    if isinstance(node, Term):
        return (node,)
    if isinstance(node, Not):
        return all_terms(node.item)
    return tuple(term for item in node.items for term in all_terms(item))


# -- lists -------------------------------------------------------------------------------------

# The PPS "Expected Text" carries notes for the reader; a suggestion must be text to paste.
_URL_NOTE_RE = re.compile(r",?\s*see https?://\S+.*$", re.IGNORECASE)
_QUESTION_RE = re.compile(r"\s*\((?:\?|e\.g\.[^)]*)\)|\s*\?+\s*$|\s*\[\.\.\.\]")
_PARENTHESES_RE = re.compile(r"\s*\([^()]*\)")


def clean_expected(expected: str, *, keep_glosses: bool = False) -> str:
    """A PPS expected text as a replacement for the span the query matches.

    Dropped: ", see https://..." notes, "(?)", "(e.g. ...)", "[...]", trailing "?", and, unless
    the query itself holds a parenthesis ("Web of Things (IoT)", so the span includes it),
    every parenthesis: acronym glosses ("back propagation (BP)") and words outside the span
    ("(mean) squared error" for "squared mistake").
    """
    text = _URL_NOTE_RE.sub("", expected.strip())
    text = _QUESTION_RE.sub("", text)
    if not keep_glosses:
        text = _PARENTHESES_RE.sub("", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Fingerprint:
    query: str
    node: Node
    expected: str  # as a replacement, see clean_expected
    expected_raw: str
    papers: int | None
    source: str  # the list's name
    line: int
    confidence: float = DEFAULT_CONFIDENCE

    @property
    def rule(self) -> str:
        return f"{self.source}:{self.line}"


@dataclass
class FingerprintList:
    name: str
    path: str
    format: str
    sha256: str
    fingerprints: list[Fingerprint] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)  # (line, reason) of skipped lines
    rows: int = 0
    unit: str = "line"  # what the numbers count: file lines, or entries of a JSON list

    @property
    def skipped(self) -> int:
        return len(self.warnings)

    @property
    def complete(self) -> bool:
        return not self.warnings

    def summary(self) -> str:
        text = f"{self.name}: {len(self.fingerprints):,} fingerprints from {self.rows:,} rows ({self.format})"
        if self.warnings:
            first = "; ".join(f"{self.unit} {line}: {reason}" for line, reason in self.warnings[:3])
            more = f"; and {self.skipped - 3} more" if self.skipped > 3 else ""
            text += f", {self.skipped:,} skipped ({first}{more})"
        return text


_PPS_COLUMNS = (
    ("Fingerprint - Tortured Phrase", "Expected Text", "Nb Retrieved Papers"),
    ("tortured_phrase", "expected_phrase", "num_papers"),
)
_JSON_KEYS = (("tortured", "correct"), ("tortured", "expected"), ("tortured_phrase", "expected_phrase"))


def load_fingerprints(path: str | Path, *, name: str | None = None) -> FingerprintList:
    """Read a fingerprint list (PPS CSV, JSON or TSV, told apart by content and extension)."""
    path = Path(path)
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a fingerprint list", "name a .csv, .json or .tsv file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(f"fingerprint list {path} not found", "check the path given to --fingerprints") from None
    except OSError as err:
        raise InputError(f"cannot read fingerprint list {path}: {err.strerror}") from None
    from unspin.text.load import looks_binary

    if looks_binary(raw):
        raise InputError(f"{path} is a binary file, not a fingerprint list", "export the list as CSV, JSON or TSV")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError(
            f"{path} is not UTF-8 (byte {err.start}); the list was not loaded",
            f"convert it, e.g. `iconv -f cp1252 -t utf-8 {path.name} > fixed-{path.name}`",
        ) from None
    result = FingerprintList(name=name or path.stem, path=str(path), format="", sha256=file_sha256(path))
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")) or path.suffix.lower() == ".json":
        result.format, result.unit = "json", "entry"
        rows = _json_rows(text, path)
    elif path.suffix.lower() in (".tsv", ".tab") or ("\t" in text.split("\n", 1)[0] and "," not in text.split("\n", 1)[0]):
        result.format = "tsv"
        rows = _tsv_rows(text)
    else:
        result.format = "pps-csv"
        rows = _csv_rows(text, path)
    for line, query, expected, papers in rows:
        result.rows += 1
        _add(result, line, query, expected, papers)
    if not result.fingerprints:
        detail = f" ({result.warnings[0][1]} on {result.unit} {result.warnings[0][0]})" if result.warnings else ""
        raise InputError(f"{path}: no usable fingerprint in the list{detail}", "see `unspin lexicon validate LIST`")
    return result


def _add(result: FingerprintList, line: int, query: str, expected: str, papers: str | int | None) -> None:
    query, expected = (query or "").strip(), (expected or "").strip()
    if not query:
        result.warnings.append((line, "empty query"))
        return
    if not expected:
        result.warnings.append((line, "no expected text"))
        return
    try:
        node = parse_query(query)
    except QuerySyntaxError as err:
        result.warnings.append((line, f"{err} in {query!r}"))
        return
    replacement = clean_expected(expected, keep_glosses="(" in query) or expected
    result.fingerprints.append(Fingerprint(
        query=query, node=node, expected=replacement, expected_raw=expected,
        papers=_papers(papers), source=result.name, line=line,
    ))


def _papers(value: str | int | None) -> int | None:
    if value is None or isinstance(value, int):
        return value
    digits = str(value).replace(",", "").replace("\u202f", "").strip()
    return int(digits) if digits.isdigit() else None


def _csv_rows(text: str, path: Path):
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InputError(f"{path} is empty", "a PPS CSV starts with a header row") from None
    except csv.Error as err:
        raise InputError(f"{path}: not a readable CSV ({err})") from None
    columns = [cell.strip() for cell in header]
    for names in _PPS_COLUMNS:
        if names[0] in columns and names[1] in columns:
            query_at, expected_at = columns.index(names[0]), columns.index(names[1])
            papers_at = columns.index(names[2]) if names[2] in columns else None
            break
    else:
        raise InputError(
            f"{path}: missing columns; found {', '.join(columns[:5]) or 'none'}",
            "a PPS CSV has 'Fingerprint - Tortured Phrase' and 'Expected Text' "
            "(or tortured_phrase, expected_phrase) columns",
        )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as err:
            raise InputError(f"{path}: CSV error on line {reader.line_num}: {err}") from None
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(query_at, expected_at):
            yield line, "", "", None  # reported as empty
            continue
        papers = row[papers_at] if papers_at is not None and papers_at < len(row) else None
        yield line, row[query_at], row[expected_at], papers


def _json_rows(text: str, path: Path):
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputError(f"{path}: invalid JSON on line {err.lineno}: {err.msg}") from None
    if isinstance(data, dict):
        data = data.get("phrases", data.get("fingerprints"))
    if not isinstance(data, list):
        raise InputError(f"{path}: expected a JSON list of {{\"tortured\", \"correct\"}} objects",
                         "or an object with the list under \"phrases\"")
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            yield number, "", "", None
            continue
        for query_key, expected_key in _JSON_KEYS:
            if query_key in item:
                yield number, str(item.get(query_key) or ""), str(item.get(expected_key) or ""), item.get("papers")
                break
        else:
            yield number, "", "", None


def _tsv_rows(text: str):
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        cells = line.split("\t")
        if number == 1 and cells[0].strip().lower() in ("tortured", "tortured_phrase", "spun", "fingerprint"):
            continue  # a header
        yield number, cells[0], cells[1] if len(cells) > 1 else "", cells[2] if len(cells) > 2 else None
