"""The `edgelite` command run as a user runs it (a subprocess), and the shape every user error
must have: one `error: ...` line on stderr, exit code 2, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import edgelite

# The edgelite the tests import (the installed wheel, or src/ in a dev checkout).
PKG_ROOT = str(Path(edgelite.__file__).resolve().parents[1])


def edgelite_cmd(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "edgelite.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300, check=False)


def assert_one_error(code: int, err: str, *fragments: str) -> None:
    """Exit code 2, no traceback, one `error: ...` line on stderr holding every fragment."""
    assert code == 2, (code, err)
    assert "Traceback" not in err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])


def assert_user_error(res: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    assert_one_error(res.returncode, res.stderr, *fragments)
