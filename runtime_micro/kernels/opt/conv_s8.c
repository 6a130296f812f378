/* Optimized CONV_2D, DEPTHWISE_CONV_2D and FULLY_CONNECTED int8: drivers shared by every
 * instruction set. Convolution is a GEMM over output pixels: a 1x1 unpadded conv reads the
 * input rows in place, any other conv copies each pixel's patch (im2col) into a stack row,
 * padded with the input zero point so the offset term is one constant per channel. */
#include <string.h>

#include "opt_internal.h"

/* The channels a call checks: on hosted CPUs only its window (threads call it once per
 * window; an empty window, the question whether it takes the layer, checks them all);
 * Cortex-M builds have no threads and always pass the whole layer. */
#if EL_OPT_HOSTED
#define EL_WINDOW_FIRST(c0, c1) ((c1) > (c0) ? (c0) : 0)
#define EL_WINDOW_COUNT(c0, c1, all) ((c1) > (c0) ? (c1) - (c0) : (all))
#else
#define EL_WINDOW_FIRST(c0, c1) 0
#define EL_WINDOW_COUNT(c0, c1, all) (all)
#endif
/* The layer's multipliers were checked at prepare (el_conv_params.rq_checked; hosted only). */
#define EL_RQ_CHECKED(p) (EL_OPT_HOSTED && (p)->rq_checked)

static int multipliers_ok(const int32_t *mult, const int32_t *shift, int32_t n)
{
    /* The vector requantizers rely on non-negative multipliers and shifts within [-31, 31]
     * (prepare always makes them so; the reference clamps beyond); anything else goes to the
     * reference. */
    int32_t i;
#if EL_OPT_HOSTED
    /* threads call it once per band, each over all of a layer's channels (60,000 a
     * MobileNetV2-1.0/224 invoke on two threads): eight branch-free lanes, which the compiler
     * turns into vector code */
    uint32_t bad[8] = {0, 0, 0, 0, 0, 0, 0, 0}, any = 0;
    int32_t l;
    for (i = 0; i + 8 <= n; i += 8) {
        for (l = 0; l < 8; ++l) {
            bad[l] |= ((uint32_t)mult[i + l] >> 31) | ((uint32_t)shift[i + l] + 31u > 62u);
        }
    }
    for (l = 0; l < 8; ++l) {
        any |= bad[l];
    }
    if (any) {
        return 0;
    }
#else
    i = 0;
#endif
    for (; i < n; ++i) {
        if (mult[i] < 0 || shift[i] < -31 || shift[i] > 31) {
            return 0;
        }
    }
    return 1;
}

/* memcpy for short runs (a kernel row of an RGB input is 9 bytes): overlapping word copies
 * instead of a library call or a byte loop. */
static inline void copy_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n < 4) { /* one-channel kernel rows (Cortex-M models): the shortest test first */
        int32_t c;
        for (c = 0; c < n; ++c) {
            dst[c] = src[c];
        }
    } else if (n < 8) {
        uint32_t u, v;
        memcpy(&u, src, 4);
        memcpy(&v, src + n - 4, 4);
        memcpy(dst, &u, 4);
        memcpy(dst + n - 4, &v, 4);
    } else if (n < 16) {
        uint64_t u, v;
        memcpy(&u, src, 8);
        memcpy(&v, src + n - 8, 8);
        memcpy(dst, &u, 8);
        memcpy(dst + n - 8, &v, 8);
    } else {
        memcpy(dst, src, (size_t)n);
    }
}

/* bias + off * sum(row), computed modulo 2^32 exactly as the reference's int32 sums wrap. */
static int32_t fold_offset(const int32_t *bias, int32_t idx, int32_t off, int32_t sum)
{
    const uint32_t b = bias ? (uint32_t)bias[idx] : 0u;
    return (int32_t)(b + (uint32_t)off * (uint32_t)sum);
}

void el_opt_filter_sums_s8(uint32_t isa, int32_t n, int32_t k, const int8_t *filter,
                           const int32_t *bias, int32_t input_offset, int32_t *bias_out,
                           int32_t *sum_out)
{
    int32_t j;
    el_opt_kernels_for(isa)->rowsum(n, k, filter, k, sum_out);
    for (j = 0; j < n; ++j) {
        bias_out[j] = fold_offset(bias, j, input_offset, sum_out[j]);
    }
}

size_t el_opt_conv2d_s8_packed_bytes(uint32_t isa, int32_t n, int32_t k, int32_t npix)
{
    if (!EL_OPT_PACK_S8 || !(isa & EL_OPT_ON) || n < 1 || k < 1 || k > EL_OPT_PACK_KMAX ||
        npix < EL_OPT_PACK_MMIN) {
        return 0;
    }
    /* the larger of the two layouts: 16-column panels, k in quads; 8-column ones, k in 16s */
    return (size_t)((n + 15) & ~15) * (size_t)((k + 15) & ~15);
}

int el_opt_conv2d_s8_pack(uint32_t isa, int32_t n, int32_t k, const int8_t *filter, int8_t *packed)
{
    const el_opt_kernels *const kr = el_opt_kernels_for(isa);
    if (kr->gemm_pack == NULL) {
        return 0;
    }
    kr->gemm_pack(n, k, filter, packed);
    return 1;
}

/* The GEMM rows of mb output pixels from pos = (b, oy, ox) on, which advances past them: a
 * 1x1 unpadded conv's rows are the input pixels themselves, any other's are copied into cols
 * (kc bytes apart), padded with the input zero point. */
#define EL_ROWS_ANY 0
#define EL_ROWS_CONTIGUOUS 1 /* a stride-1 1x1 conv: consecutive input pixels */
#define EL_ROWS_UNPADDED 2   /* im2col without any padding: f_h runs of f_w * in_c bytes */
#define EL_ROWS_PADDED 3     /* hosted: as UNPADDED inside the input, pixel by pixel at its edges */

