"""Window geometry shared by convolutions and pools: ONNX padding -> TFLite padding
(SAME/VALID, or explicit PAD + VALID)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import emit, i32
from edgelite.converter.ops.registry import LoweringContext


@dataclass
class Window:
    kernel: list[int]
    strides: list[int]
    dilations: list[int]
    pads_begin: list[int]
    pads_end: list[int]
    out: list[int]  # output spatial size

    def end_needed(self, spatial_in: list[int]) -> list[int]:
        """End padding the windows actually read (ceil_mode can read past ``pads_end``)."""
        return [max((o - 1) * s + e - n - b, 0) for o, s, e, n, b in zip(
            self.out, self.strides, self.effective, spatial_in, self.pads_begin)]

    def tflite_padding(self, spatial_in: list[int]) -> str | None:
        """"SAME"/"VALID" if TFLite's rule places the same windows, else None.

        Windows start at ``i * stride - pads_begin``; so equal output size and equal begin pad
        mean equal windows whatever the end pad says.
        """
        if all(p == 0 for p in self.pads_begin + self.end_needed(spatial_in)) and all(
            o == (n - e) // s + 1
            for o, n, e, s in zip(self.out, spatial_in, self.effective, self.strides)
        ):
            return "VALID"
        for n, s, e, pb, o in zip(spatial_in, self.strides, self.effective, self.pads_begin,
                                  self.out):
            same_out = -(-n // s)
            total = max((same_out - 1) * s + e - n, 0)
            if o != same_out or pb != total // 2:
                return None
        return "SAME"

    @property
    def effective(self) -> list[int]:
        return [(k - 1) * d + 1 for k, d in zip(self.kernel, self.dilations)]


def same_pads(n: int, k_eff: int, s: int, lower: bool) -> tuple[int, int]:
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    small = total // 2
    return (total - small, small) if lower else (small, total - small)


def window(ctx: LoweringContext, node: onnx.NodeProto, spatial_in: list[int],
           kernel: list[int], *, ceil_mode: bool = False) -> Window:
    """The window of a Conv/Pool node: kernel, strides, dilations, resolved pads, output size."""
    r = len(spatial_in)
    strides = list(ctx.attr(node, "strides", [1] * r))
    dilations = list(ctx.attr(node, "dilations", [1] * r))
    if len(strides) != r or len(dilations) != r:
        raise ctx.unsupported(node, f"strides/dilations must have {r} entries")
    effective = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    auto_pad = ctx.attr(node, "auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pairs = [same_pads(n, e, s, auto_pad == "SAME_LOWER")
                 for n, e, s in zip(spatial_in, effective, strides)]
        pb, pe = [p[0] for p in pairs], [p[1] for p in pairs]
        out = [-(-n // s) for n, s in zip(spatial_in, strides)]
        return Window(list(kernel), strides, dilations, pb, pe, out)
    if auto_pad == "VALID":
        pb, pe = [0] * r, [0] * r
    elif auto_pad in ("NOTSET", ""):
        pads = list(ctx.attr(node, "pads", [0] * (2 * r)))
        if len(pads) != 2 * r:
            raise ctx.unsupported(node, f"pads must have {2 * r} entries, got {pads}")
        pb, pe = pads[:r], pads[r:]
        if any(p < 0 for p in pads):
            raise ctx.unsupported(node, f"negative pads {pads} are not supported")
    else:
        raise ctx.unsupported(node, f"auto_pad {auto_pad!r} is not a valid value")
    out = []
    for n, e, s, b, en in zip(spatial_in, effective, strides, pb, pe):
        span = n + b + en - e
        if span < 0:
            raise ctx.unsupported(
                node, f"kernel extent {e} is larger than the padded input {n + b + en}")
        o = (math.ceil(span / s) if ceil_mode else span // s) + 1
        # ONNX drops a last window that would start inside the end padding only.
        if ceil_mode and (o - 1) * s >= n + b:
            o -= 1
        out.append(o)
    return Window(list(kernel), strides, dilations, pb, pe, out)


def lift_attrs_1d(node: onnx.NodeProto) -> onnx.NodeProto:
    """A copy of a 1-D conv/pool node whose window attributes gain a leading height of 1.

    1-D convolutions and pools run as 2-D ops on (N, C, 1, L).
    """
    lifted = onnx.NodeProto()
    lifted.CopyFrom(node)
    del lifted.attribute[:]
    for a in node.attribute:
        v = onnx.helper.get_attribute_value(a)
        if a.name in ("strides", "dilations", "kernel_shape", "output_shape"):
            v = [1, *v]
        elif a.name == "output_padding":
            v = [0, *v]
        elif a.name == "pads":
            v = [0, v[0], 0, v[1]]
        lifted.attribute.append(onnx.helper.make_attribute(a.name, v))
    return lifted


def pad_nhwc(ctx: LoweringContext, x: ir.Tensor, begin: list[int], end: list[int],
             value: float = 0.0) -> ir.Tensor:
    """Explicit spatial padding of an NHWC tensor (PAD for zeros, PADV2 otherwise)."""
    if not any(begin) and not any(end):
        return x
    paddings = [[0, 0]] + [[b, e] for b, e in zip(begin, end)] + [[0, 0]]
    shape = (x.shape[0], *(d + b + e for d, b, e in zip(x.shape[1:-1], begin, end)), x.shape[-1])
    pads = i32(ctx, f"{x.name}_paddings", paddings)
    if value == 0.0:
        return emit(ctx, "PAD", [x, pads], shape, x.dtype, base=f"{x.name}_pad")
    fill = ctx.constant(f"{x.name}_pad_value", np.array(value, dtype=np.float32))
    return emit(ctx, "PADV2", [x, pads, fill], shape, x.dtype, base=f"{x.name}_pad")


def padded_input(ctx: LoweringContext, x_nhwc: ir.Tensor, win: Window, spatial: list[int],
                 value: float = 0.0) -> tuple[ir.Tensor, str]:
    """The NHWC input and TFLite padding that reproduce ``win``: SAME/VALID, else PAD + VALID."""
    padding = win.tflite_padding(spatial)
    if padding is not None:
        return x_nhwc, padding
    return pad_nhwc(ctx, x_nhwc, win.pads_begin, win.end_needed(spatial), value), "VALID"
