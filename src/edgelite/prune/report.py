"""The prune report: per layer what was removed and what it cost, against the unpruned model.

Both models (float) run on runtime_micro over the calibration samples. Each layer's output is
compared with the same layer's output in the unpruned model, on the channels it kept (SQNR and
cosine accumulated over all samples); rows are sorted worst first. Totals give MACs, parameters,
file bytes and the model outputs' SQNR. Groups left alone are listed with the reason. Rendered
as JSON and as one self-contained HTML page (the quantize report's head and SQNR chart:
quantize/report_svg, no scripts, nothing fetched).
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgelite import ir
from edgelite.prune import costs
from edgelite.quantize.data import Progress, Sample
from edgelite.quantize.report import _Acc, html_head
from edgelite.quantize.report_svg import Bar, sqnr_chart
from edgelite.quantize.runner import Runner, in_sample_order, workers

LAYER_TYPES = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED")


@dataclass
class LayerRow:
    layer: str  # the op's source node name
    tensor: str  # its output tensor
    op_type: str
    channels_in: tuple[int, int]  # before, after
    channels_out: tuple[int, int]
    sparsity: tuple[float, float]  # fraction of zero weights, before, after
    macs: tuple[int, int]
    params: tuple[int, int]
    bytes: tuple[int, int]
    sqnr_db: float
    cosine: float


@dataclass
class Report:
    mode: str  # "structured", "sparse" or "structured+sparse"
    samples: int
    layers: list[LayerRow]  # worst SQNR first
    macs: tuple[int, int]
    params: tuple[int, int]
    file_bytes: tuple[int, int]
    output_sqnr_db: float
    output_cosine: float
    groups_pruned: list[dict[str, Any]] = field(default_factory=list)
    groups_left: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["macs_fraction"] = self.macs[1] / self.macs[0] if self.macs[0] else None
        d["size_fraction"] = (self.file_bytes[1] / self.file_bytes[0]
                              if self.file_bytes[0] else None)
        return d


def _zeros(t: ir.Tensor | None) -> float:
    if t is None or t.data is None or t.size == 0:
        return 0.0
    return float(np.count_nonzero(np.asarray(t.data) == 0)) / t.size


def _param_bytes(op: ir.Op) -> int:
    return sum(t.nbytes for i, t in enumerate(op.inputs)
               if t is not None and t.is_const and costs._is_param(op.type, i, t.dtype))


def build(orig: ir.Graph, orig_model: bytes, pruned: ir.Graph, pruned_model: bytes,
          twin: dict[int, ir.Tensor], masks: dict[int, np.ndarray],
          samples: Sequence[Sample], *, mode: str, backend: str = "micro",
          progress: bool = True) -> Report:
    """Measure ``pruned`` against ``orig``; ``twin`` maps a pruned activation (id) to its
    unpruned tensor, ``masks`` gives the kept channels of the activations that shrank."""
    orig_ops = {id(op.outputs[0]): op for op in orig.ops if op.outputs}
    layers = [op for op in pruned.ops if op.type in LAYER_TYPES]
    runners = [(Runner(orig_model, orig, backend), Runner(pruned_model, pruned, backend))
               for _ in range(workers(backend, len(samples)))]
    accs = {id(op): _Acc() for op in layers}
    out_accs = [_Acc() for _ in pruned.outputs]
    bar = Progress(len(samples), "measuring pruned layers", progress)

    def one(both: tuple[Runner, Runner], sample: Sample
            ) -> tuple[list[tuple[np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
        fr, pr = both
        fr.run(sample)
        pr.run(sample)
        got = []
        for op in layers:
            t = op.outputs[0]
            ref = fr.tensor(twin[id(t)])
            keep = masks.get(id(t))
            got.append((ref if keep is None else ref[..., keep], pr.tensor(t)))
        return got, [(fr.output(k), pr.output(k)) for k in range(len(pruned.outputs))]

    for got, outs in in_sample_order(runners, samples, one):
        for op, (ref, val) in zip(layers, got, strict=True):
            accs[id(op)].add(ref, val)
        for k, (ref, val) in enumerate(outs):
            out_accs[k].add(ref, val)
        bar.step()
    rows = []
    for op in layers:
        out = op.outputs[0]
        before = orig_ops[id(twin[id(out)])]
        acc = accs[id(op)]
        rows.append(LayerRow(
            layer=op.name or out.name, tensor=out.name, op_type=op.type,
            channels_in=(before.inputs[0].shape[-1], op.inputs[0].shape[-1]),
            channels_out=(before.outputs[0].shape[-1], out.shape[-1]),
            sparsity=(round(_zeros(before.inputs[1]), 4), round(_zeros(op.inputs[1]), 4)),
            macs=(costs.ir_op_macs(before), costs.ir_op_macs(op)),
            params=(costs.ir_op_params(before), costs.ir_op_params(op)),
            bytes=(_param_bytes(before), _param_bytes(op)),
            sqnr_db=round(acc.sqnr(), 4), cosine=round(acc.cosine(), 6)))
    rows.sort(key=lambda r: (r.sqnr_db, r.tensor))
    m0, p0 = costs.graph_costs(orig)
    m1, p1 = costs.graph_costs(pruned)
    return Report(mode=mode, samples=len(samples), layers=rows, macs=(m0, m1), params=(p0, p1),
                  file_bytes=(len(orig_model), len(pruned_model)),
                  output_sqnr_db=round(min(a.sqnr() for a in out_accs), 4),
                  output_cosine=round(min(a.cosine() for a in out_accs), 6))


def write_json(report: Report, path: str | Path) -> None:
    from edgelite.fileio import write_atomic

    write_atomic(Path(path), (json.dumps(report.as_json(), indent=2, sort_keys=True)
                              + "\n").encode())


def _pair(v: tuple[Any, Any], fmt: str = "{:,}") -> str:
    a, b = v
    return a if a == b and isinstance(a, str) else f"{fmt.format(a)} → {fmt.format(b)}"


def render_html(report: Report, title: str = "edgelite prune report") -> str:
    rows = "\n".join(
        f"<tr><td>{html.escape(r.layer)}</td><td>{html.escape(r.tensor)}</td>"
        f"<td>{r.op_type}</td><td>{_pair(r.channels_in)}</td><td>{_pair(r.channels_out)}</td>"
        f"<td>{_pair(r.sparsity, '{:.1%}')}</td><td>{_pair(r.macs)}</td>"
        f"<td>{_pair(r.params)}</td><td>{_pair(r.bytes)}</td><td>{r.sqnr_db:.2f}</td>"
        f"<td>{r.cosine:.5f}</td></tr>" for r in report.layers)
    left = "".join(f"<li><b>{html.escape(g['name'])}</b> ({g['channels']} channels): "
                   f"{html.escape(g['reason'])}</li>" for g in report.groups_left)
    pruned = "".join(f"<li>{html.escape(g['name'])}: {g['channels'][0]} → "
                     f"{g['channels'][1]} channels</li>" for g in report.groups_pruned)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    m0, m1 = report.macs
    b0, b1 = report.file_bytes
    return html_head(title) + f"""<p>{html.escape(report.mode)} pruning, {report.samples} calibration sample(s).</p>
