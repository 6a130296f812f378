/* Reference convolutions: the loop order and accumulation of TFLite's reference kernels
 * (ConvPerChannel, DepthwiseConvPerChannel, TransposeConv), so results are bit-exact. */
#include "../el_nn.h"
#include "../el_quant.h"

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* CONV_2D and DEPTHWISE_CONV_2D are written once for every dtype: the loop nests below take
 * the input element type IN_T, the filter element type F_T, the accumulator ACC_T, MAC(acc, f,
 * x) that adds one tap and OUT(acc, oc) that turns a channel's sum into the stored value. The
 * loop order, hence the float summation order, is TFLite's. In scope: p, in_dims, in, f_dims,
 * filter, out_dims, out. */

/* NHWC input, OHWI filter; groups when in_c is a multiple of f_c. */
#define CONV2D_LOOPS(IN_T, F_T, ACC_T, DOT, MAC, OUT)                                              \
    do {                                                                                           \
        const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;                     \
        const int32_t f_h = f_dims->h, f_w = f_dims->w, f_c = f_dims->c;                           \
        const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;               \
        const int32_t per_group = out_c / (in_c / f_c);                                            \
        int32_t b, oy, ox, oc, ky, kx;                                                             \
        for (b = 0; b < in_dims->n; ++b) {                                                         \
            for (oy = 0; oy < out_h; ++oy) {                                                       \
                const int32_t y0 = oy * p->stride_h - p->pad_h;                                    \
                for (ox = 0; ox < out_w; ++ox) {                                                   \
                    const int32_t x0 = ox * p->stride_w - p->pad_w;                                \
                    for (oc = 0; oc < out_c; ++oc) {                                               \
                        const int32_t group = oc / per_group;                                      \
                        ACC_T acc = 0;                                                             \
                        for (ky = 0; ky < f_h; ++ky) {                                             \
                            const int32_t iy = y0 + p->dilation_h * ky;                            \
                            if (iy < 0 || iy >= in_h) {                                            \
                                continue;                                                          \
                            }                                                                      \
                            for (kx = 0; kx < f_w; ++kx) {                                         \
                                const int32_t ix = x0 + p->dilation_w * kx;                        \
                                const IN_T *ip;                                                    \
                                const F_T *fp;                                                     \
                                if (ix < 0 || ix >= in_w) {                                        \
                                    continue;                                                      \
                                }                                                                  \
                                ip = in + (((size_t)b * in_h + iy) * in_w + ix) * in_c +           \
                                     group * f_c;                                                  \
                                fp = filter + (((size_t)oc * f_h + ky) * f_w + kx) * f_c;          \
                                DOT(acc, fp, ip, f_c, MAC);                                        \
                            }                                                                      \
                        }                                                                          \
                        out[(((size_t)b * out_h + oy) * out_w + ox) * out_c + oc] = OUT(acc, oc);  \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* NHWC input, 1HWO filter; output channel oc = ic * depth_multiplier + m. */
#define DEPTHWISE_LOOPS(ACC_T, MAC, OUT)                                                           \
    do {                                                                                           \
        const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;                     \
        const int32_t f_h = f_dims->h, f_w = f_dims->w;                                            \
        const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;               \
        const int32_t mult = p->depth_multiplier;                                                  \
        int32_t b, oy, ox, ic, m, ky, kx;                                                          \
        for (b = 0; b < in_dims->n; ++b) {                                                         \
            for (oy = 0; oy < out_h; ++oy) {                                                       \
                const int32_t y0 = oy * p->stride_h - p->pad_h;                                    \
                for (ox = 0; ox < out_w; ++ox) {                                                   \
                    const int32_t x0 = ox * p->stride_w - p->pad_w;                                \
                    for (ic = 0; ic < in_c; ++ic) {                                                \
                        for (m = 0; m < mult; ++m) {                                               \
                            const int32_t oc = m + ic * mult;                                      \
                            ACC_T acc = 0;                                                         \
                            for (ky = 0; ky < f_h; ++ky) {                                         \
                                const int32_t iy = y0 + p->dilation_h * ky;                        \
                                if (iy < 0 || iy >= in_h) {                                        \
                                    continue;                                                      \
                                }                                                                  \
                                for (kx = 0; kx < f_w; ++kx) {                                     \
                                    const int32_t ix = x0 + p->dilation_w * kx;                    \
                                    if (ix < 0 || ix >= in_w) {                                    \
                                        continue;                                                  \
                                    }                                                              \
                                    MAC(acc, filter[((size_t)ky * f_w + kx) * out_c + oc],         \
                                        in[(((size_t)b * in_h + iy) * in_w + ix) * in_c + ic]);    \
                                }                                                                  \
                            }                                                                      \
                            out[(((size_t)b * out_h + oy) * out_w + ox) * out_c + oc] =            \
                                OUT(acc, oc);                                                      \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

/* One tap's channels into acc: MAC(acc, f, x) for each, in order. */
#define DOT_EACH(acc, fp, ip, n, MAC)                                                              \
    do {                                                                                           \
        int32_t i_;                                                                                \
        for (i_ = 0; i_ < (n); ++i_) {                                                             \
            MAC(acc, (fp)[i_], (ip)[i_]);                                                          \
        }                                                                                          \
    } while (0)

/* int8: (x + input_offset) * f summed in int32, then requantized per output channel. */
#define MAC_S8(acc, f, x) ((acc) += (int32_t)(f) * ((int32_t)(x) + p->input_offset))
#define OUT_S8(acc, oc) out_s8(p, q, bias, acc, oc)
static inline int8_t out_s8(const el_conv_params *p, const el_pc_quant *q, const int32_t *bias,
                            int32_t acc, int32_t oc)
{
    if (bias) {
        acc += bias[oc];
    }
    acc = el_requant(acc, q->multiplier[oc], q->shift[oc]) + p->output_offset;
    return (int8_t)el_clamp_i32(acc, p->act_min, p->act_max);
}

#define MAC_F32(acc, f, x) ((acc) += (x) * (f))
#define OUT_F32(acc, oc) out_f32(p, bias, acc, oc)
static inline float out_f32(const el_conv_params *p, const float *bias, float acc, int32_t oc)
{
    if (bias) {
        acc += bias[oc]; /* not acc + 0.0f without a bias: that would turn -0.0f into +0.0f */
    }
    return clampf(acc, p->act_min_f, p->act_max_f);
}

/* int16x8: symmetric activations, int64 sums. */
#define MAC_S16(acc, f, x) ((acc) += (int64_t)(f) * (x))

/* An int16 x int8 product is at most 2^22 in magnitude, so up to 511 of them sum exactly in
 * int32, in a loop compilers vectorize; TFLite's int64 sum takes the partial sums. Integer
 * sums do not depend on their order: the result is the per-tap MAC_S16 loop's. */
#define EL_S16_EXACT_RUN 511
static int64_t dot_s16(const int8_t *f, const int16_t *x, int32_t n)
{
    int64_t acc = 0;
    while (n > 0) {
        const int32_t m = n < EL_S16_EXACT_RUN ? n : EL_S16_EXACT_RUN;
        int32_t part = 0, i = 0, k;
        /* blocks of 16 (a fixed trip count, vectorized at -O2), then the rest */
        for (; i + 16 <= m; i += 16) {
            for (k = 0; k < 16; ++k) {
                part += (int32_t)f[i + k] * (int32_t)x[i + k];
            }
        }
        for (; i < m; ++i) {
            part += (int32_t)f[i] * (int32_t)x[i];
        }
        acc += part;
        f += m;
        x += m;
        n -= m;
    }
    return acc;
}
#define DOT_S16(acc, fp, ip, n, MAC) ((acc) += dot_s16((fp), (ip), (n)))

/* TFLite accumulates in the bias type: with an int32 bias (or none) the sum wraps to 32 bits
 * and takes the 32-bit requantize (el_requant_s16). Depthwise always has an int64 bias
 * (prepare checks). */
#define OUT_S16(acc, oc) out_s16(p, q, bias, bias64, bias64, acc, oc)
#define OUT_S16_DW(acc, oc) out_s16(p, q, bias, bias64, 1, acc, oc)
static inline int16_t out_s16(const el_conv_params *p, const el_pc_quant *q, const void *bias,
                              int bias64, int wide, int64_t acc, int32_t oc)
{
    return (int16_t)el_clamp_i32(
        el_requant_s16(acc, bias, bias64, wide, oc, q->multiplier[oc], q->shift[oc]), p->act_min,
        p->act_max);
}

void el_conv2d_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                  const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                  const int32_t *bias, const el_dims *out_dims, int8_t *out)
{
    CONV2D_LOOPS(int8_t, int8_t, int32_t, DOT_EACH, MAC_S8, OUT_S8);
}

void el_conv2d_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                   const el_dims *f_dims, const float *filter, const float *bias,
                   const el_dims *out_dims, float *out)
{
    CONV2D_LOOPS(float, float, float, DOT_EACH, MAC_F32, OUT_F32);
}

void el_conv2d_s16(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                   const int16_t *in, const el_dims *f_dims, const int8_t *filter, const void *bias,
                   int bias64, const el_dims *out_dims, int16_t *out)
{
    CONV2D_LOOPS(int16_t, int8_t, int64_t, DOT_S16, MAC_S16, OUT_S16);
}

void el_depthwise_conv2d_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                            const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                            const int32_t *bias, const el_dims *out_dims, int8_t *out)
{
    DEPTHWISE_LOOPS(int32_t, MAC_S8, OUT_S8);
}

void el_depthwise_conv2d_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                             const el_dims *f_dims, const float *filter, const float *bias,
                             const el_dims *out_dims, float *out)
{
    DEPTHWISE_LOOPS(float, MAC_F32, OUT_F32);
}

void el_depthwise_conv2d_s16(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                             const int16_t *in, const el_dims *f_dims, const int8_t *filter,
                             const void *bias, int bias64, const el_dims *out_dims, int16_t *out)
{
    DEPTHWISE_LOOPS(int64_t, MAC_S16, OUT_S16_DW);
}

/* TRANSPOSE_CONV scatters each input pixel into the output window, as TFLite's reference:
 * ACC_T sums start at zero in SUMS (one per output element); IV is the input element as
 * multiplied, ADD(acc, iv, w) adds one product. The stored value is made afterwards. */
#define TRANSPOSE_CONV_SCATTER(ACC_T, SUMS, IV, ADD)                                               \
    do {                                                                                           \
        int32_t b, iy, ix, ic, ky, kx, oc;                                                         \
        for (i = 0; i < out_size; ++i) {                                                           \
            SUMS[i] = 0;                                                                           \
        }                                                                                          \
        for (b = 0; b < in_dims->n; ++b) {                                                         \
            for (iy = 0; iy < in_h; ++iy) {                                                        \
                for (ix = 0; ix < in_w; ++ix) {                                                    \
                    for (ic = 0; ic < in_c; ++ic) {                                                \
                        const int32_t oy0 = iy * p->stride_h - p->pad_h;                           \
                        const int32_t ox0 = ix * p->stride_w - p->pad_w;                           \
                        const ACC_T iv =                                                           \
                            IV(in[(((size_t)b * in_h + iy) * in_w + ix) * in_c + ic]);             \
                        for (ky = 0; ky < f_h; ++ky) {                                             \
                            const int32_t oy = oy0 + ky;                                           \
                            if (oy < 0 || oy >= out_h) {                                           \
                                continue;                                                          \
                            }                                                                      \
                            for (kx = 0; kx < f_w; ++kx) {                                         \
                                const int32_t ox = ox0 + kx;                                       \
                                ACC_T *acc;                                                        \
                                if (ox < 0 || ox >= out_w) {                                       \
                                    continue;                                                      \
                                }                                                                  \
                                acc = SUMS + (((size_t)b * out_h + oy) * out_w + ox) * out_c;      \
                                for (oc = 0; oc < out_c; ++oc) {                                   \
                                    ADD(acc[oc], iv,                                               \
                                        filter[(((size_t)oc * f_h + ky) * f_w + kx) * in_c + ic]); \
                                }                                                                  \
                            }                                                                      \
                        }                                                                          \
                    }                                                                              \
                }                                                                                  \
            }                                                                                      \
        }                                                                                          \
    } while (0)

#define TRANSPOSE_CONV_SIZES                                                                       \
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;                         \
    const int32_t f_h = f_dims->h, f_w = f_dims->w;                                                \
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;                   \
    const size_t out_size = (size_t)out_dims->n * out_h * out_w * out_c;                           \
    size_t i

/* The int8 sums wrap in 32 bits, as in TFLite's integer TransposeConv. */
#define IV_S8(x) ((int32_t)(x) + p->input_offset)
#define ADD_WRAP(acc, iv, w) ((acc) = (int32_t)((uint32_t)(acc) + (uint32_t)((iv) * (int32_t)(w))))
#define IV_F32(x) (x)
#define ADD_F32(acc, iv, w) ((acc) += (iv) * (w))

void el_transpose_conv_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                          const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                          const int32_t *bias, const el_dims *out_dims, int32_t *scratch,
                          int8_t *out)
{
    TRANSPOSE_CONV_SIZES;
    TRANSPOSE_CONV_SCATTER(int32_t, scratch, IV_S8, ADD_WRAP);
    for (i = 0; i < out_size; ++i) {
        const int32_t c = (int32_t)(i % (size_t)out_c);
        int32_t v = scratch[i];
        if (bias) {
            v = (int32_t)((uint32_t)v + (uint32_t)bias[c]);
        }
        v = el_requant(v, q->multiplier[c], q->shift[c]) + p->output_offset;
        out[i] = (int8_t)el_clamp_i32(v, p->act_min, p->act_max);
    }
}

/* int16x8: exact 64-bit sums (an int32 bias is widened, as TFLite Micro does), TFLite's
 * 64-bit requantize, zero points 0. */
#define IV_S16(x) ((int64_t)(x))
#define ADD_S64(acc, iv, w) ((acc) += (iv) * (int64_t)(w))

void el_transpose_conv_s16(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                           const int16_t *in, const el_dims *f_dims, const int8_t *filter,
                           const void *bias, int bias64, const el_dims *out_dims, int64_t *scratch,
                           int16_t *out)
{
    TRANSPOSE_CONV_SIZES;
    TRANSPOSE_CONV_SCATTER(int64_t, scratch, IV_S16, ADD_S64);
    for (i = 0; i < out_size; ++i) {
        out[i] = out_s16(p, q, bias, bias64, 1, scratch[i], (int32_t)(i % (size_t)out_c));
    }
}

void el_transpose_conv_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                           const el_dims *f_dims, const float *filter, const float *bias,
                           const el_dims *out_dims, float *out)
{
    TRANSPOSE_CONV_SIZES;
    TRANSPOSE_CONV_SCATTER(float, out, IV_F32, ADD_F32);
    for (i = 0; i < out_size; ++i) {
        float v = out[i];
        if (bias) {
            v += bias[i % (size_t)out_c];
        }
        out[i] = clampf(v, p->act_min_f, p->act_max_f);
    }
}
