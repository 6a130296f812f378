"""Read an ONNX file into the IR.

Steps: load and check the file → give every graph input a static shape → learn every value's
shape with ONNX shape inference → fold everything computable at conversion time (constant
subgraphs, Shape/Size of statically shaped values, Identity/Dropout) → lower each remaining node
through the lowering REGISTRY. Unsupported nodes are collected over the whole graph and reported
together, so a user sees every missing op in one run.
"""

from __future__ import annotations

import faulthandler
import os
import stat
import threading
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from google.protobuf.message import DecodeError
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from edgelite import ir
from edgelite.converter import ops as _ops  # noqa: F401  (importing registers the lowerings)
from edgelite.converter.ops.gelu import fuse_gelu_nodes
from edgelite.converter.ops.registry import ONNX_DTYPES, REGISTRY, LoweringContext, check_node
from edgelite.errors import Code, EdgeliteError, UnsupportedError, UnsupportedReport

MIN_OPSET, MAX_OPSET = 7, 21
# protobuf refuses messages over 2 GiB; a bigger file is refused before it is read.
MAX_PROTOBUF_BYTES = 2**31 - 1
# TFLite stores dimensions and sizes as int32: no tensor can hold more elements.
MAX_ELEMENTS = 2**31 - 1
MAX_DIM = 2**31 - 1
# A .tflite file (a flatbuffer) holds at most 2 GiB: no constant or activation may be larger;
# checked before a fold or a lowering allocates it.
MAX_TENSOR_BYTES = 2**31 - 1
# If/Loop/Scan bodies inside bodies: exporters write a few levels, never this many.
MAX_GRAPH_DEPTH = 16
DEFAULT_DOMAINS = ("", "ai.onnx")

# Folding these would bake one random draw into the model.
NONDETERMINISTIC = {"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike",
                    "Multinomial", "Bernoulli"}
# Removed outright: at inference they pass their (first) input through.
PASS_THROUGH = {"Identity", "Dropout"}
# Constants above this many elements are declared (not embedded) for shape inference: inference
# never needs weight values, and copying them every folding round would be slow.
SMALL_CONST = 4096
MAX_FOLD_ROUNDS = 16
# Loops unrolled when their trip count is a constant this small (and the copies stay small).
MAX_UNROLL = 64
MAX_UNROLLED_NODES = 4096
# Control flow is converted only when it folds away; what is left gets a reason and a flag.
CONTROL_FLOW_REASONS = {
    "If": "its condition is only known at run time (TFLite Micro runs no IF); fix the inputs "
          "it depends on with --input-value NAME=VALUE (and dynamic shapes with --input-shape)",
    "Loop": "its trip count is not a small constant, so it cannot be unrolled; fix the inputs "
            "the trip count depends on with --input-value / --input-shape",
    "Scan": "its sequence length is not a small constant, so it cannot be unrolled; give a "
            "static shape with --input-shape",
}

Shapes = dict[str, tuple[tuple[int, ...], str]]


# ---- loading --------------------------------------------------------------------------------

def load_model(path: str | Path) -> onnx.ModelProto:
    """Load and check an ONNX file; any problem is one EdgeliteError naming the file.

    The file is treated as hostile: its size is checked before parsing (protobuf's 2 GiB
    limit), subgraph nesting is bounded, external data is read by us (only regular files inside
    the model's folder, never through a symlink, within the file's length), and every tensor's
    data must match its declared shape before anything uses it.
    """
    p = Path(path)
    where = str(p)
    if not p.exists():
        raise EdgeliteError("no such file", where=where, hint="check the model path")
    if p.is_dir():
        raise EdgeliteError("is a directory, not an ONNX file", where=where)
    try:
        size = p.stat().st_size
        if size > MAX_PROTOBUF_BYTES:
            raise EdgeliteError(
                f"{size:,} bytes, over protobuf's 2 GiB limit for one ONNX file",
                code=Code.INVALID_MODEL, where=where,
                hint="save the weights as external data: onnx.save_model(model, path, "
                     "save_as_external_data=True)")
        data = p.read_bytes()
    except OSError as e:
        raise EdgeliteError(f"cannot read: {_one_line(e)}", where=where) from None
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError, TypeError, UnicodeDecodeError,
            RecursionError) as e:
        raise EdgeliteError(
            f"not a valid ONNX protobuf (truncated or corrupt?): {_one_line(e)}", where=where,
            hint="re-export the model",
        ) from None
    del data
    _check_text(model, where)
    if len(model.graph.node) == 0 and len(model.graph.output) == 0:
        # protobuf happily parses many non-ONNX byte strings into an empty message
        raise EdgeliteError("not an ONNX model (no graph)", where=where,
                            hint="pass a .onnx file exported by a training framework")
    tensors = list(_all_tensors(model.graph, where))
    _load_external_data(tensors, p.parent, where)
    for t, _ in tensors:
        _check_tensor_data(t, where)
    try:
        try:
            onnx.checker.check_model(model)
        except ValueError as e:
            if "2GiB" not in str(e):
                raise
            # over 2 GiB with its external data: the checker cannot take it in memory, and
            # the file on disk was checked by _load_external_data already
            onnx.checker.check_model(str(p))
    except (onnx.checker.ValidationError, ValueError, RecursionError) as e:
        raise EdgeliteError(f"fails onnx.checker: {_one_line(e)}", code=Code.INVALID_MODEL,
                            where=where, hint="re-export the model") from None
    return model


def _check_text(model: onnx.ModelProto, where: str) -> None:
    """Every string field is valid UTF-8. ONNX is proto2: protobuf parses invalid text without
    complaint and hands it out as bytes, which fail wherever a name is used later."""
    stack: list = [model]
    while stack:
        msg = stack.pop()
        if isinstance(msg, onnx.TensorProto):
            # its text is the name, doc_string and external-data entries; listing every field
            # would copy the weights (raw_data) out of protobuf once more
            fields = [(msg.DESCRIPTOR.fields_by_name[k], getattr(msg, k))
                      for k in ("name", "doc_string")]
            stack.extend(msg.external_data)
        else:
            fields = msg.ListFields()
        for fd, value in fields:
            if fd.type == fd.TYPE_MESSAGE:
                stack.extend([value] if hasattr(value, "ListFields") else value)
            elif fd.type == fd.TYPE_STRING and any(
                    isinstance(v, bytes) for v in ([value] if isinstance(value, (str, bytes))
                                                   else value)):
                raise EdgeliteError(f"a {fd.name!r} field is not valid UTF-8 (the file is "
                                    "corrupt)", code=Code.INVALID_MODEL, where=where,
                                    hint="re-export the model")


