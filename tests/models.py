"""Model builders shared by the tests and benchmarks: real architectures as ONNX, no network.

Each builder returns an ``onnx.ModelProto`` built with onnx.helper from fixed seeds, so the same
call gives byte-identical models. Weights are He-initialised; BatchNormalization nodes are kept
unfused (as a training framework's export would carry them before folding) with non-trivial
statistics: running mean/variance are measured by pushing a fixed random batch through the
network, so every layer sees well-scaled activations, and gamma/beta are random. The graphs follow
what PyTorch's exporter emits for the torchvision modules (opset 13): Clip with min/max given as
inputs for ReLU6, symmetric pads on stride-2 convolutions, GlobalAveragePool + Flatten, Gemm
with transB=1.

Usage from a test (pytest puts tests/ on sys.path): ``from models import mobilenet_v2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
REPO = Path(__file__).resolve().parent.parent
DIGITS_DIR = REPO / "examples" / "digits"


def digits_cnn_path() -> Path:
    """The committed, trained MNIST example (examples/digits/digits_cnn.onnx)."""
    return DIGITS_DIR / "digits_cnn.onnx"


def digits_data() -> dict[str, np.ndarray]:
    """examples/digits/heldout.npz as a dict: input, label, calibration, calibration_label."""
    with np.load(DIGITS_DIR / "heldout.npz") as data:
        return {k: data[k] for k in data.files}


# ---- a tiny graph builder that also runs the graph in numpy to measure BatchNorm statistics ----


@dataclass
class _Value:
    name: str
    value: np.ndarray  # this value for the fixed random batch, NCHW float32 (or N x F)


@dataclass
class _Net:
    rng: np.random.Generator
    nodes: list[onnx.NodeProto] = field(default_factory=list)
    inits: list[onnx.TensorProto] = field(default_factory=list)
    _clip_bounds: tuple[str, str] | None = None

    def param(self, name: str, value: np.ndarray) -> str:
        # np.array, not np.ascontiguousarray: the latter turns 0-d scalars into 1-d arrays.
        self.inits.append(numpy_helper.from_array(np.array(value, order="C"), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: object) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=f"/{output}/{op}", **attrs))
        return output

    def conv(self, name: str, x: _Value, cout: int, k: int, stride: int = 1, groups: int = 1,
             bias: bool = False) -> _Value:
        cin = x.value.shape[1]
        fan_in = cin // groups * k * k
        w = (self.rng.standard_normal((cout, cin // groups, k, k)) * np.sqrt(2.0 / fan_in))
        w = w.astype(np.float32)
        inputs = [x.name, self.param(f"{name}.weight", w)]
        b = None
        if bias:
            b = (self.rng.standard_normal(cout) * 0.1).astype(np.float32)
            inputs.append(self.param(f"{name}.bias", b))
        p = (k - 1) // 2  # torch's padding=(k-1)//2: symmetric, even on stride 2
        out = self.node("Conv", inputs, name, kernel_shape=[k, k], strides=[stride, stride],
                        pads=[p, p, p, p], group=groups, dilations=[1, 1])
        return _Value(out, _np_conv(x.value, w, b, stride, p, groups))

    def bn(self, name: str, x: _Value, gamma: tuple[float, float], beta: float) -> _Value:
        """BatchNorm whose running stats are this batch's stats (rescaled a little)."""
        c = x.value.shape[1]
        axes = (0, 2, 3)
        mean = x.value.mean(axis=axes)
        var = np.maximum(x.value.var(axis=axes), 1e-3)
        # Not exactly the batch's stats: a folded model must use the stored ones.
        mean = (mean + self.rng.normal(0, 0.05, c) * np.sqrt(var)).astype(np.float32)
        var = (var * self.rng.uniform(0.8, 1.25, c)).astype(np.float32)
        g = self.rng.uniform(*gamma, c).astype(np.float32)
        b = (self.rng.normal(0, beta, c)).astype(np.float32)
        eps = 1e-5
        inputs = [x.name, self.param(f"{name}.weight", g), self.param(f"{name}.bias", b),
                  self.param(f"{name}.running_mean", mean),
                  self.param(f"{name}.running_var", var)]
        out = self.node("BatchNormalization", inputs, name, epsilon=eps, momentum=0.9)
        shape = (1, c, 1, 1)
        y = (x.value - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + eps)
        return _Value(out, (y * g.reshape(shape) + b.reshape(shape)).astype(np.float32))

    def relu6(self, name: str, x: _Value) -> _Value:
        # torch exports F.relu6 / nn.ReLU6 as Clip(x, min, max) with constant min/max inputs.
        if self._clip_bounds is None:
            self._clip_bounds = (self.param("relu6.min", np.array(0.0, np.float32)),
                                 self.param("relu6.max", np.array(6.0, np.float32)))
        out = self.node("Clip", [x.name, *self._clip_bounds], name)
        return _Value(out, np.clip(x.value, 0.0, 6.0))

    def relu(self, name: str, x: _Value) -> _Value:
        return _Value(self.node("Relu", [x.name], name), np.maximum(x.value, 0.0))

    def add(self, name: str, a: _Value, b: _Value) -> _Value:
        return _Value(self.node("Add", [a.name, b.name], name), a.value + b.value)

    def head(self, x: _Value, classes: int, flatten: str) -> str:
        """GlobalAveragePool -> flatten -> Gemm, as torch exports a classifier head."""
        pooled = self.node("GlobalAveragePool", [x.name], "avgpool")
        if flatten == "flatten":  # torch.flatten(x, 1)
            flat = self.node("Flatten", [pooled], "flatten", axis=1)
        elif flatten == "reshape":  # x.reshape(x.size(0), -1): the shape is computed at run time
            shape = self.node("Shape", [pooled], "shape")
            idx = self.param("flatten.batch_index", np.array(0, np.int64))
            batch = self.node("Gather", [shape, idx], "gather", axis=0)
            axes = self.param("flatten.unsqueeze_axes", np.array([0], np.int64))
            batch1 = self.node("Unsqueeze", [batch, axes], "unsqueeze")
            minus1 = self.param("flatten.minus_one", np.array([-1], np.int64))
            target = self.node("Concat", [batch1, minus1], "concat", axis=0)
            flat = self.node("Reshape", [pooled, target], "reshape")
        else:
            raise ValueError(f"flatten must be 'flatten' or 'reshape', not {flatten!r}")
        features = x.value.shape[1]
        w = (self.rng.standard_normal((classes, features)) * np.sqrt(1.0 / features))
        b = self.rng.normal(0, 0.01, classes)
        return self.node("Gemm", [flat, self.param("classifier.weight", w.astype(np.float32)),
                                  self.param("classifier.bias", b.astype(np.float32))],
                         "output", alpha=1.0, beta=1.0, transB=1)

    def model(self, name: str, x: _Value, out: str, classes: int) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, name,
            [helper.make_tensor_value_info(x.name, TensorProto.FLOAT, [1, *x.value.shape[1:]])],
            [helper.make_tensor_value_info(out, TensorProto.FLOAT, [1, classes])],
            initializer=self.inits,
        )
        m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="edgelite-tests")
        m.ir_version = 8
        onnx.checker.check_model(m, full_check=True)
        return m


