"""Charts for the HTML reports as inline SVG: no scripts, nothing fetched, deterministic text
(every coordinate printed with a fixed number of decimals, so the same report gives the same
bytes).

    sqnr_chart(rows)        horizontal bars of SQNR (dB) per layer on a dB axis, with ticks, a
                            grid, the refusal floor and a legend of the colour bands
    histogram_chart(hist)   a tensor's float values and its quantized values (dequantized)
                            over the same bins, the representable range marked, with a legend

Shared by the quantize and prune reports.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass

# SQNR bands: below POOR_DB a layer visibly damages the signal; FAIR_DB..: usually fine for
# classification; at GOOD_DB and above int8 is as good as it gets.
POOR_DB, GOOD_DB = 20.0, 30.0
COLORS = {"poor": "#c0392b", "fair": "#e67e22", "good": "#27ae60"}
FLOAT_COLOR, QUANT_COLOR = "#2e86c1", "#e67e22"
FONT = 'font-family="sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str  # the layer / tensor shown on the left
    sqnr_db: float
    detail: str = ""  # shown in the bar's tooltip


@dataclass(frozen=True)
class Histogram:
    tensor: str
    edges: list[float]  # len(bins) + 1, ascending
    float_counts: list[int]
    quant_counts: list[int]
    quant_range: tuple[float, float] | None = None  # what the quantized type can represent
    dtype: str = ""
    note: str = ""  # the parameters chosen, printed under the title


def band(sqnr_db: float) -> str:
    return "poor" if sqnr_db < POOR_DB else ("fair" if sqnr_db < GOOD_DB else "good")


def _f(v: float) -> str:
    return f"{v:.1f}"


def _text(x: float, y: float, s: str, *, anchor: str = "start", size: int = 12,
          extra: str = "") -> str:
    return (f'<text x="{_f(x)}" y="{_f(y)}" text-anchor="{anchor}" font-size="{size}" '
            f'{FONT}{" " + extra if extra else ""}>{html.escape(s)}</text>')


def _short(label: str, limit: int = 38) -> str:
    return label if len(label) <= limit else label[:limit - 1] + "…"


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2 or 5 times a power of ten) covering [lo, hi]."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo]
    raw = (hi - lo) / max(count, 1)
    mag = 10.0 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 5, 10) if m * mag >= raw)
    first = math.ceil(lo / step - 1e-9) * step
    ticks, v = [], first
    while v <= hi + step * 1e-9:
        ticks.append(0.0 if abs(v) < step * 1e-9 else v)
        v = first + step * len(ticks)
    return ticks


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> list[str]:
    """One row of legend entries: (svg swatch, label)."""
    out = ['<g class="legend" aria-label="legend">']
    for swatch, label in items:
        out.append(swatch.format(x=_f(x), y=_f(y - 9), x2=_f(x + 14), ym=_f(y - 4)))
        out.append(_text(x + 19, y, label, size=11))
        x += 19 + 6.6 * len(label) + 18
    out.append("</g>")
    return out


def _box(color: str, opacity: str = "1") -> str:
    return ('<rect x="{x}" y="{y}" width="14" height="10" fill="' + color
            + f'" fill-opacity="{opacity}"/>')


def _dash(color: str) -> str:
    return ('<line x1="{x}" y1="{ym}" x2="{x2}" y2="{ym}" stroke="' + color
            + '" stroke-width="2" stroke-dasharray="4 3"/>')


def sqnr_chart(bars: Sequence[Bar], *, title: str, floor_db: float | None = 15.0,
               max_rows: int = 60) -> str:
    """Horizontal bars, one per row in the given order, on a dB axis starting at 0."""
    shown = list(bars[:max_rows])
    row_h, label_w, plot_w, top = 18, 270, 440, 40
    finite = [min(b.sqnr_db, 200.0) for b in shown]
    hi = max([v for v in finite] + [floor_db or 0.0, 10.0])
    hi = min(hi, 100.0)  # an exact or near-exact tensor's bar stops at the axis end
    step = nice_ticks(0.0, hi, 6)[1]
    ticks = [step * i for i in range(math.ceil(hi / step - 1e-9) + 1)]
    axis_max = ticks[-1]
    scale = plot_w / axis_max
    plot_h = row_h * max(len(shown), 1)
    axis_y = top + plot_h
    width, height = label_w + plot_w + 70, axis_y + 78
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart sqnr-chart" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{html.escape(title)}">'),
           _text(label_w, 16, title, size=13, extra='font-weight="bold"')]
    out.append('<g class="grid">')
    for t in ticks:
        x = label_w + t * scale
        out.append(f'<line x1="{_f(x)}" y1="{top - 4}" x2="{_f(x)}" y2="{axis_y}" '
                   f'stroke="#ddd" stroke-width="1"/>')
    out.append("</g>")
    for i, b in enumerate(shown):
        y = top + i * row_h
        v = min(max(b.sqnr_db, 0.0), axis_max)
        w = v * scale
        tip = f"{b.label}: {b.sqnr_db:.2f} dB" + (f" ({b.detail})" if b.detail else "")
        out.append(_text(label_w - 6, y + 13, _short(b.label), anchor="end",
                         extra='class="bar-label"'))
        out.append(f'<rect class="bar" x="{label_w}" y="{y + 2}" width="{_f(w)}" '
                   f'height="{row_h - 4}" fill="{COLORS[band(b.sqnr_db)]}" '
                   f'data-sqnr="{b.sqnr_db:.2f}"><title>{html.escape(tip)}</title></rect>')
        shown_v = f"{b.sqnr_db:.1f} dB" if b.sqnr_db < 200.0 else "exact"
        out.append(_text(label_w + w + 4, y + 13, shown_v, size=11))
    if floor_db is not None and floor_db <= axis_max:
        x = label_w + floor_db * scale
        out.append(f'<line class="floor" x1="{_f(x)}" y1="{top - 4}" x2="{_f(x)}" '
                   f'y2="{axis_y}" stroke="#555" stroke-width="1.5" stroke-dasharray="4 3"/>')
    # axes: y axis at 0 dB, x axis with ticks and their dB values, the axis title
    out.append(f'<g class="axis x-axis"><line x1="{label_w}" y1="{top - 4}" x2="{label_w}" '
               f'y2="{axis_y}" stroke="#222"/>')
    out.append(f'<line x1="{label_w}" y1="{axis_y}" x2="{_f(label_w + axis_max * scale)}" '
               f'y2="{axis_y}" stroke="#222"/>')
    for t in ticks:
        x = label_w + t * scale
        out.append(f'<line x1="{_f(x)}" y1="{axis_y}" x2="{_f(x)}" y2="{axis_y + 5}" '
                   f'stroke="#222"/>')
        out.append(_text(x, axis_y + 18, f"{t:g}", anchor="middle", size=11,
                         extra='class="tick"'))
    out.append(_text(label_w + axis_max * scale / 2, axis_y + 36, "SQNR (dB), higher is better",
                     anchor="middle", extra='class="axis-title"'))
    out.append("</g>")
    items = [(_box(COLORS["poor"]), f"< {POOR_DB:g} dB poor"),
             (_box(COLORS["fair"]), f"{POOR_DB:g}-{GOOD_DB:g} dB fair"),
             (_box(COLORS["good"]), f"≥ {GOOD_DB:g} dB good")]
    if floor_db is not None:
        items.append((_dash("#555"), f"{floor_db:g} dB refusal floor"))
    out += _legend(label_w - 150, axis_y + 62, items)
    if len(bars) > len(shown):
        out.append(_text(label_w - 6, axis_y + 18, f"(+{len(bars) - len(shown)} more)",
                         anchor="end", size=11))
    out.append("</svg>")
    return "\n".join(out)


def histogram_chart(h: Histogram) -> str:
    """The float values' histogram (bars) and the quantized values' (a step line) on one
    value axis; dashed lines at the range the quantized type represents."""
    left, top, plot_w, plot_h = 60, 46, 420, 150
    width, height = left + plot_w + 30, top + plot_h + 80
    lo, hi = h.edges[0], h.edges[-1]
    span = (hi - lo) or 1.0
    peak = max(h.float_counts + h.quant_counts + [1])
    yticks = nice_ticks(0.0, peak, 4)
    ymax = max(yticks[-1], peak)

    def xs(v: float) -> float:
        return left + (v - lo) / span * plot_w

    def ys(c: float) -> float:
        return top + plot_h - c / ymax * plot_h

    title = f"{h.tensor}: values, float vs quantized"
    out = [(f'<svg xmlns="http://www.w3.org/2000/svg" class="chart histogram" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
           f'aria-label="{html.escape(title)}">'),
           _text(left, 16, _short(title, 70), size=13, extra='font-weight="bold"')]
    if h.note:
        out.append(_text(left, 33, h.note, size=11, extra='class="note"'))
    for c, a, b in zip(h.float_counts, h.edges, h.edges[1:]):
        if c:
            out.append(f'<rect class="float-bin" x="{_f(xs(a))}" y="{_f(ys(c))}" '
                       f'width="{_f(max(xs(b) - xs(a) - 0.5, 0.5))}" '
                       f'height="{_f(plot_h - (ys(c) - top))}" fill="{FLOAT_COLOR}" '
                       f'fill-opacity="0.55"/>')
    step = [f"M{_f(xs(lo))},{_f(ys(0))}"]
    for c, a, b in zip(h.quant_counts, h.edges, h.edges[1:]):
        step.append(f"L{_f(xs(a))},{_f(ys(c))} L{_f(xs(b))},{_f(ys(c))}")
    step.append(f"L{_f(xs(hi))},{_f(ys(0))}")
    out.append(f'<path class="quant-step" d="{" ".join(step)}" fill="none" '
               f'stroke="{QUANT_COLOR}" stroke-width="1.5"/>')
    if h.quant_range is not None:
        for v in h.quant_range:
            if lo <= v <= hi:
                out.append(f'<line class="qrange" x1="{_f(xs(v))}" y1="{top}" x2="{_f(xs(v))}" '
                           f'y2="{top + plot_h}" stroke="#555" stroke-dasharray="4 3"/>')
    out.append(f'<g class="axis"><line x1="{left}" y1="{top}" x2="{left}" '
               f'y2="{top + plot_h}" stroke="#222"/><line x1="{left}" y1="{top + plot_h}" '
               f'x2="{left + plot_w}" y2="{top + plot_h}" stroke="#222"/>')
    for t in nice_ticks(lo, hi, 5):
        x = xs(t)
        out.append(f'<line x1="{_f(x)}" y1="{top + plot_h}" x2="{_f(x)}" '
                   f'y2="{top + plot_h + 5}" stroke="#222"/>')
        out.append(_text(x, top + plot_h + 17, f"{t:.3g}", anchor="middle", size=10,
                         extra='class="tick"'))
    for t in yticks:
        y = ys(t)
        out.append(f'<line x1="{left - 5}" y1="{_f(y)}" x2="{left}" y2="{_f(y)}" stroke="#222"/>')
        out.append(_text(left - 8, y + 4, f"{t:g}", anchor="end", size=10, extra='class="tick"'))
    out.append(_text(left + plot_w / 2, top + plot_h + 33, "value", anchor="middle",
                     extra='class="axis-title"'))
    out.append(_text(14, top + plot_h / 2, "count", anchor="middle",
                     extra=f'class="axis-title" transform="rotate(-90 14 {_f(top + plot_h / 2)})"'))
    out.append("</g>")
    items = [(_box(FLOAT_COLOR, "0.55"), "float"),
             (_dash(QUANT_COLOR).replace(' stroke-dasharray="4 3"', ""),
              f"quantized ({h.dtype}, dequantized)" if h.dtype else "quantized")]
    if h.quant_range is not None:
        items.append((_dash("#555"), "representable range"))
    out += _legend(left, top + plot_h + 60, items)
    out.append("</svg>")
    return "\n".join(out)
