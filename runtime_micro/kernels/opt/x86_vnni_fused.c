/* x86-64 AVX-512 VNNI: the int8 GEMM with the requantization fused (el_opt_kernels.gemm_rq)
 * on 512-bit vectors, compiled for AVX-512 function by function (target attribute) and called
 * only when the CPU has it (opt_dispatch.c), so the library still runs on any x86-64.
 *
 * vpdpbusd adds four unsigned x signed byte products into each int32 lane, without
 * saturation (exact). The activations become unsigned by flipping their sign bit (x + 128),
 * once per group of rows into a stack buffer; the extra 128 * sum(w) of each column comes off
 * the bias the accumulators start from (rq->colsum, the filter sums the driver has). The
 * filter is read as panels of 16 columns x 4 bytes of k (one vector per quad of k; a panel's
 * quads one after another, then the next panel: el_opt_gemm_pack_vnni512), packed once at
 * prepare (rq->packed) or per call; one register tile covers all the call's columns (n <= 64,
 * up to 4 panels); each quad of a row is broadcast to all lanes. The requantization runs on 16
 * lanes as in x86_avx2_rq.h, then saturating packs, the zero point added with saturation, a
 * vpermd and the clamp as int8; partial columns are stored with byte masks. */
#include <stddef.h>
#include <string.h>

#include "opt_internal.h"

#if defined(EL_OPT_HAVE_VNNI)
#include <immintrin.h>

#define Z_ATTR __attribute__((target("avx2,avx512f,avx512bw,avx512vl,avx512dq,avx512vnni")))
#define Z_INLINE Z_ATTR static inline __attribute__((always_inline))

#define Z_KMAX 1024                    /* longest k taken */
#define Z_PANEL_INTS (Z_KMAX / 4 * 64) /* 64 columns x k: 64 KB of packed panels */
#define Z_MMIN 8                       /* fewer rows: not this path (zgemv_rq) */
#define Z_MMIN_LONG 16                 /* the same for k >= Z_KLONG */
#define Z_KLONG 256
#define Z_MR_MAX 16 /* rows of the tallest register tile */

/* Requantization constants of one panel's 16 channels (lanes past the call's columns: zero
 * multiplier, shift right by 1). bias: rq->bias - 128 * colsum. */
typedef struct {
    __m512i bias, mult, mult_odd, left, right, mask, half, right1;
} zrq;

/* q from the 16 channels' bias, multiplier, shift and column sum */
Z_INLINE void zrq_make(__m512i bias, __m512i mult, __m512i shift, __m512i sum, zrq *q)
{
    const __m512i zero = _mm512_setzero_si512(), one = _mm512_set1_epi32(1);
    q->bias = _mm512_sub_epi32(bias, _mm512_slli_epi32(sum, 7));
    q->mult = mult;
    q->mult_odd = _mm512_srli_epi64(mult, 32);
    q->left = _mm512_max_epi32(shift, zero);
    q->right = _mm512_max_epi32(_mm512_sub_epi32(zero, shift), zero);
    q->mask = _mm512_sub_epi32(_mm512_sllv_epi32(one, q->right), one);
    q->half = _mm512_srli_epi32(q->mask, 1);
    q->right1 = _mm512_max_epi32(_mm512_sub_epi32(q->right, one), zero);
}

Z_ATTR static void zrq_load(const el_opt_rq *rq, int32_t j0, int32_t nr, zrq *q)
{
    const __mmask16 m = (__mmask16)(nr >= 16 ? 0xFFFF : (1u << nr) - 1u);
    zrq_make(_mm512_maskz_loadu_epi32(m, rq->bias + j0), _mm512_maskz_loadu_epi32(m, rq->mult + j0),
             _mm512_mask_loadu_epi32(_mm512_set1_epi32(-1), m, rq->shift + j0),
             _mm512_maskz_loadu_epi32(m, rq->colsum + j0), q);
}

/* SaturatingRoundingDoublingHighMul for m >= 0: floor((v * m + 2^30) / 2^31) (x86_avx2_rq.h) */
Z_INLINE __m512i srdhm16(__m512i v, const zrq *q)
{
    const __m512i nudge = _mm512_set1_epi64((long long)1 << 30);
    const __m512i pe = _mm512_add_epi64(_mm512_mul_epi32(v, q->mult), nudge);
    const __m512i po =
        _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), q->mult_odd), nudge);
    return _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(pe, 31), _mm512_slli_epi64(po, 1));
}

/* requant(v) of accumulators that started at the bias, any shift: the reference's mask /
 * threshold RoundingDivideByPOT after a left shift */
Z_INLINE __m512i rq16_any(__m512i v, const zrq *q)
{
    const __m512i h = srdhm16(_mm512_sllv_epi32(v, q->left), q);
    const __m512i thr = _mm512_sub_epi32(q->half, _mm512_srai_epi32(h, 31));
    const __m512i res = _mm512_srav_epi32(h, q->right);
    const __mmask16 up = _mm512_cmpgt_epi32_mask(_mm512_and_si512(h, q->mask), thr);
    return _mm512_mask_add_epi32(res, up, res, _mm512_set1_epi32(1));
}

/* every lane shifts right by r >= 1: ceil(t / 2) with t = (h - (h < 0)) >> (r - 1) */
Z_INLINE __m512i rq16_rs(__m512i v, const zrq *q)
{
    const __m512i h = srdhm16(v, q);
    const __m512i t = _mm512_srav_epi32(_mm512_add_epi32(h, _mm512_srai_epi32(h, 31)), q->right1);
    return _mm512_sub_epi32(t, _mm512_srai_epi32(t, 1));
}

Z_INLINE __m512i rq16(__m512i v, const zrq *q, const int fast)
{
    return fast ? rq16_rs(v, q) : rq16_any(v, q);
}

/* Four vectors of 16 requantized int32 as 64 int8: bytes 16s..16s+15 from vector s, the zero
 * point added (saturating int16) and clamped. packs interleave 4-lane groups per 128-bit lane;
 * the vpermd puts each vector's groups back together. */
/* The packs alone: byte 16L + 4s + i of the result is lane 4L + i of vector s. */
Z_INLINE __m512i narrow4_lanes(__m512i a, __m512i b, __m512i c, __m512i d, __m512i zp, __m512i lo,
                               __m512i hi)
{
    const __m512i ab = _mm512_adds_epi16(_mm512_packs_epi32(a, b), zp);
    const __m512i cd = _mm512_adds_epi16(_mm512_packs_epi32(c, d), zp);
    return _mm512_min_epi8(_mm512_max_epi8(_mm512_packs_epi16(ab, cd), lo), hi);
}

Z_INLINE __m512i narrow4(__m512i a, __m512i b, __m512i c, __m512i d, __m512i zp, __m512i lo,
                         __m512i hi)
{
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    return _mm512_permutexvar_epi32(order, narrow4_lanes(a, b, c, d, zp, lo, hi));
}

