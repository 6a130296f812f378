"""Custom ops found in published .tflite files, lowered to builtin ops when the file is read.

Each entry maps a ``custom_code`` to a function that checks the op (tensor counts, types,
shapes, the raw ``custom_options`` bytes) and returns the builtin ops that compute the same
thing. A check that fails is one EdgeliteError naming the operator and what is wrong.
"""

from __future__ import annotations

import struct
from collections.abc import Callable

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError

# Lowering(custom_options, inputs, outputs, op name, where) -> builtin ops
CustomLowering = Callable[[bytes, list, list, str, str], list[ir.Op]]

# TfLitePadding as MediaPipe's kernels store it in their raw option structs.
_PADDING = {1: "SAME", 2: "VALID"}


def _bad(where: str, name: str, what: str) -> EdgeliteError:
    return EdgeliteError(f"operator {name} (custom op Convolution2DTransposeBias): {what}",
                         where=where, code=Code.INVALID_MODEL,
                         hint="the file is corrupted or was not written by MediaPipe's tools")


def transpose_conv_bias_options(raw: bytes) -> tuple[str, int, int] | None:
    """MediaPipe's Convolution2DTransposeBias options: the 12-byte TfLiteTransposeConvParams
    struct (int32 padding 1 SAME / 2 VALID, int32 stride_width, int32 stride_height), little
    endian. None when the bytes are not that."""
    if len(raw) != 12:
        return None
    padding, stride_w, stride_h = struct.unpack("<3i", raw)
    if padding not in _PADDING or not 1 <= stride_w <= 1024 or not 1 <= stride_h <= 1024:
        return None
    return _PADDING[padding], stride_w, stride_h


def _transpose_conv_bias(raw: bytes, inputs: list, outputs: list, name: str,
                         where: str) -> list[ir.Op]:
    """MediaPipe's transposed convolution with bias: inputs (x NHWC, weights OHWI, bias [O]),
    the TFLite TRANSPOSE_CONV of the same padding and strides with the bias as its 4th input."""
    options = transpose_conv_bias_options(raw)
    if options is None:
        raise _bad(where, name, f"its {len(raw)} option bytes are not (padding 1|2, stride_w, "
                                "stride_h) as three little-endian int32")
    if len(inputs) != 3 or len(outputs) != 1 or any(t is None for t in inputs):
        raise _bad(where, name, f"has {len(inputs)} inputs and {len(outputs)} outputs, "
                                "expected 3 (input, weights, bias) and 1")
    x, w, b = inputs
    y = outputs[0]
    if any(t.dtype != "float32" for t in (x, w, b, y)):
        raise EdgeliteError(f"operator {name} (custom op Convolution2DTransposeBias) is not "
                            "float32; only the float form is read", where=where,
                            code=Code.UNSUPPORTED)
    if len(x.shape) != 4 or len(w.shape) != 4 or len(y.shape) != 4 or b.shape != (w.shape[0],):
        raise _bad(where, name, f"shapes x{list(x.shape)} weights{list(w.shape)} "
                                f"bias{list(b.shape)} -> {list(y.shape)} do not fit")
    if w.shape[3] != x.shape[3] or y.shape[3] != w.shape[0] or y.shape[0] != x.shape[0]:
        raise _bad(where, name, f"channels of x{list(x.shape)} weights{list(w.shape)} -> "
                                f"{list(y.shape)} do not fit")
    padding, stride_w, stride_h = options
    for axis, stride in ((1, stride_h), (2, stride_w)):
        k, n_in, n_out = w.shape[axis], x.shape[axis], y.shape[axis]
        # the forward conv of these strides must map the output back onto the input
        back = -(-n_out // stride) if padding == "SAME" else (n_out - k) // stride + 1
        if n_out < 1 or back != n_in or (padding == "VALID" and n_out < k):
            raise _bad(where, name, f"output {list(y.shape)} does not follow from input "
                                    f"{list(x.shape)}, kernel {k} and stride {stride}")
    shape = ir.const(f"{y.name}/output_shape", np.array(y.shape, np.int32))
    return [ir.Op("TRANSPOSE_CONV", [shape, w, x, b], [y],
                  {"padding": padding, "stride_w": stride_w, "stride_h": stride_h,
                   "fused_activation_function": "NONE"}, name=name)]


CUSTOM_OPS: dict[str, CustomLowering] = {
    "Convolution2DTransposeBias": _transpose_conv_bias,
}
