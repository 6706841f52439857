"""The CSV, XLSX and HTML renderers and the risk level, on reports built by hand (no engine).

The hostile cases put `<script>` and `onerror=` payloads everywhere input can reach a report:
the text (and so the spans), suggestions, alternatives, ids, detector and rule names, evidence,
resource descriptions and the page title. Parsing the page back must find only the renderer's
own script and no event-handler attribute, with each payload present as plain text.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import math
import sys
from html.parser import HTMLParser

import pytest

from unspin.model import Finding, Report
from unspin.report import risk
from unspin.report.csv import COLUMNS, guard_cell, render_csv, unguard_cell
from unspin.report.html import (
    CONTENT_SECURITY_POLICY,
    SCRIPT,
    STYLESHEET,
    render_document_fragment,
    render_html,
    render_restored_fragment,
)

SPUN = "We trained a profound learning model.\nIt beats counterfeit consciousness on huge information."


def finding(text: str, phrase: str, suggestion: str, confidence: float = 0.93, **extra) -> Finding:
    start = text.index(phrase)
    extra.setdefault("detector", "engine.v1")
    return Finding(start, start + len(phrase), phrase, suggestion, extra.pop("alternatives", ()), confidence,
                   **extra)


def report(text: str, spans: tuple[Finding, ...], *, id="doc-1", score: float = 0.9, verdict: str = "spun",
           words: int | None = None) -> Report:
    from unspin.restoration import apply_findings

    return Report(id=id, mode="fast", model=None, score=score, verdict=verdict, spans=spans,
                  restored=apply_findings(text, spans), unspin_version="0.1.0",
                  words=len(text.split()) if words is None else words)


ENGINE = finding(SPUN, "profound learning", "deep learning", alternatives=("machine learning", "=SUM(1)"),
                 evidence={"trigram_gain": 2.5, "window_rate": 0.12, "linked_by": ["moby", "wordnet"]})
LISTED = finding(SPUN, "counterfeit consciousness", "artificial intelligence", 0.75, detector="fingerprints.v1",
                 rule="pps:12", evidence={"list": "pps", "line": 12, "query": "counterfeit consciousness",
                                          "papers": 1234})
SPUN_REPORT = report(SPUN, (ENGINE, LISTED))
CLEAN = "Nothing to see here."
CLEAN_REPORT = report(CLEAN, (), id=7, score=0.5, verdict="clean")


# -- reading a report back ----------------------------------------------------------------------

def test_a_report_round_trips_through_to_dict_and_from_dict_with_its_risk() -> None:
    # The web job store keeps reports as JSON and rebuilds them for the CSV and HTML exports: the
    # rebuilt report must be the same, risk included (an earlier reader dropped it).
    located = finding(SPUN, "huge information", "big data", location={"paragraph": 2, "section": "Methods"})
    original = dataclasses.replace(report(SPUN, (ENGINE, LISTED, located), score=0.9123), risk="high",
                                   document={"format": "markdown", "excluded": []})
    data = json.loads(json.dumps(original.to_dict()))  # as stored: through JSON text
    again = Report.from_dict(data, words=original.words)
    assert again == original
    assert again.risk == "high" and again.to_dict() == original.to_dict()
    assert Report.from_dict(CLEAN_REPORT.to_dict(), words=CLEAN_REPORT.words) == CLEAN_REPORT  # no risk: None


# -- risk ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("spans", "score", "words", "level"), [
    (0, 0.99, 100, "none"),            # no findings: nothing to review, whatever the score
    (2, 0.9, 100, "high"),             # 20 per 1,000 words and a spun-level score
    (1, 0.95, 100, "medium"),          # one finding never makes a document "high"
    (3, 0.9, 2000, "medium"),          # 1.5 per 1,000: above the false-flag rate, below 3
    (1, 0.9, 2000, "low"),             # 0.5 per 1,000: what clean text can look like
    (5, 0.45, 100, "low"),             # many findings but a low score
    (2, 0.9, 0, "high"),               # word count unknown: score and count decide
])
def test_risk_levels_follow_the_documented_thresholds(spans, score, words, level) -> None:
    text = " ".join(["word"] * max(words, 1))
    found = tuple(Finding(5 * i, 5 * i + 4, "word", "term", (), 0.9, "test") for i in range(spans))
    assert risk.risk_level(report(text, found, score=score, words=words)) == level


def test_risk_thresholds_and_labels_are_neutral() -> None:
    assert risk.MEDIUM_DENSITY < risk.HIGH_DENSITY and risk.MEDIUM_SCORE < risk.HIGH_SCORE
    assert set(risk.LABELS) == set(risk.LEVELS)
    assert risk.risk_label("high") == "high: review recommended"
    for label in [*risk.LABELS.values(), *risk.VERDICT_LABELS.values()]:
        assert not any(word in label.lower() for word in ("plagiar", "cheat", "fraud", "guilty", "copied"))


def test_risk_word_count_can_be_given_when_the_report_lacks_it() -> None:
    two = report(" ".join(["word"] * 2000), (Finding(0, 4, "word", "term", (), 0.9, "t"),
                                              Finding(5, 9, "word", "term", (), 0.9, "t")), words=0)
    assert risk.risk_level(two) == "high"  # unknown count: density not checked
    assert risk.risk_level(two, words=2000) == "medium"
    assert risk.density_per_1k(two) is None and risk.density_per_1k(two, 2000) == 1.0


def test_poisson_tail_matches_its_sums_and_stays_finite_for_long_documents() -> None:
    from unspin.detect.score import poisson_tail

    assert poisson_tail(0, 0.3) == 1.0
    assert poisson_tail(1, 0.3) == pytest.approx(1 - math.exp(-0.3))
    assert poisson_tail(3, 0.3) == pytest.approx(1 - math.exp(-0.3) * (1 + 0.3 + 0.045))
    assert poisson_tail(5, 5.0) == pytest.approx(1 - math.exp(-5) * sum(5**k / math.factorial(k) for k in range(5)))
    # A 10 MB text at the clean rate: exp(-1673) underflows, the tail must not.
    assert poisson_tail(1700, 1673.0) == pytest.approx(0.26, abs=0.02)
    assert poisson_tail(8400, 1673.0) < 1e-100
    assert poisson_tail(1000, 1673.0) == pytest.approx(1.0)


@pytest.mark.parametrize(("findings", "words", "called"), [
    (1, 20, False),     # one finding can always be a false flag
    (2, 300, False),    # P(>= 2 | 0.3 expected) = 0.037: clean text does that
    (3, 300, True),     # P(>= 3 | 0.3) = 0.0036
    (3, 700, False),    # 4.3 per 1,000 words: under the density floor
    (12, 2000, True),   # 6 per 1,000 words, P(>= 12 | 2) ~ 1e-6
    (9, 2000, False),   # 4.5 per 1,000 words
    (3, 0, False),      # no word count: the rule cannot apply
])
def test_more_findings_than_clean_text_gives(findings, words, called) -> None:
    from unspin.detect.score import more_findings_than_clean

    assert more_findings_than_clean(findings, words) is called


def test_many_findings_make_a_low_score_suspect_but_never_spun() -> None:
    from unspin.detect.decide import DecisionModel
    from unspin.detect.score import verdict

    decision = DecisionModel(site=None, document=None, suspect_score=0.1, spun_score=0.4, provenance={})
    three = [Finding(k, k + 1, "w", "v", (), 0.9, "t") for k in range(3)]
    assert verdict(decision, 0.01, three, 300) == "suspect"
    assert verdict(decision, 0.01, three[:2], 300) == "clean"
    assert verdict(decision, 0.01, three, 3000) == "clean"
    assert verdict(decision, 0.5, three[:1], 3000) == "spun"
    assert verdict(decision, 0.9, [], 300) == "clean"


def test_a_document_model_over_the_findings_scores_by_their_summed_confidence() -> None:
    """Full mode's document model reads "found" (its verified findings' summed confidence per 1,000
    words); a model that does not name it scores the same whatever the findings are."""
    from unspin.detect.decide import DecisionModel, LogisticModel
    from unspin.detect.score import assemble_report, document_score

    def decision(features: tuple[str, ...]) -> DecisionModel:
        n = len(features)
        document = LogisticModel("t", features, (1.0,) * n, -2.0, (0.0,) * n, (1.0,) * n, 0.5)
        return DecisionModel(site=None, document=document, suspect_score=0.5, spun_score=0.8, provenance={})

    over_findings, word_level = decision(("found",)), decision(("density", "doc_rate"))
    assert document_score(over_findings, 0.0, 300, 0.0, found=0.0) == pytest.approx(1 / (1 + math.exp(2.0)))
    assert document_score(over_findings, 0.0, 300, 0.0, found=3.0) == pytest.approx(
        1 / (1 + math.exp(2.0 - math.log1p(10.0))))
    assert document_score(word_level, 1.5, 300, 0.1, found=3.0) == document_score(word_level, 1.5, 300, 0.1)

    text = "one two three four five six seven eight nine ten"
    findings = [Finding(k * 4, k * 4 + 3, text[k * 4:k * 4 + 3], "x", (), c, "t") for k, c in enumerate((0.9, 0.6))]
    report = assemble_report(text, findings, id=None, mode="full", model=None, words=10, expected=0.0, rate=0.0,
                             decision=over_findings)
    assert report.score == pytest.approx(document_score(over_findings, 0.0, 10, 0.0, found=1.5))


def test_a_mode_without_its_own_document_model_gets_none() -> None:
    from unspin.detect.decide import load_document_model

    assert load_document_model("no-such-mode", None) is None


# -- CSV -----------------------------------------------------------------------------------------

def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_one_row_per_finding_round_trips() -> None:
    text = render_csv([(SPUN_REPORT, SPUN), (CLEAN_REPORT, CLEAN)])
    rows = read_csv(text)
    assert text.splitlines()[0] == ",".join(COLUMNS)
    assert len(rows) == 2  # the clean document adds no row
    first, second = rows
    assert first["id"] == "doc-1" and int(first["start"]) == ENGINE.start and int(first["end"]) == ENGINE.end
    assert (first["line"], first["column"]) == ("1", "14")
    assert (second["line"], second["column"]) == ("2", "10")
    assert SPUN[int(second["start"]):int(second["end"])] == second["text"] == "counterfeit consciousness"
    assert unguard_cell(first["alternatives"]).split(" | ") == ["machine learning", "=SUM(1)"]
    assert float(first["confidence"]) == pytest.approx(0.93)
    assert second["detector"] == "fingerprints.v1" and second["rule"] == "pps:12" and first["rule"] == ""
    assert json.loads(second["evidence"]) == dict(LISTED.evidence)
    assert ", " not in first["evidence"]  # compact


def test_csv_header_even_without_findings() -> None:
    assert read_csv(render_csv([])) == [] and render_csv([]) == ",".join(COLUMNS) + "\r\n"
    assert render_csv([(CLEAN_REPORT, CLEAN)]) == ",".join(COLUMNS) + "\r\n"


@pytest.mark.parametrize("payload", ["=HYPERLINK(\"http://x/?\"&A1)", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1",
                                     "'=already quoted", "'tis"])
def test_csv_cells_cannot_start_a_formula(payload) -> None:
    text = f"Before {payload} after."
    spam = finding(text, payload, payload, alternatives=(payload,), detector=payload, rule=payload)
    row = read_csv(render_csv([(report(text, (spam,), id=payload), text)]))[0]
    for column in ("id", "text", "suggestion", "alternatives", "detector", "rule"):
        assert row[column].startswith("'"), column
        assert unguard_cell(row[column]) == payload, column  # the guard is exactly reversible


def test_guard_leaves_ordinary_text_alone() -> None:
    assert guard_cell("deep learning") == "deep learning" and guard_cell("") == ""
    assert unguard_cell(guard_cell("-")) == "-"


# -- XLSX ----------------------------------------------------------------------------------------

def test_xlsx_findings_and_summary_sheets(tmp_path) -> None:
    import openpyxl  # the `reports` extra: the test environment must have it (no silent skip)

    from unspin.report.xlsx import SUMMARY_COLUMNS, write_xlsx

    hostile = "=cmd|' /C calc'!A0"
    text = SPUN + "\fpage two " + hostile
    spans = (ENGINE, LISTED, finding(text, hostile, "@evil"))
    path = tmp_path / "out" / "report.xlsx"
    write_xlsx([(report(text, spans, id="+id"), text), (CLEAN_REPORT, CLEAN)], path,
               resources=[{"name": "idioms", "kind": "phrase table", "version": "idioms-v1", "entries": 12,
                           "sha256": "ab" * 32}])
    assert [p.name for p in path.parent.iterdir()] == ["report.xlsx"]  # no temporary file left
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["Findings", "Summary", "Resources"]
    findings = [[c.value for c in row] for row in book["Findings"].iter_rows()]
    assert tuple(findings[0]) == COLUMNS and len(findings) == 4
    row = dict(zip(COLUMNS, findings[1], strict=True))
    assert row["id"] == "'+id" and row["start"] == ENGINE.start and row["confidence"] == pytest.approx(0.93)
    assert row["alternatives"] == "machine learning | =SUM(1)"
    last = dict(zip(COLUMNS, findings[3], strict=True))
    assert last["text"] == "'" + hostile and last["suggestion"] == "'@evil"
    for sheet in book:
        for cells in sheet.iter_rows():
            for cell in cells:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
    summary = [[c.value for c in row] for row in book["Summary"].iter_rows()]
    assert tuple(summary[0]) == SUMMARY_COLUMNS and len(summary) == 3
    doc, clean = (dict(zip(SUMMARY_COLUMNS, r, strict=True)) for r in summary[1:])
    assert doc["risk level"] == "high: review recommended" and doc["findings"] == 3
    assert doc["density per 1k words"] == pytest.approx(1000 * 3 / len(text.split()), abs=0.01)
    assert doc["top findings"].startswith("profound learning → deep learning (0.93)")
    assert clean["id"] == 7 and clean["risk level"] == "none: no sign of spinning found" and clean["findings"] == 0
    assert [c.value for c in book["Resources"][2]][:4] == ["idioms", "phrase table", "idioms-v1", 12]


def test_xlsx_replaces_characters_xml_cannot_hold(tmp_path) -> None:
    import openpyxl

    from unspin.report.xlsx import write_xlsx

    text = "A \x00null\x1b and profound learning."
    path = tmp_path / "r.xlsx"
    write_xlsx([(report(text, (finding(text, "profound learning", "deep learning"),), id="x\x07y"), text)], path)
    assert openpyxl.load_workbook(path)["Findings"]["A2"].value == "x\ufffdy"


def test_xlsx_without_openpyxl_names_the_install_command(tmp_path, monkeypatch) -> None:
    from unspin.errors import ResourceMissing
    from unspin.report.xlsx import write_xlsx

    monkeypatch.setitem(sys.modules, "openpyxl", None)  # import fails as if not installed
    with pytest.raises(ResourceMissing) as caught:
        write_xlsx([(SPUN_REPORT, SPUN)], tmp_path / "r.xlsx")
    assert "unspin[reports]" in caught.value.hint and not (tmp_path / "r.xlsx").exists()


# -- HTML ----------------------------------------------------------------------------------------

class Page(HTMLParser):
    """Every element with its attributes, and the text outside <script>/<style>."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(markup)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts.append(data)
        elif self._in is None:
            self.text.append(data)

    def tags(self, name: str) -> list[dict[str, str | None]]:
        return [attrs for tag, attrs in self.elements if tag == name]

    def marks(self) -> list[dict[str, str | None]]:
        return [attrs for attrs in self.tags("mark") if "data-start" in attrs]


