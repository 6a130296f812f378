"""Pools: MaxPool, AveragePool -> MAX_POOL_2D / AVERAGE_POOL_2D; global pools -> reductions."""

from __future__ import annotations

import itertools

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import FLOAT_MAX, binary, emit, i32, spatial_reshape_1d
from edgelite.converter.ops._window import Window, lift_attrs_1d, pad_nhwc, padded_input, window
from edgelite.converter.ops.registry import LoweringContext, register


def _window_counts(win: Window, spatial: list[int], include_pad: bool) -> np.ndarray:
    """What ONNX divides each average by: the window taps inside the input
    (count_include_pad=0) or inside input plus declared pads (=1; ceil_mode taps past the
    pads never count), as an array over the output positions."""
    count = np.ones((), np.int64)
    for n, k, s, d, pb, pe, out in zip(spatial, win.kernel, win.strides, win.dilations,
                                       win.pads_begin, win.pads_end, win.out):
        lo, hi = (-pb, n + pe) if include_pad else (0, n)
        taps = (np.arange(out) * s - pb)[:, None] + np.arange(k)[None, :] * d
        count = np.multiply.outer(count, ((taps >= lo) & (taps < hi)).sum(axis=1))
    return count


def _average_rescale(win: Window, spatial: list[int], include_pad: bool) -> np.ndarray | None:
    """Per-output factor (cells per window) / (ONNX's count), None when it is 1 everywhere."""
    count = _window_counts(win, spatial, include_pad)
    full = int(np.prod(win.kernel))
    if np.all(count == full):
        return None
    scale = (full / np.maximum(count, 1)).astype(np.float32)
    return scale.reshape(1, *scale.shape, 1)


def _pool(ctx: LoweringContext, node: onnx.NodeProto, kind: str, x: ir.Tensor) -> ir.Tensor:
    """Pool ``x`` (NCHW) with ``node``'s window; kind: "max", "avg" (ONNX's divisor) or "sum"
    (for LpPool)."""
    if len(node.output) > 1 and node.output[1]:
        raise ctx.unsupported(node, "the Indices output is not supported")
    lifted = len(x.shape) == 3
    if lifted:
        x = spatial_reshape_1d(ctx, x)
    elif len(x.shape) not in (4, 5):
        raise ctx.unsupported(node, f"only 1-D, 2-D and 3-D pools are supported (input rank "
                                    f"{len(x.shape)})")
    anode = lift_attrs_1d(node) if lifted else node
    kernel = list(ctx.attr(anode, "kernel_shape"))
    ceil_mode = bool(ctx.attr(node, "ceil_mode", 0))
    win = window(ctx, anode, list(x.shape[2:]), kernel, ceil_mode=ceil_mode)
    if any(d != 1 for d in win.dilations):
        y = _pool_taps(ctx, node, kind, x, win)
    elif len(x.shape) == 5:
        y = _pool_3d(ctx, node, kind, x, win)
    else:
        y = _pool_2d(ctx, node, kind, x, win)
    if lifted:
        y = ctx.reshape(y, (*y.shape[:2], y.shape[3]))
    return y


def _rescale(ctx: LoweringContext, node: onnx.NodeProto, kind: str, win: Window,
             spatial: list[int]) -> np.ndarray | None:
    """What multiplies a VALID average over zero-padded windows to give ``kind``'s result."""
    if kind == "sum":
        return np.array(np.prod(win.kernel), np.float32)
    return _average_rescale(win, spatial, bool(ctx.attr(node, "count_include_pad", 0)))


