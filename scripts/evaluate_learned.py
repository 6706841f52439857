"""Precision / recall / restoration of an engine on held-out-dictionary spinning, clean text and
tortured phrases, with the document score's AUC; writes the table it prints.

    .venv/bin/python scripts/evaluate_learned.py --split dev                 # tune on this
    .venv/bin/python scripts/evaluate_learned.py --split test --write docs/evaluation
    .venv/bin/python scripts/evaluate_learned.py --split test --engine learned-full --limit 10

`--engine learned` (the default) is fast mode's learned engine, its word probabilities cached
(`unspin.evaluate.learned.CachedDetector`); `learned-full` adds the language model's verification
(data/decision-learned-full-v1.json), full mode. (The thesaurus engine that both modes were
before was measured by this script as `thesaurus-fast` / `thesaurus-full` until it was removed:
docs/evaluation/thesaurus-fast-test.md, docs/evaluation/full-compare-test.md.) `--model`
replaces full mode's LM (`--engine learned-full`), to measure how a larger model restores; the
verification was fitted on the shipped model's scores.

Each text the findings changed is read by a judge LM before and after restoration (ln P per word,
`learned.readability`): the restoration target is that clean text never reads worse. The judge is
the shipped SmolLM2-135M, the model full mode restores with, so full mode's figure is partly its
own choice read back; `--judge gemma3-270m` reads with a model neither mode chose by.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import sys
import time
from pathlib import Path

from unspin.detect.lm import get_scorer
from unspin.evaluate import learned
from unspin.evaluate.simulate import HELD_OUT_PROFILES

log = logging.getLogger("evaluate_learned")


def make_engine(name: str, model: str | None = None):
    if model is not None and name != "learned-full":
        raise SystemExit("--model names full mode's language model: use it with --engine learned-full")
    if name not in ("learned", "learned-full"):
        raise SystemExit(f"unknown engine {name!r}: use learned or learned-full")
    from unspin.detect.encoder import get_detector
    from unspin.detect.learned import LearnedEngine

    detector = learned.CachedDetector(get_detector())
    mode = "full" if name == "learned-full" else "fast"
    return LearnedEngine(mode=mode, model=model, detector=detector), detector


def run(engine, split: str, limit: int, tortured_limit: int | None, judge=None) -> list[dict]:
    def read(cases, judged) -> dict:
        if judge is None:
            return {}
        return learned.readability(judge, [c.text for c in cases], [j.restored for j in judged]).as_dict()

    rows = []
    clean = learned.clean_cases(split, limit=limit)
    started = time.perf_counter()
    clean_counts, clean_judged = learned.score(engine, clean)
    clean_scores = [j.score for j in clean_judged]
    rows.append({"suite": "clean", "cases": len(clean), **clean_counts.as_dict(),
                 "clean_called_suspect": sum(j.verdict != "clean" for j in clean_judged),
                 **read(clean, clean_judged), "seconds": round(time.perf_counter() - started, 1)})
    for profile in HELD_OUT_PROFILES:
        cases = learned.spun_cases(split, profile.name, limit=limit)
        started = time.perf_counter()
        counts, judged = learned.score(honest(engine, profile.sources), cases)
        heavy = [j.score for j, c in zip(judged, cases) if c.rate >= 0.05]
        called_clean = sum(j.verdict == "clean" for j, c in zip(judged, cases) if c.rate >= 0.1)
        rows.append({"suite": f"held-out {profile.name}", "cases": len(cases), **counts.as_dict(),
                     "document_auc": learned.auc(heavy, clean_scores),
                     "spun_10pct_called_clean": called_clean,
                     "dictionary_overlap": round(learned.dictionary_overlap(cases), 3),
                     **read(cases, judged), "seconds": round(time.perf_counter() - started, 1)})
    try:
        cases = learned.tortured_cases(split, limit=tortured_limit)
    except Exception as error:  # the PPS list is optional: without it the suite is left out, and said so
        log.warning("tortured suite skipped: %s", error)
        cases = []
    if cases:
        started = time.perf_counter()
        counts, judged = learned.score(engine, cases)
        rows.append({"suite": "tortured (unlisted)", "cases": len(cases), **counts.as_dict(), **read(cases, judged),
                     "seconds": round(time.perf_counter() - started, 1)})
    return rows


GOLD_PROFILES = ("mythes", "mythes-rare", "moby", "wordnet-rare")  # one dictionary each, no stock phrases


def honest(engine, sources: tuple[str, ...]):
    """The engine restoring without the dictionaries that spun a suite."""
    return engine.restoring_without(sources)


def run_gold(engine, split: str, limit: int) -> list[dict]:
    """Restoration alone, per profile, the restorer reading every dictionary but the one that spun."""
    from unspin.evaluate.simulate import PROFILES

    rows = []
    for profile_name in GOLD_PROFILES:
        restorer = honest(engine, PROFILES[profile_name].sources)
        cases = learned.spun_cases(split, profile_name, limit=limit)
        started = time.perf_counter()
        result = learned.restore_gold(restorer, cases)
        rows.append({"suite": f"gold {profile_name}", "cases": len(cases), "restorer": "+".join(restorer.restore_sources),
                     **result.as_dict(), "seconds": round(time.perf_counter() - started, 1)})
        log.info("%s", rows[-1])
    try:
        cases = learned.tortured_cases(split)
    except Exception as error:  # the PPS list is optional, as in `run`
        log.warning("tortured suite skipped: %s", error)
        cases = []
    if cases:  # no dictionary made these: the restorer reads them all
        result = learned.restore_gold(engine, cases[:limit * 5])
        rows.append({"suite": "gold tortured (unlisted)", "cases": min(len(cases), limit * 5),
                     "restorer": "+".join(engine.restore_sources), **result.as_dict()})
    return rows


def fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def table(rows: list[dict], columns: tuple[str, ...] | None = None) -> str:
    columns = columns or ("suite", "cases", "words", "gold", "precision", "recall", "restoration", "restoration_detected",
               "false_flags_per_1k", "document_auc", "clean_called_suspect", "spun_10pct_called_clean",
               "reads_worse", "lnp_per_word_delta")
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument("--engine", default="learned")
    parser.add_argument("--limit", type=int, default=60, help="passages per suite (half Brown, half nlp-corpus)")
    parser.add_argument("--tortured-limit", type=int, default=None)
    parser.add_argument("--write", type=Path, help="also write the table as Markdown into this folder "
                                                   "(as ENGINE-SPLIT.md)")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    parser.add_argument("--model", help="full mode's causal LM (a .gguf file, a Hugging Face folder or hub name; "
                                            "default: the shipped SmolLM2-135M)")
    parser.add_argument("--judge", help="the LM that reads each restored text against its input (default: the "
                                        "shipped SmolLM2-135M; gemma3-270m judges independently of full mode's choice)")
    parser.add_argument("--no-judge", action="store_true", help="skip that reading (quicker)")
    parser.add_argument("--gold", action="store_true",
                        help="restoration alone: hand the restorer each gold swap")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    engine, cache = make_engine(args.engine, args.model)
    if args.gold:
        rows = run_gold(engine, args.split, args.limit)
        text = table(rows, ("suite", "cases", "swaps", "restorer", "gold_restored", "gold_offered"))
    else:
        try:
            judge = None if args.no_judge else get_scorer(args.judge, device="cpu")
            rows = run(engine, args.split, args.limit, args.tortured_limit, judge)
        finally:
            if cache is not None:
                cache.save()
        text = table(rows)
    print(text)
    command = " ".join(["scripts/evaluate_learned.py", *(argv if argv is not None else sys.argv[1:])])
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")
    if args.write:
        header = (f"# Engine `{args.engine}`, split `{args.split}`\n\nMeasured {time.strftime('%Y-%m-%d')} on "
                  f"{platform.machine()} ({os.cpu_count()} cores) by `{command}`; {args.limit} passages per suite "
                  f"(half Brown, half nlp-corpus), each held-out profile at rates {', '.join(map(str, learned.SUITE_RATES))}.")
        if not args.gold and not args.no_judge:
            header += (f" `reads_worse`: of the texts the findings changed, those the judge LM ({judge.name}) reads "
                       "worse once restored (lower ln P per word); `lnp_per_word_delta`: the mean change (nats).")
        header += "\n\n"
        args.write.mkdir(parents=True, exist_ok=True)
        model = f"-{Path(args.model).stem}" if args.model else ""
        name = f"{args.engine}{model}-{args.split}{'-gold' if args.gold else ''}.md"
        (args.write / name).write_text(header + text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
