"""The `edgelite` command: parse options, build a typed config, call the library.

User errors (EdgeliteError) print one line on stderr and exit non-zero; no traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from edgelite import __version__
from edgelite.errors import Code, EdgeliteError


def _parse_input_shapes(values: tuple[str, ...]) -> dict[str, tuple[int, ...]]:
    shapes: dict[str, tuple[int, ...]] = {}
    for value in values:
        name, sep, dims = value.rpartition(":")
        try:
            if not sep or not name:
                raise ValueError
            # "NAME:" (nothing after the colon) is a rank-0 input: a scalar
            shape = tuple(int(d) for d in dims.split(",")) if dims.strip() else ()
            if any(d <= 0 for d in shape):
                raise ValueError
        except ValueError:
            raise EdgeliteError(
                f"--input-shape {value!r} is not NAME:D1,D2,... with positive dimensions",
                code=Code.BAD_INPUT, hint="e.g. --input-shape input:1,3,224,224",
            ) from None
        shapes[name] = shape
    return shapes


def _parse_input_values(values: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    frozen: dict[str, tuple[float, ...]] = {}
    for value in values:
        name, sep, numbers = value.partition("=")
        try:
            if not sep or not name or not numbers.strip():
                raise ValueError
            frozen[name] = tuple(float(v) for v in numbers.split(","))
        except ValueError:
            raise EdgeliteError(
                f"--input-value {value!r} is not NAME=VALUE[,VALUE...]", code=Code.BAD_INPUT,
                hint="e.g. --input-value sr=16000") from None
    return frozen


def model_input_options(f):  # noqa: ANN001, ANN201 - click decorator plumbing
    """--input-shape and --input-value, shared by every command that reads a source model
    (convert, quantize, prune); `_convert_options` turns them into ConvertOptions."""
    opts = [
        click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME:D1,D2,...",
                     help="Static shape for an input with dynamic dimensions (repeatable; "
                          "NAME: with nothing after the colon is a scalar). A dynamic batch "
                          "alone defaults to 1."),
        click.option("--input-value", "input_values", multiple=True,
                     metavar="NAME=VALUE[,VALUE...]",
                     help="Freeze an input to these values (repeatable): it leaves the model "
                          "and what depends on it (If, shape chains) folds away."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _convert_options(input_shapes: tuple[str, ...], input_values: tuple[str, ...],
                     keep_nchw_io: bool = False):  # noqa: ANN202
    from edgelite.converter import ConvertOptions

    return ConvertOptions(input_shapes=_parse_input_shapes(input_shapes),
                          input_values=_parse_input_values(input_values),
                          keep_nchw_io=keep_nchw_io)


def _echo_notes(graph) -> None:  # noqa: ANN001
    for note in getattr(graph, "notes", []):
        click.echo(f"note: {note}", err=True)


def _float_list(value: str | None, flag: str) -> tuple[float, ...] | None:
    if value is None:
        return None
    try:
        return tuple(float(v) for v in value.split(","))
    except ValueError:
        raise EdgeliteError(f"{flag} {value!r} is not a comma-separated list of numbers",
                            code=Code.BAD_INPUT) from None


def quantize_options(f):  # noqa: ANN001, ANN201 - click decorator plumbing
    """The options `convert --quantize` and `quantize` share."""
    opts = [
        click.option("--io", "io", type=click.Choice(["int8", "uint8", "float"]),
                     default="int8", show_default=True,
                     help="Type of the model's inputs and outputs."),
        click.option("--calibration", "calibration", type=click.Path(path_type=Path),
                     help=".npy/.npz (keyed by input name) or a folder of images."),
        click.option("--calibration-samples", "samples", type=int,
                     help="How many calibration samples to use (default: all)."),
        click.option("--calibration-method", "method",
                     type=click.Choice(["minmax", "percentile", "entropy", "mse"]),
                     default="minmax", show_default=True, help="Range estimation."),
        click.option("--percentile", type=float, default=99.99, show_default=True,
                     help="For --calibration-method percentile."),
        click.option("--keep-float", "keep_float", multiple=True, metavar="NODE",
                     help="Keep this node in float (repeatable)."),
        click.option("--int16", "int16", multiple=True, metavar="NODE",
                     help="Run this node with 16-bit activations (repeatable)."),
        click.option("--auto-precision", "auto_precision", type=float, metavar="DB",
                     help="Raise the worst layers to int16/float until the output SQNR "
                          "reaches DB."),
        click.option("--precision-guard/--no-precision-guard", "guard", default=True,
                     show_default=True,
                     help="int8/int16x8: measure the model once on the calibration data and "
                          "keep int16 or float the ops that destroy the signal (each decision "
                          "printed)."),
        click.option("--bias-correction", "bias_correction",
                     type=click.Choice(["auto", "on", "off"]), default="auto",
                     show_default=True,
                     help="Correct the output shift weight rounding causes (Nagel et al. "
                          "2019); auto: kept where it raises the measured output SQNR."),
        click.option("--adaround", is_flag=True,
                     help="Round CONV_2D/FULLY_CONNECTED weights up or down to minimise their "
                          "output error on the calibration data (AdaRound-style, Nagel et al. "
                          "2020) instead of to nearest."),
        click.option("--tflm-compatible", "tflm_compatible", is_flag=True,
                     help="Write only ops TFLite Micro has: integer GELUs become table "
                          "lookups (CAST, ADD, GATHER) computing the same bytes."),
        click.option("--allow-low-sqnr", is_flag=True,
                     help="Write the model even when its output SQNR on the calibration data "
                          "is below 15 dB (default: refused, exit code 2)."),
        click.option("--hybrid", is_flag=True,
                     help="weights-int8: use LiteRT's hybrid kernels (int8 weights read "
                          "directly; LiteRT only). Default: DEQUANTIZE ops, which TFLite "
                          "Micro and runtime_micro run too."),
        click.option("--report", "report_json", type=click.Path(path_type=Path),
                     help="Write the per-layer error report (JSON)."),
        click.option("--report-html", "report_html", type=click.Path(path_type=Path),
                     help="Write the per-layer error report as a self-contained HTML page."),
        click.option("--image-size", metavar="H,W", help="Image calibration: resize to H,W."),
        click.option("--image-channels", type=click.Choice(["rgb", "bgr", "gray"]),
                     default="rgb", show_default=True, help="Image calibration: channels."),
        click.option("--image-scale", type=float, default=1.0 / 255.0, show_default=True,
                     help="Image calibration: pixel multiplier before mean/std."),
        click.option("--image-mean", metavar="M[,M,M]", help="Image calibration: mean."),
        click.option("--image-std", metavar="S[,S,S]", help="Image calibration: std."),
        click.option("--image-layout", type=click.Choice(["nhwc", "nchw"]), default="nhwc",
                     show_default=True, help="Image calibration: the model input's layout."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _build_quantize_options(mode: str, q: dict):  # noqa: ANN202
    import sys as _sys

    from edgelite.quantize.api import QuantizeOptions
    from edgelite.quantize.data import ImageFolder

    calibration = q["calibration"]
    if calibration is not None and Path(calibration).is_dir():
        size = _float_list(q["image_size"], "--image-size")
        calibration = ImageFolder(
            Path(calibration),
            size=tuple(int(v) for v in size) if size else None,
            channels=q["image_channels"], scale=q["image_scale"],
            mean=_float_list(q["image_mean"], "--image-mean") or (0.0,),
            std=_float_list(q["image_std"], "--image-std") or (1.0,),
            layout=q["image_layout"],
        )
    return QuantizeOptions(
        mode=mode, io=q["io"], calibration=calibration, samples=q["samples"],
        method=q["method"], percentile=q["percentile"], keep_float=tuple(q["keep_float"]),
        int16=tuple(q["int16"]), auto_precision=q["auto_precision"],
        report_json=q["report_json"], report_html=q["report_html"], hybrid=q["hybrid"],
        guard=q["guard"], allow_low_sqnr=q["allow_low_sqnr"],
        bias_correction=q["bias_correction"], adaround=q["adaround"],
        tflm_compatible=q["tflm_compatible"],
        progress=_sys.stderr.isatty(),
    )


def _quantize_and_write(source, mode: str, q: dict, output: Path) -> None:  # noqa: ANN001
    from edgelite.fileio import write_atomic
    from edgelite.quantize.api import quantize as run_quantize

    result = run_quantize(source, _build_quantize_options(mode, q))
    write_atomic(output, result.model)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    for change in result.changes:
        if "reason" in change:  # the precision guard's decisions
            click.echo(f"guard: {change['op_type']} [{change['op']}] kept {change['to']}: "
                       f"{change['reason']} (output SQNR {change['output_sqnr_db_before']} -> "
                       f"{change['output_sqnr_db_after']} dB)", err=True)
        else:
            click.echo(f"auto precision: {json.dumps(change, sort_keys=True)}")
    if result.report is not None:
        rep = result.report
        click.echo(f"output SQNR {rep.output_sqnr_db:.2f} dB over the calibration samples")
        worst = sorted(rep.tensors, key=lambda r: r.sqnr_db)[:5]
        for r in worst:
            click.echo(f"  worst: {r.tensor:<40} SQNR {r.sqnr_db:7.2f} dB  cosine "
                       f"{r.cosine:.5f}")
    float_bytes = len(result.float_model)
    click.echo(f"wrote {output} ({len(result.model):,} bytes, "
               f"{100 * len(result.model) / float_bytes:.1f} % of float {float_bytes:,})")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgelite")
def cli() -> None:
    """Convert trained ONNX models to TFLite, quantize them, and run them on small devices."""


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the .tflite file.")
@model_input_options
@click.option("--keep-nchw-io", is_flag=True,
              help="Keep the model's NCHW inputs/outputs (one TRANSPOSE at each end).")
@click.option("--quantize", "quantize_mode",
              type=click.Choice(["int8", "int16x8", "weights-int8", "float16"]),
              help="Quantize after converting (see `edgelite quantize`).")
@quantize_options
def convert(model: Path, output: Path, input_shapes: tuple[str, ...],
            input_values: tuple[str, ...], keep_nchw_io: bool, quantize_mode: str | None,
            **q: object) -> None:
    """Convert an ONNX or float .tflite MODEL to a .tflite file (float, or quantized with
    --quantize)."""
    from edgelite.converter import convert as convert_graph
    from edgelite.fileio import write_atomic
    from edgelite.tflite.writer import write_model

    graph = convert_graph(model, _convert_options(input_shapes, input_values, keep_nchw_io))
    _echo_notes(graph)
    if quantize_mode is not None:
        _quantize_and_write(graph, quantize_mode, q, output)
        return
    data = write_model(graph)
    write_atomic(output, data)
    click.echo(f"wrote {output} ({len(data):,} bytes)")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def inspect(model: Path, as_json: bool) -> None:
    """Show ops, tensors, shapes, dtypes, sizes, quantization and metadata of MODEL."""
    from edgelite.inspect import inspect_file, render_text

    report = inspect_file(model)
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
    else:
        click.echo(render_text(report))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def ops(as_json: bool) -> None:
    """List the ONNX ops the converter supports, with opsets, dtypes and notes."""
    from edgelite.converter.onnx_reader import MAX_OPSET, MIN_OPSET
    from edgelite.converter.ops import REGISTRY

    # A model's opset must also be one the reader takes.
    rows = [
        {
            "op": lo.op_type,
            "opsets": f"{max(lo.opsets[0], MIN_OPSET)}-{min(lo.opsets[1], MAX_OPSET)}",
            "dtypes": ",".join(lo.dtypes),
            "const_inputs": list(lo.const_inputs),
            "notes": lo.notes,
        }
        for lo in sorted(REGISTRY.values(), key=lambda lo: lo.op_type)
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["op"]) for r in rows), default=2)
    click.echo(f"{'op':<{width}}  opsets  dtypes          notes")
    for r in rows:
        click.echo(f"{r['op']:<{width}}  {r['opsets']:<6}  {r['dtypes']:<14}  {r['notes']}")
    click.echo(f"{len(rows)} ONNX ops")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--input", "input_path", type=click.Path(path_type=Path), required=True,
              help=".npy (one input) or .npz keyed by input name; samples first.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write outputs: .npy for one output, .npz keyed by output name otherwise.")
@click.option("--dequantize", is_flag=True, help="Give integer outputs as real values.")
def run(model: Path, input_path: Path, output: Path | None, dequantize: bool) -> None:
    """Run MODEL (.tflite) on runtime_micro over the samples in --input."""
    import io

    import numpy as np

    from edgelite.fileio import read_bytes, write_atomic
    from edgelite.runtime.batch import load_arrays, run_batch

    data = load_arrays(input_path)
    result = run_batch(read_bytes(model, "model file"), data, where=str(model),
                       dequantize=dequantize)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    for name, y in result.outputs.items():
        summary = f"output {name!r}: {y.dtype}{list(y.shape)}"
        if y.size and y.ndim >= 2 and y.shape[-1] > 1 and y.size // y.shape[-1] == y.shape[0]:
            top = np.asarray(y).reshape(y.shape[0], -1).argmax(axis=1)
            summary += f", argmax of the first samples: {top[:10].tolist()}"
        click.echo(summary)
    click.echo(f"{result.samples} sample(s) run")
    if output is not None:
        buf = io.BytesIO()
        if len(result.outputs) == 1 and output.suffix != ".npz":
            np.save(buf, next(iter(result.outputs.values())), allow_pickle=False)
        else:
            np.savez(buf, **result.outputs)
        write_atomic(output, buf.getvalue())
        click.echo(f"wrote {output}")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the quantized .tflite file.")
@click.option("--mode", type=click.Choice(["int8", "int16x8", "weights-int8", "float16"]),
              default="int8", show_default=True, help="What to quantize to.")
@model_input_options
@quantize_options
def quantize(model: Path, output: Path, mode: str, input_shapes: tuple[str, ...],
             input_values: tuple[str, ...], **q: object) -> None:
    """Quantize a float MODEL (.onnx or .tflite) with calibration on real samples."""
    from edgelite.converter import convert as convert_graph

    if not model.exists():
        raise EdgeliteError("model file does not exist", where=str(model))
    graph = convert_graph(model, _convert_options(input_shapes, input_values))
    _echo_notes(graph)
    _quantize_and_write(graph, mode, q, output)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the pruned model: .tflite, or .onnx (float, to fine-tune).")
@click.option("--calibration", type=click.Path(path_type=Path), required=True,
              help=".npy/.npz (keyed by input name) or a folder of images, as for quantize.")
@click.option("--calibration-samples", "samples", type=int,
              help="How many calibration samples to use (default: all).")
@model_input_options
@click.option("--macs", type=float, metavar="F", help="Keep fraction F of the MACs (channels).")
@click.option("--channels", type=float, metavar="F",
              help="Remove fraction F of the prunable channels.")
@click.option("--sparsity", type=float, metavar="S", help="Zero fraction S of the weights.")
@click.option("--pattern", type=click.Choice(["unstructured", "2:4", "4:8"]),
              default="unstructured", show_default=True, help="Sparsity pattern.")
@click.option("--repair", type=click.Choice(["ls", "bias", "none"]), default="ls",
              show_default=True, help="How the next layer compensates removed channels.")
@click.option("--report", "report_json", type=click.Path(path_type=Path),
              help="Write the per-layer report (JSON).")
@click.option("--report-html", "report_html", type=click.Path(path_type=Path),
              help="Write the per-layer report as a self-contained HTML page.")
@click.option("--quantize", "quantize_mode", type=click.Choice(["int8"]),
              help="Quantize the pruned model with the same calibration data.")
@click.option("--io", type=click.Choice(["int8", "uint8", "float"]), default="int8",
              show_default=True, help="With --quantize: type of the inputs and outputs.")
def prune(model: Path, output: Path, calibration: Path, samples: int | None,
          input_shapes: tuple[str, ...], input_values: tuple[str, ...], macs: float | None,
          channels: float | None, sparsity: float | None, pattern: str, repair: str, report_json: Path | None,
          report_html: Path | None, quantize_mode: str | None, io: str) -> None:
    """Prune a float MODEL (.onnx or .tflite): fewer channels (--macs/--channels) and/or
    sparse weights (--sparsity/--pattern), repaired on calibration data."""
    import sys as _sys

    from edgelite.fileio import write_atomic
    from edgelite.prune import PruneOptions
    from edgelite.prune import prune as run_prune

    suffix = output.suffix.lower()
    if suffix not in (".tflite", ".onnx"):
        raise EdgeliteError("the output must be a .tflite or an .onnx file", where=str(output),
                            code=Code.BAD_INPUT)
    if suffix == ".onnx" and quantize_mode:
        raise EdgeliteError("--quantize writes a .tflite file", where=str(output),
                            code=Code.BAD_INPUT, hint="use -o model.tflite")
    opts = PruneOptions(calibration=calibration, samples=samples, macs=macs, channels=channels,
                        sparsity=sparsity, pattern=pattern, repair=repair, quantize=quantize_mode,
                        io=io, report_json=report_json, report_html=report_html,
                        progress=_sys.stderr.isatty())
    from edgelite.converter import convert as convert_graph

    if not model.exists():
        raise EdgeliteError("model file does not exist", where=str(model))
    source = convert_graph(model, _convert_options(input_shapes, input_values))
    _echo_notes(source)
    result = run_prune(source, opts)
    if suffix == ".onnx":
        from edgelite.prune.onnx_out import to_onnx_bytes

        data = to_onnx_bytes(result.graph)
    else:
        data = result.quantized if result.quantized is not None else result.model
    write_atomic(output, data)
    for note in result.notes:
        click.echo(f"note: {note}", err=True)
    rep = result.report
    m0, m1 = rep.macs
    click.echo(f"MACs {m0:,} -> {m1:,} ({100 * m1 / max(m0, 1):.1f} %), parameters "
               f"{rep.params[0]:,} -> {rep.params[1]:,}; output SQNR {rep.output_sqnr_db:.2f} "
               f"dB, cosine {rep.output_cosine:.5f} on the calibration samples")
    for g in rep.groups_left:
        click.echo(f"  left alone: {g['name']}: {g['reason']}")
    click.echo(f"wrote {output} ({len(data):,} bytes)")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
                            help="Folder for the bundle (created with its parents if missing).")
@click.option("--input", "inputs", multiple=True, type=click.Path(path_type=Path),
              help="Input data as `run` takes it: one .npy per model input or one .npz keyed "
                   "by input name; samples first, each sample one invoke; NCHW data is moved "
                   "to NHWC and floats quantized when the model wants it.")
@click.option("--name", help="C identifier prefix (default: from the file name).")
@click.option("--no-expected", is_flag=True,
              help="Do not record the host runtime's outputs for the inputs.")
def export(model: Path, output: Path, inputs: tuple[Path, ...], name: str | None,
           no_expected: bool) -> None:
    """Write MODEL (.tflite) as a firmware bundle: the model as an aligned C array, the exact
    arena size, inputs and the host's outputs, runtime_micro's sources (only the model's ops
    compiled in), main.c, CMakeLists.txt and a Makefile. `cmake -S DIR -B DIR/build && cmake
    --build DIR/build` builds a host program that checks the outputs; `make -C DIR
    TARGET=cortex-m4` (m7, m55) the firmware for QEMU's boards."""
    from edgelite.export.api import export_model

    notes: list[str] = []
    files = export_model(model, output, inputs=list(inputs) or None, name=name,
                         expected=not no_expected, bundle=True, notes=notes)
    for note in notes:
        click.echo(f"note: {note}")
    for f in files:
        click.echo(f"wrote {f}{'/' if f.is_dir() else ''}")
    click.echo(f"build and check on this host: cmake -S {output} -B {output}/build && "
               f"cmake --build {output}/build")
    click.echo(f"firmware (QEMU mps2-an386): make -C {output} TARGET=cortex-m4 run")


