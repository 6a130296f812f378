/* float32 CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED: optimized kernels vs the reference,
 * within 1e-5 of the output's scale (the optimized kernels use fused multiply-adds and start
 * from the bias; see kernels/opt/f32_body.h). The scale is the range (max - min, or the largest
 * magnitude when that is larger) of the reference's outputs before the activation: rounding
 * error follows the size of the sums, not of the clamped result. Infinities and NaNs must sit
 * at the same places with the same signs; inputs include infinities, so a padded tap
 * multiplied by a non-finite weight, or a missed tap, shows up. */
#include <math.h>

#include "opt_test.h"

#define MAX_IN 12000
#define MAX_F 60000
#define MAX_OUT 12000

static float g_in[MAX_IN], g_f[MAX_F], g_bias[1300], g_packed[MAX_F + 16 * 2048];
static float g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD], g_raw[MAX_OUT];
/* the AVX2 path's output of the current case (g_avx2_ok: it ran): AVX-512F's conv tiles and
 * depthwise vectors compute every output by the same sequence, so they must give the same
 * bytes */
static float g_avx2[MAX_OUT];
static int g_avx2_ok, g_same_as_avx2;
static float g_scale;     /* of the current case, from g_raw */
static double g_worst;    /* largest |got - ref| / scale seen */
static int g_packed_runs; /* cases run on prepacked panels */

static void fill_f(float *p, int32_t n, int with_inf)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const uint32_t r = rnd() % 64u;
        p[i] = with_inf && r == 0 ? (rnd() % 2u ? 1.0f : -1.0f) / 0.0f
               : r == 1           ? 0.0f
               : r == 2           ? -0.0f
                                  : ((float)(int32_t)(rnd() % 20001u) - 10000.0f) / 3000.0f;
    }
}

static void act(el_conv_params *p)
{
    switch (rnd() % 3u) {
    case 0:
        p->act_min_f = -1.0f / 0.0f;
        p->act_max_f = 1.0f / 0.0f;
        break;
    case 1:
        p->act_min_f = 0.0f;
        p->act_max_f = 6.0f;
        break;
    default:
        p->act_min_f = -1.0f;
        p->act_max_f = 1.0f;
        break;
    }
}

/* g_scale from the reference's outputs without activation (g_raw). */
static void set_scale(int32_t n)
{
    float lo = INFINITY, hi = -INFINITY, mag = 0.0f;
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float v = g_raw[i];
        if (isfinite(v)) {
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            mag = fabsf(v) > mag ? fabsf(v) : mag;
        }
    }
    g_scale = hi - lo > mag ? hi - lo : mag;
}

static void close_output(const char *what, int32_t n, unsigned isa)
{
    const double tol = 1e-5 * (double)g_scale;
    const unsigned char *guard = (const unsigned char *)(g_got + n);
    int32_t i;
    for (i = 0; i < n; ++i) {
        const float r = g_ref[i], g = g_got[i];
        int bad;
        if (isnan(r) || isinf(r)) {
            bad = isnan(r) ? !isnan(g) : g != r;
        } else {
            const double d = fabs((double)g - (double)r);
            bad = !(d <= tol);
            if (!bad && g_scale > 0.0f && d / g_scale > g_worst) {
                g_worst = d / g_scale;
            }
        }
        if (bad) {
            printf("FAIL %s [%s]: output[%d] = %.9g, reference %.9g (tolerance %.3g)\n", what,
                   isa_name(isa), (int)i, (double)g, (double)r, tol);
            ++g_failures;
            return;
        }
    }
    for (i = 0; i < GUARD; ++i) {
        if (guard[i] != GUARD_BYTE) {
            printf("FAIL %s [%s]: wrote past the output (guard byte %d)\n", what, isa_name(isa),
                   (int)i);
            ++g_failures;
            return;
        }
    }
}

static void compare(const char *what, int32_t n, int handled, unsigned isa)
{
    ++g_checked;
    if (handled) {
        ++g_fast;
        close_output(what, n, isa);
    }
}

