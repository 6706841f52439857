"""Shared fixtures. The fast engine loads thesauri once per test session."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def fast_engine():
    from unspin.detect.engine import get_engine

    return get_engine(mode="fast")
