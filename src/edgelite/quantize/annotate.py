"""Turn a float IR graph and calibrated ranges into a quantized IR graph.

Modes (TFLite's post-training quantization flavours):

- ``int8``: full integer. Activations int8 asymmetric, weights int8 symmetric per channel
  (axis 0 for CONV_2D/FULLY_CONNECTED, 3 for DEPTHWISE_CONV_2D), biases int32.
- ``int16x8``: activations int16 symmetric, weights int8, biases int64.
- ``weights-int8`` (dynamic range): int8 weights, float activations. CONV_2D,
  DEPTHWISE_CONV_2D and FULLY_CONNECTED read them directly (TFLite's hybrid kernels, LiteRT
  only) when ``hybrid`` is set; every other large constant (and all of them without
  ``hybrid``: the form TFLite Micro runs) goes through a per-tensor DEQUANTIZE.
- ``float16``: float16 constants, each followed by a DEQUANTIZE to float32 (LiteRT only:
  TFLite Micro has no float16 DEQUANTIZE).

Per-op precision can be raised (``int16`` ops) or the op kept in float (``keep_float``): the
pass inserts QUANTIZE (requantize) / DEQUANTIZE ops where precisions meet, and at the model
I/O according to ``io``. Ops TFLite requires to share input/output parameters (pooling,
reshapes, CONCATENATION, ...) get one range for the whole tied group, as TFLite's converter
does; ops with fixed output parameters (SOFTMAX, LOGISTIC, TANH, ...) get them.

The float graph is not modified: the pass works on a copy and returns, for every tensor of the
copy, the name of the float tensor it approximates (for reports).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.quantize import params as P
from edgelite.tflite.ops import FREE, OPS, SAME, WEIGHTS, with_quant

MODES = ("int8", "int16x8", "weights-int8", "float16")
IO_TYPES = ("int8", "uint8", "float")

# Ops whose quantized kernels take weights: op -> (weight input, per-channel axis, bias input).
# These and the families below come from the op table (edgelite/tflite/ops.py, `quant`).
WEIGHT_OPS = {name: op.weights for name, op in OPS.items() if op.quant == WEIGHTS}
# The data input of a weight op, where it is not input 0.
DATA_INPUT = {"TRANSPOSE_CONV": 2}
# Ops whose float data inputs and outputs must share one scale/zero point (TFLite kernels
# check it, or TFLite's converter enforces it).
SAME_PARAMS = with_quant(SAME)
# Ops whose quantized kernels rescale freely between input and output parameters (see the op
# table for which stay float and why).
FREE_PARAMS = with_quant(FREE)
# Fixed output parameters (scale, zero point) TFLite's kernels require, per storage type.
FIXED_OUTPUT: dict[str, dict[str, tuple[float, int]]] = {
    kind: {name: op.fixed_output[kind] for name, op in OPS.items()
           if op.fixed_output and kind in op.fixed_output}
    for kind in ("int8", "int16")
}
# Ops with no int16 kernel in LiteRT or TFLite Micro: in int16x8 mode they run int8 (with a
# note); asking for them explicitly in int16 is an error.
NO_INT16 = frozenset(name for name, op in OPS.items() if not op.int16)
QUANTIZABLE = frozenset(WEIGHT_OPS) | SAME_PARAMS | FREE_PARAMS | frozenset(FIXED_OUTPUT["int8"])

HYBRID_OPS = frozenset({"CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"})
# TFLite's dynamic-range quantizer leaves small constants (biases, scalars) in float.
MIN_WEIGHT_ELEMENTS = 1024

Range = tuple[float, float]


@dataclass(frozen=True)
class AnnotateConfig:
    mode: str = "int8"
    io: str = "int8"
    keep_float: frozenset[str] = frozenset()  # op names or output tensor names
    int16: frozenset[str] = frozenset()  # ops computed in int16x8 inside an int8 model
    per_channel: bool = True
    hybrid: bool = False  # weights-int8: TFLite's hybrid kernels (LiteRT only) where they exist
    strict: bool = False  # unquantizable ops are an error instead of staying float
    bias_correction: bool = False  # needs channel means (annotate's ``means``)
    adaround: bool = False  # needs input second moments (annotate's ``moments``)

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise EdgeliteError(f"unknown quantization mode {self.mode!r}",
                                hint=f"use one of: {', '.join(MODES)}")
        if self.io not in IO_TYPES:
            raise EdgeliteError(f"unknown io type {self.io!r}",
                                hint=f"use one of: {', '.join(IO_TYPES)}")


@dataclass
class Annotated:
    graph: ir.Graph
    source: dict[int, str]  # id(tensor in graph) -> name of the float tensor it stands for
    precision: dict[str, str]  # op key -> "int8" | "int16" | "float"
    notes: list[str] = field(default_factory=list)
    corrected: list[str] = field(default_factory=list)  # ops whose bias was corrected

    def source_of(self, t: ir.Tensor) -> str | None:
        return self.source.get(id(t))


def op_key(op: ir.Op) -> str:
    """How reports and selective precision name an op: its node name, else its first output."""
    return op.name or (op.outputs[0].name if op.outputs else op.type)


# ---- copying -------------------------------------------------------------------------------

def clone(graph: ir.Graph) -> tuple[ir.Graph, dict[int, ir.Tensor]]:
    """A structural copy (new Tensor/Op objects, constant data shared read-only)."""
    tmap: dict[int, ir.Tensor] = {}

    def cp(t: ir.Tensor | None) -> ir.Tensor | None:
        if t is None:
            return None
        if id(t) not in tmap:
            n = ir.Tensor(t.name, t.shape, t.dtype, None, t.quant)
            n.data = t.data  # skip the re-validation copy
            n.sparse = t.sparse
            tmap[id(t)] = n
        return tmap[id(t)]

    g = ir.Graph(inputs=[cp(t) for t in graph.inputs], outputs=[], ops=[], name=graph.name,
                 metadata=dict(graph.metadata))
    for op in graph.ops:
        g.ops.append(ir.Op(op.type, [cp(t) for t in op.inputs], [cp(t) for t in op.outputs],
                           dict(op.options), op.name))
    g.outputs = [cp(t) for t in graph.outputs]
    return g, tmap


class _Names:
    def __init__(self, graph: ir.Graph) -> None:
        self.used = {t.name for t in graph.tensors()}

    def new(self, base: str) -> str:
        name, i = base, 1
        while name in self.used:
            name = f"{base}_{i}"
            i += 1
        self.used.add(name)
        return name


def _is_float_act(t: ir.Tensor | None) -> bool:
    return t is not None and not t.is_const and t.dtype == "float32"


def _is_float_const(t: ir.Tensor | None) -> bool:
    return t is not None and t.is_const and t.dtype == "float32"


# ---- the pass ------------------------------------------------------------------------------

def annotate(graph: ir.Graph, ranges: dict[str, Range], config: AnnotateConfig,
             means: dict[str, np.ndarray] | None = None,
             moments: dict[str, np.ndarray] | None = None) -> Annotated:
    """Quantize ``graph`` (not modified) with ``ranges`` (float tensor name -> (min, max));
    ``means`` (float tensor name -> per-channel mean) for ``config.bias_correction``."""
    _check_names(graph, config)
    if config.mode == "float16":
        return _float16(graph)
    if config.mode == "weights-int8":
        return _dynamic_range(graph, config)
    return _Integer(graph, ranges, config, means or {}, moments or {}).run()


def _check_names(graph: ir.Graph, config: AnnotateConfig) -> None:
    names = [t.name for t in graph.tensors()]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise EdgeliteError(f"tensor names are not unique: {', '.join(dup[:5])}",
                            code=Code.INTERNAL)
    known = {op_key(op) for op in graph.ops} | {t.name for op in graph.ops for t in op.outputs}
    for what, chosen in (("keep-float", config.keep_float), ("int16", config.int16)):
        unknown = sorted(set(chosen) - known)
        if unknown:
            sample = ", ".join(sorted({op_key(op) for op in graph.ops})[:12])
            raise EdgeliteError(f"{what}: no op named {', '.join(map(repr, unknown))}",
                                hint=f"ops are named by ONNX node or output tensor, e.g. {sample}")
    both = sorted(set(config.keep_float) & set(config.int16))
    if both:
        raise EdgeliteError(f"ops both kept float and int16: {', '.join(both)}")


def _selected(op: ir.Op, names: Iterable[str]) -> bool:
    names = set(names)
    return op_key(op) in names or any(t.name in names for t in op.outputs)


# A multi-input op that shares parameters (CONCATENATION, ...) requantizes an input whose
# range is this many times narrower than the widest input's instead of widening its producer.
NARROW_RATIO = 4.0


class _Integer:
    """int8 / int16x8 full-integer quantization with selective precision."""

    def __init__(self, graph: ir.Graph, ranges: dict[str, Range], config: AnnotateConfig,
                 means: dict[str, np.ndarray] | None = None,
                 moments: dict[str, np.ndarray] | None = None):
        self.float_graph = graph
        self.ranges = ranges
        self.means = means or {}
        self.moments = moments or {}
        self.flipped: dict[str, int] = {}  # op key -> weights AdaRound rounded the other way
        self.corrected: list[str] = []  # ops whose bias was corrected
        self.cfg = config
        self.base = "int16" if config.mode == "int16x8" else "int8"
        self.g, _ = clone(graph)
        self.names = _Names(self.g)
        self.source: dict[int, str] = {id(t): t.name for t in self.g.tensors()}
        self.domain: dict[int, str] = {}  # id(activation) -> "float"|"int8"|"int16"|"uint8"
        self.views: dict[tuple[int, str], ir.Tensor] = {}
        self.precision: dict[str, str] = {}
        self.notes: list[str] = []
        self.fixed: dict[int, tuple[float, int]] = {}
        self.parent: dict[int, int] = {}  # union-find over tensors sharing parameters
        self.by_id: dict[int, ir.Tensor] = {}

    # -- precision ---------------------------------------------------------------------------
    def _op_precision(self, op: ir.Op) -> str:
        if _selected(op, self.cfg.keep_float):
            return "float"
        if not any(_is_float_act(t) or _is_float_const(t) for t in op.inputs) and \
                not any(t.dtype == "float32" for t in op.outputs):
            return "none"  # integer-only op (shape arithmetic): untouched
        if op.type not in QUANTIZABLE:
            msg = f"{op.type} [{op_key(op)}] has no quantized kernel in edgelite: kept float"
            if self.cfg.strict:
                raise EdgeliteError(msg.replace(": kept float", ""), code=Code.UNSUPPORTED,
                                    where=op_key(op), hint="keep it float with keep_float")
            self.notes.append(msg)
            return "float"
        spec = WEIGHT_OPS.get(op.type)
        if spec is not None and not _is_float_const(op.inputs[spec[0]]):
            msg = f"{op.type} [{op_key(op)}] has non-constant weights: kept float"
            if self.cfg.strict:
                raise EdgeliteError(msg.replace(": kept float", ""), code=Code.UNSUPPORTED,
                                    where=op_key(op), hint="keep it float with keep_float")
            self.notes.append(msg)
            return "float"
        if _selected(op, self.cfg.int16):
            if op.type in NO_INT16:
                raise EdgeliteError(f"{op.type} has no int16 kernel in LiteRT/TFLite Micro",
                                    code=Code.UNSUPPORTED, where=op_key(op),
                                    hint="keep this op int8 or float")
            return "int16"
        if self.base == "int16":
            if op.type in NO_INT16:
                self.notes.append(f"{op.type} [{op_key(op)}] has no int16 kernel: runs int8")
                return "int8"
            return "int16"
        return "int8"

    # -- views (conversions between storage domains) -------------------------------------------
    def _view(self, t: ir.Tensor, target: str, before: list[ir.Op]) -> ir.Tensor:
        dom = self.domain.get(id(t), "float")
        if dom == target:
            return t
        key = (id(t), target)
        if key in self.views:
            return self.views[key]
        if dom == "uint8" and target == "int16":
            t = self._view(t, "int8", before)
            dom = "int8"
        suffix = {"float": "float", "int8": "int8", "int16": "int16", "uint8": "uint8"}[target]
        v = ir.Tensor(self.names.new(f"{t.name}_{suffix}"), t.shape, "float32")
        self.source[id(v)] = self.source.get(id(t), t.name)
        self.domain[id(v)] = target
        self.by_id[id(v)] = v
        op_type = "DEQUANTIZE" if target == "float" else "QUANTIZE"
        before.append(ir.Op(op_type, [t], [v], {}, name=f"{v.name}"))
        self.views[key] = v
        return v

    # -- union-find --------------------------------------------------------------------------
    def _find(self, a: int) -> int:
        while self.parent.get(a, a) != a:
            a = self.parent[a]
        return a

    def _union(self, a: ir.Tensor, b: ir.Tensor) -> None:
        ra, rb = self._find(id(a)), self._find(id(b))
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)

    # -- run ---------------------------------------------------------------------------------
    def run(self) -> Annotated:
        g = self.g
        for t in g.tensors():
            self.by_id[id(t)] = t
        in_dom = {"int8": self.base, "uint8": "uint8", "float": "float"}[self.cfg.io]
        if self.cfg.io == "uint8" and self.base == "int16":
            raise EdgeliteError("uint8 model I/O needs int8 activations",
                                hint="use io int8 or float with int16x8")
        for t in g.inputs:
            self.domain[id(t)] = in_dom

        new_ops: list[ir.Op] = []
        for op in g.ops:
            prec = self._op_precision(op)
            # Ops lowered from one node share its key: an integer-only helper op ("none")
            # must not hide the precision of the node's main op.
            if prec != "none" or op_key(op) not in self.precision:
                self.precision[op_key(op)] = prec
            if prec == "none":
                new_ops.append(op)
                continue
            before: list[ir.Op] = []
            act_target = prec
            for i, t in enumerate(op.inputs):
                if _is_float_act(t):
                    op.inputs[i] = self._view(t, act_target, before)
            if prec != "float" and op.type in SAME_PARAMS:
                self._requantize_fixed_inputs(op, prec, before)
            for t in op.outputs:
                if t.dtype == "float32":
                    self.domain[id(t)] = prec
            new_ops.extend(before)
            new_ops.append(op)
            if prec != "float":
                self._tie(op, prec)
        g.ops = new_ops
        self._outputs()
        self._assign_params()
        for op in list(g.ops):
            prec = self.precision.get(op_key(op))
            if prec in ("int8", "int16"):
                self._quantize_constants(op, prec)
        g.validate()
        if self.cfg.adaround:
            self.notes.append(f"adaround: {sum(self.flipped.values())} weights of "
                              f"{len(self.flipped)} layer(s) rounded away from nearest")
        return Annotated(g, self.source, self.precision, self.notes, self.corrected)

    def _requantize_fixed_inputs(self, op: ir.Op, prec: str, before: list[ir.Op]) -> None:
        """Inputs of a multi-input op that shares parameters (CONCATENATION, MAXIMUM, ...)
        get their own requantize when sharing would hurt them:

        - a SOFTMAX/LOGISTIC/TANH output (or a reshape/transpose of one: anything tied to
          it), so its fixed parameters do not clip the other inputs (TFLite's converter does
          the same);
        - an input whose calibrated range is NARROW_RATIO times narrower than the widest
          input's: tied, its producer would take the joined range and lose that many steps
          of resolution (sigmoid scores beside box coordinates in a detector head).
        """
        acts = [i for i, t in enumerate(op.inputs) if t is not None and not t.is_const]
        if len(acts) < 2:
            return
        widths = {i: self._width(op.inputs[i]) for i in acts}
        widest = max(widths.values())
        for i in acts:
            t = op.inputs[i]
            narrow = widths[i] * NARROW_RATIO < widest
            if not (self._group_fixed(t) or narrow):
                continue
            v = ir.Tensor(self.names.new(f"{t.name}_requant"), t.shape, "float32")
            self.source[id(v)] = self.source.get(id(t), t.name)
            self.domain[id(v)] = prec
            self.by_id[id(v)] = v
            before.append(ir.Op("QUANTIZE", [t], [v], {}, name=v.name))
            op.inputs[i] = v

    def _width(self, t: ir.Tensor) -> float:
        lo, hi = self._range_of(t)
        return max(hi, 0.0) - min(lo, 0.0)

    def _group_fixed(self, t: ir.Tensor) -> bool:
        """Whether ``t`` shares its parameters with a fixed-parameter output."""
        root = self._find(id(t))
        return any(self._find(f) == root for f in self.fixed)

    def _tie(self, op: ir.Op, prec: str) -> None:
        acts = [t for t in op.inputs if t is not None and not t.is_const
                and self.domain.get(id(t)) == prec]
        outs = [t for t in op.outputs if self.domain.get(id(t)) == prec]
        if op.type in SAME_PARAMS and outs:
            for t in acts + outs[1:]:
                self._union(outs[0], t)
        fixed = FIXED_OUTPUT[prec].get(op.type)
        if fixed is not None:
            for t in outs:
                self.fixed[id(t)] = fixed

    def _outputs(self) -> None:
        """Convert graph outputs to the requested io type, keeping their names."""
        g, target = self.g, {"int8": self.base, "uint8": "uint8", "float": "float"}[self.cfg.io]
        tail: list[ir.Op] = []
        outs = []
        for t in g.outputs:
            if t.is_const or t.dtype != "float32" or self.domain.get(id(t), "float") == target:
                outs.append(t)
                continue
            steps = [target]
            if target == "uint8" and self.domain.get(id(t)) != "int8":
                steps = ["int8", "uint8"]
            v = t
            for step in steps:
                v = self._view(v, step, tail)
            # The model's output keeps the float model's name; the internal tensor is renamed.
            internal_name, public_name = t.name, v.name
            t.name, v.name = self.names.new(f"{internal_name}_q"), internal_name
            del public_name
            outs.append(v)
        g.ops.extend(tail)
        g.outputs = outs

    def _range_of(self, t: ir.Tensor, whole: bool = False) -> Range:
        """``t``'s calibrated range; ``whole``: the min/max it took, when the calibration kept
        it (calibrate.Ranges: for int16 tensors, which need no clipped tails)."""
        name = self.source.get(id(t), t.name)
        if name not in self.ranges:
            raise EdgeliteError(f"no calibrated range for tensor {name!r}", code=Code.INTERNAL)
        full = getattr(self.ranges, "full", {})
        lo, hi = full[name] if whole and name in full else self.ranges[name]
        return float(lo), float(hi)

    def _assign_params(self) -> None:
        groups: dict[int, list[ir.Tensor]] = {}
        for tid, dom in self.domain.items():
            if dom in ("int8", "int16", "uint8"):
                groups.setdefault(self._find(tid), []).append(self.by_id[tid])
        for members in groups.values():
            dom = self.domain[id(members[0])]
            fixed = {self.fixed[id(t)] for t in members if id(t) in self.fixed}
            if len(fixed) > 1:
                raise EdgeliteError(
                    "tensors that must share quantization parameters have different fixed "
                    f"parameters: {', '.join(t.name for t in members)}", code=Code.UNSUPPORTED,
                    hint="keep one of the ops producing them float")
            if fixed:
                scale, zp = next(iter(fixed))
                if dom == "uint8":
                    zp += 128
                qp = ir.QuantParams(np.array([scale], np.float32), np.array([zp]))
            else:
                rs = [self._range_of(t, whole=dom == "int16") for t in members]
                lo, hi = min(r[0] for r in rs), max(r[1] for r in rs)
                qp = {"int8": P.activation_params_int8, "int16": P.activation_params_int16,
                      "uint8": _uint8_params}[dom](lo, hi)
            for t in members:
                t.dtype = dom
                t.quant = ir.QuantParams(qp.scale.copy(), qp.zero_point.copy())

    # -- constants ---------------------------------------------------------------------------
    def _new_const(self, like: ir.Tensor, data: np.ndarray, qp: ir.QuantParams | None,
                   suffix: str) -> ir.Tensor:
        t = ir.Tensor(self.names.new(f"{like.name}_{suffix}"), like.shape, str(data.dtype),
                      data=data, quant=qp)
        t.sparse = like.sparse  # pruned weights stay pruned (zeros quantize to zero)
        self.source[id(t)] = self.source.get(id(like), like.name)
        return t

    def _quantize_constants(self, op: ir.Op, prec: str) -> None:
        spec = WEIGHT_OPS.get(op.type)
        if spec is not None:
            wi, axis, bi = spec
            x, w = op.inputs[DATA_INPUT.get(op.type, 0)], op.inputs[wi]
            if w is None or not _is_float_const(w):
                raise EdgeliteError(f"{op.type} weights must be a float constant",
                                    code=Code.UNSUPPORTED, where=op_key(op),
                                    hint="keep this op float")
            per_axis = axis if self.cfg.per_channel else None
            b = op.inputs[bi] if bi < len(op.inputs) else None
            b = b if _is_float_const(b) else None
            if _is_float_const(x):
                # A constant data input (an unrolled GRU/LSTM's zero initial state times its
                # recurrent weights): stored like an activation of this precision.
                x = op.inputs[0] = self._activation_const(x, prec)
            in_scale = float(x.quant.scale[0])
            absmax = P.weight_absmax(w.data, per_axis)
            if b is not None:
                # int8: TFLite's bias-overflow guard. int16x8 (int64 bias) needs it too where a
                # near-zero weight channel (a pruned one, |w| ~ 1e-14) would make the bias
                # scale underflow float32 and its 1/scale overflow: the bias would saturate.
                absmax = P.bias_safe_absmax(absmax, b.data, in_scale)
            qw, wqp = P.quantize_weights_int8(w.data, per_axis, absmax)
            if self.cfg.adaround:
                qw = self._adaptive_rounding(op, w, qw, wqp)
            op.inputs[wi] = self._new_const(w, qw, wqp, "int8")
            if b is not None and self.cfg.bias_correction:
                b = self._corrected_bias(op, w, qw, wqp, b)
            if b is not None:
                bias_dtype = "int64" if prec == "int16" else "int32"
                qb, bqp = P.quantize_bias(b.data, in_scale, wqp.scale, bias_dtype)
                op.inputs[bi] = self._new_const(b, qb, bqp, bias_dtype)
        tied = op.type in SAME_PARAMS
        for i, t in enumerate(op.inputs):
            if not _is_float_const(t):
                continue
            if tied and op.outputs and op.outputs[0].quant is not None:
                qp = op.outputs[0].quant
                q = P.quantize_values(t.data, qp, op.outputs[0].dtype)
                op.inputs[i] = self._new_const(t, q, ir.QuantParams(qp.scale, qp.zero_point),
                                               prec)
            elif prec == "int16":
                q, qp = P.quantize_weights_int16(t.data)
                op.inputs[i] = self._new_const(t, q, qp, "int16")
            else:
                lo, hi = (float(t.data.min()), float(t.data.max())) if t.size else (0.0, 0.0)
                qp = P.activation_params_int8(lo, hi)
                op.inputs[i] = self._new_const(t, P.quantize_values(t.data, qp, "int8"), qp,
                                               "int8")


    def _adaptive_rounding(self, op: ir.Op, w: ir.Tensor, qw: np.ndarray,
                           wqp: ir.QuantParams) -> np.ndarray:
        """AdaRound-style rounding (adaround.py) for CONV_2D / FULLY_CONNECTED weights with
        per-output-channel scales and a calibrated input second moment; else unchanged."""
        from edgelite.quantize.adaround import round_weights

        if op.type not in ("CONV_2D", "FULLY_CONNECTED") or wqp.axis != 0 or \
                wqp.scale.size != w.shape[0]:
            return qw
        moment = self.moments.get(self.source.get(id(op.inputs[0]), op.inputs[0].name))
        if moment is None or moment.shape != (w.shape[-1], w.shape[-1]):
            return qw
        q = round_weights(w.data, wqp.scale, moment)
        self.flipped[op_key(op)] = int(np.count_nonzero(q != qw))
        return q

    def _corrected_bias(self, op: ir.Op, w: ir.Tensor, qw: np.ndarray, wqp: ir.QuantParams,
                        b: ir.Tensor) -> ir.Tensor:
        """The float bias minus the output shift the weight rounding causes (bias_correction.py)."""
        from edgelite.quantize.bias_correction import correction

        mean = self.means.get(self.source.get(id(op.inputs[0]), op.inputs[0].name))
        if mean is None:
            return b
        shift = correction(op.type, w.data, P.dequantize_values(qw, wqp, wqp.axis), mean)
        if shift is None or shift.shape != b.data.shape:
            return b
        self.corrected.append(op_key(op))
        fixed = (b.data.astype(np.float64) - shift).astype(np.float32)
        return ir.Tensor(b.name, b.shape, "float32", data=fixed)

    def _activation_const(self, t: ir.Tensor, prec: str) -> ir.Tensor:
        lo, hi = (float(t.data.min()), float(t.data.max())) if t.size else (0.0, 0.0)
        qp = (P.activation_params_int16 if prec == "int16" else P.activation_params_int8)(lo, hi)
        return self._new_const(t, P.quantize_values(t.data, qp, prec), qp, prec)


def _uint8_params(lo: float, hi: float) -> ir.QuantParams:
    # TFLite's uint8 I/O: the int8 parameters with the zero point moved by 128.
    qp = P.activation_params_int8(lo, hi)
    return ir.QuantParams(qp.scale, qp.zero_point + 128)


# ---- weight-only modes ---------------------------------------------------------------------

def _dequantize_const(g: ir.Graph, names: _Names, source: dict[int, str], op: ir.Op, i: int,
                      data: np.ndarray, qp: ir.QuantParams | None, before: list[ir.Op]) -> None:
    t = op.inputs[i]
    c = ir.Tensor(names.new(f"{t.name}_{data.dtype}"), t.shape, str(data.dtype), data=data,
                  quant=qp)
    c.sparse = t.sparse
    f = ir.Tensor(names.new(f"{t.name}_dequant"), t.shape, "float32")
    source[id(c)] = source[id(f)] = t.name
    before.append(ir.Op("DEQUANTIZE", [c], [f], {}, name=f.name))
    op.inputs[i] = f


def _float16(graph: ir.Graph) -> Annotated:
    g, _ = clone(graph)
    names = _Names(g)
    source = {id(t): t.name for t in g.tensors()}
    new_ops: list[ir.Op] = []
    cache: dict[int, ir.Tensor] = {}
    for op in g.ops:
        before: list[ir.Op] = []
        for i, t in enumerate(op.inputs):
            if _is_float_const(t) and op.type != "DEQUANTIZE":
                if id(t) in cache:
                    op.inputs[i] = cache[id(t)]
                    continue
                _dequantize_const(g, names, source, op, i, t.data.astype(np.float16), None,
                                  before)
                cache[id(t)] = op.inputs[i]
        new_ops.extend(before)
        new_ops.append(op)
    g.ops = new_ops
    g.validate()
    return Annotated(g, source, {op_key(op): "float16" for op in graph.ops})


def _dynamic_range(graph: ir.Graph, config: AnnotateConfig) -> Annotated:
    g, _ = clone(graph)
    names = _Names(g)
    source = {id(t): t.name for t in g.tensors()}
    precision: dict[str, str] = {}
    new_ops: list[ir.Op] = []
    for op in g.ops:
        before: list[ir.Op] = []
        keep = _selected(op, config.keep_float)
        precision[op_key(op)] = "float" if keep else "weights-int8"
        spec = WEIGHT_OPS.get(op.type)
        for i, t in enumerate(op.inputs):
            if keep or not _is_float_const(t) or t.size < MIN_WEIGHT_ELEMENTS:
                continue
            if spec is not None and i == spec[0] and config.hybrid and op.type in HYBRID_OPS:
                # Hybrid conv kernels take per-channel weights, hybrid FULLY_CONNECTED
                # per-tensor ones.
                per_ch = config.per_channel and op.type != "FULLY_CONNECTED"
                q, qp = P.quantize_weights_int8(t.data, spec[1] if per_ch else None)
                c = ir.Tensor(names.new(f"{t.name}_int8"), t.shape, "int8", data=q, quant=qp)
                c.sparse = t.sparse
                source[id(c)] = t.name
                op.inputs[i] = c
            else:
                # Per-tensor: TFLite Micro's DEQUANTIZE applies only the first scale.
                q, qp = P.quantize_weights_int8(t.data, None)
                _dequantize_const(g, names, source, op, i, q, qp, before)
        new_ops.extend(before)
        new_ops.append(op)
    g.ops = new_ops
    g.validate()
    return Annotated(g, source, precision)
