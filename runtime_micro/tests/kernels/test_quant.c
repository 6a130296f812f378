/* Edge cases of TFLite's quantized arithmetic (kernels/el_quant.c). Expected values are worked
 * out by hand from TFLite's definitions (gemmlowp SaturatingRoundingDoublingHighMul and
 * RoundingDivideByPOT, QuantizeMultiplier's frexp rounding); the kernels' bit-exactness against
 * TFLite Micro and LiteRT is tested end to end in tests/test_kernels.py. Runs on the host and
 * on every cross target (see Makefile), so each variant's compiler gets the same checks. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "el_quant.h"

static int failures;

#define CHECK_EQ(got, want)                                                                        \
    do {                                                                                           \
        const long long g_ = (long long)(got), w_ = (long long)(want);                             \
        if (g_ != w_) {                                                                            \
            printf("FAIL %s:%d: %s = %lld, want %lld\n", __FILE__, __LINE__, #got, g_, w_);        \
            ++failures;                                                                            \
        }                                                                                          \
    } while (0)

static void test_srdhm(void)
{
    /* the one overflowing product saturates */
    CHECK_EQ(el_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    /* 2^30 * 2^30 * 2 / 2^32 = 2^29 */
    CHECK_EQ(el_srdhm(1 << 30, 1 << 30), 1 << 29);
    /* 3 * 0.5 = 1.5 rounds up; -1.5: (-2^32 + 1) / 2^31 truncates to -1 */
    CHECK_EQ(el_srdhm(3, 1 << 30), 2);
    CHECK_EQ(el_srdhm(-3, 1 << 30), -1);
    /* (2^31 - 1)^2 / 2^31 = 2^31 - 2 + (2^30 + 1) / 2^31 -> 2147483646 */
    CHECK_EQ(el_srdhm(INT32_MAX, INT32_MAX), 2147483646);
    CHECK_EQ(el_srdhm(0, INT32_MIN), 0);
}

static void test_rdbpot(void)
{
    /* round half away from zero */
    CHECK_EQ(el_rdbpot(5, 1), 3);
    CHECK_EQ(el_rdbpot(-5, 1), -3);
    CHECK_EQ(el_rdbpot(-4, 1), -2);
    CHECK_EQ(el_rdbpot(7, 2), 2);
    CHECK_EQ(el_rdbpot(-6, 2), -2);
    CHECK_EQ(el_rdbpot(-7, 2), -2);
    CHECK_EQ(el_rdbpot(123, 0), 123);
    CHECK_EQ(el_rdbpot(INT32_MIN, 31), -1);
    CHECK_EQ(el_rdbpot(INT32_MAX, 31), 1);
    CHECK_EQ(el_rdbpot(INT32_MIN, 40), 0);
}

static void test_quantize_multiplier(void)
{
    int32_t m;
    int s;
    el_quantize_multiplier(0.5, &m, &s);
    CHECK_EQ(m, 1 << 30);
    CHECK_EQ(s, 0);
    el_quantize_multiplier(1.0, &m, &s);
    CHECK_EQ(m, 1 << 30);
    CHECK_EQ(s, 1);
    el_quantize_multiplier(0.75, &m, &s);
    CHECK_EQ(m, 1610612736);
    CHECK_EQ(s, 0);
    /* mantissa 1 - 2^-46 rounds to 2^31: folds into the shift */
    el_quantize_multiplier(0.5 * (1.0 - ldexp(1.0, -46)), &m, &s);
    CHECK_EQ(m, 1 << 30);
    CHECK_EQ(s, 0);
    /* below 2^-32: flushed to zero */
    el_quantize_multiplier(1e-12, &m, &s);
    CHECK_EQ(m, 0);
    CHECK_EQ(s, 0);
    el_quantize_multiplier(0.0, &m, &s);
    CHECK_EQ(m, 0);
    CHECK_EQ(s, 0);
    /* 3 = 0.75 * 2^2 */
    el_quantize_multiplier(3.0, &m, &s);
    CHECK_EQ(m, 1610612736);
    CHECK_EQ(s, 2);
}