/* Which of gather_rows' paths a layer takes (once per call, not per group of rows). */
static int rows_mode(const el_conv_params *p, const el_dims *in_dims, const el_dims *f_dims,
                     const el_dims *out_dims, int direct)
{
    if (direct) {
        return p->stride_w == 1 && p->stride_h == 1 && out_dims->w == in_dims->w &&
                       (out_dims->h == in_dims->h || in_dims->n == 1)
                   ? EL_ROWS_CONTIGUOUS
                   : EL_ROWS_ANY;
    }
    if (p->dilation_w != 1 || p->dilation_h != 1) {
        return EL_ROWS_ANY;
    }
    return p->pad_w == 0 && p->pad_h == 0 &&
                   (out_dims->w - 1) * p->stride_w + f_dims->w <= in_dims->w &&
                   (out_dims->h - 1) * p->stride_h + f_dims->h <= in_dims->h
               ? EL_ROWS_UNPADDED
           : EL_OPT_HOSTED ? EL_ROWS_PADDED
                           : EL_ROWS_ANY;
}

#if defined(__GNUC__)
#define EL_INLINE_ROWS __attribute__((always_inline)) inline /* a call per 4 rows on Cortex-M */
#else
#define EL_INLINE_ROWS inline
#endif

/* The im2col row of one 3x3 window of a stem (3 runs of `run` = 8..16 bytes, input rows irow
 * bytes apart): each run as two overlapping 8-byte words, no loop or branch per run. */
static EL_INLINE_ROWS void stem_window(int8_t *dst, const int8_t *x, size_t run, size_t irow)
{
    const size_t t = run - 8;
    uint64_t w[6];
    memcpy(&w[0], x, 8);
    memcpy(&w[1], x + t, 8);
    memcpy(&w[2], x + irow, 8);
    memcpy(&w[3], x + irow + t, 8);
    memcpy(&w[4], x + 2 * irow, 8);
    memcpy(&w[5], x + 2 * irow + t, 8);
    memcpy(dst, &w[0], 8);
    memcpy(dst + t, &w[1], 8);
    memcpy(dst + run, &w[2], 8);
    memcpy(dst + run + t, &w[3], 8);
    memcpy(dst + 2 * run, &w[4], 8);
    memcpy(dst + 2 * run + t, &w[5], 8);
}
/* The im2col row of a window wholly inside the input, at x: f_h runs of `run` bytes, input
 * rows irow bytes apart. */
static EL_INLINE_ROWS void window_runs(int8_t *dst, const int8_t *x, size_t run, size_t irow,
                                       int32_t f_h)
{
    int32_t ky;
    if (EL_OPT_STEM_WORDS && f_h == 3 && run >= 8 && run <= 16) {
        stem_window(dst, x, run, irow);
        return;
    }
    for (ky = 0; ky < f_h; ++ky, dst += run, x += irow) {
        copy_bytes(dst, x, (int32_t)run);
    }
}

/* The im2col row of the window at input (y0, x0) of image img, pixel by pixel: taps outside
 * the input get the zero point. */
static EL_INLINE_ROWS void window_elems(const el_conv_params *p, const el_dims *in_dims,
                                        const el_dims *f_dims, const int8_t *img, int32_t y0,
                                        int32_t x0, int32_t zp, int8_t *dst)
{
    /* locals: the int8 stores below may alias anything, so fields would be read again */
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w, dh = p->dilation_h, dw = p->dilation_w;
    int32_t ky, kx;
    for (ky = 0; ky < f_h; ++ky) {
        const int32_t iy = y0 + dh * ky;
        for (kx = 0; kx < f_w; ++kx, dst += in_c) {
            const int32_t ix = x0 + dw * kx;
            const int pad = iy < 0 || iy >= in_h || ix < 0 || ix >= in_w;
            if (in_c < 16) { /* a few channels (RGB input): no library call */
                int32_t c;
                if (pad) {
                    for (c = 0; c < in_c; ++c) {
                        dst[c] = (int8_t)zp;
                    }
                } else {
                    const int8_t *src = img + ((size_t)iy * in_w + ix) * in_c;
                    for (c = 0; c < in_c; ++c) {
                        dst[c] = src[c];
                    }
                }
            } else if (pad) {
                memset(dst, zp, (size_t)in_c);
            } else {
                memcpy(dst, img + ((size_t)iy * in_w + ix) * in_c, (size_t)in_c);
            }
        }
    }
}

static EL_INLINE_ROWS void gather_rows(const el_conv_params *p, const el_dims *in_dims,
                                       const el_dims *f_dims, const el_dims *out_dims,
                                       const int8_t *in, int direct, int mode, int32_t kc,
                                       int8_t *cols, int32_t mb, int32_t *pos, const int8_t **rows)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w, out_h = out_dims->h, out_w = out_dims->w;
    const int32_t zp = -p->input_offset;
    int32_t b = pos[0], oy = pos[1], ox = pos[2], i;
    if (mode == EL_ROWS_CONTIGUOUS) {
        const int8_t *x = in + (((size_t)b * in_h + oy) * in_w + ox) * in_c;
        i = 0;
#if EL_OPT_HOSTED
        for (; i + 4 <= mb; i += 4, x += 4 * (size_t)in_c) { /* 2 instructions a row, not 6 */
            rows[i] = x;
            rows[i + 1] = x + in_c;
            rows[i + 2] = x + 2 * (size_t)in_c;
            rows[i + 3] = x + 3 * (size_t)in_c;
        }
#endif
        for (; i < mb; ++i, x += in_c) {
            rows[i] = x;
        }
        ox += mb;
        while (ox >= out_w) {
            ox -= out_w;
            if (++oy == out_h) {
                oy = 0;
                ++b;
            }
        }
        pos[0] = b, pos[1] = oy, pos[2] = ox;
        return;
    }
    if (mode == EL_ROWS_UNPADDED) { /* e.g. a stem conv after an explicit PAD */
        const size_t run = (size_t)f_w * in_c, istep = (size_t)p->stride_w * in_c;
        const size_t irow = (size_t)in_w * in_c;
        const int8_t *x =
            in + (((size_t)b * in_h + (size_t)oy * p->stride_h) * in_w + (size_t)ox * p->stride_w) *
                     in_c;
        for (i = 0; i < mb; ++i) {
            window_runs(cols + (size_t)i * kc, x, run, irow, f_h);
            rows[i] = cols + (size_t)i * kc;
            x += istep;
            if (++ox == out_w) {
                ox = 0;
                if (++oy == out_h) {
                    oy = 0;
                    ++b;
                }
                x = in + (((size_t)b * in_h + (size_t)oy * p->stride_h) * in_w) * in_c;
            }
        }
        pos[0] = b, pos[1] = oy, pos[2] = ox;
        return;
    }
