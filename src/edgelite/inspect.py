"""`edgelite inspect`: what is inside an .onnx or .tflite file, as a plain dict."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from edgelite.errors import Code, EdgeliteError
from edgelite.fileio import read_bytes


def inspect_file(path: str | Path) -> dict[str, Any]:
    name = str(path)
    head = read_bytes(path, "model file") if name.endswith(".tflite") else _head(path)
    if head[4:8] == b"TFL3":
        return _inspect_tflite(name, read_bytes(path, "model file"))
    if name.endswith(".tflite"):
        raise EdgeliteError("not a valid .tflite file (no TFL3 identifier)", where=name,
                            code=Code.BAD_INPUT)
    return _inspect_onnx(name)


def _head(path: str | Path) -> bytes:
    """The first bytes, enough to tell a .tflite; the ONNX loader reads the rest after
    checking the file's size (a 2 GiB file is refused, not read)."""
    p = Path(path)
    if p.is_file():
        try:
            with open(p, "rb") as f:
                return f.read(8)
        except OSError:
            pass
    return read_bytes(path, "model file")  # the missing / directory / unreadable error


def _inspect_onnx(name: str) -> dict[str, Any]:
    import onnx

    from edgelite.converter.onnx_reader import load_model

    model = load_model(name)
    g = model.graph
    inits = {t.name: t for t in g.initializer}

    def value_entry(v: Any) -> dict[str, Any]:
        if not v.type.HasField("tensor_type"):
            return {"name": v.name, "shape": [], "dtype": v.type.WhichOneof("value") or "?"}
        dims = [d.dim_value if d.HasField("dim_value") else (d.dim_param or "?")
                for d in v.type.tensor_type.shape.dim]
        elem = v.type.tensor_type.elem_type
        try:
            dtype = onnx.helper.tensor_dtype_to_np_dtype(elem).name
        except KeyError:
            dtype = "undefined"
        if elem == onnx.TensorProto.STRING:
            dtype = "string"
        return {"name": v.name, "shape": dims, "dtype": dtype}

    init_bytes = 0
    for t in inits.values():
        import onnx.numpy_helper

        init_bytes += onnx.numpy_helper.to_array(t).nbytes
    return {
        "file": name,
        "format": "onnx",
        "bytes": Path(name).stat().st_size,
        "producer": f"{model.producer_name} {model.producer_version}".strip(),
        "opsets": {(o.domain or "ai.onnx"): o.version for o in model.opset_import},
        "inputs": [value_entry(v) for v in g.input if v.name not in inits],
        "outputs": [value_entry(v) for v in g.output],
        "op_counts": dict(sorted(Counter(n.op_type for n in g.node).items())),
        "nodes": [{"name": n.name, "op": n.op_type, "inputs": list(n.input),
                   "outputs": list(n.output)} for n in g.node],
        "initializers": len(inits),
        "initializer_bytes": init_bytes,
    }


def _inspect_tflite(name: str, data: bytes) -> dict[str, Any]:
    from edgelite.tflite.reader import read_model

    info = read_model(data, name)
    report: dict[str, Any] = {
        "description": info.description,
        "schema_version": info.version,
        "subgraphs": [_subgraph_entry(sg) for sg in info.subgraphs],
        "metadata": {m.name: _metadata_text(m.data) for m in info.metadata},
        "signatures": [asdict(s) for s in info.signatures],
        "buffers": len(info.buffers),
    }
    from edgelite.prune.costs import model_costs

    # Multiply-accumulates of the main subgraph's convolutions / dense layers, and the
    # elements of every constant (weights and biases; shape arguments excluded).
    report["macs"], report["params"] = model_costs(info)
    report["file"] = name
    report["format"] = "tflite"
    report["bytes"] = len(data)
    try:
        from edgelite.runtime import arena_sizes

        # hosted optimized builds keep int8 filter sums and, on x86-64 / aarch64, fold PADs into
        # their convolutions; Cortex-M builds do neither
        sizes = arena_sizes(data)
        report["arena_bytes"] = sizes.hosted
        report["arena_bytes_cortex_m"] = sizes.cortex_m
        report["arena_bytes_unfolded"] = sizes.unfolded
    except EdgeliteError as e:
        report["arena_bytes"] = None
        report["arena_error"] = e.render()
    return report


def _subgraph_entry(sg: Any) -> dict[str, Any]:
    tensors = []
    for t in sg.tensors:
        dtype = t.dtype or t.type.lower()
        size = int(np.prod(t.shape, dtype=np.int64)) if t.shape else 1
        itemsize = np.dtype(t.dtype).itemsize if t.dtype else 0
        tensors.append({
            "name": t.name, "shape": list(t.shape), "dtype": dtype,
            "bytes": size * itemsize, "buffer_bytes": t.nbytes, "is_variable": t.is_variable,
            "quantization": asdict(t.quantization) if t.quantization else None,
            "sparsity": _sparsity_entry(t.sparsity, len(t.shape)) if t.sparsity else None,
        })
    operators = [{"op": op.op, "version": op.version, "inputs": list(op.inputs),
                  "outputs": list(op.outputs), "options": _jsonable(op.options)}
                 for op in sg.operators]
    return {"name": sg.name, "inputs": list(sg.inputs), "outputs": list(sg.outputs),
            "tensors": tensors, "operators": operators}


