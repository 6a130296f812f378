"""Calibration: run the float model on real samples and observe every activation's range.

The float IR is written with the TFLite writer and run on runtime_micro with the linear planner
(every tensor stays readable after invoke); the writer numbers tensors in ``graph.tensors()``
order, which is how IR tensors are found in the run. One observer per float activation
collects statistics sample by sample; ``ranges`` then gives (min, max) per tensor name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edgelite import ir
from edgelite.quantize.data import Progress, Sample
from edgelite.quantize.observers import METHODS, Observer, make_observer
from edgelite.quantize.runner import Runner

__all__ = ["METHODS", "Calibration", "calibrate", "observed_tensors"]


@dataclass
class Calibration:
    ranges: dict[str, tuple[float, float]]  # float tensor name -> (min, max)
    method: str
    samples: int


def observed_tensors(graph: ir.Graph) -> list[ir.Tensor]:
    """The tensors whose ranges quantization needs: every float activation."""
    return [t for t in graph.tensors() if not t.is_const and t.dtype == "float32"]


def calibrate(graph: ir.Graph, samples: list[Sample], method: str = "minmax",
              percentile: float = 99.99, backend: str = "micro",
              progress: bool = True, model: bytes | None = None) -> Calibration:
    """Observe ``graph``'s float activations over ``samples`` (already checked by data.py).

    ``model``: the graph's written bytes if the caller has them already.
    """
    from edgelite.converter.tflite.writer import write_model

    watched = observed_tensors(graph)
    observers: dict[str, Observer] = {t.name: make_observer(method, percentile) for t in watched}
    runner = Runner(model if model is not None else write_model(graph), graph, backend)
    bar = Progress(len(samples), f"calibrating ({method})", progress)
    for sample in samples:
        runner.run(sample)
        for t in watched:
            observers[t.name].update(runner.tensor(t))
        bar.step()
    ranges = {name: tuple(map(float, obs.range())) for name, obs in observers.items()}
    return Calibration(ranges, method, len(samples))


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
