"""A small pruned CNN (CONV_2D 3x3 -> DEPTHWISE 3x3 -> CONV_2D 1x1 -> FULLY_CONNECTED) in float32
or int8, written dense and sparse from the same seed: shared by tests/test_sparse.py and
benchmarks/sparse_weights.py."""

from __future__ import annotations

import numpy as np

from edgelite import ir
from edgelite.tflite.writer import write_model

SEED = 20261204


def q(scale, zp=0, axis: int = 0) -> ir.QuantParams:
    return ir.QuantParams(np.asarray(scale, np.float32), np.asarray(zp, np.int64), axis)


def pruned(rng: np.random.Generator, shape, dtype: str, axis: int,
           keep: float = 0.25, block: int = 1) -> np.ndarray:
    """Weights with about (1 - keep) of them zero, some rows entirely zero; ``block`` > 1
    zeroes whole blocks of that many consecutive values of the last dimension (where it
    divides it)."""
    if dtype == "int8":
        w = rng.integers(-127, 128, shape).astype(np.int8)
    else:
        w = rng.normal(0, 0.5, shape).astype(np.float32)
    b = block if shape[-1] % block == 0 else 1
    w.reshape(-1, b)[rng.random(w.size // b) >= keep] = 0
    np.moveaxis(w, axis, 0)[1] = 0  # an empty output channel (empty CSR segments)
    return w


def cnn(rng: np.random.Generator, dtype: str, sparse: bool, block: int = 1) -> ir.Graph:
    """CONV_2D 3x3 -> DEPTHWISE 3x3 -> CONV_2D 1x1 -> FULLY_CONNECTED, pruned weights."""
    f = dtype == "float32"

    def act(name, shape, scale, zp):
        return ir.Tensor(name, shape, dtype, quant=None if f else q(scale, zp))

    def weights(name, shape, axis):
        w = pruned(rng, shape, dtype, axis, block=block)
        quant = None if f else q(rng.uniform(0.002, 0.02, shape[axis]), np.zeros(shape[axis]),
                                 axis)
        t = ir.Tensor(name, shape, dtype, data=w, quant=quant)
        t.sparse = sparse
        return t

    def bias(name, n, scales):
        if f:
            return ir.Tensor(name, (n,), "float32", data=rng.normal(0, 0.1, n).astype(np.float32))
        return ir.Tensor(name, (n,), "int32", data=rng.integers(-2000, 2000, n).astype(np.int32),
                         quant=q(scales, np.zeros(n)))

    x = act("x", (1, 12, 12, 8), 0.05, 3)
    w1 = weights("w1", (24, 3, 3, 8), 0)
    y1 = act("y1", (1, 6, 6, 24), 0.08, -5)
    w2 = weights("w2", (1, 3, 3, 24), 3)
    y2 = act("y2", (1, 6, 6, 24), 0.06, 2)
    w3 = weights("w3", (32, 1, 1, 24), 0)
    y3 = act("y3", (1, 6, 6, 32), 0.07, -1)
    shape = ir.Tensor("shape", (2,), "int32", data=np.array([1, 6 * 6 * 32], np.int32))
    y4 = act("y4", (1, 6 * 6 * 32), 0.07, -1)
    w5 = weights("w5", (40, 6 * 6 * 32), 0)
    out = act("out", (1, 40), 0.2, 4)

    def qs(w, s_in):
        return None if f else s_in * w.quant.scale

    ops = [
        ir.Op("CONV_2D", [x, w1, bias("b1", 24, qs(w1, 0.05))], [y1],
              dict(padding="SAME", stride_w=2, stride_h=2, fused_activation_function="RELU")),
        ir.Op("DEPTHWISE_CONV_2D", [y1, w2, bias("b2", 24, qs(w2, 0.08))], [y2],
              dict(padding="SAME", stride_w=1, stride_h=1, depth_multiplier=1)),
        ir.Op("CONV_2D", [y2, w3, bias("b3", 32, qs(w3, 0.06))], [y3],
              dict(padding="VALID", stride_w=1, stride_h=1)),
        ir.Op("RESHAPE", [y3, shape], [y4], dict(new_shape=[1, 6 * 6 * 32])),
        ir.Op("FULLY_CONNECTED", [y4, w5, bias("b5", 40, qs(w5, 0.07))], [out], {}),
    ]
    return ir.Graph([x], [out], ops, name="sparse_cnn")


def models(dtype: str) -> tuple[bytes, bytes]:
    dense = write_model(cnn(np.random.default_rng(SEED), dtype, sparse=False))
    sparse = write_model(cnn(np.random.default_rng(SEED), dtype, sparse=True))
    return dense, sparse


def sample(dtype: str, n: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(SEED + 1)
    if dtype == "float32":
        return [rng.normal(0, 1, (1, 12, 12, 8)).astype(np.float32) for _ in range(n)]
    return [rng.integers(-128, 128, (1, 12, 12, 8)).astype(np.int8) for _ in range(n)]
