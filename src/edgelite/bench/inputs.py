"""The input every runtime gets: from a file (first sample), or deterministic random data.

Arrays come out typed and laid out as the .tflite model's inputs want them (NHWC, integers when
the model is quantized); runners that need another view (ONNX Runtime: real values, NCHW) derive
it from these, so every runtime sees the same values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.runtime.batch import as_input_dtype, arrays_by_input, load_arrays, split_samples
from edgelite.runtime.interpreter import TensorDetails
from edgelite.tflite.metadata import METADATA_KEY, IoLayout, channels_last_io

ModelLayout = IoLayout


def model_layout(metadata: list) -> ModelLayout:  # list[reader.MetadataInfo]
    for entry in metadata:
        if entry.name == METADATA_KEY:
            return channels_last_io(entry.data)
    return channels_last_io(None)


def random_inputs(details: list[TensorDetails], seed: int) -> list[np.ndarray]:
    """Fixed-seed data covering each input's whole range: integers over their full type range
    (for a quantized input that is exactly the calibrated real range), floats uniform in
    [-1, 1], booleans both values."""
    out = []
    for i, d in enumerate(details):
        rng = np.random.default_rng([seed, i])
        if d.dtype == np.bool_:
            out.append(rng.integers(0, 2, size=d.shape).astype(np.bool_))
        elif d.dtype.kind in "iu":
            info = np.iinfo(d.dtype)
            out.append(rng.integers(info.min, info.max, size=d.shape, endpoint=True,
                                    dtype=d.dtype))
        else:
            out.append(rng.uniform(-1.0, 1.0, size=d.shape).astype(d.dtype))
    return out


def file_inputs(path: Path, details: list[TensorDetails], layout: ModelLayout
                ) -> tuple[list[np.ndarray], list[str]]:
    """The first sample of an .npy (one input) or .npz (keyed by input name), laid out and typed
    like `edgelite run` does it. Returns the arrays and notes on any conversion made."""
    data = load_arrays(path)
    names = [d.name for d in details]
    if isinstance(data, dict):
        arrays = arrays_by_input(data, names, str(path))
    else:
        arrays = data
    if len(arrays) != len(names):
        raise EdgeliteError(f"the model has {len(names)} input(s) {names}, got {len(arrays)} "
                            "array(s)", where=str(path), code=Code.BAD_INPUT,
                            hint="pass a .npz keyed by input name for several inputs")
    notes: list[str] = []
    out = []
    for arr, d in zip(arrays, details):
        first = split_samples(np.asarray(arr), d, d.name in layout.inputs, str(path), notes)[0]
        out.append(np.ascontiguousarray(as_input_dtype(first, d, d.name, notes)))
    return out, notes
