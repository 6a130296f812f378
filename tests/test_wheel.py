"""A plain `pip install` of the wheel, without a checkout: `bench --target cortex-m4` and
`export` find runtime_micro's sources and the target harness inside the installed package
(edgelite/_source, package data written by the top-level CMakeLists.txt).

Builds the wheel (`pip wheel . --no-deps`), installs it into a fresh virtual environment
without the system's or the test venv's site-packages (its dependencies come from PyPI or
pip's cache), and runs the installed `edgelite` from a folder outside the checkout with neither
PYTHONPATH nor EDGELITE_SOURCE set. Slow (a wheel build compiles runtime_micro, then the
Cortex-M4 build compiles it again): about 1-2 minutes.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DIGITS = REPO / "examples" / "digits"


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=1800, **kw)


@pytest.mark.slow
def test_installed_wheel_benches_on_cortex_m4_and_exports_without_a_checkout(
        tmp_path: Path) -> None:
    from edgelite.bench import cross
    from edgelite.quantize import QuantizeOptions, quantize

    missing = cross.missing_tools(["cortex-m4"])
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: {cross.APT_LINE}", pytrace=False)
    wheels = tmp_path / "wheels"
    res = _run([sys.executable, "-m", "pip", "wheel", str(REPO), "--no-deps", "-w",
                str(wheels), "-q"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (wheel,) = wheels.glob("edgelite-*.whl")
    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    res = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]

    outside = tmp_path / "somewhere"
    outside.mkdir()
    (outside / "digits_i8.tflite").write_bytes(quantize(DIGITS / "digits_cnn.onnx",
                                                        QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model)
    with np.load(DIGITS / "heldout.npz") as z:
        np.save(outside / "x.npy", z["input"][:1].astype(np.float32))  # NCHW
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "EDGELITE_SOURCE", "EDGELITE_RUNTIME_LIB")}
    edgelite = str(venv / "bin" / "edgelite")
    where = _run([str(venv / "bin" / "python"), "-c",
                  "import edgelite, edgelite.bench.cross as c; print(edgelite.__file__); "
                  "print(c.source_root())"], cwd=outside, env=env)
    pkg_file, source = where.stdout.split()
    assert Path(pkg_file).is_relative_to(venv) and Path(source).is_relative_to(venv), where
    assert Path(source).name == "_source"

    work = cross.cache_dir() / "bench-targets" / hashlib.sha256(
        str(Path(source).resolve()).encode()).hexdigest()[:12]
    try:
        bench = _run([edgelite, "bench", "digits_i8.tflite", "--target", "cortex-m4",
                      "--input", "x.npy", "--no-profile"], cwd=outside, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # this venv's build folder in the user cache
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "outputs   bit-exact with the host runtime" in bench.stdout, bench.stdout
    assert "invoke    " in bench.stdout and "instructions" in bench.stdout

    exp = _run([edgelite, "export", "digits_i8.tflite", "-o", "fw/digits", "--input", "x.npy"],
               cwd=outside, env=env)
    assert exp.returncode == 0, exp.stderr
    bundle = outside / "fw" / "digits" / "runtime_micro"
    for rel in ("include/edgelite_micro.h", "kernels/el_kernels.c", "src/el_interp.c",
                "targets/startup_cortexm.c", "targets/mps2.ld"):
        assert (bundle / rel).read_bytes() == (REPO / "runtime_micro" / rel).read_bytes(), rel
    print(f"\n[wheel] {wheel.name}: bench --target cortex-m4 and export from {outside}")
