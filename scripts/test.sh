#!/usr/bin/env bash
# Set up a virtual environment with edgelite and its test oracles, then run the test suite.
# The Debian packages the tests need are listed in scripts/apt-packages.txt: installed here when
# run as root, otherwise the one command to run first is printed.
set -euo pipefail
cd "$(dirname "$0")/.."

if command -v dpkg-query >/dev/null 2>&1 && [ -z "${EDGELITE_SKIP_APT:-}" ]; then
  missing=()
  for pkg in $(sed 's/#.*//' scripts/apt-packages.txt); do
    [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] \
      || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      echo "installing Debian packages: ${missing[*]}" >&2
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
    else
      echo "The tests need Debian packages that are not installed. Run first:" >&2
      echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends" \
        "${missing[*]}" >&2
      echo "(or set EDGELITE_SKIP_APT=1 to run the tests anyway)" >&2
      exit 1
    fi
  fi
fi

VENV="${EDGELITE_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -m pip install -q ".[test]"
# One pytest-xdist worker per core (EDGELITE_TEST_WORKERS=0 runs everything in this process);
# the 25 slowest tests are listed at the end, to keep the whole run under CI's 30 minutes.
exec "$VENV/bin/python" -m pytest -q --durations=25 -n "${EDGELITE_TEST_WORKERS:-auto}" "$@"
