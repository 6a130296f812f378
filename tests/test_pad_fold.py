"""A PAD folded into the convolution that reads it (runtime_micro/src/el_interp.c, fold_pad):
hosted builds with the optimized kernels, the greedy planner and no op callback skip a PAD of
height and width whose only reader is a VALID CONV_2D / DEPTHWISE_CONV_2D, which then reads the
PAD's input with that padding; the padded copy gets no arena memory.

- float32 equals ONNX Runtime, int8 is bit-exact with TFLite Micro, and both are the same bytes
  as the unfolded run (an op callback turns the fold off), for 1 to 3 threads;
- the fold happened (the padded tensor has no memory; its shape stays the model's) and the
  arena is smaller than the unfolded one;
- PADs the fold must leave alone (two readers, a constant that is not the zero point, a SAME
  reader, padding of channels, padding as tall as the filter) give the unfolded arena.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgelite.converter.pipeline import convert_to_bytes
from edgelite.quantize.api import QuantizeOptions, quantize
from edgelite.runtime import Interpreter
from helpers.tflite_checks import assert_outputs_match_oracles, nhwc

SHAPE = (1, 24, 23, 18)


def _w(rng: np.random.Generator, name: str, shape: tuple, scale: float = 0.2):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * scale, name)


def _pads(name: str, v: list[int]):
    return numpy_helper.from_array(np.array(v, np.int64), name)


def _save(nodes: list, name: str, outputs: list[str], inits: list, path: Path) -> None:
    """The graph x -> nodes -> outputs, the outputs' shapes from ONNX's shape inference."""
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, list(SHAPE))
    probe = helper.make_model(helper.make_graph(nodes, name, [x], [
        helper.make_empty_tensor_value_info(o) for o in outputs], inits),
        opset_imports=[helper.make_opsetid("", 13)])
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in onnx.shape_inference.infer_shapes(probe).graph.value_info}
    graph = helper.make_graph(nodes, name, [x], [
        helper.make_tensor_value_info(o, TensorProto.FLOAT, shapes[o]) for o in outputs], inits)
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))


def _folded_graph(path: Path) -> None:
    """Every PAD but one here is one the fold takes:
    - a torch-style 3x3 stride-2 conv (pads 1 on a 23x18 map: the converter's PAD + VALID);
    - an explicit PAD of 2 rows on top and 2 columns on the right, then a 3x3 depthwise conv
      at stride 1 (all the padding on one side, which no SAME layer has);
    - an explicit PAD then a 3x3 depthwise conv at dilation 2 and stride 2;
    - a 1x1 conv to 1100 channels, an explicit PAD of 0.5 by 1 row on top and bottom, then a
      3x3 stride-1 depthwise conv with 1 column of padding left and right: 1100 channels make
      the kernel copy its edge rows and columns in several pieces. The converter writes the
      conv's padding as a second PAD (of zero) after the first: the second is folded, the
      first (a fill of 0.5, read by a PAD) is not. (With the same fill the converter would
      have merged the two, merge_pads.)"""
    rng = np.random.default_rng(3)
    inits = [
        _w(rng, "w1", (32, 24, 3, 3), 0.1), _pads("p2", [0, 0, 2, 0, 0, 0, 0, 2]),
        _w(rng, "w2", (32, 1, 3, 3)), _pads("p3", [0, 0, 1, 2, 0, 0, 3, 1]),
        _w(rng, "w3", (32, 1, 3, 3)), _w(rng, "w4", (1100, 32, 1, 1), 0.1),
        _pads("p5", [0, 0, 1, 1, 0, 0, 0, 0]), _w(rng, "w5", (1100, 1, 3, 3)),
        numpy_helper.from_array(np.array(0.5, np.float32), "cv5"),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Pad", ["r1", "p2"], ["q2"]),
        helper.make_node("Conv", ["q2", "w2"], ["c2"], group=32),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Pad", ["r2", "p3"], ["q3"]),
        helper.make_node("Conv", ["q3", "w3"], ["c3"], group=32, dilations=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Relu", ["c3"], ["r3"]),
        helper.make_node("Conv", ["r1", "w4"], ["c4"]),
        helper.make_node("Relu", ["c4"], ["r4"]),
        helper.make_node("Pad", ["r4", "p5", "cv5"], ["q5"]),
        helper.make_node("Conv", ["q5", "w5"], ["c5"], group=1100, pads=[0, 1, 0, 1]),
    ]
    _save(nodes, "folded", ["r3", "c5"], inits, path)


def _kept_graph(path: Path) -> None:
    """PADs the fold leaves alone: read by two convs; a constant of 0.5; padding 3 rows for a
    3-row filter (a window all padding); padding of channels; a reader with SAME padding
    (the converter's stride-1 3x3 conv with pads 1 after an explicit PAD)."""
    rng = np.random.default_rng(4)
    inits = [
        _pads("pa", [0, 0, 1, 1, 0, 0, 1, 1]), _w(rng, "wa", (8, 24, 3, 3), 0.1),
        _w(rng, "wb", (8, 24, 3, 3), 0.1),
        _pads("pc", [0, 0, 1, 1, 0, 0, 1, 1]), numpy_helper.from_array(np.array(0.5, np.float32),
                                                                        "cv"),
        _w(rng, "wc", (8, 24, 3, 3), 0.1),
        _pads("pd", [0, 0, 3, 0, 0, 0, 0, 0]), _w(rng, "wd", (8, 24, 3, 3), 0.1),
        _pads("pe", [0, 2, 1, 0, 0, 2, 1, 0]), _w(rng, "we", (8, 28, 3, 3), 0.1),
        _pads("pf", [0, 0, 0, 1, 0, 0, 1, 0]), _w(rng, "wf", (8, 24, 3, 3), 0.1),
    ]
    nodes = [
        helper.make_node("Pad", ["x", "pa"], ["qa"]),
        helper.make_node("Conv", ["qa", "wa"], ["ya"]),
        helper.make_node("Conv", ["qa", "wb"], ["yb"], strides=[2, 2]),
        helper.make_node("Pad", ["x", "pc", "cv"], ["qc"]),
        helper.make_node("Conv", ["qc", "wc"], ["yc"]),
        helper.make_node("Pad", ["x", "pd"], ["qd"]),
        helper.make_node("Conv", ["qd", "wd"], ["yd"]),
        helper.make_node("Pad", ["x", "pe"], ["qe"]),
        helper.make_node("Conv", ["qe", "we"], ["ye"]),
        helper.make_node("Pad", ["x", "pf"], ["qf"]),
        helper.make_node("Conv", ["qf", "wf"], ["yf"], pads=[1, 1, 1, 1]),
    ]
    _save(nodes, "kept", ["ya", "yb", "yc", "yd", "ye", "yf"], inits, path)


def _models(src: Path) -> tuple[bytes, bytes]:
    rng = np.random.default_rng(8)
    f32 = convert_to_bytes(src)
    i8 = quantize(src, QuantizeOptions(
        calibration={"x": rng.standard_normal((8,) + SHAPE[1:]).astype(np.float32)},
        progress=False, allow_low_sqnr=True)).model
    return f32, i8


def _run(it: Interpreter, v: np.ndarray) -> list[bytes]:
    it.set_input(0, v)
    it.invoke()
    return [it.get_output(i).tobytes() for i in range(len(it.outputs))]


def _folded(model: bytes, it: Interpreter) -> list[bool]:
    """Per PAD of the model, whether the interpreter folded it: the padded tensor is then never
    written and has no memory (its shape stays the model's)."""
    from edgelite.tflite.reader import read_model

    sg = read_model(model).subgraphs[0]
    out = []
    for op in sg.operators:
        if op.op in ("PAD", "PADV2"):
            t = op.outputs[0]
            assert it.tensor_details(t).shape == tuple(sg.tensors[t].shape)
            out.append(not it._info(it._lib.el_tensor_info_at, t).data)
    return out


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_folded_pads_same_bytes_as_the_oracles_and_unfolded(tmp_path: Path, kind: str) -> None:
    import onnxruntime as ort

    src = tmp_path / "folded.onnx"
    _folded_graph(src)
    f32, i8 = _models(src)
    model = f32 if kind == "float" else i8
    x = np.random.default_rng(5).standard_normal(SHAPE).astype(np.float32)
    base = Interpreter(model)
    v = nhwc(tuple(base.inputs[0].shape), x)
    if kind == "int8":
        d = base.inputs[0]
        v = np.clip(np.round(v / d.scale) + d.zero_point, -128, 127).astype(np.int8)
    unfolded = Interpreter(model, callback=lambda *a: None)
    want = _run(unfolded, v)
    for n in (1, 2, 3):
        assert _run(Interpreter(model, num_threads=n), v) == want, n
    assert _folded(model, base) == [True, True, True, False, True]
    assert _folded(model, unfolded) == [False] * 5
    assert base.arena_bytes < unfolded.arena_bytes
    ref = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"]).run(None, {"x": x})
    assert_outputs_match_oracles(model, want, v, ref)


def test_pads_the_fold_leaves_alone(tmp_path: Path) -> None:
    src = tmp_path / "kept.onnx"
    _kept_graph(src)
    f32, i8 = _models(src)
    x = np.random.default_rng(6).standard_normal(SHAPE).astype(np.float32)
    for model in (f32, i8):
        base = Interpreter(model)
        unfolded = Interpreter(model, callback=lambda *a: None)
        assert _folded(model, base) == [False] * 5
        assert base.arena_bytes == unfolded.arena_bytes
        v = nhwc(tuple(base.inputs[0].shape), x)
        if base.inputs[0].dtype == np.int8:
            d = base.inputs[0]
            v = np.clip(np.round(v / d.scale) + d.zero_point, -128, 127).astype(np.int8)
        assert _run(base, v) == _run(unfolded, v)


@pytest.mark.parametrize("reference", [False, True])
def test_bench_of_a_model_with_folded_pads(tmp_path: Path, reference: bool) -> None:
    """`edgelite bench` sizes the profiling pass (a callback: no fold) and the reference
    kernels (no fold) by their own need, which is larger than the folded arena it reports (it
    failed with "arena too small" before), and says which PADs the timed invokes fold."""
    from edgelite.bench.api import BenchConfig, run_bench

    src = tmp_path / "folded.onnx"
    _folded_graph(src)
    path = tmp_path / "folded.tflite"
    path.write_bytes(_models(src)[1])
    report = run_bench(BenchConfig(model=path, warmup=1, runs=3, reference_kernels=reference))
    assert report.profile is not None and report.profile.invokes >= 1
    assert sum(o.op in ("PAD", "PADV2") for o in report.profile.ops) == 5
    note = [n for n in report.notes if "folded" in n]
    if reference:
        assert note == []
    else:
        assert note == ["4 op(s) (#0, #2, #4, #8) are folded in the timed invokes (PADs and "
                        "activations into their convolutions, float16 weights densified and "
                        "dequantized at init); the per-op profile, run with a callback, runs "
                        "them"]


def test_export_header_and_inspect_arena_per_build(tmp_path: Path) -> None:
    """`edgelite export` of a model with folded PADs: NAME_ARENA_SIZE is the folded arena on
    x86-64 / aarch64, the unfolded one on other hosted builds (32-bit ARM: no fold), and the
    reference kernels' on Cortex-M; each is what el_init needs there (the host's three
    configurations stand for them)."""
    from edgelite.export.api import export_model
    from edgelite.runtime import _lib

    src = tmp_path / "folded.onnx"
    _folded_graph(src)
    model = tmp_path / "m.tflite"
    model.write_bytes(_models(src)[1])
    export_model(model, tmp_path / "c")
    header = (tmp_path / "c" / "m.h").read_text()
    from edgelite.inspect import inspect_file, render_text

    report = inspect_file(model)
    data = model.read_bytes()
    folded = Interpreter(data).arena_bytes
    unfolded = Interpreter(data, callback=lambda *a: None).arena_bytes
    micro = Interpreter(data, disable_isa=_lib.ISA_ALL).arena_bytes
    assert folded < unfolded and micro < unfolded
    assert (f"#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'\n"
            f"#define M_ARENA_SIZE {micro}u /* el_init arena bytes */\n"
            f"#elif defined(__x86_64__) || defined(__aarch64__) /* int8 filter sums and packed "
            f"filters kept, PADs folded */\n#define M_ARENA_SIZE {folded}u\n"
            f"#else /* other hosted builds: no PAD folded (an upper bound: no packed filter) "
            f"*/\n"
            f"#define M_ARENA_SIZE {unfolded}u\n#endif") in header
    # `edgelite inspect` gives the three sizes too
    assert (report["arena_bytes"], report["arena_bytes_cortex_m"],
            report["arena_bytes_unfolded"]) == (folded, micro, unfolded)
    assert (f"arena (runtime_micro): {folded:,} bytes (Cortex-M builds: {micro:,}; no PAD "
            f"folded, hosts other than x86-64 / aarch64: {unfolded:,})") in render_text(report)
