"""`unspin.discover` (aggregation, ranking, CSV) and the `discover` command's adapter."""

from __future__ import annotations

import argparse
import csv
import io
import json

import pytest

from unspin.discover import (
    CSV_COLUMNS,
    Candidate,
    context,
    discover,
    engine_findings,
    engine_report,
    write_candidates_csv,
)
from unspin.errors import InputError, UsageError
from unspin.model import Finding, Report

SPUN = "Atmosphere alteration is presently the greatest danger confronting beach front networks.\n"


def finding(text: str, phrase: str, suggestion: str, confidence: float = 0.8, nth: int = 0,
            rule: str | None = None) -> Finding:
    start = -1
    for _ in range(nth + 1):
        start = text.index(phrase, start + 1)
    return Finding(start, start + len(phrase), phrase, suggestion, (), confidence, "test.v1", rule=rule)


def doc(text: str, *spans: tuple, id=None) -> tuple[Report, str]:
    findings = tuple(finding(text, *span) for span in spans)
    return Report(id, "fast", None, 0.0, "clean", findings, text), text


# -- aggregation ---------------------------------------------------------------------------------

def test_support_counts_documents_and_occurrences_every_finding():
    a = "We trained a profound learning model. Profound learning works."
    b = "Their Profound  Learning system is new."
    c = "Counterfeit consciousness is here."
    candidates = discover([
        doc(a, ("profound learning", "deep learning", 0.9), ("Profound learning", "Deep learning", 0.7), id="A"),
        doc(b, ("Profound  Learning", "Deep Learning", 0.5), id="B"),
        doc(c, ("Counterfeit consciousness", "Artificial intelligence", 0.99), id="C"),
    ])
    assert len(candidates) == 1  # "counterfeit consciousness" is in one document only
    found = candidates[0]
    assert (found.phrase, found.expected) == ("profound learning", "deep learning")  # case and spaces folded
    assert (found.support, found.occurrences) == (2, 3)
    assert found.mean_confidence == pytest.approx((0.9 + 0.7 + 0.5) / 3)
    assert found.max_confidence == pytest.approx(0.9)
    assert found.ids == ("A", "B")
    assert len(found.examples) == 2  # one per document, the first occurrence
    assert found.examples[0].startswith("We trained a [[profound learning]] model.")


def test_min_support_one_keeps_single_documents_and_repeats_do_not_add_support():
    text = "a spun word, a spun word, a spun word"
    items = [doc(text, ("spun", "plain", 0.9, 0), ("spun", "plain", 0.9, 1), ("spun", "plain", 0.9, 2))]
    assert discover(items) == []
    [only] = discover(items, min_support=1)
    assert (only.support, only.occurrences) == (1, 3)


def test_reports_sharing_an_id_are_one_document_and_missing_ids_are_numbered():
    text = "the azure sky"
    shared = [doc(text, ("azure", "blue"), id="paper-1"), doc(text, ("azure", "blue"), id="paper-1")]
    assert discover(shared) == []
    [numbered] = discover([doc(text, ("azure", "blue")), doc(text, ("azure", "blue"))])
    assert numbered.ids == ("#1", "#2") and numbered.support == 2


def test_ranking_support_then_mean_confidence_then_phrase():
    items = []
    for k in range(3):
        text = "alpha beta gamma delta"
        spans = [("alpha", "a2", 0.55), ("beta", "b2", 0.6), ("gamma", "g2", 0.9), ("delta", "d2", 0.9)]
        items.append(doc(text, *spans, id=k))
    items.append(doc("alpha only", ("alpha", "a2", 0.55), id=9))
    ranked = [c.phrase for c in discover(items)]
    # alpha: support 4 at 0.55 beats the rest (3); gamma and delta tie on both, so by phrase.
    assert ranked == ["alpha", "delta", "gamma", "beta"]
    assert [c.phrase for c in discover(items, limit=2)] == ["alpha", "delta"]


def test_min_confidence_and_list_matches_are_left_out():
    text = "the azure sky and the azure sea"
    items = [
        doc(text, ("azure", "blue", 0.4, 0), ("azure", "blue", 0.7, 1), id=1),
        doc(text, ("azure", "blue", 0.45, 0), id=2),
        doc(text, ("azure", "blue", 0.95, 0, "pps:3"), id=3),  # known: from a fingerprint list
    ]
    assert discover(items, min_confidence=0.5) == []  # only document 1 has a finding over 0.5
    [low] = discover(items, min_confidence=0.3)
    assert low.support == 2 and low.occurrences == 3 and low.max_confidence == pytest.approx(0.7)


