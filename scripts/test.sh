#!/usr/bin/env bash
# Set up a virtual environment with edgelite and its test oracles, then run the test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${EDGELITE_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q ".[test]"
exec "$VENV/bin/python" -m pytest -q "$@"
