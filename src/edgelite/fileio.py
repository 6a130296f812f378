"""Reading inputs with clear errors, and writing outputs atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from edgelite.errors import Code, EdgeliteError


def read_bytes(path: str | os.PathLike[str], what: str = "file") -> bytes:
    """Read a whole input file; a missing path, a directory or an unreadable file is a user error."""
    p = Path(path)
    if not p.exists():
        raise EdgeliteError(f"{what} not found", where=str(p), code=Code.BAD_INPUT,
                            hint="check the path")
    if p.is_dir():
        raise EdgeliteError(f"is a directory, expected a {what}", where=str(p),
                            code=Code.BAD_INPUT)
    try:
        return p.read_bytes()
    except OSError as e:
        raise EdgeliteError(f"cannot read {what}: {e.strerror}", where=str(p)) from None


def write_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename.

    A failure at any point leaves no partial file behind: either the old file or the new one.
    """
    p = Path(path)
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise EdgeliteError("output folder does not exist", where=str(parent),
                            code=Code.BAD_INPUT)
    if p.is_dir():
        raise EdgeliteError("output path is a directory", where=str(p), code=Code.BAD_INPUT)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def refuse_onnx_as_tflite(data: bytes, source: str) -> None:
    """Where a .tflite is needed and ``data`` is not one: an ONNX model gets "convert it first"
    (named .onnx, or protobuf bytes that parse as a model with a graph), anything else passes."""
    onnx_model = str(source).lower().endswith(".onnx")
    if not onnx_model and data[:1] == b"\x08":  # field 1 (ir_version): how a ModelProto starts
        try:
            import onnx

            onnx_model = len(onnx.load_model_from_string(bytes(data)).graph.node) > 0
        except Exception:  # noqa: BLE001 - any parse failure means "not ONNX"
            onnx_model = False
    if onnx_model:
        raise EdgeliteError("this is an ONNX model, not a .tflite file", where=source,
                            code=Code.BAD_INPUT,
                            hint=f"convert it first: edgelite convert {source} -o model.tflite")
