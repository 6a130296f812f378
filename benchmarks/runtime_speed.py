"""Inference speed: runtime_micro vs LiteRT, TFLite Micro and ONNX Runtime on MobileNetV2.

    PYTHONPATH=src python benchmarks/runtime_speed.py [--models 0.35:96,1.0:224]
        [--kinds float,int8] [--runs 20] [--warmup 3] [--max-seconds 90] [--threads 1,2]

For each MobileNetV2 (tests/models.py: torchvision layout, random He weights, BatchNorm unfused)
the ONNX model is converted to float .tflite, and quantized to int8 with
`edgelite.quantize.api.quantize` on 8 random calibration samples. Each .tflite then goes through
the same library as `edgelite bench --compare` (edgelite.bench.run_bench): every runtime on the
same input, one thread, invokes interleaved round-robin so machine noise hits all alike, and
outputs compared with edgelite's. ONNX Runtime runs the ONNX source for the float model, and for
the int8 model a QDQ model from its own `quantize_static` on the same calibration samples (what
PEERS.md measured), or the float source when that fails.

Kernel paths: int8 outputs must be byte-identical on every path; float SIMD paths (AVX2+FMA,
NEON) use fused multiply-adds, so the row prints their largest difference to the reference
kernels as a share of the output range instead.

--threads: runtime_micro with each thread count (Interpreter(num_threads=N), its own hosted
pool), interleaved in one run, with the speed-up over the first count and whether the outputs
are byte-identical (they must be). The peers' table above is one thread. LiteRT's XNNPACK
with the same counts runs in the same interleaving. A second table times the same runners in
blocks of 5 invokes back to back, the first of each block untimed, blocks round-robin: caches
stay warm and pool threads do not fall asleep between the timed invokes, as in an app that runs
inference continuously; in the interleaved run every invoke starts after the other runtimes'
(cold caches, sleeping workers). Last, with two threads, what the two CPUs give each runtime's
kernels at that minute (two_cpus: one-thread interpreters pinned to each CPU, alone and both at
once): the ceiling of a perfect split, and the share of it each runtime's speed-up reaches. On
this VM the two vCPUs differ in speed from minute to minute and may slow each other down, so
the speed-up alone says little about the split (benchmarks/README.md, stop 32).

The last column holds PEERS.md's medians for the same model size, measured earlier on this kind
of machine with MobileNetV2 from Keras: labelled [reference], they are not from this run. This
is a benchmark: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import models  # tests/models.py: the shared model builders

from edgelite.bench import BenchConfig, run_bench
from edgelite.bench.api import BenchReport

# /work/shared/PEERS.md, "Inference, one thread, median ms":
# (kind, resolution) -> runtime key -> ms. Missing entries were not measured there.
PEERS_MS: dict[tuple[str, int], dict[str, float]] = {
    ("int8", 96): {"litert-xnnpack": 0.29, "litert-builtin": 1.29, "litert-ref": 9.1,
                   "tflite-runtime": 4.6, "tflm": 16.1, "onnxruntime": 0.51},
    ("int8", 224): {"litert-xnnpack": 3.2, "litert-builtin": 15.1, "litert-ref": 141.6,
                    "tflite-runtime": 60.6, "tflm": 306.0, "onnxruntime": 6.3},
    ("float", 96): {"litert-xnnpack": 0.39, "tflite-runtime": 0.40, "tflm": 12.5,
                    "onnxruntime": 0.48},
    ("float", 224): {"litert-xnnpack": 7.2, "tflite-runtime": 7.7, "onnxruntime": 7.9},
}
PEERS_ARENA = {("int8", 96): 218_000, ("int8", 224): 1_665_168, ("float", 96): 624_656}
COMPARE = ("litert", "tflite-runtime", "tflm", "onnxruntime")
CALIBRATION_SAMPLES = 8


def ort_int8(src: Path, calibration: np.ndarray, out: Path) -> tuple[Path, str]:
    """ONNX Runtime's QDQ int8 model (per-channel weights), or the float source if that fails."""
    try:
        from helpers.ort_quant import ort_qdq

        ort_qdq(src, out, (x[None] for x in calibration), "input")
        return out, "ONNX Runtime runs a QDQ int8 model from its quantize_static (same samples)"
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not stop
        return src, f"ONNX Runtime runs the float source (quantize_static failed: {e})"


