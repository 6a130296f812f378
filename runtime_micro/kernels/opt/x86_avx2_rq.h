/* AVX2 requantization shared by x86_avx2.c and x86_avx2_fused.c (internal to kernels/opt;
 * include only where EL_OPT_HAVE_AVX2 is defined, after <immintrin.h>).
 *
 * el_requant on 8 lanes (multipliers >= 0), the per-channel parts prepared once for all rows.
 * SaturatingRoundingDoublingHighMul with a non-negative multiplier equals
 * floor((v * m + 2^30) / 2^31) for either sign of v (the negative nudge and the truncating
 * division cancel), which needs only 64-bit adds and shifts. */
#ifndef EL_OPT_X86_AVX2_RQ_H
#define EL_OPT_X86_AVX2_RQ_H

#define EL_AVX2 __attribute__((target("avx2")))

typedef struct {
    __m256i bias, mult, mult_odd, left, right, mask, half;
} rq8_ch;

EL_AVX2 static inline rq8_ch rq8_prepare(const el_opt_rq *rq, int32_t c)
{
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    const __m256i shift = _mm256_loadu_si256((const __m256i *)(const void *)(rq->shift + c));
    rq8_ch ch;
    ch.bias = _mm256_loadu_si256((const __m256i *)(const void *)(rq->bias + c));
    ch.mult = _mm256_loadu_si256((const __m256i *)(const void *)(rq->mult + c));
    ch.mult_odd = _mm256_srli_epi64(ch.mult, 32);
    ch.left = _mm256_max_epi32(shift, zero);
    ch.right = _mm256_max_epi32(_mm256_sub_epi32(zero, shift), zero);
    ch.mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, ch.right), one);
    ch.half = _mm256_srli_epi32(ch.mask, 1);
    return ch;
}

/* requant(v) without the bias (ch->bias unused): for accumulators that started at it. */
EL_AVX2 static inline __m256i requant8_nb(__m256i v, const rq8_ch *ch)
{
    const __m256i nudge = _mm256_set1_epi64x((long long)1 << 30);
    __m256i pe, po, h, thr, res;
    v = _mm256_sllv_epi32(v, ch->left);
    pe = _mm256_add_epi64(_mm256_mul_epi32(v, ch->mult), nudge);
    po = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), ch->mult_odd), nudge);
    h = _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
    /* RoundingDivideByPOT(h, right): threshold = mask / 2 + (h < 0) */
    thr = _mm256_sub_epi32(ch->half, _mm256_srai_epi32(h, 31));
    res = _mm256_srav_epi32(h, ch->right);
    return _mm256_sub_epi32(res, _mm256_cmpgt_epi32(_mm256_and_si256(h, ch->mask), thr));
}

EL_AVX2 static inline __m256i requant8(__m256i v, const rq8_ch *ch)
{
    return requant8_nb(_mm256_add_epi32(v, ch->bias), ch);
}

#endif
