"""Whole CNNs through the converter: no TRANSPOSE left, same outputs as ONNX Runtime in LiteRT
and TFLite Micro, deterministic bytes, metadata, and the static-shape requirement."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import onnx
import pytest
from models import mobilenet_v2, resnet_tiny
from onnx import TensorProto, helper, numpy_helper
from helpers.onnx_checks import from_layout, io_layout, litert_run, ort_run, tflm_run

from edgelite import __version__
from edgelite.converter import ConvertOptions, convert, convert_to_bytes
from edgelite.errors import EdgeliteError
from edgelite.tflite.writer import write_model

SRC = Path(__file__).resolve().parent.parent / "src"
# After BatchNorm folding and activation fusion nothing else should be left in these CNNs.
CNN_OPS = {"CONV_2D", "DEPTHWISE_CONV_2D", "ADD", "PAD", "MEAN", "RESHAPE", "FULLY_CONNECTED"}

MODELS = {
    "resnet_tiny": lambda: resnet_tiny(32),
    "mobilenet_v2_0.35_96_torch_reshape": lambda: mobilenet_v2(0.35, 96, classes=100,
                                                               flatten="reshape"),
    "mobilenet_v2_0.35_96_flatten": lambda: mobilenet_v2(0.35, 96, classes=100),
}
_cache: dict[str, onnx.ModelProto] = {}


def _model(name: str) -> onnx.ModelProto:
    if name not in _cache:
        _cache[name] = MODELS[name]() if name in MODELS else mobilenet_v2(1.0, 224,
                                                                          flatten="reshape")
    return _cache[name]


def _input(model: onnx.ModelProto, seed: int = 0) -> np.ndarray:
    shape = [d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim]
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _check_outputs(model: onnx.ModelProto, path: Path, keep_nchw_io: bool = False,
                   tflm: bool = True) -> Counter:
    graph = convert(path, ConvertOptions(keep_nchw_io=keep_nchw_io))
    data = write_model(graph)
    x = _input(model)
    (ref,) = ort_run(model, {"input": x})
    tolerance = 1e-4 * float(np.ptp(ref))
    layout = io_layout(graph)
    runs = {"litert": litert_run(data, {"input": x}, layout)["output"]}
    if tflm:
        runs["tflm"] = tflm_run(data, graph, {"input": x})["output"]
    for runtime, got in runs.items():
        got = from_layout(got, layout.get("output"))
        err = float(np.abs(got - ref).max())
        assert err <= tolerance, f"{runtime}: max error {err} > {tolerance}"
    return Counter(op.type for op in graph.ops)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_cnn_converts_without_transposes(name: str, tmp_path: Path) -> None:
    model = _model(name)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    types = _check_outputs(model, path)
    assert set(types) <= CNN_OPS, types
    adds = sum(1 for n in model.graph.node if n.op_type == "Add")
    assert types["ADD"] == adds  # residuals only: every BatchNorm MUL/ADD was folded
    assert types["CONV_2D"] + types["DEPTHWISE_CONV_2D"] == sum(
        1 for n in model.graph.node if n.op_type == "Conv")


def test_written_out_hard_swish_leaves_no_transpose(tmp_path: Path) -> None:
    """x * clip(x + 3, 0, 6) / 6 after a conv (paddle2onnx's hard-swish, PP-OCR's detector):
    x feeds both the ADD and the MUL, and the MUL must wait for the ADD's layout change; then a
    per-tensor scale and shift (a learnable affine) before the next conv."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(v, k) for k, v in {
        "w1": rng.standard_normal((8, 3, 3, 3)).astype(np.float32),
        "w2": rng.standard_normal((6, 8, 1, 1)).astype(np.float32),
        "three": np.array([3.0], np.float32), "zero": np.array(0.0, np.float32),
        "six": np.array(6.0, np.float32), "scale": np.array([0.8], np.float32),
        "shift": np.array([0.1], np.float32)}.items()]
    nodes = [helper.make_node("Conv", ["input", "w1"], ["t"], pads=[1, 1, 1, 1]),
             helper.make_node("Add", ["t", "three"], ["a"]),
             helper.make_node("Clip", ["a", "zero", "six"], ["c"]),
             helper.make_node("Mul", ["t", "c"], ["m"]),
             helper.make_node("Div", ["m", "six"], ["hs"]),
             helper.make_node("Mul", ["scale", "hs"], ["s"]),
             helper.make_node("Add", ["s", "shift"], ["u"]),
             helper.make_node("Conv", ["u", "w2"], ["output"])]
    model = helper.make_model(helper.make_graph(
        nodes, "hs", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 12, 12])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 6, 12, 12])], inits),
        opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "hs.onnx"
    onnx.save(model, path)
    types = _check_outputs(model, path)
    assert "TRANSPOSE" not in types, types
    # the scale and shift went into the 1x1 conv after them (fold_input_affine)
    assert types["MUL"] == 1 and types["ADD"] == 1, types


