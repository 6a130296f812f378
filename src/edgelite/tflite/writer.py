"""Serialize an IR graph to a .tflite flatbuffer.

Layout decisions: buffer 0 is the empty sentinel; every constant tensor gets its own buffer
whose data is 16-byte aligned in the file (LiteRT and TFLite Micro read weights in place);
non-constant tensors point at buffer 0; metadata entries follow the constant buffers, sorted by
name. The flatbuffers Builder is deterministic for a fixed call sequence, and every sequence
here depends only on list order, so the same graph always gives the same bytes.
"""

from __future__ import annotations

from typing import Any

import flatbuffers
import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.tflite import schema as S
from edgelite.tflite import sparsity as SP
from edgelite.tflite.versions import op_version


class SchemaError(EdgeliteError, ValueError):
    """The IR does not follow the schema conventions (unknown op, option key or value).

    An IR built by our own converter should never trigger this, hence the INTERNAL code.
    """

    def __init__(self, message: str, *, where: str | None = None) -> None:
        super().__init__(message, code=Code.INTERNAL, where=where)


SIGNATURE_KEY = "serving_default"
# A flatbuffer addresses itself with 32-bit offsets; TFLite's external-buffer layout for larger
# models is not written by edgelite.
MAX_FLATBUFFER_BYTES = 2**31 - 1


def write_model(graph: ir.Graph, *, description: str = "edgelite") -> bytes:
    """The .tflite bytes of ``graph`` (one subgraph, one "serving_default" signature).

    Constants marked ``sparse`` are stored in TFLite's sparse form when that saves bytes
    (see sparsity.sparse_plan).
    """
    return _Writer(graph, description, SP.sparse_plan(graph)).build()


def encode_options(op: ir.Op) -> tuple[str | None, list[tuple[S.Field, Any]]]:
    """Check ``op.options`` against the schema; return (options table, [(field, value)]).

    Every non-deprecated field of the table is returned, with its schema default where the IR
    leaves it out. Enum values come back as their numbers, vectors as numpy arrays.
    """
    where = _op_where(op)
    if op.type not in S.BUILTIN_OPERATORS:
        raise SchemaError(f"unknown TFLite builtin operator {op.type!r}", where=where)
    if op.type not in S.OP_OPTIONS:
        raise SchemaError(
            f"operator {op.type} is not in edgelite's TFLite schema subset", where=where
        )
    table = S.OP_OPTIONS[op.type]
    fields = S.options_fields(op.type)
    known = {f.name for f in fields}
    for key in sorted(op.options):
        if key not in known:
            allowed = ", ".join(sorted(known)) or "none"
            raise SchemaError(
                f"{op.type} has no option {key!r} (options of {table or 'this op'}: {allowed})",
                where=where,
            )
    implied = _implied_options(op)
    values = []
    for f in fields:
        if f.name in op.options:
            raw = op.options[f.name]
        elif f.name in implied:
            raw = implied[f.name]
        else:
            raw = f.default
        values.append((f, _encode_value(op, f, raw)))
    return table, values


def _implied_options(op: ir.Op) -> dict[str, Any]:
    """Options whose schema default (FLOAT32) would contradict the op's own tensors.

    A TensorType option left out of the IR is taken from the tensor it describes, so a
    lowering cannot produce an ARG_MAX whose options say float output for an int32 tensor.
    """
    out = op.outputs[0] if op.outputs else None
    first = op.inputs[0] if op.inputs and op.inputs[0] is not None else None
    implied: dict[str, Any] = {}
    if op.type in ("ARG_MAX", "ARG_MIN") and out is not None:
        implied["output_type"] = S.DTYPE_TO_TENSOR_TYPE.get(out.dtype, "INT32")
    elif op.type == "SHAPE" and out is not None:
        implied["out_type"] = S.DTYPE_TO_TENSOR_TYPE.get(out.dtype, "INT32")
    elif op.type == "CAST" and out is not None and first is not None:
        implied["in_data_type"] = S.DTYPE_TO_TENSOR_TYPE.get(first.dtype, "FLOAT32")
        implied["out_data_type"] = S.DTYPE_TO_TENSOR_TYPE.get(out.dtype, "FLOAT32")
    return implied


