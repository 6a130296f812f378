/* Data-movement ops: RESHAPE, SQUEEZE, EXPAND_DIMS (in place), CONCATENATION, SPLIT, SPLIT_V,
 * STRIDED_SLICE, SLICE, PAD, PADV2, TRANSPOSE, GATHER, DEPTH_TO_SPACE, SPACE_TO_DEPTH,
 * RESIZE_NEAREST_NEIGHBOR, RESIZE_BILINEAR. Every index and size is resolved and checked in
 * prepare; only GATHER's indices (data) are checked at invoke. */
#include <string.h>

#include "el_kcommon.h"
#include "opt/el_opt.h"

/* Values of a constant int32/int64 index tensor (begin, paddings, perm, axis...). */
static el_status const_ints(el_context *ctx, el_node *node, int32_t idx, const char *role,
                            int32_t max_count, int32_t *vals, int32_t *count)
{
    el_tensor *t;
    int32_t n, i;
    EL_TRY(el_k_in(ctx, node, idx, &t));
    EL_TRY(el_k_const(ctx, node, t, role));
    n = el_tensor_elements(t);
    if (n > max_count) {
        return EL_UNSUP(ctx, node, "%s has %d values, at most %d supported", role, (int)n,
                        (int)max_count);
    }
    for (i = 0; i < n; ++i) {
        if (t->type == EL_INT32) {
            int32_t v;
            memcpy(&v, (const unsigned char *)t->data + 4 * (size_t)i, 4);
            vals[i] = v;
        } else if (t->type == EL_INT64) {
            int64_t v;
            memcpy(&v, (const unsigned char *)t->data + 8 * (size_t)i, 8);
            if (v < INT32_MIN || v > INT32_MAX) {
                return EL_BAD(ctx, node, "%s value %d does not fit in int32", role, (int)i);
            }
            vals[i] = (int32_t)v;
        } else {
            return EL_UNSUP(ctx, node, "%s must be INT32 or INT64", role);
        }
    }
    *count = n;
    return EL_OK;
}

static el_status same_type_and_quant(el_context *ctx, el_node *node, const el_tensor *in,
                                     int32_t in_idx, const el_tensor *out)
{
    if (in->type != out->type) {
        return EL_UNSUP(ctx, node, "input %d type %s differs from output type %s", (int)in_idx,
                        el_dtype_name(in->type), el_dtype_name(out->type));
    }
    if (el_dtype_size(in->type) == 0) {
        return EL_UNSUP(ctx, node, "type %s has no fixed element size", el_dtype_name(in->type));
    }
    if (in->type == EL_INT8 || in->type == EL_UINT8 || in->type == EL_INT16) {
        el_quant qi, qo;
        EL_TRY(el_get_input_quant(ctx, node, in_idx, &qi));
        EL_TRY(el_get_output_quant(ctx, node, 0, &qo));
        if (qi.count != qo.count || qi.scale != qo.scale || qi.zero_point != qo.zero_point) {
            return EL_UNSUP(ctx, node,
                            "input %d and the output have different quantization "
                            "(this op moves data without requantizing)",
                            (int)in_idx);
        }
    }
    return EL_OK;
}

/* ---- RESHAPE / SQUEEZE / EXPAND_DIMS ----------------------------------------------- */

static el_status reshape_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    if (node->n_inputs < 1 || node->n_outputs != 1) {
        return EL_BAD(ctx, node, "needs 1 data input and 1 output");
    }
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (in->type != out->type || in->bytes != out->bytes) {
        return EL_BAD(ctx, node, "output must have the input's type and element count");
    }
    return EL_OK;
}

static el_status reshape_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    el_copy_bytes(out->bytes, in->data, out->data);
    return EL_OK;
}

/* ---- CONCATENATION / SPLIT / SPLIT_V ------------------------------------------------ */

typedef struct {
    int32_t n, outer;
    size_t *inner_bytes;
    const void **ptrs; /* filled at invoke */
} concat_data;

