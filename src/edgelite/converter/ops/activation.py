"""Activations (Relu/Clip family, sigmoid-likes, ELU family, Shrink...), Softmax/LogSoftmax,
Gelu, and Erf."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import FLOAT_MAX, binary, emit, f32, norm_axis, reshape_to
from edgelite.converter.ops.registry import LoweringContext, register

_FUSED = {"fused_activation_function": "NONE"}


@register("Relu", opsets=(6, 25), notes="RELU")
def lower_relu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, ctx.unary("RELU", ctx.input(node, 0)))


def clamp(ctx: LoweringContext, x: ir.Tensor, lo: float | None, hi: float | None,
          base: str) -> ir.Tensor:
    """x clamped to [lo, hi]: RELU / RELU6 / RELU_N1_TO_1 when the bounds match, else MAX/MIN."""
    lo = None if lo is None or lo <= -FLOAT_MAX else float(lo)
    hi = None if hi is None or hi >= FLOAT_MAX else float(hi)
    named = {(0.0, None): "RELU", (0.0, 6.0): "RELU6", (-1.0, 1.0): "RELU_N1_TO_1"}
    if (lo, hi) in named:
        return ctx.unary(named[(lo, hi)], x, base=base)
    y = x
    if lo is not None:
        y = binary(ctx, "MAXIMUM", y, f32(ctx, f"{base}_min", lo), base=base)
    if hi is not None:
        y = binary(ctx, "MINIMUM", y, f32(ctx, f"{base}_max", hi), base=base)
    if y is x:  # no bounds
        y = reshape_to(ctx, ctx.node, x, x.shape)
    return y


@register("Clip", opsets=(6, 25), const_inputs=(1, 2),
          notes="bounds as attributes (opset < 11) or constant inputs; (0,6) -> RELU6, "
                "(0,inf) -> RELU, (-1,1) -> RELU_N1_TO_1, else MAXIMUM/MINIMUM")
def lower_clip(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    if ctx.opset < 11:
        lo, hi = ctx.attr(node, "min", None), ctx.attr(node, "max", None)
    else:
        lo = float(np.asarray(ctx.const(node, 1)).reshape(())) if ctx.has_input(node, 1) else None
        hi = float(np.asarray(ctx.const(node, 2)).reshape(())) if ctx.has_input(node, 2) else None
    if lo is not None and hi is not None and lo > hi:
        # ONNX: min > max sets everything to max.
        lo = hi
    ctx.set_output(node, 0, clamp(ctx, x, lo, hi, node.output[0]))


@register("LeakyRelu", opsets=(6, 25), notes="LEAKY_RELU")
def lower_leaky_relu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    alpha = float(ctx.attr(node, "alpha", 0.01))
    ctx.set_output(node, 0, ctx.unary("LEAKY_RELU", ctx.input(node, 0), {"alpha": alpha}))


@register("PRelu", opsets=(6, 25), notes="PRELU with a broadcast slope")
def lower_prelu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x, slope = ctx.input(node, 0), ctx.input(node, 1)
    ctx.set_output(node, 0, binary(ctx, "PRELU", x, slope))


@register("Sigmoid", opsets=(6, 25), notes="LOGISTIC")
def lower_sigmoid(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, ctx.unary("LOGISTIC", ctx.input(node, 0)))


@register("Tanh", opsets=(6, 25), notes="TANH")
def lower_tanh(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, ctx.unary("TANH", ctx.input(node, 0)))


@register("HardSigmoid", opsets=(6, 25), notes="MUL, ADD, clamp to [0, 1]")
def lower_hard_sigmoid(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    alpha = float(ctx.attr(node, "alpha", 0.2))
    beta = float(ctx.attr(node, "beta", 0.5))
    y = binary(ctx, "MUL", x, f32(ctx, f"{base}_alpha", alpha), _FUSED, base=f"{base}_ax")
    y = binary(ctx, "ADD", y, f32(ctx, f"{base}_beta", beta), _FUSED, base=f"{base}_axb")
    ctx.set_output(node, 0, clamp(ctx, y, 0.0, 1.0, base))


@register("HardSwish", opsets=(14, 25), notes="HARD_SWISH")
def lower_hard_swish(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    ctx.set_output(node, 0, ctx.unary("HARD_SWISH", ctx.input(node, 0)))


@register("Elu", opsets=(6, 25),
          notes="ELU for alpha 1; otherwise relu(x) + alpha*(exp(min(x,0))-1)")
def lower_elu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    alpha = float(ctx.attr(node, "alpha", 1.0))
    if alpha == 1.0:
        ctx.set_output(node, 0, ctx.unary("ELU", x))
        return
    y = _elu_like(ctx, x, alpha, node.output[0])
    ctx.set_output(node, 0, y)


@register("Softplus", opsets=(6, 25), notes="LOG(EXP(x) + 1)")
def lower_softplus(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    e = ctx.unary("EXP", x, base=f"{base}_exp")
    e1 = binary(ctx, "ADD", e, f32(ctx, f"{base}_one", 1.0), _FUSED, base=f"{base}_exp1")
    ctx.set_output(node, 0, ctx.unary("LOG", e1))


@register("Softsign", opsets=(6, 25), notes="x / (1 + |x|)")
def lower_softsign(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    a = ctx.unary("ABS", x, base=f"{base}_abs")
    a1 = binary(ctx, "ADD", a, f32(ctx, f"{base}_one", 1.0), _FUSED, base=f"{base}_abs1")
    ctx.set_output(node, 0, binary(ctx, "DIV", x, a1, _FUSED))


def _softmax(ctx: LoweringContext, node: onnx.NodeProto, op_type: str) -> None:
    x = ctx.input(node, 0)
    r = len(x.shape)
    base = node.output[0]
    opts = {"beta": 1.0} if op_type == "SOFTMAX" else {}
    if r == 0:
        raise ctx.unsupported(node, "a scalar input has no axis to normalize")
    if ctx.opset < 13:
        # Old semantics: flatten to 2-D at axis, normalize each row.
        axis = norm_axis(ctx, node, ctx.attr(node, "axis", 1), r)
        rows = int(np.prod(x.shape[:axis], dtype=np.int64))
        flat = ctx.reshape(x, (rows, int(np.prod(x.shape[axis:], dtype=np.int64))))
        y = emit(ctx, op_type, [flat], flat.shape, options=opts, base=f"{base}_2d")
        ctx.set_output(node, 0, ctx.reshape(y, x.shape))
        return
    axis = norm_axis(ctx, node, ctx.attr(node, "axis", -1), r)
    if axis == r - 1:
        ctx.set_output(node, 0, emit(ctx, op_type, [x], x.shape, options=opts))
        return
    perm = [*range(axis), *range(axis + 1, r), axis]
    inv = list(np.argsort(perm))
    xt = ctx.transpose(x, tuple(perm))
    y = emit(ctx, op_type, [xt], xt.shape, options=opts, base=f"{base}_last")
    ctx.set_output(node, 0, ctx.transpose(y, tuple(int(i) for i in inv)))


@register("Softmax", opsets=(1, 25),
          notes="SOFTMAX on the last axis; opset < 13 flattens to 2-D at axis, >= 13 moves "
                "axis last")
def lower_softmax(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _softmax(ctx, node, "SOFTMAX")


@register("LogSoftmax", opsets=(1, 25), notes="LOG_SOFTMAX, same axis handling as Softmax")
def lower_log_softmax(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    _softmax(ctx, node, "LOG_SOFTMAX")


@register("Gelu", opsets=(1, 25),
          notes="GELU (approximate='tanh' -> approximate=True); the op is opset 20+, and the "
                "reader fuses the erf pattern into it at any opset (ops.gelu)")
def lower_gelu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    approx = ctx.attr(node, "approximate", "none")
    if approx not in ("none", "tanh"):
        raise ctx.unsupported(node, f"approximate={approx!r} is not a valid value")
    ctx.set_output(node, 0, ctx.unary("GELU", ctx.input(node, 0),
                                      {"approximate": approx == "tanh"}))


def _elu_like(ctx: LoweringContext, x: ir.Tensor, alpha: float, base: str,
              inner: float = 1.0) -> ir.Tensor:
    """relu(x) + alpha * (exp(min(x, 0) * inner) - 1): ELU, and SELU/CELU before scaling."""
    neg = binary(ctx, "MINIMUM", x, f32(ctx, f"{base}_zero", 0.0), base=f"{base}_neg")
    if inner != 1.0:
        neg = binary(ctx, "MUL", neg, f32(ctx, f"{base}_inner", inner), _FUSED,
                     base=f"{base}_negs")
    e = ctx.unary("EXP", neg, base=f"{base}_exp")
    em1 = binary(ctx, "SUB", e, f32(ctx, f"{base}_one", 1.0), _FUSED, base=f"{base}_expm1")
    scaled = binary(ctx, "MUL", em1, f32(ctx, f"{base}_alpha", alpha), _FUSED, base=f"{base}_sc")
    pos = ctx.unary("RELU", x, base=f"{base}_pos")
    return binary(ctx, "ADD", pos, scaled, _FUSED, base=f"{base}_elu")


@register("Selu", opsets=(6, 25), notes="gamma * (relu(x) + alpha*(exp(min(x,0))-1))")
def lower_selu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    alpha = float(ctx.attr(node, "alpha", 1.67326319217681884765625))
    gamma = float(ctx.attr(node, "gamma", 1.05070102214813232421875))
    y = _elu_like(ctx, x, alpha, base)
    ctx.set_output(node, 0, binary(ctx, "MUL", y, f32(ctx, f"{base}_gamma", gamma), _FUSED))


@register("Celu", opsets=(12, 25), notes="relu(x) + alpha*(exp(min(x,0)/alpha)-1)")
def lower_celu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    alpha = float(ctx.attr(node, "alpha", 1.0))
    if alpha == 0.0:
        raise ctx.unsupported(node, "alpha=0 is invalid (division by zero)")
    ctx.set_output(node, 0, _elu_like(ctx, ctx.input(node, 0), alpha, node.output[0],
                                      inner=1.0 / alpha))


@register("ThresholdedRelu", opsets=(10, 25), notes="SELECT_V2(x > alpha, x, 0)")
def lower_thresholded_relu(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    alpha = float(ctx.attr(node, "alpha", 1.0))
    cond = binary(ctx, "GREATER", x, f32(ctx, f"{base}_alpha", alpha), dtype="bool",
                  base=f"{base}_mask")
    zero = f32(ctx, f"{base}_zero", np.zeros(1, np.float32))
    ctx.set_output(node, 0, emit(ctx, "SELECT_V2", [cond, x, zero], x.shape))


@register("Mish", opsets=(18, 25), notes="x * tanh(log(exp(x) + 1))")
def lower_mish(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    e = ctx.unary("EXP", x, base=f"{base}_exp")
    sp = ctx.unary("LOG", binary(ctx, "ADD", e, f32(ctx, f"{base}_one", 1.0), _FUSED,
                                 base=f"{base}_exp1"), base=f"{base}_softplus")
    t = ctx.unary("TANH", sp, base=f"{base}_tanh")
    ctx.set_output(node, 0, binary(ctx, "MUL", x, t, _FUSED))


# Abramowitz & Stegun 7.1.26: |error| <= 1.5e-7 over the whole real line.
_ERF_P = 0.3275911
_ERF_A = (0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429)


@register("Erf", opsets=(9, 25),
          notes="no TFLite op: sign(x) * (1 - poly(t) * exp(-x^2)), t = 1/(1 + p|x|) "
                "(Abramowitz-Stegun 7.1.26, |error| <= 1.5e-7); the GELU pattern around an "
                "Erf becomes one GELU instead")
def lower_erf(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]

    def c(name: str, v: float) -> ir.Tensor:
        return f32(ctx, f"{base}_{name}", v)

    ax = ctx.unary("ABS", x, base=f"{base}_abs")
    den = binary(ctx, "ADD", binary(ctx, "MUL", ax, c("p", _ERF_P), _FUSED, base=f"{base}_px"),
                 c("one", 1.0), _FUSED, base=f"{base}_den")
    t = binary(ctx, "DIV", c("one_n", 1.0), den, _FUSED, base=f"{base}_t")
    poly = binary(ctx, "MUL", t, c("a5", _ERF_A[4]), _FUSED, base=f"{base}_h5")
    for k in (3, 2, 1, 0):  # Horner: (((a5 t + a4) t + a3) t + a2) t + a1, then * t
        poly = binary(ctx, "ADD", poly, c(f"a{k + 1}", _ERF_A[k]), _FUSED, base=f"{base}_s{k}")
        poly = binary(ctx, "MUL", poly, t, _FUSED, base=f"{base}_h{k}")
    sq = binary(ctx, "MUL", x, x, _FUSED, base=f"{base}_sq")
    gauss = ctx.unary("EXP", ctx.unary("NEG", sq, base=f"{base}_negsq"), base=f"{base}_gauss")
    tail = binary(ctx, "MUL", poly, gauss, _FUSED, base=f"{base}_tail")
    mag = binary(ctx, "SUB", c("one_m", 1.0), tail, _FUSED, base=f"{base}_mag")
    sign = ctx.unary("SIGN", x, base=f"{base}_sign")
    ctx.set_output(node, 0, binary(ctx, "MUL", sign, mag, _FUSED))


@register("Shrink", opsets=(9, 25),
          notes="SELECT_V2(x < -lambd, x + bias, SELECT_V2(x > lambd, x - bias, 0))")
def lower_shrink(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    x = ctx.input(node, 0)
    base = node.output[0]
    lambd = float(ctx.attr(node, "lambd", 0.5))
    bias = float(ctx.attr(node, "bias", 0.0))
    low = binary(ctx, "LESS", x, f32(ctx, f"{base}_neg_lambd", -lambd), dtype="bool",
                 base=f"{base}_low")
    high = binary(ctx, "GREATER", x, f32(ctx, f"{base}_lambd", lambd), dtype="bool",
                  base=f"{base}_high")
    b = f32(ctx, f"{base}_bias", bias)
    up = binary(ctx, "ADD", x, b, _FUSED, base=f"{base}_up")
    down = binary(ctx, "SUB", x, b, _FUSED, base=f"{base}_down")
    zero = f32(ctx, f"{base}_zero", np.zeros(1, np.float32))
    inner = emit(ctx, "SELECT_V2", [high, down, zero], x.shape, base=f"{base}_inner")
    ctx.set_output(node, 0, emit(ctx, "SELECT_V2", [low, up, inner], x.shape))
