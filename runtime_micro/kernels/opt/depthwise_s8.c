/* Depthwise taps (acc[c] = sum_t x[t][c] * f[t][c]) when no run-time SIMD path applies, in the
 * CMSIS-NN shape: Cortex-M55 MVE, else Cortex-M4/M7 DSP, else plain C. Channels are
 * contiguous in both the input pixels and the filter taps, so each vector holds channels. */
#include <string.h>

#include "opt_internal.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
#include <arm_mve.h>
#elif defined(__ARM_FEATURE_DSP)
#include <arm_acle.h>

static inline uint32_t ld32(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline int16x2_t odd16(uint32_t v)
{
    int16x2_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}
#endif

__attribute__((always_inline)) static inline void dw_px(int32_t taps, const int8_t *const *x,
                                                        const int8_t *f, int32_t fstride, int32_t n,
                                                        int32_t *acc)
{
    int32_t t, c = 0;
#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1)
    /* 16 channels: four int32x4 accumulators fed by widening byte loads (no vector-by-vector
     * multiply-accumulate in MVE integer: VMUL + VADD); tails of 4 with a predicate */
    for (; c + 16 <= n; c += 16) {
        int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
        for (t = 0; t < taps; ++t) {
            const int8_t *xt = x[t] + c, *ft = f + (size_t)t * fstride + c;
            s0 = vaddq_s32(s0, vmulq_s32(vldrbq_s32(xt), vldrbq_s32(ft)));
            s1 = vaddq_s32(s1, vmulq_s32(vldrbq_s32(xt + 4), vldrbq_s32(ft + 4)));
            s2 = vaddq_s32(s2, vmulq_s32(vldrbq_s32(xt + 8), vldrbq_s32(ft + 8)));
            s3 = vaddq_s32(s3, vmulq_s32(vldrbq_s32(xt + 12), vldrbq_s32(ft + 12)));
        }
        vst1q_s32(acc + c, s0);
        vst1q_s32(acc + c + 4, s1);
        vst1q_s32(acc + c + 8, s2);
        vst1q_s32(acc + c + 12, s3);
    }
    for (; c < n; c += 4) {
        const mve_pred16_t p = vctp32q((uint32_t)(n - c));
        int32x4_t s0 = vdupq_n_s32(0);
        for (t = 0; t < taps; ++t) {
            s0 = vaddq_s32(s0, vmulq_s32(vldrbq_z_s32(x[t] + c, p),
                                         vldrbq_z_s32(f + (size_t)t * fstride + c, p)));
        }
        vstrwq_p_s32(acc + c, s0, p);
    }
#elif defined(__ARM_FEATURE_DSP)
    /* 4 channels per word: SXTB16 splits channels (0, 2) and (1, 3) into halfword lanes,
     * SMLABB / SMLATT multiply-accumulate one lane each into its own channel sum. */
    for (; c + 4 <= n; c += 4) {
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (t = 0; t < taps; ++t) {
            const uint32_t xv = ld32(x[t] + c), fv = ld32(f + (size_t)t * fstride + c);
            const int16x2_t xe = __sxtb16((int8x4_t)xv), fe = __sxtb16((int8x4_t)fv);
            const int16x2_t xo = odd16(xv), fo = odd16(fv);
            s0 = __smlabb(xe, fe, s0);
            s2 = __smlatt(xe, fe, s2);
            s1 = __smlabb(xo, fo, s1);
            s3 = __smlatt(xo, fo, s3);
        }
        acc[c] = s0;
        acc[c + 1] = s1;
        acc[c + 2] = s2;
        acc[c + 3] = s3;
    }
#endif
    for (; c < n; ++c) {
        int32_t s = 0;
        for (t = 0; t < taps; ++t) {
            s += (int32_t)x[t][c] * f[(size_t)t * fstride + c];
        }
        acc[c] = s;
    }
}

void el_opt_dw_c(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride, int32_t n,
                 int32_t *acc)
{
    dw_px(taps, x, f, fstride, n, acc);
}

/* A run of interior pixels (el_opt_kernels.dw_run): the tap pointers of each pixel are the
 * previous pixel's plus xstep, so the driver's per-pixel padding logic and call go away. */
void el_opt_dw_run_c(int32_t taps, const int8_t *x0, const int32_t *toff, int32_t xstep,
                     int32_t npix, const int8_t *f, int32_t fstride, int32_t n, int32_t *acc)
{
    const int8_t *x[EL_OPT_DW_TAPS];
    int32_t p, t;
    for (t = 0; t < taps; ++t) {
        x[t] = x0 + toff[t];
    }
    for (p = 0; p < npix; ++p, acc += n) {
        dw_px(taps, x, f, fstride, n, acc);
        for (t = 0; t < taps; ++t) {
            x[t] += xstep;
        }
    }
}
