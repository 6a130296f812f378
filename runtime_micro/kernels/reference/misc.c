/* L2_POOL_2D, L2_NORMALIZATION, GATHER_ND, TOPK_V2. */
#include <math.h>
#include <string.h>

#include "../el_nn.h"
#include "../el_quant.h"

void el_l2pool_f32(const el_pool_params *p, const el_dims *in_dims, const float *in,
                   const el_dims *out_dims, float *out)
{
    int32_t b, oy, ox, c, fy, fx;
    for (b = 0; b < in_dims->n; ++b) {
        for (oy = 0; oy < out_dims->h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int32_t fy0 = y0 < 0 ? -y0 : 0;
            const int32_t fy1 = in_dims->h - y0 < p->filter_h ? in_dims->h - y0 : p->filter_h;
            for (ox = 0; ox < out_dims->w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const int32_t fx0 = x0 < 0 ? -x0 : 0;
                const int32_t fx1 = in_dims->w - x0 < p->filter_w ? in_dims->w - x0 : p->filter_w;
                for (c = 0; c < in_dims->c; ++c) {
                    float sum = 0.0f, r;
                    int32_t count = 0;
                    for (fy = fy0; fy < fy1; ++fy) {
                        for (fx = fx0; fx < fx1; ++fx) {
                            const float v =
                                in[(((size_t)b * in_dims->h + y0 + fy) * in_dims->w + x0 + fx) *
                                       in_dims->c +
                                   c];
                            sum += v * v;
                            ++count;
                        }
                    }
                    r = sqrtf(sum / (float)count);
                    r = r < p->act_min_f ? p->act_min_f : (r > p->act_max_f ? p->act_max_f : r);
                    out[(((size_t)b * out_dims->h + oy) * out_dims->w + ox) * out_dims->c + c] = r;
                }
            }
        }
    }
}

void el_l2norm_f32(int32_t outer, int32_t depth, const float *in, float *out)
{
    int32_t r, c;
    for (r = 0; r < outer; ++r) {
        const float *x = in + (size_t)r * depth;
        float *y = out + (size_t)r * depth;
        float sq = 0.0f, norm;
        for (c = 0; c < depth; ++c) {
            sq += x[c] * x[c];
        }
        norm = sqrtf(sq);
        norm = norm > 1e-6f ? norm : 1e-6f;
        for (c = 0; c < depth; ++c) {
            y[c] = x[c] / norm;
        }
    }
}

void el_gather_nd(size_t elem, int32_t n_idx, int32_t k, const int32_t *indices,
                  const int32_t *strides, int32_t inner, const void *in, void *out)
{
    const size_t block = (size_t)inner * elem;
    int32_t i, j;
    for (i = 0; i < n_idx; ++i) {
        size_t off = 0;
        for (j = 0; j < k; ++j) {
            off += (size_t)indices[(size_t)i * k + j] * (size_t)strides[j];
        }
        memcpy((unsigned char *)out + (size_t)i * block, (const unsigned char *)in + off * elem,
               block);
    }
}

static double topk_get(el_kind kind, const void *p, size_t i)
{
    switch (kind) {
    case EL_K_F32:
        return ((const float *)p)[i];
    case EL_K_S32:
        return ((const int32_t *)p)[i];
    case EL_K_S8:
        return ((const int8_t *)p)[i];
    default:
        return ((const uint8_t *)p)[i];
    }
}

/* (va, ia) comes before (vb, ib): larger value, then lower index. */
static int topk_before(double va, int32_t ia, double vb, int32_t ib)
{
    return va > vb || (va == vb && ia < ib);
}

void el_topk(el_kind kind, int32_t rows, int32_t n, int32_t k, const void *in, void *values,
             int32_t *indices)
{
    const size_t elem = kind == EL_K_F32 || kind == EL_K_S32 ? 4 : 1;
    int32_t r, t, i;
    for (r = 0; r < rows; ++r) {
        const size_t base = (size_t)r * n;
        double prev_v = 0.0;
        int32_t prev_i = -1;
        for (t = 0; t < k; ++t) {
            int32_t best = -1;
            double best_v = 0.0;
            /* the best element ordered after the previous pick: O(n) per pick, no scratch */
            for (i = 0; i < n; ++i) {
                const double v = topk_get(kind, in, base + (size_t)i);
                if (prev_i >= 0 && !topk_before(prev_v, prev_i, v, i)) {
                    continue;
                }
                if (best < 0 || topk_before(v, i, best_v, best)) {
                    best = i;
                    best_v = v;
                }
            }
            indices[(size_t)r * k + t] = best;
            memcpy((unsigned char *)values + ((size_t)r * k + t) * elem,
                   (const unsigned char *)in + (base + (size_t)best) * elem, elem);
            prev_v = best_v;
            prev_i = best;
        }
    }
}

void el_l2norm_s8(int32_t input_zero_point, int32_t outer, int32_t depth, const int8_t *in,
                  int8_t *out)
{
    int32_t o, i;
    for (o = 0; o < outer; ++o) {
        const int8_t *x = in + (size_t)o * (size_t)depth;
        int8_t *y = out + (size_t)o * (size_t)depth;
        int32_t acc = 0, m;
        int sh;
        for (i = 0; i < depth; ++i) {
            const int32_t v = x[i] - input_zero_point;
            acc += v * v; /* at most 255^2 per element: 2^15 elements fit */
        }
        el_inv_sqrt_multiplier(acc, -1, &m, &sh);
        for (i = 0; i < depth; ++i) {
            /* output scale 1/128: the 2^7 is folded into the shift */
            const int32_t v = el_requant(x[i] - input_zero_point, m, sh + 7);
            y[i] = (int8_t)el_clamp_i32(v, -128, 127);
        }
    }
}
