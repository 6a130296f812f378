"""Flash and RAM of `edgelite export` firmware bundles on Cortex-M, next to TFLite Micro.

    PYTHONPATH=src python benchmarks/export_bundle.py [--targets cortex-m4,cortex-m55]
        [--cases digits,mnv2]

Each case is an int8 .tflite made here (the digits example CNN quantized on its calibration
set; MobileNetV2-0.35/96 from tests/models.py quantized on seeded random data), exported with
`edgelite export M -o DIR --input x.npy` (NCHW float sample) and built with the bundle's own
`make -C DIR TARGET=...`: only the model's ops (and tensor types) compiled in. The firmware runs
under QEMU and must print "outputs match"; the Makefile's flash line (runtime code the linker
kept for the model's ops + the model) and the program's RAM line (arena + interpreter + painted
stack) are reported, with the instructions of one el_invoke counted by the QEMU plugin
(tools/qemu_insn_plugin.c, from el_invoke to main.c's el_bundle_stack_measure right after it).

Peers ([reference], PEERS.md, measured earlier on this kind of machine): TFLite Micro + CMSIS-NN
on MobileNetV2-0.35/96, Cortex-M4: about 54 KB of TFLite Micro code plus 36-48 KB of CMSIS-NN
(~102 KB), arena 213 KB, 48.8 M instructions per invoke. Issue 12's goal: runtime code for one
model's ops <= 50 KB on Cortex-M4.

A benchmark: it prints figures and never fails on them.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import models  # tests/models.py: the shared model builders  # noqa: E402

from edgelite.bench import cross  # noqa: E402
from edgelite.quantize import QuantizeOptions, quantize  # noqa: E402


def make_cases(folder: Path, wanted: list[str]) -> dict[str, tuple[Path, Path]]:
    """name -> (int8 .tflite, NCHW float input .npy)."""
    import onnx

    out = {}
    if "digits" in wanted:
        m = folder / "digits_i8.tflite"
        m.write_bytes(quantize(models.digits_cnn_path(), QuantizeOptions(
            calibration=REPO / "examples" / "digits" / "calibration.npz",
            progress=False)).model)
        np.save(folder / "digits_x.npy", models.digits_data()["input"][:1].astype(np.float32))
        out["digits"] = (m, folder / "digits_x.npy")
    if "mnv2" in wanted:
        src = folder / "mnv2.onnx"
        onnx.save(models.mobilenet_v2(0.35, 96), str(src))
        cal = np.random.default_rng(0).normal(0, 1, (8, 3, 96, 96)).astype(np.float32)
        np.save(folder / "mnv2_cal.npy", cal)
        m = folder / "mnv2_035_96_i8.tflite"
        # random weights sit under quantize's 15 dB floor; sizes are what is measured here
        m.write_bytes(quantize(src, QuantizeOptions(calibration=folder / "mnv2_cal.npy",
                                                    progress=False, allow_low_sqnr=True)).model)
        np.save(folder / "mnv2_x.npy", cal[:1])
        out["mnv2"] = (m, folder / "mnv2_x.npy")
    return out


def invoke_instructions(target: str, elf: Path, plugin: Path) -> int | None:
    begin = cross._symbol(target, elf, "el_invoke")
    end = cross._symbol(target, elf, "el_bundle_stack_measure")  # main.c: right after el_invoke
    counts = elf.with_suffix(".insns")
    counts.unlink(missing_ok=True)
    cmd = cross.qemu_command(target, elf, plugin_args=f"{plugin},begin={begin:#x},"
                                                      f"end={end:#x},out={counts}")
    subprocess.run(cmd, check=True, capture_output=True, timeout=900)
    m = re.search(r"region=(\d+) regions=(\d+)", counts.read_text())
    return int(m[1]) // int(m[2]) if m and int(m[2]) else None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", default="cortex-m4")
    ap.add_argument("--cases", default="digits,mnv2")
    args = ap.parse_args()
    targets = args.targets.split(",")
    plugin = cross.build_plugin()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, (model, x) in make_cases(folder, args.cases.split(",")).items():
            bundle = folder / "bundles" / name
            exp = subprocess.run([sys.executable, "-m", "edgelite.cli", "export", str(model),
                                  "-o", str(bundle), "--input", str(x)], check=True,
                                 capture_output=True, text=True)
            ops = exp.stdout.split("ops compiled in: ", 1)[1].splitlines()[0]
            for target in targets:
                built = subprocess.run(["make", "-C", str(bundle), "-j2", f"TARGET={target}"],
                                       check=True, capture_output=True, text=True)
                flash = re.search(r"flash (\d+) B = runtime code (\d+) B", built.stdout)
                run = subprocess.run(["make", "-C", str(bundle), f"TARGET={target}", "run"],
                                     check=False, capture_output=True, text=True)
                ok = "outputs match" in run.stdout
                ram = re.search(r"ram (\d+) B = arena (\d+) B \+ interpreter (\d+) B \+ "
                                r"stack (\d+) B", run.stdout)
                elf = bundle / "build" / target / f"{model.stem}.elf"
                insns = invoke_instructions(target, elf, plugin)
                rows.append((name, target, ops, int(flash[2]), model.stat().st_size,
                             int(flash[1]), ram and int(ram[2]), ram and int(ram[4]),
                             ram and int(ram[1]), insns, ok))
    print("| model | target | ops compiled in | runtime code | model | flash | arena | stack | "
          "RAM | instructions/invoke | outputs |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:,} B | {r[4]:,} B | {r[5]:,} B | "
              f"{r[6]:,} B | {r[7]:,} B | {r[8]:,} B | "
              f"{f'{r[9]:,}' if r[9] else '-'} | "
              f"{'match' if r[10] else 'MISMATCH'} |")


if __name__ == "__main__":
    main()
