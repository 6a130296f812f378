"""Resize and Upsample -> RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR (NHWC inside), or an
exact per-axis linear map when no TFLite resize reproduces ONNX.

ONNX describes resizing by a coordinate transformation (and, for nearest, a rounding rule);
TFLite by two flags. Rather than a table of which pairs agree, we compute, for the actual sizes,
the source coordinates both sides would use and pick the TFLite flags that reproduce ONNX's
exactly. When none does (and for cubic, antialias, half_pixel_symmetric, keep_aspect_ratio
rounding), resizing is still linear and separable: we evaluate ONNX's own reference Resize on
indicator inputs to get each axis's (out x in) matrix, then emit GATHER (nearest: one-hot rows)
or a matrix product per axis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgelite import ir
from edgelite.converter.ops._util import emit, i32, reshape_to
from edgelite.converter.ops.registry import LoweringContext, register

# Largest indicator input (elements) we evaluate with the ONNX reference for one axis.
MAX_REFERENCE_ELEMENTS = 1 << 24

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


def _pick_flags(mode: str, ctm: str, rule: str,
                sizes: list[tuple[int, int, float]]) -> tuple[bool, bool] | None:
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
    return None


@dataclass
class _Spec:
    """One resize, all of it known at conversion time (full-rank scales/sizes)."""

    mode: str  # nearest | linear | cubic
    ctm: str
    rule: str  # nearest_mode
    attrs: dict  # cubic_coeff_a, exclude_outside, antialias (as given)
    scales: list[float] | None  # what the node gave: scales...
    sizes: list[int] | None  # ...or sizes
    policy: str
    axes: list[int] | None  # the node's axes attribute (keep_aspect_ratio_policy uses it)
    out: list[int]  # resulting output shape
    coord_scales: list[float]  # the scale ONNX's coordinate transformation divides by


def _spec(ctx: LoweringContext, node: onnx.NodeProto, x: ir.Tensor, mode: str, ctm: str,
          rule: str, scales: list[float] | None, sizes: list[int] | None,
          policy: str = "stretch", axes: list[int] | None = None) -> _Spec:
    mode = {"bilinear": "linear"}.get(mode, mode)
    if mode not in ("nearest", "linear", "cubic"):
        raise ctx.unsupported(node, f"mode {mode!r} is not valid")
    shape = list(x.shape)
    if sizes is not None:
        ratios = [o / n for o, n in zip(sizes, shape)]
        if policy == "stretch":
            out, coord = list(sizes), ratios
        else:
            chosen = axes if axes is not None else list(range(len(shape)))
            pick = min if policy == "not_larger" else max
            k = pick(ratios[i] for i in chosen)
            out = [int(np.floor(k * n + 0.5)) if i in chosen else n for i, n in enumerate(shape)]
            coord = [k if i in chosen else 1.0 for i in range(len(shape))]
    else:
        assert scales is not None
        out = [int(np.floor(n * s)) for n, s in zip(shape, scales)]
        coord = list(scales)
    attrs = {k: ctx.attr(node, k) for k in ("cubic_coeff_a", "exclude_outside", "antialias")
             if ctx.attr(node, k) is not None}
    return _Spec(mode, ctm, rule, attrs, scales, sizes, policy, axes, out, coord)


def _resize(ctx: LoweringContext, node: onnx.NodeProto, spec: _Spec) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) != 4:
        raise ctx.unsupported(node, f"only 4-D (NCHW) inputs are supported, got rank "
                                    f"{len(x.shape)}")
    if spec.out[:2] != list(x.shape[:2]):
        raise ctx.unsupported(node, "only the spatial (H, W) dimensions may be resized")
    if any(o <= 0 for o in spec.out):
        raise ctx.unsupported(node, f"output size {spec.out} is empty")
    if spec.ctm == "tf_crop_and_resize":
        raise ctx.unsupported(node, "coordinate_transformation_mode 'tf_crop_and_resize' is "
                                    "not supported")
    flags = None
    if (spec.mode in ("nearest", "linear") and spec.ctm in _SUPPORTED_CTM
            and not spec.attrs.get("antialias")):
        spatial = [(x.shape[i], spec.out[i], float(spec.coord_scales[i])) for i in (2, 3)]
        flags = _pick_flags(spec.mode, spec.ctm, spec.rule, spatial)
    if flags is None:
        _resize_general(ctx, node, x, spec)
        return
    align, half = flags
    n, c = x.shape[:2]
    oh, ow = spec.out[2:]
    base = node.output[0]
    op = "RESIZE_NEAREST_NEIGHBOR" if spec.mode == "nearest" else "RESIZE_BILINEAR"
    y = emit(ctx, op, [ctx.to_nhwc(x), i32(ctx, f"{base}_size", [oh, ow])], (n, oh, ow, c),
             x.dtype, {"align_corners": align, "half_pixel_centers": half},
             base=f"{base}_nhwc")
    ctx.set_output(node, 0, ctx.to_nchw(y))


def _axis_matrix(ctx: LoweringContext, node: onnx.NodeProto, x: ir.Tensor, spec: _Spec,
                 axis: int) -> np.ndarray:
    """ONNX's resize along ``axis`` as an (out, in) matrix, from the ONNX reference Resize.

    Batch j of the input is the indicator of index j along ``axis`` (constant along the other
    spatial axis, whose interpolation weights sum to one), so output batch j is column j.
    """
    from onnx.reference import ReferenceEvaluator

    _, _, h, w = x.shape
    count = x.shape[axis]
    if count * h * w > MAX_REFERENCE_ELEMENTS:
        raise ctx.unsupported(node, f"input {h}x{w} is too large for the exact resize matrix "
                                    "(no TFLite resize op reproduces this variant)")
    probe = np.zeros((count, 1, h, w), np.float32)
    for j in range(count):
        if axis == 2:
            probe[j, 0, j, :] = 1.0
        else:
            probe[j, 0, :, j] = 1.0
    inits = []
    attrs = dict(spec.attrs, mode=spec.mode, coordinate_transformation_mode=spec.ctm,
                 nearest_mode=spec.rule)
    if spec.sizes is not None:
        # Batch and channel keep ratio 1, as in the node: keep_aspect_ratio_policy sees the same.
        sizes = [count, 1, *spec.sizes[2:]]
        attrs["keep_aspect_ratio_policy"] = spec.policy
        if spec.axes is not None:
            attrs["axes"] = spec.axes
            sizes = [sizes[a] for a in spec.axes]
        inits.append(numpy_helper.from_array(np.array(sizes, np.int64), "sizes"))
        ins = ["X", "", "", "sizes"]
    else:
        scales = [1.0, 1.0, *spec.scales[2:]]
        inits.append(numpy_helper.from_array(np.array(scales, np.float32), "scales"))
        ins = ["X", "", "scales"]
    graph = helper.make_graph(
        [helper.make_node("Resize", ins, ["Y"], **attrs)], "resize",
        [helper.make_tensor_value_info("X", onnx.TensorProto.FLOAT, probe.shape)],
        [helper.make_tensor_value_info("Y", onnx.TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 19)])
    y = ReferenceEvaluator(model).run(None, {"X": probe})[0]
    cols = y[:, 0, :, 0] if axis == 2 else y[:, 0, 0, :]
    return np.ascontiguousarray(cols.T.astype(np.float32))


def _resize_general(ctx: LoweringContext, node: onnx.NodeProto, x: ir.Tensor,
                    spec: _Spec) -> None:
    base = node.output[0]
    y = x
    for axis in (2, 3):
        if spec.out[axis] == x.shape[axis] and spec.coord_scales[axis] == 1.0:
            continue
        m = _axis_matrix(ctx, node, x, spec, axis)
        shape = list(y.shape)
        shape[axis] = m.shape[0]
        one_hot = np.all(np.sum(m != 0, axis=1) == 1) and np.all(np.max(m, axis=1) == 1)
        if one_hot:
            idx = np.argmax(m, axis=1).astype(np.int32)
            y = emit(ctx, "GATHER", [y, ctx.constant(f"{base}_idx{axis}", idx, "int32")], shape,
                     y.dtype, {"axis": axis, "batch_dims": 0}, base=f"{base}_ax{axis}")
        elif axis == 3:
            y = emit(ctx, "FULLY_CONNECTED",
                     [y, ctx.constant(f"{base}_wmap", m),
                      ctx.constant(f"{base}_wbias", np.zeros(m.shape[0], np.float32))],
                     shape, y.dtype, {"fused_activation_function": "NONE",
                                      "keep_num_dims": True}, base=f"{base}_ax3")
        else:
            y = emit(ctx, "BATCH_MATMUL", [ctx.constant(f"{base}_hmap", m), y], shape, y.dtype,
                     {"adj_x": False, "adj_y": False}, base=f"{base}_ax2")
    if y is x:
        y = reshape_to(ctx, node, x, x.shape)
    ctx.set_output(node, 0, y)


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
          notes="4-D, spatial axes only; nearest/linear matching TFLite's align_corners/"
                "half_pixel_centers -> RESIZE_*; any other nearest/linear/cubic (antialias, "
                "keep_aspect_ratio_policy) -> exact per-axis GATHER or matrix product; "
                "tf_crop_and_resize unsupported")
def lower_resize(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    mode = ctx.attr(node, "mode", "nearest")
    if ctx.opset < 11:
        scales = [float(s) for s in np.asarray(ctx.const(node, 1)).reshape(-1)]
        _resize(ctx, node, _spec(ctx, node, x, mode, "asymmetric", "floor", scales, None))
        return
    ctm = ctx.attr(node, "coordinate_transformation_mode", "half_pixel")
    rule = ctx.attr(node, "nearest_mode", "round_prefer_floor")
    policy = ctx.attr(node, "keep_aspect_ratio_policy", "stretch")
    axes = ctx.attr(node, "axes")
    axes = None if axes is None else [a + r if a < 0 else a for a in axes]
    if ctx.has_input(node, 3):
        sizes = _full_rank(ctx, node, [int(v) for v in np.asarray(ctx.const(node, 3)).reshape(-1)],
                           r, -1)
        sizes = [x.shape[i] if s == -1 else int(s) for i, s in enumerate(sizes)]
        _resize(ctx, node, _spec(ctx, node, x, mode, ctm, rule, None, sizes, policy, axes))
        return
    raw = np.asarray(ctx.const(node, 2)).reshape(-1) if ctx.has_input(node, 2) else np.zeros(0)
    if not raw.size:
        raise ctx.unsupported(node, "neither scales nor sizes is given")
    scales = _full_rank(ctx, node, [float(s) for s in raw], r, 1.0)
    _resize(ctx, node, _spec(ctx, node, x, mode, ctm, rule, scales, None))


@register("Upsample", opsets=(7, 9), const_inputs=(1,),
          notes="as Resize with asymmetric coordinates (nearest: floor)")
def lower_upsample(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    mode = ctx.attr(node, "mode", "nearest")
    if ctx.opset < 9:
        scales = [float(s) for s in ctx.attr(node, "scales")]
    else:
        scales = [float(s) for s in np.asarray(ctx.const(node, 1)).reshape(-1)]
    _resize(ctx, node, _spec(ctx, node, x, mode, "asymmetric", "floor", scales, None))
