"""The learned engine: subword windows, word evidence, spans, restoration, and the shipped detector."""

from __future__ import annotations

import numpy as np
import pytest

from unspin.detect.encoder import STRIDE, WINDOW, encode, owners, windows
from unspin.detect.learned import FEATURES, NEIGHBOURHOOD, flagged_spans, word_features
from unspin.text.tokenize import tokenize


def test_windows_cover_every_subword_within_the_size():
    for n in (0, 1, WINDOW - 2, WINDOW - 1, 500, 1234):
        spans = windows(n)
        assert all(hi - lo <= WINDOW - 2 for lo, hi in spans)
        covered = set()
        for lo, hi in spans:
            covered.update(range(lo, hi))
        assert covered == set(range(n))
    assert windows(300)[1][0] - windows(300)[0][0] == STRIDE


def test_each_subword_is_read_in_the_window_where_it_stands_most_central():
    spans = windows(400)
    owner = owners(400, spans)
    for k in (0, 70, 200, 399):
        depth = [min(k - lo, hi - 1 - k) if lo <= k < hi else -1 for lo, hi in spans]
        assert depth[owner[k]] == max(depth)
    # Away from the text's edges, every subword has a quarter window of context on both sides.
    for k in range(WINDOW // 4, 400 - WINDOW // 4):
        lo, hi = spans[owner[k]]
        assert k - lo >= WINDOW // 4 - 2 and hi - 1 - k >= WINDOW // 4 - 2


def test_subwords_map_to_the_words_whose_characters_they_cover():
    text = "Unbelievably, the 3 researchers' counterfeit consciousness—worked."
    tokens = tokenize(text)
    encoded = encode(text, tokens)
    assert len(encoded.ids) == len(encoded.word_of)
    words = {w for w in encoded.word_of if w >= 0}
    assert words == set(range(len(tokens)))  # every word has a subword
    assert -1 in encoded.word_of  # punctuation and digits belong to no word
    # Subwords of one word are contiguous.
    for w in words:
        positions = [k for k, o in enumerate(encoded.word_of) if o == w]
        assert positions == list(range(positions[0], positions[-1] + 1))


def test_the_neighbourhood_leaves_the_word_itself_out_and_counts_edges_as_clean():
    tokens = tokenize(" ".join(["word"] * 10))
    probability = np.zeros(10, dtype=np.float32)
    probability[[2, 3]] = 0.9
    table, rate = word_features(tokens, probability)
    features = [dict(zip(FEATURES, row)) for row in table]
    assert features[2]["window"] == pytest.approx(1 / (2 * NEIGHBOURHOOD))  # only word 3 counts for word 2
    assert features[5]["window"] == pytest.approx(2 / (2 * NEIGHBOURHOOD))
    assert features[2]["doc"] == pytest.approx(1 / 200) and rate == pytest.approx(2 / 200)
    assert features[2]["logit"] > 2 > features[5]["logit"] + 4
    assert features[4]["neighbour_max"] == pytest.approx(0.9)


def test_the_decision_over_a_table_is_the_logistic_model_row_by_row():
    from unspin.detect.decide import LogisticModel
    from unspin.detect.learned import site_probabilities

    rng = np.random.default_rng(1)
    table = rng.normal(size=(20, len(FEATURES)))
    names = ("window", "logit", "zipf")
    model = LogisticModel("t", names, (0.5, 1.5, -0.3), -0.2, (0.1, 0.0, 4.0), (2.0, 1.0, 1.5), 0.5)
    expected = [model.probability({name: row[FEATURES.index(name)] for name in names}) for row in table]
    assert site_probabilities(model, table) == pytest.approx(expected)


def test_spans_join_flagged_neighbours_within_a_sentence_only():
    text = "one two three four. Five six seven"
    tokens = tokenize(text)
    decided = np.array([0.1, 0.95, 0.6, 0.95, 0.95, 0.1, 0.2])
    # word 2 (0.6) joins its neighbours at join 0.45; "four." ends the sentence, so "Five" starts its own span.
    assert flagged_spans(text, tokens, decided, 0.9, 0.45) == [(1, 4), (4, 5)]
    assert flagged_spans(text, tokens, decided, 0.99, 0.45) == []
    assert flagged_spans(text, tokens, decided, 0.15, 0.45) == [(1, 4), (4, 5), (6, 7)]


def test_spans_at_a_higher_threshold_are_those_at_a_lower_one_that_reach_it():
    rng = np.random.default_rng(0)
    text = " ".join(["word"] * 200)
    tokens = tokenize(text)
    decided = rng.random(200) ** 3
    low = flagged_spans(text, tokens, decided, 0.05, 0.4)
    for threshold in (0.1, 0.4, 0.7, 0.9):
        high = flagged_spans(text, tokens, decided, threshold, 0.4)
        assert high == [(i, j) for i, j in low if decided[i:j].max() >= threshold]


# -- the shipped detector and engine -----------------------------------------------------------------

CLEAN = ("The committee met on Tuesday to discuss the budget for next year. Members agreed that the "
         "city should spend more on schools and roads, and the mayor said the plan would be ready in May.")


@pytest.fixture(scope="module")
def engine():
    from unspin.detect.learned import LearnedEngine

    return LearnedEngine()


def test_word_probabilities_are_deterministic_and_cover_every_word(engine):
    tokens = tokenize(CLEAN)
    first = engine.detector.word_probabilities(CLEAN, tokens)
    assert first.shape == (len(tokens),) and ((first > 0) & (first < 1)).all()
    assert np.array_equal(engine.detector.word_probabilities(CLEAN, tokens), first)
    # A long text is read in overlapping windows; its words are judged as in a text of their own window.
    long_text = " ".join([CLEAN] * 12)
    assert len(engine.detector.word_probabilities(long_text, tokenize(long_text))) == len(tokenize(long_text))


def test_swapped_words_look_more_swapped_than_the_words_around_them(engine):
    """On a dictionary the detector never trained on (MyThes), over a few spun passages."""
    from unspin.evaluate.simulate import PROFILES, spin
    from unspin.lexicon import load_thesaurus

    mythes = load_thesaurus(("mythes",))
    swapped, kept = [], []
    for seed in range(4):
        result = spin(CLEAN, rate=0.3, seed=seed, thesaurus=mythes, profile=PROFILES["mythes"])
        tokens = tokenize(result.text)
        probability = engine.detector.word_probabilities(result.text, tokens)
        inside = {t.index for e in result.edits for t in tokens if t.start < e.end and t.end > e.start}
        swapped += [probability[k] for k in inside]
        kept += [probability[k] for k in range(len(tokens)) if k not in inside]
    assert swapped and np.mean(swapped) > np.mean(kept) + 0.2


def test_weights_that_do_not_fit_the_base_encoder_are_refused(tmp_path):
    import torch
    from safetensors.torch import save_file

    from unspin.detect.encoder import SwapDetector
    from unspin.errors import ResourceMissing

    bad = tmp_path / "detector-bad.safetensors"
    save_file({"head.weight": torch.zeros(1, 7)}, str(bad))
    with pytest.raises(Exception) as caught:
        SwapDetector(bad)
    assert isinstance(caught.value, (ResourceMissing, RuntimeError))
    with pytest.raises(ResourceMissing):
        SwapDetector(tmp_path / "absent.safetensors")


def test_a_clean_text_gets_no_finding(engine):
    assert engine.detect(CLEAN).findings == []


def test_empty_and_wordless_inputs(engine):
    for text in ["", "   \n\n", "1234 5678 !!!", "😀😀"]:
        detection = engine.detect(text)
        assert detection.findings == [] and detection.expected == 0


def test_stock_idioms_are_flagged_and_restored_in_the_sentence_case(engine):
    findings = engine.detect("Atmosphere alteration is presently the greatest danger.").findings
    first = findings[0]
    assert (first.text, first.suggestion, first.detector) == ("Atmosphere alteration", "Climate change", "idiom.v1")


def test_findings_slice_the_text_and_do_not_overlap(engine):
    from unspin.evaluate.simulate import PROFILES, spin
    from unspin.lexicon import load_thesaurus

    result = spin(CLEAN * 3, rate=0.4, seed=5, thesaurus=load_thesaurus(("mythes",)), profile=PROFILES["mythes"])
    findings = engine.detect(result.text, threshold=0.3).findings
    assert findings
    end = 0
    for finding in findings:
        assert result.text[finding.start:finding.end] == finding.text and finding.start >= end
        assert 0 < finding.confidence <= 1 and finding.evidence
        end = finding.end


def test_paragraph_blocks_cut_at_paragraph_breaks_and_bound_every_block():
    from unspin.detect.learned import paragraph_blocks

    text = "a b c\n\nd e f g\n \n\nh i. j k l m n o p q r s t u. v w\n"
    blocks = paragraph_blocks(text, 3)
    assert [text[a:b] for a, b in blocks] == ["a b c", "d e f g", "h i. j k l m n o p", "q r s t u. v w\n"]
    assert " ".join(text[a:b] for a, b in blocks).split() == text.split()  # every word once, in order
    one_line = " ".join(f"w{k}." for k in range(100))
    assert all(len(one_line[a:b].split()) == 6 for a, b in paragraph_blocks(one_line, 3)[:-1])
    assert paragraph_blocks("", 3) == [(0, 0)] and paragraph_blocks(text, 1000) == [(0, len(text))]


def test_a_long_text_is_judged_block_by_block_with_offsets_into_the_whole(engine, monkeypatch):
    """Memory stays bounded for any input: a text over DETECT_BLOCK_WORDS is detected a block of
    paragraphs at a time, and the findings are each block's, placed in the whole text."""
    from unspin.detect import learned
    from unspin.evaluate.simulate import PROFILES, spin
    from unspin.lexicon import load_thesaurus

    thesaurus = load_thesaurus(("mythes",))
    paragraphs = [spin(CLEAN, rate=0.3, seed=seed, thesaurus=thesaurus, profile=PROFILES["mythes"]).text
                  for seed in range(4)]
    text = "\n\n".join(paragraphs)
    monkeypatch.setattr(learned, "DETECT_BLOCK_WORDS", len(CLEAN.split()))
    blocks = learned.paragraph_blocks(text, learned.DETECT_BLOCK_WORDS)
    assert len(blocks) == 4
    judged = []
    real = engine._detect
    monkeypatch.setattr(engine, "_detect", lambda part, threshold: judged.append(part) or real(part, threshold))
    whole = engine.detect(text, threshold=0.3)
    assert judged == [text[a:b] for a, b in blocks]
    parts = [(a, real(text[a:b], 0.3)) for a, b in blocks]
    assert [(f.start, f.end, f.suggestion) for f in whole.findings] == \
        [(f.start + a, f.end + a, f.suggestion) for a, part in parts for f in part.findings]
    assert whole.findings and all(text[f.start:f.end] == f.text for f in whole.findings)
    assert whole.words == len(tokenize(text)) == sum(part.words for _, part in parts)
    assert whole.expected == pytest.approx(sum(part.expected for _, part in parts))


def test_a_multi_word_span_is_restored_jointly(engine):
    from unspin.detect.context import sentence_ids as _sentence_ids

    text = "Women with bosom growth were screened."
    tokens = tokenize(text)
    lower = [t.lower for t in tokens]
    readings = engine.readings(lower, _sentence_ids(tokens), 2, 4)
    assert "breast cancer" in [r.wording for r in readings[:3]]


def test_sure_readings_are_written_in_and_the_other_spans_offsets_follow():
    from unspin.detect.learned import Reading, Span, _written_in

    text = "Atmosphere alteration is presently the greatest danger."
    tokens = tokenize(text)
    spans = [Span(6, 7, [Reading("threat", 0.0, 0, 0.0)], 0.0), Span(0, 2, [Reading("climate change", 0.0, 0, 0.0)], 0.0),
             Span(3, 4, [Reading("now", 0.0, 0, 0.0)], 0.0), Span(1, 3, [Reading("change", 0.0, 0, 0.0)], 0.0)]
    context, shifts = _written_in(text, tokens, spans, {0, 1})
    assert context == "Climate change is presently the greatest threat."
    assert context[tokens[3].start + shifts[2]:tokens[3].end + shifts[2]] == "presently"
    assert shifts[3] is None  # overlaps a span written in before it: no offsets to give


def test_a_long_text_is_read_in_blocks_with_context_on_both_sides(engine, monkeypatch):
    import unspin.detect.encoder as encoder

    text = " ".join([CLEAN] * 8)
    tokens = tokenize(text)
    whole = engine.detector.word_probabilities(text, tokens)
    monkeypatch.setattr(encoder, "BLOCK_WORDS", 90)
    monkeypatch.setattr(encoder, "MARGIN_WORDS", 40)
    blocked = engine.detector.word_probabilities(text, tokens)
    # Only the subword windows move; every word keeps at least 40 words of context each side.
    assert blocked.shape == whole.shape and np.abs(blocked - whole).max() < 0.15


def _training_script():
    import importlib.util
    import sys
    from pathlib import Path

    if "unspin_train_detector" not in sys.modules:
        path = Path(__file__).resolve().parents[2] / "scripts" / "train_detector.py"
        spec = importlib.util.spec_from_file_location("unspin_train_detector", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["unspin_train_detector"] = module
        spec.loader.exec_module(module)
    return sys.modules["unspin_train_detector"]


def test_packed_windows_come_back_as_they_were_packed():
    train = _training_script()
    data = [([101, 30521, 7], [0, 1, -100]), ([5], [1]), ([65535 - 1, 2, 3, 4], [-100, 0, 0, 1])]
    assert train.unpack(train.pack(data)) == data


def test_the_common_spinners_join_training_only_when_asked():
    from unspin.evaluate.simulate import COMMON_PROFILES, HELD_OUT_PROFILES, TRAIN_PROFILES

    train = _training_script()
    assert train.training_profiles() == TRAIN_PROFILES
    assert train.training_profiles(common=True) == TRAIN_PROFILES + COMMON_PROFILES
    # Never the held-out dictionary: the detector is measured on MyThes spinning it never saw.
    assert all("mythes" not in p.sources for p in train.training_profiles(common=True))
    assert not {p.name for p in COMMON_PROFILES} & {p.name for p in TRAIN_PROFILES + HELD_OUT_PROFILES}


def test_dev_quality_ranks_swapped_subwords_above_the_others():
    import torch

    train = _training_script()

    class Oracle(torch.nn.Module):  # scores a subword by its id: ids over 1000 are "swapped"
        def forward(self, ids, mask):
            return (ids > 1000).float() * 4 - 2

    dev = [([5, 2000, 7, 3000], [0, 1, 0, 1]), ([9, 10], [0, 0])]
    autocast = torch.autocast("cpu", enabled=False)
    assert train.dev_quality(Oracle(), dev, torch.device("cpu"), autocast) == (1.0, 1.0)
    flipped = [([5, 2000, 7, 3000], [1, 0, 1, 0])]
    average_precision, recall = train.dev_quality(Oracle(), flipped, torch.device("cpu"), autocast)
    assert average_precision < 0.6 and recall == 0.0


def test_gold_restoration_hands_each_swap_to_the_restorer(engine):
    from unspin.evaluate.learned import Case, restore_gold
    from unspin.evaluate.metrics import Gold

    text = "Women with bosom growth were screened."
    start, end = text.index("bosom"), text.index(" were")
    case = Case("tortured", text, (Gold(start, end, "breast cancer"),), 0.3)
    result = restore_gold(engine, [case])
    assert (result.swaps, result.restored, result.offered) == (1, 1, 1)
    wrong = Case("wrong", text, (Gold(start, end, "breast milk"),), 0.3)
    assert restore_gold(engine, [wrong]).restored == 0


def test_hypernyms_are_read_backwards_and_held_out_with_wordnet(engine):
    """A spinner reading MyThes swaps "lungs" for its generic term; WordNet's hypernym links give the
    original back (through the phrase's head word), and an evaluation holding WordNet out holds
    them out too (MyThes lists this one as well)."""
    text = "Smoking damages the respiratory organs of young people."
    tokens = tokenize(text)
    i = [t.text for t in tokens].index("respiratory")
    [span] = engine.restore(text, tokens, [(i, i + 2)])
    assert "lungs" in [r.wording for r in span.readings]
    assert "wordnet-generic" in engine.restore_sources
    assert "wordnet-generic" in engine.restoring_without(("mythes",)).restore_sources
    assert "wordnet-generic" not in engine.restoring_without(("wordnet",)).restore_sources
    [held_out] = engine.restoring_without(("wordnet", "mythes")).restore(text, tokens, [(i, i + 2)])
    assert "lungs" not in [r.wording for r in held_out.readings]


def test_span_features_say_when_no_reading_was_found_and_clip_the_gains():
    from unspin.detect.learned import GAIN_RANGE, SPAN_FEATURES, Reading, Span, WordEvidence, span_features

    tokens = tokenize("one two three")
    probability = np.array([0.1, 0.9, 0.2])
    table, rate = word_features(tokens, probability)
    evidence = WordEvidence(tokens, probability, table, rate)
    decided = np.array([0.05, 0.8, 0.1])
    values = span_features(Span(1, 2, [], written=-9.0), evidence, decided)
    assert len(values) == len(SPAN_FEATURES)
    bare = dict(zip(SPAN_FEATURES, values))
    assert bare["no_reading"] == 1.0 and bare["lm_gain"] == bare["trigram_gain"] == bare["channel"] == 0.0
    assert bare["site_logit"] == pytest.approx(np.log(0.8 / 0.2)) and bare["detector_logit"] == pytest.approx(np.log(9))
    reading = Reading("deux", score=-4.0, sources=1, channel=-1.0)
    span = Span(1, 2, [reading], written=-9.0, lm_gain=100.0)
    row = dict(zip(SPAN_FEATURES, span_features(span, evidence, decided)))
    assert row["no_reading"] == 0.0 and row["lm_gain"] == row["lm_gain_positive"] == GAIN_RANGE[1]
    assert row["trigram_gain"] == pytest.approx(-4.0 + 1.0 + 9.0) and row["channel"] == -1.0


def _verification_script():
    import importlib
    import sys
    from pathlib import Path

    scripts = str(Path(__file__).resolve().parents[2] / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)  # it imports its sibling train_learned_decision as a module
    return importlib.import_module("train_learned_verification")


def test_the_verification_thresholds_are_the_lowest_that_meet_the_targets_on_dev():
    from unspin.detect.decide import LogisticModel
    from unspin.detect.learned import SPAN_FEATURES

    train = _verification_script()
    n = len(SPAN_FEATURES)
    # P(swap) = sigmoid(lm_gain): the rows' gains set their probabilities exactly.
    model = LogisticModel("test", SPAN_FEATURES, tuple(float(f == "lm_gain") for f in SPAN_FEATURES), 0.0,
                          (0.0,) * n, (1.0,) * n, 0.5)

    def rows(gains, sites, swaps, words, gold, detector=None):
        x = np.zeros((len(gains), n))
        x[:, SPAN_FEATURES.index("lm_gain")] = np.log(np.asarray(gains) / (1 - np.asarray(gains)))
        x[:, SPAN_FEATURES.index("site_logit")] = np.log(np.asarray(sites) / (1 - np.asarray(sites)))
        detector = np.full(len(gains), 0.1) if detector is None else np.asarray(detector)
        x[:, SPAN_FEATURES.index("detector_logit")] = np.log(detector / (1 - detector))
        return {"x": x, "swap": np.asarray(swaps), "words": np.asarray([words]), "gold": np.asarray([gold]),
                "idioms": np.asarray([0]), "idioms_true": np.asarray([0])}

    # Ten swaps, one of them only a candidate from word-level 0.4; two false spans at 0.55 keep
    # precision under 0.9 until the threshold passes them; clean text has one span at 0.6.
    spun = rows([0.95] * 9 + [0.55, 0.55], [0.9] * 8 + [0.45, 0.9, 0.9], [1] * 9 + [0, 0], 0, 10)
    clean = rows([0.6], [0.9], [0], 2000, 0)
    candidate, isolated, threshold, table = train.sweep(model, spun, clean, isolated_choices=(None,))
    assert (candidate, isolated, threshold) == (0.4, None, 0.56)  # recall 0.9 there, 0.8 from 0.5 up
    chosen = [r for r in table if r["candidate"] == 0.4][-1]
    assert chosen == {"candidate": 0.4, "isolated": None, "threshold": 0.56, "precision": 1.0, "recall": 0.9,
                      "clean_false_flags_per_1k": 0.5, "verified": 12}
    # One false flag per 1,000 clean words at most: 0.6 is no longer enough where clean text has 2,000
    # words with three such spans.
    noisy = rows([0.6, 0.6, 0.6], [0.9] * 3, [0, 0, 0], 2000, 0)
    assert train.sweep(model, spun, noisy, isolated_choices=(None,))[:3] == (0.4, None, 0.62)
    # A swap that no word-level threshold verifies is verified from the detector alone, at the
    # isolated threshold that its detector probability reaches; where that gains no recall, the
    # engine verifies none (on ties, the choice that verifies less).
    # Recall within RECALL_TIE of the best is a tie too: then the thresholds that verify fewer spans
    # win (one more swap of 1,000 is not worth verifying every span from word-level 0.4).
    many = rows([0.95] * 901, [0.9] * 900 + [0.45], [1] * 901, 0, 1000)
    assert train.sweep(model, many, clean, isolated_choices=(None,))[:3] == (0.6, None, 0.3)
    lone = rows([0.95] * 10, [0.9] * 9 + [0.1], [1] * 10, 0, 10, detector=[0.1] * 9 + [0.8])
    assert train.sweep(model, lone, clean)[:3] == (0.6, 0.7, 0.3)
    assert train.sweep(model, lone, clean, isolated_choices=(0.9, None))[:3] == (0.6, None, 0.3)


def test_a_decision_swapped_in_is_the_one_that_flags(engine):
    """The word-level decision's training script swaps each fitted stage into a fast engine."""
    import copy

    from unspin.detect.decide import DecisionModel, LogisticModel

    n = len(FEATURES)
    everything = LogisticModel("everything", FEATURES, (0.0,) * n, 40.0, (0.0,) * n, (1.0,) * n, 0.5)
    trial = copy.copy(engine)
    trial.decide_with(DecisionModel(everything, engine.words.document, 0.5, 0.8, {}))
    assert engine.detect(CLEAN).findings == []
    findings = trial.detect(CLEAN).findings
    assert findings and all(f.confidence == pytest.approx(1.0) for f in findings)


def test_fast_mode_orders_readings_by_its_ranker(engine):
    """The shipped order is trigram + channel; fast mode re-orders by the ranker's linear score, and
    a ranker weighing only those two keeps the order they came in."""
    from unspin.detect.context import sentence_ids
    from unspin.detect.decide import ReadingRanker
    from unspin.detect.learned import READING_FEATURES, ranked, reading_features

    text = "Women with bosom growth were screened at the regional clinic."
    tokens = tokenize(text)
    readings = engine.readings([t.lower for t in tokens], sentence_ids(tokens), 2, 4)
    assert len(readings) > 2
    row = reading_features(readings[0], 2)
    assert len(row) == len(READING_FEATURES) and row[0] + row[1] == pytest.approx(readings[0].score)
    shipped = ReadingRanker(("trigram", "channel"), (1.0, 1.0), {})
    assert ranked(readings, 2, shipped) == readings
    by_frequency = ranked(readings, 2, ReadingRanker(("zipf",), (1.0,), {}))
    zipfs = [reading_features(r, 2)[READING_FEATURES.index("zipf")] for r in by_frequency]
    assert zipfs == sorted(zipfs, reverse=True) and by_frequency != readings
    assert engine.ranker is not None
    [span] = engine.restore(text, tokens, [(2, 4)])
    assert span.readings == ranked(readings, 2, engine.ranker)


def test_the_reading_ranker_learns_what_marks_the_original():
    """Where the original is always the reading two dictionaries agree on, the fit weighs agreement
    up and puts it first; swaps without their original among the readings are left out."""
    import importlib
    import sys
    from pathlib import Path

    from unspin.detect.learned import READING_FEATURES

    scripts = str(Path(__file__).resolve().parents[2] / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    train = importlib.import_module("train_reading_ranker")
    agreeing = READING_FEATURES.index("agreeing")
    rng = np.random.default_rng(0)
    rows = []
    for _ in range(40):
        x = rng.normal(size=(5, len(READING_FEATURES)))
        x[:, agreeing] = 1.0
        x[3, agreeing] = 2.0
        rows.append((x, np.arange(5) == 3))
    rows.append((rng.normal(size=(4, len(READING_FEATURES))), np.zeros(4, dtype=bool)))  # original not offered
    weights = train.fit({"synthetic": rows})
    assert weights[agreeing] > 1.0
    assert train.accuracy({"synthetic": rows[:40]}, weights)["synthetic"] > 0.9


def test_readability_compares_restored_texts_with_their_inputs_per_word():
    from unspin.evaluate.learned import readability

    class Judge:  # ln P: -1 a character, so shorter words per word read better
        def word_logprobs(self, text, spans):
            return [-float(end - start) for start, end in spans]

    inputs = ["The cat sat.", "A dog ran far.", "It rained."]
    restored = ["The kitty sat.", "A dog ran far.", "It ran."]  # longer, unchanged, shorter
    read = readability(Judge(), inputs, restored)
    expected = [(-14 + 12) / 3, (-7 + 10) / 2]  # per word, the words as tokenize counts them
    assert (read.changed, read.worse) == (2, 1)
    assert read.delta == pytest.approx(sum(expected) / 2)
    assert readability(Judge(), inputs, inputs).as_dict() == {"restored_changed": 0, "reads_worse": "0/0",
                                                              "lnp_per_word_delta": None}


def test_fast_mode_reports_what_its_verification_rates_over_the_restoration_evidence(engine):
    """Fast mode restores every span from the verification's lower word-level threshold and reports
    the spans its verification rates at its own threshold; a span's confidence is that rating, and
    a reading the trigram finds better makes a span more likely a swap."""
    import numpy as np

    from unspin.detect.learned import FAST_SPAN_FEATURES, SPAN_FEATURES, site_probabilities, span_features
    from unspin.evaluate.simulate import PROFILES, spin
    from unspin.lexicon import load_thesaurus

    verification = engine.verification
    assert verification is not None and verification.span.features == FAST_SPAN_FEATURES
    assert verification.candidate_threshold < engine.words.site.threshold
    assert engine.decision.site is verification.span
    text = spin(CLEAN * 3, rate=0.4, seed=5, thesaurus=load_thesaurus(("mythes",)), profile=PROFILES["mythes"]).text
    found = engine.candidates(text, verification.candidate_threshold, idioms=False)
    rows = np.asarray([span_features(s, found.evidence, found.decided) for s in found.spans])
    rated = site_probabilities(verification.span, rows, SPAN_FEATURES)
    reported = {(f.start, f.end): f.confidence for f in engine.detect(text).findings}
    tokens = found.evidence.tokens
    for span, p in zip(found.spans, rated):
        where = (tokens[span.i].start, tokens[span.j - 1].end)
        assert (where in reported) == (p >= verification.span.threshold)
        assert where not in reported or reported[where] == pytest.approx(p)
    better = rows.copy()
    better[:, SPAN_FEATURES.index("trigram_gain")] += 3.0
    assert (site_probabilities(verification.span, better, SPAN_FEATURES) > rated).all()


def test_words_the_detector_alone_suspects_are_verified_when_isolated_spans_are_asked_for(engine):
    """A swap standing alone rarely reaches the word-level decision (it learned that swaps come in
    company); given `isolated`, every word the detector rates that high is in a span to verify."""
    text = "The drug is used to treat unremitting ailment in older patients."
    without = engine.candidates(text, 0.99, idioms=False)
    found = engine.candidates(text, 0.99, idioms=False, isolated=0.5)
    spans = [(s.i, s.j) for s in found.spans]
    assert set((s.i, s.j) for s in without.spans) < set(spans)
    suspected = {k for k, p in enumerate(found.evidence.probability) if p >= 0.5}
    assert suspected, "the detector should suspect the tortured word"
    assert suspected <= {k for i, j in spans for k in range(i, j)}
    assert all(found.evidence.probability[i:j].max() >= 0.5 or found.decided[i:j].max() >= 0.99 for i, j in spans)
    covered = [k for i, j in spans for k in range(i, j)]
    assert len(covered) == len(set(covered)) and spans == sorted(spans)


def test_words_read_back_one_by_one_spell_the_dictionary_entries_of_several_words(engine):
    """"hereditary confusion" -> "genetic disorder": each word through its own candidates, kept
    only where the words together are one entry; the written words themselves are no reading."""
    spelled = {wording: channel for wording, channel, _ in engine.generator.entries_spelled(["hereditary", "confusion"])}
    assert "genetic disorder" in spelled and "hereditary confusion" not in spelled
    assert all(" " in wording and wording in engine.generator.thesaurus for wording in spelled)
    by_word = [{c.original: c.channel for c in engine.generator.for_term(w)} for w in ("hereditary", "confusion")]
    assert spelled["genetic disorder"] == pytest.approx(by_word[0]["genetic"] + by_word[1]["disorder"])
    # A word kept as written costs nothing: "respiratory parcel" -> "respiratory tract".
    kept = {wording: channel for wording, channel, _ in engine.generator.entries_spelled(["respiratory", "parcel"])}
    assert kept["respiratory tract"] == pytest.approx({c.original: c.channel for c in engine.generator.for_term("parcel")}["tract"])


def test_a_reading_changes_a_neighbour_when_it_differs_there_or_in_length():
    from unspin.detect.learned import _changes

    lower = ["the", "viewpoint", "proportion", "was"]
    assert _changes(["aspect", "ratio"], lower, 1, 3, [1])
    assert not _changes(["viewpoint", "ratio"], lower, 1, 3, [1])
    assert _changes(["ratio"], lower, 1, 3, [1])


def test_full_mode_shows_only_alternatives_that_read_nearly_as_well_as_the_suggestion(engine):
    from unspin.detect.learned import ALTERNATIVE_MARGIN, Reading, Span, WordEvidence

    text = "Women with bosom growth were screened."
    tokens = tokenize(text)
    probability = np.array([0.1, 0.1, 0.9, 0.9, 0.1, 0.1])
    table, rate = word_features(tokens, probability)
    evidence = WordEvidence(tokens, probability, table, rate)
    readings = [Reading(w, 0.0, 1, 0.0) for w in ("breast cancer", "breast tumours", "lock up", "chest growth")]
    near, far = -20.0 - ALTERNATIVE_MARGIN / 2, -20.0 - ALTERNATIVE_MARGIN - 0.01  # best first, as ranked
    span = Span(2, 4, readings, written=-30.0, lm_gain=5.0, lm_scores=[-20.0, near, far, near])
    finding = engine.finding(text, evidence, span, 0.9)
    assert finding.suggestion == "breast cancer"
    assert finding.alternatives == ("breast tumours", "chest growth")  # "lock up" reads far worse
    # Without the LM's scores (fast mode) the readings' own order decides, as before.
    fast = engine.finding(text, evidence, Span(2, 4, readings, written=-30.0), 0.9)
    assert fast.alternatives == ("breast tumours", "lock up", "chest growth")
