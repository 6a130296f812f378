"""Remove ops that compute nothing, and fold chains of reshapes."""

from __future__ import annotations

import copy

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import (
    RESHAPE_LIKE,
    Index,
    Namer,
    bypass,
    is_identity,
    new_const,
    perm_of,
)


def remove_identities(graph: ir.Graph) -> bool:
    """RESHAPE to the same shape, the identity TRANSPOSE, CAST to the same type."""
    ix = Index(graph)
    changed = False
    for op in graph.ops:
        if not op.inputs or op.inputs[0] is None or len(op.outputs) != 1:
            continue
        x, y = op.inputs[0], op.outputs[0]
        trivial = (
            (op.type in RESHAPE_LIKE and x.shape == y.shape)
            or (op.type == "TRANSPOSE" and (p := perm_of(op)) is not None and is_identity(p))
            or (op.type == "CAST" and x.dtype == y.dtype)
        )
        if trivial and x.quant is None and y.quant is None and bypass(ix, op, x, y):
            changed = True
    ix.commit()
    return changed


def fold_reshape_chains(graph: ir.Graph) -> bool:
    """reshape(reshape(x)) -> reshape(x): only the final shape matters."""
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        if op.type not in RESHAPE_LIKE or op.inputs[0] is None:
            continue
        first = ix.producers.get(op.inputs[0])
        if first is None or first.type not in RESHAPE_LIKE or first.inputs[0] is None:
            continue
        namer = namer or Namer(graph)
        y = op.outputs[0]
        shape = new_const(namer, f"{y.name}_shape", np.array(y.shape, np.int32))
        op.type = "RESHAPE"
        op.options = {"new_shape": [int(d) for d in y.shape]}
        ix.set_inputs(op, [first.inputs[0], shape])
        changed = True
    ix.commit()
    return changed


# TFLite Micro's CONCATENATION takes at most 10 inputs (its kMaxInputNum): wider ones are
# written as a tree of concatenations (split_wide_concats), and chains are folded only up to it.
MAX_CONCAT_INPUTS = 10


def fold_concat_chains(graph: ir.Graph) -> bool:
    """concat(concat(a, b), c) along one axis -> concat(a, b, c) (a grouped convolution's
    concatenation inside a block's concatenation is the usual case), up to
    MAX_CONCAT_INPUTS inputs."""
    ix = Index(graph)
    changed = False
    for op in graph.ops:
        if op.type != "CONCATENATION" or op.options.get("fused_activation_function",
                                                         "NONE") != "NONE":
            continue
        rank = len(op.outputs[0].shape)
        axis = int(op.options.get("axis", 0)) % rank
        flat: list[ir.Tensor | None] = []
        width = len(op.inputs)
        for t in op.inputs:
            inner = ix.producers.get(t) if t is not None else None
            if (inner is not None and inner.type == "CONCATENATION"
                    and ix.single_consumer(t) is op
                    and int(inner.options.get("axis", 0)) % rank == axis
                    and inner.options.get("fused_activation_function", "NONE") == "NONE"
                    and t.quant is None
                    and width - 1 + len(inner.inputs) <= MAX_CONCAT_INPUTS):
                flat.extend(inner.inputs)
                width += len(inner.inputs) - 1
                ix.remove(inner)
            else:
                flat.append(t)
        if len(flat) != len(op.inputs):
            ix.set_inputs(op, flat)
            changed = True
    ix.commit()
    return changed


def split_wide_concats(graph: ir.Graph) -> bool:
    """A CONCATENATION of more than MAX_CONCAT_INPUTS inputs -> concatenations of at most that
    many, joined by one more (the same values: each part is a slice of the result). The parts
    take the result's quantization, so an integer model copies them unchanged."""
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        if op.type != "CONCATENATION" or len(op.inputs) <= MAX_CONCAT_INPUTS:
            continue
        namer = namer or Namer(graph)
        y = op.outputs[0]
        rank = len(y.shape)
        axis = int(op.options.get("axis", 0)) % rank
        parts: list[ir.Tensor | None] = []
        for k in range(0, len(op.inputs), MAX_CONCAT_INPUTS):
            chunk = op.inputs[k:k + MAX_CONCAT_INPUTS]
            if len(chunk) == 1:
                parts.append(chunk[0])
                continue
            shape = list(y.shape)
            shape[axis] = sum(t.shape[axis] for t in chunk)
            part = ir.Tensor(namer(f"{y.name}_part{k // MAX_CONCAT_INPUTS}"), tuple(shape),
                             y.dtype, quant=copy.deepcopy(y.quant))
            ix.insert_before(op, ir.Op("CONCATENATION", list(chunk), [part],
                                       {"axis": op.options.get("axis", 0),
                                        "fused_activation_function": "NONE"}, name=op.name))
            parts.append(part)
        ix.set_inputs(op, parts)
        changed = True
    ix.commit()
    return changed
