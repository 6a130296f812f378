#include "el_quant.h"

#include <float.h>
#include <math.h>

/* ---- prepare-time ------------------------------------------------------------------ */

void el_quantize_multiplier(double real_multiplier, int32_t *multiplier, int *shift)
{
    double q;
    int64_t q_fixed;
    if (real_multiplier == 0.0 || real_multiplier != real_multiplier) {
        *multiplier = 0;
        *shift = 0;
        return;
    }
    if (real_multiplier > DBL_MAX || real_multiplier < -DBL_MAX) {
        /* An infinite ratio (float prepare math overflowed on absurd scales): what a finite
         * huge one gives, 0.5 << 1024, rather than an undefined conversion of inf below;
         * callers refuse or clamp such shifts. */
        *multiplier = real_multiplier > 0.0 ? (1 << 30) : -(1 << 30);
        *shift = 1024;
        return;
    }
    q = frexp(real_multiplier, shift);
    q_fixed = (int64_t)round(q * (double)(1LL << 31));
    if (q_fixed == (1LL << 31)) {
        q_fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        q_fixed = 0;
    }
    *multiplier = (int32_t)q_fixed;
}

int el_quantize_multiplier_smaller_than_one(double real_multiplier, int32_t *multiplier,
                                            int *left_shift)
{
    if (!(real_multiplier < 1.0) || !(real_multiplier > 0.0)) {
        return 0;
    }
    el_quantize_multiplier(real_multiplier, multiplier, left_shift);
    return *left_shift <= 0;
}

int el_quantize_multiplier_greater_than_one(double real_multiplier, int32_t *multiplier,
                                            int *left_shift)
{
    if (!(real_multiplier > 1.0)) {
        return 0;
    }
    el_quantize_multiplier(real_multiplier, multiplier, left_shift);
    return *left_shift >= 0;
}

void el_preprocess_softmax_scaling(double beta, double input_scale, int input_integer_bits,
                                   int32_t *multiplier, int *left_shift)
{
    double m = beta * input_scale * (double)(1LL << (31 - input_integer_bits));
    const double cap = (double)(1LL << 31) - 1.0;
    if (m > cap) {
        m = cap;
    }
    el_quantize_multiplier(m, multiplier, left_shift);
}

int32_t el_calculate_input_radius(int input_integer_bits, int input_left_shift)
{
    /* ldexp, not 1 << shift: an absurd input scale (1e-38) gives a left shift of -98, which
     * TFLite shifts by (undefined); the same value for every ordinary shift, clamped to int32. */
    const double max_input_rescaled =
        ldexp((double)((1 << input_integer_bits) - 1), 31 - input_integer_bits - input_left_shift);
    return max_input_rescaled >= 2147483647.0 ? INT32_MAX : (int32_t)floor(max_input_rescaled);
}

void el_frexp_multiplier(double real_multiplier, int32_t *multiplier, int *shift)
{
    const double q = frexp(real_multiplier, shift);
    *multiplier = (int32_t)round(q * (double)(1LL << 31));
}

static int32_t el_q_clamped(float f, float scale, int32_t zero_point, int32_t qmin, int32_t qmax)
{
    const double v = (double)zero_point + (double)roundf(f / scale);
    if (!(v >= (double)qmin)) {
        return qmin;
    }
    return v > (double)qmax ? qmax : (int32_t)v;
}

int el_activation_range_quantized(int act, float scale, int32_t zero_point, int32_t qmin,
                                  int32_t qmax, int32_t *act_min, int32_t *act_max)
{
    /* TFLite quantizes the bounds in float: zero_point + round(f / scale). */
/* In double and clamped to [qmin, qmax] before the conversion: a tiny scale puts 6 / scale
 * past int32 (undefined in C; found by the structure-aware fuzzer); NaN gives qmin. */
#define EL_Q(f) el_q_clamped((f), scale, zero_point, qmin, qmax)
    int32_t lo = qmin, hi = qmax;
    switch (act) {
    case 0:
        break;
    case 1:
        lo = EL_Q(0.0f);
        break;
    case 2:
        lo = EL_Q(-1.0f);
        hi = EL_Q(1.0f);
        break;
    case 3:
        lo = EL_Q(0.0f);
        hi = EL_Q(6.0f);
        break;
    default:
        return 0;
    }
#undef EL_Q
    *act_min = lo > qmin ? lo : qmin;
    *act_max = hi < qmax ? hi : qmax;
    return 1;
}

