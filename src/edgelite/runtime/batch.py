"""Run a .tflite model on runtime_micro over a batch of samples given as numpy arrays.

What `edgelite run` does: samples come first in the arrays; each sample is laid out and typed
the way the model input wants it (NCHW data is moved to NHWC when the converter made that input
channels-last; float data is quantized with the input's scale and zero point when the model
takes integers); outputs are stacked per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.runtime.interpreter import Interpreter, TensorDetails


@dataclass
class BatchResult:
    outputs: dict[str, np.ndarray]  # output name -> (N, *output shape)
    samples: int
    notes: list[str]


def _channels_last_inputs(model: bytes) -> frozenset[str]:
    from edgelite.tflite.metadata import METADATA_KEY, channels_last_io
    from edgelite.tflite.reader import read_model

    raw = next((m.data for m in read_model(model).metadata if m.name == METADATA_KEY), None)
    return channels_last_io(raw).inputs


def split_samples(arr: np.ndarray, d: TensorDetails, nhwc: bool, where: str,
                  notes: list[str]) -> list[np.ndarray]:
    """Split samples-first data into per-invoke arrays of exactly the input's shape.

    ``nhwc``: the converter made this input channels-last, so NCHW data is moved to NHWC
    (the move is recorded in ``notes``)."""
    shape = tuple(d.shape)
    cands = [("", arr)]
    if nhwc and arr.ndim >= 3:
        cands.append(("moved channels last (NCHW data, NHWC model input)",
                      np.moveaxis(arr, 1 if arr.ndim == len(shape) else 0, -1)))
        if arr.ndim == len(shape) + 1:
            cands.append(("moved channels last (NCHW data, NHWC model input)",
                          np.moveaxis(arr, 2, -1)))
    for note, a in cands:
        out: list[np.ndarray] | None = None
        if a.shape == shape:
            out = [a]
        elif shape and shape[0] == 1 and a.shape[1:] == shape[1:]:
            out = [a[i:i + 1] for i in range(a.shape[0])]
        elif a.shape[1:] == shape:
            out = [a[i] for i in range(a.shape[0])]
        if out is not None:
            if note and note not in notes:
                notes.append(f"input {d.name!r}: {note}")
            return out
    raise EdgeliteError(
        f"input {d.name!r}: data shape {list(arr.shape)} does not fit the model input "
        f"{list(shape)}", where=where, code=Code.BAD_INPUT,
        hint=f"give (N, {', '.join(map(str, shape[1:]))}) with samples first, or exactly "
             f"{list(shape)}")


def as_input_dtype(x: np.ndarray, d: TensorDetails, name: str, notes: list[str]) -> np.ndarray:
    """``x`` in the input's dtype: float data for an integer input is quantized with the
    input's scale and zero point (recorded in ``notes``)."""
    if x.dtype == d.dtype:
        return x
    if d.dtype.kind in "iu" and x.dtype.kind == "f" and d.scale > 0:
        info = np.iinfo(d.dtype)
        note = f"input {name!r}: float data quantized (scale {d.scale:.6g}, zero point " \
               f"{d.zero_point})"
        if note not in notes:
            notes.append(note)
        q = np.round(x.astype(np.float64) / d.scale) + d.zero_point
        return np.clip(q, info.min, info.max).astype(d.dtype)
    if d.dtype.kind == x.dtype.kind or (d.dtype.kind == "f" and x.dtype.kind in "iu"):
        return x.astype(d.dtype)
    raise EdgeliteError(f"input {name!r}: data of type {x.dtype} cannot feed a {d.dtype} input",
                        code=Code.BAD_INPUT, hint="give float32 data")


def arrays_by_input(data: dict[str, np.ndarray], names: list[str], where: str
                    ) -> list[np.ndarray]:
    """The arrays of an .npz (or a dict) in model input order. Every input needs its own key:
    a lone array under another name is refused too, since it may be meant for another model
    (the error names both the keys and the inputs)."""
    missing = [n for n in names if n not in data]
    if missing:
        raise EdgeliteError(f"no data for model input(s) {missing}: the keys are {sorted(data)}",
                            where=where, code=Code.BAD_INPUT,
                            hint=f"key the .npz arrays by the model's input names {names}, or "
                                 "give a single input as .npy")
    return [data[n] for n in names]


