/* Unary activations and math: LOGISTIC, TANH, SOFTMAX, LOG_SOFTMAX, RELU, RELU6, RELU_N1_TO_1,
 * LEAKY_RELU, HARD_SWISH, GELU, ELU, EXP, LOG, SQRT, RSQRT, NEG, ABS.
 * int8 parameters are computed here exactly as TFLite's prepare functions do (including
 * where TFLite computes in float rather than double). */
#include <math.h>
#include <stddef.h>

#include "el_kcommon.h"
#include "opt/el_opt.h"

typedef enum {
    U_FLOAT,
    U_FX,
    U_SOFTMAX_S8,
    U_SOFTMAX_S16,
    U_RELU,
    U_LEAKY,
    U_HSWISH,
    U_LUT,
    U_ABS,
    U_SOFTMAX16,
    U_LUT16, /* int16 LOGISTIC / TANH */
    U_LOG_SOFTMAX_S8,
    U_RSQRT,
    U_LUT_S16 /* int16 GELU: 513-entry interpolated table */
} u_kind;

/* One op's data: a header and the parameters of its kind only (a union), so an activation
 * costs the arena a few dozen bytes; the 256-byte int8 table is allocated only for U_LUT. */
typedef struct {
    int32_t kind;
    int32_t size, outer, depth;
    float beta, alpha;
    int32_t unary_op; /* el_unary_op for U_FLOAT */
    int32_t s16;      /* int16 activations (RELU, RELU6, LEAKY_RELU, ABS) */
    union {
        el_lut16_act_params l16;
        el_log_softmax_params lsm;
        el_fx_act_params fx;
        el_relu_params relu;
        el_leaky_relu_params leaky;
        el_hard_swish_params hs;
        el_softmax16_params sm16;
        const int16_t *lut16; /* U_LUT_S16: a second op-data block of 513 entries */
    } u;
    int8_t table[256]; /* U_LUT only: other kinds allocate up to offsetof(unary_data, table) */
} unary_data;

static el_unary_op float_op_of(int32_t code)
{
    switch (code) {
    case EL_OP_RELU:
        return EL_UN_RELU;
    case EL_OP_RELU6:
        return EL_UN_RELU6;
    case EL_OP_RELU_N1_TO_1:
        return EL_UN_RELU_N1_TO_1;
    case EL_OP_LOGISTIC:
        return EL_UN_LOGISTIC;
    case EL_OP_TANH:
        return EL_UN_TANH;
    case EL_OP_HARD_SWISH:
        return EL_UN_HARD_SWISH;
    case EL_OP_ELU:
        return EL_UN_ELU;
    case EL_OP_GELU:
        return EL_UN_GELU;
    case EL_OP_EXP:
        return EL_UN_EXP;
    case EL_OP_LOG:
        return EL_UN_LOG;
    case EL_OP_SQRT:
        return EL_UN_SQRT;
    case EL_OP_RSQRT:
        return EL_UN_RSQRT;
    case EL_OP_NEG:
        return EL_UN_NEG;
    case EL_OP_ABS:
        return EL_UN_ABS;
    case EL_OP_FLOOR:
        return EL_UN_FLOOR;
    case EL_OP_CEIL:
        return EL_UN_CEIL;
    case EL_OP_ROUND:
        return EL_UN_ROUND;
    case EL_OP_SIN:
        return EL_UN_SIN;
    case EL_OP_COS:
        return EL_UN_COS;
    case EL_OP_SQUARE:
        return EL_UN_SQUARE;
    case EL_OP_SIGN:
        return EL_UN_SIGN;
    case EL_OP_RELU_0_TO_1:
        return EL_UN_RELU_0_TO_1;
    default:
        return EL_UN_LEAKY_RELU;
    }
}

