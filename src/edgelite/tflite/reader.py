"""Parse a .tflite flatbuffer into plain dataclasses, and turn a float model into IR.

The parser reads the flatbuffer with its own bounds-checked accessors (no generated code, no
trust in the file): every offset, vtable, vector length and index is checked against the file
before it is used, and anything out of place raises EdgeliteError("<file>: not a valid .tflite
file: <what>").
"""

from __future__ import annotations

import math
import os
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.fileio import refuse_onnx_as_tflite
from edgelite.tflite import schema as S
from edgelite.tflite import sparsity as SP

# ---- the description ------------------------------------------------------------------------

@dataclass
class QuantInfo:
    scale: list[float]
    zero_point: list[int]
    quantized_dimension: int = 0
    min: list[float] = field(default_factory=list)
    max: list[float] = field(default_factory=list)


@dataclass
class TensorInfo:
    index: int
    name: str
    shape: list[int]
    type: str  # TensorType name ("FLOAT32", "INT8", ...)
    buffer: int
    nbytes: int  # size of the tensor's constant data (0: not a constant)
    quantization: QuantInfo | None = None
    is_variable: bool = False
    shape_signature: list[int] | None = None
    sparsity: SP.SparsityInfo | None = None  # checked against shape and buffer size

    @property
    def dtype(self) -> str | None:
        """The IR (numpy) dtype name, or None for types the IR does not have."""
        return S.TENSOR_TYPE_TO_DTYPE.get(self.type)


@dataclass
class OperatorCodeInfo:
    op: str  # BuiltinOperator name, "CUSTOM", or "BUILTIN_<code>" for codes we do not know
    builtin_code: int
    version: int
    custom_code: str | None = None


@dataclass
class OperatorInfo:
    index: int
    opcode_index: int
    op: str
    version: int
    inputs: list[int]  # -1: optional input left out
    outputs: list[int]
    options_type: str | None  # the BuiltinOptions member present, if any
    options: dict[str, Any]  # decoded with the writer's conventions (enum names, lists)
    custom_code: str | None = None
    custom_options: memoryview | None = None  # a view into the file, not a copy
    intermediates: list[int] = field(default_factory=list)


@dataclass
class SubGraphInfo:
    index: int
    name: str
    tensors: list[TensorInfo]
    inputs: list[int]
    outputs: list[int]
    operators: list[OperatorInfo]


@dataclass
class BufferInfo:
    index: int
    size: int
    offset: int  # position of the data in the file (0 when empty)
    # The whole file; ``data`` slices it on demand, so a crafted file whose many buffer or
    # metadata entries share one large region costs no memory until someone reads them.
    file: bytes = field(default=b"", repr=False, compare=False)

    @property
    def data(self) -> bytes:
        return self.file[self.offset:self.offset + self.size] if self.size else b""


@dataclass
class MetadataInfo:
    name: str
    buffer: int
    size: int
    _buffer: BufferInfo = field(repr=False, compare=False)

    @property
    def data(self) -> bytes:
        return self._buffer.data


@dataclass
class SignatureInfo:
    key: str
    subgraph_index: int
    inputs: dict[str, int]  # signature name -> tensor index
    outputs: dict[str, int]


@dataclass
class ModelInfo:
    source: str
    version: int
    description: str
    operator_codes: list[OperatorCodeInfo]
    subgraphs: list[SubGraphInfo]
    buffers: list[BufferInfo]
    metadata: list[MetadataInfo]
    signatures: list[SignatureInfo]
    size: int  # file size in bytes


# ---- bounds-checked flatbuffer access -------------------------------------------------------

class _Invalid(Exception):
    pass


class _Buf:
    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self.n = len(self.data)

    def check(self, pos: int, size: int, what: str) -> None:
        if pos < 0 or size < 0 or pos + size > self.n:
            raise _Invalid(f"{what} (bytes {pos}..{pos + size}) lies outside the file "
                           f"({self.n} bytes)")

    def unpack(self, fmt: str, pos: int, what: str) -> Any:
        size = struct.calcsize(fmt)
        self.check(pos, size, what)
        return struct.unpack_from(fmt, self.data, pos)[0]

    def table(self, pos: int, what: str) -> _Table:
        return _Table(self, pos, what)