SCRIPT_PAYLOAD = "<script>window.__pwned=1;document.title='PWNED'</script>"
IMG_PAYLOAD = "<img src=x onerror=\"window.__pwned=2\">"
ATTR_PAYLOAD = "\" onerror=\"window.__pwned=3\" x=\""
SINGLE_PAYLOAD = "' onfocus='window.__pwned=4' '"


def hostile_pairs() -> list[tuple[Report, str]]:
    text = f"Intro {SCRIPT_PAYLOAD} then a profound learning model and {IMG_PAYLOAD} end."
    spans = (
        finding(text, SCRIPT_PAYLOAD, ATTR_PAYLOAD, alternatives=(SINGLE_PAYLOAD, IMG_PAYLOAD), detector=IMG_PAYLOAD,
                rule=ATTR_PAYLOAD, evidence={"list": SCRIPT_PAYLOAD, "line": IMG_PAYLOAD, "query": SINGLE_PAYLOAD}),
        finding(text, "profound learning", SCRIPT_PAYLOAD, 0.8, evidence={"linked_by": [IMG_PAYLOAD]}),
        finding(text, IMG_PAYLOAD, SINGLE_PAYLOAD, 0.4, evidence={"note": ATTR_PAYLOAD, "papers": "</details>"}),
    )
    return [(report(text, spans, id=IMG_PAYLOAD), text), (report(CLEAN, (), id=SCRIPT_PAYLOAD), CLEAN)]