def fmt_ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 1 else (f"{v:.2f}" if v < 100 else f"{v:.1f}")


def table(report: BenchReport, reference: dict[str, float]) -> list[str]:
    # The agreement text (or why a peer has no figures) goes last: it is the long one.
    head = ["runtime", "median ms", "x edgelite", "PEERS.md ms [reference]",
            "outputs vs edgelite"]
    rows = []
    for r in report.compare:
        ref = fmt_ms(reference.get(r.key))
        if r.latency is None:  # not installed or failed: say why, keep the reference figure
            rows.append([r.label, "-", "-", ref, r.status])
            continue
        agree = "-" if r.key == "edgelite" else (r.agreement.text() if r.agreement else "-")
        rows.append([r.label, fmt_ms(r.latency.p50_ms), f"{r.ratio:.2f}", ref, agree])
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    right = {1, 2, 3}

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(head), *(line(row) for row in rows)]


def by_instruction_set(path: Path, args: argparse.Namespace) -> list[str]:
    """runtime_micro on each kernel path this CPU has (Interpreter disable_isa: what a CPU
    without AVX2, or without SSE4.1, would run), interleaved in one run; same bytes on all."""
    from edgelite.bench.api import build_workload
    from edgelite.bench.compare import interleaved
    from edgelite.bench.runners import HostRunner
    from edgelite.bench.stats import summarize
    from edgelite.runtime import _lib

    w, _, _, _ = build_workload(BenchConfig(model=path, profile=False))
    everything = _lib.ISA_ALL & ~_lib.ISA_OPT
    settings = {"reference kernels": _lib.ISA_ALL, "portable C": everything}
    for names in (("sse4.1",), ("avx2",), ("avx2", "avx512vnni"), ("avx2", "avxvnni"),
                  ("avx2", "avx512f"), ("avx2", "avx512f", "avx512vnni"), ("neon",),
                  ("neon", "sdot")):
        bits = sum(_lib.ISA_BITS[n] for n in names)
        settings["+".join(names)] = everything & ~bits
    runners = []
    for label, disable in settings.items():
        r = HostRunner(w, disable)
        if r.kernels != "reference" and not all(
                n in r.kernels.split("+") for n in label.split("+") if n != "portable C"):
            continue  # this CPU lacks the instruction set
        r.key = label
        runners.append(r)
    timings = interleaved(runners, args.warmup, args.runs, args.max_seconds)
    outs = {r.key: [o.tobytes() for o in r.outputs()] for r in runners}
    same = len({tuple(v) for v in outs.values()}) == 1
    note = f"outputs identical: {same}"
    if not same and any(o.dtype == np.float32 for o in runners[0].outputs()):
        # float SIMD paths use fused multiply-adds: within rounding of the reference, not its bits
        ref = [o.astype(np.float64) for o in runners[0].outputs()]
        worst = 0.0
        for r in runners[1:]:
            for want, got in zip(ref, r.outputs()):
                span = float(want.max() - want.min()) or 1.0
                worst = max(worst, float(np.abs(got - want).max()) / span)
        note = f"float: largest difference to {runners[0].key} {worst:.2g} of the output range"
    rows = [f"runtime_micro by kernel path (one interleaved run, {note}):"]
    fastest = min(summarize(timings.samples_ns[r.key]).p50_ms for r in runners)
    for r in runners:
        p50 = summarize(timings.samples_ns[r.key]).p50_ms
        rows.append(f"  {r.key:22s} {fmt_ms(p50):>9s} ms  x{p50 / fastest:5.2f}")
    return rows


