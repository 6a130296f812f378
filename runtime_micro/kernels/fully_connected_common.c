/* FULLY_CONNECTED and BATCH_MATMUL: validation and parameters. */
#include "el_kcommon.h"
#include "el_sparse.h"
#include "opt/el_opt.h"

/* FULLY_CONNECTED op data: the parameters, then (integer only) one multiplier and one shift
 * per weights scale: 1 per-tensor, `units` per-channel. Sizes and types come back from the
 * tensors at invoke. */
typedef struct {
    el_fc_params p;
    int32_t per_channel;
} fc_data;

static int32_t *fc_mult(const fc_data *d)
{
    return (int32_t *)(void *)(d + 1);
}

/* Hosted builds keep an int8 layer's weight sums (el_opt_sums, 8 bytes per unit) after the
 * shifts in the op data when the optimized kernel may take it: constant dense symmetric
 * weights, a constant bias or none. Prepare and invoke ask the same. */
static int fc_keeps_sums(const el_context *ctx, const el_tensor *in, const el_tensor *filter,
                         const el_tensor *bias, int32_t filter_offset)
{
    return EL_OPT_FILTER_SUMS && (el_ctx_isa(ctx) & EL_OPT_ON) && in->type == EL_INT8 &&
           filter_offset == 0 &&
           (filter->flags & (EL_TENSOR_CONST | EL_TENSOR_SPARSE)) == EL_TENSOR_CONST &&
           filter->data != NULL &&
           (bias == NULL || ((bias->flags & EL_TENSOR_CONST) && bias->data != NULL));
}

