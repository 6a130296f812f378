"""Differential fuzzing of the converter: random valid ONNX graphs, run in ONNX Runtime (the
oracle), and converted by edgelite then run in LiteRT and in runtime_micro.

The generator is structure-aware: it grows a graph op by op from a pool of live float32 values,
and each op generator knows the shapes, attributes and broadcasting its ONNX op accepts, so
every graph is valid ONNX. It only emits ops the converter's lowering REGISTRY has, at an
opset inside the lowering's declared range, with the inputs the registry says must be constant
(``const_inputs``) made initializers. Layout-sensitive ops (Conv, pools, Resize, DepthToSpace,
normalizations) get NCHW tensors and mix with Transpose/Reshape/broadcasting ops, so the
layout pass's transpose cancelling is exercised too.

``generate(seed)`` is deterministic: the same seed gives the same model bytes and inputs.
``run_case(case)`` returns a ``Verdict``: ``ok``, ``refused`` (the converter refused the
graph: an EdgeliteError, itself a finding when the op is registered) or ``mismatch`` /
``crash`` with the details.

Ops excluded from the generator because of a known bug name that bug next to the exclusion
(see ``EXCLUDED``).
"""

from __future__ import annotations

import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

Shape = tuple[int, ...]

# Ops (or op variants) the generator leaves out, each with the bug that keeps it out.
EXCLUDED: dict[str, str] = {}

OPSETS = (9, 10, 11, 13, 17, 18, 21)
INT_GRAPHS = 0.15  # the share of graphs computing on int32/int64 data (compared exactly)


class _Skip(Exception):
    """The chosen op does not apply to the chosen value; try another."""


@dataclass
class FuzzCase:
    seed: int
    model: onnx.ModelProto
    feeds: dict[str, np.ndarray]
    ops: list[str]
    opset: int
    keep_nchw_io: bool = True  # False: rank 3-5 inputs/outputs move channels-last

    def describe(self) -> str:
        io = "" if self.keep_nchw_io else " channels-last io"
        return f"seed {self.seed} opset {self.opset}{io}: {' -> '.join(self.ops)}"


@dataclass
class Verdict:
    status: str  # ok | refused | mismatch | crash
    case: FuzzCase
    detail: str = ""
    worst: dict[str, float] = field(default_factory=dict)  # runtime -> max error / tolerance
    notes: list[str] = field(default_factory=list)  # e.g. a known runtime_micro gap

    def line(self) -> str:
        return f"{self.status:8} {self.case.describe()}" + (f"\n    {self.detail}"
                                                            if self.detail else "")


class _Builder:
    """A graph under construction: nodes, initializers, and the live float values."""

    def __init__(self, rng: np.random.Generator, opset: int) -> None:
        self.rng = rng
        self.opset = opset
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.feeds: dict[str, np.ndarray] = {}
        self.values: dict[str, Shape] = {}  # live float32 values -> shape
        self.raw_inputs: set[str] = set()  # graph inputs (discontinuous ops only read these)
        self.ops: list[str] = []
        self._n = 0

    def name(self, base: str) -> str:
        self._n += 1
        return f"{base}{self._n}"

    def input(self, shape: Shape) -> str:
        name = self.name("in")
        self.inputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, list(shape)))
        self.feeds[name] = self.rng.uniform(-2, 2, shape).astype(np.float32)
        self.values[name] = shape
        self.raw_inputs.add(name)
        return name

    def const(self, value: np.ndarray, base: str = "c") -> str:
        name = self.name(base)
        tensor = numpy_helper.from_array(np.asarray(value), name)
        if self.rng.random() < 0.15:  # exporters write both forms; the reader folds Constant
            self.nodes.append(helper.make_node("Constant", [], [name], value=tensor,
                                               name=name + "_const"))
        else:
            self.inits.append(tensor)
        return name

    def rand_const(self, shape: Shape, lo: float = -1.0, hi: float = 1.0) -> str:
        return self.const(self.rng.uniform(lo, hi, shape).astype(np.float32), "w")

    def node(self, op: str, inputs: list[str], out_shapes: list[Shape],
             **attrs: object) -> list[str]:
        outs = [self.name(op.lower() + "_") for _ in out_shapes]
        self.nodes.append(helper.make_node(op, inputs, outs, name=self.name(op), **attrs))
        for o, s in zip(outs, out_shapes):
            self.values[o] = tuple(int(d) for d in s)
        self.ops.append(op)
        return outs

    def one(self, op: str, inputs: list[str], shape: Shape, **attrs: object) -> str:
        return self.node(op, inputs, [shape], **attrs)[0]

    def ints(self, values: list[int] | tuple[int, ...]) -> str:
        return self.const(np.array(values, np.int64), "i")


def _broadcast_shape(rng: np.random.Generator, shape: Shape) -> Shape:
    """A shape that broadcasts to ``shape``: leading dims dropped, some dims set to 1."""
    keep = int(rng.integers(0, len(shape) + 1))
    tail = list(shape[len(shape) - keep:])
    return tuple(1 if rng.random() < 0.4 else d for d in tail)


def _positive(b: _Builder, x: str, floor: float = 0.25) -> str:
    """|x| + floor: a value safe for Log, Sqrt, Reciprocal, Div and Pow bases."""
    s = b.values[x]
    a = b.one("Abs", [x], s)
    return b.one("Add", [a, b.const(np.float32(floor))], s)


# ---- op generators: (builder, value) -> output value ---------------------------------------

UNARY_PLAIN = ["Relu", "Sigmoid", "Tanh", "Abs", "Neg", "Softplus", "Softsign", "Sin", "Cos",
               "Atan", "HardSwish", "Erf", "Exp", "Identity"]
DISCONTINUOUS = ["Floor", "Ceil", "Round", "Sign"]


def g_unary(b: _Builder, x: str) -> str:
    op = str(b.rng.choice(UNARY_PLAIN))
    s = b.values[x]
    if op == "Exp":
        x = b.one("Tanh", [x], s)  # bounded first: exp of a chain's output can overflow
    return b.one(op, [x], s)


def g_discontinuous(b: _Builder, x: str) -> str:
    # Floor/Round/Sign of a computed value flips wherever two runtimes' roundings of that
    # value differ by one ulp across an integer: only graph inputs are fed to them.
    inputs = sorted(b.raw_inputs)
    x = inputs[int(b.rng.integers(len(inputs)))]
    return b.one(str(b.rng.choice(DISCONTINUOUS)), [x], b.values[x])