def _np_conv(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, stride: int, pad: int,
             groups: int) -> np.ndarray:
    """NCHW convolution for groups == 1 or depthwise (groups == channels), float32."""
    n, c, h, wd = x.shape
    cout, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
    taps = [xp[:, :, i:i + stride * (ho - 1) + 1:stride, j:j + stride * (wo - 1) + 1:stride]
            for i in range(k) for j in range(k)]
    if groups == 1:
        cols = np.stack(taps, axis=2).reshape(n, c * k * k, ho * wo)  # (c, ky, kx) order = w's
        y = (w.reshape(cout, -1) @ cols).reshape(n, cout, ho, wo)
    elif groups == c == cout:
        wk = w.reshape(c, k * k)
        y = sum(t * wk[:, i].reshape(1, c, 1, 1) for i, t in enumerate(taps))
    else:
        raise ValueError("only dense or depthwise convolutions")
    if b is not None:
        y = y + b.reshape(1, -1, 1, 1)
    return np.asarray(y, dtype=np.float32)


def _input(rng: np.random.Generator, channels: int, resolution: int) -> _Value:
    # Two samples so BatchNorm statistics exist even where the spatial size reaches 1x1.
    return _Value("input", rng.standard_normal((2, channels, resolution, resolution))
                  .astype(np.float32))


# ---- MobileNetV2 ---------------------------------------------------------------------------


def _make_divisible(v: float, divisor: int = 8) -> int:
    """torchvision's channel rounding for width multipliers."""
    new_v = max(divisor, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


# (expansion t, output channels c, repeats n, first stride s), from the MobileNetV2 paper.
_MNV2_BLOCKS = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
                (6, 160, 3, 2), (6, 320, 1, 1)]


