"""The Python API: edgelite.Interpreter runs LiteRT's documented code unchanged, and the
top-level functions give the bytes their commands give.

Oracles: LiteRT (ai_edge_litert) runs the same documented code on the same files, TFLite
Micro the int8 model, and the `edgelite` command line (a separate process) the functions.
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import edgelite

REPO = Path(__file__).resolve().parents[1]
PKG_ROOT = str(Path(edgelite.__file__).resolve().parents[1])
DIGITS = REPO / "examples" / "digits"


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "edgelite.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300, check=False)


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The example digits CNN as float and int8 .tflite files, and held-out images."""
    d = tmp_path_factory.mktemp("digits")
    with np.load(DIGITS / "heldout.npz") as f:
        np.savez(d / "calibration.npz", input=f["calibration"][:64])
        np.save(d / "x.npy", f["input"][:12])
    edgelite.convert(DIGITS / "digits_cnn.onnx", d / "float.tflite")
    edgelite.quantize(DIGITS / "digits_cnn.onnx", d / "int8.tflite",
                      calibration=d / "calibration.npz", progress=False)
    return {"float": d / "float.tflite", "int8": d / "int8.tflite", "x": d / "x.npy",
            "calibration": d / "calibration.npz", "dir": d}


# ---- LiteRT's documented usage, run by both interpreters -------------------------------------

def litert_documented_usage(Interpreter, model_path: str, image: np.ndarray) -> dict:
    """LiteRT's "Run inference in Python" guide, verbatim apart from the image (a held-out
    digit instead of random data) and collecting the results; the int8 input step is the
    guide's post-training-quantization example."""
    # Load the TFLite model and allocate tensors.
    interpreter = Interpreter(model_path=model_path)
    interpreter.allocate_tensors()

    # Get input and output tensors.
    input_details = interpreter.get_input_details()
    output_details = interpreter.get_output_details()

    input_shape = input_details[0]['shape']
    input_data = image.reshape(input_shape)
    if input_details[0]['dtype'] in (np.uint8, np.int8):
        input_scale, input_zero_point = input_details[0]["quantization"]
        input_data = np.round(input_data / input_scale + input_zero_point)
    input_data = input_data.astype(input_details[0]["dtype"])
    interpreter.set_tensor(input_details[0]['index'], input_data)

    interpreter.invoke()

    # The function `get_tensor()` returns a copy of the tensor data.
    # Use `tensor()` in order to get a pointer to the tensor.
    output_data = interpreter.get_tensor(output_details[0]['index'])
    pointer = interpreter.tensor(output_details[0]['index'])
    input_after = interpreter.get_tensor(input_details[0]['index'])  # still the input

    # Signatures: the runner takes the inputs by name and returns the outputs by name.
    signatures = interpreter.get_signature_list()
    runner = interpreter.get_signature_runner()
    name = signatures["serving_default"]["inputs"][0]
    by_signature = runner(**{name: input_data})
    return {"input_details": input_details, "output_details": output_details,
            "tensor_details": interpreter.get_tensor_details(), "output": output_data,
            "pointer": pointer().copy(), "signatures": signatures,
            "by_signature": by_signature, "input_data": input_data, "input_after": input_after}


def _same_details(ours: list[dict], theirs: list[dict]) -> None:
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        where = (b["index"], b["name"])
        assert (a["name"], a["index"]) == (b["name"], b["index"])
        assert a["dtype"] == b["dtype"], where
        np.testing.assert_array_equal(a["shape"], b["shape"], err_msg=str(where))
        np.testing.assert_array_equal(a["shape_signature"], b["shape_signature"],
                                      err_msg=str(where))
        assert a["quantization"] == b["quantization"], where
        qa, qb = a["quantization_parameters"], b["quantization_parameters"]
        assert qa.keys() >= {"scales", "zero_points", "quantized_dimension"}
        for key in ("scales", "zero_points"):
            assert qa[key].dtype == qb[key].dtype, (where, key)
            np.testing.assert_array_equal(qa[key], qb[key], err_msg=str((where, key)))
        assert qa["quantized_dimension"] == qb["quantized_dimension"], where
        assert a["sparsity_parameters"] == b["sparsity_parameters"] == {}, where


