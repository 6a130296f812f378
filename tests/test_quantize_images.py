"""`edgelite quantize` calibrated on a folder of real photos, its report, bad folders, and
`--auto-precision` on a model with one badly quantizable layer, all through the CLI.

The photos are scikit-image's (astronaut, chelsea, coffee, ...), written as PNG/JPEG with crops
and rescales. The network is MobileNetV2-0.35/96 (tests/models.py: random weights, real
BatchNorm statistics), so accuracy is not the question here; what must hold on real images:
runtime_micro is bit-exact with TFLite Micro, the input range is the photos' range after the
given mean/std, and the report's SQNR is what the oracles (ONNX Runtime float, TFLite Micro
int8) give on the same photos. tests/test_quantize_data.py covers the image preprocessing
details; tests/test_quantize_digits.py covers auto precision on LiteRT with int16 kernels.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import skimage.data as skimage_data  # the `test` extra installs scikit-image (and Pillow)
from helpers.cli import edgelite_cmd as edgelite
from onnx import TensorProto, helper, numpy_helper
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
SIZE = 96
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
IMAGE_FLAGS = ["--image-size", f"{SIZE},{SIZE}", "--image-mean", ",".join(map(str, MEAN)),
               "--image-std", ",".join(map(str, STD))]


def one_line_error(res: subprocess.CompletedProcess[str], *fragments: str) -> str:
    assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for frag in fragments:
        assert frag in lines[0], (frag, lines[0])
    return lines[0]


def write_photos(folder: Path) -> list[Path]:
    """scikit-image's photos, whole and as crops/rescales, alternately PNG and JPEG (40)."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    sources = {name: getattr(skimage_data, name)() for name in
               ("astronaut", "chelsea", "coffee", "rocket", "camera", "coins", "hubble_deep_field",
                "retina")}
    paths = []
    for name, px in sources.items():
        im = Image.fromarray(px)  # "camera", "coins": grayscale files (read back as RGB)
        w, h = im.size
        views = [im]
        for _ in range(4):
            side = int(min(w, h) * rng.uniform(0.35, 0.9))
            left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            views.append(im.crop((left, top, left + side, top + side))
                         .resize((int(side * rng.uniform(0.3, 1.0)),) * 2, Image.BICUBIC))
        for i, view in enumerate(views):
            path = folder / f"{name}_{i}.{'png' if i % 2 == 0 else 'jpg'}"
            view.save(path, quality=92) if path.suffix == ".jpg" else view.save(path)
            paths.append(path)
    return sorted(paths)


def preprocess(path: Path) -> np.ndarray:
    """The preprocessing the flags ask for, written out here: RGB, bilinear resize, /255,
    (x - mean) / std; NHWC float32 (the converted model's input layout)."""
    with Image.open(path) as im:
        px = np.asarray(im.convert("RGB").resize((SIZE, SIZE), Image.BILINEAR), np.float32)
    x = (px * np.float32(1 / 255) - np.asarray(MEAN, np.float32)) / np.asarray(STD, np.float32)
    return x[None].astype(np.float32)


