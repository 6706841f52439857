"""How good are the fingerprints `unspin discover` proposes? Measured on simulated spinning.

Real human text (`corpora.passages`, Brown by default) is spun by the simulator with the held-out
MyThes thesaurus at `rate`, with the same per-passage seeds as the "simulated" suite of
`unspin.evaluate.run`; the engine (fast mode by default) reads the spun passages, `discover`
aggregates its findings, and each of the top 50 candidates is checked against the simulator's
edit log:

- ``precision_at_50``: the share of the top 50 whose (phrase, expected) pair is a swap the
  simulator made somewhere in the corpus (`edit.spun` -> `edit.original`, lower-cased): a
  fingerprint a reviewer could add as it stands;
- ``precision_at_50_phrase``: the share whose phrase is a spun span at all, whatever the
  suggested original: a true fingerprint with a wrong or differently worded correction.

When fewer than 50 candidates pass, the precision is over those there are (`top_n` says how
many). Target from the issue: at least half of the top 50 true. Tune on "dev" (`--sweep`, which
refuses "test"); report "test" once.

Support counts source documents by default: the passages of one Brown file (about 2,000 words,
cut into about 7 passages of 300 words for spinning, as the "simulated" suite does) are given
`discover` under the file's id, as the sections of one paper would be. Counted per passage
instead (`--unit passage`), one file's topical words ("morphophonemic" in a linguistics text)
recur across its own passages and pass as support; on dev that costs about 0.05-0.1 of
precision at 50 (see DEFAULT_MIN_CONFIDENCE in `unspin.discover`).

    python -m unspin.evaluate.discovery --split dev --sweep --grid-documents 300,400,623
    python -m unspin.evaluate.discovery --split test --documents 400
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ..discover import (
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_MIN_SUPPORT,
    Candidate,
    discover,
    engine_report,
    normalise,
)
from ..errors import UnspinError, UsageError
from ..model import Report
from . import corpora
from .run import PASSAGE_WORDS, _derived_seed, _ordered
from .simulate import Edit

TOP = 50
UNITS = ("document", "passage")
TARGET_PRECISION = 0.5
DEFAULT_DOCUMENTS = 400  # passages; dev precision at 50 rises a little with size (0.52 at 300, 0.58 at 623)


@dataclass(frozen=True)
class SpunDocument:
    id: str  # the passage ("brown/ca01#2")
    text: str
    edits: tuple[Edit, ...]

    @property
    def source(self) -> str:
        """The document the passage was cut from ("brown/ca01")."""
        return self.id.split("#", 1)[0]

    def unit(self, unit: str) -> str:
        return self.source if unit == "document" else self.id


def spun_corpus(split: str, *, documents: int | None, rate: float = 0.15, seed: int = 0, corpus: str = "brown",
                thesaurus: Any = None) -> list[SpunDocument]:
    """The first `documents` passages of a split (in run.py's stable hashed order), spun."""
    from ..lexicon import load_thesaurus
    from .simulate import spin

    thesaurus = thesaurus if thesaurus is not None else load_thesaurus(("mythes",))
    passages = _ordered(corpora.passages(corpus, split, words=PASSAGE_WORDS), documents)
    result = []
    for passage in passages:
        spun = spin(passage.text, rate=rate, seed=_derived_seed(seed, passage.id), thesaurus=thesaurus)
        result.append(SpunDocument(passage.id, spun.text, spun.edits))
    return result


def truth(docs: Iterable[SpunDocument]) -> tuple[set[tuple[str, str]], set[str]]:
    """The (spun, original) pairs the simulator made, and the spun phrases, lower-cased."""
    pairs: set[tuple[str, str]] = set()
    for doc in docs:
        pairs.update((normalise(e.spun), normalise(e.original)) for e in doc.edits)
    return pairs, {spun for spun, _ in pairs}


def recurring_pairs(docs: Iterable[SpunDocument], unit: str = "document") -> int:
    """How many distinct swaps the simulator made in two documents (or passages) or more: an
    upper bound on the true candidates a support of 2 can find."""
    seen: dict[tuple[str, str], set[str]] = {}
    for doc in docs:
        for edit in doc.edits:
            seen.setdefault((normalise(edit.spun), normalise(edit.original)), set()).add(doc.unit(unit))
    return sum(len(units) >= 2 for units in seen.values())


def score_candidates(candidates: Sequence[Candidate], pairs: set[tuple[str, str]], phrases: set[str],
                     top: int = TOP) -> dict[str, Any]:
    head = list(candidates[:top])
    exact = sum((c.phrase, c.expected) in pairs for c in head)
    loose = sum(c.phrase in phrases for c in head)
    return {
        "top_n": len(head),
        "true_in_top": exact,
        "phrase_true_in_top": loose,
        "precision_at_top": exact / len(head) if head else None,
        "precision_at_top_phrase": loose / len(head) if head else None,
    }


def _reports(engine, docs: Sequence[SpunDocument], threshold: float) -> tuple[list[tuple[Report, str]], float]:
    started = time.perf_counter()
    reports = [(engine_report(engine, d.text, threshold=threshold, id=d.id), d.text) for d in docs]
    return reports, time.perf_counter() - started


def _as_unit(reports: Sequence[tuple[Report, str]], docs: Sequence[SpunDocument],
             unit: str) -> list[tuple[Report, str]]:
    """The reports with the id `discover` counts support by: the source document, or the passage."""
    if unit == "passage":
        return list(reports)
    return [(dataclasses.replace(report, id=doc.source), text) for (report, text), doc in zip(reports, docs)]


def _engine(engine, mode: str, model: str | None, device: str):
    if engine is not None:
        return engine
    from ..detect.engine import get_engine

    return get_engine(mode=mode, model=model, device=device)


def run_discovery(split: str = "dev", *, documents: int | None = DEFAULT_DOCUMENTS, rate: float = 0.15, seed: int = 0,
                  corpus: str = "brown", mode: str = "fast", model: str | None = None, device: str = "auto",
                  min_confidence: float = DEFAULT_MIN_CONFIDENCE, min_support: int = DEFAULT_MIN_SUPPORT,
                  top: int = TOP, unit: str = "document", engine: Any = None, thesaurus: Any = None) -> dict[str, Any]:
    """Spin `documents` passages of `split`, discover, and score the top `top` candidates.

    `unit`: what support counts: "document" (the Brown file a passage was cut from, as a paper
    would be one document) or "passage". Pure apart from loading (no printing); `engine` and
    the simulator's `thesaurus` can be given.
    """
    _check(split, documents, rate, top, unit)
    started = time.perf_counter()
    engine = _engine(engine, mode, model, device)
    docs = spun_corpus(split, documents=documents, rate=rate, seed=seed, corpus=corpus, thesaurus=thesaurus)
    reports, check_s = _reports(engine, docs, min_confidence)
    candidates = discover(_as_unit(reports, docs, unit), min_support=min_support, min_confidence=min_confidence)
    pairs, phrases = truth(docs)
    scored = score_candidates(candidates, pairs, phrases, top)
    # For comparison, the same findings with support counted per passage (see the module notes).
    other = "passage" if unit == "document" else "document"
    other_candidates = discover(_as_unit(reports, docs, other), min_support=min_support, min_confidence=min_confidence)
    other_scored = score_candidates(other_candidates, pairs, phrases, top)
    words = sum(report.words for report, _ in reports)
    return {
        "suite": "discovery",
        "split": split,
        "corpus": corpus,
        "rate": rate,
        "seed": seed,
        "mode": engine.mode,
        "documents": len(docs),  # passages read
        "support_unit": unit,
        "sources": len({d.source for d in docs}),  # documents they were cut from
        "words": words,
        "edits": sum(len(d.edits) for d in docs),
        "recurring_swaps": recurring_pairs(docs, unit),
        "findings": sum(len(report.spans) for report, _ in reports),
        "min_confidence": min_confidence,
        "min_support": min_support,
        "candidates": len(candidates),
        "top": top,
        "top_n": scored["top_n"],
        # Named for `top`: precision_at_50, precision_at_50_phrase, true_in_top_50, ... by default.
        f"precision_at_{top}": scored["precision_at_top"],
        f"precision_at_{top}_phrase": scored["precision_at_top_phrase"],
        f"true_in_top_{top}": scored["true_in_top"],
        f"phrase_true_in_top_{top}": scored["phrase_true_in_top"],
        f"by_{other}": {"candidates": len(other_candidates), "top_n": other_scored["top_n"],
                        f"precision_at_{top}": other_scored["precision_at_top"],
                        f"precision_at_{top}_phrase": other_scored["precision_at_top_phrase"]},
        "check_s": round(check_s, 3),
        "words_per_s": round(words / check_s, 1) if check_s > 0 else None,
        "seconds": round(time.perf_counter() - started, 3),
        "target": TARGET_PRECISION,
        "top_candidates": [
            {"phrase": c.phrase, "expected": c.expected, "support": c.support,
             "mean_confidence": round(c.mean_confidence, 4), "true": (c.phrase, c.expected) in pairs,
             "phrase_true": c.phrase in phrases}
            for c in candidates[:top]
        ],
    }


def sweep(split: str = "dev", *, documents: Sequence[int] = (100, 200, 300),
          min_confidences: Sequence[float] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95),
          min_supports: Sequence[int] = (2, 3), rate: float = 0.15, seed: int = 0, corpus: str = "brown",
          mode: str = "fast", model: str | None = None, device: str = "auto", top: int = TOP,
          unit: str = "document", engine: Any = None, thesaurus: Any = None) -> list[dict[str, Any]]:
    """Precision at `top` over a grid of corpus sizes, confidence floors and supports: for tuning.

    The engine reads the largest corpus once, down to the lowest floor; each smaller corpus is a
    prefix of it (the order is stable) and each floor a filter of the findings, which gives what a
    separate run would (see `unspin.discover.engine_findings`). Dev split only.
    """
    if split == "test":
        raise UsageError("the sweep tunes settings; run it on the dev split", "report test with one plain run")
    if not documents or not min_confidences or not min_supports:
        raise UsageError("the sweep needs at least one corpus size, confidence floor and support")
    _check(split, max(documents), rate, top, unit)
    engine = _engine(engine, mode, model, device)
    docs = spun_corpus(split, documents=max(documents), rate=rate, seed=seed, corpus=corpus, thesaurus=thesaurus)
    reports, check_s = _reports(engine, docs, min(min_confidences))
    rows = []
    for n in sorted(set(documents)):
        part = docs[:n]
        pairs, phrases = truth(part)
        recurring = recurring_pairs(part, unit)
        units = _as_unit(reports[:n], part, unit)
        for floor in sorted(set(min_confidences)):
            for support in sorted(set(min_supports)):
                candidates = discover(units, min_support=support, min_confidence=floor)
                rows.append({"split": split, "documents": len(part), "support_unit": unit,
                             "sources": len({d.source for d in part}), "words": sum(r.words for r, _ in reports[:n]),
                             "min_confidence": floor, "min_support": support, "candidates": len(candidates),
                             "recurring_swaps": recurring, **score_candidates(candidates, pairs, phrases, top)})
    for row in rows:
        row["check_s"] = round(check_s, 3)
    return rows


