/* x86-64 AVX2 building blocks, compiled for AVX2 function by function (target attribute) so
 * the library still runs on any x86-64: opt_dispatch.c calls them only when the CPU has AVX2.
 *
 * Products: int8 widened to int16, vpmaddwd sums pairs into int32. |a*b + c*d| <= 2 * 128 *
 * 128 = 2^15 never overflows, so every sum is exact (pmaddubsw would saturate at int16). */
#include <string.h>

#include "gemm_tiles.h"
#include "opt_internal.h"

#if defined(EL_OPT_HAVE_AVX2)
#include <immintrin.h>

#include "../el_quant.h"
#include "x86_avx2_rq.h"

EL_AVX2 static inline __m256i ld16(const int8_t *p)
{
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)p));
}

EL_AVX2 static inline __m256i ld8(const int8_t *p)
{
    return _mm256_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)(const void *)p));
}

/* Four horizontal sums: [sum a, sum b, sum c, sum d]. */
EL_AVX2 static inline __m128i hsum4(__m256i a, __m256i b, __m256i c, __m256i d)
{
    const __m256i abcd = _mm256_hadd_epi32(_mm256_hadd_epi32(a, b), _mm256_hadd_epi32(c, d));
    return _mm_add_epi32(_mm256_castsi256_si128(abcd), _mm256_extracti128_si256(abcd, 1));
}

/* 4 rows x 2 columns; r[i * 2 + j]. */
EL_AVX2 static void tile4x2(const int8_t *const *a, const int8_t *b0, const int8_t *b1, int32_t k,
                            int32_t *r)
{
    const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00;
    __m256i s20 = s00, s21 = s00, s30 = s00, s31 = s00;
    int32_t kk;
    for (kk = 0; kk + 16 <= k; kk += 16) {
        const __m256i w0 = ld16(b0 + kk), w1 = ld16(b1 + kk);
        __m256i x = ld16(a0 + kk);
        s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(x, w0));
        s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(x, w1));
        x = ld16(a1 + kk);
        s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(x, w0));
        s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(x, w1));
        x = ld16(a2 + kk);
        s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(x, w0));
        s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(x, w1));
        x = ld16(a3 + kk);
        s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(x, w0));
        s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(x, w1));
    }
    if (kk + 8 <= k) { /* 8 more bytes: the upper 8 int16 lanes are zero */
        const __m256i w0 = ld8(b0 + kk), w1 = ld8(b1 + kk);
        __m256i x = ld8(a0 + kk);
        s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(x, w0));
        s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(x, w1));
        x = ld8(a1 + kk);
        s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(x, w0));
        s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(x, w1));
        x = ld8(a2 + kk);
        s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(x, w0));
        s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(x, w1));
        x = ld8(a3 + kk);
        s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(x, w0));
        s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(x, w1));
        kk += 8;
    }
    _mm_storeu_si128((__m128i *)(void *)r, hsum4(s00, s01, s10, s11));
    _mm_storeu_si128((__m128i *)(void *)(r + 4), hsum4(s20, s21, s30, s31));
    el_tile4x2_tail(a, b0, b1, kk, k, r);
}

/* 1 row x 4 columns (rows past the last 4-row tile: batch-1 FULLY_CONNECTED), c[j]. */
EL_AVX2 static void row1x4(const int8_t *x, const int8_t *b, int32_t ldb, int32_t k, int32_t *c)
{
    const int8_t *b0 = b, *b1 = b + ldb, *b2 = b + 2 * (size_t)ldb, *b3 = b + 3 * (size_t)ldb;
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    int32_t kk, j;
    for (kk = 0; kk + 16 <= k; kk += 16) {
        const __m256i v = ld16(x + kk);
        /* one line of the next 4 columns per 16 k (all 4 k bytes of them by the end): a
         * batch-1 FULLY_CONNECTED streams its whole filter once per invoke (1.28 MB in
         * MobileNetV2's classifier) as 4 short runs per call, too short for the hardware
         * prefetcher (MobileNetV2-0.35/96 int8, one thread: 9 to 19 % faster). Past the
         * filter's end it loads nothing: a prefetch never faults (an address, not a pointer
         * past the array). */
        _mm_prefetch((const char *)((uintptr_t)b + 4 * (size_t)ldb + 4 * (size_t)kk), _MM_HINT_T0);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(v, ld16(b0 + kk)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(v, ld16(b1 + kk)));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(v, ld16(b2 + kk)));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(v, ld16(b3 + kk)));
    }
    if (kk + 8 <= k) {
        const __m256i v = ld8(x + kk);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(v, ld8(b0 + kk)));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(v, ld8(b1 + kk)));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(v, ld8(b2 + kk)));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(v, ld8(b3 + kk)));
        kk += 8;
    }
    _mm_storeu_si128((__m128i *)(void *)c, hsum4(s0, s1, s2, s3));
    for (; kk < k; ++kk) {
        for (j = 0; j < 4; ++j) {
            c[j] += (int32_t)x[kk] * b[(size_t)j * ldb + kk];
        }
    }
}

