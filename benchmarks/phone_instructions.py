"""Instructions per invoke on phone cores: runtime_micro beside LiteRT (XNNPACK and built-in).

    PYTHONPATH=src python benchmarks/phone_instructions.py [MODEL.tflite ...]
        [--models 0.35:96:int8,1.0:224:float32] [--cpus cortex-a76,cortex-a53] [--invokes 4]
        [--folder ~/.cache/edgelite/phone]

Without MODEL paths it builds MobileNetV2s with the repo's own tools (tests/models.py:
torchvision layout, random He weights; converted with edgelite, int8 by edgelite's quantizer on
8 random calibration samples), spec WIDTH:RESOLUTION:KIND. With paths, those files are measured
as they are (TensorFlow's converter files too).

LiteRT side: LiteRT's own aarch64 wheel in an aarch64 CPython under qemu-aarch64. The first run
sets up, into --folder (once, a few seconds plus ~50 MB of downloads):
  root/  Debian's arm64 python3.X-minimal, libpython3.X-minimal, libpython3.X-stdlib and the
         libraries they link (apt-get download into a private apt state with
         APT::Architecture=arm64, so the system's apt and dpkg are left untouched), unpacked with
         dpkg -x: no chroot, QEMU's -L points there.
  site/  ai-edge-litert's and numpy's manylinux aarch64 wheels (pip download, the host venv's
         versions where they exist for aarch64), unzipped.
  cpuinfo-<cpu>: an ARM /proc/cpuinfo. LiteRT's CPU detection (cpuinfo) parses it and crashes at
         interpreter creation on the host's x86 one, so each guest run happens in a private mount
         namespace (unshare -m; -rm when not root) with this file bind-mounted over /proc/cpuinfo.
Each model runs twice per runtime in the guest: load, allocate, one warm-up invoke, then 0 or N
invokes; QEMU's instruction-count plugin (tools/qemu_insn_plugin.c, edgelite.bench.cross) counts
the whole process, and per invoke = (total(N) - total(0)) / N. Python's hash seed is fixed, ASLR
off (setarch -R) and OpenBLAS on one thread, which leaves a few thousand instructions of noise
between identical runs (under 0.1 % of a MobileNetV2 invoke with N = 4). LiteRT runs on one
thread; "XNNPACK" is the default interpreter (its log must say the XNNPACK delegate was
created), "built-in" is OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES (TFLite's optimized
built-in kernels, no delegate).

runtime_micro side: `edgelite bench --target aarch64 --qemu-cpu CPU` on the same file
(edgelite.bench.targets: static aarch64 build, outputs checked against the host, the steady-state
invoke counted between markers by the same plugin), built from the checkout this script runs in
or from EDGELITE_SOURCE (compare two revisions: EDGELITE_SOURCE=/path/to/other/checkout).

A benchmark: prints one table, never fails on the figures; not a CI step.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CPUS = ("cortex-a76", "cortex-a53")
# /proc/cpuinfo fields of each QEMU -cpu model, as a Linux kernel on that core prints them.
CPU_FIELDS = {
    "cortex-a76": ("fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid "
                   "asimdrdm lrcpc dcpop asimddp", "0x4", "0xd0b", "1"),
    "cortex-a53": ("fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid", "0x0", "0xd03", "4"),
}
WHEELS = ("ai-edge-litert", "numpy")
EXTRA_LIBS = ("libstdc++6", "libgcc-s1")  # LiteRT's C++ runtime (not a Python dependency)
SETUP_VERSION = "1"  # bump when the folder layout changes

GUEST = '''\
import sys
import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

path, mode, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
kw = {} if mode == "xnnpack" else {
    "experimental_op_resolver_type": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES}
it = Interpreter(model_path=path, num_threads=1, **kw)
it.allocate_tensors()
rng = np.random.default_rng(0)
for d in it.get_input_details():
    if np.issubdtype(d["dtype"], np.floating):
        x = rng.standard_normal(d["shape"]).astype(d["dtype"])
    else:
        info = np.iinfo(d["dtype"])
        x = rng.integers(info.min, info.max, d["shape"], endpoint=True).astype(d["dtype"])
    it.set_tensor(d["index"], x)
it.invoke()  # warm-up: first-invoke work (packing, allocation) is not per-invoke work
for _ in range(n):
    it.invoke()
print("guest ok", n)
'''


class SetupError(RuntimeError):
    """Something the benchmark needs is missing; the message is one line saying what to do."""


class GuestError(RuntimeError):
    """A measured run failed; the message says which and carries the end of its log."""


# ------------------------------------------------------------------ setup
def default_folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgelite" / "phone"


def check_host() -> None:
    """One clear line for each thing the host lacks (before any download)."""
    for tool, package in (("qemu-aarch64", "qemu-user"), ("unshare", "util-linux"),
                          ("setarch", "util-linux"), ("mount", "mount")):
        if shutil.which(tool) is None:
            raise SetupError(f"{tool} not found: apt-get install -y {package}")


def _apt(folder: Path, *args: str, cwd: Path | None = None) -> str:
    """apt-get / apt-cache on a private arm64 state under folder/apt (system apt untouched)."""
    work = folder / "apt"
    opts = [f"-oDir::Etc::SourceList={work / 'sources.list'}",
            "-oDir::Etc::SourceParts=/dev/null", f"-oDir::State::Lists={work / 'lists'}",
            f"-oDir::Cache={work / 'cache'}", "-oDir::State::status=/dev/null",
            "-oAPT::Architecture=arm64", "-oAPT::Architectures::=arm64",
            "-oAPT::Sandbox::User=root", "-qq"]
    tool = "apt-cache" if args[0] in ("depends", "policy") else "apt-get"
    proc = subprocess.run([tool, *opts, *args], check=False, capture_output=True, text=True,
                          cwd=cwd, timeout=900)
    if proc.returncode != 0:
        raise SetupError(f"{tool} {' '.join(args)} failed: "
                         f"{(proc.stderr.strip() or proc.stdout.strip())[-600:]}")
    return proc.stdout


def _debian_lines() -> list[str]:
    """The system's Debian 'deb' entries (the same mirrors the plugin's deb-src come from)."""
    from edgelite.bench.cross import _deb_src_lines

    return [line.replace("deb-src ", "deb ", 1) for line in _deb_src_lines()]


def _depends(folder: Path, package: str) -> list[str]:
    out = _apt(folder, "depends", "--no-recommends", "--no-suggests", f"{package}:arm64")
    deps = []
    for line in out.splitlines():
        m = re.match(r"\s*\|?(?:Pre)?Depends: <?([A-Za-z0-9.+-]+)(?::arm64)?>?", line)
        if m and m.group(1) not in deps:
            deps.append(m.group(1))
    return deps


def _host_version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _pip_download(dist: str, pyver: str, dest: Path) -> tuple[Path, str]:
    """The aarch64 wheel of dist: the host venv's version if it has one, else the newest."""
    platforms = [f"--platform=manylinux_2_{n}_aarch64" for n in (17, 24, 27, 28, 31, 34, 35, 36)]
    base = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
            "--platform=manylinux2014_aarch64", *platforms, f"--python-version={pyver}",
            "--implementation=cp", "-d", str(dest)]
    host = _host_version(dist)
    notes = ""
    for spec in ([f"{dist}=={host}"] if host else []) + [dist]:
        before = set(dest.glob("*.whl"))
        proc = subprocess.run([*base, spec], check=False, capture_output=True, text=True,
                              timeout=900)
        new = set(dest.glob("*.whl")) - before
        if proc.returncode == 0 and new:
            return new.pop(), notes
        notes = f"{dist} {host} has no aarch64 cp{pyver.replace('.', '')} wheel; newest used"
    raise SetupError(f"pip download of {dist}'s aarch64 wheel for Python {pyver} failed: "
                     f"{proc.stderr.strip()[-400:]}")


