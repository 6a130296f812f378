"""Reductions and ArgMax/ArgMin."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import (
    as_const_like, binary, emit, f32, i32, norm_axis, reshape_to,
)
from edgelite.converter.ops.registry import LoweringContext, register

_FUSED = {"fused_activation_function": "NONE"}

# ONNX op -> (TFLite op, first opset taking axes as an input, dtypes).
_REDUCE = {
    "ReduceMean": ("MEAN", 18, ("float32",)),
    "ReduceMax": ("REDUCE_MAX", 18, ("float32", "int32", "int64")),
    "ReduceMin": ("REDUCE_MIN", 18, ("float32", "int32", "int64")),
    "ReduceSum": ("SUM", 13, ("float32", "int32", "int64")),
    "ReduceProd": ("REDUCE_PROD", 18, ("float32",)),
    # Composites: an elementwise step before and/or after a SUM.
    "ReduceL1": ("SUM", 18, ("float32",)),
    "ReduceL2": ("SUM", 18, ("float32",)),
    "ReduceSumSquare": ("SUM", 18, ("float32",)),
    "ReduceLogSum": ("SUM", 18, ("float32",)),
    "ReduceLogSumExp": ("SUM", 18, ("float32",)),
}
_NOTES = {
    "ReduceL1": "SUM(ABS(x))", "ReduceL2": "SQRT(SUM(x*x))", "ReduceSumSquare": "SUM(x*x)",
    "ReduceLogSum": "LOG(SUM(x))", "ReduceLogSumExp": "LOG(SUM(EXP(x - max))) + max",
}


def reduce_axes(ctx: LoweringContext, node: onnx.NodeProto, rank: int,
                axes_input_from: int) -> list[int] | None:
    """The normalized axes to reduce; None for noop_with_empty_axes with no axes."""
    if ctx.opset >= axes_input_from:
        axes = ([int(a) for a in np.asarray(ctx.const(node, 1)).reshape(-1)]
                if ctx.has_input(node, 1) else [])
    else:
        axes = list(ctx.attr(node, "axes", []))
    if not axes:
        if ctx.opset >= axes_input_from and ctx.attr(node, "noop_with_empty_axes", 0):
            return None
        axes = list(range(rank))
    return sorted({norm_axis(ctx, node, a, rank) for a in axes})


def reduce(ctx: LoweringContext, node: onnx.NodeProto, tfl_op: str, x: ir.Tensor,
           axes: list[int], keep: bool, base: str | None = None) -> ir.Tensor:
    if any(x.shape[a] == 0 for a in axes):
        raise ctx.unsupported(node, "reducing an empty dimension is not supported")
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep or i not in axes)
    return emit(ctx, tfl_op, [x, i32(ctx, f"{base or node.output[0]}_axes", axes)], shape,
                x.dtype, {"keep_dims": keep}, base=base)


# What each reduction gives over an empty set (ONNX: the reduction's identity element).
_EMPTY = {"ReduceSum": 0.0, "ReduceL1": 0.0, "ReduceL2": 0.0, "ReduceSumSquare": 0.0,
          "ReduceProd": 1.0, "ReduceMax": -np.inf, "ReduceMin": np.inf,
          "ReduceLogSum": -np.inf, "ReduceLogSumExp": -np.inf}


def _empty_reduction(ctx: LoweringContext, node: onnx.NodeProto, onnx_op: str, x: ir.Tensor,
                     axes: list[int], keep: bool) -> ir.Tensor:
    """Reducing over a zero-size axis: the output is a constant whatever the input holds."""
    if onnx_op not in _EMPTY:
        raise ctx.unsupported(node, "reducing an empty dimension has no defined value")
    shape = tuple(1 if i in axes else d for i, d in enumerate(x.shape) if keep or i not in axes)
    if any(d == 0 for d in shape):
        raise ctx.unsupported(node, f"output shape {shape} is empty")
    value = _EMPTY[onnx_op]
    if x.dtype != "float32":  # integer max/min of nothing: the type's extremes
        info = np.iinfo(x.dtype)
        value = {np.inf: info.max, -np.inf: info.min}.get(value, value)
    return ctx.constant(node.output[0], np.full(shape, value, dtype=x.dtype))


def _make_reduce(onnx_op: str, tfl_op: str, axes_input_from: int,
                 dtypes: tuple[str, ...]) -> None:
    def lower(ctx: LoweringContext, node: onnx.NodeProto) -> None:
        x = ctx.input(node, 0)
        keep = bool(ctx.attr(node, "keepdims", 1))
        axes = reduce_axes(ctx, node, len(x.shape), axes_input_from)
        base = node.output[0]
        if axes is not None and any(x.shape[a] == 0 for a in axes):
            ctx.set_output(node, 0, _empty_reduction(ctx, node, onnx_op, x, axes, keep))
            return
        # The elementwise steps of composites apply even when the reduction is a no-op.
        if onnx_op == "ReduceL1":
            x = ctx.unary("ABS", x, base=f"{base}_abs")
        elif onnx_op in ("ReduceL2", "ReduceSumSquare"):
            x = binary(ctx, "MUL", x, x, _FUSED, base=f"{base}_sq")
        elif onnx_op == "ReduceLogSumExp":
            if axes is None:
                ctx.set_output(node, 0, reshape_to(ctx, node, x, x.shape))
                return
            peak = reduce(ctx, node, "REDUCE_MAX", x, axes, True, base=f"{base}_max")
            x = ctx.unary("EXP", binary(ctx, "SUB", x, peak, _FUSED, base=f"{base}_shift"),
                          base=f"{base}_exp")
        y = x if axes is None else reduce(ctx, node, tfl_op, x, axes, keep)
        if onnx_op == "ReduceL2":
            y = ctx.unary("SQRT", y)
        elif onnx_op in ("ReduceLogSum", "ReduceLogSumExp"):
            y = ctx.unary("LOG", y)
            if onnx_op == "ReduceLogSumExp":
                peak = peak if keep else reshape_to(ctx, node, peak, y.shape)
                y = binary(ctx, "ADD", y, peak, _FUSED)
        if y is ctx.values.get(node.input[0]):
            y = reshape_to(ctx, node, y, y.shape)
        ctx.set_output(node, 0, y)

    register(onnx_op, opsets=(1, 25), dtypes=dtypes, const_inputs=(1,),
             notes=f"{_NOTES.get(onnx_op, tfl_op)}; axes as attribute or constant input, "
                   "keepdims, noop_with_empty_axes")(lower)


for _op, (_tfl, _from, _dt) in _REDUCE.items():
    _make_reduce(_op, _tfl, _from, _dt)


def _arg(ctx: LoweringContext, node: onnx.NodeProto, op_type: str) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", 0), r)
    keep = bool(ctx.attr(node, "keepdims", 1))
    last = bool(ctx.attr(node, "select_last_index", 0))
    reduced = tuple(d for i, d in enumerate(x.shape) if i != axis)
    base = node.output[0]
    if last:
        # TFLite picks the first extreme; on the reversed axis that is ONNX's last one.
        x = emit(ctx, "REVERSE_V2", [x, i32(ctx, f"{base}_rev_axis", [axis])], x.shape, x.dtype,
                 base=f"{base}_rev")
    if last:
        # position from the end, counted in int32 (TFLite Micro and runtime_micro have no
        # int64 SUB), then widened to ONNX's int64
        y = emit(ctx, op_type, [x, i32(ctx, f"{base}_axis", [axis])], reduced, "int32",
                 {"output_type": "INT32"}, base=f"{base}_arg")
        y = binary(ctx, "SUB", ctx.constant(f"{base}_last", np.array(x.shape[axis] - 1, np.int32)),
                   y, _FUSED, base=f"{base}_argl")
        y = as_const_like(ctx, y, "int64")
    else:
        y = emit(ctx, op_type, [x, i32(ctx, f"{base}_axis", [axis])], reduced, "int64",
                 {"output_type": "INT64"}, base=f"{base}_arg")
    shape = tuple(1 if i == axis else d for i, d in enumerate(x.shape)) if keep else reduced
    ctx.set_output(node, 0, reshape_to(ctx, node, y, shape))


@register("ArgMax", opsets=(1, 25), dtypes=("float32", "int32"),
          notes="ARG_MAX (int64 output), keepdims by RESHAPE; select_last_index by REVERSE_V2")
def lower_argmax(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _arg(ctx, node, "ARG_MAX")


@register("ArgMin", opsets=(1, 25), dtypes=("float32", "int32"),
          notes="ARG_MIN (int64 output), keepdims by RESHAPE; select_last_index by REVERSE_V2")
def lower_argmin(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _arg(ctx, node, "ARG_MIN")


@register("TopK", opsets=(1, 25), dtypes=("float32", "int32", "int64"), const_inputs=(1,),
          notes="TOPK_V2 on the last axis (others moved there); largest=0 by negation; "
                "indices cast to int64")
def lower_topk(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", -1), r)
    k = int(ctx.attr(node, "k")) if ctx.opset < 10 else int(
        np.asarray(ctx.const(node, 1)).reshape(-1)[0])
    if not 0 < k <= x.shape[axis]:
        raise ctx.unsupported(node, f"k={k} is outside 1..{x.shape[axis]}")
    largest = bool(ctx.attr(node, "largest", 1))
    base = node.output[0]
    perm = [*range(axis), *range(axis + 1, r), axis]
    inv = tuple(int(i) for i in np.argsort(perm))
    xt = ctx.transpose(x, tuple(perm))
    if not largest:  # the k smallest are the k largest of -x, ties still lowest index first
        xt = ctx.unary("NEG", xt, base=f"{base}_neg")
    shape = (*xt.shape[:-1], k)
    values = ctx.tensor(f"{base}_values", shape, x.dtype)
    idx = ctx.tensor(f"{base}_indices", shape, "int32")
    ctx.add_op("TOPK_V2", [xt, i32(ctx, f"{base}_k", k)], [values, idx])
    if not largest:
        values = ctx.unary("NEG", values, base=f"{base}_values_pos")
    values = ctx.transpose(values, inv)
    idx = ctx.transpose(as_const_like(ctx, idx, "int64"), inv)
    ctx.set_output(node, 0, values)
    if len(node.output) > 1 and node.output[1]:
        ctx.set_output(node, 1, idx)


@register("Hardmax", opsets=(1, 25),
          notes="ONE_HOT of ARG_MAX (first maximum wins); opset < 13 flattens to 2-D at axis")
def lower_hardmax(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    base = node.output[0]
    if ctx.opset < 13:
        axis = norm_axis(ctx, node, ctx.attr(node, "axis", 1), r)
        rows = int(np.prod(x.shape[:axis], dtype=np.int64))
        xin = ctx.reshape(x, (rows, int(np.prod(x.shape[axis:], dtype=np.int64))))
        axis_in = 1
    else:
        axis_in = norm_axis(ctx, node, ctx.attr(node, "axis", -1), r)
        xin = x
    reduced = tuple(d for i, d in enumerate(xin.shape) if i != axis_in)
    am = emit(ctx, "ARG_MAX", [xin, i32(ctx, f"{base}_axis", [axis_in])], reduced, "int32",
              {"output_type": "INT32"}, base=f"{base}_argmax")
    y = emit(ctx, "ONE_HOT", [am, i32(ctx, f"{base}_depth", xin.shape[axis_in]),
                              f32(ctx, f"{base}_on", 1.0), f32(ctx, f"{base}_off", 0.0)],
             xin.shape, "float32", {"axis": axis_in}, base=f"{base}_onehot")
    ctx.set_output(node, 0, reshape_to(ctx, node, y, x.shape))
