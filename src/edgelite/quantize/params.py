"""Quantization parameters as TFLite's quantization spec and its tools compute them.

real = scale * (q - zero_point). The arithmetic follows TFLite's post-training quantizer
(tensorflow/lite/tools/optimize/quantization_utils.cc) including its float32 evaluation
order, so a range gives the same (scale, zero_point) bits TFLite would write:

- int8 activations: asymmetric over [-128, 127]; the range is widened to include 0 and the
  zero point is the rounded (half away from zero) ``qmin - min / scale``, clamped.
- int8 weights: symmetric per channel over [-127, 127], zero point 0.
- int32 bias: scale = input scale x weight scale (per channel), zero point 0.
- int16 activations (int16x8): symmetric over [-32767, 32767], zero point 0.

``quantize_multiplier`` is TFLite's QuantizeMultiplier (prepare-time double math), the same
algorithm runtime_micro implements in C (el_quant.c).
"""

from __future__ import annotations

import math

import numpy as np

from edgelite.ir import QuantParams

INT8_MIN, INT8_MAX = -128, 127
UINT8_MIN, UINT8_MAX = 0, 255
INT16_MAX = 32767
WEIGHT_QMAX = 127
INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1

_F32 = np.float32


def round_half_away(x: np.ndarray | float) -> np.ndarray:
    """C's round(): halves go away from zero (numpy's rint rounds them to even).

    Done as trunc plus a correction on the exact fractional part, so no addition can round
    (floor(x + 0.5) is wrong for the largest float below 0.5).
    """
    x = np.asarray(x, dtype=np.float64)
    t = np.trunc(x)
    return t + np.where(np.abs(x - t) >= 0.5, np.sign(x), 0.0)


def asymmetric_params(rmin: float, rmax: float, qmin: int = INT8_MIN,
                      qmax: int = INT8_MAX) -> tuple[float, int]:
    """Per-tensor (scale, zero_point) for an activation range, in float32 like TFLite.

    The range is widened to include 0 so that real 0 (padding, ReLU) is exact. A range of
    [0, 0] gives scale 0 in TFLite; we use the scale of [0, 1] instead, because a zero scale
    makes every kernel's multiplier undefined.
    """
    qmin_f, qmax_f = _F32(qmin), _F32(qmax)
    lo = min(_F32(rmin), _F32(0.0))
    hi = max(_F32(rmax), _F32(0.0))
    scale = _F32((hi - lo) / (qmax_f - qmin_f))
    if scale == 0:
        # An all-zero tensor (a dead ReLU): any scale represents it; use that of [0, 1].
        return asymmetric_params(0.0, 1.0, qmin, qmax)
    zp_from_min = _F32(qmin_f - lo / scale)
    if zp_from_min < qmin_f:
        zero_point = qmin
    elif zp_from_min > qmax_f:
        zero_point = qmax
    else:
        zero_point = int(round_half_away(zp_from_min))
    return float(scale), int(zero_point)


def symmetric_scale(absmax: float | np.ndarray, qmax: int) -> np.ndarray:
    """Symmetric scale(s) for a half range: absmax / qmax in float32.

    An all-zero channel (absmax 0) gets scale 1: its values quantize to 0 whatever the scale,
    and a zero scale would make the bias scale and the requantize multiplier zero.
    """
    absmax = np.atleast_1d(np.asarray(absmax, dtype=np.float32))
    scale = (absmax / _F32(qmax)).astype(np.float32)
    return np.where(scale > 0, scale, _F32(1.0)).astype(np.float32)


def activation_params_int8(rmin: float, rmax: float) -> QuantParams:
    scale, zp = asymmetric_params(rmin, rmax, INT8_MIN, INT8_MAX)
    return QuantParams(np.array([scale], np.float32), np.array([zp]))


def activation_params_uint8(rmin: float, rmax: float) -> QuantParams:
    scale, zp = asymmetric_params(rmin, rmax, UINT8_MIN, UINT8_MAX)
    return QuantParams(np.array([scale], np.float32), np.array([zp]))


def activation_params_int16(rmin: float, rmax: float) -> QuantParams:
    absmax = max(abs(float(_F32(rmin))), abs(float(_F32(rmax))))
    return QuantParams(symmetric_scale(absmax, INT16_MAX), np.array([0]))


def weight_absmax(w: np.ndarray, axis: int | None) -> np.ndarray:
    """max(|min|, |max|) over everything but ``axis`` (or the whole tensor for None)."""
    w = np.asarray(w, dtype=np.float32)
    if axis is None:
        return np.array([np.max(np.abs(w))], np.float32) if w.size else np.zeros(1, np.float32)
    axes = tuple(i for i in range(w.ndim) if i != axis % w.ndim)
    return np.max(np.abs(w), axis=axes).astype(np.float32)


def bias_safe_absmax(absmax: np.ndarray, bias: np.ndarray | None,
                     input_scale: float) -> np.ndarray:
    """Widen weight ranges whose int32 bias would overflow (TFLite's AdjustWeightsForBiasScale):
    a bias must stay within half the int32 range at scale input_scale * weight_scale."""
    if bias is None:
        return absmax
    b = np.abs(np.asarray(bias, np.float64))
    if absmax.size == 1:
        b = np.array([b.max()]) if b.size else np.zeros(1)
    limit = 0.5 * float(input_scale) * (absmax.astype(np.float64) / WEIGHT_QMAX) * INT32_MAX
    need = 2.0 * b / INT32_MAX * (WEIGHT_QMAX / float(input_scale))
    return np.where(b >= limit, need, absmax).astype(np.float32)