/* The AVX2 path's bytes kept, the AVX-512F path's checked against them (CONV_2D and
 * DEPTHWISE_CONV_2D). */
static void same_as_avx2(const char *what, int32_t n, int handled, unsigned isa)
{
    if (!handled) {
        return;
    }
    if (isa == (EL_OPT_ON | EL_OPT_ISA_AVX2)) {
        memcpy(g_avx2, g_got, (size_t)n * sizeof(float));
        g_avx2_ok = 1;
    } else if ((isa & EL_OPT_ISA_AVX512F) && g_avx2_ok) {
        ++g_same_as_avx2;
        if (memcmp(g_avx2, g_got, (size_t)n * sizeof(float)) != 0) {
            printf("FAIL %s [%s]: not the AVX2 path's bytes\n", what, isa_name(isa));
            ++g_failures;
        }
    }
}

/* The kernel reading the panels el_opt_conv2d_f32_pack made (prepare's path) instead of the
 * filter: the filter argument then holds NaNs, so a kernel reading it instead of the panels
 * fails. Counted as its own comparison. */
static void conv_packed(const char *what, const el_conv_params *p, const el_dims *in_d,
                        const el_dims *f_d, int use_bias, const el_dims *out_d, int32_t out_n,
                        unsigned isa)
{
    static float nans[MAX_F];
    const size_t bytes = el_opt_conv2d_f32_packed_bytes(isa, in_d, f_d);
    const int32_t fn = f_d->n * f_d->h * f_d->w * f_d->c;
    char tag[200];
    int32_t i;
    int handled;
    if (bytes == 0) {
        return;
    }
    if (bytes > sizeof g_packed) {
        printf("FAIL %s [%s]: packed filter of %u bytes does not fit the test's buffer\n", what,
               isa_name(isa), (unsigned)bytes);
        ++g_failures;
        return;
    }
    memset(g_packed, 0xFF, bytes); /* NaNs where the packing would leave a gap */
    el_opt_conv2d_f32_pack(isa, in_d, f_d, g_f, g_packed);
    for (i = 0; i < fn; ++i) {
        nans[i] = NAN;
    }
    memset(g_got, GUARD_BYTE, ((size_t)out_n + GUARD) * 4);
    sprintf(tag, "%s packed", what);
    ++g_packed_runs;
    handled = el_opt_conv2d_f32(isa, p, in_d, g_in, f_d, nans, g_packed, use_bias ? g_bias : NULL,
                                out_d, g_got);
    compare(tag, out_n, handled, isa);
    if (handled && g_avx2_ok && memcmp(g_avx2, g_got, (size_t)out_n * sizeof(float)) != 0) {
        printf("FAIL %s [%s]: not the bytes of the unpacked AVX2 path\n", tag, isa_name(isa));
        ++g_failures;
    }
}

/* big: a conv whose k (3x3x130) needs two k segments of the GEMM (partial sums in the output);
 * dw3: a 3x3 depthwise of stride 1 or 2 (idx), dilation 1, no activation (the row kernels:
 * pixels sharing column loads, edge pixels skipping their missing column) */
static int conv_run(int idx, int dw, int big, int dw3, int32_t n, int32_t h, int32_t w, int32_t ic,
                    int32_t oc, int32_t fh, int32_t fw, int32_t stride, int32_t dil, int same,
                    int use_bias, const unsigned *isas, int n_isas);

static int conv_case(int idx, int dw, int big, int dw3, const unsigned *isas, int n_isas)
{
    static const int32_t chans[] = {1, 3, 4, 7, 8, 9, 16, 17, 33};
    static const int32_t ksz[] = {1, 1, 3, 3, 3, 2, 5, 7}; /* 7x7: over 32 depthwise taps */
    const int32_t n = rnd_in(1, 2), h = rnd_in(1, big ? 5 : 12), w = rnd_in(1, big ? 5 : 14);
    const int32_t ic = big ? 130 : pick(chans, 9);
    const int32_t oc = dw ? ic : big ? rnd_in(1, 40) : pick(chans, 9);
    const int32_t fh = big || dw3 ? 3 : pick(ksz, 8), fw = big || dw3 ? 3 : pick(ksz, 8);
    const int32_t stride = dw3 ? 1 + idx % 2 : rnd_in(1, 3);
    const int32_t dil = (rnd() % 4u) || dw3 ? 1 : 2, same = (int)(rnd() % 2u);
    const int use_bias = (int)(rnd() % 4u != 0);
    return conv_run(idx, dw, big, dw3, n, h, w, ic, oc, fh, fw, stride, dil, same, use_bias, isas,
                    n_isas);
}

