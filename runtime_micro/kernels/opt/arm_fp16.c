/* float32 CONV_2D / FULLY_CONNECTED with float16 weights in half-precision arithmetic
 * (el_config.allow_fp16, aarch64 CPUs with FEAT_FP16: HWCAP_FPHP + HWCAP_ASIMDHP). Only reached
 * for weights that a model stores as float16 behind a DEQUANTIZE (edgelite quantize --mode
 * float16), which the interpreter then skips (el_interp.c): the layer reads the float16 values.
 *
 * CONV_2D is a GEMM, C (pixels x out channels) = A (pixels x k) * W^T: W packed once at prepare
 * (el_opt_f16_pack) into panels of 16 output channels x k halves (zeros past the last
 * channel), A's rows (input pixels in place for an unpadded 1x1 conv, else im2col patches)
 * converted to float16 on their way to a stack buffer. The register tile is 8 rows x 16
 * channels (16 FMLA by element per k, 8 lanes each: twice float32's multiply-adds per
 * instruction). Sums run in float16 over k segments of H_KC; each segment's sum is converted to
 * float32 and added to the output's float32 partial, then the bias, then the clamp.
 * FULLY_CONNECTED: eight dot products at a time along k, the float16 weights read in place.
 *
 * Precision (what the opt-in buys and costs): every activation is rounded to float16 (11
 * significant bits: relative error 2^-11 = 4.9e-4, values below 6.1e-5 lose bits, below 6e-8
 * become 0), and every multiply-add rounds its running sum to float16, so an output's error is
 * bounded by 2^-11 * (sum of |x * w| + sum over k of the |partial sums|): about 1e-3 of the
 * output's scale for MobileNet-sized layers. Overflow is never silent: float16 overflow (a
 * value or a sum beyond 65504) leaves an infinity or NaN in that output's sum, and every output
 * not finite before the clamp (also those of inputs with infinities or NaNs) is computed again
 * in float32 from the same weights, in the reference's order. The results do not depend on
 * threads: each output's operations, recomputation included, are fixed by the layer and that
 * output alone, never by the tile, band or thread that computes it. */
#include <string.h>

#include "opt_internal.h"

#if EL_OPT_F16W
#include <arm_neon.h>

#if defined(__clang__)
#if !defined(__ARM_FEATURE_FP16_VECTOR_ARITHMETIC)
#error                                                                                             \
    "clang: compile arm_fp16.c with -march=armv8.2-a+fp16 (zig cc: -mcpu=generic+fullfp16), see EL_F16_FILE in el_opt.h"
#endif
#define EL_FP16 /* the whole file has the feature */
#else
#define EL_FP16 __attribute__((target("arch=armv8.2-a+fp16")))
#endif
#define H_MR 8             /* GEMM rows per tile */
#define H_NP 16            /* output channels per panel (two vectors of 8 halves) */
#define H_KC EL_OPT_F16_KC /* k per float16 sum (then float32): 8 x 512 halves = 8 KB of stack */
#define H_NB 32768         /* halves of panels per block of channels (64 KB), met by every A tile */

size_t el_opt_f16_packed_bytes(int32_t n, int32_t k)
{
    return (size_t)((n + H_NP - 1) / H_NP) * H_NP * (size_t)k * sizeof(uint16_t);
}

/* packed[(j / 16) * k * 16 + kk * 16 + j % 16] = w[j * k + kk] (OHWI rows of k), zeros past n. */
void el_opt_f16_pack(int32_t n, int32_t k, const uint16_t *w, uint16_t *packed)
{
    int32_t j0, j, kk;
    for (j0 = 0; j0 < n; j0 += H_NP) {
        uint16_t *panel = packed + (size_t)j0 * k;
        for (j = 0; j < H_NP; ++j) {
            const uint16_t *src = w + (size_t)(j0 + j) * k;
            for (kk = 0; kk < k; ++kk) {
                panel[(size_t)kk * H_NP + j] = j0 + j < n ? src[kk] : 0;
            }
        }
    }
}

/* ---- the float32 recomputation of an output whose float16 result is not finite (overflow
 * beyond 65504, or infinities / NaNs in the input): the same weights, float32 sums in the
 * reference's order (acc = 0; acc += x * w over the taps; + bias); the caller clamps. Decided
 * output by output from that output's own value, so any split into tiles, bands or threads
 * gives the same bytes. ---- */
