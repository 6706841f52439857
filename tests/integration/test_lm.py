"""The neural verifier against the real SmolLM2-135M model (slow: loads the model once).

The scores asserted here are relations the model must get right for the tool to work at all
(the original wording of a tortured phrase beats the spun one), plus the engineering contract:
cached and batched scores equal a naive recomputation, and repeated calls give the same numbers.
"""

from __future__ import annotations

from pathlib import Path

import pytest

# Importing the module is cheap (torch loads inside get_scorer); without the lm extra the
# fixtures raise ResourceMissing with the install command, so the tests error, never skip.
from unspin.detect import lm
from unspin.detect.lm import Query, Shortlist, get_scorer

pytestmark = pytest.mark.slow

VISION = "Recent advances in deep learning have transformed computer vision."
AI = "Researchers in artificial intelligence build systems that learn from data."


def span(text: str, phrase: str) -> tuple[int, int]:
    start = text.index(phrase)
    return start, start + len(phrase)


@pytest.fixture(scope="module")
def scorer():  # fp32 (the CPU default): cached and naive scores agree to ~1e-4
    return get_scorer(dtype="float32")


@pytest.fixture(scope="module")
def fast_scorer():  # bf16 (the CUDA default); loads from the dequantised cache in well under 1 s
    return get_scorer(dtype="bfloat16")


def test_loaded_once_per_process(scorer, fast_scorer) -> None:
    assert get_scorer(dtype="float32") is scorer
    assert get_scorer(dtype="bfloat16") is fast_scorer
    assert scorer.name.startswith("smollm2-135m-instruct") and scorer.name.endswith("/float32")


@pytest.mark.parametrize("which", ["scorer", "fast_scorer"])
@pytest.mark.parametrize(("text", "original", "spun"), [
    (VISION, "deep learning", "profound learning"),
    (AI, "artificial intelligence", "counterfeit consciousness"),
])
def test_original_beats_spun_phrase(request, which, text, original, spun) -> None:
    model = request.getfixturevalue(which)
    start, end = span(text, original)
    [[observed, restored]] = model.score_alternatives(text, [Query(start, end, (original, spun))])
    assert observed > restored + 3.0


def test_spun_text_prefers_the_original(scorer) -> None:
    text = VISION.replace("deep learning", "profound learning")
    start, end = span(text, "profound learning")
    [[spun, original]] = scorer.score_alternatives(text, [Query(start, end, ("profound learning", "deep learning"))])
    assert original > spun


def queries_for(text: str) -> list[Query]:
    words = [("Recent", ("Recent", "Latest", "Ancient", "")),  # offset 0, and a deletion
             ("deep learning", ("deep learning", "profound learning", "machine learning", "learning")),
             ("transformed", ("transformed", "changed", "revolutionised")),
             ("vision.", ("vision.", "sight.", "graphics."))]  # the right window ends with the text
    return [Query(*span(text, word), alternatives) for word, alternatives in words]


def test_cached_batched_scores_equal_naive_recomputation(scorer) -> None:
    queries = queries_for(VISION)
    fast = scorer.score_alternatives(VISION, queries)
    slow = scorer.score_alternatives_naive(VISION, queries)
    assert [len(row) for row in fast] == [len(q.alternatives) for q in queries]
    for row_fast, row_slow in zip(fast, slow):
        assert row_fast == pytest.approx(row_slow, abs=1e-3)


def test_long_left_context_is_cut_and_still_matches(scorer) -> None:
    text = " ".join([AI] * 12) + " " + VISION  # far more than 48 tokens before the span
    queries = [Query(*span(text, "deep learning"), ("deep learning", "profound learning")),
               Query(*span(text, "computer"), ("computer", "machine", "PC"))]
    for left, right in [(48, 6), (5, 2), (0, 0)]:
        fast = scorer.score_alternatives(text, queries, left_tokens=left, right_tokens=right)
        slow = scorer.score_alternatives_naive(text, queries, left_tokens=left, right_tokens=right)
        for row_fast, row_slow in zip(fast, slow):
            assert row_fast == pytest.approx(row_slow, abs=1e-3)


