/* Reference RESIZE_NEAREST_NEIGHBOR / RESIZE_BILINEAR (TFLite's coordinate rules; int8
 * bilinear in TFLite's 10-bit fixed point). */
#include <math.h>
#include <string.h>

#include "../el_nn.h"
#include "../el_resize_rules.h"

/* Clang fuses a * b + c within an expression into one rounding by default (GCC in C99 mode
 * does not): the bilinear blend is its separate products and sums on every compiler, as
 * kernels/opt/pool_resize_f32.c computes it in vectors. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

static int32_t nearest(const el_resize_params *p, int32_t v, int32_t in_size, int32_t out_size)
{
    const float scale = el_resize_scale(p->align_corners, in_size, out_size);
    const float offset = p->half_pixel_centers ? 0.5f : 0.0f;
    int32_t r = p->align_corners ? (int32_t)roundf(((float)v + offset) * scale)
                                 : (int32_t)floorf(((float)v + offset) * scale);
    if (r > in_size - 1) {
        r = in_size - 1;
    }
    if (p->half_pixel_centers && r < 0) {
        r = 0;
    }
    return r;
}

void el_resize_nearest(const el_resize_params *p, size_t elem, const el_dims *in_dims,
                       const void *in, const el_dims *out_dims, void *out)
{
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *o = (unsigned char *)out;
    const size_t row = (size_t)in_dims->c * elem;
    int32_t b, y, x;
    for (b = 0; b < out_dims->n; ++b) {
        for (y = 0; y < out_dims->h; ++y) {
            const int32_t iy = nearest(p, y, in_dims->h, out_dims->h);
            for (x = 0; x < out_dims->w; ++x) {
                const int32_t ix = nearest(p, x, in_dims->w, out_dims->w);
                memcpy(o, src + (((size_t)b * in_dims->h + iy) * in_dims->w + ix) * row, row);
                o += row;
            }
        }
    }
}

void el_resize_bilinear_f32(const el_resize_params *p, const el_dims *in_dims, const float *in,
                            const el_dims *out_dims, float *out)
{
    const float hs = el_resize_scale(p->align_corners, in_dims->h, out_dims->h);
    const float ws = el_resize_scale(p->align_corners, in_dims->w, out_dims->w);
    int32_t b, y, x, c;
#define EL_RI(yy, xx) in[(((size_t)b * in_dims->h + (yy)) * in_dims->w + (xx)) * in_dims->c + c]
    for (b = 0; b < out_dims->n; ++b) {
        for (y = 0; y < out_dims->h; ++y) {
            float iy;
            int32_t y0, y1;
            el_resize_interp((float)y, hs, p->half_pixel_centers, in_dims->h, &iy, &y0, &y1);
            for (x = 0; x < out_dims->w; ++x) {
                float ix;
                int32_t x0, x1;
                el_resize_interp((float)x, ws, p->half_pixel_centers, in_dims->w, &ix, &x0, &x1);
                for (c = 0; c < out_dims->c; ++c) {
                    const float dy = iy - (float)y0, dx = ix - (float)x0;
                    out[(((size_t)b * out_dims->h + y) * out_dims->w + x) * out_dims->c + c] =
                        EL_RI(y0, x0) * (1 - dy) * (1 - dx) + EL_RI(y1, x0) * dy * (1 - dx) +
                        EL_RI(y0, x1) * (1 - dy) * dx + EL_RI(y1, x1) * dy * dx;
                }
            }
        }
    }
}

static int32_t scale10(int align_corners, int32_t in_size, int32_t out_size)
{
    if (align_corners && out_size > 1) {
        return ((1 << 10) * (in_size - 1) + (out_size - 1) / 2) / (out_size - 1);
    }
    return ((1 << 10) * in_size + out_size / 2) / out_size;
}

static void interp_i(int32_t v, int32_t s10, int half_pixel, int32_t in_size, int32_t *scaled,
                     int32_t *lo, int32_t *hi)
{
    int32_t l, h;
    *scaled = half_pixel ? v * s10 + s10 / 2 - (1 << 9) : v * s10;
    l = *scaled / (1 << 10); /* C division truncates toward zero, as in TFLite */
    h = (*scaled + (1 << 10) - 1) / (1 << 10);
    *lo = l > 0 ? l : 0;
    *hi = h < in_size - 1 ? h : in_size - 1;
}

void el_resize_bilinear_s8(const el_resize_params *p, const el_dims *in_dims, const int8_t *in,
                           const el_dims *out_dims, int8_t *out)
{
    const int32_t hs = scale10(p->align_corners, in_dims->h, out_dims->h);
    const int32_t ws = scale10(p->align_corners, in_dims->w, out_dims->w);
    int32_t b, y, x, c;
    for (b = 0; b < out_dims->n; ++b) {
        for (y = 0; y < out_dims->h; ++y) {
            int32_t iy, y0, y1;
            interp_i(y, hs, p->half_pixel_centers, in_dims->h, &iy, &y0, &y1);
            for (x = 0; x < out_dims->w; ++x) {
                int32_t ix, x0, x1;
                interp_i(x, ws, p->half_pixel_centers, in_dims->w, &ix, &x0, &x1);
                for (c = 0; c < out_dims->c; ++c) {
                    const int64_t wy1 = iy - (1 << 10) * y0, wy0 = (1 << 10) - wy1;
                    const int64_t wx1 = ix - (1 << 10) * x0, wx0 = (1 << 10) - wx1;
                    const int64_t o20 =
                        (int64_t)EL_RI(y0, x0) * wy0 * wx0 + (int64_t)EL_RI(y1, x0) * wy1 * wx0 +
                        (int64_t)EL_RI(y0, x1) * wy0 * wx1 + (int64_t)EL_RI(y1, x1) * wy1 * wx1;
                    const int64_t round = o20 > 0 ? (1 << 19) : -(1 << 19);
                    out[(((size_t)b * out_dims->h + y) * out_dims->w + x) * out_dims->c + c] =
                        (int8_t)((o20 + round) / (1 << 20));
                }
            }
        }
    }
#undef EL_RI
}
