/* x86-64 AVX2: the int8 GEMM with the requantization fused (el_opt_kernels.gemm_rq), compiled
 * for AVX2 function by function (target attribute) like x86_avx2.c.
 *
 * Outputs come out as vectors across 8 output channels, so no horizontal sums: the filter is
 * in panels of 16 columns x pairs of k, widened to int16 (panel[p][j] = the int16 pair
 * (b[j][2p], b[j][2p + 1])): packed once at prepare as int8 pairs (el_opt_gemm_pack_avx2)
 * and widened as the tiles load them, or, without them, packed and widened per call (the
 * per-call packing cost 3 to 4 % of MobileNetV2-1.0/224 int8 on one thread, and more when
 * threads split a layer into several calls); each activation pair, widened to int16 once per
 * group of rows, is broadcast to all lanes, and vpmaddwd adds its two products into each column's
 * int32 lane (|a*b + c*d| <= 2^15: exact, as in x86_avx2.c). Accumulators start at the bias
 * (bias + input_offset * sum(w)) and are requantized in registers (x86_avx2_rq.h), narrowed
 * with saturation, the output zero point added with saturation and clamped as int8: a value
 * saturated on the way is far outside the activation range, so the bytes are the
 * reference's. No int32 tile is written or read back. */
#include <string.h>

#include "opt_internal.h"

#if defined(EL_OPT_HAVE_AVX2)
#include <immintrin.h>

#include "x86_avx2_rq.h"

#define RQ_KMAX 1024       /* longest k taken (a panel of 16 columns: 32 KB) */
#define RQ_PANEL_INTS 8192 /* int16 pairs of packed panels on the stack (32 KB) */
#define RQ_MMIN 8 /* fewer rows (batch-1 FULLY_CONNECTED): packing would not pay, the tiles */
#define RQ_MR 6   /* rows per register tile */

/* Requantization constants of one panel's 16 channels (zero past its columns). */
typedef struct {
    int32_t bias[16];
    rq8_ch ch[2];
    int fast; /* every channel shifts right (requant8_rs) */
} rq16;

EL_AVX2 static void rq16_load(const el_opt_rq *rq, int32_t j0, int32_t nr, rq16 *q)
{
    int32_t bias[16], mult[16], shift[16], j;
    el_opt_rq part;
    for (j = 0; j < 16; ++j) {
        bias[j] = j < nr ? rq->bias[j0 + j] : 0;
        mult[j] = j < nr ? rq->mult[j0 + j] : 0;
        shift[j] = j < nr ? rq->shift[j0 + j] : -1;
    }
    part.bias = bias;
    part.mult = mult;
    part.shift = shift;
    memcpy(q->bias, bias, sizeof bias);
    q->ch[0] = rq8_prepare(&part, 0);
    q->ch[1] = rq8_prepare(&part, 8);
    q->fast = rq_right_only(&part, 0, 16);
}

/* panel[p * 16 + j] = the int16 pair (b[j][2p], b[j][2p + 1]) as one int32, for j < 16 and
 * p < (k + 1) / 2; zero past nr columns and past k. Full halves of 8 columns take 16 bytes of
 * k at a time: an 8x8 transpose of 16-bit units (each unit a pair of k), widened. */
