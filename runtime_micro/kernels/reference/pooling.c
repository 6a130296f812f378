/* Reference AVERAGE_POOL_2D / MAX_POOL_2D (TFLite reference: padding cells are excluded
 * from the average; int8 average rounds half away from zero). */
#include "../el_nn.h"
#include "../el_quant.h"

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

/* Window of output (oy, ox) clipped to the input. */
typedef struct {
    int32_t y0, x0, fy0, fy1, fx0, fx1;
} pool_win;

static void pool_window(const el_pool_params *p, const el_dims *in, int32_t oy, int32_t ox,
                        pool_win *w)
{
    w->y0 = oy * p->stride_h - p->pad_h;
    w->x0 = ox * p->stride_w - p->pad_w;
    w->fy0 = w->y0 < 0 ? -w->y0 : 0;
    w->fx0 = w->x0 < 0 ? -w->x0 : 0;
    w->fy1 = in->h - w->y0 < p->filter_h ? in->h - w->y0 : p->filter_h;
    w->fx1 = in->w - w->x0 < p->filter_w ? in->w - w->x0 : p->filter_w;
}

#define EL_POOL_LOOP(...)                                                                          \
    int32_t b, oy, ox, c, fy, fx;                                                                  \
    for (b = 0; b < in_dims->n; ++b)                                                               \
        for (oy = 0; oy < out_dims->h; ++oy)                                                       \
            for (ox = 0; ox < out_dims->w; ++ox) {                                                 \
                pool_win w;                                                                        \
                pool_window(p, in_dims, oy, ox, &w);                                               \
                for (c = 0; c < in_dims->c; ++c) {                                                 \
                    const size_t oi =                                                              \
                        (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * out_dims->c + c;     \
                    __VA_ARGS__                                                                    \
                }                                                                                  \
            }

#define EL_IN(fy, fx)                                                                              \
    in[(((size_t)b * in_dims->h + (w.y0 + (fy))) * in_dims->w + (w.x0 + (fx))) * in_dims->c + c]

/* int8 and int16 share the integer average (rounded half away from zero) and the max; T is
 * the stored type, LOWEST its smallest value. */
#define AVGPOOL_INT(T)                                                                             \
    EL_POOL_LOOP({                                                                                 \
        int32_t acc = 0, count = 0;                                                                \
        for (fy = w.fy0; fy < w.fy1; ++fy) {                                                       \
            for (fx = w.fx0; fx < w.fx1; ++fx) {                                                   \
                acc += EL_IN(fy, fx);                                                              \
                ++count;                                                                           \
            }                                                                                      \
        }                                                                                          \
        /* prepare guarantees every window overlaps the input, so count > 0 */                     \
        acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;                     \
        out[oi] = (T)el_clamp_i32(acc, p->act_min, p->act_max);                                    \
    })

#define MAXPOOL_INT(T, LOWEST)                                                                     \
    EL_POOL_LOOP({                                                                                 \
        int32_t m = LOWEST;                                                                        \
        for (fy = w.fy0; fy < w.fy1; ++fy) {                                                       \
            for (fx = w.fx0; fx < w.fx1; ++fx) {                                                   \
                const int32_t v = EL_IN(fy, fx);                                                   \
                m = v > m ? v : m;                                                                 \
            }                                                                                      \
        }                                                                                          \
        out[oi] = (T)el_clamp_i32(m, p->act_min, p->act_max);                                      \
    })

void el_avgpool_s8(const el_pool_params *p, const el_dims *in_dims, const int8_t *in,
                   const el_dims *out_dims, int8_t *out)
{
    AVGPOOL_INT(int8_t)
}

void el_avgpool_s16(const el_pool_params *p, const el_dims *in_dims, const int16_t *in,
                    const el_dims *out_dims, int16_t *out)
{
    AVGPOOL_INT(int16_t)
}

void el_maxpool_s8(const el_pool_params *p, const el_dims *in_dims, const int8_t *in,
                   const el_dims *out_dims, int8_t *out)
{
    MAXPOOL_INT(int8_t, -128)
}

void el_maxpool_s16(const el_pool_params *p, const el_dims *in_dims, const int16_t *in,
                    const el_dims *out_dims, int16_t *out)
{
    MAXPOOL_INT(int16_t, -32768)
}

void el_avgpool_f32(const el_pool_params *p, const el_dims *in_dims, const float *in,
                    const el_dims *out_dims, float *out)
{
    EL_POOL_LOOP({
        float acc = 0.0f;
        int32_t count = 0;
        for (fy = w.fy0; fy < w.fy1; ++fy) {
            for (fx = w.fx0; fx < w.fx1; ++fx) {
                acc += EL_IN(fy, fx);
                ++count;
            }
        }
        out[oi] = clampf(acc / (float)count, p->act_min_f, p->act_max_f);
    })
}

/* Channels innermost (the running maxima live in the output pixel): every output still sees
 * lowest, then v > m ? v : m over the window's taps in (fy, fx) order, then the clamp. */
void el_maxpool_f32(const el_pool_params *p, const el_dims *in_dims, const float *in,
                    const el_dims *out_dims, float *out)
{
    const int32_t ch = in_dims->c;
    int32_t b, oy, ox, c, fy, fx;
    for (b = 0; b < in_dims->n; ++b) {
        for (oy = 0; oy < out_dims->h; ++oy) {
            for (ox = 0; ox < out_dims->w; ++ox) {
                float *o = out + (((size_t)b * out_dims->h + oy) * out_dims->w + ox) * ch;
                pool_win w;
                pool_window(p, in_dims, oy, ox, &w);
                for (c = 0; c < ch; ++c) {
                    o[c] = -3.402823466e+38f;
                }
                for (fy = w.fy0; fy < w.fy1; ++fy) {
                    for (fx = w.fx0; fx < w.fx1; ++fx) {
                        const float *x = in + (((size_t)b * in_dims->h + (w.y0 + fy)) * in_dims->w +
                                               (w.x0 + fx)) *
                                                  ch;
                        for (c = 0; c < ch; ++c) {
                            o[c] = x[c] > o[c] ? x[c] : o[c];
                        }
                    }
                }
                for (c = 0; c < ch; ++c) {
                    o[c] = clampf(o[c], p->act_min_f, p->act_max_f);
                }
            }
        }
    }
}