def _pool_2d(ctx: LoweringContext, node: onnx.NodeProto, kind: str, x: ir.Tensor,
             win: Window) -> ir.Tensor:
    op_type = "MAX_POOL_2D" if kind == "max" else "AVERAGE_POOL_2D"
    n, c, h, w = x.shape
    kernel = win.kernel
    spatial = [h, w]
    xin = ctx.to_nhwc(x)
    rescale = None
    if kind == "max":
        # Padding never wins a max: pad with the lowest float when SAME/VALID cannot express it.
        xin, padding = padded_input(ctx, xin, win, spatial, value=-FLOAT_MAX)
    else:
        include = kind == "sum" or bool(ctx.attr(node, "count_include_pad", 0))
        padding = win.tflite_padding(spatial)
        # TFLite's SAME average divides by the in-input count: count_include_pad=0 only.
        if padding == "SAME" and include and (any(win.pads_begin) or
                                              any(win.end_needed(spatial))):
            padding = None
        if padding is None:
            # Average zero-padded windows, then rescale each output by k*k / ONNX's count.
            xin = pad_nhwc(ctx, xin, win.pads_begin, win.end_needed(spatial))
            padding = "VALID"
        if padding == "VALID":
            rescale = _rescale(ctx, node, kind, win, spatial)
    base = node.output[0]
    y = emit(ctx, op_type, [xin], (n, *win.out, c),
             options={"padding": padding, "stride_h": win.strides[0],
                      "stride_w": win.strides[1], "filter_height": kernel[0],
                      "filter_width": kernel[1], "fused_activation_function": "NONE"},
             base=f"{base}_nhwc")
    if rescale is not None:
        y = binary(ctx, "MUL", y, ctx.constant(f"{base}_count_scale", rescale),
                   {"fused_activation_function": "NONE"}, base=f"{base}_avg")
    return ctx.to_nchw(y)


def _pool_3d(ctx: LoweringContext, node: onnx.NodeProto, kind: str, x: ir.Tensor,
             win: Window) -> ir.Tensor:
    """3-D pools are separable: pool (H, W) with depth folded into the batch, then pool depth
    with (H, W) flattened, both VALID on an explicitly padded NDHWC input."""
    n, c, d, h, w = x.shape
    spatial = [d, h, w]
    op_type = "MAX_POOL_2D" if kind == "max" else "AVERAGE_POOL_2D"
    fill = -FLOAT_MAX if kind == "max" else 0.0
    base = node.output[0]
    xp = pad_nhwc(ctx, ctx.to_nhwc(x), win.pads_begin, win.end_needed(spatial), fill)
    _, dp, hp, wp, _ = xp.shape
    (kd, kh, kw), (sd, sh, sw) = win.kernel, win.strides
    od, oh, ow = win.out

    def pool2d(t: ir.Tensor, k: tuple[int, int], st: tuple[int, int], out: tuple[int, ...],
               tag: str) -> ir.Tensor:
        return emit(ctx, op_type, [t], out, options={
            "padding": "VALID", "stride_h": st[0], "stride_w": st[1], "filter_height": k[0],
            "filter_width": k[1], "fused_activation_function": "NONE"}, base=f"{base}_{tag}")

    y = pool2d(ctx.reshape(xp, (n * dp, hp, wp, c)), (kh, kw), (sh, sw), (n * dp, oh, ow, c),
               "hw")
    y = pool2d(ctx.reshape(y, (n, dp, oh * ow, c)), (kd, 1), (sd, 1), (n, od, oh * ow, c), "d")
    y = ctx.reshape(y, (n, od, oh, ow, c))
    if kind != "max":
        rescale = _rescale(ctx, node, kind, win, spatial)
        if rescale is not None:
            y = binary(ctx, "MUL", y, ctx.constant(f"{base}_count_scale", rescale),
                       {"fused_activation_function": "NONE"}, base=f"{base}_avg")
    return ctx.to_nchw(y)


