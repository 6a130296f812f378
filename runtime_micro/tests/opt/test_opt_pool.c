/* AVERAGE_POOL_2D / MAX_POOL_2D int8 and float: optimized kernel vs the reference, bit for bit
 * (float inputs include NaNs, infinities and signed zeros). */
#include "opt_test.h"

#include <math.h>

#define MAX_N 20000

static int8_t g_in[MAX_N], g_ref[MAX_N + GUARD], g_got[MAX_N + GUARD];
static float g_fin[MAX_N], g_fref[MAX_N + GUARD], g_fgot[MAX_N + GUARD];

/* Float inputs: mostly random values, some NaN / +-inf / +-0 / equal neighbours. */
static void fill_special(float *x, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const unsigned r = rnd() % 40u;
        x[i] = r == 0            ? NAN
               : r == 1          ? INFINITY
               : r == 2          ? -INFINITY
               : r == 3          ? 0.0f
               : r == 4          ? -0.0f
               : r == 5 && i > 0 ? x[i - 1]
                                 : (float)rnd_in(-100000, 100000) / 997.0f;
    }
}

/* A random pool geometry (n, h, w from 1..2 / 1..12, c from `chans`, filter 1..4, stride
 * 1..3, SAME or VALID): 0 when it has no output or exceeds MAX_N. The activation bounds are
 * left to the caller. */
static int random_pool(const int32_t *chans, int n_chans, el_pool_params *p, el_dims *in_d,
                       el_dims *out_d)
{
    const int same = (int)(rnd() % 2u);
    const int32_t n = rnd_in(1, 2), h = rnd_in(1, 12), w = rnd_in(1, 12), c = pick(chans, n_chans);
    int32_t oh, ow;
    memset(p, 0, sizeof *p);
    p->filter_h = rnd_in(1, 4);
    p->filter_w = rnd_in(1, 4);
    p->stride_h = rnd_in(1, 3);
    p->stride_w = rnd_in(1, 3);
    oh = same ? (h + p->stride_h - 1) / p->stride_h : (h - p->filter_h) / p->stride_h + 1;
    ow = same ? (w + p->stride_w - 1) / p->stride_w : (w - p->filter_w) / p->stride_w + 1;
    if (oh < 1 || ow < 1 || n * h * w * c > MAX_N || n * oh * ow * c > MAX_N) {
        return 0;
    }
    p->pad_h = same ? ((oh - 1) * p->stride_h + p->filter_h - h) / 2 : 0;
    p->pad_w = same ? ((ow - 1) * p->stride_w + p->filter_w - w) / 2 : 0;
    p->pad_h = p->pad_h < 0 ? 0 : p->pad_h;
    p->pad_w = p->pad_w < 0 ? 0 : p->pad_w;
    in_d->n = out_d->n = n;
    in_d->h = h;
    in_d->w = w;
    in_d->c = out_d->c = c;
    out_d->h = oh;
    out_d->w = ow;
    return 1;
}

static int float_max_case(int idx)
{
    static const int32_t chans[] = {1, 3, 4, 8, 9, 16, 17, 33};
    el_pool_params p;
    el_dims in_d, out_d;
    int32_t tot;
    char what[120];
    if (!random_pool(chans, 8, &p, &in_d, &out_d)) {
        return 0;
    }
    p.act_min_f = (rnd() % 2u) ? -INFINITY : (rnd() % 2u) ? 0.0f : -50.0f;
    p.act_max_f = (rnd() % 2u) ? INFINITY : 6.0f;
    tot = out_d.n * out_d.h * out_d.w * out_d.c;
    fill_special(g_fin, in_d.n * in_d.h * in_d.w * in_d.c);
    el_maxpool_f32(&p, &in_d, g_fin, &out_d, g_fref);
    memset(g_fgot, GUARD_BYTE, ((size_t)tot + GUARD) * sizeof(float));
    sprintf(what, "float max pool case %d: %dx%dx%d f %dx%d s %dx%d", idx, (int)in_d.h, (int)in_d.w,
            (int)in_d.c, (int)p.filter_h, (int)p.filter_w, (int)p.stride_h, (int)p.stride_w);
    ++g_checked;
    if (el_opt_maxpool_f32(isa_all(), &p, &in_d, g_fin, &out_d, g_fgot)) {
        ++g_fast;
        same_output((const int8_t *)g_fref, (const int8_t *)g_fgot, tot * (int32_t)sizeof(float),
                    what, 0);
    }
    return 1;
}

/* AVERAGE_POOL_2D float under every instruction set (the same bits as the reference): random
 * geometries with border windows of every count, channels 1..40 (vector tails of every size)
 * and wide ones, activation clamps between zero, 6 and none; then a global pool. */