EL_AVX2 void el_opt_gemm_avx2(int32_t m, int32_t n, int32_t k, const int8_t *const *a,
                              const int8_t *b, int32_t ldb, const int32_t *bsum, int32_t *c,
                              int32_t ldc)
{
    (void)bsum;
    el_gemm_tiles(tile4x2, row1x4, m, n, k, a, b, ldb, c, ldc);
}

EL_AVX2 void el_opt_dw_avx2(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride,
                            int32_t n, int32_t *acc)
{
    int32_t c = 0, t;
    for (; c + 16 <= n; c += 16) {
        __m256i lo = _mm256_setzero_si256(), hi = lo;
        /* Two taps per vpmaddwd: interleave (x[t], x[t+1]) and (f[t], f[t+1]) per channel. */
        for (t = 0; t + 2 <= taps; t += 2) {
            const __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)(x[t] + c));
            const __m128i x1 = _mm_loadu_si128((const __m128i *)(const void *)(x[t + 1] + c));
            const int8_t *fp = f + (size_t)t * fstride + c;
            const __m128i f0 = _mm_loadu_si128((const __m128i *)(const void *)fp);
            const __m128i f1 = _mm_loadu_si128((const __m128i *)(const void *)(fp + fstride));
            lo = _mm256_add_epi32(
                lo, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x0, x1)),
                                      _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(f0, f1))));
            hi = _mm256_add_epi32(
                hi, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpackhi_epi8(x0, x1)),
                                      _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(f0, f1))));
        }
        if (t < taps) {
            const __m128i z = _mm_setzero_si128();
            const __m128i x0 = _mm_loadu_si128((const __m128i *)(const void *)(x[t] + c));
            const __m128i f0 =
                _mm_loadu_si128((const __m128i *)(const void *)(f + (size_t)t * fstride + c));
            lo = _mm256_add_epi32(
                lo, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(x0, z)),
                                      _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(f0, z))));
            hi = _mm256_add_epi32(
                hi, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpackhi_epi8(x0, z)),
                                      _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(f0, z))));
        }
        _mm256_storeu_si256((__m256i *)(void *)(acc + c), lo);
        _mm256_storeu_si256((__m256i *)(void *)(acc + c + 8), hi);
    }
    for (; c < n; ++c) {
        int32_t s = 0;
        for (t = 0; t < taps; ++t) {
            s += (int32_t)x[t][c] * f[(size_t)t * fstride + c];
        }
        acc[c] = s;
    }
}

EL_AVX2 void el_opt_requant_avx2(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                                 int32_t ldacc, int8_t *out, int32_t ldout)
{
    const __m256i off = _mm256_set1_epi32(rq->out_offset);
    const __m256i lo = _mm256_set1_epi32(rq->act_min), hi = _mm256_set1_epi32(rq->act_max);
    int32_t c = 0, i;
    for (; c + 8 <= n; c += 8) {
        const rq8_ch ch = rq8_prepare(rq, c);
        for (i = 0; i < m; ++i) {
            const __m256i a =
                _mm256_loadu_si256((const __m256i *)(const void *)(acc + (size_t)i * ldacc + c));
            __m256i r = requant8(a, &ch);
            __m128i p16;
            r = _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, off), lo), hi);
            p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
            _mm_storel_epi64((__m128i *)(void *)(out + (size_t)i * ldout + c),
                             _mm_packs_epi16(p16, p16));
        }
    }
    for (; c < n; ++c) {
        for (i = 0; i < m; ++i) {
            const int32_t v =
                (int32_t)((uint32_t)acc[(size_t)i * ldacc + c] + (uint32_t)rq->bias[c]);
            const int32_t r = el_opt_requant1(v, rq->mult[c], rq->shift[c]) + rq->out_offset;
            out[(size_t)i * ldout + c] = (int8_t)el_clamp_i32(r, rq->act_min, rq->act_max);
        }
    }
}

