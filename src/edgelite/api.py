"""The top-level API: one function per `edgelite` command, with the command's options as
keyword arguments (``--calibration-samples`` is ``calibration_samples=``). The CLI parses its
flags and calls exactly these functions, so both give the same bytes.

    import edgelite

    data = edgelite.convert("model.onnx", "model.tflite")
    q = edgelite.quantize("model.onnx", "model_int8.tflite", calibration="samples.npz")
    print(q.summary["output_sqnr_db"])
    interp = edgelite.Interpreter(model_content=q)

Functions that write a model return its bytes (a ``ModelBytes``: ``bytes`` with ``.summary``,
the dict ``--json`` prints, and ``.notes``); the others return a ``Summary`` dict. Models are
written atomically when ``output`` is given. Errors are ``edgelite.EdgeliteError`` naming the
file, node or tensor and what to do. Progress bars go to stderr when it is a terminal;
``progress=False`` silences them (the CLI's ``--quiet``).

Heavy modules (numpy, onnx, the converter) are imported inside the functions, so ``import
edgelite`` stays cheap.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from edgelite.errors import Code, EdgeliteError

PathLike = str | os.PathLike


class ModelBytes(bytes):
    """A model's bytes, plus what the run reported: ``summary`` (what ``--json`` prints)
    and ``notes`` (what was done to the model or the data, one line each)."""

    summary: dict[str, Any]
    notes: list[str]

    def __new__(cls, data: bytes, summary: dict[str, Any] | None = None,  # noqa: PYI034
                notes: list[str] | None = None) -> ModelBytes:
        # (defaults: pickle rebuilds a bytes subclass from the bytes alone, then its __dict__)
        obj = super().__new__(cls, data)
        obj.summary = summary if summary is not None else {}
        obj.notes = notes if notes is not None else []
        return obj


class Summary(dict):
    """A report as a JSON-ready dict; ``text`` is how the command prints it."""

    text: str = ""


# ---- option parsing shared with the CLI -----------------------------------------------------

def parse_input_shapes(values: Mapping[str, Sequence[int]] | Iterable[str] | None
                       ) -> dict[str, tuple[int, ...]]:
    """{name: shape}, from a dict or from ``NAME:D1,D2,...`` strings (``NAME:`` is a
    scalar), as ``--input-shape`` takes them."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        items = [(str(k), v) for k, v in values.items()]
    else:
        items = []
        for value in values:
            name, sep, dims = str(value).rpartition(":")
            try:
                if not sep or not name:
                    raise ValueError
                items.append((name, [int(d) for d in dims.split(",")] if dims.strip() else []))
            except ValueError:
                raise EdgeliteError(
                    f"--input-shape {value!r} is not NAME:D1,D2,... with positive dimensions",
                    code=Code.BAD_INPUT, hint="e.g. --input-shape input:1,3,224,224") from None
    shapes: dict[str, tuple[int, ...]] = {}
    for name, dims in items:
        shape = tuple(int(d) for d in dims)
        if any(d <= 0 for d in shape):
            raise EdgeliteError(f"input shape {name}:{list(shape)} has a dimension below 1",
                                code=Code.BAD_INPUT, hint="e.g. --input-shape input:1,3,224,224")
        shapes[name] = shape
    return shapes


def parse_input_values(values: Mapping[str, Any] | Iterable[str] | None
                       ) -> dict[str, tuple[float, ...]]:
    """{name: values}, from a dict (a number or a sequence each) or from ``NAME=V[,V...]``
    strings, as ``--input-value`` takes them."""
    if values is None:
        return {}
    if isinstance(values, Mapping):
        out = {}
        for k, v in values.items():
            flat = v.ravel().tolist() if hasattr(v, "ravel") else v
            out[str(k)] = tuple(float(x) for x in (flat if isinstance(flat, (list, tuple))
                                                   else [flat]))
        return out
    frozen: dict[str, tuple[float, ...]] = {}
    for value in values:
        name, sep, numbers = str(value).partition("=")
        try:
            if not sep or not name or not numbers.strip():
                raise ValueError
            frozen[name] = tuple(float(v) for v in numbers.split(","))
        except ValueError:
            raise EdgeliteError(f"--input-value {value!r} is not NAME=VALUE[,VALUE...]",
                                code=Code.BAD_INPUT, hint="e.g. --input-value sr=16000") from None
    return frozen