_SCALAR_FMT = {"bool": "<?", "int8": "<b", "uint8": "<B", "int32": "<i", "uint32": "<I",
               "int64": "<q", "uint64": "<Q", "float32": "<f"}


class _Table:
    def __init__(self, buf: _Buf, pos: int, what: str) -> None:
        self.buf, self.pos, self.what = buf, pos, what
        if pos % 4:
            raise _Invalid(f"{what}: table at offset {pos} is not 4-byte aligned")
        soff = buf.unpack("<i", pos, f"{what} table")
        self.vt = pos - soff
        if self.vt % 2:
            raise _Invalid(f"{what}: vtable at offset {self.vt} is misaligned")
        self.vt_len = buf.unpack("<H", self.vt, f"{what} vtable")
        self.obj_len = buf.unpack("<H", self.vt + 2, f"{what} vtable")
        if self.vt_len < 4 or self.vt_len % 2:
            raise _Invalid(f"{what}: vtable size {self.vt_len} is invalid")
        buf.check(self.vt, self.vt_len, f"{what} vtable")
        if self.obj_len < 4:
            raise _Invalid(f"{what}: table size {self.obj_len} is invalid")
        buf.check(pos, self.obj_len, f"{what} table")

    def _field(self, slot: int, size: int, name: str) -> int | None:
        entry = 4 + 2 * slot
        if entry + 2 > self.vt_len:
            return None
        off = self.buf.unpack("<H", self.vt + entry, f"{self.what} vtable")
        if off == 0:
            return None
        if off + size > self.obj_len:
            raise _Invalid(f"{self.what}.{name}: field lies outside its table")
        return self.pos + off

    def scalar(self, slot: int, kind: str, default: Any, name: str = "field") -> Any:
        fmt = _SCALAR_FMT[kind]
        p = self._field(slot, struct.calcsize(fmt), name)
        return default if p is None else self.buf.unpack(fmt, p, f"{self.what}.{name}")

    def _target(self, slot: int, name: str) -> int | None:
        p = self._field(slot, 4, name)
        if p is None:
            return None
        rel = self.buf.unpack("<I", p, f"{self.what}.{name}")
        target = p + rel
        self.buf.check(target, 4, f"{self.what}.{name}")
        return target

    def table(self, slot: int, name: str) -> _Table | None:
        t = self._target(slot, name)
        return None if t is None else _Table(self.buf, t, f"{self.what}.{name}")

    def vector(self, slot: int, elem_size: int, name: str) -> tuple[int, int] | None:
        """(position of the first element, element count), or None when absent."""
        t = self._target(slot, name)
        if t is None:
            return None
        count = self.buf.unpack("<I", t, f"{self.what}.{name} length")
        self.buf.check(t + 4, count * elem_size, f"{self.what}.{name} ({count} elements)")
        return t + 4, count

    def string(self, slot: int, name: str) -> str | None:
        v = self.vector(slot, 1, name)
        if v is None:
            return None
        start, count = v
        try:
            return self.buf.data[start:start + count].decode("utf-8")
        except UnicodeDecodeError:
            raise _Invalid(f"{self.what}.{name}: string is not valid UTF-8") from None

    def raw(self, slot: int, name: str) -> tuple[int, int] | None:
        """(position, length) of a [ubyte] vector, or None when absent."""
        return self.vector(slot, 1, name)

    def array(self, slot: int, dtype: str, name: str) -> np.ndarray | None:
        dt = np.dtype(dtype)
        v = self.vector(slot, dt.itemsize, name)
        if v is None:
            return None
        start, count = v
        return np.frombuffer(self.buf.data, dtype=dt, count=count, offset=start).copy()

    def tables(self, slot: int, name: str) -> list[_Table]:
        v = self.vector(slot, 4, name)
        if v is None:
            return []
        start, count = v
        out = []
        for i in range(count):
            p = start + 4 * i
            rel = self.buf.unpack("<I", p, f"{self.what}.{name}[{i}]")
            out.append(_Table(self.buf, p + rel, f"{self.what}.{name}[{i}]"))
        return out


