"""The table of ONNX op lowerings.

Each lowering is registered once with its constraints (opsets, dtypes, inputs that must be
constant, notes), so `edgelite ops` can print coverage and unsupported models fail by name.
A lowering turns one ONNX node into IR ops with ONNX (NCHW) semantics: layout-sensitive ops
wrap their NHWC TFLite op in TRANSPOSEs (``ctx.to_nhwc`` / ``ctx.to_nchw``), and the layout
pass cancels them afterwards. A lowering raises ``UnsupportedError`` for any variant it does
not handle (an attribute value, a dtype, a non-constant input): never a silent fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import onnx
from onnx import helper, numpy_helper

from edgelite import ir
from edgelite.errors import UnsupportedError

LoweringFn = Callable[["LoweringContext", onnx.NodeProto], None]

# ONNX TensorProto data type -> our dtype name.
ONNX_DTYPES = {
    onnx.TensorProto.FLOAT: "float32",
    onnx.TensorProto.FLOAT16: "float16",
    onnx.TensorProto.INT8: "int8",
    onnx.TensorProto.UINT8: "uint8",
    onnx.TensorProto.INT16: "int16",
    onnx.TensorProto.INT32: "int32",
    onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.BOOL: "bool",
    onnx.TensorProto.DOUBLE: "float64",
}


@dataclass(frozen=True)
class Lowering:
    op_type: str
    fn: LoweringFn
    opsets: tuple[int, int]
    dtypes: tuple[str, ...]
    const_inputs: tuple[int, ...]
    notes: str


REGISTRY: dict[str, Lowering] = {}


def register(
    op_type: str,
    *,
    opsets: tuple[int, int] = (7, 21),
    dtypes: tuple[str, ...] = ("float32",),
    const_inputs: tuple[int, ...] = (),
    notes: str = "",
) -> Callable[[LoweringFn], LoweringFn]:
    """Register ``fn`` as the lowering of ONNX ``op_type``.

    ``const_inputs``: input indices whose values must be known at conversion time (weights,
    shapes, axes). ``dtypes``: element types of the op's data inputs that the lowering handles.
    """

    def wrap(fn: LoweringFn) -> LoweringFn:
        if op_type in REGISTRY:
            raise ValueError(f"lowering for {op_type} registered twice")
        REGISTRY[op_type] = Lowering(op_type, fn, opsets, dtypes, const_inputs, notes)
        return fn

    return wrap


class LoweringContext:
    """What a lowering sees: the ONNX values as IR tensors, and a builder for IR ops."""

    def __init__(self, graph: ir.Graph, opset: int, shapes: dict[str, tuple[tuple[int, ...], str]]):
        self.graph = graph
        self.opset = opset
        self.values: dict[str, ir.Tensor] = {}  # ONNX value name -> IR tensor
        self.shapes = shapes  # ONNX value name -> (static shape, dtype), from shape inference
        self._names: set[str] = set()
        self.node: onnx.NodeProto | None = None  # the node being lowered

    # ---- names ---------------------------------------------------------------------------
    def unique(self, base: str) -> str:
        name, i = base, 1
        while name in self._names:
            name = f"{base}_{i}"
            i += 1
        self._names.add(name)
        return name

    # ---- reading the node ----------------------------------------------------------------
    def has_input(self, node: onnx.NodeProto, i: int) -> bool:
        return i < len(node.input) and node.input[i] != ""

    def input(self, node: onnx.NodeProto, i: int) -> ir.Tensor:
        if not self.has_input(node, i):
            raise UnsupportedError(f"input {i} is missing", op_type=node.op_type, node=node.name)
        return self.values[node.input[i]]

    def const(self, node: onnx.NodeProto, i: int) -> np.ndarray:
        """The constant value of input ``i``; unsupported if it is computed at run time."""
        t = self.input(node, i)
        if not t.is_const:
            raise UnsupportedError(
                f"input {i} ({node.input[i]!r}) must be a constant", op_type=node.op_type,
                node=node.name,
            )
        return t.data

    def attr(self, node: onnx.NodeProto, name: str, default: Any = None) -> Any:
        for a in node.attribute:
            if a.name == name:
                value = helper.get_attribute_value(a)
                if isinstance(value, bytes):
                    return value.decode()
                if isinstance(value, onnx.TensorProto):
                    return numpy_helper.to_array(value)
                if isinstance(value, list):
                    return [v.decode() if isinstance(v, bytes) else v for v in value]
                return value
        return default

    def output_shape(self, node: onnx.NodeProto, i: int = 0) -> tuple[int, ...] | None:
        entry = self.shapes.get(node.output[i])
        return entry[0] if entry else None

    def unsupported(self, node: onnx.NodeProto, reason: str) -> UnsupportedError:
        return UnsupportedError(reason, op_type=node.op_type, node=node.name)

    # ---- building IR ---------------------------------------------------------------------
    def tensor(self, base: str, shape: tuple[int, ...], dtype: str = "float32") -> ir.Tensor:
        return ir.Tensor(self.unique(base), tuple(shape), dtype)

    def constant(self, base: str, value: Any, dtype: str | None = None) -> ir.Tensor:
        t = ir.const(self.unique(base), value, dtype)
        return t

    def add_op(
        self,
        op_type: str,
        inputs: list[ir.Tensor | None],
        outputs: list[ir.Tensor],
        options: dict[str, Any] | None = None,
    ) -> ir.Op:
        op = ir.Op(op_type, list(inputs), list(outputs), dict(options or {}),
                   name=self.node.name if self.node is not None else "")
        self.graph.ops.append(op)
        return op

    def set_output(self, node: onnx.NodeProto, i: int, tensor: ir.Tensor) -> None:
        """Bind ONNX output ``i`` of ``node`` to ``tensor``."""
        self.values[node.output[i]] = tensor

    def unary(self, op_type: str, x: ir.Tensor, options: dict[str, Any] | None = None,
              dtype: str | None = None, base: str | None = None) -> ir.Tensor:
        """Emit a single-input op with an output of x's shape."""
        y = self.tensor(base or (self.node.output[0] if self.node else x.name), x.shape,
                        dtype or x.dtype)
        self.add_op(op_type, [x], [y], options)
        return y

    def transpose(self, x: ir.Tensor, perm: tuple[int, ...]) -> ir.Tensor:
        if tuple(perm) == tuple(range(len(perm))):
            return x
        y = self.tensor(f"{x.name}_t", tuple(x.shape[p] for p in perm), x.dtype)
        self.add_op("TRANSPOSE", [x, self.constant(f"{x.name}_perm", np.array(perm, np.int32))],
                    [y])
        return y

    def reshape(self, x: ir.Tensor, shape: tuple[int, ...]) -> ir.Tensor:
        if tuple(shape) == tuple(x.shape):
            return x
        y = self.tensor(f"{x.name}_r", tuple(shape), x.dtype)
        self.add_op("RESHAPE", [x, self.constant(f"{x.name}_shape", np.array(shape, np.int32))],
                    [y], {"new_shape": [int(d) for d in shape]})
        return y

    def to_nhwc(self, x: ir.Tensor) -> ir.Tensor:
        """NC(spatial...) -> N(spatial...)C, for a tensor of rank >= 3."""
        r = len(x.shape)
        return self.transpose(x, (0, *range(2, r), 1))

    def to_nchw(self, x: ir.Tensor) -> ir.Tensor:
        """N(spatial...)C -> NC(spatial...), for a tensor of rank >= 3."""
        r = len(x.shape)
        return self.transpose(x, (0, r - 1, *range(1, r - 1)))


def check_node(lowering: Lowering, node: onnx.NodeProto, ctx: LoweringContext) -> None:
    """The registry's declared constraints, checked before the lowering runs."""
    lo, hi = lowering.opsets
    if not lo <= ctx.opset <= hi:
        raise UnsupportedError(
            f"opset {ctx.opset} is outside the supported range {lo}-{hi}",
            op_type=node.op_type, node=node.name,
        )
    for i in lowering.const_inputs:
        if ctx.has_input(node, i) and not ctx.values[node.input[i]].is_const:
            raise UnsupportedError(
                f"input {i} ({node.input[i]!r}) must be a constant", op_type=node.op_type,
                node=node.name,
            )
    if node.input and ctx.has_input(node, 0):
        dtype = ctx.values[node.input[0]].dtype
        if dtype not in lowering.dtypes:
            raise UnsupportedError(
                f"dtype {dtype} is not supported (supported: {', '.join(lowering.dtypes)})",
                op_type=node.op_type, node=node.name,
            )
