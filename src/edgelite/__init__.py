"""edgelite: trained models to small, fast integer models for phones and microcontrollers.

    import edgelite

    edgelite.convert("model.onnx", "model.tflite")
    edgelite.quantize("model.onnx", "model_int8.tflite", calibration="samples.npz")
    edgelite.prune("model.onnx", "small.tflite", calibration="samples.npz", macs=0.5)
    edgelite.inspect("model_int8.tflite")["arena_bytes"]
    edgelite.bench("model_int8.tflite", compare="litert")
    edgelite.export("model_int8.tflite", "firmware/", input="x.npy")
    interp = edgelite.Interpreter(model_path="model_int8.tflite")   # as LiteRT's

One function per command, with the command's options as keyword arguments (see api.py).
Importing edgelite is cheap: numpy, onnx and the converter load when a function first runs.
"""

from __future__ import annotations

import sys
import types

from edgelite import api as _api
from edgelite.api import ModelBytes, Summary
from edgelite.errors import EdgeliteError

__version__ = "0.1.0"

convert = _api.convert
run = _api.run
evaluate = _api.evaluate
# These names are also subpackages (edgelite/quantize/, edgelite/inspect.py, ...).
quantize = _api.SharedName(_api.quantize, "edgelite.quantize")
prune = _api.SharedName(_api.prune, "edgelite.prune")
inspect = _api.SharedName(_api.inspect, "edgelite.inspect")
bench = _api.SharedName(_api.bench, "edgelite.bench")
export = _api.SharedName(_api.export, "edgelite.export")
_SHARED = frozenset({"quantize", "prune", "inspect", "bench", "export"})


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value: object) -> None:
        # Importing a subpackage binds it on its parent (edgelite.quantize = <module>), which
        # would hide the function of the same name; the function keeps the name and reaches
        # the subpackage's attributes itself (SharedName).
        if name in _SHARED and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def __getattr__(name: str) -> object:
    if name == "Interpreter":  # numpy and the C library's binding: loaded on first use
        from edgelite.runtime.interpreter import Interpreter

        return Interpreter
    raise AttributeError(f"module 'edgelite' has no attribute {name!r}")


__all__ = ["EdgeliteError", "Interpreter", "ModelBytes", "Summary", "__version__", "bench",
           "convert", "evaluate", "export", "inspect", "prune", "quantize", "run"]
