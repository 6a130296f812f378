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
 * output's scale for MobileNet-sized layers. Overflow is never silent: a call whose float16
 * arithmetic overflows (a value or a sum beyond 65504) or meets an invalid operation is computed
 * again in float32 from the same weights (the cumulative FPSR flags tell), as are layers fed
 * infinities. The results do not depend on threads (each output's operations are fixed by the
 * layer, as the float32 kernels). */
#include <string.h>

#include "opt_internal.h"

#if EL_OPT_F16W
#include <arm_neon.h>

#define EL_FP16 __attribute__((target("arch=armv8.2-a+fp16")))
#define H_MR 8     /* GEMM rows per tile */
#define H_NP 16    /* output channels per panel (two vectors of 8 halves) */
#define H_KC EL_OPT_F16_KC /* k per float16 sum (then float32): 8 x 512 halves = 8 KB of stack */
#define H_NB 32768 /* halves of panels per block of channels (64 KB), met by every A tile */

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

/* ---- the float32 recomputation (overflow, infinities): same weights, float32 sums in the
 * reference's order (acc = 0; acc += x * w over the taps; + bias; clamp) ---- */
static float clampf(const float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

static void conv_f32_from_f16(const el_conv_params *p, const el_dims *in_dims, const float *in,
                              const el_dims *f_dims, const uint16_t *packed, const float *bias,
                              const el_dims *out_dims, float *out)
{
    const __fp16 *w = (const __fp16 *)(const void *)packed;
    const int32_t k = f_dims->h * f_dims->w * in_dims->c;
    int32_t b, oy, ox, oc, ky, kx, ic;
    for (b = 0; b < out_dims->n; ++b) {
        for (oy = 0; oy < out_dims->h; ++oy) {
            for (ox = 0; ox < out_dims->w; ++ox) {
                float *o = out + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * out_dims->c;
                for (oc = 0; oc < out_dims->c; ++oc) {
                    const __fp16 *wc = w + (size_t)(oc / H_NP) * k * H_NP + oc % H_NP;
                    float acc = 0.0f;
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
                            x = in + (((size_t)b * in_dims->h + iy) * in_dims->w + ix) * in_dims->c;
                            wt = wc + ((size_t)(ky * f_dims->w + kx) * in_dims->c) * H_NP;
                            for (ic = 0; ic < in_dims->c; ++ic) {
                                acc += x[ic] * (float)wt[(size_t)ic * H_NP];
                            }
                        }
                    }
                    if (bias) {
                        acc += bias[oc];
                    }
                    o[oc] = clampf(acc, p->act_min_f, p->act_max_f);
                }
            }
        }
    }
}

static void fc_f32_from_f16(const el_fc_params *p, int32_t batches, int32_t depth, const float *in,
                            int32_t units, const uint16_t *filter, const float *bias, float *out)
{
    const __fp16 *w = (const __fp16 *)(const void *)filter;
    int32_t bt, u, d;
    for (bt = 0; bt < batches; ++bt) {
        for (u = 0; u < units; ++u) {
            float acc = 0.0f;
            for (d = 0; d < depth; ++d) {
                acc += in[(size_t)bt * depth + d] * (float)w[(size_t)u * depth + d];
            }
            if (bias) {
                acc += bias[u];
            }
            out[(size_t)bt * units + u] = clampf(acc, p->act_min_f, p->act_max_f);
        }
    }
}

/* ---- FPSR: cumulative IOC (bit 0) and OFC (bit 2) of the half-precision arithmetic ---- */
static inline uint64_t fpsr_read(void)
{
    uint64_t v;
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(v)::"memory");
    return v;
}
static inline void fpsr_write(uint64_t v)
{
    __asm__ __volatile__("msr fpsr, %0" ::"r"(v) : "memory");
}
#define FPSR_IOC 1u
#define FPSR_OFC 4u

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
EL_FP16 static void im2col_h(const el_conv_params *p, const el_dims *in_dims,
                             const el_dims *f_dims, const float *img, int32_t oy, int32_t ox,
                             int32_t k0, int32_t ks, __fp16 *row)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_w = f_dims->w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    int32_t t = k0;
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

/* Stores one row's 16 sums: float32, + the partial already in c (not first), + bias and clamp
 * (last); nr columns. */
