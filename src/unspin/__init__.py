"""unspin: find machine-spun text, restore the original wording, score documents.

    >>> import unspin
    >>> report = unspin.check("We trained a profound learning model.", mode="fast")
    >>> report.verdict in {"spun", "suspect", "clean"}
    True
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from unspin.errors import InputError, ResourceMissing, UnspinError, UsageError
from unspin.model import Finding, Report

try:
    __version__ = version("unspin")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"


def check(text: str, *, mode: str = "full", model: str | None = None, device: str = "auto", id=None) -> Report:
    """Find the spun spans of `text` and restore them; see `unspin.model.Report`."""
    from unspin.detect.engine import get_engine

    return get_engine(mode=mode, model=model, device=device).check(text, id=id)


def restore(text: str, *, mode: str = "full", model: str | None = None, device: str = "auto") -> str:
    """`text` with every spun span replaced by its most likely original wording."""
    return check(text, mode=mode, model=model, device=device).restored


__all__ = [
    "check", "restore", "Finding", "Report",
    "UnspinError", "InputError", "UsageError", "ResourceMissing", "__version__",
]
