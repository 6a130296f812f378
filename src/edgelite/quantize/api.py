"""The quantize entry points: ``quantize`` (float model -> quantized model), automatic
mixed precision, and ``evaluate`` (accuracy and agreement with the float model)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.quantize import guard as G
from edgelite.quantize import report as R
from edgelite.quantize.annotate import (
    NO_INT16,
    AnnotateConfig,
    Annotated,
    annotate,
    op_key,
)
from edgelite.quantize.calibrate import Calibration, calibrate
from edgelite.quantize.data import CalibrationSource, Progress, Sample, load_samples
from edgelite.quantize.observers import METHODS
from edgelite.quantize.runner import Runner

NEEDS_CALIBRATION = ("int8", "int16x8")
MEASURE_SAMPLES = 32


@dataclass(frozen=True)
class QuantizeOptions:
    """One quantization run, as the user chose it (the CLI builds this from its flags).

    mode: "int8" | "int16x8" | "weights-int8" | "float16".
    io: type of the model's inputs/outputs: "int8" (the integer activation type: int16 in
        int16x8 mode) | "uint8" (int8 mode only) | "float" (QUANTIZE/DEQUANTIZE inside).
    calibration: .npy/.npz path, image folder (or ``ImageFolder``), arrays or a callable.
    samples: how many calibration samples to use (None: all; an error if fewer exist).
    method: range observer, "percentile" (the default; model inputs and outputs keep their
        min/max) | "minmax" | "entropy" | "mse".
    keep_float / int16: op names (ONNX node names or output tensor names).
    auto_precision: target output SQNR in dB; the worst layers are raised until reached.
    report_json / report_html: where to write the per-tensor error report.
    backend: where the models run for calibration and reports ("micro" or "litert").
    guard: int8/int16x8: measure the quantized model once on the calibration samples and raise
        the ops that destroy the signal (guard.py), each decision reported.
    min_sqnr_db: the output SQNR floor (dB) checked whenever the model is measured: below it,
        an error naming the layer, unless allow_low_sqnr (then a warning note).
    bias_correction: "auto" (int8/int16x8: kept when the measured output SQNR rises; needs
        the guard's measurement, else skipped with a note) | "on" | "off".
    equalize: cross-layer equalization (equalize.py) of layer pairs before calibration:
        "auto" (int8/int16x8: kept when the measured output SQNR rises, like bias correction)
        | "on" | "off".
    tflm_compatible: write only ops TFLite Micro has: each integer GELU (TFLite Micro has no
        GELU kernel) becomes the table lookup that computes the same bytes (gelu_lookup.py).
    hybrid: weights-int8 only: TFLite's hybrid kernels read the int8 weights directly (LiteRT
    only); by default the weights go through DEQUANTIZE, which every runtime runs.
    """

    mode: str = "int8"
    io: str = "int8"
    calibration: CalibrationSource | None = None
    samples: int | None = None
    method: str = "percentile"
    percentile: float = 99.99
    layout: str = "auto"
    keep_float: tuple[str, ...] = ()
    int16: tuple[str, ...] = ()
    auto_precision: float | None = None
    max_precision_steps: int = 16
    per_channel: bool = True
    hybrid: bool = False
    strict: bool = False
    report: bool = False
    report_json: Path | None = None
    report_html: Path | None = None
    backend: str = "micro"
    progress: bool = True
    guard: bool = True
    min_sqnr_db: float = G.FLOOR_DB
    allow_low_sqnr: bool = False
    bias_correction: str = "auto"
    equalize: str = "auto"
    adaround: bool = False
    tflm_compatible: bool = False

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise EdgeliteError(f"unknown calibration method {self.method!r}",
                                hint=f"use one of: {', '.join(METHODS)}")
        if self.samples is not None and (isinstance(self.samples, bool)
                                         or not isinstance(self.samples, int)
                                         or self.samples <= 0):
            raise EdgeliteError(f"samples must be a positive integer, got {self.samples!r}")
        if self.layout not in ("auto", "nchw", "nhwc"):
            raise EdgeliteError(f"layout must be auto, nchw or nhwc, got {self.layout!r}")
        if self.auto_precision is not None and not 0 < float(self.auto_precision) < 200:
            raise EdgeliteError(f"auto precision target {self.auto_precision} dB is out of "
                                "range", hint="e.g. 30 (dB of output SQNR)")
        if self.bias_correction not in ("auto", "on", "off"):
            raise EdgeliteError(f"bias correction must be auto, on or off, got "
                                f"{self.bias_correction!r}")
        if self.equalize not in ("auto", "on", "off"):
            raise EdgeliteError(f"equalize must be auto, on or off, got {self.equalize!r}")
        if self.backend not in ("micro", "litert"):
            raise EdgeliteError(f"unknown backend {self.backend!r}", hint="micro or litert")
        self.annotate_config()  # checks mode, io and the selections' overlap

    def annotate_config(self) -> AnnotateConfig:
        return AnnotateConfig(mode=self.mode, io=self.io, keep_float=frozenset(self.keep_float),
                              int16=frozenset(self.int16), per_channel=self.per_channel,
                              hybrid=self.hybrid, strict=self.strict,
                              bias_correction=self.bias_correction == "on",
                              adaround=self.adaround)


@dataclass
class QuantizeResult:
    model: bytes  # the quantized .tflite
    graph: ir.Graph  # its IR
    float_graph: ir.Graph
    float_model: bytes
    annotated: Annotated
    calibration: Calibration | None = None
    report: R.Report | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def load_graph(graph_or_path: ir.Graph | str | Path) -> ir.Graph:
    """An IR graph from an IR graph, an .onnx file (converted) or a .tflite file (read)."""
    if isinstance(graph_or_path, ir.Graph):
        return graph_or_path
    path = Path(graph_or_path)
    if not path.exists():
        raise EdgeliteError("model file does not exist", where=str(path))
    if path.suffix.lower() == ".tflite":
        from edgelite.converter.from_tflite.intake import read_tflite

        from edgelite.converter.passes import split_wide_concats

        graph = read_tflite(path)  # float16 weights folded, custom ops lowered
        split_wide_concats(graph)  # what TFLite Micro runs: at most 10 inputs per concat
        return graph
    from edgelite.converter import convert

    return convert(path)


def divisions_as_products(graph: ir.Graph) -> ir.Graph:
    """``graph`` with every DIV by a constant (finite, nonzero, with a finite reciprocal)
    written as MUL by the reciprocal (a copy when there is one; the float result moves by at
    most a rounding). For the integer modes: TFLite has no int16 DIV (int16x8 would run it in
    int8) and its int8 DIV rescales twice, while MUL by a quantized constant is one product.
    PP-OCR's detector divides every HardSwish by 6: its int16x8 output SQNR goes from 11.7 to
    16.0 dB (23.0 with bias correction) on page crops."""
    found = False
    ops = []
    for op in graph.ops:
        d = op.inputs[1] if op.type == "DIV" and len(op.inputs) == 2 else None
        if d is not None and d.data is not None and d.dtype == "float32" and d.size:
            with np.errstate(divide="ignore", over="ignore"):
                r = (1.0 / d.data.astype(np.float64)).astype(np.float32)
            if np.all(np.isfinite(d.data)) and np.all(d.data != 0) and np.all(np.isfinite(r)):
                recip = ir.Tensor(f"{d.name}_reciprocal", d.shape, "float32", data=r)
                op = ir.Op("MUL", [op.inputs[0], recip], list(op.outputs), dict(op.options),
                           name=op.name)
                found = True
        ops.append(op)
    if not found:
        return graph
    return ir.Graph(list(graph.inputs), list(graph.outputs), ops, graph.name,
                    dict(graph.metadata))


def _check_float(graph: ir.Graph) -> None:
    quantized = [t.name for t in graph.tensors() if t.quant is not None]
    if quantized:
        raise EdgeliteError(f"the model is already quantized (e.g. tensor {quantized[0]!r})",
                            hint="quantize the float model")


# Ops whose input 1 is the weight integer modes quantize (symmetric, from its largest
# magnitude: one NaN or Inf there makes every scale meaningless).
_WEIGHTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "TRANSPOSE_CONV",
             "BATCH_MATMUL", "CONV_3D")


def _check_finite_weights(graph: ir.Graph) -> None:
    """NaN in any constant, or NaN/Inf in a weight, cannot be quantized: refused by name
    (an Inf elsewhere, such as an attention mask, is left to the activation ranges)."""
    for op in graph.ops:
        for k, t in enumerate(op.inputs):
            if t is None or not t.is_const or t.data.dtype.kind != "f":
                continue
            data = np.asarray(t.data)
            bad = np.isnan(data) if not (op.type in _WEIGHTED and k == 1) else ~np.isfinite(data)
            if bad.any():
                raise EdgeliteError(
                    f"{op.type} {op.name!r}: constant {t.name!r} holds {int(bad.sum())} "
                    f"{'NaN' if np.isnan(data).any() else 'infinite'} value(s); it cannot be "
                    "quantized", code=Code.INVALID_MODEL,
                    hint="the float model is broken: check its weights (or quantize with "
                         "--mode float16)")


def quantize(graph_or_path: ir.Graph | str | Path,
             options: QuantizeOptions | None = None) -> QuantizeResult:
    """Quantize a float model (IR, .onnx or float .tflite) as ``options`` say."""
    from edgelite.tflite.writer import write_model

    opts = options or QuantizeOptions()
    cfg = opts.annotate_config()
    graph = load_graph(graph_or_path)
    _check_float(graph)
    if opts.mode != "float16":
        _check_finite_weights(graph)
    if opts.mode in NEEDS_CALIBRATION:
        graph = divisions_as_products(graph)
    needs_data = (opts.mode in NEEDS_CALIBRATION or opts.report or opts.report_json
                  or opts.report_html or opts.auto_precision is not None)
    samples: list[Sample] = []
    if needs_data:
        if opts.calibration is None:
            raise EdgeliteError(f"mode {opts.mode} needs calibration data"
                                if opts.mode in NEEDS_CALIBRATION else
                                "reports and auto precision need calibration data",
                                hint="give --calibration (.npy/.npz keyed by input name, "
                                     "or an image folder)")
        samples = load_samples(opts.calibration, graph, opts.samples, opts.layout)
    float_model = write_model(graph)

    cal = None
    ranges: dict[str, tuple[float, float]] = {}
    means: dict[str, np.ndarray] = {}
    moments: dict[str, np.ndarray] = {}

    def calibrated(g: ir.Graph, m: bytes) -> Calibration:
        c = calibrate(g, samples, opts.method, opts.percentile, opts.backend,
                      opts.progress, model=m,
                      moments_for=_weight_inputs(g) if opts.adaround else frozenset())
        _share_ranges(g, c)
        return c

    if opts.mode in NEEDS_CALIBRATION:
        cal = calibrated(graph, float_model)
        ranges, means, moments = cal.ranges, cal.means, cal.moments

    changes: list[dict[str, Any]] = []
    guard_notes: list[str] = []  # the guard's and bias correction's decisions
    report_asked = bool(opts.report or opts.report_json or opts.report_html)

    # The guard and bias correction measure on at most MEASURE_SAMPLES samples unless a
    # report over all of them was asked for (then that report is the measurement).
    measured = samples if report_asked else samples[:MEASURE_SAMPLES]

    def build(c: AnnotateConfig, progress: bool = False) -> tuple[Annotated, bytes, R.Report]:
        a = annotate(graph, ranges, c, means, moments)
        m = write_model(a.graph)
        r = R.compare(graph, float_model, a.graph, m, a.source, measured, mode=c.mode,
                      backend=opts.backend, progress=progress)
        return a, m, r

    # Cross-layer equalization before the rest: it changes the float weights, so the
    # equalized graph gets its own calibration. "auto" measures both (cfg: bias correction
    # as the user set it, off for "auto") and keeps the better; that measurement is reused as
    # the first build below (bias correction's "off" candidate, or the guard's first look).
    pre: tuple[Annotated, bytes, R.Report] | None = None
    if opts.mode in NEEDS_CALIBRATION and opts.equalize != "off":
        from edgelite.quantize.equalize import equalize

        eq_graph, pairs = equalize(graph)
        measure = opts.guard or opts.auto_precision is not None
        if not pairs:
            pass  # nothing to say: no conv/FC pair joined by ReLU or nothing
        elif opts.equalize == "auto" and not measure:
            guard_notes.append("equalization: skipped (not measured: the precision guard is "
                               "off; --equalize on applies it unmeasured)")
        else:
            before = (graph, float_model, cal)
            eq_model = write_model(eq_graph)
            eq = (eq_graph, eq_model, calibrated(eq_graph, eq_model))
            graph, float_model, cal = eq
            ranges, means, moments = cal.ranges, cal.means, cal.moments
            span = max(p.max_scale for p in pairs)
            what = (f"{len(pairs)} layer pair(s), channel scales up to {span:.3g}x, e.g. "
                    f"{pairs[0].first!r} -> {pairs[0].second!r}")
            keep = opts.equalize == "on"
            if not keep and opts.auto_precision is not None:
                # The search makes its own first report: only the choice is needed here,
                # from the outputs of both models against the original float model's.
                ref = R.model_outputs(before[1], before[0], measured, opts.backend)

                def check(g: ir.Graph, c: Calibration) -> float:
                    a = annotate(g, c.ranges, cfg, c.means, c.moments)
                    return R.output_sqnr(ref, a.graph, write_model(a.graph), measured,
                                         opts.backend)

                eq_db, off_db = check(eq[0], eq[2]), check(before[0], before[2])
                keep = eq_db > off_db
                what += f"; output SQNR {off_db:.2f} -> {eq_db:.2f} dB on the calibration data"
                if not keep:
                    graph, float_model, cal = before
                    ranges, means, moments = cal.ranges, cal.means, cal.moments
            elif not keep:
                pre = build(cfg)
                eq_db = pre[2].output_sqnr_db
                graph, float_model, cal = before
                ranges, means, moments = cal.ranges, cal.means, cal.moments
                off = build(cfg)
                keep = eq_db > off[2].output_sqnr_db
                what += (f"; output SQNR {off[2].output_sqnr_db:.2f} -> {eq_db:.2f} dB on the "
                         "calibration data")
                if keep:
                    graph, float_model, cal = eq
                    ranges, means, moments = cal.ranges, cal.means, cal.moments
                else:
                    pre = off
            guard_notes.append(f"equalization: {'kept' if keep else 'skipped'} ({what})")

    if opts.auto_precision is not None:
        if opts.mode not in NEEDS_CALIBRATION:
            raise EdgeliteError("auto precision works on int8/int16x8 models",
                                hint="use mode int8 or int16x8")
        choose = opts.bias_correction == "auto"
        if choose:
            cfg = replace(cfg, bias_correction=True)
        ann, model, rep, changes = auto_precision(graph, float_model, ranges, cfg, samples,
                                                  opts.auto_precision, opts.backend,
                                                  opts.max_precision_steps, opts.progress,
                                                  means=means, moments=moments,
                                                  choose_bias_correction=choose)
    elif opts.guard and opts.mode in NEEDS_CALIBRATION:
        if opts.bias_correction == "auto":
            cfg, first, bc_note = _choose_bias_correction(cfg, build, opts.progress, off=pre)
            guard_notes.append(bc_note)
        else:
            first = pre if pre is not None else build(cfg, opts.progress)
        cfg, (ann, model, rep), changes, more = G.guard(graph, ranges, cfg, build, first)
        guard_notes.extend(more)
    else:
        if opts.bias_correction == "auto" and opts.mode in NEEDS_CALIBRATION:
            guard_notes.append("bias correction: skipped (not measured: the precision guard "
                               "is off; --bias-correction on applies it unmeasured)")
        ann = annotate(graph, ranges, cfg, means, moments)
        model = write_model(ann.graph)
        rep = None
        if report_asked:
            rep = R.compare(graph, float_model, ann.graph, model, ann.source, samples,
                            mode=opts.mode, backend=opts.backend, progress=opts.progress)
    ann.notes.extend(guard_notes)
    floor_error = None
    if rep is not None and opts.mode in NEEDS_CALIBRATION:
        try:
            warning = G.check_floor(graph, rep, opts.min_sqnr_db, opts.allow_low_sqnr)
        except EdgeliteError as exc:
            floor_error, warning = exc, f"REFUSED: {exc.message}"
        if warning:
            ann.notes.append(warning)
    if opts.tflm_compatible:
        from edgelite.quantize.gelu_lookup import gelu_as_lookup

        n_gelu = sum(op.type == "GELU" for op in ann.graph.ops)
        ann.graph = gelu_as_lookup(ann.graph)
        if n_gelu:
            ann.notes.append(f"tflm: {n_gelu} integer GELU op(s) written as table lookups "
                             "(CAST, ADD, GATHER), same bytes")
    _record(ann.graph, opts, cal, changes)
    model = write_model(ann.graph)
    if rep is not None:
        rep.quant_bytes = len(model)
        rep.notes = list(ann.notes)
        rep.changes = changes
        if report_asked:  # written even when refused: it says why
            if opts.report_json:
                R.write_json(rep, opts.report_json)
            if opts.report_html:
                R.write_html(rep, opts.report_html)
    if floor_error is not None:
        raise floor_error
    return QuantizeResult(model=model, graph=ann.graph, float_graph=graph, float_model=float_model,
                          annotated=ann, calibration=cal, report=rep, changes=changes,
                          notes=list(ann.notes))


def _share_ranges(graph: ir.Graph, cal: Calibration) -> None:
    """One range for each group of tensors the converter marked as one quantity at different
    times (an unrolled GRU / LSTM / RNN step's gates and states): the union of the steps'
    ranges. Each step calibrated alone sees a few samples' worth of values; inputs after
    calibration then reach past it (the GRU + LSTM of benchmarks/quant_accuracy.py: 20.8 dB
    on held-out sequences with per-step ranges, 25.8 dB with shared ones)."""
    from edgelite.converter.pipeline import range_groups_of

    shared = 0
    for names in range_groups_of(graph):
        got = [cal.ranges[n] for n in names if n in cal.ranges]
        if len(got) < 2:
            continue
        lo, hi = min(r[0] for r in got), max(r[1] for r in got)
        full = getattr(cal.ranges, "full", {})
        whole = [full[n] for n in names if n in full]
        for n in names:
            if n in cal.ranges:
                cal.ranges[n] = (lo, hi)
            if n in full:
                full[n] = (min(r[0] for r in whole), max(r[1] for r in whole))
        shared += 1
    cal.shared_ranges = shared


def _record(graph: ir.Graph, opts: QuantizeOptions, cal: Calibration | None,
            changes: list[dict[str, Any]]) -> None:
    """Say in the model's "edgelite" metadata how it was quantized (for inspect and users)."""
    from edgelite.tflite.metadata import METADATA_KEY

    try:
        meta = json.loads(graph.metadata.get(METADATA_KEY, b"{}"))
    except ValueError:
        meta = {}
    info: dict[str, Any] = {"mode": opts.mode, "io": opts.io}
    meta.pop("range_groups", None)  # the float model's (applied below as shared_ranges)
    if cal is not None:
        info.update(method=cal.method, samples=cal.samples)
        if cal.shared_ranges:
            info["shared_ranges"] = cal.shared_ranges
        if cal.method == "percentile":
            info["percentile"] = opts.percentile
    for key, chosen in (("keep_float", opts.keep_float), ("int16", opts.int16)):
        if chosen:
            info[key] = sorted(chosen)
    if changes and opts.auto_precision is not None:
        info["auto_precision"] = {"target_db": opts.auto_precision,
                                  "raised": {c["op"]: c["to"] for c in changes}}
    elif changes:
        info["guard"] = {c["op"]: c["to"] for c in changes}
    meta["quantization"] = info
    graph.metadata[METADATA_KEY] = json.dumps(meta, sort_keys=True,
                                              separators=(",", ":")).encode()


def _injected_noise(graph: ir.Graph, rep: R.Report) -> dict[str, float]:
    """Noise-to-signal each op adds: its output's ratio minus its worst input's ratio."""
    rows = {r.tensor: r for r in rep.tensors}

    def ratio(name: str) -> float:
        r = rows.get(name)
        if r is None or r.signal == 0:
            return 0.0
        return r.noise / r.signal

    out: dict[str, float] = {}
    for op in graph.ops:
        outs = [ratio(t.name) for t in op.outputs if t.name in rows]
        if not outs:
            continue
        ins = [ratio(t.name) for t in op.inputs if t is not None and t.name in rows]
        out[op_key(op)] = max(outs) - max(ins, default=0.0)
    return out


def _first_batch(noise: dict[str, float], base_db: float, target_db: float) -> int:
    """How many of the noisiest ops auto precision raises first: the fewest whose shares of
    the injected noise add up to the part of the output noise the target asks to remove
    (shares add up roughly: the first measurement then lands near the target instead of
    doubling up from one op when the noise is spread over hundreds), at least one."""
    shares = sorted((n for n in noise.values() if n > 0), reverse=True)
    total = sum(shares)
    if total <= 0:
        return 1
    need = 1.0 - 10.0 ** ((base_db - target_db) / 10.0)
    acc = 0.0
    for i, n in enumerate(shares, 1):
        acc += n / total
        if acc >= need:
            return i
    return len(shares)


def _weight_inputs(graph: ir.Graph) -> frozenset[str]:
    """Activations read by CONV_2D / FULLY_CONNECTED (AdaRound needs their second moments)."""
    return frozenset(op.inputs[0].name for op in graph.ops
                     if op.type in ("CONV_2D", "FULLY_CONNECTED") and op.inputs
                     and op.inputs[0] is not None and not op.inputs[0].is_const)


def _choose_bias_correction(cfg: AnnotateConfig, build, progress: bool = False,
                            off: tuple[Annotated, bytes, R.Report] | None = None
                            ) -> tuple[AnnotateConfig, tuple[Annotated, bytes, R.Report], str]:
    """Bias correction where it helps: the model is measured without and with it, and the
    one with the higher output SQNR on the calibration data is kept (said in a note).
    ``off``: the measurement without it, when already made."""
    if off is None:
        off = build(replace(cfg, bias_correction=False), progress)
    on_cfg = replace(cfg, bias_correction=True)
    on = build(on_cfg, False)
    a, b = off[2].output_sqnr_db, on[2].output_sqnr_db
    layers = f"{len(on[0].corrected)} layer(s) corrected"
    if b > a:
        return on_cfg, on, (f"bias correction: kept ({layers}; output SQNR {a:.2f} -> "
                            f"{b:.2f} dB on the calibration data)")
    return (replace(cfg, bias_correction=False), off,
            f"bias correction: skipped (output SQNR {a:.2f} dB without, {b:.2f} dB with)")


# auto precision writes at most this many files to attribute the size cost to raised ops
SIZE_STEPS = 16
# batches of up to this many ops are cut to their shortest prefix meeting the target exactly
BISECT_EXACT = 16


def _raise(cfg: AnnotateConfig, key: str, to: str) -> AnnotateConfig:
    if to == "int16":
        return replace(cfg, int16=cfg.int16 | {key})
    return replace(cfg, int16=cfg.int16 - {key}, keep_float=cfg.keep_float | {key})


def auto_precision(graph: ir.Graph, float_model: bytes, ranges: dict[str, tuple[float, float]],
                   cfg: AnnotateConfig, samples: Sequence[Sample], target_db: float,
                   backend: str = "micro", max_steps: int = 16, progress: bool = True,
                   means: dict[str, np.ndarray] | None = None,
                   moments: dict[str, np.ndarray] | None = None,
                   choose_bias_correction: bool = False
                   ) -> tuple[Annotated, bytes, R.Report, list[dict[str, Any]]]:
    """Raise the ops that add the most noise (int8 -> int16 -> float) until the output SQNR
    reaches ``target_db``; return the final model and what changed, with the size cost.

    One sensitivity pass ranks the ops: the all-int8 model runs once beside the float model
    (runtime_micro's linear planner keeps every tensor) and each op's injected noise (its
    output's noise-to-signal ratio minus its worst input's) is measured. The worst 1, then 2,
    4, 8 ... more are raised one level together (int16 steps first, float steps once none is
    left), the model measured once per batch and re-ranked from that run, so a search costs
    about 2 log2(raised ops) + 1 model runs instead of one per tried op (the first batch
    sized from the measured noise shares, see _first_batch): the batch that meets
    the target is cut by bisection to its shortest prefix that still does (within an eighth of
    the batch past BISECT_EXACT ops). The ops that add
    no noise of their own come last in the int16 steps (every op in int16 drops the
    requantizations between them), and a batch that would take more than half of what is left
    takes all of it. ``max_steps`` bounds the number of measured models.

    ``choose_bias_correction``: ``cfg`` has bias correction on (it corrects the weight
    rounding that int16 activations leave as the main error); the final precisions are
    measured once more without it and the better kept (said in a note)."""
    from edgelite.tflite.writer import write_model

    reference: list[list[np.ndarray]] = []  # the float model's outputs, for checks

    def build(c: AnnotateConfig, full: bool = True) -> tuple[Annotated, bytes, Any]:
        """The model for ``c``, with its report (``full``), or only its output SQNR: the
        quantized model run alone against the float outputs computed once."""
        a = annotate(graph, ranges, c, means, moments)
        m = write_model(a.graph)
        if not full:
            if not reference:
                reference.extend(R.model_outputs(float_model, graph, samples, backend))
            return a, m, R.output_sqnr(reference, a.graph, m, samples, backend)
        r = R.compare(graph, float_model, a.graph, m, a.source, samples, mode=c.mode,
                      backend=backend, progress=False)
        return a, m, r

    bar = Progress(max_steps, f"auto precision (target {target_db} dB)", progress)
    ann, model, rep = build(cfg)
    base_sqnr, base_size = rep.output_sqnr_db, len(model)
    bar.step()
    steps = 1
    types = {op_key(op): op.type for op in graph.ops}
    skipped: list[str] = []
    unrunnable: set[str] = set()  # op types the backend has no int16 kernel for
    precision: dict[str, str] = {}  # op key -> raised precision

    def config_for(raised: dict[str, str], base: AnnotateConfig | None = None) -> AnnotateConfig:
        c = cfg if base is None else base
        for key, to in raised.items():
            c = _raise(c, key, "float" if to == "int16" and types[key] in unrunnable else to)
        return c

    def measure(raised: dict[str, str], base: AnnotateConfig | None = None,
                full: bool = True) -> tuple[Annotated, bytes, Any]:
        nonlocal steps
        while True:
            try:
                result = build(config_for(raised, base), full)
            except EdgeliteError as exc:
                # runtime_micro has no int16 kernel for some ops: those op types take the
                # float step instead (said in the notes; the CLI prints them).
                if exc.code != Code.UNSUPPORTED:
                    raise
                pending = {types[k] for k, to in raised.items()
                           if to == "int16" and types[k] not in unrunnable}
                named = {t for t in pending if t in exc.message} or pending
                if not named:
                    raise
                for t in sorted(named):
                    first = next(k for k, to in raised.items()
                                 if to == "int16" and types[k] == t)
                    skipped.append(f"auto precision: no int16 {t} tried (first {first}): the "
                                   f"{backend} backend cannot run it ({exc.message})")
                unrunnable.update(named)
                continue
            steps += 1
            bar.step()
            return result

    def current(key: str) -> str | None:
        to = precision.get(key)
        if to == "int16" and types[key] in unrunnable:
            return "float"
        return to or ann.precision.get(key)

    # The guard's structural picks come first (joins of ranges far apart, normalizations whose
    # int8 chain loses signal), as the default int8 gets them: without them the search's
    # answer was worse than the default's on held-out data whenever the calibration data
    # already met the target (a small ViT: 28.5 dB against 30.5; the YOLO head 41.0 / 42.5).
    reasons = {op_key(op): G.join_reason(narrow, wide)
               for op, narrow, wide in G.joins(graph, ranges, cfg.io)
               if ann.precision.get(op_key(op)) == "int8" and types[op_key(op)] not in NO_INT16}
    reasons.update((k, G.norm_reason(out, inp))
                   for k, out, inp in G.normalizations(graph, rep, ann.precision))
    seeds = {k: "int16" for k in reasons}
    if seeds and steps < max_steps:
        s_ann, s_model, s_rep = measure(seeds)
        if s_rep.output_sqnr_db >= rep.output_sqnr_db - 0.5:  # the guard's structural rule
            precision, ann, model, rep = dict(seeds), s_ann, s_model, s_rep
    batch = _first_batch(_injected_noise(graph, rep), rep.output_sqnr_db, target_db)
    best = (dict(precision), ann, model, rep)
    while rep.output_sqnr_db < target_db and steps < max_steps:
        # Ranked by the noise each op adds in the model as it stands (measured in the run
        # that just happened): int16 steps first (cheap: same int8 weights), float steps
        # only once none is left.
        ranked = [k for k, n in sorted(_injected_noise(graph, rep).items(),
                                       key=lambda kv: (-kv[1], kv[0])) if n > 0]
        def int16_ok(k: str) -> bool:
            return (current(k) == "int8" and types[k] not in NO_INT16
                    and types[k] not in unrunnable)

        up = [(k, "int16") for k in ranked if int16_ok(k)]
        noisy = {k for k, _ in up}
        up += [(k, "int16") for k in types if k not in noisy and int16_ok(k)]
        if not up:
            up = [(k, "float") for k in ranked if current(k) in ("int8", "int16")]
        if not up:
            break
        step = up[:batch] if 2 * batch < len(up) else up
        batch *= 2
        trial = {**precision, **dict(step)}
        t_ann, t_model, t_rep = measure(trial)
        if t_rep.output_sqnr_db >= target_db:
            # A prefix of this batch that still meets the target, by bisection on output-only
            # checks (measured in full once, below): the shortest for batches of up to
            # BISECT_EXACT ops, else at most an eighth of the batch longer than the shortest
            # (each check of a model that is mostly int16 costs about a full search step; the
            # last halvings of a batch of hundreds would each save a few ops at that price).
            lo, hi = 1, len(step)
            slack = 0 if len(step) <= BISECT_EXACT else len(step) // 8
            while hi - lo > slack and steps < max_steps:
                mid = (lo + hi) // 2
                if measure({**precision, **dict(step[:mid])}, full=False)[2] >= target_db:
                    hi = mid
                else:
                    lo = mid + 1
            trial = {**precision, **dict(step[:hi])}
            if hi < len(step):
                t_ann, t_model, t_rep = measure(trial)
        # Kept even without a gain: the next batch builds on it (an int16 layer's neighbours
        # chain up in int16, dropping the requantizes between them).
        precision, ann, model, rep = trial, t_ann, t_model, t_rep
        if rep.output_sqnr_db > best[3].output_sqnr_db + 0.1:  # else the smaller model
            best = (dict(precision), ann, model, rep)
    if rep.output_sqnr_db < target_db:
        precision, ann, model, rep = best
    bc_note = None
    if choose_bias_correction:
        # without bias correction: an output-only check, measured in full only if it wins
        cfg_off = replace(cfg, bias_correction=False)
        a, b = measure(precision, cfg_off, full=False)[2], rep.output_sqnr_db
        if a >= b:
            ann, model, rep = measure(precision, cfg_off)
            cfg, a = cfg_off, rep.output_sqnr_db
            bc_note = (f"bias correction: skipped (output SQNR {a:.2f} dB without, {b:.2f} dB "
                       "with, at the precisions found)")
        else:
            bc_note = (f"bias correction: kept ({len(ann.corrected)} layer(s) corrected; "
                       f"output SQNR {a:.2f} -> {b:.2f} dB on the calibration data, at the "
                       "precisions found)")
    kept = [key for key in precision if ann.precision.get(key) == current(key)]
    # Each op's size cost: the file with the ops before it raised, then with it too (files
    # only written, not run), so the costs add up to the final file's growth exactly. Past
    # SIZE_STEPS ops the files are written every few ops and each group's growth is shared
    # evenly by its ops (hundreds of raised ops would cost a write each).
    changes, size, raised = [], base_size, cfg
    per = -(-len(kept) // SIZE_STEPS) if kept else 1
    for start in range(0, len(kept), per):
        group = kept[start:start + per]
        for key in group:
            raised = _raise(raised, key, current(key))
        grown = len(write_model(annotate(graph, ranges, raised, means, moments).graph))
        share, extra = divmod(grown - size, len(group))
        for i, key in enumerate(group):
            changes.append({"op": key, "op_type": types[key],
                            "from": "int16" if cfg.mode == "int16x8" else "int8",
                            "to": current(key),
                            # the guard's picks say why (the CLI prints them as the guard's)
                            **({"reason": reasons[key]} if key in reasons else {}),
                            "output_sqnr_db_before": round(base_sqnr, 4),
                            "output_sqnr_db_after": round(rep.output_sqnr_db, 4),
                            "size_bytes_delta": share + (1 if i < extra else 0)})
        size = grown
    bar.close()  # the target may be reached before max_steps
    ann.notes.extend(skipped)
    if bc_note:
        ann.notes.append(bc_note)
    ann.notes.append(f"auto precision: {steps} model(s) measured, {len(changes)} op(s) raised")
    if rep.output_sqnr_db < target_db:
        ann.notes.append(f"auto precision: target {target_db} dB not reached "
                         f"(output SQNR {rep.output_sqnr_db:.2f} dB)")
    return ann, model, rep, changes


# ---- evaluation ----------------------------------------------------------------------------

@dataclass
class EvalResult:
    samples: int
    float_top1: float | None
    quant_top1: float | None
    float_top5: float | None
    quant_top5: float | None
    top1_agreement: float
    cosine: float
    sqnr_db: float

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _topk(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def evaluate(float_graph: ir.Graph | str | Path, quant_graph: ir.Graph | str | Path,
             data: CalibrationSource,
             labels: np.ndarray | None = None, *, samples: int | None = None,
             layout: str = "auto", output: int = 0, backend: str = "micro",
             float_model: bytes | None = None, quant_model: bytes | None = None,
             progress: bool = True, threads: int = 1) -> EvalResult:
    """Top-1/top-5 (with labels) of both models and their agreement on output ``output``.

    Models are IR graphs or files (.onnx is converted; .tflite read as written). ``data``: any
    calibration source (samples in the float model's input layout); ``labels``: one class index
    per sample, for top-1/top-5. ``threads``: runtime_micro's thread pool for both models.
    """
    from edgelite.tflite.writer import write_model

    if not isinstance(float_graph, ir.Graph) and Path(float_graph).suffix == ".tflite":
        float_model = float_model or Path(float_graph).read_bytes()
    if not isinstance(quant_graph, ir.Graph) and Path(quant_graph).suffix == ".tflite":
        quant_model = quant_model or Path(quant_graph).read_bytes()
    float_graph, quant_graph = load_graph(float_graph), load_graph(quant_graph)

    inputs = load_samples(data, float_graph, samples, layout)
    if labels is not None:
        labels = np.asarray(labels).reshape(-1)
        if labels.size < len(inputs):
            raise EdgeliteError(f"{labels.size} labels for {len(inputs)} samples",
                                hint="give one label per sample")
        labels = labels[:len(inputs)].astype(np.int64)
    fr = Runner(float_model or write_model(float_graph), float_graph, backend,
                num_threads=threads)
    qr = Runner(quant_model or write_model(quant_graph), quant_graph, backend,
                num_threads=threads)
    qout = quant_graph.outputs[output]
    fs, qs = [], []
    acc = R._Acc()
    bar = Progress(len(inputs), "evaluating", progress)
    for s in inputs:
        fr.run(s)
        qr.run(R.feed(quant_graph, s))
        f = fr.output(output).astype(np.float32)
        q = R.real_values(qout, qr.output(output))
        acc.add(f, q)
        fs.append(f.reshape(f.shape[0] if f.ndim > 1 else 1, -1))
        qs.append(q.reshape(q.shape[0] if q.ndim > 1 else 1, -1))
        bar.step()
    F, Q = np.concatenate(fs), np.concatenate(qs)
    agree = float(np.mean(np.argmax(F, axis=1) == np.argmax(Q, axis=1)))
    tops: list[float | None] = [None] * 4
    if labels is not None:
        if F.shape[0] != labels.size:
            raise EdgeliteError(f"the model gives {F.shape[0]} predictions for "
                                f"{labels.size} labels", hint="use batch-1 samples")
        tops = [_topk(F, labels, 1), _topk(Q, labels, 1), _topk(F, labels, 5),
                _topk(Q, labels, 5)]
    return EvalResult(samples=len(inputs), float_top1=tops[0], quant_top1=tops[1],
                      float_top5=tops[2], quant_top5=tops[3], top1_agreement=agree,
                      cosine=acc.cosine(), sqnr_db=acc.sqnr())
