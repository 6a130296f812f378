"""Threads (issue 13 part 1): el_config.parallel_for, the hosted pool and the split of CONV_2D,
DEPTHWISE_CONV_2D and FULLY_CONNECTED by output rows / units, of elementwise ops, PAD and the
float unary activations by runs, of MAX_POOL_2D and AVERAGE_POOL_2D by rows.

- 1, 2 and 4 threads give identical bytes on real models (the digits CNN of examples/, float and
  int8, on its held-out digits; MobileNetV2 0.35/96 float and int8), and those bytes are the
  oracles' (TFLite Micro for int8, ONNX Runtime for float within float tolerance);
- two interpreters, each with its own pool, invoked at once from two Python threads;
- with no hook (the default) a split layer runs inline, in order; a hook that runs the tasks in
  reverse order on the calling thread gives the same bytes, and it really receives split layers.
"""
from __future__ import annotations

import ctypes
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import onnx
import pytest

import models
from edgelite.converter.pipeline import convert, convert_to_bytes
from edgelite.errors import EdgeliteError
from edgelite.quantize.api import QuantizeOptions, quantize
from edgelite.runtime import Interpreter
from helpers.tflite_checks import assert_outputs_match_oracles, nhwc

THREADS = (1, 2, 4)


def _tflm(model: bytes, xs: np.ndarray) -> list[bytes]:
    from tflite_micro.python.tflite_micro import runtime as tflm

    it = tflm.Interpreter.from_bytes(model, arena_size=8_000_000)
    out = []
    for x in xs:
        it.set_input(x, 0)
        it.invoke()
        out.append(it.get_output(0).tobytes())
    return out


def _ours(model: bytes, xs: np.ndarray, num_threads: int) -> list[bytes]:
    it = Interpreter(model, num_threads=num_threads)
    out = []
    for x in xs:
        it.set_input(0, x)
        it.invoke()
        out.append(it.get_output(0).tobytes())
    return out


@pytest.fixture(scope="module")
def digits() -> dict[str, object]:
    data = models.digits_data()
    src = models.digits_cnn_path()
    f32 = convert_to_bytes(src)
    i8 = quantize(src, QuantizeOptions(calibration={"input": data["calibration"]},
                                       progress=False)).model
    return {"src": src, "f32": f32, "i8": i8, "x": data["input"][:12]}


@pytest.fixture(scope="module")
def mnv2(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    src = tmp_path_factory.mktemp("thr") / "mnv2_0.35_96.onnx"
    onnx.save(models.mobilenet_v2(0.35, 96), str(src))
    cal = np.random.default_rng(1).standard_normal((2, 3, 96, 96)).astype(np.float32)
    f32 = convert_to_bytes(src)
    # random weights on 2 calibration samples: the SQNR floor is beside the point here
    i8 = quantize(convert(src), QuantizeOptions(calibration={"input": cal}, samples=2,
                                                progress=False, allow_low_sqnr=True)).model
    x = np.random.default_rng(0).standard_normal((2, 1, 3, 96, 96)).astype(np.float32)
    return {"src": src, "f32": f32, "i8": i8, "x": x}


def _float_inputs(model: bytes, xs: np.ndarray) -> np.ndarray:
    shape = tuple(Interpreter(model).inputs[0].shape)
    return np.stack([nhwc(shape, x.reshape((1,) + x.shape[-3:])) for x in xs])


def _int8_inputs(model: bytes, xs: np.ndarray) -> np.ndarray:
    it = Interpreter(model)
    d = it.inputs[0]
    xs = np.stack([nhwc(tuple(d.shape), x.reshape((1,) + x.shape[-3:])) for x in xs])
    q = np.round(xs / d.scale) + d.zero_point
    return np.clip(q, -128, 127).astype(np.int8)


@pytest.mark.parametrize("which", ["digits", "mnv2"])
def test_threads_same_bytes_int8_and_tflm(which: str, digits, mnv2) -> None:
    m = digits if which == "digits" else mnv2
    model = m["i8"]
    xs = _int8_inputs(model, m["x"])
    runs = {n: _ours(model, xs, n) for n in THREADS}
    assert runs[1] == runs[2] == runs[4]
    assert runs[1] == _tflm(model, xs)  # and those bytes are TFLite Micro's
    assert len({r for r in runs[1]}) > 1  # different inputs, different outputs


@pytest.mark.parametrize("which", ["digits", "mnv2"])
def test_threads_same_bytes_float_and_onnxruntime(which: str, digits, mnv2) -> None:
    import onnxruntime as ort

    m = digits if which == "digits" else mnv2
    model = m["f32"]
    xs = _float_inputs(model, m["x"])
    runs = {n: _ours(model, xs, n) for n in THREADS}
    assert runs[1] == runs[2] == runs[4]
    sess = ort.InferenceSession(str(m["src"]), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    for x, got in zip(m["x"], runs[1]):
        want = sess.run(None, {name: x.reshape((1,) + x.shape[-3:])})[0]
        got_a = np.frombuffer(got, dtype=np.float32).reshape(want.shape)
        # within 5e-5 of the output range, as test_fast_kernels' float MobileNetV2 (on an
        # AVX-512 EPYC one logit of 1000 was 1.1e-4 away, 3.2e-5 of the range)
        scale = float(want.max() - want.min())
        np.testing.assert_allclose(got_a, want, rtol=1e-3, atol=max(1e-4, 5e-5 * scale))


def test_two_interpreters_with_own_pools_at_once(mnv2) -> None:
    model = mnv2["i8"]
    xs = _int8_inputs(model, mnv2["x"])
    want = _ours(model, xs, 1)
    a, b = Interpreter(model, num_threads=2), Interpreter(model, num_threads=2)

    def run(it_x) -> list[bytes]:
        it, x, k = it_x
        outs = []
        for _ in range(6):
            it.set_input(0, x)
            it.invoke()
            outs.append(it.get_output(0).tobytes())
        return outs

    with ThreadPoolExecutor(2) as pool:
        ra, rb = pool.map(run, ((a, xs[0], 0), (b, xs[1], 1)))
    assert ra == [want[0]] * 6 and rb == [want[1]] * 6


TASK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32)
HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int32, TASK, ctypes.c_void_p)


