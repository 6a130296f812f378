"""The `edgelite` command as users meet it: exit codes, one-line errors, no partial files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from helpers.cli import PKG_ROOT, assert_user_error
from helpers.cli import edgelite_cmd as edgelite
from onnx import TensorProto, helper

REPO = Path(__file__).resolve().parents[1]
DIGITS = REPO / "examples" / "digits"


def save(model: onnx.ModelProto, path: Path) -> Path:
    onnx.save(model, str(path))
    return path


def unsupported_model() -> onnx.ModelProto:
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 4])
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="ok_relu"),
        helper.make_node("Det", ["a"], ["b"], name="det0"),
        helper.make_node("FancyNorm", ["b"], ["c"], name="fn1", domain="com.example"),
        helper.make_node("Det", ["c"], ["d"], name="det1"),
        helper.make_node("Add", ["d", "c"], ["y"], name="ok_add"),
    ]
    graph = helper.make_graph(nodes, "g", [x], [y])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                   helper.make_opsetid("com.example", 1)])


def test_convert_inspect_run_on_the_example(tmp_path: Path) -> None:
    out = tmp_path / "digits.tflite"
    res = edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(out))
    assert res.returncode == 0, res.stderr
    assert out.stat().st_size > 0

    res = edgelite("inspect", str(out), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    ops = {op["op"] for sg in report["subgraphs"] for op in sg["operators"]}
    assert "TRANSPOSE" not in ops and "CONV_2D" in ops
    assert report["arena_bytes"] > 0
    assert "edgelite" in report["metadata"]

    res = edgelite("inspect", str(DIGITS / "digits_cnn.onnx"))
    assert res.returncode == 0 and "Conv" in res.stdout

    # `edgelite run` against LiteRT on the same file and held-out digits.
    from ai_edge_litert.interpreter import Interpreter

    with np.load(DIGITS / "heldout.npz") as f:
        x = f["input"][:20]
    np.save(tmp_path / "x.npy", x)
    res = edgelite("run", str(out), "--input", str(tmp_path / "x.npy"), "-o",
                   str(tmp_path / "y.npy"))
    assert res.returncode == 0, res.stderr
    ours = np.load(tmp_path / "y.npy")
    lite = Interpreter(model_path=str(out))
    lite.allocate_tensors()
    inp, outp = lite.get_input_details()[0], lite.get_output_details()[0]
    for i in range(len(x)):
        lite.set_tensor(inp["index"], x[i:i + 1].transpose(0, 2, 3, 1).copy())
        lite.invoke()
        np.testing.assert_allclose(ours[i], lite.get_tensor(outp["index"]), rtol=1e-5,
                                   atol=1e-5)


def test_ops_lists_the_registry() -> None:
    res = edgelite("ops", "--json")
    assert res.returncode == 0
    rows = {r["op"]: r for r in json.loads(res.stdout)}
    for op in ("Conv", "Gemm", "Relu", "Resize", "LayerNormalization", "Softmax"):
        assert op in rows


@pytest.mark.parametrize("kind", ["missing", "directory", "truncated", "garbage"])
def test_bad_model_files(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "model.onnx"
    if kind == "directory":
        path.mkdir()
    elif kind == "truncated":
        data = (DIGITS / "digits_cnn.onnx").read_bytes()
        path.write_bytes(data[: len(data) // 3])
    elif kind == "garbage":
        path.write_bytes(b"\x00\x01 this is not a model \xff" * 10)
    out = tmp_path / "out.tflite"
    res = edgelite("convert", str(path), "-o", str(out))
    assert_user_error(res, str(path))
    assert not out.exists()
    assert list(tmp_path.glob(".out.tflite*")) == []


def test_unsupported_ops_are_all_listed_and_nothing_is_written(tmp_path: Path) -> None:
    path = save(unsupported_model(), tmp_path / "m.onnx")
    out = tmp_path / "m.tflite"
    out.write_bytes(b"previous")
    res = edgelite("convert", str(path), "-o", str(out))
    assert_user_error(res, "Det", "'det0'", "'det1'", "FancyNorm", "'fn1'")
    assert "ok_relu" not in res.stderr and "ok_add" not in res.stderr
    assert out.read_bytes() == b"previous"  # a failed run leaves the old file alone
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx", "m.tflite"]


def test_dynamic_input_needs_input_shape(tmp_path: Path) -> None:
    # (a dynamic batch alone defaults to 1: test_intake; a dynamic height needs the flag)
    x = helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, "h", 8])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, "h", 8])
    graph = helper.make_graph([helper.make_node("Relu", ["images"], ["y"])], "g", [x], [y])
    path = save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]),
                tmp_path / "dyn.onnx")
    out = tmp_path / "dyn.tflite"
    res = edgelite("convert", str(path), "-o", str(out))
    assert_user_error(res, "images", "--input-shape")
    assert not out.exists()
    res = edgelite("convert", str(path), "-o", str(out), "--input-shape", "images:1,3,8,8")
    assert res.returncode == 0, res.stderr
    res = edgelite("convert", str(path), "-o", str(out), "--input-shape", "images:1,x")
    assert_user_error(res, "--input-shape")


def test_run_with_wrong_input_shape(tmp_path: Path) -> None:
    out = tmp_path / "digits.tflite"
    assert edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(out)).returncode == 0
    np.save(tmp_path / "bad.npy", np.zeros((2, 3, 5), np.float32))
    res = edgelite("run", str(out), "--input", str(tmp_path / "bad.npy"))
    assert_user_error(res, "input", "[1, 28, 28, 1]")
    res = edgelite("run", str(tmp_path / "nope.tflite"), "--input", str(tmp_path / "bad.npy"))
    assert_user_error(res, "nope.tflite")


def test_inspect_rejects_a_broken_tflite(tmp_path: Path) -> None:
    out = tmp_path / "digits.tflite"
    assert edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(out)).returncode == 0
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(out.read_bytes()[:500])
    res = edgelite("inspect", str(broken))
    assert_user_error(res, "broken.tflite")


def test_export_writes_c_sources_with_the_arena_size(tmp_path: Path) -> None:
    from edgelite.runtime import Interpreter

    model = tmp_path / "digits.tflite"
    assert edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(model)).returncode == 0
    with np.load(DIGITS / "heldout.npz") as f:
        x = f["input"][:2].transpose(0, 2, 3, 1)[:, None]  # 2 invokes of a (1,28,28,1) input
    np.save(tmp_path / "x.npy", x)
    res = edgelite("export", str(model), "-o", str(tmp_path / "c"), "--input",
                   str(tmp_path / "x.npy"))
    assert res.returncode == 0, res.stderr
    header = (tmp_path / "c" / "digits.h").read_text()
    arena = Interpreter(model.read_bytes()).arena_bytes
    assert f"#define DIGITS_ARENA_SIZE {arena}u" in header
    assert "#define DIGITS_STEPS 2" in header
    res = edgelite("export", str(model), "-o", str(tmp_path / "c2"), "--input",
                   str(tmp_path / "missing.npy"))
    assert_user_error(res, "missing.npy")


def test_weights_int8_by_default_runs_in_every_runtime(tmp_path: Path) -> None:
    """`--mode weights-int8` writes int8 weights behind DEQUANTIZE, which LiteRT, TFLite Micro
    and runtime_micro all run; `--hybrid` opts into LiteRT's hybrid kernels."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from tflite_micro.python.tflite_micro import runtime as tflm

    from edgelite.runtime import Interpreter

    out = tmp_path / "w8.tflite"
    res = edgelite("quantize", str(DIGITS / "digits_cnn.onnx"), "--mode", "weights-int8",
                   "-o", str(out))
    assert res.returncode == 0, res.stderr
    with np.load(DIGITS / "heldout.npz") as f:
        x = f["input"][:1].transpose(0, 2, 3, 1).copy()
    ours = Interpreter(out.read_bytes())
    ours.set_input(0, x)
    ours.invoke()
    micro = tflm.Interpreter.from_bytes(out.read_bytes(), arena_size=1 << 20)
    micro.set_input(x, 0)
    micro.invoke()
    lite = LiteRT(model_path=str(out))
    lite.allocate_tensors()
    lite.set_tensor(lite.get_input_details()[0]["index"], x)
    lite.invoke()
    # float after DEQUANTIZE: runtime_micro's GEMM uses fused multiply-adds, TFLite Micro not
    np.testing.assert_allclose(ours.get_output(0), micro.get_output(0), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(ours.get_output(0),
                               lite.get_tensor(lite.get_output_details()[0]["index"]),
                               rtol=1e-5, atol=1e-5)
    assert out.stat().st_size < 0.35 * (DIGITS / "digits_cnn.onnx").stat().st_size

    hybrid = tmp_path / "w8h.tflite"
    res = edgelite("quantize", str(DIGITS / "digits_cnn.onnx"), "--mode", "weights-int8",
                   "--hybrid", "-o", str(hybrid))
    assert res.returncode == 0, res.stderr
    assert hybrid.read_bytes() != out.read_bytes()


@pytest.mark.parametrize("command", ["bench", "run", "export"])
@pytest.mark.parametrize("name", ["digits_cnn.onnx", "model.bin"])
def test_onnx_given_where_a_tflite_is_needed_says_convert_first(command: str, name: str,
                                                                tmp_path: Path) -> None:
    """By suffix or, renamed, by its protobuf bytes: "convert it first", not a flatbuffer
    complaint about the file identifier."""
    model = tmp_path / name
    model.write_bytes((DIGITS / "digits_cnn.onnx").read_bytes())
    np.save(tmp_path / "x.npy", np.zeros((1, 1, 28, 28), np.float32))
    args = {"bench": [], "run": ["--input", str(tmp_path / "x.npy")],
            "export": ["-o", str(tmp_path / "out")]}[command]
    res = edgelite(command, str(model), *args)
    assert_user_error(res, "this is an ONNX model, not a .tflite file", "edgelite convert")
    assert not (tmp_path / "out").exists()


# ---- conventions shared by every command ---------------------------------------------------

COMMANDS = ["convert", "inspect", "ops", "run", "quantize", "prune", "export", "eval", "bench",
            "doctor"]


def test_every_help_ends_with_examples() -> None:
    from edgelite.cli import cli

    assert sorted(cli.commands) == sorted(COMMANDS)  # a new command gets a test row too
    for command in ["", *COMMANDS]:
        res = edgelite(*([command] if command else []), "--help")
        assert res.returncode == 0, res.stderr
        tail = res.stdout.split("Examples:")[-1]
        assert "Examples:" in res.stdout, command
        assert f"edgelite {command}".strip() in tail, (command, tail)
        if command:
            assert "--json" in res.stdout, command  # every command can report as JSON
    main = edgelite("--help").stdout
    for fragment in ("Exit codes:", "0    success", "1    internal error",
                     "2    bad input or unsupported model", ".npz: one array per input",
                     "samples first", "NCHW or NHWC", "quantized"):
        assert fragment in main, fragment
    assert edgelite().stdout == main  # `edgelite` alone shows the help, exit 0


def _digits_tflite(tmp_path: Path) -> Path:
    out = tmp_path / "digits.tflite"
    res = edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(out))
    assert res.returncode == 0, res.stderr
    return out


