/* CONV_2D int8: optimized kernels vs the reference, bit for bit. */
#include "opt_test.h"

#define MAX_IN 49152 /* 7x7x960 */
#define MAX_IN_RANDOM 8192
#define MAX_F 160000 /* 160 x 960 */
#define MAX_F_RANDOM 40000
#define MAX_OUT 16384
#define MAX_C 320

static int8_t g_in[MAX_IN], g_filter[MAX_F], g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD];
static int32_t g_bias[MAX_C], g_mult[MAX_C], g_shift[MAX_C];
static int32_t g_sbias[MAX_C], g_ssum[MAX_C]; /* el_opt_filter_sums_s8, as prepare keeps them */
/* el_opt_conv2d_s8_pack's filter, as prepare keeps it on x86-64 / aarch64 (64-byte aligned) */
static int8_t g_packed[MAX_C * 1024] __attribute__((aligned(64)));
static int g_packed_fast = 0; /* comparisons of the packed path (prepare's panels) */

/* One case; returns 0 when its sizes do not fit the buffers. */
/* output scale factor: 96 * k gives multipliers near 1 (shifts of 0 and left shifts)
 * on inputs and weights in [-3, 3] */
static double g_scale = 1.0;
/* g_bad_at >= 0: that channel's multiplier (g_bad_kind 0) or shift (1: 32, 2: -32) is one the
 * vector requantizers cannot take; every kernel must decline the layer */
static int32_t g_bad_at = -1, g_bad_kind = 0;