int el_activation_range_float(int act, float *act_min, float *act_max)
{
    switch (act) {
    case 0:
        *act_min = -INFINITY;
        *act_max = INFINITY;
        return 1;
    case 1:
        *act_min = 0.0f;
        *act_max = INFINITY;
        return 1;
    case 2:
        *act_min = -1.0f;
        *act_max = 1.0f;
        return 1;
    case 3:
        *act_min = 0.0f;
        *act_max = 6.0f;
        return 1;
    default:
        return 0;
    }
}

/* ---- run-time integer arithmetic --------------------------------------------------- */

int32_t el_srdhm(int32_t a, int32_t b)
{
    return el_srdhm_body(a, b);
}

int32_t el_rdbpot(int32_t x, int exponent)
{
    return el_rdbpot_body(x, exponent);
}

int32_t el_srmbpot(int32_t x, int exponent)
{
    int32_t threshold;
    if (exponent == 0) {
        return x;
    }
    if (exponent < 0) {
        return el_rdbpot(x, -exponent);
    }
    threshold = (int32_t)((1LL << (31 - exponent)) - 1);
    if (x > threshold) {
        return INT32_MAX;
    }
    if (x < -threshold) {
        return INT32_MIN;
    }
    return (int32_t)((uint32_t)x << exponent);
}

int32_t el_requant64(int64_t x, int32_t multiplier, int shift)
{
    const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
    const int total_shift = 15 - shift;
    const int64_t xc = el_bias64(x); /* TFLite's domain, |x| < 2^47: the product fits */
    const int64_t r = xc * (int64_t)reduced + ((int64_t)1 << (total_shift - 1));
    return (int32_t)(r >> total_shift);
}

int el_clz32(uint32_t x)
{
    int n = 0;
    if (x == 0) {
        return 32;
    }
    while (!(x & 0x80000000u)) {
        x <<= 1;
        ++n;
    }
    return n;
}

/* ---- gemmlowp fixed point ---------------------------------------------------------- */

/* Fixed-point add/sub wrap in gemmlowp (plain int32 arithmetic); done unsigned here. */
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

/* exp(x) for x in [-1/4, 0), Q0.31. */
static int32_t fx_exp_quarter(int32_t a)
{
    const int32_t constant_term = 1895147668;    /* exp(-1/8) */
    const int32_t constant_1_over_3 = 715827883; /* 1/3 */
    const int32_t x = fx_add(a, 1 << 28);        /* a + 1/8 */
    const int32_t x2 = el_srdhm(x, x);
    const int32_t x3 = el_srdhm(x2, x);
    const int32_t x4 = el_srdhm(x2, x2);
    const int32_t x4_over_4 = el_srmbpot(x4, -2);
    const int32_t poly =
        el_srmbpot(fx_add(el_srdhm(fx_add(x4_over_4, x3), constant_1_over_3), x2), -1);
    return fx_add(constant_term, el_srdhm(constant_term, fx_add(x, poly)));
}

