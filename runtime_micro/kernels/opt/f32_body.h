/* Body of the float32 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED kernels (a template: no
 * include guard), included once per instruction set by x86_avx2.c and arm_neon.c with
 *   F_ATTR            function attribute (target) or empty,   F_FN(x)  function names (the
 *                     file's public el_opt_conv2d_f32_<isa>, el_opt_depthwise_f32_<isa>,
 *                     el_opt_fc_f32_<isa> of el_opt.h, and its static helpers),
 *   F_V, F_L          vector type and lanes,
 *   F_ZERO, F_LOAD(p), F_STORE(p, v), F_BCAST(x), F_FMA(acc, a, b) (acc + a * b, one rounding),
 *   F_CLAMP(v, lo, hi)  x < lo ? lo : (x > hi ? hi : x) lane by lane (NaN passes through),
 *   F_GTSEL(v, m)     v > m ? v : m lane by lane (an ordered compare: a NaN v keeps m),
 *   F_LTSEL(a, b)     a < b ? a : b lane by lane (ordered),
 *   F_MR              rows of the GEMM register tile, whose columns are F_NP = 2 * F_L,
 *   F_FN(ftile)       the register tile (see EL_F32_FIRST in opt_internal.h), defined before,
 *   optionally F_FTILE_PANELS(k, a, b, ldb, np, init, flags, lo, hi, c, ldc, mr): np whole
 *                     panels (ldb floats apart) of the same rows in one call,
 *   F_FN(fdot8)(k, x, w, ldw, nu, sums)  sums[j] = dot(x, w + j * ldw) over k for j < nu (<= 8),
 *                     lanes across k, the same sequence for every j and nu, defined before,
 *   optionally F_PACK_FULL(w, ldw, ks, panel) packing F_NP whole rows (a faster transpose),
 *   optionally F_PACKED_BLOCK: panels a block of prepacked panels holds at least (1: as many as
 *                     the per-call buffer would; the register tile then meets that many),
 *   optionally F_GEMM_ONLY: CONV_2D alone (its packing, GEMM and small-patch conv), no
 *                     FULLY_CONNECTED, DEPTHWISE_CONV_2D or MAX_POOL_2D (nor fdot8, F_GTSEL,
 *                     F_LTSEL),
 *   optionally F_DW_ONLY: DEPTHWISE_CONV_2D alone (no F_MR, ftile, fdot8, F_GTSEL, F_LTSEL),
 *   optionally F_DW_QUAD: 3x3 rows 4 pixels (stride 1) or 2 (stride 2) at a time sharing their
 *                     column loads (nine filter vectors, four sums and six columns: 32
 *                     registers).
 *
 * CONV_2D is a GEMM: C (pixels x out channels) = A (pixels x k) * W^T, W the OHWI filter
 * (out channels x k). A's rows are the input pixels themselves for an unpadded 1x1 conv, else
 * patches copied (im2col) to the stack with zeros for padded taps. W comes in panels of F_NP
 * channels x k, packed once at prepare (F_FN(el_opt_conv2d_f32_pack), into the op data: every
 * invoke and every thread's band reads the same panels) or, for a filter not packed, per call. FULLY_CONNECTED is dot products along k (fdot8), DEPTHWISE
 * vectors across channels.
 *
 * Results are within rounding of the reference, not its bits: every conv / depthwise output is
 * acc = bias (or 0); acc = fma(x, w, acc) over its taps in the reference's order; clamp (a
 * FULLY_CONNECTED output: lane sums, their fixed-order sum, + bias, clamp).
 * That sequence is the same wherever the output falls in a tile, a panel, a thread's band or a
 * k segment (partial sums wait in the output), so 1, 2 or 4 threads give identical bytes. */

#define F_NP (2 * F_L)
#if !defined(F_PACKED_BLOCK)
#define F_PACKED_BLOCK 1
#endif
#define F_KC 1024           /* k per segment: one 64 KB panel at most (AVX2) */
#define F_PANEL (F_KC * 16) /* floats of packed filter on the stack: 64 KB */

#if !defined(F_DW_ONLY) /* CONV_2D (absent from a depthwise-only instance) */
/* panel[kk * F_NP + j] = w[(n0 + j) * ldw + k0 + kk]; zero for channels past n. */
F_ATTR static void F_FN(pack)(const float *w, int32_t ldw, int32_t n0, int32_t n, int32_t k0,
                              int32_t ks, float *panel)
{
    int32_t j, kk;
#if defined(F_PACK_FULL)
    if (n0 + F_NP <= n && ldw <= 0x7FFFFFF / F_NP) { /* a whole panel: the ISA's transpose */
        F_PACK_FULL(w + (size_t)n0 * ldw + k0, ldw, ks, panel);
        return;
    }
#endif
    for (j = 0; j < F_NP; ++j) {
        const float *src = w + (size_t)(n0 + j) * ldw + k0;
        for (kk = 0; kk < ks; ++kk) {
            panel[(size_t)kk * F_NP + j] = n0 + j < n ? src[kk] : 0.0f;
        }
    }
}

/* Where the GEMM's A rows come from: p == NULL, row i is base + i * ld; else the conv's
 * output pixel i, read in place (direct: unpadded 1x1) or copied by im2col. */
typedef struct {
    const el_conv_params *p; /* NULL: rows are base + i * ld (FULLY_CONNECTED) */
    const el_dims *in_dims, *f_dims, *out_dims;
    const float *base;
    int32_t ld, direct; /* conv: 1 for an unpadded 1x1 conv (rows read in place) */
} F_FN(a_src);

F_ATTR static inline void F_FN(copyf)(float *dst, const float *src, int32_t len)
{
    int32_t i = 0;
    for (; i + F_L <= len; i += F_L) {
        F_STORE(dst + i, F_LOAD(src + i));
    }
    for (; i < len; ++i) {
        dst[i] = src[i];
    }
}

/* Patch elements [k0, k0 + ks) of output pixel (oy, ox) of image img, zeros for padded taps.
 * A whole patch (one k segment) goes filter row by filter row: one copy per row when its taps
 * are adjacent (dilation 1) and all inside the image. */
