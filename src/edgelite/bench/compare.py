"""Interleaved timing of several runners, and how far each one's outputs are from edgelite's.

Runs go round-robin (one invoke of each runner per round, the starting runner rotating), so a
burst of machine noise lands on every runtime alike; compare ratios taken in one run, not
figures from different runs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from edgelite.bench.inputs import ModelLayout
from edgelite.bench.runners import Runner, _real
from edgelite.runtime.interpreter import TensorDetails


@dataclass(frozen=True)
class Timings:
    samples_ns: dict[str, list[int]]  # runner key -> one wall time per timed invoke
    failures: dict[str, str]  # runner key -> why it stopped (its invoke raised)


def interleaved(runners: list[Runner], warmup: int, runs: int, max_seconds: float,
                on_round: Callable[[], None] | None = None) -> Timings:
    """`warmup` untimed then up to `runs` timed invokes of each runner, round-robin.
    ``on_round`` is called after each round (a progress bar), outside the timed invokes.

    The timed rounds stop early once `max_seconds` have passed (after at least one round).
    The first runner must not fail (it is edgelite: its errors propagate); a peer whose invoke
    raises is dropped and reported.
    """
    live = list(runners)
    failures: dict[str, str] = {}

    def step(r: Runner) -> int | None:
        try:
            r.set_inputs()
            start = time.perf_counter_ns()
            r.invoke()
        except Exception as e:
            if r is runners[0]:
                raise
            failures[r.key] = f"invoke failed: {' '.join(str(e).split())[:300]}"
            live.remove(r)
            return None
        return time.perf_counter_ns() - start  # set_inputs is not timed

    for _ in range(warmup):
        for r in list(live):
            step(r)
        if on_round is not None:
            on_round()
    samples: dict[str, list[int]] = {r.key: [] for r in live}
    deadline = time.perf_counter() + max_seconds
    gc_was_on = gc.isenabled()
    gc.disable()  # a collection inside a timed invoke would charge one runtime for all
    try:
        for round_ in range(runs):
            order = live[round_ % len(live):] + live[:round_ % len(live)]
            for r in order:
                t = step(r)
                if t is not None:
                    samples[r.key].append(t)
            if on_round is not None:
                on_round()
            if time.perf_counter() > deadline:
                break
    finally:
        if gc_was_on:
            gc.enable()
    return Timings({k: v for k, v in samples.items() if v}, failures)


@dataclass(frozen=True)
class Agreement:
    exact: bool
    max_abs_diff: float
    differing: float  # fraction of output values that differ
    unit: str  # "steps" (both integer), "real" (real values vs edgelite dequantized), ""
    max_steps: float | None = None  # for "real": the difference in edgelite's output steps
    problem: str = ""  # outputs that could not be compared, and why

    def text(self) -> str:
        if self.problem:
            return self.problem
        if self.exact:
            return "bit-exact"
        if self.unit == "steps":
            return (f"max diff {self.max_abs_diff:.0f} steps, {100 * self.differing:.1f} % of "
                    "values differ")
        text = f"max abs diff {self.max_abs_diff:.3g}"
        if self.max_steps is not None:
            text += f" ({self.max_steps:.2f} output steps)"
        return text

    def as_json(self) -> dict:
        return {"exact": self.exact, "max_abs_diff": self.max_abs_diff,
                "differing_fraction": self.differing, "unit": self.unit,
                "max_steps": self.max_steps, "problem": self.problem or None}


def agreement(ours: list[np.ndarray], theirs: list[np.ndarray], details: list[TensorDetails],
              layout: ModelLayout, real: bool) -> Agreement:
    """Compare a peer's outputs with edgelite's.

    real: the peer gives real values in the ONNX model's layout (ONNX Runtime), so edgelite's
    outputs are dequantized and moved back to channels-first where the converter moved them.
    """
    if len(theirs) != len(ours):
        return Agreement(False, float("nan"), 1.0, "", problem=f"{len(theirs)} outputs, "
                         f"edgelite has {len(ours)}")
    exact, worst, worst_steps, differ, total = True, 0.0, 0.0, 0, 0
    integer = not real
    for a, b, d in zip(ours, theirs, details):
        b = np.asarray(b)
        if real:
            a = _real(a, d)
            if d.name in layout.outputs and a.ndim >= 3 and a.shape != b.shape:
                a = np.moveaxis(a, -1, 1)
        if a.shape != b.shape:
            if a.size != b.size:
                return Agreement(False, float("nan"), 1.0, "", problem=f"output {d.name!r}: "
                                 f"shape {list(b.shape)}, edgelite {list(a.shape)}")
            b = b.reshape(a.shape)  # e.g. a kept batch dimension of 1
        integer = integer and a.dtype.kind in "iub" and b.dtype.kind in "iub"
        exact = exact and a.dtype == b.dtype and bool(np.array_equal(a, b))
        diff = np.abs(a.astype(np.float64) - b.astype(np.float64))
        if diff.size:
            m = float(np.nanmax(diff)) if not np.all(np.isnan(diff)) else float("nan")
            worst = max(worst, m)
            if real and d.scale > 0 and d.dtype.kind in "iu":
                worst_steps = max(worst_steps, m / d.scale)
        differ += int(np.count_nonzero(diff))
        total += diff.size
    unit = "steps" if integer else ("real" if real else "")
    quantized = real and any(d.scale > 0 and d.dtype.kind in "iu" for d in details)
    return Agreement(exact, worst, differ / max(total, 1), unit,
                     max_steps=worst_steps if quantized else None)
