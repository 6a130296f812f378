"""ONNX backend node tests (onnx 1.22 corpus) through our converter, run in LiteRT.

For every case whose op types our REGISTRY claims: inputs the lowering declares constant
(``const_inputs``) are frozen into initializers from the case's own data, the model is converted
with ``keep_nchw_io=True`` (inputs/outputs keep ONNX layout), run in LiteRT, and compared with
the outputs the ONNX project stored (rtol 1e-4, atol 1e-5; exact for integer/bool).

A case passes, or the converter raises our UnsupportedError for a variant a lowering declares
unsupported (dtype, opset, attribute value, non-constant input...) — counted separately and
listed by reason in the summary. Anything else (wrong numbers, crashes, LiteRT refusing the
file) fails; the one tolerance beyond rtol/atol is TFLite saturating an expected +-inf to
+-FLT_MAX (see ``_saturated_inf``). ``python tests/test_onnx_backend.py [name-filter...]`` prints
the same summary without pytest.

The reader accepts opsets up to READER_MAX_OPSET (21) while the corpus exports many cases at
22-25. Between those opsets our ops' schemas only gained element types (bfloat16, float8,
int4...), so a case whose every node has the same attributes and inputs at READER_MAX_OPSET as at
its own opset is relabelled before conversion: the node semantics for its data types are
unchanged.
"""

from __future__ import annotations

import collections
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).parent))

from onnx_corpus import cases as corpus_cases  # noqa: E402

from edgelite.converter import ConvertOptions, convert_to_bytes  # noqa: E402
from edgelite.converter.onnx_reader import MAX_OPSET as READER_MAX_OPSET  # noqa: E402
from edgelite.converter.ops import REGISTRY  # noqa: E402
from edgelite.errors import Code, EdgeliteError  # noqa: E402

RTOL, ATOL = 1e-4, 1e-5
IGNORED_OPS = {"Constant"}  # folded by the reader, not lowered
# Cases whose stored outputs are rounded (ONNX Runtime misses them at RTOL/ATOL too).
TOLERANCE = {
    # expected values written with 4 decimals: [0.1511 0.2841 0.3572] for 0.151056...
    "test_averagepool_2d_ceil_last_window_starts_on_pad": (1e-4, 6e-5),
}


@dataclass
class Outcome:
    status: str  # "pass", "unsupported", "fail"
    detail: str = ""


def _op_types(model: onnx.ModelProto) -> set[str]:
    return {n.op_type for n in model.graph.node if n.domain in ("", "ai.onnx")} | {
        f"{n.domain}.{n.op_type}" for n in model.graph.node if n.domain not in ("", "ai.onnx")}


def claimed_cases() -> list[Path]:
    out = []
    for case in corpus_cases():
        model = onnx.load(case / "model.onnx", load_external_data=False)
        ops = _op_types(model) - IGNORED_OPS
        if ops and ops <= set(REGISTRY):
            out.append(case)
    return out


def _load_data(case: Path, prefix: str, count: int) -> list[list[np.ndarray]]:
    sets = []
    for d in sorted(case.glob("test_data_set_*")):
        arrays = []
        for i in range(count):
            t = onnx.TensorProto()
            t.ParseFromString((d / f"{prefix}_{i}.pb").read_bytes())
            arrays.append(numpy_helper.to_array(t))
        sets.append(arrays)
    return sets


def _freeze(model: onnx.ModelProto, data: list[np.ndarray]) -> set[str]:
    """Turn graph inputs feeding a declared-constant input slot into initializers."""
    graph = model.graph
    names = [i.name for i in graph.input if i.name not in {t.name for t in graph.initializer}]
    value = dict(zip(names, data))
    frozen: set[str] = set()
    for node in graph.node:
        lowering = REGISTRY.get(node.op_type)
        if lowering is None:
            continue
        for i in lowering.const_inputs:
            if i < len(node.input) and node.input[i] in value:
                frozen.add(node.input[i])
    for name in sorted(frozen):
        graph.initializer.append(numpy_helper.from_array(value[name], name))
    keep = [i for i in graph.input if i.name not in frozen]
    del graph.input[:]
    graph.input.extend(keep)
    return frozen


