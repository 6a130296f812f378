/* x86-64 SSE4.1 building blocks, for CPUs without AVX2 (chosen at run time by opt_dispatch.c;
 * each function is compiled for SSE4.1 alone with a target attribute, so the library still runs
 * on any x86-64).
 *
 * Products as in x86_avx2.c on 128-bit vectors: int8 widened to int16 (PMOVSXBW), PMADDWD sums
 * pairs into int32 (|a*b + c*d| <= 2^15: exact). Requantization uses PMULDQ (SSE4.1's signed
 * 32x32->64 multiply) when the four channels of a vector share one shift (SSE has no per-lane
 * variable shifts), and the scalar form otherwise. */
#include <string.h>

#include "gemm_tiles.h"
#include "opt_internal.h"

#if defined(EL_OPT_HAVE_SSE41)
#include <smmintrin.h>

#include "../el_quant.h"

#define EL_SSE41 __attribute__((target("sse4.1")))

EL_SSE41 static inline __m128i ld8w(const int8_t *p)
{
    return _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)p));
}

/* [sum a, sum b, sum c, sum d] */
EL_SSE41 static inline __m128i hsum4(__m128i a, __m128i b, __m128i c, __m128i d)
{
    return _mm_hadd_epi32(_mm_hadd_epi32(a, b), _mm_hadd_epi32(c, d));
}

/* 4 rows x 2 columns, r[i * 2 + j]; 8 bytes of k per step. */
EL_SSE41 static void tile4x2(const int8_t *const *a, const int8_t *b0, const int8_t *b1, int32_t k,
                             int32_t *r)
{
    const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    __m128i s00 = _mm_setzero_si128(), s01 = s00, s10 = s00, s11 = s00;
    __m128i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    int32_t kk;
    for (kk = 0; kk + 8 <= k; kk += 8) {
        const __m128i w0 = ld8w(b0 + kk), w1 = ld8w(b1 + kk);
        __m128i x = ld8w(a0 + kk);
        s00 = _mm_add_epi32(s00, _mm_madd_epi16(x, w0));
        s01 = _mm_add_epi32(s01, _mm_madd_epi16(x, w1));
        x = ld8w(a1 + kk);
        s10 = _mm_add_epi32(s10, _mm_madd_epi16(x, w0));
        s11 = _mm_add_epi32(s11, _mm_madd_epi16(x, w1));
        x = ld8w(a2 + kk);
        s20 = _mm_add_epi32(s20, _mm_madd_epi16(x, w0));
        s21 = _mm_add_epi32(s21, _mm_madd_epi16(x, w1));
        x = ld8w(a3 + kk);
        s30 = _mm_add_epi32(s30, _mm_madd_epi16(x, w0));
        s31 = _mm_add_epi32(s31, _mm_madd_epi16(x, w1));
    }
    _mm_storeu_si128((__m128i *)(void *)r, hsum4(s00, s01, s10, s11));
    _mm_storeu_si128((__m128i *)(void *)(r + 4), hsum4(s20, s21, s30, s31));
    el_tile4x2_tail(a, b0, b1, kk, k, r);
}

EL_SSE41 void el_opt_gemm_sse41(int32_t m, int32_t n, int32_t k, const int8_t *const *a,
                                const int8_t *b, int32_t ldb, const int32_t *bsum, int32_t *c,
                                int32_t ldc)
{
    (void)bsum;
    el_gemm_tiles(tile4x2, NULL, m, n, k, a, b, ldb, c, ldc);
}

/* Two taps per PMADDWD: (x[t], x[t+1]) and (f[t], f[t+1]) interleaved per channel. */
EL_SSE41 void el_opt_dw_sse41(int32_t taps, const int8_t *const *x, const int8_t *f,
                              int32_t fstride, int32_t n, int32_t *acc)
{
    int32_t c = 0, t;
    for (; c + 8 <= n; c += 8) {
        __m128i lo = _mm_setzero_si128(), hi = lo;
        for (t = 0; t < taps; t += 2) {
            const int two = t + 1 < taps;
            const __m128i x0 = _mm_loadl_epi64((const __m128i *)(const void *)(x[t] + c));
            const __m128i f0 =
                _mm_loadl_epi64((const __m128i *)(const void *)(f + (size_t)t * fstride + c));
            const int8_t *x1p = two ? x[t + 1] + c : NULL;
            const int8_t *f1p = two ? f + (size_t)(t + 1) * fstride + c : NULL;
            const __m128i x1 =
                x1p ? _mm_loadl_epi64((const __m128i *)(const void *)x1p) : _mm_setzero_si128();
            const __m128i f1 =
                f1p ? _mm_loadl_epi64((const __m128i *)(const void *)f1p) : _mm_setzero_si128();
            const __m128i xi = _mm_unpacklo_epi8(x0, x1), fi = _mm_unpacklo_epi8(f0, f1);
            lo = _mm_add_epi32(lo, _mm_madd_epi16(_mm_cvtepi8_epi16(xi), _mm_cvtepi8_epi16(fi)));
            hi = _mm_add_epi32(hi, _mm_madd_epi16(_mm_cvtepi8_epi16(_mm_srli_si128(xi, 8)),
                                                  _mm_cvtepi8_epi16(_mm_srli_si128(fi, 8))));
        }
        _mm_storeu_si128((__m128i *)(void *)(acc + c), lo);
        _mm_storeu_si128((__m128i *)(void *)(acc + c + 4), hi);
    }
    for (; c < n; ++c) {
        int32_t s = 0;
        for (t = 0; t < taps; ++t) {
            s += (int32_t)x[t][c] * f[(size_t)t * fstride + c];
        }
        acc[c] = s;
    }
}

