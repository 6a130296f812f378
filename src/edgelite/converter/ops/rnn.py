"""RNN, GRU and LSTM, unrolled over their (static) sequence length.

Every time step becomes plain ops (FULLY_CONNECTED, ADD, MUL, SPLIT, LOGISTIC, TANH...), so
the result runs anywhere those run (TFLite Micro included) and quantizes like any other graph.
The input projection of all steps is one FULLY_CONNECTED; each step adds the recurrent
projection of the previous hidden state. Gate orders follow ONNX: LSTM i, o, f, c; GRU z, r, h.
"""

from __future__ import annotations

import re

import numpy as np
import onnx

from edgelite import ir
from edgelite.converter.ops._util import binary, emit, i32, reshape_to
from edgelite.converter.ops.activation import clamp
from edgelite.converter.ops.matmul import fully_connected
from edgelite.converter.ops.registry import LoweringContext, register

_FUSED = {"fused_activation_function": "NONE"}
_ACTIVATIONS = {"Sigmoid": "LOGISTIC", "Tanh": "TANH", "Relu": "RELU"}
_DEFAULTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}
_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


class _Cell:
    """What one direction of one node needs at every step."""

    def __init__(self, ctx: LoweringContext, node: onnx.NodeProto, d: int, hidden: int,
                 acts: list[str]) -> None:
        self.ctx, self.node, self.hidden, self.acts = ctx, node, hidden, acts
        self.base = f"{node.output[0] or node.name}_d{d}"
        self.clip = ctx.attr(node, "clip")

    def act(self, k: int, x: ir.Tensor, tag: str, clip: bool = True) -> ir.Tensor:
        # clip bounds gate pre-activations (as ONNX Runtime does; the cell state feeding the
        # output activation is not clipped).
        if clip and self.clip is not None:
            x = clamp(self.ctx, x, -float(self.clip), float(self.clip), f"{self.base}_{tag}_clip")
        return self.ctx.unary(_ACTIVATIONS[self.acts[k]], x, base=f"{self.base}_{tag}")

    def split(self, x: ir.Tensor, parts: int, tag: str) -> list[ir.Tensor]:
        batch = x.shape[0]
        outs = [self.ctx.tensor(f"{self.base}_{tag}{i}", (batch, self.hidden))
                for i in range(parts)]
        self.ctx.add_op("SPLIT", [i32(self.ctx, f"{self.base}_{tag}_axis", 1), x], outs,
                        {"num_splits": parts})
        return outs

    def add(self, a: ir.Tensor, b: ir.Tensor, tag: str) -> ir.Tensor:
        return binary(self.ctx, "ADD", a, b, _FUSED, base=f"{self.base}_{tag}")

    def mul(self, a: ir.Tensor, b: ir.Tensor, tag: str) -> ir.Tensor:
        return binary(self.ctx, "MUL", a, b, _FUSED, base=f"{self.base}_{tag}")


def _activations(ctx: LoweringContext, node: onnx.NodeProto, dirs: int) -> list[list[str]]:
    per = len(_DEFAULTS[node.op_type])
    names = ctx.attr(node, "activations") or _DEFAULTS[node.op_type] * dirs
    if len(names) != per * dirs:
        raise ctx.unsupported(node, f"{len(names)} activations for {dirs} direction(s)")
    if ctx.attr(node, "activation_alpha") or ctx.attr(node, "activation_beta"):
        raise ctx.unsupported(node, "activation_alpha/beta are not supported")
    bad = sorted({a for a in names if a not in _ACTIVATIONS})
    if bad:
        raise ctx.unsupported(node, f"activations {bad} are not supported "
                                    f"(supported: {', '.join(_ACTIVATIONS)})")
    return [list(names[i * per:(i + 1) * per]) for i in range(dirs)]


