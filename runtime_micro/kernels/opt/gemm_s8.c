/* The int8 GEMM of CONV_2D / FULLY_CONNECTED when no run-time SIMD path applies, in the
 * CMSIS-NN shape: Cortex-M55 MVE, else Cortex-M4/M7 DSP (SMLAD), else plain C (what every
 * other CPU compiles). All three compute c = sum a * b exactly (int32, wrapping).
 * Tiles are 2 rows x 2 columns: each loaded input word feeds two outputs. */
#include <string.h>

#include "opt_internal.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>

/* VMLADAVA.S8: 16 int8 products summed into a 32-bit scalar; vctp8q predicates the tail. */
static void tile2x2(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1,
                    int32_t k, int32_t *r)
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, kk;
    for (kk = 0; kk + 16 <= k; kk += 16) {
        const int8x16_t w0 = vldrbq_s8(b0 + kk), w1 = vldrbq_s8(b1 + kk);
        int8x16_t x = vldrbq_s8(a0 + kk);
        s00 = vmladavaq_s8(s00, x, w0);
        s01 = vmladavaq_s8(s01, x, w1);
        x = vldrbq_s8(a1 + kk);
        s10 = vmladavaq_s8(s10, x, w0);
        s11 = vmladavaq_s8(s11, x, w1);
    }
    if (kk < k) { /* the tail: predicated loads read only k - kk bytes, the rest are zero */
        const mve_pred16_t p = vctp8q((uint32_t)(k - kk));
        const int8x16_t w0 = vldrbq_z_s8(b0 + kk, p), w1 = vldrbq_z_s8(b1 + kk, p);
        int8x16_t x = vldrbq_z_s8(a0 + kk, p);
        s00 = vmladavaq_s8(s00, x, w0);
        s01 = vmladavaq_s8(s01, x, w1);
        x = vldrbq_z_s8(a1 + kk, p);
        s10 = vmladavaq_s8(s10, x, w0);
        s11 = vmladavaq_s8(s11, x, w1);
    }
    r[0] = s00;
    r[1] = s01;
    r[2] = s10;
    r[3] = s11;
}

static void tile1x2(const int8_t *a0, const int8_t *b0, const int8_t *b1, int32_t k, int32_t *r)
{
    int32_t s0 = 0, s1 = 0, kk;
    for (kk = 0; kk + 16 <= k; kk += 16) {
        const int8x16_t x = vldrbq_s8(a0 + kk);
        s0 = vmladavaq_s8(s0, x, vldrbq_s8(b0 + kk));
        s1 = vmladavaq_s8(s1, x, vldrbq_s8(b1 + kk));
    }
    if (kk < k) {
        const mve_pred16_t p = vctp8q((uint32_t)(k - kk));
        const int8x16_t x = vldrbq_z_s8(a0 + kk, p);
        s0 = vmladavaq_s8(s0, x, vldrbq_z_s8(b0 + kk, p));
        s1 = vmladavaq_s8(s1, x, vldrbq_z_s8(b1 + kk, p));
    }
    r[0] = s0;
    r[1] = s1;
}

#elif defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

static inline uint32_t ld32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4); /* one LDR: Cortex-M4/M7 load unaligned words */
    return v;
}

/* Bytes 0 and 2 / bytes 1 and 3 sign-extended to two int16 lanes. GCC 12 does not fold a
 * rotate into SXTB16, hence the one-line asm for the odd bytes. */
static inline int16x2_t even16(uint32_t v) { return __sxtb16((int8x4_t)v); }

static inline int16x2_t odd16(uint32_t v)
{
    int16x2_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}

/* SMLAD: two 16x16 products added to the accumulator (wrapping, exact for int8 inputs).
 * (Widening the rows to int16 first, as CMSIS-NN does, measured no fewer instructions here:
 * GCC 12 spills in the 2x2 tile either way.) */
static void tile2x2(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1,
                    int32_t k, int32_t *r)
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, kk;
    for (kk = 0; kk + 4 <= k; kk += 4) {
        const uint32_t w0 = ld32(b0 + kk), w1 = ld32(b1 + kk);
        const int16x2_t w0e = even16(w0), w0o = odd16(w0), w1e = even16(w1), w1o = odd16(w1);
        uint32_t x = ld32(a0 + kk);
        int16x2_t xe = even16(x), xo = odd16(x);
        s00 = __smlad(xe, w0e, s00);
        s00 = __smlad(xo, w0o, s00);
        s01 = __smlad(xe, w1e, s01);
        s01 = __smlad(xo, w1o, s01);
        x = ld32(a1 + kk);
        xe = even16(x);
        xo = odd16(x);
        s10 = __smlad(xe, w0e, s10);
        s10 = __smlad(xo, w0o, s10);
        s11 = __smlad(xe, w1e, s11);
        s11 = __smlad(xo, w1o, s11);
    }
    for (; kk < k; ++kk) {
        s00 += (int32_t)a0[kk] * b0[kk];
        s01 += (int32_t)a0[kk] * b1[kk];
        s10 += (int32_t)a1[kk] * b0[kk];
        s11 += (int32_t)a1[kk] * b1[kk];
    }
    r[0] = s00;
    r[1] = s01;
    r[2] = s10;
    r[3] = s11;
}

