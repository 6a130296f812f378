"""`edgelite export M -o DIR --input DATA`: a bundle that builds with one command and checks
itself, on this host (CMake) and on a Cortex-M4 under QEMU (make TARGET=cortex-m4).

The oracle: the bundle's input bytes must equal the NCHW sample moved to NHWC and quantized
with the model's input parameters (numpy, here), and its expected outputs must equal LiteRT's
reference kernels on that input; then the built programs compare runtime_micro's outputs on the
target with those bytes (and a tampered byte must make them report a mismatch).

Needs cmake and a C compiler (host), gcc-arm-none-eabi, libnewlib-arm-none-eabi and
qemu-system-arm (Cortex-M4): without them the tests FAIL with the apt-get line, never skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edgelite

pytestmark = pytest.mark.slow  # host and firmware builds of export bundles

REPO = Path(__file__).resolve().parents[1]
PKG_ROOT = str(Path(edgelite.__file__).resolve().parents[1])
DIGITS = REPO / "examples" / "digits"
RUNTIME_CODE_GOAL = 50_000  # issue 12: runtime code for one model's ops on Cortex-M4 <= 50 KB


def _cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "edgelite.cli", *args], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=600)


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=900, **kw)


def _need(*tools: str) -> None:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing {', '.join(missing)}: apt-get install -y --no-install-recommends "
                    "cmake gcc make gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm",
                    pytrace=False)


def _c_bytes(text: str, symbol: str) -> bytes:
    """The bytes of `const unsigned char SYMBOL[N] = { 0x.., ... };` in generated C."""
    m = re.search(rf"{symbol}\[\d+\] = {{(.*?)}};", text, re.DOTALL)
    assert m, symbol
    return bytes(int(h, 16) for h in re.findall(r"0x([0-9a-f]{2})", m.group(1)))


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, np.ndarray]:
    """digits int8 exported from two NCHW float samples into a folder whose parents did not
    exist; returns (bundle folder, model, the NCHW data)."""
    from edgelite.quantize import QuantizeOptions, quantize

    d = tmp_path_factory.mktemp("bundle")
    model = d / "digits_i8.tflite"
    model.write_bytes(quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False)).model)
    with np.load(DIGITS / "heldout.npz") as z:
        x = z["input"][3:5].astype(np.float32)  # (2, 1, 28, 28): NCHW, as PyTorch feeds it
    np.save(d / "x_nchw.npy", x)
    out = d / "not" / "there" / "digits"
    res = _cli("export", str(model), "-o", str(out), "--input", str(d / "x_nchw.npy"))
    assert res.returncode == 0, res.stderr
    assert "moved channels last (NCHW data, NHWC model input)" in res.stdout
    assert "ops compiled in: CONV_2D FULLY_CONNECTED MAX_POOL_2D RESHAPE" in res.stdout
    return out, model, x


def test_bundle_data_is_the_quantized_nhwc_input_and_litert_outputs(bundle) -> None:
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    out, model, x = bundle
    li = LiteRT(model_path=str(model), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    li.allocate_tensors()
    din, dout = li.get_input_details()[0], li.get_output_details()[0]
    scale, zp = din["quantization"]
    data = (out / "digits_i8_data.c").read_text()
    got_in, got_out = _c_bytes(data, "digits_i8_input_0"), _c_bytes(data, "digits_i8_expected_0")
    want_in, want_out = b"", b""
    for sample in x:
        q = np.clip(np.round(sample.transpose(1, 2, 0)[None] / scale) + zp, -128, 127)
        q = q.astype(np.int8)
        li.set_tensor(din["index"], q)
        li.invoke()
        want_in += q.tobytes()
        want_out += li.get_tensor(dout["index"]).tobytes()
    assert got_in == want_in
    assert got_out == want_out
    header = (out / "digits_i8.h").read_text()
    assert "#define DIGITS_I8_STEPS 2" in header
    selected = (out / "el_kernels_selected.h").read_text()
    assert ("#define EL_KERNEL_LIST(X) X(conv_2d) X(fully_connected) X(max_pool_2d) "
            "X(reshape)\n") in selected
    assert "#define EL_WITHOUT_FLOAT32" in selected and "#define EL_WITHOUT_INT16" in selected
    assert "#define EL_WITHOUT_SPARSE" in selected
    assert "#define EL_WITH_conv_2d 1\n" in selected and "EL_WITH_add" not in selected
    assert "EL_CONTROL_KERNELS" not in selected


def test_bundle_builds_with_cmake_and_checks_itself_on_this_host(bundle) -> None:
    _need("cmake", "cc")
    out, _, _ = bundle
    build = out / "build"
    res = _run(["cmake", "-S", str(out), "-B", str(build)])
    assert res.returncode == 0, res.stdout + res.stderr
    res = _run(["cmake", "--build", str(build), "-j2"])
    assert res.returncode == 0, res.stdout + res.stderr
    run = _run([str(build / "digits_i8")])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "outputs match the host's (2 step(s); integers bit-exact" in run.stdout, run.stdout
    # The check can fail: one expected byte changed -> exit 1 and the byte named.
    data = out / "digits_i8_data.c"
    text = data.read_text()
    at = text.index("digits_i8_expected_0[")
    m = re.compile(r"0x([0-9a-f]{2})").search(text, at)
    data.write_text(text[:m.start()] + f"0x{int(m.group(1), 16) ^ 1:02x}" + text[m.end():])
    try:
        assert _run(["cmake", "--build", str(build)]).returncode == 0
        bad = _run([str(build / "digits_i8")])
    finally:
        data.write_text(text)
    assert bad.returncode == 1, bad.stdout
    assert "step 0 output 0 byte 0: got" in bad.stdout
    assert "outputs DIFFER from the host's: 1 values" in bad.stdout


def _run_other_model_in(out: Path, model: bytes, x: np.ndarray, y: np.ndarray
                        ) -> subprocess.CompletedProcess[str]:
    """Build the bundle's host program with another model linked in (same name, same kernel
    selection) and run it; the bundle's own files are put back afterwards."""
    from edgelite.export import export_c

    files = export_c(model, "digits_i8", inputs=[x], outputs=[y], arena_bytes=64 * 1024)
    saved = {n: (out / n).read_text() for n in files}
    build = out / "build"  # the host build of the test above: only the model files recompile
    try:
        for n, text in files.items():
            (out / n).write_text(text)
        assert _run(["cmake", "-S", str(out), "-B", str(build)]).returncode == 0
        res = _run(["cmake", "--build", str(build), "-j2"])
        assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
        return _run([str(build / "digits_i8")])
    finally:
        for n, text in saved.items():
            (out / n).write_text(text)


