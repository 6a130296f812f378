"""`edgelite bench --target ssh://[user@]HOST[:PORT][/FOLDER]`: wall-clock latency on a real
aarch64 Linux device (a phone, a Raspberry Pi), reached with the system's own ssh client.

    report = run_ssh_bench(SshConfig(Path("model.tflite"), "ssh://pi@raspberrypi", runs=100))

The binary goes to /tmp on the device, or to the folder the URL names
(ssh://phone:8022/data/local/tmp: Android has no /tmp, and some devices mount it noexec).
It is copied with `scp` and run with `ssh` (both with -o BatchMode=yes: keys only, never a
password prompt); remote.py does the rest (build, on-device check, timings, clean-up), the same
for adb.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgelite.bench.remote import (
    RemoteConfig,
    RemoteReport,
    remote_run_command,
    render_remote,
    run_remote_bench,
)
from edgelite.errors import Code, EdgeliteError

__all__ = ["SshConfig", "SshReport", "SshTarget", "SshTransport", "parse_ssh_target",
           "remote_run_command", "render_ssh", "run_ssh_bench", "scp_command", "ssh_command"]

_SSH_URL = re.compile(r"^ssh://(?:(?P<user>[A-Za-z0-9._-]+)@)?"
                      r"(?P<host>[A-Za-z0-9._-]+|\[[0-9a-fA-F:]+\])(?::(?P<port>\d{1,5}))?"
                      r"(?P<dir>/[A-Za-z0-9._/-]*)?$")
SSH_OPTIONS = ["-o", "BatchMode=yes"]
REMOTE_DIR = "/tmp"  # where the binary goes unless the URL names a folder
SshConfig = RemoteConfig
SshReport = RemoteReport


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


def scp_command(t: SshTarget, local: Path, remote: str) -> list[str]:
    port = ["-P", str(t.port)] if t.port else []
    host = f"[{t.host}]" if ":" in t.host else t.host  # IPv6 literal
    dest = f"{t.user}@{host}" if t.user else host
    return ["scp", *SSH_OPTIONS, "-q", *port, str(local), f"{dest}:{remote}"]


def ssh_command(t: SshTarget, remote_command: str) -> list[str]:
    port = ["-p", str(t.port)] if t.port else []
    return ["ssh", *SSH_OPTIONS, *port, t.destination, remote_command]


@dataclass(frozen=True)
class SshTransport:
    target: SshTarget
    name: str = "ssh"

    @property
    def label(self) -> str:
        return self.target.destination

    @property
    def remote_dir(self) -> str:
        return self.target.remote_dir

    def push_command(self, local: Path, remote: str) -> list[str]:
        return scp_command(self.target, local, remote)

    def shell_command(self, remote_command: str) -> list[str]:
        return ssh_command(self.target, remote_command)

    def describe(self) -> str:
        return "copied with scp, run with ssh"

    def failure_hint(self, returncode: int, output: str) -> str | None:
        if returncode == 255:
            return "exit 255 is ssh's own failure (connection, key login)"
        return "check that `ssh -o BatchMode=yes HOST true` works (key login)"

    def install_hint(self) -> str:
        return "install the OpenSSH client: apt-get install -y openssh-client"


def run_ssh_bench(config: RemoteConfig) -> RemoteReport:
    return run_remote_bench(config, SshTransport(parse_ssh_target(config.url)))


def render_ssh(r: RemoteReport) -> str:
    return render_remote(r)
