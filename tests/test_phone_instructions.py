"""benchmarks/phone_instructions.py (LiteRT's aarch64 wheel beside runtime_micro under QEMU) is
a benchmark, not a CI step: these only check that a host without its tools gets one clear line
and exit code 2 before anything is downloaded, and that bad options are refused by name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "phone_instructions.py"


def _run(*args: str, path: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          env=env, timeout=60, check=False)


def test_missing_qemu_is_one_line_and_nothing_is_set_up(tmp_path: Path) -> None:
    folder = tmp_path / "phone"
    empty = tmp_path / "bin"
    empty.mkdir()
    res = _run("--folder", str(folder), path=str(empty))  # no qemu-aarch64, unshare, apt-get
    assert res.returncode == 2, res.stderr
    assert res.stderr == ("phone_instructions: qemu-aarch64 not found: "
                          "apt-get install -y qemu-user\n")
    assert res.stdout == "" and not folder.exists()


def test_unknown_cpu_and_missing_model_are_refused_by_name(tmp_path: Path) -> None:
    res = _run("--cpus", "cortex-a78", path=os.environ.get("PATH", ""))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert "--cpus: 'cortex-a78' unknown; known: cortex-a76, cortex-a53" in res.stderr
    res = _run(str(tmp_path / "nope.tflite"), path=os.environ.get("PATH", ""))
    assert res.returncode == 2 and "Traceback" not in res.stderr
    assert f"{tmp_path / 'nope.tflite'}: no such file" in res.stderr