static float clampf(const float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

/* Where a conv tile's rows come from, for the recomputation. */
typedef struct {
    const el_conv_params *p;
    const el_dims *in_dims, *f_dims;
    const float *img, *bias; /* the image of this batch */
    const uint16_t *packed;
    int32_t k, n0;        /* n0: the panel's first output channel */
    int32_t oy[8], ox[8]; /* each row's output pixel */
} hctx;

static float conv_one_f32(const hctx *hc, int32_t row, int32_t oc)
{
    const el_conv_params *p = hc->p;
    const el_dims *in_dims = hc->in_dims, *f_dims = hc->f_dims;
    const __fp16 *wc =
        (const __fp16 *)(const void *)hc->packed + (size_t)(oc / H_NP) * hc->k * H_NP + oc % H_NP;
    const int32_t oy = hc->oy[row], ox = hc->ox[row];
    float acc = 0.0f;
    int32_t ky, kx, ic;
    for (ky = 0; ky < f_dims->h; ++ky) {
        const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dilation_h;
        if (iy < 0 || iy >= in_dims->h) {
            continue;
        }
        for (kx = 0; kx < f_dims->w; ++kx) {
            const int32_t ix = ox * p->stride_w - p->pad_w + kx * p->dilation_w;
            const float *x;
            const __fp16 *wt;
            if (ix < 0 || ix >= in_dims->w) {
                continue;
            }
            x = hc->img + ((size_t)iy * in_dims->w + ix) * in_dims->c;
            wt = wc + ((size_t)(ky * f_dims->w + kx) * in_dims->c) * H_NP;
            for (ic = 0; ic < in_dims->c; ++ic) {
                acc += x[ic] * (float)wt[(size_t)ic * H_NP];
            }
        }
    }
    return hc->bias ? acc + hc->bias[oc] : acc;
}

static float fc_one_f32(int32_t depth, const float *x, const __fp16 *w, const float *bias)
{
    float acc = 0.0f;
    int32_t d;
    for (d = 0; d < depth; ++d) {
        acc += x[d] * (float)w[d];
    }
    return bias ? acc + *bias : acc;
}

/* A row of a tile with a non-finite value before the clamp: those outputs recomputed. */
static void hrow_fix(const hctx *hc, int32_t row, float *v, int32_t nr, float lo, float hi,
                     float *c)
{
    int32_t j;
    for (j = 0; j < nr; ++j) {
        const float x = v[j] - v[j] == 0.0f ? v[j] : conv_one_f32(hc, row, hc->n0 + j);
        c[j] = clampf(x, lo, hi);
    }
}

/* ---- half-precision kernels ---- */
EL_FP16 static inline void cvt_row(__fp16 *dst, const float *src, int32_t len)
{
    int32_t i = 0;
    for (; i + 8 <= len; i += 8) {
        const float16x4_t lo = vcvt_f16_f32(vld1q_f32(src + i));
        vst1q_f16(dst + i, vcvt_high_f16_f32(lo, vld1q_f32(src + i + 4)));
    }
    for (; i < len; ++i) {
        dst[i] = (__fp16)src[i];
    }
}

/* Patch elements [k0, k0 + ks) of output pixel (oy, ox), as float16, zeros for padded taps. */
EL_FP16 static void im2col_h(const el_conv_params *p, const el_dims *in_dims, const el_dims *f_dims,
                             const float *img, int32_t oy, int32_t ox, int32_t k0, int32_t ks,
                             __fp16 *row)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_w = f_dims->w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    int32_t t = k0;
    if (k0 == 0 && ks == f_dims->h * f_w * in_c && p->dilation_w == 1 && x0 >= 0 &&
        x0 + f_w <= in_w) { /* whole filter rows, each one run of f_w * in_c inputs */
        const int32_t run = f_w * in_c;
        int32_t ky;
        for (ky = 0; ky < f_dims->h; ++ky, row += run) {
            const int32_t iy = y0 + ky * p->dilation_h;
            if (iy < 0 || iy >= in_h) {
                memset(row, 0, (size_t)run * sizeof(__fp16));
            } else {
                cvt_row(row, img + ((size_t)iy * in_w + x0) * in_c, run);
            }
        }
        return;
    }
    while (t < k0 + ks) {
        const int32_t tap = t / in_c, ic = t % in_c;
        const int32_t iy = y0 + tap / f_w * p->dilation_h, ix = x0 + tap % f_w * p->dilation_w;
        const int32_t len = in_c - ic < k0 + ks - t ? in_c - ic : k0 + ks - t;
        __fp16 *dst = row + (t - k0);
        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
            memset(dst, 0, (size_t)len * sizeof(__fp16));
        } else {
            cvt_row(dst, img + ((size_t)iy * in_w + ix) * in_c + ic, len);
        }
        t += len;
    }
}

