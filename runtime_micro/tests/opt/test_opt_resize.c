/* RESIZE_BILINEAR float: the optimized kernel vs the reference, bit for bit, under every
 * instruction set this CPU offers: sizes up and down (and equal), every align_corners /
 * half_pixel_centers combination, outputs wider than 256 columns, channels 1..40 (vector tails of every size) and wide ones,
 * inputs with NaNs, infinities and signed zeros. Microcontrollers must decline. */
#include <math.h>

#include "opt_test.h"

#define MAX_N 24000

static float g_in[MAX_N], g_ref[MAX_N + GUARD], g_got[MAX_N + GUARD];

static void fill(float *x, int32_t n, int special)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        const unsigned r = special ? rnd() % 40u : 40u;
        x[i] = r == 0   ? NAN
               : r == 1 ? INFINITY
               : r == 2 ? -INFINITY
               : r == 3 ? 0.0f
               : r == 4 ? -0.0f
                        : (float)rnd_in(-100000, 100000) / 997.0f;
    }
}

static int one_case(int idx, const unsigned *masks, int levels)
{
    static const int32_t sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17};
    el_resize_params p;
    el_dims in_d, out_d;
    int32_t tot, c;
    int lv;
    char what[160];
    memset(&p, 0, sizeof p);
    c = (idx % 5 == 4) ? pick((const int32_t[]){48, 64, 65, 128, 130}, 5) : rnd_in(1, 40);
    in_d.n = out_d.n = rnd_in(1, 2);
    in_d.c = out_d.c = c;
    in_d.h = pick(sizes, 11);
    in_d.w = pick(sizes, 11);
    if (idx % 3 == 0) { /* the model's 2x upsampling */
        out_d.h = in_d.h * 2;
        out_d.w = in_d.w * 2;
    } else {
        out_d.h = pick(sizes, 11);
        out_d.w = pick(sizes, 11);
    }
    if (idx % 11 == 10) { /* wider than the kernel's table of output columns (256) */
        out_d.h = rnd_in(1, 3);
        out_d.w = rnd_in(257, 600);
    }
    p.align_corners = (int)(rnd() % 2u);
    /* TFLite forbids both; the kernels follow the same formulas either way */
    p.half_pixel_centers = (int)(rnd() % 2u);
    if ((int64_t)in_d.n * in_d.h * in_d.w * c > MAX_N ||
        (int64_t)out_d.n * out_d.h * out_d.w * c > MAX_N) {
        return 0;
    }
    tot = out_d.n * out_d.h * out_d.w * c;
    fill(g_in, in_d.n * in_d.h * in_d.w * c, (int)(rnd() % 4u != 0));
    el_resize_bilinear_f32(&p, &in_d, g_in, &out_d, g_ref);
    snprintf(what, sizeof what, "resize case %d: %dx%dx%dx%d -> %dx%d align %d half %d", idx,
             (int)in_d.n, (int)in_d.h, (int)in_d.w, (int)c, (int)out_d.h, (int)out_d.w,
             (int)p.align_corners, (int)p.half_pixel_centers);
    for (lv = 0; lv < levels; ++lv) {
        memset(g_got, GUARD_BYTE, ((size_t)tot + GUARD) * sizeof(float));
        hosted_f32_result(el_opt_resize_bilinear_f32(masks[lv], &p, &in_d, g_in, &out_d, g_got),
                          g_ref, g_got, tot, what, masks[lv]);
        if (EL_HOSTED_CPU && out_d.h > 1) { /* threads: two bands of rows, in either order */
            const int32_t cut = rnd_in(1, out_d.h - 1);
            memset(g_got, GUARD_BYTE, ((size_t)tot + GUARD) * sizeof(float));
            hosted_f32_result(el_opt_resize_bilinear_f32_rows(masks[lv], &p, &in_d, g_in, &out_d,
                                                              g_got, cut, out_d.h) &&
                                  el_opt_resize_bilinear_f32_rows(masks[lv], &p, &in_d, g_in,
                                                                  &out_d, g_got, 0, cut),
                              g_ref, g_got, tot, what, masks[lv]);
        }
    }
    return 1;
}

int main(void)
{
    unsigned masks[8];
    const int levels = isa_levels(masks);
    int idx, done = 0;
    for (idx = 0; done < 400 && idx < 5000; ++idx) {
        done += one_case(idx, masks, levels);
    }
    ++g_checked;
    if (el_opt_resize_bilinear_f32(0, NULL, NULL, NULL, NULL, NULL)) { /* optimized path off */
        printf("FAIL resize taken without EL_OPT_ON\n");
        ++g_failures;
    }
    return finish("test_opt_resize", EL_HOSTED_CPU ? 400 * levels : 0);
}