EL_AVX2 void el_opt_add_avx2(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                             const int8_t *b, int8_t *out)
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
        const __m256i x1 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(a + i)));
        const __m256i x2 = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(b + i)));
        const __m256i r1 = requant8(_mm256_sll_epi32(_mm256_add_epi32(x1, off1), ls), &c1);
        const __m256i r2 = requant8(_mm256_sll_epi32(_mm256_add_epi32(x2, off2), ls), &c2);
        const __m256i raw = is_sub ? _mm256_sub_epi32(r1, r2) : _mm256_add_epi32(r1, r2);
        __m256i r = _mm256_add_epi32(requant8(raw, &co), ooff);
        __m128i p16;
        r = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
        p16 = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64((__m128i *)(void *)(out + i), _mm_packs_epi16(p16, p16));
    }
    for (; i < n; ++i) {
        out[i] = el_opt_add1(p, is_sub, a[i], b[i]);
    }
}

EL_AVX2 void el_opt_rowsum_avx2(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out)
{
    const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
    int32_t j, kk;
    for (j = 0; j < n; ++j) {
        const int8_t *w = b + (size_t)j * ldb;
        __m256i s = _mm256_setzero_si256();
        __m128i h;
        uint32_t t;
        /* 1 * b pairs into int16 (|sum| <= 256: no saturation), then pairs into int32 */
        for (kk = 0; kk + 32 <= k; kk += 32) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(w + kk));
            s = _mm256_add_epi32(s, _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, x), ones16));
        }
        h = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
        h = _mm_hadd_epi32(h, h);
        h = _mm_hadd_epi32(h, h);
        t = (uint32_t)_mm_cvtsi128_si32(h);
        for (; kk < k; ++kk) {
            t += (uint32_t)(int32_t)w[kk];
        }
        out[j] = (int32_t)t;
    }
}

/* ---- float32 conv / depthwise / fully connected (f32_body.h) ---- */
#include "x86_avx2_f32.h"

/* Row i of a tile: 16 accumulators in two vectors, from the init vector, the partial sums in c,
 * or zero; stored (clamped when last) for i < mr, nr columns. */
EL_AVX2F static inline void tile_load(const float *init, int32_t flags, const float *c, int32_t nr,
                                      __m256 *v0, __m256 *v1)
{
    float tmp[16];
    if (flags & EL_F32_FIRST) {
        *v0 = init ? _mm256_loadu_ps(init) : _mm256_setzero_ps();
        *v1 = init ? _mm256_loadu_ps(init + 8) : _mm256_setzero_ps();
        return;
    }
    if (nr == 16) {
        *v0 = _mm256_loadu_ps(c);
        *v1 = _mm256_loadu_ps(c + 8);
        return;
    }
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, c, (size_t)nr * sizeof(float));
    *v0 = _mm256_loadu_ps(tmp);
    *v1 = _mm256_loadu_ps(tmp + 8);
}

