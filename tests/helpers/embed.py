"""Shared by the embedding tests (tests/test_embed.py, tests/test_java.py): runtime_micro built
and installed with CMake, and the digits models with one real held-out digit.

The reference outputs come from the Python binding (edgelite.runtime.Interpreter), which is
itself checked here against LiteRT's reference kernels on the same inputs (the oracle): float
within 1e-5, int8 bit for bit.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "runtime_micro"
DIGITS = ROOT / "examples" / "digits"
EXAMPLE = ROOT / "examples" / "c"
HEADER = RUNTIME / "include" / "edgelite_micro.h"
POOL_HEADER = RUNTIME / "hosted" / "el_threadpool.h"
FLOAT_TOL = 1e-5


def tool(name: str, apt: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is missing: apt-get install {apt} (CI installs it in .ci/run)",
                    pytrace=False)
    return path


def run(cmd: list[str], cwd: Path | None = None, env: dict | None = None,
        timeout: int = 600) -> str:
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=None if env is None else {**os.environ, **env})
    assert proc.returncode == 0, (f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n"
                                  f"{proc.stderr[-3000:]}")
    return proc.stdout + proc.stderr


def _el_api(header: Path) -> set[str]:
    """The functions a header declares with EL_API."""
    return set(re.findall(r"^EL_API [^(]*?\b(el_\w+)\(", header.read_text(), re.M))


def public_api() -> set[str]:
    """The functions edgelite_micro.h declares with EL_API."""
    names = _el_api(HEADER)
    assert len(names) >= 14, names
    return names


def pool_api() -> set[str]:
    """The functions the thread pool's header (hosted/el_threadpool.h) declares with EL_API."""
    names = _el_api(POOL_HEADER)
    assert "el_threadpool_parallel_for" in names, names
    return names


def exported(lib: Path) -> set[str]:
    out = run([tool("nm", "binutils"), "-D", "--defined-only", lib])
    return {line.split()[-1] for line in out.splitlines() if line.strip()}


def cmake_build_install(src: Path, build: Path, prefix: Path, *args: str) -> None:
    cmake = tool("cmake", "cmake")
    run([cmake, "-S", src, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DEDGELITE_WERROR=ON",
         *args])
    run([cmake, "--build", build, "-j2"])
    run([cmake, "--install", build, "--prefix", prefix])


def libdir(prefix: Path) -> Path:
    """lib, lib64 or lib/<multiarch>, as GNUInstallDirs chose."""
    found = sorted(prefix.glob("lib*/**/libedgelite_micro.a"))
    assert found, f"no libedgelite_micro.a under {prefix}"
    return found[0].parent


@dataclass
class DigitsModel:
    name: str
    model: bytes
    x: np.ndarray  # one input sample in the model's dtype, NHWC
    y: np.ndarray  # the Python binding's output for it


@functools.lru_cache(maxsize=None)
def digits_models() -> tuple[DigitsModel, ...]:
    """digits_cnn float32 and int8 (made by edgelite here), fed the first held-out digit."""
    from edgelite.converter import ConvertOptions, convert_to_bytes
    from edgelite.quantize import QuantizeOptions, quantize
    from edgelite.runtime import Interpreter

    with np.load(DIGITS / "heldout.npz") as d:
        digit = d["input"][:1].transpose(0, 2, 3, 1).astype(np.float32)  # NCHW -> NHWC
    f32 = convert_to_bytes(DIGITS / "digits_cnn.onnx", ConvertOptions())
    i8 = quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model
    out = []
    for name, model in (("digits_f32", f32), ("digits_i8", i8)):
        it = Interpreter(model)
        inp = it.inputs[0]
        x = digit
        if inp.dtype == np.int8:
            x = np.clip(np.round(digit / inp.scale) + inp.zero_point, -128, 127).astype(np.int8)
        it.set_input(0, x)
        it.invoke()
        y = it.get_output(0)
        _litert_agrees(name, model, x, y)
        out.append(DigitsModel(name, model, x, y))
    return tuple(out)


def _litert_agrees(name: str, model: bytes, x: np.ndarray, y: np.ndarray) -> None:
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    li = LiteRT(model_content=model, experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    li.allocate_tensors()
    li.set_tensor(li.get_input_details()[0]["index"], x)
    li.invoke()
    theirs = li.get_tensor(li.get_output_details()[0]["index"])
    if y.dtype.kind == "f":
        np.testing.assert_allclose(y, theirs, rtol=FLOAT_TOL, atol=FLOAT_TOL, err_msg=name)
    else:
        np.testing.assert_array_equal(y, theirs, err_msg=name)
    assert y.std() > 0, f"{name}: constant output, the comparison would prove nothing"


def format_values(y: np.ndarray) -> list[str]:
    """One line per value as examples/c/main.c prints it (C's %.9g for floats; Python's %
    formatting is correctly rounded like glibc's printf)."""
    if y.dtype.kind == "f":
        return ["%.9g" % float(v) for v in y.ravel()]
    return [str(int(v)) for v in y.ravel()]
