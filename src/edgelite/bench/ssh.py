"""`edgelite bench --target ssh://[user@]HOST[:PORT]`: wall-clock latency on a real aarch64
Linux device (a phone, a Raspberry Pi), reached with the system's own ssh client.

    report = run_ssh_bench(SshConfig(Path("model.tflite"), "ssh://pi@raspberrypi", runs=100))

The binary goes to /tmp on the device, or to the folder the URL names
(ssh://phone:8022/data/local/tmp: Android has no /tmp, and some devices mount it noexec).

Builds the static aarch64 harness with the model and its input linked in (as the QEMU targets
do), copies it with `scp`, runs it with `ssh` (both with -o BatchMode=yes: keys only, never a
password prompt), then removes it. On the device the harness first checks its outputs against
the host runtime's (bit-exact integers, float within 1e-5), then times `runs` invokes after
`warmup` untimed ones with clock_gettime(CLOCK_MONOTONIC) and prints one line per invoke;
the report gives their percentiles. Nothing but the binary is copied; nothing is installed.
"""

from __future__ import annotations

import re
import secrets
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from edgelite.bench import cross
from edgelite.bench.stats import Latency, summarize
from edgelite.bench.targets import (
    TargetConfig,
    check_tools,
    default_work,
    export_for_target,
    outputs_match_text,
    work_lock,
)
from edgelite.errors import Code, EdgeliteError

_SSH_URL = re.compile(r"^ssh://(?:(?P<user>[A-Za-z0-9._-]+)@)?"
                      r"(?P<host>[A-Za-z0-9._-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?"
                      r"(?P<dir>/[A-Za-z0-9._/-]*)?$")
SSH_OPTIONS = ["-o", "BatchMode=yes"]
REMOTE_DIR = "/tmp"  # where the binary goes unless the URL names a folder


@dataclass(frozen=True)
class SshTarget:
    user: str | None
    host: str
    port: int | None
    remote_dir: str = REMOTE_DIR  # ssh://phone/data/local/tmp -> /data/local/tmp

    @property
    def destination(self) -> str:
        return f"{self.user}@{self.host}" if self.user else self.host


def parse_ssh_target(url: str) -> SshTarget:
    m = _SSH_URL.match(url)
    if not m:
        raise EdgeliteError(f"not an ssh target: {url!r}", code=Code.BAD_INPUT,
                            hint="write ssh://[user@]HOST[:PORT][/FOLDER], e.g. "
                                 "ssh://pi@192.168.1.20:22 (the binary goes to /tmp or FOLDER)")
    port = int(m.group("port")) if m.group("port") else None
    if port is not None and not 0 < port < 65536:
        raise EdgeliteError(f"port {port} out of range in {url!r}", code=Code.BAD_INPUT)
    host = m.group("host").strip("[]")
    folder = (m.group("dir") or "").rstrip("/") or REMOTE_DIR
    return SshTarget(m.group("user"), host, port, folder)


@dataclass(frozen=True)
class SshConfig:
    model: Path
    url: str
    runs: int = 50
    warmup: int = 5
    input: Path | None = None
    seed: int = 0
    work: Path | None = None
    timeout: float = 600.0
    reference_kernels: bool = False


@dataclass(frozen=True)
class SshReport:
    model: str
    target: str
    input_source: str
    notes: list[str]
    outputs_match: str
    arena_bytes: int
    latency: Latency
    commands: list[list[str]] = field(default_factory=list)  # what was run, for the record

    def as_json(self) -> dict:
        return {"model": self.model, "target": self.target, "input_source": self.input_source,
                "notes": self.notes, "outputs_match": self.outputs_match,
                "arena_bytes": self.arena_bytes, "latency_ms": self.latency.as_json(),
                "commands": [shlex.join(c) for c in self.commands]}


def scp_command(t: SshTarget, local: Path, remote: str) -> list[str]:
    port = ["-P", str(t.port)] if t.port else []
    host = f"[{t.host}]" if ":" in t.host else t.host  # IPv6 literal
    dest = f"{t.user}@{host}" if t.user else host
    return ["scp", *SSH_OPTIONS, "-q", *port, str(local), f"{dest}:{remote}"]


def ssh_command(t: SshTarget, remote_command: str) -> list[str]:
    port = ["-p", str(t.port)] if t.port else []
    return ["ssh", *SSH_OPTIONS, *port, t.destination, remote_command]


def remote_run_command(remote: str) -> str:
    """Run the copied binary, then delete it whatever happened; the binary's exit status is
    the command's."""
    return (f"f={shlex.quote(remote)}; chmod 700 \"$f\" && \"$f\"; rc=$?; rm -f \"$f\"; "
            "exit $rc")


