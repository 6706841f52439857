"""Tortured phrases in real technical sentences, and the same kind of sentences left clean.

The science tortured-phrase list of the Problematic Paper Screener (PPS) pairs each *correct*
term with the tortured forms found in published papers ("deep learning" -> "profound learning").
It is read at evaluation time from a folder the user names (never copied into unspin):
`pps_dir` argument, else `$UNSPIN_PPS_DIR`, else `shared/data/pps` beside the repository.

The sentences are real, clean, human-written technical prose installed from registries:

- ``docstrings``: the docstrings of installed scientific Python packages (numpy, scipy,
  scikit-learn, networkx, sympy, torch, transformers; whichever are present), read with `ast`
  without importing anything. Only prose survives: example, reference and "see also" sections,
  parameter name lines, doctest and code lines are dropped, and so is every sentence with markup
  or code characters (backticks, `=`, `_`, brackets, `f(x)`, URLs ...).
- ``wordnet``: the glosses of WordNet 3.0 (Debian `wordnet-base`, `/usr/share/wordnet/data.*`),
  definitions and quoted usage examples, when that package is installed.

The extracted sentences depend on the installed package versions, which are recorded with the
cached extraction (`cache_dir("technical")`); see `sources_used()`.

A tortured case takes one sentence in which a correct term occurs (whole words, any case), puts
one of the term's tortured forms in its place (a deterministic choice, case carried over) and
records the gold edit. Cases are split into train/dev/test **by correct term**, so a term seen
while tuning never appears in test; each sentence serves one case at most; a term gives at most
`MAX_CASES_PER_TERM` cases, so that "machine learning" cannot dominate. `clean_technical(split)`
gives the sentences unchanged for the false-flag rate; a sentence used by a tortured case keeps
that case's split there too, so no split ever sees a test sentence in any form.

Pairs are kept only when they are real tortured pairs: a correct term holding "?" (an uncertain
guess in PPS) or any other parenthesis than a trailing acronym is skipped; a trailing acronym
("principal component analysis (pca)") is dropped from the term rather than losing the pair,
which keeps the most common terms. A tortured form is dropped when it is itself a correct term of
some pair (the ~56 context terms of PPS queries, e.g. "neural network"), when it holds characters
other than letters, digits, spaces, hyphens and apostrophes, or when it occurs in the clean
sentences at all (then it is a real phrase, not an unambiguous sign of spinning).
"""

from __future__ import annotations

import ast
import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ResourceMissing, UsageError
from ..resources import atomic_write_text, cache_dir
from .corpora import SPLITS, Document, split_of

log = logging.getLogger(__name__)

PAIRS_FILE = "pairs_torturedcheck.json"
DOCSTRING_PACKAGES = ("numpy", "scipy", "sklearn", "networkx", "sympy", "torch", "transformers")
# Technical prose the evaluation never reads, for *training* the detector on simulated spinning
# of technical text (scripts/train_detector.py --technical): docstrings of other packages
# installed with the project's extras. Sentences that also occur in the evaluation's sources are left out.
TRAINING_DOCSTRING_PACKAGES = ("pyspark", "pyarrow", "pydantic", "hypothesis", "accelerate", "reportlab",
                               "click", "lxml", "openpyxl", "requests", "fastapi")
WORDNET_DIR = Path("/usr/share/wordnet")
MAX_CASES_PER_TERM = 5
_EXTRACTOR_VERSION = 1


@dataclass(frozen=True)
class Sentence:
    id: str
    text: str
    source: str


@dataclass(frozen=True)
class GoldEdit:
    """A spun span: `spun_text[start:end] == spun`, and `original` is what it replaced."""

    start: int
    end: int
    spun: str
    original: str


@dataclass(frozen=True)
class TorturedCase:
    id: str
    clean_text: str
    spun_text: str
    edits: tuple[GoldEdit, ...]
    term: str  # the correct term (lower case) the case was built from
    source: str


# --------------------------------------------------------------------------- PPS pairs


