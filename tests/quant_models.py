"""Models that break naive int8, built with onnx.helper, and real photos to calibrate them.

Shared by tests/test_quantize_collapse.py and benchmarks/quant_accuracy.py (pytest puts tests/ on
sys.path: ``import quant_models``). Weights come from fixed seeds (He-initialised), so a call
gives a byte-identical model.

- ``yolo_head``: a YOLOv8-style detector: a small conv stem, three scales (strides 8, 16, 32),
  per scale a box branch (4 x 16 DFL bins) and a class branch; the DFL decode exactly as
  Ultralytics exports it (reshape, transpose, softmax over the 16 bins, a 1x1 conv with the
  fixed weights arange(16)), anchor-point box decode (lt/rb split, anchor +/- distances,
  centre and size), multiplied by the per-anchor stride, and concatenated with the sigmoid class
  scores: output [1, 4 + classes, anchors], boxes in 0..size and scores in 0..1.
- ``channel_shuffle``: ShuffleNetV2 units (channel split, branch, concat, reshape / transpose /
  reshape shuffle), global pool and a classifier.
- ``recurrent``: a GRU followed by an LSTM over a short sequence, and a linear head.
- ``photos``: scikit-image's photos, resized and crops, as NCHW float32 in [0, 1].
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

N = helper.make_node


class _G:
    """A tiny builder: nodes and initializers with generated names."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: dict[str, np.ndarray] = {}
        self.k = 0

    def name(self, base: str) -> str:
        self.k += 1
        return f"{base}_{self.k}"

    def const(self, base: str, value: np.ndarray) -> str:
        n = self.name(base)
        self.inits[n] = value
        return n

    def node(self, op: str, inputs: list[str], base: str, outputs: int = 1, **attrs) -> list[str]:
        n = self.name(base)
        outs = [n] if outputs == 1 else [f"{n}_{i}" for i in range(outputs)]
        self.nodes.append(N(op, inputs, outs, name=n, **attrs))
        return outs

    def conv(self, x: str, cin: int, cout: int, k: int, stride: int = 1, group: int = 1,
             base: str = "conv", gain: float = 2.0) -> str:
        w = (self.rng.standard_normal((cout, cin // group, k, k))
             * np.sqrt(gain / (cin // group * k * k))).astype(np.float32)
        b = (self.rng.standard_normal(cout) * 0.1).astype(np.float32)
        return self.node("Conv", [x, self.const(f"{base}_w", w), self.const(f"{base}_b", b)],
                         base, pads=[k // 2] * 4, strides=[stride] * 2, group=group)[0]

    def silu(self, x: str) -> str:
        s = self.node("Sigmoid", [x], "sig")[0]
        return self.node("Mul", [x, s], "silu")[0]

    def model(self, inputs: list[tuple[str, list[int]]], outputs: list[tuple[str, list[int]]],
              opset: int = 13) -> onnx.ModelProto:
        g = helper.make_graph(
            self.nodes, "g",
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
            [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in outputs],
            [numpy_helper.from_array(v, k) for k, v in self.inits.items()])
        m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
        onnx.checker.check_model(m)
        return m


def yolo_head(size: int = 128, classes: int = 8, width: int = 16, seed: int = 0
              ) -> onnx.ModelProto:
    """A YOLOv8-style detector on a [1, 3, size, size] image: output [1, 4 + classes, A]."""
    g = _G(seed)
    reg = 16
    x = g.silu(g.conv("x", 3, width, 3, 2, base="stem"))  # /2
    x = g.silu(g.conv(x, width, width, 3, 2, base="down"))  # /4
    feats = []
    c = width
    for stride in (8, 16, 32):
        x = g.silu(g.conv(x, c, 2 * c, 3, 2, base=f"p{stride}"))
        c *= 2
        feats.append((stride, x, c))
    boxes, scores, anchors, strides = [], [], [], []
    for stride, f, cf in feats:
        side = size // stride
        b = g.silu(g.conv(f, cf, 32, 3, base=f"box{stride}"))
        b = g.conv(b, 32, 4 * reg, 1, base=f"box_out{stride}", gain=8.0)  # DFL logits
        s = g.silu(g.conv(f, cf, 32, 3, base=f"cls{stride}"))
        s = g.conv(s, 32, classes, 1, base=f"cls_out{stride}")
        shape = g.const("shape", np.array([1, 4 * reg, side * side], np.int64))
        boxes.append(g.node("Reshape", [b, shape], f"box_flat{stride}")[0])
        shape = g.const("shape", np.array([1, classes, side * side], np.int64))
        scores.append(g.node("Reshape", [s, shape], f"cls_flat{stride}")[0])
        ys, xs = np.meshgrid(np.arange(side) + 0.5, np.arange(side) + 0.5, indexing="ij")
        anchors.append(np.stack([xs.ravel(), ys.ravel()]))
        strides.append(np.full(side * side, stride, np.float32))
    a = sum(s.size for s in strides)
    box = g.node("Concat", boxes, "box_cat", axis=2)[0]
    cls = g.node("Concat", scores, "cls_cat", axis=2)[0]
    # DFL: [1, 64, A] -> [1, 4, 16, A] -> [1, 16, 4, A] -> softmax over the bins -> 1x1 conv
    # with weights 0..15 -> [1, 1, 4, A] -> [1, 4, A].
    d = g.node("Reshape", [box, g.const("shape", np.array([1, 4, reg, a], np.int64))], "dfl_r")[0]
    d = g.node("Transpose", [d], "dfl_t", perm=[0, 2, 1, 3])[0]
    d = g.node("Softmax", [d], "dfl_softmax", axis=1)[0]
    proj = np.arange(reg, dtype=np.float32).reshape(1, reg, 1, 1)
    d = g.node("Conv", [d, g.const("dfl_w", proj)], "dfl_conv")[0]
    dist = g.node("Reshape", [d, g.const("shape", np.array([1, 4, a], np.int64))], "dist")[0]
    lt, rb = g.node("Split", [dist, g.const("split", np.array([2, 2], np.int64))], "lt_rb",
                    outputs=2, axis=1)
    anc = g.const("anchors", np.concatenate(anchors, axis=1)[None].astype(np.float32))
    x1y1 = g.node("Sub", [anc, lt], "x1y1")[0]
    x2y2 = g.node("Add", [anc, rb], "x2y2")[0]
    cxy = g.node("Div", [g.node("Add", [x1y1, x2y2], "cxy_sum")[0],
                         g.const("two", np.array(2.0, np.float32))], "cxy")[0]
    wh = g.node("Sub", [x2y2, x1y1], "wh")[0]
    dbox = g.node("Concat", [cxy, wh], "dbox", axis=1)[0]
    stride_c = g.const("strides", np.concatenate(strides)[None, None])
    dbox = g.node("Mul", [dbox, stride_c], "dbox_scaled")[0]
    sig = g.node("Sigmoid", [cls], "scores")[0]
    g.nodes.append(N("Concat", [dbox, sig], ["y"], name="detections", axis=1))
    return g.model([("x", [1, 3, size, size])], [("y", [1, 4 + classes, a])])


def channel_shuffle(size: int = 64, classes: int = 10, width: int = 32, units: int = 3,
                    seed: int = 1) -> onnx.ModelProto:
    """ShuffleNetV2-style units on a [1, 3, size, size] image: output [1, classes]."""
    g = _G(seed)
    x = g.node("Relu", [g.conv("x", 3, width, 3, 2, base="stem")], "stem_relu")[0]
    side = size // 2

    def shuffle(c: str, channels: int, u: str) -> str:
        half = channels // 2
        s = g.node("Reshape", [c, g.const("shape", np.array([1, 2, half, side, side],
                                                            np.int64))], f"shuffle_r{u}")[0]
        s = g.node("Transpose", [s], f"shuffle_t{u}", perm=[0, 2, 1, 3, 4])[0]
        return g.node("Reshape", [s, g.const("shape", np.array([1, channels, side, side],
                                                               np.int64))], f"shuffle{u}")[0]

    def branch(x: str, cin: int, cout: int, stride: int, u: str) -> str:
        r = g.node("Relu", [g.conv(x, cin, cout, 1, base=f"pw{u}a")], f"relu{u}a")[0]
        r = g.conv(r, cout, cout, 3, stride, group=cout, base=f"dw{u}", gain=1.0)
        return g.node("Relu", [g.conv(r, cout, cout, 1, base=f"pw{u}b")], f"relu{u}b")[0]

    for u in range(units):
        if u == 1:
            # A downsampling unit: both branches see the whole input (no split).
            side //= 2
            left = g.conv(x, width, width, 3, 2, group=width, base="down_dw", gain=1.0)
            left = g.node("Relu", [g.conv(left, width, width, 1, base="down_pw")], "down_relu")[0]
            right = branch(x, width, width, 2, "down")
            c = g.node("Concat", [left, right], "down_cat", axis=1)[0]
            width *= 2
            x = shuffle(c, width, "down")
        half = width // 2
        # The channel split as PyTorch exports x[:, :c] / x[:, c:] (Slice).
        left = g.node("Slice", [x, g.const("s", np.array([0], np.int64)),
                                g.const("e", np.array([half], np.int64)),
                                g.const("a", np.array([1], np.int64))], f"left{u}")[0]
        right = g.node("Slice", [x, g.const("s", np.array([half], np.int64)),
                                 g.const("e", np.array([width], np.int64)),
                                 g.const("a", np.array([1], np.int64))], f"right{u}")[0]
        r = branch(right, half, half, 1, str(u))
        c = g.node("Concat", [left, r], f"cat{u}", axis=1)[0]
        x = shuffle(c, width, str(u))
    p = g.node("GlobalAveragePool", [x], "gap")[0]
    f = g.node("Flatten", [p], "flat")[0]
    w = (g.rng.standard_normal((classes, width)) * np.sqrt(1 / width)).astype(np.float32)
    g.nodes.append(N("Gemm", [f, g.const("fc_w", w), g.const("fc_b", np.zeros(classes, np.float32))],
                     ["y"], name="fc", transB=1))
    return g.model([("x", [1, 3, size, size])], [("y", [1, classes])])


def recurrent(steps: int = 8, features: int = 16, hidden: int = 24, classes: int = 6,
              seed: int = 2) -> onnx.ModelProto:
    """A GRU then an LSTM over [steps, 1, features] (ONNX's seq-first layout): [1, classes].

    The unrolled sequence is joined by CONCATENATION: more than 10 steps are written as
    concatenations of at most 10 (TFLite Micro's limit)."""
    g = _G(seed)

    def w(*shape: int) -> np.ndarray:
        return (g.rng.standard_normal(shape) * np.sqrt(1 / shape[-1])).astype(np.float32)

    gru = g.node("GRU", ["x", g.const("gru_w", w(1, 3 * hidden, features)),
                         g.const("gru_r", w(1, 3 * hidden, hidden)),
                         g.const("gru_b", w(1, 6 * hidden) * 0.1)],
                 "gru", outputs=2, hidden_size=hidden, linear_before_reset=1)
    seq = g.node("Squeeze", [gru[0], g.const("axes", np.array([1], np.int64))], "gru_seq")[0]
    lstm = g.node("LSTM", [seq, g.const("lstm_w", w(1, 4 * hidden, hidden)),
                           g.const("lstm_r", w(1, 4 * hidden, hidden)),
                           g.const("lstm_b", w(1, 8 * hidden) * 0.1)],
                  "lstm", outputs=3, hidden_size=hidden)
    last = g.node("Reshape", [lstm[1], g.const("shape", np.array([1, hidden], np.int64))],
                  "last")[0]
    g.nodes.append(N("Gemm", [last, g.const("fc_w", w(classes, hidden)),
                              g.const("fc_b", np.zeros(classes, np.float32))], ["y"],
                     name="fc", transB=1))
    return g.model([("x", [steps, 1, features])], [("y", [1, classes])])


def recurrent_data(n: int, steps: int = 8, features: int = 16, seed: int = 3) -> np.ndarray:
    """Smooth multi-tone sequences (an audio-feature-like signal), [n, steps, 1, features]."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps)[:, None]
    out = []
    for _ in range(n):
        f = rng.uniform(0.05, 0.5, features)
        ph = rng.uniform(0, 2 * np.pi, features)
        amp = rng.uniform(0.3, 2.0, features)
        out.append((amp * np.sin(2 * np.pi * f * t + ph))[:, None, :])
    return np.asarray(out, np.float32)


PHOTOS = ("astronaut", "coffee", "chelsea", "rocket", "camera", "coins", "hubble_deep_field",
          "retina", "immunohistochemistry", "motorcycle")


def photos(n: int, size: int, seed: int = 0) -> np.ndarray:
    """``n`` views of scikit-image's photos (whole, then random crops), resized to
    size x size, RGB in [0, 1], NCHW float32."""
    import skimage.data
    from PIL import Image

    rng = np.random.default_rng(seed)
    images = []
    for name in PHOTOS:
        fn = getattr(skimage.data, name if name != "motorcycle" else "stereo_motorcycle")
        px = fn()
        px = px[0] if isinstance(px, tuple) else px
        if px.ndim == 2:
            px = np.repeat(px[..., None], 3, axis=2)
        images.append(Image.fromarray(np.ascontiguousarray(px[..., :3]).astype(np.uint8)))
    out = []
    for i in range(n):
        im = images[i % len(images)]
        if i >= len(images):
            w, h = im.size
            side = int(min(w, h) * rng.uniform(0.4, 0.95))
            left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
            im = im.crop((left, top, left + side, top + side))
        px = np.asarray(im.resize((size, size), Image.BILINEAR), np.float32) / 255.0
        out.append(px.transpose(2, 0, 1))
    return np.asarray(out, np.float32)
