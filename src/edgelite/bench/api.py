"""`edgelite bench`: latency, init time, arena and a per-op profile on runtime_micro, optionally
side by side with LiteRT, TFLite Micro and ONNX Runtime on the same input (interleaved runs).

    report = run_bench(BenchConfig(Path("model.tflite"), compare=("litert", "tflm")))
    print(render_text(report))
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from edgelite.bench.compare import Agreement, agreement, interleaved
from edgelite.bench.inputs import file_inputs, model_layout, random_inputs
from edgelite.bench.profile import Profile, profile_ops
from edgelite.bench.runners import HostRunner, Runner, Unavailable, Workload, expand, make_peer
from edgelite.bench.stats import Latency, summarize
from edgelite.errors import Code, EdgeliteError
from edgelite.progress import Progress
from edgelite.runtime.interpreter import TensorDetails
from edgelite.tflite.reader import ModelInfo, read_model


@dataclass(frozen=True)
class BenchConfig:
    model: Path
    warmup: int = 5
    runs: int = 50
    max_seconds: float = 60.0  # caps the timed runs (and, separately, the profiling pass)
    input: Path | None = None  # .npy / .npz; None: deterministic random data
    compare: tuple[str, ...] = ()  # peer names or aliases (see runners.ALIASES)
    onnx: Path | None = None  # the ONNX source, for ONNX Runtime
    profile: bool = True
    seed: int = 0
    reference_kernels: bool = False  # runtime_micro's reference kernels only
    threads: int = 1  # runtime_micro's num_threads (its own pool), and the peers' (not TFLM's)
    fp16: bool = False  # runtime_micro's allow_fp16 (float16 arithmetic where the CPU has it)
    progress: bool = False  # a progress bar on stderr (a terminal only)

    @property
    def disable_isa(self) -> int:
        from edgelite.runtime._lib import ISA_ALL

        return ISA_ALL if self.reference_kernels else 0

    def validate(self) -> None:
        if self.warmup < 0:
            raise EdgeliteError(f"--warmup must be 0 or more, got {self.warmup}",
                                code=Code.BAD_INPUT)
        if not 1 <= self.threads <= 256:
            raise EdgeliteError(f"--threads must be from 1 to 256, got {self.threads}",
                                code=Code.BAD_INPUT)
        if self.runs < 1:
            raise EdgeliteError(f"--runs must be at least 1, got {self.runs}",
                                code=Code.BAD_INPUT)
        if not (self.max_seconds > 0 and math.isfinite(self.max_seconds)):
            raise EdgeliteError(f"--max-seconds must be a positive number, got "
                                f"{self.max_seconds}", code=Code.BAD_INPUT)
        keys = expand(self.compare)
        if "onnxruntime" in keys and self.onnx is None:
            raise EdgeliteError("--compare onnxruntime needs the ONNX source model",
                                code=Code.BAD_INPUT, hint="add --onnx SOURCE.onnx")
        if self.onnx is not None and "onnxruntime" not in keys:
            raise EdgeliteError("--onnx is only used with --compare onnxruntime",
                                code=Code.BAD_INPUT, hint="add --compare onnxruntime")


@dataclass(frozen=True)
class PeerRow:
    key: str
    label: str
    status: str  # "ok", or why there are no figures ("not installed: pip install ...")
    init_ms: float | None = None
    latency: Latency | None = None
    ratio: float | None = None  # median / edgelite's median
    agreement: Agreement | None = None
    arena_bytes: int | None = None

    def as_json(self) -> dict:
        return {"runtime": self.key, "label": self.label, "status": self.status,
                "init_ms": self.init_ms,
                "latency_ms": self.latency.as_json() if self.latency else None,
                "median_ratio_to_edgelite": self.ratio,
                "agreement": self.agreement.as_json() if self.agreement else None,
                "arena_bytes": self.arena_bytes}


@dataclass(frozen=True)
class BenchReport:
    model: str
    model_bytes: int
    arena_bytes: int
    inputs: list[str]  # "name dtype[shape]" per input
    input_source: str
    notes: list[str]
    init_ms: float
    warmup: int
    latency: Latency
    profile: Profile | None
    callback_overhead_us: float | None  # per op, estimated from the profiled invokes
    compare: list[PeerRow] = field(default_factory=list)
    kernels: str = ""  # runtime_micro's kernel paths on this CPU, e.g. "opt+avx2"
    threads: int = 1  # runtime_micro's and the peers' (TFLite Micro runs one)

    def as_json(self) -> dict:
        return {
            "model": self.model, "model_bytes": self.model_bytes, "kernels": self.kernels,
            "arena_bytes": self.arena_bytes, "inputs": self.inputs,
            "input_source": self.input_source, "notes": self.notes, "init_ms": self.init_ms,
            "warmup": self.warmup, "latency_ms": self.latency.as_json(),
            "profile": self.profile.as_json() if self.profile else None,
            "profile_callback_overhead_us_per_op": self.callback_overhead_us,
            "compare": [r.as_json() for r in self.compare], "threads": self.threads,
        }


def _describe(d: TensorDetails) -> str:
    return f"{d.name} {d.dtype}[{','.join(map(str, d.shape))}]"


def build_workload(config: BenchConfig) -> tuple[Workload, ModelInfo, str, list[str]]:
    """Read the model, size its arena, and fix the input every runtime will get."""
    from edgelite.fileio import read_bytes
    from edgelite.runtime.interpreter import Interpreter

    where = str(config.model)
    model = read_bytes(config.model, "model file")
    info = read_model(model, where)
    sizing = Interpreter(config.model)  # the exact arena; inputs' and outputs' details (errors
    #                                     name the file)
    layout = model_layout(info.metadata)
    if config.input is not None:
        inputs, notes = file_inputs(config.input, sizing.inputs, layout)
        source = f"{config.input} (first sample)"
    else:
        inputs, notes = random_inputs(sizing.inputs, config.seed), []
        source = f"random (seed {config.seed}): integers over their full range, floats in [-1, 1]"
    if config.onnx is not None and not config.onnx.is_file():
        raise EdgeliteError("ONNX model not found", where=str(config.onnx), code=Code.BAD_INPUT,
                            hint="check the --onnx path")
    w = Workload(model=model, where=where, inputs=inputs, input_details=sizing.inputs,
                 output_details=sizing.outputs, layout=layout, arena_bytes=sizing.arena_bytes,
                 onnx=config.onnx)
    return w, info, source, notes


def run_bench(config: BenchConfig) -> BenchReport:
    config.validate()
    w, info, source, notes = build_workload(config)
    host = HostRunner(w, config.disable_isa, config.threads, config.fp16)
    # the peers on as many threads as runtime_micro (TFLite Micro: one), so a row compares
    # like with like
    peers: list[Runner | Unavailable] = [make_peer(k, w, config.threads)
                                         for k in expand(config.compare)]
    running = [host, *[p for p in peers if isinstance(p, Runner)]]
    bar = Progress(config.warmup + config.runs, "bench: invokes", config.progress)
    timings = interleaved(running, config.warmup, config.runs, config.max_seconds, bar.step)
    bar.close()  # --max-seconds may stop the runs early
    latency = summarize(timings.samples_ns[host.key])
    ours = host.outputs()

    rows: list[PeerRow] = []
    if peers:
        rows.append(PeerRow(host.key, host.label, "ok", host.init_ms, latency, 1.0, None,
                            host.arena_bytes))
    for p in peers:
        if isinstance(p, Unavailable):
            rows.append(PeerRow(p.key, p.label, p.reason))
        elif p.key in timings.failures:
            rows.append(PeerRow(p.key, p.label, timings.failures[p.key], p.init_ms))
        else:
            lat = summarize(timings.samples_ns[p.key])
            rows.append(PeerRow(p.key, p.label, "ok", p.init_ms, lat,
                                lat.p50_ms / latency.p50_ms,
                                agreement(ours, p.outputs(), w.output_details, w.layout,
                                          p.real_outputs),
                                p.arena_bytes))

    prof, overhead = None, None
    if config.profile:
        prof = profile_ops(w.model, info, w.inputs, config.runs,
                           config.max_seconds, config.disable_isa, config.threads, config.fp16)
        # the profiled pass runs the ops the timed invokes fold (its callback keeps every
        # output): their time is no callback overhead
        folded = set(host.folded_ops())
        if folded:
            shown = ", #".join(map(str, sorted(folded)[:12])) + (", ..." if len(folded) > 12
                                                                 else "")
            notes = [*notes, f"{len(folded)} op(s) (#{shown}) are folded in the timed invokes "
                     "(PADs and activations into their convolutions, float16 weights "
                     "densified and dequantized at init); the per-op profile, run with a "
                     "callback, runs them"]
        kept = [o for o in prof.ops if not (o.subgraph == 0 and o.index in folded)]
        ops_per_invoke = sum(o.calls for o in kept) / prof.invokes
        folded_us = sum(o.self_median_us * o.calls for o in prof.ops
                        if o.subgraph == 0 and o.index in folded) / prof.invokes
        if ops_per_invoke:
            overhead = max(0.0, (prof.invoke_median_us - folded_us - latency.p50_ms * 1e3)
                           / ops_per_invoke)
    return BenchReport(
        model=str(config.model), model_bytes=len(w.model), arena_bytes=w.arena_bytes,
        inputs=[_describe(d) for d in w.input_details], input_source=source, notes=notes,
        init_ms=host.init_ms, warmup=config.warmup, latency=latency, profile=prof,
        callback_overhead_us=overhead, compare=rows,
        kernels=host.kernels + (f", {config.threads} threads" if config.threads > 1 else "")
        + (", --fp16: this CPU has no FEAT_FP16 (float32 as without it)"
           if config.fp16 and "fp16" not in host.kernels else ""),
        threads=config.threads)