@cli.command(name="eval")
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
              help=".npz with the inputs (keyed by input name) and optionally labels.")
@click.option("--labels", "labels_key", metavar="KEY",
              help="Key of the class labels in --data, for top-1/top-5 accuracy.")
@click.option("--float", "float_model", type=click.Path(path_type=Path),
              help="The float model (.onnx or .tflite) to measure agreement against.")
@click.option("--samples", type=int, help="Use the first N samples.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def eval_(model: Path, data_path: Path, labels_key: str | None, float_model: Path | None,
          samples: int | None, as_json: bool) -> None:
    """Accuracy of MODEL on --data, and its agreement with the float model."""
    import sys as _sys

    import numpy as np

    from edgelite.runtime.batch import load_arrays

    arrays = load_arrays(data_path)
    labels = None
    if labels_key is not None:
        if not isinstance(arrays, dict) or labels_key not in arrays:
            have = sorted(arrays) if isinstance(arrays, dict) else ["<a single .npy array>"]
            raise EdgeliteError(f"no array {labels_key!r} in the data (it has {have})",
                                where=str(data_path), code=Code.BAD_INPUT)
        labels = np.asarray(arrays.pop(labels_key)).reshape(-1)
    if samples is not None:
        if samples <= 0:
            raise EdgeliteError("--samples must be positive", code=Code.BAD_INPUT)
        arrays = ({k: v[:samples] for k, v in arrays.items()} if isinstance(arrays, dict)
                  else [a[:samples] for a in arrays])
        labels = labels[:samples] if labels is not None else None
    if float_model is not None:
        from edgelite.quantize.api import evaluate

        data = arrays if isinstance(arrays, dict) else arrays[0]
        result = evaluate(float_model, model, data, labels, progress=_sys.stderr.isatty())
        report = result.as_json()
    else:
        from edgelite.fileio import read_bytes
        from edgelite.runtime.batch import run_batch

        if labels is None:
            raise EdgeliteError("nothing to measure: give --labels KEY for accuracy, or "
                                "--float MODEL for agreement with the float model",
                                code=Code.BAD_INPUT)
        out = run_batch(read_bytes(model, "model file"), arrays, where=str(model),
                        dequantize=True)
        scores = next(iter(out.outputs.values())).reshape(out.samples, -1)
        if labels.size != out.samples:
            raise EdgeliteError(f"{labels.size} labels for {out.samples} samples",
                                where=str(data_path), code=Code.BAD_INPUT)
        order = np.argsort(-scores, axis=1, kind="stable")
        report = {"samples": out.samples,
                  "top1": float(np.mean(order[:, 0] == labels)),
                  "top5": float(np.mean(np.any(order[:, :5] == labels[:, None], axis=1)))}
    if as_json:
        click.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    for key, value in report.items():
        if value is None:
            continue
        shown = f"{100 * value:.2f} %" if ("top" in key or "agreement" in key) else value
        if isinstance(value, float) and key in ("cosine",):
            shown = f"{value:.5f}"
        if isinstance(value, float) and key.endswith("_db"):
            shown = f"{value:.2f} dB"
        click.echo(f"{key:<16} {shown}")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--warmup", type=int, default=5, show_default=True,
              help="Untimed invokes before the timed ones.")
