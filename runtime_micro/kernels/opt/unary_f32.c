/* float32 elementwise activations in vectors (hosted CPUs): RELU, RELU6, RELU_N1_TO_1,
 * RELU_0_TO_1, LEAKY_RELU, HARD_SWISH, NEG, ABS, SQUARE, LOGISTIC, TANH, EXP. The reference's loop
 * (el_unary_f32) tests the op for every element and does not vectorize: MediaPipe's selfie
 * segmentation spent 1.1 ms in one RELU and 2.1 ms in one HARD_SWISH of 262,144 elements.
 *
 * The same bits as the reference, NaN and signed zeros included: x86's MAXPS(a, b) is
 * (a > b ? a : b) and MINPS(a, b) is (a < b ? a : b), which is how the reference's comparisons
 * read (RELU: x > 0 ? x : 0 is MAX(x, 0); RELU6: x < 0 ? 0 : (x > 6 ? 6 : x) is MIN(6, MAX(0,
 * x))), NEON's FMAX / FMIN differ on NaN and zeros, so there the comparisons themselves select;
 * HARD_SWISH adds 3, clamps (a NaN sum clamps to 0, as fmaxf does), multiplies by x and divides
 * by 6 as the reference does.
 *
 * LOGISTIC, TANH and EXP (libm's expf / tanhf per element in the reference: the selfie model's
 * LOGISTIC of 65,536 elements took 0.6 ms) with an exp of its own: e^x in double lanes (range
 * reduction by ln 2, a degree-11 polynomial, 2^n by the exponent bits) rounded once to float,
 * so correctly rounded but for rare ties; LOGISTIC keeps the reference's branches and its float
 * 1 / (1 + e^-x), TANH is 1 - 2 / (e^2|x| + 1) in double (a series below 1/16) with x's sign.
 * Not the reference's bits (libm's are not correctly rounded either): within 2 ulps of it
 * (tests/opt/test_opt_unary.c), equal on all but ~1e-4 of the values for LOGISTIC and EXP,
 * infinities, zeros, NaNs and subnormal results where the reference puts them. The other
 * transcendental ops (GELU, ELU, LOG, SIN, ...) stay in the reference's loop. Hosted CPUs
 * only: on a microcontroller this would be the reference's loop again. */
#include "el_opt.h"

#include <string.h>

#include "opt_internal.h"

#if defined(__x86_64__) || defined(__aarch64__)

#if defined(__x86_64__)
#include <immintrin.h>
#else
#include <arm_neon.h>
#endif

/* Scalar forms of the vector selections, for the tail. */
static float max_s(float a, float b)
{
    return a > b ? a : b;
}

static float min_s(float a, float b)
{
    return a < b ? a : b;
}

static float one_s(el_unary_op op, float alpha, float x)
{
    switch (op) {
    case EL_UN_RELU:
        return max_s(x, 0.0f);
    case EL_UN_RELU6:
        return min_s(6.0f, max_s(0.0f, x));
    case EL_UN_RELU_N1_TO_1:
        return min_s(1.0f, max_s(-1.0f, x));
    case EL_UN_RELU_0_TO_1:
        return min_s(1.0f, max_s(0.0f, x));
    case EL_UN_LEAKY_RELU:
        return x > 0.0f ? x : x * alpha;
    case EL_UN_HARD_SWISH:
        return x * min_s(max_s(x + 3.0f, 0.0f), 6.0f) / 6.0f;
    case EL_UN_NEG:
        return -x;
    case EL_UN_ABS: {
        uint32_t b;
        memcpy(&b, &x, sizeof b);
        b &= 0x7FFFFFFFu; /* fabsf: the sign bit cleared, NaN payloads kept */
        memcpy(&x, &b, sizeof b);
        return x;
    }
    default: /* EL_UN_SQUARE */
        return x * x;
    }
}