def _pool_taps(ctx: LoweringContext, node: onnx.NodeProto, kind: str, x: ir.Tensor,
               win: Window) -> ir.Tensor:
    """Dilated pools (no TFLite op has dilation): one STRIDED_SLICE per kernel tap of the
    explicitly padded channels-last input, combined by MAXIMUM, or ADD then MUL by 1/count."""
    spatial = list(x.shape[2:])
    is_max = kind == "max"
    base = node.output[0]
    xp = pad_nhwc(ctx, ctx.to_nhwc(x), win.pads_begin, win.end_needed(spatial),
                  -FLOAT_MAX if is_max else 0.0)
    n, c = x.shape[:2]
    out_shape = (n, *win.out, c)
    acc = None
    for tap in itertools.product(*[range(k) for k in win.kernel]):
        start = [t * d for t, d in zip(tap, win.dilations)]
        stop = [b + (o - 1) * s + 1 for b, o, s in zip(start, win.out, win.strides)]
        name = f"{base}_tap" + "_".join(map(str, tap))
        part = emit(ctx, "STRIDED_SLICE", [
            xp, i32(ctx, f"{name}_begin", [0, *start, 0]),
            i32(ctx, f"{name}_end", [n, *stop, c]), i32(ctx, f"{name}_strides",
                                                         [1, *win.strides, 1])],
            out_shape, options={"begin_mask": 0, "end_mask": 0, "ellipsis_mask": 0,
                                "new_axis_mask": 0, "shrink_axis_mask": 0}, base=name)
        acc = part if acc is None else binary(
            ctx, "MAXIMUM" if is_max else "ADD", acc, part,
            None if is_max else {"fused_activation_function": "NONE"}, base=f"{base}_acc")
    if kind == "avg":
        count = _window_counts(win, spatial, bool(ctx.attr(node, "count_include_pad", 0)))
        inv = (1.0 / np.maximum(count, 1)).astype(np.float32).reshape(1, *count.shape, 1)
        acc = binary(ctx, "MUL", acc, ctx.constant(f"{base}_inv_count", inv),
                     {"fused_activation_function": "NONE"}, base=f"{base}_avg")
    return ctx.to_nchw(acc)


@register("MaxPool", opsets=(1, 25),
          notes="1-D, 2-D and 3-D (separable: two 2-D pools), no Indices output; ceil_mode "
                "and pads SAME cannot express become PADV2(-FLT_MAX) + VALID; dilation as "
                "MAXIMUM over one STRIDED_SLICE per kernel tap")
def lower_max_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    if int(ctx.attr(node, "storage_order", 0)) != 0 and len(node.output) > 1:
        raise ctx.unsupported(node, "storage_order 1 is not supported")
    ctx.set_output(node, 0, _pool(ctx, node, "max", ctx.input(node, 0)))


@register("AveragePool", opsets=(1, 25),
          notes="1-D, 2-D and 3-D (separable); pads SAME cannot express (either "
                "count_include_pad, ceil_mode) become PAD + VALID + MUL by a constant "
                "per-position count factor; dilation as ADD over one STRIDED_SLICE per tap")
def lower_average_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, _pool(ctx, node, "avg", ctx.input(node, 0)))


@register("LpPool", opsets=(2, 25),
          notes="(sum-pool of |x|^p)^(1/p): the average-pool lowerings over zero padding times "
                "the window size; p=1/2 use ABS/MUL/SQRT, others POW")
def lower_lp_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    p = float(ctx.attr(node, "p", 2))
    base = node.output[0]
    if p <= 0:
        raise ctx.unsupported(node, f"p={p} must be positive")
    a = ctx.unary("ABS", x, base=f"{base}_abs")
    if p == 2:
        a = binary(ctx, "MUL", a, a, {"fused_activation_function": "NONE"}, base=f"{base}_pw")
    elif p != 1:
        a = binary(ctx, "POW", a, ctx.constant(f"{base}_p", np.array(p, np.float32)),
                   base=f"{base}_pw")
    y = _pool(ctx, node, "sum", a)
    if p == 2:
        y = ctx.unary("SQRT", y)
    elif p != 1:
        y = binary(ctx, "POW", y, ctx.constant(f"{base}_inv_p", np.array(1 / p, np.float32)))
    ctx.set_output(node, 0, y)


def _global(ctx: LoweringContext, node: onnx.NodeProto, op_type: str) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) < 3:
        raise ctx.unsupported(node, f"input rank {len(x.shape)} has no spatial dimensions")
    axes = list(range(2, len(x.shape)))
    shape = (*x.shape[:2], *[1] * len(axes))
    y = emit(ctx, op_type, [x, i32(ctx, f"{node.output[0]}_axes", axes)], shape,
             options={"keep_dims": True})
    ctx.set_output(node, 0, y)


@register("GlobalAveragePool", opsets=(1, 25), notes="MEAN over the spatial axes, keep_dims")
def lower_global_average_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _global(ctx, node, "MEAN")


@register("GlobalMaxPool", opsets=(1, 25), notes="REDUCE_MAX over the spatial axes, keep_dims")
def lower_global_max_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _global(ctx, node, "REDUCE_MAX")
