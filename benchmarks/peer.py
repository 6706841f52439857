"""Adapter for the baseline peer, the PyPI package `TorturePhrases_Estimator` (4.0, MIT).

What the peer does (read from its installed source, `TorturePhrases_Estimator/torture_phrases.py`):
`TorturePhrasesEstimator()` reads `tortured_phrases_list.txt` (147,517 lines; 5,729 distinct once
lower-cased, the duplicates are kept) into a Python list; `identify_tortured_phrases(text)` lower-cases the text and, for
every line of the list in turn, tests `line in lower_text` (a plain substring test: no word
boundaries, no tokenising, duplicates tested again). It returns `(found_lines, count)`. It only
detects; it suggests no original wording.

Its README calls the module-level `identify_tortured_phrases(text)`, which builds a new
`TorturePhrasesEstimator` (re-reading the list) on every call. The class allows loading once, so
`peer_check` does that: the list is read on the first call (or by `load_peer()`, outside the
timed loop), which is the fastest way to use the peer. `peer_check_as_documented` is the
README's way, kept for comparison.

Caveat on what it finds: 18,830 lines (12.8 %) are search queries rather than phrases
("profound learning AND deep learning"); the whole line, " and " included, is what gets looked
for, so those lines match almost nothing. The first line is the file's header ("Tortured Phrases").
The list targets scientific writing (mostly computing), so on general English it finds little.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import metadata

DISTRIBUTION = "TorturePhrases_Estimator"


@lru_cache(maxsize=1)
def load_peer():  # noqa: ANN201 - the peer's class is untyped
    """The peer's estimator with its phrase list read once; raises ImportError when not installed."""
    from TorturePhrases_Estimator.torture_phrases import TorturePhrasesEstimator

    return TorturePhrasesEstimator()


def peer_check(text: str) -> tuple[list[str], int]:
    """The peer's detection on `text`: (matched list lines, their count), list loaded once."""
    return load_peer().identify_tortured_phrases(text)


def peer_check_as_documented(text: str) -> tuple[list[str], int]:
    """The call the peer's README shows: re-reads its phrase list on every call."""
    from TorturePhrases_Estimator import identify_tortured_phrases

    return identify_tortured_phrases(text)


def peer_description() -> dict[str, object]:
    """Version and list size of the installed peer, for the benchmark's record."""
    estimator = load_peer()
    phrases = estimator.tortured_phrases
    return {
        "distribution": DISTRIBUTION,
        "version": metadata.version(DISTRIBUTION),
        "list_lines": len(phrases),
        "distinct_lines": len(set(phrases)),
        "algorithm": "lower-case the text, then `line in text` for every line of the list",
    }