#if EL_OPT_HOSTED
    if (mode == EL_ROWS_PADDED) { /* as EL_ROWS_UNPADDED inside, pixel by pixel at the edges */
        const size_t run = (size_t)f_w * in_c, irow = (size_t)in_w * in_c;
        const size_t istep = (size_t)p->stride_w * in_c;
        /* output columns [xa, xb) of the rows whose taps are all inside read in place */
        const int32_t xa = (p->pad_w + p->stride_w - 1) / p->stride_w;
        const int32_t lx = in_w - f_w + p->pad_w;
        const int32_t xb =
            lx < 0 ? 0 : (lx / p->stride_w + 1 < out_w ? lx / p->stride_w + 1 : out_w);
        i = 0;
        while (i < mb) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int8_t *img = in + (size_t)b * in_h * irow;
            int32_t end = ox + (mb - i) < out_w ? ox + (mb - i) : out_w; /* this row's pixels */
            if (y0 >= 0 && y0 + f_h <= in_h) {
                for (; ox < end && ox < xa; ++ox, ++i) {
                    window_elems(p, in_dims, f_dims, img, y0, ox * p->stride_w - p->pad_w, zp,
                                 cols + (size_t)i * kc);
                    rows[i] = cols + (size_t)i * kc;
                }
                if (ox < end && ox < xb) {
                    const int32_t stop = end < xb ? end : xb;
                    const int8_t *x =
                        img + (size_t)y0 * irow + (size_t)(ox * p->stride_w - p->pad_w) * in_c;
                    for (; ox < stop; ++ox, ++i, x += istep) {
                        window_runs(cols + (size_t)i * kc, x, run, irow, f_h);
                        rows[i] = cols + (size_t)i * kc;
                    }
                }
            }
            for (; ox < end; ++ox, ++i) {
                window_elems(p, in_dims, f_dims, img, y0, ox * p->stride_w - p->pad_w, zp,
                             cols + (size_t)i * kc);
                rows[i] = cols + (size_t)i * kc;
            }
            if (ox == out_w) {
                ox = 0;
                if (++oy == out_h) {
                    oy = 0;
                    ++b;
                }
            }
        }
        pos[0] = b, pos[1] = oy, pos[2] = ox;
        return;
    }
#endif
    for (i = 0; i < mb; ++i) {
        const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
        const int8_t *img = in + (size_t)b * in_h * in_w * in_c;
        if (direct) {
            rows[i] = img + ((size_t)y0 * in_w + x0) * in_c;
        } else if (p->dilation_w == 1 && x0 >= 0 && x0 + f_w <= in_w) {
            /* no horizontal padding: each kernel row is f_w * in_c contiguous bytes */
            const int32_t run = f_w * in_c;
            int32_t ky;
            int8_t *dst = cols + (size_t)i * kc;
            for (ky = 0; ky < f_h; ++ky, dst += run) {
                const int32_t iy = y0 + p->dilation_h * ky;
                if (iy < 0 || iy >= in_h) {
                    memset(dst, zp, (size_t)run);
                } else {
                    copy_bytes(dst, img + ((size_t)iy * in_w + x0) * in_c, run);
                }
            }
            rows[i] = cols + (size_t)i * kc;
        } else {
            window_elems(p, in_dims, f_dims, img, y0, x0, zp, cols + (size_t)i * kc);
            rows[i] = cols + (size_t)i * kc;
        }
        if (++ox == out_w) {
            ox = 0;
            if (++oy == out_h) {
                oy = 0;
                ++b;
            }
        }
    }
    pos[0] = b, pos[1] = oy, pos[2] = ox;
}

