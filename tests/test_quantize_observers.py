"""Range observers: exact extremes, batch-split invariance, and outlier clipping.

Expected values come from numpy on the same data (np.min/np.max/np.quantile), not from the
observers themselves.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgelite.errors import EdgeliteError
from edgelite.quantize import observers as O
from edgelite.quantize import params


def _feed(obs: O.Observer, x: np.ndarray, batches: int) -> O.Observer:
    for part in np.array_split(x, batches):
        obs.update(part)
    return obs


def test_minmax_is_exact() -> None:
    x = np.random.default_rng(0).standard_normal(10_000).astype(np.float32) * 3 + 1
    lo, hi = _feed(O.MinMaxObserver(), x, 7).range()
    assert (lo, hi) == (float(x.min()), float(x.max()))


@pytest.mark.parametrize("method", ["percentile", "entropy", "mse"])
def test_histogram_observers_do_not_depend_on_batch_split(method: str) -> None:
    rng = np.random.default_rng(1)
    # Growing magnitudes force the histogram to widen several times.
    x = np.concatenate([rng.standard_normal(3000) * s for s in (0.1, 1.0, 10.0, 50.0)])
    x = x.astype(np.float32)
    one = _feed(O.make_observer(method), x, 1).range()
    many = _feed(O.make_observer(method), x, 9).range()
    assert one == pytest.approx(many, rel=1e-6, abs=1e-6)


def test_histogram_widening_keeps_counts() -> None:
    obs = O.PercentileObserver()
    obs.update(np.array([0.5, -0.5], np.float32))
    obs.update(np.array([100.0], np.float32))
    assert obs.counts.sum() == 3
    assert obs.half >= 100.0


def test_percentile_matches_numpy_quantiles() -> None:
    x = np.random.default_rng(2).uniform(-1.0, 3.0, 200_000).astype(np.float32)
    lo, hi = _feed(O.PercentileObserver(99.0), x, 4).range()
    q_lo, q_hi = np.quantile(x, [0.005, 0.995])
    width = 2 * 3.0 / 2048  # one histogram bin
    assert abs(lo - q_lo) <= 2 * width
    assert abs(hi - q_hi) <= 2 * width


def test_percentile_clips_outliers() -> None:
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.standard_normal(100_000), [80.0]]).astype(np.float32)
    lo, hi = _feed(O.PercentileObserver(99.9), x, 5).range()
    assert 2.0 < hi < 5.0 and -5.0 < lo < -2.0  # the lone 80 is dropped, the bulk kept
    assert _feed(O.MinMaxObserver(), x, 5).range()[1] == 80.0


def _tflite_quant_mse(x: np.ndarray, lo: float, hi: float) -> float:
    """Mean squared error of int8 quantize/dequantize with TFLite's params for [lo, hi]."""
    scale, zp = params.asymmetric_params(lo, hi)
    q = np.clip(np.round(x / scale) + zp, -128, 127)
    return float(np.mean(((q - zp) * scale - x) ** 2))


def test_mse_range_beats_minmax_on_heavy_tails() -> None:
    x = np.random.default_rng(5).laplace(0.0, 1.0, 200_000).astype(np.float32)
    lo, hi = _feed(O.MSEObserver(), x, 3).range()
    assert hi < float(x.max()) and lo > float(x.min())
    assert _tflite_quant_mse(x, lo, hi) < 0.8 * _tflite_quant_mse(x, float(x.min()),
                                                                  float(x.max()))


def test_entropy_clips_sparse_tails() -> None:
    # A Gaussian bulk plus 0.1 % of values spread thinly out to +-50.
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.standard_normal(200_000), rng.uniform(-50, 50, 200)])
    x = x.astype(np.float32)
    lo, hi = _feed(O.EntropyObserver(), x, 3).range()
    assert 4.0 < hi < 0.8 * float(x.max())
    assert lo == -hi  # two-sided data: a symmetric threshold


def test_entropy_one_sided() -> None:
    # ReLU-like data: never a negative range.
    x = np.abs(np.random.default_rng(4).standard_normal(50_000)).astype(np.float32)
    obs = _feed(O.EntropyObserver(), x, 3)
    lo, hi = obs.range()
    assert lo >= 0.0 and 1.5 < hi <= float(x.max())


def test_entropy_relu_zero_spike_does_not_force_clipping() -> None:
    # ReLU output: half the values are exactly 0, which any range represents exactly. The
    # spike must not pull the threshold in (it did: 1.98 of 3.91, and an int8 digits CNN fell
    # to 8 dB output SQNR).
    x = np.maximum(np.random.default_rng(4).standard_normal(50_000), 0).astype(np.float32)
    lo, hi = _feed(O.EntropyObserver(), x, 3).range()
    assert lo == 0.0 and hi > 0.85 * float(x.max())


def test_all_zero_tensor() -> None:
    for method in O.METHODS:
        obs = O.make_observer(method)
        obs.update(np.zeros(10, np.float32))
        assert obs.range() == (0.0, 0.0)


def test_unknown_method_and_bad_percentile() -> None:
    with pytest.raises(EdgeliteError, match="unknown calibration method"):
        O.make_observer("median")
    with pytest.raises(EdgeliteError, match="percentile"):
        O.make_observer("percentile", percentile=120.0)


@pytest.mark.parametrize("method", ["minmax", "entropy"])
def test_calibration_does_not_depend_on_worker_count(method: str, monkeypatch) -> None:
    """calibrate() runs samples on two interpreters side by side; the ranges must equal a
    one-interpreter run (observers are fed in sample order), and minmax must equal numpy's
    extremes of the float model's input."""
    from pathlib import Path

    from edgelite.quantize import calibrate as C
    from edgelite.quantize.api import load_graph
    from edgelite.quantize.data import load_samples

    digits = Path(__file__).resolve().parents[1] / "examples" / "digits"
    graph = load_graph(digits / "digits_cnn.onnx")
    samples = load_samples(digits / "calibration.npz", graph, samples=9)
    monkeypatch.setattr(C, "_workers", lambda backend, n: 2)
    two = C.calibrate(graph, samples, method, progress=False).ranges
    monkeypatch.setattr(C, "_workers", lambda backend, n: 1)
    one = C.calibrate(graph, samples, method, progress=False).ranges
    assert two == one
    if method == "minmax":
        x = np.concatenate([s["input"] for s in samples])
        assert two["input"] == (float(x.min()), float(x.max()))


@pytest.mark.parametrize("method", ["percentile", "entropy", "mse"])
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_histogram_observers_give_a_non_finite_range_after_inf_or_nan(method: str,
                                                                       bad: float) -> None:
    """An inf or NaN in any batch (not only the first) leaves a non-finite range, which
    calibration refuses naming the tensor; it used to crash (OverflowError) or, for a NaN
    after finite batches, to be binned as garbage."""
    obs = O.make_observer(method)
    obs.update(np.array([1.0, 2.0], np.float32))
    obs.update(np.array([bad, 1.0], np.float32))
    obs.update(np.array([3.0, 4.0], np.float32))
    assert not all(np.isfinite(obs.range()))
