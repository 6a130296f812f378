"""Tricky lowering variants on inline ONNX graphs: ONNX Runtime is the oracle, LiteRT runs ours.

Each test builds a small model with onnx.helper (fixed-seed data), runs it in ONNX Runtime,
converts it with the pipeline (ONNX layout kept at the interface), runs the .tflite in LiteRT and
compares (rtol 1e-4, atol 1e-5 unless stated).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgelite.converter import ConvertOptions, convert, convert_to_bytes
from edgelite.converter.ops import REGISTRY, fuse_gelu
from edgelite.errors import Code, EdgeliteError

RNG = np.random.default_rng(1234)
F = TensorProto.FLOAT


def rand(*shape: int, lo: float = -1.0, hi: float = 1.0) -> np.ndarray:
    return RNG.uniform(lo, hi, size=shape).astype(np.float32)


def make_model(nodes, inputs, outputs, inits=(), opset: int = 17) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(n, F, s) for n, s in inputs],
        [helper.make_empty_tensor_value_info(n) for n in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 8
    # ONNX shape inference types the outputs (we never state what we then check).
    return onnx.shape_inference.infer_shapes(model, strict_mode=True)


def run_ort(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def run_litert(blob: bytes, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    interp = Interpreter(model_content=blob)
    interp.allocate_tensors()
    for d in interp.get_input_details():
        interp.set_tensor(d["index"], feeds[d["name"]])
    interp.invoke()
    return {d["name"]: interp.get_tensor(d["index"]) for d in interp.get_output_details()}


def run_tflm(blob: bytes, model: onnx.ModelProto,
             feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """TFLite Micro, inputs/outputs in the ONNX graph's order (the .tflite keeps it)."""
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(blob, arena_size=8 << 20)
    for i, vi in enumerate(model.graph.input):
        it.set_input(feeds[vi.name], i)
    it.invoke()
    return {vi.name: it.get_output(i).copy() for i, vi in enumerate(model.graph.output)}


def check(tmp_path: Path, model: onnx.ModelProto, feeds: dict[str, np.ndarray],
          rtol: float = 1e-4, atol: float = 1e-5, tflm: bool = False) -> bytes:
    onnx.checker.check_model(model)
    path = tmp_path / "m.onnx"
    onnx.save(model, path)
    want = run_ort(model, feeds)
    blob = convert_to_bytes(path, ConvertOptions(keep_nchw_io=True))
    runs = {"LiteRT": run_litert(blob, feeds)}
    if tflm:
        runs["TFLM"] = run_tflm(blob, model, feeds)
    for runtime, got in runs.items():
        for out, w in zip(model.graph.output, want):
            assert got[out.name].shape == w.shape, (runtime, out.name)
            np.testing.assert_allclose(got[out.name], w, rtol=rtol, atol=atol,
                                       err_msg=f"{runtime}: {out.name}")
    return blob


def op_types(tmp_path: Path, model: onnx.ModelProto) -> list[str]:
    path = tmp_path / "types.onnx"
    onnx.save(model, path)
    return [op.type for op in convert(path, ConvertOptions(keep_nchw_io=True)).ops]


# ---- convolution ------------------------------------------------------------------------------

def conv_model(x_shape, w, b=None, opset: int = 17, op: str = "Conv", **attrs):
    inits = [("w", w)] + ([("b", b)] if b is not None else [])
    ins = ["x", "w"] + (["b"] if b is not None else [])
    return make_model([helper.make_node(op, ins, ["y"], **attrs)], [("x", x_shape)], ["y"],
                      inits, opset)


@pytest.mark.parametrize("attrs", [
    dict(pads=[0, 1, 2, 0], strides=[2, 1]),                 # asymmetric pads -> PAD + VALID
    dict(pads=[1, 1, 1, 1]),                                  # SAME-equivalent
    dict(auto_pad="SAME_UPPER", strides=[2, 2]),
    dict(auto_pad="SAME_LOWER", strides=[2, 2]),
    dict(auto_pad="VALID", strides=[1, 2]),
    dict(dilations=[2, 3], pads=[2, 3, 2, 3]),
    dict(dilations=[2, 2], pads=[1, 2, 3, 2], strides=[2, 1]),
])
def test_conv_padding_variants(tmp_path, attrs):
    x = rand(1, 3, 9, 10)
    m = conv_model(x.shape, rand(4, 3, 3, 3), rand(4), **attrs)
    check(tmp_path, m, {"x": x})


