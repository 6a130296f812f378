"""The `edgelite` command: parse flags, call the top-level API (edgelite/api.py), print.

Every command is a thin layer over the function of the same name (``edgelite.convert`` ...),
whose keyword arguments are the command's flags, so the CLI and Python give the same bytes.
Errors, ours and click's, print one line ``error: ...`` on stderr with no traceback; the exit
codes are in EXIT_CODES_HELP.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from edgelite import __version__
from edgelite import api as API
from edgelite.errors import EdgeliteError

EXIT_CODES_HELP = """Exit codes:

\b
  0    success
  1    internal error (a bug in edgelite: the traceback is printed; please report it)
  2    bad input or unsupported model: a missing or invalid file or option, an op or
       shape edgelite cannot handle, data that does not fit the model (one line
       "error: ..." naming the file, node or tensor, and what to do)
  130  interrupted (Ctrl-C)
"""

INPUT_DATA_HELP = """Input data (run, bench, export, eval, calibration):

\b
  .npy   one model input; .npz: one array per input, keyed by input name
  samples first: (N, ...) for an input of shape (1, ...), each sample one invoke
  NCHW or NHWC: data in the ONNX model's NCHW layout is moved to NHWC when the
         converter made that input channels-last (auto-detected)
  floats are quantized with the input's scale and zero point when the model
         takes int8 / uint8 / int16 (run, bench, export, eval)
"""


def examples(*lines: str) -> str:
    """A command's --help epilog: its examples, kept on their lines (click's \\b)."""
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)


# ---- shared options -------------------------------------------------------------------------

def json_option(f):
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the report as JSON on stdout (notes included).")(f)


def quiet_option(f):
    return click.option("-q", "--quiet", is_flag=True,
                        help="No progress bars (they are drawn only on a terminal anyway).")(f)


def threads_option(f):
    return click.option("--threads", type=int, default=1, show_default=True,
                        help="Threads for runtime_micro (its hosted pool); the same outputs "
                             "for any count.")(f)


def model_input_options(f):
    """--input-shape and --input-value, shared by every command that reads a source model
    (convert, quantize, prune)."""
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


def quantize_options(f):
    """The options `convert --quantize` and `quantize` share; each destination is the keyword
    of edgelite.quantize() of the same name."""
    opts = [
        click.option("--io", "io", type=click.Choice(["int8", "uint8", "float"]),
                     default="int8", show_default=True,
                     help="Type of the model's inputs and outputs."),
        click.option("--calibration", "calibration", type=click.Path(path_type=Path),
                     help=".npy/.npz (keyed by input name; samples first, NCHW or NHWC) or a "
                          "folder of images."),
        click.option("--calibration-samples", "calibration_samples", type=int,
                     help="How many calibration samples to use (default: all)."),
        click.option("--calibration-method", "calibration_method",
                     type=click.Choice(["minmax", "percentile", "entropy", "mse"]),
                     default="percentile", show_default=True,
                     help="Range estimation (the model's inputs and outputs: min/max)."),
        click.option("--percentile", type=float, default=99.99, show_default=True,
                     help="For --calibration-method percentile."),
        click.option("--keep-float", "keep_float", multiple=True, metavar="NODE",
                     help="Keep this node in float (repeatable)."),
        click.option("--int16", "int16", multiple=True, metavar="NODE",
                     help="Run this node with 16-bit activations (repeatable)."),
        click.option("--auto-precision", "auto_precision", type=float, metavar="DB",
                     help="Raise the worst layers to int16/float until the output SQNR "
                          "reaches DB."),
        click.option("--precision-guard/--no-precision-guard", "precision_guard", default=True,
                     show_default=True,
                     help="int8/int16x8: measure the model once on the calibration data and "
                          "keep int16 or float the ops that destroy the signal (each decision "
                          "printed)."),
        click.option("--bias-correction", "bias_correction",
                     type=click.Choice(["auto", "on", "off"]), default="auto",
                     show_default=True,
                     help="Correct the output shift weight rounding causes (Nagel et al. "
                          "2019); auto: kept where it raises the measured output SQNR."),
        click.option("--equalize", "equalize", type=click.Choice(["auto", "on", "off"]),
                     default="auto", show_default=True,
                     help="Cross-layer equalization of conv/FC pairs joined by ReLU or nothing "
                          "(Nagel et al. 2019), before calibration; auto: kept where it raises "
                          "the measured output SQNR."),
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
        click.option("--report", "report", type=click.Path(path_type=Path),
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


# the flag parsers live with the API (edgelite.api); these names are kept for callers of cli
_parse_input_shapes = API.parse_input_shapes
_parse_input_values = API.parse_input_values


def _progress(quiet: bool) -> bool | None:
    return False if quiet else None  # None: bars when stderr is a terminal


# ---- printing -------------------------------------------------------------------------------

def _print_json(report: dict[str, Any]) -> None:
    click.echo(json.dumps(report, indent=2, sort_keys=True, default=str))


def _print_notes(notes: list[str]) -> None:
    for note in notes:
        click.echo(f"note: {note}", err=True)


def _print_quantized(result: API.ModelBytes, output: Path) -> None:
    s = result.summary
    _print_notes(s["notes"])
    for change in s["guard"]:  # the precision guard's decisions
        click.echo(f"guard: {change['op_type']} [{change['op']}] kept {change['to']}: "
                   f"{change['reason']} (output SQNR {change['output_sqnr_db_before']} -> "
                   f"{change['output_sqnr_db_after']} dB)", err=True)
    for change in s["auto_precision"]:
        click.echo(f"auto precision: {json.dumps(change, sort_keys=True)}")
    if s["output_sqnr_db"] is not None:
        click.echo(f"output SQNR {s['output_sqnr_db']:.2f} dB over the calibration samples")
        for r in s["worst"]:
            click.echo(f"  worst: {r['tensor']:<40} SQNR {r['sqnr_db']:7.2f} dB  cosine "
                       f"{r['cosine']:.5f}")
    click.echo(f"wrote {output} ({s['bytes']:,} bytes, "
               f"{100 * s['bytes'] / s['float_bytes']:.1f} % of float {s['float_bytes']:,})")


# ---- the group: one error style -------------------------------------------------------------

class Group(click.Group):
    """The `edgelite` group; its commands are listed in the order they were added."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"],
                                          "max_content_width": 100},
             epilog=INPUT_DATA_HELP + "\n" + EXIT_CODES_HELP + "\n" + examples(
                 "edgelite convert model.onnx -o model.tflite",
                 "edgelite quantize model.onnx -o model_int8.tflite --calibration samples.npz",
                 "edgelite run model_int8.tflite --input x.npy -o y.npy",
                 "edgelite COMMAND --help"))
