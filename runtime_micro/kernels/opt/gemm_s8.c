/* The int8 GEMM of CONV_2D / FULLY_CONNECTED when no run-time SIMD path applies, in the
 * CMSIS-NN shape: Cortex-M55 MVE, else Cortex-M4/M7 DSP (SMLAD), else plain C (what every
 * other CPU compiles). All three compute c = sum a * b exactly (int32, wrapping).
 * Tiles are 2 rows x 2 columns: each loaded input word feeds two outputs. */
#include <string.h>

#include "opt_internal.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>

/* VMLADAVA.S8: 16 int8 products summed into a 32-bit scalar; vctp8q predicates the tail. */
__attribute__((always_inline)) static inline void tile2x2(const int8_t *a0, const int8_t *a1,
                                                          const int8_t *b0, const int8_t *b1,
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

__attribute__((always_inline)) static inline void tile1x2(const int8_t *a0, const int8_t *b0,
                                                          const int8_t *b1, int32_t k, int32_t *r)
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
static inline int16x2_t even16(uint32_t v)
{
    return __sxtb16((int8x4_t)v);
}

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

/* ---- GEMM with requantization fused (conv and FC on Cortex-M4/M7) ----
 * The rows (at most 4 per call on Cortex-M: EL_OPT_MB) are widened to int16 once per call in
 * SXTB16 order, (x0, x2) then (x1, x3) per word, interleaved per 4 bytes of k, so that one
 * filter word, split by SXTB16 / SXTB16 ROR 8, meets 4 rows with 8 SMLADs; a column's 4 sums
 * are requantized straight from registers (no int32 tile in memory). */
#define EL_DSP_KW 256 /* k of the widened rows on the stack (4 rows: 2 KB); longer k unfused */

/* The last k % 4 bytes of a row as a word, zero above (nothing past the row is read). */
static inline uint32_t ld_tail(const int8_t *p, int32_t n)
{
    uint32_t v = 0;
    int32_t t;
    for (t = 0; t < n; ++t) {
        v |= (uint32_t)(uint8_t)p[t] << (8 * t);
    }
    return v;
}

/* xw[q * 2 * rows + 2 * i + {0, 1}]: even / odd halves of row i's word q. */
static void widen_rows(const int8_t *const *a, int32_t rows, int32_t k, uint32_t *xw)
{
    const int32_t k4 = k & ~3;
    int32_t kk, i;
    for (kk = 0; kk < k4; kk += 4) {
        for (i = 0; i < rows; ++i, xw += 2) {
            const uint32_t v = ld32(a[i] + kk);
            xw[0] = (uint32_t)even16(v);
            xw[1] = (uint32_t)odd16(v);
        }
    }
    if (k4 < k) {
        for (i = 0; i < rows; ++i, xw += 2) {
            const uint32_t v = ld_tail(a[i] + k4, k - k4);
            xw[0] = (uint32_t)even16(v);
            xw[1] = (uint32_t)odd16(v);
        }
    }
}

/* One column's requantization constants (see requant_s8.c for the single-SMLAL form). The bias
 * is not here: the column's sums start from it. */
typedef struct {
    int32_t mul;
    int32_t k_lo, k_hi; /* the 64-bit addend: 2^30, plus 2^(30 + r) for a right shift r */
    int32_t left;       /* left shift, or 0 */
    int32_t r1;         /* r - 1 for a right shift r >= 1, else -1 */
} col_rq;

static inline col_rq col_rq_of(const el_opt_rq *rq, int32_t j)
{
    const int32_t sh = rq->shift[j]; /* -31..31 (the drivers check) */
    col_rq c;
    c.mul = rq->mult[j];
    /* 2^30 + 2^(30 + r): bit 31 of the low word for r = 1, bit r - 2 of the high word above */
    c.k_lo = (int32_t)(sh == -1 ? 0xC0000000u : 0x40000000u);
    c.k_hi = sh <= -2 ? (int32_t)(1u << (-sh - 2)) : 0;
    c.left = sh > 0 ? sh : 0;
    c.r1 = sh < 0 ? -sh - 1 : -1;
    return c;
}

/* el_requant of one sum (bias included): SMLAL into the constant, then the high word. */
static inline int32_t rq_one(int32_t v, const col_rq *c)
{
    int32_t lo = c->k_lo, hi = c->k_hi;
    if (c->r1 >= 0) {
        /* (v < 0) * 2^31 off the addend: RoundingDivideByPOT rounds negative ties down */
        const uint32_t neg = (uint32_t)v & 0x80000000u;
        __asm__("subs %0, %0, %2\n\tsbc %1, %1, #0" : "+r"(lo), "+r"(hi) : "r"(neg) : "cc");
        __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(v), "r"(c->mul));
        return hi >> c->r1;
    }
    v = (int32_t)((uint32_t)v << c->left);
    __asm__("smlal %0, %1, %2, %3" : "+r"(lo), "+r"(hi) : "r"(v), "r"(c->mul));
    return (int32_t)(((uint32_t)hi << 1) | ((uint32_t)lo >> 31));
}

