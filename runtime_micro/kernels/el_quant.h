/* TFLite's quantized arithmetic, reimplemented so runtime_micro is bit-exact with the
 * reference kernels of LiteRT and TFLite Micro (neither is built with TFLITE_SINGLE_ROUNDING,
 * so the double-rounding multiply is the one used here).
 *
 * Conventions: real = scale * (q - zero_point). A real multiplier M is stored as
 * (multiplier, shift) with M ~= multiplier * 2^(shift - 31), multiplier in [2^30, 2^31) or 0,
 * shift > 0 meaning a left shift. Everything here is integer-only except the prepare-time
 * helpers marked "prepare", which use double exactly where TFLite does.
 *
 * The gemmlowp-style fixed-point helpers (el_fx_*) operate on raw int32 values; the number
 * of integer bits of each operand is passed explicitly where the C++ original used a type.
 */
#ifndef EL_QUANT_H
#define EL_QUANT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- prepare-time (double) --------------------------------------------------------- */

/* TFLite QuantizeMultiplier: frexp, round half away from zero, 1<<31 folds into shift+1,
 * shift < -31 flushes to zero. */
void el_quantize_multiplier(double real_multiplier, int32_t *multiplier, int *shift);

/* QuantizeMultiplierSmallerThanOneExp / GreaterThanOne: same numbers, different range
 * checks; return 0 when the multiplier is outside the range the caller requires. */
int el_quantize_multiplier_smaller_than_one(double real_multiplier, int32_t *multiplier,
                                            int *left_shift);
int el_quantize_multiplier_greater_than_one(double real_multiplier, int32_t *multiplier,
                                            int *left_shift);

/* Softmax/log-softmax input scaling (PreprocessSoftmaxScaling). */
void el_preprocess_softmax_scaling(double beta, double input_scale, int input_integer_bits,
                                   int32_t *multiplier, int *left_shift);

/* Largest |input - zero_point| that does not saturate the fixed-point function input
 * (CalculateInputRadius with total_signed_bits = 31). */
int32_t el_calculate_input_radius(int input_integer_bits, int input_left_shift);

/* frexp-based multiplier without the 1<<31 fold, as TFLite's LOGISTIC/TANH int8 prepare does. */
void el_frexp_multiplier(double real_multiplier, int32_t *multiplier, int *shift);

/* ---- run-time integer arithmetic --------------------------------------------------- */

int32_t el_srdhm(int32_t a, int32_t b); /* SaturatingRoundingDoublingHighMul */
/* RoundingDivideByPOT, exponent >= 0 (above 31 the rounded quotient is 0). */
int32_t el_rdbpot(int32_t x, int exponent);

/* The same two, as inline bodies (el_quant.c's functions are these). Hosted CPUs (x86,
 * aarch64) inline them into every requantize: a call per element was a third of the int16
 * elementwise ops' time. Microcontroller builds call the one out-of-line copy (code size). */
static inline int32_t el_srdhm_body(int32_t a, int32_t b)
{
    const int64_t ab = (int64_t)a * (int64_t)b;
    const int32_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    if (a == b && a == INT32_MIN) {
        return INT32_MAX;
    }
    /* Division truncates toward zero, as in gemmlowp (not an arithmetic shift). */
    return (int32_t)((ab + nudge) / (1LL << 31));
}