def quantize_weights_int8(w: np.ndarray, axis: int | None,
                          absmax: np.ndarray | None = None) -> tuple[np.ndarray, QuantParams]:
    """Symmetric int8 weights in [-127, 127], per channel along ``axis`` or per tensor.

    ``absmax``: the half range per channel, when it must differ from the data's own
    (see bias_safe_absmax)."""
    w = np.asarray(w, dtype=np.float32)
    absmax = weight_absmax(w, axis) if absmax is None else np.asarray(absmax, np.float32)
    scale = symmetric_scale(absmax, WEIGHT_QMAX)
    # TFLite multiplies by the float32 inverse 127 / half_range (not a division by the scale):
    # keep that rounding; an all-zero channel gets inverse 0.
    with np.errstate(divide="ignore"):
        inv = np.where(absmax > 0, _F32(WEIGHT_QMAX) / absmax, _F32(0)).astype(np.float32)
    shape = [1] * w.ndim
    if axis is not None:
        shape[axis % w.ndim] = -1
    q = round_half_away((w * inv.reshape(shape)).astype(np.float32))
    q = np.clip(q, -WEIGHT_QMAX, WEIGHT_QMAX).astype(np.int8)
    return q, QuantParams(scale, np.zeros(scale.size, np.int64),
                          axis=(axis % w.ndim) if axis is not None else 0)


def quantize_weights_int16(w: np.ndarray) -> tuple[np.ndarray, QuantParams]:
    """Symmetric per-tensor int16 constants (e.g. an int16x8 ADD's constant operand)."""
    w = np.asarray(w, dtype=np.float32)
    scale = symmetric_scale(weight_absmax(w, None), INT16_MAX)
    inv = _F32(1.0 / float(scale[0]))
    q = np.clip(round_half_away((w * inv).astype(np.float32)), -INT16_MAX, INT16_MAX)
    return q.astype(np.int16), QuantParams(scale, np.zeros(1, np.int64))


def bias_scale(input_scale: float, weight_scales: np.ndarray) -> np.ndarray:
    return (_F32(input_scale) * np.asarray(weight_scales, np.float32)).astype(np.float32)


def quantize_bias(b: np.ndarray, input_scale: float, weight_scales: np.ndarray,
                  dtype: str = "int32") -> tuple[np.ndarray, QuantParams]:
    """Bias with scale = input scale x weight scale, zero point 0 (int32, or int64 for 16x8)."""
    b = np.asarray(b, dtype=np.float32)
    scales = bias_scale(input_scale, weight_scales)
    if scales.size == 1 and b.size > 1:
        scales_b = np.full(b.shape, scales[0], np.float32)
    else:
        scales_b = scales
    # 1.0 / scale in double stored as float, times the float bias in float (TFLite's order).
    with np.errstate(divide="ignore"):
        inv = np.where(scales_b > 0, (1.0 / scales_b.astype(np.float64)), 0).astype(np.float32)
    q = round_half_away((b * inv).astype(np.float32).astype(np.float64))
    limit = np.iinfo(dtype).max
    q = np.clip(q, -limit, limit).astype(dtype)
    axis = 0
    return q, QuantParams(scales, np.zeros(scales.size, np.int64), axis=axis)


def quantize_values(x: np.ndarray, qp: QuantParams, dtype: str) -> np.ndarray:
    """Quantize real values with per-tensor params the way TFLite's QUANTIZE kernel does
    (round half away from zero of x / scale, plus zero point, clamped)."""
    info = np.iinfo(dtype)
    scale = np.float32(qp.scale[0])
    q = round_half_away(np.asarray(x, np.float32) / scale) + int(qp.zero_point[0])
    return np.clip(q, info.min, info.max).astype(dtype)


def dequantize_values(q: np.ndarray, qp: QuantParams, axis: int | None = None) -> np.ndarray:
    q = np.asarray(q).astype(np.float32)
    if qp.scale.size == 1:
        return ((q - np.float32(qp.zero_point[0])) * qp.scale[0]).astype(np.float32)
    shape = [1] * q.ndim
    shape[qp.axis if axis is None else axis] = -1
    zp = qp.zero_point.astype(np.float32).reshape(shape)
    return ((q - zp) * qp.scale.reshape(shape)).astype(np.float32)


def quantize_multiplier(real_multiplier: float) -> tuple[int, int]:
    """TFLite's QuantizeMultiplier: M ~= multiplier * 2^(shift - 31).

    frexp gives M = q * 2^shift with q in [0.5, 1); q * 2^31 is rounded half away from zero;
    if that rounds up to exactly 2^31 it is halved and the shift grows by one; a shift below
    -31 flushes the multiplier to 0 (shift 0).
    """
    if real_multiplier == 0.0:
        return 0, 0
    q, shift = math.frexp(float(real_multiplier))
    q_fixed = int(round_half_away(q * float(1 << 31)))
    if q_fixed > (1 << 31):
        raise ValueError(f"multiplier {real_multiplier!r}: frexp mantissa out of range")
    if q_fixed == (1 << 31):
        q_fixed //= 2
        shift += 1
    if shift < -31:
        shift = 0
        q_fixed = 0
    return int(q_fixed), int(shift)


def effective_scale(input_scale: float, weight_scale: float, output_scale: float) -> float:
    """The real multiplier a conv/FC kernel quantizes (double math, as TFLite's prepare)."""
    return float(input_scale) * float(weight_scale) / float(output_scale)