@click.version_option(__version__, prog_name="edgelite")
def cli() -> None:
    """Convert trained ONNX models to TFLite, quantize and prune them, and run them on small
    devices. Every command is also a Python function: edgelite.convert(...), ..."""


# ---- commands -------------------------------------------------------------------------------

@cli.command(epilog=examples(
    "edgelite convert model.onnx -o model.tflite",
    "edgelite convert model.onnx -o model.tflite --input-shape input:1,3,224,224",
    "edgelite convert model.onnx -o model_int8.tflite --quantize int8 --calibration x.npz",
    "edgelite convert float.tflite -o model.tflite --json"))
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
@json_option
@quiet_option
def convert(model: Path, output: Path, input_shapes: tuple[str, ...],
            input_values: tuple[str, ...], keep_nchw_io: bool, quantize_mode: str | None,
            as_json: bool, quiet: bool, **q: Any) -> None:
    """Convert an ONNX or float .tflite MODEL to a .tflite file (float, or quantized with
    --quantize)."""
    extra = q if quantize_mode is not None else {}
    if quantize_mode is None:  # a quantize flag alone would be ignored: say so
        ctx = click.get_current_context()
        given = [p.opts[-1] for p in ctx.command.params
                 if p.name in q and ctx.get_parameter_source(p.name)
                 != click.core.ParameterSource.DEFAULT]
        if given:
            raise EdgeliteError(f"{', '.join(given)} given without --quantize: quantize "
                                "options do nothing on their own",
                                hint="add --quantize int8 (or int16x8, weights-int8, float16)")
    result = API.convert(model, output, input_shapes=input_shapes, input_values=input_values,
                         keep_nchw_io=keep_nchw_io, quantize=quantize_mode,
                         progress=_progress(quiet), **extra)
    if as_json:
        _print_json(result.summary)
    elif quantize_mode is not None:
        _print_quantized(result, output)
    else:
        _print_notes(result.notes)
        click.echo(f"wrote {output} ({len(result):,} bytes)")