Z_INLINE __mmask64 bytes_mask(int32_t n)
{
    return n >= 64 ? ~(__mmask64)0 : (((__mmask64)1 << n) - 1);
}

/* acc[i * NV + v] = bias of panel v + the products of flipped row i (x + i * kx) and panel v
 * over nq quads of k (16 ints from one quad to the next, panel v at vstep * v). Its own
 * function per shape: the accumulators stay in registers (GCC 12 spills them in the loop when
 * the requantization shares the function). */
Z_INLINE void zdot(const uint8_t *x, int32_t kx, int32_t nq, const int32_t *panel, int32_t vstep,
                   const zrq *q, __m512i *out, const int MR, const int NV, const int FLIP)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[Z_MR_MAX][4];
    int32_t i, v, qq;
#pragma GCC unroll 16
    for (i = 0; i < MR; ++i) {
#pragma GCC unroll 4
        for (v = 0; v < NV; ++v) {
            acc[i][v] = q[v].bias;
        }
    }
    for (qq = 0; qq < nq; ++qq, panel += 16, x += 4) {
        __m512i w[4];
#pragma GCC unroll 4
        for (v = 0; v < NV; ++v) {
            w[v] = _mm512_loadu_si512((const void *)(panel + (size_t)vstep * v));
        }
#pragma GCC unroll 16
        for (i = 0; i < MR; ++i) {
            int32_t word;
            __m512i xb;
            memcpy(&word, x + (size_t)i * kx, 4);
            xb = _mm512_set1_epi32(word);
            if (FLIP) {
                xb = _mm512_xor_si512(xb, flip);
            }
#pragma GCC unroll 4
            for (v = 0; v < NV; ++v) {
                acc[i][v] = _mm512_dpbusd_epi32(acc[i][v], xb, w[v]);
            }
        }
    }
#pragma GCC unroll 16
    for (i = 0; i < MR; ++i) {
#pragma GCC unroll 4
        for (v = 0; v < NV; ++v) {
            out[i * NV + v] = acc[i][v];
        }
    }
}

typedef void (*zdot_fn)(const uint8_t *x, int32_t kx, int32_t nq, const int32_t *panel,
                        int32_t vstep, const zrq *q, __m512i *out);
#define Z_DOT(NAME, MR, NV, FLIP)                                                                  \
    Z_ATTR __attribute__((noinline)) static void NAME(const uint8_t *x, int32_t kx, int32_t nq,    \
                                                      const int32_t *panel, int32_t vstep,         \
                                                      const zrq *q, __m512i *out)                  \
    {                                                                                              \
        zdot(x, kx, nq, panel, vstep, q, out, MR, NV, FLIP);                                       \
    }

/* MR flipped rows (x, kx apart; mr stored) x NV panels: the products (dot), then requantized
 * and stored (nr columns). MR and NV are constants of each instantiation. */
Z_INLINE void ztile(const uint8_t *x, int32_t kx, int32_t nq, const int32_t *panel, int32_t vstep,
                    const zrq *q, const el_opt_rq *rq, int32_t mr, int32_t nr, int8_t *out,
                    int32_t ldout, const int MR, const int NV, const int fast, zdot_fn dot)
{
    __m512i accv[Z_MR_MAX * 4];
    int32_t i;
    dot(x, kx, nq, panel, vstep, q, accv);
#define acc(i, v) accv[(i) * NV + (v)]
    {
        const __m512i zp = _mm512_set1_epi16((short)rq->out_offset);
        const __m512i lo = _mm512_set1_epi8((char)rq->act_min);
        const __m512i hi = _mm512_set1_epi8((char)rq->act_max);
        const int full = nr == NV * 16;
        const size_t ld = (size_t)ldout;
        if (NV >= 3) { /* a row per vector of 64 bytes */
#pragma GCC unroll 16
            for (i = 0; i < MR; ++i) {
                const __m512i r0 = rq16(acc(i, 0), &q[0], fast);
                const __m512i r1 = rq16(acc(i, 1), &q[1], fast);
                const __m512i r2 = rq16(acc(i, 2), &q[2], fast);
                const __m512i r3 =
                    NV > 3 ? rq16(acc(i, NV > 3 ? 3 : 2), &q[NV > 3 ? 3 : 2], fast) : r2;
                const __m512i r = narrow4(r0, r1, r2, r3, zp, lo, hi);
                if (i < mr) {
                    if (NV == 4 && full) {
                        _mm512_storeu_si512((void *)(out + i * ld), r);
                    } else {
                        _mm512_mask_storeu_epi8(out + i * ld, bytes_mask(nr), r);
                    }
                }
            }
        } else if (NV == 2) { /* two rows per vector */
#pragma GCC unroll 8
            for (i = 0; i < MR; i += 2) {
                const __m512i r = narrow4(
                    rq16(acc(i, 0), &q[0], fast), rq16(acc(i, 1), &q[1], fast),
                    rq16(acc(i + 1, 0), &q[0], fast), rq16(acc(i + 1, 1), &q[1], fast), zp, lo, hi);
                const __m256i r0 = _mm512_castsi512_si256(r), r1 = _mm512_extracti64x4_epi64(r, 1);
                if (full) {
                    if (i < mr) {
                        _mm256_storeu_si256((__m256i *)(void *)(out + i * ld), r0);
                    }
                    if (i + 1 < mr) {
                        _mm256_storeu_si256((__m256i *)(void *)(out + (i + 1) * ld), r1);
                    }
                } else {
                    const __mmask32 mk = (__mmask32)bytes_mask(nr);
                    if (i < mr) {
                        _mm256_mask_storeu_epi8(out + i * ld, mk, r0);
                    }
                    if (i + 1 < mr) {
                        _mm256_mask_storeu_epi8(out + (i + 1) * ld, mk, r1);
                    }
                }
            }
        } else { /* four rows per vector */
#pragma GCC unroll 4
            for (i = 0; i < MR; i += 4) {
                const __m512i r = narrow4(
                    rq16(acc(i, 0), &q[0], fast), rq16(acc(i + 1, 0), &q[0], fast),
                    rq16(acc(i + 2, 0), &q[0], fast), rq16(acc(i + 3, 0), &q[0], fast), zp, lo, hi);
                const __mmask16 mk = (__mmask16)bytes_mask(nr);
                __m128i part[4];
                int32_t s;
                part[0] = _mm512_castsi512_si128(r);
                part[1] = _mm512_extracti32x4_epi32(r, 1);
                part[2] = _mm512_extracti32x4_epi32(r, 2);
                part[3] = _mm512_extracti32x4_epi32(r, 3);
#pragma GCC unroll 4
                for (s = 0; s < 4; ++s) {
                    if (i + s < mr) {
                        if (full) {
                            _mm_storeu_si128((__m128i *)(void *)(out + (i + s) * ld), part[s]);
                        } else {
                            _mm_mask_storeu_epi8(out + (i + s) * ld, mk, part[s]);
                        }
                    }
                }
            }
        }
    }
#undef acc
}

