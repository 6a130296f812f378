"""``edgelite export``: a .tflite file (+ input .npy files) -> a folder of C sources.

    export_model("kws.tflite", "out/", inputs=["x.npy"])   # -> [out/kws.h, out/kws_data.c, ...]

Runs the model once per step on runtime_micro (host build) to record the expected outputs and
the exact arena size, then writes export_c's files. Input data: one .npy (or array) per model
input, shaped like the input (one invoke) or with one more leading axis (one slice per invoke,
for streaming models). Float data for a quantized (int8/uint8/int16) input is quantized with the
input's scale and zero point; any other dtype mismatch is an error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.export.c_array import export_c, export_names, write_folder
from edgelite.fileio import read_bytes


def c_name(stem: str) -> str:
    """A C identifier from a file name: 'hey-jarvis.v2' -> 'hey_jarvis_v2'."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "model"
    return "m_" + name if name[0].isdigit() else name


def _load(src: str | os.PathLike[str] | np.ndarray, i: int) -> np.ndarray:
    if isinstance(src, np.ndarray):
        return src
    path = Path(src)
    if not path.is_file():
        raise EdgeliteError(f"input {i} data not found", where=str(path), code=Code.BAD_INPUT,
                            hint="give one .npy file per model input")
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise EdgeliteError(f"input {i}: cannot read .npy: {exc}", where=str(path),
                            code=Code.BAD_INPUT) from None


def _steps_of(arr: np.ndarray, shape: tuple[int, ...], i: int) -> np.ndarray:
    """The data as (steps, *shape)."""
    if tuple(arr.shape) == shape:
        return arr[None]
    if arr.ndim == len(shape) + 1 and tuple(arr.shape[1:]) == shape and arr.shape[0] > 0:
        return arr
    raise EdgeliteError(
        f"input {i}: data shape {tuple(arr.shape)} is neither the input shape {shape} nor "
        f"(steps, *{shape})", code=Code.BAD_INPUT,
        hint="reshape the .npy to the model input shape, with an optional leading steps axis")


def _to_dtype(arr: np.ndarray, dtype: np.dtype, scale: float, zero_point: int,
              i: int) -> np.ndarray:
    if arr.dtype == dtype:
        return arr
    if arr.dtype.kind == "f" and dtype.kind in "iu" and scale > 0:
        info = np.iinfo(dtype)
        q = np.round(arr.astype(np.float64) / scale) + zero_point
        return np.clip(q, info.min, info.max).astype(dtype)
    if arr.dtype.kind == "f" and dtype.kind == "f":
        return arr.astype(dtype)
    raise EdgeliteError(f"input {i}: data is {arr.dtype}, the model input is {dtype}",
                        code=Code.BAD_INPUT, hint=f"save the .npy as {dtype}")


def export_model(model: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                 inputs: Sequence[str | os.PathLike[str] | np.ndarray] | None = None,
                 name: str | None = None, expected: bool = True) -> list[Path]:
    """Write C sources for ``model`` into ``out_dir``; returns the files written.

    inputs: one .npy path (or array) per model input; None exports the model alone.
    expected: also record the host runtime's outputs for those inputs (firmware tests compare
    against them). The header's NAME_ARENA_SIZE is the arena the host runtime needs; 32-bit
    targets need no more (their bookkeeping pointers are smaller), el_arena_required() says
    exactly.
    """
    from edgelite.runtime import Interpreter

    path = Path(model)
    data = read_bytes(path, "model")
    ident = name or c_name(path.stem)
    interp = Interpreter(data)
    arena = interp.arena_bytes
    if inputs is None:
        files = export_c(data, ident, arena_bytes=arena, source=path.name)
        return write_folder(files, out_dir, replaces=export_names(ident))
    if len(inputs) != len(interp.inputs):
        raise EdgeliteError(f"the model has {len(interp.inputs)} input(s), got {len(inputs)} "
                            "data file(s)", where=str(path), code=Code.BAD_INPUT,
                            hint="give one .npy per model input, in model order")
    arrays = []
    for i, (src, det) in enumerate(zip(inputs, interp.inputs)):
        arr = _steps_of(_load(src, i), tuple(det.shape), i)
        arrays.append(_to_dtype(arr, det.dtype, det.scale, det.zero_point, i))
    steps = arrays[0].shape[0]
    if any(a.shape[0] != steps for a in arrays):
        raise EdgeliteError("inputs have different numbers of steps",
                            code=Code.BAD_INPUT, where=str(path),
                            hint="give every input the same leading steps axis")
    outputs = None
    if expected:
        per_step = []
        for s in range(steps):
            for i, a in enumerate(arrays):
                interp.set_input(i, a[s])
            interp.invoke()
            per_step.append([interp.get_output(k) for k in range(len(interp.outputs))])
        outputs = [np.stack([o[k] for o in per_step]) for k in range(len(interp.outputs))]
    files = export_c(data, ident, inputs=arrays, outputs=outputs, arena_bytes=arena,
                     steps=steps, source=path.name)
    return write_folder(files, out_dir, replaces=export_names(ident))
