/* Sparse tensors: the walker, DENSIFY, which ops take sparse inputs, and the sparse
 * FULLY_CONNECTED / CONV_2D / DEPTHWISE_CONV_2D (see el_sparse.h). */
#include "el_sparse.h"
#include "opt/el_opt.h" /* EL_HOSTED_CPU */

static uint32_t rd_ix(const uint8_t *p, uint8_t bytes, uint32_t i)
{
    p += (size_t)i * bytes;
    if (bytes == 4) {
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
               ((uint32_t)p[3] << 24);
    }
    if (bytes == 2) {
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
    }
    return p[0];
}

/* ---- walker ------------------------------------------------------------------------- */

/* Level l's range from the position of the level above (the root for level 0). */
static int enter(el_sparse_iter *it, int32_t l)
{
    const el_sparse_level *lv = &it->sp->level[l];
    const uint32_t parent = l > 0 ? it->pos[l - 1] : 0;
    if (lv->csr) {
        it->pos[l] = rd_ix(lv->segments, lv->seg_bytes, parent);
        it->end[l] = rd_ix(lv->segments, lv->seg_bytes, parent + 1);
    } else {
        it->pos[l] = parent * (uint32_t)lv->size;
        it->end[l] = it->pos[l] + (uint32_t)lv->size;
    }
    return it->pos[l] < it->end[l];
}

static void set_coord(el_sparse_iter *it, int32_t l)
{
    const el_sparse_level *lv = &it->sp->level[l];
    it->coord[lv->dim] = lv->csr ? (int32_t)rd_ix(lv->indices, lv->idx_bytes, it->pos[l])
                                 : (int32_t)(it->pos[l] - (it->end[l] - (uint32_t)lv->size));
}

/* Depth-first: from level l down (advance: move level l on first), backing up past empty
 * ranges; never above it->top. */
static int walk(el_sparse_iter *it, int32_t l, int advance)
{
    const int32_t n = it->sp->n_levels;
    for (;;) {
        if (advance) {
            if (l <= it->top) {
                return 0;
            }
            if (++it->pos[l] >= it->end[l]) {
                --l;
                continue;
            }
            set_coord(it, l);
            ++l;
            advance = 0;
        }
        if (l == n) {
            return 1;
        }
        if (enter(it, l)) {
            set_coord(it, l);
            ++l;
        } else {
            --l;
            advance = 1;
        }
    }
}

int el_sparse_row_begin(el_sparse_iter *it, const el_sparsity *sp, int32_t row)
{
    it->sp = sp;
    it->top = 0;
    it->pos[0] = (uint32_t)row;
    it->end[0] = (uint32_t)row + 1u;
    it->coord[sp->level[0].dim] = row;
    return walk(it, 1, 0);
}

int el_sparse_begin(el_sparse_iter *it, const el_sparsity *sp)
{
    it->sp = sp;
    it->top = -1;
    return walk(it, 0, 0);
}

int el_sparse_next(el_sparse_iter *it)
{
    return walk(it, it->sp->n_levels - 1, 1);
}

/* ---- which ops take sparse inputs ---------------------------------------------------- */

static int32_t row_dim(int32_t code)
{
    return code == EL_OP_DEPTHWISE_CONV_2D ? 3 : 0;
}

/* Why `consumer` cannot read sparse weights `sp` directly, or NULL when it can. */
static const char *weights_problem(el_context *ctx, const el_node *consumer, const el_sparsity *sp)
{
    const int32_t code = consumer->builtin_code;
    const el_tensor *in = el_input(ctx, consumer, 0), *w = el_input(ctx, consumer, 1);
    const int32_t rd = row_dim(code);
    if (code != EL_OP_FULLY_CONNECTED && code != EL_OP_CONV_2D && code != EL_OP_DEPTHWISE_CONV_2D) {
        return "only FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D take sparse weights";
    }
    if (in == NULL || w == NULL ||
        !((in->type == EL_FLOAT32 && w->type == EL_FLOAT32) ||
          (in->type == EL_INT8 && w->type == EL_INT8))) {
        return "sparse weights run with float32 or int8 inputs and weights only";
    }
    if (sp->rank != (code == EL_OP_FULLY_CONNECTED ? 2 : 4) || sp->level[0].dim != rd ||
        sp->level[0].csr || sp->block_size[rd] != 1) {
        return "the output-channel dimension of sparse weights must be the outermost level, "
               "DENSE and not blocked";
    }
    return NULL;
}

