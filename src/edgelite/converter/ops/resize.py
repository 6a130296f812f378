"""Resize and Upsample -> RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR (NHWC inside).

ONNX describes resizing by a coordinate transformation (and, for nearest, a rounding rule);
TFLite by two flags. Rather than a table of which pairs agree, we compute, for the actual sizes,
the source coordinates both sides would use and pick the TFLite flags that reproduce ONNX's
exactly; if none does, the variant is unsupported.
"""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.converter.ops._util import emit, i32
from edgelite.converter.ops.registry import LoweringContext, register

_FLAGS = ((False, False), (False, True), (True, False))  # (align_corners, half_pixel_centers)
_SUPPORTED_CTM = ("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                  "tf_half_pixel_for_nn")


def _onnx_coords(ctm: str, out: int, n: int, scale: float) -> np.ndarray:
    """ONNX source coordinate of each output index along one axis (before clamping)."""
    y = np.arange(out, dtype=np.float64)
    out_f = scale * n
    if ctm == "align_corners":
        return np.zeros(out) if out_f == 1 else y * (n - 1) / (out_f - 1)
    if ctm == "asymmetric":
        return y / scale
    if ctm == "pytorch_half_pixel":
        return np.full(out, -0.5) if out_f == 1 else (y + 0.5) / scale - 0.5
    if ctm == "half_pixel":
        return (y + 0.5) / scale - 0.5
    if ctm == "tf_half_pixel_for_nn":
        return (y + 0.5) / scale
    raise ValueError(ctm)


def _onnx_nearest(x: np.ndarray, rule: str, n: int) -> np.ndarray:
    fl = np.floor(x)
    frac = x - fl
    if rule == "round_prefer_floor":
        idx = fl + (frac > 0.5)
    elif rule == "round_prefer_ceil":
        idx = fl + (frac >= 0.5)
    elif rule == "floor":
        idx = fl
    elif rule == "ceil":
        idx = np.ceil(x)
    else:
        raise ValueError(rule)
    return np.clip(idx, 0, n - 1).astype(np.int64)


def _tflite_scale(n: int, out: int, align: bool) -> np.float32:
    if align and out > 1:
        return np.float32(n - 1) / np.float32(out - 1)
    return np.float32(n) / np.float32(out)


def _tflite_nearest(n: int, out: int, align: bool, half: bool) -> np.ndarray:
    """TFLite's nearest-neighbour source index (float32 arithmetic, as its kernel does)."""
    scale = _tflite_scale(n, out, align)
    v = (np.arange(out, dtype=np.float32) + np.float32(0.5 if half else 0.0)) * scale
    idx = np.sign(v) * np.floor(np.abs(v) + 0.5) if align else np.floor(v)
    idx = np.minimum(idx, n - 1)
    if half:
        idx = np.maximum(idx, 0)
    return idx.astype(np.int64)


def _tflite_linear(n: int, out: int, align: bool, half: bool) -> np.ndarray:
    scale = _tflite_scale(n, out, align)
    y = np.arange(out, dtype=np.float32)
    v = (y + np.float32(0.5)) * scale - np.float32(0.5) if half else y * scale
    return np.clip(v.astype(np.float64), 0, n - 1)


def _pick_flags(ctx: LoweringContext, node: onnx.NodeProto, mode: str, ctm: str, rule: str,
                sizes: list[tuple[int, int, float]]) -> tuple[bool, bool]:
    for align, half in _FLAGS:
        ok = True
        for n, out, scale in sizes:
            x = _onnx_coords(ctm, out, n, scale)
            if mode == "nearest":
                ok = np.array_equal(_onnx_nearest(x, rule, n), _tflite_nearest(n, out, align, half))
            else:
                ok = np.allclose(np.clip(x, 0, n - 1), _tflite_linear(n, out, align, half),
                                 rtol=0, atol=1e-5 * max(n, 1))
            if not ok:
                break
        if ok:
            return align, half
    detail = f"nearest_mode={rule!r}, " if mode == "nearest" else ""
    raise ctx.unsupported(
        node, f"mode={mode!r} with coordinate_transformation_mode={ctm!r}, {detail}sizes "
              f"{[(n, o) for n, o, _ in sizes]} has no TFLite equivalent")


def _resize(ctx: LoweringContext, node: onnx.NodeProto, mode: str, ctm: str, rule: str,
            scales: list[float] | None, out_sizes: list[int] | None) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) != 4:
        raise ctx.unsupported(node, f"only 4-D (NCHW) inputs are supported, got rank "
                                    f"{len(x.shape)}")
    if mode not in ("nearest", "linear", "bilinear"):
        raise ctx.unsupported(node, f"mode {mode!r} is not supported (nearest and linear are)")
    mode = "linear" if mode == "bilinear" else mode
    if ctm not in _SUPPORTED_CTM:
        raise ctx.unsupported(node, f"coordinate_transformation_mode {ctm!r} is not supported")
    if out_sizes is not None:
        scales = [o / n for o, n in zip(out_sizes, x.shape)]
    else:
        assert scales is not None
        out_sizes = [int(np.floor(n * s)) for n, s in zip(x.shape, scales)]
    if out_sizes[:2] != list(x.shape[:2]):
        raise ctx.unsupported(node, "only the spatial (H, W) dimensions may be resized")
    if any(o <= 0 for o in out_sizes):
        raise ctx.unsupported(node, f"output size {out_sizes} is empty")
    spatial = [(x.shape[i], out_sizes[i], float(scales[i])) for i in (2, 3)]
    align, half = _pick_flags(ctx, node, mode, ctm, rule, spatial)
    n, c = x.shape[:2]
    oh, ow = out_sizes[2:]
    base = node.output[0]
    op = "RESIZE_NEAREST_NEIGHBOR" if mode == "nearest" else "RESIZE_BILINEAR"
    y = emit(ctx, op, [ctx.to_nhwc(x), i32(ctx, f"{base}_size", [oh, ow])], (n, oh, ow, c),
             x.dtype, {"align_corners": align, "half_pixel_centers": half},
             base=f"{base}_nhwc")
    ctx.set_output(node, 0, ctx.to_nchw(y))