def test_bf16_agrees_with_fp32(scorer, fast_scorer) -> None:
    queries = queries_for(VISION)
    exact = scorer.score_alternatives(VISION, queries)
    fast = fast_scorer.score_alternatives(VISION, queries)
    for row_exact, row_fast in zip(exact, fast):
        # bf16 rounding moves totals by up to ~2.6 nats (worst: a sentence-initial word), but
        # the ranking must hold.
        assert row_fast == pytest.approx(row_exact, abs=4.0)
        assert max(range(len(row_fast)), key=row_fast.__getitem__) == max(range(len(row_exact)), key=row_exact.__getitem__)


def test_repeated_calls_are_deterministic(fast_scorer) -> None:
    queries = queries_for(VISION)
    assert fast_scorer.score_alternatives(VISION, queries) == fast_scorer.score_alternatives(VISION, queries)
    spans = [span(VISION, w) for w in ("Recent", "deep", "vision")]
    assert fast_scorer.word_logprobs(VISION, spans) == fast_scorer.word_logprobs(VISION, spans)


def test_span_at_offset_zero_is_scored_after_bos(scorer) -> None:
    [[recent, ancient]] = scorer.score_alternatives(VISION, [Query(0, 6, ("Recent", "Ancient"))])
    assert recent > ancient
    assert -45.0 < recent < 0.0  # "Recent" plus its 6-token right window


def test_word_logprobs_match_alternative_scores(scorer) -> None:
    text = " ".join([AI] * 70)  # > 512 tokens: several overlapping windows
    words = [span(text, "artificial"), (len(text) - 5, len(text) - 1), (0, 11)]
    values = scorer.word_logprobs(text, words)
    assert len(values) == 3 and all(v < 0 for v in values)
    # The first word has only BOS before it: the same number as scoring it with no right window.
    [[first]] = scorer.score_alternatives(text, [Query(0, 11, ("Researchers",))], right_tokens=0)
    assert values[2] == pytest.approx(first, abs=1e-3)
    # A repeated sentence becomes predictable: late copies score far higher than the first.
    assert values[1] > -1.0
    assert scorer.word_logprobs(text, []) == []


def test_propose_returns_plausible_words(fast_scorer) -> None:
    start, end = span(VISION, "deep")
    words = fast_scorer.propose(VISION, start, end, k=10)
    assert 1 <= len(words) <= 10
    assert all(w.isalpha() and w == w.lower() for w in words)
    assert {"machine", "ai", "artificial", "technology", "deep", "computer", "neural"} & set(words)
    start, end = span(VISION, "vision")
    assert {"vision", "graphics", "science"} & set(fast_scorer.propose(VISION, start, end, k=10))
    assert fast_scorer.propose(VISION, 0, 6, k=5)  # a span at the very start


def test_proposals_for_many_spans_are_each_spans_own(fast_scorer) -> None:
    """One batched pass (left contexts of different lengths, padded) proposes what one call per
    span would, in the spans' order, over more spans than one pass takes: the same best word and
    the same words but near-ties (padding changes the arithmetic's rounding, not the model)."""
    from unspin.detect.lm import _PROPOSE_PREFIXES

    spans = [(0, 6)] + [span(VISION, w) for w in ("advances", "deep", "transformed", "vision")]
    assert len(spans) > _PROPOSE_PREFIXES
    batched = fast_scorer.propose_many(VISION, spans, k=5)
    alone = [fast_scorer.propose(VISION, s, e, k=5) for s, e in spans]
    for many, one in zip(batched, alone):
        assert len(many) == len(one) and many[0] == one[0] and len(set(many) & set(one)) >= len(one) - 1
    assert batched == fast_scorer.propose_many(VISION, spans, k=5)  # deterministic
    assert fast_scorer.propose_many(VISION, [], k=5) == [] and fast_scorer.propose_many(VISION, spans, k=0) == [[]] * len(spans)


LONG = " ".join([
    "The committee met on Tuesday to discuss the new budget for the regional hospital.",
    "Several members argued that the funds should go to nursing staff rather than equipment.",
    "After a long debate, the chair proposed a compromise that split the money between both.",
    "Local newspapers reported the decision the following morning with some surprise.",
] * 12)