/* One conv / depthwise case of the given shape (SAME or VALID padding). */
static int conv_run(int idx, int dw, int big, int dw3, int32_t n, int32_t h, int32_t w, int32_t ic,
                    int32_t oc, int32_t fh, int32_t fw, int32_t stride, int32_t dil, int same,
                    int use_bias, const unsigned *isas, int n_isas)
{
    el_conv_params p, raw;
    el_dims in_d, f_d, out_d;
    int32_t oh, ow, out_n, fn;
    int i;
    char what[160];
    memset(&p, 0, sizeof p);
    oh = out_size(same, h, fh, stride, dil);
    ow = out_size(same, w, fw, stride, dil);
    fn = dw ? fh * fw * oc : oc * fh * fw * ic;
    out_n = n * oh * ow * oc;
    if (oh < 1 || ow < 1 || n * h * w * ic > MAX_IN || fn > MAX_F || out_n > MAX_OUT) {
        return 0;
    }
    in_d.n = n;
    in_d.h = h;
    in_d.w = w;
    in_d.c = ic;
    f_d.n = dw ? 1 : oc;
    f_d.h = fh;
    f_d.w = fw;
    f_d.c = dw ? oc : ic;
    out_d.n = n;
    out_d.h = oh;
    out_d.w = ow;
    out_d.c = oc;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dil;
    p.pad_h = padding(h, fh, stride, dil, oh);
    p.pad_w = padding(w, fw, stride, dil, ow);
    p.depth_multiplier = 1;
    raw = p;
    raw.act_min_f = -INFINITY;
    raw.act_max_f = INFINITY;
    act(&p);
    if (dw3) {
        p.act_min_f = -INFINITY;
        p.act_max_f = INFINITY;
    }
    fill_f(g_in, n * h * w * ic, !big); /* big: an infinity in every patch would hide the sums */
    fill_f(g_f, fn, 0);
    fill_f(g_bias, oc, 0);
    if (dw) {
        el_depthwise_conv2d_f32(&p, &in_d, g_in, &f_d, g_f, use_bias ? g_bias : NULL, &out_d,
                                g_ref);
        el_depthwise_conv2d_f32(&raw, &in_d, g_in, &f_d, g_f, use_bias ? g_bias : NULL, &out_d,
                                g_raw);
    } else {
        el_conv2d_f32(&p, &in_d, g_in, &f_d, g_f, use_bias ? g_bias : NULL, &out_d, g_ref);
        el_conv2d_f32(&raw, &in_d, g_in, &f_d, g_f, use_bias ? g_bias : NULL, &out_d, g_raw);
    }
    set_scale(out_n);
    sprintf(what, "%s f32 case %d: n%d %dx%dx%d -> %d f %dx%d s%d d%d %s",
            dw ? "depthwise" : "conv", idx, (int)n, (int)h, (int)w, (int)ic, (int)oc, (int)fh,
            (int)fw, (int)stride, (int)dil, same ? "SAME" : "VALID");
    g_avx2_ok = 0;
    for (i = 0; i < n_isas; ++i) {
        int handled;
        memset(g_got, GUARD_BYTE, ((size_t)out_n + GUARD) * 4);
        handled = dw ? el_opt_depthwise_conv2d_f32(isas[i], &p, &in_d, g_in, &f_d, g_f,
                                                   use_bias ? g_bias : NULL, &out_d, g_got)
                     : el_opt_conv2d_f32(isas[i], &p, &in_d, g_in, &f_d, g_f, NULL,
                                         use_bias ? g_bias : NULL, &out_d, g_got);
        compare(what, out_n, handled, isas[i]);
        same_as_avx2(what, out_n, handled, isas[i]);
        if (!dw) { /* the filter packed as prepare packs it: same checks, + filter NaNs */
            conv_packed(what, &p, &in_d, &f_d, use_bias, &out_d, out_n, isas[i]);
        }
    }
    return 1;
}

