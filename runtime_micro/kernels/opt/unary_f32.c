/* float32 elementwise activations in vectors (hosted CPUs): RELU, RELU6, RELU_N1_TO_1,
 * RELU_0_TO_1, LEAKY_RELU, HARD_SWISH, NEG, ABS and SQUARE. The reference's loop
 * (el_unary_f32) tests the op for every element and does not vectorize: MediaPipe's selfie
 * segmentation spent 1.1 ms in one RELU and 2.1 ms in one HARD_SWISH of 262,144 elements.
 *
 * The same bits as the reference, NaN and signed zeros included: x86's MAXPS(a, b) is
 * (a > b ? a : b) and MINPS(a, b) is (a < b ? a : b), which is how the reference's comparisons
 * read (RELU: x > 0 ? x : 0 is MAX(x, 0); RELU6: x < 0 ? 0 : (x > 6 ? 6 : x) is MIN(6, MAX(0,
 * x))), NEON's FMAX / FMIN differ on NaN and zeros, so there the comparisons themselves select;
 * HARD_SWISH adds 3, clamps (a NaN sum clamps to 0, as fmaxf does), multiplies by x and divides
 * by 6 as the reference does. The transcendental ops (LOGISTIC, TANH, EXP, GELU, ...) stay in
 * the reference's loop. Hosted CPUs only: on a microcontroller this would be the reference's
 * loop again. */
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
#define U_FN unary_sse2
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
#include "unary_f32_body.h"

#if defined(EL_OPT_HAVE_AVX2)
#define U_ATTR __attribute__((target("avx2")))
#define U_FN unary_avx2
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
#include "unary_f32_body.h"
#endif

#else /* aarch64 */
#define U_ATTR
#define U_FN unary_neon
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
#include "unary_f32_body.h"
#endif

int el_opt_unary_f32(uint32_t isa, el_unary_op op, float alpha, int32_t n, const float *in,
                     float *out)
{
    int32_t i;
    if (!(isa & EL_OPT_ON))
        return 0;
    switch (op) {
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