def _all_tensors(graph: onnx.GraphProto, where: str,
                 depth: int = 0) -> Iterator[tuple[onnx.TensorProto, str]]:
    """Every TensorProto in the graph and its subgraphs (initializers, sparse initializers,
    tensor attributes), with the name of what holds it; nesting deeper than MAX_GRAPH_DEPTH
    is refused (an If in an If in ... a thousand levels down is an attack, not a model)."""
    if depth > MAX_GRAPH_DEPTH:
        raise EdgeliteError(f"subgraphs nested more than {MAX_GRAPH_DEPTH} levels deep",
                            code=Code.INVALID_MODEL, where=where,
                            hint="this is not a model an exporter writes")
    for t in graph.initializer:
        yield t, f"initializer {t.name!r}"
    for sp in graph.sparse_initializer:
        yield sp.values, f"sparse initializer {sp.values.name!r}"
        yield sp.indices, f"sparse initializer {sp.values.name!r} (indices)"
    for node in graph.node:
        for a in node.attribute:
            label = f"attribute {a.name!r} of node {node.name or node.op_type!r}"
            if a.HasField("t"):
                yield a.t, label
            for t in a.tensors:
                yield t, label
            if a.HasField("sparse_tensor"):
                yield a.sparse_tensor.values, label
                yield a.sparse_tensor.indices, label
            if a.HasField("g"):
                yield from _all_tensors(a.g, where, depth + 1)
            for g in a.graphs:
                yield from _all_tensors(g, where, depth + 1)


def _tensor_nbytes(t: onnx.TensorProto) -> int | None:
    """How many bytes the tensor's raw data must have; None for types without a fixed size."""
    if t.data_type not in ONNX_DTYPES:
        return None
    count = 1
    for d in t.dims:
        count *= int(d)
    return count * np.dtype(ONNX_DTYPES[t.data_type]).itemsize


def _load_external_data(tensors: list[tuple[onnx.TensorProto, str]], base: Path,
                        where: str) -> None:
    """Read every tensor stored outside the .onnx file into the tensor itself."""
    base_real = base.resolve()
    for t, label in tensors:
        if t.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in t.external_data}

        def bad(what: str, hint: str = "keep the model and its data files together, as "
                                       "onnx.save_model wrote them",
                label: str = label) -> EdgeliteError:
            return EdgeliteError(f"{label}: external data {what}", code=Code.INVALID_MODEL,
                                 where=where, hint=hint)

        location = info.get("location", "")
        if not location:
            raise bad("has no location")
        rel = Path(location)
        if rel.is_absolute() or location.startswith(("/", "\\")) or ":" in location:
            raise bad(f"location {location!r} is an absolute path, not a file in the "
                      "model's folder")
        if ".." in location.replace("\\", "/").split("/"):
            raise bad(f"location {location!r} points outside the model's folder")
        target = base / rel
        step = base
        for part in rel.parts:  # no component may be a symlink (it could point anywhere)
            step = step / part
            if step.is_symlink():
                raise bad(f"location {location!r} goes through a symbolic link ({step})")
        try:
            real = target.resolve(strict=True)
            st = real.stat()
        except (OSError, RuntimeError):
            raise bad(f"file {location!r} does not exist next to the model") from None
        if not real.is_relative_to(base_real):
            raise bad(f"location {location!r} points outside the model's folder")
        if not stat.S_ISREG(st.st_mode):
            raise bad(f"{location!r} is not a regular file")
        try:
            offset = int(info.get("offset", "0"))
            length = int(info["length"]) if "length" in info else st.st_size - offset
        except ValueError:
            raise bad(f"offset/length {info.get('offset')!r}/{info.get('length')!r} are not "
                      "integers") from None
        if offset < 0 or length < 0 or offset + length > st.st_size:
            raise bad(f"bytes {offset}..{offset + length} lie past the end of {location!r} "
                      f"({st.st_size} bytes)", "the data file is truncated or does not "
                      "belong to this model")
        expected = _tensor_nbytes(t)
        if expected is None:
            raise bad(f"holds {onnx.TensorProto.DataType.Name(t.data_type)} elements, which "
                      "cannot be stored externally")
        if expected != length:
            raise bad(f"has {length} bytes, the tensor's shape {list(t.dims)} needs {expected}")
        try:
            fd = os.open(real, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
            with os.fdopen(fd, "rb") as f:
                f.seek(offset)
                raw = f.read(length)
        except OSError as e:
            raise bad(f"cannot be read: {_one_line(e)}") from None
        if len(raw) != length:
            raise bad(f"{location!r} ended after {len(raw)} of {length} bytes")
        t.raw_data = raw
        t.data_location = onnx.TensorProto.DEFAULT
        del t.external_data[:]


_TYPED_FIELDS = {
    "float32": "float_data", "float16": "int32_data", "int8": "int32_data",
    "uint8": "int32_data", "int16": "int32_data", "int32": "int32_data", "bool": "int32_data",
    "int64": "int64_data", "float64": "double_data",
}


def _check_tensor_data(t: onnx.TensorProto, where: str) -> None:
    """A tensor's data agrees with its shape (the checker leaves that to whoever reads it)."""
    if any(d < 0 for d in t.dims):
        raise EdgeliteError(f"tensor {t.name!r} has a negative dimension {list(t.dims)}",
                            code=Code.INVALID_MODEL, where=where, hint="re-export the model")
    count = 1
    for d in t.dims:
        count *= int(d)
    if count > MAX_ELEMENTS:
        raise EdgeliteError(f"tensor {t.name!r} claims {count:,} elements {list(t.dims)}",
                            code=Code.INVALID_MODEL, where=where,
                            hint=f"TFLite tensors hold at most {MAX_ELEMENTS:,} elements")
    if t.data_type not in onnx.TensorProto.DataType.values() or \
            t.data_type == onnx.TensorProto.UNDEFINED:
        raise EdgeliteError(f"tensor {t.name!r} has an unknown element type {t.data_type}",
                            code=Code.INVALID_MODEL, where=where,
                            hint="the file is corrupt; re-export it")
    dtype = ONNX_DTYPES.get(t.data_type)
    if dtype is None:
        return  # strings and exotic types: refused by name where they are used
    if t.raw_data:
        have, need = len(t.raw_data), count * np.dtype(dtype).itemsize
    else:
        have, need = len(getattr(t, _TYPED_FIELDS[dtype])), count
    if have != need:
        raise EdgeliteError(
            f"tensor {t.name!r} of shape {list(t.dims)} has {have} "
            f"{'bytes' if t.raw_data else 'values'} of data, expected {need}",
            code=Code.INVALID_MODEL, where=where, hint="the file is corrupt; re-export it")


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split())
    return text[:300] + ("..." if len(text) > 300 else "")


def default_opset(model: onnx.ModelProto, where: str) -> int:
    for imp in model.opset_import:
        if imp.domain in DEFAULT_DOMAINS:
            opset = int(imp.version)
            if not MIN_OPSET <= opset <= MAX_OPSET:
                raise EdgeliteError(
                    f"opset {opset} is not supported (supported: {MIN_OPSET}-{MAX_OPSET})",
                    code=Code.UNSUPPORTED, where=where,
                    hint="re-export with a supported opset or convert it with onnx.version_converter",
                )
            return opset
    raise EdgeliteError("the model imports no default-domain opset", code=Code.UNSUPPORTED,
                        where=where)