def _with_dynamic_inputs_hint(error: EdgeliteError, model: bytes, where: str) -> EdgeliteError:
    """A file with dynamic input dimensions holds placeholder shapes runtime_micro cannot run:
    the error says so and how to fix the shapes (edgelite convert --input-shape)."""
    from edgelite.tflite.reader import read_model

    try:
        sg = read_model(model, where).subgraphs[0]
    except EdgeliteError:
        return error
    for i in sg.inputs:
        t = sg.tensors[i]
        sig = t.shape_signature or []
        if any(d < 0 for d in sig[1:]) or (sig and sig[0] < 0 and t.shape[:1] != [1]):
            shown = ",".join("?" if d < 0 else str(d) for d in sig)
            example = ",".join(("1" if k == 0 else "N") if d < 0 else str(d)
                               for k, d in enumerate(sig))
            return EdgeliteError(
                f"input {t.name!r} has dynamic dimensions [{shown}]; the file stores the "
                f"placeholder shape {t.shape}, with which runtime_micro fails: "
                f"{error.message}", where=where, code=error.code,
                hint=f"fix the shapes first: edgelite convert {where} --input-shape "
                     f"{t.name}:{example} -o fixed.tflite (N: the size you run with), then "
                     "run fixed.tflite")
    return error


def run_batch(model: bytes, data: dict[str, np.ndarray] | list[np.ndarray], *,
              where: str = "<model>", dequantize: bool = False,
              data_where: str | None = None, num_threads: int = 1) -> BatchResult:
    """``where`` names the model in errors, ``data_where`` the data (default: the model);
    ``num_threads``: runtime_micro's thread pool (the same bytes for any count)."""
    from edgelite.fileio import refuse_onnx_as_tflite

    data_where = data_where or where

    if bytes(model[4:8]) != b"TFL3":
        refuse_onnx_as_tflite(model, where)
    try:
        interp = Interpreter(model, num_threads=num_threads)
    except EdgeliteError as e:
        raise _with_dynamic_inputs_hint(e, model, where) from None
    names = [d.name for d in interp.inputs]
    if isinstance(data, dict):
        data = arrays_by_input(data, names, data_where)
    if len(data) != len(names):
        raise EdgeliteError(f"the model has {len(names)} input(s) {names}, got {len(data)} "
                            f"array(s)", where=data_where, code=Code.BAD_INPUT,
                            hint="pass a .npz keyed by input name for several inputs")
    notes: list[str] = []
    nhwc = _channels_last_inputs(model)
    per_input = [split_samples(np.asarray(a), d, d.name in nhwc, data_where, notes)
                 for a, d in zip(data, interp.inputs)]
    counts = {len(s) for s in per_input}
    if len(counts) != 1:
        raise EdgeliteError(f"inputs have different sample counts {sorted(counts)}",
                            where=where, code=Code.BAD_INPUT)
    n = counts.pop()
    results: list[list[np.ndarray]] = [[] for _ in interp.outputs]
    for s in range(n):
        for i, d in enumerate(interp.inputs):
            interp.set_input(i, as_input_dtype(per_input[i][s], d, d.name, notes))
        interp.invoke()
        for o, d in enumerate(interp.outputs):
            y = interp.get_output(o)
            if dequantize and d.scale > 0:
                y = ((y.astype(np.float32) - d.zero_point) * d.scale).astype(np.float32)
            results[o].append(y)
    outputs = {d.name or f"output_{o}": np.stack(r) for o, (d, r) in
               enumerate(zip(interp.outputs, results))}
    return BatchResult(outputs, n, notes)


def load_arrays(path: Path) -> dict[str, np.ndarray] | list[np.ndarray]:
    """An .npy (one input) or .npz (keyed by input name) file, with clear errors."""
    from edgelite.fileio import read_arrays

    loaded = read_arrays(path, "input file")
    return [loaded] if isinstance(loaded, np.ndarray) else loaded