/* lanes < n set */
EL_AVX2F static inline __m256i tail_mask(int32_t n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

EL_AVX2F static inline void tile_store(__m256 v0, __m256 v1, int32_t flags, __m256 lo, __m256 hi,
                                       int32_t nr, float *c)
{
    if (flags & EL_F32_LAST) {
        v0 = clamp8(v0, lo, hi);
        v1 = clamp8(v1, lo, hi);
    }
    if (nr == 16) {
        _mm256_storeu_ps(c, v0);
        _mm256_storeu_ps(c + 8, v1);
        return;
    }
    if (nr >= 8) {
        _mm256_storeu_ps(c, v0);
        _mm256_maskstore_ps(c + 8, tail_mask(nr - 8), v1);
    } else {
        _mm256_maskstore_ps(c, tail_mask(nr), v0);
    }
}

/* 6 rows x 16 columns: 12 accumulators, two panel loads and six broadcasts per k. One row
 * (batch-1 FULLY_CONNECTED) has its own loop: the same operations per output. */
EL_AVX2F static void ftile_avx2(int32_t k, const float *const *a, const float *b, const float *init,
                                int32_t flags, float lo_f, float hi_f, float *c, int32_t ldc,
                                int32_t mr, int32_t nr)
{
    const __m256 lo = _mm256_set1_ps(lo_f), hi = _mm256_set1_ps(hi_f);
    __m256 c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51;
    int32_t kk;
    tile_load(init, flags, c, nr, &c00, &c01);
    if (mr == 1) {
        const float *a0 = a[0];
        for (kk = 0; kk < k; ++kk, b += 16) {
            const __m256 x = _mm256_broadcast_ss(a0 + kk);
            c00 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b), c00);
            c01 = _mm256_fmadd_ps(x, _mm256_loadu_ps(b + 8), c01);
        }
        tile_store(c00, c01, flags, lo, hi, nr, c);
        return;
    }
    tile_load(init, flags, c + (size_t)ldc, mr > 1 ? nr : 0, &c10, &c11);
    tile_load(init, flags, c + 2 * (size_t)ldc, mr > 2 ? nr : 0, &c20, &c21);
    tile_load(init, flags, c + 3 * (size_t)ldc, mr > 3 ? nr : 0, &c30, &c31);
    tile_load(init, flags, c + 4 * (size_t)ldc, mr > 4 ? nr : 0, &c40, &c41);
    tile_load(init, flags, c + 5 * (size_t)ldc, mr > 5 ? nr : 0, &c50, &c51);
    if (nr <= 8) {
        /* the columns fit one vector (a layer's last panel when its channels are 8 mod 16,
         * as most of MobileNetV2-0.35's; a transposed conv's few taps): half the
         * multiply-adds, the same ones for every stored output */
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
        for (kk = 0; kk < k; ++kk, b += 16) {
            const __m256 w0 = _mm256_loadu_ps(b);
            c00 = _mm256_fmadd_ps(_mm256_broadcast_ss(a0 + kk), w0, c00);
            c10 = _mm256_fmadd_ps(_mm256_broadcast_ss(a1 + kk), w0, c10);
            c20 = _mm256_fmadd_ps(_mm256_broadcast_ss(a2 + kk), w0, c20);
            c30 = _mm256_fmadd_ps(_mm256_broadcast_ss(a3 + kk), w0, c30);
            c40 = _mm256_fmadd_ps(_mm256_broadcast_ss(a4 + kk), w0, c40);
            c50 = _mm256_fmadd_ps(_mm256_broadcast_ss(a5 + kk), w0, c50);
        }
    } else {
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3], *a4 = a[4], *a5 = a[5];
        for (kk = 0; kk < k; ++kk, b += 16) {
            const __m256 w0 = _mm256_loadu_ps(b), w1 = _mm256_loadu_ps(b + 8);
            __m256 x = _mm256_broadcast_ss(a0 + kk);
            c00 = _mm256_fmadd_ps(x, w0, c00);
            c01 = _mm256_fmadd_ps(x, w1, c01);
            x = _mm256_broadcast_ss(a1 + kk);
            c10 = _mm256_fmadd_ps(x, w0, c10);
            c11 = _mm256_fmadd_ps(x, w1, c11);
            x = _mm256_broadcast_ss(a2 + kk);
            c20 = _mm256_fmadd_ps(x, w0, c20);
            c21 = _mm256_fmadd_ps(x, w1, c21);
            x = _mm256_broadcast_ss(a3 + kk);
            c30 = _mm256_fmadd_ps(x, w0, c30);
            c31 = _mm256_fmadd_ps(x, w1, c31);
            x = _mm256_broadcast_ss(a4 + kk);
            c40 = _mm256_fmadd_ps(x, w0, c40);
            c41 = _mm256_fmadd_ps(x, w1, c41);
            x = _mm256_broadcast_ss(a5 + kk);
            c50 = _mm256_fmadd_ps(x, w0, c50);
            c51 = _mm256_fmadd_ps(x, w1, c51);
        }
    }
    tile_store(c00, c01, flags, lo, hi, nr, c);
    tile_store(c10, c11, flags, lo, hi, nr, c + (size_t)ldc);
    if (mr > 2) {
        tile_store(c20, c21, flags, lo, hi, nr, c + 2 * (size_t)ldc);
    }
    if (mr > 3) {
        tile_store(c30, c31, flags, lo, hi, nr, c + 3 * (size_t)ldc);
    }
    if (mr > 4) {
        tile_store(c40, c41, flags, lo, hi, nr, c + 4 * (size_t)ldc);
    }
    if (mr > 5) {
        tile_store(c50, c51, flags, lo, hi, nr, c + 5 * (size_t)ldc);
    }
}