# ---- parsing ---------------------------------------------------------------------------------

def read_file(path: str | os.PathLike[str]) -> ModelInfo:
    from edgelite.fileio import read_bytes

    return read_model(read_bytes(path, ".tflite file"), source=str(path))


def read_model(data: bytes, source: str = "<memory>") -> ModelInfo:
    """Parse .tflite bytes; malformed input raises EdgeliteError naming ``source``."""
    try:
        return _parse(_Buf(data), source)
    except _Invalid as exc:
        refuse_onnx_as_tflite(data, source)
        raise EdgeliteError(f"not a valid .tflite file: {exc}", where=source,
                            code=Code.BAD_INPUT,
                            hint="the file is truncated, corrupted or not a TFLite model") from None
    except RecursionError:  # defensive: nothing here recurses, but never crash
        raise EdgeliteError("not a valid .tflite file: structure too deep", where=source,
                            code=Code.BAD_INPUT) from None


def _parse(buf: _Buf, source: str) -> ModelInfo:
    if buf.n < 8:
        raise _Invalid(f"file is {buf.n} bytes, too short for a flatbuffer header")
    ident = buf.data[4:8]
    if ident != S.FILE_IDENTIFIER:
        raise _Invalid(f"file identifier is {ident!r}, expected {S.FILE_IDENTIFIER!r}")
    root = buf.unpack("<I", 0, "root offset")
    model = buf.table(root, "Model")
    M = S.Model
    version = model.scalar(M.VERSION, "uint32", 0, "version")
    if version != S.SCHEMA_VERSION:
        raise _Invalid(f"schema version is {version}, expected {S.SCHEMA_VERSION}")
    description = model.string(M.DESCRIPTION, "description") or ""

    buffers = []
    for i, t in enumerate(model.tables(M.BUFFERS, "buffers")):
        raw = t.raw(S.Buffer.DATA, "data")
        offset = t.scalar(S.Buffer.OFFSET, "uint64", 0, "offset")
        size = t.scalar(S.Buffer.SIZE, "uint64", 0, "size")
        if raw is not None and raw[1]:
            buffers.append(BufferInfo(i, raw[1], raw[0], buf.data))
        elif offset > 1:  # data stored after the flatbuffer (models over 2 GB)
            buf.check(offset, size, f"buffers[{i}] external data")
            buffers.append(BufferInfo(i, size, offset, buf.data))
        else:
            buffers.append(BufferInfo(i, 0, 0))

    opcodes = [_opcode(t) for t in model.tables(M.OPERATOR_CODES, "operator_codes")]
    subgraphs = [_subgraph(i, t, opcodes, buffers)
                 for i, t in enumerate(model.tables(M.SUBGRAPHS, "subgraphs"))]
    if not subgraphs:
        raise _Invalid("the model has no subgraph")

    metadata = []
    for i, t in enumerate(model.tables(M.METADATA, "metadata")):
        name = t.string(S.Metadata.NAME, "name") or ""
        b = t.scalar(S.Metadata.BUFFER, "uint32", 0, "buffer")
        if b >= len(buffers):
            raise _Invalid(f"metadata[{i}] ({name!r}) refers to buffer {b} of {len(buffers)}")
        metadata.append(MetadataInfo(name, b, buffers[b].size, buffers[b]))

    signatures = []
    for i, t in enumerate(model.tables(M.SIGNATURE_DEFS, "signature_defs")):
        sg = t.scalar(S.SignatureDef.SUBGRAPH_INDEX, "uint32", 0, "subgraph_index")
        if sg >= len(subgraphs):
            raise _Invalid(f"signature_defs[{i}] refers to subgraph {sg} of {len(subgraphs)}")
        ntensors = len(subgraphs[sg].tensors)
        maps = []
        for slot, label in ((S.SignatureDef.INPUTS, "inputs"), (S.SignatureDef.OUTPUTS, "outputs")):
            entries: dict[str, int] = {}
            for tm in t.tables(slot, label):
                name = tm.string(S.TensorMap.NAME, "name") or ""
                idx = tm.scalar(S.TensorMap.TENSOR_INDEX, "uint32", 0, "tensor_index")
                if idx >= ntensors:
                    raise _Invalid(f"signature_defs[{i}].{label}[{name!r}] refers to tensor "
                                   f"{idx} of {ntensors}")
                entries[name] = idx
            maps.append(entries)
        key = t.string(S.SignatureDef.SIGNATURE_KEY, "signature_key") or ""
        signatures.append(SignatureInfo(key, sg, maps[0], maps[1]))

    return ModelInfo(source, version, description, opcodes, subgraphs, buffers, metadata,
                     signatures, buf.n)


