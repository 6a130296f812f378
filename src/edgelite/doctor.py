"""`edgelite doctor`: which optional tools are here, what each one enables, and the exact
command that installs what is missing.

The core (convert, quantize, prune, inspect, run, bench on this host, export) needs nothing
more than `pip install edgelite`. Cross compilers and QEMU add ARM targets, the peers add
`bench --compare`, and so on. Each tool is found on PATH (or as a Python distribution) and asked
for its version; nothing is imported or executed beyond `TOOL --version`.

    report = check()                 # list[Tool], in table order
    print(render_text(report))       # or json.dumps(as_json(report))
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from edgelite import peers

APT = "apt-get install -y --no-install-recommends"


@dataclass(frozen=True)
class Spec:
    name: str  # executable or Python module
    kind: str  # "apt" (an executable from a Debian package) or "pip" (a Python distribution)
    package: str  # what to install: Debian package(s) or a pip requirement
    enables: str
    version_args: tuple[str, ...] = ("--version",)
    needs_file: str = ""  # a file the tool is useless without (a cross libc), from `package`


TOOLS: tuple[Spec, ...] = (
    Spec("arm-none-eabi-gcc", "apt", "gcc-arm-none-eabi libnewlib-arm-none-eabi",
         "bench --target cortex-m4/cortex-m7/cortex-m55; export ... make TARGET=cortex-m4",
         needs_file="/usr/lib/arm-none-eabi/lib/nano.specs"),
    Spec("qemu-system-arm", "apt", "qemu-system-arm",
         "bench --target cortex-m4/cortex-m7/cortex-m55 (runs the firmware on MPS2/MPS3 boards)"),
    Spec("aarch64-linux-gnu-gcc", "apt", "gcc-aarch64-linux-gnu libc6-dev-arm64-cross",
         "bench --target aarch64, adb:// and ssh:// (static aarch64 Linux binaries)",
         needs_file="/usr/aarch64-linux-gnu/lib/libc.a"),
    Spec("qemu-aarch64", "apt", "qemu-user", "bench --target aarch64 (runs the binary under QEMU)"),
    Spec("arm-linux-gnueabihf-gcc", "apt", "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross",
         "bench --target adb://... --abi armeabi-v7a (32-bit ARM Linux binaries)",
         needs_file="/usr/arm-linux-gnueabihf/lib/libc.a"),
    Spec("qemu-arm", "apt", "qemu-user", "running the 32-bit ARM Linux build on this machine"),
    Spec("clang", "apt", "clang libclang-rt-14-dev",
         "make -C runtime_micro fuzz (libFuzzer + sanitizers over the model reader)"),
    Spec("cmake", "apt", "cmake",
         "building export bundles with CMake; installing runtime_micro as a C package"),
    Spec("make", "apt", "make", "bench --target builds; make -C runtime_micro; export Makefiles"),
    Spec("java", "apt", "default-jdk-headless",
         "the Java/Kotlin binding (runtime_micro/bindings/java)", ("-version",)),
    Spec("javac", "apt", "default-jdk-headless",
         "compiling the Java binding (dev.edgelite.Interpreter)", ("-version",)),
    Spec("adb", "apt", "adb", "bench --target adb://SERIAL (Android phones)", ("version",)),
    Spec("ziglang", "pip", "ziglang",
         "zig cc: runtime_micro cross builds for Android and macOS (python -m ziglang cc)"),
    Spec("onnxruntime", "pip", peers.INSTALL, "bench --compare onnxruntime (with --onnx)"),
    Spec("ai_edge_litert", "pip", peers.INSTALL,
         "bench --compare litert; quantize backend 'litert'"),
    Spec("tflite_micro", "pip", peers.INSTALL, "bench --compare tflm"),
)


@dataclass(frozen=True)
class Tool:
    name: str
    present: bool
    version: str  # "" when missing or unknown
    where: str  # the executable's path or the distribution's location, "" when missing
    enables: str
    install: str  # the command that installs it ("" when present)
    note: str = ""  # why a found tool counts as missing (its libc is absent)


_VERSION = re.compile(r"\d+\.\d+(?:\.\d+)?(?:[.\-+~][0-9A-Za-z]+)*")


def _first_version(text: str) -> str:
    m = _VERSION.search(text)
    return m.group(0) if m else ""


def _exe_version(path: str, args: tuple[str, ...]) -> str:
    try:
        proc = subprocess.run([path, *args], check=False, capture_output=True, text=True, timeout=20,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return ""
    # The first line names the version (java prints it on stderr). gcc puts a parenthesised
    # distribution string before it ("arm-none-eabi-gcc (15:12.2.rel1-1) 12.2.1 20221205"),
    # QEMU one after it: the first version after the last ')' if any, else the line's first.
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        if line.strip():
            return _first_version(line.rsplit(")", 1)[-1]) or _first_version(line)
    return ""


def _apt_install(packages: str) -> str:
    sudo = "" if getattr(os, "geteuid", lambda: 0)() == 0 else "sudo "
    return f"{sudo}{APT} {packages}"


def _check(spec: Spec) -> Tool:
    if spec.kind == "pip":
        found = importlib.util.find_spec(spec.name) is not None
        version, where = "", ""
        if found:
            dist = peers.PEERS.get(spec.name, spec.name)
            try:
                version = importlib.metadata.version(dist)
                where = str(importlib.metadata.distribution(dist).locate_file(""))
            except importlib.metadata.PackageNotFoundError:
                pass
        install = (spec.package if spec.package.startswith("pip ")
                   else f"pip install {spec.package}")
        return Tool(spec.name, found, version, where, spec.enables, "" if found else install)
    path = shutil.which(spec.name)
    note = ""
    present = path is not None
    if present and spec.needs_file and not Path(spec.needs_file).exists():
        present, note = False, f"{spec.needs_file} is missing"
    version = _exe_version(path, spec.version_args) if path else ""
    return Tool(spec.name, present, version, path or "", spec.enables,
                "" if present else _apt_install(spec.package), note)


def check() -> list[Tool]:
    return [_check(s) for s in TOOLS]


def install_commands(tools: list[Tool]) -> list[str]:
    """One apt-get line for every missing Debian package, then each pip line once."""
    apt: list[str] = []
    pip: list[str] = []
    for t, spec in zip(tools, TOOLS):
        if t.present:
            continue
        if spec.kind == "apt":
            apt += [p for p in spec.package.split() if p not in apt]
        elif t.install not in pip:
            pip.append(t.install)
    return ([_apt_install(" ".join(apt))] if apt else []) + pip


def sources() -> str:
    """Where runtime_micro's sources (for bench --target and export) are taken from."""
    from edgelite.bench.cross import source_root
    from edgelite.errors import EdgeliteError

    try:
        return str(source_root())
    except EdgeliteError as exc:
        return f"not found ({exc.hint})"


def as_json(tools: list[Tool]) -> dict:
    return {"tools": [asdict(t) for t in tools], "install": install_commands(tools),
            "runtime_micro_sources": sources()}


def render_text(tools: list[Tool]) -> str:
    width = max(len(t.name) for t in tools)
    vwidth = max([len(t.version) for t in tools] + [7])
    lines = [f"runtime_micro sources (bench --target, export): {sources()}", "",
             "Optional tools (the core needs none of them):"]
    for t in tools:
        state = "ok     " if t.present else "MISSING"
        version = t.version or ("?" if t.present else "-")
        extra = f" [{t.note}]" if t.note else ""
        lines.append(f"  {state}  {t.name:<{width}}  {version:<{vwidth}}  {t.enables}{extra}")
    cmds = install_commands(tools)
    if cmds:
        lines += ["", "To install what is missing:"] + [f"  {c}" for c in cmds]
    else:
        lines += ["", "Everything is installed."]
    return "\n".join(lines)
