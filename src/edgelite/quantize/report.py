"""Per-tensor quantization error: SQNR (dB) and cosine similarity against the float model.

Both models run on the same samples; each quantized tensor is dequantized with its own
parameters and compared with the float tensor it stands for. Statistics are accumulated over
all samples (signal and noise energies, not an average of per-sample ratios). Each row also
carries the range and scale chosen for the tensor (and its op's weight scales) beside the range
the float values actually took; the worst tensors keep a histogram of their float and quantized
values. Rendered as JSON and as one self-contained HTML page: the per-tensor SQNR chart, the
histograms (report_svg: inline SVG, no scripts, nothing fetched), the table, and one line on
what to try (--int16, --keep-float, --auto-precision).
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
from edgelite.quantize.report_svg import (
    GOOD_DB,
    POOR_DB,
    Bar,
    Histogram,
    histogram_chart,
    sqnr_chart,
)
from edgelite.quantize.runner import Runner, in_sample_order, workers

SQNR_CAP_DB = 200.0  # an exact tensor (noise 0) reports this instead of infinity
HIST_TENSORS = 3  # histograms for the worst tensors
HIST_VALUES = 4096  # values kept per tensor for them (evenly strided, first samples first)
HIST_BINS = 48


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
    observed: tuple[float, float] | None = None  # min, max of the float values seen
    scale: float | None = None  # the quantized tensor's (per-tensor) scale and zero point
    zero_point: int | None = None
    range: tuple[float, float] | None = None  # the reals its dtype represents at that scale
    weights: str = ""  # the producing op's quantized constants: dtype, granularity, scales


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
    histograms: list[Histogram] = field(default_factory=list)  # the worst tensors first

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
            "hint": hint(self),
            "histograms": [asdict(h) for h in self.histograms],
        }


class _Part:
    """One sample's sums for one tensor (computed on a worker thread, see compare)."""

    __slots__ = ("ss", "nn", "dot", "qq", "n", "maxerr", "lo", "hi", "kept_f", "kept_q")

    def __init__(self, f: np.ndarray, q: np.ndarray, keep: int) -> None:
        # float32 values, float64 sums (einsum's dtype: no float64 copies of the tensors)
        f32 = np.asarray(f, np.float32).ravel()
        q32 = np.asarray(q, np.float32).ravel()
        self.n = f32.size
        self.lo = float(f32.min()) if f32.size else math.inf
        self.hi = float(f32.max()) if f32.size else -math.inf
        # values for a histogram: evenly strided over the sample, at most `keep`
        stride = -(-f32.size // keep) if f32.size and keep else 0
        self.kept_f = f32[::stride][:keep].copy() if stride else None
        self.kept_q = q32[::stride][:keep].copy() if stride else None
        e = f32 - q32
        # einsum, not `@`: a 1-D `@` goes to the BLAS, whose threads spin against the
        # calibration workers (10 ms instead of 0.1 ms per 32K-element tensor on 2 cores:
        # 90 % of a report's time).
        self.ss = float(np.einsum("i,i->", f32, f32, dtype=np.float64))
        self.nn = float(np.einsum("i,i->", e, e, dtype=np.float64))
        self.dot = float(np.einsum("i,i->", f32, q32, dtype=np.float64))
        self.qq = float(np.einsum("i,i->", q32, q32, dtype=np.float64))
        self.maxerr = float(np.max(np.abs(e))) if e.size else 0.0


class _Acc:
    def __init__(self, keep: int = 0) -> None:
        self.ss = self.nn = self.dot = self.qq = 0.0
        self.n = 0
        self.maxerr = 0.0
        self.lo, self.hi = math.inf, -math.inf
        self.keep = keep  # values to keep for a histogram
        self.kept_f: list[np.ndarray] = []
        self.kept_q: list[np.ndarray] = []

    def add(self, f: np.ndarray, q: np.ndarray) -> None:
        self.merge(_Part(f, q, self.keep))

    def merge(self, part: _Part) -> None:
        """Add one sample's sums (samples merged in order: the totals do not depend on how
        many workers computed them)."""
        self.lo, self.hi = min(self.lo, part.lo), max(self.hi, part.hi)
        need = self.keep - sum(k.size for k in self.kept_f)
        if need > 0 and part.kept_f is not None:
            self.kept_f.append(part.kept_f[:need])
            self.kept_q.append(part.kept_q[:need])
        self.ss += part.ss
        self.nn += part.nn
        self.dot += part.dot
        self.qq += part.qq
        self.n += part.n
        self.maxerr = max(self.maxerr, part.maxerr)

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
    accs = {name: _Acc(HIST_VALUES) for name in chosen}
    bar = Progress(len(samples), "measuring error", progress)

    def one(pair: tuple[Runner, Runner], s: Sample) -> dict[str, _Part]:
        f_run, q_run = pair
        f_run.run(s)
        q_run.run(feed(quant_graph, s))
        return {name: _Part(f_run.tensor(float_by_name[name]),
                            real_values(qt, q_run.tensor(qt)), HIST_VALUES)
                for name, qt in chosen.items()}

    # Samples side by side on worker threads (each with its own pair of interpreters; the
    # ctypes calls and numpy's sums release the GIL), merged in sample order.
    pairs = [(fr, qr)] + [(Runner(float_model, float_graph, backend),
                           Runner(quant_model, quant_graph, backend))
                          for _ in range(workers(backend, len(samples)) - 1)]
    for parts in in_sample_order(pairs, samples, one):
        for name, part in parts.items():
            accs[name].merge(part)
        bar.step()

    def entry(name: str) -> TensorError:
        qt, acc = chosen[name], accs[name]
        op = producers.get(id(qt))
        scale, zp, span = _scale(qt)
        return TensorError(
            tensor=name, op=op_key(op) if op else "input", op_type=op.type if op else "input",
            dtype=qt.dtype, sqnr_db=round(acc.sqnr(), 4), cosine=round(acc.cosine(), 6),
            max_abs_error=float(np.float32(acc.maxerr)),
            signal=acc.ss / max(acc.n, 1), noise=acc.nn / max(acc.n, 1),
            observed=(_g(acc.lo), _g(acc.hi)) if acc.n else None,
            scale=scale, zero_point=zp, range=span,
            weights=_weights(op) if op else "",
        )

    rows = [entry(n) for n in chosen]
    by_name = {r.tensor: r for r in rows}
    outputs = [by_name[t.name] for t in float_graph.outputs if t.name in by_name]
    rows.sort(key=lambda r: (r.sqnr_db, r.tensor))
    hists = [_histogram(r, accs[r.tensor]) for r in rows
             if r.sqnr_db < SQNR_CAP_DB and accs[r.tensor].kept_f][:HIST_TENSORS]
    return Report(mode=mode, samples=len(samples), tensors=rows, outputs=outputs,
                  float_bytes=len(float_model), quant_bytes=len(quant_model), histograms=hists)


def model_outputs(model: bytes, graph: ir.Graph, samples: Sequence[Sample],
                  backend: str = "micro") -> list[list[np.ndarray]]:
    """Every sample's outputs of a model, as reals (only the outputs kept while it runs)."""
    runners = [Runner(model, graph, backend, keep_tensors=False)
               for _ in range(workers(backend, len(samples)))]

    def one(r: Runner, s: Sample) -> list[np.ndarray]:
        r.run(feed(graph, s))
        return [real_values(t, r.output(k)).astype(np.float64)
                for k, t in enumerate(graph.outputs)]

    return list(in_sample_order(runners, samples, one))


def output_sqnr(reference: Sequence[Sequence[np.ndarray]], quant_graph: ir.Graph,
                quant_model: bytes, samples: Sequence[Sample], backend: str = "micro") -> float:
    """The lowest output SQNR of a quantized model against ``reference`` (model_outputs of
    the float model on the same samples): what compare() reports as output_sqnr_db, for the
    price of running the quantized model alone."""
    got = model_outputs(quant_model, quant_graph, samples, backend)
    worst = SQNR_CAP_DB
    for k in range(len(quant_graph.outputs)):
        acc = _Acc()
        for ref, out in zip(reference, got):
            acc.add(ref[k], out[k].reshape(ref[k].shape))
        worst = min(worst, acc.sqnr())
    return worst


def _g(v: float) -> float:
    """A float as JSON and the page print it: 6 significant digits (stable across runs)."""
    return float(f"{v:.6g}")


def _scale(t: ir.Tensor) -> tuple[float | None, int | None, tuple[float, float] | None]:
    """A quantized activation's per-tensor scale, zero point and the reals it can represent."""
    if t.quant is None or t.dtype not in ("int8", "uint8", "int16") or t.quant.scale.size != 1:
        return None, None, None
    info = np.iinfo(t.dtype)
    s, z = float(t.quant.scale[0]), int(t.quant.zero_point[0])
    return _g(s), z, (_g(s * (info.min - z)), _g(s * (info.max - z)))


def _weights(op: ir.Op) -> str:
    """The op's quantized constants (weights, not biases) in one phrase."""
    parts = []
    for t in op.inputs:
        if t is None or not t.is_const or t.quant is None or t.dtype not in ("int8", "int16"):
            continue
        sc = t.quant.scale
        kind = f"per-channel x{sc.size}" if sc.size > 1 else "per-tensor"
        span = (f"scale {sc.min():.3g}..{sc.max():.3g}" if sc.size > 1
                else f"scale {sc[0]:.3g}")
        parts.append(f"{t.dtype} {kind}, {span}")
    return "; ".join(parts)


def _histogram(row: TensorError, acc: _Acc) -> Histogram:
    f = np.concatenate(acc.kept_f)
    q = np.concatenate(acc.kept_q)
    lo, hi = float(min(f.min(), q.min())), float(max(f.max(), q.max()))
    if row.range is not None:  # show the representable range's ends near the values
        span = hi - lo
        if row.range[0] >= lo - 3 * span:
            lo = min(lo, row.range[0])
        if row.range[1] <= hi + 3 * span:
            hi = max(hi, row.range[1])
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    edges = np.linspace(lo, hi, HIST_BINS + 1)
    fc, _ = np.histogram(f, edges)
    qc, _ = np.histogram(q, edges)
    return Histogram(tensor=row.tensor, edges=[_g(e) for e in edges],
                     float_counts=[int(c) for c in fc], quant_counts=[int(c) for c in qc],
                     quant_range=row.range, dtype=row.dtype,
                     note=(f"scale {row.scale:.4g}, zero point {row.zero_point}"
                           if row.scale is not None else ""))


def hint(report: Report) -> str:
    """One line on what to try next, from the worst tensors and the output SQNR."""
    out_db = report.output_sqnr_db
    worst = []
    for r in report.tensors:
        quantized = ("int16",) if report.mode == "int16x8" else ("int8", "uint8")
        if r.op != "input" and r.dtype in quantized and r.op not in worst:
            worst.append(r.op)
        if len(worst) == 2:
            break
    if report.mode not in ("int8", "int16x8"):
        return (f"Output SQNR {out_db:.1f} dB in {report.mode} mode; for calibrated integer "
                "activations try --mode int8 (then --int16 / --keep-float on the worst ops, or "
                "--auto-precision 35).")
    target = max(35, 5 * math.ceil((out_db + 5) / 5)) if out_db < 60 else 60
    head = (f"Output SQNR {out_db:.1f} dB" if out_db < SQNR_CAP_DB else "Outputs exact")
    quality = "low" if out_db < POOR_DB else ("fair" if out_db < GOOD_DB else "good")
    ops = " ".join(f"--int16 {w}" for w in worst)
    keep = " ".join(f"--keep-float {w}" for w in worst)
    if report.mode == "int16x8" or not worst:
        floats = f"{keep} (float for the worst ops), or " if keep else ""
        return (f"{head} ({quality}). To try: {floats}--auto-precision {target} (raises the "
                f"noisiest ops until the output reaches {target} dB).")
    return (f"{head} ({quality}). To try: {ops} (int16 activations for the worst ops), "
            f"{keep} (float), or --auto-precision {target} (raises the noisiest ops until the "
            f"output reaches {target} dB).")


# ---- rendering ---------------------------------------------------------------------------

def write_json(report: Report, path: str | Path) -> None:
    from edgelite.fileio import write_atomic

    text = json.dumps(report.as_json(), indent=2, sort_keys=True) + "\n"
    write_atomic(Path(path), text.encode())


def _range(v: tuple[float, float] | None) -> str:
    return f"{v[0]:.4g} .. {v[1]:.4g}" if v is not None else ""


def render_html(report: Report, title: str = "edgelite quantization report") -> str:
    data = report.as_json()
    rows = "\n".join(
        f"<tr><td>{html.escape(r.tensor)}</td><td>{html.escape(r.op)}</td>"
        f"<td>{html.escape(r.op_type)}</td><td>{r.dtype}</td><td>{r.sqnr_db:.2f}</td>"
        f"<td>{r.cosine:.5f}</td><td>{r.max_abs_error:.4g}</td>"
        f"<td>{_range(r.observed)}</td><td>{_range(r.range)}</td>"
        f"<td>{'' if r.scale is None else f'{r.scale:.4g}'}</td>"
        f"<td>{'' if r.zero_point is None else r.zero_point}</td>"
        f"<td>{html.escape(r.weights)}</td></tr>"
        for r in report.tensors)
    outs = ", ".join(f"{html.escape(r.tensor)}: {r.sqnr_db:.2f} dB (cosine {r.cosine:.5f})"
                     for r in report.outputs)
    ratio = data["size_ratio"]
    size = (f"{report.quant_bytes:,} bytes quantized vs {report.float_bytes:,} float "
            f"({100 * ratio:.1f} %)" if ratio else "")
    changes = "".join(f"<li>{html.escape(json.dumps(c, sort_keys=True))}</li>"
                      for c in report.changes)
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in report.notes)
    chart = sqnr_chart([Bar(r.tensor, r.sqnr_db, f"{r.op_type}, {r.dtype}")
                        for r in report.tensors],
                       title="SQNR per tensor against the float model (worst first)")
    hists = "\n".join(histogram_chart(h) for h in report.histograms)
    return html_head(title) + f"""<p>Mode <b>{html.escape(report.mode)}</b>, {report.samples} sample(s). {size}</p>
<p>Outputs: {outs}</p>
<p class="hint"><b>What to try:</b> {html.escape(data["hint"])}</p>
{f"<h2>Precision changes</h2><ul>{changes}</ul>" if changes else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<h2>SQNR per tensor (worst first)</h2>
{chart}
{f"<h2>Worst tensors: float vs quantized values</h2>{chr(10)}{hists}" if hists else ""}
<h2>Details</h2>
<p>Observed: the float values' range on these samples; range, scale, zero point: what the
quantized tensor represents (values outside the range are clipped); weights: the producing op's
quantized constants.</p>
<table><tr><th>tensor</th><th>op</th><th>type</th><th>dtype</th><th>SQNR dB</th>
<th>cosine</th><th>max |error|</th><th>observed</th><th>range</th><th>scale</th>
<th>zero point</th><th>weights</th></tr>
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
            "svg.chart { display: block; margin: 0.5em 0 1.5em; }\n"
            ".hint { background: #fdf6e3; border-left: 4px solid #e67e22; padding: 6px 10px; }\n"
            f"</style></head><body>\n<h1>{t}</h1>\n")


def write_html(report: Report, path: str | Path) -> None:
    from edgelite.fileio import write_atomic

    write_atomic(Path(path), render_html(report).encode())
