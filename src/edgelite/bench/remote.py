"""Wall-clock bench on a real ARM Linux device, whatever carries the binary there: one runner,
two transports (ssh.py: `ssh://`, adb.py: `adb[://SERIAL]`).

    report = run_remote_bench(RemoteConfig(Path("m.tflite"), "adb://R58M", runs=100),
                              AdbTransport(serial="R58M"))

Builds the static harness for the device's ABI (aarch64, or armv7 for armeabi-v7a) with the
model and its input linked in (as the QEMU targets do), copies that one file to the device,
runs it (optionally pinned to one core with taskset, or on `threads` threads: runtime_micro's
hosted pool linked in, as an app would run it), then removes it in the same remote shell
command. On the device the harness first checks its outputs against the host runtime's
(bit-exact integers, float within 1e-5), then times `runs` invokes after `warmup` untimed ones
with clock_gettime(CLOCK_MONOTONIC) and prints one line per invoke; the report gives their
percentiles. Nothing else is copied or installed.
"""

from __future__ import annotations

import secrets
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from edgelite.bench import cross
from edgelite.bench.stats import Latency, summarize
from edgelite.bench.targets import (
    TargetConfig,
    default_work,
    export_for_target,
    f16_weight_bytes,
    outputs_match_text,
    target_arena,
    work_lock,
)
from edgelite.errors import Code, EdgeliteError

ABIS = {"arm64-v8a": "aarch64", "armeabi-v7a": "armv7"}  # Android ABI name -> build target
EXIT_MARK = "edgelite_exit"  # the remote command's last line: edgelite_exit <status>
_CROSS_APT = {"aarch64": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross make",
              "armv7": "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross make"}


class Transport(Protocol):
    """How files reach the device and commands run there."""

    name: str  # "ssh", "adb"
    label: str  # the device, for messages ("pi@board", "adb device R58M")
    remote_dir: str  # where the binary goes

    def push_command(self, local: Path, remote: str) -> list[str]: ...

    def shell_command(self, remote_command: str) -> list[str]: ...

    def describe(self) -> str: ...  # "copied with scp, run with ssh"

    def failure_hint(self, returncode: int, output: str) -> str | None: ...

    def install_hint(self) -> str: ...


@dataclass(frozen=True)
class RemoteConfig:
    model: Path
    url: str
    runs: int = 50
    warmup: int = 5
    input: Path | None = None
    seed: int = 0
    work: Path | None = None
    timeout: float = 600.0
    reference_kernels: bool = False
    fp16: bool = False  # el_config.allow_fp16 (the device's CPU decides whether it applies)
    # pin to this core, or to these cores ("4-7", "0,2"; taskset): big vs little cores
    cpu: int | str | None = None
    abi: str = "arm64-v8a"  # or armeabi-v7a (32-bit ARM build)
    threads: int = 1  # runtime_micro's hosted pool on the device (num_threads)


@dataclass(frozen=True)
class RemoteReport:
    model: str
    target: str
    input_source: str
    notes: list[str]
    outputs_match: str
    arena_bytes: int
    latency: Latency
    commands: list[list[str]] = field(default_factory=list)  # what was run, for the record
    transport: str = "copied with scp, run with ssh"
    binary: str = "static aarch64 binary"
    cpu: int | list[int] | None = None  # the core, or the cores, it was pinned to
    threads: int = 1
    worker_tasks: int | None = None  # threads > 1: layer parts the pool's workers ran (checks)

    def as_json(self) -> dict:
        return {"model": self.model, "target": self.target, "input_source": self.input_source,
                "notes": self.notes, "outputs_match": self.outputs_match,
                "arena_bytes": self.arena_bytes, "latency_ms": self.latency.as_json(),
                "binary": self.binary, "cpu": self.cpu, "threads": self.threads,
                "worker_tasks": self.worker_tasks,
                "commands": [shlex.join(c) for c in self.commands]}


