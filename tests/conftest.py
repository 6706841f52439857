"""Shared fixtures. The fast engine loads thesauri once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def fast_engine():
    from unspin.detect.engine import get_engine

    return get_engine(mode="fast")


@pytest.fixture(scope="session")
def fast_checker():
    """Fast mode as users run it: the learned engine's findings in a whole report."""
    from unspin.pipeline import get_checker

    return get_checker(mode="fast")
