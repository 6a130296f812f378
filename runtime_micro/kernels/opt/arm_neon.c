/* aarch64 building blocks: NEON (every ARMv8-A CPU) and SDOT (ARMv8.2 dot-product extension,
 * compiled per function with a target attribute and called only when HWCAP_ASIMDDP says the
 * CPU has it, so one binary serves ARMv8.0 and ARMv8.2 phones).
 *
 * Exactness: NEON products are int8*int8 -> int16 (vmull_s8, never overflows) added pairwise
 * into int32 (vpadalq_s16); SDOT sums four int8 products straight into int32. vqrdmulhq_s32
 * is SaturatingRoundingDoublingHighMul itself. */
#include <string.h>

#include "gemm_tiles.h"
#include "opt_internal.h"

#if defined(EL_OPT_HAVE_NEON)
#include <arm_neon.h>

#include "../el_quant.h"

#define EL_SDOT __attribute__((target("arch=armv8.2-a+dotprod")))

static void tail_k(const int8_t *const *a, const int8_t *b0, const int8_t *b1, int32_t k0,
                   int32_t k, int32_t *r)
{
    int32_t i, kk;
    for (i = 0; i < 4; ++i) {
        for (kk = k0; kk < k; ++kk) {
            r[i * 2] += (int32_t)a[i][kk] * b0[kk];
            r[i * 2 + 1] += (int32_t)a[i][kk] * b1[kk];
        }
    }
}

static inline int32x4_t mac16(int32x4_t acc, int8x16_t x, int8x16_t w)
{
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(x), vget_low_s8(w)));
    return vpadalq_s16(acc, vmull_high_s8(x, w));
}

/* One 4 rows x 2 columns tile, r[i * 2 + j]; MAC(acc, x, w) adds 16 products into 4 lanes.
 * Written out row by row so the eight accumulators stay in registers. */
#define EL_NEON_TILE(NAME, ATTR, MAC)                                                              \
    ATTR static void NAME(const int8_t *const *a, const int8_t *b0, const int8_t *b1, int32_t k,   \
                          int32_t *r)                                                              \
    {                                                                                              \
        const int8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];                               \
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0;       \
        int32x4_t s7 = s0;                                                                         \
        int32_t kk;                                                                                \
        for (kk = 0; kk + 16 <= k; kk += 16) {                                                     \
            const int8x16_t w0 = vld1q_s8(b0 + kk), w1 = vld1q_s8(b1 + kk);                        \
            int8x16_t x = vld1q_s8(a0 + kk);                                                       \
            s0 = MAC(s0, x, w0);                                                                   \
            s1 = MAC(s1, x, w1);                                                                   \
            x = vld1q_s8(a1 + kk);                                                                 \
            s2 = MAC(s2, x, w0);                                                                   \
            s3 = MAC(s3, x, w1);                                                                   \
            x = vld1q_s8(a2 + kk);                                                                 \
            s4 = MAC(s4, x, w0);                                                                   \
            s5 = MAC(s5, x, w1);                                                                   \
            x = vld1q_s8(a3 + kk);                                                                 \
            s6 = MAC(s6, x, w0);                                                                   \
            s7 = MAC(s7, x, w1);                                                                   \
        }                                                                                          \
        if (kk + 8 <= k) { /* 8 more bytes, the upper half of the vectors zero */                  \
            const int8x8_t z = vdup_n_s8(0);                                                       \
            const int8x16_t w0 = vcombine_s8(vld1_s8(b0 + kk), z);                                 \
            const int8x16_t w1 = vcombine_s8(vld1_s8(b1 + kk), z);                                 \
            int8x16_t x = vcombine_s8(vld1_s8(a0 + kk), z);                                        \
            s0 = MAC(s0, x, w0);                                                                   \
            s1 = MAC(s1, x, w1);                                                                   \
            x = vcombine_s8(vld1_s8(a1 + kk), z);                                                  \
            s2 = MAC(s2, x, w0);                                                                   \
            s3 = MAC(s3, x, w1);                                                                   \
            x = vcombine_s8(vld1_s8(a2 + kk), z);                                                  \
            s4 = MAC(s4, x, w0);                                                                   \
            s5 = MAC(s5, x, w1);                                                                   \
            x = vcombine_s8(vld1_s8(a3 + kk), z);                                                  \
            s6 = MAC(s6, x, w0);                                                                   \
            s7 = MAC(s7, x, w1);                                                                   \
            kk += 8;                                                                               \
        }                                                                                          \
        r[0] = vaddvq_s32(s0);                                                                     \
        r[1] = vaddvq_s32(s1);                                                                     \
        r[2] = vaddvq_s32(s2);                                                                     \
        r[3] = vaddvq_s32(s3);                                                                     \
        r[4] = vaddvq_s32(s4);                                                                     \
        r[5] = vaddvq_s32(s5);                                                                     \
        r[6] = vaddvq_s32(s6);                                                                     \
        r[7] = vaddvq_s32(s7);                                                                     \
        tail_k(a, b0, b1, kk, k, r);                                                               \
    }

EL_SDOT static inline int32x4_t sdot16(int32x4_t acc, int8x16_t x, int8x16_t w)
{
    return vdotq_s32(acc, x, w);
}

EL_NEON_TILE(tile4x2_neon, , mac16)
EL_NEON_TILE(tile4x2_sdot, EL_SDOT, sdot16)

/* One row x 4 columns, r[j]: for the rows a 4-row tile would only repeat (batch-1
 * FULLY_CONNECTED has a single row). */
#define EL_NEON_ROW(NAME, ATTR, MAC)                                                               \
    ATTR static void NAME(const int8_t *a, const int8_t *b, int32_t ldb, int32_t k, int32_t *r)    \
    {                                                                                              \
        const int8_t *b0 = b, *b1 = b + ldb, *b2 = b + 2 * ldb, *b3 = b + 3 * ldb;                 \
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;                                  \
        int32_t kk, j;                                                                             \
        for (kk = 0; kk + 16 <= k; kk += 16) {                                                     \
            const int8x16_t x = vld1q_s8(a + kk);                                                  \
            s0 = MAC(s0, x, vld1q_s8(b0 + kk));                                                    \
            s1 = MAC(s1, x, vld1q_s8(b1 + kk));                                                    \
            s2 = MAC(s2, x, vld1q_s8(b2 + kk));                                                    \
            s3 = MAC(s3, x, vld1q_s8(b3 + kk));                                                    \
        }                                                                                          \
        r[0] = vaddvq_s32(s0);                                                                     \
        r[1] = vaddvq_s32(s1);                                                                     \
        r[2] = vaddvq_s32(s2);                                                                     \
        r[3] = vaddvq_s32(s3);                                                                     \
        for (; kk < k; ++kk) {                                                                     \
            for (j = 0; j < 4; ++j) {                                                              \
                r[j] += (int32_t)a[kk] * b[(size_t)j * ldb + kk];                                  \
            }                                                                                      \
        }                                                                                          \
    }

EL_NEON_ROW(row1x4_neon, , mac16)
EL_NEON_ROW(row1x4_sdot, EL_SDOT, sdot16)

/* The first n (1..8) bytes at p in the low lanes, zero above, reading nothing past them. */
static inline int8x8_t load_partial8(const int8_t *p, int32_t n)
{
    uint64_t v = 0;
    int32_t i = 0;
    if (n == 8) {
        return vld1_s8(p);
    }
    if (n >= 4) {
        uint32_t w;
        memcpy(&w, p, 4);
        v = w;
        i = 4;
    }
    for (; i < n; ++i) {
        v |= (uint64_t)(uint8_t)p[i] << (8 * i);
    }
    return vreinterpret_s8_u64(vcreate_u64(v));
}

/* A 4 x 8 tile of c (rows of ldc) into / out of eight accumulators; a partial tile (mr < 4
 * rows or nr < 8 columns) goes through a zero-padded copy. */
static inline void tile_load(const int32_t *c, int32_t ldc, int32_t mr, int32_t nr, int32x4_t *s)
{
    int32_t t[4][8], i;
    if (mr < 4 || nr < 8) {
        memset(t, 0, sizeof t);
        for (i = 0; i < mr; ++i) {
            memcpy(t[i], c + (size_t)i * ldc, (size_t)nr * 4);
        }
        c = t[0];
        ldc = 8;
    }
    for (i = 0; i < 4; ++i) {
        s[2 * i] = vld1q_s32(c + (size_t)i * ldc);
        s[2 * i + 1] = vld1q_s32(c + (size_t)i * ldc + 4);
    }
}

static inline void tile_store(int32_t *c, int32_t ldc, int32_t mr, int32_t nr, const int32x4_t *s)
{
    int32_t t[4][8], i;
    if (mr == 4 && nr == 8) {
        for (i = 0; i < 4; ++i) {
            vst1q_s32(c + (size_t)i * ldc, s[2 * i]);
            vst1q_s32(c + (size_t)i * ldc + 4, s[2 * i + 1]);
        }
        return;
    }
    for (i = 0; i < 4; ++i) {
        vst1q_s32(t[i], s[2 * i]);
        vst1q_s32(t[i] + 4, s[2 * i + 1]);
    }
    for (i = 0; i < mr; ++i) {
        memcpy(c + (size_t)i * ldc, t[i], (size_t)nr * 4);
    }
}

/* ARMv8.0 (no SDOT) with 8+ rows: 8 columns of b widened to int16 once per call, k-major
 * (panel[kk * 8 + j] = b[j][k0 + kk]); each row's 8 bytes widen once and VMLAL by lane adds
 * one k for 8 columns (int16 x int16 -> int32, exact). Outputs come out as vectors across
 * columns, so a small k (8-channel layers) costs no horizontal sums. */
#define NEON_KSEG 1024

static void neon_tile4x8(const int8_t *const *rows, int32_t k0, int32_t ks, const int16_t *panel,
                         int32_t *c, int32_t ldc, int32_t mr, int32_t nr, int accumulate)
{
    const int8_t *a0 = rows[0] + k0, *a1 = rows[1] + k0, *a2 = rows[2] + k0;
    const int8_t *a3 = rows[3] + k0;
    int32x4_t s[8];
    int32_t kk, i;
    if (accumulate) {
        tile_load(c, ldc, mr, nr, s);
    } else {
        for (i = 0; i < 8; ++i) {
            s[i] = vdupq_n_s32(0);
        }
    }
#define EL_NEON_STEP(L)                                                                            \
    {                                                                                              \
        const int16x8_t w = vld1q_s16(panel + (L) * 8);                                            \
        s[0] = vmlal_laneq_s16(s[0], vget_low_s16(w), x0, L);                                      \
        s[1] = vmlal_high_laneq_s16(s[1], w, x0, L);                                               \
        s[2] = vmlal_laneq_s16(s[2], vget_low_s16(w), x1, L);                                      \
        s[3] = vmlal_high_laneq_s16(s[3], w, x1, L);                                               \
        s[4] = vmlal_laneq_s16(s[4], vget_low_s16(w), x2, L);                                      \
        s[5] = vmlal_high_laneq_s16(s[5], w, x2, L);                                               \
        s[6] = vmlal_laneq_s16(s[6], vget_low_s16(w), x3, L);                                      \
        s[7] = vmlal_high_laneq_s16(s[7], w, x3, L);                                               \
    }
    for (kk = 0; kk + 8 <= ks; kk += 8, panel += 64) {
        const int16x8_t x0 = vmovl_s8(vld1_s8(a0 + kk)), x1 = vmovl_s8(vld1_s8(a1 + kk));
        const int16x8_t x2 = vmovl_s8(vld1_s8(a2 + kk)), x3 = vmovl_s8(vld1_s8(a3 + kk));
        EL_NEON_STEP(0)
        EL_NEON_STEP(1)
        EL_NEON_STEP(2)
        EL_NEON_STEP(3)
        EL_NEON_STEP(4)
        EL_NEON_STEP(5)
        EL_NEON_STEP(6)
        EL_NEON_STEP(7)
    }
    if (kk < ks) {
        const int32_t rem = ks - kk;
        const int16x8_t x0 = vmovl_s8(load_partial8(a0 + kk, rem));
        const int16x8_t x1 = vmovl_s8(load_partial8(a1 + kk, rem));
        const int16x8_t x2 = vmovl_s8(load_partial8(a2 + kk, rem));
        const int16x8_t x3 = vmovl_s8(load_partial8(a3 + kk, rem));
        EL_NEON_STEP(0)
        if (rem > 1) {
            EL_NEON_STEP(1)
        }
        if (rem > 2) {
            EL_NEON_STEP(2)
        }
        if (rem > 3) {
            EL_NEON_STEP(3)
        }
        if (rem > 4) {
            EL_NEON_STEP(4)
        }
        if (rem > 5) {
            EL_NEON_STEP(5)
        }
        if (rem > 6) {
            EL_NEON_STEP(6)
        }
    }
#undef EL_NEON_STEP
    tile_store(c, ldc, mr, nr, s);
}

void el_opt_gemm_neon(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                      int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc)
{
    int16_t panel[NEON_KSEG * 8];
    int32_t j0, k0, i0, i, j, kk;
    (void)bsum;
    if (m < 8) { /* too few rows to pay for packing (batch-1 FULLY_CONNECTED): dot products */
        el_gemm_tiles(tile4x2_neon, row1x4_neon, m, n, k, a, b, ldb, c, ldc);
        return;
    }
    for (j0 = 0; j0 < n; j0 += 8) {
        const int32_t nr = n - j0 < 8 ? n - j0 : 8;
        for (k0 = 0; k0 < k; k0 += NEON_KSEG) {
            const int32_t ks = k - k0 < NEON_KSEG ? k - k0 : NEON_KSEG;
            if (nr < 8) {
                memset(panel, 0, (size_t)ks * 8 * sizeof(int16_t));
            }
            for (j = 0; j < nr; ++j) {
                const int8_t *src = b + (size_t)(j0 + j) * ldb + k0;
                for (kk = 0; kk < ks; ++kk) {
                    panel[kk * 8 + j] = src[kk];
                }
            }
            for (i0 = 0; i0 < m; i0 += 4) {
                const int32_t mr = m - i0 < 4 ? m - i0 : 4;
                const int8_t *rows[4];
                for (i = 0; i < 4; ++i) {
                    rows[i] = a[i0 + (i < mr ? i : mr - 1)];
                }
                neon_tile4x8(rows, k0, ks, panel, c + (size_t)i0 * ldc + j0, ldc, mr, nr, k0 > 0);
            }
        }
    }
}

/* SDOT by element on a packed panel: 8 columns x 4 bytes of k per 32 bytes, so one
 * vdotq_laneq_s32 adds a row's 4-byte group (a lane of its 16-byte load) times 4 columns
 * into 4 int32 lanes. Outputs come out as vectors across columns (no horizontal sums, which
 * dominate the dot-product tiles when k is small), and a panel packed once serves every row
 * of the call. Long k runs in segments so the panel fits the stack. */
#define SDOT_KSEG 2048

/* The last n (1..15) bytes of a row's k segment as one vector, zero above. */
static inline int8x16_t load_partial16(const int8_t *p, int32_t n)
{
    return n > 8 ? vcombine_s8(vld1_s8(p), load_partial8(p + 8, n - 8))
                 : vcombine_s8(load_partial8(p, n), vdup_n_s8(0));
}

/* 4 rows x 8 columns of c over one k segment, accumulators in registers from the first load
 * to the store. Groups of 4 bytes that lie wholly past the segment's end are skipped (their
 * panel bytes are zero), which matters when k is small (8-channel layers). */
EL_SDOT static void sdot_tile4x8(const int8_t *const *rows, int32_t k0, int32_t ks,
                                 const int8_t *panel, int32_t *c, int32_t ldc, int32_t mr,
                                 int32_t nr, int accumulate)
{
    const int8_t *a0 = rows[0] + k0, *a1 = rows[1] + k0, *a2 = rows[2] + k0;
    const int8_t *a3 = rows[3] + k0;
    int32x4_t s0, s1, s2, s3, s4, s5, s6, s7;
    int32_t kk;
    if (!accumulate) {
        s0 = s1 = s2 = s3 = s4 = s5 = s6 = s7 = vdupq_n_s32(0);
    } else { /* continue the sums of the previous segment */
        int32x4_t s[8];
        tile_load(c, ldc, mr, nr, s);
        s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3], s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7];
    }
#define EL_SDOT_QUAD(Q)                                                                            \
    {                                                                                              \
        const int8x16_t w0 = vld1q_s8(panel + (Q) * 32), w1 = vld1q_s8(panel + (Q) * 32 + 16);     \
        s0 = vdotq_laneq_s32(s0, w0, x0, Q);                                                       \
        s1 = vdotq_laneq_s32(s1, w1, x0, Q);                                                       \
        s2 = vdotq_laneq_s32(s2, w0, x1, Q);                                                       \
        s3 = vdotq_laneq_s32(s3, w1, x1, Q);                                                       \
        s4 = vdotq_laneq_s32(s4, w0, x2, Q);                                                       \
        s5 = vdotq_laneq_s32(s5, w1, x2, Q);                                                       \
        s6 = vdotq_laneq_s32(s6, w0, x3, Q);                                                       \
        s7 = vdotq_laneq_s32(s7, w1, x3, Q);                                                       \
    }
    for (kk = 0; kk + 16 <= ks; kk += 16, panel += 128) {
        const int8x16_t x0 = vld1q_s8(a0 + kk), x1 = vld1q_s8(a1 + kk);
        const int8x16_t x2 = vld1q_s8(a2 + kk), x3 = vld1q_s8(a3 + kk);
        EL_SDOT_QUAD(0)
        EL_SDOT_QUAD(1)
        EL_SDOT_QUAD(2)
        EL_SDOT_QUAD(3)
    }
    if (kk < ks) {
        const int32_t rem = ks - kk;
        const int8x16_t x0 = load_partial16(a0 + kk, rem), x1 = load_partial16(a1 + kk, rem);
        const int8x16_t x2 = load_partial16(a2 + kk, rem), x3 = load_partial16(a3 + kk, rem);
        EL_SDOT_QUAD(0)
        if (rem > 4) {
            EL_SDOT_QUAD(1)
        }
        if (rem > 8) {
            EL_SDOT_QUAD(2)
        }
        if (rem > 12) {
            EL_SDOT_QUAD(3)
        }
    }