typedef void (*ztile_fn)(const uint8_t *x, int32_t kx, int32_t nq, const int32_t *panel,
                         int32_t vstep, const zrq *q, const el_opt_rq *rq, int32_t mr, int32_t nr,
                         int8_t *out, int32_t ldout);
#define Z_TILE(NAME, MR, NV, FAST, DOT)                                                            \
    Z_ATTR static void NAME(const uint8_t *x, int32_t kx, int32_t nq, const int32_t *panel,        \
                            int32_t vstep, const zrq *q, const el_opt_rq *rq, int32_t mr,          \
                            int32_t nr, int8_t *out, int32_t ldout)                                \
    {                                                                                              \
        ztile(x, kx, nq, panel, vstep, q, rq, mr, nr, out, ldout, MR, NV, FAST, DOT);              \
    }
#define Z_MR1 16 /* rows per tile of 1 panel */
#define Z_MR2 12 /* 2 panels */
#define Z_MR3 8  /* 3 panels */
#define Z_MR4 6  /* 4 panels */
Z_DOT(zd1, Z_MR1, 1, 0)
Z_DOT(zd2, Z_MR2, 2, 0)
Z_DOT(zd3, Z_MR3, 3, 0)
Z_DOT(zd4, Z_MR4, 4, 0)
Z_DOT(zd1x, Z_MR1, 1, 1)
Z_DOT(zd2x, Z_MR2, 2, 1)
Z_DOT(zd3x, Z_MR3, 3, 1)
Z_DOT(zd4x, Z_MR4, 4, 1)
/* Short tiles for a GEMM's last rows (Z_MRT_*): 4 rows of 1 panel, 2 rows of 2 to 4 panels. */
#define Z_MRT1 4
#define Z_MRT 2
Z_DOT(zd1t, Z_MRT1, 1, 0)
Z_DOT(zd2t, Z_MRT, 2, 0)
Z_DOT(zd3t, Z_MRT, 3, 0)
Z_DOT(zd4t, Z_MRT, 4, 0)
#undef Z_DOT
Z_TILE(zt1_any, Z_MR1, 1, 0, zd1)
Z_TILE(zt1_rs, Z_MR1, 1, 1, zd1)
Z_TILE(zt2_any, Z_MR2, 2, 0, zd2)
Z_TILE(zt2_rs, Z_MR2, 2, 1, zd2)
Z_TILE(zt3_any, Z_MR3, 3, 0, zd3)
Z_TILE(zt3_rs, Z_MR3, 3, 1, zd3)
Z_TILE(zt4_any, Z_MR4, 4, 0, zd4)
Z_TILE(zt4_rs, Z_MR4, 4, 1, zd4)
Z_TILE(zt1_any_x, Z_MR1, 1, 0, zd1x)
Z_TILE(zt1_rs_x, Z_MR1, 1, 1, zd1x)
Z_TILE(zt2_any_x, Z_MR2, 2, 0, zd2x)
Z_TILE(zt2_rs_x, Z_MR2, 2, 1, zd2x)
Z_TILE(zt3_any_x, Z_MR3, 3, 0, zd3x)
Z_TILE(zt3_rs_x, Z_MR3, 3, 1, zd3x)
Z_TILE(zt4_any_x, Z_MR4, 4, 0, zd4x)
Z_TILE(zt4_rs_x, Z_MR4, 4, 1, zd4x)
Z_TILE(zt1_any_t, Z_MRT1, 1, 0, zd1t)
Z_TILE(zt1_rs_t, Z_MRT1, 1, 1, zd1t)
Z_TILE(zt2_any_t, Z_MRT, 2, 0, zd2t)
Z_TILE(zt2_rs_t, Z_MRT, 2, 1, zd2t)
Z_TILE(zt3_any_t, Z_MRT, 3, 0, zd3t)
Z_TILE(zt3_rs_t, Z_MRT, 3, 1, zd3t)
Z_TILE(zt4_any_t, Z_MRT, 4, 0, zd4t)
Z_TILE(zt4_rs_t, Z_MRT, 4, 1, zd4t)
#undef Z_TILE

/* panel[(t * nq + qq) * 16 + j] = bytes 4qq..4qq+3 of column 16t + j as one int32, nq = k / 4
 * rounded up; zero past n columns and past k. Per panel and 16 bytes of k: 16 column loads
 * (masked: nothing read past k or past the last column) as 4 vectors of 4 columns, a 4x4
 * transpose of 32-bit units in each 128-bit lane, and a VPERMD putting the 16 columns of each
 * quad in order. */
Z_INLINE __m128i zcol16(const int8_t *b, int32_t ldb, int32_t j, int32_t nr, __mmask16 m)
{
    return _mm_maskz_loadu_epi8(j < nr ? m : 0, b + (size_t)(j < nr ? j : 0) * ldb);
}

Z_ATTR static void zpack(const int8_t *b, int32_t ldb, int32_t n, int32_t k, int32_t np,
                         int32_t *panel)
{
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const int32_t nq = (k + 3) >> 2;
    int32_t t, kk, g, q;
    for (t = 0; t < np; ++t) {
        const int32_t nr = n - 16 * t < 16 ? n - 16 * t : 16;
        const int8_t *bt = b + (size_t)(16 * t) * ldb;
        for (kk = 0; kk < k; kk += 16) {
            const __mmask16 m = (__mmask16)(k - kk >= 16 ? 0xFFFF : (1u << (k - kk)) - 1u);
            __m512i r[4], t0, t1, t2, t3, u[4];
            for (g = 0; g < 4; ++g) {
                const int32_t j = 4 * g;
                r[g] = _mm512_inserti32x4(
                    _mm512_inserti32x4(
                        _mm512_inserti32x4(_mm512_castsi128_si512(zcol16(bt + kk, ldb, j, nr, m)),
                                           zcol16(bt + kk, ldb, j + 1, nr, m), 1),
                        zcol16(bt + kk, ldb, j + 2, nr, m), 2),
                    zcol16(bt + kk, ldb, j + 3, nr, m), 3);
            }
            /* lane l of r[g]: column 4g + l, quads 0..3 */
            t0 = _mm512_unpacklo_epi32(r[0], r[1]);
            t1 = _mm512_unpackhi_epi32(r[0], r[1]);
            t2 = _mm512_unpacklo_epi32(r[2], r[3]);
            t3 = _mm512_unpackhi_epi32(r[2], r[3]);
            u[0] = _mm512_unpacklo_epi64(t0, t2);
            u[1] = _mm512_unpackhi_epi64(t0, t2);
            u[2] = _mm512_unpacklo_epi64(t1, t3);
            u[3] = _mm512_unpackhi_epi64(t1, t3);
            /* u[q]: quad q of column 4g + l at dword 4l + g */
            for (q = 0; q < 4 && (kk >> 2) + q < nq; ++q) {
                _mm512_storeu_si512((void *)(panel + ((size_t)t * nq + (kk >> 2) + q) * 16),
                                    _mm512_permutexvar_epi32(order, u[q]));
            }
        }
    }
}