F_ATTR static void F_FN(im2col)(const F_FN(a_src) * s, const float *img, int32_t oy, int32_t ox,
                                int32_t k0, int32_t ks, float *row)
{
    const el_conv_params *p = s->p;
    const int32_t in_h = s->in_dims->h, in_w = s->in_dims->w, in_c = s->in_dims->c;
    const int32_t f_h = s->f_dims->h, f_w = s->f_dims->w;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    int32_t t = k0;
    if (k0 == 0 && ks == f_h * f_w * in_c && p->dilation_w == 1 && x0 >= 0 && x0 + f_w <= in_w) {
        const int32_t run = f_w * in_c;
        int32_t ky;
        if (run >= F_L && run <= 2 * F_L && y0 >= 0 && y0 + (f_h - 1) * p->dilation_h < in_h) {
            /* rows of one to two vectors (3x3 RGB stems: 9 floats), every row inside: two
             * vector copies per row, the second ending at the run's end (overlapping the
             * first), no loop per element */
            const float *src = img + ((size_t)y0 * in_w + x0) * in_c;
            const size_t step = (size_t)p->dilation_h * in_w * in_c;
            for (ky = 0; ky < f_h; ++ky, row += run, src += step) {
                F_STORE(row, F_LOAD(src));
                F_STORE(row + run - F_L, F_LOAD(src + run - F_L));
            }
            return;
        }
        for (ky = 0; ky < f_h; ++ky, row += run) {
            const int32_t iy = y0 + ky * p->dilation_h;
            if (iy < 0 || iy >= in_h) {
                memset(row, 0, (size_t)run * sizeof(float));
            } else {
                F_FN(copyf)(row, img + ((size_t)iy * in_w + x0) * in_c, run);
            }
        }
        return;
    }
    while (t < k0 + ks) {
        const int32_t tap = t / in_c, ic = t % in_c;
        const int32_t iy = y0 + tap / f_w * p->dilation_h, ix = x0 + tap % f_w * p->dilation_w;
        const int32_t len = in_c - ic < k0 + ks - t ? in_c - ic : k0 + ks - t;
        float *dst = row + (t - k0);
        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
            memset(dst, 0, (size_t)len * sizeof(float));
        } else {
            F_FN(copyf)(dst, img + ((size_t)iy * in_w + ix) * in_c + ic, len);
        }
        t += len;
    }
}

/* Columns c0 <= j < c1 (c0 a multiple of F_NP) of C (m x n, ldc = n) of `batches` images =
 * A * W^T + bias, clamped to [lo, hi]. W's panels come from `packed` (F_FN(pack_all)'s layout,
 * made once at prepare) or, when it is NULL, are packed here per call into a stack buffer. */
F_ATTR static void F_FN(gemm)(const F_FN(a_src) * s, int32_t batches, int32_t m, int32_t n,
                              int32_t k, const float *w, const float *packed, const float *bias,
                              float lo, float hi, float *out, int32_t c0, int32_t c1)
{
    const int32_t npad = (n + F_NP - 1) / F_NP * F_NP;
    float panel[F_PANEL];
    float rows[F_MR * F_KC];
    float binit[F_NP];
    int32_t k0, nb0, b, m0, i, n0;
    for (k0 = 0; k0 < k; k0 += F_KC) {
        const int32_t ks = k - k0 < F_KC ? k - k0 : F_KC;
        const int32_t flags = (k0 == 0 ? EL_F32_FIRST : 0) | (k0 + ks >= k ? EL_F32_LAST : 0);
        /* as many panels as fit the buffer: each A tile then meets all of them (panels
         * packed at prepare: at least F_PACKED_BLOCK, so a tile of that many panels runs) */
        const int32_t fit = F_PANEL / (ks * F_NP) * F_NP;
        const int32_t block = packed && fit < F_PACKED_BLOCK * F_NP ? F_PACKED_BLOCK * F_NP : fit;
        for (nb0 = c0; nb0 < c1; nb0 += block) {
            const int32_t nb = c1 - nb0 < block ? c1 - nb0 : block;
            const float *pan = packed ? packed + (size_t)k0 * npad + (size_t)nb0 * ks : panel;
            for (n0 = 0; !packed && n0 < nb; n0 += F_NP) {
                F_FN(pack)(w, k, nb0 + n0, n, k0, ks, panel + (size_t)n0 * ks);
            }
            for (b = 0; b < batches; ++b) {
                const float *img =
                    s->p ? s->base + (size_t)b * s->in_dims->h * s->in_dims->w * s->in_dims->c
                         : s->base;
                float *cb = out + (size_t)b * m * n;
                for (m0 = 0; m0 < m; m0 += F_MR) {
                    const int32_t mr = m - m0 < F_MR ? m - m0 : F_MR;
                    const float *a[F_MR];
                    /* the tile's first output pixel; the next ones step along the row */
                    const int32_t ow = s->p ? s->out_dims->w : 1;
                    int32_t oy = m0 / ow, ox = m0 % ow;
                    for (i = 0; i < mr; ++i) {
                        if (!s->p) {
                            a[i] = img + (size_t)(m0 + i) * s->ld + k0;
                        } else if (s->direct) {
                            a[i] = img +
                                   ((size_t)oy * s->p->stride_h * s->in_dims->w +
                                    (size_t)ox * s->p->stride_w) *
                                       s->in_dims->c +
                                   k0;
                        } else {
                            F_FN(im2col)(s, img, oy, ox, k0, ks, rows + (size_t)i * ks);
                            a[i] = rows + (size_t)i * ks;
                        }
                        if (++ox == ow) {
                            ox = 0;
                            ++oy;
                        }
                    }
                    for (; i < F_MR; ++i) { /* a short tile repeats its last row */
                        a[i] = a[mr - 1];
                    }
                    n0 = 0;
#if defined(F_FTILE_PANELS)
                    if (nb >= F_NP) { /* the whole panels in one call */
                        F_FTILE_PANELS(ks, a, pan, (size_t)ks * F_NP, nb / F_NP,
                                       bias && (flags & EL_F32_FIRST) ? bias + nb0 : NULL, flags,
                                       lo, hi, cb + (size_t)m0 * n + nb0, n, mr);
                        n0 = nb / F_NP * F_NP;
                    }
#endif
                    for (; n0 < nb; n0 += F_NP) {
                        const int32_t nr = nb - n0 < F_NP ? nb - n0 : F_NP;
                        const float *init = NULL;
                        if (bias && (flags & EL_F32_FIRST)) {
                            init = bias + nb0 + n0;
                            if (nr < F_NP) {
                                memset(binit, 0, sizeof binit);
                                memcpy(binit, init, (size_t)nr * sizeof(float));
                                init = binit;
                            }
                        }
                        F_FN(ftile)(ks, a, pan + (size_t)n0 * ks, init, flags, lo, hi,
                                    cb + (size_t)m0 * n + nb0 + n0, n, mr, nr);
                    }
                }
            }
        }
    }
}

/* Small patches (k = f_h * f_w * in_c <= F_SMALLK: grayscale and RGB stems) skip im2col and
 * the GEMM tile, whose k loop would be a few steps over half-empty columns (the digits CNN's
 * 1 -> 8 channel 3x3 stem took 20 us for 56 K MACs on AVX2). Per output pixel the output
 * channels go in vectors over a transposed copy of the filter (k x n, zero lanes past n):
 * acc = bias; acc = fma(x, w_tap, acc) over the taps inside the image in the reference's
 * order (a padded tap adds x * w = 0 there); clamp. F_SP pixels of a row at a time when all
 * their taps are inside, so their chains overlap. Same sequence per output as the GEMM. */
