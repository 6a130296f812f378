/* ADD / SUB / MUL int16: the optimized kernel (kernels/opt/elementwise_s16.c) vs the reference,
 * bit for bit, with multipliers made as TFLite's int16 ADD (left shift 15) and MUL prepares make
 * them: operands of one shape, a single-value operand on either side, int16 extremes, narrow
 * activation clamps, and scale ratios giving left shifts. */
#include "opt_test.h"

#define MAX_N 4096

static int16_t g_a[MAX_N], g_b[MAX_N], g_ref[MAX_N + GUARD], g_got[MAX_N + GUARD];

static void make_params(el_arith_params *p, int op, double s1, double s2, double so)
{
    int sh;
    if (op == 2) {
        el_quantize_multiplier(s1 * s2 / so, &p->output_multiplier, &sh);
        p->output_shift = sh;
    } else {
        const double twice = 2.0 * (s1 > s2 ? s1 : s2);
        p->left_shift = 15;
        el_quantize_multiplier_smaller_than_one(s1 / twice, &p->input1_multiplier, &sh);
        p->input1_shift = sh;
        el_quantize_multiplier_smaller_than_one(s2 / twice, &p->input2_multiplier, &sh);
        p->input2_shift = sh;
        el_quantize_multiplier_smaller_than_one(twice / ((double)(1 << 15) * so),
                                                &p->output_multiplier, &sh);
        p->output_shift = sh;
    }
}

static double scale(void)
{
    return (rnd() % 4u) ? 1e-4 + (rnd() % 1000u) / 1e6 : 1e-6 + (rnd() % 1000u) / 1e4;
}

int main(void)
{
    static const char *names[] = {"add", "sub", "mul"};
    unsigned isas[8];
    const int n_isas = isa_levels(isas);
    int idx, i, have_avx2 = 0;
    for (i = 0; i < n_isas; ++i) {
        have_avx2 |= (isas[i] & EL_OPT_ISA_AVX2) != 0;
    }
    for (idx = 0; idx < 300; ++idx) {
        el_arith_params p;
        el_shape s, one; /* the reference takes operands of the output's rank */
        const int op = (int)(rnd() % 3u), single = (int)(rnd() % 3u); /* 1: a, 2: b single */
        const el_shape *sa = single == 1 ? &one : &s, *sb = single == 2 ? &one : &s;
        int32_t d, n = 1;
        char what[120];
        memset(&p, 0, sizeof p);
        s.rank = rnd_in(1, 4);
        for (d = 0; d < s.rank; ++d) {
            s.d[d] = rnd_in(1, 7); /* at most 2401 elements */
            n *= s.d[d];
            one.d[d] = 1;
        }
        one.rank = s.rank;
        make_params(&p, op, scale(), scale(), scale());
        p.act_min = (rnd() % 3u) ? -32768 : rnd_in(-32768, 0);
        p.act_max = (rnd() % 3u) ? 32767 : rnd_in(p.act_min, 32767);
        fill_s16(g_a, n);
        fill_s16(g_b, n);
        if (op == 0) {
            el_add_s16(&p, sa, g_a, sb, g_b, &s, g_ref);
        } else if (op == 1) {
            el_sub_s16(&p, sa, g_a, sb, g_b, &s, g_ref);
        } else {
            el_mul_s16(&p, sa, g_a, sb, g_b, &s, g_ref);
        }
        sprintf(what, "%s s16 case %d: %d elements, single %d, shifts %d/%d/%d", names[op], idx,
                (int)n, single, (int)p.input1_shift, (int)p.input2_shift, (int)p.output_shift);
        for (i = 0; i < n_isas; ++i) {
            memset(g_got, GUARD_BYTE, (size_t)(n + GUARD) * sizeof(int16_t));
            ++g_checked;
            if (el_opt_binary_s16(isas[i], op, &p, sa, g_a, sb, g_b, &s, g_got)) {
                ++g_fast;
                same_output((const int8_t *)g_ref, (const int8_t *)g_got, 2 * n, what, isas[i]);
            }
        }
    }
    {
        /* a per-row broadcast goes to the reference */
        el_arith_params p;
        el_shape s1 = {2, {3, 4}}, s2 = {2, {1, 4}};
        memset(&p, 0, sizeof p);
        make_params(&p, 0, 0.1, 0.1, 0.1);
        p.act_min = -32768;
        p.act_max = 32767;
        if (el_opt_binary_s16(isa_all(), 0, &p, &s1, g_a, &s2, g_b, &s1, g_got)) {
            printf("FAIL add s16: a broadcasting add was taken by the optimized kernel\n");
            ++g_failures;
        }
    }
    /* x86 AVX2 only: every case on that level */
    return finish("test_opt_binary_s16", have_avx2 ? 300 : 0);
}
