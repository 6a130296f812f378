"""Plain-text tables for a BenchReport (the JSON form is BenchReport.as_json)."""

from __future__ import annotations

from edgelite.bench.api import BenchReport, PeerRow


def _table(headers: list[str], rows: list[list[str]], right: set[int]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w)
                         for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _ms(v: float | None) -> str:
    if v is None:
        return "-"
    return f"{v:.3f}" if v < 10 else f"{v:.1f}"


def render_profile(report: BenchReport) -> list[str]:
    p = report.profile
    if p is None:
        return []
    overhead = (f", about {report.callback_overhead_us:.1f} us of callback overhead per op "
                "included" if report.callback_overhead_us is not None else "")
    out = ["", (f"per-op profile: medians of a separate pass of {p.invokes} invokes with a "
                f"per-op callback{overhead};"), "the latency figures above were measured without it"]
    nested = any(o.median_us != o.self_median_us for o in p.ops)
    headers = ["sg", "#", "op", "median us", "%", "cum %"] + (["self us"] if nested else [])
    rows, cum = [], 0.0
    for o in p.ops:
        cum += o.percent
        rows.append([str(o.subgraph), str(o.index), o.op, f"{o.median_us:.1f}",
                     f"{o.percent:.1f}", f"{cum:.1f}"]
                    + ([f"{o.self_median_us:.1f}"] if nested else []))
    out += _table(headers, rows, {0, 1, 3, 4, 5, 6})
    out += ["", "by op type:"]
    rows, cum = [], 0.0
    for t in p.by_type:
        cum += t.percent
        rows.append([t.op, str(t.count), f"{t.us_per_invoke:.1f}", f"{t.percent:.1f}", f"{cum:.1f}"])
    out += _table(["op type", "count", "us per invoke", "%", "cum %"], rows, {1, 2, 3, 4})
    return out


def render_compare(rows: list[PeerRow], runs_note: str, threads: int = 1) -> list[str]:
    if not rows:
        return []
    table = []
    for r in rows:
        if r.latency is None:  # not installed or failed: the row says why (and how to fix it)
            table.append([r.label, "-", "-", _ms(r.init_ms), "-", r.status])
            continue
        agree = "-" if r.key == "edgelite" else (r.agreement.text() if r.agreement else "-")
        table.append([r.label, _ms(r.latency.p50_ms), f"{r.ratio:.2f}x", _ms(r.init_ms),
                      f"{r.arena_bytes:,}" if r.arena_bytes else "-", agree])
    each = "one thread each" if threads == 1 else (
        f"{threads} threads each" + (", TFLite Micro one" if any(r.key == "tflm" for r in rows)
                                     else ""))
    out = ["", (f"compare ({runs_note}; {each}, same input; time / edgelite: "
                "below 1 means faster than edgelite):")]
    out += _table(["runtime", "median ms", "time / edgelite", "init ms", "arena bytes",
                   "outputs vs edgelite"], table, {1, 2, 3, 4})
    return out


def render_text(report: BenchReport) -> str:
    lat = report.latency
    out = [
        f"model     {report.model} ({report.model_bytes:,} bytes)",
        f"input     {'; '.join(report.inputs)}: {report.input_source}",
        *[f"note      {n}" for n in report.notes],
        f"arena     {report.arena_bytes:,} bytes (runtime_micro, greedy planner)",
        f"kernels   {report.kernels} (runtime_micro, chosen for this CPU at init)",
        (f"init      {_ms(report.init_ms)} ms (model checks, op resolution, planning; arena "
         "size given)"),
        (f"latency   {lat.runs} runs after {report.warmup} warmup, ms: min {_ms(lat.min_ms)}  "
         f"p50 {_ms(lat.p50_ms)}  p90 {_ms(lat.p90_ms)}  p99 {_ms(lat.p99_ms)}  "
         f"mean {_ms(lat.mean_ms)}"),
    ]
    out += render_compare(report.compare,
                          f"interleaved round-robin, {lat.runs} runs after {report.warmup} "
                          "warmup", report.threads)
    out += render_profile(report)
    return "\n".join(out)