int el_sparse_weights_ok(el_context *ctx, const el_node *consumer, const el_sparsity *sp)
{
    return weights_problem(ctx, consumer, sp) == NULL;
}

el_status el_sparse_node_check(el_context *ctx, el_node *node)
{
    int32_t k;
    for (k = 0; k < node->n_inputs; ++k) {
        const el_tensor *t = el_input(ctx, node, k);
        el_sparsity sp;
        const char *why;
        if (t == NULL || !(t->flags & EL_TENSOR_SPARSE)) {
            continue;
        }
        if (node->builtin_code == EL_OP_DENSIFY && k == 0) {
            continue;
        }
        if (k != 1 ||
            (node->builtin_code != EL_OP_FULLY_CONNECTED && node->builtin_code != EL_OP_CONV_2D &&
             node->builtin_code != EL_OP_DEPTHWISE_CONV_2D)) {
            return EL_UNSUP(ctx, node,
                            "input %d is a sparse tensor: only DENSIFY and the weights "
                            "of FULLY_CONNECTED, CONV_2D and DEPTHWISE_CONV_2D may be sparse",
                            (int)k);
        }
        EL_TRY(el_get_input_sparsity(ctx, node, k, &sp));
        why = weights_problem(ctx, node, &sp);
        if (why != NULL) {
            return EL_UNSUP(ctx, node, "sparse weights: %s", why);
        }
    }
    return EL_OK;
}

/* ---- DENSIFY ------------------------------------------------------------------------ */

static el_status densify_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (!(in->flags & EL_TENSOR_SPARSE)) {
        return EL_UNSUP(ctx, node, "input must be a sparse constant");
    }
    if (out->type != in->type || !el_k_same_dims(in, out)) {
        return EL_BAD(ctx, node, "output must have the input's type and shape");
    }
    return EL_OK;
}

/* Where the walker's current value lands in the dense tensor, in elements. */
static size_t dense_offset(const el_sparse_iter *it, const el_tensor *t)
{
    size_t offset = 0;
    int32_t d;
    for (d = 0; d < t->rank; ++d) {
        offset = offset * (size_t)t->dims[d] + (size_t)el_sparse_coord(it, d);
    }
    return offset;
}

static el_status densify_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    const size_t esize = el_dtype_size(in->type);
    const unsigned char *src = (const unsigned char *)in->data;
    unsigned char *dst = (unsigned char *)out->data;
    el_sparsity sp;
    el_sparse_iter it;
    int more;
    EL_TRY(el_get_input_sparsity(ctx, node, 0, &sp));
    memset(dst, 0, out->bytes);
    for (more = el_sparse_begin(&it, &sp); more; more = el_sparse_next(&it)) {
        memcpy(dst + dense_offset(&it, in) * esize, src + (size_t)el_sparse_value(&it) * esize,
               esize);
    }
    return EL_OK;
}

#if EL_HOSTED_CPU
el_status el_sparse_densify_f16_f32(el_context *ctx, el_node *densify, float *dst)
{
    el_tensor *in = el_input(ctx, densify, 0);
    const uint16_t *src = (const uint16_t *)in->data;
    el_sparsity sp;
    el_sparse_iter it;
    int more;
    EL_TRY(el_get_input_sparsity(ctx, densify, 0, &sp));
    memset(dst, 0, (size_t)el_tensor_elements(in) * sizeof(float));
    for (more = el_sparse_begin(&it, &sp); more; more = el_sparse_next(&it)) {
        dst[dense_offset(&it, in)] = el_f16_to_f32(src[el_sparse_value(&it)]);
    }
    return EL_OK;
}
#endif

const el_kernel el_kernel_densify = {EL_OP_DENSIFY, 0, densify_prepare, densify_invoke};

/* ---- the common layout, read without the walker ----------------------------------------
 * Every level DENSE but the last, which is SPARSE_CSR, no blocks, and the dimensions in the
 * order `order` (what edgelite writes, and MediaPipe's files use for CONV_2D): a row's stored
 * values then come segment by segment, segment s of the last level covering dense position s
 * of the levels above. Same values in the same order as the walker. */
static int csr_last(const el_sparsity *sp, const int8_t *order)
{
    int32_t l;
    if (sp->n_levels != sp->rank || !sp->level[sp->n_levels - 1].csr) {
        return 0;
    }
    for (l = 0; l < sp->n_levels; ++l) {
        if (sp->level[l].dim != order[l] || (l + 1 < sp->n_levels && sp->level[l].csr)) {
            return 0;
        }
    }
    return 1;
}