# ---- the working graph ----------------------------------------------------------------------

@dataclass
class _Work:
    """The ONNX graph being simplified: nodes still to lower, and every known constant."""

    model: onnx.ModelProto
    opset: int
    where: str
    inputs: dict[str, tuple[tuple[int, ...], int]]  # name -> (static shape, ONNX elem type)
    outputs: list[str]
    nodes: list[onnx.NodeProto]
    consts: dict[str, np.ndarray]
    shapes: Shapes = field(default_factory=dict)
    # every value folding renamed away (Identity removed: old name -> the name it passes on);
    # subgraphs of If nodes not yet inlined still say the old names
    renamed: dict[str, str] = field(default_factory=dict)


def _static_inputs(model: onnx.ModelProto, where: str,
                   input_shapes: Mapping[str, tuple[int, ...]],
                   notes: list[str] | None = None,
                   frozen: Mapping[str, object] | None = None,
                   ) -> dict[str, tuple[tuple[int, ...], int]]:
    """Every real graph input (``frozen`` ones too) with its static shape and element type."""
    init_names = {t.name for t in model.graph.initializer}
    real = [vi for vi in model.graph.input if vi.name not in init_names]
    known = {vi.name for vi in real}
    for flag, names in (("--input-shape", input_shapes), ("--input-value", frozen or {})):
        unknown = sorted(set(names) - known)
        if unknown:
            raise EdgeliteError(
                f"{flag} names unknown input(s) {', '.join(map(repr, unknown))}", where=where,
                hint=f"the model's inputs are {', '.join(map(repr, sorted(known)))}",
            )
    result: dict[str, tuple[tuple[int, ...], int]] = {}
    for vi in real:
        ttype = vi.type.tensor_type
        if not vi.type.HasField("tensor_type"):
            raise EdgeliteError(f"input {vi.name!r} is not a tensor", code=Code.UNSUPPORTED,
                                where=where)
        # (-1 is how some exporters, paddle2onnx among them, write a dynamic dimension)
        dims = [d.dim_value if d.HasField("dim_value") and d.dim_value != -1 else None
                for d in ttype.shape.dim] if ttype.HasField("shape") else None
        if dims is not None and any(d is not None and not 0 <= d <= MAX_DIM for d in dims):
            raise EdgeliteError(
                f"input {vi.name!r} has an impossible dimension in "
                f"[{','.join('?' if d is None else str(d) for d in dims)}]",
                code=Code.INVALID_MODEL, where=where,
                hint=f"dimensions lie in 0..{MAX_DIM}; re-export the model")
        given = input_shapes.get(vi.name)
        if given is not None:
            given = tuple(int(d) for d in given)
            if any(d < 0 for d in given):
                raise EdgeliteError(
                    f"--input-shape for {vi.name!r} must not have negative dimensions, got "
                    f"{list(given)}", where=where, hint=f"e.g. --input-shape {vi.name}:1,3,224,224",
                )
            if dims is not None and (len(dims) != len(given) or any(
                    d is not None and d != g for d, g in zip(dims, given))):
                shown = ["?" if d is None else str(d) for d in dims]
                raise EdgeliteError(
                    f"--input-shape {vi.name}:{','.join(map(str, given))} does not match the "
                    f"model's shape [{','.join(shown)}]", where=where,
                    hint="give the same rank and the same value for every fixed dimension",
                )
            shape = given
        elif frozen and vi.name in frozen and dims is not None and any(d is None for d in dims):
            shape = _frozen_shape(vi.name, dims, np.asarray(frozen[vi.name]).size, where)
        elif dims is not None and len(dims) >= 2 and dims[0] is None and all(
                d is not None for d in dims[1:]):
            # Only the batch is dynamic (the usual PyTorch export): one sample per invoke.
            shape = (1, *(int(d) for d in dims[1:]))
            if notes is not None:
                notes.append(f"input {vi.name!r}: dynamic batch dimension set to 1 "
                             f"(--input-shape {vi.name}:{','.join(map(str, shape))} to choose)")
        elif dims is None or any(d is None for d in dims):
            shown = "unknown rank" if dims is None else \
                "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"
            example = ",".join("1" if d is None else str(d) for d in (dims or [1, 3, 224, 224]))
            raise EdgeliteError(
                f"input {vi.name!r} has a dynamic shape {shown}", code=Code.UNSUPPORTED,
                where=where, hint=f"give a static shape with --input-shape {vi.name}:{example}",
            )
        else:
            shape = tuple(int(d) for d in dims)
        if ttype.elem_type not in ONNX_DTYPES or ONNX_DTYPES[ttype.elem_type] == "float64":
            raise EdgeliteError(
                f"input {vi.name!r} has element type "
                f"{onnx.TensorProto.DataType.Name(ttype.elem_type)}", code=Code.UNSUPPORTED,
                where=where, hint="export the model with float32 inputs",
            )
        if int(np.prod(shape, dtype=object)) > MAX_ELEMENTS or any(d > MAX_DIM for d in shape):
            raise EdgeliteError(
                f"input {vi.name!r} of shape {list(shape)} has more elements than a TFLite "
                f"tensor can hold ({MAX_ELEMENTS:,})", code=Code.UNSUPPORTED, where=where,
                hint="give a smaller shape with --input-shape")
        result[vi.name] = (shape, ttype.elem_type)
    return result