static el_status concat_alloc(el_context *ctx, el_node *node, int32_t n, concat_data **out)
{
    const size_t bytes = sizeof(concat_data) + (size_t)n * (sizeof(size_t) + sizeof(void *));
    unsigned char *m = (unsigned char *)el_alloc_op_data(ctx, node, bytes);
    concat_data *d;
    if (m == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d = (concat_data *)m;
    d->inner_bytes = (size_t *)(m + sizeof(concat_data));
    d->ptrs = (const void **)(m + sizeof(concat_data) + (size_t)n * sizeof(size_t));
    d->n = n;
    *out = d;
    return EL_OK;
}

/* Checks `part` against `whole` (all dims equal except `axis`); returns inner bytes. */
static el_status concat_part(el_context *ctx, el_node *node, const el_tensor *whole,
                             const el_tensor *part, int32_t axis, size_t *inner)
{
    int32_t i;
    size_t n = el_dtype_size(part->type);
    if (part->rank != whole->rank) {
        return EL_BAD(ctx, node, "inputs and outputs must have the same rank");
    }
    for (i = 0; i < whole->rank; ++i) {
        if (i != axis && part->dims[i] != whole->dims[i]) {
            return EL_BAD(ctx, node, "dim %d differs (%d vs %d) outside the axis %d", (int)i,
                          (int)part->dims[i], (int)whole->dims[i], (int)axis);
        }
        if (i >= axis) {
            n *= (size_t)part->dims[i];
        }
    }
    *inner = n;
    return EL_OK;
}

static int32_t outer_of(const el_tensor *t, int32_t axis)
{
    int32_t i, n = 1;
    for (i = 0; i < axis; ++i) {
        n *= t->dims[i];
    }
    return n;
}

static el_status concat_prepare(el_context *ctx, el_node *node)
{
    const el_concat_options *o = (const el_concat_options *)node->options;
    el_tensor *out, *in;
    concat_data *d;
    int32_t axis, i, sum = 0;
    EL_TRY(el_k_counts(ctx, node, 1, 0xffff, 1, 1));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (o == NULL || o->activation != EL_ACT_NONE) {
        return EL_UNSUP(ctx, node, "fused activations on CONCATENATION are not supported");
    }
    axis = o->axis < 0 ? o->axis + out->rank : o->axis;
    if (axis < 0 || axis >= out->rank) {
        return EL_BAD(ctx, node, "axis %d is out of range for rank %d", (int)o->axis,
                      (int)out->rank);
    }
    EL_TRY(concat_alloc(ctx, node, node->n_inputs, &d));
    for (i = 0; i < node->n_inputs; ++i) {
        EL_TRY(el_k_in(ctx, node, i, &in));
        EL_TRY(same_type_and_quant(ctx, node, in, i, out));
        EL_TRY(concat_part(ctx, node, out, in, axis, &d->inner_bytes[i]));
        sum += in->dims[axis];
    }
    if (sum != out->dims[axis]) {
        return EL_BAD(ctx, node, "inputs sum to %d along axis %d, output has %d", (int)sum,
                      (int)axis, (int)out->dims[axis]);
    }
    d->outer = outer_of(out, axis);
    return EL_OK;
}

static el_status concat_invoke(el_context *ctx, el_node *node)
{
    concat_data *d = (concat_data *)node->op_data;
    int32_t i;
    for (i = 0; i < d->n; ++i) {
        d->ptrs[i] = el_input(ctx, node, i)->data;
    }
    el_concat(d->n, d->outer, d->inner_bytes, d->ptrs, el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* SPLIT: inputs (axis, input). SPLIT_V: inputs (input, size_splits, axis). */
static el_status split_prepare(el_context *ctx, el_node *node)
{
    const int is_v = node->builtin_code == EL_OP_SPLIT_V;
    const int32_t data_idx = is_v ? 0 : 1, axis_idx = is_v ? 2 : 0;
    el_tensor *in, *out;
    concat_data *d;
    int32_t axis_v[1], n_axis, axis, i, sum = 0;
    EL_TRY(el_k_counts(ctx, node, is_v ? 3 : 2, is_v ? 3 : 2, 1, 0xffff));
    EL_TRY(el_k_in(ctx, node, data_idx, &in));
    EL_TRY(const_ints(ctx, node, axis_idx, "axis", 1, axis_v, &n_axis));
    if (n_axis != 1) {
        return EL_BAD(ctx, node, "axis must have one value");
    }
    axis = axis_v[0] < 0 ? axis_v[0] + in->rank : axis_v[0];
    if (axis < 0 || axis >= in->rank) {
        return EL_BAD(ctx, node, "axis %d is out of range for rank %d", (int)axis_v[0],
                      (int)in->rank);
    }
    EL_TRY(concat_alloc(ctx, node, node->n_outputs, &d));
    for (i = 0; i < node->n_outputs; ++i) {
        EL_TRY(el_k_out(ctx, node, i, &out));
        if (out->type != in->type) {
            return EL_UNSUP(ctx, node, "output %d type differs from the input", (int)i);
        }
        EL_TRY(concat_part(ctx, node, in, out, axis, &d->inner_bytes[i]));
        sum += out->dims[axis];
    }
    if (sum != in->dims[axis]) {
        return EL_BAD(ctx, node, "outputs sum to %d along axis %d, input has %d", (int)sum,
                      (int)axis, (int)in->dims[axis]);
    }
    d->outer = outer_of(in, axis);
    return EL_OK;
}

static el_status split_invoke(el_context *ctx, el_node *node)
{
    concat_data *d = (concat_data *)node->op_data;
    const int32_t data_idx = node->builtin_code == EL_OP_SPLIT ? 1 : 0; /* SPLIT_V, UNPACK: 0 */
    int32_t i;
    for (i = 0; i < d->n; ++i) {
        d->ptrs[i] = el_output(ctx, node, i)->data;
    }
    el_split(d->n, d->outer, d->inner_bytes, el_input(ctx, node, data_idx)->data,
             (void *const *)d->ptrs);
    return EL_OK;
}

/* PACK: n inputs of shape S -> S with a new axis of size n; UNPACK the inverse. Both are a
 * concatenation/split along the new axis, which no input has: each contributes prod(S[axis:])
 * contiguous elements per outer index. */
static el_status pack_prepare(el_context *ctx, el_node *node)
{
    const el_pack_options *o = (const el_pack_options *)node->options;
    const int unpack = node->builtin_code == EL_OP_UNPACK;
    el_tensor *whole, *part;
    concat_data *d;
    int32_t axis, i, k, n_parts;
    size_t inner;
    EL_TRY(el_k_counts(ctx, node, 1, unpack ? 1 : 0xffff, 1, unpack ? 0xffff : 1));
    n_parts = unpack ? node->n_outputs : node->n_inputs;
    EL_TRY(unpack ? el_k_in(ctx, node, 0, &whole) : el_k_out(ctx, node, 0, &whole));
    axis = o ? o->axis : 0;
    axis = axis < 0 ? axis + whole->rank : axis;
    if (axis < 0 || axis >= whole->rank || whole->dims[axis] != n_parts) {
        return EL_BAD(ctx, node, "axis %d does not have %d entries", (int)axis, (int)n_parts);
    }
    EL_TRY(concat_alloc(ctx, node, n_parts, &d));
    inner = el_dtype_size(whole->type);
    for (k = axis + 1; k < whole->rank; ++k) {
        inner *= (size_t)whole->dims[k];
    }
    for (i = 0; i < n_parts; ++i) {
        EL_TRY(unpack ? el_k_out(ctx, node, i, &part) : el_k_in(ctx, node, i, &part));
        if (unpack) {
            if (part->type != whole->type) {
                return EL_UNSUP(ctx, node, "output %d type differs from the input", (int)i);
            }
        } else {
            EL_TRY(same_type_and_quant(ctx, node, part, i, whole));
        }
        if (part->rank != whole->rank - 1) {
            return EL_BAD(ctx, node, "part %d must have rank %d", (int)i, (int)whole->rank - 1);
        }
        for (k = 0; k < part->rank; ++k) {
            if (part->dims[k] != whole->dims[k < axis ? k : k + 1]) {
                return EL_BAD(ctx, node, "part %d dim %d does not match", (int)i, (int)k);
            }
        }
        d->inner_bytes[i] = inner;
    }
    d->outer = outer_of(whole, axis);
    return EL_OK;
}

static el_status pack_invoke(el_context *ctx, el_node *node)
{
    return node->builtin_code == EL_OP_UNPACK ? split_invoke(ctx, node) : concat_invoke(ctx, node);
}

/* ---- SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND ----------------------------------------- */

typedef struct {
    el_dims in, out;
    int32_t bh, bw, top, left;
    size_t elem;
    unsigned char value[8];
} s2b_data;

static el_status s2b_prepare(el_context *ctx, el_node *node)
{
    const int s2b = node->builtin_code == EL_OP_SPACE_TO_BATCH_ND;
    el_tensor *in, *out;
    s2b_data *d;
    int32_t blk[2], pc[4], nb, np, r, i;
    EL_TRY(el_k_counts(ctx, node, 3, 3, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    if ((in->rank != 4 && in->rank != 3) || out->rank != in->rank || el_dtype_size(in->type) > 8) {
        return EL_UNSUP(ctx, node, "input must be rank 3 or 4");
    }
    r = in->rank - 2; /* spatial dims */
    EL_TRY(const_ints(ctx, node, 1, "block_shape", 2, blk, &nb));
    EL_TRY(const_ints(ctx, node, 2, s2b ? "paddings" : "crops", 4, pc, &np));
    if (nb != r || np != 2 * r) {
        return EL_BAD(ctx, node, "block_shape/paddings must cover %d spatial dims", (int)r);
    }
    d = (s2b_data *)el_alloc_op_data(ctx, node, sizeof(s2b_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->bh = blk[0];
    d->bw = r == 2 ? blk[1] : 1;
    d->top = pc[0];
    d->left = r == 2 ? pc[2] : 0;
    for (i = 0; i < 2 * r; ++i) {
        if (pc[i] < 0) {
            return EL_BAD(ctx, node, "negative paddings/crops");
        }
    }
    if (d->bh < 1 || d->bw < 1) {
        return EL_BAD(ctx, node, "block sizes must be >= 1");
    }
    d->in.n = in->dims[0];
    d->in.h = in->dims[1];
    d->in.w = r == 2 ? in->dims[2] : 1;
    d->in.c = in->dims[in->rank - 1];
    d->out.n = out->dims[0];
    d->out.h = out->dims[1];
    d->out.w = r == 2 ? out->dims[2] : 1;
    d->out.c = out->dims[out->rank - 1];
    {
        const int32_t bottom = pc[1], right = r == 2 ? pc[3] : 0;
        int ok;
        if (s2b) {
            ok = (d->in.h + d->top + bottom) % d->bh == 0 &&
                 (d->in.w + d->left + right) % d->bw == 0 && d->out.n == d->in.n * d->bh * d->bw &&
                 d->out.h == (d->in.h + d->top + bottom) / d->bh &&
                 d->out.w == (d->in.w + d->left + right) / d->bw && d->out.c == d->in.c;
        } else {
            ok = d->in.n % (d->bh * d->bw) == 0 && d->out.n == d->in.n / (d->bh * d->bw) &&
                 d->out.h == d->in.h * d->bh - d->top - bottom &&
                 d->out.w == d->in.w * d->bw - d->left - right && d->out.c == d->in.c;
        }
        if (!ok) {
            return EL_BAD(ctx, node, "output shape does not match the block and paddings");
        }
    }
    d->elem = el_dtype_size(in->type);
    memset(d->value, 0, sizeof(d->value));
    if (in->type == EL_INT8 || in->type == EL_UINT8) {
        float s;
        int32_t zp;
        EL_TRY(el_k_qout(ctx, node, 0, &s, &zp));
        d->value[0] = (unsigned char)(zp & 0xff);
    }
    return EL_OK;
}

static el_status s2b_invoke(el_context *ctx, el_node *node)
{
    const s2b_data *d = (const s2b_data *)node->op_data;
    const void *in = el_input(ctx, node, 0)->data;
    void *out = el_output(ctx, node, 0)->data;
    if (node->builtin_code == EL_OP_SPACE_TO_BATCH_ND) {
        el_space_to_batch(d->elem, d->bh, d->bw, d->top, d->left, d->value, &d->in, in, &d->out,
                          out);
    } else {
        el_batch_to_space(d->elem, d->bh, d->bw, d->top, d->left, &d->in, in, &d->out, out);
    }
    return EL_OK;
}

/* ---- STRIDED_SLICE / SLICE ---------------------------------------------------------- */

typedef struct {
    el_slice_params p;
    el_shape in;
    size_t elem;
} slice_data;

static int32_t clampi(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static el_status slice_finish(el_context *ctx, el_node *node, slice_data *d, const el_tensor *in,
                              const el_tensor *out, const int32_t *keep_dim)
{
    el_shape want;
    int32_t i, pad = EL_NN_MAX_RANK - in->rank;
    want.rank = 0;
    for (i = 0; i < in->rank; ++i) {
        const int32_t a = i + pad;
        /* int64: start and stop lie within the dim, the stride is any int32 of the model
         * (a stride of 2^31 - 1 overflowed int32; found by the structure-aware fuzzer) */
        const int64_t st = d->p.stride[a];
        const int64_t n64 = st > 0 ? ((int64_t)d->p.stop[a] - d->p.start[a] + st - 1) / st
                                   : ((int64_t)d->p.start[a] - d->p.stop[a] - st - 1) / (-st);
        const int32_t n = n64 < 0 ? 0 : (int32_t)n64;
        if (keep_dim[i]) {
            want.d[want.rank++] = n;
        } else if (n != 1) {
            return EL_BAD(ctx, node, "shrunk axis %d would have %d elements", (int)i, (int)n);
        }
        if (n == 0) {
            return EL_UNSUP(ctx, node, "empty slices are not supported (axis %d)", (int)i);
        }
    }
    /* A rank-0 result (all axes shrunk) is stored by TFLite as rank 0 or [1]. */
    if (want.rank == 0 && out->rank == 1 && out->dims[0] == 1) {
        want.rank = 1;
        want.d[0] = 1;
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    el_k_shape(in, EL_NN_MAX_RANK, &d->in);
    d->elem = el_dtype_size(in->type);
    return EL_OK;
}

static el_status strided_slice_prepare(el_context *ctx, el_node *node)
{
    const el_strided_slice_options *o = (const el_strided_slice_options *)node->options;
    el_tensor *in, *out;
    slice_data *d;
    int32_t begin[EL_NN_MAX_RANK], end[EL_NN_MAX_RANK], strides[EL_NN_MAX_RANK];
    int32_t keep[EL_NN_MAX_RANK];
    int32_t nb, ne, ns, i, pad;
    EL_TRY(el_k_counts(ctx, node, 3, 4, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    if (in->rank > EL_NN_MAX_RANK) {
        return EL_UNSUP(ctx, node, "rank %d is above %d", (int)in->rank, EL_NN_MAX_RANK);
    }
    if (o && (o->ellipsis_mask || o->new_axis_mask)) {
        return EL_UNSUP(ctx, node, "ellipsis_mask and new_axis_mask are not supported");
    }
    EL_TRY(const_ints(ctx, node, 1, "begin", EL_NN_MAX_RANK, begin, &nb));
    EL_TRY(const_ints(ctx, node, 2, "end", EL_NN_MAX_RANK, end, &ne));
    if (node->n_inputs > 3 && el_input(ctx, node, 3) != NULL) {
        EL_TRY(const_ints(ctx, node, 3, "strides", EL_NN_MAX_RANK, strides, &ns));
    } else {
        for (i = 0; i < nb; ++i) {
            strides[i] = 1;
        }
        ns = nb;
    }
    if (nb != in->rank || ne != in->rank || ns != in->rank) {
        return EL_UNSUP(ctx, node, "begin/end/strides must have one value per input dim (%d)",
                        (int)in->rank);
    }
    d = (slice_data *)el_alloc_op_data(ctx, node, sizeof(slice_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    pad = EL_NN_MAX_RANK - in->rank;
    for (i = 0; i < pad; ++i) {
        d->p.start[i] = 0;
        d->p.stop[i] = 1;
        d->p.stride[i] = 1;
    }
    for (i = 0; i < in->rank; ++i) {
        /* TFLite's StartForAxis / StopForAxis. */
        const int32_t size = in->dims[i];
        const int32_t st = strides[i];
        const int shrink = o && (o->shrink_axis_mask & (1 << i));
        int32_t start = begin[i], stop = end[i];
        if (st == 0) {
            return EL_BAD(ctx, node, "stride %d is 0", (int)i);
        }
        if (o && o->offset) {
            const int64_t sum = (int64_t)start + stop;
            stop = sum > INT32_MAX ? INT32_MAX : (sum < INT32_MIN ? INT32_MIN : (int32_t)sum);
        }
        if (o && (o->begin_mask & (1 << i))) {
            start = st > 0 ? INT32_MIN : INT32_MAX;
        }
        if (start < 0) {
            start += size;
        }
        start = st > 0 ? clampi(start, 0, size) : clampi(start, -1, size - 1);
        if (shrink) {
            /* the one element kept must exist (else it is read past the tensor's end) */
            if (start < 0 || start >= size) {
                return EL_BAD(ctx, node, "shrunk axis %d: begin %d is outside its %d elements",
                              (int)i, (int)begin[i], (int)size);
            }
            stop = start + 1;
        } else {
            if (o && (o->end_mask & (1 << i))) {
                stop = st > 0 ? INT32_MAX : INT32_MIN;
            }
            if (stop < 0) {
                stop += size;
            }
            stop = st > 0 ? clampi(stop, 0, size) : clampi(stop, -1, size - 1);
        }
        d->p.start[i + pad] = start;
        d->p.stop[i + pad] = stop;
        d->p.stride[i + pad] = shrink ? 1 : st;
        keep[i] = !shrink;
    }
    return slice_finish(ctx, node, d, in, out, keep);
}

static el_status slice_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    slice_data *d;
    int32_t begin[EL_NN_MAX_RANK], size[EL_NN_MAX_RANK], keep[EL_NN_MAX_RANK];
    int32_t nb, ns, i, pad;
    EL_TRY(el_k_counts(ctx, node, 3, 3, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    if (in->rank > EL_NN_MAX_RANK) {
        return EL_UNSUP(ctx, node, "rank %d is above %d", (int)in->rank, EL_NN_MAX_RANK);
    }
    EL_TRY(const_ints(ctx, node, 1, "begin", EL_NN_MAX_RANK, begin, &nb));
    EL_TRY(const_ints(ctx, node, 2, "size", EL_NN_MAX_RANK, size, &ns));
    if (nb != in->rank || ns != in->rank) {
        return EL_BAD(ctx, node, "begin/size must have one value per input dim (%d)",
                      (int)in->rank);
    }
    d = (slice_data *)el_alloc_op_data(ctx, node, sizeof(slice_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    pad = EL_NN_MAX_RANK - in->rank;
    for (i = 0; i < pad; ++i) {
        d->p.start[i] = 0;
        d->p.stop[i] = 1;
        d->p.stride[i] = 1;
    }
    for (i = 0; i < in->rank; ++i) {
        const int32_t n = size[i] == -1 && begin[i] >= 0 ? in->dims[i] - begin[i] : size[i];
        if (begin[i] < 0 || n < 0 || begin[i] > in->dims[i] || n > in->dims[i] - begin[i]) {
            return EL_BAD(ctx, node, "begin %d size %d are outside dim %d of size %d",
                          (int)begin[i], (int)size[i], (int)i, (int)in->dims[i]);
        }
        d->p.start[i + pad] = begin[i];
        d->p.stop[i + pad] = begin[i] + n;
        d->p.stride[i + pad] = 1;
        keep[i] = 1;
    }
    return slice_finish(ctx, node, d, in, out, keep);
}

static el_status slice_invoke(el_context *ctx, el_node *node)
{
    const slice_data *d = (const slice_data *)node->op_data;
    el_strided_slice(&d->p, d->elem, &d->in, el_input(ctx, node, 0)->data,
                     el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* ---- PAD / PADV2 -------------------------------------------------------------------- */

typedef struct {
    el_shape in;
    int32_t before[EL_NN_MAX_RANK], after[EL_NN_MAX_RANK];
    size_t elem;
    unsigned char value[8];
} pad_data;

static el_status pad_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out, *cv;
    pad_data *d;
    int32_t vals[2 * EL_NN_MAX_RANK], n, i, pad;
    el_shape want;
    EL_TRY(el_k_counts(ctx, node, 2, node->builtin_code == EL_OP_PADV2 ? 3 : 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    if (in->rank > EL_NN_MAX_RANK || el_dtype_size(in->type) > 8) {
        return EL_UNSUP(ctx, node, "rank above %d or element type not supported", EL_NN_MAX_RANK);
    }
    EL_TRY(const_ints(ctx, node, 1, "paddings", 2 * EL_NN_MAX_RANK, vals, &n));
    if (n != 2 * in->rank) {
        return EL_BAD(ctx, node, "paddings must be [%d, 2]", (int)in->rank);
    }
    d = (pad_data *)el_alloc_op_data(ctx, node, sizeof(pad_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    pad = EL_NN_MAX_RANK - in->rank;
    want.rank = in->rank;
    for (i = 0; i < EL_NN_MAX_RANK; ++i) {
        d->before[i] = i < pad ? 0 : vals[2 * (i - pad)];
        d->after[i] = i < pad ? 0 : vals[2 * (i - pad) + 1];
        if (d->before[i] < 0 || d->after[i] < 0) {
            return EL_UNSUP(ctx, node, "negative paddings are not supported");
        }
        if (i >= pad) {
            want.d[i - pad] = in->dims[i - pad] + d->before[i] + d->after[i];
        }
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    el_k_shape(in, EL_NN_MAX_RANK, &d->in);
    d->elem = el_dtype_size(in->type);
    memset(d->value, 0, sizeof(d->value));
    cv = node->n_inputs > 2 ? el_input(ctx, node, 2) : NULL;
    if (cv != NULL) {
        EL_TRY(el_k_const(ctx, node, cv, "constant_values"));
        if (cv->type != in->type || el_tensor_elements(cv) != 1) {
            return EL_BAD(ctx, node, "constant_values must be one value of the input's type");
        }
        memcpy(d->value, cv->data, d->elem);
    } else if (in->type == EL_INT8 || in->type == EL_UINT8 || in->type == EL_INT16) {
        /* Real 0 is the zero point. */
        float s;
        int32_t zp;
        EL_TRY(el_k_qout(ctx, node, 0, &s, &zp));
        if (in->type == EL_INT16) {
            const int16_t v = (int16_t)zp;
            memcpy(d->value, &v, 2);
        } else {
            d->value[0] = (unsigned char)(zp & 0xff);
        }
    }
    return EL_OK;
}

/* Pads dimension r's output indices [o0, o1) (every dimension before r of extent 1, unpadded):
 * one PAD of the input rows the span holds, with the span's share of the padding before and
 * after them. The bytes are those of one call over the whole tensor. */
static void pad_span(el_context *ctx, const pad_data *d, int32_t r, int32_t o0, int32_t o1,
                     const unsigned char *in, unsigned char *out)
{
    const int32_t first = d->before[r], last = d->before[r] + d->in.d[r]; /* input rows */
    const int32_t lo = first < o0 ? o0 : (first > o1 ? o1 : first);
    const int32_t hi = last < lo ? lo : (last > o1 ? o1 : last);
    size_t out_block = d->elem, in_block = d->elem;
    el_shape sub = d->in;
    int32_t before[EL_NN_MAX_RANK], after[EL_NN_MAX_RANK], i;
    for (i = EL_NN_MAX_RANK - 1; i > r; i--) {
        out_block *= (size_t)(d->in.d[i] + d->before[i] + d->after[i]);
        in_block *= (size_t)d->in.d[i];
    }
    memcpy(before, d->before, sizeof(before));
    memcpy(after, d->after, sizeof(after));
    sub.d[r] = hi - lo;
    before[r] = lo - o0;
    after[r] = o1 - hi;
    in += (size_t)(lo > first ? lo - first : 0) * in_block;
    out += (size_t)o0 * out_block;
    if (!el_opt_pad(el_ctx_isa(ctx), d->elem, &sub, before, after, d->value, in, out))
        el_pad(d->elem, &sub, before, after, d->value, in, out);
}

typedef struct {
    el_context *ctx;
    const pad_data *d;
    int32_t dim;
    el_guided g; /* task t: output indices el_guided_range(&g, t) of dimension dim */
    const unsigned char *in;
    unsigned char *out;
} pad_job;

static void pad_task(void *arg, int32_t t)
{
    const pad_job *j = (const pad_job *)arg;
    int32_t o0, o1;
    el_guided_range(&j->g, t, &o0, &o1);
    if (o1 > o0)
        pad_span(j->ctx, j->d, j->dim, o0, o1, j->in, j->out);
}

/* Below this many output bytes a PAD runs as one call. */
#define EL_PAD_SPLIT_MIN 32768
/* A PAD's rows go in a guided split of up to this many tasks per thread: with one task per
 * thread, the threads of a two-thread MobileNetV2-1.0/224 float invoke took 1.5 to 2.4 times
 * as long as each other over equal halves of its PADs (unfolded: an op callback was set;
 * which core last held the rows differs; stop 35), and neither could take over from the
 * other. */
#define EL_PAD_FINE_TASKS 4

static el_status pad_invoke(el_context *ctx, el_node *node)
{
    const pad_data *d = (const pad_data *)node->op_data;
    const unsigned char *in = (const unsigned char *)el_input(ctx, node, 0)->data;
    unsigned char *out = (unsigned char *)el_output(ctx, node, 0)->data;
    const int32_t threads = el_ctx_threads(ctx);
    if (EL_HOSTED_CPU && threads > 1 &&
        (size_t)el_tensor_elements(el_output(ctx, node, 0)) * d->elem >= EL_PAD_SPLIT_MIN) {
        /* Threads split the outermost dimension that is more than one index: with NHWC
         * tensors, rows, as the convolutions around it split them. */
        pad_job j;
        int32_t r = 0, extent;
        while (r < EL_NN_MAX_RANK - 1 && d->in.d[r] + d->before[r] + d->after[r] == 1)
            r++;
        extent = d->in.d[r] + d->before[r] + d->after[r];
        if (extent > 1) {
            j.ctx = ctx;
            j.d = d;
            j.dim = r;
            j.g = el_guided_split(extent, 1, threads, EL_PAD_FINE_TASKS);
            j.in = in;
            j.out = out;
            el_parallel_for(ctx, el_guided_tasks(&j.g), pad_task, &j);
            return EL_OK;
        }
    }
    /* kernels/opt copies whole runs (identical bytes); the reference when it declines. */
    if (!el_opt_pad(el_ctx_isa(ctx), d->elem, &d->in, d->before, d->after, d->value, in, out))
        el_pad(d->elem, &d->in, d->before, d->after, d->value, in, out);
    return EL_OK;
}

/* ---- TRANSPOSE ---------------------------------------------------------------------- */

typedef struct {
    el_shape in;
    int32_t perm[EL_NN_MAX_RANK];
    size_t elem;
} transpose_data;

static el_status transpose_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    transpose_data *d;
    int32_t perm[EL_NN_MAX_RANK], n, i, seen = 0;
    el_shape want;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    if (in->rank > EL_NN_MAX_RANK) {
        return EL_UNSUP(ctx, node, "rank %d is above %d", (int)in->rank, EL_NN_MAX_RANK);
    }
    EL_TRY(const_ints(ctx, node, 1, "perm", EL_NN_MAX_RANK, perm, &n));
    if (n != in->rank) {
        return EL_BAD(ctx, node, "perm has %d values for rank %d", (int)n, (int)in->rank);
    }
    d = (transpose_data *)el_alloc_op_data(ctx, node, sizeof(transpose_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    want.rank = n;
    for (i = 0; i < n; ++i) {
        const int32_t p = perm[i] < 0 ? perm[i] + n : perm[i];
        if (p < 0 || p >= n || (seen & (1 << p))) {
            return EL_BAD(ctx, node, "perm is not a permutation of 0..%d", (int)(n - 1));
        }
        seen |= 1 << p;
        d->perm[i] = p;
        want.d[i] = in->dims[p];
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    if (n == 0) {
        d->in.rank = 1;
        d->in.d[0] = 1;
        d->perm[0] = 0;
    } else {
        el_k_shape(in, n, &d->in);
    }
    d->elem = el_dtype_size(in->type);
    return EL_OK;
}

static el_status transpose_invoke(el_context *ctx, el_node *node)
{
    const transpose_data *d = (const transpose_data *)node->op_data;
    el_transpose(d->elem, &d->in, d->perm, el_input(ctx, node, 0)->data,
                 el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* ---- GATHER ------------------------------------------------------------------------- */

typedef struct {
    int32_t outer, axis_size, inner, n_indices, idx64;
    size_t elem;
} gather_data;

static el_status gather_prepare(el_context *ctx, el_node *node)
{
    const el_gather_options *o = (const el_gather_options *)node->options;
    el_tensor *params, *indices, *out;
    gather_data *d;
    el_shape want;
    int32_t axis, i;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &params));
    EL_TRY(el_k_in(ctx, node, 1, &indices));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, params, 0, out));
    if (indices->type != EL_INT32 && indices->type != EL_INT64) {
        return EL_UNSUP(ctx, node, "indices must be INT32 or INT64");
    }
    if (o && o->batch_dims != 0) {
        return EL_UNSUP(ctx, node, "batch_dims %d is not supported (0 only)", (int)o->batch_dims);
    }
    axis = o ? o->axis : 0;
    axis = axis < 0 ? axis + params->rank : axis;
    if (axis < 0 || axis >= params->rank) {
        return EL_BAD(ctx, node, "axis is out of range for rank %d", (int)params->rank);
    }
    if (params->rank - 1 + indices->rank > EL_MAX_DIMS) {
        return EL_UNSUP(ctx, node, "result rank is too high");
    }
    want.rank = 0;
    for (i = 0; i < axis; ++i) {
        want.d[want.rank++] = params->dims[i];
    }
    for (i = 0; i < indices->rank && want.rank < EL_NN_MAX_RANK; ++i) {
        want.d[want.rank++] = indices->dims[i];
    }
    for (i = axis + 1; i < params->rank && want.rank < EL_NN_MAX_RANK; ++i) {
        want.d[want.rank++] = params->dims[i];
    }
    if (params->rank - 1 + indices->rank > EL_NN_MAX_RANK) {
        return EL_UNSUP(ctx, node, "result rank is above %d", EL_NN_MAX_RANK);
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    d = (gather_data *)el_alloc_op_data(ctx, node, sizeof(gather_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->outer = outer_of(params, axis);
    d->axis_size = params->dims[axis];
    d->inner = 1;
    for (i = axis + 1; i < params->rank; ++i) {
        d->inner *= params->dims[i];
    }
    d->n_indices = el_tensor_elements(indices);
    d->idx64 = indices->type == EL_INT64;
    d->elem = el_dtype_size(params->type);
    if (d->idx64) {
        EL_TRY(el_request_scratch(ctx, node, 4u * (size_t)d->n_indices));
    }
    return EL_OK;
}

static el_status gather_invoke(el_context *ctx, el_node *node)
{
    const gather_data *d = (const gather_data *)node->op_data;
    el_tensor *params = el_input(ctx, node, 0), *indices = el_input(ctx, node, 1);
    const int32_t *idx;
    int32_t i;
    if (d->idx64) {
        int32_t *tmp = (int32_t *)node->scratch;
        for (i = 0; i < d->n_indices; ++i) {
            const int64_t v = ((const int64_t *)indices->data)[i];
            if (v < 0 || v >= d->axis_size) {
                return el_kernel_error(ctx, node, EL_ERROR_INVOKE,
                                       "index %d at position %d is outside [0, %d)", (int)v, (int)i,
                                       (int)d->axis_size);
            }
            tmp[i] = (int32_t)v;
        }
        idx = tmp;
    } else {
        idx = EL_S32(indices);
        for (i = 0; i < d->n_indices; ++i) {
            if (idx[i] < 0 || idx[i] >= d->axis_size) {
                return el_kernel_error(ctx, node, EL_ERROR_INVOKE,
                                       "index %d at position %d is outside [0, %d)", (int)idx[i],
                                       (int)i, (int)d->axis_size);
            }
        }
    }
    el_gather(d->elem, d->outer, d->axis_size, d->inner, idx, d->n_indices, params->data,
              el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* ---- DEPTH_TO_SPACE / SPACE_TO_DEPTH ------------------------------------------------ */

typedef struct {
    el_dims in, out;
    int32_t block;
    size_t elem;
} block_data;

static el_status block_prepare(el_context *ctx, el_node *node)
{
    const el_block_options *o = (const el_block_options *)node->options;
    const int d2s = node->builtin_code == EL_OP_DEPTH_TO_SPACE;
    el_tensor *in, *out;
    block_data *d;
    int32_t b;
    el_shape want;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    EL_TRY(el_k_rank(ctx, node, in, "input", 4));
    b = o ? o->block_size : 0;
    if (b < 1) {
        return EL_BAD(ctx, node, "block_size must be >= 1");
    }
    want.rank = 4;
    want.d[0] = in->dims[0];
    if (d2s) {
        if (in->dims[3] % (b * b) != 0) {
            return EL_BAD(ctx, node, "channels %d are not a multiple of block_size^2",
                          (int)in->dims[3]);
        }
        want.d[1] = in->dims[1] * b;
        want.d[2] = in->dims[2] * b;
        want.d[3] = in->dims[3] / (b * b);
    } else {
        if (in->dims[1] % b != 0 || in->dims[2] % b != 0) {
            return EL_BAD(ctx, node, "height/width are not multiples of block_size");
        }
        want.d[1] = in->dims[1] / b;
        want.d[2] = in->dims[2] / b;
        want.d[3] = in->dims[3] * b * b;
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    d = (block_data *)el_alloc_op_data(ctx, node, sizeof(block_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    el_k_dims4(in, &d->in);
    el_k_dims4(out, &d->out);
    d->block = b;
    d->elem = el_dtype_size(in->type);
    return EL_OK;
}

static el_status block_invoke(el_context *ctx, el_node *node)
{
    const block_data *d = (const block_data *)node->op_data;
    const void *in = el_input(ctx, node, 0)->data;
    void *out = el_output(ctx, node, 0)->data;
    if (node->builtin_code == EL_OP_DEPTH_TO_SPACE) {
        el_depth_to_space(d->elem, d->block, &d->in, in, &d->out, out);
    } else {
        el_space_to_depth(d->elem, d->block, &d->in, in, &d->out, out);
    }
    return EL_OK;
}

/* ---- RESIZE ------------------------------------------------------------------------- */

typedef struct {
    el_resize_params p;
    el_dims in, out;
    size_t elem;
    int32_t type;
} resize_data;

static el_status resize_prepare(el_context *ctx, el_node *node)
{
    const el_resize_options *o = (const el_resize_options *)node->options;
    el_tensor *in, *out;
    resize_data *d;
    int32_t size[2], n;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(same_type_and_quant(ctx, node, in, 0, out));
    EL_TRY(el_k_rank(ctx, node, in, "input", 4));
    EL_TRY(el_k_rank(ctx, node, out, "output", 4));
    EL_TRY(const_ints(ctx, node, 1, "size", 2, size, &n));
    if (n != 2 || size[0] != out->dims[1] || size[1] != out->dims[2] ||
        out->dims[0] != in->dims[0] || out->dims[3] != in->dims[3]) {
        return EL_BAD(ctx, node, "size input does not match the output shape");
    }
    if (node->builtin_code == EL_OP_RESIZE_BILINEAR && in->type != EL_FLOAT32 &&
        in->type != EL_INT8) {
        return EL_UNSUP(ctx, node, "type %s is not supported (FLOAT32 or INT8)",
                        el_dtype_name(in->type));
    }
    if (o && o->align_corners && o->half_pixel_centers) {
        return EL_UNSUP(ctx, node, "align_corners with half_pixel_centers is not supported");
    }
    d = (resize_data *)el_alloc_op_data(ctx, node, sizeof(resize_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->p.align_corners = o ? o->align_corners : 0;
    d->p.half_pixel_centers = o ? o->half_pixel_centers : 0;
    el_k_dims4(in, &d->in);
    el_k_dims4(out, &d->out);
    d->elem = el_dtype_size(in->type);
    d->type = in->type;
    return EL_OK;
}

#if EL_HOSTED_CPU
/* Threads (hosted CPUs): a float32 RESIZE_BILINEAR of EL_RESIZE_SPLIT_MIN output values or more
 * by output rows in a guided split (each row is computed from its two input rows as in one
 * call). MediaPipe's selfie segmentation upsamples to 128x128x16 three times. */
#define EL_RESIZE_SPLIT_MIN 32768
#define EL_RESIZE_FINE_TASKS 4

typedef struct {
    el_context *ctx;
    const resize_data *d;
    const float *in;
    float *out;
    el_guided g;
} resize_job;

static void resize_task(void *arg, int32_t i)
{
    const resize_job *j = (const resize_job *)arg;
    int32_t r0, r1;
    el_guided_range(&j->g, i, &r0, &r1);
    if (r1 > r0) {
        (void)el_opt_resize_bilinear_f32_rows(el_ctx_isa(j->ctx), &j->d->p, &j->d->in, j->in,
                                              &j->d->out, j->out, r0, r1);
    }
}

/* Whether the layer ran split across threads (else it runs as one call). */
static int resize_split(el_context *ctx, const resize_data *d, const float *in, float *out)
{
    const int32_t threads = el_ctx_threads(ctx);
    resize_job j;
    /* the vector kernel takes every float32 layer whose channels match (prepare checked):
     * asked once on an empty band */
    if (threads <= 1 || d->out.h < 2 * threads ||
        (double)d->out.n * d->out.h * d->out.w * d->out.c < EL_RESIZE_SPLIT_MIN ||
        !el_opt_resize_bilinear_f32_rows(el_ctx_isa(ctx), &d->p, &d->in, in, &d->out, out, 0, 0)) {
        return 0;
    }
    j.ctx = ctx;
    j.d = d;
    j.in = in;
    j.out = out;
    j.g = el_guided_split(d->out.h, 1, threads, EL_RESIZE_FINE_TASKS);
    el_parallel_for(ctx, el_guided_tasks(&j.g), resize_task, &j);
    return 1;
}
#endif

static el_status resize_invoke(el_context *ctx, el_node *node)
{
    const resize_data *d = (const resize_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    if (node->builtin_code == EL_OP_RESIZE_NEAREST_NEIGHBOR) {
        el_resize_nearest(&d->p, d->elem, &d->in, in->data, &d->out, out->data);
    } else if (d->type == EL_FLOAT32) {
#if EL_HOSTED_CPU
        if (resize_split(ctx, d, EL_F32(in), EL_F32(out))) {
            return EL_OK;
        }
#endif
        /* vectors on hosted CPUs only: on microcontrollers it would be the reference's loop */
        if (!EL_HOSTED_CPU || !el_opt_resize_bilinear_f32(el_ctx_isa(ctx), &d->p, &d->in,
                                                          EL_F32(in), &d->out, EL_F32(out))) {
            el_resize_bilinear_f32(&d->p, &d->in, EL_F32(in), &d->out, EL_F32(out));
        }
    } else {
        el_resize_bilinear_s8(&d->p, &d->in, EL_S8(in), &d->out, EL_S8(out));
    }
    return EL_OK;
}

const el_kernel el_kernel_reshape = {EL_OP_RESHAPE, EL_KERNEL_INPLACE, reshape_prepare,
                                     reshape_invoke};
const el_kernel el_kernel_squeeze = {EL_OP_SQUEEZE, EL_KERNEL_INPLACE, reshape_prepare,
                                     reshape_invoke};
const el_kernel el_kernel_expand_dims = {EL_OP_EXPAND_DIMS, EL_KERNEL_INPLACE, reshape_prepare,
                                         reshape_invoke};
const el_kernel el_kernel_concatenation = {EL_OP_CONCATENATION, 0, concat_prepare, concat_invoke};
const el_kernel el_kernel_split = {EL_OP_SPLIT, 0, split_prepare, split_invoke};
const el_kernel el_kernel_split_v = {EL_OP_SPLIT_V, 0, split_prepare, split_invoke};
const el_kernel el_kernel_strided_slice = {EL_OP_STRIDED_SLICE, 0, strided_slice_prepare,
                                           slice_invoke};
const el_kernel el_kernel_slice = {EL_OP_SLICE, 0, slice_prepare, slice_invoke};
const el_kernel el_kernel_pad = {EL_OP_PAD, 0, pad_prepare, pad_invoke};
const el_kernel el_kernel_padv2 = {EL_OP_PADV2, 0, pad_prepare, pad_invoke};
const el_kernel el_kernel_transpose = {EL_OP_TRANSPOSE, 0, transpose_prepare, transpose_invoke};
const el_kernel el_kernel_gather = {EL_OP_GATHER, 0, gather_prepare, gather_invoke};
const el_kernel el_kernel_depth_to_space = {EL_OP_DEPTH_TO_SPACE, 0, block_prepare, block_invoke};
const el_kernel el_kernel_space_to_depth = {EL_OP_SPACE_TO_DEPTH, 0, block_prepare, block_invoke};
const el_kernel el_kernel_resize_nearest_neighbor = {EL_OP_RESIZE_NEAREST_NEIGHBOR, 0,
                                                     resize_prepare, resize_invoke};
const el_kernel el_kernel_resize_bilinear = {EL_OP_RESIZE_BILINEAR, 0, resize_prepare,
                                             resize_invoke};
const el_kernel el_kernel_pack = {EL_OP_PACK, 0, pack_prepare, pack_invoke};
const el_kernel el_kernel_unpack = {EL_OP_UNPACK, 0, pack_prepare, pack_invoke};
const el_kernel el_kernel_space_to_batch_nd = {EL_OP_SPACE_TO_BATCH_ND, 0, s2b_prepare, s2b_invoke};
const el_kernel el_kernel_batch_to_space_nd = {EL_OP_BATCH_TO_SPACE_ND, 0, s2b_prepare, s2b_invoke};
