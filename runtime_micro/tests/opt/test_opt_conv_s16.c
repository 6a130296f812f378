/* CONV_2D, DEPTHWISE_CONV_2D and TRANSPOSE_CONV int16x8: the optimized kernels (kernels/opt/conv_s16.c) vs the
 * reference, bit for bit: int16 extremes, -128 filters, int64 / int32 / no bias, k tails and
 * patches past one exact int32 chunk, padding, strides, dilation, short last pixel tiles, odd
 * channel counts, channel tails past the vector blocks, filters up to 7x7 taps. */
#include "opt_test.h"

#define MAX_IN 24000
#define MAX_F 60000
#define MAX_OUT 12000
#define MAX_C 64

static int16_t g_in[MAX_IN], g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD];
static int8_t g_filter[MAX_F];
static int64_t g_bias64[MAX_C];
static int32_t g_bias32[MAX_C], g_mult[MAX_C], g_shift[MAX_C];

/* bias: 0 none, 1 int64, 2 int32. Returns 0 when the sizes do not fit the buffers. */
static int run_case(int idx, int32_t n, int32_t h, int32_t w, int32_t ic, int32_t oc, int32_t fh,
                    int32_t fw, int32_t stride, int32_t dil, int same, int bias_kind,
                    const unsigned *isas, int n_isas)
{
    el_conv_params p;
    el_pc_quant q;
    el_dims in_d, f_d, out_d;
    int32_t oh, ow, c, out_n, k;
    const void *bias = bias_kind == 1   ? (const void *)g_bias64
                       : bias_kind == 2 ? (const void *)g_bias32
                                        : NULL;
    const int bias64 = bias_kind != 2;
    char what[160];
    int m;
    memset(&p, 0, sizeof p);
    oh = out_size(same, h, fh, stride, dil);
    ow = out_size(same, w, fw, stride, dil);
    k = fh * fw * ic;
    if (oh < 1 || ow < 1 || n * h * w * ic > MAX_IN || oc * k > MAX_F ||
        n * oh * ow * oc > MAX_OUT || oc > MAX_C) {
        return 0;
    }
    in_d.n = n, in_d.h = h, in_d.w = w, in_d.c = ic;
    f_d.n = oc, f_d.h = fh, f_d.w = fw, f_d.c = ic;
    out_d.n = n, out_d.h = oh, out_d.w = ow, out_d.c = oc;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dil;
    p.pad_h = padding(h, fh, stride, dil, oh);
    p.pad_w = padding(w, fw, stride, dil, ow);
    if (rnd() % 2u) {
        p.act_min = -32768;
        p.act_max = 32767;
    } else {
        p.act_min = rnd_in(-32768, 0);
        p.act_max = rnd_in(p.act_min, 32767);
    }
    fill_s16(g_in, n * h * w * ic);
    fill_s8(g_filter, oc * k, (rnd() % 4u) ? -127 : -128, 127);
    for (c = 0; c < oc; ++c) {
        /* int64 biases up to 2^40 (and, once in a while, past the 2^47 clamp) */
        const int64_t big = (int64_t)rnd_in(-(1 << 29), 1 << 29) * ((int64_t)1 << (rnd() % 12u));
        g_bias64[c] = (rnd() % 16u) ? big : ((rnd() % 2u) ? INT64_MAX : INT64_MIN);
        g_bias32[c] = (int32_t)rnd() ^ (int32_t)(rnd() << 16);
        rnd_multiplier(1.0 / (8.0 * (double)k), &g_mult[c], &g_shift[c]);
        if (bias64 && g_shift[c] > 7) {
            g_shift[c] = 7; /* prepare's range for the 64-bit requantize */
        }
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    out_n = n * oh * ow * oc;
    el_conv2d_s16(&p, &q, &in_d, g_in, &f_d, g_filter, bias, bias64, &out_d, g_ref);
    sprintf(what, "conv s16 case %d: n%d %dx%dx%d -> %d, f %dx%d s%d d%d %s bias %d", idx, (int)n,
            (int)h, (int)w, (int)ic, (int)oc, (int)fh, (int)fw, (int)stride, (int)dil,
            same ? "SAME" : "VALID", bias_kind);
    for (m = 0; m < n_isas; ++m) {
        memset(g_got, GUARD_BYTE, (size_t)(out_n + GUARD) * sizeof(int16_t));
        ++g_checked;
        if (el_opt_conv2d_s16(isas[m], &p, &q, &in_d, g_in, &f_d, g_filter, bias, bias64, &out_d,
                              g_got)) {
            ++g_fast;
            /* int16 outputs compared as bytes (twice as many), guard included */
            same_output((const int8_t *)g_ref, (const int8_t *)g_got, 2 * out_n, what, isas[m]);
        }
    }
    return 1;
}

/* Depthwise (multiplier 1, int64 or no bias as prepare allows). */
static int run_dw_case(int idx, int32_t n, int32_t h, int32_t w, int32_t ch, int32_t fh, int32_t fw,
                       int32_t stride, int32_t dil, int same, int use_bias, const unsigned *isas,
                       int n_isas)
{
    el_conv_params p;
    el_pc_quant q;
    el_dims in_d, f_d, out_d;
    int32_t oh, ow, c, out_n;
    const void *bias = use_bias ? (const void *)g_bias64 : NULL;
    char what[160];
    int m;
    memset(&p, 0, sizeof p);
    oh = out_size(same, h, fh, stride, dil);
    ow = out_size(same, w, fw, stride, dil);
    if (oh < 1 || ow < 1 || n * h * w * ch > MAX_IN || fh * fw * ch > MAX_F ||
        n * oh * ow * ch > MAX_OUT || ch > MAX_C) {
        return 0;
    }
    in_d.n = n, in_d.h = h, in_d.w = w, in_d.c = ch;
    f_d.n = 1, f_d.h = fh, f_d.w = fw, f_d.c = ch;
    out_d.n = n, out_d.h = oh, out_d.w = ow, out_d.c = ch;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dil;
    p.pad_h = padding(h, fh, stride, dil, oh);
    p.pad_w = padding(w, fw, stride, dil, ow);
    p.depth_multiplier = 1;
    p.act_min = (rnd() % 2u) ? -32768 : rnd_in(-32768, 0);
    p.act_max = (rnd() % 2u) ? 32767 : rnd_in(p.act_min, 32767);
    fill_s16(g_in, n * h * w * ch);
    fill_s8(g_filter, fh * fw * ch, (rnd() % 4u) ? -127 : -128, 127);
    for (c = 0; c < ch; ++c) {
        g_bias64[c] = (rnd() % 16u) ? rnd_in(-(1 << 29), 1 << 29) * ((int64_t)1 << (rnd() % 12u))
                                    : ((rnd() % 2u) ? INT64_MAX : INT64_MIN);
        rnd_multiplier(1.0 / (8.0 * fh * fw), &g_mult[c], &g_shift[c]);
        if (g_shift[c] > 7) {
            g_shift[c] = 7;
        }
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    out_n = n * oh * ow * ch;
    el_depthwise_conv2d_s16(&p, &q, &in_d, g_in, &f_d, g_filter, bias, 1, &out_d, g_ref);
    sprintf(what, "depthwise s16 case %d: n%d %dx%dx%d, f %dx%d s%d d%d %s bias %d", idx, (int)n,
            (int)h, (int)w, (int)ch, (int)fh, (int)fw, (int)stride, (int)dil,
            same ? "SAME" : "VALID", use_bias);
    for (m = 0; m < n_isas; ++m) {
        memset(g_got, GUARD_BYTE, (size_t)(out_n + GUARD) * sizeof(int16_t));
        ++g_checked;
        if (el_opt_depthwise_conv2d_s16(isas[m], &p, &q, &in_d, g_in, &f_d, g_filter, bias, &out_d,
                                        g_got)) {
            ++g_fast;
            same_output((const int8_t *)g_ref, (const int8_t *)g_got, 2 * out_n, what, isas[m]);
        }
    }
    return 1;
}

/* Transpose conv: VALID (out = (in - 1) * stride + f) or SAME (out = in * stride). */
static int64_t g_scratch[MAX_OUT];

static int run_tc_case(int idx, int32_t n, int32_t h, int32_t w, int32_t ic, int32_t oc, int32_t fh,
                       int32_t fw, int32_t stride, int same, int use_bias, const unsigned *isas,
                       int n_isas)
{
    el_conv_params p;
    el_pc_quant q;
    el_dims in_d, f_d, out_d;
    int32_t oh, ow, c, out_n;
    const void *bias = use_bias ? (const void *)g_bias64 : NULL;
    char what[160];
    int m;
    memset(&p, 0, sizeof p);
    oh = same ? h * stride : (h - 1) * stride + fh;
    ow = same ? w * stride : (w - 1) * stride + fw;
    if (n * h * w * ic > MAX_IN || oc * fh * fw * ic > MAX_F || n * oh * ow * oc > MAX_OUT ||
        oc > MAX_C) {
        return 0;
    }
    in_d.n = n, in_d.h = h, in_d.w = w, in_d.c = ic;
    f_d.n = oc, f_d.h = fh, f_d.w = fw, f_d.c = ic;
    out_d.n = n, out_d.h = oh, out_d.w = ow, out_d.c = oc;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = 1;
    p.pad_h = same ? ((h - 1) * stride + fh - oh > 0 ? ((h - 1) * stride + fh - oh) / 2 : 0) : 0;
    p.pad_w = same ? ((w - 1) * stride + fw - ow > 0 ? ((w - 1) * stride + fw - ow) / 2 : 0) : 0;
    p.act_min = (rnd() % 2u) ? -32768 : rnd_in(-32768, 0);
    p.act_max = (rnd() % 2u) ? 32767 : rnd_in(p.act_min, 32767);
    fill_s16(g_in, n * h * w * ic);
    fill_s8(g_filter, oc * fh * fw * ic, (rnd() % 4u) ? -127 : -128, 127);
    for (c = 0; c < oc; ++c) {
        g_bias64[c] = rnd_in(-(1 << 29), 1 << 29) * ((int64_t)1 << (rnd() % 12u));
        rnd_multiplier(1.0 / (8.0 * ic), &g_mult[c], &g_shift[c]);
        if (g_shift[c] > 7) {
            g_shift[c] = 7;
        }
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    out_n = n * oh * ow * oc;
    el_transpose_conv_s16(&p, &q, &in_d, g_in, &f_d, g_filter, bias, 1, &out_d, g_scratch, g_ref);
    sprintf(what, "transpose conv s16 case %d: n%d %dx%dx%d -> %d, f %dx%d s%d %s bias %d", idx,
            (int)n, (int)h, (int)w, (int)ic, (int)oc, (int)fh, (int)fw, (int)stride,
            same ? "SAME" : "VALID", use_bias);
    for (m = 0; m < n_isas; ++m) {
        memset(g_got, GUARD_BYTE, (size_t)(out_n + GUARD) * sizeof(int16_t));
        ++g_checked;
        if (el_opt_transpose_conv_s16(isas[m], &p, &q, &in_d, g_in, &f_d, g_filter, bias, 1, &out_d,
                                      g_scratch, g_got)) {
            ++g_fast;
            same_output((const int8_t *)g_ref, (const int8_t *)g_got, 2 * out_n, what, isas[m]);
        }
    }
    return 1;
}

int main(void)
{
    static const int32_t chans[] = {1, 2, 3, 7, 8, 15, 16, 17, 24, 31, 33};
    static const int32_t outs[] = {1, 2, 3, 5, 8, 9, 16, 17};
    static const int32_t ksz[] = {1, 1, 2, 3, 3, 5};
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx, done = 0;
    /* detector stems and small-k 1x1 convs (the shapes this path is for) */
    run_case(-1, 1, 17, 17, 3, 16, 3, 3, 2, 1, 0, 1, isas, n_isas);
    run_case(-2, 1, 9, 11, 16, 32, 1, 1, 1, 1, 0, 1, isas, n_isas);
    run_case(-3, 1, 7, 7, 12, 9, 1, 1, 1, 1, 0, 2, isas, n_isas);
    run_case(-4, 1, 6, 5, 24, 7, 3, 3, 1, 1, 1, 0, isas, n_isas);
    /* patches past one exact int32 chunk (496 products): 500, 992 + a tail, 2000 */
    run_case(-5, 1, 3, 3, 500, 5, 1, 1, 1, 1, 0, 1, isas, n_isas);
    run_case(-6, 1, 4, 4, 111, 6, 3, 3, 1, 1, 1, 1, isas, n_isas);
    run_case(-7, 2, 2, 3, 2000, 3, 1, 1, 1, 1, 0, 2, isas, n_isas);
    /* every k tail of 1..17 past a block, odd channel counts, short last tiles */
    for (idx = 1; idx <= 17; ++idx) {
        run_case(-100 - idx, 1, 3, 1 + idx % 5, 16 + idx, 1 + idx % 6, 1, 1, 1, 1, 0, idx % 3, isas,
                 n_isas);
    }
    for (idx = 0; done < 200 && idx < 5000; ++idx) {
        const int32_t fh = pick(ksz, 6), fw = (rnd() % 4u) ? fh : pick(ksz, 6);
        done += run_case(idx, rnd_in(1, 2), rnd_in(1, 9), rnd_in(1, 9), pick(chans, 11),
                         pick(outs, 8), fh, fw, rnd_in(1, 3), (rnd() % 4u) ? 1 : 2,
                         (int)(rnd() % 2u), (int)(rnd() % 3u), isas, n_isas);
    }
    for (idx = 0, done = 0; done < 150 && idx < 5000; ++idx) {
        static const int32_t dk[] = {1, 3, 3, 5, 7};
        const int32_t fh = pick(dk, 5), fw = (rnd() % 4u) ? fh : pick(dk, 5);
        done += run_dw_case(idx, rnd_in(1, 2), rnd_in(1, 11), rnd_in(1, 11), rnd_in(1, 40), fh, fw,
                            rnd_in(1, 2), (rnd() % 4u) ? 1 : 2, (int)(rnd() % 2u),
                            (int)(rnd() % 6u != 0), isas, n_isas);
    }
    /* the DB detector's upsampling (2x2 stride 2), then a random matrix */
    run_tc_case(-1, 1, 5, 6, 24, 24, 2, 2, 2, 0, 1, isas, n_isas);
    run_tc_case(-2, 1, 4, 4, 24, 1, 2, 2, 2, 0, 0, isas, n_isas);
    for (idx = 0, done = 0; done < 100 && idx < 5000; ++idx) {
        static const int32_t tk[] = {1, 2, 3, 4, 5};
        const int32_t fh = pick(tk, 5), fw = (rnd() % 4u) ? fh : pick(tk, 5);
        done += run_tc_case(idx, rnd_in(1, 2), rnd_in(1, 6), rnd_in(1, 6), pick(chans, 11),
                            pick(outs, 8), fh, fw, rnd_in(1, 3), (int)(rnd() % 2u),
                            (int)(rnd() % 6u != 0), isas, n_isas);
    }
    /* hosted CPUs take every case on every level; microcontrollers keep the reference */
#if defined(__x86_64__) || defined(__aarch64__)
    return finish("test_opt_conv_s16", 450 * n_isas);
#else
    return finish("test_opt_conv_s16", 0);
#endif
}
