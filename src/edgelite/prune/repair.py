"""What a layer sees on calibration data, and least-squares repair of its weights.

For each CONV_2D / FULLY_CONNECTED layer we accumulate the Gram matrix of its input features
over the calibration samples: rows are output positions, columns are the features one output
reads (a dense layer's inputs; a convolution's patch in its weights' (kh, kw, c) order), plus a
column of ones for the bias. The float model runs on runtime_micro with the linear planner, like
calibration does (DESIGN decision 7), so no Python executor is involved; only the im2col of a
layer's input is done in numpy.

With G = [X 1]ᵀ[X 1] and a layer's weights W (bias as the last column), the output is
Y = [X 1] Wᵀ. Removing input features R and keeping K, the least-squares refit of the kept
weights (He et al. 2017; ThiNet, Luo et al. 2017) is W'_K = W G[:, K] G_KK⁻¹, and its residual
energy is tr(W G Wᵀ) − tr(W G[:, K] G_KK⁻¹ G[K, :] Wᵀ): everything is computed from G, never from
the samples again. The ones column is always kept, so the bias absorbs the mean contribution of
removed features; "bias" repair does only that (b' = b + W_R μ_R), "none" just drops them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from edgelite import ir
from edgelite.quantize.data import Progress, Sample
from edgelite.quantize.runner import Runner, in_sample_order, workers

REPAIRS = ("ls", "bias", "none")
# Relative Tikhonov damping of G_KK: keeps the solve defined when features are dead (a ReLU
# channel that never fires) or collinear, far below anything that changes a well-posed fit.
DAMP = 1e-6


FOLDS = 4
# Ridge strengths tried by cross-validation, relative to the mean diagonal of G_KK.
LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)
# With at least this many calibration rows per feature (and the pull toward the bias-only
# repair) the fit does not overfit measurably: no
# cross-validation (convolutions see one row per output position; dense layers one per sample).
ROWS_PER_FEATURE = 4
# Between ROWS_PER_FEATURE and this many rows per feature, the sensitivity of the allocation
# (residual()) is the error of the ridge refit measured on held-out folds, for layers of at most
# FOLD_CV_FEATURES features (four eigendecompositions of the kept features per subset; GCV's
# estimate above that). EfficientNet-Lite0's head (320 -> 1280 on 7x7 maps: 3,136 rows for 321
# features at 64 crops) lost 2 dB more on other crops than on the calibration ones, which the
# training residual did not show: the allocation cut its 320 inputs to 224.
FOLD_CV_ROWS = 16
FOLD_CV_FEATURES = 512
# The correction pass cross-validates below this many rows per feature (see correct()).
# Rows of one image are far from independent (a 7x7 map gives 49 similar rows), so even tens
# of rows per feature overfit: EfficientNet-Lite0 --macs 0.75 on 64 crops, output cosine on
# 48 other crops 0.9375 with 4, 0.9524 with 64 (the 7x7 and 14x14 layers cross-validated).
CORRECT_CV_ROWS = 64
# Ridge strengths of the correction pass, relative to the mean diagonal of its Gram matrix;
# it pulls toward the layer-wise repaired weights, so strong pulls are worth trying.
CORRECT_LAMBDAS = (1e-3, 1e-2, 1e-1, 1.0)


@dataclass
class Gram:
    """Σ over calibration rows of [x 1]ᵀ[x 1] for one layer's input features (float64), kept
    per fold (samples dealt round-robin) for cross-validated repair."""

    folds: list[np.ndarray]  # each (F + 1, F + 1); the last row/column is the ones column
    rows: int
    # Σ over the samples of ‖s‖² for the residual sum s the layer's output is added into
    # (landing()), 0 when it is not added to anything.
    landing: float = 0.0

    @property
    def g(self) -> np.ndarray:
        if not hasattr(self, "_g"):
            self._g = np.sum(self.folds, axis=0)
        return self._g

    @property
    def features(self) -> int:
        return self.g.shape[0] - 1

    @property
    def mean(self) -> np.ndarray:
        return self.g[-1, :-1] / max(self.rows, 1)

    @property
    def needs_cv(self) -> bool:
        return self.rows < ROWS_PER_FEATURE * (self.features + 1) and len(self.folds) > 1


def layer_matrix(op: ir.Op) -> tuple[np.ndarray, np.ndarray]:
    """(W as outputs × features, bias) of a CONV_2D / FULLY_CONNECTED, float64."""
    w = np.asarray(op.inputs[1].data, dtype=np.float64)
    o = w.shape[0]
    b = op.inputs[2] if len(op.inputs) > 2 else None
    bias = (np.asarray(b.data, dtype=np.float64).reshape(o) if b is not None and b.is_const
            else np.zeros(o))
    return w.reshape(o, -1), bias


def landing(graph: ir.Graph, op: ir.Op) -> ir.Tensor | None:
    """The residual sum a layer's output is added into (its only reader is an ADD of the same
    shape: an inverted residual block's projection), else None."""
    out = op.outputs[0]
    users = graph.consumers().get(out, [])
    if len(users) == 1 and users[0].type == "ADD" and users[0].outputs \
            and tuple(users[0].outputs[0].shape) == tuple(out.shape):
        return users[0].outputs[0]
    return None


