"""Quantized conversion speed: `edgelite convert --quantize int8 --calibration cal.npz` as a
whole command on MobileNetV2 with 100 calibration samples, next to ONNX Runtime's
quantize_static on the same samples and PEERS.md's TensorFlow / onnx2tf figures.

    PYTHONPATH=src python benchmarks/quant_speed.py [--width 1.0 --resolution 224 --samples 100]
    PYTHONPATH=src python benchmarks/quant_speed.py --profile     # + where the time goes

The model is tests/models.py's MobileNetV2 (random He weights, real BatchNorm statistics). The
calibration samples are crops of scikit-image's photos with ImageNet preprocessing (random
normal data when scikit-image is missing; the time does not depend on the values). Each
command runs in a subprocess (wall time, CPU time and peak RSS of that command alone, as in
convert_speed.py); the median of --repeat runs is printed. --profile runs the same conversion
in this process under cProfile and prints the functions that take the time, then the float
model's per-op profile on runtime_micro (`edgelite bench`), which is what calibration runs.
A benchmark, not a test: it prints figures and never fails on speed.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import onnx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from convert_speed import (
    _ORT_QUANTIZE,
    PEER_REFERENCE_INT8,
    edgelite_command,
    models,
)

GOAL_SECONDS = 10.0


def calibration_samples(n: int, resolution: int) -> tuple[np.ndarray, str]:
    try:
        import skimage.data as d
        from PIL import Image
    except ImportError:
        x = np.random.default_rng(0).standard_normal((n, 3, resolution, resolution))
        return x.astype(np.float32), f"{n} random normal samples (scikit-image not installed)"
    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "retina",
             "immunohistochemistry", "camera", "coins", "moon", "brick", "grass", "gravel")
    pics = [np.asarray(Image.fromarray(getattr(d, k)()).convert("RGB")) for k in names]
    rng = np.random.default_rng(0)
    mean, std = np.array([0.485, 0.456, 0.406]), np.array([0.229, 0.224, 0.225])
    out = np.empty((n, 3, resolution, resolution), np.float32)
    for i in range(n):
        px = pics[i % len(pics)]
        h, w = px.shape[:2]
        side = int(min(h, w) * rng.uniform(0.4, 1.0))
        top, left = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
        crop = Image.fromarray(px[top:top + side, left:left + side])
        x = np.asarray(crop.resize((resolution, resolution), Image.BILINEAR), np.float32)
        out[i] = ((x / 255.0 - mean) / std).transpose(2, 0, 1)
    return out, f"{n} crops of scikit-image photos (ImageNet mean/std)"


# Like convert_speed.py's wrapper (a small parent forks the command and reads its rusage), plus
# the command's CPU seconds: on a shared machine wall time depends on the neighbours' load,
# CPU time much less, and calibration runs on two threads.
_WRAPPER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, status, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(f"{time.perf_counter() - start} {ru.ru_utime + ru.ru_stime} {ru.ru_maxrss} "
            f"{os.waitstatus_to_exitcode(status)}")
"""


def run_timed(cmd: list[str], cwd: Path, env: dict | None) -> tuple[float, float, int, int, str]:
    """(wall s, CPU s, peak RSS bytes, exit code, stderr) of ``cmd`` alone."""
    with tempfile.NamedTemporaryFile("r", suffix=".txt") as result:
        done = subprocess.run([sys.executable, "-S", "-c", _WRAPPER, result.name, *cmd],
                              cwd=cwd, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True, check=False)
        wall, cpu, rss, code = result.read().split()
    return float(wall), float(cpu), int(rss) * 1024, int(code), done.stderr


def measure(label: str, cmd: list[str], cwd: Path, repeat: int, env: dict | None = None
            ) -> tuple[str, float | None]:
    runs = [run_timed(cmd, cwd, env) for _ in range(repeat)]
    bad = [r for r in runs if r[3] != 0]
    if bad:
        tail = " ".join(bad[0][4].split())[-160:]
        return f"| {label} | failed (exit {bad[0][3]}) | - | - | {tail} |", None
    wall = statistics.median(r[0] for r in runs)
    cpu = statistics.median(r[1] for r in runs)
    rss = max(r[2] for r in runs) / 2**20
    each = ", ".join(f"{r[0]:.1f}" for r in runs)
    return f"| {label} | {wall:.1f} s | {cpu:.1f} s | {rss:,.0f} MB | runs: {each} s |", wall