def test_spans_must_index_their_text():
    report, _ = doc("the azure sky", ("azure", "blue"))
    with pytest.raises(UsageError, match="does not match"):
        discover([(report, "another text entirely")])


@pytest.mark.parametrize("options", [{"min_support": 0}, {"min_confidence": 1.5}, {"limit": 0}])
def test_bad_options_are_usage_errors(options):
    with pytest.raises(UsageError):
        discover([], **options)


# -- contexts ------------------------------------------------------------------------------------

def test_context_marks_the_span_and_cuts_partial_words():
    text = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. We trained\n\n  a profound learning "
            "model on the benchmark datasets of the evaluation campaign last year.")
    start = text.index("profound")
    shown = context(text, start, start + len("profound learning"))
    # 40 characters back reach into "consectetur", whose tail is dropped; the blank line and the
    # run of spaces become single spaces; 40 forward end inside "evaluation", which is dropped.
    assert shown == "...adipiscing elit. We trained a [[profound learning]] model on the benchmark datasets of the..."
    assert context("profound learning", 0, 8) == "[[profound]] learning"  # nothing cut, no dots


# -- CSV -----------------------------------------------------------------------------------------

def test_csv_round_trips_through_the_csv_module(tmp_path):
    candidate = Candidate("profound learning", "deep learning", 3, 4, 0.87654, 0.99,
                          ('...a "quoted", [[profound learning]] model...', "[[Profound learning]] is"), ("doc 1", "d2"))
    stream = io.StringIO()
    write_candidates_csv([candidate], stream)
    raw = stream.getvalue()
    assert raw.splitlines()[0] == ",".join(CSV_COLUMNS)
    assert raw.splitlines()[1].startswith('"""profound learning""",deep learning,3,0.8765,4,')
    header, row = list(csv.reader(io.StringIO(raw)))
    assert header[:3] == ["tortured_phrase", "expected_phrase", "num_papers"]
    record = dict(zip(header, row))
    assert record["tortured_phrase"] == '"profound learning"'
    assert record["example_context"].split(" | ") == list(candidate.examples)
    assert record["example_ids"] == "doc 1; d2"
    path = tmp_path / "candidates.csv"
    path.write_text("old content")
    write_candidates_csv([candidate], path)
    assert path.read_text(encoding="utf-8") == raw
    assert sorted(p.name for p in tmp_path.iterdir()) == ["candidates.csv"]  # no temporary file left


def test_written_candidates_load_as_a_fingerprint_list(tmp_path):
    from unspin.lexicon.fingerprints import load_fingerprints

    path = tmp_path / "candidates.csv"
    write_candidates_csv([Candidate("profound learning", "deep learning", 2, 2, 0.9, 0.9)], path)
    loaded = load_fingerprints(path)
    assert loaded.complete and len(loaded.fingerprints) == 1
    assert loaded.fingerprints[0].expected == "deep learning" and loaded.fingerprints[0].papers == 2


# -- with the engine -----------------------------------------------------------------------------

def test_engine_findings_at_a_lower_threshold_extend_the_engines_own(fast_engine):
    text = SPUN + "The chief constable made a profound learning of counterfeit consciousness yesterday.\n"
    own = fast_engine.detect(text).findings
    assert own and engine_findings(fast_engine, text, fast_engine.decision.site.threshold) == own
    low = engine_findings(fast_engine, text, 0.05)
    assert len(low) > len(own)
    assert [f for f in low if f.confidence >= fast_engine.decision.site.threshold] == own
    report = engine_report(fast_engine, text, threshold=0.05, id="x")
    from unspin.pipeline import get_checker

    usual = get_checker(mode="fast").check(text)  # score and verdict do not drift with the lower threshold
    assert report.spans == tuple(low) and (report.score, report.verdict) == (usual.score, usual.verdict)


def _args(tmp_path, *corpus, **options):
    from unspin.cli import discover as discover_cli

    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")

    def engine_options(p, lists=True):  # the subset of main's that discover uses
        p.add_argument("--mode", choices=("full", "fast"), default=None)
        p.add_argument("--model", default=None)
        p.add_argument("--device", default=None)
        p.add_argument("--config", default=None)
        p.add_argument("-v", "--verbose", action="store_true")

    discover_cli.add_parser(sub, engine_options)
    argv = ["discover", *map(str, corpus), "--out", str(tmp_path / "out.csv"), "--mode", "fast"]
    for key, value in options.items():
        argv += [f"--{key.replace('_', '-')}"] + ([] if value is True else [str(value)])
    return parser.parse_args(argv)