@pytest.mark.parametrize("kind", ["float", "int8"])
def test_litert_documented_code_runs_unchanged(kind: str, digits: dict[str, Path]) -> None:
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    images = np.load(digits["x"]).transpose(0, 2, 3, 1)  # NHWC, as the .tflite input
    for image in images[:6]:
        theirs = litert_documented_usage(LiteRT, str(digits[kind]), image)
        ours = litert_documented_usage(edgelite.Interpreter, str(digits[kind]), image)
        _same_details(ours["input_details"], theirs["input_details"])
        _same_details(ours["output_details"], theirs["output_details"])
        _same_details(ours["tensor_details"], theirs["tensor_details"])
        assert ours["signatures"] == theirs["signatures"] == {
            "serving_default": {"inputs": ["input"], "outputs": ["logits"]}}
        np.testing.assert_array_equal(ours["input_data"], theirs["input_data"])
        for run in (ours, theirs):  # the greedy planner reused it: the kept copy is read
            np.testing.assert_array_equal(run["input_after"], run["input_data"])
        assert ours["by_signature"].keys() == theirs["by_signature"].keys() == {"logits"}
        y, ref = ours["output"], theirs["output"]
        assert y.dtype == ref.dtype and y.shape == ref.shape == (1, 10)
        np.testing.assert_array_equal(ours["pointer"], y)
        np.testing.assert_array_equal(ours["by_signature"]["logits"], y)
        if kind == "float":
            span = float(ref.max() - ref.min())
            np.testing.assert_allclose(y, ref, rtol=0, atol=1e-5 * span)
        else:
            # LiteRT's optimized int8 kernels may round 1 LSB differently from the reference
            # integer math (which runtime_micro and TFLite Micro share: checked exactly below)
            assert np.abs(y.astype(np.int32) - ref.astype(np.int32)).max() <= 1


def test_int8_outputs_bit_exact_with_tflite_micro(digits: dict[str, Path]) -> None:
    from tflite_micro.python.tflite_micro import runtime as tflm

    data = digits["int8"].read_bytes()
    micro = tflm.Interpreter.from_bytes(data)
    ours = edgelite.Interpreter(model_content=data, num_threads=None)
    ours.allocate_tensors()
    inp, out = ours.get_input_details()[0], ours.get_output_details()[0]
    scale, zero = inp["quantization"]
    x = np.load(digits["x"]).transpose(0, 2, 3, 1)
    for k in range(len(x)):
        q = np.clip(np.round(x[k:k + 1] / scale) + zero, -128, 127).astype(np.int8)
        micro.set_input(q, 0)
        micro.invoke()
        ours.set_tensor(inp["index"], q)
        ours.invoke()
        np.testing.assert_array_equal(ours.get_tensor(out["index"]), micro.get_output(0))