def _encode_value(op: ir.Op, f: S.Field, raw: Any) -> Any:
    def bad(expected: str) -> SchemaError:
        return SchemaError(
            f"{op.type} option {f.name!r} must be {expected}, got {raw!r}", where=_op_where(op)
        )

    kind = f.kind
    if kind in S.ENUMS:
        members = S.ENUMS[kind]
        if kind == "TensorType" and isinstance(raw, str) and raw in S.DTYPE_TO_TENSOR_TYPE:
            raw = S.DTYPE_TO_TENSOR_TYPE[raw]  # also accept an IR dtype name
        if not isinstance(raw, str) or raw not in members:
            raise bad(f"one of {', '.join(members)}")
        return members[raw]
    if kind == "bool":
        if not isinstance(raw, (bool, np.bool_)):
            raise bad("a bool")
        return bool(raw)
    if kind in ("int32", "uint32", "int64"):
        if isinstance(raw, (bool, np.bool_)) or not isinstance(raw, (int, np.integer)):
            raise bad("an integer")
        lo, hi = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1),
                  "int64": (-(2**63), 2**63 - 1)}[kind]
        if not lo <= int(raw) <= hi:
            raise bad(f"an integer in [{lo}, {hi}]")
        return int(raw)
    if kind == "float32":
        if isinstance(raw, (bool, np.bool_)) or not isinstance(raw, (int, float, np.number)):
            raise bad("a number")
        return float(np.float32(raw))
    if kind == "string":
        if raw is None:
            return None
        if not isinstance(raw, str):
            raise bad("a string")
        return raw
    if kind in S.VECTOR_KINDS:
        if raw is None:
            return None
        dtype = {"[int32]": np.int32, "[int64]": np.int64, "[float32]": np.float32}[kind]
        try:
            arr = np.asarray(raw)
        except Exception as exc:  # ragged lists and the like
            raise bad("a list of numbers") from exc
        if arr.ndim != 1 or not (arr.size == 0 or arr.dtype.kind in "iuf"):
            raise bad("a flat list of numbers")
        if dtype is not np.float32 and arr.size and arr.dtype.kind == "f":
            raise bad("a list of integers")
        return arr.astype(f"<{np.dtype(dtype).str[1:]}")
    raise AssertionError(f"unhandled field kind {kind}")


def _op_where(op: ir.Op) -> str:
    return f"op {op.type}" + (f" [{op.name}]" if op.name else "")


def tensor_type(t: ir.Tensor) -> int:
    name = S.DTYPE_TO_TENSOR_TYPE.get(t.dtype)
    if name is None:
        raise SchemaError(f"dtype {t.dtype} has no TFLite tensor type", where=f"tensor {t.name!r}")
    return S.TENSOR_TYPES[name]


