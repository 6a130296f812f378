"""Generates runtime_micro's malformed-model corpus (committed beside this script).

    python runtime_micro/corpus/make_corpus.py        # rewrites runtime_micro/corpus/*.tflite

valid_base.tflite is a small valid float model (ADD -> GATHER -> RESHAPE, two inputs); every
other file breaks one rule and must make runtime_micro fail with an error status and a message
(init or invoke), never crash. The C driver (runtime_micro/tests/test_corpus.c) also truncates
valid_base.tflite at every length. MANIFEST.txt lists each file with the status it must give
and what it breaks. Deterministic: same script, same bytes.
"""

from __future__ import annotations

import copy
import struct
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import tflbuild as tb  # noqa: E402

F32 = tb.FLOAT32


def base_model() -> tb.Model:
    c = np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5
    tensors = [
        tb.Tensor([2, 3], F32, 0, "x"),
        tb.Tensor([2], tb.INT32, 0, "indices"),
        tb.Tensor([2, 3], F32, 1, "c"),
        tb.Tensor([2, 3], F32, 0, "sum"),
        tb.Tensor([2, 3], F32, 0, "gathered"),
        tb.Tensor([2], tb.INT32, 2, "new_shape"),
        tb.Tensor([3, 2], F32, 0, "out"),
    ]
    ops = [
        tb.Op(0, [0, 2], [3], tb.OPT_ADD, [(0, "u8", 0)]),
        tb.Op(1, [3, 1], [4], tb.OPT_GATHER, [(0, "i32", 0), (1, "i32", 0)]),
        tb.Op(2, [4, 5], [6], tb.OPT_RESHAPE, [(0, "vec_i32", [3, 2])]),
    ]
    sg = tb.Subgraph(tensors, [0, 1], [6], ops)
    return tb.Model([tb.ADD, tb.GATHER, tb.RESHAPE], [sg],
                    [None, c.tobytes(), np.array([3, 2], np.int32).tobytes()])


# Sparse weights of the FULLY_CONNECTED model below: 3 units x 4 inputs, rows {1, 3}, {}, {0..3}.
SPARSE_VALUES = np.array([1.0, -2.0, 0.5, 1.5, -1.0, 3.0], np.float32)


def if_model(then_sg: int = 1, else_sg: int = 2) -> tb.Model:
    """IF(flag, x, w): subgraph 1 computes x + w, subgraph 2 x * w; w is a constant of the
    main subgraph passed into both branches (as onnx-tf's files do)."""
    w = np.array([[0.5, -1.0, 2.0, 3.0]], np.float32)
    main = tb.Subgraph([tb.Tensor([], tb.BOOL, 0, "flag"), tb.Tensor([1, 4], F32, 0, "x"),
                        tb.Tensor([1, 4], F32, 1, "w"), tb.Tensor([1, 4], F32, 0, "y")],
                       [0, 1], [3], [tb.Op(0, [0, 1, 2], [3], tb.OPT_IF,
                                           [(0, "i32", then_sg), (1, "i32", else_sg)])])

    def branch(opcode: int, options: int, name: str) -> tb.Subgraph:
        return tb.Subgraph([tb.Tensor([1, 4], F32, 0, "x"), tb.Tensor([1, 4], F32, 0, "w"),
                            tb.Tensor([1, 4], F32, 0, "y")], [0, 1], [2],
                           [tb.Op(opcode, [0, 1], [2], options, [(0, "u8", 0)])], name)

    return tb.Model([tb.IF, tb.ADD, tb.MUL],
                    [main, branch(1, tb.OPT_ADD, "then"), branch(2, tb.OPT_MUL, "else")],
                    [None, w.tobytes()])


def nested_if_model(levels: int) -> tb.Model:
    """Subgraph k (k < levels) runs IF(flag; flag, x) on subgraph k + 1 for both branches; the
    last subgraph computes x + x."""
    def sub(op: tb.Op, name: str) -> tb.Subgraph:
        return tb.Subgraph([tb.Tensor([], tb.BOOL, 0, "flag"), tb.Tensor([1, 4], F32, 0, "x"),
                            tb.Tensor([1, 4], F32, 0, "y")], [0, 1], [2], [op], name)

    subs = [sub(tb.Op(0, [0, 0, 1], [2], tb.OPT_IF, [(0, "i32", k + 1), (1, "i32", k + 1)]),
                f"level{k}") for k in range(levels)]
    subs.append(sub(tb.Op(1, [1, 1], [2], tb.OPT_ADD, [(0, "u8", 0)]), "leaf"))
    return tb.Model([tb.IF, tb.ADD], subs, [None])