def _numbers(value: str | Sequence[float] | None, flag: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        return tuple(float(v) for v in value)
    try:
        return tuple(float(v) for v in value.split(","))
    except ValueError:
        raise EdgeliteError(f"{flag} {value!r} is not a comma-separated list of numbers",
                            code=Code.BAD_INPUT) from None


def _progress(progress: bool | None) -> bool:
    """None: draw progress bars when stderr is a terminal."""
    return sys.stderr.isatty() if progress is None else bool(progress)


def _source(model: PathLike, input_shapes: Any, input_values: Any,
            keep_nchw_io: bool = False):
    from edgelite.converter import ConvertOptions
    from edgelite.converter import convert as convert_graph

    if not Path(model).exists():
        raise EdgeliteError("model file does not exist", where=str(model), code=Code.BAD_INPUT,
                            hint="check the path")
    return convert_graph(model, ConvertOptions(input_shapes=parse_input_shapes(input_shapes),
                                               input_values=parse_input_values(input_values),
                                               keep_nchw_io=keep_nchw_io))


def _io(graph) -> dict[str, list[dict[str, Any]]]:
    return {kind: [{"name": t.name, "shape": [int(d) for d in t.shape], "dtype": str(t.dtype)}
                   for t in tensors]
            for kind, tensors in (("inputs", graph.inputs), ("outputs", graph.outputs))}


def _write(output: PathLike | None, data: bytes) -> None:
    if output is not None:
        from edgelite.fileio import write_atomic

        write_atomic(output, data)


# ---- convert --------------------------------------------------------------------------------

def convert(model: PathLike, output: PathLike | None = None, *,
            input_shapes: Mapping[str, Sequence[int]] | Iterable[str] | None = None,
            input_values: Mapping[str, Any] | Iterable[str] | None = None,
            keep_nchw_io: bool = False, quantize: str | None = None,
            progress: bool | None = None, **quantize_options: Any) -> ModelBytes:
    """Convert an ONNX or float .tflite ``model`` to .tflite bytes (written to ``output``
    when given). ``edgelite convert``.

    input_shapes: static shapes for dynamic inputs, ``{"x": (1, 3, 224, 224)}`` or
    ``["x:1,3,224,224"]``; input_values: inputs frozen to constants, ``{"sr": 16000}``;
    keep_nchw_io: keep NCHW inputs/outputs; quantize: "int8", "int16x8", "weights-int8" or
    "float16" to quantize after converting, with ``quantize()``'s keyword arguments.

    >>> data = edgelite.convert("model.onnx", "model.tflite",
    ...                         input_shapes={"input": (1, 3, 224, 224)})
    >>> data.summary["outputs"]
    [{'name': 'logits', 'shape': [1, 1000], 'dtype': 'float32'}]
    """
    graph = _source(model, input_shapes, input_values, keep_nchw_io)
    if quantize is not None:
        return _quantize_graph(graph, model, output, mode=quantize, progress=progress,
                               **quantize_options)
    if quantize_options:
        raise TypeError(f"convert() got quantize options {sorted(quantize_options)} without "
                        "quantize=")
    from edgelite.tflite.writer import write_model

    data = write_model(graph)
    _write(output, data)
    notes = list(getattr(graph, "notes", []))
    summary = {"model": str(model), "output": None if output is None else str(output),
               "bytes": len(data), **_io(graph), "notes": notes}
    return ModelBytes(data, summary, notes)


# ---- quantize -------------------------------------------------------------------------------

def _calibration_source(calibration: Any, image_options: dict[str, Any]) -> Any:
    """What quantize.data.load_samples takes: a path (an image folder gets the image options),
    a dict of arrays, an array, or a callable returning samples (an iterable of samples is
    wrapped into one; it is read once)."""
    import numpy as np

    from edgelite.quantize.data import ImageFolder

    if calibration is None or isinstance(calibration, (ImageFolder, Mapping, np.ndarray)):
        return calibration
    if isinstance(calibration, (str, os.PathLike)):
        path = Path(calibration)
        if not path.is_dir():
            return path
        size = _numbers(image_options["image_size"], "--image-size")
        return ImageFolder(path, size=tuple(int(v) for v in size) if size else None,
                           channels=image_options["image_channels"],
                           scale=image_options["image_scale"],
                           mean=_numbers(image_options["image_mean"], "--image-mean") or (0.0,),
                           std=_numbers(image_options["image_std"], "--image-std") or (1.0,),
                           layout=image_options["image_layout"])
    if callable(calibration):
        return calibration
    if isinstance(calibration, Iterable):
        samples = calibration
        return lambda: iter(samples)
    raise EdgeliteError(f"calibration of type {type(calibration).__name__} is not usable",
                        code=Code.BAD_INPUT,
                        hint="give a .npy/.npz path, an image folder, a dict of arrays, or an "
                             "iterable or callable of samples")


def quantize(model: PathLike, output: PathLike | None = None, *, calibration: Any = None,
             mode: str = "int8", io: str = "int8",
             input_shapes: Mapping[str, Sequence[int]] | Iterable[str] | None = None,
             input_values: Mapping[str, Any] | Iterable[str] | None = None,
             calibration_samples: int | None = None, calibration_method: str = "percentile",
             percentile: float = 99.99, keep_float: Sequence[str] = (),
             int16: Sequence[str] = (), auto_precision: float | None = None,
             precision_guard: bool = True, bias_correction: str = "auto",
             equalize: str = "auto", adaround: bool = False, tflm_compatible: bool = False,
             allow_low_sqnr: bool = False, hybrid: bool = False,
             report: PathLike | None = None, report_html: PathLike | None = None,
             image_size: str | Sequence[int] | None = None, image_channels: str = "rgb",
             image_scale: float = 1.0 / 255.0, image_mean: str | Sequence[float] | None = None,
             image_std: str | Sequence[float] | None = None, image_layout: str = "nhwc",
             progress: bool | None = None) -> ModelBytes:
    """Quantize a float ``model`` (.onnx or .tflite) calibrated on real samples; the
    quantized .tflite bytes (written to ``output`` when given). ``edgelite quantize``.

    calibration: a .npy/.npz path (keyed by input name; samples first; NCHW or NHWC), a
    folder of images (see the image_* options), a dict {input name: array}, an array (one
    input), or an iterable / callable of samples (each a dict by input name or, for one
    input, an array). mode: "int8" | "int16x8" | "weights-int8" | "float16"; io: "int8" |
    "uint8" | "float". The other options are the command's flags, same names and defaults.

    >>> q = edgelite.quantize("model.onnx", "model_int8.tflite",
    ...                       calibration={"input": x_train[:200]})
    >>> round(q.summary["output_sqnr_db"])
    31
    """
    opts = {k: v for k, v in locals().items() if k not in ("model", "output", "input_shapes",
                                                           "input_values")}
    graph = _source(model, input_shapes, input_values)
    return _quantize_graph(graph, model, output, **opts)


def _quantize_graph(graph, model: PathLike, output: PathLike | None, *,
                    calibration: Any = None, mode: str = "int8", io: str = "int8",
                    calibration_samples: int | None = None, calibration_method: str = "percentile",
                    percentile: float = 99.99, keep_float: Sequence[str] = (),
                    int16: Sequence[str] = (), auto_precision: float | None = None,
                    precision_guard: bool = True, bias_correction: str = "auto",
                    equalize: str = "auto", adaround: bool = False, tflm_compatible: bool = False,
                    allow_low_sqnr: bool = False, hybrid: bool = False,
                    report: PathLike | None = None, report_html: PathLike | None = None,
                    image_size: str | Sequence[int] | None = None, image_channels: str = "rgb",
                    image_scale: float = 1.0 / 255.0,
                    image_mean: str | Sequence[float] | None = None,
                    image_std: str | Sequence[float] | None = None, image_layout: str = "nhwc",
                    progress: bool | None = None) -> ModelBytes:
    from edgelite.quantize.api import QuantizeOptions
    from edgelite.quantize.api import quantize as run_quantize

    images = {"image_size": image_size, "image_channels": image_channels,
              "image_scale": image_scale, "image_mean": image_mean, "image_std": image_std,
              "image_layout": image_layout}
    options = QuantizeOptions(
        mode=mode, io=io, calibration=_calibration_source(calibration, images),
        samples=calibration_samples, method=calibration_method, percentile=percentile,
        keep_float=tuple(keep_float), int16=tuple(int16), auto_precision=auto_precision,
        report_json=None if report is None else Path(report),
        report_html=None if report_html is None else Path(report_html), hybrid=hybrid,
        guard=precision_guard, allow_low_sqnr=allow_low_sqnr, bias_correction=bias_correction,
        equalize=equalize, adaround=adaround, tflm_compatible=tflm_compatible, progress=_progress(progress))
    result = run_quantize(graph, options)
    _write(output, result.model)
    notes = list(getattr(graph, "notes", [])) + list(result.notes)
    guard = [c for c in result.changes if "reason" in c]
    summary: dict[str, Any] = {
        "model": str(model), "output": None if output is None else str(output),
        "mode": mode, "io": io, "bytes": len(result.model),
        "float_bytes": len(result.float_model), **_io(result.graph),
        "guard": guard, "auto_precision": [c for c in result.changes if "reason" not in c],
        "output_sqnr_db": None, "worst": [], "notes": notes}
    if result.report is not None:
        rep = result.report
        summary["output_sqnr_db"] = round(float(rep.output_sqnr_db), 4)
        summary["worst"] = [{"tensor": r.tensor, "sqnr_db": round(float(r.sqnr_db), 4),
                             "cosine": round(float(r.cosine), 6)}
                            for r in sorted(rep.tensors, key=lambda r: r.sqnr_db)[:5]]
    return ModelBytes(result.model, summary, notes)


# ---- prune ----------------------------------------------------------------------------------

def prune(model: PathLike, output: PathLike | None = None, *, calibration: Any,
          calibration_samples: int | None = None,
          input_shapes: Mapping[str, Sequence[int]] | Iterable[str] | None = None,
          input_values: Mapping[str, Any] | Iterable[str] | None = None,
          macs: float | None = None, channels: float | None = None,
          sparsity: float | None = None, pattern: str = "unstructured", repair: str = "ls",
          channel_multiple: int = 8, report: PathLike | None = None,
          report_html: PathLike | None = None,
          quantize: str | None = None, io: str = "int8", format: str | None = None,
          allow_low_sqnr: bool = False, progress: bool | None = None) -> ModelBytes:
    """Prune a float ``model`` (.onnx or .tflite), repaired on calibration data: fewer
    channels (``macs=`` keeps that fraction of the MACs, ``channels=`` removes that fraction
    of channels) and/or sparse weights (``sparsity=``, ``pattern=`` "unstructured" | "2:4" |
    "4:8"). ``edgelite prune``.

    Returns the pruned model: .tflite bytes (int8 with ``quantize="int8"``), or ONNX bytes
    (float, to fine-tune) when ``format="onnx"`` or ``output`` ends in .onnx.

    >>> small = edgelite.prune("model.onnx", "small.tflite", calibration="samples.npz",
    ...                        macs=0.5)
    >>> small.summary["macs"]
    [1204224, 601088]
    """
    from edgelite.prune import PruneOptions
    from edgelite.prune import prune as run_prune

    suffix = Path(output).suffix.lower() if output is not None else None
    fmt = format or ("onnx" if suffix == ".onnx" else "tflite")
    if suffix is not None and suffix not in (".tflite", ".onnx"):
        raise EdgeliteError("the output must be a .tflite or an .onnx file", where=str(output),
                            code=Code.BAD_INPUT)
    if fmt not in ("tflite", "onnx") or (suffix is not None and suffix != f".{fmt}"):
        raise EdgeliteError(f"format {fmt!r} does not fit the output {output}",
                            code=Code.BAD_INPUT, hint="format is 'tflite' or 'onnx', as the "
                                                      "output's suffix")
    if fmt == "onnx" and quantize:
        raise EdgeliteError("--quantize writes a .tflite file", code=Code.BAD_INPUT,
                            where=None if output is None else str(output),
                            hint="use -o model.tflite")
    opts = PruneOptions(calibration=_calibration_source(calibration, {
                            "image_size": None, "image_channels": "rgb",
                            "image_scale": 1.0 / 255.0, "image_mean": None, "image_std": None,
                            "image_layout": "nhwc"}),
                        samples=calibration_samples, macs=macs, channels=channels,
                        sparsity=sparsity, pattern=pattern, repair=repair,
                        channel_multiple=channel_multiple, quantize=quantize,
                        io=io, report_json=None if report is None else Path(report),
                        report_html=None if report_html is None else Path(report_html),
                        allow_low_sqnr=allow_low_sqnr, progress=_progress(progress))
    source = _source(model, input_shapes, input_values)
    result = run_prune(source, opts)
    if fmt == "onnx":
        from edgelite.prune.onnx_out import to_onnx_bytes

        data = to_onnx_bytes(result.graph)
    else:
        data = result.quantized if result.quantized is not None else result.model
    _write(output, data)
    rep = result.report
    notes = list(getattr(source, "notes", [])) + list(result.notes)
    summary = {"model": str(model), "output": None if output is None else str(output),
               "format": fmt, "bytes": len(data), "macs": [int(v) for v in rep.macs],
               "params": [int(v) for v in rep.params],
               "output_sqnr_db": round(float(rep.output_sqnr_db), 4),
               "output_cosine": round(float(rep.output_cosine), 6),
               "left_alone": [{"name": g["name"], "reason": g["reason"]}
                              for g in rep.groups_left],
               "notes": notes}
    return ModelBytes(data, summary, notes)


# ---- inspect, run, bench, export ------------------------------------------------------------

def inspect(model: PathLike) -> Summary:
    """What is inside an .onnx or .tflite file: ops, tensors, shapes, dtypes, sizes,
    quantization, metadata and (for .tflite) the exact arena runtime_micro needs.
    ``edgelite inspect --json``.

    >>> info = edgelite.inspect("model.tflite")
    >>> info["arena_bytes"], [op["op"] for op in info["subgraphs"][0]["operators"]][:2]
    (9344, ['CONV_2D', 'MAX_POOL_2D'])
    """
    from edgelite.inspect import inspect_file, render_text

    report = Summary(inspect_file(model))
    report.text = render_text(report)
    return report


def run(model: PathLike, input: Any, output: PathLike | None = None, *,
        dequantize: bool = False, threads: int = 1) -> Summary:
    """Run a .tflite ``model`` on runtime_micro over every sample of ``input``: a .npy/.npz
    path, an array (one input) or a dict {input name: array}, samples first, NCHW or NHWC,
    float data quantized for integer inputs. Returns {output name: outputs stacked per
    sample}; with ``output``, also saved (.npy for one output, .npz otherwise). ``threads``:
    runtime_micro's thread pool (the same outputs for any count). ``edgelite run``.

    >>> y = edgelite.run("model.tflite", x_test)      # x_test: (100, 3, 224, 224) float32
    >>> y["logits"].shape                              # an output of shape (1, 1000)
    (100, 1, 1000)
    """
    import io as _io_mod

    import numpy as np

    from edgelite.fileio import read_bytes
    from edgelite.runtime.batch import load_arrays, run_batch

    if isinstance(input, (str, os.PathLike)):
        data = load_arrays(Path(input))
    elif isinstance(input, Mapping):
        data = {str(k): np.asarray(v) for k, v in input.items()}
    else:
        data = [np.asarray(input)]
    result = run_batch(read_bytes(model, "model file"), data, where=str(model),
                       dequantize=dequantize,
                       data_where=str(input) if isinstance(input, (str, os.PathLike)) else None,
                       num_threads=threads)
    if output is not None:
        buf = _io_mod.BytesIO()
        if len(result.outputs) == 1 and Path(output).suffix != ".npz":
            np.save(buf, next(iter(result.outputs.values())), allow_pickle=False)
        else:
            np.savez(buf, **result.outputs)
        _write(output, buf.getvalue())
    out = Summary(result.outputs)
    out.notes = list(result.notes)  # type: ignore[attr-defined]
    out.samples = result.samples  # type: ignore[attr-defined]
    return out


def evaluate(model: PathLike, data: PathLike | Mapping[str, Any], *, labels: str | None = None,
             float_model: PathLike | None = None, samples: int | None = None,
             progress: bool | None = None, threads: int = 1) -> Summary:
    """Accuracy of a .tflite ``model`` on ``data`` (an .npz path or a dict: the inputs keyed
    by input name, samples first, plus the class labels under the key ``labels``: top-1 and
    top-5), and with ``float_model`` its agreement with the float model (output SQNR, cosine,
    top-1 agreement). ``threads``: runtime_micro's thread pool (the same figures for any
    count). ``edgelite eval --json``.

    >>> edgelite.evaluate("model_int8.tflite", "heldout.npz", labels="label",
    ...                   float_model="model.onnx")["top1"]
    0.982
    """
    import numpy as np

    from edgelite.runtime.batch import load_arrays

    where = str(data) if isinstance(data, (str, os.PathLike)) else "data"
    arrays = (load_arrays(Path(data)) if isinstance(data, (str, os.PathLike))
              else {str(k): np.asarray(v) for k, v in data.items()})
    label_values = None
    if labels is not None:
        if not isinstance(arrays, dict) or labels not in arrays:
            have = sorted(arrays) if isinstance(arrays, dict) else ["<a single .npy array>"]
            raise EdgeliteError(f"no array {labels!r} in the data (it has {have})",
                                where=where, code=Code.BAD_INPUT)
        label_values = np.asarray(arrays.pop(labels)).reshape(-1)
    if samples is not None:
        if samples <= 0:
            raise EdgeliteError("--samples must be positive", code=Code.BAD_INPUT)
        arrays = ({k: v[:samples] for k, v in arrays.items()} if isinstance(arrays, dict)
                  else [a[:samples] for a in arrays])
        label_values = label_values[:samples] if label_values is not None else None
    if float_model is not None:
        from edgelite.quantize.api import evaluate as run_evaluate

        inputs = arrays if isinstance(arrays, dict) else arrays[0]
        return Summary(run_evaluate(float_model, model, inputs, label_values,
                                    progress=_progress(progress), threads=threads).as_json())
    from edgelite.fileio import read_bytes
    from edgelite.runtime.batch import run_batch

    if label_values is None:
        raise EdgeliteError("nothing to measure: give --labels KEY for accuracy, or "
                            "--float MODEL for agreement with the float model",
                            code=Code.BAD_INPUT)
    out = run_batch(read_bytes(model, "model file"), arrays, where=str(model), dequantize=True,
                    data_where=where, num_threads=threads)
    scores = next(iter(out.outputs.values())).reshape(out.samples, -1)
    if label_values.size != out.samples:
        raise EdgeliteError(f"{label_values.size} labels for {out.samples} samples",
                            where=where, code=Code.BAD_INPUT)
    order = np.argsort(-scores, axis=1, kind="stable")
    return Summary({"samples": out.samples,
                    "top1": float(np.mean(order[:, 0] == label_values)),
                    "top5": float(np.mean(np.any(order[:, :5] == label_values[:, None],
                                                 axis=1)))})


def bench(model: PathLike, *, warmup: int = 5, runs: int = 50, max_seconds: float = 60.0,
          input: PathLike | None = None, compare: str | Sequence[str] | None = None,
          onnx: PathLike | None = None, profile: bool = True, target: str | None = None,
          cpu: int | str | None = None, abi: str = "arm64-v8a",
          reference_kernels: bool = False,
          threads: int = 1, fp16: bool = False, progress: bool | None = None) -> Summary:
    """Time a .tflite ``model`` on runtime_micro (init, latency, arena, per-op profile),
    beside peers with ``compare="litert,tflm"``; with ``target``, on an ARM core under QEMU
    ("cortex-m4", "cortex-m7", "cortex-m55", "aarch64": exact instruction counts) or a device
    ("ssh://user@host", "adb"). The report as ``edgelite bench --json`` prints it.
    ``threads``: runtime_micro's hosted thread pool, on this host or an ssh / adb device.
    ``fp16``: runtime_micro's opt-in float16 arithmetic (``Interpreter(allow_fp16=True)``) for
    float16-stored weights, on hosts and targets whose CPU has FEAT_FP16 (aarch64 under QEMU
    runs as a Cortex-A76, which has it).

    >>> r = edgelite.bench("model.tflite", runs=20, compare="litert")
    >>> r["latency_ms"]["median"]
    0.41
    """
    peers = tuple(p.strip() for p in (compare.split(",") if isinstance(compare, str)
                                      else (compare or ())) if p.strip())
    in_path = None if input is None else Path(input)
    if target is not None:
        return _bench_target(Path(model), target, warmup, runs, in_path, peers, onnx, profile,
                             reference_kernels, cpu, abi, _progress(progress), fp16, threads)
    if cpu is not None or abi != "arm64-v8a":
        raise EdgeliteError("--cpu/--abi apply to ssh:// and adb targets", code=Code.BAD_INPUT,
                            hint="add --target adb or --target ssh://HOST")
    from edgelite.bench import BenchConfig, render_text, run_bench

    report = run_bench(BenchConfig(model=Path(model), warmup=warmup, runs=runs,
                                   max_seconds=max_seconds, input=in_path, compare=peers,
                                   onnx=None if onnx is None else Path(onnx), profile=profile,
                                   reference_kernels=reference_kernels, threads=threads,
                                   fp16=fp16, progress=_progress(progress)))
    out = Summary(report.as_json())
    out.text = render_text(report)
    return out


def _bench_target(model: Path, target: str, warmup: int, runs: int, input_path: Path | None,
                  peers: tuple[str, ...], onnx: PathLike | None, profile: bool,
                  reference_kernels: bool, cpu: int | str | None, abi: str,
                  progress: bool, fp16: bool = False, threads: int = 1) -> Summary:
    """bench --target: QEMU instruction counts, or latency on an ssh / adb device (threads
    there: the hosted pool in the device binary)."""
    if peers or onnx:
        raise EdgeliteError("--compare/--onnx run peers on this host; they cannot be combined "
                            "with --target", code=Code.BAD_INPUT, hint="drop --compare")
    remote = target == "adb" or target.startswith(("ssh://", "adb://"))
    if threads != 1 and not remote:
        raise EdgeliteError("--threads with --target applies to ssh:// and adb devices (their "
                            "wall-clock latency); QEMU targets count the instructions of one "
                            "core", code=Code.BAD_INPUT,
                            hint="drop --threads, or use --target ssh://HOST or adb")
    if remote:
        from edgelite.bench.adb import parse_adb_target
        from edgelite.bench.remote import RemoteConfig, render_remote, run_remote_bench
        from edgelite.bench.ssh import SshTransport, parse_ssh_target

        transport = (SshTransport(parse_ssh_target(target)) if target.startswith("ssh://")
                     else parse_adb_target(target))
        report = run_remote_bench(RemoteConfig(model=model, url=target, runs=runs,
                                               warmup=warmup, input=input_path,
                                               reference_kernels=reference_kernels, cpu=cpu,
                                               abi=abi, fp16=fp16, threads=threads), transport)
        text = render_remote(report)
    elif cpu is not None or abi != "arm64-v8a":
        raise EdgeliteError("--cpu/--abi apply to ssh:// and adb targets", code=Code.BAD_INPUT,
                            hint="QEMU targets count instructions of one core")
    else:
        from edgelite.bench.targets import TargetConfig, render_target, run_target_bench

        report = run_target_bench(TargetConfig(model=model, target=target, input=input_path,
                                               profile=profile,
                                               reference_kernels=reference_kernels,
                                               fp16=fp16, progress=progress))
        text = render_target(report)
    out = Summary(report.as_json())
    out.text = text
    return out


def export(model: PathLike, output: PathLike, *,
           input: PathLike | Sequence[Any] | Mapping[str, Any] | None = None,
           name: str | None = None, expected: bool = True) -> Summary:
    """Write a .tflite ``model`` as a firmware bundle in the folder ``output``: the model as
    an aligned C array, the exact arena size, the ``input`` data (as ``run`` takes it: one
    .npy per input, an .npz keyed by input name, or arrays; samples first) with the host's
    outputs for them (``expected``), runtime_micro's sources, main.c, CMakeLists.txt and a
    Makefile. ``edgelite export``.

    >>> edgelite.export("model.tflite", "fw", input="x.npy")["files"][:2]
    ['fw/model_data.h', 'fw/model_data.c']
    """
    import numpy as np

    from edgelite.export.api import export_model

    if input is None:
        inputs = None
    elif isinstance(input, (str, os.PathLike, np.ndarray)):
        inputs = [input]
    elif isinstance(input, Mapping):  # by input name, put in the model's input order
        from edgelite.fileio import read_bytes
        from edgelite.runtime.batch import arrays_by_input
        from edgelite.runtime.interpreter import Interpreter

        data = read_bytes(model, "model file")
        if data[4:8] != b"TFL3":
            from edgelite.fileio import refuse_onnx_as_tflite

            refuse_onnx_as_tflite(data, str(model))
        names = [d.name for d in Interpreter(data).inputs]
        inputs = [np.asarray(a) for a in arrays_by_input(
            {str(k): v for k, v in input.items()}, names, "input data")]
    else:
        inputs = list(input)
    notes: list[str] = []
    files = export_model(model, output, inputs=inputs, name=name, expected=expected,
                         bundle=True, notes=notes)
    out = Summary({"model": str(model), "output": str(output),
                   "files": [str(f) + ("/" if f.is_dir() else "") for f in files],
                   "notes": notes})
    return out


# ---- names shared with subpackages ----------------------------------------------------------

class SharedName:
    """A top-level function whose name is also a subpackage's (``edgelite.quantize`` the
    function, ``edgelite/quantize/`` the package): calling it runs the function; every other
    attribute is the subpackage's, read and written (``edgelite.quantize.api``, ``import
    edgelite.quantize.data as d`` and monkeypatching ``edgelite.export.export_model`` reach
    the package). It has no ``__dict__`` of its own, so nothing set on it can hide the
    package's value."""

    __slots__ = ("_fn", "_package")

    def __init__(self, fn: Callable[..., Any], package: str) -> None:
        object.__setattr__(self, "_fn", fn)
        object.__setattr__(self, "_package", package)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._fn(*args, **kwargs)

    # what help(), inspect.signature() and doctest tools read
    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self._fn.__doc__

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self._fn

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(importlib.import_module(self._package), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(importlib.import_module(self._package), name, value)

    def __delattr__(self, name: str) -> None:
        delattr(importlib.import_module(self._package), name)

    def __repr__(self) -> str:
        return f"<function edgelite.{self._fn.__name__}>"