static inline int8_t clamp_out(int32_t r, int32_t lo, int32_t hi)
{
    r = r < lo ? lo : r;
    return (int8_t)(r > hi ? hi : r);
}

/* The 4-row inner loop, scheduled by hand: GCC 12 keeps the eight words of a step in separate
 * loads and reloads spilled pointers. Per 4 bytes of k: the filter word (LDR), its two halves
 * (SXTB16, SXTB16 ROR 8), each row's two halfword pairs (LDRD) into two SMLADs: 17
 * instructions for 16 multiply-accumulates. nq >= 1 words; the sums are added to. */
static inline void dot4(const uint32_t *x, const int8_t *w, int32_t nq, int32_t *s0, int32_t *s1,
                        int32_t *s2, int32_t *s3)
{
    const int8_t *const wend = w + 4 * nq;
    int32_t a0 = *s0, a1 = *s1, a2 = *s2, a3 = *s3;
    uint32_t t0, t1, t2, t3, t4;
    __asm__ volatile(
        "1:\n\t"
        "ldr    %[t0], [%[w]], #4\n\t"
        "ldrd   %[t3], %[t4], [%[x]], #8\n\t"
        "sxtb16 %[t1], %[t0]\n\t"
        "sxtb16 %[t2], %[t0], ror #8\n\t"
        "smlad  %[a0], %[t3], %[t1], %[a0]\n\t"
        "smlad  %[a0], %[t4], %[t2], %[a0]\n\t"
        "ldrd   %[t3], %[t4], [%[x]], #8\n\t"
        "smlad  %[a1], %[t3], %[t1], %[a1]\n\t"
        "smlad  %[a1], %[t4], %[t2], %[a1]\n\t"
        "ldrd   %[t3], %[t4], [%[x]], #8\n\t"
        "smlad  %[a2], %[t3], %[t1], %[a2]\n\t"
        "smlad  %[a2], %[t4], %[t2], %[a2]\n\t"
        "ldrd   %[t3], %[t4], [%[x]], #8\n\t"
        "smlad  %[a3], %[t3], %[t1], %[a3]\n\t"
        "smlad  %[a3], %[t4], %[t2], %[a3]\n\t"
        "cmp    %[w], %[wend]\n\t"
        "bne    1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w), [x] "+r"(x),
          [t0] "=&r"(t0), [t1] "=&r"(t1), [t2] "=&r"(t2), [t3] "=&r"(t3), [t4] "=&r"(t4)
        : [wend] "r"(wend)
        : "cc", "memory");
    *s0 = a0;
    *s1 = a1;
    *s2 = a2;
    *s3 = a3;
}

#define EL_SMLAD_W(S, X, WE, WO)                                                                   \
    S = __smlad((int16x2_t)(X)[1], WO, __smlad((int16x2_t)(X)[0], WE, S))