@pytest.fixture(scope="module")
def photos(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    folder = tmp_path_factory.mktemp("photos") / "photos"
    paths = write_photos(folder)
    return folder, np.concatenate([preprocess(p) for p in paths])


@pytest.fixture(scope="module")
def mnv2(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import models

    path = tmp_path_factory.mktemp("mnv2") / "mnv2_035_96.onnx"
    onnx.save(models.mobilenet_v2(0.35, SIZE), str(path))
    return path


@pytest.fixture(scope="module")
def quantized(photos, mnv2, tmp_path_factory: pytest.TempPathFactory):
    folder, _ = photos
    out = tmp_path_factory.mktemp("q")
    # Random (untrained) weights: int8 keeps ~13 dB of its logits, under the 15 dB floor;
    # these tests check the file and report against the oracles, so it is written anyway.
    res = edgelite("quantize", str(mnv2), "--calibration", str(folder), *IMAGE_FLAGS,
                   "-o", str(out / "int8.tflite"), "--report", str(out / "report.json"),
                   "--report-html", str(out / "report.html"), "--allow-low-sqnr")
    assert res.returncode == 0, res.stderr
    return out, res


def _litert(model: bytes):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    return it


def _quantize_input(x: np.ndarray, scale: float, zp: int) -> np.ndarray:
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8)


def test_input_range_is_the_photos_range(quantized, photos) -> None:
    """Min/max calibration of the input: LiteRT reads back int8 parameters spanning exactly
    the preprocessed photos' range, so the folder, size, mean and std were all applied."""
    out, res = quantized
    _, x = photos
    assert "output SQNR" in res.stdout and "wrote" in res.stdout
    detail = _litert((out / "int8.tflite").read_bytes()).get_input_details()[0]
    assert detail["dtype"] == np.int8 and list(detail["shape"]) == [1, SIZE, SIZE, 3]
    scale, zp = detail["quantization"]
    lo, hi = float(x.min()), float(x.max())
    assert lo < -1.5 and hi > 2.0  # ImageNet-normalised photos, not [0, 1] pixels
    assert scale == pytest.approx((hi - lo) / 255, rel=1e-4)
    assert abs(zp - (-128 - lo / scale)) <= 1.0


def test_runtime_micro_bit_exact_with_tflm_on_photos(quantized, photos) -> None:
    from tflite_micro.python.tflite_micro import runtime

    from edgelite.runtime import Interpreter

    out, _ = quantized
    _, x = photos
    model = (out / "int8.tflite").read_bytes()
    lite = _litert(model)
    scale, zp = lite.get_input_details()[0]["quantization"]
    tflm = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    ours = Interpreter(model)
    for i in range(len(x)):
        q = _quantize_input(x[i:i + 1], scale, zp)
        tflm.set_input(q, 0)
        tflm.invoke()
        want = np.array(tflm.get_output(0))
        ours.set_input(0, q)
        ours.invoke()
        np.testing.assert_array_equal(ours.get_output(0), want)
        lite.set_tensor(lite.get_input_details()[0]["index"], q)
        lite.invoke()
        got = lite.get_tensor(lite.get_output_details()[0]["index"]).astype(np.int32)
        assert np.max(np.abs(got - want)) <= 1  # LiteRT's FULLY_CONNECTED rounding


def test_report_on_photos_matches_the_oracles(quantized, photos, mnv2) -> None:
    """The report's output SQNR is recomputed from ONNX Runtime (float, on the .onnx) and
    TFLite Micro (int8) on the same photos; rows are worst first; the HTML fetches nothing."""
    from tflite_micro.python.tflite_micro import runtime

    out, res = quantized
    _, x = photos
    report = json.loads((out / "report.json").read_text())
    assert report["samples"] == len(x) == 40 and report["mode"] == "int8"
    rows = report["tensors"]
    assert [r["sqnr_db"] for r in rows] == sorted(r["sqnr_db"] for r in rows)
    assert len(rows) > 50 and all(-1.0 <= r["cosine"] <= 1.0 for r in rows)
    assert rows[0]["sqnr_db"] <= report["output_sqnr_db"]

    model = (out / "int8.tflite").read_bytes()
    lite = _litert(model)
    scale, zp = lite.get_input_details()[0]["quantization"]
    o_scale, o_zp = lite.get_output_details()[0]["quantization"]
    sess = ort.InferenceSession(str(mnv2), providers=["CPUExecutionProvider"])
    tflm = runtime.Interpreter.from_bytes(model, arena_size=1 << 20)
    ref, got = [], []
    for i in range(len(x)):
        ref.append(sess.run(None, {"input": np.ascontiguousarray(
            x[i:i + 1].transpose(0, 3, 1, 2))})[0].astype(np.float64))
        tflm.set_input(_quantize_input(x[i:i + 1], scale, zp), 0)
        tflm.invoke()
        got.append((np.array(tflm.get_output(0)).astype(np.float64) - o_zp) * o_scale)
    r, g = np.concatenate(ref), np.concatenate(got)
    sqnr = 10 * np.log10(np.sum(r ** 2) / np.sum((r - g) ** 2))
    assert report["output_sqnr_db"] == pytest.approx(sqnr, abs=0.1)
    cos = float(np.sum(r * g) / np.sqrt(np.sum(r * r) * np.sum(g * g)))
    assert report["outputs"][0]["cosine"] == pytest.approx(cos, abs=1e-4)
    assert f"output SQNR {report['output_sqnr_db']:.2f} dB" in res.stdout

    page = (out / "report.html").read_text()
    assert "<svg" in page and rows[0]["tensor"] in page
    assert f"{report['output_sqnr_db']:.2f} dB" in page  # the SQNR is on the page itself
    assert page.index(rows[0]["tensor"]) < page.index(rows[-1]["tensor"])
    without_ns = page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert not re.search(r"https?:|<script|<link|<img|src=|url\(|@import", without_ns)


@pytest.mark.parametrize("case", ["empty", "unreadable", "gray_for_rgb"])
def test_bad_image_folder_fails_first(case: str, photos, mnv2, tmp_path: Path) -> None:
    """One-line error naming the folder and the shape the model expects; exit 2; no files."""
    folder = tmp_path / "images"
    folder.mkdir()
    flags = list(IMAGE_FLAGS)
    if case == "empty":
        (folder / "README.txt").write_text("no images here")
    else:
        for p in sorted(photos[0].iterdir())[:3]:
            (folder / p.name).write_bytes(p.read_bytes())
        if case == "unreadable":
            (folder / "zz_broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really a png")
        else:
            flags += ["--image-channels", "gray"]
    out = tmp_path / "out.tflite"
    res = edgelite("quantize", str(mnv2), "--calibration", str(folder), *flags, "-o", str(out),
                   "--report", str(tmp_path / "r.json"))
    line = one_line_error(res, str(folder), "[1, 96, 96, 3]")
    if case == "unreadable":
        assert "zz_broken.png" in line and "cannot read image" in line
    assert "Traceback" not in res.stderr and res.stdout == ""
    assert not out.exists() and not (tmp_path / "r.json").exists()


# ---- auto precision on a model with one badly quantizable layer ----------------------------


def outlier_model(rng: np.random.Generator, x: np.ndarray) -> onnx.ModelProto:
    """Two heads on a shared stem. "features": three ordinary convolutions. "detector": one
    channel of a 1x1 convolution + ReLU is a rare-event detector (threshold at the 99.95th
    percentile of its input on ``x``, gain to 300), so a handful of huge values set the
    tensor's int8 range while the other 15 channels carry the signal with values near 1:
    int8 crushes them, and only that layer needs more precision."""
    n = helper.make_node

    def he(cout: int, cin: int, k: int) -> np.ndarray:
        return (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2 / (cin * k * k))).astype(
            np.float32)

    def bias(c: int) -> np.ndarray:
        return (rng.standard_normal(c) * 0.1).astype(np.float32)

    inits = {"W1": he(16, 3, 3), "B1": bias(16), "W2": he(16, 16, 3), "B2": bias(16),
             "W3": he(8, 16, 1), "B3": bias(8), "Wd": he(16, 16, 1), "Bd": bias(16)}
    stem = np.maximum(_conv_np(x, inits["W1"], inits["B1"]), 0)
    pre = np.einsum("nchw,c->nhw", stem, inits["Wd"][0, :, 0, 0])
    thr = float(np.quantile(pre, 0.9995))
    gain = 300.0 / (float(pre.max()) - thr)
    inits["Wd"][0] *= gain
    inits["Bd"][0] = -thr * gain
    nodes = [n("Conv", ["x", "W1", "B1"], ["s"], pads=[1, 1, 1, 1], name="stem"),
             n("Relu", ["s"], ["sr"], name="stem_relu"),
             n("Conv", ["sr", "W2", "B2"], ["f"], pads=[1, 1, 1, 1], name="features"),
             n("Relu", ["f"], ["fr"], name="features_relu"),
             n("Conv", ["fr", "W3", "B3"], ["y"], name="head"),
             n("Conv", ["sr", "Wd", "Bd"], ["d"], name="detector"),
             n("Relu", ["d"], ["z"], name="detector_relu")]
    shape = list(x.shape[1:])
    g = helper.make_graph(
        nodes, "outlier", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, *shape])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8, *shape[1:]]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 16, *shape[1:]])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def _conv_np(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """3x3 'same' convolution, NCHW (only to place the detector's threshold)."""
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    h, wd = x.shape[2:]
    out = sum(np.einsum("nchw,oc->nohw", xp[:, :, i:i + h, j:j + wd], w[:, :, i, j])
              for i in range(3) for j in range(3))
    return out + b.reshape(1, -1, 1, 1)


@pytest.mark.slow
def test_auto_precision_raises_the_outlier_layer(tmp_path: Path) -> None:
    from tflite_micro.python.tflite_micro import runtime

    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 3, 12, 12)).astype(np.float32)
    model = tmp_path / "outlier.onnx"
    onnx.save(outlier_model(rng, x), str(model))
    np.save(tmp_path / "cal.npy", x)
    common = ["--calibration", str(tmp_path / "cal.npy"), "--io", "float"]

    base = edgelite("quantize", str(model), *common, "-o", str(tmp_path / "base.tflite"),
                    "--report", str(tmp_path / "base.json"))
    assert base.returncode == 0, base.stderr
    rep = json.loads((tmp_path / "base.json").read_text())
    assert rep["tensors"][0]["op"] == "detector" and rep["tensors"][0]["sqnr_db"] < 20
    assert rep["output_sqnr_db"] < 20  # the detector head's output
    others = [r["sqnr_db"] for r in rep["tensors"] if r["op"] != "detector"]
    assert min(others) > 30  # every other layer quantizes well

    res = edgelite("quantize", str(model), *common, "-o", str(tmp_path / "auto.tflite"),
                   "--auto-precision", "30", "--report", str(tmp_path / "auto.json"))
    assert res.returncode == 0, res.stderr
    changes = [json.loads(ln.split(":", 1)[1]) for ln in res.stdout.splitlines()
               if ln.startswith("auto precision:")]
    # The detector adds by far the most noise: it is raised first (int16, then float once
    # every int16 step is taken: its input's int8 noise, times its gain of 300, remains).
    assert changes and changes[0]["op"] == "detector" and changes[0]["to"] in ("int16", "float")
    auto = json.loads((tmp_path / "auto.json").read_text())
    assert auto["output_sqnr_db"] >= 30.0
    assert {c["op"] for c in auto["precision_changes"]} == {c["op"] for c in changes}

    # The oracles agree: TFLite Micro runs the mixed model; ONNX Runtime gives the float truth.
    sess = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    tflm = runtime.Interpreter.from_bytes((tmp_path / "auto.tflite").read_bytes(),
                                          arena_size=1 << 18)
    ref: list[list[np.ndarray]] = [[], []]
    got: list[list[np.ndarray]] = [[], []]
    for i in range(len(x)):
        outs = sess.run(None, {"x": x[i:i + 1]})
        tflm.set_input(np.ascontiguousarray(x[i:i + 1].transpose(0, 2, 3, 1)), 0)
        tflm.invoke()
        for k in range(2):
            ref[k].append(outs[k].transpose(0, 2, 3, 1).astype(np.float64))
            got[k].append(np.array(tflm.get_output(k), np.float64))
    for k in range(2):
        r, g = np.concatenate(ref[k]), np.concatenate(got[k])
        assert 10 * np.log10(np.sum(r ** 2) / np.sum((r - g) ** 2)) >= 30.0


