"""Fuse the erf form of GELU, x * 0.5 * (1 + erf(x / sqrt(2))), into one ONNX ``Gelu`` node.

Erf has no TFLite builtin, so the pattern must be recognised before lowering: the ONNX reader
calls ``fuse_gelu(graph)`` on the (constant-folded) ONNX graph, and the ``Gelu`` lowering emits
TFLite's GELU. Accepted shapes of the pattern (any operand order of Add/Mul):

    d = Div(x, sqrt2) | Mul(x, 1/sqrt2);  e = Erf(d);  a = Add(e, 1)
    then Mul(Mul(x, a), 0.5) | Mul(Mul(a, 0.5), x) | Mul(Mul(x, 0.5), a)
"""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import helper, numpy_helper


def _constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    values = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" and n.output:
            for a in n.attribute:
                if a.name == "value":
                    values[n.output[0]] = numpy_helper.to_array(a.t)
                elif a.name == "value_float":
                    values[n.output[0]] = np.array(a.f, np.float32)
    return values


def _is_scalar(consts: dict[str, np.ndarray], name: str, value: float, rtol: float = 1e-3) -> bool:
    v = consts.get(name)
    return v is not None and v.size == 1 and math.isclose(float(v.reshape(())), value, rel_tol=rtol)


def fuse_gelu(graph: onnx.GraphProto) -> int:
    """Rewrite every erf-GELU subgraph of ``graph`` in place; returns how many were fused."""
    consts = _constants(graph)
    fused = 0
    while True:
        match = _find(graph, consts)
        if match is None:
            return fused
        x, out, doomed = match
        nodes = list(graph.node)
        last = max(i for i, n in enumerate(nodes) if id(n) in doomed)
        name = nodes[last].name or out
        gelu = helper.make_node("Gelu", [x], [out], name=f"{name}_gelu")
        kept = [n for n in nodes if id(n) not in doomed]
        pos = sum(1 for n in nodes[:last] if id(n) not in doomed)
        kept.insert(pos, gelu)
        del graph.node[:]
        graph.node.extend(kept)
        fused += 1


def _find(graph: onnx.GraphProto, consts: dict[str, np.ndarray]):
    producer = {o: n for n in graph.node for o in n.output}
    users: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            users.setdefault(i, []).append(n)
    outputs = {o.name for o in graph.output}

    def only_user(name: str, op_type: str) -> onnx.NodeProto | None:
        u = users.get(name, [])
        if len(u) == 1 and u[0].op_type == op_type and name not in outputs:
            return u[0]
        return None

    def other(node: onnx.NodeProto, name: str) -> str | None:
        ins = list(node.input)
        if len(ins) != 2 or name not in ins:
            return None
        return ins[1] if ins[0] == name else ins[0]

    for erf in graph.node:
        if erf.op_type != "Erf":
            continue
        div = producer.get(erf.input[0])
        if div is None or erf.input[0] in outputs or len(users.get(erf.input[0], [])) != 1:
            continue
        if div.op_type == "Div" and _is_scalar(consts, div.input[1], math.sqrt(2)):
            x = div.input[0]
        elif div.op_type == "Mul" and _is_scalar(consts, div.input[1], 1 / math.sqrt(2)):
            x = div.input[0]
        elif div.op_type == "Mul" and _is_scalar(consts, div.input[0], 1 / math.sqrt(2)):
            x = div.input[1]
        else:
            continue
        add = only_user(erf.output[0], "Add")
        if add is None or not _is_scalar(consts, other(add, erf.output[0]) or "", 1.0):
            continue
        m1 = only_user(add.output[0], "Mul")
        if m1 is None:
            continue
        o1 = other(m1, add.output[0])
        doomed = [div, erf, add, m1]
        if o1 == x or _is_scalar(consts, o1 or "", 0.5):
            m2 = only_user(m1.output[0], "Mul")
            if m2 is None:
                continue
            o2 = other(m2, m1.output[0])
            want_half = o1 == x
            if not (_is_scalar(consts, o2 or "", 0.5) if want_half else o2 == x):
                continue
            doomed.append(m2)
            out = m2.output[0]
        else:
            half = producer.get(o1 or "")
            if half is None or half.op_type != "Mul" or x not in half.input:
                continue
            if not _is_scalar(consts, other(half, x) or "", 0.5):
                continue
            if len(users.get(half.output[0], [])) == 1 and half.output[0] not in outputs:
                doomed.append(half)
            out = m1.output[0]
        return x, out, {id(n) for n in doomed}
    return None
