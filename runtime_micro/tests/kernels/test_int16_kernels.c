/* The int16 transformer kernels (int16 GELU table, int16 RSQRT, int16x8 TRANSPOSE_CONV) against
 * outputs of the oracles, recorded in int16_vectors.h by gen_int16_vectors.py (LiteRT for GELU,
 * TFLite Micro for the others). Parameters are derived here the way prepare derives them
 * (activations_common.c, conv_common.c), so each target's compiler and libm (the GELU table is
 * built with the target's erfcf) must reproduce the oracle's bytes. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "el_nn.h"
#include "el_quant.h"
#include "int16_vectors.h"

#define N(a) ((int32_t)(sizeof(a) / sizeof((a)[0])))

static int failures;

static void check_s16(const char *what, const int16_t *got, const int16_t *want, int32_t n)
{
    int32_t i, bad = 0;
    for (i = 0; i < n; ++i) {
        if (got[i] != want[i]) {
            if (bad == 0) {
                printf("FAIL %s: element %ld = %d, want %d\n", what, (long)i, got[i], want[i]);
            }
            ++bad;
        }
    }
    failures += bad != 0;
}

static void test_gelu(void)
{
    static int16_t lut[513], out[N(gelu_in)];
    el_gen_lut_s16(EL_LUT16_GELU, GELU_IN_SCALE * -32768.0f, GELU_IN_SCALE * 32767.0f,
                   GELU_OUT_SCALE * -32768.0f, GELU_OUT_SCALE * 32767.0f, lut);
    el_lut_s16(lut, N(gelu_in), gelu_in, out);
    check_s16("GELU int16", out, gelu_out, N(gelu_in));
}

static void test_rsqrt(void)
{
    static int16_t out[N(rsqrt_in)];
    el_relu_params p = {0, 0, 0, 0, 0, 0};
    int sh;
    el_quantize_multiplier(1.0 / (sqrt((double)RSQRT_IN_SCALE) * (double)RSQRT_OUT_SCALE),
                           &p.multiplier, &sh);
    p.shift = sh;
    el_rsqrt_s16(&p, N(rsqrt_in), rsqrt_in, out);
    check_s16("RSQRT int16", out, rsqrt_out, N(rsqrt_in));
}

static void test_transpose_conv(void)
{
    static int64_t scratch[N(tc_out)];
    static int16_t out[N(tc_out)];
    int32_t mult[2], shift[2];
    el_pc_quant q;
    el_conv_params p = {0};
    el_dims in = {1, 2, 3, 3}, f = {2, 3, 3, 3}, o = {1, 2 * TC_STRIDE, 3 * TC_STRIDE, 2};
    int c;
    for (c = 0; c < 2; ++c) {
        int sh;
        el_quantize_multiplier((double)TC_IN_SCALE * (double)tc_w_scales[c] / (double)TC_OUT_SCALE,
                               &mult[c], &sh);
        shift[c] = sh;
    }
    q.multiplier = mult;
    q.shift = shift;
    p.stride_h = p.stride_w = TC_STRIDE;
    p.dilation_h = p.dilation_w = 1;
    /* SAME: the forward conv over the output needs (3 - stride) / 2 rows before, here 0 */
    p.pad_h = p.pad_w = (3 - TC_STRIDE) / 2;
    p.act_min = -32768;
    p.act_max = 32767;
    el_transpose_conv_s16(&p, &q, &in, tc_in, &f, tc_filter, tc_bias, 1, &o, scratch, out);
    check_s16("TRANSPOSE_CONV int16x8", out, tc_out, N(tc_out));
}

int main(void)
{
    test_gelu();
    test_rsqrt();
    test_transpose_conv();
    printf("test_int16_kernels: %s (%d failures)\n", failures ? "FAIL" : "OK", failures);
    return failures != 0;
}