def _check(split: str, documents: int | None, rate: float, top: int, unit: str) -> None:
    if split not in corpora.SPLITS:
        raise UsageError(f"unknown split {split!r}", hint=f"use one of {', '.join(corpora.SPLITS)}")
    if documents is not None and documents < 1:
        raise UsageError("documents must be a positive number of passages")
    if not 0.0 <= rate <= 1.0:
        raise UsageError(f"rate must be between 0 and 1, got {rate!r}")
    if top < 1:
        raise UsageError("top must be at least 1")
    if unit not in UNITS:
        raise UsageError(f"unknown support unit {unit!r}", hint=f"use one of {', '.join(UNITS)}")


# -- printing ----------------------------------------------------------------------------------

def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def format_result(result: dict[str, Any], show: int = 15) -> str:
    """A short plain-text account of one `run_discovery` result, with its best candidates."""
    r, top = result, result["top"]
    unit = r["support_unit"]
    precision = r.get(f"precision_at_{top}")
    met = precision is not None and precision >= r["target"] and r["top_n"] >= top
    lines = [
        (f"discovery ({r['split']}): {r['documents']} {r['corpus']} passages from {r['sources']} documents, "
         f"{r['words']:,} words, spun at {r['rate']} (seed {r['seed']}), {r['mode']} mode; support counts {unit}s"),
        (f"  simulator swaps: {r['edits']:,} ({r['recurring_swaps']:,} distinct swaps in 2+ {unit}s); "
         f"engine findings >= {r['min_confidence']}: {r['findings']:,}"),
        f"  candidates (support >= {r['min_support']}): {r['candidates']:,}",
        (f"  precision@{top}: {_fmt(precision)} ({r[f'true_in_top_{top}']} of {r['top_n']}) "
         f"{'+' if met else '-'} target >= {r['target']:.2f}"),
        (f"  phrase is a spun span: {_fmt(r.get(f'precision_at_{top}_phrase'))} "
         f"({r[f'phrase_true_in_top_{top}']} of {r['top_n']})"),
    ]
    for key, other in r.items():
        if key.startswith("by_"):
            lines.append(f"  with support counted per {key[3:]}: {_fmt(other.get(f'precision_at_{top}'))} "
                         f"of {other['top_n']} ({other['candidates']:,} candidates), "
                         f"phrase {_fmt(other.get(f'precision_at_{top}_phrase'))}")
    lines.append(f"  engine {r['check_s']:.1f} s ({r['words_per_s']} words/s); total {r['seconds']:.1f} s")
    if result["top_candidates"] and show:
        lines.append(f"  top {min(show, len(result['top_candidates']))}:  (+ true pair, ~ spun phrase only, - neither)")
        for c in result["top_candidates"][:show]:
            mark = "+" if c["true"] else "~" if c["phrase_true"] else "-"
            lines.append(f"    {mark} {c['phrase']!r} -> {c['expected']!r}  support {c['support']}, "
                         f"confidence {c['mean_confidence']:.3f}")
    return "\n".join(lines)


