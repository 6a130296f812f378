"""The wheel as a user gets it: built by scripts/build_wheel.sh, installed with plain `pip install`
(no extras) into a fresh virtual environment, run from a folder outside the checkout.

- tagged py3-none-manylinux_X_Y_<arch> (runtime_micro is loaded with ctypes: no CPython ABI;
  auditwheel certifies it links only the C library);
- the core install is at most 200 MB of site-packages, with no TensorFlow and no peer runtime;
- `edgelite convert` works and writes the checkout's bytes, which LiteRT runs as ONNX Runtime
  runs the source model;
- `bench --target cortex-m4` and `export` find runtime_micro's sources and the target harness
  inside the installed package (edgelite/_source, package data written by the top-level
  CMakeLists.txt);
- a command needing a peer runtime says `pip install 'edgelite[peers]'` (exit 2, no traceback);
- `edgelite doctor` reports the sources inside the venv and the peers as missing.

One module-scoped build + venv (pip's cache serves the dependencies after the first run); the
venv sees neither the system's nor the test venv's site-packages, and the commands run with
neither PYTHONPATH nor EDGELITE_SOURCE set. Slow: about a minute (the wheel build compiles
runtime_micro, the Cortex-M4 bench compiles it again).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
DIGITS = REPO / "examples" / "digits"
CORE_BUDGET_MB = 200
PEER_MODULES = ("onnxruntime", "ai_edge_litert", "tflite_micro", "tensorflow", "tflite_runtime")

pytestmark = pytest.mark.slow


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=1800, **kw)


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    site_packages: Path
    outside: Path  # a working folder outside the checkout
    env: dict[str, str]

    @property
    def edgelite(self) -> str:
        return str(self.venv / "bin" / "edgelite")

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return _run([self.edgelite, *args], cwd=self.outside, env=self.env)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    tmp = tmp_path_factory.mktemp("wheel")
    dist = tmp / "dist"
    res = _run(["bash", str(REPO / "scripts" / "build_wheel.sh"), str(dist)],
               env={**os.environ, "PYTHON": sys.executable})
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (wheel,) = dist.glob("edgelite-*.whl")
    venv = tmp / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    assert "include-system-site-packages = false" in (venv / "pyvenv.cfg").read_text()
    res = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    (site,) = (venv / "lib").glob("python3*/site-packages")
    outside = tmp / "somewhere"
    outside.mkdir()
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "EDGELITE_SOURCE", "EDGELITE_RUNTIME_LIB")}
    return Installed(wheel, venv, site, outside, env)


def test_wheel_is_tagged_for_any_python3_on_manylinux(installed: Installed) -> None:
    name, _version, py, abi, plat = installed.wheel.name[:-len(".whl")].split("-")
    assert (name, py, abi) == ("edgelite", "py3", "none"), installed.wheel.name
    assert re.fullmatch(rf"manylinux_2_\d+_{platform.machine()}", plat), installed.wheel.name
    with zipfile.ZipFile(installed.wheel) as z:
        names = z.namelist()
        wheel_meta = z.read(next(n for n in names if n.endswith(".dist-info/WHEEL"))).decode()
    assert f"Tag: py3-none-{plat}" in wheel_meta.splitlines()
    assert "Root-Is-Purelib: false" in wheel_meta.splitlines()
    assert "edgelite/_lib/libedgelite_micro.so" in names
    assert not [n for n in names if "cpython" in n or n.endswith(".abi3.so")]  # ctypes only
    assert "edgelite/_source/runtime_micro/targets/Makefile" in names


def _tree_bytes(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def test_core_install_is_small_and_carries_no_peer_runtime(installed: Installed) -> None:
    size_mb = _tree_bytes(installed.site_packages) / 1e6
    print(f"\n[wheel] {installed.wheel.name}: core install {size_mb:.0f} MB of site-packages")
    assert size_mb <= CORE_BUDGET_MB, f"core install {size_mb:.0f} MB > {CORE_BUDGET_MB} MB"
    res = _run([str(installed.venv / "bin" / "python"), "-c",
                ("import importlib.util, json, sys; "
                f"print(json.dumps([m for m in {PEER_MODULES!r} "
                "if importlib.util.find_spec(m)]))")], env=installed.env)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == [], "a peer runtime came with the core install"


def test_installed_convert_writes_the_checkouts_bytes_and_litert_agrees_with_onnxruntime(
        installed: Installed) -> None:
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    from edgelite.converter import convert_to_bytes

    shutil.copy(DIGITS / "digits_cnn.onnx", installed.outside / "digits_cnn.onnx")
    res = installed.run("convert", "digits_cnn.onnx", "-o", "digits.tflite")
    assert res.returncode == 0, res.stdout + res.stderr
    model = (installed.outside / "digits.tflite").read_bytes()
    assert model == convert_to_bytes(installed.outside / "digits_cnn.onnx")

    with np.load(DIGITS / "heldout.npz") as z:
        samples = z["input"][:4].astype(np.float32)  # NCHW, batch 1 each
    sess = ort.InferenceSession(str(DIGITS / "digits_cnn.onnx"),
                                providers=["CPUExecutionProvider"])
    lite = Interpreter(model_content=model)
    lite.allocate_tensors()
    (inp,), (out,) = lite.get_input_details(), lite.get_output_details()
    for x in samples[:, None]:
        want = sess.run(None, {sess.get_inputs()[0].name: x})[0]
        nhwc = tuple(inp["shape"]) != x.shape
        lite.set_tensor(inp["index"], np.moveaxis(x, 1, -1) if nhwc else x)
        lite.invoke()
        np.testing.assert_allclose(lite.get_tensor(out["index"]), want, rtol=1e-4, atol=1e-4)


def test_installed_package_benches_on_cortex_m4_and_exports_without_a_checkout(
        installed: Installed) -> None:
    from edgelite.bench import cross
    from edgelite.quantize import QuantizeOptions, quantize

    missing = cross.missing_tools(["cortex-m4"])
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: {cross.APT_LINE}", pytrace=False)
    outside = installed.outside
    (outside / "digits_i8.tflite").write_bytes(quantize(DIGITS / "digits_cnn.onnx",
                                                        QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model)
    with np.load(DIGITS / "heldout.npz") as z:
        np.save(outside / "x.npy", z["input"][:1].astype(np.float32))  # NCHW
    where = _run([str(installed.venv / "bin" / "python"), "-c",
                  ("import edgelite, edgelite.bench.cross as c; print(edgelite.__file__); "
                  "print(c.source_root())")], cwd=outside, env=installed.env)
    pkg_file, source = where.stdout.split()
    assert Path(pkg_file).is_relative_to(installed.venv), where
    assert Path(source).is_relative_to(installed.venv), where
    assert Path(source).name == "_source"

    work = cross.cache_dir() / "bench-targets" / hashlib.sha256(
        str(Path(source).resolve()).encode()).hexdigest()[:12]
    try:
        bench = installed.run("bench", "digits_i8.tflite", "--target", "cortex-m4",
                              "--input", "x.npy", "--no-profile")
    finally:
        shutil.rmtree(work, ignore_errors=True)  # this venv's build folder in the user cache
    assert bench.returncode == 0, bench.stdout + bench.stderr
    assert "outputs   bit-exact with the host runtime" in bench.stdout, bench.stdout
    assert "invoke    " in bench.stdout and "instructions" in bench.stdout

    exp = installed.run("export", "digits_i8.tflite", "-o", "fw/digits", "--input", "x.npy")
    assert exp.returncode == 0, exp.stderr
    bundle = outside / "fw" / "digits" / "runtime_micro"
    for rel in ("include/edgelite_micro.h", "kernels/el_kernels.c", "src/el_interp.c",
                "targets/startup_cortexm.c", "targets/mps2.ld"):
        assert (bundle / rel).read_bytes() == (REPO / "runtime_micro" / rel).read_bytes(), rel


def test_a_missing_peer_names_the_extra(installed: Installed) -> None:
    shutil.copy(DIGITS / "digits_cnn.onnx", installed.outside / "peer.onnx")
    assert installed.run("convert", "peer.onnx", "-o", "peer.tflite").returncode == 0
    for peer, dist in (("litert", "ai-edge-litert"), ("tflm", "tflite-micro")):
        res = installed.run("bench", "peer.tflite", "--runs", "1", "--warmup", "0",
                            "--no-profile", "--compare", peer)
        assert res.returncode == 2, res.stdout + res.stderr
        assert "Traceback" not in res.stderr
        assert res.stderr.startswith("error: "), res.stderr
        assert f"needs {dist}" in res.stderr and "pip install 'edgelite[peers]'" in res.stderr
    res = installed.run("bench", "peer.tflite", "--runs", "1", "--warmup", "0", "--no-profile",
                        "--compare", "onnxruntime", "--onnx", "peer.onnx")
    assert res.returncode == 2 and "needs onnxruntime" in res.stderr, res.stderr
    assert "pip install 'edgelite[peers]'" in res.stderr


def test_installed_doctor_finds_the_packaged_sources_and_names_the_peers_extra(
        installed: Installed) -> None:
    res = installed.run("doctor", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert Path(report["runtime_micro_sources"]).is_relative_to(installed.venv)
    tools = {t["name"]: t for t in report["tools"]}
    for peer in ("onnxruntime", "ai_edge_litert", "tflite_micro"):
        assert tools[peer]["present"] is False
        assert tools[peer]["install"] == "pip install 'edgelite[peers]'"
    assert "pip install 'edgelite[peers]'" in report["install"]
