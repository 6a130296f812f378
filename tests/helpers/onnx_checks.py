"""ONNX graphs checked against ONNX Runtime: build a small model, convert it, run the .tflite
in LiteRT (and TFLite Micro), compare with ORT. Shared by test_passes, test_onnx_reader and
test_convert_models."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from edgelite import ir
from edgelite.converter import ConvertOptions, convert
from edgelite.tflite.writer import write_model

OPSET = 13
RNG = np.random.default_rng(1234)


def make_model(nodes: list[onnx.NodeProto], inputs: dict[str, tuple[int, ...]],
               outputs: list[str], inits: dict[str, np.ndarray] | None = None,
               opset: int = OPSET) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "test",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, list(s)) for n, s in inputs.items()],
        [helper.make_empty_tensor_value_info(n) for n in outputs],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in (inits or {}).items()],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    # outputs need a type for the checker: take it from ONNX shape inference
    model = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    onnx.checker.check_model(model)
    return model


def rand(*shape: int, scale: float = 1.0) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


def ort_run(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def io_layout(graph: ir.Graph) -> dict[str, str]:
    """Tensor name -> layout ("NCHW", "NHWC", "NWC"...) of the converted inputs/outputs."""
    meta = json.loads(graph.metadata["edgelite"])["layout"]
    return {**meta["inputs"], **meta["outputs"]}


CHANNELS_LAST = ("NWC", "NHWC", "NDHWC")


def to_layout(x: np.ndarray, layout: str | None) -> np.ndarray:
    """x (ONNX layout) in the converted model's layout for that tensor."""
    if layout in CHANNELS_LAST:
        return np.ascontiguousarray(x.transpose(0, *range(2, x.ndim), 1))
    return x


def from_layout(y: np.ndarray, layout: str | None) -> np.ndarray:
    return y.transpose(0, y.ndim - 1, *range(1, y.ndim - 1)) if layout in CHANNELS_LAST else y


def litert_run(data: bytes, inputs: dict[str, np.ndarray],
               layout: dict[str, str] | None = None,
               reference: bool = True) -> dict[str, np.ndarray]:
    """Run in LiteRT with TFLite's reference kernels (or its built-in ones, for the few ops
    the reference resolver lacks); inputs/outputs by tensor name."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    layout = layout or {}
    it = Interpreter(model_content=data, experimental_op_resolver_type=(
        OpResolverType.BUILTIN_REF if reference
        else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], to_layout(inputs[d["name"]], layout.get(d["name"])))
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]).copy() for d in it.get_output_details()}


def tflm_run(data: bytes, graph: ir.Graph, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(data, arena_size=32 << 20)
    layout = io_layout(graph)
    for i, t in enumerate(graph.inputs):
        it.set_input(to_layout(inputs[t.name], layout.get(t.name)), i)
    it.invoke()
    return {t.name: it.get_output(i).copy() for i, t in enumerate(graph.outputs)}


def convert_onnx(model: onnx.ModelProto, tmp_path: Path, **options) -> tuple[ir.Graph, bytes]:
    path = tmp_path / "model.onnx"
    onnx.save(model, path)
    graph = convert(path, ConvertOptions(**options))
    return graph, write_model(graph)


def check_against_ort(model: onnx.ModelProto, tmp_path: Path, feeds: dict[str, np.ndarray],
                      *, tflm: bool = False, rtol: float = 1e-4, atol: float = 1e-5,
                      **options) -> ir.Graph:
    """Convert, run in LiteRT (and TFLM), compare every output with ONNX Runtime's."""
    graph, data = convert_onnx(model, tmp_path, **options)
    expected = ort_run(model, feeds)
    names = [o.name for o in model.graph.output]
    layout = io_layout(graph)
    runs = [litert_run(data, feeds, layout)] + ([tflm_run(data, graph, feeds)] if tflm else [])
    for got in runs:
        for name, ref in zip(names, expected):
            np.testing.assert_allclose(from_layout(got[name], layout.get(name)), ref, rtol=rtol,
                                       atol=atol, err_msg=name)
    return graph


def op_types(graph: ir.Graph) -> Counter:
    return Counter(op.type for op in graph.ops)


def conv(name: str, x: str, w: str, out: str, k: int = 3, stride: int = 1, pad: int | None = None,
         group: int = 1, bias: str | None = None) -> onnx.NodeProto:
    p = (k - 1) // 2 if pad is None else pad
    return helper.make_node("Conv", [x, w] + ([bias] if bias else []), [out], name=name,
                            kernel_shape=[k, k], strides=[stride, stride], pads=[p] * 4,
                            group=group)


def sqnr_vs_ort(path: Path, x: np.ndarray, result) -> float:
    """Output SQNR (dB) of a quantize() result with float I/O and one NCHW input "x" against
    ONNX Runtime's float outputs of the .onnx at ``path``, over the samples in ``x``."""
    from edgelite.quantize.data import load_samples
    from edgelite.quantize.runner import Runner

    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    run = Runner(result.model, result.graph)
    sig = noise = 0.0
    for i, s in enumerate(load_samples(x, result.float_graph)):
        run.run(s)
        got = np.moveaxis(run.output(0), -1, 1).astype(np.float64)  # float I/O, NHWC
        ref = sess.run(None, {"x": x[i:i + 1]})[0].astype(np.float64)
        sig += float(np.sum(ref ** 2))
        noise += float(np.sum((ref - got) ** 2))
    return 10 * np.log10(sig / noise)