def by_threads(path: Path, counts: list[int], args: argparse.Namespace) -> list[str]:
    """runtime_micro with each thread count, interleaved in one run; same bytes on all. LiteRT's
    XNNPACK with the same thread counts runs in the same interleaving: its speed-up is what
    this machine's cores give a peer (two vCPUs may share one physical core). Then the same
    runners in warm blocks (in_blocks)."""
    from edgelite.bench.api import build_workload
    from edgelite.bench.compare import interleaved
    from edgelite.bench.runners import HostRunner, _litert

    w, _, _, _ = build_workload(BenchConfig(model=path, profile=False))
    runners, peers = [], []
    for n in counts:
        r = HostRunner(w, 0, n)
        r.key = f"{n} thread{'s' if n > 1 else ''}"
        runners.append(r)
    if importlib.util.find_spec("ai_edge_litert") is not None:
        for n in counts:
            r = _litert("litert-xnnpack", w, n)
            r.key = f"XNNPACK {n} thread{'s' if n > 1 else ''}"
            peers.append(r)
    timings = interleaved(runners + peers, args.warmup, args.runs, args.max_seconds)
    outs = {r.key: [o.tobytes() for o in r.outputs()] for r in runners}
    rows = ["runtime_micro by thread count, LiteRT XNNPACK beside it (one interleaved run; "
            f"runtime_micro outputs identical: {len({tuple(v) for v in outs.values()}) == 1}):"]
    rows += _speed_up_rows(timings.samples_ns, (runners, peers))
    medians: dict[str, float] = {}
    if args.thread_rounds > 1 and len(runners) > 1:
        more, medians = _rounds(runners, peers, timings.samples_ns, args)
        rows += more
    warm = in_blocks(runners + peers, args.runs)
    rows.append(f"the same runners, each in blocks of {BLOCK} invokes back to back (blocks "
                "round-robin, the first invoke of a block untimed):")
    rows += _speed_up_rows(warm, (runners, peers))
    if max(counts) == 2:
        rows.append("what the two CPUs give each runtime's kernels this minute (one-thread "
                    "interpreters pinned to each CPU, alone and one per CPU at once): the "
                    "ceiling of a perfect split, and the share of it the two-thread speed-up "
                    "above reaches (its interleaved median; of the rounds' median with "
                    "--thread-rounds):")
        makers = [("runtime_micro", lambda: HostRunner(w, 0, 1), runners)]
        if peers:
            makers.append(("XNNPACK", lambda: _litert("litert-xnnpack", w, 1), peers))
        for label, make, group in makers:
            cpus = two_cpus(make, args.runs)
            if cpus is None:
                rows.append(f"  {label:22s} this process cannot pin two CPUs")
                continue
            reached = medians.get(label, speed_up(timings.samples_ns, group))
            c0, c1 = cpus["cpus"]
            rows.append(f"  {label:22s} CPU {c0} alone {fmt_ms(cpus['alone0'])} ms, CPU {c1} "
                        f"alone {fmt_ms(cpus['alone1'])}; at once {fmt_ms(cpus['both0'])} / "
                        f"{fmt_ms(cpus['both1'])}: ceiling x{cpus['ceiling']:.2f} (without "
                        f"moving work: x{cpus['floor']:.2f}); speed-up x{reached:.2f} = "
                        f"{reached / cpus['ceiling']:.2f} of the ceiling")
    return rows


def speed_up(samples: dict[str, list[int]], group: list) -> float:
    """Median of the group's first runner over median of its last (one thread over the
    largest thread count)."""
    from edgelite.bench.stats import summarize

    return summarize(samples[group[0].key]).p50_ms / summarize(samples[group[-1].key]).p50_ms


def _rounds(runners: list, peers: list, first: dict[str, list[int]],
            args: argparse.Namespace) -> tuple[list[str], dict[str, float]]:
    """The interleaved run again, --thread-rounds times in all: each round's speed-up of the
    largest thread count over one thread, for runtime_micro and XNNPACK. On a shared VM a
    minute's speed-up swings by 0.3 and more for both runtimes (benchmarks/README.md, stops 30
    and 31), so one round says little; the rounds show the spread and how often each
    runtime reaches a given speed-up."""
    import statistics

    from edgelite.bench.compare import interleaved

    groups = [("runtime_micro", runners)] + ([("XNNPACK", peers)] if peers else [])
    ups: dict[str, list[float]] = {label: [speed_up(first, g)] for label, g in groups}
    for _ in range(args.thread_rounds - 1):
        t = interleaved(runners + peers, args.warmup, args.runs, args.max_seconds)
        for label, g in groups:
            ups[label].append(speed_up(t.samples_ns, g))
    rows = [f"{args.thread_rounds} interleaved rounds, speed-up of {runners[-1].key} over one "
            "thread in each (in order), median, rounds at x1.70 or more:"]
    for label, v in ups.items():
        rows.append(f"  {label:22s} " + " ".join(f"{x:.2f}" for x in v) +
                    f" | median x{statistics.median(v):.2f}, {sum(x >= 1.7 for x in v)} of "
                    f"{len(v)} at x1.70+")
    return rows, {label: statistics.median(v) for label, v in ups.items()}


