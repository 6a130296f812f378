"""Empty tensors (a 0 in the shape) folded away.

Exporters leave them around control flow and shape arithmetic (onnx-tf squeezes an empty If
output, TensorFlow reshapes to a scalar with an empty shape vector). Their value is known
whatever the inputs hold (no elements), so: an op whose outputs are all empty becomes those
empty constants, a CONCATENATION drops its empty parts, and a RESHAPE whose shape vector is
empty (a scalar result) reads its shape from its output tensor instead. runtime_micro then
never sees an empty tensor that an op would touch.
"""

from __future__ import annotations

import numpy as np

from edgelite import ir


def _empty(t: ir.Tensor | None) -> bool:
    return t is not None and 0 in t.shape


def fold_empty_tensors(graph: ir.Graph) -> bool:
    outputs = {id(t) for t in graph.outputs}
    changed = False
    kept: list[ir.Op] = []
    for op in graph.ops:
        if (op.outputs and all(_empty(t) for t in op.outputs)
                and not any(id(t) in outputs for t in op.outputs)):
            for t in op.outputs:
                t.data = np.zeros(t.shape, dtype=t.dtype)
            changed = True
            continue
        if op.type == "CONCATENATION" and any(_empty(t) for t in op.inputs):
            parts = [t for t in op.inputs if not _empty(t)]
            if parts:
                op.inputs = parts
                changed = True
        if (op.type == "RESHAPE" and len(op.inputs) == 2 and _empty(op.inputs[1])
                and op.inputs[1].is_const and not op.outputs[0].shape):
            op.inputs = op.inputs[:1]
            op.options = {**op.options, "new_shape": []}
            changed = True
        kept.append(op)
    graph.ops = kept
    return changed