def _runs_by_threads(model: bytes, x: np.ndarray, counts=(1, 2, 3, 4)) -> dict[int, list[bytes]]:
    """Every output's bytes of one invoke on x, per thread count."""
    runs = {}
    for n in counts:
        it = Interpreter(model, num_threads=n)
        it.set_input(0, x)
        it.invoke()
        runs[n] = [it.get_output(i).tobytes() for i in range(len(it.outputs))]
    return runs


def _reverse_hook_run(model: bytes, x: np.ndarray, threads: int = 3) -> tuple[list[bytes],
                                                                                list[int]]:
    """The model on a caller's parallel-for hook that runs every split's tasks in reverse order
    on the calling thread: its outputs' bytes and the task count of each split."""
    calls: list[int] = []

    def reverse(pool, n_tasks, task, arg):
        calls.append(n_tasks)
        for i in reversed(range(n_tasks)):
            task(arg, i)

    hook = HOOK(reverse)
    it = Interpreter(model)
    it._config.num_threads = threads
    it._config.parallel_for = ctypes.cast(hook, ctypes.c_void_p).value
    it._init_auto()
    it.set_input(0, x)
    it.invoke()
    return [it.get_output(i).tobytes() for i in range(len(it.outputs))], calls


def test_default_hook_inline_and_any_task_order(mnv2) -> None:
    """num_threads without a hook splits the layers and runs the parts inline (el_config's
    default); a caller's hook running them in reverse order gives the same bytes too."""
    model = mnv2["i8"]
    x = _int8_inputs(model, mnv2["x"])[0]
    want = _ours(model, x[None], 1)[0]

    inline = Interpreter(model)
    assert inline._config.parallel_for is None
    inline._config.num_threads = 4  # a split with the default (NULL) hook
    inline._init_auto()
    inline.set_input(0, x)
    inline.invoke()
    assert inline.get_output(0).tobytes() == want

    outs, calls = _reverse_hook_run(model, x)
    assert outs[0] == want
    # the layers were split: into 3 tasks (one per thread), the big maps into more bands, int8
    # ones into a guided split of up to sqrt(share) tasks per thread (el_kernel.h,
    # el_guided_range), always a whole number per thread: the last 1x1 conv's 1280 channels
    # (40 groups of 32, 13 or 14 per thread: its 20 groups of 64, the int8 GEMM's pass, would
    # deal 6 / 7 / 7) into 9, the classifier's 1001 units (251 blocks of 4, 83 per thread)
    # into 24, the most on this model (at most 8 per thread)
    assert 3 in calls and calls[-2] == 3 * 3 and max(calls) == calls[-1] == 3 * 8, calls
    assert all(n % 3 == 0 for n in calls), calls