def mobilenet_v2(width: float = 1.0, resolution: int = 224, classes: int = 1000,
                 flatten: str = "flatten", seed: int = 0) -> onnx.ModelProto:
    """MobileNetV2 (torchvision layout), random He weights, input 1x3xRxR, output 1xclasses.

    ``flatten``: "flatten" (torch.flatten -> ONNX Flatten) or "reshape" (the
    Shape->Gather->Unsqueeze->Concat->Reshape chain of ``x.reshape(x.size(0), -1)``).
    width=1.0, resolution=224: 3,504,872 parameters, ~300 M multiply-accumulates.
    """
    rng = np.random.default_rng(seed)
    net = _Net(rng)
    x = _input(rng, 3, resolution)
    inp = x
    cin = _make_divisible(32 * width)
    last = _make_divisible(1280 * max(1.0, width))
    x = net.relu6("features.0.2", net.bn("features.0.1", net.conv("features.0.0", x, cin, 3, 2),
                                          (0.5, 1.5), 0.5))
    idx = 1
    for t, c, n, s in _MNV2_BLOCKS:
        cout = _make_divisible(c * width)
        for i in range(n):
            stride = s if i == 0 else 1
            p = f"features.{idx}.conv"
            hidden = round(cin * t)
            y, j = x, 0
            if t != 1:
                y = net.conv(f"{p}.{j}.0", y, hidden, 1)
                y = net.relu6(f"{p}.{j}.2", net.bn(f"{p}.{j}.1", y, (0.5, 1.5), 0.5))
                j += 1
            y = net.conv(f"{p}.{j}.0", y, hidden, 3, stride, groups=hidden)
            y = net.relu6(f"{p}.{j}.2", net.bn(f"{p}.{j}.1", y, (0.5, 1.5), 0.5))
            y = net.conv(f"{p}.{j + 1}", y, cout, 1)
            # Linear bottleneck: a smaller gamma keeps the residual stream from growing.
            y = net.bn(f"{p}.{j + 2}", y, (0.2, 0.6), 0.2)
            if stride == 1 and cin == cout:
                y = net.add(f"features.{idx}.add", x, y)
            x, cin = y, cout
            idx += 1
    x = net.conv(f"features.{idx}.0", x, last, 1)
    x = net.relu6(f"features.{idx}.2", net.bn(f"features.{idx}.1", x, (0.5, 1.5), 0.5))
    out = net.head(x, classes, flatten)
    name = f"mobilenet_v2_{width:g}_{resolution}"
    return net.model(name, inp, out, classes)


# ---- a tiny ResNet ---------------------------------------------------------------------------


def resnet_tiny(resolution: int = 32, classes: int = 10, seed: int = 0) -> onnx.ModelProto:
    """A small CIFAR-style ResNet: stem, three stages of one BasicBlock (16, 32, 64 channels;
    the last two with stride 2 and a 1x1 downsample shortcut), GAP, Flatten, Gemm; Relu.
    Input 1x3xRxR, output 1xclasses; 78,042 parameters, 12.5 M multiply-accumulates at 32x32."""
    rng = np.random.default_rng(seed)
    net = _Net(rng)
    x = _input(rng, 3, resolution)
    inp = x
    x = net.relu("relu", net.bn("bn1", net.conv("conv1", x, 16, 3), (0.5, 1.5), 0.5))
    cin = 16
    for stage, (cout, stride) in enumerate([(16, 1), (32, 2), (64, 2)], start=1):
        p = f"layer{stage}.0"
        y = net.conv(f"{p}.conv1", x, cout, 3, stride)
        y = net.relu(f"{p}.relu1", net.bn(f"{p}.bn1", y, (0.5, 1.5), 0.5))
        y = net.bn(f"{p}.bn2", net.conv(f"{p}.conv2", y, cout, 3), (0.2, 0.6), 0.2)
        shortcut = x
        if stride != 1 or cin != cout:
            shortcut = net.bn(f"{p}.downsample.1",
                              net.conv(f"{p}.downsample.0", x, cout, 1, stride), (0.5, 1.0), 0.2)
        x = net.relu(f"{p}.relu2", net.add(f"{p}.add", y, shortcut))
        cin = cout
    out = net.head(x, classes, "flatten")
    return net.model(f"resnet_tiny_{resolution}", inp, out, classes)


# ---- measuring a model ---------------------------------------------------------------------


def param_count(model: onnx.ModelProto) -> int:
    """Trainable parameters as torch counts them: float initializers, minus BatchNorm running
    statistics and the scalar Clip bounds."""
    skip = {name for node in model.graph.node if node.op_type == "BatchNormalization"
            for name in node.input[3:5]}
    skip |= {name for node in model.graph.node if node.op_type == "Clip" for name in node.input[1:]}
    return sum(int(np.prod(t.dims)) for t in model.graph.initializer
               if t.name not in skip and t.data_type == TensorProto.FLOAT)


def macs(model: onnx.ModelProto) -> int:
    """Multiply-accumulates of Conv and Gemm/MatMul nodes (static shapes from shape inference)."""
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*inferred.graph.value_info, *inferred.graph.output, *inferred.graph.input]}
    inits = {t.name: list(t.dims) for t in model.graph.initializer}
    total = 0
    for node in model.graph.node:
        if node.op_type == "Conv":
            w = inits[node.input[1]]  # (cout, cin/groups, kh, kw)
            out = shapes[node.output[0]]
            total += int(np.prod(out)) * int(np.prod(w[1:]))
        elif node.op_type in ("Gemm", "MatMul"):
            w = inits[node.input[1]]
            trans_b = any(a.name == "transB" and a.i for a in node.attribute)
            k = w[-1] if trans_b else w[-2]  # the reduced dimension
            total += int(np.prod(shapes[node.output[0]])) * k
    return total
