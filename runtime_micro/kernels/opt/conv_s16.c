/* Optimized int16x8 CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV (int16 activations, int8
 * filter, int64 or int32 bias) on hosted CPUs.
 *
 * The reference (reference/conv.c) walks every tap of every output with bounds checks and
 * sums each tap's channels in a call: fine for deep layers, but the stems and small-k 1x1
 * convs of detectors run at ~10 ns per output there, and auto precision runs such models in
 * int16 many times. Here each group of EL_S16_MB output pixels copies its patches (im2col)
 * into int16 rows zero-filled to a multiple of 16 (int16 zero points are 0: a padded tap
 * adds 0, as the reference's skipped tap), and a register tile of 4 pixels x 2 output
 * channels sums them: AVX2 VPMADDWD on the filter widened to int16, else 16-wide blocks the
 * compiler vectorizes.
 *
 * Why the bytes are the reference's: integer sums do not depend on their order. Products are
 * at most 2^22 in magnitude, so the int32 partial sums of chunks of EL_S16_CHUNK (<= 511)
 * products are exact, and are added into the int64 sum the reference keeps; the bias and the
 * requantization are the reference's (out_s16 there), applied per output. */
#include <string.h>

#include "../el_quant.h"
#include "opt_internal.h"

#if defined(__x86_64__) || defined(__aarch64__)

#define EL_S16_MB 4      /* output pixels per tile */
#define EL_S16_CHUNK 496 /* products per exact int32 partial sum (31 blocks of 16) */
#define EL_S16_KMAX 4096 /* longest patch taken (4 rows of 8 KB on the stack) */

/* The reference's output for channel oc (el_requant_s16, then the activation clamp). */
static int16_t out_s16(const el_conv_params *p, const el_pc_quant *q, const void *bias, int bias64,
                       int wide, int64_t acc, int32_t oc)
{
    return (int16_t)el_clamp_i32(
        el_requant_s16(acc, bias, bias64, wide, oc, q->multiplier[oc], q->shift[oc]), p->act_min,
        p->act_max);
}

/* sums[c][r] = sum over k of f_c[i] * x_r[i] for the 2 filter rows f (k bytes; the patches x
 * are kp >= k int16 values, zero past k) and EL_S16_MB patches x. */
typedef void (*tile_fn)(int32_t k, int32_t kp, const int16_t *const *x, const int8_t *f0,
                        const int8_t *f1, int64_t sums[2][EL_S16_MB]);

static void tile_c(int32_t k, int32_t kp, const int16_t *const *x, const int8_t *f0,
                   const int8_t *f1, int64_t sums[2][EL_S16_MB])
{
    int32_t i = 0, r, j;
    (void)kp;
    for (r = 0; r < EL_S16_MB; ++r) {
        sums[0][r] = 0;
        sums[1][r] = 0;
    }
    while (i < k) {
        const int32_t end = k - i < EL_S16_CHUNK ? k : i + EL_S16_CHUNK;
        int32_t part[2][EL_S16_MB] = {{0}};
        for (; i + 16 <= end; i += 16) {
            for (r = 0; r < EL_S16_MB; ++r) {
                int32_t a = 0, b = 0;
                for (j = 0; j < 16; ++j) { /* a fixed trip count: vectorized at -O2 */
                    a += (int32_t)f0[i + j] * (int32_t)x[r][i + j];
                    b += (int32_t)f1[i + j] * (int32_t)x[r][i + j];
                }
                part[0][r] += a;
                part[1][r] += b;
            }
        }
        for (; i < end; ++i) {
            for (r = 0; r < EL_S16_MB; ++r) {
                part[0][r] += (int32_t)f0[i] * (int32_t)x[r][i];
                part[1][r] += (int32_t)f1[i] * (int32_t)x[r][i];
            }
        }
        for (r = 0; r < EL_S16_MB; ++r) {
            sums[0][r] += part[0][r];
            sums[1][r] += part[1][r];
        }
    }
}