def pps_dir(path: str | os.PathLike[str] | None = None) -> Path:
    """The PPS data folder: `path`, else $UNSPIN_PPS_DIR, else shared/data/pps beside the repo."""
    if path is not None:
        folder = Path(path)
    elif os.environ.get("UNSPIN_PPS_DIR"):
        folder = Path(os.environ["UNSPIN_PPS_DIR"])
    else:
        repo = Path(__file__).resolve().parents[3]
        folder = repo.parent / "shared" / "data" / "pps"
    if folder.is_file():  # a path to the pairs file itself
        folder = folder.parent
    if not (folder / PAIRS_FILE).is_file():
        raise ResourceMissing(
            f"the PPS tortured-phrase list is not at {folder / PAIRS_FILE}",
            hint="pass its folder (pps_path=...) or set UNSPIN_PPS_DIR to the folder holding "
            f"{PAIRS_FILE} (the Problematic Paper Screener pairs, giladfeldman/torturedcheck)",
        )
    return folder


_ACRONYM_RE = re.compile(r"\s*\(([a-z0-9\-]{2,10})\)$")
_FORM_RE = re.compile(r"[a-z0-9][a-z0-9 '\-]*[a-z0-9]")


def _normalise_term(term: str) -> str:
    return " ".join(term.lower().split())


def load_pairs(path: str | os.PathLike[str] | None = None) -> dict[str, tuple[str, ...]]:
    """correct term -> its tortured forms, raw (before the context-term filter), from PPS."""
    file = pps_dir(path) / PAIRS_FILE
    data = json.loads(file.read_text(encoding="utf-8"))
    phrases = data["phrases"] if isinstance(data, dict) else data
    pairs: dict[str, list[str]] = defaultdict(list)
    for item in phrases:
        correct = _normalise_term(item.get("correct", ""))
        tortured = _normalise_term(item.get("tortured", ""))
        if "?" in correct or "?" in tortured:
            continue
        correct = _ACRONYM_RE.sub("", correct)
        if "(" in correct or ")" in correct:
            continue
        if not _FORM_RE.fullmatch(correct) or not _FORM_RE.fullmatch(tortured):
            continue
        if tortured != correct and tortured not in pairs[correct]:
            pairs[correct].append(tortured)
    return {term: tuple(forms) for term, forms in pairs.items() if forms}


# --------------------------------------------------------------------------- sentences


_SKIP_SECTIONS = re.compile(
    r"(examples?|see also|references?|citations?|bibliography|usage|example usage|raises|yields|"
    r"returns?|shape|attributes|methods|todo|versionadded|versionchanged)",
    re.IGNORECASE,
)
_SECTION_RE = re.compile(r"^\s*([A-Za-z][A-Za-z ]{1,30}?)\s*:{0,2}\s*$")
_PARAM_LINE_RE = re.compile(r"^\s*\**[A-Za-z_][\w, .*]*\s:\s*\S")  # numpydoc "name : type"
_GOOGLE_ARG_RE = re.compile(r"^\s*\**[A-Za-z_][\w.]*\**\s*(\([^)]*\))?\s*:\s+")  # "name (`type`): "
_BAD_CHARS_RE = re.compile(r"[`=_\\\[\]{}<>|#@~^$*/%&+]|\w\(|\.\.|https?:|www\.|\s[a-z]\s*\)|::")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_WORD_RE = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*")


def _clean_sentences(paragraph: str) -> Iterator[str]:
    text = " ".join(paragraph.split())
    for sentence in _SENTENCE_SPLIT_RE.split(text):
        words = sentence.split()
        if not 6 <= len(words) <= 60 or not sentence[:1].isupper() or not sentence.endswith("."):
            continue
        if _BAD_CHARS_RE.search(sentence) or sentence.count("(") != sentence.count(")"):
            continue
        visible = [c for c in sentence if not c.isspace()]
        if sum(c.isalpha() for c in visible) / len(visible) < 0.85:
            continue
        if not sentence.isascii() or re.search(r"\b(e\.g|i\.e|etc|cf|vs|al|Eq|Fig)\.$", sentence):
            continue
        yield sentence


