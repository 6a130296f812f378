/* Reference activations: int8 through TFLite's fixed-point paths (gemmlowp logistic/tanh/
 * softmax, the int16 hard-swish pipeline) or a 256-entry table built in prepare; float
 * through libm as TFLite's reference kernels. */
#include <math.h>

#include "../el_nn.h"
#include "../el_quant.h"

void el_logistic_s8(const el_fx_act_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            out[i] = -128;
        } else if (x >= p->input_range_radius) {
            out[i] = 127;
        } else {
            const int32_t x_q4 = el_requant(x, p->input_multiplier, p->input_left_shift);
            const int32_t y_q0 = el_fx_logistic(x_q4, 4);
            const int32_t y = el_rdbpot(y_q0, 31 - 8) - 128;
            out[i] = (int8_t)el_clamp_i32(y, -128, 127);
        }
    }
}

void el_tanh_s8(const el_fx_act_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t x = (int32_t)in[i] - p->input_zero_point;
        if (x <= -p->input_range_radius) {
            out[i] = -128;
        } else if (x >= p->input_range_radius) {
            out[i] = 127;
        } else {
            const int32_t x_q4 = el_requant(x, p->input_multiplier, p->input_left_shift);
            const int32_t y_q0 = el_fx_tanh(x_q4, 4);
            const int32_t y = el_rdbpot(y_q0, 31 - 7);
            out[i] = (int8_t)el_clamp_i32(y, -128, 127);
        }
    }
}

/* Softmax in gemmlowp fixed point: differences in Q5.26, sums in Q12.19. One row's maximum
 * and the reciprocal of its sum of exponentials serve int8 and int16 outputs alike. */
typedef struct {
    int32_t max_in, scale;
    int num_bits_over_unit;
} softmax_row;

static void softmax_row_init(const el_fx_act_params *p, const int8_t *row, int32_t depth,
                             softmax_row *sr)
{
    int32_t c, sum = 0;
    sr->max_in = -128;
    for (c = 0; c < depth; ++c) {
        sr->max_in = row[c] > sr->max_in ? row[c] : sr->max_in;
    }
    for (c = 0; c < depth; ++c) {
        const int32_t diff = (int32_t)row[c] - sr->max_in;
        if (diff >= p->diff_min) {
            const int32_t s = el_requant_gt1(diff, p->input_multiplier, p->input_left_shift);
            sum += el_srmbpot(el_fx_exp_on_negative_values(s, 5), -12);
        }
    }
    sr->scale = el_fx_reciprocal(sum, 12, &sr->num_bits_over_unit);
}

/* The output for input x on `bits` signed bits (8 or 16); zero point at the type's minimum. */
static int32_t softmax_value(const el_fx_act_params *p, const softmax_row *sr, int32_t x, int bits)
{
    const int32_t lo = -(1 << (bits - 1)), diff = x - sr->max_in;
    int32_t v = lo;
    if (diff >= p->diff_min) {
        const int32_t s = el_requant_gt1(diff, p->input_multiplier, p->input_left_shift);
        const int32_t e = el_fx_exp_on_negative_values(s, 5);
        v = el_rdbpot(el_srdhm(sr->scale, e), sr->num_bits_over_unit + 31 - bits) + lo;
        v = el_clamp_i32(v, lo, -lo - 1);
    }
    return v;
}

void el_softmax_s8(const el_fx_act_params *p, int32_t outer, int32_t depth, const int8_t *in,
                   int8_t *out)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const int8_t *row = in + (size_t)r * depth;
        softmax_row sr;
        softmax_row_init(p, row, depth, &sr);
        for (c = 0; c < depth; ++c) {
            out[(size_t)r * depth + c] = (int8_t)softmax_value(p, &sr, row[c], 8);
        }
    }
}

void el_softmax_s8_s16(const el_fx_act_params *p, int32_t outer, int32_t depth, const int8_t *in,
                       int16_t *out)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const int8_t *row = in + (size_t)r * depth;
        softmax_row sr;
        softmax_row_init(p, row, depth, &sr);
        for (c = 0; c < depth; ++c) {
            out[(size_t)r * depth + c] = (int16_t)softmax_value(p, &sr, row[c], 16);
        }
    }
}

static float unary_f(el_unary_op op, float alpha, float x);

static float lut_fn(int fn, float x)
{
    switch (fn) {
    case EL_LUT16_EXP:
        return expf(x);
    case EL_LUT16_ONE_OVER_ONE_PLUS_X:
        return 1.0f / (1.0f + x);
    case EL_LUT16_GELU:
        return unary_f(EL_UN_GELU, 0.0f, x);
    default:
        return unary_f(EL_UN_GELU_APPROX, 0.0f, x);
    }
}