static int run_case(int idx, int32_t n, int32_t h, int32_t w, int32_t ic, int32_t oc, int32_t fh,
                    int32_t fw, int32_t stride, int32_t dil, int same, int32_t in_zp,
                    int32_t out_zp, int use_bias, const unsigned *isas, int n_isas)
{
    el_conv_params p;
    el_pc_quant q;
    el_opt_sums sums;
    el_dims in_d, f_d, out_d;
    int32_t oh, ow, c, out_n, k;
    int i;
    char what[160];
    memset(&p, 0, sizeof p);
    oh = out_size(same, h, fh, stride, dil);
    ow = out_size(same, w, fw, stride, dil);
    /* the random cases (idx >= 0) stay within the sizes they always had (they run under QEMU
     * too); only the listed cases use the larger buffers */
    if (oh < 1 || ow < 1 || n * h * w * ic > (idx < 0 ? MAX_IN : MAX_IN_RANDOM) ||
        oc * fh * fw * ic > (idx < 0 ? MAX_F : MAX_F_RANDOM) || n * oh * ow * oc > MAX_OUT ||
        oc > MAX_C) {
        return 0;
    }
    in_d.n = n;
    in_d.h = h;
    in_d.w = w;
    in_d.c = ic;
    f_d.n = oc;
    f_d.h = fh;
    f_d.w = fw;
    f_d.c = ic;
    out_d.n = n;
    out_d.h = oh;
    out_d.w = ow;
    out_d.c = oc;
    p.stride_h = p.stride_w = stride;
    p.dilation_h = p.dilation_w = dil;
    p.pad_h = padding(h, fh, stride, dil, oh);
    p.pad_w = padding(w, fw, stride, dil, ow);
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
        break; /* RELU */
    default:
        p.act_min = rnd_in(-128, 0);
        p.act_max = rnd_in(p.act_min, 127);
        break;
    }
    k = fh * fw * ic;
    if (g_scale > 1.0) { /* small values, so sums near 1 do not all saturate */
        fill_s8(g_in, n * h * w * ic, -3, 3);
        fill_s8(g_filter, oc * k, -3, 3);
    } else {
        fill_s8(g_in, n * h * w * ic, -128, 127);
        fill_s8(g_filter, oc * k, (rnd() % 4u) ? -127 : -128, 127);
    }
    for (c = 0; c < oc; ++c) {
        g_bias[c] = g_scale > 1.0 ? rnd_in(-50, 50) : rnd_in(-40000, 40000);
        rnd_multiplier(g_scale / (128.0 * (double)k), &g_mult[c], &g_shift[c]);
    }
    if (g_bad_at >= 0 && g_bad_at < oc) {
        if (g_bad_kind == 0) {
            g_mult[g_bad_at] = -g_mult[g_bad_at];
        } else {
            g_shift[g_bad_at] = g_bad_kind == 1 ? 32 : -32;
        }
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    out_n = n * oh * ow * oc;
    el_conv2d_s8(&p, &q, &in_d, g_in, &f_d, g_filter, use_bias ? g_bias : NULL, &out_d, g_ref);
    sprintf(what, "conv case %d: n%d %dx%dx%d -> %d, f %dx%d s%d d%d %s zp %d/%d act [%d,%d]", idx,
            (int)n, (int)h, (int)w, (int)ic, (int)oc, (int)fh, (int)fw, (int)stride, (int)dil,
            same ? "SAME" : "VALID", (int)in_zp, (int)out_zp, (int)p.act_min, (int)p.act_max);
    sums.bias = g_sbias;
    sums.sum = g_ssum;
    sums.packed = NULL;
    /* each isa summing itself, then with prepare's sums, then with its packed filter too (where
     * the build keeps one), in two channel windows as two threads run them */
    for (i = 0; i < 3 * n_isas; ++i) {
        const unsigned isa = isas[i % n_isas];
        const int mode = i / n_isas;
        int took;
        if (mode >= 1) { /* the sums as prepare makes them, with this isa's row sums */
            el_opt_filter_sums_s8(isa, oc, k, g_filter, use_bias ? g_bias : NULL, p.input_offset,
                                  g_sbias, g_ssum);
        }
        if (mode == 2) {
            const size_t bytes = el_opt_conv2d_s8_packed_bytes(isa, oc, k, n * oh * ow);
            if (bytes == 0 || !el_opt_conv2d_s8_pack(isa, oc, k, g_filter, g_packed)) {
                continue;
            }
            if (bytes != (size_t)((oc + 15) / 16 * 16) * (size_t)((k + 15) / 16 * 16)) {
                printf("FAIL %s: %u packed bytes\n", what, (unsigned)bytes);
                ++g_failures;
            }
            sums.packed = g_packed;
        }
        memset(g_got, GUARD_BYTE, (size_t)out_n + GUARD);
        ++g_checked;
        if (mode < 2) {
            took = el_opt_conv2d_s8(isa, &p, &q, &in_d, g_in, &f_d, g_filter,
                                    use_bias ? g_bias : NULL, mode ? &sums : NULL, &out_d, g_got);
        } else {
            const int32_t split = oc / 32 * 16; /* whole groups of 16 channels, or 0 */
            took =
                el_opt_conv2d_s8_cols(isa, &p, &q, &in_d, g_in, &f_d, g_filter,
                                      use_bias ? g_bias : NULL, &sums, &out_d, g_got, 0, split) &&
                el_opt_conv2d_s8_cols(isa, &p, &q, &in_d, g_in, &f_d, g_filter,
                                      use_bias ? g_bias : NULL, &sums, &out_d, g_got, split, oc);
            sums.packed = NULL;
        }
        if (took && g_bad_at >= 0) {
            printf("FAIL %s: took channel %d's multiplier %ld shift %ld\n", what, (int)g_bad_at,
                   (long)g_mult[g_bad_at], (long)g_shift[g_bad_at]);
            ++g_failures;
        } else if (took) {
            ++g_fast;
            g_packed_fast += mode == 2;
            same_output(g_ref, g_got, out_n, what, isa);
        }
    }
    return 1;
}

