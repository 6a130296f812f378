"""A float .tflite file as it comes (MediaPipe, TensorFlow's converter) made ready for the
passes: read into the IR, float16 weights behind DEQUANTIZE folded into float32 constants,
custom ops lowered (``custom_ops``), empty tensors folded away, inputs frozen or checked
against the user's options, names made unique."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from edgelite import ir
from edgelite.converter.from_tflite.control_flow import inline_ifs
from edgelite.converter.from_tflite.custom_ops import CUSTOM_OPS
from edgelite.converter.from_tflite.shapes import propagate
from edgelite.errors import Code, EdgeliteError
from edgelite.tflite.reader import read_file, to_ir

# Ops whose subgraphs (bodies) to_ir does not read: refused by name (IF: control_flow.py).
CONTROL_FLOW = ("WHILE", "CALL_ONCE", "CALL")


def read_tflite(path: str | Path, options: Any = None) -> ir.Graph:
    """The IR of a .tflite file's main subgraph, ready for the converter's passes.

    ``options`` is the converter's ConvertOptions (input_shapes / input_values) or None.
    """
    where = str(path)
    info = read_file(path)
    graph = to_ir(info, custom_ops=CUSTOM_OPS)
    shapes = options.input_shapes if options is not None else {}
    graph.notes.extend(_dynamic_inputs(graph, info, shapes, where))
    if options is not None:  # first: a frozen input may decide an IF
        _check_input_shapes(graph, options.input_shapes, where)
        _freeze_inputs(graph, options.input_values, where)
    inline_ifs(graph, info, where)
    control = [op for op in graph.ops if op.type in CONTROL_FLOW]
    if control:
        op = control[0]
        raise EdgeliteError(
            f"operator {op.name} ({op.type}) runs another subgraph; edgelite reads the main "
            "subgraph only", where=where, code=Code.UNSUPPORTED,
            hint="export the model without loops (edgelite reads IF: its branches are "
                 "inlined); runtime_micro runs the file as it is (edgelite run)")
    fold_float16_weights(graph)
    unique_names(graph)
    graph.validate()
    return graph


def _dynamic_inputs(graph: ir.Graph, info: Any, shapes: Mapping[str, tuple[int, ...]],
                    where: str) -> list[str]:
    """Inputs whose shape_signature has -1: the stored shape is a placeholder of 1s and every
    tensor after it was sized for it. A dynamic batch alone is set to 1 (a note); other dynamic
    dimensions take the --input-shape given for them, and the shapes after them are computed
    again (shapes.propagate). Returns the notes; refuses a dynamic input without a shape."""
    sg = info.subgraphs[0]
    notes: list[str] = []
    changed = False
    for i, t in zip(sg.inputs, graph.inputs):
        sig = sg.tensors[i].shape_signature or []
        dynamic = [k for k, d in enumerate(sig) if d < 0]
        if not dynamic:
            continue
        shown = ",".join("?" if d < 0 else str(d) for d in sig)
        given = shapes.get(t.name)
        if given is not None:
            given = tuple(int(d) for d in given)
            if len(given) != len(sig) or any(0 <= d != g for d, g in zip(sig, given)):
                raise EdgeliteError(
                    f"--input-shape {t.name}:{','.join(map(str, given))} does not fit the "
                    f"input's shape [{shown}]", where=where,
                    hint=f"give {len(sig)} dimensions, keeping the fixed ones")
            changed = changed or given != tuple(t.shape)
            t.shape = given
            continue
        if dynamic == [0] and len(t.shape) == len(sig) and t.shape[0] == 1:
            notes.append(f"input {t.name!r}: dynamic batch dimension set to 1")
            continue
        example = ",".join(("1" if k == 0 else "N") if d < 0 else str(d)
                           for k, d in enumerate(sig))
        raise EdgeliteError(
            f"input {t.name!r} has dynamic dimensions [{shown}]; give its shape with "
            f"--input-shape {t.name}:{example}", where=where, code=Code.UNSUPPORTED,
            hint="N: the size the model will run with; the shapes after the input are "
                 "computed from it")
    if changed:
        propagate(graph, where)
        notes.append("shapes computed again from --input-shape for "
                     + ", ".join(repr(t.name) for t, i in zip(graph.inputs, sg.inputs)
                                 if any(d < 0 for d in sg.tensors[i].shape_signature or [])))
    return notes


def fold_float16_weights(graph: ir.Graph) -> int:
    """DEQUANTIZE of a float16 (or per-tensor/per-channel int8 weight-only) constant becomes
    the float32 constant it computes, so every later pass and the quantizer see plain float
    weights. Returns how many were folded."""
    folded = 0
    outputs = {id(t) for t in graph.outputs}
    for op in list(graph.ops):
        if op.type != "DEQUANTIZE" or len(op.inputs) != 1 or op.inputs[0] is None:
            continue
        src, out = op.inputs[0], op.outputs[0]
        if not src.is_const or out.dtype != "float32" or id(out) in outputs:
            continue
        if src.dtype == "float16":
            value = src.data.astype(np.float32)
        elif src.dtype == "int8" and src.quant is not None:
            q = src.quant
            shape = [1] * src.data.ndim
            if q.per_channel:
                shape[q.axis] = -1
            value = ((src.data.astype(np.float32) - q.zero_point.reshape(shape).astype(np.float32))
                     * q.scale.reshape(shape))
        else:
            continue
        out.data = np.ascontiguousarray(value.astype(np.float32).reshape(out.shape))
        out.sparse = out.sparse or src.sparse  # a sparse float16 file stays sparse when re-written
        graph.remove_op(op)
        folded += 1
    return folded


def _check_input_shapes(graph: ir.Graph, shapes: Mapping[str, tuple[int, ...]],
                        where: str) -> None:
    by_name = {t.name: t for t in graph.inputs}
    for name, shape in shapes.items():
        t = by_name.get(name)
        if t is None:
            raise EdgeliteError(f"--input-shape names unknown input {name!r}", where=where,
                                hint=f"the model's inputs are {sorted(by_name)}")
        if tuple(shape) != t.shape:
            raise EdgeliteError(
                f"--input-shape {name}:{','.join(map(str, shape))} differs from the .tflite "
                f"input's shape {list(t.shape)}; a .tflite file's shapes are fixed",
                where=where, code=Code.UNSUPPORTED,
                hint="convert the model's source (ONNX) with that shape instead")


def _freeze_inputs(graph: ir.Graph, values: Mapping[str, tuple[float, ...]], where: str) -> None:
    by_name = {t.name: t for t in graph.inputs}
    for name, flat in values.items():
        t = by_name.get(name)
        if t is None:
            raise EdgeliteError(f"--input-value names unknown input {name!r}", where=where,
                                hint=f"the model's inputs are {sorted(by_name)}")
        arr = np.asarray(flat, dtype=np.float64).reshape(-1)
        if arr.size == 1:
            arr = np.full(t.size, arr[0])
        if arr.size != t.size:
            raise EdgeliteError(f"--input-value {name}: {arr.size} value(s) given, the input "
                                f"has shape {list(t.shape)} ({t.size} values)", where=where,
                                hint="give one value, or exactly one per element")
        t.data = np.ascontiguousarray(arr.astype(t.dtype).reshape(t.shape))
        graph.inputs = [x for x in graph.inputs if x is not t]


def unique_names(graph: ir.Graph) -> None:
    """TFLite files may repeat tensor names; the IR keys reports, calibration ranges and the
    written signature by name, so repeats (other than the interface's) get a suffix."""
    io = {id(t) for t in [*graph.inputs, *graph.outputs]}
    seen = {t.name for t in graph.tensors() if id(t) in io}
    for t in graph.tensors():
        if id(t) in io:
            continue
        name, i = t.name or "tensor", 1
        while name in seen:
            name = f"{t.name or 'tensor'}_{i}"
            i += 1
        t.name = name
        seen.add(name)
