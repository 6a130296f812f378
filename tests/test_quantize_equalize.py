"""Cross-layer equalization (Nagel et al. 2019, section 4.1) against ONNX Runtime.

The model: three 3x3/1x1 convolutions joined by ReLU, the first one's output channels spread
over three orders of magnitude (0.01x to 10x) and the second one's input weights compensating —
the same function as a balanced network, as a float model, but its per-tensor int8 activation
between them loses the small channels, which the second layer amplifies again. Equalized, the
float model is unchanged (LiteRT's reference kernels against ONNX Runtime) and the int8 model
holds; "auto" keeps it and says so; a ReLU6 between the layers (a clip that does not commute
with scaling) is left alone.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers.onnx_checks import ort_run, sqnr_vs_ort
from helpers.tflite_checks import err_of_range, litert_outputs
from onnx import TensorProto, helper, numpy_helper

from edgelite.quantize import QuantizeOptions, quantize
from edgelite.quantize.api import load_graph
from edgelite.quantize.equalize import equalize, find_pairs
from edgelite.tflite.writer import write_model

C, HW = 16, 12


def _model(act: str = "Relu") -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    scale = np.logspace(-2, 1, C).astype(np.float32)
    rng.shuffle(scale)
    w1 = (rng.standard_normal((C, C, 3, 3)) * 0.2 * scale[:, None, None, None]).astype(np.float32)
    b1 = (rng.standard_normal(C) * 0.1 * scale).astype(np.float32)
    w2 = (rng.standard_normal((C, C, 1, 1)) * 0.2 / scale[None, :, None, None]).astype(np.float32)
    w3 = (rng.standard_normal((C, C, 3, 3)) * 0.2).astype(np.float32)
    n = helper.make_node
    acts = {"Relu": lambda i, o: n("Relu", [i], [o]),
            "Relu6": lambda i, o: n("Clip", [i, "lo", "hi"], [o])}
    g = helper.make_graph(
        [n("Conv", ["x", "W1", "B1"], ["a"], pads=[1] * 4, name="c1"), acts[act]("a", "r"),
         n("Conv", ["r", "W2", "B2"], ["b"], name="c2"), n("Relu", ["b"], ["r2"]),
         n("Conv", ["r2", "W3", "B3"], ["y"], pads=[1] * 4, name="c3")],
        "eq", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, HW, HW])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, C, HW, HW])],
        [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(b1, "B1"),
         numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(np.zeros(C, np.float32), "B2"),
         numpy_helper.from_array(w3, "W3"), numpy_helper.from_array(np.zeros(C, np.float32), "B3"),
         numpy_helper.from_array(np.float32(0), "lo"), numpy_helper.from_array(np.float32(6), "hi")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def _data(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, C, HW, HW)).astype(np.float32)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("eq") / "eq.onnx"
    onnx.save(_model(), path)
    return path


def test_equalized_float_model_computes_the_same_as_onnxruntime(model_path: Path) -> None:
    graph = load_graph(model_path)
    eq, pairs = equalize(graph)
    assert [(p.first, p.second) for p in pairs] == [("c1", "c2"), ("c2", "c3")]
    assert max(p.max_scale for p in pairs) > 10  # the spread was really evened out
    w_before = next(op for op in graph.ops if op.name == "c2").inputs[1].data
    w_after = next(op for op in eq.ops if op.name == "c2").inputs[1].data
    def spread(w: np.ndarray) -> float:
        r = np.abs(w).max(axis=(0, 1, 2))
        return float(r.max() / r.min())

    assert spread(w_after) < spread(w_before) / 10  # c2's input channels now of similar range
    x = _data(4, 3)
    for k in range(4):
        ref = ort_run(onnx.load(model_path), {"x": x[k:k + 1]})[0]
        got = litert_outputs(write_model(eq), [np.moveaxis(x[k:k + 1], 1, -1)])[0]
        assert err_of_range(np.moveaxis(got, -1, 1), ref) < 1e-5
    # the source graph is not touched
    assert np.array_equal(next(op for op in graph.ops if op.name == "c2").inputs[1].data,
                          w_before)


def test_equalization_rescues_int8_and_auto_keeps_it(model_path: Path) -> None:
    cal, held_out = _data(32, 1), _data(16, 2)
    runs = {e: quantize(model_path, QuantizeOptions(calibration=cal, io="float", equalize=e,
                                                     allow_low_sqnr=True, progress=False))
            for e in ("off", "on", "auto")}
    off = sqnr_vs_ort(model_path, held_out, runs["off"])
    on = sqnr_vs_ort(model_path, held_out, runs["on"])
    assert off < 10 and on > 30, (off, on)  # measured 2.9 and 33 dB
    assert runs["auto"].model == runs["on"].model
    note = next(n for n in runs["auto"].notes if n.startswith("equalization:"))
    assert note.startswith("equalization: kept (2 layer pair(s)") and "output SQNR" in note
    assert not any(n.startswith("equalization:") for n in runs["off"].notes)


def test_equalized_int8_is_bit_exact_with_tflite_micro(model_path: Path) -> None:
    from helpers.tflite_checks import assert_int8_bit_exact_with_tflm

    r = quantize(model_path, QuantizeOptions(calibration=_data(16, 1), equalize="on",
                                             progress=False))
    assert_int8_bit_exact_with_tflm(r.model, samples=2)


def test_relu6_between_layers_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "relu6.onnx"
    onnx.save(_model("Relu6"), path)
    graph = load_graph(path)
    assert [(a.name, b.name) for a, b in find_pairs(graph)] == [("c2", "c3")]


def test_equalize_flag_reaches_the_command(model_path: Path, tmp_path: Path) -> None:
    from helpers.tflite_checks import cli

    np.save(tmp_path / "x.npy", _data(16, 1))
    out = {}
    for e in ("on", "off"):
        out[e] = tmp_path / f"{e}.tflite"
        assert cli("quantize", str(model_path), "-o", str(out[e]), "--calibration",
                   str(tmp_path / "x.npy"), "--equalize", e, "--allow-low-sqnr", "-q") == 0
    api = quantize(model_path, QuantizeOptions(calibration=_data(16, 1), equalize="on",
                                               allow_low_sqnr=True, progress=False))
    assert out["on"].read_bytes() == api.model
    assert out["on"].read_bytes() != out["off"].read_bytes()
    assert cli("quantize", str(model_path), "-o", str(tmp_path / "z.tflite"), "--calibration",
               str(tmp_path / "x.npy"), "--equalize", "maybe") == 2
