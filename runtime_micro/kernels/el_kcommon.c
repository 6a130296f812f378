#include "el_kcommon.h"

el_status el_k_counts(el_context *ctx, el_node *node, int32_t in_min, int32_t in_max,
                      int32_t out_min, int32_t out_max)
{
    if (node->n_inputs < in_min || node->n_inputs > in_max) {
        return EL_BAD(ctx, node, "has %d inputs, expected %d to %d", (int)node->n_inputs,
                      (int)in_min, (int)in_max);
    }
    if (node->n_outputs < out_min || node->n_outputs > out_max) {
        return EL_BAD(ctx, node, "has %d outputs, expected %d to %d", (int)node->n_outputs,
                      (int)out_min, (int)out_max);
    }
    return EL_OK;
}

el_status el_k_in(el_context *ctx, el_node *node, int32_t i, el_tensor **t)
{
    *t = el_input(ctx, node, i);
    if (*t == NULL) {
        return EL_BAD(ctx, node, "input %d is missing", (int)i);
    }
    return EL_OK;
}

el_status el_k_out(el_context *ctx, el_node *node, int32_t i, el_tensor **t)
{
    *t = el_output(ctx, node, i);
    if (*t == NULL) {
        return EL_BAD(ctx, node, "output %d is missing", (int)i);
    }
    return EL_OK;
}

el_status el_k_type(el_context *ctx, el_node *node, const el_tensor *t, const char *role,
                    int32_t dtype)
{
    if (t->type != dtype) {
        return EL_UNSUP(ctx, node, "%s has type %s, expected %s", role, el_dtype_name(t->type),
                        el_dtype_name(dtype));
    }
    return EL_OK;
}

el_status el_k_rank(el_context *ctx, el_node *node, const el_tensor *t, const char *role,
                    int32_t rank)
{
    if (t->rank != rank) {
        return EL_UNSUP(ctx, node, "%s has rank %d, expected %d", role, (int)t->rank, (int)rank);
    }
    return EL_OK;
}

el_status el_k_const(el_context *ctx, el_node *node, const el_tensor *t, const char *role)
{
    if (!(t->flags & EL_TENSOR_CONST) || t->data == NULL) {
        return EL_UNSUP(ctx, node, "%s must be a constant tensor", role);
    }
    return EL_OK;
}

int el_k_same_dims(const el_tensor *a, const el_tensor *b)
{
    int32_t i;
    if (a->rank != b->rank) {
        return 0;
    }
    for (i = 0; i < a->rank; ++i) {
        if (a->dims[i] != b->dims[i]) {
            return 0;
        }
    }
    return 1;
}

el_status el_k_same_elements(el_context *ctx, el_node *node, const el_tensor *a, const el_tensor *b)
{
    if (el_tensor_elements(a) != el_tensor_elements(b)) {
        return EL_BAD(ctx, node, "input has %d elements but output has %d",
                      (int)el_tensor_elements(a), (int)el_tensor_elements(b));
    }
    return EL_OK;
}

void el_k_qlimits(int32_t dtype, int32_t *qmin, int32_t *qmax)
{
    switch (dtype) {
    case EL_UINT8:
        *qmin = 0;
        *qmax = 255;
        break;
    case EL_INT16:
        *qmin = -32768;
        *qmax = 32767;
        break;
    default:
        *qmin = -128;
        *qmax = 127;
        break;
    }
}

static el_status check_q(el_context *ctx, el_node *node, const el_tensor *t, const el_quant *q,
                         const char *role, int32_t i, float *scale, int32_t *zp)
{
    int32_t qmin, qmax;
    if (q->count < 1) {
        return EL_UNSUP(ctx, node,
                        "%s %d has no quantization parameters (a %s tensor needs "
                        "scale and zero point)",
                        role, (int)i, el_dtype_name(t->type));
    }
    if (!(q->scale > 0.0f)) {
        return EL_BAD(ctx, node, "%s %d has a non-positive scale", role, (int)i);
    }
    el_k_qlimits(t->type, &qmin, &qmax);
    if ((t->type == EL_INT8 || t->type == EL_UINT8 || t->type == EL_INT16) &&
        (q->zero_point < qmin || q->zero_point > qmax)) {
        return EL_BAD(ctx, node, "%s %d zero point %d is outside the %s range", role, (int)i,
                      (int)q->zero_point, el_dtype_name(t->type));
    }
    *scale = q->scale;
    *zp = q->zero_point;
    return EL_OK;
}

el_status el_k_qin(el_context *ctx, el_node *node, int32_t i, float *scale, int32_t *zp)
{
    el_quant q;
    el_tensor *t;
    EL_TRY(el_k_in(ctx, node, i, &t));
    EL_TRY(el_get_input_quant(ctx, node, i, &q));
    return check_q(ctx, node, t, &q, "input", i, scale, zp);
}

