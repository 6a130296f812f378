"""runtime_micro from Python: ctypes binding over the C API (see interpreter.py)."""

from edgelite.runtime.interpreter import (
    PLANNERS,
    Interpreter,
    TensorDetails,
    required_arena_bytes,
)

__all__ = ["PLANNERS", "Interpreter", "TensorDetails", "required_arena_bytes"]