class _Writer:
    def __init__(self, graph: ir.Graph, description: str,
                 plan: SP.SparsePlan | None = None) -> None:
        plan = plan or SP.SparsePlan([], [], {})
        self.graph = graph
        self.sparse = plan.encodings
        self.densified = plan.densified  # constants written as DENSIFY outputs
        self.ops = plan.densify_ops + [o for op in graph.ops
                                       for o in plan.replaced.get(id(op), [op])]
        self.description = description
        # Sparse constants and the tensors of replaced ops go last: the graph's tensors keep
        # their indices in the file (a substituted one gives its place to its replacement).
        self.tensors = ([plan.substituted.get(id(t), t) for t in graph.tensors()]
                        + plan.stored + plan.added)
        self.index = {id(t): i for i, t in enumerate(self.tensors)}
        const_bytes = sum(t.nbytes for t in self.tensors if t.is_const)
        meta_bytes = sum(len(v) for v in graph.metadata.values())
        estimate = (const_bytes + meta_bytes + 4096 + 256 * len(graph.ops)
                    + 128 * len(self.tensors))
        if const_bytes + meta_bytes + 16 * len(self.tensors) >= MAX_FLATBUFFER_BYTES:
            raise EdgeliteError(
                f"the model's constants take {const_bytes:,} bytes; a .tflite flatbuffer holds "
                f"at most 2 GB", code=Code.UNSUPPORTED, where=f"graph {graph.name!r}",
                hint="quantize the weights (int8 or float16) to shrink them")
        self.b = flatbuffers.Builder(min(estimate, MAX_FLATBUFFER_BYTES))
        # Identical numeric vectors (per-channel zero points are all zeros, shapes repeat) are
        # written once and shared: flatbuffers allow several tables to point at one vector.
        self._shared: dict[tuple[str, bytes], int] = {}

    # ---- helpers -------------------------------------------------------------------------
    def _vector_of_offsets(self, offsets: list[int]) -> int:
        b = self.b
        b.StartVector(4, len(offsets), 4)
        for off in reversed(offsets):
            b.PrependUOffsetTRelative(off)
        return b.EndVector()

    def _int32_vector(self, values: list[int]) -> int:
        return self._shared_vector(np.asarray(values, dtype="<i4").reshape(-1))

    def _shared_vector(self, arr: np.ndarray) -> int:
        key = (arr.dtype.str, arr.tobytes())
        off = self._shared.get(key)
        if off is None:
            off = self._shared[key] = self.b.CreateNumpyVector(arr)
        return off

    def _aligned_bytes(self, data: bytes) -> int:
        """A [ubyte] vector whose first byte is 16-byte aligned in the finished file."""
        b = self.b
        b.StartVector(1, len(data), S.Buffer.DATA_ALIGNMENT)
        b.head -= len(data)
        b.Bytes[b.head:b.head + len(data)] = data
        b.vectorNumElems = len(data)
        return b.EndVector()

    def _buffer(self, data: bytes | None) -> int:
        data_off = self._aligned_bytes(data) if data else None
        b = self.b
        b.StartObject(S.Buffer.NUM_FIELDS)
        if data_off is not None:
            b.PrependUOffsetTRelativeSlot(S.Buffer.DATA, data_off, 0)
        return b.EndObject()

    # ---- sections ------------------------------------------------------------------------
    def build(self) -> bytes:
        g, b = self.graph, self.b
        for op in self.ops:  # fail on convention mismatches before doing any work
            encode_options(op)

        # Buffers are built first so their data lands at the end of the file.
        buffer_of: dict[int, int] = {}
        buffer_offs = [self._buffer(None)]
        for t in self.tensors:
            if t.is_const and t.size > 0 and id(t) not in self.densified:
                buffer_of[id(t)] = len(buffer_offs)
                data = np.ascontiguousarray(t.data).astype(t.data.dtype.newbyteorder("<"))
                if id(t) in self.sparse:  # only the stored values
                    data = self.sparse[id(t)][1].astype(t.data.dtype.newbyteorder("<"))
                buffer_offs.append(self._buffer(data.tobytes()))
        meta_buffers: list[tuple[str, int]] = []
        for name in sorted(g.metadata):
            value = g.metadata[name]
            if not isinstance(value, (bytes, bytearray)):
                raise SchemaError(f"metadata {name!r} must be bytes, got {type(value).__name__}")
            meta_buffers.append((name, len(buffer_offs)))
            buffer_offs.append(self._buffer(bytes(value)))

        opcodes = self._operator_codes()  # before the operators that index them
        subgraph = self._subgraph(buffer_of)
        signature = self._signature()
        metadata = [self._metadata(name, idx) for name, idx in meta_buffers]

        buffers_vec = self._vector_of_offsets(buffer_offs)
        subgraphs_vec = self._vector_of_offsets([subgraph])
        opcodes_vec = self._vector_of_offsets(opcodes)
        sigs_vec = self._vector_of_offsets([signature])
        meta_vec = self._vector_of_offsets(metadata) if metadata else None
        desc = b.CreateString(self.description)

        b.StartObject(S.Model.NUM_FIELDS)
        b.PrependUint32Slot(S.Model.VERSION, S.SCHEMA_VERSION, 0)
        b.PrependUOffsetTRelativeSlot(S.Model.OPERATOR_CODES, opcodes_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.Model.SUBGRAPHS, subgraphs_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.Model.DESCRIPTION, desc, 0)
        b.PrependUOffsetTRelativeSlot(S.Model.BUFFERS, buffers_vec, 0)
        if meta_vec is not None:
            b.PrependUOffsetTRelativeSlot(S.Model.METADATA, meta_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.Model.SIGNATURE_DEFS, sigs_vec, 0)
        model = b.EndObject()
        b.Finish(model, file_identifier=S.FILE_IDENTIFIER)
        return bytes(b.Output())

    def _operator_codes(self) -> list[int]:
        b = self.b
        self.opcode_index: dict[tuple[str, int], int] = {}
        offs = []
        for op in self.ops:
            key = (op.type, op_version(op))
            if key in self.opcode_index:
                continue
            self.opcode_index[key] = len(offs)
            code = S.BUILTIN_OPERATORS[op.type]
            b.StartObject(S.OperatorCode.NUM_FIELDS)
            b.PrependInt8Slot(S.OperatorCode.DEPRECATED_BUILTIN_CODE,
                              min(code, S.PLACEHOLDER_FOR_GREATER_OP_CODES), 0)
            b.PrependInt32Slot(S.OperatorCode.VERSION, key[1], 1)
            b.PrependInt32Slot(S.OperatorCode.BUILTIN_CODE, code, 0)
            offs.append(b.EndObject())
        return offs

    def _subgraph(self, buffer_of: dict[int, int]) -> int:
        b, g = self.b, self.graph
        tensor_offs = [self._tensor(t, buffer_of.get(id(t), 0)) for t in self.tensors]
        op_offs = [self._operator(op) for op in self.ops]
        tensors_vec = self._vector_of_offsets(tensor_offs)
        inputs_vec = self._int32_vector([self.index[id(t)] for t in g.inputs])
        outputs_vec = self._int32_vector([self.index[id(t)] for t in g.outputs])
        ops_vec = self._vector_of_offsets(op_offs)
        name = b.CreateString(g.name)
        b.StartObject(S.SubGraph.NUM_FIELDS)
        b.PrependUOffsetTRelativeSlot(S.SubGraph.TENSORS, tensors_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.SubGraph.INPUTS, inputs_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.SubGraph.OUTPUTS, outputs_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.SubGraph.OPERATORS, ops_vec, 0)
        b.PrependUOffsetTRelativeSlot(S.SubGraph.NAME, name, 0)
        return b.EndObject()

    def _quantization(self, t: ir.Tensor) -> int | None:
        q = t.quant
        if q is None:
            return None
        b = self.b
        if q.scale.size != q.zero_point.size:
            raise SchemaError(
                f"quantization has {q.scale.size} scales but {q.zero_point.size} zero points",
                where=f"tensor {t.name!r}",
            )
        if q.per_channel and not (0 <= q.axis < len(t.shape) and t.shape[q.axis] == q.scale.size):
            raise SchemaError(
                f"{q.scale.size} per-channel scales do not match axis {q.axis} of shape "
                f"{list(t.shape)}", where=f"tensor {t.name!r}",
            )
        scale = self._shared_vector(q.scale.astype("<f4"))
        zp = self._shared_vector(q.zero_point.astype("<i8"))
        b.StartObject(S.QuantizationParameters.NUM_FIELDS)
        b.PrependUOffsetTRelativeSlot(S.QuantizationParameters.SCALE, scale, 0)
        b.PrependUOffsetTRelativeSlot(S.QuantizationParameters.ZERO_POINT, zp, 0)
        b.PrependInt32Slot(S.QuantizationParameters.QUANTIZED_DIMENSION, int(q.axis), 0)
        return b.EndObject()

    def _tensor(self, t: ir.Tensor, buffer: int) -> int:
        b = self.b
        ttype = tensor_type(t)
        quant = self._quantization(t)
        sparsity = self._sparsity(self.sparse[id(t)][0]) if id(t) in self.sparse else None
        shape = self._int32_vector(list(t.shape))
        name = b.CreateString(t.name)
        b.StartObject(S.Tensor.NUM_FIELDS)
        if sparsity is not None:
            b.PrependUOffsetTRelativeSlot(S.Tensor.SPARSITY, sparsity, 0)
        b.PrependUOffsetTRelativeSlot(S.Tensor.SHAPE, shape, 0)
        b.PrependInt8Slot(S.Tensor.TYPE, ttype, 0)
        b.PrependUint32Slot(S.Tensor.BUFFER, buffer, 0)
        b.PrependUOffsetTRelativeSlot(S.Tensor.NAME, name, 0)
        if quant is not None:
            b.PrependUOffsetTRelativeSlot(S.Tensor.QUANTIZATION, quant, 0)
        b.PrependBoolSlot(S.Tensor.IS_VARIABLE, bool(getattr(t, "is_variable", False)), False)
        b.PrependBoolSlot(S.Tensor.HAS_RANK, True, False)
        return b.EndObject()

    def _sparsity(self, sp: SP.SparsityInfo) -> int:
        b = self.b
        D = S.DimensionMetadata
        metas = []
        for m in sp.dim_metadata:
            vectors = {}
            for slot, arr, kind in ((D.ARRAY_SEGMENTS, m.segments, m.segments_type),
                                    (D.ARRAY_INDICES, m.indices, m.indices_type)):
                if arr is None:
                    continue
                values = b.CreateNumpyVector(arr.astype(SP.INDEX_VECTOR_DTYPES[kind]))
                b.StartObject(S.SparseIndexVectorTable.NUM_FIELDS)
                b.PrependUOffsetTRelativeSlot(S.SparseIndexVectorTable.VALUES, values, 0)
                vectors[slot] = (kind, b.EndObject())
            b.StartObject(D.NUM_FIELDS)
            b.PrependInt8Slot(D.FORMAT, m.format, 0)
            b.PrependInt32Slot(D.DENSE_SIZE, m.dense_size, 0)
            for slot, (kind, off) in vectors.items():
                b.PrependUint8Slot(slot - 1, kind, 0)
                b.PrependUOffsetTRelativeSlot(slot, off, 0)
            metas.append(b.EndObject())
        order = self._int32_vector(sp.traversal_order)
        blocks = self._int32_vector(sp.block_map) if sp.block_map else None
        metas_vec = self._vector_of_offsets(metas)
        P = S.SparsityParameters
        b.StartObject(P.NUM_FIELDS)
        b.PrependUOffsetTRelativeSlot(P.TRAVERSAL_ORDER, order, 0)
        if blocks is not None:
            b.PrependUOffsetTRelativeSlot(P.BLOCK_MAP, blocks, 0)
        b.PrependUOffsetTRelativeSlot(P.DIM_METADATA, metas_vec, 0)
        return b.EndObject()

    def _options_table(self, op: ir.Op) -> tuple[int, int | None]:
        table, values = encode_options(op)
        if table is None:
            return 0, None
        b = self.b
        # Vectors and strings first: the builder cannot nest them inside a table.
        refs: dict[str, int] = {}
        for f, v in values:
            if v is None:
                continue
            if f.kind in S.VECTOR_KINDS:
                refs[f.name] = b.CreateNumpyVector(v)
            elif f.kind == "string":
                refs[f.name] = b.CreateString(v)
        fields = S.OPTIONS_TABLES[table]
        b.StartObject(len(fields))
        slots = {f.name: i for i, f in enumerate(fields)}
        for f, v in values:
            slot = slots[f.name]
            if f.name in refs:
                b.PrependUOffsetTRelativeSlot(slot, refs[f.name], 0)
            elif v is None:
                continue
            elif f.kind in S.ENUMS:
                b.PrependInt8Slot(slot, v, S.ENUMS[f.kind][f.default])
            elif f.kind == "bool":
                b.PrependBoolSlot(slot, v, f.default)
            elif f.kind == "int32":
                b.PrependInt32Slot(slot, v, f.default)
            elif f.kind == "uint32":
                b.PrependUint32Slot(slot, v, f.default)
            elif f.kind == "int64":
                b.PrependInt64Slot(slot, v, f.default)
            elif f.kind == "float32":
                b.PrependFloat32Slot(slot, v, f.default)
        return S.OPTIONS_TYPE[table], b.EndObject()

    def _operator(self, op: ir.Op) -> int:
        b = self.b
        for t in op.outputs:
            if t is None:
                raise SchemaError("an output is None", where=_op_where(op))
        opts_type, opts = self._options_table(op)
        inputs = self._int32_vector([-1 if t is None else self.index[id(t)] for t in op.inputs])
        outputs = self._int32_vector([self.index[id(t)] for t in op.outputs])
        b.StartObject(S.Operator.NUM_FIELDS)
        b.PrependUint32Slot(S.Operator.OPCODE_INDEX, self.opcode_index[(op.type, op_version(op))],
                            0)
        b.PrependUOffsetTRelativeSlot(S.Operator.INPUTS, inputs, 0)
        b.PrependUOffsetTRelativeSlot(S.Operator.OUTPUTS, outputs, 0)
        if opts is not None:
            b.PrependUint8Slot(S.Operator.BUILTIN_OPTIONS_TYPE, opts_type, 0)
            b.PrependUOffsetTRelativeSlot(S.Operator.BUILTIN_OPTIONS, opts, 0)
        return b.EndObject()

    def _tensor_map(self, t: ir.Tensor) -> int:
        b = self.b
        name = b.CreateString(t.name)
        b.StartObject(S.TensorMap.NUM_FIELDS)
        b.PrependUOffsetTRelativeSlot(S.TensorMap.NAME, name, 0)
        b.PrependUint32Slot(S.TensorMap.TENSOR_INDEX, self.index[id(t)], 0)
        return b.EndObject()

    def _signature(self) -> int:
        b, g = self.b, self.graph
        for kind, ts in (("input", g.inputs), ("output", g.outputs)):
            names = [t.name for t in ts]
            dup = sorted({n for n in names if names.count(n) > 1})
            if dup:
                raise SchemaError(f"graph {kind} names must be unique for the signature; "
                                  f"repeated: {', '.join(dup)}")
        ins = self._vector_of_offsets([self._tensor_map(t) for t in g.inputs])
        outs = self._vector_of_offsets([self._tensor_map(t) for t in g.outputs])
        key = b.CreateString(SIGNATURE_KEY)
        b.StartObject(S.SignatureDef.NUM_FIELDS)
        b.PrependUOffsetTRelativeSlot(S.SignatureDef.INPUTS, ins, 0)
        b.PrependUOffsetTRelativeSlot(S.SignatureDef.OUTPUTS, outs, 0)
        b.PrependUOffsetTRelativeSlot(S.SignatureDef.SIGNATURE_KEY, key, 0)
        b.PrependUint32Slot(S.SignatureDef.SUBGRAPH_INDEX, 0, 0)
        return b.EndObject()

    def _metadata(self, name: str, buffer: int) -> int:
        b = self.b
        name_off = b.CreateString(name)
        b.StartObject(S.Metadata.NUM_FIELDS)
        b.PrependUOffsetTRelativeSlot(S.Metadata.NAME, name_off, 0)
        b.PrependUint32Slot(S.Metadata.BUFFER, buffer, 0)
        return b.EndObject()
