"""Reductions and ArgMax/ArgMin."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.converter.ops._util import emit, i32, norm_axis, reshape_to
from edgelite.converter.ops.registry import LoweringContext, register

# ONNX op -> (TFLite op, first opset taking axes as an input, dtypes).
_REDUCE = {
    "ReduceMean": ("MEAN", 18, ("float32",)),
    "ReduceMax": ("REDUCE_MAX", 18, ("float32", "int32", "int64")),
    "ReduceMin": ("REDUCE_MIN", 18, ("float32", "int32", "int64")),
    "ReduceSum": ("SUM", 13, ("float32", "int32", "int64")),
    "ReduceProd": ("REDUCE_PROD", 18, ("float32",)),
}


def _make_reduce(onnx_op: str, tfl_op: str, axes_input_from: int,
                 dtypes: tuple[str, ...]) -> None:
    def lower(ctx: LoweringContext, node: onnx.NodeProto) -> None:
        x = ctx.input(node, 0)
        r = len(x.shape)
        keep = bool(ctx.attr(node, "keepdims", 1))
        if ctx.opset >= axes_input_from:
            axes = ([int(a) for a in np.asarray(ctx.const(node, 1)).reshape(-1)]
                    if ctx.has_input(node, 1) else [])
        else:
            axes = list(ctx.attr(node, "axes", []))
        if not axes:
            if ctx.opset >= axes_input_from and ctx.attr(node, "noop_with_empty_axes", 0):
                ctx.set_output(node, 0, reshape_to(ctx, node, x, x.shape))
                return
            axes = list(range(r))
        axes = sorted({norm_axis(ctx, node, a, r) for a in axes})
        if any(x.shape[a] == 0 for a in axes):
            raise ctx.unsupported(node, "reducing an empty dimension is not supported")
        shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep or i not in axes)
        y = emit(ctx, tfl_op, [x, i32(ctx, f"{node.output[0]}_axes", axes)], shape, x.dtype,
                 {"keep_dims": keep})
        ctx.set_output(node, 0, y)

    register(onnx_op, opsets=(1, 25), dtypes=dtypes, const_inputs=(1,),
             notes=f"{tfl_op}; axes as attribute or constant input, keepdims, "
                   "noop_with_empty_axes")(lower)


for _op, (_tfl, _from, _dt) in _REDUCE.items():
    _make_reduce(_op, _tfl, _from, _dt)


def _arg(ctx: LoweringContext, node: onnx.NodeProto, op_type: str) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    if ctx.attr(node, "select_last_index", 0):
        raise ctx.unsupported(node, "select_last_index=1 is not supported (TFLite returns "
                                    "the first index)")
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", 0), r)
    keep = bool(ctx.attr(node, "keepdims", 1))
    reduced = tuple(d for i, d in enumerate(x.shape) if i != axis)
    base = node.output[0]
    y = emit(ctx, op_type, [x, i32(ctx, f"{base}_axis", [axis])], reduced, "int64",
             {"output_type": "INT64"}, base=f"{base}_arg" if keep else base)
    if keep:
        shape = tuple(1 if i == axis else d for i, d in enumerate(x.shape))
        y = emit(ctx, "RESHAPE", [y, i32(ctx, f"{base}_shape", list(shape))], shape, "int64",
                 {"new_shape": list(shape)})
    ctx.set_output(node, 0, y)


@register("ArgMax", opsets=(1, 25), dtypes=("float32", "int32"),
          notes="ARG_MAX (int64 output), keepdims by RESHAPE; select_last_index unsupported")
def lower_argmax(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _arg(ctx, node, "ARG_MAX")


@register("ArgMin", opsets=(1, 25), dtypes=("float32", "int32"),
          notes="ARG_MIN (int64 output), keepdims by RESHAPE; select_last_index unsupported")
def lower_argmin(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _arg(ctx, node, "ARG_MIN")
