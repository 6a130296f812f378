"""The edgelite demo: convert -> quantize -> run -> bench on the digits example, with accuracy.

    python examples/demo.py [--out DIR]

Every step is an `edgelite` CLI command, printed before it runs. The trained model and its
held-out digits come from examples/digits/ (see its README). Accuracy on the 500 held-out digits is
printed for each model the demo produces, measured twice: by our runtime through `edgelite run`,
and by LiteRT (the TFLite interpreter) loading the same .tflite file unchanged. `edgelite eval`
compares int8 with float, and `edgelite bench` times each model on runtime_micro beside LiteRT,
TFLite Micro and ONNX Runtime on a real held-out digit.

A command that this edgelite version does not have yet is skipped with a note, and a step that
fails prints the error and the demo goes on, so the demo shows what works today; the exit code
is non-zero if any step failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DIGITS = HERE / "digits"
FLOAT_ACCURACY_ORT = "97.8 %"  # examples/digits/README.md, ONNX Runtime on the same digits


def edgelite_command() -> tuple[list[str], dict[str, str]]:
    """The edgelite this Python has (an installed wheel), else this checkout's src/."""
    env = dict(os.environ)
    try:
        import edgelite

        root = str(Path(edgelite.__file__).resolve().parents[1])
    except ImportError:
        root = str(REPO / "src")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH", "")) if p)
    return [sys.executable, "-m", "edgelite.cli"], env


class Demo:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.cmd, self.env = edgelite_command()
        self.failures: list[str] = []

    def has(self, command: str) -> bool:
        probe = subprocess.run([*self.cmd, command, "--help"], env=self.env,
                               capture_output=True, text=True)
        return probe.returncode == 0

    def step(self, title: str, args: list[str], produces: Path | None = None) -> bool:
        """Run `edgelite ARGS`; True when it succeeded (and wrote ``produces``)."""
        print(f"\n== {title}")
        if not self.has(args[0]):
            print(f"   skipped: this edgelite has no `{args[0]}` command yet")
            return False
        print("   $ edgelite " + " ".join(_short(a, self.out) for a in args), flush=True)
        done = subprocess.run([*self.cmd, *args], env=self.env, text=True, capture_output=True)
        for line in (done.stdout + done.stderr).rstrip().splitlines():
            if not line.startswith("INFO: Created TensorFlow Lite"):  # LiteRT's banner
                print("   " + line)
        if done.returncode != 0 or (produces is not None and not produces.exists()):
            self.failures.append(title)
            print(f"   FAILED (exit {done.returncode})")
            return False
        return True


def _short(arg: str, out: Path) -> str:
    """Print paths relative to the repository or the output directory, to keep lines short."""
    for base, label in ((out, "$OUT"), (REPO, ".")):
        try:
            return f"{label}/{Path(arg).relative_to(base)}" if Path(arg).is_absolute() else arg
        except ValueError:
            continue
    return arg


def to_model_input(x: np.ndarray, detail: dict) -> np.ndarray:
    """One NCHW float sample -> the .tflite input: its layout (NHWC if the converter moved to
    TFLite's layout) and its type (quantized with the input's scale/zero point if integer)."""
    shape = tuple(int(d) for d in detail["shape"])
    if x.shape != shape:
        x = x.transpose(0, 2, 3, 1)
    if detail["dtype"] in (np.int8, np.uint8, np.int16):
        scale, zero = detail["quantization"]
        info = np.iinfo(detail["dtype"])
        x = np.clip(np.round(x / scale) + zero, info.min, info.max)
    return np.ascontiguousarray(x, dtype=detail["dtype"])


def from_model_output(y: np.ndarray, detail: dict) -> np.ndarray:
    if detail["dtype"] != np.float32:
        scale, zero = detail["quantization"]
        return (y.astype(np.float32) - zero) * scale
    return y