RESOURCES = [{"name": SCRIPT_PAYLOAD, "kind": IMG_PAYLOAD, "version": ATTR_PAYLOAD, "entries": 3,
              "sha256": SINGLE_PAYLOAD}]


def test_html_escapes_hostile_input_everywhere() -> None:
    markup = render_html(hostile_pairs(), title=IMG_PAYLOAD + SCRIPT_PAYLOAD, resources=RESOURCES)
    page = Page(markup)
    assert page.scripts == [SCRIPT]  # only the renderer's own
    assert len(page.tags("script")) == 1 and not page.tags("img")
    for tag, attrs in page.elements:
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        assert tag not in ("iframe", "object", "embed", "svg", "base", "form", "link"), tag
    text = "".join(page.text)
    for payload in (SCRIPT_PAYLOAD, IMG_PAYLOAD, ATTR_PAYLOAD, SINGLE_PAYLOAD):
        assert payload in text, payload  # shown to the reader, as text
    assert "'" not in markup.split("<style>")[1].split("</head>")[1].replace(SCRIPT, "")  # quote=True: &#x27;
    marks = page.marks()
    assert [m["data-suggestion"] for m in marks] == [ATTR_PAYLOAD, SCRIPT_PAYLOAD, SINGLE_PAYLOAD]
    assert marks[0]["data-detector"] == IMG_PAYLOAD and marks[0]["data-rule"] == ATTR_PAYLOAD
    ids = [attrs["id"] for _, attrs in page.elements if attrs.get("id")]
    assert all(i.replace("-", "").isalnum() for i in ids), ids  # ids from positions, never from input
    assert len(ids) == len(set(ids))