def while_model(cond_sg: int = 1, body_sg: int = 2) -> tb.Model:
    """WHILE(n, x): while n < 5: n += 1, x += c. Outputs the final n and x."""
    c = np.array([[0.25, -1.0, 1.5, 2.0]], np.float32)
    main = tb.Subgraph([tb.Tensor([1], F32, 0, "n"), tb.Tensor([1, 4], F32, 0, "x"),
                        tb.Tensor([1], F32, 0, "n_out"), tb.Tensor([1, 4], F32, 0, "x_out")],
                       [0, 1], [2, 3], [tb.Op(0, [0, 1], [2, 3], tb.OPT_WHILE,
                                              [(0, "i32", cond_sg), (1, "i32", body_sg)])])
    cond = tb.Subgraph([tb.Tensor([1], F32, 0, "n"), tb.Tensor([1, 4], F32, 0, "x"),
                        tb.Tensor([1], F32, 1, "limit"), tb.Tensor([1], tb.BOOL, 0, "go")],
                       [0, 1], [3], [tb.Op(1, [0, 2], [3])], "cond")
    body = tb.Subgraph([tb.Tensor([1], F32, 0, "n"), tb.Tensor([1, 4], F32, 0, "x"),
                        tb.Tensor([1], F32, 2, "one"), tb.Tensor([1, 4], F32, 3, "c"),
                        tb.Tensor([1], F32, 0, "n1"), tb.Tensor([1, 4], F32, 0, "x1")],
                       [0, 1], [4, 5], [tb.Op(2, [0, 2], [4], tb.OPT_ADD, [(0, "u8", 0)]),
                                        tb.Op(2, [1, 3], [5], tb.OPT_ADD, [(0, "u8", 0)])], "body")
    return tb.Model([tb.WHILE, tb.LESS, tb.ADD], [main, cond, body],
                    [None, np.array([5.0], np.float32).tobytes(),
                     np.array([1.0], np.float32).tobytes(), c.tobytes()])


def sparse_weights(segments=(3, [0, 2, 2, 6]), indices=(3, [1, 3, 0, 1, 2, 3]),
                   order=(0, 1), dense0=3, fmt1=1, blocks=()) -> tb.Sparsity:
    return tb.Sparsity(list(order), [tb.Level(0, dense0), tb.Level(fmt1, 0, segments, indices)],
                       list(blocks))


def sparse_fc_model(sparsity: tb.Sparsity | None = None, values: bytes | None = None,
                    densify: bool = False) -> tb.Model:
    """x[1,4] -> FULLY_CONNECTED with sparse float weights [3,4] -> out[1,3]; with densify the
    weights go through a DENSIFY op that is also a model output (so it really runs)."""
    sp = sparsity if sparsity is not None else sparse_weights()
    tensors = [
        tb.Tensor([1, 4], F32, 0, "x"),
        tb.Tensor([3, 4], F32, 1, "w", sparsity=sp),
        tb.Tensor([1, 3], F32, 0, "out"),
    ]
    ops = [tb.Op(0, [0, 1], [2], tb.OPT_FULLY_CONNECTED, [(0, "u8", 0)])]
    outputs = [2]
    opcodes = [tb.FULLY_CONNECTED]
    if densify:
        tensors.append(tb.Tensor([3, 4], F32, 0, "w_dense"))
        ops = [tb.Op(1, [1], [3]), tb.Op(0, [0, 3], [2], tb.OPT_FULLY_CONNECTED, [(0, "u8", 0)])]
        outputs = [2, 3]
        opcodes = [tb.FULLY_CONNECTED, tb.DENSIFY]
    sg = tb.Subgraph(tensors, [0], outputs, ops)
    data = values if values is not None else SPARSE_VALUES.tobytes()
    return tb.Model(opcodes, [sg], [None, data])


def patched(data: bytes, pos: int, fmt: str, value: int) -> bytes:
    b = bytearray(data)
    struct.pack_into(fmt, b, pos, value)
    return bytes(b)