/* The tile's epilogue: bias (float32, zeros past nr) and clamp bounds, loaded once per tile. */
typedef struct {
    float32x4_t b[4], lo, hi;
} hepi;

/* Stores one row's 16 sums: float32, + the partial already in c (not first); at the last k
 * segment + bias, then (any value not finite: the recomputation) the clamp. nr columns (a
 * short row lane by lane, never past c[nr - 1]). */
EL_FP16 static inline __attribute__((always_inline)) void
htile_store(float16x8_t h0, float16x8_t h1, int32_t flags, const hepi *e, int32_t nr, float *c,
            const hctx *hc, int32_t row)
{
    float32x4_t v0 = vcvt_f32_f16(vget_low_f16(h0)), v1 = vcvt_high_f32_f16(h0);
    float32x4_t v2 = vcvt_f32_f16(vget_low_f16(h1)), v3 = vcvt_high_f32_f16(h1);
    float tmp[H_NP];
    int32_t q;
    if (!(flags & EL_F32_FIRST)) {
        for (q = 0; q < H_NP; ++q) {
            tmp[q] = q < nr ? c[q] : 0.0f;
        }
        v0 = vaddq_f32(vld1q_f32(tmp), v0);
        v1 = vaddq_f32(vld1q_f32(tmp + 4), v1);
        v2 = vaddq_f32(vld1q_f32(tmp + 8), v2);
        v3 = vaddq_f32(vld1q_f32(tmp + 12), v3);
    }
    if (flags & EL_F32_LAST) {
        float32x4_t t;
        v0 = vaddq_f32(v0, e->b[0]);
        v1 = vaddq_f32(v1, e->b[1]);
        v2 = vaddq_f32(v2, e->b[2]);
        v3 = vaddq_f32(v3, e->b[3]);
        /* x - x is 0 for finite x, NaN otherwise: one lane not finite makes the sum NaN */
        t = vaddq_f32(vaddq_f32(vsubq_f32(v0, v0), vsubq_f32(v1, v1)),
                      vaddq_f32(vsubq_f32(v2, v2), vsubq_f32(v3, v3)));
        if (!(vmaxvq_f32(t) == 0.0f)) {
            vst1q_f32(tmp, v0);
            vst1q_f32(tmp + 4, v1);
            vst1q_f32(tmp + 8, v2);
            vst1q_f32(tmp + 12, v3);
            hrow_fix(hc, row, tmp, nr, vgetq_lane_f32(e->lo, 0), vgetq_lane_f32(e->hi, 0), c);
            return;
        }
        v0 = vminq_f32(vmaxq_f32(v0, e->lo), e->hi);
        v1 = vminq_f32(vmaxq_f32(v1, e->lo), e->hi);
        v2 = vminq_f32(vmaxq_f32(v2, e->lo), e->hi);
        v3 = vminq_f32(vmaxq_f32(v3, e->lo), e->hi);
    }
    if (nr == H_NP) {
        vst1q_f32(c, v0);
        vst1q_f32(c + 4, v1);
        vst1q_f32(c + 8, v2);
        vst1q_f32(c + 12, v3);
        return;
    }
    vst1q_f32(tmp, v0);
    vst1q_f32(tmp + 4, v1);
    vst1q_f32(tmp + 8, v2);
    vst1q_f32(tmp + 12, v3);
    for (q = 0; q < nr; ++q) {
        c[q] = tmp[q];
    }
}

/* The 8 x 16 tile's multiply-adds in inline assembly: GCC 12 turns most FMLA-by-element of
 * halves into DUP + FMLA and spills (about 250 instructions per 1024 multiply-adds instead of
 * 146). x9-x16 walk the eight A rows, v0-v7 hold eight k of each (the by-element operand of a
 * half FMLA must be in v0-v15), v8/v9 a panel row, v16-v31 the accumulators (row i: v16 + 2i
 * for columns 0-7, v17 + 2i for 8-15), stored as halves to acc[8][16] at the end. k steps of 8,
 * then the last ks % 8 one by one: acc = fma(a[i][kk], b[kk][j], acc) for kk ascending, as
 * plain C would do it. n8 = ks / 8, t = ks % 8. */
