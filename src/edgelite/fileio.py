"""Reading inputs with clear errors, and writing outputs atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np

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


# A .npy/.npz from someone else is read field by field: the header's claimed shape is checked
# against the bytes really there before anything is allocated, and object (pickled) arrays are
# refused without being loaded. np.load allocates what the header claims first (a 285 TiB
# "array" in a 200-byte file) and reads .npz members lazily, outside any error handling.
MAX_ARRAY_BYTES = 2**32


def read_arrays(path: str | os.PathLike[str],
                what: str = "data file") -> np.ndarray | dict[str, np.ndarray]:
    """One array from a .npy file, or the arrays of an .npz keyed by name (".npy" dropped)."""
    import io
    import zipfile
    import zlib

    raw = read_bytes(path, what)
    where = str(path)
    hint = "give a .npy array or an .npz of arrays written by numpy.save / numpy.savez"
    try:
        if raw[:4] == b"PK\x03\x04" or raw[:4] == b"PK\x05\x06":
            with zipfile.ZipFile(io.BytesIO(raw)) as z:
                arrays = {}
                for info in z.infolist():
                    if info.is_dir():
                        continue
                    key = info.filename.removesuffix(".npy")
                    with z.open(info) as f:
                        arrays[key] = _read_npy(f, info.file_size, f"{where}:{info.filename}",
                                                hint)
                return arrays
        return _read_npy(io.BytesIO(raw), len(raw), where, hint)
    except EdgeliteError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error,
            NotImplementedError, SyntaxError) as e:
        text = " ".join(str(e).split())[:200]
        raise EdgeliteError(f"cannot read {what} (not a .npy/.npz file): {text}", where=where,
                            code=Code.BAD_INPUT, hint=hint) from None


def _read_npy(f, size: int, where: str, hint: str) -> np.ndarray:
    from numpy.lib import format as npy

    version = npy.read_magic(f)
    if version == (1, 0):
        shape, fortran, dtype = npy.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, fortran, dtype = npy.read_array_header_2_0(f)
    else:
        raise EdgeliteError(f"unsupported .npy format version {version}", where=where,
                            code=Code.BAD_INPUT, hint=hint)
    if dtype.hasobject:
        raise EdgeliteError("holds Python objects (a pickle), which are never loaded",
                            where=where, code=Code.BAD_INPUT, hint="save plain numeric arrays")
    count = 1
    for d in shape:
        count *= int(d)
    nbytes = count * dtype.itemsize
    have = size - f.tell()
    if nbytes != have or nbytes > MAX_ARRAY_BYTES:
        raise EdgeliteError(f"the header claims a {dtype} array of shape {list(shape)} "
                            f"({nbytes:,} bytes) but {have:,} bytes follow it", where=where,
                            code=Code.BAD_INPUT, hint="the file is truncated or corrupt")
    data = bytearray(f.read(nbytes))
    if len(data) != nbytes:
        raise EdgeliteError(f"ended after {len(data):,} of {nbytes:,} array bytes", where=where,
                            code=Code.BAD_INPUT, hint="the file is truncated")
    arr = np.frombuffer(data, dtype=dtype)
    return arr.reshape(shape, order="F" if fortran else "C")
