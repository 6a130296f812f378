"""Fold a per-channel scale and shift into the 1x1 convolution or dense layer that reads it.

conv(x * s + t, w) == conv(x, w * s) + sum(w * t) (x / s: the scale 1 / s) for a convolution
whose every tap reads the scaled input (a 1x1 CONV_2D, or FULLY_CONNECTED): the scale goes into
the weights' input channels and the shift into the bias. PP-OCR's detector puts such an affine
(a "learnable affine block") after each hard-swish; the op before it (a MUL of two
activations) cannot take it, so fold_batchnorm leaves it. A padded convolution would see the
shift at the border, where the padding is 0 and not t: those stay.
"""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import Index, Namer, new_const
from edgelite.converter.passes.batchnorm import _per_channel

# op type -> (weight input index, the weights' input-channel axis, bias input index)
READERS = {"CONV_2D": (1, 3, 2), "FULLY_CONNECTED": (1, 1, 2)}


def _affine(ix: Index, t: ir.Tensor) -> tuple[ir.Op, ir.Tensor, np.ndarray] | None:
    """(op, its data input, vector) if t = x * c, x / c, x + c or x - c by a per-channel
    constant, with no activation."""
    op = ix.producers.get(t)
    if op is None or op.type not in ("MUL", "DIV", "ADD", "SUB") or len(op.inputs) != 2:
        return None
    if op.options.get("fused_activation_function", "NONE") != "NONE" or None in op.inputs:
        return None
    a, b = op.inputs
    x, c = (a, b) if b.is_const else (b, a)
    if x.is_const or not c.is_const or (op.type in ("SUB", "DIV") and x is not a):
        return None
    if x.shape != t.shape or x.dtype != "float32" or x.quant is not None or not x.shape:
        return None
    vec = _per_channel(c, x.shape[-1], len(x.shape))
    return (op, x, vec) if vec is not None else None


def _reader(ix: Index, t: ir.Tensor) -> ir.Op | None:
    """The one op reading t, if the pass can fold into it: a 1x1 CONV_2D of any stride (its
    taps never reach padding) or a FULLY_CONNECTED over t's last axis, with float weights."""
    op = ix.single_consumer(t)
    if op is None or op.type not in READERS or op.inputs[0] is not t or ix.is_output(t):
        return None
    w_idx, axis, b_idx = READERS[op.type]
    w = op.inputs[w_idx] if len(op.inputs) > w_idx else None
    if w is None or not w.is_const or w.quant is not None or w.dtype != "float32":
        return None
    if op.type == "CONV_2D" and (w.shape[1] != 1 or w.shape[2] != 1):
        return None
    if op.type == "FULLY_CONNECTED" and (op.options.get("keep_num_dims") or len(t.shape) != 2):
        return None
    if w.shape[axis] != t.shape[-1]:
        return None
    bias = op.inputs[b_idx] if len(op.inputs) > b_idx else None
    if bias is not None and (not bias.is_const or bias.quant is not None):
        return None
    return op


def fold_input_affine(graph: ir.Graph) -> bool:
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in list(graph.ops):
        if ix.removed(op) or op.type not in READERS or op.inputs[0] is None:
            continue
        t = op.inputs[0]
        if _reader(ix, t) is not op:
            continue
        found = _affine(ix, t)
        if found is None:
            continue
        aff, x, vec = found
        w_idx, axis, b_idx = READERS[op.type]
        w = op.inputs[w_idx].data.astype(np.float32)
        out_ch = w.shape[0]
        bias_t = op.inputs[b_idx] if len(op.inputs) > b_idx else None
        bias = (bias_t.data.astype(np.float32) if bias_t is not None
                else np.zeros(out_ch, np.float32))
        shape = [1] * w.ndim
        shape[axis] = vec.size
        if aff.type in ("MUL", "DIV"):
            scale = vec if aff.type == "MUL" else (1.0 / vec).astype(np.float32)
            w = (w * scale.reshape(shape)).astype(np.float32)
        else:
            shift = vec if aff.type == "ADD" else -vec
            per_out = (w * shift.reshape(shape)).reshape(out_ch, -1).sum(axis=1, dtype=np.float64)
            bias = (bias + per_out).astype(np.float32)
        namer = namer or Namer(graph)
        inputs = list(op.inputs)
        inputs[0] = x
        inputs[w_idx] = new_const(namer, op.inputs[w_idx].name, w)
        inputs[w_idx].sparse = op.inputs[w_idx].sparse  # scaling keeps a pruned zero zero
        while len(inputs) <= b_idx:
            inputs.append(None)
        inputs[b_idx] = new_const(namer, bias_t.name if bias_t is not None else f"{op.name}_bias",
                                  bias)
        ix.set_inputs(op, inputs)
        ix.remove(aff)
        changed = True
    ix.commit()
    return changed
