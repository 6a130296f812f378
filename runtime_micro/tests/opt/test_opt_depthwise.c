/* DEPTHWISE_CONV_2D int8: optimized kernels vs the reference, bit for bit. */
#include "opt_test.h"

#define MAX_IN 16384
#define MAX_F 8192
#define MAX_OUT 16384
#define MAX_C 200

static int8_t g_in[MAX_IN], g_filter[MAX_F], g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD];
static int32_t g_bias[MAX_C], g_mult[MAX_C], g_shift[MAX_C];
static double g_scale = 1.0;     /* output scale factor: > 1 gives shifts of 0 and left shifts */
static int32_t g_max_shift = 31; /* shifts above are lowered to it (0: shifts of 0, none left) */

static int run_case(int idx, int32_t n, int32_t h, int32_t w, int32_t ic, int32_t mult, int32_t fh,
                    int32_t fw, int32_t stride, int32_t dil, int same, int32_t in_zp,
                    int32_t out_zp, int use_bias, const unsigned *isas, int n_isas)
{
    el_conv_params p;
    el_pc_quant q;
    el_dims in_d, f_d, out_d;
    const int32_t oc = ic * mult;
    int32_t oh, ow, c, out_n;
    int i, handled = 0;
    char what[160];
    memset(&p, 0, sizeof p);
    oh = out_size(same, h, fh, stride, dil);
    ow = out_size(same, w, fw, stride, dil);
    if (oh < 1 || ow < 1 || n * h * w * ic > MAX_IN || oc * fh * fw > MAX_F ||
        n * oh * ow * oc > MAX_OUT || oc > MAX_C) {
        return 0;
    }
    in_d.n = n;
    in_d.h = h;
    in_d.w = w;
    in_d.c = ic;
    f_d.n = 1;
    f_d.h = fh;
    f_d.w = fw;
    f_d.c = oc;
    out_d.n = n;
    out_d.h = oh;
    out_d.w = ow;
    out_d.c = oc;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dil;
    p.pad_h = padding(h, fh, stride, dil, oh);
    p.pad_w = padding(w, fw, stride, dil, ow);
    p.depth_multiplier = mult;
    p.input_offset = -in_zp;
    p.output_offset = out_zp;
    switch (rnd() % 3u) {
    case 0:
        p.act_min = -128;
        p.act_max = 127;
        break;
    case 1:
        p.act_min = out_zp;
        p.act_max = 127;
        break;
    default:
        p.act_min = rnd_in(-128, 0);
        p.act_max = rnd_in(p.act_min, 127);
        break;
    }
    fill_s8(g_in, n * h * w * ic, -128, 127);
    fill_s8(g_filter, oc * fh * fw, (rnd() % 4u) ? -127 : -128, 127);
    for (c = 0; c < oc; ++c) {
        g_bias[c] = rnd_in(-20000, 20000);
        rnd_multiplier(g_scale / (128.0 * (double)(fh * fw)), &g_mult[c], &g_shift[c]);
        g_shift[c] = g_shift[c] < g_max_shift ? g_shift[c] : g_max_shift;
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    out_n = n * oh * ow * oc;
    el_depthwise_conv2d_s8(&p, &q, &in_d, g_in, &f_d, g_filter, use_bias ? g_bias : NULL, &out_d,
                           g_ref);
    sprintf(what, "depthwise case %d: n%d %dx%dx%d m%d f %dx%d s%d d%d %s zp %d/%d act [%d,%d]",
            idx, (int)n, (int)h, (int)w, (int)ic, (int)mult, (int)fh, (int)fw, (int)stride,
            (int)dil, same ? "SAME" : "VALID", (int)in_zp, (int)out_zp, (int)p.act_min,
            (int)p.act_max);
    for (i = 0; i < n_isas; ++i) {
        memset(g_got, GUARD_BYTE, (size_t)out_n + GUARD);
        ++g_checked;
        if (el_opt_depthwise_conv2d_s8(isas[i], &p, &q, &in_d, g_in, &f_d, g_filter,
                                       use_bias ? g_bias : NULL, &out_d, g_got)) {
            ++g_fast;
            ++handled;
            same_output(g_ref, g_got, out_n, what, isas[i]);
        }
        /* hosted thread splits call the kernel per window of channels: two windows, the
         * first a whole number of 16-channel blocks, each reading n < c bytes per pixel */
        if (EL_HOSTED_CPU && mult == 1 && oc >= 32) {
            const int32_t cut = oc / 32 * 16;
            memset(g_got, GUARD_BYTE, (size_t)out_n + GUARD);
            if (el_opt_depthwise_conv2d_s8_cols(isas[i], &p, &q, &in_d, g_in, &f_d, g_filter,
                                                use_bias ? g_bias : NULL, &out_d, g_got, 0, cut) &&
                el_opt_depthwise_conv2d_s8_cols(isas[i], &p, &q, &in_d, g_in, &f_d, g_filter,
                                                use_bias ? g_bias : NULL, &out_d, g_got, cut, oc)) {
                ++g_checked;
                ++g_fast;
                same_output(g_ref, g_got, out_n, what, isas[i]);
            }
        }
    }
    if (mult == 1 && fh * fw <= 64 && handled != n_isas) {
        printf("FAIL %s: the optimized kernel declined a multiplier-1 layer\n", what);
        ++g_failures;
    }
    return 1;
}

int main(void)
{
    static const int32_t chans[] = {1, 3, 8, 15, 16, 17, 31, 32, 33, 64, 65, 96, 130};
    static const int32_t ksz[] = {1, 2, 3, 3, 3, 5, 7};
    static const int32_t zps[] = {-128, -128, 127, 127, 0, -5, 3};
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx, done = 0;
    run_case(-1, 1, 12, 12, 32, 1, 3, 3, 1, 1, 1, -128, 5, 1, isas, n_isas);
    run_case(-2, 1, 11, 11, 144, 1, 3, 3, 2, 1, 1, 7, -128, 1, isas, n_isas);
    run_case(-3, 1, 5, 5, 96, 1, 3, 3, 2, 1, 0, 127, 127, 0, isas, n_isas);
    run_case(-4, 1, 6, 6, 8, 2, 3, 3, 1, 1, 1, 0, 0, 1, isas, n_isas); /* multiplier 2 */
    /* rows longer than two accumulator tiles (runs of interior pixels split at 64), with 24
     * channels (a 16-lane block and an 8-lane tail) and with a dilated 5x5 */
    run_case(-5, 1, 4, 150, 24, 1, 3, 3, 1, 1, 1, -3, 9, 1, isas, n_isas);
    run_case(-6, 1, 3, 140, 16, 1, 5, 5, 1, 2, 1, 127, -128, 1, isas, n_isas);
    run_case(-7, 1, 5, 133, 40, 1, 3, 3, 2, 1, 1, -128, 0, 1, isas, n_isas);
    /* the fused 3x3 kernel (aarch64): padded rows copied into a ring (two images, stride 1
     * and 3, 80 channels = chunks of 64 and 16), a row too wide for its buffer (declined, the
     * tile path), and channels past the last 16 (one by one) */
    run_case(-8, 2, 9, 7, 80, 1, 3, 3, 1, 1, 1, 4, -2, 1, isas, n_isas);
    run_case(-9, 1, 10, 11, 80, 1, 3, 3, 3, 1, 1, -128, 3, 1, isas, n_isas);
    run_case(-10, 1, 1, 130, 64, 1, 3, 3, 1, 1, 1, 0, 0, 1, isas, n_isas);
    run_case(-11, 1, 6, 9, 21, 1, 3, 3, 1, 1, 0, -7, 7, 1, isas, n_isas);
    /* every channel in one fused pass (144 channels, padded rows copied as whole runs; no
     * bias), and a layer whose whole rows do not fit the buffer but 64-channel chunks do */
    run_case(-12, 1, 7, 9, 144, 1, 3, 3, 1, 1, 1, 6, -4, 0, isas, n_isas);
    run_case(-13, 1, 2, 68, 120, 1, 3, 3, 1, 1, 1, 5, -6, 1, isas, n_isas);
    /* the SDOT 3x3 kernel (aarch64 SDOT): 8-channel blocks (12, 20: the last one overlapping),
     * stride-1 rows of 3k + 1 and 3k + 2 pixels (columns shared by three pixels), stride-2
     * rows of odd and even length, a dilated layer and stride 3 (three columns per pixel),
     * and short rows (the int16 kernel's 16-channel blocks, 40: the last one overlapping) */
    run_case(-14, 1, 5, 31, 12, 1, 3, 3, 1, 1, 1, -128, 127, 1, isas, n_isas);
    run_case(-15, 1, 5, 32, 20, 1, 3, 3, 1, 1, 1, 127, -128, 1, isas, n_isas);
    run_case(-16, 1, 4, 45, 8, 1, 3, 3, 2, 1, 1, 3, -9, 1, isas, n_isas);
    run_case(-17, 1, 4, 44, 40, 1, 3, 3, 2, 1, 0, -1, 2, 0, isas, n_isas);
    run_case(-18, 1, 7, 30, 24, 1, 3, 3, 1, 2, 0, 0, 5, 1, isas, n_isas);
    run_case(-19, 1, 4, 30, 12, 1, 3, 3, 3, 1, 1, 9, 1, 1, isas, n_isas);
    /* AVX-512 VNNI: 16 and 32 channels at stride 1, four and two pixels per vector (rows of
     * 4k + 1..3 and 2k + 1 pixels: a last group overlapping the one before; SAME rows copied
     * with their padding, VALID rows read in place; two images; rows of 4 and 3 pixels) */
    run_case(-40, 1, 6, 13, 16, 1, 3, 3, 1, 1, 1, -128, 4, 1, isas, n_isas);
    run_case(-41, 2, 5, 10, 16, 1, 3, 3, 1, 1, 0, 7, -3, 1, isas, n_isas);
    run_case(-42, 1, 4, 11, 16, 1, 3, 3, 1, 1, 1, 0, 127, 0, isas, n_isas);
    run_case(-43, 1, 3, 4, 16, 1, 3, 3, 1, 1, 1, 5, -128, 1, isas, n_isas);
    run_case(-44, 1, 7, 9, 32, 1, 3, 3, 1, 1, 1, -5, 6, 1, isas, n_isas);
    run_case(-45, 2, 6, 8, 32, 1, 3, 3, 1, 1, 0, 127, 0, 1, isas, n_isas);
    run_case(-46, 1, 5, 3, 32, 1, 3, 3, 1, 1, 1, -128, -128, 1, isas, n_isas);
    run_case(-30, 2, 5, 5, 40, 1, 3, 3, 1, 1, 1, -50, 60, 1, isas, n_isas);
    run_case(-31, 1, 9, 9, 24, 1, 3, 3, 2, 1, 1, 17, -17, 1, isas, n_isas);
    /* scales where some channels shift left or not at all (the fused kernels' long form) */
    g_scale = 600.0;
    for (idx = 0; idx < 6; ++idx) {
        run_case(-20 - idx, 1, 7, 6, 40 - 12 * (idx % 3), 1, 3, 3, 1 + idx % 2, 1, 1, pick(zps, 7),
                 pick(zps, 7), 1, isas, n_isas);
    }
    /* the AVX-512 VNNI 3x3 kernel (64 channels, a last block overlapping the one before):
     * 64 to 200 channels, stride 1 and 2, SAME and VALID, dilation 2; right shifts, then
     * shifts of 0 and left */
    for (idx = 0; idx < 16; ++idx) {
        static const int32_t cs[] = {64, 72, 100, 128, 144, 200, 65, 96};
        g_scale = idx >= 8 ? 600.0 : 1.0;
        g_max_shift = idx >= 12 ? 0 : 31;
        run_case(-40 - idx, 1, 5 + idx % 3, 6 + idx % 4, cs[idx % 8], 1, 3, 3, 1 + idx % 2,
                 idx % 5 == 4 ? 2 : 1, idx % 3 != 0, pick(zps, 7), pick(zps, 7), idx % 4 != 0, isas,
                 n_isas);
    }
    g_scale = 1.0;
    g_max_shift = 31;
    for (idx = 0; done < 300 && idx < 5000; ++idx) {
        const int32_t fh = pick(ksz, 7), fw = (rnd() % 4u) ? fh : pick(ksz, 7);
        done += run_case(idx, rnd_in(1, 2), rnd_in(1, 12), rnd_in(1, 12), pick(chans, 13),
                         (rnd() % 8u) ? 1 : rnd_in(2, 3), fh, fw, rnd_in(1, 3),
                         (rnd() % 4u) ? 1 : 2, (int)(rnd() % 2u), pick(zps, 7), pick(zps, 7),
                         (int)(rnd() % 5u != 0), isas, n_isas);
    }
    return finish("test_opt_depthwise", 250 * n_isas);
}