#if defined(EL_OPT_HAVE_AVX2)
#include <immintrin.h>

__attribute__((target("avx2"))) static int32_t hsum_avx2(__m256i v)
{
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

/* VPMADDWD: |a*b + c*d| <= 2^23 per lane and step, so a chunk's 31 steps stay within int32 in
 * each lane and the chunk's total (<= 496 products) within int32 too. The last block of a k
 * that is not a multiple of 16 reads its filter bytes from a zero-filled copy. */
__attribute__((target("avx2"))) static void tile_avx2(int32_t k, int32_t kp,
                                                      const int16_t *const *x, const int8_t *f0,
                                                      const int8_t *f1, int64_t sums[2][EL_S16_MB])
{
    const int32_t kfull = k & ~15;
    int32_t i = 0, r;
    for (r = 0; r < EL_S16_MB; ++r) {
        sums[0][r] = 0;
        sums[1][r] = 0;
    }
    while (i < kp) {
        const int32_t end = kp - i < EL_S16_CHUNK ? kp : i + EL_S16_CHUNK;
        __m256i a00 = _mm256_setzero_si256(), a01 = a00, a02 = a00, a03 = a00;
        __m256i a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        for (; i < end; i += 16) {
            __m256i w0, w1, v;
            if (i < kfull) {
                w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(f0 + i)));
                w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(f1 + i)));
            } else {
                int8_t t0[16] = {0}, t1[16] = {0};
                memcpy(t0, f0 + i, (size_t)(k - i));
                memcpy(t1, f1 + i, (size_t)(k - i));
                w0 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)t0));
                w1 = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)t1));
            }
            v = _mm256_loadu_si256((const __m256i *)(x[0] + i));
            a00 = _mm256_add_epi32(a00, _mm256_madd_epi16(v, w0));
            a10 = _mm256_add_epi32(a10, _mm256_madd_epi16(v, w1));
            v = _mm256_loadu_si256((const __m256i *)(x[1] + i));
            a01 = _mm256_add_epi32(a01, _mm256_madd_epi16(v, w0));
            a11 = _mm256_add_epi32(a11, _mm256_madd_epi16(v, w1));
            v = _mm256_loadu_si256((const __m256i *)(x[2] + i));
            a02 = _mm256_add_epi32(a02, _mm256_madd_epi16(v, w0));
            a12 = _mm256_add_epi32(a12, _mm256_madd_epi16(v, w1));
            v = _mm256_loadu_si256((const __m256i *)(x[3] + i));
            a03 = _mm256_add_epi32(a03, _mm256_madd_epi16(v, w0));
            a13 = _mm256_add_epi32(a13, _mm256_madd_epi16(v, w1));
        }
        sums[0][0] += hsum_avx2(a00);
        sums[0][1] += hsum_avx2(a01);
        sums[0][2] += hsum_avx2(a02);
        sums[0][3] += hsum_avx2(a03);
        sums[1][0] += hsum_avx2(a10);
        sums[1][1] += hsum_avx2(a11);
        sums[1][2] += hsum_avx2(a12);
        sums[1][3] += hsum_avx2(a13);
    }
}
#endif

/* Output pixel `pix` (batch-major, row-major) of the layer as a zero-filled patch of kp values. */
static void gather(const el_conv_params *p, const el_dims *in_dims, const int16_t *in,
                   const el_dims *f_dims, const el_dims *out_dims, int32_t pix, int32_t kp,
                   int16_t *row)
{
    const int32_t in_c = in_dims->c, ox = pix % out_dims->w, oy = (pix / out_dims->w) % out_dims->h;
    const int32_t b = pix / (out_dims->w * out_dims->h);
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    const size_t run = (size_t)in_c * sizeof(int16_t);
    int32_t ky, kx;
    int16_t *dst = row;
    for (ky = 0; ky < f_dims->h; ++ky) {
        const int32_t iy = y0 + p->dilation_h * ky;
        for (kx = 0; kx < f_dims->w; ++kx, dst += in_c) {
            const int32_t ix = x0 + p->dilation_w * kx;
            if (iy < 0 || iy >= in_dims->h || ix < 0 || ix >= in_dims->w) {
                memset(dst, 0, run);
            } else {
                memcpy(dst, in + (((size_t)b * in_dims->h + iy) * in_dims->w + ix) * in_c, run);
            }
        }
    }
    memset(dst, 0, (size_t)(row + kp - dst) * sizeof(int16_t));
}

