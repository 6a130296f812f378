"""`edgelite doctor` and scripts/test.sh's Debian package check, with PATH arranged so that
tools are present or missing on purpose (the wheel itself, and doctor naming the missing peers
in a venv without them: tests/test_wheel.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
APT_LIST = REPO / "scripts" / "apt-packages.txt"


def _doctor(path: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path, "PYTHONPATH": str(REPO / "src")}
    return subprocess.run([sys.executable, "-m", "edgelite.cli", "doctor", *args],
                          check=False, capture_output=True, text=True, env=env, timeout=120)


def _bin_with(tmp: Path, *tools: str) -> Path:
    """A folder holding links to the given real tools only."""
    bin_dir = tmp / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in tools:
        real = shutil.which(tool)
        assert real, f"{tool} is not installed here (scripts/apt-packages.txt lists it)"
        (bin_dir / tool).symlink_to(real)
    return bin_dir


def _fake_adb(bin_dir: Path) -> None:
    adb = bin_dir / "adb"
    adb.write_text("#!/bin/sh\necho 'Android Debug Bridge version 1.0.41'\n"
                   "echo 'Version 29.0.6-debian'\n")
    adb.chmod(0o755)


def test_doctor_reports_present_tools_with_their_versions(tmp_path: Path) -> None:
    bin_dir = _bin_with(tmp_path, "arm-none-eabi-gcc", "clang")
    _fake_adb(bin_dir)
    res = _doctor(str(bin_dir), "--json")
    assert res.returncode == 0, res.stderr
    tools = {t["name"]: t for t in json.loads(res.stdout)["tools"]}
    gcc_version = subprocess.run(["arm-none-eabi-gcc", "-dumpfullversion"], check=False,
                                 capture_output=True,
                                 text=True).stdout.strip()
    assert tools["arm-none-eabi-gcc"]["present"] is True
    assert tools["arm-none-eabi-gcc"]["version"] == gcc_version
    assert tools["arm-none-eabi-gcc"]["install"] == ""
    clang_line = subprocess.run(["clang", "--version"], check=False, capture_output=True,
                                text=True).stdout.splitlines()[0]
    assert f"clang version {tools['clang']['version']} " in clang_line + " ", clang_line
    assert tools["adb"] == {**tools["adb"], "present": True, "version": "1.0.41",
                            "where": str(bin_dir / "adb")}
    assert "adb://" in tools["adb"]["enables"]


def test_doctor_names_what_is_missing_and_the_command_installing_it(tmp_path: Path) -> None:
    bin_dir = _bin_with(tmp_path, "arm-none-eabi-gcc")
    res = _doctor(str(bin_dir))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    row = {ln.split()[1]: ln for ln in lines if ln.startswith(("  ok", "  MISSING"))}
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm", "aarch64-linux-gnu-gcc", "qemu-aarch64",
                 "arm-linux-gnueabihf-gcc", "qemu-arm", "clang", "cmake", "java", "javac",
                 "adb", "ziglang", "onnxruntime", "ai_edge_litert", "tflite_micro"):
        assert tool in row, f"doctor does not list {tool}:\n{res.stdout}"
    assert row["arm-none-eabi-gcc"].startswith("  ok")
    for tool in ("qemu-system-arm", "qemu-arm", "clang", "cmake", "javac", "adb"):
        assert row[tool].startswith("  MISSING"), row[tool]
    assert "bench --target cortex-m4" in row["qemu-system-arm"]
    apt = next(ln.strip() for ln in lines if "apt-get install" in ln)
    prefix = "" if os.geteuid() == 0 else "sudo "
    assert apt.startswith(prefix + "apt-get install -y --no-install-recommends ")
    packages = apt.split("--no-install-recommends ")[1].split()
    for pkg in ("qemu-system-arm", "qemu-user", "clang", "cmake", "default-jdk-headless", "adb",
                "gcc-aarch64-linux-gnu", "libc6-dev-arm64-cross"):
        assert pkg in packages, apt
    assert "gcc-arm-none-eabi" not in packages  # present
    assert len(packages) == len(set(packages))  # qemu-user once for qemu-arm and qemu-aarch64
    # Each Debian package named is one apt knows (the install command works as printed).
    policy = subprocess.run(["apt-cache", "policy", *packages], check=False,
                            capture_output=True, text=True)
    for pkg in packages:
        assert f"{pkg}:\n  Installed" in policy.stdout, f"apt does not know {pkg}"


# ---- scripts/test.sh: the README's test command on a fresh Debian machine -------------------

def _test_sh_copy(tmp: Path, extra_package: str | None) -> Path:
    """scripts/ copied beside a fake venv whose python only records how it was called."""
    root = tmp / "repo"
    shutil.copytree(REPO / "scripts", root / "scripts")
    if extra_package:
        with open(root / "scripts" / "apt-packages.txt", "a") as f:
            f.write(f"{extra_package}  # not a Debian package\n")
    fake = root / "venv" / "bin" / "python"
    fake.parent.mkdir(parents=True)
    fake.write_text(f"#!/bin/sh\necho \"python $*\" >> {root}/calls\n")
    fake.chmod(0o755)
    return root


def _run_test_sh(root: Path, uid: int) -> subprocess.CompletedProcess[str]:
    fake_id = root / "fakebin" / "id"  # scripts/test.sh asks `id -u` whether it is root
    fake_id.parent.mkdir()
    fake_id.write_text(f"#!/bin/sh\necho {uid}\n")
    fake_id.chmod(0o755)
    env = {**os.environ, "EDGELITE_VENV": str(root / "venv"),
           "PATH": f"{fake_id.parent}:{os.environ['PATH']}"}
    env.pop("EDGELITE_SKIP_APT", None)
    return subprocess.run(["bash", str(root / "scripts" / "test.sh"), "-k", "x"],
                          check=False, capture_output=True, text=True, env=env, timeout=120)


def test_test_sh_prints_the_apt_command_first_when_not_root(tmp_path: Path) -> None:
    root = _test_sh_copy(tmp_path, "edgelite-no-such-package")
    res = _run_test_sh(root, 1000)
    assert res.returncode == 1, res.stdout + res.stderr
    want = ("sudo apt-get update && sudo apt-get install -y --no-install-recommends "
            "edgelite-no-such-package")
    assert want in res.stderr, res.stderr  # only the missing one: the rest is installed here
    assert not (root / "calls").exists()  # stopped before pip and pytest


def test_test_sh_runs_pytest_when_every_package_is_installed(tmp_path: Path) -> None:
    root = _test_sh_copy(tmp_path, None)
    res = _run_test_sh(root, 1000)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "apt-get" not in res.stderr
    calls = (root / "calls").read_text().splitlines()
    assert calls[-2] == "python -m pip install -q .[test]"
    # one xdist worker per core; the slowest tests listed (CI has 30 minutes)
    assert calls[-1] == "python -m pytest -q --durations=25 -n auto -k x"


def test_ci_and_test_sh_share_one_package_list() -> None:
    ci = (REPO / ".ci" / "run").read_text()
    assert "scripts/apt-packages.txt" in ci and "scripts/test.sh" in ci
    assert "scripts/apt-packages.txt" in (REPO / "scripts" / "test.sh").read_text()
    packages = [ln.split("#")[0].strip() for ln in APT_LIST.read_text().splitlines()]
    packages = [p for p in packages if p]
    for pkg in ("chromium", "gcc-arm-none-eabi", "qemu-system-arm", "clang", "cmake",
                "default-jdk-headless", "python3-venv"):
        assert pkg in packages
    assert "apt-packages.txt" in (REPO / "README.md").read_text()