/* Rows g[0..rows-1] with their sign bits flipped (x + 128 as unsigned), kx apart; bytes from k
 * to the next multiple of 64 read as 0 (they meet zero weights). */
Z_ATTR static void zflip(const int8_t *const *g, int32_t rows, int32_t k, uint8_t *x, int32_t kx)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    int32_t i, kk;
    for (i = 0; i < rows; ++i, x += kx) {
        for (kk = 0; kk < k; kk += 64) {
            const __m512i v = _mm512_maskz_loadu_epi8(bytes_mask(k - kk), g[i] + kk);
            _mm512_storeu_si512((void *)(x + kk), _mm512_xor_si512(v, flip));
        }
    }
}

/* Sums of R rows x[r] (flipped on the fly) against 4 filter rows w[0..3] (k bytes each, read
 * in place), as lanes 0..3 of res[r]: every filter vector loaded once for the R rows. */
Z_INLINE void zdot4(const int8_t *const *x, const int8_t *const *w, int32_t k, __m128i *res,
                    const int R)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    __m512i acc[3][4], t0, t1, t;
    __m256i y;
    int32_t kk = 0, r, j;
#pragma GCC unroll 3
    for (r = 0; r < R; ++r) {
#pragma GCC unroll 4
        for (j = 0; j < 4; ++j) {
            acc[r][j] = _mm512_setzero_si512();
        }
    }
    for (; kk + 64 <= k; kk += 64) {
        __m512i wv[4];
#pragma GCC unroll 4
        for (j = 0; j < 4; ++j) {
            wv[j] = _mm512_loadu_si512((const void *)(w[j] + kk));
        }
#pragma GCC unroll 3
        for (r = 0; r < R; ++r) {
            const __m512i xv =
                _mm512_xor_si512(_mm512_loadu_si512((const void *)(x[r] + kk)), flip);
#pragma GCC unroll 4
            for (j = 0; j < 4; ++j) {
                acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], xv, wv[j]);
            }
        }
    }
    if (kk < k) { /* masked bytes read as 0: x + 128 meets a zero weight */
        const __mmask64 m = bytes_mask(k - kk);
        __m512i wv[4];
#pragma GCC unroll 4
        for (j = 0; j < 4; ++j) {
            wv[j] = _mm512_maskz_loadu_epi8(m, w[j] + kk);
        }
#pragma GCC unroll 3
        for (r = 0; r < R; ++r) {
            const __m512i xv = _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, x[r] + kk), flip);
#pragma GCC unroll 4
            for (j = 0; j < 4; ++j) {
                acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], xv, wv[j]);
            }
        }
    }
    /* per 128-bit lane [a0, a1, a2, a3] partial sums, then the four lanes added */
#pragma GCC unroll 3
    for (r = 0; r < R; ++r) {
        t0 = _mm512_add_epi32(_mm512_unpacklo_epi32(acc[r][0], acc[r][1]),
                              _mm512_unpackhi_epi32(acc[r][0], acc[r][1]));
        t1 = _mm512_add_epi32(_mm512_unpacklo_epi32(acc[r][2], acc[r][3]),
                              _mm512_unpackhi_epi32(acc[r][2], acc[r][3]));
        t = _mm512_add_epi32(_mm512_unpacklo_epi64(t0, t1), _mm512_unpackhi_epi64(t0, t1));
        y = _mm256_add_epi32(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
        res[r] = _mm_add_epi32(_mm256_castsi256_si128(y), _mm256_extracti128_si256(y, 1));
    }
}

/* R rows a[0..R-1] x 16 columns w[0..15] (columns past nr repeat the last one and are not
 * stored): four zdot4 calls, the 16 sums of each row requantized together. */
Z_INLINE void zgemv_rows(const int8_t *const *a, const int8_t *const *w, int32_t k, const zrq *q,
                         int fast, int32_t nr, __m512i zp, __m512i lo, __m512i hi, int8_t *out,
                         int32_t ldout, const int R)
{
    __m128i part[3];
    __m512i sum[3];
    int32_t r;
    zdot4(a, w, k, part, R);
#pragma GCC unroll 3
    for (r = 0; r < R; ++r) {
        sum[r] = _mm512_castsi128_si512(part[r]);
    }
    /* lanes of columns past nr: undefined, not stored */
#define Z_MORE(G)                                                                                  \
    if (nr > 4 * (G)) {                                                                            \
        zdot4(a, w + 4 * (G), k, part, R);                                                         \
        for (r = 0; r < R; ++r) {                                                                  \
            sum[r] = _mm512_inserti32x4(sum[r], part[r], G);                                       \
        }                                                                                          \
    }
    Z_MORE(1)
    Z_MORE(2)
    Z_MORE(3)
#undef Z_MORE
#pragma GCC unroll 3
    for (r = 0; r < R; ++r) {
        __m512i s = sum[r], v;
        s = _mm512_add_epi32(s, q->bias);
        v = fast ? rq16_rs(s, q) : rq16_any(s, q);
        v = narrow4(v, v, v, v, zp, lo, hi);
        _mm_mask_storeu_epi8(out + (size_t)r * ldout, (__mmask16)bytes_mask(nr),
                             _mm512_castsi512_si128(v));
    }
}

/* Few rows (batch-1 FULLY_CONNECTED, convs on 3x3 maps): no packing; per 16 columns the rows in
 * groups of up to 3 (split evenly: 5 = 3 + 2, 7 = 3 + 2 + 2), each group's dot products along
 * k sharing the filter loads (zdot4). */
Z_ATTR static void zgemv_rq(int32_t m, int32_t n, int32_t k, const int8_t *const *a,
                            const int8_t *b, int32_t ldb, const el_opt_rq *rq, int8_t *out,
                            int32_t ldout)
{
    const __m512i zp = _mm512_set1_epi16((short)rq->out_offset);
    const __m512i lo = _mm512_set1_epi8((char)rq->act_min);
    const __m512i hi = _mm512_set1_epi8((char)rq->act_max);
    int32_t j0, i, g;
    for (j0 = 0; j0 < n; j0 += 16) {
        const int32_t nr = n - j0 < 16 ? n - j0 : 16;
        const int8_t *w[16];
        zrq q;
        int fast = 1;
        int32_t left = m;
        zrq_load(rq, j0, nr, &q);
        for (g = 0; g < 16; ++g) {
            w[g] = b + (size_t)(j0 + (g < nr ? g : nr - 1)) * ldb;
            fast &= g >= nr || rq->shift[j0 + g] <= -1;
        }
        for (i = 0; i < m; i += 0) {
            /* groups left: ceil(left / 3); this one takes left / groups rows */
            const int32_t groups = (left + 2) / 3, rows = left / groups;
            int8_t *o = out + (size_t)i * ldout + j0;
            if (rows == 3) {
                zgemv_rows(a + i, w, k, &q, fast, nr, zp, lo, hi, o, ldout, 3);
            } else if (rows == 2) {
                zgemv_rows(a + i, w, k, &q, fast, nr, zp, lo, hi, o, ldout, 2);
            } else {
                zgemv_rows(a + i, w, k, &q, fast, nr, zp, lo, hi, o, ldout, 1);
            }
            i += rows;
            left -= rows;
        }
    }
}