def features(op: ir.Op, x: np.ndarray) -> np.ndarray:
    """The rows of features ``op`` reads from its input value ``x`` (float64)."""
    x = np.asarray(x, dtype=np.float64)
    w = op.inputs[1]
    if op.type == "FULLY_CONNECTED":
        return x.reshape(-1, w.shape[-1])
    _, kh, kw, c = w.shape
    opt = op.options
    sh, sw = int(opt.get("stride_h", 1)), int(opt.get("stride_w", 1))
    dh, dw = int(opt.get("dilation_h_factor", 1)), int(opt.get("dilation_w_factor", 1))
    n, h, wd, _ = x.shape
    oh, ow = op.outputs[0].shape[1:3]
    if opt.get("padding", "SAME") == "SAME":
        ph = max((oh - 1) * sh + (kh - 1) * dh + 1 - h, 0)
        pw = max((ow - 1) * sw + (kw - 1) * dw + 1 - wd, 0)
        x = np.pad(x, ((0, 0), (ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0)))
    if kh == kw == 1:
        cols = x[:, : (oh - 1) * sh + 1: sh, : (ow - 1) * sw + 1: sw, :]
        return cols.reshape(-1, c)
    patches = np.empty((n, oh, ow, kh, kw, c))
    for i in range(kh):
        for j in range(kw):
            patches[:, :, :, i, j, :] = x[:, i * dh: i * dh + (oh - 1) * sh + 1: sh,
                                          j * dw: j * dw + (ow - 1) * sw + 1: sw, :]
    return patches.reshape(-1, kh * kw * c)


def collect(graph: ir.Graph, model: bytes, samples: Sequence[Sample], layers: Sequence[ir.Op],
            backend: str = "micro", progress: bool = True) -> dict[int, Gram]:
    """Gram matrices of ``layers``' inputs over ``samples`` (key: id(op))."""
    runners = [Runner(model, graph, backend) for _ in range(workers(backend, len(samples)))]
    folds = FOLDS if len(samples) >= 2 * FOLDS else 1
    acc: dict[int, list[np.ndarray]] = {}
    rows: dict[int, int] = {}
    lands = [landing(graph, op) for op in layers]
    energy = {id(op): 0.0 for op in layers}

    def one(r: Runner, sample: Sample) -> list[tuple[np.ndarray, float]]:
        r.run(sample)
        out = []
        for op, s in zip(layers, lands, strict=True):
            f = features(op, r.tensor(op.inputs[0]))
            xa = np.empty((f.shape[0], f.shape[1] + 1))
            xa[:, :-1] = f
            xa[:, -1] = 1.0
            e = 0.0 if s is None else float(np.sum(np.square(r.tensor(s), dtype=np.float64)))
            out.append((xa.T @ xa, e))
            rows[id(op)] = f.shape[0]
        return out

    bar = Progress(len(samples), "collecting layer inputs", progress)
    for k, grams in enumerate(in_sample_order(runners, samples, one)):
        for op, (g, e) in zip(layers, grams, strict=True):
            slot = acc.get(id(op))
            if slot is None:
                slot = acc[id(op)] = [np.zeros_like(g) for _ in range(folds)]
            slot[k % folds] += g
            energy[id(op)] += e
        bar.step()
    return {k: Gram(f, rows[k] * len(samples), energy[k]) for k, f in acc.items()}


