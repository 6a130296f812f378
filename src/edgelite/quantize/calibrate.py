"""Calibration: run the float model on real samples and observe every activation's range.

The float IR is written with the TFLite writer and run on runtime_micro with the linear planner
(every tensor stays readable after invoke); the writer numbers tensors in ``graph.tensors()``
order, which is how IR tensors are found in the run. One observer per float activation
collects statistics sample by sample; ``ranges`` then gives (min, max) per tensor name.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgelite import ir
from edgelite.errors import Code, EdgeliteError
from edgelite.quantize.data import Progress, Sample
from edgelite.quantize.observers import METHODS, Observer, make_observer
from edgelite.quantize.runner import Runner, in_sample_order
from edgelite.quantize.runner import workers as _workers  # tests pin it

__all__ = ["METHODS", "Calibration", "calibrate", "observed_tensors"]


class Ranges(dict):
    """Float tensor name -> (min, max) as the calibration method estimated it; ``full`` has
    the whole (min, max) each tensor took. int16 tensors use ``full``: 65536 levels need no
    clipped tails, and a percentile cut there only loses signal (the DB detector's auto
    precision at 640 needed 203 raised ops and reached 20.4 dB with clipped int16 ranges,
    against 162 and 22.9 dB with min/max)."""

    def __init__(self, *args, full: dict[str, tuple[float, float]] | None = None) -> None:
        super().__init__(*args)
        self.full: dict[str, tuple[float, float]] = dict(full or {})


@dataclass
class Calibration:
    ranges: dict[str, tuple[float, float]]  # float tensor name -> (min, max)
    method: str
    samples: int
    # float tensor name -> mean over the samples of each channel (last axis), for bias
    # correction
    means: dict[str, np.ndarray] = field(default_factory=dict)
    # float tensor name -> E[x x^T] over channels, for the tensors asked for (AdaRound)
    moments: dict[str, np.ndarray] = field(default_factory=dict)
    # how many groups of tensors share one range (api._share_ranges: unrolled recurrences)
    shared_ranges: int = 0


def observed_tensors(graph: ir.Graph) -> list[ir.Tensor]:
    """The tensors whose ranges quantization needs: every float activation."""
    return [t for t in graph.tensors() if not t.is_const and t.dtype == "float32"]


def calibrate(graph: ir.Graph, samples: list[Sample], method: str = "minmax",
              percentile: float = 99.99, backend: str = "micro",
              progress: bool = True, model: bytes | None = None,
              moments_for: frozenset[str] = frozenset()) -> Calibration:
    """Observe ``graph``'s float activations over ``samples`` (already checked by data.py).

    ``model``: the graph's written bytes if the caller has them already.
    """
    from edgelite.tflite.writer import write_model

    watched = observed_tensors(graph)
    # The model's inputs and outputs keep their whole observed range whatever the method: the
    # caller's data goes in unclipped and what it reads back is never cut at a percentile
    # (a logit or a box coordinate past it would come back clipped).
    ends = {id(t) for t in (*graph.inputs, *graph.outputs)}
    observers: dict[str, Observer] = {
        t.name: make_observer("minmax" if id(t) in ends else method, percentile)
        for t in watched}
    model = model if model is not None else write_model(graph)
    # The float invokes are nearly all of the time (91 % for MobileNetV2 1.0/224 with 100
    # samples): one interpreter per worker thread runs samples side by side. Observers are
    # still fed in sample order, so the ranges (and the written model) do not depend on the
    # number of workers.
    runners = [Runner(model, graph, backend) for _ in range(_workers(backend, len(samples)))]

    def observe(runner: Runner, sample: Sample) -> list[np.ndarray]:
        runner.run(sample)
        return [runner.tensor(t) for t in watched]

    bar = Progress(len(samples), f"calibrating ({method})", progress)
    sums: dict[str, np.ndarray] = {}
    second: dict[str, np.ndarray] = {}
    for values in in_sample_order(runners, samples, observe):
        for t, v in zip(watched, values, strict=True):
            observers[t.name].update(v)
            if v.ndim and v.size and v.shape[-1]:
                m = v.reshape(-1, v.shape[-1]).astype(np.float64).mean(axis=0)
                sums[t.name] = sums[t.name] + m if t.name in sums else m
            if t.name in moments_for and v.ndim and v.size:
                x = v.reshape(-1, v.shape[-1]).astype(np.float64)
                mm = np.einsum("ni,nj->ij", x, x) / x.shape[0]
                second[t.name] = second[t.name] + mm if t.name in second else mm
        bar.step()
    ranges = Ranges({name: tuple(map(float, obs.range())) for name, obs in observers.items()},
                    full={name: (float(obs.min), float(obs.max))
                          for name, obs in observers.items() if obs.count})
    for t in watched:  # graph order: the first one named is where it starts
        if not all(np.isfinite(ranges[t.name])):
            producer = next((op for op in graph.ops if any(o is t for o in op.outputs)), None)
            where = f"{producer.type} {producer.name!r}" if producer is not None else "input"
            raise EdgeliteError(
                f"{where}: tensor {t.name!r} takes non-finite values (range "
                f"{list(ranges[t.name])}) on the calibration data; it cannot be quantized",
                code=Code.INVALID_MODEL,
                hint="check the float model and the calibration data (edgelite run on the "
                     "float model shows its outputs)")
    means = {name: (s / len(samples)).astype(np.float32) for name, s in sums.items()}
    moments = {name: s / len(samples) for name, s in second.items()}
    return Calibration(ranges, method, len(samples), means, moments)


def ranges_from_arrays(values: dict[str, list[np.ndarray]], method: str = "minmax",
                       percentile: float = 99.99) -> dict[str, tuple[float, float]]:
    """Ranges from already collected per-tensor arrays (for callers with their own runs)."""
    out = {}
    for name, arrays in values.items():
        obs = make_observer(method, percentile)
        for a in arrays:
            obs.update(a)
        out[name] = obs.range()
    return out