def _run(cmd: list[str], timeout: float, what: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout)
    except FileNotFoundError:
        raise EdgeliteError(f"{cmd[0]} not found", code=Code.BAD_INPUT,
                            hint="install the OpenSSH client: apt-get install -y "
                                 "openssh-client") from None
    except subprocess.TimeoutExpired:
        raise EdgeliteError(f"{what} timed out after {timeout:.0f} s: {shlex.join(cmd)}",
                            code=Code.RUNTIME) from None


def run_ssh_bench(config: SshConfig) -> SshReport:
    target = parse_ssh_target(config.url)
    if config.runs < 1:
        raise EdgeliteError(f"--runs must be at least 1, got {config.runs}", code=Code.BAD_INPUT)
    if config.warmup < 0:
        raise EdgeliteError(f"--warmup must be 0 or more, got {config.warmup}",
                            code=Code.BAD_INPUT)
    check_tools("aarch64")
    if not config.model.is_file():
        raise EdgeliteError("model file not found", where=str(config.model),
                            code=Code.BAD_INPUT, hint="check the path")
    work = config.work or default_work("aarch64")
    with work_lock(work):
        return _run_locked(config, target, work)


def _run_locked(config: SshConfig, target: SshTarget, work: Path) -> SshReport:
    tcfg = TargetConfig(config.model, "aarch64", input=config.input, seed=config.seed)
    w, _info, name, notes, source = export_for_target(tcfg, work)
    try:
        elf = cross.build("aarch64", work / "export", name, out=work / "build",
                          arena=w.arena_bytes, timed=config.runs, warmup=config.warmup,
                          reference=config.reference_kernels)
    except cross.TargetError as exc:
        raise EdgeliteError(f"aarch64 build failed: {exc}", code=Code.RUNTIME,
                            where=str(config.model)) from None

    remote = f"{target.remote_dir}/edgelite-bench-{secrets.token_hex(6)}"
    copy = scp_command(target, elf, remote)
    proc = _run(copy, config.timeout, "copying the benchmark")
    if proc.returncode != 0:
        raise EdgeliteError(f"scp to {target.destination} failed (exit {proc.returncode}): "
                            f"{proc.stderr.strip()[-500:]}", code=Code.RUNTIME,
                            where=config.url,
                            hint="check that `ssh -o BatchMode=yes HOST true` works (key login)")
    execute = ssh_command(target, remote_run_command(remote))
    proc = _run(execute, config.timeout, "running the benchmark")
    res = cross.HarnessResult("aarch64", proc.returncode, proc.stdout, proc.stderr)
    cross.parse_output(res)
    if proc.returncode != 0 or res.result != "ok":
        what = ("outputs differ from the host runtime's" if proc.returncode == 1 else
                f"exit {proc.returncode}")
        tail = " | ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
        raise EdgeliteError(f"benchmark on {target.destination}: {what}: {tail}",
                            code=Code.RUNTIME, where=config.url,
                            hint="exit 255 is ssh's own failure (connection, key login)"
                            if proc.returncode == 255 else None)
    if len(res.times_ns) != config.runs:
        raise EdgeliteError(f"expected {config.runs} timings from {target.destination}, got "
                            f"{len(res.times_ns)}", code=Code.RUNTIME, where=config.url)
    return SshReport(model=str(config.model), target=config.url, input_source=source,
                     notes=notes, outputs_match=outputs_match_text(w.output_details),
                     arena_bytes=res.arena_required or w.arena_bytes,
                     latency=summarize(res.times_ns), commands=[copy, execute])


def render_ssh(r: SshReport) -> str:
    lat = r.latency

    def ms(v: float) -> str:
        return f"{v:.3f}" if v < 10 else f"{v:.1f}"

    return "\n".join([
        f"model     {r.model}",
        f"target    {r.target} (static aarch64 binary, copied with scp, run with ssh)",
        f"input     {r.input_source}",
        *[f"note      {n}" for n in r.notes],
        f"outputs   {r.outputs_match} (checked on the device)",
        f"arena     {r.arena_bytes:,} bytes",
        (f"latency   {lat.runs} runs (clock_gettime on the device), ms: min {ms(lat.min_ms)}  "
         f"p50 {ms(lat.p50_ms)}  p90 {ms(lat.p90_ms)}  p99 {ms(lat.p99_ms)}  "
         f"mean {ms(lat.mean_ms)}"),
    ])