def test_conv_asymmetric_pads_emit_explicit_pad(tmp_path):
    m = conv_model((1, 3, 8, 8), rand(4, 3, 3, 3), None, pads=[0, 0, 2, 2])
    assert "PAD" in op_types(tmp_path, m)


def test_depthwise_with_multiplier(tmp_path):
    x = rand(1, 4, 7, 7)
    m = conv_model(x.shape, rand(8, 1, 3, 3), rand(8), group=4, pads=[1, 1, 1, 1],
                   strides=[2, 2])
    check(tmp_path, m, {"x": x})
    assert "DEPTHWISE_CONV_2D" in op_types(tmp_path, m)


def test_grouped_conv_is_split(tmp_path):
    x = rand(1, 6, 6, 6)
    m = conv_model(x.shape, rand(4, 3, 3, 3), rand(4), group=2)
    check(tmp_path, m, {"x": x})
    assert op_types(tmp_path, m).count("CONV_2D") == 2


def test_conv_1d(tmp_path):
    x = rand(2, 3, 11)
    m = conv_model(x.shape, rand(5, 3, 3), rand(5), pads=[1, 2], strides=[2], dilations=[2])
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("attrs", [
    dict(strides=[2, 2], pads=[1, 1, 1, 1], output_padding=[1, 1]),
    dict(strides=[3, 2], output_padding=[1, 1]),
    dict(strides=[2, 2], output_shape=[10, 9]),
    dict(strides=[2, 2], auto_pad="SAME_UPPER"),
    dict(strides=[2, 2], auto_pad="SAME_LOWER"),
    dict(strides=[1, 1], pads=[0, 1, 2, 0]),
])
def test_conv_transpose(tmp_path, attrs):
    x = rand(1, 3, 4, 5)
    m = conv_model(x.shape, rand(3, 2, 3, 3), rand(2), op="ConvTranspose", **attrs)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("attrs", [
    dict(group=2, strides=[2, 2], pads=[1, 0, 0, 1]),
    dict(dilations=[2, 3], strides=[2, 1]),
    dict(group=4, dilations=[2, 2], output_padding=[1, 0], strides=[2, 2]),
])
def test_conv_transpose_groups_and_dilations(tmp_path, attrs):
    x = rand(1, 4, 5, 4)
    m = conv_model(x.shape, rand(4, 2, 3, 3), rand(2 * attrs.get("group", 1)),
                   op="ConvTranspose", **attrs)
    check(tmp_path, m, {"x": x})


# ---- pools -------------------------------------------------------------------------------------