void el_gen_lut_s16(int fn, float in_min, float in_max, float out_min, float out_max, int16_t *lut)
{
    const int steps = 512;
    const float step = (in_max - in_min) / (float)steps;
    const float half_step = step / 2.0f;
    const float scaling_inv = 65536.0f / (out_max - out_min);
    int i;
    for (i = 0; i < steps; ++i) {
        const float val = lut_fn(fn, in_min + (float)i * step);
        const float mid = lut_fn(fn, in_min + (float)i * step + half_step);
        const float next = lut_fn(fn, in_min + (float)(i + 1) * step);
        const float sample = roundf(val * scaling_inv);
        const float mid_interp = roundf((next * scaling_inv + roundf(val * scaling_inv)) / 2.0f);
        const float mid_val = roundf(mid * scaling_inv);
        const float bias = roundf((mid_interp - mid_val) / 2.0f);
        float v = sample - bias;
        /* NaN (0 * inf when the output range is denormal-small) would be an undefined
         * conversion (TFLite's too): 0. */
        v = v != v ? 0.0f : (v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v));
        lut[i] = (int16_t)v;
    }
    {
        float v = roundf(lut_fn(fn, in_max) * scaling_inv);
        v = v != v ? 0.0f : (v < -32768.0f ? -32768.0f : (v > 32767.0f ? 32767.0f : v));
        lut[steps] = (int16_t)v;
    }
}

/* 512 base values with a 7-bit interpolation between neighbours. */
static int16_t lut16_lookup(int16_t value, const int16_t *lut)
{
    const uint16_t index = (uint16_t)(256 + (value >> 7));
    const int16_t offset = (int16_t)(value & 0x7f);
    const int16_t base = lut[index];
    const int16_t slope = (int16_t)(lut[index + 1] - lut[index]);
    const int32_t delta = ((int32_t)slope * offset + 64) >> 7;
    return (int16_t)(base + delta);
}

void el_lut_s16(const int16_t *lut, int32_t size, const int16_t *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        out[i] = lut16_lookup(in[i], lut);
    }
}

void el_softmax_s16(const el_softmax16_params *p, int32_t outer, int32_t depth, const int16_t *in,
                    int16_t *out)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const int16_t *x = in + (size_t)r * depth;
        int16_t *y = out + (size_t)r * depth;
        int32_t max_in = INT16_MIN, sum = 0, sym_sum;
        int headroom_plus_one;
        int32_t shifted_sum;
        int16_t recip;
        for (c = 0; c < depth; ++c) {
            max_in = x[c] > max_in ? x[c] : max_in;
        }
        /* exp results go to the output first, then are scaled in place */
        for (c = 0; c < depth; ++c) {
            const int32_t scaled =
                el_requant((int32_t)x[c] - max_in, p->input_multiplier, p->input_left_shift);
            const int32_t sym = el_clamp_i32(scaled + 32767, -32768, 32767);
            y[c] = lut16_lookup((int16_t)sym, p->exp_lut);
            sum += y[c];
        }
        headroom_plus_one = el_clz32((uint32_t)sum);
        shifted_sum = (int32_t)((((int64_t)sum << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        sym_sum = shifted_sum - ((1 << 15) + (1 << 16));
        recip =
            lut16_lookup((int16_t)el_clamp_i32(sym_sum, -32768, 32767), p->one_over_one_plus_x_lut);
        for (c = 0; c < depth; ++c) {
            const int right = 31 - headroom_plus_one;
            const int64_t round = (int64_t)1 << (right - 1);
            const int32_t v = (int32_t)(((int64_t)y[c] * recip + round) >> right);
            y[c] = (int16_t)el_clamp_i32(v, 0, 32767);
        }
    }
}

void el_softmax_f32(float beta, int32_t outer, int32_t depth, const float *in, float *out)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const float *x = in + (size_t)r * depth;
        float *y = out + (size_t)r * depth;
        float m = x[0], sum = 0.0f;
        for (c = 1; c < depth; ++c) {
            m = x[c] > m ? x[c] : m;
        }
        for (c = 0; c < depth; ++c) {
            y[c] = expf((x[c] - m) * beta);
            sum += y[c];
        }
        for (c = 0; c < depth; ++c) {
            y[c] /= sum;
        }
    }
}