/* Sums over the stored values j..j1-1 of one CSR range, in order, one loop per index width
 * (the width test stays out of the loop). */
static float dot_f32(float acc, const float *x, const float *w, const el_sparse_level *lv,
                     uint32_t j, uint32_t j1)
{
    const uint8_t *ix = lv->indices;
    if (lv->idx_bytes == 1) {
        for (; j < j1; ++j) {
            acc += x[ix[j]] * w[j];
        }
    } else if (lv->idx_bytes == 2) {
        for (; j < j1; ++j) {
            acc += x[(uint32_t)ix[2 * j] | ((uint32_t)ix[2 * j + 1] << 8)] * w[j];
        }
    } else {
        for (; j < j1; ++j) {
            acc += x[rd_ix(ix, 4, j)] * w[j];
        }
    }
    return acc;
}

static int32_t dot_s8(int32_t acc, const int8_t *x, const int8_t *w, int32_t x_offset,
                      const el_sparse_level *lv, uint32_t j, uint32_t j1)
{
    const uint8_t *ix = lv->indices;
    if (lv->idx_bytes == 1) {
        for (; j < j1; ++j) {
            acc += (int32_t)w[j] * ((int32_t)x[ix[j]] + x_offset);
        }
    } else if (lv->idx_bytes == 2) {
        for (; j < j1; ++j) {
            acc += (int32_t)w[j] *
                   ((int32_t)x[(uint32_t)ix[2 * j] | ((uint32_t)ix[2 * j + 1] << 8)] + x_offset);
        }
    } else {
        for (; j < j1; ++j) {
            acc += (int32_t)w[j] * ((int32_t)x[rd_ix(ix, 4, j)] + x_offset);
        }
    }
    return acc;
}

/* ---- FULLY_CONNECTED ---------------------------------------------------------------- */

