"""Range observers: statistics fed batch by batch, then one (min, max) per tensor.

All share one base (``Observer.update`` / ``Observer.range``), as ONNX Runtime's calibrators
do. MinMax keeps exact extremes; the others keep a histogram over [-2^k, 2^k] whose bins are
symmetric around 0 and double in width when data falls outside, so 0 always stays on a bin
edge, merging is exact and the result does not depend on how samples are split into batches.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

from edgelite.errors import Code, EdgeliteError

METHODS = ("minmax", "percentile", "entropy", "mse")


class Observer:
    """Collects statistics of one tensor over calibration batches."""

    def __init__(self) -> None:
        self.min = math.inf
        self.max = -math.inf
        self.count = 0

    def update(self, x: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float32)
        if x.size == 0:
            return
        self.min = min(self.min, float(x.min()))
        self.max = max(self.max, float(x.max()))
        self.count += x.size
        self._update(x)

    def _update(self, x: np.ndarray) -> None:
        pass

    def range(self) -> tuple[float, float]:
        if self.count == 0:
            raise EdgeliteError("observer saw no data", code=Code.INTERNAL)
        return self._range()

    def _range(self) -> tuple[float, float]:
        return self.min, self.max


class MinMaxObserver(Observer):
    """The exact minimum and maximum seen (TFLite's converter default)."""


class HistogramObserver(Observer):
    """A histogram over [-half, half] with ``bins`` bins; half doubles as data grows."""

    def __init__(self, bins: int = 2048) -> None:
        super().__init__()
        if bins % 4:
            raise ValueError("bins must be a multiple of 4")
        self.bins = bins
        self.half = 0.0  # half width of the histogram's range
        self.counts = np.zeros(bins, np.int64)

    def _update(self, x: np.ndarray) -> None:
        absmax = float(np.max(np.abs(x)))  # NaN if x holds one
        if not (math.isfinite(absmax) and math.isfinite(self.half)):
            # inf or NaN, now or in an earlier batch: no histogram can hold it; the range is
            # non-finite (_range), which calibration refuses naming the tensor
            self.half = math.nan
            return
        if self.half == 0.0:
            if absmax == 0.0:
                self.counts[self.bins // 2] += x.size  # all zeros: the bin just above 0
                return
            # A power of two: the final range is then the smallest power of two covering all
            # data, whatever the batch split, so the histogram is identical too.
            self.half = 2.0 ** math.ceil(math.log2(absmax))
        while absmax > self.half:
            # Merge neighbour pairs (width doubles) and pad a quarter on each side: the bins
            # stay symmetric around 0 and every old bin falls entirely into one new bin.
            merged = self.counts.reshape(-1, 2).sum(axis=1)
            pad = self.bins // 4
            self.counts = np.concatenate([np.zeros(pad, np.int64), merged,
                                          np.zeros(pad, np.int64)])
            self.half *= 2.0
        idx = np.floor((x.astype(np.float64) + self.half) * (self.bins / (2 * self.half)))
        idx = np.clip(idx, 0, self.bins - 1).astype(np.int64)
        self.counts += np.bincount(idx.ravel(), minlength=self.bins)

    @property
    def edges(self) -> np.ndarray:
        return np.linspace(-self.half, self.half, self.bins + 1)

    @property
    def centers(self) -> np.ndarray:
        e = self.edges
        return (e[:-1] + e[1:]) / 2

    def _range(self) -> tuple[float, float]:
        if self.half == 0.0:
            return 0.0, 0.0
        if not math.isfinite(self.half):  # non-finite values seen (see _update)
            # min/max when they show it (an inf); NaN does not survive Python's min/max
            finite = math.isfinite(self.min) and math.isfinite(self.max)
            return (math.nan, math.nan) if finite else (self.min, self.max)
        lo, hi = self._clip_range()
        # Never wider than what was seen; the caller widens to include 0.
        return max(lo, self.min), min(hi, self.max)

    def _clip_range(self) -> tuple[float, float]:
        raise NotImplementedError


class PercentileObserver(HistogramObserver):
    """Clips the (100 - percentile) / 2 % most extreme values on each side."""

    def __init__(self, percentile: float = 99.99, bins: int = 2048) -> None:
        super().__init__(bins)
        if not 50.0 < percentile <= 100.0:
            raise EdgeliteError(f"percentile {percentile} must be in (50, 100]",
                                hint="e.g. 99.99")
        self.percentile = percentile

    def _clip_range(self) -> tuple[float, float]:
        cdf = np.cumsum(self.counts) / self.counts.sum()
        tail = (100.0 - self.percentile) / 200.0
        edges = self.edges
        lo_bin = int(np.searchsorted(cdf, tail, side="right"))
        hi_bin = int(np.searchsorted(cdf, 1.0 - tail, side="left"))
        return float(edges[lo_bin]), float(edges[min(hi_bin + 1, self.bins)])


def _quant_error(centers: np.ndarray, counts: np.ndarray, lo: np.ndarray,
                 hi: np.ndarray, levels: int) -> np.ndarray:
    """Expected squared error of asymmetric uniform quantization on [lo, hi] (per row)."""
    lo = np.minimum(lo, 0.0)[:, None]
    hi = np.maximum(hi, 0.0)[:, None]
    scale = np.maximum((hi - lo) / (levels - 1), 1e-30)
    q = np.clip(np.round((centers[None, :] - lo) / scale), 0, levels - 1)
    err = (q * scale + lo - centers[None, :]) ** 2
    return (err * counts[None, :]).sum(axis=1)


class MSEObserver(HistogramObserver):
    """The clip range (shrinking both ends together) with the least quantization MSE."""

    def __init__(self, bins: int = 2048, steps: int = 100, levels: int = 256) -> None:
        super().__init__(bins)
        self.steps = steps
        self.levels = levels

    def _clip_range(self) -> tuple[float, float]:
        keep = self.counts > 0
        centers, counts = self.centers[keep], self.counts[keep].astype(np.float64)
        factors = np.linspace(1.0 / self.steps, 1.0, self.steps)
        lo, hi = min(self.min, 0.0) * factors, max(self.max, 0.0) * factors
        err = _quant_error(centers, counts, lo, hi, self.levels)
        best = int(np.argmin(err[::-1]))  # ties go to the widest range
        best = self.steps - 1 - best
        return float(lo[best]), float(hi[best])


class EntropyObserver(HistogramObserver):
    """The |x| threshold minimising KL(P || Q) between the clipped distribution and its
    ``levels``-level quantization (TensorRT's entropy calibration, on our histogram)."""

    def __init__(self, bins: int = 2048, stride: int = 4) -> None:
        super().__init__(bins)
        self.stride = stride

    def _clip_range(self) -> tuple[float, float]:
        half = self.bins // 2
        pos, neg = self.counts[half:], self.counts[:half][::-1]
        absolute = (pos + neg).astype(np.float64)
        one_sided = self.min >= 0.0 or self.max <= 0.0
        levels = 255 if one_sided else 128
        last = int(np.nonzero(absolute)[0].max()) + 1
        if last <= levels:
            return self.min, self.max
        # The bin at 0 holds ReLU's exact zeros, which every range represents exactly; left
        # as a spike, Q smears it over its whole group and KL then favours narrow groups,
        # i.e. heavy clipping (an int8 digits CNN fell to 8 dB). Like NVIDIA's
        # pytorch-quantization, give it its neighbour's count.
        absolute[0] = absolute[1]
        best_i, best_kl = last, math.inf
        # Every stride-th threshold, and always the full range (no clipping at all).
        for i in [*range(levels, last, self.stride), last]:
            kl = _kl_divergence(absolute, i, levels)
            if kl < best_kl:
                best_i, best_kl = i, kl
        threshold = best_i * (self.half / half)
        return -threshold, threshold


def _kl_divergence(hist: np.ndarray, i: int, levels: int) -> float:
    p = hist[:i].copy()
    p[i - 1] += hist[i:].sum()  # outliers are clipped into the last bin
    # Q: p's first i bins merged into `levels` groups, each spread over its non-empty bins.
    groups = (np.arange(i) * levels) // i
    nonzero = hist[:i] > 0
    sums = np.bincount(groups, weights=hist[:i], minlength=levels)
    n_nonzero = np.bincount(groups, weights=nonzero.astype(np.float64), minlength=levels)
    q = np.where(nonzero, sums[groups] / np.maximum(n_nonzero[groups], 1), 0.0)
    p_sum, q_sum = p.sum(), q.sum()
    if p_sum == 0 or q_sum == 0:
        return math.inf
    p, q = p / p_sum, q / q_sum
    mask = p > 0
    if np.any(q[mask] == 0):
        return math.inf
    return float(np.sum(p[mask] * np.log(p[mask] / q[mask])))


def make_observer(method: str, percentile: float = 99.99) -> Observer:
    factories: dict[str, Callable[[], Observer]] = {
        "minmax": MinMaxObserver,
        "percentile": lambda: PercentileObserver(percentile),
        "entropy": EntropyObserver,
        "mse": MSEObserver,
    }
    if method not in factories:
        raise EdgeliteError(f"unknown calibration method {method!r}",
                            hint=f"use one of: {', '.join(METHODS)}")
    return factories[method]()
