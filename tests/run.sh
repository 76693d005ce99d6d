#!/usr/bin/env bash
# The whole test suite from a clean clone: a fresh virtual environment, the package and its
# test extras, ruff, then pytest. README's test command and .ci/run both call this script.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${GOVGATE_TEST_VENV:-.venv-test}"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -e '.[test]'
export PATH="$PWD/$venv/bin:$PATH"
# The HTML audit report is checked in headless Chromium (tests/test_audit_browser.py): install it where
# this machine allows (CI runs as root on Debian); elsewhere those tests say why they are skipped.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing chromium"
  { DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } \
    || echo "chromium could not be installed: the browser tests will be skipped"
fi
export GOVGATE_TEST_ARTIFACTS="${GOVGATE_TEST_ARTIFACTS:-$PWD/build/test-artifacts}"
echo "== ruff"
ruff check govgate tests benchmarks
echo "== pytest"
python -m pytest -q "$@"
echo "== screenshots of the HTML report: $GOVGATE_TEST_ARTIFACTS"
