"""Fold an explicit PAD into the CONV_2D / DEPTHWISE_CONV_2D / MAX_POOL_2D after it when the
padding is exactly what SAME padding adds (ONNX exporters often write SAME as explicit pads),
and merge a PAD into the PAD that reads it.

Two PADs in a row come from an ONNX Pad before a Conv whose own padding is not SAME (the Conv's
padding becomes a PAD of its own). With the same fill they are one PAD of the summed padding:
one copy of the tensor less, and the PAD before a VALID convolution is one runtime_micro folds
into the convolution (a PAD read by a PAD is not).

Pools: SAME max-pooling ignores the padded cells, so only a PAD with a very negative value, or
a zero PAD of a non-negative (RELU-family) input, is equal to it. SAME average-pooling leaves the
padding out of the count while a zero PAD includes it: never folded.
"""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import Index, Namer, new_const

NON_NEGATIVE_ACTS = ("RELU", "RELU6")


def same_pads(size: int, kernel: int, stride: int, dilation: int) -> tuple[int, int]:
    """TFLite's SAME padding (before, after) of one spatial dimension."""
    out = -(-size // stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


def _window(op: ir.Op) -> tuple[int, int, int, int, int, int] | None:
    """(kh, kw, sh, sw, dh, dw) of a windowed op, or None."""
    o = op.options
    if op.type in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        w = op.inputs[1]
        if w is None:
            return None
        kh, kw = w.shape[1], w.shape[2]
        return (kh, kw, int(o.get("stride_h", 1)), int(o.get("stride_w", 1)),
                int(o.get("dilation_h_factor", 1)), int(o.get("dilation_w_factor", 1)))
    if op.type == "MAX_POOL_2D":
        return (int(o["filter_height"]), int(o["filter_width"]), int(o.get("stride_h", 1)),
                int(o.get("stride_w", 1)), 1, 1)
    return None


def _non_negative(ix: Index, t: ir.Tensor) -> bool:
    prod = ix.producers.get(t)
    if prod is None:
        return False
    return prod.type in NON_NEGATIVE_ACTS or \
        prod.options.get("fused_activation_function") in NON_NEGATIVE_ACTS


def _fill(pad: ir.Op) -> float | None:
    """The constant a float PAD / PADV2 fills with, or None if it is not a constant."""
    if pad.type == "PAD" or len(pad.inputs) < 3 or pad.inputs[2] is None:
        return 0.0
    v = pad.inputs[2]
    return float(v.data.reshape(-1)[0]) if v.is_const and v.size == 1 else None


def _paddings(pad: ir.Op) -> np.ndarray | None:
    """A PAD's constant paddings as an (rank, 2) array, or None."""
    p = pad.inputs[1] if len(pad.inputs) > 1 else None
    if p is None or not p.is_const or p.size % 2:
        return None
    return p.data.reshape(-1, 2).astype(np.int64)


def merge_pads(graph: ir.Graph) -> bool:
    """PAD(PAD(x, a), b) with the same fill, the inner one read only by the outer: PAD(x, a + b)."""
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        if op.type not in ("PAD", "PADV2") or ix.removed(op) or op.inputs[0] is None:
            continue
        inner = ix.producers.get(op.inputs[0])
        if inner is None or inner.type not in ("PAD", "PADV2") or ix.single_consumer(
                op.inputs[0]) is not op or inner.inputs[0] is None:
            continue
        x = inner.inputs[0]
        if x.dtype != "float32" or x.quant is not None or op.outputs[0].quant is not None:
            continue
        a, b = _paddings(inner), _paddings(op)
        fill = _fill(op)
        if a is None or b is None or a.shape != b.shape or (a < 0).any() or (b < 0).any() or \
                fill is None or _fill(inner) != fill:
            continue
        namer = namer or Namer(graph)
        total = new_const(namer, f"{op.outputs[0].name}_paddings",
                          (a + b).astype(op.inputs[1].dtype))
        ix.set_inputs(op, [x, total, *op.inputs[2:]])
        ix.remove(inner)
        changed = True
    ix.commit()
    return changed


def fold_pads(graph: ir.Graph) -> bool:
    ix = Index(graph)
    changed = False
    for op in graph.ops:
        if op.type not in ("CONV_2D", "DEPTHWISE_CONV_2D", "MAX_POOL_2D"):
            continue
        if op.options.get("padding", "VALID") != "VALID" or op.inputs[0] is None:
            continue
        pad = ix.producers.get(op.inputs[0])
        if pad is None or pad.type not in ("PAD", "PADV2") or ix.single_consumer(
                op.inputs[0]) is not op:
            continue
        x = pad.inputs[0]
        p = _paddings(pad)
        if x is None or p is None or len(x.shape) != 4 or p.shape != (4, 2):
            continue
        if x.dtype != "float32" or x.quant is not None:
            continue
        value = _fill(pad)
        if value is None:
            continue
        if op.type == "MAX_POOL_2D":
            if not (value <= -3.0e38 or (value == 0.0 and _non_negative(ix, x))):
                continue
        elif value != 0.0:
            continue
        win = _window(op)
        if win is None or p[0].any() or p[3].any():
            continue
        kh, kw, sh, sw, dh, dw = win
        want = np.array([same_pads(x.shape[1], kh, sh, dh), same_pads(x.shape[2], kw, sw, dw)])
        if not np.array_equal(p[1:3], want):
            continue
        ix.set_input(op, 0, x)
        ix.remove(pad)
        op.options = {**op.options, "padding": "SAME"}
        changed = True
    ix.commit()
    return changed
