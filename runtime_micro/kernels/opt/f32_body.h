/* Body of the float32 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED kernels (a template: no
 * include guard), included once per instruction set by x86_avx2.c and arm_neon.c with
 *   F_ATTR            function attribute (target) or empty,   F_FN(x)  function names (the
 *                     file's public el_opt_conv2d_f32_<isa>, el_opt_depthwise_f32_<isa>,
 *                     el_opt_fc_f32_<isa> of el_opt.h, and its static helpers),
 *   F_V, F_L          vector type and lanes,
 *   F_ZERO, F_LOAD(p), F_STORE(p, v), F_BCAST(x), F_ADD(a, b), F_MUL(a, b),
 *   F_CLAMP(v, lo, hi)  x < lo ? lo : (x > hi ? hi : x) lane by lane (NaN passes through),
 *   optionally F_PACK_FULL(w, ldw, ks, panel) packing F_NP whole rows (a faster transpose).
 *
 * Identical bits to the reference: every output keeps the reference's own sequence of IEEE
 * operations (acc = 0; acc += x * w in the reference's order over the valid taps; then the
 * bias; then the clamp), one output per vector lane, with separate multiply and add (never a
 * fused multiply-add). Lanes run across output channels, so the filter is packed per call into
 * panels of F_NP channels x k (segments of F_KSEG). Padded taps are skipped, never multiplied
 * by zero (that could turn -0 into +0 or 0 * inf into NaN). */

#define F_NP (2 * F_L)
#define F_KSEG (8192 / F_NP) /* k per packed panel segment: a 32 KB panel on the stack */

static float F_FN(clampf)(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

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

/* acc[0..1] += x[kk] * panel[kk] for kk < ks, in order. */
F_ATTR static inline void F_FN(dot)(const float *x, int32_t ks, const float *panel, F_V *a0,
                                    F_V *a1)
{
    F_V s0 = *a0, s1 = *a1;
    int32_t kk;
    for (kk = 0; kk < ks; ++kk, panel += F_NP) {
        const F_V xv = F_BCAST(x[kk]);
        s0 = F_ADD(s0, F_MUL(xv, F_LOAD(panel)));
        s1 = F_ADD(s1, F_MUL(xv, F_LOAD(panel + F_L)));
    }
    *a0 = s0;
    *a1 = s1;
}

/* Four pixels at once: eight independent accumulator chains instead of two. */
F_ATTR static inline void F_FN(dot4)(const float *const *x, int32_t ks, const float *panel, F_V *a)
{
    F_V s0 = a[0], s1 = a[1], s2 = a[2], s3 = a[3], s4 = a[4], s5 = a[5], s6 = a[6], s7 = a[7];
    const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3];
    int32_t kk;
    for (kk = 0; kk < ks; ++kk, panel += F_NP) {
        const F_V w0 = F_LOAD(panel), w1 = F_LOAD(panel + F_L);
        F_V xv = F_BCAST(x0[kk]);
        s0 = F_ADD(s0, F_MUL(xv, w0));
        s1 = F_ADD(s1, F_MUL(xv, w1));
        xv = F_BCAST(x1[kk]);
        s2 = F_ADD(s2, F_MUL(xv, w0));
        s3 = F_ADD(s3, F_MUL(xv, w1));
        xv = F_BCAST(x2[kk]);
        s4 = F_ADD(s4, F_MUL(xv, w0));
        s5 = F_ADD(s5, F_MUL(xv, w1));
        xv = F_BCAST(x3[kk]);
        s6 = F_ADD(s6, F_MUL(xv, w0));
        s7 = F_ADD(s7, F_MUL(xv, w1));
    }
    a[0] = s0;
    a[1] = s1;
    a[2] = s2;
    a[3] = s3;
    a[4] = s4;
    a[5] = s5;
    a[6] = s6;
    a[7] = s7;
}