EL_AVX2 static void pack16(const int8_t *b, int32_t ldb, int32_t nr, int32_t k, int32_t *panel)
{
    const int32_t np = (k + 1) >> 1;
    int32_t h, p, j;
    for (h = 0; h < 2; ++h) {
        const int8_t *bh = b + (size_t)(8 * h) * ldb;
        p = 0;
        if (8 * h + 8 <= nr) {
            for (; 2 * p + 16 <= k; p += 8) {
                __m128i r[8], t[8], u[8];
                int32_t i;
                for (i = 0; i < 8; ++i) {
                    r[i] = _mm_loadu_si128(
                        (const __m128i *)(const void *)(bh + (size_t)i * ldb + 2 * p));
                }
                for (i = 0; i < 4; ++i) {
                    t[2 * i] = _mm_unpacklo_epi16(r[2 * i], r[2 * i + 1]);
                    t[2 * i + 1] = _mm_unpackhi_epi16(r[2 * i], r[2 * i + 1]);
                }
                /* u[0]: pairs 0, 1 of rows 0-3; u[1]: 2, 3; u[2]: 4, 5; u[3]: 6, 7; u[4..7]:
                 * the same of rows 4-7 */
                for (i = 0; i < 2; ++i) {
                    u[4 * i] = _mm_unpacklo_epi32(t[4 * i], t[4 * i + 2]);
                    u[4 * i + 1] = _mm_unpackhi_epi32(t[4 * i], t[4 * i + 2]);
                    u[4 * i + 2] = _mm_unpacklo_epi32(t[4 * i + 1], t[4 * i + 3]);
                    u[4 * i + 3] = _mm_unpackhi_epi32(t[4 * i + 1], t[4 * i + 3]);
                }
                for (i = 0; i < 4; ++i) {
                    int32_t *o = panel + (size_t)(p + 2 * i) * 16 + 8 * h;
                    _mm256_storeu_si256((__m256i *)(void *)o,
                                        _mm256_cvtepi8_epi16(_mm_unpacklo_epi64(u[i], u[4 + i])));
                    _mm256_storeu_si256((__m256i *)(void *)(o + 16),
                                        _mm256_cvtepi8_epi16(_mm_unpackhi_epi64(u[i], u[4 + i])));
                }
            }
        }
        for (; p < np; ++p) {
            for (j = 8 * h; j < 8 * h + 8; ++j) {
                const int8_t *src = b + (size_t)j * ldb;
                const int32_t lo = j < nr ? src[2 * p] : 0;
                const int32_t hi = j < nr && 2 * p + 1 < k ? src[2 * p + 1] : 0;
                panel[(size_t)p * 16 + j] =
                    (int32_t)((uint32_t)(uint16_t)lo | ((uint32_t)(uint16_t)hi << 16));
            }
        }
    }
}

/* Rows a[0..rows-1] widened to int16, kx apart (k rounded up to 16; bytes past k are
 * whatever the row holds there when padded, else zero: they only meet zero weights). */
EL_AVX2 static void widen_rows(const int8_t *const *a, int32_t rows, int32_t k, int padded,
                               int16_t *x, int32_t kx)
{
    int32_t i, kk;
    for (i = 0; i < rows; ++i, x += kx) {
        const int8_t *src = a[i];
        for (kk = 0; kk + 16 <= k; kk += 16) {
            _mm256_storeu_si256(
                (__m256i *)(void *)(x + kk),
                _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(src + kk))));
        }
        if (kk < k) {
            __m128i v;
            if (padded) {
                v = _mm_loadu_si128((const __m128i *)(const void *)(src + kk));
            } else if (k - kk == 8) { /* channel counts in multiples of 8 */
                v = _mm_loadl_epi64((const __m128i *)(const void *)(src + kk));
            } else {
                int8_t tmp[16];
                memset(tmp, 0, sizeof tmp);
                memcpy(tmp, src + kk, (size_t)(k - kk));
                v = _mm_loadu_si128((const __m128i *)(const void *)tmp);
            }
            _mm256_storeu_si256((__m256i *)(void *)(x + kk), _mm256_cvtepi8_epi16(v));
        }
    }
}

EL_AVX2 static inline __m256i bcast_pair(const int16_t *x)
{
    int32_t v;
    memcpy(&v, x, 4);
    return _mm256_set1_epi32(v);
}

/* Two rows of 16 requantized accumulators (a0 a1: row 0, b0 b1: row 1) as 32 int8: row 0 in
 * the low 16 bytes. */
EL_AVX2 static inline __attribute__((always_inline)) __m256i rq_rows2(__m256i a0, __m256i a1,
                                                                      __m256i b0, __m256i b1,
                                                                      const rq16 *q, __m256i zp,
                                                                      __m256i lo, __m256i hi,
                                                                      const int fast)
{
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i ra = _mm256_adds_epi16(
        _mm256_packs_epi32(requant8_f(a0, &q->ch[0], fast), requant8_f(a1, &q->ch[1], fast)), zp);
    const __m256i rb = _mm256_adds_epi16(
        _mm256_packs_epi32(requant8_f(b0, &q->ch[0], fast), requant8_f(b1, &q->ch[1], fast)), zp);
    const __m256i r = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(ra, rb), order);
    return _mm256_min_epi8(_mm256_max_epi8(r, lo), hi);
}

