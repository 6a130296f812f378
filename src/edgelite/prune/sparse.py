"""Sparse pruning: zero individual weights and update the survivors with second-order repair.

For one layer with weights W (outputs × features) and input Hessian H = XᵀX (from the
calibration Gram matrix), Optimal Brain Surgeon removes weight q of a row and corrects the rest
of that row by −w_q / [H⁻¹]_qq · H⁻¹[q, :], with saliency w_q² / [H⁻¹]_qq. Every row shares H,
so the efficient row-wise form (SparseGPT, Frantar & Alistarh 2023) walks the columns left to
right with the upper Cholesky factor of H⁻¹: a column's pruned weights are zeroed, the error
goes into the columns to its right, and the mask is chosen block by block (128 columns) from
the saliencies of the weights as updated so far. N:M patterns pick, in every M consecutive
input features, the M − N of least saliency, so each group of M keeps at most N nonzeros; 1xB
block patterns pick whole blocks of B consecutive input features by their summed saliency
(the group form of OBS's choice, with the diagonal of H⁻¹), so the writer stores one index per
block.
Small layers get the exact form instead (OBC, Frantar & Alistarh 2022): one weight at a time
per row with its own H⁻¹ downdated, the rows' shares of the layer's sparsity chosen across
them from the recorded losses, the survivors solved exactly.

Layers are pruned in graph order, on the inputs the already pruned layers give (X', one pass
of both models per stage), toward the unpruned layer's outputs (X W_refᵀ): the dense optimum
w* = (X'ᵀX' + λI)⁻¹ (X'ᵀX + λI) w_ref is pruned with H = X'ᵀX' + λI, which is exactly that
objective; the bias (kept dense) takes its share, so what one layer loses the next makes up
for. λ is chosen by cross-validation over the calibration folds for layers with few rows.

Per-layer sparsities come from sensitivity: each layer's relative output error at sparsities
0 … 95 % is estimated from the saliencies w² · H_qq (the error of dropping weights without
update, an upper bound the updates lower); a greedy search raises, step by step, the layer whose
next 5 % costs the least error per zeroed weight until the model-wide sparsity is reached (the
last step only as far as needed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgelite import ir
from edgelite.prune import repair as RP

PATTERNS = ("unstructured", "2:4", "4:8", "1x2", "1x4", "1x8", "1x16")
BLOCK = 128
DAMP = 0.01  # of the mean diagonal of H, as in OBC/SparseGPT
# Exact OBC when rows × features³ (the removals walked) stays under this many multiply-adds
# (a few seconds of numpy); SparseGPT's column walk otherwise.
EXACT_BUDGET = 2e9
# OBC walks each row this much past the layer's sparsity, so rows can take unequal shares.
EXACT_SLACK = 0.2
# ... and while its rows' inverse Hessians hold at most this many float64s (128 MB).
EXACT_ELEMENTS = 16_000_000
# Ridge strengths (relative to H's mean diagonal) tried when a layer has few rows.
LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)
# Sequential pruning: at most this many passes of the model over the calibration samples.
MAX_STAGES = 8
# Below this many calibration rows per feature, cross-validation decides how far a layer is
# fitted to the reference outputs. Measured at 50 % on MobileNetV2 (random weights, 64
# calibration crops, output SQNR on 32 other crops): 0.5-96: 15.1 dB with 16, 14.6 with 4,
# 13.5 always fitting, 14.8 one-shot; 1.0-224: 16.8 dB with 16, 16.6 one-shot. The late
# layers see few positions, and the fit learnt the calibration crops there.
CV_ROWS_PER_FEATURE = 16


@dataclass(frozen=True)
class Pattern:
    """Where a row's zeros may fall: N:M (``n_zero`` of every ``m`` consecutive input
    features, so at most N nonzeros), or 1xB blocks (``block`` consecutive input features of
    one output zeroed together, any number of blocks: TFLite's block-sparse storage then
    needs one index per block instead of one per weight)."""

    n_zero: int = 0
    m: int = 0  # 0: not N:M
    block: int = 1

    @property
    def fraction(self) -> float | None:
        """The sparsity an N:M pattern implies (None for blocks: any)."""
        return self.n_zero / self.m if self.m else None


def parse_pattern(pattern: str) -> Pattern | None:
    """The Pattern for "N:M" or "1xB"; None for unstructured."""
    if pattern == "unstructured":
        return None
    if "x" in pattern:
        return Pattern(block=int(pattern.split("x")[1]))
    n, m = pattern.split(":")
    return Pattern(int(m) - int(n), int(m))


def layer_fits(op: ir.Op, pattern: Pattern | None) -> str | None:
    """Why ``op`` cannot take ``pattern`` (None: it can)."""
    if pattern is None:
        return None
    m = pattern.m or pattern.block
    c = op.inputs[1].shape[-1]
    if c % m:
        return f"{c} input channels are not a multiple of {m}"
    return None


def obs_prune(w: np.ndarray, h: np.ndarray, sparsity: float,
              pattern: Pattern | None, frozen: int = 0) -> np.ndarray:
    """W (outputs × features) with ``sparsity`` of each row block zeroed by OBS (the
    SparseGPT column walk), updated, for the objective (w − W)ᵀ H (w − W) per row. H must be
    positive definite (damped by the caller). The last ``frozen`` columns (the bias) are
    never zeroed but take their share of the updates."""
    w = np.array(w, dtype=np.float64)
    f = w.shape[1]
    free = f - frozen
    hinv = np.linalg.cholesky(np.linalg.inv(h)).T  # upper factor of H⁻¹
    for i1 in range(0, f, BLOCK):
        i2 = min(i1 + BLOCK, f)
        w1 = w[:, i1:i2].copy()
        q1 = np.zeros_like(w1)
        err1 = np.zeros_like(w1)
        hb = hinv[i1:i2, i1:i2]
        d = np.diag(hb)
        mask = np.zeros_like(w1, dtype=bool)
        cols = max(min(i2, free) - i1, 0)  # prunable columns of this block
        bs = 1 if pattern is None else pattern.block
        if (pattern is None or not pattern.m) and cols:
            if bs == 1:
                sal = w1[:, :cols] ** 2 / d[None, :cols] ** 2
            else:
                # A block's columns removed one after another, each error carried right
                # through U (the Cholesky factor): the errors e solve e U_bb = w_b, so the
                # block costs ‖w_b U_bb⁻¹‖² (w_q² / U_qq² for one column). The free
                # columns come in whole blocks: layer_fits checked the channel count.
                sal = np.empty((len(w1), cols // bs))
                for j in range(0, cols, bs):
                    u_inv = np.linalg.inv(hb[j:j + bs, j:j + bs])
                    sal[:, j // bs] = np.sum((w1[:, j:j + bs] @ u_inv) ** 2, axis=1)
            k = int(round(sal.size * sparsity))
            if k:
                flat = np.argsort(sal, axis=None, kind="stable")[:k]
                blocks = np.zeros(sal.shape, dtype=bool)
                blocks.flat[flat] = True
                mask[:, :cols] = np.repeat(blocks, bs, axis=1)
        n_zero, m = (pattern.n_zero, pattern.m) if pattern is not None else (0, 0)
        for i in range(i2 - i1):
            if m and i % m == 0 and i1 + i + m <= free:
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


def obc_prune(w: np.ndarray, h: np.ndarray, sparsity: float, frozen: int = 0) -> np.ndarray:
    """Exact greedy OBS per row (OBC, Frantar & Alistarh 2022), unstructured.

    Each row removes its weights one at a time, always the one whose removal raises
    (w − W)ᵀ H (w − W) least, with the exact update of the others and a rank-1 downdate of
    its own H⁻¹; the loss of every step is recorded. How many weights each row loses is then
    chosen across the rows (cheapest next step first) so that ``sparsity`` of the layer's
    prunable weights go, and each row's survivors are solved exactly on its kept set.
    Costs rows × features² per step: the caller uses it on small layers only (exact_fits)."""
    w = np.array(w, dtype=np.float64)
    o, f = w.shape
    free = f - frozen
    total = int(round(sparsity * o * free))
    if total == 0:
        return w
    steps = min(free, max(1, int(np.ceil(min(1.0, sparsity + EXACT_SLACK) * free))))
    hinv = np.repeat(np.linalg.inv(h)[None], o, axis=0)
    cur = w.copy()
    alive = np.ones((o, f), dtype=bool)
    order = np.zeros((o, steps), dtype=np.int64)
    loss = np.zeros((o, steps))
    rows = np.arange(o)
    # round-off in the downdates must not make a diagonal of H⁻¹ (a variance) zero or negative
    floor = 1e-12 * float(np.mean(np.diag(hinv[0])))
    for k in range(steps):
        d = np.where(alive, np.maximum(np.einsum("rii->ri", hinv), floor), 1.0)
        sal = np.where(alive[:, :free], cur[:, :free] ** 2 / d[:, :free], np.inf)
        q = np.argmin(sal, axis=1)
        dq = d[rows, q]
        loss[:, k] = sal[rows, q]
        order[:, k] = q
        col = hinv[rows, :, q]  # H⁻¹[:, q] per row
        cur -= (cur[rows, q] / dq)[:, None] * col
        cur[rows, q] = 0.0
        alive[rows, q] = False
        hinv -= col[:, :, None] * (col / dq[:, None])[:, None, :]
    # Cheapest next removal first, across rows (a row's losses rise as it thins).
    import heapq

    count = np.zeros(o, dtype=np.int64)
    heap = [(float(loss[r, 0]), r) for r in range(o)]
    heapq.heapify(heap)
    for _ in range(min(total, o * steps)):
        _, r = heapq.heappop(heap)
        count[r] += 1
        if count[r] < steps:
            heapq.heappush(heap, (float(loss[r, count[r]]), r))
    hw = h @ w.T  # features × outputs
    out = np.zeros_like(w)
    for r in range(o):
        keep = np.ones(f, dtype=bool)
        keep[order[r, :count[r]]] = False
        k = np.flatnonzero(keep)
        out[r, k] = np.linalg.solve(h[np.ix_(k, k)], hw[k, r])
    return out


def exact_fits(rows: int, features: int, sparsity: float) -> bool:
    """Whether obc_prune's cost (rows × features² per removal; one H⁻¹ per row in memory)
    is small enough."""
    return (rows * features ** 2 * min(1.0, sparsity + EXACT_SLACK) * features <= EXACT_BUDGET
            and rows * features ** 2 <= EXACT_ELEMENTS)


def _fit(a: np.ndarray, b: np.ndarray, wa_ref: np.ndarray, lam: float, sparsity: float,
         pattern: Pattern | None, exact: bool) -> np.ndarray:
    """Sparse weights (bias last, kept dense) minimising ‖X'w − X w_ref‖² + λ‖w − w_ref‖²
    per row, with A = X'ᵀX', B = X'ᵀX (ones columns last): the dense optimum
    w* = (A + λI)⁻¹ (B + λI) w_ref, then OBS on H = A + λI around w*, which is that very
    objective up to a constant."""
    f = a.shape[0]
    scale = max(float(np.mean(np.diag(a)[:-1])), 1e-30) if f > 1 else 1.0
    h = a + lam * scale * np.eye(f)
    dead = np.diag(a)[:-1] <= 0
    rhs = b @ wa_ref.T + lam * scale * wa_ref.T
    w_star = np.linalg.solve(h, rhs).T
    w_star[:, :-1][:, dead] = 0.0  # a feature that never fires: its weight is free to go
    if exact and pattern is None:
        return obc_prune(w_star, h, sparsity, frozen=1)
    return obs_prune(w_star, h, sparsity, pattern, frozen=1)


def _candidates() -> list[tuple[float, bool]]:
    """(λ, fit to the reference outputs?) tried by cross-validation: the fit at each λ, and
    no fit at all (OBS around the layer's own weights on its current inputs, as one-shot
    pruning does), for when the correction learns the calibration samples, not the layer."""
    return [(lm, True) for lm in LAMBDAS] + [(DAMP, False)]


def _cv_errors(pair: RP.Pair, wa_ref: np.ndarray, sparsity: float,
               pattern: Pattern | None) -> np.ndarray:
    """Per candidate of _candidates(), Σ over folds of the error on the fold left out
    (without the constant ‖X_k w_ref‖²)."""
    a_all, b_all = np.sum(pair.a, axis=0), np.sum(pair.b, axis=0)
    cands = _candidates()
    errs = np.zeros(len(cands))
    for k in range(len(pair.a)):
        a_k, b_k = pair.a[k], pair.b[k]
        for i, (lm, fit) in enumerate(cands):
            a, b = a_all - a_k, b_all - b_k
            w = _fit(a, b if fit else a, wa_ref, lm, sparsity, pattern, False)
            errs[i] += float(np.sum((w @ a_k) * w) - 2 * np.sum((w @ b_k) * wa_ref))
    return errs


def prune_layer(wa_ref: np.ndarray, pair: RP.Pair, sparsity: float,
                pattern: Pattern | None, exact: bool | None = None) -> np.ndarray:
    """One layer's new weights (outputs × features, bias last) with ``sparsity`` of its
    weights zeroed, fitted to the reference layer's outputs on the current inputs.

    With few calibration rows per feature (fewer than CV_ROWS_PER_FEATURE) the fit can learn
    the samples instead of the layer: the ridge strength λ (the pull toward the reference
    weights), or no fit at all, is then chosen by cross-validation over the folds, pruning
    on the others and measuring the error on the fold left out."""
    a_all, b_all = np.sum(pair.a, axis=0), np.sum(pair.b, axis=0)
    o, f = wa_ref.shape
    exact = exact_fits(o, f, sparsity) if exact is None else exact
    lam, fit = DAMP, True
    if pair.rows < CV_ROWS_PER_FEATURE * f and len(pair.a) > 1:
        lam, fit = _candidates()[int(np.argmin(_cv_errors(pair, wa_ref, sparsity, pattern)))]
    return _fit(a_all, b_all if fit else a_all, wa_ref, lam, sparsity, pattern, exact)


def stages(layers: Sequence[ir.Op], most: int | None = None) -> list[list[ir.Op]]:
    """``layers`` (in graph order) cut into at most ``most`` consecutive runs: each run is
    pruned on the inputs the runs before it left (one pass of both models per run)."""
    n = len(layers)
    k = max(1, min(MAX_STAGES if most is None else most, n))
    cuts = [round(i * n / k) for i in range(k + 1)]
    return [list(layers[cuts[i]:cuts[i + 1]]) for i in range(k) if cuts[i + 1] > cuts[i]]


def magnitude_prune(w: np.ndarray, sparsity: float,
                    pattern: Pattern | None) -> np.ndarray:
    """The plain baseline: zero the smallest |w| (per layer, or per N:M group), or the
    blocks of least L2 norm."""
    w = np.array(w, dtype=np.float64)
    if pattern is None or not pattern.m:
        bs = 1 if pattern is None else pattern.block
        g = w.reshape(w.shape[0], -1, bs)
        norms = np.sum(g * g, axis=2)
        k = int(round(norms.size * sparsity))
        if k:
            blocks = np.zeros(norms.shape, dtype=bool)
            blocks.flat[np.argsort(norms, axis=None, kind="stable")[:k]] = True
            g[blocks] = 0.0
        return g.reshape(w.shape)
    n_zero, m = pattern.n_zero, pattern.m
    g = w.reshape(w.shape[0], -1, m)
    idx = np.argsort(np.abs(g), axis=2, kind="stable")[:, :, :n_zero]
    np.put_along_axis(g, idx, 0.0, axis=2)
    return g.reshape(w.shape)


def error_curve(w: np.ndarray, gram: RP.Gram, grid: Sequence[float],
                block: int = 1) -> list[float]:
    """Relative output error of dropping the least salient weights (or blocks of ``block``
    consecutive features), at each sparsity."""
    f = w.shape[1]
    hd = np.diag(gram.g)[:f]
    sal = np.sort((w * w * hd[None, :]).reshape(len(w), -1, block).sum(2).reshape(-1))
    csum = np.concatenate([[0.0], np.cumsum(sal)])
    wa = w
    total = max(float(np.einsum("of,fg,og->", wa, gram.g[:f, :f], wa)), 1e-30)
    return [float(csum[int(round(s * sal.size))]) / total for s in grid]


def allocate(layers: Sequence[ir.Op], grams: dict[int, RP.Gram], sparsity: float,
             uniform: bool, block: int = 1) -> dict[int, float]:
    """Per-layer sparsity (key id(op)) with ``sparsity`` of all their weights zeroed."""
    sizes = {id(op): op.inputs[1].size for op in layers}
    total = sum(sizes.values())
    if uniform or len(layers) == 1:
        return {id(op): sparsity for op in layers}
    grid = [round(0.05 * i, 2) for i in range(20)]  # 0 … 0.95
    hi = min(0.95, sparsity + 0.15)
    pts = [s for s in grid if s <= hi + 1e-9]
    # (Curves from the OBS-pruned error itself, cross-validated, were measured too: no
    # better on the digits CNNs' calibration folds, and ten times the time.)
    curves = {id(op): error_curve(RP.layer_matrix(op)[0], grams[id(op)], pts, block)
              for op in layers}
    at = {id(op): 0 for op in layers}
    out = {id(op): 0.0 for op in layers}
    need = sparsity * total
    while need > 1e-9:
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
        k = best[1]
        i = at[k]
        step = (pts[i + 1] - pts[i]) * sizes[k]
        if step >= need:  # the last step only as far as the target: no overshoot
            out[k] = pts[i] + need / sizes[k]
            break
        at[k] = i + 1
        out[k] = pts[i + 1]
        need -= step
    return out


def store(op: ir.Op, w: np.ndarray, bias: np.ndarray | None = None) -> None:
    """Put new weights (outputs × features) and bias into ``op``; mark the weights sparse
    for the writer."""
    w_t = op.inputs[1]
    t = ir.Tensor(w_t.name, w_t.shape, w_t.dtype, data=w.reshape(w_t.shape).astype(w_t.dtype))
    t.sparse = bool(np.any(w == 0))
    inputs = list(op.inputs)
    inputs[1] = t
    if bias is not None:
        b_t = op.inputs[2] if len(op.inputs) > 2 else None
        if b_t is not None and b_t.is_const:
            inputs[2] = ir.Tensor(b_t.name, b_t.shape, b_t.dtype,
                                  data=bias.reshape(b_t.shape).astype(b_t.dtype))
        elif b_t is None and np.any(bias):
            inputs = inputs[:2] + [ir.const(f"{op.outputs[0].name}_bias",
                                            bias.astype(np.float32))]
    op.inputs = inputs


def apply_magnitude(layers: Sequence[ir.Op], per_layer: dict[int, float],
                    pattern: Pattern | None) -> None:
    """The baseline: zero the smallest weights of each layer, no update."""
    for op in layers:
        s = per_layer[id(op)]
        if s <= 0 and (pattern is None or not pattern.m):
            continue
        store(op, magnitude_prune(RP.layer_matrix(op)[0], s, pattern))
