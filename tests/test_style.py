"""House style that a tool can check: every C file is formatted by the pinned clang-format
(.clang-format; generated files and templates listed in .clang-format-ignore)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _clang_format() -> str:
    found = shutil.which("clang-format", path=str(Path(sys.executable).parent)) \
        or shutil.which("clang-format")
    if not found:
        pytest.fail("clang-format is needed: pip install 'clang-format==23.1.5' (the test extra)")
    return found


def test_c_files_are_clang_formatted() -> None:
    files = subprocess.run(["git", "ls-files", "*.c", "*.h"], cwd=REPO, check=True,
                           capture_output=True, text=True).stdout.split()
    assert len(files) > 80
    res = subprocess.run([_clang_format(), "--dry-run", "--Werror", *files], cwd=REPO,
                         capture_output=True, text=True)
    bad = sorted({line.split(":", 1)[0] for line in res.stderr.splitlines()
                  if ": error:" in line})
    assert res.returncode == 0 and not bad, (
        f"{len(bad)} C files are not formatted (clang-format -i FILE): {bad[:20]}")