/* Sum of the eight lanes, always in this order. */
EL_AVX2F static inline float hsum8f(__m256 v)
{
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    h = _mm_add_ss(h, _mm_movehdup_ps(h));
    return _mm_cvtss_f32(h);
}

/* Eight dot products sharing x: lane l of unit j sums x[kk] * w_j[kk] for kk = l mod 8, the
 * last partial block read with a mask (zeros), then hsum8f. Units past nu repeat the last. */
EL_AVX2F static void fdot8_avx2(int32_t k, const float *x, const float *w, int32_t ldw, int32_t nu,
                                float *sums)
{
    const float *w0 = w, *w1 = nu > 1 ? w0 + ldw : w0, *w2 = nu > 2 ? w1 + ldw : w1;
    const float *w3 = nu > 3 ? w2 + ldw : w2, *w4 = nu > 4 ? w3 + ldw : w3;
    const float *w5 = nu > 5 ? w4 + ldw : w4, *w6 = nu > 6 ? w5 + ldw : w5;
    const float *w7 = nu > 7 ? w6 + ldw : w6;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
    float r[8];
    int32_t kk, j;
    for (kk = 0; kk + 8 <= k; kk += 8) {
        const __m256 xv = _mm256_loadu_ps(x + kk);
        s0 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w0 + kk), s0);
        s1 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w1 + kk), s1);
        s2 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w2 + kk), s2);
        s3 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w3 + kk), s3);
        s4 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w4 + kk), s4);
        s5 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w5 + kk), s5);
        s6 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w6 + kk), s6);
        s7 = _mm256_fmadd_ps(xv, _mm256_loadu_ps(w7 + kk), s7);
    }
    if (kk < k) {
        const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(k - kk),
                                             _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        const __m256 xv = _mm256_maskload_ps(x + kk, m);
        s0 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w0 + kk, m), s0);
        s1 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w1 + kk, m), s1);
        s2 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w2 + kk, m), s2);
        s3 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w3 + kk, m), s3);
        s4 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w4 + kk, m), s4);
        s5 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w5 + kk, m), s5);
        s6 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w6 + kk, m), s6);
        s7 = _mm256_fmadd_ps(xv, _mm256_maskload_ps(w7 + kk, m), s7);
    }
    r[0] = hsum8f(s0);
    r[1] = hsum8f(s1);
    r[2] = hsum8f(s2);
    r[3] = hsum8f(s3);
    r[4] = hsum8f(s4);
    r[5] = hsum8f(s5);
    r[6] = hsum8f(s6);
    r[7] = hsum8f(s7);
    for (j = 0; j < nu; ++j) {
        sums[j] = r[j];
    }
}

/* A depthwise filter's folded bias (el_opt_kernels.dw_sums): 16 channels at a time, the taps
 * summed in int16 (|sum| <= 64 * 128), widened, times the offset plus the bias (wrapping). */
EL_AVX2 void el_opt_dw_sums_avx2(int32_t taps, const int8_t *f, int32_t fstride, int32_t n,
                                 const int32_t *bias, int32_t off, int32_t *out)
{
    const __m256i vo = _mm256_set1_epi32(off);
    int32_t c = 0, t;
    for (; c + 16 <= n; c += 16) {
        __m256i s = _mm256_setzero_si256(), lo, hi;
        for (t = 0; t < taps; ++t) {
            s = _mm256_add_epi16(
                s, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                       (const __m128i *)(const void *)(f + (size_t)t * fstride + c))));
        }
        lo = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(s)), vo);
        hi = _mm256_mullo_epi32(_mm256_cvtepi16_epi32(_mm256_extracti128_si256(s, 1)), vo);
        if (bias != NULL) {
            lo =
                _mm256_add_epi32(lo, _mm256_loadu_si256((const __m256i *)(const void *)(bias + c)));
            hi = _mm256_add_epi32(
                hi, _mm256_loadu_si256((const __m256i *)(const void *)(bias + c + 8)));
        }
        _mm256_storeu_si256((__m256i *)(void *)(out + c), lo);
        _mm256_storeu_si256((__m256i *)(void *)(out + c + 8), hi);
    }
    for (; c < n; ++c) {
        uint32_t sum = 0;
        for (t = 0; t < taps; ++t) {
            sum += (uint32_t)(int32_t)f[(size_t)t * fstride + c];
        }
        out[c] = (int32_t)((bias ? (uint32_t)bias[c] : 0u) + (uint32_t)off * sum);
    }
}

