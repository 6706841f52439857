"""English inflection: find the lemma and form of a word, and inflect a lemma to a form.

A spinner that swaps "networks" must write the synonym in the plural too, and a restorer must
undo that, so both directions are needed. The analysis follows WordNet's morphy: the exception
lists (`*.exc`) first, then suffix-detachment rules whose results count only when they are
WordNet lemmas (`index.*`). Generation uses a table of irregular verbs, the reversed exception
lists and the usual spelling rules; when several spellings are possible (brethren/brothers,
preferred/prefered), the one most frequent in wordfreq wins.

Forms: base, plural, 3sg, past, past_participle, gerund, comparative, superlative.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from unspin.errors import ResourceMissing, UsageError

WORDNET_DIR = Path("/usr/share/wordnet")
POS_FILES = {"noun": "noun", "verb": "verb", "adj": "adj", "adv": "adv"}
FORMS = ("base", "plural", "3sg", "past", "past_participle", "gerund", "comparative", "superlative")
VERB_FORMS = frozenset({"3sg", "past", "past_participle", "gerund"})
DEGREE_FORMS = frozenset({"comparative", "superlative"})

# Detachment rules (suffix, replacement, form) per part of speech: WordNet's morphy rules, plus
# -ied/-ier/-iest -> -y, which morphy leaves to the exception lists.
RULES: dict[str, tuple[tuple[str, str, str], ...]] = {
    "noun": (("s", "", "plural"), ("ses", "s", "plural"), ("xes", "x", "plural"), ("zes", "z", "plural"),
             ("ches", "ch", "plural"), ("shes", "sh", "plural"), ("men", "man", "plural"),
             ("ies", "y", "plural")),
    "verb": (("s", "", "3sg"), ("ies", "y", "3sg"), ("es", "e", "3sg"), ("es", "", "3sg"),
             ("ed", "e", "past"), ("ed", "", "past"), ("ied", "y", "past"),
             ("ing", "e", "gerund"), ("ing", "", "gerund")),
    "adj": (("er", "", "comparative"), ("est", "", "superlative"), ("er", "e", "comparative"),
            ("est", "e", "superlative"), ("ier", "y", "comparative"), ("iest", "y", "superlative")),
    "adv": (),
}

# Irregular verbs: base past past_participle ("/" separates variants, the usual one first).
# The WordNet exception list does not say which irregular form is the past and which the
# participle (began/begun), so the common verbs are spelled out here.
_IRREGULAR_VERBS = """
arise arose arisen|awake awoke awoken|be was/were been|bear bore borne/born|beat beat beaten
become became become|begin began begun|bend bent bent|bet bet bet|bid bid bid|bind bound bound
bite bit bitten|bleed bled bled|blow blew blown|break broke broken|breed bred bred|bring brought brought
broadcast broadcast broadcast|build built built|burn burned/burnt burned/burnt|burst burst burst
buy bought bought|cast cast cast|catch caught caught|choose chose chosen|cling clung clung|come came come
cost cost cost|creep crept crept|cut cut cut|deal dealt dealt|dig dug dug|do did done|draw drew drawn
dream dreamed/dreamt dreamed/dreamt|drink drank drunk|drive drove driven|dwell dwelt dwelt|eat ate eaten
fall fell fallen|feed fed fed|feel felt felt|fight fought fought|find found found|flee fled fled
fling flung flung|fly flew flown|forbid forbade forbidden|forecast forecast forecast|forget forgot forgotten
forgive forgave forgiven|freeze froze frozen|get got gotten/got|give gave given|go went gone
grind ground ground|grow grew grown|hang hung hung|have had had|hear heard heard|hide hid hidden
hit hit hit|hold held held|hurt hurt hurt|keep kept kept|kneel knelt knelt|know knew known|lay laid laid
lead led led|lean leaned/leant leaned/leant|leap leaped/leapt leaped/leapt|learn learned/learnt learned/learnt
leave left left|lend lent lent|let let let|lie lay lain|light lit/lighted lit/lighted|lose lost lost
make made made|mean meant meant|meet met met|mislead misled misled|mistake mistook mistaken
overcome overcame overcome|overtake overtook overtaken|pay paid paid|prove proved proven/proved|put put put
quit quit quit|read read read|rid rid rid|ride rode ridden|ring rang rung|rise rose risen|run ran run
say said said|see saw seen|seek sought sought|sell sold sold|send sent sent|set set set|sew sewed sewn
shake shook shaken|shed shed shed|shine shone shone|shoot shot shot|show showed shown|shrink shrank shrunk
shut shut shut|sing sang sung|sink sank sunk|sit sat sat|slay slew slain|sleep slept slept|slide slid slid
sling slung slung|slit slit slit|sow sowed sown|speak spoke spoken|speed sped sped|spend spent spent
spill spilled/spilt spilled/spilt|spin spun spun|spit spat spat|split split split|spread spread spread
spring sprang sprung|stand stood stood|steal stole stolen|stick stuck stuck|sting stung stung
stink stank stunk|stride strode stridden|strike struck struck|string strung strung|strive strove striven
swear swore sworn|sweep swept swept|swell swelled swollen|swim swam swum|swing swung swung|take took taken
teach taught taught|tear tore torn|tell told told|think thought thought|throw threw thrown|thrust thrust thrust
tread trod trodden|undergo underwent undergone|understand understood understood|undertake undertook undertaken
upset upset upset|wake woke woken|wear wore worn|weave wove woven|weep wept wept|win won won|wind wound wound
withdraw withdrew withdrawn|withhold withheld withheld|withstand withstood withstood|wring wrung wrung
write wrote written
"""
IRREGULAR_VERBS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
for _entry in _IRREGULAR_VERBS.replace("\n", "|").split("|"):
    if _entry.strip():
        _base, _past, _participle = _entry.split()
        IRREGULAR_VERBS[_base] = (tuple(_past.split("/")), tuple(_participle.split("/")))
del _entry, _base, _past, _participle

# Irregular verb forms the table and the rules do not cover: be, have, do.
_SPECIAL_VERB_FORMS = {("be", "3sg"): "is", ("have", "3sg"): "has", ("be", "gerund"): "being"}
_SPECIAL_ANALYSES = {"is": [("be", "3sg")], "am": [("be", "base")], "are": [("be", "base")],
                     "has": [("have", "3sg")], "being": [("be", "gerund")]}

_VOWELS = set("aeiou")
_SYLLABLE_RE = re.compile(r"[aeiouy]+")


def _wordnet_file(name: str) -> Path:
    path = WORDNET_DIR / name
    if not path.is_file():
        raise ResourceMissing(f"WordNet file not found: {path}", "apt-get install wordnet-base")
    return path


@lru_cache(maxsize=None)
def lemmas(pos: str) -> frozenset[str]:
    """The WordNet lemmas of a part of speech, lower case, with spaces (from index.<pos>)."""
    with open(_wordnet_file(f"index.{POS_FILES[pos]}"), encoding="utf-8") as handle:
        return frozenset(line.split(" ", 1)[0].replace("_", " ") for line in handle if not line.startswith("  "))


@lru_cache(maxsize=None)
def exceptions(pos: str) -> dict[str, tuple[str, ...]]:
    """WordNet's exception list for a part of speech: inflected form -> lemmas."""
    table: dict[str, tuple[str, ...]] = {}
    with open(_wordnet_file(f"{POS_FILES[pos]}.exc"), encoding="utf-8") as handle:
        for line in handle:
            parts = line.split()  # "form lemma [lemma...]", multiword entries joined by "_"
            if len(parts) >= 2:
                table[parts[0].replace("_", " ")] = tuple(p.replace("_", " ") for p in parts[1:])
    return table


