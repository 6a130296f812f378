"""Bias correction (Nagel et al., "Data-Free Quantization Through Weight Equalization and Bias
Correction", ICCV 2019, section 4.2), with the input means measured on the calibration data.

Rounding the weights of a layer shifts the expected value of its output: with W~ the rounded
weights and E[x] the mean of its input, E[W~ x] - E[W x] = (W~ - W) E[x], a per-output-channel
offset that int8 layers pass on and accumulate (largest in depthwise convolutions, whose few
weights per channel round coarsely). Subtracting it from the float bias before the bias is
quantized removes it. The paper derives E[x] from the preceding BatchNorm; calibration has
the real per-channel input means, so those are used (its "empirical" variant).

Layouts are TFLite's: CONV_2D weights [O, KH, KW, I], DEPTHWISE_CONV_2D [1, KH, KW, C * M],
FULLY_CONNECTED [O, I]; activations channels-last. Zero padding at the borders is ignored
(the mean is taken as uniform over the kernel window).
"""

from __future__ import annotations

import numpy as np


def correction(op_type: str, w: np.ndarray, w_rounded: np.ndarray,
               mean: np.ndarray) -> np.ndarray | None:
    """The per-output-channel shift (W~ - W) E[x] of one layer, or None when the input mean
    does not fit the weights (a layout this does not handle)."""
    d = w_rounded.astype(np.float64) - w.astype(np.float64)
    mean = np.asarray(mean, np.float64).ravel()
    if op_type == "CONV_2D" and d.ndim == 4:
        if d.shape[3] != mean.size:
            return None
        return np.einsum("ohwi,i->o", d, mean)
    if op_type == "DEPTHWISE_CONV_2D" and d.ndim == 4:
        channels = d.shape[3]
        if mean.size == 0 or channels % mean.size:
            return None
        per_out = np.repeat(mean, channels // mean.size)  # output c reads input c // M
        return d.sum(axis=(0, 1, 2)) * per_out
    if op_type == "FULLY_CONNECTED" and d.ndim == 2:
        if d.shape[1] != mean.size:
            return None
        return d @ mean
    return None
