"""runtime_micro as a C library package (issue 12, part 1).

`cmake -S runtime_micro -B build && cmake --build build && cmake --install build --prefix P`
installs the header, a static and a shared library, a CMake package and a pkg-config file.
examples/c (read a model, size the arena, run, print) is built against the installed package
through find_package, through `pkg-config --static`, and from source with FetchContent; each
build runs the digits models (float32 and int8, made by edgelite) on a real held-out digit and
must print exactly the Python binding's outputs, which tests/helpers/embed.py checks against
LiteRT's reference kernels. The shared library exports the public API and nothing else, and
the C in runtime_micro/README.md compiles as written.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.embed import (EXAMPLE, HEADER, ROOT, RUNTIME, digits_models, exported,
                           format_values, libdir, public_api, run, tool)

pytestmark = pytest.mark.slow  # CMake builds and installs of the C package

MAX_EXPORTS = 40


@pytest.fixture(scope="module")
def prefix(installed_runtime: Path) -> Path:
    return installed_runtime


@pytest.fixture(scope="module")
def models() -> list:
    return digits_models()


def _check_runs(exe: Path, models: list, work: Path) -> None:
    """The program prints exactly the Python binding's outputs for each model."""
    from edgelite.runtime import Interpreter

    for m in models:
        model, x = work / f"{m.name}.tflite", work / f"{m.name}.in.bin"
        model.write_bytes(m.model)
        x.write_bytes(m.x.tobytes())
        lines = run([exe, model, x]).splitlines()
        # the size query loop lands on the exact arena the Python binding reports
        assert lines[0] == f"arena: {Interpreter(m.model).arena_bytes} bytes", lines[:3]
        dims = " ".join(str(d) for d in m.y.shape)
        head = lines.index(f"output 0: dtype {0 if m.y.dtype.kind == 'f' else 9} [{dims}]")
        assert lines[head + 1:] == format_values(m.y), m.name


def test_install_tree(prefix: Path) -> None:
    lib = libdir(prefix)
    assert (prefix / "include" / "edgelite_micro.h").read_bytes() == HEADER.read_bytes()
    assert (lib / "libedgelite_micro.a").is_file()
    # libedgelite_micro.so -> .so.0.1 -> .so.0.1.0 (the SONAME carries major.minor while 0.x)
    assert (lib / "libedgelite_micro.so").resolve().name == "libedgelite_micro.so.0.1.0"
    assert (lib / "libedgelite_micro.so.0.1").is_symlink()
    assert (lib / "cmake" / "edgelite_micro" / "edgelite_micro-config.cmake").is_file()
    assert (lib / "cmake" / "edgelite_micro" / "edgelite_micro-config-version.cmake").is_file()
    assert (lib / "pkgconfig" / "edgelite_micro.pc").is_file()
    soname = run(["readelf", "-d", lib / "libedgelite_micro.so"])
    assert "Library soname: [libedgelite_micro.so.0.1]" in soname


def test_shared_library_exports_only_the_public_api(prefix: Path) -> None:
    """nm -D: the EL_API functions and nothing else, for the CMake build and for the library
    the Python binding loads (the wheel's, or the Makefile's build/host one in a source tree)."""
    api = public_api()
    assert len(api) <= MAX_EXPORTS
    installed = exported(libdir(prefix) / "libedgelite_micro.so")
    assert installed == api, (sorted(installed - api)[:20], sorted(api - installed))
    from edgelite.runtime import _lib

    assert exported(Path(_lib.load()._name)) == api
    # every function the Python binding declares is exported
    declared = set(re.findall(r'"(el_\w+)":', Path(_lib.__file__).read_text()))
    assert declared and declared <= api, declared - api


