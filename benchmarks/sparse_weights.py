"""Sparse weights: file size, arena and latency, dense vs sparse, runtime_micro beside LiteRT.

    PYTHONPATH=src python benchmarks/sparse_weights.py [--runs 200]

Models: tests/test_sparse.py's pruned CNN (CONV_2D 3x3, DEPTHWISE 3x3, CONV_2D 1x1,
FULLY_CONNECTED; 75 % of every weight tensor zero), float32 and int8, written three ways: dense,
sparse as edgelite writes it (sparse weights behind DENSIFY: what LiteRT runs), and sparse
weights wired into the ops (what runtime_micro reads directly; int8 FULLY_CONNECTED weights
included). Every sparse output is first checked against the dense model's, so a fast but wrong
run cannot look good. Latency: median of --runs invokes after 20 warm-up ones, this machine,
interleaved; LiteRT with its default delegate (XNNPACK). A benchmark, not a test: it prints.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

import ai_edge_litert.interpreter as litert  # noqa: E402
from helpers.sparse_cnn import SEED, cnn, models, sample  # noqa: E402

from edgelite.runtime import Interpreter  # noqa: E402
from edgelite.tflite import sparsity as SP  # noqa: E402
from edgelite.tflite.writer import _Writer  # noqa: E402


def time_it(invoke, runs: int) -> float:
    for _ in range(20):
        invoke()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        invoke()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    print(f"{'model':<26} {'file B':>9} {'arena B':>9} {'micro us':>9} {'LiteRT us':>10}")
    for dtype in ("float32", "int8"):
        dense, densify = models(dtype)
        wired, plan = SP.wire_sparse_directly(cnn(np.random.default_rng(SEED), dtype, True))
        direct = _Writer(wired, "edgelite", plan).build()
        x = sample(dtype, 1)[0]
        ref = None
        for name, model in (("dense", dense), ("sparse + DENSIFY", densify),
                            ("sparse in the ops", direct)):
            it = Interpreter(model)
            it.set_input(0, x)
            it.invoke()
            out = it.get_output(0)
            if ref is None:
                ref = out
            assert np.array_equal(out, ref), f"{dtype} {name}: outputs differ from dense"
            micro = time_it(it.invoke, args.runs)
            lite = "-"
            if name != "sparse in the ops":  # LiteRT's convolutions ignore sparsity
                li = litert.Interpreter(model_content=model)
                li.allocate_tensors()
                li.set_tensor(li.get_input_details()[0]["index"], x)
                lite = f"{time_it(li.invoke, args.runs):.0f}"
            print(f"{dtype + ' ' + name:<26} {len(model):>9,} {it.arena_bytes:>9,} "
                  f"{micro:>9.0f} {lite:>10}")


if __name__ == "__main__":
    main()