@click.option("--runs", type=int, default=50, show_default=True,
              help="Timed invokes (per runtime with --compare).")
@click.option("--max-seconds", type=float, default=60.0, show_default=True,
              help="Stop the timed runs (and the profiling pass) after this long.")
@click.option("--input", "input_path", type=click.Path(path_type=Path),
              help=".npy or .npz (keyed by input name); its first sample is used. "
                   "Default: fixed-seed random data.")
@click.option("--compare", "compare", metavar="RUNTIMES",
              help="Also run these, interleaved: litert (reference, built-in, XNNPACK), "
                   "litert-ref, litert-builtin, litert-xnnpack, tflm, onnxruntime, "
                   "tflite-runtime, or all; comma-separated.")
@click.option("--onnx", "onnx_path", type=click.Path(path_type=Path),
              help="The ONNX source model, for --compare onnxruntime.")
@click.option("--profile/--no-profile", default=True, show_default=True,
              help="Per-op profile (a separate pass with a per-op callback).")
@click.option("--target", "target", metavar="TARGET",
              help="Run on an ARM core instead of this host: cortex-m4, cortex-m7, cortex-m55 "
                   "or aarch64 under QEMU (exact instruction counts, flash, RAM), "
                   "ssh://[user@]HOST[:PORT][/FOLDER] (an aarch64 Linux device: wall-clock "
                   "latency; the binary goes to /tmp or FOLDER), or adb[://SERIAL] (an "
                   "Android phone: the binary goes to /data/local/tmp).")