def test_user_errors_have_one_style(tmp_path: Path) -> None:
    """click's usage errors and ours: one line `error: ...` naming the command, option or
    file, exit code 2, no traceback."""
    model = _digits_tflite(tmp_path)
    onnx_model = str(DIGITS / "digits_cnn.onnx")
    np.save(tmp_path / "x.npy", np.zeros((2, 1, 28, 28), np.float32))
    out = str(tmp_path / "out.tflite")
    cases = [
        (["convert"], ["edgelite convert", "missing argument 'MODEL'", "--help"]),
        (["convert", onnx_model], ["missing option '-o'"]),
        (["quantize", onnx_model, "-o", out, "--mode", "int4"], ["'--mode'", "int4"]),
        (["frobnicate"], ["no such command 'frobnicate'"]),
        (["inspect", "--bogus", str(model)], ["no such option", "--bogus"]),
        (["bench", str(model), "--runs", "many"], ["'--runs'", "many"]),
        (["bench", str(model), "--runs", "0"], ["--runs must be at least 1"]),
        (["run", str(model), "--input", str(tmp_path / "none.npy")], ["none.npy"]),
        (["convert", onnx_model, "-o", out, "--input-shape", "oops"], ["--input-shape"]),
        (["prune", onnx_model, "-o", out, "--calibration", str(tmp_path / "x.npy")],
         ["nothing to do"]),
        (["quantize", onnx_model, "-o", out], ["needs calibration data", "--calibration"]),
        (["eval", str(model), "--data", str(tmp_path / "x.npy")], ["nothing to measure"]),
        (["convert", onnx_model, "-o", out, "--calibration", str(tmp_path / "x.npy")],
         ["--calibration given without --quantize"]),
    ]
    for args, fragments in cases:
        assert_user_error(edgelite(*args), *fragments)
    assert not Path(out).exists()


