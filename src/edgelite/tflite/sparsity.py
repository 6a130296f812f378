"""TFLite sparse tensors (SparsityParameters): check, densify, encode.

Format facts (TFLite schema): a tensor of rank n with a block map of k entries is stored as a
tree of n + k levels. Expanded dimension d < n counts blocks of original dimension d (its size
divided by the block size); expanded dimension n + j runs inside the block of original
dimension block_map[j]. ``traversal_order`` lists the expanded dimensions from the outermost
level to the innermost, and ``dim_metadata[l]`` describes level l: DENSE (every coordinate,
``dense_size`` of them) or SPARSE_CSR (for each position of the level above, the slice
``array_segments[p] .. array_segments[p+1]`` of ``array_indices`` lists the coordinates
present). The positions of the last level index the buffer's values.

Nothing here trusts the file: ``check`` verifies every field before ``densify`` uses it, so a
crafted index or segment vector is an error, never an out-of-range read.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from edgelite import ir

DENSE, SPARSE_CSR = 0, 1
FORMAT_NAMES = {DENSE: "DENSE", SPARSE_CSR: "SPARSE_CSR"}
# SparseIndexVector union members (type number -> element dtype).
INDEX_VECTOR_DTYPES = {1: "<i4", 2: "<u2", 3: "<u1"}  # Int32Vector, Uint16Vector, Uint8Vector
INDEX_VECTOR_NAMES = {1: "Int32Vector", 2: "Uint16Vector", 3: "Uint8Vector"}


@dataclass
class DimMetadata:
    format: int  # DENSE or SPARSE_CSR
    dense_size: int = 0
    segments: np.ndarray | None = None  # int64 copies of the file's vectors
    indices: np.ndarray | None = None
    segments_type: int = 0  # SparseIndexVector member the file used (0: absent)
    indices_type: int = 0


@dataclass
class SparsityInfo:
    traversal_order: list[int]
    block_map: list[int]
    dim_metadata: list[DimMetadata]

    def describe(self) -> str:
        levels = []
        for d, m in zip(self.traversal_order, self.dim_metadata):
            if m.format == DENSE:
                levels.append(f"{d}:dense{m.dense_size}")
            else:
                levels.append(f"{d}:csr{0 if m.indices is None else m.indices.size}")
        blocks = f" blocks {self.block_map}" if self.block_map else ""
        return "sparse " + " ".join(levels) + blocks


class SparsityError(ValueError):
    """What is wrong with a tensor's sparsity parameters (the caller names the tensor)."""


def _block_sizes(sp: SparsityInfo, shape: list[int]) -> list[int]:
    n = len(shape)
    sizes = [1] * n
    for j, d in enumerate(sp.block_map):
        level = sp.traversal_order.index(n + j)
        m = sp.dim_metadata[level]
        if m.format != DENSE:
            raise SparsityError(f"block dimension {n + j} (level {level}) must be DENSE")
        if m.dense_size < 1 or shape[d] % m.dense_size:
            raise SparsityError(f"block size {m.dense_size} of dimension {d} does not divide its "
                                f"size {shape[d]}")
        sizes[d] = m.dense_size
    return sizes