@pytest.mark.parametrize("op,attrs", [
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("MaxPool", dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
    ("MaxPool", dict(kernel_shape=[2, 3], pads=[0, 2, 1, 0])),
    ("AveragePool", dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("AveragePool", dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)),
    ("AveragePool", dict(kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER")),
])
def test_pools(tmp_path, op, attrs):
    x = rand(1, 3, 9, 8)
    m = make_model([helper.make_node(op, ["x"], ["y"], **attrs)], [("x", x.shape)], ["y"])
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("attrs", [
    dict(kernel_shape=[3, 3], p=3, pads=[1, 2, 1, 0], strides=[2, 2]),
    dict(kernel_shape=[2, 2], p=2, auto_pad="SAME_UPPER"),
    dict(kernel_shape=[2, 2], p=1, dilations=[2, 2]),
])
def test_lp_pool(tmp_path, attrs):
    x = rand(1, 2, 8, 9)
    m = make_model([helper.make_node("LpPool", ["x"], ["y"], **attrs)], [("x", x.shape)], ["y"],
                   opset=18)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("op,attrs,shape", [
    ("MaxPool", dict(kernel_shape=[3, 2], dilations=[2, 3], strides=[1, 2], pads=[2, 1, 0, 1]),
     (1, 2, 9, 10)),
    ("AveragePool", dict(kernel_shape=[2, 3], dilations=[3, 2], pads=[1, 0, 1, 2],
                         count_include_pad=1), (1, 2, 9, 10)),
    ("AveragePool", dict(kernel_shape=[2, 2], dilations=[2, 2], strides=[2, 2], ceil_mode=1),
     (1, 2, 9, 10)),
    ("MaxPool", dict(kernel_shape=[2, 3, 2], strides=[2, 1, 2], pads=[1, 1, 0, 0, 1, 1]),
     (1, 2, 5, 6, 7)),
    ("AveragePool", dict(kernel_shape=[3, 2, 2], strides=[1, 2, 2], pads=[1, 0, 1, 1, 1, 0]),
     (1, 2, 5, 6, 7)),
])
def test_dilated_and_3d_pools(tmp_path, op, attrs, shape):
    x = rand(*shape)
    m = make_model([helper.make_node(op, ["x"], ["y"], **attrs)], [("x", x.shape)], ["y"],
                   opset=19)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("include", [0, 1])
@pytest.mark.parametrize("ceil", [0, 1])
def test_average_pool_pads_tflite_cannot_express(tmp_path, include, ceil):
    """Large or lopsided pads: PAD + VALID pool + MUL by ONNX's per-position divisor."""
    x = rand(1, 2, 7, 6)
    m = make_model([helper.make_node("AveragePool", ["x"], ["y"], kernel_shape=[3, 3],
                                     strides=[2, 2], pads=[2, 0, 1, 2], ceil_mode=ceil,
                                     count_include_pad=include)], [("x", x.shape)], ["y"])
    check(tmp_path, m, {"x": x})


# ---- Gemm / MatMul ------------------------------------------------------------------------------

@pytest.mark.parametrize("trans_a,trans_b,alpha,beta,c_shape", [
    (0, 0, 1.0, 1.0, (5,)),
    (1, 0, 0.5, 2.0, (1, 5)),
    (0, 1, 1.5, 0.25, (3, 5)),
    (1, 1, 1.0, 1.0, None),
])
@pytest.mark.parametrize("const_b", [True, False])
def test_gemm(tmp_path, trans_a, trans_b, alpha, beta, c_shape, const_b):
    a = rand(4, 3) if trans_a else rand(3, 4)
    b = rand(5, 4) if trans_b else rand(4, 5)
    ins, inputs, inits = ["a", "b"], [("a", a.shape)], []
    feeds = {"a": a}
    if const_b:
        inits.append(("b", b))
    else:
        inputs.append(("b", b.shape))
        feeds["b"] = b
    if c_shape is not None:
        inits.append(("c", rand(*c_shape)))
        ins.append("c")
    node = helper.make_node("Gemm", ins, ["y"], transA=trans_a, transB=trans_b, alpha=alpha,
                            beta=beta)
    m = make_model([node], inputs, ["y"], inits)
    check(tmp_path, m, feeds)
    if const_b:
        assert "FULLY_CONNECTED" in op_types(tmp_path, m)


@pytest.mark.parametrize("a_shape,b_shape,const_b", [
    ((2, 3, 4, 5), (5, 6), True),     # FULLY_CONNECTED keeping leading dims
    ((3, 4), (4,), True),             # 1-D rhs
    ((4,), (4, 3), True),             # 1-D lhs
    ((2, 3, 4, 5), (3, 5, 6), False),  # broadcast batch, different ranks
    ((2, 1, 4, 5), (1, 3, 5, 6), False),
    ((4, 5), (2, 5, 3), False),
])
def test_matmul(tmp_path, a_shape, b_shape, const_b):
    a, b = rand(*a_shape), rand(*b_shape)
    feeds = {"a": a}
    inputs = [("a", a_shape)]
    inits = []
    if const_b:
        inits.append(("b", b))
    else:
        inputs.append(("b", b_shape))
        feeds["b"] = b
    m = make_model([helper.make_node("MatMul", ["a", "b"], ["y"])], inputs, ["y"], inits)
    check(tmp_path, m, feeds)


@pytest.mark.parametrize("equation,shapes", [
    ("bij,bjk->bik", [(5, 2, 3), (5, 3, 4)]),
    ("bhqd,bhkd->bhqk", [(2, 3, 4, 8), (2, 3, 5, 8)]),   # attention scores
    ("ij,jk", [(3, 4), (4, 5)]),                        # implicit output
    ("i,i", [(5,), (5,)]),                              # inner product -> scalar
    ("abc,cd->dba", [(2, 3, 4), (4, 5)]),
    ("ij,kl->ijkl", [(2, 3), (4, 5)]),                  # outer product
    ("ijk,jl->il", [(2, 3, 4), (3, 6)]),                # k summed before the product
    ("ij->i", [(3, 4)]),
    ("ij->ji", [(3, 4)]),
])
def test_einsum(tmp_path, equation, shapes):
    names = [f"x{i}" for i in range(len(shapes))]
    xs = {n: rand(*s) for n, s in zip(names, shapes)}
    m = make_model([helper.make_node("Einsum", names, ["y"], equation=equation)],
                   list(zip(names, shapes)), ["y"], opset=13)
    check(tmp_path, m, xs)


# ---- recurrent ---------------------------------------------------------------------------------

@pytest.mark.parametrize("op,attrs,extras", [
    ("LSTM", dict(direction="bidirectional"), ["h0", "c0", "p"]),
    ("LSTM", dict(direction="reverse", clip=0.7), []),
    ("LSTM", dict(activations=["Sigmoid", "Relu", "Tanh"]), ["h0"]),
    ("GRU", dict(direction="bidirectional", linear_before_reset=1), ["h0"]),
    ("GRU", dict(direction="reverse"), []),
    ("RNN", dict(activations=["Relu"], clip=0.5), ["h0"]),
    ("GRU", dict(clip=0.3), []),
    ("RNN", dict(direction="bidirectional"), []),
])
def test_recurrent(tmp_path, op, attrs, extras):
    """Unrolled RNN/GRU/LSTM vs ONNX Runtime, in LiteRT and TFLite Micro; all three outputs,
    run-time initial states.
    (layout=1 is covered by the node tests: ONNX Runtime does not run it.)"""
    seq, batch, inp, hid = 5, 2, 3, 4
    dirs = 2 if attrs.get("direction") == "bidirectional" else 1
    gates = {"RNN": 1, "GRU": 3, "LSTM": 4}[op]
    layout = attrs.get("layout", 0)
    x_shape = (batch, seq, inp) if layout else (seq, batch, inp)
    state = (batch, dirs, hid) if layout else (dirs, batch, hid)
    inits = [("w", rand(dirs, gates * hid, inp)), ("r", rand(dirs, gates * hid, hid)),
             ("b", rand(dirs, 2 * gates * hid))]
    ins = ["x", "w", "r", "b", ""]
    inputs, feeds = [("x", x_shape)], {"x": rand(*x_shape)}
    for name in ("h0", "c0"):
        ins.append(name if name in extras else "")
        if name in extras:
            inputs.append((name, state))
            feeds[name] = rand(*state)
    if op == "LSTM":
        ins.append("p" if "p" in extras else "")
        if "p" in extras:
            inits.append(("p", rand(dirs, 3 * hid)))
    while ins and ins[-1] == "":
        ins.pop()
    if op != "LSTM":
        ins = ins[:6]
    outs = ["y", "yh"] + (["yc"] if op == "LSTM" else [])
    m = make_model([helper.make_node(op, ins, outs, hidden_size=hid, **attrs)], inputs, outs,
                   inits, opset=14)
    check(tmp_path, m, feeds, atol=2e-5, tflm=True)


# ---- Resize ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,ctm,nearest,sizes", [
    ("nearest", "asymmetric", "floor", (1, 2, 8, 10)),
    ("nearest", "half_pixel", "round_prefer_floor", (1, 2, 8, 10)),
    ("nearest", "align_corners", "round_prefer_ceil", (1, 2, 7, 9)),
    ("nearest", "tf_half_pixel_for_nn", "floor", (1, 2, 6, 15)),
    ("linear", "half_pixel", "floor", (1, 2, 8, 10)),
    ("linear", "pytorch_half_pixel", "floor", (1, 2, 7, 3)),
    ("linear", "align_corners", "floor", (1, 2, 7, 9)),
    ("linear", "asymmetric", "floor", (1, 2, 8, 10)),
])
def test_resize(tmp_path, mode, ctm, nearest, sizes):
    x = rand(1, 2, 4, 5)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode=mode,
                            coordinate_transformation_mode=ctm, nearest_mode=nearest)
    m = make_model([node], [("x", x.shape)], ["y"], [("sizes", np.array(sizes, np.int64))],
                   opset=13)
    check(tmp_path, m, {"x": x})