/* The whole column loop of a 4-row group, for right shifts (the usual case) and k a multiple of
 * 4, in one hand-scheduled block: GCC 12 keeps the column's constants on the stack and spends
 * more on them than on the arithmetic. Per column: the sums start at the bias, 17 instructions
 * per 16 MACs (dot4's loop), then 16 per output (rq_one's SMLAL form + offset + clamp). */
typedef struct {
    int32_t bias, mul, k_lo, k_hi, r1; /* 0..16: as col_rq, r1 >= 0 */
    int8_t *o;                         /* 20: the column's first output */
    int32_t part[4];                   /* 24: the 4 rows' sums between k segments */
} col4_const;

typedef struct {
    const uint32_t *x;     /* 0: the widened rows of this k segment */
    int32_t nq4;           /* 4: bytes of the segment (a multiple of 4, >= 4) */
    int32_t wstep;         /* 8: ldb - nq4: from a segment's end to the next filter row's */
    int32_t ldout;         /* 12 */
    int32_t off, lo, hi;   /* 16, 20, 24 */
    const col4_const *end; /* 28 */
    const int8_t *w;       /* 32: the filter row being read (kept here across the requant) */
} col4_call;

/* One output of the column: requant of sum S (bias included, S is clobbered), + offset,
 * clamp, store, next row. mul t3, r1 t4, off t1, o x, ldout wend; w and t0 are scratch. */
#define EL_COL4_OUT(S)                                                                             \
    "ldrd   %[w], %[t0], [%[cc], #8]\n\t" /* the 64-bit addend */                                  \
    "smlal  %[w], %[t0], %[" S "], %[t3]\n\t"                                                      \
    "and    %[" S "], %[" S "], #0x80000000\n\t"                                                   \
    "subs   %[w], %[w], %[" S "]\n\t" /* less 2^31 for a negative sum */                           \
    "sbc    %[t0], %[t0], #0\n\t"                                                                  \
    "asr    %[t0], %[t0], %[t4]\n\t"                                                               \
    "add    %[t0], %[t0], %[t1]\n\t"                                                               \
    "ldrd   %[w], %[" S "], [%[g], #20]\n\t" /* act_min, act_max */                                \
    "cmp    %[t0], %[w]\n\t"                                                                       \
    "it     lt\n\t"                                                                                \
    "movlt  %[t0], %[w]\n\t"                                                                       \
    "cmp    %[t0], %[" S "]\n\t"                                                                   \
    "it     gt\n\t"                                                                                \
    "movgt  %[t0], %[" S "]\n\t"                                                                   \
    "strb   %[t0], [%[x]]\n\t"                                                                     \
    "add    %[x], %[x], %[wend]\n\t"

static int right_shifts(const el_opt_rq *rq, int32_t n)
{
    int32_t j;
    for (j = 0; j < n; ++j) {
        if (rq->shift[j] >= 0) {
            return 0;
        }
    }
    return 1;
}

/* The column loop's pieces; a segmented k (longer than the stack buffer) starts later segments
 * from part and keeps the sums there until the last. */
#define EL_COL4_INIT_BIAS                                                                          \
    "ldr    %[s0], [%[cc], #0]\n\t"                                                                \
    "mov    %[s1], %[s0]\n\t"                                                                      \
    "mov    %[s2], %[s0]\n\t"                                                                      \
    "mov    %[s3], %[s0]\n\t"
#define EL_COL4_INIT_PART                                                                          \
    "ldrd   %[s0], %[s1], [%[cc], #24]\n\t"                                                        \
    "ldrd   %[s2], %[s3], [%[cc], #32]\n\t"