@click.option("--cpu", type=int, metavar="N",
              help="ssh/adb targets: pin the benchmark to core N (taskset), e.g. a big or a "
                   "little core of a phone.")
@click.option("--abi", type=click.Choice(["arm64-v8a", "armeabi-v7a"]), default="arm64-v8a",
              show_default=True,
              help="ssh/adb targets: build for 64-bit ARM or 32-bit ARMv7.")
@click.option("--reference-kernels", is_flag=True,
              help="Run runtime_micro's reference kernels only (no SIMD / DSP paths): "
                   "what the optimized kernels save, on this host or --target.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="Threads for runtime_micro on this host (its hosted pool: CONV_2D, "
                   "DEPTHWISE_CONV_2D and FULLY_CONNECTED split by output rows / units; the "
                   "same bytes for any count). Peers keep their own defaults.")
@click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON.")
def bench(model: Path, warmup: int, runs: int, max_seconds: float, input_path: Path | None,
          compare: str | None, onnx_path: Path | None, profile: bool, target: str | None,
          cpu: int | None, abi: str, reference_kernels: bool, threads: int,
          as_json: bool) -> None:
    """Time MODEL (.tflite) on runtime_micro: init, latency, arena, per-op profile; with
    --target, on an ARM core (QEMU instruction counts) or an ssh device."""
    from edgelite.bench import BenchConfig, render_text, run_bench

    if target is not None:
        if threads != 1:
            raise EdgeliteError("--threads applies to this host only", code=Code.BAD_INPUT,
                                hint="drop --target, or drop --threads")
        _bench_target(model, target, warmup, runs, input_path, compare, onnx_path, profile,
                      reference_kernels, as_json, cpu, abi)
        return
    if cpu is not None or abi != "arm64-v8a":
        raise EdgeliteError("--cpu/--abi apply to ssh:// and adb targets", code=Code.BAD_INPUT,
                            hint="add --target adb or --target ssh://HOST")
    peers = tuple(p for p in (compare or "").split(",") if p.strip())
    report = run_bench(BenchConfig(model=model, warmup=warmup, runs=runs,
                                   max_seconds=max_seconds, input=input_path, compare=peers,
                                   onnx=onnx_path, profile=profile,
                                   reference_kernels=reference_kernels, threads=threads))
    if as_json:
        click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True))
    else:
        click.echo(render_text(report))