int el_opt_conv2d_s8_cols(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                          const el_dims *in_dims, const int8_t *in, const el_dims *f_dims,
                          const int8_t *filter, const int32_t *bias, const el_opt_sums *sums,
                          const el_dims *out_dims, int8_t *out, int32_t c0, int32_t c1)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    const int32_t k = f_h * f_w * in_c;
    const int32_t zp = -p->input_offset;
    const int32_t npix = in_dims->n * out_h * out_w;
    const int direct = f_h == 1 && f_w == 1 && p->pad_h == 0 && p->pad_w == 0 &&
                       (out_h - 1) * p->stride_h < in_h && (out_w - 1) * p->stride_w < in_w;
    /* im2col rows are kc bytes apart; the bytes from k to kc stay zero */
    const int32_t kc = (k + EL_OPT_COL_ALIGN - 1) / EL_OPT_COL_ALIGN * EL_OPT_COL_ALIGN;
    const int mode = rows_mode(p, in_dims, f_dims, out_dims, direct);
    const el_opt_kernels *const kr = el_opt_kernels_for(isa);
    int8_t cols[EL_OPT_COLS];
    const int8_t *rows[EL_OPT_MB_RQ > EL_OPT_MB ? EL_OPT_MB_RQ : EL_OPT_MB];
    int32_t tile[EL_OPT_MB * EL_OPT_NC];
    int32_t be[EL_OPT_NC], bs[EL_OPT_NC];
    int32_t n0, mb_max = kr->gemm_rq != NULL ? EL_OPT_MB_RQ : EL_OPT_MB;
    if (!direct && kc > 0 && EL_OPT_COLS / kc < mb_max) {
        mb_max = EL_OPT_COLS / kc;
        if (kr->gemm_rq != NULL && mb_max > 4) {
            mb_max &= ~3; /* whole groups of 4 rows for the fused GEMM's fast path */
        }
    }
    if (!(isa & EL_OPT_ON) || f_dims->c != in_c || mb_max < 1 || zp < -128 || zp > 127 ||
        !(EL_RQ_CHECKED(p) ||
          multipliers_ok(q->multiplier + EL_WINDOW_FIRST(c0, c1),
                         q->shift + EL_WINDOW_FIRST(c0, c1), EL_WINDOW_COUNT(c0, c1, out_c)))) {
        return 0;
    }
    if (!direct && kc > k) {
        /* bytes k..kc of every row stay zero (gather_rows writes the first k). Hosted builds
         * (EL_OPT_COL_ALIGN 16) clear each row's last 16 bytes, which cover them: one vector
         * store. A memset of kc - k bytes per row, a library call each, took about 0.6 us of
         * every call of a 3x3 RGB stem (256 rows): 8 us more over the 14 calls of its split on
         * two threads (stop 40). */
        const size_t z = EL_OPT_COL_ALIGN >= 16 ? 16u : (size_t)(kc - k);
        int32_t i;
        for (i = 0; i < mb_max; ++i) {
            memset(cols + (size_t)(i + 1) * kc - z, 0, z);
        }
    }
    for (n0 = c0; n0 < c1; n0 += EL_OPT_NC) {
        const int32_t nc = c1 - n0 < EL_OPT_NC ? c1 - n0 : EL_OPT_NC;
        const int8_t *fb = filter + (size_t)n0 * k;
        const int32_t *bsum = bs;
        el_opt_rq rq;
        int32_t pix0, pos[3] = {0, 0, 0};
#if EL_OPT_HOSTED
        rq.packed = NULL;
#endif
        if (EL_OPT_FILTER_SUMS && sums != NULL) { /* Cortex-M: compiled out */
            rq.bias = sums->bias + n0;
            bsum = sums->sum + n0;
#if EL_OPT_HOSTED
            if (sums->packed != NULL && (n0 & 15) == 0 && kr->pack_stride != NULL) {
                rq.packed = sums->packed + (size_t)n0 * (size_t)kr->pack_stride(k);
            }
#endif
        } else {
            el_opt_filter_sums_s8(isa, nc, k, fb, bias ? bias + n0 : NULL, p->input_offset, be, bs);
            rq.bias = be;
        }
        rq.mult = q->multiplier + n0;
        rq.shift = q->shift + n0;
        rq.out_offset = p->output_offset;
        rq.act_min = p->act_min;
        rq.act_max = p->act_max;
        rq.a_padded = !direct && EL_OPT_COL_ALIGN >= 16;
#if EL_OPT_HOSTED
        rq.colsum = bsum;
        rq.dw_state = NULL;
        rq.dw_state_bytes = 0;
#endif
        /* output pixel coordinates (b, oy, ox) advance with pix (no divisions per pixel) */
        for (pix0 = 0; pix0 < npix; pix0 += mb_max) {
            const int32_t mb = npix - pix0 < mb_max ? npix - pix0 : mb_max;
            gather_rows(p, in_dims, f_dims, out_dims, in, direct, mode, kc, cols, mb, pos, rows);
            if (kr->gemm_rq == NULL ||
                !kr->gemm_rq(mb, nc, k, rows, fb, k, &rq, out + (size_t)pix0 * out_c + n0, out_c)) {
                int32_t r0;
                for (r0 = 0; r0 < mb; r0 += EL_OPT_MB) { /* the int32 tile holds EL_OPT_MB */
                    const int32_t mr = mb - r0 < EL_OPT_MB ? mb - r0 : EL_OPT_MB;
                    kr->gemm(mr, nc, k, rows + r0, fb, k, bsum, tile, nc);
                    kr->requant(&rq, mr, nc, tile, nc, out + (size_t)(pix0 + r0) * out_c + n0,
                                out_c);
                }
            }
        }
    }
    return 1;
}

/* One depthwise output pixel through the per-pixel kernel: tap pointers into the input, or at
 * a vector of zero points where the tap falls in the padding. */
static void dw_pixel(const el_opt_kernels *kr, const el_conv_params *p, int32_t f_h, int32_t f_w,
                     const int8_t *const *rows, int32_t x0, int x_in, int32_t in_w, int32_t in_c,
                     const int8_t *padv, int32_t taps, const int8_t *f, int32_t fstride, int32_t n,
                     int32_t *acc)
{
    const int8_t *x[EL_OPT_DW_TAPS];
    int32_t ky, kx, t;
    for (ky = 0, t = 0; ky < f_h; ++ky) {
        const int8_t *row = rows[ky];
        for (kx = 0; kx < f_w; ++kx, ++t) {
            const int32_t ix = x0 + p->dilation_w * kx;
            x[t] =
                (row == NULL || (!x_in && (ix < 0 || ix >= in_w))) ? padv : row + (size_t)ix * in_c;
        }
    }
    kr->dw(taps, x, f, fstride, n, acc);
}

#if EL_OPT_DW_ROWBUF > 0
/* 16-byte copies (inlined) for a pixel's channels in a padded row */
static void copy_pixel(int8_t *dst, const int8_t *src, int32_t n)
{
    int32_t i = 0;
    for (; i + 16 <= n; i += 16) {
        memcpy(dst + i, src + i, 16);
    }
    copy_bytes(dst + i, src + i, n - i);
}
#endif