def test_resize_scales_nearest(tmp_path):
    x = rand(1, 3, 4, 4)
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], mode="nearest")
    m = make_model([node], [("x", x.shape)], ["y"],
                   [("scales", np.array([1, 1, 2, 3], np.float32))], opset=13)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("attrs,scales", [
    (dict(mode="cubic"), [1, 1, 2, 1.5]),
    (dict(mode="cubic", cubic_coeff_a=-0.5, exclude_outside=1,
          coordinate_transformation_mode="align_corners"), [1, 1, 1.5, 2]),
    (dict(mode="linear", antialias=1), [1, 1, 0.5, 0.6]),
    (dict(mode="nearest", coordinate_transformation_mode="half_pixel_symmetric"),
     [1, 1, 0.75, 1.5]),
])
def test_resize_exact_general_path(tmp_path, attrs, scales):
    """Variants no TFLite resize reproduces: per-axis GATHER / matrix products."""
    x = rand(1, 2, 8, 10)
    node = helper.make_node("Resize", ["x", "", "scales"], ["y"], **attrs)
    m = make_model([node], [("x", x.shape)], ["y"],
                   [("scales", np.array(scales, np.float32))], opset=19)
    check(tmp_path, m, {"x": x})
    assert not {"RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"} & set(op_types(tmp_path, m))


