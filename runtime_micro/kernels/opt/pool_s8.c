/* Optimized AVERAGE_POOL_2D / MAX_POOL_2D int8: the window is clipped once per output pixel
 * and the channels (contiguous in NHWC) run in the inner loop, in chunks of int32 sums on the
 * stack. Same sums, same rounding division and clamp as the reference. */
#include "el_opt.h"

#define POOL_C 64

typedef struct {
    int32_t y0, x0, fy0, fy1, fx0, fx1;
} pool_win;

/* The reference's clipping of the window of output (oy, ox) to the input. */
static void window(const el_pool_params *p, const el_dims *in, int32_t oy, int32_t ox, pool_win *w)
{
    w->y0 = oy * p->stride_h - p->pad_h;
    w->x0 = ox * p->stride_w - p->pad_w;
    w->fy0 = w->y0 < 0 ? -w->y0 : 0;
    w->fx0 = w->x0 < 0 ? -w->x0 : 0;
    w->fy1 = in->h - w->y0 < p->filter_h ? in->h - w->y0 : p->filter_h;
    w->fx1 = in->w - w->x0 < p->filter_w ? in->w - w->x0 : p->filter_w;
}

static int pool_s8(uint32_t isa, int is_max, const el_pool_params *p, const el_dims *in_dims,
                   const int8_t *in, const el_dims *out_dims, int8_t *out)
{
    const int32_t in_h = in_dims->h, in_w = in_dims->w, ch = in_dims->c;
    int32_t b, oy, ox, c0, c, fy, fx;
    if (!(isa & EL_OPT_ON) || out_dims->c != ch) {
        return 0;
    }
    for (b = 0; b < in_dims->n; ++b) {
        const int8_t *img = in + (size_t)b * in_h * in_w * ch;
        for (oy = 0; oy < out_dims->h; ++oy) {
            for (ox = 0; ox < out_dims->w; ++ox) {
                int8_t *o = out + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * ch;
                pool_win w;
                window(p, in_dims, oy, ox, &w);
                for (c0 = 0; c0 < ch; c0 += POOL_C) {
                    const int32_t cb = ch - c0 < POOL_C ? ch - c0 : POOL_C;
                    int32_t acc[POOL_C], count = 0;
                    for (c = 0; c < cb; ++c) {
                        acc[c] = is_max ? -128 : 0;
                    }
                    for (fy = w.fy0; fy < w.fy1; ++fy) {
                        for (fx = w.fx0; fx < w.fx1; ++fx) {
                            const int8_t *x =
                                img + ((size_t)(w.y0 + fy) * in_w + (w.x0 + fx)) * ch + c0;
                            if (is_max) {
                                for (c = 0; c < cb; ++c) {
                                    acc[c] = x[c] > acc[c] ? x[c] : acc[c];
                                }
                            } else {
                                for (c = 0; c < cb; ++c) {
                                    acc[c] += x[c];
                                }
                            }
                            ++count;
                        }
                    }
                    for (c = 0; c < cb; ++c) {
                        int32_t v = acc[c];
                        if (!is_max) {
                            /* prepare guarantees a window overlaps the input: count > 0 */
                            v = v > 0 ? (v + count / 2) / count : (v - count / 2) / count;
                        }
                        o[c0 + c] = (int8_t)(v < p->act_min ? p->act_min
                                                            : (v > p->act_max ? p->act_max : v));
                    }
                }
            }
        }
    }
    return 1;
}

int el_opt_avgpool_s8(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                      const int8_t *in, const el_dims *out_dims, int8_t *out)
{
    return pool_s8(isa, 0, p, in_dims, in, out_dims, out);
}

int el_opt_maxpool_s8(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                      const int8_t *in, const el_dims *out_dims, int8_t *out)
{
    return pool_s8(isa, 1, p, in_dims, in, out_dims, out);
}
