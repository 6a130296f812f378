"""Coverage of real models as they come: every model file in the pinned PyPI wheels of
tests/helpers/wheel_files.py (MediaPipe .tflite files, Silero VAD, PP-OCR from rapidocr,
pyopen-wakeword .tflite files).

    PYTHONPATH=src python benchmarks/model_coverage.py [--only NAME] [--no-int8]

For each model: does `edgelite convert` take it (and with which options), the float error of
runtime_micro on the converted file against the model's own runtime (ONNX Runtime for .onnx,
LiteRT with its default kernels for .tflite, which also runs MediaPipe's custom op), and int8:
`quantize` on 8 samples, the file's size as a share of the float32 file, and whether TFLite
Micro runs it with outputs bit-exact with runtime_micro. onnx2tf's column says "not installed"
unless onnx2tf is importable or on PATH (it needs TensorFlow, which edgelite never installs).

Float error = max |ours - reference| / max(range of the reference, max |reference|), over all
outputs, on one fixed input. "reference spread" puts it in context: for ONNX, the same measure
between ONNX Runtime with and without its graph optimizations (the model's own float noise);
for .tflite, runtime_micro against LiteRT's reference kernels on the converted file, and LiteRT's
default (XNNPACK) kernels against its reference ones. The input is an image from scikit-image
for image models, a tone in noise for audio models, fixed-seed uniform noise otherwise. This is
a benchmark: it prints a table and never fails.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
from helpers import wheel_files as W  # noqa: E402

MP = "mediapipe/modules/"
WW = "pyopen_wakeword/models/"
SV = "silero_vad/data/"
OCR = "rapidocr_onnxruntime/models/"
SILERO_STATE = {"input": (1, 512), "state": (2, 1, 128)}


@dataclass
class Entry:
    name: str
    spec: tuple
    member: str
    shapes: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)


ENTRIES = [
    *[Entry(Path(m).name, W.MEDIAPIPE, MP + m) for m in (
        "face_detection/face_detection_short_range.tflite",
        "face_detection/face_detection_full_range_sparse.tflite",
        "face_landmark/face_landmark.tflite",
        "face_landmark/face_landmark_with_attention.tflite",
        "hand_landmark/hand_landmark_lite.tflite",
        "hand_landmark/hand_landmark_full.tflite",
        "holistic_landmark/hand_recrop.tflite",
        "iris_landmark/iris_landmark.tflite",
        "palm_detection/palm_detection_lite.tflite",
        "palm_detection/palm_detection_full.tflite",
        "pose_detection/pose_detection.tflite",
        "pose_landmark/pose_landmark_full.tflite",
        "selfie_segmentation/selfie_segmentation.tflite",
        "selfie_segmentation/selfie_segmentation_landscape.tflite")],
    # dynamic input [?, ?]: one second of 16 kHz audio, as openWakeWord feeds it
    Entry("melspectrogram.tflite", W.PYOPEN_WAKEWORD, f"{WW}melspectrogram.tflite",
          {"serving_default_input:0": (1, 16000)}),
    *[Entry(f"{m}.tflite", W.PYOPEN_WAKEWORD, f"{WW}{m}.tflite") for m in (
        "embedding_model", "alexa", "hey_jarvis", "hey_mycroft",
        "hey_rhasspy", "okay_nabu")],
    Entry("silero_vad.onnx", W.SILERO_VAD, SV + "silero_vad.onnx", SILERO_STATE,
          {"sr": (16000.0,)}),
    Entry("silero_vad_16k_op15.onnx", W.SILERO_VAD, SV + "silero_vad_16k_op15.onnx",
          SILERO_STATE, {"sr": (16000.0,)}),
    Entry("silero_vad_op18_ifless.onnx", W.SILERO_VAD, SV + "silero_vad_op18_ifless.onnx",
          SILERO_STATE, {"sr": (16000.0,)}),
    Entry("silero_vad_half.onnx", W.SILERO_VAD, SV + "silero_vad_half.onnx", SILERO_STATE),
    Entry("silero_vad_16k_sequence.onnx", W.SILERO_VAD, SV + "silero_vad_16k_sequence.onnx",
          {"input": (1, 576)}),
    Entry("silero_vad_openvino_16k.onnx", W.SILERO_VAD, SV + "silero_vad_openvino_16k.onnx"),
    Entry("PP-OCRv4 det", W.RAPIDOCR, OCR + "ch_PP-OCRv4_det_infer.onnx",
          {"x": (1, 3, 160, 320)}),
    Entry("PP-OCRv4 rec", W.RAPIDOCR, OCR + "ch_PP-OCRv4_rec_infer.onnx",
          {"x": (1, 3, 48, 320)}),
    Entry("PP-OCR mobile v2 cls", W.RAPIDOCR, OCR + "ch_ppocr_mobile_v2.0_cls_infer.onnx",
          {"x": (1, 3, 48, 192)}),
]


def _image(h: int, w: int) -> np.ndarray:
    from skimage import data, transform

    return transform.resize(data.astronaut(), (h, w)).astype(np.float32)  # [0, 1], RGB


def _source_inputs(entry: Entry, path: Path) -> dict[str, np.ndarray]:
    """One input per source-model input, in the source's own layout and dtype."""
    rng = np.random.default_rng(0)
    feeds: dict[str, np.ndarray] = {}
    if path.suffix == ".onnx":
        import onnxruntime as ort

        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        specs = [(i.name, [d if isinstance(d, int) else None for d in i.shape], i.type)
                 for i in sess.get_inputs()]
    else:
        from ai_edge_litert.interpreter import Interpreter

        it = Interpreter(model_path=str(path))
        specs = [(d["name"], list(d["shape"]), d["dtype"]) for d in it.get_input_details()]
    for name, dims, dtype in specs:
        if name in entry.values:
            feeds[name] = np.array(entry.values[name][0], np.int64)
            continue
        shape = tuple(entry.shapes.get(name) or [d or 1 for d in dims])
        if "audio" in name or name.split(":")[0].endswith("input") and len(shape) == 2:
            t = np.arange(shape[-1]) / 16000
            tone = 0.3 * np.sin(2 * np.pi * 200 * t) + 0.05 * rng.standard_normal(t.size)
            feeds[name] = np.broadcast_to(tone, shape).astype(np.float32)
        elif len(shape) == 4 and 3 in (shape[1], shape[3]):
            nchw = shape[1] == 3
            img = _image(*(shape[2:] if nchw else shape[1:3]))
            img = img.transpose(2, 0, 1) if nchw else img
            feeds[name] = np.ascontiguousarray(img[None] * 2 - 1)
        else:
            feeds[name] = rng.uniform(-1, 1, shape).astype(np.float32)
    return feeds