@lru_cache(maxsize=None)
def _irregular_forms() -> dict[tuple[str, str], list[str]]:
    """(lemma, form) -> irregular spellings, from the verb table and the reversed exception lists."""
    table: dict[tuple[str, str], list[str]] = {}

    def add(lemma: str, form: str, spelling: str) -> None:
        spellings = table.setdefault((lemma, form), [])
        if spelling not in spellings:
            spellings.append(spelling)

    for base, (past, participle) in IRREGULAR_VERBS.items():
        for spelling in past:
            add(base, "past", spelling)
        for spelling in participle:
            add(base, "past_participle", spelling)
    for pos in ("noun", "verb", "adj", "adv"):
        for spelling, lemma_list in exceptions(pos).items():
            for lemma in lemma_list:
                if lemma == spelling:
                    continue
                for form in _exception_forms(pos, spelling, lemma):
                    if pos == "verb" and lemma.split(" ")[0] in IRREGULAR_VERBS and form in ("past", "past_participle"):
                        continue  # the hand table already says which is which
                    add(lemma, form, spelling)
    return table


def _exception_forms(pos: str, spelling: str, lemma: str) -> tuple[str, ...]:
    """Which form an exception-list spelling is; past and participle stay ambiguous for verbs."""
    if pos == "noun":
        return ("plural",)
    if pos == "verb":
        head = spelling.split(" ")[0]
        if head.endswith("ing"):
            return ("gerund",)
        if head.endswith("s") and not head.endswith("ss"):
            return ("3sg",)
        return ("past", "past_participle")
    head = spelling.split(" ")[-1]
    if head.endswith("st"):
        return ("superlative",)
    return ("comparative",)


def _add(results: list[tuple[str, str]], item: tuple[str, str]) -> None:
    if item not in results:
        results.append(item)


