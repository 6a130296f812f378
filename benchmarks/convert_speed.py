"""Conversion speed: `edgelite convert` on MobileNetV2 vs onnx2tf, whole commands.

    PYTHONPATH=src python benchmarks/convert_speed.py [--width 1.0 --resolution 224 --repeat 3]

The model is tests/models.py's MobileNetV2 (torchvision layout, random He weights, BatchNorm
unfused), saved to a temporary directory. Each converter runs as a subprocess; we report the
median wall time over --repeat runs and the peak resident set size of the whole command (from
wait4's rusage for that child alone, taken in a small wrapper process; see _WRAPPER). The edgelite
output is also checked: it must load in LiteRT and agree with ONNX Runtime on a random input,
so a fast but wrong conversion cannot look good here.

onnx2tf runs when it is available: `--onnx2tf CMD` (e.g. a separate venv's
/opt/venv-onnx2tf/bin/onnx2tf), else `onnx2tf` on PATH, else `python -m onnx2tf` if importable.
It runs on a copy (it overwrites its input) in its own working directory, with the sample
calibration array it otherwise downloads already in place, so it needs no network. Without it,
the figures measured in /work/shared/PEERS.md are printed, labelled as reference figures.
This is a benchmark, not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import models  # noqa: E402  (tests/models.py: the shared model builders)

# /work/shared/PEERS.md, "Conversion, whole command, wall seconds (peak RSS)", float models,
# MobileNetV2 from Keras on this kind of machine: (width, resolution) -> (seconds, peak RSS).
PEER_REFERENCE = {
    (1.0, 224): [("onnx2tf", "50.3 s", "1.5 GB"), ("TFLiteConverter (Keras)", "14.7 s", "1.1 GB")],
    (0.35, 96): [("onnx2tf", "29.0 s", "-"), ("TFLiteConverter (Keras)", "14.5 s", "-")],
}
# onnx2tf downloads this array for any 4-D image input, even for a float conversion.
ONNX2TF_SAMPLE = "calibration_image_sample_data_20x128x128x3_float32.npy"


@dataclass
class Run:
    seconds: float
    peak_rss_bytes: int
    returncode: int
    stderr: str


# Peak RSS must be measured from a small parent: at exec, Linux carries the forking process's
# high-water RSS into the child's ru_maxrss, so a child forked straight from this process (which
# holds the model, ONNX Runtime and LiteRT) would report our memory, not its own. This wrapper
# (a bare interpreter, ~10 MB) forks the command and writes its wall time, ru_maxrss (KiB) and
# exit code to argv[1]; any command that needs more memory than the wrapper is measured exactly.
_WRAPPER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{time.perf_counter() - start} {usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"""


def run_measured(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    """Run ``cmd`` to completion: its wall time and peak RSS (see _WRAPPER)."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as result:
        done = subprocess.run([sys.executable, "-S", "-c", _WRAPPER, result.name, *cmd],
                              cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
        fields = result.read().split()
    if len(fields) != 3:  # the wrapper itself failed (e.g. the command does not exist)
        return Run(float("nan"), 0, done.returncode or 127, done.stderr)
    seconds, maxrss_kib, code = float(fields[0]), int(fields[1]), int(fields[2])
    return Run(seconds, maxrss_kib * 1024, code, done.stderr)


def edgelite_command() -> tuple[list[str], dict[str, str]]:
    """`edgelite` if installed, else `python -m edgelite.cli` from this checkout."""
    env = dict(os.environ)
    exe = shutil.which("edgelite")
    if exe:
        return [exe], env
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO / "src"), env.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-m", "edgelite.cli"], env


def onnx2tf_command(explicit: str | None) -> list[str] | None:
    if explicit:
        return explicit.split()
    exe = shutil.which("onnx2tf")
    if exe:
        return [exe]
    if importlib.util.find_spec("onnx2tf") is not None:
        return [sys.executable, "-m", "onnx2tf"]
    return None


def check_against_onnxruntime(onnx_path: Path, tflite_path: Path, resolution: int) -> str:
    """Load the .tflite in LiteRT, run one random input, compare with ONNX Runtime."""
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    try:
        interp = Interpreter(model_path=str(tflite_path))
        interp.allocate_tensors()
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not stop
        return f"LiteRT cannot load it: {e}"
    (inp,), (out,) = interp.get_input_details(), interp.get_output_details()
    x = np.random.default_rng(0).standard_normal((1, 3, resolution, resolution))
    x = x.astype(np.float32)
    ref = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})[0]
    # The converter may give the .tflite an NHWC input (the TFLite convention).
    feed = x if tuple(inp["shape"]) == x.shape else x.transpose(0, 2, 3, 1)
    interp.set_tensor(inp["index"], np.ascontiguousarray(feed))
    interp.invoke()
    got = interp.get_tensor(out["index"]).reshape(ref.shape)
    err = float(np.max(np.abs(got - ref)))
    verdict = "ok" if err <= 1e-3 * max(1.0, float(np.max(np.abs(ref)))) else "MISMATCH"
    return f"{verdict}: max |LiteRT - ORT| = {err:.2e}"


def fmt_mb(n: int) -> str:
    return f"{n / 2**20:,.0f} MB"


Row = tuple[str, str, str, str, str]


def measure(label: str, cmd: list[str], cwd: Path, repeat: int, output: Path,
            env: dict[str, str] | None = None, fresh_input: Path | None = None) -> tuple[Row, bool]:
    """Run ``cmd`` ``repeat`` times; a table row (check column empty) and whether it worked.

    ``fresh_input``: copy this file to cmd's input path before each run (for tools that
    overwrite their input); the input path is the first cmd element ending in ".onnx".
    """
    runs = []
    for _ in range(repeat):
        if fresh_input is not None:
            shutil.copyfile(fresh_input, next(Path(c) for c in cmd if c.endswith(".onnx")))
        runs.append(run_measured(cmd, cwd, env))
    bad = [r for r in runs if r.returncode != 0]
    if bad or not output.exists():
        lines = bad[0].stderr.strip().splitlines() if bad else ["no output file written"]
        why = f"exit {bad[0].returncode}: " if bad else ""
        return (label, "failed", "-", "-", why + (lines[-1] if lines else "")[:110]), False
    return (label, f"{statistics.median(r.seconds for r in runs):.2f} s",
            fmt_mb(max(r.peak_rss_bytes for r in runs)),
            f"{output.stat().st_size / 2**20:.2f} MB", ""), True


def with_check(row: Row, check: str) -> Row:
    return (*row[:4], check)


# ONNX Runtime's post-training quantization, the quickest int8 peer (PEERS.md): QDQ, per-channel
# int8 weights, int8 activations, calibrated on the same samples as edgelite.
_ORT_QUANTIZE = """
import sys
import numpy as np
from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                      quantize_static)
src, calibration, out = sys.argv[1:4]
samples = np.load(calibration)["input"]
class Reader(CalibrationDataReader):
    def __init__(self):
        self.it = iter(samples)
    def get_next(self):
        x = next(self.it, None)
        return None if x is None else {"input": x[None]}