F_ATTR static void F_FN(store)(F_V a0, F_V a1, const float *bias, int32_t n0, int32_t nr, float lo,
                               float hi, int fc, float *out)
{
    float tmp[F_NP];
    int32_t j;
    F_STORE(tmp, a0);
    F_STORE(tmp + F_L, a1);
    for (j = 0; j < nr; ++j) {
        /* CONV adds the bias only when there is one; FULLY_CONNECTED always adds (bias or 0) */
        float v = tmp[j];
        if (bias) {
            v += bias[n0 + j];
        } else if (fc) {
            v += 0.0f;
        }
        out[j] = F_FN(clampf)(v, lo, hi);
    }
}

/* A border pixel: the reference loop itself, channel by channel (padded taps skipped). */
static void F_FN(border)(const el_conv_params *p, const el_dims *in_dims, const float *img,
                         const el_dims *f_dims, const float *filter, const float *bias, int32_t n0,
                         int32_t nr, int32_t y0, int32_t x0, float *o)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w, k = f_h * f_w * in_c;
    int32_t j, ky, kx, ic;
    for (j = 0; j < nr; ++j) {
        const float *fp0 = filter + (size_t)(n0 + j) * k;
        float acc = 0.0f;
        for (ky = 0; ky < f_h; ++ky) {
            const int32_t iy = y0 + p->dilation_h * ky;
            if (iy < 0 || iy >= in_h) {
                continue;
            }
            for (kx = 0; kx < f_w; ++kx) {
                const int32_t ix = x0 + p->dilation_w * kx;
                const float *ip, *fp;
                if (ix < 0 || ix >= in_w) {
                    continue;
                }
                ip = img + ((size_t)iy * in_w + ix) * in_c;
                fp = fp0 + ((size_t)ky * f_w + kx) * in_c;
                for (ic = 0; ic < in_c; ++ic) {
                    acc += ip[ic] * fp[ic];
                }
            }
        }
        if (bias) {
            acc += bias[n0 + j];
        }
        o[j] = F_FN(clampf)(acc, p->act_min_f, p->act_max_f);
    }
}

/* Partial sums of an output row slice kept in the output between k segments. */
F_ATTR static void F_FN(load_partial)(const float *o, int32_t nr, F_V *a0, F_V *a1)
{
    float tmp[F_NP];
    int32_t j;
    for (j = 0; j < F_NP; ++j) {
        tmp[j] = j < nr ? o[j] : 0.0f;
    }
    *a0 = F_LOAD(tmp);
    *a1 = F_LOAD(tmp + F_L);
}

F_ATTR static void F_FN(store_partial)(F_V a0, F_V a1, int32_t nr, float *o)
{
    float tmp[F_NP];
    F_STORE(tmp, a0);
    F_STORE(tmp + F_L, a1);
    memcpy(o, tmp, (size_t)nr * sizeof(float));
}