def test_python_binding_runs_on_the_installed_library(prefix: Path, models: list,
                                                      tmp_path: Path) -> None:
    """EDGELITE_RUNTIME_LIB pointed at the installed (versioned, hidden-visibility) library."""
    m = models[1]
    (tmp_path / "m.tflite").write_bytes(m.model)
    (tmp_path / "x.bin").write_bytes(m.x.tobytes())
    code = ("import numpy as np, sys\n"
            "from edgelite.runtime import Interpreter\n"
            "it = Interpreter(sys.argv[1])\n"
            "it.set_input(0, np.fromfile(sys.argv[2], np.int8).reshape(it.inputs[0].shape))\n"
            "it.invoke()\n"
            "print(' '.join(str(int(v)) for v in it.get_output(0).ravel()))\n")
    lib = libdir(prefix) / "libedgelite_micro.so.0.1"
    out = run([sys.executable, "-c", code, tmp_path / "m.tflite", tmp_path / "x.bin"],
              env={"EDGELITE_RUNTIME_LIB": str(lib), "PYTHONPATH": str(ROOT / "src")})
    assert out.split() == format_values(m.y)


def test_example_through_find_package(prefix: Path, models: list, tmp_path: Path) -> None:
    cmake = tool("cmake", "cmake")
    build = tmp_path / "build"
    run([cmake, "-S", EXAMPLE, "-B", build, f"-DCMAKE_PREFIX_PATH={prefix}"])
    run([cmake, "--build", build])
    exe = build / "edgelite_run"
    # edgelite::micro is the static library: nothing of runtime_micro is loaded at run time
    needed = run(["readelf", "-d", exe])
    assert "libedgelite_micro" not in needed and "libm.so" in needed
    _check_runs(exe, models, tmp_path)


def test_example_through_pkg_config_static(prefix: Path, models: list, tmp_path: Path) -> None:
    pkg = tool("pkg-config", "pkgconf")
    env = {"PKG_CONFIG_PATH": str(libdir(prefix) / "pkgconfig")}
    libs = run([pkg, "--static", "--libs", "edgelite_micro"], env=env).split()
    assert libs[-2:] == ["-ledgelite_micro", "-lm"], libs
    assert run([pkg, "--modversion", "edgelite_micro"], env=env).strip() == "0.1.0"
    src = tmp_path / "example"
    shutil.copytree(EXAMPLE, src)
    run(["make", "-C", src], env=env)  # the Makefile links with -static
    exe = src / "edgelite_run"
    assert "NEEDED" not in run(["readelf", "-d", exe])
    _check_runs(exe, models, tmp_path)


def test_example_through_fetchcontent(models: list, tmp_path: Path) -> None:
    """add_subdirectory / FetchContent of runtime_micro's sources: no install step."""
    cmake = tool("cmake", "cmake")
    build = tmp_path / "build"
    run([cmake, "-S", EXAMPLE, "-B", build, f"-DEDGELITE_MICRO_SOURCE={RUNTIME}",
         "-DEDGELITE_SHARED=OFF", "-DCMAKE_BUILD_TYPE=Release"])
    run([cmake, "--build", build, "-j2"])
    _check_runs(build / "edgelite_run", models, tmp_path)


def readme_c_blocks() -> list[str]:
    text = (RUNTIME / "README.md").read_text()
    blocks = re.findall(r"^```c\n(.*?)^```", text, re.S | re.M)
    assert blocks, "runtime_micro/README.md has no ```c block"
    return blocks


def test_readme_c_snippets_compile(prefix: Path, tmp_path: Path) -> None:
    """Each ```c block of runtime_micro/README.md is a translation unit that compiles with the
    installed header and, linked with a main() calling nothing, against the static library."""
    cc = shutil.which("cc") or tool("gcc", "build-essential")
    for k, block in enumerate(readme_c_blocks()):
        src = tmp_path / f"snippet{k}.c"
        src.write_text(block)
        obj = tmp_path / f"snippet{k}.o"
        proc = subprocess.run([cc, "-std=c99", "-Wall", "-Wextra", "-Werror", "-pedantic", "-c",
                               f"-I{prefix / 'include'}", src, "-o", obj],
                              capture_output=True, text=True)
        assert proc.returncode == 0, f"README block {k} does not compile:\n{block}\n{proc.stderr}"
        if "int main(" not in block:
            (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
            run([cc, tmp_path / "main.c", obj, "-o", tmp_path / f"snippet{k}",
                 f"-L{libdir(prefix)}", "-Wl,-Bstatic", "-ledgelite_micro", "-Wl,-Bdynamic",
                 "-lm"])
