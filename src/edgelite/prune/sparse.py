"""Sparse pruning: zero individual weights and update the survivors with second-order repair.

For one layer with weights W (outputs × features) and input Hessian H = XᵀX (from the
calibration Gram matrix), Optimal Brain Surgeon removes weight q of a row and corrects the rest
of that row by −w_q / [H⁻¹]_qq · H⁻¹[q, :], with saliency w_q² / [H⁻¹]_qq. Every row shares H,
so the efficient row-wise form (OBC; SparseGPT, Frantar & Alistarh 2022/2023) walks the columns
left to right with the upper Cholesky factor of H⁻¹: a column's pruned weights are zeroed, the
error goes into the columns to its right, and the mask is chosen block by block (128 columns)
from the saliencies of the weights as updated so far. N:M patterns pick, in every M consecutive
input features, the M − N of least saliency, so each group of M keeps at most N nonzeros.

Per-layer sparsities come from sensitivity: each layer's relative output error at sparsities
0 … 95 % is estimated from the saliencies w² · H_qq (the error of dropping weights without
update, an upper bound the updates lower); a greedy search raises, step by step, the layer whose
next 5 % costs the least error per zeroed weight until the model-wide sparsity is reached.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from edgelite import ir
from edgelite.prune import repair as RP

PATTERNS = ("unstructured", "2:4", "4:8")
BLOCK = 128
DAMP = 0.01  # of the mean diagonal of H, as in OBC/SparseGPT


def parse_pattern(pattern: str) -> tuple[int, int] | None:
    """(zeros per group, M) for an N:M pattern (at most N nonzeros in every M consecutive
    input features); None for unstructured."""
    if pattern == "unstructured":
        return None
    n, m = pattern.split(":")
    return int(m) - int(n), int(m)


def layer_fits(op: ir.Op, pattern: tuple[int, int] | None) -> str | None:
    """Why ``op`` cannot take ``pattern`` (None: it can)."""
    if pattern is None:
        return None
    m = pattern[1]
    c = op.inputs[1].shape[-1]
    if c % m:
        return f"{c} input channels are not a multiple of {m}"
    return None


def obs_prune(w: np.ndarray, gram: RP.Gram, sparsity: float,
              pattern: tuple[int, int] | None) -> np.ndarray:
    """W (outputs × features) with ``sparsity`` of each row block zeroed by OBS, updated."""
    w = np.array(w, dtype=np.float64)
    f = w.shape[1]
    h = np.array(gram.g[:f, :f])
    dead = np.diag(h) == 0
    h[dead, dead] = 1.0
    w[:, dead] = 0.0
    h += DAMP * float(np.mean(np.diag(h))) * np.eye(f)
    hinv = np.linalg.cholesky(np.linalg.inv(h)).T  # upper factor of H⁻¹
    for i1 in range(0, f, BLOCK):
        i2 = min(i1 + BLOCK, f)
        w1 = w[:, i1:i2].copy()
        q1 = np.zeros_like(w1)
        err1 = np.zeros_like(w1)
        hb = hinv[i1:i2, i1:i2]
        d = np.diag(hb)
        mask = np.zeros_like(w1, dtype=bool)
        if pattern is None:
            sal = w1 ** 2 / d[None, :] ** 2
            k = int(round(sal.size * sparsity))
            if k:
                flat = np.argsort(sal, axis=None, kind="stable")[:k]
                mask.flat[flat] = True
        n_zero, m = pattern if pattern is not None else (0, 0)
        for i in range(i2 - i1):
            if pattern is not None and i % m == 0:
                sal = w1[:, i:i + m] ** 2 / d[None, i:i + m] ** 2
                idx = np.argsort(sal, axis=1, kind="stable")[:, :n_zero]
                np.put_along_axis(mask[:, i:i + m], idx, True, axis=1)
            col = w1[:, i]
            q = np.where(mask[:, i], 0.0, col)
            q1[:, i] = q
            e = (col - q) / d[i]
            w1[:, i:] -= e[:, None] * hb[i, i:][None, :]
            err1[:, i] = e
        w[:, i1:i2] = q1
        w[:, i2:] -= err1 @ hinv[i1:i2, i2:]
    return w


def magnitude_prune(w: np.ndarray, sparsity: float,
                    pattern: tuple[int, int] | None) -> np.ndarray:
    """The plain baseline: zero the smallest |w| (per layer, or per N:M group)."""
    w = np.array(w, dtype=np.float64)
    if pattern is None:
        k = int(round(w.size * sparsity))
        if k:
            w.flat[np.argsort(np.abs(w), axis=None, kind="stable")[:k]] = 0.0
        return w
    n_zero, m = pattern
    g = w.reshape(w.shape[0], -1, m)
    idx = np.argsort(np.abs(g), axis=2, kind="stable")[:, :, :n_zero]
    np.put_along_axis(g, idx, 0.0, axis=2)
    return g.reshape(w.shape)


def error_curve(w: np.ndarray, gram: RP.Gram, grid: Sequence[float]) -> list[float]:
    """Relative output error of dropping the least salient weights, at each sparsity."""
    f = w.shape[1]
    hd = np.diag(gram.g)[:f]
    sal = np.sort((w * w * hd[None, :]).reshape(-1))
    csum = np.concatenate([[0.0], np.cumsum(sal)])
    wa = w
    total = max(float(np.einsum("of,fg,og->", wa, gram.g[:f, :f], wa)), 1e-30)
    return [float(csum[int(round(s * sal.size))]) / total for s in grid]


def allocate(layers: Sequence[ir.Op], grams: dict[int, RP.Gram], sparsity: float,
             uniform: bool) -> dict[int, float]:
    """Per-layer sparsity (key id(op)) with ``sparsity`` of all their weights zeroed."""
    sizes = {id(op): op.inputs[1].size for op in layers}
    total = sum(sizes.values())
    if uniform or len(layers) == 1:
        return {id(op): sparsity for op in layers}
    grid = [round(0.05 * i, 2) for i in range(20)]  # 0 … 0.95
    lo = 0.0
    hi = min(0.95, sparsity + 0.15)
    pts = [s for s in grid if lo - 1e-9 <= s <= hi + 1e-9]
    curves = {id(op): error_curve(RP.layer_matrix(op)[0], grams[id(op)], pts) for op in layers}
    at = {id(op): 0 for op in layers}

    def zeros() -> float:
        return sum(pts[at[k]] * sizes[k] for k in at)

    while zeros() < sparsity * total - 1e-9:
        best = None
        for k in at:
            i = at[k]
            if i + 1 >= len(pts):
                continue
            rate = (curves[k][i + 1] - curves[k][i]) / ((pts[i + 1] - pts[i]) * sizes[k])
            if best is None or rate < best[0]:
                best = (rate, k)
        if best is None:
            break
        at[best[1]] += 1
    return {k: pts[i] for k, i in at.items()}


def apply(layers: Sequence[ir.Op], grams: dict[int, RP.Gram], per_layer: dict[int, float],
          pattern: tuple[int, int] | None, method: str) -> None:
    """Zero and update each layer's weights in place; mark them sparse for the writer."""
    for op in layers:
        s = per_layer[id(op)]
        if s <= 0 and pattern is None:
            continue
        w_t = op.inputs[1]
        w, _ = RP.layer_matrix(op)
        if method == "magnitude":
            new = magnitude_prune(w, s, pattern)
        else:
            new = obs_prune(w, grams[id(op)], s, pattern)
        t = ir.Tensor(w_t.name, w_t.shape, w_t.dtype,
                      data=new.reshape(w_t.shape).astype(w_t.dtype))
        t.sparse = True
        op.inputs = [t if i == 1 else x for i, x in enumerate(op.inputs)]