def _context_queries(text: str) -> list[Query]:
    queries = []
    for word, alternatives in (("committee", ("board", "panel")), ("budget", ("plan", "")),
                               ("compromise", ("middle ground",)), ("surprise", ("astonishment",))):
        for occurrence in range(0, 12, 5):
            start = -1
            for _ in range(occurrence + 1):
                start = text.index(word, start + 1)
            queries.append(Query(start, start + len(word), (word, *alternatives)))
    queries.append(Query(0, 3, ("The", "A")))  # the first word: BOS is its only context
    return queries


def _first_tokens(scorer, queries: list[Query]) -> tuple[lm._Region, list[int]]:
    """The region score_in_context reads for `queries`, and the token each query's span starts at."""
    region = scorer._read_region(LONG, min(q.start for q in queries), max(q.end for q in queries))
    return region, [region.token_starting_at(q.start - 1 if q.start > 0 else 0) for q in queries]


def _naive_in_window(scorer, query: Query, left_tokens: int) -> list[float]:
    """The query scored by plain forward passes over the left context score_in_context's window gives it."""
    [slow] = scorer.score_alternatives_naive(LONG, [query], left_tokens=left_tokens)
    return slow


def test_in_context_scores_equal_a_naive_pass_over_the_same_prefix(scorer) -> None:
    """score_in_context reads the text in cached windows; each query must score exactly as a
    plain forward pass over BOS + the window's tokens before it + the alternative + right window."""
    queries = _context_queries(LONG)
    fast = scorer.score_in_context(LONG, queries)
    _, firsts = _first_tokens(scorer, queries)
    for query, scores, t, a in zip(queries, fast, firsts, lm.plan_windows(firsts)):
        assert scores.alternatives == pytest.approx(_naive_in_window(scorer, query, t - a), abs=3e-4), query
        assert scores.observed_span is not None and scores.observed_span <= 0.0
    assert len({round(s.alternatives[0], 3) for s in fast}) > 5  # different contexts, different scores


def test_a_window_pass_stops_after_what_its_queries_need(scorer, monkeypatch) -> None:
    """A lone query early in a long text: its window is read only to a few tokens past its right
    window (clean text's few queries made the rest of each pass wasted work), and it scores as
    before, its own words still read off the pass."""
    [query] = [q for q in _context_queries(LONG) if LONG[q.start:q.end] == "committee"][:1]
    read: list[int] = []
    encode = scorer._encode_window
    monkeypatch.setattr(scorer, "_encode_window", lambda ids: read.append(len(ids)) or encode(ids))
    [scores] = scorer.score_in_context(LONG, [query])
    region, [first] = _first_tokens(scorer, [query])
    span_end = region.token_starting_at(query.end)
    [a] = lm.plan_windows([first])
    assert read == [span_end - a + lm.DEFAULT_RIGHT_TOKENS + lm._WINDOW_SLACK]
    assert read[0] < min(lm.CONTEXT_WINDOW - 1, len(region.ids)) - 100  # the region's tokens after it go unread
    assert scores.alternatives == pytest.approx(_naive_in_window(scorer, query, first - a), abs=3e-4)
    assert scores.observed_span is not None


def test_in_context_sees_more_than_the_short_prefix(scorer) -> None:
    """Far-back context reaches the score (the old prefix stopped at 48 tokens)."""
    [query] = [q for q in _context_queries(LONG) if LONG[q.start:q.end] == "surprise"][-1:]
    wide = scorer.score_in_context(LONG, [query])[0].alternatives
    short = scorer.score_alternatives(LONG, [query])[0]
    assert wide != pytest.approx(short, abs=1e-3)
    assert scorer.score_in_context(LONG, []) == []


def test_shortlist_lets_the_model_pick_which_candidates_it_scores(scorer) -> None:
    """With a flat prior, the next-token probability alone chooses: "deep" follows "advances in"
    far more often than "profound" or "bottomless"; the kept alternatives score exactly as when
    asked for on their own, and alternative 0 (the written text) is always scored."""
    start, end = span(VISION, "deep learning")
    alternatives = ("deep learning", "bottomless learning", "profound learning", "deep learning")
    flat = Query(start, end, alternatives, Shortlist((0.0, 0.0, 0.0), keep=1, weight=0.5))
    [chosen] = scorer.score_in_context(VISION, [flat])
    assert chosen.scored == (0, 3)
    [plain] = scorer.score_in_context(VISION, [Query(start, end, ("deep learning", "deep learning"))])
    assert chosen.alternatives == pytest.approx(plain.alternatives, abs=1e-5)
    # A prior far stronger than the model's preference wins, and keep covers as many as asked.
    strong = Query(start, end, alternatives, Shortlist((0.0, 50.0, 0.0), keep=2, weight=0.5))
    [overruled] = scorer.score_in_context(VISION, [strong])
    assert overruled.scored[:2] == (0, 2) and len(overruled.scored) == 3 and overruled.scored[2] == 3
    assert scorer.score_in_context(VISION, [strong]) == [overruled]  # deterministic


