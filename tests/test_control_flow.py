"""IF and WHILE (issue 10): runtime_micro runs the subgraphs they name, against LiteRT.

Oracles: LiteRT's reference kernels (OpResolverType.BUILTIN_REF) on the same bytes. Models: the
small IF / WHILE models of runtime_micro's corpus (built by make_corpus.py, whose malformed
variants test_runtime.py runs), and hey_jarvis.tflite from the pyopen-wakeword wheel (onnx-tf
output: its IF condition is computed at run time, every weight passed into the branches).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.tflite_checks import err_of_range as _err_of_range
from helpers.tflite_checks import litert_outputs as _litert
from helpers.tflite_checks import wheel as _wheel

from edgelite.runtime.interpreter import Interpreter

CORPUS = Path(__file__).resolve().parents[1] / "runtime_micro" / "corpus"


def _corpus_module():
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus
        import tflbuild
    finally:
        sys.path.remove(str(CORPUS))
    return make_corpus, tflbuild


def _micro(data: bytes, inputs: list[np.ndarray], planner: str = "greedy") -> list[np.ndarray]:
    it = Interpreter(data, planner=planner)
    for i, x in enumerate(inputs):
        it.set_input(i, x)
    it.invoke()
    return [it.get_output(i).copy() for i in range(len(it.outputs))]


@pytest.mark.parametrize("flag", [True, False])
@pytest.mark.parametrize("planner", ["greedy", "linear"])
def test_if_runs_the_branch_its_condition_picks(flag: bool, planner: str) -> None:
    make_corpus, tflbuild = _corpus_module()
    data = tflbuild.build(make_corpus.if_model())
    x = np.array([[1.0, 2.0, -3.0, 0.5]], np.float32)
    inputs = [np.array(flag), x]
    ref = _litert(data, inputs)
    got = _micro(data, inputs, planner)
    np.testing.assert_array_equal(got[0], ref[0])
    w = np.array([[0.5, -1.0, 2.0, 3.0]], np.float32)  # the branch really ran (not a copy of x)
    np.testing.assert_array_equal(got[0], x + w if flag else x * w)


@pytest.mark.parametrize("n", [0.0, 3.0, 4.5, 9.0])
def test_while_loops_as_litert_does(n: float) -> None:
    make_corpus, tflbuild = _corpus_module()
    data = tflbuild.build(make_corpus.while_model())
    inputs = [np.array([n], np.float32), np.array([[1.0, 2.0, -3.0, 0.5]], np.float32)]
    ref = _litert(data, inputs)
    got = _micro(data, inputs)
    for a, b in zip(got, ref):
        np.testing.assert_array_equal(a, b)
    loops = int(np.ceil(5.0 - n)) if n < 5 else 0
    c = np.array([[0.25, -1.0, 1.5, 2.0]], np.float32)
    np.testing.assert_allclose(got[1], inputs[1] + loops * c, rtol=1e-6)


def test_control_ops_refuse_malformed_models_by_name() -> None:
    """A few of the corpus's IF / WHILE cases through the Python binding: one error naming the
    op and what is wrong, never a crash."""
    from edgelite.errors import EdgeliteError

    make_corpus, tflbuild = _corpus_module()
    for model, words in [(make_corpus.if_model(1, 9), "IF: subgraph index 9 out of range"),
                         (make_corpus.while_model(0, 2), "WHILE: subgraph index 0 out of range")]:
        with pytest.raises(EdgeliteError, match=words):
            Interpreter(tflbuild.build(model))


HEY_JARVIS = "pyopen_wakeword/models/hey_jarvis.tflite"


def test_hey_jarvis_if_runs_in_runtime_micro_as_in_litert() -> None:
    path = _wheel("PYOPEN_WAKEWORD", HEY_JARVIS)
    data = path.read_bytes()
    it = Interpreter(data)
    rng = np.random.default_rng(10)
    scores = []
    # successive inputs on one interpreter (state must not leak between invokes), scaled so
    # both branches of the IF run (score above and below its threshold)
    for k in range(6):
        x = (rng.standard_normal((1, 16, 96)) * (4.0 if k % 2 else 0.3)).astype(np.float32)
        it.set_input(0, x)
        it.invoke()
        got = it.get_output(0).copy()
        ref = _litert(data, [x])[0]
        assert _err_of_range(got, ref) <= 1e-5, (k, got, ref)
        scores.append(float(ref.reshape(-1)[0]))
    assert min(scores) < 0.5 < max(scores), scores


# ---- edgelite convert / quantize on a .tflite with IF ------------------------------------------

def test_convert_if_converts_a_run_time_condition_and_inlines_a_frozen_one(tmp_path: Path) -> None:
    from helpers.tflite_checks import cli

    from edgelite.converter import ConvertOptions, convert
    from edgelite.tflite.writer import write_model

    make_corpus, tflbuild = _corpus_module()
    src = tmp_path / "if.tflite"
    src.write_bytes(tflbuild.build(make_corpus.if_model()))
    x = np.array([[1.0, 2.0, -3.0, 0.5]], np.float32)
    graph = convert(src)  # condition is a model input: both branches + SELECT_V2
    assert [op.type for op in graph.ops].count("SELECT_V2") == 1
    assert any("both branches" in n for n in graph.notes)
    data = write_model(graph)
    for flag in (True, False):
        ref = _litert(src.read_bytes(), [np.array(flag), x])[0]
        np.testing.assert_array_equal(_micro(data, [np.array(flag), x])[0], ref)
        np.testing.assert_array_equal(_litert(data, [np.array(flag), x])[0], ref)
        # frozen condition: the IF becomes the branch it picks, the input disappears
        frozen = convert(src, ConvertOptions(input_values={"flag": (float(flag),)}))
        assert [op.type for op in frozen.ops] == ["ADD" if flag else "MUL"]
        np.testing.assert_array_equal(_micro(write_model(frozen), [x])[0], ref)
    out = tmp_path / "out.tflite"
    assert cli("convert", str(src), "-o", str(out), "--input-value", "flag=1") == 0
    np.testing.assert_array_equal(_micro(out.read_bytes(), [x])[0],
                                  _litert(src.read_bytes(), [np.array(True), x])[0])


def test_convert_refuses_an_if_branch_it_cannot_compute_blindly(tmp_path: Path) -> None:
    from helpers.cli import assert_user_error
    from helpers.cli import edgelite_cmd as edgelite

    make_corpus, tflbuild = _corpus_module()
    m = make_corpus.if_model()
    m.opcodes[2] = tflbuild.GATHER  # the else-branch gathers: unsafe on untaken values
    m.subgraphs[2].tensors[1] = tflbuild.Tensor([1], tflbuild.INT32, 0, "w")
    m.subgraphs[2].ops[0].options_type = tflbuild.OPT_GATHER
    m.subgraphs[2].ops[0].options = [(0, "i32", 0)]
    m.subgraphs[0].tensors[2] = tflbuild.Tensor([1], tflbuild.INT32, 0, "w")
    m.subgraphs[0].inputs = [0, 1, 2]
    m.subgraphs[1].tensors[1] = tflbuild.Tensor([1], tflbuild.INT32, 0, "w")
    m.subgraphs[1].ops[0].opcode = 2
    m.subgraphs[1].ops[0].options_type = tflbuild.OPT_GATHER
    m.subgraphs[1].ops[0].options = [(0, "i32", 0)]
    src = tmp_path / "gather_if.tflite"
    src.write_bytes(tflbuild.build(m))
    r = edgelite("convert", str(src), "-o", str(tmp_path / "o.tflite"))
    assert_user_error(r, "IF_0", "GATHER", "--input-value")


def test_hey_jarvis_converts_and_quantizes(tmp_path: Path) -> None:
    from helpers.tflite_checks import (
        assert_int8_bit_exact_with_tflm as _assert_int8_bit_exact_with_tflm,
    )
    from helpers.tflite_checks import cli

    from edgelite.converter import convert
    from edgelite.tflite.writer import write_model

    path = _wheel("PYOPEN_WAKEWORD", HEY_JARVIS)
    graph = convert(path)
    assert not any(op.type == "IF" for op in graph.ops)
    data = write_model(graph)
    rng = np.random.default_rng(11)
    for k in range(4):
        x = (rng.standard_normal((1, 16, 96)) * (4.0 if k % 2 else 0.3)).astype(np.float32)
        ref = _litert(path.read_bytes(), [x])[0]
        assert _err_of_range(_micro(data, [x])[0], ref) <= 1e-4  # fused multiply-adds
        assert _err_of_range(_litert(data, [x])[0], ref) <= 1e-5
    calib = (rng.standard_normal((16, 1, 16, 96)) * 2).astype(np.float32)
    np.save(tmp_path / "calib.npy", calib)
    out = tmp_path / "int8.tflite"
    assert cli("quantize", str(path), "-o", str(out), "--calibration",
               str(tmp_path / "calib.npy")) == 0
    assert out.stat().st_size <= 0.30 * len(data)
    _assert_int8_bit_exact_with_tflm(out.read_bytes(), samples=3)


# ---- TFLite Micro runs IF and WHILE too: float and int8 against it -----------------------------

def _int8_if_model(make_corpus, tflbuild):  # noqa: ANN001, ANN202
    """if_model with int8 tensors (x, w scale 0.05; y scale 0.1, zero point 3)."""
    m = make_corpus.if_model()
    i8 = tflbuild.INT8
    q_in, q_out = ([0.05], [0]), ([0.1], [3])
    m.buffers[1] = np.array([[10, -20, 40, 60]], np.int8).tobytes()
    main = m.subgraphs[0]
    main.tensors[1:] = [tflbuild.Tensor([1, 4], i8, 0, "x", *q_in),
                        tflbuild.Tensor([1, 4], i8, 1, "w", *q_in),
                        tflbuild.Tensor([1, 4], i8, 0, "y", *q_out)]
    for sg in m.subgraphs[1:]:
        sg.tensors = [tflbuild.Tensor([1, 4], i8, 0, "x", *q_in),
                      tflbuild.Tensor([1, 4], i8, 0, "w", *q_in),
                      tflbuild.Tensor([1, 4], i8, 0, "y", *q_out)]
    return m


def test_if_and_while_equal_tflite_micro_float_and_int8() -> None:
    from tflite_micro.python.tflite_micro import runtime

    make_corpus, tflbuild = _corpus_module()
    rng = np.random.default_rng(12)
    def real(shape: tuple) -> np.ndarray:
        return rng.standard_normal(shape).astype(np.float32)

    cases = [(make_corpus.if_model(), lambda f: [np.array(f), real((1, 4))]),
             (make_corpus.while_model(),
              lambda f: [np.array([1.5 if f else 7.0], np.float32), real((1, 4))]),
             (_int8_if_model(make_corpus, tflbuild),
              lambda f: [np.array(f), rng.integers(-128, 128, (1, 4)).astype(np.int8)])]
    for model, make_inputs in cases:
        data = tflbuild.build(model)
        for flag in (True, False):
            inputs = make_inputs(flag)
            tflm = runtime.Interpreter.from_bytes(data, arena_size=1 << 20)
            for i, x in enumerate(inputs):
                tflm.set_input(x, i)
            tflm.invoke()
            got = _micro(data, inputs)
            for k, y in enumerate(got):
                np.testing.assert_array_equal(y, tflm.get_output(k))


def test_branches_shared_by_two_ifs_with_different_constants() -> None:
    """Two IFs run the same branch subgraphs with different constant weights, the second on
    the first's output: the branch inputs cannot become one constant and read each caller's
    tensors instead (runtime_micro/src/el_control.c bind_inputs)."""
    make_corpus, tflbuild = _corpus_module()
    m = make_corpus.if_model()
    main = m.subgraphs[0]
    m.buffers.append(np.array([[-2.0, 0.25, 1.0, -0.5]], np.float32).tobytes())
    main.tensors += [tflbuild.Tensor([1, 4], tflbuild.FLOAT32, 2, "w2"),
                     tflbuild.Tensor([1, 4], tflbuild.FLOAT32, 0, "y2")]
    main.ops.append(tflbuild.Op(0, [0, 3, 4], [5], tflbuild.OPT_IF, [(0, "i32", 1), (1, "i32", 2)]))
    main.outputs = [3, 5]
    data = tflbuild.build(m)
    x = np.array([[1.0, 2.0, -3.0, 0.5]], np.float32)
    for flag in (True, False):
        for planner in ("greedy", "linear"):
            got = _micro(data, [np.array(flag), x], planner)
            ref = _litert(data, [np.array(flag), x])
            for a, b in zip(got, ref):
                np.testing.assert_array_equal(a, b)


def test_if_nested_sixteen_deep_runs_and_seventeen_is_refused() -> None:
    from edgelite.errors import EdgeliteError

    make_corpus, tflbuild = _corpus_module()
    data = tflbuild.build(make_corpus.nested_if_model(16))
    inputs = [np.array(True), np.array([[1.0, -2.0, 0.5, 3.0]], np.float32)]
    np.testing.assert_array_equal(_micro(data, inputs)[0], _litert(data, inputs)[0])
    with pytest.raises(EdgeliteError, match="nested 17 calls deep"):
        Interpreter(tflbuild.build(make_corpus.nested_if_model(17)))
