"""Split text into word tokens with code-point offsets into the text exactly as given.

Every offset unspin reports comes from here, so `text[token.start:token.end] == token.text`
always holds; nothing is normalised before offsets are taken.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# A word: letters, with inner apostrophes or hyphens ("don't", "state-of-the-art").
WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
# What may stand between two words when the second opens a sentence (or a heading line).
SENTENCE_GAP_RE = re.compile(r"[.!?:;]['\"”’)\]]*\s|\n")


@dataclass(frozen=True, slots=True)
class Token:
    text: str
    start: int
    end: int
    index: int  # position among the words of the text
    sentence_start: bool  # first word of a sentence or line: its capital tells nothing

    @property
    def lower(self) -> str:
        return self.text.lower()


def tokenize(text: str) -> list[Token]:
    """The words of `text`, in order, with offsets and sentence-start flags."""
    tokens: list[Token] = []
    last_end = 0
    for match in WORD_RE.finditer(text):
        gap = text[last_end:match.start()]
        opens_sentence = not tokens or SENTENCE_GAP_RE.search(gap) is not None
        tokens.append(Token(match.group(), match.start(), match.end(), len(tokens), opens_sentence))
        last_end = match.end()
    return tokens


def covered(tokens: list[Token], start: int, end: int) -> list[int]:
    """Indices of the words that overlap characters [start, end) (a gold swap, a finding)."""
    return [t.index for t in tokens if t.start < end and t.end > start]


def match_case(template: str, word: str) -> str:
    """`word` written with the capitalisation pattern of `template` ("Profound" -> "Deep")."""
    if template.isupper() and len(template) > 1:
        return word.upper()
    if template[:1].isupper():
        return word[:1].upper() + word[1:]
    return word
