"""The peer runtimes (ONNX Runtime, LiteRT, TFLite Micro): optional, installed with the extra
`pip install 'edgelite[peers]'`, imported only where a command needs one.

The core install stays small (no TensorFlow, no peer runtimes); a command that needs a peer
which is not installed fails with one error naming the extra (exit code 2), never an
ImportError traceback:

    ort = import_peer("onnxruntime", "bench --compare onnxruntime")
"""

from __future__ import annotations

import importlib
from types import ModuleType

from edgelite.errors import Code, EdgeliteError

INSTALL = "pip install 'edgelite[peers]'"

# import name -> PyPI distribution, as listed in pyproject.toml's [peers] extra
PEERS = {
    "onnxruntime": "onnxruntime",
    "ai_edge_litert": "ai-edge-litert",
    "tflite_micro": "tflite-micro",
}


def missing(module: str, needed_for: str) -> EdgeliteError:
    """The error for a peer that is not installed."""
    dist = PEERS.get(module, module)
    return EdgeliteError(
        f"{needed_for} needs {dist} (Python module {module}), which is not installed",
        code=Code.BAD_INPUT,
        hint=f"{INSTALL} installs ONNX Runtime, LiteRT and TFLite Micro; "
             f"or pip install {dist}")


def is_missing(exc: ImportError, module: str) -> bool:
    """True when ``exc`` says ``module`` itself is absent (not a failure inside it)."""
    return exc.name is not None and exc.name.split(".")[0] == module


def import_peer(module: str, needed_for: str) -> ModuleType:
    """Import a peer's module (dotted names allowed) or raise `missing`."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if is_missing(exc, top):
            raise missing(top, needed_for) from None
        raise