#undef EL_SDOT_QUAD
    {
        int32x4_t s[8];
        s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3, s[4] = s4, s[5] = s5, s[6] = s6, s[7] = s7;
        tile_store(c, ldc, mr, nr, s);
    }
}

/* k <= 16 and 8 full columns: the panel's (at most) 8 vectors stay in registers for every
 * group of 4 rows, so a row group costs its loads, k/4 x 8 SDOTs and 8 stores (the
 * expansion 1x1 convs of MobileNet-style blocks have k = 8..16). Returns the rows done. */
EL_SDOT static int32_t sdot_rows_small_k(int32_t m, const int8_t *const *a, int32_t ks,
                                         const int8_t *panel, int32_t *c, int32_t ldc)
{
    const int8x16_t w00 = vld1q_s8(panel), w01 = vld1q_s8(panel + 16);
    const int8x16_t w10 = vld1q_s8(panel + 32), w11 = vld1q_s8(panel + 48);
    const int8x16_t w20 = vld1q_s8(panel + 64), w21 = vld1q_s8(panel + 80);
    const int8x16_t w30 = vld1q_s8(panel + 96), w31 = vld1q_s8(panel + 112);
    const int32x4_t zero = vdupq_n_s32(0);
    int32_t i0;
    for (i0 = 0; i0 + 4 <= m; i0 += 4, c += 4 * ldc) {
        int8x16_t x0, x1, x2, x3;
        int32x4_t s0 = zero, s1 = zero, s2 = zero, s3 = zero;
        int32x4_t s4 = zero, s5 = zero, s6 = zero, s7 = zero;
        if (ks == 16) {
            x0 = vld1q_s8(a[i0]);
            x1 = vld1q_s8(a[i0 + 1]);
            x2 = vld1q_s8(a[i0 + 2]);
            x3 = vld1q_s8(a[i0 + 3]);
        } else if (ks == 8) {
            x0 = vcombine_s8(vld1_s8(a[i0]), vdup_n_s8(0));
            x1 = vcombine_s8(vld1_s8(a[i0 + 1]), vdup_n_s8(0));
            x2 = vcombine_s8(vld1_s8(a[i0 + 2]), vdup_n_s8(0));
            x3 = vcombine_s8(vld1_s8(a[i0 + 3]), vdup_n_s8(0));
        } else {
            x0 = load_partial16(a[i0], ks);
            x1 = load_partial16(a[i0 + 1], ks);
            x2 = load_partial16(a[i0 + 2], ks);
            x3 = load_partial16(a[i0 + 3], ks);
        }
#define EL_SDOT_QUAD_REG(Q, W0, W1)                                                                \
    s0 = vdotq_laneq_s32(s0, W0, x0, Q);                                                           \
    s1 = vdotq_laneq_s32(s1, W1, x0, Q);                                                           \
    s2 = vdotq_laneq_s32(s2, W0, x1, Q);                                                           \
    s3 = vdotq_laneq_s32(s3, W1, x1, Q);                                                           \
    s4 = vdotq_laneq_s32(s4, W0, x2, Q);                                                           \
    s5 = vdotq_laneq_s32(s5, W1, x2, Q);                                                           \
    s6 = vdotq_laneq_s32(s6, W0, x3, Q);                                                           \
    s7 = vdotq_laneq_s32(s7, W1, x3, Q);
        EL_SDOT_QUAD_REG(0, w00, w01)
        if (ks > 4) {
            EL_SDOT_QUAD_REG(1, w10, w11)
        }
        if (ks > 8) {
            EL_SDOT_QUAD_REG(2, w20, w21)
        }
        if (ks > 12) {
            EL_SDOT_QUAD_REG(3, w30, w31)
        }
#undef EL_SDOT_QUAD_REG
        vst1q_s32(c, s0);
        vst1q_s32(c + 4, s1);
        vst1q_s32(c + ldc, s2);
        vst1q_s32(c + ldc + 4, s3);
        vst1q_s32(c + 2 * ldc, s4);
        vst1q_s32(c + 2 * ldc + 4, s5);
        vst1q_s32(c + 3 * ldc, s6);
        vst1q_s32(c + 3 * ldc + 4, s7);
    }
    return i0;
}

void el_opt_gemm_sdot(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                      int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc)
{
    int8_t panel[SDOT_KSEG / 16 * 128];
    int32_t j0, k0, i0, i, j, kk;
    (void)bsum;
    if (m < 16 && k > 16) { /* too few rows to pay for packing (batch-1 FULLY_CONNECTED, the
                             * last convs of a network): dot products */
        el_gemm_tiles(tile4x2_sdot, row1x4_sdot, m, n, k, a, b, ldb, c, ldc);
        return;
    }
    for (j0 = 0; j0 < n; j0 += 8) {
        const int32_t nr = n - j0 < 8 ? n - j0 : 8;
        for (k0 = 0; k0 < k; k0 += SDOT_KSEG) {
            const int32_t ks = k - k0 < SDOT_KSEG ? k - k0 : SDOT_KSEG;
            const int32_t kp = (ks + 15) & ~15;
            /* panel[(kk / 4) * 32 + j * 4 + kk % 4] = b[j][k0 + kk], zero past k and n */
            memset(panel, 0, (size_t)kp * 8);
            for (j = 0; j < nr; ++j) {
                const int8_t *src = b + (size_t)(j0 + j) * ldb + k0;
                for (kk = 0; kk + 4 <= ks; kk += 4) {
                    memcpy(panel + (kk >> 2) * 32 + j * 4, src + kk, 4);
                }
                for (; kk < ks; ++kk) {
                    panel[(kk >> 2) * 32 + j * 4 + (kk & 3)] = src[kk];
                }
            }
            i0 = k <= 16 && nr == 8 ? sdot_rows_small_k(m, a, ks, panel, c + j0, ldc) : 0;
            for (; i0 < m; i0 += 4) {
                const int32_t mr = m - i0 < 4 ? m - i0 : 4;
                const int8_t *rows[4];
                for (i = 0; i < 4; ++i) {
                    rows[i] = a[i0 + (i < mr ? i : mr - 1)];
                }
                sdot_tile4x8(rows, k0, ks, panel, c + (size_t)i0 * ldc + j0, ldc, mr, nr, k0 > 0);
            }
        }
    }
}

void el_opt_dw_neon(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride,
                    int32_t n, int32_t *acc)
{
    int32_t c = 0, t;
    for (; c + 16 <= n; c += 16) {
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        for (t = 0; t < taps; ++t) {
            const int8x16_t xv = vld1q_s8(x[t] + c);
            const int8x16_t fv = vld1q_s8(f + (size_t)t * fstride + c);
            const int16x8_t lo = vmull_s8(vget_low_s8(xv), vget_low_s8(fv));
            const int16x8_t hi = vmull_high_s8(xv, fv);
            s0 = vaddw_s16(s0, vget_low_s16(lo));
            s1 = vaddw_high_s16(s1, lo);
            s2 = vaddw_s16(s2, vget_low_s16(hi));
            s3 = vaddw_high_s16(s3, hi);
        }
        vst1q_s32(acc + c, s0);
        vst1q_s32(acc + c + 4, s1);
        vst1q_s32(acc + c + 8, s2);
        vst1q_s32(acc + c + 12, s3);
    }
    for (; c < n; ++c) {
        int32_t s = 0;
        for (t = 0; t < taps; ++t) {
            s += (int32_t)x[t][c] * f[(size_t)t * fstride + c];
        }
        acc[c] = s;
    }
}

/* Products of two taps summed in int16 lanes (VMULL + VMLAL) before widening: exact when no
 * filter byte is -128 (|x * f| <= 128 * 127, two of them <= 32512), which quantized weights
 * never are (TFLite's int8 weights are symmetric in [-127, 127]); checked per call. */
static inline int no_min_filter(int32_t taps, const int8_t *f, int32_t fstride, int32_t c,
                                int32_t lanes)
{
    int8x16_t mn = vdupq_n_s8(127);
    int32_t t;
    for (t = 0; t < taps; ++t) {
        mn = vminq_s8(mn, lanes == 16
                              ? vld1q_s8(f + (size_t)t * fstride + c)
                              : vcombine_s8(vld1_s8(f + (size_t)t * fstride + c), vdup_n_s8(127)));
    }
    return vminvq_s8(mn) > -128;
}

/* Two taps of 16 channels summed in int16, then widened into the four int32 sums. */
#define EL_DW_PAIR(S0, S1, S2, S3, XA, WA, XB, WB)                                                 \
    {                                                                                              \
        const int16x8_t lo_ = vmlal_s8(vmull_s8(vget_low_s8(XA), vget_low_s8(WA)),                 \
                                       vget_low_s8(XB), vget_low_s8(WB));                          \
        const int16x8_t hi_ = vmlal_high_s8(vmull_high_s8(XA, WA), XB, WB);                        \
        S0 = vaddw_s16(S0, vget_low_s16(lo_));                                                     \
        S1 = vaddw_high_s16(S1, lo_);                                                              \
        S2 = vaddw_s16(S2, vget_low_s16(hi_));                                                     \
        S3 = vaddw_high_s16(S3, hi_);                                                              \
    }

/* 3x3 (9 taps) on 16 channels: filter and tap offsets in registers for the whole run. */
static void dw_run9_16(const int8_t *x0, const int32_t *toff, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t *acc, int32_t ldacc)
{
    const size_t fs = (size_t)fstride;
    const int8x16_t w0 = vld1q_s8(f), w1 = vld1q_s8(f + fs), w2 = vld1q_s8(f + 2 * fs);
    const int8x16_t w3 = vld1q_s8(f + 3 * fs), w4 = vld1q_s8(f + 4 * fs);
    const int8x16_t w5 = vld1q_s8(f + 5 * fs), w6 = vld1q_s8(f + 6 * fs);
    const int8x16_t w7 = vld1q_s8(f + 7 * fs), w8 = vld1q_s8(f + 8 * fs);
    const int32_t o1 = toff[1], o2 = toff[2], o3 = toff[3], o4 = toff[4];
    const int32_t o5 = toff[5], o6 = toff[6], o7 = toff[7], o8 = toff[8];
    int32_t p;
    for (p = 0; p < npix; ++p, x0 += xstep, acc += ldacc) {
        /* toff[0] is 0: the run starts at the first pixel's top-left tap */
        const int8x16_t x_0 = vld1q_s8(x0), x_1 = vld1q_s8(x0 + o1), x_2 = vld1q_s8(x0 + o2);
        const int8x16_t x_3 = vld1q_s8(x0 + o3), x_4 = vld1q_s8(x0 + o4);
        const int8x16_t x_5 = vld1q_s8(x0 + o5), x_6 = vld1q_s8(x0 + o6);
        const int8x16_t x_7 = vld1q_s8(x0 + o7), x_8 = vld1q_s8(x0 + o8);
        const int16x8_t lo = vmull_s8(vget_low_s8(x_8), vget_low_s8(w8));
        const int16x8_t hi = vmull_high_s8(x_8, w8);
        int32x4_t s0 = vmovl_s16(vget_low_s16(lo)), s1 = vmovl_high_s16(lo);
        int32x4_t s2 = vmovl_s16(vget_low_s16(hi)), s3 = vmovl_high_s16(hi);
        EL_DW_PAIR(s0, s1, s2, s3, x_0, w0, x_1, w1)
        EL_DW_PAIR(s0, s1, s2, s3, x_2, w2, x_3, w3)
        EL_DW_PAIR(s0, s1, s2, s3, x_4, w4, x_5, w5)
        EL_DW_PAIR(s0, s1, s2, s3, x_6, w6, x_7, w7)
        vst1q_s32(acc, s0);
        vst1q_s32(acc + 4, s1);
        vst1q_s32(acc + 8, s2);
        vst1q_s32(acc + 12, s3);
    }
}

void el_opt_dw_run_neon(int32_t taps, const int8_t *x0, const int32_t *toff, int32_t xstep,
                        int32_t npix, const int8_t *f, int32_t fstride, int32_t n, int32_t *acc)
{
    int32_t c = 0, p, t;
    for (; c + 16 <= n; c += 16) {
        if (taps == 9 && no_min_filter(taps, f, fstride, c, 16)) {
            dw_run9_16(x0 + c, toff, xstep, npix, f + c, fstride, acc + c, n);
        } else if (taps <= 9 && no_min_filter(taps, f, fstride, c, 16)) {
            int8x16_t w[9];
            for (t = 0; t < taps; ++t) {
                w[t] = vld1q_s8(f + (size_t)t * fstride + c);
            }
            for (p = 0; p < npix; ++p) {
                const int8_t *xp = x0 + (size_t)p * xstep + c;
                int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
                for (t = 0; t + 2 <= taps; t += 2) {
                    const int8x16_t xa = vld1q_s8(xp + toff[t]), xb = vld1q_s8(xp + toff[t + 1]);
                    const int16x8_t lo = vmlal_s8(vmull_s8(vget_low_s8(xa), vget_low_s8(w[t])),
                                                  vget_low_s8(xb), vget_low_s8(w[t + 1]));
                    const int16x8_t hi = vmlal_high_s8(vmull_high_s8(xa, w[t]), xb, w[t + 1]);
                    s0 = vaddw_s16(s0, vget_low_s16(lo));
                    s1 = vaddw_high_s16(s1, lo);
                    s2 = vaddw_s16(s2, vget_low_s16(hi));
                    s3 = vaddw_high_s16(s3, hi);
                }
                if (t < taps) {
                    const int8x16_t xa = vld1q_s8(xp + toff[t]);
                    const int16x8_t lo = vmull_s8(vget_low_s8(xa), vget_low_s8(w[t]));
                    const int16x8_t hi = vmull_high_s8(xa, w[t]);
                    s0 = vaddw_s16(s0, vget_low_s16(lo));
                    s1 = vaddw_high_s16(s1, lo);
                    s2 = vaddw_s16(s2, vget_low_s16(hi));
                    s3 = vaddw_high_s16(s3, hi);
                }
                vst1q_s32(acc + (size_t)p * n + c, s0);
                vst1q_s32(acc + (size_t)p * n + c + 4, s1);
                vst1q_s32(acc + (size_t)p * n + c + 8, s2);
                vst1q_s32(acc + (size_t)p * n + c + 12, s3);
            }
        } else {
            break; /* the per-pixel path below takes these channels */
        }
    }
    if (c + 8 <= n && c + 16 > n && taps <= 9 && no_min_filter(taps, f, fstride, c, 8)) {
        int8x8_t w[9];
        for (t = 0; t < taps; ++t) {
            w[t] = vld1_s8(f + (size_t)t * fstride + c);
        }
        for (p = 0; p < npix; ++p) {
            const int8_t *xp = x0 + (size_t)p * xstep + c;
            int32x4_t s0 = vdupq_n_s32(0), s1 = s0;
            for (t = 0; t + 2 <= taps; t += 2) {
                const int16x8_t v = vmlal_s8(vmull_s8(vld1_s8(xp + toff[t]), w[t]),
                                             vld1_s8(xp + toff[t + 1]), w[t + 1]);
                s0 = vaddw_s16(s0, vget_low_s16(v));
                s1 = vaddw_high_s16(s1, v);
            }
            if (t < taps) {
                const int16x8_t v = vmull_s8(vld1_s8(xp + toff[t]), w[t]);
                s0 = vaddw_s16(s0, vget_low_s16(v));
                s1 = vaddw_high_s16(s1, v);
            }
            vst1q_s32(acc + (size_t)p * n + c, s0);
            vst1q_s32(acc + (size_t)p * n + c + 4, s1);
        }
        c += 8;
    }
    if (c == n) {
        return;
    }
    /* the remaining channels (a tail under 8, or a filter with -128): per pixel, one tap at a
     * time, as el_opt_dw_neon */
    for (p = 0; p < npix; ++p) {
        const int8_t *x[EL_OPT_DW_TAPS];
        const int8_t *xp = x0 + (size_t)p * xstep;
        for (t = 0; t < taps; ++t) {
            x[t] = xp + toff[t] + c;
        }
        el_opt_dw_neon(taps, x, f + c, fstride, n - c, acc + (size_t)p * n + c);
    }
}

/* Per-channel constants of el_requant on 4 lanes, loaded once per call, not per row. */
typedef struct {
    int32x4_t bias, mult, left, neg_right;
} rq4;

static inline rq4 rq4_load(const el_opt_rq *rq, int32_t c)
{
    const int32x4_t zero = vdupq_n_s32(0), shift = vld1q_s32(rq->shift + c);
    rq4 k;
    k.bias = vld1q_s32(rq->bias + c);
    k.mult = vld1q_s32(rq->mult + c);
    k.left = vmaxq_s32(shift, zero);
    k.neg_right = vminq_s32(shift, zero);
    return k;
}

