"""Quantization parameters against hand-worked cases of TFLite's spec and its tools.

Each expected value below was worked out by hand from the spec's formulas (and the float32
evaluation order of tensorflow/lite/tools/optimize/quantization_utils.cc); none is produced by
our code. The multiplier is also compared with runtime_micro's C implementation.
"""

from __future__ import annotations

import ctypes
import math
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from edgelite.quantize import params

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "rmin, rmax, scale, zp",
    [
        (0.0, 2.55, np.float32(2.55) / np.float32(255), -128),  # ReLU-like: zp at qmin
        (-1.28, 1.27, (np.float32(1.27) + np.float32(1.28)) / np.float32(255), 0),
        (5.0, 10.0, np.float32(10.0) / np.float32(255), -128),  # widened down to 0
        (-10.0, -5.0, np.float32(10.0) / np.float32(255), 127),  # widened up to 0
        (-3.0, 1.0, np.float32(4.0) / np.float32(255), 63),  # -128 + 191.25 = 63.25 -> 63
        (-1.0, 3.0, np.float32(4.0) / np.float32(255), -64),  # -128 + 63.75 = -64.25 -> -64
    ],
)
def test_asymmetric_int8(rmin: float, rmax: float, scale: float, zp: int) -> None:
    got_scale, got_zp = params.asymmetric_params(rmin, rmax)
    assert np.float32(got_scale) == np.float32(scale)
    assert got_zp == zp


def test_asymmetric_zero_point_rounds_half_away_from_zero() -> None:
    # [-0.5, 1.0] on 0..255 (uint8): scale 1.5/255; zp = 0 + 0.5/scale = 85 exactly.
    # [-1, 1] with qmin -128: zp_from_min = -128 + 127.5 = -0.5 -> C round gives -1 (not 0).
    scale, zp = params.asymmetric_params(-1.0, 1.0)
    zp_from_min = np.float32(-128) - np.float32(-1.0) / np.float32(scale)
    assert abs(float(zp_from_min) + 0.5) < 1e-4
    assert zp == (-1 if zp_from_min <= -0.5 else 0)
    assert params.asymmetric_params(-0.5, 1.0, 0, 255)[1] == 85


def test_zero_range_gets_a_usable_scale() -> None:
    scale, zp = params.asymmetric_params(0.0, 0.0)
    assert scale > 0 and zp == -128


def test_int16_activation_symmetric() -> None:
    qp = params.activation_params_int16(-2.0, 0.5)
    assert qp.zero_point.tolist() == [0]
    assert qp.scale[0] == np.float32(2.0) / np.float32(32767)


def test_weights_per_channel_symmetric() -> None:
    # Channel 0 absmax 127 -> scale 1, inverse 1: 2.5 -> 3 and -2.5 -> -3 (half away from 0,
    # numpy's rint would give 2/-2). Channel 1 absmax 0.5 -> scale 0.5/127, 0.5 -> 127.
    # Channel 2 all zeros -> all-zero values.
    w = np.zeros((3, 1, 1, 2), np.float32)
    w[0, 0, 0] = [2.5, -127.0]
    w[1, 0, 0] = [-2.5 / 254.0 * 2, 0.5]  # -0.0196.. * 254 = -4.98 -> -5
    q, qp = params.quantize_weights_int8(w, axis=0)
    assert q.dtype == np.int8
    assert q[0, 0, 0].tolist() == [3, -127]
    assert q[1, 0, 0].tolist() == [-5, 127]
    assert q[2, 0, 0].tolist() == [0, 0]
    assert qp.axis == 0 and qp.zero_point.tolist() == [0, 0, 0]
    assert qp.scale[0] == 1.0 and qp.scale[1] == np.float32(0.5) / np.float32(127)
    assert np.all(q >= -127)  # never -128 for weights


def test_weights_depthwise_axis3() -> None:
    w = np.array([[[[1.0, -4.0]]], [[[-2.0, 2.0]]]], np.float32)  # (2,1,1,2): channels last
    q, qp = params.quantize_weights_int8(w, axis=3)
    assert qp.axis == 3
    assert qp.scale.tolist() == [np.float32(2.0) / 127, np.float32(4.0) / 127]
    assert q[:, 0, 0, 0].tolist() == [64, -127]  # 1 * 127/2 = 63.5 -> 64
    assert q[:, 0, 0, 1].tolist() == [-127, 64]


