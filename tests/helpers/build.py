"""`make` in runtime_micro's own tree, one at a time.

The suite runs in several pytest-xdist workers (scripts/test.sh); builds whose outputs land in
the checkout (runtime_micro/build/...) would otherwise race — two compilers writing one object
file, or one linking an object the other is still writing. Builds into a test's own tmp folder
(OUT=...) need no lock.
"""

from __future__ import annotations

import fcntl
import subprocess
from pathlib import Path

RUNTIME = Path(__file__).resolve().parents[2] / "runtime_micro"


def make_in_tree(*args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """`make -C runtime_micro ARGS`, holding an exclusive lock on runtime_micro/build/."""
    lock_dir = RUNTIME / "build"
    lock_dir.mkdir(exist_ok=True)
    with open(lock_dir / ".make.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return subprocess.run(["make", "-C", str(RUNTIME), *args], capture_output=True,
                              text=True, timeout=timeout, check=False)
