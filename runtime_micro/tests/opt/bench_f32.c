/* Instruction counts of the float32 kernels on MobileNetV2-0.35/96-like layers (prepacked
 * filters, as the interpreter runs them). Regions bracketed by el_bench_begin / el_bench_end
 * (tools/qemu_insn_plugin.c); the program prints each region's MACs. Not a test.
 *   make TARGET=aarch64 PLUGIN=.../libqemu_insn.so BENCH=bench_f32 insns */
#include "opt_test.h"

#include "bench_marks.h"

static float g_in[97 * 97 * 16 * 6], g_out[48 * 48 * 16 * 6], g_f[1280 * 1000];
static float g_packed[1280 * 1000 + 4096], g_bias[1280];

static void fill(float *p, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        p[i] = (float)((int32_t)(rnd() % 2001u) - 1000) / 1000.0f;
    }
}

/* A square-filter layer with ReLU6 on an h x w input: its parameters and output dims. */
static void layer(el_conv_params *p, el_dims *o_d, int32_t h, int32_t w, int32_t oc, int32_t f,
                  int32_t s, int32_t pad)
{
    memset(p, 0, sizeof *p);
    p->stride_h = p->stride_w = s;
    p->dilation_h = p->dilation_w = 1;
    p->pad_h = p->pad_w = pad;
    p->act_min_f = 0.0f;
    p->act_max_f = 6.0f;
    o_d->n = 1;
    o_d->h = (h + 2 * pad - f) / s + 1;
    o_d->w = (w + 2 * pad - f) / s + 1;
    o_d->c = oc;
}

static void conv(const char *name, int32_t h, int32_t w, int32_t ic, int32_t oc, int32_t f,
                 int32_t s, int32_t pad)
{
    const unsigned isa = isa_all();
    el_conv_params p;
    el_dims in_d = {1, h, w, ic}, f_d = {oc, f, f, ic}, o_d;
    layer(&p, &o_d, h, w, oc, f, s, pad);
    el_opt_conv2d_f32_pack(isa, &in_d, &f_d, g_f, g_packed);
    printf("region: %s conv %dx%dx%d -> %d f%d s%d, MACs %ld\n", name, (int)h, (int)w, (int)ic,
           (int)oc, (int)f, (int)s, (long)o_d.h * o_d.w * oc * f * f * ic);
    el_bench_begin();
    el_opt_conv2d_f32(isa, &p, &in_d, g_in, &f_d, g_f,
                      el_opt_conv2d_f32_packed_bytes(isa, &in_d, &f_d) ? g_packed : NULL, g_bias,
                      &o_d, g_out);
    el_bench_end();
}

static void dw(const char *name, int32_t h, int32_t w, int32_t c, int32_t s, int32_t pad)
{
    el_conv_params p;
    el_dims in_d = {1, h, w, c}, f_d = {1, 3, 3, c}, o_d;
    layer(&p, &o_d, h, w, c, 3, s, pad);
    p.depth_multiplier = 1;
    printf("region: %s depthwise 3x3 %dx%dx%d s%d, MACs %ld\n", name, (int)h, (int)w, (int)c,
           (int)s, (long)o_d.h * o_d.w * c * 9);
    el_bench_begin();
    el_opt_depthwise_conv2d_f32(isa_all(), &p, &in_d, g_in, &f_d, g_f, g_bias, &o_d, g_out);
    el_bench_end();
}

int main(void)
{
    el_fc_params fp;
    fill(g_in, (int32_t)(sizeof g_in / sizeof g_in[0]));
    fill(g_f, (int32_t)(sizeof g_f / sizeof g_f[0]));
    fill(g_bias, 1280);
    conv("stem", 97, 97, 3, 16, 3, 2, 0);
    conv("k27direct", 48, 48, 27, 16, 1, 1, 0);
    conv("stem8", 97, 97, 3, 8, 3, 2, 0);
    conv("stem24", 97, 97, 3, 24, 3, 2, 0);
    conv("expand", 24, 24, 16, 96, 1, 1, 0);
    conv("project", 24, 24, 96, 16, 1, 1, 0);
    conv("last", 3, 3, 112, 1280, 1, 1, 0);
    dw("s1", 24, 24, 96, 1, 1);
    dw("s2", 49, 49, 48, 2, 0);
    dw("small", 6, 6, 168, 1, 1);
    memset(&fp, 0, sizeof fp);
    fp.act_min_f = -1e30f;
    fp.act_max_f = 1e30f;
    printf("region: fc 1280 -> 1000, MACs 1280000\n");
    el_bench_begin();
    el_opt_fully_connected_f32(isa_all(), &fp, 1, 1280, g_in, 1000, g_f, g_bias, g_out);
    el_bench_end();
    return 0;
}
