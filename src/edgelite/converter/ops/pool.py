"""Pools: MaxPool, AveragePool -> MAX_POOL_2D / AVERAGE_POOL_2D; global pools -> reductions."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.converter.ops._util import FLOAT_MAX, binary, emit, i32, spatial_reshape_1d
from edgelite.converter.ops._window import Window, lift_attrs_1d, pad_nhwc, padded_input, window
from edgelite.converter.ops.registry import LoweringContext, register


def _average_rescale(win: Window, spatial: list[int], include_pad: bool) -> np.ndarray | None:
    """Per-output factor k*k / count, where count is what ONNX divides by.

    count: window cells inside the input (count_include_pad=0) or inside input plus its
    declared pads (=1; ceil_mode cells past the pads never count). None when all are k*k.
    """
    counts = []
    for n, k, s, pb, pe, out in zip(spatial, win.kernel, win.strides, win.pads_begin,
                                    win.pads_end, win.out):
        lo, hi = (-pb, n + pe) if include_pad else (0, n)
        starts = np.arange(out) * s - pb
        counts.append(np.clip(np.minimum(starts + k, hi) - np.maximum(starts, lo), 0, None))
    count = counts[0][:, None] * counts[1][None, :]
    full = win.kernel[0] * win.kernel[1]
    if np.all(count == full):
        return None
    scale = (full / np.maximum(count, 1)).astype(np.float32)
    return scale.reshape(1, *scale.shape, 1)


def _pool(ctx: LoweringContext, node: onnx.NodeProto, op_type: str) -> None:
    if len(node.output) > 1 and node.output[1]:
        raise ctx.unsupported(node, "the Indices output is not supported")
    x = ctx.input(node, 0)
    lifted = len(x.shape) == 3
    if lifted:
        x = spatial_reshape_1d(ctx, x)
    elif len(x.shape) != 4:
        raise ctx.unsupported(node, f"only 1-D and 2-D pools are supported (input rank "
                                    f"{len(x.shape)})")
    anode = lift_attrs_1d(node) if lifted else node
    kernel = list(ctx.attr(anode, "kernel_shape"))
    ceil_mode = bool(ctx.attr(node, "ceil_mode", 0))
    n, c, h, w = x.shape
    win = window(ctx, anode, [h, w], kernel, ceil_mode=ceil_mode)
    if win.dilations != [1, 1]:
        raise ctx.unsupported(node, f"dilations {win.dilations} are not supported (TFLite pools "
                                    "have no dilation)")
    spatial = [h, w]
    xin = ctx.to_nhwc(x)
    rescale = None
    if op_type == "MAX_POOL_2D":
        # Padding never wins a max: pad with the lowest float when SAME/VALID cannot express it.
        xin, padding = padded_input(ctx, xin, win, spatial, value=-FLOAT_MAX)
    else:
        include = bool(ctx.attr(node, "count_include_pad", 0))
        padding = win.tflite_padding(spatial)
        # TFLite's SAME average divides by the in-input count: count_include_pad=0 only.
        if padding == "SAME" and include and (any(win.pads_begin) or
                                              any(win.end_needed(spatial))):
            padding = None
        if padding is None:
            # Average zero-padded windows, then rescale each output by k*k / ONNX's count.
            xin = pad_nhwc(ctx, xin, win.pads_begin, win.end_needed(spatial))
            padding = "VALID"
            rescale = _average_rescale(win, spatial, include)
    base = node.output[0]
    y = emit(ctx, op_type, [xin], (n, *win.out, c),
             options={"padding": padding, "stride_h": win.strides[0],
                      "stride_w": win.strides[1], "filter_height": kernel[0],
                      "filter_width": kernel[1], "fused_activation_function": "NONE"},
             base=f"{base}_nhwc")
    if rescale is not None:
        y = binary(ctx, "MUL", y, ctx.constant(f"{base}_count_scale", rescale),
                   {"fused_activation_function": "NONE"}, base=f"{base}_avg")
    y = ctx.to_nchw(y)
    if lifted:
        y = ctx.reshape(y, (n, c, win.out[1]))
    ctx.set_output(node, 0, y)


@register("MaxPool", opsets=(1, 25),
          notes="1-D and 2-D, no dilation, no Indices output; ceil_mode and pads SAME cannot "
                "express become PADV2(-FLT_MAX) + VALID")
def lower_max_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    if int(ctx.attr(node, "storage_order", 0)) != 0 and len(node.output) > 1:
        raise ctx.unsupported(node, "storage_order 1 is not supported")
    _pool(ctx, node, "MAX_POOL_2D")


@register("AveragePool", opsets=(1, 25),
          notes="1-D and 2-D, no dilation; pads SAME cannot express (either count_include_pad, "
                "ceil_mode) become PAD + VALID + MUL by a constant per-position count factor")
def lower_average_pool(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _pool(ctx, node, "AVERAGE_POOL_2D")


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
