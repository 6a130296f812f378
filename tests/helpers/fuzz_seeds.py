"""Seed corpus for runtime_micro's libFuzzer harnesses (tests/test_fuzz.py and
benchmarks/fuzz_campaign.sh): every model is generated here, none is committed.

    PYTHONPATH=src:tests python -m helpers.fuzz_seeds DEST    # writes DEST/*.tflite

Families, so both harnesses start from models that reach deep into the runtime:
- the committed malformed corpus (runtime_micro/corpus/*.tflite, incl. IF/WHILE/sparse ones);
- float: the digits CNN converted from ONNX, the pruned CNN (tests/helpers/sparse_cnn.py);
- quantized: the digits CNN in int8 and int16x8 (calibrated on examples/digits), the pruned
  CNN in int8, an int8 IF model;
- sparse: the digits CNN and the pruned CNN with sparse weights behind DENSIFY, MediaPipe's
  face_detection_full_range_sparse.tflite (tests/helpers/wheel_files.py);
- stateful: CALL_ONCE + VAR_HANDLE/READ_VARIABLE/ASSIGN_VARIABLE in float and int8, and the
  pymicro-wakeword streaming models (int8, resource variables) when that package is installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "runtime_micro" / "corpus"
DIGITS = REPO / "examples" / "digits"
FACE_SPARSE = "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite"


def _corpus_modules():
    sys.path.insert(0, str(CORPUS))
    try:
        import make_corpus
        import tflbuild
    finally:
        sys.path.remove(str(CORPUS))
    return make_corpus, tflbuild


def sparse_variant(model: bytes) -> bytes:
    """``model`` with 75 % of every float weight tensor zeroed and marked sparse: the writer
    stores them in TFLite's sparse form behind DENSIFY ops (runtime_micro skips those and reads
    the sparse weights directly), so the fuzzers mutate segment and index vectors too."""
    from edgelite.tflite.reader import read_model, to_ir
    from edgelite.tflite.writer import write_model

    graph = to_ir(read_model(model))
    for t in graph.tensors():
        if t.is_const and t.dtype == "float32" and len(t.shape) >= 2 and t.size >= 64:
            w = t.data.copy()
            w[np.abs(w) < np.quantile(np.abs(w), 0.75)] = 0
            t.data = w
            t.sparse = True
    out = write_model(graph)
    assert read_model(out).subgraphs[0].operators[0].op == "DENSIFY"
    return out


def stateful_model(int8: bool) -> bytes:
    """Subgraph 1 (run once by CALL_ONCE) assigns acc = init; each invoke of subgraph 0 reads
    acc, outputs y = acc + x and assigns acc = y (float32, or int8 with one scale)."""
    _, tb = _corpus_modules()
    dt = tb.INT8 if int8 else tb.FLOAT32
    qp = ([0.05], [2]) if int8 else (None, None)
    init = (np.array([30, -40], np.int8) if int8 else np.array([1.5, -2.0], np.float32))
    handle = [(0, "str", ""), (1, "str", "acc")]
    sg1 = tb.Subgraph([tb.Tensor([], tb.RESOURCE, 0, "h_init"), tb.Tensor([2], dt, 1, "init", *qp)],
                      [], [], [tb.Op(1, [], [0], tb.OPT_VAR_HANDLE, handle), tb.Op(4, [0, 1], [])],
                      name="init")
    sg0 = tb.Subgraph(
        [tb.Tensor([2], dt, 0, "x", *qp), tb.Tensor([], tb.RESOURCE, 0, "h"),
         tb.Tensor([2], dt, 0, "acc", *qp), tb.Tensor([2], dt, 0, "y", *qp)],
        [0], [3],
        [tb.Op(0, [], [], tb.OPT_CALL_ONCE, [(0, "i32", 1)]),
         tb.Op(1, [], [1], tb.OPT_VAR_HANDLE, handle),
         tb.Op(2, [1], [2]),
         tb.Op(3, [2, 0], [3], tb.OPT_ADD, [(0, "u8", 0)]),
         tb.Op(4, [1, 3], [])])
    return tb.build(tb.Model([tb.CALL_ONCE, tb.VAR_HANDLE, tb.READ_VARIABLE, tb.ADD,
                              tb.ASSIGN_VARIABLE], [sg0, sg1], [None, init.tobytes()]))


def int8_if_model() -> bytes:
    """make_corpus.if_model with int8 tensors (x, w scale 0.05; y scale 0.1, zero point 3)."""
    mc, tb = _corpus_modules()
    m = mc.if_model()
    q_in, q_out = ([0.05], [0]), ([0.1], [3])
    m.buffers[1] = np.array([[10, -20, 40, 60]], np.int8).tobytes()
    m.subgraphs[0].tensors[1:] = [tb.Tensor([1, 4], tb.INT8, 0, "x", *q_in),
                                  tb.Tensor([1, 4], tb.INT8, 1, "w", *q_in),
                                  tb.Tensor([1, 4], tb.INT8, 0, "y", *q_out)]
    for sg in m.subgraphs[1:]:
        sg.tensors = [tb.Tensor([1, 4], tb.INT8, 0, "x", *q_in),
                      tb.Tensor([1, 4], tb.INT8, 0, "w", *q_in),
                      tb.Tensor([1, 4], tb.INT8, 0, "y", *q_out)]
    return tb.build(m)


def generated_seeds() -> dict[str, bytes]:
    """Every generated seed by file name (deterministic)."""
    from edgelite.converter import ConvertOptions, convert_to_bytes
    from edgelite.quantize import QuantizeOptions, quantize
    from edgelite.tflite.writer import write_model
    from helpers import sparse_cnn

    seeds: dict[str, bytes] = {}
    onnx_path = DIGITS / "digits_cnn.onnx"
    calib = str(DIGITS / "calibration.npz")
    digits_float = convert_to_bytes(onnx_path, ConvertOptions())
    seeds["digits_float.tflite"] = digits_float
    seeds["digits_sparse.tflite"] = sparse_variant(digits_float)
    for mode in ("int8", "int16x8"):
        res = quantize(onnx_path, QuantizeOptions(mode=mode, calibration=calib, samples=8,
                                                  progress=False))
        seeds[f"digits_{mode}.tflite"] = res.model
    for dtype in ("float32", "int8"):
        dense, sparse = sparse_cnn.models(dtype)
        seeds[f"pruned_cnn_{dtype}.tflite"] = dense
        seeds[f"pruned_cnn_{dtype}_sparse.tflite"] = sparse
        # pruned in blocks of 4 channels: block maps (and the int8 dense layer as a 1x1 conv)
        seeds[f"pruned_cnn_{dtype}_blocks.tflite"] = write_model(
            sparse_cnn.cnn(np.random.default_rng(sparse_cnn.SEED), dtype, True, block=4))
    seeds["if_int8.tflite"] = int8_if_model()
    seeds["stateful_float.tflite"] = stateful_model(int8=False)
    seeds["stateful_int8.tflite"] = stateful_model(int8=True)
    return seeds


def external_seeds() -> dict[str, bytes]:
    """Real models from pinned wheels: MediaPipe's sparse face detector (fetched with pip
    download on first use, then cached) and the pymicro-wakeword streaming models."""
    from helpers.wheel_files import MEDIAPIPE, wheel_member

    seeds = {"face_detection_full_range_sparse.tflite": wheel_member(MEDIAPIPE, FACE_SPARSE).read_bytes()}
    try:
        import pymicro_wakeword
    except ImportError:
        return seeds
    for p in sorted((Path(pymicro_wakeword.__file__).parent / "models").glob("*.tflite"))[:2]:
        seeds[f"microwakeword_{p.name}"] = p.read_bytes()
    return seeds


def write_seeds(dest: Path) -> list[Path]:
    """The committed corpus plus every generated and external seed, written into ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for f in sorted(CORPUS.glob("*.tflite")):
        out.append(dest / f.name)
        out[-1].write_bytes(f.read_bytes())
    for name, data in {**generated_seeds(), **external_seeds()}.items():
        out.append(dest / name)
        out[-1].write_bytes(data)
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m helpers.fuzz_seeds DEST")
    paths = write_seeds(Path(sys.argv[1]))
    print(f"{len(paths)} seeds in {sys.argv[1]} ({sum(p.stat().st_size for p in paths)} bytes)")