/* Stores row 0 (low half of v) and, if second, row 1: nr (1..16) bytes each. */
EL_AVX2 static inline void store_rows2(int8_t *o0, int8_t *o1, __m256i v, int32_t nr, int second)
{
    int8_t t[32];
    int32_t j;
    if (nr == 16) {
        _mm_storeu_si128((__m128i *)(void *)o0, _mm256_castsi256_si128(v));
        if (second) {
            _mm_storeu_si128((__m128i *)(void *)o1, _mm256_extracti128_si256(v, 1));
        }
        return;
    }
    _mm256_storeu_si256((__m256i *)(void *)t, v);
    for (j = 0; j < nr; ++j) {
        o0[j] = t[j];
    }
    for (j = 0; second && j < nr; ++j) {
        o1[j] = t[16 + j];
    }
}

/* Columns 8h..8h+7 of one pair of k of a panel as int16 pairs: pack16's int32 words (64
 * bytes a pair), or narrow: el_opt_gemm_pack_avx2's bytes (32 a pair), widened here. */
EL_AVX2 static inline __attribute__((always_inline)) __m256i panel_half(const unsigned char *pb,
                                                                        int h, const int narrow)
{
    if (narrow) {
        return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(pb + 16 * h)));
    }
    return _mm256_loadu_si256((const __m256i *)(const void *)(pb + 32 * h));
}

/* MR (RQ_MR = 6, or RQ_MRT = 2 for a GEMM's last rows) widened rows (x, kx apart; mr of them
 * stored) against one panel of nr columns: 12 accumulators, two panel vectors and a broadcast
 * in registers. */
EL_AVX2 static inline __attribute__((always_inline)) void
rq_tile16(const int16_t *x, int32_t kx, int32_t np, const void *panel, const rq16 *q,
          const el_opt_rq *rq, int32_t mr, int32_t nr, int8_t *out, int32_t ldout, const int fast,
          const int narrow, const int MR)
{
    const size_t pstep = narrow ? 32 : 64; /* bytes of panel per pair of k */
    const unsigned char *pb = (const unsigned char *)panel;
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)q->bias);
    const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(q->bias + 8));
    const size_t ldx = (size_t)kx;
    const int16_t *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    const int16_t *x4 = x + 4 * ldx, *x5 = x + 5 * ldx;
    __m256i s00 = b0, s01 = b1, s10 = b0, s11 = b1, s20 = b0, s21 = b1, s30 = b0, s31 = b1;
    __m256i s40 = b0, s41 = b1, s50 = b0, s51 = b1;
    int32_t p;
    for (p = 0; p < np; ++p, pb += pstep) {
        const __m256i w0 = panel_half(pb, 0, narrow);
        const __m256i w1 = panel_half(pb, 1, narrow);
        __m256i v = bcast_pair(x0 + 2 * p);
        s00 = _mm256_add_epi32(s00, _mm256_madd_epi16(v, w0));
        s01 = _mm256_add_epi32(s01, _mm256_madd_epi16(v, w1));
        v = bcast_pair(x1 + 2 * p);
        s10 = _mm256_add_epi32(s10, _mm256_madd_epi16(v, w0));
        s11 = _mm256_add_epi32(s11, _mm256_madd_epi16(v, w1));
        if (MR <= 2) {
            continue;
        }
        v = bcast_pair(x2 + 2 * p);
        s20 = _mm256_add_epi32(s20, _mm256_madd_epi16(v, w0));
        s21 = _mm256_add_epi32(s21, _mm256_madd_epi16(v, w1));
        v = bcast_pair(x3 + 2 * p);
        s30 = _mm256_add_epi32(s30, _mm256_madd_epi16(v, w0));
        s31 = _mm256_add_epi32(s31, _mm256_madd_epi16(v, w1));
        v = bcast_pair(x4 + 2 * p);
        s40 = _mm256_add_epi32(s40, _mm256_madd_epi16(v, w0));
        s41 = _mm256_add_epi32(s41, _mm256_madd_epi16(v, w1));
        v = bcast_pair(x5 + 2 * p);
        s50 = _mm256_add_epi32(s50, _mm256_madd_epi16(v, w0));
        s51 = _mm256_add_epi32(s51, _mm256_madd_epi16(v, w1));
    }
    {
        const __m256i zp = _mm256_set1_epi16((int16_t)rq->out_offset);
        const __m256i lo = _mm256_set1_epi8((char)rq->act_min);
        const __m256i hi = _mm256_set1_epi8((char)rq->act_max);
        const size_t ld = (size_t)ldout;
        store_rows2(out, out + ld, rq_rows2(s00, s01, s10, s11, q, zp, lo, hi, fast), nr, mr > 1);
        if (MR > 2 && mr > 2) {
            store_rows2(out + 2 * ld, out + 3 * ld,
                        rq_rows2(s20, s21, s30, s31, q, zp, lo, hi, fast), nr, mr > 3);
        }
        if (MR > 4 && mr > 4) {
            store_rows2(out + 4 * ld, out + 5 * ld,
                        rq_rows2(s40, s41, s50, s51, q, zp, lo, hi, fast), nr, mr > 5);
        }
    }
}