/* The same for one multiplier and shift in every lane. */
static inline rq4 rq4_const(int32_t bias, int32_t mult, int32_t shift)
{
    rq4 k;
    k.bias = vdupq_n_s32(bias);
    k.mult = vdupq_n_s32(mult);
    k.left = vdupq_n_s32(shift > 0 ? shift : 0);
    k.neg_right = vdupq_n_s32(shift > 0 ? 0 : shift);
    return k;
}

/* el_requant on 4 lanes (multipliers >= 0) of acc + bias. RoundingDivideByPOT rounds half away
 * from zero; VRSHL rounds half up, so negative values are first moved down by one (saturating,
 * which only matters at INT32_MIN, whose low bits are zero anyway): for h < 0 and r > 0,
 * floor((h - 1 + 2^(r-1)) / 2^r) is the reference's (h >> r) + (rem > thr). */
static inline int32x4_t requant4(int32x4_t acc, const rq4 *k)
{
    const int32x4_t v = vaddq_s32(acc, k->bias);
    const int32x4_t h = vqrdmulhq_s32(vshlq_s32(v, k->left), k->mult);
    const int32x4_t fixup = vshrq_n_s32(vandq_s32(h, k->neg_right), 31);
    return vrshlq_s32(vqaddq_s32(h, fixup), k->neg_right);
}

void el_opt_requant_neon(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                         int32_t ldacc, int8_t *out, int32_t ldout)
{
    const int32x4_t off = vdupq_n_s32(rq->out_offset);
    const int32x4_t lo = vdupq_n_s32(rq->act_min), hi = vdupq_n_s32(rq->act_max);
    int32_t c = 0, i;
    for (; c + 16 <= n; c += 16) {
        const rq4 k0 = rq4_load(rq, c), k1 = rq4_load(rq, c + 4);
        const rq4 k2 = rq4_load(rq, c + 8), k3 = rq4_load(rq, c + 12);
        for (i = 0; i < m; ++i) {
            const int32_t *a = acc + (size_t)i * ldacc + c;
            const int32x4_t r0 = vaddq_s32(requant4(vld1q_s32(a), &k0), off);
            const int32x4_t r1 = vaddq_s32(requant4(vld1q_s32(a + 4), &k1), off);
            const int32x4_t r2 = vaddq_s32(requant4(vld1q_s32(a + 8), &k2), off);
            const int32x4_t r3 = vaddq_s32(requant4(vld1q_s32(a + 12), &k3), off);
            /* saturating narrows keep the order of clamping: the bounds are within int8 */
            const int16x8_t p0 = vcombine_s16(vqmovn_s32(r0), vqmovn_s32(r1));
            const int16x8_t p1 = vcombine_s16(vqmovn_s32(r2), vqmovn_s32(r3));
            int8x16_t o = vcombine_s8(vqmovn_s16(p0), vqmovn_s16(p1));
            o = vminq_s8(vmaxq_s8(o, vdupq_n_s8((int8_t)rq->act_min)),
                         vdupq_n_s8((int8_t)rq->act_max));
            vst1q_s8(out + (size_t)i * ldout + c, o);
        }
    }
    for (; c + 8 <= n; c += 8) {
        const rq4 k0 = rq4_load(rq, c), k1 = rq4_load(rq, c + 4);
        for (i = 0; i < m; ++i) {
            const int32_t *a = acc + (size_t)i * ldacc + c;
            int32x4_t r0 = vaddq_s32(requant4(vld1q_s32(a), &k0), off);
            int32x4_t r1 = vaddq_s32(requant4(vld1q_s32(a + 4), &k1), off);
            r0 = vminq_s32(vmaxq_s32(r0, lo), hi);
            r1 = vminq_s32(vmaxq_s32(r1, lo), hi);
            vst1_s8(out + (size_t)i * ldout + c,
                    vqmovn_s16(vcombine_s16(vqmovn_s32(r0), vqmovn_s32(r1))));
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

/* Any multipliers and shifts (el_opt_add_neon takes the usual ones faster). */
static void add_neon_any(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                         const int8_t *b, int8_t *out)
{
    const rq4 k1 = rq4_const(0, p->input1_multiplier, p->input1_shift);
    const rq4 k2 = rq4_const(0, p->input2_multiplier, p->input2_shift);
    const rq4 ko = rq4_const(0, p->output_multiplier, p->output_shift);
    const int32x4_t off1 = vdupq_n_s32(p->input1_offset), off2 = vdupq_n_s32(p->input2_offset);
    const int32x4_t ooff = vdupq_n_s32(p->output_offset), ls = vdupq_n_s32(p->left_shift);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    int32_t i = 0, h;
    for (; i + 8 <= n; i += 8) {
        const int16x8_t x1 = vmovl_s8(vld1_s8(a + i)), x2 = vmovl_s8(vld1_s8(b + i));
        int32x4_t r[2];
        for (h = 0; h < 2; ++h) {
            const int32x4_t v1 = h ? vmovl_high_s16(x1) : vmovl_s16(vget_low_s16(x1));
            const int32x4_t v2 = h ? vmovl_high_s16(x2) : vmovl_s16(vget_low_s16(x2));
            const int32x4_t r1 = requant4(vshlq_s32(vaddq_s32(v1, off1), ls), &k1);
            const int32x4_t r2 = requant4(vshlq_s32(vaddq_s32(v2, off2), ls), &k2);
            const int32x4_t raw = is_sub ? vsubq_s32(r1, r2) : vaddq_s32(r1, r2);
            r[h] = vminq_s32(vmaxq_s32(vaddq_s32(requant4(raw, &ko), ooff), lo), hi);
        }
        vst1_s8(out + i, vqmovn_s16(vcombine_s16(vqmovn_s32(r[0]), vqmovn_s32(r[1]))));
    }
    for (; i < n; ++i) {
        out[i] = el_opt_add1(p, is_sub, a[i], b[i]);
    }
}

void el_opt_rowsum_neon(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out)
{
    int32_t j, kk;
    for (j = 0; j < n; ++j) {
        const int8_t *w = b + (size_t)j * ldb;
        int32x4_t s = vdupq_n_s32(0);
        uint32_t t;
        for (kk = 0; kk + 16 <= k; kk += 16) {
            s = vpadalq_s16(s, vpaddlq_s8(vld1q_s8(w + kk)));
        }
        t = (uint32_t)vaddvq_s32(s);
        for (; kk < k; ++kk) {
            t += (uint32_t)(int32_t)w[kk];
        }
        out[j] = (int32_t)t;
    }
}

/* ---- SDOT GEMM with the requantization fused (el_opt_kernels.gemm_rq) ----
 * Each output's accumulator starts at its bias (bias + input_offset * sum(w)), takes its k
 * products from SDOTs by element on a packed panel (as el_opt_gemm_sdot), and is requantized
 * in registers: no int32 tile is written or read back. The arithmetic is el_requant's:
 *   h = VQRDMULH(v << left, m)  (SaturatingRoundingDoublingHighMul itself, m >= 0);
 *   RoundingDivideByPOT(h, r) = VRSHL(h - (h < 0 && r > 0), -r): VRSHL rounds half up, the
 *   reference half away from zero. With m >= 0, h >= -2^31 + 1 (the largest product, of
 *   -2^31 and 2^31 - 1, rounds to it), so h - 1 never wraps and one SSRA of (h & -r) >> 31 is
 *   the fixup (-r has its sign bit set exactly when r > 0).
 * Output zero point and clamp: narrowing to int16 with saturation, adding the zero point with
 * saturation and narrowing to int8 with saturation give clamp(r + zp) once clamped to the
 * activation range (within int8): any value saturated on the way is far outside it. */
/* Requantization constants of one panel's 8 output channels, zero past n. */
typedef struct {
    int32_t bias[8], mult[8], shift[8];
    int32_t bias8[64]; /* bias 8 times over (whole panels only): the 8-row tile's accumulators */
} rq8;

/* Returns 1 when every channel of the panel shifts right by at least 1 (rq_lanes' fast
 * form); columns past nr get shift -1 so they do not spoil it (their outputs are dropped). */
static int rq8_load(const el_opt_rq *rq, int32_t j0, int32_t nr, rq8 *k)
{
    int32_t j, all_right = 1;
    if (nr == 8) {
        const int32x4_t s0 = vld1q_s32(rq->shift + j0), s1 = vld1q_s32(rq->shift + j0 + 4);
        vst1q_s32(k->bias, vld1q_s32(rq->bias + j0));
        vst1q_s32(k->bias + 4, vld1q_s32(rq->bias + j0 + 4));
        vst1q_s32(k->mult, vld1q_s32(rq->mult + j0));
        vst1q_s32(k->mult + 4, vld1q_s32(rq->mult + j0 + 4));
        vst1q_s32(k->shift, s0);
        vst1q_s32(k->shift + 4, s1);
        for (j = 0; j < 64; j += 8) {
            vst1q_s32(k->bias8 + j, vld1q_s32(k->bias));
            vst1q_s32(k->bias8 + j + 4, vld1q_s32(k->bias + 4));
        }
        return vmaxvq_s32(vmaxq_s32(s0, s1)) <= -1;
    }
    for (j = 0; j < 8; ++j) {
        k->bias[j] = j < nr ? rq->bias[j0 + j] : 0;
        k->mult[j] = j < nr ? rq->mult[j0 + j] : 0;
        k->shift[j] = j < nr ? rq->shift[j0 + j] : -1;
        all_right &= k->shift[j] <= -1;
    }
    return all_right;
}

/* v << left, VQRDMULH, fixup, VRSHL (see above). generic = 0 when every lane shifts right
 * by at least 1 and none left (layer scales below 1/2, the usual case): the fixup is then
 * one SSRA of h's own sign. */
static inline __attribute__((always_inline)) int32x4_t rq_lanes(int32x4_t v, int32x4_t mult,
                                                                int32x4_t left, int32x4_t nrs,
                                                                const int generic)
{
    if (generic) {
        const int32x4_t h = vqrdmulhq_s32(vshlq_s32(v, left), mult);
        return vrshlq_s32(vsraq_n_s32(h, vandq_s32(h, nrs), 31), nrs);
    } else {
        const int32x4_t h = vqrdmulhq_s32(v, mult);
        return vrshlq_s32(vsraq_n_s32(h, h, 31), nrs);
    }
}

/* Two rows of 8 accumulators (a0 a1: row 0, b0 b1: row 1) to 16 clamped int8. */
#define RQ_ROW(A0, A1)                                                                             \
    vqaddq_s16(vqmovn_high_s32(vqmovn_s32(rq_lanes(A0, mult0, left0, nrs0, generic)),              \
                               rq_lanes(A1, mult1, left1, nrs1, generic)),                         \
               zp)
#define RQ_ROWS2(A0, A1, B0, B1)                                                                   \
    vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(RQ_ROW(A0, A1)), RQ_ROW(B0, B1)), lo), hi)

/* Row 0 in the low 8 bytes of v, row 1 in the high 8; nr (1..8) columns, row 1 if second.
 * Byte stores, no library call: a call would spill the constants held in vector registers. */
static inline void rq8_store2(int8_t *o0, int8_t *o1, int8x16_t v, int32_t nr, int second)
{
    int8_t t[16];
    int32_t j;
    if (nr == 8) {
        vst1_s8(o0, vget_low_s8(v));
        if (second) {
            vst1_s8(o1, vget_high_s8(v));
        }
        return;
    }
    vst1q_s8(t, v);
    for (j = 0; j < nr; ++j) {
        o0[j] = t[j];
    }
    for (j = 0; second && j < nr; ++j) {
        o1[j] = t[8 + j];
    }
}

/* How a row's last rem (1..16) bytes of k load as one vector: a whole vector (rem = 16, or
 * a padded row: bytes past k may be anything, the panel is zero there), 8 bytes (rem = 8), or
 * byte by byte (nothing past k is read). A constant in each instantiation of sdot_rq_rows. */
#define EL_TAIL_VEC 0
#define EL_TAIL_8 1
#define EL_TAIL_ANY 2
static inline __attribute__((always_inline)) int8x16_t load_tail16(const int8_t *p, int32_t rem,
                                                                   const int tmode)
{
    if (tmode == EL_TAIL_VEC) {
        return vld1q_s8(p);
    }
    if (tmode == EL_TAIL_8) {
        return vcombine_s8(vld1_s8(p), vdup_n_s8(0));
    }
    return load_partial16(p, rem);
}

/* panel[(kk / 4) * 32 + j * 4 + kk % 4] = b[j][kk] for j < nr, kk < k, zero up to the next
 * multiple of 16 of k and for columns past nr. 16 bytes of 8 columns at a time: a 4x4
 * transpose of 32-bit groups per 4 columns (TRN1/TRN2 on 32- then 64-bit lanes). */
static void sdot_pack8(const int8_t *b, int32_t ldb, int32_t nr, int32_t k, int8_t *panel)
{
    const int32_t kp = (k + 15) & ~15;
    int32_t kk = 0, j, h;
    if (nr == 8) {
        for (; kk + 16 <= k; kk += 16) {
            for (h = 0; h < 2; ++h) {
                const int8_t *r = b + (size_t)(4 * h) * ldb + kk;
                const int32x4_t r0 = vreinterpretq_s32_s8(vld1q_s8(r));
                const int32x4_t r1 = vreinterpretq_s32_s8(vld1q_s8(r + ldb));
                const int32x4_t r2 = vreinterpretq_s32_s8(vld1q_s8(r + 2 * (size_t)ldb));
                const int32x4_t r3 = vreinterpretq_s32_s8(vld1q_s8(r + 3 * (size_t)ldb));
                const int64x2_t t0 = vreinterpretq_s64_s32(vtrn1q_s32(r0, r1));
                const int64x2_t t1 = vreinterpretq_s64_s32(vtrn2q_s32(r0, r1));
                const int64x2_t t2 = vreinterpretq_s64_s32(vtrn1q_s32(r2, r3));
                const int64x2_t t3 = vreinterpretq_s64_s32(vtrn2q_s32(r2, r3));
                int8_t *o = panel + (size_t)kk * 8 + h * 16;
                vst1q_s8(o, vreinterpretq_s8_s64(vtrn1q_s64(t0, t2)));
                vst1q_s8(o + 32, vreinterpretq_s8_s64(vtrn1q_s64(t1, t3)));
                vst1q_s8(o + 64, vreinterpretq_s8_s64(vtrn2q_s64(t0, t2)));
                vst1q_s8(o + 96, vreinterpretq_s8_s64(vtrn2q_s64(t1, t3)));
            }
        }
    }
    if (kk == kp) {
        return;
    }
    memset(panel + (size_t)kk * 8, 0, (size_t)(kp - kk) * 8);
    if (nr == 8 && k - kk == 8) { /* a tail of 8 (k = 24, 56): two 4-byte groups per column */
        for (h = 0; h < 2; ++h) {
            const int8_t *r = b + (size_t)(4 * h) * ldb + kk;
            const int32x4_t r01 = vreinterpretq_s32_s8(vcombine_s8(vld1_s8(r), vld1_s8(r + ldb)));
            const int32x4_t r23 = vreinterpretq_s32_s8(
                vcombine_s8(vld1_s8(r + 2 * (size_t)ldb), vld1_s8(r + 3 * (size_t)ldb)));
            int8_t *o = panel + (size_t)kk * 8 + h * 16;
            vst1q_s8(o, vreinterpretq_s8_s32(vuzp1q_s32(r01, r23)));
            vst1q_s8(o + 32, vreinterpretq_s8_s32(vuzp2q_s32(r01, r23)));
        }
        return;
    }
    for (j = 0; j < nr; ++j) {
        const int8_t *src = b + (size_t)j * ldb;
        int32_t q;
        for (q = kk; q + 4 <= k; q += 4) {
            memcpy(panel + (q >> 2) * 32 + j * 4, src + q, 4);
        }
        for (; q < k; ++q) {
            panel[(q >> 2) * 32 + j * 4 + (q & 3)] = src[q];
        }
    }
}

/* Every row of a against one packed panel (nr columns), 4 rows at a time, requantized and
 * stored; the requantization constants stay in registers for all rows, and so does the whole
 * panel when k <= 16 (small_k; the expansion 1x1 convs of MobileNet-style blocks). small_k,
 * tmode (load_tail16) and generic (rq_lanes) are constants in each instantiation below, so each loop
 * keeps only its own load code and its operands in registers. */
