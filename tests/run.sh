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
echo "== ruff"
ruff check govgate tests benchmarks
echo "== pytest"
python -m pytest -q "$@"