/* Whether the fused 3x3 depthwise kernel can take n channels per pass: one output pixel's
 * input window (three taps of n bytes per row) fits a row copy. */
static int dw_rows_fit(const el_conv_params *p, int32_t n)
{
    return EL_OPT_DW_ROWBUF > 0 &&
           (size_t)(2 * p->dilation_w + 1) * (size_t)n <= EL_OPT_DW_ROWBUF &&
           (size_t)(2 * p->dilation_h + 1) * (size_t)n <= EL_OPT_DW_ROWBUF;
}

#if EL_OPT_DW_ROWBUF > 0
/* A small map whole (stop 39): when the image, padded, fits buf (pw x ph pixels of n bytes),
 * one copy with the padding filled in and one kernel call per output row. Most pixels of a
 * small map lie on its border (a 3x3 map: 8 of 9), and dw_seg / dw_col copy and pad the
 * input of each border segment and column on their own, one kernel call each: MobileNetV2's
 * 6x6 and 3x3 int8 depthwise layers spent more in those copies and calls than in the kernel.
 * The kernel sees the same bytes (the zero point in the padding), so the output is the same. */
static void dw_padded(const el_opt_kernels *kr, const el_conv_params *p, const el_dims *in_dims,
                      const int8_t *img, const int8_t *filter, const el_dims *out_dims,
                      int8_t *bout, int32_t n, int32_t zp, const el_opt_rq *rq, int32_t pw,
                      int32_t ph, int8_t *buf)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c, oc = out_dims->c;
    const size_t row = (size_t)pw * (size_t)n;
    /* padded columns [a, z) hold input columns 0.. (pw covers the last output's taps; the
     * input may extend past them) */
    const int32_t a = p->pad_w < pw ? p->pad_w : pw;
    const int32_t z = a + in_w < pw ? a + in_w : pw;
    int32_t r, x, y;
    for (r = 0; r < ph; ++r) {
        const int32_t iy = r - p->pad_h;
        int8_t *dst = buf + (size_t)r * row;
        if (iy < 0 || iy >= in_h) {
            memset(dst, zp, row);
            continue;
        }
        memset(dst, zp, (size_t)a * (size_t)n);
        if (n == c) {
            memcpy(dst + (size_t)a * n, img + (size_t)iy * in_w * c, (size_t)(z - a) * n);
        } else {
            for (x = a; x < z; ++x) {
                copy_pixel(dst + (size_t)x * n, img + ((size_t)iy * in_w + (x - a)) * c, n);
            }
        }
        memset(dst + (size_t)z * n, zp, (size_t)(pw - z) * n);
    }
    for (y = 0; y < out_dims->h; ++y) {
        const int8_t *rows[3];
        const size_t top = (size_t)y * p->stride_h;
        rows[0] = buf + top * row;
        rows[1] = buf + (top + (size_t)p->dilation_h) * row;
        rows[2] = buf + (top + 2 * (size_t)p->dilation_h) * row;
        kr->dw_rq(rows, n * p->dilation_w, n * p->stride_w, out_dims->w, filter, oc, n, rq,
                  bout + (size_t)y * out_dims->w * oc, oc);
    }
}

/* Output pixels [e0, e1) of output row oy (e1 - e0 within what fits a row copy) from copies of
 * the input they read, the padding filled in with the zero point: n bytes per pixel. */
static void dw_seg(const el_opt_kernels *kr, const el_conv_params *p, const el_dims *in_dims,
                   const int8_t *img, const int8_t *filter, int32_t oc, int32_t n, int32_t zp,
                   const el_opt_rq *rq, int32_t oy, int32_t e0, int32_t e1, int8_t *buf,
                   int8_t *orow)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c;
    const int32_t x0 = e0 * p->stride_w - p->pad_w;
    const int32_t w = (e1 - e0 - 1) * p->stride_w + 2 * p->dilation_w + 1;
    /* the input columns of the copy: [a, z) inside, the rest padding */
    const int32_t a = x0 < 0 ? 0 : x0, z = x0 + w < in_w ? x0 + w : in_w;
    const int8_t *rows[3];
    int32_t ky, x;
    for (ky = 0; ky < 3; ++ky) {
        const int32_t iy = oy * p->stride_h - p->pad_h + ky * p->dilation_h;
        int8_t *dst = buf + (size_t)ky * EL_OPT_DW_ROWBUF;
        rows[ky] = dst;
        if (iy < 0 || iy >= in_h || a >= z) {
            memset(dst, zp, (size_t)w * n);
            continue;
        }
        memset(dst, zp, (size_t)(a - x0) * n);
        if (n == c) { /* every channel: the pixels are one run */
            memcpy(dst + (size_t)(a - x0) * n, img + ((size_t)iy * in_w + a) * c,
                   (size_t)(z - a) * n);
        } else {
            for (x = a; x < z; ++x) {
                copy_pixel(dst + (size_t)(x - x0) * n, img + ((size_t)iy * in_w + x) * c, n);
            }
        }
        memset(dst + (size_t)(z - x0) * n, zp, (size_t)(x0 + w - z) * n);
    }
    kr->dw_rq(rows, n * p->dilation_w, n * p->stride_w, e1 - e0, filter, oc, n, rq,
              orow + (size_t)e0 * oc, oc);
}

/* Output column ox of rows [r0, r1) (every tap row inside the input; as many rows as fit) in
 * one call: buf holds, per input row they read, the three tap pixels of that column (3n bytes,
 * the padding filled in; up to EL_OPT_DW_ROWBUF / n rows), so the kernel steps stride_h such
 * entries from one output row to the next and writes its pixels a whole output row apart. */