def _frozen_shape(name: str, dims: list[int | None], count: int, where: str) -> tuple[int, ...]:
    """A frozen input's dynamic dimensions, from how many values the user gave (one unknown
    dimension at most; the others must be given with --input-shape)."""
    known = int(np.prod([d for d in dims if d is not None], dtype=np.int64))
    if sum(d is None for d in dims) == 1 and known and count % known == 0:
        return tuple(count // known if d is None else d for d in dims)
    raise EdgeliteError(
        f"--input-value {name}: {count} value(s) do not fix the dynamic shape "
        f"[{','.join('?' if d is None else str(d) for d in dims)}]", where=where,
        hint=f"give its shape too with --input-shape {name}:D1,D2,...")


def _freeze_inputs(work: _Work, values: Mapping[str, object]) -> None:
    """--input-value: the input becomes a constant of its own shape and type and leaves the
    model's interface, so whatever depends on it (If, Where, shape chains) folds away."""
    for name, value in values.items():
        shape, et = work.inputs.pop(name)
        dtype = ONNX_DTYPES[et]
        arr = np.asarray(value, dtype=np.float64).reshape(-1)
        count = int(np.prod(shape, dtype=np.int64))
        if arr.size == 1 and count != 1:
            arr = np.full(count, arr[0])  # one value fills the whole tensor
        if arr.size != count:
            raise EdgeliteError(
                f"--input-value {name}: {arr.size} value(s) given, the input has shape "
                f"{list(shape)} ({count} values)", where=work.where,
                hint="give one value, or exactly one per element")
        typed = arr.astype(dtype)
        if dtype != "bool" and not np.array_equal(typed.astype(np.float64), arr):
            raise EdgeliteError(
                f"--input-value {name}: {arr.tolist()[:8]} is not representable as {dtype}",
                where=work.where, hint=f"give {dtype} values")
        work.consts[name] = typed.reshape(shape)


def _to_array(t: onnx.TensorProto, where: str | None = None) -> np.ndarray:
    """A tensor's value; data onnx cannot decode (a float8 whose byte count disagrees with its
    shape, say) is the model's fault."""
    try:
        return numpy_helper.to_array(t)
    except Exception as e:  # noqa: BLE001  onnx raises ValueError, KeyError, TypeError...
        raise EdgeliteError(f"tensor {t.name!r} cannot be decoded: {_one_line(e)}",
                            code=Code.INVALID_MODEL, where=where,
                            hint="the file is corrupt; re-export it") from None


def _initial_consts(model: onnx.ModelProto, where: str) -> dict[str, np.ndarray]:
    if len(model.graph.sparse_initializer):
        raise EdgeliteError("sparse initializers are not supported", code=Code.UNSUPPORTED,
                            where=where, hint="densify the model's initializers")
    consts = {}
    for t in model.graph.initializer:
        consts[t.name] = _to_array(t, where)
    return consts


# ---- shape inference ------------------------------------------------------------------------

def _infer(work: _Work) -> None:
    """Run ONNX shape inference on the current graph; record every fully static shape."""
    g = work.model.graph
    inputs = [helper.make_tensor_value_info(n, et, list(s)) for n, (s, et) in work.inputs.items()]
    inits = []
    used = {i for n in work.nodes for i in n.input} | set(work.outputs)
    for name, arr in work.consts.items():
        if name not in used:
            continue
        if arr.size <= SMALL_CONST:
            inits.append(numpy_helper.from_array(arr, name))
        else:
            et = helper.np_dtype_to_tensor_dtype(arr.dtype)
            inputs.append(helper.make_tensor_value_info(name, et, list(arr.shape)))
    outputs = [helper.make_empty_tensor_value_info(n) for n in work.outputs]
    graph = helper.make_graph(work.nodes, g.name or "main", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=list(work.model.opset_import),
                              ir_version=max(work.model.ir_version, 4))
    try:
        try:
            # data propagation resolves shapes computed by Shape/Gather/Concat chains
            inferred = _infer_isolated(model, data_prop=True)
        except _InferenceCrashed:
            raise
        except Exception:  # noqa: BLE001  data propagation has its own failure modes
            inferred = _infer_isolated(model, data_prop=False)
    except _InferenceCrashed as e:
        raise EdgeliteError(f"ONNX shape inference crashes on this model ({e})",
                            code=Code.INVALID_MODEL, where=work.where,
                            hint="the model is malformed (a window larger than its input, "
                                 "say); re-export it") from None
    except Exception as e:  # noqa: BLE001  onnx raises many types; any of them is fatal here
        raise EdgeliteError(f"ONNX shape inference failed: {_one_line(e)}",
                            code=Code.INVALID_MODEL, where=work.where) from None
    shapes: Shapes = {}
    for vi in [*inferred.graph.input, *inferred.graph.value_info, *inferred.graph.output]:
        if not vi.type.HasField("tensor_type"):
            continue
        tt = vi.type.tensor_type
        if not tt.HasField("shape") or tt.elem_type not in ONNX_DTYPES:
            continue
        dims = tt.shape.dim
        if all(d.HasField("dim_value") and d.dim_value >= 0 for d in dims):
            shapes[vi.name] = (tuple(int(d.dim_value) for d in dims), ONNX_DTYPES[tt.elem_type])
    for name, arr in work.consts.items():
        if arr.dtype.name in ir.DTYPES or arr.dtype == np.float64:
            shapes[name] = (tuple(arr.shape), arr.dtype.name)
    work.shapes = shapes


class _InferenceCrashed(Exception):
    pass


def _infer_isolated(model: onnx.ModelProto, data_prop: bool) -> onnx.ModelProto:
    """onnx's shape inference, in a forked child where that is possible.

    Its C++ can abort the process on a hostile model (an assertion in Slice's inference once a
    window larger than its input gave a negative dimension; found by the mutation fuzzer), and
    an abort is no error message. The child inherits the loaded onnx, so the fork costs
    milliseconds. Where fork is missing (Windows) or other threads run (forking them is
    unsafe), inference runs in this process as before."""
    def infer() -> onnx.ModelProto:
        return onnx.shape_inference.infer_shapes(model, check_type=False, strict_mode=False,
                                                 data_prop=data_prop)

    if not hasattr(os, "fork") or threading.active_count() > 1:
        return infer()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: answer through the pipe, never return into the caller
        status = 0
        try:
            os.close(read_fd)
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 2)  # an abort's message is not for the user's terminal
            faulthandler.disable()  # nor the traceback it prints on its own copy of stderr
            try:
                answer = b"\x00" + infer().SerializeToString()
            except Exception as e:  # noqa: BLE001  handed to the parent as it is
                answer = b"\x01" + f"{type(e).__name__}: {e}".encode("utf-8", "replace")
            with os.fdopen(write_fd, "wb") as f:
                f.write(answer)
        except BaseException:  # noqa: BLE001
            status = 1
        finally:
            os._exit(status)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as f:
        answer = f.read()
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        raise _InferenceCrashed(f"signal {os.WTERMSIG(status)}")
    if not answer or os.WEXITSTATUS(status) != 0:
        raise _InferenceCrashed(f"exit status {os.WEXITSTATUS(status)}")
    if answer[:1] == b"\x01":
        raise RuntimeError(answer[1:].decode("utf-8", "replace"))
    inferred = onnx.ModelProto()
    inferred.ParseFromString(answer[1:])
    return inferred


# ---- folding --------------------------------------------------------------------------------

def _has_subgraph(node: onnx.NodeProto) -> bool:
    return any(a.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
               for a in node.attribute)


def _eval_node(node: onnx.NodeProto, work: _Work) -> list[np.ndarray] | None:
    """The node's outputs on its constant inputs, or None if the reference evaluator cannot
    compute them (the node is then left for its lowering, which sees constant inputs)."""
    feeds = {name: work.consts[name] for name in node.input if name}
    opsets = {imp.domain or "": int(imp.version) for imp in work.model.opset_import}
    try:
        results = ReferenceEvaluator(node, opsets=opsets).run(None, feeds)
    except Exception:  # noqa: BLE001  the reference evaluator raises arbitrary types
        # A bare node runs at the evaluator's newest opset (an opset-11 Unsqueeze with an axes
        # attribute fails there): retry inside a one-node model of the model's opsets.
        try:
            graph = helper.make_graph(
                [node], "fold",
                [helper.make_tensor_value_info(k, helper.np_dtype_to_tensor_dtype(v.dtype),
                                               list(v.shape)) for k, v in feeds.items()],
                [helper.make_empty_tensor_value_info(o) for o in node.output if o])
            model = helper.make_model(graph, opset_imports=list(work.model.opset_import),
                                      ir_version=max(work.model.ir_version, 4))
            named = iter(ReferenceEvaluator(model).run(None, feeds))
            # aligned with node.output again (an unnamed output is not a graph output)
            results = [next(named) if o else np.zeros(0) for o in node.output]
        except Exception:  # noqa: BLE001
            return None
    return [np.asarray(r) for r in results]


