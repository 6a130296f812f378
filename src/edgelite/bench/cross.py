"""Cross-build runtime_micro + one exported model for an ARM target and run it under QEMU.

The build is runtime_micro/targets/Makefile (startup code, linker scripts, the harness main.c);
this module drives it, runs the ELF under QEMU and parses what the harness prints:

    missing = missing_tools(["cortex-m4", "aarch64"])      # [] when everything is installed
    elf = build("cortex-m4", export_dir, "digits", out=work / "cortex-m4")
    res = run("cortex-m4", elf, plugin=build_plugin())    # HarnessResult
    res.outputs[(step, i)] -> (dtype, bytes); res.insns_init, res.insns_per_invoke

It needs runtime_micro's sources and tools/qemu_insn_plugin.c: from the checkout this package
sits in, the copy the wheel carries (edgelite/_source), or the folder named by EDGELITE_SOURCE.

Instruction counts come from tools/qemu_insn_plugin.c, built on first use into the user cache
dir against qemu-plugin.h from the Debian source package of the installed QEMU. That header is
GPL: the plugin is a separate test/bench tool, never part of the package. When the source
package cannot be fetched, build_plugin raises PluginUnavailable.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from edgelite.errors import Code, EdgeliteError

TARGETS = ("cortex-m4", "cortex-m7", "cortex-m55", "aarch64")
LINUX_TARGETS = ("aarch64", "armv7")  # static Linux binaries (phones over adb, ssh devices)
CORTEX_M = ("cortex-m4", "cortex-m7", "cortex-m55")
BOARDS = {"cortex-m4": "mps2-an386", "cortex-m7": "mps2-an500", "cortex-m55": "mps3-an547"}

# Debian packages providing each tool (ARM-TARGETS.md).
APT_PACKAGES = {
    "arm-none-eabi-gcc": "gcc-arm-none-eabi",
    "newlib (nano.specs)": "libnewlib-arm-none-eabi",
    "qemu-system-arm": "qemu-system-arm",
    "aarch64-linux-gnu-gcc": "gcc-aarch64-linux-gnu",
    "aarch64 libc (libc.a)": "libc6-dev-arm64-cross",
    "qemu-aarch64": "qemu-user",
    "arm-linux-gnueabihf-gcc": "gcc-arm-linux-gnueabihf",
    "armhf libc (libc.a)": "libc6-dev-armhf-cross",
    "qemu-arm": "qemu-user",
    "make": "make",
}
APT_LINE = ("apt-get update && apt-get install -y --no-install-recommends gcc-arm-none-eabi "
            "libnewlib-arm-none-eabi gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user "
            "qemu-system-arm make")


class TargetError(RuntimeError):
    """A build or run step failed; the message carries the command and its output."""


class PluginUnavailable(RuntimeError):
    """The instruction-counting plugin cannot be built here (no QEMU source header)."""


def source_root() -> Path:
    """The folder holding runtime_micro/ (sources, Makefiles, targets/) and
    tools/qemu_insn_plugin.c: EDGELITE_SOURCE when set, else the checkout this package sits in,
    else the copy the wheel carries (edgelite/_source, package data), else the working folder."""
    env = os.environ.get("EDGELITE_SOURCE")
    here = Path(__file__).resolve()
    candidates = ([Path(env)] if env else
                  [here.parents[3], here.parents[1] / "_source", Path.cwd()])
    for root in candidates:
        if (root / "runtime_micro" / "targets" / "Makefile").is_file():
            return root
    raise EdgeliteError(
        "ARM targets and export bundles need runtime_micro's sources; looked in "
        f"{', '.join(map(str, candidates))}", code=Code.BAD_INPUT,
        hint="reinstall edgelite (the wheel carries them in edgelite/_source) or set "
             "EDGELITE_SOURCE=/path/to/an/edgelite/checkout")


def targets_dir() -> Path:
    return source_root() / "runtime_micro" / "targets"


def plugin_source() -> Path:
    return source_root() / "tools" / "qemu_insn_plugin.c"


def _needed_tools(target: str) -> list[str]:
    if target in CORTEX_M:
        return ["make", "arm-none-eabi-gcc", "newlib (nano.specs)", "qemu-system-arm"]
    if target == "aarch64":
        return ["make", "aarch64-linux-gnu-gcc", "aarch64 libc (libc.a)", "qemu-aarch64"]
    if target == "armv7":
        return ["make", "arm-linux-gnueabihf-gcc", "armhf libc (libc.a)"]
    raise ValueError(f"unknown target {target!r}; known: {', '.join(TARGETS + ('armv7',))}")


def _tool_present(tool: str) -> bool:
    if tool == "newlib (nano.specs)":
        return Path("/usr/lib/arm-none-eabi/lib/nano.specs").exists()
    if tool == "aarch64 libc (libc.a)":
        return Path("/usr/aarch64-linux-gnu/lib/libc.a").exists()
    if tool == "armhf libc (libc.a)":
        return Path("/usr/arm-linux-gnueabihf/lib/libc.a").exists()
    return shutil.which(tool) is not None


def missing_tools(targets: list[str] | tuple[str, ...]) -> list[str]:
    """Tools the given targets need that are not installed, as 'tool (Debian package)'."""
    missing: list[str] = []
    for target in targets:
        for tool in _needed_tools(target):
            entry = f"{tool} ({APT_PACKAGES[tool]})"
            if not _tool_present(tool) and entry not in missing:
                missing.append(entry)
    return missing


def make(target: str, out: Path, *goals: str, **variables: str | int) -> str:
    cmd = ["make", "-j2", "--no-print-directory", "-C", str(targets_dir()), f"TARGET={target}",
           f"OUT={out}", *(f"{k}={v}" for k, v in sorted(variables.items())), *goals]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=900)
    if proc.returncode != 0:
        raise TargetError(f"{' '.join(cmd)} failed ({proc.returncode}):\n"
                          f"{proc.stdout[-3000:]}\n{proc.stderr[-6000:]}")
    return proc.stdout


def build(target: str, export_dir: Path, name: str, *, out: Path, arena: int = 512 * 1024,
          repeat: int = 1, systick: bool = False, trace: bool = False, profile: bool = False,
          timed: int = 0, warmup: int = 5, opt: str = "-O2", reference: bool = False,
          fp16: bool = False, split: int = 0, pool: int = 0) -> Path:
    """Build the harness ELF for one exported model; returns its path.

    trace: linear planner + a hash of every non-constant tensor after each invoke (see
    main.c); compare with the host runtime's tensors. profile: per-op markers around each op
    of the first invoke (count with run(..., markers=OP_MARKERS)). timed: that many invokes
    timed with clock_gettime after the checked ones (Linux targets). reference: the
    interpreter runs the reference kernels only (el_config.disable_isa = EL_ISA_ALL). fp16:
    el_config.allow_fp16 (float16 arithmetic where the CPU has FEAT_FP16; float outputs then
    compared within 0.1 of the output's largest magnitude: a sanity bound). split: layers
    split into that many tasks run in reverse order on one thread (num_threads without threads).
    pool: that many threads on the hosted pool (POSIX threads; Linux targets).
    """
    variables: dict[str, str | int] = {
        "EXPORT_DIR": str(export_dir), "NAME": name, "ARENA": arena, "REPEAT": repeat,
        "SYSTICK": 1 if systick else 0, "TRACE": 1 if trace else 0, "OPT": opt}
    if profile:
        variables["PROFILE"] = 1
    if timed:
        variables["TIMED"] = timed
        variables["WARMUP"] = warmup
    if reference:
        variables["REFERENCE"] = 1
    if fp16:
        variables["FP16"] = 1
    if split:
        variables["THREADS"] = split
    if pool:
        variables["POOL"] = pool
    make(target, out, "app", **variables)
    elf = out / (f"{name}{'_trace' if trace else ''}{'_profile' if profile else ''}"
                 f"{f'_timed{timed}' if timed else ''}{'_ref' if reference else ''}"
                 f"{'_fp16' if fp16 else ''}{f'_split{split}' if split else ''}"
                 f"{f'_pool{pool}' if pool else ''}.elf")
    if not elf.exists():
        raise TargetError(f"make reported success but {elf} is missing")
    return elf


@dataclass
class HarnessResult:
    target: str
    returncode: int
    stdout: str
    stderr: str
    arena_required: int | None = None
    fp16: bool | None = None  # FP16 builds: whether el_kernel_isa had EL_ISA_FP16
    outputs: dict[tuple[int, int], tuple[int, bytes]] = field(default_factory=dict)
    # (step, tensor index) -> (dtype, bytes, FNV-1a 64 hash), EL_HARNESS_TRACE builds only
    tensors: dict[tuple[int, int], tuple[int, int, int]] = field(default_factory=dict)
    result: str = ""
    systick: int | None = None
    stack_init: int | None = None  # stack high-water marks in bytes (Cortex-M builds)
    stack_invoke: int | None = None
    insns_total: int | None = None
    insns_region: int | None = None
    regions: int | None = None  # el_init + one per invoke
    insns_init: int | None = None  # the first region: el_init
    region_counts: list[int] = field(default_factory=list)  # each region (plugin each=N)
    ops: list[tuple[int, int, int]] = field(default_factory=list)  # PROFILE: (sg, op, code)
    times_ns: list[int] = field(default_factory=list)  # TIMED builds
    pool: tuple[int, int] | None = None  # POOL builds: (threads, tasks the workers ran)

    @property
    def insns_per_invoke(self) -> int | None:
        if self.insns_region is None or self.insns_init is None or not self.regions:
            return None
        return (self.insns_region - self.insns_init) // max(self.regions - 1, 1)

    def describe(self) -> str:
        return (f"[{self.target}] exit {self.returncode}\n--- stdout\n{self.stdout[-4000:]}"
                f"\n--- stderr\n{self.stderr[-4000:]}")


def _symbol(target: str, elf: Path, name: str) -> int:
    nm = "aarch64-linux-gnu-nm" if target == "aarch64" else "arm-none-eabi-nm"
    text = subprocess.run([nm, str(elf)], check=True, capture_output=True, text=True).stdout
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise TargetError(f"symbol {name} not found in {elf}")


def qemu_command(target: str, elf: Path, *, qemu_cpu: str | None = None,
                 icount: bool = False, plugin_args: str | None = None) -> list[str]:
    if target in CORTEX_M:
        cmd = ["qemu-system-arm", "-M", BOARDS[target], "-nographic", "-monitor", "none",
               "-serial", "none", "-semihosting-config", "enable=on,target=native"]
        if icount:
            cmd += ["-icount", "shift=0,align=off,sleep=off"]
    else:
        cmd = ["qemu-aarch64", "-cpu", qemu_cpu or "cortex-a76"]
    if plugin_args:
        cmd += ["-plugin", plugin_args]
    return cmd + (["-kernel", str(elf)] if target in CORTEX_M else [str(elf)])


INVOKE_MARKERS = ("el_bench_begin", "el_bench_end")  # el_init, then each invoke
OP_MARKERS = ("el_bench_op_begin", "el_bench_op_end")  # each op of the first invoke (PROFILE)


def parse_output(res: HarnessResult) -> None:
    """Fill res from the lines the harness printed (main.c documents them)."""
    for line in res.stdout.splitlines():
        parts = line.split()
        if not parts:
            continue
        if parts[0] == "arena_required":
            res.arena_required = int(parts[1])
        elif parts[0] == "fp16" and len(parts) == 2:
            res.fp16 = parts[1] == "1"
        elif parts[0] == "out" and len(parts) in (4, 5):
            step, index, dtype = int(parts[1]), int(parts[2]), int(parts[3])
            res.outputs[(step, index)] = (dtype, bytes.fromhex(parts[4] if len(parts) == 5 else ""))
        elif parts[0] == "tensor" and len(parts) == 6:
            res.tensors[(int(parts[1]), int(parts[2]))] = (int(parts[3]), int(parts[4]),
                                                           int(parts[5], 16))
        elif parts[0] == "systick":
            res.systick = int(parts[1])
        elif parts[0] == "stack" and len(parts) == 3:
            res.stack_init, res.stack_invoke = int(parts[1]), int(parts[2])
        elif parts[0] == "op" and len(parts) == 5:
            res.ops.append((int(parts[2]), int(parts[3]), int(parts[4])))
        elif parts[0] == "pool" and len(parts) == 3:
            res.pool = (int(parts[1]), int(parts[2]))
        elif parts[0] == "time_ns" and len(parts) == 2:
            res.times_ns.append(int(parts[1]))
        elif parts[0] == "result":
            res.result = " ".join(parts[1:])


def run(target: str, elf: Path, *, qemu_cpu: str | None = None, plugin: Path | None = None,
        icount: bool = False, timeout: float = 600,
        markers: tuple[str, str] = INVOKE_MARKERS, each: int = 0) -> HarnessResult:
    """Run the harness under QEMU and parse what it printed.

    plugin: count instructions between the two marker functions; each: also keep the first
    `each` regions one by one (res.region_counts).
    """
    plugin_args = None
    plugin_out = elf.with_suffix(f".{qemu_cpu or 'default'}.insns")
    if plugin is not None:
        plugin_out.unlink(missing_ok=True)
        plugin_args = (f"{plugin},begin={_symbol(target, elf, markers[0]):#x},"
                       f"end={_symbol(target, elf, markers[1]):#x},out={plugin_out}"
                       + (f",each={each}" if each else ""))
    cmd = qemu_command(target, elf, qemu_cpu=qemu_cpu, icount=icount, plugin_args=plugin_args)
    try:
        proc = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise TargetError(f"{' '.join(cmd)} timed out after {timeout} s") from exc
    res = HarnessResult(target, proc.returncode, proc.stdout, proc.stderr)
    parse_output(res)
    if plugin is not None and plugin_out.exists():
        text = plugin_out.read_text()
        m = re.search(r"total=(\d+) region=(\d+) regions=(\d+) first=(\d+)", text)
        if m:
            res.insns_total, res.insns_region, res.regions, res.insns_init = (
                int(g) for g in m.groups())
        res.region_counts = [int(n) for n in re.findall(r"^region \d+ (\d+)$", text, re.MULTILINE)]
    return res


# ------------------------------------------------------------------ instruction-count plugin
def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "edgelite"


def _qemu_source_version() -> str:
    proc = subprocess.run(["dpkg-query", "-W", "-f", "${source:Package} ${source:Version}",
                           "qemu-system-arm"], check=False, capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.startswith("qemu "):
        raise PluginUnavailable("qemu-system-arm is not a Debian package here: "
                                f"{proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout.split()[1]


def _deb_src_lines() -> list[str]:
    """deb-src lines mirroring the system's own 'deb' entries (one-line and deb822 forms)."""
    lines: set[str] = set()
    etc = Path("/etc/apt")
    files = [etc / "sources.list", *sorted((etc / "sources.list.d").glob("*.list")),
             *sorted((etc / "sources.list.d").glob("*.sources"))]
    for path in files:
        if not path.is_file():
            continue
        text = path.read_text(errors="replace")
        if path.suffix == ".sources":
            for stanza in re.split(r"\n\s*\n", text):
                fields: dict[str, str] = {}
                for raw in stanza.splitlines():
                    if raw.startswith("#") or ":" not in raw:
                        continue
                    key, _, value = raw.partition(":")
                    fields[key.strip().lower()] = value.strip()
                if "deb" not in fields.get("types", "").split():
                    continue
                for uri in fields.get("uris", "").split():
                    for suite in fields.get("suites", "").split():
                        lines.add(f"deb-src {uri} {suite} {fields.get('components', 'main')}")
        else:
            for raw in text.splitlines():
                parts = raw.split()
                if parts[:1] == ["deb"]:
                    if len(parts) > 1 and parts[1].startswith("["):  # drop [options]
                        while parts and not parts[1].endswith("]"):
                            parts.pop(1)
                        parts.pop(1)
                    lines.add("deb-src " + " ".join(parts[1:]))
    return sorted(lines)


def _fetch_plugin_header(version: str, dest: Path) -> Path:
    """qemu-plugin.h of this QEMU version, from its Debian source package (private apt state,
    so the system's apt configuration is left untouched)."""
    work = dest / "apt"
    (work / "lists" / "partial").mkdir(parents=True, exist_ok=True)
    (work / "cache" / "archives" / "partial").mkdir(parents=True, exist_ok=True)
    (work / "dl").mkdir(exist_ok=True)
    src_lines = _deb_src_lines()
    if not src_lines:
        raise PluginUnavailable("no Debian 'deb' entries in /etc/apt to derive deb-src from")
    (work / "sources.list").write_text("\n".join(src_lines) + "\n")
    opts = [f"-oDir::Etc::SourceList={work / 'sources.list'}", "-oDir::Etc::SourceParts=/dev/null",
            f"-oDir::State::Lists={work / 'lists'}", f"-oDir::Cache={work / 'cache'}",
            "-oAPT::Sandbox::User=root", "-qq"]
    def apt(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["apt-get", *opts, *args], check=False, capture_output=True,
                              text=True, cwd=work / "dl", timeout=600)

    proc = apt("update")
    if proc.returncode == 0:
        proc = apt("source", "--download-only", f"qemu={version}")
        if proc.returncode != 0:
            # The archive may have moved on to a newer Debian revision of the same upstream
            # release: its plugin header is the same API, checked by the upstream version below.
            proc = apt("source", "--download-only", "qemu")
    if proc.returncode != 0:
        raise PluginUnavailable(f"apt-get source qemu failed: {proc.stderr.strip()[-1500:]}")
    upstream = version.split(":")[-1].split("+")[0].split("-")[0]  # 1:7.2+dfsg-7 -> 7.2
    tarballs = sorted((work / "dl").glob(f"qemu_{upstream}*.orig.tar.*"))
    if not tarballs:
        found = [p.name for p in (work / "dl").iterdir()]
        raise PluginUnavailable(f"no qemu {upstream} source tarball (got {found})")
    with tarfile.open(tarballs[0]) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith("/include/qemu/qemu-plugin.h"):
                data = tar.extractfile(member)
                assert data is not None
                header = dest / "include" / "qemu-plugin.h"
                header.parent.mkdir(parents=True, exist_ok=True)
                header.write_bytes(data.read())
                break
        else:
            raise PluginUnavailable(f"{tarballs[0].name} has no include/qemu/qemu-plugin.h")
    shutil.rmtree(work, ignore_errors=True)  # ~25 MB of source we no longer need
    return header


def build_plugin() -> Path:
    """Path of the instruction-counting plugin, built on first use into the cache dir."""
    version = _qemu_source_version()
    dest = cache_dir() / "qemu-plugin" / re.sub(r"[^A-Za-z0-9.+-]", "_", version)
    lib = dest / "libqemu_insn.so"
    header = dest / "include" / "qemu-plugin.h"
    stamp = dest / "source.txt"
    # Rebuild when the source changes.
    want = hashlib.sha256(plugin_source().read_bytes()).hexdigest()
    if lib.exists() and stamp.exists() and stamp.read_text() == want:
        return lib
    dest.mkdir(parents=True, exist_ok=True)
    if not header.exists():
        _fetch_plugin_header(version, dest)
    tmp = dest / "libqemu_insn.so.tmp"
    extra: list[str] = []
    if "#include <glib.h>" in header.read_text(errors="replace"):  # QEMU 8+ headers
        glib = subprocess.run(["pkg-config", "--cflags", "glib-2.0"], check=False,
                              capture_output=True, text=True)
        if glib.returncode != 0:
            raise PluginUnavailable("this QEMU's qemu-plugin.h needs glib headers: "
                                    "apt-get install -y libglib2.0-dev pkg-config")
        extra = glib.stdout.split()
    cmd = ["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", *extra,
           f"-I{header.parent}", str(plugin_source()), "-o", str(tmp)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True)
    if proc.returncode != 0:
        raise PluginUnavailable(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    os.replace(tmp, lib)
    stamp.write_text(want)
    return lib