static void dw_col(const el_opt_kernels *kr, const el_conv_params *p, const el_dims *in_dims,
                   const int8_t *img, const int8_t *filter, int32_t oc, int32_t ow, int32_t n,
                   int32_t zp, const el_opt_rq *rq, int32_t ox, int32_t r0, int32_t r1, int8_t *buf,
                   int8_t *out)
{
    const int32_t in_w = in_dims->w, c = in_dims->c, dy = p->dilation_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w, iy0 = r0 * p->stride_h - p->pad_h;
    const int32_t nrows = (r1 - r0 - 1) * p->stride_h + 2 * dy + 1;
    const size_t e = 3 * (size_t)n; /* bytes per input row */
    const int8_t *rows[3];
    int32_t r, kx;
    for (r = 0; r < nrows; ++r) {
        const int8_t *src = img + (size_t)(iy0 + r) * in_w * c;
        int8_t *dst = buf + (size_t)r * e;
        for (kx = 0; kx < 3; ++kx, dst += n) {
            const int32_t ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= in_w) {
                memset(dst, zp, (size_t)n);
            } else if (n == c) {
                memcpy(dst, src + (size_t)ix * c, (size_t)n);
            } else {
                copy_pixel(dst, src + (size_t)ix * c, n);
            }
        }
    }
    rows[0] = buf;
    rows[1] = buf + (size_t)dy * e;
    rows[2] = buf + 2 * (size_t)dy * e;
    kr->dw_rq(rows, n, (int32_t)e * p->stride_h, r1 - r0, filter, oc, n, rq,
              out + ((size_t)r0 * ow + ox) * oc, ow * oc);
}
#endif

/* A 3x3 depthwise layer's channels [c0, c0 + n) through the fused kernel (dw_rq). Pixels
 * whose taps all lie inside the input read it in place, a call per output row; the others
 * (the edges of a SAME layer or of a folded PAD) read copies with the padding filled in: the
 * first and last rows a call per row, the first and last columns a call per column. in,
 * filter and out start at channel c0. Returns 0, having written nothing, when the kernel
 * declines. */
static int dw_rows_rq(const el_opt_kernels *kr, const el_conv_params *p, const el_dims *in_dims,
                      const int8_t *in, const int8_t *filter, const el_dims *out_dims, int8_t *out,
                      int32_t n, int32_t zp, const el_opt_rq *rq)
{
#if EL_OPT_DW_ROWBUF > 0
    const int32_t in_h = in_dims->h, in_w = in_dims->w, c = in_dims->c, oc = out_dims->c;
    const int32_t out_h = out_dims->h, out_w = out_dims->w;
    const int32_t sx = p->stride_w, sy = p->stride_h, dx = p->dilation_w, dy = p->dilation_h;
    /* pixels of a row segment, rows of a column, that fit a copy */
    const int32_t seg = ((EL_OPT_DW_ROWBUF / n) - 2 * dx - 1) / sx + 1;
    const int32_t col = ((EL_OPT_DW_ROWBUF / n) - 2 * dy - 1) / sy + 1;
    /* output columns [xa, xb) and rows [ya, yb) have every tap inside */
    const int32_t lx = in_w - 1 - 2 * dx + p->pad_w, ly = in_h - 1 - 2 * dy + p->pad_h;
    int32_t xb = lx < 0 ? 0 : lx / sx + 1, yb = ly < 0 ? 0 : ly / sy + 1;
    int32_t xa = (p->pad_w + sx - 1) / sx, ya = (p->pad_h + sy - 1) / sy;
    int8_t buf[3 * EL_OPT_DW_ROWBUF];
    int32_t b, y, x, e;
    if (!dw_rows_fit(p, n) || !kr->dw_rq_ok(filter, oc, n, rq)) {
        return 0;
    }
    xb = xb < out_w ? xb : out_w;
    xa = xa < xb ? xa : xb;
    yb = yb < out_h ? yb : out_h;
    ya = ya < yb ? ya : yb;
    for (b = 0; b < in_dims->n; ++b) {
        const int8_t *img = in + (size_t)b * in_h * in_w * c;
        int8_t *bout = out + (size_t)b * out_h * out_w * oc;
        /* the padded image's pixels: up to the last output's last tap */
        const int32_t pw = (out_w - 1) * sx + 2 * dx + 1, ph = (out_h - 1) * sy + 2 * dy + 1;
        if ((xa > 0 || xb < out_w || ya > 0 || yb < out_h) &&
            (size_t)pw * (size_t)ph * (size_t)n <= sizeof buf) {
            dw_padded(kr, p, in_dims, img, filter, out_dims, bout, n, zp, rq, pw, ph, buf);
            continue;
        }
        for (y = 0; y < out_h; ++y) {
            int8_t *orow = bout + (size_t)y * out_w * oc;
            if (y >= ya && y < yb) {
                if (xa < xb) {
                    const int32_t x0 = xa * sx - p->pad_w, y0 = y * sy - p->pad_h;
                    const int8_t *rows[3];
                    rows[0] = img + ((size_t)y0 * in_w + x0) * c;
                    rows[1] = img + ((size_t)(y0 + dy) * in_w + x0) * c;
                    rows[2] = img + ((size_t)(y0 + 2 * dy) * in_w + x0) * c;
                    kr->dw_rq(rows, c * dx, c * sx, xb - xa, filter, oc, n, rq,
                              orow + (size_t)xa * oc, oc);
                }
                continue;
            }
            for (e = 0; e < out_w; e += seg) {
                dw_seg(kr, p, in_dims, img, filter, oc, n, zp, rq, y, e,
                       e + seg < out_w ? e + seg : out_w, buf, orow);
            }
        }
        for (x = 0; x < out_w; ++x) {
            if (x == xa && xa < xb) {
                x = xb - 1;
                continue;
            }
            for (e = ya; e < yb; e += col) {
                dw_col(kr, p, in_dims, img, filter, oc, out_w, n, zp, rq, x, e,
                       e + col < yb ? e + col : yb, buf, bout);
            }
        }
    }
    return 1;
#else
    (void)kr, (void)p, (void)in_dims, (void)in, (void)filter, (void)out_dims, (void)out, (void)n;
    (void)zp, (void)rq;
    return 0;
#endif
}

