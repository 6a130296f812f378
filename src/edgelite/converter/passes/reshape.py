"""Move RESHAPEs below elementwise ops, so they meet (and fold with) the next RESHAPE and the
activation after a convolution reaches it to be fused.

A 1-D convolution lowers to RESHAPE -> CONV_2D -> RESHAPE: without this pass the RELU after it
sits between two RESHAPEs, unfused, and neither RESHAPE goes away.
"""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import RESHAPE_LIKE, Index, Namer, new_const
from edgelite.converter.passes.sinking import BINARY, UNARY


def _reshape_source(ix: Index, t: ir.Tensor, reader: ir.Op) -> ir.Tensor | None:
    """x if t == reshape(x) and ``reader`` is t's only reader."""
    prod = ix.producers.get(t)
    if prod is None or prod.type not in RESHAPE_LIKE or prod.inputs[0] is None:
        return None
    if ix.single_consumer(t) is not reader or prod.inputs[0].quant is not None:
        return None
    return prod.inputs[0]


def sink_reshapes(graph: ir.Graph) -> bool:
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        if ix.removed(op) or len(op.outputs) != 1 or op.outputs[0].quant is not None:
            continue
        z = op.outputs[0]
        if op.type in UNARY:
            if len(op.inputs) != 1 or op.inputs[0] is None:
                continue
            sources = [_reshape_source(ix, op.inputs[0], op)]
        elif op.type in BINARY and len(op.inputs) == 2 and None not in op.inputs:
            sources = []
            for t in op.inputs:
                if t.is_const and t.size == 1:
                    sources.append(t)  # a scalar broadcasts the same in any shape
                else:
                    sources.append(_reshape_source(ix, t, op))
            data = [s for s, t in zip(sources, op.inputs) if s is not None and not t.is_const]
            if len(data) == 0 or any(d.shape != data[0].shape for d in data):
                continue
            if any(t.shape != z.shape for t in op.inputs if not t.is_const):
                continue  # broadcasting between the operands: shapes matter
        else:
            continue
        if any(s is None for s in sources):
            continue
        x_shape = next(s.shape for s, t in zip(sources, op.inputs) if not t.is_const)
        namer = namer or Namer(graph)
        # A scalar constant of higher rank than x would broadcast the op's output up to its
        # rank ((1,1,1) with (1,5) is (1,1,5), not (1,5)): give it x's rank at most.
        sources = [new_const(namer, f"{s.name}_r", s.data.reshape((1,) * len(x_shape)))
                   if t.is_const and len(s.shape) > len(x_shape) else s
                   for s, t in zip(sources, op.inputs)]
        reshapes = [ix.producers[t] for t in op.inputs if not t.is_const]
        z_x = ir.Tensor(namer(f"{z.name}_r"), x_shape, z.dtype)
        ix.set_inputs(op, sources)
        ix.set_outputs(op, [z_x])
        # one RESHAPE after the op replaces the ones before it
        first = reshapes[0]
        for r in reshapes:
            ix.remove(r)
        shape = new_const(namer, f"{z.name}_shape", np.array(z.shape, np.int32))
        moved = ir.Op("RESHAPE", [z_x, shape], [z], {"new_shape": [int(d) for d in z.shape]},
                      name=first.name)
        ix.insert_after(op, moved)
        changed = True
    ix.commit()
    return changed
