"""Aligned passages: which sentences of a source a spun text's sentences were made from.

Both texts are cut into sentences; each query sentence is scored against every source sentence
with the rerank score (`meaning.similarity`: IDF-weighted overlap of canonical terms, thesaurus
synonyms counting in part) and paired with its best one when that reaches `min_similarity`.
Runs of query sentences paired with consecutive source sentences (in order) are merged into one
passage, so a copied paragraph shows as one block rather than sentence by sentence.

Offsets are Python code-point offsets into the texts as given: `text[start:end]` is the passage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from unspin.match.canonical import Canonicaliser
from unspin.match.meaning import TermStats, profile, similarity, term_hashes

# A sentence ends at . ! ? (and any closing quotes or brackets) before white space, or at a line break.
_SENTENCE_END_RE = re.compile(r"[.!?]+['\"”’)\]]*(?=\s)|\n\s*")
MIN_SIMILARITY = 0.25


@dataclass(frozen=True, slots=True)
class AlignedPassage:
    """A passage of the query, the passage of the source it matches, and how well."""

    query_start: int
    query_end: int
    query_text: str
    source_start: int
    source_end: int
    source_text: str
    similarity: float

    def to_dict(self) -> dict:
        return {"query": {"start": self.query_start, "end": self.query_end, "text": self.query_text},
                "source": {"start": self.source_start, "end": self.source_end, "text": self.source_text},
                "similarity": round(self.similarity, 4)}


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence of `text`, surrounding white space excluded."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END_RE.finditer(text):
        end = match.end() if not match.group().isspace() else match.start()
        _add(spans, text, start, end)
        start = match.end()
    _add(spans, text, start, len(text))
    return spans


def _add(spans: list[tuple[int, int]], text: str, start: int, end: int) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if end > start:
        spans.append((start, end))


def align(query: str, source: str, canon: Canonicaliser, stats: TermStats, *, alpha: float = 0.5,
          min_similarity: float = MIN_SIMILARITY, restored: str | None = None) -> list[AlignedPassage]:
    """The passages of `query` that match passages of `source`, in query order.

    `restored` (optional) is the query with its spun words restored, sentence for sentence; its
    words count as extra evidence only where the sentence splits of both agree.
    """
    q_spans = sentences(query)
    s_spans = sentences(source)
    if not q_spans or not s_spans:
        return []
    extra: list[list] = [[] for _ in q_spans]
    if restored is not None:
        r_spans = sentences(restored)
        if len(r_spans) == len(q_spans):
            extra = [canon.units(restored[a:b]) for a, b in r_spans]
    source_terms = []
    for a, b in s_spans:
        hashes = np.unique(term_hashes(canon.terms(source[a:b])))
        source_terms.append((hashes, float(stats.idf(hashes).sum())))
    pairs: list[tuple[int, int, float]] = []  # (query sentence, source sentence, similarity)
    for qi, (a, b) in enumerate(q_spans):
        prof = profile(canon.units(query[a:b]) + extra[qi], canon, stats)
        if prof.empty:
            continue
        scores = [similarity(prof, hashes, weight, stats, alpha) for hashes, weight in source_terms]
        best = int(np.argmax(scores))
        if scores[best] >= min_similarity:
            pairs.append((qi, best, scores[best]))
    return _merge(pairs, q_spans, s_spans, query, source)


def _merge(pairs: list[tuple[int, int, float]], q_spans, s_spans, query: str, source: str) -> list[AlignedPassage]:
    passages: list[AlignedPassage] = []
    run: list[tuple[int, int, float]] = []

    def flush() -> None:
        if not run:
            return
        qa, qb = q_spans[run[0][0]][0], q_spans[run[-1][0]][1]
        sa, sb = s_spans[run[0][1]][0], s_spans[run[-1][1]][1]
        score = sum(s for _, _, s in run) / len(run)
        passages.append(AlignedPassage(qa, qb, query[qa:qb], sa, sb, source[sa:sb], score))
        run.clear()

    for item in pairs:
        if run and not (item[0] == run[-1][0] + 1 and item[1] == run[-1][1] + 1):
            flush()
        run.append(item)
    flush()
    return passages


__all__ = ["MIN_SIMILARITY", "AlignedPassage", "align", "sentences"]