def test_resize_keep_aspect_ratio(tmp_path):
    x = rand(1, 2, 6, 9)
    node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                            keep_aspect_ratio_policy="not_larger", axes=[2, 3])
    m = make_model([node], [("x", x.shape)], ["y"], [("sizes", np.array([7, 7], np.int64))],
                   opset=19)
    check(tmp_path, m, {"x": x})


def test_resize_tf_crop_and_resize_is_unsupported(tmp_path):
    node = helper.make_node("Resize", ["x", "roi", "scales"], ["y"], mode="linear",
                            coordinate_transformation_mode="tf_crop_and_resize")
    m = make_model([node], [("x", (1, 1, 4, 4))], ["y"],
                   [("roi", np.array([0, 0, 0.2, 0.2, 1, 1, 0.8, 0.8], np.float32)),
                    ("scales", np.array([1, 1, 2, 2], np.float32))], opset=13)
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    with pytest.raises(EdgeliteError, match="tf_crop_and_resize"):
        convert(path)


# ---- GELU --------------------------------------------------------------------------------------

def gelu_nodes(order: int) -> list[onnx.NodeProto]:
    div = helper.make_node("Div", ["x", "sqrt2"], ["d"])
    erf = helper.make_node("Erf", ["d"], ["e"])
    add = helper.make_node("Add", ["one", "e"], ["a"])
    if order == 0:
        return [div, erf, add, helper.make_node("Mul", ["x", "a"], ["m"]),
                helper.make_node("Mul", ["m", "half"], ["y"])]
    if order == 1:
        return [div, erf, add, helper.make_node("Mul", ["a", "half"], ["m"]),
                helper.make_node("Mul", ["x", "m"], ["y"])]
    return [helper.make_node("Mul", ["x", "half"], ["h"]), div, erf, add,
            helper.make_node("Mul", ["h", "a"], ["y"])]