def g_unary_attr(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    op = str(r.choice(["Elu", "LeakyRelu", "Selu", "HardSigmoid", "Celu", "ThresholdedRelu",
                       "Shrink", "Mish", "Gelu"]))
    if op == "Mish" and b.opset < 18:
        op = "Elu"
    if op == "Gelu":
        if b.opset < 20:
            raise _Skip
        return b.one(op, [x], s, approximate=str(r.choice(["none", "tanh"])))
    attrs: dict[str, object] = {}
    if op == "Elu":
        attrs = {"alpha": float(r.choice([1.0, 0.5, 1.7]))}
    elif op == "LeakyRelu":
        attrs = {"alpha": float(r.uniform(0.01, 0.5))}
    elif op == "Selu":
        attrs = {"alpha": float(r.uniform(1.0, 2.0)), "gamma": float(r.uniform(0.5, 1.5))}
    elif op == "HardSigmoid":
        attrs = {"alpha": float(r.uniform(0.1, 0.5)), "beta": float(r.uniform(0.2, 0.8))}
    elif op == "Celu":
        attrs = {"alpha": float(r.uniform(0.5, 2.0))}
    elif op == "ThresholdedRelu":
        attrs = {"alpha": float(r.uniform(-0.5, 1.0))}
    elif op == "Shrink":
        attrs = {"lambd": float(r.uniform(0, 1)), "bias": float(r.uniform(-0.5, 0.5))}
    return b.one(op, [x], s, **attrs)


def g_positive_unary(b: _Builder, x: str) -> str:
    s = b.values[x]
    op = str(b.rng.choice(["Log", "Sqrt", "Reciprocal"]))
    return b.one(op, [_positive(b, x)], s)


def g_clip(b: _Builder, x: str) -> str:
    s = b.values[x]
    lo, hi = sorted(float(v) for v in b.rng.uniform(-1.5, 1.5, 2))
    choice = b.rng.integers(4)
    if choice == 0:
        lo, hi = 0.0, 6.0
    if b.opset < 11:  # bounds were attributes
        return b.one("Clip", [x], s, min=lo, max=hi)
    ins = [x, b.const(np.float32(lo)), b.const(np.float32(hi))]
    if choice == 2:
        ins = [x, "", b.const(np.float32(hi))]
    elif choice == 3:
        ins = [x, b.const(np.float32(lo))]
    return b.one("Clip", ins, s)


def g_binary(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    op = str(r.choice(["Add", "Sub", "Mul", "Div", "Max", "Min", "Pow", "PRelu", "Sum", "Mean"]))
    # the other operand: a live value of the same shape, or a constant that broadcasts
    same = [v for v, vs in b.values.items() if vs == s and v != x]
    if same and r.random() < 0.4:
        other, oshape = same[int(r.integers(len(same)))], s
    else:
        oshape = _broadcast_shape(r, s)
        if op == "PRelu" and r.random() < 0.5 and len(s) >= 3:
            oshape = (s[1],) + (1,) * (len(s) - 2)  # the usual per-channel slope
        other = b.rand_const(oshape, 0.5 if op in ("Div", "Pow") else -1.5, 1.5)
    shapes = {x: s, other: oshape}
    a, c = x, other
    if op not in ("Div", "Pow", "PRelu") and r.random() < 0.3:
        a, c = c, a  # the broadcast operand first
    if op == "Div" and c in b.values:
        c = _positive(b, c)
    if op == "Pow":
        a = _positive(b, a)
        if c in b.values:
            c = b.one("Tanh", [c], oshape)
    shapes.update({a: shapes.get(a, s), c: shapes.get(c, oshape)})
    out = tuple(int(d) for d in np.broadcast_shapes(shapes[a], shapes[c]))
    if op == "PRelu" and out != s:
        raise _Skip
    return b.one(op, [a, c], out)


def g_conv(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) not in (3, 4):
        raise _Skip
    r = b.rng
    c = s[1]
    spatial = s[2:]
    k = [int(r.integers(1, min(3, d) + 1)) for d in spatial]
    strides = [int(r.integers(1, 3)) for _ in spatial]
    dil = [int(r.integers(1, 3)) if (kk - 1) * 2 + 1 <= d else 1 for kk, d in zip(k, spatial)]
    kind = r.integers(3)
    if kind == 0 or c == 1:
        group, cout = 1, int(r.integers(1, 7))
    elif kind == 1:
        group, cout = c, c * int(r.integers(1, 3))  # depthwise, multiplier 1-2
    else:
        divisors = [g for g in range(1, c + 1) if c % g == 0]
        group = int(r.choice(divisors))
        cout = group * int(r.integers(1, 3))
    attrs: dict[str, object] = {"kernel_shape": k, "strides": strides, "dilations": dil}
    if group != 1:
        attrs["group"] = group
    mode = r.integers(3)
    pads = [0] * (2 * len(spatial))
    if mode == 1:
        pads = [int(r.integers(0, kk)) for kk in k] + [int(r.integers(0, kk)) for kk in k]
        attrs["pads"] = pads
    elif mode == 2:
        attrs["auto_pad"] = str(r.choice(["SAME_UPPER", "SAME_LOWER", "VALID"]))
        if attrs["auto_pad"] != "VALID":  # ONNX Runtime runs SAME padding undilated only
            dil = [1] * len(spatial)
            attrs["dilations"] = dil
    out = []
    for i, d in enumerate(spatial):
        ek = (k[i] - 1) * dil[i] + 1
        if attrs.get("auto_pad") in ("SAME_UPPER", "SAME_LOWER"):
            out.append(-(-d // strides[i]))
        else:
            out.append((d + pads[i] + pads[i + len(spatial)] - ek) // strides[i] + 1)
    if any(o < 1 for o in out):
        raise _Skip
    w = b.rand_const((cout, c // group, *k), -0.5, 0.5)
    ins = [x, w] + ([b.rand_const((cout,))] if r.random() < 0.7 else [])
    return b.one("Conv", ins, (s[0], cout, *out), **attrs)


def g_conv_transpose(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) not in (3, 4):
        raise _Skip
    r = b.rng
    c = s[1]
    nd = len(s) - 2
    k = [int(r.integers(1, 4)) for _ in range(nd)]
    strides = [int(r.integers(1, 3)) for _ in range(nd)]
    dil = [int(r.integers(1, 3)) if r.random() < 0.3 else 1 for _ in range(nd)]
    group = int(r.choice([g for g in range(1, c + 1) if c % g == 0])) if r.random() < 0.3 else 1
    cout = group * int(r.integers(1, 3))
    ek = [(kk - 1) * dd + 1 for kk, dd in zip(k, dil)]
    pads = [int(r.integers(0, e)) for e in ek] * 2
    outpad = [int(r.integers(0, st)) if r.random() < 0.3 else 0 for st in strides]
    out = [(d - 1) * st + e - pads[i] - pads[i + nd] + op_
           for i, (d, st, e, op_) in enumerate(zip(s[2:], strides, ek, outpad))]
    if any(o < 1 for o in out):
        raise _Skip
    w = b.rand_const((c, cout // group, *k), -0.5, 0.5)
    attrs: dict[str, object] = {"kernel_shape": k, "strides": strides, "pads": pads}
    if any(d != 1 for d in dil):
        attrs["dilations"] = dil
    if group != 1:
        attrs["group"] = group
    if any(outpad):
        attrs["output_padding"] = outpad
    ins = [x, w] + ([b.rand_const((cout,))] if r.random() < 0.7 else [])
    return b.one("ConvTranspose", ins, (s[0], cout, *out), **attrs)


def g_pool(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) not in (3, 4, 5):
        raise _Skip
    r = b.rng
    op = str(r.choice(["MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool"]))
    if op.startswith("Global"):
        return b.one(op, [x], (*s[:2], *[1] * (len(s) - 2)))
    spatial = s[2:]
    k = [int(r.integers(1, min(3, d) + 1)) for d in spatial]
    strides = [int(r.integers(1, 3)) for _ in spatial]
    attrs: dict[str, object] = {"kernel_shape": k, "strides": strides}
    pads = [0] * (2 * len(spatial))
    if r.random() < 0.5:
        pads = [int(r.integers(0, kk)) for kk in k] + [int(r.integers(0, kk)) for kk in k]
        attrs["pads"] = pads
    ceil = bool(r.random() < 0.3) and b.opset >= 10
    if ceil:
        attrs["ceil_mode"] = 1
    dil = [1] * len(spatial)
    if op == "MaxPool" and r.random() < 0.3 and not ceil and b.opset >= 10:
        dil = [int(r.integers(1, 3)) for _ in spatial]
        attrs["dilations"] = dil
    if op == "AveragePool" and r.random() < 0.5:
        attrs["count_include_pad"] = 1
    out = []
    for i, d in enumerate(spatial):
        span = d + pads[i] + pads[i + len(spatial)] - ((k[i] - 1) * dil[i] + 1)
        o = (-(-span // strides[i]) if ceil else span // strides[i]) + 1
        if ceil and (o - 1) * strides[i] >= d + pads[i]:
            # the spec drops a last window that would start in the end padding; ONNX shape
            # inference does not (the reader lets the lowering's shape win): not generated
            raise _Skip
        out.append(o)
    if any(o < 1 for o in out):
        raise _Skip
    return b.one(op, [x], (*s[:2], *out), **attrs)


def g_norm(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    op = str(r.choice(["BatchNormalization", "InstanceNormalization", "LayerNormalization",
                       "LpNormalization", "LRN"]))
    if op in ("BatchNormalization", "InstanceNormalization", "LRN") and len(s) < 3:
        raise _Skip
    if op == "LRN" and len(s) != 4:
        raise _Skip
    if op == "LayerNormalization" and b.opset < 17:
        raise _Skip
    c = s[1] if len(s) > 1 else s[0]
    if op == "BatchNormalization":
        ins = [x, b.rand_const((c,), 0.5, 1.5), b.rand_const((c,)), b.rand_const((c,)),
               b.rand_const((c,), 0.5, 2.0)]
        return b.one(op, ins, s, epsilon=float(r.choice([1e-5, 1e-3])))
    if op == "InstanceNormalization":
        return b.one(op, [x, b.rand_const((c,), 0.5, 1.5), b.rand_const((c,))], s,
                     epsilon=1e-5)
    if op == "LayerNormalization":
        axis = int(r.integers(-len(s), len(s)))
        norm_shape = s[axis:] if axis >= 0 else s[len(s) + axis:]
        if np.prod(norm_shape) < 2:
            raise _Skip
        ins = [x, b.rand_const(norm_shape, 0.5, 1.5)]
        if r.random() < 0.6:
            ins.append(b.rand_const(norm_shape))
        return b.one(op, ins, s, axis=axis, epsilon=1e-5)
    if op == "LpNormalization":
        return b.one(op, [x], s, axis=int(r.integers(-1, len(s))), p=int(r.choice([1, 2])))
    size = int(r.choice([1, 3, 5]))
    return b.one(op, [x], s, size=size, alpha=float(r.uniform(1e-4, 1e-2)),
                 beta=float(r.uniform(0.5, 0.9)), bias=float(r.uniform(1, 2)))


def _axes_arg(b: _Builder, op: str, axes: list[int], attrs: dict[str, object]) -> list[str]:
    """Reduce axes: an input from opset 18 (ReduceSum from 13), an attribute before."""
    if (op == "ReduceSum" and b.opset >= 13) or b.opset >= 18:
        return [b.ints(axes)]
    attrs["axes"] = axes
    return []


def g_reduce(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    op = str(r.choice(["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceL1",
                       "ReduceL2", "ReduceLogSumExp", "ReduceSumSquare", "ReduceProd"]))
    n = int(r.integers(1, len(s) + 1))
    axes = sorted(int(a) for a in r.choice(len(s), n, replace=False))
    axes = [a - len(s) if r.random() < 0.3 else a for a in axes]
    keep = int(r.integers(2))
    attrs: dict[str, object] = {"keepdims": keep}
    extra = _axes_arg(b, op, axes, attrs)
    norm = {a % len(s) for a in axes}
    out = tuple(1 if i in norm else d for i, d in enumerate(s)) if keep else \
        tuple(d for i, d in enumerate(s) if i not in norm)
    return b.one(op, [x, *extra], out, **attrs)


def g_softmax(b: _Builder, x: str) -> str:
    s = b.values[x]
    op = str(b.rng.choice(["Softmax", "LogSoftmax"]))
    axis = int(b.rng.integers(-len(s), len(s)))
    if s[axis] == 1:
        # a constant output (all 1 or all 0); normalizing a constant later amplifies the
        # float32 summation order of MEAN by 1/sqrt(epsilon) (seed 2954: runtime_micro sums
        # sequentially as TFLite's reference kernel does, 1 ulp off ONNX Runtime's mean,
        # x 316 after InstanceNormalization): a property of float32, not a bug to find
        raise _Skip
    return b.one(op, [x], s, axis=axis)


def g_transpose(b: _Builder, x: str) -> str:
    s = b.values[x]
    perm = [int(p) for p in b.rng.permutation(len(s))]
    return b.one("Transpose", [x], tuple(s[p] for p in perm), perm=perm)


def g_reshape(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    total = int(np.prod(s))
    op = str(r.choice(["Reshape", "Flatten", "Squeeze", "Unsqueeze"]))
    if op == "Flatten":
        axis = int(r.integers(0, len(s) + 1))
        return b.one(op, [x], (int(np.prod(s[:axis])), int(np.prod(s[axis:]))), axis=axis)
    if op == "Unsqueeze":
        if len(s) >= 5:
            raise _Skip
        axis = int(r.integers(0, len(s) + 1))
        out = (*s[:axis], 1, *s[axis:])
        if b.opset < 13:
            return b.one(op, [x], out, axes=[axis])
        return b.one(op, [x, b.ints([axis])], out)
    if op == "Squeeze":
        ones = [i for i, d in enumerate(s) if d == 1]
        if not ones or len(s) < 2:
            raise _Skip
        axes = ones[: int(r.integers(1, len(ones) + 1))]
        if len(axes) == len(s):
            axes = axes[:-1]
        if b.opset >= 13 and len(ones) < len(s) and r.random() < 0.3:
            return b.one(op, [x], tuple(d for d in s if d != 1))  # every size-1 axis
        out = tuple(d for i, d in enumerate(s) if i not in axes)
        if b.opset < 13:
            return b.one(op, [x], out, axes=axes)
        return b.one(op, [x, b.ints(axes)], out)
    # a random factorisation of the element count, rank 1-4, maybe with -1 and 0
    rank = int(r.integers(1, 5))
    dims: list[int] = []
    left = total
    for _ in range(rank - 1):
        divs = [d for d in range(1, left + 1) if left % d == 0]
        d = int(r.choice(divs))
        dims.append(d)
        left //= d
    dims.append(left)
    spec = list(dims)
    if r.random() < 0.4:
        spec[int(r.integers(rank))] = -1
    if r.random() < 0.3:  # 0 copies the input's dimension at that position
        same = [i for i in range(min(rank, len(s))) if dims[i] == s[i] and spec[i] != -1]
        for i in same[:1]:
            spec[i] = 0
    return b.one("Reshape", [x, b.ints(spec)], tuple(dims))


def g_concat(b: _Builder, x: str) -> str:
    s = b.values[x]
    axis = int(b.rng.integers(len(s)))
    other_shape = list(s)
    other_shape[axis] = int(b.rng.integers(1, 4))
    parts = [x, b.rand_const(tuple(other_shape))]
    if b.rng.random() < 0.5:
        parts.reverse()
    out = list(s)
    out[axis] += other_shape[axis]
    return b.one("Concat", parts, tuple(out), axis=axis - len(s) if b.rng.random() < 0.3
                 else axis)


def g_split(b: _Builder, x: str) -> str:
    s = b.values[x]
    axes = [i for i, d in enumerate(s) if d >= 2]
    if not axes:
        raise _Skip
    axis = int(b.rng.choice(axes))
    d = s[axis]
    first = int(b.rng.integers(1, d))
    sizes = [first, d - first]
    outs = []
    for size in sizes:
        o = list(s)
        o[axis] = size
        outs.append(tuple(o))
    if b.opset < 13:
        a, c = b.node("Split", [x], outs, axis=axis, split=sizes)
    else:
        a, c = b.node("Split", [x, b.ints(sizes)], outs, axis=axis)
    return a if b.rng.random() < 0.5 else c


def g_slice(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    axis = int(r.integers(len(s)))
    d = s[axis]
    step = int(r.choice([1, 1, 2, -1]))
    if step > 0:
        start = int(r.integers(0, d))
        end = int(r.integers(start + 1, d + 1))
        n = -(-(end - start) // step)
    else:
        start = int(r.integers(0, d))
        end = int(r.integers(-d - 1, start)) if start > 0 else -d - 1
        e = max(end if end >= 0 else end + d, -1)
        n = -(-(start - e) // -step)
    if n < 1:
        raise _Skip
    out = list(s)
    out[axis] = n
    if step == 1 and r.random() < 0.3:
        # ends past the end (INT64_MAX, as exporters write "to the end") clamp
        end = int(np.iinfo(np.int64).max) if end == d else end
    if b.opset < 10:  # starts/ends/axes attributes, unit steps only
        if step != 1:
            raise _Skip
        return b.one("Slice", [x], tuple(out), starts=[start], ends=[end], axes=[axis])
    return b.one("Slice", [x, b.ints([start]), b.ints([end]), b.ints([axis]), b.ints([step])],
                 tuple(out))


def g_pad(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    mode = str(r.choice(["constant", "reflect", "edge"]))
    pads = [int(r.integers(0, 3)) for _ in range(2 * len(s))]
    if mode == "reflect":
        pads = [min(p, s[i % len(s)] - 1) for i, p in enumerate(pads)]
    if mode == "edge":
        pads = [min(p, 1) for p in pads]
    if mode == "constant" and r.random() < 0.25:  # negative pads crop
        pads = [-int(r.integers(0, (s[i % len(s)] + 1) // 2)) if r.random() < 0.4 else p
                for i, p in enumerate(pads)]
        if any(s[i] + pads[i] + pads[i + len(s)] < 1 for i in range(len(s))):
            raise _Skip
    out = tuple(d + pads[i] + pads[i + len(s)] for i, d in enumerate(s))
    if b.opset < 11:  # pads and value were attributes
        return b.one("Pad", [x], out, mode=mode, pads=pads,
                     value=float(r.uniform(-1, 1)) if mode == "constant" else 0.0)
    ins = [x, b.ints(pads)]
    if mode == "constant" and r.random() < 0.5:
        ins.append(b.const(np.float32(r.uniform(-1, 1))))
    return b.one("Pad", ins, out, mode=mode)


def g_tile_expand(b: _Builder, x: str) -> str:
    s = b.values[x]
    if b.rng.random() < 0.5:
        reps = [int(b.rng.integers(1, 3)) for _ in s]
        return b.one("Tile", [x, b.ints(reps)], tuple(d * k for d, k in zip(s, reps)))
    target = [d if d != 1 else int(b.rng.integers(1, 4)) for d in s]
    if b.rng.random() < 0.3 and len(s) < 4:
        target = [int(b.rng.integers(1, 3))] + target
    return b.one("Expand", [x, b.ints(target)], tuple(np.broadcast_shapes(s, tuple(target))))


def g_space_depth(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) != 4:
        raise _Skip
    n, c, h, w = s
    if b.rng.random() < 0.5:
        bs = 2
        if h % bs or w % bs:
            raise _Skip
        return b.one("SpaceToDepth", [x], (n, c * 4, h // 2, w // 2), blocksize=2)
    if c % 4:
        raise _Skip
    if b.opset < 11:  # no mode attribute yet (DCR)
        return b.one("DepthToSpace", [x], (n, c // 4, h * 2, w * 2), blocksize=2)
    mode = str(b.rng.choice(["DCR", "CRD"]))
    return b.one("DepthToSpace", [x], (n, c // 4, h * 2, w * 2), blocksize=2, mode=mode)


def g_resize(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) != 4:
        raise _Skip
    r = b.rng
    mode = str(r.choice(["nearest", "linear", "linear", "cubic"]))
    factor = [1.0, 1.0, float(r.choice([2.0, 0.5, 1.5, 3.0])), float(r.choice([2.0, 0.5, 3.0]))]
    out = tuple(int(np.floor(d * f)) for d, f in zip(s, factor))
    if min(out) < 1:
        raise _Skip
    if b.opset < 11:
        # Upsample (opset 9) and Resize-10: scales only, nearest or linear, asymmetric
        # coordinates; upsampling only for Upsample
        if mode == "cubic" or (b.opset < 10 and min(factor) < 1):
            raise _Skip
        op = "Upsample" if b.opset < 10 else "Resize"
        return b.one(op, [x, b.const(np.array(factor, np.float32))], out, mode=mode)
    ctm = str(r.choice(["half_pixel", "asymmetric", "align_corners", "pytorch_half_pixel"]))
    attrs: dict[str, object] = {"mode": mode, "coordinate_transformation_mode": ctm}
    if mode == "nearest":
        attrs["nearest_mode"] = str(r.choice(["round_prefer_floor", "floor", "round_prefer_ceil",
                                              "ceil"]))
    # align_corners / pytorch_half_pixel with a scale whose product with the input size is
    # fractional: ONNX Runtime uses the rounded output size, the ONNX reference (and so the
    # converter, see converter/ops/resize.py) the fractional one (seeds 804, 812, 598: the
    # converter matched onnx.reference exactly); they disagree by design: sizes instead.
    fractional = any(d * f != int(d * f) for d, f in zip(s, factor))
    roi = "" if b.opset >= 13 else b.const(np.zeros(0, np.float32), "roi")  # required in 11
    if r.random() < 0.5 and not (ctm in ("align_corners", "pytorch_half_pixel") and fractional):
        ins = [x, roi, b.const(np.array(factor, np.float32))]
    else:
        ins = [x, roi, b.const(np.zeros(0, np.float32), "scales") if b.opset < 13 else "",
               b.ints(out)]
    return b.one("Resize", ins, out, **attrs)


def g_matmul(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    k = s[-1]
    n = int(r.integers(1, 7))
    if len(s) == 2 and r.random() < 0.4:
        trans_b = int(r.integers(2))
        w = b.rand_const((n, k) if trans_b else (k, n), -0.5, 0.5)
        ins = [x, w]
        if r.random() < 0.6 or b.opset < 11:  # C was required before opset 11
            ins.append(b.rand_const(_broadcast_shape(r, (s[0], n))))
        return b.one("Gemm", ins, (s[0], n), transB=trans_b, alpha=float(r.uniform(0.5, 1.5)),
                     beta=float(r.uniform(0.5, 1.5)))
    if r.random() < 0.6:
        return b.one("MatMul", [x, b.rand_const((k, n), -0.5, 0.5)], (*s[:-1], n))
    # two run-time operands: x @ transpose(x)-like value from the pool
    if len(s) < 2:
        raise _Skip
    perm = list(range(len(s)))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    xt = b.one("Transpose", [x], tuple(s[p] for p in perm), perm=perm)
    return b.one("MatMul", [x, xt], (*s[:-1], s[-2]))


def g_einsum_like(b: _Builder, x: str) -> str:
    """Where/comparison chains: a float mask from Greater, picked by Where."""
    s = b.values[x]
    other = b.rand_const(_broadcast_shape(b.rng, s))
    op = str(b.rng.choice(["Greater", "Less", "GreaterOrEqual", "LessOrEqual"]))
    inputs = sorted(b.raw_inputs)
    src = inputs[int(b.rng.integers(len(inputs)))]  # compare graph inputs only (see above)
    if b.values[src] != s:
        raise _Skip
    mask = b.node(op, [src, other], [s])[0]
    del b.values[mask]  # bool: not a float operand for later ops
    alt = b.rand_const(_broadcast_shape(b.rng, s))
    return b.one("Where", [mask, x, alt], s)


def g_more_unary(b: _Builder, x: str) -> str:
    """Math ops lowered as compositions (no TFLite op of their own)."""
    s = b.values[x]
    op = str(b.rng.choice(["Tan", "Asin", "Acos", "Atanh", "Asinh", "Sinh", "Cosh", "Acosh"]))
    if op == "Tan":
        x = b.one("Tanh", [x], s)  # |x| < 1: away from tan's poles
    elif op in ("Asin", "Acos", "Atanh"):
        t = b.one("Tanh", [x], s)
        x = b.one("Mul", [t, b.const(np.float32(0.9))], s)  # inside (-1, 1)
    elif op == "Acosh":
        x = _positive(b, x, 1.25)
    elif op in ("Sinh", "Cosh"):
        x = b.one("Tanh", [x], s)
    return b.one(op, [x], s)


def g_arg(b: _Builder, x: str) -> str:
    """ArgMax/ArgMin/TopK of a graph input (ties and near-ties in computed values would
    make the index depend on rounding), indices cast back to float."""
    inputs = sorted(b.raw_inputs)
    x = inputs[int(b.rng.integers(len(inputs)))]
    s = b.values[x]
    r = b.rng
    axis = int(r.integers(-len(s), len(s)))
    a = axis % len(s)
    if r.random() < 0.35:
        k = int(r.integers(1, s[a] + 1))
        out = tuple(k if i == a else d for i, d in enumerate(s))
        largest = int(r.integers(2))
        if b.opset < 10:
            vals, idx = b.node("TopK", [x], [out, out], axis=axis, k=k)
        elif b.opset < 11:
            vals, idx = b.node("TopK", [x, b.ints([k])], [out, out], axis=axis)
        else:
            vals, idx = b.node("TopK", [x, b.ints([k])], [out, out], axis=axis,
                               largest=largest, sorted=1)
        del b.values[idx]
        return vals
    op = str(r.choice(["ArgMax", "ArgMin"]))
    keep = int(r.integers(2))
    out = tuple(1 if i == a else d for i, d in enumerate(s)) if keep else \
        tuple(d for i, d in enumerate(s) if i != a)
    if not out:
        raise _Skip
    attrs: dict[str, object] = {"axis": axis, "keepdims": keep}
    if r.random() < 0.3 and b.opset >= 12:
        attrs["select_last_index"] = 1
    idx = b.node(op, [x], [out], **attrs)[0]
    del b.values[idx]
    return b.one("Cast", [idx], out, to=TensorProto.FLOAT)


def g_gather(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    axis = int(r.integers(len(s)))
    d = s[axis]
    if r.random() < 0.3:
        # GatherElements: indices of x's rank, any size up to x's along the axis
        shape = tuple(int(r.integers(1, dd + 1)) if i != axis else int(r.integers(1, 4))
                      for i, dd in enumerate(s))
        idx = r.integers(-d, d, shape).astype(np.int64)
        return b.one("GatherElements", [x, b.const(idx, "idx")], shape, axis=axis)
    ishape = tuple(int(n) for n in r.integers(1, 4, int(r.integers(0, 3))))
    if len(s) - 1 + len(ishape) > 4 or len(s) - 1 + len(ishape) < 1:
        raise _Skip
    idx = r.integers(-d, d, ishape).astype(np.int64)
    out = (*s[:axis], *ishape, *s[axis + 1:])
    return b.one("Gather", [x, b.const(idx, "idx")], out, axis=axis)


def g_cumsum_trilu(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    if r.random() < 0.5 or len(s) < 2:
        axis = int(r.integers(-len(s), len(s)))
        return b.one("CumSum", [x, b.const(np.array(axis, np.int64), "axis")], s,
                     exclusive=int(r.integers(2)), reverse=int(r.integers(2)))
    if b.opset < 14:
        raise _Skip
    ins = [x]
    if r.random() < 0.6:
        ins.append(b.const(np.array(int(r.integers(-2, 3)), np.int64), "k"))
    return b.one("Trilu", ins, s, upper=int(r.integers(2)))


def g_einsum(b: _Builder, x: str) -> str:
    s = b.values[x]
    r = b.rng
    if len(s) == 2:
        eq, w = ("ij,jk->ik", (s[1], int(r.integers(1, 5)))) if r.random() < 0.5 else \
            ("ij->ji", None)
    elif len(s) == 3:
        eq, w = ("bij,jk->bik", (s[2], int(r.integers(1, 5)))) if r.random() < 0.5 else \
            ("bij->bj", None)
    else:
        raise _Skip
    if w is None:
        out = (s[1], s[0]) if eq == "ij->ji" else (s[0], s[2])
        return b.one("Einsum", [x], out, equation=eq)
    out = (*s[:-1], w[1])
    return b.one("Einsum", [x, b.rand_const(w, -0.5, 0.5)], out, equation=eq)


def g_logic(b: _Builder, x: str) -> str:
    """Boolean chains over comparisons of graph inputs, picked by Where."""
    s = b.values[x]
    inputs = [v for v in sorted(b.raw_inputs) if b.values[v] == s]
    if not inputs:
        raise _Skip
    src = inputs[int(b.rng.integers(len(inputs)))]
    m1 = b.node("Greater", [src, b.rand_const(_broadcast_shape(b.rng, s))], [s])[0]
    m2 = b.node(str(b.rng.choice(["Less", "Equal"] if b.opset >= 11 else ["Less"])),
                [src, b.const(np.float32(b.rng.uniform(-1, 1)))], [s])[0]
    op = str(b.rng.choice(["And", "Or", "Xor"]))
    m = b.node(op, [m1, m2], [s])[0]
    masks = [m1, m2, m]
    if b.rng.random() < 0.5:
        m = b.node("Not", [m], [s])[0]
        masks.append(m)
    for v in masks:  # bool: not float operands for later ops
        del b.values[v]
    return b.one("Where", [m, x, b.rand_const(_broadcast_shape(b.rng, s))], s)


def g_variadic(b: _Builder, x: str) -> str:
    s = b.values[x]
    op = str(b.rng.choice(["Max", "Min", "Sum", "Mean"]))
    others = [b.rand_const(_broadcast_shape(b.rng, s)) for _ in range(int(b.rng.integers(2, 4)))]
    return b.one(op, [x, *others], s)


def g_lp_pool(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) != 4:
        raise _Skip
    r = b.rng
    k = [int(r.integers(1, min(3, d) + 1)) for d in s[2:]]
    st = [int(r.integers(1, 3)) for _ in k]
    out = tuple((d - kk) // ss + 1 for d, kk, ss in zip(s[2:], k, st))
    return b.one("LpPool", [x], (*s[:2], *out), kernel_shape=k, strides=st,
                 p=int(r.choice([1, 2])))


def g_batched_matmul(b: _Builder, x: str) -> str:
    s = b.values[x]
    if len(s) < 3:
        raise _Skip
    r = b.rng
    n = int(r.integers(1, 5))
    batch = tuple(1 if r.random() < 0.4 else d for d in s[:-2])
    w = b.rand_const((*batch, s[-1], n), -0.5, 0.5)
    if r.random() < 0.5:
        return b.one("MatMul", [x, w], (*s[:-1], n))
    # the constant first: (batch, n, k) @ x^T-shaped? keep it simple, x on the right
    m = int(r.integers(1, 4))
    w2 = b.rand_const((*batch, m, s[-2]), -0.5, 0.5)
    return b.one("MatMul", [w2, x], (*s[:-2], m, s[-1]))



def g_shape_chain(b: _Builder, x: str) -> str:
    """Reshape(x, Concat(Shape(x)[:k], [-1])): the shape folding exporters rely on."""
    s = b.values[x]
    if len(s) < 2:
        raise _Skip
    k = int(b.rng.integers(1, len(s)))
    shp = b.node("Shape", [x], [(len(s),)])[0]
    del b.values[shp]
    head = b.node("Slice", [shp, b.ints([0]), b.ints([k]), b.ints([0])], [(k,)])[0] \
        if b.opset >= 10 else b.node("Slice", [shp], [(k,)], starts=[0], ends=[k], axes=[0])[0]
    del b.values[head]
    spec = b.node("Concat", [head, b.ints([-1])], [(k + 1,)], axis=0)[0]
    del b.values[spec]
    return b.one("Reshape", [x, spec], (*s[:k], int(np.prod(s[k:]))))


def g_dropout(b: _Builder, x: str) -> str:
    return b.one("Dropout", [x], b.values[x])


GENERATORS: list[tuple[Callable[[_Builder, str], str], float]] = [
    (g_unary, 3), (g_unary_attr, 2), (g_positive_unary, 1), (g_clip, 1), (g_binary, 4),
    (g_discontinuous, 0.5), (g_conv, 3), (g_conv_transpose, 1), (g_pool, 2), (g_norm, 2),
    (g_reduce, 2), (g_softmax, 1), (g_transpose, 2), (g_reshape, 2), (g_concat, 1),
    (g_split, 1), (g_slice, 1.5), (g_pad, 1), (g_tile_expand, 1), (g_space_depth, 1),
    (g_resize, 1), (g_matmul, 2), (g_einsum_like, 0.5), (g_more_unary, 1), (g_arg, 0.7),
    (g_gather, 1), (g_cumsum_trilu, 0.7), (g_einsum, 0.5), (g_logic, 0.5), (g_variadic, 0.7),
    (g_lp_pool, 0.5), (g_batched_matmul, 1), (g_shape_chain, 0.5), (g_dropout, 0.2),
]


def _negative_axis(nodes: list[onnx.NodeProto]) -> bool:
    return any(a.name in ("axis", "axes") and n.op_type != "LpNormalization"
               and (a.i < 0 if a.type == onnx.AttributeProto.INT else any(v < 0 for v in a.ints))
               for n in nodes for a in n.attribute)


def _random_input_shape(rng: np.random.Generator) -> Shape:
    rank = int(rng.choice([2, 3, 4, 4, 4, 5], p=[0.18, 0.2, 0.18, 0.18, 0.18, 0.08]))
    n = 1 if rng.random() < 0.8 else 2
    if rank == 5:
        return (n, int(rng.integers(1, 4)), *(int(d) for d in rng.integers(1, 6, 3)))
    if rank == 4:
        return (n, int(rng.integers(1, 7)), int(rng.integers(1, 9)), int(rng.integers(1, 9)))
    if rank == 3:
        return (n, int(rng.integers(1, 7)), int(rng.integers(1, 11)))
    return (int(rng.integers(1, 4)), int(rng.integers(1, 9)))


def generate(seed: int, max_ops: int = 5) -> FuzzCase:
    """A random valid ONNX model (float32 in and out) and its inputs, from ``seed`` alone."""
    from edgelite.converter.ops import REGISTRY

    rng = np.random.default_rng(seed)
    opset = int(rng.choice(OPSETS))
    if rng.random() < INT_GRAPHS:
        return _generate_int(seed, rng, opset, max_ops)
    b = _Builder(rng, opset)
    b.input(_random_input_shape(rng))
    if rng.random() < 0.3:
        b.input(_random_input_shape(rng))
    weights = np.array([w for _, w in GENERATORS], np.float64)
    steps = int(rng.integers(1, max_ops + 1))
    produced: list[str] = []
    attempts = 0
    while len(produced) < steps and attempts < 50:
        attempts += 1
        gen = GENERATORS[int(rng.choice(len(GENERATORS), p=weights / weights.sum()))][0]
        # grow from the newest value mostly, sometimes from any live one
        live = list(b.values)
        x = produced[-1] if produced and rng.random() < 0.7 else live[int(rng.integers(len(live)))]
        mark = (len(b.nodes), len(b.inits), dict(b.values), list(b.ops), b._n)
        try:
            out = gen(b, x)
        except _Skip:
            out = None
        new_ops = b.ops[len(mark[3]):]
        if out is not None and opset < 11 and _negative_axis(b.nodes[mark[0]:]):
            out = None  # negative axes arrived in opset 11 (LpNormalization's -1 aside)
        if out is None or any(op not in REGISTRY or op in EXCLUDED
                              or not REGISTRY[op].opsets[0] <= opset <= REGISTRY[op].opsets[1]
                              for op in new_ops) or not 1 <= len(b.values[out]) <= 5 \
                or int(np.prod(b.values[out])) > 4096:
            b.nodes[mark[0]:] = []
            b.inits[mark[1]:] = []
            b.values, b.ops, b._n = mark[2], mark[3], mark[4]
            continue
        produced.append(out)
    if not produced:
        produced.append(b.one("Relu", [next(iter(b.values))], next(iter(b.values.values()))))
    outs = [produced[-1]]
    if len(produced) > 1 and rng.random() < 0.3:
        outs.insert(0, produced[int(rng.integers(len(produced) - 1))])
    graph = helper.make_graph(
        b.nodes, f"fuzz{seed}", b.inputs,
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, list(b.values[o])) for o in outs],
        b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="edgelite-onnx-fuzz")
    model.ir_version = 8
    return FuzzCase(seed, model, b.feeds, b.ops, opset, keep_nchw_io=bool(rng.random() < 0.7))


# ---- integer graphs: int32/int64 data through the ops whose registry dtypes include them ----

_INT_TYPES = {"int32": TensorProto.INT32, "int64": TensorProto.INT64}


def _int_const(b: _Builder, shape: Shape, dtype: str, lo: int = -9, hi: int = 10,
               nonzero: bool = False) -> str:
    v = b.rng.integers(lo, hi, shape).astype(dtype)
    if nonzero:
        v[v == 0] = 3
    return b.const(v, "k")


def _generate_int(seed: int, rng: np.random.Generator, opset: int, max_ops: int) -> FuzzCase:
    """A chain of integer ops (exact results expected)."""
    from edgelite.converter.ops import REGISTRY

    dtype = str(rng.choice(["int32", "int64"]))
    b = _Builder(rng, opset)
    shape = _random_input_shape(rng)
    name = b.name("in")
    b.inputs.append(helper.make_tensor_value_info(name, _INT_TYPES[dtype], list(shape)))
    b.feeds[name] = rng.integers(-20, 21, shape).astype(dtype)
    b.values[name] = shape
    x = name
    for _ in range(int(rng.integers(1, max_ops + 1))):
        s = b.values[x]
        op = str(rng.choice(["Add", "Sub", "Mul", "Div", "Mod", "Max", "Min", "Neg", "Abs",
                             "Sign", "ReduceSum", "ReduceMax", "ReduceMin", "Transpose",
                             "Concat", "Slice", "Gather", "Tile", "CumSum", "Where", "Clip"]))
        if op in ("Max", "Min") and opset < 12:
            continue  # integer Max/Min arrived in opset 12
        if REGISTRY.get(op) is None or not REGISTRY[op].opsets[0] <= opset <= \
                REGISTRY[op].opsets[1]:
            continue
        if dtype not in REGISTRY[op].dtypes and op not in (
                "Transpose", "Concat", "Slice", "Gather", "Tile", "CumSum", "Where"):
            continue
        if op in ("Add", "Sub", "Mul", "Div", "Mod", "Max", "Min"):
            other = _int_const(b, _broadcast_shape(rng, s), dtype, nonzero=op in ("Div", "Mod"))
            attrs = {}
            if op == "Mod":
                attrs["fmod"] = 0
            out = tuple(int(d) for d in np.broadcast_shapes(s, b.values.get(other, ())))
            # (the constant is not a live value: its shape broadcasts to s by construction)
            x = b.one(op, [x, other], s, **attrs)
        elif op in ("Neg", "Abs", "Sign"):
            x = b.one(op, [x], s)
        elif op == "Clip":
            if opset < 12:
                continue
            lo, hi = sorted(int(v) for v in rng.integers(-15, 16, 2))
            x = b.one(op, [x, b.const(np.array(lo, dtype), "k"), b.const(np.array(hi, dtype),
                                                                           "k")], s)
        elif op.startswith("Reduce"):
            axis = int(rng.integers(len(s)))
            keep = 1
            if op == "ReduceSum" and opset >= 13 or opset >= 18:
                x = b.one(op, [x, b.ints([axis])], tuple(1 if i == axis else d
                                                          for i, d in enumerate(s)),
                          keepdims=keep)
            else:
                x = b.one(op, [x], tuple(1 if i == axis else d for i, d in enumerate(s)),
                          axes=[axis], keepdims=keep)
        elif op == "Where":
            cond = b.const(rng.random(_broadcast_shape(rng, s)) < 0.5, "m")
            x = b.one(op, [cond, x, _int_const(b, _broadcast_shape(rng, s), dtype)], s)
        else:
            gen = {"Transpose": g_transpose, "Concat": None, "Slice": g_slice, "Gather": None,
                   "Tile": None, "CumSum": None}[op]
            if gen is not None:
                try:
                    x = gen(b, x)
                except _Skip:
                    continue
            elif op == "Concat":
                axis = int(rng.integers(len(s)))
                o = list(s)
                o[axis] = int(rng.integers(1, 3))
                out = list(s)
                out[axis] += o[axis]
                x = b.one(op, [x, _int_const(b, tuple(o), dtype)], tuple(out), axis=axis)
            elif op == "Gather":
                axis = int(rng.integers(len(s)))
                idx = rng.integers(-s[axis], s[axis], (int(rng.integers(1, 4)),)).astype(np.int64)
                out = list(s)
                out[axis] = len(idx)
                x = b.one(op, [x, b.const(idx, "idx")], tuple(out), axis=axis)
            elif op == "Tile":
                reps = [int(rng.integers(1, 3)) for _ in s]
                x = b.one(op, [x, b.ints(reps)], tuple(d * k for d, k in zip(s, reps)))
            else:
                axis = int(rng.integers(len(s)))
                x = b.one(op, [x, b.const(np.array(axis, np.int64), "axis")], s,
                          exclusive=int(rng.integers(2)), reverse=int(rng.integers(2)))
        if int(np.prod(b.values[x])) > 4096:
            break
    if not b.nodes:
        x = b.one("Neg", [x], b.values[x])
    graph = helper.make_graph(b.nodes, f"fuzz{seed}", b.inputs,
                              [helper.make_tensor_value_info(x, _INT_TYPES[dtype],
                                                             list(b.values[x]))], b.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="edgelite-onnx-fuzz")
    model.ir_version = 8
    return FuzzCase(seed, model, b.feeds, b.ops, opset, keep_nchw_io=True)


# ---- running one case -----------------------------------------------------------------------

def tolerance(ref: np.ndarray) -> float:
    """Float error allowed: relative to the output's range (a chain of float32 ops in two
    implementations drifts by a few ulps of the largest magnitudes it computed)."""
    peak = float(np.max(np.abs(ref))) if ref.size else 0.0
    return 1e-4 * max(1.0, peak)


def run_case(case: FuzzCase, runtimes: tuple[str, ...] = ("litert", "micro")) -> Verdict:
    import onnxruntime as ort

    from edgelite.converter import ConvertOptions, convert
    from edgelite.errors import EdgeliteError
    from edgelite.tflite.metadata import METADATA_KEY, channels_last_io
    from edgelite.tflite.writer import write_model

    model = case.model
    try:
        onnx.checker.check_model(model, full_check=True)
        so = ort.SessionOptions()
        so.log_severity_level = 3
        sess = ort.InferenceSession(model.SerializeToString(), so,
                                    providers=["CPUExecutionProvider"])
        want = dict(zip([o.name for o in model.graph.output], sess.run(None, case.feeds)))
    except Exception as e:  # noqa: BLE001 - the generator made an invalid graph: its bug
        return Verdict("invalid", case, f"generator bug: {type(e).__name__}: {str(e)[:300]}")
    if (why := _ill_conditioned(model, case.feeds)) is not None:
        return Verdict("illcond", case, why)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.onnx"
        path.write_bytes(model.SerializeToString())
        try:
            graph = convert(path, ConvertOptions(keep_nchw_io=case.keep_nchw_io))
            blob = write_model(graph)
        except EdgeliteError as e:
            return Verdict("refused", case, e.render()[:400])
        except Exception:  # noqa: BLE001
            return Verdict("crash", case, "convert: " + traceback.format_exc(limit=3)[-600:])
    layout = channels_last_io(graph.metadata.get(METADATA_KEY))
    feeds = {k: _to_last(v) if k in layout.inputs else v for k, v in case.feeds.items()}
    want = {k: _to_last(v) if k in layout.outputs else v for k, v in want.items()}
    verdict = Verdict("ok", case)
    problems: list[str] = []
    outputs: dict[str, dict[str, np.ndarray]] = {}
    for runtime in runtimes:
        try:
            got = _run_litert(blob, feeds) if runtime == "litert" else _run_micro(blob, feeds)
            outputs[runtime] = got
        except Exception as e:  # noqa: BLE001
            if runtime == "micro" and _known_micro_gap(str(e), blob):
                verdict.notes.append(f"micro refused (known gap): {str(e)[:160]}")
                continue
            verdict.status = "crash"
            problems.append(f"{runtime}: {type(e).__name__}: {str(e)[:400]}")
            continue
        problem = _compare(runtime, want, got, verdict.worst)
        if problem:
            if verdict.status == "ok":
                verdict.status = "mismatch"
            problems.append(problem)
    if verdict.status == "mismatch" and _reference_sides_with_us(model, case.feeds, layout,
                                                                 outputs):
        verdict.status = "oracles"
        problems.append("every runtime agrees with the ONNX reference evaluator (onnx.reference),"
                        " which ONNX Runtime does not: the two oracles disagree")
    verdict.detail = "\n    ".join(problems)
    return verdict


# Integer kernels runtime_micro does not have: it refuses such a model when loading it
# (EL_ERROR_UNSUPPORTED, naming the op and type), which is loud, not wrong. LiteRT runs them and
# is compared; runtime_micro is held only to refusing exactly these. The converter's registry
# declares the int dtypes for TFLite (LiteRT), so a converted integer graph may not run on
# runtime_micro / TFLite Micro: found by the fuzzer, left for the runtime (not a converter bug).
MICRO_INT_GAPS = {
    ("ABS", "INT32"), ("NEG", "INT32"), ("NEG", "INT64"), ("SIGN", "INT32"),
    ("SUM", "INT32"), ("SUM", "INT64"), ("REDUCE_MAX", "INT32"), ("REDUCE_MAX", "INT64"),
    ("REDUCE_MIN", "INT32"), ("REDUCE_MIN", "INT64"), ("ADD", "INT64"), ("SUB", "INT64"),
    ("MUL", "INT64"), ("MINIMUM", "INT64"), ("MAXIMUM", "INT64"), ("FLOOR_MOD", "INT64"),
    ("CUMSUM", "INT64"), ("DIV", "INT32"), ("DIV", "INT64"),
}


def _known_micro_gap(message: str, blob: bytes) -> bool:
    """runtime_micro's load error names an op; it is a known gap if that op has an integer
    tensor of a type MICRO_INT_GAPS lists for it."""
    import re

    m = re.search(r"op #(\d+) (\w+): ", message)
    if not m or "EL_ERROR_UNSUPPORTED" not in message:
        return False
    from edgelite.tflite.reader import read_model

    info = read_model(blob, "fuzz")
    sg = info.subgraphs[0]
    op = sg.operators[int(m.group(1))]
    types = {sg.tensors[i].type for i in [*op.inputs, *op.outputs] if i >= 0}
    return any((m.group(2), t) in MICRO_INT_GAPS for t in types)


# Ops that divide by a statistic of their input: on a (near-)constant slice they amplify the
# last-ulp differences of two float32 implementations' summation orders by up to
# 1/sqrt(epsilon) (316 for 1e-5); seeds 2954 and 10314 did so through runtime_micro's
# sequential MEAN, which sums as TFLite's reference kernel does. No tolerance relative to the
# output separates that from a bug, so such graphs are counted apart, not compared.
MIN_SLICE_SPREAD = 1e-3


def _ill_conditioned(model: onnx.ModelProto, feeds: dict[str, np.ndarray]) -> str | None:
    import onnxruntime as ort

    nodes = [n for n in model.graph.node
             if n.op_type in ("LayerNormalization", "InstanceNormalization", "LpNormalization")]
    if not nodes:
        return None
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    del probe.graph.output[:]
    names = [n.input[0] for n in nodes]
    probe.graph.output.extend(helper.make_tensor_value_info(v, TensorProto.FLOAT, None)
                              for v in dict.fromkeys(names))
    so = ort.SessionOptions()
    so.log_severity_level = 3
    sess = ort.InferenceSession(probe.SerializeToString(), so, providers=["CPUExecutionProvider"])
    values = dict(zip(dict.fromkeys(names), sess.run(None, feeds)))
    for n in nodes:
        x = values[n.input[0]].astype(np.float64)
        attrs = {a.name: helper.get_attribute_value(a) for a in n.attribute}
        if n.op_type == "LpNormalization":
            axis = int(attrs.get("axis", -1)) % x.ndim
            spread = np.abs(x).sum(axis=axis) if attrs.get("p", 2) == 1 else \
                np.sqrt((x * x).sum(axis=axis))
        else:
            first = 2 if n.op_type == "InstanceNormalization" else \
                int(attrs.get("axis", -1)) % x.ndim
            spread = x.std(axis=tuple(range(first, x.ndim)))
        if spread.size and float(spread.min()) < MIN_SLICE_SPREAD:
            return (f"{n.op_type} {n.name!r} normalizes a slice of spread "
                    f"{float(spread.min()):.2g}: float32 rounding amplified, not compared")
    return None


def _reference_sides_with_us(model: onnx.ModelProto, feeds: dict[str, np.ndarray], layout,
                             outputs: dict[str, dict[str, np.ndarray]]) -> bool:
    """ONNX Runtime is the oracle, but where the spec is ambiguous (Resize coordinate modes
    with fractional or length-1 outputs, cubic downsampling) it and the ONNX reference
    evaluator part ways, and the converter follows the reference (converter/ops/resize.py).
    True when every runtime's outputs agree with the reference within the tolerance."""
    from onnx.reference import ReferenceEvaluator

    try:
        ref = ReferenceEvaluator(model).run(None, feeds)
    except Exception:  # noqa: BLE001 - no second opinion
        return False
    names = [o.name for o in model.graph.output]
    want = {k: _to_last(v) if k in layout.outputs else v for k, v in zip(names, ref)}
    return bool(outputs) and all(_compare(rt, want, got, {}) is None
                                 for rt, got in outputs.items())


def _to_last(x: np.ndarray) -> np.ndarray:
    """NCHW (NCW, NCDHW) -> channels-last, as the converter moves a model's interface."""
    return np.ascontiguousarray(np.moveaxis(x, 1, -1))


def _compare(runtime: str, want: dict[str, np.ndarray], got: dict[str, np.ndarray],
             worst: dict[str, float]) -> str | None:
    """What is wrong with one runtime's outputs, or None."""
    for name, ref in want.items():
        out = got.get(name)
        if out is None or out.shape != ref.shape:
            return (f"{runtime}: output {name!r} shape {None if out is None else out.shape} "
                    f"!= ONNX Runtime's {ref.shape}")
        if ref.dtype.kind in "iub":
            if out.dtype != ref.dtype or not np.array_equal(out, ref):
                bad = np.flatnonzero(out.astype(np.int64) != ref.astype(np.int64))
                i = int(bad[0]) if bad.size else 0
                return (f"{runtime}: output {name!r} {out.dtype} differs from ONNX Runtime's "
                        f"{ref.dtype} at {bad.size} element(s), first at flat index {i}: got "
                        f"{out.reshape(-1)[i]}, ONNX Runtime {ref.reshape(-1)[i]}")
            continue
        ref_nan = np.isnan(ref)
        if not np.array_equal(ref_nan, np.isnan(out)):
            return f"{runtime}: output {name!r} NaN where ONNX Runtime has none (or the reverse)"
        diff = np.abs(np.where(ref_nan, 0, out - ref))
        err = float(np.max(diff, initial=0.0))
        tol = tolerance(np.where(ref_nan, 0, ref))
        worst[runtime] = max(worst.get(runtime, 0.0), err / tol)
        if not err <= tol:
            i = int(np.argmax(diff))
            return (f"{runtime}: output {name!r} max error {err:.3g} > {tol:.3g} (at flat index "
                    f"{i}: got {out.reshape(-1)[i]:.6g}, ONNX Runtime {ref.reshape(-1)[i]:.6g})")
    return None


def _run_litert(blob: bytes, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from ai_edge_litert.interpreter import Interpreter

    it = Interpreter(model_content=blob)
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], feeds[d["name"]])
    it.invoke()
    return {d["name"]: it.get_tensor(d["index"]) for d in it.get_output_details()}


def _run_micro(blob: bytes, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    from edgelite.runtime import Interpreter

    it = Interpreter(blob)
    for i, d in enumerate(it.inputs):
        it.set_input(i, feeds[d.name])
    it.invoke()
    return {d.name: it.get_output(i) for i, d in enumerate(it.outputs)}


# ---- hostile variants: mutations of valid models for the CLI's error handling ---------------

_HOSTILE_INTS = [0, -1, 1, 2, -2, 3, 7, 2**31, -2**31, 2**40, -2**40, 10**6]


def mutate_bytes(data: bytes, rng: np.random.Generator) -> bytes:
    """1-5 byte edits: set, flip a bit, delete a run, insert a run."""
    b = bytearray(data)
    for _ in range(int(rng.integers(1, 6))):
        p = int(rng.integers(len(b)))
        kind = int(rng.integers(4))
        if kind == 0:
            b[p] = int(rng.integers(256))
        elif kind == 1:
            b[p] ^= 1 << int(rng.integers(8))
        elif kind == 2:
            del b[p:p + int(rng.integers(1, 8))]
        else:
            b[p:p] = rng.integers(0, 256, int(rng.integers(1, 8))).astype(np.uint8).tobytes()
    return bytes(b)


def mutate_structure(model: onnx.ModelProto, rng: np.random.Generator) -> onnx.ModelProto:
    """1-2 edits a well-formed file can carry: an int/ints/float attribute, an int64
    initializer value (shapes, axes, pads), or an input dimension set to a hostile value."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    for _ in range(int(rng.integers(1, 3))):
        kind = int(rng.integers(3))
        if kind == 0:
            attrs = [a for n in m.graph.node for a in n.attribute
                     if a.type in (onnx.AttributeProto.INT, onnx.AttributeProto.INTS,
                                   onnx.AttributeProto.FLOAT)]
            if not attrs:
                continue
            a = attrs[int(rng.integers(len(attrs)))]
            if a.type == onnx.AttributeProto.INT:
                a.i = int(rng.choice(_HOSTILE_INTS))
            elif a.type == onnx.AttributeProto.INTS and len(a.ints):
                a.ints[int(rng.integers(len(a.ints)))] = int(rng.choice(_HOSTILE_INTS))
            elif a.type == onnx.AttributeProto.FLOAT:
                a.f = float(rng.choice([0.0, -1.0, 1e30, float("nan"), float("inf"), -5.0]))
        elif kind == 1:
            ints = [t for t in m.graph.initializer if t.data_type == TensorProto.INT64]
            if not ints:
                continue
            t = ints[int(rng.integers(len(ints)))]
            v = numpy_helper.to_array(t).copy()
            if v.size:
                v.flat[int(rng.integers(v.size))] = int(rng.choice(_HOSTILE_INTS))
                t.CopyFrom(numpy_helper.from_array(v, t.name))
        else:
            dims = m.graph.input[0].type.tensor_type.shape.dim
            dims[int(rng.integers(len(dims)))].dim_value = int(
                rng.choice([0, 1, 2, 5, 100, 2**20]))
    return m