def cases() -> list[tuple[str, str, bytes, str]]:
    """(name, expected status, bytes, what it breaks)."""
    out: list[tuple[str, str, bytes, str]] = []
    base = base_model()
    valid = tb.build(base)

    def variant(name: str, status: str, why: str, edit) -> None:
        m = copy.deepcopy(base)
        edit(m)
        out.append((name, status, tb.build(m), why))

    def raw(name: str, status: str, why: str, data: bytes) -> None:
        out.append((name, status, data, why))

    INV, UNS = "EL_ERROR_INVALID_MODEL", "EL_ERROR_UNSUPPORTED"
    sg_t = [2, ("i", 0), 0]  # subgraph 0 tensors vector

    # --- flatbuffer structure (byte-level) ---
    raw("root_offset_out_of_range", INV, "root uoffset points past the end",
        patched(valid, 0, "<I", 0x7FFFFFF0))
    raw("root_offset_misaligned", INV, "root uoffset not 4-aligned", patched(valid, 0, "<I", tb.root(valid) + 1))
    r = tb.root(valid)
    raw("vtable_out_of_range", INV, "root table soffset points before the start",
        patched(valid, r, "<i", r + 1000))
    raw("vtable_size_huge", INV, "vtable size past the end",
        patched(valid, r - struct.unpack_from("<i", valid, r)[0], "<H", 0xFFFE))
    raw("table_size_huge", INV, "table inline size past the end",
        patched(valid, r - struct.unpack_from("<i", valid, r)[0] + 2, "<H", 0xFFF0))
    raw("field_outside_table", INV, "a vtable field offset beyond the table size",
        patched(valid, r - struct.unpack_from("<i", valid, r)[0] + 4, "<H", 0xFFF0))
    tvec = tb.deref(valid, tb.locate(valid, sg_t))
    raw("vector_length_huge", INV, "tensors vector claims 2^32-1 elements",
        patched(valid, tvec, "<I", 0xFFFFFFFF))
    raw("vector_offset_out_of_range", INV, "tensors vector uoffset past the end",
        patched(valid, tb.locate(valid, sg_t), "<I", 0x00FFFFFF))
    shape_field = tb.locate(valid, sg_t + [("i", 0), 0])
    raw("shape_vector_misaligned", INV, "int32 shape vector at an odd address",
        patched(valid, shape_field, "<I", tb.u32(valid, shape_field) + 1))
    name_field = tb.locate(valid, sg_t + [("i", 0), 3])
    name_vec = tb.deref(valid, name_field)
    nb = bytearray(valid)
    nb[name_vec + 4 + tb.u32(valid, name_vec)] = ord("Z")  # overwrite the NUL
    raw("string_not_terminated", INV, "tensor name without its NUL", bytes(nb))
    raw("string_length_huge", INV, "tensor name length past the end", patched(valid, name_vec, "<I", 0x7FFFFFFF))
    raw("bad_identifier", INV, "file identifier is not TFL3", valid[:4] + b"XXXX" + valid[8:])
    raw("empty_file", INV, "zero bytes", b"")
    raw("tiny_file", INV, "4 bytes", valid[:4])

    # --- model semantics ---
    variant("schema_version_2", UNS, "schema version 2", lambda m: setattr(m, "version", 2))
    variant("no_subgraphs", INV, "no subgraph", lambda m: setattr(m, "subgraphs", []))
    variant("dim_negative", INV, "shape [2,-3]", lambda m: setattr(m.subgraphs[0].tensors[0], "shape", [2, -3]))
    variant("dim_huge", INV, "shape [2^31-1, 2^31-1] (bytes overflow)",
            lambda m: setattr(m.subgraphs[0].tensors[3], "shape", [2**31 - 1, 2**31 - 1]))
    variant("dim_product_overflow_32bit", INV, "shape [65536,65536,4]: element product overflows 32 bits",
            lambda m: setattr(m.subgraphs[0].tensors[3], "shape", [65536, 65536, 4]))
    variant("dim_product_wraps_to_small", INV, "shape whose 32-bit product wraps to 6",
            lambda m: setattr(m.subgraphs[0].tensors[3], "shape", [2, 3, 65536, 65536]))
    variant("rank_9", UNS, "rank 9 tensor", lambda m: setattr(m.subgraphs[0].tensors[4], "shape", [1] * 9))
    variant("tensor_type_unknown", INV, "tensor type 99", lambda m: setattr(m.subgraphs[0].tensors[3], "type", 99))
    variant("tensor_type_string", UNS, "STRING tensor", lambda m: setattr(m.subgraphs[0].tensors[3], "type", 5))
    variant("buffer_index_out_of_range", INV, "tensor buffer 99",
            lambda m: setattr(m.subgraphs[0].tensors[2], "buffer", 99))
    variant("buffer_size_mismatch", INV, "constant buffer 8 bytes for a 24-byte tensor",
            lambda m: m.buffers.__setitem__(1, bytes(8)))
    variant("external_buffer_out_of_range", INV, "Buffer.offset/size beyond the file",
            lambda m: m.buffers.__setitem__(1, ("ext", 1 << 40, 24)))
    variant("external_buffer_past_end", INV, "Buffer.offset inside, offset+size past the end",
            lambda m: m.buffers.__setitem__(1, ("ext", 64, 1 << 33)))

    def op_input(m, k, v):
        m.subgraphs[0].ops[k].inputs[0] = v
    variant("op_input_index_out_of_range", INV, "ADD input tensor 1000", lambda m: op_input(m, 0, 1000))
    variant("op_input_index_negative", INV, "ADD input tensor -7", lambda m: op_input(m, 0, -7))
    variant("op_output_index_out_of_range", INV, "ADD output tensor 7",
            lambda m: m.subgraphs[0].ops[0].outputs.__setitem__(0, 7))
    variant("op_output_absent", INV, "ADD output -1", lambda m: m.subgraphs[0].ops[0].outputs.__setitem__(0, -1))
    variant("subgraph_input_out_of_range", INV, "subgraph input 50",
            lambda m: m.subgraphs[0].inputs.__setitem__(0, 50))
    variant("subgraph_output_out_of_range", INV, "subgraph output -2",
            lambda m: m.subgraphs[0].outputs.__setitem__(0, -2))
    variant("opcode_index_out_of_range", INV, "operator opcode_index 9",
            lambda m: setattr(m.subgraphs[0].ops[1], "opcode", 9))
    variant("op_output_is_own_input", INV, "ADD writes its own input (sum = sum + c)",
            lambda m: setattr(m.subgraphs[0].ops[0], "inputs", [3, 2]))
    variant("op_writes_constant", INV, "ADD writes the constant tensor c",
            lambda m: m.subgraphs[0].ops[0].outputs.__setitem__(0, 2))
    variant("op_writes_model_input", INV, "GATHER writes the model input x",
            lambda m: m.subgraphs[0].ops[1].outputs.__setitem__(0, 0))
    variant("tensor_written_twice", INV, "two ops write 'sum'",
            lambda m: m.subgraphs[0].ops[1].outputs.__setitem__(0, 3))

    def swap_ops(m):
        ops = m.subgraphs[0].ops
        ops[0], ops[1] = ops[1], ops[0]
    variant("op_reads_before_write", INV, "GATHER runs before the ADD that produces its input", swap_ops)
    variant("output_never_written", INV, "subgraph output is a tensor no op writes",
            lambda m: m.subgraphs[0].ops.pop())
    variant("options_type_mismatch", INV, "ADD carries GatherOptions",
            lambda m: setattr(m.subgraphs[0].ops[0], "options_type", tb.OPT_GATHER))
    variant("quantized_dimension_out_of_range", INV, "per-channel scales, quantized_dimension 5",
            lambda m: m.subgraphs[0].tensors.__setitem__(3, tb.Tensor([2, 3], tb.INT8, 0, "sum", [0.1, 0.2],
                                                                      [0, 0], 5)))
    variant("scale_count_mismatch", INV, "3 scales for a dimension of 2",
            lambda m: m.subgraphs[0].tensors.__setitem__(3, tb.Tensor([2, 3], tb.INT8, 0, "sum", [0.1, 0.2, 0.3],
                                                                      [0, 0, 0], 0)))
    variant("zero_point_count_mismatch", INV, "2 scales, 1 zero point",
            lambda m: m.subgraphs[0].tensors.__setitem__(3, tb.Tensor([2, 3], tb.INT8, 0, "sum", [0.1, 0.2],
                                                                      [0], 0)))
    variant("zero_point_overflow", INV, "zero point 2^40",
            lambda m: m.subgraphs[0].tensors.__setitem__(3, tb.Tensor([2, 3], tb.INT8, 0, "sum", [0.1],
                                                                      [1 << 40], 0)))
    variant("scale_not_finite", INV, "scale inf",
            lambda m: m.subgraphs[0].tensors.__setitem__(3, tb.Tensor([2, 3], tb.INT8, 0, "sum", [float("inf")],
                                                                      [0], 0)))
    variant("builtin_code_unknown", UNS, "builtin code 4000", lambda m: m.opcodes.__setitem__(0, 4000))
    variant("custom_op", UNS, "CUSTOM op", lambda m: m.opcodes.__setitem__(0, 32))

    def gather_const_oob(m):
        m.buffers.append(np.array([0, 7], np.int32).tobytes())
        m.subgraphs[0].tensors[1] = tb.Tensor([2], tb.INT32, 3, "indices")
        m.subgraphs[0].inputs = [0]
    variant("gather_index_out_of_range", "EL_ERROR_*", "constant GATHER indices [0, 7] for 2 rows",
            gather_const_oob)

    def gather_negative(m):
        m.buffers.append(np.array([-3, 0], np.int32).tobytes())
        m.subgraphs[0].tensors[1] = tb.Tensor([2], tb.INT32, 3, "indices")
        m.subgraphs[0].inputs = [0]
    variant("gather_index_negative", "EL_ERROR_*", "constant GATHER indices [-3, 0]", gather_negative)

    def call_once_oob(m):
        m.opcodes.append(tb.CALL_ONCE)
        m.subgraphs[0].ops.insert(0, tb.Op(3, [], [], tb.OPT_CALL_ONCE, [(0, "i32", 5)]))
    variant("call_once_subgraph_out_of_range", INV, "CALL_ONCE init_subgraph_index 5 (1 subgraph)", call_once_oob)

    def call_once_self(m):
        m.opcodes.append(tb.CALL_ONCE)
        m.subgraphs[0].ops.insert(0, tb.Op(3, [], [], tb.OPT_CALL_ONCE, [(0, "i32", 0)]))
    variant("call_once_self", INV, "CALL_ONCE runs subgraph 0 from subgraph 0", call_once_self)

    def read_var_no_handle(m):
        m.opcodes.append(tb.READ_VARIABLE)
        sg = m.subgraphs[0]
        sg.tensors.append(tb.Tensor([], tb.RESOURCE, 0, "handle"))
        sg.tensors.append(tb.Tensor([2, 3], F32, 0, "state"))
        sg.inputs.append(7)
        sg.ops.insert(0, tb.Op(3, [7], [8]))
    variant("read_variable_without_handle", UNS, "READ_VARIABLE of a resource given as model input",
            read_var_no_handle)

    # --- IF / WHILE: subgraph indices, counts, types and recursion are checked at init ---
    def control(name: str, status: str, why: str, model: tb.Model, edit=None) -> None:
        if edit is not None:
            edit(model)
        out.append((name, status, tb.build(model), why))

    control("if_subgraph_out_of_range", INV, "IF else_subgraph_index 9 (3 subgraphs)",
            if_model(1, 9))
    control("if_subgraph_negative", INV, "IF then_subgraph_index -1", if_model(-1, 2))
    control("if_runs_main_subgraph", INV, "IF then_subgraph_index 0 (the main subgraph)",
            if_model(0, 2))

    def self_call(m):  # the then-branch runs an IF whose else-branch is itself
        m.subgraphs[1].tensors.append(tb.Tensor([], tb.BOOL, 0, "flag"))
        m.subgraphs[1].inputs = [3, 0, 1]
        m.subgraphs[1].tensors.append(tb.Tensor([1, 4], F32, 0, "y2"))
        m.subgraphs[1].ops = [tb.Op(0, [3, 0, 1], [4], tb.OPT_IF, [(0, "i32", 2), (1, "i32", 1)])]
        m.subgraphs[1].outputs = [4]
    control("if_recursion", INV, "IF branch 1 runs an IF whose else-branch is subgraph 1",
            if_model(), self_call)
    control("if_nested_too_deep", UNS, "17 IFs nested (runtime_micro allows 16)",
            nested_if_model(17))
    control("if_input_count_mismatch", INV, "IF passes 1 input to branches of 2", if_model(),
            lambda m: setattr(m.subgraphs[0].ops[0], "inputs", [0, 1]))
    control("if_output_count_mismatch", INV, "then-branch has 2 outputs, the IF 1", if_model(),
            lambda m: setattr(m.subgraphs[1], "outputs", [2, 0]))
    control("if_condition_not_bool", INV, "IF condition is a float", if_model(),
            lambda m: m.subgraphs[0].tensors.__setitem__(0, tb.Tensor([], F32, 0, "flag")))
    control("if_condition_two_values", INV, "IF condition of 2 BOOLs", if_model(),
            lambda m: m.subgraphs[0].tensors.__setitem__(0, tb.Tensor([2], tb.BOOL, 0, "flag")))
    control("if_branch_type_mismatch", UNS, "else-branch input is INT32, the IF passes FLOAT32",
            if_model(),
            lambda m: m.subgraphs[2].tensors.__setitem__(0, tb.Tensor([1, 4], tb.INT32, 0, "x")))
    control("if_branch_shape_mismatch", UNS, "then-branch output [4,1], the IF's [1,4]", if_model(),
            lambda m: m.subgraphs[1].tensors.__setitem__(2, tb.Tensor([4, 1], F32, 0, "y")))
    control("while_subgraph_out_of_range", INV, "WHILE body_subgraph_index 3 (3 subgraphs)",
            while_model(1, 3))
    control("while_body_is_main", INV, "WHILE cond_subgraph_index 0", while_model(0, 2))

    def body_loops(m):  # the body runs a WHILE whose body is itself
        m.opcodes.append(tb.WHILE)
        b = m.subgraphs[2]
        b.tensors += [tb.Tensor([1], F32, 0, "n2"), tb.Tensor([1, 4], F32, 0, "x2")]
        b.ops.append(tb.Op(3, [4, 5], [6, 7], tb.OPT_WHILE, [(0, "i32", 1), (1, "i32", 2)]))
        b.outputs = [6, 7]
    control("while_recursion", INV, "WHILE body runs a WHILE with that same body", while_model(),
            body_loops)
    control("while_input_output_count", INV, "WHILE with 2 inputs and 1 output", while_model(),
            lambda m: setattr(m.subgraphs[0].ops[0], "outputs", [3]))
    control("while_cond_two_outputs", INV, "condition subgraph with 2 outputs", while_model(),
            lambda m: setattr(m.subgraphs[1], "outputs", [3, 0]))
    control("while_cond_not_bool", INV, "condition subgraph outputs a float", while_model(),
            lambda m: setattr(m.subgraphs[1], "outputs", [0]))
    control("while_body_output_count", INV, "body returns 1 value for 2 loop values", while_model(),
            lambda m: setattr(m.subgraphs[2], "outputs", [5]))

    # --- sparse tensors (SparsityParameters): crafted vectors are errors, never reads ---
    def sparse(name: str, status: str, why: str, **kw) -> None:
        values = kw.pop("values", None)
        out.append((name, status, tb.build(sparse_fc_model(sparse_weights(**kw), values)), why))

    sparse("sparse_segments_go_down", INV, "CSR segments [0,2,1,6]", segments=(3, [0, 2, 1, 6]))
    sparse("sparse_segment_past_indices", INV, "last segment 9 with 6 indices",
           segments=(3, [0, 2, 2, 9]))
    sparse("sparse_segments_huge", INV, "uint16 segments [0,2,65535,6] reach past the indices",
           segments=(2, [0, 2, 65535, 6]))
    sparse("sparse_segments_count", INV, "3 segments for 3 rows (needs 4)", segments=(3, [0, 2, 6]))
    sparse("sparse_index_out_of_range", INV, "column index 4 of 4 columns",
           indices=(3, [1, 4, 0, 1, 2, 3]))
    sparse("sparse_index_negative", INV, "int32 column index -1", indices=(1, [1, 3, -1, 1, 2, 3]))
    sparse("sparse_index_repeated", INV, "column indices [0,1,1,3] in one row",
           indices=(3, [1, 3, 0, 1, 1, 3]))
    sparse("sparse_index_vector_type_unknown", INV, "SparseIndexVector type 9",
           indices=(9, [1, 3, 0, 1, 2, 3]))
    sparse("sparse_index_vector_missing", INV, "indices type set, vector absent", indices=(3, None))
    sparse("sparse_csr_without_indices", INV, "SPARSE_CSR level without indices", indices=None)
    sparse("sparse_traversal_not_permutation", INV, "traversal_order [0,0]", order=(0, 0))
    sparse("sparse_traversal_out_of_range", INV, "traversal_order [0,7]", order=(0, 7))
    sparse("sparse_block_map_out_of_range", INV, "block_map [5] (rank 2)", blocks=(5,))
    sparse("sparse_dense_size_wrong", INV, "DENSE level of size 4 for 3 rows", dense0=4)
    sparse("sparse_format_unknown", INV, "dim_metadata format 7", fmt1=7)
    sparse("sparse_values_count", INV, "5 stored values for 6 indices",
           values=SPARSE_VALUES[:5].tobytes())
    variant_sp = sparse_fc_model()
    variant_sp.subgraphs[0].tensors[1].sparsity.dim_metadata.pop()
    out.append(("sparse_dim_metadata_count", INV, tb.build(variant_sp),
                "1 dim_metadata entry for rank 2"))
    variant_sp = sparse_fc_model()
    variant_sp.subgraphs[0].tensors[1].buffer = 0
    out.append(("sparse_not_constant", INV, tb.build(variant_sp),
                "sparsity on a tensor without data"))
    variant_sp = sparse_fc_model()
    variant_sp.subgraphs[0].tensors[1].sparsity.traversal_order = [1, 0]
    variant_sp.subgraphs[0].tensors[1].sparsity.dim_metadata[0].dense_size = 4
    variant_sp.subgraphs[0].tensors[1].sparsity.dim_metadata[1].segments = (3, [0, 1, 3, 4, 6])
    variant_sp.subgraphs[0].tensors[1].sparsity.dim_metadata[1].indices = (3, [2, 0, 2, 2, 0, 2])
    out.append(("sparse_weights_layout_unsupported", UNS, tb.build(variant_sp),
                "valid sparse FULLY_CONNECTED weights, input dimension outermost"))

    def sparse_into_add(m):
        m.subgraphs[0].tensors[2].sparsity = sparse_weights(
            segments=(3, [0, 2, 3]), indices=(3, [1, 2, 0]), dense0=2)
        m.buffers[1] = np.array([1.0, 2.0, 3.0], np.float32).tobytes()
    variant("sparse_add_input", UNS, "a sparse constant read by ADD", sparse_into_add)

    raw("strided_slice_shrink_past_end", INV, "STRIDED_SLICE keeps (shrinks to) element 4 of 4",
        tb.build(strided_slice_model([0, 4], [1, 5], [1, 1], shrink=2, out=(1,))))
    raw("int16_mul_zero_point", UNS, "int16 MUL with input zero point 21947 (TFLite's int16 is "
        "symmetric; (x - zp)^2 overflowed int32; found by fuzzing)",
        tb.build(mul_model(tb.INT16, 1e-3, in_zp=21947)))
    raw("hard_swish_input_scale_huge", UNS, "int8 HARD_SWISH with input scale 5e9 (its reluish "
        "left shift by 38 overflowed int; found by fuzzing)", tb.build(int8_hard_swish_model(5e9)))
    raw("hard_swish_input_scale_max", UNS, "int8 HARD_SWISH with input scale 3.4e38 (its float "
        "multiplier overflowed to inf, converted to int64: undefined; found by fuzzing)",
        tb.build(int8_hard_swish_model(3.4028234e38)))
    return out