def profile(src: Path, cal: Path, tmp: Path) -> None:
    """The conversion in-process under cProfile, then the float model's per-op profile."""
    from edgelite.cli import main as cli_main

    out = tmp / "profiled.tflite"
    prof = cProfile.Profile()
    start = time.perf_counter()
    prof.enable()
    code = cli_main(["convert", str(src), "-o", str(out), "--quantize", "int8",
                     "--calibration", str(cal)])
    prof.disable()
    total = time.perf_counter() - start
    print(f"\nProfile (in-process, exit {code}, {total:.1f} s under cProfile):\n")
    stats = pstats.Stats(prof, stream=(buf := io.StringIO()))
    stats.sort_stats("cumulative").print_stats(18)
    print("\n".join(line for line in buf.getvalue().splitlines() if line.strip())[:6000])
    cal = sum(v[3] for k, v in stats.stats.items()  # type: ignore[attr-defined]
              if k[2] == "calibrate" and k[0].endswith("quantize/calibrate.py"))
    # The float invokes run in calibrate()'s worker threads, which cProfile does not see:
    # there they show up as calibrate() waiting on its futures.
    print(f"\ncalibrate() (float runs on runtime_micro in worker threads, observers): "
          f"{cal:.1f} s of {total:.1f} s ({100 * cal / total:.0f} %)")
    float_model = tmp / "float.tflite"
    cmd, env = edgelite_command()
    subprocess.run([*cmd, "convert", str(src), "-o", str(float_model)], env=env, check=True,
                   capture_output=True)
    res = subprocess.run([*cmd, "bench", str(float_model), "--runs", "3", "--warmup", "1",
                          "--json"], env=env, capture_output=True, text=True, check=False)
    if res.returncode != 0:
        print(f"\nedgelite bench failed: {res.stderr[-400:]}")
        return
    report = json.loads(res.stdout)
    print(f"\nWhat one calibration sample costs: the float model on runtime_micro "
          f"(`edgelite bench`), median {report['latency_ms']['p50_ms']:.1f} ms per invoke\n")
    print("| op | count | ms per invoke | share |")
    print("|---|---|---|---|")
    for row in report["profile"]["by_type"][:6]:
        print(f"| {row['op']} | {row['count']} | {row['us_per_invoke'] / 1000:.1f} | "
              f"{row['percent']:.1f} % |")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--width", type=float, default=1.0)
    ap.add_argument("--resolution", type=int, default=224)
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--profile", action="store_true", help="also profile one conversion")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        src = tmp / "mobilenet_v2.onnx"
        onnx.save(models.mobilenet_v2(args.width, args.resolution), str(src))
        x, note = calibration_samples(args.samples, args.resolution)
        cal = tmp / "cal.npz"
        np.savez(cal, input=x)
        print(f"MobileNetV2 {args.width:g}/{args.resolution}, calibration: {note}; "
              f"median of {args.repeat} whole commands\n")
        print("| command | wall | CPU (user+sys) | peak RSS | notes |")
        print("|---|---|---|---|---|")
        cmd, env = edgelite_command()
        line, secs = measure(
            "edgelite convert --quantize int8", [*cmd, "convert", str(src), "-o",
                                                 str(tmp / "int8.tflite"), "--quantize", "int8",
                                                 "--calibration", str(cal)],
            tmp, args.repeat, env)
        print(line, flush=True)
        line, _ = measure("ORT quantize_static (QDQ int8, same samples)",
                          [sys.executable, "-c", _ORT_QUANTIZE, str(src), str(cal),
                           str(tmp / "ort.onnx")], tmp, args.repeat)
        print(line, flush=True)
        for peer, figure in PEER_REFERENCE_INT8.get((args.width, args.resolution), []):
            print(f"| {peer} | {figure} | - | - | [reference, PEERS.md; not run here] |")
        if secs is not None:
            verdict = "meets" if secs < GOAL_SECONDS else "misses"
            print(f"\nedgelite: {secs:.1f} s, {verdict} the {GOAL_SECONDS:.0f} s goal")
        if args.profile:
            profile(src, cal, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