int main(void)
{
    static const int32_t chans[] = {1, 2, 3, 7, 8, 15, 16, 17, 24, 31, 32, 33, 48};
    static const int32_t outs[] = {1, 2, 3, 7, 8, 9, 16, 17, 32, 33};
    static const int32_t ksz[] = {1, 1, 1, 2, 3, 3, 5};
    static const int32_t zps[] = {-128, -128, 127, 127, 0, -5, 3};
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx, done = 0;
    /* MobileNet-like layers first (exact shapes that matter), then a seeded random matrix. */
    run_case(-1, 1, 9, 9, 3, 32, 3, 3, 2, 1, 1, -128, -128, 1, isas, n_isas);
    run_case(-2, 1, 6, 6, 32, 16, 1, 1, 1, 1, 1, 5, -3, 1, isas, n_isas);
    run_case(-3, 1, 4, 4, 16, 300, 1, 1, 1, 1, 1, 127, 127, 1, isas, n_isas); /* > one chunk */
    run_case(-4, 1, 3, 3, 320, 33, 1, 1, 1, 1, 0, 0, 0, 0, isas, n_isas);
    run_case(-5, 2, 7, 5, 17, 9, 1, 1, 2, 1, 1, -1, 2, 1, isas, n_isas); /* 1x1 stride 2 */
    /* k beyond the Cortex-M fused GEMM's 256-byte stack rows: segmented sums (1x1 over 20
     * pixels: calls of 16 and 4 rows; 3x3 over 40 channels: im2col rows in groups of 4) */
    run_case(-120, 1, 5, 4, 320, 24, 1, 1, 1, 1, 0, 3, -7, 1, isas, n_isas);
    run_case(-121, 1, 6, 6, 40, 16, 3, 3, 1, 1, 1, -128, 5, 1, isas, n_isas);
    run_case(-122, 1, 4, 3, 520, 8, 1, 1, 1, 1, 0, 0, 1, 1, isas, n_isas); /* 3 segments */
    /* expansion 1x1 convs with k = 1..17 over enough pixels for the packed-panel GEMMs, full
     * and partial column blocks (each k length takes its own tail path) */
    for (idx = 1; idx <= 17; ++idx) {
        run_case(-100 - idx, 1, 5, 7, idx, idx % 2 ? 16 : 13, 1, 1, 1, 1, 0, pick(zps, 7),
                 pick(zps, 7), 1, isas, n_isas);
    }
    /* the fused SDOT GEMM + requantization (aarch64): 1x1 rows read in place with every k
     * tail of 1..15 past 16 (no reads past k), partial 8-column panels and 4-row groups */
    for (idx = 18; idx <= 49; ++idx) {
        run_case(-200 - idx, 1, 3, 6 + idx % 3, idx, 5 + idx % 12, 1, 1, 1, 1, 0, pick(zps, 7),
                 pick(zps, 7), 1, isas, n_isas);
    }
    /* more pixels than one call's rows (256), and an RGB stem: 3x3 stride 2 over 3 channels
     * (k = 27 in 16-byte padded im2col rows), VALID and SAME */
    run_case(-250, 1, 17, 17, 24, 20, 1, 1, 1, 1, 0, -128, 4, 1, isas, n_isas);
    run_case(-251, 1, 23, 23, 3, 32, 3, 3, 2, 1, 0, -4, -128, 1, isas, n_isas);
    run_case(-252, 1, 24, 21, 3, 19, 3, 3, 2, 1, 1, 7, -128, 1, isas, n_isas);
    run_case(-253, 1, 12, 12, 5, 8, 3, 3, 1, 1, 1, 0, 0, 1, isas, n_isas); /* k = 45 */
    /* few rows of a long k (dot-product tiles of 1 to 4 rows, fused requantization): 9 rows
     * (three tiles of 3), 1, 5 (3 + 2) and 13 (4 + 3 + 3 + 3), k tails of 8 and of 1..15,
     * columns past the last 4; then the same with shifts of 0 and left shifts */
    for (idx = 0; idx < 2; ++idx) {
        g_scale = idx ? 96.0 * 56.0 : 1.0;
        run_case(-300 - 10 * idx, 1, 3, 3, 56, 10, 1, 1, 1, 1, 0, 3, -5, 1, isas, n_isas);
        g_scale = idx ? 96.0 * 40.0 : 1.0;
        run_case(-301 - 10 * idx, 1, 1, 1, 40, 39, 1, 1, 1, 1, 0, 0, -9, 1, isas, n_isas);
        g_scale = idx ? 96.0 * 37.0 : 1.0;
        run_case(-302 - 10 * idx, 1, 1, 5, 37, 13, 1, 1, 1, 1, 0, -1, -128, 0, isas, n_isas);
        g_scale = idx ? 96.0 * 336.0 : 1.0;
        run_case(-303 - 10 * idx, 1, 1, 13, 336, 12, 1, 1, 1, 1, 0, 0, 0, 1, isas, n_isas);
        g_scale = idx ? 96.0 * 90.0 : 1.0;
        run_case(-304 - 10 * idx, 1, 2, 3, 10, 6, 3, 3, 1, 1, 1, -3, 2, 1, isas, n_isas);
    }
    /* the AVX-512 VNNI fused GEMM: 1..4 panels of 16 columns per call (tiles of 16, 12, 8
     * and 6 rows), full and partial last panels, row tails of every tile height, k tails
     * against its 64-byte masked loads (k = 27 stem rows padded to 32, 1x1 k = 8..200, a 5x5
     * with k = 1000 and one past its 1024), right shifts, then shifts of 0 and left */
    for (idx = 0; idx < 28; ++idx) {
        static const int32_t ocs[] = {12, 16, 20, 32, 40, 48, 50, 63, 64, 96, 130, 57, 33, 49};
        static const int32_t ics[] = {8, 16, 24, 40, 72, 96, 200};
        const int32_t oc = ocs[idx % 14], ic = ics[idx % 7];
        g_scale = idx >= 14 ? 96.0 * ic : 1.0;
        run_case(-400 - idx, 1, 5 + idx % 4, 3 + idx % 5, ic, oc, 1, 1, 1, 1, 0, pick(zps, 7),
                 pick(zps, 7), 1, isas, n_isas);
    }
    g_scale = 1.0;
    run_case(-430, 1, 21, 19, 3, 48, 3, 3, 2, 1, 0, -3, -128, 1, isas, n_isas);
    run_case(-431, 1, 6, 6, 40, 9, 5, 5, 1, 1, 0, 5, 2, 1, isas, n_isas);   /* k = 1000 */
    run_case(-432, 1, 5, 5, 41, 20, 5, 5, 1, 1, 0, -7, 1, 1, isas, n_isas); /* k = 1025 */
    /* MobileNetV2's 7x7 projections: a long k over 49 pixels, which the AVX2 fused GEMM
     * takes only with prepare's packed panels (two column blocks: 64 + 32, 64 + 64 + 32) */
    run_case(-433, 1, 7, 7, 576, 96, 1, 1, 1, 1, 0, -128, 3, 1, isas, n_isas);
    run_case(-434, 1, 7, 7, 960, 160, 1, 1, 1, 1, 0, 5, -128, 1, isas, n_isas);
    /* a negative multiplier, a shift of 32 or of -32 in one channel: in the first 8 (the
     * hosted check's vector lanes), past them, in the lanes' tail, and in the second of two
     * thread windows */
    for (idx = 0; idx < 12; ++idx) {
        static const int32_t at[] = {3, 17, 35, 22};
        g_bad_at = at[idx % 4];
        g_bad_kind = idx / 4;
        run_case(-500 - idx, 1, 4, 5, 24, g_bad_at < 20 ? 20 : 40, 1, 1, 1, 1, 0, 2, -1, 1, isas,
                 n_isas);
    }
    g_bad_at = -1;
    for (idx = 0; done < 300 && idx < 5000; ++idx) {
        const int32_t fh = pick(ksz, 7), fw = (rnd() % 4u) ? fh : pick(ksz, 7);
        done +=
            run_case(idx, rnd_in(1, 2), rnd_in(1, 10), rnd_in(1, 10), pick(chans, 13),
                     pick(outs, 10), fh, fw, rnd_in(1, 3), (rnd() % 4u) ? 1 : 2, (int)(rnd() % 2u),
                     pick(zps, 7), pick(zps, 7), (int)(rnd() % 5u != 0), isas, n_isas);
    }
    printf("test_opt_conv: %d comparisons with the filter packed at prepare\n", g_packed_fast);
    for (idx = 0; idx < n_isas; ++idx) { /* a CPU whose kernels pack: that path ran */
        if (EL_OPT_PACK_S8 && el_opt_conv2d_s8_pack(isas[idx], 1, 1, g_filter, g_packed) &&
            g_packed_fast < 100) {
            printf("FAIL test_opt_conv: the packed filter was used %d times\n", g_packed_fast);
            ++g_failures;
            break;
        }
    }
    return finish("test_opt_conv", 250 * n_isas); /* Cortex-M declines im2col rows > 512 B */
}
