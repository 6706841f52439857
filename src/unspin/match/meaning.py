"""The rerank score: how much of a query's content a candidate holds, synonyms counting in part.

MinHash sees a swapped word as simply different. A reader sees "hebdomad" and "week" as the same
content, and so should the rerank: each query term scores its IDF in full when the candidate
holds the same term, and `alpha` times the IDF of the candidate's term when the candidate holds a
term the thesaurus links to it (each candidate term is used once, best pairs first). The sum is
normalised like a cosine over binary IDF-weighted term sets:

    similarity = (exact + alpha * linked) / sqrt(W(query) * W(candidate)),   W(S) = sum of idf over S

which is 1 for identical term sets and 0 for disjoint ones. Linked matches use the candidate
term's IDF, not the query term's: the spinner's replacements are often rare words ("hebdomad"),
whose high IDF would otherwise reward any candidate that holds a common synonym.

IDF = ln((N + 1) / (df + 1)) + 1 over the indexed documents; a term no document holds gets the
largest value, ln(N + 1) + 1.

Terms are kept as 64-bit hashes (`canonical.stable_hash`), so the index never stores strings for
them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from unspin.match.canonical import Canonicaliser, Unit, stable_hash


class TermStats:
    """Document frequencies of the indexed terms: sorted unique hashes and their counts."""

    def __init__(self, hashes: np.ndarray, df: np.ndarray, documents: int) -> None:
        self.hashes = np.asarray(hashes, dtype=np.uint64)
        self.df = np.asarray(df)
        self.documents = int(documents)
        self._base = math.log(self.documents + 1)

    def idf(self, hashes: np.ndarray) -> np.ndarray:
        hashes = np.asarray(hashes, dtype=np.uint64)
        if self.hashes.size == 0:
            return np.full(hashes.shape, self._base + 1.0)
        at = np.searchsorted(self.hashes, hashes)
        at_clipped = np.minimum(at, self.hashes.size - 1)
        found = self.hashes[at_clipped] == hashes
        df = np.where(found, self.df[at_clipped], 0).astype(np.float64)
        return np.log((self.documents + 1) / (df + 1)) + 1.0


@dataclass(frozen=True)
class Profile:
    """A query (or query sentence) ready to score: its unique term hashes with their IDF, and
    every thesaurus neighbour of each term, sorted (`links`), with the term it belongs to
    (`owners`, a position in `terms`)."""

    terms: np.ndarray  # uint64, sorted unique
    idf: np.ndarray
    links: np.ndarray  # uint64, sorted
    owners: np.ndarray  # int64, index into terms
    weight: float  # W(query)

    @property
    def empty(self) -> bool:
        return self.terms.size == 0


_HASHES: dict[str, int] = {}


def term_hash(term: str) -> int:
    value = _HASHES.get(term)
    if value is None:
        if len(_HASHES) > 2_000_000:
            _HASHES.clear()
        value = _HASHES[term] = stable_hash(term)
    return value


def term_hashes(terms: Sequence[str]) -> np.ndarray:
    return np.fromiter((term_hash(t) for t in terms), dtype=np.uint64, count=len(terms))


def profile(units: Sequence[Unit], canon: Canonicaliser | None, stats: TermStats, links: bool = True) -> Profile:
    """Score-ready form of a text's content units (`canon` None or `links` False: exact matches only)."""
    by_hash: dict[int, Unit] = {}
    for unit in units:
        if unit.content:
            by_hash.setdefault(term_hash(unit.term), unit)
    terms = np.array(sorted(by_hash), dtype=np.uint64)
    idf = stats.idf(terms)
    link_parts: list[np.ndarray] = []
    owner_parts: list[np.ndarray] = []
    if links and canon is not None:
        for position, h in enumerate(terms.tolist()):
            found = canon.neighbour_hashes(by_hash[h])
            link_parts.append(found)
            owner_parts.append(np.full(found.size, position, dtype=np.int64))
    if link_parts:
        all_links, all_owners = np.concatenate(link_parts), np.concatenate(owner_parts)
        order = np.argsort(all_links, kind="stable")
        all_links, all_owners = all_links[order], all_owners[order]
    else:
        all_links, all_owners = np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    return Profile(terms, idf, all_links, all_owners, float(idf.sum()))


def similarity(query: Profile, doc_terms: np.ndarray, doc_weight: float, stats: TermStats, alpha: float) -> float:
    """The rerank score of one candidate (its sorted unique term hashes and W(candidate))."""
    if query.empty or doc_terms.size == 0 or doc_weight <= 0:
        return 0.0
    exact_mask = _member(query.terms, doc_terms)
    exact = float(query.idf[exact_mask].sum())
    linked = 0.0
    if alpha > 0 and query.links.size and not exact_mask.all():
        # The candidate's terms that no query term matches exactly, looked up among the links.
        free = doc_terms[~_member(doc_terms, query.terms)]
        lo = np.searchsorted(query.links, free, side="left")
        hi = np.searchsorted(query.links, free, side="right")
        hit = hi > lo
        if hit.any():
            owners: list[int] = []
            targets: list[int] = []
            for target, a, b in zip(free[hit].tolist(), lo[hit].tolist(), hi[hit].tolist()):
                for owner in query.owners[a:b].tolist():
                    if not exact_mask[owner]:
                        owners.append(owner)
                        targets.append(target)
            if owners:
                target_array = np.array(targets, dtype=np.uint64)
                linked = _greedy(np.array(owners), target_array, stats.idf(target_array))
    return (exact + alpha * linked) / math.sqrt(query.weight * doc_weight)


def _member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
    at = np.searchsorted(sorted_set, values)
    at = np.minimum(at, sorted_set.size - 1)
    return sorted_set[at] == values


def _greedy(owners: np.ndarray, targets: np.ndarray, weights: np.ndarray) -> float:
    """Sum of weights of a greedy one-to-one matching of query terms to candidate terms."""
    order = np.argsort(-weights, kind="stable")
    used_owner: set[int] = set()
    used_target: set[int] = set()
    total = 0.0
    for i in order.tolist():
        o, t = int(owners[i]), int(targets[i])
        if o in used_owner or t in used_target:
            continue
        used_owner.add(o)
        used_target.add(t)
        total += float(weights[i])
    return total


__all__ = ["Profile", "TermStats", "profile", "similarity", "term_hash", "term_hashes"]
