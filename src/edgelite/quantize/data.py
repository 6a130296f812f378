"""Calibration data: .npy/.npz files, a folder of images, or a Python callable.

Everything is loaded and checked before any model runs, so bad data (wrong shape or dtype,
NaN/inf, an empty folder, fewer samples than asked) fails at once with an error naming the
input and the shape it expects.

A sample is a dict {graph input name: array of the input's exact shape}. Data for an input of
shape (1, ...) may be given stacked as (N, ...); data laid out NCHW for an NHWC model input
(the ONNX model's layout) is transposed when ``layout`` is "nchw", or "auto" and only the
transposed layout matches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Union

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.progress import Progress  # noqa: F401 - imported from here by quantize and prune

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".ppm", ".pgm", ".webp", ".tif",
                  ".tiff")

Sample = dict[str, np.ndarray]
CalibrationSource = Union[str, Path, Callable[[], Iterable[Any]], Mapping[str, np.ndarray],
                          np.ndarray, "ImageFolder"]


@dataclass(frozen=True)
class ImageFolder:
    """A folder of images and the preprocessing the model expects.

    Pixels are read as RGB (or BGR with ``channels="bgr"``, or one gray channel with
    ``channels="gray"``), resized to (height, width) with bilinear filtering, then
    ``(pixel * scale - mean) / std`` per channel; ``layout`` is how the model input is laid out.
    """

    path: Path
    size: tuple[int, int] | None = None  # (height, width); None: the model input's
    channels: str = "rgb"  # "rgb" | "bgr" | "gray"
    scale: float = 1.0 / 255.0
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    layout: str = "nhwc"  # of the model input: "nhwc" | "nchw"
    input: str | None = None  # which model input; None: the only one
    recursive: bool = False
    exts: tuple[str, ...] = field(default=IMAGE_SUFFIXES)


def _bad(message: str, where: str, hint: str | None = None) -> EdgeliteError:
    return EdgeliteError(message, code=Code.BAD_INPUT, where=where, hint=hint)


def channels_last_io(graph: ir.Graph) -> set[str]:
    """Names of the inputs/outputs the converter moved to channels-last (from its metadata)."""
    from edgelite.tflite.metadata import METADATA_KEY
    from edgelite.tflite.metadata import channels_last_io as parse

    io = parse(graph.metadata.get(METADATA_KEY))
    return set(io.inputs | io.outputs)


def _fit(arr: np.ndarray, t: ir.Tensor, layout: str, where: str,
         converted: bool = False) -> list[np.ndarray]:
    """Split ``arr`` into per-sample arrays of exactly t.shape (converting the layout).

    ``converted``: the converter made this input channels-last, so data in the ONNX model's
    channels-first layout is expected and transposed."""
    shape = tuple(t.shape)
    expected = f"expected (N, {', '.join(map(str, shape[1:]))}) or (N, {', '.join(map(str, shape))})"
    arr = np.asarray(arr)
    if arr.dtype.kind not in "fiub":
        raise _bad(f"input {t.name!r}: data has dtype {arr.dtype}, not numeric", where,
                   f"model input {t.name!r} is {t.dtype} {list(shape)}")
    if arr.dtype.kind == "f" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise _bad(f"input {t.name!r}: data contains {bad} NaN/inf value(s)", where,
                   "calibration data must be finite")

    def candidates(a: np.ndarray) -> list[np.ndarray]:
        nchw_ok = len(shape) >= 3 and (a.ndim >= 4 or (converted and a.ndim >= 3))
        if layout == "nchw" and nchw_ok:
            return [np.moveaxis(a, 1, -1)]
        if layout == "auto" and nchw_ok:
            return [a, np.moveaxis(a, 1, -1)]
        return [a]

    for cand in candidates(arr):
        if cand.shape[1:] == shape[1:] and shape and shape[0] == 1:
            return [np.ascontiguousarray(cand[i:i + 1]) for i in range(cand.shape[0])]
        if cand.shape[1:] == shape:
            return [np.ascontiguousarray(cand[i]) for i in range(cand.shape[0])]
    if arr.shape == shape:
        return [np.ascontiguousarray(arr)]
    raise _bad(f"input {t.name!r}: data shape {list(arr.shape)} does not match the model "
               f"input {list(shape)} ({expected}, samples first)", where,
               "NCHW data for an NHWC model input is transposed automatically only with "
               "layout 'auto' or 'nchw'")


def _finish(per_input: dict[str, list[np.ndarray]], graph: ir.Graph, samples: int | None,
            where: str) -> list[Sample]:
    counts = {name: len(v) for name, v in per_input.items()}
    n = min(counts.values()) if counts else 0
    inputs = ", ".join(f"{t.name!r} {list(t.shape)}" for t in graph.inputs)
    if len(set(counts.values())) > 1:
        raise _bad(f"inputs have different sample counts: {counts}", where)
    if n == 0:
        raise _bad(f"no calibration samples for input(s) {inputs}", where)
    if samples is not None:
        if samples <= 0:
            raise _bad(f"samples must be positive, got {samples}", where)
        if n < samples:
            raise _bad(f"{samples} calibration samples asked for, but the data has only {n} "
                       f"for input(s) {inputs}", where,
                       f"lower --calibration-samples to at most {n} or provide more data")
        n = samples
    out: list[Sample] = []
    for i in range(n):
        s: Sample = {}
        for t in graph.inputs:
            s[t.name] = per_input[t.name][i].astype(t.dtype, copy=False)
        out.append(s)
    return out


def _from_mapping(data: Mapping[str, Any], graph: ir.Graph, layout: str,
                  where: str) -> dict[str, list[np.ndarray]]:
    names = [t.name for t in graph.inputs]
    per: dict[str, list[np.ndarray]] = {}
    for t in graph.inputs:
        if t.name in data:
            arr = data[t.name]
        elif len(graph.inputs) == 1 and "calibration" in data:
            arr = data["calibration"]
        else:  # a lone array under another name is refused too: it may feed the wrong input
            raise _bad(f"no data for model input {t.name!r} {list(t.shape)}: the keys are "
                       f"{', '.join(repr(k) for k in sorted(data)) or 'none'}", where,
                       f"key the arrays by input name ({', '.join(repr(n) for n in names)}), "
                       f"e.g. np.savez(path, {names[0]}=x) if names[0].isidentifier() else "
                       "np.savez(path, **{name: x})")
        per[t.name] = _fit(np.asarray(arr), t, layout, where, t.name in channels_last_io(graph))
    return per


def _from_callable(fn: Callable[[], Iterable[Any]], graph: ir.Graph, layout: str,
                   samples: int | None, where: str) -> dict[str, list[np.ndarray]]:
    """A callable returning an iterable of samples: dicts by input name, or bare arrays
    for a single-input model."""
    per: dict[str, list[np.ndarray]] = {t.name: [] for t in graph.inputs}
    for k, item in enumerate(fn()):
        if samples is not None and k >= samples:
            break
        if not isinstance(item, Mapping):
            if len(graph.inputs) != 1:
                raise _bad(f"sample {k} is not a dict keyed by input name", where)
            item = {graph.inputs[0].name: item}
        for t in graph.inputs:
            if t.name not in item:
                raise _bad(f"sample {k} has no value for input {t.name!r} {list(t.shape)}", where)
            arr = np.asarray(item[t.name])
            if arr.shape == t.shape:
                arr = arr.reshape((1, *t.shape))  # one sample, not a stack
            elif t.shape and t.shape[0] == 1 and arr.ndim == len(t.shape) - 1:
                arr = arr[None]  # one sample without its batch dimension, NHWC or NCHW
            per[t.name].extend(_fit(arr, t, layout, f"{where} sample {k}",
                                    t.name in channels_last_io(graph)))
    return per


def _load_image(path: Path, spec: ImageFolder, hw: tuple[int, int],
                expects: str = "") -> np.ndarray:
    try:
        from PIL import Image
    except ImportError as exc:
        raise EdgeliteError("reading calibration images needs Pillow", where=str(path),
                            hint="pip install pillow, or give the data as .npy/.npz") from exc
    try:
        with Image.open(path) as im:
            im = im.convert("L" if spec.channels == "gray" else "RGB")
            im = im.resize((hw[1], hw[0]), Image.BILINEAR)
            px = np.asarray(im, dtype=np.float32)
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError) as exc:
        # (Pillow reports broken files as OSError, but some decoders raise the others, and
        # an image claiming billions of pixels is a DecompressionBombError)
        raise _bad(f"cannot read image: {' '.join(str(exc).split())[:200]}", str(path),
                   f"{expects}; remove or replace the file" if expects else None) from exc
    if px.ndim == 2:
        px = px[..., None]
    if spec.channels == "bgr":
        px = px[..., ::-1]
    c = px.shape[-1]
    mean = np.asarray(spec.mean, np.float32)
    std = np.asarray(spec.std, np.float32)
    for name, v in (("mean", mean), ("std", std)):
        if v.size not in (1, c):
            raise _bad(f"{name} has {v.size} values for {c} channel(s)", str(spec.path))
    if np.any(std == 0):
        raise _bad("std must not be 0", str(spec.path))
    px = (px * np.float32(spec.scale) - mean) / std
    return px if spec.layout == "nhwc" else np.moveaxis(px, -1, 0)


def _from_images(spec: ImageFolder, graph: ir.Graph, samples: int | None,
                 where: str) -> dict[str, list[np.ndarray]]:
    folder = Path(spec.path)
    if not folder.is_dir():
        raise _bad("calibration image folder does not exist", str(folder))
    pattern = "**/*" if spec.recursive else "*"
    files = sorted(p for p in folder.glob(pattern) if p.suffix.lower() in spec.exts)
    if spec.input is None and len(graph.inputs) != 1:
        raise _bad("the model has several inputs: say which one the images feed", str(folder))
    t = next((t for t in graph.inputs if spec.input in (None, t.name)), None)
    if t is None:
        raise _bad(f"model has no input {spec.input!r}", str(folder))
    if len(graph.inputs) != 1:
        raise _bad("images can feed only a single-input model", str(folder))
    if len(t.shape) != 4:
        raise _bad(f"input {t.name!r} {list(t.shape)} is not an image batch (rank 4)", str(folder))
    if spec.layout not in ("nhwc", "nchw"):
        raise _bad(f"layout must be 'nhwc' or 'nchw', got {spec.layout!r}", str(folder))
    hw = spec.size or ((t.shape[1], t.shape[2]) if spec.layout == "nhwc" else t.shape[2:4])
    want_c = t.shape[3] if spec.layout == "nhwc" else t.shape[1]
    have_c = 1 if spec.channels == "gray" else 3
    if want_c != have_c:  # checked before any file is read
        raise _bad(f"{spec.channels} images have {have_c} channel(s) but input {t.name!r} "
                   f"expects {list(t.shape)} ({spec.layout})", str(folder),
                   "use --image-channels gray for 1 channel, rgb/bgr for 3; check "
                   "--image-layout")
    if not files:
        raise _bad(f"no images ({', '.join(spec.exts)}) in the folder", str(folder),
                   f"input {t.name!r} expects {list(t.shape)}")
    if samples is not None and len(files) < samples:
        raise _bad(f"{samples} calibration samples asked for, but the folder has only "
                   f"{len(files)} image(s)", str(folder))
    files = files[:samples] if samples is not None else files
    expects = f"input {t.name!r} expects {list(t.shape)}"
    arrays = [_load_image(p, spec, hw, expects)[None] for p in files]
    stacked = np.concatenate(arrays)
    # _load_image already produced the model's layout.
    return {t.name: _fit(stacked, t, "none", str(folder))}


def load_samples(source: CalibrationSource, graph: ir.Graph, samples: int | None = None,
                 layout: str = "auto") -> list[Sample]:
    """Load, check and split calibration data for ``graph``'s inputs.

    ``samples``: how many to use (an error if fewer exist); None takes all.
    """
    if layout not in ("auto", "nchw", "nhwc"):
        raise EdgeliteError(f"layout must be auto, nchw or nhwc, got {layout!r}")
    fit_layout = "none" if layout == "nhwc" else layout
    if isinstance(source, ImageFolder):
        return _finish(_from_images(source, graph, samples, str(source.path)), graph, samples,
                       str(source.path))
    if isinstance(source, (str, Path)):
        path = Path(source)
        where = str(path)
        if path.is_dir():
            return load_samples(ImageFolder(path), graph, samples, layout)
        if not path.exists():
            raise _bad("calibration data file does not exist", where)
        from edgelite.fileio import read_arrays

        loaded = read_arrays(path, "calibration data")
        if isinstance(loaded, dict):
            data = loaded
            per = _from_mapping(data, graph, fit_layout, where)
        else:
            if len(graph.inputs) != 1:
                raise _bad("a .npy file can feed only a single-input model", where,
                           "use a .npz keyed by input name")
            t = graph.inputs[0]
            per = {t.name: _fit(loaded, t, fit_layout, where, t.name in channels_last_io(graph))}
        return _finish(per, graph, samples, where)
    if isinstance(source, np.ndarray):
        if len(graph.inputs) != 1:
            raise _bad("a bare array can feed only a single-input model", "calibration data")
        t = graph.inputs[0]
        per = {t.name: _fit(source, t, fit_layout, "calibration data",
                            t.name in channels_last_io(graph))}
        return _finish(per, graph, samples, "calibration data")
    if isinstance(source, Mapping):
        return _finish(_from_mapping(source, graph, fit_layout, "calibration data"), graph,
                       samples, "calibration data")
    if callable(source):
        where = f"calibration callable {getattr(source, '__name__', '')}".rstrip()
        return _finish(_from_callable(source, graph, fit_layout, samples, where), graph,
                       samples, where)
    raise EdgeliteError(f"unsupported calibration source {type(source).__name__}",
                        hint="give a .npy/.npz path, an image folder, arrays or a callable")