def litert_accuracy(model: Path, data: dict[str, np.ndarray]) -> str:
    """Top-1 accuracy of ``model`` in LiteRT's reference kernels, the conformance oracle."""
    from ai_edge_litert.interpreter import Interpreter, OpResolverType

    try:
        interp = Interpreter(model_path=str(model),
                             experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
        interp.allocate_tensors()
    except Exception as e:  # report, do not stop: the demo shows what works
        return f"LiteRT cannot load it: {e}"
    (inp,), (out,) = interp.get_input_details(), interp.get_output_details()
    correct = 0
    for x, label in zip(data["input"], data["label"], strict=True):
        interp.set_tensor(inp["index"], to_model_input(x[None], inp))
        interp.invoke()
        logits = from_model_output(interp.get_tensor(out["index"]), out)
        correct += int(np.argmax(logits) == label)
    n = len(data["label"])
    return f"{100 * correct / n:.1f} % ({correct}/{n})"


def run_accuracy(demo: Demo, model: Path, data: dict[str, np.ndarray]) -> None:
    """Accuracy through `edgelite run` on our runtime: inputs in, logits out, as .npy files."""
    inputs = demo.out / "heldout_input.npy"
    logits = demo.out / f"{model.stem}_logits.npy"
    if demo.step(f"run {model.name} on the held-out digits (runtime_micro)",
                 ["run", str(model), "--input", str(inputs), "--output", str(logits),
                  "--dequantize"], logits):
        y = np.load(logits).reshape(len(data["label"]), -1)
        correct = int(np.sum(y.argmax(1) == data["label"]))
        n = len(data["label"])
        print(f"   accuracy (edgelite run): {100 * correct / n:.1f} % ({correct}/{n})")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, help="keep the produced files here (default: temp dir)")
    args = ap.parse_args()
    tmp = None
    if args.out is None:
        tmp = tempfile.TemporaryDirectory(prefix="edgelite-demo-")
        args.out = Path(tmp.name)
    args.out.mkdir(parents=True, exist_ok=True)
    args.out = args.out.resolve()

    with np.load(DIGITS / "heldout.npz") as f:
        data = {"input": f["input"], "label": f["label"]}
    demo = Demo(args.out)
    print(f"digits example: {DIGITS.relative_to(REPO)}/digits_cnn.onnx, "
          f"{len(data['label'])} held-out digits; float accuracy in ONNX Runtime "
          f"{FLOAT_ACCURACY_ORT}; outputs in $OUT={args.out}")

    float_model = args.out / "digits_float.tflite"
    int8_model = args.out / "digits_int8.tflite"
    models: list[Path] = []
    if demo.step("convert ONNX -> float .tflite",
                 ["convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(float_model)],
                 float_model):
        models.append(float_model)
    if demo.step("quantize to int8 (calibration: 100 training digits)",
                 ["quantize", str(DIGITS / "digits_cnn.onnx"),
                  "--calibration", str(DIGITS / "calibration.npz"), "-o", str(int8_model)],
                 int8_model):
        models.append(int8_model)

    np.save(args.out / "heldout_input.npy", data["input"])  # NCHW, as the ONNX model takes
    for model in models:
        print(f"\n== accuracy of {model.name} in LiteRT (reference kernels), same file unchanged")
        print(f"   {litert_accuracy(model, data)}")
        run_accuracy(demo, model, data)
        if model == int8_model:
            demo.step("int8 vs float on the held-out digits: accuracy and agreement",
                      ["eval", str(model), "--data", str(DIGITS / "heldout.npz"),
                       "--labels", "label", "--float", str(DIGITS / "digits_cnn.onnx")])
        # One real held-out digit as input; the peers run the same file, interleaved. The
        # per-op profile is shown once, for the int8 model.
        demo.step(f"bench {model.name} against LiteRT, TFLite Micro and ONNX Runtime",
                  ["bench", str(model), "--input", str(args.out / "heldout_input.npy"),
                   "--compare", "litert,tflm,onnxruntime",
                   "--onnx", str(DIGITS / "digits_cnn.onnx"),
                   *([] if model == int8_model else ["--no-profile"])])

    print("\n== sizes")
    for path in [DIGITS / "digits_cnn.onnx", *models]:
        print(f"   {path.name:<20} {path.stat().st_size:>9,} bytes")
    if demo.failures:
        print(f"\nfailed steps: {'; '.join(demo.failures)}")
    if tmp is not None:
        tmp.cleanup()
    return 1 if demo.failures else 0


if __name__ == "__main__":
    sys.exit(main())
