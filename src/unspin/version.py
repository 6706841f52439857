"""unspin's version, in a module of its own: reports stamp it from deep inside the package, and
importing the package root for it would tie every layer to the whole API."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("unspin")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"