def test_auto_precision_without_int16_kernels(tmp_path: Path, monkeypatch) -> None:
    """A backend that cannot run int16 CONV_2D (runtime_micro before it had one): the search
    notes it, does not stop, and reaches the target with the float step instead."""
    from edgelite.errors import Code, EdgeliteError
    from edgelite.quantize import QuantizeOptions, quantize
    from edgelite.quantize import report as R

    real = R.Runner

    def runner(model: bytes, graph, backend: str = "micro", keep_tensors: bool = True):
        if any(op.type == "CONV_2D" and op.inputs[0].dtype == "int16" for op in graph.ops):
            raise EdgeliteError("op #2 CONV_2D: input type INT16 is not supported",
                                code=Code.UNSUPPORTED)
        return real(model, graph, backend, keep_tensors)

    monkeypatch.setattr(R, "Runner", runner)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 3, 12, 12)).astype(np.float32)
    onnx.save(outlier_model(rng, x), str(tmp_path / "outlier.onnx"))
    r = quantize(tmp_path / "outlier.onnx", QuantizeOptions(
        calibration=x, io="float", auto_precision=30.0, progress=False))
    assert r.changes[0]["op"] == "detector" and r.changes[0]["to"] == "float"
    assert all(c["to"] == "float" for c in r.changes)
    assert r.report.output_sqnr_db >= 30.0
    assert any(n.startswith("auto precision: no int16 CONV_2D tried") for n in r.notes)


def test_auto_precision_same_answer_as_the_one_by_one_search(tmp_path: Path) -> None:
    """The batched search (one sensitivity pass, then batches) gives the answer the previous
    one-op-per-model greedy search gave on this model (recorded from it: the detector alone
    in int16, 21.50 dB), measuring 2 models."""
    from edgelite.quantize import QuantizeOptions, quantize

    rng = np.random.default_rng(5)
    x = rng.standard_normal((32, 3, 12, 12)).astype(np.float32)
    onnx.save(outlier_model(rng, x), str(tmp_path / "outlier.onnx"))
    # Bias correction off and min/max ranges: the previous search ran without it (on, the
    # answer is the same and the SQNR 0.1 dB higher), with min/max (the default then).
    r = quantize(tmp_path / "outlier.onnx", QuantizeOptions(
        calibration=x, io="float", auto_precision=20.0, bias_correction="off", method="minmax",
        progress=False))
    assert [(c["op"], c["from"], c["to"]) for c in r.changes] == [("detector", "int8", "int16")]
    assert r.report.output_sqnr_db == pytest.approx(21.50, abs=0.01)
    assert "auto precision: 2 model(s) measured, 1 op(s) raised" in r.notes