def _aug(op: ir.Op) -> np.ndarray:
    w, b = layer_matrix(op)
    return np.concatenate([w, b[:, None]], axis=1)


def signal(op: ir.Op, gram: Gram) -> float:
    """Energy of the layer's output over the calibration rows: tr(W G Wᵀ)."""
    wa = _aug(op)
    return _quad(wa, gram.g)


def _kept_index(features_total: int, removed: np.ndarray) -> np.ndarray:
    keep = np.ones(features_total + 1, dtype=bool)
    keep[removed] = False
    return np.flatnonzero(keep)  # the ones column (last) is always kept


def _prior(wa: np.ndarray, g: np.ndarray, rows: int, removed: np.ndarray,
           keep: np.ndarray) -> np.ndarray:
    """The bias-only repair in the kept space: kept weights, bias + W_R μ_R."""
    p = wa[:, keep].copy()
    p[:, -1] += wa[:, removed] @ (g[-1, removed] / max(rows, 1))
    return p


def _regressed(wa: np.ndarray, g: np.ndarray, rows: int, removed: np.ndarray,
               keep: np.ndarray, per_pos: int) -> np.ndarray | None:
    """The repair that replaces each removed channel by its linear regression on the kept
    channels at the same position, in the kept space (None when ``removed`` is not whole
    channels of a layout with ``per_pos`` channels per position).

    A layer reading the same channels at several positions (a convolution's kh × kw taps, a
    dense layer after a flatten) shares one regression across them: rows × positions
    observations for a few coefficients, where the full refit of a dense layer reading a
    flattened map has one row per sample for hundreds of features."""
    f = g.shape[0] - 1
    if per_pos <= 0 or f % per_pos:
        return None
    c, s = per_pos, f // per_pos
    cr = np.unique(removed % c)
    if cr.size * s != removed.size:
        return None
    ck = np.setdiff1d(np.arange(c), cr)
    p = np.einsum("scsd->cd", g[:f, :f].reshape(s, c, s, c))  # Σ over positions
    m = g[:f, f].reshape(s, c).sum(axis=0)
    idx = np.concatenate([ck, [c]])
    pa = np.zeros((c + 1, c + 1))
    pa[:c, :c], pa[:c, c], pa[c, :c], pa[c, c] = p, m, m, rows * s
    lhs = pa[np.ix_(idx, idx)]
    lhs = lhs + DAMP * max(float(np.mean(np.diag(lhs))), 1e-30) * np.eye(len(idx))
    coef = np.linalg.solve(lhs, pa[np.ix_(idx, cr)])  # (|kept| + 1) × |removed channels|
    new = wa.copy()
    pos = np.arange(s)[:, None] * c
    for sp in range(s):
        w_r = wa[:, pos[sp] + cr]
        new[:, pos[sp] + ck] += w_r @ coef[:-1].T
        new[:, f] += w_r @ coef[-1]
    return new[:, keep]


def _priors(wa: np.ndarray, g: np.ndarray, rows: int, removed: np.ndarray, keep: np.ndarray,
            per_pos: int | None) -> list[np.ndarray]:
    """What the ridge refit is pulled toward: the bias-only repair, and the shared channel
    regression when the layout allows it."""
    out = [_prior(wa, g, rows, removed, keep)]
    if per_pos is not None:
        reg = _regressed(wa, g, rows, removed, keep, per_pos)
        if reg is not None:
            out.append(reg)
    return out


def _ridge(g: np.ndarray, rows: int, wa: np.ndarray, removed: np.ndarray, keep: np.ndarray,
           lam: float, prior: np.ndarray | None = None) -> np.ndarray:
    """Kept weights (O × |K|) fitted on G, pulled toward ``prior`` (default: the bias-only
    repair) with strength λ · mean diag(G_KK): W' = (W G[:, K] + λ P)(G_KK + λ I)⁻¹."""
    gkk = g[np.ix_(keep, keep)]
    s = lam * max(float(np.mean(np.diag(gkk))), 1e-30)
    prior = _prior(wa, g, rows, removed, keep) if prior is None else prior
    return np.linalg.solve(gkk + s * np.eye(len(keep)), (wa @ g[:, keep] + s * prior).T).T


def _quad(w: np.ndarray, g: np.ndarray) -> float:
    """tr(W G Wᵀ)."""
    return float(np.sum((w @ g) * w))