def test_num_threads_refused_loudly() -> None:
    for bad in (0, -1, 257, 2.0, True):
        with pytest.raises(EdgeliteError, match="num_threads"):
            Interpreter(b"\0" * 64, num_threads=bad)


def _add_mul_model(path: Path) -> None:
    """(x + y) * y and x - y on [1, 8, 64, 64]: 32K elements, above the elementwise split."""
    from onnx import TensorProto, helper

    shape = [1, 8, 64, 64]
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["s"]), helper.make_node("Mul", ["s", "y"], ["m"]),
         helper.make_node("Sub", ["m", "x"], ["out"])],
        "elementwise", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape),
                        helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, shape)])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def test_threads_elementwise_same_bytes(tmp_path: Path) -> None:
    """ADD, MUL, SUB of one shape split by element runs: float32 equal to ONNX Runtime, int8
    bit-exact with TFLite Micro, identical bytes for 1, 2 and 4 threads."""
    import onnxruntime as ort

    src = tmp_path / "elementwise.onnx"
    _add_mul_model(src)
    rng = np.random.default_rng(5)
    x, y = (rng.standard_normal((1, 8, 64, 64)).astype(np.float32) for _ in range(2))
    want = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).run(
        None, {"x": x, "y": y})[0]
    f32 = convert_to_bytes(src)
    cal = {k: rng.standard_normal((4, 8, 64, 64)).astype(np.float32) for k in ("x", "y")}
    i8 = quantize(src, QuantizeOptions(calibration=cal, progress=False,
                                       allow_low_sqnr=True)).model
    for model, kind in ((f32, "float"), (i8, "int8")):
        base = Interpreter(model)
        feeds = []
        for d, v in zip(base.inputs, (x, y)):
            v = nhwc(tuple(d.shape), v)
            if kind == "int8":
                v = np.clip(np.round(v / d.scale) + d.zero_point, -128, 127).astype(np.int8)
            feeds.append(v)
        runs = {}
        for n in THREADS:
            it = Interpreter(model, num_threads=n)
            for i, v in enumerate(feeds):
                it.set_input(i, v)
            it.invoke()
            runs[n] = it.get_output(0).tobytes()
        assert runs[1] == runs[2] == runs[4], kind
        if kind == "float":
            got = np.frombuffer(runs[1], dtype=np.float32).reshape(base.outputs[0].shape)
            np.testing.assert_allclose(got, nhwc(got.shape, want), rtol=1e-6, atol=1e-6)
        else:
            from tflite_micro.python.tflite_micro import runtime as tflm

            t = tflm.Interpreter.from_bytes(model, arena_size=1 << 20)
            for i, v in enumerate(feeds):
                t.set_input(v, i)
            t.invoke()
            assert t.get_output(0).tobytes() == runs[1]