/* be[c] = bias + input_offset * sum of channel c0 + c's taps, for c < n (modulo 2^32). */
static void dw_fold(const el_opt_kernels *kr, int32_t taps, const int8_t *filter, int32_t out_c,
                    int32_t c0, int32_t n, const int32_t *bias, int32_t off, int32_t *be)
{
    int32_t c, t;
    if (kr->dw_sums != NULL) {
        kr->dw_sums(taps, filter + c0, out_c, n, bias ? bias + c0 : NULL, off, be);
        return;
    }
    for (c = 0; c < n; ++c) {
        int32_t s = 0;
        for (t = 0; t < taps; ++t) {
            s += filter[(size_t)t * out_c + c0 + c];
        }
        be[c] = fold_offset(bias, c0 + c, off, s);
    }
}

int el_opt_depthwise_conv2d_s8_cols(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                                    const el_dims *in_dims, const int8_t *in, const el_dims *f_dims,
                                    const int8_t *filter, const int32_t *bias,
                                    const el_dims *out_dims, int8_t *out, int32_t w0, int32_t w1)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w, taps = f_h * f_w;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    const int32_t zp = -p->input_offset;
    const el_opt_kernels *kr;
    int8_t padv[EL_OPT_DW_C];
    int32_t acc[EL_OPT_DW_MB * EL_OPT_DW_C], be[EL_OPT_DW_CMAX];
    int32_t toff[EL_OPT_DW_TAPS]; /* tap offsets from a pixel's top-left tap, for dw_run */
    int32_t c0, ox_end;
    el_opt_rq rq;
#if EL_OPT_DW_STATE > 0
    unsigned char dw_state[EL_OPT_DW_STATE];
#endif
    if (!(isa & EL_OPT_ON) || p->depth_multiplier != 1 || in_c != out_c || taps > EL_OPT_DW_TAPS ||
        zp < -128 || zp > 127 ||
        !(EL_RQ_CHECKED(p) ||
          multipliers_ok(q->multiplier + EL_WINDOW_FIRST(w0, w1),
                         q->shift + EL_WINDOW_FIRST(w0, w1), EL_WINDOW_COUNT(w0, w1, out_c)))) {
        return 0;
    }
    if (w0 >= w1) {
        return 1;
    }
    kr = el_opt_kernels_for(isa);
    memset(padv, zp, sizeof padv);
    {
        /* pixels from ox_end on have a tap past the right edge */
        const int32_t last = in_w - 1 - (f_w - 1) * p->dilation_w + p->pad_w;
        int32_t ky, kx, t;
        ox_end = last < 0 ? 0 : last / p->stride_w + 1;
        ox_end = ox_end < out_w ? ox_end : out_w;
        for (ky = 0, t = 0; ky < f_h; ++ky) {
            for (kx = 0; kx < f_w; ++kx, ++t) {
                toff[t] =
                    (int32_t)(((size_t)ky * p->dilation_h * in_w + (size_t)kx * p->dilation_w) *
                              in_c);
            }
        }
    }
    rq.out_offset = p->output_offset;
    rq.act_min = p->act_min;
    rq.act_max = p->act_max;
    rq.a_padded = 0;
#if EL_OPT_HOSTED
    rq.colsum = NULL;
    rq.packed = NULL;
    rq.dw_state = NULL;
    rq.dw_state_bytes = 0;
#endif
#if EL_OPT_DW_STATE > 0
    if (kr->dw_rq != NULL && f_h == 3 && f_w == 3) {
        memset(dw_state, 0, 64);
        rq.dw_state = dw_state;
        rq.dw_state_bytes = sizeof dw_state;
    }
#endif
    if (kr->dw_rq != NULL && f_h == 3 && f_w == 3 && w1 - w0 > EL_OPT_DW_C &&
        w1 - w0 <= EL_OPT_DW_CMAX && dw_rows_fit(p, w1 - w0)) {
        /* every channel of the window in one pass of the fused kernel */
        dw_fold(kr, taps, filter, out_c, w0, w1 - w0, bias, p->input_offset, be);
        rq.bias = be;
        rq.mult = q->multiplier + w0;
        rq.shift = q->shift + w0;
        if (dw_rows_rq(kr, p, in_dims, in + w0, filter + w0, out_dims, out + w0, w1 - w0, zp,
                       &rq)) {
            return 1;
        }
    }
    for (c0 = w0; c0 < w1; c0 += EL_OPT_DW_C) {
        const int32_t cb = w1 - c0 < EL_OPT_DW_C ? w1 - c0 : EL_OPT_DW_C;
        int32_t b, oy, ox;
        dw_fold(kr, taps, filter, out_c, c0, cb, bias, p->input_offset, be);
        rq.bias = be;
        rq.mult = q->multiplier + c0;
        rq.shift = q->shift + c0;
        if (kr->dw_rq != NULL && f_h == 3 && f_w == 3 &&
            dw_rows_rq(kr, p, in_dims, in + c0, filter + c0, out_dims, out + c0, cb, zp, &rq)) {
            continue;
        }
        for (b = 0; b < in_dims->n; ++b) {
            const int8_t *img = in + (size_t)b * in_h * in_w * in_c + c0;
            for (oy = 0; oy < out_h; ++oy) {
                const int32_t y0 = oy * p->stride_h - p->pad_h;
                int8_t *orow = out + ((size_t)b * out_h + oy) * out_w * out_c + c0;
                const int8_t *rows[EL_OPT_DW_TAPS]; /* per ky: the input row, NULL if padding */
                int32_t ox0 = 0, ky;
                for (ky = 0; ky < f_h; ++ky) {
                    const int32_t iy = y0 + p->dilation_h * ky;
                    rows[ky] = (iy < 0 || iy >= in_h) ? NULL : img + (size_t)iy * in_w * in_c;
                }
                for (ky = 0; ky < f_h && rows[ky] != NULL; ++ky) {
                }
                for (ox = 0; ox < out_w; ++ox) {
                    const int32_t x0 = ox * p->stride_w - p->pad_w;
                    const int x_in = x0 >= 0 && x0 + (f_w - 1) * p->dilation_w < in_w;
                    if (kr->dw_run != NULL && x_in && ky == f_h) {
                        /* a run of interior pixels in one call, up to the interior's end or
                         * the end of the accumulator tile */
                        const int32_t end =
                            ox_end < ox0 + EL_OPT_DW_MB ? ox_end : ox0 + EL_OPT_DW_MB;
                        kr->dw_run(taps, rows[0] + (size_t)x0 * in_c, toff, p->stride_w * in_c,
                                   end - ox, filter + c0, out_c, cb, acc + (size_t)(ox - ox0) * cb);
                        ox = end - 1;
                    } else {
                        dw_pixel(kr, p, f_h, f_w, rows, x0, x_in, in_w, in_c, padv, taps,
                                 filter + c0, out_c, cb, acc + (size_t)(ox - ox0) * cb);
                    }
                    /* a run of pixels of this row, requantized together */
                    if (ox - ox0 + 1 == EL_OPT_DW_MB || ox + 1 == out_w) {
                        kr->requant(&rq, ox - ox0 + 1, cb, acc, cb, orow + (size_t)ox0 * out_c,
                                    out_c);
                        ox0 = ox + 1;
                    }
                }
            }
        }
    }
    return 1;
}