@pytest.mark.parametrize("order", [0, 1, 2])
def test_gelu_pattern(tmp_path, order):
    x = rand(2, 16, lo=-4, hi=4)
    inits = [("sqrt2", np.array(math.sqrt(2), np.float32)), ("one", np.array(1, np.float32)),
             ("half", np.array(0.5, np.float32))]
    m = make_model(gelu_nodes(order), [("x", x.shape)], ["y"], inits)
    want = run_ort(m, {"x": x})[0]
    fused = onnx.ModelProto()
    fused.CopyFrom(m)
    assert fuse_gelu(fused.graph) == 1
    assert [n.op_type for n in fused.graph.node] == ["Gelu"]
    # Gelu is an opset-20 op: the fused model must say so to pass onnx.checker in the reader.
    fused.opset_import[0].version = 20
    path = tmp_path / "g.onnx"
    onnx.save(fused, path)
    blob = convert_to_bytes(path, ConvertOptions(keep_nchw_io=True))
    assert "GELU" in op_types(tmp_path, fused)
    np.testing.assert_allclose(run_litert(blob, {"x": x})["y"], want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("order", [0, 1, 2])
def test_gelu_pattern_through_the_reader(tmp_path, order):
    """The reader fuses the pattern itself: no manual step, any opset."""
    x = rand(3, 8, lo=-4, hi=4)
    inits = [("sqrt2", np.array(math.sqrt(2), np.float32)), ("one", np.array(1, np.float32)),
             ("half", np.array(0.5, np.float32))]
    m = make_model(gelu_nodes(order), [("x", x.shape)], ["y"], inits, opset=13)
    blob = check(tmp_path, m, {"x": x})
    assert op_types(tmp_path, m) == ["GELU"]
    assert blob


def test_gelu_pattern_not_fused_when_intermediate_is_reused():
    nodes = gelu_nodes(0) + [helper.make_node("Relu", ["e"], ["z"])]
    inits = [("sqrt2", np.array(math.sqrt(2), np.float32)), ("one", np.array(1, np.float32)),
             ("half", np.array(0.5, np.float32))]
    m = make_model(nodes, [("x", (2, 3))], ["y", "z"], inits)
    assert fuse_gelu(m.graph) == 0


def test_erf_alone_is_approximated(tmp_path):
    """Erf outside the GELU pattern: a polynomial form within 1.5e-7 of erf, checked on a
    wide range (zero, tiny, both signs, saturated tails)."""
    x = np.concatenate([np.linspace(-6, 6, 241, dtype=np.float32),
                        np.array([0.0, 1e-6, -1e-6, 1e-3, 30.0, -30.0], np.float32)])
    x = x.reshape(1, -1)
    m = make_model([helper.make_node("Erf", ["x"], ["y"])], [("x", x.shape)], ["y"])
    check(tmp_path, m, {"x": x}, rtol=0, atol=5e-7)


def test_unknown_op_is_unsupported_by_name(tmp_path):
    m = make_model([helper.make_node("Det", ["x"], ["y"], name="lonely_det")],
                   [("x", (3, 3))], ["y"])
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    with pytest.raises(EdgeliteError) as err:
        convert(path)
    assert err.value.code == Code.UNSUPPORTED
    assert "Det" in str(err.value) and "lonely_det" in str(err.value)


# ---- normalization, activations, shapes --------------------------------------------------------

@pytest.mark.parametrize("exponent,expect", [(2.0, "MUL"), (0.5, "SQRT"), (3.0, "POW")])
def test_pow_constant_exponent(tmp_path, exponent, expect):
    x = rand(2, 3, 4, lo=0.1, hi=2)
    m = make_model([helper.make_node("Pow", ["x", "e"], ["y"])], [("x", x.shape)], ["y"],
                   [("e", np.array(exponent, np.float32))])
    check(tmp_path, m, {"x": x})
    assert op_types(tmp_path, m) == [expect]


def test_batchnorm_lowers_to_mul_add(tmp_path):
    x = rand(1, 4, 5, 5)
    inits = [("s", rand(4, lo=0.5, hi=2)), ("b", rand(4)), ("m", rand(4)),
             ("v", rand(4, lo=0.1, hi=2))]
    m = make_model([helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"],
                                     epsilon=1e-3)], [("x", x.shape)], ["y"], inits)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("lo,hi,expect", [(0.0, 6.0, "RELU6"), (-1.0, 1.0, "RELU_N1_TO_1"),
                                          (0.0, None, "RELU"), (-0.5, 0.25, "MINIMUM")])
def test_clip_variants(tmp_path, lo, hi, expect):
    x = rand(2, 3, 4, lo=-8, hi=8)
    ins = ["x", "lo", "hi" if hi is not None else ""]
    inits = [("lo", np.array(lo, np.float32))] + (
        [("hi", np.array(hi, np.float32))] if hi is not None else [])
    m = make_model([helper.make_node("Clip", ins, ["y"])], [("x", x.shape)], ["y"], inits)
    check(tmp_path, m, {"x": x})
    assert expect in op_types(tmp_path, m)


def test_clip_attributes_opset7(tmp_path):
    x = rand(2, 3, lo=-8, hi=8)
    m = make_model([helper.make_node("Clip", ["x"], ["y"], min=0.0, max=6.0)], [("x", x.shape)],
                   ["y"], opset=7)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("opset,axis", [(11, 1), (11, 2), (13, 1), (13, -1)])