def _same_semantics(node: onnx.NodeProto, old: int, new: int) -> bool:
    """Does ``node`` mean the same at opset ``old`` as at ``new``?

    True when the two schemas take the same inputs and every attribute of the old schema is
    unchanged in the new one, and the node uses no attribute the old schema lacks.
    """
    try:
        sa = onnx.defs.get_schema(node.op_type, old, "")
    except onnx.defs.SchemaError:  # the op is newer than ``old``
        return False
    sb = onnx.defs.get_schema(node.op_type, new, "")
    if sa.since_version == sb.since_version:
        return True
    def attrs(s):
        return {k: (v.type, str(v.default_value)) for k, v in s.attributes.items()}
    ins = [(i.name, i.option) for i in sa.inputs] == [(i.name, i.option) for i in sb.inputs]
    same = all(attrs(sb).get(k) == v for k, v in attrs(sa).items())
    return ins and same and all(a.name in sa.attributes for a in node.attribute)


def _relabel_opset(model: onnx.ModelProto) -> bool:
    """Relabel a newer-opset case as READER_MAX_OPSET when its nodes mean the same there."""
    imp = next((o for o in model.opset_import if o.domain in ("", "ai.onnx")), None)
    if imp is None or imp.version <= READER_MAX_OPSET:
        return False
    if not all(_same_semantics(n, READER_MAX_OPSET, imp.version) for n in model.graph.node):
        return False
    imp.version = READER_MAX_OPSET
    model.ir_version = min(model.ir_version, 10)
    return True


