"""How much attention a document needs: a risk level from its score and its density of findings.

`Report.verdict` comes from the score (a model's P(spun)) once there is a finding, and is at least
"suspect" when the findings are more than clean text of that length gives
(`unspin.detect.score.more_findings_than_clean`). A reader
triaging a batch also wants to know how *many* places to look at, so the risk level combines
the score with the density of findings: findings per 1,000 words (`Report.words`). The labels
describe the review a document needs, never what its author did.

Levels, checked from the top (`density` = findings per 1,000 words; `n` = number of findings):

- none:   no findings;
- high:   score >= HIGH_SCORE (0.8), density >= HIGH_DENSITY (3.0) and n >= HIGH_MIN_FINDINGS (2);
- medium: score >= MEDIUM_SCORE (0.5) and density >= MEDIUM_DENSITY (1.0);
- low:    any other document with findings.

Why these numbers:

- MEDIUM_DENSITY = 1.0 per 1,000 words is the project's false-flag target: clean text may
  produce up to about one flag per 1,000 words by chance (measured 0.1-0.7, README "Measured"),
  so a density below it is what an unspun document can look like.
- HIGH_DENSITY = 3.0 is three times that ceiling. With recall around 0.15, a document spun at
  15 % of eligible words (tens of swaps per 1,000 words) shows well above 3 findings per 1,000;
  a clean one rarely does.
- MEDIUM_SCORE and HIGH_SCORE are the "suspect" and "spun" cuts of the shipped decision models
  (`data/decision-*-v1.json`, "verdict"), so the level never contradicts the verdict's order:
  "high" needs what "spun" needs, plus enough findings.
- HIGH_MIN_FINDINGS = 2: in a short abstract one flag is already a high density, and one span
  can always be a false flag, so a single finding never makes a document "high".

When the word count is unknown (`words` is 0, as in a report read back from JSON, which does
not carry it), pass `words=` (for example `count_words(source)`); with no count at all the
density gates are skipped and the score and number of findings decide alone.
"""

from __future__ import annotations

from unspin.model import Report

from unspin.detect import score as _score

# The thresholds live with the score (`unspin.detect.score`), which puts the level into every report.
HIGH_SCORE = _score.HIGH_SCORE
HIGH_DENSITY = _score.HIGH_DENSITY
HIGH_MIN_FINDINGS = _score.HIGH_MIN_FINDINGS
MEDIUM_SCORE = _score.MEDIUM_SCORE
MEDIUM_DENSITY = _score.MEDIUM_DENSITY
count_words = _score.count_words

LEVELS = ("high", "medium", "low", "none")
LABELS = {
    "high": "high: review recommended",
    "medium": "medium: review suggested",
    "low": "low: isolated findings, a quick check is enough",
    "none": "none: no sign of spinning found",
}
# The verdict in the same neutral words as `unspin check` (report/text.py).
VERDICT_LABELS = {
    "spun": "likely machine-spun: review recommended",
    "suspect": "some signs of spinning: review suggested",
    "clean": "no sign of spinning found",
}


def density_per_1k(report: Report, words: int | None = None) -> float | None:
    """Findings per 1,000 words, or None when the word count is unknown (0)."""
    return _score.density_per_1k(len(report.spans), report.words if words is None else words)


def risk_level(report: Report, *, words: int | None = None) -> str:
    """"high", "medium", "low" or "none" (see the module docstring for the thresholds)."""
    return _score.risk_level(report.score, len(report.spans), report.words if words is None else words)


def risk_label(level: str) -> str:
    """The neutral wording shown to people: "high: review recommended", ..."""
    return LABELS[level]


def verdict_label(verdict: str) -> str:
    """The verdict in words; an unknown verdict is shown as it is."""
    return VERDICT_LABELS.get(verdict, verdict)
