"""``prune``: a float model (IR, .onnx or float .tflite) -> a smaller or sparser float model
(and, with ``quantize="int8"``, its int8 version calibrated on the same samples).

Order of work: load and check the calibration data exactly as ``quantize`` does; structured
pruning (coupled groups -> Gram matrices of the layers that read them -> importance, sensitivity,
global allocation -> rewrite with least-squares repair); then sparse pruning on the result
(Gram matrices again, since the structured step changed what each layer sees -> per-layer
sparsity -> layer after layer, OBS fitted to the structured model's outputs on the inputs the
pruned layers before it give); then the report against the unpruned model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.prune import repair as RP
from edgelite.prune import report as R
from edgelite.prune import sparse as SP
from edgelite.prune import structured as ST
from edgelite.prune.groups import Group, find_groups
from edgelite.prune.repair import REPAIRS, collect
from edgelite.quantize.data import CalibrationSource, Sample, load_samples

MIN_SAMPLES = 16
# Below this output SQNR on the calibration data (cosine about 0.95) the pruned model is
# refused: the trained digits CNNs at half their MACs keep 14-18 dB, EfficientNet-Lite0 at 0.75x
# keeps 21 dB; a random-weight MobileNetV2 at 0.75x (no redundant channels) falls to 8 dB.
MIN_SQNR_DB = 10.0
CRITERIA = ("activation", "magnitude")
ALLOCATIONS = ("global", "uniform")
SPARSE_METHODS = ("obs", "magnitude")


def _bad(message: str, hint: str | None = None) -> EdgeliteError:
    return EdgeliteError(message, code=Code.BAD_INPUT, hint=hint)


@dataclass(frozen=True)
class PruneOptions:
    """One pruning run, as the user chose it (the CLI builds this from its flags).

    macs: keep this fraction of the model's multiply-accumulates (structured pruning).
    channels: remove this fraction of the prunable channels (structured pruning).
    sparsity: zero this fraction of the convolution / dense weights (sparse pruning);
        ``pattern`` "unstructured", "2:4" / "4:8" (at most N nonzeros in every M
        consecutive input features: sparsity 0.5, implied when not given), or "1x4" / "1x8" /
        "1x16" (blocks of that many consecutive input features zeroed together, which the
        writer stores with one index per block: the smallest int8 files).
    repair: "ls" (least-squares refit of the next layer, bias included), "bias" (the bias
        absorbs the mean of removed channels only) or "none".
    criterion: unit importance from calibration activations ("activation") or filter L1
        norms ("magnitude"); allocation: "global" (per-group ratios from measured
        sensitivity) or "uniform"; sparse_method: "obs" (second-order) or "magnitude".
    channel_multiple: structured pruning keeps channel counts that are multiples of this power
        of two in groups of 8x as many channels or more (smaller multiples when few are kept;
        see structured._Steps), so SIMD kernels run no channel tails; 1 allows any count.
    quantize: None or "int8": quantize the pruned model with the same samples.
    min_sqnr_db: the pruned model's output SQNR on the calibration data below which the result
        is refused (an error naming the layer that loses most) unless ``allow_low_sqnr``
        (then a warning note); with ``quantize`` the int8 step's own floor follows the same
        switch.
    """

    calibration: CalibrationSource | None = None
    samples: int | None = None
    layout: str = "auto"
    macs: float | None = None
    channels: float | None = None
    sparsity: float | None = None
    pattern: str = "unstructured"
    repair: str = "ls"
    criterion: str = "activation"
    allocation: str = "global"
    sparse_method: str = "obs"
    channel_multiple: int = 8
    quantize: str | None = None
    io: str = "int8"
    report_json: Path | None = None
    report_html: Path | None = None
    backend: str = "micro"
    progress: bool = True
    min_samples: int = MIN_SAMPLES
    min_sqnr_db: float = MIN_SQNR_DB
    allow_low_sqnr: bool = False

    def __post_init__(self) -> None:
        for name in ("macs", "channels", "sparsity"):
            v = getattr(self, name)
            if v is None:
                continue
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 < v < 1:
                flag = f"--{name}"
                raise _bad(f"{flag} {v!r} is out of range: it must be a fraction strictly "
                           "between 0 and 1",
                           hint={"macs": "e.g. --macs 0.5 keeps half the MACs",
                                 "channels": "e.g. --channels 0.3 removes 30 % of channels",
                                 "sparsity": "e.g. --sparsity 0.75 zeroes 75 % of weights"
                                 }[name])
        if self.macs is not None and self.channels is not None:
            raise _bad("--macs and --channels both set the structured target: give one")
        if self.pattern not in SP.PATTERNS:
            raise _bad(f"unknown sparsity pattern {self.pattern!r}",
                       hint=f"use one of: {', '.join(SP.PATTERNS)}")
        nm = SP.parse_pattern(self.pattern)
        implied = None if nm is None else nm.fraction
        if implied is not None and self.sparsity is not None \
                and abs(self.sparsity - implied) > 1e-9:
            raise _bad(f"pattern {self.pattern} zeroes {implied:.0%} of the weights, "
                       f"not --sparsity {self.sparsity}",
                       hint=f"drop --sparsity or give --sparsity {implied}")
        if nm is not None and implied is None and self.sparsity is None:
            raise _bad(f"pattern {self.pattern} needs --sparsity (the fraction of weights "
                       "zeroed, in whole blocks)", hint="e.g. --sparsity 0.75")
        if self.macs is None and self.channels is None and self.sparsity is None \
                and implied is None:
            raise _bad("nothing to do: give --macs or --channels (structured pruning) and/or "
                       "--sparsity / --pattern (sparse pruning)")
        for name, value, allowed in (("repair", self.repair, REPAIRS),
                                     ("criterion", self.criterion, CRITERIA),
                                     ("allocation", self.allocation, ALLOCATIONS),
                                     ("sparse_method", self.sparse_method, SPARSE_METHODS)):
            if value not in allowed:
                raise _bad(f"unknown {name} {value!r}", hint=f"use one of: {', '.join(allowed)}")
        m = self.channel_multiple
        if isinstance(m, bool) or not isinstance(m, int) or m < 1 or m & (m - 1) or m > 64:
            raise _bad(f"--channel-multiple {m!r}: it must be a power of two from 1 to 64",
                       hint="8 (the default) suits 4- to 16-lane SIMD kernels; 1 allows any "
                            "channel count")
        if self.quantize not in (None, "int8"):
            raise _bad(f"--quantize {self.quantize!r}: prune quantizes to int8 only",
                       hint="or run `edgelite quantize` on the pruned float model")
        if self.samples is not None and (isinstance(self.samples, bool)
                                         or not isinstance(self.samples, int)
                                         or self.samples <= 0):
            raise _bad(f"samples must be a positive integer, got {self.samples!r}")

    @property
    def structured(self) -> bool:
        return self.macs is not None or self.channels is not None

    @property
    def sparse_fraction(self) -> float | None:
        nm = SP.parse_pattern(self.pattern)
        if nm is not None and nm.fraction is not None:
            return nm.fraction
        return self.sparsity


@dataclass
class PruneResult:
    graph: ir.Graph  # the pruned float IR
    model: bytes  # the pruned float .tflite
    float_graph: ir.Graph  # the unpruned IR
    float_model: bytes
    report: R.Report
    groups: list[Group]
    quantized: bytes | None = None  # with quantize="int8"
    quantized_graph: ir.Graph | None = None
    notes: list[str] = field(default_factory=list)


def _samples(graph: ir.Graph, opts: PruneOptions) -> list[Sample]:
    if opts.calibration is None:
        raise _bad("pruning needs calibration data",
                   hint="give --calibration (.npy/.npz keyed by input name, or an image folder)")
    samples = load_samples(opts.calibration, graph, opts.samples, opts.layout)
    if len(samples) < opts.min_samples:
        raise _bad(f"too few calibration samples: {len(samples)}, pruning needs at least "
                   f"{opts.min_samples} to measure what it removes",
                   hint="give more samples (a few hundred is typical)")
    return samples


def prune(model: ir.Graph | str | Path, options: PruneOptions | None = None) -> PruneResult:
    """Prune a float model as ``options`` say (see PruneOptions)."""
    from threadpoolctl import threadpool_limits

    # One BLAS thread: calibration already runs two interpreters side by side, and OpenBLAS's
    # spinning workers on a busy machine made MobileNetV2-1.0's pruning take minutes instead
    # of under one (benchmarks/README.md, prune_accuracy.py).
    with threadpool_limits(limits=1, user_api="blas"):
        return _prune(model, options)


def _prune(model: ir.Graph | str | Path, options: PruneOptions | None) -> PruneResult:
    from edgelite.quantize.api import _check_float, load_graph
    from edgelite.tflite.writer import write_model

    opts = options or PruneOptions(channels=0.25)
    graph = load_graph(model)
    _check_float(graph)
    if isinstance(model, ir.Graph):
        graph = copy.deepcopy(graph)
    samples = _samples(graph, opts)
    orig = copy.deepcopy(graph)
    orig_model = write_model(orig)
    # Pruned activations keep their identity through the rewrite: map them to the originals.
    twin = {id(a): b for a, b in zip(graph.tensors(), orig.tensors(), strict=True)
            if not a.is_const}
    notes: list[str] = []
    groups: list[Group] = find_groups(graph)
    masks: dict[int, np.ndarray] = {}
    modes = []
    if opts.structured:
        modes.append("structured")
        masks = _structured(graph, groups, samples, opts, notes, orig, orig_model, twin)
    frac = opts.sparse_fraction
    if frac is not None:
        modes.append("sparse")
        _sparse(graph, samples, opts, frac, notes)
    graph.validate()
    model_bytes = write_model(graph)
    rep = R.build(orig, orig_model, graph, model_bytes, twin, masks, samples,
                  mode="+".join(modes), backend=opts.backend, progress=opts.progress)
    rep.notes = notes
    if opts.structured:
        for g in groups:
            if g.reason is not None:
                rep.groups_left.append({"name": g.name, "reason": g.reason,
                                        "channels": g.tensors[0].shape[-1] if
                                        g.tensors[0].shape else 1,
                                        "tensors": [t.name for t in g.tensors[:8]]})
            else:
                t0 = next(t for t in g.tensors if not t.is_const)
                after = int(masks[id(t0)].sum()) if id(t0) in masks else len(g.units)
                rep.groups_pruned.append({"name": g.name, "channels": [len(g.units), after],
                                          "tensors": [t.name for t in g.tensors[:8]]})
    _check_floor(graph, rep, opts)
    _record(graph, opts, rep)
    model_bytes = write_model(graph)
    rep.file_bytes = (len(orig_model), len(model_bytes))
    result = PruneResult(graph=graph, model=model_bytes, float_graph=orig, float_model=orig_model,
                         report=rep, groups=groups, notes=notes)
    if opts.quantize:
        from edgelite.quantize.api import QuantizeOptions, quantize

        q = quantize(graph, QuantizeOptions(mode=opts.quantize, io=opts.io,
                                            calibration=lambda: samples, layout="nhwc",
                                            backend=opts.backend, progress=opts.progress,
                                            allow_low_sqnr=opts.allow_low_sqnr))
        result.quantized, result.quantized_graph = q.model, q.graph
        result.notes.extend(q.notes)
    if opts.report_json:
        R.write_json(rep, opts.report_json)
    if opts.report_html:
        R.write_html(rep, opts.report_html)
    return result


def _check_floor(graph: ir.Graph, rep: R.Report, opts: PruneOptions) -> None:
    """Refuse (or, when allowed, note) a pruned model whose outputs the pruning destroyed."""
    if rep.output_sqnr_db >= opts.min_sqnr_db:
        return
    worst = R.worst_layer(graph, rep)
    where = None if worst is None else worst.layer
    blame = "" if worst is None else (f"; the layer that loses most is {worst.op_type} "
                                      f"[{worst.layer}] ({worst.sqnr_db:.2f} dB)")
    msg = (f"the pruned model's output SQNR on the calibration data is "
           f"{rep.output_sqnr_db:.2f} dB (cosine {rep.output_cosine:.3f}), below "
           f"{opts.min_sqnr_db:g} dB: pruning destroyed most of its output{blame}")
    if opts.allow_low_sqnr:
        rep.notes.append("WARNING: " + msg)
        return
    raise EdgeliteError(msg, code=Code.BAD_INPUT, where=where,
                        hint="prune less (a larger --macs, a smaller --channels or "
                             "--sparsity), use more calibration samples, or pass "
                             "--allow-low-sqnr to write it anyway")


def _structured(graph: ir.Graph, groups: list[Group], samples: list[Sample],
                opts: PruneOptions, notes: list[str], orig: ir.Graph, orig_model: bytes,
                twin: dict[int, ir.Tensor]) -> dict[int, np.ndarray]:
    from edgelite.tflite.writer import write_model

    prunable = [g for g in groups if g.units]
    if not prunable:
        why = "; ".join(f"{g.name}: {g.reason}" for g in groups if g.reason)[:600]
        raise EdgeliteError("nothing prunable: every channel group is tied to the model's "
                            f"interface or to an op that mixes channels ({why})",
                            code=Code.BAD_INPUT,
                            hint="the report of `edgelite prune` names each group; try "
                                 "--sparsity instead")
    layers = []
    for g in prunable:
        for op in g.consumers:
            if op not in layers:
                layers.append(op)
    grams = collect(graph, write_model(graph), samples, layers, opts.backend, opts.progress)
    choice, _ = ST.allocate(graph, groups, grams, macs=opts.macs,
                            channels_fraction=opts.channels, criterion=opts.criterion,
                            allocation=opts.allocation, mode=opts.repair,
                            multiple=opts.channel_multiple)
    masks = choice.masks(groups)
    if opts.macs is not None:
        reached = ST.macs_with(graph, masks) / max(ST.macs_with(graph, {}), 1)
        if reached > opts.macs + 1e-9:
            notes.append(f"MAC target {opts.macs:.3f} not reached: the prunable groups allow "
                         f"{reached:.3f} at most")
    ST.apply(graph, masks, groups, grams, opts.repair)
    if opts.repair == "ls":
        # Each refit above assumed the layers before it unchanged; now they are pruned too:
        # refit once more on the pruned model's own inputs against the unpruned outputs. Kept
        # only if the model's outputs get closer to the unpruned ones on the calibration
        # samples: on deep networks (MobileNetV2) the layer-wise refit can move them away.
        ref = _outputs(orig, orig_model, samples, opts.backend)
        before_err = _output_error(graph, write_model(graph), ref, samples, opts.backend)
        saved = [(op, list(op.inputs)) for op in graph.ops]
        ST.correct(graph, orig, twin, masks, grams, samples, opts.backend,
                   opts.progress)
        after_err = _output_error(graph, write_model(graph), ref, samples, opts.backend)
        if after_err > before_err:
            for op, inputs in saved:
                op.inputs = inputs
            notes.append("correction pass not kept: it raised the output error on the "
                         f"calibration samples ({_db(ref, after_err)} dB SQNR instead of "
                         f"{_db(ref, before_err)} dB)")
    return masks


def _outputs(graph: ir.Graph, model: bytes, samples: list[Sample],
             backend: str) -> list[list[np.ndarray]]:
    from edgelite.quantize.runner import Runner, in_sample_order, workers

    def one(r: Runner, sample: Sample) -> list[np.ndarray]:
        r.run(sample)
        return [np.asarray(r.output(k), dtype=np.float64) for k in range(len(graph.outputs))]

    runners = [Runner(model, graph, backend) for _ in range(workers(backend, len(samples)))]
    return list(in_sample_order(runners, samples, one))


def _output_error(graph: ir.Graph, model: bytes, ref: list[list[np.ndarray]],
                  samples: list[Sample], backend: str) -> float:
    """Σ over samples and outputs of the squared difference with ``ref``."""
    got = _outputs(graph, model, samples, backend)
    return float(sum(np.sum((g - r) ** 2) for gs, rs in zip(got, ref, strict=True)
                     for g, r in zip(gs, rs, strict=True)))


def _db(ref: list[list[np.ndarray]], err: float) -> str:
    sig = sum(float(np.sum(r ** 2)) for rs in ref for r in rs)
    return f"{10 * np.log10(max(sig, 1e-30) / max(err, 1e-30)):.1f}"


def _sparse(graph: ir.Graph, samples: list[Sample], opts: PruneOptions, frac: float,
            notes: list[str]) -> None:
    from edgelite.tflite.writer import write_model

    nm = SP.parse_pattern(opts.pattern)
    layers, skipped = [], []
    for op in graph.ops:
        if op.type not in ("CONV_2D", "FULLY_CONNECTED") or not op.inputs[1].is_const:
            continue
        why = SP.layer_fits(op, nm)
        if why is None:
            layers.append(op)
        else:
            skipped.append(f"{op.name or op.outputs[0].name} ({why})")
    if not layers:
        raise EdgeliteError(f"no layer can take the {opts.pattern} pattern: "
                            + "; ".join(skipped[:6]), code=Code.BAD_INPUT,
                            hint="use --pattern unstructured")
    if skipped:
        notes.append(f"left dense ({opts.pattern} does not fit): " + "; ".join(skipped))
    dw = [op.name or op.outputs[0].name for op in graph.ops if op.type == "DEPTHWISE_CONV_2D"]
    if dw:
        notes.append(f"depthwise convolutions left dense ({len(dw)}): few weights each")
    grams = collect(graph, write_model(graph), samples, layers, opts.backend, opts.progress)
    per_layer = SP.allocate(layers, grams, frac, uniform=(nm is not None and nm.m > 0)
                            or opts.allocation == "uniform",
                            block=1 if nm is None else nm.block)
    if opts.sparse_method == "magnitude":
        SP.apply_magnitude(layers, per_layer, nm)
        return
    # Layer after layer (OBC / SparseGPT's sequential form): each layer is pruned on the
    # inputs the layers before it now give, fitted to the outputs of the model before sparse
    # pruning, so what one layer loses the next ones make up for (their biases included).
    ref = copy.deepcopy(graph)
    ref_of = {id(op): r for op, r in zip(graph.ops, ref.ops, strict=True)}
    for k, stage in enumerate(SP.stages(layers)):
        if k == 0:  # nothing pruned yet: the Gram matrices above are the pairs
            pairs = {id(op): RP.Pair(grams[id(op)].folds, grams[id(op)].folds,
                                     grams[id(op)].rows) for op in stage}
        else:
            pairs = RP.collect_pairs(ref, graph, [(op, ref_of[id(op)]) for op in stage],
                                     samples, opts.backend, opts.progress)
        for op in stage:
            w, b = RP.layer_matrix(op)
            new = SP.prune_layer(np.concatenate([w, b[:, None]], axis=1), pairs[id(op)],
                                 per_layer[id(op)], nm)
            SP.store(op, new[:, :-1], new[:, -1])


def _record(graph: ir.Graph, opts: PruneOptions, rep: R.Report) -> None:
    """Say in the model's "edgelite" metadata how it was pruned."""
    import json

    from edgelite.tflite.metadata import METADATA_KEY

    try:
        meta = json.loads(graph.metadata.get(METADATA_KEY, b"{}"))
    except ValueError:
        meta = {}
    info: dict[str, Any] = {"mode": rep.mode, "samples": rep.samples, "repair": opts.repair,
                            "macs": list(rep.macs)}
    for key in ("macs", "channels", "sparsity"):
        v = getattr(opts, key)
        if v is not None:
            info[f"target_{key}"] = v
    if opts.sparse_fraction is not None:
        info["pattern"] = opts.pattern
    meta["pruning"] = info
    graph.metadata[METADATA_KEY] = json.dumps(meta, sort_keys=True,
                                              separators=(",", ":")).encode()
