"""Fuse the erf form of GELU, x * 0.5 * (1 + erf(x / sqrt(2))), into one ONNX ``Gelu`` node.

Erf has no TFLite builtin (alone it lowers to a ~20-op polynomial approximation), so the pattern
is recognised before lowering: the ONNX reader calls ``fuse_gelu_nodes`` on its constant-folded
node list (``fuse_gelu`` does the same on a GraphProto), and the ``Gelu`` lowering emits TFLite's
single, exact GELU. Accepted shapes of the pattern
(any operand order of Add/Mul):

    d = Div(x, sqrt2) | Mul(x, 1/sqrt2);  e = Erf(d);  a = Add(e, 1) | Sum(e, 1)
    then Mul(Mul(x, a), 0.5) | Mul(Mul(a, 0.5), x) | Mul(Mul(x, 0.5), a)
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

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


def _is_scalar(consts: Mapping[str, np.ndarray], name: str, value: float,
               rtol: float = 1e-3) -> bool:
    v = consts.get(name)
    return v is not None and v.size == 1 and math.isclose(float(v.reshape(())), value, rel_tol=rtol)


def fuse_gelu(graph: onnx.GraphProto) -> int:
    """Rewrite every erf-GELU subgraph of ``graph`` in place; returns how many were fused."""
    nodes, count = fuse_gelu_nodes(list(graph.node), _constants(graph),
                                   [o.name for o in graph.output])
    if count:
        del graph.node[:]
        graph.node.extend(nodes)
    return count


def fuse_gelu_nodes(nodes: list[onnx.NodeProto], consts: Mapping[str, np.ndarray],
                    graph_outputs: Iterable[str]) -> tuple[list[onnx.NodeProto], int]:
    """The reader's entry point: ``nodes`` (topological order) with erf-GELUs fused.

    ``consts`` maps constant value names to arrays; ``graph_outputs`` are never fused away.
    The fused node's output keeps the name (and so the shape) of the pattern's last Mul.
    """
    outputs = set(graph_outputs)
    nodes = list(nodes)
    fused = 0
    while (match := _find(nodes, consts, outputs)) is not None:
        x, out, doomed = match
        last = max(i for i, n in enumerate(nodes) if id(n) in doomed)
        name = nodes[last].name or out
        gelu = helper.make_node("Gelu", [x], [out], name=f"{name}_gelu")
        pos = sum(1 for n in nodes[:last] if id(n) not in doomed)
        nodes = [n for n in nodes if id(n) not in doomed]
        nodes.insert(pos, gelu)
        fused += 1
    return nodes, fused


def _find(nodes: list[onnx.NodeProto], consts: Mapping[str, np.ndarray], outputs: set[str]):
    producer = {o: n for n in nodes for o in n.output}
    users: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            users.setdefault(i, []).append(n)

    def only_user(name: str, *op_types: str) -> onnx.NodeProto | None:
        u = users.get(name, [])
        if len(u) == 1 and u[0].op_type in op_types and name not in outputs:
            return u[0]
        return None

    def other(node: onnx.NodeProto, name: str) -> str | None:
        ins = list(node.input)
        if len(ins) != 2 or name not in ins:
            return None
        return ins[1] if ins[0] == name else ins[0]

    for erf in nodes:
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
        add = only_user(erf.output[0], "Add", "Sum")
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
