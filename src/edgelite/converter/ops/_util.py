"""Small helpers shared by the lowerings (not part of the registry API)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops.registry import LoweringContext

FLOAT_MAX = float(np.finfo(np.float32).max)


def emit(ctx: LoweringContext, op_type: str, inputs: Sequence[ir.Tensor | None],
         shape: Sequence[int], dtype: str = "float32", options: dict[str, Any] | None = None,
         base: str | None = None) -> ir.Tensor:
    """Add one single-output op and return its output tensor."""
    node = ctx.node
    y = ctx.tensor(base or (node.output[0] if node is not None else op_type.lower()),
                   tuple(int(d) for d in shape), dtype)
    ctx.add_op(op_type, list(inputs), [y], options)
    return y


def i32(ctx: LoweringContext, base: str, values: Any) -> ir.Tensor:
    """A constant int32 parameter tensor (axes, shapes, perms, paddings...)."""
    return ctx.constant(base, np.asarray(values, dtype=np.int32).copy(), "int32")


def f32(ctx: LoweringContext, base: str, values: Any) -> ir.Tensor:
    return ctx.constant(base, np.asarray(values, dtype=np.float32).copy(), "float32")


def norm_axis(ctx: LoweringContext, node: onnx.NodeProto, axis: int, rank: int) -> int:
    """An ONNX axis (may be negative) as a positive index, checked against ``rank``."""
    a = int(axis)
    if a < 0:
        a += rank
    if not 0 <= a < max(rank, 1):
        raise ctx.unsupported(node, f"axis {axis} is out of range for rank {rank}")
    return a


def broadcast_shape(ctx: LoweringContext, node: onnx.NodeProto,
                    *shapes: Sequence[int]) -> tuple[int, ...]:
    try:
        return tuple(int(d) for d in np.broadcast_shapes(*[tuple(s) for s in shapes]))
    except ValueError:
        raise ctx.unsupported(
            node, "input shapes " + " and ".join(str(tuple(s)) for s in shapes)
            + " do not broadcast") from None


def binary(ctx: LoweringContext, op_type: str, a: ir.Tensor, b: ir.Tensor,
           options: dict[str, Any] | None = None, dtype: str | None = None,
           base: str | None = None) -> ir.Tensor:
    """An elementwise binary op with numpy broadcasting (TFLite broadcasts the same way)."""
    shape = broadcast_shape(ctx, ctx.node, a.shape, b.shape)
    return emit(ctx, op_type, [a, b], shape, dtype or a.dtype, options, base)


def as_const_like(ctx: LoweringContext, t: ir.Tensor, dtype: str) -> ir.Tensor:
    """``t`` converted to ``dtype``: numpy for constants, a CAST op otherwise."""
    if t.dtype == dtype:
        return t
    if t.is_const:
        return ctx.constant(t.name + "_" + dtype, t.data.astype(dtype), dtype)
    return emit(ctx, "CAST", [t], t.shape, dtype,
                {"in_data_type": tflite_type(t.dtype), "out_data_type": tflite_type(dtype)},
                base=t.name + "_cast")


_TFLITE_TYPES = {
    "float32": "FLOAT32", "float16": "FLOAT16", "int32": "INT32", "uint8": "UINT8",
    "int64": "INT64", "bool": "BOOL", "int16": "INT16", "int8": "INT8",
}


def tflite_type(dtype: str) -> str:
    return _TFLITE_TYPES[dtype]


def const_ints(ctx: LoweringContext, node: onnx.NodeProto, i: int) -> list[int]:
    """A constant integer input as a Python list (shapes, axes, pads...)."""
    return [int(v) for v in np.asarray(ctx.const(node, i)).reshape(-1)]


def spatial_reshape_1d(ctx: LoweringContext, x: ir.Tensor) -> ir.Tensor:
    """(N, C, L) -> (N, C, 1, L): 1-D convs and pools run as 2-D ops with height 1."""
    n, c, length = x.shape
    return ctx.reshape(x, (n, c, 1, length))


def reshape_to(ctx: LoweringContext, node: onnx.NodeProto, x: ir.Tensor,
               shape: Sequence[int]) -> ir.Tensor:
    """A RESHAPE that always yields a tensor of its own, even to the same shape.

    Node outputs must be distinct tensors (a graph output may not be the graph input); the
    identity pass removes the copies wherever that is safe.
    """
    shape = tuple(int(d) for d in shape)
    if any(d <= 0 for d in shape):
        raise ctx.unsupported(node, f"output shape {shape} has an empty dimension")
    return emit(ctx, "RESHAPE", [x, i32(ctx, f"{node.output[0]}_shape", list(shape))], shape,
                x.dtype, {"new_shape": list(shape)})