def _pad_conv_model(path: Path) -> None:
    """A 1x1 conv to 200 channels on a 12x12 map (its filter outweighs its pixels: split by
    channel windows, the last one not a whole 16), a PAD of height and width, unequal before
    and after (split by rows), then a 3x3 conv; and a PAD of batch, height and channels of the
    input, with a constant that is not 0, to a second output (split by the batch); a 3x3
    depthwise conv of the 200 channels to a third output (int8: split by rows, which deal
    the threads equal shares where channel groups would not); and a 3x3 depthwise conv of
    stride 2 to a 5x5 map, the fourth output (int8: split by channel groups, 16 channels for 2
    and 4 threads, 64 for 3, the last group 8 channels)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(11)
    w1 = numpy_helper.from_array(rng.standard_normal((200, 48, 1, 1)).astype(np.float32) * .2, "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((24, 200, 3, 3)).astype(np.float32) * .05,
                                 "w2")
    p1 = numpy_helper.from_array(np.array([0, 0, 2, 1, 0, 0, 1, 3], np.int64), "p1")
    p2 = numpy_helper.from_array(np.array([0, 5, 100, 0, 1, 3, 80, 0], np.int64), "p2")
    cv = numpy_helper.from_array(np.array(0.5, np.float32), "cv")
    w3 = numpy_helper.from_array(rng.standard_normal((200, 1, 3, 3)).astype(np.float32) * .3, "w3")
    w4 = numpy_helper.from_array(rng.standard_normal((200, 1, 3, 3)).astype(np.float32) * .3, "w4")
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w1"], ["c1"]), helper.make_node("Relu", ["c1"], ["r1"]),
         helper.make_node("Pad", ["r1", "p1"], ["pd"]),
         helper.make_node("Conv", ["pd", "w2"], ["out"]),
         helper.make_node("Pad", ["x", "p2", "cv"], ["out2"]),
         helper.make_node("Conv", ["r1", "w3"], ["out3"], group=200, pads=[1, 1, 1, 1]),
         helper.make_node("Conv", ["r1", "w4"], ["out4"], group=200, strides=[2, 2])],
        "pad_conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 48, 12, 12])],
        [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 24, 13, 14]),
         helper.make_tensor_value_info("out2", TensorProto.FLOAT, [2, 56, 192, 12]),
         helper.make_tensor_value_info("out3", TensorProto.FLOAT, [1, 200, 12, 12]),
         helper.make_tensor_value_info("out4", TensorProto.FLOAT, [1, 200, 5, 5])],
        [w1, w2, p1, p2, cv, w3, w4])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def _split_same_bytes(src: Path, x: np.ndarray, calibration: np.ndarray) -> dict[str, list[int]]:
    """The one-input ONNX model src as float32 and int8 (quantized on `calibration`): 1 to 4
    threads give identical bytes, float32 equal to ONNX Runtime, int8 bit-exact with TFLite
    Micro, and a reverse-order hook on 3 threads the same bytes; returns each kind's task count
    per split (the hook's calls)."""
    import onnxruntime as ort

    want = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    f32 = convert_to_bytes(src)
    i8 = quantize(src, QuantizeOptions(calibration={"x": calibration}, progress=False,
                                       allow_low_sqnr=True)).model
    calls = {}
    for model, kind in ((f32, "float"), (i8, "int8")):
        base = Interpreter(model)
        v = nhwc(tuple(base.inputs[0].shape), x)
        if kind == "int8":
            d = base.inputs[0]
            v = np.clip(np.round(v / d.scale) + d.zero_point, -128, 127).astype(np.int8)
        runs = _runs_by_threads(model, v)
        assert runs[1] == runs[2] == runs[3] == runs[4], kind
        assert_outputs_match_oracles(model, runs[1], v, want)
        outs, calls[kind] = _reverse_hook_run(model, v)
        assert outs == runs[1], kind
    return calls


def test_threads_pad_and_channel_windows_same_bytes(tmp_path: Path) -> None:
    """PAD split by rows, a weight-heavy 1x1 CONV_2D split by output channel windows and int8
    DEPTHWISE_CONV_2Ds split by rows and by 64- and 16-channel groups, the last one partial:
    float32 equal to ONNX Runtime, int8 bit-exact with TFLite Micro, identical bytes for 1 to 4
    threads."""
    src = tmp_path / "pad_conv.onnx"
    _pad_conv_model(src)
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1, 48, 12, 12)).astype(np.float32)
    _split_same_bytes(src, x, rng.standard_normal((8, 48, 12, 12)).astype(np.float32))