/* MEAN int8 (reduce.c): acc[c] += sum_j x[j * inner + c] (modulo 2^32) for the channels in
 * whole blocks of 32; returns how many channels it did. */
EL_AVX2 size_t el_opt_sum_rows_avx2(const int8_t *x, size_t r, size_t inner, uint32_t *acc)
{
    size_t c = 0, j;
    for (; c + 32 <= inner; c += 32) {
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        const int8_t *p = x + c;
        for (j = 0; j < r; ++j, p += inner) {
            const __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)p);
            const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
            s0 = _mm256_add_epi32(s0, _mm256_cvtepi8_epi32(lo));
            s1 = _mm256_add_epi32(s1, _mm256_cvtepi8_epi32(_mm_srli_si128(lo, 8)));
            s2 = _mm256_add_epi32(s2, _mm256_cvtepi8_epi32(hi));
            s3 = _mm256_add_epi32(s3, _mm256_cvtepi8_epi32(_mm_srli_si128(hi, 8)));
        }
#define EL_ACC_ADD(o, s)                                                                           \
    _mm256_storeu_si256(                                                                           \
        (__m256i *)(void *)(acc + c + (o)),                                                        \
        _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(acc + c + (o))), s))
        EL_ACC_ADD(0, s0);
        EL_ACC_ADD(8, s1);
        EL_ACC_ADD(16, s2);
        EL_ACC_ADD(24, s3);
#undef EL_ACC_ADD
    }
    return c;
}

/* MEAN float32 (reduce.c): acc[c] = acc[c] + x[j * inner + c] for j < r in turn, for the
 * channels in whole blocks of 32 from c = 0; returns how many channels it did. */
EL_AVX2 size_t el_opt_sum_rows_f32_avx2(const float *x, size_t r, size_t inner, float *acc)
{
    size_t c = 0, j;
    for (; c + 32 <= inner; c += 32) {
        __m256 s0 = _mm256_loadu_ps(acc + c), s1 = _mm256_loadu_ps(acc + c + 8);
        __m256 s2 = _mm256_loadu_ps(acc + c + 16), s3 = _mm256_loadu_ps(acc + c + 24);
        const float *p = x + c;
        for (j = 0; j < r; ++j, p += inner) {
            s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p));
            s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + 8));
            s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + 16));
            s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + 24));
        }
        _mm256_storeu_ps(acc + c, s0);
        _mm256_storeu_ps(acc + c + 8, s1);
        _mm256_storeu_ps(acc + c + 16, s2);
        _mm256_storeu_ps(acc + c + 24, s3);
    }
    return c;
}

/* MEAN's outputs: out[o] = clamp(el_requant(sum[o] - sub, m, shift) + zp, -128, 127) for o < n
 * in blocks of 8 (m >= 0, -31 <= shift <= 30); returns how many it did. */
EL_AVX2 size_t el_opt_mean_out_avx2(const int32_t *sum, size_t n, int32_t sub, int32_t m,
                                    int32_t shift, int32_t zp, int8_t *out)
{
    const rq8_ch ch = rq8_uniform(m, shift);
    const __m256i vsub = _mm256_set1_epi32(sub), vzp = _mm256_set1_epi32(zp);
    const __m256i lo = _mm256_set1_epi32(-128), hi = _mm256_set1_epi32(127);
    size_t o = 0;
    for (; o + 8 <= n; o += 8) {
        const __m256i v =
            _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)(const void *)(sum + o)), vsub);
        __m256i r = _mm256_add_epi32(requant8_nb(v, &ch), vzp);
        __m128i b;
        r = _mm256_min_epi32(_mm256_max_epi32(r, lo), hi);
        b = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        _mm_storel_epi64((__m128i *)(void *)(out + o), _mm_packs_epi16(b, b));
    }
    return o;
}

#include <math.h>

#define F_ATTR EL_AVX2F
#define F_FN(x) x##_avx2
#define F_MR 6
#include "x86_f32_ymm.h"
#define F_GTSEL(v, m) _mm256_blendv_ps(m, v, _mm256_cmp_ps(v, m, _CMP_GT_OQ))
#define F_LTSEL(a, b) _mm256_blendv_ps(b, a, _mm256_cmp_ps(a, b, _CMP_LT_OQ))
#include "f32_body.h"

#else
/* ISO C forbids an empty translation unit. */
typedef int el_opt_x86_avx2_unused;
#endif
