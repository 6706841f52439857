"""Where a word stands in its sentence: the context both engines score candidates in."""

from __future__ import annotations

from unspin.detect.candidates import IDIOM_SOURCE, LM_SOURCE
from unspin.lexicon import SOURCE_BITS
from unspin.text.tokenize import Token


def sentence_ids(tokens: list[Token]) -> list[int]:
    ids, current = [], -1
    for token in tokens:
        current += token.sentence_start
        ids.append(current)
    return ids


def left_context(lower: list[str], sentence: list[int], i: int) -> tuple[str | None, str | None]:
    """(prev2, prev1) inside the sentence, with the sentence-start marker where it begins."""
    words = [lower[k] for k in (i - 2, i - 1) if k >= 0 and sentence[k] == sentence[i]]
    words = (["<s>"] + words)[-2:]
    return (words[0], words[1]) if len(words) == 2 else (None, words[0])


def right_context(lower: list[str], sentence: list[int], j: int) -> list[str]:
    """The two words after a span, whose probabilities change when the span does."""
    if j == 0:
        return []
    words = []
    for k in (j, j + 1):
        if k >= len(lower) or sentence[k] != sentence[j - 1]:
            return words + ["</s>"]
        words.append(lower[k])
    return words


def source_names(mask: int) -> list[str]:
    names = {**{bit: name for name, bit in SOURCE_BITS.items()}, LM_SOURCE: "language model", IDIOM_SOURCE: "idioms"}
    mask = (mask | mask >> 8) & 0xFF
    return [name for bit, name in names.items() if mask & bit]