#define EL_COL4_K_LOOP                                                                             \
    "ldr    %[t0], [%[g], #4]\n\t"                                                                 \
    "ldr    %[x], [%[g], #0]\n\t"                                                                  \
    "add    %[wend], %[w], %[t0]\n\t"                                                              \
    "1:\n\t" /* one filter word against 4 rows */                                                  \
    "ldr    %[t0], [%[w]], #4\n\t"                                                                 \
    "ldrd   %[t3], %[t4], [%[x]], #8\n\t"                                                          \
    "sxtb16 %[t1], %[t0]\n\t"                                                                      \
    "sxtb16 %[t0], %[t0], ror #8\n\t"                                                              \
    "smlad  %[s0], %[t3], %[t1], %[s0]\n\t"                                                        \
    "smlad  %[s0], %[t4], %[t0], %[s0]\n\t"                                                        \
    "ldrd   %[t3], %[t4], [%[x]], #8\n\t"                                                          \
    "smlad  %[s1], %[t3], %[t1], %[s1]\n\t"                                                        \
    "smlad  %[s1], %[t4], %[t0], %[s1]\n\t"                                                        \
    "ldrd   %[t3], %[t4], [%[x]], #8\n\t"                                                          \
    "smlad  %[s2], %[t3], %[t1], %[s2]\n\t"                                                        \
    "smlad  %[s2], %[t4], %[t0], %[s2]\n\t"                                                        \
    "ldrd   %[t3], %[t4], [%[x]], #8\n\t"                                                          \
    "smlad  %[s3], %[t3], %[t1], %[s3]\n\t"                                                        \
    "smlad  %[s3], %[t4], %[t0], %[s3]\n\t"                                                        \
    "cmp    %[w], %[wend]\n\t"                                                                     \
    "bne    1b\n\t"
#define EL_COL4_REQUANT                                                                            \
    "str    %[w], [%[g], #32]\n\t"                                                                 \
    "ldr    %[x], [%[cc], #20]\n\t"                                                                \
    "ldr    %[wend], [%[g], #12]\n\t"                                                              \
    "ldr    %[t3], [%[cc], #4]\n\t"                                                                \
    "ldr    %[t4], [%[cc], #16]\n\t"                                                               \
    "ldr    %[t1], [%[g], #16]\n\t" EL_COL4_OUT("s0") EL_COL4_OUT("s1") EL_COL4_OUT("s2")          \
        EL_COL4_OUT("s3") "ldr    %[w], [%[g], #32]\n\t"
#define EL_COL4_KEEP                                                                               \
    "strd   %[s0], %[s1], [%[cc], #24]\n\t"                                                        \
    "strd   %[s2], %[s3], [%[cc], #32]\n\t"
#define EL_COL4_NEXT                                                                               \
    "ldr    %[t0], [%[g], #8]\n\t"                                                                 \
    "add    %[w], %[w], %[t0]\n\t"                                                                 \
    "add    %[cc], %[cc], #40\n\t"                                                                 \
    "ldr    %[t0], [%[g], #28]\n\t"                                                                \
    "cmp    %[cc], %[t0]\n\t"                                                                      \
    "bne    2b\n\t"
#define EL_COL4_ASM(BODY)                                                                          \
    int32_t s0, s1, s2, s3;                                                                        \
    uint32_t t0, t1, t3, t4, x, w, wend;                                                           \
    __asm__ volatile("ldr    %[w], [%[g], #32]\n\t"                                                \
                     "2:\n\t" BODY                                                                 \
                     : [s0] "=&r"(s0), [s1] "=&r"(s1), [s2] "=&r"(s2), [s3] "=&r"(s3),             \
                       [t0] "=&r"(t0), [t1] "=&r"(t1), [t3] "=&r"(t3), [t4] "=&r"(t4),             \
                       [x] "=&r"(x), [w] "=&r"(w), [wend] "=&r"(wend), [cc] "+r"(cc)               \
                     : [g] "r"(g)                                                                  \
                     : "cc", "memory")

