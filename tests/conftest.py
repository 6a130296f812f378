"""Shared test setup.

When the tests import edgelite from this checkout's src/ (PYTHONPATH=src, no installed wheel),
runtime_micro's shared library is built in-tree first (`make -C runtime_micro`), so no test
loads a stale build. With an installed wheel, the wheel's library is used as is.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session", autouse=True)
def _runtime_library_up_to_date() -> None:
    import edgelite

    from_source = Path(edgelite.__file__).resolve().is_relative_to(REPO / "src")
    if from_source and not os.environ.get("EDGELITE_RUNTIME_LIB"):
        from helpers.build import make_in_tree

        proc = make_in_tree("-s", "-j2")
        assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.fixture(scope="session")
def installed_runtime(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """runtime_micro built with CMake and installed to a temporary prefix, once per session
    (tests/test_embed.py, tests/test_java.py): static + shared library, CMake package,
    pkg-config file, and with a JDK on PATH the Java binding (-DEDGELITE_JAVA=ON)."""
    import shutil

    from helpers.embed import RUNTIME, cmake_build_install

    work = tmp_path_factory.mktemp("runtime_install")
    java = "ON" if shutil.which("javac") else "OFF"  # test_java.py fails with the apt hint
    cmake_build_install(RUNTIME, work / "build", work / "prefix", f"-DEDGELITE_JAVA={java}")
    return work / "prefix"