def _holdout_errors(a_train: np.ndarray, r_train: np.ndarray, a_hold: np.ndarray,
                    q_hold: np.ndarray, base: float, priors: Sequence[np.ndarray],
                    strengths: Sequence[float]) -> np.ndarray:
    """Hold-out error energies (priors × strengths) of the ridge fits
    W_s = (R + s P)(A + s I)⁻¹, R = ``r_train`` (O × K), A = ``a_train`` (K × K), P a prior:
    in the eigenbasis V of A, W_s = C_s Vᵀ with C_s = (R V + s P V) / (vals + s), and the
    error on the hold-out rows is ``base`` − 2 Σ C_s ∘ (Q V) + Σ (C_s H) ∘ C_s, H = Vᵀ A_h V
    (``a_hold``, ``q_hold`` = Q: the hold-out cross term of W): one eigendecomposition and two
    products, then O × K² per candidate (the classifier of MobileNetV2 reads 1,281 features
    on 64 rows)."""
    vals, vecs = np.linalg.eigh(a_train)
    r0 = r_train @ vecs
    q = q_hold @ vecs
    h = vecs.T @ a_hold @ vecs
    errs = np.zeros((len(priors), len(strengths)))
    for j, prior in enumerate(priors):
        p0 = prior @ vecs
        for i, s in enumerate(strengths):
            c = (r0 + s * p0) / (vals + s)
            errs[j, i] = base - 2 * float(np.sum(c * q)) + float(np.sum((c @ h) * c))
    return errs


def _cv(gram: Gram, wa: np.ndarray, removed: np.ndarray, keep: np.ndarray,
        lambdas: tuple[float, ...] = LAMBDAS, per_pos: int | None = None
        ) -> tuple[float, float, int]:
    """(λ, its cross-validated error energy, which prior) over the folds, the best of
    ``lambdas`` × the priors (_priors): the fits of _ridge() on the other folds, measured on
    each fold by _holdout_errors."""
    total = gram.g
    per_fold_rows = gram.rows / len(gram.folds)
    n_priors = len(_priors(wa, total, gram.rows, removed, keep, per_pos))
    errs = np.zeros((n_priors, len(lambdas)))
    for f in gram.folds:
        rows = int(gram.rows - per_fold_rows)
        train = total - f
        gkk = train[np.ix_(keep, keep)]
        scale = max(float(np.mean(np.diag(gkk))), 1e-30)
        errs += _holdout_errors(gkk, wa @ train[:, keep], f[np.ix_(keep, keep)], wa @ f[:, keep],
                                _quad(wa, f), _priors(wa, train, rows, removed, keep, per_pos),
                                [lam * scale for lam in lambdas])
    j, i = np.unravel_index(int(np.argmin(errs)), errs.shape)
    return lambdas[i], max(float(errs[j, i]), 0.0), int(j)


def choose_lambda(op: ir.Op, gram: Gram, removed: np.ndarray,
                  wa: np.ndarray | None = None) -> float:
    """The cross-validated ridge strength for removing ``removed`` from ``op``'s inputs."""
    wa = _aug(op) if wa is None else wa
    return _cv(gram, wa, removed, _kept_index(gram.features, removed))[0]


def residual(op: ir.Op, gram: Gram, removed: np.ndarray, mode: str,
             wa: np.ndarray | None = None, lam: float | None = None,
             total: float | None = None) -> float:
    """Output error energy after removing input features ``removed`` with repair ``mode``
    (for "ls" on few rows: the cross-validated error of the ridge refit, with ridge strength
    ``lam`` if given, else the best one). ``total``: signal(op, gram) when the caller has it
    (O × F² multiply-adds each time otherwise: the search asks for thousands of subsets)."""
    if removed.size == 0:
        return 0.0
    wa = _aug(op) if wa is None else wa
    g = gram.g
    if mode == "none":
        wr = wa[:, removed]
        return _quad(wr, g[np.ix_(removed, removed)])
    if mode == "bias":
        n = max(gram.rows, 1)
        mu = g[-1, removed] / n
        cov = g[np.ix_(removed, removed)] / n - np.outer(mu, mu)
        wr = wa[:, removed]
        return _quad(wr, cov) * n
    keep = _kept_index(gram.features, removed)
    a = g[keep] @ wa.T  # |K| × O
    z = _solve(g[np.ix_(keep, keep)], a)
    total = _quad(wa, g) if total is None else total
    fit = max(total - float(np.sum(a * z)), 0.0)
    if not gram.needs_cv:
        if gram.rows < FOLD_CV_ROWS * (gram.features + 1) and len(gram.folds) > 1 \
                and gram.features <= FOLD_CV_FEATURES:
            # Rows of one sample are far from independent (a 7x7 map gives 49 alike): the
            # training residual flatters the fit more than the rows count says; measure it
            # on the folds.
            return _cv(gram, wa, removed, keep)[1]
        return fit
    # Few rows per feature: the training residual flatters the fit. Generalised
    # cross-validation's correction (1 − df/n)⁻² estimates its error on new rows; the bias-only
    # repair (what the ridge falls back to) bounds it.
    bias = residual(op, gram, removed, "bias", wa)
    df, n = len(keep), gram.rows
    return bias if df >= n else min(bias, fit / (1.0 - df / n) ** 2)


