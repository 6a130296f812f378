/* Requantization of accumulator rows when no run-time SIMD path applies: Cortex-M55 MVE
 * (VQRDMULH is SaturatingRoundingDoublingHighMul), else scalar (every other CPU). */
#include "opt_internal.h"
#include "../el_quant.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>

/* RoundingDivideByPOT as in arm_neon.c: VRSHL rounds half up, so negative values move down by
 * one first (saturating; only INT32_MIN is affected and its low bits are zero). */
void el_opt_requant_c(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc, int32_t ldacc,
                      int8_t *out, int32_t ldout)
{
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t off = vdupq_n_s32(rq->out_offset);
    const int32x4_t lo = vdupq_n_s32(rq->act_min), hi = vdupq_n_s32(rq->act_max);
    int32_t i, c;
    for (c = 0; c < n; c += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(n - c));
        const int32x4_t bias = vldrwq_z_s32(rq->bias + c, p);
        const int32x4_t mult = vldrwq_z_s32(rq->mult + c, p);
        const int32x4_t shift = vldrwq_z_s32(rq->shift + c, p);
        const int32x4_t left = vmaxq_s32(shift, zero);
        const int32x4_t neg_right = vminq_s32(shift, zero);
        for (i = 0; i < m; ++i) {
            const int32x4_t v = vaddq_s32(vldrwq_z_s32(acc + (size_t)i * ldacc + c, p), bias);
            const int32x4_t h = vqrdmulhq_s32(vshlq_s32(v, left), mult);
            const int32x4_t fix = vshrq_n_s32(vandq_s32(h, neg_right), 31);
            int32x4_t r = vrshlq_s32(vqaddq_s32(h, fix), neg_right);
            r = vminq_s32(vmaxq_s32(vaddq_s32(r, off), lo), hi);
            vstrbq_p_s32(out + (size_t)i * ldout + c, r, p);
        }
    }
}

#else

/* Channel by channel, rows inside: a channel's constants are derived once for all m rows and
 * kept in locals (the int8 stores may alias anything, so values behind pointers would be
 * reloaded after every store).
 *
 * With a right shift r >= 1 both roundings fold into one 64-bit multiply-accumulate (SMLAL on
 * Cortex-M, then the high word shifted): for multipliers m >= 0,
 *   RoundingDivideByPOT(SRDHM(v, m), r) = (v*m + 2^30 + 2^(30+r) - (v < 0) * 2^31) >> (31 + r)
 * (floor), because floor((floor(a / 2^31) + c) / 2^r) = floor((a + c * 2^31) / 2^(31 + r)) and
 * RoundingDivideByPOT adds 2^(r-1), less one for negative values; SRDHM(v, m) is negative
 * exactly when v is, except for v = -1 with m = 2^30, where both choices give 0. Checked
 * against el_requant on ties, extremes and every shift by tests/opt/test_opt_requant.c. */
static inline int8_t clamp_s8(int32_t r, int32_t lo, int32_t hi)
{
    r = r < lo ? lo : r;
    return (int8_t)(r > hi ? hi : r);
}