def two_cpus(make, runs: int) -> dict | None:
    """How fast each CPU runs one runtime's one-thread interpreter this minute: pinned to the
    first CPU alone, to the second alone, and both at once (an interpreter per CPU, the second
    driven from its own Python thread; both runtimes release the GIL in invoke), round by
    round, median ms of each. A VM's two vCPUs are not two equal cores: one may run 1.3 to 1.5
    times slower than the other for minutes (a pure FMA loop too), and both may slow down when
    both are busy (benchmarks/README.md, stop 32). So the most any split of the same kernels
    could reach is the work rate of both CPUs busy at once against one alone:
    `ceiling` = mean alone time x (1 / CPU 0's time at once + 1 / CPU 1's), median over rounds.
    (`floor` = 2 x mean alone time / the slower CPU's time at once: what a split that cannot
    move work between threads reaches; a work-stealing split may beat it.) Medians in ms under
    "alone0" / "alone1" / "both0" / "both1", the two CPU numbers under "cpus"; None where this
    process cannot pin two CPUs."""
    import os
    import statistics
    import threading

    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = os.sched_getaffinity(0)
    if len(allowed) < 2:
        return None
    cpus = sorted(allowed)[:2]
    pair = [make(), make()]
    for r in pair:
        r.set_inputs()
        r.invoke()
    go, done = threading.Barrier(2), threading.Barrier(2)
    phase = {"name": ""}
    partner_ms: list[float] = []

    def timed(r) -> float:
        start = time.perf_counter_ns()
        r.invoke()
        return (time.perf_counter_ns() - start) / 1e6

    def partner() -> None:
        try:
            os.sched_setaffinity(0, {cpus[1]})
            while True:
                go.wait()
                if phase["name"] == "stop":
                    return
                if phase["name"] in ("alone", "both"):
                    partner_ms.append(timed(pair[1]))
                done.wait()
        except threading.BrokenBarrierError:
            return
        except Exception:  # pinning refused or an invoke failed: stop the main loop too
            go.abort()
            done.abort()

    helper = threading.Thread(target=partner)
    helper.start()
    a0, a1, b0, b1, ceiling = [], [], [], [], []
    finished = False
    try:
        os.sched_setaffinity(0, {cpus[0]})
        for _ in range(runs):
            phase["name"] = "alone"  # the second CPU alone
            go.wait()
            done.wait()
            a1.append(partner_ms[-1])
            # the first CPU alone (the partner waits at the barrier): the second CPU then idles
            # for an invoke before both run, as a split's worker idles between invokes
            phase["name"] = "idle"
            go.wait()
            a0.append(timed(pair[0]))
            done.wait()
            phase["name"] = "both"
            go.wait()
            b0.append(timed(pair[0]))
            done.wait()
            b1.append(partner_ms[-1])
            ceiling.append((a0[-1] + a1[-1]) / 2 * (1 / b0[-1] + 1 / b1[-1]))
        phase["name"] = "stop"
        go.wait()
        finished = True
    except (threading.BrokenBarrierError, OSError):
        pass  # the partner failed, or this thread could not be pinned: no figures
    finally:
        if not finished:
            go.abort()
            done.abort()
        helper.join()
        os.sched_setaffinity(0, allowed)
    if not finished:
        return None
    med = statistics.median
    return {"alone0": med(a0), "alone1": med(a1), "both0": med(b0), "both1": med(b1),
            "ceiling": med(ceiling), "cpus": cpus,
            "floor": med([(x + y) / max(p, q) for x, y, p, q in zip(a0, a1, b0, b1)])}


BLOCK = 5


