"""One configured check: the engine, the user's fingerprint lists, merged into one report.

`Checker` is what the CLI, the Python API and (later) batch runs call. It loads everything once
and is reused for every document; `get_checker` keeps one per configuration and process.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING

from unspin.detect.fingerprints import FingerprintMatcher, merge
from unspin.lexicon.fingerprints import FingerprintList, ListSource, load_fingerprints
from unspin.model import Report
from unspin.restoration import apply_findings
from unspin.detect.score import assemble_report, count_words

if TYPE_CHECKING:
    from unspin.documents import ExtractedDocument


@lru_cache(maxsize=16)
def _load_list(source: ListSource) -> FingerprintList:
    return load_fingerprints(source.path)


class Checker:
    """Engine findings (unless `engine=False`) and fingerprint-list matches, merged.

    List matches win where they overlap the engine's: they are curated, and their evidence (the
    list entry) is what an analyst can show an author. A list with unusable lines still loads;
    `lists[i].warnings` says which lines were skipped (the CLI prints them).
    """

    def __init__(self, mode: str = "full", model: str | None = None, device: str = "auto",
                 fingerprints: Sequence[str | os.PathLike[str] | FingerprintList] = (),
                 engine: bool = True) -> None:
        from unspin.detect.engine import MODES, get_engine
        from unspin.detect.learned import list_only_decision
        from unspin.errors import UsageError

        if mode not in MODES:
            raise UsageError(f"unknown mode {mode!r}", "use --mode full or --mode fast")
        self.mode = mode if engine else "fast"  # list matching alone uses no neural model
        self.engine = get_engine(mode=mode, model=model, device=device) if engine else None
        # The document score is the engine's (`LearnedEngine.screening`); list matching alone
        # reads its matches as full mode's verified findings (`learned.list_only_decision`).
        self.decision = self.engine.screening if self.engine is not None else list_only_decision()
        self.lists: list[FingerprintList] = [
            item if isinstance(item, FingerprintList) else _load_list(ListSource.of(item)) for item in fingerprints
        ]
        self.matcher = FingerprintMatcher(self.lists) if self.lists else None
        self.model_name = self.engine.model_name if self.engine is not None else None

    def check(self, text: str, id=None) -> Report:
        if self.engine is not None:
            detection = self.engine.detect(text)
            engine_findings, words, rate, expected = (detection.findings, detection.words, detection.rate,
                                                      detection.expected)
        else:
            engine_findings, words, rate, expected = [], count_words(text), 0.0, 0.0
        list_findings = self.matcher.match(text) if self.matcher is not None else []
        findings = merge(list_findings, engine_findings) if list_findings else engine_findings
        expected += sum(f.confidence for f in findings if f.rule is not None)  # list matches count as swaps
        return assemble_report(text, findings, id=id, mode=self.mode, model=self.model_name, words=words,
                               expected=expected, rate=rate, decision=self.decision)

    def check_document(self, document: ExtractedDocument, id=None) -> Report:
        """Check an extracted document: excluded parts (references, quotations, code ...) are
        blanked before checking, so they are never judged but every offset stays an offset into
        `document.text`; each finding carries its page / paragraph / section."""
        report = self.check(document.scored_text(), id=id)
        spans = tuple(
            replace(f, text=document.text[f.start:f.end], location=document.location(f.start)) for f in report.spans
        )
        return replace(report, spans=spans, restored=apply_findings(document.text, spans),
                       document=describe_document(document))

    def check_many(self, items: Iterable[tuple[object, str]]) -> Iterator[Report]:
        for id, text in items:
            yield self.check(text, id=id)


def describe_document(document: ExtractedDocument) -> dict:
    """What a report says about the document it judged."""
    excluded: dict[str, int] = {}
    for region in document.excluded:
        excluded[region.kind] = excluded.get(region.kind, 0) + region.end - region.start
    return {
        "format": document.format,
        "metadata": {k: v for k, v in document.metadata.items() if isinstance(v, (str, int, float))},
        "excluded": [{"kind": r.kind, "start": r.start, "end": r.end} for r in document.excluded],
        "excluded_characters": excluded,
        "repairs": len(document.repairs),
        "notes": list(document.notes),
    }


def get_checker(mode: str = "full", model: str | None = None, device: str = "auto",
                fingerprints: Sequence[str | os.PathLike[str]] = (), engine: bool = True) -> Checker:
    sources = tuple(ListSource.of(path) for path in fingerprints)
    return _cached_checker(mode, model, device, sources, engine)


@lru_cache(maxsize=8)
def _cached_checker(mode: str, model: str | None, device: str, sources: tuple[ListSource, ...],
                    engine: bool) -> Checker:
    return Checker(mode=mode, model=model, device=device,
                   fingerprints=[_load_list(source) for source in sources], engine=engine)