el_status el_k_qout(el_context *ctx, el_node *node, int32_t i, float *scale, int32_t *zp)
{
    el_quant q;
    el_tensor *t;
    EL_TRY(el_k_out(ctx, node, i, &t));
    EL_TRY(el_get_output_quant(ctx, node, i, &q));
    return check_q(ctx, node, t, &q, "output", i, scale, zp);
}

void el_k_dims4(const el_tensor *t, el_dims *d)
{
    d->n = t->dims[0];
    d->h = t->dims[1];
    d->w = t->dims[2];
    d->c = t->dims[3];
}

void el_k_shape(const el_tensor *t, int32_t rank, el_shape *s)
{
    int32_t i, pad = rank - t->rank;
    s->rank = rank;
    for (i = 0; i < rank; ++i) {
        s->d[i] = i < pad ? 1 : t->dims[i - pad];
    }
}

int el_k_broadcast(const el_tensor *a, const el_tensor *b, el_shape *s1, el_shape *s2, el_shape *so)
{
    const int32_t r = a->rank > b->rank ? a->rank : b->rank;
    int32_t i;
    if (r > EL_NN_MAX_RANK) {
        return 0;
    }
    el_k_shape(a, r, s1);
    el_k_shape(b, r, s2);
    so->rank = r;
    for (i = 0; i < r; ++i) {
        if (s1->d[i] == s2->d[i] || s2->d[i] == 1) {
            so->d[i] = s1->d[i];
        } else if (s1->d[i] == 1) {
            so->d[i] = s2->d[i];
        } else {
            return 0;
        }
    }
    return 1;
}

el_status el_k_check_out_shape(el_context *ctx, el_node *node, const el_tensor *out,
                               const el_shape *want)
{
    int32_t i;
    if (out->rank != want->rank) {
        return EL_BAD(ctx, node, "output has rank %d, the op computes rank %d", (int)out->rank,
                      (int)want->rank);
    }
    for (i = 0; i < want->rank; ++i) {
        if (out->dims[i] != want->d[i]) {
            return EL_BAD(ctx, node, "output dim %d is %d, the op computes %d", (int)i,
                          (int)out->dims[i], (int)want->d[i]);
        }
    }
    return EL_OK;
}

/* Window arithmetic in 64 bits: strides, dilations and sizes come from the (untrusted) model,
 * and their int32 products or sums can overflow. Results that do not fit give -1, which no
 * output dimension equals, so prepare rejects the op. */
int32_t el_k_out_size(int32_t padding, int32_t in, int32_t filter, int32_t stride, int32_t dilation)
{
    const int64_t eff = ((int64_t)filter - 1) * (int64_t)dilation + 1;
    int64_t out;
    if (stride <= 0) {
        return 0;
    }
    /* Kernels compute window positions in int32 (ox * stride - pad + kx * dilation): refuse
     * geometry whose terms could overflow there. */
    if (eff > INT32_MAX / 4 || stride > INT32_MAX / 4 || (int64_t)in > INT32_MAX / 4) {
        return -1;
    }
    if (padding == EL_PADDING_SAME) {
        out = ((int64_t)in + stride - 1) / stride;
    } else {
        out = ((int64_t)in + stride - eff) / stride;
    }
    return (out < INT32_MIN || out > INT32_MAX) ? -1 : (int32_t)out;
}

int32_t el_k_padding(int32_t stride, int32_t dilation, int32_t in, int32_t filter, int32_t out)
{
    const int64_t eff = ((int64_t)filter - 1) * (int64_t)dilation + 1;
    int64_t total = ((int64_t)out - 1) * (int64_t)stride + eff - in;
    total = total > 0 ? total : 0;
    total /= 2;
    return total > INT32_MAX ? INT32_MAX : (int32_t)total;
}

el_status el_k_act_range(el_context *ctx, el_node *node, int32_t act, int32_t dtype,
                         float out_scale, int32_t out_zp, int32_t *lo, int32_t *hi)
{
    int32_t qmin, qmax;
    el_k_qlimits(dtype, &qmin, &qmax);
    if (!el_activation_range_quantized(act, out_scale, out_zp, qmin, qmax, lo, hi)) {
        return EL_UNSUP(ctx, node,
                        "fused activation %d is not supported on quantized outputs "
                        "(use NONE, RELU, RELU_N1_TO_1 or RELU6)",
                        (int)act);
    }
    return EL_OK;
}

el_status el_k_act_range_f(el_context *ctx, el_node *node, int32_t act, float *lo, float *hi)
{
    if (!el_activation_range_float(act, lo, hi)) {
        return EL_UNSUP(ctx, node,
                        "fused activation %d is not supported (use NONE, RELU, "
                        "RELU_N1_TO_1 or RELU6)",
                        (int)act);
    }
    return EL_OK;
}
