/* LOCAL_RESPONSE_NORMALIZATION (float32), CUMSUM (float32, int32), ONE_HOT (int32/int64
 * indices, float32/int32 values). Semantics are TFLite's: LRN (rank 4) sums squares over
 * channels [c - radius, c + radius] of the last axis, as TF and LiteRT's optimized kernel do
 * (LiteRT's reference kernel's window ends one channel early); CUMSUM takes its axis from a constant input; ONE_HOT leaves
 * indices outside [0, depth) at the off value. */
#include <math.h>
#include <string.h>

#include "el_kcommon.h"

/* outer x axis x inner view of a tensor around axis a */
static void split_at(const el_tensor *t, int32_t a, int32_t *outer, int32_t *n, int32_t *inner)
{
    int32_t i;
    *outer = 1;
    *inner = 1;
    for (i = 0; i < t->rank; ++i) {
        if (i < a) {
            *outer *= t->dims[i];
        } else if (i > a) {
            *inner *= t->dims[i];
        }
    }
    *n = a < t->rank ? t->dims[a] : 1;
}

/* ---- LOCAL_RESPONSE_NORMALIZATION ---------------------------------------------------------- */

typedef struct {
    int32_t outer, depth, radius;
    float bias, alpha, beta;
} lrn_data;

static el_status lrn_prepare(el_context *ctx, el_node *node)
{
    const el_lrn_options *o = (const el_lrn_options *)node->options;
    el_tensor *in, *out;
    lrn_data *d;
    int32_t inner;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_type(ctx, node, in, "input", EL_FLOAT32));
    EL_TRY(el_k_type(ctx, node, out, "output", EL_FLOAT32));
    EL_TRY(el_k_rank(ctx, node, in, "input", 4)); /* as TFLite's kernel requires */
    if (!el_k_same_dims(in, out)) {
        return EL_BAD(ctx, node, "output shape must equal the input's");
    }
    if (o == NULL || o->radius < 0) {
        return EL_BAD(ctx, node, "radius must be >= 0");
    }
    d = (lrn_data *)el_alloc_op_data(ctx, node, sizeof(lrn_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    split_at(in, in->rank - 1, &d->outer, &d->depth, &inner);
    d->radius = o->radius;
    d->bias = o->bias;
    d->alpha = o->alpha;
    d->beta = o->beta;
    return EL_OK;
}

static el_status lrn_invoke(el_context *ctx, el_node *node)
{
    const lrn_data *d = (const lrn_data *)node->op_data;
    const float *x = EL_F32(el_input(ctx, node, 0));
    float *y = EL_F32(el_output(ctx, node, 0));
    int32_t r, c, j;
    for (r = 0; r < d->outer; ++r) {
        const float *xr = x + (size_t)r * (size_t)d->depth;
        float *yr = y + (size_t)r * (size_t)d->depth;
        for (c = 0; c < d->depth; ++c) {
            /* radius may exceed depth: clamp in 64 bits so c +- radius cannot overflow */
            int64_t lo = (int64_t)c - d->radius, hi = (int64_t)c + d->radius + 1;
            float acc = 0.0f;
            if (lo < 0) {
                lo = 0;
            }
            if (hi > d->depth) {
                hi = d->depth;
            }
            for (j = (int32_t)lo; j < (int32_t)hi; ++j) {
                acc += xr[j] * xr[j];
            }
            yr[c] = xr[c] * powf(d->bias + d->alpha * acc, -d->beta);
        }
    }
    return EL_OK;
}

/* ---- CUMSUM -------------------------------------------------------------------------------- */

typedef struct {
    int32_t outer, n, inner, exclusive, reverse, is_float;
} cumsum_data;

static el_status cumsum_prepare(el_context *ctx, el_node *node)
{
    const el_cumsum_options *o = (const el_cumsum_options *)node->options;
    el_tensor *in, *ax, *out;
    cumsum_data *d;
    int32_t a;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_in(ctx, node, 1, &ax));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (in->type != EL_FLOAT32 && in->type != EL_INT32) {
        return EL_UNSUP(ctx, node, "input type %s is not supported (FLOAT32, INT32)",
                        el_dtype_name(in->type));
    }
    EL_TRY(el_k_type(ctx, node, out, "output", in->type));
    if (!el_k_same_dims(in, out)) {
        return EL_BAD(ctx, node, "output shape must equal the input's");
    }
    EL_TRY(el_k_type(ctx, node, ax, "axis", EL_INT32));
    EL_TRY(el_k_const(ctx, node, ax, "axis"));
    if (el_tensor_elements(ax) != 1) {
        return EL_BAD(ctx, node, "axis must be one value");
    }
    memcpy(&a, ax->data, 4);
    if (a < -in->rank || a >= in->rank) {
        return EL_BAD(ctx, node, "axis %d is out of range for rank %d", (int)a, (int)in->rank);
    }
    if (a < 0) {
        a += in->rank;
    }
    d = (cumsum_data *)el_alloc_op_data(ctx, node, sizeof(cumsum_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    split_at(in, a, &d->outer, &d->n, &d->inner);
    d->exclusive = o != NULL && o->exclusive;
    d->reverse = o != NULL && o->reverse;
    d->is_float = in->type == EL_FLOAT32;
    return EL_OK;
}

static el_status cumsum_invoke(el_context *ctx, el_node *node)
{
    const cumsum_data *d = (const cumsum_data *)node->op_data;
    const el_tensor *in = el_input(ctx, node, 0);
    el_tensor *out = el_output(ctx, node, 0);
    int32_t o, i, k;
    for (o = 0; o < d->outer; ++o) {
        for (i = 0; i < d->inner; ++i) {
            size_t base = (size_t)o * (size_t)d->n * (size_t)d->inner + (size_t)i;
            float fs = 0.0f;
            uint32_t is = 0; /* int32 sums wrap like two's complement, without UB */
            for (k = 0; k < d->n; ++k) {
                int32_t kk = d->reverse ? d->n - 1 - k : k;
                size_t at = base + (size_t)kk * (size_t)d->inner;
                if (d->is_float) {
                    float v = EL_F32(in)[at];
                    if (!d->exclusive) {
                        fs += v;
                    }
                    EL_F32(out)[at] = fs;
                    if (d->exclusive) {
                        fs += v;
                    }
                } else {
                    uint32_t v = (uint32_t)EL_S32(in)[at];
                    int32_t w;
                    if (!d->exclusive) {
                        is += v;
                    }
                    memcpy(&w, &is, 4);
                    EL_S32(out)[at] = w;
                    if (d->exclusive) {
                        is += v;
                    }
                }
            }
        }
    }
    return EL_OK;
}

/* ---- ONE_HOT ------------------------------------------------------------------------------- */

typedef struct {
    int32_t prefix, depth, suffix, idx64, elem;
} one_hot_data;

static el_status one_hot_prepare(el_context *ctx, el_node *node)
{
    const el_one_hot_options *o = (const el_one_hot_options *)node->options;
    el_tensor *idx, *dep, *on, *off, *out;
    one_hot_data *d;
    el_shape want;
    int32_t depth, axis, i, j;
    EL_TRY(el_k_counts(ctx, node, 4, 4, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &idx));
    EL_TRY(el_k_in(ctx, node, 1, &dep));
    EL_TRY(el_k_in(ctx, node, 2, &on));
    EL_TRY(el_k_in(ctx, node, 3, &off));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (idx->type != EL_INT32 && idx->type != EL_INT64) {
        return EL_UNSUP(ctx, node, "indices type %s is not supported (INT32, INT64)",
                        el_dtype_name(idx->type));
    }
    if (on->type != EL_FLOAT32 && on->type != EL_INT32) {
        return EL_UNSUP(ctx, node, "on_value type %s is not supported (FLOAT32, INT32)",
                        el_dtype_name(on->type));
    }
    EL_TRY(el_k_type(ctx, node, off, "off_value", on->type));
    EL_TRY(el_k_type(ctx, node, out, "output", on->type));
    if (el_tensor_elements(on) != 1 || el_tensor_elements(off) != 1) {
        return EL_BAD(ctx, node, "on_value and off_value must be scalars");
    }
    EL_TRY(el_k_type(ctx, node, dep, "depth", EL_INT32));
    EL_TRY(el_k_const(ctx, node, dep, "depth"));
    if (el_tensor_elements(dep) != 1) {
        return EL_BAD(ctx, node, "depth must be one value");
    }
    memcpy(&depth, dep->data, 4);
    if (depth < 0) {
        return EL_BAD(ctx, node, "depth %d is negative", (int)depth);
    }
    if (idx->rank + 1 > EL_NN_MAX_RANK) {
        return EL_UNSUP(ctx, node, "indices rank %d is too large", (int)idx->rank);
    }
    axis = o != NULL ? o->axis : -1;
    if (axis == -1) {
        axis = idx->rank;
    }
    if (axis < 0 || axis > idx->rank) {
        return EL_BAD(ctx, node, "axis %d is out of range", (int)axis);
    }
    want.rank = idx->rank + 1;
    for (i = 0, j = 0; i < want.rank; ++i) {
        want.d[i] = i == axis ? depth : idx->dims[j++];
    }
    /* the checked output shape bounds every write of invoke */
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    d = (one_hot_data *)el_alloc_op_data(ctx, node, sizeof(one_hot_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->prefix = 1;
    d->suffix = 1;
    for (i = 0; i < idx->rank; ++i) {
        if (i < axis) {
            d->prefix *= idx->dims[i];
        } else {
            d->suffix *= idx->dims[i];
        }
    }
    d->depth = depth;
    d->idx64 = idx->type == EL_INT64;
    d->elem = 4; /* FLOAT32 and INT32 values */
    return EL_OK;
}

static el_status one_hot_invoke(el_context *ctx, el_node *node)
{
    const one_hot_data *d = (const one_hot_data *)node->op_data;
    const el_tensor *idx = el_input(ctx, node, 0);
    const unsigned char *on = (const unsigned char *)el_input(ctx, node, 2)->data;
    const unsigned char *off = (const unsigned char *)el_input(ctx, node, 3)->data;
    unsigned char *y = (unsigned char *)el_output(ctx, node, 0)->data;
    int32_t p, k, s;
    for (p = 0; p < d->prefix; ++p) {
        for (k = 0; k < d->depth; ++k) {
            for (s = 0; s < d->suffix; ++s) {
                size_t at = (size_t)p * (size_t)d->suffix + (size_t)s;
                int64_t v;
                if (d->idx64) {
                    memcpy(&v, (const unsigned char *)idx->data + 8 * at, 8);
                } else {
                    int32_t v32;
                    memcpy(&v32, (const unsigned char *)idx->data + 4 * at, 4);
                    v = v32;
                }
                memcpy(y + (size_t)d->elem *
                               (((size_t)p * (size_t)d->depth + (size_t)k) * (size_t)d->suffix +
                                (size_t)s),
                       v == k ? on : off, (size_t)d->elem);
            }
        }
    }
    return EL_OK;
}

const el_kernel el_kernel_local_response_normalization = {EL_OP_LOCAL_RESPONSE_NORMALIZATION, 0,
                                                          lrn_prepare, lrn_invoke};
const el_kernel el_kernel_cumsum = {EL_OP_CUMSUM, 0, cumsum_prepare, cumsum_invoke};
const el_kernel el_kernel_one_hot = {EL_OP_ONE_HOT, 0, one_hot_prepare, one_hot_invoke};
