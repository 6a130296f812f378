"""NCHW -> NHWC: sink, compose and cancel the TRANSPOSEs lowerings put around NHWC ops.

Lowerings keep ONNX (NCHW) semantics and wrap each layout-sensitive TFLite op in
TRANSPOSE(to NHWC) ... TRANSPOSE(to NCHW). This pass moves every TRANSPOSE downwards through
ops that do not care about layout (rewriting their axes and constants), so that it meets the
TRANSPOSE(to NHWC) of the next layout-sensitive op and the two compose to the identity. What is
left at the graph's ends is absorbed into NHWC inputs/outputs, unless the user keeps NCHW.

Notation: a TRANSPOSE with perm P maps x to y with y.shape[i] == x.shape[P[i]]; "y-space" is the
layout the consumers of y expect, "x-space" the layout the producer of x wrote.
"""

from __future__ import annotations

from collections.abc import Callable

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

TO_NHWC = (0, 2, 3, 1)
TO_NCHW = (0, 3, 1, 2)
IO_RANKS = (3, 4, 5)  # NCW, NCHW, NCDHW interfaces can become channels-last


def to_last(rank: int) -> tuple[int, ...]:
    """The perm taking N C spatial... to N spatial... C."""
    return (0, *range(2, rank), 1)


def to_first(rank: int) -> tuple[int, ...]:
    return (0, rank - 1, *range(1, rank - 1))

UNARY = {
    "ABS", "CEIL", "COS", "ELU", "EXP", "FLOOR", "GELU", "HARD_SWISH", "LEAKY_RELU", "LOG",
    "LOGISTIC", "LOGICAL_NOT", "NEG", "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "ROUND",
    "RSQRT", "SIGN", "SIN", "SQRT", "SQUARE", "TANH", "CAST", "ZEROS_LIKE",
}
BINARY = {
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "POW", "SQUARED_DIFFERENCE", "FLOOR_DIV",
    "FLOOR_MOD", "PRELU", "LESS", "LESS_EQUAL", "GREATER", "GREATER_EQUAL", "EQUAL", "NOT_EQUAL",
    "LOGICAL_AND", "LOGICAL_OR", "SELECT_V2",
}
REDUCE = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY"}
PAD = {"PAD", "PADV2", "MIRROR_PAD"}
LAST_AXIS = {"SOFTMAX", "LOG_SOFTMAX"}


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


# ---- sinking --------------------------------------------------------------------------------

class Rewrite:
    """A planned rewrite of one op to x-space; nothing changes until it is called."""

    def __init__(self, apply: Callable[[], None], out_perm: tuple[int, ...]) -> None:
        self.apply = apply
        self.out_perm = out_perm  # the TRANSPOSE it leaves after the op (identity: none)

    def __call__(self) -> None:
        self.apply()