int32_t el_fx_exp_on_negative_values(int32_t a, int integer_bits)
{
    /* Multipliers exp(-2^e) in Q0.31 for e = -2..4 (barrel shifter over the integer part). */
    static const int32_t k_mult[7] = {1672461947, 1302514674, 790015084, 290630308,
                                      39332535,   720401,     242};
    const int frac_bits = 31 - integer_bits;
    const int32_t one_quarter = (int32_t)1 << (frac_bits - 2);
    const int32_t mask = one_quarter - 1;
    const int32_t a_mod_quarter_minus_one_quarter = fx_sub(a & mask, one_quarter);
    int32_t result = fx_exp_quarter(el_srmbpot(a_mod_quarter_minus_one_quarter, integer_bits));
    const int32_t remainder = fx_sub(a_mod_quarter_minus_one_quarter, a);
    int e;
    for (e = -2; e <= 4; ++e) {
        if (integer_bits > e) {
            const int shift_amount = frac_bits + e;
            if (remainder & (int32_t)((uint32_t)1 << shift_amount)) {
                result = el_srdhm(result, k_mult[e + 2]);
            }
        }
    }
    if (integer_bits > 5) {
        const int32_t clamp = -((int32_t)1 << (36 - integer_bits)); /* -32.0 */
        if (a < clamp) {
            result = 0;
        }
    }
    if (a == 0) {
        result = INT32_MAX; /* One() in Q0.31 */
    }
    return result;
}

/* Newton-Raphson 1/(1+x) shared by logistic and tanh; returns x in Q2.29. */
static int32_t fx_nr_reciprocal_half(int32_t a)
{
    const int32_t half_denominator = fx_rounding_half_sum(a, INT32_MAX);
    const int32_t c48_17 = 1515870810;      /* 48/17, Q2.29 */
    const int32_t c_neg32_17 = -1010580540; /* -32/17, Q2.29 */
    const int32_t one_q2 = 1 << 29;
    int32_t x = fx_add(c48_17, el_srdhm(half_denominator, c_neg32_17));
    int i;
    for (i = 0; i < 3; ++i) {
        const int32_t hd_x = el_srdhm(half_denominator, x);
        const int32_t one_minus = fx_sub(one_q2, hd_x);
        x = fx_add(x, el_srmbpot(el_srdhm(x, one_minus), 2));
    }
    return x;
}

int32_t el_fx_one_over_one_plus_x(int32_t a)
{
    /* ExactMulByPot<-1> keeps the raw value (Q2.29 -> Q1.30), then Rescale<0>. */
    return el_srmbpot(fx_nr_reciprocal_half(a), 1);
}

static int32_t fx_one_minus_x_over_one_plus_x(int32_t a)
{
    return el_srmbpot(fx_sub(fx_nr_reciprocal_half(a), 1 << 29), 2);
}

int32_t el_fx_logistic(int32_t a, int integer_bits)
{
    int32_t abs_a, pos, neg;
    if (a == 0) {
        return 1 << 30;
    }
    abs_a = a > 0 ? a : (int32_t)(0u - (uint32_t)a);
    pos = el_fx_one_over_one_plus_x(
        el_fx_exp_on_negative_values((int32_t)(0u - (uint32_t)abs_a), integer_bits));
    neg = fx_sub(INT32_MAX, pos);
    return a > 0 ? pos : neg;
}

int32_t el_fx_tanh(int32_t a, int integer_bits)
{
    int32_t n, t;
    if (a == 0) {
        return 0;
    }
    n = a < 0 ? a : (int32_t)(0u - (uint32_t)a);
    /* ExactMulByPot<1>: same raw, one more integer bit. */
    t = fx_one_minus_x_over_one_plus_x(el_fx_exp_on_negative_values(n, integer_bits + 1));
    return a < 0 ? (int32_t)(0u - (uint32_t)t) : t;
}

int32_t el_fx_reciprocal(int32_t x, int x_integer_bits, int *num_bits_over_unit)
{
    const int headroom_plus_one = el_clz32((uint32_t)x);
    const int32_t shifted_sum_minus_one =
        (int32_t)(((uint32_t)x << headroom_plus_one) - ((uint32_t)1 << 31));
    *num_bits_over_unit = x_integer_bits - headroom_plus_one;
    return el_fx_one_over_one_plus_x(shifted_sum_minus_one);
}
