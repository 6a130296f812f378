"""Shapes of a .tflite graph computed again from new input shapes.

A .tflite file with dynamic inputs (shape_signature -1) stores placeholder shapes (1s) for every
tensor after them; LiteRT recomputes them on resize_tensor_input. When the user gives
``--input-shape``, the same is done here on the IR, op by op, with TFLite's shape rules. An op
without a rule stops the conversion by name (a wrong shape would make a wrong model).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError

Shape = tuple[int, ...]


class _NoRule(Exception):
    pass


def _const(op: ir.Op, i: int) -> np.ndarray:
    t = op.inputs[i] if i < len(op.inputs) else None
    if t is None or t.data is None:
        raise _NoRule(f"input {i} must be a constant")
    return np.asarray(t.data)


def _shape(op: ir.Op, i: int) -> Shape:
    t = op.inputs[i]
    if t is None:
        raise _NoRule(f"input {i} is absent")
    return tuple(t.shape)


def _axis(a: int, rank: int) -> int:
    if not -rank <= a < rank:
        raise _NoRule(f"axis {a} out of range for rank {rank}")
    return a + rank if a < 0 else a


def _same(op: ir.Op) -> list[Shape]:
    return [_shape(op, 0)]


def _broadcast(op: ir.Op) -> list[Shape]:
    try:
        return [tuple(np.broadcast_shapes(*[tuple(t.shape) for t in op.inputs if t is not None]))]
    except ValueError as e:
        raise _NoRule(f"inputs do not broadcast ({e})") from None


def _expand_dims(op: ir.Op) -> list[Shape]:
    s = list(_shape(op, 0))
    a = int(_const(op, 1).reshape(-1)[0])
    a = _axis(a, len(s) + 1)
    return [tuple(s[:a] + [1] + s[a:])]


def _squeeze(op: ir.Op) -> list[Shape]:
    s = _shape(op, 0)
    dims = op.options.get("squeeze_dims") or []
    drop = {_axis(int(d), len(s)) for d in dims} if dims else {k for k, d in enumerate(s) if d == 1}
    if any(s[k] != 1 for k in drop):
        raise _NoRule(f"squeezes a dimension that is not 1 in {list(s)}")
    return [tuple(d for k, d in enumerate(s) if k not in drop)]


def _transpose(op: ir.Op) -> list[Shape]:
    s = _shape(op, 0)
    perm = [int(p) for p in _const(op, 1).reshape(-1)]
    if sorted(perm) != list(range(len(s))):
        raise _NoRule(f"perm {perm} for rank {len(s)}")
    return [tuple(s[p] for p in perm)]


def _reshape(op: ir.Op) -> list[Shape]:
    s = _shape(op, 0)
    if len(op.inputs) > 1 and op.inputs[1] is not None and op.inputs[1].data is not None:
        new = [int(d) for d in op.inputs[1].data.reshape(-1)]
    else:
        new = [int(d) for d in op.options.get("new_shape") or []]
    total = math.prod(s)
    if new.count(-1) == 1:
        rest = math.prod(d for d in new if d != -1)
        if rest == 0 or total % rest:
            raise _NoRule(f"{list(s)} does not reshape to {new}")
        new[new.index(-1)] = total // rest
    if math.prod(new) != total:
        raise _NoRule(f"the stored target shape {new} does not hold {list(s)} (it was computed "
                      "for the file's placeholder shape)")
    return [tuple(new)]


def _window(size: int, k: int, stride: int, dilation: int, padding: str) -> int:
    eff = (k - 1) * dilation + 1
    if padding == "SAME":
        return -(-size // stride)
    if size < eff:
        raise _NoRule(f"a window of {eff} does not fit in {size}")
    return (size - eff) // stride + 1


def _conv(op: ir.Op) -> list[Shape]:
    n, h, w, _c = _shape(op, 0)
    f = _shape(op, 1)
    o = op.options
    pad = str(o.get("padding", "SAME"))
    oh = _window(h, f[1], int(o.get("stride_h", 1)), int(o.get("dilation_h_factor", 1)), pad)
    ow = _window(w, f[2], int(o.get("stride_w", 1)), int(o.get("dilation_w_factor", 1)), pad)
    return [(n, oh, ow, f[0] if op.type == "CONV_2D" else f[3])]


def _pool(op: ir.Op) -> list[Shape]:
    n, h, w, c = _shape(op, 0)
    o = op.options
    pad = str(o.get("padding", "SAME"))
    return [(n, _window(h, int(o["filter_height"]), int(o.get("stride_h", 1)), 1, pad),
             _window(w, int(o["filter_width"]), int(o.get("stride_w", 1)), 1, pad), c)]


def _fully_connected(op: ir.Op) -> list[Shape]:
    s = _shape(op, 0)
    units, depth = _shape(op, 1)
    if op.options.get("keep_num_dims"):
        return [(*s[:-1], units)]
    if math.prod(s) % depth:
        raise _NoRule(f"input {list(s)} is not a multiple of {depth}")
    return [(math.prod(s) // depth, units)]


def _batch_matmul(op: ir.Op) -> list[Shape]:
    x, y = list(_shape(op, 0)), list(_shape(op, 1))
    if op.options.get("adj_x"):
        x[-1], x[-2] = x[-2], x[-1]
    if op.options.get("adj_y"):
        y[-1], y[-2] = y[-2], y[-1]
    if x[-1] != y[-2]:
        raise _NoRule(f"inner dimensions {x[-1]} and {y[-2]} differ")
    batch = np.broadcast_shapes(tuple(x[:-2]), tuple(y[:-2]))
    return [(*batch, x[-2], y[-1])]


def _reduce(op: ir.Op) -> list[Shape]:
    s = _shape(op, 0)
    axes = {_axis(int(a), len(s)) for a in _const(op, 1).reshape(-1)}
    if op.options.get("keep_dims"):
        return [tuple(1 if k in axes else d for k, d in enumerate(s))]
    return [tuple(d for k, d in enumerate(s) if k not in axes)]


def _concat(op: ir.Op) -> list[Shape]:
    shapes = [tuple(t.shape) for t in op.inputs]
    a = _axis(int(op.options.get("axis", 0)), len(shapes[0]))
    out = list(shapes[0])
    out[a] = sum(s[a] for s in shapes)
    return [tuple(out)]


def _pad(op: ir.Op) -> list[Shape]:
    s = _shape(op, 0)
    p = _const(op, 1).reshape(len(s), 2)
    return [tuple(int(d + a + b) for d, (a, b) in zip(s, p))]


_UNARY = ("ABS", "CAST", "CEIL", "COS", "DEQUANTIZE", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH",
          "L2_NORMALIZATION", "LEAKY_RELU", "LOG", "LOG_SOFTMAX", "LOGICAL_NOT", "LOGISTIC", "NEG",
          "QUANTIZE", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "ROUND", "RSQRT", "SIGN",
          "SIN", "SOFTMAX", "SQRT", "SQUARE", "TANH", "ZEROS_LIKE")
_BINARY = ("ADD", "SUB", "MUL", "DIV", "MINIMUM", "MAXIMUM", "POW", "SQUARED_DIFFERENCE",
           "FLOOR_DIV", "FLOOR_MOD", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL",
           "NOT_EQUAL", "LOGICAL_AND", "LOGICAL_OR", "PRELU", "SELECT", "SELECT_V2")

RULES: dict[str, Callable[[ir.Op], list[Shape]]] = {
    **{t: _same for t in _UNARY}, **{t: _broadcast for t in _BINARY},
    "EXPAND_DIMS": _expand_dims, "SQUEEZE": _squeeze, "TRANSPOSE": _transpose,
    "RESHAPE": _reshape, "CONV_2D": _conv, "DEPTHWISE_CONV_2D": _conv, "AVERAGE_POOL_2D": _pool,
    "MAX_POOL_2D": _pool, "FULLY_CONNECTED": _fully_connected, "BATCH_MATMUL": _batch_matmul,
    "MEAN": _reduce, "SUM": _reduce, "REDUCE_MAX": _reduce, "REDUCE_MIN": _reduce,
    "REDUCE_PROD": _reduce, "CONCATENATION": _concat, "PAD": _pad, "PADV2": _pad,
}


def propagate(graph: ir.Graph, where: str) -> None:
    """Every op's output shapes from its inputs' (graph.ops in order, inputs already set)."""
    for op in graph.ops:
        rule = RULES.get(op.type)
        try:
            if rule is None:
                raise _NoRule("edgelite has no shape rule for this op")
            shapes = rule(op)
            if len(shapes) != len(op.outputs):
                raise _NoRule(f"{len(op.outputs)} outputs, expected {len(shapes)}")
        except _NoRule as e:
            raise EdgeliteError(
                f"operator {op.name} ({op.type}): cannot compute its output shape for the "
                f"input shapes given: {e}", where=where, code=Code.UNSUPPORTED,
                hint="give --input-shape the shape the file was exported for, or export the "
                     ".tflite with fixed input shapes") from None
        for t, s in zip(op.outputs, shapes):
            if any(d <= 0 for d in s):
                raise EdgeliteError(
                    f"operator {op.name} ({op.type}): output shape {list(s)} for the input "
                    "shapes given is empty", where=where, code=Code.UNSUPPORTED,
                    hint="give a larger --input-shape")
            t.shape = tuple(int(d) for d in s)