#if defined(F_SMALL_CONV)
#define F_SMALLK 27
#define F_SMALLN 128
#define F_SP 8
/* The first min(left, F_L) lanes of v to o. */
F_ATTR static inline void F_FN(store_upto)(float *o, F_V v, int32_t left)
{
    if (left >= F_L) {
        F_STORE(o, v);
    } else {
        float tmp[F_L];
        F_STORE(tmp, v);
        memcpy(o, tmp, (size_t)left * sizeof(float));
    }
}

F_ATTR static void F_FN(small_pixel)(const el_conv_params *p, const el_dims *in_dims,
                                     const float *img, const el_dims *f_dims, const float *wt,
                                     int32_t npad, const float *bz, int32_t oy, int32_t ox,
                                     float lo, float hi, float *o, int32_t n)
{
    const int32_t in_c = in_dims->c;
    const int32_t y0 = oy * p->stride_h - p->pad_h, x0 = ox * p->stride_w - p->pad_w;
    int32_t c;
    for (c = 0; c < npad; c += F_L) {
        F_V acc = F_LOAD(bz + c);
        int32_t ky, kx, ic, t = 0;
        for (ky = 0; ky < f_dims->h; ++ky) {
            const int32_t iy = y0 + ky * p->dilation_h;
            for (kx = 0; kx < f_dims->w; ++kx) {
                const int32_t ix = x0 + kx * p->dilation_w;
                if (iy < 0 || iy >= in_dims->h || ix < 0 || ix >= in_dims->w) {
                    t += in_c;
                    continue;
                }
                for (ic = 0; ic < in_c; ++ic, ++t) {
                    const float x = img[((size_t)iy * in_dims->w + ix) * in_c + ic];
                    acc = F_FMA(acc, F_BCAST(x), F_LOAD(wt + (size_t)t * npad + c));
                }
            }
        }
        F_FN(store_upto)(o + c, F_CLAMP(acc, F_BCAST(lo), F_BCAST(hi)), n - c);
    }
}

/* wt[t * npad + j] = filter[j * k + t], zeros for j >= n (npad: n rounded up to F_L). */
F_ATTR static void F_FN(small_pack)(int32_t k, int32_t n, const float *filter, float *wt)
{
    const int32_t npad = (n + F_L - 1) / F_L * F_L;
    int32_t t, j;
    for (t = 0; t < k; ++t) {
        for (j = 0; j < npad; ++j) {
            wt[(size_t)t * npad + j] = j < n ? filter[(size_t)j * k + t] : 0.0f;
        }
    }
}

/* One channel in: the image copied once into a zero-bordered buffer (F_SMALLIMG floats), so
 * every output pixel takes the F_SP-pixel path; a row's last group overlaps the one before
 * (its outputs computed twice, the same sequence). A padded tap adds fma(0, w), as the GEMM's
 * zero im2col entries do. 0: does not fit (the caller's per-pixel bounds checks then). */
#define F_SMALLIMG 16384
F_ATTR static int F_FN(small_padded)(const el_conv_params *p, const el_dims *in_dims,
                                     const float *in, const el_dims *f_dims, const float *wt,
                                     int32_t npad, const float *bz, const el_dims *out_dims,
                                     float *out)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, n = out_dims->c;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, sw = p->stride_w;
    const int32_t span_h = (out_h - 1) * p->stride_h + (f_dims->h - 1) * p->dilation_h + 1;
    const int32_t span_w = (out_w - 1) * sw + (f_dims->w - 1) * p->dilation_w + 1;
    const int32_t ph = span_h > p->pad_h + in_h ? span_h : p->pad_h + in_h;
    const int32_t pw = span_w > p->pad_w + in_w ? span_w : p->pad_w + in_w;
    const F_V lo = F_BCAST(p->act_min_f), hi = F_BCAST(p->act_max_f);
    float img[F_SMALLIMG];
    int32_t b, y, oy, ox, c;
    if (in_dims->c != 1 || out_w < F_SP || (int64_t)ph * pw > F_SMALLIMG) {
        return 0;
    }
    memset(img, 0, (size_t)ph * pw * sizeof(float));
    for (b = 0; b < in_dims->n; ++b) {
        for (y = 0; y < in_h; ++y) {
            memcpy(img + (size_t)(y + p->pad_h) * pw + p->pad_w, in + ((size_t)b * in_h + y) * in_w,
                   (size_t)in_w * sizeof(float));
        }
        for (oy = 0; oy < out_h; ++oy) {
            float *orow = out + (((size_t)b * out_h + oy) * out_w) * n;
            for (ox = 0; ox < out_w; ox += F_SP) {
                const int32_t x0 = ox + F_SP <= out_w ? ox : out_w - F_SP;
                const float *base = img + (size_t)oy * p->stride_h * pw + (size_t)x0 * sw;
                for (c = 0; c < npad; c += F_L) {
                    F_V acc[F_SP];
                    int32_t q, ky, kx, t = 0;
#pragma GCC unroll 8
                    for (q = 0; q < F_SP; ++q) {
                        acc[q] = F_LOAD(bz + c);
                    }
                    for (ky = 0; ky < f_dims->h; ++ky) {
                        const float *r = base + (size_t)ky * p->dilation_h * pw;
                        for (kx = 0; kx < f_dims->w; ++kx, ++t) {
                            const float *px = r + (size_t)kx * p->dilation_w;
                            const F_V w = F_LOAD(wt + (size_t)t * npad + c);
#pragma GCC unroll 8
                            for (q = 0; q < F_SP; ++q) {
                                acc[q] = F_FMA(acc[q], F_BCAST(px[(size_t)q * sw]), w);
                            }
                        }
                    }
#pragma GCC unroll 8
                    for (q = 0; q < F_SP; ++q) {
                        F_FN(store_upto)(orow + (size_t)(x0 + q) * n + c, F_CLAMP(acc[q], lo, hi),
                                         n - c);
                    }
                }
            }
        }
    }
    return 1;
}