@cli.command(epilog=examples(
    "edgelite inspect model.tflite",
    "edgelite inspect model.onnx",
    "edgelite inspect model.tflite --json | jq .arena_bytes"))
@click.argument("model", type=click.Path(path_type=Path))
@json_option
def inspect(model: Path, as_json: bool) -> None:
    """Show ops, tensors, shapes, dtypes, sizes, quantization and metadata of MODEL, and the
    exact arena runtime_micro needs."""
    report = API.inspect(model)
    click.echo(json.dumps(report, indent=2, sort_keys=True) if as_json else report.text)


@cli.command(epilog=examples("edgelite ops", "edgelite ops --json"))
@json_option
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


@cli.command(epilog=examples(
    "edgelite run model.tflite --input x.npy",
    "edgelite run model_int8.tflite --input x.npz -o y.npz --dequantize",
    "edgelite run model.tflite --input x.npy --json"))
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--input", "input_path", type=click.Path(path_type=Path), required=True,
              help=".npy (one input) or .npz keyed by input name; samples first, NCHW or "
                   "NHWC, floats quantized for integer inputs.")
@click.option("-o", "--output", type=click.Path(path_type=Path),
              help="Write outputs: .npy for one output, .npz keyed by output name otherwise.")
@click.option("--dequantize", is_flag=True, help="Give integer outputs as real values.")
@threads_option
@json_option
def run(model: Path, input_path: Path, output: Path | None, dequantize: bool, threads: int,
        as_json: bool) -> None:
    """Run MODEL (.tflite) on runtime_micro over the samples in --input."""
    result = API.run(model, input_path, output, dequantize=dequantize, threads=threads)
    rows = []
    for name, y in result.items():
        row: dict[str, Any] = {"name": name, "dtype": str(y.dtype), "shape": list(y.shape)}
        if y.size and y.ndim >= 2 and y.shape[-1] > 1 and y.size // y.shape[-1] == y.shape[0]:
            row["argmax"] = y.reshape(y.shape[0], -1).argmax(axis=1)[:10].tolist()
        rows.append(row)
    if as_json:
        _print_json({"model": str(model), "samples": result.samples, "outputs": rows,
                     "output": None if output is None else str(output),
                     "notes": result.notes})
        return
    _print_notes(result.notes)
    for row in rows:
        summary = f"output {row['name']!r}: {row['dtype']}{row['shape']}"
        if "argmax" in row:
            summary += f", argmax of the first samples: {row['argmax']}"
        click.echo(summary)
    click.echo(f"{result.samples} sample(s) run")
    if output is not None:
        click.echo(f"wrote {output}")


@cli.command(epilog=examples(
    "edgelite quantize model.onnx -o model_int8.tflite --calibration samples.npz",
    "edgelite quantize model.onnx -o m.tflite --calibration images/ --image-size 224,224 "
    "--image-mean 0.485,0.456,0.406 --image-std 0.229,0.224,0.225 --image-layout nchw",
    "edgelite quantize model.onnx -o m.tflite --calibration x.npz --auto-precision 30 "
    "--report-html report.html",
    "edgelite quantize model.tflite -o m.tflite --mode weights-int8"))
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the quantized .tflite file.")
@click.option("--mode", type=click.Choice(["int8", "int16x8", "weights-int8", "float16"]),
              default="int8", show_default=True, help="What to quantize to.")
@model_input_options
@quantize_options
@json_option
@quiet_option
def quantize(model: Path, output: Path, mode: str, input_shapes: tuple[str, ...],
             input_values: tuple[str, ...], as_json: bool, quiet: bool, **q: Any) -> None:
    """Quantize a float MODEL (.onnx or .tflite) with calibration on real samples."""
    result = API.quantize(model, output, mode=mode, input_shapes=input_shapes,
                          input_values=input_values, progress=_progress(quiet), **q)
    if as_json:
        _print_json(result.summary)
    else:
        _print_quantized(result, output)


