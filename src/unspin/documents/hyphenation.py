"""Joining lines of a PDF text box, undoing end-of-line hyphenation where it was a line break.

"profo-" / "und" becomes "profound"; "well-" / "known" stays "well-known". The decision uses word
frequencies (wordfreq), in this order:

1. a soft hyphen (U+00AD) always joins: it only ever marks a break;
2. a digit or a capital after the break keeps the hyphen ("COVID-19", "non-Euclidean");
3. if the joined form is a common word (Zipf ≥ 3, e.g. "information", "profound") it joins;
4. if both halves are words of their own (Zipf ≥ 2.5: "well" + "known", "long" + "term",
   "the" + "art" of "state-of-the-art") it keeps the hyphen: a compound;
5. otherwise the halves are syllables ("immunohisto" + "chemistry") and it joins.

Rule 4 trades a few wrong "data-sets" for never welding "decision-making" into "decisionmaking".
"""

from __future__ import annotations

import re
from functools import lru_cache

HYPHENS = ("-", "\u2010", "\u00ad")  # hyphen-minus, hyphen, soft hyphen
COMMON = 3.0
WORD = 2.5
_LEFT = re.compile(r"([^\W\d_]+)[-\u2010\u00ad]$")
_RIGHT = re.compile(r"^([^\W_]+)")


@lru_cache(maxsize=65536)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word.lower(), "en")


def keep_hyphen(left: str, right: str) -> bool:
    """Whether "left-" at a line end followed by "right" is a real hyphenated compound."""
    if not right or right[0].isdigit() or right[0].isupper():
        return True
    if not right.isalpha():
        return True
    if _zipf(left + right) >= COMMON:
        return False
    return _zipf(left) >= WORD and _zipf(right) >= WORD


def join_lines(lines: list[str]) -> tuple[str, list[tuple[int, int, str]]]:
    """The lines of one paragraph as one line, and the repairs made: (start, end, original) with
    `text[start:end]` the joined word and `original` what the lines said ("profo-\\nund")."""
    text = ""
    repairs: list[tuple[int, int, str]] = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if not text:
            text = line
            continue
        left = _LEFT.search(text)
        right = _RIGHT.match(line)
        if left is not None and right is not None:
            hyphen = text[-1]
            fragment, tail = left.group(1), right.group(1)
            soft = hyphen == "\u00ad"
            if soft or not keep_hyphen(fragment, tail):
                start = len(text) - len(fragment) - 1
                text = text[:-1] + line
                repairs.append((start, start + len(fragment) + len(tail), f"{fragment}{hyphen}\n{tail}"))
            else:
                text = text + line  # "well-" + "known": the hyphen stays, no space
            continue
        text = f"{text} {line}"
    return text, repairs