int el_opt_fully_connected_s8(uint32_t isa, const el_fc_params *p, const el_pc_quant *q,
                              int per_channel, int32_t batches, int32_t depth, const int8_t *in,
                              int32_t units, const int8_t *filter, const int32_t *bias,
                              const el_opt_sums *sums, int8_t *out)
{
    const el_opt_kernels *kr;
    const int8_t *rows[EL_OPT_MB];
    int32_t tile[EL_OPT_MB * EL_OPT_NC];
    int32_t be[EL_OPT_NC], bs[EL_OPT_NC], mult[EL_OPT_NC], shift[EL_OPT_NC];
    int32_t n0;
    if (!(isa & EL_OPT_ON) || p->filter_offset != 0 ||
        !multipliers_ok(q->multiplier, q->shift, per_channel ? units : 1)) {
        return 0;
    }
    kr = el_opt_kernels_for(isa);
    for (n0 = 0; n0 < units; n0 += EL_OPT_NC) {
        const int32_t nc = units - n0 < EL_OPT_NC ? units - n0 : EL_OPT_NC;
        const int8_t *fb = filter + (size_t)n0 * depth;
        const int32_t *bsum = bs;
        el_opt_rq rq;
        int32_t j, b0;
        if (EL_OPT_FILTER_SUMS && sums != NULL) { /* Cortex-M: compiled out */
            rq.bias = sums->bias + n0;
            bsum = sums->sum + n0;
        } else {
            el_opt_filter_sums_s8(isa, nc, depth, fb, bias ? bias + n0 : NULL, p->input_offset, be,
                                  bs);
            rq.bias = be;
        }
        if (per_channel) {
            rq.mult = q->multiplier + n0;
            rq.shift = q->shift + n0;
        } else {
            for (j = 0; j < nc; ++j) {
                mult[j] = q->multiplier[0];
                shift[j] = q->shift[0];
            }
            rq.mult = mult;
            rq.shift = shift;
        }
        rq.out_offset = p->output_offset;
        rq.act_min = p->act_min;
        rq.act_max = p->act_max;
        rq.a_padded = 0;
#if EL_OPT_HOSTED
        rq.colsum = bsum;
        rq.packed = NULL;
        rq.dw_state = NULL;
        rq.dw_state_bytes = 0;
#endif
        for (b0 = 0; b0 < batches; b0 += EL_OPT_MB) {
            const int32_t mb = batches - b0 < EL_OPT_MB ? batches - b0 : EL_OPT_MB;
            int32_t i;
            for (i = 0; i < mb; ++i) {
                rows[i] = in + (size_t)(b0 + i) * depth;
            }
            if (kr->gemm_rq == NULL || !kr->gemm_rq(mb, nc, depth, rows, fb, depth, &rq,
                                                    out + (size_t)b0 * units + n0, units)) {
                kr->gemm(mb, nc, depth, rows, fb, depth, bsum, tile, nc);
                kr->requant(&rq, mb, nc, tile, nc, out + (size_t)b0 * units + n0, units);
            }
        }
    }
    return 1;
}

int el_opt_add_s8(uint32_t isa, int is_sub, const el_arith_params *p, const el_shape *s1,
                  const int8_t *in1, const el_shape *s2, const int8_t *in2, const el_shape *so,
                  int8_t *out)
{
    int32_t d, n = 1;
    if (!(isa & EL_OPT_ON) || s1->rank != so->rank || s2->rank != so->rank ||
        !multipliers_ok(&p->input1_multiplier, &p->input1_shift, 1) ||
        !multipliers_ok(&p->input2_multiplier, &p->input2_shift, 1) ||
        !multipliers_ok(&p->output_multiplier, &p->output_shift, 1) || p->left_shift < 0 ||
        p->left_shift > 31) {
        return 0;
    }
    for (d = 0; d < so->rank; ++d) {
        if (s1->d[d] != so->d[d] || s2->d[d] != so->d[d]) {
            return 0; /* broadcasting: the reference */
        }
        n *= so->d[d];
    }
    el_opt_kernels_for(isa)->add(p, is_sub, n, in1, in2, out);
    return 1;
}