Z_ATTR int el_opt_gemm_rq_vnni512(int32_t m, int32_t n, int32_t k, const int8_t *const *a,
                                  const int8_t *b, int32_t ldb, const el_opt_rq *rq, int8_t *out,
                                  int32_t ldout)
{
    static const ztile_fn tiles[2][4][2] = {
        {{zt1_any, zt1_rs}, {zt2_any, zt2_rs}, {zt3_any, zt3_rs}, {zt4_any, zt4_rs}},
        {{zt1_any_x, zt1_rs_x},
         {zt2_any_x, zt2_rs_x},
         {zt3_any_x, zt3_rs_x},
         {zt4_any_x, zt4_rs_x}}};
    static const ztile_fn tails[4][2] = {
        {zt1_any_t, zt1_rs_t}, {zt2_any_t, zt2_rs_t}, {zt3_any_t, zt3_rs_t}, {zt4_any_t, zt4_rs_t}};
    static const int32_t rows_of[4] = {Z_MR1, Z_MR2, Z_MR3, Z_MR4};
    static const int32_t tail_rows[4] = {Z_MRT1, Z_MRT, Z_MRT, Z_MRT};
    int32_t own[Z_PANEL_INTS] __attribute__((aligned(64)));
    const int32_t *panel = own;
    uint8_t x[Z_MR_MAX * Z_KMAX] __attribute__((aligned(64)));
    zrq q[4];
    const int8_t *g[Z_MR_MAX];
    const int32_t np = (n + 15) >> 4, nq = (k + 3) >> 2, kx = (k + 63) & ~63;
    /* rows read in place (flipped in the dot loop) when a group's rows lie a fixed step apart
     * and every quad read is inside a row (k a multiple of 4, or rows padded past k) */
    const int in_place = (k & 3) == 0 || rq->a_padded;
    int32_t i0, t, i, j, fast = 1, mr_tile;
    ztile_fn tile, tile_x;
    if (k < 1 || n < 1 || rq->colsum == NULL) {
        return 0;
    }
    if (m < Z_MMIN || (m < Z_MMIN_LONG && k >= Z_KLONG)) {
        zgemv_rq(m, n, k, a, b, ldb, rq, out, ldout);
        return 1;
    }
    if (k > Z_KMAX || n > 64) {
        return 0;
    }
    if (rq->packed != NULL) {
        panel = (const int32_t *)rq->packed;
    } else {
        zpack(b, ldb, n, k, np, own);
    }
    for (t = 0; t < np; ++t) {
        zrq_load(rq, 16 * t, n - 16 * t, &q[t]);
    }
    for (j = 0; j < n; ++j) {
        fast &= rq->shift[j] <= -1;
    }
    tile = tiles[0][np - 1][fast];
    tile_x = tiles[1][np - 1][fast];
    mr_tile = rows_of[np - 1];
    for (i0 = 0; i0 < m; i0 += mr_tile) {
        const int32_t mr = m - i0 < mr_tile ? m - i0 : mr_tile;
        const int32_t tr = tail_rows[np - 1];
        if (mr < mr_tile && (mr + tr - 1) / tr * tr < mr_tile) {
            /* The last rows in short tiles where those compute fewer rows than a whole one,
             * which repeats the last row up to mr_tile: the 49 rows of a 7x7 map took 9 tiles
             * of 6 rows (4 panels), one of them for a single row (stop 40). */
            int32_t r0;
            for (r0 = i0; r0 < m; r0 += tr) {
                const int32_t rr = m - r0 < tr ? m - r0 : tr;
                for (i = 0; i < tr; ++i) {
                    g[i] = a[r0 + (i < rr ? i : rr - 1)];
                }
                zflip(g, tr, k, x, kx);
                tails[np - 1][fast](x, kx, nq, panel, nq * 16, q, rq, rr, n,
                                    out + (size_t)r0 * ldout, ldout);
            }
            break;
        }
        if (in_place && mr == mr_tile) {
            const ptrdiff_t step = a[i0 + 1] - a[i0];
            for (i = 2; i < mr && a[i0 + i] - a[i0 + i - 1] == step; ++i) {
            }
            if (i == mr && step > 0 && step <= INT32_MAX) {
                tile_x((const uint8_t *)a[i0], (int32_t)step, nq, panel, nq * 16, q, rq, mr, n,
                       out + (size_t)i0 * ldout, ldout);
                continue;
            }
        }
        for (i = 0; i < mr_tile; ++i) { /* a short group repeats its last row */
            g[i] = a[i0 + (i < mr ? i : mr - 1)];
        }
        zflip(g, mr_tile, k, x, kx);
        tile(x, kx, nq, panel, nq * 16, q, rq, mr, n, out + (size_t)i0 * ldout, ldout);
    }
    return 1;
}

/* The whole filter (n rows of k bytes) in the layout el_opt_gemm_rq_vnni512 reads, for
 * rq->packed: the panel of column j (a multiple of 16) starts at
 * j * el_opt_gemm_pack_stride_vnni512(k) bytes (16 columns of k rounded up to 4). */
int32_t el_opt_gemm_pack_stride_vnni512(int32_t k)
{
    return (k + 3) & ~3;
}

Z_ATTR void el_opt_gemm_pack_vnni512(int32_t n, int32_t k, const int8_t *b, int8_t *packed)
{
    zpack(b, k, n, k, (n + 15) >> 4, (int32_t *)(void *)packed);
}

/* ---- 3x3 depthwise with the requantization fused (el_opt_kernels.dw_rq), 64 channels ----
 * vpdpbusd adds four taps of a channel at once: the bytes of taps t..t+3 of 64 channels are
 * interleaved by two rounds of unpacks (per 128-bit lane: 8-bit, then 16-bit), which leaves
 * channel 16L + 4j + i (lane group L, i < 4) in dword 4L + i of vector j; the filter is
 * interleaved the same way once per call, the requantization constants and the bias laid out
 * in that order. Taps 0-3, 4-7 and 8 (with three zero taps). The activations are flipped to
 * x + 128 and 128 * sum of the channel's taps comes off its bias; the saturating packs of the
 * four vectors give the channels back in order. Fewer than 64 channels: AVX2's kernel. */
typedef struct {
    __m512i f[3][4]; /* interleaved filter: tap group, vector */
    zrq q[4];        /* per vector, bias included */
    int fast;        /* every channel shifts right (rq16_rs) */
} zdw;

