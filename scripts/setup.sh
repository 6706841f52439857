#!/usr/bin/env bash
# README command 1: install everything, then run unspin on the spun example shipped with it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
echo "unspin: checking examples/spun-news.txt (the first run builds caches and loads the model)" >&2
.venv/bin/unspin check examples/spun-news.txt