def cpuinfo_text(cpu: str) -> str:
    """An ARM /proc/cpuinfo with one entry per host CPU (cpuinfo counts them in sysfs too)."""
    features, variant, part, revision = CPU_FIELDS[cpu]
    count = os.cpu_count() or 1
    possible = Path("/sys/devices/system/cpu/possible")
    if possible.is_file():
        count = 0
        for chunk in possible.read_text().strip().split(","):
            lo, _, hi = chunk.partition("-")
            count += int(hi or lo) - int(lo) + 1
    entry = ("processor\t: {i}\nBogoMIPS\t: 50.00\nFeatures\t: {f}\nCPU implementer\t: 0x41\n"
             "CPU architecture: 8\nCPU variant\t: {v}\nCPU part\t: {p}\nCPU revision\t: {r}\n\n")
    return "".join(entry.format(i=i, f=features, v=variant, p=part, r=revision)
                   for i in range(count))


@dataclass
class Guest:
    folder: Path
    python: str  # e.g. "3.11"
    wheels: dict[str, str]  # dist -> version unpacked
    notes: list[str]

    @property
    def root(self) -> Path:
        return self.folder / "root"

    @property
    def site(self) -> Path:
        return self.folder / "site"


def setup(folder: Path) -> tuple[Guest, float | None]:
    """The aarch64 Python + LiteRT folder, made on first use; (guest, seconds spent or None)."""
    check_host()
    stamp = folder / "ready.json"
    if stamp.is_file():
        info = json.loads(stamp.read_text())
        if info.get("setup") == SETUP_VERSION:
            return Guest(folder, info["python"], info["wheels"], info["notes"]), None
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise SetupError("apt-get and dpkg not found: the aarch64 Python comes from Debian's "
                         "arm64 packages (run this on Debian or Ubuntu)")
    start = time.perf_counter()
    shutil.rmtree(folder, ignore_errors=True)
    work = folder / "apt"
    (work / "lists" / "partial").mkdir(parents=True)
    (work / "cache" / "archives" / "partial").mkdir(parents=True)
    lines = _debian_lines()
    if not lines:
        raise SetupError("no 'deb' entries in /etc/apt to fetch Debian's arm64 packages from")
    (work / "sources.list").write_text("\n".join(lines) + "\n")
    _apt(folder, "update")
    pymin = next((d for d in _depends(folder, "python3-minimal")
                  if re.fullmatch(r"python3\.\d+-minimal", d)), None)
    if pymin is None:
        raise SetupError("this Debian release's python3-minimal:arm64 names no python3.X-minimal")
    pyver = pymin[len("python"):-len("-minimal")]
    wanted = [f"python{pyver}-minimal", f"libpython{pyver}-minimal", f"libpython{pyver}-stdlib"]
    libs = [d for p in wanted for d in _depends(folder, p)
            if re.match(r"(lib|zlib)", d) and d not in wanted]  # not media-types &c.
    packages = list(dict.fromkeys(wanted + libs + list(EXTRA_LIBS)))
    debs = work / "debs"
    debs.mkdir()
    _apt(folder, "download", *(f"{p}:arm64" for p in packages), cwd=debs)
    root = folder / "root"
    root.mkdir()
    for deb in sorted(debs.glob("*.deb")):
        proc = subprocess.run(["dpkg", "-x", str(deb), str(root)], check=False,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            raise SetupError(f"dpkg -x {deb.name} failed: {proc.stderr.strip()[-400:]}")
    site = folder / "site"
    site.mkdir()
    wheels: dict[str, str] = {}
    notes: list[str] = []
    for dist in WHEELS:
        whl, note = _pip_download(dist, pyver, work)
        if note:
            notes.append(note)
        with zipfile.ZipFile(whl) as z:
            z.extractall(site)
        wheels[dist] = whl.name.split("-")[1]
    for cpu in CPUS:
        (folder / f"cpuinfo-{cpu}").write_text(cpuinfo_text(cpu))
    _precompile(root / "usr" / "lib" / f"python{pyver}", site, pyver, root)
    shutil.rmtree(work)  # package lists and archives: ~40 MB no longer needed
    seconds = time.perf_counter() - start
    stamp.write_text(json.dumps({"setup": SETUP_VERSION, "python": pyver, "wheels": wheels,
                                 "notes": notes, "packages": packages,
                                 "seconds": round(seconds, 1)}, indent=1))
    return Guest(folder, pyver, wheels, notes), seconds


def _precompile(stdlib: Path, site: Path, pyver: str, root: Path) -> None:
    """Write the .pyc files once. Guest runs never write them (PYTHONDONTWRITEBYTECODE), so
    the first measured run does not pay for compiling the imports (over a billion
    instructions) and every run executes the same code."""
    if f"{sys.version_info.major}.{sys.version_info.minor}" == pyver:
        cmd = [sys.executable]  # same bytecode format: the host compiles it, much faster
    else:
        cmd = ["qemu-aarch64", "-L", str(root), str(root / "usr" / "bin" / f"python{pyver}")]
    proc = subprocess.run([*cmd, "-m", "compileall", "-q", "-j0", str(stdlib), str(site)],
                          check=False, capture_output=True, text=True, timeout=1800)
    if proc.returncode not in (0, 1):  # 1: some test-data files do not compile; fine
        raise SetupError(f"compileall failed: {proc.stderr.strip()[-400:]}")


# ------------------------------------------------------------------ guest runs
def guest_total(guest: Guest, plugin: Path, cpu: str, model: Path, mode: str, n: int) -> int:
    """Instructions the whole guest process executed: load, warm-up invoke, then n invokes."""
    script = guest.folder / "guest.py"
    if not script.is_file() or script.read_text() != GUEST:
        script.write_text(GUEST)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "insns.txt"
        qemu = ["setarch", "-R", "qemu-aarch64", "-L", str(guest.root), "-cpu", cpu,
                "-plugin", f"{plugin},out={out}",
                str(guest.root / "usr" / "bin" / f"python{guest.python}"), "-S", str(script),
                str(model.resolve()), mode, str(n)]
        # QEMU hands this environment to the guest: nothing of the host's Python leaks in.
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHONPATH": str(guest.site),
               "PYTHONHASHSEED": "0", "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1",
               "OPENBLAS_NUM_THREADS": "1",
               "OMP_NUM_THREADS": "1", "LANG": "C.UTF-8"}
        inner = (f"mount --bind {guest.folder / f'cpuinfo-{cpu}'} /proc/cpuinfo && exec "
                 + " ".join(_quote(a) for a in qemu))
        unshare = ["unshare", "-m"] if os.geteuid() == 0 else ["unshare", "-rm"]
        proc = subprocess.run([*unshare, "sh", "-c", inner], check=False, capture_output=True,
                              text=True, env=env, timeout=3600)
        text = out.read_text() if out.is_file() else ""
    ok = proc.returncode == 0 and f"guest ok {n}" in proc.stdout
    delegated = "XNNPACK delegate" in proc.stderr
    if not ok:
        raise GuestError(f"LiteRT ({mode}) on {model.name} under qemu-aarch64 -cpu {cpu} "
                           f"failed ({proc.returncode}): {proc.stderr.strip()[-800:]}")
    if delegated != (mode == "xnnpack"):
        raise GuestError(f"LiteRT {mode} on {model.name}: XNNPACK delegate "
                           f"{'missing' if mode == 'xnnpack' else 'applied'}: "
                           f"{proc.stderr.strip()[-400:]}")
    m = re.search(r"total=(\d+)", text)
    if m is None:
        raise GuestError(f"no instruction count from the QEMU plugin ({text!r})")
    return int(m.group(1))


