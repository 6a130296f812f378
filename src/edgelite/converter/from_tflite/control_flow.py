"""IF ops of a .tflite file brought into the main graph, so every pass, the quantizer and the
writer see one subgraph.

An IF whose condition is a constant (or becomes one once the user froze an input) is replaced by
the branch it picks. An IF whose condition is computed at run time (onnx-tf writes one for a
`score >= threshold` check) is if-converted: both branches are computed and SELECT_V2 picks
each output. That is exact for branches without side effects or data-dependent indexing (the
only ones accepted here); the price is computing the branch the condition does not pick, which
the note says. WHILE, CALL and CALL_ONCE stay refused by name (intake.CONTROL_FLOW).
"""

from __future__ import annotations

from typing import Any

from edgelite import ir
from edgelite.converter.from_tflite.custom_ops import CUSTOM_OPS
from edgelite.errors import Code, EdgeliteError
from edgelite.tflite.reader import to_ir

# Ops that must not run on the values of a branch the condition did not pick: state, nested
# control flow, or indices read from data (an untaken branch may hold out-of-range indices).
_NOT_IF_CONVERTIBLE = frozenset({
    "GATHER", "GATHER_ND", "SCATTER_ND", "ONE_HOT", "EMBEDDING_LOOKUP", "WHILE", "CALL",
    "CALL_ONCE", "VAR_HANDLE", "READ_VARIABLE", "ASSIGN_VARIABLE", "CUSTOM",
})


def inline_ifs(graph: ir.Graph, info: Any, where: str, _active: tuple[int, ...] = (0,)) -> int:
    """Replaces every IF of ``graph`` (read from subgraph ``_active[-1]`` of ``info``) by its
    branches; returns how many were replaced."""
    ops: list[ir.Op] = []
    rename: dict[int, ir.Tensor] = {}
    count = 0
    for op in graph.ops:
        if op.type != "IF":
            ops.append(op)
            continue
        count += 1
        cond, args = op.inputs[0], op.inputs[1:]
        if cond is None or cond.size != 1:
            raise EdgeliteError(f"operator {op.name} (IF): the condition must be one value",
                                where=where, code=Code.INVALID_MODEL)
        branches = []
        for side, key in (("then", "then_subgraph_index"), ("else", "else_subgraph_index")):
            branches.append(_branch(op, side, int(op.options.get(key, -1)), args, info, where,
                                    _active))
        if cond.is_const:
            pick = branches[0] if bool(cond.data.reshape(-1)[0]) else branches[1]
            ops.extend(pick[0])
            for out, value in zip(op.outputs, pick[1]):
                rename[id(out)] = value
            continue
        for side, (branch_ops, _outs) in zip(("then", "else"), branches):
            bad = sorted({b.type for b in branch_ops if b.type in _NOT_IF_CONVERTIBLE})
            if bad:
                raise EdgeliteError(
                    f"operator {op.name} (IF): its condition is computed at run time and its "
                    f"{side} branch uses {', '.join(bad)}; edgelite computes both branches of "
                    "such an IF, which is only exact without these ops",
                    where=where, code=Code.UNSUPPORTED,
                    hint="freeze the input the condition depends on with --input-value, or "
                         "export the model without the IF")
        ops.extend(branches[0][0])
        ops.extend(branches[1][0])
        for k, out in enumerate(op.outputs):
            ops.append(ir.Op("SELECT_V2", [cond, branches[0][1][k], branches[1][1][k]], [out], {},
                             name=f"{op.name}/select_{k}"))
        graph.notes.append(
            f"{op.name}: IF condition computed at run time: both branches are computed and "
            "SELECT_V2 picks their outputs (exact; costs the branch not taken)")
    if rename:
        for o in ops:
            o.inputs = [rename.get(id(t), t) if t is not None else None for t in o.inputs]
        graph.outputs = [rename.get(id(t), t) for t in graph.outputs]
    graph.ops = ops
    return count


def _branch(op: ir.Op, side: str, index: int, args: list, info: Any, where: str,
            active: tuple[int, ...]) -> tuple[list[ir.Op], list[ir.Tensor]]:
    """The ops of one branch with its inputs bound to the IF's arguments, and its outputs."""
    def invalid(msg: str) -> EdgeliteError:
        return EdgeliteError(f"not a valid .tflite file: operator {op.name} (IF): {msg}",
                             where=where, code=Code.INVALID_MODEL)

    if not 0 < index < len(info.subgraphs):
        raise invalid(f"{side}_subgraph_index {index} is out of range (subgraphs 1.."
                      f"{len(info.subgraphs) - 1})")
    if index in active:
        raise invalid(f"{side} branch subgraph {index} runs itself (recursion)")
    sub = to_ir(info, index, custom_ops=CUSTOM_OPS)
    inline_ifs(sub, info, where, (*active, index))
    if len(sub.inputs) != len(args) or len(sub.outputs) != len(op.outputs):
        raise invalid(f"passes {len(args)} inputs and takes {len(op.outputs)} outputs; its "
                      f"{side} branch (subgraph {index}) has {len(sub.inputs)} and "
                      f"{len(sub.outputs)}")
    for k, (a, b) in enumerate([*zip(args, sub.inputs), *zip(op.outputs, sub.outputs)]):
        if a is None or a.shape != b.shape or a.dtype != b.dtype:
            what = f"input {k + 1}" if k < len(args) else f"output {k - len(args)}"
            raise EdgeliteError(
                f"operator {op.name} (IF): {what} is "
                f"{None if a is None else (a.dtype, list(a.shape))}, its {side} branch "
                f"(subgraph {index}) has {b.dtype}{list(b.shape)}; edgelite needs equal static "
                "shapes", where=where, code=Code.UNSUPPORTED)
    bind = {id(t): a for t, a in zip(sub.inputs, args)}
    for b in sub.ops:
        b.inputs = [bind.get(id(t), t) if t is not None else None for t in b.inputs]
        b.name = f"{op.name}/{side}/{b.name}"
    return sub.ops, [bind.get(id(t), t) for t in sub.outputs]