def test_sparse_tensors_and_files_without_signatures() -> None:
    """A sparse weight's sparsity_parameters as LiteRT gives them; a file without
    SignatureDefs (LiteRT lists none) gets one ``serving_default`` signature of its inputs and
    outputs by name, whose runner gives what set_tensor / invoke / get_tensor give."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    corpus = REPO / "runtime_micro" / "corpus"
    for name in ("valid_sparse_fc.tflite", "valid_base.tflite"):
        # LiteRT's builtin kernels: its default XNNPACK delegate reads sparse weights fed
        # straight into FULLY_CONNECTED as if dense (test_sparse.py shows it)
        lite = LiteRT(model_path=str(corpus / name), experimental_op_resolver_type=(
            OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES))
        lite.allocate_tensors()
        ours = edgelite.Interpreter(model_path=str(corpus / name))
        ours.allocate_tensors()
        theirs = lite.get_tensor_details()
        for a, b in zip(ours.get_tensor_details(), theirs, strict=True):
            assert (a["name"], a["index"], a["dtype"]) == (b["name"], b["index"], b["dtype"])
            sa, sb = a["sparsity_parameters"], b["sparsity_parameters"]
            assert sa.keys() == sb.keys()
            if sb:
                for key in ("traversal_order", "block_map"):
                    np.testing.assert_array_equal(sa[key], sb[key])
                assert len(sa["dim_metadata"]) == len(sb["dim_metadata"])
                for la, lb in zip(sa["dim_metadata"], sb["dim_metadata"]):
                    assert la.keys() == lb.keys()
                    for key in la:
                        np.testing.assert_array_equal(la[key], lb[key])
        assert any(d["sparsity_parameters"] for d in theirs) == (name == "valid_sparse_fc.tflite")
        assert lite.get_signature_list() == {}
        inputs = ours.get_input_details()
        sig = ours.get_signature_list()["serving_default"]
        assert sig == {"inputs": sorted(d["name"] for d in inputs),
                       "outputs": sorted(d["name"] for d in ours.get_output_details())}
        rng = np.random.default_rng(0)
        feed = {}
        for d in inputs:
            shape = tuple(d["shape"])
            feed[d["name"]] = (rng.integers(0, 2, shape) if d["dtype"] == np.int32
                               else rng.standard_normal(shape)).astype(d["dtype"])
            lite.set_tensor(d["index"], feed[d["name"]])
        lite.invoke()
        got = ours.get_signature_runner()(**feed)
        for d in ours.get_output_details():
            np.testing.assert_allclose(got[d["name"]], lite.get_tensor(d["index"]), rtol=1e-6,
                                       atol=1e-6)


def test_set_tensor_refuses_what_litert_refuses(digits: dict[str, Path]) -> None:
    from ai_edge_litert.interpreter import Interpreter as LiteRT

    x = np.zeros((1, 28, 28, 1), np.float32)
    for cls in (LiteRT, edgelite.Interpreter):
        it = cls(model_path=str(digits["int8"]))
        it.allocate_tensors()
        index = it.get_input_details()[0]["index"]
        with pytest.raises(ValueError):  # float data for an int8 input
            it.set_tensor(index, x)
        with pytest.raises(ValueError):  # wrong shape
            it.set_tensor(index, np.zeros((1, 28, 28), np.int8))
    ours = edgelite.Interpreter(model_path=str(digits["int8"]))
    with pytest.raises(ValueError, match=r"got float32, expected int8.*set_input"):
        ours.set_tensor(0, x)
    with pytest.raises(edgelite.EdgeliteError, match="static shapes"):
        ours.resize_tensor_input(0, [4, 28, 28, 1])
    ours.resize_tensor_input(0, [1, 28, 28, 1])  # the same shape: nothing to do
    with pytest.raises(edgelite.EdgeliteError, match="no signature 'train'"):
        ours.get_signature_runner("train")
    # an input written through a view is used, but not known after invoke reused its memory
    ours.tensor(0)()[...] = np.full((1, 28, 28, 1), 3, np.int8)
    ours.invoke()
    with pytest.raises(edgelite.EdgeliteError, match=r"written through a tensor\(\) view"):
        ours.get_tensor(0)


def test_set_input_quantizes_float_data_like_the_cli(digits: dict[str, Path]) -> None:
    """The positional API takes float data for an int8 input (LiteRT's set_tensor does not):
    the same as quantizing by hand with the input's parameters, run by LiteRT."""
    from ai_edge_litert.interpreter import Interpreter as LiteRT
    from ai_edge_litert.interpreter import OpResolverType

    x = np.load(digits["x"]).transpose(0, 2, 3, 1)[:1].astype(np.float32)
    ours = edgelite.Interpreter(str(digits["int8"]))
    ours.set_input(0, x)
    ours.invoke()
    lite = LiteRT(model_path=str(digits["int8"]),
                  experimental_op_resolver_type=OpResolverType.BUILTIN_REF)
    lite.allocate_tensors()
    d = lite.get_input_details()[0]
    scale, zero = d["quantization"]
    lite.set_tensor(d["index"], np.clip(np.round(x / scale) + zero, -128, 127).astype(np.int8))
    lite.invoke()
    ref = lite.get_tensor(lite.get_output_details()[0]["index"])
    assert np.abs(ours.get_output(0).astype(int) - ref.astype(int)).max() <= 1


# ---- the functions and their commands give the same bytes ----------------------------------

def test_convert_same_bytes_as_the_command(digits: dict[str, Path]) -> None:
    out = digits["dir"] / "cli_float.tflite"
    res = _cli("convert", str(DIGITS / "digits_cnn.onnx"), "-o", str(out))
    assert res.returncode == 0, res.stderr
    data = edgelite.convert(DIGITS / "digits_cnn.onnx")
    assert isinstance(data, bytes) and data == out.read_bytes() == digits["float"].read_bytes()
    assert data.summary["inputs"] == [{"name": "input", "shape": [1, 28, 28, 1],
                                       "dtype": "float32"}]


def test_quantize_same_bytes_as_the_command_for_every_calibration_form(
        digits: dict[str, Path]) -> None:
    out = digits["dir"] / "cli_int8.tflite"
    res = _cli("quantize", str(DIGITS / "digits_cnn.onnx"), "-o", str(out), "--calibration",
               str(digits["calibration"]), "--calibration-samples", "48", "--json")
    assert res.returncode == 0, res.stderr
    import json

    summary = json.loads(res.stdout)
    with np.load(digits["calibration"]) as f:
        cal = f["input"]
    forms = {
        "path": digits["calibration"],
        "dict": {"input": cal},
        "array": cal,
        "iterable of arrays": [cal[k] for k in range(len(cal))],
        "callable of dicts": lambda: ({"input": cal[k:k + 1]} for k in range(len(cal))),
    }
    for form, calibration in forms.items():
        q = edgelite.quantize(DIGITS / "digits_cnn.onnx", calibration=calibration,
                              calibration_samples=48, progress=False)
        assert q == out.read_bytes(), form
    assert summary["output_sqnr_db"] == q.summary["output_sqnr_db"] > 30
    assert summary["bytes"] == len(q)
    # convert --quantize is the same pipeline
    both = edgelite.convert(DIGITS / "digits_cnn.onnx", quantize="int8",
                            calibration=digits["calibration"], calibration_samples=48,
                            progress=False)
    assert both == q


@pytest.mark.slow
def test_prune_same_bytes_as_the_command(digits: dict[str, Path]) -> None:
    # structured (channels, bias repair: quick) to .tflite, sparse to .onnx
    for suffix, flags, kwargs in (
            (".tflite", ["--macs", "0.8", "--repair", "bias"], {"macs": 0.8, "repair": "bias"}),
            (".onnx", ["--sparsity", "0.5"], {"sparsity": 0.5})):
        out = digits["dir"] / f"cli_pruned{suffix}"
        res = _cli("prune", str(DIGITS / "digits_cnn.onnx"), "-o", str(out), "--calibration",
                   str(digits["calibration"]), "--calibration-samples", "16", *flags, "-q")
        assert res.returncode == 0, res.stderr
        ours = edgelite.prune(DIGITS / "digits_cnn.onnx", calibration=digits["calibration"],
                              calibration_samples=16, progress=False, format=suffix[1:],
                              **kwargs)
        assert ours == out.read_bytes(), suffix
        assert ours.summary["format"] == suffix[1:]
        if suffix == ".tflite":
            m0, m1 = ours.summary["macs"]
            assert m1 < m0


def test_run_inspect_export_functions(digits: dict[str, Path]) -> None:
    y = edgelite.run(digits["int8"], digits["x"], dequantize=True)
    res = _cli("run", str(digits["int8"]), "--input", str(digits["x"]), "--dequantize", "-o",
               str(digits["dir"] / "y.npy"))
    assert res.returncode == 0, res.stderr
    np.testing.assert_array_equal(y["logits"], np.load(digits["dir"] / "y.npy"))
    assert y["logits"].shape == (12, 1, 10) and y.samples == 12
    info = edgelite.inspect(digits["int8"])
    assert info["arena_bytes"] == edgelite.Interpreter(str(digits["int8"])).arena_bytes
    files = edgelite.export(digits["int8"], digits["dir"] / "fw", input=digits["x"])["files"]
    assert any(f.endswith(".h") for f in files)


# ---- the package itself ---------------------------------------------------------------------

def test_import_is_cheap_and_shared_names_keep_their_subpackages() -> None:
    code = ("import sys, edgelite; heavy = [m for m in ('numpy', 'onnx', 'edgelite.converter')"
            " if m in sys.modules]; assert not heavy, heavy; "
            "import edgelite.quantize.data as d; from edgelite.prune import PruneOptions; "
            "import edgelite.inspect; "
            "assert callable(edgelite.quantize) and edgelite.quantize.data is d; "
            "assert edgelite.quantize.QuantizeOptions.__name__ == 'QuantizeOptions'; "
            "assert callable(edgelite.inspect) and edgelite.inspect.inspect_file; "
            "edgelite.prune.MIN_SAMPLES_SEEN = 3; "  # monkeypatching reaches the subpackage
            "assert sys.modules['edgelite.prune'].MIN_SAMPLES_SEEN == 3; "
            "assert edgelite.Interpreter.__name__ == 'Interpreter'; print('ok')")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([PKG_ROOT, env.get("PYTHONPATH", "")])
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    # monkeypatch (which restores an attribute from the object's own __dict__ when it has
    # one) sets and restores the subpackage's attribute through the shared name
    from edgelite import export

    package = importlib.import_module("edgelite.export")
    real = package.export_model
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(export, "export_model", len)
        assert package.export_model is len
    assert package.export_model is real
    for fn in (edgelite.convert, edgelite.quantize, edgelite.prune, edgelite.inspect,
               edgelite.bench, edgelite.export, edgelite.run, edgelite.evaluate):
        assert ">>> " in fn.__doc__, fn  # each docstring shows an example
