"""The built-in table of stock phrases that spinners emit, with their original wording."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

IDIOM_FILE = "idioms-v2.tsv"


@dataclass(frozen=True)
class IdiomTable:
    version: str
    entries: dict[str, tuple[str, ...]]  # lower-case spun phrase -> original wordings, best first

    @property
    def max_words(self) -> int:
        return max((len(p.split()) for p in self.entries), default=0)

    def originals(self, phrase: str) -> tuple[str, ...]:
        return self.entries.get(phrase.lower(), ())


# Function words and connectives as SpinBot-style tools rewrite them (written for unspin from
# their typical output; none is a science term). The simulator spins with them; the learned
# engine reads them backwards for the originals of a flagged span ("in light of the fact that" ->
# "because"). They are not flagged on their own, as the table above is: "since" and "however"
# are ordinary English.
FUNCTION_REWRITES: dict[str, tuple[str, ...]] = {
    "because": ("in light of the fact that", "since", "on the grounds that", "due to the fact that"),
    "although": ("in spite of the fact that", "despite the fact that", "regardless of whether"),
    "now": ("presently", "right now", "at this point"),
    "also": ("likewise", "additionally", "too"),
    "but": ("yet", "however", "be that as it may"),
    "however": ("nonetheless", "be that as it may", "in any case"),
    "very": ("extremely", "exceptionally", "incredibly"),
    "many": ("numerous", "various", "a wide range of"),
    "about": ("around", "roughly", "concerning"),
    "after": ("subsequent to", "in the wake of", "following"),
    "before": ("prior to", "ahead of"),
    "so": ("along these lines", "in this way", "consequently"),
    "if": ("in the event that", "on the off chance that", "assuming"),
    "while": ("whilst", "though"),
    "with": ("alongside", "along with"),
    "said": ("expressed", "stated"),
    "often": ("frequently", "regularly", "oftentimes"),
    "still": ("in any case", "all things considered"),
}


@lru_cache(maxsize=1)
def function_originals() -> dict[str, tuple[str, ...]]:
    """FUNCTION_REWRITES backwards: what a spinner writes -> the function words it came from."""
    backwards: dict[str, list[str]] = {}
    for original, rewrites in FUNCTION_REWRITES.items():
        for rewrite in rewrites:
            backwards.setdefault(rewrite, []).append(original)
    return {rewrite: tuple(originals) for rewrite, originals in backwards.items()}


@lru_cache(maxsize=1)
def load_idioms() -> IdiomTable:
    text = resources.files("unspin.data").joinpath(IDIOM_FILE).read_text(encoding="utf-8")
    lines = [line for line in text.splitlines() if line.strip() and not line.startswith("#")]
    header, rows = lines[0], lines[1:]
    assert header.split("\t") == ["spun", "original"], f"bad header in {IDIOM_FILE}"
    entries = {}
    for row in rows:
        spun, originals = row.split("\t")
        entries[spun.lower()] = tuple(o.strip() for o in originals.split("|"))
    return IdiomTable(version=IDIOM_FILE.removesuffix(".tsv"), entries=entries)
