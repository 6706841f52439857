"""English function words: the closed-class words spinners leave alone and unspin never flags.

Spinners swap content words (nouns, verbs, adjectives, adverbs) for thesaurus entries; the
grammatical skeleton of a sentence stays. Thesauri still list synonyms for many function words
("about" -> "approximately", "but" -> "merely"), so both the simulator and the detectors skip
these. Hand-written, lower case; contractions appear with a straight apostrophe.
"""

from __future__ import annotations

_ARTICLES_DETERMINERS = """
a an the this that these those each every either neither some any no none all both half several
many much more most few fewer fewest little less least enough such what whatever which whichever
another other others own same
"""
_PRONOUNS = """
i me my mine myself we us our ours ourselves you your yours yourself yourselves he him his himself
she her hers herself it its itself they them their theirs themselves one ones oneself who whom
whose whoever whomever someone somebody something anyone anybody anything everyone everybody
everything nobody nothing noone
"""
_PREPOSITIONS = """
about above across after against along amid amidst among amongst around as at before behind below
beneath beside besides between beyond but by concerning despite down during except for from in
inside into like near of off on onto opposite out outside over past per regarding since than
through throughout till to toward towards under underneath unlike until unto up upon versus via
with within without
"""
_CONJUNCTIONS = """
and or nor so yet if unless because although though whereas while whilst whether once lest
whenever wherever however therefore thus hence
"""
_AUXILIARIES = """
be am is are was were been being have has had having do does did doing done will would shall
should can could may might must ought need dare
"""
_ADVERBS_PARTICLES = """
not no yes very too also just only even still already ever never always often sometimes then
there here where when why how now again almost quite rather else perhaps maybe indeed
away back ago
"""
_CONTRACTIONS = """
i'm i've i'll i'd you're you've you'll you'd he's he'll he'd she's she'll she'd it's it'll we're
we've we'll we'd they're they've they'll they'd that's there's here's what's who's let's
isn't aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't shan't
shouldn't can't cannot couldn't mustn't mightn't needn't
"""

FUNCTION_WORDS: frozenset[str] = frozenset(
    " ".join((_ARTICLES_DETERMINERS, _PRONOUNS, _PREPOSITIONS, _CONJUNCTIONS, _AUXILIARIES,
              _ADVERBS_PARTICLES, _CONTRACTIONS)).split()
)


def is_function_word(word: str) -> bool:
    """True for a function word, whatever its case or apostrophe (’ or ')."""
    return word.lower().replace("\u2019", "'") in FUNCTION_WORDS


__all__ = ["FUNCTION_WORDS", "is_function_word"]
