"""Division by a constant in the integer modes (quantize.api.divisions_as_products).

PP-OCR's detector (exported by paddle2onnx) writes every HardSwish as x * Clip(x + 3, 0, 6) / 6.
TFLite has no int16 DIV, so in int16x8 those divisions ran in int8 between int16 layers and the
detector's output stayed at 11.7 dB; quantized as MUL by the reciprocal they run in int16
(16.0 dB, 23.0 with bias correction, benchmarks/quant_accuracy.py). The float conversion keeps
the DIV as the model has it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from helpers.onnx_checks import make_model, sqnr_vs_ort, tflm_run
from onnx import helper

from edgelite.converter import convert
from edgelite.quantize import QuantizeOptions, quantize
from edgelite.quantize.runner import Runner


def _hardswish_model() -> onnx.ModelProto:
    """Conv -> x * Clip(x + 3, 0, 6) / 6 (paddle2onnx's HardSwish) -> padded 3x3 Conv (a 1x1
    conv would take the division into its weights: converter.passes.input_affine)."""
    rng = np.random.default_rng(4)
    n = helper.make_node
    return make_model(
        [n("Conv", ["x", "W1", "B1"], ["c"], pads=[1] * 4),
         n("Add", ["c", "three"], ["a"]),
         n("Clip", ["a", "zero", "six"], ["k"]),
         n("Mul", ["c", "k"], ["m"]),
         n("Div", ["m", "six"], ["h"]),
         n("Conv", ["h", "W2", "B2"], ["y"], pads=[1] * 4)],
        {"x": (1, 3, 12, 12)}, ["y"],
        {"W1": (rng.standard_normal((8, 3, 3, 3)) * 0.5).astype(np.float32),
         "B1": (rng.standard_normal(8) * 0.2).astype(np.float32),
         "W2": (rng.standard_normal((4, 8, 3, 3)) * 0.1).astype(np.float32),
         "B2": np.zeros(4, np.float32), "three": np.float32(3), "zero": np.float32(0),
         "six": np.float32(6)})


def test_int16x8_divides_by_constants_in_int16(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "hardswish.onnx"
    onnx.save(_hardswish_model(), path)
    x = np.random.default_rng(5).standard_normal((16, 3, 12, 12)).astype(np.float32)
    assert "DIV" in [op.type for op in convert(path).ops]  # float: as the model has it
    r = quantize(path, QuantizeOptions(mode="int16x8", calibration=x, io="float",
                                       progress=False))
    assert not [n for n in r.notes if "no int16 kernel" in n], r.notes
    types = [op.type for op in r.graph.ops]
    assert "DIV" not in types and "MUL" in types
    assert all(op.outputs[0].dtype == "int16" for op in r.graph.ops if op.type == "MUL")
    sqnr = sqnr_vs_ort(path, x, r)
    # with the DIV kept, it runs in int8 between int16 layers
    import edgelite.quantize.api as Q

    monkeypatch.setattr(Q, "divisions_as_products", lambda g: g)
    kept = quantize(path, QuantizeOptions(mode="int16x8", calibration=x, io="float",
                                          progress=False))
    assert [n for n in kept.notes if "DIV" in n and "no int16 kernel" in n]
    assert sqnr > sqnr_vs_ort(path, x, kept) + 2.0, (sqnr, sqnr_vs_ort(path, x, kept))  # 2.5
    # runtime_micro gives TFLite Micro's bytes for the int16 product
    run = Runner(r.model, r.graph)
    for i in range(3):
        run.run({"x": x[i:i + 1].transpose(0, 2, 3, 1)})
        want = tflm_run(r.model, r.graph, {"x": x[i:i + 1]})
        np.testing.assert_array_equal(run.output(0), next(iter(want.values())))
