"""`edgelite bench --target adb[://SERIAL]`: wall-clock latency on an Android phone reached
with the platform tools' own `adb` (USB or `adb connect` over Wi-Fi).

    report = run_adb_bench(RemoteConfig(Path("m.tflite"), "adb://R58M123", cpu=7))

The static harness (aarch64 for arm64-v8a, armv7 with abi="armeabi-v7a") with the model and its
input linked in is pushed to /data/local/tmp (the one folder apps' shells may execute from),
run with `adb shell`, optionally pinned with taskset to one core or a set of them (`--cpu N`,
`--cpu 4-7` for a phone's big cores with `--threads 4`: phones mix big and little cores, and an
unpinned run migrates between them), and removed in the same shell
command. The remote command prints its exit status last, since adb before Android 7 does not
pass it on. remote.py does the rest (build, on-device check, timings), as for ssh://.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from edgelite.bench.remote import RemoteConfig, RemoteReport, run_remote_bench
from edgelite.errors import Code, EdgeliteError

REMOTE_DIR = "/data/local/tmp"
_ADB_URL = re.compile(r"^adb(?:://(?P<serial>[A-Za-z0-9._:-]+))?$")


@dataclass(frozen=True)
class AdbTransport:
    serial: str | None = None  # None: the only device adb sees (adb's own rule)
    name: str = "adb"
    remote_dir: str = REMOTE_DIR

    @property
    def label(self) -> str:
        return f"adb device {self.serial}" if self.serial else "the adb device"

    def _adb(self) -> list[str]:
        return ["adb", *(["-s", self.serial] if self.serial else [])]

    def push_command(self, local: Path, remote: str) -> list[str]:
        return [*self._adb(), "push", str(local), remote]

    def shell_command(self, remote_command: str) -> list[str]:
        return [*self._adb(), "shell", remote_command]

    def describe(self) -> str:
        return "pushed with adb, run with adb shell"

    def failure_hint(self, returncode: int, output: str) -> str | None:
        if "no devices" in output or "not found" in output or "offline" in output \
                or "unauthorized" in output:
            return ("check `adb devices`: one device listed as 'device' (USB debugging "
                    "allowed), or name it with adb://SERIAL")
        if "more than one" in output:
            return "several devices: name one with adb://SERIAL (see `adb devices`)"
        return None

    def install_hint(self) -> str:
        return ("install Android's platform tools (Debian: apt-get install -y adb) and put "
                "adb on PATH")


def parse_adb_target(url: str) -> AdbTransport:
    m = _ADB_URL.match(url)
    if not m:
        raise EdgeliteError(f"not an adb target: {url!r}", code=Code.BAD_INPUT,
                            hint="write adb (the only device) or adb://SERIAL (from "
                                 "`adb devices`; host:port for adb over Wi-Fi)")
    return AdbTransport(m.group("serial"))


def run_adb_bench(config: RemoteConfig) -> RemoteReport:
    return run_remote_bench(config, parse_adb_target(config.url))