def expanded_sizes(sp: SparsityInfo, shape: list[int]) -> list[int]:
    """Size of each expanded dimension (block counts, then block sizes); after check()."""
    bs = _block_sizes(sp, shape)
    return [s // b for s, b in zip(shape, bs)] + [bs[d] for d in sp.block_map]


def check(sp: SparsityInfo, shape: list[int], values: int) -> None:
    """Raise SparsityError unless sp describes exactly ``values`` stored values of ``shape``."""
    n, k = len(shape), len(sp.block_map)
    if n == 0:
        raise SparsityError("a scalar cannot be sparse")
    if any(d < 1 for d in shape):
        raise SparsityError(f"shape {shape} has an empty or negative dimension")
    if k > n or sorted(set(sp.block_map)) != sorted(sp.block_map) or any(
            not 0 <= d < n for d in sp.block_map):
        raise SparsityError(f"block_map {sp.block_map} must list distinct dimensions of 0..{n - 1}")
    if sorted(sp.traversal_order) != list(range(n + k)):
        raise SparsityError(f"traversal_order {sp.traversal_order} is not a permutation of "
                            f"0..{n + k - 1}")
    if len(sp.dim_metadata) != n + k:
        raise SparsityError(f"{len(sp.dim_metadata)} dim_metadata entries, expected {n + k}")
    sizes = expanded_sizes(sp, shape)
    positions = 1
    for level, (d, m) in enumerate(zip(sp.traversal_order, sp.dim_metadata)):
        where = f"dim_metadata[{level}] (dimension {d})"
        if m.format == DENSE:
            if m.dense_size != sizes[d]:
                raise SparsityError(f"{where}: dense_size {m.dense_size}, expected {sizes[d]}")
            positions *= sizes[d]
        elif m.format == SPARSE_CSR:
            seg, idx = m.segments, m.indices
            if seg is None or idx is None:
                raise SparsityError(f"{where}: SPARSE_CSR without array_segments/array_indices")
            if seg.size != positions + 1:
                raise SparsityError(f"{where}: {seg.size} segments, expected {positions + 1}")
            if seg[0] != 0 or np.any(np.diff(seg) < 0) or seg[-1] != idx.size:
                raise SparsityError(f"{where}: array_segments must rise from 0 to the "
                                    f"{idx.size} indices without going down")
            if idx.size and (idx.min() < 0 or idx.max() >= sizes[d]):
                raise SparsityError(f"{where}: an index lies outside 0..{sizes[d] - 1}")
            # Strictly increasing inside each segment: every stored value has its own place.
            step = np.diff(idx)
            first = np.zeros(idx.size, bool)
            first[seg[:-1][seg[:-1] < idx.size]] = True
            if idx.size > 1 and np.any((step <= 0) & ~first[1:]):
                raise SparsityError(f"{where}: indices repeat or go down inside a segment")
            positions = int(idx.size)
        else:
            raise SparsityError(f"{where}: unknown format {m.format}")
    if positions != values:
        raise SparsityError(f"the sparsity parameters describe {positions} values, the buffer "
                            f"holds {values}")


def dense_offsets(sp: SparsityInfo, shape: list[int]) -> np.ndarray:
    """Row-major dense offset of every stored value, in storage order (after check())."""
    n = len(shape)
    sizes = expanded_sizes(sp, shape)
    bs = _block_sizes(sp, shape)
    coords: list[np.ndarray | None] = [None] * len(sizes)
    count = 1
    for d, m in zip(sp.traversal_order, sp.dim_metadata):
        if m.format == DENSE:
            s = sizes[d]
            for e in range(len(coords)):
                if coords[e] is not None:
                    coords[e] = np.repeat(coords[e], s)
            coords[d] = np.tile(np.arange(s, dtype=np.int64), count)
            count *= s
        else:
            assert m.segments is not None and m.indices is not None
            parent = np.repeat(np.arange(count, dtype=np.int64), np.diff(m.segments))
            for e in range(len(coords)):
                if coords[e] is not None:
                    coords[e] = coords[e][parent]
            coords[d] = m.indices.astype(np.int64)
            count = int(m.indices.size)
    offset = np.zeros(count, np.int64)
    for d in range(n):
        c = coords[d] * bs[d]
        if d in sp.block_map:
            c = c + coords[n + sp.block_map.index(d)]
        offset = offset * shape[d] + c
    return offset


def densify(sp: SparsityInfo, shape: list[int], values: np.ndarray) -> np.ndarray:
    out = np.zeros(int(np.prod(shape)), values.dtype)
    out[dense_offsets(sp, shape)] = values
    return out.reshape(shape)


# ---- writing ---------------------------------------------------------------------------------

# Block sizes the writer tries along the innermost stored dimension (see encode_rows).
BLOCK_SIZES = (2, 4, 8, 16)


def _index_type(limit: int) -> int:
    """The smallest SparseIndexVector member that holds values up to ``limit``."""
    return 3 if limit <= 0xFF else 2 if limit <= 0xFFFF else 1


def encode_rows(dense: np.ndarray, row_dim: int = 0,
                block: int = 1) -> tuple[SparsityInfo, np.ndarray]:
    """Sparse form of ``dense``: ``row_dim`` outermost and DENSE, the other dimensions in order,
    the innermost one SPARSE_CSR, the others DENSE.

    ``block`` > 1 stores the innermost dimension in blocks of that many consecutive values
    (TFLite's block map: one index per block, the block's values stored whole when any of them
    is nonzero), which is what pays when pruning zeroed whole blocks (``--pattern 1x4``).
    Each row of ``row_dim`` is then a contiguous run of the stored values, which is what
    runtime_micro's sparse kernels read directly (and what DENSIFY takes in LiteRT).
    """
    n = dense.ndim
    order = [row_dim] + [d for d in range(n) if d != row_dim]
    moved = np.transpose(dense, order)
    inner = moved.shape[-1]
    outer = int(np.prod(moved.shape[:-1]))
    flat = moved.reshape(outer, inner // block, block)
    mask = np.any(flat != 0, axis=2)
    counts = mask.sum(axis=1)
    segments = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    indices = np.nonzero(mask)[1].astype(np.int64)  # row-major: rows in order, columns rising
    values = flat[mask].reshape(-1)
    metas = [DimMetadata(DENSE, int(s)) for s in moved.shape[:-1]]
    metas.append(DimMetadata(SPARSE_CSR, 0, segments, indices,
                             _index_type(int(segments[-1])), _index_type(inner // block - 1)))
    if block == 1:
        return SparsityInfo(order, [], metas), values
    metas.append(DimMetadata(DENSE, block))
    return SparsityInfo(order + [n], [order[-1]], metas), values


def smallest_encoding(dense: np.ndarray, row_dim: int = 0) -> tuple[SparsityInfo, np.ndarray]:
    """encode_rows' form that takes the fewest bytes: one index per value, or per block of
    BLOCK_SIZES consecutive values of the innermost dimension (ties keep the smaller block)."""
    inner = dense.shape[([d for d in range(dense.ndim) if d != row_dim] or [row_dim])[-1]]
    best = encode_rows(dense, row_dim)
    for b in BLOCK_SIZES:
        if inner > b and inner % b == 0:
            cand = encode_rows(dense, row_dim, b)
            if encoded_bytes(*cand) < encoded_bytes(*best):
                best = cand
    return best


def encoded_bytes(sp: SparsityInfo, values: np.ndarray) -> int:
    """Bytes the sparse form adds to the file (values, index vectors and tables, roughly)."""
    size = values.nbytes + 16 + 8 * len(sp.traversal_order)
    for m in sp.dim_metadata:
        size += 24
        for arr, kind in ((m.segments, m.segments_type), (m.indices, m.indices_type)):
            if arr is not None:
                size += 16 + arr.size * np.dtype(INDEX_VECTOR_DTYPES[kind]).itemsize
    return size


# ---- the writer's plan -----------------------------------------------------------------------

# Bytes a DENSIFY op and its extra tensor add to the file (operator, tensor table, name,
# shape, buffer entry): counted against what the sparse form saves.
_DENSIFY_OVERHEAD = 160
SPARSE_DTYPES = ("float32", "int8", "float16")


def _row_dim(uses: list[tuple[str, int]], rank: int) -> int:
    """The dimension to keep outermost: the output channel of the ops that read the tensor."""
    if rank == 4 and uses and all(op == "DEPTHWISE_CONV_2D" and k == 1 for op, k in uses):
        return 3
    return 0


@dataclass
class SparsePlan:
    """How the writer stores the constants marked sparse.

    Each chosen constant ``t`` keeps its place (and tensor index) in the file but becomes the
    output of a DENSIFY op (``densify_ops``, written before every other op) whose input is a
    new sparse constant (``stored``, appended after the graph's tensors). So the file's tensor
    indices of ``graph.tensors()`` are unchanged, which tools that map IR tensors to file
    indices (calibration, reports) rely on.

    An int8 FULLY_CONNECTED whose weights go sparse is written as RESHAPE → CONV_2D 1x1 →
    RESHAPE (``replaced``: the ops written instead of a graph op; ``added``: their new
    tensors, after ``stored``); its weights' place in the file holds the 4-D convolution
    weights (``substituted``). LiteRT's default XNNPACK delegate refuses an int8
    FULLY_CONNECTED fed by DENSIFY but runs the same product as a convolution. runtime_micro
    and TFLite Micro give both forms the same bytes; LiteRT's kernels derive the per-channel
    multipliers of the two ops apart, so its outputs may move by one step.
    """

    densify_ops: list[ir.Op]
    stored: list[ir.Tensor]
    encodings: dict[int, tuple[SparsityInfo, np.ndarray]]  # by id of a stored tensor
    replaced: dict[int, list[ir.Op]] = field(default_factory=dict)  # by id of a graph op
    added: list[ir.Tensor] = field(default_factory=list)
    substituted: dict[int, ir.Tensor] = field(default_factory=dict)  # by id of a graph tensor

    @property
    def densified(self) -> set[int]:
        """ids of the constants written as DENSIFY outputs (no buffer of their own)."""
        return {id(op.outputs[0]) for op in self.densify_ops}


# Bytes the RESHAPE → CONV_2D → RESHAPE form of one FULLY_CONNECTED adds (two ops, four
# tensors, two shape vectors).
_FC_AS_CONV_OVERHEAD = 400


def _fc_as_conv(fc: ir.Op, w4: ir.Tensor) -> tuple[list[ir.Op], list[ir.Tensor]] | None:
    """``fc`` (int8 in, weights, int32 bias, int8 out) as RESHAPE → CONV_2D 1x1 over weights
    ``w4`` → RESHAPE, and the new tensors; None when its shapes are not all known."""
    x, _, bias = (list(fc.inputs) + [None])[:3]
    y = fc.outputs[0]
    n, k = w4.shape[0], w4.shape[-1]
    if (bias is None or not all(isinstance(d, int) and d > 0 for d in x.shape + y.shape)
            or x.size % k or fc.options.get("weights_format", "DEFAULT") != "DEFAULT"):
        return None
    rows = x.size // k
    name = y.name  # not the op's name, which reading a file back does not keep
    x4 = ir.Tensor(f"{name}/conv input", (rows, 1, 1, k), x.dtype, quant=x.quant)
    y4 = ir.Tensor(f"{name}/conv output", (rows, 1, 1, n), y.dtype, quant=y.quant)
    s_in = ir.Tensor(f"{name}/conv input shape", (4,), "int32",
                     data=np.array(x4.shape, np.int32))
    s_out = ir.Tensor(f"{name}/output shape", (len(y.shape),), "int32",
                      data=np.array(y.shape, np.int32))
    act = fc.options.get("fused_activation_function", "NONE")
    ops = [ir.Op("RESHAPE", [x, s_in], [x4], dict(new_shape=list(x4.shape)), name=f"{name} in"),
           ir.Op("CONV_2D", [x4, w4, bias], [y4],
                 dict(padding="VALID", stride_w=1, stride_h=1, fused_activation_function=act),
                 name=name),
           ir.Op("RESHAPE", [y4, s_out], [y], dict(new_shape=list(y.shape)), name=f"{name} out")]
    return ops, [s_in, x4, y4, s_out]


def sparse_plan(graph: ir.Graph, xnnpack_safe: bool = True) -> SparsePlan:
    """Choose the constants marked ``sparse`` worth storing in TFLite's sparse form.

    Chosen: float32 / float16 / int8 constants some op reads, not all zero, whose sparse form
    (output channel outermost, the smallest of smallest_encoding's) plus a DENSIFY op takes
    fewer bytes than the dense data. DENSIFY runs in LiteRT for every consumer; runtime_micro
    reads the weights of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D directly and skips it.
    int8 FULLY_CONNECTED weights are written through a 1x1 convolution (see SparsePlan);
    ``xnnpack_safe=False`` leaves those ops as they are (runtime_micro and LiteRT's builtin
    kernels run them; LiteRT's default XNNPACK delegate does not). Deterministic: graph order
    only.
    """
    uses: dict[int, list[tuple[ir.Op, int]]] = {}
    for op in graph.ops:
        for k, t in enumerate(op.inputs):
            if t is not None:
                uses.setdefault(id(t), []).append((op, k))
    outputs = {id(t) for t in graph.outputs}
    plan = SparsePlan([], [], {})
    for t in graph.tensors():
        if not t.sparse or t.data is None or t.dtype not in SPARSE_DTYPES or not t.shape:
            continue
        if id(t) in outputs or id(t) not in uses or not np.any(t.data):
            continue
        used = [(op.type, k) for op, k in uses[id(t)]]
        target, extra, rewrite = t, _DENSIFY_OVERHEAD, None
        if xnnpack_safe and t.dtype == "int8" and ("FULLY_CONNECTED", 1) in used:
            # LiteRT's default XNNPACK delegate fails to prepare an int8 FULLY_CONNECTED whose
            # weights come from DENSIFY (ai-edge-litert 2.x): written as a convolution instead.
            fcs = [op for op, _ in uses[id(t)]]
            if (len(t.shape) != 2 or any(u != ("FULLY_CONNECTED", 1) for u in used)
                    or any(op.inputs[0].dtype != "int8" or op.outputs[0].dtype != "int8"
                           for op in fcs)):
                continue
            target = ir.Tensor(t.name, (t.shape[0], 1, 1, t.shape[1]), t.dtype,
                               data=t.data.reshape(t.shape[0], 1, 1, t.shape[1]), quant=t.quant)
            rewrite = [_fc_as_conv(op, target) for op in fcs]
            if any(r is None for r in rewrite):
                continue
            extra += _FC_AS_CONV_OVERHEAD * len(fcs)
        sp, values = smallest_encoding(target.data, _row_dim(used, len(target.shape)))
        if encoded_bytes(sp, values) + extra >= t.nbytes:
            continue  # the dense form is smaller: keep it
        stored = ir.Tensor(f"{t.name}/sparse", target.shape, t.dtype, data=target.data,
                           quant=t.quant)
        plan.encodings[id(stored)] = (sp, values)
        plan.stored.append(stored)
        plan.densify_ops.append(ir.Op("DENSIFY", [stored], [target], name=f"densify {t.name}"))
        if rewrite is not None:
            plan.substituted[id(t)] = target
            for (op, _), (ops, tensors) in zip(uses[id(t)], rewrite):
                plan.replaced[id(op)] = ops
                plan.added.extend(tensors)
    return plan


def wire_sparse_directly(graph: ir.Graph) -> tuple[ir.Graph, SparsePlan]:
    """For tests: a copy of ``graph`` whose ops read the sparse constants themselves (no
    DENSIFY), and the plan that stores them. Such files run in runtime_micro, which reads
    sparse weights of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D directly; LiteRT's
    builtin float FULLY_CONNECTED does too (int8 only in 1x16 blocks), its convolutions do not
    (they would read garbage)."""
    plan = sparse_plan(graph, xnnpack_safe=False)
    src = {id(op.outputs[0]): op.inputs[0] for op in plan.densify_ops}
    ops = [ir.Op(op.type, [None if t is None else src.get(id(t), t) for t in op.inputs],
                 list(op.outputs), dict(op.options), name=op.name) for op in graph.ops]
    return (ir.Graph(list(graph.inputs), list(graph.outputs), ops, graph.name,
                     dict(graph.metadata)),
            SparsePlan([], [], plan.encodings))