def _xspace_shape(shape: tuple[int, ...], perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = inverse(perm)
    return tuple(shape[inv[j]] for j in range(len(perm)))


def _const_to_xspace(value: np.ndarray, perm: tuple[int, ...],
                     broadcast: bool = True) -> np.ndarray | None:
    """The constant c' with transpose(c', perm) == c (c broadcast to rank len(perm))."""
    r = len(perm)
    if value.ndim > r:
        return None
    if value.ndim == 0:
        return value
    full = value.reshape((1,) * (r - value.ndim) + value.shape)
    moved = np.transpose(full, inverse(perm))
    # Under broadcasting leading 1s add nothing; dropping them keeps per-channel constants in
    # the (C,) form the BatchNorm fold recognises. Not for CONCATENATION's full-rank operands.
    while broadcast and moved.ndim > 1 and moved.shape[0] == 1:
        moved = moved.reshape(moved.shape[1:])
    return np.ascontiguousarray(moved)


def _reshape_through(perm: tuple[int, ...], x_shape: tuple[int, ...],
                     z_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """reshape(transpose(x, perm), z_shape) == transpose(reshape(x, x2), Q): (x2, Q), or None.

    Possible when every group of axes the reshape merges or splits is made of x axes that are
    adjacent and in order in x (size-1 axes aside): e.g. the squeeze/unsqueeze around a 1-D
    convolution, or the split of the channel axis in a channel shuffle.
    """
    r = len(perm)
    y_shape = tuple(x_shape[p] for p in perm)
    y_big = [i for i in range(r) if y_shape[i] != 1]
    z_big = [j for j in range(len(z_shape)) if z_shape[j] != 1]
    groups: list[tuple[list[int], list[int]]] = []
    i = j = 0
    while i < len(y_big) and j < len(z_big):
        gy, gz = [y_big[i]], [z_big[j]]
        py, pz = y_shape[y_big[i]], z_shape[z_big[j]]
        i, j = i + 1, j + 1
        while py != pz:
            if py < pz and i < len(y_big):
                gy.append(y_big[i])
                py *= y_shape[y_big[i]]
                i += 1
            elif pz < py and j < len(z_big):
                gz.append(z_big[j])
                pz *= z_shape[z_big[j]]
                j += 1
            else:
                return None
        groups.append((gy, gz))
    if i != len(y_big) or j != len(z_big):
        return None
    x_big = [a for a in range(r) if x_shape[a] != 1]
    starts = []
    for gy, _ in groups:
        pos = [x_big.index(perm[k]) for k in gy]
        if pos != list(range(pos[0], pos[0] + len(pos))):
            return None
        starts.append(pos[0])
    slots = [zj for _, (_, gz) in sorted(zip(starts, groups)) for zj in gz]
    # size-1 z axes: right after the previous non-1 z axis, leading ones in front
    for zj in range(len(z_shape)):
        if z_shape[zj] != 1:
            continue
        prev = [k for k in z_big if k < zj]
        slots.insert(slots.index(prev[-1]) + 1 if prev else 0, zj)
        z_big = sorted([*z_big, zj])  # later size-1 axes follow this one
    x2 = tuple(z_shape[zj] for zj in slots)
    q = tuple(slots.index(zj) for zj in range(len(z_shape)))
    return x2, q


class _Sinker:
    """Plans how one consumer op can be rewritten to run in x-space."""

    def __init__(self, ix: Index, namer: Namer, io_inputs: bool = False):
        self.ix = ix
        self.namer = namer
        self.io_inputs = io_inputs  # graph inputs may become channels-last

    def _same_perm_source(self, t: ir.Tensor, perm: tuple[int, ...]) -> ir.Tensor | None:
        """x if t is TRANSPOSE(x, perm)."""
        prod = self.ix.producers.get(t)
        if prod is not None and perm_of(prod) == perm:
            return prod.inputs[0]
        return None

    def plan(self, op: ir.Op, y: ir.Tensor, perm: tuple[int, ...]) -> Rewrite | None:
        if len(op.outputs) != 1 or op.outputs[0].quant is not None:
            return None
        r = len(perm)
        out = op.outputs[0]
        if op.type in UNARY or (op.type in LAST_AXIS and perm[-1] == r - 1):
            if op.inputs[0] is not y or any(t is y for t in op.inputs[1:]):
                return None
            return self._rewrite(op, {0: self._src(y, perm)}, perm)
        if op.type in BINARY or op.type == "CONCATENATION":
            if op.type == "CONCATENATION":
                if len(out.shape) != r:
                    return None
            elif len(out.shape) != r:
                return None
            new_inputs: dict[int, Callable[[], ir.Tensor]] = {}
            for k, t in enumerate(op.inputs):
                if t is None:
                    return None
                if t is y:
                    new_inputs[k] = self._src(y, perm)
                elif t.is_const:
                    if op.type == "CONCATENATION" and t.data.ndim != r:
                        return None
                    moved = _const_to_xspace(t.data, perm, op.type != "CONCATENATION")
                    if moved is None:
                        return None
                    new_inputs[k] = self._const(t, moved)
                else:
                    src = self._same_perm_source(t, perm)
                    if src is not None:
                        new_inputs[k] = self._src(t, perm, src)
                    elif self._becomes_channels_last(t, perm):
                        new_inputs[k] = self._transposed_input(op, t, perm)
                    else:
                        return None
            options = None
            if op.type == "CONCATENATION":
                axis = int(op.options["axis"]) % r
                options = {**op.options, "axis": perm[axis]}
            return self._rewrite(op, new_inputs, perm, options)
        if op.type in REDUCE:
            return self._plan_reduce(op, y, perm)
        if op.type in RESHAPE_LIKE:
            return self._plan_reshape(op, y, perm)
        if op.type in PAD or op.type in ("SLICE", "STRIDED_SLICE"):
            return self._plan_indexed(op, y, perm)
        return None

    def _plan_reduce(self, op: ir.Op, y: ir.Tensor, perm: tuple[int, ...]) -> Rewrite | None:
        axes_t = op.inputs[1] if len(op.inputs) > 1 else None
        if op.inputs[0] is not y or axes_t is None or not axes_t.is_const:
            return None
        r = len(perm)
        axes = sorted({int(a) % r for a in axes_t.data.reshape(-1)})
        new_axes = np.array(sorted(perm[a] for a in axes), dtype=axes_t.dtype)
        keep = bool(op.options.get("keep_dims"))
        if keep:
            out_perm = perm
        else:
            rest = [i for i in range(r) if i not in axes]
            remaining = sorted(perm[i] for i in rest)
            out_perm = tuple(remaining.index(perm[i]) for i in rest)
        return self._rewrite(op, {0: self._src(y, perm), 1: self._const(axes_t, new_axes)},
                             out_perm)

    def _plan_reshape(self, op: ir.Op, y: ir.Tensor, perm: tuple[int, ...]) -> Rewrite | None:
        if op.inputs[0] is not y or any(t is y for t in op.inputs[1:]):
            return None
        src = self._same_perm_source(y, perm)
        through = _reshape_through(perm, src.shape, op.outputs[0].shape)
        if through is None:
            return None
        x2, q = through
        shape_t = op.inputs[1] if len(op.inputs) > 1 and op.inputs[1] is not None else y
        new_inputs = {0: self._src(y, perm), 1: self._const(shape_t, np.array(x2, np.int32))}
        return self._rewrite(op, new_inputs, q, {"new_shape": [int(d) for d in x2]},
                             op_type="RESHAPE")

    def _plan_indexed(self, op: ir.Op, y: ir.Tensor, perm: tuple[int, ...]) -> Rewrite | None:
        if op.inputs[0] is not y:
            return None
        inv = list(inverse(perm))
        r = len(perm)
        new_inputs: dict[int, Callable[[], ir.Tensor]] = {0: self._src(y, perm)}
        options = None
        if op.type in PAD:
            pads = op.inputs[1]
            if pads is None or not pads.is_const or pads.data.shape != (r, 2):
                return None
            new_inputs[1] = self._const(pads, pads.data[inv])
        else:
            n_idx = 3 if op.type == "STRIDED_SLICE" else 2
            idx = op.inputs[1:1 + n_idx]
            if len(idx) != n_idx or any(t is None or not t.is_const or t.data.shape != (r,)
                                        for t in idx):
                return None
            for k, t in enumerate(idx, start=1):
                new_inputs[k] = self._const(t, t.data[inv])
            if op.type == "STRIDED_SLICE":
                o = op.options
                if any(o.get(m, 0) for m in ("ellipsis_mask", "new_axis_mask",
                                             "shrink_axis_mask", "offset")):
                    return None
                options = dict(o)
                for m in ("begin_mask", "end_mask"):
                    bits = int(o.get(m, 0))
                    options[m] = sum(1 << j for j in range(r) if bits >> inv[j] & 1)
        return self._rewrite(op, new_inputs, perm, options)

    def _becomes_channels_last(self, t: ir.Tensor, perm: tuple[int, ...]) -> bool:
        """t is a graph input that absorb_io_transposes will make channels-last if its readers
        read it through to_last: then reading it transposed costs nothing."""
        return (self.io_inputs and self.ix.is_input(t) and len(t.shape) in IO_RANKS
                and inverse(perm) == to_last(len(t.shape)))

    def _transposed_input(self, op: ir.Op, t: ir.Tensor,
                          perm: tuple[int, ...]) -> Callable[[], ir.Tensor]:
        def make() -> ir.Tensor:
            inv = inverse(perm)
            t_x = ir.Tensor(self.namer(f"{t.name}_t"), tuple(t.shape[p] for p in inv), t.dtype)
            self.ix.insert_before(op, transpose_op(self.namer, t, t_x, inv, op.name))
            return t_x
        return make

    # -- building blocks: each returns a thunk so nothing changes until the plan is complete --
    def _src(self, t: ir.Tensor, perm: tuple[int, ...],
             src: ir.Tensor | None = None) -> Callable[[], ir.Tensor]:
        if src is None:
            src = self._same_perm_source(t, perm)
        assert src is not None
        return lambda: src

    def _const(self, t: ir.Tensor, value: np.ndarray) -> Callable[[], ir.Tensor]:
        return lambda: new_const(self.namer, t.name, value)

    def _rewrite(self, op: ir.Op, new_inputs: dict[int, Callable[[], ir.Tensor]],
                 out_perm: tuple[int, ...], options: dict | None = None,
                 op_type: str | None = None) -> Rewrite:
        def apply() -> None:
            z = op.outputs[0]
            if op_type is not None:
                op.type = op_type
            while len(op.inputs) <= max(new_inputs):
                op.inputs.append(None)  # e.g. a RESHAPE given only new_shape gets its input 1
            for k, make in new_inputs.items():
                self.ix.set_input(op, k, make())
            if options is not None:
                op.options = options
            if is_identity(out_perm) or len(out_perm) == 0:
                return
            z_x = ir.Tensor(self.namer(z.name), _xspace_shape(z.shape, out_perm), z.dtype)
            self.ix.set_outputs(op, [z_x])
            self.ix.insert_after(op, transpose_op(self.namer, z_x, z, out_perm, op.name))

        return Rewrite(apply, out_perm)


def sink_transposes(graph: ir.Graph, keep_nchw_io: bool) -> bool:
    """Move each TRANSPOSE below the layout-agnostic ops that read it."""
    ix = Index(graph)
    sinker = _Sinker(ix, Namer(graph), io_inputs=not keep_nchw_io)
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
        if any(p is None for p in plans):
            continue
        for apply in plans:
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
    """t is a rank-4 graph input, or computed from one by a chain of layout-agnostic ops with
    one data input each and no other readers: a TRANSPOSE(to NHWC) of t can move up to the
    input and become the NHWC graph input."""
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
        src = _xspace_shape(shape, first)
    moved = [d for d in composed if src[d] != 1]
    return moved == sorted(moved)


def hoist_to_inputs(graph: ir.Graph) -> bool:
    """input -> (layout-agnostic ops) -> TRANSPOSE(to NHWC): move the TRANSPOSE up, one op at
    a time, until it reads the graph input and can become the NHWC input (a mean/std
    normalisation or a PAD in front of the first conv is the usual case).

    One step: C(d) -> T(P) becomes C(T^-1(T(d, P))) -> T(P); sinking the T^-1 through C gives
    C'(T(d, P)) -> T^-1 -> T(P), and the last two compose to nothing.
    """
    ix = Index(graph)
    namer = Namer(graph)
    sinker = _Sinker(ix, namer)
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


def absorb_io_transposes(graph: ir.Graph, keep_nchw_io: bool) -> bool:
    """Inputs of rank 3-5 read only through TRANSPOSE(channels to last) become channels-last
    inputs; outputs written by TRANSPOSE(channels to second) become channels-last outputs."""
    if keep_nchw_io:
        return False
    changed = False
    consumers = graph.consumers()
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
        changed = True
    producers = graph.producers()
    for i, y in enumerate(list(graph.outputs)):
        t_op = producers.get(y)
        rank = len(y.shape)
        if t_op is None or rank not in IO_RANKS or perm_of(t_op) != to_first(rank):
            continue
        x = t_op.inputs[0]
        if any(x is t for t in [*graph.inputs, *graph.outputs]):
            continue
        graph.outputs[i] = x
        changed = True
    if changed:
        graph.remove_dead()
    return changed


def optimize_layout(graph: ir.Graph, keep_nchw_io: bool = False) -> bool:
    changed = False
    for step in (merge_duplicate_transposes, compose_transposes):
        changed |= step(graph)
    changed |= sink_transposes(graph, keep_nchw_io)
    changed |= compose_transposes(graph)
    changed |= fold_flatten_into_fc(graph)
    if not keep_nchw_io:
        changed |= hoist_to_inputs(graph)
    changed |= absorb_io_transposes(graph, keep_nchw_io)
    if not changed:
        # Last, once nothing moves any more: a size-1 TRANSPOSE turned RESHAPE early could no
        # longer sink to its partner (the squeeze-excite gate of MobileNetV3 is one such case).
        changed = transposes_as_reshapes(graph)
    return changed