def parse_cpus(spec: int | str) -> list[int]:
    """--cpu: a core number, or cores as a taskset list takes them ("4-7", "0,2,4-5"),
    sorted, each 0..63."""
    bad = EdgeliteError(f"--cpu must be a core number 0..63 or a list of them such as 4-7 or "
                        f"0,2, got {spec!r}", code=Code.BAD_INPUT)
    cores: set[int] = set()
    for part in str(spec).split(","):
        lo, _, hi = part.strip().partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            raise bad
        a, b = int(lo), int(hi or lo)
        if not 0 <= a <= b < 64:
            raise bad
        cores.update(range(a, b + 1))
    return sorted(cores)


def remote_run_command(remote: str, cpu: int | list[int] | None = None,
                       mark_exit: bool = False) -> str:
    """Run the copied binary (pinned to core `cpu`, or to the cores listed, with taskset's
    hex mask), then delete it whatever happened; the binary's exit status is the command's.
    mark_exit: also print 'edgelite_exit <status>' last, for transports that may not pass the
    status on (older adb)."""
    cores = [cpu] if isinstance(cpu, int) else (cpu or [])
    pin = f"taskset {sum(1 << c for c in cores):x} " if cores else ""
    mark = f"echo {EXIT_MARK} $rc; " if mark_exit else ""
    return (f"f={shlex.quote(remote)}; chmod 700 \"$f\" && {pin}\"$f\"; rc=$?; rm -f \"$f\"; "
            f"{mark}exit $rc")


def run(cmd: list[str], timeout: float, what: str, install_hint: str
        ) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise EdgeliteError(f"{cmd[0]} not found", code=Code.BAD_INPUT,
                            hint=install_hint) from None
    except subprocess.TimeoutExpired:
        raise EdgeliteError(f"{what} timed out after {timeout:.0f} s: {shlex.join(cmd)}",
                            code=Code.RUNTIME) from None


def _validate(config: RemoteConfig) -> tuple[str, list[int] | None]:
    """The build target for the config's ABI and the cores to pin to (None: unpinned), after
    checking the options and tools."""
    if config.runs < 1:
        raise EdgeliteError(f"--runs must be at least 1, got {config.runs}", code=Code.BAD_INPUT)
    if config.warmup < 0:
        raise EdgeliteError(f"--warmup must be 0 or more, got {config.warmup}",
                            code=Code.BAD_INPUT)
    if not 1 <= config.threads <= 256:
        raise EdgeliteError(f"--threads must be from 1 to 256, got {config.threads}",
                            code=Code.BAD_INPUT)
    cores = parse_cpus(config.cpu) if config.cpu is not None else None
    if cores is not None and len(cores) < config.threads:
        raise EdgeliteError(f"--cpu {config.cpu} pins the benchmark to {len(cores)} core(s), "
                            f"fewer than its {config.threads} threads", code=Code.BAD_INPUT,
                            hint="give at least as many cores (e.g. --cpu 4-7 for 4 threads), "
                                 "or fewer threads")
    if config.abi not in ABIS:
        raise EdgeliteError(f"unknown --abi {config.abi!r}", code=Code.BAD_INPUT,
                            hint=f"use one of {', '.join(ABIS)}")
    target = ABIS[config.abi]
    missing = [m for m in cross.missing_tools([target]) if not m.startswith("qemu")]
    if missing:
        raise EdgeliteError(f"the {config.abi} build needs {', '.join(missing)}, not installed",
                            code=Code.BAD_INPUT,
                            hint="install with: apt-get install -y --no-install-recommends "
                                 + _CROSS_APT[target])
    if not config.model.is_file():
        raise EdgeliteError("model file not found", where=str(config.model),
                            code=Code.BAD_INPUT, hint="check the path")
    return target, cores


def run_remote_bench(config: RemoteConfig, transport: Transport) -> RemoteReport:
    target, cores = _validate(config)
    work = config.work or default_work(target)
    with work_lock(work):
        return _run_locked(config, transport, target, cores, work)


