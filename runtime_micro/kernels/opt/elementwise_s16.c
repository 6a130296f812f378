/* Optimized int16 ADD / SUB / MUL (TFLite's int16 arithmetic, zero points 0) on x86 AVX2, for
 * operands of the output's shape or a single value (a constant offset or scale). The
 * reference (reference/elementwise.c) spends ~10 ns per element there: three requantizations
 * per element for ADD, each a 64-bit multiply and rounding branches. Here 8 lanes at a time,
 * with the requantization of x86_avx2_rq.h (bit-exact with el_requant for multipliers >= 0
 * and shifts within [-31, 31]: anything else goes to the reference), the last elements by the
 * same scalar formulas as the reference. */
#include "../el_quant.h"
#include "opt_internal.h"

#if defined(EL_OPT_HAVE_AVX2)
#include <immintrin.h>

#include "x86_avx2_rq.h"

/* op: 0 ADD, 1 SUB, 2 MUL. One element by the scalar arithmetic of the int8 kernels (the same
 * formulas at int16's left shift; multipliers >= 0, as el_opt_binary_s16 checks). */
static int16_t binary1(const el_arith_params *p, int op, int32_t a, int32_t b)
{
    int32_t o;
    if (op != 2) {
        return (int16_t)el_opt_addsub1(p, op, a, b);
    }
    o = el_opt_requant1((a + p->input1_offset) * (b + p->input2_offset), p->output_multiplier,
                        p->output_shift) +
        p->output_offset;
    return (int16_t)el_clamp_i32(o, p->act_min, p->act_max);
}

/* 8 elements from a (step 1, or a single value repeated when its step is 0) as int32 lanes */
EL_AVX2 static inline __m256i load8(const int16_t *x, int32_t i, int32_t step)
{
    return step ? _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(const void *)(x + i)))
                : _mm256_set1_epi32(x[0]);
}

/* n outputs; sa / sb: 1 where the operand has the output's shape, 0 for a single value */
EL_AVX2 static void binary_avx2(const el_arith_params *p, int op, int32_t n, const int16_t *a,
                                int32_t sa, const int16_t *b, int32_t sb, int16_t *out)
{
    const rq8_ch c1 = rq8_uniform(p->input1_multiplier, p->input1_shift);
    const rq8_ch c2 = rq8_uniform(p->input2_multiplier, p->input2_shift);
    const rq8_ch co = rq8_uniform(p->output_multiplier, p->output_shift);
    const __m256i off1 = _mm256_set1_epi32(p->input1_offset);
    const __m256i off2 = _mm256_set1_epi32(p->input2_offset);
    const __m256i ooff = _mm256_set1_epi32(p->output_offset);
    const __m256i lo = _mm256_set1_epi32(p->act_min), hi = _mm256_set1_epi32(p->act_max);
    const __m128i ls = _mm_cvtsi32_si128(p->left_shift);
    int32_t i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256i x1 = _mm256_add_epi32(load8(a, i, sa), off1);
        const __m256i x2 = _mm256_add_epi32(load8(b, i, sb), off2);
        __m256i r;
        if (op == 2) {
            r = requant8_nb(_mm256_mullo_epi32(x1, x2), &co);
        } else {
            const __m256i r1 = requant8_nb(_mm256_sll_epi32(x1, ls), &c1);
            const __m256i r2 = requant8_nb(_mm256_sll_epi32(x2, ls), &c2);
            r = requant8_nb(op ? _mm256_sub_epi32(r1, r2) : _mm256_add_epi32(r1, r2), &co);
        }
        r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, ooff), lo), hi);
        _mm_storeu_si128(
            (__m128i *)(void *)(out + i),
            _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1)));
    }
    for (; i < n; ++i) {
        out[i] = binary1(p, op, a[sa ? i : 0], b[sb ? i : 0]);
    }
}
static int rq_ok(int32_t mult, int32_t shift)
{
    return mult >= 0 && shift >= -31 && shift <= 31;
}

/* 1: the operand covers the output (same dims), 0: a single value, -1: any other broadcast */
static int operand_step(const el_shape *s, const el_shape *so)
{
    int32_t d, n = 1, same = s->rank == so->rank;
    for (d = 0; d < s->rank; ++d) {
        n *= s->d[d];
        same = same && s->d[d] == so->d[d];
    }
    return same ? 1 : (n == 1 ? 0 : -1);
}

int el_opt_binary_s16(uint32_t isa, int op, const el_arith_params *p, const el_shape *s1,
                      const int16_t *in1, const el_shape *s2, const int16_t *in2,
                      const el_shape *so, int16_t *out)
{
    const int32_t sa = operand_step(s1, so), sb = operand_step(s2, so);
    int32_t d, n = 1;
    if (!(isa & EL_OPT_ON) || !(isa & EL_OPT_ISA_AVX2) || sa < 0 || sb < 0 || op < 0 || op > 2 ||
        !rq_ok(p->output_multiplier, p->output_shift) ||
        (op != 2 && (!rq_ok(p->input1_multiplier, p->input1_shift) ||
                     !rq_ok(p->input2_multiplier, p->input2_shift) || p->left_shift < 0 ||
                     p->left_shift > 31))) {
        return 0;
    }
    for (d = 0; d < so->rank; ++d) {
        n *= so->d[d];
    }
    binary_avx2(p, op, n, in1, sa, in2, sb, out);
    return 1;
}

#else

int el_opt_binary_s16(uint32_t isa, int op, const el_arith_params *p, const el_shape *s1,
                      const int16_t *in1, const el_shape *s2, const int16_t *in2,
                      const el_shape *so, int16_t *out)
{
    (void)isa, (void)op, (void)p, (void)s1, (void)in1, (void)s2, (void)in2, (void)so, (void)out;
    return 0; /* other CPUs: the reference */
}

#endif
