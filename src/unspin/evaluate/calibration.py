"""Is a document score of 0.7 right 70 % of the time? Labelled documents and ECE.

The labelled documents: ~300-word passages of real text (Brown passages and clean technical
documents of the split), each either left alone or spun by the simulator (held-out MyThes) at a
rate drawn from `RATES`, half and half, chosen by a hash of its id so that the set is the same
whatever the limit. The base rate is therefore 0.5; a score is calibrated for documents drawn
like these, and the figure says so.

`expected_calibration_error` bins the scores into ten equal-width bins and averages
|mean score - observed share of spun documents| weighted by the bins' sizes. The document models
are logistic regressions fitted on held-out labelled passages (scripts/train_learned_decision.py,
scripts/train_document_score.py), so no map is fitted on top of them; this measures whether they
hold (`unspin eval --suite calibration`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from unspin.model import Report

from . import corpora, technical

RATES = (0.05, 0.15, 0.30)
BINS = 10
SEED = 7


@dataclass(frozen=True)
class LabelledDocument:
    id: str
    text: str
    spun: bool
    rate: float


def _hash(*parts: str) -> int:
    return int(hashlib.sha256("\0".join(parts).encode()).hexdigest()[:8], 16)


def labelled_documents(split: str, *, limit: int | None = None, seed: int = SEED) -> list[LabelledDocument]:
    """Brown and technical passages of `split`, half of them spun; `limit` per corpus."""
    from unspin.lexicon import load_thesaurus

    from .simulate import spin

    thesaurus = load_thesaurus(("mythes",))
    pools = (corpora.passages("brown", split), technical.clean_technical(split))
    documents: list[LabelledDocument] = []
    for pool in pools:
        ordered = sorted(pool, key=lambda d: _hash("calibration", d.id))
        for doc in ordered[:limit] if limit is not None else ordered:
            if _hash("spun?", str(seed), doc.id) % 2 == 0:
                documents.append(LabelledDocument(doc.id, doc.text, False, 0.0))
                continue
            rate = RATES[_hash("rate", str(seed), doc.id) % len(RATES)]
            spun = spin(doc.text, rate=rate, seed=_hash("seed", str(seed), doc.id), thesaurus=thesaurus)
            documents.append(LabelledDocument(doc.id, spun.text, bool(spun.edits), rate if spun.edits else 0.0))
    return documents


def expected_calibration_error(scores: Sequence[float], labels: Sequence[bool], bins: int = BINS
                               ) -> tuple[float, list[dict[str, float]]]:
    """ECE over equal-width bins, and the calibration curve (one row per non-empty bin)."""
    rows, total = [], len(scores)
    if total == 0:
        return 0.0, rows
    ece = 0.0
    for k in range(bins):
        low, high = k / bins, (k + 1) / bins
        members = [i for i, s in enumerate(scores) if low <= s < high or (k == bins - 1 and s == 1.0)]
        if not members:
            continue
        mean = sum(scores[i] for i in members) / len(members)
        observed = sum(bool(labels[i]) for i in members) / len(members)
        ece += len(members) / total * abs(mean - observed)
        rows.append({"bin": f"{low:.1f}-{high:.1f}", "count": len(members), "mean_score": round(mean, 4),
                     "observed": round(observed, 4)})
    return ece, rows


def brier(scores: Sequence[float], labels: Sequence[bool]) -> float:
    return sum((s - float(y)) ** 2 for s, y in zip(scores, labels)) / max(len(scores), 1)


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float | None:
    """Area under the ROC curve (ties count a half); None without both classes."""
    positives = [s for s, y in zip(scores, labels) if y]
    negatives = [s for s, y in zip(scores, labels) if not y]
    if not positives or not negatives:
        return None
    ranked = sorted(negatives)
    import bisect

    wins = sum(bisect.bisect_left(ranked, p) + 0.5 * (bisect.bisect_right(ranked, p) - bisect.bisect_left(ranked, p))
               for p in positives)
    return wins / (len(positives) * len(negatives))


def run_calibration(split: str, check: Callable[[str], Report], *, limit: int | None = None) -> dict[str, Any]:
    """Score the labelled documents of `split`; ECE, Brier and AUC of the reported score."""
    started = time.perf_counter()
    documents = labelled_documents(split, limit=limit)
    scores, labels = [], []
    for doc in documents:
        report = check(doc.text)
        scores.append(report.score)
        labels.append(doc.spun)
    ece, curve = expected_calibration_error(scores, labels)
    return {
        "suite": "calibration", "split": split, "documents": len(documents),
        "spun_share": round(sum(labels) / max(len(labels), 1), 4),
        "ece": round(ece, 4), "brier": round(brier(scores, labels), 4),
        "auc": None if auc(scores, labels) is None else round(auc(scores, labels), 4),
        "curve": curve, "elapsed_s": round(time.perf_counter() - started, 1),
        "scores": scores, "labels": labels,
    }


def format_calibration(result: dict[str, Any]) -> str:
    lines = [
        f"calibration {result['split']}: {result['documents']} documents ({result['spun_share']:.0%} spun at "
        f"rates {', '.join(f'{r:.0%}' for r in RATES)}); ECE {result['ece']:.3f} (target <= 0.05), "
        f"Brier {result['brier']:.3f}, AUC {result['auc'] if result['auc'] is not None else 'n/a'}",
        f"  {'score bin':<10}{'docs':>6}{'mean score':>12}{'observed':>10}",
    ]
    for row in result["curve"]:
        lines.append(f"  {row['bin']:<10}{row['count']:>6}{row['mean_score']:>12.3f}{row['observed']:>10.3f}")
    return "\n".join(lines)
