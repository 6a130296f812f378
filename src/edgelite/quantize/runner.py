"""Run a written model and read any tensor by its index in the file.

Calibration and reports execute models on runtime_micro (``backend="micro"``) with the linear
planner, which keeps every tensor readable after invoke: Python does not grow a second
executor. ``backend="litert"`` runs LiteRT's reference kernels instead (with all tensors
preserved); it is an explicit choice for cross-checking, never a silent fallback.

Tensor indices are the writer's: position in ``graph.tensors()``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError

BACKENDS = ("micro", "litert")


class Runner:
    """``keep_tensors=False``: only the outputs are read (runtime_micro's smallest arena).
    ``num_threads``: runtime_micro's hosted thread pool (the same bytes for any count)."""

    def __init__(self, model: bytes, graph: ir.Graph, backend: str = "micro",
                 keep_tensors: bool = True, num_threads: int = 1) -> None:
        if backend not in BACKENDS:
            raise EdgeliteError(f"unknown backend {backend!r}", hint=f"use one of {BACKENDS}")
        self.graph = graph
        self.tensors = graph.tensors()
        self.index = {id(t): i for i, t in enumerate(self.tensors)}
        self.backend = backend
        if backend == "micro":
            try:
                from edgelite.runtime import Interpreter
            except ImportError as exc:
                raise EdgeliteError(
                    "runtime_micro's Python binding is not available", code=Code.RUNTIME,
                    hint="build/install edgelite (pip install .), or pass backend='litert'",
                ) from exc
            try:
                self._micro = Interpreter(model, planner="linear" if keep_tensors else "greedy",
                                          num_threads=num_threads)
            except EdgeliteError as exc:
                if exc.code != Code.UNSUPPORTED:
                    raise
                raise EdgeliteError(
                    exc.message, code=exc.code, where=exc.where,
                    hint="runtime_micro cannot run this model yet: use LiteRT's "
                         "reference kernels instead (backend 'litert')") from exc
        else:
            from edgelite.peers import import_peer

            litert = import_peer("ai_edge_litert.interpreter", "backend 'litert'")
            LiteRT, OpResolverType = litert.Interpreter, litert.OpResolverType

            self._lite = LiteRT(model_content=model,
                                experimental_op_resolver_type=OpResolverType.BUILTIN_REF,
                                experimental_preserve_all_tensors=keep_tensors)
            self._lite.allocate_tensors()
            self._lite_inputs = [d["index"] for d in self._lite.get_input_details()]
            self._lite_outputs = [d["index"] for d in self._lite.get_output_details()]

    def run(self, sample: Mapping[str, np.ndarray]) -> None:
        for i, t in enumerate(self.graph.inputs):
            arr = np.ascontiguousarray(sample[t.name], dtype=t.dtype)
            if self.backend == "micro":
                self._micro.set_input(i, arr)
            else:
                self._lite.set_tensor(self._lite_inputs[i], arr)
        if self.backend == "micro":
            self._micro.invoke()
        else:
            self._lite.invoke()

    def tensor(self, t: ir.Tensor) -> np.ndarray:
        i = self.index[id(t)]
        if self.backend == "micro":
            return self._micro.get_tensor(i)  # already a copy (Interpreter._array)
        return np.array(self._lite.get_tensor(i), copy=True)

    def output(self, k: int) -> np.ndarray:
        """Model output ``k`` (by the file's output list, whatever the tensor numbering)."""
        if self.backend == "micro":
            return self._micro.get_output(k)  # already a copy
        return np.array(self._lite.get_tensor(self._lite_outputs[k]), copy=True)


R = TypeVar("R")
T = TypeVar("T")


def workers(backend: str, samples: int) -> int:
    """Runs side by side for a pass over calibration samples: runtime_micro only (LiteRT's
    Python calls hold the GIL), at most 2 (each one holds a whole linear-planner arena) and no
    more than the CPUs."""
    if backend != "micro":
        return 1
    return max(1, min(2, os.cpu_count() or 1, samples))


def in_sample_order(runner_sets: Sequence[T], samples: Sequence[Mapping[str, np.ndarray]],
                    work: Callable[[T, Mapping[str, np.ndarray]], R]) -> Iterator[R]:
    """``work(runner_sets[w], sample)`` for every sample, ``len(runner_sets)`` at a time on
    worker threads (runtime_micro's ctypes calls release the GIL; so does numpy's BLAS), the
    results yielded in sample order: whatever the caller sums from them does not depend on
    the number of workers."""
    if len(runner_sets) == 1:
        for sample in samples:
            yield work(runner_sets[0], sample)
        return
    n = len(runner_sets)
    with ThreadPoolExecutor(max_workers=n) as pool:
        for start in range(0, len(samples), n):
            batch = samples[start:start + n]
            yield from pool.map(work, runner_sets[:len(batch)], batch)