def test_run_and_eval_take_threads(digits, tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """edgelite.run / edgelite.evaluate (`edgelite run|eval --threads N`) hand num_threads to
    runtime_micro: the same outputs and figures as one thread, and every interpreter they made
    really got the pool; a bad count is a one-line error (exit 2)."""
    import subprocess
    import sys

    import edgelite
    import edgelite.runtime as runtime_pkg
    from edgelite.runtime import batch

    made: list[int] = []

    class Spy(Interpreter):
        def __init__(self, *args, **kwargs) -> None:
            made.append(kwargs.get("num_threads", 1))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(batch, "Interpreter", Spy)
    monkeypatch.setattr(runtime_pkg, "Interpreter", Spy)  # the float-agreement runners
    model = tmp_path / "digits_i8.tflite"
    model.write_bytes(digits["i8"])
    x = digits["x"]
    one, two = edgelite.run(model, x), edgelite.run(model, x, threads=2)
    assert made == [1, 2]
    assert one.keys() == two.keys() and all(np.array_equal(one[k], two[k]) for k in one)
    data = {"input": x, "label": np.arange(len(x)) % 10}
    made.clear()
    acc = [edgelite.evaluate(model, data, labels="label", threads=n) for n in (1, 4)]
    agree = [edgelite.evaluate(model, data, float_model=digits["src"], threads=n, progress=False)
             for n in (1, 4)]
    assert made == [1, 4, 1, 1, 4, 4], made
    assert dict(acc[0]) == dict(acc[1]) and dict(agree[0]) == dict(agree[1])
    np.save(tmp_path / "x.npy", x)
    proc = subprocess.run([sys.executable, "-m", "edgelite.cli", "run", str(model), "--input",
                           str(tmp_path / "x.npy"), "--threads", "300"], capture_output=True,
                          text=True, check=False)
    assert proc.returncode == 2 and "num_threads" in proc.stderr and \
        len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_threads_float_unary_split_same_bytes(tmp_path: Path) -> None:
    """Float32 LOGISTIC, TANH, HARD_SWISH and LEAKY_RELU of 32,768 elements (MediaPipe's
    segmentation heads run such ops apart from any convolution) split by element runs, and a
    PRELU with one slope per channel (MediaPipe's landmark models) by runs of pixels: equal
    to ONNX Runtime within float rounding, identical bytes for 1 to 4 threads, and a hook
    receives every one of them split (a whole number of tasks per thread)."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    ops = [("Sigmoid", {}), ("Tanh", {}), ("HardSwish", {}), ("LeakyRelu", {"alpha": 0.2})]
    # slopes along the last axis (channels-last, as the MediaPipe files have them)
    slope = numpy_helper.from_array(np.linspace(-0.5, 0.7, 64, dtype=np.float32), "slope")
    graph = helper.make_graph(
        [*(helper.make_node(op, ["x"], [f"y{i}"], **attrs) for i, (op, attrs) in enumerate(ops)),
         helper.make_node("PRelu", ["x", "slope"], [f"y{len(ops)}"])],
        "unary", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 64, 64])],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [1, 8, 64, 64])
         for i in range(len(ops) + 1)], [slope])
    src = tmp_path / "unary.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]), str(src))
    x = (np.random.default_rng(8).standard_normal((1, 8, 64, 64)) * 6).astype(np.float32)
    want = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    model = convert_to_bytes(src)
    v = nhwc(tuple(Interpreter(model).inputs[0].shape), x)
    runs = _runs_by_threads(model, v)
    assert runs[1] == runs[2] == runs[3] == runs[4]
    for got, w in zip(runs[1], want):
        got = np.frombuffer(got, np.float32).reshape(v.shape)
        np.testing.assert_allclose(got, nhwc(got.shape, w), rtol=1e-6, atol=1e-6)

    outs, calls = _reverse_hook_run(model, v)
    assert outs == runs[1]
    # 32,768 elements = 512 runs of 64, 170 per thread: 8 tasks each (at most 8); the PRELU's
    # 512 rows of 64 slopes as many
    assert calls == [3 * 8] * (len(ops) + 1), calls


def test_threads_pools_split_by_rows_same_bytes(tmp_path: Path) -> None:
    """MAX_POOL_2D and AVERAGE_POOL_2D split by output rows (a band reads the input from its
    first window's top, keeping the padding above it when it has some): a 3x3 stride-2 SAME
    max pool, a 3x3 stride-1 SAME average pool (windows clipped at every border) and a 2x2
    VALID max pool of a 65x65x16 map. float32 equal to ONNX Runtime, int8 bit-exact with
    TFLite Micro, identical bytes for 1 to 4 threads, and a hook receives every pool split."""
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["x"], ["y0"], kernel_shape=[3, 3], strides=[2, 2],
                          pads=[1, 1, 1, 1]),
         helper.make_node("AveragePool", ["x"], ["y1"], kernel_shape=[3, 3], strides=[1, 1],
                          pads=[1, 1, 1, 1], count_include_pad=0),
         helper.make_node("MaxPool", ["x"], ["y2"], kernel_shape=[2, 2], strides=[2, 2])],
        "pools", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 65, 65])],
        [helper.make_tensor_value_info("y0", TensorProto.FLOAT, [1, 16, 33, 33]),
         helper.make_tensor_value_info("y1", TensorProto.FLOAT, [1, 16, 65, 65]),
         helper.make_tensor_value_info("y2", TensorProto.FLOAT, [1, 16, 32, 32])])
    src = tmp_path / "pools.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(src))
    rng = np.random.default_rng(9)
    calls = _split_same_bytes(src, rng.standard_normal((1, 16, 65, 65)).astype(np.float32),
                              rng.standard_normal((4, 16, 65, 65)).astype(np.float32))
    # the pools' 33, 65 and 32 output rows on 3 threads: shares of 11, 21 and 10 rows, each cut
    # into at most 4 guided tasks, and at most sqrt(share): 3, 4 and 3 per thread
    assert calls == {"float": [9, 12, 9], "int8": [9, 12, 9]}, calls


def test_threads_float_transpose_conv_and_resize_split_same_bytes(tmp_path: Path) -> None:
    """Float32 TRANSPOSE_CONV splits by bands of output rows, one per thread, each running the
    GEMM over the input rows that reach its rows (a 3x3 stride-2 layer: neighbouring bands
    share an input row; a 2x2 stride-2 one: they share none), and float32 RESIZE_BILINEAR by
    output rows (a guided split): equal to ONNX Runtime, identical bytes for 1 to 4 threads and
    in reverse task order, and the hook receives the splits (int8 TRANSPOSE_CONV and
    RESIZE_BILINEAR stay one call: bit-exact with TFLite Micro all the same)."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(13)
    w1 = numpy_helper.from_array(rng.standard_normal((16, 8, 3, 3)).astype(np.float32) * .2, "w1")
    w2 = numpy_helper.from_array(rng.standard_normal((8, 4, 2, 2)).astype(np.float32) * .3, "w2")
    b2 = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b2")
    graph = helper.make_graph(
        [helper.make_node("ConvTranspose", ["x", "w1"], ["t1"], strides=[2, 2], pads=[1, 1, 1, 1],
                          output_padding=[1, 1]),
         helper.make_node("Relu", ["t1"], ["r1"]),
         helper.make_node("ConvTranspose", ["r1", "w2", "b2"], ["y"], strides=[2, 2]),
         helper.make_node("Resize", ["r1", "", "scales"], ["z"], mode="linear",
                          coordinate_transformation_mode="half_pixel")],
        "tconv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 16, 24, 24])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 96, 96]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 8, 72, 72])],
        [w1, w2, b2, numpy_helper.from_array(np.array([1, 1, 1.5, 1.5], np.float32), "scales")])
    src = tmp_path / "tconv.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(src))
    calls = _split_same_bytes(src, rng.standard_normal((1, 16, 24, 24)).astype(np.float32),
                              rng.standard_normal((4, 16, 24, 24)).astype(np.float32))
    # 3 threads: a band of output rows each; the RELU between them runs as its own op (24
    # guided tasks of 64-float vectors); the 72 rows of the resize in 12 guided tasks
    assert sorted(calls["float"]) == [3, 3, 12, 24], calls


def test_threads_broadcast_binary_split_same_bytes(tmp_path: Path) -> None:
    """ADD, SUB and MUL whose one operand repeats along the other (a value per channel: a
    squeeze-and-excitation scale computed from the map, a constant per channel, the repeating
    operand first or second) split by rows of the channel period: float32 equal to ONNX
    Runtime, int8 bit-exact with TFLite Micro, identical bytes for 1 to 4 threads, and a hook
    receives each of the three split."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(12)
    # channels last (as TFLite files are): ONNX broadcasts the trailing dims
    c = numpy_helper.from_array(rng.standard_normal((1, 1, 1, 16)).astype(np.float32), "c")
    axes = numpy_helper.from_array(np.array([1, 2], np.int64), "axes")
    graph = helper.make_graph(
        [helper.make_node("ReduceMean", ["x", "axes"], ["g"], keepdims=1),
         helper.make_node("Sigmoid", ["g"], ["s"]),
         helper.make_node("Mul", ["x", "s"], ["y0"]),
         helper.make_node("Add", ["c", "x"], ["y1"]),
         helper.make_node("Sub", ["x", "c"], ["y2"])],
        "bcast", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 64, 64, 16])],
        [helper.make_tensor_value_info(f"y{i}", TensorProto.FLOAT, [1, 64, 64, 16])
         for i in range(3)], [c, axes])
    src = tmp_path / "bcast.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), str(src))
    calls = _split_same_bytes(src, rng.standard_normal((1, 64, 64, 16)).astype(np.float32),
                              rng.standard_normal((4, 64, 64, 16)).astype(np.float32))
    # 64 x 64 rows of 16 channels on 3 threads: 8 guided tasks per thread, for each op
    assert calls == {"float": [24, 24, 24], "int8": [24, 24, 24]}, calls