def _bench_target(model: Path, target: str, warmup: int, runs: int, input_path: Path | None,
                  compare: str | None, onnx_path: Path | None, profile: bool,
                  reference_kernels: bool, as_json: bool, cpu: int | None = None,
                  abi: str = "arm64-v8a") -> None:
    """bench --target: QEMU instruction counts, or latency on an ssh / adb device."""
    if compare or onnx_path:
        raise EdgeliteError("--compare/--onnx run peers on this host; they cannot be combined "
                            "with --target", code=Code.BAD_INPUT, hint="drop --compare")
    remote = target.startswith("ssh://") or target == "adb" or target.startswith("adb://")
    if remote:
        from edgelite.bench.adb import parse_adb_target
        from edgelite.bench.remote import RemoteConfig, render_remote, run_remote_bench
        from edgelite.bench.ssh import SshTransport, parse_ssh_target

        transport = (SshTransport(parse_ssh_target(target)) if target.startswith("ssh://")
                     else parse_adb_target(target))
        report = run_remote_bench(RemoteConfig(model=model, url=target, runs=runs,
                                               warmup=warmup, input=input_path,
                                               reference_kernels=reference_kernels, cpu=cpu,
                                               abi=abi), transport)
        text = render_remote(report)
    elif cpu is not None or abi != "arm64-v8a":
        raise EdgeliteError("--cpu/--abi apply to ssh:// and adb targets", code=Code.BAD_INPUT,
                            hint="QEMU targets count instructions of one core")
    else:
        from edgelite.bench.targets import TargetConfig, render_target, run_target_bench

        report = run_target_bench(TargetConfig(model=model, target=target, input=input_path,
                                               profile=profile,
                                               reference_kernels=reference_kernels))
        text = render_target(report)
    click.echo(json.dumps(report.as_json(), indent=2, sort_keys=True) if as_json else text)


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
def doctor(as_json: bool) -> None:
    """List the optional tools (cross compilers, QEMU, clang, CMake, JDK, zig, adb, the peer
    runtimes) found here, with versions, what each enables and the command installing what is
    missing. Always exits 0.

    \b
    Example:
      edgelite doctor
      edgelite doctor --json
    """
    from edgelite import doctor as doc

    tools = doc.check()
    click.echo(json.dumps(doc.as_json(tools), indent=2) if as_json else doc.render_text(tools))


def main(argv: list[str] | None = None) -> int:
    try:
        cli.main(args=argv, prog_name="edgelite", standalone_mode=False)
    except EdgeliteError as e:
        click.echo(f"error: {e.render()}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as e:
        e.show()
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