<p>MACs {m0:,} → {m1:,} ({100 * m1 / max(m0, 1):.1f} %); parameters
{report.params[0]:,} → {report.params[1]:,}; file {b0:,} → {b1:,} bytes
({100 * b1 / max(b0, 1):.1f} %). Output SQNR {report.output_sqnr_db:.2f} dB, cosine
{report.output_cosine:.5f} against the unpruned model.</p>
{f"<h2>Groups pruned</h2><ul>{pruned}</ul>" if pruned else ""}
{f"<h2>Groups left alone</h2><ul>{left}</ul>" if left else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>SQNR per layer (worst first)</h2>
{sqnr_chart([Bar(r.layer, r.sqnr_db, f"{r.op_type}, output {r.tensor}") for r in report.layers],
            title="SQNR per layer against the unpruned model (worst first)", floor_db=None)}
<h2>Layers (worst SQNR first)</h2>
<table><tr><th>layer</th><th>output</th><th>type</th><th>in channels</th><th>out channels</th>
<th>sparsity</th><th>MACs</th><th>params</th><th>bytes</th><th>SQNR dB</th><th>cosine</th>
</tr>
{rows}
</table>
</body></html>
"""


def write_html(report: Report, path: str | Path) -> None:
    from edgelite.fileio import write_atomic

    write_atomic(Path(path), render_html(report).encode())


def worst_layer(graph: ir.Graph, rep: Report) -> LayerRow | None:
    """The layer that loses most: the largest fall of SQNR from the layers that feed it (walking
    back through the ops between them) to its own output. None when no layer was measured."""
    by_tensor = {r.tensor: r for r in rep.layers}
    producer = {id(t): op for op in graph.ops for t in op.outputs}
    cap = 200.0

    def upstream(op: ir.Op) -> float:
        best, todo, seen = cap, [t for t in op.inputs if t is not None and not t.is_const], set()
        while todo:
            t = todo.pop()
            if id(t) in seen:
                continue
            seen.add(id(t))
            if t.name in by_tensor:
                best = min(best, by_tensor[t.name].sqnr_db)
                continue
            src = producer.get(id(t))
            if src is not None:
                todo += [u for u in src.inputs if u is not None and not u.is_const]
        return best

    worst: tuple[float, LayerRow] | None = None
    for op in graph.ops:
        row = by_tensor.get(op.outputs[0].name) if op.outputs else None
        if row is None:
            continue
        drop = upstream(op) - row.sqnr_db
        if worst is None or drop > worst[0]:
            worst = (drop, row)
    return None if worst is None else worst[1]
