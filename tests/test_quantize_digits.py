"""End to end on the trained digits example: int8 accuracy, size, report, auto precision.

Float accuracy comes from ONNX Runtime on the original .onnx (the oracle); int8 accuracy from
TFLite Micro running our quantized file; our runtime must agree with TFLite Micro bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from edgelite.quantize import QuantizeOptions, evaluate, quantize
from edgelite.quantize.report import feed, real_values
from edgelite.quantize.runner import Runner

DIGITS = Path(__file__).resolve().parents[1] / "examples" / "digits"


@pytest.fixture(scope="module")
def heldout() -> dict[str, np.ndarray]:
    with np.load(DIGITS / "heldout.npz") as d:
        return {k: d[k] for k in d.files}


@pytest.fixture(scope="module")
def int8(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("digits")
    return quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(
        calibration=DIGITS / "calibration.npz", progress=False,
        report_json=out / "report.json", report_html=out / "report.html")), out


def test_int8_top1_within_half_a_point_of_float(int8, heldout) -> None:
    from tflite_micro.python.tflite_micro import runtime

    result, _ = int8
    x, labels = heldout["input"], heldout["label"]
    sess = ort.InferenceSession(str(DIGITS / "digits_cnn.onnx"),
                                providers=["CPUExecutionProvider"])
    float_pred = np.array([np.argmax(sess.run(None, {"input": x[i:i + 1]})[0])
                           for i in range(len(x))])  # the model has batch 1
    g = result.graph
    tflm = runtime.Interpreter.from_bytes(result.model, arena_size=1 << 20)
    ours = Runner(result.model, g, "micro")
    q_pred = []
    for i in range(len(x)):
        q_in = feed(g, {"input": np.ascontiguousarray(np.moveaxis(x[i:i + 1], 1, -1))})
        tflm.set_input(q_in["input"], 0)
        tflm.invoke()
        out = np.array(tflm.get_output(0))
        ours.run(q_in)
        np.testing.assert_array_equal(ours.output(0), out)
        q_pred.append(int(np.argmax(real_values(g.outputs[0], out))))
    float_top1 = float(np.mean(float_pred == labels))
    int8_top1 = float(np.mean(np.array(q_pred) == labels))
    assert float_top1 > 0.95  # the README's 97.8 %
    assert abs(float_top1 - int8_top1) <= 0.005, (float_top1, int8_top1)


def test_int8_file_size(int8) -> None:
    """Weights shrink 4x; what is left is the format's fixed structure plus the quantization
    parameters (TFLite stores per-channel zero points as int64)."""
    result, _ = int8
    const_f = sum(t.nbytes for t in result.float_graph.tensors() if t.is_const)
    const_q = sum(t.nbytes for t in result.graph.tensors() if t.is_const)
    assert const_q <= 0.26 * const_f
    # A 15k-parameter model: the fixed structure weighs more than on real CNNs (below).
    assert len(result.model) <= 0.31 * len(result.float_model), (len(result.model),
                                                                 len(result.float_model))


def test_int8_cnn_file_is_at_most_27_percent_of_float(tmp_path) -> None:
    """MobileNetV2 1.0/224: TensorFlow's converter writes 28.4 % (PEERS.md); identical
    quantization-parameter vectors (all-zero per-channel zero points) are stored once."""
    import onnx
    from models import mobilenet_v2

    path = tmp_path / "mnv2.onnx"
    onnx.save(mobilenet_v2(1.0, 224), str(path))
    cal = np.random.default_rng(0).standard_normal((2, 3, 224, 224)).astype(np.float32)
    # Untrained weights on noise (a size test): the output SQNR floor does not apply.
    result = quantize(path, QuantizeOptions(calibration=cal, samples=2, progress=False,
                                            allow_low_sqnr=True))
    ratio = len(result.model) / len(result.float_model)
    print(f"MobileNetV2 1.0/224 int8 {len(result.model):,} B / float "
          f"{len(result.float_model):,} B = {100 * ratio:.2f} %")
    assert ratio <= 0.27


def test_evaluate_and_report(int8, heldout) -> None:
    result, out = int8
    ev = evaluate(result.float_graph, result.graph, {"input": heldout["input"][:200]},
                  heldout["label"][:200], progress=False)
    assert ev.samples == 200 and ev.top1_agreement >= 0.99
    assert abs(ev.float_top1 - ev.quant_top1) <= 0.01 and ev.float_top5 >= ev.float_top1
    assert ev.cosine > 0.999 and ev.sqnr_db > 25.0
    report = json.loads((out / "report.json").read_text())
    assert report["samples"] == 100 and report["mode"] == "int8"
    sqnrs = [t["sqnr_db"] for t in report["tensors"]]
    assert sqnrs == sorted(sqnrs) and len(sqnrs) >= 7  # worst first, every activation
    assert {t["tensor"] for t in report["tensors"]} >= {"input", "logits"}
    assert report["outputs"][0]["tensor"] == "logits" and report["outputs"][0]["cosine"] > 0.999
    page = (out / "report.html").read_text()
    assert "<svg" in page and "logits" in page
    assert "<script" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")


def test_report_sqnr_matches_numpy(int8, heldout) -> None:
    """The report's output SQNR recomputed independently from the two models' outputs."""
    result, _ = int8
    with np.load(DIGITS / "calibration.npz") as d:
        cal = d["input"]
    sess = ort.InferenceSession(str(DIGITS / "digits_cnn.onnx"),
                                providers=["CPUExecutionProvider"])
    ours = Runner(result.model, result.graph, "micro")
    sig = noise = 0.0
    for i in range(len(cal)):
        ref = sess.run(None, {"input": cal[i:i + 1]})[0].astype(np.float64)
        ours.run(feed(result.graph,
                      {"input": np.ascontiguousarray(np.moveaxis(cal[i:i + 1], 1, -1))}))
        got = real_values(result.graph.outputs[0], ours.output(0))
        sig += float(np.sum(ref ** 2))
        noise += float(np.sum((ref - got) ** 2))
    assert result.report.outputs[0].sqnr_db == pytest.approx(10 * np.log10(sig / noise), abs=0.05)


def test_auto_precision_reaches_target_and_reports_cost() -> None:
    # Raised layers run int16x8 kernels; the search runs on LiteRT's reference kernels
    # (backend="litert") because runtime_micro has no int16 CONV_2D/FULLY_CONNECTED yet.
    opts = {"calibration": DIGITS / "calibration.npz", "samples": 32, "io": "float",
            "backend": "litert", "progress": False}
    base = quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(report=True, **opts))
    target = base.report.output_sqnr_db + 3.0
    auto = quantize(DIGITS / "digits_cnn.onnx", QuantizeOptions(auto_precision=target, **opts))
    assert auto.changes, "nothing was raised"
    assert auto.report.output_sqnr_db >= target
    for c in auto.changes:
        assert c["from"] in ("int8", "int16") and c["to"] in ("int16", "float")
        assert isinstance(c["size_bytes_delta"], int)
    total = sum(c["size_bytes_delta"] for c in auto.changes)
    # The final file also records the raised layers in its metadata (plus alignment padding).
    meta = len(auto.graph.metadata["edgelite"]) - len(base.graph.metadata["edgelite"])
    assert abs(len(auto.model) - len(base.model) - total - meta) <= 16
    raised = json.loads(auto.graph.metadata["edgelite"])["quantization"]["auto_precision"]
    assert raised["raised"] == {c["op"]: c["to"] for c in auto.changes}  # final precisions


def test_float_tflite_input_gives_the_same_model(int8, tmp_path: Path) -> None:
    """Quantizing the float .tflite (read back by the reader) equals quantizing the .onnx."""
    result, _ = int8
    path = tmp_path / "digits_float.tflite"
    path.write_bytes(result.float_model)
    again = quantize(path, QuantizeOptions(calibration=DIGITS / "calibration.npz",
                                           progress=False))
    assert again.model == result.model
