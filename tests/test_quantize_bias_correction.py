"""Bias correction (Nagel et al. 2019) and AdaRound-style rounding (Nagel et al. 2020)
against ONNX Runtime, and the automatic choice of bias correction.

A depthwise 3x3 convolution whose channels each hold one large weight (so the others round
coarsely) reads an input with a large mean (3): the rounding shifts every output channel's
mean, which the next layer carries to the output. Corrected, the int8 model is measurably
closer to ONNX Runtime's float outputs; "auto" keeps it and says so; "off" leaves the biases
as the float model has them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from helpers.onnx_checks import sqnr_vs_ort
from onnx import TensorProto, helper, numpy_helper

from edgelite.quantize import QuantizeOptions, quantize
from edgelite.quantize.data import load_samples
from edgelite.quantize.runner import Runner

C = 8  # channels != spatial size, so the sample layout is unambiguous


def _model() -> onnx.ModelProto:
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((C, 1, 3, 3)) * 0.3).astype(np.float32)
    w1[:, 0, 0, 0] = 2.5
    w2 = (rng.standard_normal((C, C, 1, 1)) * 0.3).astype(np.float32)
    n = helper.make_node
    g = helper.make_graph(
        [n("Conv", ["x", "W1", "B1"], ["d"], group=C, pads=[1] * 4, name="dw"),
         n("Relu", ["d"], ["r"], name="relu"), n("Conv", ["r", "W2", "B2"], ["y"], name="pw")],
        "bc", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, C, 16, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, C, 16, 16])],
        [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(np.zeros(C, np.float32), "B1"),
         numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(np.zeros(C, np.float32), "B2")])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_bias_correction_brings_int8_closer_to_onnxruntime(tmp_path: Path) -> None:
    path = tmp_path / "bc.onnx"
    onnx.save(_model(), path)
    x = (3 + np.random.default_rng(1).standard_normal((24, C, 16, 16)) * 0.3).astype(np.float32)
    runs = {bc: quantize(path, QuantizeOptions(calibration=x, io="float", bias_correction=bc, equalize="off",
                                               progress=False))
            for bc in ("off", "on", "auto")}
    off, on = sqnr_vs_ort(path, x, runs["off"]), sqnr_vs_ort(path, x, runs["on"])
    assert on > off + 2.0, (off, on)
    assert runs["auto"].model == runs["on"].model
    assert any(n.startswith("bias correction: kept (2 layer(s) corrected")
               for n in runs["auto"].notes)
    # "off": the int32 biases are the float ones (zero) quantized, nothing shifted.
    assert all(not np.any(op.inputs[2].data) for op in runs["off"].graph.ops
               if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"))


def test_adaround_beats_nearest_rounding_on_held_out_data(tmp_path: Path) -> None:
    """Two FULLY_CONNECTED layers on correlated inputs (4 latent factors in 32 features): the
    AdaRound-style rounding, fitted on the calibration inputs' second moments, is closer to
    ONNX Runtime on other samples than nearest rounding, and the notes count the flips."""
    rng = np.random.default_rng(0)
    i, h, o = 32, 64, 10
    w1 = (rng.standard_normal((h, i)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((o, h)) * 0.2).astype(np.float32)
    n = helper.make_node
    g = helper.make_graph(
        [n("Gemm", ["x", "W1", "B1"], ["h"], transB=1, name="fc1"),
         n("Relu", ["h"], ["r"], name="relu"),
         n("Gemm", ["r", "W2", "B2"], ["y"], transB=1, name="fc2")], "ada",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, i])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, o])],
        [numpy_helper.from_array(w1, "W1"), numpy_helper.from_array(np.zeros(h, np.float32), "B1"),
         numpy_helper.from_array(w2, "W2"), numpy_helper.from_array(np.zeros(o, np.float32), "B2")])
    path = tmp_path / "ada.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    base = rng.standard_normal((4, i))

    def data() -> np.ndarray:
        return (rng.standard_normal((256, 4)) @ base
                + 0.1 * rng.standard_normal((256, i))).astype(np.float32)

    cal, held_out = data(), data()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    db = {}
    for ada in (False, True):
        r = quantize(path, QuantizeOptions(calibration=cal, io="float", adaround=ada,
                                           bias_correction="off", progress=False))
        run = Runner(r.model, r.graph)
        sig = noise = 0.0
        for k, s in enumerate(load_samples(held_out, r.float_graph)):
            run.run(s)
            ref = sess.run(None, {"x": held_out[k:k + 1]})[0].astype(np.float64)
            sig += float(np.sum(ref ** 2))
            noise += float(np.sum((ref - run.output(0)) ** 2))
        db[ada] = 10 * np.log10(sig / noise)
        if ada:
            note = next(n for n in r.notes if n.startswith("adaround:"))
            assert int(note.split()[1]) > 0 and "of 2 layer(s)" in note
    assert db[True] > db[False] + 0.3, db
