"""Build runtime_micro + one exported model for an ARM target and run it under QEMU.

Command line: ``python tools/arm_targets.py model.tflite [--target cortex-m4 ...]`` prints the
arena, el_init and per-invoke instruction counts on each target. Used by tests/test_targets.py
(and usable by benchmarks):

    missing = missing_tools(["cortex-m4", "aarch64"])      # [] when everything is installed
    files = export_c(model_bytes, "digits", inputs=[x], outputs=[y], steps=4)
    write_folder(files, work / "digits")
    elf = build("cortex-m4", work / "digits", "digits", out=work / "cortex-m4")
    res = run("cortex-m4", elf, plugin=build_plugin())    # HarnessResult
    res.outputs[(step, i)] -> (dtype, bytes); res.insns_init, res.insns_per_invoke

The build / run / count layer (build, run, build_plugin, ...) lives in edgelite.bench.cross,
which `edgelite bench --target` uses too; it is re-exported here. Instruction counts come from
tools/qemu_insn_plugin.c, built on first use into the user cache dir against qemu-plugin.h
from the Debian source package of the installed QEMU. That header is GPL: the plugin is a test
tool only. When the source package cannot be fetched, build_plugin raises PluginUnavailable and
callers fall back to SysTick counts (mps2 boards, SYSTICK=1).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# This checkout's runtime_micro/ even when edgelite is imported from an installed wheel.
os.environ.setdefault("EDGELITE_SOURCE", str(ROOT))
try:
    import edgelite  # noqa: F401
except ImportError:  # run as a script from a checkout without PYTHONPATH
    sys.path.insert(0, str(ROOT / "src"))

# The build/run/count layer lives in the package (edgelite bench --target uses it); this tool
# keeps the test-only helpers (smoke ELFs, library size and imports, the malformed corpus).
from edgelite.bench.cross import (
    APT_LINE,
    APT_PACKAGES,
    BOARDS,
    CORTEX_M,
    INVOKE_MARKERS,
    OP_MARKERS,
    TARGETS,
    HarnessResult,
    PluginUnavailable,
    TargetError,
    build,
    build_plugin,
    cache_dir,
    missing_tools,
    qemu_command,
    run,
)
from edgelite.bench.cross import make as _make

TARGETS_DIR = ROOT / "runtime_micro" / "targets"
PLUGIN_SRC = Path(__file__).resolve().parent / "qemu_insn_plugin.c"

__all__ = ["APT_LINE", "APT_PACKAGES", "BOARDS", "CORTEX_M", "INVOKE_MARKERS", "OP_MARKERS",
           "TARGETS", "HarnessResult", "PluginUnavailable", "TargetError", "build",
           "build_plugin", "cache_dir", "missing_tools", "qemu_command", "run"]


def build_smoke(target: str, out: Path) -> tuple[Path, Path]:
    """hello.elf (prints, exits 3) and fault.elf (jumps to a bad address) for one target."""
    _make(target, out, "hello", "fault")
    return out / "hello.elf", out / "fault.elf"


def library_size(target: str, out: Path, opt: str = "-O2") -> dict[str, int]:
    """text/data/bss totals of the runtime's objects (``size -t`` on the static library)."""
    text = _make(target, out, "size", OPT=opt)
    for line in text.splitlines():
        if "(TOTALS)" in line:
            t, d, b = (int(x) for x in line.split()[:3])
            return {"text": t, "data": d, "bss": b}
    raise TargetError(f"no (TOTALS) line in size output:\n{text}")


