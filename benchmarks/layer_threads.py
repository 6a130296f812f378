"""Per layer: runtime_micro and LiteRT XNNPACK on one and two threads, MobileNetV2's shapes.

    PYTHONPATH=src python benchmarks/layer_threads.py [--model 1.0:224] [--kind int8|float]
        [--runs 40] [--passes 3] [--only SUBSTRING]

runtime_speed.py says how far a second thread takes the whole model; this says at which layers
it takes runtime_micro less far than XNNPACK's second thread, and where one thread is slower.
Every distinct convolution of MobileNetV2 (tests/models.py: the stem, each block's 1x1
expansion, 3x3 depthwise and 1x1 projection, the last 1x1) is built alone as a model: the
layer's shape, stride and padding, random He weights and bias, ReLU6 where the model has one;
int8 from 8 random calibration samples. edgelite converts it, and runtime_micro and LiteRT's
XNNPACK run it on one and on two threads in warm blocks (runtime_speed.in_blocks: blocks of
BLOCK invokes back to back, the first untimed, blocks round-robin over the four runners). The
sweep over the layers runs --passes times, and each figure is the median over the passes of each
pass's median: on this VM a vCPU's speed changes by a third from one stretch of seconds to the
next (benchmarks/README.md, stop 41), and each pass meets other stretches at every layer.

A layer alone is not the layer inside the model: its input stays in cache from invoke to
invoke, no other layer's data competes, the pools' threads never sleep, and every invoke pays
the Python call (about 1 to 2 us, both runtimes), so short layers' speed-ups come out lower than
inside the model, for both runtimes alike. Compare the two runtimes on the same row, not a row
with runtime_speed.py's figures.

Columns: median us per invoke; each runtime's two-thread speed-up; runtime_micro's time over
XNNPACK's on one and on two threads; how often the shape occurs in the model. The last row sums
the layers weighted by that count. A benchmark: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))
import models  # tests/models.py: the shared model builders
import runtime_speed  # in_blocks: the warm, round-robin blocks

CALIBRATION_SAMPLES = 8


@dataclass(frozen=True)
class Layer:
    cin: int
    size: int  # input height = width
    cout: int
    k: int
    stride: int
    groups: int
    relu6: bool

    @property
    def out_size(self) -> int:
        return (self.size + 2 * ((self.k - 1) // 2) - self.k) // self.stride + 1

    def name(self) -> str:
        kind = "dw" if self.groups > 1 else f"{self.k}x{self.k}"
        stride = f" s{self.stride}" if self.stride > 1 else ""
        chans = f"{self.cin}" if self.groups > 1 else f"{self.cin}->{self.cout}"
        return f"{kind} {chans} {self.size}x{self.size}{stride}"


def layers_of(model: onnx.ModelProto) -> list[tuple[Layer, int]]:
    """The model's distinct convolutions in order of first appearance, with their counts."""
    inferred = onnx.shape_inference.infer_shapes(model)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in list(inferred.graph.value_info) + list(inferred.graph.input)}
    weights = {t.name: t.dims for t in model.graph.initializer}
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for x in node.input:
            readers.setdefault(x, []).append(node)

    def then(name: str, op: str) -> onnx.NodeProto | None:
        nxt = readers.get(name, [])
        return nxt[0] if len(nxt) == 1 and nxt[0].op_type == op else None

    counts: dict[Layer, int] = {}
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        w = weights[node.input[1]]
        bn = then(node.output[0], "BatchNormalization")
        layer = Layer(cin=shapes[node.input[0]][1], size=shapes[node.input[0]][2], cout=w[0],
                      k=w[2], stride=attrs.get("strides", [1, 1])[0],
                      groups=attrs.get("group", 1),
                      relu6=then((bn or node).output[0], "Clip") is not None)
        counts[layer] = counts.get(layer, 0) + 1
    return list(counts.items())


def layer_model(layer: Layer, rng: np.random.Generator) -> onnx.ModelProto:
    """The layer alone: Conv (+ Clip 0..6), NCHW float input and output."""
    fan_in = layer.cin // layer.groups * layer.k * layer.k
    w = (rng.standard_normal((layer.cout, layer.cin // layer.groups, layer.k, layer.k))
         * np.sqrt(2.0 / fan_in)).astype(np.float32)
    b = (rng.standard_normal(layer.cout) * 0.1).astype(np.float32)
    pad = (layer.k - 1) // 2
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c" if layer.relu6 else "y"],
                              kernel_shape=[layer.k] * 2, strides=[layer.stride] * 2,
                              pads=[pad] * 4, group=layer.groups)]
    if layer.relu6:
        inits += [numpy_helper.from_array(np.array(0.0, np.float32), "lo"),
                  numpy_helper.from_array(np.array(6.0, np.float32), "hi")]
        nodes.append(helper.make_node("Clip", ["c", "lo", "hi"], ["y"]))
    o = layer.out_size
    graph = helper.make_graph(
        nodes, "layer",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, layer.cin, layer.size,
                                                                 layer.size])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, layer.cout, o, o])], inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], ir_version=8)