static el_status fc_prepare(el_context *ctx, el_node *node)
{
    const el_fc_options *o = (const el_fc_options *)node->options;
    el_tensor *in, *filter, *out, *bias;
    fc_data *d;
    unsigned char *mem;
    el_quant fq;
    int32_t units, depth, n_in, is_float, u;
    int keep_sums;
    EL_TRY(el_k_counts(ctx, node, 2, 3, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_in(ctx, node, 1, &filter));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    bias = el_input(ctx, node, 2);
    if (o == NULL) {
        return EL_BAD(ctx, node, "has no FullyConnectedOptions");
    }
    if (o->weights_format != 0) {
        return EL_UNSUP(ctx, node, "weights_format %d is not supported (DEFAULT only)",
                        (int)o->weights_format);
    }
    EL_TRY(el_k_rank(ctx, node, filter, "weights", 2));
    units = filter->dims[0];
    depth = filter->dims[1];
    n_in = el_tensor_elements(in);
    if (n_in % depth != 0) {
        return EL_BAD(ctx, node, "input has %d elements, not a multiple of the weights' depth %d",
                      (int)n_in, (int)depth);
    }
    if (el_tensor_elements(out) != (n_in / depth) * units || out->rank < 1 ||
        out->dims[out->rank - 1] != units) {
        return EL_BAD(ctx, node, "output shape does not match %d batches of %d units",
                      (int)(n_in / depth), (int)units);
    }
    if (EL_KEEP_F32 && in->type == EL_FLOAT32) {
        EL_TRY(el_k_type(ctx, node, filter, "weights", EL_FLOAT32));
        EL_TRY(el_k_type(ctx, node, out, "output", EL_FLOAT32));
        is_float = 1;
    } else if (in->type == EL_INT8 || in->type == EL_INT16) {
        EL_TRY(el_k_type(ctx, node, filter, "weights", EL_INT8));
        EL_TRY(el_k_type(ctx, node, out, "output", in->type));
        is_float = 0;
    } else {
        return EL_UNSUP(ctx, node, "input type %s is not supported (FLOAT32, INT8 or INT16)",
                        el_dtype_name(in->type));
    }
    if (bias != NULL) {
        EL_TRY(el_k_type(
            ctx, node, bias, "bias",
            is_float ? EL_FLOAT32
                     : (in->type == EL_INT16 && bias->type == EL_INT64 ? EL_INT64 : EL_INT32)));
        if (el_tensor_elements(bias) != units) {
            return EL_BAD(ctx, node, "bias has %d elements, expected %d",
                          (int)el_tensor_elements(bias), (int)units);
        }
    }
    if (!is_float) {
        EL_TRY(el_get_input_quant(ctx, node, 1, &fq));
        if (fq.count != 1 && fq.count != units) {
            return EL_UNSUP(ctx, node, "weights have %d scales; expected 1 or %d (per unit)",
                            (int)fq.count, (int)units);
        }
        if (fq.count > 1 && fq.quantized_dimension != 0) {
            return EL_UNSUP(ctx, node, "weights are quantized along dim %d; expected 0",
                            (int)fq.quantized_dimension);
        }
    }
    keep_sums = !is_float && fc_keeps_sums(ctx, in, filter, bias, -el_quant_zero_point(&fq, 0));
    mem = (unsigned char *)el_alloc_op_data(ctx, node,
                                            sizeof(fc_data) +
                                                (is_float ? 0u : 8u * (size_t)fq.count) +
                                                (keep_sums ? 8u * (size_t)units : 0u));
    if (mem == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d = (fc_data *)mem;
    if (is_float) {
        return el_k_act_range_f(ctx, node, o->activation, &d->p.act_min_f, &d->p.act_max_f);
    } else {
        int32_t *mult = fc_mult(d), *shift = mult + fq.count;
        float in_s, out_s;
        int32_t in_zp, out_zp;
        EL_TRY(el_k_qin(ctx, node, 0, &in_s, &in_zp));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        d->per_channel = fq.count > 1;
        for (u = 0; u < fq.count; ++u) {
            const float fs = el_quant_scale(&fq, u);
            int sh;
            if (!(fs > 0.0f)) {
                return EL_BAD(ctx, node, "weights scale %d is not positive", (int)u);
            }
            if (fq.count > 1 && el_quant_zero_point(&fq, u) != 0) {
                return EL_UNSUP(ctx, node, "per-channel weights need zero point 0");
            }
            el_quantize_multiplier((double)in_s * (double)fs / (double)out_s, &mult[u], &sh);
            shift[u] = sh;
        }
        d->p.input_offset = -in_zp;
        d->p.filter_offset = -el_quant_zero_point(&fq, 0);
        d->p.output_offset = out_zp;
        if (in->type == EL_INT16) {
            if (in_zp != 0 || out_zp != 0) {
                return EL_UNSUP(ctx, node, "int16 activations need zero point 0");
            }
            for (u = 0; u < fq.count; ++u) {
                if (shift[u] < -31 || shift[u] > 7) {
                    return EL_UNSUP(ctx, node, "scale ratio out of the int16 requantize range");
                }
            }
        }
        if (d->p.filter_offset < -127 || d->p.filter_offset > 128) {
            return EL_BAD(ctx, node, "weights zero point is outside the int8 range");
        }
        if (keep_sums) {
            el_opt_filter_sums_s8(el_ctx_isa(ctx), units, depth, EL_S8(filter),
                                  bias ? EL_S32(bias) : NULL, d->p.input_offset, shift + fq.count,
                                  shift + fq.count + units);
        }
        return el_k_act_range(ctx, node, o->activation, out->type, out_s, out_zp, &d->p.act_min,
                              &d->p.act_max);
    }
}

/* What invoke needs besides the op data, from the tensors (prepare checked them). */
typedef struct {
    const fc_data *k;
    el_pc_quant q;
    el_opt_sums sums; /* .bias NULL: none kept (the kernel sums the weights itself) */
    int32_t batches, depth, units;
} fc_view;

/* One FULLY_CONNECTED over batches x units (the whole layer, or one task's part of it);
 * filter, bias and q already offset to the task's first unit. f16w: the weights are float16
 * halves (EL_TENSOR_F16: allow_fp16, el_interp.c). */
static void fc_run(el_context *ctx, const fc_data *k, const el_pc_quant *q, int32_t batches,
                   int32_t depth, const void *in, const el_tensor *in_t, int32_t units,
                   const void *filter, int f16w, const void *bias, const el_tensor *bias_t,
                   const el_opt_sums *sums, void *out)
{
    (void)f16w;
    if (EL_KEEP_F32 && in_t->type == EL_FLOAT32) {
#if EL_OPT_F16W
        if (f16w) {
            el_opt_fully_connected_f16w(&k->p, batches, depth, (const float *)in, units,
                                        (const uint16_t *)filter, (const float *)bias,
                                        (float *)out);
            return;
        }
#endif
        if (!el_opt_fully_connected_f32(el_ctx_isa(ctx), &k->p, batches, depth, (const float *)in,
                                        units, (const float *)filter, (const float *)bias,
                                        (float *)out)) {
            el_fully_connected_f32(&k->p, batches, depth, (const float *)in, units,
                                   (const float *)filter, (const float *)bias, (float *)out);
        }
    } else if (EL_KEEP_S16 && in_t->type == EL_INT16) {
        el_fully_connected_s16(&k->p, q, k->per_channel, batches, depth, (const int16_t *)in, units,
                               (const int8_t *)filter, bias,
                               bias_t != NULL && bias_t->type == EL_INT64, (int16_t *)out);
    } else {
        /* kernels/opt: identical bytes when it takes the layer, else the reference. */
        if (!el_opt_fully_connected_s8(el_ctx_isa(ctx), &k->p, q, k->per_channel, batches, depth,
                                       (const int8_t *)in, units, (const int8_t *)filter,
                                       (const int32_t *)bias, sums, (int8_t *)out)) {
            el_fully_connected_s8(&k->p, q, k->per_channel, batches, depth, (const int8_t *)in,
                                  units, (const int8_t *)filter, (const int32_t *)bias,
                                  (int8_t *)out);
        }
    }
}

/* Threads: one batch is split by output units (each unit's dot product is computed whole, as
 * in one call, so the bytes never depend on the split); several batches by batches. Units go
 * in blocks of 4 (the kernels' unit blocks stay whole); on hosted CPUs in a guided split
 * (el_guided_range) of up to EL_FC_FINE_TASKS tasks per thread: with one task per thread,
 * MobileNetV2-0.35/96 int8's 1280 x 1001 classifier left the caller waiting 8 to 47 us per
 * invoke for the other half (traced, two threads, stop 33), 1.7 to 3.3 us split this way. */
typedef struct {
    el_context *ctx;
    const fc_data *k;
    const el_pc_quant *q;
    const el_opt_sums *sums; /* NULL: none kept */
    const el_tensor *in, *filter, *bias;
    el_tensor *out;
    int32_t batches, depth, units, per_task, by_units;
    el_guided g;         /* hosted CPUs, by units: task i is el_guided_range(&g, i) */
    size_t esize, bsize; /* activation and bias element sizes */
} fc_job;

static void fc_task(void *arg, int32_t i)
{
    const fc_job *j = (const fc_job *)arg;
    const int32_t total = j->by_units ? j->units : j->batches;
    int32_t a, n;
    const unsigned char *in = (const unsigned char *)j->in->data;
    const unsigned char *w = (const unsigned char *)j->filter->data;
    const unsigned char *bias = j->bias ? (const unsigned char *)j->bias->data : NULL;
    unsigned char *out = (unsigned char *)j->out->data;
    el_pc_quant q = *j->q;
    el_opt_sums sums;
    if (EL_HOSTED_CPU && j->by_units) {
        int32_t b;
        el_guided_range(&j->g, i, &a, &b);
        n = b - a;
    } else {
        a = i * j->per_task;
        n = a + j->per_task < total ? j->per_task : total - a;
    }
    if (n <= 0)
        return;
    if (j->by_units) {
        w += (size_t)a * (size_t)j->depth *
             (j->in->type == EL_FLOAT32 ? (j->filter->flags & EL_TENSOR_F16 ? 2u : 4u) : 1u);
        if (bias != NULL)
            bias += (size_t)a * j->bsize;
        out += (size_t)a * j->esize;
        if (j->k->per_channel) {
            q.multiplier += a;
            q.shift += a;
        }
        if (j->sums != NULL) {
            sums.bias = j->sums->bias + a;
            sums.sum = j->sums->sum + a;
            sums.packed = NULL;
        }
        fc_run(j->ctx, j->k, &q, 1, j->depth, in, j->in, n, w,
               (j->filter->flags & EL_TENSOR_F16) != 0, bias, j->bias,
               j->sums != NULL ? &sums : NULL, out);
    } else {
        in += (size_t)a * (size_t)j->depth * j->esize;
        out += (size_t)a * (size_t)j->units * j->esize;
        fc_run(j->ctx, j->k, &q, n, j->depth, in, j->in, j->units, w,
               (j->filter->flags & EL_TENSOR_F16) != 0, bias, j->bias, j->sums, out);
    }
}

/* Below this many multiply-adds a layer runs as one call: the hand-off would cost more. */
#define EL_FC_SPLIT_MIN_MACS 32768
#define EL_FC_FINE_TASKS 8

static el_status fc_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *filter = el_input(ctx, node, 1);
    el_tensor *bias = el_input(ctx, node, 2), *out = el_output(ctx, node, 0);
    const fc_data *k = (const fc_data *)node->op_data;
    const int32_t threads = el_ctx_threads(ctx);
    fc_view v, *d = &v;
    fc_job j;
    int32_t total, tasks;
    v.k = k;
    v.units = filter->dims[0];
    v.depth = filter->dims[1];
    v.batches = el_tensor_elements(in) / v.depth;
    v.q.multiplier = fc_mult(k);
    v.q.shift = v.q.multiplier + (k->per_channel ? v.units : 1);
    v.sums.bias = NULL;
    v.sums.sum = NULL;
    v.sums.packed = NULL;
    if (fc_keeps_sums(ctx, in, filter, bias, k->p.filter_offset)) {
        v.sums.bias = v.q.shift + (k->per_channel ? v.units : 1);
        v.sums.sum = v.sums.bias + v.units;
    }
    if (EL_KEEP_SPARSE && (filter->flags & EL_TENSOR_SPARSE)) { /* weights read sparse */
        return el_sparse_fully_connected(ctx, node, &k->p, &d->q, k->per_channel, d->batches,
                                         d->depth, d->units);
    }
    j.by_units = d->batches == 1;
    total = j.by_units ? d->units : d->batches;
    if (threads <= 1 || total <= 1 ||
        (double)d->batches * d->depth * d->units < EL_FC_SPLIT_MIN_MACS) {
        fc_run(ctx, k, &d->q, d->batches, d->depth, in->data, in, d->units, filter->data,
               (filter->flags & EL_TENSOR_F16) != 0, bias ? bias->data : NULL, bias,
               d->sums.bias ? &d->sums : NULL, out->data);
        return EL_OK;
    }
    if (EL_HOSTED_CPU && j.by_units) {
        j.g = el_guided_split(total, 4, threads, EL_FC_FINE_TASKS);
        tasks = el_guided_tasks(&j.g);
    } else {
        j.per_task = (total + threads - 1) / threads;
        if (j.by_units && j.per_task % 4 != 0) { /* keep the units' blocks of 4 whole */
            j.per_task += 4 - j.per_task % 4;
        }
        tasks = (total + j.per_task - 1) / j.per_task;
    }
    j.ctx = ctx;
    j.k = k;
    j.q = &d->q;
    j.sums = d->sums.bias ? &d->sums : NULL;
    j.in = in;
    j.filter = filter;
    j.bias = bias;
    j.out = out;
    j.batches = d->batches;
    j.depth = d->depth;
    j.units = d->units;
    j.esize = in->type == EL_FLOAT32 ? 4u : (in->type == EL_INT16 ? 2u : 1u);
    j.bsize = bias == NULL ? 0u : (bias->type == EL_INT64 ? 8u : 4u);
    el_parallel_for(ctx, tasks, fc_task, &j);
    return EL_OK;
}

/* ---- BATCH_MATMUL ------------------------------------------------------------------ */

#define EL_BMM_MAX_BATCH_DIMS 4

typedef struct {
    el_matmul_params p;
    int32_t is_float; /* 1 float, 0 int8, 2 int16 */
    int32_t n_batch_dims;
    int32_t out_batch[EL_BMM_MAX_BATCH_DIMS];
    int32_t lhs_bstride[EL_BMM_MAX_BATCH_DIMS]; /* elements; 0 where broadcast */
    int32_t rhs_bstride[EL_BMM_MAX_BATCH_DIMS];
} bmm_data;

static el_status bmm_prepare(el_context *ctx, el_node *node)
{
    const el_batch_matmul_options *o = (const el_batch_matmul_options *)node->options;
    el_tensor *lhs, *rhs, *out;
    bmm_data *d;
    el_shape ls, rs;
    int32_t r, nb, i, lrows, lcols, rrows, rcols, lsz, rsz;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &lhs));
    EL_TRY(el_k_in(ctx, node, 1, &rhs));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (lhs->rank < 2 || rhs->rank < 2 || out->rank < 2 || out->rank > EL_BMM_MAX_BATCH_DIMS + 2) {
        return EL_UNSUP(ctx, node, "ranks must be 2 to %d", EL_BMM_MAX_BATCH_DIMS + 2);
    }
    if (lhs->type != rhs->type || lhs->type != out->type ||
        (lhs->type != EL_FLOAT32 && lhs->type != EL_INT8 && lhs->type != EL_INT16)) {
        return EL_UNSUP(ctx, node, "types must all be FLOAT32, all INT8 or all INT16");
    }
    d = (bmm_data *)el_alloc_op_data(ctx, node, sizeof(bmm_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    r = out->rank;
    nb = r - 2;
    if (lhs->rank > r || rhs->rank > r) {
        return EL_BAD(ctx, node, "output rank is smaller than an input's");
    }
    el_k_shape(lhs, r, &ls);
    el_k_shape(rhs, r, &rs);
    lrows = ls.d[r - 2];
    lcols = ls.d[r - 1];
    rrows = rs.d[r - 2];
    rcols = rs.d[r - 1];
    d->p.rows = o && o->adj_x ? lcols : lrows;
    d->p.depth = o && o->adj_x ? lrows : lcols;
    d->p.cols = o && o->adj_y ? rrows : rcols;
    if ((o && o->adj_y ? rcols : rrows) != d->p.depth) {
        return EL_BAD(ctx, node, "inner dimensions differ (%d vs %d)", (int)d->p.depth,
                      (int)(o && o->adj_y ? rcols : rrows));
    }
    d->p.lhs_si = o && o->adj_x ? 1 : lcols;
    d->p.lhs_sk = o && o->adj_x ? lcols : 1;
    d->p.rhs_sk = o && o->adj_y ? 1 : rcols;
    d->p.rhs_sj = o && o->adj_y ? rcols : 1;
    if (out->dims[r - 2] != d->p.rows || out->dims[r - 1] != d->p.cols) {
        return EL_BAD(ctx, node, "output matrix is %dx%d, expected %dx%d", (int)out->dims[r - 2],
                      (int)out->dims[r - 1], (int)d->p.rows, (int)d->p.cols);
    }
    d->n_batch_dims = nb;
    lsz = lrows * lcols;
    rsz = rrows * rcols;
    for (i = nb - 1; i >= 0; --i) {
        const int32_t want = ls.d[i] == 1 ? rs.d[i] : ls.d[i];
        if ((ls.d[i] != 1 && rs.d[i] != 1 && ls.d[i] != rs.d[i]) || out->dims[i] != want) {
            return EL_BAD(ctx, node, "batch dim %d does not broadcast", (int)i);
        }
        d->out_batch[i] = want;
        d->lhs_bstride[i] = ls.d[i] == 1 ? 0 : lsz;
        d->rhs_bstride[i] = rs.d[i] == 1 ? 0 : rsz;
        lsz *= ls.d[i];
        rsz *= rs.d[i];
    }
    d->is_float = lhs->type == EL_FLOAT32;
    if (d->is_float) {
        return el_k_act_range_f(ctx, node, EL_ACT_NONE, &d->p.act_min_f, &d->p.act_max_f);
    } else {
        float ls_, rs_, os_;
        int32_t lz, rz, oz;
        int sh;
        EL_TRY(el_k_qin(ctx, node, 0, &ls_, &lz));
        EL_TRY(el_k_qin(ctx, node, 1, &rs_, &rz));
        EL_TRY(el_k_qout(ctx, node, 0, &os_, &oz));
        el_quantize_multiplier((double)ls_ * (double)rs_ / (double)os_, &d->p.multiplier, &sh);
        d->p.shift = sh;
        d->p.lhs_offset = -lz;
        d->p.rhs_offset = -rz;
        d->p.output_offset = oz;
        el_k_qlimits(lhs->type, &d->p.act_min, &d->p.act_max);
        d->is_float = lhs->type == EL_INT16 ? 2 : 0; /* 2: int16 */
        if (d->is_float == 2 && (lz != 0 || rz != 0 || oz != 0)) {
            return EL_UNSUP(ctx, node, "int16 inputs and output need zero point 0");
        }
        if (d->is_float == 2 && (sh < -31 || sh > 7)) {
            return EL_UNSUP(ctx, node, "scale ratio out of the int16 requantize range");
        }
    }
    return EL_OK;
}

static el_status bmm_invoke(el_context *ctx, el_node *node)
{
    const bmm_data *d = (const bmm_data *)node->op_data;
    el_tensor *lhs = el_input(ctx, node, 0), *rhs = el_input(ctx, node, 1);
    el_tensor *out = el_output(ctx, node, 0);
    int32_t idx[EL_BMM_MAX_BATCH_DIMS] = {0, 0, 0, 0};
    const size_t osz = (size_t)d->p.rows * d->p.cols;
    size_t ob = 0;
    for (;;) {
        size_t lo = 0, ro = 0;
        int32_t i;
        for (i = 0; i < d->n_batch_dims; ++i) {
            lo += (size_t)idx[i] * d->lhs_bstride[i];
            ro += (size_t)idx[i] * d->rhs_bstride[i];
        }
        if (d->is_float == 1) {
            el_matmul_f32(&d->p, EL_F32(lhs) + lo, EL_F32(rhs) + ro, EL_F32(out) + ob * osz);
        } else if (d->is_float == 2) {
            el_matmul_s16(&d->p, EL_S16(lhs) + lo, EL_S16(rhs) + ro, EL_S16(out) + ob * osz);
        } else {
            el_matmul_s8(&d->p, EL_S8(lhs) + lo, EL_S8(rhs) + ro, EL_S8(out) + ob * osz);
        }
        ++ob;
        for (i = d->n_batch_dims - 1; i >= 0; --i) {
            if (++idx[i] < d->out_batch[i]) {
                break;
            }
            idx[i] = 0;
        }
        if (i < 0) {
            return EL_OK;
        }
    }
}

const el_kernel el_kernel_fully_connected = {EL_OP_FULLY_CONNECTED, 0, fc_prepare, fc_invoke};
const el_kernel el_kernel_batch_matmul = {EL_OP_BATCH_MATMUL, 0, bmm_prepare, bmm_invoke};
