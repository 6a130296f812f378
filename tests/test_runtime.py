"""runtime_micro (edgelite.runtime) against runtimes we did not write.

Oracles: LiteRT (reference kernels, OpResolverType.BUILTIN_REF) and TFLite Micro for .tflite
semantics and integer results, ONNX Runtime for float semantics of converted models. The
malformed models come from runtime_micro/corpus/make_corpus.py (committed with its output).

The wakeword tests run the four microWakeWord streaming models shipped in the pymicro-wakeword
wheel. No audio ships with it, so the input is deterministic synthetic audio (a chirp with
harmonics, a syllable-rate envelope and seeded noise) turned into features by pymicro-features
(TFLite Micro's audio frontend), quantized the way pymicro-wakeword does it.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers.build import make_in_tree
from helpers.tflite_checks import tflm_arena_bytes as _tflm_arena_bytes

from edgelite.errors import Code, EdgeliteError

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = ROOT / "runtime_micro"
CORPUS = RUNTIME / "corpus"


@pytest.fixture(scope="session", autouse=True)
def runtime_library() -> None:
    """Builds (or brings up to date) the in-tree library the binding loads."""
    if not os.environ.get("EDGELITE_RUNTIME_LIB"):
        proc = make_in_tree("-s", "-j2")
        assert proc.returncode == 0, proc.stdout + proc.stderr


def _interp(*args, **kwargs):
    from edgelite.runtime import Interpreter

    return Interpreter(*args, **kwargs)


# ---------------------------------------------------------------- oracles

def _litert(model: bytes | Path, preserve: bool = False):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    kw = {"model_content": model} if isinstance(model, bytes) else {"model_path": str(model)}
    it = Interpreter(**kw, experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                     experimental_preserve_all_tensors=preserve)
    it.allocate_tensors()
    return it


def _tflm(path: Path):
    from tflite_micro.python.tflite_micro import runtime as tflm

    return tflm.Interpreter.from_file(str(path), arena_size=256 * 1024)


# ---------------------------------------------------------------- wakeword models

def _wakeword_models() -> list[Path]:
    try:
        import pymicro_wakeword
    except ImportError:
        return []
    return sorted((Path(pymicro_wakeword.__file__).parent / "models").glob("*.tflite"))


WAKEWORD = _wakeword_models()


def _synthetic_audio(seconds: float, seed: int) -> bytes:
    rate = 16000
    rng = np.random.default_rng(seed)
    t = np.arange(int(rate * seconds)) / rate
    freq = 200.0 + 2800.0 * t / seconds  # chirp 200 Hz -> 3 kHz
    phase = 2 * np.pi * np.cumsum(freq) / rate
    voice = 0.3 * np.sin(phase) + 0.12 * np.sin(2 * phase) + 0.06 * np.sin(3 * phase)
    envelope = 0.5 * (1.0 + np.sin(2 * np.pi * 3.0 * t))  # ~ syllable rate
    x = voice * envelope + rng.normal(0.0, 0.03, t.size)
    return (np.clip(x, -1.0, 1.0) * 26000).astype("<i2").tobytes()


@functools.lru_cache(maxsize=None)
def _features(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    from pymicro_wakeword import MicroWakeWordFeatures

    frames = list(MicroWakeWordFeatures().process_streaming(_synthetic_audio(seconds, seed)))
    return np.concatenate(frames, axis=1)[0]  # (frames, 40) float


def _windows(details, seconds: float = 3.0, seed: int = 0) -> list[np.ndarray]:
    """Quantized input windows (stride = the model's time dimension), as pymicro-wakeword."""
    feats = _features(seconds, seed)
    stride = details.shape[1]
    info = np.iinfo(details.dtype)
    out = []
    for k in range(0, feats.shape[0] - stride + 1, stride):
        q = np.round(feats[k:k + stride] / details.scale + details.zero_point)
        out.append(np.clip(q, info.min, info.max).astype(details.dtype).reshape(details.shape))
    return out


needs_wakeword = pytest.mark.skipif(not WAKEWORD, reason="pymicro-wakeword is not installed")


def _comparable(it) -> list[int]:
    """Subgraph-0 integer activations (not constants, not resources): LiteRT exposes them too."""
    out = []
    for i in range(it.tensor_count):
        d = it.tensor_details(i)
        if d.dtype in (np.int8, np.uint8, np.int16, np.int32) and not d.is_const and d.name:
            out.append(i)
    return out


@needs_wakeword
@pytest.mark.parametrize("path", WAKEWORD, ids=lambda p: p.stem)
def test_wakeword_streaming_bit_exact_with_tflm_and_litert(path: Path) -> None:
    """Every output over ~100 successive invokes equals TFLite Micro's and LiteRT's; every
    intermediate tensor (linear planner) equals LiteRT's at every invoke."""
    ours = _interp(path)
    ours_all = _interp(path, planner="linear")
    tflm = _tflm(path)
    lite = _litert(path, preserve=True)
    lite_in = lite.get_input_details()[0]["index"]
    lite_out = lite.get_output_details()[0]["index"]
    windows = _windows(ours.inputs[0])
    assert len(windows) >= 90
    tensors = _comparable(ours_all)
    assert len(tensors) >= 20
    got, want_tflm, want_lite = [], [], []
    seen: dict[int, set[bytes]] = {i: set() for i in tensors}
    for step, x in enumerate(windows):
        ours.set_input(0, x)
        ours.invoke()
        got.append(ours.get_output(0).copy())
        ours_all.set_input(0, x)
        ours_all.invoke()
        tflm.set_input(x, 0)
        tflm.invoke()
        want_tflm.append(tflm.get_output(0).copy())
        lite.set_tensor(lite_in, x)
        lite.invoke()
        want_lite.append(lite.get_tensor(lite_out).copy())
        for i in tensors:
            mine = ours_all.get_tensor(i)
            want = lite.get_tensor(i)
            assert np.array_equal(mine, want), (
                f"invoke {step}: tensor {i} {ours_all.tensor_details(i).name} differs from LiteRT")
            seen[i].add(mine.tobytes())
    got_a, tflm_a, lite_a = (np.concatenate(v).ravel() for v in (got, want_tflm, want_lite))
    assert np.array_equal(tflm_a, lite_a)  # the two oracles agree with each other
    assert np.array_equal(got_a, tflm_a), f"first difference at invoke {np.argmax(got_a != tflm_a)}"
    varying = sum(len(v) > len(windows) // 2 for v in seen.values())
    assert varying >= len(tensors) // 2, "intermediates barely vary: the comparison would be weak"


@needs_wakeword
@pytest.mark.parametrize("path", WAKEWORD, ids=lambda p: p.stem)
def test_wakeword_arena_not_larger_than_tflm(path: Path) -> None:
    from edgelite.runtime import _lib
    from helpers.tflite_checks import kept_filter_sums_bytes, kept_int8_panels_bytes

    ours = _interp(path)
    # what a microcontroller build needs: no int8 filter sums kept (the reference kernels lay
    # the arena out as Cortex-M builds do); the hosted one keeps 8 bytes per conv/FC channel
    # (and, x86-64 / aarch64, the int8 CONV_2D filters packed)
    micro = _interp(path, disable_isa=_lib.ISA_ALL).arena_bytes
    sums = (kept_filter_sums_bytes(path.read_bytes())
            + kept_int8_panels_bytes(path.read_bytes(), ours.kernel_isa))
    tflm_bytes = _tflm_arena_bytes(_tflm(path))
    print(f"{path.stem}: edgelite arena {micro} B (hosted {ours.arena_bytes} B with filter "
          f"sums), TFLite Micro arena {tflm_bytes} B")
    assert micro <= tflm_bytes
    assert abs(ours.arena_bytes - micro - sums) < 16  # the 16-byte alignment, either way
    assert ours.arena_size == ours.arena_bytes  # auto-sizing gives exactly the required bytes
    # the exact size is exact: 16 bytes less (one alignment step) must be refused
    with pytest.raises(EdgeliteError, match=rf"needs exactly {ours.arena_bytes} bytes"):
        _interp(path, arena_size=ours.arena_bytes - 16)
    _interp(path, arena_size=ours.arena_bytes)


@needs_wakeword
def test_wakeword_state_persists_and_reset_restores_it() -> None:
    path = WAKEWORD[0]
    it = _interp(path)
    windows = _windows(it.inputs[0])[:40]

    def run() -> np.ndarray:
        outs = []
        for x in windows:
            it.set_input(0, x)
            it.invoke()
            outs.append(it.get_output(0).copy())
        return np.concatenate(outs).ravel()

    first = run()
    second = run()  # continues from the state the first run left
    assert not np.array_equal(first, second), "state did not carry over between invokes"
    it.reset()
    assert np.array_equal(run(), first)
    assert np.array_equal(first, np.concatenate([_run_fresh(path, windows)]).ravel())


def _run_fresh(path: Path, windows: list[np.ndarray]) -> np.ndarray:
    it = _interp(path)
    outs = []
    for x in windows:
        it.set_input(0, x)
        it.invoke()
        outs.append(it.get_output(0).copy())
    return np.concatenate(outs).ravel()


@needs_wakeword
def test_linear_planner_costs_more_and_greedy_refuses_intermediates() -> None:
    path = WAKEWORD[0]
    linear = _interp(path, planner="linear")
    greedy = _interp(path)
    print(f"{path.stem}: greedy {greedy.arena_bytes} B, linear {linear.arena_bytes} B")
    assert linear.arena_bytes > greedy.arena_bytes
    with pytest.raises(EdgeliteError, match="planner='linear'"):
        greedy.get_tensor(_comparable(linear)[3])


# ---------------------------------------------------------------- float models

def _base_inputs(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    return rng.standard_normal((2, 3)).astype(np.float32), rng.integers(0, 2, 2).astype(np.int32)


@pytest.mark.parametrize("planner", ["greedy", "linear"])
def test_hand_built_float_model_matches_litert(planner: str) -> None:
    path = CORPUS / "valid_base.tflite"
    ours = _interp(path, planner=planner)
    lite = _litert(path.read_bytes())
    assert [d.name for d in ours.inputs] == ["x", "indices"]
    rng = np.random.default_rng(1)
    for _ in range(5):
        x, idx = _base_inputs(rng)
        ours.set_input(0, x)
        ours.set_input(1, idx)
        ours.invoke()
        for k, v in enumerate((x, idx)):
            lite.set_tensor(lite.get_input_details()[k]["index"], v)
        lite.invoke()
        want = lite.get_tensor(lite.get_output_details()[0]["index"])
        np.testing.assert_allclose(ours.get_output(0), want, rtol=1e-5, atol=1e-5)


def _small_onnx(path: Path) -> None:
    import onnx
    from onnx import TensorProto, helper

    rng = np.random.default_rng(3)
    w1 = rng.standard_normal((8, 3, 3, 3)).astype(np.float32) * 0.3
    b1 = rng.standard_normal(8).astype(np.float32) * 0.1
    w2 = rng.standard_normal((8, 5)).astype(np.float32) * 0.3
    b2 = rng.standard_normal(5).astype(np.float32) * 0.1
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("GlobalAveragePool", ["r"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w2", "b2"], ["g"]),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ]
    graph = helper.make_graph(
        nodes, "small",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 12, 12])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 5])],
        [onnx.numpy_helper.from_array(a, n) for a, n in ((w1, "w1"), (b1, "b1"), (w2, "w2"),
                                                         (b2, "b2"))])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.save(model, path)