def format_sweep(rows: Sequence[dict[str, Any]]) -> str:
    header = f"{'psgs':>5} {'docs':>5} {'words':>8} {'min_conf':>8} {'support':>7} {'cands':>6} {'top':>4} {'true':>5} {'P@top':>6} {'P phrase':>8} {'recur':>6}"
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(f"{r['documents']:>5} {r['sources']:>5} {r['words']:>8} {r['min_confidence']:>8.2f} {r['min_support']:>7} "
                     f"{r['candidates']:>6} {r['top_n']:>4} {r['true_in_top']:>5} {_fmt(r['precision_at_top']):>6} "
                     f"{_fmt(r['precision_at_top_phrase']):>8} {r['recurring_swaps']:>6}")
    if rows:
        lines.append(f"support counts {rows[0]['support_unit']}s; recur: distinct simulator swaps in 2+ of them; "
                     f"engine time for the largest corpus: {rows[0]['check_s']:.1f} s")
    return "\n".join(lines)


# -- command line --------------------------------------------------------------------------------

def _floats(value: str) -> list[float]:
    return [float(x) for x in value.split(",") if x.strip()]


def _ints(value: str) -> list[int]:
    return [int(x) for x in value.split(",") if x.strip()]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m unspin.evaluate.discovery",
                                     description="Precision of discovered fingerprints on simulated spinning.")
    parser.add_argument("--split", choices=("dev", "test"), default="dev")
    parser.add_argument("--documents", type=int, default=DEFAULT_DOCUMENTS, help="passages to spin and read")
    parser.add_argument("--rate", type=float, default=0.15, help="the simulated spinner's substitution rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", choices=tuple(corpora.PACKAGES), default="brown")
    parser.add_argument("--mode", choices=("fast", "full"), default="fast")
    parser.add_argument("--model", default=None)
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    parser.add_argument("--min-confidence", type=float, default=DEFAULT_MIN_CONFIDENCE)
    parser.add_argument("--min-support", type=int, default=DEFAULT_MIN_SUPPORT)
    parser.add_argument("--top", type=int, default=TOP)
    parser.add_argument("--unit", choices=UNITS, default="document",
                        help="what support counts: source documents (default) or the passages cut from them")
    parser.add_argument("--sweep", action="store_true",
                        help="tune: precision over a grid (dev only); --documents is then a comma list")
    parser.add_argument("--grid-confidence", type=_floats, default=None, metavar="X,Y,...")
    parser.add_argument("--grid-support", type=_ints, default=None, metavar="N,M,...")
    parser.add_argument("--grid-documents", type=_ints, default=None, metavar="N,M,...")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the figures as JSON here")
    return parser


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    args = build_parser().parse_args(argv)
    try:
        if args.sweep:
            grid: dict[str, Any] = {}
            if args.grid_confidence:
                grid["min_confidences"] = args.grid_confidence
            if args.grid_support:
                grid["min_supports"] = args.grid_support
            grid["documents"] = args.grid_documents or [args.documents]
            result: Any = sweep(args.split, rate=args.rate, seed=args.seed, corpus=args.corpus, mode=args.mode,
                                model=args.model, device=args.device, top=args.top, unit=args.unit, **grid)
            stdout.write(format_sweep(result) + "\n")
        else:
            result = run_discovery(args.split, documents=args.documents, rate=args.rate, seed=args.seed,
                                   corpus=args.corpus, mode=args.mode, model=args.model, device=args.device,
                                   min_confidence=args.min_confidence, min_support=args.min_support, top=args.top,
                                   unit=args.unit)
            stdout.write(format_result(result) + "\n")
        if args.json_out:
            from pathlib import Path

            from ..resources import atomic_write_text

            atomic_write_text(Path(args.json_out), json.dumps(result, indent=2) + "\n")
    except UnspinError as err:
        print(err.one_line(), file=stderr)
        return int(err.exit_code)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