def _shape_value(node: onnx.NodeProto, shape: tuple[int, ...]) -> np.ndarray:
    if node.op_type == "Size":
        return np.array(int(np.prod(shape, dtype=np.int64)), dtype=np.int64)
    rank = len(shape)
    start = end = None
    for a in node.attribute:
        if a.name == "start":
            start = a.i
        elif a.name == "end":
            end = a.i
    # Shape-15 start/end: negative counts from the back, out of range clamps (Python slicing).
    return np.array(shape[slice(start, end)] if rank else (), dtype=np.int64)


def _fold_round(work: _Work) -> bool:
    """One pass over the nodes; True if anything was folded or removed."""
    alias: dict[str, str] = {}
    kept: list[onnx.NodeProto] = []
    changed = False
    queue = list(work.nodes)
    position = 0
    while position < len(queue):
        node = queue[position]
        position += 1
        if alias:
            new_inputs = [alias.get(i, i) for i in node.input]
            if new_inputs != list(node.input):
                del node.input[:]
                node.input.extend(new_inputs)
        if node.domain not in DEFAULT_DOMAINS:
            kept.append(node)
            continue
        if node.op_type in PASS_THROUGH and _pass_through_ok(node, work) and not (
                node.output[0] in work.outputs
                and (node.input[0] in work.inputs or node.input[0] in work.outputs)):
            # (an output that copies an input or another output needs its copy op)
            alias[node.output[0]] = node.input[0]
            changed = True
            continue
        if node.op_type == "If" and node.input[0] in work.consts:
            queue[position:position] = _inline_if(node, work, queue, alias)
            changed = True
            continue
        if node.op_type == "Scan" and (unrolled := _unroll_scan(node, work)) is not None:
            queue[position:position] = unrolled
            changed = True
            continue
        if node.op_type == "Loop" and (unrolled := _unroll_loop(node, work)) is not None:
            queue[position:position] = unrolled
            changed = True
            continue
        if (node.op_type == "Where" and node.input[0] in work.consts
                and _where_pick(node, work) is not None):
            picked = _where_pick(node, work)
            queue.insert(position, helper.make_node("Identity", [picked], [node.output[0]],
                                                    name=f"{node.name}_picked"))
            changed = True
            continue
        if _all_outputs_empty(node, work):  # no elements: known whatever the inputs hold
            for name in node.output:
                if name:
                    shape, dtype = work.shapes[name]
                    work.consts[name] = np.zeros(shape, dtype)
            changed = True
            continue
        if node.op_type in ("Shape", "Size") and node.input[0] in work.shapes:
            work.consts[node.output[0]] = _shape_value(node, work.shapes[node.input[0]][0])
            changed = True
            continue
        inputs = [i for i in node.input if i]
        if (node.op_type not in NONDETERMINISTIC and not _has_subgraph(node)
                and _oversized_output(node, work.shapes) is None
                and all(i in work.consts for i in inputs)
                and (values := _eval_node(node, work)) is not None):
            for name, value in zip(node.output, values):
                if name:
                    work.consts[name] = value
            changed = True
            continue
        kept.append(node)
    if alias:
        _resolve_output_aliases(work, alias, kept)
        work.renamed.update(alias)
    work.nodes = kept
    return changed


def _oversized_output(node: onnx.NodeProto, shapes: Shapes) -> str | None:
    """Why an output of the node is too big for any .tflite file, from its inferred shape."""
    for name in node.output:
        if name and name in shapes:
            shape, dtype = shapes[name]
            count = 1
            for d in shape:
                count *= int(d)
            nbytes = count * np.dtype(dtype).itemsize
            if count > MAX_ELEMENTS or nbytes > MAX_TENSOR_BYTES:
                return (f"output {name!r} of shape {list(shape)} would hold {nbytes:,} bytes, "
                        f"more than a .tflite tensor can ({MAX_TENSOR_BYTES:,})")
            if any(d > MAX_DIM for d in shape):  # even with no elements: dims are int32
                return (f"output {name!r} of shape {list(shape)} has a dimension past "
                        f"{MAX_DIM:,}, which a .tflite tensor cannot store")
    return None


def _all_outputs_empty(node: onnx.NodeProto, work: _Work) -> bool:
    names = [o for o in node.output if o]
    return (bool(names) and node.op_type not in NONDETERMINISTIC
            and _oversized_output(node, work.shapes) is None
            and all(o in work.shapes and 0 in work.shapes[o][0] and o not in work.consts
                    for o in names))


def _inline_if(node: onnx.NodeProto, work: _Work, queue: list[onnx.NodeProto],
               alias: dict[str, str]) -> list[onnx.NodeProto]:
    """The nodes of the branch a constant condition selects, writing the If's outputs."""
    cond = np.asarray(work.consts[node.input[0]])
    if cond.size != 1:
        raise EdgeliteError(f"If node {node.name!r}: its condition has {cond.size} values, "
                            "expected one", code=Code.INVALID_MODEL, where=work.where)
    wanted = "then_branch" if bool(cond.reshape(-1)[0]) else "else_branch"
    branch = next(a.g for a in node.attribute if a.name == wanted)
    outer = ({o for n in queue for o in n.output} | set(work.consts) | set(work.inputs))
    local = [t.name for t in branch.initializer] + [o for n in branch.node for o in n.output if o]
    clash = sorted(set(local) & outer - set(node.output))
    if clash:
        raise UnsupportedError(f"its {wanted} defines {clash[0]!r}, a name the outer graph "
                               "uses too", op_type="If", node=node.name,
                               hint="re-export the model with unique value names")
    for t in branch.initializer:
        work.consts[t.name] = _to_array(t, work.where)
    nodes = [_copy(n) for n in branch.node]
    _rename_inputs(nodes, {**work.renamed, **alias})
    for i, (src, dst) in enumerate(zip((o.name for o in branch.output), node.output)):
        if dst:
            nodes.append(helper.make_node("Identity", [src], [dst], name=f"{node.name}_out{i}"))
    return nodes