EL_SDOT static inline __attribute__((always_inline)) void
sdot_rq_rows(int32_t m, const int8_t *const *a, int32_t k, const int8_t *panel, const rq8 *q,
             const el_opt_rq *rq, int32_t nr, int8_t *out, int32_t ldout, const int small_k,
             const int tmode, const int generic)
{
    const int32x4_t bias0 = vld1q_s32(q->bias), bias1 = vld1q_s32(q->bias + 4);
    const int32x4_t mult0 = vld1q_s32(q->mult), mult1 = vld1q_s32(q->mult + 4);
    const int32x4_t sh0 = vld1q_s32(q->shift), sh1 = vld1q_s32(q->shift + 4);
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t left0 = vmaxq_s32(sh0, zero), left1 = vmaxq_s32(sh1, zero);
    const int32x4_t nrs0 = vminq_s32(sh0, zero), nrs1 = vminq_s32(sh1, zero);
    const int16x8_t zp = vdupq_n_s16((int16_t)rq->out_offset);
    const int8x16_t lo = vdupq_n_s8((int8_t)rq->act_min), hi = vdupq_n_s8((int8_t)rq->act_max);
    const int8x16_t w00 = vld1q_s8(panel), w01 = vld1q_s8(panel + 16);
    const int8x16_t w10 = vld1q_s8(panel + 32), w11 = vld1q_s8(panel + 48);
    const int8x16_t w20 = vld1q_s8(panel + 64), w21 = vld1q_s8(panel + 80);
    const int8x16_t w30 = vld1q_s8(panel + 96), w31 = vld1q_s8(panel + 112);
    int32_t i0;
    for (i0 = 0; i0 < m; i0 += 4, out += 4 * (size_t)ldout) {
        /* whole groups of 4 rows; the last group repeats its last row (not stored) */
        const int32_t mr = m - i0 < 4 ? m - i0 : 4;
        const int8_t *a0 = a[i0], *a1, *a2, *a3;
        int32x4_t s0 = bias0, s1 = bias1, s2 = bias0, s3 = bias1, s4 = bias0, s5 = bias1;
        int32x4_t s6 = bias0, s7 = bias1;
        if (mr == 4) {
            a1 = a[i0 + 1];
            a2 = a[i0 + 2];
            a3 = a[i0 + 3];
        } else {
            a1 = a[i0 + (mr > 1)];
            a2 = a[i0 + (mr > 2 ? 2 : mr - 1)];
            a3 = a[i0 + mr - 1];
        }
#define EL_SDOT_QUAD(Q, W0, W1)                                                                    \
    s0 = vdotq_laneq_s32(s0, W0, x0, Q);                                                           \
    s1 = vdotq_laneq_s32(s1, W1, x0, Q);                                                           \
    s2 = vdotq_laneq_s32(s2, W0, x1, Q);                                                           \
    s3 = vdotq_laneq_s32(s3, W1, x1, Q);                                                           \
    s4 = vdotq_laneq_s32(s4, W0, x2, Q);                                                           \
    s5 = vdotq_laneq_s32(s5, W1, x2, Q);                                                           \
    s6 = vdotq_laneq_s32(s6, W0, x3, Q);                                                           \
    s7 = vdotq_laneq_s32(s7, W1, x3, Q);
        if (small_k) {
            const int8x16_t x0 = load_tail16(a0, k, tmode), x1 = load_tail16(a1, k, tmode);
            const int8x16_t x2 = load_tail16(a2, k, tmode), x3 = load_tail16(a3, k, tmode);
            EL_SDOT_QUAD(0, w00, w01)
            if (k > 4) {
                EL_SDOT_QUAD(1, w10, w11)
            }
            if (k > 8) {
                EL_SDOT_QUAD(2, w20, w21)
            }
            if (k > 12) {
                EL_SDOT_QUAD(3, w30, w31)
            }
        } else {
            const int8_t *pp = panel;
            int32_t kk;
            for (kk = 0; kk + 16 <= k; kk += 16, pp += 128) {
                const int8x16_t x0 = vld1q_s8(a0 + kk), x1 = vld1q_s8(a1 + kk);
                const int8x16_t x2 = vld1q_s8(a2 + kk), x3 = vld1q_s8(a3 + kk);
                int8x16_t v0 = vld1q_s8(pp), v1 = vld1q_s8(pp + 16);
                EL_SDOT_QUAD(0, v0, v1)
                v0 = vld1q_s8(pp + 32);
                v1 = vld1q_s8(pp + 48);
                EL_SDOT_QUAD(1, v0, v1)
                v0 = vld1q_s8(pp + 64);
                v1 = vld1q_s8(pp + 80);
                EL_SDOT_QUAD(2, v0, v1)
                v0 = vld1q_s8(pp + 96);
                v1 = vld1q_s8(pp + 112);
                EL_SDOT_QUAD(3, v0, v1)
            }
            if (kk < k) {
                const int32_t rem = k - kk;
                const int8x16_t x0 = load_tail16(a0 + kk, rem, tmode);
                const int8x16_t x1 = load_tail16(a1 + kk, rem, tmode);
                const int8x16_t x2 = load_tail16(a2 + kk, rem, tmode);
                const int8x16_t x3 = load_tail16(a3 + kk, rem, tmode);
                int8x16_t v0 = vld1q_s8(pp), v1 = vld1q_s8(pp + 16);
                EL_SDOT_QUAD(0, v0, v1)
                if (rem > 4) {
                    v0 = vld1q_s8(pp + 32);
                    v1 = vld1q_s8(pp + 48);
                    EL_SDOT_QUAD(1, v0, v1)
                }
                if (rem > 8) {
                    v0 = vld1q_s8(pp + 64);
                    v1 = vld1q_s8(pp + 80);
                    EL_SDOT_QUAD(2, v0, v1)
                }
                if (rem > 12) {
                    v0 = vld1q_s8(pp + 96);
                    v1 = vld1q_s8(pp + 112);
                    EL_SDOT_QUAD(3, v0, v1)
                }
            }
        }
#undef EL_SDOT_QUAD
        if (mr == 4 && nr == 8) {
            const int8x16_t r01 = RQ_ROWS2(s0, s1, s2, s3), r23 = RQ_ROWS2(s4, s5, s6, s7);
            vst1_s8(out, vget_low_s8(r01));
            vst1_s8(out + ldout, vget_high_s8(r01));
            vst1_s8(out + 2 * (size_t)ldout, vget_low_s8(r23));
            vst1_s8(out + 3 * (size_t)ldout, vget_high_s8(r23));
        } else {
            rq8_store2(out, out + ldout, RQ_ROWS2(s0, s1, s2, s3), nr, mr > 1);
            if (mr > 2) {
                rq8_store2(out + 2 * (size_t)ldout, out + 3 * (size_t)ldout,
                           RQ_ROWS2(s4, s5, s6, s7), nr, mr > 3);
            }
        }
    }
}
#undef RQ_ROW
#undef RQ_ROWS2

#define EL_SDOT_RQ_ROWS(NAME, SMALL, TMODE, GENERIC)                                               \
    EL_SDOT static void NAME(int32_t m, const int8_t *const *a, int32_t k, const int8_t *panel,    \
                             const rq8 *q, const el_opt_rq *rq, int32_t nr, int8_t *out,           \
                             int32_t ldout)                                                        \
    {                                                                                              \
        sdot_rq_rows(m, a, k, panel, q, rq, nr, out, ldout, SMALL, TMODE, GENERIC);                \
    }
EL_SDOT_RQ_ROWS(sdot_rq_small_vec, 1, EL_TAIL_VEC, 0)
EL_SDOT_RQ_ROWS(sdot_rq_small_8, 1, EL_TAIL_8, 0)
EL_SDOT_RQ_ROWS(sdot_rq_small_any, 1, EL_TAIL_ANY, 0)
EL_SDOT_RQ_ROWS(sdot_rq_k_vec, 0, EL_TAIL_VEC, 0)
EL_SDOT_RQ_ROWS(sdot_rq_k_8, 0, EL_TAIL_8, 0)
EL_SDOT_RQ_ROWS(sdot_rq_k_any, 0, EL_TAIL_ANY, 0)
/* some channel shifts left or not at all (a channel scale of 1/2 or more): rare, one generic
 * instantiation */
EL_SDOT_RQ_ROWS(sdot_rq_generic, 0, EL_TAIL_ANY, 1)
/* k = 8 and k = 16 as constants (the expansion 1x1 convs of MobileNet-style blocks): no k
 * checks per row group, and only the panel vectors k needs held in registers (the generic
 * small-k form kept 8 and spilled some, and the clamp bounds, to the stack) */
#define EL_SDOT_RQ_ROWS_K(NAME, TMODE, K)                                                          \
    EL_SDOT static void NAME(int32_t m, const int8_t *const *a, const int8_t *panel, const rq8 *q, \
                             const el_opt_rq *rq, int32_t nr, int8_t *out, int32_t ldout)          \
    {                                                                                              \
        sdot_rq_rows(m, a, K, panel, q, rq, nr, out, ldout, 1, TMODE, 0);                          \
    }
EL_SDOT_RQ_ROWS_K(sdot_rq_k8c, EL_TAIL_8, 8)
EL_SDOT_RQ_ROWS_K(sdot_rq_k16c, EL_TAIL_VEC, 16)

/* 8 rows x 8 columns per tile (the 1x1 convs' bulk: MobileNetV2-1.0/224 spends most of its
 * CONV_2D there), one tile per asm statement: accumulators v0-v15 (row r in v2r, v2r+1) from
 * the bias; per 16 bytes of k two LD1 of four panel vectors (v24-v31), one post-incremented
 * LDR per row and 64 SDOTs by element, 0.074 instructions per MAC against the 4-row tile's
 * 0.086 (GCC 12 cannot hold 16 accumulators, 8 panel vectors and the rows without spills, and
 * an asm statement takes at most 30 operands, so the whole tile is assembly). A k tail of 8
 * (k = 8, 24, 56) is one LD1 and an 8-byte LDR per row (upper half zeroed), lanes 0 and 1.
 * Then sdot_rq_rows' fast requantization (every channel shifts right) and one post-indexed
 * ST1 per row; the clamp only when the activation range is narrower than int8 (TFLite's ReLU6
 * outputs usually span all of it), on row pairs. Rows 8 at a time; a last group of 5 to 7
 * rows repeats its last row into a stack tile; 1 to 4 rows left: sdot_rq_rows. */
/* the tile's assembly, one instruction per line */
/* clang-format off */
#define A8_ROW(A, S0, S1)                                                                          \
    "sdot v" S0 ".4s, v24.16b, " A ".4b[0]\n\t"                                                    \
    "sdot v" S1 ".4s, v25.16b, " A ".4b[0]\n\t"                                                    \
    "sdot v" S0 ".4s, v26.16b, " A ".4b[1]\n\t"                                                    \
    "sdot v" S1 ".4s, v27.16b, " A ".4b[1]\n\t"                                                    \
    "sdot v" S0 ".4s, v28.16b, " A ".4b[2]\n\t"                                                    \
    "sdot v" S1 ".4s, v29.16b, " A ".4b[2]\n\t"                                                    \
    "sdot v" S0 ".4s, v30.16b, " A ".4b[3]\n\t"                                                    \
    "sdot v" S1 ".4s, v31.16b, " A ".4b[3]\n\t"
#define A8_HALF(A, S0, S1)                                                                         \
    "sdot v" S0 ".4s, v24.16b, " A ".4b[0]\n\t"                                                    \
    "sdot v" S1 ".4s, v25.16b, " A ".4b[0]\n\t"                                                    \
    "sdot v" S0 ".4s, v26.16b, " A ".4b[1]\n\t"                                                    \
    "sdot v" S1 ".4s, v27.16b, " A ".4b[1]\n\t"
/* row S0:S1 requantized to int16 plus the zero point, in v S0 */
#define A8_RQ(S0, S1)                                                                              \
    "sqrdmulh v" S0 ".4s, v" S0 ".4s, v20.4s\n\t"                                                  \
    "sqrdmulh v" S1 ".4s, v" S1 ".4s, v21.4s\n\t"                                                  \
    "ssra v" S0 ".4s, v" S0 ".4s, #31\n\t"                                                         \
    "ssra v" S1 ".4s, v" S1 ".4s, #31\n\t"                                                         \
    "srshl v" S0 ".4s, v" S0 ".4s, v22.4s\n\t"                                                     \
    "srshl v" S1 ".4s, v" S1 ".4s, v23.4s\n\t"                                                     \
    "sqxtn v" S0 ".4h, v" S0 ".4s\n\t"                                                             \
    "sqxtn2 v" S0 ".8h, v" S1 ".4s\n\t"                                                            \
    "sqadd v" S0 ".8h, v" S0 ".8h, v24.8h\n\t"
#define A8_ST1(S0, S1)                                                                             \
    A8_RQ(S0, S1)                                                                                  \
    "sqxtn v" S0 ".8b, v" S0 ".8h\n\t"                                                             \
    "st1 {v" S0 ".8b}, [%[out]], %[ld]\n\t"
#define A8_ST2(S0, S1, T0, T1)                                                                     \
    A8_RQ(S0, S1)                                                                                  \
    A8_RQ(T0, T1)                                                                                  \
    "sqxtn v" S0 ".8b, v" S0 ".8h\n\t"                                                             \
    "sqxtn2 v" S0 ".16b, v" T0 ".8h\n\t"                                                           \
    "smax v" S0 ".16b, v" S0 ".16b, v25.16b\n\t"                                                   \
    "smin v" S0 ".16b, v" S0 ".16b, v26.16b\n\t"                                                   \
    "st1 {v" S0 ".d}[0], [%[out]], %[ld]\n\t"                                                      \
    "st1 {v" S0 ".d}[1], [%[out]], %[ld]\n\t"
#define A8_HEAD                                                                                    \
    "ldp x9, x10, [%[ar]]\n\t"                                                                     \
    "ldp x11, x12, [%[ar], #16]\n\t"                                                               \
    "ldp x13, x14, [%[ar], #32]\n\t"                                                               \
    "ldp x15, x16, [%[ar], #48]\n\t"                                                               \
    "mov x17, %[qb]\n\t"                                                                           \
    "ld1 {v0.4s-v3.4s}, [x17], #64\n\t"                                                            \
    "ld1 {v4.4s-v7.4s}, [x17], #64\n\t"                                                            \
    "ld1 {v8.4s-v11.4s}, [x17], #64\n\t"                                                           \
    "ld1 {v12.4s-v15.4s}, [x17]\n\t"                                                               \
    "cbz %[n], 2f\n\t"                                                                             \
    "1:\n\t"                                                                                       \
    "ld1 {v24.16b-v27.16b}, [%[pp]], #64\n\t"                                                      \
    "ld1 {v28.16b-v31.16b}, [%[pp]], #64\n\t"                                                      \
    "ldr q16, [x9], #16\n\t"                                                                       \
    "ldr q17, [x10], #16\n\t"                                                                      \
    A8_ROW("v16", "0", "1")                                                                        \
    "ldr q18, [x11], #16\n\t"                                                                      \
    A8_ROW("v17", "2", "3")                                                                        \
    "ldr q19, [x12], #16\n\t"                                                                      \
    A8_ROW("v18", "4", "5")                                                                        \
    "ldr q16, [x13], #16\n\t"                                                                      \
    A8_ROW("v19", "6", "7")                                                                        \
    "ldr q17, [x14], #16\n\t"                                                                      \
    A8_ROW("v16", "8", "9")                                                                        \
    "ldr q18, [x15], #16\n\t"                                                                      \
    A8_ROW("v17", "10", "11")                                                                      \
    "ldr q19, [x16], #16\n\t"                                                                      \
    A8_ROW("v18", "12", "13")                                                                      \
    A8_ROW("v19", "14", "15")                                                                      \
    "subs %[n], %[n], #1\n\t"                                                                      \
    "b.ne 1b\n\t"                                                                                  \
    "2:\n\t"
#define A8_TAIL8                                                                                   \
    "ld1 {v24.16b-v27.16b}, [%[pp]]\n\t"                                                           \
    "ldr d16, [x9]\n\t"                                                                            \
    "ldr d17, [x10]\n\t"                                                                           \
    A8_HALF("v16", "0", "1")                                                                       \
    "ldr d18, [x11]\n\t"                                                                           \
    A8_HALF("v17", "2", "3")                                                                       \
    "ldr d19, [x12]\n\t"                                                                           \
    A8_HALF("v18", "4", "5")                                                                       \
    "ldr d16, [x13]\n\t"                                                                           \
    A8_HALF("v19", "6", "7")                                                                       \
    "ldr d17, [x14]\n\t"                                                                           \
    A8_HALF("v16", "8", "9")                                                                       \
    "ldr d18, [x15]\n\t"                                                                           \
    A8_HALF("v17", "10", "11")                                                                     \
    "ldr d19, [x16]\n\t"                                                                           \
    A8_HALF("v18", "12", "13")                                                                     \
    A8_HALF("v19", "14", "15")
#define A8_CONSTS                                                                                  \
    "ldp q20, q21, [%[q], #32]\n\t"                                                                \
    "ldp q22, q23, [%[q], #64]\n\t"                                                                \
    "dup v24.8h, %w[zp]\n\t"
#define A8_CLAMPS                                                                                  \
    "dup v25.16b, %w[lo]\n\t"                                                                      \
    "dup v26.16b, %w[hi]\n\t"
#define A8_STORE1                                                                                  \
    A8_ST1("0", "1")                                                                               \
    A8_ST1("2", "3")                                                                               \
    A8_ST1("4", "5")                                                                               \
    A8_ST1("6", "7")                                                                               \
    A8_ST1("8", "9")                                                                               \
    A8_ST1("10", "11")                                                                             \
    A8_ST1("12", "13")                                                                             \
    A8_ST1("14", "15")
#define A8_STORE2                                                                                  \
    A8_ST2("0", "1", "2", "3")                                                                     \
    A8_ST2("4", "5", "6", "7")                                                                     \
    A8_ST2("8", "9", "10", "11")                                                                   \
    A8_ST2("12", "13", "14", "15")
#define A8_ASM(BODY)                                                                               \
    __asm__ volatile(BODY                                                                          \
                     : [out] "+r"(o), [pp] "+r"(pp), [n] "+r"(n)                                   \
                     : [ar] "r"(ar), [q] "r"(q), [qb] "r"(q->bias8), [ld] "r"(ld), [zp] "r"(zp),   \
                       [lo] "r"(lo), [hi] "r"(hi)                                                  \
                     : "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "x17", "v0", "v1",   \
                       "v2", "v3", "v4", "v5", "v6", "v7", "v8", "v9", "v10", "v11", "v12", "v13", \
                       "v14", "v15", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",       \
                       "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory")