def _opcode(t: _Table) -> OperatorCodeInfo:
    OC = S.OperatorCode
    deprecated = t.scalar(OC.DEPRECATED_BUILTIN_CODE, "int8", 0, "deprecated_builtin_code")
    code = t.scalar(OC.BUILTIN_CODE, "int32", 0, "builtin_code")
    # Files from before builtin_code existed only set the byte field; newer ones set both.
    code = max(code, deprecated)
    version = t.scalar(OC.VERSION, "int32", 1, "version")
    custom = t.string(OC.CUSTOM_CODE, "custom_code")
    name = S.BUILTIN_OPERATOR_NAMES.get(code, f"BUILTIN_{code}")
    return OperatorCodeInfo(name, code, version, custom)


def _subgraph(index: int, t: _Table, opcodes: list[OperatorCodeInfo],
              buffers: list[BufferInfo]) -> SubGraphInfo:
    where = f"subgraphs[{index}]"
    tensors = [_tensor(i, tt, buffers) for i, tt in enumerate(t.tables(S.SubGraph.TENSORS,
                                                                        "tensors"))]
    n = len(tensors)

    def indices(arr: np.ndarray | None, what: str, optional: bool = False) -> list[int]:
        values = [] if arr is None else [int(v) for v in arr]
        for v in values:
            if not (0 <= v < n or (optional and v == -1)):
                raise _Invalid(f"{what} refers to tensor {v}, but the subgraph has {n}")
        return values

    inputs = indices(t.array(S.SubGraph.INPUTS, "<i4", "inputs"), f"{where}.inputs")
    outputs = indices(t.array(S.SubGraph.OUTPUTS, "<i4", "outputs"), f"{where}.outputs")
    ops = []
    for i, ot in enumerate(t.tables(S.SubGraph.OPERATORS, "operators")):
        O = S.Operator
        ow = f"{where}.operators[{i}]"
        oi = ot.scalar(O.OPCODE_INDEX, "uint32", 0, "opcode_index")
        if oi >= len(opcodes):
            raise _Invalid(f"{ow} uses operator code {oi}, but the model has {len(opcodes)}")
        code = opcodes[oi]
        op_in = indices(ot.array(O.INPUTS, "<i4", "inputs"), f"{ow}.inputs", optional=True)
        op_out = indices(ot.array(O.OUTPUTS, "<i4", "outputs"), f"{ow}.outputs")
        inter = indices(ot.array(O.INTERMEDIATES, "<i4", "intermediates"),
                        f"{ow}.intermediates")
        otype = ot.scalar(O.BUILTIN_OPTIONS_TYPE, "uint8", 0, "builtin_options_type")
        table_name: str | None = None
        options: dict[str, Any] = {}
        if otype:
            if otype > len(S.BUILTIN_OPTIONS_UNION):
                raise _Invalid(f"{ow} has builtin options type {otype}, which does not exist")
            table_name = S.BUILTIN_OPTIONS_UNION[otype - 1]
            opt = ot.table(O.BUILTIN_OPTIONS, "builtin_options")
            if opt is not None and table_name in S.OPTIONS_TABLES:
                options = _decode_options(opt, table_name)
        custom_at = ot.raw(O.CUSTOM_OPTIONS, "custom_options")
        custom = (None if custom_at is None
                  else memoryview(ot.buf.data)[custom_at[0]:custom_at[0] + custom_at[1]])
        ops.append(OperatorInfo(i, oi, code.op, code.version, op_in, op_out, table_name, options,
                                code.custom_code, custom, inter))
    name = t.string(S.SubGraph.NAME, "name") or ""
    return SubGraphInfo(index, name, tensors, inputs, outputs, ops)