EL_FP16 static inline void htile_store(float16x8_t h0, float16x8_t h1, int32_t flags,
                                       const float *bias, float lo, float hi, int32_t nr, float *c)
{
    float32x4_t v[4];
    float tmp[H_NP];
    int32_t q;
    v[0] = vcvt_f32_f16(vget_low_f16(h0));
    v[1] = vcvt_high_f32_f16(h0);
    v[2] = vcvt_f32_f16(vget_low_f16(h1));
    v[3] = vcvt_high_f32_f16(h1);
    if (!(flags & EL_F32_FIRST)) {
        if (nr == H_NP) {
            for (q = 0; q < 4; ++q) {
                v[q] = vaddq_f32(vld1q_f32(c + 4 * q), v[q]);
            }
        } else {
            memset(tmp, 0, sizeof tmp);
            memcpy(tmp, c, (size_t)nr * sizeof(float));
            for (q = 0; q < 4; ++q) {
                v[q] = vaddq_f32(vld1q_f32(tmp + 4 * q), v[q]);
            }
        }
    }
    if (flags & EL_F32_LAST) {
        const float32x4_t vlo = vdupq_n_f32(lo), vhi = vdupq_n_f32(hi);
        for (q = 0; q < 4; ++q) {
            if (bias) {
                v[q] = vaddq_f32(v[q], vld1q_f32(bias + 4 * q));
            }
            v[q] = vminq_f32(vmaxq_f32(v[q], vlo), vhi);
        }
    }
    if (nr == H_NP) {
        for (q = 0; q < 4; ++q) {
            vst1q_f32(c + 4 * q, v[q]);
        }
        return;
    }
    for (q = 0; q < 4; ++q) {
        vst1q_f32(tmp + 4 * q, v[q]);
    }
    memcpy(c, tmp, (size_t)nr * sizeof(float));
}

#define HT_LANE(i, av, l)                                                                          \
    c##i##0 = vfmaq_laneq_f16(c##i##0, w0, av, l);                                                 \
    c##i##1 = vfmaq_laneq_f16(c##i##1, w1, av, l)

/* 8 rows (a[i], float16, ks each; rows past mr repeat the last) x 16 channels of panel b
 * (ks x 16 halves): sum_kk a[i][kk] * b[kk][j] in kk order, one float16 FMA each. */
