"""`--fingerprints`, `--no-engine`, `--config` and `unspin lexicon`, called in-process."""

from __future__ import annotations

import io
import json

import pytest

from unspin.cli.main import main
from unspin.lexicon.fingerprints import load_fingerprints

TEXT = "Profound learning beats the irregular woodland.\nDeep learning is everywhere.\n"


def run(argv, stdin: bytes = b""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.BytesIO(stdin), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def lists(tmp_path):
    pps = tmp_path / "pps.csv"
    pps.write_text('tortured_phrase,expected_phrase,num_papers\n'
                   '"""profound learning"" AND ""deep learning""",deep learning,"4,353"\n'
                   '"""irregular woodland""",random forest,12\n', encoding="utf-8")
    broken = tmp_path / "broken.tsv"
    broken.write_text("tortured\texpected\nbosom growth\tbreast cancer\n\"oops\tx\n", encoding="utf-8")
    source = tmp_path / "in.txt"
    source.write_text(TEXT, encoding="utf-8")
    return tmp_path


def test_check_reports_list_matches_with_rule_ids(lists):
    code, out, err = run(["check", str(lists / "in.txt"), "--no-engine", "--fingerprints", str(lists / "pps.csv"),
                          "--format", "json"])
    assert code == 0, err
    report = json.loads(out)
    found = [(s["text"], s["suggestion"], s["rule"], s["detector"]) for s in report["spans"]]
    assert found == [("Profound learning", "Deep learning", "pps:2", "fingerprint.v1"),
                     ("irregular woodland", "random forest", "pps:3", "fingerprint.v1")]
    assert report["restored"].startswith("Deep learning beats the random forest.")
    assert report["mode"] == "fast" and report["model"] is None


def test_lists_and_engine_merge_without_overlap(lists):
    code, out, _ = run(["check", str(lists / "in.txt"), "--mode", "fast", "--fingerprints", str(lists / "pps.csv"),
                        "--format", "json"])
    spans = json.loads(out)["spans"]
    assert code == 0 and any(s["detector"] == "fingerprint.v1" for s in spans)
    assert all(a["end"] <= b["start"] for a, b in zip(spans, spans[1:]))


def test_text_report_explains_the_fingerprint(lists):
    _, out, _ = run(["check", str(lists / "in.txt"), "--no-engine", "--fingerprints", str(lists / "pps.csv")])
    assert 'matches fingerprint "irregular woodland" of list pps (line 3, which retrieved 12 papers)' in out


def test_skipped_lines_are_warned_and_validate_fails(lists):
    code, _, err = run(["check", str(lists / "in.txt"), "--no-engine", "--fingerprints", str(lists / "broken.tsv")])
    assert code == 0 and "1 skipped (line 3: unbalanced double quote" in err
    code, out, _ = run(["lexicon", "validate", str(lists / "pps.csv"), str(lists / "broken.tsv")])
    assert code == 1
    assert "pps: 2 fingerprints from 2 rows" in out and f"{lists / 'broken.tsv'}:3: unbalanced" in out


def test_unreadable_list_is_one_line_exit_3(lists):
    bad = lists / "bad.csv"
    bad.write_bytes(b"tortured_phrase,expected_phrase\n\"caf\xe9\",x\n")
    code, out, err = run(["check", str(lists / "in.txt"), "--no-engine", "--fingerprints", str(bad)])
    assert code == 3 and out == "" and len(err.strip().splitlines()) == 1 and "not UTF-8" in err


def test_export_round_trips(lists):
    out_path = lists / "merged.csv"
    code, _, err = run(["lexicon", "export", "--fingerprints", str(lists / "pps.csv"), "-o", str(out_path)])
    assert code == 0, err
    merged = load_fingerprints(out_path)
    queries = {fp.query for fp in merged.fingerprints}
    assert '"profound learning" AND "deep learning"' in queries and '"then again"' in queries  # + idioms
    code, _, err = run(["lexicon", "export", "--fingerprints", str(lists / "pps.csv"), "-o", str(out_path)])
    assert code == 2 and "--force" in err


def test_info_lists_hashes(lists):
    code, out, _ = run(["lexicon", "info", "--fingerprints", str(lists / "pps.csv"), "--format", "json"])
    items = {item["name"]: item for item in json.loads(out)}
    assert code == 0 and items["pps"]["entries"] == 2 and len(items["pps"]["sha256"]) == 64
    assert items["idioms"]["entries"] > 20 and len(items["idioms"]["sha256"]) == 64
    assert len(items["document-learned-full"]["sha256"]) == 64  # full mode's document model is hashed too
    assert len(items["ranker-fast"]["sha256"]) == 64  # and fast mode's choice among its readings


def test_config_file_supplies_lists_relative_to_itself(lists):
    (lists / "unspin.toml").write_text('[tool.unspin]\nno_engine = true\nfingerprints = ["pps.csv"]\n')
    code, out, _ = run(["check", str(lists / "in.txt"), "--config", str(lists / "unspin.toml"), "--format", "json"])
    assert code == 0 and [s["rule"] for s in json.loads(out)["spans"]] == ["pps:2", "pps:3"]
    (lists / "bad.toml").write_text('mode = "quick"\n')
    code, _, err = run(["check", str(lists / "in.txt"), "--config", str(lists / "bad.toml")])
    assert code == 2 and "mode = 'quick'" in err