def _quote(arg: str) -> str:
    return "'" + arg.replace("'", "'\\''") + "'"


def litert_per_invoke(guest: Guest, plugin: Path, cpu: str, model: Path, mode: str,
                      n: int) -> int:
    zero = guest_total(guest, plugin, cpu, model, mode, 0)
    many = guest_total(guest, plugin, cpu, model, mode, n)
    return round((many - zero) / n)


def runtime_micro_per_invoke(cpu: str, model: Path) -> int:
    from edgelite.bench.targets import TargetConfig, run_target_bench

    # its build folder is one per source tree (edgelite.bench.targets.default_work)
    report = run_target_bench(TargetConfig(model=model, target="aarch64", qemu_cpu=cpu,
                                           profile=False))
    return report.invoke_instructions


# ------------------------------------------------------------------ models
def build_models(specs: list[str], folder: Path) -> list[tuple[str, Path]]:
    import numpy as np
    import onnx

    sys.path.insert(0, str(REPO / "tests"))
    import models  # tests/models.py: the shared model builders

    from edgelite.converter import convert, convert_to_bytes
    from edgelite.quantize.api import QuantizeOptions, quantize

    out = []
    for spec in specs:
        parts = spec.split(":")
        if len(parts) != 3 or parts[2] not in ("int8", "float32"):
            raise SetupError(f"--models entry {spec!r}: want WIDTH:RESOLUTION:int8|float32")
        width, resolution, kind = float(parts[0]), int(parts[1]), parts[2]
        name = f"MobileNetV2-{width:g}-{resolution} {kind}"
        src = folder / f"mnv2_{width:g}_{resolution}.onnx"
        if not src.exists():
            onnx.save(models.mobilenet_v2(width, resolution), str(src))
        if kind == "float32":
            data = convert_to_bytes(src)
        else:
            cal = np.random.default_rng(1).standard_normal(
                (8, 3, resolution, resolution)).astype(np.float32)
            data = quantize(convert(src), QuantizeOptions(
                calibration={"input": cal}, samples=8, progress=False,
                allow_low_sqnr=True)).model  # random weights: under the SQNR floor
        path = folder / f"mnv2_{width:g}_{resolution}_{kind}.tflite"
        path.write_bytes(data)
        out.append((name, path))
    return out