/* k in one segment: sums from the bias, requantized */
static void cols4_rshift(col4_call *g, const col4_const *cc)
{
    EL_COL4_ASM(EL_COL4_INIT_BIAS EL_COL4_K_LOOP EL_COL4_REQUANT EL_COL4_NEXT);
}

/* a segment of a longer k: sums from part (the bias before the first), kept in part */
static void cols4_keep(col4_call *g, const col4_const *cc)
{
    EL_COL4_ASM(EL_COL4_INIT_PART EL_COL4_K_LOOP EL_COL4_KEEP EL_COL4_NEXT);
}

/* the last segment: sums from part, requantized */
static void cols4_finish(col4_call *g, const col4_const *cc)
{
    EL_COL4_ASM(EL_COL4_INIT_PART EL_COL4_K_LOOP EL_COL4_REQUANT EL_COL4_NEXT);
}
#undef EL_COL4_ASM
#undef EL_COL4_NEXT
#undef EL_COL4_KEEP
#undef EL_COL4_REQUANT
#undef EL_COL4_K_LOOP
#undef EL_COL4_INIT_PART
#undef EL_COL4_INIT_BIAS
#undef EL_COL4_OUT

int el_opt_gemm_rq_dsp(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                       int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout)
{
    uint32_t xw[EL_DSP_KW / 4 * 8 + 8];
    const int32_t k4 = k & ~3, nq = k4 / 4, tail = k - k4;
    const int32_t off = rq->out_offset, lo = rq->act_min, hi = rq->act_max;
    int32_t i0, j, q;
    col4_const cc[EL_OPT_NC];
    const int fast = tail == 0 && nq > 0 && n <= EL_OPT_NC && m >= 4 && right_shifts(rq, n);
    /* longer k only where every row group takes the segmented 4-row path */
    if (k > EL_DSP_KW && !(fast && m % 4 == 0)) {
        return 0;
    }
    if (fast) { /* the columns' constants, once for all row groups */
        for (j = 0; j < n; ++j) {
            const col_rq c = col_rq_of(rq, j);
            cc[j].bias = rq->bias[j];
            cc[j].mul = c.mul;
            cc[j].k_lo = c.k_lo;
            cc[j].k_hi = c.k_hi;
            cc[j].r1 = c.r1;
        }
    }
    for (i0 = 0; i0 < m;) {
        const int32_t rows = m - i0 >= 4 ? 4 : m - i0 >= 2 ? 2 : 1;
        if (rows == 4 && fast) {
            col4_call g;
            int32_t k0;
            for (j = 0; j < n; ++j) {
                cc[j].o = out + (size_t)i0 * ldout + j;
            }
            g.ldout = ldout;
            g.off = rq->out_offset;
            g.lo = rq->act_min;
            g.hi = rq->act_max;
            g.end = cc + n;
            g.x = xw;
            for (k0 = 0; k0 < k; k0 += EL_DSP_KW) { /* k in segments of the stack buffer */
                const int32_t ks = k - k0 < EL_DSP_KW ? k - k0 : EL_DSP_KW;
                const int8_t *seg[4];
                for (j = 0; j < 4; ++j) {
                    seg[j] = a[i0 + j] + k0;
                }
                widen_rows(seg, 4, ks, xw);
                g.nq4 = ks;
                g.wstep = ldb - ks;
                g.w = b + k0;
                if (ks == k) {
                    cols4_rshift(&g, cc);
                } else {
                    if (k0 == 0) {
                        for (j = 0; j < n; ++j) {
                            cc[j].part[0] = cc[j].part[1] = cc[j].part[2] = cc[j].part[3] =
                                cc[j].bias;
                        }
                    }
                    if (k0 + ks < k) {
                        cols4_keep(&g, cc);
                    } else {
                        cols4_finish(&g, cc);
                    }
                }
            }
            i0 += rows;
            continue;
        }
        widen_rows(a + i0, rows, k, xw);
        for (j = 0; j < n; ++j) {
            const int8_t *w = b + (size_t)j * ldb;
            const uint32_t *x = xw;
            const col_rq c = col_rq_of(rq, j);
            int8_t *o = out + (size_t)i0 * ldout + j;
            /* the sums start at the bias: sum + bias wraps like the reference's int32 adds */
            int32_t s0 = rq->bias[j], s1 = s0, s2 = s0, s3 = s0;
            if (rows == 4) {
                if (nq > 0) {
                    dot4(x, w, nq, &s0, &s1, &s2, &s3);
                    x += 8 * nq;
                }
                if (tail) {
                    const uint32_t ww = ld_tail(w + k4, tail);
                    const int16x2_t we = even16(ww), wo = odd16(ww);
                    EL_SMLAD_W(s0, x, we, wo);
                    EL_SMLAD_W(s1, x + 2, we, wo);
                    EL_SMLAD_W(s2, x + 4, we, wo);
                    EL_SMLAD_W(s3, x + 6, we, wo);
                }
                o[0] = clamp_out(rq_one(s0, &c) + off, lo, hi);
                o[ldout] = clamp_out(rq_one(s1, &c) + off, lo, hi);
                o[2 * ldout] = clamp_out(rq_one(s2, &c) + off, lo, hi);
                o[3 * ldout] = clamp_out(rq_one(s3, &c) + off, lo, hi);
            } else if (rows == 2) {
                for (q = 0; q < nq; ++q, x += 4) {
                    const uint32_t ww = ld32(w + 4 * q);
                    const int16x2_t we = even16(ww), wo = odd16(ww);
                    EL_SMLAD_W(s0, x, we, wo);
                    EL_SMLAD_W(s1, x + 2, we, wo);
                }
                if (tail) {
                    const uint32_t ww = ld_tail(w + k4, tail);
                    const int16x2_t we = even16(ww), wo = odd16(ww);
                    EL_SMLAD_W(s0, x, we, wo);
                    EL_SMLAD_W(s1, x + 2, we, wo);
                }
                o[0] = clamp_out(rq_one(s0, &c) + off, lo, hi);
                o[ldout] = clamp_out(rq_one(s1, &c) + off, lo, hi);
            } else {
                for (q = 0; q < nq; ++q, x += 2) {
                    const uint32_t ww = ld32(w + 4 * q);
                    EL_SMLAD_W(s0, x, even16(ww), odd16(ww));
                }
                if (tail) {
                    const uint32_t ww = ld_tail(w + k4, tail);
                    EL_SMLAD_W(s0, x, even16(ww), odd16(ww));
                }
                o[0] = clamp_out(rq_one(s0, &c) + off, lo, hi);
            }
        }
        i0 += rows;
    }
    return 1;
}
#undef EL_SMLAD_W

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
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    if (k <= 16) {
        /* k fits one vector (the 8- and 16-channel 1x1 convs of small networks): a row's
         * vector is loaded once and meets every column, one VMLADAV per output */
        const mve_pred16_t p = vctp8q((uint32_t)k);
        for (i = 0; i + 2 <= m; i += 2) {
            const int8x16_t x0 = vldrbq_z_s8(a[i], p), x1 = vldrbq_z_s8(a[i + 1], p);
            int32_t *c0 = c + (size_t)i * ldc, *c1 = c0 + ldc;
            for (j = 0; j < n; ++j) {
                const int8x16_t w = vldrbq_z_s8(b + (size_t)j * ldb, p);
                c0[j] = vmladavq_s8(x0, w);
                c1[j] = vmladavq_s8(x1, w);
            }
        }
        if (i < m) {
            const int8x16_t x0 = vldrbq_z_s8(a[i], p);
            int32_t *c0 = c + (size_t)i * ldc;
            for (j = 0; j < n; ++j) {
                c0[j] = vmladavq_s8(x0, vldrbq_z_s8(b + (size_t)j * ldb, p));
            }
        }
        return;
    }
#endif
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
