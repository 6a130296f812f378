"""Fuse RELU / RELU6 / RELU_N1_TO_1 (and MINIMUM/MAXIMUM clamps equal to them) into the op
that produces their input, via its ``fused_activation_function``."""

from __future__ import annotations

import math

from edgelite import ir
from edgelite.converter.passes._util import Index

INF = math.inf
RANGES = {"NONE": (-INF, INF), "RELU": (0.0, INF), "RELU6": (0.0, 6.0),
          "RELU_N1_TO_1": (-1.0, 1.0)}
NAMED = {v: k for k, v in RANGES.items()}
ACT_OPS = ("RELU", "RELU6", "RELU_N1_TO_1")
FUSABLE = {
    "CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV", "ADD", "SUB", "MUL",
    "DIV", "AVERAGE_POOL_2D", "MAX_POOL_2D", "L2_POOL_2D",
}


def _clamp(op: ir.Op) -> tuple[ir.Tensor, tuple[float, float]] | None:
    """(data input, range) if ``op`` clamps its input to a range, else None."""
    if len(op.outputs) != 1 or op.outputs[0].dtype != "float32" or op.outputs[0].quant:
        return None
    if op.type in ACT_OPS and op.inputs and op.inputs[0] is not None:
        return op.inputs[0], RANGES[op.type]
    if op.type in ("MAXIMUM", "MINIMUM") and len(op.inputs) == 2 and None not in op.inputs:
        a, b = op.inputs
        x, c = (a, b) if b.is_const else (b, a)
        if x.is_const or not c.is_const or c.size != 1 or x.shape != op.outputs[0].shape:
            return None
        v = float(c.data.reshape(-1)[0])
        return x, ((v, INF) if op.type == "MAXIMUM" else (-INF, v))
    return None


def _compose(inner: tuple[float, float], outer: tuple[float, float]) -> tuple[float, float] | None:
    lo, hi = max(inner[0], outer[0]), min(inner[1], outer[1])
    return (lo, hi) if lo <= hi else None


def _fuse_through_concat(ix: Index, concat: ir.Op, rng: tuple[float, float]) -> bool:
    """relu(concat(a, b)) == concat(relu(a), relu(b)): fuse into every producer, if each can
    take it (fusable, read only by the concatenation, combined clamp has a name)."""
    if concat.options.get("fused_activation_function", "NONE") != "NONE":
        return False
    plans = []
    for t in concat.inputs:
        prod = ix.producers.get(t) if t is not None else None
        if prod is None or prod.type not in FUSABLE or ix.single_consumer(t) is not concat:
            return False
        if len(prod.outputs) != 1 or t.quant is not None:
            return False
        current = prod.options.get("fused_activation_function", "NONE")
        total = _compose(RANGES[current], rng) if current in RANGES else None
        if total not in NAMED:
            return False
        plans.append((prod, NAMED[total]))
    for prod, act in plans:
        prod.options = {**prod.options, "fused_activation_function": act}
    return True


def fuse_activations(graph: ir.Graph) -> bool:
    ix = Index(graph)
    changed = False
    for op in graph.ops:
        if ix.removed(op):
            continue
        clamp = _clamp(op)
        if clamp is None:
            continue
        x, rng = clamp
        prod = ix.producers.get(x)
        if prod is not None and ix.single_consumer(x) is op and len(prod.outputs) == 1:
            inner = _clamp(prod)
            if inner is not None:
                # clamp after clamp: one clamp, if it has a name
                total = _compose(inner[1], rng)
                if total in NAMED and NAMED[total] != "NONE":
                    ix.remove(op)
                    prod.type, prod.options = NAMED[total], {}
                    ix.set_inputs(prod, [inner[0]])
                    ix.set_outputs(prod, list(op.outputs))
                    changed = True
                    continue
            elif prod.type == "CONCATENATION" and _fuse_through_concat(ix, prod, rng):
                ix.remove(op)
                ix.set_outputs(prod, list(op.outputs))
                changed = True
                continue
            elif prod.type in FUSABLE and x.quant is None:
                current = prod.options.get("fused_activation_function", "NONE")
                total = _compose(RANGES[current], rng) if current in RANGES else None
                if total in NAMED:
                    ix.remove(op)
                    prod.options = {**prod.options, "fused_activation_function": NAMED[total]}
                    ix.set_outputs(prod, list(op.outputs))
                    changed = True
                    continue
        if op.type in ("MAXIMUM", "MINIMUM") and rng in NAMED and NAMED[rng] != "NONE":
            # a lone max(x, 0) is a RELU: cheaper, and fusable later
            op.type, op.options = NAMED[rng], {}
            ix.set_inputs(op, [x])
            changed = True
    ix.commit()
    return changed
