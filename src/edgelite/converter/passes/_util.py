"""Small helpers shared by the IR passes."""

from __future__ import annotations

import numpy as np

from edgelite import ir


class Namer:
    """Fresh names for one pass run; cheaper than fresh_name when making many tensors."""

    def __init__(self, graph: ir.Graph) -> None:
        self.names = {t.name for t in graph.tensors()}

    def __call__(self, base: str) -> str:
        name, i = base, 1
        while name in self.names:
            name = f"{base}_{i}"
            i += 1
        self.names.add(name)
        return name


def perm_of(op: ir.Op) -> tuple[int, ...] | None:
    """A TRANSPOSE's permutation, or None if it is not a constant."""
    if op.type != "TRANSPOSE" or len(op.inputs) < 2:
        return None
    p = op.inputs[1]
    return None if p is None or p.data is None else tuple(int(v) for v in p.data.reshape(-1))


def inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def is_identity(perm: tuple[int, ...]) -> bool:
    return perm == tuple(range(len(perm)))


class Index:
    """Producers and consumers of a graph's tensors, kept current by the edits made through it.

    Passes edit through an Index so each rewrite costs O(degree), not a scan of the graph:
    removals and insertions are recorded and applied to ``graph.ops`` in one sweep by
    ``commit()`` (a pass must call it before returning).
    """

    def __init__(self, graph: ir.Graph) -> None:
        self.graph = graph
        self.producers = graph.producers()
        self.consumers = graph.consumers()  # one entry per input slot reading the tensor
        self._outputs = {id(t) for t in graph.outputs}
        self._inputs = {id(t) for t in graph.inputs}
        self._removed: set[int] = set()
        self._before: dict[int, list[ir.Op]] = {}
        self._after: dict[int, list[ir.Op]] = {}

    # ---- queries ----
    def is_output(self, t: ir.Tensor) -> bool:
        return id(t) in self._outputs

    def is_input(self, t: ir.Tensor) -> bool:
        return id(t) in self._inputs

    def removed(self, op: ir.Op) -> bool:
        return id(op) in self._removed

    def uses(self, t: ir.Tensor) -> list[ir.Op]:
        """The ops reading ``t``, each once, in a deterministic order."""
        return list({id(o): o for o in self.consumers.get(t, [])}.values())

    def single_consumer(self, t: ir.Tensor) -> ir.Op | None:
        """The one op reading ``t`` (through one input) if ``t`` is not a graph output."""
        uses = self.consumers.get(t, [])
        if len(uses) != 1 or self.is_output(t):
            return None
        return uses[0]

    # ---- edits ----
    def set_input(self, op: ir.Op, k: int, new: ir.Tensor | None) -> None:
        old = op.inputs[k]
        if old is new:
            return
        if old is not None:
            self.consumers[old].remove(op)
        op.inputs[k] = new
        if new is not None:
            self.consumers.setdefault(new, []).append(op)

    def set_inputs(self, op: ir.Op, inputs: list[ir.Tensor | None]) -> None:
        for t in op.inputs:
            if t is not None:
                self.consumers[t].remove(op)
        op.inputs = list(inputs)
        for t in op.inputs:
            if t is not None:
                self.consumers.setdefault(t, []).append(op)

    def set_outputs(self, op: ir.Op, outputs: list[ir.Tensor]) -> None:
        for t in op.outputs:
            if self.producers.get(t) is op:
                del self.producers[t]
        op.outputs = list(outputs)
        for t in op.outputs:
            self.producers[t] = op

    def replace_uses(self, old: ir.Tensor, new: ir.Tensor) -> None:
        """Every reader of ``old`` (ops and graph outputs) reads ``new``."""
        for op in self.uses(old):
            self.set_inputs(op, [new if t is old else t for t in op.inputs])
        if self.is_output(old):
            self.graph.outputs = [new if t is old else t for t in self.graph.outputs]
            self._outputs = {id(t) for t in self.graph.outputs}

    def remove(self, op: ir.Op) -> None:
        self._removed.add(id(op))
        for t in op.inputs:
            if t is not None:
                self.consumers[t].remove(op)
        for t in op.outputs:
            if self.producers.get(t) is op:
                del self.producers[t]

    def _register(self, op: ir.Op) -> None:
        for t in op.inputs:
            if t is not None:
                self.consumers.setdefault(t, []).append(op)
        for t in op.outputs:
            self.producers[t] = op

    def insert_after(self, anchor: ir.Op, op: ir.Op) -> None:
        self._register(op)
        self._after.setdefault(id(anchor), []).append(op)

    def insert_before(self, anchor: ir.Op, op: ir.Op) -> None:
        self._register(op)
        self._before.setdefault(id(anchor), []).append(op)

    def commit(self) -> None:
        """Apply the recorded removals and insertions to ``graph.ops``."""
        ops: list[ir.Op] = []
        for op in self.graph.ops:
            ops.extend(self._before.pop(id(op), []))
            ops.append(op)
            ops.extend(self._after.pop(id(op), []))
        self.graph.ops = [op for op in ops if id(op) not in self._removed]
        self._removed.clear()


def bypass(ix: Index, op: ir.Op, src: ir.Tensor, dst: ir.Tensor) -> bool:
    """Remove ``op``, whose output ``dst`` equals its input ``src`` in value.

    Readers of ``dst`` read ``src``. If ``dst`` is a graph output, the graph keeps that
    tensor (its name is the model's interface): the producer of ``src`` writes ``dst``
    instead, when ``src`` has no other use. Returns False if the op must stay.
    """
    if src.shape != dst.shape or src.dtype != dst.dtype:
        return False
    if not ix.is_output(dst):
        ix.remove(op)
        ix.replace_uses(dst, src)
        return True
    producer = ix.producers.get(src)
    uses = [o for o in ix.consumers.get(src, []) if o is not op]
    if producer is None or uses or ix.is_output(src):
        return False
    ix.remove(op)
    ix.set_outputs(producer, [dst if t is src else t for t in producer.outputs])
    return True


def new_const(namer: Namer, base: str, value: np.ndarray) -> ir.Tensor:
    arr = np.ascontiguousarray(value)
    return ir.Tensor(namer(base), arr.shape, arr.dtype.name, data=arr)



ACTIVATIONS = {
    "NONE": lambda x: x,
    "RELU": lambda x: np.maximum(x, 0),
    "RELU6": lambda x: np.clip(x, 0, 6),
    "RELU_N1_TO_1": lambda x: np.clip(x, -1, 1),
    "TANH": np.tanh,
}


def apply_activation(value: np.ndarray, name: str) -> np.ndarray:
    return ACTIVATIONS[name](value).astype(value.dtype)


RESHAPE_LIKE = ("RESHAPE", "SQUEEZE", "EXPAND_DIMS")


def transpose_op(namer: Namer, x: ir.Tensor, y: ir.Tensor, perm: tuple[int, ...],
                 name: str = "") -> ir.Op:
    return ir.Op("TRANSPOSE", [x, new_const(namer, f"{y.name}_perm", np.array(perm, np.int32))],
                 [y], {}, name=name)
