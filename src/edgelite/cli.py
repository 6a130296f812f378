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
            shape = tuple(int(d) for d in dims.split(","))
            if any(d <= 0 for d in shape):
                raise ValueError
        except ValueError:
            raise EdgeliteError(
                f"--input-shape {value!r} is not NAME:D1,D2,... with positive dimensions",
                code=Code.BAD_INPUT, hint="e.g. --input-shape input:1,3,224,224",
            ) from None
        shapes[name] = shape
    return shapes


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="edgelite")
def cli() -> None:
    """Convert trained ONNX models to TFLite, quantize them, and run them on small devices."""


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Where to write the .tflite file.")
@click.option("--input-shape", "input_shapes", multiple=True, metavar="NAME:D1,D2,...",
              help="Static shape for an input with dynamic dimensions (repeatable).")
@click.option("--keep-nchw-io", is_flag=True,
              help="Keep the model's NCHW inputs/outputs (one TRANSPOSE at each end).")
def convert(model: Path, output: Path, input_shapes: tuple[str, ...], keep_nchw_io: bool) -> None:
    """Convert an ONNX MODEL to a float .tflite file."""
    from edgelite.converter import ConvertOptions, convert_to_bytes
    from edgelite.fileio import write_atomic

    options = ConvertOptions(input_shapes=_parse_input_shapes(input_shapes),
                             keep_nchw_io=keep_nchw_io)
    data = convert_to_bytes(model, options)
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
    from edgelite.converter.ops import REGISTRY

    rows = [
        {
            "op": lo.op_type,
            "opsets": f"{lo.opsets[0]}-{lo.opsets[1]}",
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