def _full_rank(ctx: LoweringContext, node: onnx.NodeProto, values: list[float], rank: int,
               fill: float) -> list[float]:
    axes = ctx.attr(node, "axes")
    if axes is None:
        if len(values) != rank:
            raise ctx.unsupported(node, f"{len(values)} scales/sizes for rank {rank}")
        return values
    full = [fill] * rank
    for a, v in zip(axes, values):
        full[a + rank if a < 0 else a] = v
    return full


@register("Resize", opsets=(10, 25), const_inputs=(1, 2, 3),
          notes="4-D, spatial axes only; nearest and linear whose coordinates TFLite's "
                "align_corners/half_pixel_centers reproduce; cubic, antialias, "
                "tf_crop_and_resize, half_pixel_symmetric unsupported")
def lower_resize(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    mode = ctx.attr(node, "mode", "nearest")
    if ctx.attr(node, "antialias", 0):
        raise ctx.unsupported(node, "antialias=1 is not supported")
    if ctx.opset < 11:
        scales = [float(s) for s in np.asarray(ctx.const(node, 1)).reshape(-1)]
        _resize(ctx, node, mode, "asymmetric", "floor", scales, None)
        return
    ctm = ctx.attr(node, "coordinate_transformation_mode", "half_pixel")
    rule = ctx.attr(node, "nearest_mode", "round_prefer_floor")
    policy = ctx.attr(node, "keep_aspect_ratio_policy", "stretch")
    scales = sizes = None
    if ctx.has_input(node, 3):
        sizes = [int(v) for v in np.asarray(ctx.const(node, 3)).reshape(-1)]
    if sizes is None and ctx.has_input(node, 2):
        raw = np.asarray(ctx.const(node, 2)).reshape(-1)
        if raw.size:
            scales = _full_rank(ctx, node, [float(s) for s in raw], r, 1.0)
    if sizes is not None:
        sizes_full = _full_rank(ctx, node, sizes, r, -1)
        sizes_full = [x.shape[i] if s == -1 else int(s) for i, s in enumerate(sizes_full)]
        if policy != "stretch":
            axes = [i for i in range(r) if sizes_full[i] != x.shape[i] or
                    ctx.attr(node, "axes") is None or i in ctx.attr(node, "axes")]
            ratios = [sizes_full[i] / x.shape[i] for i in axes]
            s = min(ratios) if policy == "not_larger" else max(ratios)
            scales = [s if i in axes else 1.0 for i in range(r)]
            sizes_full = [int(np.floor(s * x.shape[i] + 0.5)) if i in axes else x.shape[i]
                          for i in range(r)]
            _resize_scaled(ctx, node, mode, ctm, rule, scales, sizes_full)
            return
        _resize(ctx, node, mode, ctm, rule, None, sizes_full)
        return
    if scales is None:
        raise ctx.unsupported(node, "neither scales nor sizes is given")
    _resize(ctx, node, mode, ctm, rule, scales, None)


def _resize_scaled(ctx: LoweringContext, node: onnx.NodeProto, mode: str, ctm: str, rule: str,
                   scales: list[float], sizes: list[int]) -> None:
    """keep_aspect_ratio_policy: ONNX keeps one scale for all axes and rounds the sizes."""
    x = ctx.input(node, 0)
    if [int(np.floor(n * s)) for n, s in zip(x.shape, scales)] == sizes:
        _resize(ctx, node, mode, ctm, rule, scales, None)
        return
    raise ctx.unsupported(node, "keep_aspect_ratio_policy sizes that differ from "
                                "floor(scale * size) are not supported")


@register("Upsample", opsets=(7, 9), const_inputs=(1,),
          notes="as Resize with asymmetric coordinates (nearest: floor)")
def lower_upsample(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    mode = ctx.attr(node, "mode", "nearest")
    if ctx.opset < 9:
        scales = [float(s) for s in ctx.attr(node, "scales")]
    else:
        scales = [float(s) for s in np.asarray(ctx.const(node, 1)).reshape(-1)]
    _resize(ctx, node, mode, "asymmetric", "floor", scales, None)
