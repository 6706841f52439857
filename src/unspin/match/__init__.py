"""Source finding: which document a spun text was made from (`unspin match`).

Spin-robust fingerprints: each text is canonicalised (lemmas, thesaurus phrases as one unit;
`canonical`) and shingled into its content terms and the n-grams of its function-word
skeleton, which a spinner leaves alone; the shingles are min-hashed (`minhash`) and the
signatures banded into an LSH index saved on disk (`index`); a query's LSH candidates are
reranked by an IDF-weighted overlap that counts thesaurus synonyms as partial matches
(`meaning`) together with the estimated Jaccard similarity, and the best sources get their
passages aligned with the query's (`align`). `corpus` reads folders and JSONL files.

    >>> from unspin.match import build_index, load_index       # doctest: +SKIP
    >>> build_index([("a", "Deep learning ..."), ...], "corpus.idx")
    >>> load_index("corpus.idx").query(spun_text, k=5)

Nothing heavy is imported until a function is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from unspin.match.align import AlignedPassage
    from unspin.match.index import Index, IndexParams, Match, QueryParams

_EXPORTS = {
    "build_index": "unspin.match.index",
    "load_index": "unspin.match.index",
    "find_sources": "unspin.match.index",
    "Index": "unspin.match.index",
    "IndexParams": "unspin.match.index",
    "QueryParams": "unspin.match.index",
    "Match": "unspin.match.index",
    "IndexMismatch": "unspin.match.index",
    "IndexUnreadable": "unspin.match.index",
    "AlignedPassage": "unspin.match.align",
    "align": "unspin.match.align",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'unspin.match' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)


__all__ = [
    "AlignedPassage", "Index", "IndexMismatch", "IndexParams", "IndexUnreadable", "Match", "QueryParams",
    "align", "build_index", "find_sources", "load_index",
]