def _interpreter(blob: bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    return Interpreter(model_content=blob,
                       experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES)


def _saturated_inf(got: np.ndarray, want: np.ndarray) -> np.ndarray:
    """TFLite's float arithmetic clamps results to its activation range [lowest, max] even
    with no activation, so an ONNX -inf (e.g. an attention mask added to scores) comes out as
    -FLT_MAX. Only there, where the expected value is infinite, do we count that as equal."""
    big = np.finfo(np.float32).max
    sat = np.isinf(want) & (np.abs(got) == big) & (np.sign(got) == np.sign(want))
    return np.where(sat, want, got)


def run_case(case: Path) -> Outcome:
    model = onnx.load(case / "model.onnx")
    n_in = len([i for i in model.graph.input
                if i.name not in {t.name for t in model.graph.initializer}])
    in_names = [i.name for i in model.graph.input][:n_in]
    out_names = [o.name for o in model.graph.output]
    try:
        inputs = _load_data(case, "input", n_in)
        outputs = _load_data(case, "output", len(out_names))
    except (ValueError, TypeError) as e:
        # Not plain tensors (strings, sequences...): the converter must refuse the model.
        inputs, outputs, load_error = [[]], [[]], str(e)
    else:
        load_error = ""
    if not inputs:
        return Outcome("fail", "case has no test data")
    frozen = _freeze(model, inputs[0]) if not load_error else set()
    dynamic = {vi.name for vi in model.graph.input if any(
        not d.HasField("dim_value") for d in vi.type.tensor_type.shape.dim)}
    _relabel_opset(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.onnx"
        onnx.save(model, path)
        try:
            # Node tests may declare symbolic dims; their data fixes them.
            shapes = {n: tuple(a.shape) for n, a in zip(in_names, inputs[0])
                      if n not in frozen and n in dynamic}
            blob = convert_to_bytes(path, ConvertOptions(input_shapes=shapes,
                                                         keep_nchw_io=True))
        except EdgeliteError as e:
            if e.code == Code.UNSUPPORTED:
                # A declared constraint: a lowering's (op: reason) or the reader's (opset range,
                # input element type), reported without the temporary path.
                reasons = "; ".join(sorted({f"{d.op_type}: {d.reason}" for d in e.details}))
                return Outcome("unsupported", reasons or f"model: {e.message}")
            return Outcome("fail", f"conversion error: {e}")
    if load_error:
        return Outcome("fail", f"converted a model whose test data numpy cannot read: "
                               f"{load_error}")
    try:
        interp = _interpreter(blob)
        interp.allocate_tensors()
    except Exception as e:  # noqa: BLE001  LiteRT refusing our file is a failure to report
        return Outcome("fail", f"LiteRT cannot load the model: {e}")
    by_name_in = {d["name"]: d for d in interp.get_input_details()}
    by_name_out = {d["name"]: d for d in interp.get_output_details()}
    rtol, atol = TOLERANCE.get(case.name, (RTOL, ATOL))
    for data_in, data_out in zip(inputs, outputs):
        for name, arr in zip(in_names, data_in):
            if name in frozen:
                continue
            if name not in by_name_in:
                return Outcome("fail", f"input {name!r} missing from the .tflite signature "
                                       f"({sorted(by_name_in)})")
            d = by_name_in[name]
            if tuple(d["shape"]) != arr.shape:
                return Outcome("fail", f"input {name!r} has shape {tuple(d['shape'])}, data "
                                       f"{arr.shape}")
            interp.set_tensor(d["index"], arr.astype(d["dtype"]))
        try:
            interp.invoke()
        except Exception as e:  # noqa: BLE001
            return Outcome("fail", f"LiteRT invoke failed: {e}")
        for name, want in zip(out_names, data_out):
            if name not in by_name_out:
                return Outcome("fail", f"output {name!r} missing from the .tflite signature")
            got = interp.get_tensor(by_name_out[name]["index"])
            if got.shape != want.shape:
                return Outcome("fail", f"output {name!r} shape {got.shape}, expected "
                                       f"{want.shape}")
            if want.dtype.kind in "fc":
                got = _saturated_inf(got, want)
                bad = ~np.isclose(got.astype(np.float64), want.astype(np.float64), rtol=rtol,
                                  atol=atol, equal_nan=True)
            else:
                bad = got.astype(want.dtype) != want
            if np.any(bad):
                err = (np.max(np.abs(got.astype(np.float64) - want.astype(np.float64)))
                       if want.dtype.kind in "fciub" else "n/a")
                return Outcome("fail", f"output {name!r}: {int(bad.sum())}/{want.size} values "
                                       f"differ (max abs err {err})")
    return Outcome("pass")


CASES = claimed_cases()
RESULTS: dict[str, Outcome] = {}
# Passing cases recorded at 888 (2026-12; 882 in 2026-11): a lowering that starts refusing its
# cases (declared unsupported counts as not failing) would otherwise stay green. Raise it when
# coverage grows.
MIN_PASSING = 888


def summary(results: dict[str, Outcome]) -> list[str]:
    counts = collections.Counter(o.status for o in results.values())
    lines = [f"ONNX node tests: {len(corpus_cases())} in corpus, {len(results)} claimed, "
             f"{counts['pass']} passed, {counts['unsupported']} declared-unsupported, "
             f"{counts['fail']} failed"]
    reasons = collections.Counter(o.detail for o in results.values() if o.status == "unsupported")
    for reason, n in sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  unsupported x{n}: {reason}")
    for name, o in sorted(results.items()):
        if o.status == "fail":
            lines.append(f"  FAIL {name}: {o.detail}")
    return lines


@pytest.fixture(scope="module", autouse=True)
def _report(request):
    yield
    if RESULTS:
        capture = request.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print("\n" + "\n".join(summary(RESULTS)))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_node(case: Path) -> None:
    outcome = run_case(case)
    RESULTS[case.name] = outcome
    assert outcome.status != "fail", outcome.detail


def test_minimum_passing() -> None:
    """Runs last: counts the passes of the cases above (running any left out by -k)."""
    for case in CASES:
        if case.name not in RESULTS:
            RESULTS[case.name] = run_case(case)
    passed = sum(o.status == "pass" for o in RESULTS.values())
    assert passed >= MIN_PASSING, (
        f"{passed} ONNX node tests pass, fewer than the {MIN_PASSING} recorded: a lowering "
        f"now refuses or fails cases it used to convert (see the summary)")


if __name__ == "__main__":
    only = sys.argv[1:]
    for c in CASES:
        if not only or any(s in c.name for s in only):
            RESULTS[c.name] = run_case(c)
    print("\n".join(summary(RESULTS)))
    sys.exit(1 if any(o.status == "fail" for o in RESULTS.values()) else 0)
