"""Rewriting one op so a TRANSPOSE before it moves after it (the layout pass's building block).

A TRANSPOSE with perm P maps x to y with y.shape[i] == x.shape[P[i]]; "y-space" is the layout
the readers of y expect, "x-space" the layout the producer of x wrote. ``Sinker.plan`` says how
an op reading y can read x instead (its axes, paddings, constants remapped) and which TRANSPOSE
then restores y-space after it; nothing changes until the plan is applied.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import (
    RESHAPE_LIKE,
    Index,
    Namer,
    inverse,
    is_identity,
    new_const,
    perm_of,
    transpose_op,
)
from edgelite.tflite import ops

TO_NHWC = (0, 2, 3, 1)
TO_NCHW = (0, 3, 1, 2)
IO_RANKS = (3, 4, 5)  # NCW, NCHW, NCDHW interfaces can become channels-last


def to_last(rank: int) -> tuple[int, ...]:
    """The perm taking N C spatial... to N spatial... C."""
    return (0, *range(2, rank), 1)


def to_first(rank: int) -> tuple[int, ...]:
    return (0, rank - 1, *range(1, rank - 1))


# Op families by how they see layout (the op table's `layout` column): elementwise ops do not
# care; the others have axes, paddings or indices that can be remapped.
UNARY = ops.with_layout(ops.UNARY)
BINARY = ops.with_layout(ops.BINARY)
REDUCE = ops.with_layout(ops.REDUCE)
PAD = ops.with_layout(ops.PAD)
LAST_AXIS = ops.with_layout(ops.LAST_AXIS)


class Rewrite:
    """A planned rewrite of one op to x-space; nothing changes until it is called."""

    def __init__(self, apply: Callable[[], None], out_perm: tuple[int, ...]) -> None:
        self.apply = apply
        self.out_perm = out_perm  # the TRANSPOSE it leaves after the op (identity: none)

    def __call__(self) -> None:
        self.apply()


def xspace_shape(shape: tuple[int, ...], perm: tuple[int, ...]) -> tuple[int, ...]:
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


def _groups(perm: tuple[int, ...], x_shape: tuple[int, ...],
            z_shape: tuple[int, ...]) -> list[tuple[list[int], list[int]]] | None:
    """The reshape of y = transpose(x, perm) to z_shape as groups (y axes, z axes) of equal
    size, size-1 axes left out; None if the shapes do not pair up."""
    y_shape = tuple(x_shape[p] for p in perm)
    y_big = [i for i in range(len(perm)) if y_shape[i] != 1]
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
    return groups


def reshape_through(perm: tuple[int, ...], x_shape: tuple[int, ...],
                    z_shape: tuple[int, ...]) -> tuple[tuple[int, ...], tuple[int, ...]] | None:
    """reshape(transpose(x, perm), z_shape) == transpose(reshape(x, x2), Q): (x2, Q), or None.

    Possible when every group of axes the reshape merges or splits is made of x axes that are
    adjacent and in order in x (size-1 axes aside): e.g. the squeeze/unsqueeze around a 1-D
    convolution, or the split of the channel axis in a channel shuffle.
    """
    groups = _groups(perm, x_shape, z_shape)
    if groups is None:
        return None
    x_big = [a for a in range(len(perm)) if x_shape[a] != 1]
    starts = []
    for gy, _ in groups:
        pos = [x_big.index(perm[k]) for k in gy]
        if pos != list(range(pos[0], pos[0] + len(pos))):
            return None
        starts.append(pos[0])
    slots = [zj for _, (_, gz) in sorted(zip(starts, groups)) for zj in gz]
    z_big = [j for j in range(len(z_shape)) if z_shape[j] != 1]
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


def group_order(perm: tuple[int, ...], x_shape: tuple[int, ...],
                z_shape: tuple[int, ...]) -> tuple[int, ...] | None:
    """A perm S of x after which reshape_through succeeds: each group's x axes side by side,
    in y's order (the part of ``perm`` no reshape can absorb, e.g. a channel shuffle)."""
    groups = _groups(perm, x_shape, z_shape)
    if groups is None:
        return None
    group_of = {perm[k]: g for g, (gy, _) in enumerate(groups) for k in gy}
    order: list[int] = []
    for a in range(len(perm)):
        if x_shape[a] == 1:
            order.append(a)
        elif a in group_of and perm[groups[group_of[a]][0][0]] not in order:
            order.extend(perm[k] for k in groups[group_of[a]][0])
    return tuple(order) if len(order) == len(perm) else None