def _lower_recurrent(ctx: LoweringContext, node: onnx.NodeProto) -> None:
    op = node.op_type
    x = ctx.input(node, 0)
    if len(x.shape) != 3:
        raise ctx.unsupported(node, f"input must be 3-D, got {x.shape}")
    layout = int(ctx.attr(node, "layout", 0))
    if layout:
        x = ctx.transpose(x, (1, 0, 2))  # (batch, seq, in) -> (seq, batch, in)
    seq, batch, _ = x.shape
    direction = ctx.attr(node, "direction", "forward")
    dirs = 2 if direction == "bidirectional" else 1
    hidden = int(ctx.attr(node, "hidden_size"))
    gates = _GATES[op]
    if ctx.has_input(node, 4):
        lens = np.asarray(ctx.const(node, 4)).reshape(-1)
        if np.any(lens != seq):
            raise ctx.unsupported(node, "sequence_lens shorter than the sequence are not "
                                        "supported")
    if op == "LSTM" and ctx.attr(node, "input_forget", 0):
        raise ctx.unsupported(node, "input_forget=1 is not supported")
    w = np.asarray(ctx.const(node, 1), np.float32)
    r = np.asarray(ctx.const(node, 2), np.float32)
    b = (np.asarray(ctx.const(node, 3), np.float32) if ctx.has_input(node, 3)
         else np.zeros((dirs, 2 * gates * hidden), np.float32))
    peep = (np.asarray(ctx.const(node, 7), np.float32) if op == "LSTM" and ctx.has_input(node, 7)
            else None)
    acts = _activations(ctx, node, dirs)
    base = node.output[0] or node.name
    flat_x = ctx.reshape(x, (seq * batch, x.shape[2]))
    init = {}
    for k, idx in (("h", 5), ("c", 6)):
        if ctx.has_input(node, idx) and (k == "h" or op == "LSTM"):
            init[k] = ctx.input(node, idx)
    ys, last_h, last_c = [], [], []
    for d in range(dirs):
        cell = _Cell(ctx, node, d, hidden, acts[d])
        reverse = direction == "reverse" or d == 1
        wb, rb = b[d, :gates * hidden], b[d, gates * hidden:]
        # GRU's h gate keeps its recurrent bias apart (it may sit inside the reset product).
        in_bias = wb + rb if op != "GRU" else wb + np.concatenate([rb[:2 * hidden],
                                                                    np.zeros(hidden, np.float32)])
        proj = fully_connected(ctx, flat_x, w[d], in_bias, f"{cell.base}_xproj")
        h = _initial(ctx, init.get("h"), d, batch, hidden, f"{cell.base}_h_init")
        c = (_initial(ctx, init.get("c"), d, batch, hidden, f"{cell.base}_c_init")
             if op == "LSTM" else None)
        steps: dict[int, ir.Tensor] = {}
        quantities: dict[str, list[str]] = {}
        for t in (range(seq - 1, -1, -1) if reverse else range(seq)):
            first_op = len(ctx.graph.ops)
            xt = emit(ctx, "SLICE", [proj, i32(ctx, f"{cell.base}_t{t}_begin", [t * batch, 0]),
                                     i32(ctx, f"{cell.base}_t{t}_size", [batch, gates * hidden])],
                      (batch, gates * hidden), base=f"{cell.base}_x{t}")
            if op == "RNN":
                pre = xt if _zero(h) else cell.add(
                    xt, fully_connected(ctx, h, r[d], None, f"{cell.base}_hr{t}"), f"pre{t}")
                h = cell.act(0, pre, f"h{t}")
            elif op == "GRU":
                h = _gru_step(ctx, node, cell, xt, h, r[d], rb[2 * hidden:], t)
            else:
                h, c = _lstm_step(cell, xt, h, c, r[d], None if peep is None else peep[d], t)
            steps[t] = h
            for step_op in ctx.graph.ops[first_op:]:
                for out in step_op.outputs:
                    if out.name.startswith(f"{cell.base}_"):
                        quantities.setdefault(_quantity(out.name, cell.base, t),
                                              []).append(out.name)
        ctx.graph.range_groups.extend(names for names in quantities.values() if len(names) > 1)
        ys.append([steps[t] for t in range(seq)])
        last_h.append(h)
        last_c.append(c)
    _bind_outputs(ctx, node, ys, last_h, last_c, seq, batch, hidden, layout, base)


def _quantity(name: str, base: str, t: int) -> str:
    """What a step's tensor is, the step left out: "<base>_zpre3" and "<base>_zpre4" are both
    "zpre#", "<base>_xg3_1" is "xg#_1" (tags carry the step right after their letters).

    One quantity's range is then taken over every step (calibrate each step alone and a few
    samples leave each step's range short of what new inputs reach: the GRU + LSTM of
    benchmarks/quant_accuracy.py clipped by 15-30 % on held-out sequences)."""
    return re.sub(rf"^([a-z]+){t}(?=_|$)", r"\1#", name[len(base) + 1:], count=1)