static void tile1x2(const int8_t *a0, const int8_t *b0, const int8_t *b1, int32_t k, int32_t *r)
{
    int32_t s0 = 0, s1 = 0, kk;
    for (kk = 0; kk + 4 <= k; kk += 4) {
        const uint32_t x = ld32(a0 + kk), w0 = ld32(b0 + kk), w1 = ld32(b1 + kk);
        const int16x2_t xe = even16(x), xo = odd16(x);
        s0 = __smlad(xe, even16(w0), s0);
        s0 = __smlad(xo, odd16(w0), s0);
        s1 = __smlad(xe, even16(w1), s1);
        s1 = __smlad(xo, odd16(w1), s1);
    }
    for (; kk < k; ++kk) {
        s0 += (int32_t)a0[kk] * b0[kk];
        s1 += (int32_t)a0[kk] * b1[kk];
    }
    r[0] = s0;
    r[1] = s1;
}

#else

static void tile2x2(const int8_t *a0, const int8_t *a1, const int8_t *b0, const int8_t *b1,
                    int32_t k, int32_t *r)
{
    int32_t s00 = 0, s01 = 0, s10 = 0, s11 = 0, kk;
    for (kk = 0; kk < k; ++kk) {
        const int32_t x0 = a0[kk], x1 = a1[kk], w0 = b0[kk], w1 = b1[kk];
        s00 += x0 * w0;
        s01 += x0 * w1;
        s10 += x1 * w0;
        s11 += x1 * w1;
    }
    r[0] = s00;
    r[1] = s01;
    r[2] = s10;
    r[3] = s11;
}

static void tile1x2(const int8_t *a0, const int8_t *b0, const int8_t *b1, int32_t k, int32_t *r)
{
    int32_t s0 = 0, s1 = 0, kk;
    for (kk = 0; kk < k; ++kk) {
        const int32_t x = a0[kk];
        s0 += x * b0[kk];
        s1 += x * b1[kk];
    }
    r[0] = s0;
    r[1] = s1;
}

#endif

void el_opt_gemm_c(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                   int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc)
{
    int32_t i, j;
    (void)bsum;
    /* Short tiles repeat the last row / column and drop the extra results. */
    for (i = 0; i < m; i += 2) {
        const int has1 = i + 1 < m;
        const int8_t *a0 = a[i], *a1 = has1 ? a[i + 1] : a0;
        for (j = 0; j < n; j += 2) {
            const int8_t *b0 = b + (size_t)j * ldb;
            const int8_t *b1 = j + 1 < n ? b0 + ldb : b0;
            int32_t r[4];
            if (has1) {
                tile2x2(a0, a1, b0, b1, k, r);
            } else {
                tile1x2(a0, b0, b1, k, r); /* a last single row (batch-1 FULLY_CONNECTED) */
            }
            c[(size_t)i * ldc + j] = r[0];
            if (j + 1 < n) {
                c[(size_t)i * ldc + j + 1] = r[1];
            }
            if (has1) {
                c[(size_t)(i + 1) * ldc + j] = r[2];
                if (j + 1 < n) {
                    c[(size_t)(i + 1) * ldc + j + 1] = r[3];
                }
            }
        }
    }
}

void el_opt_rowsum_c(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out)
{
    int32_t j, kk;
    for (j = 0; j < n; ++j) {
        const int8_t *w = b + (size_t)j * ldb;
        uint32_t s = 0;
        kk = 0;
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
        {
            int32_t v = 0;
            for (; kk + 16 <= k; kk += 16) {
                v = vaddvaq_s8(v, vldrbq_s8(w + kk)); /* 16 bytes summed into a scalar */
            }
            s = (uint32_t)v;
        }
#elif defined(__ARM_FEATURE_DSP)
        {
            const int16x2_t ones = (int16x2_t)0x00010001;
            int32_t v = 0;
            for (; kk + 4 <= k; kk += 4) {
                const uint32_t x = ld32(w + kk);
                v = __smlad(even16(x), ones, v);
                v = __smlad(odd16(x), ones, v);
            }
            s = (uint32_t)v;
        }
#endif
        for (; kk < k; ++kk) {
            s += (uint32_t)(int32_t)w[kk];
        }
        out[j] = (int32_t)s;
    }
}
