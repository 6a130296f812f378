"""Sparse tensors end to end (TFLite SparsityParameters).

- The writer stores pruned constants (``ir.Tensor.sparse``) in the sparse form with a DENSIFY
  op when that saves bytes; LiteRT runs those files with the outputs of the dense file, our
  reader reads them back to the same IR values.
- runtime_micro reads sparse int8 and float weights of FULLY_CONNECTED, CONV_2D and
  DEPTHWISE_CONV_2D directly (it skips the DENSIFY): int8 outputs equal the dense model's and
  TFLite Micro's bit for bit, float outputs equal the dense model's, and the arena is no larger
  than the dense model's.
- MediaPipe's face_detection_full_range_sparse.tflite (sparse float16 weights behind DENSIFY and
  DEQUANTIZE) loads in the reader, inspect and run, and runs in runtime_micro within 1e-4 of
  LiteRT on a real photo.
- Malformed sparsity fields are refused by the reader and by runtime_micro, naming the tensor.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import ai_edge_litert.interpreter as litert
import numpy as np
import pytest
from tflite_micro.python.tflite_micro import runtime as tflm

from edgelite import ir
from edgelite.errors import EdgeliteError
from edgelite.runtime import Interpreter
from edgelite.tflite import sparsity as SP
from edgelite.tflite.reader import read_model, to_ir
from edgelite.tflite.writer import write_model

MEDIAPIPE_SPARSE = "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite"


from helpers.folds import folded_and_unfolded  # noqa: E402
from helpers.sparse_cnn import SEED, cnn, models, pruned, q, sample  # noqa: E402,F401


def run_ours(model: bytes, x: np.ndarray) -> np.ndarray:
    it = Interpreter(model)
    it.set_input(0, x)
    it.invoke()
    return it.get_output(0)


def run_litert(model: bytes, x: np.ndarray,
               resolver=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES) -> np.ndarray:
    li = litert.Interpreter(model_content=model, experimental_op_resolver_type=resolver)
    li.allocate_tensors()
    li.set_tensor(li.get_input_details()[0]["index"], x)
    li.invoke()
    return li.get_tensor(li.get_output_details()[0]["index"])


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_writer_stores_pruned_weights_sparse_and_reads_them_back(dtype):
    dense, sparse = models(dtype)
    # 25 % kept: weights shrink to about 0.4x (float) and 0.77x (int8: the 1152-wide dense
    # layer needs two index bytes per kept value)
    assert len(sparse) < (0.45 if dtype == "float32" else 0.8) * len(dense), (len(sparse),
                                                                              len(dense))
    info = read_model(sparse)
    stored = [t for t in info.subgraphs[0].tensors if t.sparsity is not None]
    # Only where it saves bytes (the 216 int8 depthwise weights stay dense).
    names = sorted(t.name for t in stored)
    assert names == (["w1/sparse", "w2/sparse", "w3/sparse", "w5/sparse"] if dtype == "float32"
                     else ["w1/sparse", "w3/sparse", "w5/sparse"])
    # int8 FULLY_CONNECTED weights from DENSIFY make LiteRT's XNNPACK delegate fail: that
    # layer is written as RESHAPE -> CONV_2D 1x1 -> RESHAPE, same product, same rounding.
    ops = [o.op for o in info.subgraphs[0].operators]
    assert ("FULLY_CONNECTED" in ops) == (dtype == "float32")
    assert [o.op for o in info.subgraphs[0].operators].count("DENSIFY") == len(stored)
    for t in stored:  # output channel outermost (dimension 3 for the depthwise filter)
        assert t.sparsity.traversal_order[0] == (3 if t.name == "w2/sparse" else 0)
    # Round trip: the IR read back has the same weights, dense, marked sparse, DENSIFY gone.
    g_in = cnn(np.random.default_rng(SEED), dtype, sparse=True)
    g_out = to_ir(read_model(sparse))
    assert "DENSIFY" not in [o.type for o in g_out.ops]
    want = {t.name: t for t in g_in.tensors() if t.is_const}
    for t in g_out.tensors():
        if t.is_const and t.name in want:
            np.testing.assert_array_equal(t.data, want[t.name].data)  # w5 folded back to 2-D
            assert t.sparse == (f"{t.name}/sparse" in names)  # stored sparse: marked so
    # ...and writing it again gives the same bytes (deterministic).
    assert write_model(g_out) == sparse
    assert write_model(cnn(np.random.default_rng(SEED), dtype, sparse=True)) == sparse


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_litert_runs_our_sparse_files_like_the_dense_ones(dtype):
    dense, sparse = models(dtype)
    for x in sample(dtype):
        for resolver in (litert.OpResolverType.BUILTIN_REF,
                         litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                         litert.OpResolverType.AUTO):  # AUTO: the default, with XNNPACK
            np.testing.assert_array_equal(run_litert(sparse, x, resolver),
                                          run_litert(dense, x, resolver))


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_block_pruned_weights_are_stored_in_blocks(dtype):
    """Weights pruned in blocks of 4 consecutive input channels: the writer stores one index
    per block (TFLite's block map), which is smaller than one per value, and LiteRT (reference,
    builtin and its default XNNPACK delegate) and runtime_micro run the file like the dense
    one."""
    def build(sparse: bool) -> bytes:
        return write_model(cnn(np.random.default_rng(SEED), dtype, sparse, block=4))

    dense, sparse = build(False), build(True)
    info = read_model(sparse)
    blocked = {t.name: t.sparsity for t in info.subgraphs[0].tensors
               if t.sparsity is not None and t.sparsity.block_map}
    # the 3x3 and 1x1 convolutions and the dense layer; the depthwise filter's innermost
    # stored dimension (3 taps) takes no block
    assert sorted(blocked) == ["w1/sparse", "w3/sparse", "w5/sparse"], sorted(blocked)
    for sp in blocked.values():
        assert sp.dim_metadata[-1].format == SP.DENSE and sp.dim_metadata[-1].dense_size in (
            2, 4)
    unblocked = write_model(cnn(np.random.default_rng(SEED), dtype, True, block=1))
    assert len(sparse) < len(unblocked) < len(dense), (len(sparse), len(unblocked), len(dense))
    for x in sample(dtype):
        # LiteRT runs the sparse file like the dense one (int8: its FULLY_CONNECTED and the
        # 1x1 convolution the sparse file holds instead derive their per-channel multipliers
        # apart, a step at most; float: the same ops)
        for resolver in (litert.OpResolverType.BUILTIN_REF,
                         litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
                         litert.OpResolverType.AUTO):
            got = run_litert(sparse, x, resolver).astype(np.float64)
            want = run_litert(dense, x, resolver).astype(np.float64)
            assert np.abs(got - want).max() <= (1 if dtype == "int8" else 0), resolver
        got, want = run_ours(sparse, x), run_ours(dense, x)
        if dtype == "int8":  # bit-exact with the dense file, which TFLite Micro runs alike
            np.testing.assert_array_equal(got, want)
            micro = tflm.Interpreter.from_bytes(dense)
            micro.set_input(x, 0)
            micro.invoke()
            np.testing.assert_array_equal(want, micro.get_output(0))
        else:
            np.testing.assert_allclose(got, want, atol=1e-5 * float(np.abs(want).max()))


@pytest.mark.parametrize("dtype", ["float32", "int8"])
def test_runtime_micro_runs_sparse_weights_directly(dtype):
    dense, sparse = models(dtype)
    it_dense, it_sparse = Interpreter(dense), Interpreter(sparse)
    # No dense copy of any weight in the arena (the DENSIFY ops are skipped): the sparse model
    # needs at most the dense one's arena plus the bookkeeping of its 4 extra ops and tensors,
    # far less than the 7 kB of float (or 2 kB of int8) weights a dense copy would take.
    assert it_sparse.arena_bytes <= it_dense.arena_bytes + 4 * 96, (
        it_sparse.arena_bytes, it_dense.arena_bytes)
    for x in sample(dtype):
        got, want = run_ours(sparse, x), run_ours(dense, x)
        if dtype == "int8":
            np.testing.assert_array_equal(got, want)  # int8 bit-exact
        else:  # the dense path's GEMM uses fused multiply-adds, the sparse path does not
            np.testing.assert_allclose(got, want, atol=1e-5 * float(np.abs(want).max()))
        ref = run_litert(dense, x, litert.OpResolverType.BUILTIN_REF)
        if dtype == "int8":
            np.testing.assert_array_equal(got, ref)
        else:
            np.testing.assert_allclose(got, ref, atol=1e-5 * float(np.abs(ref).max()))


def test_runtime_micro_sparse_arena_not_above_dense():
    """Weights stored sparse and read by the ops directly: arena no larger than dense."""
    for dtype in ("float32", "int8"):
        dense, sparse = models(dtype)
        direct, plan = SP.wire_sparse_directly(cnn(np.random.default_rng(SEED), dtype, True))
        from edgelite.tflite.writer import _Writer

        model = _Writer(direct, "edgelite", plan).build()
        enc = plan.encodings
        assert len(enc) == (4 if dtype == "float32" else 3)  # every pruned layer sparse
        it, it_dense = Interpreter(model), Interpreter(dense)
        assert it.arena_bytes <= it_dense.arena_bytes, (it.arena_bytes, it_dense.arena_bytes)
        for x in sample(dtype, 2):
            got, want = run_ours(model, x), run_ours(dense, x)
            if dtype == "int8":
                np.testing.assert_array_equal(got, want)
            else:  # dense float: fused multiply-adds in the GEMM
                np.testing.assert_allclose(got, want, atol=1e-5 * float(np.abs(want).max()))
            # and LiteRT's builtin kernels on the same file (its sparse FULLY_CONNECTED path)
            if dtype == "int8":
                np.testing.assert_array_equal(
                    got, run_litert(dense, x, litert.OpResolverType.BUILTIN_REF))


# ---- MediaPipe -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def mediapipe_sparse():
    from helpers.wheel_files import MEDIAPIPE, wheel_member

    return wheel_member(MEDIAPIPE, MEDIAPIPE_SPARSE)


def face_photo() -> np.ndarray:
    from skimage import data, transform

    img = transform.resize(data.astronaut()[:256, 96:352], (192, 192), anti_aliasing=True)
    return (img[None].astype(np.float32) * 2.0 - 1.0).astype(np.float32)


def test_mediapipe_sparse_runs_in_runtime_micro_like_litert(mediapipe_sparse):
    x = face_photo()
    model = mediapipe_sparse.read_bytes()
    it = Interpreter(model)
    it.set_input(0, x)
    it.invoke()
    li = litert.Interpreter(
        model_content=model,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    li.allocate_tensors()
    li.set_tensor(li.get_input_details()[0]["index"], x)
    li.invoke()
    for i, d in enumerate(li.get_output_details()):
        ref = li.get_tensor(d["index"])
        got = it.get_output(i)
        assert got.shape == ref.shape
        # absolute: 6.5e-5 measured with the reference float kernels, 1.2e-4 with the fused
        # multiply-add GEMM, for outputs up to 290 in magnitude (1e-6 of it)
        assert float(np.abs(got - ref).max()) <= 1e-6 * max(float(np.abs(ref).max()), 100.0)
    # the astronaut's face is found (best anchor's score logit 2.25: p = 0.90)
    assert float(it.get_output(1).max()) > 1.0


def test_mediapipe_sparse_weights_are_densified_once_at_init(mediapipe_sparse):
    """Hosted CPUs compute each DENSIFY -> DEQUANTIZE pair of constant sparse float16 weights
    once, at init, straight to float32 (the pair took 19 of pose detection's 33 ms per
    invoke): the same outputs as the interpreter with an op callback, which keeps running
    both ops at every invoke, and neither op runs in the timed interpreter."""
    folded, unfolded, ran = folded_and_unfolded(mediapipe_sparse.read_bytes(), face_photo())
    for i in range(len(folded.outputs)):
        assert np.array_equal(folded.get_output(i), unfolded.get_output(i))
    ops = folded._file().subgraphs[0].operators
    densify = [op for op in ops if op.op == "DENSIFY"]
    pairs = [op for op in ops if op.op == "DEQUANTIZE"
             and any(d.outputs[0] == op.inputs[0] for d in densify)]
    assert len(densify) == len(pairs) > 20
    assert ran.count(124) == len(densify)  # DENSIFY is builtin 124: run with the callback
    folded_ops = set(folded.folded_ops())
    assert {op.index for op in densify + pairs} <= folded_ops
    for d, dq in zip(densify, pairs):
        # float32 weights kept as constants; the float16 dense copy never exists
        info = folded._info(folded._lib.el_tensor_info_at, dq.outputs[0])
        assert info.is_const and info.data
        assert not folded._info(folded._lib.el_tensor_info_at, d.outputs[0]).data
    assert folded.arena_bytes > unfolded.arena_bytes  # the float32 weights are in the arena


def test_mediapipe_sparse_reader_densifies_like_litert(mediapipe_sparse):
    model = mediapipe_sparse.read_bytes()
    info = read_model(model)
    sg = info.subgraphs[0]
    li = litert.Interpreter(
        model_content=model, experimental_preserve_all_tensors=True,
        experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
    li.allocate_tensors()
    li.set_tensor(li.get_input_details()[0]["index"], face_photo())
    li.invoke()
    densify = [o for o in sg.operators if o.op == "DENSIFY"]
    assert len(densify) == 46
    for o in densify:
        t = sg.tensors[o.inputs[0]]
        values = np.frombuffer(info.buffers[t.buffer].data, np.float16)
        np.testing.assert_array_equal(SP.densify(t.sparsity, t.shape, values),
                                      li.get_tensor(o.outputs[0]))
    g = to_ir(info)
    assert "DENSIFY" not in [o.type for o in g.ops]
    assert sum(t.sparse for t in g.tensors()) == 46


def test_mediapipe_sparse_inspect_and_run(mediapipe_sparse, tmp_path):
    from click.testing import CliRunner

    from edgelite.cli import cli as main

    runner = CliRunner()
    res = runner.invoke(main, ["inspect", str(mediapipe_sparse), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    tensors = report["subgraphs"][0]["tensors"]
    sparse = [t for t in tensors if t["sparsity"]]
    assert len(sparse) == 46
    assert sparse[0]["sparsity"]["levels"][-1]["format"] == "SPARSE_CSR"
    assert report["arena_bytes"] and report["arena_bytes"] > 0
    res = runner.invoke(main, ["inspect", str(mediapipe_sparse)])
    assert res.exit_code == 0 and "SPARSE" in res.output.upper()
    np.save(tmp_path / "x.npy", face_photo())
    res = runner.invoke(main, ["run", str(mediapipe_sparse), "--input", str(tmp_path / "x.npy"),
                               "-o", str(tmp_path / "y.npy")])
    assert res.exit_code == 0, res.output


# ---- malformed sparsity and the C tests ----------------------------------------------------

CORPUS = Path(__file__).resolve().parents[1] / "runtime_micro" / "corpus"
SPARSE_C_TESTS = Path(__file__).resolve().parents[1] / "runtime_micro" / "tests" / "sparse"


def _manifest() -> dict[str, str]:
    entries = {}
    for line in (CORPUS / "MANIFEST.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, status = line.split()[:2]
            entries[name] = status
    return entries


def test_corpus_sparse_models_run_like_litert():
    """The corpus's valid sparse models (FULLY_CONNECTED reading sparse weights, and the same
    weights through a DENSIFY that is also an output) give LiteRT's outputs."""
    x = np.array([[0.5, -1.0, 2.0, 0.25]], np.float32)
    for name in ("valid_sparse_fc", "valid_sparse_densify"):
        model = (CORPUS / f"{name}.tflite").read_bytes()
        it = Interpreter(model)
        it.set_input(0, x)
        it.invoke()
        # LiteRT's builtin kernels (its default XNNPACK delegate reads sparse weights fed
        # straight into FULLY_CONNECTED as if they were dense: a delegate limitation)
        li = litert.Interpreter(
            model_content=model,
            experimental_op_resolver_type=litert.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)
        li.allocate_tensors()
        li.set_tensor(li.get_input_details()[0]["index"], x)
        li.invoke()
        for i, d in enumerate(li.get_output_details()):
            np.testing.assert_allclose(it.get_output(i), li.get_tensor(d["index"]), rtol=1e-6)