def library_imports(target: str, out: Path, opt: str = "-O2") -> dict[str, list[str]]:
    """{object: symbols it needs from outside runtime_micro (libc, libm, compiler helpers)}."""
    lib_dir = out / ("lib" + opt.replace("-", "_").replace("=", "_").replace(" ", ""))
    lib = lib_dir / "libedgelite_micro.a"
    if not lib.exists():
        _make(target, out, "lib", OPT=opt)
    nm = "aarch64-linux-gnu-nm" if target == "aarch64" else "arm-none-eabi-nm"
    text = subprocess.run([nm, str(lib)], check=True, capture_output=True, text=True).stdout
    defined: set[str] = set()
    needs: dict[str, list[str]] = {}
    member = ""
    for line in text.splitlines():
        if line.endswith(".o:"):
            member = line[:-1]
            continue
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            needs.setdefault(member, []).append(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRC":
            defined.add(parts[2])
    return {m: sorted(set(syms) - defined) for m, syms in needs.items()
            if set(syms) - defined}


def read_manifest(corpus_dir: Path) -> dict[str, str]:
    """{model name: expected status} from runtime_micro/corpus/MANIFEST.txt."""
    expected: dict[str, str] = {}
    for line in (corpus_dir / "MANIFEST.txt").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and not line.startswith("#"):
            expected[parts[0]] = parts[1]
    return expected


def write_corpus_sources(corpus_dir: Path, out_dir: Path) -> Path:
    """corpus_data.c holding every model named in MANIFEST.txt (for corpus_main.c)."""
    names = sorted(read_manifest(corpus_dir))
    lines = ["/* Generated by tools/arm_targets.py from runtime_micro/corpus. */",
             '#include "corpus.h"', ""]
    for k, name in enumerate(names):
        data = (corpus_dir / f"{name}.tflite").read_bytes()
        body = ",".join(str(b) for b in data) or "0"
        lines.append(f"static const unsigned char m{k}[{max(len(data), 1)}] "
                     f"__attribute__((aligned(16))) = {{{body}}};")
    lines.append("const el_corpus_entry el_corpus[] = {")
    for k, name in enumerate(names):
        size = (corpus_dir / f"{name}.tflite").stat().st_size
        lines.append(f'  {{"{name}", m{k}, {size}u}},')
    lines += ["};", f"const size_t el_corpus_count = {len(names)}u;", ""]
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "corpus_data.c"
    path.write_text("\n".join(lines))
    return path


def build_corpus(target: str, corpus_src: Path, *, out: Path, opt: str = "-O2") -> Path:
    _make(target, out, "corpus", CORPUS_SRC=str(corpus_src), OPT=opt)
    return out / "corpus.elf"


def run_corpus(target: str, elf: Path, *, qemu_cpu: str | None = None,
               timeout: float = 300) -> tuple[int, dict[str, tuple[str, str, str]], int | None]:
    """(exit code, {name: (greedy status, linear status, message)}, count from corpus_done)."""
    cmd = qemu_command(target, elf, qemu_cpu=qemu_cpu)
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    seen: dict[str, tuple[str, str, str]] = {}
    done = None
    for line in proc.stdout.splitlines():
        parts = line.split(" ", 4)
        if parts[0] == "corpus" and len(parts) >= 4:
            seen[parts[1]] = (parts[2], parts[3], parts[4] if len(parts) > 4 else "")
        elif parts[0] == "corpus_done":
            done = int(parts[1])
    if proc.returncode != 0 or done is None:
        raise TargetError(f"{' '.join(cmd)}: exit {proc.returncode}\n{proc.stdout[-3000:]}"
                          f"\n{proc.stderr[-3000:]}")
    return proc.returncode, seen, done


def fnv1a64(data: bytes) -> int:
    """The hash main.c prints for each tensor in trace builds."""
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# ------------------------------------------------------------------ command line
def _random_inputs(model: Path, steps: int, seed: int) -> list:
    import numpy as np

    from edgelite.runtime import Interpreter

    rng = np.random.default_rng(seed)
    arrays = []
    for det in Interpreter(model.read_bytes()).inputs:
        shape = (steps, *det.shape)
        if det.dtype.kind == "f":
            arrays.append(rng.standard_normal(shape).astype(det.dtype))
        else:
            info = np.iinfo(det.dtype)
            arrays.append(rng.integers(info.min, info.max, size=shape, endpoint=True,
                                       dtype=det.dtype))
    return arrays


def main(argv: list[str] | None = None) -> int:
    """Instruction counts of one .tflite on ARM targets: python tools/arm_targets.py m.tflite"""
    import argparse
    import tempfile

    from edgelite.export import c_name, export_model

    ap = argparse.ArgumentParser(description=main.__doc__)
    ap.add_argument("model", type=Path)
    ap.add_argument("--target", action="append", choices=TARGETS,
                    help="repeatable; default: cortex-m4, cortex-m55, aarch64")
    ap.add_argument("--input", action="append", type=Path,
                    help=".npy per model input (default: seeded random data)")
    ap.add_argument("--steps", type=int, default=1, help="invokes with random data")
    ap.add_argument("--cpu", default="cortex-a76", help="aarch64 QEMU CPU")
    ap.add_argument("--opt", default="-O2")
    ap.add_argument("--out", type=Path, help="build folder (default: a temporary one)")
    args = ap.parse_args(argv)
    targets = args.target or ["cortex-m4", "cortex-m55", "aarch64"]
    missing = missing_tools(targets)
    if missing:
        print(f"missing: {', '.join(missing)}\ninstall: {APT_LINE}")
        return 2
    plugin = build_plugin()
    work = args.out or Path(tempfile.mkdtemp(prefix="edgelite-arm-"))
    name = c_name(args.model.stem)
    inputs = args.input or _random_inputs(args.model, args.steps, seed=0)
    export_model(args.model, work / "export", inputs=inputs, name=name)
    header = (work / "export" / f"{name}.h").read_text()
    arena = int(re.search(r"_ARENA_SIZE (\d+)u", header).group(1))
    status = 0
    for target in targets:
        elf = build(target, work / "export", name, out=work / target, arena=arena, opt=args.opt)
        res = run(target, elf, qemu_cpu=args.cpu if target == "aarch64" else None,
                  plugin=plugin)
        cpu = f" ({args.cpu})" if target == "aarch64" else ""
        counts = (f"el_init {res.insns_init:,} instructions; {res.insns_per_invoke:,} "
                  "instructions/invoke" if res.insns_init is not None else "no counts")
        stack = (f"; stack el_init {res.stack_init} B, el_invoke {res.stack_invoke} B"
                 if res.stack_init is not None else "")
        print(f"{target}{cpu}: {res.result or 'no result'}; arena {res.arena_required} B; "
              f"{counts}{stack}")
        if res.returncode:
            print(res.describe())
        status |= res.returncode
    return status


if __name__ == "__main__":
    raise SystemExit(main())