static void test_requant(void)
{
    /* x * 0.5 */
    CHECK_EQ(el_requant(100, 1 << 30, 0), 50);
    CHECK_EQ(el_requant(101, 1 << 30, 0), 51);
    CHECK_EQ(el_requant(-101, 1 << 30, 0), -50);
    /* x * 0.25: SRDHM gives 51, then 25.5 rounds away from zero */
    CHECK_EQ(el_requant(101, 1 << 30, -1), 26);
    /* x * 2: left shift before the multiply */
    CHECK_EQ(el_requant(101, 1 << 30, 2), 202);
    /* 64-bit: multiplier reduced to 16 bits (2^14), (1000 * 2^14 + 2^14) >> 15 = 500 */
    CHECK_EQ(el_requant64(1000, 1 << 30, 0), 500);
    CHECK_EQ(el_requant64((int64_t)1 << 30, 1 << 30, 0), 1 << 29);
    /* reduced multiplier saturates at 0x7FFF */
    CHECK_EQ(el_requant64(1 << 16, INT32_MAX, 0), 65534);
}

static void test_activation_range(void)
{
    int32_t lo, hi;
    CHECK_EQ(el_activation_range_quantized(3, 0.1f, -128, -128, 127, &lo, &hi), 1);
    CHECK_EQ(lo, -128);
    CHECK_EQ(hi, -68);
    CHECK_EQ(el_activation_range_quantized(1, 0.5f, 10, -128, 127, &lo, &hi), 1);
    CHECK_EQ(lo, 10);
    CHECK_EQ(hi, 127);
    CHECK_EQ(el_activation_range_quantized(2, 0.001f, 0, -128, 127, &lo, &hi), 1);
    CHECK_EQ(lo, -128);
    CHECK_EQ(hi, 127);
    CHECK_EQ(el_activation_range_quantized(4, 0.1f, 0, -128, 127, &lo, &hi), 0);
}

static void test_fixed_point(void)
{
    int bits;
    CHECK_EQ(el_calculate_input_radius(4, 20), 1920); /* 15 * 2^27 / 2^20 */
    CHECK_EQ(el_fx_exp_on_negative_values(0, 5), INT32_MAX);
    CHECK_EQ(el_fx_logistic(0, 4), 1 << 30);
    CHECK_EQ(el_fx_tanh(0, 4), 0);
    /* exp(-1) and exp(-2) in Q0.31 to the polynomial's accuracy (relative 1e-6) */
    CHECK_EQ(fabs(el_fx_exp_on_negative_values(-(1 << 26), 5) / 2147483648.0 - exp(-1.0)) < 1e-6,
             1);
    CHECK_EQ(fabs(el_fx_exp_on_negative_values(-(1 << 27), 5) / 2147483648.0 - exp(-2.0)) < 1e-6,
             1);
    /* logistic(+-large) saturates towards 1 and 0; logistic(x) + logistic(-x) = 1 */
    {
        const int32_t p = el_fx_logistic(3 << 27, 4), n = el_fx_logistic(-(3 << 27), 4);
        CHECK_EQ((int64_t)p + n == INT32_MAX, 1);
        CHECK_EQ(fabs(p / 2147483648.0 - 1.0 / (1.0 + exp(-3.0))) < 1e-6, 1);
    }
    /* tanh is odd */
    CHECK_EQ(el_fx_tanh(1 << 26, 4), -el_fx_tanh(-(1 << 26), 4));
    /* 1 / (1 + 0.5) = 2/3 in Q0.31, within 1e-8 */
    CHECK_EQ(fabs(el_fx_one_over_one_plus_x(1 << 30) / 2147483648.0 - 2.0 / 3.0) < 1e-8, 1);
    /* reciprocal of 3.0 in Q12.19: 1/3 = scale * 2^-bits */
    {
        const int32_t r = el_fx_reciprocal(3 << 19, 12, &bits);
        CHECK_EQ(fabs(r / 2147483648.0 / ldexp(1.0, bits) - 1.0 / 3.0) < 1e-8, 1);
    }
    CHECK_EQ(el_clz32(0), 32);
    CHECK_EQ(el_clz32(1), 31);
    CHECK_EQ(el_clz32(0x80000000u), 0);
}

int main(void)
{
    test_srdhm();
    test_rdbpot();
    test_quantize_multiplier();
    test_requant();
    test_activation_range();
    test_fixed_point();
    printf("test_quant: %s (%d failures)\n", failures ? "FAILED" : "OK", failures);
    return failures ? 1 : 0;
}