def test_npz_keys_must_name_the_inputs(tmp_path: Path) -> None:
    """A lone array under another name is refused, naming the key and the model input."""
    with np.load(DIGITS / "heldout.npz") as f:
        np.savez(tmp_path / "cal.npz", images=f["calibration"][:16])
    res = edgelite("quantize", str(DIGITS / "digits_cnn.onnx"), "-o", str(tmp_path / "q.tflite"),
                   "--calibration", str(tmp_path / "cal.npz"))
    assert_user_error(res, "cal.npz", "'input'", "'images'")
    model = _digits_tflite(tmp_path)
    for args in (["run", "--input"], ["bench", "--input"], ["export", "-o",
                                                             str(tmp_path / "fw"), "--input"]):
        res = edgelite(args[0], str(model), *args[1:], str(tmp_path / "cal.npz"))
        assert_user_error(res, "cal.npz", "'input'", "'images'")


def test_json_on_every_reporting_command(tmp_path: Path) -> None:
    model = tmp_path / "digits.tflite"
    res = edgelite("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(model), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["bytes"] == model.stat().st_size and report["outputs"][0]["name"] == "logits"
    with np.load(DIGITS / "heldout.npz") as f:
        np.savez(tmp_path / "cal.npz", input=f["calibration"][:16])
        np.save(tmp_path / "x.npy", f["input"][:3])
    res = edgelite("prune", str(DIGITS / "digits_cnn.onnx"), "-o", str(tmp_path / "p.tflite"),
                   "--calibration", str(tmp_path / "cal.npz"), "--sparsity", "0.5", "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["bytes"] == (tmp_path / "p.tflite").stat().st_size
    assert report["output_sqnr_db"] > 20
    res = edgelite("run", str(model), "--input", str(tmp_path / "x.npy"), "--json")
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["samples"] == 3 and report["outputs"][0]["shape"] == [3, 1, 10]
    assert any("moved channels last" in n for n in report["notes"])
    res = edgelite("export", str(model), "-o", str(tmp_path / "fw"), "--json")
    assert res.returncode == 0, res.stderr
    files = json.loads(res.stdout)["files"]
    assert all(Path(f.rstrip("/")).exists() for f in files) and len(files) > 3


def test_inspect_prints_options_as_name_value_pairs(tmp_path: Path) -> None:
    res = edgelite("inspect", str(_digits_tflite(tmp_path)))
    assert res.returncode == 0, res.stderr
    conv = next(ln for ln in res.stdout.splitlines() if "CONV_2D" in ln)
    assert "stride_w=1" in conv and "fused_activation_function=RELU" in conv, conv
    text = res.stdout
    op_lines = text[text.index("  ops:"):text.index("  tensors:")].splitlines()[1:]
    assert len(op_lines) == 7
    assert not any("{" in ln or "':" in ln for ln in op_lines), op_lines


def test_internal_error_exit_1_with_traceback(tmp_path: Path) -> None:
    code = ("import sys, edgelite.api as api\n"
            "def broken(model): raise RuntimeError('boom')\n"
            "api.inspect = broken\n"
            "from edgelite.cli import main\n"
            "sys.exit(main(['inspect', 'x.tflite']))\n")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert res.returncode == 1
    assert "Traceback" in res.stderr and "RuntimeError: boom" in res.stderr
    assert res.stderr.strip().splitlines()[-1].startswith("error: internal error: RuntimeError")


def _stderr_on_a_terminal(*args: str) -> str:
    """Run `edgelite ARGS` with stderr on a pseudo-terminal; what it drew there."""
    import pty
    import threading

    master, slave = pty.openpty()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    proc = subprocess.Popen([sys.executable, "-m", "edgelite.cli", *args],
                            stdout=subprocess.DEVNULL, stderr=slave, env=env)
    os.close(slave)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:  # the other end closed
                return
            if not data:
                return
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    assert proc.wait(timeout=300) == 0
    reader.join(timeout=30)
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace")


@pytest.mark.slow
def test_progress_bars_on_a_terminal_only(tmp_path: Path) -> None:
    with np.load(DIGITS / "heldout.npz") as f:
        np.savez(tmp_path / "cal.npz", input=f["calibration"][:32])
    args = ["quantize", str(DIGITS / "digits_cnn.onnx"), "-o", str(tmp_path / "q.tflite"),
            "--calibration", str(tmp_path / "cal.npz")]
    drawn = _stderr_on_a_terminal(*args)
    assert "calibrating (percentile)" in drawn and "32/32" in drawn, drawn
    assert "calibrating" not in _stderr_on_a_terminal(*args, "--quiet")
    piped = edgelite(*args)
    assert piped.returncode == 0 and "calibrating" not in piped.stderr, piped.stderr