F_ATTR static int F_FN(conv_small)(const el_conv_params *p, const el_dims *in_dims, const float *in,
                                   const el_dims *f_dims, const float *filter, const float *packed,
                                   const float *bias, const el_dims *out_dims, float *out)
{
    const int32_t k = f_dims->h * f_dims->w * in_dims->c, n = out_dims->c, in_c = in_dims->c;
    const int32_t npad = (n + F_L - 1) / F_L * F_L;
    const float lo = p->act_min_f, hi = p->act_max_f;
    float wbuf[F_SMALLK * F_SMALLN];
    const float *wt = packed ? packed : wbuf;
    float bz[F_SMALLN];
    int32_t b, oy, ox, j, t, c;
    if (!packed) {
        F_FN(small_pack)(k, n, filter, wbuf);
    }
    for (j = 0; j < npad; ++j) {
        bz[j] = bias && j < n ? bias[j] : 0.0f;
    }
    if (F_FN(small_padded)(p, in_dims, in, f_dims, wt, npad, bz, out_dims, out)) {
        return 1;
    }
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_dims->h * in_dims->w * in_c;
        for (oy = 0; oy < out_dims->h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int rows_in = y0 >= 0 && y0 + (f_dims->h - 1) * p->dilation_h < in_dims->h;
            float *orow = out + (((size_t)b * out_dims->h + oy) * out_dims->w) * n;
            for (ox = 0; ox < out_dims->w;) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t xl =
                    (ox + F_SP - 1) * p->stride_w - p->pad_w + (f_dims->w - 1) * p->dilation_w;
                if (!rows_in || ox + F_SP > out_dims->w || x0 < 0 || xl >= in_dims->w) {
                    F_FN(small_pixel)(p, in_dims, img, f_dims, wt, npad, bz, oy, ox, lo, hi,
                                      orow + (size_t)ox * n, n);
                    ++ox;
                    continue;
                }
                for (c = 0; c < npad; c += F_L) {
                    F_V acc[F_SP];
                    int32_t q, ky, kx, ic;
                    t = 0;
                    for (q = 0; q < F_SP; ++q) {
                        acc[q] = F_LOAD(bz + c);
                    }
                    for (ky = 0; ky < f_dims->h; ++ky) {
                        const float *r =
                            img + (size_t)(y0 + ky * p->dilation_h) * in_dims->w * in_c;
                        for (kx = 0; kx < f_dims->w; ++kx) {
                            const float *px = r + (size_t)(x0 + kx * p->dilation_w) * in_c;
                            for (ic = 0; ic < in_c; ++ic, ++t) {
                                const F_V w = F_LOAD(wt + (size_t)t * npad + c);
                                for (q = 0; q < F_SP; ++q) {
                                    acc[q] =
                                        F_FMA(acc[q],
                                              F_BCAST(px[(size_t)q * p->stride_w * in_c + ic]), w);
                                }
                            }
                        }
                    }
                    for (q = 0; q < F_SP; ++q) {
                        float *o = orow + (size_t)(ox + q) * n;
                        F_FN(store_upto)(o + c, F_CLAMP(acc[q], F_BCAST(lo), F_BCAST(hi)), n - c);
                    }
                }
                ox += F_SP;
            }
        }
    }
    return 1;
}

#endif /* F_SMALL_CONV */

#if defined(F_SMALL_CONV)
#define F_IS_SMALL(k, in_dims, f_dims, n)                                                          \
    ((k) <= F_SMALLK && (n) <= F_SMALLN && ((in_dims)->c == 1 || (n) <= F_L) &&                    \
     (f_dims)->h * (f_dims)->w > 1)
#else
#define F_IS_SMALL(k, in_dims, f_dims, n) 0
#endif

/* Floats of the filter packed for this instruction set (F_FN(el_opt_conv2d_f32_pack)), 0 when
 * the layer is not one el_opt_conv2d_f32 takes. Depends on the shapes only, so prepare sizes
 * it once for every band a thread may get. */
F_ATTR size_t F_FN(el_opt_conv2d_f32_packed)(const el_dims *in_dims, const el_dims *f_dims)
{
    const int32_t n = f_dims->n, k = f_dims->h * f_dims->w * in_dims->c;
    if (f_dims->c != in_dims->c || k < 1 || n < 1) {
        return 0;
    }
    if (F_IS_SMALL(k, in_dims, f_dims, n)) {
        return (size_t)k * (size_t)((n + F_L - 1) / F_L * F_L);
    }
    return (size_t)k * (size_t)((n + F_NP - 1) / F_NP * F_NP);
}

/* The whole filter in the GEMM's panels: segment by segment of F_KC along k, each segment's
 * panels of F_NP channels one after another (what gemm() would pack per call), or the small
 * conv's transposed copy. */
F_ATTR void F_FN(el_opt_conv2d_f32_pack)(const el_dims *in_dims, const el_dims *f_dims,
                                         const float *filter, float *packed)
{
    const int32_t n = f_dims->n, k = f_dims->h * f_dims->w * in_dims->c;
    const int32_t npad = (n + F_NP - 1) / F_NP * F_NP;
    int32_t k0, n0;
    if (F_IS_SMALL(k, in_dims, f_dims, n)) {
#if defined(F_SMALL_CONV)
        F_FN(small_pack)(k, n, filter, packed);
#endif
        return;
    }
    for (k0 = 0; k0 < k; k0 += F_KC) {
        const int32_t ks = k - k0 < F_KC ? k - k0 : F_KC;
        for (n0 = 0; n0 < npad; n0 += F_NP) {
            F_FN(pack)(filter, k, n0, n, k0, ks, packed + (size_t)k0 * npad + (size_t)n0 * ks);
        }
    }
}

/* packed: NULL, or the filter as F_FN(el_opt_conv2d_f32_pack) packed it (same results).
 * Output channels c0 <= c < c1 only (see el_opt_conv2d_f32_cols); the small-patch path takes
 * whole layers only. */
F_ATTR int F_FN(el_opt_conv2d_f32)(const el_conv_params *p, const el_dims *in_dims, const float *in,
                                   const el_dims *f_dims, const float *filter, const float *packed,
                                   const float *bias, const el_dims *out_dims, float *out,
                                   int32_t c0, int32_t c1)
{
    const int32_t k = f_dims->h * f_dims->w * in_dims->c;
    F_FN(a_src) s;
    if (f_dims->c != in_dims->c || k < 1 || out_dims->c < 1 || c0 % F_NP != 0) {
        return 0;
    }
#if defined(F_SMALL_CONV)
    if (F_IS_SMALL(k, in_dims, f_dims, out_dims->c)) {
        if (c0 != 0 || c1 != out_dims->c) {
            return 0;
        }
        return F_FN(conv_small)(p, in_dims, in, f_dims, filter, packed, bias, out_dims, out);
    }
#endif
    s.p = p;
    s.in_dims = in_dims;
    s.f_dims = f_dims;
    s.out_dims = out_dims;
    s.base = in;
    s.ld = 0;
    s.direct = f_dims->h == 1 && f_dims->w == 1 && p->pad_h == 0 && p->pad_w == 0;
    F_FN(gemm)(&s, in_dims->n, out_dims->h * out_dims->w, out_dims->c, k, filter, packed, bias,
               p->act_min_f, p->act_max_f, out, c0, c1);
    return 1;
}

#endif /* !F_DW_ONLY */

#if !defined(F_GEMM_ONLY) /* an instance of the conv GEMM alone (x86_avx512f.c) skips the rest */
#if !defined(F_DW_ONLY)
/* FULLY_CONNECTED is a dot product per output, vectorized along k (F_FN(fdot8): eight units at
 * a time, the weights read in place, nothing packed), then + bias, clamp. Every output has the
 * same sequence whichever units or batches a call gets, so thread splits keep the bytes. A GEMM
 * would need the weights transposed for each call; for one batch row that costs more than the
 * product itself. */
