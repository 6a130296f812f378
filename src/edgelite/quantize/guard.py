"""No silent collapse: find the tensors int8 destroys, raise them, refuse what stays broken.

After the plain annotation, the quantized model is measured once against the float model on
the calibration samples (the per-tensor report). Two rules pick ops to raise:

- structural: a CONCATENATION / PACK inside the model joining inputs whose calibrated ranges
  differ by ``JOIN_RATIO`` or more (box coordinates beside probabilities): in one int8 tensor
  the narrow inputs keep a handful of levels, so the op runs int16;
- measured: an op whose output SQNR is below ``COLLAPSE_DB`` and ``DROP_DB`` below the worst
  of its inputs (it destroyed a signal its inputs still carried).

A third rule looks at normalizations (LayerNorm, RMSNorm... as lowered: MEAN, SUB, MUL, RSQRT
... under one op key): one whose int8 chain loses ``NORM_DROP_DB`` or more between its input
and its output runs in int16, all such ops in one trial, kept if the model output does not get
worse. Their tensors are small (no weights, one statistic per token) and their chain of nine
int8 roundings cost a small ViT 3-5 dB per LayerNorm (held out: 28.5 dB, 30.5 in int16).

A raised op goes int8 -> int16 where LiteRT and TFLite Micro have an int16 kernel (and the
backend runs it), else to float; each decision is kept only if it helped (that op's own SQNR
rose by ``MIN_GAIN_DB``), and each is returned with its reason for the CLI and the report.
Finally the model's output SQNR is compared with a floor: below it, ``check_floor`` raises an
error naming the layer that lost the most, unless the caller allows low SQNR.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.quantize import report as R
from edgelite.quantize.annotate import NO_INT16, AnnotateConfig, Annotated, op_key

JOIN_RATIO = 100.0
COLLAPSE_DB = 15.0
DROP_DB = 10.0
MIN_GAIN_DB = 3.0
NORM_DROP_DB = 1.0
FLOOR_DB = 15.0
JOIN_OPS = frozenset({"CONCATENATION", "PACK"})

Build = Callable[[AnnotateConfig], tuple[Annotated, bytes, R.Report]]


def _width(ranges: dict[str, tuple[float, float]], name: str) -> float | None:
    if name not in ranges:
        return None
    lo, hi = ranges[name]
    return max(hi, 0.0) - min(lo, 0.0)


def joins(graph: ir.Graph, ranges: dict[str, tuple[float, float]], io: str
          ) -> list[tuple[ir.Op, float, float]]:
    """Concat-like ops whose input ranges differ by JOIN_RATIO or more: (op, narrowest width,
    widest width). With integer model I/O, ops producing a model output are left out: the
    output is one integer tensor whatever precision the op runs in."""
    outputs = {id(t) for t in graph.outputs} if io != "float" else set()
    found = []
    for op in graph.ops:
        if op.type not in JOIN_OPS or any(id(t) in outputs for t in op.outputs):
            continue
        widths = [w for t in op.inputs if t is not None and not t.is_const
                  and (w := _width(ranges, t.name)) is not None]
        if len(widths) >= 2 and min(widths) * JOIN_RATIO <= max(widths):
            found.append((op, min(widths), max(widths)))
    return found


def output_joins(graph: ir.Graph, ranges: dict[str, tuple[float, float]], io: str) -> list[str]:
    """Notes for model outputs that are such joins while the model's I/O is integer: the
    output tensor itself is one int8 tensor, which no internal precision can fix."""
    if io == "float":
        return []
    outputs = {id(t) for t in graph.outputs}
    notes = []
    for op in graph.ops:
        if op.type not in JOIN_OPS or not any(id(t) in outputs for t in op.outputs):
            continue
        widths = [w for t in op.inputs if t is not None and not t.is_const
                  and (w := _width(ranges, t.name)) is not None]
        if len(widths) >= 2 and min(widths) * JOIN_RATIO <= max(widths):
            notes.append(f"guard: model output {op.outputs[0].name!r} ({op.type} [{op_key(op)}]) "
                         f"joins ranges of width {min(widths):.3g} and {max(widths):.3g} in "
                         f"one {io} tensor: the narrow part keeps few levels (with --io float "
                         "the guard can raise it)")
    return notes


def _rows(rep: R.Report) -> dict[str, R.TensorError]:
    return {r.tensor: r for r in rep.tensors}


def collapsed(graph: ir.Graph, rep: R.Report) -> list[tuple[str, float, float]]:
    """Ops that destroyed a signal their inputs carried: (op key, its SQNR, worst input's)."""
    rows = _rows(rep)
    found = []
    for op in graph.ops:
        outs = [rows[t.name].sqnr_db for t in op.outputs if t.name in rows]
        if not outs:
            continue
        ins = [rows[t.name].sqnr_db for t in op.inputs if t is not None and t.name in rows]
        worst_in = min(ins, default=R.SQNR_CAP_DB)
        out = min(outs)
        if out < COLLAPSE_DB and worst_in - out > DROP_DB:
            found.append((op_key(op), out, worst_in))
    found.sort(key=lambda f: f[1])
    return found


def normalizations(graph: ir.Graph, rep: R.Report, precision: dict[str, str]
                   ) -> list[tuple[str, float, float]]:
    """int8 normalizations losing NORM_DROP_DB or more, whose every op has an int16 kernel:
    (op key, SQNR at its output, SQNR of its input). A normalization is an op key whose ops
    include an RSQRT (1 / std of the statistics it computes)."""
    rows = _rows(rep)
    groups: dict[str, list[ir.Op]] = {}
    for op in graph.ops:
        groups.setdefault(op_key(op), []).append(op)
    found = []
    for key, ops in groups.items():
        if precision.get(key) != "int8" or not any(op.type == "RSQRT" for op in ops):
            continue
        if any(op.type in NO_INT16 for op in ops):
            continue
        inside = {id(t) for op in ops for t in op.outputs}
        ins = [rows[t.name].sqnr_db for op in ops for t in op.inputs
               if t is not None and id(t) not in inside and t.name in rows]
        last = ops[-1].outputs[0].name
        if not ins or last not in rows:
            continue
        if min(ins) - rows[last].sqnr_db >= NORM_DROP_DB:
            found.append((key, rows[last].sqnr_db, min(ins)))
    return found


def join_reason(narrow: float, wide: float) -> str:
    return (f"joins input ranges of width {narrow:.3g} and {wide:.3g} "
            f"(x{wide / max(narrow, 1e-30):.0f})")


def norm_reason(out: float, inp: float) -> str:
    return f"normalization: its int8 chain takes {inp:.1f} dB at its input to {out:.1f} dB"


def _decision(key: str, op_type: str, frm: str, to: str, why: str, op_before: float,
              op_after: float, rep: R.Report, t_rep: R.Report, size: int) -> dict[str, Any]:
    """One guard decision as the CLI prints it and the report keeps it."""
    return {"op": key, "op_type": op_type, "from": frm, "to": to, "reason": why,
            "op_sqnr_db_before": round(op_before, 2), "op_sqnr_db_after": round(op_after, 2),
            "output_sqnr_db_before": round(rep.output_sqnr_db, 2),
            "output_sqnr_db_after": round(t_rep.output_sqnr_db, 2), "size_bytes_delta": size}


def _op_sqnr(graph: ir.Graph, rep: R.Report, key: str) -> float:
    rows = _rows(rep)
    vals = [rows[t.name].sqnr_db for op in graph.ops if op_key(op) == key
            for t in op.outputs if t.name in rows]
    return min(vals, default=R.SQNR_CAP_DB)


def _build_or_note(build, trial: AnnotateConfig, notes: list[str], cannot: str):
    """build(trial), or None with a note when the backend has no kernel for it (UNSUPPORTED);
    any other error propagates."""
    try:
        return build(trial)
    except EdgeliteError as exc:
        if exc.code != Code.UNSUPPORTED:
            raise
        notes.append(f"guard: {cannot} on this backend ({exc.message})")
        return None


def _raised(cfg: AnnotateConfig, key: str, to: str) -> AnnotateConfig:
    if to == "int16":
        return replace(cfg, int16=cfg.int16 | {key})
    return replace(cfg, int16=cfg.int16 - {key}, keep_float=cfg.keep_float | {key})


def guard(graph: ir.Graph, ranges: dict[str, tuple[float, float]], cfg: AnnotateConfig,
          build: Build, first: tuple[Annotated, bytes, R.Report]
          ) -> tuple[AnnotateConfig, tuple[Annotated, bytes, R.Report], list[dict[str, Any]],
                     list[str]]:
    """Raise the ops the two rules pick; returns the final config, model, decisions, notes."""
    types = {op_key(op): op.type for op in graph.ops}
    ann, model, rep = first
    decisions: list[dict[str, Any]] = []
    notes = output_joins(graph, ranges, cfg.io)
    # (op key, reason, structural): a structural decision is kept whenever the output does
    # not get worse (the whole tensor's SQNR hides the narrow input's loss).
    candidates: list[tuple[str, str, bool]] = []
    for op, narrow, wide in joins(graph, ranges, cfg.io):
        candidates.append((op_key(op), join_reason(narrow, wide), True))
    for key, out, worst_in in collapsed(graph, rep):
        if all(key != k for k, _, _ in candidates):
            candidates.append((key, f"output SQNR {out:.1f} dB against {worst_in:.1f} dB at "
                                    "its inputs", False))
    norms = normalizations(graph, rep, ann.precision)
    if norms:
        trial = cfg
        for key, _, _ in norms:
            trial = _raised(trial, key, "int16")
        built = _build_or_note(build, trial, notes, "normalizations cannot run int16")
        if built is not None:
            t_ann, t_model, t_rep = built
            if t_rep.output_sqnr_db >= rep.output_sqnr_db:
                share, extra = divmod(len(t_model) - len(model), len(norms))
                for i, (key, out, inp) in enumerate(norms):
                    decisions.append(_decision(key, types[key], "int8", "int16",
                                               norm_reason(out, inp), out,
                                               _op_sqnr(graph, t_rep, key), rep, t_rep,
                                               share + (1 if i < extra else 0)))
                cfg, ann, model, rep = trial, t_ann, t_model, t_rep
            else:
                notes.append(f"guard: {len(norms)} normalization(s) losing >= {NORM_DROP_DB:g} "
                             "dB in int8; int16 did not help the output "
                             f"({rep.output_sqnr_db:.2f} -> {t_rep.output_sqnr_db:.2f} dB)")
    for key, why, structural in candidates:
        prec = ann.precision.get(key)
        if prec not in ("int8", "int16"):
            continue
        steps = (["int16", "float"] if prec == "int8" and types[key] not in NO_INT16
                 else ["float"])
        before = _op_sqnr(graph, rep, key)
        for to in steps:
            trial = _raised(cfg, key, to)
            built = _build_or_note(build, trial, notes, f"{types[key]} [{key}] cannot run {to}")
            if built is None:
                continue
            t_ann, t_model, t_rep = built
            after = _op_sqnr(graph, t_rep, key)
            if structural:
                if t_rep.output_sqnr_db < rep.output_sqnr_db - 0.5:
                    continue
            elif after - before < MIN_GAIN_DB and not (
                    t_rep.output_sqnr_db - rep.output_sqnr_db >= MIN_GAIN_DB):
                continue
            decisions.append(_decision(key, types[key], prec, to, why, before, after, rep,
                                       t_rep, len(t_model) - len(model)))
            cfg, ann, model, rep = trial, t_ann, t_model, t_rep
            break
        else:
            notes.append(f"guard: {types[key]} [{key}] {why}; raising it did not help")
    return cfg, (ann, model, rep), decisions, notes


def worst_layer(graph: ir.Graph, rep: R.Report) -> tuple[str, str, float]:
    """The op that loses the most (largest SQNR drop from its inputs): (key, type, SQNR)."""
    rows = _rows(rep)
    best: tuple[float, str, str, float] | None = None
    for op in graph.ops:
        outs = [rows[t.name].sqnr_db for t in op.outputs if t.name in rows]
        if not outs:
            continue
        ins = [rows[t.name].sqnr_db for t in op.inputs if t is not None and t.name in rows]
        drop = min(ins, default=R.SQNR_CAP_DB) - min(outs)
        if best is None or drop > best[0]:
            best = (drop, op_key(op), op.type, min(outs))
    if best is None:
        return ("?", "?", rep.output_sqnr_db)
    return best[1], best[2], best[3]


def check_floor(graph: ir.Graph, rep: R.Report, floor_db: float, allow: bool) -> str | None:
    """An error (or, when allowed, the warning text) if the output SQNR is below the floor."""
    if rep.output_sqnr_db >= floor_db:
        return None
    key, op_type, sqnr = worst_layer(graph, rep)
    msg = (f"int8 output SQNR {rep.output_sqnr_db:.2f} dB on the calibration data is below "
           f"{floor_db:g} dB: the model's outputs are mostly quantization noise; the layer that "
           f"loses most is {op_type} [{key}] ({sqnr:.2f} dB)")
    if allow:
        return "WARNING: " + msg
    raise EdgeliteError(msg, code=Code.BAD_INPUT, where=key,
                        hint=f"keep it float (--keep-float {key}) or int16 (--int16 {key}), try "
                             "--auto-precision 30, or pass --allow-low-sqnr to write it anyway")