# ------------------------------------------------------------------ main
def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", nargs="*", type=Path, help=".tflite files (default: --models)")
    ap.add_argument("--models", default="0.35:96:int8,1.0:224:float32",
                    help="MobileNetV2s built here when no MODEL is given: "
                         "WIDTH:RESOLUTION:int8|float32, comma-separated")
    ap.add_argument("--cpus", default=",".join(CPUS), help="QEMU -cpu models, comma-separated")
    ap.add_argument("--invokes", type=int, default=4, help="N in (total(N) - total(0)) / N")
    ap.add_argument("--runtimes", default="runtime_micro,xnnpack,builtin")
    ap.add_argument("--folder", type=Path, default=None,
                    help="the aarch64 Python + LiteRT folder (default ~/.cache/edgelite/phone)")
    args = ap.parse_args(argv)
    args.cpus = [c.strip() for c in args.cpus.split(",") if c.strip()]
    for cpu in args.cpus:
        if cpu not in CPU_FIELDS:
            ap.error(f"--cpus: {cpu!r} unknown; known: {', '.join(CPU_FIELDS)}")
    args.runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    for r in args.runtimes:
        if r not in ("runtime_micro", "xnnpack", "builtin"):
            ap.error(f"--runtimes: {r!r} unknown; known: runtime_micro, xnnpack, builtin")
    if args.invokes < 1:
        ap.error("--invokes must be at least 1")
    for m in args.model:
        if not m.is_file():
            ap.error(f"{m}: no such file")
    return args