static float clampf(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

el_status el_sparse_fully_connected(el_context *ctx, el_node *node, const el_fc_params *p,
                                    const el_pc_quant *q, int per_channel, int32_t batches,
                                    int32_t depth, int32_t units)
{
    el_tensor *in = el_input(ctx, node, 0), *filter = el_input(ctx, node, 1);
    el_tensor *bias = el_input(ctx, node, 2), *out = el_output(ctx, node, 0);
    el_sparsity sp;
    el_sparse_iter it;
    int32_t b, u;
    int more;
    EL_TRY(el_get_input_sparsity(ctx, node, 1, &sp));
    if (csr_last(&sp, (const int8_t[]){0, 1})) {
        const el_sparse_level *lv = &sp.level[1];
        for (b = 0; b < batches; ++b) {
            int32_t xsum = 0, d;
            if (in->type == EL_INT8 && p->filter_offset != 0) {
                for (d = 0; d < depth; ++d) {
                    xsum += (int32_t)EL_S8(in)[(size_t)b * depth + d] + p->input_offset;
                }
            }
            for (u = 0; u < units; ++u) {
                const uint32_t j0 = rd_ix(lv->segments, lv->seg_bytes, (uint32_t)u);
                const uint32_t j1 = rd_ix(lv->segments, lv->seg_bytes, (uint32_t)u + 1u);
                if (in->type == EL_FLOAT32) {
                    const float *x = EL_F32(in) + (size_t)b * depth, *w = EL_F32(filter);
                    const float acc = dot_f32(0.0f, x, w, lv, j0, j1);
                    EL_F32(out)
                    [(size_t)b * units + u] =
                        clampf(acc + (bias ? EL_F32(bias)[u] : 0.0f), p->act_min_f, p->act_max_f);
                } else {
                    const int8_t *x = EL_S8(in) + (size_t)b * depth, *w = EL_S8(filter);
                    const int32_t qi = per_channel ? u : 0;
                    int32_t acc =
                        dot_s8(p->filter_offset * xsum, x, w, p->input_offset, lv, j0, j1);
                    if (bias) {
                        acc += EL_S32(bias)[u];
                    }
                    acc = el_requant(acc, q->multiplier[qi], q->shift[qi]) + p->output_offset;
                    EL_S8(out)
                    [(size_t)b * units + u] = (int8_t)el_clamp_i32(acc, p->act_min, p->act_max);
                }
            }
        }
        return EL_OK;
    }
    for (b = 0; b < batches; ++b) {
        if (in->type == EL_FLOAT32) {
            const float *x = EL_F32(in) + (size_t)b * depth, *w = EL_F32(filter);
            for (u = 0; u < units; ++u) {
                float acc = 0.0f;
                for (more = el_sparse_row_begin(&it, &sp, u); more; more = el_sparse_next(&it)) {
                    acc += x[el_sparse_coord(&it, 1)] * w[el_sparse_value(&it)];
                }
                EL_F32(out)
                [(size_t)b * units + u] =
                    clampf(acc + (bias ? EL_F32(bias)[u] : 0.0f), p->act_min_f, p->act_max_f);
            }
        } else {
            const int8_t *x = EL_S8(in) + (size_t)b * depth, *w = EL_S8(filter);
            /* Stored zeros are q = 0, worth filter_offset each: sum(x + input_offset) once. */
            int32_t xsum = 0, d;
            if (p->filter_offset != 0) {
                for (d = 0; d < depth; ++d) {
                    xsum += (int32_t)x[d] + p->input_offset;
                }
            }
            for (u = 0; u < units; ++u) {
                const int32_t qi = per_channel ? u : 0;
                int32_t acc = p->filter_offset * xsum;
                for (more = el_sparse_row_begin(&it, &sp, u); more; more = el_sparse_next(&it)) {
                    acc += (int32_t)w[el_sparse_value(&it)] *
                           ((int32_t)x[el_sparse_coord(&it, 1)] + p->input_offset);
                }
                if (bias) {
                    acc += EL_S32(bias)[u];
                }
                acc = el_requant(acc, q->multiplier[qi], q->shift[qi]) + p->output_offset;
                EL_S8(out)
                [(size_t)b * units + u] = (int8_t)el_clamp_i32(acc, p->act_min, p->act_max);
            }
        }
    }
    return EL_OK;
}

/* ---- CONV_2D and DEPTHWISE_CONV_2D ------------------------------------------------------ */

/* One output value's sum in the csr_last layout: CONV_2D [O, KH, KW, I] with the input
 * channels CSR, DEPTHWISE_CONV_2D [1, KH, KW, C] stored as (C, 1, KH, KW) with KW CSR. Taps
 * in the dense kernels' order (ky, kx, ic), padding skipped as they skip it. */
static void sparse_taps(const el_conv_params *p, const el_sparsity *sp, const el_tensor *in,
                        const el_tensor *filter, const el_dims *in_dims, const el_dims *f_dims,
                        int32_t b, int32_t y0, int32_t x0, int32_t oc, int32_t c0, int depthwise,
                        int32_t *acc_out, float *accf_out)
{
    const el_sparse_level *lv = &sp->level[3];
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t f_h = f_dims->h, f_w = f_dims->w;
    const int is_float = in->type == EL_FLOAT32;
    int32_t ky, kx, acc = 0;
    float accf = 0.0f;
    uint32_t j;
    for (ky = 0; ky < f_h; ++ky) {
        const int32_t iy = y0 + p->dilation_h * ky;
        const size_t row = ((size_t)b * in_h + (size_t)(iy < 0 ? 0 : iy)) * in_w;
        if (iy < 0 || iy >= in_h) {
            continue;
        }
        if (depthwise) { /* segment oc * KH + ky lists the kx present */
            const uint32_t s = (uint32_t)oc * (uint32_t)f_h + (uint32_t)ky;
            const uint32_t j1 = rd_ix(lv->segments, lv->seg_bytes, s + 1u);
            for (j = rd_ix(lv->segments, lv->seg_bytes, s); j < j1; ++j) {
                const int32_t ix =
                    x0 + p->dilation_w * (int32_t)rd_ix(lv->indices, lv->idx_bytes, j);
                size_t at;
                if (ix < 0 || ix >= in_w) {
                    continue;
                }
                at = (row + (size_t)ix) * in_c + (size_t)c0;
                if (is_float) {
                    accf += EL_F32(in)[at] * EL_F32(filter)[j];
                } else {
                    acc += (int32_t)EL_S8(filter)[j] * ((int32_t)EL_S8(in)[at] + p->input_offset);
                }
            }
            continue;
        }
        for (kx = 0; kx < f_w; ++kx) { /* segment (oc * KH + ky) * KW + kx lists the ic */
            const int32_t ix = x0 + p->dilation_w * kx;
            const uint32_t s =
                ((uint32_t)oc * (uint32_t)f_h + (uint32_t)ky) * (uint32_t)f_w + (uint32_t)kx;
            size_t base;
            uint32_t j1;
            if (ix < 0 || ix >= in_w) {
                continue;
            }
            base = (row + (size_t)ix) * in_c + (size_t)c0;
            j1 = rd_ix(lv->segments, lv->seg_bytes, s + 1u);
            j = rd_ix(lv->segments, lv->seg_bytes, s);
            if (is_float) {
                accf = dot_f32(accf, EL_F32(in) + base, EL_F32(filter), lv, j, j1);
            } else {
                acc = dot_s8(acc, EL_S8(in) + base, EL_S8(filter), p->input_offset, lv, j, j1);
            }
        }
    }
    *acc_out = acc;
    *accf_out = accf;
}

el_status el_sparse_conv(el_context *ctx, el_node *node, const el_conv_params *p,
                         const el_pc_quant *q, const el_dims *in_dims, const el_dims *f_dims,
                         const el_dims *out_dims, int depthwise)
{
    el_tensor *in = el_input(ctx, node, 0), *filter = el_input(ctx, node, 1);
    el_tensor *bias = el_input(ctx, node, 2), *out = el_output(ctx, node, 0);
    const int32_t in_h = in_dims->h, in_w = in_dims->w, in_c = in_dims->c;
    const int32_t out_h = out_dims->h, out_w = out_dims->w, out_c = out_dims->c;
    /* CONV_2D groups: in_c is a multiple of the filter's input channels */
    const int32_t per_group = depthwise ? 1 : out_c / (in_c / f_dims->c);
    const int is_float = in->type == EL_FLOAT32;
    el_sparsity sp;
    el_sparse_iter it;
    int32_t b, oy, ox, oc;
    int more, fast;
    EL_TRY(el_get_input_sparsity(ctx, node, 1, &sp));
    fast = csr_last(&sp, depthwise ? (const int8_t[]){3, 0, 1, 2} : (const int8_t[]){0, 1, 2, 3});
    for (b = 0; b < in_dims->n; ++b) {
        for (oy = 0; oy < out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            for (ox = 0; ox < out_w; ++ox) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                const size_t o = (((size_t)b * out_h + oy) * out_w + ox) * out_c;
                for (oc = 0; oc < out_c; ++oc) {
                    /* input channel base: the group's first (CONV_2D) or oc's own (depthwise) */
                    const int32_t c0 =
                        depthwise ? oc / p->depth_multiplier : (oc / per_group) * f_dims->c;
                    float accf = 0.0f;
                    int32_t acc = 0;
                    if (fast) {
                        sparse_taps(p, &sp, in, filter, in_dims, f_dims, b, y0, x0, oc, c0,
                                    depthwise, &acc, &accf);
                    }
                    for (more = fast ? 0 : el_sparse_row_begin(&it, &sp, oc); more;
                         more = el_sparse_next(&it)) {
                        const int32_t iy = y0 + p->dilation_h * el_sparse_coord(&it, 1);
                        const int32_t ix = x0 + p->dilation_w * el_sparse_coord(&it, 2);
                        size_t at;
                        if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) {
                            continue;
                        }
                        at = (((size_t)b * in_h + iy) * in_w + ix) * in_c + (size_t)c0 +
                             (depthwise ? 0u : (size_t)el_sparse_coord(&it, 3));
                        if (is_float) {
                            accf += EL_F32(in)[at] * EL_F32(filter)[el_sparse_value(&it)];
                        } else {
                            acc += (int32_t)EL_S8(filter)[el_sparse_value(&it)] *
                                   ((int32_t)EL_S8(in)[at] + p->input_offset);
                        }
                    }
                    if (is_float) {
                        if (bias) {
                            accf += EL_F32(bias)[oc]; /* as the dense kernel: no + 0.0f */
                        }
                        EL_F32(out)[o + oc] = clampf(accf, p->act_min_f, p->act_max_f);
                    } else {
                        if (bias) {
                            acc += EL_S32(bias)[oc];
                        }
                        acc = el_requant(acc, q->multiplier[oc], q->shift[oc]) + p->output_offset;
                        EL_S8(out)[o + oc] = (int8_t)el_clamp_i32(acc, p->act_min, p->act_max);
                    }
                }
            }
        }
    }
    return EL_OK;
}