int el_opt_conv2d_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                      const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                      const int8_t *filter, const void *bias, int bias64, const el_dims *out_dims,
                      int16_t *out)
{
    const int32_t k = f_dims->h * f_dims->w * f_dims->c, kp = (k + 15) & ~15;
    const int32_t out_c = out_dims->c;
    const int32_t npix = out_dims->n * out_dims->h * out_dims->w;
    int16_t rows[EL_S16_MB][EL_S16_KMAX];
    const int16_t *x[EL_S16_MB];
    tile_fn tile = tile_c;
    int32_t pix, r, oc;
    if (!(isa & EL_OPT_ON) || f_dims->c != in_dims->c || kp > EL_S16_KMAX || out_c < 1 || k < 1) {
        return 0; /* grouped convs and very long patches: the reference */
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        tile = tile_avx2;
    }
#endif
    for (pix = 0; pix < npix; pix += EL_S16_MB) {
        const int32_t mb = npix - pix < EL_S16_MB ? npix - pix : EL_S16_MB;
        for (r = 0; r < EL_S16_MB; ++r) {
            /* a short last tile repeats its last pixel (computed, not stored) */
            if (r < mb) {
                gather(p, in_dims, in, f_dims, out_dims, pix + r, kp, rows[r]);
            }
            x[r] = rows[r < mb ? r : mb - 1];
        }
        for (oc = 0; oc < out_c; oc += 2) {
            const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc; /* an odd last channel twice */
            int64_t sums[2][EL_S16_MB];
            tile(k, kp, x, filter + (size_t)oc * k, filter + (size_t)oc1 * k, sums);
            for (r = 0; r < mb; ++r) {
                int16_t *o = out + (size_t)(pix + r) * out_c;
                o[oc] = out_s16(p, q, bias, bias64, bias64, sums[0][r], oc);
                if (oc1 != oc) {
                    o[oc1] = out_s16(p, q, bias, bias64, bias64, sums[1][r], oc1);
                }
            }
        }
    }
    return 1;
}

/* ---- DEPTHWISE_CONV_2D int16x8 (depth multiplier 1) ----
 * Per output pixel the taps inside the input are listed once, then each block of channels sums
 * them in int32 lanes (at most EL_S16_DW_TAPS products of <= 2^22 per channel: exact) and takes
 * the reference's int64 bias and requantization (the reference always has an int64 bias here). */
#define EL_S16_DW_TAPS 64

typedef void (*dw_fn)(int32_t nt, const int16_t *const *xt, const int8_t *const *ft, int32_t c,
                      int32_t *acc);

static void dw_c(int32_t nt, const int16_t *const *xt, const int8_t *const *ft, int32_t c,
                 int32_t *acc)
{
    int32_t i, t, j;
    for (i = 0; i < c; ++i) {
        acc[i] = 0;
    }
    for (t = 0; t < nt; ++t) {
        const int16_t *x = xt[t];
        const int8_t *f = ft[t];
        for (i = 0; i + 16 <= c; i += 16) {
            for (j = 0; j < 16; ++j) { /* a fixed trip count: vectorized at -O2 */
                acc[i + j] += (int32_t)f[i + j] * (int32_t)x[i + j];
            }
        }
        for (; i < c; ++i) {
            acc[i] += (int32_t)f[i] * (int32_t)x[i];
        }
    }
}

