"""runtime_micro's CMake build for phones and other CPUs (issue 12, part 2).

- aarch64-linux-gnu and arm-linux-gnueabihf (runtime_micro/cmake/toolchains/): the C tests
  (API + malformed-model corpus) run under qemu-user through ctest, and examples/c, built
  against the installed cross package with find_package, runs the digits models (made by
  edgelite) on a real digit under QEMU and prints the Python binding's outputs (which
  tests/helpers/embed.py checks against LiteRT).
- Android (aarch64, armv7, x86_64) and Apple arm64 (macOS) with `zig cc` from the ziglang wheel
  (pip extra [test]): the same CMakeLists.txt builds the static archive for Android and the static
  + shared library for macOS, and examples/c links for macOS. No NDK or Apple SDK exists here: zig
  brings macOS's libSystem stubs; for Android, whose libc headers zig lacks, musl's headers
  stand in for bionic's (same declarations for what runtime_micro uses), so these are compile
  (Android: library + JNI glue) and compile + link (macOS) checks, never runs. The CPU-feature
  probes are checked by what the objects import: getauxval on Android/Linux aarch64,
  sysctlbyname on Apple. The thread pool's own library (hosted/el_threadpool.c) builds on both,
  exporting its four functions and importing pthread_create (it runs under qemu-user in the
  Linux builds' ctest).
"""

from __future__ import annotations

import shutil
import stat
import sys
from pathlib import Path

import pytest

from helpers.embed import (EXAMPLE, RUNTIME, digits_models, exported, format_values, libdir,
                           pool_api, public_api, run, tool)

pytestmark = pytest.mark.slow  # cross builds under qemu-user, zig compile checks

TOOLCHAINS = RUNTIME / "cmake" / "toolchains"
CROSS = {"aarch64-linux-gnu": "qemu-aarch64", "arm-linux-gnueabihf": "qemu-arm"}
APT = {"aarch64-linux-gnu": "gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user",
       "arm-linux-gnueabihf": "gcc-arm-linux-gnueabihf libc6-dev-armhf-cross qemu-user"}
FLOAT_TOL = 1e-5


@pytest.fixture(scope="module")
def models() -> list:
    return digits_models()


@pytest.mark.parametrize("triple", sorted(CROSS))
def test_cross_build_runs_tests_and_example_under_qemu(triple: str, models: list,
                                                       tmp_path: Path) -> None:
    cmake = tool("cmake", "cmake")
    tool(f"{triple}-gcc", APT[triple])
    qemu = tool(CROSS[triple], "qemu-user")
    build, prefix = tmp_path / "build", tmp_path / "prefix"
    toolchain = f"-DCMAKE_TOOLCHAIN_FILE={TOOLCHAINS / (triple + '.cmake')}"
    run([cmake, "-S", RUNTIME, "-B", build, toolchain, "-DEDGELITE_TESTS=ON",
         "-DEDGELITE_WERROR=ON", "-DCMAKE_BUILD_TYPE=Release"])
    run([cmake, "--build", build, "-j2"])
    out = run(["ctest", "--test-dir", build, "--output-on-failure"])
    # test_api, test_corpus and the thread pool's test_threads (pthreads under qemu-user)
    assert "100% tests passed" in out and "out of 3" in out and "test_threads" in out, out
    run([cmake, "--install", build, "--prefix", prefix])
    assert exported(libdir(prefix) / "libedgelite_micro.so") == public_api()

    ex = tmp_path / "example"
    run([cmake, "-S", EXAMPLE, "-B", ex, toolchain,
         f"-Dedgelite_micro_DIR={libdir(prefix) / 'cmake' / 'edgelite_micro'}"])
    run([cmake, "--build", ex])
    for m in models:
        (tmp_path / "m.tflite").write_bytes(m.model)
        (tmp_path / "x.bin").write_bytes(m.x.tobytes())
        lines = run([qemu, "-L", f"/usr/{triple}", ex / "edgelite_run", tmp_path / "m.tflite",
                     tmp_path / "x.bin"]).splitlines()
        values = lines[lines.index(next(x for x in lines if x.startswith("output 0:"))) + 1:]
        want = format_values(m.y)
        if m.y.dtype.kind == "f":  # float32 kernels: same C on another FPU, within 1e-5
            assert len(values) == len(want)
            for a, b in zip(values, want):
                assert abs(float(a) - float(b)) <= FLOAT_TOL * max(1.0, abs(float(b))), m.name
        else:  # integer kernels: bit-exact on every CPU
            assert values == want, m.name