void el_log_softmax_f32(float beta, int32_t outer, int32_t depth, const float *in, float *out)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const float *x = in + (size_t)r * depth;
        float *y = out + (size_t)r * depth;
        float m = x[0], sum = 0.0f, log_sum;
        for (c = 1; c < depth; ++c) {
            m = x[c] > m ? x[c] : m;
        }
        for (c = 0; c < depth; ++c) {
            sum += expf((x[c] - m) * beta);
        }
        log_sum = logf(sum);
        for (c = 0; c < depth; ++c) {
            y[c] = (x[c] - m) * beta - log_sum;
        }
    }
}

/* RELU, ABS and LEAKY_RELU compute the same int32 step on int8 and int16 inputs; the entry
 * points below differ in the element type and the clamp only. */
static inline int32_t relu_step(const el_relu_params *p, int32_t x)
{
    return p->output_offset + el_requant(x + p->input_offset, p->multiplier, p->shift);
}

static inline int32_t abs_step(const el_relu_params *p, int rescale, int32_t x)
{
    int32_t v = x + p->input_offset;
    v = v < 0 ? -v : v;
    if (rescale) {
        v = el_requant(v, p->multiplier, p->shift);
    }
    return v + p->output_offset;
}

static inline int32_t leaky_relu_step(const el_leaky_relu_params *p, int32_t x)
{
    x += p->input_offset;
    return (x >= 0 ? el_requant(x, p->multiplier_identity, p->shift_identity)
                   : el_requant(x, p->multiplier_alpha, p->shift_alpha)) +
           p->output_offset;
}

/* out[i] = STEP clamped to [LO, HI] as type T; STEP reads in[i]. */
#define MAP_CLAMPED(T, LO, HI, STEP)                                                               \
    do {                                                                                           \
        int32_t i;                                                                                 \
        for (i = 0; i < size; ++i) {                                                               \
            out[i] = (T)el_clamp_i32(STEP, LO, HI);                                                \
        }                                                                                          \
    } while (0)

void el_relu_s8(const el_relu_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    MAP_CLAMPED(int8_t, p->act_min, p->act_max, relu_step(p, in[i]));
}

void el_relu_s16(const el_relu_params *p, int32_t size, const int16_t *in, int16_t *out)
{
    MAP_CLAMPED(int16_t, p->act_min, p->act_max, relu_step(p, in[i]));
}

void el_abs_s8(const el_relu_params *p, int rescale, int32_t size, const int8_t *in, int8_t *out)
{
    MAP_CLAMPED(int8_t, -128, 127, abs_step(p, rescale, in[i]));
}

void el_abs_s16(const el_relu_params *p, int rescale, int32_t size, const int16_t *in, int16_t *out)
{
    MAP_CLAMPED(int16_t, -32768, 32767, abs_step(p, rescale, in[i]));
}

void el_leaky_relu_s8(const el_leaky_relu_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    MAP_CLAMPED(int8_t, -128, 127, leaky_relu_step(p, in[i]));
}

void el_leaky_relu_s16(const el_leaky_relu_params *p, int32_t size, const int16_t *in, int16_t *out)
{
    MAP_CLAMPED(int16_t, -32768, 32767, leaky_relu_step(p, in[i]));
}

void el_log_softmax_s8(const el_log_softmax_params *p, int32_t outer, int32_t depth,
                       const int8_t *in, int8_t *out)
{
    int32_t o, i;
    for (o = 0; o < outer; ++o) {
        const int8_t *row = in + (size_t)o * (size_t)depth;
        int8_t *dst = out + (size_t)o * (size_t)depth;
        int32_t max = -128, sum_q12 = 0, log_sum_q5, adjusted_diff_min, rev;
        for (i = 0; i < depth; ++i) {
            max = row[i] > max ? row[i] : max;
        }
        /* sum of exp(diff) in Q12.19: 2^12 terms of at most 1 cannot overflow */
        for (i = 0; i < depth; ++i) {
            const int32_t diff = (int32_t)row[i] - max;
            if (diff >= p->diff_min) {
                const int32_t d_q5 = el_requant(diff, p->input_multiplier, p->input_left_shift);
                sum_q12 += el_srmbpot(el_fx_exp_on_negative_values(d_q5, 5), -12);
            }
        }
        log_sum_q5 = el_fx_log_x_ge_1(sum_q12, 12, 5);
        /* diffs at or below -log_sum (plus the smallest Q5.26 value) map to the minimum */
        rev = el_requant((int32_t)((uint32_t)log_sum_q5 + 0x80000000u), p->reverse_multiplier,
                         p->reverse_shift);
        adjusted_diff_min = p->diff_min - 1 > rev ? p->diff_min - 1 : rev;
        for (i = 0; i < depth; ++i) {
            const int32_t diff = (int32_t)row[i] - max;
            if (diff > adjusted_diff_min) {
                const int32_t d_q5 = el_requant(diff, p->input_multiplier, p->input_left_shift);
                /* Q5.26 to steps of 1/16 (31 - 5 - 4 = 22 bits), zero point 127 */
                const int32_t v = el_rdbpot((int32_t)((uint32_t)d_q5 - (uint32_t)log_sum_q5), 22);
                dst[i] = (int8_t)el_clamp_i32(v + 127, -128, 127);
            } else {
                dst[i] = -128;
            }
        }
    }
}