def test_html_fragment_alone_is_escaped_too() -> None:
    (doc, text), _ = hostile_pairs()
    fragment = render_document_fragment(doc, text)
    page = Page(fragment)
    assert not page.tags("script") and not page.tags("img")
    assert "".join(page.text).startswith(f"Intro {SCRIPT_PAYLOAD}")
    restored = Page(render_restored_fragment(doc, text))
    assert not restored.tags("script") and len(restored.tags("del")) == len(restored.tags("ins")) == 3


def test_html_spans_carry_offsets_suggestion_and_tooltip() -> None:
    markup = render_document_fragment(SPUN_REPORT, SPUN, anchor="d7")
    page = Page(markup)
    marks = page.marks()
    assert [(int(m["data-start"]), int(m["data-end"])) for m in marks] == [(ENGINE.start, ENGINE.end),
                                                                          (LISTED.start, LISTED.end)]
    assert [m["data-suggestion"] for m in marks] == ["deep learning", "artificial intelligence"]
    assert [m["class"] for m in marks] == ["unspin-span unspin-conf-high", "unspin-span unspin-conf-medium"]
    assert all(m["tabindex"] == "0" and m["aria-describedby"] == m["id"] + "-tip" for m in marks)
    assert [m["id"] for m in marks] == ["d7-f1", "d7-f2"]
    tips = [attrs for attrs in page.tags("span") if attrs.get("role") == "tooltip"]
    assert [t["id"] for t in tips] == ["d7-f1-tip", "d7-f2-tip"]
    text = "".join(page.text)
    assert "suggestion: deep learning" in text and "or: machine learning, =SUM(1)" in text
    assert "confidence 0.93" in text and "trigram statistics find the suggestion 2.5 nats more natural here" in text
    assert "matches fingerprint counterfeit consciousness of list pps (line 12, which retrieved 1,234 papers)" in text
    assert "rule pps:12" in text