def _unroll_loop(node: onnx.NodeProto, work: _Work) -> list[onnx.NodeProto] | None:
    """A Loop whose trip count is a small constant and whose condition stays true: one copy
    of the body per iteration (values renamed "<loop>/iter<i>/..."), the carried values
    chained, the scan outputs stacked with Unsqueeze + Concat. None when that does not hold
    (the Loop is then refused by name)."""
    inputs = list(node.input) + ["", ""]
    trip, cond = inputs[0], inputs[1]
    if not trip or trip not in work.consts:
        return None
    if cond and (cond not in work.consts
                 or not bool(np.asarray(work.consts[cond]).reshape(-1)[0])):
        return None
    m = int(np.asarray(work.consts[trip]).reshape(-1)[0])
    body = next(a.g for a in node.attribute if a.name == "body")
    b_in, b_out = [i.name for i in body.input], [o.name for o in body.output]
    n_carried = len(node.input) - 2
    if (m < 1 or m > MAX_UNROLL or m * len(body.node) > MAX_UNROLLED_NODES
            or len(b_in) != n_carried + 2 or not _condition_passes_through(body)):
        return None
    local = ({t.name for t in body.initializer} | set(b_in)
             | {o for n in body.node for o in n.output if o})
    base = node.name or node.output[0]
    carried = list(node.input[2:])
    scans: list[list[str]] = [[] for _ in b_out[1 + n_carried:]]
    nodes: list[onnx.NodeProto] = []
    for i in range(m):
        prefix = f"{base}/iter{i}/"
        rename = {name: prefix + name for name in local}
        work.consts[prefix + b_in[0]] = np.array(i, np.int64)
        work.consts[prefix + b_in[1]] = np.array(True)
        for t in body.initializer:
            work.consts[prefix + t.name] = _to_array(t, work.where)
        for name, src in zip(b_in[2:], carried):
            nodes.append(helper.make_node("Identity", [src], [prefix + name],
                                          name=f"{prefix}{name}_in"))
        copies = [_copy(n) for n in body.node]
        _rename_inputs(copies, rename)
        for n in copies:
            n.name = prefix + (n.name or n.output[0])
            for k, o in enumerate(n.output):
                if o:
                    n.output[k] = rename[o]
        nodes.extend(copies)
        carried = [rename.get(o, o) for o in b_out[1:1 + n_carried]]
        for j, o in enumerate(b_out[1 + n_carried:]):
            scans[j].append(rename.get(o, o))
    for dst, src in zip(node.output[:n_carried], carried):
        if dst:
            nodes.append(helper.make_node("Identity", [src], [dst], name=f"{dst}_final"))
    axes = f"{base}/stack_axes"
    work.consts[axes] = np.array([0], np.int64)
    for dst, parts in zip(node.output[n_carried:], scans):
        if not dst:
            continue
        stacked = []
        for k, src in enumerate(parts):
            out = f"{dst}/part{k}"
            if work.opset >= 13:
                nodes.append(helper.make_node("Unsqueeze", [src, axes], [out], name=out))
            else:
                nodes.append(helper.make_node("Unsqueeze", [src], [out], name=out, axes=[0]))
            stacked.append(out)
        nodes.append(helper.make_node("Concat", stacked, [dst], name=f"{dst}_stack", axis=0))
    return nodes


def _unroll_scan(node: onnx.NodeProto, work: _Work) -> list[onnx.NodeProto] | None:
    """A Scan (opset 9+) whose sequence length is static and small: one copy of the body per
    step, each scan input sliced with Gather at that step (from the end for a reverse
    direction), the states chained, the scan outputs stacked (reversed where asked)."""
    if work.opset < 9:
        return None
    attrs = {a.name: a for a in node.attribute}
    body = attrs["body"].g
    m = int(attrs["num_scan_inputs"].i)
    n_state = len(node.input) - m
    scan_in = list(node.input[n_state:])
    if n_state < 0 or any(x not in work.shapes for x in scan_in):
        return None
    in_axes = list(attrs["scan_input_axes"].ints) if "scan_input_axes" in attrs else [0] * m
    in_dirs = (list(attrs["scan_input_directions"].ints) if "scan_input_directions" in attrs
               else [0] * m)
    k = len(body.output) - n_state
    out_axes = list(attrs["scan_output_axes"].ints) if "scan_output_axes" in attrs else [0] * k
    out_dirs = (list(attrs["scan_output_directions"].ints) if "scan_output_directions" in attrs
                else [0] * k)
    ranks = [len(work.shapes[x][0]) for x in scan_in]
    in_axes = [a % r for a, r in zip(in_axes, ranks)]
    lengths = {work.shapes[x][0][a] for x, a in zip(scan_in, in_axes)}
    if len(lengths) != 1:
        return None
    steps = lengths.pop()
    b_in, b_out = [i.name for i in body.input], [o.name for o in body.output]
    if (steps < 1 or steps > MAX_UNROLL or steps * len(body.node) > MAX_UNROLLED_NODES
            or len(b_in) != n_state + m):
        return None
    local = ({t.name for t in body.initializer} | set(b_in)
             | {o for n in body.node for o in n.output if o})
    base = node.name or node.output[0]
    states = list(node.input[:n_state])
    scans: list[list[str]] = [[] for _ in range(k)]
    nodes: list[onnx.NodeProto] = []
    for t in range(steps):
        prefix = f"{base}/step{t}/"
        rename = {name: prefix + name for name in local}
        for init in body.initializer:
            work.consts[prefix + init.name] = _to_array(init, work.where)
        for name, src in zip(b_in[:n_state], states):
            nodes.append(helper.make_node("Identity", [src], [prefix + name],
                                          name=f"{prefix}{name}_in"))
        for j, (name, src) in enumerate(zip(b_in[n_state:], scan_in)):
            index = f"{prefix}{name}_index"
            work.consts[index] = np.array(steps - 1 - t if in_dirs[j] else t, np.int64)
            nodes.append(helper.make_node("Gather", [src, index], [prefix + name],
                                          name=f"{prefix}{name}_slice", axis=in_axes[j]))
        copies = [_copy(n) for n in body.node]
        _rename_inputs(copies, rename)
        for n in copies:
            n.name = prefix + (n.name or n.output[0])
            for q, o in enumerate(n.output):
                if o:
                    n.output[q] = rename[o]
        nodes.extend(copies)
        states = [rename.get(o, o) for o in b_out[:n_state]]
        for j, o in enumerate(b_out[n_state:]):
            scans[j].append(rename.get(o, o))
    for dst, src in zip(node.output[:n_state], states):
        if dst:
            nodes.append(helper.make_node("Identity", [src], [dst], name=f"{dst}_final"))
    for j, (dst, parts) in enumerate(zip(node.output[n_state:], scans)):
        if not dst:
            continue
        rank = len(work.shapes[b_out[n_state + j]][0]) if b_out[n_state + j] in work.shapes \
            else None
        axis = out_axes[j] % (rank + 1) if rank is not None else out_axes[j]
        if axis < 0:
            return None  # a negative axis needs the element rank, which inference did not give
        axes = f"{dst}/stack_axes"
        work.consts[axes] = np.array([axis], np.int64)
        stacked = []
        for q, src in enumerate(parts[::-1] if out_dirs[j] else parts):
            out = f"{dst}/part{q}"
            if work.opset >= 13:
                nodes.append(helper.make_node("Unsqueeze", [src, axes], [out], name=out))
            else:
                nodes.append(helper.make_node("Unsqueeze", [src], [out], name=out, axes=[axis]))
            stacked.append(out)
        nodes.append(helper.make_node("Concat", stacked, [dst], name=f"{dst}_stack", axis=axis))
    return nodes


