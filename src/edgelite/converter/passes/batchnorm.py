"""Fold per-channel MUL/ADD/SUB/DIV by constants into the weights and bias of the op before.

BatchNormalization lowers to MUL + ADD by per-channel constants; after the layout pass they sit
right behind the CONV_2D (or FC, ...) that produced their input, where they cost nothing once
folded: conv(x, w) * s + b == conv(x, w * s) + (bias * s + b).
"""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import Index, Namer, new_const

# op type -> (weight input index, weight axis of output channels, bias input index)
FOLDABLE = {
    "CONV_2D": (1, 0, 2),
    "DEPTHWISE_CONV_2D": (1, 3, 2),
    "FULLY_CONNECTED": (1, 0, 2),
    "TRANSPOSE_CONV": (1, 0, 3),
}
ARITH = ("MUL", "ADD", "SUB", "DIV")


def _per_channel(c: ir.Tensor, channels: int, out_rank: int) -> np.ndarray | None:
    """c as a (channels,) vector if it broadcasts along the last axis only."""
    v = c.data
    if v.ndim > out_rank or v.dtype != np.float32:
        return None
    if v.size == 1:
        return np.full(channels, v.reshape(-1)[0], np.float32)
    if v.shape[-1] != channels or any(d != 1 for d in v.shape[:-1]):
        return None
    return v.reshape(channels)


def fold_batchnorm(graph: ir.Graph) -> bool:
    ix = Index(graph)
    changed = False
    namer: Namer | None = None
    for op in graph.ops:
        if ix.removed(op) or op.type not in ARITH or len(op.inputs) != 2 or None in op.inputs:
            continue
        a, b = op.inputs
        p_out, c = (a, b) if b.is_const else (b, a)
        if p_out.is_const or not c.is_const or (op.type in ("SUB", "DIV") and p_out is not a):
            continue
        prod = ix.producers.get(p_out)
        if prod is None or prod.type not in FOLDABLE or len(prod.outputs) != 1:
            continue
        if ix.single_consumer(p_out) is not op:
            continue
        if prod.options.get("fused_activation_function", "NONE") != "NONE":
            continue
        if op.outputs[0].shape != p_out.shape or p_out.dtype != "float32" or p_out.quant:
            continue
        w_idx, w_axis, b_idx = FOLDABLE[prod.type]
        w = prod.inputs[w_idx] if len(prod.inputs) > w_idx else None
        bias = prod.inputs[b_idx] if len(prod.inputs) > b_idx else None
        if w is None or not w.is_const or w.quant is not None or w.dtype != "float32":
            continue
        if bias is not None and (not bias.is_const or bias.quant is not None):
            continue
        channels = p_out.shape[-1]
        if w.shape[w_axis] != channels:
            continue
        vec = _per_channel(c, channels, len(p_out.shape))
        if vec is None:
            continue
        bias_v = bias.data.astype(np.float32) if bias is not None else np.zeros(channels,
                                                                               np.float32)
        new_w = None
        if op.type in ("MUL", "DIV"):
            scale = vec if op.type == "MUL" else (1.0 / vec).astype(np.float32)
            shape = [1] * w.data.ndim
            shape[w_axis] = channels
            new_w = w.data * scale.reshape(shape)
            bias_v = bias_v * scale
        elif op.type == "ADD":
            bias_v = bias_v + vec
        else:
            bias_v = bias_v - vec
        namer = namer or Namer(graph)
        inputs = list(prod.inputs)
        if new_w is not None:
            inputs[w_idx] = new_const(namer, w.name, new_w.astype(np.float32))
        while len(inputs) <= b_idx:
            inputs.append(None)
        inputs[b_idx] = new_const(namer, bias.name if bias is not None else f"{prod.name}_bias",
                                  bias_v.astype(np.float32))
        ix.remove(op)
        ix.set_inputs(prod, inputs)
        prod.options = {**prod.options, "fused_activation_function":
                        op.options.get("fused_activation_function", "NONE")}
        ix.set_outputs(prod, list(op.outputs))
        changed = True
    ix.commit()
    return changed