def _sparsity_entry(sp: Any, rank: int) -> dict[str, Any]:
    """A sparse tensor's layout (levels outermost first) and how many values it stores."""
    levels = []
    for dim, m in zip(sp.traversal_order, sp.dim_metadata):
        level: dict[str, Any] = {"dimension": dim, "block": dim >= rank}
        if m.format == 0:
            level.update(format="DENSE", dense_size=m.dense_size)
        else:
            level.update(format="SPARSE_CSR", indices=int(m.indices.size))
        levels.append(level)
    return {"traversal_order": list(sp.traversal_order), "block_map": list(sp.block_map),
            "levels": levels, "description": sp.describe()}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, bytes):
        return value.hex()
    return value


def _metadata_text(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    return f"<{len(data)} bytes>"


def _fmt_shape(shape: Any) -> str:
    return "[" + ",".join(str(d) for d in shape) + "]"


def render_text(report: dict[str, Any]) -> str:
    lines = [f"{report['file']}: {report['format']}, {report['bytes']:,} bytes"]
    if report["format"] == "onnx":
        lines.append(f"producer: {report['producer'] or '-'}; opsets: {report['opsets']}")
        for kind in ("inputs", "outputs"):
            for v in report[kind]:
                lines.append(f"{kind[:-1]:>6}  {v['name']}  {v['dtype']}{_fmt_shape(v['shape'])}")
        lines.append(f"{len(report['nodes'])} nodes, {report['initializers']} initializers "
                     f"({report['initializer_bytes']:,} bytes)")
        for op, n in report["op_counts"].items():
            lines.append(f"  {op:<24} {n}")
        return "\n".join(lines)
    if report.get("description"):
        lines.append(f"description: {report['description']}")
    arena, arena_m = report.get("arena_bytes"), report.get("arena_bytes_cortex_m")
    arena_u = report.get("arena_bytes_unfolded")
    others = ([f"Cortex-M builds: {arena_m:,}"] if arena_m not in (None, arena) else []) + (
        [f"no PAD folded, hosts other than x86-64 / aarch64: {arena_u:,}"]
        if arena_u not in (None, arena) else [])
    lines.append(f"arena (runtime_micro): {arena:,} bytes"
                 + (f" ({'; '.join(others)})" if others else "")
                 if arena is not None else f"arena: unavailable ({report.get('arena_error', '')})")
    if "macs" in report:
        lines.append(f"MACs {report['macs']:,}, parameters {report['params']:,}")
    for si, sg in enumerate(report["subgraphs"]):
        lines.append(f"subgraph {si} {sg.get('name') or ''}: {len(sg['operators'])} ops, "
                     f"{len(sg['tensors'])} tensors")
        tensors = sg["tensors"]
        for kind in ("inputs", "outputs"):
            for ti in sg[kind]:
                t = tensors[ti]
                lines.append(f"  {kind[:-1]:>6} #{ti} {t['name']}  {t['dtype']}"
                             f"{_fmt_shape(t['shape'])}{_fmt_quant(t)}")
        lines.append("  ops:")
        for oi, op in enumerate(sg["operators"]):
            ins = ",".join(str(i) for i in op["inputs"])
            outs = ",".join(str(i) for i in op["outputs"])
            lines.append(f"    {oi:>3} {op['op']:<22} ({ins}) -> ({outs}) "
                         f"{_fmt_options(op.get('options'))}".rstrip())
        lines.append("  tensors:")
        for ti, t in enumerate(tensors):
            const = " const" if t.get("buffer_bytes") else ""
            if t.get("sparsity"):
                const += f" ({t['sparsity']['description']}, {t['buffer_bytes']:,} B stored)"
            lines.append(f"    {ti:>3} {t['name']:<40} {t['dtype']:<8}{_fmt_shape(t['shape']):<18}"
                         f"{t.get('bytes', 0):>10,} B{const}{_fmt_quant(t)}")
    for key, value in sorted(report.get("metadata", {}).items()):
        lines.append(f"metadata {key}: {value}")
    counts = Counter(op["op"] for sg in report["subgraphs"] for op in sg["operators"])
    lines.append("op counts: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))
    return "\n".join(lines)


def _fmt_options(options: Any) -> str:
    """Op options as ``name=value`` pairs (lists as [1,576], like shapes), not a Python
    dict."""
    if not options:
        return ""
    if not isinstance(options, dict):
        return str(options)

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return str(v).lower()
        if isinstance(v, float):
            return f"{v:g}"
        if isinstance(v, (list, tuple)):
            return "[" + ",".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + _fmt_options(v) + "}"
        return str(v)

    return " ".join(f"{k}={value(v)}" for k, v in options.items())


def _fmt_quant(t: dict[str, Any]) -> str:
    q = t.get("quantization")
    if not q or not q.get("scale"):
        return ""
    scale = np.asarray(q["scale"])
    zp = np.asarray(q.get("zero_point", [0]))
    if scale.size == 1:
        return f"  q(scale={float(scale[0]):.6g}, zp={int(zp[0])})"
    return f"  q(per-channel axis {q.get('quantized_dimension', 0)}, {scale.size} scales)"