/* One loop per instruction set, from unary_f32_body.h. */
#if defined(__x86_64__)
/* SSE2: every x86-64 CPU */
#define U_ATTR
#define U_FN(x) x##_sse2
#define V __m128
#define N 4
#define LD _mm_loadu_ps
#define ST _mm_storeu_ps
#define SET1 _mm_set1_ps
#define MAXV _mm_max_ps
#define MINV _mm_min_ps
#define ADD _mm_add_ps
#define MUL _mm_mul_ps
#define DIV _mm_div_ps
#define SELGT(x, t, a, b)                                                                          \
    _mm_or_ps(_mm_and_ps(_mm_cmpgt_ps(x, t), a), _mm_andnot_ps(_mm_cmpgt_ps(x, t), b))
#define NEGV(x) _mm_xor_ps(x, _mm_set1_ps(-0.0f))
#define ABSV(x) _mm_andnot_ps(_mm_set1_ps(-0.0f), x)
#define COPYSIGNV(m, x) _mm_or_ps(m, _mm_and_ps(x, _mm_set1_ps(-0.0f)))
#define D __m128d
#define DSET1 _mm_set1_pd
#define DADD _mm_add_pd
#define DSUB _mm_sub_pd
#define DMUL _mm_mul_pd
#define DFMA(a, b, c) _mm_add_pd(_mm_mul_pd(a, b), c)
#define DDIV _mm_div_pd
#define DMAXN _mm_max_pd /* (a > b ? a : b) */
#define DMINN _mm_min_pd /* (a < b ? a : b) */
#define DSELLT(a, t, p, q)                                                                         \
    _mm_or_pd(_mm_and_pd(_mm_cmplt_pd(a, t), p), _mm_andnot_pd(_mm_cmplt_pd(a, t), q))
#define DLO(x) _mm_cvtps_pd(x)
#define DHI(x) _mm_cvtps_pd(_mm_movehl_ps(x, x))
#define DPACK(lo, hi) _mm_movelh_ps(_mm_cvtpd_ps(lo), _mm_cvtpd_ps(hi))
#define DPOW2(k)                                                                                   \
    _mm_castsi128_pd(_mm_slli_epi64(_mm_add_epi64(_mm_castpd_si128(k), _mm_set1_epi64x(1023)), 52))
#include "unary_f32_body.h"

#if defined(EL_OPT_HAVE_AVX2)
/* (the AVX2 level comes with FMA, which only the transcendental ops use: DFMA; the bit-exact
 * ones are separate multiplies and adds, never contracted in C99 mode) */
#define U_ATTR __attribute__((target("avx2,fma")))
#define U_FN(x) x##_avx2
#define V __m256
#define N 8
#define LD _mm256_loadu_ps
#define ST _mm256_storeu_ps
#define SET1 _mm256_set1_ps
#define MAXV _mm256_max_ps
#define MINV _mm256_min_ps
#define ADD _mm256_add_ps
#define MUL _mm256_mul_ps
#define DIV _mm256_div_ps
#define SELGT(x, t, a, b) _mm256_blendv_ps(b, a, _mm256_cmp_ps(x, t, _CMP_GT_OQ))
#define NEGV(x) _mm256_xor_ps(x, _mm256_set1_ps(-0.0f))
#define ABSV(x) _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x)
#define COPYSIGNV(m, x) _mm256_or_ps(m, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)))
#define D __m256d
#define DSET1 _mm256_set1_pd
#define DADD _mm256_add_pd
#define DSUB _mm256_sub_pd
#define DMUL _mm256_mul_pd
#define DFMA _mm256_fmadd_pd
#define DDIV _mm256_div_pd
#define DMAXN _mm256_max_pd
#define DMINN _mm256_min_pd
#define DSELLT(a, t, p, q) _mm256_blendv_pd(q, p, _mm256_cmp_pd(a, t, _CMP_LT_OQ))
#define DLO(x) _mm256_cvtps_pd(_mm256_castps256_ps128(x))
#define DHI(x) _mm256_cvtps_pd(_mm256_extractf128_ps(x, 1))
#define DPACK(lo, hi)                                                                              \
    _mm256_insertf128_ps(_mm256_castps128_ps256(_mm256_cvtpd_ps(lo)), _mm256_cvtpd_ps(hi), 1)