def in_blocks(runners: list, runs: int) -> dict[str, list[int]]:
    """About `runs` timed invokes of each runner, taken in blocks of BLOCK invokes in a row
    whose first is not timed: the timed ones find warm caches and pool threads still polling,
    as in an app that runs inference continuously. The blocks go round-robin, so a slow minute
    of the machine meets every runner alike (ns each)."""
    out: dict[str, list[int]] = {r.key: [] for r in runners}
    for _ in range(max(1, -(-runs // (BLOCK - 1)))):
        for r in runners:
            for i in range(BLOCK):
                r.set_inputs()
                start = time.perf_counter_ns()
                r.invoke()
                if i > 0:
                    out[r.key].append(time.perf_counter_ns() - start)
    return out


def _speed_up_rows(samples: dict[str, list[int]], groups) -> list[str]:
    """p50, p90 and speed-up over the group's first runner, per runner of each group."""
    from edgelite.bench.stats import summarize

    rows = []
    for group in groups:
        if not group:
            continue
        first = summarize(samples[group[0].key]).p50_ms
        for r in group:
            lat = summarize(samples[r.key])
            rows.append(f"  {r.key:22s} {fmt_ms(lat.p50_ms):>9s} ms  p90 "
                        f"{fmt_ms(lat.p90_ms):>9s} ms  speed-up x{first / lat.p50_ms:5.2f}")
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--models", default="0.35:96,1.0:224",
                    help="WIDTH:RESOLUTION pairs, comma-separated")
    ap.add_argument("--kinds", default="float,int8")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--max-seconds", type=float, default=90.0)
    ap.add_argument("--threads", default="1,2",
                    help="runtime_micro thread counts compared in one interleaved run "
                         "(comma-separated; empty: skip)")
    ap.add_argument("--thread-rounds", type=int, default=1,
                    help="repeat the thread count's interleaved run this many times and print "
                         "each round's speed-up (the spread on a shared machine)")
    args = ap.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]

    from edgelite.converter import convert, convert_to_bytes
    from edgelite.quantize.api import QuantizeOptions, quantize

    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    from edgelite.runtime import _lib

    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False).stdout.strip()
    print(f"edgelite at git {rev or '?'}, runtime_micro from {_lib.load()._name}")
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for spec in args.models.split(","):
            width, resolution = float(spec.split(":")[0]), int(spec.split(":")[1])
            name = f"mobilenet_v2_{width:g}_{resolution}"
            src = tmp / f"{name}.onnx"
            onnx.save(models.mobilenet_v2(width, resolution), str(src))
            calibration = np.random.default_rng(1).standard_normal(
                (CALIBRATION_SAMPLES, 3, resolution, resolution)).astype(np.float32)
            for kind in kinds:
                start = time.perf_counter()
                onnx_for_ort, ort_note = src, "ONNX Runtime runs the float ONNX source"
                if kind == "float":
                    data = convert_to_bytes(src)
                else:
                    data = quantize(convert(src), QuantizeOptions(
                        calibration={"input": calibration}, samples=CALIBRATION_SAMPLES,
                        # random weights: the SQNR floor would refuse some sizes; speed is
                        # what is measured here
                        progress=False, allow_low_sqnr=True)).model
                    onnx_for_ort, ort_note = ort_int8(src, calibration, tmp / f"{name}_qdq.onnx")
                path = tmp / f"{name}_{kind}.tflite"
                path.write_bytes(data)
                prepared = time.perf_counter() - start
                report = run_bench(BenchConfig(model=path, warmup=args.warmup, runs=args.runs,
                                               max_seconds=args.max_seconds, compare=COMPARE,
                                               onnx=onnx_for_ort, profile=False))
                lat = report.latency
                header = (f"\n== MobileNetV2 {width:g} / {resolution}x{resolution}, {kind}: "
                          f"{len(data):,} bytes, runtime_micro arena {report.arena_bytes:,} B")
                if (kind, resolution) in PEERS_ARENA:
                    header += (f" (TFLM arena [reference] {PEERS_ARENA[(kind, resolution)]:,} "
                               "B)")
                print(header)
                print(f"   converted in {prepared:.1f} s; {lat.runs} interleaved runs after "
                      f"{args.warmup} warmup; edgelite init {report.init_ms:.2f} ms, "
                      f"p90 {fmt_ms(lat.p90_ms)} ms")
                print(f"   {ort_note}")
                for row in table(report, PEERS_MS.get((kind, resolution), {})):
                    print("   " + row)
                tflm = next((r for r in report.compare if r.key == "tflm" and r.arena_bytes),
                            None)
                if tflm is not None:
                    print(f"   TFLite Micro arena in this run: {tflm.arena_bytes:,} B")
                for row in by_instruction_set(path, args):
                    print("   " + row)
                if thread_counts:
                    for row in by_threads(path, thread_counts, args):
                        print("   " + row)
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
