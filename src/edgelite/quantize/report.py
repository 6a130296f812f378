"""Per-tensor quantization error: SQNR (dB) and cosine similarity against the float model.

Both models run on the same samples; each quantized tensor is dequantized with its own
parameters and compared with the float tensor it stands for. Statistics are accumulated over
all samples (signal and noise energies, not an average of per-sample ratios). Rendered as
JSON and as one self-contained HTML page with an inline SVG bar chart (no scripts, nothing
fetched).
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgelite import ir
from edgelite.quantize import params as P
from edgelite.quantize.annotate import op_key
from edgelite.quantize.data import Progress, Sample
from edgelite.quantize.runner import Runner

SQNR_CAP_DB = 200.0  # an exact tensor (noise 0) reports this instead of infinity


@dataclass
class TensorError:
    tensor: str  # the float tensor's name
    op: str  # the op producing it (op key), or "input"
    op_type: str
    dtype: str  # storage type in the quantized model
    sqnr_db: float
    cosine: float
    max_abs_error: float
    signal: float = field(default=0.0, repr=False)  # mean square of the float values
    noise: float = field(default=0.0, repr=False)  # mean square of the error


@dataclass
class Report:
    mode: str
    samples: int
    tensors: list[TensorError]  # worst SQNR first
    outputs: list[TensorError]  # in model output order
    float_bytes: int = 0
    quant_bytes: int = 0
    notes: list[str] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def output_sqnr_db(self) -> float:
        return min((t.sqnr_db for t in self.outputs), default=SQNR_CAP_DB)

    def as_json(self) -> dict[str, Any]:
        def row(t: TensorError) -> dict[str, Any]:
            d = asdict(t)
            d.pop("signal")
            d.pop("noise")
            return d

        return {
            "mode": self.mode,
            "samples": self.samples,
            "float_bytes": self.float_bytes,
            "quant_bytes": self.quant_bytes,
            "size_ratio": (self.quant_bytes / self.float_bytes) if self.float_bytes else None,
            "output_sqnr_db": self.output_sqnr_db,
            "outputs": [row(t) for t in self.outputs],
            "tensors": [row(t) for t in self.tensors],
            "precision_changes": self.changes,
            "notes": self.notes,
        }


class _Acc:
    def __init__(self) -> None:
        self.ss = self.nn = self.dot = self.qq = 0.0
        self.n = 0
        self.maxerr = 0.0

    def add(self, f: np.ndarray, q: np.ndarray) -> None:
        f64, q64 = f.astype(np.float64).ravel(), q.astype(np.float64).ravel()
        e = f64 - q64
        # einsum, not `@`: a 1-D `@` goes to the BLAS, whose threads spin against the
        # calibration workers (10 ms instead of 0.1 ms per 32K-element tensor on 2 cores:
        # 90 % of a report's time).
        self.ss += float(np.einsum("i,i->", f64, f64))
        self.nn += float(np.einsum("i,i->", e, e))
        self.dot += float(np.einsum("i,i->", f64, q64))
        self.qq += float(np.einsum("i,i->", q64, q64))
        self.n += f64.size
        if e.size:
            self.maxerr = max(self.maxerr, float(np.max(np.abs(e))))

    def sqnr(self) -> float:
        if self.nn == 0.0:
            return SQNR_CAP_DB
        if self.ss == 0.0:
            return -SQNR_CAP_DB
        return float(min(10.0 * math.log10(self.ss / self.nn), SQNR_CAP_DB))

    def cosine(self) -> float:
        if self.ss == 0.0 and self.qq == 0.0:
            return 1.0
        if self.ss == 0.0 or self.qq == 0.0:
            return 0.0
        return float(self.dot / math.sqrt(self.ss * self.qq))


def real_values(t: ir.Tensor, raw: np.ndarray) -> np.ndarray:
    """A tensor's values as reals (dequantized if it is quantized)."""
    if t.quant is not None and t.dtype in ("int8", "uint8", "int16", "int32"):
        return P.dequantize_values(raw, t.quant)
    return np.asarray(raw, dtype=np.float32)


def feed(graph: ir.Graph, sample: Sample) -> Sample:
    """Quantize float sample values for a model with integer inputs."""
    out: Sample = {}
    for t in graph.inputs:
        x = np.asarray(sample[t.name])
        if t.dtype in ("int8", "uint8", "int16") and x.dtype.kind == "f":
            x = P.quantize_values(x, t.quant, t.dtype)
        out[t.name] = x
    return out