def _initial(ctx: LoweringContext, given: ir.Tensor | None, d: int, batch: int, hidden: int,
             name: str) -> ir.Tensor:
    if given is None:
        return ctx.constant(name, np.zeros((batch, hidden), np.float32))
    if given.is_const:
        return ctx.constant(name, given.data[d])
    part = emit(ctx, "SLICE", [given, i32(ctx, f"{name}_begin", [d, 0, 0]),
                               i32(ctx, f"{name}_size", [1, batch, hidden])],
                (1, batch, hidden), base=f"{name}_s")
    return ctx.reshape(part, (batch, hidden))


def _zero(t: ir.Tensor | None) -> bool:
    """A state known to be zero (the default initial state, or a constant one of zeros).

    The first step then skips the products with it. Written out, they would be constant
    tensors of zeros in the graph (recurrent projections of nothing, h - cand with h = 0)
    whose ranges are empty: quantizing them gives scales that no requantization can follow
    (int8 ADD's and int16 FULLY_CONNECTED's multiplier limits)."""
    return t is not None and t.is_const and not np.any(t.data)


def _gru_step(ctx: LoweringContext, node: onnx.NodeProto, cell: _Cell, xt: ir.Tensor,
              h: ir.Tensor, r: np.ndarray, rbh: np.ndarray, t: int) -> ir.Tensor:
    hid = cell.hidden
    xz, xr, xh = cell.split(xt, 3, f"xg{t}_")
    if _zero(h):
        # z * h + (1 - z) * cand with h = 0: cand - z * cand; the recurrent products are
        # their biases (r * rbh before the reset or rbh after it). Tensors that are not what
        # the later steps compute get tags of their own (rbz, hprez, zcz): _quantity would
        # otherwise give r * rbh the range of r * (R h + rbh), many times wider.
        z = cell.act(0, xz, f"z{t}")
        rg = cell.act(0, xr, f"r{t}")
        if not np.any(rbh):
            pre = xh
        elif ctx.attr(node, "linear_before_reset", 0):
            pre = cell.add(xh, cell.mul(rg, ctx.constant(f"{cell.base}_rbh", rbh), f"rbz{t}"),
                           f"hprez{t}")
        else:
            pre = cell.add(xh, ctx.constant(f"{cell.base}_rbh", rbh), f"hprez{t}")
        cand = cell.act(1, pre, f"candz{t}")
        return binary(ctx, "SUB", cand, cell.mul(z, cand, f"zcz{t}"), _FUSED,
                      base=f"{cell.base}_h{t}")
    hzr = fully_connected(ctx, h, r[:2 * hid], None, f"{cell.base}_hzr{t}")
    hz, hr = cell.split(hzr, 2, f"hg{t}_")
    z = cell.act(0, cell.add(xz, hz, f"zpre{t}"), f"z{t}")
    rg = cell.act(0, cell.add(xr, hr, f"rpre{t}"), f"r{t}")
    if ctx.attr(node, "linear_before_reset", 0):
        hh = fully_connected(ctx, h, r[2 * hid:], rbh, f"{cell.base}_hh{t}")
        pre = cell.add(xh, cell.mul(rg, hh, f"rhh{t}"), f"hpre{t}")
    else:
        rh = cell.mul(rg, h, f"rh{t}")
        pre = cell.add(xh, fully_connected(ctx, rh, r[2 * hid:], rbh, f"{cell.base}_hh{t}"),
                       f"hpre{t}")
    cand = cell.act(1, pre, f"cand{t}")
    # h' = (1 - z) * cand + z * h = cand + z * (h - cand)
    diff = binary(ctx, "SUB", h, cand, _FUSED, base=f"{cell.base}_hmc{t}")
    return cell.add(cand, cell.mul(z, diff, f"zd{t}"), f"h{t}")