def _reference(path: Path, feeds: dict[str, np.ndarray], plain: bool = False,
               data: bytes | None = None) -> list[np.ndarray]:
    """The model's own runtime: ONNX Runtime (``plain``: graph optimizations off), LiteRT
    with its default kernels (``plain``: TFLite's reference kernels, on ``data``)."""
    if path.suffix == ".onnx":
        import onnxruntime as ort

        so = ort.SessionOptions()
        if plain:
            so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        return [np.asarray(y) for y in sess.run(None, feeds)]
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    if plain:  # our file: the source may keep a custom op the reference resolver lacks
        it = Interpreter(model_content=data,
                         experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    else:
        it = Interpreter(model_path=str(path))  # default kernels: XNNPACK runs MediaPipe's op
    for d in it.get_input_details():  # dynamic inputs: resized to the shape given
        if tuple(d["shape"]) != feeds[d["name"]].shape:
            it.resize_tensor_input(d["index"], list(feeds[d["name"]].shape))
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], feeds[d["name"]])
    it.invoke()
    return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def _ours(data: bytes, graph, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:  # noqa: ANN001
    from edgelite.runtime.interpreter import Interpreter

    layout = json.loads(graph.metadata["edgelite"])["layout"]
    it = Interpreter(data)
    for i, t in enumerate(graph.inputs):
        x = feeds[t.name]
        if layout["inputs"].get(t.name) in ("NWC", "NHWC", "NDHWC"):
            x = np.moveaxis(x, 1, -1)
        it.set_input(i, np.ascontiguousarray(x))
    it.invoke()
    outs = []
    for i, t in enumerate(graph.outputs):
        y = it.get_output(i).copy()
        if layout["outputs"].get(t.name) in ("NWC", "NHWC", "NDHWC"):
            y = np.moveaxis(y, -1, 1)
        outs.append(y)
    return outs


def _error(got: list[np.ndarray], ref: list[np.ndarray]) -> float:
    worst = 0.0
    for a, b in zip(got, ref):
        b = b.astype(np.float64)
        scale = max(float(np.ptp(b)), float(np.max(np.abs(b))), 1e-30)
        worst = max(worst, float(np.max(np.abs(a.astype(np.float64).reshape(b.shape) - b)))
                    / scale)
    return worst


def _int8(graph, feeds: dict[str, np.ndarray], float_bytes: int) -> str:  # noqa: ANN001
    from tflite_micro.python.tflite_micro import runtime

    from edgelite.quantize import QuantizeOptions, quantize
    from edgelite.runtime.interpreter import Interpreter

    layout = json.loads(graph.metadata["edgelite"])["layout"]
    rng = np.random.default_rng(1)
    calib = {}
    for t in graph.inputs:
        x = feeds[t.name]
        if layout["inputs"].get(t.name) in ("NWC", "NHWC", "NDHWC"):
            x = np.moveaxis(x, 1, -1)
        noise = rng.uniform(0.8, 1.2, (8, *x.shape)).astype(np.float32)
        calib[t.name] = (x[None] * noise).astype(np.float32)  # 8 variations, samples first
    try:
        r = quantize(graph, QuantizeOptions(mode="int8", calibration=calib, layout="nhwc",
                                            progress=False))
    except Exception as e:  # noqa: BLE001  a benchmark reports, it does not stop
        return f"refused: {str(e)[:90]}"
    share = f"{100 * len(r.model) / float_bytes:.0f} %"
    try:
        ours = Interpreter(r.model)
        tflm = runtime.Interpreter.from_bytes(r.model, arena_size=96 << 20)
        for k, d in enumerate(ours.inputs):
            q = rng.integers(-128, 128, d.shape).astype(d.dtype)
            ours.set_input(k, q)
            tflm.set_input(q, k)
        ours.invoke()
        tflm.invoke()
        exact = all(np.array_equal(ours.get_output(i), tflm.get_output(i))
                    for i in range(len(ours.outputs)))
    except Exception as e:  # noqa: BLE001
        return f"{share}, TFLM/runtime_micro failed: {str(e)[:60]}"
    return f"{share}, TFLM bit-exact" if exact else f"{share}, TFLM DIFFERS"


def run(entry: Entry, int8: bool) -> dict:
    from edgelite.converter import ConvertOptions, convert
    from edgelite.tflite.writer import write_model

    path = W.wheel_member(entry.spec, entry.member)
    flags = " ".join([*(f"--input-shape {k}:{','.join(map(str, v))}"
                        for k, v in entry.shapes.items()),
                      *(f"--input-value {k}={v[0]:g}" for k, v in entry.values.items())])
    row = {"model": entry.name, "bytes": path.stat().st_size, "flags": flags}
    t0 = time.perf_counter()
    try:
        graph = convert(path, ConvertOptions(input_shapes=entry.shapes,
                                             input_values=entry.values))
        data = write_model(graph)
    except Exception as e:  # noqa: BLE001
        row["convert"] = "refused: " + " ".join(str(e).split(": ", 1)[-1].split())[:110]
        return row
    row["convert"] = f"ok ({time.perf_counter() - t0:.1f} s)"
    feeds = _source_inputs(entry, path)
    try:
        ours = _ours(data, graph, feeds)
        ref = _reference(path, feeds)
        row["float error"] = f"{_error(ours, ref):.1e}"
        plain = _reference(path, feeds, plain=True, data=data)
        if path.suffix == ".onnx":  # ORT against itself: the float noise floor of this model
            row["reference spread"] = f"ORT opt/no-opt {_error(plain, ref):.1e}"
        else:
            row["reference spread"] = (f"LiteRT ref kernels {_error(ours, plain):.1e} "
                                       f"(XNNPACK vs ref {_error(ref, plain):.1e})")
    except Exception as e:  # noqa: BLE001
        row["float error"] = f"failed: {str(e)[:70]}"
    if int8:
        row["int8"] = _int8(graph, feeds, len(data))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="models whose name contains this")
    ap.add_argument("--no-int8", action="store_true", help="skip the int8 column")
    args = ap.parse_args()
    onnx2tf = ("installed" if importlib.util.find_spec("onnx2tf") or shutil.which("onnx2tf")
               else "not installed")
    rows = [run(e, not args.no_int8) for e in ENTRIES
            if not args.only or args.only in e.name]
    cols = ["model", "bytes", "convert", "float error", "reference spread", "int8", "flags"]
    print(f"onnx2tf: {onnx2tf} (its column is left out when it is not installed); "
          f"git {os.popen('git -C ' + str(REPO) + ' rev-parse --short HEAD').read().strip()}")
    print("| " + " | ".join(cols) + " |")
    print("|" + "|".join("---" for _ in cols) + "|")
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")


if __name__ == "__main__":
    main()