def test_bundle_without_float_kernels_refuses_a_float_model(bundle) -> None:
    """The int8 bundle compiles no float32 kernel paths (EL_WITHOUT_FLOAT32): the float digits
    model linked in its place (same ops) is refused by el_init, naming the type, never run
    through the int8 code."""
    _need("cmake", "cc")
    from edgelite.converter import ConvertOptions, convert_to_bytes

    out, _, x = bundle
    float_model = convert_to_bytes(DIGITS / "digits_cnn.onnx", ConvertOptions())
    run = _run_other_model_in(out, float_model, x[:1].transpose(0, 2, 3, 1),
                              np.zeros((1, 1, 10), np.float32))
    assert run.returncode == 2, run.stdout
    assert "error in el_init: EL_ERROR_UNSUPPORTED" in run.stdout, run.stdout
    assert "op #0 CONV_2D: FLOAT32 tensors are not compiled into this build" in run.stdout


def _sparse_digits(model: Path) -> bytes:
    """The int8 digits model with its largest convolution's weights 7/8 zero and stored in
    TFLite's sparse form (behind a DENSIFY, as LiteRT needs)."""
    from edgelite.tflite import read_model, to_ir, write_model

    graph = to_ir(read_model(model.read_bytes()))
    w = max((op.inputs[1] for op in graph.ops if op.type == "CONV_2D"), key=lambda t: t.nbytes)
    w.data = np.where(np.arange(w.data.size).reshape(w.shape) % 8 == 0, w.data, 0).astype(np.int8)
    w.sparse = True
    sparse = write_model(graph)
    assert "DENSIFY" in {op.op for op in read_model(sparse).subgraphs[0].operators}
    return sparse


def test_bundle_without_sparse_code_refuses_a_sparse_model(bundle) -> None:
    """The digits bundle has no sparse tensor, so it compiles no sparse reader or kernels
    (EL_WITHOUT_SPARSE): the same int8 model with its convolution weights stored sparse is
    refused by el_init, naming the cause, instead of being read as dense bytes."""
    _need("cmake", "cc")
    from edgelite.tflite import read_model

    out, model, x = bundle
    assert "#define EL_WITHOUT_SPARSE" in (out / "el_kernels_selected.h").read_text()
    sparse = _sparse_digits(model)
    q = read_model(model.read_bytes()).subgraphs[0]
    inp = q.tensors[q.inputs[0]].quantization
    xq = np.clip(np.round(x[:1].transpose(0, 2, 3, 1) / inp.scale[0]) + inp.zero_point[0],
                 -128, 127).astype(np.int8)
    run = _run_other_model_in(out, sparse, xq, np.zeros((1, 10), np.int8))
    assert run.returncode == 2, run.stdout
    assert "error in el_init: EL_ERROR_UNSUPPORTED" in run.stdout, run.stdout
    assert "sparse tensors are not compiled into this build" in run.stdout, run.stdout


def test_sparse_model_bundle_compiles_sparse_code_in_and_matches(bundle, tmp_path) -> None:
    """Exported itself, the sparse model's bundle keeps the sparse paths (and DENSIFY) and its
    program's outputs match the host's."""
    _need("cmake", "cc")
    out, model, _ = bundle
    m = tmp_path / "digits_sparse.tflite"
    m.write_bytes(_sparse_digits(model))
    res = _cli("export", str(m), "-o", str(tmp_path / "b"), "--input",
               str(model.parent / "x_nchw.npy"))
    assert res.returncode == 0, res.stderr
    selected = (tmp_path / "b" / "el_kernels_selected.h").read_text()
    assert "EL_WITHOUT_SPARSE" not in selected and "X(densify)" in selected
    build = tmp_path / "b" / "build"
    assert _run(["cmake", "-S", str(tmp_path / "b"), "-B", str(build)]).returncode == 0
    res = _run(["cmake", "--build", str(build), "-j2"])
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    run = _run([str(build / "digits_sparse")])
    assert run.returncode == 0, run.stdout
    assert "outputs match the host's (2 step(s); integers bit-exact" in run.stdout, run.stdout