/* clang-format off */
#define HT_FMLA2(l)                                                                                \
    "fmla v16.8h, v8.8h, v0.h[" #l "]\n"                                                           \
    "fmla v17.8h, v9.8h, v0.h[" #l "]\n"                                                           \
    "fmla v18.8h, v8.8h, v1.h[" #l "]\n"                                                           \
    "fmla v19.8h, v9.8h, v1.h[" #l "]\n"                                                           \
    "fmla v20.8h, v8.8h, v2.h[" #l "]\n"                                                           \
    "fmla v21.8h, v9.8h, v2.h[" #l "]\n"                                                           \
    "fmla v22.8h, v8.8h, v3.h[" #l "]\n"                                                           \
    "fmla v23.8h, v9.8h, v3.h[" #l "]\n"                                                           \
    "fmla v24.8h, v8.8h, v4.h[" #l "]\n"                                                           \
    "fmla v25.8h, v9.8h, v4.h[" #l "]\n"                                                           \
    "fmla v26.8h, v8.8h, v5.h[" #l "]\n"                                                           \
    "fmla v27.8h, v9.8h, v5.h[" #l "]\n"                                                           \
    "fmla v28.8h, v8.8h, v6.h[" #l "]\n"                                                           \
    "fmla v29.8h, v9.8h, v6.h[" #l "]\n"                                                           \
    "fmla v30.8h, v8.8h, v7.h[" #l "]\n"                                                           \
    "fmla v31.8h, v9.8h, v7.h[" #l "]\n"
#define HT_FMLA1(l)                                                                                \
    "fmla v16.8h, v8.8h, v0.h[" #l "]\n"                                                           \
    "fmla v18.8h, v8.8h, v1.h[" #l "]\n"                                                           \
    "fmla v20.8h, v8.8h, v2.h[" #l "]\n"                                                           \
    "fmla v22.8h, v8.8h, v3.h[" #l "]\n"                                                           \
    "fmla v24.8h, v8.8h, v4.h[" #l "]\n"                                                           \
    "fmla v26.8h, v8.8h, v5.h[" #l "]\n"                                                           \
    "fmla v28.8h, v8.8h, v6.h[" #l "]\n"                                                           \
    "fmla v30.8h, v8.8h, v7.h[" #l "]\n"
#define HT_W2 "ldp q8, q9, [%[b]], #32\n"
#define HT_W1 "ldr q8, [%[b]], #32\n"
#define HT_ASM(W, FMLA)                                                                            \
    __asm__ __volatile__(                                                                          \
        "ldp x9, x10, [%[ap]]\n"                                                                   \
        "ldp x11, x12, [%[ap], #16]\n"                                                             \
        "ldp x13, x14, [%[ap], #32]\n"                                                             \
        "ldp x15, x16, [%[ap], #48]\n"                                                             \
        "movi v16.16b, #0\n movi v17.16b, #0\n movi v18.16b, #0\n movi v19.16b, #0\n"              \
        "movi v20.16b, #0\n movi v21.16b, #0\n movi v22.16b, #0\n movi v23.16b, #0\n"              \
        "movi v24.16b, #0\n movi v25.16b, #0\n movi v26.16b, #0\n movi v27.16b, #0\n"              \
        "movi v28.16b, #0\n movi v29.16b, #0\n movi v30.16b, #0\n movi v31.16b, #0\n"              \
        "cbz %w[n], 2f\n"                                                                          \
        "1:\n"                                                                                     \
        "ldr q0, [x9], #16\n ldr q1, [x10], #16\n ldr q2, [x11], #16\n ldr q3, [x12], #16\n"       \
        "ldr q4, [x13], #16\n ldr q5, [x14], #16\n ldr q6, [x15], #16\n ldr q7, [x16], #16\n"      \
        W FMLA(0) W FMLA(1) W FMLA(2) W FMLA(3) W FMLA(4) W FMLA(5) W FMLA(6) W FMLA(7)            \
        "subs %w[n], %w[n], #1\n"                                                                  \
        "b.ne 1b\n"                                                                                \
        "2:\n"                                                                                     \
        "cbz %w[t], 4f\n"                                                                          \
        "3:\n"                                                                                     \
        "ldr h0, [x9], #2\n ldr h1, [x10], #2\n ldr h2, [x11], #2\n ldr h3, [x12], #2\n"           \
        "ldr h4, [x13], #2\n ldr h5, [x14], #2\n ldr h6, [x15], #2\n ldr h7, [x16], #2\n"          \
        W FMLA(0)                                                                                  \
        "subs %w[t], %w[t], #1\n"                                                                  \
        "b.ne 3b\n"                                                                                \
        "4:\n"                                                                                     \
        "stp q16, q17, [%[o]]\n stp q18, q19, [%[o], #32]\n"                                       \
        "stp q20, q21, [%[o], #64]\n stp q22, q23, [%[o], #96]\n"                                  \
        "stp q24, q25, [%[o], #128]\n stp q26, q27, [%[o], #160]\n"                                \
        "stp q28, q29, [%[o], #192]\n stp q30, q31, [%[o], #224]\n"                                \
        : [b] "+r"(b), [n] "+r"(n8), [t] "+r"(t)                                                   \
        : [ap] "r"(a), [o] "r"(acc)                                                                \
        : "x9", "x10", "x11", "x12", "x13", "x14", "x15", "x16", "v0", "v1", "v2", "v3", "v4",    \
          "v5", "v6", "v7", "v8", "v9", "v16", "v17", "v18", "v19", "v20", "v21", "v22", "v23",    \
          "v24", "v25", "v26", "v27", "v28", "v29", "v30", "v31", "cc", "memory")

