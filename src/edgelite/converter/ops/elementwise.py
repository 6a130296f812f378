"""Elementwise arithmetic, math, comparison and logic ops (numpy broadcasting)."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import (
    as_const_like, binary, broadcast_shape, emit, f32, reshape_to,
)
from edgelite.converter.ops.registry import LoweringContext, register

_FUSED = {"fused_activation_function": "NONE"}
_NUMERIC = ("float32", "int32", "int64")

# ONNX binary op -> (TFLite op, options, input dtypes).
_BINARY = {
    "Add": ("ADD", _FUSED, ("float32", "int32", "int64")),
    "Sub": ("SUB", _FUSED, ("float32", "int32", "int64")),
    "Mul": ("MUL", _FUSED, ("float32", "int32", "int64")),
    "Div": ("DIV", _FUSED, ("float32", "int32")),
    "Equal": ("EQUAL", None, ("float32", "int32", "int64", "bool")),
    "Less": ("LESS", None, _NUMERIC),
    "Greater": ("GREATER", None, _NUMERIC),
    "LessOrEqual": ("LESS_EQUAL", None, _NUMERIC),
    "GreaterOrEqual": ("GREATER_EQUAL", None, _NUMERIC),
    "And": ("LOGICAL_AND", None, ("bool",)),
    "Or": ("LOGICAL_OR", None, ("bool",)),
}
_COMPARE = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual"}

_BINARY_OPSETS = {"LessOrEqual": (12, 25), "GreaterOrEqual": (12, 25)}


def _make_binary(onnx_op: str, tfl_op: str, options: dict | None) -> None:
    def lower(ctx: LoweringContext, node: onnx.NodeProto) -> None:
        a, b = ctx.input(node, 0), ctx.input(node, 1)
        if int(ctx.attr(node, "broadcast", 0)) and ctx.attr(node, "axis") is not None:
            raise ctx.unsupported(node, "legacy broadcast with an axis (opset < 7) is not "
                                        "supported")
        b = as_const_like(ctx, b, a.dtype)
        out_dtype = "bool" if onnx_op in _COMPARE else a.dtype
        ctx.set_output(node, 0, binary(ctx, tfl_op, a, b, options, dtype=out_dtype))

    dtypes = _BINARY[onnx_op][2]
    register(onnx_op, opsets=_BINARY_OPSETS.get(onnx_op, (7, 25)), dtypes=dtypes,
             notes=f"{tfl_op} with numpy broadcasting")(lower)


for _op, (_tfl, _opts, _dt) in _BINARY.items():
    _make_binary(_op, _tfl, _opts)


@register("Pow", opsets=(7, 25),
          notes="POW (exponent cast to float32); a constant scalar exponent 2 -> MUL(x, x), "
                "0.5 -> SQRT")
def lower_pow(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    if b.dtype not in ("float32", "int32", "int64", "float16"):
        raise ctx.unsupported(node, f"exponent dtype {b.dtype} is not supported")
    # Decomposed LayerNorm/RMSNorm square with Pow(x, 2): MUL is cheaper and runs everywhere.
    if b.is_const and b.data.size == 1 and a.shape == broadcast_shape(ctx, node, a.shape, b.shape):
        e = float(b.data.reshape(()))
        if e == 2.0:
            ctx.set_output(node, 0, binary(ctx, "MUL", a, a, _FUSED))
            return
        if e == 0.5:
            ctx.set_output(node, 0, ctx.unary("SQRT", a))
            return
    b = as_const_like(ctx, b, "float32")
    ctx.set_output(node, 0, binary(ctx, "POW", a, b))


def _variadic(ctx: LoweringContext, node: onnx.NodeProto, op_type: str, options=None):
    ins = [ctx.input(node, i) for i in range(len(node.input)) if ctx.has_input(node, i)]
    y = ins[0]
    if len(ins) == 1:
        return reshape_to(ctx, node, y, y.shape)
    for t in ins[1:]:
        y = binary(ctx, op_type, y, as_const_like(ctx, t, y.dtype), options)
    return y


@register("Max", opsets=(6, 25), dtypes=("float32", "int32", "int64"),
          notes="variadic, chained MAXIMUM")
def lower_max(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, _variadic(ctx, node, "MAXIMUM"))


@register("Min", opsets=(6, 25), dtypes=("float32", "int32", "int64"),
          notes="variadic, chained MINIMUM")
def lower_min(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, _variadic(ctx, node, "MINIMUM"))


@register("Sum", opsets=(6, 25), notes="variadic, chained ADD")
def lower_sum(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, _variadic(ctx, node, "ADD", _FUSED))


@register("Mean", opsets=(6, 25), notes="variadic: chained ADD then MUL by 1/n")
def lower_mean(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    count = sum(1 for i in range(len(node.input)) if ctx.has_input(node, i))
    s = _variadic(ctx, node, "ADD", _FUSED)
    if count > 1:
        s = binary(ctx, "MUL", s, f32(ctx, f"{node.output[0]}_inv_n", 1.0 / count), _FUSED)
    ctx.set_output(node, 0, s)


# ONNX unary op -> (TFLite op, input dtypes).
_UNARY = {
    "Sqrt": ("SQRT", ("float32",)),
    "Neg": ("NEG", ("float32", "int32", "int64")),
    "Abs": ("ABS", ("float32", "int32")),
    "Exp": ("EXP", ("float32",)),
    "Log": ("LOG", ("float32",)),
    "Floor": ("FLOOR", ("float32",)),
    "Ceil": ("CEIL", ("float32",)),
    "Round": ("ROUND", ("float32",)),
    "Sin": ("SIN", ("float32",)),
    "Cos": ("COS", ("float32",)),
    "Not": ("LOGICAL_NOT", ("bool",)),
}
_UNARY_OPSETS = {"Round": (11, 25), "Sin": (7, 25), "Cos": (7, 25)}


def _make_unary(onnx_op: str, tfl_op: str, dtypes: tuple[str, ...]) -> None:
    def lower(ctx: LoweringContext, node: onnx.NodeProto) -> None:
        ctx.set_output(node, 0, ctx.unary(tfl_op, ctx.input(node, 0)))

    register(onnx_op, opsets=_UNARY_OPSETS.get(onnx_op, (6, 25)), dtypes=dtypes,
             notes=tfl_op)(lower)


for _op, (_tfl, _dt) in _UNARY.items():
    _make_unary(_op, _tfl, _dt)


@register("Reciprocal", opsets=(6, 25), notes="DIV(1, x)")
def lower_reciprocal(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    one = f32(ctx, f"{node.output[0]}_one", 1.0)
    ctx.set_output(node, 0, binary(ctx, "DIV", one, x, _FUSED))


@register("Where", opsets=(9, 25), dtypes=("bool",),
          notes="SELECT_V2 with broadcasting; condition bool")
def lower_where(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    cond, a, b = (ctx.input(node, i) for i in range(3))
    if a.dtype not in ("float32", "int32", "int64") or b.dtype != a.dtype:
        raise ctx.unsupported(node, f"value dtypes {a.dtype}/{b.dtype} are not supported")
    try:
        shape = tuple(np.broadcast_shapes(cond.shape, a.shape, b.shape))
    except ValueError:
        raise ctx.unsupported(node, f"input shapes {cond.shape}, {a.shape} and {b.shape} do "
                                    "not broadcast") from None
    ctx.set_output(node, 0, emit(ctx, "SELECT_V2", [cond, a, b], shape, a.dtype))


@register("Sign", opsets=(9, 25), dtypes=("float32", "int32"), notes="SIGN")
def lower_sign(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, ctx.unary("SIGN", ctx.input(node, 0)))


@register("Xor", opsets=(7, 25), dtypes=("bool",), notes="NOT_EQUAL on booleans")
def lower_xor(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    ctx.set_output(node, 0, binary(ctx, "NOT_EQUAL", a, b, dtype="bool"))


@register("IsNaN", opsets=(9, 25), notes="NOT_EQUAL(x, x)")
def lower_isnan(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    ctx.set_output(node, 0, binary(ctx, "NOT_EQUAL", x, x, dtype="bool"))


@register("IsInf", opsets=(10, 25), notes="EQUAL with +inf and/or -inf")
def lower_isinf(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    pos = bool(ctx.attr(node, "detect_positive", 1))
    neg = bool(ctx.attr(node, "detect_negative", 1))
    if not pos and not neg:
        raise ctx.unsupported(node, "detect_positive=0 and detect_negative=0 give a constant")
    if pos and neg:
        a = ctx.unary("ABS", x, base=f"{base}_abs")
        y = binary(ctx, "EQUAL", a, f32(ctx, f"{base}_inf", np.inf), dtype="bool")
    else:
        y = binary(ctx, "EQUAL", x, f32(ctx, f"{base}_inf", np.inf if pos else -np.inf),
                   dtype="bool")
    ctx.set_output(node, 0, y)


@register("Mod", opsets=(10, 25), dtypes=("int32", "int64"),
          notes="fmod=0 on integers -> FLOOR_MOD (result takes the divisor's sign); fmod=1 "
                "unsupported")
def lower_mod(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    if ctx.attr(node, "fmod", 0):
        raise ctx.unsupported(node, "fmod=1 (C fmod, sign of the dividend) has no TFLite op")
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    ctx.set_output(node, 0, binary(ctx, "FLOOR_MOD", a, as_const_like(ctx, b, a.dtype)))


def _one_minus_square_root(ctx: LoweringContext, x: ir.Tensor, base: str) -> ir.Tensor:
    sq = binary(ctx, "MUL", x, x, _FUSED, base=f"{base}_sq")
    return ctx.unary("SQRT", binary(ctx, "SUB", f32(ctx, f"{base}_one", 1.0), sq, _FUSED,
                                    base=f"{base}_1msq"), base=f"{base}_root")


@register("Asin", opsets=(7, 25), notes="ATAN2(x, SQRT(1 - x*x))")
def lower_asin(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    root = _one_minus_square_root(ctx, x, node.output[0])
    ctx.set_output(node, 0, emit(ctx, "ATAN2", [x, root], x.shape))


@register("Acos", opsets=(7, 25), notes="ATAN2(SQRT(1 - x*x), x)")
def lower_acos(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    root = _one_minus_square_root(ctx, x, node.output[0])
    ctx.set_output(node, 0, emit(ctx, "ATAN2", [root, x], x.shape))


@register("Atan", opsets=(7, 25), notes="ATAN2(x, 1)")
def lower_atan(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    ones = f32(ctx, f"{node.output[0]}_ones", np.ones(x.shape, np.float32))
    ctx.set_output(node, 0, emit(ctx, "ATAN2", [x, ones], x.shape))


@register("Tan", opsets=(7, 25), notes="SIN / COS")
def lower_tan(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    s = ctx.unary("SIN", x, base=f"{base}_sin")
    c = ctx.unary("COS", x, base=f"{base}_cos")
    ctx.set_output(node, 0, binary(ctx, "DIV", s, c, _FUSED))


def _exp_pair(ctx: LoweringContext, x: ir.Tensor, base: str) -> tuple[ir.Tensor, ir.Tensor]:
    return (ctx.unary("EXP", x, base=f"{base}_ep"),
            ctx.unary("EXP", ctx.unary("NEG", x, base=f"{base}_neg"), base=f"{base}_en"))


@register("Sinh", opsets=(9, 25), notes="(EXP(x) - EXP(-x)) / 2")
def lower_sinh(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    base = node.output[0]
    ep, en = _exp_pair(ctx, ctx.input(node, 0), base)
    d = binary(ctx, "SUB", ep, en, _FUSED, base=f"{base}_diff")
    ctx.set_output(node, 0, binary(ctx, "MUL", d, f32(ctx, f"{base}_half", 0.5), _FUSED))


@register("Cosh", opsets=(9, 25), notes="(EXP(x) + EXP(-x)) / 2")
def lower_cosh(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    base = node.output[0]
    ep, en = _exp_pair(ctx, ctx.input(node, 0), base)
    d = binary(ctx, "ADD", ep, en, _FUSED, base=f"{base}_sum")
    ctx.set_output(node, 0, binary(ctx, "MUL", d, f32(ctx, f"{base}_half", 0.5), _FUSED))


@register("Asinh", opsets=(9, 25), notes="SIGN(x) * LOG(|x| + SQRT(x*x + 1))")
def lower_asinh(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    ax = ctx.unary("ABS", x, base=f"{base}_abs")
    sq1 = binary(ctx, "ADD", binary(ctx, "MUL", x, x, _FUSED, base=f"{base}_sq"),
                 f32(ctx, f"{base}_one", 1.0), _FUSED, base=f"{base}_sq1")
    lg = ctx.unary("LOG", binary(ctx, "ADD", ax, ctx.unary("SQRT", sq1, base=f"{base}_root"),
                                 _FUSED, base=f"{base}_arg"), base=f"{base}_log")
    ctx.set_output(node, 0, binary(ctx, "MUL", ctx.unary("SIGN", x, base=f"{base}_sign"), lg,
                                   _FUSED))


@register("Acosh", opsets=(9, 25), notes="LOG(x + SQRT(x*x - 1))")
def lower_acosh(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    sq1 = binary(ctx, "SUB", binary(ctx, "MUL", x, x, _FUSED, base=f"{base}_sq"),
                 f32(ctx, f"{base}_one", 1.0), _FUSED, base=f"{base}_sqm1")
    arg = binary(ctx, "ADD", x, ctx.unary("SQRT", sq1, base=f"{base}_root"), _FUSED,
                 base=f"{base}_arg")
    ctx.set_output(node, 0, ctx.unary("LOG", arg))


@register("Atanh", opsets=(9, 25), notes="LOG((1 + x) / (1 - x)) / 2")
def lower_atanh(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    one = f32(ctx, f"{base}_one", 1.0)
    ratio = binary(ctx, "DIV", binary(ctx, "ADD", one, x, _FUSED, base=f"{base}_num"),
                   binary(ctx, "SUB", one, x, _FUSED, base=f"{base}_den"), _FUSED,
                   base=f"{base}_ratio")
    lg = ctx.unary("LOG", ratio, base=f"{base}_log")
    ctx.set_output(node, 0, binary(ctx, "MUL", lg, f32(ctx, f"{base}_half", 0.5), _FUSED))
