"""What LiteRT's Python Interpreter reports, computed from the .tflite file itself.

``ai_edge_litert.interpreter.Interpreter`` describes tensors as dicts (get_input_details and
friends) and runs signatures through a runner object. This module builds the same dicts, with
the same keys, value types and index numbering (the file's tensor indices in subgraph 0), so
code written for LiteRT runs unchanged on runtime_micro. Facts taken from LiteRT's documented
behaviour:

- ``quantization`` is the legacy (scale, zero_point) pair: set only when the file has exactly
  one scale and one zero point, (0.0, 0) otherwise (per-channel or unquantized tensors);
- ``quantization_parameters`` holds every scale (float32), zero point (int32) and the
  quantized dimension; empty arrays when the tensor is not quantized;
- ``dtype`` is the numpy scalar type (``numpy.int8``), ``shape`` an int32 array;
- signature inputs and outputs are listed by name in sorted order (LiteRT keeps them in a
  std::map).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.tflite.reader import ModelInfo, SignatureInfo, TensorInfo

if TYPE_CHECKING:
    from edgelite.runtime.interpreter import Interpreter

DEFAULT_SIGNATURE = "serving_default"


class TensorValueError(EdgeliteError, ValueError):
    """A value set_tensor cannot take: LiteRT raises ValueError there, so this is one too."""


def quantization(t: TensorInfo) -> tuple[float, int]:
    q = t.quantization
    if q is None or len(q.scale) != 1 or len(q.zero_point) != 1:
        return (0.0, 0)
    return (float(np.float32(q.scale[0])), int(q.zero_point[0]))


def quantization_parameters(t: TensorInfo) -> dict[str, Any]:
    q = t.quantization
    if q is None:
        return {"scales": np.zeros(0, np.float32), "zero_points": np.zeros(0, np.int32),
                "quantized_dimension": 0, "block_size": 0}
    return {"scales": np.asarray(q.scale, np.float32),
            "zero_points": np.asarray(q.zero_point, np.int32),
            "quantized_dimension": int(q.quantized_dimension),
            "block_size": 0}  # blockwise quantization: not in files we read


def sparsity_parameters(t: TensorInfo) -> dict[str, Any]:
    sp = t.sparsity
    if sp is None:
        return {}
    levels = []
    for m in sp.dim_metadata:
        if m.format == 0:  # DENSE
            levels.append({"format": 0, "dense_size": int(m.dense_size)})
        else:
            levels.append({"format": 1,
                           "array_segments": np.asarray(m.segments, np.int32),
                           "array_indices": np.asarray(m.indices, np.int32)})
    return {"traversal_order": np.asarray(sp.traversal_order, np.int32),
            "block_map": np.asarray(sp.block_map, np.int32), "dim_metadata": levels}


def details(t: TensorInfo, shape: tuple[int, ...], dtype: np.dtype) -> dict[str, Any]:
    """One tensor's dict, as LiteRT's get_input_details / get_tensor_details give it.
    ``shape`` and ``dtype`` are the runtime's (after init), the rest the file's."""
    sig = t.shape_signature if t.shape_signature is not None else list(shape)
    return {
        "name": t.name,
        "index": t.index,
        "shape": np.asarray(shape, np.int32),
        "shape_signature": np.asarray(sig, np.int32),
        "dtype": dtype.type,
        "quantization": quantization(t),
        "quantization_parameters": quantization_parameters(t),
        "sparsity_parameters": sparsity_parameters(t),
    }


def signatures(model: ModelInfo, inputs: list[int], outputs: list[int],
               names: dict[int, str]) -> list[SignatureInfo]:
    """The file's SignatureDefs of subgraph 0, or one ``serving_default`` made of the
    model's inputs and outputs by tensor name when the file has none."""
    found = [s for s in model.signatures if s.subgraph_index == 0]
    if found:
        return found
    return [SignatureInfo(DEFAULT_SIGNATURE, 0, {names[i]: i for i in inputs},
                          {names[i]: i for i in outputs})]


class SignatureRunner:
    """Runs one signature: ``runner(x=array)`` returns {output name: array}, as LiteRT's
    SignatureRunner does. Input values follow set_tensor's rules (dtype and shape exact)."""

    def __init__(self, interpreter: Interpreter, signature: SignatureInfo) -> None:
        self._interp = interpreter
        self._sig = signature

    def __call__(self, **kwargs: Any) -> dict[str, np.ndarray]:
        self.invoke(**kwargs)
        return {name: self._interp.get_tensor(i) for name, i in sorted(self._sig.outputs.items())}

    def allocate_tensors(self) -> None:
        """Nothing to do: runtime_micro plans its arena once, at construction."""

    def invoke(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(self._sig.inputs))
        if unknown:
            raise TensorValueError(
                f"signature {self._sig.key!r} has no input(s) {unknown}", code=Code.BAD_INPUT,
                hint=f"its inputs: {', '.join(sorted(self._sig.inputs))}")
        missing = sorted(set(self._sig.inputs) - set(kwargs))
        if missing:
            raise TensorValueError(f"signature {self._sig.key!r}: no value for input(s) "
                                   f"{missing}", code=Code.BAD_INPUT)
        for name, value in kwargs.items():
            self._interp.set_tensor(self._sig.inputs[name], value)
        self._interp.invoke()

    def get_input_details(self) -> dict[str, dict[str, Any]]:
        return {name: self._interp._tensor_dict(i) for name, i in sorted(self._sig.inputs.items())}

    def get_output_details(self) -> dict[str, dict[str, Any]]:
        return {name: self._interp._tensor_dict(i)
                for name, i in sorted(self._sig.outputs.items())}


def check_value(value: Any, d: dict[str, Any], where: str) -> np.ndarray:
    """``value`` as set_tensor takes it: the exact dtype and shape, else ValueError (LiteRT
    refuses a mismatch the same way rather than converting)."""
    arr = np.asarray(value)
    want = np.dtype(d["dtype"])
    if arr.dtype != want:
        hint = ("quantize it: q = round(x / scale) + zero_point with scale, zero_point = "
                "details['quantization'], or use set_input(), which does that"
                if want.kind in "iu" and arr.dtype.kind == "f" and d["quantization"][0] > 0
                else f"convert it: value.astype(np.{want.name})")
        raise TensorValueError(f"cannot set tensor {d['index']} ({d['name']!r}): got {arr.dtype}"
                               f", expected {want}", code=Code.BAD_INPUT, where=where, hint=hint)
    shape = tuple(int(v) for v in d["shape"])
    if arr.shape != shape:
        raise TensorValueError(f"cannot set tensor {d['index']} ({d['name']!r}): got shape "
                               f"{list(arr.shape)}, expected {list(shape)}",
                               code=Code.BAD_INPUT, where=where,
                               hint="runtime_micro runs static shapes: give exactly this shape")
    return np.ascontiguousarray(arr)