def test_html_page_summary_links_every_document_and_shows_versions() -> None:
    resources = [{"name": "idioms", "kind": "phrase table", "version": "idioms-v1", "entries": 1200,
                  "sha256": "ab" * 32},
                 {"name": "moby", "kind": "thesaurus", "version": None, "entries": None, "sha256": None,
                  "missing": "not installed"}]
    with_model = Report("m", "full", "smollm2-135m/float32", 0.6, "suspect", (), CLEAN, "0.1.0", 4)
    markup = render_html([(SPUN_REPORT, SPUN), (CLEAN_REPORT, CLEAN), (with_model, CLEAN)], resources=resources)
    page = Page(markup)
    links = [attrs["href"] for attrs in page.tags("a") if attrs["href"].startswith("#doc-")]
    assert links[:3] == ["#doc-1", "#doc-2", "#doc-3"]
    sections = [attrs["id"] for attrs in page.tags("section") if attrs.get("class") == "unspin-report"]
    assert sections == ["doc-1", "doc-2", "doc-3"]
    text = " ".join(page.text)
    for expected in ("high: review recommended", "none: no sign of spinning found", "likely machine-spun",
                     "smollm2-135m/float32", "idioms-v1", "ab" * 32, "1,200", "not installed", "0.1.0"):
        assert expected in text, expected
    assert "Document 1" not in text and "<del>" not in text
    assert len(page.tags("del")) == 2 and len(page.tags("ins")) == 2