def test_reader_refuses_every_malformed_sparse_corpus_model():
    """Each bad_sparse_* file that runtime_micro calls an invalid model is refused by the
    Python reader too, with one error naming the tensor and the field."""
    bad = [n for n, s in _manifest().items()
           if n.startswith("bad_sparse_") and s == "EL_ERROR_INVALID_MODEL"]
    assert len(bad) >= 15
    for name in bad:
        data = (CORPUS / f"{name}.tflite").read_bytes()
        with pytest.raises(EdgeliteError) as err:
            to_ir(read_model(data, source=name))
        text = str(err.value)
        assert "'w'" in text and ("sparsity" in text or "sparse" in text), (name, text)


def test_reader_error_names_the_tensor_and_the_problem():
    data = (CORPUS / "bad_sparse_segments_go_down.tflite").read_bytes()
    with pytest.raises(EdgeliteError, match=r"tensor 1 \('w'\) sparsity: dim_metadata\[1\] "
                                            r"\(dimension 1\): array_segments must rise"):
        read_model(data, source="x.tflite")
    data = (CORPUS / "bad_sparse_index_out_of_range.tflite").read_bytes()
    with pytest.raises(EdgeliteError, match=r"an index lies outside 0\.\.3"):
        read_model(data)


def test_runtime_micro_refuses_sparse_input_of_other_ops():
    data = (CORPUS / "bad_sparse_add_input.tflite").read_bytes()
    with pytest.raises(EdgeliteError, match="ADD: input 1 is a sparse tensor"):
        Interpreter(data)