/* Rows of 8 bytes held in r (row i at bytes 8i), rows < nrows stored, nr (1..8) bytes each. */
EL_AVX2 static inline void store_rows8(int8_t *out, int32_t ldout, __m256i r, int32_t nrows,
                                       int32_t nr)
{
    int8_t t[32];
    int32_t i, j;
    if (nr == 8 && nrows == 4) {
        const __m128i lo = _mm256_castsi256_si128(r), hi = _mm256_extracti128_si256(r, 1);
        _mm_storel_epi64((__m128i *)(void *)out, lo);
        _mm_storeh_pd((double *)(void *)(out + ldout), _mm_castsi128_pd(lo));
        _mm_storel_epi64((__m128i *)(void *)(out + 2 * (size_t)ldout), hi);
        _mm_storeh_pd((double *)(void *)(out + 3 * (size_t)ldout), _mm_castsi128_pd(hi));
        return;
    }
    _mm256_storeu_si256((__m256i *)(void *)t, r);
    for (i = 0; i < nrows; ++i) {
        for (j = 0; j < nr; ++j) {
            out[(size_t)i * ldout + j] = t[8 * i + j];
        }
    }
}

/* The same for a panel of at most 8 columns (its first 8 lanes): half the products. */
EL_AVX2 static inline __attribute__((always_inline)) void
rq_tile8(const int16_t *x, int32_t kx, int32_t np, const void *panel, const rq16 *q,
         const el_opt_rq *rq, int32_t mr, int32_t nr, int8_t *out, int32_t ldout, const int fast,
         const int narrow, const int MR)
{
    const size_t pstep = narrow ? 32 : 64;
    const unsigned char *pb = (const unsigned char *)panel;
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)q->bias);
    const size_t ldx = (size_t)kx;
    const int16_t *x0 = x, *x1 = x + ldx, *x2 = x + 2 * ldx, *x3 = x + 3 * ldx;
    const int16_t *x4 = x + 4 * ldx, *x5 = x + 5 * ldx;
    __m256i s0 = b0, s1 = b0, s2 = b0, s3 = b0, s4 = b0, s5 = b0;
    int32_t p;
    for (p = 0; p < np; ++p, pb += pstep) {
        const __m256i w0 = panel_half(pb, 0, narrow);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(bcast_pair(x0 + 2 * p), w0));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(bcast_pair(x1 + 2 * p), w0));
        if (MR <= 2) {
            continue;
        }
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(bcast_pair(x2 + 2 * p), w0));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(bcast_pair(x3 + 2 * p), w0));
        s4 = _mm256_add_epi32(s4, _mm256_madd_epi16(bcast_pair(x4 + 2 * p), w0));
        s5 = _mm256_add_epi32(s5, _mm256_madd_epi16(bcast_pair(x5 + 2 * p), w0));
    }
    {
        /* 4 rows x 8 channels per vector: packs interleave 4-lane halves, vpermd puts each
         * row's 8 bytes together */
        const rq8_ch *ch = &q->ch[0];
        const __m256i zp = _mm256_set1_epi16((int16_t)rq->out_offset);
        const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
        const __m256i lo = _mm256_set1_epi8((char)rq->act_min);
        const __m256i hi = _mm256_set1_epi8((char)rq->act_max);
        const __m256i r01 = _mm256_adds_epi16(
            _mm256_packs_epi32(requant8_f(s0, ch, fast), requant8_f(s1, ch, fast)), zp);
        const __m256i r23 =
            MR > 2 ? _mm256_adds_epi16(
                         _mm256_packs_epi32(requant8_f(s2, ch, fast), requant8_f(s3, ch, fast)), zp)
                   : r01;
        __m256i r = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(r01, r23), order);
        store_rows8(out, ldout, _mm256_min_epi8(_mm256_max_epi8(r, lo), hi), mr < 4 ? mr : 4, nr);
        if (MR > 4 && mr > 4) {
            const __m256i r45 = _mm256_adds_epi16(
                _mm256_packs_epi32(requant8_f(s4, ch, fast), requant8_f(s5, ch, fast)), zp);
            r = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(r45, r45), order);
            store_rows8(out + 4 * (size_t)ldout, ldout, _mm256_min_epi8(_mm256_max_epi8(r, lo), hi),
                        mr - 4, nr);
        }
    }
}