def _run(args):
    from unspin.cli.discover import run_discover

    out, err = io.StringIO(), io.StringIO()
    return run_discover(args, io.BytesIO(b""), out, err), out.getvalue(), err.getvalue()


def test_discover_command_writes_the_csv_and_refuses_to_overwrite(tmp_path, fast_engine):
    corpus = tmp_path / "corpus"
    (corpus / "sub").mkdir(parents=True)
    (corpus / ".hidden").mkdir()
    (corpus / "a.txt").write_text(SPUN)
    (corpus / "sub" / "b.md").write_text("Scientists agree.\n\n" + SPUN)
    (corpus / ".hidden" / "c.txt").write_text(SPUN)  # hidden folders are skipped
    (corpus / "notes.rst").write_text(SPUN)  # not a searched suffix
    records = [{"id": "p1", "text": SPUN}, {"text": "Nothing to see."}, {"id": "p1", "text": SPUN}]
    jsonl = tmp_path / "more.jsonl"
    jsonl.write_text("".join(json.dumps(r) + "\n" for r in records))

    code, out, err = _run(_args(tmp_path, corpus, jsonl))
    assert code == 0 and out == ""
    assert "read 5 documents" in err and "wrote 1 candidate " in err
    header, row = list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    assert header == list(CSV_COLUMNS)
    assert row[:3] == ['"atmosphere alteration"', "climate change", "3"]  # p1 twice is one document
    assert row[CSV_COLUMNS.index("example_ids")] == f"{corpus / 'a.txt'}; {corpus / 'sub' / 'b.md'}; p1"

    before = (tmp_path / "out.csv").read_bytes()
    with pytest.raises(UsageError, match="already exists"):
        _run(_args(tmp_path, corpus))
    assert (tmp_path / "out.csv").read_bytes() == before
    code, _, err = _run(_args(tmp_path, corpus, force=True, min_support=3))
    assert code == 0 and "wrote 0 candidates" in err
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == ",".join(CSV_COLUMNS) + "\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "more.jsonl", "out.csv"]


def test_discover_command_leaves_nothing_behind_on_bad_input(tmp_path, fast_engine):
    good = tmp_path / "a.txt"
    good.write_text(SPUN)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "text": "fine"}\nnot json\n')
    with pytest.raises(InputError, match="line 2"):
        _run(_args(tmp_path, good, bad))
    with pytest.raises(InputError, match="does not exist"):
        _run(_args(tmp_path, good, tmp_path / "missing.txt"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "bad.jsonl"]


# -- the evaluation's scoring ----------------------------------------------------------------------

def test_discovery_evaluation_scores_pairs_phrases_and_recurrence():
    from unspin.evaluate.discovery import (
        SpunDocument,
        recurring_pairs,
        score_candidates,
        sweep,
        truth,
    )
    from unspin.evaluate.simulate import Edit

    def spun(doc_id, *swaps):
        return SpunDocument(doc_id, "", tuple(Edit(0, 0, s, o, 0, 0) for s, o in swaps))

    docs = [spun("brown/ca01#0", ("Profound  learning", "deep learning")),
            spun("brown/ca01#1", ("profound learning", "Deep learning")),
            spun("brown/cb02#0", ("azure", "blue"), ("profound learning", "deep learning"))]
    pairs, phrases = truth(docs)
    assert pairs == {("profound learning", "deep learning"), ("azure", "blue")}
    assert recurring_pairs(docs, "passage") == 1 and recurring_pairs(docs[:2], "passage") == 1
    assert recurring_pairs(docs[:2], "document") == 0  # two passages of one Brown file
    candidates = [Candidate("profound learning", "deep learning", 2, 2, 0.9, 0.9),
                  Candidate("azure", "sky blue", 2, 2, 0.8, 0.8),  # spun phrase, wrong original
                  Candidate("model", "lesson", 2, 2, 0.7, 0.7)]
    scored = score_candidates(candidates, pairs, phrases, top=2)
    assert scored == {"top_n": 2, "true_in_top": 1, "phrase_true_in_top": 2,
                      "precision_at_top": 0.5, "precision_at_top_phrase": 1.0}
    with pytest.raises(UsageError, match="dev split"):
        sweep("test")