def test_bundle_firmware_for_cortex_m4_runs_under_qemu(bundle) -> None:
    _need("make", "arm-none-eabi-gcc", "qemu-system-arm")
    from edgelite.bench.targets import runtime_sections

    out, model, _ = bundle
    res = _run(["make", "-C", str(out), "-j2", "TARGET=cortex-m4"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    m = re.search(r"flash (\d+) B = runtime code (\d+) B \(([A-Z0-9_ ]+)\) \+ model (\d+) B",
                  res.stdout)
    assert m, res.stdout[-2000:]
    flash, code, ops, model_bytes = int(m[1]), int(m[2]), m[3], int(m[4])
    assert ops == "CONV_2D FULLY_CONNECTED MAX_POOL_2D RESHAPE"
    assert model_bytes == model.stat().st_size and flash == code + model_bytes
    # The Makefile's awk reads the link map as the bench's parser does.
    sizes = runtime_sections(out / "build" / "cortex-m4" / "digits_i8.map")
    assert code == sizes["text"] + sizes["rodata"]
    assert code <= RUNTIME_CODE_GOAL, f"runtime code {code:,} B for 4 ops"
    run = _run(["make", "-C", str(out), "TARGET=cortex-m4", "run"])
    assert run.returncode == 0, run.stdout + run.stderr
    assert "outputs match the host's (2 step(s); integers bit-exact" in run.stdout, run.stdout
    ram = re.search(r"ram (\d+) B = arena (\d+) B \+ interpreter (\d+) B \+ stack (\d+) B",
                    run.stdout)
    assert ram, run.stdout
    arena = int(re.search(r"DIGITS_I8_ARENA_SIZE (\d+)u", (out / "digits_i8.h").read_text())[1])
    assert int(ram[2]) == arena and int(ram[3]) == 512 and 0 < int(ram[4]) < 16 * 1024
    assert int(ram[1]) == int(ram[2]) + int(ram[3]) + int(ram[4])
    print(f"\n[bundle cortex-m4] {m[0]}\n{ram[0]}")


def test_mobilenet_v2_op_set_fits_the_runtime_code_goal_on_cortex_m4(tmp_path: Path) -> None:
    """MobileNetV2's seven ops (ADD CONV_2D DEPTHWISE_CONV_2D FULLY_CONNECTED MEAN PAD RESHAPE)
    in an int8 bundle: the runtime code the linker keeps for Cortex-M4 is within the goal. The
    code depends on the ops and tensor types only, so a narrow, small-input MobileNetV2 stands
    in for the 0.35/96 model of benchmarks/export_bundle.py (a deterministic size budget)."""
    _need("make", "arm-none-eabi-gcc")
    import onnx

    from edgelite.quantize import QuantizeOptions, quantize
    from models import mobilenet_v2

    onnx.save(mobilenet_v2(0.35, 32, classes=10), str(tmp_path / "m.onnx"))
    x = np.random.default_rng(0).normal(0, 1, (4, 3, 32, 32)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    m = tmp_path / "mnv2.tflite"
    m.write_bytes(quantize(tmp_path / "m.onnx", QuantizeOptions(
        calibration=tmp_path / "x.npy", progress=False, allow_low_sqnr=True)).model)
    res = _cli("export", str(m), "-o", str(tmp_path / "b"), "--input", str(tmp_path / "x.npy"))
    assert res.returncode == 0, res.stderr
    res = _run(["make", "-C", str(tmp_path / "b"), "-j2", "TARGET=cortex-m4"])
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    flash = re.search(r"runtime code (\d+) B \(([A-Z0-9_ ]+)\)", res.stdout)
    assert flash, res.stdout[-2000:]
    assert flash[2] == "ADD CONV_2D DEPTHWISE_CONV_2D FULLY_CONNECTED MEAN PAD RESHAPE"
    assert int(flash[1]) <= RUNTIME_CODE_GOAL, f"runtime code {int(flash[1]):,} B"
    print(f"\n[mobilenet_v2 op set, cortex-m4] runtime code {int(flash[1]):,} B")


def test_export_refuses_data_that_fits_no_layout(bundle, tmp_path: Path) -> None:
    _, model, _ = bundle
    np.save(tmp_path / "bad.npy", np.zeros((1, 3, 28, 28), np.float32))
    res = _cli("export", str(model), "-o", str(tmp_path / "b"), "--input",
               str(tmp_path / "bad.npy"))
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert "does not fit the model input [1, 28, 28, 1]" in res.stderr
    assert not (tmp_path / "b").exists()