def docstring_paragraphs(docstring: str) -> Iterator[str]:
    """The prose paragraphs of one docstring (numpydoc or Google style)."""
    lines = docstring.splitlines()
    skipping = False
    paragraph: list[str] = []
    for index, line in enumerate(lines):
        following = lines[index + 1] if index + 1 < len(lines) else ""
        header = _SECTION_RE.match(line)
        underlined = bool(re.fullmatch(r"\s*[-=~^]{3,}\s*", following))
        if header and (underlined or line.rstrip().endswith(":")):
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            skipping = bool(_SKIP_SECTIONS.fullmatch(header.group(1).strip()))
            continue
        stripped = line.strip()
        if not stripped or re.fullmatch(r"[-=~^]{3,}", stripped):
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            continue
        if skipping:
            continue
        if stripped.startswith((">>>", "...", "..", ":", "$", "#", "-", "*", "|")):
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            continue
        if _PARAM_LINE_RE.match(line):
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            continue
        google = _GOOGLE_ARG_RE.match(line)
        if google:
            if paragraph:
                yield " ".join(paragraph)
                paragraph = []
            stripped = line[google.end():].strip()
        paragraph.append(stripped)
    if paragraph:
        yield " ".join(paragraph)


def _docstrings(package: str) -> Iterator[str]:
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        return
    root = Path(spec.origin).parent
    for file in sorted(root.rglob("*.py")):
        parts = set(file.relative_to(root).parts)
        if parts & {"tests", "test", "testing", "benchmarks", "_vendor", "externals"}:
            continue
        try:
            tree = ast.parse(file.read_bytes())
        except (SyntaxError, ValueError, OSError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
                docstring = ast.get_docstring(node, clean=True)
                if docstring:
                    yield docstring


def _docstring_sentences(package: str) -> Iterator[str]:
    """The clean prose sentences of every docstring of `package`."""
    for docstring in _docstrings(package):
        for paragraph in docstring_paragraphs(docstring):
            yield from _clean_sentences(paragraph)


def _wordnet_glosses(folder: Path) -> Iterator[str]:
    for pos in ("noun", "verb", "adj", "adv"):
        file = folder / f"data.{pos}"
        if not file.is_file():
            continue
        with open(file, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith(" ") or "|" not in line:
                    continue
                for part in line.split("|", 1)[1].split(";"):
                    part = part.strip().strip('"').strip()
                    if part:
                        # Definitions are fragments ("a machine that computes"); give them a
                        # sentence's shape so the same filter applies. Examples are sentences.
                        part = part[:1].upper() + part[1:]
                        yield part if part.endswith((".", "!", "?")) else part + "."


def _package_version(package: str) -> str | None:
    if importlib.util.find_spec(package) is None:
        return None
    distribution = {"sklearn": "scikit-learn"}.get(package, package)
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def sources_used() -> dict[str, str]:
    """source name -> version, for the sources present on this machine."""
    sources = {}
    for package in DOCSTRING_PACKAGES:
        version = _package_version(package)
        if version is not None:
            sources[f"docstrings:{package}"] = version
    if (WORDNET_DIR / "data.noun").is_file():
        sources["wordnet"] = "3.0 (Debian wordnet-base)"
    return sources


@lru_cache(maxsize=1)
def sentences() -> tuple[Sentence, ...]:
    """Every clean technical sentence available here, deduplicated, in a stable order.

    Extraction takes about half a minute; the result is cached on disk, keyed by the versions of
    the sources, and rebuilt when any of them changes.
    """
    sources = sources_used()
    key = hashlib.sha256(json.dumps([_EXTRACTOR_VERSION, sources], sort_keys=True).encode()).hexdigest()[:16]
    cache = cache_dir("technical") / f"sentences-{key}.json"
    if cache.is_file():
        rows = json.loads(cache.read_text(encoding="utf-8"))["sentences"]
        return tuple(Sentence(*row) for row in rows)
    if not sources:
        raise ResourceMissing(
            "no technical text found: none of the documented packages nor WordNet is installed",
            hint="pip install numpy scipy scikit-learn, or apt-get install wordnet-base",
        )
    seen: set[str] = set()
    found: list[Sentence] = []

    def add(text: str, source: str) -> None:
        norm = text.lower()
        if norm not in seen:
            seen.add(norm)
            digest = hashlib.sha1(norm.encode()).hexdigest()[:12]
            found.append(Sentence(f"{source}/{digest}", text, source))

    for package in DOCSTRING_PACKAGES:
        if f"docstrings:{package}" not in sources:
            continue
        for sentence in _docstring_sentences(package):
            add(sentence, f"docstrings:{package}")
    if "wordnet" in sources:
        for gloss in _wordnet_glosses(WORDNET_DIR):
            for sentence in _clean_sentences(gloss):
                add(sentence, "wordnet")
    payload = {"sources": sources, "extractor": _EXTRACTOR_VERSION, "sentences": [[s.id, s.text, s.source] for s in found]}
    atomic_write_text(cache, json.dumps(payload))
    log.info("extracted %d technical sentences from %s", len(found), ", ".join(sources))
    return tuple(found)


def training_sentences(split: str) -> list[Sentence]:
    """Clean technical sentences of `split` from TRAINING_DOCSTRING_PACKAGES, in a stable order,
    none of which is a sentence of the evaluation's own sources (`sentences`)."""
    _check_split(split)
    evaluated = {s.text.lower() for s in sentences()}
    seen: set[str] = set()
    found = []
    for package in TRAINING_DOCSTRING_PACKAGES:
        for sentence in _docstring_sentences(package):
            norm = sentence.lower()
            if norm in seen or norm in evaluated:
                continue
            seen.add(norm)
            id = f"train-docstrings:{package}/{hashlib.sha1(norm.encode()).hexdigest()[:12]}"
            if split_of(id) == split:
                found.append(Sentence(id, sentence, f"docstrings:{package}"))
    return found


# --------------------------------------------------------------------------- term matching


def _word_spans(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(), m.start(), m.end()) for m in _WORD_RE.finditer(text.lower())]


class _TermIndex:
    """Whole-word, case-insensitive lookup of many multi-word terms in a text."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(terms)
        self.longest: dict[str, int] = {}
        for term in self.terms:
            first, n = term.split()[0], len(term.split())
            self.longest[first] = max(self.longest.get(first, 0), n)

    def find(self, text: str) -> Iterator[tuple[str, int, int]]:
        """(term, start, end) for each occurrence; terms may overlap."""
        words = _word_spans(text)
        for i, (word, _, _) in enumerate(words):
            longest = self.longest.get(word)
            if longest is None:
                continue
            for n in range(1, min(longest, len(words) - i) + 1):
                # Hyphens and apostrophes live inside words; a term's words are space-separated.
                candidate = " ".join(w for w, _, _ in words[i:i + n])
                if candidate in self.terms:
                    start, end = words[i][1], words[i + n - 1][2]
                    # Only single spaces may separate the words of the occurrence in the text.
                    if " ".join(text[start:end].lower().split()) == candidate:
                        yield candidate, start, end


def _carry_case(original: str, replacement: str) -> str:
    """`replacement` in the capitalisation of `original` (UPPER, Title Case, Capital, lower)."""
    letters = [c for c in original if c.isalpha()]
    if len(letters) > 1 and all(c.isupper() for c in letters):
        return replacement.upper()
    words = original.split()
    if len(words) > 1 and all(word[:1].isupper() for word in words):
        return " ".join(word[:1].upper() + word[1:] for word in replacement.split())
    if original[:1].isupper():
        return replacement[:1].upper() + replacement[1:]
    return replacement


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12], 16)


def usable_pairs(path: str | os.PathLike[str] | None = None) -> dict[str, tuple[str, ...]]:
    """The pairs kept for evaluation: context terms and real phrases removed (see module doc)."""
    return _usable_pairs(str(pps_dir(path) / PAIRS_FILE))


@lru_cache(maxsize=4)
def _usable_pairs(file: str) -> dict[str, tuple[str, ...]]:
    pairs = load_pairs(Path(file).parent)
    correct_terms = frozenset(pairs)
    all_forms = _TermIndex(form for forms in pairs.values() for form in forms)
    in_clean = Counter(term for s in sentences() for term, _, _ in all_forms.find(s.text))
    kept: dict[str, tuple[str, ...]] = {}
    for term, forms in pairs.items():
        good = tuple(f for f in forms if f not in correct_terms and not in_clean[f])
        if good:
            kept[term] = good
    return kept


@lru_cache(maxsize=4)
def _cases_and_splits(file: str) -> tuple[tuple[tuple[str, TorturedCase], ...], dict[str, str]]:
    """All tortured cases with their splits, and sentence id -> split for the sentences used."""
    pairs = _usable_pairs(file)
    terms = _TermIndex(pairs)
    by_term: dict[str, list[tuple[Sentence, int, int]]] = defaultdict(list)
    for sentence in sentences():
        occurrences = list(terms.find(sentence.text))
        if not occurrences:
            continue
        # One case per sentence: the longest term found, then the first; ties broken by text.
        term, start, end = max(occurrences, key=lambda o: (len(o[0]), -o[1]))
        by_term[term].append((sentence, start, end))
    cases: list[tuple[str, TorturedCase]] = []
    sentence_split: dict[str, str] = {}
    for term in sorted(by_term):
        split = split_of(f"pps-term:{term}")
        chosen = sorted(by_term[term], key=lambda item: _hash(term, item[0].id))[:MAX_CASES_PER_TERM]
        for sentence, start, end in chosen:
            forms = pairs[term]
            form = forms[_hash("form", sentence.id, term) % len(forms)]
            original = sentence.text[start:end]
            spun = _carry_case(original, form)
            spun_text = sentence.text[:start] + spun + sentence.text[end:]
            edit = GoldEdit(start, start + len(spun), spun, original)
            case = TorturedCase(f"{sentence.id}:{term}", sentence.text, spun_text, (edit,), term, sentence.source)
            cases.append((split, case))
            sentence_split[sentence.id] = split
    return tuple(cases), sentence_split


def tortured_cases(
    pairs_path: str | os.PathLike[str] | None = None, split: str = "dev", *, limit: int | None = None
) -> list[TorturedCase]:
    """The tortured cases of `split`, in a stable order (at most `limit` of them)."""
    _check_split(split)
    file = str(pps_dir(pairs_path) / PAIRS_FILE)
    cases = [case for case_split, case in _cases_and_splits(file)[0] if case_split == split]
    return cases[:limit] if limit is not None else cases


def clean_technical(
    split: str, *, words: int = 300, pairs_path: str | os.PathLike[str] | None = None
) -> list[Document]:
    """Clean technical sentences of `split`, grouped into documents of about `words` words.

    A sentence's split is the split of the tortured case built from it, if any (needs the PPS
    list: without it, every sentence's split comes from its own id), else a hash of its id.
    Sentences are grouped by source, one per paragraph, in a stable hashed order.
    """
    _check_split(split)
    try:
        used = _cases_and_splits(str(pps_dir(pairs_path) / PAIRS_FILE))[1]
    except ResourceMissing:
        used = {}
    chosen = [s for s in sentences() if used.get(s.id, split_of(s.id)) == split]
    chosen.sort(key=lambda s: (s.source, _hash("order", s.id)))
    return list(_group(chosen, words))


def _group(items: Sequence[Sentence], words: int) -> Iterable[Document]:
    current: list[Sentence] = []
    count = 0
    for item in items:
        if current and (item.source != current[0].source or count >= words):
            yield _as_document(current)
            current, count = [], 0
        current.append(item)
        count += len(item.text.split())
    if current:
        yield _as_document(current)


def _as_document(items: Sequence[Sentence]) -> Document:
    digest = hashlib.sha1("\0".join(s.id for s in items).encode()).hexdigest()[:12]
    return Document(f"technical/{items[0].source}/{digest}", "\n\n".join(s.text for s in items), items[0].source)


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}", hint=f"use one of {', '.join(SPLITS)}")


def summary(pairs_path: str | os.PathLike[str] | None = None) -> dict[str, dict[str, int]]:
    """Per split: tortured cases, distinct terms, clean sentences and words."""
    result = {}
    for split in SPLITS:
        cases = tortured_cases(pairs_path, split)
        clean = clean_technical(split, pairs_path=pairs_path)
        result[split] = {
            "cases": len(cases),
            "terms": len({case.term for case in cases}),
            "clean_documents": len(clean),
            "clean_words": sum(len(doc.text.split()) for doc in clean),
        }
    return result
