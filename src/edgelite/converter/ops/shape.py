"""Shape and data-movement ops: Concat, Reshape, Flatten, (Un)Squeeze, Transpose, Pad, Slice,
Split, Gather(Elements), Tile, Expand, DepthToSpace, SpaceToDepth, Cast(Like), Identity, Dropout,
Trilu, CumSum, OneHot, and the conversion-time constants Shape, Size, ConstantOfShape, Range."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite.converter.ops._util import (
    as_const_like, const_ints, emit, i32, norm_axis, reshape_to, tflite_type,
)
from edgelite.converter.ops.registry import ONNX_DTYPES, LoweringContext, register

_ANY = ("float32", "int32", "int64", "bool", "int8", "uint8", "int16")
_DATA = ("float32", "int32", "int64")


@register("Concat", opsets=(4, 25), dtypes=_DATA, notes="CONCATENATION")
def lower_concat(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ins = [ctx.input(node, i) for i in range(len(node.input)) if ctx.has_input(node, i)]
    r = len(ins[0].shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", 0), r)
    others = {tuple(d for i, d in enumerate(t.shape) if i != axis) if len(t.shape) == r
              else None for t in ins}
    if len(others) != 1 or None in others:
        raise ctx.unsupported(node, f"input shapes {[list(t.shape) for t in ins]} differ off "
                                    f"axis {axis}")
    ins = [t for t in ins if t.shape[axis] != 0]  # empty pieces add nothing
    if not ins:
        raise ctx.unsupported(node, "every input is empty along the axis")
    shape = list(ins[0].shape)
    shape[axis] = sum(t.shape[axis] for t in ins)
    if len(ins) == 1:
        ctx.set_output(node, 0, reshape_to(ctx, node, ins[0], tuple(shape)))
        return
    ctx.set_output(node, 0, emit(ctx, "CONCATENATION", ins, shape, ins[0].dtype,
                                 {"axis": axis, "fused_activation_function": "NONE"}))


@register("Reshape", opsets=(5, 25), dtypes=_ANY, const_inputs=(1,),
          notes="RESHAPE with 0 (copy) and -1 (infer) resolved at conversion time; "
                "allowzero with a 0 is unsupported")
def lower_reshape(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    spec = const_ints(ctx, node, 1)
    allowzero = bool(ctx.attr(node, "allowzero", 0))
    if allowzero and 0 in spec:
        raise ctx.unsupported(node, "allowzero=1 with a 0 in the shape makes an empty tensor")
    out = [x.shape[i] if d == 0 else d for i, d in enumerate(spec)]
    if out.count(-1) > 1:
        raise ctx.unsupported(node, f"shape {spec} has more than one -1")
    if -1 in out:
        known = int(np.prod([d for d in out if d != -1], dtype=np.int64))
        out[out.index(-1)] = int(np.prod(x.shape, dtype=np.int64)) // max(known, 1)
    if int(np.prod(out, dtype=np.int64)) != int(np.prod(x.shape, dtype=np.int64)):
        raise ctx.unsupported(node, f"cannot reshape {x.shape} to {spec}")
    ctx.set_output(node, 0, reshape_to(ctx, node, x, tuple(out)))


@register("Flatten", opsets=(1, 25), dtypes=_ANY, notes="RESHAPE to 2-D at axis")
def lower_flatten(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = int(ctx.attr(node, "axis", 1))
    axis = axis + r if axis < 0 else axis
    if not 0 <= axis <= r:
        raise ctx.unsupported(node, f"axis {axis} is out of range for rank {r}")
    shape = (int(np.prod(x.shape[:axis], dtype=np.int64)),
             int(np.prod(x.shape[axis:], dtype=np.int64)))
    ctx.set_output(node, 0, reshape_to(ctx, node, x, shape))


def _axes(ctx: LoweringContext, node: onnx.NodeProto, input_from: int) -> list[int] | None:
    """Axes given as an attribute (older opsets) or as a constant input (opset >= input_from)."""
    if ctx.opset >= input_from:
        return const_ints(ctx, node, 1) if ctx.has_input(node, 1) else None
    axes = ctx.attr(node, "axes")
    return list(axes) if axes is not None else None


@register("Squeeze", opsets=(1, 25), dtypes=_ANY, const_inputs=(1,), notes="RESHAPE")
def lower_squeeze(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axes = _axes(ctx, node, 13)
    if axes is None:
        drop = {i for i, d in enumerate(x.shape) if d == 1}
    else:
        drop = {norm_axis(ctx, node, a, r) for a in axes}
        if any(x.shape[a] != 1 for a in drop):
            raise ctx.unsupported(node, f"cannot squeeze axes {axes} of shape {x.shape}")
    shape = tuple(d for i, d in enumerate(x.shape) if i not in drop)
    ctx.set_output(node, 0, reshape_to(ctx, node, x, shape))


@register("Unsqueeze", opsets=(1, 25), dtypes=_ANY, const_inputs=(1,), notes="RESHAPE")
def lower_unsqueeze(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    axes = _axes(ctx, node, 13)
    if not axes:
        raise ctx.unsupported(node, "axes are required")
    r = len(x.shape) + len(axes)
    new = sorted(norm_axis(ctx, node, a, r) for a in axes)
    if len(set(new)) != len(new):
        raise ctx.unsupported(node, f"axes {axes} repeat")
    rest = iter(x.shape)
    shape = tuple(1 if i in new else next(rest) for i in range(r))
    ctx.set_output(node, 0, reshape_to(ctx, node, x, shape))


@register("Transpose", opsets=(1, 25), dtypes=_ANY, notes="TRANSPOSE")
def lower_transpose(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    perm = ctx.attr(node, "perm")
    perm = list(range(r))[::-1] if perm is None else [norm_axis(ctx, node, p, r) for p in perm]
    if sorted(perm) != list(range(r)):
        raise ctx.unsupported(node, f"perm {perm} is not a permutation of rank {r}")
    shape = tuple(x.shape[p] for p in perm)
    ctx.set_output(node, 0, emit(ctx, "TRANSPOSE", [x, i32(ctx, f"{node.output[0]}_perm", perm)],
                                 shape, x.dtype))


@register("Pad", opsets=(2, 25), dtypes=_DATA, const_inputs=(1, 2, 3),
          notes="constant -> PAD/PADV2; reflect -> MIRROR_PAD REFLECT; edge -> MIRROR_PAD "
                "SYMMETRIC for pads <= 1; other reflect/edge and wrap -> GATHER per axis with "
                "the indices numpy.pad gives; negative pads crop (SLICE)")
def lower_pad(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    base = node.output[0]
    mode = ctx.attr(node, "mode", "constant")
    if mode not in ("constant", "reflect", "edge", "wrap"):
        raise ctx.unsupported(node, f"mode {mode!r} is not valid")
    if ctx.opset < 11:
        pads = list(ctx.attr(node, "pads", ctx.attr(node, "paddings", [])))
        value = float(ctx.attr(node, "value", 0.0))
        axes = list(range(r))
    else:
        pads = const_ints(ctx, node, 1)
        value = float(np.asarray(ctx.const(node, 2)).reshape(-1)[0]) if ctx.has_input(node, 2) \
            else 0.0
        axes = ([norm_axis(ctx, node, a, r) for a in const_ints(ctx, node, 3)]
                if ctx.has_input(node, 3) else list(range(r)))
    if len(pads) != 2 * len(axes):
        raise ctx.unsupported(node, f"pads {pads} do not match {len(axes)} axes")
    paddings = [[0, 0] for _ in range(r)]
    for j, a in enumerate(axes):
        paddings[a] = [pads[j], pads[j + len(axes)]]
    # Negative pads remove elements: crop first, then pad what is left.
    crop = [[max(-b, 0), max(-e, 0)] for b, e in paddings]
    if any(c for pair in crop for c in pair):
        size = [d - b - e for d, (b, e) in zip(x.shape, crop)]
        if any(d <= 0 for d in size):
            raise ctx.unsupported(node, f"negative pads {pads} leave nothing of {x.shape}")
        x = emit(ctx, "SLICE", [x, i32(ctx, f"{base}_crop_begin", [b for b, _ in crop]),
                                i32(ctx, f"{base}_crop_size", size)], size, x.dtype,
                 base=f"{base}_crop")
    grow = [[max(b, 0), max(e, 0)] for b, e in paddings]
    shape = tuple(d + b + e for d, (b, e) in zip(x.shape, grow))
    if not any(p for pair in grow for p in pair):
        ctx.set_output(node, 0, reshape_to(ctx, node, x, shape))
        return
    pad_t = i32(ctx, f"{base}_paddings", grow)
    fits_reflect = all(b < d and e < d for d, (b, e) in zip(x.shape, grow))
    if mode == "constant" and value == 0.0:
        y = emit(ctx, "PAD", [x, pad_t], shape, x.dtype)
    elif mode == "constant":
        fill = ctx.constant(f"{base}_value", np.array(value, dtype=x.dtype))
        y = emit(ctx, "PADV2", [x, pad_t, fill], shape, x.dtype)
    elif mode == "reflect" and fits_reflect:
        y = emit(ctx, "MIRROR_PAD", [x, pad_t], shape, x.dtype, {"mode": "REFLECT"})
    elif mode == "edge" and all(p <= 1 for pair in grow for p in pair):
        # SYMMETRIC repeats the edge element once: the same as edge for pads of 0 or 1.
        y = emit(ctx, "MIRROR_PAD", [x, pad_t], shape, x.dtype, {"mode": "SYMMETRIC"})
    else:
        y = x
        for a, (b, e) in enumerate(grow):
            if b or e:
                idx = np.pad(np.arange(x.shape[a]), (b, e), mode=mode).astype(np.int32)
                out = list(y.shape)
                out[a] = idx.size
                y = emit(ctx, "GATHER", [y, ctx.constant(f"{base}_idx{a}", idx, "int32")], out,
                         x.dtype, {"axis": a, "batch_dims": 0}, base=f"{base}_ax{a}")
    ctx.set_output(node, 0, y)


@register("Slice", opsets=(1, 25), dtypes=_ANY, const_inputs=(1, 2, 3, 4),
          notes="constant starts/ends/axes/steps -> SLICE (unit steps) or STRIDED_SLICE")
def lower_slice(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    if ctx.opset < 10:
        starts, ends = list(ctx.attr(node, "starts")), list(ctx.attr(node, "ends"))
        axes = list(ctx.attr(node, "axes", range(len(starts))))
        steps = [1] * len(starts)
    else:
        starts, ends = const_ints(ctx, node, 1), const_ints(ctx, node, 2)
        axes = const_ints(ctx, node, 3) if ctx.has_input(node, 3) else list(range(len(starts)))
        steps = const_ints(ctx, node, 4) if ctx.has_input(node, 4) else [1] * len(starts)
    begin, end, stride = [0] * r, list(x.shape), [1] * r
    end_mask = 0
    for s, e, a, st in zip(starts, ends, axes, steps):
        a = norm_axis(ctx, node, a, r)
        if st == 0:
            raise ctx.unsupported(node, "a step of 0 is invalid")
        # ONNX clamps like Python slices; a huge int64 end means "to the end".
        s = max(min(s, 2**31 - 1), -2**31)
        e = max(min(e, 2**31 - 1), -2**31)
        # a step past the dimension picks one element, as the dimension itself does
        st = max(min(st, max(x.shape[a], 1)), -max(x.shape[a], 1))
        b0, e0, _ = slice(s, e, st).indices(x.shape[a])
        begin[a], end[a], stride[a] = b0, e0, st
        if e0 < 0:
            end_mask |= 1 << a  # run through index 0 going backwards
    shape = tuple(len(range(b, e, st)) for b, e, st in zip(begin, end, stride))
    if any(d == 0 for d in shape):
        raise ctx.unsupported(node, f"the slice of {x.shape} is empty")
    base = node.output[0]
    if all(st == 1 for st in stride):
        y = emit(ctx, "SLICE", [x, i32(ctx, f"{base}_begin", begin),
                                i32(ctx, f"{base}_size", list(shape))], shape, x.dtype)
    else:
        y = emit(ctx, "STRIDED_SLICE",
                 [x, i32(ctx, f"{base}_begin", begin), i32(ctx, f"{base}_end", end),
                  i32(ctx, f"{base}_strides", stride)], shape, x.dtype,
                 {"begin_mask": 0, "end_mask": end_mask, "ellipsis_mask": 0,
                  "new_axis_mask": 0, "shrink_axis_mask": 0})
    ctx.set_output(node, 0, y)


@register("Split", opsets=(2, 25), dtypes=_DATA, const_inputs=(1,),
          notes="equal parts -> SPLIT, otherwise SPLIT_V; sizes as attribute, input or "
                "num_outputs")
def lower_split(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", 0), r)
    count = len(node.output)
    if ctx.opset >= 13:
        sizes = const_ints(ctx, node, 1) if ctx.has_input(node, 1) else None
    else:
        sizes = ctx.attr(node, "split")
        sizes = list(sizes) if sizes is not None else None
    dim = x.shape[axis]
    if sizes is None:
        parts = int(ctx.attr(node, "num_outputs", count))
        chunk = -(-dim // parts)
        sizes = [min(chunk, dim - i * chunk) for i in range(parts)]
    if sum(sizes) != dim or len(sizes) != count:
        raise ctx.unsupported(node, f"split sizes {sizes} do not match dimension {dim} and "
                                    f"{count} outputs")
    if any(s < 0 for s in sizes):
        raise ctx.unsupported(node, f"split sizes {sizes} are negative")
    if not any(sizes):
        raise ctx.unsupported(node, f"split sizes {sizes} leave every output empty")
    outs = []
    for i, s in enumerate(sizes):
        shape = list(x.shape)
        shape[axis] = s
        outs.append(ctx.tensor(node.output[i], tuple(shape), x.dtype))
    base = node.output[0]
    if len(set(sizes)) == 1:
        ctx.add_op("SPLIT", [i32(ctx, f"{base}_axis", axis), x], outs, {"num_splits": count})
    else:
        ctx.add_op("SPLIT_V", [x, i32(ctx, f"{base}_sizes", sizes), i32(ctx, f"{base}_axis", axis)],
                   outs, {"num_splits": count})
    for i, t in enumerate(outs):
        ctx.set_output(node, i, t)


@register("Gather", opsets=(1, 25), dtypes=_DATA,
          notes="GATHER; constant indices are resolved, run-time ones wrapped by FLOOR_MOD so "
                "negative indices count from the end")
def lower_gather(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", 0), r)
    indices = ctx.input(node, 1)
    dim = x.shape[axis]
    base = node.output[0]
    if indices.is_const:
        idx = indices.data.astype(np.int64)
        if np.any(idx < -dim) or np.any(idx >= dim):
            raise ctx.unsupported(node, f"indices out of range for dimension {dim}")
        idx_t = ctx.constant(f"{base}_indices", np.where(idx < 0, idx + dim, idx), "int32")
    elif indices.dtype in ("int32", "int64"):
        idx_t = emit(ctx, "FLOOR_MOD", [indices, ctx.constant(f"{base}_dim", np.array(
            dim, indices.dtype))], indices.shape, indices.dtype, base=f"{base}_indices")
    else:
        raise ctx.unsupported(node, f"indices of type {indices.dtype} are not supported")
    shape = (*x.shape[:axis], *indices.shape, *x.shape[axis + 1:])
    y = emit(ctx, "GATHER", [x, idx_t], shape, x.dtype, {"axis": axis, "batch_dims": 0})
    ctx.set_output(node, 0, y)


@register("Tile", opsets=(6, 25), dtypes=_DATA, const_inputs=(1,), notes="TILE")
def lower_tile(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    reps = const_ints(ctx, node, 1)
    if len(reps) != len(x.shape) or any(rp < 1 for rp in reps):
        raise ctx.unsupported(node, f"repeats {reps} are invalid for shape {x.shape}")
    shape = tuple(d * rp for d, rp in zip(x.shape, reps))
    ctx.set_output(node, 0, emit(ctx, "TILE", [x, i32(ctx, f"{node.output[0]}_multiples", reps)],
                                 shape, x.dtype))


@register("Expand", opsets=(8, 25), dtypes=_DATA, const_inputs=(1,),
          notes="BROADCAST_TO the broadcast of input and shape")
def lower_expand(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    spec = const_ints(ctx, node, 1)
    try:
        shape = tuple(int(d) for d in np.broadcast_shapes(x.shape, tuple(spec)))
    except ValueError:
        raise ctx.unsupported(node, f"shape {spec} does not broadcast with {x.shape}") from None
    y = emit(ctx, "BROADCAST_TO", [x, i32(ctx, f"{node.output[0]}_shape", list(shape))], shape,
             x.dtype)
    ctx.set_output(node, 0, y)


@register("DepthToSpace", opsets=(1, 25), dtypes=_DATA,
          notes="DCR -> DEPTH_TO_SPACE (NHWC); CRD -> RESHAPE/TRANSPOSE/RESHAPE")
def lower_depth_to_space(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) != 4:
        raise ctx.unsupported(node, "input must be 4-D")
    b = int(ctx.attr(node, "blocksize"))
    n, c, h, w = x.shape
    if c % (b * b):
        raise ctx.unsupported(node, f"{c} channels are not divisible by blocksize^2")
    mode = ctx.attr(node, "mode", "DCR")
    out = (n, c // (b * b), h * b, w * b)
    if mode == "DCR":
        y = emit(ctx, "DEPTH_TO_SPACE", [ctx.to_nhwc(x)], (n, h * b, w * b, c // (b * b)),
                 x.dtype, {"block_size": b}, base=f"{node.output[0]}_nhwc")
        ctx.set_output(node, 0, ctx.to_nchw(y))
        return
    if mode != "CRD":
        raise ctx.unsupported(node, f"mode {mode!r} is not valid")
    t = ctx.reshape(x, (n, c // (b * b), b, b, h, w))
    t = ctx.transpose(t, (0, 1, 4, 2, 5, 3))
    ctx.set_output(node, 0, reshape_to(ctx, node, t, out))


@register("SpaceToDepth", opsets=(1, 25), dtypes=_DATA, notes="SPACE_TO_DEPTH (NHWC)")
def lower_space_to_depth(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) != 4:
        raise ctx.unsupported(node, "input must be 4-D")
    b = int(ctx.attr(node, "blocksize"))
    n, c, h, w = x.shape
    if h % b or w % b:
        raise ctx.unsupported(node, f"spatial size {h}x{w} is not divisible by blocksize {b}")
    y = emit(ctx, "SPACE_TO_DEPTH", [ctx.to_nhwc(x)], (n, h // b, w // b, c * b * b), x.dtype,
             {"block_size": b}, base=f"{node.output[0]}_nhwc")
    ctx.set_output(node, 0, ctx.to_nchw(y))


_CAST_TARGETS = ("float32", "float16", "int32", "int64", "bool", "int8", "uint8", "int16")


def _cast(ctx: LoweringContext, node: onnx.NodeProto, to: str) -> None:
    x = ctx.input(node, 0)
    if to not in _CAST_TARGETS:
        raise ctx.unsupported(node, f"cast to {to} is not supported (supported: "
                                    f"{', '.join(_CAST_TARGETS)})")
    if to == x.dtype:
        ctx.set_output(node, 0, reshape_to(ctx, node, x, x.shape))
        return
    y = emit(ctx, "CAST", [x], x.shape, to,
             {"in_data_type": tflite_type(x.dtype), "out_data_type": tflite_type(to)})
    ctx.set_output(node, 0, y)


@register("Cast", opsets=(6, 25), dtypes=_CAST_TARGETS,
          notes="CAST between float32, float16, int8/16/32/64, uint8 and bool")
def lower_cast(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    code = int(ctx.attr(node, "to"))
    to = ONNX_DTYPES.get(code, onnx.TensorProto.DataType.Name(code))
    _cast(ctx, node, to)


@register("CastLike", opsets=(15, 25), dtypes=_CAST_TARGETS, notes="CAST to input 1's type")
def lower_cast_like(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _cast(ctx, node, ctx.input(node, 1).dtype)


@register("Identity", opsets=(1, 25), dtypes=_ANY,
          notes="a same-shape RESHAPE copy (the identity pass removes it where it can)")
def lower_identity(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    ctx.set_output(node, 0, reshape_to(ctx, node, x, x.shape))


@register("Dropout", opsets=(1, 25), const_inputs=(1, 2),
          notes="inference (or ratio 0): a copy, the mask a constant all-true tensor; "
                "random training mode unsupported")
def lower_dropout(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    training = ctx.has_input(node, 2) and bool(np.asarray(ctx.const(node, 2)).reshape(-1)[0])
    ratio = (float(np.asarray(ctx.const(node, 1)).reshape(-1)[0]) if ctx.has_input(node, 1)
             else float(ctx.attr(node, "ratio", 0.5)))
    if training and ratio != 0.0:
        raise ctx.unsupported(node, "training mode with a non-zero ratio (random) is not "
                                    "supported")
    x = ctx.input(node, 0)
    ctx.set_output(node, 0, reshape_to(ctx, node, x, x.shape))
    if len(node.output) > 1 and node.output[1]:
        ctx.set_output(node, 1, ctx.constant(node.output[1], np.ones(x.shape, bool), "bool"))


@register("GatherElements", opsets=(11, 25), dtypes=_DATA,
          notes="GATHER_ND on full coordinates: constant indices resolved in numpy; run-time "
                "ones wrapped by FLOOR_MOD and concatenated with constant index grids")
def lower_gather_elements(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", 0), r)
    indices = ctx.input(node, 1)
    if len(indices.shape) != r:
        raise ctx.unsupported(node, f"indices rank {len(indices.shape)} differs from data rank {r}")
    dim = x.shape[axis]
    base = node.output[0]
    grids = np.indices(indices.shape).astype(np.int32)
    if indices.is_const:
        idx = indices.data.astype(np.int64)
        if np.any(idx < -dim) or np.any(idx >= dim):
            raise ctx.unsupported(node, f"indices out of range for dimension {dim}")
        grids[axis] = np.where(idx < 0, idx + dim, idx)
        coords = ctx.constant(f"{base}_coords", np.moveaxis(grids, 0, -1).copy(), "int32")
    elif indices.dtype in ("int32", "int64"):
        wrapped = emit(ctx, "FLOOR_MOD", [indices, ctx.constant(f"{base}_dim", np.array(
            dim, indices.dtype))], indices.shape, indices.dtype, base=f"{base}_wrapped")
        wrapped = as_const_like(ctx, wrapped, "int32")
        column = (*indices.shape, 1)
        parts = [ctx.reshape(wrapped, column) if a == axis else
                 ctx.constant(f"{base}_grid{a}", grids[a].reshape(column).copy(), "int32")
                 for a in range(r)]
        coords = emit(ctx, "CONCATENATION", parts, (*indices.shape, r), "int32",
                      {"axis": r, "fused_activation_function": "NONE"}, base=f"{base}_coords")
    else:
        raise ctx.unsupported(node, f"indices of type {indices.dtype} are not supported")
    ctx.set_output(node, 0, emit(ctx, "GATHER_ND", [x, coords], indices.shape, x.dtype))


@register("Trilu", opsets=(14, 25), dtypes=_DATA, const_inputs=(1,),
          notes="SELECT_V2 with a constant triangle mask over the last two axes")
def lower_trilu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    if len(x.shape) < 2:
        raise ctx.unsupported(node, "input must have rank >= 2")
    k = int(np.asarray(ctx.const(node, 1)).reshape(())) if ctx.has_input(node, 1) else 0
    upper = bool(ctx.attr(node, "upper", 1))
    rows, cols = x.shape[-2:]
    ones = np.ones((rows, cols), dtype=bool)
    mask = np.triu(ones, k) if upper else np.tril(ones, k)
    base = node.output[0]
    zero = ctx.constant(f"{base}_zero", np.zeros(1, dtype=x.dtype))
    y = emit(ctx, "SELECT_V2", [ctx.constant(f"{base}_mask", mask, "bool"), x, zero], x.shape,
             x.dtype)
    ctx.set_output(node, 0, y)


@register("CumSum", opsets=(11, 25), dtypes=("float32", "int32", "int64"), const_inputs=(1,),
          notes="CUMSUM with exclusive and reverse")
def lower_cumsum(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    axis = norm_axis(ctx, node, int(np.asarray(ctx.const(node, 1)).reshape(())), len(x.shape))
    y = emit(ctx, "CUMSUM", [x, i32(ctx, f"{node.output[0]}_axis", axis)], x.shape, x.dtype,
             {"exclusive": bool(ctx.attr(node, "exclusive", 0)),
              "reverse": bool(ctx.attr(node, "reverse", 0))})
    ctx.set_output(node, 0, y)


@register("Shape", opsets=(1, 25), dtypes=_ANY + ("float16",),
          notes="the static shape as a constant (the reader folds it before lowering)")
def lower_shape(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    start = int(ctx.attr(node, "start", 0))
    end = int(ctx.attr(node, "end", r))
    start, end = (max(0, min(r, v + r if v < 0 else v)) for v in (start, end))
    ctx.set_output(node, 0, ctx.constant(node.output[0], np.array(x.shape[start:end], np.int64)))


@register("Size", opsets=(1, 25), dtypes=_ANY + ("float16",),
          notes="the static element count as a constant (the reader folds it before lowering)")
def lower_size(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    ctx.set_output(node, 0, ctx.constant(node.output[0], np.array(x.size, np.int64)))


@register("ConstantOfShape", opsets=(9, 25), dtypes=("int64",), const_inputs=(0,),
          notes="a constant (shape known at conversion time)")
def lower_constant_of_shape(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    shape = const_ints(ctx, node, 0)
    value = ctx.attr(node, "value")
    fill = np.zeros(1, np.float32) if value is None else np.asarray(value).reshape(1)
    if fill.dtype.name not in _CAST_TARGETS:
        raise ctx.unsupported(node, f"value type {fill.dtype} is not supported")
    if any(d <= 0 for d in shape):
        raise ctx.unsupported(node, f"shape {shape} is empty")
    ctx.set_output(node, 0, ctx.constant(node.output[0], np.full(shape, fill[0], fill.dtype)))


@register("Range", opsets=(11, 25), dtypes=("float32", "int32", "int64"),
          const_inputs=(0, 1, 2), notes="a constant (bounds known at conversion time)")
def lower_range(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    start, limit, delta = (np.asarray(ctx.const(node, i)).reshape(()) for i in range(3))
    # ONNX: number of elements = max(ceil((limit - start) / delta), 0), then start + i * delta.
    count = max(int(np.ceil((limit - start) / delta)), 0)
    if count == 0:
        raise ctx.unsupported(node, "the range is empty")
    values = (start + np.arange(count, dtype=start.dtype) * delta).astype(start.dtype)
    ctx.set_output(node, 0, ctx.constant(node.output[0], values))


@register("OneHot", opsets=(9, 25), dtypes=("float32", "int32", "int64"), const_inputs=(1, 2),
          notes="ONE_HOT; negative indices count from the end, out-of-range rows stay off")
def lower_one_hot(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    indices = ctx.input(node, 0)
    depth = int(np.asarray(ctx.const(node, 1)).reshape(-1)[0])
    values = np.asarray(ctx.const(node, 2)).reshape(-1)
    if depth <= 0 or values.size != 2:
        raise ctx.unsupported(node, f"depth {depth} / values {values.tolist()} are invalid")
    out_dtype = values.dtype.name if values.dtype.name in _DATA else None
    if out_dtype is None:
        raise ctx.unsupported(node, f"values of type {values.dtype} are not supported")
    r = len(indices.shape) + 1
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", -1), r)
    base = node.output[0]
    # ONNX casts non-integer indices to int64 (truncating); TFLite's CAST truncates too.
    idx = as_const_like(ctx, indices, "int32")
    neg = emit(ctx, "LESS", [idx, i32(ctx, f"{base}_zero", 0)], idx.shape, "bool",
               base=f"{base}_isneg")
    wrapped = emit(ctx, "ADD", [idx, i32(ctx, f"{base}_depth_add", depth)], idx.shape, "int32",
                   {"fused_activation_function": "NONE"}, base=f"{base}_wrapped")
    idx = emit(ctx, "SELECT_V2", [neg, wrapped, idx], idx.shape, "int32", base=f"{base}_idx")
    shape = (*indices.shape[:axis], depth, *indices.shape[axis:])
    off = ctx.constant(f"{base}_off", np.array(values[0], out_dtype))
    on = ctx.constant(f"{base}_on", np.array(values[1], out_dtype))
    y = emit(ctx, "ONE_HOT", [idx, i32(ctx, f"{base}_depth", depth), on, off], shape, out_dtype,
             {"axis": axis})
    ctx.set_output(node, 0, y)