static void fc_case(int idx, const unsigned *isas, int n_isas)
{
    static const int32_t depths[] = {1, 3, 8, 17, 64, 100, 1280, 1500};
    el_fc_params p;
    const int32_t batches = rnd_in(1, 3), depth = pick(depths, 8), units = rnd_in(1, 40);
    const int use_bias = (int)(rnd() % 4u != 0);
    int i;
    char what[100];
    memset(&p, 0, sizeof p);
    p.act_min_f = (rnd() % 2u) ? -1.0f / 0.0f : 0.0f;
    p.act_max_f = 1.0f / 0.0f;
    fill_f(g_in, batches * depth, 1);
    fill_f(g_f, units * depth, 0);
    fill_f(g_bias, units, 0);
    el_fully_connected_f32(&p, batches, depth, g_in, units, g_f, use_bias ? g_bias : NULL, g_ref);
    {
        el_fc_params raw = p;
        raw.act_min_f = -INFINITY;
        raw.act_max_f = INFINITY;
        el_fully_connected_f32(&raw, batches, depth, g_in, units, g_f, use_bias ? g_bias : NULL,
                               g_raw);
        set_scale(batches * units);
    }
    sprintf(what, "fc f32 case %d: %d x %d -> %d", idx, (int)batches, (int)depth, (int)units);
    for (i = 0; i < n_isas; ++i) {
        memset(g_got, GUARD_BYTE, ((size_t)batches * units + GUARD) * 4);
        compare(what, batches * units,
                el_opt_fully_connected_f32(isas[i], &p, batches, depth, g_in, units, g_f,
                                           use_bias ? g_bias : NULL, g_got),
                isas[i]);
    }
}