/* el_requant on 4 lanes sharing one shift (multipliers >= 0), as x86_avx2.c's requant8:
 * SaturatingRoundingDoublingHighMul = floor((v * m + 2^30) / 2^31) in 64-bit lanes, then
 * RoundingDivideByPOT with the reference's mask / threshold. */
EL_SSE41 static inline __m128i requant4(__m128i v, __m128i mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const __m128i nudge = _mm_set1_epi64x((long long)1 << 30);
    const __m128i mask = _mm_set1_epi32((int32_t)(((int64_t)1 << right) - 1));
    __m128i pe, po, h, thr;
    v = _mm_sll_epi32(v, _mm_cvtsi32_si128(left));
    pe = _mm_add_epi64(_mm_mul_epi32(v, mult), nudge);
    po = _mm_add_epi64(_mm_mul_epi32(_mm_srli_epi64(v, 32), _mm_srli_epi64(mult, 32)), nudge);
    h = _mm_blend_epi16(_mm_srli_epi64(pe, 31), _mm_slli_epi64(po, 1), 0xCC);
    thr = _mm_sub_epi32(_mm_srli_epi32(mask, 1), _mm_srai_epi32(h, 31));
    return _mm_sub_epi32(_mm_sra_epi32(h, _mm_cvtsi32_si128(right)),
                         _mm_cmpgt_epi32(_mm_and_si128(h, mask), thr));
}

/* rq advanced to channel c (for the scalar requantization of some channels) */
static el_opt_rq rq_from(const el_opt_rq *rq, int32_t c)
{
    el_opt_rq r = *rq;
    r.bias += c;
    r.mult += c;
    r.shift += c;
    return r;
}

EL_SSE41 void el_opt_requant_sse41(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                                   int32_t ldacc, int8_t *out, int32_t ldout)
{
    const __m128i off = _mm_set1_epi32(rq->out_offset);
    const __m128i lo = _mm_set1_epi32(rq->act_min), hi = _mm_set1_epi32(rq->act_max);
    int32_t c = 0, i;
    for (; c + 4 <= n; c += 4) {
        const int32_t *sh = rq->shift + c;
        __m128i bias, mult;
        if (sh[1] != sh[0] || sh[2] != sh[0] || sh[3] != sh[0]) {
            const el_opt_rq sub = rq_from(rq, c);
            el_opt_requant_c(&sub, m, 4, acc + c, ldacc, out + c, ldout);
            continue;
        }
        bias = _mm_loadu_si128((const __m128i *)(const void *)(rq->bias + c));
        mult = _mm_loadu_si128((const __m128i *)(const void *)(rq->mult + c));
        for (i = 0; i < m; ++i) {
            const __m128i a =
                _mm_loadu_si128((const __m128i *)(const void *)(acc + (size_t)i * ldacc + c));
            __m128i r = _mm_add_epi32(requant4(_mm_add_epi32(a, bias), mult, sh[0]), off);
            r = _mm_min_epi32(_mm_max_epi32(r, lo), hi);
            r = _mm_packs_epi32(r, r);
            r = _mm_packs_epi16(r, r);
            {
                const int32_t four = _mm_cvtsi128_si32(r);
                memcpy(out + (size_t)i * ldout + c, &four, 4);
            }
        }
    }
    if (c < n) {
        const el_opt_rq sub = rq_from(rq, c);
        el_opt_requant_c(&sub, m, n - c, acc + c, ldacc, out + c, ldout);
    }
}

#else
/* ISO C forbids an empty translation unit. */
typedef int el_opt_x86_sse41_unused;
#endif
