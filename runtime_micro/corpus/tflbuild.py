"""Tiny TFLite flatbuffer builder for runtime_micro tests and the malformed-model corpus.

Written against the TFLite schema's field slots (facts listed in runtime_micro/src/el_model.c)
with the `flatbuffers` package's Builder. It writes whatever it is told, including models that
are wrong on purpose; nothing here validates. Also: a minimal navigator to find byte positions
in a built model for byte-level corruption.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

import flatbuffers

# TensorType values
FLOAT32, INT32, UINT8, INT64, BOOL, INT16, INT8, RESOURCE = 0, 2, 3, 4, 6, 7, 9, 13
# BuiltinOperator codes used in tests
ADD, CONCATENATION, FULLY_CONNECTED, LOGISTIC, RESHAPE, GATHER, MUL, QUANTIZE = 0, 2, 9, 14, 22, 36, 18, 114
DENSIFY = 124
LESS, IF, WHILE = 58, 118, 119
CALL_ONCE, VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE = 129, 142, 143, 144
# BuiltinOptions union indices
OPT_ADD, OPT_RESHAPE, OPT_GATHER, OPT_CALL_ONCE, OPT_VAR_HANDLE = 11, 17, 23, 103, 111
OPT_FULLY_CONNECTED = 8
OPT_MUL, OPT_IF, OPT_WHILE = 21, 92, 93


@dataclass
class Level:
    """One DimensionMetadata: format 0 DENSE / 1 SPARSE_CSR; segments and indices as
    (SparseIndexVector type 1 int32 / 2 uint16 / 3 uint8, values), or None."""
    format: int
    dense_size: int = 0
    segments: tuple[int, list[int]] | None = None
    indices: tuple[int, list[int]] | None = None


@dataclass
class Sparsity:
    traversal_order: list[int]
    dim_metadata: list[Level]
    block_map: list[int] = field(default_factory=list)


@dataclass
class Tensor:
    shape: list[int]
    type: int = FLOAT32
    buffer: int = 0
    name: str = ""
    scale: list[float] | None = None
    zero_point: list[int] | None = None
    quantized_dimension: int = 0
    is_variable: bool = False
    sparsity: Sparsity | None = None


@dataclass
class Op:
    opcode: int  # index into Model.opcodes
    inputs: list[int]
    outputs: list[int]
    options_type: int = 0
    options: list[tuple[int, str, Any]] = field(default_factory=list)  # (slot, kind, value)


@dataclass
class Subgraph:
    tensors: list[Tensor]
    inputs: list[int]
    outputs: list[int]
    ops: list[Op]
    name: str = "main"


@dataclass
class Model:
    opcodes: list[int]  # builtin codes
    subgraphs: list[Subgraph]
    buffers: list[Any]  # bytes (inline data), None (empty) or ("ext", offset, size)
    version: int = 3
    description: str = "edgelite test model"
    identifier: bytes = b"TFL3"
    appended: bytes = b""  # raw bytes after the flatbuffer (external buffers)


def _vec_i32(b: flatbuffers.Builder, vals: list[int]) -> int:
    b.StartVector(4, len(vals), 4)
    for v in reversed(vals):
        b.PrependInt32(int(v))
    return b.EndVector()


def _vec_offsets(b: flatbuffers.Builder, offs: list[int]) -> int:
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


def _options(b: flatbuffers.Builder, fields: list[tuple[int, str, Any]]) -> int:
    pre = {}
    for slot, kind, value in fields:
        if kind == "vec_i32":
            pre[slot] = _vec_i32(b, value)
        elif kind == "str":
            pre[slot] = b.CreateString(value)
    b.StartObject(1 + max([s for s, _, _ in fields], default=0))
    for slot, kind, value in fields:
        if kind == "i32":
            b.PrependInt32Slot(slot, int(value), 0x7FFFFFFF)  # never equal: always written
        elif kind in ("u8", "bool"):
            b.PrependUint8Slot(slot, int(value), 0xFF)
        elif kind == "f32":
            b.PrependFloat32Slot(slot, float(value), float("nan"))
        else:
            b.PrependUOffsetTRelativeSlot(slot, pre[slot], 0)
    return b.EndObject()


def _index_vector(b: flatbuffers.Builder, kind: int, values: list[int]) -> int:
    size, prepend = {1: (4, b.PrependInt32), 2: (2, b.PrependUint16), 3: (1, b.PrependUint8)}.get(
        kind, (4, b.PrependInt32))
    b.StartVector(size, len(values), 4)
    for v in reversed(values):
        prepend(int(v))
    vec = b.EndVector()
    b.StartObject(1)
    b.PrependUOffsetTRelativeSlot(0, vec, 0)
    return b.EndObject()


def _sparsity(b: flatbuffers.Builder, sp: Sparsity) -> int:
    levels = []
    for lv in sp.dim_metadata:
        seg = _index_vector(b, *lv.segments) if lv.segments and lv.segments[1] is not None else None
        idx = _index_vector(b, *lv.indices) if lv.indices and lv.indices[1] is not None else None
        b.StartObject(6)
        b.PrependInt8Slot(0, lv.format, -1)
        b.PrependInt32Slot(1, lv.dense_size, -1)
        if lv.segments:
            b.PrependUint8Slot(2, lv.segments[0], 0)
            if lv.segments[1] is not None:
                b.PrependUOffsetTRelativeSlot(3, seg, 0)
        if lv.indices:
            b.PrependUint8Slot(4, lv.indices[0], 0)
            if lv.indices[1] is not None:
                b.PrependUOffsetTRelativeSlot(5, idx, 0)
        levels.append(b.EndObject())
    order = _vec_i32(b, sp.traversal_order)
    blocks = _vec_i32(b, sp.block_map)
    metas = _vec_offsets(b, levels)
    b.StartObject(3)
    b.PrependUOffsetTRelativeSlot(0, order, 0)
    b.PrependUOffsetTRelativeSlot(1, blocks, 0)
    b.PrependUOffsetTRelativeSlot(2, metas, 0)
    return b.EndObject()


def build(m: Model) -> bytes:
    b = flatbuffers.Builder(1024)
    # buffers
    buf_offs = []
    for data in m.buffers:
        data_off = None
        if isinstance(data, (bytes, bytearray)) and len(data) > 0:
            b.StartVector(1, len(data), 16)
            for byte in reversed(bytes(data)):
                b.PrependUint8(byte)
            data_off = b.EndVector()
        b.StartObject(3)
        if data_off is not None:
            b.PrependUOffsetTRelativeSlot(0, data_off, 0)
        if isinstance(data, tuple):
            b.PrependUint64Slot(1, data[1], 0)
            b.PrependUint64Slot(2, data[2], 0)
        buf_offs.append(b.EndObject())
    sg_offs = []
    for sg in m.subgraphs:
        t_offs = []
        for t in sg.tensors:
            name = b.CreateString(t.name)
            shape = _vec_i32(b, t.shape)
            q = None
            if t.scale is not None:
                b.StartVector(4, len(t.scale), 4)
                for s in reversed(t.scale):
                    b.PrependFloat32(s)
                sc = b.EndVector()
                zp = None
                if t.zero_point is not None:
                    b.StartVector(8, len(t.zero_point), 8)
                    for z in reversed(t.zero_point):
                        b.PrependInt64(z)
                    zp = b.EndVector()
                b.StartObject(7)
                b.PrependUOffsetTRelativeSlot(2, sc, 0)
                if zp is not None:
                    b.PrependUOffsetTRelativeSlot(3, zp, 0)
                b.PrependInt32Slot(6, t.quantized_dimension, 0)
                q = b.EndObject()
            sp = _sparsity(b, t.sparsity) if t.sparsity is not None else None
            b.StartObject(7)
            b.PrependUOffsetTRelativeSlot(0, shape, 0)
            if sp is not None:
                b.PrependUOffsetTRelativeSlot(6, sp, 0)
            b.PrependInt8Slot(1, t.type, -1)
            b.PrependUint32Slot(2, t.buffer, 0xFFFFFFFF)
            b.PrependUOffsetTRelativeSlot(3, name, 0)
            if q is not None:
                b.PrependUOffsetTRelativeSlot(4, q, 0)
            if t.is_variable:
                b.PrependBoolSlot(5, True, False)
            t_offs.append(b.EndObject())
        o_offs = []
        for op in sg.ops:
            ins = _vec_i32(b, op.inputs)
            outs = _vec_i32(b, op.outputs)
            opt = _options(b, op.options) if op.options or op.options_type else None
            b.StartObject(5)
            b.PrependUint32Slot(0, op.opcode, 0xFFFFFFFF)
            b.PrependUOffsetTRelativeSlot(1, ins, 0)
            b.PrependUOffsetTRelativeSlot(2, outs, 0)
            if op.options_type:
                b.PrependUint8Slot(3, op.options_type, 0)
            if opt is not None:
                b.PrependUOffsetTRelativeSlot(4, opt, 0)
            o_offs.append(b.EndObject())
        tv = _vec_offsets(b, t_offs)
        iv = _vec_i32(b, sg.inputs)
        ov = _vec_i32(b, sg.outputs)
        opv = _vec_offsets(b, o_offs)
        name = b.CreateString(sg.name)
        b.StartObject(5)
        b.PrependUOffsetTRelativeSlot(0, tv, 0)
        b.PrependUOffsetTRelativeSlot(1, iv, 0)
        b.PrependUOffsetTRelativeSlot(2, ov, 0)
        b.PrependUOffsetTRelativeSlot(3, opv, 0)
        b.PrependUOffsetTRelativeSlot(4, name, 0)
        sg_offs.append(b.EndObject())
    oc_offs = []
    for code in m.opcodes:
        b.StartObject(4)
        b.PrependInt8Slot(0, min(code, 127), -1)
        b.PrependInt32Slot(2, 1, 0)
        b.PrependInt32Slot(3, code, -1)
        oc_offs.append(b.EndObject())
    bv = _vec_offsets(b, buf_offs)
    sv = _vec_offsets(b, sg_offs)
    ov = _vec_offsets(b, oc_offs)
    desc = b.CreateString(m.description)
    b.StartObject(8)
    b.PrependUint32Slot(0, m.version, 0xFFFFFFFF)
    b.PrependUOffsetTRelativeSlot(1, ov, 0)
    b.PrependUOffsetTRelativeSlot(2, sv, 0)
    b.PrependUOffsetTRelativeSlot(3, desc, 0)
    b.PrependUOffsetTRelativeSlot(4, bv, 0)
    root = b.EndObject()
    b.Finish(root, file_identifier=m.identifier)
    out = bytes(b.Output())
    return out + m.appended


# ---------------------------------------------------------------- navigation (for corruption)

def u32(buf: bytes, pos: int) -> int:
    return struct.unpack_from("<I", buf, pos)[0]


def table_field(buf: bytes, table: int, slot: int) -> int:
    """Absolute position of a field of the table at `table` (0 if absent)."""
    vt = table - struct.unpack_from("<i", buf, table)[0]
    vt_size = struct.unpack_from("<H", buf, vt)[0]
    e = 4 + 2 * slot
    if e + 2 > vt_size:
        return 0
    off = struct.unpack_from("<H", buf, vt + e)[0]
    return table + off if off else 0


def deref(buf: bytes, pos: int) -> int:
    return pos + u32(buf, pos)


def root(buf: bytes) -> int:
    return u32(buf, 0)


def vector_elem_table(buf: bytes, vec: int, i: int) -> int:
    """Table i of the vector whose length word is at `vec`."""
    p = vec + 4 + 4 * i
    return deref(buf, p)


def locate(buf: bytes, path: list[Any]) -> int:
    """Follow a path from the root: ints are slots of tables (deref'd unless last), ("i", k)
    picks table k of a vector of tables. Returns the position of the last field or element."""
    pos = root(buf)
    for k, step in enumerate(path):
        last = k == len(path) - 1
        if isinstance(step, tuple):
            pos = vector_elem_table(buf, pos, step[1])
        else:
            f = table_field(buf, pos, step)
            if f == 0:
                raise KeyError(f"slot {step} absent")
            pos = f if last else deref(buf, f)
    return pos
