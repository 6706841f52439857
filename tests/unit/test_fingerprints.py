"""Fingerprint lists: the PPS query language, the list formats, matching with exact offsets."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from unspin.detect.fingerprints import FingerprintMatcher, fit_case, merge, normalise
from unspin.errors import InputError
from unspin.lexicon.fingerprints import (
    And, Not, Or, QuerySyntaxError, Term, clean_expected, load_fingerprints, parse_query, primary_terms,
)
from unspin.model import Finding

from pps import needs_pps_data

PPS_DIR = Path(os.environ.get("UNSPIN_PPS_DIR") or Path(__file__).resolve().parents[3] / "shared" / "data" / "pps")
PPS_EXPORT = PPS_DIR / "fingerprints_pps_export.csv"
needs_pps = needs_pps_data(PPS_EXPORT.is_file(), str(PPS_EXPORT))


def write_csv(tmp_path: Path, rows: list[tuple[str, str, str]], header=("tortured_phrase", "expected_phrase", "num_papers")):
    import csv

    path = tmp_path / "list.csv"
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def matcher_for(tmp_path: Path, rows: list[tuple[str, str]]) -> FingerprintMatcher:
    path = write_csv(tmp_path, [(q, e, "1") for q, e in rows])
    return FingerprintMatcher([load_fingerprints(path)])


def spans(matcher: FingerprintMatcher, text: str) -> list[tuple[str, str]]:
    found = matcher.match(text)
    for finding in found:
        assert text[finding.start:finding.end] == finding.text
    return [(f.text, f.suggestion) for f in found]


# -- the query language ------------------------------------------------------------------------

def test_phrase_and_bare_word():
    assert parse_query('"profound learning"') == Term(("profound", "learning"))
    assert parse_query("profound learning") == Term(("profound", "learning"))  # no quote: literal
    assert parse_query('"bosom" AND "breast"') == And((Term(("bosom",)), Term(("breast",))))


def test_operators_parentheses_proximity_wildcard():
    node = parse_query('"PC helped" AND ("be that as it" OR "on the off chance")')
    assert node == And((Term(("pc", "helped")), Or((Term(("be", "that", "as", "it")), Term(("on", "the", "off", "chance"))))))
    assert parse_query('"surface highlights" NOT specular') == And((Term(("surface", "highlights")), Not(Term(("specular",)))))
    assert parse_query('"gatherings clustering"~10') == Term(("gatherings", "clustering"), slop=10)
    assert parse_query('"enhancement calculation" AND optimiz*') == And(
        (Term(("enhancement", "calculation")), Term(("optimiz",), prefix=True)))


def test_hyphens_are_spaces_in_queries():
    assert parse_query('"non-direct" AND x').items[0] == Term(("non", "direct"))


def test_primary_terms_are_the_highlighted_ones():
    assert primary_terms(parse_query('"malignant growth" AND "cancer"')) == (Term(("malignant", "growth")),)
    assert primary_terms(parse_query('"a b" OR "c d"')) == (Term(("a", "b")), Term(("c", "d")))
    assert primary_terms(parse_query('"x" NOT "y"')) == (Term(("x",)),)


@pytest.mark.parametrize("query, message", [
    ('"unbalanced', "unbalanced double quote"),
    ('"a" AND', "end with an operator"),
    ('("a" OR "b"', "unbalanced parenthesis"),
    ('"a" OR "b")', "unexpected"),
    ('""', "empty phrase"),
    ('"opt*mize"', "wildcard inside a word"),
    ('"ab*"', "too short"),
    ('NOT "a"', "only excludes"),
    ('~5 "a"', "proximity"),
])
def test_malformed_queries(query, message):
    with pytest.raises(QuerySyntaxError, match=message):
        parse_query(query)


def test_clean_expected():
    assert clean_expected("back propagation (BP)") == "back propagation"
    assert clean_expected("(mean) squared error") == "squared error"
    assert clean_expected("rythm pattern (?)") == "rythm pattern"
    assert clean_expected("social influence, see https://en.wikipedia.org/wiki/UTAUT") == "social influence"
    assert clean_expected("Internet of Things (IoT)", keep_glosses=True) == "Internet of Things (IoT)"


# -- list formats ------------------------------------------------------------------------------

def test_pps_site_export_columns(tmp_path):
    path = write_csv(tmp_path, [('"profound learning"', "deep learning", "4,353")],
                     header=("Fingerprint - Tortured Phrase", "Expected Text", "Nb Retrieved Papers"))
    loaded = load_fingerprints(path)
    assert loaded.format == "pps-csv" and loaded.complete
    (fingerprint,) = loaded.fingerprints
    assert fingerprint.expected == "deep learning" and fingerprint.papers == 4353 and fingerprint.line == 2


def test_json_and_tsv(tmp_path):
    data = tmp_path / "pairs.json"
    data.write_text(json.dumps({"phrases": [{"tortured": "bosom growth", "correct": "breast cancer"}, 5]}))
    loaded = load_fingerprints(data)
    assert loaded.format == "json" and len(loaded.fingerprints) == 1 and loaded.warnings[0][0] == 2
    tsv = tmp_path / "list.tsv"
    tsv.write_text("tortured\texpected\nbosom growth\tbreast cancer\n\"bad\tx\n\tnothing\n")
    loaded = load_fingerprints(tsv)
    assert [fp.expected for fp in loaded.fingerprints] == ["breast cancer"]
    assert [line for line, _ in loaded.warnings] == [3, 4]
    assert "skipped" in loaded.summary() and not loaded.complete


def test_bad_lists_are_errors_not_half_loads(tmp_path):
    missing_columns = write_csv(tmp_path, [("a", "b", "c")], header=("x", "y", "z"))
    with pytest.raises(InputError, match="missing columns"):
        load_fingerprints(missing_columns)
    latin = tmp_path / "latin.csv"
    latin.write_bytes('tortured_phrase,expected_phrase\n"caf\xe9",coffee\n'.encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        load_fingerprints(latin)
    only_bad = write_csv(tmp_path, [('"unbalanced', "x", "1")])
    with pytest.raises(InputError, match="no usable fingerprint"):
        load_fingerprints(only_bad)
    with pytest.raises(InputError, match="not found"):
        load_fingerprints(tmp_path / "nope.csv")


# -- matching ----------------------------------------------------------------------------------

def test_case_hyphen_and_line_break_variants(tmp_path):
    matcher = matcher_for(tmp_path, [('"neural organization"', "neural network"), ('"non-direct"', "non-linear")])
    assert spans(matcher, "A NEURAL ORGANIZATION.") == [("NEURAL ORGANIZATION", "NEURAL NETWORK")]
    assert spans(matcher, "a neural\n  organization") == [("neural\n  organization", "neural network")]
    assert spans(matcher, "a neural-organization") == [("neural-organization", "neural network")]
    assert spans(matcher, "the neural organiza-\ntion") == [("neural organiza-\ntion", "neural network")]
    assert spans(matcher, "non direct and non-direct") == [("non direct", "non-linear"), ("non-direct", "non-linear")]


def test_word_boundaries(tmp_path):
    matcher = matcher_for(tmp_path, [('"bosom"', "breast")])
    assert spans(matcher, "bosomy bosoms unbosom") == []
    assert spans(matcher, "(bosom)") == [("bosom", "breast")]


def test_and_or_not_are_document_level(tmp_path):
    matcher = matcher_for(tmp_path, [
        ('"malignant growth" AND "cancer"', "cancer"),
        ('"surface highlights" NOT specular', "surface features"),
        ('"PC helped" AND ("be that as it" OR "on the off chance")', "computer-aided"),
    ])
    assert spans(matcher, "A malignant growth.") == []
    assert spans(matcher, "A malignant growth.\n\nLater: cancer.") == [("malignant growth", "cancer")]
    assert spans(matcher, "surface highlights") == [("surface highlights", "surface features")]
    assert spans(matcher, "surface highlights and specular light") == []
    assert spans(matcher, "PC helped design") == []
    assert spans(matcher, "PC helped design, be that as it may") == [("PC helped", "Computer-aided")]


def test_proximity_and_wildcard(tmp_path):
    matcher = matcher_for(tmp_path, [
        ('"exactness accuracy"~5', "accuracy"),
        ('"enhancement calculation" AND optimiz*', "optimization algorithm"),
    ])
    assert spans(matcher, "the exactness of the model accuracy") == [("exactness", "accuracy")]
    far = "the exactness " + "word " * 10 + "accuracy"
    assert spans(matcher, far) == []
    assert spans(matcher, "an enhancement calculation") == []
    assert spans(matcher, "an enhancement calculation for optimizing") == [
        ("enhancement calculation", "optimization algorithm")]


def test_offsets_survive_lowercasing_that_grows():
    text = "İstanbul: a bosom x"
    norm = normalise(text)
    position = norm.text.index("bosom")
    assert text[norm.to_input(position):norm.to_input(position) + 5] == "bosom"


def test_fit_case():
    assert fit_case("Profound learning", "deep learning") == "Deep learning"
    assert fit_case("profound learning", "Deep learning") == "deep learning"
    assert fit_case("Profound Learning", "deep learning") == "Deep Learning"
    assert fit_case("PROFOUND LEARNING", "deep learning") == "DEEP LEARNING"
    assert fit_case("web of things", "IoT devices") == "IoT devices"


def test_merge_prefers_list_matches_and_never_overlaps():
    def finding(start, end, detector, suggestion="x", rule=None):
        return Finding(start, end, "t" * (end - start), suggestion, (), 0.9, detector, rule=rule)

    listed = [finding(0, 10, "fingerprint.v1", "a", "l:1"), finding(0, 10, "fingerprint.v1", "b", "l:2"),
              finding(4, 6, "fingerprint.v1", "c", "l:3")]
    engine = [finding(8, 12, "thesaurus-ngram.v1"), finding(20, 25, "thesaurus-ngram.v1")]
    merged = merge(listed, engine)
    assert [(f.start, f.end, f.detector) for f in merged] == [(0, 10, "fingerprint.v1"), (20, 25, "thesaurus-ngram.v1")]
    assert merged[0].suggestion == "a" and merged[0].alternatives == ("b",)


PHRASES = ["profound learning", "bosom growth", "irregular woodland", "counterfeit consciousness"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(PHRASES), st.text(min_size=0, max_size=8)), max_size=12),
       st.lists(st.sampled_from([" ", "  ", "\n", "-", "-\n", "\t", "\u00ad", ", "]), min_size=1, max_size=12))
def test_matches_always_slice_the_input(tmp_path_factory, pieces, separators):
    matcher = _property_matcher(tmp_path_factory)
    words = []
    for k, piece in enumerate(pieces):
        if piece in PHRASES and k % 2:
            piece = piece.replace(" ", separators[k % len(separators)]).upper()
        words.append(piece)
    text = separators[0].join(words)
    found = matcher.match(text)
    for finding in found:
        assert text[finding.start:finding.end] == finding.text
    merged = merge(found, [])
    assert all(a.end <= b.start for a, b in zip(merged, merged[1:]))


_MATCHER: list[FingerprintMatcher] = []


def _property_matcher(factory) -> FingerprintMatcher:
    if not _MATCHER:
        _MATCHER.append(matcher_for(factory.mktemp("lists"), [(f'"{p}"', "x") for p in PHRASES]))
    return _MATCHER[0]


# -- the shared PPS list (evaluation data, read from ../shared only) ---------------------------

@needs_pps
def test_loads_the_whole_pps_export():
    loaded = load_fingerprints(PPS_EXPORT)
    assert loaded.complete and len(loaded.fingerprints) == 7644
    matcher = FingerprintMatcher([loaded])
    text = "Our counterfeit consciousness uses an irregular woodland. Profound learning helps deep learning."
    found = spans(matcher, text)
    assert ("counterfeit consciousness", "artificial intelligence") in found
    assert ("irregular woodland", "random forest") in found
    assert ("Profound learning", "Deep learning") in found


# -- scoring a document by its list matches alone (`--no-engine`) ------------------------------

def test_list_only_runs_score_matches_as_verified_findings(tmp_path):
    from unspin.detect.learned import list_only_decision
    from unspin.pipeline import Checker

    path = write_csv(tmp_path, [('"profound learning"', "deep learning", "1")])
    checker = Checker(mode="fast", fingerprints=(path,), engine=False)
    # Full mode's document model, which reads the findings' summed confidence, not the
    # word-level evidence that a run without the engine does not have.
    assert checker.decision == list_only_decision()
    assert checker.decision.document.features == ("found",)
    filler = "The committee met on Tuesday to discuss the budget for next year. " * 25  # 325 words
    reports = {n: checker.check(filler + "We used profound learning here. " * n) for n in (0, 1, 3, 8)}
    assert reports[0].score < reports[1].score < reports[3].score < reports[8].score
    # One match is worth a look (lists rarely match clean text), whatever the score says.
    assert reports[1].score < list_only_decision().suspect_score
    assert [reports[n].verdict for n in (0, 1, 8)] == ["clean", "suspect", "spun"]
