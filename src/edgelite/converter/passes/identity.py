"""Remove ops that compute nothing, and fold chains of reshapes."""

from __future__ import annotations

from edgelite import ir
from edgelite.converter.passes._util import (
    RESHAPE_LIKE,
    Namer,
    bypass,
    is_identity,
    perm_of,
    replace_op,
    reshape_op,
)


def remove_identities(graph: ir.Graph) -> bool:
    changed = False
    for op in list(graph.ops):
        if not op.inputs or op.inputs[0] is None or len(op.outputs) != 1:
            continue
        x, y = op.inputs[0], op.outputs[0]
        trivial = (
            (op.type in RESHAPE_LIKE and x.shape == y.shape)
            or (op.type == "TRANSPOSE" and (p := perm_of(op)) is not None and is_identity(p))
            or (op.type == "CAST" and x.dtype == y.dtype)
        )
        if trivial and x.quant is None and y.quant is None and bypass(graph, op, x, y):
            changed = True
    return changed


def fold_reshape_chains(graph: ir.Graph) -> bool:
    """reshape(reshape(x)) -> reshape(x): only the final shape matters."""
    changed = False
    namer: Namer | None = None
    producers = graph.producers()
    for op in list(graph.ops):
        if op.type not in RESHAPE_LIKE or op.inputs[0] is None:
            continue
        first = producers.get(op.inputs[0])
        if first is None or first.type not in RESHAPE_LIKE or first.inputs[0] is None:
            continue
        namer = namer or Namer(graph)
        new = reshape_op(namer, first.inputs[0], op.outputs[0], op.name)
        replace_op(graph, op, [new])
        producers[op.outputs[0]] = new
        changed = True
    return changed