def test_refine_builds_alternatives_from_what_the_model_expects_at_each_word(scorer) -> None:
    """`refine` sees the window pass's next-token distribution before each written word: its
    ln P of a one-token word is the word's own ln P in the text (`word_logprobs`), the model
    expects "transform" after "Fourier" far more than the written "change", and the refined query
    scores exactly as when asked for on its own."""
    text = "We compute the Fourier change of the signal before filtering it."
    start, end = span(text, "Fourier change")
    at = text.index("change")
    seen = {}

    def refine(k: int, first_tokens: lm.FirstTokens) -> Query:
        seen["at"] = first_tokens.logprobs(at, ["change", "transform", "modification"])
        seen["nowhere"] = first_tokens.logprobs(at + 2, ["transform"])  # inside a token: no answer
        return Query(start, end, ("Fourier change", "Fourier transform"))

    [refined] = scorer.score_in_context(text, [Query(start, end, ("Fourier change",))], refine=refine)
    change, transform, modification = seen["at"]
    assert change == pytest.approx(scorer.word_logprobs(text, [(at, end)])[0], abs=1e-3)
    assert transform > change + 3 and transform > modification
    assert seen["nowhere"] is None
    [plain] = scorer.score_in_context(text, [Query(start, end, ("Fourier change", "Fourier transform"))])
    assert refined.alternatives == pytest.approx(plain.alternatives, abs=1e-5)
    assert refined.alternatives[1] > refined.alternatives[0]
    with pytest.raises(lm.UsageError, match="keep its span"):
        scorer.score_in_context(text, [Query(start, end, ("Fourier change",))],
                                refine=lambda k, first_tokens: Query(start, at, ("Fourier",)))


@pytest.mark.parametrize("attention", ["sdpa", "eager"])
def test_in_context_scores_of_a_sliding_window_model_equal_a_naive_pass(scorer, attention) -> None:
    """`--model` takes any causal LM; Gemma 3 reads most layers through a sliding window shorter
    than the scorer's window (512 against 640 tokens). A tiny randomly initialised Gemma 3 with a
    16-token window, under the shipped tokenizer, must score in context exactly as plain forward
    passes, whose masks the model builds itself (this crashed once: the packed pass's mask was
    written for keys a sliding layer's cache had dropped)."""
    import torch
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    from unspin.detect.lm import NeuralScorer

    torch.manual_seed(0)
    config = Gemma3TextConfig(vocab_size=len(scorer.tokenizer), hidden_size=32, intermediate_size=64,
                              num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=1, head_dim=16,
                              sliding_window=16, layer_types=["sliding_attention", "full_attention"],
                              attn_implementation=attention)
    tiny = NeuralScorer(Gemma3ForCausalLM(config).eval(), scorer.tokenizer, name="tiny-gemma3")
    queries = _context_queries(LONG)
    fast = tiny.score_in_context(LONG, queries)
    _, firsts = _first_tokens(tiny, queries)
    for query, scores, t, a in zip(queries, fast, firsts, lm.plan_windows(firsts)):
        assert scores.alternatives == pytest.approx(_naive_in_window(tiny, query, t - a), abs=3e-4), query


def test_the_first_dequantisation_draws_no_progress_bar(tmp_path, monkeypatch, capfd) -> None:
    """A new user's first full check converts the GGUF file; transformers draws that conversion's
    progress bar itself, and unspin's stderr is for its own messages."""
    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path))
    shipped = Path(lm._resolve_model(None).location)
    capfd.readouterr()
    folder = lm._dequantised_dir(shipped)
    assert (folder / "config.json").is_file() and folder.is_relative_to(tmp_path)
    assert "GGUF" not in capfd.readouterr().err