def int16_fc_model(bias: list[int]) -> tb.Model:
    """int16x8 FULLY_CONNECTED x[1,4] (int16) * w[3,4] (int8) + bias[3] (int64) -> y[1,3]."""
    w = np.array([[1, -2, 3, -4], [5, 6, -7, 8], [-9, 10, 11, -12]], np.int8)
    tensors = [
        tb.Tensor([1, 4], tb.INT16, 0, "x", [0.5], [0]),
        tb.Tensor([3, 4], tb.INT8, 1, "w", [0.25], [0]),
        tb.Tensor([3], tb.INT64, 2, "b", [0.125], [0]),
        tb.Tensor([1, 3], tb.INT16, 0, "y", [1.0], [0]),
    ]
    ops = [tb.Op(0, [0, 1, 2], [3], tb.OPT_FULLY_CONNECTED, [(0, "u8", 0)])]
    return tb.Model([tb.FULLY_CONNECTED], [tb.Subgraph(tensors, [0], [3], ops)],
                    [None, w.tobytes(), np.array(bias, np.int64).tobytes()])


STRIDED_SLICE, OPT_STRIDED_SLICE = 45, 32


def strided_slice_model(begin: list[int], end: list[int], strides: list[int], shrink: int = 0,
                        out: tuple[int, ...] = (1, 1)) -> tb.Model:
    """STRIDED_SLICE of x[1,4] (float) with constant begin/end/strides and a shrink_axis_mask."""
    tensors = [tb.Tensor([1, 4], F32, 0, "x"), tb.Tensor([2], tb.INT32, 1, "begin"),
               tb.Tensor([2], tb.INT32, 2, "end"), tb.Tensor([2], tb.INT32, 3, "strides"),
               tb.Tensor(list(out), F32, 0, "y")]
    ops = [tb.Op(0, [0, 1, 2, 3], [4], OPT_STRIDED_SLICE, [(4, "i32", shrink)])]
    return tb.Model([STRIDED_SLICE], [tb.Subgraph(tensors, [0], [4], ops)],
                    [None] + [np.array(v, np.int32).tobytes() for v in (begin, end, strides)])