def fmt(value: int | None, base: int | None) -> str:
    if value is None:
        return "-"
    ratio = f" (edgelite {base / value:.2f}x)" if base and value else ""
    return f"{value:,}{ratio}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return run(args)
    except (SetupError, GuestError) as exc:
        print(f"phone_instructions: {exc}", file=sys.stderr)
        return 2


def run(args: argparse.Namespace) -> int:
    folder = args.folder or default_folder()
    guest, seconds = setup(folder)
    from edgelite.bench import cross
    from edgelite.errors import EdgeliteError

    try:
        plugin = cross.build_plugin()
    except cross.PluginUnavailable as exc:
        raise SetupError(f"cannot build the QEMU instruction-count plugin: {exc}") from None
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                         capture_output=True, text=True, check=False).stdout.strip()
    setup_note = (f"set up in {seconds:.1f} s" if seconds is not None else "already set up")
    print(f"edgelite git {rev or '?'}; guest: Debian arm64 Python {guest.python}, "
          + ", ".join(f"{k} {v}" for k, v in guest.wheels.items())
          + f" in {folder} ({setup_note}); {cross._qemu_source_version()} QEMU; "
          f"runtime_micro from {cross.source_root()}")
    for note in guest.notes:
        print(f"note: {note}")
    with tempfile.TemporaryDirectory() as tmp:
        cases = ([(m.name, m) for m in args.model] if args.model
                 else build_models([s.strip() for s in args.models.split(",") if s.strip()],
                                   Path(tmp)))
        rows = []
        head = ["model", "cpu", "runtime_micro", "LiteRT XNNPACK", "LiteRT built-in"]
        print("| " + " | ".join(head) + " |\n|" + "---|" * len(head), flush=True)
        for name, path in cases:
            for cpu in args.cpus:
                got: dict[str, int | None] = {"runtime_micro": None, "xnnpack": None,
                                              "builtin": None}
                for r in args.runtimes:
                    try:
                        got[r] = (runtime_micro_per_invoke(cpu, path) if r == "runtime_micro"
                                  else litert_per_invoke(guest, plugin, cpu, path, r,
                                                         args.invokes))
                    except EdgeliteError as exc:  # runtime_micro's bench refused the model
                        raise GuestError(f"runtime_micro on {path}: {exc}") from None
                base = got["runtime_micro"]
                row = [name, cpu, fmt(base, None), fmt(got["xnnpack"], base),
                       fmt(got["builtin"], base)]
                rows.append(row)
                print("| " + " | ".join(row) + " |", flush=True)
    print(f"\nInstructions per invoke (QEMU plugin). LiteRT: (total({args.invokes}) - total(0)) "
          f"/ {args.invokes} invokes after one warm-up, one thread; runtime_micro: edgelite "
          "bench --target aarch64, steady-state invoke. (edgelite Rx): runtime_micro / that "
          "column.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
