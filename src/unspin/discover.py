"""Mine candidate new fingerprints (tortured phrases) from a corpus, for a person to review.

A fingerprint list such as the Problematic Paper Screener's grows by hand: someone notices
"profound learning" in a paper and adds it. Here the engine does the noticing: its findings over
many documents are grouped by (spun text, suggested original), and a pair that recurs in several
documents is a better candidate than a one-off, because a spinner reuses its dictionary while
the engine's false flags on rare-but-correct words scatter. Candidates are ranked by how many
documents hold them, then by the engine's mean confidence, and written as a PPS-style CSV that
`unspin check --fingerprints` can load once reviewed.

    discover(reports_and_texts)  ->  [Candidate, ...]   (pure aggregation, no engine)
    engine_report(engine, text, threshold=...)           (the engine's findings down to a lower threshold)
    write_candidates_csv(candidates, path_or_stream)

The engine only reports spans over its decision threshold, which is set on dev for precision on one
document (`data/decision-*.json` holds it). Discovery can afford a lower one, since support across
documents adds the evidence a single span lacks; `engine_report` gives the findings down to any
threshold through the engine's `detect(text, threshold)`.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from unspin.errors import InputError, UsageError
from unspin.model import Finding, Report

if TYPE_CHECKING:  # the protocol only: an engine loads thesauri and models when it is built
    from unspin.detect.protocol import Detector

# Chosen on the dev split only (`python -m unspin.evaluate.discovery --split dev --sweep
# --grid-documents 200,300,400,500,623`: Brown passages spun at 15 % with the held-out MyThes
# thesaurus, fast mode, support counted per source document, min_support 2). Precision of the top
# 50 by floor, at 300 / 400 / 500 / 623 passages (102-105 documents):
#   0.3: 0.50 0.44 0.48 0.54    0.4: 0.50 0.56 0.54 0.62    0.5: 0.52 0.52 0.54 0.58
#   0.6: 0.50 0.56 0.54 0.58    0.7: 0.57 (30 candidates) 0.58 0.56 0.58
# 0.5 is the lowest floor whose precision stays at or over 0.5 at every corpus size with a full
# 50 candidates, measured with the thesaurus engine that fast mode was before the learned one
# (docs/experiments.md): below it, more of the engine's false flags recur across documents and the
# ranking cannot push them down (0.2: 0.24-0.34); above it precision gains nothing measurable (about
# +-0.07 at 50 candidates) while the candidates thin out (0.7 gives 30 at 300 passages, 0.9 gives 7).
# Not re-measured with the learned engine.
DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MIN_SUPPORT = 2
CONTEXT_CHARS = 40  # characters of context kept on each side of an example
MAX_EXAMPLES = 3  # example contexts kept per candidate, one per document
MAX_IDS = 10  # document ids kept per candidate
CSV_COLUMNS = ("tortured_phrase", "expected_phrase", "num_papers",
               "mean_confidence", "occurrences", "example_context", "example_ids")
EXAMPLE_SEPARATOR = " | "  # between example contexts in one CSV cell
ID_SEPARATOR = "; "  # between document ids in one CSV cell


@dataclass(frozen=True)
class Candidate:
    """A (spun phrase, expected original) pair and the documents it was found in.

    `support` counts distinct documents, `occurrences` every finding; `examples` are contexts
    like "...we trained a [[profound learning]] model on..." from the first documents holding it,
    `ids` the ids of (up to `MAX_IDS`) such documents, in input order.
    """

    phrase: str
    expected: str
    support: int
    occurrences: int
    mean_confidence: float
    max_confidence: float
    examples: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        """The phrase as a PPS query: an exact phrase in double quotes."""
        return f'"{self.phrase}"'


@dataclass
class _Tally:
    documents: set[str] = field(default_factory=set)
    occurrences: int = 0
    confidence_sum: float = 0.0
    confidence_max: float = 0.0
    examples: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def discover(reports_and_texts: Iterable[tuple[Report, str]], *, min_support: int = DEFAULT_MIN_SUPPORT,
             min_confidence: float = DEFAULT_MIN_CONFIDENCE, limit: int | None = None) -> list[Candidate]:
    """The candidate fingerprints of a corpus: `(report, text)` pairs, in any order.

    Support counts distinct documents, and a document is known by its report's `id` (as text):
    reports that share an id are parts of one document (a paper cut into sections), so a phrase
    a paper repeats in every section counts once; a report without an id is a document of its
    own. Each report's spans must index its text (`text[start:end] == span.text`). Spans from a
    fingerprint list (those with a `rule`) are already known and left out, as are spans under
    `min_confidence`. Phrases and suggestions are compared lower-cased with runs of whitespace as
    one space; a phrase holding a double quote cannot be written as a PPS query and is skipped.
    Ranking: support, then mean confidence (both descending), then phrase and expected text, so
    the order is the same on every run. `limit` keeps the first so many.
    """
    _check_options(min_support, min_confidence, limit)
    tallies: dict[tuple[str, str], _Tally] = {}
    for number, (report, text) in enumerate(reports_and_texts):
        doc_id = str(report.id) if report.id is not None else f"#{number + 1}"  # "#3": the third item
        for span in report.spans:
            _check_span(span, text, doc_id)
            if span.rule is not None or span.confidence < min_confidence:
                continue
            phrase, expected = normalise(span.text), normalise(span.suggestion)
            if not phrase or not expected or phrase == expected or '"' in phrase:
                continue
            tally = tallies.setdefault((phrase, expected), _Tally())
            tally.occurrences += 1
            tally.confidence_sum += span.confidence
            tally.confidence_max = max(tally.confidence_max, span.confidence)
            if doc_id not in tally.documents:  # the first occurrence in this document
                tally.documents.add(doc_id)
                if len(tally.examples) < MAX_EXAMPLES:
                    tally.examples.append(context(text, span.start, span.end))
                if len(tally.ids) < MAX_IDS:
                    tally.ids.append(doc_id)
    candidates = [
        Candidate(phrase, expected, len(t.documents), t.occurrences, t.confidence_sum / t.occurrences,
                  t.confidence_max, tuple(t.examples), tuple(t.ids))
        for (phrase, expected), t in tallies.items() if len(t.documents) >= min_support
    ]
    candidates.sort(key=lambda c: (-c.support, -c.mean_confidence, c.phrase, c.expected))
    return candidates if limit is None else candidates[:limit]


def _check_options(min_support: int, min_confidence: float, limit: int | None) -> None:
    if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 1:
        raise UsageError(f"min_support must be a whole number of documents, at least 1, got {min_support!r}")
    if not 0.0 <= min_confidence <= 1.0:
        raise UsageError(f"min_confidence must be between 0 and 1, got {min_confidence!r}")
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise UsageError(f"limit must be a positive number of candidates, got {limit!r}")


def _check_span(span: Finding, text: str, doc_id: str) -> None:
    if text[span.start:span.end] != span.text:
        raise UsageError(f"document {doc_id}: a finding at {span.start}..{span.end} does not match its text",
                         "pass each report with the text it was made from")


def normalise(phrase: str) -> str:
    """Lower case, runs of whitespace (line breaks included) as one space."""
    return " ".join(phrase.lower().split())


def context(text: str, start: int, end: int, width: int = CONTEXT_CHARS) -> str:
    """About `width` characters each side of text[start:end], the span marked [[like this]].

    Whitespace is collapsed to single spaces; a side cut short loses its partial word and is
    marked with "...".
    """
    lo, hi = max(0, start - width), min(len(text), end + width)
    left, right = text[lo:start], text[end:hi]
    cut_left, cut_right = lo > 0, hi < len(text)
    if cut_left and not text[lo - 1].isspace():
        left = re.sub(r"^\S*", "", left)  # a word cut in two: drop its tail
    if cut_right and not text[hi].isspace():
        right = re.sub(r"\S*$", "", right)
    marked = re.sub(r"\s+", " ", f"{left}[[{text[start:end]}]]{right}").strip()
    return ("..." if cut_left else "") + marked + ("..." if cut_right else "")


# -- the engine's findings at a lower threshold ----------------------------------------------

def engine_findings(engine: Detector, text: str, threshold: float) -> list[Finding]:
    """The engine's findings in `text` down to `threshold` (`Detector.detect` with a threshold).

    At the engine's own threshold this gives `engine.detect(text).findings`; the non-overlapping
    choice takes sites by descending probability, so the findings at a higher threshold are
    exactly those of a lower one with `confidence >=` the higher.
    """
    _check_threshold(threshold)
    return engine.detect(text, threshold).findings


def engine_report(engine: Detector, text: str, *, threshold: float, id: Any = None) -> Report:
    """A report whose spans go down to `threshold`; its score, verdict and risk are the engine's
    usual ones (from the findings over the engine's own threshold), so they do not drift with it."""
    from unspin.restoration import apply_findings
    from unspin.detect.score import assemble_report

    _check_threshold(threshold)
    detection = engine.detect(text, threshold)
    usual = [f for f in detection.findings if f.confidence >= engine.decision.site.threshold]
    report = assemble_report(text, usual, id=id, mode=engine.mode, model=engine.model_name, words=detection.words,
                             expected=detection.expected, rate=detection.rate, decision=engine.screening)
    return replace(report, spans=tuple(detection.findings), restored=apply_findings(text, detection.findings))


def _check_threshold(threshold: float) -> None:
    if not 0.0 <= threshold <= 1.0:
        raise UsageError(f"threshold must be between 0 and 1, got {threshold!r}")


def engine_reports(engine: Detector, documents: Iterable[tuple[Any, str]], *,
                   threshold: float) -> Iterator[tuple[Report, str]]:
    """`(report, text)` for each `(id, text)`, ready for `discover`."""
    for doc_id, text in documents:
        yield engine_report(engine, text, threshold=threshold, id=doc_id), text


# -- output ------------------------------------------------------------------------------------

def candidate_rows(candidates: Iterable[Candidate]) -> Iterator[list[str]]:
    """The CSV rows, header first (`CSV_COLUMNS`)."""
    yield list(CSV_COLUMNS)
    for c in candidates:
        yield [c.query, c.expected, str(c.support), f"{c.mean_confidence:.4f}", str(c.occurrences),
               EXAMPLE_SEPARATOR.join(c.examples), ID_SEPARATOR.join(c.ids)]


def render_candidates_csv(candidates: Iterable[Candidate]) -> str:
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\n").writerows(candidate_rows(candidates))
    return buffer.getvalue()


def write_candidates_csv(candidates: Iterable[Candidate], path_or_stream: str | os.PathLike[str] | TextIO) -> None:
    """Write the candidates as a PPS CSV (`tortured_phrase,expected_phrase,num_papers,...`).

    A path is written atomically (a temporary file renamed into place); a stream is written to
    as is. `tortured_phrase` is a PPS phrase query, `"profound learning"`, which the csv module
    quotes as `\"\"\"profound learning\"\"\"`; `num_papers` is the support.
    """
    text = render_candidates_csv(candidates)
    if isinstance(path_or_stream, (str, os.PathLike)):
        from unspin.resources import atomic_write_text

        path = Path(path_or_stream)
        try:
            atomic_write_text(path, text)
        except OSError as err:
            raise InputError(f"cannot write {path}: {err.strerror}", "check the folder exists and is writable") from None
    else:
        path_or_stream.write(text)


__all__ = [
    "CSV_COLUMNS",
    "DEFAULT_MIN_CONFIDENCE",
    "DEFAULT_MIN_SUPPORT",
    "Candidate",
    "candidate_rows",
    "context",
    "discover",
    "engine_findings",
    "engine_report",
    "engine_reports",
    "normalise",
    "render_candidates_csv",
    "write_candidates_csv",
]
