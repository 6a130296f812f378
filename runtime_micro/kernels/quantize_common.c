/* QUANTIZE, DEQUANTIZE, CAST. */
#include <math.h>

#include "el_kcommon.h"
#include "opt/el_opt.h"

typedef struct {
    int32_t in_type, out_type, size;
    float scale;
    int32_t zp;
    el_requant_params rq;
} quant_data;

static int qtype(int32_t t)
{
    return t == EL_INT8 || t == EL_UINT8 || t == EL_INT16;
}

static el_status quantize_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    quant_data *d;
    float os;
    int32_t oz;
    el_quant oq;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_same_elements(ctx, node, in, out));
    if (!qtype(out->type) || (in->type != EL_FLOAT32 && !qtype(in->type))) {
        return EL_UNSUP(ctx, node,
                        "%s -> %s is not supported (FLOAT32, INT8, UINT8 or INT16 "
                        "to INT8, UINT8 or INT16)",
                        el_dtype_name(in->type), el_dtype_name(out->type));
    }
    EL_TRY(el_get_output_quant(ctx, node, 0, &oq));
    if (oq.count > 1) {
        return EL_UNSUP(ctx, node, "per-channel output quantization is not supported");
    }
    EL_TRY(el_k_qout(ctx, node, 0, &os, &oz));
    d = (quant_data *)el_alloc_op_data(ctx, node, sizeof(quant_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->in_type = in->type;
    d->out_type = out->type;
    d->size = el_tensor_elements(in);
    d->scale = os;
    d->zp = oz;
    if (in->type != EL_FLOAT32) {
        float is;
        int32_t iz;
        int sh;
        if ((in->type == EL_UINT8 && out->type != EL_INT8) ||
            (in->type == EL_INT16 && out->type == EL_UINT8)) {
            return EL_UNSUP(ctx, node, "%s -> %s requantization is not supported",
                            el_dtype_name(in->type), el_dtype_name(out->type));
        }
        EL_TRY(el_k_qin(ctx, node, 0, &is, &iz));
        el_quantize_multiplier((double)is / (double)os, &d->rq.multiplier, &sh);
        d->rq.shift = sh;
        d->rq.input_zero_point = iz;
        d->rq.output_zero_point = oz;
        el_k_qlimits(out->type, &d->rq.qmin, &d->rq.qmax);
    }
    return EL_OK;
}

static el_status quantize_invoke(el_context *ctx, el_node *node)
{
    const quant_data *d = (const quant_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    const void *x = in->data;
    void *y = out->data;
    if (d->in_type == EL_FLOAT32) {
        if (d->out_type == EL_INT8) {
            el_quantize_f32_s8(d->scale, d->zp, d->size, (const float *)x, (int8_t *)y);
        } else if (d->out_type == EL_UINT8) {
            el_quantize_f32_u8(d->scale, d->zp, d->size, (const float *)x, (uint8_t *)y);
        } else {
            el_quantize_f32_s16(d->scale, d->zp, d->size, (const float *)x, (int16_t *)y);
        }
    } else if (d->in_type == EL_INT8) {
        if (d->out_type == EL_INT8) {
            el_requantize_s8_s8(&d->rq, d->size, (const int8_t *)x, (int8_t *)y);
        } else if (d->out_type == EL_UINT8) {
            el_requantize_s8_u8(&d->rq, d->size, (const int8_t *)x, (uint8_t *)y);
        } else {
            el_requantize_s8_s16(&d->rq, d->size, (const int8_t *)x, (int16_t *)y);
        }
    } else if (d->in_type == EL_UINT8) {
        el_requantize_u8_s8(&d->rq, d->size, (const uint8_t *)x, (int8_t *)y);
    } else if (d->out_type == EL_INT8) {
        el_requantize_s16_s8(&d->rq, d->size, (const int16_t *)x, (int8_t *)y);
    } else {
        el_requantize_s16_s16(&d->rq, d->size, (const int16_t *)x, (int16_t *)y);
    }
    return EL_OK;
}

static el_status dequantize_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    quant_data *d;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_same_elements(ctx, node, in, out));
    EL_TRY(el_k_type(ctx, node, out, "output", EL_FLOAT32));
    d = (quant_data *)el_alloc_op_data(ctx, node, sizeof(quant_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->in_type = in->type;
    d->size = el_tensor_elements(in);
    if (in->type == EL_FLOAT16) {
        return EL_OK;
    }
    if (!qtype(in->type)) {
        return EL_UNSUP(ctx, node, "input type %s is not supported (INT8, UINT8, INT16, FLOAT16)",
                        el_dtype_name(in->type));
    }
    {
        el_quant q;
        EL_TRY(el_get_input_quant(ctx, node, 0, &q));
        if (q.count > 1) {
            return EL_UNSUP(ctx, node, "per-channel dequantization is not supported");
        }
    }
    return el_k_qin(ctx, node, 0, &d->scale, &d->zp);
}

static el_status dequantize_invoke(el_context *ctx, el_node *node)
{
    const quant_data *d = (const quant_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    switch (d->in_type) {
    case EL_FLOAT16:
#if EL_OPT_F16_CVT /* aarch64: FCVTL, the same bits */
        if (el_opt_dequantize_f16(el_ctx_isa(ctx), d->size, (const uint16_t *)in->data,
                                  EL_F32(out))) {
            break;
        }
#endif
        el_dequantize_f16_f32(d->size, (const uint16_t *)in->data, EL_F32(out));
        break;
    case EL_INT8:
        el_dequantize_s8_f32(d->scale, d->zp, d->size, EL_S8(in), EL_F32(out));
        break;
    case EL_UINT8:
        el_dequantize_u8_f32(d->scale, d->zp, d->size, EL_U8(in), EL_F32(out));
        break;
    default:
        el_dequantize_s16_f32(d->scale, d->zp, d->size, EL_S16(in), EL_F32(out));
        break;
    }
    return EL_OK;
}

/* CAST: numeric conversion with C semantics (float -> int truncates toward zero; out-of-range
 * values saturate, where TFLite's static_cast is undefined). */
static int cast_type_ok(int32_t t)
{
    return t == EL_FLOAT32 || t == EL_INT32 || t == EL_INT8 || t == EL_UINT8 || t == EL_INT16 ||
           t == EL_INT64 || t == EL_BOOL;
}

static el_status cast_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    quant_data *d;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_same_elements(ctx, node, in, out));
    if (!cast_type_ok(in->type) || !cast_type_ok(out->type)) {
        return EL_UNSUP(ctx, node, "cast %s -> %s is not supported", el_dtype_name(in->type),
                        el_dtype_name(out->type));
    }
    d = (quant_data *)el_alloc_op_data(ctx, node, sizeof(quant_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->in_type = in->type;
    d->out_type = out->type;
    d->size = el_tensor_elements(in);
    return EL_OK;
}

static double cast_read(int32_t t, const void *p, int32_t i)
{
    switch (t) {
    case EL_FLOAT32:
        return ((const float *)p)[i];
    case EL_INT32:
        return ((const int32_t *)p)[i];
    case EL_INT8:
        return ((const int8_t *)p)[i];
    case EL_UINT8:
    case EL_BOOL:
        return ((const uint8_t *)p)[i];
    case EL_INT16:
        return ((const int16_t *)p)[i];
    default:
        return (double)((const int64_t *)p)[i];
    }
}

static double sat(double v, double lo, double hi)
{
    if (v != v) {
        return 0.0;
    }
    return v < lo ? lo : (v > hi ? hi : v);
}

static void cast_write(int32_t t, void *p, int32_t i, double v)
{
    switch (t) {
    case EL_FLOAT32:
        ((float *)p)[i] = (float)v;
        break;
    case EL_INT32:
        ((int32_t *)p)[i] = (int32_t)sat(v, -2147483648.0, 2147483647.0);
        break;
    case EL_INT8:
        ((int8_t *)p)[i] = (int8_t)sat(v, -128.0, 127.0);
        break;
    case EL_UINT8:
        ((uint8_t *)p)[i] = (uint8_t)sat(v, 0.0, 255.0);
        break;
    case EL_BOOL:
        ((uint8_t *)p)[i] = v != 0.0;
        break;
    case EL_INT16:
        ((int16_t *)p)[i] = (int16_t)sat(v, -32768.0, 32767.0);
        break;
    default:
        ((int64_t *)p)[i] = (int64_t)sat(v, -9223372036854775808.0, 9223372036854774784.0);
        break;
    }
}

static el_status cast_invoke(el_context *ctx, el_node *node)
{
    const quant_data *d = (const quant_data *)node->op_data;
    const void *x = el_input(ctx, node, 0)->data;
    void *y = el_output(ctx, node, 0)->data;
    int32_t i;
    if (d->in_type == EL_INT64 && d->out_type == EL_INT32) {
        /* exact path: a double cannot hold every int64 */
        for (i = 0; i < d->size; ++i) {
            const int64_t v = ((const int64_t *)x)[i];
            ((int32_t *)y)[i] =
                (int32_t)(v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : v));
        }
        return EL_OK;
    }
    for (i = 0; i < d->size; ++i) {
        cast_write(d->out_type, y, i, cast_read(d->in_type, x, i));
    }
    return EL_OK;
}

const el_kernel el_kernel_quantize = {EL_OP_QUANTIZE, 0, quantize_prepare, quantize_invoke};
const el_kernel el_kernel_dequantize = {EL_OP_DEQUANTIZE, 0, dequantize_prepare, dequantize_invoke};
const el_kernel el_kernel_cast = {EL_OP_CAST, 0, cast_prepare, cast_invoke};