/* one row against the panel (the row left after the 8-row tiles of 9 or 49 pixels) */
#define A1_BODY                                                                                    \
    "ldr x9, [%[ar]]\n\t"                                                                          \
    "ldp q0, q1, [%[q]]\n\t"                                                                       \
    "cbz %[n], 2f\n\t"                                                                             \
    "1:\n\t"                                                                                       \
    "ld1 {v24.16b-v27.16b}, [%[pp]], #64\n\t"                                                      \
    "ld1 {v28.16b-v31.16b}, [%[pp]], #64\n\t"                                                      \
    "ldr q16, [x9], #16\n\t"                                                                       \
    A8_ROW("v16", "0", "1")                                                                        \
    "subs %[n], %[n], #1\n\t"                                                                      \
    "b.ne 1b\n\t"                                                                                  \
    "2:\n\t"
#define A1_TAIL8                                                                                   \
    "ld1 {v24.16b-v27.16b}, [%[pp]]\n\t"                                                           \
    "ldr d16, [x9]\n\t" A8_HALF("v16", "0", "1")
#define A1_STORE_CLAMP                                                                             \
    A8_RQ("0", "1")                                                                                \
    "sqxtn v0.8b, v0.8h\n\t"                                                                       \
    "smax v0.8b, v0.8b, v25.8b\n\t"                                                                \
    "smin v0.8b, v0.8b, v26.8b\n\t"                                                                \
    "st1 {v0.8b}, [%[out]], %[ld]\n\t"
/* clang-format on */
EL_SDOT static inline __attribute__((always_inline)) int32_t
sdot_rq_rows8(int32_t m, const int8_t *const *a, int32_t k, const int8_t *panel, const rq8 *q,
              const el_opt_rq *rq, int8_t *out, int32_t ldout, const int tmode, const int clamp)
{
    const int64_t steps = tmode == EL_TAIL_8 ? k >> 4 : (k + 15) >> 4;
    const int32_t zp = rq->out_offset, lo = rq->act_min, hi = rq->act_max;
    int32_t i0;
    for (i0 = 0; m - i0 >= 5; i0 += 8) {
        const int32_t mr = m - i0 < 8 ? m - i0 : 8;
        const int8_t *ra[8];
        const int8_t *const *ar = a + i0;
        const int8_t *pp = panel;
        int8_t t[64];
        int8_t *o = out + (size_t)i0 * ldout;
        int64_t n = steps, ld = ldout;
        if (mr < 8) { /* the last row repeated into a stack tile */
            int32_t i;
            for (i = 0; i < 8; ++i) {
                ra[i] = a[i0 + (i < mr ? i : mr - 1)];
            }
            ar = ra;
            o = t;
            ld = 8;
        }
        if (tmode == EL_TAIL_8) {
            if (clamp) {
                A8_ASM(A8_HEAD A8_TAIL8 A8_CONSTS A8_CLAMPS A8_STORE2);
            } else {
                A8_ASM(A8_HEAD A8_TAIL8 A8_CONSTS A8_STORE1);
            }
        } else if (clamp) {
            A8_ASM(A8_HEAD A8_CONSTS A8_CLAMPS A8_STORE2);
        } else {
            A8_ASM(A8_HEAD A8_CONSTS A8_STORE1);
        }
        if (mr < 8) {
            int32_t i;
            for (i = 0; i < mr; ++i) {
                memcpy(out + (size_t)(i0 + i) * ldout, t + 8 * i, 8);
            }
        }
    }
    return i0 < m ? i0 : m;
}
EL_SDOT static inline __attribute__((always_inline)) void
sdot_rq_row1(const int8_t *a0, int32_t k, const int8_t *panel, const rq8 *q, const el_opt_rq *rq,
             int8_t *out, const int tmode, const int clamp)
{
    const int32_t zp = rq->out_offset, lo = rq->act_min, hi = rq->act_max;
    const int8_t *const *ar = &a0;
    const int8_t *pp = panel;
    int8_t *o = out;
    int64_t n = tmode == EL_TAIL_8 ? k >> 4 : (k + 15) >> 4, ld = 8;
    if (tmode == EL_TAIL_8) {
        if (clamp) {
            A8_ASM(A1_BODY A1_TAIL8 A8_CONSTS A8_CLAMPS A1_STORE_CLAMP);
        } else {
            A8_ASM(A1_BODY A1_TAIL8 A8_CONSTS A8_ST1("0", "1"));
        }
    } else if (clamp) {
        A8_ASM(A1_BODY A8_CONSTS A8_CLAMPS A1_STORE_CLAMP);
    } else {
        A8_ASM(A1_BODY A8_CONSTS A8_ST1("0", "1"));
    }
}
#undef A8_ROW
#undef A1_BODY
#undef A1_TAIL8
#undef A1_STORE_CLAMP
#undef A8_HALF
#undef A8_RQ
#undef A8_ST1
#undef A8_ST2
#undef A8_HEAD
#undef A8_TAIL8
#undef A8_CONSTS
#undef A8_CLAMPS
#undef A8_STORE1
#undef A8_STORE2
#undef A8_ASM
#define EL_SDOT_RQ_ROWS8(NAME, TMODE, CLAMP)                                                       \
    EL_SDOT static int32_t NAME(int32_t m, const int8_t *const *a, int32_t k, const int8_t *panel, \
                                const rq8 *q, const el_opt_rq *rq, int8_t *out, int32_t ldout)     \
    {                                                                                              \
        const int32_t done = sdot_rq_rows8(m, a, k, panel, q, rq, out, ldout, TMODE, CLAMP);       \
        if (m - done == 1) {                                                                       \
            sdot_rq_row1(a[done], k, panel, q, rq, out + (size_t)done * ldout, TMODE, CLAMP);      \
            return m;                                                                              \
        }                                                                                          \
        return done;                                                                               \
    }
EL_SDOT_RQ_ROWS8(sdot_rq8_vec, EL_TAIL_VEC, 0)
EL_SDOT_RQ_ROWS8(sdot_rq8_vec_c, EL_TAIL_VEC, 1)
EL_SDOT_RQ_ROWS8(sdot_rq8_8, EL_TAIL_8, 0)
EL_SDOT_RQ_ROWS8(sdot_rq8_8_c, EL_TAIL_8, 1)

/* ---- few rows of a long k (m < 16, k > 16) with the requantization fused ----
 * Too few rows to pay for packing panels (the last 1x1 convs of a network on 3x3 maps,
 * batch-1 FULLY_CONNECTED): tiles of R rows (1..4) x 4 columns of dot products on the rows of
 * a and b where they lie, SDOT vector by vector (R * 4 per 16 bytes of k), lanes added by a
 * tree of ADDP into one vector of the 4 columns per row, then requantized as above. The rows
 * are split into equal tiles (9 rows: three of 3), so no row is computed twice; a short last
 * column group repeats its last column (not stored). */
typedef struct {
    int32_t bias[4], mult[4], shift[4];
} rq4c;

/* The last rem (1..15) bytes of k, zero above, reading nothing past them. */
static inline int8x16_t load_rem16(const int8_t *p, int32_t rem)
{
    return rem == 8 ? vcombine_s8(vld1_s8(p), vdup_n_s8(0)) : load_partial16(p, rem);
}

#define DOT_ROW(I, X)                                                                              \
    s##I##0 = vdotq_s32(s##I##0, X, w0);                                                           \
    s##I##1 = vdotq_s32(s##I##1, X, w1);                                                           \
    s##I##2 = vdotq_s32(s##I##2, X, w2);                                                           \
    s##I##3 = vdotq_s32(s##I##3, X, w3);
#define DOT_STEP(LOAD)                                                                             \
    {                                                                                              \
        const int8x16_t w0 = LOAD(b0), w1 = LOAD(b1), w2 = LOAD(b2), w3 = LOAD(b3);                \
        const int8x16_t x0 = LOAD(a0);                                                             \
        DOT_ROW(0, x0)                                                                             \
        if (R > 1) {                                                                               \
            const int8x16_t x1 = LOAD(a1);                                                         \
            DOT_ROW(1, x1)                                                                         \
        }                                                                                          \
        if (R > 2) {                                                                               \
            const int8x16_t x2 = LOAD(a2);                                                         \
            DOT_ROW(2, x2)                                                                         \
        }                                                                                          \
        if (R > 3) {                                                                               \
            const int8x16_t x3 = LOAD(a3);                                                         \
            DOT_ROW(3, x3)                                                                         \
        }                                                                                          \
    }
#define DOT_SUM(I) vpaddq_s32(vpaddq_s32(s##I##0, s##I##1), vpaddq_s32(s##I##2, s##I##3))
#define DOT_LD_K(p) vld1q_s8(p + kk)
#define DOT_LD_K16(p) vld1q_s8(p + kk + 16)
#define DOT_LD_REM(p) load_rem16(p + kk, k - kk)

/* R rows (a[0..R-1]) against every column of b, 4 columns at a time. */
EL_SDOT static inline __attribute__((always_inline)) void
sdot_dot_rows(const int R, const int8_t *const *a, int32_t n, int32_t k, const int8_t *b,
              int32_t ldb, const el_opt_rq *rq, int generic, int8_t *out, int32_t ldout)
{
    const int8_t *a0 = a[0], *a1 = a[R > 1 ? 1 : 0], *a2 = a[R > 2 ? 2 : 0];
    const int8_t *a3 = a[R > 3 ? 3 : 0];
    const int32x4_t zero = vdupq_n_s32(0);
    const int16x8_t zp = vdupq_n_s16((int16_t)rq->out_offset);
    const int8x16_t lo = vdupq_n_s8((int8_t)rq->act_min), hi = vdupq_n_s8((int8_t)rq->act_max);
    int32_t j0;
    for (j0 = 0; j0 < n; j0 += 4, b += 4 * (size_t)ldb, out += 4) {
        const int32_t nr = n - j0 < 4 ? n - j0 : 4;
        const int8_t *b0 = b, *b1 = b + (size_t)ldb * (nr > 1);
        const int8_t *b2 = b + (size_t)ldb * (nr > 2 ? 2 : nr - 1);
        const int8_t *b3 = b + (size_t)ldb * (nr - 1);
        int32x4_t s00 = zero, s01 = zero, s02 = zero, s03 = zero, s10 = zero, s11 = zero;
        int32x4_t s12 = zero, s13 = zero, s20 = zero, s21 = zero, s22 = zero, s23 = zero;
        int32x4_t s30 = zero, s31 = zero, s32 = zero, s33 = zero;
        int32x4_t bias, mult, sh, v0, v1, v2, v3;
        int8x16_t r;
        uint32_t u[4];
        int32_t kk, i, j;
        for (kk = 0; kk + 32 <= k; kk += 32) {
            DOT_STEP(DOT_LD_K)
            DOT_STEP(DOT_LD_K16)
        }
        if (kk + 16 <= k) {
            DOT_STEP(DOT_LD_K)
            kk += 16;
        }
        if (kk < k) {
            DOT_STEP(DOT_LD_REM)
        }
        if (nr == 4) {
            bias = vld1q_s32(rq->bias + j0);
            mult = vld1q_s32(rq->mult + j0);
            sh = vld1q_s32(rq->shift + j0);
        } else { /* columns past n: zero, shifting right (their outputs are dropped) */
            rq4c q;
            for (j = 0; j < 4; ++j) {
                q.bias[j] = j < nr ? rq->bias[j0 + j] : 0;
                q.mult[j] = j < nr ? rq->mult[j0 + j] : 0;
                q.shift[j] = j < nr ? rq->shift[j0 + j] : -1;
            }
            bias = vld1q_s32(q.bias);
            mult = vld1q_s32(q.mult);
            sh = vld1q_s32(q.shift);
        }
        v0 = vaddq_s32(bias, DOT_SUM(0));
        v1 = R > 1 ? vaddq_s32(bias, DOT_SUM(1)) : v0;
        v2 = R > 2 ? vaddq_s32(bias, DOT_SUM(2)) : v0;
        v3 = R > 3 ? vaddq_s32(bias, DOT_SUM(3)) : v0;
        if (generic) {
            const int32x4_t left = vmaxq_s32(sh, zero), nrs = vminq_s32(sh, zero);
            v0 = rq_lanes(v0, mult, left, nrs, 1);
            v1 = rq_lanes(v1, mult, left, nrs, 1);
            v2 = rq_lanes(v2, mult, left, nrs, 1);
            v3 = rq_lanes(v3, mult, left, nrs, 1);
        } else {
            v0 = rq_lanes(v0, mult, sh, sh, 0);
            v1 = rq_lanes(v1, mult, sh, sh, 0);
            v2 = rq_lanes(v2, mult, sh, sh, 0);
            v3 = rq_lanes(v3, mult, sh, sh, 0);
        }
        r = vqmovn_high_s16(vqmovn_s16(vqaddq_s16(vqmovn_high_s32(vqmovn_s32(v0), v1), zp)),
                            vqaddq_s16(vqmovn_high_s32(vqmovn_s32(v2), v3), zp));
        r = vminq_s8(vmaxq_s8(r, lo), hi);
        vst1q_u32(u, vreinterpretq_u32_s8(r));
        for (i = 0; i < R; ++i) {
            int8_t *o = out + (size_t)i * ldout;
            if (nr == 4) {
                memcpy(o, &u[i], 4);
            } else {
                for (j = 0; j < nr; ++j) {
                    o[j] = (int8_t)(u[i] >> (8 * j));
                }
            }
        }
    }
}
#undef DOT_ROW
#undef DOT_STEP
#undef DOT_SUM
#undef DOT_LD_K
#undef DOT_LD_K16
#undef DOT_LD_REM

#define EL_SDOT_DOT(NAME, R)                                                                       \
    EL_SDOT static void NAME(const int8_t *const *a, int32_t n, int32_t k, const int8_t *b,        \
                             int32_t ldb, const el_opt_rq *rq, int generic, int8_t *out,           \
                             int32_t ldout)                                                        \
    {                                                                                              \
        sdot_dot_rows(R, a, n, k, b, ldb, rq, generic, out, ldout);                                \
    }
EL_SDOT_DOT(sdot_dot1, 1)
EL_SDOT_DOT(sdot_dot2, 2)
EL_SDOT_DOT(sdot_dot3, 3)
EL_SDOT_DOT(sdot_dot4, 4)

/* One row (batch-1 FULLY_CONNECTED) against 8 columns at a time: 64 bytes of k per LD1 of
 * four registers, the row once and each column once (one pointer walking down the 8 columns
 * with register-stepped LD1, the last step back to the first column's next 64 bytes, as
 * fdot8_neon does): 43 instructions per 512 products, in inline assembly because GCC 12
 * adds an address computation per load. Then 16 bytes at a time and the exact tail; the 8
 * sums added by ADDP, requantized as above, stored as 8 bytes. Columns past the last 8:
 * sdot_dot1. */
