"""Properties that hold for any input: offsets slice the input, spans never overlap, restoring
with no findings is the identity, and the same input always gives the same report."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from unspin.restoration import apply_findings
from unspin.text.tokenize import tokenize

WORDS = ["profound", "learning", "counterfeit", "consciousness", "the", "Atmosphere", "alteration",
         "numerous", "pioneers", "state", "Then", "again", "bosom", "growth", "café", "naïve", "😀", "𝔘nicode",
         "co-operate", "don't", "in", "spite", "of", "fact", "that", "\n\n", ".", ",", "!", "  ", "\t", "42"]
texts = st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join) | st.text(max_size=200)


@given(texts)
def test_tokens_slice_the_input(text):
    for token in tokenize(text):
        assert text[token.start:token.end] == token.text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts)
def test_report_spans_slice_input_and_restore(fast_engine, text):
    report = fast_engine.check(text)
    previous_end = 0
    for span in report.spans:
        assert text[span.start:span.end] == span.text
        assert span.start >= previous_end and span.end > span.start
        previous_end = span.end
    assert report.restored == apply_findings(text, report.spans)
    assert fast_engine.check(text) == report


@given(texts)
def test_restoring_nothing_is_identity(text):
    assert apply_findings(text, []) == text