int main(void)
{
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx, done = 0;
    for (idx = 0; done < 300 && idx < 5000; ++idx) {
        done += conv_case(idx, (int)(idx % 2), 0, 0, isas, n_isas);
    }
    for (done = 0; done < 12 && idx < 6000; ++idx) {
        done += conv_case(idx, 0, 1, 0, isas, n_isas);
    }
    for (done = 0; done < 60 && idx < 7000; ++idx) {
        done += conv_case(idx, 1, 0, 1, isas, n_isas);
    }
    /* one-channel images (the small-patch conv on a zero-bordered copy): the digits CNN's
     * 28x28 -> 8 3x3 SAME stem, rows of 8 and 9 pixels (a last group overlapping the one
     * before), stride 2, dilation 2, 5x5 VALID, many output channels, two images */
    conv_run(-1, 0, 0, 0, 1, 28, 28, 1, 8, 3, 3, 1, 1, 1, 1, isas, n_isas);
    conv_run(-2, 0, 0, 0, 1, 9, 8, 1, 9, 3, 3, 1, 1, 1, 1, isas, n_isas);
    conv_run(-3, 0, 0, 0, 2, 7, 9, 1, 16, 3, 3, 1, 1, 1, 0, isas, n_isas);
    conv_run(-4, 0, 0, 0, 1, 20, 17, 1, 8, 3, 3, 2, 1, 1, 1, isas, n_isas);
    conv_run(-5, 0, 0, 0, 1, 13, 14, 1, 3, 3, 3, 1, 2, 1, 1, isas, n_isas);
    conv_run(-6, 0, 0, 0, 1, 12, 15, 1, 33, 5, 5, 1, 1, 0, 1, isas, n_isas);
    conv_run(-7, 0, 0, 0, 2, 11, 10, 1, 7, 2, 3, 1, 1, 1, 1, isas, n_isas);
    /* RGB stems into at most one vector of channels (the small-patch conv, per pixel, with
     * bounds checks at the borders: MediaPipe's hand recrop 256x256x3 -> 8, 3x3 / 2 SAME) */
    conv_run(-8, 0, 0, 0, 1, 17, 19, 3, 8, 3, 3, 2, 1, 1, 1, isas, n_isas);
    conv_run(-9, 0, 0, 0, 2, 9, 12, 3, 3, 3, 3, 1, 1, 1, 0, isas, n_isas);
    conv_run(-10, 0, 0, 0, 1, 10, 11, 2, 4, 3, 3, 1, 2, 0, 1, isas, n_isas);
    /* 1x1 depthwise of stride 1 (a scale and shift per channel, over the pixels as one run) */
    conv_run(-11, 1, 0, 0, 2, 5, 7, 17, 17, 1, 1, 1, 1, 1, 1, isas, n_isas);
    conv_run(-12, 1, 0, 0, 1, 6, 3, 8, 8, 1, 1, 1, 1, 0, 0, isas, n_isas);
    /* AVX-512F's tiles (12, 8 or 4 rows x 2 or 1 panels of 16): 1x1 convs read in place with
     * 49 pixels (a last group of 1 row) into 10 panels, 143 pixels into 3 panels (a pair and
     * one), a strided 1x1, a 3x3 into 2 panels and 8 columns, k > 1024 (two k segments) */
    conv_run(-13, 0, 0, 0, 1, 7, 7, 96, 160, 1, 1, 1, 1, 0, 1, isas, n_isas);
    conv_run(-14, 0, 0, 0, 1, 13, 11, 40, 48, 1, 1, 1, 1, 0, 1, isas, n_isas);
    conv_run(-15, 0, 0, 0, 1, 9, 9, 32, 64, 1, 1, 2, 1, 0, 0, isas, n_isas);
    conv_run(-16, 0, 0, 0, 2, 9, 10, 8, 40, 3, 3, 1, 1, 1, 1, isas, n_isas);
    conv_run(-17, 0, 0, 0, 1, 2, 5, 1100, 40, 1, 1, 1, 1, 0, 1, isas, n_isas);
    /* depthwise on 16-lane vectors (AVX-512F): 3x3 rows four pixels at a time (stride 1) or two
     * (stride 2) with 40 channels (a last vector overlapping the one before), 5x5 windows in
     * runs of 8 and 4 pixels with 24 channels */
    conv_run(-18, 1, 0, 1, 1, 9, 13, 40, 40, 3, 3, 1, 1, 1, 1, isas, n_isas);
    conv_run(-19, 1, 0, 1, 2, 10, 12, 40, 40, 3, 3, 2, 1, 1, 0, isas, n_isas);
    conv_run(-20, 1, 0, 0, 1, 16, 17, 24, 24, 5, 5, 1, 1, 1, 1, isas, n_isas);
    for (idx = 0; idx < 100; ++idx) {
        fc_case(idx, isas, n_isas);
    }
    /* SIMD float paths exist on x86-64 (AVX2) and aarch64 (NEON) only */
    printf("test_opt_f32: largest difference %.3g of the output scale, %d cases on packed "
           "panels\n",
           g_worst, g_packed_runs);
    if (el_opt_isa_detected() & EL_OPT_ISA_AVX512F) {
        printf("test_opt_f32: %d AVX-512F convs and depthwise convs with the AVX2 path's bytes\n",
               g_same_as_avx2);
    }
    if ((el_opt_isa_detected() & EL_OPT_ISA_AVX512F) && g_same_as_avx2 < 150) {
        printf("FAIL test_opt_f32: only %d AVX-512F (depthwise) convs compared with AVX2's\n",
               g_same_as_avx2);
        ++g_failures;
    }
    if ((el_opt_isa_detected() & (EL_OPT_ISA_AVX2 | EL_OPT_ISA_NEON)) && g_packed_runs < 150) {
        printf("FAIL test_opt_f32: only %d cases ran on packed panels\n", g_packed_runs);
        ++g_failures;
    }
    return finish("test_opt_f32",
                  (el_opt_isa_detected() & (EL_OPT_ISA_AVX2 | EL_OPT_ISA_NEON)) ? 412 : 0);
}