@pytest.mark.parametrize("op", ["Softmax", "LogSoftmax"])
def test_softmax_axis_semantics(tmp_path, op, opset, axis):
    x = rand(2, 3, 4, lo=-3, hi=3)
    m = make_model([helper.make_node(op, ["x"], ["y"], axis=axis)], [("x", x.shape)], ["y"],
                   opset=opset)
    check(tmp_path, m, {"x": x})


def test_layer_norm_and_instance_norm(tmp_path):
    x = rand(2, 3, 4, 5)
    nodes = [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"], axis=-2,
                              epsilon=1e-5),
             helper.make_node("InstanceNormalization", ["x", "s", "c"], ["z"], epsilon=1e-4)]
    inits = [("g", rand(4, 5)), ("b", rand(4, 5)), ("s", rand(3)), ("c", rand(3))]
    m = make_model(nodes, [("x", x.shape)], ["y", "z"], inits)
    check(tmp_path, m, {"x": x}, atol=1e-4)


def test_slice_negative_steps_and_split_uneven(tmp_path):
    x = rand(4, 6, 5)
    nodes = [helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["y"]),
             helper.make_node("Split", ["x", "parts"], ["p0", "p1"], axis=1)]
    inits = [("st", np.array([-1, 4], np.int64)), ("en", np.array([-(2**63), 0], np.int64)),
             ("ax", np.array([0, 2], np.int64)), ("sp", np.array([-2, -1], np.int64)),
             ("parts", np.array([2, 4], np.int64))]
    m = make_model(nodes, [("x", x.shape)], ["y", "p0", "p1"], inits, opset=13)
    check(tmp_path, m, {"x": x})


def test_gather_embedding_with_runtime_indices(tmp_path):
    """Constant table, run-time (also negative) int64 ids: FLOOR_MOD then GATHER."""
    ids = np.array([[0, 3, -1], [2, -5, 4]], np.int64)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "ids"], ["y"], axis=0)], "g",
        [helper.make_tensor_value_info("ids", TensorProto.INT64, ids.shape)],
        [helper.make_empty_tensor_value_info("y")],
        [numpy_helper.from_array(rand(5, 4), "table")])
    m = onnx.shape_inference.infer_shapes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8))
    check(tmp_path, m, {"ids": ids})


@pytest.mark.parametrize("const_indices", [True, False])
def test_gather_elements(tmp_path, const_indices):
    x = rand(3, 4, 5)
    idx = RNG.integers(-4, 4, size=(3, 2, 5)).astype(np.int64)
    node = helper.make_node("GatherElements", ["x", "i"], ["y"], axis=1)
    inputs = [helper.make_tensor_value_info("x", F, x.shape)]
    inits, feeds = [], {"x": x}
    if const_indices:
        inits.append(numpy_helper.from_array(idx, "i"))
    else:
        inputs.append(helper.make_tensor_value_info("i", TensorProto.INT64, idx.shape))
        feeds["i"] = idx
    graph = helper.make_graph([node], "g", inputs, [helper.make_empty_tensor_value_info("y")],
                              inits)
    m = onnx.shape_inference.infer_shapes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8))
    check(tmp_path, m, feeds)


@pytest.mark.parametrize("largest,axis", [(1, -1), (0, 1), (1, 0)])
def test_topk_with_ties(tmp_path, largest, axis):
    """Ties resolve to the lower index first, as ONNX requires."""
    x = RNG.integers(0, 4, size=(3, 6, 5)).astype(np.float32)
    m = make_model([helper.make_node("TopK", ["x", "k"], ["v", "i"], axis=axis, largest=largest)],
                   [("x", x.shape)], ["v", "i"], [("k", np.array([3], np.int64))], opset=13)
    check(tmp_path, m, {"x": x})


def test_one_hot_negative_and_out_of_range(tmp_path):
    idx = np.array([[0, -1, 3], [5, -4, -6]], np.int64)  # 5 and -6 are out of range
    graph = helper.make_graph(
        [helper.make_node("OneHot", ["i", "d", "v"], ["y"], axis=1)], "g",
        [helper.make_tensor_value_info("i", TensorProto.INT64, idx.shape)],
        [helper.make_empty_tensor_value_info("y")],
        [numpy_helper.from_array(np.array(4, np.int64), "d"),
         numpy_helper.from_array(np.array([-1.0, 2.0], np.float32), "v")])
    m = onnx.shape_inference.infer_shapes(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8))
    check(tmp_path, m, {"i": idx})