F_ATTR int F_FN(el_opt_fc_f32)(const el_fc_params *p, int32_t batches, int32_t depth,
                               const float *in, int32_t units, const float *filter,
                               const float *bias, float *out)
{
    int32_t bt, u, j;
    if (depth < 1 || units < 1 || batches < 1) {
        return 0;
    }
    for (bt = 0; bt < batches; ++bt) {
        const float *x = in + (size_t)bt * depth;
        float *o = out + (size_t)bt * units;
        for (u = 0; u < units; u += 8) {
            const int32_t nu = units - u < 8 ? units - u : 8;
            float sums[8];
            F_FN(fdot8)(depth, x, filter + (size_t)u * depth, depth, nu, sums);
            for (j = 0; j < nu; ++j) {
                const float v = sums[j] + (bias ? bias[u + j] : 0.0f);
                o[u + j] = v < p->act_min_f ? p->act_min_f : (v > p->act_max_f ? p->act_max_f : v);
            }
        }
    }
    return 1;
}

#endif /* !F_DW_ONLY */

/* Depthwise, one output pixel, channels [c, c + F_L): the valid taps in the reference's order. */
F_ATTR static inline F_V F_FN(dw_pixel)(const el_conv_params *p, const el_dims *in_dims,
                                        const float *img, const el_dims *f_dims,
                                        const float *filter, F_V acc, int32_t y0, int32_t x0,
                                        int32_t c, int32_t out_c)
{
    int32_t ky, kx;
    for (ky = 0; ky < f_dims->h; ++ky) {
        const int32_t iy = y0 + p->dilation_h * ky;
        if (iy < 0 || iy >= in_dims->h) {
            continue;
        }
        for (kx = 0; kx < f_dims->w; ++kx) {
            const int32_t ix = x0 + p->dilation_w * kx;
            if (ix < 0 || ix >= in_dims->w) {
                continue;
            }
            acc = F_FMA(acc, F_LOAD(img + ((size_t)iy * in_dims->w + ix) * in_dims->c + c),
                        F_LOAD(filter + ((size_t)ky * f_dims->w + kx) * out_c + c));
        }
    }
    return acc;
}

/* 3x3 depthwise taps of one filter row (a, b, c) at r - in_c, r, r + in_c, the outer ones only
 * when their bit of cols is set (1: left, 4: right), in the reference's order. */
#define F_DW_TAPS(acc, r, in_c, a, b, c, cols)                                                     \
    do {                                                                                           \
        if ((cols) & 1u) {                                                                         \
            acc = F_FMA(acc, F_LOAD((r) - (in_c)), a);                                             \
        }                                                                                          \
        acc = F_FMA(acc, F_LOAD(r), b);                                                            \
        if ((cols) & 4u) {                                                                         \
            acc = F_FMA(acc, F_LOAD((r) + (in_c)), c);                                             \
        }                                                                                          \
    } while (0)

/* 3x3, dilation 1, one output row, F_L channels at c, the nine filter vectors in registers
 * across the row: pixels [ox0, ox1), whose centre tap (column ox * stride + x_off + 1) and
 * middle filter row (mid) are inside the image. Pixels [ix0, ix1) have all three columns
 * inside; the others skip their missing column, as the reference skips it. Channels [0, cv)
 * in vectors (bias: NULL or the layer's). rows: bit ky set
 * when filter row ky is inside the image (top and bottom output rows lack one); pointers to
 * missing rows and columns are never formed. Where every tap is inside, neighbouring pixels
 * share their column loads (F_DW_QUAD: four pixels of stride 1, two of stride 2). Every pixel
 * runs the sequence of dw_pixel (bias, then its valid taps in order), so its bits do not
 * depend on which path took it. */