# ------------------------------------------------------------------ zig cc: Android, Apple
def _zig_include() -> Path:
    try:
        import ziglang
    except ImportError:
        pytest.fail("the ziglang wheel is missing: pip install -e '.[test]' (it is in the test "
                    "extra)", pytrace=False)
    return Path(ziglang.__file__).parent / "lib" / "libc" / "include"


def _script(path: Path, text: str) -> Path:
    path.write_text("#!/bin/sh\n" + text + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _zig_toolchain(work: Path, system: str, processor: str, target: str,
                   cflags: str = "") -> Path:
    """A CMake toolchain file whose C compiler is `zig cc -target TARGET`."""
    zig = f"'{sys.executable}' -m ziglang"
    cc = _script(work / "zig-cc", f'exec {zig} cc -target {target} {cflags} "$@"')
    ar = _script(work / "zig-ar", f'exec {zig} ar "$@"')
    ranlib = _script(work / "zig-ranlib", f'exec {zig} ranlib "$@"')
    tc = work / "toolchain.cmake"
    tc.write_text(f"set(CMAKE_SYSTEM_NAME {system})\nset(CMAKE_SYSTEM_PROCESSOR {processor})\n"
                  f"set(CMAKE_C_COMPILER {cc})\nset(CMAKE_AR {ar})\nset(CMAKE_RANLIB {ranlib})\n"
                  # no NDK / SDK: compiler checks build archives, not programs
                  "set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)\n"
                  'set(CMAKE_OSX_ARCHITECTURES "")\nset(CMAKE_OSX_SYSROOT "")\n')
    return tc


def _macho_exports(nm: str, dylib: Path) -> set[str]:
    """The symbols a Mach-O dylib defines and exports, without the linker's own."""
    lines = run([nm, "--defined-only", "--extern-only", dylib]).splitlines()
    return {line.split()[-1] for line in lines if line.strip()} - {"__mh_dylib_header",
                                                                    "___dso_handle"}


def _llvm_nm() -> str:
    return shutil.which("llvm-nm") or tool("llvm-nm-14", "llvm (comes with clang)")


ANDROID = {  # ABI: (zig target, CPU flags, musl header folder standing in for bionic's, ELF machine)
    "arm64-v8a": ("aarch64-linux-android", "", "aarch64-linux-musl", "AArch64"),
    # ARMv7-A in Thumb-2, as the NDK builds armeabi-v7a by default (zig names Thumb code
    # "thumb" and CPUs with underscores)
    "armeabi-v7a": ("thumb-linux-androideabi", "-mcpu=cortex_a8", "arm-linux-musl", "ARM"),
    "x86_64": ("x86_64-linux-android", "", "x86_64-linux-musl", "X86-64"),
}


@pytest.mark.slow
@pytest.mark.parametrize("abi", sorted(ANDROID))
def test_android_static_library_with_zig(abi: str, tmp_path: Path) -> None:
    target, flags, musl, machine = ANDROID[abi]
    inc = _zig_include()
    cflags = " ".join(f"-isystem {inc / d}" for d in (musl, "generic-musl", "any-linux-any"))
    cflags += " " + flags
    tc = _zig_toolchain(tmp_path, "Linux", abi, target, cflags)
    cmake = tool("cmake", "cmake")
    build = tmp_path / "build"
    # The Android NDK's toolchain file defines ANDROID; so does this build (same code paths)
    run([cmake, "-S", RUNTIME, "-B", build, f"-DCMAKE_TOOLCHAIN_FILE={tc}", "-DANDROID=ON",
         "-DEDGELITE_SHARED=OFF", "-DEDGELITE_WERROR=ON"])
    run([cmake, "--build", build, "-j2"])
    archive = build / "libedgelite_micro.a"
    symbols = run([_llvm_nm(), "--defined-only", "--extern-only", archive])
    defined = {line.split()[-1] for line in symbols.splitlines() if " T " in line}
    assert public_api() <= defined
    header = run(["readelf", "-h", build / "CMakeFiles" / "edgelite_micro_objects.dir" / "src" /
                  "el_interp.c.o"])
    assert machine in header, header
    # the thread pool (hosted/el_threadpool.c, its own library) builds for Android too
    pool = build / "libedgelite_threadpool.a"
    pool_syms = run([_llvm_nm(), "--extern-only", pool])
    assert pool_api() == {ln.split()[-1] for ln in pool_syms.splitlines() if " T " in ln}
    assert " U pthread_create" in pool_syms
    if abi == "arm64-v8a":  # the dot-product probe asks the kernel (bionic's getauxval)
        assert "getauxval" in run([_llvm_nm(), "--undefined-only", archive])
        # clang takes float16 arithmetic (allow_fp16) with kernels/opt/arm_fp16.c compiled
        # alone with the feature: CMakeLists.txt found the flag, the kernels are in
        every = run([_llvm_nm(), "--defined-only", archive])
        assert " T el_opt_conv2d_f16w" in every and " T el_opt_fully_connected_f16w" in every, [
            ln for ln in every.splitlines() if "f16" in ln]
    # The JNI glue compiles for this ABI too (jni.h is the JNI specification's header: the
    # JDK's stands in for the NDK's; zig cannot link an Android .so without bionic).
    jdk = Path(tool("javac", "default-jdk-headless")).resolve().parents[1] / "include"
    jni_obj = tmp_path / "edgelite_jni.o"
    run([tmp_path / "zig-cc", "-std=c99", "-O2", "-Wall", "-Wextra", "-Werror", "-fPIC",
         "-fvisibility=hidden", "-isystem", jdk, "-isystem", jdk / "linux",
         f"-I{RUNTIME / 'include'}", "-c", RUNTIME / "bindings" / "java" / "jni" / "edgelite_jni.c",
         "-o", jni_obj])
    assert "Java_dev_edgelite_NativeInterpreter_create" in run([_llvm_nm(), jni_obj])


@pytest.mark.slow
def test_macos_arm64_with_zig(tmp_path: Path) -> None:
    _zig_include()
    tc = _zig_toolchain(tmp_path, "Darwin", "arm64", "aarch64-macos")
    cmake = tool("cmake", "cmake")
    build = tmp_path / "build"
    run([cmake, "-S", RUNTIME, "-B", build, f"-DCMAKE_TOOLCHAIN_FILE={tc}",
         "-DEDGELITE_WERROR=ON"])
    run([cmake, "--build", build, "-j2"])
    dylib = build / "libedgelite_micro.0.1.0.dylib"
    nm = _llvm_nm()
    exports = _macho_exports(nm, dylib)
    assert exports == {"_" + name for name in public_api()}, sorted(exports)[:20]
    # the dot-product probe asks the OS
    assert "_sysctlbyname" in run([nm, "--undefined-only", dylib])
    # the thread pool's own library exports its four functions and nothing else
    pool = build / "libedgelite_threadpool.dylib"
    exports = _macho_exports(nm, pool)
    assert exports == {"_" + name for name in pool_api()}, sorted(exports)
    assert "_pthread_create" in run([nm, "--undefined-only", pool])
    # a program links against the static library (libm comes from libSystem)
    exe = tmp_path / "edgelite_run"
    run([sys.executable, "-m", "ziglang", "cc", "-target", "aarch64-macos", "-std=c99",
         f"-I{RUNTIME / 'include'}", EXAMPLE / "main.c", build / "libedgelite_micro.a", "-lm",
         "-o", exe])
    assert exe.read_bytes()[:4] == bytes.fromhex("cffaedfe")  # Mach-O 64-bit