def _run_locked(config: RemoteConfig, t: Transport, target: str, cores: list[int] | None,
                work: Path) -> RemoteReport:
    tcfg = TargetConfig(config.model, target, input=config.input, seed=config.seed)
    w, info, name, notes, source = export_for_target(tcfg, work)
    try:
        elf = cross.build(target, work / "export", name, out=work / "build",
                          arena=target_arena(w) + (f16_weight_bytes(info) if config.fp16 else 0),
                          timed=config.runs, warmup=config.warmup,
                          reference=config.reference_kernels, fp16=config.fp16,
                          pool=config.threads if config.threads > 1 else 0)
    except cross.TargetError as exc:
        raise EdgeliteError(f"{target} build failed: {exc}", code=Code.RUNTIME,
                            where=str(config.model)) from None

    remote = f"{t.remote_dir}/edgelite-bench-{secrets.token_hex(6)}"
    copy = t.push_command(elf, remote)
    proc = run(copy, config.timeout, "copying the benchmark", t.install_hint())
    if proc.returncode != 0:
        raise EdgeliteError(f"copying to {t.label} failed (exit {proc.returncode}): "
                            f"{(proc.stderr or proc.stdout).strip()[-500:]}", code=Code.RUNTIME,
                            where=config.url,
                            hint=t.failure_hint(proc.returncode, proc.stdout + proc.stderr))
    execute = t.shell_command(remote_run_command(remote, cores, t.name == "adb"))
    proc = run(execute, config.timeout, "running the benchmark", t.install_hint())
    status = proc.returncode
    lines = proc.stdout.splitlines()
    if t.name == "adb":  # the status the device printed; adb's own failure otherwise
        marks = [ln.split()[1] for ln in lines if ln.startswith(EXIT_MARK + " ")]
        status = int(marks[-1]) if marks and marks[-1].lstrip("-").isdigit() else (status or 255)
    res = cross.HarnessResult(target, status, proc.stdout, proc.stderr)
    cross.parse_output(res)
    if status != 0 or res.result != "ok":
        what = ("outputs differ from the host runtime's" if status == 1 else f"exit {status}")
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
        raise EdgeliteError(f"benchmark on {t.label}: {what}: {tail}", code=Code.RUNTIME,
                            where=config.url,
                            hint=t.failure_hint(status, proc.stdout + proc.stderr))
    if config.threads > 1 and (res.pool is None or res.pool[0] != config.threads):
        raise EdgeliteError(f"the benchmark on {t.label} did not report its {config.threads} "
                            f"threads (got {res.pool})", code=Code.RUNTIME, where=config.url)
    if len(res.times_ns) != config.runs:
        raise EdgeliteError(f"expected {config.runs} timings from {t.label}, got "
                            f"{len(res.times_ns)}", code=Code.RUNTIME, where=config.url)
    return RemoteReport(model=str(config.model), target=config.url, input_source=source,
                        notes=notes, outputs_match=outputs_match_text(w.output_details),
                        arena_bytes=res.arena_required or w.arena_bytes,
                        latency=summarize(res.times_ns), commands=[copy, execute],
                        transport=t.describe(), binary=f"static {target} binary",
                        cpu=cores[0] if cores and len(cores) == 1 else cores,
                        threads=config.threads,
                        worker_tasks=res.pool[1] if res.pool else None)


def render_remote(r: RemoteReport) -> str:
    lat = r.latency

    def ms(v: float) -> str:
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"

    pinned = (f", pinned to core {r.cpu}" if isinstance(r.cpu, int) else
              f", pinned to cores {','.join(map(str, r.cpu))}" if r.cpu else "")
    threads = ([f"threads   {r.threads} (runtime_micro's hosted pool; its workers ran "
                f"{r.worker_tasks} layer parts in the untimed invokes)"] if r.threads > 1 else [])
    return "\n".join([
        f"model     {r.model}",
        f"target    {r.target} ({r.binary}, {r.transport}{pinned})",
        *threads,
        f"input     {r.input_source}",
        *[f"note      {n}" for n in r.notes],
        f"outputs   {r.outputs_match} (checked on the device)",
        f"arena     {r.arena_bytes:,} bytes",
        (f"latency   {lat.runs} runs (clock_gettime on the device), ms: min {ms(lat.min_ms)}  "
         f"p50 {ms(lat.p50_ms)}  p90 {ms(lat.p90_ms)}  p99 {ms(lat.p99_ms)}  "
         f"mean {ms(lat.mean_ms)}"),
    ])
