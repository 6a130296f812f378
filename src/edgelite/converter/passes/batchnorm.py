"""Fold per-channel MUL/ADD/SUB/DIV by constants into the weights and bias of the op before.

BatchNormalization lowers to MUL + ADD by per-channel constants; after the layout pass they sit
right behind the CONV_2D (or FC, ...) that produced their input, where they cost nothing once
folded: conv(x, w) * s + b == conv(x, w * s) + (bias * s + b).

Behind a channel CONCATENATION of such ops (a grouped convolution) the constants are split and
folded into each of them, and so is a fused activation (LiteRT rejects one on CONCATENATION).
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


def _weights(prod: ir.Op, channels: int) -> tuple[ir.Tensor, ir.Tensor | None] | None:
    """(weights, bias) of a foldable op whose output has ``channels`` channels, or None."""
    if prod.type not in FOLDABLE or len(prod.outputs) != 1:
        return None
    if prod.options.get("fused_activation_function", "NONE") != "NONE":
        return None
    out = prod.outputs[0]
    if out.dtype != "float32" or out.quant is not None or out.shape[-1] != channels:
        return None
    w_idx, w_axis, b_idx = FOLDABLE[prod.type]
    w = prod.inputs[w_idx] if len(prod.inputs) > w_idx else None
    bias = prod.inputs[b_idx] if len(prod.inputs) > b_idx else None
    if w is None or not w.is_const or w.quant is not None or w.dtype != "float32":
        return None
    if w.shape[w_axis] != channels:
        return None
    if bias is not None and (not bias.is_const or bias.quant is not None):
        return None
    return w, bias


def _apply(ix: Index, namer: Namer, prod: ir.Op, kind: str, vec: np.ndarray) -> None:
    """Fold ``out <kind> vec`` (per output channel) into prod's weights and bias."""
    w_idx, w_axis, b_idx = FOLDABLE[prod.type]
    found = _weights(prod, vec.size)
    assert found is not None
    w, bias = found
    channels = vec.size
    bias_v = bias.data.astype(np.float32) if bias is not None else np.zeros(channels, np.float32)
    inputs = list(prod.inputs)
    if kind in ("MUL", "DIV"):
        scale = vec if kind == "MUL" else (1.0 / vec).astype(np.float32)
        shape = [1] * w.data.ndim
        shape[w_axis] = channels
        inputs[w_idx] = new_const(namer, w.name, (w.data * scale.reshape(shape)).astype(np.float32))
        bias_v = bias_v * scale
    elif kind == "ADD":
        bias_v = bias_v + vec
    else:
        bias_v = bias_v - vec
    while len(inputs) <= b_idx:
        inputs.append(None)
    inputs[b_idx] = new_const(namer, bias.name if bias is not None else f"{prod.name}_bias",
                              bias_v.astype(np.float32))
    ix.set_inputs(prod, inputs)


def _concat_parts(ix: Index, concat: ir.Op, channels: int) -> list[ir.Op] | None:
    """The foldable producers of a channel CONCATENATION, each read only by it."""
    out = concat.outputs[0]
    if concat.options.get("fused_activation_function", "NONE") != "NONE":
        return None
    if int(concat.options.get("axis", 0)) % len(out.shape) != len(out.shape) - 1:
        return None
    parts = []
    for t in concat.inputs:
        prod = ix.producers.get(t) if t is not None else None
        if prod is None or ix.single_consumer(t) is not concat:
            return None
        if _weights(prod, t.shape[-1]) is None:
            return None
        parts.append(prod)
    return parts if sum(p.outputs[0].shape[-1] for p in parts) == channels else None


def fold_batchnorm(graph: ir.Graph) -> bool:
    """Fold per-channel arithmetic into the op before it (or, through a channel
    CONCATENATION, into each op feeding it: grouped convolutions lower that way)."""
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
        if prod is None or ix.single_consumer(p_out) is not op or len(prod.outputs) != 1:
            continue
        if (op.outputs[0].shape != p_out.shape or p_out.dtype != "float32" or p_out.quant
                or not p_out.shape):  # a scalar has no channel axis to fold along
            continue
        channels = p_out.shape[-1]
        vec = _per_channel(c, channels, len(p_out.shape))
        if vec is None:
            continue
        act = op.options.get("fused_activation_function", "NONE")
        if prod.type == "CONCATENATION":
            parts = _concat_parts(ix, prod, channels)
            if parts is None:
                continue
        elif _weights(prod, channels) is None:
            continue
        else:
            parts = [prod]
        namer = namer or Namer(graph)
        start = 0
        for part in parts:
            n = part.outputs[0].shape[-1]
            _apply(ix, namer, part, op.type, vec[start:start + n])
            # relu(concat(a, b)) == concat(relu(a), relu(b)): the activation goes to the parts
            part.options = {**part.options, "fused_activation_function": act}
            start += n
        ix.remove(op)
        ix.set_outputs(prod, list(op.outputs))
        changed = True
    ix.commit()
    return changed
