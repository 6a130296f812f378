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
    __m256i bias, mult, mult_odd, left, right, mask, half, right1; /* right1: right - 1 */
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
    ch.right1 = _mm256_max_epi32(_mm256_sub_epi32(ch.right, one), zero);
    return ch;
}

/* One multiplier and shift for every lane (ADD / SUB / MUL's per-tensor requantizations). */
EL_AVX2 static inline rq8_ch rq8_uniform(int32_t mult, int32_t shift)
{
    const __m256i zero = _mm256_setzero_si256(), one = _mm256_set1_epi32(1);
    rq8_ch ch;
    ch.bias = zero;
    ch.mult = _mm256_set1_epi32(mult);
    ch.mult_odd = ch.mult;
    ch.left = _mm256_set1_epi32(shift > 0 ? shift : 0);
    ch.right = _mm256_set1_epi32(shift > 0 ? 0 : -shift);
    ch.mask = _mm256_sub_epi32(_mm256_sllv_epi32(one, ch.right), one);
    ch.half = _mm256_srli_epi32(ch.mask, 1);
    ch.right1 = _mm256_max_epi32(_mm256_sub_epi32(ch.right, one), zero);
    return ch;
}

/* 1 when channels [c, c + n) all shift right by at least 1 (requant8_rs applies). */
static inline int rq_right_only(const el_opt_rq *rq, int32_t c, int32_t n)
{
    int32_t j;
    for (j = c; j < c + n; ++j) {
        if (rq->shift[j] > -1) {
            return 0;
        }
    }
    return 1;
}

/* floor((v * m + 2^30) / 2^31), the doubling high multiply (see above) */
EL_AVX2 static inline __m256i srdhm8(__m256i v, const rq8_ch *ch)
{
    const __m256i nudge = _mm256_set1_epi64x((long long)1 << 30);
    const __m256i pe = _mm256_add_epi64(_mm256_mul_epi32(v, ch->mult), nudge);
    const __m256i po =
        _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(v, 32), ch->mult_odd), nudge);
    return _mm256_blend_epi32(_mm256_srli_epi64(pe, 31), _mm256_slli_epi64(po, 1), 0xAA);
}

/* requant(v) without the bias (ch->bias unused): for accumulators that started at it. */
EL_AVX2 static inline __m256i requant8_nb(__m256i v, const rq8_ch *ch)
{
    const __m256i h = srdhm8(_mm256_sllv_epi32(v, ch->left), ch);
    /* RoundingDivideByPOT(h, right): threshold = mask / 2 + (h < 0) */
    const __m256i thr = _mm256_sub_epi32(ch->half, _mm256_srai_epi32(h, 31));
    const __m256i res = _mm256_srav_epi32(h, ch->right);
    return _mm256_sub_epi32(res, _mm256_cmpgt_epi32(_mm256_and_si256(h, ch->mask), thr));
}

/* requant8_nb when every lane shifts right by r >= 1: RoundingDivideByPOT(h, r) =
 * ceil(t / 2) = t - (t >> 1) with t = (h - (h < 0)) >> (r - 1), i.e. floor((h - (h < 0) +
 * 2^(r-1)) / 2^r), without an add that could overflow; h - 1 does not wrap (h >= -2^31 + 1
 * for a multiplier >= 0). */
EL_AVX2 static inline __m256i requant8_rs(__m256i v, const rq8_ch *ch)
{
    const __m256i h = srdhm8(v, ch);
    const __m256i t = _mm256_srav_epi32(_mm256_add_epi32(h, _mm256_srai_epi32(h, 31)), ch->right1);
    return _mm256_sub_epi32(t, _mm256_srai_epi32(t, 1));
}

/* fast: a constant of the caller (requant8_rs's condition held) */
EL_AVX2 static inline __attribute__((always_inline)) __m256i requant8_f(__m256i v, const rq8_ch *ch,
                                                                        const int fast)
{
    return fast ? requant8_rs(v, ch) : requant8_nb(v, ch);
}

EL_AVX2 static inline __m256i requant8(__m256i v, const rq8_ch *ch)
{
    return requant8_nb(_mm256_add_epi32(v, ch->bias), ch);
}

#endif
