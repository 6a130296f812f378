"""The version rules of operators: functions of an op giving the OperatorCode.version to write
(the table in `edgelite.tflite.ops` names each op's rule; `versions.op_version` applies it).

TFLite bumps an operator's version when it gains a feature (a tensor type, an option, more
dimensions); a runtime looks kernels up by (operator, version) and refuses versions it does not
register. We write the lowest version that covers what the op uses, following TFLite's
published versioning rules for the operators and types edgelite produces. TFLite Micro ignores
versions; LiteRT does not.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from edgelite import ir


def _in(op: ir.Op, i: int) -> ir.Tensor | None:
    return op.inputs[i] if i < len(op.inputs) else None


def _t(op: ir.Op, i: int) -> str | None:
    t = _in(op, i)
    return None if t is None else t.dtype


def _out(op: ir.Op, i: int = 0) -> str | None:
    return op.outputs[i].dtype if i < len(op.outputs) else None


def _rank(op: ir.Op, i: int = 0) -> int:
    t = _in(op, i)
    return 0 if t is None else len(t.shape)


def _opt(op: ir.Op, key: str, default: Any = None) -> Any:
    return op.options.get(key, default)


def _per_channel(t: ir.Tensor | None) -> bool:
    return t is not None and t.quant is not None and t.quant.per_channel


def _quantized_bias(op: ir.Op) -> bool:
    """quantized_bias_type set to something other than its default (FLOAT32 = 0)."""
    return op.options.get("quantized_bias_type", "FLOAT32") not in ("FLOAT32", "float32")


def _broadcast_over_4d(op: ir.Op) -> bool:
    ins = [t for t in op.inputs[:2] if t is not None]
    if len(ins) < 2:
        return False
    return ins[0].shape != ins[1].shape and max(len(t.shape) for t in ins) > 4


def by_type(int8: int, int16: int | None = None, uint8: int | None = None
              ) -> Callable[[ir.Op], int]:
    """The common rule: version by the first input's type."""

    def rule(op: ir.Op) -> int:
        t = _t(op, 0)
        if t == "int16" and int16 is not None:
            return int16
        if t == "int8":
            return int8
        if t == "uint8" and uint8 is not None:
            return uint8
        return 1

    return rule


def conv(op: ir.Op) -> int:
    x, w, y = _t(op, 0), _t(op, 1), _out(op)
    inp, flt = _in(op, 0), _in(op, 1)
    if x == "int16" and w == "int8" and y == "int16" and _quantized_bias(op):
        return 8
    if inp is not None and flt is not None and len(inp.shape) == 4 and len(flt.shape) == 4 \
            and inp.shape[3] != flt.shape[3]:
        return 6  # grouped convolution
    if x == "int16" and w == "int16":
        return 4
    if (x, w, y) == ("int8", "int8", "int8"):
        return 3
    if (x, w, y) == ("float32", "int8", "float32"):
        return 5 if _per_channel(flt) else 2
    return 1


def depthwise(op: ir.Op) -> int:
    x, w, y = _t(op, 0), _t(op, 1), _out(op)
    if x == "int16" and w == "int16":
        return 5
    if (x, w, y) == ("float32", "int8", "float32"):
        return 6 if _per_channel(_in(op, 1)) else 4
    if (x, w, y) == ("int8", "int8", "int8"):
        return 3
    if _opt(op, "dilation_w_factor", 1) != 1 or _opt(op, "dilation_h_factor", 1) != 1:
        return 2
    return 1