/* The same for a tile of at most 4 rows (the last pixels of a layer): rows 0-3 only. */
#define HT_FMLA2_4(l)                                                                              \
    "fmla v16.8h, v8.8h, v0.h[" #l "]\n"                                                           \
    "fmla v17.8h, v9.8h, v0.h[" #l "]\n"                                                           \
    "fmla v18.8h, v8.8h, v1.h[" #l "]\n"                                                           \
    "fmla v19.8h, v9.8h, v1.h[" #l "]\n"                                                           \
    "fmla v20.8h, v8.8h, v2.h[" #l "]\n"                                                           \
    "fmla v21.8h, v9.8h, v2.h[" #l "]\n"                                                           \
    "fmla v22.8h, v8.8h, v3.h[" #l "]\n"                                                           \
    "fmla v23.8h, v9.8h, v3.h[" #l "]\n"
#define HT_FMLA1_4(l)                                                                              \
    "fmla v16.8h, v8.8h, v0.h[" #l "]\n"                                                           \
    "fmla v18.8h, v8.8h, v1.h[" #l "]\n"                                                           \
    "fmla v20.8h, v8.8h, v2.h[" #l "]\n"                                                           \
    "fmla v22.8h, v8.8h, v3.h[" #l "]\n"
#define HT_ASM4(W, FMLA)                                                                           \
    __asm__ __volatile__(                                                                          \
        "ldp x9, x10, [%[ap]]\n"                                                                   \
        "ldp x11, x12, [%[ap], #16]\n"                                                             \
        "movi v16.16b, #0\n movi v17.16b, #0\n movi v18.16b, #0\n movi v19.16b, #0\n"              \
        "movi v20.16b, #0\n movi v21.16b, #0\n movi v22.16b, #0\n movi v23.16b, #0\n"              \
        "cbz %w[n], 2f\n"                                                                          \
        "1:\n"                                                                                     \
        "ldr q0, [x9], #16\n ldr q1, [x10], #16\n ldr q2, [x11], #16\n ldr q3, [x12], #16\n"       \
        W FMLA(0) W FMLA(1) W FMLA(2) W FMLA(3) W FMLA(4) W FMLA(5) W FMLA(6) W FMLA(7)            \
        "subs %w[n], %w[n], #1\n"                                                                  \
        "b.ne 1b\n"                                                                                \
        "2:\n"                                                                                     \
        "cbz %w[t], 4f\n"                                                                          \
        "3:\n"                                                                                     \
        "ldr h0, [x9], #2\n ldr h1, [x10], #2\n ldr h2, [x11], #2\n ldr h3, [x12], #2\n"           \
        W FMLA(0)                                                                                  \
        "subs %w[t], %w[t], #1\n"                                                                  \
        "b.ne 3b\n"                                                                                \
        "4:\n"                                                                                     \
        "stp q16, q17, [%[o]]\n stp q18, q19, [%[o], #32]\n"                                       \
        "stp q20, q21, [%[o], #64]\n stp q22, q23, [%[o], #96]\n"                                  \
        : [b] "+r"(b), [n] "+r"(n8), [t] "+r"(t)                                                   \
        : [ap] "r"(a), [o] "r"(acc)                                                                \
        : "x9", "x10", "x11", "x12", "v0", "v1", "v2", "v3", "v8", "v9", "v16", "v17", "v18",      \
          "v19", "v20", "v21", "v22", "v23", "cc", "memory")