def tflite_of(layer: Layer, kind: str, tmp: Path, rng: np.random.Generator) -> Path:
    from edgelite.converter import convert, convert_to_bytes
    from edgelite.quantize.api import QuantizeOptions, quantize

    tmp.mkdir(parents=True, exist_ok=True)
    src = tmp / "layer.onnx"
    onnx.save(layer_model(layer, rng), str(src))
    if kind == "float":
        data = convert_to_bytes(src)
    else:
        calibration = rng.standard_normal(
            (CALIBRATION_SAMPLES, layer.cin, layer.size, layer.size)).astype(np.float32)
        data = quantize(convert(src), QuantizeOptions(
            calibration={"x": calibration}, samples=CALIBRATION_SAMPLES, progress=False,
            allow_low_sqnr=True)).model  # random weights: speed is what is measured
    path = tmp / "layer.tflite"
    path.write_bytes(data)
    return path


def timed(path: Path, runs: int) -> dict[str, float]:
    """Median us of runtime_micro (E1, E2) and XNNPACK (X1, X2) on one and two threads."""
    from edgelite.bench import BenchConfig
    from edgelite.bench.api import build_workload
    from edgelite.bench.runners import HostRunner, make_peer

    w, _, _, _ = build_workload(BenchConfig(model=path, profile=False))
    runners = []
    for n in (1, 2):
        r = HostRunner(w, 0, n)
        r.key = f"E{n}"
        runners.append(r)
    for n in (1, 2):
        r = make_peer("litert-xnnpack", w, n)
        r.key = f"X{n}"
        runners.append(r)
    samples = runtime_speed.in_blocks(runners, runs)
    return {k: float(np.median(v)) / 1e3 for k, v in samples.items()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", default="1.0:224", help="MobileNetV2 WIDTH:RESOLUTION")
    ap.add_argument("--kind", default="int8", choices=("int8", "float"))
    ap.add_argument("--runs", type=int, default=40, help="timed invokes per runner and layer")
    ap.add_argument("--passes", type=int, default=3, help="sweeps over the layers")
    ap.add_argument("--only", default="", help="only layers whose name holds this text")
    args = ap.parse_args()
    if importlib.util.find_spec("ai_edge_litert") is None:
        print("LiteRT (ai-edge-litert) is not installed: pip install -e '.[peers]'")
        return 2
    width, resolution = float(args.model.split(":")[0]), int(args.model.split(":")[1])
    layers = [(lay, n) for lay, n in layers_of(models.mobilenet_v2(width, resolution))
              if args.only in lay.name()]
    if not layers:
        print(f"no convolution of MobileNetV2 {width:g} / {resolution} is named like "
              f"{args.only!r}")
        return 2
    rng = np.random.default_rng(1)
    print(f"MobileNetV2 {width:g} / {resolution}, {args.kind}: {len(layers)} distinct "
          f"convolutions, each alone, warm blocks of {runtime_speed.BLOCK} ({args.runs} timed "
          "invokes per runner); us per invoke")
    head = (f"{'layer':24s} {'n':>2s} {'E 1T':>8s} {'E 2T':>8s} {'X 1T':>8s} {'X 2T':>8s}  "
            f"{'E x2':>5s} {'X x2':>5s}  {'E/X 1T':>6s} {'E/X 2T':>6s}")
    print(head)
    with tempfile.TemporaryDirectory() as tmp_name:
        paths = [tflite_of(layer, args.kind, Path(tmp_name) / f"layer{i}", rng)
                 for i, (layer, _) in enumerate(layers)]
        passes = [[timed(path, args.runs) for path in paths] for _ in range(args.passes)]
    total = dict.fromkeys(("E1", "E2", "X1", "X2"), 0.0)
    for i, (layer, count) in enumerate(layers):
        t = {k: float(np.median([p[i][k] for p in passes])) for k in total}
        for k in total:
            total[k] += count * t[k]
        print(row(layer.name(), count, t))
    print(row("all, weighted by n", sum(n for _, n in layers), total))
    return 0


def row(name: str, count: int, t: dict[str, float]) -> str:
    return (f"{name:24s} {count:2d} {t['E1']:8.1f} {t['E2']:8.1f} {t['X1']:8.1f} {t['X2']:8.1f}  "
            f"{t['E1'] / t['E2']:5.2f} {t['X1'] / t['X2']:5.2f}  {t['E1'] / t['X1']:6.2f} "
            f"{t['E2'] / t['X2']:6.2f}")


if __name__ == "__main__":
    sys.exit(main())