/* One instantiation per tile width and requantization form. */
typedef void (*rq_tile_fn)(const int16_t *x, int32_t kx, int32_t np, const void *panel,
                           const rq16 *q, const el_opt_rq *rq, int32_t mr, int32_t nr, int8_t *out,
                           int32_t ldout);
#define EL_RQ_TILE(NAME, BODY, FAST, NARROW, MR)                                                   \
    EL_AVX2 static void NAME(const int16_t *x, int32_t kx, int32_t np, const void *panel,          \
                             const rq16 *q, const el_opt_rq *rq, int32_t mr, int32_t nr,           \
                             int8_t *out, int32_t ldout)                                           \
    {                                                                                              \
        BODY(x, kx, np, panel, q, rq, mr, nr, out, ldout, FAST, NARROW, MR);                       \
    }
#define RQ_MRT 2 /* rows of the short tiles for a GEMM's last rows */
EL_RQ_TILE(tile16_any, rq_tile16, 0, 0, RQ_MR)
EL_RQ_TILE(tile16_rs, rq_tile16, 1, 0, RQ_MR)
EL_RQ_TILE(tile8_any, rq_tile8, 0, 0, RQ_MR)
EL_RQ_TILE(tile8_rs, rq_tile8, 1, 0, RQ_MR)
EL_RQ_TILE(tile16n_any, rq_tile16, 0, 1, RQ_MR)
EL_RQ_TILE(tile16n_rs, rq_tile16, 1, 1, RQ_MR)
EL_RQ_TILE(tile8n_any, rq_tile8, 0, 1, RQ_MR)
EL_RQ_TILE(tile8n_rs, rq_tile8, 1, 1, RQ_MR)
EL_RQ_TILE(tile16_any_t, rq_tile16, 0, 0, RQ_MRT)
EL_RQ_TILE(tile16_rs_t, rq_tile16, 1, 0, RQ_MRT)
EL_RQ_TILE(tile8_any_t, rq_tile8, 0, 0, RQ_MRT)
EL_RQ_TILE(tile8_rs_t, rq_tile8, 1, 0, RQ_MRT)
EL_RQ_TILE(tile16n_any_t, rq_tile16, 0, 1, RQ_MRT)
EL_RQ_TILE(tile16n_rs_t, rq_tile16, 1, 1, RQ_MRT)
EL_RQ_TILE(tile8n_any_t, rq_tile8, 0, 1, RQ_MRT)
EL_RQ_TILE(tile8n_rs_t, rq_tile8, 1, 1, RQ_MRT)
#undef EL_RQ_TILE

/* narrow: the panels are el_opt_gemm_pack_avx2's bytes, not pack16's words; rows: RQ_MR, or
 * RQ_MRT for the short tiles */
static rq_tile_fn tile_for(int32_t nr, const rq16 *q, int narrow, int32_t rows)
{
    if (rows == RQ_MRT) {
        if (narrow) {
            return nr > 8 ? (q->fast ? tile16n_rs_t : tile16n_any_t)
                          : (q->fast ? tile8n_rs_t : tile8n_any_t);
        }
        return nr > 8 ? (q->fast ? tile16_rs_t : tile16_any_t)
                      : (q->fast ? tile8_rs_t : tile8_any_t);
    }
    if (narrow) {
        return nr > 8 ? (q->fast ? tile16n_rs : tile16n_any) : (q->fast ? tile8n_rs : tile8n_any);
    }
    return nr > 8 ? (q->fast ? tile16_rs : tile16_any) : (q->fast ? tile8_rs : tile8_any);
}

/* Rows of the group at i0 of m rows that its tiles compute: RQ_MR, or RQ_MRT for a last group
 * where those tiles compute fewer rows in all (a 7x7 map's 49th row: 2 rows, not 6). */
static int32_t group_tile_rows(int32_t m, int32_t i0)
{
    const int32_t mr = m - i0;
    return mr < RQ_MR && (mr + RQ_MRT - 1) / RQ_MRT * RQ_MRT < RQ_MR ? RQ_MRT : RQ_MR;
}

/* The group of rows at i0 widened into x: *rows (group_tile_rows) rows, a short group
 * repeating its last row. Returns how many of them are real (to be stored). */