def _tensor(index: int, t: _Table, buffers: list[BufferInfo]) -> TensorInfo:
    T = S.Tensor
    shape = t.array(T.SHAPE, "<i4", "shape")
    ttype = t.scalar(T.TYPE, "int8", 0, "type")
    type_name = next((k for k, v in S.TENSOR_TYPES.items() if v == ttype), f"TYPE_{ttype}")
    b = t.scalar(T.BUFFER, "uint32", 0, "buffer")
    name = t.string(T.NAME, "name") or ""
    if b >= len(buffers):
        raise _Invalid(f"tensor {index} ({name!r}) refers to buffer {b}, but the model has "
                       f"{len(buffers)}")
    quant = None
    q = t.table(T.QUANTIZATION, "quantization")
    if q is not None:
        Q = S.QuantizationParameters
        scale = q.array(Q.SCALE, "<f4", "scale")
        zp = q.array(Q.ZERO_POINT, "<i8", "zero_point")
        qmin = q.array(Q.MIN, "<f4", "min")
        qmax = q.array(Q.MAX, "<f4", "max")
        if scale is not None and scale.size:
            if zp is not None and zp.size and zp.size != scale.size:
                raise _Invalid(f"tensor {index} ({name!r}) has {zp.size} zero points for "
                               f"{scale.size} scales")
            quant = QuantInfo(
                [float(s) for s in scale],
                # none stored: all zero (as runtime_micro reads it)
                [int(z) for z in zp] if zp is not None and zp.size else [0] * scale.size,
                q.scalar(Q.QUANTIZED_DIMENSION, "int32", 0, "quantized_dimension"),
                [float(v) for v in qmin] if qmin is not None else [],
                [float(v) for v in qmax] if qmax is not None else [],
            )
    sig = t.array(T.SHAPE_SIGNATURE, "<i4", "shape_signature")
    dims = [int(d) for d in shape] if shape is not None else []
    sparsity = None
    st = t.table(T.SPARSITY, "sparsity")
    if st is not None:
        sparsity = _sparsity(index, name, st, dims, type_name, buffers[b].size)
    return TensorInfo(
        index, name, dims, type_name, b,
        buffers[b].size, quant, bool(t.scalar(T.IS_VARIABLE, "bool", False, "is_variable")),
        [int(d) for d in sig] if sig is not None else None, sparsity,
    )


