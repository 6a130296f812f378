"""Gemm and MatMul -> FULLY_CONNECTED (constant 2-D weights) or BATCH_MATMUL."""

from __future__ import annotations

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import binary, broadcast_shape, emit, f32
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
    c = ctx.input(node, 2) if ctx.has_input(node, 2) else None
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
