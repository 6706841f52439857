"""Tests that need the PPS data (../shared/data/pps beside the repository, or $UNSPIN_PPS_DIR).

Where it is absent they skip, saying why; with UNSPIN_REQUIRE_PPS=1 (as scripts/test.sh sets for
CI) they fail instead, as the browser and Spark tests do with UNSPIN_REQUIRE_BROWSER and
UNSPIN_REQUIRE_SPARK: a run that must measure against PPS never passes by skipping it.

A plain module, not a conftest fixture, so that each test module says where its marks come from:
`from pps import needs_pps_data`, with the condition the module already computes.
"""

from __future__ import annotations

import functools
import os

import pytest

REQUIRE = "UNSPIN_REQUIRE_PPS"


def required() -> bool:
    """Whether a missing PPS file fails a test rather than skip it (read when the mark is made)."""
    return os.environ.get(REQUIRE) == "1"


def needs_pps_data(present: bool, what: str):
    """A decorator for a test that needs `what` (a PPS file or folder): the test as it is when
    `present`; else skipped, or, under UNSPIN_REQUIRE_PPS=1, failed with one line naming `what`."""

    def decorate(test):
        if present:
            return test
        if not required():
            return pytest.mark.skip(reason=f"{what} is absent [set {REQUIRE}=1 to fail instead]")(test)

        @functools.wraps(test)  # keeps the signature (fixtures) and the marks applied before this one
        def missing(*args, **kwargs):
            pytest.fail(f"{what} is absent [{REQUIRE}=1: not skipping]", pytrace=False)

        return missing

    return decorate