@cli.command(epilog=examples(
    "edgelite prune model.onnx -o small.tflite --calibration x.npz --macs 0.5",
    "edgelite prune model.onnx -o sparse.tflite --calibration x.npz --pattern 2:4",
    "edgelite prune model.onnx -o small.onnx --calibration x.npz --channels 0.3  "
    "# float ONNX, to fine-tune",
    "edgelite prune model.onnx -o small_int8.tflite --calibration x.npz --macs 0.5 "
    "--quantize int8"))
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the pruned model: .tflite, or .onnx (float, to fine-tune).")
@click.option("--calibration", type=click.Path(path_type=Path), required=True,
              help=".npy/.npz (keyed by input name) or a folder of images, as for quantize.")
@click.option("--calibration-samples", "calibration_samples", type=int,
              help="How many calibration samples to use (default: all).")
@model_input_options
@click.option("--macs", type=float, metavar="F", help="Keep fraction F of the MACs (channels).")
@click.option("--channels", type=float, metavar="F",
              help="Remove fraction F of the prunable channels.")
@click.option("--sparsity", type=float, metavar="S", help="Zero fraction S of the weights.")
@click.option("--pattern", type=click.Choice(["unstructured", "2:4", "4:8", "1x4", "1x8", "1x16"]),
              default="unstructured", show_default=True,
              help="Sparsity pattern: single weights, N:M (at most N nonzeros in every M "
                   "inputs), or 1xB blocks of B inputs zeroed together (smallest int8 files).")
@click.option("--repair", type=click.Choice(["ls", "bias", "none"]), default="ls",
              show_default=True, help="How the next layer compensates removed channels.")
@click.option("--channel-multiple", "channel_multiple", type=int, default=8, show_default=True,
              metavar="N", help="Layers of 8N channels or more keep a multiple of N "
                                "(a power of two; smaller when few are kept) so SIMD kernels "
                                "run no channel tails; 1: any count.")
@click.option("--report", "report", type=click.Path(path_type=Path),
              help="Write the per-layer report (JSON).")
@click.option("--report-html", "report_html", type=click.Path(path_type=Path),
              help="Write the per-layer report as a self-contained HTML page.")
@click.option("--quantize", "quantize", type=click.Choice(["int8"]),
              help="Quantize the pruned model with the same calibration data.")
@click.option("--io", type=click.Choice(["int8", "uint8", "float"]), default="int8",
              show_default=True, help="With --quantize: type of the inputs and outputs.")
@click.option("--allow-low-sqnr", is_flag=True,
              help="Write the model even when pruning leaves its output SQNR on the "
                   "calibration data below 10 dB (or, with --quantize, the int8 model's below "
                   "15 dB). Default: refused, exit code 2, naming the layer that loses most.")
@json_option
@quiet_option
def prune(model: Path, output: Path, as_json: bool, quiet: bool, **p: Any) -> None:
    """Prune a float MODEL (.onnx or .tflite): fewer channels (--macs/--channels) and/or
    sparse weights (--sparsity/--pattern), repaired on calibration data."""
    result = API.prune(model, output, progress=_progress(quiet), **p)
    s = result.summary
    if as_json:
        _print_json(s)
        return
    _print_notes(s["notes"])
    m0, m1 = s["macs"]
    click.echo(f"MACs {m0:,} -> {m1:,} ({100 * m1 / max(m0, 1):.1f} %), parameters "
               f"{s['params'][0]:,} -> {s['params'][1]:,}; output SQNR "
               f"{s['output_sqnr_db']:.2f} dB, cosine {s['output_cosine']:.5f} on the "
               "calibration samples")
    for g in s["left_alone"]:
        click.echo(f"  left alone: {g['name']}: {g['reason']}")
    click.echo(f"wrote {output} ({s['bytes']:,} bytes)")