def fully_connected(op: ir.Op) -> int:
    x, w, y = _t(op, 0), _t(op, 1), _out(op)
    if (x, w, y) == ("float32", "int8", "float32") and _per_channel(_in(op, 1)):
        return 12
    if (x, w, y) == ("int16", "int8", "int16") and _quantized_bias(op):
        return 11
    if (x, w, y) == ("int16", "int16", "int16"):
        return 7
    # An absent bias (fewer than 3 inputs) needs version 6. An explicit -1 bias is what the
    # converters write and is understood from version 1.
    if len(op.inputs) == 2:
        return 6
    if _opt(op, "keep_num_dims", False):
        return 5
    if (x, w, y) == ("int8", "int8", "int8"):
        return 4
    if (x, w, y) == ("float32", "int8", "float32"):
        return 9 if _opt(op, "asymmetric_quantize_inputs", False) else 3
    if _opt(op, "weights_format", "DEFAULT") != "DEFAULT":
        return 2
    return 1


def mul(op: ir.Op) -> int:
    x = _t(op, 0)
    quantized = _in(op, 0) is not None and _in(op, 0).quant is not None  # type: ignore[union-attr]
    if (x == "int16" and not quantized) or x == "uint32":
        return 7
    if x == "int64":
        return 5
    if x == "int16":
        return 4
    a, b, y = _in(op, 0), _in(op, 1), op.outputs[0] if op.outputs else None
    if (a is not None and b is not None and y is not None and a.quant and b.quant and y.quant
            and float(a.quant.scale[0]) * float(b.quant.scale[0]) / float(y.quant.scale[0])
            >= 1.0):
        return 3
    return 2 if x == "int8" else 1


def add(op: ir.Op) -> int:
    x = _t(op, 0)
    quantized = _in(op, 0) is not None and _in(op, 0).quant is not None  # type: ignore[union-attr]
    if x == "int16" and not quantized:
        return 5
    if x == "int64":
        return 4
    if x == "int16" and _out(op) == "int16" and not _opt(op, "pot_scale_int16", True):
        return 3
    return 2 if x == "int8" else 1