F_ATTR __attribute__((noinline)) static void
F_FN(dw3x3_row)(const float *mid, int32_t in_w, int32_t in_c, int32_t stride, const float *filter,
                int32_t out_c, const float *bias, F_V lo, F_V hi, int32_t ox0, int32_t ox1,
                int32_t ix0, int32_t ix1, int32_t x_off, float *o, int32_t cv, unsigned rows)
{
    int32_t c;
    for (c = 0; c < cv; c += F_L) {
        const F_V binit = bias ? F_LOAD(bias + c) : F_ZERO;
        const size_t rs = (size_t)in_w * in_c;
        const F_V f0 = F_LOAD(filter + c), f1 = F_LOAD(filter + out_c + c);
        const F_V f2 = F_LOAD(filter + 2 * out_c + c), f3 = F_LOAD(filter + 3 * out_c + c);
        const F_V f4 = F_LOAD(filter + 4 * out_c + c), f5 = F_LOAD(filter + 5 * out_c + c);
        const F_V f6 = F_LOAD(filter + 6 * out_c + c), f7 = F_LOAD(filter + 7 * out_c + c);
        const F_V f8 = F_LOAD(filter + 8 * out_c + c);
        const int32_t in0 = ix0 > ox0 ? ix0 : ox0, in1 = ix1 < ox1 ? ix1 : ox1; /* interior */
        int32_t ox = in0;
        if (rows == 7u) {
#if defined(F_DW_QUAD)
            if (stride == 1) {
                for (; ox + 4 <= in1; ox += 4) {
                    const float *x = mid + (size_t)(ox + x_off) * in_c + c - rs;
                    F_V a0 = binit, a1 = binit, a2 = binit, a3 = binit;
#define F_DW_ROW4(r, fa, fb, fc)                                                                   \
    do {                                                                                           \
        const F_V v0 = F_LOAD(r), v1 = F_LOAD((r) + in_c), v2 = F_LOAD((r) + 2 * in_c);            \
        const F_V v3 = F_LOAD((r) + 3 * in_c), v4 = F_LOAD((r) + 4 * in_c);                        \
        const F_V v5 = F_LOAD((r) + 5 * in_c);                                                     \
        a0 = F_FMA(F_FMA(F_FMA(a0, v0, fa), v1, fb), v2, fc);                                      \
        a1 = F_FMA(F_FMA(F_FMA(a1, v1, fa), v2, fb), v3, fc);                                      \
        a2 = F_FMA(F_FMA(F_FMA(a2, v2, fa), v3, fb), v4, fc);                                      \
        a3 = F_FMA(F_FMA(F_FMA(a3, v3, fa), v4, fb), v5, fc);                                      \
    } while (0)
                    F_DW_ROW4(x, f0, f1, f2);
                    F_DW_ROW4(x + rs, f3, f4, f5);
                    F_DW_ROW4(x + 2 * rs, f6, f7, f8);
#undef F_DW_ROW4
                    F_STORE(o + (size_t)ox * out_c + c, F_CLAMP(a0, lo, hi));
                    F_STORE(o + (size_t)(ox + 1) * out_c + c, F_CLAMP(a1, lo, hi));
                    F_STORE(o + (size_t)(ox + 2) * out_c + c, F_CLAMP(a2, lo, hi));
                    F_STORE(o + (size_t)(ox + 3) * out_c + c, F_CLAMP(a3, lo, hi));
                }
            } else if (stride == 2) {
                for (; ox + 2 <= in1; ox += 2) {
                    const float *x = mid + (size_t)(ox * 2 + x_off) * in_c + c - rs;
                    F_V a0 = binit, a1 = binit;
#define F_DW_ROW2(r, fa, fb, fc)                                                                   \
    do {                                                                                           \
        const F_V v0 = F_LOAD(r), v1 = F_LOAD((r) + in_c), v2 = F_LOAD((r) + 2 * in_c);            \
        const F_V v3 = F_LOAD((r) + 3 * in_c), v4 = F_LOAD((r) + 4 * in_c);                        \
        a0 = F_FMA(F_FMA(F_FMA(a0, v0, fa), v1, fb), v2, fc);                                      \
        a1 = F_FMA(F_FMA(F_FMA(a1, v2, fa), v3, fb), v4, fc);                                      \
    } while (0)
                    F_DW_ROW2(x, f0, f1, f2);
                    F_DW_ROW2(x + rs, f3, f4, f5);
                    F_DW_ROW2(x + 2 * rs, f6, f7, f8);
#undef F_DW_ROW2
                    F_STORE(o + (size_t)ox * out_c + c, F_CLAMP(a0, lo, hi));
                    F_STORE(o + (size_t)(ox + 1) * out_c + c, F_CLAMP(a1, lo, hi));
                }
            }
#endif
            for (; ox < in1; ++ox) { /* the interior pixels left, one by one */
                const float *x = mid + (size_t)(ox * stride + x_off) * in_c + c - rs;
                F_V acc = binit;
                acc = F_FMA(acc, F_LOAD(x), f0);
                acc = F_FMA(acc, F_LOAD(x + in_c), f1);
                acc = F_FMA(acc, F_LOAD(x + 2 * in_c), f2);
                acc = F_FMA(acc, F_LOAD(x + rs), f3);
                acc = F_FMA(acc, F_LOAD(x + rs + in_c), f4);
                acc = F_FMA(acc, F_LOAD(x + rs + 2 * in_c), f5);
                acc = F_FMA(acc, F_LOAD(x + 2 * rs), f6);
                acc = F_FMA(acc, F_LOAD(x + 2 * rs + in_c), f7);
                acc = F_FMA(acc, F_LOAD(x + 2 * rs + 2 * in_c), f8);
                F_STORE(o + (size_t)ox * out_c + c, F_CLAMP(acc, lo, hi));
            }
        }
        for (ox = ox0; ox < ox1; ++ox) {
            const int32_t cx = ox * stride + x_off + 1; /* the centre column, inside */
            const unsigned cols = (cx >= 1 ? 1u : 0u) | (cx + 1 < in_w ? 4u : 0u);
            const float *x = mid + (size_t)cx * in_c + c;
            F_V acc = binit;
            if (rows == 7u && ox >= in0 && ox < in1) { /* done above */
                ox = in1 - 1;
                continue;
            }
            if (rows & 1u) {
                const float *u = x - rs;
                F_DW_TAPS(acc, u, in_c, f0, f1, f2, cols);
            }
            F_DW_TAPS(acc, x, in_c, f3, f4, f5, cols);
            if (rows & 4u) {
                const float *d = x + rs;
                F_DW_TAPS(acc, d, in_c, f6, f7, f8, cols);
            }
            F_STORE(o + (size_t)ox * out_c + c, F_CLAMP(acc, lo, hi));
        }
    }
}

/* One output pixel, channels [0, cv), over the taps listed as offsets from x and filter rows:
 * acc = bias, then the taps in their order, then the clamp (dw_pixel's sequence). */
F_ATTR static void F_FN(dw_taps)(const float *x, const size_t *offs, const float *const *fs,
                                 int32_t nt, const float *bias, F_V lo, F_V hi, int32_t cv,
                                 float *o)
{
    int32_t t, c;
    for (c = 0; c < cv; c += F_L) {
        F_V acc = bias ? F_LOAD(bias + c) : F_ZERO;
        for (t = 0; t < nt; ++t) {
            acc = F_FMA(acc, F_LOAD(x + offs[t] + c), F_LOAD(fs[t] + c));
        }
        F_STORE(o + c, F_CLAMP(acc, lo, hi));
    }
}

/* q pixels (4 or 8, a constant after inlining) pstep floats apart in the input and ostep in
 * the output, each as dw_taps: the pixels' chains are independent and share every filter load
 * (one pixel at a time waits out each multiply-add's latency: MediaPipe palm detection's
 * 96x96x32 5x5 layers ran at a quarter of AVX2's peak). */
F_ATTR static inline __attribute__((always_inline)) void
F_FN(dw_taps_px)(const float *x, size_t pstep, const size_t *offs, const float *const *fs,
                 int32_t nt, const float *bias, F_V lo, F_V hi, int32_t cv, float *o, size_t ostep,
                 const int q)
{
    int32_t t, c;
    int j;
    for (c = 0; c < cv; c += F_L) {
        F_V acc[8];
        const F_V b = bias ? F_LOAD(bias + c) : F_ZERO;
#pragma GCC unroll 8
        for (j = 0; j < q; ++j) {
            acc[j] = b;
        }
        for (t = 0; t < nt; ++t) {
            const F_V f = F_LOAD(fs[t] + c);
            const float *xt = x + offs[t] + c;
#pragma GCC unroll 8
            for (j = 0; j < q; ++j) {
                acc[j] = F_FMA(acc[j], F_LOAD(xt + (size_t)j * pstep), f);
            }
        }
#pragma GCC unroll 8
        for (j = 0; j < q; ++j) {
            F_STORE(o + (size_t)j * ostep + c, F_CLAMP(acc[j], lo, hi));
        }
    }
}

F_ATTR static void F_FN(dw_taps8)(const float *x, size_t pstep, const size_t *offs,
                                  const float *const *fs, int32_t nt, const float *bias, F_V lo,
                                  F_V hi, int32_t cv, float *o, size_t ostep)
{
    F_FN(dw_taps_px)(x, pstep, offs, fs, nt, bias, lo, hi, cv, o, ostep, 8);
}

F_ATTR static void F_FN(dw_taps4)(const float *x, size_t pstep, const size_t *offs,
                                  const float *const *fs, int32_t nt, const float *bias, F_V lo,
                                  F_V hi, int32_t cv, float *o, size_t ostep)
{
    F_FN(dw_taps_px)(x, pstep, offs, fs, nt, bias, lo, hi, cv, o, ostep, 4);
}

/* A pixel the row function does not take (image borders, other filters), channels [0, cv):
 * its valid taps listed once, then every channel vector runs over the list (dw_taps). Same
 * sequence as dw_pixel (bias, the valid taps in the reference's order). A window wholly
 * inside the image takes the layer's own list instead (el_opt_depthwise_f32). */
