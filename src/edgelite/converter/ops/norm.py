"""Normalizations: BatchNormalization (-> MUL + ADD), LayerNormalization, InstanceNormalization."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import binary, emit, f32, i32, norm_axis
from edgelite.converter.ops.registry import LoweringContext, register

_FUSED = {"fused_activation_function": "NONE"}


@register("BatchNormalization", opsets=(1, 25), const_inputs=(1, 2, 3, 4),
          notes="inference only: MUL + ADD by per-channel constants shaped (C, 1, ...) for a "
                "pass to fold into the preceding conv")
def lower_batch_norm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    if ctx.attr(node, "training_mode", 0) or (len(node.output) > 1 and any(node.output[1:])):
        raise ctx.unsupported(node, "training mode (running statistics outputs) is not "
                                    "supported")
    if ctx.attr(node, "spatial", 1) == 0:
        raise ctx.unsupported(node, "spatial=0 (per-element statistics) is not supported")
    scale, bias, mean, var = (np.asarray(ctx.const(node, i), dtype=np.float64)
                              for i in range(1, 5))
    eps = float(ctx.attr(node, "epsilon", 1e-5))
    if len(x.shape) < 2:
        raise ctx.unsupported(node, "input must have a channel dimension")
    c = x.shape[1]
    for what, v in zip(("scale", "bias", "mean", "var"), (scale, bias, mean, var)):
        if v.size != c:
            raise ctx.unsupported(node, f"{what} has {v.size} values for {c} channels")
    mul = (scale / np.sqrt(var + eps)).astype(np.float32)
    add = (bias - mean * mul).astype(np.float32)
    bshape = (c, *[1] * (len(x.shape) - 2))
    base = node.output[0]
    y = binary(ctx, "MUL", x, f32(ctx, f"{base}_scale", mul.reshape(bshape)), _FUSED,
               base=f"{base}_mul")
    y = binary(ctx, "ADD", y, f32(ctx, f"{base}_shift", add.reshape(bshape)), _FUSED)
    ctx.set_output(node, 0, y)


def normalize(ctx: LoweringContext, x: ir.Tensor, axes: list[int], eps: float,
              base: str) -> tuple[ir.Tensor, ir.Tensor, ir.Tensor]:
    """(x - mean) * rsqrt(var + eps) over ``axes``; returns (normalized, mean, inv_std)."""
    kept = tuple(1 if i in axes else d for i, d in enumerate(x.shape))
    ax = i32(ctx, f"{base}_axes", axes)
    mean = emit(ctx, "MEAN", [x, ax], kept, options={"keep_dims": True}, base=f"{base}_mean")
    centered = binary(ctx, "SUB", x, mean, _FUSED, base=f"{base}_centered")
    sq = binary(ctx, "MUL", centered, centered, _FUSED, base=f"{base}_sq")
    var = emit(ctx, "MEAN", [sq, ax], kept, options={"keep_dims": True}, base=f"{base}_var")
    var_eps = binary(ctx, "ADD", var, f32(ctx, f"{base}_eps", eps), _FUSED, base=f"{base}_vareps")
    inv = ctx.unary("RSQRT", var_eps, base=f"{base}_invstd")
    return binary(ctx, "MUL", centered, inv, _FUSED, base=f"{base}_norm"), mean, inv


@register("LayerNormalization", opsets=(17, 25), const_inputs=(1, 2),
          notes="MEAN/SUB/MUL/MEAN/ADD/RSQRT/MUL, then scale and bias; Mean and InvStdDev "
                "outputs supported")
def lower_layer_norm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", -1), r)
    if ctx.attr(node, "stash_type", 1) != 1:
        raise ctx.unsupported(node, "stash_type other than float32 is not supported")
    eps = float(ctx.attr(node, "epsilon", 1e-5))
    base = node.output[0]
    y, mean, inv = normalize(ctx, x, list(range(axis, r)), eps, base)
    scale = ctx.input(node, 1)
    y = binary(ctx, "MUL", y, scale, _FUSED, base=f"{base}_scaled")
    if ctx.has_input(node, 2):
        y = binary(ctx, "ADD", y, ctx.input(node, 2), _FUSED)
    ctx.set_output(node, 0, y)
    if len(node.output) > 1 and node.output[1]:
        ctx.set_output(node, 1, mean)
    if len(node.output) > 2 and node.output[2]:
        ctx.set_output(node, 2, inv)


@register("InstanceNormalization", opsets=(6, 25), const_inputs=(1, 2),
          notes="per (N, C) over the spatial axes, then per-channel scale and bias")
def lower_instance_norm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    if r < 3:
        raise ctx.unsupported(node, "input must have spatial dimensions")
    eps = float(ctx.attr(node, "epsilon", 1e-5))
    base = node.output[0]
    y, _, _ = normalize(ctx, x, list(range(2, r)), eps, base)
    c = x.shape[1]
    bshape = (c, *[1] * (r - 2))
    scale, bias = (np.asarray(ctx.const(node, i), np.float32) for i in (1, 2))
    for what, v in (("scale", scale), ("bias", bias)):
        if v.size != c:
            raise ctx.unsupported(node, f"{what} has {v.size} values for {c} channels")
    scale, bias = scale.reshape(bshape), bias.reshape(bshape)
    y = binary(ctx, "MUL", y, f32(ctx, f"{base}_scale", scale), _FUSED, base=f"{base}_scaled")
    y = binary(ctx, "ADD", y, f32(ctx, f"{base}_bias", bias), _FUSED)
    ctx.set_output(node, 0, y)


@register("LpNormalization", opsets=(1, 25),
          notes="x / SUM(|x|) (p=1) or x / SQRT(SUM(x*x)) (p=2); zero slices stay zero")
def lower_lp_norm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", -1), r)
    p = int(ctx.attr(node, "p", 2))
    base = node.output[0]
    if p == 1:
        t = ctx.unary("ABS", x, base=f"{base}_abs")
    elif p == 2:
        t = binary(ctx, "MUL", x, x, _FUSED, base=f"{base}_sq")
    else:
        raise ctx.unsupported(node, f"p={p} is not valid (1 or 2)")
    kept = tuple(1 if i == axis else d for i, d in enumerate(x.shape))
    norm = emit(ctx, "SUM", [t, i32(ctx, f"{base}_axes", [axis])], kept,
                options={"keep_dims": True}, base=f"{base}_sum")
    if p == 2:
        norm = ctx.unary("SQRT", norm, base=f"{base}_norm")
    # A zero norm means an all-zero slice, which ONNX maps to zeros: divide by a tiny floor.
    tiny = f32(ctx, f"{base}_tiny", np.finfo(np.float32).tiny)
    norm = binary(ctx, "MAXIMUM", norm, tiny, base=f"{base}_safe")
    ctx.set_output(node, 0, binary(ctx, "DIV", x, norm, _FUSED))


@register("LRN", opsets=(1, 25),
          notes="odd size -> LOCAL_RESPONSE_NORMALIZATION (NHWC), radius (size-1)/2, "
                "alpha/size")
def lower_lrn(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) != 4:
        raise ctx.unsupported(node, "only 4-D inputs are supported")
    size = int(ctx.attr(node, "size"))
    if size % 2 == 0:
        raise ctx.unsupported(node, f"even size {size} has an asymmetric window TFLite lacks")
    y = emit(ctx, "LOCAL_RESPONSE_NORMALIZATION", [ctx.to_nhwc(x)],
             (x.shape[0], *x.shape[2:], x.shape[1]), options={
                 "radius": (size - 1) // 2, "bias": float(ctx.attr(node, "bias", 1.0)),
                 "alpha": float(ctx.attr(node, "alpha", 1e-4)) / size,
                 "beta": float(ctx.attr(node, "beta", 0.75))},
             base=f"{node.output[0]}_nhwc")
    ctx.set_output(node, 0, ctx.to_nchw(y))