F_ATTR int F_FN(el_opt_conv2d_f32)(const el_conv_params *p, const el_dims *in_dims, const float *in,
                                   const el_dims *f_dims, const float *filter, const float *bias,
                                   const el_dims *out_dims, float *out)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    const int32_t k = f_h * f_w * in_c;
    /* the interior pixel's k runs: a whole filter row when taps are adjacent, else a tap */
    const int32_t run = p->dilation_w == 1 ? f_w * in_c : in_c;
    const int32_t runs = p->dilation_w == 1 ? f_h : f_h * f_w;
    float panel[F_KSEG * F_NP];
    int32_t n0, k0, b, oy, ox;
    if (f_dims->c != in_c || k < 1) {
        return 0;
    }
    for (n0 = 0; n0 < out_c; n0 += F_NP) {
        const int32_t nr = out_c - n0 < F_NP ? out_c - n0 : F_NP;
        for (k0 = 0; k0 < k; k0 += F_KSEG) {
            const int32_t ks = k - k0 < F_KSEG ? k - k0 : F_KSEG;
            const int last = k0 + ks >= k;
            F_FN(pack)(filter, k, n0, out_c, k0, ks, panel);
            for (b = 0; b < in_dims->n; ++b) {
                const float *img = in + (size_t)b * in_h * in_w * in_c;
                for (oy = 0; oy < out_h; ++oy) {
                    const int32_t y0 = oy * p->stride_h - p->pad_h;
                    const int y_in = y0 >= 0 && y0 + (f_h - 1) * p->dilation_h < in_h;
                    for (ox = 0; ox < out_w; ++ox) {
                        const int32_t x0 = ox * p->stride_w - p->pad_w;
                        float *o = out + (((size_t)b * out_h + oy) * out_w + ox) * out_c + n0;
                        F_V a0 = F_ZERO, a1 = F_ZERO;
                        int32_t r;
                        if (y_in && x0 >= 0 && ox + 3 < out_w &&
                            x0 + 3 * p->stride_w + (f_w - 1) * p->dilation_w < in_w) {
                            /* four interior pixels of this row together */
                            F_V acc[8];
                            int32_t q;
                            for (q = 0; q < 4; ++q) {
                                acc[2 * q] = acc[2 * q + 1] = F_ZERO;
                                if (k0 > 0) {
                                    F_FN(load_partial)(o + (size_t)q * out_c, nr, &acc[2 * q],
                                                       &acc[2 * q + 1]);
                                }
                            }
                            for (r = 0; r < runs; ++r) {
                                const int32_t off = r * run;
                                const int32_t lo = off > k0 ? off : k0;
                                const int32_t hi = off + run < k0 + ks ? off + run : k0 + ks;
                                const int32_t ky = p->dilation_w == 1 ? r : r / f_w;
                                const int32_t kx = p->dilation_w == 1 ? 0 : r % f_w;
                                const float *src[4];
                                for (q = 0; q < 4; ++q) {
                                    src[q] = img +
                                             ((size_t)(y0 + ky * p->dilation_h) * in_w + x0 +
                                              q * p->stride_w + kx * p->dilation_w) *
                                                 in_c +
                                             (lo - off);
                                }
                                if (lo < hi) {
                                    F_FN(dot4)(src, hi - lo, panel + (size_t)(lo - k0) * F_NP, acc);
                                }
                            }
                            for (q = 0; q < 4; ++q) {
                                if (last) {
                                    F_FN(store)(acc[2 * q], acc[2 * q + 1], bias, n0, nr,
                                                p->act_min_f, p->act_max_f, 0,
                                                o + (size_t)q * out_c);
                                } else {
                                    F_FN(store_partial)(acc[2 * q], acc[2 * q + 1], nr,
                                                        o + (size_t)q * out_c);
                                }
                            }
                            ox += 3;
                            continue;
                        }
                        if (!(y_in && x0 >= 0 && x0 + (f_w - 1) * p->dilation_w < in_w)) {
                            if (last) {
                                F_FN(border)(p, in_dims, img, f_dims, filter, bias, n0, nr, y0, x0,
                                             o);
                            }
                            continue;
                        }
                        if (k0 > 0) {
                            F_FN(load_partial)(o, nr, &a0, &a1);
                        }
                        for (r = 0; r < runs; ++r) {
                            const int32_t off = r * run;
                            const int32_t lo = off > k0 ? off : k0;
                            const int32_t hi = off + run < k0 + ks ? off + run : k0 + ks;
                            const int32_t ky = p->dilation_w == 1 ? r : r / f_w;
                            const int32_t kx = p->dilation_w == 1 ? 0 : r % f_w;
                            const float *src = img + ((size_t)(y0 + ky * p->dilation_h) * in_w +
                                                      x0 + kx * p->dilation_w) *
                                                         in_c;
                            if (lo < hi) {
                                F_FN(dot)(src + (lo - off), hi - lo,
                                          panel + (size_t)(lo - k0) * F_NP, &a0, &a1);
                            }
                        }
                        if (last) {
                            F_FN(store)(a0, a1, bias, n0, nr, p->act_min_f, p->act_max_f, 0, o);
                        } else {
                            F_FN(store_partial)(a0, a1, nr, o);
                        }
                    }
                }
            }
        }
    }
    return 1;
}

