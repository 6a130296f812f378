"""`edgelite bench` on the digits example: report fields, per-op profile, peers side by side.

Oracles: LiteRT lists the model's ops (its own flatbuffer reader) and the file system gives the
model size; the peers' outputs (LiteRT reference kernels, TFLite Micro, ONNX Runtime) are what
the agreement column is checked against. Runs are few and nothing here asserts speed.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
from helpers.cli import assert_user_error
from helpers.cli import edgelite_cmd as edgelite

from edgelite.bench.compare import agreement
from edgelite.bench.inputs import ModelLayout
from edgelite.runtime.interpreter import TensorDetails

REPO = Path(__file__).resolve().parents[1]
DIGITS = REPO / "examples" / "digits"
FEW = ("--runs", "3", "--warmup", "1")


def bench_json(*args: str) -> dict:
    res = edgelite("bench", *args, "--json")
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("bench")
    paths = {"float": tmp / "digits.tflite", "int8": tmp / "digits_int8.tflite"}
    res = edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(paths["float"]))
    assert res.returncode == 0, res.stderr
    res = edgelite("quantize", str(DIGITS / "digits_cnn.onnx"), "-o", str(paths["int8"]),
                   "--calibration", str(DIGITS / "calibration.npz"))
    assert res.returncode == 0, res.stderr
    return paths


def litert_ops(path: Path) -> list[tuple[int, str]]:
    from ai_edge_litert.interpreter import Interpreter

    return [(op["index"], op["op_name"]) for op in Interpreter(
        model_path=str(path))._get_ops_details()]


def test_json_report_and_per_op_profile(models: dict[str, Path]) -> None:
    report = bench_json(str(models["float"]), *FEW)
    for key in ("model", "model_bytes", "arena_bytes", "inputs", "input_source", "init_ms",
                "warmup", "latency_ms", "profile", "compare"):
        assert key in report, key
    assert report["model_bytes"] == models["float"].stat().st_size
    assert report["arena_bytes"] > 0 and report["init_ms"] > 0
    assert report["kernels"].startswith("opt")  # the optimized kernels, the CPU's choice
    assert report["inputs"] == ["input float32[1,28,28,1]"]
    lat = report["latency_ms"]
    assert lat["runs"] == 3
    assert 0 < lat["min_ms"] <= lat["p50_ms"] <= lat["p90_ms"] <= lat["p99_ms"]
    assert lat["min_ms"] <= lat["mean_ms"]
    assert report["compare"] == []

    prof = report["profile"]
    assert prof["invokes"] == 3
    # Every op of the model, as LiteRT lists them, exactly once per invoke.
    assert [(o["index"], o["op"]) for o in prof["ops"]] == litert_ops(models["float"])
    assert all(o["subgraph"] == 0 and o["calls"] == prof["invokes"] for o in prof["ops"])
    assert sum(o["percent"] for o in prof["ops"]) == pytest.approx(100.0, abs=0.01)
    by_type = {t["op"]: t for t in prof["by_type"]}
    ops = [name for _, name in litert_ops(models["float"])]
    assert {k: v["count"] for k, v in by_type.items()} == {n: ops.count(n) for n in set(ops)}
    assert sum(t["percent"] for t in prof["by_type"]) == pytest.approx(100.0, abs=0.01)


def test_text_report_says_the_profile_ran_separately(models: dict[str, Path]) -> None:
    res = edgelite("bench", str(models["int8"]), *FEW)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "latency" in out and "p99" in out and "arena" in out and "init" in out
    assert "separate pass" in out and "measured without it" in out
    assert "by op type:" in out and "CONV_2D" in out and "FULLY_CONNECTED" in out


def test_compare_int8_is_bit_exact_with_the_reference_family(models: dict[str, Path]) -> None:
    res = edgelite("bench", str(models["int8"]), *FEW, "--no-profile",
                   "--compare", "litert,tflm,tflite-runtime")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    row = {key: next(ln for ln in lines if ln.startswith(label))
           for key, label in (("ref", "LiteRT reference kernels"), ("tflm", "TFLite Micro"),
                              ("builtin", "LiteRT built-in"), ("xnnpack", "LiteRT default"))}
    assert row["ref"].rstrip().endswith("bit-exact")
    assert row["tflm"].rstrip().endswith("bit-exact")
    assert "edgelite (runtime_micro)" in res.stdout
    if importlib.util.find_spec("tflite_runtime") is None:
        missing = next(ln for ln in lines if ln.startswith("tflite-runtime "))
        assert "not installed: pip install tflite-runtime" in missing

    report = bench_json(str(models["int8"]), *FEW, "--no-profile", "--compare", "litert,tflm")
    rows = {r["runtime"]: r for r in report["compare"]}
    assert list(rows) == ["edgelite", "litert-ref", "litert-builtin", "litert-xnnpack", "tflm"]
    for key in ("litert-ref", "tflm"):
        assert rows[key]["status"] == "ok"
        assert rows[key]["agreement"]["exact"] is True
        assert rows[key]["latency_ms"]["runs"] == 3
        assert rows[key]["median_ratio_to_edgelite"] > 0
    assert rows["tflm"]["arena_bytes"] > 0  # read from TFLM's own allocation report
    assert report["profile"] is None

    # --reference-kernels: runtime_micro's plain C kernels, still bit-exact with both oracles
    report = bench_json(str(models["int8"]), *FEW, "--no-profile", "--compare", "litert-ref,tflm",
                        "--reference-kernels")
    assert report["kernels"] == "reference"
    assert all(r["agreement"]["exact"] for r in report["compare"] if r["runtime"] != "edgelite")


def test_threads_same_bytes_as_litert_reference(models: dict[str, Path]) -> None:
    """--threads 2: runtime_micro with its own pool, still bit-exact with LiteRT's reference
    kernels and TFLite Micro, and the report says how many threads ran."""
    report = bench_json(str(models["int8"]), *FEW, "--no-profile", "--compare", "litert-ref,tflm",
                        "--threads", "2")
    assert report["kernels"].endswith(", 2 threads")
    assert all(r["agreement"]["exact"] for r in report["compare"] if r["runtime"] != "edgelite")


def test_threads_reach_the_peers(models: dict[str, Path], monkeypatch: pytest.MonkeyPatch
                                 ) -> None:
    """--threads N with --compare runs LiteRT and ONNX Runtime on N threads too (TFLite Micro
    has none), and the table says so: a two-thread runtime_micro beside one-thread peers
    would read as a speed-up of the kernels."""
    from edgelite.bench import runners
    from edgelite.bench.api import BenchConfig, run_bench
    from edgelite.bench.render import render_text

    seen: dict[str, int] = {}
    tfl_init, ort_init = runners._TfliteInterpreterRunner.__init__, runners.OnnxRuntimeRunner.__init__

    def tfl_spy(self, w, cls, threads=1, **kw):
        seen[kw["experimental_op_resolver_type"].name] = threads
        tfl_init(self, w, cls, threads, **kw)

    def ort_spy(self, w, threads=1):
        seen["onnxruntime"] = threads
        ort_init(self, w, threads)

    monkeypatch.setattr(runners._TfliteInterpreterRunner, "__init__", tfl_spy)
    monkeypatch.setattr(runners.OnnxRuntimeRunner, "__init__", ort_spy)
    report = run_bench(BenchConfig(model=models["float"], warmup=1, runs=3, profile=False,
                                   compare=("litert-ref", "litert-xnnpack", "tflm", "onnxruntime"),
                                   onnx=DIGITS / "digits_cnn.onnx", threads=2))
    assert seen == {"BUILTIN_REF": 2, "AUTO": 2, "onnxruntime": 2}
    ort_row = next(r for r in report.compare if r.key == "onnxruntime")
    assert ort_row.status == "ok" and ort_row.agreement.max_abs_diff < 1e-3
    assert report.as_json()["threads"] == 2
    assert "2 threads each, TFLite Micro one, same input" in render_text(report)


def test_compare_onnxruntime_on_the_source_with_a_file_input(models: dict[str, Path]) -> None:
    # calibration.npz holds NCHW float digits; the .tflite input is NHWC. ONNX Runtime gets the
    # same sample back in NCHW, so its outputs must match runtime_micro's float outputs.
    report = bench_json(str(models["float"]), *FEW, "--no-profile",
                        "--input", str(DIGITS / "calibration.npz"),
                        "--compare", "onnxruntime,litert-ref",
                        "--onnx", str(DIGITS / "digits_cnn.onnx"))
    assert any("moved channels last" in n for n in report["notes"])
    rows = {r["runtime"]: r for r in report["compare"]}
    ort = rows["onnxruntime"]
    assert ort["status"] == "ok", ort
    assert ort["agreement"]["problem"] is None
    assert ort["agreement"]["max_abs_diff"] < 1e-3
    assert rows["litert-ref"]["agreement"]["max_abs_diff"] < 1e-4

    # The same first sample fed straight to ONNX Runtime gives the logits runtime_micro gave.
    import onnxruntime as ort_mod

    with np.load(DIGITS / "calibration.npz") as f:
        x = f["input"][:1]
    ref = ort_mod.InferenceSession(str(DIGITS / "digits_cnn.onnx"),
                                   providers=["CPUExecutionProvider"]).run(None, {"input": x})[0]
    from edgelite.runtime import Interpreter

    it = Interpreter(models["float"])
    it.set_input(0, np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    it.invoke()
    np.testing.assert_allclose(it.get_output(0), ref, atol=1e-4)


def _details(dtype: type, scale: float = 0.0, zp: int = 0) -> TensorDetails:
    return TensorDetails(index=0, name="y", shape=(1, 4), dtype=np.dtype(dtype), scale=scale,
                         zero_point=zp, quant_count=1 if scale else 0, quantized_dimension=0)


def test_agreement_reports_differences() -> None:
    ours = [np.array([[1, 2, 3, 4]], dtype=np.int8)]
    none = ModelLayout(frozenset(), frozenset())
    same = agreement(ours, [ours[0].copy()], [_details(np.int8, 0.5, 1)], none, real=False)
    assert same.exact and same.text() == "bit-exact"
    off = agreement(ours, [np.array([[1, 2, 6, 4]], dtype=np.int8)],
                    [_details(np.int8, 0.5, 1)], none, real=False)
    assert not off.exact and off.max_abs_diff == 3 and off.differing == 0.25
    assert off.text() == "max diff 3 steps, 25.0 % of values differ"
    # Real-valued peer outputs are compared with edgelite's dequantized ones: (q - 1) * 0.5.
    real = agreement(ours, [np.array([[0.0, 0.5, 1.0, 2.5]], dtype=np.float32)],
                     [_details(np.int8, 0.5, 1)], none, real=True)
    assert real.max_abs_diff == pytest.approx(1.0) and real.max_steps == pytest.approx(2.0)
    bad = agreement(ours, [np.zeros((1, 5), np.int8)], [_details(np.int8)], none, real=False)
    assert "shape" in bad.text()


@pytest.mark.parametrize("args, fragments", [
    (("--runs", "0"), ("--runs",)),
    (("--warmup", "-1"), ("--warmup",)),
    (("--max-seconds", "0"), ("--max-seconds",)),
    (("--compare", "litert,tensorflow"), ("'tensorflow'", "tflm")),
    (("--compare", "onnxruntime"), ("--onnx",)),
    (("--onnx", "x.onnx"), ("--compare onnxruntime",)),
    (("--input", "missing.npy"), ("missing.npy", "not found")),
    (("--threads", "0"), ("--threads",)),
    (("--threads", "2", "--target", "cortex-m4"), ("--threads", "ssh:// and adb devices")),
])
def test_bad_options_are_one_line_errors(models: dict[str, Path], args: tuple[str, ...],
                                         fragments: tuple[str, ...]) -> None:
    assert_user_error(edgelite("bench", str(models["int8"]), *args), *fragments)


def test_bad_model_and_input_files(models: dict[str, Path], tmp_path: Path) -> None:
    assert_user_error(edgelite("bench", str(DIGITS / "digits_cnn.onnx")),
                      "digits_cnn.onnx", "not a .tflite file", "edgelite convert")
    np.save(tmp_path / "wrong.npy", np.zeros((2, 5), np.float32))
    assert_user_error(edgelite("bench", str(models["int8"]), "--input",
                               str(tmp_path / "wrong.npy")), "does not fit the model input")
