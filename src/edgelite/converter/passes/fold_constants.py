"""Evaluate IR ops whose inputs are all constant; drop ops nobody reads.

Only simple ops get a numpy evaluator here (data movement, elementwise, small reductions):
they are what lowerings leave around weights and shape tensors. Anything else stays an op.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edgelite import ir
from edgelite.converter.passes._util import Index, apply_activation
from edgelite.errors import Code, EdgeliteError

Evaluator = Callable[[ir.Op, list[np.ndarray]], np.ndarray]


def _act(op: ir.Op, value: np.ndarray) -> np.ndarray:
    return apply_activation(value, op.options.get("fused_activation_function", "NONE"))


def _binary(fn: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Evaluator:
    return lambda op, v: _act(op, fn(v[0], v[1]))


def _unary(fn: Callable[[np.ndarray], np.ndarray]) -> Evaluator:
    return lambda op, v: fn(v[0])


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        return np.trunc(a / b).astype(a.dtype)  # TFLite integer DIV truncates
    return a / b


def _reduce(fn: Callable[..., np.ndarray]) -> Evaluator:
    def run(op: ir.Op, v: list[np.ndarray]) -> np.ndarray:
        axes = tuple(int(a) % max(v[0].ndim, 1) for a in np.atleast_1d(v[1]))
        if any(v[0].shape[a] == 0 for a in axes if a < v[0].ndim):
            # a model whose input has a zero dimension: the max/min/mean of nothing
            raise EdgeliteError(f"{op.type} {op.name!r} reduces an empty axis of a tensor of "
                                f"shape {list(v[0].shape)}", code=Code.UNSUPPORTED,
                                hint="give the input a shape with no zero dimension")
        return fn(v[0], axis=tuple(sorted(set(axes))), keepdims=bool(op.options.get("keep_dims")))
    return run


def _slice(op: ir.Op, v: list[np.ndarray]) -> np.ndarray:
    begin = [int(b) for b in v[1]]
    size = [int(s) for s in v[2]]
    return v[0][tuple(slice(b, None if s < 0 else b + s) for b, s in zip(begin, size))]


def _pad(op: ir.Op, v: list[np.ndarray]) -> np.ndarray:
    value = v[2].reshape(-1)[0] if len(v) > 2 else 0
    return np.pad(v[0], [(int(a), int(b)) for a, b in v[1]], constant_values=value)


EVALUATORS: dict[str, Evaluator] = {
    "TRANSPOSE": lambda op, v: np.transpose(v[0], [int(p) for p in v[1]]),
    "RESHAPE": lambda op, v: v[0].reshape(op.outputs[0].shape),
    "SQUEEZE": lambda op, v: v[0].reshape(op.outputs[0].shape),
    "EXPAND_DIMS": lambda op, v: v[0].reshape(op.outputs[0].shape),
    "CAST": lambda op, v: v[0].astype(op.outputs[0].dtype),
    "ADD": _binary(np.add),
    "SUB": _binary(np.subtract),
    "MUL": _binary(np.multiply),
    "DIV": _binary(_div),
    "MAXIMUM": _binary(np.maximum),
    "MINIMUM": _binary(np.minimum),
    "POW": _binary(np.power),
    "SQUARED_DIFFERENCE": _binary(lambda a, b: (a - b) * (a - b)),
    "NEG": _unary(np.negative),
    "ABS": _unary(np.abs),
    "SQRT": _unary(np.sqrt),
    "RSQRT": _unary(lambda x: 1 / np.sqrt(x)),
    "EXP": _unary(np.exp),
    "LOG": _unary(np.log),
    "SQUARE": _unary(np.square),
    "FLOOR": _unary(np.floor),
    "CEIL": _unary(np.ceil),
    "RELU": _unary(lambda x: np.maximum(x, 0)),
    "RELU6": _unary(lambda x: np.clip(x, 0, 6)),
    "CONCATENATION": lambda op, v: _act(op, np.concatenate(v, axis=int(op.options["axis"]))),
    "PAD": _pad,
    "PADV2": _pad,
    "GATHER": lambda op, v: np.take(v[0], v[1], axis=int(op.options.get("axis", 0))),
    "SLICE": _slice,
    "TILE": lambda op, v: np.tile(v[0], [int(m) for m in v[1]]),
    "MEAN": _reduce(np.mean),
    "SUM": _reduce(np.sum),
    "REDUCE_MAX": _reduce(np.max),
    "REDUCE_MIN": _reduce(np.min),
    "REDUCE_PROD": _reduce(np.prod),
    "SHAPE": lambda op, v: np.array(v[0].shape),
}


def fold_constants(graph: ir.Graph) -> bool:
    """Evaluate constant ops in place: their output tensor becomes a constant."""
    ix = Index(graph)
    changed = False
    for op in graph.ops:
        fn = EVALUATORS.get(op.type)
        if fn is None or len(op.outputs) != 1 or not op.inputs:
            continue
        if any(t is None or not t.is_const for t in op.inputs):
            continue
        out = op.outputs[0]
        if ix.is_output(out) or out.quant is not None:
            continue  # the model must still compute its outputs
        with np.errstate(all="ignore"):
            value = np.asarray(fn(op, [t.data for t in op.inputs]))
        if tuple(value.shape) != out.shape:
            continue  # an op whose semantics we got wrong must not be folded silently
        out.data = np.ascontiguousarray(value.astype(out.dtype))
        ix.remove(op)
        changed = True
    ix.commit()
    return changed


def remove_dead(graph: ir.Graph) -> bool:
    before = len(graph.ops)
    graph.remove_dead()
    return len(graph.ops) != before
