"""Conv and ConvTranspose -> CONV_2D / DEPTHWISE_CONV_2D / TRANSPOSE_CONV (NHWC inside)."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import emit, i32, spatial_reshape_1d
from edgelite.converter.ops._window import lift_attrs_1d, pad_nhwc, padded_input, window
from edgelite.converter.ops.registry import LoweringContext, register


def _operands(ctx: LoweringContext,
              node: onnx.NodeProto) -> tuple[ir.Tensor, np.ndarray, bool, onnx.NodeProto]:
    """The input and float weights of a Conv / ConvTranspose, a 1-D one lifted to 2-D with a
    height-1 kernel (then the node's attributes lifted too: the returned node); whether it was
    lifted. 3-D and higher are unsupported."""
    x = ctx.input(node, 0)
    w = np.asarray(ctx.const(node, 1), dtype=np.float32)
    if len(w.shape) != len(x.shape) or len(x.shape) not in (3, 4):
        raise ctx.unsupported(node, f"input {list(x.shape)} and weights {list(w.shape)}: only "
                                    "1-D and 2-D convolutions with weights of the input's rank")
    if len(x.shape) == 3:
        return spatial_reshape_1d(ctx, x), w[:, :, None, :], True, lift_attrs_1d(node)
    return x, w, False, node


@register("Conv", opsets=(1, 25), const_inputs=(1, 2),
          notes="1-D and 2-D; group 1 -> CONV_2D, group == channels -> DEPTHWISE_CONV_2D, other "
                "groups split per group; pads that SAME/VALID cannot express become PAD + VALID")
def lower_conv(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x, w, lifted, anode = _operands(ctx, node)
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    group = int(ctx.attr(node, "group", 1))
    if c % group or o % group or cg * group != c:
        raise ctx.unsupported(node, f"weights {w.shape} do not match {c} input channels in "
                                    f"{group} groups")
    kernel = list(ctx.attr(anode, "kernel_shape", [kh, kw]))
    if kernel != [kh, kw]:
        raise ctx.unsupported(node, f"kernel_shape {kernel} disagrees with weights {w.shape}")
    bias = (np.asarray(ctx.const(node, 2), dtype=np.float32).reshape(o) if ctx.has_input(node, 2)
            else np.zeros(o, np.float32))
    win = window(ctx, anode, [h, wd], kernel)
    xin, padding = padded_input(ctx, ctx.to_nhwc(x), win, [h, wd])
    out_shape = (n, *win.out, o)
    opts = {"padding": padding, "stride_h": win.strides[0], "stride_w": win.strides[1],
            "dilation_h_factor": win.dilations[0], "dilation_w_factor": win.dilations[1],
            "fused_activation_function": "NONE"}
    base = node.output[0]
    if group == 1:
        y = emit(ctx, "CONV_2D", [xin, ctx.constant(f"{base}_weights", w.transpose(0, 2, 3, 1)),
                                  ctx.constant(f"{base}_bias", bias)], out_shape, options=opts,
                 base=f"{base}_nhwc")
    elif group == c and cg == 1:
        # ONNX output channel o reads input channel o // multiplier: TFLite's order too.
        y = emit(ctx, "DEPTHWISE_CONV_2D",
                 [xin, ctx.constant(f"{base}_weights", w.transpose(1, 2, 3, 0)),
                  ctx.constant(f"{base}_bias", bias)], out_shape,
                 options={**opts, "depth_multiplier": o // c}, base=f"{base}_nhwc")
    else:
        og = o // group
        parts_shape = (*xin.shape[:3], cg)
        parts = [ctx.tensor(f"{base}_group{g}_in", parts_shape) for g in range(group)]
        ctx.add_op("SPLIT", [i32(ctx, f"{base}_split_axis", 3), xin], parts,
                   {"num_splits": group})
        outs = []
        for g in range(group):
            wg = w[g * og:(g + 1) * og].transpose(0, 2, 3, 1)
            outs.append(emit(ctx, "CONV_2D", [parts[g], ctx.constant(f"{base}_weights{g}", wg),
                                              ctx.constant(f"{base}_bias{g}",
                                                           bias[g * og:(g + 1) * og])],
                             (*out_shape[:3], og), options=opts, base=f"{base}_group{g}"))
        y = emit(ctx, "CONCATENATION", outs, out_shape,
                 options={"axis": 3, "fused_activation_function": "NONE"}, base=f"{base}_nhwc")
    y = ctx.to_nchw(y)
    if lifted:
        y = ctx.reshape(y, (n, o, win.out[1]))
    ctx.set_output(node, 0, y)


@register("ConvTranspose", opsets=(1, 25), const_inputs=(1, 2),
          notes="1-D and 2-D -> TRANSPOSE_CONV (groups split, dilation by a zero-dilated "
                "kernel); pads/output_padding/output_shape by cropping or padding the full result")
def lower_conv_transpose(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x, w, lifted, anode = _operands(ctx, node)
    n, c, h, wd = x.shape
    ci, og, kh, kw = w.shape
    group = int(ctx.attr(node, "group", 1))
    if ci != c or c % group:
        raise ctx.unsupported(node, f"weights {w.shape} do not match {c} input channels in "
                                    f"{group} groups")
    if list(ctx.attr(anode, "kernel_shape", [kh, kw])) != [kh, kw]:
        raise ctx.unsupported(node, "kernel_shape disagrees with the weights")
    dil = list(ctx.attr(anode, "dilations", [1, 1]))
    if dil != [1, 1]:
        # A dilated kernel is the kernel with zeros between its taps: exact, no extra op.
        dw = np.zeros((ci, og, (kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1), np.float32)
        dw[:, :, ::dil[0], ::dil[1]] = w
        w, kh, kw = dw, dw.shape[2], dw.shape[3]
    kernel = [kh, kw]
    strides = list(ctx.attr(anode, "strides", [1, 1]))
    out_pad = list(ctx.attr(anode, "output_padding", [0, 0]))
    full = [(i - 1) * s + k for i, s, k in zip([h, wd], strides, kernel)]
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    out_shape_attr = ctx.attr(anode, "output_shape", None)
    given = list(out_shape_attr)[-2:] if out_shape_attr is not None else None
    # The output is the window [begin, begin + target) of the full result, zeros outside it.
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = given or [i * s for i, s in zip([h, wd], strides)]
        totals = [f + p - t for f, p, t in zip(full, out_pad, target)]
        begin = [t // 2 if auto_pad == "SAME_UPPER" else t - t // 2 for t in totals]
    elif given is not None:
        # output_shape overrides pads; the surplus is split with the extra cell at the end
        # (ONNX Runtime's rule), and a shortfall only grows the end.
        target = given
        begin = [max(f + p - t, 0) // 2 for f, p, t in zip(full, out_pad, target)]
    else:
        pads = (list(ctx.attr(anode, "pads", [0, 0, 0, 0])) if auto_pad != "VALID"
                else [0, 0, 0, 0])
        begin = pads[:2]
        target = [f + p - b - e for f, p, b, e in zip(full, out_pad, pads[:2], pads[2:])]
    if any(t <= 0 for t in target):
        raise ctx.unsupported(node, f"output size {target} is empty")
    pad_start = [max(-b, 0) for b in begin]
    pad_end = [max(b + t - f, 0) for b, t, f in zip(begin, target, full)]
    base = node.output[0]
    o = og * group
    bias = (np.asarray(ctx.const(node, 2), dtype=np.float32).reshape(o) if ctx.has_input(node, 2)
            else np.zeros(o, np.float32))
    # Columns outside the full result see only the bias: add it after padding in that case.
    bias_inside = not any(pad_start) and not any(pad_end)
    opts = {"padding": "VALID", "stride_h": strides[0], "stride_w": strides[1],
            "fused_activation_function": "NONE"}
    xin = ctx.to_nhwc(x)
    cg = c // group
    parts = [xin]
    if group > 1:
        parts = [ctx.tensor(f"{base}_group{g}_in", (n, h, wd, cg)) for g in range(group)]
        ctx.add_op("SPLIT", [i32(ctx, f"{base}_split_axis", 3), xin], parts,
                   {"num_splits": group})
    outs = []
    for g, part in enumerate(parts):
        sfx = f"{g}" if group > 1 else ""
        wg = w[g * cg:(g + 1) * cg].transpose(1, 2, 3, 0)  # (in, out, kh, kw) -> OHWI
        inputs = [i32(ctx, f"{base}_output_shape{sfx}", [n, *full, og]),
                  ctx.constant(f"{base}_weights{sfx}", wg), part]
        if bias_inside:
            inputs.append(ctx.constant(f"{base}_bias{sfx}", bias[g * og:(g + 1) * og]))
        outs.append(emit(ctx, "TRANSPOSE_CONV", inputs, (n, *full, og), options=opts,
                         base=f"{base}_full{sfx}"))
    y = outs[0] if group == 1 else emit(
        ctx, "CONCATENATION", outs, (n, *full, o),
        options={"axis": 3, "fused_activation_function": "NONE"}, base=f"{base}_full")
    y = pad_nhwc(ctx, y, pad_start, pad_end)
    offset = [b + p for b, p in zip(begin, pad_start)]
    if any(offset) or list(target) != list(y.shape[1:3]):
        y = emit(ctx, "SLICE", [y, i32(ctx, f"{base}_begin", [0, *offset, 0]),
                                i32(ctx, f"{base}_size", [n, *target, o])],
                 (n, *target, o), base=f"{base}_crop")
    if not bias_inside:
        y = emit(ctx, "ADD", [y, ctx.constant(f"{base}_bias", bias)], y.shape,
                 options={"fused_activation_function": "NONE"}, base=f"{base}_biased")
    y = ctx.to_nchw(y)
    if lifted:
        y = ctx.reshape(y, (n, o, target[1]))
    ctx.set_output(node, 0, y)
