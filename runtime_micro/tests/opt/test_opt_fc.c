/* FULLY_CONNECTED int8: optimized kernels vs the reference, bit for bit. */
#include "opt_test.h"

#define MAX_IN 8192
#define MAX_F 65536
#define MAX_OUT 4096
#define MAX_U 600

static int8_t g_in[MAX_IN], g_filter[MAX_F], g_ref[MAX_OUT + GUARD], g_got[MAX_OUT + GUARD];
static int32_t g_bias[MAX_U], g_mult[MAX_U], g_shift[MAX_U];
static int32_t g_sbias[MAX_U], g_ssum[MAX_U]; /* el_opt_filter_sums_s8, as prepare keeps them */

/* output scale factor: 96 * depth gives multipliers near 1 (shifts of 0 and left shifts)
 * on inputs and weights in [-3, 3] */
static double g_scale = 1.0;

static int run_case(int idx, int32_t batches, int32_t depth, int32_t units, int per_channel,
                    int32_t in_zp, int32_t filter_zp, int32_t out_zp, int use_bias,
                    const unsigned *isas, int n_isas)
{
    el_fc_params p;
    el_pc_quant q;
    el_opt_sums sums;
    int32_t u, out_n;
    int i, handled = 0;
    char what[160];
    memset(&p, 0, sizeof p);
    if (batches * depth > MAX_IN || units * depth > MAX_F || batches * units > MAX_OUT ||
        units > MAX_U) {
        return 0;
    }
    p.input_offset = -in_zp;
    p.filter_offset = -filter_zp;
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
    if (g_scale > 1.0) { /* small values, so sums near 1 do not all saturate */
        fill_s8(g_in, batches * depth, -3, 3);
        fill_s8(g_filter, units * depth, -3, 3);
    } else {
        fill_s8(g_in, batches * depth, -128, 127);
        fill_s8(g_filter, units * depth, (rnd() % 4u) ? -127 : -128, 127);
    }
    for (u = 0; u < units; ++u) {
        g_bias[u] = g_scale > 1.0 ? rnd_in(-50, 50) : rnd_in(-40000, 40000);
        rnd_multiplier(g_scale / (128.0 * (double)depth), &g_mult[u], &g_shift[u]);
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    out_n = batches * units;
    el_fully_connected_s8(&p, &q, per_channel, batches, depth, g_in, units, g_filter,
                          use_bias ? g_bias : NULL, g_ref);
    sprintf(what, "fc case %d: %d x %d -> %d %s zp %d/%d/%d act [%d,%d]", idx, (int)batches,
            (int)depth, (int)units, per_channel ? "per-channel" : "per-tensor", (int)in_zp,
            (int)filter_zp, (int)out_zp, (int)p.act_min, (int)p.act_max);
    sums.bias = g_sbias;
    sums.sum = g_ssum;
    for (i = 0; i < 2 * n_isas; ++i) { /* each isa summing itself, then with prepare's sums */
        if (i >= n_isas) { /* the sums as prepare makes them, with this isa's row sums */
            el_opt_filter_sums_s8(isas[i - n_isas], units, depth, g_filter,
                                  use_bias ? g_bias : NULL, p.input_offset, g_sbias, g_ssum);
        }
        memset(g_got, GUARD_BYTE, (size_t)out_n + GUARD);
        ++g_checked;
        if (el_opt_fully_connected_s8(isas[i % n_isas], &p, &q, per_channel, batches, depth, g_in,
                                      units, g_filter, use_bias ? g_bias : NULL,
                                      i < n_isas ? NULL : &sums, g_got)) {
            ++g_fast;
            ++handled;
            same_output(g_ref, g_got, out_n, what, isas[i % n_isas]);
        }
    }
    if (filter_zp == 0 && handled != 2 * n_isas) {
        printf("FAIL %s: the optimized kernel declined symmetric weights\n", what);
        ++g_failures;
    }
    return 1;
}

int main(void)
{
    static const int32_t depths[] = {1, 3, 8, 15, 16, 17, 31, 32, 33, 64, 100, 1280, 2100};
    static const int32_t units[] = {1, 2, 3, 10, 16, 17, 257, 600};
    static const int32_t zps[] = {-128, -128, 127, 127, 0, -5, 3};
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx, done = 0;
    run_case(-1, 1, 1280, 10, 1, -128, 0, 4, 1, isas, n_isas);
    run_case(-2, 3, 64, 33, 0, 127, 0, -128, 1, isas, n_isas);
    run_case(-3, 2, 17, 5, 1, 0, 3, 0, 1, isas, n_isas); /* asymmetric weights: reference */
    /* batch 1 (aarch64 SDOT: 8-column tiles): 64-byte steps, 16-byte steps and a 4-byte tail
     * with 7 columns left over; 64 + an 8-byte tail, per-tensor; no 64-byte step */
    run_case(-6, 1, 2100, 23, 1, 5, 0, -9, 1, isas, n_isas);
    run_case(-7, 1, 72, 8, 0, 127, 0, 127, 0, isas, n_isas);
    run_case(-8, 1, 48, 17, 1, -128, 0, -128, 1, isas, n_isas);
    /* shifts of 0 and left shifts (the fused kernels' long form), 1 and 3 rows */
    g_scale = 96.0 * 100.0;
    run_case(-4, 1, 100, 47, 1, -1, 0, -7, 1, isas, n_isas);
    run_case(-5, 3, 100, 9, 0, 4, 0, -3, 1, isas, n_isas);
    /* the AVX-512 VNNI few-row dot products: 16 columns in groups of 4 (a last group of 1 to
     * 16 columns), k tails against its 64-byte masked loads, 1 to 7 rows; right shifts, then
     * shifts of 0 and left */
    for (idx = 0; idx < 24; ++idx) {
        static const int32_t us[] = {5, 13, 14, 29, 64, 100, 12, 31};
        static const int32_t ds[] = {64, 70, 127, 1280, 200, 9};
        const int32_t d = ds[idx % 6];
        g_scale = idx >= 16 ? 96.0 * d : 1.0;
        run_case(-10 - idx, 1 + idx % 7, d, us[idx % 8], idx % 3 != 0, pick(zps, 7), 0,
                 pick(zps, 7), 1, isas, n_isas);
    }
    g_scale = 96.0 * 2100.0;
    run_case(-9, 1, 2100, 16, 1, 7, 0, 2, 1, isas, n_isas);
    g_scale = 1.0;
    for (idx = 0; done < 200 && idx < 5000; ++idx) {
        done += run_case(idx, rnd_in(1, 6), pick(depths, 13), pick(units, 8), (int)(rnd() % 2u),
                         pick(zps, 7), (rnd() % 8u) ? 0 : rnd_in(-3, 3), pick(zps, 7),
                         (int)(rnd() % 5u != 0), isas, n_isas);
    }
    return finish("test_opt_fc", 150 * n_isas);
}