def _condition_passes_through(body: onnx.GraphProto) -> bool:
    """The body's condition output is its condition input (directly or through Identity) or
    a constant true: the loop runs exactly its trip count."""
    cond_in, cond_out = body.input[1].name, body.output[0].name
    if cond_out == cond_in:
        return True
    for t in body.initializer:
        if t.name == cond_out:
            return bool(_to_array(t).all())
    for n in body.node:
        if cond_out in n.output:
            if n.op_type == "Identity":
                return n.input[0] == cond_in
            if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
                return bool(_to_array(n.attribute[0].t).all())
            return False
    return False


def _rename_inputs(nodes: list[onnx.NodeProto], renamed: dict[str, str]) -> None:
    """Outer values the nodes (and the subgraphs inside them) read under a name folding has
    since removed: read the value it passed on instead. A subgraph's own values shadow."""
    if not renamed:
        return

    def final(name: str) -> str:
        seen = 0
        while name in renamed and seen < 1000:
            name, seen = renamed[name], seen + 1
        return name

    for n in nodes:
        for k, name in enumerate(n.input):
            if name in renamed:
                n.input[k] = final(name)
        for a in n.attribute:
            for g in ([a.g] if a.type == onnx.AttributeProto.GRAPH else
                      list(a.graphs) if a.type == onnx.AttributeProto.GRAPHS else []):
                local = ({t.name for t in g.initializer} | {i.name for i in g.input}
                         | {o for m in g.node for o in m.output})
                _rename_inputs(list(g.node), {k: v for k, v in renamed.items()
                                              if k not in local})
                for o in g.output:
                    if o.name in renamed and o.name not in local:
                        o.name = final(o.name)


def _where_pick(node: onnx.NodeProto, work: _Work) -> str | None:
    """Where(c, x, y) with a constant c that is all true (x) or all false (y), when the
    picked input already has the output's shape (no broadcast left to do)."""
    cond = np.asarray(work.consts[node.input[0]])
    picked = node.input[1] if cond.all() else node.input[2] if not cond.any() else None
    out = work.shapes.get(node.output[0])
    if picked is None or out is None or work.shapes.get(picked) != out:
        return None
    return picked


def _pass_through_ok(node: onnx.NodeProto, work: _Work) -> bool:
    if node.op_type == "Dropout":
        # Dropout-12 takes a training_mode input: only a constant false is inference.
        if len(node.input) > 2 and node.input[2]:
            mode = work.consts.get(node.input[2])
            if mode is None or bool(np.asarray(mode).any()):
                return False
        used = {i for n in work.nodes for i in n.input} | set(work.outputs)
        if len(node.output) > 1 and node.output[1] and node.output[1] in used:
            return False  # the mask is read; leave the node for the lowering to reject
    return True


def _resolve_output_aliases(work: _Work, alias: dict[str, str], kept: list[onnx.NodeProto]) -> None:
    """A graph output computed by a removed Identity: rename the value it passes through."""
    def final(name: str) -> str:
        while name in alias:
            name = alias[name]
        return name

    for out in work.outputs:
        if out not in alias:
            continue
        src = final(out)
        producer = next((n for n in kept for o in n.output if o == src), None)
        is_output = src in work.outputs or src in work.inputs
        if producer is not None and not is_output:
            # rename src -> out everywhere (the producer now writes the graph output directly)
            for n in kept:
                for k, name in enumerate(n.output):
                    if name == src:
                        n.output[k] = out
                for k, name in enumerate(n.input):
                    if name == src:
                        n.input[k] = out
            for k2, v in list(alias.items()):
                if v == src:
                    alias[k2] = out
            alias.pop(out, None)
        elif src in work.consts:
            work.consts[out] = work.consts[src]
        else:
            # output is a graph input or another output: keep an Identity for the lowering
            kept.append(helper.make_node("Identity", [src], [out], name=f"{out}_identity"))


# ---- lowering -------------------------------------------------------------------------------

def _ir_const(name: str, value: np.ndarray) -> ir.Tensor:
    arr = np.asarray(value)
    if arr.dtype == np.float64:
        arr = arr.astype(np.float32)
    if arr.dtype.name not in ir.DTYPES:
        raise UnsupportedError(f"constant {name!r} has element type {arr.dtype} which "
                               f"TFLite cannot store", node=name)
    if any(d > MAX_DIM for d in arr.shape):
        raise UnsupportedError(f"constant {name!r} of shape {list(arr.shape)} has a dimension "
                               f"past {MAX_DIM:,}, which a .tflite tensor cannot store",
                               node=name)
    return ir.Tensor(name, arr.shape, arr.dtype.name, data=arr)


def _lower(work: _Work, graph: ir.Graph) -> None:
    shapes = {k: v for k, v in work.shapes.items() if v[1] != "float64"}
    ctx = LoweringContext(graph, work.opset, shapes)
    for name, (shape, et) in work.inputs.items():
        t = ir.Tensor(ctx.unique(name), shape, ONNX_DTYPES[et])
        ctx.values[name] = t
        graph.inputs.append(t)
    report = UnsupportedReport()
    failed: set[str] = set()
    for name in sorted({i for n in work.nodes for i in n.input if i} | set(work.outputs)):
        if name in work.consts and name not in ctx.values:
            try:
                ctx.values[name] = _ir_const(ctx.unique(name), work.consts[name])
            except UnsupportedError as e:
                report.add("constant", name, e.reason)
                failed.add(name)

    for index, node in enumerate(work.nodes):
        if not node.name:
            node.name = f"{node.op_type}_{index}"
        op_label = node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}"
        lowering = REGISTRY.get(node.op_type) if node.domain in DEFAULT_DOMAINS else None
        if node.domain not in DEFAULT_DOMAINS:
            report.add(op_label, node.name, f"op domain {node.domain!r} is not supported")
        elif lowering is None:
            report.add(op_label, node.name,
                       CONTROL_FLOW_REASONS.get(node.op_type, "no lowering for op type"))
        if lowering is None or any(i in failed for i in node.input):
            failed.update(o for o in node.output if o)
            continue
        missing = [i for i in node.input if i and i not in ctx.values]
        if missing:
            raise EdgeliteError(f"node {node.name!r} reads {missing[0]!r}, which nothing "
                                f"produces", code=Code.INVALID_MODEL, where=work.where)
        ctx.node = node
        n_ops = len(graph.ops)
        if (too_big := _oversized_output(node, ctx.shapes)) is not None or (
                too_big := _bad_window_attribute(node)) is not None:
            report.add(op_label, node.name, too_big)
            failed.update(o for o in node.output if o)
            continue
        try:
            check_node(lowering, node, ctx)
            lowering.fn(ctx, node)
        except UnsupportedError as e:
            report.add(op_label, node.name, e.reason)
            del graph.ops[n_ops:]
            failed.update(o for o in node.output if o)
            continue
        except EdgeliteError:
            raise
        except Exception as e:
            # A lowering that crashes on a model ONNX itself finds inconsistent met a bad
            # model, not a bug of ours: say what ONNX says is wrong with it.
            if (why := _inconsistency(work.model)) is not None:
                raise EdgeliteError(
                    f"node {node.name!r} ({node.op_type}): the model is inconsistent: {why}",
                    code=Code.INVALID_MODEL, where=work.where,
                    hint="re-export the model") from None
            raise EdgeliteError(
                f"lowering {node.op_type} node {node.name!r} failed: {type(e).__name__}: "
                f"{_one_line(e)}", code=Code.INTERNAL, where=work.where,
                hint="please report this with the model",
            ) from e
        _check_outputs(node, ctx, work)
        if (too_big := _oversized_ir(node, ctx)) is not None:
            report.add(op_label, node.name, too_big)
            failed.update(o for o in node.output if o)
    ctx.node = None
    report.raise_if_any(work.where)
    graph.outputs = [ctx.values[name] for name in work.outputs]


