/* ADD / SUB int8: optimized kernels vs the reference, bit for bit, with multipliers made as
 * TFLite's ADD prepare makes them (left shift 20, input scales over twice the larger one). */
#include "opt_test.h"

#define MAX_N 4096

static int8_t g_a[MAX_N], g_b[MAX_N], g_ref[MAX_N + GUARD], g_got[MAX_N + GUARD];

static void make_params(el_arith_params *p, double s1, double s2, double so)
{
    const double twice = 2.0 * (s1 > s2 ? s1 : s2);
    int sh;
    p->left_shift = 20;
    el_quantize_multiplier_smaller_than_one(s1 / twice, &p->input1_multiplier, &sh);
    p->input1_shift = sh;
    el_quantize_multiplier_smaller_than_one(s2 / twice, &p->input2_multiplier, &sh);
    p->input2_shift = sh;
    el_quantize_multiplier_smaller_than_one(twice / ((double)(1 << 20) * so), &p->output_multiplier,
                                            &sh);
    p->output_shift = sh;
}

int main(void)
{
    static const int32_t zps[] = {-128, -128, 127, 127, 0, -5, 3};
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx;
    for (idx = 0; idx < 300; ++idx) {
        el_arith_params p;
        el_shape s;
        const int is_sub = (int)(rnd() % 3u == 0);
        int32_t d, n = 1;
        int i;
        char what[120];
        memset(&p, 0, sizeof p);
        s.rank = rnd_in(1, 4);
        for (d = 0; d < s.rank; ++d) {
            s.d[d] = rnd_in(1, 7); /* at most 7^4 = 2401 <= MAX_N elements */
            n *= s.d[d];
        }
        make_params(&p, 0.01 + (rnd() % 1000u) / 5000.0, 0.01 + (rnd() % 1000u) / 5000.0,
                    (rnd() % 4u) ? 0.05 + (rnd() % 1000u) / 2000.0 : 0.002);
        p.input1_offset = -pick(zps, 7);
        p.input2_offset = -pick(zps, 7);
        p.output_offset = pick(zps, 7);
        p.act_min = (rnd() % 3u) ? -128 : rnd_in(-128, 0);
        p.act_max = (rnd() % 3u) ? 127 : rnd_in(p.act_min, 127);
        fill_s8(g_a, n, -128, 127);
        fill_s8(g_b, n, -128, 127);
        if (is_sub) {
            el_sub_s8(&p, &s, g_a, &s, g_b, &s, g_ref);
        } else {
            el_add_s8(&p, &s, g_a, &s, g_b, &s, g_ref);
        }
        sprintf(what, "%s case %d: %d elements, zp %d/%d/%d", is_sub ? "sub" : "add", idx, (int)n,
                (int)-p.input1_offset, (int)-p.input2_offset, (int)p.output_offset);
        for (i = 0; i < n_isas; ++i) {
            memset(g_got, GUARD_BYTE, (size_t)n + GUARD);
            ++g_checked;
            if (el_opt_add_s8(isas[i], is_sub, &p, &s, g_a, &s, g_b, &s, g_got)) {
                ++g_fast;
                same_output(g_ref, g_got, n, what, isas[i]);
            }
        }
    }
    {
        /* broadcasting goes to the reference */
        el_arith_params p;
        el_shape s1 = {2, {3, 4}}, s2 = {2, {1, 4}};
        memset(&p, 0, sizeof p);
        make_params(&p, 0.1, 0.1, 0.1);
        p.act_min = -128;
        p.act_max = 127;
        if (el_opt_add_s8(isa_all(), 0, &p, &s1, g_a, &s2, g_b, &s1, g_got)) {
            printf("FAIL add: a broadcasting add was taken by the optimized kernel\n");
            ++g_failures;
        }
    }
    return finish("test_opt_add", 300 * n_isas);
}
