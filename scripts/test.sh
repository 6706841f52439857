#!/usr/bin/env bash
# README command 2: install what is missing, then run the whole test suite (slow tests included).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --with-test-tools
# Browser and Spark tests must run in CI, never skip: a missing Chromium or Java is a failure.
export UNSPIN_REQUIRE_BROWSER=1
export UNSPIN_REQUIRE_SPARK=1
export UNSPIN_REQUIRE_PPS=1   # the PPS-list tests read ../shared/data/pps: missing data is a failure here
exec .venv/bin/python -m pytest -q "$@"
