"""libFuzzer over runtime_micro's load + invoke, for a bounded time, under ASan and UBSan.

Seeds: the committed malformed corpus plus models the converter and quantizer write. Any crash,
sanitizer report or leak fails the test; the fuzzer's findings are printed.
EDGELITE_FUZZ_SECONDS (default 60) sets the budget; CI keeps the default.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # libFuzzer runs for a fixed time

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "runtime_micro"
CORPUS = RUNTIME / "corpus"


def _sparse_seed(model: bytes) -> bytes:
    """The digits CNN with 75 % of every weight tensor zeroed and marked sparse: the writer
    stores them in TFLite's sparse form behind DENSIFY ops (runtime_micro skips those and reads
    the sparse weights directly), so the fuzzer mutates segment and index vectors too."""
    import numpy as np

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


def test_fuzz_load_and_invoke(tmp_path: Path) -> None:
    if shutil.which("clang") is None:
        pytest.fail("clang is needed for the fuzzer: apt-get install -y clang libclang-rt-14-dev")
    proc = subprocess.run(["make", "-C", str(RUNTIME), "fuzz"],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    binary = RUNTIME / "build" / "fuzz" / "fuzz_model"
    assert binary.exists()

    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for f in sorted(CORPUS.glob("*.tflite")):
        shutil.copy(f, seeds / f.name)
    from edgelite.converter import ConvertOptions, convert_to_bytes

    digits = REPO / "examples" / "digits" / "digits_cnn.onnx"
    digits_float = convert_to_bytes(digits, ConvertOptions())
    (seeds / "digits_float.tflite").write_bytes(digits_float)
    (seeds / "digits_sparse.tflite").write_bytes(_sparse_seed(digits_float))
    assert len(list(seeds.iterdir())) > 10

    seconds = int(os.environ.get("EDGELITE_FUZZ_SECONDS", "60"))
    work = tmp_path / "work"
    work.mkdir()
    proc = subprocess.run(
        [str(binary), f"-max_total_time={seconds}", "-max_len=200000", "-rss_limit_mb=2048",
         "-print_final_stats=1", str(work), str(seeds)],
        capture_output=True, text=True, timeout=seconds + 300, cwd=tmp_path,
    )
    tail = "\n".join((proc.stdout + proc.stderr).splitlines()[-25:])
    print(tail)
    assert proc.returncode == 0, tail
    assert "ERROR: AddressSanitizer" not in proc.stderr
    assert "runtime error:" not in proc.stderr  # UBSan
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("leak-*"))