def _lstm_step(cell: _Cell, xt: ir.Tensor, h: ir.Tensor, c: ir.Tensor, r: np.ndarray,
               peep: np.ndarray | None, t: int) -> tuple[ir.Tensor, ir.Tensor]:
    ctx = cell.ctx
    hid = cell.hidden
    pre = xt if _zero(h) else cell.add(
        xt, fully_connected(ctx, h, r, None, f"{cell.base}_hr{t}"), f"pre{t}")
    c_zero = _zero(c)  # the peephole and forget products with it are zero (see _zero)
    if c_zero:
        # three slices, not a SPLIT with its forget output unread (LiteRT leaves such a
        # tensor unallocated, and tools that read every tensor, AI Edge Quantizer's
        # calibration among them, fail on it)
        rows = pre.shape[0]
        pi, po, pc = (emit(ctx, "SLICE", [pre, i32(ctx, f"{cell.base}_g{t}_{k}_begin",
                                                   [0, k * hid]),
                                          i32(ctx, f"{cell.base}_g{t}_{k}_size", [rows, hid])],
                           (rows, hid), base=f"{cell.base}_g{t}_{k}") for k in (0, 1, 3))
        pf = None
    else:
        pi, po, pf, pc = cell.split(pre, 4, f"g{t}_")
    if peep is not None and not c_zero:
        pi = cell.add(pi, cell.mul(c, ctx.constant(f"{cell.base}_pi", peep[:hid]), f"pic{t}"),
                      f"pip{t}")
        pf = cell.add(pf, cell.mul(c, ctx.constant(f"{cell.base}_pf", peep[2 * hid:]),
                                   f"pfc{t}"), f"pfp{t}")
    i = cell.act(0, pi, f"i{t}")
    g = cell.act(1, pc, f"cg{t}")
    if c_zero:
        c = cell.mul(i, g, f"cz{t}")  # a tag of its own: f * c is missing (see _gru_step)
    else:
        f = cell.act(0, pf, f"f{t}")
        c = cell.add(cell.mul(f, c, f"fc{t}"), cell.mul(i, g, f"ig{t}"), f"c{t}")
    if peep is not None:
        po = cell.add(po, cell.mul(c, ctx.constant(f"{cell.base}_po", peep[hid:2 * hid]),
                                   f"poc{t}"), f"pop{t}")
    o = cell.act(0, po, f"o{t}")
    h = cell.mul(o, cell.act(2, c, f"hc{t}", clip=False), f"h{t}")
    return h, c


def _bind_outputs(ctx: LoweringContext, node: onnx.NodeProto, ys: list[list[ir.Tensor]],
                  last_h: list[ir.Tensor], last_c: list[ir.Tensor | None], seq: int, batch: int,
                  hidden: int, layout: int, base: str) -> None:
    dirs = len(ys)

    def stack(parts: list[ir.Tensor], axis: int, shape: tuple[int, ...], tag: str) -> ir.Tensor:
        if len(parts) == 1:
            return ctx.reshape(parts[0], shape)
        return emit(ctx, "CONCATENATION", parts, shape,
                    options={"axis": axis, "fused_activation_function": "NONE"},
                    base=f"{base}_{tag}")

    def out(i: int) -> bool:
        return len(node.output) > i and node.output[i] != ""

    if out(0):
        per_dir = [stack([ctx.reshape(h, (1, 1, batch, hidden)) for h in steps], 0,
                         (seq, 1, batch, hidden), f"y{d}") for d, steps in enumerate(ys)]
        y = stack(per_dir, 1, (seq, dirs, batch, hidden), "y")
        if layout:
            y = ctx.transpose(y, (2, 0, 1, 3))
        ctx.set_output(node, 0, reshape_to(ctx, node, y, y.shape))
    for i, finals, tag in ((1, last_h, "yh"), (2, last_c, "yc")):
        if not out(i) or finals[0] is None:
            continue
        s = stack([ctx.reshape(v, (1, batch, hidden)) for v in finals], 0,
                  (dirs, batch, hidden), tag)
        if layout:
            s = ctx.transpose(s, (1, 0, 2))
        copy = emit(ctx, "RESHAPE", [s, i32(ctx, f"{node.output[i]}_shape", list(s.shape))],
                    s.shape, options={"new_shape": list(s.shape)}, base=node.output[i])
        ctx.set_output(node, i, copy)


for _op in ("RNN", "GRU", "LSTM"):
    register(_op, opsets=(7, 25), const_inputs=(1, 2, 3, 4) + ((7,) if _op == "LSTM" else ()),
             notes="unrolled over the static sequence: one FULLY_CONNECTED for all input "
                   "projections, per step FULLY_CONNECTED + gates; forward/reverse/"
                   "bidirectional, layout 0/1, clip on gate pre-activations; activations "
                   "Sigmoid/Tanh/Relu without alpha/beta; sequence_lens only if all full "
                   "length"
             + ("; input_forget unsupported" if _op == "LSTM" else ""))(_lower_recurrent)