static int float_avg_case(int idx, const unsigned *masks, int levels)
{
    static const int32_t chans[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 24, 31, 32, 33, 40, 65};
    el_pool_params p;
    el_dims in_d, out_d;
    int32_t tot;
    int lv;
    char what[120];
    if (!random_pool(chans, (int)(sizeof chans / sizeof chans[0]), &p, &in_d, &out_d)) {
        return 0;
    }
    if (idx % 7 == 0) { /* one global window (the selfie model's pools) */
        p.filter_h = in_d.h;
        p.filter_w = in_d.w;
        p.stride_h = p.stride_w = 1;
        p.pad_h = p.pad_w = 0;
        out_d.h = out_d.w = 1;
    }
    p.act_min_f = (rnd() % 2u) ? -INFINITY : (rnd() % 2u) ? 0.0f : -50.0f;
    p.act_max_f = (rnd() % 2u) ? INFINITY : 6.0f;
    tot = out_d.n * out_d.h * out_d.w * out_d.c;
    if (rnd() % 4u) {
        fill_special(g_fin, in_d.n * in_d.h * in_d.w * in_d.c);
    } else { /* finite only: every output a rounded mean, not a NaN or an infinity */
        int32_t i;
        for (i = 0; i < in_d.n * in_d.h * in_d.w * in_d.c; ++i) {
            g_fin[i] = (float)rnd_in(-100000, 100000) / 997.0f;
        }
    }
    el_avgpool_f32(&p, &in_d, g_fin, &out_d, g_fref);
    sprintf(what, "float avg pool case %d: %dx%dx%d f %dx%d s %dx%d pad %dx%d", idx, (int)in_d.h,
            (int)in_d.w, (int)in_d.c, (int)p.filter_h, (int)p.filter_w, (int)p.stride_h,
            (int)p.stride_w, (int)p.pad_h, (int)p.pad_w);
    for (lv = 0; lv < levels; ++lv) {
        memset(g_fgot, GUARD_BYTE, ((size_t)tot + GUARD) * sizeof(float));
        hosted_f32_result(el_opt_avgpool_f32(masks[lv], &p, &in_d, g_fin, &out_d, g_fgot), g_fref,
                          g_fgot, tot, what, masks[lv]);
    }
    return 1;
}

int main(void)
{
    unsigned masks[8];
    const int levels = isa_levels(masks);
    int avg_done = 0;
    static const int32_t chans[] = {1, 3, 8, 16, 17, 63, 64, 65, 130};
    int idx, done = 0;
    for (idx = 0; done < 300 && idx < 5000; ++idx) {
        el_pool_params p;
        el_dims in_d, out_d;
        const int is_max = (int)(rnd() % 2u);
        int32_t tot;
        char what[120];
        if (!random_pool(chans, 9, &p, &in_d, &out_d)) {
            continue;
        }
        p.act_min = (rnd() % 3u) ? -128 : rnd_in(-128, 0);
        p.act_max = (rnd() % 3u) ? 127 : rnd_in(p.act_min, 127);
        ++done;
        tot = out_d.n * out_d.h * out_d.w * out_d.c;
        fill_s8(g_in, in_d.n * in_d.h * in_d.w * in_d.c, -128, 127);
        if (is_max) {
            el_maxpool_s8(&p, &in_d, g_in, &out_d, g_ref);
        } else {
            el_avgpool_s8(&p, &in_d, g_in, &out_d, g_ref);
        }
        memset(g_got, GUARD_BYTE, (size_t)tot + GUARD);
        sprintf(what, "%s pool case %d: %dx%dx%d f %dx%d s %dx%d", is_max ? "max" : "avg", idx,
                (int)in_d.h, (int)in_d.w, (int)in_d.c, (int)p.filter_h, (int)p.filter_w,
                (int)p.stride_h, (int)p.stride_w);
        ++g_checked;
        if (is_max ? el_opt_maxpool_s8(isa_all(), &p, &in_d, g_in, &out_d, g_got)
                   : el_opt_avgpool_s8(isa_all(), &p, &in_d, g_in, &out_d, g_got)) {
            ++g_fast;
            same_output(g_ref, g_got, tot, what, 0);
        }
    }
    for (done = 0; done < 200 && idx < 10000; ++idx) {
        done += float_max_case(idx);
    }
    for (; avg_done < 400 && idx < 20000; ++idx) {
        avg_done += float_avg_case(idx, masks, levels);
    }
    /* the float max path exists on x86-64 (AVX2) and aarch64 (NEON) only, the float average
     * one on every hosted CPU */
    return finish("test_opt_pool",
                  300 + ((el_opt_isa_detected() & (EL_OPT_ISA_AVX2 | EL_OPT_ISA_NEON)) ? 200 : 0) +
                      (EL_HOSTED_CPU ? 400 * levels : 0));
}
