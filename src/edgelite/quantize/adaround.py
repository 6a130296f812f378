"""AdaRound-style weight rounding (Nagel et al., "Up or Down? Adaptive Rounding for
Post-Training Quantization", ICML 2020), in its layer-wise quadratic form.

Rounding each weight to the nearest step is not what keeps a layer's output closest: with the
layer input x, the output error of one output channel is e^T x, e = (rounded - real weights),
and its expected square is e^T C e with C = E[x x^T] (the paper's local loss, its eq. 13 with
the Hessian replaced by the input's second moment). Each weight may round down or up; the
paper relaxes that choice and optimises it by gradient descent; here the same quadratic is
minimised by greedy coordinate descent over the up/down choices, starting from nearest
rounding (each flip is kept only if it lowers e^T C e, so the result is never worse than
nearest rounding on the calibration statistics).

C is over input channels (calibrated on the layer's input); for a KxK convolution the
spatial taps are treated as independent (C block-diagonal over the window), an approximation
of the patch covariance that needs no im2col of the calibration data.
"""

from __future__ import annotations

import numpy as np

from edgelite.quantize.params import WEIGHT_QMAX, round_half_away

SWEEPS = 2


def round_weights(w: np.ndarray, scale: np.ndarray, moment: np.ndarray) -> np.ndarray:
    """int8 weights for ``w`` ([O, ..., I], per-output-channel ``scale`` [O]) minimising the
    expected output error under input second moment ``moment`` ([I, I])."""
    out_ch, in_ch = w.shape[0], w.shape[-1]
    v = w.reshape(out_ch, -1, in_ch).astype(np.float64) / scale.astype(np.float64)[:, None, None]
    q = np.clip(round_half_away(v), -WEIGHT_QMAX, WEIGHT_QMAX)
    c = moment.astype(np.float64)
    err = q - v  # in steps; the per-channel scale factors out of each channel's cost
    grad = err @ c  # (C e) for every (channel, tap)
    for _ in range(SWEEPS):
        changed = False
        for i in range(in_ch):
            # The other rounding direction: up if rounded down, down if rounded up.
            d = np.where(err[..., i] < 0, 1.0, -1.0)
            target = q[..., i] + d
            ok = (np.abs(target) <= WEIGHT_QMAX) & (np.abs(err[..., i] + d) < 1.0)
            gain = 2.0 * d * grad[..., i] + c[i, i]  # change of e^T C e
            flip = ok & (gain < -1e-12)
            if not flip.any():
                continue
            changed = True
            step = np.where(flip, d, 0.0)
            q[..., i] += step
            err[..., i] += step
            grad += step[..., None] * c[i][None, None, :]
        if not changed:
            break
    return q.reshape(w.shape).astype(np.int8)
