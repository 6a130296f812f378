"""NCHW -> NHWC: sink, compose and cancel the TRANSPOSEs lowerings put around NHWC ops.

Lowerings keep ONNX (NCHW) semantics and wrap each layout-sensitive TFLite op in
TRANSPOSE(to NHWC) ... TRANSPOSE(to NCHW). This pass moves every TRANSPOSE downwards through
ops that do not care about layout (rewriting their axes and constants), so that it meets the
TRANSPOSE(to NHWC) of the next layout-sensitive op and the two compose to the identity. What is
left at the graph's ends is absorbed into NHWC inputs/outputs, unless the user keeps NCHW.

Notation (see sinking.py): a TRANSPOSE with perm P maps x to y, y.shape[i] == x.shape[P[i]].
"""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import (
    RESHAPE_LIKE,
    Index,
    Namer,
    bypass,
    inverse,
    is_identity,
    new_const,
    perm_of,
    transpose_op,
)
from edgelite.converter.passes.sinking import (
    BINARY,
    IO_RANKS,
    PAD,
    UNARY,
    Sinker,
    to_first,
    to_last,
    xspace_shape,
)

# ---- small rewrites -------------------------------------------------------------------------

def merge_duplicate_transposes(graph: ir.Graph) -> bool:
    """Several identical TRANSPOSEs of one tensor become one."""
    ix = Index(graph)
    seen: dict[tuple[int, tuple[int, ...]], ir.Tensor] = {}
    changed = False
    for op in graph.ops:
        p = perm_of(op)
        if p is None or op.inputs[0] is None:
            continue
        key = (id(op.inputs[0]), p)
        first = seen.get(key)
        if first is None:
            seen[key] = op.outputs[0]
        elif not ix.is_output(op.outputs[0]):
            ix.remove(op)
            ix.replace_uses(op.outputs[0], first)
            changed = True
    ix.commit()
    return changed


def compose_transposes(graph: ir.Graph) -> bool:
    """transpose(transpose(x, P1), P2) -> transpose(x, P1[P2]); the identity disappears."""
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        p2 = perm_of(op)
        first = ix.producers.get(op.inputs[0]) if p2 is not None else None
        p1 = perm_of(first) if first is not None else None
        if p1 is None or ix.removed(op):
            continue
        x, y = first.inputs[0], op.outputs[0]
        composed = tuple(p1[i] for i in p2)
        if is_identity(composed) and bypass(ix, op, x, y):
            changed = True
            continue
        namer = namer or Namer(graph)
        perm = new_const(namer, f"{y.name}_perm", np.array(composed, np.int32))
        ix.set_inputs(op, [x, perm])
        changed = True
    ix.commit()
    return changed


def transposes_as_reshapes(graph: ir.Graph) -> bool:
    """A TRANSPOSE that only moves size-1 dims keeps the memory order: it is a RESHAPE.

    Interface transposes (reading a graph input, writing a graph output) are left for
    ``absorb_io_transposes`` so the model's input/output layout stays consistent.
    """
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        p = perm_of(op)
        if p is None or is_identity(p):
            continue
        x, y = op.inputs[0], op.outputs[0]
        if ix.is_input(x) or ix.is_output(y):
            continue
        moved = [d for d in p if x.shape[d] != 1]
        if moved != sorted(moved):
            continue
        namer = namer or Namer(graph)
        op.type = "RESHAPE"
        op.options = {"new_shape": [int(d) for d in y.shape]}
        ix.set_inputs(op, [x, new_const(namer, f"{y.name}_shape",
                                        np.array(y.shape, np.int32))])
        changed = True
    ix.commit()
    return changed


# How far back _waits_on looks for y: the longest layout-agnostic chain between a tensor's
# readers that it follows (x * clip(x + 3) is two ops; a few more cover scale/shift chains).
_WAIT_DEPTH = 6


def _waits_on(ix: Index, op: ir.Op, y: ir.Tensor) -> bool:
    """``op`` (reading y) cannot sink y's TRANSPOSE yet only because another of its inputs is
    computed from y by a chain of elementwise ops on constants: once the TRANSPOSE has sunk
    through that chain (its other readers), that input is a TRANSPOSE of the same perm too and
    ``op`` can follow. E.g. hard-swish written out as x * clip(x + 3, 0, 6) / 6: x feeds the ADD
    and the MUL, and the MUL also reads the ADD's (clipped) result."""
    if op.type not in BINARY and op.type != "CONCATENATION":
        return False

    def from_y(t: ir.Tensor, depth: int) -> bool:
        prod = ix.producers.get(t)
        if prod is None or depth == 0 or len(prod.outputs) != 1:
            return False
        if prod.type not in UNARY and prod.type not in BINARY:
            return False
        data = [i for i in prod.inputs if i is not None and not i.is_const]
        return bool(data) and all(d is y or from_y(d, depth - 1) for d in data)

    others = [t for t in op.inputs if t is not None and t is not y and not t.is_const]
    return bool(others) and all(from_y(t, _WAIT_DEPTH) for t in others)