def _run_sparse_c_test(target: str, tmp: Path) -> str:
    if target != "host":
        import sys

        sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
        import arm_targets as at

        missing = at.missing_tools([target])
        if missing:
            pytest.fail(f"ARM cross toolchains / QEMU missing: {', '.join(missing)}. "
                        f"Install them with: {at.APT_LINE}", pytrace=False)
    proc = subprocess.run(["make", "-s", "-C", str(SPARSE_C_TESTS), f"TARGET={target}",
                           f"OUT={tmp}", "run"], capture_output=True, text=True, timeout=900,
                          check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "test_sparse_models: 8 comparisons, 0 failures" in out, out[-4000:]
    return out


@pytest.mark.slow
@pytest.mark.parametrize("target", ["host", "aarch64", "cortex-m4"])
def test_c_sparse_models(target, tmp_path):
    """runtime_micro/tests/sparse on the host (ASan + UBSan) and under QEMU: int8 bit-exact
    with LiteRT's reference kernels, float within 1e-5, sparse arena <= dense."""
    out = _run_sparse_c_test(target, tmp_path)
    assert "int8: arena dense" in out and "float32: arena dense" in out


def test_quantize_reads_a_sparse_file_and_keeps_the_weights_sparse(tmp_path):
    """`quantize` of our sparse float file: calibration runs it, the int8 weights of the
    pruned convolutions stay sparse in the output, and that file gives LiteRT's reference
    outputs bit for bit in runtime_micro (and runs in LiteRT's default interpreter)."""
    from edgelite.quantize.api import QuantizeOptions, quantize

    _, sparse = models("float32")
    path = tmp_path / "sparse_float.tflite"
    path.write_bytes(sparse)
    calib = np.random.default_rng(3).normal(0, 1, (16, 12, 12, 8)).astype(np.float32)
    res = quantize(path, QuantizeOptions(calibration={"x": calib}, progress=False))
    stored = [t.name for t in read_model(res.model).subgraphs[0].tensors if t.sparsity]
    # both pruned convolutions and the dense layer (written as a 1x1 convolution)
    assert len(stored) == 3 and all(name.endswith("/sparse") for name in stored), stored
    x = np.random.default_rng(4).integers(-128, 128, (1, 12, 12, 8)).astype(np.int8)
    got = run_ours(res.model, x)
    np.testing.assert_array_equal(got, run_litert(res.model, x, litert.OpResolverType.BUILTIN_REF))
    # XNNPACK rounds its own way (not bit-exact with the reference kernels even dense)
    auto = run_litert(res.model, x, litert.OpResolverType.AUTO)
    assert np.abs(auto.astype(np.int32) - got).max() <= 2


# ---- other layouts (runtime_micro's general walker) ----------------------------------------

def encode_layout(dense: np.ndarray, order, fmts, block_map=(), bsize=()):
    """Any TFLite sparse layout of a small array, built by brute force (test oracle for the
    general walker: CSR at several levels, blocks)."""
    import itertools

    n = dense.ndim
    bs = [1] * n
    for d, b in zip(block_map, bsize):
        bs[d] = b
    sizes = [dense.shape[d] // bs[d] for d in range(n)] + list(bsize)
    levels = len(order)

    def value(coords):
        e = {order[lv]: coords[lv] for lv in range(levels)}
        return dense[tuple(e[d] * bs[d] + (e[n + list(block_map).index(d)] if d in block_map
                                           else 0) for d in range(n))]

    def any_nonzero(coords):
        rest = [range(sizes[order[lv]]) for lv in range(len(coords), levels)]
        return any(value(coords + list(t)) != 0 for t in itertools.product(*rest))

    segs = [[0] for _ in range(levels)]
    idxs: list[list[int]] = [[] for _ in range(levels)]
    vals = []

    def emit(coords):
        lv = len(coords)
        if lv == levels:
            vals.append(value(coords))
            return
        for c in range(sizes[order[lv]]):
            if fmts[lv] == SP.DENSE:
                emit(coords + [c])
            elif any_nonzero(coords + [c]):
                idxs[lv].append(c)
                emit(coords + [c])
        if fmts[lv] == SP.SPARSE_CSR:
            segs[lv].append(len(idxs[lv]))

    emit([])
    metas = [SP.DimMetadata(SP.DENSE, sizes[order[lv]]) if fmts[lv] == SP.DENSE else
             SP.DimMetadata(SP.SPARSE_CSR, 0, np.array(segs[lv]), np.array(idxs[lv]), 1, 2)
             for lv in range(levels)]
    return SP.SparsityInfo(list(order), list(block_map), metas), np.array(vals, dense.dtype)


LAYOUTS = {
    # op, weights shape, traversal order, formats, block_map, block sizes
    "fc_1x4_blocks": ("FULLY_CONNECTED", (6, 16), (0, 1, 2), "DCD", (1,), (4,)),
    "conv_two_csr_levels": ("CONV_2D", (4, 3, 3, 5), (0, 1, 2, 3), "DDCC", (), ()),
    "conv_blocks_on_channels": ("CONV_2D", (4, 3, 3, 6), (0, 1, 2, 3, 4), "DDDCD", (3,), (2,)),
    "conv_kh_outer_csr": ("CONV_2D", (4, 3, 3, 5), (0, 3, 1, 2), "DCDC", (), ()),
    "depthwise_two_csr_levels": ("DEPTHWISE_CONV_2D", (1, 3, 3, 6), (3, 0, 1, 2), "DDCC", (), ()),
}


def layout_models(name: str, dtype: str) -> tuple[bytes, bytes]:
    from edgelite.tflite.writer import _Writer

    op_type, wshape, order, fmts, block_map, bsize = LAYOUTS[name]
    rng = np.random.default_rng(SEED + sorted(LAYOUTS).index(name))
    f = dtype == "float32"
    row = 3 if op_type == "DEPTHWISE_CONV_2D" else 0
    w = pruned(rng, wshape, dtype, row, keep=0.35)
    n_out = wshape[row]
    wq = None if f else q(rng.uniform(0.005, 0.02, n_out), np.zeros(n_out), row)
    if op_type == "FULLY_CONNECTED":
        x = ir.Tensor("x", (2, wshape[1]), dtype, quant=None if f else q(0.05, 3))
        out = ir.Tensor("out", (2, n_out), dtype, quant=None if f else q(0.1, -2))
        opts = {}
    else:
        x = ir.Tensor("x", (1, 5, 5, wshape[3] if op_type == "CONV_2D" else 6), dtype,
                      quant=None if f else q(0.05, 3))
        out = ir.Tensor("out", (1, 5, 5, n_out), dtype, quant=None if f else q(0.1, -2))
        opts = dict(padding="SAME", stride_w=1, stride_h=1)
        if op_type == "DEPTHWISE_CONV_2D":
            opts["depth_multiplier"] = 1
    b = (ir.Tensor("b", (n_out,), "float32", data=rng.normal(0, .1, n_out).astype(np.float32))
         if f else ir.Tensor("b", (n_out,), "int32",
                             data=rng.integers(-500, 500, n_out).astype(np.int32),
                             quant=q(0.05 * wq.scale, np.zeros(n_out))))
    wt = ir.Tensor("w", wshape, dtype, data=w, quant=wq)
    graph = ir.Graph([x], [out], [ir.Op(op_type, [x, wt, b], [out], opts)], name=name)
    sp, values = encode_layout(w, order, [SP.DENSE if c == "D" else SP.SPARSE_CSR for c in fmts],
                               block_map, bsize)
    np.testing.assert_array_equal(SP.densify(sp, list(wshape), values), w)  # the oracle holds
    dense = write_model(graph)
    sparse = _Writer(graph, "edgelite", SP.SparsePlan([], [], {id(wt): (sp, values)})).build()
    return dense, sparse


@pytest.mark.parametrize("dtype", ["float32", "int8"])
@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_runtime_micro_reads_other_sparse_layouts_directly(name, dtype):
    """Layouts edgelite does not write (blocks, CSR at several levels, a CSR level above a
    DENSE one) go through runtime_micro's general walker: same outputs as the dense weights
    (int8 bit-exact with LiteRT's reference kernels on the dense file), arena not larger.
    The Python reader reads them back to the same weights."""
    dense, sparse = layout_models(name, dtype)
    w = next(t for t in to_ir(read_model(sparse)).tensors() if t.name == "w")
    np.testing.assert_array_equal(w.data, next(t for t in to_ir(read_model(dense)).tensors()
                                               if t.name == "w").data)
    it = Interpreter(sparse)
    assert it.arena_bytes <= Interpreter(dense).arena_bytes
    rng = np.random.default_rng(7)
    shape = it.inputs[0].shape
    x = (rng.normal(0, 1, shape).astype(np.float32) if dtype == "float32"
         else rng.integers(-128, 128, shape).astype(np.int8))
    got, want = run_ours(sparse, x), run_ours(dense, x)
    ref = run_litert(dense, x, litert.OpResolverType.BUILTIN_REF)
    if dtype == "int8":
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, ref)
    else:
        scale = float(np.abs(want).max())
        np.testing.assert_allclose(got, want, atol=1e-6 * scale, rtol=0)
        np.testing.assert_allclose(got, ref, atol=1e-5 * scale, rtol=0)


def test_reader_refuses_a_small_sparse_file_that_would_densify_to_gigabytes():
    """65536 x 65536 float32 stored as one value: refused before any allocation."""
    from edgelite.tflite.writer import _Writer

    segments = np.zeros(65537, np.int64)
    segments[1:] = 1
    sp = SP.SparsityInfo([0, 1], [], [
        SP.DimMetadata(SP.DENSE, 65536),
        SP.DimMetadata(SP.SPARSE_CSR, 0, segments, np.array([3]), 1, 3)])
    x = ir.Tensor("x", (1, 65536), "float32")
    w = ir.Tensor("w", (4, 65536), "float32", data=np.zeros((4, 65536), np.float32))
    out = ir.Tensor("out", (1, 4), "float32")
    g = ir.Graph([x], [out], [ir.Op("FULLY_CONNECTED", [x, w], [out], {})])
    data = _Writer(g, "t", SP.SparsePlan([], [], {id(w): (sp, np.array([1.0], np.float32))}))
    model = data.build()
    # give the weights the huge shape in the file: patch the shape vector [4, 65536]
    needle = np.array([4, 65536], "<i4").tobytes()
    assert model.count(needle) == 1
    model = model.replace(needle, np.array([65536, 65536], "<i4").tobytes())
    with pytest.raises(EdgeliteError, match=r"tensor 1 \('w'\) sparsity: shape \[65536, 65536\] "
                                            r"would densify to more than 2 GB"):
        read_model(model)
