"""libFuzzer over runtime_micro's load + invoke, for a bounded time, under ASan and UBSan.

Two harnesses over the same target (runtime_micro/tests/fuzz_model.c): fuzz_model with
libFuzzer's byte mutations, fuzz_model_structured with the structure-aware .tflite mutator
(runtime_micro/tests/fuzz_model_structured.c: dims, types, indices, options, quantization and
sparsity fields, vtables, offsets, vector lengths patched inside valid flatbuffers).
Seeds: tests/helpers/fuzz_seeds.py (the committed malformed corpus plus float, int8, int16x8,
sparse, stateful and IF/WHILE models, generated). Any crash, sanitizer report or leak fails
the test; the fuzzers' final figures are printed.
EDGELITE_FUZZ_SECONDS (default 60) is the budget, split evenly between the two harnesses; CI
keeps the default. Long campaigns: benchmarks/fuzz_campaign.sh.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers.build import make_in_tree
from helpers.fuzz_seeds import write_seeds

pytestmark = pytest.mark.slow  # libFuzzer runs for a fixed time

REPO = Path(__file__).resolve().parents[1]
RUNTIME = REPO / "runtime_micro"
MAX_LEN = 1 << 20  # MediaPipe's sparse face detector (677 kB) is a seed


def _run(binary: Path, seconds: int, seeds: Path, tmp_path: Path) -> str:
    work = tmp_path / f"work-{binary.name}"
    work.mkdir()
    proc = subprocess.run(
        [str(binary), f"-max_total_time={seconds}", f"-max_len={MAX_LEN}", "-rss_limit_mb=2048",
         "-timeout=30", "-print_final_stats=1", f"-artifact_prefix={tmp_path}/", str(work),
         str(seeds)],
        check=False, capture_output=True, text=True, timeout=seconds + 300, cwd=tmp_path,
    )
    log = proc.stdout + proc.stderr
    tail = "\n".join(line for line in log.splitlines()[-40:] if "# Uses:" not in line)
    print(f"--- {binary.name}\n{tail}")
    assert proc.returncode == 0, tail
    assert "ERROR: AddressSanitizer" not in log
    assert "runtime error:" not in log  # UBSan
    assert not list(tmp_path.glob("crash-*")) and not list(tmp_path.glob("leak-*"))
    return log


def test_fuzz_load_and_invoke(tmp_path: Path) -> None:
    if shutil.which("clang") is None:
        pytest.fail("clang is needed for the fuzzer: apt-get install -y clang libclang-rt-14-dev")
    proc = make_in_tree("-j2", "fuzz", timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    seeds = tmp_path / "seeds"
    names = {p.name for p in write_seeds(seeds)}
    for family in ("digits_int8", "digits_int16x8", "digits_sparse", "pruned_cnn_int8_sparse",
                   "face_detection_full_range_sparse", "stateful_int8", "if_int8",
                   "valid_while", "digits_float"):
        assert f"{family}.tflite" in names

    seconds = int(os.environ.get("EDGELITE_FUZZ_SECONDS", "60"))
    _run(RUNTIME / "build" / "fuzz" / "fuzz_model", max(1, seconds // 2), seeds, tmp_path)
    log = _run(RUNTIME / "build" / "fuzz" / "fuzz_model_structured", max(1, seconds - seconds // 2),
               seeds, tmp_path)
    # The structure-aware mutator really ran and found coverage libFuzzer's initial corpus
    # pass did not: new units made by a "Custom" mutation.
    assert re.search(r"NEW .* MS: \d+ Custom", log), "no new coverage from the custom mutator"