#if defined(EL_OPT_HAVE_AVX2)
__attribute__((target("avx2"))) static void
dw_avx2(int32_t nt, const int16_t *const *xt, const int8_t *const *ft, int32_t c, int32_t *acc)
{
    int32_t i = 0, t;
    for (; i + 8 <= c; i += 8) {
        __m256i a = _mm256_setzero_si256();
        for (t = 0; t < nt; ++t) {
            const __m256i x = _mm256_cvtepi16_epi32(_mm_loadu_si128((const __m128i *)(xt[t] + i)));
            const __m256i f = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)(ft[t] + i)));
            a = _mm256_add_epi32(a, _mm256_mullo_epi32(x, f));
        }
        _mm256_storeu_si256((__m256i *)(acc + i), a);
    }
    for (; i < c; ++i) {
        int32_t s = 0;
        for (t = 0; t < nt; ++t) {
            s += (int32_t)ft[t][i] * (int32_t)xt[t][i];
        }
        acc[i] = s;
    }
}
#endif

int el_opt_depthwise_conv2d_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                                const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                                const int8_t *filter, const void *bias, const el_dims *out_dims,
                                int16_t *out)
{
    const int32_t c = in_dims->c;
    const int16_t *xt[EL_S16_DW_TAPS];
    const int8_t *ft[EL_S16_DW_TAPS];
    int32_t acc[EL_S16_KMAX];
    dw_fn dw = dw_c;
    int32_t b, oy, ox, ky, kx, i;
    if (!(isa & EL_OPT_ON) || p->depth_multiplier != 1 || out_dims->c != c || c > EL_S16_KMAX ||
        f_dims->h * f_dims->w > EL_S16_DW_TAPS) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        dw = dw_avx2;
    }
#endif
    for (b = 0; b < out_dims->n; ++b) {
        for (oy = 0; oy < out_dims->h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_dims->w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                int16_t *o = out + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * c;
                int32_t nt = 0;
                for (ky = 0; ky < f_dims->h; ++ky) {
                    const int32_t iy = y0 + p->dilation_h * ky;
                    for (kx = 0; kx < f_dims->w; ++kx) {
                        const int32_t ix = x0 + p->dilation_w * kx;
                        if (iy < 0 || iy >= in_dims->h || ix < 0 || ix >= in_dims->w) {
                            continue;
                        }
                        xt[nt] = in + (((size_t)b * in_dims->h + iy) * in_dims->w + ix) * c;
                        ft[nt++] = filter + ((size_t)ky * f_dims->w + kx) * c;
                    }
                }
                dw(nt, xt, ft, c, acc);
                for (i = 0; i < c; ++i) {
                    o[i] = out_s16(p, q, bias, 1, 1, acc[i], i);
                }
            }
        }
    }
    return 1;
}

/* ---- TRANSPOSE_CONV int16x8 ----
 * Each filter tap (ky, kx) is a 1x1 convolution of the whole input by the tap's [out_c, in_c]
 * slice, scattered to output (iy * stride - pad + ky, ix * stride - pad + kx): the tile above
 * computes it (4 input pixels x 2 output channels) and the int64 sums go into the reference's
 * scratch, so every output gets the same exact integer sum as the reference's scatter; the
 * bias and requantization are then the reference's. */
int el_opt_transpose_conv_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                              const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                              const int8_t *filter, const void *bias, int bias64,
                              const el_dims *out_dims, int64_t *scratch, int16_t *out)
{
    const int32_t in_c = in_dims->c, out_c = out_dims->c, kp = (in_c + 15) & ~15;
    const int32_t npix = in_dims->n * in_dims->h * in_dims->w, taps = f_dims->h * f_dims->w;
    const size_t out_size = (size_t)out_dims->n * out_dims->h * out_dims->w * out_c;
    int16_t rows[EL_S16_MB][EL_S16_KMAX];
    const int16_t *x[EL_S16_MB];
    int64_t *dst[EL_S16_MB];
    tile_fn tile = tile_c;
    int32_t pix, r, oc, t;
    size_t i;
    if (!(isa & EL_OPT_ON) || f_dims->c != in_c || kp > EL_S16_KMAX || out_c < 1 || in_c < 1) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        tile = tile_avx2;
    }