/* clang-format on */

/* 8 rows (a[i], float16, ks each; rows past mr repeat the last) x 16 channels of panel b
 * (ks x 16 halves): sum_kk a[i][kk] * b[kk][j] in kk order, one float16 FMA each; nr <= 8
 * skips the panel's second half, mr <= 4 the last four rows. */
EL_FP16 static void htile(int32_t ks, const __fp16 *const *a, const __fp16 *b, int32_t flags,
                          const hepi *e, float *c, int32_t ldc, int32_t mr, int32_t nr,
                          const hctx *hc)
{
    __fp16 acc[H_MR * H_NP];
    int32_t n8 = ks / 8, t = ks % 8, i;
    if (mr <= 4 && nr > 8) {
        HT_ASM4(HT_W2, HT_FMLA2_4);
    } else if (mr <= 4) {
        HT_ASM4(HT_W1, HT_FMLA1_4);
    } else if (nr > 8) {
        HT_ASM(HT_W2, HT_FMLA2);
    } else {
        HT_ASM(HT_W1, HT_FMLA1);
    }
    if ((flags & (EL_F32_FIRST | EL_F32_LAST)) == (EL_F32_FIRST | EL_F32_LAST) &&
        (nr == H_NP || nr == 8)) {
        /* one k segment (the common case): x - x is 0 for finite x, else NaN, so one NaN check
         * over the tile's accumulators tells whether any output needs the recomputation */
        float16x8_t nan = vdupq_n_f16(0);
        for (i = 0; i < mr; ++i) {
            const float16x8_t h0 = vld1q_f16(acc + i * H_NP), h1 = vld1q_f16(acc + i * H_NP + 8);
            nan = vaddq_f16(nan, vsubq_f16(h0, h0));
            if (nr == H_NP) {
                nan = vaddq_f16(nan, vsubq_f16(h1, h1));
            }
        }
        if (vmaxvq_f16(nan) == (__fp16)0.0f) {
            for (i = 0; i < mr; ++i) {
                const float16x8_t h0 = vld1q_f16(acc + i * H_NP);
                float *ci = c + (size_t)i * ldc;
                vst1q_f32(
                    ci,
                    vminq_f32(vmaxq_f32(vaddq_f32(vcvt_f32_f16(vget_low_f16(h0)), e->b[0]), e->lo),
                              e->hi));
                vst1q_f32(
                    ci + 4,
                    vminq_f32(vmaxq_f32(vaddq_f32(vcvt_high_f32_f16(h0), e->b[1]), e->lo), e->hi));
                if (nr == H_NP) {
                    const float16x8_t h1 = vld1q_f16(acc + i * H_NP + 8);
                    vst1q_f32(ci + 8, vminq_f32(vmaxq_f32(vaddq_f32(vcvt_f32_f16(vget_low_f16(h1)),
                                                                    e->b[2]),
                                                          e->lo),
                                                e->hi));
                    vst1q_f32(ci + 12,
                              vminq_f32(vmaxq_f32(vaddq_f32(vcvt_high_f32_f16(h1), e->b[3]), e->lo),
                                        e->hi));
                }
            }
            return;
        }
    }
    for (i = 0; i < mr; ++i) { /* short panels, k segments, outputs not finite */
        htile_store(vld1q_f16(acc + i * H_NP), vld1q_f16(acc + i * H_NP + 8), flags, e, nr,
                    c + (size_t)i * ldc, hc, i);
    }
}
#undef HT_FMLA2
#undef HT_FMLA1
#undef HT_W2
#undef HT_W1
#undef HT_ASM
#undef HT_FMLA2_4
#undef HT_FMLA1_4
#undef HT_ASM4

