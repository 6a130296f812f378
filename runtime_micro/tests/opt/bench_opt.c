/* Instruction counts of the optimized kernels vs the reference on MobileNet-like layers.
 * Each kernel call is bracketed by el_bench_begin / el_bench_end, the markers of
 * tools/qemu_insn_plugin.c (`make TARGET=... PLUGIN=... insns`); the program prints each
 * region's multiply-accumulates so instructions per MAC follow. Not a test: no pass/fail. */
#include "opt_test.h"
#include "opt/opt_internal.h"

#include "bench_marks.h"

#define H 8
#define W 8
#define CIN 96
#define COUT 24

static int8_t g_in[H * W * CIN], g_f[COUT * CIN > 9 * CIN ? COUT * CIN : 9 * CIN];
static int8_t g_out[H * W * (CIN > COUT ? CIN : COUT)];
static int32_t g_bias[CIN], g_mult[CIN], g_shift[CIN];

int main(void)
{
    el_conv_params p;
    el_pc_quant q;
    el_dims in_d = {1, H, W, CIN}, f1 = {COUT, 1, 1, CIN}, o1 = {1, H, W, COUT};
    el_dims fd = {1, 3, 3, CIN}, od = {1, H, W, CIN};
    int32_t c;
    memset(&p, 0, sizeof p);
    p.stride_h = p.stride_w = p.dilation_h = p.dilation_w = 1;
    p.input_offset = 5;
    p.output_offset = -3;
    p.act_min = -128;
    p.act_max = 127;
    p.depth_multiplier = 1;
    fill_s8(g_in, (int32_t)sizeof g_in, -128, 127);
    fill_s8(g_f, (int32_t)sizeof g_f, -127, 127);
    for (c = 0; c < CIN; ++c) {
        g_bias[c] = rnd_in(-1000, 1000);
        rnd_multiplier(1.0 / 4096.0, &g_mult[c], &g_shift[c]);
    }
    q.multiplier = g_mult;
    q.shift = g_shift;
    printf("region 1: conv 1x1 %dx%dx%d -> %d optimized, MACs %d\n", H, W, CIN, COUT,
           H * W * CIN * COUT);
    el_bench_begin();
    el_opt_conv2d_s8(isa_all(), &p, &q, &in_d, g_in, &f1, g_f, g_bias, NULL, &o1, g_out);
    el_bench_end();
    printf("region 2: the same, reference\n");
    el_bench_begin();
    el_conv2d_s8(&p, &q, &in_d, g_in, &f1, g_f, g_bias, &o1, g_out);
    el_bench_end();
    {
        /* the GEMM building block alone: 64 rows x 24 columns x 96 */
        static int32_t c_out[64 * COUT], bsum[COUT];
        const int8_t *rows[64];
        int32_t i;
        for (i = 0; i < 64; ++i) {
            rows[i] = g_in + i * CIN;
        }
        printf("region 3: gemm 64x%dx%d (active isa), MACs %d\n", COUT, CIN, 64 * COUT * CIN);
        el_bench_begin();
        el_opt_kernels_for(isa_all())->gemm(64, COUT, CIN, rows, g_f, CIN, bsum, c_out, COUT);
        el_bench_end();
    }
    p.pad_h = p.pad_w = 1;
    printf("region 4: depthwise 3x3 %dx%dx%d optimized, MACs %d\n", H, W, CIN, H * W * CIN * 9);
    el_bench_begin();
    el_opt_depthwise_conv2d_s8(isa_all(), &p, &q, &in_d, g_in, &fd, g_f, g_bias, &od, g_out);
    el_bench_end();
    printf("region 5: the same, reference\n");
    el_bench_begin();
    el_depthwise_conv2d_s8(&p, &q, &in_d, g_in, &fd, g_f, g_bias, &od, g_out);
    el_bench_end();
    return 0;
}
