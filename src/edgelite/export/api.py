"""``edgelite export``: a .tflite file (+ input .npy files) -> a folder of C sources.

    export_model("kws.tflite", "out/", inputs=["x.npy"])   # -> [out/kws.h, out/kws_data.c, ...]

Runs the model once per step on runtime_micro (host build) to record the expected outputs and
the exact arena size, then writes export_c's files. Input data: one .npy (or array) per model
input or one .npz keyed by input name, taken as `edgelite run` takes it (samples first, each
sample one invoke, as streaming models need; NCHW data moved to NHWC; float data quantized with
the input's scale and zero point). ``bundle=True`` makes the folder buildable: see bundle.py.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.export.c_array import export_c, export_names, write_folder
from edgelite.fileio import read_bytes, refuse_onnx_as_tflite


def c_name(stem: str) -> str:
    """A C identifier from a file name: 'hey-jarvis.v2' -> 'hey_jarvis_v2'."""
    name = re.sub(r"[^A-Za-z0-9_]", "_", stem) or "model"
    return "m_" + name if name[0].isdigit() else name


def _arrays(inputs: Sequence[str | os.PathLike[str] | np.ndarray], names: list[str],
            where: str) -> list[np.ndarray]:
    """One array per model input, from arrays, one .npy per input, or one .npz keyed by input
    name (as `edgelite run` reads them)."""
    from edgelite.runtime.batch import arrays_by_input, load_arrays

    loaded: list = []
    for i, src in enumerate(inputs):
        if isinstance(src, np.ndarray):
            loaded.append(src)
            continue
        path = Path(src)
        if not path.is_file():
            raise EdgeliteError(f"input {i} data not found", where=str(path),
                                code=Code.BAD_INPUT,
                                hint="give one .npy per model input, or one .npz keyed by "
                                     "input name")
        data = load_arrays(path)
        if isinstance(data, dict):
            if len(inputs) != 1:
                raise EdgeliteError("an .npz holds every input: give it alone",
                                    where=str(path), code=Code.BAD_INPUT)
            return arrays_by_input(data, names, str(path))
        loaded.extend(data)
    if len(loaded) != len(names):
        raise EdgeliteError(f"the model has {len(names)} input(s), got {len(loaded)} "
                            "data file(s)", where=where, code=Code.BAD_INPUT,
                            hint="give one .npy per model input, in model order, or one .npz "
                                 "keyed by input name")
    return loaded


def prepare_inputs(model: bytes, interp, inputs: Sequence[str | os.PathLike[str] | np.ndarray],
                   where: str, notes: list[str]) -> list[np.ndarray]:
    """Inputs as (steps, *input shape) arrays of the input's dtype, the way `edgelite run`
    takes them: samples first (each sample is one invoke), NCHW data moved to NHWC for inputs
    the converter made channels-last, float data quantized for integer inputs."""
    from edgelite.runtime.batch import _channels_last_inputs, as_input_dtype, split_samples

    nhwc = _channels_last_inputs(model)
    arrays = []
    for arr, det in zip(_arrays(inputs, [d.name for d in interp.inputs], where), interp.inputs):
        samples = split_samples(np.asarray(arr), det, det.name in nhwc, where, notes)
        arrays.append(np.stack([as_input_dtype(x, det, det.name, notes).reshape(det.shape)
                                for x in samples]))
    steps = {a.shape[0] for a in arrays}
    if len(steps) != 1:
        raise EdgeliteError(f"inputs have different numbers of samples {sorted(steps)}",
                            code=Code.BAD_INPUT, where=where,
                            hint="give every input the same number of samples (invokes)")
    return arrays


def export_model(model: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                 inputs: Sequence[str | os.PathLike[str] | np.ndarray] | None = None,
                 name: str | None = None, expected: bool = True, bundle: bool = False,
                 notes: list[str] | None = None) -> list[Path]:
    """Write C sources for ``model`` into ``out_dir`` (created with its parents); returns the
    files written.

    inputs: data for the model inputs as `edgelite run` takes it (one .npy per input or one
    .npz keyed by input name, or arrays; samples first, each sample one invoke; NCHW data is
    moved to NHWC and float data quantized when the model wants it); None exports the model
    alone. expected: also record the host runtime's outputs for those inputs (firmware tests
    compare against them). bundle: also write runtime_micro's sources, main.c, CMakeLists.txt
    and a Makefile (edgelite.export.bundle) so the folder builds and checks itself. notes:
    receives what was done to the input data. The header's NAME_ARENA_SIZE is the arena the
    host runtime needs (on Cortex-M, which keeps no int8 filter sums, the arena without them;
    on hosts other than x86-64 and aarch64, which fold no PAD into its convolution, the arena
    with every PAD); 32-bit targets need no more (their bookkeeping pointers are smaller),
    el_arena_required() says exactly.
    """
    from edgelite.runtime import Interpreter, arena_sizes

    path = Path(model)
    data = read_bytes(path, "model")
    if data[4:8] != b"TFL3":
        refuse_onnx_as_tflite(data, str(path))
    ident = name or c_name(path.stem)
    interp = Interpreter(data)
    sizes = arena_sizes(data)
    arena, micro_arena, unfolded_arena = sizes.hosted, sizes.cortex_m, sizes.unfolded
    notes = notes if notes is not None else []
    arrays, outputs, steps = None, None, 1
    if inputs is not None:
        arrays = prepare_inputs(data, interp, inputs, str(path), notes)
        steps = arrays[0].shape[0]
    if arrays is not None and expected:
        per_step = []
        for s in range(steps):
            for i, a in enumerate(arrays):
                interp.set_input(i, a[s])
            interp.invoke()
            per_step.append([interp.get_output(k) for k in range(len(interp.outputs))])
        outputs = [np.stack([o[k] for o in per_step]) for k in range(len(interp.outputs))]
    if arrays is None:
        files = export_c(data, ident, arena_bytes=arena, source=path.name,
                         micro_arena_bytes=micro_arena, unfolded_arena_bytes=unfolded_arena)
    else:
        files = export_c(data, ident, inputs=arrays, outputs=outputs, arena_bytes=arena,
                         steps=steps, source=path.name, micro_arena_bytes=micro_arena,
                         unfolded_arena_bytes=unfolded_arena)
    replaces = export_names(ident)
    trees = None
    if bundle:
        from edgelite.export.bundle import bundle_files, bundle_names
        from edgelite.tflite.reader import read_model

        extra, trees, ops = bundle_files(ident, read_model(data, str(path)),
                                         model_size=len(data), has_data=arrays is not None)
        files.update(extra)
        notes.append(f"ops compiled in: {' '.join(ops) or 'none'}")
        replaces = (*replaces, *bundle_names())
    return write_folder(files, out_dir, replaces=replaces, trees=trees)