#endif
    for (i = 0; i < out_size; ++i) {
        scratch[i] = 0;
    }
    for (pix = 0; pix < npix; pix += EL_S16_MB) {
        const int32_t mb = npix - pix < EL_S16_MB ? npix - pix : EL_S16_MB;
        for (r = 0; r < EL_S16_MB; ++r) {
            if (r < mb) {
                memcpy(rows[r], in + (size_t)(pix + r) * in_c, (size_t)in_c * sizeof(int16_t));
                memset(rows[r] + in_c, 0, (size_t)(kp - in_c) * sizeof(int16_t));
            }
            x[r] = rows[r < mb ? r : mb - 1];
        }
        for (t = 0; t < taps; ++t) {
            const int32_t ky = t / f_dims->w, kx = t % f_dims->w;
            int any = 0;
            for (r = 0; r < mb; ++r) {
                const int32_t ip = pix + r, ix = ip % in_dims->w;
                const int32_t iy = (ip / in_dims->w) % in_dims->h,
                              b = ip / (in_dims->w * in_dims->h);
                const int32_t oy = iy * p->stride_h - p->pad_h + ky;
                const int32_t ox = ix * p->stride_w - p->pad_w + kx;
                dst[r] =
                    oy < 0 || oy >= out_dims->h || ox < 0 || ox >= out_dims->w
                        ? NULL
                        : scratch + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * out_c;
                any |= dst[r] != NULL;
            }
            if (!any) {
                continue;
            }
            for (oc = 0; oc < out_c; oc += 2) {
                const int32_t oc1 = oc + 1 < out_c ? oc + 1 : oc;
                int64_t sums[2][EL_S16_MB];
                tile(in_c, kp, x, filter + ((size_t)oc * taps + t) * in_c,
                     filter + ((size_t)oc1 * taps + t) * in_c, sums);
                for (r = 0; r < mb; ++r) {
                    if (dst[r]) {
                        dst[r][oc] += sums[0][r];
                        if (oc1 != oc) {
                            dst[r][oc1] += sums[1][r];
                        }
                    }
                }
            }
        }
    }
    for (i = 0; i < out_size; ++i) { /* the 64-bit requantize, as the reference */
        out[i] = out_s16(p, q, bias, bias64, 1, scratch[i], (int32_t)(i % (size_t)out_c));
    }
    return 1;
}

#else

int el_opt_conv2d_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                      const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                      const int8_t *filter, const void *bias, int bias64, const el_dims *out_dims,
                      int16_t *out)
{
    (void)isa, (void)p, (void)q, (void)in_dims, (void)in, (void)f_dims, (void)filter, (void)bias;
    (void)bias64, (void)out_dims, (void)out;
    return 0; /* microcontrollers: the reference (code size) */
}

int el_opt_transpose_conv_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                              const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                              const int8_t *filter, const void *bias, int bias64,
                              const el_dims *out_dims, int64_t *scratch, int16_t *out)
{
    (void)isa, (void)p, (void)q, (void)in_dims, (void)in, (void)f_dims, (void)filter, (void)bias;
    (void)bias64, (void)out_dims, (void)scratch, (void)out;
    return 0;
}

int el_opt_depthwise_conv2d_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                                const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                                const int8_t *filter, const void *bias, const el_dims *out_dims,
                                int16_t *out)
{
    (void)isa, (void)p, (void)q, (void)in_dims, (void)in, (void)f_dims, (void)filter, (void)bias;
    (void)out_dims, (void)out;
    return 0;
}

#endif
