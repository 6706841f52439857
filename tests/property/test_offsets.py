"""Properties that hold for any input: offsets slice the input, spans never overlap, restoring
with no findings is the identity, and the same input always gives the same report.

The restored text is checked against `rebuilt`, a rebuild by hand in this file, never against
`apply_findings` (the function that makes it: comparing it with itself would prove nothing)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspin.model import Finding
from unspin.restoration import apply_findings
from unspin.text.tokenize import tokenize

WORDS = ["profound", "learning", "counterfeit", "consciousness", "the", "Atmosphere", "alteration",
         "numerous", "pioneers", "state", "Then", "again", "bosom", "growth", "café", "naïve", "😀", "𝔘nicode",
         "co-operate", "don't", "in", "spite", "of", "fact", "that", "\n\n", ".", ",", "!", "  ", "\t", "42"]
texts = st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join) | st.text(max_size=200)


def rebuilt(text: str, spans) -> str:
    """`text` with each span replaced by its suggestion, right to left, so that each replacement
    leaves the offsets of the spans before it valid."""
    for span in sorted(spans, key=lambda span: span.start, reverse=True):
        text = text[:span.start] + span.suggestion + text[span.end:]
    return text


@st.composite
def text_and_findings(draw):
    """A text and non-overlapping, non-empty findings on it (as every detector gives: end > start),
    with suggestions of any length, even empty."""
    text = draw(texts)
    cuts = sorted(draw(st.sets(st.integers(0, len(text)), max_size=12)))  # distinct: each span non-empty
    findings = [Finding(start, end, text[start:end], draw(st.text(max_size=8)), (), 0.5, "test.v1")
                for start, end in zip(cuts[::2], cuts[1::2])]
    return text, draw(st.permutations(findings))  # apply_findings must not rely on their order


@given(texts)
def test_tokens_slice_the_input(text):
    for token in tokenize(text):
        assert text[token.start:token.end] == token.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_report_spans_slice_input_and_restore(fast_checker, text):
    report = fast_checker.check(text)
    previous_end = 0
    for span in report.spans:
        assert text[span.start:span.end] == span.text
        assert span.start >= previous_end and span.end > span.start
        previous_end = span.end
    assert report.restored == rebuilt(text, report.spans)
    assert fast_checker.check(text) == report


@given(texts)
def test_restoring_nothing_is_identity(text):
    assert apply_findings(text, []) == text


@given(text_and_findings())
def test_apply_findings_matches_a_rebuild_by_hand(case):
    text, findings = case
    assert apply_findings(text, findings) == rebuilt(text, findings)
