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
