"""unspin: find machine-spun text, restore the original wording, score documents.

    >>> import unspin
    >>> report = unspin.check("We trained a profound learning model.", mode="fast")
    >>> report.verdict in {"spun", "suspect", "clean"}
    True
"""

from __future__ import annotations

import os
from collections.abc import Sequence

from unspin.errors import InputError, ResourceMissing, UnspinError, UsageError
from unspin.model import Finding, Report
from unspin.version import __version__


def check(text: str, *, mode: str = "full", model: str | None = None, device: str = "auto", id=None,
          fingerprints: Sequence[str | os.PathLike[str]] = (), engine: bool = True) -> Report:
    """Find the spun spans of `text` and restore them; see `unspin.model.Report`.

    `fingerprints`: paths of fingerprint lists (PPS CSV, JSON, TSV) whose matches are reported
    too; `engine=False` reports list matches only.
    """
    from unspin.pipeline import get_checker

    checker = get_checker(mode=mode, model=model, device=device, fingerprints=tuple(fingerprints), engine=engine)
    return checker.check(text, id=id)


def restore(text: str, *, mode: str = "full", model: str | None = None, device: str = "auto",
            fingerprints: Sequence[str | os.PathLike[str]] = (), engine: bool = True) -> str:
    """`text` with every spun span replaced by its most likely original wording."""
    return check(text, mode=mode, model=model, device=device, fingerprints=fingerprints, engine=engine).restored


def load_fingerprints(path: str | os.PathLike[str]):
    """Read and validate a fingerprint list; see `unspin.lexicon.fingerprints`."""
    from unspin.lexicon.fingerprints import load_fingerprints as load

    return load(path)


__all__ = [
    "check", "restore", "load_fingerprints", "Finding", "Report",
    "UnspinError", "InputError", "UsageError", "ResourceMissing", "__version__",
]