def _sparsity(index: int, name: str, t: _Table, shape: list[int], type_name: str,
              nbytes: int) -> SP.SparsityInfo:
    """Parse and check a tensor's SparsityParameters (every field, before anyone uses them)."""
    where = f"tensor {index} ({name!r}) sparsity"
    P, D = S.SparsityParameters, S.DimensionMetadata

    def ints(arr: np.ndarray | None) -> list[int]:
        return [] if arr is None else [int(v) for v in arr]

    def index_vector(m: _Table, type_slot: int, slot: int, what: str) -> tuple[np.ndarray | None,
                                                                                  int]:
        kind = m.scalar(type_slot, "uint8", 0, f"{what}_type")
        if kind == 0:
            return None, 0
        if kind not in SP.INDEX_VECTOR_DTYPES:
            raise _Invalid(f"{where}: {what} has SparseIndexVector type {kind}, which does not "
                           f"exist")
        vt = m.table(slot, what)
        if vt is None:
            raise _Invalid(f"{where}: {what} ({SP.INDEX_VECTOR_NAMES[kind]}) is missing")
        arr = vt.array(S.SparseIndexVectorTable.VALUES, SP.INDEX_VECTOR_DTYPES[kind], "values")
        return (np.zeros(0, np.int64) if arr is None else arr.astype(np.int64)), kind

    metas = []
    for level, m in enumerate(t.tables(P.DIM_METADATA, "dim_metadata")):
        fmt = m.scalar(D.FORMAT, "int8", 0, "format")
        dense_size = m.scalar(D.DENSE_SIZE, "int32", 0, "dense_size")
        seg, seg_kind = index_vector(m, D.ARRAY_SEGMENTS_TYPE, D.ARRAY_SEGMENTS,
                                     f"dim_metadata[{level}].array_segments")
        idx, idx_kind = index_vector(m, D.ARRAY_INDICES_TYPE, D.ARRAY_INDICES,
                                     f"dim_metadata[{level}].array_indices")
        metas.append(SP.DimMetadata(fmt, dense_size, seg, idx, seg_kind, idx_kind))
    sp = SP.SparsityInfo(ints(t.array(P.TRAVERSAL_ORDER, "<i4", "traversal_order")),
                         ints(t.array(P.BLOCK_MAP, "<i4", "block_map")), metas)
    dtype = S.TENSOR_TYPE_TO_DTYPE.get(type_name)
    if dtype is None:
        raise _Invalid(f"{where}: sparse tensors of type {type_name} are not supported")
    itemsize = np.dtype(dtype).itemsize
    if math.prod(shape) * itemsize >= 2**31:
        # a .tflite holds at most 2 GB, and densifying must not let a small file ask for more
        raise _Invalid(f"{where}: shape {shape} would densify to more than 2 GB")
    if nbytes % itemsize:
        raise _Invalid(f"{where}: its buffer holds {nbytes} bytes, not a whole number of "
                       f"{type_name} values")
    try:
        SP.check(sp, shape, nbytes // itemsize)
    except SP.SparsityError as exc:
        raise _Invalid(f"{where}: {exc}") from None
    return sp


def _decode_options(t: _Table, table_name: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for slot, f in enumerate(S.OPTIONS_TABLES[table_name]):
        if f.deprecated:
            continue
        if f.kind in S.ENUMS:
            members = S.ENUMS[f.kind]
            v = t.scalar(slot, "int8", members[f.default], f.name)
            out[f.name] = next((k for k, mv in members.items() if mv == v), v)
        elif f.kind in S.SCALAR_KINDS:
            v = t.scalar(slot, f.kind, f.default, f.name)
            out[f.name] = float(v) if f.kind == "float32" else v
        elif f.kind == "string":
            s = t.string(slot, f.name)
            if s is not None:
                out[f.name] = s
        else:
            dtype = {"[int32]": "<i4", "[int64]": "<i8", "[float32]": "<f4"}[f.kind]
            arr = t.array(slot, dtype, f.name)
            if arr is not None:
                out[f.name] = arr.tolist()
    return out


# ---- to IR -----------------------------------------------------------------------------------

def _fold_densify(oi: OperatorInfo, tensors: list[ir.Tensor], source: str) -> bool:
    """DENSIFY of a constant: its output becomes the (already dense) constant, the op goes."""
    if len(oi.inputs) != 1 or len(oi.outputs) != 1 or oi.inputs[0] < 0:
        raise EdgeliteError(f"not a valid .tflite file: operator {oi.index} (DENSIFY) needs one "
                            f"input and one output", where=source, code=Code.INVALID_MODEL)
    src, dst = tensors[oi.inputs[0]], tensors[oi.outputs[0]]
    if src.data is None:
        return False  # densifying a computed value: kept as an op (edgelite cannot run it)
    if src.shape != dst.shape or src.dtype != dst.dtype:
        raise EdgeliteError(
            f"not a valid .tflite file: operator {oi.index} (DENSIFY) turns {src.dtype}"
            f"{list(src.shape)} into {dst.dtype}{list(dst.shape)}; they must match",
            where=source, code=Code.INVALID_MODEL)
    dst.data = src.data
    dst.sparse = src.sparse
    if dst.quant is None:
        dst.quant = src.quant
    return True


def _fold_sparse_fc(ops: list[ir.Op], outputs: list[ir.Tensor]) -> list[ir.Op]:
    """RESHAPE -> CONV_2D 1x1 over sparse int8 weights -> RESHAPE back to the
    FULLY_CONNECTED it stands for (the writer's form for such layers, see
    sparsity.SparsePlan), so the IR of a file edgelite wrote is the graph it was written from
    and writing it again gives the same bytes."""
    readers: dict[int, int] = {}
    for op in ops:
        for t in op.inputs:
            if t is not None:
                readers[id(t)] = readers.get(id(t), 0) + 1
    for t in outputs:
        readers[id(t)] = readers.get(id(t), 0) + 1
    producer = {id(t): op for op in ops for t in op.outputs}
    out: list[ir.Op] = []
    drop: set[int] = set()
    for op in ops:
        if id(op) in drop:
            continue
        fc = None
        if (op.type == "CONV_2D" and len(op.inputs) == 3 and len(op.outputs) == 1
                and all(t is not None for t in op.inputs)):
            # (a malformed file's op may lack tensors: that is for the checks after this)
            x4, w4, bias = op.inputs
            y4 = op.outputs[0]
            pre = producer.get(id(x4))
            post = [o for o in ops if o.type == "RESHAPE" and o.inputs and o.inputs[0] is y4
                    and len(o.outputs) == 1]
            o_ = op.options
            if (w4.sparse and w4.dtype == "int8" and len(w4.shape) == 4 and w4.data is not None
                    and (w4.quant is None or w4.quant.axis == 0)
                    and w4.shape[1:3] == (1, 1) and pre is not None and pre.type == "RESHAPE"
                    and pre.inputs and pre.inputs[0] is not None
                    and len(post) == 1 and readers.get(id(x4)) == 1
                    and readers.get(id(y4)) == 1 and o_.get("padding") == "VALID"
                    and all(int(o_.get(k, 1)) == 1 for k in ("stride_w", "stride_h",
                                                             "dilation_w_factor",
                                                             "dilation_h_factor"))):
                x, y = pre.inputs[0], post[0].outputs[0]
                n, k = w4.shape[0], w4.shape[3]
                rows = x4.shape[0]
                if x.shape[-1:] == (k,) and x4.shape == (rows, 1, 1, k) \
                        and y.shape in ((rows, n), x.shape[:-1] + (n,)) \
                        and any(o is pre for o in out):
                    w = ir.Tensor(w4.name, (n, k), w4.dtype, data=w4.data.reshape(n, k),
                                  quant=w4.quant)
                    w.sparse = True
                    fc = ir.Op("FULLY_CONNECTED", [x, w, bias], [y], dict(
                        fused_activation_function=o_.get("fused_activation_function", "NONE"),
                        keep_num_dims=y.shape != (rows, n)), name=op.name)
                    drop.add(id(post[0]))
        if fc is not None:
            out.pop(next(i for i in range(len(out) - 1, -1, -1) if out[i] is pre))
            out.append(fc)
        else:
            out.append(op)
    return out


def to_ir(model: ModelInfo, subgraph: int = 0,
          custom_ops: Mapping[str, Callable[..., list[ir.Op]]] | None = None) -> ir.Graph:
    """The IR graph of one subgraph: constants from buffers, options in the writer's dicts.

    ``custom_ops`` maps a custom_code to a function that lowers that op to builtin ops (the
    converter passes its table, `converter.from_tflite.custom_ops`); other custom ops are
    refused by name."""
    custom_ops = custom_ops or {}
    if not 0 <= subgraph < len(model.subgraphs):
        raise EdgeliteError(f"subgraph {subgraph} does not exist (the model has "
                            f"{len(model.subgraphs)})", where=model.source)
    sg = model.subgraphs[subgraph]

    def unsupported(msg: str) -> EdgeliteError:
        return EdgeliteError(msg, where=model.source, code=Code.UNSUPPORTED)

    tensors: list[ir.Tensor] = []
    # Tensors that share a buffer share one array (a crafted file could otherwise make us
    # decode the same large buffer once per tensor).
    arrays: dict[tuple[int, str, tuple[int, ...]], np.ndarray] = {}
    for ti in sg.tensors:
        dtype = ti.dtype
        if dtype is None or dtype not in ir.DTYPES:
            raise unsupported(f"tensor {ti.index} ({ti.name!r}) has type {ti.type}, which "
                              f"edgelite does not handle")
        if any(d < 0 for d in ti.shape):
            raise unsupported(f"tensor {ti.index} ({ti.name!r}) has a dynamic shape {ti.shape}")
        data = None
        buf = model.buffers[ti.buffer]
        if ti.sparsity is not None:  # checked by the parser: densify for the IR
            key = (ti.buffer, dtype, tuple(ti.shape))
            if key not in arrays:
                raw = np.frombuffer(buf.data, dtype=np.dtype(dtype).newbyteorder("<"))
                arrays[key] = SP.densify(ti.sparsity, ti.shape, raw.astype(dtype))
            data = arrays[key]
        elif buf.size:
            count = math.prod(ti.shape)  # exact: no int64 wrap-around on crafted shapes
            itemsize = np.dtype(dtype).itemsize
            if buf.size != count * itemsize:
                raise EdgeliteError(
                    f"not a valid .tflite file: tensor {ti.index} ({ti.name!r}) of shape "
                    f"{ti.shape} and type {ti.type} needs {count * itemsize} bytes, its buffer "
                    f"{ti.buffer} has {buf.size}", where=model.source, code=Code.INVALID_MODEL)
            key = (ti.buffer, dtype, tuple(ti.shape))
            if key not in arrays:
                raw = np.frombuffer(buf.data, dtype=np.dtype(dtype).newbyteorder("<"))
                arrays[key] = raw.astype(dtype).reshape(ti.shape)
            data = arrays[key]
        elif 0 in ti.shape:  # an empty tensor holds no value to compute: a constant
            data = np.zeros(ti.shape, dtype)
        quant = None
        if ti.quantization is not None:
            q = ti.quantization
            zp = q.zero_point or [0] * len(q.scale)
            quant = ir.QuantParams(np.array(q.scale, np.float32), np.array(zp, np.int64),
                                   q.quantized_dimension)
        t = ir.Tensor(ti.name, tuple(ti.shape), dtype, data=data, quant=quant)
        if ti.sparsity is not None:
            t.sparse = True
        if ti.is_variable:
            t.is_variable = True  # type: ignore[attr-defined]
        tensors.append(t)

    ops = []
    for oi in sg.operators:
        if oi.op == "DENSIFY" and _fold_densify(oi, tensors, model.source):
            continue
        if oi.op == "CUSTOM" and oi.custom_code in custom_ops:  # lowered to builtin ops
            ops.extend(custom_ops[oi.custom_code](
                bytes(oi.custom_options or b""), [None if i < 0 else tensors[i] for i in oi.inputs],
                [tensors[i] for i in oi.outputs], f"{oi.custom_code}_{oi.index}", model.source))
            continue
        if oi.op not in S.OP_OPTIONS:
            what = f"custom op {oi.custom_code!r}" if oi.op == "CUSTOM" else f"operator {oi.op}"
            raise EdgeliteError(
                f"operator {oi.index} is {what}, which edgelite does not handle",
                where=model.source, code=Code.UNSUPPORTED,
                hint=(("the custom ops edgelite reads: " + ", ".join(sorted(custom_ops))
                       + "; export the model without the others") if custom_ops
                      else "`edgelite convert` lowers the custom ops it knows")
                if oi.op == "CUSTOM"
                else "`edgelite ops` lists the ops the ONNX converter produces")
        expected = S.OP_OPTIONS[oi.op]
        if oi.options_type is not None and oi.options_type != expected:
            raise EdgeliteError(
                f"not a valid .tflite file: operator {oi.index} ({oi.op}) carries "
                f"{oi.options_type}, expected {expected or 'no options'}",
                where=model.source, code=Code.INVALID_MODEL)
        ops.append(ir.Op(
            oi.op,
            [None if i < 0 else tensors[i] for i in oi.inputs],
            [tensors[i] for i in oi.outputs],
            dict(oi.options),
            name=f"{oi.op}_{oi.index}",
        ))
    graph = ir.Graph(
        inputs=[tensors[i] for i in sg.inputs],
        outputs=[tensors[i] for i in sg.outputs],
        ops=_fold_sparse_fc(ops, [tensors[i] for i in sg.outputs]),
        name=sg.name or "main",
        metadata={m.name: m.data for m in model.metadata},
    )
    return graph