@lru_cache(maxsize=None)
def _irregular_verb_readings() -> dict[str, list[tuple[str, str]]]:
    readings: dict[str, list[tuple[str, str]]] = {}
    for base, (past, participle) in IRREGULAR_VERBS.items():
        for spellings, form in ((past, "past"), (participle, "past_participle")):
            for spelling in spellings:
                readings.setdefault(spelling, []).append((base, form))
    return readings


def analyses(word: str) -> list[tuple[str, str]]:
    """Every (lemma, form) reading of `word` that WordNet supports; ("word", "base") if it is a lemma.

    >>> analyses("networks")
    [('network', 'plural'), ('network', '3sg')]
    >>> analyses("went")
    [('go', 'past')]
    """
    return list(_analyses(" ".join(word.lower().split())))


@lru_cache(maxsize=65536)
def _analyses(word: str) -> tuple[tuple[str, str], ...]:
    if not word:
        return ()
    results: list[tuple[str, str]] = []
    if any(word in lemmas(pos) for pos in POS_FILES):
        _add(results, (word, "base"))
    for item in _SPECIAL_ANALYSES.get(word, ()):
        _add(results, item)
    for item in _irregular_verb_readings().get(word, ()):
        _add(results, item)
    for pos in ("noun", "verb", "adj", "adv"):
        for lemma in exceptions(pos).get(word, ()):
            if lemma == word:
                continue  # noun.exc lists "is is"
            for form in _exception_forms(pos, word, lemma):
                if pos == "verb" and lemma.split(" ")[0] in IRREGULAR_VERBS and form in ("past", "past_participle"):
                    continue  # the table says which (drawn a bead on: participle only)
                _add(results, (lemma, form))
        if " " not in word:
            for lemma, form in _detach(word, pos):
                _add(results, (lemma, form))
    if " " in word:
        # A phrase inflects on its head word: analyse that word alone and keep the readings whose
        # phrase is itself a lemma ("men of science" -> "man of science", "got over" -> "get over").
        words = word.split(" ")
        for pos, forms in _POS_FORMS:
            at = head_index(words, pos)
            for lemma, form in _analyses(words[at]):
                phrase = " ".join(words[:at] + [lemma] + words[at + 1:])
                if form in forms and phrase != word and phrase in lemmas(pos):
                    _add(results, (phrase, form))
    return tuple(results)


_POS_FORMS = (("noun", frozenset({"plural"})), ("verb", VERB_FORMS), ("adj", DEGREE_FORMS), ("adv", DEGREE_FORMS))
# Words after which a noun phrase's head has ended: "man of science", "jack in the box".
_PHRASE_BREAKS = frozenset({"of", "in", "on", "at", "for", "to", "with", "by", "from", "into", "de", "du", "la"})


def head_index(words: list[str], pos: str) -> int:
    """The word of a phrase that carries the inflection: verbs the first, nouns the last before
    a preposition ("men of science") or else the last, adjectives and adverbs the last."""
    if pos == "verb":
        return 0
    if pos == "noun":
        for k in range(1, len(words)):
            if words[k] in _PHRASE_BREAKS:
                return k - 1
    return len(words) - 1


def _detach(word: str, pos: str) -> list[tuple[str, str]]:
    """Morphy's detachment rules, kept when the result is a WordNet lemma of `pos`."""
    words = word.split(" ")
    at = head_index(words, pos)
    target = words[at]
    known = lemmas(pos)
    found: list[tuple[str, str]] = []
    for suffix, replacement, form in RULES[pos]:
        if not target.endswith(suffix) or len(target) <= len(suffix) + 1:
            continue
        stem = target[: len(target) - len(suffix)]
        candidate = stem + replacement
        lemma = " ".join(words[:at] + [candidate] + words[at + 1:])
        if lemma not in known and not replacement and len(stem) > 2 and stem[-1] == stem[-2] \
                and stem[-1] not in _VOWELS:
            # Undo consonant doubling (stopped -> stop), only when the doubled stem is no word (added).
            lemma = " ".join(words[:at] + [stem[:-1]] + words[at + 1:])
        if lemma in known and lemma != word:
            for f in (("past", "past_participle") if form == "past" else (form,)):
                if (lemma, f) not in found:
                    found.append((lemma, f))
    return found