def sink_transposes(graph: ir.Graph, keep_nchw_io: bool) -> bool:
    """Move each TRANSPOSE below the layout-agnostic ops that read it. A reader that must wait
    for another reader's result (``_waits_on``) keeps the TRANSPOSE for a later round."""
    ix = Index(graph)
    sinker = Sinker(ix, Namer(graph), io_inputs=not keep_nchw_io)
    changed = False
    for op in graph.ops:
        perm = perm_of(op)
        if perm is None:
            continue
        x, y = op.inputs[0], op.outputs[0]
        if ix.is_output(y) or y.quant is not None:
            continue
        if not keep_nchw_io and perm == to_last(len(perm)) and _from_input(ix, x):
            continue  # moves up to become the NHWC graph input; sinking it would undo that
        readers = [c for c in ix.uses(y) if c.type != "TRANSPOSE"]
        if not readers:
            continue  # only TRANSPOSE readers: compose_transposes handles them
        plans = [sinker.plan(c, y, perm) for c in readers]
        stuck = [c for c, p in zip(readers, plans) if p is None]
        if len(stuck) == len(readers) or any(not _waits_on(ix, c, y) for c in stuck):
            continue
        for apply in plans:
            if apply is not None:
                apply()
        if not ix.consumers.get(y) and not ix.is_output(y):
            ix.remove(op)
        changed = True
    ix.commit()
    return changed


# ---- the Flatten before a classifier --------------------------------------------------------

def fold_flatten_into_fc(graph: ir.Graph) -> bool:
    """FULLY_CONNECTED(RESHAPE(TRANSPOSE(x, P))) -> FULLY_CONNECTED(RESHAPE(x)), weight
    columns permuted to x's element order."""
    ix = Index(graph)
    namer: Namer | None = None
    changed = False
    for op in graph.ops:
        if op.type != "RESHAPE" or op.inputs[0] is None:
            continue
        t_op = ix.producers.get(op.inputs[0])
        perm = perm_of(t_op) if t_op is not None else None
        if perm is None or perm[0] != 0:
            continue
        x, flat = t_op.inputs[0], op.outputs[0]
        if len(flat.shape) != 2 or flat.shape[0] != x.shape[0] or ix.is_output(flat):
            continue
        fcs = ix.consumers.get(flat, [])
        if not fcs or any(
                fc.type != "FULLY_CONNECTED" or fc.inputs[0] is not flat
                or any(t is flat for t in fc.inputs[1:]) or fc.inputs[1] is None
                or not fc.inputs[1].is_const or fc.inputs[1].quant is not None
                or fc.options.get("keep_num_dims") for fc in fcs):
            continue
        y_shape = t_op.outputs[0].shape
        namer = namer or Namer(graph)
        inv = inverse(perm)
        for fc in list(fcs):
            w = fc.inputs[1].data
            view = w.reshape((w.shape[0], *y_shape[1:]))
            moved = np.transpose(view, [0, *(inv[k] for k in range(1, len(perm)))])
            ix.set_input(fc, 1, new_const(namer, fc.inputs[1].name, moved.reshape(w.shape)))
        ix.set_input(op, 0, x)
        changed = True
    ix.commit()
    if changed:
        graph.remove_dead()
    return changed


# ---- the graph's ends -----------------------------------------------------------------------

HOISTABLE = UNARY | BINARY | PAD | {"SLICE", "STRIDED_SLICE", *RESHAPE_LIKE}


def _from_input(ix: Index, t: ir.Tensor) -> bool:
    """t is a rank 3-5 graph input, or computed from one by a chain of layout-agnostic ops with
    one data input each and no other readers: a channels-last TRANSPOSE of t can move up to
    the input and make it a channels-last graph input."""
    while not ix.is_input(t):
        prod = ix.producers.get(t)
        if prod is None or len(prod.outputs) != 1 or prod.type not in HOISTABLE:
            return False
        data = [i for i in prod.inputs if i is not None and not i.is_const]
        if len(data) != 1 or len(ix.consumers.get(data[0], [])) != 1 or ix.is_output(data[0]):
            return False
        t = data[0]
    return len(t.shape) in IO_RANKS


def _cancels(first: tuple[int, ...], second: tuple[int, ...], shape: tuple[int, ...]) -> bool:
    """transpose(transpose(t, first), second) keeps t's memory order (t of x-space shape)."""
    if first and len(first) != len(second):
        return False
    if not first or is_identity(first):
        composed = second
        src = shape
    else:
        composed = tuple(first[i] for i in second)
        src = xspace_shape(shape, first)
    moved = [d for d in composed if src[d] != 1]
    return moved == sorted(moved)