def test_converted_float_model_matches_litert_and_onnxruntime(tmp_path: Path) -> None:
    import onnxruntime as ort

    from edgelite.converter.pipeline import convert_to_bytes

    src = tmp_path / "small.onnx"
    _small_onnx(src)
    model = convert_to_bytes(src)
    ours = _interp(model)
    lite = _litert(model)
    sess = ort.InferenceSession(str(src), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(4)
    for _ in range(3):
        x = rng.standard_normal((1, 3, 12, 12)).astype(np.float32)
        x_tfl = x if ours.inputs[0].shape == x.shape else x.transpose(0, 2, 3, 1).copy()
        ours.set_input(0, x_tfl)
        ours.invoke()
        lite.set_tensor(lite.get_input_details()[0]["index"], x_tfl)
        lite.invoke()
        got = ours.get_output(0)
        np.testing.assert_allclose(got, lite.get_tensor(lite.get_output_details()[0]["index"]),
                                   rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(got, sess.run(None, {"x": x})[0], rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------- errors and the corpus

def _manifest() -> list[tuple[str, str]]:
    rows = []
    for line in (CORPUS / "MANIFEST.txt").read_text().splitlines():
        if line.startswith("#") or not line.strip():
            continue
        name, status = line.split()[:2]
        rows.append((name, status))
    return rows


MANIFEST = _manifest()


@pytest.mark.parametrize("name,status", MANIFEST, ids=[m[0] for m in MANIFEST])
def test_corpus_model_gives_its_status(name: str, status: str) -> None:
    path = CORPUS / f"{name}.tflite"
    if status == "EL_OK":
        _interp(path).invoke()
        return

    def load_and_run() -> None:
        it = _interp(path)
        for i, d in enumerate(it.inputs):
            it.set_input(i, np.zeros(d.shape, d.dtype))
        it.invoke()

    with pytest.raises(EdgeliteError) as info:
        load_and_run()
    text = str(info.value)
    assert str(path) in text
    pattern = r"\[EL_ERROR_\w+\]" if status == "EL_ERROR_*" else re.escape(f"[{status}]")
    assert re.search(pattern, text), text
    expected_code = {"EL_ERROR_INVALID_MODEL": Code.INVALID_MODEL,
                     "EL_ERROR_UNSUPPORTED": Code.UNSUPPORTED}.get(status, Code.RUNTIME)
    assert info.value.code == expected_code


def test_corpus_is_what_the_script_generates() -> None:
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus
    finally:
        sys.path.remove(str(CORPUS))
    import tflbuild

    assert (CORPUS / "valid_base.tflite").read_bytes() == tflbuild.build(make_corpus.base_model())
    cases = make_corpus.cases()
    extras = make_corpus.valid_extras()
    assert len(cases) == len(MANIFEST) - 1 - len(extras)
    for name, data, _why in extras:
        assert (CORPUS / f"{name}.tflite").read_bytes() == data, name
        assert (name, "EL_OK") in MANIFEST
    for name, status, data, _why in cases:
        assert (CORPUS / f"bad_{name}.tflite").read_bytes() == data, name
        assert (f"bad_{name}", status) in MANIFEST


def test_every_truncation_of_the_valid_model_is_refused() -> None:
    data = (CORPUS / "valid_base.tflite").read_bytes()
    for n in range(len(data)):
        with pytest.raises(EdgeliteError, match=r"\[EL_ERROR_INVALID_MODEL\]"):
            _interp(data[:n], arena_size=4096)


def test_gather_index_out_of_range_at_run_time_names_the_op() -> None:
    it = _interp(CORPUS / "valid_base.tflite")
    it.set_input(0, np.ones((2, 3), np.float32))
    it.set_input(1, np.array([0, 9], np.int32))
    with pytest.raises(EdgeliteError, match=r"op #1 GATHER: .*9.*\[EL_ERROR_INVOKE\]"):
        it.invoke()
    it.set_input(1, np.array([1, 1], np.int32))
    it.invoke()  # the interpreter stays usable
    np.testing.assert_array_equal(it.get_output(0), np.full((3, 2), 1.0, np.float32)
                                  + np.array([1.5, 2.0, 2.5, 1.5, 2.0, 2.5],
                                             np.float32).reshape(3, 2))


def test_input_checks_and_arena_messages() -> None:
    path = CORPUS / "valid_base.tflite"
    it = _interp(path)
    with pytest.raises(EdgeliteError, match="expects float32"):
        it.set_input(0, np.zeros((2, 3), np.float64))
    with pytest.raises(EdgeliteError, match=r"expects \(2, 3\)"):
        it.set_input(0, np.zeros((3, 2), np.float32))
    with pytest.raises(EdgeliteError, match=r"at least \d+ bytes"):
        _interp(path, arena_size=0)
    with pytest.raises(EdgeliteError, match="unknown planner"):
        _interp(path, planner="fast")
    with pytest.raises(EdgeliteError, match="cannot read model"):
        _interp(path.with_name("missing.tflite"))


def test_op_callback_sees_every_op_and_can_stop_invoke() -> None:
    events: list[tuple[int, int, int, bool]] = []
    path = CORPUS / "valid_base.tflite"
    it = _interp(path, planner="linear", callback=lambda *e: events.append(e))
    it.set_input(1, np.zeros(2, np.int32))
    it.invoke()
    assert events == [(0, op, code, after) for op, code in ((0, 0), (1, 36), (2, 22))
                      for after in (False, True)]

    def stop(sg: int, op: int, code: int, after: bool) -> None:
        if op == 1:
            raise KeyboardInterrupt  # any exception is re-raised from invoke()

    it = _interp(path, callback=stop)
    with pytest.raises(KeyboardInterrupt):
        it.invoke()


def test_missing_library_error_says_how_to_build(monkeypatch: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:
    from edgelite.runtime import _lib

    monkeypatch.setattr(_lib, "_LIB", None)
    monkeypatch.setattr(_lib, "_candidates", lambda: [tmp_path / "nope.so"])
    with pytest.raises(EdgeliteError, match=r"make -C runtime_micro"):
        _lib.load()


def test_c_tests_under_asan_and_ubsan() -> None:
    """runtime_micro/tests: API test + corpus driver (every truncation) built with sanitizers,
    and the no-malloc check."""
    proc = make_in_tree("-s", "check", timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert "corpus: " in out and ", 0 failures" in out
    assert "check-malloc: OK" in out


def _external_buffer_model() -> bytes:
    """valid_base with the constant `c` stored after the flatbuffer (Buffer.offset/size), as
    TFLite does for models over 2 GB."""
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus
        import tflbuild
    finally:
        sys.path.remove(str(CORPUS))
    m = make_corpus.base_model()
    data = m.buffers[1]
    m.buffers[1] = ("ext", 1 << 20, len(data))  # placeholder: the u64 keeps the size fixed
    size = len(tflbuild.build(m))
    offset = (size + 15) // 16 * 16
    m.buffers[1] = ("ext", offset, len(data))
    m.appended = bytes(offset - size) + data
    model = tflbuild.build(m)
    assert len(model) == offset + len(data)
    return model


def test_external_buffers_match_litert() -> None:
    model = _external_buffer_model()
    ours = _interp(model)
    lite = _litert(model)
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    idx = np.array([1, 0], np.int32)
    ours.set_input(0, x)
    ours.set_input(1, idx)
    ours.invoke()
    for k, v in enumerate((x, idx)):
        lite.set_tensor(lite.get_input_details()[k]["index"], v)
    lite.invoke()
    want = lite.get_tensor(lite.get_output_details()[0]["index"])
    np.testing.assert_array_equal(ours.get_output(0), want)
    # the same data inline gives the same result (the offset was really followed)
    inline = _interp(CORPUS / "valid_base.tflite")
    inline.set_input(0, x)
    inline.set_input(1, idx)
    inline.invoke()
    np.testing.assert_array_equal(ours.get_output(0), inline.get_output(0))
    # cut the appended data: refused, not read past the end
    with pytest.raises(EdgeliteError, match=r"external buffer .* outside"):
        _interp(model[:-8])


def _lifetimes(model: bytes) -> tuple[dict[int, tuple[int, int]], dict[int, int]]:
    """Subgraph-0 tensor lifetimes [first op, last op] and reshape-like alias groups, read with
    LiteRT's schema module (an independent reader)."""
    from ai_edge_litert import schema_py_generated as schema

    m = schema.Model.GetRootAsModel(model, 0)
    g = m.Subgraphs(0)
    names = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    life: dict[int, list[int]] = {}

    def touch(t: int, k: int) -> None:
        lo, hi = life.setdefault(t, [k, k])
        life[t] = [min(lo, k), max(hi, k)]

    for t in g.InputsAsNumpy():
        touch(int(t), 0)
    group = {}
    n = g.OperatorsLength()
    for k in range(n):
        op = g.Operators(k)
        code = m.OperatorCodes(op.OpcodeIndex())
        name = names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]
        ins = [int(x) for x in op.InputsAsNumpy() if x >= 0]
        outs = [int(x) for x in op.OutputsAsNumpy()]
        for t in ins + outs:
            touch(t, k)
        if name in ("RESHAPE", "SQUEEZE", "EXPAND_DIMS") and ins:
            group[outs[0]] = group.get(ins[0], ins[0])
    for t in g.OutputsAsNumpy():
        touch(int(t), n)
    return {t: (lo, hi) for t, (lo, hi) in life.items()}, group


def _check_no_overlap(it, model: bytes) -> int:
    life, group = _lifetimes(model)
    spans = []
    for i in range(it.tensor_count):
        info = it._info(it._lib.el_tensor_info_at, i)
        if info.is_const or not info.data or i not in life:
            continue
        spans.append((i, int(info.data), int(info.bytes)))
    checked = 0
    for a in range(len(spans)):
        for b in range(a + 1, len(spans)):
            (ta, pa, na), (tb, pb, nb) = spans[a], spans[b]
            (fa, la), (fb, lb) = life[ta], life[tb]
            if fa > lb or fb > la:
                continue  # never live together
            checked += 1
            if pa < pb + nb and pb < pa + na:  # memory overlaps: only an in-place alias may
                assert group.get(ta, ta) == group.get(tb, tb) and pa == pb and na == nb, (
                    f"tensors {ta} and {tb} are live together but share memory")
    return checked


@pytest.mark.parametrize("path", WAKEWORD + [CORPUS / "valid_base.tflite"], ids=lambda p: p.stem)
def test_greedy_plan_never_overlaps_live_tensors(path: Path) -> None:
    it = _interp(path)
    assert _check_no_overlap(it, path.read_bytes()) > 0


def _accumulator_model(init_len: int = 2) -> bytes:
    """Two subgraphs and a resource variable: subgraph 1 (run once by CALL_ONCE) sets
    acc = [1.5, -2]; each invoke of subgraph 0 outputs y = acc + x and stores acc = y."""
    sys.path.insert(0, str(CORPUS))
    try:
        import tflbuild as tb
    finally:
        sys.path.remove(str(CORPUS))
    f32 = tb.FLOAT32
    init = np.array([1.5, -2.0, 0.25][:init_len], np.float32)
    handle = [(0, "str", ""), (1, "str", "acc")]
    sg1 = tb.Subgraph([tb.Tensor([], tb.RESOURCE, 0, "h_init"), tb.Tensor([init_len], f32, 1, "init")],
                      [], [], [tb.Op(1, [], [0], tb.OPT_VAR_HANDLE, handle), tb.Op(4, [0, 1], [])],
                      name="init")
    sg0 = tb.Subgraph(
        [tb.Tensor([2], f32, 0, "x"), tb.Tensor([], tb.RESOURCE, 0, "h"),
         tb.Tensor([2], f32, 0, "acc"), tb.Tensor([2], f32, 0, "y")],
        [0], [3],
        [tb.Op(0, [], [], tb.OPT_CALL_ONCE, [(0, "i32", 1)]),
         tb.Op(1, [], [1], tb.OPT_VAR_HANDLE, handle),
         tb.Op(2, [1], [2]),
         tb.Op(3, [2, 0], [3], tb.OPT_ADD, [(0, "u8", 0)]),
         tb.Op(4, [1, 3], [])])
    m = tb.Model([tb.CALL_ONCE, tb.VAR_HANDLE, tb.READ_VARIABLE, tb.ADD, tb.ASSIGN_VARIABLE],
                 [sg0, sg1], [None, init.tobytes()])
    return tb.build(m)


def test_call_once_and_resource_variable_accumulate_like_litert() -> None:
    model = _accumulator_model()
    ours = _interp(model)
    lite = _litert(model)
    rng = np.random.default_rng(7)
    xs = [rng.standard_normal(2).astype(np.float32) for _ in range(6)]
    got, want = [], []
    for x in xs:
        ours.set_input(0, x)
        ours.invoke()
        got.append(ours.get_output(0))
        lite.set_tensor(lite.get_input_details()[0]["index"], x)
        lite.invoke()
        want.append(lite.get_tensor(lite.get_output_details()[0]["index"]).copy())
    np.testing.assert_allclose(np.array(got), np.array(want), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(got[-1], np.array([1.5, -2.0]) + np.sum(xs, axis=0), rtol=1e-5)
    ours.reset()
    ours.set_input(0, xs[0])
    ours.invoke()
    np.testing.assert_array_equal(ours.get_output(0), got[0])


def test_resource_variable_with_two_sizes_is_refused() -> None:
    with pytest.raises(EdgeliteError, match=r"variable 'acc' is FLOAT32 of 12 bytes.*8 bytes"):
        _interp(_accumulator_model(init_len=3))