/* TFLite's LUTPopulate: dequantize, transform in float, round, requantize, clamp. */
static void populate_lut(unary_data *d, el_unary_op op, float in_s, int32_t in_zp, float out_s,
                         int32_t out_zp)
{
    const float inverse_scale = 1.0f / out_s;
    int32_t v;
    for (v = -128; v <= 127; ++v) {
        float x = in_s * (float)(v - in_zp), y;
        int32_t q;
        float r;
        el_unary_f32(op, d->alpha, 1, &x, &y);
        r = roundf(y * inverse_scale) + (float)out_zp;
        /* clamped before the conversion: a value outside int32 (a tiny output scale) or NaN
         * has no defined int conversion in C (TFLite's gives INT_MIN on x86, saturates on Arm);
         * in range, the same as TFLite's convert-then-clamp */
        q = r != r ? 0 : r <= -128.0f ? -128 : r >= 127.0f ? 127 : (int32_t)r;
        d->table[(uint8_t)(int8_t)v] = (int8_t)q;
    }
}

static el_status fx_prepare(el_context *ctx, el_node *node, unary_data *d, int32_t want_out_zp)
{
    float in_s, out_s;
    int32_t in_zp, out_zp;
    int sh;
    EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
    EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
    if (out_zp != want_out_zp) {
        return EL_UNSUP(ctx, node, "int8 output needs zero point %d (got %d)", (int)want_out_zp,
                        (int)out_zp);
    }
    el_frexp_multiplier((double)in_s * (double)(1 << (31 - 4)), &d->u.fx.input_multiplier, &sh);
    d->u.fx.input_left_shift = sh;
    d->u.fx.input_zero_point = in_zp;
    d->u.fx.input_range_radius = el_calculate_input_radius(4, sh);
    d->kind = U_FX;
    return EL_OK;
}

/* CheckedLog2: log2(x) rounded, and whether x is a power of two within 1e-3 (float math as
 * TFLite). */
static int checked_log2(float x, int *log2_rounded)
{
    const float l = logf(x) * (1.0f / logf(2.0f));
    const float r = roundf(l);
    *log2_rounded = (int)r;
    return fabsf(l - r) < 1e-3f;
}

/* int16 LOGISTIC/TANH prepare (TFLite's): zero points 0, output scale 2^-15; the input is
 * mapped to scale 1/(3 * 4096) by a multiplier below 2^15 and a right shift. */
static el_status lut16_prepare(el_context *ctx, el_node *node, unary_data *d)
{
    float in_s, out_s;
    int32_t in_zp, out_zp;
    int in_log2, out_log2, pot;
    EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
    EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
    if (in_zp != 0 || out_zp != 0) {
        return EL_UNSUP(ctx, node, "int16 input and output need zero point 0");
    }
    if (!checked_log2(out_s, &out_log2) || out_log2 != -15) {
        return EL_UNSUP(ctx, node, "int16 output needs scale 2^-15 (1/32768)");
    }
    pot = checked_log2(in_s, &in_log2);
    d->u.l16.input_left_shift = (15 - 3) + in_log2;
    d->u.l16.input_multiplier = 0;
    if (!pot || (d->u.l16.input_left_shift != 0 && d->u.l16.input_left_shift != 1)) {
        double m = (double)in_s * 4096.0 * 3.0;
        d->u.l16.input_left_shift = 0;
        while (m <= 32767.0 / 2.0 && d->u.l16.input_left_shift <= 30) {
            ++d->u.l16.input_left_shift;
            m *= 2.0;
        }
        if (m > 32767.0) {
            return EL_UNSUP(ctx, node, "int16 input scale %g is too large (at most %g)",
                            (double)in_s, 32767.0 / (4096.0 * 3.0));
        }
        d->u.l16.input_multiplier = (int32_t)m;
    }
    d->kind = U_LUT16;
    return EL_OK;
}

/* int16 GELU (LiteRT's): TFLite's 513-entry int16 table over the whole input range, looked
 * up with linear interpolation. The table holds output steps directly, so zero points 0. */