def _solve(gkk: np.ndarray, a: np.ndarray) -> np.ndarray:
    d = np.diag(gkk)
    lam = DAMP * float(np.mean(d)) if d.size else 0.0
    reg = gkk + lam * np.eye(gkk.shape[0])
    try:
        return np.linalg.solve(reg, a)
    except np.linalg.LinAlgError:
        return np.linalg.lstsq(reg, a, rcond=None)[0]


def refit(op: ir.Op, gram: Gram | None, removed: np.ndarray, mode: str,
          per_pos: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """New (W over the kept features, bias) for ``op`` after removing ``removed`` features.

    W comes back as outputs × kept features (the caller reshapes it to the layer's layout).
    With few calibration rows per feature the least-squares refit is a ridge regression
    toward the bias-only repair, its strength chosen by cross-validation over the folds."""
    w, b = layer_matrix(op)
    keep = np.setdiff1d(np.arange(w.shape[1]), removed)
    if removed.size == 0 or mode == "none" or gram is None:
        return w[:, keep], b
    if mode == "bias":
        return w[:, keep], b + w[:, removed] @ gram.mean[removed]
    wa = np.concatenate([w, b[:, None]], axis=1)
    kidx = _kept_index(gram.features, removed)
    if gram.needs_cv:
        lam, _, j = _cv(gram, wa, removed, kidx, per_pos=per_pos)
        prior = _priors(wa, gram.g, gram.rows, removed, kidx, per_pos)[j]
        new = _ridge(gram.g, gram.rows, wa, removed, kidx, lam, prior)
    else:
        new = _solve(gram.g[np.ix_(kidx, kidx)], gram.g[kidx] @ wa.T).T
    return new[:, :-1], new[:, -1]


def feature_index(op: ir.Op, channels_removed: Sequence[int]) -> np.ndarray:
    """The feature columns of ``op`` that read the given input channels."""
    w = op.inputs[1]
    ch = np.asarray(sorted(channels_removed), dtype=np.int64)
    if op.type == "FULLY_CONNECTED" or ch.size == 0:
        return ch
    _, kh, kw, c = w.shape
    offs = np.arange(kh * kw, dtype=np.int64) * c
    return np.sort((offs[:, None] + ch[None, :]).reshape(-1))


# ---- the correction pass: refit on the pruned model's own inputs ---------------------------

@dataclass
class Pair:
    """Per fold, for one repaired layer: A = X'ᵀX' (pruned inputs, ones column last) and
    B = X'ᵀX (against the unpruned model's inputs), over the same samples."""

    a: list[np.ndarray]
    b: list[np.ndarray]
    rows: int


def prefix(graph: ir.Graph, needed: Sequence[ir.Tensor]) -> ir.Graph:
    """The part of ``graph`` that computes ``needed`` (its ops and tensors shared, not copied),
    with those tensors as its outputs: a pass that reads a few layers' inputs runs only the
    network up to them."""
    sub = ir.Graph(inputs=list(graph.inputs), outputs=list(dict.fromkeys(needed)),
                   ops=list(graph.ops), name=graph.name)
    sub.remove_dead()
    return sub


def collect_pairs(orig: ir.Graph, pruned: ir.Graph, layers: Sequence[tuple[ir.Op, ir.Op]],
                  samples: Sequence[Sample], backend: str = "micro",
                  progress: bool = True) -> dict[int, Pair]:
    """For (pruned layer, unpruned layer) pairs, the cross Gram matrices (key: id(pruned)).

    Both models run only up to the layers asked for (prefix()): the correction pass and the
    layer-after-layer sparse pass ask for a few layers at a time, front to back, so on average
    half of each network runs instead of all of it."""
    from edgelite.tflite.writer import write_model

    folds = FOLDS if len(samples) >= 2 * FOLDS else 1
    sub_o = prefix(orig, [o.inputs[0] for _, o in layers])
    sub_p = prefix(pruned, [p.inputs[0] for p, _ in layers])
    model_o, model_p = write_model(sub_o), write_model(sub_p)
    runners = [(Runner(model_o, sub_o, backend), Runner(model_p, sub_p, backend))
               for _ in range(workers(backend, len(samples)))]
    out: dict[int, Pair] = {}
    bar = Progress(len(samples), "refitting on pruned inputs", progress)

    def aug(f: np.ndarray) -> np.ndarray:
        xa = np.empty((f.shape[0], f.shape[1] + 1))
        xa[:, :-1] = f
        xa[:, -1] = 1.0
        return xa

    def one(pair_of_runners: tuple[Runner, Runner],
            sample: Sample) -> list[tuple[np.ndarray, np.ndarray, int]]:
        ro, rp = pair_of_runners
        ro.run(sample)
        rp.run(sample)
        got = []
        for p_op, o_op in layers:
            xp = aug(features(p_op, rp.tensor(p_op.inputs[0])))
            xo = aug(features(o_op, ro.tensor(o_op.inputs[0])))
            got.append((xp.T @ xp, xp.T @ xo, xp.shape[0]))
        return got

    for k, got in enumerate(in_sample_order(runners, samples, one)):
        for (p_op, _), (a, b, rows) in zip(layers, got, strict=True):
            pair = out.get(id(p_op))
            if pair is None:
                pair = out[id(p_op)] = Pair([np.zeros_like(a) for _ in range(folds)],
                                            [np.zeros_like(b) for _ in range(folds)], 0)
            pair.a[k % folds] += a
            pair.b[k % folds] += b
            pair.rows += rows
        bar.step()
    return out


def correct(w_orig: np.ndarray, w_cur: np.ndarray, pair: Pair, gram: Gram) -> np.ndarray:
    """Kept-space weights (bias last) minimising ‖X W_origᵀ − X' W'ᵀ‖² + λ‖W' − W_cur‖²,
    λ by cross-validation over the folds when rows are few per feature, else a small damping.

    Each fold measures the fits on the other folds (_holdout_errors, the prior W_cur)."""
    a_all, b_all = np.sum(pair.a, axis=0), np.sum(pair.b, axis=0)
    scale = max(float(np.mean(np.diag(a_all))), 1e-30) / max(len(pair.a), 1)
    eye = np.eye(a_all.shape[0])
    many_rows = pair.rows >= CORRECT_CV_ROWS * a_all.shape[0]
    if many_rows or len(pair.a) == 1:
        # Enough rows: the plain least-squares fit (damped), as in refit(); no folds needed.
        return np.linalg.solve(a_all + DAMP * scale * len(pair.a) * eye,
                               (w_orig @ b_all.T + DAMP * scale * len(pair.a) * w_cur).T).T
    lams = CORRECT_LAMBDAS
    errs = np.zeros(len(lams) + 1)  # the last: no refit (W_cur)
    for f in range(len(pair.a)):
        a_f, b_f = pair.a[f], pair.b[f]
        base = _quad(w_orig, gram.folds[f])  # the same for every λ
        errs[:-1] += _holdout_errors(a_all - a_f, w_orig @ (b_all - b_f).T, a_f, w_orig @ b_f.T,
                                     base, [w_cur], [lam * scale * len(pair.a) for lam in lams])[0]
        errs[-1] += (base - 2 * float(np.sum((w_cur @ b_f) * w_orig)) + _quad(w_cur, a_f))
    best = int(np.argmin(errs))
    if best == len(lams):
        return w_cur  # the refit learns the calibration samples, not the layer
    # one λ: a linear solve of the same system costs a fraction of the eigendecomposition
    sc = lams[best] * scale * len(pair.a)
    return np.linalg.solve(a_all + sc * eye, (w_orig @ b_all.T + sc * w_cur).T).T