EL_AVX2 static int32_t widen_group(const int8_t *const *a, int32_t m, int32_t i0, int32_t k,
                                   int padded, int16_t *x, int32_t kx, int32_t *rows)
{
    const int8_t *g[RQ_MR];
    int32_t i;
    *rows = group_tile_rows(m, i0);
    for (i = 0; i < *rows; ++i) {
        g[i] = a[i0 + i < m ? i0 + i : m - 1];
    }
    widen_rows(g, *rows, k, padded, x, kx);
    return m - i0 < *rows ? m - i0 : *rows;
}

int el_opt_gemm_rq_avx2(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                        int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout)
{
    int32_t panel[RQ_PANEL_INTS] __attribute__((aligned(32)));
    int16_t x[RQ_MR * RQ_KMAX] __attribute__((aligned(32)));
    rq16 q[4];
    const int32_t np = (k + 1) >> 1, kx = (k + 15) & ~15, npanels = (n + 15) >> 4;
    const int padded = rq->a_padded != 0;
    int32_t i0, j0, t, rows = RQ_MR;
    /* few rows of a long k: packing per call does not pay, the dot-product tiles (measured
     * on MobileNetV2's 7x7 and 3x3 layers) */
    if (k < 1 || k > RQ_KMAX || m < RQ_MMIN || n > 64 ||
        (rq->packed == NULL && ((k >= 256 && m < 64) || (k > 64 && m < 16)))) {
        return 0;
    }
    if (rq->packed != NULL || (size_t)npanels * 16 * (size_t)np <= RQ_PANEL_INTS) {
        /* every panel at hand at once, prepare's (el_opt_gemm_pack_avx2: nothing packed here)
         * or packed into the stack buffer now: each group of rows is widened once for all */
        const int narrow = rq->packed != NULL;
        const unsigned char *base =
            narrow ? (const unsigned char *)rq->packed : (const unsigned char *)(const void *)panel;
        const size_t pbytes = (size_t)(narrow ? 32 : 64) * (size_t)np; /* one panel */
        for (t = 0; t < npanels; ++t) {
            const int32_t nr = n - 16 * t < 16 ? n - 16 * t : 16;
            if (!narrow) {
                pack16(b + (size_t)(16 * t) * ldb, ldb, nr, k, panel + (size_t)t * 16 * np);
            }
            rq16_load(rq, 16 * t, nr, &q[t]);
        }
        for (i0 = 0; i0 < m; i0 += rows) {
            const int32_t mr = widen_group(a, m, i0, k, padded, x, kx, &rows);
            for (t = 0; t < npanels; ++t) {
                const int32_t nr = n - 16 * t < 16 ? n - 16 * t : 16;
                tile_for(nr, &q[t], narrow, rows)(x, kx, np, base + (size_t)t * pbytes, &q[t], rq,
                                                  mr, nr, out + (size_t)i0 * ldout + 16 * t, ldout);
            }
        }
        return 1;
    }
    /* long k: one panel at a time, every group of rows widened for each */
    for (j0 = 0; j0 < n; j0 += 16) {
        const int32_t nr = n - j0 < 16 ? n - j0 : 16;
        pack16(b + (size_t)j0 * ldb, ldb, nr, k, panel);
        rq16_load(rq, j0, nr, &q[0]);
        for (i0 = 0; i0 < m; i0 += rows) {
            const int32_t mr = widen_group(a, m, i0, k, padded, x, kx, &rows);
            tile_for(nr, &q[0], 0, rows)(x, kx, np, panel, &q[0], rq, mr, nr,
                                         out + (size_t)i0 * ldout + j0, ldout);
        }
    }
    return 1;
}

/* The whole filter (n rows of k bytes) for rq->packed, made once at prepare: panels of 16
 * columns, pair p of k of column j at bytes 32p + 2j and 32p + 2j + 1 of its panel (zero past n
 * and past k): pack16's layout in int8, which the tiles widen as they load it, so the panels
 * take the filter's own size (el_opt_conv2d_s8_packed_bytes) rather than twice it. Column j
 * (a multiple of 16) starts at j * el_opt_gemm_pack_stride_avx2(k) bytes. */
int32_t el_opt_gemm_pack_stride_avx2(int32_t k)
{
    return (k + 1) & ~1;
}