# Window attributes: each value in [low, 2^31 - 1] (a .tflite option is an int32; ONNX
# checks only some of them, and a lowering must not meet a zero stride or a 2^40 kernel).
_WINDOW_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool", "LpPool")
_WINDOW_ATTRS = {"kernel_shape": 1, "strides": 1, "dilations": 1, "group": 1, "pads": 0,
                 "output_padding": 0, "output_shape": 1}


def _bad_window_attribute(node: onnx.NodeProto) -> str | None:
    if node.op_type not in _WINDOW_OPS and node.op_type not in ("DepthToSpace", "SpaceToDepth"):
        return None
    for a in node.attribute:
        low = 1 if a.name == "blocksize" else _WINDOW_ATTRS.get(a.name)
        if low is None or a.type not in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS):
            continue
        values = [a.i] if a.type == onnx.AttributeProto.INT else list(a.ints)
        if any(not low <= v <= MAX_DIM for v in values):
            return f"attribute {a.name}={values} is out of range ({low}..{MAX_DIM})"
    return None


# The strict check runs in a child process: onnx's strict shape inference can abort the whole
# process on a hostile file (a C++ assertion in its Slice inference, found by the mutation fuzzer;
# the non-strict inference the reader uses survives it). It runs only after a lowering failed.
_STRICT_CHECK = ("import sys, onnx\n"
                 "m = onnx.load_model_from_string(sys.stdin.buffer.read())\n"
                 "onnx.checker.check_model(m, full_check=True)\n")


def _inconsistency(model: onnx.ModelProto) -> str | None:
    """What ONNX's strict checks (full checker, strict typed shape inference) find wrong with
    the model, or None if they pass (or cannot run)."""
    import subprocess
    import sys

    try:
        data = model.SerializeToString()
        res = subprocess.run([sys.executable, "-c", _STRICT_CHECK], input=data,
                             capture_output=True, timeout=300, check=False)
    except (ValueError, OSError, subprocess.TimeoutExpired):  # > 2 GiB, no interpreter...
        return None
    if res.returncode == 0:
        return None
    if res.returncode < 0:
        return f"ONNX's own strict checker crashes on it (signal {-res.returncode})"
    lines = [ln for ln in res.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return _one_line(ValueError(lines[-1] if lines else "the strict check failed"))


def _oversized_ir(node: onnx.NodeProto, ctx: LoweringContext) -> str | None:
    """An output the lowering computed (not inferred) that no .tflite tensor can hold."""
    for name in node.output:
        t = ctx.values.get(name) if name else None
        if t is None:
            continue
        count = 1
        for d in t.shape:
            count *= int(d)
        nbytes = count * np.dtype(t.dtype).itemsize
        if any(not 0 <= int(d) <= MAX_DIM for d in t.shape) or nbytes > MAX_TENSOR_BYTES:
            return (f"output {name!r} of shape {list(t.shape)} is larger than a .tflite tensor "
                    f"can be ({MAX_TENSOR_BYTES:,} bytes, dimensions up to {MAX_DIM:,})")
    return None


def _check_outputs(node: onnx.NodeProto, ctx: LoweringContext, work: _Work) -> None:
    """Every output of the node is bound to an IR tensor."""
    for name in node.output:
        if not name:
            continue
        t = ctx.values.get(name)
        if t is None:
            raise EdgeliteError(f"lowering of {node.op_type} node {node.name!r} did not bind "
                                f"output {name!r}", code=Code.INTERNAL, where=work.where)
        expected = ctx.shapes.get(name)
        if expected is not None and tuple(expected[0]) != tuple(t.shape):
            # ONNX shape inference lags the spec in corners (ceil_mode pools whose last window
            # would start in the padding); the lowering implements the op, so its shape wins
            # and later lowerings that look shapes up see it.
            ctx.shapes[name] = (tuple(t.shape), t.dtype)


# ---- entry point ----------------------------------------------------------------------------

def read_onnx(path: str | Path,
              input_shapes: Mapping[str, tuple[int, ...]] | None = None,
              input_values: Mapping[str, object] | None = None,
              notes: list[str] | None = None) -> ir.Graph:
    """Read the ONNX file at ``path`` into an IR graph with ONNX (NCHW) semantics."""
    where = str(path)
    model = load_model(path)
    return model_to_ir(model, where, input_shapes, input_values, notes)


def model_to_ir(model: onnx.ModelProto, where: str,
                input_shapes: Mapping[str, tuple[int, ...]] | None = None,
                input_values: Mapping[str, object] | None = None,
                notes: list[str] | None = None) -> ir.Graph:
    """``input_values`` freezes inputs to constants; ``notes`` collects what was assumed."""
    # Folding computes what the model computes: a division by zero or an overflow there is
    # the model's float semantics (inf/nan, as ONNX Runtime gives), not a message for the
    # user; numpy's RuntimeWarnings would add lines to the CLI's one-line error.
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return _model_to_ir(model, where, input_shapes, input_values, notes)


def _model_to_ir(model: onnx.ModelProto, where: str,
                 input_shapes: Mapping[str, tuple[int, ...]] | None,
                 input_values: Mapping[str, object] | None,
                 notes: list[str] | None) -> ir.Graph:
    opset = default_opset(model, where)
    frozen = dict(input_values or {})
    work = _Work(
        model=model, opset=opset, where=where,
        inputs=_static_inputs(model, where, dict(input_shapes or {}), notes, frozen),
        outputs=[o.name for o in model.graph.output],
        nodes=[_copy(n) for n in model.graph.node],
        consts=_initial_consts(model, where),
    )
    _freeze_inputs(work, frozen)
    _infer(work)
    for _ in range(MAX_FOLD_ROUNDS):
        if not _fold_round(work):
            break
        _infer(work)
    # Erf has no TFLite op: the erf form of GELU becomes one Gelu node (shapes unchanged).
    work.nodes, _ = fuse_gelu_nodes(work.nodes, work.consts, work.outputs)
    graph = ir.Graph(name=model.graph.name or "main")
    _lower(work, graph)
    graph.validate()
    return graph


def _copy(node: onnx.NodeProto) -> onnx.NodeProto:
    n = onnx.NodeProto()
    n.CopyFrom(node)
    return n
