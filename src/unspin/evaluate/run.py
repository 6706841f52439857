"""The evaluation harness: run a checker over the evaluation suites and tabulate the figures.

Suites (each has disjoint train/dev/test splits; tune on dev, report test):

- ``simulated``: Brown Corpus passages (~300 words) spun by `unspin.evaluate.simulate.spin` with
  the held-out MyThes thesaurus, at `rate`; the restorer reads Moby + WordNet, and the share of
  swaps its dictionary links at all is reported as `dictionary_overlap`.
- ``tortured``: real technical sentences with one PPS correct term replaced by a tortured form
  (`unspin.evaluate.technical`), split by correct term.
- ``clean``: the same kinds of real text left alone (Brown passages and clean technical text);
  every finding is a false flag.
- ``all``: the three above.

`run_suite` is a pure function of its arguments (no printing, no CLI); the CLI (`unspin eval`)
wraps it with `format_table`. The checker is any callable `text -> unspin.model.Report`.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..errors import UsageError
from ..model import Report
from . import corpora, technical
from .metrics import Counts, score_text, total

log = logging.getLogger(__name__)

Checker = Callable[[str], Report]
SUITES = ("simulated", "tortured", "clean")
TARGETS = {"precision": 0.90, "recall": 0.75, "restoration": 0.60, "false_flags_per_1k": 1.0}
PASSAGE_WORDS = 300


def _derived_seed(seed: int, key: str) -> int:
    """A per-document seed: stable whatever `limit` is and whichever documents come before."""
    return int(hashlib.sha256(f"{seed}\0{key}".encode()).hexdigest()[:8], 16)


def _ordered(docs: Sequence[corpora.Document], limit: int | None) -> list[corpora.Document]:
    """Documents in a hashed (genre-mixing) stable order, cut to `limit`."""
    ordered = sorted(docs, key=lambda d: hashlib.sha256(d.id.encode()).hexdigest())
    return ordered if limit is None else ordered[:limit]


class _Timed:
    """The checker, with the time spent inside it added up (elapsed time also counts loading)."""

    def __init__(self, checker: Checker) -> None:
        self.checker = checker
        self.seconds = 0.0

    def __call__(self, text: str) -> tuple[Any, ...]:
        started = time.perf_counter()
        report = self.checker(text)
        self.seconds += time.perf_counter() - started
        return tuple(report.spans)


def _result(suite: str, split: str, counts: Counts, started: float, timed: _Timed, **extra: Any) -> dict[str, Any]:
    return {
        "suite": suite,
        "split": split,
        **counts.as_dict(),
        "elapsed_s": round(time.perf_counter() - started, 3),
        "check_s": round(timed.seconds, 3),
        "words_per_s": round(counts.words / timed.seconds, 1) if timed.seconds > 0 else None,
        **extra,
    }


# --------------------------------------------------------------------------- suites


def _simulated(split: str, checker: Checker, *, rate: float, seed: int, limit: int | None,
               corpus: str, spinner: Any, simulator_thesaurus: Any, restorer_thesaurus: Any) -> dict[str, Any]:
    started, check = time.perf_counter(), _Timed(checker)
    if spinner is None or simulator_thesaurus is None:
        from ..lexicon import load_thesaurus
        from . import simulate

        spinner = spinner or simulate
        simulator_thesaurus = simulator_thesaurus or load_thesaurus(("mythes",))
        if restorer_thesaurus is None:
            restorer_thesaurus = load_thesaurus(("moby", "wordnet"))
    passages = _ordered(corpora.passages(corpus, split, words=PASSAGE_WORDS), limit)
    counts: list[Counts] = []
    edits: list[Any] = []
    for passage in passages:
        spun = spinner.spin(passage.text, rate=rate, seed=_derived_seed(seed, passage.id),
                            thesaurus=simulator_thesaurus)
        counts.append(score_text(spun.text, spun.edits, check(spun.text)))
        edits.extend(spun.edits)
    overlap = spinner.overlap(edits, restorer_thesaurus) if restorer_thesaurus is not None else None
    return _result("simulated", split, total(counts), started, check, corpus=corpus, rate=rate, seed=seed,
                   dictionary_overlap=overlap)


def _tortured(split: str, checker: Checker, *, limit: int | None, pps_path: Any) -> dict[str, Any]:
    started, check = time.perf_counter(), _Timed(checker)
    cases = technical.tortured_cases(pps_path, split)
    cases = sorted(cases, key=lambda c: hashlib.sha256(c.id.encode()).hexdigest())
    if limit is not None:
        cases = cases[:limit]
    counts = [score_text(c.spun_text, c.edits, check(c.spun_text)) for c in cases]
    return _result("tortured", split, total(counts), started, check,
                   terms=len({case.term for case in cases}),
                   pps_dir=str(technical.pps_dir(pps_path)))


def _clean(split: str, checker: Checker, *, limit: int | None, corpus: str, pps_path: Any) -> dict[str, Any]:
    started, check = time.perf_counter(), _Timed(checker)
    parts: dict[str, Counts] = {}
    for name, docs in (
        (corpus, corpora.passages(corpus, split, words=PASSAGE_WORDS)),
        ("technical", technical.clean_technical(split, words=PASSAGE_WORDS, pairs_path=pps_path)),
    ):
        parts[name] = total(score_text(d.text, (), check(d.text)) for d in _ordered(docs, limit))
    combined = total(parts.values())
    return _result("clean", split, combined, started, check,
                   parts={name: counts.as_dict() for name, counts in parts.items()})


def run_suite(
    suite: str,
    split: str,
    checker: Checker,
    *,
    rate: float = 0.15,
    seed: int = 0,
    limit: int | None = None,
    pps_path: str | os.PathLike[str] | None = None,
    corpus: str = "brown",
    spinner: Any = None,
    simulator_thesaurus: Any = None,
    restorer_thesaurus: Any = None,
) -> dict[str, Any]:
    """Run `checker` over one suite (or "all") of one split and return the figures.

    `limit` caps the documents per suite (and per part of "clean"), taken in a stable hashed
    order. `spinner` (a module-like object with `spin` and `overlap`) and the two thesauri can be
    injected; by default the simulator spins with MyThes and the overlap is measured against
    Moby + WordNet. Ratios are None where undefined (e.g. precision with no predictions).
    """
    if split not in corpora.SPLITS:
        raise UsageError(f"unknown split {split!r}", hint=f"use one of {', '.join(corpora.SPLITS)}")
    if limit is not None and limit < 1:
        raise UsageError("limit must be a positive number of documents")
    if not 0.0 <= rate <= 1.0:
        raise UsageError(f"rate must be between 0 and 1, got {rate!r}")
    if suite == "all":
        started = time.perf_counter()
        results = [
            run_suite(name, split, checker, rate=rate, seed=seed, limit=limit, pps_path=pps_path,
                      corpus=corpus, spinner=spinner, simulator_thesaurus=simulator_thesaurus,
                      restorer_thesaurus=restorer_thesaurus)
            for name in SUITES
        ]
        return {"suite": "all", "split": split, "results": results,
                "elapsed_s": round(time.perf_counter() - started, 3)}
    if suite == "simulated":
        return _simulated(split, checker, rate=rate, seed=seed, limit=limit, corpus=corpus, spinner=spinner,
                          simulator_thesaurus=simulator_thesaurus, restorer_thesaurus=restorer_thesaurus)
    if suite == "tortured":
        return _tortured(split, checker, limit=limit, pps_path=pps_path)
    if suite == "clean":
        return _clean(split, checker, limit=limit, corpus=corpus, pps_path=pps_path)
    raise UsageError(f"unknown suite {suite!r}", hint=f"use one of {', '.join((*SUITES, 'all'))}")


# --------------------------------------------------------------------------- table


def _fmt(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _mark(name: str, value: float | None) -> str:
    if value is None:
        return " "
    target = TARGETS[name]
    met = value <= target if name == "false_flags_per_1k" else value >= target
    return "+" if met else "-"


def _flatten(results: dict[str, Any] | Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(results, dict):
        return list(results["results"]) if results.get("suite") == "all" else [results]
    return [row for item in results for row in _flatten(item)]


def format_table(results: dict[str, Any] | Iterable[dict[str, Any]]) -> str:
    """A plain-text table of one or more `run_suite` results, with the targets.

    "+" marks a figure that meets its target, "-" one that misses it; the false-flag target
    applies to the clean suite (on spun suites the column shows flags outside gold spans).
    """
    rows = _flatten(results)
    header = (f"{'suite':<10} {'split':<5} {'docs':>6} {'words':>8} {'gold':>6} {'flags':>6} "
              f"{'precision':>10} {'recall':>8} {'restored':>9} {'rest/det':>9} {'FF/1k':>8} {'time s':>8}")
    # "time s" is wall time for the suite, loading included; the notes give the checker's share.
    lines = [header, "-" * len(header)]
    for row in rows:
        ff_mark = _mark("false_flags_per_1k", row["false_flags_per_1k"]) if row["suite"] == "clean" else " "
        spun = row["suite"] != "clean"
        lines.append(
            f"{row['suite']:<10} {row['split']:<5} {row['texts']:>6} {row['words']:>8} {row['gold']:>6} "
            f"{row['predicted']:>6} "
            f"{(_fmt(row['precision']) + _mark('precision', row['precision'])) if spun else '':>10} "
            f"{(_fmt(row['recall']) + _mark('recall', row['recall'])) if spun else '':>8} "
            f"{(_fmt(row['restoration']) + _mark('restoration', row['restoration'])) if spun else '':>9} "
            f"{_fmt(row['restoration_detected']) if spun else '':>9} "
            f"{_fmt(row['false_flags_per_1k'], 2) + ff_mark:>8} {row['elapsed_s']:>8.1f}"
        )
    lines.append(
        f"{'target':<10} {'':<5} {'':>6} {'':>8} {'':>6} {'':>6} "
        f"{'>=%.2f' % TARGETS['precision']:>10} {'>=%.2f' % TARGETS['recall']:>8} "
        f"{'>=%.2f' % TARGETS['restoration']:>9} {'':>9} {'<=%.1f' % TARGETS['false_flags_per_1k']:>8}"
    )
    notes = []
    for row in rows:
        if row["suite"] == "simulated":
            overlap = row.get("dictionary_overlap")
            notes.append(f"simulated: {row.get('corpus')} passages, rate {row.get('rate')}, seed {row.get('seed')}; "
                         f"simulator (MyThes) swaps linked by the restorer's dictionary: {_fmt(overlap)}")
        elif row["suite"] == "tortured":
            notes.append(f"tortured: {row.get('terms')} distinct correct terms (PPS list from {row.get('pps_dir')})")
        elif row["suite"] == "clean":
            for name, part in row.get("parts", {}).items():
                notes.append(f"clean/{name}: {part['texts']} docs, {part['words']} words, "
                             f"{part['predicted']} flags, {_fmt(part['false_flags_per_1k'], 2)} per 1k words")
        if row.get("words_per_s") and row.get("check_s", 0) >= 0.5:
            notes.append(f"{row['suite']}: checker {row['check_s']:.1f} s of {row['elapsed_s']:.1f} s, "
                         f"{row['words_per_s']} words/s")
    return "\n".join(lines + [""] + notes)