def sub(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int16" and _out(op) == "int16" and not _opt(op, "pot_scale_int16", True):
        return 5
    if x == "int64":
        return 4
    if _broadcast_over_4d(op):
        return 3
    return 2 if x == "int8" else 1


def transpose(op: ir.Op) -> int:
    x, r = _t(op, 0), _rank(op)
    if r > 5:
        return 6
    if x == "int16":
        return 5
    if r > 4:
        return 4
    return {"bool": 3, "int8": 2}.get(x or "", 1)


def strided_slice(op: ir.Op) -> int:
    x = _t(op, 0)
    if _opt(op, "offset", False):
        return 8
    if x == "uint32":
        return 7
    if _opt(op, "ellipsis_mask", 0) or _opt(op, "new_axis_mask", 0):
        return 6
    if _rank(op) > 4:
        return 4
    return {"bool": 3, "int8": 2}.get(x or "", 1)


def slice_(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "uint32":
        return 6
    if _rank(op) > 4:
        return 5
    return {"int16": 4, "int8": 2}.get(x or "", 1)


def gather(op: ir.Op) -> int:
    if _t(op, 1) == "int16":
        return 6
    if _opt(op, "batch_dims", 0) != 0:
        return 5
    return {"int16": 4, "bool": 3, "int8": 2}.get(_t(op, 0) or "", 1)


def pad(op: ir.Op) -> int:
    if _rank(op) > 4:
        return 4
    return {"int16": 3, "int8": 2}.get(_t(op, 0) or "", 1)


def resize_bilinear(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int16":
        return 4
    if _opt(op, "half_pixel_centers", False):
        return 3
    return 2 if x == "int8" else 1


def resize_nearest(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int16":
        return 4
    if _opt(op, "half_pixel_centers", False) or _opt(op, "align_corners", False):
        return 3
    return 2 if x == "int8" else 1


def max_min(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int16" and _out(op) == "int16":
        return 4
    if _broadcast_over_4d(op):
        return 3
    return 2 if x == "int8" else 1


def split(op: ir.Op) -> int:
    return {"int16": 4, "int32": 3, "int8": 2}.get(_t(op, 1) or "", 1)  # input 0 is the axis


def unpack(op: ir.Op) -> int:
    x = _t(op, 0)
    if x in ("int8", "uint8"):
        return 2
    return {"bool": 3, "int16": 4}.get(x or "", 1)


def pack(op: ir.Op) -> int:
    return {"int8": 2, "int16": 3, "uint32": 4}.get(_t(op, 0) or "", 1)


def space_batch(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int16":
        return 4
    if _rank(op) != 4:
        return 3
    return 2 if x == "int8" else 1


def dequantize(op: ir.Op) -> int:
    x = _t(op, 0)
    if x in ("int16", "float16"):
        return 3
    if x == "int8":
        return 5 if _per_channel(_in(op, 0)) else 2
    return 1


def quantize(op: ir.Op) -> int:
    if op.outputs and _per_channel(op.outputs[0]):
        return 3
    return 2 if _out(op) == "int16" else 1


def abs_(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int32":
        return 5
    if x == "int16":
        return 3 if _in(op, 0).quant is not None else 4  # type: ignore[union-attr]
    return 2 if x in ("int8", "uint8") else 1


def cast(op: ir.Op) -> int:
    types = {_t(op, 0), _out(op)}
    if types & {"float64", "float16"}:
        return 5
    if "uint16" in types:
        return 4
    if "int8" in types:
        return 3
    if "uint32" in types:
        return 2
    return 1


def fill(op: ir.Op) -> int:
    v = _t(op, 1)
    if v == "float16":
        return 4
    if v in ("int8", "int16"):
        return 3
    return 2 if v == "bool" else 1


def batch_matmul(op: ir.Op) -> int:
    x = _t(op, 0)
    if x == "int16":
        return 3
    if x == "int8":
        return 2
    if (x, _t(op, 1), _out(op)) == ("float32", "int8", "float32") and \
            _opt(op, "asymmetric_quantize_inputs", False):
        return 4
    return 1


def transpose_conv(op: ir.Op) -> int:
    # Inputs: output_shape, weights, input, optional bias.
    if (_t(op, 2), _t(op, 1), _out(op)) == ("int16", "int8", "int16") and \
            _quantized_bias(op):
        return 5
    if _opt(op, "fused_activation_function", "NONE") != "NONE":
        return 4
    if len(op.inputs) == 4 and op.inputs[3] is not None:
        return 3
    return 2 if _t(op, 1) == "int8" else 1


def select(op: ir.Op) -> int:
    if _t(op, 0) == "uint32":
        return 4
    if any(len(t.shape) == 5 for t in op.inputs[:3] if t is not None):
        return 3
    return 2 if _t(op, 0) == "int8" else 1


def floor_div(op: ir.Op) -> int:
    return 3 if _t(op, 0) in ("int8", "int16") else (2 if _t(op, 0) == "float32" else 1)


def sigmoid_tanh(op: ir.Op) -> int:
    return 3 if (_t(op, 0), _out(op)) == ("int16", "int16") else by_type(2)(op)


def gather_nd(op: ir.Op) -> int:
    if _t(op, 0) == "bool":
        return 5
    return 4 if _t(op, 1) == "int16" else (3 if _t(op, 0) == "int16" else 1)


def by_input(versions: dict[str, int], default: int = 1, i: int = 0) -> Callable[[ir.Op], int]:
    """Version by input i's type from a table; ``default`` for the other types."""
    return lambda op: versions.get(_t(op, i) or "", default)


def by_output(versions: dict[str, int], default: int = 1) -> Callable[[ir.Op], int]:
    """Version by the output's type from a table; ``default`` for the other types."""
    return lambda op: versions.get(_out(op) or "", default)


def div(op: ir.Op) -> int:
    return 2 if _broadcast_over_4d(op) else 1


def concatenation(op: ir.Op) -> int:
    return 4 if _t(op, 0) == "uint32" else by_type(2, int16=3)(op)


def arg_max_min(op: ir.Op) -> int:
    return 3 if _t(op, 0) == "bool" else by_type(2)(op)
