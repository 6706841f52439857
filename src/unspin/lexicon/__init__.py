"""Data access for unspin: thesauri, inflection and function words. Nothing loads at import time."""

from unspin.lexicon.morph import FORMS, analyses, can_take, inflect
from unspin.lexicon.stopwords import FUNCTION_WORDS, is_function_word
from unspin.lexicon.thesaurus import (
    DEFAULT_SOURCES, MAX_WORDS, MOBY, MYTHES, SOURCE_BITS, WORDNET, Thesaurus, load_thesaurus,
)

__all__ = [
    "Thesaurus", "load_thesaurus", "MOBY", "WORDNET", "MYTHES", "SOURCE_BITS", "DEFAULT_SOURCES",
    "MAX_WORDS", "analyses", "inflect", "can_take", "FORMS", "FUNCTION_WORDS", "is_function_word",
]