class Sinker:
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
        """How ``op``, reading y == TRANSPOSE(x, perm), can read x; None if it cannot."""
        if any(t.quant is not None for t in op.outputs):
            return None
        if op.type in ("SPLIT", "SPLIT_V"):
            return self._plan_split(op, y, perm)
        if len(op.outputs) != 1:
            return None
        r = len(perm)
        out = op.outputs[0]
        if op.type in UNARY or (op.type in LAST_AXIS and perm[-1] == r - 1):
            if op.inputs[0] is not y or any(t is y for t in op.inputs[1:]):
                return None
            return self._rewrite(op, {0: self._src(y, perm)}, perm)
        if op.type in BINARY or op.type == "CONCATENATION":
            if len(out.shape) != r:
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

    def _plan_split(self, op: ir.Op, y: ir.Tensor, perm: tuple[int, ...]) -> Rewrite | None:
        # SPLIT(axis, x) and SPLIT_V(x, sizes, axis): every output leaves with the same perm
        data_idx, axis_idx = (1, 0) if op.type == "SPLIT" else (0, 2)
        if len(op.inputs) <= max(data_idx, axis_idx) or op.inputs[data_idx] is not y:
            return None
        axis_t = op.inputs[axis_idx]
        if axis_t is None or not axis_t.is_const or axis_t.size != 1 or any(
                t is y for k, t in enumerate(op.inputs) if k != data_idx):
            return None
        axis = int(axis_t.data.reshape(-1)[0]) % len(perm)
        new_axis = np.array(perm[axis], dtype=axis_t.dtype).reshape(axis_t.shape)
        return self._rewrite(op, {data_idx: self._src(y, perm),
                                  axis_idx: self._const(axis_t, new_axis)}, perm)

    def _plan_reshape(self, op: ir.Op, y: ir.Tensor, perm: tuple[int, ...]) -> Rewrite | None:
        if op.inputs[0] is not y or any(t is y for t in op.inputs[1:]):
            return None
        src = self._same_perm_source(y, perm)
        z = op.outputs[0]
        through = reshape_through(perm, src.shape, z.shape)
        make_src = self._src(y, perm)
        if through is None:
            # Split the TRANSPOSE in two: one that only reorders the axes the reshape merges
            # (the channel shuffle itself) stays before it, the rest moves on and cancels.
            order = group_order(perm, src.shape, z.shape)
            if order is None or is_identity(order) or not self._moves_on(z):
                return None
            inv = inverse(order)
            rest = tuple(inv[p] for p in perm)
            if is_identity(rest):
                return None  # all of it is the shuffle: nothing would move on
            through = reshape_through(rest, tuple(src.shape[a] for a in order), z.shape)
            if through is None or is_identity(through[1]):
                return None
            make_src = self._transposed(op, src, order)
        x2, q = through
        shape_t = op.inputs[1] if len(op.inputs) > 1 and op.inputs[1] is not None else y
        new_inputs = {0: make_src, 1: self._const(shape_t, np.array(x2, np.int32))}
        return self._rewrite(op, new_inputs, q, {"new_shape": [int(d) for d in x2]},
                             op_type="RESHAPE")

    def _moves_on(self, z: ir.Tensor) -> bool:
        """Can a TRANSPOSE after z keep sinking (or end at a TRANSPOSE or the graph's end)?
        A one-step look, to split a TRANSPOSE only where the split-off part can cancel."""
        movable = UNARY | BINARY | REDUCE | PAD | LAST_AXIS | set(RESHAPE_LIKE) | {
            "TRANSPOSE", "CONCATENATION", "SLICE", "STRIDED_SLICE", "SPLIT", "SPLIT_V"}
        readers = self.ix.uses(z)
        return (bool(readers) or self.ix.is_output(z)) and all(
            c.type in movable for c in readers)

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
        return self._transposed(op, t, inverse(perm))

    def _transposed(self, op: ir.Op, t: ir.Tensor,
                    perm: tuple[int, ...]) -> Callable[[], ir.Tensor]:
        """A thunk adding TRANSPOSE(t, perm) before ``op``, returning its output."""
        def make() -> ir.Tensor:
            t_x = ir.Tensor(self.namer(f"{t.name}_t"), tuple(t.shape[p] for p in perm), t.dtype)
            self.ix.insert_before(op, transpose_op(self.namer, t, t_x, perm, op.name))
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
            outs = list(op.outputs)
            moved = [ir.Tensor(self.namer(z.name), xspace_shape(z.shape, out_perm), z.dtype)
                     for z in outs]
            self.ix.set_outputs(op, moved)
            for z_x, z in zip(moved, outs):
                self.ix.insert_after(op, transpose_op(self.namer, z_x, z, out_perm, op.name))

        return Rewrite(apply, out_perm)
