"""The intermediate representation every part of edgelite works on.

A Graph is a list of Ops in topological order over Tensors. Ops are TFLite builtin operators
(``type`` is the schema's BuiltinOperator name, e.g. "CONV_2D"); their ``options`` dict uses the
field names of the operator's ``*Options`` table in the TFLite schema, with enum values given by
their schema names ("SAME", "RELU6", ...). Tensor-valued parameters (RESHAPE's shape, PAD's
paddings, TRANSPOSE's perm, ...) are constant int32 input tensors, as in TFLite.

Tensors are referenced by identity, not by name, so passes can rewrite the graph freely; names
are kept only for signatures, reports and error messages. Constants carry their numpy value in
``data``. Layout is whatever the ops say: the ONNX reader produces NCHW semantics with explicit
TRANSPOSEs around layout-sensitive ops, and the layout pass removes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

import numpy as np

# dtype names are numpy's, restricted to what TFLite can store.
DTYPES = ("float32", "float16", "int8", "uint8", "int16", "int32", "int64", "bool")


@dataclass
class QuantParams:
    """Affine quantization: real = scale * (q - zero_point).

    ``scale`` and ``zero_point`` have one entry (per-tensor) or one per slice along
    ``axis`` (per-channel, TFLite's quantized_dimension).
    """

    scale: np.ndarray
    zero_point: np.ndarray
    axis: int = 0

    def __post_init__(self) -> None:
        self.scale = np.atleast_1d(np.asarray(self.scale, dtype=np.float32))
        self.zero_point = np.atleast_1d(np.asarray(self.zero_point, dtype=np.int64))

    @property
    def per_channel(self) -> bool:
        return self.scale.size > 1


@dataclass(eq=False)
class Tensor:
    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    data: np.ndarray | None = None
    quant: QuantParams | None = None
    # Pruned constant: the writer may store it in TFLite's sparse form when that saves bytes.
    sparse: bool = False

    def __post_init__(self) -> None:
        self.shape = tuple(int(d) for d in self.shape)
        if self.dtype not in DTYPES:
            raise ValueError(f"tensor {self.name!r}: unsupported dtype {self.dtype}")
        if self.data is not None:
            # np.require, not np.ascontiguousarray: the latter turns 0-d scalars into 1-d
            self.data = np.require(self.data, dtype=self.dtype, requirements="C")
            if tuple(self.data.shape) != self.shape:
                raise ValueError(
                    f"tensor {self.name!r}: data shape {self.data.shape} != shape {self.shape}"
                )

    @property
    def is_const(self) -> bool:
        return self.data is not None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    def __repr__(self) -> str:
        kind = "const " if self.is_const else ""
        return f"Tensor({self.name!r}, {kind}{self.dtype}{list(self.shape)})"


@dataclass(eq=False)
class Op:
    type: str
    inputs: list[Tensor | None]  # None: an optional input left out (written as index -1)
    outputs: list[Tensor]
    options: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # the source node this op came from, for errors and reports

    def __repr__(self) -> str:
        ins = ", ".join(t.name if t is not None else "-" for t in self.inputs)
        outs = ", ".join(t.name for t in self.outputs)
        return f"Op({self.type} [{self.name}] ({ins}) -> ({outs}) {self.options})"


@dataclass(eq=False)
class Graph:
    inputs: list[Tensor] = field(default_factory=list)
    outputs: list[Tensor] = field(default_factory=list)
    ops: list[Op] = field(default_factory=list)
    name: str = "main"
    # Free-form metadata written into the .tflite Model.metadata (name -> bytes).
    metadata: dict[str, bytes] = field(default_factory=dict)
    # What a reader or pass assumed for the user (printed as "note: ..." by the CLI).
    notes: list[str] = field(default_factory=list)
    # Tensors (by name) that are one quantity at different times, e.g. a gate of an unrolled
    # GRU at each step: the quantizer gives each group one range (pipeline.py writes them
    # into the edgelite metadata, where the quantizer reads them).
    range_groups: list[list[str]] = field(default_factory=list)

    # ---- queries -------------------------------------------------------------------------
    def producers(self) -> dict[Tensor, Op]:
        return {t: op for op in self.ops for t in op.outputs}

    def consumers(self) -> dict[Tensor, list[Op]]:
        uses: dict[Tensor, list[Op]] = {}
        for op in self.ops:
            for t in op.inputs:
                if t is not None:
                    uses.setdefault(t, []).append(op)
        return uses

    def tensors(self) -> list[Tensor]:
        """Every tensor, each once, in a deterministic order (inputs, then op order)."""
        seen: dict[int, Tensor] = {}
        for t in self.inputs:
            seen.setdefault(id(t), t)
        for op in self.ops:
            for t in [*op.inputs, *op.outputs]:
                if t is not None:
                    seen.setdefault(id(t), t)
        for t in self.outputs:
            seen.setdefault(id(t), t)
        return list(seen.values())

    def iter_ops(self, op_type: str) -> Iterator[Op]:
        return (op for op in list(self.ops) if op.type == op_type)

    # ---- rewrites ------------------------------------------------------------------------
    def replace_uses(self, old: Tensor, new: Tensor) -> None:
        """Make every reader of ``old`` (ops and graph outputs) read ``new`` instead."""
        for op in self.ops:
            op.inputs = [new if t is old else t for t in op.inputs]
        self.outputs = [new if t is old else t for t in self.outputs]

    def remove_op(self, op: Op) -> None:
        self.ops = [o for o in self.ops if o is not op]

    def remove_dead(self) -> None:
        """Drop ops whose outputs nobody reads (graph outputs count as readers)."""
        live = {id(t) for t in self.outputs}
        kept: list[Op] = []
        for op in reversed(self.ops):
            if any(id(t) in live for t in op.outputs):
                kept.append(op)
                live.update(id(t) for t in op.inputs if t is not None)
        self.ops = kept[::-1]

    def toposort(self) -> None:
        """Order ops so every op comes after the producers of its inputs (stable)."""
        produced_by = self.producers()
        done: set[int] = set()
        order: list[Op] = []
        visiting: set[int] = set()

        def visit(op: Op) -> None:
            if id(op) in done:
                return
            if id(op) in visiting:
                raise ValueError(f"graph has a cycle through {op!r}")
            visiting.add(id(op))
            for t in op.inputs:
                if t is not None and t in produced_by:
                    visit(produced_by[t])
            visiting.discard(id(op))
            done.add(id(op))
            order.append(op)

        for op in self.ops:
            visit(op)
        self.ops = order

    def validate(self) -> None:
        """Check the structural invariants every pass must keep."""
        defined = {id(t) for t in self.inputs}
        for op in self.ops:
            for t in op.inputs:
                if t is not None and not t.is_const and id(t) not in defined:
                    raise ValueError(f"{op!r} reads {t!r} before it is produced")
            for t in op.outputs:
                if id(t) in defined:
                    raise ValueError(f"{t!r} is produced twice (by {op!r})")
                defined.add(id(t))
        for t in self.outputs:
            if not t.is_const and id(t) not in defined:
                raise ValueError(f"graph output {t!r} is never produced")


def const(name: str, value: Any, dtype: str | None = None) -> Tensor:
    """A constant tensor from a numpy-convertible value."""
    arr = np.asarray(value, dtype=dtype) if dtype else np.asarray(value)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    return Tensor(name, arr.shape, str(arr.dtype), data=arr)