EL_FP16 static void htile(int32_t ks, const __fp16 *const *a, const __fp16 *b, int32_t flags,
                          const float *bias, float lo, float hi, float *c, int32_t ldc, int32_t mr,
                          int32_t nr)
{
    const __fp16 *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
    const __fp16 *a4 = a[4], *a5 = a[5], *a6 = a[6], *a7 = a[7];
    const float16x8_t z = vdupq_n_f16(0);
    float16x8_t c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
    float16x8_t c40 = z, c41 = z, c50 = z, c51 = z, c60 = z, c61 = z, c70 = z, c71 = z;
    int32_t kk = 0;
    for (; kk + 8 <= ks; kk += 8) {
        const float16x8_t x0 = vld1q_f16(a0 + kk), x1 = vld1q_f16(a1 + kk);
        const float16x8_t x2 = vld1q_f16(a2 + kk), x3 = vld1q_f16(a3 + kk);
        const float16x8_t x4 = vld1q_f16(a4 + kk), x5 = vld1q_f16(a5 + kk);
        const float16x8_t x6 = vld1q_f16(a6 + kk), x7 = vld1q_f16(a7 + kk);
#define HT_STEP(l)                                                                                 \
    do {                                                                                           \
        const float16x8_t w0 = vld1q_f16(b), w1 = vld1q_f16(b + 8);                                \
        HT_LANE(0, x0, l);                                                                         \
        HT_LANE(1, x1, l);                                                                         \
        HT_LANE(2, x2, l);                                                                         \
        HT_LANE(3, x3, l);                                                                         \
        HT_LANE(4, x4, l);                                                                         \
        HT_LANE(5, x5, l);                                                                         \
        HT_LANE(6, x6, l);                                                                         \
        HT_LANE(7, x7, l);                                                                         \
        b += H_NP;                                                                                 \
    } while (0)
        HT_STEP(0);
        HT_STEP(1);
        HT_STEP(2);
        HT_STEP(3);
        HT_STEP(4);
        HT_STEP(5);
        HT_STEP(6);
        HT_STEP(7);
#undef HT_STEP
    }
    for (; kk < ks; ++kk, b += H_NP) {
        const float16x8_t w0 = vld1q_f16(b), w1 = vld1q_f16(b + 8);
        c00 = vfmaq_n_f16(c00, w0, a0[kk]);
        c01 = vfmaq_n_f16(c01, w1, a0[kk]);
        c10 = vfmaq_n_f16(c10, w0, a1[kk]);
        c11 = vfmaq_n_f16(c11, w1, a1[kk]);
        c20 = vfmaq_n_f16(c20, w0, a2[kk]);
        c21 = vfmaq_n_f16(c21, w1, a2[kk]);
        c30 = vfmaq_n_f16(c30, w0, a3[kk]);
        c31 = vfmaq_n_f16(c31, w1, a3[kk]);
        c40 = vfmaq_n_f16(c40, w0, a4[kk]);
        c41 = vfmaq_n_f16(c41, w1, a4[kk]);
        c50 = vfmaq_n_f16(c50, w0, a5[kk]);
        c51 = vfmaq_n_f16(c51, w1, a5[kk]);
        c60 = vfmaq_n_f16(c60, w0, a6[kk]);
        c61 = vfmaq_n_f16(c61, w1, a6[kk]);
        c70 = vfmaq_n_f16(c70, w0, a7[kk]);
        c71 = vfmaq_n_f16(c71, w1, a7[kk]);
    }
    htile_store(c00, c01, flags, bias, lo, hi, nr, c);
    if (mr > 1) {
        htile_store(c10, c11, flags, bias, lo, hi, nr, c + (size_t)ldc);
    }
    if (mr > 2) {
        htile_store(c20, c21, flags, bias, lo, hi, nr, c + 2 * (size_t)ldc);
    }
    if (mr > 3) {
        htile_store(c30, c31, flags, bias, lo, hi, nr, c + 3 * (size_t)ldc);
    }
    if (mr > 4) {
        htile_store(c40, c41, flags, bias, lo, hi, nr, c + 4 * (size_t)ldc);
    }
    if (mr > 5) {
        htile_store(c50, c51, flags, bias, lo, hi, nr, c + 5 * (size_t)ldc);
    }
    if (mr > 6) {
        htile_store(c60, c61, flags, bias, lo, hi, nr, c + 6 * (size_t)ldc);
    }
    if (mr > 7) {
        htile_store(c70, c71, flags, bias, lo, hi, nr, c + 7 * (size_t)ldc);
    }
}
#undef HT_LANE

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
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_dims->h * in_dims->w * in_dims->c;
        float *cb = out + (size_t)b * m * n;
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
                        const float *bb = NULL;
                        if (bias && (flags & EL_F32_LAST)) {
                            bb = bias + n0;
                            if (nr < H_NP) {
                                memset(binit, 0, sizeof binit);
                                memcpy(binit, bb, (size_t)nr * sizeof(float));
                                bb = binit;
                            }
                        }
                        htile(ks, a, w + (size_t)n0 * k + (size_t)k0 * H_NP, flags, bb,
                              p->act_min_f, p->act_max_f, cb + (size_t)m0 * n + n0, n, mr, nr);
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
        const float32x4_t v =
            vaddq_f32(vcvt_f32_f16(vget_low_f16(s[j])), vcvt_high_f32_f16(s[j]));
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
            const float v = o[u] + (bias ? bias[u] : 0.0f);
            o[u] = clampf(v, p->act_min_f, p->act_max_f);
        }
    }
}

void el_opt_conv2d_f16w(const el_conv_params *p, const el_dims *in_dims, const float *in,
                        const el_dims *f_dims, const uint16_t *packed, const float *bias,
                        const el_dims *out_dims, float *out)
{
    const uint64_t saved = fpsr_read();
    uint64_t flags;
    fpsr_write(saved & ~(uint64_t)(FPSR_IOC | FPSR_OFC));
    conv_h(p, in_dims, in, f_dims, packed, bias, out_dims, out);
    flags = fpsr_read();
    fpsr_write(saved); /* the caller's flags, then whatever the float32 arithmetic raises */
    if (flags & (FPSR_IOC | FPSR_OFC)) {
        conv_f32_from_f16(p, in_dims, in, f_dims, packed, bias, out_dims, out);
    }
}

void el_opt_fully_connected_f16w(const el_fc_params *p, int32_t batches, int32_t depth,
                                 const float *in, int32_t units, const uint16_t *filter,
                                 const float *bias, float *out)
{
    const uint64_t saved = fpsr_read();
    uint64_t flags;
    fpsr_write(saved & ~(uint64_t)(FPSR_IOC | FPSR_OFC));
    fc_h(p, batches, depth, in, units, filter, bias, out);
    flags = fpsr_read();
    fpsr_write(saved); /* the caller's flags, then whatever the float32 arithmetic raises */
    if (flags & (FPSR_IOC | FPSR_OFC)) {
        fc_f32_from_f16(p, batches, depth, in, units, filter, bias, out);
    }
}

#else
typedef int el_opt_arm_fp16_unused;
#endif