def compare(float_graph: ir.Graph, float_model: bytes, quant_graph: ir.Graph, quant_model: bytes,
            source: dict[int, str], samples: Sequence[Sample], *, mode: str = "int8",
            backend: str = "micro", progress: bool = True) -> Report:
    """Run both models on ``samples`` and measure every quantized activation's error."""
    fr = Runner(float_model, float_graph, backend)
    qr = Runner(quant_model, quant_graph, backend)
    float_by_name = {t.name: t for t in float_graph.tensors()
                     if not t.is_const and t.dtype == "float32"}
    producers = {id(t): op for op in quant_graph.ops for t in op.outputs}
    # One quantized tensor per float tensor: a quantized one if any (that is where the error
    # is), the one carrying the float tensor's name first.
    candidates: dict[str, list[ir.Tensor]] = {}
    for t in quant_graph.tensors():
        name = source.get(id(t))
        if not t.is_const and name in float_by_name:
            candidates.setdefault(name, []).append(t)
    chosen = {name: min(ts, key=lambda t: (t.dtype == "float32", t.name != name))
              for name, ts in candidates.items()}
    accs = {name: _Acc() for name in chosen}
    bar = Progress(len(samples), "measuring error", progress)
    for s in samples:
        fr.run(s)
        qr.run(feed(quant_graph, s))
        for name, qt in chosen.items():
            accs[name].add(fr.tensor(float_by_name[name]), real_values(qt, qr.tensor(qt)))
        bar.step()

    def entry(name: str) -> TensorError:
        qt, acc = chosen[name], accs[name]
        op = producers.get(id(qt))
        return TensorError(
            tensor=name, op=op_key(op) if op else "input", op_type=op.type if op else "input",
            dtype=qt.dtype, sqnr_db=round(acc.sqnr(), 4), cosine=round(acc.cosine(), 6),
            max_abs_error=float(np.float32(acc.maxerr)),
            signal=acc.ss / max(acc.n, 1), noise=acc.nn / max(acc.n, 1),
        )

    rows = [entry(n) for n in chosen]
    by_name = {r.tensor: r for r in rows}
    outputs = [by_name[t.name] for t in float_graph.outputs if t.name in by_name]
    rows.sort(key=lambda r: (r.sqnr_db, r.tensor))
    return Report(mode=mode, samples=len(samples), tensors=rows, outputs=outputs,
                  float_bytes=len(float_model), quant_bytes=len(quant_model))


# ---- rendering ---------------------------------------------------------------------------

def write_json(report: Report, path: str | Path) -> None:
    from edgelite.fileio import write_atomic

    text = json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n"
    write_atomic(Path(path), text.encode())


def _bar_chart(rows: list[TensorError]) -> str:
    """Horizontal bars of SQNR per tensor, worst first, as inline SVG."""
    row_h, label_w, bar_w = 18, 260, 420
    top = max((min(r.sqnr_db, 80.0) for r in rows), default=1.0)
    top = max(top, 1.0)
    height = row_h * len(rows) + 30
    head = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 80}" '
            f'height="{height}" role="img" aria-label="SQNR per tensor">')
    parts = [head]
    for i, r in enumerate(rows):
        y = 10 + i * row_h
        v = max(min(r.sqnr_db, 80.0), 0.0)
        w = bar_w * v / top
        color = "#c0392b" if r.sqnr_db < 20 else ("#e67e22" if r.sqnr_db < 30 else "#27ae60")
        label = html.escape(f"{r.tensor} ({r.op_type}, {r.dtype})")
        parts.append(f'<text x="{label_w - 6}" y="{y + 13}" text-anchor="end" '
                     f'font-size="12">{label}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" '
                     f'fill="{color}"><title>{html.escape(r.tensor)}: {r.sqnr_db:.2f} dB'
                     f'</title></rect>')
        parts.append(f'<text x="{label_w + w + 4:.1f}" y="{y + 13}" font-size="11">'
                     f'{r.sqnr_db:.1f} dB</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(report: Report, title: str = "edgelite quantization report") -> str:
    data = report.as_json()
    rows = "\n".join(
        f"<tr><td>{html.escape(r.tensor)}</td><td>{html.escape(r.op)}</td>"
        f"<td>{html.escape(r.op_type)}</td><td>{r.dtype}</td><td>{r.sqnr_db:.2f}</td>"
        f"<td>{r.cosine:.5f}</td><td>{r.max_abs_error:.4g}</td></tr>"
        for r in report.tensors)
    outs = ", ".join(f"{html.escape(r.tensor)}: {r.sqnr_db:.2f} dB (cosine {r.cosine:.5f})"
                     for r in report.outputs)
    ratio = data["size_ratio"]
    size = (f"{report.quant_bytes:,} bytes quantized vs {report.float_bytes:,} float "
            f"({100 * ratio:.1f} %)" if ratio else "")
    changes = "".join(f"<li>{html.escape(json.dumps(c, sort_keys=True))}</li>"
                      for c in report.changes)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    return html_head(title) + f"""<p>Mode <b>{html.escape(report.mode)}</b>, {report.samples} sample(s). {size}</p>
<p>Outputs: {outs}</p>
{f"<h2>Precision changes</h2><ul>{changes}</ul>" if changes else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>SQNR per tensor (worst first)</h2>
{_bar_chart(report.tensors)}
<h2>Details</h2>
<table><tr><th>tensor</th><th>op</th><th>type</th><th>dtype</th><th>SQNR dB</th>
<th>cosine</th><th>max |error|</th></tr>
{rows}
</table>
</body></html>
"""


def html_head(title: str) -> str:
    """The top of a self-contained HTML report page (shared by quantize and prune reports)."""
    t = html.escape(title)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{t}</title>\n<style>\n"
            "body { font-family: sans-serif; margin: 2em; color: #222; }\n"
            "table { border-collapse: collapse; font-size: 13px; }\n"
            "td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }\n"
            "th { background: #f0f0f0; }\n"
            f"</style></head><body>\n<h1>{t}</h1>\n")


def write_html(report: Report, path: str | Path) -> None:
    from edgelite.fileio import write_atomic

    write_atomic(Path(path), render_html(report).encode())