@cli.command(epilog=examples(
    "edgelite export model_int8.tflite -o fw",
    "edgelite export model_int8.tflite -o fw --input x.npy && make -C fw TARGET=cortex-m4 run",
    "edgelite export model.tflite -o fw --input a.npy --input b.npy --name kws"))
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
@json_option
def export(model: Path, output: Path, inputs: tuple[Path, ...], name: str | None,
           no_expected: bool, as_json: bool) -> None:
    """Write MODEL (.tflite) as a firmware bundle: the model as an aligned C array, the exact
    arena size, inputs and the host's outputs, runtime_micro's sources (only the model's ops
    compiled in), main.c, CMakeLists.txt and a Makefile. `cmake -S DIR -B DIR/build && cmake
    --build DIR/build` builds a host program that checks the outputs; `make -C DIR
    TARGET=cortex-m4` (m7, m55) the firmware for QEMU's boards."""
    result = API.export(model, output, input=list(inputs) or None, name=name,
                        expected=not no_expected)
    if as_json:
        _print_json(result)
        return
    for note in result["notes"]:
        click.echo(f"note: {note}")
    for f in result["files"]:
        click.echo(f"wrote {f}")
    click.echo(f"build and check on this host: cmake -S {output} -B {output}/build && "
               f"cmake --build {output}/build")
    click.echo(f"firmware (QEMU mps2-an386): make -C {output} TARGET=cortex-m4 run")


@cli.command(name="eval", epilog=examples(
    "edgelite eval model_int8.tflite --data heldout.npz --labels label",
    "edgelite eval model_int8.tflite --data heldout.npz --float model.onnx --json"))
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--data", "data_path", type=click.Path(path_type=Path), required=True,
              help=".npz with the inputs (keyed by input name; samples first, NCHW or NHWC) "
                   "and optionally labels.")
@click.option("--labels", "labels_key", metavar="KEY",
              help="Key of the class labels in --data, for top-1/top-5 accuracy.")
@click.option("--float", "float_model", type=click.Path(path_type=Path),
              help="The float model (.onnx or .tflite) to measure agreement against.")
@click.option("--samples", type=int, help="Use the first N samples.")
@threads_option
@json_option
@quiet_option
def eval_(model: Path, data_path: Path, labels_key: str | None, float_model: Path | None,
          samples: int | None, threads: int, as_json: bool, quiet: bool) -> None:
    """Accuracy of MODEL on --data, and its agreement with the float model."""
    report = API.evaluate(model, data_path, labels=labels_key, float_model=float_model,
                          samples=samples, progress=_progress(quiet), threads=threads)
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


@cli.command(epilog=examples(
    "edgelite bench model_int8.tflite",
    "edgelite bench model_int8.tflite --compare litert,tflm --input x.npy",
    "edgelite bench model_int8.tflite --compare onnxruntime --onnx model.onnx --json",
    "edgelite bench model_int8.tflite --target cortex-m4",
    "edgelite bench model_int8.tflite --target ssh://pi@raspberrypi --runs 100"))
@click.argument("model", type=click.Path(path_type=Path))
@click.option("--warmup", type=int, default=5, show_default=True,
              help="Untimed invokes before the timed ones.")
@click.option("--runs", type=int, default=50, show_default=True,
              help="Timed invokes (per runtime with --compare).")
@click.option("--max-seconds", type=float, default=60.0, show_default=True,
              help="Stop the timed runs (and the profiling pass) after this long.")
@click.option("--input", "input", type=click.Path(path_type=Path),
              help=".npy or .npz (keyed by input name), as `run` takes it; its first sample "
                   "is used. Default: fixed-seed random data.")
@click.option("--compare", "compare", metavar="RUNTIMES",
              help="Also run these, interleaved: litert (reference, built-in, XNNPACK), "
                   "litert-ref, litert-builtin, litert-xnnpack, tflm, onnxruntime, "
                   "tflite-runtime, or all; comma-separated.")
@click.option("--onnx", "onnx", type=click.Path(path_type=Path),
              help="The ONNX source model, for --compare onnxruntime.")
@click.option("--profile/--no-profile", default=True, show_default=True,
              help="Per-op profile (a separate pass with a per-op callback).")
@click.option("--target", "target", metavar="TARGET",
              help="Run on an ARM core instead of this host: cortex-m4, cortex-m7, cortex-m55 "
                   "or aarch64 under QEMU (exact instruction counts, flash, RAM), "
                   "ssh://[user@]HOST[:PORT][/FOLDER] (an aarch64 Linux device: wall-clock "
                   "latency; the binary goes to /tmp or FOLDER), or adb[://SERIAL] (an "
                   "Android phone: the binary goes to /data/local/tmp).")
