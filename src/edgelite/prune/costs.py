"""Multiply-accumulates and parameters of a model, per op and in total.

MACs are counted where nearly all of a CNN's arithmetic is: convolutions (full, depthwise,
transposed) and dense layers (FULLY_CONNECTED, BATCH_MATMUL): one MAC per weight per output
position. Parameters are the elements of constant tensors, except the small integer arguments
of shape ops (a RESHAPE's shape, a PAD's paddings, axes, perms...): int32/int64 constants
count only as biases. One function serves the IR (prune reports) and a read .tflite
(``inspect --json``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgelite import ir

BIAS_INPUT = {"CONV_2D": 2, "DEPTHWISE_CONV_2D": 2, "FULLY_CONNECTED": 2, "TRANSPOSE_CONV": 3,
              "CONV_3D": 2}


def _prod(shape: Sequence[int]) -> int:
    return int(np.prod(shape, dtype=np.int64)) if len(shape) else 1


def op_macs(op_type: str, in_shapes: Sequence[Sequence[int] | None],
            out_shapes: Sequence[Sequence[int]]) -> int:
    """MACs of one op from its input and output shapes (0 for ops without weights)."""
    if not out_shapes or len(in_shapes) < 2 or in_shapes[1] is None:
        return 0
    out = list(out_shapes[0])
    w = list(in_shapes[1])
    if op_type in ("CONV_2D", "CONV_3D"):
        if not out or not w:
            return 0
        # OHWI (2-D) / DHWIO (3-D): per output element, every weight of one filter.
        per_out = _prod(w[1:]) if op_type == "CONV_2D" else _prod(w[:-1])
        return _prod(out) * per_out
    if op_type == "DEPTHWISE_CONV_2D":
        return _prod(out) * _prod(w[1:3]) if len(w) == 4 else 0
    if op_type == "FULLY_CONNECTED":
        return _prod(out) * (w[-1] if w else 0)
    if op_type == "TRANSPOSE_CONV":
        x = in_shapes[2] if len(in_shapes) > 2 else None
        # inputs: output_shape, weights (OHWI), input: every input element meets a whole filter
        return _prod(x) * _prod(w[:3]) if x is not None and len(w) == 4 else 0
    if op_type == "BATCH_MATMUL":
        a = in_shapes[0]
        if a is None or not a:
            return 0
        return _prod(out) * a[-1]
    return 0


def _is_param(op_type: str, index: int, dtype: str | None) -> bool:
    if dtype in ("int32", "int64"):
        return BIAS_INPUT.get(op_type) == index
    return dtype is not None and dtype != "bool"


def graph_costs(graph: ir.Graph) -> tuple[int, int]:
    """(MACs, parameters) of an IR graph."""
    macs = sum(ir_op_macs(op) for op in graph.ops)
    counted: set[int] = set()
    params = 0
    for op in graph.ops:
        for i, t in enumerate(op.inputs):
            if t is not None and t.is_const and id(t) not in counted \
                    and _is_param(op.type, i, t.dtype):
                counted.add(id(t))
                params += t.size
    return macs, params


def ir_op_macs(op: ir.Op) -> int:
    return op_macs(op.type, [t.shape if t is not None else None for t in op.inputs],
                   [t.shape for t in op.outputs])


def ir_op_params(op: ir.Op) -> int:
    return sum(t.size for i, t in enumerate(op.inputs)
               if t is not None and t.is_const and _is_param(op.type, i, t.dtype))


def model_costs(info: object, subgraph: int = 0) -> tuple[int, int]:
    """(MACs, parameters) of a read .tflite (``reader.ModelInfo``), all subgraphs' ops for
    MACs of ``subgraph`` and every constant for parameters."""
    macs = 0
    params = 0
    counted: set[tuple[int, int]] = set()
    for si, sg in enumerate(info.subgraphs):  # type: ignore[attr-defined]
        tensors = sg.tensors
        for op in sg.operators:
            def shape(i: int) -> list[int] | None:
                return list(tensors[i].shape) if 0 <= i < len(tensors) else None

            if si == subgraph:
                outs = [s for s in (shape(i) for i in op.outputs) if s is not None]
                macs += op_macs(op.op, [shape(i) for i in op.inputs], outs)
            for k, i in enumerate(op.inputs):
                if not 0 <= i < len(tensors) or (si, i) in counted:
                    continue
                t = tensors[i]
                if t.nbytes and _is_param(op.op, k, t.dtype):
                    counted.add((si, i))
                    params += _prod(t.shape)
    return macs, params