/* the four interleaved vectors of taps a, b, c, d (64 bytes each) */
Z_INLINE void zdw_mix(__m512i a, __m512i b, __m512i c, __m512i d, __m512i *v)
{
    const __m512i ab0 = _mm512_unpacklo_epi8(a, b), ab1 = _mm512_unpackhi_epi8(a, b);
    const __m512i cd0 = _mm512_unpacklo_epi8(c, d), cd1 = _mm512_unpackhi_epi8(c, d);
    v[0] = _mm512_unpacklo_epi16(ab0, cd0);
    v[1] = _mm512_unpackhi_epi16(ab0, cd0);
    v[2] = _mm512_unpacklo_epi16(ab1, cd1);
    v[3] = _mm512_unpackhi_epi16(ab1, cd1);
}

/* v[j] lane L = v[L] lane j (128-bit lanes) */
Z_INLINE void ztranspose4(__m512i *v)
{
    const __m512i t0 = _mm512_shuffle_i32x4(v[0], v[1], 0x44);
    const __m512i t1 = _mm512_shuffle_i32x4(v[0], v[1], 0xEE);
    const __m512i t2 = _mm512_shuffle_i32x4(v[2], v[3], 0x44);
    const __m512i t3 = _mm512_shuffle_i32x4(v[2], v[3], 0xEE);
    v[0] = _mm512_shuffle_i32x4(t0, t2, 0x88);
    v[1] = _mm512_shuffle_i32x4(t0, t2, 0xDD);
    v[2] = _mm512_shuffle_i32x4(t1, t3, 0x88);
    v[3] = _mm512_shuffle_i32x4(t1, t3, 0xDD);
}

/* 64 channels from c (wide), or 32 channels repeated in both 256-bit halves (two pixels per
 * vector), or (wide == 2) 16 channels in all four 128-bit lanes (four pixels per vector). The
 * constants in the mixed order: vector j's 128-bit lane L holds channels 16L + 4j..16L + 4j +
 * 3, a 4x4 transpose of the natural order's lanes. */
Z_ATTR static void zdw_prepare(const int8_t *f, int32_t fstride, const el_opt_rq *rq, int32_t c,
                               int wide, zdw *d)
{
    const __m512i zero = _mm512_setzero_si512(), flip = _mm512_set1_epi8((char)0x80);
    __m512i tap[12], b[4], mu[4], sh[4];
    int32_t g, j, L;
    for (g = 0; g < 12; ++g) {
        const int8_t *ft = f + (size_t)g * fstride + c;
        tap[g] =
            g >= 9      ? zero
            : wide == 2 ? _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)(const void *)ft))
            : wide ? _mm512_loadu_si512((const void *)ft)
                   : _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *)(const void *)ft));
    }
    for (g = 0; g < 3; ++g) {
        zdw_mix(tap[4 * g], tap[4 * g + 1], tap[4 * g + 2], tap[4 * g + 3], d->f[g]);
    }
    for (L = 0; L < 4; ++L) {
        const int32_t ch = c + 16 * (wide == 2 ? 0 : wide ? L : L & 1);
        b[L] = _mm512_loadu_si512((const void *)(rq->bias + ch));
        mu[L] = _mm512_loadu_si512((const void *)(rq->mult + ch));
        sh[L] = _mm512_loadu_si512((const void *)(rq->shift + ch));
    }
    ztranspose4(b);
    ztranspose4(mu);
    ztranspose4(sh);
    for (j = 0; j < 4; ++j) { /* 128 * the sum of each channel's taps comes off its bias */
        const __m512i s = _mm512_dpbusd_epi32(
            _mm512_dpbusd_epi32(_mm512_dpbusd_epi32(zero, flip, d->f[0][j]), flip, d->f[1][j]),
            flip, d->f[2][j]);
        zrq_make(b[j], mu[j], sh[j], _mm512_srai_epi32(s, 7), &d->q[j]);
    }
}

Z_INLINE void zdw_row(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                      const zdw *d, const el_opt_rq *rq, int32_t c, int8_t *out, int32_t ostep,
                      const int fast)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    const __m512i zp = _mm512_set1_epi16((short)rq->out_offset);
    const __m512i lo = _mm512_set1_epi8((char)rq->act_min);
    const __m512i hi = _mm512_set1_epi8((char)rq->act_max);
    const size_t d1 = (size_t)dstep, d2 = 2 * (size_t)dstep;
    const int8_t *p0 = rows[0] + c, *p1 = rows[1] + c, *p2 = rows[2] + c;
    int32_t p;
    for (p = 0; p < npix; ++p, p0 += xstep, p1 += xstep, p2 += xstep, out += ostep) {
        __m512i s0 = d->q[0].bias, s1 = d->q[1].bias, s2 = d->q[2].bias, s3 = d->q[3].bias, v[4];
#define Z_LD(P) _mm512_xor_si512(_mm512_loadu_si512((const void *)(P)), flip)
#define Z_GROUP(A, B, C, D, G)                                                                     \
    zdw_mix(A, B, C, D, v);                                                                        \
    s0 = _mm512_dpbusd_epi32(s0, v[0], d->f[G][0]);                                                \
    s1 = _mm512_dpbusd_epi32(s1, v[1], d->f[G][1]);                                                \
    s2 = _mm512_dpbusd_epi32(s2, v[2], d->f[G][2]);                                                \
    s3 = _mm512_dpbusd_epi32(s3, v[3], d->f[G][3]);
        Z_GROUP(Z_LD(p0), Z_LD(p0 + d1), Z_LD(p0 + d2), Z_LD(p1), 0)
        Z_GROUP(Z_LD(p1 + d1), Z_LD(p1 + d2), Z_LD(p2), Z_LD(p2 + d1), 1)
        Z_GROUP(Z_LD(p2 + d2), zero, zero, zero, 2)
#undef Z_GROUP
#undef Z_LD
        _mm512_storeu_si512((void *)out,
                            narrow4_lanes(rq16(s0, &d->q[0], fast), rq16(s1, &d->q[1], fast),
                                          rq16(s2, &d->q[2], fast), rq16(s3, &d->q[3], fast), zp,
                                          lo, hi));
    }
}

/* 32 channels, two pixels per vector (the second half: pixel p + 1, or p again for a last
 * odd pixel, not stored) */
Z_INLINE void zdw_row32(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                        const zdw *d, const el_opt_rq *rq, int32_t c, int8_t *out, int32_t ostep,
                        const int fast)
{
    const __m512i flip = _mm512_set1_epi8((char)0x80), zero = _mm512_setzero_si512();
    const __m512i zp = _mm512_set1_epi16((short)rq->out_offset);
    const __m512i lo = _mm512_set1_epi8((char)rq->act_min);
    const __m512i hi = _mm512_set1_epi8((char)rq->act_max);
    const size_t d1 = (size_t)dstep, d2 = 2 * (size_t)dstep;
    const int8_t *p0 = rows[0] + c, *p1 = rows[1] + c, *p2 = rows[2] + c;
    int32_t p;
    for (p = 0; p < npix; p += 2, p0 += 2 * xstep, p1 += 2 * xstep, p2 += 2 * xstep) {
        const size_t nx = p + 1 < npix ? (size_t)xstep : 0;
        __m512i s0 = d->q[0].bias, s1 = d->q[1].bias, s2 = d->q[2].bias, s3 = d->q[3].bias, v[4], r;
#define Z_LD(P)                                                                                    \
    _mm512_xor_si512(                                                                              \
        _mm512_inserti64x4(                                                                        \
            _mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)(const void *)(P))),        \
            _mm256_loadu_si256((const __m256i *)(const void *)((P) + nx)), 1),                     \
        flip)