static inline int32_t el_rdbpot_body(int32_t x, int exponent)
{
    int32_t mask, remainder, threshold;
    if (exponent > 31) {
        return 0; /* |x| / 2^32 < 1/2 */
    }
    mask = (int32_t)((1LL << exponent) - 1);
    remainder = x & mask;
    threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define EL_SRDHM el_srdhm_body
#define EL_RDBPOT el_rdbpot_body
#else
#define EL_SRDHM el_srdhm
#define EL_RDBPOT el_rdbpot
#endif
/* SaturatingRoundingMultiplyByPOT: exponent > 0 saturating left shift, < 0 rounding right. */
int32_t el_srmbpot(int32_t x, int exponent);

/* The requantize used by every kernel: MultiplyByQuantizedMultiplier (double rounding). */
static inline int32_t el_requant(int32_t x, int32_t multiplier, int shift)
{
    /* Shifts beyond 31 only come from absurd scale ratios (TFLite's behaviour is undefined
     * there); clamping keeps the C defined. */
    const int left = shift > 0 ? (shift < 31 ? shift : 31) : 0;
    const int right = shift > 0 ? 0 : -shift;
    /* x << left in unsigned math: TFLite's x * (1 << left) wraps the same way on every
     * two's-complement target and our compilers must not see it as UB. */
    return EL_RDBPOT(EL_SRDHM((int32_t)((uint32_t)x << left), multiplier), right);
}

/* MultiplyByQuantizedMultiplier for int64 accumulators (int16x8 conv/fc): the multiplier is
 * reduced to 16 bits first, exactly as TFLite does. Requires -31 <= shift <= 7 (prepare
 * checks, as TFLite does). TFLite's domain is |x| < 2^47 (beyond it its product overflows);
 * x outside is clamped to it so the C stays defined. */
int32_t el_requant64(int64_t x, int32_t multiplier, int shift);

/* An int64 bias as the int16x8 kernels add it to their accumulator: clamped to el_requant64's
 * domain, so the sum cannot overflow int64 (a model's bias can hold any value; fuzzing found
 * it). In-range biases are unchanged. */
static inline int64_t el_bias64(int64_t b)
{
    const int64_t lim = (int64_t)1 << 47;
    return b < -lim ? -lim : (b > lim - 1 ? lim - 1 : b);
}

/* What an int16x8 CONV_2D / DEPTHWISE_CONV_2D / TRANSPOSE_CONV makes of channel c's exact
 * int64 sum, before the activation clamp: plus the bias (int64 when bias64, clamped as
 * el_bias64; else int32; none when NULL), then TFLite's requantize: in 64 bits when `wide`,
 * else on the sum wrapped to 32 bits (TFLite accumulates in the bias type: an int32 bias keeps
 * an int32 sum). The reference kernels and kernels/opt/conv_s16.c share it. */
static inline int32_t el_requant_s16(int64_t acc, const void *bias, int bias64, int wide, int32_t c,
                                     int32_t multiplier, int shift)
{
    if (bias) {
        acc += bias64 ? el_bias64(((const int64_t *)bias)[c]) : (int64_t)((const int32_t *)bias)[c];
    }
    return wide ? el_requant64(acc, multiplier, shift)
                : el_requant((int32_t)(uint32_t)(uint64_t)acc, multiplier, shift);
}

/* MultiplyByQuantizedMultiplierSmallerThanOneExp (left_shift <= 0). */
static inline int32_t el_requant_lt1(int32_t x, int32_t multiplier, int left_shift)
{
    return EL_RDBPOT(EL_SRDHM(x, multiplier), -left_shift);
}

/* MultiplyByQuantizedMultiplierGreaterThanOne (left_shift >= 0). */
static inline int32_t el_requant_gt1(int32_t x, int32_t multiplier, int left_shift)
{
    return EL_SRDHM((int32_t)((uint32_t)x << (left_shift < 31 ? left_shift : 31)), multiplier);
}

static inline int32_t el_clamp_i32(int32_t x, int32_t lo, int32_t hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Activation range of a fused activation on a quantized output
 * (CalculateActivationRangeQuantized). act: 0 none, 1 RELU, 2 RELU_N1_TO_1, 3 RELU6.
 * qmin/qmax: the storage type's limits. Returns 0 for an unsupported activation. */
int el_activation_range_quantized(int act, float scale, int32_t zero_point, int32_t qmin,
                                  int32_t qmax, int32_t *act_min, int32_t *act_max);
/* Float activation range (CalculateActivationRange). */
int el_activation_range_float(int act, float *act_min, float *act_max);

/* ---- gemmlowp fixed point on int32 raws ------------------------------------------- */

/* exp(x) for x <= 0; input has `integer_bits` integer bits, result has 0 (Q0.31). */
int32_t el_fx_exp_on_negative_values(int32_t a, int integer_bits);
/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out. */
int32_t el_fx_one_over_one_plus_x(int32_t a);
/* logistic(x) and tanh(x): input with `integer_bits` integer bits, Q0.31 out. */
int32_t el_fx_logistic(int32_t a, int integer_bits);
int32_t el_fx_tanh(int32_t a, int integer_bits);
/* GetReciprocal: 1/x for x with `x_integer_bits`; returns Q0.31 scale and the extra bits. */
int32_t el_fx_reciprocal(int32_t x, int x_integer_bits, int *num_bits_over_unit);
/* log(x) for x >= 1 (TFLite's log_x_for_x_greater_than_or_equal_to_1): input with
 * `input_integer_bits`, result with `output_integer_bits` integer bits. */
int32_t el_fx_log_x_ge_1(int32_t a, int input_integer_bits, int output_integer_bits);
/* GetInvSqrtQuantizedMultiplierExp: 1/sqrt(input) as a multiplier and shift (the shift
 * multiplied by reverse_shift, -1 for a left-shift convention), Newton-Raphson in fixed
 * point. input >= 0. */
void el_inv_sqrt_multiplier(int32_t input, int reverse_shift, int32_t *multiplier, int *shift);
/* Count of leading zero bits of a uint32 (32 for 0). */
int el_clz32(uint32_t x);

#ifdef __cplusplus
}
#endif
#endif