#define DOT8_COL(J, X0, X1, X2, X3)                                                                \
    {                                                                                              \
        const int8x16x4_t w_ = vld1q_s8_x4(q##J);                                                  \
        q##J += 64;                                                                                \
        s##J = vdotq_s32(                                                                          \
            vdotq_s32(vdotq_s32(vdotq_s32(s##J, X0, w_.val[0]), X1, w_.val[1]), X2, w_.val[2]),    \
            X3, w_.val[3]);                                                                        \
    }
#define DOT8_ONE(J, X, LOAD) s##J = vdotq_s32(s##J, X, LOAD(q##J))
#define DOT8_LD16(p) vld1q_s8(p)
#define DOT8_LDREM(p) load_rem16(p, k - kk)
#define DOT8_ALL(X, LOAD)                                                                          \
    DOT8_ONE(0, X, LOAD);                                                                          \
    DOT8_ONE(1, X, LOAD);                                                                          \
    DOT8_ONE(2, X, LOAD);                                                                          \
    DOT8_ONE(3, X, LOAD);                                                                          \
    DOT8_ONE(4, X, LOAD);                                                                          \
    DOT8_ONE(5, X, LOAD);                                                                          \
    DOT8_ONE(6, X, LOAD);                                                                          \
    DOT8_ONE(7, X, LOAD);
EL_SDOT static void sdot_dot1x8(const int8_t *a, int32_t n, int32_t k, const int8_t *b, int32_t ldb,
                                const el_opt_rq *rq, int generic, int8_t *out)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int16x8_t zp = vdupq_n_s16((int16_t)rq->out_offset);
    const int8x8_t lo = vdup_n_s8((int8_t)rq->act_min), hi = vdup_n_s8((int8_t)rq->act_max);
    const size_t lb = (size_t)ldb;
    int32_t j0;
    for (j0 = 0; j0 + 8 <= n; j0 += 8) {
        const int8_t *q0 = b + (size_t)j0 * lb, *q1 = q0 + lb, *q2 = q1 + lb, *q3 = q2 + lb;
        const int8_t *q4 = q3 + lb, *q5 = q4 + lb, *q6 = q5 + lb, *q7 = q6 + lb, *x = a;
        int32x4_t s0 = zero, s1 = zero, s2 = zero, s3 = zero, s4 = zero, s5 = zero, s6 = zero;
        int32x4_t s7 = zero, v0, v1, m0, m1, r0, r1;
        int32_t kk;
        kk = k / 64 * 64;
        if (kk > 0) {
            const int8_t *wq = q0;
            const int64_t st = (int64_t)lb, bk = 64 - 7 * (int64_t)lb;
            int64_t steps = kk / 64;
#define DOT8_UNIT(SJ, STEP)                                                                        \
    "ld1 {v28.16b-v31.16b}, [%[wq]], %[" STEP "]\n\t"                                              \
    "sdot %[" SJ "].4s, v24.16b, v28.16b\n\t"                                                      \
    "sdot %[" SJ "].4s, v25.16b, v29.16b\n\t"                                                      \
    "sdot %[" SJ "].4s, v26.16b, v30.16b\n\t"                                                      \
    "sdot %[" SJ "].4s, v27.16b, v31.16b\n\t"
            __asm__ volatile(
                "1:\n\t"
                "ld1 {v24.16b-v27.16b}, [%[xp]], #64\n\t" DOT8_UNIT("s0", "st")
                    DOT8_UNIT("s1", "st") DOT8_UNIT("s2", "st") DOT8_UNIT("s3", "st")
                        DOT8_UNIT("s4", "st") DOT8_UNIT("s5", "st") DOT8_UNIT("s6", "st")
                            DOT8_UNIT("s7", "bk") "subs %[n], %[n], #1\n\t"
                                                  "b.ne 1b\n\t"
                : [s0] "+w"(s0), [s1] "+w"(s1), [s2] "+w"(s2), [s3] "+w"(s3), [s4] "+w"(s4),
                  [s5] "+w"(s5), [s6] "+w"(s6), [s7] "+w"(s7), [wq] "+r"(wq), [xp] "+r"(x),
                  [n] "+r"(steps)
                : [st] "r"(st), [bk] "r"(bk)
                : "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory");
#undef DOT8_UNIT
            q0 += kk, q1 += kk, q2 += kk, q3 += kk, q4 += kk, q5 += kk, q6 += kk, q7 += kk;
        }
        for (; kk + 16 <= k; kk += 16) {
            const int8x16_t xv = vld1q_s8(x);
            DOT8_ALL(xv, DOT8_LD16)
            x += 16, q0 += 16, q1 += 16, q2 += 16, q3 += 16;
            q4 += 16, q5 += 16, q6 += 16, q7 += 16;
        }
        if (kk < k) {
            const int8x16_t xv = load_rem16(x, k - kk);
            DOT8_ALL(xv, DOT8_LDREM)
        }
        v0 =
            vaddq_s32(vld1q_s32(rq->bias + j0), vpaddq_s32(vpaddq_s32(s0, s1), vpaddq_s32(s2, s3)));
        v1 = vaddq_s32(vld1q_s32(rq->bias + j0 + 4),
                       vpaddq_s32(vpaddq_s32(s4, s5), vpaddq_s32(s6, s7)));
        m0 = vld1q_s32(rq->mult + j0);
        m1 = vld1q_s32(rq->mult + j0 + 4);
        r0 = vld1q_s32(rq->shift + j0);
        r1 = vld1q_s32(rq->shift + j0 + 4);
        if (generic) {
            v0 = rq_lanes(v0, m0, vmaxq_s32(r0, zero), vminq_s32(r0, zero), 1);
            v1 = rq_lanes(v1, m1, vmaxq_s32(r1, zero), vminq_s32(r1, zero), 1);
        } else {
            v0 = rq_lanes(v0, m0, r0, r0, 0);
            v1 = rq_lanes(v1, m1, r1, r1, 0);
        }
        vst1_s8(
            out + j0,
            vmin_s8(vmax_s8(vqmovn_s16(vqaddq_s16(vqmovn_high_s32(vqmovn_s32(v0), v1), zp)), lo),
                    hi));
    }
    if (j0 < n) {
        el_opt_rq t = *rq;
        t.bias += j0;
        t.mult += j0;
        t.shift += j0;
        sdot_dot1(&a, n - j0, k, b + (size_t)j0 * lb, ldb, &t, generic, out + j0, 0);
    }
}
#undef DOT8_ONE
#undef DOT8_LD16
#undef DOT8_LDREM
#undef DOT8_ALL

static void sdot_rq_dot(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                        int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout)
{
    const int32_t groups = (m + 3) / 4, base = m / groups, extra = m % groups;
    int32x4_t mx = vdupq_n_s32(-1);
    int32_t j, g, i0, generic;
    for (j = 0; j + 4 <= n; j += 4) {
        mx = vmaxq_s32(mx, vld1q_s32(rq->shift + j));
    }
    generic = vmaxvq_s32(mx) > -1; /* some channel shifts left or not at all */
    for (; j < n; ++j) {
        generic |= rq->shift[j] > -1;
    }
    if (m == 1) {
        sdot_dot1x8(a[0], n, k, b, ldb, rq, generic, out);
        return;
    }
    for (g = 0, i0 = 0; g < groups; ++g) {
        const int32_t r = base + (g < extra);
        int8_t *o = out + (size_t)i0 * ldout;
        if (r == 4) {
            sdot_dot4(a + i0, n, k, b, ldb, rq, generic, o, ldout);
        } else if (r == 3) {
            sdot_dot3(a + i0, n, k, b, ldb, rq, generic, o, ldout);
        } else if (r == 2) {
            sdot_dot2(a + i0, n, k, b, ldb, rq, generic, o, ldout);
        } else {
            sdot_dot1(a + i0, n, k, b, ldb, rq, generic, o, ldout);
        }
        i0 += r;
    }
}

int el_opt_gemm_rq_sdot(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                        int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout)
{
    int8_t own[SDOT_KSEG / 16 * 128];
    const int32_t rem = k & 15, kp = (k + 15) & ~15;
    const int tmode = rq->a_padded || rem == 0 ? EL_TAIL_VEC : rem == 8 ? EL_TAIL_8 : EL_TAIL_ANY;
    const int clamp = rq->act_min > -128 || rq->act_max < 127;
    int32_t j0;
    if (k > 16 && (m < 5 || (m < 16 && (tmode == EL_TAIL_ANY || k > SDOT_KSEG)))) {
        sdot_rq_dot(m, n, k, a, b, ldb, rq, out, ldout); /* few rows of a long k */
        return 1;
    }
    if (k < 1 || k > SDOT_KSEG) {
        return 0; /* long k: the segmented GEMM */
    }
    for (j0 = 0; j0 < n; j0 += 8) {
        const int32_t nr = n - j0 < 8 ? n - j0 : 8;
        const int8_t *const *aa = a;
        int8_t *o = out + j0;
        int32_t mm = m;
        const int8_t *panel = own;
        rq8 q;
        if (rq->packed != NULL) { /* el_opt_gemm_pack_sdot's panels, made at prepare */
            panel = (const int8_t *)rq->packed + (size_t)j0 * kp;
        } else {
            sdot_pack8(b + (size_t)j0 * ldb, ldb, nr, k, own);
        }
        if (!rq8_load(rq, j0, nr, &q)) {
            sdot_rq_generic(m, a, k, panel, &q, rq, nr, o, ldout);
            continue;
        }
        if (nr == 8 && m >= 5 && tmode != EL_TAIL_ANY) { /* 8-row tiles, then 1 to 4 rows */
            int32_t done;
            if (tmode == EL_TAIL_VEC) {
                done = clamp ? sdot_rq8_vec_c(m, a, k, panel, &q, rq, o, ldout)
                             : sdot_rq8_vec(m, a, k, panel, &q, rq, o, ldout);
            } else {
                done = clamp ? sdot_rq8_8_c(m, a, k, panel, &q, rq, o, ldout)
                             : sdot_rq8_8(m, a, k, panel, &q, rq, o, ldout);
            }
            if (done == m) {
                continue;
            }
            mm = m - done;
            aa = a + done;
            o += (size_t)done * ldout;
        }
        if (k == 8 && tmode == EL_TAIL_8) {
            sdot_rq_k8c(mm, aa, panel, &q, rq, nr, o, ldout);
        } else if (k == 16 && tmode == EL_TAIL_VEC) {
            sdot_rq_k16c(mm, aa, panel, &q, rq, nr, o, ldout);
        } else if (k <= 16) {
            if (tmode == EL_TAIL_VEC) {
                sdot_rq_small_vec(mm, aa, k, panel, &q, rq, nr, o, ldout);
            } else if (tmode == EL_TAIL_8) {
                sdot_rq_small_8(mm, aa, k, panel, &q, rq, nr, o, ldout);
            } else {
                sdot_rq_small_any(mm, aa, k, panel, &q, rq, nr, o, ldout);
            }
        } else if (tmode == EL_TAIL_VEC) {
            sdot_rq_k_vec(mm, aa, k, panel, &q, rq, nr, o, ldout);
        } else if (tmode == EL_TAIL_8) {
            sdot_rq_k_8(mm, aa, k, panel, &q, rq, nr, o, ldout);
        } else {
            sdot_rq_k_any(mm, aa, k, panel, &q, rq, nr, o, ldout);
        }
    }
    return 1;
}

/* The whole filter (n rows of k bytes) as sdot_pack8's panels of 8 columns one after another,
 * for rq->packed: column j's panel starts at j * el_opt_gemm_pack_stride_sdot(k) bytes. */
int32_t el_opt_gemm_pack_stride_sdot(int32_t k)
{
    return (k + 15) & ~15;
}

void el_opt_gemm_pack_sdot(int32_t n, int32_t k, const int8_t *b, int8_t *packed)
{
    const int32_t kp = el_opt_gemm_pack_stride_sdot(k);
    int32_t j0;
    for (j0 = 0; j0 < n; j0 += 8) {
        sdot_pack8(b + (size_t)j0 * k, k, n - j0 < 8 ? n - j0 : 8, k, packed + (size_t)j0 * kp);
    }
}

/* ---- 3x3 depthwise with the requantization fused (el_opt_kernels.dw_rq) ----
 * 16 channels at a time: the nine filter vectors stay in registers for the whole run of
 * pixels, tap products are summed in int16 pairs (exact without a -128 filter byte:
 * no_min_filter), widened onto accumulators that start at the bias, and requantized as the
 * fused GEMM does (rq_lanes' fast form: every channel shifts right by at least 1). dw_rq_ok
 * checks both once per layer and channel block; anything else takes the tile path. */
int el_opt_dw_rq_ok_neon(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq)
{
    int32_t c;
    if (n < 16) {
        return 0;
    }
    for (c = 0; c + 16 <= n; c += 16) {
        const int32x4_t m =
            vmaxq_s32(vmaxq_s32(vld1q_s32(rq->shift + c), vld1q_s32(rq->shift + c + 4)),
                      vmaxq_s32(vld1q_s32(rq->shift + c + 8), vld1q_s32(rq->shift + c + 12)));
        if (!no_min_filter(9, f, fstride, c, 16) || vmaxvq_s32(m) > -1) {
            return 0;
        }
    }
    return 1;
}

/* 16 channels at a time: the taps' filter bytes summed in int16 (|sum| <= 64 * 128), then
 * widened, multiplied by the offset and added to the bias (VMLA wraps modulo 2^32). */
void el_opt_dw_sums_neon(int32_t taps, const int8_t *f, int32_t fstride, int32_t n,
                         const int32_t *bias, int32_t off, int32_t *out)
{
    const int32x4_t vo = vdupq_n_s32(off), zero = vdupq_n_s32(0);
    int32_t c = 0, t;
    for (; c + 16 <= n; c += 16) {
        int16x8_t lo = vdupq_n_s16(0), hi = lo;
        for (t = 0; t < taps; ++t) {
            const int8x16_t v = vld1q_s8(f + (size_t)t * fstride + c);
            lo = vaddw_s8(lo, vget_low_s8(v));
            hi = vaddw_high_s8(hi, v);
        }
        vst1q_s32(out + c,
                  vmlaq_s32(bias ? vld1q_s32(bias + c) : zero, vmovl_s16(vget_low_s16(lo)), vo));
        vst1q_s32(out + c + 4,
                  vmlaq_s32(bias ? vld1q_s32(bias + c + 4) : zero, vmovl_high_s16(lo), vo));
        vst1q_s32(out + c + 8, vmlaq_s32(bias ? vld1q_s32(bias + c + 8) : zero,
                                         vmovl_s16(vget_low_s16(hi)), vo));
        vst1q_s32(out + c + 12,
                  vmlaq_s32(bias ? vld1q_s32(bias + c + 12) : zero, vmovl_high_s16(hi), vo));
    }
    for (; c < n; ++c) {
        uint32_t s = 0;
        for (t = 0; t < taps; ++t) {
            s += (uint32_t)(int32_t)f[(size_t)t * fstride + c];
        }
        out[c] = (int32_t)((bias ? (uint32_t)bias[c] : 0u) + (uint32_t)off * s);
    }
}

/* inlined into both callers (a call passes 11 arguments and spills the filter registers) */
static inline __attribute__((always_inline)) void
dw3_rq16(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix, const int8_t *f,
         int32_t fstride, const el_opt_rq *rq, int32_t c, int8_t *out, int32_t ostep)
{
    const size_t fs = (size_t)fstride, d1 = (size_t)dstep, d2 = 2 * (size_t)dstep;
    const int8x16_t w0 = vld1q_s8(f), w1 = vld1q_s8(f + fs), w2 = vld1q_s8(f + 2 * fs);
    const int8x16_t w3 = vld1q_s8(f + 3 * fs), w4 = vld1q_s8(f + 4 * fs);
    const int8x16_t w5 = vld1q_s8(f + 5 * fs), w6 = vld1q_s8(f + 6 * fs);
    const int8x16_t w7 = vld1q_s8(f + 7 * fs), w8 = vld1q_s8(f + 8 * fs);
    const int32_t *bias = rq->bias + c;
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t m0 = vld1q_s32(rq->mult + c), m1 = vld1q_s32(rq->mult + c + 4);
    const int32x4_t m2 = vld1q_s32(rq->mult + c + 8), m3 = vld1q_s32(rq->mult + c + 12);
    const int32x4_t r0 = vminq_s32(vld1q_s32(rq->shift + c), zero);
    const int32x4_t r1 = vminq_s32(vld1q_s32(rq->shift + c + 4), zero);
    const int32x4_t r2 = vminq_s32(vld1q_s32(rq->shift + c + 8), zero);
    const int32x4_t r3 = vminq_s32(vld1q_s32(rq->shift + c + 12), zero);
    const int16x8_t zp = vdupq_n_s16((int16_t)rq->out_offset);
    const int8x16_t lo = vdupq_n_s8((int8_t)rq->act_min), hi = vdupq_n_s8((int8_t)rq->act_max);
    const int8_t *p0 = rows[0] + c, *p1 = rows[1] + c, *p2 = rows[2] + c;
    int32_t p;
    for (p = 0; p < npix; ++p, p0 += xstep, p1 += xstep, p2 += xstep, out += ostep) {
        const int8x16_t x_0 = vld1q_s8(p0), x_1 = vld1q_s8(p0 + d1), x_2 = vld1q_s8(p0 + d2);
        const int8x16_t x_3 = vld1q_s8(p1), x_4 = vld1q_s8(p1 + d1), x_5 = vld1q_s8(p1 + d2);
        const int8x16_t x_6 = vld1q_s8(p2), x_7 = vld1q_s8(p2 + d1), x_8 = vld1q_s8(p2 + d2);
        const int16x8_t lo8 = vmull_s8(vget_low_s8(x_8), vget_low_s8(w8));
        const int16x8_t hi8 = vmull_high_s8(x_8, w8);
        /* the bias reloaded per pixel: a load, where holding it would spill */
        int32x4_t s0 = vaddw_s16(vld1q_s32(bias), vget_low_s16(lo8));
        int32x4_t s1 = vaddw_high_s16(vld1q_s32(bias + 4), lo8);
        int32x4_t s2 = vaddw_s16(vld1q_s32(bias + 8), vget_low_s16(hi8));
        int32x4_t s3 = vaddw_high_s16(vld1q_s32(bias + 12), hi8);
        int16x8_t q0, q1;
        EL_DW_PAIR(s0, s1, s2, s3, x_0, w0, x_1, w1)
        EL_DW_PAIR(s0, s1, s2, s3, x_2, w2, x_3, w3)
        EL_DW_PAIR(s0, s1, s2, s3, x_4, w4, x_5, w5)
        EL_DW_PAIR(s0, s1, s2, s3, x_6, w6, x_7, w7)
        q0 = vqaddq_s16(
            vqmovn_high_s32(vqmovn_s32(rq_lanes(s0, m0, r0, r0, 0)), rq_lanes(s1, m1, r1, r1, 0)),
            zp);
        q1 = vqaddq_s16(
            vqmovn_high_s32(vqmovn_s32(rq_lanes(s2, m2, r2, r2, 0)), rq_lanes(s3, m3, r3, r3, 0)),
            zp);
        vst1q_s8(out, vminq_s8(vmaxq_s8(vqmovn_high_s16(vqmovn_s16(q0), q1), lo), hi));
    }
}

void el_opt_dw_rq_neon(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                       int8_t *out, int32_t ostep)
{
    const int32_t n16 = n & ~15;
    int32_t c, p, ky, kx;
    for (c = 0; c < n16; c += 16) {
        dw3_rq16(rows, dstep, xstep, npix, f + c, fstride, rq, c, out + c, ostep);
    }
    for (p = 0; p < npix; ++p) { /* channels past the last 16: one by one */
        for (c = n16; c < n; ++c) {
            uint32_t s = (uint32_t)rq->bias[c];
            int32_t r;
            for (ky = 0; ky < 3; ++ky) {
                for (kx = 0; kx < 3; ++kx) {
                    const int8_t x = rows[ky][(size_t)p * xstep + (size_t)kx * dstep + c];
                    s += (uint32_t)((int32_t)x * f[(size_t)(ky * 3 + kx) * fstride + c]);
                }
            }
            r = el_opt_requant1((int32_t)s, rq->mult[c], rq->shift[c]) + rq->out_offset;
            out[(size_t)p * ostep + c] = (int8_t)el_clamp_i32(r, rq->act_min, rq->act_max);
        }
    }
}

/* ---- 3x3 depthwise with SDOT (the SDOT table's dw_rq) ----
 * 8 channels at a time. An input column's three rows are interleaved byte by byte into two
 * vectors of 4 channels x [row 0, row 1, row 2, row 2] (ZIP1 of rows 0 and 1, ZIP1 of row 2
 * with itself, then ZIP1 / ZIP2 of the two by 16 bits); the filter column kx is interleaved
 * the same way with a zero fourth byte, so one SDOT adds a column's three taps of 4 channels
 * into int32 (exact for any filter). Output pixel p reads the input columns p * xstep +
 * {0, 1, 2} * dstep: at stride 1 each column is built once and used by three pixels, at
 * stride 2 by up to two (other steps: three columns per pixel). Accumulators start at the
 * bias; the requantization is the fused GEMM's fast form (dw_rq_ok: every channel shifts
 * right). A last block of fewer than 8 channels overlaps the previous one (its bytes are
 * written twice, equal). Short rows take the int16 kernel above, so dw_rq_ok also declines
 * a -128 filter byte (the tile path), as the NEON table's does. */
int el_opt_dw_rq_ok_sdot(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq)
{
    const int32_t w = n >= 16 ? 16 : 8; /* blocks of w channels, the last one overlapping */
    int32_t c;
    if (n < 8) {
        return 0;
    }
    for (c = 0;; c += w) {
        int32x4_t m;
        c = c + w <= n ? c : n - w;
        m = vmaxq_s32(vld1q_s32(rq->shift + c), vld1q_s32(rq->shift + c + 4));
        if (w == 16) {
            m = vmaxq_s32(m,
                          vmaxq_s32(vld1q_s32(rq->shift + c + 8), vld1q_s32(rq->shift + c + 12)));
        }
        if (vmaxvq_s32(m) > -1 || !no_min_filter(9, f, fstride, c, w)) {
            return 0; /* a channel not shifting right, or a -128 filter byte */
        }
        if (c + w >= n) {
            return 1;
        }
    }
}

/* 8 bytes at p in the low half, zero above (one LDR d) */
static inline int8x16_t dw_ld8(const int8_t *p)
{
    return vcombine_s8(vld1_s8(p), vdup_n_s8(0));
}

/* Column interleave: R0..R2 the rows (8 channels in the low halves); LO channels 0-3, HI 4-7 */
#define DW_ILV(R0, R1, R2, R3, LO, HI)                                                             \
    {                                                                                              \
        const int16x8_t a_ = vreinterpretq_s16_s8(vzip1q_s8(R0, R1));                              \
        const int16x8_t b_ = vreinterpretq_s16_s8(vzip1q_s8(R2, R3));                              \
        LO = vreinterpretq_s8_s16(vzip1q_s16(a_, b_));                                             \
        HI = vreinterpretq_s8_s16(vzip2q_s16(a_, b_));                                             \
    }
#define DW_COL(OFF, LO, HI)                                                                        \
    {                                                                                              \
        const int8x16_t r2_ = dw_ld8(p2 + (OFF));                                                  \
        DW_ILV(dw_ld8(p0 + (OFF)), dw_ld8(p1 + (OFF)), r2_, r2_, LO, HI)                           \
    }
/* one output pixel from the columns (A0 A1), (B0 B1), (C0 C1) */
#define DW_PIX(A0, A1, B0, B1, C0, C1)                                                             \
    {                                                                                              \
        int32x4_t s0_ = vdotq_s32(bias0, A0, f00), s1_ = vdotq_s32(bias1, A1, f01);                \
        int16x8_t q_;                                                                              \
        s0_ = vdotq_s32(s0_, B0, f10);                                                             \
        s1_ = vdotq_s32(s1_, B1, f11);                                                             \
        s0_ = vdotq_s32(s0_, C0, f20);                                                             \
        s1_ = vdotq_s32(s1_, C1, f21);                                                             \
        q_ = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(rq_lanes(s0_, m0, r0, r0, 0)),                  \
                                        rq_lanes(s1_, m1, r1, r1, 0)),                             \
                        zp);                                                                       \
        vst1_s8(out, clamp ? vmin_s8(vmax_s8(vqmovn_s16(q_), lo), hi) : vqmovn_s16(q_));           \
        out += ostep;                                                                              \
    }