#define Z_GROUP(A, B, C, D, G)                                                                     \
    zdw_mix(A, B, C, D, v);                                                                        \
    s0 = _mm512_dpbusd_epi32(s0, v[0], d->f[G][0]);                                                \
    s1 = _mm512_dpbusd_epi32(s1, v[1], d->f[G][1]);                                                \
    s2 = _mm512_dpbusd_epi32(s2, v[2], d->f[G][2]);                                                \
    s3 = _mm512_dpbusd_epi32(s3, v[3], d->f[G][3]);
        Z_GROUP(Z_LD(p0), Z_LD(p0 + d1), Z_LD(p0 + d2), Z_LD(p1), 0)
        Z_GROUP(Z_LD(p1 + d1), Z_LD(p1 + d2), Z_LD(p2), Z_LD(p2 + d1), 1)
        Z_GROUP(Z_LD(p2 + d2), zero, zero, zero, 2)
#undef Z_GROUP
#undef Z_LD
        r = narrow4_lanes(rq16(s0, &d->q[0], fast), rq16(s1, &d->q[1], fast),
                          rq16(s2, &d->q[2], fast), rq16(s3, &d->q[3], fast), zp, lo, hi);
        _mm256_storeu_si256((__m256i *)(void *)(out + (size_t)p * ostep),
                            _mm512_castsi512_si256(r));
        if (nx != 0) {
            _mm256_storeu_si256((__m256i *)(void *)(out + (size_t)(p + 1) * ostep),
                                _mm512_extracti64x4_epi64(r, 1));
        }
    }
}

Z_ATTR static void zdw_row32_any(const int8_t *const *rows, int32_t dstep, int32_t xstep,
                                 int32_t npix, const zdw *d, const el_opt_rq *rq, int32_t c,
                                 int8_t *out, int32_t ostep)
{
    zdw_row32(rows, dstep, xstep, npix, d, rq, c, out, ostep, 0);
}

Z_ATTR static void zdw_row32_rs(const int8_t *const *rows, int32_t dstep, int32_t xstep,
                                int32_t npix, const zdw *d, const el_opt_rq *rq, int32_t c,
                                int8_t *out, int32_t ostep)
{
    zdw_row32(rows, dstep, xstep, npix, d, rq, c, out, ostep, 1);
}

Z_ATTR static void zdw_row_any(const int8_t *const *rows, int32_t dstep, int32_t xstep,
                               int32_t npix, const zdw *d, const el_opt_rq *rq, int32_t c,
                               int8_t *out, int32_t ostep)
{
    zdw_row(rows, dstep, xstep, npix, d, rq, c, out, ostep, 0);
}

Z_ATTR static void zdw_row_rs(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                              const zdw *d, const el_opt_rq *rq, int32_t c, int8_t *out,
                              int32_t ostep)
{
    zdw_row(rows, dstep, xstep, npix, d, rq, c, out, ostep, 1);
}

typedef void (*zdw_row_fn)(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                           const zdw *d, const el_opt_rq *rq, int32_t c, int8_t *out,
                           int32_t ostep);

/* A block's prepared filter and constants: into *slot (kept in the layer's state, `ready`:
 * made by an earlier call of the layer) or a local copy. */
static const zdw *zdw_get(const int8_t *f, int32_t fstride, const el_opt_rq *rq, int32_t c,
                          int wide, int32_t nch, zdw *slot, int ready, zdw *local)
{
    zdw *d = slot != NULL ? slot : local;
    int32_t j;
    if (slot == NULL || !ready) {
        d->fast = 1;
        for (j = c; j < c + nch; ++j) {
            d->fast &= rq->shift[j] <= -1;
        }
        zdw_prepare(f, fstride, rq, c, wide, d);
    }
    return d;
}

/* Channels [c, c + 64) (wide) or [c, c + 32) of the rows. */
static void zdw_block(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                      const int8_t *f, int32_t fstride, const el_opt_rq *rq, int32_t c, int wide,
                      int8_t *out, int32_t ostep, zdw *slot, int ready)
{
    static const zdw_row_fn fns[2][2] = {{zdw_row32_any, zdw_row32_rs}, {zdw_row_any, zdw_row_rs}};
    zdw local;
    const zdw *d = zdw_get(f, fstride, rq, c, wide, wide ? 64 : 32, slot, ready, &local);
    fns[wide][d->fast](rows, dstep, xstep, npix, d, rq, c, out + c, ostep);
}

/* The layer's state (el_opt_rq.dw_state): a header naming the layer, then one prepared block
 * per 64 channels (+ 2). Returns the blocks, or NULL when there is no room; *ready: made by
 * an earlier call of the same layer (same filter, constants and channels). */
typedef struct {
    const int8_t *f;
    const int32_t *bias, *mult;
    int32_t fstride, n, ready;
} zdw_hdr;

static zdw *zdw_state(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq, int *ready)
{
    unsigned char *base = (unsigned char *)rq->dw_state;
    zdw_hdr *h;
    size_t skip;
    *ready = 0;
    /* the header in the 64 bytes the driver zeroed, the blocks after them 64-byte aligned */
    if (base == NULL || ((uintptr_t)base & 7u) != 0) {
        return NULL;
    }
    skip = 64u + ((64u - (size_t)((uintptr_t)base & 63u)) & 63u);
    if (rq->dw_state_bytes < skip + ((size_t)n / 64u + 2u) * sizeof(zdw)) {
        return NULL;
    }
    h = (zdw_hdr *)(void *)base;
    if (h->ready && h->f == f && h->bias == rq->bias && h->mult == rq->mult &&
        h->fstride == fstride && h->n == n) {
        *ready = 1;
    } else {
        h->f = f;
        h->bias = rq->bias;
        h->mult = rq->mult;
        h->fstride = fstride;
        h->n = n;
        h->ready = 1; /* this call prepares every block */
    }
    return (zdw *)(void *)(base + skip);
}

/* 16 or 32 channels in all whose pixels lie n bytes apart in the rows and in the output
 * (stride 1): 64 / n pixels per vector, one 64-byte load per tap and one store per group
 * (zdw_row with the filter and constants repeated per 128- or 256-bit lane); a last partial
 * group overlaps the one before (its bytes written twice, equal). */
