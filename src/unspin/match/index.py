"""The source-finding index: build once, save to a folder, load, query.

Build (`build_index`): each document is canonicalised (`canonical`) and turned into a set of
shingles of two kinds that a spinner cannot change much:

- its canonical content terms (lemmas, thesaurus phrases as one term): the words a spinner
  left alone (at a 40 % rate, most of them);
- the 6-grams of its function-word *skeleton*: the words with every content unit replaced by
  one placeholder ("* in the * of * that *"). A spinner swaps content units one for one and
  never touches function words, so the skeleton survives any substitution rate; it is what
  keeps a spun copy findable when most content words changed (the idea of SpotSigs, Theobald
  et al., SIGIR 2008, which anchors near-duplicate signatures on stopwords).

The set is min-hashed (`minhash`) and the signature cut into LSH bands. The folder also keeps
what the rerank and the alignment need: each document's canonical term hashes, the document
frequency of every term, and the ids and texts.

Query (`Index.query`): the query is canonicalised the same way, as a whole, in its restored
form if asked (fast engine), and per paragraph when it has several (a spun text made from
several sources); the bands of each view are looked up; the candidates are ordered by estimated
Jaccard similarity (the best over the views) and the best `candidates` reranked by
`(meaning + w * Jaccard) / (1 + w)`, where meaning is `meaning.similarity` (IDF-weighted
overlap of content terms, thesaurus synonyms counting in part). When no LSH candidate is
convincing (a short query, or one made from a small part of a source), every signature is
compared instead, in indexes of up to a million documents. The top k get aligned passages.

`IndexParams(shingles="raw", ngrams=(3,))` gives the plain baseline instead: lower-cased word
3-grams of the raw text, function words included, no thesaurus; query it with
`QueryParams(rerank="jaccard")`.

The folder (format `unspin.match-index/1`):

    manifest.json          format, unspin version, parameters, counts, corpus sha256, thesaurus
                           fingerprint, and the size and sha256 of every array file
    signatures.npy         (documents, num_perm) uint32 MinHash signatures
    band_keys.npy          (bands, documents) uint32: each band's keys, sorted
    band_docs.npy          (bands, documents) uint32: the document of each sorted key
    doc_terms.npy          uint64 term hashes, each document's sorted unique set, concatenated
    doc_term_offsets.npy   (documents + 1) int64 into doc_terms
    doc_weights.npy        (documents,) float64: sum of the IDF of each document's terms
    term_hashes.npy        sorted unique uint64 term hashes; term_df.npy their document frequency
    ids.npy, id_offsets.npy      UTF-8 ids, concatenated, and their byte offsets
    texts.npy, text_offsets.npy  UTF-8 texts, concatenated, and their byte offsets

Everything loads with `np.load(allow_pickle=False)`, memory-mapped. An index is written into a
temporary sibling folder (the manifest last, through `atomic_write_bytes`) and renamed into
place, so a crash never leaves a half-written index where a complete one is expected. Loading
refuses another format, missing or truncated files, and — when the caller says which
parameters it expects — an index built with other ones (`IndexMismatch`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from unspin.errors import InputError, UsageError
from unspin.match.align import MIN_SIMILARITY, AlignedPassage, align
from unspin.match.canonical import (
    CANONICAL_VERSION,
    MAX_CLASS_KEYS,
    WORD_RE,
    Canonicaliser,
    Unit,
    get_canonicaliser,
)
from unspin.match.meaning import TermStats, profile, similarity, term_hash, term_hashes
from unspin.match.minhash import (
    EMPTY,
    MinHasher,
    band_keys,
    combine,
    jaccard_estimate,
    mix64,
)
from unspin.resources import atomic_write_bytes, current_umask, file_sha256

if TYPE_CHECKING:
    from unspin.model import Report

log = logging.getLogger(__name__)

FORMAT = "unspin.match-index/1"
MANIFEST = "manifest.json"
BATCH = 2000  # documents canonicalised and min-hashed together
_ARRAYS = ("signatures", "band_keys", "band_docs", "doc_terms", "doc_term_offsets", "doc_weights",
           "term_hashes", "term_df", "ids", "id_offsets", "texts", "text_offsets")
# Class-key shingles are tagged so that a key never collides with a term of the same spelling.
_TAG_KEY = "\x01k"


class IndexMismatch(UsageError):
    """An index built with other parameters (or another corpus) than the ones asked for."""

    reference = "match-index-mismatch"


class IndexUnreadable(InputError):
    """A folder that is not a complete, readable index of this format."""

    reference = "match-index-unreadable"


@dataclass(frozen=True)
class IndexParams:
    """What an index is built with; an index answers only queries made the same way.

    shingles: "canonical" (spin-robust) or "raw" (the plain baseline).
    ngrams: which n-grams of content units (canonical) or lower-cased words (raw) are shingles.
    skeleton: which n-grams of the function-word skeleton are shingles (canonical only): the
        text's words with every content unit replaced by one placeholder ("in the * of * *
        that"). A spinner swaps content units one for one, so the skeleton survives any rate.
    class_keys: synonym-class keys per content term added as shingles (canonical only).
    """

    shingles: str = "canonical"
    ngrams: tuple[int, ...] = (1,)
    skeleton: tuple[int, ...] = (6,)
    class_keys: int = 0
    phrases: bool = True
    num_perm: int = 256
    bands: int = 128
    rows: int = 2
    seed: int = 1
    thesaurus: tuple[str, ...] = ("moby", "wordnet")
    canonical: str = CANONICAL_VERSION

    def __post_init__(self) -> None:
        if self.shingles not in ("canonical", "raw"):
            raise UsageError(f"unknown shingles {self.shingles!r}", "use canonical or raw")
        if any(not 1 <= n <= 8 for n in self.ngrams + self.skeleton):
            raise UsageError(f"n-gram sizes must be 1 to 8, got {self.ngrams} and {self.skeleton}")
        if not self.ngrams and not (self.skeleton and self.shingles == "canonical"):
            raise UsageError("no shingles: give n-gram or skeleton sizes")
        if not 0 <= self.class_keys <= MAX_CLASS_KEYS:
            raise UsageError(f"class_keys must be 0 to {MAX_CLASS_KEYS}, got {self.class_keys}")
        if self.num_perm < 1 or self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            raise UsageError(f"{self.bands} bands of {self.rows} rows do not fit {self.num_perm} permutations",
                             "bands * rows must be at most num_perm")
        if "mythes" in self.thesaurus:
            raise UsageError("MyThes is the evaluation spinner's dictionary", "index with moby and wordnet")

    def to_json(self) -> dict[str, Any]:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexParams:
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise IndexUnreadable(f"index parameters unknown to this version: {', '.join(unknown)}",
                                  "rebuild the index with this version of unspin")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@dataclass(frozen=True)
class QueryParams:
    """How a query is answered (not part of the index: any index takes any of these).

    candidates: LSH candidates (best estimated Jaccard first) passed to the rerank.
    rerank: "meaning": (m + jaccard_weight * J) / (1 + jaccard_weight), where m is the rerank
        score of `meaning.similarity` (IDF-weighted overlap of canonical terms, thesaurus synonyms
        counting `alpha`) and J the estimated Jaccard similarity of the shingle sets (which holds
        the function-word skeleton the content terms lack); or "jaccard": J alone.
    restore: "off", or "fast" (restore the query with the fast engine and add its restored words).
    max_bucket: LSH buckets holding more documents than this are skipped (they say little and
        cost much on a large index); 0 = no limit.
    exhaustive_below: when no LSH candidate reaches this estimated Jaccard similarity (weak
        evidence: a short query, or one made from a small part of a source), compare the query's
        signatures with every document's instead; 0 = never.
    exhaustive_limit: ... but only in indexes of at most this many documents (the scan reads
        every signature: about 0.2 s per million documents and view on one core).
    """

    candidates: int = 100
    rerank: str = "meaning"
    alpha: float = 0.25
    jaccard_weight: float = 2.0
    restore: str = "off"
    max_bucket: int = 5000
    exhaustive_below: float = 0.2
    exhaustive_limit: int = 1_000_000
    align: bool = True
    min_similarity: float = MIN_SIMILARITY

    def __post_init__(self) -> None:
        if self.rerank not in ("meaning", "jaccard"):
            raise UsageError(f"unknown rerank {self.rerank!r}", "use meaning or jaccard")
        if self.restore not in ("off", "fast"):
            raise UsageError(f"unknown restore {self.restore!r}", "use off or fast")
        if self.candidates < 1:
            raise UsageError("candidates must be at least 1")
        if not 0.0 <= self.alpha <= 1.0:
            raise UsageError(f"alpha must be between 0 and 1, got {self.alpha}")


@dataclass(frozen=True)
class Match:
    """One likely source of a query.

    similarity: the final score (the rerank score, or the estimated Jaccard with rerank "jaccard").
    jaccard: MinHash estimate of the Jaccard similarity of the shingle sets.
    collisions: LSH bands shared with the query (0 when found by the exhaustive fallback).
    candidate_rank: rank among the LSH candidates before the rerank (1 = best Jaccard).
    """

    id: str
    rank: int
    similarity: float
    jaccard: float
    collisions: int
    candidate_rank: int
    position: int  # the document's position in the index
    passages: tuple[AlignedPassage, ...] = ()
    found_by: str = "lsh"  # "scan" when LSH found nothing convincing and every signature was compared

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "rank": self.rank, "similarity": round(self.similarity, 4),
                "jaccard": round(self.jaccard, 4), "collisions": self.collisions,
                "candidate_rank": self.candidate_rank, "found_by": self.found_by, "passages": [p.to_dict() for p in self.passages]}


# --- shingles ------------------------------------------------------------------------------------

def _raw_words(text: str) -> list[str]:
    return [m.group().lower() for m in WORD_RE.finditer(text)]


def _ngram_hashes(hashes: np.ndarray, ngrams: tuple[int, ...], tag: int = 0) -> list[np.ndarray]:
    """Hashes of the n-grams of a hash sequence, one array per n; `tag` keeps kinds apart."""
    parts = []
    for n in ngrams:
        if hashes.size < n:
            continue
        h = mix64(hashes[: hashes.size - n + 1] ^ np.uint64(tag * 16 + n))
        for k in range(1, n):
            h = combine(h, hashes[k: hashes.size - n + 1 + k])
        parts.append(h)
    return parts


_CONTENT, _SKELETON = 1, 2
_PLACEHOLDER = "\x00*"


class Shingler:
    """Text -> (shingle hashes, canonical term hashes) under one set of `IndexParams`."""

    def __init__(self, params: IndexParams) -> None:
        self.params = params
        self._canon: Canonicaliser | None = None
        self._key_hash: dict[str, np.ndarray] = {}

    @property
    def canon(self) -> Canonicaliser:
        if self._canon is None:
            self._canon = get_canonicaliser(self.params.thesaurus, self.params.phrases)
        return self._canon

    def units(self, text: str) -> list[Unit]:
        """Content units and function words (the skeleton needs both)."""
        return self.canon.units(text, function_words=True)

    def shingles(self, text: str, units: list[Unit] | None = None) -> np.ndarray:
        """The sorted unique shingle hashes of a text (`units` from `self.units`, if at hand)."""
        p = self.params
        if p.shingles == "raw":
            parts = _ngram_hashes(term_hashes(_raw_words(text)), p.ngrams)
        else:
            units = self.units(text) if units is None else units
            content = [u.term for u in units if u.content]
            parts = _ngram_hashes(term_hashes(content), p.ngrams, _CONTENT)
            if p.skeleton:
                skeleton = [u.term if not u.content else _PLACEHOLDER for u in units]
                parts.extend(_ngram_hashes(term_hashes(skeleton), p.skeleton, _SKELETON))
            if p.class_keys:
                parts.extend(self._keys(t) for t in content)
        return np.unique(np.concatenate(parts)) if parts else np.empty(0, dtype=np.uint64)

    def _keys(self, term: str) -> np.ndarray:
        cached = self._key_hash.get(term)
        if cached is None:
            keys = self.canon.class_keys(term, self.params.class_keys)
            cached = np.array([term_hash(f"{_TAG_KEY}{j}\x01{key}") for j, key in enumerate(keys)], dtype=np.uint64)
            self._key_hash[term] = cached
        return cached


# --- building ------------------------------------------------------------------------------------

def build_index(documents: Iterable[tuple[Any, str]], path: str | os.PathLike[str], params: IndexParams | None = None,
                *, force: bool = False, progress: Callable[[int], None] | None = None) -> Index:
    """Index `(id, text)` pairs into the folder `path` and return the loaded index.

    Ids are stored as strings. `path` must not exist (or be empty) unless `force`, which
    replaces it once the new index is complete.
    """
    params = params or IndexParams()
    path = Path(path)
    if path.exists() and not force and (not path.is_dir() or any(path.iterdir())):
        raise UsageError(f"{path} already exists", "add --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    shingler = Shingler(params)
    hasher = MinHasher(params.num_perm, params.seed)
    corpus = hashlib.sha256()
    signatures: list[np.ndarray] = []
    doc_terms: list[np.ndarray] = []
    ids: list[bytes] = []
    texts: list[bytes] = []
    start = time.perf_counter()
    batch: list[tuple[str, str]] = []
    count = 0

    def flush() -> None:
        shingle_sets = []
        for _, text in batch:
            units = shingler.units(text) if params.shingles == "canonical" else None
            shingle_sets.append(shingler.shingles(text, units))
            terms = [u.term for u in units if u.content] if units is not None else _raw_words(text)
            doc_terms.append(np.unique(term_hashes(terms)))
        offsets = np.zeros(len(shingle_sets) + 1, dtype=np.int64)
        np.cumsum([s.size for s in shingle_sets], out=offsets[1:])
        flat = np.concatenate(shingle_sets) if shingle_sets else np.empty(0, dtype=np.uint64)
        signatures.append(hasher.signatures(flat, offsets))
        batch.clear()

    for doc_id, text in documents:
        if not isinstance(text, str):
            raise InputError(f"document {doc_id!r}: text is not a string")
        doc_id = str(doc_id)
        id_bytes, text_bytes = doc_id.encode("utf-8", "surrogatepass"), text.encode("utf-8", "surrogatepass")
        corpus.update(len(id_bytes).to_bytes(8, "little") + id_bytes + len(text_bytes).to_bytes(8, "little") + text_bytes)
        ids.append(id_bytes)
        texts.append(text_bytes)
        batch.append((doc_id, text))
        count += 1
        if len(batch) >= BATCH:
            flush()
            if progress is not None:
                progress(count)
    if batch:
        flush()
    if count == 0:
        raise InputError("no documents to index", "give a folder of text files or a JSONL file with documents")
    if progress is not None:
        progress(count)
    arrays = _assemble(params, np.concatenate(signatures), doc_terms, ids, texts)
    thesaurus = None
    if params.shingles == "canonical":
        thesaurus = {"sources": list(params.thesaurus), "fingerprint": shingler.canon.thesaurus.fingerprint()}
    manifest = {
        "format": FORMAT,
        "unspin_version": _version(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "params": params.to_json(),
        "documents": count,
        "empty_documents": int((arrays["signatures"][:, 0] == EMPTY).sum()),
        "terms": int(arrays["term_hashes"].size),
        "corpus_sha256": corpus.hexdigest(),
        "thesaurus": thesaurus,
        "build_seconds": round(time.perf_counter() - start, 3),
    }
    _write(path, arrays, manifest, force=force)
    log.info("indexed %d documents into %s in %.1f s", count, path, time.perf_counter() - start)
    return load_index(path)


def _assemble(params: IndexParams, signatures: np.ndarray, doc_terms: list[np.ndarray], ids: list[bytes],
              texts: list[bytes]) -> dict[str, np.ndarray]:
    n = signatures.shape[0]
    keys = np.empty((params.bands, n), dtype=np.uint32)
    for lo in range(0, n, 65536):  # bounded memory: the banding works in uint64
        keys[:, lo:lo + 65536] = band_keys(signatures[lo:lo + 65536], params.bands, params.rows).T
    empty = signatures[:, 0] == EMPTY
    # Empty documents (no words) get the all-ones key, which no query looks up.
    keys[:, empty] = np.uint32(0xFFFFFFFF)
    order = np.argsort(keys, axis=1, kind="stable").astype(np.uint32)
    keys = np.take_along_axis(keys, order.astype(np.int64), axis=1)
    term_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum([t.size for t in doc_terms], out=term_offsets[1:])
    flat_terms = np.concatenate(doc_terms) if doc_terms else np.empty(0, dtype=np.uint64)
    vocab, df = np.unique(flat_terms, return_counts=True)
    stats = TermStats(vocab, df, n)
    idf = stats.idf(flat_terms)
    weights = np.zeros(n, dtype=np.float64)
    nonempty = term_offsets[1:] > term_offsets[:-1]
    if flat_terms.size:
        weights[nonempty] = np.add.reduceat(idf, term_offsets[:-1][nonempty])
    return {
        "signatures": signatures.astype(np.uint32), "band_keys": keys, "band_docs": order,
        "doc_terms": flat_terms, "doc_term_offsets": term_offsets, "doc_weights": weights,
        "term_hashes": vocab.astype(np.uint64), "term_df": df.astype(np.uint32),
        **_blob("ids", ids), **_blob("texts", texts, offsets_name="text_offsets"),
    }


def _blob(name: str, items: list[bytes], offsets_name: str | None = None) -> dict[str, np.ndarray]:
    offsets = np.zeros(len(items) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in items], out=offsets[1:])
    data = np.frombuffer(b"".join(items), dtype=np.uint8)
    return {name: data, offsets_name or f"{name[:-1]}_offsets": offsets}


def _write(path: Path, arrays: dict[str, np.ndarray], manifest: dict, *, force: bool) -> None:
    tmp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"))
    try:
        files = {}
        for name in _ARRAYS:
            target = tmp / f"{name}.npy"
            np.save(target, arrays[name], allow_pickle=False)
            files[f"{name}.npy"] = {"bytes": target.stat().st_size, "sha256": file_sha256(target)}
        manifest["files"] = files
        atomic_write_bytes(tmp / MANIFEST, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
        os.chmod(tmp, 0o755 & ~current_umask())
        if path.exists():
            if not force:
                raise UsageError(f"{path} already exists", "add --force to replace it")
            old = path.with_name(f".{path.name}.old-{os.getpid()}")
            os.replace(path, old)  # a folder is replaced in two renames; the old one goes last
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _version() -> str:
    from unspin.version import __version__

    return __version__


# --- loading -------------------------------------------------------------------------------------

def is_index(path: str | os.PathLike[str]) -> bool:
    """Whether `path` is a folder holding an index manifest (of any format)."""
    return (Path(path) / MANIFEST).is_file()


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    path = Path(path)
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexUnreadable(f"{path} is not a source-finding index (no {MANIFEST})",
                              "build one with `unspin match --against CORPUS --index DIR`") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IndexUnreadable(f"{path / MANIFEST} cannot be read: {err}", "rebuild the index") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise IndexUnreadable(f"{path}: index format {found!r}, this unspin reads {FORMAT!r}", "rebuild the index")
    return manifest


def load_index(path: str | os.PathLike[str], params: IndexParams | None = None, *, verify: bool = False) -> Index:
    """Open the index in `path` (memory-mapped). With `params`, refuse an index built otherwise;
    with `verify`, check every file's sha256 (reads them all)."""
    path = Path(path)
    manifest = read_manifest(path)
    built = IndexParams.from_json(manifest.get("params", {}))
    if params is not None and params != built:
        differ = [k for k in asdict(params) if getattr(params, k) != getattr(built, k)]
        details = ", ".join(f"{k}={getattr(built, k)!r} (asked {getattr(params, k)!r})" for k in differ)
        raise IndexMismatch(f"{path} was built with other parameters: {details}",
                            "rebuild it (unspin match --rebuild), or open it without asking for parameters")
    arrays = {}
    for name in _ARRAYS:
        file = path / f"{name}.npy"
        expected = manifest.get("files", {}).get(f"{name}.npy", {})
        try:
            size = file.stat().st_size
        except OSError:
            raise IndexUnreadable(f"{path}: {file.name} is missing", "rebuild the index") from None
        if size != expected.get("bytes"):
            raise IndexUnreadable(f"{path}: {file.name} has {size} bytes, the manifest says {expected.get('bytes')}",
                                  "the index is damaged or was changed; rebuild it")
        if verify and file_sha256(file) != expected.get("sha256"):
            raise IndexUnreadable(f"{path}: {file.name} does not match its sha256", "rebuild the index")
        try:
            arrays[name] = np.load(file, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as err:
            raise IndexUnreadable(f"{path}: {file.name} cannot be read: {err}", "rebuild the index") from None
    n = int(manifest.get("documents", -1))
    if arrays["signatures"].shape != (n, built.num_perm) or arrays["band_keys"].shape != (built.bands, n):
        raise IndexUnreadable(f"{path}: array shapes do not match the manifest", "rebuild the index")
    return Index(path, manifest, built, arrays)


class Index:
    """A loaded index. `query(text, k)` returns the k likeliest sources of a (spun) text."""

    def __init__(self, path: Path, manifest: dict[str, Any], params: IndexParams, arrays: dict[str, np.ndarray]) -> None:
        self.path = path
        self.manifest = manifest
        self.params = params
        # Plain ndarray views of the memory maps: indexing a np.memmap costs more per call.
        self._a = {name: np.asarray(array) for name, array in arrays.items()}
        self.stats = TermStats(self._a["term_hashes"], self._a["term_df"], manifest["documents"])
        self.shingler = Shingler(params)
        self.hasher = MinHasher(params.num_perm, params.seed)
        self._checked_thesaurus = False

    def __len__(self) -> int:
        return int(self.manifest["documents"])

    def __repr__(self) -> str:
        return f"Index({str(self.path)!r}, documents={len(self)}, shingles={self.params.shingles!r})"

    def id(self, position: int) -> str:
        return self._string("ids", "id_offsets", position)

    def text(self, position: int) -> str:
        return self._string("texts", "text_offsets", position)

    def _string(self, blob: str, offsets: str, position: int) -> str:
        lo, hi = int(self._a[offsets][position]), int(self._a[offsets][position + 1])
        return bytes(self._a[blob][lo:hi]).decode("utf-8", "surrogatepass")

    # -- querying --

    def query(self, text: str, k: int = 5, *, params: QueryParams | None = None, restored: str | None = None
              ) -> list[Match]:
        """The k likeliest sources of `text`, best first.

        `restored`: the text with its spun words restored (e.g. a report's `restored`), used as
        extra evidence; with `params.restore == "fast"` and none given, it is computed here.
        """
        params = params or QueryParams()
        if k < 1:
            raise UsageError(f"k must be at least 1, got {k}")
        self._check_thesaurus()
        canonical = self.params.shingles == "canonical"
        if restored is None and params.restore == "fast" and canonical:
            restored = restore_fast(text)
        if restored is not None and (restored == text or not canonical):
            restored = None
        # Views of the query, each min-hashed on its own: the text, its restored form, and the
        # paragraphs (or ~WINDOW_WORDS-word runs of sentences) of a long one, so that a source of
        # one part of the query is not drowned by the rest.
        views = [text] + ([restored] if restored is not None else [])
        views += [w for view in list(views) for w in _windows(view)]
        units = [self.shingler.units(v) if canonical else None for v in views]
        signatures = self.hasher.signatures(*_flatten([self.shingler.shingles(v, u) for v, u in zip(views, units)]))
        positions, collisions = self._candidates(signatures, params.max_bucket)
        estimate = self._estimate(signatures, positions)
        found_by = "lsh"
        if (params.exhaustive_below > 0 and len(self) <= params.exhaustive_limit
                and (positions.size == 0 or estimate.max() < params.exhaustive_below)):
            found_by = "scan"
            positions, collisions = self._everything(signatures, positions, collisions)
            estimate = self._estimate(signatures, positions)
        if positions.size == 0:
            return []
        order = np.lexsort((positions, -collisions, -estimate))[: params.candidates]
        positions, collisions, estimate = positions[order], collisions[order], estimate[order]
        if params.rerank == "meaning":
            if canonical:
                # The whole query (with its restored words) and each window on its own: a source
                # of one part of a long query is judged against that part.
                extra = units[1] if restored is not None else []
                first_window = 2 if restored is not None else 1
                profiles = [profile(units[0] + extra, self.shingler.canon, self.stats)]
                profiles += [profile(u, self.shingler.canon, self.stats) for u in units[first_window:]]
            else:
                profiles = [self._raw_profile(text)]
            meaning = np.array([max(self._score(prof, int(p), params.alpha) for prof in profiles) for p in positions])
            scores = (meaning + params.jaccard_weight * estimate) / (1.0 + params.jaccard_weight)
        else:
            scores = estimate
        final = np.lexsort((np.arange(scores.size), -scores))[:k]
        matches = []
        for rank, i in enumerate(final.tolist(), start=1):
            position = int(positions[i])
            passages: tuple[AlignedPassage, ...] = ()
            if params.align and canonical:
                passages = tuple(align(text, self.text(position), self.shingler.canon, self.stats,
                                       alpha=params.alpha, min_similarity=params.min_similarity, restored=restored))
            matches.append(Match(self.id(position), rank, float(scores[i]), float(estimate[i]), int(collisions[i]),
                                 i + 1, position, passages, found_by))
        return matches

    def _estimate(self, signatures: np.ndarray, positions: np.ndarray) -> np.ndarray:
        """The best estimated Jaccard similarity of each document (sorted positions) with a view."""
        estimate = np.zeros(positions.size)
        if positions.size:
            candidate_sigs = np.asarray(self._a["signatures"][positions])
            for sig in signatures:
                if sig[0] != EMPTY:
                    estimate = np.maximum(estimate, jaccard_estimate(sig, candidate_sigs))
        return estimate

    def _candidates(self, signatures: np.ndarray, max_bucket: int) -> tuple[np.ndarray, np.ndarray]:
        """Documents sharing a band with any of the signatures, and the most bands shared with one."""
        table, docs = self._a["band_keys"], self._a["band_docs"]
        best_positions = np.empty(0, dtype=np.int64)
        best_counts = np.empty(0, dtype=np.int64)
        for signature in signatures:
            if signature[0] == EMPTY:
                continue
            keys = band_keys(signature[None, :], self.params.bands, self.params.rows)[0]
            found = []
            for band, key in enumerate(keys.tolist()):
                row = table[band]
                lo = int(np.searchsorted(row, key, side="left"))
                hi = int(np.searchsorted(row, key, side="right"))
                if hi > lo and (max_bucket <= 0 or hi - lo <= max_bucket):
                    found.append(np.asarray(docs[band][lo:hi]))
            if found:
                positions, counts = np.unique(np.concatenate(found).astype(np.int64), return_counts=True)
                best_positions, best_counts = _merge_max(best_positions, best_counts, positions, counts)
        return best_positions, best_counts

    def _everything(self, signatures: np.ndarray, positions: np.ndarray, collisions: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Every document with any signature position agreeing with a view (LSH found too few)."""
        live = signatures[signatures[:, 0] != EMPTY]
        if live.size == 0:
            return positions, collisions
        agree = np.zeros(len(self), dtype=bool)
        sigs = self._a["signatures"]
        step = 65536
        for lo in range(0, len(self), step):
            block = np.asarray(sigs[lo:lo + step])
            for sig in live:
                agree[lo:lo + step] |= (block == sig[None, :]).any(axis=1)
        every = np.flatnonzero(agree).astype(np.int64)
        return _merge_max(every, np.zeros(every.size, dtype=np.int64), positions, collisions)

    def _raw_profile(self, text: str):
        from unspin.match.meaning import Profile

        terms = np.unique(term_hashes(_raw_words(text)))
        idf = self.stats.idf(terms)
        return Profile(terms, idf, np.empty(0, np.uint64), np.empty(0, np.int64), float(idf.sum()))

    def _score(self, prof, position: int, alpha: float) -> float:
        offsets = self._a["doc_term_offsets"]
        terms = np.asarray(self._a["doc_terms"][int(offsets[position]):int(offsets[position + 1])])
        return similarity(prof, terms, float(self._a["doc_weights"][position]), self.stats, alpha)

    def _check_thesaurus(self) -> None:
        if self._checked_thesaurus or self.params.shingles != "canonical":
            return
        self._checked_thesaurus = True
        recorded = (self.manifest.get("thesaurus") or {}).get("fingerprint")
        current = self.shingler.canon.thesaurus.fingerprint()
        if recorded and recorded != current:
            log.warning("%s was built with other thesaurus files (an upgraded package?); results may be "
                        "slightly worse until it is rebuilt", self.path)

    def describe(self) -> dict[str, Any]:
        m = self.manifest
        return {"path": str(self.path), "format": m["format"], "documents": m["documents"],
                "corpus_sha256": m["corpus_sha256"], "unspin_version": m["unspin_version"],
                "params": m["params"]}


WINDOW_WORDS = 150


def _windows(text: str) -> list[str]:
    """The parts of a long query worth min-hashing on their own: its paragraphs (blank-line
    separated) when it has several, else runs of sentences of about WINDOW_WORDS words when it is
    longer than twice that; [] for a short single paragraph."""
    from unspin.match.align import sentences

    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    if len(paragraphs) > 1:
        return paragraphs
    if len(text.split()) <= 2 * WINDOW_WORDS:
        return []
    out, current, words = [], [], 0
    for a, b in sentences(text):
        current.append(text[a:b])
        words += len(text[a:b].split())
        if words >= WINDOW_WORDS:
            out.append(" ".join(current))
            current, words = [], 0
    if current:
        out.append(" ".join(current))
    return out


def _flatten(sets: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    offsets = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum([s.size for s in sets], out=offsets[1:])
    return (np.concatenate(sets) if sets else np.empty(0, dtype=np.uint64)), offsets


def _merge_max(p1: np.ndarray, c1: np.ndarray, p2: np.ndarray, c2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Union of two sorted position sets, keeping the larger count of each."""
    if p1.size == 0:
        return p2, c2
    if p2.size == 0:
        return p1, c1
    positions = np.concatenate([p1, p2])
    counts = np.concatenate([c1, c2])
    order = np.lexsort((-counts, positions))
    positions, counts = positions[order], counts[order]
    first = np.r_[True, positions[1:] != positions[:-1]]
    return positions[first], counts[first]


def restore_fast(text: str) -> str:
    """The text restored by the fast engine (thesauri + n-grams; about 2,000 words/s)."""
    from unspin.pipeline import get_checker

    return get_checker(mode="fast").check(text).restored


def find_sources(items: Iterable[tuple[Report, str]], index: Index, *, k: int = 1,
                 verdicts: tuple[str, ...] = ("spun", "suspect"), params: QueryParams | None = None
                 ) -> Iterator[tuple[Report, list[Match]]]:
    """For `unspin screen --against`: the likeliest sources of each flagged document.

    `items` are (report, text) pairs as screening produces them; a report whose verdict is in
    `verdicts` is queried with its text and its `restored` text (no second restoration), the
    others get []. Yields (report, matches) in input order.
    """
    params = params or QueryParams()
    params = replace(params, restore="off")
    for report, text in items:
        if report.verdict in verdicts:
            yield report, index.query(text, k=k, params=params, restored=report.restored)
        else:
            yield report, []


def corpus_sha256(documents: Iterable[tuple[Any, str]]) -> str:
    """The corpus hash an index records for these documents (same order, ids as strings)."""
    digest = hashlib.sha256()
    for doc_id, text in documents:
        id_bytes, text_bytes = str(doc_id).encode("utf-8", "surrogatepass"), text.encode("utf-8", "surrogatepass")
        digest.update(len(id_bytes).to_bytes(8, "little") + id_bytes + len(text_bytes).to_bytes(8, "little") + text_bytes)
    return digest.hexdigest()


__all__ = [
    "FORMAT",
    "Index",
    "IndexMismatch",
    "IndexParams",
    "IndexUnreadable",
    "Match",
    "QueryParams",
    "Shingler",
    "build_index",
    "corpus_sha256",
    "find_sources",
    "is_index",
    "load_index",
    "read_manifest",
    "restore_fast",
]
