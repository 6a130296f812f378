"""Small helpers shared by the IR passes."""

from __future__ import annotations

import numpy as np

from edgelite import ir


def fresh_name(graph: ir.Graph, base: str) -> str:
    """A tensor name not used in ``graph`` (deterministic: depends only on the graph)."""
    names = {t.name for t in graph.tensors()}
    name, i = base, 1
    while name in names:
        name = f"{base}_{i}"
        i += 1
    return name


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


def const_value(t: ir.Tensor | None) -> np.ndarray | None:
    return None if t is None or t.data is None else t.data


def perm_of(op: ir.Op) -> tuple[int, ...] | None:
    """A TRANSPOSE's permutation, or None if it is not a constant."""
    if op.type != "TRANSPOSE" or len(op.inputs) < 2:
        return None
    p = const_value(op.inputs[1])
    return None if p is None else tuple(int(v) for v in p.reshape(-1))


def inverse(perm: tuple[int, ...]) -> tuple[int, ...]:
    inv = [0] * len(perm)
    for i, p in enumerate(perm):
        inv[p] = i
    return tuple(inv)


def is_identity(perm: tuple[int, ...]) -> bool:
    return perm == tuple(range(len(perm)))


def is_output(graph: ir.Graph, t: ir.Tensor) -> bool:
    return any(o is t for o in graph.outputs)


def is_input(graph: ir.Graph, t: ir.Tensor) -> bool:
    return any(i is t for i in graph.inputs)


def bypass(graph: ir.Graph, op: ir.Op, src: ir.Tensor, dst: ir.Tensor) -> bool:
    """Remove ``op``, whose output ``dst`` equals its input ``src`` in value.

    Readers of ``dst`` read ``src``. If ``dst`` is a graph output, the graph keeps that
    tensor (its name is the model's interface): the producer of ``src`` writes ``dst``
    instead, when ``src`` has no other use. Returns False if the op must stay.
    """
    if src.shape != dst.shape or src.dtype != dst.dtype:
        return False
    if not is_output(graph, dst):
        graph.remove_op(op)
        graph.replace_uses(dst, src)
        return True
    producer = graph.producers().get(src)
    uses = [o for o in graph.consumers().get(src, []) if o is not op]
    if producer is None or uses or is_output(graph, src):
        return False
    graph.remove_op(op)
    producer.outputs = [dst if t is src else t for t in producer.outputs]
    return True


def new_const(namer: Namer, base: str, value: np.ndarray) -> ir.Tensor:
    arr = np.ascontiguousarray(value)
    return ir.Tensor(namer(base), arr.shape, arr.dtype.name, data=arr)


def single_consumer(graph: ir.Graph, t: ir.Tensor, consumers: dict | None = None) -> ir.Op | None:
    """The one op reading ``t`` if it has exactly one reader and is not a graph output."""
    uses = (consumers if consumers is not None else graph.consumers()).get(t, [])
    if len(uses) != 1 or is_output(graph, t):
        return None
    if sum(1 for x in uses[0].inputs if x is t) != 1:
        return None
    return uses[0]


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


def reshape_op(namer: Namer, x: ir.Tensor, y: ir.Tensor, name: str = "") -> ir.Op:
    """A RESHAPE op from x to y's shape, in the form lowerings emit it."""
    shape = np.array(y.shape, dtype=np.int32)
    return ir.Op("RESHAPE", [x, new_const(namer, f"{y.name}_shape", shape)], [y],
                 {"new_shape": [int(d) for d in y.shape]}, name=name)


def transpose_op(namer: Namer, x: ir.Tensor, y: ir.Tensor, perm: tuple[int, ...],
                 name: str = "") -> ir.Op:
    return ir.Op("TRANSPOSE", [x, new_const(namer, f"{y.name}_perm", np.array(perm, np.int32))],
                 [y], {}, name=name)


def replace_op(graph: ir.Graph, old: ir.Op, new: list[ir.Op]) -> None:
    """Put ``new`` where ``old`` was in the op list."""
    i = next(k for k, o in enumerate(graph.ops) if o is old)
    graph.ops[i:i + 1] = new