quantize_static(src, out, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                activation_type=QuantType.QInt8, weight_type=QuantType.QInt8)
"""

# /work/shared/PEERS.md int8 conversion figures: (width, resolution) -> [(peer, seconds)].
PEER_REFERENCE_INT8 = {
    (1.0, 224): [("onnx2tf int8", "74.6 s"), ("TFLiteConverter (Keras) int8", "21.0 s"),
                 ("ORT quantize_static", "3.6 s")],
    (0.35, 96): [("onnx2tf int8", "40.0 s"), ("TFLiteConverter (Keras) int8", "14.6 s"),
                 ("ORT quantize_static", "1.7 s")],
}


def int8_rows(src: Path, tmp: Path, args: argparse.Namespace) -> list[Row]:
    """edgelite quantize and ORT quantize_static on the same random calibration samples."""
    rows: list[Row] = []
    calibration = tmp / "calibration.npz"
    rng = np.random.default_rng(1)
    np.savez(calibration, input=rng.standard_normal(
        (args.calibration_samples, 3, args.resolution, args.resolution)).astype(np.float32))
    note = f"{args.calibration_samples} random calibration samples"
    cmd, env = edgelite_command()
    if subprocess.run([*cmd, "quantize", "--help"], env=env, capture_output=True).returncode:
        rows.append(("edgelite quantize (int8)", "-", "-", "-", "no `quantize` command yet"))
    else:
        out = tmp / "edgelite_int8.tflite"
        row, ok = measure("edgelite quantize (int8)",
                          [*cmd, "quantize", str(src), "--calibration", str(calibration),
                           "-o", str(out), "--allow-low-sqnr"],  # random weights
                          tmp, args.repeat, out, env)
        rows.append(with_check(row, f"{note}; {check_int8(src, out, args.resolution)}")
                    if ok else row)
    out = tmp / "ort_int8.onnx"
    row, ok = measure("ORT quantize_static (QDQ int8)",
                      [sys.executable, "-c", _ORT_QUANTIZE, str(src), str(calibration), str(out)],
                      tmp, args.repeat, out)
    rows.append(with_check(row, f"{note}; {check_ort_int8(src, out, args.resolution)}")
                if ok else row)
    for name, secs in PEER_REFERENCE_INT8.get((args.width, args.resolution), []):
        if not name.startswith("ORT"):
            rows.append((f"{name} [reference]", secs, "-", "-", "PEERS.md figure, not measured"))
    return rows


def check_int8(onnx_path: Path, tflite_path: Path, resolution: int) -> str:
    """Load the int8 .tflite in LiteRT's reference kernels; cosine of its output with ORT's
    float output on one random input (the weights are random, so this is a sanity figure)."""
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interp = Interpreter(model_path=str(tflite_path),
                             experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
    except Exception as e:  # noqa: BLE001 - a benchmark reports, it does not stop
        return f"LiteRT cannot load it: {e}"
    (inp,), (out,) = interp.get_input_details(), interp.get_output_details()
    x = np.random.default_rng(0).standard_normal((1, 3, resolution, resolution))
    x = x.astype(np.float32)
    ref = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})[0].reshape(-1)
    feed = x if tuple(inp["shape"]) == x.shape else x.transpose(0, 2, 3, 1)
    if inp["dtype"] != np.float32:
        scale, zero = inp["quantization"]
        info = np.iinfo(inp["dtype"])
        feed = np.clip(np.round(feed / scale) + zero, info.min, info.max)
    interp.set_tensor(inp["index"], np.ascontiguousarray(feed, dtype=inp["dtype"]))
    interp.invoke()
    got = interp.get_tensor(out["index"]).reshape(-1).astype(np.float32)
    if out["dtype"] != np.float32:
        scale, zero = out["quantization"]
        got = (got - zero) * scale
    cos = float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref) + 1e-30))
    return f"LiteRT (reference kernels) vs ORT float: cosine {cos:.4f}"


def check_ort_int8(onnx_path: Path, qdq_path: Path, resolution: int) -> str:
    """The same cosine figure as check_int8, for ONNX Runtime's QDQ model."""
    import onnxruntime as ort

    x = np.random.default_rng(0).standard_normal((1, 3, resolution, resolution))
    x = x.astype(np.float32)
    ref, got = (ort.InferenceSession(str(p), providers=["CPUExecutionProvider"]).run(
        None, {"input": x})[0].reshape(-1) for p in (onnx_path, qdq_path))
    cos = float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref) + 1e-30))
    return f"ORT QDQ vs ORT float: cosine {cos:.4f}"


