"""Latency statistics over the timed runs of one runtime."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Latency:
    runs: int
    min_ms: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float

    def as_json(self) -> dict[str, float | int]:
        return asdict(self)


def summarize(samples_ns: Sequence[int]) -> Latency:
    """min / median / p90 / p99 / mean of per-run wall times (nanoseconds in, milliseconds out).

    Percentiles interpolate linearly between ranks (numpy's default), so p99 of 50 runs sits
    between the two slowest runs rather than being the single worst outlier.
    """
    if not samples_ns:
        raise ValueError("no timed runs")
    ms = np.asarray(samples_ns, dtype=np.float64) / 1e6
    p50, p90, p99 = (float(v) for v in np.percentile(ms, [50, 90, 99]))
    return Latency(runs=int(ms.size), min_ms=float(ms.min()), p50_ms=p50, p90_ms=p90,
                   p99_ms=p99, mean_ms=float(ms.mean()))