@pytest.mark.parametrize("head", ["conv1x1_stride2", "dense", "conv3x3_padded"])
def test_per_channel_affine_folds_into_the_layer_after_it(head: str, tmp_path: Path) -> None:
    """x * s + t (s, t per channel) before a 1x1 conv or a dense layer folds into its weights
    and bias; before a padded 3x3 conv it stays (the padding would not see the shift)."""
    rng = np.random.default_rng(1)
    c = 6
    vals = {"w1": rng.standard_normal((c, 3, 3, 3)).astype(np.float32),
            "s": rng.uniform(0.5, 2, (1, c, 1, 1)).astype(np.float32),
            "t": rng.standard_normal((1, c, 1, 1)).astype(np.float32),
            "d": np.array([1.5], np.float32)}
    nodes = [helper.make_node("Conv", ["input", "w1"], ["a"], pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["a"], ["r"])]
    affine = [helper.make_node("Mul", ["r", "s"], ["m"]),
              helper.make_node("Div", ["m", "d"], ["q"]),
              helper.make_node("Add", ["q", "t"], ["u"])]
    if head == "dense":  # the affine between the flatten and the dense layer
        vals["s"], vals["t"] = vals["s"].reshape(c), vals["t"].reshape(c)
        vals["w2"] = rng.standard_normal((c, 5)).astype(np.float32)
        nodes += [helper.make_node("GlobalAveragePool", ["r"], ["g"]),
                  helper.make_node("Flatten", ["g"], ["f"])]
        affine[0] = helper.make_node("Mul", ["f", "s"], ["m"])
        nodes += affine + [helper.make_node("MatMul", ["u", "w2"], ["output"])]
        out_shape = [1, 5]
    else:
        k = 3 if head == "conv3x3_padded" else 1
        vals["w2"] = rng.standard_normal((4, c, k, k)).astype(np.float32)
        stride = 2 if head == "conv1x1_stride2" else 1
        nodes += affine + [helper.make_node("Conv", ["u", "w2"], ["output"], strides=[stride, stride],
                                   pads=[k // 2] * 4)]
        out_shape = [1, 4, 6 // stride, 6 // stride]
    model = helper.make_model(helper.make_graph(
        nodes, "affine", [helper.make_tensor_value_info("input", TensorProto.FLOAT,
                                                        [1, 3, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, out_shape)],
        [numpy_helper.from_array(v, k) for k, v in vals.items()]),
        opset_imports=[helper.make_opsetid("", 13)])
    path = tmp_path / "affine.onnx"
    onnx.save(model, path)
    types = _check_outputs(model, path)
    if head != "conv3x3_padded":
        assert not {"MUL", "DIV", "ADD"} & set(types), types
    elif head == "conv3x3_padded":
        assert types["ADD"] == 1, types  # the shift stays before the padded conv


def _features_only(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model cut before its GlobalAveragePool: a rank-4 NCHW output named "output"."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    nodes = list(m.graph.node)
    cut = next(i for i, n in enumerate(nodes) if n.op_type == "GlobalAveragePool")
    feature = nodes[cut].input[0]
    del m.graph.node[cut:]
    for n in m.graph.node:
        n.output[:] = ["output" if o == feature else o for o in n.output]
        n.input[:] = ["output" if i == feature else i for i in n.input]
    m.graph.output[0].CopyFrom(onnx.helper.make_empty_tensor_value_info("output"))
    return onnx.shape_inference.infer_shapes(m, strict_mode=True)


@pytest.mark.parametrize("name", ["resnet_tiny", "mobilenet_v2_0.35_96_torch_reshape"])
@pytest.mark.parametrize("head", ["features", "classifier"])
def test_keep_nchw_io_has_one_transpose_at_each_nchw_end(name: str, head: str,
                                                           tmp_path: Path) -> None:
    model = _model(name) if head == "classifier" else _features_only(_model(name))
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    types = _check_outputs(model, path, keep_nchw_io=True)
    # one at the NCHW input; one at the output only if it is rank 4
    assert types["TRANSPOSE"] == (2 if head == "features" else 1), types
    graph = convert(path, ConvertOptions(keep_nchw_io=True))
    assert graph.inputs[0].shape[1] == 3
    types = _check_outputs(model, path)
    assert "TRANSPOSE" not in types


@pytest.mark.slow
def test_mobilenet_v2_full_size(tmp_path: Path) -> None:
    model = _model("mobilenet_v2_1.0_224")
    path = tmp_path / "mnv2.onnx"
    onnx.save(model, path)
    types = _check_outputs(model, path)
    assert set(types) <= CNN_OPS and types["ADD"] == 10, types
    data = convert_to_bytes(path)
    # BatchNorm folded away: the file holds conv/FC weights and one bias per output channel
    inits = {t.name: t for t in model.graph.initializer}
    weights = [inits[n.input[1]] for n in model.graph.node if n.op_type in ("Conv", "Gemm")]
    floats = sum(int(np.prod(w.dims)) + w.dims[0] for w in weights)
    assert floats * 4 < len(data) < floats * 4 + 100_000, (floats * 4, len(data))


LIGHT_DIR = Path(onnx.__file__).parent / "backend" / "test" / "data" / "light"


def _randomized_light_model(name: str) -> onnx.ModelProto:
    """One of the real architectures the onnx package ships with constant weights ("light"
    models), given random weights and BatchNorm statistics (fixed seed), the final Softmax
    cut off so logits are compared (a saturated softmax would hide errors)."""
    model = onnx.load(LIGHT_DIR / f"light_{name}.onnx")
    rng = np.random.default_rng(0)
    shapes = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}

    bn = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    variances = {n.input[4] for n in bn}
    scales = {n.input[1] for n in bn}

    def value(tensor: str, shape: tuple[int, ...]) -> np.ndarray:
        if tensor in variances:
            return (np.abs(rng.standard_normal(shape)) * 0.5 + 0.5).astype(np.float32)
        if tensor in scales:
            return (1 + 0.2 * rng.standard_normal(shape)).astype(np.float32)
        if len(shape) >= 2:
            return (rng.standard_normal(shape) * np.sqrt(2.0 / np.prod(shape[1:]))).astype(
                np.float32)
        return (0.1 * rng.standard_normal(shape)).astype(np.float32)

    nodes, weights = [], {}
    for n in model.graph.node:
        if n.op_type == "ConstantOfShape" and n.input[0] in shapes:
            weights[n.output[0]] = value(n.output[0], tuple(int(d) for d in shapes[n.input[0]]))
        else:
            nodes.append(n)
    for t in model.graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            weights[t.name] = value(t.name, tuple(t.dims))
        else:  # shapes for Reshape and the like stay as they are
            weights[t.name] = numpy_helper.to_array(t)
    if nodes[-1].op_type == "Softmax":
        nodes, logits = nodes[:-1], nodes[-1].input[0]
    else:
        logits = model.graph.output[0].name
    used = {i for n in nodes for i in n.input}
    data = [i for i in model.graph.input if i.name in used and i.name not in weights]
    graph = helper.make_graph(nodes, name, data, [helper.make_empty_tensor_value_info(logits)],
                              [numpy_helper.from_array(v, k) for k, v in sorted(weights.items())
                               if k in used])
    out = helper.make_model(graph, opset_imports=list(model.opset_import))
    out.ir_version = 7
    # the checker wants the output's shape, which these old-opset graphs do not infer: ask ORT
    x = np.zeros([d.dim_value for d in data[0].type.tensor_type.shape.dim], np.float32)
    (y,) = ort_run(out, {data[0].name: x})
    out.graph.output[0].CopyFrom(helper.make_tensor_value_info(logits, TensorProto.FLOAT,
                                                               list(y.shape)))
    return out


@pytest.mark.parametrize("name,expected", [
    ("squeezenet", {"CONV_2D", "MAX_POOL_2D", "CONCATENATION", "MEAN"}),
    ("inception_v2", {"CONV_2D", "PAD", "MAX_POOL_2D", "AVERAGE_POOL_2D", "CONCATENATION",
                      "RESHAPE", "FULLY_CONNECTED"}),
    # grouped 1x1 convolutions and channel shuffles: BatchNorm and Relu fold into each group
    ("shufflenet", {"CONV_2D", "DEPTHWISE_CONV_2D", "SPLIT", "CONCATENATION", "ADD", "PAD",
                    "PADV2", "MAX_POOL_2D", "AVERAGE_POOL_2D", "MUL", "RESHAPE", "TRANSPOSE",
                    "FULLY_CONNECTED"}),
])
@pytest.mark.slow
def test_real_architectures(name: str, expected: set[str], tmp_path: Path) -> None:
    model = _randomized_light_model(name)
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, path)
    graph = convert(path)
    types = Counter(op.type for op in graph.ops)
    assert set(types) == expected, types
    assert "RELU" not in types  # every activation fused
    # only the channel shuffles' TRANSPOSEs are left, one each
    assert types["TRANSPOSE"] == sum(1 for n in model.graph.node if n.op_type == "Transpose")
    inp = model.graph.input[0]
    x = np.random.default_rng(1).standard_normal(
        [d.dim_value for d in inp.type.tensor_type.shape.dim]).astype(np.float32)
    (ref,) = ort_run(model, {inp.name: x})
    layout = io_layout(graph)
    got = litert_run(write_model(graph), {inp.name: x}, layout)[model.graph.output[0].name]
    got = from_layout(got, layout.get(model.graph.output[0].name))
    assert float(np.abs(got - ref).max()) <= 1e-4 * float(np.ptp(ref))


def test_converting_twice_gives_identical_bytes(tmp_path: Path) -> None:
    path = tmp_path / "r.onnx"
    onnx.save(_model("mobilenet_v2_0.35_96_torch_reshape"), path)
    options = ConvertOptions(keep_nchw_io=False)
    first = convert_to_bytes(path, options)
    assert convert_to_bytes(path, options) == first
    # and in a fresh interpreter with another hash seed (set/dict order must not leak in)
    code = ("import sys; from edgelite.converter import convert_to_bytes; "
            "sys.stdout.buffer.write(convert_to_bytes(sys.argv[1]))")
    env = {**os.environ, "PYTHONPATH": str(SRC), "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(path)], env=env, check=True,
                         capture_output=True).stdout
    assert out == first


def test_metadata(tmp_path: Path) -> None:
    path = tmp_path / "resnet.onnx"
    onnx.save(_model("resnet_tiny"), path)
    options = ConvertOptions(keep_nchw_io=True, input_shapes={"input": (1, 3, 32, 32)})
    graph = convert(path, options)
    raw = graph.metadata["edgelite"]
    meta = json.loads(raw)
    assert raw == json.dumps(meta, sort_keys=True, separators=(",", ":")).encode()
    assert meta["producer"] == "edgelite" and meta["version"] == __version__
    assert meta["source"] == {"file": "resnet.onnx",
                              "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    assert meta["options"] == {"input_shapes": {"input": [1, 3, 32, 32]}, "keep_nchw_io": True}
    assert meta["layout"] == {"inputs": {"input": "NCHW"}, "outputs": {}}
    assert raw in convert_to_bytes(path, options)
    default = json.loads(convert(path).metadata["edgelite"])
    assert default["layout"]["inputs"] == {"input": "NHWC"}


def test_dynamic_input_without_input_shape_names_the_input(tmp_path: Path) -> None:
    model = _model("resnet_tiny")
    dynamic = onnx.ModelProto()
    dynamic.CopyFrom(model)
    for k, name in ((0, "batch"), (2, "height")):  # (a dynamic batch alone would default to 1)
        dim = dynamic.graph.input[0].type.tensor_type.shape.dim[k]
        dim.Clear()
        dim.dim_param = name
    path = tmp_path / "dyn.onnx"
    onnx.save(dynamic, path)
    with pytest.raises(EdgeliteError) as e:
        convert_to_bytes(path)
    assert "'input'" in str(e.value) and "--input-shape input:1,3,1,32" in str(e.value)
    data = convert_to_bytes(path, ConvertOptions(input_shapes={"input": (1, 3, 32, 32)}))
    x = _input(model)
    got = litert_run(data, {"input": x}, {"input": "NHWC"})["output"]
    np.testing.assert_allclose(got, ort_run(model, {"input": x})[0], rtol=1e-4, atol=1e-4)


def test_cli_convert(tmp_path: Path) -> None:
    from edgelite.cli import main

    model = _model("resnet_tiny")
    path = tmp_path / "r.onnx"
    onnx.save(model, path)
    out = tmp_path / "r.tflite"
    assert main(["convert", str(path), "-o", str(out)]) == 0
    assert out.read_bytes() == convert_to_bytes(path)
    dim = model.graph.input[0].type.tensor_type.shape.dim[0]
    dynamic = onnx.ModelProto()
    dynamic.CopyFrom(model)
    dynamic.graph.input[0].type.tensor_type.shape.dim[0].dim_param = "n"
    onnx.save(dynamic, path)
    assert dim.dim_value == 1
    # a dynamic batch alone defaults to 1 (with a note); a dynamic width needs --input-shape
    assert main(["convert", str(path), "-o", str(out)]) == 0
    assert out.read_bytes() != b""
    dynamic.graph.input[0].type.tensor_type.shape.dim[3].dim_param = "w"
    onnx.save(dynamic, path)
    assert main(["convert", str(path), "-o", str(out)]) == 2
    assert main(["convert", str(path), "-o", str(out), "--input-shape", "input:1,3,32,32"]) == 0


def test_digits_example_runs_in_litert_and_tflm_like_onnxruntime() -> None:
    """The bundled trained example on real held-out digits: no TRANSPOSE, and LiteRT and
    TFLite Micro within 1e-4 of the output range of ONNX Runtime's outputs."""
    path = Path(__file__).resolve().parents[1] / "examples" / "digits" / "digits_cnn.onnx"
    model = onnx.load(path)
    graph = convert(path, ConvertOptions())
    assert "TRANSPOSE" not in {op.type for op in graph.ops}
    data = write_model(graph)
    layout = io_layout(graph)
    with np.load(path.parent / "heldout.npz") as f:
        xs = f["input"][:20]
    for x in xs:
        (ref,) = ort_run(model, {"input": x[None]})
        tolerance = 1e-4 * float(np.ptp(ref))
        got_lite = from_layout(litert_run(data, {"input": x[None]}, layout)["logits"],
                               layout.get("logits"))
        got_tflm = from_layout(tflm_run(data, graph, {"input": x[None]})["logits"],
                               layout.get("logits"))
        assert float(np.abs(got_lite - ref).max()) <= tolerance
        assert float(np.abs(got_tflm - ref).max()) <= tolerance
