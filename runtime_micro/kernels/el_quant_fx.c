/* The fixed-point log and inverse square root of TFLite's int8 LOG_SOFTMAX, L2_NORMALIZATION
 * and RSQRT. A translation unit of their own: the el_quant.c primitives they call stay calls
 * instead of being inlined dozens of times (about 1 KB less code on Cortex-M; these ops are
 * not hot). */
#include <stdint.h>

#include "el_quant.h"

static int32_t fx_add(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a + (uint32_t)b);
}
static int32_t fx_sub(int32_t a, int32_t b)
{
    return (int32_t)((uint32_t)a - (uint32_t)b);
}

static int32_t fx_rounding_half_sum(int32_t a, int32_t b)
{
    const int64_t sum = (int64_t)a + (int64_t)b;
    const int64_t sign = sum >= 0 ? 1 : -1;
    return (int32_t)((sum + sign) / 2);
}

static int32_t fx_sat_add(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a + (int64_t)b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

static int32_t fx_sat_sub(int32_t a, int32_t b)
{
    const int64_t s = (int64_t)a - (int64_t)b;
    return s > INT32_MAX ? INT32_MAX : (s < INT32_MIN ? INT32_MIN : (int32_t)s);
}

/* TFLite's log_x_for_x_greater_than_or_equal_to_1 (log-softmax): split x = 2^z * r with r
 * around 1, log(x) = z log 2 + log(r), log(r) from a rational (Pade-like) approximation in
 * q = 2 (r - 2^-1/4). Raw Q0.31 constants are round(v * 2^31) of the values named. The sum
 * is accumulated with one integer bit more than the output (z log 2 may saturate). */
int32_t el_fx_log_x_ge_1(int32_t a, int input_integer_bits, int output_integer_bits)
{
    const int32_t log_2 = 1488522236;          /* ln 2 */
    const int32_t sqrt_sqrt_half = 1805811301; /* 2^-1/4 */
    const int32_t sqrt_half = 1518500250;      /* 2^-1/2 */
    const int32_t one_quarter = 536870912;     /* 1/4 */
    const int32_t alpha_n = 117049297;         /* 11/240 * 2^1/4 */
    const int32_t alpha_d = 127690142;         /* 1/20 * 2^1/4 */
    const int32_t alpha_i = 1057819769;        /* 2 / 2^1/4 - 2^1/4 */
    const int32_t alpha_f = 638450708;         /* 1/4 * 2^1/4 */
    const int accum_bits = output_integer_bits + 1;
    const int32_t shifted_quarter = el_srmbpot(one_quarter, -accum_bits);
    /* the input's raw value read as Q0.31: the shifts below find its power of two */
    const int z_a_headroom_plus_1 = el_clz32((uint32_t)a);
    const int32_t r_a_tmp = el_srmbpot(a, z_a_headroom_plus_1 - 1);
    const int32_t r_a = el_srmbpot(el_srdhm(r_a_tmp, sqrt_half), 1);
    const int32_t z_a_pow_2_adj = fx_sat_add(
        el_srmbpot(input_integer_bits - z_a_headroom_plus_1, 31 - accum_bits), shifted_quarter);
    /* z_b: the same with the input premultiplied by 2^-1/2 */
    const int32_t z_b = el_srdhm(a, sqrt_half);
    const int z_b_headroom = el_clz32((uint32_t)z_b) - 1;
    const int32_t r_b = el_srmbpot(a, z_b_headroom);
    const int32_t z_b_pow_2_adj =
        fx_sat_sub(el_srmbpot(input_integer_bits - z_b_headroom, 31 - accum_bits), shifted_quarter);
    const int32_t r = r_a < r_b ? r_a : r_b;
    const int32_t z_pow_2_adj = z_a_pow_2_adj > z_b_pow_2_adj ? z_a_pow_2_adj : z_b_pow_2_adj;
    const int32_t p = fx_rounding_half_sum(r, sqrt_sqrt_half);
    int32_t q = fx_sub(r, sqrt_sqrt_half), common_sq, num, denom_minus_one, recip_denom;
    q = fx_add(q, q);
    common_sq = el_srdhm(q, q);
    num = fx_add(el_srdhm(q, r), el_srdhm(el_srdhm(q, common_sq), alpha_n));
    denom_minus_one = fx_add(el_srdhm(p, fx_add(fx_add(alpha_i, q), el_srdhm(alpha_d, common_sq))),
                             el_srdhm(alpha_f, q));
    recip_denom = el_fx_one_over_one_plus_x(denom_minus_one);
    return el_srmbpot(
        fx_add(el_srdhm(z_pow_2_adj, log_2), el_srdhm(el_srmbpot(num, -accum_bits), recip_denom)),
        accum_bits - output_integer_bits);
}

void el_inv_sqrt_multiplier(int32_t input, int reverse_shift, int32_t *multiplier, int *shift)
{
    const int32_t half_three = (1 << 28) + (1 << 27); /* 1.5 with 3 integer bits */
    const int32_t half_sqrt_2 = 1518500250;           /* sqrt(2) / 2 in Q0.31 */
    int32_t x = 1 << 28, half_input;                  /* 1.0 with 3 integer bits */
    int out_shift = 11, pairs, i;
    if (input <= 1) {
        /* 0 (a zero vector) and 1 as TFLite: the largest multiplier, no shift */
        *multiplier = INT32_MAX;
        *shift = 0;
        return;
    }
    while (input >= (1 << 29)) {
        input /= 4;
        ++out_shift;
    }
    /* normalize into [2^27, 2^29) by pairs of bits so the square root stays exact */
    pairs = (el_clz32((uint32_t)input) - 1) / 2 - 1;
    out_shift -= pairs;
    input = (int32_t)((uint32_t)input << (2 * pairs));
    half_input = el_srmbpot(input >> 1, -1);
    /* Newton-Raphson on 1/sqrt, five steps from 1 (3 integer bits throughout) */
    for (i = 0; i < 5; ++i) {
        const int32_t x3 = el_srmbpot(el_srdhm(el_srdhm(x, x), x), 6);
        x = el_srmbpot(
            (int32_t)((uint32_t)el_srdhm(half_three, x) - (uint32_t)el_srdhm(half_input, x3)), 3);
    }
    x = el_srdhm(x, half_sqrt_2);
    if (out_shift < 0) {
        x = (int32_t)((uint32_t)x << -out_shift);
        out_shift = 0;
    }
    *multiplier = x;
    *shift = out_shift * reverse_shift;
}