def test_html_page_is_self_contained_and_responsive() -> None:
    markup = render_html([(SPUN_REPORT, SPUN)])
    page = Page(markup)
    assert not page.tags("link") and not page.tags("img") and "http://" not in markup
    assert "https://" not in markup
    [viewport] = [m for m in page.tags("meta") if m.get("name") == "viewport"]
    assert viewport["content"] == "width=device-width, initial-scale=1"
    [csp] = [m for m in page.tags("meta") if m.get("http-equiv") == "Content-Security-Policy"]
    assert csp["content"] == CONTENT_SECURITY_POLICY and "default-src 'none'" in csp["content"]
    assert "@media (max-width: 40rem)" in STYLESHEET and ".unspin-span:focus + .unspin-tip" in STYLESHEET
    assert page.tags("title") and "unspin report: doc-1" in "".join(page.text)
    assert render_html([(SPUN_REPORT, SPUN)]) == markup  # pure: same input, same page
    assert "Summary" not in "".join(page.text)  # a single document needs no summary table


@pytest.mark.parametrize("bad", [
    Finding(0, 5, "wrong", "x", (), 0.9, "t"),             # does not match the text
    Finding(0, 999, "x", "x", (), 0.9, "t"),                # outside the text
])
def test_html_refuses_spans_of_another_text(bad) -> None:
    with pytest.raises(ValueError, match="another text"):
        render_document_fragment(report(SPUN, (bad,)), SPUN)


def test_html_refuses_overlapping_spans() -> None:
    a = finding(SPUN, "profound learning", "deep learning")
    b = finding(SPUN, "learning model", "x")
    with pytest.raises(ValueError, match="overlaps"):
        render_document_fragment(Report("x", "fast", None, 0.9, "spun", (a, b), "", "", 9), SPUN)


# -- reasons for people ----------------------------------------------------------------------------

@pytest.mark.parametrize("gain, expected", [
    (2.5, "finds the suggestion 2.5 nats more natural here"),
    (-0.4, "finds the written words 0.4 nats more natural here (flagged on the other evidence)"),
    (0.01, "finds both readings about equally natural here"),
])
def test_reasons_put_the_sign_of_a_margin_in_words(gain, expected) -> None:
    from unspin.report.text import explain

    why = explain(finding(SPUN, "profound learning", "deep learning", evidence={"lm_gain": gain}))
    assert why == "the language model " + expected
    assert "-" not in why and "+" not in why