#define DPOW2(k)                                                                                   \
    _mm256_castsi256_pd(                                                                           \
        _mm256_slli_epi64(_mm256_add_epi64(_mm256_castpd_si256(k), _mm256_set1_epi64x(1023)), 52))
#include "unary_f32_body.h"
#endif

#else /* aarch64 */
#define U_ATTR
#define U_FN(x) x##_neon
#define V float32x4_t
#define N 4
#define LD vld1q_f32
#define ST vst1q_f32
#define SET1 vdupq_n_f32
#define MAXV(a, b) vbslq_f32(vcgtq_f32(a, b), a, b)
#define MINV(a, b) vbslq_f32(vcltq_f32(a, b), a, b)
#define ADD vaddq_f32
#define MUL vmulq_f32
#define DIV vdivq_f32
#define SELGT(x, t, a, b) vbslq_f32(vcgtq_f32(x, t), a, b)
#define NEGV vnegq_f32
#define ABSV vabsq_f32
#define COPYSIGNV(m, x) vbslq_f32(vdupq_n_u32(0x80000000u), x, m)
#define D float64x2_t
#define DSET1 vdupq_n_f64
#define DADD vaddq_f64
#define DSUB vsubq_f64
#define DMUL vmulq_f64
#define DFMA(a, b, c) vfmaq_f64(c, a, b)
#define DDIV vdivq_f64
#define DMAXN vmaxq_f64 /* a NaN operand comes out */
#define DMINN vminq_f64
#define DSELLT(a, t, p, q) vbslq_f64(vcltq_f64(a, t), p, q)
#define DLO(x) vcvt_f64_f32(vget_low_f32(x))
#define DHI(x) vcvt_high_f64_f32(x)
#define DPACK(lo, hi) vcvt_high_f32_f64(vcvt_f32_f64(lo), hi)
#define DPOW2(k)                                                                                   \
    vreinterpretq_f64_s64(vshlq_n_s64(vaddq_s64(vreinterpretq_s64_f64(k), vdupq_n_s64(1023)), 52))
#include "unary_f32_body.h"
#endif

int el_opt_unary_f32(uint32_t isa, el_unary_op op, float alpha, int32_t n, const float *in,
                     float *out)
{
    int32_t i;
    if (!(isa & EL_OPT_ON))
        return 0;
    switch (op) {
    case EL_UN_LOGISTIC:
    case EL_UN_TANH:
    case EL_UN_EXP:
#if defined(__x86_64__)
#if defined(EL_OPT_HAVE_AVX2)
        if (isa & EL_OPT_ISA_AVX2)
            return unary_t_avx2(op, n, in, out) >= 0;
#endif
        return unary_t_sse2(op, n, in, out) >= 0;
#else
        return unary_t_neon(op, n, in, out) >= 0;
#endif
    case EL_UN_RELU:
    case EL_UN_RELU6:
    case EL_UN_RELU_N1_TO_1:
    case EL_UN_RELU_0_TO_1:
    case EL_UN_LEAKY_RELU:
    case EL_UN_HARD_SWISH:
    case EL_UN_NEG:
    case EL_UN_ABS:
    case EL_UN_SQUARE:
        break;
    default:
        return 0;
    }
#if defined(__x86_64__)
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2)
        i = unary_avx2(op, alpha, n, in, out);
    else
#endif
        i = unary_sse2(op, alpha, n, in, out);
#else
    i = unary_neon(op, alpha, n, in, out);
#endif
    for (; i < n; ++i)
        out[i] = one_s(op, alpha, in[i]);
    return 1;
}
#else
/* Microcontrollers run the reference's loop (activations_common.c does not call this). */
int el_opt_unary_f32(uint32_t isa, el_unary_op op, float alpha, int32_t n, const float *in,
                     float *out)
{
    (void)isa, (void)op, (void)alpha, (void)n, (void)in, (void)out;
    return 0;
}
#endif
