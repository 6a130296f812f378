"""Per-op profile: time every op with runtime_micro's per-op callback, in a pass of its own.

The callback is a Python function called through ctypes before and after each op, which costs
a few microseconds per call; that is why the latency runs never use it and this pass runs on a
separate interpreter. Figures are medians over the pass (the machine is shared and noisy; a
mean would be set by the worst interruptions). Control-flow ops (WHILE, IF, CALL_ONCE) contain
the ops of the subgraphs they call: each op's `self` time excludes the ops nested inside it, so
self times add up to the whole invoke, and percentages are of that sum.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass

import numpy as np

from edgelite.runtime.interpreter import Interpreter
from edgelite.tflite.reader import ModelInfo


@dataclass(frozen=True)
class OpTime:
    subgraph: int
    index: int
    op: str
    calls: int  # how many times it ran over the whole pass (invokes x runs per invoke)
    median_us: float  # per call, including nested subgraphs for control-flow ops
    mean_us: float
    self_median_us: float  # per call, excluding nested ops
    percent: float  # of the invoke: self median x calls per invoke / sum over all ops


@dataclass(frozen=True)
class TypeTime:
    op: str
    count: int  # ops of this type that ran
    us_per_invoke: float  # self time per invoke, all ops of this type together (from medians)
    percent: float


@dataclass(frozen=True)
class Profile:
    invokes: int
    invoke_median_us: float  # wall time of a profiled invoke, callbacks included
    ops: list[OpTime]  # by subgraph, then op index (run order within a subgraph)
    by_type: list[TypeTime]  # slowest first

    def as_json(self) -> dict:
        return {
            "invokes": self.invokes,
            "invoke_median_us": self.invoke_median_us,
            "ops": [vars(o) for o in self.ops],
            "by_type": [vars(t) for t in self.by_type],
        }


class _Recorder:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.incl: dict[tuple[int, int], list[int]] = {}
        self.self_: dict[tuple[int, int], list[int]] = {}
        self._stack: list[list[int]] = []  # [subgraph, op, start_ns, nested_ns]

    def __call__(self, subgraph: int, op_index: int, _code: int, is_after: bool) -> None:
        now = time.perf_counter_ns()
        if not is_after:
            self._stack.append([subgraph, op_index, now, 0])
            return
        sg, op, start, nested = self._stack.pop()
        if (sg, op) != (subgraph, op_index):
            raise RuntimeError(f"profile: op {subgraph}:{op_index} ended inside {sg}:{op}")
        elapsed = now - start
        self.incl.setdefault((sg, op), []).append(elapsed)
        self.self_.setdefault((sg, op), []).append(elapsed - nested)
        if self._stack:
            self._stack[-1][3] += elapsed


def profile_ops(model: bytes, info: ModelInfo, inputs: list[np.ndarray],
                invokes: int, max_seconds: float, disable_isa: int = 0,
                threads: int = 1, fp16: bool = False) -> Profile:
    """Run `invokes` profiled invokes (fewer if max_seconds runs out; at least one)."""
    rec = _Recorder()
    # an op callback keeps every op's output (no PAD folded into its convolution): its arena
    # may be larger than the workload's, so the runtime's own query sizes it
    it = Interpreter(model, arena_size=None, callback=rec,
                     disable_isa=disable_isa, num_threads=threads, allow_fp16=fp16)

    def feed() -> None:  # the input's memory is reused by later tensors: rewrite it each time
        for i, x in enumerate(inputs):
            it.set_input(i, x)

    feed()
    it.invoke()  # warm caches and lazy state outside the recorded pass
    rec.reset()
    walls: list[int] = []
    deadline = time.perf_counter() + max_seconds
    while len(walls) < invokes:
        feed()
        start = time.perf_counter_ns()
        it.invoke()
        walls.append(time.perf_counter_ns() - start)
        if time.perf_counter() > deadline:
            break
    done = len(walls)
    keys = sorted(rec.incl)
    # Per-invoke self time of each op, from its median call.
    share = {k: statistics.median(rec.self_[k]) * len(rec.self_[k]) / done for k in keys}
    total = sum(share.values()) or 1.0
    ops = [OpTime(subgraph=k[0], index=k[1], op=info.subgraphs[k[0]].operators[k[1]].op,
                  calls=len(rec.incl[k]), median_us=statistics.median(rec.incl[k]) / 1e3,
                  mean_us=statistics.fmean(rec.incl[k]) / 1e3,
                  self_median_us=statistics.median(rec.self_[k]) / 1e3,
                  percent=100.0 * share[k] / total)
           for k in keys]
    types: dict[str, list[float]] = {}
    for o, k in zip(ops, keys):
        t = types.setdefault(o.op, [0, 0.0])
        t[0] += 1
        t[1] += share[k]
    by_type = sorted((TypeTime(op=name, count=int(c), us_per_invoke=ns / 1e3,
                               percent=100.0 * ns / total)
                      for name, (c, ns) in types.items()),
                     key=lambda t: (-t.percent, t.op))
    return Profile(invokes=done, invoke_median_us=statistics.median(walls) / 1e3, ops=ops,
                   by_type=by_type)