def can_take(lemma: str, form: str) -> bool:
    """Whether WordNet has `lemma` in the part of speech that `form` belongs to.

    Nouns take the plural on their last word, verbs their forms on the first, adjectives and
    adverbs the degrees; "base" fits anything. Keeps "rattler" from becoming "rattlered".
    """
    if form == "base":
        return True
    words = " ".join(lemma.lower().split()).split(" ")
    if form == "plural":
        phrase = " ".join(words)
        if len(words) > 1 and any(phrase in lemmas(pos) for pos in POS_FILES):
            return phrase in lemmas("noun")  # WordNet knows the phrase: it must be a noun ("be due" is not)
        return words[head_index(words, "noun")] in lemmas("noun")
    if form in VERB_FORMS:  # a verb phrase must be one ("carry out"), not a noun that starts with a verb
        return (words[0] if len(words) == 1 else " ".join(words)) in lemmas("verb")
    if form in DEGREE_FORMS:
        return words[-1] in lemmas("adj") or words[-1] in lemmas("adv")
    raise UsageError(f"unknown form {form!r}", f"choose from {', '.join(FORMS)}")


def inflect(lemma: str, form: str) -> str:
    """`lemma` in `form`: "network" plural -> "networks", "go" past -> "went", "big" comparative -> "bigger".

    Nouns inflect the last word of a phrase ("neural networks"), verbs the first ("carried out");
    long adjectives take "more"/"most".
    """
    if form not in FORMS:
        raise UsageError(f"unknown form {form!r}", f"choose from {', '.join(FORMS)}")
    lemma = " ".join(lemma.lower().split())
    if form == "base" or not lemma:
        return lemma
    special = _SPECIAL_VERB_FORMS.get((lemma, form))
    if special:
        return special
    irregular = _irregular_forms().get((lemma, form), [])
    words = lemma.split(" ")
    if irregular and (len(words) > 1 or (lemma in IRREGULAR_VERBS and form in ("past", "past_participle"))):
        return irregular[0]
    if len(words) > 1:
        if form in DEGREE_FORMS:
            return ("more " if form == "comparative" else "most ") + lemma
        # Inflect the head word alone, through the same tables ("carry out" -> "carried out").
        at = head_index(words, "verb" if form in VERB_FORMS else "noun")
        words[at] = inflect(words[at], form)
        return " ".join(words)
    regular = _regular(lemma, form)
    candidates = irregular + ([regular] if regular not in irregular else [])
    if len(candidates) == 1:
        return candidates[0]
    return max(candidates, key=_frequency)  # max keeps the first of equals: irregulars first


def _frequency(word: str) -> float:
    from wordfreq import zipf_frequency  # imported only when two spellings compete

    return zipf_frequency(word, "en")


def _syllables(word: str) -> int:
    count = len(_SYLLABLE_RE.findall(word))
    if count > 1 and word.endswith("e") and not word.endswith(("le", "ee")):
        count -= 1  # silent e: make, rare
    return count


def _doubles(word: str) -> bool:
    """One-syllable consonant-vowel-consonant words double the final consonant (stop -> stopped)."""
    return (len(word) >= 3 and _syllables(word) == 1 and word[-1] not in _VOWELS and word[-1] not in "wxy"
            and word[-2] in _VOWELS and word[-3] not in _VOWELS
            and not (word[-3] == "u" and word[-4:-3] == "q"))


def _regular(word: str, form: str) -> str:
    """The regular spelling rules of English."""
    if form in ("plural", "3sg"):
        if word.endswith(("s", "x", "z", "ch", "sh")):
            return word + "es"
        if word.endswith("y") and word[-2:-1] not in _VOWELS:
            return word[:-1] + "ies"
        if form == "3sg" and word.endswith("o") and word[-2:-1] not in _VOWELS:
            return word + "es"  # goes, echoes, vetoes
        return word + "s"
    if form in ("past", "past_participle"):
        if word.endswith("e"):
            return word + "d"
        if word.endswith("y") and word[-2:-1] not in _VOWELS:
            return word[:-1] + "ied"
        if word.endswith("c"):
            return word + "ked"  # panicked, mimicked
        return word + word[-1] + "ed" if _doubles(word) else word + "ed"
    if form == "gerund":
        if word.endswith("ie"):
            return word[:-2] + "ying"
        if word.endswith(("ee", "ye", "oe")) or word == "be":
            return word + "ing"
        if word.endswith("e") and len(word) > 2:
            return word[:-1] + "ing"
        if word.endswith("c"):
            return word + "king"
        return word + word[-1] + "ing" if _doubles(word) else word + "ing"
    # comparative / superlative
    suffix = "er" if form == "comparative" else "est"
    syllables = _syllables(word)
    if syllables > 2 or (syllables == 2 and not word.endswith(("y", "le", "ow"))):
        return ("more " if form == "comparative" else "most ") + word
    if word.endswith("e"):
        return word + suffix[1:]
    if word.endswith("y") and word[-2:-1] not in _VOWELS:
        return word[:-1] + "i" + suffix
    return word + word[-1] + suffix if _doubles(word) else word + suffix


__all__ = ["FORMS", "analyses", "inflect", "can_take", "head_index", "lemmas", "exceptions", "IRREGULAR_VERBS"]
