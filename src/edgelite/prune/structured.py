"""Structured (channel) pruning: choose units per group, then rewrite the graph smaller.

Importance of a unit (a set of coupled channels) is the share of its consumers' output energy
that flows through it: Σ over the layers reading it of ‖W[:, f]‖² E[x_f²] / E‖y‖² (from the
calibration Gram matrices), or, for the plain magnitude baseline, the L1 norm of the filters
that produce it. Units are removed least important first.

Per-group ratios come from measured sensitivity (global allocation): for each group, the
relative output error of its consumers after removing 0, 10, 20 ... 90 % of its units, with the
chosen repair, is computed from the Gram matrices (relative to the residual sum a consumer's
output is added into, when it is: EfficientNet-Lite0 at 0.75x MACs otherwise kept its residual
streams no better than its expansions and cut the last block's 320 output channels to 128:
output cosine on other crops 0.953, now 0.967); a greedy search then removes, step by step,
the group whose next step costs the least error per MAC (or per channel) saved, until the target
is met; units are then given back, one at a time, while the target still holds (the 10 %
steps are coarse). Interactions between groups (a convolution whose inputs and outputs both
shrink) are in the MAC count, which is always computed on the whole graph.

When it is cheap enough (GREEDY_BUDGET), the order in which a group's units go is not the
importance order but a greedy search with the repair: each step removes the unit whose
removal, refit included, costs the group's consumers least (a channel that the kept ones
predict well goes early, however much energy it carries). Past that budget, groups read by 1x1
convolutions or dense layers get the same greedy order from Optimal Brain Surgeon's
formulas (obs_order), on the training residual.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from edgelite import ir
from edgelite.prune import repair as RP
from edgelite.prune.groups import Group, channels

GRID = tuple(i / 10 for i in range(10))  # fractions of a group's units tried for sensitivity
# The greedy removal order (greedy_order) runs while units² × consumer features³ stays below.
GREEDY_BUDGET = 1e9
# A consumer's error is measured against the energy of the residual sum its output lands in
# (see group_error), not its own output's.
LANDING = True


@dataclass
class Choice:
    """The units removed per group, in removal order, and the resulting keep masks."""

    removed: dict[int, list[int]] = field(default_factory=dict)  # group index -> unit indices

    def masks(self, groups: Sequence[Group]) -> dict[int, np.ndarray]:
        """id(tensor) -> boolean keep mask over its last axis (only tensors that shrink)."""
        out: dict[int, np.ndarray] = {}
        for g in groups:
            units = self.removed.get(g.index, [])
            if not units:
                continue
            for t in g.tensors:
                out.setdefault(id(t), np.ones(channels(t), dtype=bool))
            for u in units:
                for key, chans in g.units[u].slots.items():
                    out[key][chans] = False
        return out


def unit_features(g: Group, unit: int, layer: ir.Op) -> np.ndarray:
    chans = g.units[unit].slots.get(id(layer.inputs[0]), [])
    return RP.feature_index(layer, chans)


def importance(g: Group, grams: dict[int, RP.Gram], criterion: str) -> np.ndarray:
    """One score per unit of ``g`` (higher: more important)."""
    scores = np.zeros(len(g.units))
    if criterion == "magnitude":
        for src in g.sources:
            w = np.abs(np.asarray(src.inputs[1].data, dtype=np.float64))
            l1 = w.reshape(w.shape[0], -1).sum(axis=1)
            out = src.outputs[0]
            for u in g.units:
                for c in u.slots.get(id(out), []):
                    scores[u.index] += l1[c]
        return scores
    for layer in g.consumers:
        gram = grams.get(id(layer))
        if gram is None:
            continue
        w, _ = RP.layer_matrix(layer)
        col = np.sum(w * w, axis=0) * np.diag(gram.g)[:-1]
        total = max(RP.signal(layer, gram), 1e-30)
        for u in g.units:
            f = unit_features(g, u.index, layer)
            if f.size:
                scores[u.index] += float(col[f].sum()) / total
    return scores


def removal_order(g: Group, scores: np.ndarray) -> list[int]:
    """Units least important first, skipping any whose removal would empty a tensor."""
    left = {id(t): channels(t) for t in g.tensors}
    order = []
    for u in sorted(range(len(g.units)), key=lambda i: (scores[i], i)):
        slots = g.units[u].slots
        if all(left[k] > len(c) for k, c in slots.items()):
            for k, c in slots.items():
                left[k] -= len(c)
            order.append(u)
    return order


def greedy_order(g: Group, grams: dict[int, RP.Gram], mode: str,
                 cache: dict[int, tuple[np.ndarray, float]]) -> list[int] | None:
    """Units in the order a greedy search removes them, each time the one whose removal (with
    the repair) costs the least output error; None when that search would cost more than
    GREEDY_BUDGET (units² × consumer features³ multiply-adds), where the importance order
    serves instead."""
    feats = sum(grams[id(op)].features ** 3 for op in g.consumers if id(op) in grams)
    if not feats or len(g.units) ** 2 / 2 * feats > GREEDY_BUDGET:
        return None
    left = {id(t): channels(t) for t in g.tensors}
    order: list[int] = []
    rest = list(range(len(g.units)))
    while True:
        best = None
        for u in rest:
            slots = g.units[u].slots
            if not all(left[k] > len(c) for k, c in slots.items()):
                continue
            e = group_error(g, [*order, u], grams, mode, cache)
            if best is None or e < best[0]:
                best = (e, u)
        if best is None:
            return order
        u = best[1]
        for k, c in g.units[u].slots.items():
            left[k] -= len(c)
        order.append(u)
        rest.remove(u)


# Past GREEDY_BUDGET the removal order comes from obs_order (else the importance order):
# EfficientNet-Lite0 --macs 0.75 from 64 crops, output cosine on 48 other crops 0.9726 with the
# importance order in its large groups, 0.9766 with obs_order (3 CPU s on MobileNetV2-1.0-224).
OBS_ORDER = True
OBS_BLOCK = 16  # deferred downdates of G⁻¹ applied together
OBS_STEP_DIV = 16  # units removed per step: 1/16 of those left (at least one)


def obs_order(g: Group, grams: dict[int, RP.Gram]) -> list[int] | None:
    """The greedy removal order with the least-squares repair, computed the Optimal Brain
    Surgeon way: removing input feature j from a layer whose kept weights W are already the
    refit ones costs ‖W[:, j]‖² / [G⁻¹]_jj, and leaves W − W[:, j] [G⁻¹]_j: / [G⁻¹]_jj refit,
    G⁻¹ downdated the same way. Each step prices every candidate at O(outputs) instead of a
    solve per candidate (greedy_order). The downdates of G⁻¹ are deferred and applied in blocks
    of OBS_BLOCK (one matrix product instead of a pass over G⁻¹ per removal), which changes
    nothing; while many units are left, each step removes the 1/OBS_STEP_DIV cheapest together
    (the exact block update), one at a time toward the end. Only units that are one input
    feature of each consumer (1x1 convolutions, dense layers); None otherwise."""
    cons = [op for op in g.consumers if id(op) in grams]
    if not cons:
        return None
    feats = []
    for op in cons:
        f = [unit_features(g, u.index, op) for u in g.units]
        if any(x.size != 1 for x in f):
            return None
        feats.append(np.asarray([int(x[0]) for x in f]))
    n = len(g.units)
    state = []
    for op, fi in zip(cons, feats, strict=True):
        gram = grams[id(op)]
        # Columns permuted so that unit u is column u (the rest, the ones column among them,
        # after the units): every step reads the units' columns as one slice.
        perm = np.concatenate([fi, np.setdiff1d(np.arange(gram.g.shape[0]), fi)])
        gm = gram.g[np.ix_(perm, perm)]
        lam = RP.DAMP * max(float(np.mean(np.diag(gm))), 1e-30)
        hinv = np.linalg.inv(gm + lam * np.eye(gm.shape[0]))
        w, b = RP.layer_matrix(op)
        wa = np.concatenate([w, b[:, None]], axis=1)[:, perm]
        norm = gram.landing if LANDING and gram.landing > 0 else RP.signal(op, gram)
        state.append({"w": wa, "h": hinv, "norm": max(norm, 1e-30), "pend": []})
    left = {id(t): channels(t) for t in g.tensors}
    alive = np.ones(n, dtype=bool)
    order: list[int] = []

    def deferred(st: dict) -> tuple[np.ndarray, np.ndarray] | None:
        """(G⁻¹[:, J] M, J) for the pending removals J, M = G⁻¹[J, J]⁻¹ (G⁻¹ as last
        flushed): the current G⁻¹ is G⁻¹ − G⁻¹[:, J] M G⁻¹[J, :]."""
        pend = st["pend"]
        if not pend:
            return None
        j = np.asarray(pend)
        return st["h"][:, j] @ np.linalg.inv(st["h"][np.ix_(j, j)]), j

    while True:
        cost = np.zeros(n)
        dms = [deferred(st) for st in state]
        for st, dm in zip(state, dms, strict=True):
            d = np.diag(st["h"])[:n].copy()
            if dm is not None:
                hm, j = dm
                d -= np.einsum("ij,ij->i", hm[:n], st["h"][:n, j])
            wu = st["w"][:, :n]
            cost += np.einsum("ij,ij->j", wu, wu) / np.maximum(d, 1e-300) / st["norm"]
        cost[~alive] = np.inf
        # A few units per step while many are left (the cheapest that fit), one at a time
        # toward the end: the steps that decide the order of the units kept longest.
        want = max(1, int(alive.sum()) // OBS_STEP_DIV)
        batch: list[int] = []
        for c in np.argsort(cost, kind="stable"):
            if len(batch) >= want or not alive[c]:
                break
            slots = g.units[int(c)].slots
            if all(left[k] > len(v) for k, v in slots.items()):
                batch.append(int(c))
                for k, v in slots.items():
                    left[k] -= len(v)
        if not batch:
            return order
        bi = np.asarray(batch)
        for st, dm in zip(state, dms, strict=True):
            rows = st["h"][bi].copy()
            if dm is not None:
                hm, jj = dm
                rows -= hm[bi] @ st["h"][jj]
            st["w"] -= (st["w"][:, bi] @ np.linalg.inv(rows[:, bi])) @ rows
            st["pend"].extend(batch)
            if len(st["pend"]) >= OBS_BLOCK:
                hm, jj = deferred(st)
                st["h"] -= hm @ st["h"][jj]
                st["pend"] = []
        alive[bi] = False
        order.extend(batch)


def group_error(g: Group, removed_units: Sequence[int], grams: dict[int, RP.Gram],
                mode: str, cache: dict[int, tuple[np.ndarray, float]],
                lams: dict[int, float] | None = None) -> float:
    """Σ over ``g``'s consumers of their output error with ``removed_units`` gone, relative to
    the energy of their output or of the residual sum it is added into (Gram.landing)."""
    err = 0.0
    lams = {} if lams is None else lams
    for layer in g.consumers:
        gram = grams.get(id(layer))
        if gram is None:
            continue
        if id(layer) not in cache:
            w, b = RP.layer_matrix(layer)
            cache[id(layer)] = (np.concatenate([w, b[:, None]], axis=1),
                                RP.signal(layer, gram))
        wa, total = cache[id(layer)]
        feats = [unit_features(g, u, layer) for u in removed_units]
        f = np.unique(np.concatenate(feats)) if feats else np.zeros(0, np.int64)
        if f.size == 0:
            continue
        # Relative to what the error corrupts: a projection added into a residual stream
        # perturbs the stream, whose energy can be many times its own.
        norm = gram.landing if LANDING and gram.landing > 0 else total
        err += RP.residual(layer, gram, f, mode, wa, total=total) / max(norm, 1e-30)
    return err


# ---- MACs of a choice --------------------------------------------------------------------

def macs_with(graph: ir.Graph, masks: dict[int, np.ndarray] | None = None,
              kept: dict[int, int] | None = None) -> int:
    """The graph's MACs if the tensors in ``masks`` kept only their True channels (or the
    tensors in ``kept`` only that many)."""
    masks = masks or {}
    kept = kept or {}

    def ch(t: ir.Tensor) -> int:
        if id(t) in kept:
            return kept[id(t)]
        m = masks.get(id(t))
        return int(m.sum()) if m is not None else channels(t)

    total = 0
    for op in graph.ops:
        out = op.outputs[0] if op.outputs else None
        if op.type == "CONV_2D":
            w = op.inputs[1].shape
            total += int(np.prod(out.shape[:-1])) * ch(out) * w[1] * w[2] * ch(op.inputs[0])
        elif op.type == "DEPTHWISE_CONV_2D":
            w = op.inputs[1].shape
            total += int(np.prod(out.shape[:-1])) * ch(out) * w[1] * w[2]
        elif op.type == "FULLY_CONNECTED":
            rows = int(np.prod(out.shape[:-1])) if len(out.shape) > 1 else 1
            total += rows * ch(out) * ch(op.inputs[0])
    return total


class _Counts:
    """Kept channel counts per tensor for "the first n units of each group's order" choices,
    from cumulative sums (the greedy search asks this thousands of times)."""

    def __init__(self, groups: Sequence[Group], orders: dict[int, list[int]]) -> None:
        self.cum: dict[int, dict[int, np.ndarray]] = {}
        self.full: dict[int, int] = {}
        for g in groups:
            if g.index not in orders:
                continue
            order = orders[g.index]
            per: dict[int, np.ndarray] = {}
            for t in g.tensors:
                self.full[id(t)] = channels(t)
                col = np.zeros(len(order) + 1, dtype=np.int64)
                for j, u in enumerate(order):
                    col[j + 1] = len(g.units[u].slots.get(id(t), ()))
                per[id(t)] = np.cumsum(col)
            self.cum[g.index] = per

    def kept(self, steps: dict[int, int]) -> dict[int, int]:
        out: dict[int, int] = {}
        for gi, n in steps.items():
            if n:
                for key, cum in self.cum[gi].items():
                    out[key] = self.full[key] - int(cum[n])
        return out


def _step(units: int, kept: int, multiple: int) -> int:
    """The multiple a group of ``units`` keeping ``kept`` must keep (see _Steps)."""
    m = max(multiple, 1) if units >= 8 * multiple else 1
    while m > 1 and kept < 4 * m:
        m //= 2
    return m


class _Steps:
    """The removal counts a group may take. A group of at least 8 x ``multiple`` units keeps
    k units, k a multiple of the largest power of two m up to ``multiple`` with k >= 4 m
    (multiples of 8 from 32 kept, of 4 from 16...); smaller groups keep any count, so steps
    stay fine where a model has few channels. SIMD kernels run channels in vectors of 4 to 16
    lanes, and a pruned layer of 93 channels runs its last ones as a tail: EfficientNet-Lite0
    pruned to 0.75x MACs with any counts ran its depthwise convolutions in more instructions
    than the unpruned ones on a Cortex-A76."""

    def __init__(self, groups: Sequence[Group], orders: dict[int, list[int]],
                 multiple: int) -> None:
        self.allowed: dict[int, list[int]] = {}
        for g in groups:
            if g.index not in orders:
                continue
            n, most = len(g.units), len(orders[g.index])
            self.allowed[g.index] = [p for p in range(most + 1)
                                     if p == 0 or (n - p) % _step(n, n - p, multiple) == 0]

    def floor(self, gi: int, p: int) -> int:
        """The largest allowed count not above ``p``."""
        a = self.allowed[gi]
        return a[max(bisect.bisect_right(a, p) - 1, 0)]

    def between(self, gi: int, lo: int, hi: int) -> list[int]:
        """Allowed counts in (lo, hi], ascending."""
        return [p for p in self.allowed[gi] if lo < p <= hi]

    def below(self, gi: int, p: int) -> int | None:
        """The next allowed count under ``p`` (None at 0)."""
        a = self.allowed[gi]
        i = bisect.bisect_left(a, p)
        return a[i - 1] if i > 0 else None


def allocate(graph: ir.Graph, groups: Sequence[Group], grams: dict[int, RP.Gram], *,
             macs: float | None, channels_fraction: float | None, criterion: str,
             allocation: str, mode: str, multiple: int = 1
             ) -> tuple[Choice, dict[int, np.ndarray]]:
    """Decide how many units each prunable group loses; return the choice and the scores.

    ``multiple``: a group whose unit count is a multiple of it keeps a multiple of it (see
    _Steps)."""
    prunable = [g for g in groups if g.units]
    scores = {g.index: importance(g, grams, criterion) for g in prunable}
    orders = {g.index: removal_order(g, scores[g.index]) for g in prunable}
    if criterion == "activation" and mode != "none":
        gcache: dict[int, tuple[np.ndarray, float]] = {}
        for g in prunable:
            greedy = greedy_order(g, grams, mode, gcache)
            if greedy is None and mode == "ls" and OBS_ORDER:
                greedy = obs_order(g, grams)
            if greedy is not None:
                orders[g.index] = greedy
    total_units = sum(len(g.units) for g in prunable)
    base_macs = macs_with(graph, {})
    counts = _Counts(prunable, orders)
    allowed = _Steps(prunable, orders, multiple)

    def met(steps: dict[int, int]) -> bool:
        if channels_fraction is not None:
            return sum(steps.values()) >= channels_fraction * total_units
        return macs_with(graph, kept=counts.kept(steps)) <= macs * base_macs

    steps = {g.index: 0 for g in prunable}
    if allocation == "uniform":
        # One fraction for every group, the smallest that meets the target (bisection).
        lo, hi = 0.0, 1.0
        for _ in range(30):
            mid = (lo + hi) / 2
            trial = {g.index: allowed.floor(g.index, round(mid * len(g.units)))
                     for g in prunable}
            if met(trial):
                hi = mid
            else:
                lo = mid
        steps = {g.index: allowed.floor(g.index, round(hi * len(g.units))) for g in prunable}
        return Choice({gi: orders[gi][:n] for gi, n in steps.items() if n}), scores

    # Global: sensitivity curves on a grid of fractions, then greedy steps.
    cache: dict[int, tuple[np.ndarray, float]] = {}
    lams: dict[int, float] = {}
    points = {}
    errors = {}
    for g in prunable:
        n = len(orders[g.index])
        pts = sorted({allowed.floor(g.index, min(n, round(f * len(g.units)))) for f in GRID}
                     | {allowed.floor(g.index, n)})
        points[g.index] = pts
        errors[g.index] = [group_error(g, orders[g.index][:p], grams, mode, cache, lams)
                           for p in pts]
    at = {g.index: 0 for g in prunable}  # position in points

    def cost_saved(gi: int, p_from: int, p_to: int) -> float:
        if channels_fraction is not None:
            return float(p_to - p_from)
        a = dict(steps)
        a[gi] = p_from
        b = dict(steps)
        b[gi] = p_to
        return float(macs_with(graph, kept=counts.kept(a)) - macs_with(graph, kept=counts.kept(b)))

    while not met(steps):
        best = None
        for g in prunable:
            gi = g.index
            k = at[gi]
            if k + 1 >= len(points[gi]):
                continue
            saved = cost_saved(gi, points[gi][k], points[gi][k + 1])
            if saved <= 0:
                continue
            rate = (errors[gi][k + 1] - errors[gi][k]) / saved
            if best is None or rate < best[0]:
                best = (rate, gi)
        if best is None:
            break  # nothing more can go: the caller reports what was reached
        gi = best[1]
        k = at[gi]
        prev, nxt = points[gi][k], points[gi][k + 1]
        # The smallest count within the step that meets the target, else the whole step.
        chosen = nxt
        for p in allowed.between(gi, prev, nxt):
            trial = dict(steps)
            trial[gi] = p
            if met(trial):
                chosen = p
                break
        steps[gi] = chosen
        at[gi] = k + 1 if chosen == nxt else k
        if chosen != nxt:
            break
    if macs is not None and met(steps):
        _give_back(prunable, orders, steps, met, grams, mode, cache, lams, allowed)
    return Choice({gi: orders[gi][:n] for gi, n in steps.items() if n}), scores


def _give_back(prunable: Sequence[Group], orders: dict[int, list[int]], steps: dict[int, int],
               met, grams: dict[int, RP.Gram], mode: str,
               cache: dict[int, tuple[np.ndarray, float]], lams: dict[int, float],
               allowed: _Steps) -> None:
    """The greedy steps are coarse (10 % of a group at a time), so the MACs reached can fall
    well short of the target: put units back, one allowed step at a time, the one whose return
    lowers the error most, while the target still holds."""
    errs: dict[tuple[int, int], float] = {}

    def err(g: Group, n: int) -> float:
        if (g.index, n) not in errs:
            errs[(g.index, n)] = group_error(g, orders[g.index][:n], grams, mode, cache, lams)
        return errs[(g.index, n)]

    while True:
        best = None
        for g in prunable:
            n = steps[g.index]
            back = allowed.below(g.index, n)
            if back is None:
                continue
            trial = dict(steps)
            trial[g.index] = back
            if not met(trial):
                continue
            gain = err(g, n) - err(g, back)
            if best is None or gain > best[0]:
                best = (gain, g.index, back)
        if best is None:
            return
        steps[best[1]] = best[2]


# ---- rewriting the graph -----------------------------------------------------------------

def _sliced(t: ir.Tensor, data: np.ndarray) -> ir.Tensor:
    return ir.Tensor(t.name, data.shape, t.dtype, data=np.ascontiguousarray(data))


def _per_position(op: ir.Op, groups: Sequence[Group]) -> int | None:
    """Channels per position in ``op``'s features (feature = position × that + channel):
    a convolution's input channels; for a dense layer reading a flattened map, the map's
    channels (each unit's columns step by it); None when the layout is not that regular."""
    if op.type == "CONV_2D":
        return int(op.inputs[1].shape[-1])
    f = int(op.inputs[1].shape[-1])
    for g in groups:
        for u in g.units:
            cols = u.slots.get(id(op.inputs[0]))
            if not cols:
                continue
            if len(cols) == 1:
                return f
            step = np.diff(np.asarray(cols))
            if f % len(cols) or np.any(step != f // len(cols)):
                return None
            return f // len(cols)
    return None


def apply(graph: ir.Graph, masks: dict[int, np.ndarray], groups: Sequence[Group],
          grams: dict[int, RP.Gram], mode: str) -> dict[str, dict]:
    """Shrink ``graph`` in place by ``masks``, refitting the layers that read removed channels.

    Returns per layer (output tensor name) what changed: channels in/out before and after."""
    changes: dict[str, dict] = {}
    consts_done: set[int] = set()
    for op in graph.ops:
        new_inputs = list(op.inputs)
        if op.type in ("CONV_2D", "FULLY_CONNECTED"):
            x, out = op.inputs[0], op.outputs[0]
            in_keep = masks.get(id(x))
            out_keep = masks.get(id(out))
            if in_keep is None and out_keep is None:
                continue
            w = op.inputs[1]
            o = w.shape[0]
            removed = (RP.feature_index(op, np.flatnonzero(~in_keep).tolist())
                       if in_keep is not None else np.zeros(0, np.int64))
            wk, b = RP.refit(op, grams.get(id(op)), removed, mode, _per_position(op, groups))
            if op.type == "CONV_2D":
                _, kh, kw, _ = w.shape
                wk = wk.reshape(o, kh, kw, -1)
            rows = out_keep if out_keep is not None else np.ones(o, dtype=bool)
            new_inputs[1] = _sliced(w, wk[rows].astype(w.dtype))
            if len(op.inputs) > 2 and op.inputs[2] is not None:
                new_inputs[2] = _sliced(op.inputs[2], b[rows].astype(op.inputs[2].dtype))
            elif removed.size and mode != "none":
                new_inputs = new_inputs[:2] + [ir.const(f"{out.name}_bias",
                                                        b[rows].astype(np.float32))]
            changes[out.name] = {
                "in": (channels(x), int(in_keep.sum()) if in_keep is not None else channels(x)),
                "out": (o, int(rows.sum()))}
        elif op.type == "DEPTHWISE_CONV_2D":
            out = op.outputs[0]
            keep = masks.get(id(out))
            if keep is None:
                continue
            w = op.inputs[1]
            new_inputs[1] = _sliced(w, np.asarray(w.data)[..., keep])
            if len(op.inputs) > 2 and op.inputs[2] is not None:
                new_inputs[2] = _sliced(op.inputs[2], np.asarray(op.inputs[2].data)[keep])
            changes[out.name] = {"in": (channels(op.inputs[0]),
                                                   int(masks[id(op.inputs[0])].sum())),
                                            "out": (len(keep), int(keep.sum()))}
        elif op.type in ("RESHAPE",) and id(op.outputs[0]) in masks:
            out = op.outputs[0]
            shape = [*out.shape[:-1], int(masks[id(out)].sum())]
            op.options = {**op.options, "new_shape": shape} if "new_shape" in op.options \
                else op.options
            if len(op.inputs) > 1 and op.inputs[1] is not None and op.inputs[1].is_const:
                new_inputs[1] = ir.const(op.inputs[1].name, np.asarray(shape, np.int32))
        elif op.type == "SPLIT" and any(id(t) in masks for t in op.outputs):
            sizes = [int(masks[id(t)].sum()) if id(t) in masks else channels(t)
                     for t in op.outputs]
            if len(set(sizes)) > 1:  # unequal parts: SPLIT_V says each size
                axis = op.inputs[0]
                op.type = "SPLIT_V"
                op.options = {"num_splits": len(sizes)}
                new_inputs = [op.inputs[1], ir.const(f"{op.outputs[0].name}_sizes",
                                                     np.asarray(sizes, np.int32)), axis]
        elif op.type == "SPLIT_V" and any(id(t) in masks for t in op.outputs):
            sizes = [int(masks[id(t)].sum()) if id(t) in masks else channels(t)
                     for t in op.outputs]
            new_inputs[1] = ir.const(op.inputs[1].name, np.asarray(sizes, np.int32))
        # Constant operands tied to pruned channels (per-channel scales, PReLU alphas...).
        for i, t in enumerate(new_inputs):
            if t is not None and t.is_const and id(t) in masks and id(t) not in consts_done:
                consts_done.add(id(t))
                sliced = _sliced(t, np.asarray(t.data)[..., masks[id(t)]])
                graph.replace_uses(t, sliced)
                new_inputs[i] = sliced
        op.inputs = new_inputs
    for t in graph.tensors():
        m = masks.get(id(t))
        if m is not None and not t.is_const:
            t.shape = (*t.shape[:-1], int(m.sum()))
    return changes


def correct(graph: ir.Graph, orig: ir.Graph, twin: dict[int, ir.Tensor],
            masks: dict[int, np.ndarray], grams: dict[int, RP.Gram], samples: Sequence,
            backend: str, progress: bool) -> None:
    """The correction pass: refit every repaired layer on the pruned model's inputs.

    Front to back in stages: a layer refit to undo the error of the pruned layers before it
    must see those layers as they will be, already corrected. Refitting every layer at once on
    one pass of the pruned model makes each layer compensate errors that the layers before it
    compensate too, and in a deep stack (EfficientNet-Lite0, 49 refit layers) the
    over-compensation compounds until the output is lost (cosine 0.2 against float where the
    unrepaired pruning kept 0.5). Each stage costs one pass of both models, up to the stage's
    layers, over the samples.
    """
    orig_by_out = {id(op.outputs[0]): op for op in orig.ops if op.outputs}
    pairs = []
    for op in graph.ops:
        if op.type in ("CONV_2D", "FULLY_CONNECTED") and id(op) in grams \
                and id(op.inputs[0]) in masks:
            pairs.append((op, orig_by_out[id(twin[id(op.outputs[0])])]))
    if not pairs:
        return
    stages = min(len(pairs), CORRECTION_STAGES)
    bounds = [round(i * len(pairs) / stages) for i in range(stages + 1)]
    for lo, hi in itertools.pairwise(bounds):
        stage = pairs[lo:hi]
        got = RP.collect_pairs(orig, graph, stage, samples, backend, progress)
        for op, o_op in stage:
            _correct_layer(op, o_op, masks, got[id(op)], grams[id(op)])


# Stages of the correction pass (see correct()): more stages follow the pruned model more
# closely, each costs one pass of both models over the calibration samples. EfficientNet-Lite0
# at --macs 0.75, 64 photo crops (output cosine on them / prune CPU s): 1 stage 0.20 / 50 s,
# 8 stages 0.969 / 71 s, 16 stages 0.996 / 85 s, one per layer (49) 0.997 / 105 s.
CORRECTION_STAGES = 16


def _correct_layer(op: ir.Op, o_op: ir.Op, masks: dict[int, np.ndarray], pair: RP.Pair,
                   gram: RP.Gram) -> None:
    w_o, b_o = RP.layer_matrix(o_op)
    keep_out = masks.get(id(op.outputs[0]))
    if keep_out is not None:
        w_o, b_o = w_o[keep_out], b_o[keep_out]
    w_c, b_c = RP.layer_matrix(op)
    new = RP.correct(np.concatenate([w_o, b_o[:, None]], axis=1),
                     np.concatenate([w_c, b_c[:, None]], axis=1), pair, gram)
    w_t = op.inputs[1]
    op.inputs[1] = _sliced(w_t, new[:, :-1].reshape(w_t.shape).astype(w_t.dtype))
    if len(op.inputs) > 2 and op.inputs[2] is not None:
        op.inputs[2] = _sliced(op.inputs[2], new[:, -1].astype(op.inputs[2].dtype))
