"""Cross-layer equalization (Nagel et al., "Data-Free Quantization Through Weight Equalization
and Bias Correction", ICCV 2019, section 4.1), on the float IR before calibration.

Two layers in a row, A then B, with only a positively homogeneous activation between them
(none, ReLU: relu(x / s) = relu(x) / s for s > 0) compute the same function when A's output
channel i is divided by s_i (its weights and bias) and B's weights reading channel i are
multiplied by s_i. The paper's choice s_i = sqrt(r1_i / r2_i), with r1_i the range of A's
weights producing channel i and r2_i the range of B's weights reading it, gives both the same
range sqrt(r1_i * r2_i): B's weights, quantized per output channel over all its input
channels, lose less to one wide input channel, and the activation between A and B, quantized
per tensor, has channels of more even range. Chains (A -> B -> C) are swept a few times, as the
paper does, until the scales settle.

What is left alone: ReLU6 / ReLU_N1_TO_1 / TANH... between the layers (a clip at 6 does not
commute with scaling), tensors read by anything but B or that are graph outputs, depthwise
layers with a channel multiplier, and everything that is not CONV_2D, DEPTHWISE_CONV_2D or
FULLY_CONNECTED with constant float weights.

Layouts are TFLite's: CONV_2D weights [O, KH, KW, I], DEPTHWISE_CONV_2D [1, KH, KW, C],
FULLY_CONNECTED [O, I].
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from edgelite import ir

_LAYERS = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")
_HOMOGENEOUS = ("NONE", "RELU")  # fused activations that commute with a positive scale
SWEEPS = 8
_S_MIN, _S_MAX = 1e-4, 1e4  # a scale beyond these says a channel is dead: left alone


@dataclass
class Pair:
    first: str  # op names (or output tensor names when unnamed)
    second: str
    channels: int
    max_scale: float  # the largest s_i or 1/s_i applied, over all sweeps


def _name(op: ir.Op) -> str:
    return op.name or op.outputs[0].name


def _weights(op: ir.Op) -> np.ndarray | None:
    if op.type not in _LAYERS or len(op.inputs) < 2:
        return None
    w = op.inputs[1]
    if w is None or not w.is_const or w.dtype != "float32":
        return None
    expected = 2 if op.type == "FULLY_CONNECTED" else 4
    return w.data if w.data.ndim == expected else None


def _depthwise_1to1(op: ir.Op) -> bool:
    inp = op.inputs[0]
    return (op.type == "DEPTHWISE_CONV_2D" and inp is not None and len(inp.shape) == 4
            and inp.shape[3] == op.inputs[1].shape[3])


def _out_channel_range(op: ir.Op, w: np.ndarray) -> np.ndarray:
    if op.type == "DEPTHWISE_CONV_2D":
        return np.abs(w).max(axis=(0, 1, 2))
    return np.abs(w.reshape(w.shape[0], -1)).max(axis=1)


def _in_channel_range(op: ir.Op, w: np.ndarray) -> np.ndarray:
    if op.type == "FULLY_CONNECTED":
        return np.abs(w).max(axis=0)
    return np.abs(w).max(axis=(0, 1, 2))  # CONV_2D's I axis and depthwise's C axis are last


def find_pairs(graph: ir.Graph) -> list[tuple[ir.Op, ir.Op]]:
    """(A, B) layer pairs equalization may rescale, in graph order."""
    consumers = graph.consumers()
    outputs = {id(t) for t in graph.outputs}
    pairs = []
    for a in graph.ops:
        wa = _weights(a)
        if wa is None or a.options.get("fused_activation_function", "NONE") not in _HOMOGENEOUS:
            continue
        if a.type == "DEPTHWISE_CONV_2D" and not _depthwise_1to1(a):
            continue
        t = a.outputs[0]
        users = consumers.get(t, [])
        if id(t) in outputs or len(users) != 1:
            continue
        b = users[0]
        wb = _weights(b)
        if wb is None or b.inputs[0] is not t or t in b.inputs[1:]:
            continue
        if b.type == "DEPTHWISE_CONV_2D" and not _depthwise_1to1(b):
            continue
        consts = [x for op in (a, b) for x in op.inputs[1:3] if x is not None]
        if any(len(consumers.get(x, [])) != 1 for x in consts):
            continue  # a weight or bias shared with another op would change it too
        channels = wa.shape[3] if a.type == "DEPTHWISE_CONV_2D" else wa.shape[0]
        if _in_channel_range(b, wb).size != channels or t.shape[-1:] != (channels,):
            continue  # e.g. a FULLY_CONNECTED reading a flattened feature map
        pairs.append((a, b))
    return pairs


def equalize(graph: ir.Graph) -> tuple[ir.Graph, list[Pair]]:
    """A copy of ``graph`` with every eligible layer pair equalized, and the pairs changed.
    The copy computes the same function (up to float rounding); ``graph`` is not touched."""
    g = copy.deepcopy(graph)
    pairs = find_pairs(g)
    done: dict[tuple[int, int], Pair] = {}
    for _ in range(SWEEPS):
        moved = 0.0
        for a, b in pairs:
            wa, wb = a.inputs[1].data, b.inputs[1].data
            r1 = _out_channel_range(a, wa).astype(np.float64)
            r2 = _in_channel_range(b, wb).astype(np.float64)
            with np.errstate(divide="ignore", invalid="ignore"):
                s = np.sqrt(r1 / r2)
            s = np.where(np.isfinite(s) & (s >= _S_MIN) & (s <= _S_MAX), s, 1.0)
            if np.all(np.abs(s - 1.0) < 1e-6):
                continue
            moved = max(moved, float(np.max(np.abs(np.log(s)))))
            _scale_out(a, 1.0 / s)
            _scale_in(b, s)
            key = (id(a), id(b))
            grow = float(np.max(np.maximum(s, 1.0 / s)))
            if key in done:
                done[key].max_scale = max(done[key].max_scale, grow)
            else:
                done[key] = Pair(_name(a), _name(b), int(s.size), grow)
        if moved < 1e-3:
            break
    return g, [done[(id(a), id(b))] for a, b in pairs if (id(a), id(b)) in done]


def _replace_const(t: ir.Tensor, data: np.ndarray) -> None:
    t.data = np.require(data.astype(np.float32), requirements="C")


def _scale_out(op: ir.Op, f: np.ndarray) -> None:
    """Output channel i of ``op`` times f_i: its weights producing i, and its bias."""
    w = op.inputs[1].data.astype(np.float64)
    if op.type == "DEPTHWISE_CONV_2D":
        w = w * f[None, None, None, :]
    else:
        w = w * f.reshape((-1,) + (1,) * (w.ndim - 1))
    _replace_const(op.inputs[1], w)
    bias = op.inputs[2] if len(op.inputs) > 2 else None
    if bias is not None and bias.is_const:
        _replace_const(bias, bias.data.astype(np.float64) * f)


def _scale_in(op: ir.Op, f: np.ndarray) -> None:
    """The weights of ``op`` reading input channel i times f_i."""
    w = op.inputs[1].data.astype(np.float64)
    if op.type == "FULLY_CONNECTED":
        w = w * f[None, :]
    else:
        w = w * f[None, None, None, :]
    _replace_const(op.inputs[1], w)
