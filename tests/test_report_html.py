"""The HTML reports people look at, rendered by a real browser (Debian's chromium, headless):

- the quantize report of the digits CNN: screenshot taken (a PNG of the window's size, not
  blank, the chart's colours on it); the DOM chromium built holds the SQNR chart (axis, dB
  ticks, axis title, legend), the worst tensors' histograms (float vs quantized, legend) and the
  hint; the page logs no script error and has no script at all;
- the chart's geometry agrees with its own axis (each bar ends at its SQNR on the dB scale);
- the ranges and scales on the page are the ones in the .tflite as LiteRT reads it, and the
  observed ranges are ONNX Runtime's on the same samples;
- the hint is actionable: quantizing again with the `--int16 OP` it names raises that op's SQNR;
- the prune report shows the same chart; the same report renders to the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # chromium renders every page

from edgelite.cli import main
from edgelite.quantize import report_svg
from edgelite.quantize.report import render_html

REPO = Path(__file__).resolve().parents[1]
DIGITS = REPO / "examples" / "digits"
WIDTH, HEIGHT = 1200, 1600


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("chromium is not installed: apt-get install -y chromium "
                "(scripts/apt-packages.txt lists it)", pytrace=False)


def _browser(page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [_chromium(), "--headless", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
           "--enable-logging=stderr", "--v=0", *args, page.resolve().as_uri()]
    if os.geteuid() == 0:
        cmd.insert(1, "--no-sandbox")  # chromium refuses to run as root with its sandbox
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=120,
                          cwd=page.parent)


def _dom(page: Path) -> tuple[str, str]:
    res = _browser(page, "--dump-dom")
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout, res.stderr


def _screenshot(page: Path, png: Path) -> str:
    res = _browser(page, f"--screenshot={png}", f"--window-size={WIDTH},{HEIGHT}")
    assert res.returncode == 0 and png.is_file(), res.stderr[-2000:]
    return res.stderr


def _no_script_errors(log: str) -> None:
    # chromium logs console messages and uncaught exceptions as "CONSOLE(...)" / "Uncaught".
    bad = [ln for ln in log.splitlines() if "CONSOLE" in ln or "Uncaught" in ln
           or "Refused to" in ln or "net::ERR" in ln]
    assert not bad, "\n".join(bad)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("reports")
    # --equalize off: the page's ranges are compared with ONNX Runtime's on the ONNX model's
    # own tensors (equalized, a tensor's channels are rescaled and so is its range)
    assert main(["quantize", str(DIGITS / "digits_cnn.onnx"), "--calibration",
                 str(DIGITS / "calibration.npz"), "-o", str(out / "q.tflite"), "--equalize",
                 "off", "--report", str(out / "q.json"), "--report-html",
                 str(out / "q.html")]) == 0
    assert main(["prune", str(DIGITS / "digits_cnn.onnx"), "--calibration",
                 str(DIGITS / "calibration.npz"), "--channels", "0.3", "-o",
                 str(out / "p.tflite"), "--report-html", str(out / "p.html")]) == 0
    return out


def test_quantize_report_renders_in_a_browser_with_chart_histograms_and_hint(
        reports: Path) -> None:
    from PIL import Image

    page = reports / "q.html"
    assert "<script" not in page.read_text()
    png = reports / "q.png"
    log = _screenshot(page, png)
    _no_script_errors(log)
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size == (WIDTH, HEIGHT)
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    colours = {tuple(int(c) for c in px) for px in rgb[::7]}
    assert len(colours) > 50, "the screenshot is (nearly) blank"
    good = np.all(rgb == (0x27, 0xAE, 0x60), axis=1).sum()  # the "good" bars' green
    assert good > 2000, f"{good} pixels of the bars' colour on the screenshot"

    dom, log = _dom(page)
    _no_script_errors(log)
    svgs = re.findall(r"<svg[^>]*>.*?</svg>", dom, flags=re.DOTALL)
    chart = next(s for s in svgs if 'class="chart sqnr-chart"' in s)
    assert "SQNR (dB), higher is better" in chart  # the axis title
    ticks = re.findall(r'class="tick">([^<]+)</text>', chart)
    assert ticks[:3] == ["0", "20", "40"], ticks
    for legend in ("&lt; 20 dB poor", "20-30 dB fair", "≥ 30 dB good", "15 dB refusal floor"):
        assert legend in chart, legend
    report = json.loads((reports / "q.json").read_text())
    labels = re.findall(r'class="bar-label">([^<]+)</text>', chart)
    assert labels == [t["tensor"] for t in report["tensors"]]  # worst first
    hists = [s for s in svgs if 'class="chart histogram"' in s]
    assert len(hists) == 3
    for h, worst in zip(hists, report["tensors"]):
        assert f"{worst['tensor']}: values, float vs quantized" in h
        assert "float</text>" in h and "quantized (int8, dequantized)" in h
        assert "representable range" in h and 'class="quant-step"' in h
        assert (f'class="note">scale {worst["scale"]:.4g}, zero point {worst["zero_point"]}'
                '</text>') in h
    hint = re.search(r'<p class="hint">(.*?)</p>', dom, flags=re.DOTALL).group(1)
    assert "--int16" in hint and "--keep-float" in hint and "--auto-precision" in hint
    assert hint.endswith(report["hint"].replace("<", "&lt;"))


def test_chart_bars_end_at_their_sqnr_on_the_db_axis(reports: Path) -> None:
    dom, _ = _dom(reports / "q.html")
    chart = next(s for s in re.findall(r"<svg[^>]*>.*?</svg>", dom, flags=re.DOTALL)
                 if "sqnr-chart" in s)
    tick_x = {float(v): float(x) for x, v in
              re.findall(r'<text x="([\d.]+)"[^>]*class="tick">([\d.]+)</text>', chart)}
    x0, per_db = tick_x[0.0], (tick_x[20.0] - tick_x[0.0]) / 20.0
    top = max(tick_x)
    bars = re.findall(r'<rect class="bar" x="([\d.]+)"[^>]*width="([\d.]+)"[^>]*'
                      r'data-sqnr="(-?[\d.]+)"', chart)
    report = json.loads((reports / "q.json").read_text())
    assert len(bars) == len(report["tensors"])
    for (x, w, sqnr), row in zip(bars, report["tensors"]):
        assert float(x) == pytest.approx(x0, abs=0.05)
        assert float(sqnr) == pytest.approx(row["sqnr_db"], abs=0.005)
        end = x0 + min(max(row["sqnr_db"], 0.0), top) * per_db
        assert float(x) + float(w) == pytest.approx(end, abs=0.15), row["tensor"]


def test_ranges_and_scales_on_the_page_are_the_models_and_onnxruntimes(reports: Path) -> None:
    import onnx
    import onnxruntime as ort
    from ai_edge_litert.interpreter import Interpreter

    report = {t["tensor"]: t for t in json.loads((reports / "q.json").read_text())["tensors"]}
    lite = Interpreter(model_path=str(reports / "q.tflite"))
    details = {d["name"]: d for d in lite.get_tensor_details()}
    for name in ("relu3", "logits"):
        scale, zp = details[name]["quantization"]
        row = report[name]
        assert row["scale"] == pytest.approx(scale, rel=1e-5)
        assert row["zero_point"] == zp
        assert row["range"] == pytest.approx([scale * (-128 - zp), scale * (127 - zp)], rel=1e-5)

    m = onnx.load(DIGITS / "digits_cnn.onnx")
    m.graph.output.append(onnx.helper.make_tensor_value_info("relu3", onnx.TensorProto.FLOAT,
                                                             None))
    sess = ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"])
    with np.load(DIGITS / "calibration.npz") as z:
        xs = z["input"].astype(np.float32)
    relu3 = np.concatenate([sess.run(["relu3"], {"input": x[None]})[0] for x in xs])
    assert report["relu3"]["observed"] == pytest.approx([relu3.min(), relu3.max()], abs=1e-4)

    page = (reports / "q.html").read_text()
    r = report["relu3"]
    assert (f"<td>{r['observed'][0]:.4g} .. {r['observed'][1]:.4g}</td><td>{r['range'][0]:.4g}"
            f" .. {r['range'][1]:.4g}</td><td>{r['scale']:.4g}</td><td>{r['zero_point']}</td>"
            ) in page
    assert "int8 per-channel x" in r["weights"]


def test_the_hints_int16_op_raises_its_sqnr(reports: Path) -> None:
    report = json.loads((reports / "q.json").read_text())
    op = re.search(r"--int16 (\S+)", report["hint"]).group(1)
    before = next(t for t in report["tensors"] if t["op"] == op)
    assert main(["quantize", str(DIGITS / "digits_cnn.onnx"), "--calibration",
                 str(DIGITS / "calibration.npz"), "-o", str(reports / "q16.tflite"),
                 "--int16", op, "--equalize", "off", "--report", str(reports / "q16.json")]) == 0
    after = next(t for t in json.loads((reports / "q16.json").read_text())["tensors"]
                 if t["tensor"] == before["tensor"])
    assert after["dtype"] == "int16"
    assert after["sqnr_db"] > before["sqnr_db"] + 1.0, (before, after)  # 39.2 -> 41.4 dB


def test_prune_report_has_the_same_chart(reports: Path) -> None:
    page = reports / "p.html"
    png = reports / "p.png"
    _no_script_errors(_screenshot(page, png))
    from PIL import Image

    with Image.open(png) as im:
        assert im.size == (WIDTH, HEIGHT)
        rgb = np.asarray(im.convert("RGB")).reshape(-1, 3)
    assert len({tuple(int(c) for c in px) for px in rgb[::7]}) > 50
    dom, log = _dom(page)
    _no_script_errors(log)
    assert "SQNR per layer against the unpruned model" in dom
    assert "SQNR (dB), higher is better" in dom and "≥ 30 dB good" in dom
    assert dom.count('class="bar"') >= 3


def test_same_report_same_bytes(reports: Path) -> None:
    from edgelite.quantize import QuantizeOptions, quantize

    opts = QuantizeOptions(calibration=DIGITS / "calibration.npz", report=True,
                           equalize="off", progress=False)  # as the fixture's command
    first = render_html(quantize(DIGITS / "digits_cnn.onnx", opts).report)
    assert first == render_html(quantize(DIGITS / "digits_cnn.onnx", opts).report)
    assert first == (reports / "q.html").read_text()


def test_nice_ticks() -> None:
    assert report_svg.nice_ticks(0, 45, 6) == [0, 10, 20, 30, 40]
    assert report_svg.nice_ticks(-21.9, 23.6, 5) == [-20, -10, 0, 10, 20]
    assert report_svg.nice_ticks(0, 0.013, 4) == pytest.approx([0, 0.005, 0.01])