/* 1/sqrt(v) for v > 0 input steps, with 20 bits of fraction kept between the two multiplies
 * (TFLite Micro's RSQRT); v == 0 is the largest output, as TFLite. */
static int32_t rsqrt_q(const el_relu_params *p, int32_t v, int32_t qmax)
{
    int32_t m;
    int sh;
    if (v == 0) {
        return qmax;
    }
    el_inv_sqrt_multiplier(v, -1, &m, &sh);
    return el_requant(el_requant(1, m, sh + 20), p->multiplier, p->shift - 20) + p->output_offset;
}

void el_rsqrt_s8(const el_relu_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        out[i] = (int8_t)el_clamp_i32(rsqrt_q(p, (int32_t)in[i] + p->input_offset, 127), -128, 127);
    }
}

void el_rsqrt_s16(const el_relu_params *p, int32_t size, const int16_t *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        out[i] = (int16_t)el_clamp_i32(rsqrt_q(p, (int32_t)in[i] + p->input_offset, 32767), -32768,
                                       32767);
    }
}

/* Input at scale 1/(3 * 4096) (so +-2^15 steps span +-10.7), as TFLite's int16 LOGISTIC/TANH.
 * The product fits: prepare keeps the multiplier below 2^15 and |x| <= 2^15. */
static int32_t lut16_input(const el_lut16_act_params *p, int16_t x)
{
    int32_t m = p->input_multiplier, sh = p->input_left_shift;
    if (m == 0) { /* power-of-two input scale */
        m = 3 << sh;
        sh = 0;
    }
    const int64_t t = (int64_t)x * m + (sh > 0 ? (int64_t)1 << (sh - 1) : 0);
    /* floor(t / 2^sh) as TFLite's arithmetic shift, without shifting a negative value */
    return (int32_t)(t >= 0 ? t >> sh : -((-t + ((int64_t)1 << sh) - 1) >> sh));
}

/* sigmoid(|v|) with `frac` fractional index bits, scaled by 2^frac on top of 0.16. */
static uint32_t sigmoid_interp(uint32_t a, int frac)
{
    const uint32_t idx = a >> frac; /* < 255: callers saturate above */
    const uint32_t lo = el_sigmoid_lut_u16[idx], hi = el_sigmoid_lut_u16[idx + 1];
    return (lo << frac) + (a & ((1u << frac) - 1u)) * (hi - lo);
}

void el_logistic_s16(const el_lut16_act_params *p, int32_t size, const int16_t *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t v = lut16_input(p, in[i]);
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        /* 7 bits of the input's fraction plus the 1/4 of the x3 scaling: 9 index bits. */
        uint32_t r = (a >> 9) >= 255 ? 0x7FFFu << 10 : sigmoid_interp(a, 9);
        /* sigmoid(-x) = 1 - sigmoid(x); round to the 1/32768 output step. */
        r = v >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
        out[i] = (int16_t)(r >> 10);
    }
}

void el_tanh_s16(const el_lut16_act_params *p, int32_t size, const int16_t *in, int16_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int32_t v = lut16_input(p, in[i]);
        const uint32_t a = (uint32_t)(v < 0 ? -v : v);
        /* tanh(x) = 2 sigmoid(2x) - 1: the doubling is one index bit less (8). */
        const int32_t r = (a >> 8) >= 255 ? (int32_t)(0xFFFFu << 8) : (int32_t)sigmoid_interp(a, 8);
        const int32_t y = v >= 0 ? r - (1 << 23) + (1 << 7) : -r + (1 << 23) + (1 << 7) - 1;
        /* floor(y / 256) without shifting a negative value */
        out[i] = (int16_t)((int32_t)(((uint32_t)y + 0x80000000u) >> 8) - (1 << 23));
    }
}

/* int16 gemmlowp helpers for hard-swish. */
static int16_t srdhm16(int16_t a, int16_t b)
{
    const int32_t ab = (int32_t)a * (int32_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)((ab + nudge) / (1 << 15));
}