def mul_model(dtype: int, out_scale: float, act: int = 0,
              in_zp: int | None = 0) -> tb.Model:
    """Quantized MUL x * x (fused activation ``act``) with the given output scale."""
    tensors = [tb.Tensor([1, 4], dtype, 0, "x", [0.5], [] if in_zp is None else [in_zp]),
               tb.Tensor([1, 4], dtype, 0, "y", [out_scale], [0])]
    ops = [tb.Op(0, [0, 0], [1], tb.OPT_MUL, [(0, "u8", act)])]
    return tb.Model([tb.MUL], [tb.Subgraph(tensors, [0], [1], ops)], [None])


ELU = 111  # BuiltinOperator


def int8_elu_model(out_scale: float) -> tb.Model:
    """int8 ELU (a lookup table built in prepare) with the given output scale."""
    tensors = [tb.Tensor([1, 4], tb.INT8, 0, "x", [0.5], [0]),
               tb.Tensor([1, 4], tb.INT8, 0, "y", [out_scale], [0])]
    return tb.Model([ELU], [tb.Subgraph(tensors, [0], [1], [tb.Op(0, [0], [1])])], [None])


HARD_SWISH = 117  # BuiltinOperator
TANH = 28
GELU = 150


def int16_gelu_model(scale: float) -> tb.Model:
    """int16 GELU (a 513-entry table built in prepare), input and output scale ``scale``."""
    tensors = [tb.Tensor([1, 4], tb.INT16, 0, "x", [scale], [0]),
               tb.Tensor([1, 4], tb.INT16, 0, "y", [scale], [0])]
    return tb.Model([GELU], [tb.Subgraph(tensors, [0], [1], [tb.Op(0, [0], [1])])], [None])