/* clamp = 0: the activation range is all of int8 (no VMAX / VMIN per pixel) */
EL_SDOT static inline __attribute__((always_inline)) void
dw3_sdot8(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix, const int8_t *f,
          int32_t fstride, const el_opt_rq *rq, int32_t c, int8_t *out, int32_t ostep,
          const int clamp)
{
    const size_t fs = (size_t)fstride, d = (size_t)dstep;
    const int8x16_t z = vdupq_n_s8(0);
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t bias0 = vld1q_s32(rq->bias + c), bias1 = vld1q_s32(rq->bias + c + 4);
    const int32x4_t m0 = vld1q_s32(rq->mult + c), m1 = vld1q_s32(rq->mult + c + 4);
    const int32x4_t r0 = vminq_s32(vld1q_s32(rq->shift + c), zero);
    const int32x4_t r1 = vminq_s32(vld1q_s32(rq->shift + c + 4), zero);
    const int16x8_t zp = vdupq_n_s16((int16_t)rq->out_offset);
    const int8x8_t lo = vdup_n_s8((int8_t)rq->act_min), hi = vdup_n_s8((int8_t)rq->act_max);
    const int8_t *p0 = rows[0] + c, *p1 = rows[1] + c, *p2 = rows[2] + c;
    int8x16_t f00, f01, f10, f11, f20, f21, a0, a1, b0, b1, c0, c1;
    size_t off;
    int32_t p = 0;
    DW_ILV(dw_ld8(f), dw_ld8(f + 3 * fs), dw_ld8(f + 6 * fs), z, f00, f01)
    DW_ILV(dw_ld8(f + fs), dw_ld8(f + 4 * fs), dw_ld8(f + 7 * fs), z, f10, f11)
    DW_ILV(dw_ld8(f + 2 * fs), dw_ld8(f + 5 * fs), dw_ld8(f + 8 * fs), z, f20, f21)
    if (xstep == dstep) { /* stride 1: one new column per pixel, three pixels per turn */
        DW_COL(0, a0, a1)
        DW_COL(d, b0, b1)
        for (off = 2 * d; p + 3 <= npix; p += 3, off += 3 * d) {
            DW_COL(off, c0, c1)
            DW_PIX(a0, a1, b0, b1, c0, c1)
            DW_COL(off + d, a0, a1)
            DW_PIX(b0, b1, c0, c1, a0, a1)
            DW_COL(off + 2 * d, b0, b1)
            DW_PIX(c0, c1, a0, a1, b0, b1)
        }
        if (p < npix) {
            DW_COL(off, c0, c1)
            DW_PIX(a0, a1, b0, b1, c0, c1)
            if (p + 1 < npix) {
                DW_COL(off + d, a0, a1)
                DW_PIX(b0, b1, c0, c1, a0, a1)
            }
        }
    } else if (xstep == 2 * dstep) { /* stride 2: two new columns per pixel */
        DW_COL(0, a0, a1)
        for (off = d; p + 2 <= npix; p += 2, off += 4 * d) {
            DW_COL(off, b0, b1)
            DW_COL(off + d, c0, c1)
            DW_PIX(a0, a1, b0, b1, c0, c1)
            DW_COL(off + 2 * d, b0, b1)
            DW_COL(off + 3 * d, a0, a1)
            DW_PIX(c0, c1, b0, b1, a0, a1)
        }
        if (p < npix) {
            DW_COL(off, b0, b1)
            DW_COL(off + d, c0, c1)
            DW_PIX(a0, a1, b0, b1, c0, c1)
        }
    } else {
        for (off = 0; p < npix; ++p, off += (size_t)xstep) {
            DW_COL(off, a0, a1)
            DW_COL(off + d, b0, b1)
            DW_COL(off + 2 * d, c0, c1)
            DW_PIX(a0, a1, b0, b1, c0, c1)
        }
    }
}
#undef DW_ILV
#undef DW_COL
#undef DW_PIX
#define EL_DW3_SDOT8(NAME, CLAMP)                                                                  \
    EL_SDOT static void NAME(const int8_t *const *rows, int32_t dstep, int32_t xstep,              \
                             int32_t npix, const int8_t *f, int32_t fstride, const el_opt_rq *rq,  \
                             int32_t c, int8_t *out, int32_t ostep)                                \
    {                                                                                              \
        dw3_sdot8(rows, dstep, xstep, npix, f, fstride, rq, c, out, ostep, CLAMP);                 \
    }
EL_DW3_SDOT8(dw3_sdot8_c, 1)
EL_DW3_SDOT8(dw3_sdot8_nc, 0)

/* Short rows (stride 1: under 8 pixels, stride 2: under 20): the 16-lane int16 kernel, whose
 * setup per row is cheaper (measured on MobileNetV2's 3x3 to 14x14 maps), on 16-channel
 * blocks (a last block overlapping the previous one). */
void el_opt_dw_rq_sdot(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                       int8_t *out, int32_t ostep)
{
    int32_t c = 0;
    if (n >= 16 && npix < (xstep == dstep ? 8 : 20)) {
        for (;; c += 16) {
            c = c + 16 <= n ? c : n - 16;
            dw3_rq16(rows, dstep, xstep, npix, f + c, fstride, rq, c, out + c, ostep);
            if (c + 16 >= n) {
                return;
            }
        }
    }
    for (;; c += 8) {
        c = c + 8 <= n ? c : n - 8; /* n >= 8 (dw_rq_ok) */
        if (rq->act_min > -128 || rq->act_max < 127) {
            dw3_sdot8_c(rows, dstep, xstep, npix, f + c, fstride, rq, c, out + c, ostep);
        } else {
            dw3_sdot8_nc(rows, dstep, xstep, npix, f + c, fstride, rq, c, out + c, ostep);
        }
        if (c + 8 >= n) {
            break;
        }
    }
}

/* ---- int8 ADD / SUB, 16 lanes at a time ----
 * TFLite's arithmetic (el_opt_add1): each input (x + offset) << left_shift, requantized to the
 * common scale, added or subtracted, requantized to the output. The input scales are at most
 * half the larger one, so their shifts are 0 (the larger input: SRDHM alone, RDBP by 0 is the
 * identity) or right shifts (rq_lanes' fast form); the output shift is a right shift. The
 * forms are constants of each instantiation; any other layer goes to add_neon_any. */
#define EL_ADD_SHIFT0 0 /* shift 0: VQRDMULH only */
#define EL_ADD_RIGHT 1  /* shift <= -1: VQRDMULH, SSRA, VRSHL */
static inline __attribute__((always_inline)) int32x4_t add_rq(int32x4_t v, int32x4_t m,
                                                              int32x4_t nrs, const int form)
{
    return form == EL_ADD_SHIFT0 ? vqrdmulhq_s32(v, m) : rq_lanes(v, m, nrs, nrs, 0);
}

/* is_sub and clamp (VMAX / VMIN only when the activation range is narrower than int8: residual
 * ADDs have no activation) are constants of each inlined copy, and the four 4-lane groups are
 * written out: GCC 12 kept a loop over them with the sums on the stack and a branch on is_sub
 * per group (about 110 instructions per 16 outputs, now about 70). */
static inline __attribute__((always_inline)) void add16(const el_arith_params *p, const int is_sub,
                                                        int32_t n, const int8_t *a, const int8_t *b,
                                                        int8_t *out, const int f1, const int f2,
                                                        const int clamp)
{
    const int16x8_t off1 = vdupq_n_s16((int16_t)p->input1_offset);
    const int16x8_t off2 = vdupq_n_s16((int16_t)p->input2_offset);
    const int16x8_t ls = vdupq_n_s16((int16_t)(p->left_shift - 16));
    const int32x4_t m1 = vdupq_n_s32(p->input1_multiplier), m2 = vdupq_n_s32(p->input2_multiplier);
    const int32x4_t mo = vdupq_n_s32(p->output_multiplier);
    const int32x4_t r1 = vdupq_n_s32(p->input1_shift), r2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t ro = vdupq_n_s32(p->output_shift);
    const int16x8_t zp = vdupq_n_s16((int16_t)p->output_offset);
    const int8x16_t lo = vdupq_n_s8((int8_t)p->act_min), hi = vdupq_n_s8((int8_t)p->act_max);
    int32_t i = 0;
#define ADD_GROUP(WA, WB)                                                                          \
    add_rq(is_sub ? vsubq_s32(add_rq(WA, m1, r1, f1), add_rq(WB, m2, r2, f2))                      \
                  : vaddq_s32(add_rq(WA, m1, r1, f1), add_rq(WB, m2, r2, f2)),                     \
           mo, ro, EL_ADD_RIGHT)
    for (; i + 16 <= n; i += 16) {
        /* (x + offset) << (left_shift - 16) in int16, then SHLL by 16 (left_shift 16..22) */
        const int8x16_t xa = vld1q_s8(a + i), xb = vld1q_s8(b + i);
        const int16x8_t a0 = vshlq_s16(vaddw_s8(off1, vget_low_s8(xa)), ls);
        const int16x8_t a1 = vshlq_s16(vaddw_high_s8(off1, xa), ls);
        const int16x8_t b0 = vshlq_s16(vaddw_s8(off2, vget_low_s8(xb)), ls);
        const int16x8_t b1 = vshlq_s16(vaddw_high_s8(off2, xb), ls);
        const int32x4_t s0 =
            ADD_GROUP(vshll_n_s16(vget_low_s16(a0), 16), vshll_n_s16(vget_low_s16(b0), 16));
        const int32x4_t s1 = ADD_GROUP(vshll_high_n_s16(a0, 16), vshll_high_n_s16(b0, 16));
        const int32x4_t s2 =
            ADD_GROUP(vshll_n_s16(vget_low_s16(a1), 16), vshll_n_s16(vget_low_s16(b1), 16));
        const int32x4_t s3 = ADD_GROUP(vshll_high_n_s16(a1, 16), vshll_high_n_s16(b1, 16));
        const int16x8_t q0 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(s0), s1), zp);
        const int16x8_t q1 = vqaddq_s16(vqmovn_high_s32(vqmovn_s32(s2), s3), zp);
        const int8x16_t r = vqmovn_high_s16(vqmovn_s16(q0), q1);
        vst1q_s8(out + i, clamp ? vminq_s8(vmaxq_s8(r, lo), hi) : r);
    }
#undef ADD_GROUP
    if (i < n) {
        add_neon_any(p, is_sub, n - i, a + i, b + i, out + i);
    }
}

/* one function per requantization form; inside, add / sub and clamp / no clamp */
#define EL_ADD16(NAME, F1, F2)                                                                     \
    static void NAME(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,             \
                     const int8_t *b, int8_t *out)                                                 \
    {                                                                                              \
        if (is_sub) {                                                                              \
            add16(p, 1, n, a, b, out, F1, F2, 1);                                                  \
        } else if (p->act_min > -128 || p->act_max < 127) {                                        \
            add16(p, 0, n, a, b, out, F1, F2, 1);                                                  \
        } else {                                                                                   \
            add16(p, 0, n, a, b, out, F1, F2, 0);                                                  \
        }                                                                                          \
    }
EL_ADD16(add16_00, EL_ADD_SHIFT0, EL_ADD_SHIFT0)
EL_ADD16(add16_01, EL_ADD_SHIFT0, EL_ADD_RIGHT)
EL_ADD16(add16_10, EL_ADD_RIGHT, EL_ADD_SHIFT0)
EL_ADD16(add16_11, EL_ADD_RIGHT, EL_ADD_RIGHT)
#undef EL_ADD16

void el_opt_add_neon(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                     const int8_t *b, int8_t *out)
{
    const int32_t s1 = p->input1_shift, s2 = p->input2_shift;
    /* (x + offset) is summed in int16: int8 offsets are within [-128, 128] */
    if (s1 > 0 || s2 > 0 || p->output_shift > -1 || p->input1_offset < -256 ||
        p->input1_offset > 256 || p->input2_offset < -256 || p->input2_offset > 256 ||
        p->left_shift < 16 || p->left_shift > 22) {
        add_neon_any(p, is_sub, n, a, b, out);
    } else if (s1 == 0) {
        (s2 == 0 ? add16_00 : add16_01)(p, is_sub, n, a, b, out);
    } else {
        (s2 == 0 ? add16_10 : add16_11)(p, is_sub, n, a, b, out);
    }
}

/* ---- float32 conv / depthwise / fully connected (f32_body.h) ---- */
/* FMAX / FMIN return NaN when either operand is NaN: x passes through as NaN. */
static inline float32x4_t clamp4(float32x4_t x, float32x4_t lo, float32x4_t hi)
{
    return vminq_f32(vmaxq_f32(x, lo), hi);
}

/* 8 rows x 8 columns: 16 accumulators; four k at a time, each row's four a values in one
 * vector and multiplied by lane (FMLA by element), so a k step is two panel loads and 16 FMLA.
 * Every output still sees fma(a[kk], b[kk], acc) in kk order. */
#define FT_ROW(i) float32x4_t c##i##0, c##i##1
#define FT_LANE(i, av, l, w0, w1)                                                                  \
    c##i##0 = vfmaq_laneq_f32(c##i##0, w0, av, l);                                                 \
    c##i##1 = vfmaq_laneq_f32(c##i##1, w1, av, l)