def test_bias_int32() -> None:
    # input scale 0.5, weight scales [0.25, 0.1]: bias scales [0.125, 0.05].
    b = np.array([1.0, -0.125], np.float32)
    q, qp = params.quantize_bias(b, 0.5, np.array([0.25, 0.1], np.float32))
    assert q.dtype == np.int32
    # 1 / 0.05f in double, stored as float32 is exactly 20; -0.125 * 20 = -2.5 -> -3.
    assert q.tolist() == [8, -3]
    assert qp.scale.tolist() == [np.float32(0.125), np.float32(0.5) * np.float32(0.1)]
    big, _ = params.quantize_bias(np.array([1e30], np.float32), 1.0, np.array([1.0]))
    assert big[0] == 2**31 - 1


def test_quantize_values_like_quantize_kernel() -> None:
    qp = params.activation_params_int8(-1.28, 1.27)  # scale 0.01, zp 0
    x = np.array([0.005, -0.005, 0.015, 100.0, -100.0], np.float32)
    q = params.quantize_values(x, qp, "int8")
    assert q.tolist()[3:] == [127, -128]
    assert q.tolist()[:3] == [
        int(params.round_half_away(np.float32(v) / np.float32(qp.scale[0]))) for v in x[:3]
    ]


@pytest.mark.parametrize(
    "real, expected",
    [
        (0.0, (0, 0)),
        (0.5, (1 << 30, 0)),
        (1.0, (1 << 30, 1)),
        (0.75, (3 << 29, 0)),
        (0.25, (1 << 30, -1)),
        (1.0 - 2.0**-33, (1 << 30, 1)),  # mantissa rounds to 2^31: halved, shift + 1
        (2.0**-40, (0, 0)),  # shift -39 < -31 flushes to zero
        (2.0**-32, (1 << 30, -31)),  # shift exactly -31 is kept
        (-0.75, (-(3 << 29), 0)),
    ],
)
def test_quantize_multiplier_cases(real: float, expected: tuple[int, int]) -> None:
    assert params.quantize_multiplier(real) == expected


def test_round_half_away_edge() -> None:
    below_half = np.nextafter(0.5, 0.0)
    assert params.round_half_away(below_half) == 0.0  # floor(x + 0.5) would give 1
    assert params.round_half_away(np.array([2.5, -2.5, 0.5, -0.5])).tolist() == [3, -3, 1, -1]


@pytest.fixture(scope="module")
def c_quant(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    src = ROOT / "runtime_micro" / "kernels" / "el_quant.c"
    cc = shutil.which("cc") or shutil.which("gcc")
    if not src.exists() or cc is None:
        pytest.fail(f"need {src} and a C compiler to compare with runtime_micro")
    lib = tmp_path_factory.mktemp("elq") / "libelquant.so"
    subprocess.run([cc, "-std=c99", "-O1", "-shared", "-fPIC", "-o", str(lib), str(src), "-lm"],
                   check=True)
    dll = ctypes.CDLL(str(lib))
    dll.el_quantize_multiplier.argtypes = [ctypes.c_double, ctypes.POINTER(ctypes.c_int32),
                                           ctypes.POINTER(ctypes.c_int)]
    dll.el_quantize_multiplier.restype = None
    return dll


def test_quantize_multiplier_matches_runtime_micro(c_quant: ctypes.CDLL) -> None:
    rng = np.random.default_rng(0)
    values = list(np.exp(rng.uniform(-50, 10, 3000)))
    values += [1.0 - 2.0**-k for k in range(20, 54)] + [2.0**k for k in range(-45, 20)]
    values += [math.nextafter(2.0**k, 0) for k in range(-35, 5)]
    m, s = ctypes.c_int32(), ctypes.c_int()
    for v in values:
        c_quant.el_quantize_multiplier(float(v), ctypes.byref(m), ctypes.byref(s))
        assert params.quantize_multiplier(float(v)) == (m.value, s.value), v


def test_bias_too_large_for_int32_widens_weight_range() -> None:
    # input scale 1e-3, channel 0 absmax 1.27 -> weight scale 0.01, bias scale 1e-5:
    # a bias of 3e4 would need 3e9 > 2^31 - 1. TFLite raises that channel's weight range to
    # 2|b| / (2^31 - 1) * (127 / input scale) so the bias lands at half the int32 range.
    absmax = np.array([1.27, 1.27], np.float32)
    bias = np.array([3e4, 1.0], np.float32)
    got = params.bias_safe_absmax(absmax, bias, 1e-3)
    expect0 = 2.0 * 3e4 / (2**31 - 1) * (127 / 1e-3)
    assert got[0] == np.float32(expect0) and got[1] == np.float32(1.27)
    w = np.array([[1.27], [1.27]], np.float32)
    _, qp = params.quantize_weights_int8(w, 0, got)
    qb, _ = params.quantize_bias(bias, 1e-3, qp.scale)
    assert abs(int(qb[0]) - 2**30) <= 256  # half the int32 range, to float32 precision