def int8_tanh_model(in_scale: float) -> tb.Model:
    """int8 TANH with the given input scale (output scale 1/128, zero point 0, as TFLite's)."""
    tensors = [tb.Tensor([1, 4], tb.INT8, 0, "x", [in_scale], [0]),
               tb.Tensor([1, 4], tb.INT8, 0, "y", [1.0 / 128.0], [0])]
    return tb.Model([TANH], [tb.Subgraph(tensors, [0], [1], [tb.Op(0, [0], [1])])], [None])


def int8_hard_swish_model(in_scale: float) -> tb.Model:
    """int8 HARD_SWISH with the given input scale (output scale the same)."""
    tensors = [tb.Tensor([1, 4], tb.INT8, 0, "x", [in_scale], [0]),
               tb.Tensor([1, 4], tb.INT8, 0, "y", [in_scale], [0])]
    return tb.Model([HARD_SWISH], [tb.Subgraph(tensors, [0], [1], [tb.Op(0, [0], [1])])],
                    [None])


def int8_mul_relu6_model(out_scale: float) -> tb.Model:
    """int8 MUL x * x with a fused RELU6 and the given output scale."""
    return mul_model(tb.INT8, out_scale, act=3)


def valid_extras() -> list[tuple[str, bytes, str]]:
    """Valid models besides valid_base: (name, bytes, what they show)."""
    return [
        ("valid_sparse_fc", tb.build(sparse_fc_model()),
         "FULLY_CONNECTED reading sparse weights directly"),
        ("valid_sparse_densify", tb.build(sparse_fc_model(densify=True)),
         "the same weights through DENSIFY"),
        ("valid_if", tb.build(if_model()), "IF: x + w or x * w in two branch subgraphs"),
        ("valid_if_nested_16", tb.build(nested_if_model(16)), "16 IFs nested (the most allowed)"),
        ("valid_while", tb.build(while_model()),
         "WHILE: n < 5 in a condition subgraph, n += 1 in a body"),
        ("valid_int16_fc_bias_huge", tb.build(int16_fc_model([-(2**62), 2**63 - 1, 5])),
         "int16x8 FULLY_CONNECTED whose int64 bias overflows TFLite's requantize (found by fuzzing)"),
        ("valid_strided_slice_stride_huge",
         tb.build(strided_slice_model([0, 0], [1, 4], [1, 2**31 - 1])),
         "STRIDED_SLICE with stride 2^31 - 1 (its element count overflowed int32; found by fuzzing)"),
        ("valid_strided_slice_begin3_stride_huge",
         tb.build(strided_slice_model([0, 3], [1, 4], [1, 2**31 - 1])),
         "STRIDED_SLICE from index 3 with stride 2^31 - 1 (the step past the end overflowed "
         "int32 in invoke; found by fuzzing)"),
        ("valid_mul_relu6_out_scale_tiny", tb.build(int8_mul_relu6_model(1e-11)),
         "int8 MUL + RELU6, output scale 1e-11 (6 / scale overflowed int32; found by fuzzing)"),
        ("valid_zero_points_empty", tb.build(mul_model(tb.INT8, 0.25, in_zp=None)),
         "int8 MUL whose input has scales and an empty zero-point vector (all zero, as "
         "TFLite reads it; edgelite inspect failed on it; found by fuzzing)"),
        ("valid_tanh_in_scale_tiny", tb.build(int8_tanh_model(1.17549e-38)),
         "int8 TANH, input scale 1.2e-38 (its input radius was shifted by -98; found by "
         "fuzzing)"),
        ("valid_gelu_int16_scale_denormal", tb.build(int16_gelu_model(1.4013e-45)),
         "int16 GELU with scales 1.4e-45: its table met 0 * inf = NaN, converted to int16 "
         "(found by fuzzing)"),
        ("valid_elu_out_scale_tiny", tb.build(int8_elu_model(1e-11)),
         "int8 ELU, output scale 1e-11 (its table's float -> int conversion left int32; "
         "found by fuzzing)"),
    ]


def main() -> None:
    for old in HERE.glob("*.tflite"):
        old.unlink()
    valid = tb.build(base_model())
    (HERE / "valid_base.tflite").write_bytes(valid)
    lines = ["# name  expected-status  what it breaks (generated by make_corpus.py)",
             f"valid_base  EL_OK  the small valid model ({len(valid)} bytes) the others derive from"]
    for name, data, why in valid_extras():
        (HERE / f"{name}.tflite").write_bytes(data)
        lines.append(f"{name}  EL_OK  {why}")
    for name, status, data, why in cases():
        (HERE / f"bad_{name}.tflite").write_bytes(data)
        lines.append(f"bad_{name}  {status}  {why}")
    (HERE / "MANIFEST.txt").write_text("\n".join(lines) + "\n")
    print(f"wrote {len(lines) - 1} models to {HERE}")


if __name__ == "__main__":
    main()