static int16_t sdhm16(int16_t a, int16_t b)
{
    if (a == b && a == INT16_MIN) {
        return INT16_MAX;
    }
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

static int16_t sat_lshift16(int16_t v, int amount)
{
    const int32_t r = (int32_t)v * (1 << amount);
    return (int16_t)el_clamp_i32(r, INT16_MIN, INT16_MAX);
}

void el_hard_swish_s8(const el_hard_swish_params *p, int32_t size, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        const int16_t x = (int16_t)((int32_t)in[i] - p->input_zero_point);
        const int16_t hires = (int16_t)(x * (1 << 7));
        const int16_t preshift_out = srdhm16(hires, p->output_multiplier_fixedpoint_int16);
        int16_t reluish = hires;
        int16_t pre;
        int32_t o;
        if (p->reluish_multiplier_exponent > 0) {
            reluish = sat_lshift16(reluish, p->reluish_multiplier_exponent - 1);
        }
        reluish = srdhm16(reluish, p->reluish_multiplier_fixedpoint_int16);
        if (p->reluish_multiplier_exponent > 0) {
            reluish = sat_lshift16(reluish, 1);
        }
        if (p->reluish_multiplier_exponent < 0) {
            reluish = (int16_t)el_rdbpot(reluish, -p->reluish_multiplier_exponent);
        }
        reluish = (int16_t)(((int32_t)reluish + (1 << 15)) >> 1);
        pre = sdhm16(reluish, preshift_out);
        o = el_rdbpot(pre, -p->output_multiplier_exponent) + p->output_zero_point;
        out[i] = (int8_t)el_clamp_i32(o, -128, 127);
    }
}

void el_lut_s8(const int8_t *table, int32_t size, const int8_t *in, int8_t *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        out[i] = table[(uint8_t)in[i]];
    }
}

static float unary_f(el_unary_op op, float alpha, float x)
{
    switch (op) {
    case EL_UN_RELU:
        return x > 0.0f ? x : 0.0f;
    case EL_UN_RELU6:
        return x < 0.0f ? 0.0f : (x > 6.0f ? 6.0f : x);
    case EL_UN_RELU_N1_TO_1:
        return x < -1.0f ? -1.0f : (x > 1.0f ? 1.0f : x);
    case EL_UN_LOGISTIC:
        if (x > 16.619047164916992188f) {
            return 1.0f;
        }
        if (x < -9.0f) {
            return expf(x);
        }
        return 1.0f / (1.0f + expf(-x));
    case EL_UN_TANH:
        return tanhf(x);
    case EL_UN_HARD_SWISH:
        return x * fminf(6.0f, fmaxf(0.0f, x + 3.0f)) / 6.0f;
    case EL_UN_ELU:
        return x < 0.0f ? expm1f(x) : x;
    case EL_UN_GELU:
        /* TFLite's transform (its tables are built from it): the erfc form, in float, which
         * also avoids the cancellation of 1 + erf(x) for large negative x */
        return 0.5f * x * erfcf(x * -0.70710678118654752440f);
    case EL_UN_GELU_APPROX:
        /* TFLite's transform, in float: sqrt(2 / pi) rounded to float first */
        return 0.5f * x * (1.0f + tanhf(0.797884560802865355879892f * (x + 0.044715f * x * x * x)));
    case EL_UN_EXP:
        return expf(x);
    case EL_UN_LOG:
        return logf(x);
    case EL_UN_SQRT:
        return sqrtf(x);
    case EL_UN_RSQRT:
        return 1.0f / sqrtf(x);
    case EL_UN_NEG:
        return -x;
    case EL_UN_ABS:
        return fabsf(x);
    case EL_UN_LEAKY_RELU:
        return x > 0.0f ? x : x * alpha;
    case EL_UN_FLOOR:
        return floorf(x);
    case EL_UN_CEIL:
        return ceilf(x);
    case EL_UN_ROUND: {
        const float f = floorf(x);
        const float diff = x - f;
        if (diff < 0.5f || (diff == 0.5f && fmodf(f, 2.0f) == 0.0f)) {
            return f;
        }
        return f + 1.0f;
    }
    case EL_UN_SIN:
        return sinf(x);
    case EL_UN_COS:
        return cosf(x);
    case EL_UN_SQUARE:
        return x * x;
    case EL_UN_SIGN:
        return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case EL_UN_RELU_0_TO_1:
        return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x);
    }
    return x;
}

void el_unary_f32(el_unary_op op, float alpha, int32_t size, const float *in, float *out)
{
    int32_t i;
    for (i = 0; i < size; ++i) {
        out[i] = unary_f(op, alpha, in[i]);
    }
}