void el_opt_gemm_pack_avx2(int32_t n, int32_t k, const int8_t *b, int8_t *packed)
{
    const int32_t np = (k + 1) >> 1, npanels = (n + 15) >> 4;
    int32_t t, p, j;
    for (t = 0; t < npanels; ++t) {
        int8_t *panel = packed + (size_t)t * 32 * (size_t)np;
        for (p = 0; p < np; ++p) {
            for (j = 0; j < 16; ++j) {
                const int32_t col = 16 * t + j;
                const int8_t *src = b + (size_t)col * k;
                panel[32 * p + 2 * j] = col < n ? src[2 * p] : 0;
                panel[32 * p + 2 * j + 1] = col < n && 2 * p + 1 < k ? src[2 * p + 1] : 0;
            }
        }
    }
}

/* ---- 3x3 depthwise with the requantization fused (el_opt_kernels.dw_rq) ----
 * 16 channels at a time (a last partial block overlaps the one before it: the same outputs
 * written again), 8 for a chunk of 8 to 15 channels. Taps go in pairs: the int8 inputs of two
 * taps interleaved byte by byte and widened, vpmaddwd with the filter interleaved the same way
 * (made once per call), exact as in the GEMM; accumulators start at the bias and are
 * requantized as there. Any filter and any shift: dw_rq_ok only wants 8 channels. */
int el_opt_dw_rq_ok_avx2(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq)
{
    (void)f, (void)fstride, (void)rq;
    return n >= 8;
}

/* 16 bytes of two taps interleaved byte by byte and widened: lo holds channels 0-7, hi 8-15. */
EL_AVX2 static inline void dw_pair(__m128i a, __m128i b, __m256i *lo, __m256i *hi)
{
    *lo = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b));
    *hi = _mm256_cvtepi8_epi16(_mm_unpackhi_epi8(a, b));
}

EL_AVX2 static inline __m128i ld128(const int8_t *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* Filter taps (t, t + 1) of 16 channels interleaved and widened as dw_pair does (tap 9:
 * zeros). */
EL_AVX2 static void dw_filter16(const int8_t *f, int32_t fstride, __m256i *w)
{
    int32_t t;
    for (t = 0; t < 9; t += 2) {
        dw_pair(ld128(f + (size_t)t * fstride),
                t + 1 < 9 ? ld128(f + (size_t)(t + 1) * fstride) : _mm_setzero_si128(), &w[t],
                &w[t + 1]);
    }
}

EL_AVX2 static inline __attribute__((always_inline)) void
dw3_rq16(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix, const int8_t *f,
         int32_t fstride, const el_opt_rq *rq, int32_t c, int8_t *out, int32_t ostep,
         const int fast)
{
    __m256i w[10];
    const size_t d1 = (size_t)dstep, d2 = 2 * (size_t)dstep;
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i zp = _mm256_set1_epi16((int16_t)rq->out_offset);
    const __m256i lo = _mm256_set1_epi8((char)rq->act_min),
                  hi = _mm256_set1_epi8((char)rq->act_max);
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(rq->bias + c));
    const __m256i b1 = _mm256_loadu_si256((const __m256i *)(const void *)(rq->bias + c + 8));
    const rq8_ch ch0 = rq8_prepare(rq, c), ch1 = rq8_prepare(rq, c + 8);
    const int8_t *p0 = rows[0] + c, *p1 = rows[1] + c, *p2 = rows[2] + c;
    int32_t p;
    dw_filter16(f + c, fstride, w);
    for (p = 0; p < npix; ++p, p0 += xstep, p1 += xstep, p2 += xstep, out += ostep) {
        __m256i s0 = b0, s1 = b1, xl, xh, r;
#define EL_DW_TAPS(XA, XB, T)                                                                      \
    dw_pair(ld128(XA), XB, &xl, &xh);                                                              \
    s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(xl, w[T]));                                        \
    s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(xh, w[T + 1]));
        EL_DW_TAPS(p0, ld128(p0 + d1), 0)
        EL_DW_TAPS(p0 + d2, ld128(p1), 2)
        EL_DW_TAPS(p1 + d1, ld128(p1 + d2), 4)
        EL_DW_TAPS(p2, ld128(p2 + d1), 6)
        EL_DW_TAPS(p2 + d2, _mm_setzero_si128(), 8)
#undef EL_DW_TAPS
        r = _mm256_adds_epi16(
            _mm256_packs_epi32(requant8_f(s0, &ch0, fast), requant8_f(s1, &ch1, fast)), zp);
        r = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(r, r), order);
        r = _mm256_min_epi8(_mm256_max_epi8(r, lo), hi);
        _mm_storeu_si128((__m128i *)(void *)out, _mm256_castsi256_si128(r));
    }
}