static el_status gelu16_prepare(el_context *ctx, el_node *node, unary_data *d, float in_s,
                                int32_t in_zp, float out_s, int32_t out_zp)
{
    int16_t *lut;
    if (in_zp != 0 || out_zp != 0) {
        return EL_UNSUP(ctx, node, "int16 GELU needs zero points 0");
    }
    lut = (int16_t *)el_alloc_op_data(ctx, node, 513 * sizeof(int16_t));
    node->op_data = d; /* the table is a second block; the op data stays the struct */
    if (lut == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    el_gen_lut_s16(d->unary_op == EL_UN_GELU_APPROX ? EL_LUT16_GELU_APPROX : EL_LUT16_GELU,
                   in_s * -32768.0f, in_s * 32767.0f, out_s * -32768.0f, out_s * 32767.0f, lut);
    d->u.lut16 = lut;
    d->kind = U_LUT_S16;
    return EL_OK;
}

static el_status unary_prepare(el_context *ctx, el_node *node)
{
    const int32_t code = node->builtin_code;
    el_tensor *in, *out;
    unary_data *d;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (!el_k_same_dims(in, out)) {
        return EL_BAD(ctx, node, "output shape differs from the input shape");
    }
    d = (unary_data *)el_alloc_op_data(ctx, node,
                                       in->type == EL_INT8 &&
                                               (code == EL_OP_GELU || code == EL_OP_ELU)
                                           ? sizeof(unary_data)
                                           : offsetof(unary_data, table));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->size = el_tensor_elements(in);
    d->unary_op = float_op_of(code);
    if (code == EL_OP_LEAKY_RELU) {
        const el_leaky_relu_options *o = (const el_leaky_relu_options *)node->options;
        d->alpha = o ? o->alpha : 0.2f;
    }
    if (code == EL_OP_GELU) {
        const el_gelu_options *o = (const el_gelu_options *)node->options;
        if (o && o->approximate) {
            d->unary_op = EL_UN_GELU_APPROX;
        }
    }
    if (in->type == EL_FLOAT32) {
        EL_TRY(el_k_type(ctx, node, out, "output", EL_FLOAT32));
        d->kind = U_FLOAT;
        return EL_OK;
    }
    d->s16 = in->type == EL_INT16 &&
             (code == EL_OP_RELU || code == EL_OP_RELU6 || code == EL_OP_LEAKY_RELU ||
              code == EL_OP_ABS || code == EL_OP_LOGISTIC || code == EL_OP_TANH ||
              code == EL_OP_GELU || code == EL_OP_RSQRT);
    if (in->type != EL_INT8 && !d->s16) {
        return EL_UNSUP(ctx, node, "input type %s is not supported (FLOAT32 or INT8)",
                        el_dtype_name(in->type));
    }
    EL_TRY(el_k_type(ctx, node, out, "output", in->type));
    if (d->s16 && (code == EL_OP_LOGISTIC || code == EL_OP_TANH)) {
        return lut16_prepare(ctx, node, d);
    }
    {
        float in_s, out_s;
        int32_t in_zp, out_zp;
        int sh;
        EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        switch (code) {
        case EL_OP_LOGISTIC:
            return fx_prepare(ctx, node, d, -128);
        case EL_OP_TANH:
            return fx_prepare(ctx, node, d, 0);
        case EL_OP_RELU:
        case EL_OP_RELU6:
        case EL_OP_RELU_N1_TO_1: {
            const int32_t act = code == EL_OP_RELU    ? EL_ACT_RELU
                                : code == EL_OP_RELU6 ? EL_ACT_RELU6
                                                      : EL_ACT_RELU_N1_TO_1;
            el_quantize_multiplier((double)in_s / (double)out_s, &d->u.relu.multiplier, &sh);
            d->u.relu.shift = sh;
            d->u.relu.input_offset = -in_zp;
            d->u.relu.output_offset = out_zp;
            d->kind = U_RELU;
            return el_k_act_range(ctx, node, act, in->type, out_s, out_zp, &d->u.relu.act_min,
                                  &d->u.relu.act_max);
        }
        case EL_OP_LEAKY_RELU: {
            /* TFLite multiplies the scales in float, then widens to double. */
            const float alpha_m = in_s * d->alpha / out_s;
            const float ident_m = in_s / out_s;
            el_quantize_multiplier((double)alpha_m, &d->u.leaky.multiplier_alpha, &sh);
            d->u.leaky.shift_alpha = sh;
            el_quantize_multiplier((double)ident_m, &d->u.leaky.multiplier_identity, &sh);
            d->u.leaky.shift_identity = sh;
            d->u.leaky.input_offset = -in_zp;
            d->u.leaky.output_offset = out_zp;
            d->kind = U_LEAKY;
            return EL_OK;
        }
        case EL_OP_HARD_SWISH: {
            const float hires_in = (1.0f / 128.0f) * in_s;
            const float reluish_scale = 3.0f / 32768.0f;
            const float out_m = hires_in / out_s;
            const float reluish_m = hires_in / reluish_scale;
            int32_t m32;
            el_quantize_multiplier((double)out_m, &m32, &sh);
            d->u.hs.output_multiplier_exponent = sh;
            d->u.hs.output_multiplier_fixedpoint_int16 =
                (int16_t)(m32 >= INT32_MAX - (1 << 15) ? INT16_MAX : (m32 + (1 << 15)) >> 16);
            if (sh > 0) {
                return EL_UNSUP(ctx, node,
                                "output scale too small for the int8 hard-swish "
                                "(needs output_scale >= input_scale / 128)");
            }
            el_quantize_multiplier((double)reluish_m, &m32, &sh);
            if (sh > 15) {
                /* The reluish value (16 bits) is shifted left by sh - 1 in the kernel: past 15
                 * it overflows (TFLite's shift is undefined there). Ordinary input scales give
                 * sh <= 7 (reluish_m = input_scale * 85.3). */
                return EL_UNSUP(ctx, node,
                                "input scale too large for the int8 hard-swish "
                                "(needs input_scale < 384)");
            }
            d->u.hs.reluish_multiplier_exponent = sh;
            d->u.hs.reluish_multiplier_fixedpoint_int16 =
                (int16_t)(m32 >= INT32_MAX - (1 << 15) ? INT16_MAX : (m32 + (1 << 15)) >> 16);
            d->u.hs.input_zero_point = (int16_t)in_zp;
            d->u.hs.output_zero_point = (int16_t)out_zp;
            d->kind = U_HSWISH;
            return EL_OK;
        }
        case EL_OP_ABS:
            if (d->s16 && (in_zp != 0 || out_zp != 0)) {
                return EL_UNSUP(ctx, node, "int16 ABS needs zero points 0");
            }
            el_quantize_multiplier((double)in_s / (double)out_s, &d->u.relu.multiplier, &sh);
            d->u.relu.shift = sh;
            d->u.relu.input_offset = -in_zp;
            d->u.relu.output_offset = out_zp;
            d->alpha = (in_s != out_s || in_zp != out_zp) ? 1.0f : 0.0f; /* rescale flag */
            d->kind = U_ABS;
            return EL_OK;
        case EL_OP_RSQRT:
            if (d->s16 && (in_zp != 0 || out_zp != 0)) {
                return EL_UNSUP(ctx, node, "int16 RSQRT needs zero points 0");
            }
            el_quantize_multiplier(1.0 / (sqrt((double)in_s) * (double)out_s),
                                   &d->u.relu.multiplier, &sh);
            d->u.relu.shift = sh;
            d->u.relu.input_offset = -in_zp;
            d->u.relu.output_offset = out_zp;
            d->kind = U_RSQRT;
            return EL_OK;
        case EL_OP_GELU:
        case EL_OP_ELU:
            if (d->s16) {
                return gelu16_prepare(ctx, node, d, in_s, in_zp, out_s, out_zp);
            }
            populate_lut(d, (el_unary_op)d->unary_op, in_s, in_zp, out_s, out_zp);
            d->kind = U_LUT;
            return EL_OK;
        default:
            break;
        }
    }
    return EL_UNSUP(ctx, node, "INT8 is not supported by this op (FLOAT32 only)");
}

/* One float32 unary op over [a, b): vectors on hosted CPUs only (on microcontrollers it would
 * be the reference's loop). Each element's result depends on its value alone, so any split
 * gives the bytes of one call. */
static void unary_f32_run(const el_context *ctx, const unary_data *d, const float *in, float *out,
                          int32_t a, int32_t b)
{
    if (!EL_HOSTED_CPU || !el_opt_unary_f32(el_ctx_isa(ctx), (el_unary_op)d->unary_op, d->alpha,
                                            b - a, in + a, out + a)) {
        el_unary_f32((el_unary_op)d->unary_op, d->alpha, b - a, in + a, out + a);
    }
}

#if EL_HOSTED_CPU
/* Threads (hosted CPUs): a float32 unary op of at least EL_UNARY_SPLIT_MIN elements as a
 * guided split of 64-element runs, as the float binary ops split (MediaPipe's segmentation
 * head: a LOGISTIC of 65,536 elements, HARD_SWISH and RELU of up to 262,144). */
#define EL_UNARY_SPLIT_MIN 4096
typedef struct {
    const el_context *ctx;
    const unary_data *d;
    const float *in;
    float *out;
    el_guided g;
} unary_job;

static void unary_task(void *arg, int32_t i)
{
    const unary_job *j = (const unary_job *)arg;
    int32_t a, b;
    el_guided_range(&j->g, i, &a, &b);
    if (b > a) {
        unary_f32_run(j->ctx, j->d, j->in, j->out, a, b);
    }
}
#endif

static void unary_f32_invoke(el_context *ctx, const unary_data *d, const float *in, float *out)
{
#if EL_HOSTED_CPU
    if (el_ctx_threads(ctx) > 1 && d->size >= EL_UNARY_SPLIT_MIN) {
        unary_job j;
        j.ctx = ctx;
        j.d = d;
        j.in = in;
        j.out = out;
        j.g = el_guided_split(d->size, 64, el_ctx_threads(ctx), 8);
        el_parallel_for(ctx, el_guided_tasks(&j.g), unary_task, &j);
        return;
    }
#endif
    unary_f32_run(ctx, d, in, out, 0, d->size);
}

static el_status unary_invoke(el_context *ctx, el_node *node)
{
    const unary_data *d = (const unary_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    switch (d->kind) {
    case U_FLOAT:
        unary_f32_invoke(ctx, d, EL_F32(in), EL_F32(out));
        break;
    case U_FX:
        if (node->builtin_code == EL_OP_LOGISTIC) {
            el_logistic_s8(&d->u.fx, d->size, EL_S8(in), EL_S8(out));
        } else {
            el_tanh_s8(&d->u.fx, d->size, EL_S8(in), EL_S8(out));
        }
        break;
    case U_RSQRT: {
        /* negative reals have no square root: data, so an invoke error as in TFLite */
        int32_t i;
        for (i = 0; i < d->size; ++i) {
            const int32_t v = d->s16 ? (int32_t)EL_S16(in)[i] : (int32_t)EL_S8(in)[i];
            if (v + d->u.relu.input_offset < 0) {
                return el_kernel_error(ctx, node, EL_ERROR_INVOKE,
                                       "RSQRT of a negative value (element %d)", (int)i);
            }
        }
        if (d->s16) {
            el_rsqrt_s16(&d->u.relu, d->size, EL_S16(in), EL_S16(out));
        } else {
            el_rsqrt_s8(&d->u.relu, d->size, EL_S8(in), EL_S8(out));
        }
        break;
    }
    case U_LUT_S16:
        el_lut_s16(d->u.lut16, d->size, EL_S16(in), EL_S16(out));
        break;
    case U_LUT16:
        if (node->builtin_code == EL_OP_LOGISTIC) {
            el_logistic_s16(&d->u.l16, d->size, EL_S16(in), EL_S16(out));
        } else {
            el_tanh_s16(&d->u.l16, d->size, EL_S16(in), EL_S16(out));
        }
        break;
    case U_RELU:
        if (d->s16) {
            el_relu_s16(&d->u.relu, d->size, EL_S16(in), EL_S16(out));
        } else {
            el_relu_s8(&d->u.relu, d->size, EL_S8(in), EL_S8(out));
        }
        break;
    case U_LEAKY:
        if (d->s16) {
            el_leaky_relu_s16(&d->u.leaky, d->size, EL_S16(in), EL_S16(out));
        } else {
            el_leaky_relu_s8(&d->u.leaky, d->size, EL_S8(in), EL_S8(out));
        }
        break;
    case U_HSWISH:
        el_hard_swish_s8(&d->u.hs, d->size, EL_S8(in), EL_S8(out));
        break;
    case U_ABS:
        if (d->s16) {
            el_abs_s16(&d->u.relu, d->alpha != 0.0f, d->size, EL_S16(in), EL_S16(out));
            break;
        }
        el_abs_s8(&d->u.relu, d->alpha != 0.0f, d->size, EL_S8(in), EL_S8(out));
        break;
    default:
        el_lut_s8(d->table, d->size, EL_S8(in), EL_S8(out));
        break;
    }
    return EL_OK;
}

/* SOFTMAX / LOG_SOFTMAX over the last dimension. */
static el_status softmax_prepare(el_context *ctx, el_node *node)
{
    const el_softmax_options *o = (const el_softmax_options *)node->options;
    el_tensor *in, *out;
    unary_data *d;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (!el_k_same_dims(in, out) || in->rank < 1) {
        return EL_BAD(ctx, node, "output shape differs from the input shape");
    }
    d = (unary_data *)el_alloc_op_data(ctx, node, offsetof(unary_data, table));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->size = el_tensor_elements(in);
    d->depth = in->dims[in->rank - 1];
    d->outer = d->size / d->depth;
    d->beta = node->builtin_code == EL_OP_SOFTMAX && o ? o->beta : 1.0f;
    if (in->type == EL_FLOAT32) {
        EL_TRY(el_k_type(ctx, node, out, "output", EL_FLOAT32));
        d->kind = U_FLOAT;
        return EL_OK;
    }
    if (in->type == EL_INT8 && node->builtin_code == EL_OP_SOFTMAX &&
        (out->type == EL_INT8 || out->type == EL_INT16)) {
        float in_s, out_s;
        int32_t in_zp, out_zp;
        int sh;
        EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        if (out_zp != (out->type == EL_INT8 ? -128 : -32768)) {
            return EL_UNSUP(ctx, node, "softmax output needs zero point %d (scale 1/%d)",
                            out->type == EL_INT8 ? -128 : -32768,
                            out->type == EL_INT8 ? 256 : 65536);
        }
        el_preprocess_softmax_scaling((double)d->beta, (double)in_s, 5, &d->u.fx.input_multiplier,
                                      &sh);
        if (sh < 0) {
            return EL_UNSUP(ctx, node, "input scale * beta too small for the int8 softmax");
        }
        d->u.fx.input_left_shift = sh;
        d->u.fx.diff_min = -el_calculate_input_radius(5, sh);
        d->kind = out->type == EL_INT8 ? U_SOFTMAX_S8 : U_SOFTMAX_S16;
        return EL_OK;
    }
    if (in->type == EL_INT8 && out->type == EL_INT8 && node->builtin_code == EL_OP_LOG_SOFTMAX) {
        float in_s, out_s;
        int32_t in_zp, out_zp, rev_m;
        int sh, rev_sh;
        EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        if (out_s != 16.0f / 256.0f || out_zp != 127) {
            return EL_UNSUP(ctx, node,
                            "int8 log-softmax output needs scale 16/256 and zero "
                            "point 127");
        }
        el_preprocess_softmax_scaling(1.0, (double)in_s, 5, &d->u.lsm.input_multiplier, &sh);
        /* TFLite's reverse scaling computes 1 << (31 - shift) in int: shift 0 overflows */
        if (sh < 1 || sh > 31 ||
            !el_quantize_multiplier_smaller_than_one(
                (double)(1LL << (31 - sh)) / (double)d->u.lsm.input_multiplier, &rev_m, &rev_sh)) {
            return EL_UNSUP(ctx, node, "input scale %g is outside the int8 log-softmax's range",
                            (double)in_s);
        }
        d->u.lsm.input_left_shift = sh;
        d->u.lsm.reverse_multiplier = rev_m;
        d->u.lsm.reverse_shift = rev_sh;
        d->u.lsm.diff_min = -el_calculate_input_radius(5, sh);
        d->kind = U_LOG_SOFTMAX_S8;
        return EL_OK;
    }
    if (in->type == EL_INT16 && out->type == EL_INT16 && node->builtin_code == EL_OP_SOFTMAX) {
        float in_s, out_s;
        int32_t in_zp, out_zp;
        int sh;
        int16_t *luts;
        EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        if (in_zp != 0 || out_zp != 0) {
            return EL_UNSUP(ctx, node, "int16 softmax needs zero points 0 (output scale 2^-15)");
        }
        /* input * beta mapped so that 65535 steps span [-10, 0] */
        el_quantize_multiplier((double)in_s * (double)d->beta / (10.0 / 65535.0),
                               &d->u.sm16.input_multiplier, &sh);
        d->u.sm16.input_left_shift = sh;
        luts = (int16_t *)el_alloc_op_data(ctx, node, 2 * 513 * sizeof(int16_t));
        node->op_data = d; /* the tables are a second block; the op data stays the struct */
        if (luts == NULL) {
            return EL_ERROR_ARENA_TOO_SMALL;
        }
        el_gen_lut_s16(0, -10.0f, 0.0f, -1.0f, 1.0f, luts);
        el_gen_lut_s16(1, 0.0f, 1.0f, -1.0f, 1.0f, luts + 513);
        d->u.sm16.exp_lut = luts;
        d->u.sm16.one_over_one_plus_x_lut = luts + 513;
        d->kind = U_SOFTMAX16;
        return EL_OK;
    }
    return EL_UNSUP(ctx, node, "types %s -> %s are not supported", el_dtype_name(in->type),
                    el_dtype_name(out->type));
}

static el_status softmax_invoke(el_context *ctx, el_node *node)
{
    const unary_data *d = (const unary_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    if (d->kind == U_FLOAT) {
        if (node->builtin_code == EL_OP_SOFTMAX) {
            el_softmax_f32(d->beta, d->outer, d->depth, EL_F32(in), EL_F32(out));
        } else {
            el_log_softmax_f32(d->beta, d->outer, d->depth, EL_F32(in), EL_F32(out));
        }
    } else if (d->kind == U_LOG_SOFTMAX_S8) {
        el_log_softmax_s8(&d->u.lsm, d->outer, d->depth, EL_S8(in), EL_S8(out));
    } else if (d->kind == U_SOFTMAX16) {
        el_softmax_s16(&d->u.sm16, d->outer, d->depth, EL_S16(in), EL_S16(out));
    } else if (d->kind == U_SOFTMAX_S8) {
        el_softmax_s8(&d->u.fx, d->outer, d->depth, EL_S8(in), EL_S8(out));
    } else {
        el_softmax_s8_s16(&d->u.fx, d->outer, d->depth, EL_S8(in), EL_S16(out));
    }
    return EL_OK;
}

#define EL_UNARY_KERNEL(name, code)                                                                \
    const el_kernel el_kernel_##name = {code, 0, unary_prepare, unary_invoke}
EL_UNARY_KERNEL(logistic, EL_OP_LOGISTIC);
EL_UNARY_KERNEL(tanh, EL_OP_TANH);
EL_UNARY_KERNEL(relu, EL_OP_RELU);
EL_UNARY_KERNEL(relu6, EL_OP_RELU6);
EL_UNARY_KERNEL(relu_n1_to_1, EL_OP_RELU_N1_TO_1);
EL_UNARY_KERNEL(leaky_relu, EL_OP_LEAKY_RELU);
EL_UNARY_KERNEL(hard_swish, EL_OP_HARD_SWISH);
EL_UNARY_KERNEL(gelu, EL_OP_GELU);
EL_UNARY_KERNEL(elu, EL_OP_ELU);
EL_UNARY_KERNEL(exp, EL_OP_EXP);
EL_UNARY_KERNEL(log, EL_OP_LOG);
EL_UNARY_KERNEL(sqrt, EL_OP_SQRT);
EL_UNARY_KERNEL(rsqrt, EL_OP_RSQRT);
EL_UNARY_KERNEL(neg, EL_OP_NEG);
EL_UNARY_KERNEL(abs, EL_OP_ABS);
EL_UNARY_KERNEL(floor, EL_OP_FLOOR);
EL_UNARY_KERNEL(ceil, EL_OP_CEIL);
EL_UNARY_KERNEL(round, EL_OP_ROUND);
EL_UNARY_KERNEL(sin, EL_OP_SIN);
EL_UNARY_KERNEL(cos, EL_OP_COS);
EL_UNARY_KERNEL(square, EL_OP_SQUARE);
EL_UNARY_KERNEL(sign, EL_OP_SIGN);
EL_UNARY_KERNEL(relu_0_to_1, EL_OP_RELU_0_TO_1);
const el_kernel el_kernel_softmax = {EL_OP_SOFTMAX, 0, softmax_prepare, softmax_invoke};
const el_kernel el_kernel_log_softmax = {EL_OP_LOG_SOFTMAX, 0, softmax_prepare, softmax_invoke};
