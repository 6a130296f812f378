"""runtime_micro from Python: ctypes binding over the C API (see interpreter.py)."""

from edgelite.runtime.interpreter import (
    PLANNERS,
    ArenaSizes,
    Interpreter,
    TensorDetails,
    arena_sizes,
    required_arena_bytes,
)

__all__ = ["PLANNERS", "ArenaSizes", "Interpreter", "TensorDetails", "arena_sizes",
           "required_arena_bytes"]