@pytest.mark.parametrize("mode", ["DCR", "CRD"])
def test_depth_to_space(tmp_path, mode):
    x = rand(1, 8, 3, 4)
    m = make_model([helper.make_node("DepthToSpace", ["x"], ["y"], blocksize=2, mode=mode)],
                   [("x", x.shape)], ["y"], opset=13)
    check(tmp_path, m, {"x": x})


@pytest.mark.parametrize("mode,pads", [
    ("reflect", [0, 0, 1, 2, 0, 0, 2, 1]),
    ("constant", [0, 1, 1, 0, 0, 0, 2, 1]),
    ("edge", [0, 0, 1, 1, 0, 0, 0, 1]),        # MIRROR_PAD SYMMETRIC
    ("edge", [0, 0, 3, 0, 0, 0, 2, 4]),        # GATHER
    ("wrap", [0, 0, 2, 1, 0, 0, 1, 3]),
    ("reflect", [0, 0, -1, 2, 0, 0, 1, -2]),   # negative pads crop
])
def test_pad_modes(tmp_path, mode, pads):
    x = rand(1, 2, 4, 5)
    ins = ["x", "p"] + (["v"] if mode == "constant" else [])
    inits = [("p", np.array(pads, np.int64)), ("v", np.array(-2.5, np.float32))]
    m = make_model([helper.make_node("Pad", ins, ["y"], mode=mode)], [("x", x.shape)], ["y"],
                   inits[:len(ins) - 1], opset=19)
    check(tmp_path, m, {"x": x})


def test_nhwc_interface_default(tmp_path):
    """Without keep_nchw_io the layout pass makes the 4-D interface NHWC."""
    x = rand(1, 3, 8, 8)
    m = conv_model(x.shape, rand(4, 3, 3, 3), rand(4), pads=[1, 1, 1, 1])
    path = tmp_path / "m.onnx"
    onnx.save(m, path)
    want = run_ort(m, {"x": x})[0]
    blob = convert_to_bytes(path)
    got = run_litert(blob, {"x": x.transpose(0, 2, 3, 1).copy()})["y"]
    np.testing.assert_allclose(got.transpose(0, 3, 1, 2), want, rtol=1e-4, atol=1e-5)


def test_cnn_ops_run_in_tflite_micro(tmp_path):
    """The lowerings a plain CNN uses also run in TFLite Micro (our other oracle)."""
    x = rand(1, 3, 12, 11)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[0, 1, 2, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "s", "o", "m", "v"], ["bn"]),
        helper.make_node("Clip", ["bn", "lo", "hi"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], group=4, pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["c2"], ["p1"], kernel_shape=[2, 2], strides=[2, 2],
                         ceil_mode=1),
        helper.make_node("AveragePool", ["c2"], ["p2"], kernel_shape=[3, 3], pads=[2, 1, 0, 1]),
        helper.make_node("GlobalAveragePool", ["p2"], ["g"]),
        helper.make_node("Flatten", ["g"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["fc"], transB=1),
        helper.make_node("Softmax", ["fc"], ["y"]),
        helper.make_node("Resize", ["p1", "", "sc"], ["z"], mode="nearest"),
    ]
    inits = [("w1", rand(4, 3, 3, 3)), ("b1", rand(4)), ("s", rand(4, lo=0.5, hi=2)),
             ("o", rand(4)), ("m", rand(4)), ("v", rand(4, lo=0.5, hi=2)),
             ("lo", np.array(0, np.float32)), ("hi", np.array(6, np.float32)),
             ("w2", rand(8, 1, 3, 3)), ("b2", rand(8)), ("wf", rand(5, 8)), ("bf", rand(5)),
             ("sc", np.array([1, 1, 2, 2], np.float32))]
    m = make_model(nodes, [("x", x.shape)], ["y", "z"], inits, opset=13)
    check(tmp_path, m, {"x": x}, tflm=True)


def test_registry_entries_are_documented():
    for name, lowering in REGISTRY.items():
        assert lowering.notes, name
        lo, hi = lowering.opsets
        assert 1 <= lo <= hi, name
