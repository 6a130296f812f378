/* L2_NORMALIZATION, GATHER_ND, TOPK_V2. */
#include <string.h>

#include "el_kcommon.h"

typedef struct {
    int32_t outer, depth;
    int32_t input_zero_point; /* int8 */
} l2n_data;

static el_status l2norm_prepare(el_context *ctx, el_node *node)
{
    const el_arith_options *o = (const el_arith_options *)node->options;
    el_tensor *in, *out;
    l2n_data *d;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (in->type != EL_FLOAT32 && in->type != EL_INT8) {
        return EL_UNSUP(ctx, node, "input type %s is not supported (FLOAT32 or INT8)",
                        el_dtype_name(in->type));
    }
    EL_TRY(el_k_type(ctx, node, out, "output", in->type));
    if (!el_k_same_dims(in, out) || in->rank < 1) {
        return EL_BAD(ctx, node, "output shape differs from the input shape");
    }
    if (o && o->activation != EL_ACT_NONE) {
        return EL_UNSUP(ctx, node, "fused activations are not supported");
    }
    d = (l2n_data *)el_alloc_op_data(ctx, node, sizeof(l2n_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->depth = in->dims[in->rank - 1];
    d->outer = el_tensor_elements(in) / d->depth;
    if (in->type == EL_INT8) {
        float in_s, out_s;
        int32_t out_zp;
        EL_TRY(el_k_qin(ctx, node, 0, &in_s, &d->input_zero_point));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        if (out_s != 1.0f / 128.0f || out_zp != 0) {
            return EL_UNSUP(ctx, node, "int8 output needs scale 1/128 and zero point 0");
        }
        if (d->depth > 32768) {
            return EL_UNSUP(ctx, node, "int8 rows longer than 32768 would overflow the sum");
        }
    }
    return EL_OK;
}

static el_status l2norm_invoke(el_context *ctx, el_node *node)
{
    const l2n_data *d = (const l2n_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    if (in->type == EL_INT8) {
        el_l2norm_s8(d->input_zero_point, d->outer, d->depth, EL_S8(in), EL_S8(out));
        return EL_OK;
    }
    el_l2norm_f32(d->outer, d->depth, EL_F32(in), EL_F32(out));
    return EL_OK;
}

/* GATHER_ND: indices [..., k] (INT32/INT64, checked at invoke: they are data). */
#define EL_GND_MAX_K EL_NN_MAX_RANK

typedef struct {
    int32_t n_idx, k, inner, idx64;
    int32_t dims[EL_GND_MAX_K], strides[EL_GND_MAX_K];
    size_t elem;
} gnd_data;

static el_status gather_nd_prepare(el_context *ctx, el_node *node)
{
    el_tensor *params, *indices, *out;
    gnd_data *d;
    el_shape want;
    int32_t k, i, st;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &params));
    EL_TRY(el_k_in(ctx, node, 1, &indices));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (params->type != out->type || el_dtype_size(params->type) == 0) {
        return EL_UNSUP(ctx, node, "params and output must share one fixed-size type");
    }
    if ((indices->type != EL_INT32 && indices->type != EL_INT64) || indices->rank < 1) {
        return EL_UNSUP(ctx, node, "indices must be INT32 or INT64 of rank >= 1");
    }
    k = indices->dims[indices->rank - 1];
    if (k < 1 || k > params->rank || k > EL_GND_MAX_K) {
        return EL_UNSUP(ctx, node, "index depth %d is not supported for params of rank %d", (int)k,
                        (int)params->rank);
    }
    want.rank = 0;
    for (i = 0; i < indices->rank - 1; ++i) {
        want.d[want.rank++] = indices->dims[i];
    }
    for (i = k; i < params->rank; ++i) {
        if (want.rank >= EL_NN_MAX_RANK) {
            return EL_UNSUP(ctx, node, "result rank is above %d", EL_NN_MAX_RANK);
        }
        want.d[want.rank++] = params->dims[i];
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    d = (gnd_data *)el_alloc_op_data(ctx, node, sizeof(gnd_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->k = k;
    d->n_idx = el_tensor_elements(indices) / k;
    d->inner = 1;
    for (i = k; i < params->rank; ++i) {
        d->inner *= params->dims[i];
    }
    st = d->inner;
    for (i = k - 1; i >= 0; --i) {
        d->dims[i] = params->dims[i];
        d->strides[i] = st;
        st *= params->dims[i];
    }
    d->idx64 = indices->type == EL_INT64;
    d->elem = el_dtype_size(params->type);
    return el_request_scratch(ctx, node, 4u * (size_t)el_tensor_elements(indices));
}

static el_status gather_nd_invoke(el_context *ctx, el_node *node)
{
    const gnd_data *d = (const gnd_data *)node->op_data;
    el_tensor *indices = el_input(ctx, node, 1);
    int32_t *idx = (int32_t *)node->scratch;
    const int32_t n = d->n_idx * d->k;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const int64_t v =
            d->idx64 ? ((const int64_t *)indices->data)[i] : (int64_t)EL_S32(indices)[i];
        const int32_t size = d->dims[i % d->k];
        if (v < 0 || v >= size) {
            return el_kernel_error(ctx, node, EL_ERROR_INVOKE,
                                   "index %ld at position %d is outside [0, %d)", (long)v, (int)i,
                                   (int)size);
        }
        idx[i] = (int32_t)v;
    }
    el_gather_nd(d->elem, d->n_idx, d->k, idx, d->strides, d->inner, el_input(ctx, node, 0)->data,
                 el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* TOPK_V2: input [..., n], k (constant INT32 scalar) -> values [..., k], indices INT32. */
typedef struct {
    int32_t rows, n, k, kind;
} topk_data;

static el_status topk_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *kt, *values, *indices;
    topk_data *d;
    int32_t k, i;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 2, 2));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_in(ctx, node, 1, &kt));
    EL_TRY(el_k_out(ctx, node, 0, &values));
    EL_TRY(el_k_out(ctx, node, 1, &indices));
    EL_TRY(el_k_const(ctx, node, kt, "k"));
    EL_TRY(el_k_type(ctx, node, kt, "k", EL_INT32));
    EL_TRY(el_k_type(ctx, node, indices, "indices output", EL_INT32));
    if (in->rank < 1 || values->type != in->type ||
        (in->type != EL_FLOAT32 && in->type != EL_INT32 && in->type != EL_INT8 &&
         in->type != EL_UINT8)) {
        return EL_UNSUP(ctx, node, "input type %s is not supported", el_dtype_name(in->type));
    }
    if (el_tensor_elements(kt) != 1) {
        return EL_BAD(ctx, node, "k must be a scalar");
    }
    memcpy(&k, kt->data, 4);
    if (k < 0 || k > in->dims[in->rank - 1]) {
        return EL_BAD(ctx, node, "k = %d is outside [0, %d]", (int)k, (int)in->dims[in->rank - 1]);
    }
    if (values->rank != in->rank || !el_k_same_dims(values, indices)) {
        return EL_BAD(ctx, node, "outputs must have the input's rank and equal shapes");
    }
    for (i = 0; i < in->rank; ++i) {
        const int32_t want = i == in->rank - 1 ? k : in->dims[i];
        if (values->dims[i] != want) {
            return EL_BAD(ctx, node, "output dim %d is %d, expected %d", (int)i,
                          (int)values->dims[i], (int)want);
        }
    }
    d = (topk_data *)el_alloc_op_data(ctx, node, sizeof(topk_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->n = in->dims[in->rank - 1];
    d->rows = el_tensor_elements(in) / d->n;
    d->k = k;
    d->kind = in->type == EL_FLOAT32 ? EL_K_F32
              : in->type == EL_INT32 ? EL_K_S32
              : in->type == EL_INT8  ? EL_K_S8
                                     : EL_K_U8;
    return EL_OK;
}

static el_status topk_invoke(el_context *ctx, el_node *node)
{
    const topk_data *d = (const topk_data *)node->op_data;
    el_topk((el_kind)d->kind, d->rows, d->n, d->k, el_input(ctx, node, 0)->data,
            el_output(ctx, node, 0)->data, EL_S32(el_output(ctx, node, 1)));
    return EL_OK;
}

const el_kernel el_kernel_l2_normalization = {EL_OP_L2_NORMALIZATION, 0, l2norm_prepare,
                                              l2norm_invoke};
const el_kernel el_kernel_gather_nd = {EL_OP_GATHER_ND, 0, gather_nd_prepare, gather_nd_invoke};
const el_kernel el_kernel_topk_v2 = {EL_OP_TOPK_V2, 0, topk_prepare, topk_invoke};
