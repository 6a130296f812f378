"""The ONNX backend node-test corpus, fetched once and cached.

onnx 1.22.0 is the last wheel that ships ``onnx/backend/test/data/node`` (1,765 one-node cases
with protobuf inputs and expected outputs computed by the ONNX project). We download that wheel
with pip (PyPI is our only network), extract only the node-test folder into the user cache and
reuse it afterwards. onnx 1.22 is never imported: the cases are plain protobuf files that the
installed onnx reads.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ONNX_VERSION = "1.22.0"
_PREFIX = "onnx/backend/test/data/node/"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgelite" / f"onnx-{ONNX_VERSION}-node"


def _download_wheel(dest: Path) -> Path:
    cmd = [
        sys.executable, "-m", "pip", "download", f"onnx=={ONNX_VERSION}", "--no-deps",
        "--only-binary=:all:", "--python-version", "3.11", "--quiet", "-d", str(dest),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(dest.glob(f"onnx-{ONNX_VERSION}-*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download left no onnx {ONNX_VERSION} wheel in {dest}")
    return wheels[0]


def node_tests_dir() -> Path:
    """The cached ``node`` folder (one sub-folder per case), fetching it on first use."""
    target = cache_dir()
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        tmp_path = Path(tmp)
        wheel = _download_wheel(tmp_path / "wheel")
        staging = tmp_path / "node"
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                if not member.startswith(_PREFIX) or member.endswith("/"):
                    continue
                rel = member[len(_PREFIX):]
                out = staging / rel
                out.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(member) as src, open(out, "wb") as dst:
                    shutil.copyfileobj(src, dst)
        # Atomic publish: another process may have won the race; keep theirs.
        try:
            os.rename(staging, target)
        except OSError:
            if not target.is_dir():
                raise
    return target


def cases() -> list[Path]:
    """Every case folder (those holding a model.onnx), sorted by name."""
    root = node_tests_dir()
    return sorted(p for p in root.iterdir() if (p / "model.onnx").is_file())


if __name__ == "__main__":
    found = cases()
    print(f"{len(found)} node-test cases in {cache_dir()}")