static void zdw_packed(const int8_t *const *rows, int32_t dstep, int32_t npix, const int8_t *f,
                       int32_t fstride, int32_t n, const el_opt_rq *rq, int8_t *out, zdw *slot,
                       int ready)
{
    const int32_t ppv = 64 / n, groups = npix / ppv;
    zdw local;
    const zdw *d = zdw_get(f, fstride, rq, 0, n == 16 ? 2 : 0, n, slot, ready, &local);
    const zdw_row_fn fn = d->fast ? zdw_row_rs : zdw_row_any;
    fn(rows, dstep, 64, groups, d, rq, 0, out, 64);
    if (groups * ppv < npix) {
        const size_t back = (size_t)(npix - ppv) * (size_t)n;
        const int8_t *last[3];
        last[0] = rows[0] + back;
        last[1] = rows[1] + back;
        last[2] = rows[2] + back;
        fn(last, dstep, 64, 1, d, rq, 0, out + back, 64);
    }
}

/* Blocks of 64 channels, then one of 32; 8 to 16 channels left: AVX2's kernel (cheaper
 * there), fewer or more: a block of 32 overlapping the one before. Fewer than 32 channels in
 * all: AVX2's, except 16 (and 32) channels at stride 1 (zdw_packed). */
void el_opt_dw_rq_vnni512(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                          const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                          int8_t *out, int32_t ostep)
{
    int ready;
    zdw *slots = zdw_state(f, fstride, n, rq, &ready);
    int32_t c = 0, rest, blk = 0;
#define Z_SLOT(i) (slots != NULL ? slots + (i) : NULL)
    if ((n == 16 || n == 32) && xstep == n && ostep == n && npix >= 64 / n) {
        zdw_packed(rows, dstep, npix, f, fstride, n, rq, out, Z_SLOT(0), ready);
        return;
    }
    if (n < 32) {
        el_opt_dw_rq_avx2(rows, dstep, xstep, npix, f, fstride, n, rq, out, ostep);
        return;
    }
    for (; c + 64 <= n; c += 64) {
        zdw_block(rows, dstep, xstep, npix, f, fstride, rq, c, 1, out, ostep, Z_SLOT(blk++), ready);
    }
    if (c + 32 <= n) {
        zdw_block(rows, dstep, xstep, npix, f, fstride, rq, c, 0, out, ostep, Z_SLOT(blk++), ready);
        c += 32;
    }
    rest = n - c;
    if (rest >= 8 && rest <= 16) {
        const int8_t *rows_c[3];
        el_opt_rq part = *rq;
        rows_c[0] = rows[0] + c;
        rows_c[1] = rows[1] + c;
        rows_c[2] = rows[2] + c;
        part.bias += c;
        part.mult += c;
        part.shift += c;
        el_opt_dw_rq_avx2(rows_c, dstep, xstep, npix, f + c, fstride, rest, &part, out + c, ostep);
    } else if (rest > 0) {
        zdw_block(rows, dstep, xstep, npix, f, fstride, rq, n - 32, 0, out, ostep, Z_SLOT(blk),
                  ready);
    }
#undef Z_SLOT
}

/* ---- int8 ADD / SUB (el_opt_kernels.add): el_opt_add_avx2's arithmetic on 16 lanes ---- */
Z_ATTR static void zrq_uniform(int32_t mult, int32_t shift, zrq *q)
{
    const __m512i zero = _mm512_setzero_si512();
    zrq_make(zero, _mm512_set1_epi32(mult), _mm512_set1_epi32(shift), zero, q);
}

/* requantization of one ADD operand or its output by form: 0 any shift (rq16_any), 1 right
 * shifts only (rq16_rs), 2 shift 0 (no RoundingDivideByPOT: SRDHM alone) */
Z_INLINE __m512i zrq_form(__m512i v, const zrq *q, const int form)
{
    return form == 2 ? srdhm16(v, q) : form == 1 ? rq16_rs(v, q) : rq16_any(v, q);
}

static int zadd_form(int32_t shift)
{
    return shift <= -1 ? 1 : shift == 0 ? 2 : 0;
}

/* F1, F2, FO: the forms (zrq_form) of the two operands and the output, constants */
Z_INLINE void zadd(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                   const int8_t *b, int8_t *out, const int F1, const int F2, const int FO)
{
    zrq c1, c2, co;
    const __m512i off1 = _mm512_set1_epi32(p->input1_offset);
    const __m512i off2 = _mm512_set1_epi32(p->input2_offset);
    const __m512i ooff = _mm512_set1_epi32(p->output_offset);
    const __m512i lo = _mm512_set1_epi32(p->act_min), hi = _mm512_set1_epi32(p->act_max);
    const __m128i ls = _mm_cvtsi32_si128(p->left_shift);
    int32_t i = 0;
    zrq_uniform(p->input1_multiplier, p->input1_shift, &c1);
    zrq_uniform(p->input2_multiplier, p->input2_shift, &c2);
    zrq_uniform(p->output_multiplier, p->output_shift, &co);
    for (; i + 16 <= n; i += 16) {
        const __m512i x1 =
            _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(a + i)));
        const __m512i x2 =
            _mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i *)(const void *)(b + i)));
        const __m512i r1 = zrq_form(_mm512_sll_epi32(_mm512_add_epi32(x1, off1), ls), &c1, F1);
        const __m512i r2 = zrq_form(_mm512_sll_epi32(_mm512_add_epi32(x2, off2), ls), &c2, F2);
        const __m512i raw = is_sub ? _mm512_sub_epi32(r1, r2) : _mm512_add_epi32(r1, r2);
        __m512i r = _mm512_add_epi32(zrq_form(raw, &co, FO), ooff);
        r = _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
        _mm_storeu_si128((__m128i *)(void *)(out + i), _mm512_cvtepi32_epi8(r));
    }
    for (; i < n; ++i) {
        out[i] = el_opt_add1(p, is_sub, a[i], b[i]);
    }
}

Z_ATTR void el_opt_add_vnni512(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                               const int8_t *b, int8_t *out)
{
    /* ADD's prepare gives the operand of the larger scale the multiplier 0.5 (shift 0), the
     * other a right shift, the output a right shift */
    const int f = zadd_form(p->input1_shift) * 3 + zadd_form(p->input2_shift);
    if (zadd_form(p->output_shift) != 1) {
        zadd(p, is_sub, n, a, b, out, 0, 0, 0);
    } else if (f == 2 * 3 + 1) {
        zadd(p, is_sub, n, a, b, out, 2, 1, 1);
    } else if (f == 1 * 3 + 2) {
        zadd(p, is_sub, n, a, b, out, 1, 2, 1);
    } else if (f == 2 * 3 + 2) {
        zadd(p, is_sub, n, a, b, out, 2, 2, 1);
    } else {
        zadd(p, is_sub, n, a, b, out, 0, 0, 1);
    }
}

#else
/* ISO C forbids an empty translation unit. */
typedef int el_opt_x86_vnni_fused_unused;
#endif