F_ATTR int F_FN(el_opt_depthwise_f32)(const el_conv_params *p, const el_dims *in_dims,
                                      const float *in, const el_dims *f_dims, const float *filter,
                                      const float *bias, const el_dims *out_dims, float *out)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    const F_V lo = F_BCAST(p->act_min_f), hi = F_BCAST(p->act_max_f);
    int32_t b, oy, ox;
    if (p->depth_multiplier != 1 || in_c != out_c) {
        return 0;
    }
    for (b = 0; b < in_dims->n; ++b) {
        const float *img = in + (size_t)b * in_h * in_w * in_c;
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                float *o = out + (((size_t)b * out_h + oy) * out_w + ox) * out_c;
                int32_t c = 0, ky, kx;
                for (; c + F_L <= out_c; c += F_L) {
                    F_V acc = F_ZERO;
                    for (ky = 0; ky < f_h; ++ky) {
                        const int32_t iy = y0 + p->dilation_h * ky;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (kx = 0; kx < f_w; ++kx) {
                            const int32_t ix = x0 + p->dilation_w * kx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            const float *xp = img + ((size_t)iy * in_w + ix) * in_c + c;
                            const float *fp = filter + ((size_t)ky * f_w + kx) * out_c + c;
                            acc = F_ADD(acc, F_MUL(F_LOAD(xp), F_LOAD(fp)));
                        }
                    }
                    if (bias) {
                        acc = F_ADD(acc, F_LOAD(bias + c));
                    }
                    F_STORE(o + c, F_CLAMP(acc, lo, hi));
                }
                for (; c < out_c; ++c) {
                    float acc = 0.0f;
                    for (ky = 0; ky < f_h; ++ky) {
                        const int32_t iy = y0 + p->dilation_h * ky;
                        if (iy < 0 || iy >= in_h) {
                            continue;
                        }
                        for (kx = 0; kx < f_w; ++kx) {
                            const int32_t ix = x0 + p->dilation_w * kx;
                            if (ix < 0 || ix >= in_w) {
                                continue;
                            }
                            acc += img[((size_t)iy * in_w + ix) * in_c + c] *
                                   filter[((size_t)ky * f_w + kx) * out_c + c];
                        }
                    }
                    if (bias) {
                        acc += bias[c];
                    }
                    o[c] = F_FN(clampf)(acc, p->act_min_f, p->act_max_f);
                }
            }
        }
    }
    return 1;
}

F_ATTR int F_FN(el_opt_fc_f32)(const el_fc_params *p, int32_t batches, int32_t depth,
                               const float *in, int32_t units, const float *filter,
                               const float *bias, float *out)
{
    float panel[F_KSEG * F_NP];
    int32_t n0, k0, bt;
    for (n0 = 0; n0 < units; n0 += F_NP) {
        const int32_t nr = units - n0 < F_NP ? units - n0 : F_NP;
        for (k0 = 0; k0 < depth || k0 == 0; k0 += F_KSEG) {
            const int32_t ks = depth - k0 < F_KSEG ? depth - k0 : F_KSEG;
            F_FN(pack)(filter, depth, n0, units, k0, ks, panel);
            for (bt = 0; bt < batches; ++bt) {
                float *o = out + (size_t)bt * units + n0;
                F_V a0 = F_ZERO, a1 = F_ZERO;
                if (k0 > 0) { /* continue the sums left in the output by the last segment */
                    F_FN(load_partial)(o, nr, &a0, &a1);
                }
                F_FN(dot)(in + (size_t)bt * depth + k0, ks, panel, &a0, &a1);
                if (k0 + ks >= depth) {
                    F_FN(store)(a0, a1, bias, n0, nr, p->act_min_f, p->act_max_f, 1, o);
                } else {
                    F_FN(store_partial)(a0, a1, nr, o);
                }
            }
            if (ks <= 0) {
                break;
            }
        }
    }
    return 1;
}