@click.option("--cpu", metavar="N|LIST",
              help="ssh/adb targets: pin the benchmark to core N, or to cores such as 4-7 or "
                   "0,2 (taskset), e.g. a big or a little core of a phone; with --threads, "
                   "at least as many cores as threads.")
@click.option("--abi", type=click.Choice(["arm64-v8a", "armeabi-v7a"]), default="arm64-v8a",
              show_default=True,
              help="ssh/adb targets: build for 64-bit ARM or 32-bit ARMv7.")
@click.option("--reference-kernels", is_flag=True,
              help="Run runtime_micro's reference kernels only (no SIMD / DSP paths): "
                   "what the optimized kernels save, on this host or --target.")
@click.option("--threads", type=int, default=1, show_default=True,
              help="Threads for runtime_micro on this host or an ssh/adb device (its hosted "
                   "pool: convolutions, FULLY_CONNECTED, PAD, pools, resizes and elementwise ops "
                   "split by output rows, units or runs; the same bytes for any count). --compare "
                   "runs the peers on as many threads (TFLite Micro: one).")
@click.option("--fp16", is_flag=True,
              help="Opt in to runtime_micro's float16 arithmetic (as LiteRT/XNNPACK's 'allow "
                   "fp16 precision'): on aarch64 CPUs with FEAT_FP16 (ARMv8.2 phones; "
                   "--target aarch64 runs QEMU as a Cortex-A76, which has it), float32 CONV_2D "
                   "and FULLY_CONNECTED whose weights the model stores as float16 (quantize "
                   "--mode float16) compute in float16: about twice the multiply-adds per "
                   "instruction, results within about 1e-3 of a layer's output scale instead "
                   "of float32 rounding. No effect elsewhere (x86 hosts, Cortex-A53).")
@json_option
@quiet_option
def bench(model: Path, as_json: bool, quiet: bool, **b: Any) -> None:
    """Time MODEL (.tflite) on runtime_micro: init, latency, arena, per-op profile; with
    --target, on an ARM core (QEMU instruction counts) or an ssh device."""
    report = API.bench(model, progress=_progress(quiet), **b)
    click.echo(json.dumps(report, indent=2, sort_keys=True) if as_json else report.text)


# ---- entry point ----------------------------------------------------------------------------

def _usage_error(e: click.ClickException) -> str:
    """click's own errors (a missing option, a bad choice) in our one-line style."""
    ctx = getattr(e, "ctx", None)
    path = ctx.command_path if ctx is not None else "edgelite"
    message = e.format_message().rstrip(".")
    if message[:1].isupper() and message[1:2].islower():  # "Missing option" -> "missing option"
        message = message[0].lower() + message[1:]
    return f"error: {path}: {message} (see `{path} --help`)"


@cli.command(epilog=examples("edgelite doctor", "edgelite doctor --json"))
@json_option
def doctor(as_json: bool) -> None:
    """List the optional tools (cross compilers, QEMU, clang, CMake, JDK, zig, adb, the peer
    runtimes) found here, with versions, what each enables and the command installing what is
    missing. Always exits 0."""
    from edgelite import doctor as doc

    tools = doc.check()
    click.echo(json.dumps(doc.as_json(tools), indent=2) if as_json else doc.render_text(tools))


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 internal error, 2 bad input)."""
    try:
        cli.main(args=argv, prog_name="edgelite", standalone_mode=False)
    except EdgeliteError as e:
        click.echo(f"error: {e.render()}", err=True)
        return e.exit_code
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return 130
    except click.ClickException as e:
        no_args = getattr(click.exceptions, "NoArgsIsHelpError", ())
        if isinstance(e, no_args):  # `edgelite` alone: the help, as --help gives it
            click.echo(e.ctx.get_help() if e.ctx is not None else e.format_message())
            return 0
        click.echo(_usage_error(e), err=True)
        return 2
    except BrokenPipeError:  # `edgelite ops | head`: the reader left; nothing to report
        return 0
    except Exception as e:  # noqa: BLE001 - a bug: the traceback is what a report needs
        import traceback

        traceback.print_exc()
        click.echo(f"error: internal error: {type(e).__name__}: {e} (a bug in edgelite: "
                   "please report it with the traceback above)", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
