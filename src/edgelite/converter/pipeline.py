"""The convert pipeline: ONNX file -> IR -> passes -> .tflite bytes."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from edgelite import __version__, ir
from edgelite.converter.onnx_reader import load_model, model_to_ir
from edgelite.converter.passes import optimize
from edgelite.errors import Code, EdgeliteError
from edgelite.tflite.metadata import METADATA_KEY

# rank -> (the ONNX layout, the channels-last layout the converter may switch an input/output to)
LAYOUTS = {3: ("NCW", "NWC"), 4: ("NCHW", "NHWC"), 5: ("NCDHW", "NDHWC")}


@dataclass(frozen=True)
class ConvertOptions:
    """What the user chose for one conversion (the CLI builds it from its flags).

    ``input_shapes``: static shapes for inputs with dynamic dimensions, by input name.
    ``keep_nchw_io``: keep the ONNX model's NCHW inputs/outputs (one TRANSPOSE at each end)
    instead of turning rank 3-5 inputs/outputs channels-last (NWC, NHWC, NDHWC; the metadata's
    "layout" says which).
    """

    input_shapes: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    keep_nchw_io: bool = False
    # --input-value: inputs frozen to constants (by name; the values, flat, in the input's order)
    input_values: Mapping[str, tuple[float, ...]] = field(default_factory=dict)

    def as_json(self) -> dict:
        out: dict = {
            "input_shapes": {k: [int(d) for d in v] for k, v in sorted(self.input_shapes.items())},
            "keep_nchw_io": self.keep_nchw_io,
        }
        if self.input_values:  # absent otherwise, so earlier outputs stay byte-identical
            out["input_values"] = {k: [float(x) for x in v]
                                   for k, v in sorted(self.input_values.items())}
        return out


def convert(path: str | Path, options: ConvertOptions | None = None) -> ir.Graph:
    """Read ``path`` and optimise it into an NHWC TFLite-op graph, with metadata filled in."""
    options = options or ConvertOptions()
    p = Path(path)
    if is_tflite(p):
        return _convert_tflite(p, options)
    model = load_model(p)
    notes: list[str] = []
    graph = model_to_ir(model, str(p), options.input_shapes, options.input_values, notes)
    graph.notes = notes
    in_names = [t.name for t in graph.inputs]
    out_names = [o.name for o in model.graph.output]
    try:
        moved = optimize(graph, keep_nchw_io=options.keep_nchw_io)
    except EdgeliteError as e:
        e.where = e.where or str(p)  # a pass knows the op, not the file
        raise
    _restore_io_names(graph, in_names, out_names)
    layout = {
        kind: {t.name: LAYOUTS[len(t.shape)][last]
               for t, last in zip(tensors, flags) if len(t.shape) in LAYOUTS}
        for kind, tensors, flags in (("inputs", graph.inputs, moved[0]),
                                     ("outputs", graph.outputs, moved[1]))
    }
    graph.metadata[METADATA_KEY] = _metadata(p, options, layout, _range_groups(graph))
    return graph


def _convert_tflite(path: Path, options: ConvertOptions) -> ir.Graph:
    """A float .tflite file: read (float16 weights folded, custom ops lowered), every pass
    run with the interface kept as it is (a .tflite file's inputs are already channels-last
    where its author wanted them)."""
    from edgelite.converter.from_tflite.intake import read_tflite
    from edgelite.converter.passes import default_passes, run_passes

    graph = read_tflite(path, options)
    # an edgelite float file keeps its range groups (an unrolled recurrence's steps)
    graph.range_groups = [list(g) for g in range_groups_of(graph)]
    in_names = [t.name for t in graph.inputs]
    out_names = [t.name for t in graph.outputs]
    run_passes(graph, passes=default_passes(keep_nchw_io=True))
    _restore_io_names(graph, in_names, out_names)
    graph.metadata[METADATA_KEY] = _metadata(path, options, {"inputs": {}, "outputs": {}},
                                             _range_groups(graph))
    return graph


def _range_groups(graph: ir.Graph) -> list[list[str]]:
    """The graph's range groups as they stand after the passes: names of tensors still
    computed by an op (folded or removed ones dropped), groups of two or more."""
    live = {t.name for op in graph.ops for t in op.outputs}
    groups = [[n for n in g if n in live] for g in graph.range_groups]
    return [g for g in groups if len(g) > 1]


def range_groups_of(graph: ir.Graph) -> list[list[str]]:
    """The range groups an edgelite-converted graph carries in its metadata (none for
    other files)."""
    try:
        info = json.loads(graph.metadata.get(METADATA_KEY, b"{}"))
    except (ValueError, UnicodeDecodeError):
        return []
    groups = info.get("range_groups", []) if isinstance(info, dict) else []
    return [[str(n) for n in g] for g in groups if isinstance(g, list)]


def is_tflite(path: Path) -> bool:
    """A .tflite file by its name, or by its flatbuffer identifier whatever its name."""
    if path.suffix.lower() == ".tflite":
        return True
    try:
        with open(path, "rb") as f:
            return f.read(8)[4:8] == b"TFL3"
    except OSError:
        return False  # the ONNX loader reports the unreadable file


def convert_to_bytes(path: str | Path, options: ConvertOptions | None = None) -> bytes:
    from edgelite.tflite.writer import write_model

    return write_model(convert(path, options))


def _metadata(path: Path, options: ConvertOptions, layout: dict,
              range_groups: list[list[str]] | None = None) -> bytes:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    info = {
        "producer": "edgelite",
        "version": __version__,
        "source": {"file": path.name, "sha256": digest},
        "options": options.as_json(),
        # rank 3-5 inputs/outputs: channels-last where the layout pass moved the interface
        "layout": layout,
    }
    if range_groups:  # absent otherwise, so earlier outputs stay byte-identical
        info["range_groups"] = range_groups
    return json.dumps(info, sort_keys=True, separators=(",", ":")).encode()


def _restore_io_names(graph: ir.Graph, in_names: list[str], out_names: list[str]) -> None:
    """Passes may swap the tensors at the graph's ends; the interface keeps the ONNX names."""
    wanted: dict[int, str] = {}
    for t, name in [*zip(graph.inputs, in_names), *zip(graph.outputs, out_names)]:
        wanted.setdefault(id(t), name)  # one tensor serving as two outputs keeps the first name
    tensors = graph.tensors()
    in_use = {t.name for t in tensors if id(t) not in wanted} | set(wanted.values())
    for t in tensors:
        if id(t) in wanted:
            t.name = wanted[id(t)]
        elif t.name in wanted.values():
            base, i = t.name, 1
            while f"{base}_{i}" in in_use:
                i += 1
            t.name = f"{base}_{i}"
            in_use.add(t.name)
    counts = Counter(t.name for t in tensors)
    dup = sorted(n for n, c in counts.items() if c > 1)
    if dup:
        raise EdgeliteError(f"tensor names are not unique after conversion: {dup[:5]}",
                            code=Code.INTERNAL, hint="please report this with the model")
