"""Gemm and MatMul -> FULLY_CONNECTED (constant 2-D weights) or BATCH_MATMUL."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import binary, broadcast_shape, emit, f32, i32, reshape_to
from edgelite.converter.ops.registry import LoweringContext, register

_FUSED = {"fused_activation_function": "NONE"}


def fully_connected(ctx: LoweringContext, x: ir.Tensor, weights: np.ndarray,
                    bias: np.ndarray | None, base: str) -> ir.Tensor:
    """x (..., K) @ weights.T (N, K) + bias: FULLY_CONNECTED keeping the leading dims."""
    n = weights.shape[0]
    if bias is None:
        bias = np.zeros(n, np.float32)
    keep = len(x.shape) > 2
    shape = (*x.shape[:-1], n)
    return emit(ctx, "FULLY_CONNECTED",
                [x, ctx.constant(f"{base}_weights", weights.astype(np.float32)),
                 ctx.constant(f"{base}_bias", bias.astype(np.float32))], shape,
                options={**_FUSED, "keep_num_dims": keep}, base=base)


def batch_matmul(ctx: LoweringContext, a: ir.Tensor, b: ir.Tensor, adj_x: bool, adj_y: bool,
                 base: str) -> ir.Tensor:
    m = a.shape[-1] if adj_x else a.shape[-2]
    n = b.shape[-2] if adj_y else b.shape[-1]
    batch = broadcast_shape(ctx, ctx.node, a.shape[:-2], b.shape[:-2])
    return emit(ctx, "BATCH_MATMUL", [a, b], (*batch, m, n),
                options={"adj_x": adj_x, "adj_y": adj_y}, base=base)


@register("Gemm", opsets=(7, 25),
          notes="constant B -> FULLY_CONNECTED (alpha folded into weights, row-constant beta*C "
                "into bias); otherwise BATCH_MATMUL + MUL/ADD")
def lower_gemm(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    alpha = float(ctx.attr(node, "alpha", 1.0))
    beta = float(ctx.attr(node, "beta", 1.0))
    trans_a = bool(ctx.attr(node, "transA", 0))
    trans_b = bool(ctx.attr(node, "transB", 0))
    if len(a.shape) != 2 or len(b.shape) != 2:
        raise ctx.unsupported(node, f"Gemm needs 2-D A and B, got {a.shape} and {b.shape}")
    base = node.output[0]
    m = a.shape[1] if trans_a else a.shape[0]
    n = b.shape[0] if trans_b else b.shape[1]
    k_a, k_b = a.shape[0 if trans_a else 1], b.shape[1 if trans_b else 0]
    c = ctx.input(node, 2) if ctx.has_input(node, 2) else None
    try:
        if k_a != k_b:
            raise ValueError
        if c is not None and tuple(np.broadcast_shapes(c.shape, (m, n))) != (m, n):
            raise ValueError
    except ValueError:
        raise ctx.unsupported(node, f"A {list(a.shape)}, B {list(b.shape)}"
                                    + (f" and C {list(c.shape)}" if c is not None else "")
                                    + f" do not make a ({m}, {n}) product") from None
    bias: np.ndarray | None = None
    if c is not None and c.is_const:
        cval = np.broadcast_to(c.data.astype(np.float32) * np.float32(beta), (m, n))
        if np.all(cval == cval[:1]):
            bias, c = cval[0].copy(), None  # same for every row: it is a bias
    if b.is_const:
        if trans_a:
            a = ctx.transpose(a, (1, 0))
        w = b.data.astype(np.float32)
        w = (w if trans_b else w.T) * np.float32(alpha)
        y = fully_connected(ctx, a, w, bias, base if c is None else f"{base}_fc")
    else:
        y = batch_matmul(ctx, a, b, trans_a, trans_b, f"{base}_mm")
        if alpha != 1.0:
            y = binary(ctx, "MUL", y, f32(ctx, f"{base}_alpha", alpha), _FUSED, base=f"{base}_a")
        if bias is not None:
            y = binary(ctx, "ADD", y, f32(ctx, f"{base}_bias", bias), _FUSED,
                       base=base if c is None else f"{base}_b")
    if c is not None:
        if c.is_const:
            cc = f32(ctx, f"{base}_c", c.data.astype(np.float32) * np.float32(beta))
        else:
            cc = c
            if beta != 1.0:
                cc = binary(ctx, "MUL", c, f32(ctx, f"{base}_beta", beta), _FUSED,
                            base=f"{base}_betac")
        y = binary(ctx, "ADD", y, cc, _FUSED)
    ctx.set_output(node, 0, y)


@register("MatMul", opsets=(1, 25),
          notes="constant 2-D B -> FULLY_CONNECTED (keep_num_dims), else BATCH_MATMUL with "
                "broadcast batch dims; 1-D operands as in numpy")
def lower_matmul(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    a, b = ctx.input(node, 0), ctx.input(node, 1)
    base = node.output[0]
    if not a.shape or not b.shape:
        raise ctx.unsupported(node, "scalar operands are not valid for MatMul")
    a_vec, b_vec = len(a.shape) == 1, len(b.shape) == 1
    if a_vec:
        a = ctx.reshape(a, (1, a.shape[0]))
    if b_vec:
        b = (ctx.constant(f"{base}_rhs", b.data.reshape(-1, 1)) if b.is_const
             else ctx.reshape(b, (b.shape[0], 1)))
    if a.shape[-1] != b.shape[-2]:
        raise ctx.unsupported(node, f"inner dimensions of {a.shape} and {b.shape} differ")
    if b.is_const and len(b.shape) == 2:
        y = fully_connected(ctx, a, b.data.astype(np.float32).T, None, f"{base}_mm")
    else:
        y = batch_matmul(ctx, a, b, False, False, f"{base}_mm")
    out = list(y.shape)
    if b_vec:
        out.pop(-1)
    if a_vec:
        out.pop(-2 if not b_vec else -1)
    ctx.set_output(node, 0, ctx.reshape(y, tuple(out)))


def _einsum_terms(ctx: LoweringContext, node: onnx.NodeProto, count: int) -> tuple[list[str], str]:
    eq = str(ctx.attr(node, "equation")).replace(" ", "")
    if "..." in eq:
        raise ctx.unsupported(node, f"equation {eq!r}: ellipsis is not supported")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != count or count > 2:
        raise ctx.unsupported(node, f"equation {eq!r}: only one or two operands are supported")
    if not arrow:  # implicit output: the letters used once, in alphabetical order
        rhs = "".join(sorted(c for c in set(lhs) if c != "," and lhs.count(c) == 1))
    for t in [*terms, rhs]:
        if len(set(t)) != len(t):
            raise ctx.unsupported(node, f"equation {eq!r}: a repeated index (diagonal) is not "
                                        "supported")
    if not set(rhs) <= set("".join(terms)):
        raise ctx.unsupported(node, f"equation {eq!r}: output index not in any operand")
    return terms, rhs


@register("Einsum", opsets=(12, 25),
          notes="one or two operands, no ellipsis or diagonals: SUM over private indices, "
                "then TRANSPOSE/RESHAPE into one BATCH_MATMUL and back")
def lower_einsum(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    xs = [ctx.input(node, i) for i in range(len(node.input))]
    terms, rhs = _einsum_terms(ctx, node, len(xs))
    base = node.output[0]
    size: dict[str, int] = {}
    for x, t in zip(xs, terms):
        if len(t) != len(x.shape):
            raise ctx.unsupported(node, f"term {t!r} does not match input shape {x.shape}")
        for c, d in zip(t, x.shape):
            if size.setdefault(c, d) != d:
                raise ctx.unsupported(node, f"index {c!r} has sizes {size[c]} and {d}")
    # Indices only one operand has and the output drops are summed away first.
    for i, (x, t) in enumerate(zip(xs, terms)):
        others = "".join(terms[:i] + terms[i + 1:]) + rhs
        drop = [k for k, c in enumerate(t) if c not in others]
        if drop:
            kept = "".join(c for c in t if c in others)
            xs[i] = emit(ctx, "SUM", [x, i32(ctx, f"{base}_sum{i}_axes", drop)],
                         [size[c] for c in kept], options={"keep_dims": False},
                         base=f"{base}_sum{i}")
            terms[i] = kept

    def arrange(x: ir.Tensor, t: str, order: str) -> ir.Tensor:
        return ctx.transpose(x, tuple(t.index(c) for c in order))

    if len(xs) == 1:
        y = arrange(xs[0], terms[0], rhs)
        ctx.set_output(node, 0, reshape_to(ctx, node, y, y.shape))
        return
    (a, b), (ta, tb) = xs, terms
    batch = [c for c in ta if c in tb and c in rhs]
    contract = [c for c in ta if c in tb and c not in rhs]
    a_kept = [c for c in ta if c not in tb]
    b_kept = [c for c in tb if c not in ta]

    def prod(letters: list[str]) -> int:
        return int(np.prod([size[c] for c in letters], dtype=np.int64))

    a3 = ctx.reshape(arrange(a, ta, "".join(batch + a_kept + contract)),
                     (prod(batch), prod(a_kept), prod(contract)))
    b3 = ctx.reshape(arrange(b, tb, "".join(batch + contract + b_kept)),
                     (prod(batch), prod(contract), prod(b_kept)))
    y = batch_matmul(ctx, a3, b3, False, False, f"{base}_mm")
    order = batch + a_kept + b_kept
    y = ctx.reshape(y, tuple(size[c] for c in order))
    y = arrange(y, "".join(order), rhs)
    ctx.set_output(node, 0, reshape_to(ctx, node, y, y.shape))