void el_opt_requant_c(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc, int32_t ldacc,
                      int8_t *out, int32_t ldout)
{
    const int32_t *const bias = rq->bias, *const mult = rq->mult, *const shift = rq->shift;
    const int32_t off = rq->out_offset, lo = rq->act_min, hi = rq->act_max;
    int32_t i, c;
    for (c = 0; c < n; ++c) {
        const uint32_t b = (uint32_t)bias[c];
        const int32_t mul = mult[c], sh = shift[c];
        const int32_t *a = acc + c;
        int8_t *o = out + c;
        if (sh >= 0) { /* left shift (or none): SRDHM's rounding only */
            for (i = 0; i < m; ++i, a += ldacc, o += ldout) {
                const int32_t v = (int32_t)(((uint32_t)*a + b) << sh);
                const int32_t h = (int32_t)(((int64_t)v * mul + ((int64_t)1 << 30)) >> 31);
                *o = clamp_s8(h + off, lo, hi);
            }
        } else {
            const int32_t r1 = -sh - 1;
            const int64_t k = ((int64_t)1 << 30) + ((int64_t)1 << (30 - sh));
#if defined(__ARM_FEATURE_DSP)
            if (m > 0) {
                /* the rows of one channel in one hand-scheduled loop (GCC 12 keeps half of
                 * these values on the stack): 21 instructions per output */
                const int32_t kc[4] = {(int32_t)(uint32_t)(uint64_t)k, (int32_t)(k >> 32), lo, hi};
                const int32_t *ap = a;
                int8_t *op = o;
                int32_t cnt = m, sv, w, t0;
                __asm__ volatile("1:\n\t"
                                 "ldr    %[s], [%[a]]\n\t"
                                 "add    %[a], %[a], %[lda]\n\t"
                                 "add    %[s], %[s], %[b]\n\t"
                                 "ldrd   %[w], %[t0], [%[kc]]\n\t"
                                 "smlal  %[w], %[t0], %[s], %[mul]\n\t"
                                 "and    %[s], %[s], #0x80000000\n\t"
                                 "subs   %[w], %[w], %[s]\n\t"
                                 "sbc    %[t0], %[t0], #0\n\t"
                                 "asr    %[t0], %[t0], %[r1]\n\t"
                                 "add    %[t0], %[t0], %[off]\n\t"
                                 "ldrd   %[w], %[s], [%[kc], #8]\n\t"
                                 "cmp    %[t0], %[w]\n\t"
                                 "it     lt\n\t"
                                 "movlt  %[t0], %[w]\n\t"
                                 "cmp    %[t0], %[s]\n\t"
                                 "it     gt\n\t"
                                 "movgt  %[t0], %[s]\n\t"
                                 "strb   %[t0], [%[o]]\n\t"
                                 "add    %[o], %[o], %[ldo]\n\t"
                                 "subs   %[n], %[n], #1\n\t"
                                 "bne    1b\n\t"
                                 : [a] "+r"(ap), [o] "+r"(op), [n] "+r"(cnt), [s] "=&r"(sv),
                                   [w] "=&r"(w), [t0] "=&r"(t0)
                                 : [lda] "r"(ldacc * 4), [ldo] "r"(ldout), [b] "r"(b),
                                   [mul] "r"(mul), [r1] "r"(r1), [off] "r"(off), [kc] "r"(kc)
                                 : "cc", "memory");
            }
            continue;
#endif
            for (i = 0; i < m; ++i, a += ldacc, o += ldout) {
                const int32_t v = (int32_t)((uint32_t)*a + b);
                const int64_t t = k + (int64_t)v * mul - ((int64_t)((uint32_t)v >> 31) << 31);
                *o = clamp_s8(((int32_t)(t >> 32) >> r1) + off, lo, hi);
            }
        }
    }
}

#endif

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
/* el_requant of 4 lanes by one multiplier (>= 0) and shift in [-31, 31]. */
static inline int32x4_t rq4_n(int32x4_t v, int32_t mult, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    const int32x4_t h = vqrdmulhq_n_s32(vshlq_r_s32(v, left), mult);
    const int32x4_t thr = vsubq_s32(vdupq_n_s32(mask >> 1), vshrq_n_s32(h, 31));
    const mve_pred16_t up = vcmpgtq_s32(vandq_s32(h, vdupq_n_s32(mask)), thr);
    const int32x4_t r = vshlq_r_s32(h, -right);
    return vaddq_m_n_s32(r, r, 1, up);
}
#endif

void el_opt_add_c(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a, const int8_t *b,
                  int8_t *out)
{
    int32_t i = 0;
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    for (; i < n; i += 4) {
        const mve_pred16_t pr = vctp32q((uint32_t)(n - i));
        const int32x4_t x1 = vaddq_n_s32(vldrbq_z_s32(a + i, pr), p->input1_offset);
        const int32x4_t x2 = vaddq_n_s32(vldrbq_z_s32(b + i, pr), p->input2_offset);
        const int32x4_t r1 =
            rq4_n(vshlq_r_s32(x1, p->left_shift), p->input1_multiplier, p->input1_shift);
        const int32x4_t r2 =
            rq4_n(vshlq_r_s32(x2, p->left_shift), p->input2_multiplier, p->input2_shift);
        int32x4_t r = rq4_n(is_sub ? vsubq_s32(r1, r2) : vaddq_s32(r1, r2), p->output_multiplier,
                            p->output_shift);
        r = vaddq_n_s32(r, p->output_offset);
        r = vminq_s32(vmaxq_s32(r, vdupq_n_s32(p->act_min)), vdupq_n_s32(p->act_max));
        vstrbq_p_s32(out + i, r, pr);
    }
#endif
    for (; i < n; ++i) {
        out[i] = el_opt_add1(p, is_sub, a[i], b[i]);
    }
}