EL_FP16 static void conv_h(const el_conv_params *p, const el_dims *in_dims, const float *in,
                           const el_dims *f_dims, const uint16_t *packed, const float *bias,
                           const el_dims *out_dims, float *out)
{
    const int32_t k = f_dims->h * f_dims->w * in_dims->c;
    const int32_t m = out_dims->h * out_dims->w, n = out_dims->c, ow = out_dims->w;
    const int direct = f_dims->h == 1 && f_dims->w == 1 && p->pad_h == 0 && p->pad_w == 0;
    const __fp16 *w = (const __fp16 *)(const void *)packed;
    __fp16 rows[H_MR * H_KC];
    float binit[H_NP];
    int32_t b, m0, k0, nb0, n0, i;
    float32x4_t bt[4]; /* the bias of the last (short) panel, or zeros */
    hctx hc;
    hc.p = p;
    hc.in_dims = in_dims;
    hc.f_dims = f_dims;
    hc.bias = bias;
    hc.packed = packed;
    hc.k = k;
    for (i = 0; i < H_NP; ++i) { /* x + -0.0f is x, even for x = -0.0f */
        binit[i] = bias && n / H_NP * H_NP + i < n ? bias[n / H_NP * H_NP + i] : -0.0f;
    }
    for (i = 0; i < 4; ++i) {
        bt[i] = vld1q_f32(binit + 4 * i);
    }
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_dims->h * in_dims->w * in_dims->c;
        float *cb = out + (size_t)b * m * n;
        hc.img = img;
        for (k0 = 0; k0 < k; k0 += H_KC) {
            const int32_t ks = k - k0 < H_KC ? k - k0 : H_KC;
            const int32_t flags = (k0 == 0 ? EL_F32_FIRST : 0) | (k0 + ks >= k ? EL_F32_LAST : 0);
            /* channels whose panels (this k segment) fit H_NB halves, at least one panel */
            const int32_t block = H_NB / (ks * H_NP) > 0 ? H_NB / (ks * H_NP) * H_NP : H_NP;
            for (nb0 = 0; nb0 < n; nb0 += block) {
                const int32_t nb = n - nb0 < block ? n - nb0 : block;
                for (m0 = 0; m0 < m; m0 += H_MR) {
                    const int32_t mr = m - m0 < H_MR ? m - m0 : H_MR;
                    const __fp16 *a[H_MR];
                    int32_t oy = m0 / ow, ox = m0 % ow;
                    for (i = 0; i < mr; ++i) {
                        __fp16 *row = rows + (size_t)i * ks;
                        if (direct) {
                            cvt_row(row,
                                    img +
                                        ((size_t)oy * p->stride_h * in_dims->w +
                                         (size_t)ox * p->stride_w) *
                                            in_dims->c +
                                        k0,
                                    ks);
                        } else {
                            im2col_h(p, in_dims, f_dims, img, oy, ox, k0, ks, row);
                        }
                        a[i] = row;
                        hc.oy[i] = oy;
                        hc.ox[i] = ox;
                        if (++ox == ow) {
                            ox = 0;
                            ++oy;
                        }
                    }
                    for (; i < H_MR; ++i) {
                        a[i] = a[mr - 1];
                    }
                    for (n0 = nb0; n0 < nb0 + nb; n0 += H_NP) {
                        const int32_t nr = nb0 + nb - n0 < H_NP ? nb0 + nb - n0 : H_NP;
                        hepi e;
                        e.lo = vdupq_n_f32(p->act_min_f);
                        e.hi = vdupq_n_f32(p->act_max_f);
                        if (bias && nr == H_NP) {
                            e.b[0] = vld1q_f32(bias + n0);
                            e.b[1] = vld1q_f32(bias + n0 + 4);
                            e.b[2] = vld1q_f32(bias + n0 + 8);
                            e.b[3] = vld1q_f32(bias + n0 + 12);
                        } else {
                            e.b[0] = bt[0];
                            e.b[1] = bt[1];
                            e.b[2] = bt[2];
                            e.b[3] = bt[3];
                        }
                        hc.n0 = n0;
                        htile(ks, a, w + (size_t)n0 * k + (size_t)k0 * H_NP, flags, &e,
                              cb + (size_t)m0 * n + n0, n, mr, nr, &hc);
                    }
                }
            }
        }
    }
}

/* Eight dot products of xh (float16, ks) with rows w_j (float16, ldw apart) in 8 lanes each;
 * sums[j] += the lanes, converted to float32 and added in a fixed order. Units past nu repeat
 * the last. */