F_ATTR static void F_FN(dw_edge)(const el_conv_params *p, const el_dims *in_dims, const float *img,
                                 const el_dims *f_dims, const float *filter, const float *bias,
                                 F_V lo, F_V hi, int32_t y0, int32_t x0, int32_t cv, float *o)
{
    const int32_t out_c = in_dims->c;
    size_t offs[32];
    const float *fs[32];
    int32_t nt = 0, ky, kx, c;
    if (f_dims->h * f_dims->w > 32) { /* large filters: channel by channel vectors */
        for (c = 0; c < cv; c += F_L) {
            F_STORE(o + c,
                    F_CLAMP(F_FN(dw_pixel)(p, in_dims, img, f_dims, filter,
                                           bias ? F_LOAD(bias + c) : F_ZERO, y0, x0, c, out_c),
                            lo, hi));
        }
        return;
    }
    for (ky = 0; ky < f_dims->h; ++ky) {
        const int32_t iy = y0 + p->dilation_h * ky;
        if (iy < 0 || iy >= in_dims->h) {
            continue;
        }
        for (kx = 0; kx < f_dims->w; ++kx) {
            const int32_t ix = x0 + p->dilation_w * kx;
            if (ix < 0 || ix >= in_dims->w) {
                continue;
            }
            offs[nt] = ((size_t)iy * in_dims->w + ix) * in_dims->c;
            fs[nt] = filter + ((size_t)ky * f_dims->w + kx) * out_c;
            ++nt;
        }
    }
    F_FN(dw_taps)(img, offs, fs, nt, bias, lo, hi, cv, o);
}

/* Channels past the last whole vector: the same sequence in scalar fmaf. */
F_ATTR static void F_FN(dw_scalar)(const el_conv_params *p, const el_dims *in_dims,
                                   const float *img, const el_dims *f_dims, const float *filter,
                                   const float *bias, int32_t y0, int32_t x0, int32_t c,
                                   int32_t out_c, float *o)
{
    int32_t ky, kx;
    float acc = bias ? bias[c] : 0.0f;
    for (ky = 0; ky < f_dims->h; ++ky) {
        const int32_t iy = y0 + p->dilation_h * ky;
        if (iy < 0 || iy >= in_dims->h) {
            continue;
        }
        for (kx = 0; kx < f_dims->w; ++kx) {
            const int32_t ix = x0 + p->dilation_w * kx;
            if (ix < 0 || ix >= in_dims->w) {
                continue;
            }
            acc = fmaf(img[((size_t)iy * in_dims->w + ix) * in_dims->c + c],
                       filter[((size_t)ky * f_dims->w + kx) * out_c + c], acc);
        }
    }
    o[c] = acc < p->act_min_f ? p->act_min_f : (acc > p->act_max_f ? p->act_max_f : acc);
}

/* 1x1, stride 1: a scale and shift per channel (MediaPipe writes batch normalizations so)
 * over the pixels as one run; per pixel dw_taps' sequence with its one tap, or dw_scalar's
 * for the channels past the last vector. Per-pixel calls took 1.5 ns an element. */
F_ATTR static void F_FN(dw_1x1)(const float *in, size_t npix, int32_t ch, const float *filter,
                                const float *bias, const el_conv_params *p, float *out)
{
    const F_V lo = F_BCAST(p->act_min_f), hi = F_BCAST(p->act_max_f);
    size_t i;
    int32_t c;
    for (i = 0; i < npix; ++i) {
        const float *x = in + i * (size_t)ch;
        float *o = out + i * (size_t)ch;
        for (c = 0; c + F_L <= ch; c += F_L) {
            const F_V acc = bias ? F_LOAD(bias + c) : F_ZERO;
            F_STORE(o + c, F_CLAMP(F_FMA(acc, F_LOAD(x + c), F_LOAD(filter + c)), lo, hi));
        }
        for (; c < ch; ++c) {
            const float acc = fmaf(x[c], filter[c], bias ? bias[c] : 0.0f);
            o[c] = acc < p->act_min_f ? p->act_min_f : (acc > p->act_max_f ? p->act_max_f : acc);
        }
    }
}

/* The layer's geometry for dw_row: interior and centre-inside column ranges, the tap list. */
typedef struct {
    int32_t ix0, ix1, cx0, cx1, nt, span_h, span_w, is3x3;
    size_t offs[32];
} F_FN(dw_geom);

/* Output row oy of one image, channels [0, cv) (a multiple of F_L) counted from the pointers
 * given: img, filter (fs: its rows for the tap list), bias and orow may start at a channel
 * offset, the strides staying in_c / out_c. */
F_ATTR static void F_FN(dw_row)(const el_conv_params *p, const el_dims *in_dims,
                                const el_dims *f_dims, const F_FN(dw_geom) * g, const float *img,
                                const float *filter, const float *const *fs, const float *bias,
                                F_V lo, F_V hi, int32_t oy, int32_t out_w, float *orow, int32_t cv)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c, out_c = in_c;
    const int32_t sw = p->stride_w, y0 = oy * p->stride_h - p->pad_h;
    /* filter rows inside the image; the row function needs the middle one */
    const unsigned rows = (y0 >= 0 && y0 < in_h ? 1u : 0u) |
                          (y0 + 1 >= 0 && y0 + 1 < in_h ? 2u : 0u) |
                          (y0 + 2 >= 0 && y0 + 2 < in_h ? 4u : 0u);
    const int row_fn = g->is3x3 && (rows & 2u) && g->cx0 < g->cx1;
    int32_t ox;
    for (ox = 0; ox < out_w; ++ox) {
        const int32_t x0 = ox * sw - p->pad_w;
        if (row_fn && ox == g->cx0) {
            ox = g->cx1 - 1;
            continue;
        }
        if (!g->is3x3 && g->nt > 0 && y0 >= 0 && y0 + g->span_h < in_h && x0 >= 0 &&
            x0 + g->span_w < in_w) {
            /* interior pixels from ox on: 8 or 4 at a time, then one */
            const int32_t last = (in_w - 1 - g->span_w + p->pad_w) / sw; /* x0 + span < in_w */
            const int32_t run = (last < out_w - 1 ? last : out_w - 1) - ox + 1;
            const float *x = img + ((size_t)y0 * in_w + x0) * in_c;
            const size_t pstep = (size_t)sw * in_c;
            if (run >= 8) {
                F_FN(dw_taps8)(x, pstep, g->offs, fs, g->nt, bias, lo, hi, cv,
                               orow + (size_t)ox * out_c, (size_t)out_c);
                ox += 7;
            } else if (run >= 4) {
                F_FN(dw_taps4)(x, pstep, g->offs, fs, g->nt, bias, lo, hi, cv,
                               orow + (size_t)ox * out_c, (size_t)out_c);
                ox += 3;
            } else {
                F_FN(dw_taps)(x, g->offs, fs, g->nt, bias, lo, hi, cv, orow + (size_t)ox * out_c);
            }
            continue;
        }
        F_FN(dw_edge)(p, in_dims, img, f_dims, filter, bias, lo, hi, y0, x0, cv,
                      orow + (size_t)ox * out_c);
    }
    if (row_fn) {
        F_FN(dw3x3_row)(img + (size_t)(y0 + 1) * in_w * in_c, in_w, in_c, sw, filter, out_c, bias,
                        lo, hi, g->cx0, g->cx1, g->ix0, g->ix1, -p->pad_w, orow, cv, rows);
    }
}

