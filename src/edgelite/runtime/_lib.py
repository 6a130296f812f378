"""Locating and declaring runtime_micro's shared library (ctypes).

Search order:
  1. ``EDGELITE_RUNTIME_LIB`` (path to a libedgelite_micro.so), when set: an explicit choice wins;
  2. the library installed with the wheel: ``edgelite/_lib/libedgelite_micro.so``;
  3. an in-tree build: ``runtime_micro/build/host/libedgelite_micro.so`` next to ``src/``
     (build it with ``make -C runtime_micro``).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from edgelite.errors import Code, EdgeliteError

_SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"
LIB_NAME = "libedgelite_micro" + _SUFFIX

EL_MAX_DIMS = 8
EL_INTERPRETER_SIZE = 512

STATUS_NAMES = {
    0: "EL_OK",
    1: "EL_ERROR_BAD_ARGUMENT",
    2: "EL_ERROR_INVALID_MODEL",
    3: "EL_ERROR_UNSUPPORTED",
    4: "EL_ERROR_ARENA_TOO_SMALL",
    5: "EL_ERROR_INVOKE",
    6: "EL_ERROR_STATE",
}
EL_OK = 0
EL_ERROR_ARENA_TOO_SMALL = 4


class ElInterpreter(ctypes.Structure):
    _fields_ = [("words", ctypes.c_uint64 * (EL_INTERPRETER_SIZE // 8))]


CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_int32, ctypes.c_int32,
                            ctypes.c_int32, ctypes.c_int)


# el_config.parallel_for: void (*)(void *pool, int32_t n_tasks, void (*task)(void *, int32_t),
# void *arg). Python passes the C pool's own function (el_threadpool_parallel_for), never a
# Python callable: tasks then run without the GIL.
PARALLEL_FOR = ctypes.c_void_p


class ElConfig(ctypes.Structure):
    _fields_ = [("planner", ctypes.c_int), ("callback", CALLBACK), ("callback_user", ctypes.c_void_p),
                ("disable_isa", ctypes.c_uint32), ("parallel_for", PARALLEL_FOR),
                ("parallel_pool", ctypes.c_void_p), ("num_threads", ctypes.c_int32),
                ("allow_fp16", ctypes.c_int32)]


# EL_ISA_* of edgelite_micro.h: the optimized kernels' instruction sets.
ISA_BITS = {"avx2": 0x1, "avx512f": 0x400, "avx512vnni": 0x2, "avxvnni": 0x4, "sse4.1": 0x8,
            "neon": 0x10, "sdot": 0x20, "fp16": 0x40, "dsp": 0x100, "mve": 0x200}
ISA_OPT = 0x80000000
ISA_ALL = 0xFFFFFFFF


class ElTensorInfo(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("dtype", ctypes.c_int),
        ("rank", ctypes.c_int32),
        ("dims", ctypes.c_int32 * EL_MAX_DIMS),
        ("data", ctypes.c_void_p),
        ("bytes", ctypes.c_size_t),
        ("scale", ctypes.c_float),
        ("zero_point", ctypes.c_int32),
        ("quant_count", ctypes.c_int32),
        ("quantized_dimension", ctypes.c_int32),
        ("is_const", ctypes.c_int32),
        ("is_variable", ctypes.c_int32),
        ("index", ctypes.c_int32),
    ]


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    out = []
    env = os.environ.get("EDGELITE_RUNTIME_LIB")
    if env:
        out.append(Path(env))
    out.append(here.parents[1] / "_lib" / LIB_NAME)
    out.append(here.parents[3] / "runtime_micro" / "build" / "host" / LIB_NAME)
    return out


_LIB: ctypes.CDLL | None = None
_LIB_PATH: Path | None = None
_POOL: ctypes.CDLL | None = None
POOL_NAME = "libedgelite_threadpool" + _SUFFIX


def load() -> ctypes.CDLL:
    global _LIB
    if _LIB is not None:
        return _LIB
    tried = _candidates()
    for path in tried:
        if path.is_file():
            lib = ctypes.CDLL(str(path))
            _declare(lib)
            _LIB = lib
            global _LIB_PATH
            _LIB_PATH = path
            return lib
    raise EdgeliteError(
        "runtime_micro's shared library was not found (looked at: "
        + ", ".join(str(p) for p in tried) + ")",
        code=Code.RUNTIME,
        hint="pip install edgelite, or build it in the source tree with `make -C runtime_micro`, "
        "or point EDGELITE_RUNTIME_LIB at libedgelite_micro.so",
    )


def _declare(lib: ctypes.CDLL) -> None:
    p_it = ctypes.POINTER(ElInterpreter)
    p_info = ctypes.POINTER(ElTensorInfo)
    sigs = {
        "el_init": (ctypes.c_int, [p_it, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p,
                                   ctypes.c_size_t, ctypes.POINTER(ElConfig)]),
        "el_arena_required": (ctypes.c_size_t, [p_it]),
        "el_arena_required_exact": (ctypes.c_int, [p_it]),
        "el_error_message": (ctypes.c_char_p, [p_it]),
        "el_invoke": (ctypes.c_int, [p_it]),
        "el_reset": (ctypes.c_int, [p_it]),
        "el_input_count": (ctypes.c_int32, [p_it]),
        "el_output_count": (ctypes.c_int32, [p_it]),
        "el_tensor_count": (ctypes.c_int32, [p_it]),
        "el_input_info": (ctypes.c_int, [p_it, ctypes.c_int32, p_info]),
        "el_output_info": (ctypes.c_int, [p_it, ctypes.c_int32, p_info]),
        "el_tensor_info_at": (ctypes.c_int, [p_it, ctypes.c_int32, p_info]),
        "el_kernel_isa": (ctypes.c_uint32, [p_it]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def load_threadpool() -> ctypes.CDLL:
    """libedgelite_threadpool (runtime_micro/hosted/el_threadpool.h), found beside the core
    library: the POSIX-threads parallel_for given to el_config when num_threads > 1."""
    global _POOL
    if _POOL is not None:
        return _POOL
    load()
    assert _LIB_PATH is not None
    path = _LIB_PATH.parent / POOL_NAME
    if not path.is_file():
        raise EdgeliteError(
            f"runtime_micro's thread pool library was not found at {path}", code=Code.RUNTIME,
            hint="build it with `make -C runtime_micro` (it sits beside libedgelite_micro), or "
            "use num_threads=1")
    lib = ctypes.CDLL(str(path))
    lib.el_threadpool_create.restype = ctypes.c_void_p
    lib.el_threadpool_create.argtypes = [ctypes.c_int32]
    lib.el_threadpool_destroy.restype = None
    lib.el_threadpool_destroy.argtypes = [ctypes.c_void_p]
    lib.el_threadpool_threads.restype = ctypes.c_int32
    lib.el_threadpool_threads.argtypes = [ctypes.c_void_p]
    _POOL = lib
    return lib