def hoist_to_inputs(graph: ir.Graph) -> bool:
    """input -> (layout-agnostic ops) -> TRANSPOSE(channels last): move the TRANSPOSE up, one
    op at a time, until it reads the graph input and can make it channels-last (a mean/std
    normalisation, a PAD, or the RESHAPE of a 1-D conv in front of the first conv).

    One step: C(d) -> T(P) becomes C(T^-1(T(d, P))) -> T(P); sinking the T^-1 through C gives
    C'(T(d, P)) -> T^-1 -> T(P), and the last two compose to nothing.
    """
    ix = Index(graph)
    namer = Namer(graph)
    sinker = Sinker(ix, namer)
    changed = False
    for op in graph.ops:
        perm = perm_of(op)
        if perm is None or perm != to_last(len(perm)) or ix.removed(op):
            continue
        z = op.inputs[0]
        elem = ix.producers.get(z)
        if elem is None or ix.is_input(z) or ix.is_output(z) or not _from_input(ix, z):
            continue
        if any(perm_of(c) != perm for c in ix.uses(z)) or _cancels((), perm, z.shape):
            continue  # (a TRANSPOSE of size-1 dims only is a RESHAPE: nothing to gain)
        d = next(i for i in elem.inputs if i is not None and not i.is_const)
        fwd, back = to_last(len(d.shape)), to_first(len(d.shape))
        d_t = ir.Tensor(namer(f"{d.name}_nhwc"), tuple(d.shape[p] for p in fwd), d.dtype)
        u = ir.Tensor(namer(f"{d.name}_nchw"), d.shape, d.dtype)
        t_fwd = transpose_op(namer, d, d_t, fwd, elem.name)
        t_back = transpose_op(namer, d_t, u, back, elem.name)
        ix.insert_before(elem, t_fwd)
        ix.insert_before(elem, t_back)
        old_inputs = list(elem.inputs)
        ix.set_inputs(elem, [u if t is d else t for t in elem.inputs])
        plan = sinker.plan(elem, u, back)
        # worth it only if the TRANSPOSE the plan leaves after elem cancels op's
        if plan is None or not _cancels(plan.out_perm, perm, z.shape):
            ix.set_inputs(elem, old_inputs)
            ix.remove(t_back)
            ix.remove(t_fwd)
            continue
        plan()
        ix.remove(t_back)  # the sunk op reads d_t now
        changed = True
    ix.commit()
    return changed


def absorb_io_transposes(graph: ir.Graph) -> tuple[list[bool], list[bool]]:
    """Inputs of rank 3-5 read only through TRANSPOSE(channels to last) become channels-last
    inputs; outputs written by TRANSPOSE(channels to second) become channels-last outputs.

    Run once, after the other passes have moved every TRANSPOSE they could to the graph's ends
    (a second run would take a model's own transpose at an end for a layout one). Returns which
    inputs and outputs, by position, are now channels-last.
    """
    consumers = graph.consumers()
    inputs_moved = [False] * len(graph.inputs)
    for i, x in enumerate(list(graph.inputs)):
        readers = consumers.get(x, [])
        rank = len(x.shape)
        if (rank not in IO_RANKS or not readers or x in graph.outputs
                or any(perm_of(c) != to_last(rank) or c.outputs[0] in graph.outputs
                       for c in readers)):
            continue
        last = ir.Tensor(x.name, tuple(x.shape[p] for p in to_last(rank)), x.dtype,
                         quant=x.quant)
        graph.inputs[i] = last
        for c in readers:
            graph.remove_op(c)
            graph.replace_uses(c.outputs[0], last)
        inputs_moved[i] = True
    producers = graph.producers()
    outputs_moved = [False] * len(graph.outputs)
    for i, y in enumerate(list(graph.outputs)):
        t_op = producers.get(y)
        rank = len(y.shape)
        if t_op is None or rank not in IO_RANKS or perm_of(t_op) != to_first(rank):
            continue
        x = t_op.inputs[0]
        if any(x is t for t in [*graph.inputs, *graph.outputs]):
            continue
        graph.outputs[i] = x
        outputs_moved[i] = True
    graph.remove_dead()
    return inputs_moved, outputs_moved


def optimize_layout(graph: ir.Graph, keep_nchw_io: bool = False) -> bool:
    """One round of the layout rewrites. Unless ``keep_nchw_io``, TRANSPOSEs at the inputs are
    moved up to them, ready for ``absorb_io_transposes``."""
    changed = False
    for step in (merge_duplicate_transposes, compose_transposes):
        changed |= step(graph)
    changed |= sink_transposes(graph, keep_nchw_io)
    changed |= compose_transposes(graph)
    changed |= fold_flatten_into_fc(graph)
    if not keep_nchw_io:
        changed |= hoist_to_inputs(graph)
    if not changed:
        # Last, once nothing moves any more: a size-1 TRANSPOSE turned RESHAPE early could no
        # longer sink to its partner (the squeeze-excite gate of MobileNetV3 is one such case).
        changed = transposes_as_reshapes(graph)
    return changed