EL_FP16 static void hdot8(int32_t ks, const __fp16 *xh, const __fp16 *w, int32_t ldw, int32_t nu,
                          float *sums)
{
    const __fp16 *wp[8];
    float16x8_t s[8];
    int32_t kk, j;
    for (j = 0; j < 8; ++j) {
        wp[j] = w + (size_t)(j < nu ? j : nu - 1) * ldw;
        s[j] = vdupq_n_f16(0);
    }
    for (kk = 0; kk + 8 <= ks; kk += 8) {
        const float16x8_t xv = vld1q_f16(xh + kk);
        s[0] = vfmaq_f16(s[0], xv, vld1q_f16(wp[0] + kk));
        s[1] = vfmaq_f16(s[1], xv, vld1q_f16(wp[1] + kk));
        s[2] = vfmaq_f16(s[2], xv, vld1q_f16(wp[2] + kk));
        s[3] = vfmaq_f16(s[3], xv, vld1q_f16(wp[3] + kk));
        s[4] = vfmaq_f16(s[4], xv, vld1q_f16(wp[4] + kk));
        s[5] = vfmaq_f16(s[5], xv, vld1q_f16(wp[5] + kk));
        s[6] = vfmaq_f16(s[6], xv, vld1q_f16(wp[6] + kk));
        s[7] = vfmaq_f16(s[7], xv, vld1q_f16(wp[7] + kk));
    }
    if (kk < ks) {
        __fp16 xt[8], wt[8];
        float16x8_t xv;
        memset(xt, 0, sizeof xt);
        memcpy(xt, xh + kk, (size_t)(ks - kk) * sizeof(__fp16));
        xv = vld1q_f16(xt);
        for (j = 0; j < 8; ++j) {
            memset(wt, 0, sizeof wt);
            memcpy(wt, wp[j] + kk, (size_t)(ks - kk) * sizeof(__fp16));
            s[j] = vfmaq_f16(s[j], xv, vld1q_f16(wt));
        }
    }
    for (j = 0; j < nu; ++j) {
        const float32x4_t v = vaddq_f32(vcvt_f32_f16(vget_low_f16(s[j])), vcvt_high_f32_f16(s[j]));
        sums[j] += vaddvq_f32(v);
    }
}

EL_FP16 static void fc_h(const el_fc_params *p, int32_t batches, int32_t depth, const float *in,
                         int32_t units, const uint16_t *filter, const float *bias, float *out)
{
    const __fp16 *w = (const __fp16 *)(const void *)filter;
    __fp16 xh[H_KC];
    int32_t bt, u, k0;
    for (bt = 0; bt < batches; ++bt) {
        float *o = out + (size_t)bt * units;
        for (u = 0; u < units; ++u) {
            o[u] = 0.0f;
        }
        for (k0 = 0; k0 < depth; k0 += H_KC) {
            const int32_t ks = depth - k0 < H_KC ? depth - k0 : H_KC;
            cvt_row(xh, in + (size_t)bt * depth + k0, ks);
            for (u = 0; u < units; u += 8) {
                const int32_t nu = units - u < 8 ? units - u : 8;
                hdot8(ks, xh, w + (size_t)u * depth + k0, depth, nu, o + u);
            }
        }
        for (u = 0; u < units; ++u) {
            float v = bias ? o[u] + bias[u] : o[u];
            if (!(v - v == 0.0f)) { /* not finite: float32 (as the conv's hrow_fix) */
                v = fc_one_f32(depth, in + (size_t)bt * depth, w + (size_t)u * depth,
                               bias ? bias + u : NULL);
            }
            o[u] = clampf(v, p->act_min_f, p->act_max_f);
        }
    }
}

void el_opt_conv2d_f16w(const el_conv_params *p, const el_dims *in_dims, const float *in,
                        const el_dims *f_dims, const uint16_t *packed, const float *bias,
                        const el_dims *out_dims, float *out)
{
    conv_h(p, in_dims, in, f_dims, packed, bias, out_dims, out);
}

void el_opt_fully_connected_f16w(const el_fc_params *p, int32_t batches, int32_t depth,
                                 const float *in, int32_t units, const uint16_t *filter,
                                 const float *bias, float *out)
{
    fc_h(p, batches, depth, in, units, filter, bias, out);
}

#else
typedef int el_opt_arm_fp16_unused;
#endif
