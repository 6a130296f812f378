"""Coupled channels: which channels of which tensors must be removed together.

The idea is DepGraph's (Fang et al., CVPR 2023): pruning one channel forces the removal of every
channel tied to it through the graph. We track it channel by channel: every channel of every
activation (the last axis, NHWC) is a slot; each op says which of its input slots are the same
channel as which output slots (an elementwise op ties channel c of each operand to channel c of
its result, a concatenation shifts channels by the offset of its operand, a depthwise
convolution ties input c to outputs c*M..c*M+M-1, a flatten into a dense layer ties channel c to
every column s*C+c, ...). Union-find over slots gives the components: one component is one
prunable unit (a channel, or several tied ones). Convolutions and dense layers cut the ties:
their output channels are *sources* (a filter can be deleted) and their input channels are read
by their weights (*consumers*: the matching weight columns are deleted).

A component is unsafe when any of its slots belongs to a tensor we cannot shrink: a model input
or output, an op that mixes channels (softmax over channels, a reshape that is not a flatten, a
transpose moving the channel axis, a reduction over channels, an op we do not know). Unsafe
components stay; the groups they form are named in the report with the reason.

Groups (for allocation and reporting) are the tensors joined by any component.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgelite import ir

# Ops that act on each channel separately: input 0's channel c is output's channel c.
CHANNELWISE = frozenset({
    "RELU", "RELU6", "RELU_N1_TO_1", "RELU_0_TO_1", "LOGISTIC", "TANH", "HARD_SWISH",
    "LEAKY_RELU", "ABS", "NEG", "EXP", "SQRT", "RSQRT", "SQUARE", "ELU", "GELU", "FLOOR",
    "CEIL", "ROUND", "LOG", "SIN", "COS", "MAX_POOL_2D", "AVERAGE_POOL_2D", "L2_POOL_2D",
    "RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR", "SIGN",
})
# Elementwise ops with broadcasting: every operand with the result's channel count is tied.
ELEMENTWISE = frozenset({
    "ADD", "SUB", "MUL", "DIV", "MAXIMUM", "MINIMUM", "SQUARED_DIFFERENCE", "PRELU", "POW",
    "FLOOR_DIV",
})
PADS = frozenset({"PAD", "PADV2", "MIRROR_PAD"})
REDUCES = frozenset({"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD"})
RESHAPES = frozenset({"RESHAPE", "SQUEEZE", "EXPAND_DIMS"})
# Ops whose output channels are filters we can delete, and whose input channels are read by
# weight columns we can delete.
LAYERS = frozenset({"CONV_2D", "FULLY_CONNECTED"})


@dataclass
class Unit:
    """One prunable component: the channels removed together, by tensor."""

    index: int
    slots: dict[int, list[int]]  # id(tensor) -> channel indices along the last axis


@dataclass
class Group:
    """Tensors tied by coupled channels, with their units (empty when the group is unsafe)."""

    index: int
    tensors: list[ir.Tensor]
    units: list[Unit] = field(default_factory=list)
    sources: list[ir.Op] = field(default_factory=list)  # CONV_2D/FC whose filters go
    consumers: list[ir.Op] = field(default_factory=list)  # CONV_2D/FC whose columns go
    reason: str | None = None  # why the group is left alone (None: prunable)

    @property
    def name(self) -> str:
        if self.sources:
            return ",".join(op.name or op.outputs[0].name for op in self.sources[:3]) + (
                "..." if len(self.sources) > 3 else "")
        return self.tensors[0].name

    @property
    def channels(self) -> int:
        return len(self.units)


def channels(t: ir.Tensor) -> int:
    return int(t.shape[-1]) if t.shape else 1


def _const_int(t: ir.Tensor | None) -> list[int] | None:
    if t is None or t.data is None:
        return None
    return [int(v) for v in np.asarray(t.data).reshape(-1)]


class _Slots:
    """Union-find over every channel of every tracked tensor."""

    def __init__(self) -> None:
        self.base: dict[int, int] = {}
        self.tensor: dict[int, ir.Tensor] = {}
        self.parent: list[int] = []
        self.unsafe: dict[int, str] = {}  # id(tensor) -> reason

    def of(self, t: ir.Tensor) -> int:
        key = id(t)
        if key not in self.base:
            self.base[key] = len(self.parent)
            self.tensor[key] = t
            self.parent.extend(range(len(self.parent), len(self.parent) + channels(t)))
        return self.base[key]

    def find(self, a: int) -> int:
        p = self.parent
        root = a
        while p[root] != root:
            root = p[root]
        while p[a] != root:
            p[a], a = root, p[a]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                ra, rb = rb, ra
            self.parent[ra] = rb

    def tie(self, a: ir.Tensor, ca: int, b: ir.Tensor, cb: int) -> None:
        self.union(self.of(a) + ca, self.of(b) + cb)

    def same(self, a: ir.Tensor, b: ir.Tensor) -> None:
        for c in range(channels(a)):
            self.tie(a, c, b, c)

    def mark(self, t: ir.Tensor, reason: str) -> None:
        self.of(t)
        self.unsafe.setdefault(id(t), reason)


def _where(op: ir.Op) -> str:
    return f"{op.type} {op.name or op.outputs[0].name!r}"


def _couple(op: ir.Op, s: _Slots) -> None:
    """Record the ties ``op`` makes between channels (or mark its tensors unsafe)."""
    acts = [t for t in op.inputs if t is not None and not t.is_const]
    out = op.outputs[0] if op.outputs else None

    def unsafe(reason: str) -> None:
        for t in [*acts, *op.outputs]:
            s.mark(t, f"{_where(op)}: {reason}")

    if op.type in LAYERS:
        x, w = op.inputs[0], op.inputs[1]
        if x is None or w is None or not w.is_const or x.is_const:
            return unsafe("weights are not constant")
        s.of(x)
        s.of(out)
        if channels(x) != w.shape[-1]:
            s.mark(x, f"{_where(op)}: input is flattened by the layer itself")
        return
    if op.type == "DEPTHWISE_CONV_2D":
        x, w = op.inputs[0], op.inputs[1]
        if x is None or w is None or not w.is_const:
            return unsafe("weights are not constant")
        mult = channels(out) // max(channels(x), 1)
        if mult * channels(x) != channels(out):
            return unsafe("output channels are not a multiple of input channels")
        for c in range(channels(x)):
            for m in range(mult):
                s.tie(x, c, out, c * mult + m)
        return
    if op.type in CHANNELWISE:
        x = op.inputs[0]
        if x is None or x.is_const or channels(x) != channels(out):
            return unsafe("channel counts differ")
        s.same(x, out)
        return
    if op.type in ELEMENTWISE:
        c_out = channels(out)
        s.of(out)
        for t in op.inputs:
            if t is None:
                continue
            if channels(t) == c_out and len(t.shape) >= 1:
                if t.is_const and (t.size == 1 or len(t.shape) == 0):
                    continue
                s.same(t, out)
            elif channels(t) != 1:
                return unsafe(f"operand {t.name!r} broadcasts over channels")
        return
    if op.type == "CONCATENATION":
        rank = len(out.shape)
        axis = int(op.options.get("axis", 0))
        axis = axis + rank if axis < 0 else axis
        if axis == rank - 1:
            off = 0
            for t in op.inputs:
                for c in range(channels(t)):
                    s.tie(t, c, out, off + c)
                off += channels(t)
        else:
            for t in op.inputs:
                if channels(t) != channels(out):
                    return unsafe("channel counts differ")
                s.same(t, out)
        return
    if op.type in ("SPLIT", "SPLIT_V"):
        x = op.inputs[1] if op.type == "SPLIT" else op.inputs[0]
        ax = _const_int(op.inputs[0] if op.type == "SPLIT" else op.inputs[2])
        if x is None or ax is None:
            return unsafe("axis is not constant")
        rank = len(x.shape)
        axis = ax[0] + rank if ax[0] < 0 else ax[0]
        if axis == rank - 1:
            off = 0
            for t in op.outputs:
                for c in range(channels(t)):
                    s.tie(x, off + c, t, c)
                off += channels(t)
        else:
            for t in op.outputs:
                s.same(x, t)
        return
    if op.type in PADS:
        pads = _const_int(op.inputs[1])
        x = op.inputs[0]
        if pads is None or x is None:
            return unsafe("paddings are not constant")
        if any(pads[-2:]):
            return unsafe("pads the channel axis")
        s.same(x, out)
        return
    if op.type in REDUCES:
        x = op.inputs[0]
        axes = _const_int(op.inputs[1])
        if x is None or axes is None:
            return unsafe("axes are not constant")
        rank = len(x.shape)
        if any((a + rank if a < 0 else a) == rank - 1 for a in axes):
            return unsafe("reduces over channels")
        if channels(out) != channels(x):
            return unsafe("moves the channel axis")
        s.same(x, out)
        return
    if op.type in RESHAPES:
        x = op.inputs[0]
        a, b = tuple(x.shape), tuple(out.shape)
        if a and b and a[-1] == b[-1] and int(np.prod(a[:-1])) == int(np.prod(b[:-1])):
            s.same(x, out)
            return
        # A flatten: b = (a[0] ... a[k-1], prod(a[k:])): channel c becomes columns s*C + c.
        c = a[-1] if a else 1
        for k in range(1, len(a)):
            if b[:-1] == a[:k] and b[-1] == int(np.prod(a[k:])):
                spatial = b[-1] // c
                for sp in range(spatial):
                    for ch in range(c):
                        s.tie(x, ch, out, sp * c + ch)
                return
        return unsafe(f"reshape {list(a)} -> {list(b)} mixes channels")
    unsafe("not handled by channel pruning")


def find_groups(graph: ir.Graph) -> list[Group]:
    """The coupled-channel groups of ``graph`` (prunable ones with their units)."""
    s = _Slots()
    for op in graph.ops:
        _couple(op, s)
    for t in graph.inputs:
        s.mark(t, f"model input {t.name!r}")
    for t in graph.outputs:
        s.mark(t, f"model output {t.name!r}")
    producers = graph.producers()
    consumers = graph.consumers()

    # Components: root -> {tensor key: [channels]}.
    comps: dict[int, dict[int, list[int]]] = {}
    for key, base in s.base.items():
        for c in range(channels(s.tensor[key])):
            comps.setdefault(s.find(base + c), {}).setdefault(key, []).append(c)
    # Groups: tensors joined by any component (union-find on tensors).
    tparent = {key: key for key in s.base}

    def tfind(k: int) -> int:
        while tparent[k] != k:
            tparent[k] = tparent[tparent[k]]
            k = tparent[k]
        return k

    for comp in comps.values():
        keys = list(comp)
        for k in keys[1:]:
            a, b = tfind(keys[0]), tfind(k)
            if a != b:
                tparent[a] = b
    order = {id(t): i for i, t in enumerate(graph.tensors())}
    members: dict[int, list[int]] = {}
    for key in s.base:
        members.setdefault(tfind(key), []).append(key)
    comp_of_group: dict[int, list[dict[int, list[int]]]] = {}
    for root in sorted(comps):
        comp = comps[root]
        comp_of_group.setdefault(tfind(next(iter(comp))), []).append(comp)

    groups: list[Group] = []
    for groot, keys in sorted(members.items(), key=lambda kv: min(order.get(k, 1 << 30)
                                                                 for k in kv[1])):
        keys.sort(key=lambda k: order.get(k, 1 << 30))
        tensors = [s.tensor[k] for k in keys]
        g = Group(index=len(groups), tensors=tensors)
        for t in tensors:
            p = producers.get(t)
            if p is not None and p.type in LAYERS and p.outputs[0] is t:
                g.sources.append(p)
            for c in consumers.get(t, []):
                if c.type in LAYERS and c.inputs[0] is t and c not in g.consumers:
                    g.consumers.append(c)
        reasons = [s.unsafe[k] for k in keys if k in s.unsafe]
        if reasons:
            g.reason = reasons[0]
        elif not g.sources:
            g.reason = "no convolution or dense layer produces these channels"
        elif all(t.is_const for t in tensors):
            g.reason = "constants only"
        else:
            for comp in comp_of_group.get(groot, []):
                g.units.append(Unit(len(g.units), comp))
        groups.append(g)
    return groups