static inline void ftile_load(const float *init, int32_t flags, const float *c, int32_t nr,
                              float32x4_t *v0, float32x4_t *v1)
{
    float tmp[8];
    if (flags & EL_F32_FIRST) {
        *v0 = init ? vld1q_f32(init) : vdupq_n_f32(0.0f);
        *v1 = init ? vld1q_f32(init + 4) : vdupq_n_f32(0.0f);
        return;
    }
    if (nr == 8) {
        *v0 = vld1q_f32(c);
        *v1 = vld1q_f32(c + 4);
        return;
    }
    memset(tmp, 0, sizeof tmp);
    memcpy(tmp, c, (size_t)nr * sizeof(float));
    *v0 = vld1q_f32(tmp);
    *v1 = vld1q_f32(tmp + 4);
}

static inline void ftile_store(float32x4_t v0, float32x4_t v1, int32_t flags, float32x4_t lo,
                               float32x4_t hi, int32_t nr, float *c)
{
    float tmp[8];
    if (flags & EL_F32_LAST) {
        v0 = clamp4(v0, lo, hi);
        v1 = clamp4(v1, lo, hi);
    }
    if (nr == 8) {
        vst1q_f32(c, v0);
        vst1q_f32(c + 4, v1);
        return;
    }
    vst1q_f32(tmp, v0);
    vst1q_f32(tmp + 4, v1);
    memcpy(c, tmp, (size_t)nr * sizeof(float));
}

static inline __attribute__((always_inline)) void
ftile_body(int32_t k, const float *const *a, const float *b, const float *init, int32_t flags,
           float lo_f, float hi_f, float *c, int32_t ldc, int32_t mr, int32_t nr)
{
    const float32x4_t lo = vdupq_n_f32(lo_f), hi = vdupq_n_f32(hi_f);
    FT_ROW(0);
    FT_ROW(1);
    FT_ROW(2);
    FT_ROW(3);
    FT_ROW(4);
    FT_ROW(5);
    FT_ROW(6);
    FT_ROW(7);
    int32_t kk = 0;
    ftile_load(init, flags, c, nr, &c00, &c01);
    if (mr == 1) {
        const float *a0 = a[0];
        for (; kk + 4 <= k; kk += 4, b += 32) {
            const float32x4_t x = vld1q_f32(a0 + kk);
            FT_LANE(0, x, 0, vld1q_f32(b), vld1q_f32(b + 4));
            FT_LANE(0, x, 1, vld1q_f32(b + 8), vld1q_f32(b + 12));
            FT_LANE(0, x, 2, vld1q_f32(b + 16), vld1q_f32(b + 20));
            FT_LANE(0, x, 3, vld1q_f32(b + 24), vld1q_f32(b + 28));
        }
        for (; kk < k; ++kk, b += 8) {
            c00 = vfmaq_n_f32(c00, vld1q_f32(b), a0[kk]);
            c01 = vfmaq_n_f32(c01, vld1q_f32(b + 4), a0[kk]);
        }
        ftile_store(c00, c01, flags, lo, hi, nr, c);
        return;
    }
    ftile_load(init, flags, c + (size_t)ldc, mr > 1 ? nr : 0, &c10, &c11);
    ftile_load(init, flags, c + 2 * (size_t)ldc, mr > 2 ? nr : 0, &c20, &c21);
    ftile_load(init, flags, c + 3 * (size_t)ldc, mr > 3 ? nr : 0, &c30, &c31);
    ftile_load(init, flags, c + 4 * (size_t)ldc, mr > 4 ? nr : 0, &c40, &c41);
    ftile_load(init, flags, c + 5 * (size_t)ldc, mr > 5 ? nr : 0, &c50, &c51);
    ftile_load(init, flags, c + 6 * (size_t)ldc, mr > 6 ? nr : 0, &c60, &c61);
    ftile_load(init, flags, c + 7 * (size_t)ldc, mr > 7 ? nr : 0, &c70, &c71);
    {
        const float *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
        const float *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
        for (; kk + 4 <= k; kk += 4) {
            const float32x4_t x0 = vld1q_f32(a0 + kk), x1 = vld1q_f32(a1 + kk);
            const float32x4_t x2 = vld1q_f32(a2 + kk), x3 = vld1q_f32(a3 + kk);
            const float32x4_t x4 = vld1q_f32(a4 + kk), x5 = vld1q_f32(a5 + kk);
            const float32x4_t x6 = vld1q_f32(a6 + kk), x7 = vld1q_f32(a7 + kk);
#define FT_STEP(l)                                                                                 \
    do {                                                                                           \
        const float32x4_t w0 = vld1q_f32(b), w1 = vld1q_f32(b + 4);                                \
        FT_LANE(0, x0, l, w0, w1);                                                                 \
        FT_LANE(1, x1, l, w0, w1);                                                                 \
        FT_LANE(2, x2, l, w0, w1);                                                                 \
        FT_LANE(3, x3, l, w0, w1);                                                                 \
        FT_LANE(4, x4, l, w0, w1);                                                                 \
        FT_LANE(5, x5, l, w0, w1);                                                                 \
        FT_LANE(6, x6, l, w0, w1);                                                                 \
        FT_LANE(7, x7, l, w0, w1);                                                                 \
        b += 8;                                                                                    \
    } while (0)
            FT_STEP(0);
            FT_STEP(1);
            FT_STEP(2);
            FT_STEP(3);
#undef FT_STEP
        }
        for (; kk < k; ++kk, b += 8) {
            const float32x4_t w0 = vld1q_f32(b), w1 = vld1q_f32(b + 4);
            c00 = vfmaq_n_f32(c00, w0, a0[kk]);
            c01 = vfmaq_n_f32(c01, w1, a0[kk]);
            c10 = vfmaq_n_f32(c10, w0, a1[kk]);
            c11 = vfmaq_n_f32(c11, w1, a1[kk]);
            c20 = vfmaq_n_f32(c20, w0, a2[kk]);
            c21 = vfmaq_n_f32(c21, w1, a2[kk]);
            c30 = vfmaq_n_f32(c30, w0, a3[kk]);
            c31 = vfmaq_n_f32(c31, w1, a3[kk]);
            c40 = vfmaq_n_f32(c40, w0, a4[kk]);
            c41 = vfmaq_n_f32(c41, w1, a4[kk]);
            c50 = vfmaq_n_f32(c50, w0, a5[kk]);
            c51 = vfmaq_n_f32(c51, w1, a5[kk]);
            c60 = vfmaq_n_f32(c60, w0, a6[kk]);
            c61 = vfmaq_n_f32(c61, w1, a6[kk]);
            c70 = vfmaq_n_f32(c70, w0, a7[kk]);
            c71 = vfmaq_n_f32(c71, w1, a7[kk]);
        }
    }
    ftile_store(c00, c01, flags, lo, hi, nr, c);
    ftile_store(c10, c11, flags, lo, hi, nr, c + (size_t)ldc);
    if (mr > 2) {
        ftile_store(c20, c21, flags, lo, hi, nr, c + 2 * (size_t)ldc);
    }
    if (mr > 3) {
        ftile_store(c30, c31, flags, lo, hi, nr, c + 3 * (size_t)ldc);
    }
    if (mr > 4) {
        ftile_store(c40, c41, flags, lo, hi, nr, c + 4 * (size_t)ldc);
    }
    if (mr > 5) {
        ftile_store(c50, c51, flags, lo, hi, nr, c + 5 * (size_t)ldc);
    }
    if (mr > 6) {
        ftile_store(c60, c61, flags, lo, hi, nr, c + 6 * (size_t)ldc);
    }
    if (mr > 7) {
        ftile_store(c70, c71, flags, lo, hi, nr, c + 7 * (size_t)ldc);
    }
}

/* Not inlined into the driver (its register pressure spilled the driver's loop state). */
__attribute__((noinline)) static void ftile_neon(int32_t k, const float *const *a, const float *b,
                                                 const float *init, int32_t flags, float lo_f,
                                                 float hi_f, float *c, int32_t ldc, int32_t mr,
                                                 int32_t nr)
{
    ftile_body(k, a, b, init, flags, lo_f, hi_f, c, ldc, mr, nr);
}

/* np whole panels (F_NP columns each, ldb floats apart) for the same rows in one call: small-k
 * layers spent as much on the per-panel call as on the multiply-adds. init: NULL or the first
 * panel's bias (the next ones follow it). Same sequence per output as ftile_neon. */
__attribute__((noinline)) static void ftile_panels_neon(int32_t k, const float *const *a,
                                                        const float *b, size_t ldb, int32_t np,
                                                        const float *init, int32_t flags,
                                                        float lo_f, float hi_f, float *c,
                                                        int32_t ldc, int32_t mr)
{
    int32_t j;
    for (j = 0; j < np; ++j) {
        ftile_body(k, a, b + (size_t)j * ldb, init ? init + 8 * j : NULL, flags, lo_f, hi_f,
                   c + 8 * j, ldc, mr, 8);
    }
}
#define F_FTILE_PANELS(k, a, b, ldb, np, init, flags, lo, hi, c, ldc, mr)                          \
    ftile_panels_neon(k, a, b, ldb, np, init, flags, lo, hi, c, ldc, mr)
#undef FT_ROW
#undef FT_LANE

/* Eight dot products sharing x: lane l of unit j sums x[kk] * w_j[kk] for kk = l mod 4 (the
 * last partial block zero-filled), then vaddvq_f32. Units past nu repeat the last. */
static void fdot8_neon(int32_t k, const float *x, const float *w, int32_t ldw, int32_t nu,
                       float *sums)
{
    const float *wp[8];
    float32x4_t s[8];
    int32_t kk, j;
    for (j = 0; j < 8; ++j) {
        wp[j] = w + (size_t)(j < nu ? j : nu - 1) * ldw;
        s[j] = vdupq_n_f32(0.0f);
    }
    /* eight k at a time (two FMLA per unit: the same lane sequence as four at a time): one
     * pointer walks down the eight rows, loading each row's eight floats with one LD1 that
     * steps to the next row (the last one steps back to the first row's next eight): 27
     * instructions per 64 multiply-adds. Inline assembly because GCC 12 indexes every load and
     * copies accumulators around the FMLAs. Rows past nu repeat the last (same address). */
    kk = k / 8 * 8;
    if (kk > 0 && nu == 8) {
        const float *wq = wp[0], *xp = x;
        const int64_t stride = (int64_t)ldw * 4, back = 32 - 7 * stride;
        float32x4_t s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
        float32x4_t s4 = s[4], s5 = s[5], s6 = s[6], s7 = s[7], xa, xb, ta, tb;
        int64_t steps = kk / 8;
#define FD_UNIT(sj, step)                                                                          \
    "ld1 {%[ta].4s, %[tb].4s}, [%[wq]], %[" step "]\n\t"                                           \
    "fmla %[" sj "].4s, %[xa].4s, %[ta].4s\n\t"                                                    \
    "fmla %[" sj "].4s, %[xb].4s, %[tb].4s\n\t"
        __asm__ volatile(
            "1:\n\t"
            "ldp %q[xa], %q[xb], [%[xp]], #32\n\t" FD_UNIT("s0", "st") FD_UNIT("s1", "st")
                FD_UNIT("s2", "st") FD_UNIT("s3", "st") FD_UNIT("s4", "st") FD_UNIT("s5", "st")
                    FD_UNIT("s6", "st") FD_UNIT("s7", "bk") "subs %[n], %[n], #1\n\t"
                                                            "b.ne 1b\n\t"
            : [s0] "+w"(s0), [s1] "+w"(s1), [s2] "+w"(s2), [s3] "+w"(s3), [s4] "+w"(s4),
              [s5] "+w"(s5), [s6] "+w"(s6), [s7] "+w"(s7), [wq] "+r"(wq), [xp] "+r"(xp),
              [n] "+r"(steps), [xa] "=&w"(xa), [xb] "=&w"(xb), [ta] "=&w"(ta), [tb] "=&w"(tb)
            : [st] "r"(stride), [bk] "r"(back)
            : "cc", "memory");
#undef FD_UNIT
        s[0] = s0, s[1] = s1, s[2] = s2, s[3] = s3, s[4] = s4, s[5] = s5, s[6] = s6, s[7] = s7;
    } else {
        kk = 0;
    }
    for (; kk + 4 <= k; kk += 4) {
        const float32x4_t xv = vld1q_f32(x + kk);
        s[0] = vfmaq_f32(s[0], xv, vld1q_f32(wp[0] + kk));
        s[1] = vfmaq_f32(s[1], xv, vld1q_f32(wp[1] + kk));
        s[2] = vfmaq_f32(s[2], xv, vld1q_f32(wp[2] + kk));
        s[3] = vfmaq_f32(s[3], xv, vld1q_f32(wp[3] + kk));
        s[4] = vfmaq_f32(s[4], xv, vld1q_f32(wp[4] + kk));
        s[5] = vfmaq_f32(s[5], xv, vld1q_f32(wp[5] + kk));
        s[6] = vfmaq_f32(s[6], xv, vld1q_f32(wp[6] + kk));
        s[7] = vfmaq_f32(s[7], xv, vld1q_f32(wp[7] + kk));
    }
    if (kk < k) {
        float xt[4] = {0.0f, 0.0f, 0.0f, 0.0f}, wt[4];
        float32x4_t xv;
        memcpy(xt, x + kk, (size_t)(k - kk) * sizeof(float));
        xv = vld1q_f32(xt);
        for (j = 0; j < 8; ++j) {
            memset(wt, 0, sizeof wt);
            memcpy(wt, wp[j] + kk, (size_t)(k - kk) * sizeof(float));
            s[j] = vfmaq_f32(s[j], xv, vld1q_f32(wt));
        }
    }
    for (j = 0; j < nu; ++j) {
        sums[j] = vaddvq_f32(s[j]);
    }
}

/* panel[kk * 8 + j] = w[j * ldw + kk]: 4x4 transposes (TRN1/TRN2 on 32- then 64-bit lanes),
 * the last k one by one */
static void pack8_f32(const float *w, int32_t ldw, int32_t ks, float *panel)
{
    int32_t kk, h, j;
    for (kk = 0; kk + 4 <= ks; kk += 4) {
        for (h = 0; h < 2; ++h) {
            const float *r = w + (size_t)(h * 4) * ldw + kk;
            const float32x4_t r0 = vld1q_f32(r), r1 = vld1q_f32(r + ldw);
            const float32x4_t r2 = vld1q_f32(r + 2 * (size_t)ldw);
            const float32x4_t r3 = vld1q_f32(r + 3 * (size_t)ldw);
            const float64x2_t t0 = vreinterpretq_f64_f32(vtrn1q_f32(r0, r1));
            const float64x2_t t1 = vreinterpretq_f64_f32(vtrn2q_f32(r0, r1));
            const float64x2_t t2 = vreinterpretq_f64_f32(vtrn1q_f32(r2, r3));
            const float64x2_t t3 = vreinterpretq_f64_f32(vtrn2q_f32(r2, r3));
            float *o = panel + (size_t)kk * 8 + h * 4;
            vst1q_f32(o, vreinterpretq_f32_f64(vtrn1q_f64(t0, t2)));
            vst1q_f32(o + 8, vreinterpretq_f32_f64(vtrn1q_f64(t1, t3)));
            vst1q_f32(o + 16, vreinterpretq_f32_f64(vtrn2q_f64(t0, t2)));
            vst1q_f32(o + 24, vreinterpretq_f32_f64(vtrn2q_f64(t1, t3)));
        }
    }
    for (; kk < ks; ++kk) {
        for (j = 0; j < 8; ++j) {
            panel[(size_t)kk * 8 + j] = w[(size_t)j * ldw + kk];
        }
    }
}

#define F_PACK_FULL(w, ldw, ks, panel) pack8_f32(w, ldw, ks, panel)
#define F_DW_QUAD 1 /* 32 registers: nine filter vectors, four sums, six columns */
#include <math.h>

#define F_ATTR
#define F_FN(x) x##_neon
#define F_V float32x4_t
#define F_L 4
#define F_MR 8
#define F_ZERO vdupq_n_f32(0.0f)
#define F_LOAD(p) vld1q_f32(p)
#define F_STORE(p, v) vst1q_f32(p, v)
#define F_BCAST(x) vdupq_n_f32(x)
#define F_FMA(acc, a, b) vfmaq_f32(acc, a, b)
#define F_CLAMP(v, lo, hi) clamp4(v, lo, hi)
#define F_GTSEL(v, m) vbslq_f32(vcgtq_f32(v, m), v, m)
#define F_LTSEL(a, b) vbslq_f32(vcltq_f32(a, b), a, b)
#include "f32_body.h"

/* DEQUANTIZE float16 -> float32 with FCVTL (ARMv8.0 NEON: every aarch64 CPU, no flag needed):
 * exact for every float16 value, so the reference's bits, except NaN payloads (FCVTL quiets a
 * signalling NaN): a block of 8 holding a NaN goes through the reference's conversion. */
int el_opt_dequantize_f16(uint32_t isa, int32_t n, const uint16_t *in, float *out)
{
    int32_t i = 0;
    if (!(isa & EL_OPT_ISA_NEON)) {
        return 0;
    }
    for (; i + 8 <= n; i += 8) {
        const uint16x8_t h = vld1q_u16(in + i);
        if (vmaxvq_u16(vcgtq_u16(vandq_u16(h, vdupq_n_u16(0x7fffu)), vdupq_n_u16(0x7c00u)))) {
            el_dequantize_f16_f32(8, in + i, out + i);
            continue;
        }
        vst1q_f32(out + i, vcvt_f32_f16(vreinterpret_f16_u16(vget_low_u16(h))));
        vst1q_f32(out + i + 4, vcvt_high_f32_f16(vreinterpretq_f16_u16(h)));
    }
    el_dequantize_f16_f32(n - i, in + i, out + i);
    return 1;
}

#else
typedef int el_opt_arm_neon_unused;
#endif