def main() -> int:
    ap = argparse.ArgumentParser(description="edgelite convert vs onnx2tf on MobileNetV2")
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--repeat", type=int, default=3, help="runs per converter (median)")
    ap.add_argument("--onnx2tf", default=None, metavar="CMD",
                    help="onnx2tf command, e.g. /opt/venv-onnx2tf/bin/onnx2tf")
    ap.add_argument("--no-onnx2tf", action="store_true", help="do not run onnx2tf")
    ap.add_argument("--int8", action="store_true",
                    help="also time int8 post-training quantization (edgelite, ORT)")
    ap.add_argument("--calibration-samples", type=int, default=16)
    args = ap.parse_args()

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="edgelite-bench-") as tmp_name:
        tmp = Path(tmp_name)
        model = models.mobilenet_v2(width=args.width, resolution=args.resolution)
        src = tmp / f"mobilenet_v2_{args.width:g}_{args.resolution}.onnx"
        onnx.save(model, src)
        print(f"model: MobileNetV2 {args.width:g} / {args.resolution}x{args.resolution}, "
              f"{models.param_count(model):,} parameters, {models.macs(model) / 1e6:.1f} M MACs, "
              f"{src.stat().st_size / 2**20:.1f} MB ONNX")

        # ---- edgelite, whole command --------------------------------------------------------
        cmd, env = edgelite_command()
        out = tmp / "edgelite.tflite"
        row, ok = measure("edgelite convert", [*cmd, "convert", str(src), "-o", str(out)], tmp,
                          args.repeat, out, env)
        rows.append(with_check(row, check_against_onnxruntime(src, out, args.resolution))
                    if ok else row)
        if ok:
            # The library call alone, in this process: how much of the command is start-up.
            sys.path.insert(0, str(REPO / "src"))
            from edgelite.converter import ConvertOptions, convert_to_bytes

            times = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                convert_to_bytes(src, ConvertOptions())
                times.append(time.perf_counter() - start)
            rows.append(("  of which convert_to_bytes()", f"{statistics.median(times):.2f} s",
                         "", "", "in-process, imports excluded"))

        # ---- onnx2tf ---------------------------------------------------------------------
        peer = None if args.no_onnx2tf else onnx2tf_command(args.onnx2tf)
        if peer is None:
            print("onnx2tf: not installed (pip install onnx2tf in a separate venv)")
        else:
            work = tmp / "onnx2tf"
            work.mkdir()
            np.save(work / ONNX2TF_SAMPLE,
                    np.random.default_rng(0).random((20, 128, 128, 3), dtype=np.float32))
            out_dir = work / "out"
            row, ok = measure("onnx2tf (float32)",
                              [*peer, "-i", str(work / "model.onnx"), "-o", str(out_dir)], work,
                              args.repeat, out_dir, fresh_input=src)
            if ok:
                tfl = sorted(out_dir.glob("*float32.tflite"))
                size = f"{tfl[0].stat().st_size / 2**20:.2f} MB" if tfl else "no .tflite"
                row = (*row[:3], size, "measured in this run")
            rows.append(row)
        if peer is None:
            ref = PEER_REFERENCE.get((args.width, args.resolution))
            for name, secs, rss in ref or []:
                rows.append((f"{name} [reference]", secs, rss, "-",
                             "PEERS.md figure, Keras MobileNetV2, not measured in this run"))
            if not ref:
                rows.append(("peers [reference]", "-", "-", "-",
                             "PEERS.md has figures for 1.0/224 and 0.35/96 only"))

        if args.int8:
            rows.extend(int8_rows(src, tmp, args))

    header = ("converter", f"wall (median of {args.repeat})", "peak RSS", "output", "check")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for r in [header, tuple("-" * w for w in widths), *rows]:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