F_ATTR int F_FN(el_opt_depthwise_f32)(const el_conv_params *p, const el_dims *in_dims,
                                      const float *in, const el_dims *f_dims, const float *filter,
                                      const float *bias, const el_dims *out_dims, float *out)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    const int32_t sw = p->stride_w;
    const F_V lo = F_BCAST(p->act_min_f), hi = F_BCAST(p->act_max_f);
    /* channels in whole vectors; past them, when there is a whole vector, one more vector
     * ending at the last channel (it recomputes some channels by the same sequence: the same
     * bytes), else scalar (MediaPipe's face detection: 28 and 36 channels, a seventh and a
     * ninth of the channels in scalar took half of those layers' time) */
    const int32_t cv = out_c / F_L * F_L, coff = out_c - F_L;
    F_FN(dw_geom) g;
    int32_t b, oy, ox, c;
    /* every tap of a window at (y0, x0), listed once for the layer: offsets from its first
     * tap, filter rows (dw_taps); a window wholly inside the image runs over this list, so
     * no tap is tested or listed per pixel (MediaPipe's palm detection: 5x5 layers) */
    const float *fs[32], *fs_tail[32];
    if (p->depth_multiplier != 1 || in_c != out_c) {
        return 0;
    }
    if (f_h == 1 && f_w == 1 && p->stride_h == 1 && sw == 1 && p->pad_h == 0 && p->pad_w == 0 &&
        out_h == in_h && out_w == in_w) {
        F_FN(dw_1x1)(in, (size_t)in_dims->n * in_h * in_w, in_c, filter, bias, p, out);
        return 1;
    }
    g.is3x3 = f_h == 3 && f_w == 3 && p->dilation_h == 1 && p->dilation_w == 1;
    /* interior columns: x0 >= 0 and x0 + 2 < in_w */
    g.ix0 = (p->pad_w + sw - 1) / sw;
    g.ix1 = in_w - 3 + p->pad_w >= 0 ? (in_w - 3 + p->pad_w) / sw + 1 : 0;
    g.ix1 = g.ix1 < out_w ? g.ix1 : out_w;
    /* centre column inside: 0 <= ox * sw - pad_w + 1 < in_w */
    g.cx0 = p->pad_w > 1 ? (p->pad_w - 1 + sw - 1) / sw : 0;
    g.cx1 = in_w - 2 + p->pad_w >= 0 ? (in_w - 2 + p->pad_w) / sw + 1 : 0;
    g.cx1 = g.cx1 < out_w ? g.cx1 : out_w;
    g.nt = f_h * f_w <= 32 ? f_h * f_w : 0;
    g.span_h = (f_h - 1) * p->dilation_h;
    g.span_w = (f_w - 1) * p->dilation_w;
    for (c = 0; c < g.nt; ++c) {
        const int32_t ky = c / f_w, kx = c % f_w;
        g.offs[c] = ((size_t)ky * p->dilation_h * in_w + (size_t)kx * p->dilation_w) * in_c;
        fs[c] = filter + (size_t)c * out_c;
        fs_tail[c] = fs[c] + (coff > 0 ? coff : 0);
    }
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            float *orow = out + ((size_t)b * out_h + oy) * out_w * out_c;
            if (cv > 0) {
                F_FN(dw_row)(p, in_dims, f_dims, &g, img, filter, fs, bias, lo, hi, oy, out_w, orow,
                             cv);
            }
            if (cv == out_c) {
                continue;
            }
            if (cv > 0) {
                F_FN(dw_row)(p, in_dims, f_dims, &g, img + coff, filter + coff, fs_tail,
                             bias ? bias + coff : NULL, lo, hi, oy, out_w, orow + coff, F_L);
                continue;
            }
            for (c = 0; c < out_c; ++c) {
                for (ox = 0; ox < out_w; ++ox) {
                    F_FN(dw_scalar)(p, in_dims, img, f_dims, filter, bias,
                                    oy * p->stride_h - p->pad_h, ox * sw - p->pad_w, c, out_c,
                                    orow + (size_t)ox * out_c);
                }
            }
        }
    }
    return 1;
}

#if !defined(F_DW_ONLY)
/* MAX_POOL_2D: the reference's sequence per output (lowest float; m = x > m ? x : m over the
 * window's taps inside the image, row by row; clamp), channels in vectors, the last ones in
 * scalar: the same bits. */
F_ATTR int F_FN(el_opt_maxpool_f32)(const el_pool_params *p, const el_dims *in_dims,
                                    const float *in, const el_dims *out_dims, float *out)
{
    const int32_t ch = in_dims->c;
    int32_t b, oy, ox, c, fy, fx;
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_dims->h * in_dims->w * ch;
        for (oy = 0; oy < out_dims->h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = y0 < 0 ? -y0 : 0;
            const int32_t fy1 = in_dims->h - y0 < p->filter_h ? in_dims->h - y0 : p->filter_h;
            for (ox = 0; ox < out_dims->w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = x0 < 0 ? -x0 : 0;
                const int32_t fx1 = in_dims->w - x0 < p->filter_w ? in_dims->w - x0 : p->filter_w;
                float *o = out + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * ch;
                for (c = 0; c + F_L <= ch; c += F_L) {
                    F_V m = F_BCAST(-3.402823466e+38f);
                    for (fy = fy0; fy < fy1; ++fy) {
                        const float *row = img + ((size_t)(y0 + fy) * in_dims->w + x0) * ch + c;
                        for (fx = fx0; fx < fx1; ++fx) {
                            m = F_GTSEL(F_LOAD(row + (size_t)fx * ch), m);
                        }
                    }
                    /* the reference's clamp, signed zeros included (F_CLAMP may use max/min) */
                    m = F_GTSEL(F_BCAST(p->act_min_f), F_LTSEL(F_BCAST(p->act_max_f), m));
                    F_STORE(o + c, m);
                }
                for (; c < ch; ++c) {
                    float m = -3.402823466e+38f, v;
                    for (fy = fy0; fy < fy1; ++fy) {
                        for (fx = fx0; fx < fx1; ++fx) {
                            const float x =
                                img[((size_t)(y0 + fy) * in_dims->w + x0 + fx) * ch + c];
                            m = x > m ? x : m;
                        }
                    }
                    v = m < p->act_min_f ? p->act_min_f : (m > p->act_max_f ? p->act_max_f : m);
                    o[c] = v;
                }
            }
        }
    }
    return 1;
}

#endif /* !F_DW_ONLY */
#endif /* F_GEMM_ONLY */