/* 8 channels: taps read 8 bytes, channels 0-7 only. */
EL_AVX2 static inline __attribute__((always_inline)) void
dw3_rq8(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix, const int8_t *f,
        int32_t fstride, const el_opt_rq *rq, int32_t c, int8_t *out, int32_t ostep, const int fast)
{
    __m256i w[5];
    const size_t d1 = (size_t)dstep, d2 = 2 * (size_t)dstep;
    const __m128i zp = _mm_set1_epi16((int16_t)rq->out_offset);
    const __m128i lo = _mm_set1_epi8((char)rq->act_min), hi = _mm_set1_epi8((char)rq->act_max);
    const __m256i b0 = _mm256_loadu_si256((const __m256i *)(const void *)(rq->bias + c));
    const rq8_ch ch0 = rq8_prepare(rq, c);
    const int8_t *p0 = rows[0] + c, *p1 = rows[1] + c, *p2 = rows[2] + c;
    const int8_t *x[9];
    int32_t p, t;
    for (t = 0; t < 9; t += 2) {
        const __m128i a = _mm_loadl_epi64((const __m128i *)(const void *)(f + c + t * fstride));
        const __m128i b =
            t + 1 < 9 ? _mm_loadl_epi64((const __m128i *)(const void *)(f + c + (t + 1) * fstride))
                      : _mm_setzero_si128();
        w[t / 2] = _mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b));
    }
    for (p = 0; p < npix; ++p, p0 += xstep, p1 += xstep, p2 += xstep, out += ostep) {
        __m256i s = b0;
        __m128i r;
        x[0] = p0, x[1] = p0 + d1, x[2] = p0 + d2;
        x[3] = p1, x[4] = p1 + d1, x[5] = p1 + d2;
        x[6] = p2, x[7] = p2 + d1, x[8] = p2 + d2;
        for (t = 0; t < 9; t += 2) {
            const __m128i a = _mm_loadl_epi64((const __m128i *)(const void *)x[t]);
            const __m128i b = t + 1 < 9 ? _mm_loadl_epi64((const __m128i *)(const void *)x[t + 1])
                                        : _mm_setzero_si128();
            s = _mm256_add_epi32(
                s, _mm256_madd_epi16(_mm256_cvtepi8_epi16(_mm_unpacklo_epi8(a, b)), w[t / 2]));
        }
        s = requant8_f(s, &ch0, fast);
        r = _mm_adds_epi16(
            _mm_packs_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1)), zp);
        r = _mm_min_epi8(_mm_max_epi8(_mm_packs_epi16(r, r), lo), hi);
        _mm_storel_epi64((__m128i *)(void *)out, r);
    }
}

#define EL_DW_RQ(NAME, BODY, FAST)                                                                 \
    EL_AVX2 static void NAME(const int8_t *const *rows, int32_t dstep, int32_t xstep,              \
                             int32_t npix, const int8_t *f, int32_t fstride, const el_opt_rq *rq,  \
                             int32_t c, int8_t *out, int32_t ostep)                                \
    {                                                                                              \
        BODY(rows, dstep, xstep, npix, f, fstride, rq, c, out, ostep, FAST);                       \
    }
EL_DW_RQ(dw16_any, dw3_rq16, 0)
EL_DW_RQ(dw16_rs, dw3_rq16, 1)
EL_DW_RQ(dw8_any, dw3_rq8, 0)
EL_DW_RQ(dw8_rs, dw3_rq8, 1)
#undef EL_DW_RQ

void el_opt_dw_rq_avx2(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                       int8_t *out, int32_t ostep)
{
    int32_t c;
    if (n < 16) { /* 8 to 15 channels: two overlapping blocks of 8 */
        (rq_right_only(rq, 0, 8) ? dw8_rs : dw8_any)(rows, dstep, xstep, npix, f, fstride, rq, 0,
                                                     out, ostep);
        if (n > 8) {
            c = n - 8;
            (rq_right_only(rq, c, 8) ? dw8_rs : dw8_any)(rows, dstep, xstep, npix, f, fstride, rq,
                                                         c, out + c, ostep);
        }
        return;
    }
    for (c = 0; c < n; c += 16) {
        const int32_t cc = c + 16 <= n ? c : n - 16;
        (rq_right_only(rq, cc, 16) ? dw16_rs : dw16_any)(rows, dstep, xstep, npix, f, fstride, rq,
                                                         cc, out + cc, ostep);
    }
}

#else
/* ISO C forbids an empty translation unit. */
typedef int el_opt_x86_avx2_fused_unused;
#endif
