"""End to end on the second trained example: scikit-learn's 8x8 handwritten digits.

A different network shape from examples/digits (two padded convolutions on tiny feature maps,
GlobalAveragePool -> MEAN, one Gemm) trained on different real data. Float accuracy comes from
ONNX Runtime on the original .onnx (the oracle); int8 accuracy from TFLite Micro running our
quantized file, with the input quantized and the output dequantized from the parameters TFLite
Micro reads out of that file; our runtime must agree with TFLite Micro bit for bit on every
held-out digit. The same pipeline is then driven through the `edgelite` command.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import edgelite
from edgelite.quantize.api import QuantizeOptions, QuantizeResult, quantize
from edgelite.runtime import Interpreter

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sklearn_digits"
ONNX = EXAMPLE / "digits8_cnn.onnx"
CALIBRATION = EXAMPLE / "calibration.npz"
HELDOUT = EXAMPLE / "heldout.npz"
PKG_ROOT = str(Path(edgelite.__file__).resolve().parents[1])


@pytest.fixture(scope="module")
def heldout() -> tuple[np.ndarray, np.ndarray]:
    with np.load(HELDOUT) as d:
        return d["input"], d["label"]


@pytest.fixture(scope="module")
def float_top1(heldout) -> float:
    x, labels = heldout
    sess = ort.InferenceSession(str(ONNX), providers=["CPUExecutionProvider"])
    pred = [int(np.argmax(sess.run(None, {"input": x[i:i + 1]})[0]))  # the model has batch 1
            for i in range(len(x))]
    return float(np.mean(np.array(pred) == labels))


@pytest.fixture(scope="module")
def int8() -> QuantizeResult:
    return quantize(ONNX, QuantizeOptions(calibration=CALIBRATION, progress=False))


def tflm_top1(model: bytes, x: np.ndarray, labels: np.ndarray,
              ours: Interpreter | None = None) -> float:
    """Top-1 of an int8 file in TFLite Micro; with ``ours``, runtime_micro must match it exactly."""
    from tflite_micro.python.tflite_micro import runtime

    tflm = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    qin = tflm.get_input_details(0)
    qout = tflm.get_output_details(0)
    assert qin["dtype"] == np.int8 and qout["dtype"] == np.int8
    assert tuple(qin["shape"]) == (1, 8, 8, 1)  # NHWC after conversion
    in_scale = qin["quantization_parameters"]["scales"][0]
    in_zp = qin["quantization_parameters"]["zero_points"][0]
    out_scale = qout["quantization_parameters"]["scales"][0]
    out_zp = qout["quantization_parameters"]["zero_points"][0]
    nhwc = np.moveaxis(x, 1, -1)
    correct = 0
    for i in range(len(x)):
        q = np.clip(np.round(nhwc[i:i + 1] / in_scale) + in_zp, -128, 127).astype(np.int8)
        tflm.set_input(q, 0)
        tflm.invoke()
        out = np.array(tflm.get_output(0))
        if ours is not None:
            ours.set_input(0, q)
            ours.invoke()
            np.testing.assert_array_equal(ours.get_output(0), out, err_msg=f"held-out #{i}")
        scores = (out.astype(np.float64) - out_zp) * out_scale
        correct += int(np.argmax(scores) == labels[i])
    return correct / len(x)


def test_float_model_accuracy(float_top1: float) -> None:
    assert float_top1 >= 0.95, float_top1  # README: 97.6 % (488/500)


def test_int8_top1_within_half_a_point_and_runtime_bit_exact(int8, heldout,
                                                             float_top1: float) -> None:
    x, labels = heldout
    top1 = tflm_top1(int8.model, x, labels, ours=Interpreter(int8.model))
    print(f"8x8 digits: float {100 * float_top1:.1f} %, int8 (TFLite Micro) {100 * top1:.1f} %")
    assert abs(float_top1 - top1) <= 0.005, (float_top1, top1)


def edgelite_cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    # The edgelite this test imports (the installed wheel, or src/ in a dev checkout).
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, "-m", "edgelite.cli", *args], capture_output=True,
                         text=True, env=env, timeout=300, check=False)
    assert res.returncode == 0, (args, res.stdout, res.stderr)
    return res


@pytest.mark.slow
def test_cli_convert_int8_and_eval(int8, heldout, float_top1: float, tmp_path: Path) -> None:
    x, labels = heldout
    model = tmp_path / "digits8_int8.tflite"
    edgelite_cli("convert", str(ONNX), "-o", str(model), "--quantize", "int8",
                 "--calibration", str(CALIBRATION))
    written = model.read_bytes()
    assert written == int8.model  # the command and the API make the same file
    quant_top1 = tflm_top1(written, x, labels)

    res = edgelite_cli("eval", str(model), "--data", str(HELDOUT), "--labels", "label",
                       "--float", str(ONNX), "--json")
    report = json.loads(res.stdout)
    assert report["samples"] == 500
    # Our runtime's int8 top-1 is TFLite Micro's (bit-exact above, same file).
    assert report["quant_top1"] == pytest.approx(quant_top1, abs=1e-9)
    # The float .onnx runs converted on our runtime: ONNX Runtime's accuracy, give or take a
    # near-tie flipped by float rounding order (one digit).
    assert abs(report["float_top1"] - float_top1) <= 1 / 500 + 1e-9, (report, float_top1)
    assert report["quant_top5"] >= report["quant_top1"]
    assert report["top1_agreement"] >= 0.99
    assert report["cosine"] > 0.99 and report["sqnr_db"] > 15.0
