/* Reference FULLY_CONNECTED and BATCH_MATMUL (TFLite reference accumulation order). */
#include "../el_nn.h"
#include "../el_quant.h"

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

void el_fully_connected_s8(const el_fc_params *p, const el_pc_quant *q, int per_channel,
                           int32_t batches, int32_t depth, const int8_t *in, int32_t units,
                           const int8_t *filter, const int32_t *bias, int8_t *out)
{
    int32_t b, u, d;
    for (b = 0; b < batches; ++b) {
        const int8_t *x = in + (size_t)b * depth;
        for (u = 0; u < units; ++u) {
            const int8_t *w = filter + (size_t)u * depth;
            const int32_t qi = per_channel ? u : 0;
            int32_t acc = 0;
            for (d = 0; d < depth; ++d) {
                acc += ((int32_t)w[d] + p->filter_offset) * ((int32_t)x[d] + p->input_offset);
            }
            if (bias) {
                acc += bias[u];
            }
            acc = el_requant(acc, q->multiplier[qi], q->shift[qi]) + p->output_offset;
            out[(size_t)b * units + u] = (int8_t)el_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}

void el_fully_connected_f32(const el_fc_params *p, int32_t batches, int32_t depth, const float *in,
                            int32_t units, const float *filter, const float *bias, float *out)
{
    int32_t b, u, d;
    for (b = 0; b < batches; ++b) {
        const float *x = in + (size_t)b * depth;
        for (u = 0; u < units; ++u) {
            const float *w = filter + (size_t)u * depth;
            float acc = 0.0f;
            for (d = 0; d < depth; ++d) {
                acc += x[d] * w[d];
            }
            out[(size_t)b * units + u] =
                clampf(acc + (bias ? bias[u] : 0.0f), p->act_min_f, p->act_max_f);
        }
    }
}

void el_matmul_s8(const el_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out)
{
    int32_t i, j, k;
    for (i = 0; i < p->rows; ++i) {
        for (j = 0; j < p->cols; ++j) {
            int32_t acc = 0;
            for (k = 0; k < p->depth; ++k) {
                const int32_t l = (int32_t)lhs[(size_t)i * p->lhs_si + (size_t)k * p->lhs_sk];
                const int32_t r = (int32_t)rhs[(size_t)k * p->rhs_sk + (size_t)j * p->rhs_sj];
                acc += (l + p->lhs_offset) * (r + p->rhs_offset);
            }
            acc = el_requant(acc, p->multiplier, p->shift) + p->output_offset;
            out[(size_t)i * p->cols + j] = (int8_t)el_clamp_i32(acc, p->act_min, p->act_max);
        }
    }
}

void el_matmul_s16(const el_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *out)
{
    int32_t i, j, k;
    for (i = 0; i < p->rows; ++i) {
        for (j = 0; j < p->cols; ++j) {
            int64_t acc = 0; /* TFLite accumulates int16 products in 64 bits */
            int32_t v;
            for (k = 0; k < p->depth; ++k) {
                const int32_t l = (int32_t)lhs[(size_t)i * p->lhs_si + (size_t)k * p->lhs_sk];
                const int32_t r = (int32_t)rhs[(size_t)k * p->rhs_sk + (size_t)j * p->rhs_sj];
                acc += (int64_t)(l + p->lhs_offset) * (r + p->rhs_offset);
            }
            v = el_requant64(acc, p->multiplier, p->shift) + p->output_offset;
            out[(size_t)i * p->cols + j] = (int16_t)el_clamp_i32(v, p->act_min, p->act_max);
        }
    }
}

void el_matmul_f32(const el_matmul_params *p, const float *lhs, const float *rhs, float *out)
{
    int32_t i, j, k;
    for (i = 0; i < p->rows; ++i) {
        for (j = 0; j < p->cols; ++j) {
            float acc = 0.0f;
            for (k = 0; k < p->depth; ++k) {
                acc += lhs[(size_t)i * p->lhs_si + (size_t)k * p->lhs_sk] *
                       rhs[(size_t)k * p->rhs_sk + (size_t)j * p->rhs_sj];
            }
            out[(size_t)i * p->cols + j] = clampf(acc, p->act_min_f, p->act_max_f);
        }
    }
}

void el_fully_connected_s16(const el_fc_params *p, const el_pc_quant *q, int per_channel,
                            int32_t batches, int32_t depth, const int16_t *in, int32_t units,
                            const int8_t *filter, const void *bias, int bias64, int16_t *out)
{
    int32_t b, u, d;
    for (b = 0; b < batches; ++b) {
        const int16_t *x = in + (size_t)b * depth;
        for (u = 0; u < units; ++u) {
            const int8_t *w = filter + (size_t)u * depth;
            const int32_t qi = per_channel ? u : 0;
            int64_t acc = 0;
            int32_t v;
            for (d = 0; d < depth; ++d) {
                acc += (int64_t)((int32_t)w[d] + p->filter_offset) * x[d];
            }
            if (bias && !bias64) {
                /* int32 bias: TFLite Micro accumulates in 32 bits and requantizes as int8 */
                const int32_t acc32 =
                    (int32_t)((uint32_t)(uint64_t)acc + (uint32_t)((const int32_t *)bias)[u]);
                v = el_requant(acc32, q->multiplier[qi], q->shift[qi]);
            } else {
                if (bias) {
                    acc += el_bias64(((const int64_t *)bias)[u]);
                }
                v = el_requant64(acc, q->multiplier[qi], q->shift[qi]);
            }
            out[(size_t)b * units + u] = (int16_t)el_clamp_i32(v, p->act_min, p->act_max);
        }
    }
}
