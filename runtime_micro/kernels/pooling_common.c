/* AVERAGE_POOL_2D / MAX_POOL_2D: window geometry and activation bounds. */
#include "el_kcommon.h"
#include "opt/el_opt.h"

typedef struct {
    el_pool_params p;
    el_dims in, out;
    int32_t is_float, is16;
} pool_data;

static el_status pool_prepare(el_context *ctx, el_node *node)
{
    const el_pool_options *o = (const el_pool_options *)node->options;
    el_tensor *in, *out;
    pool_data *d;
    int32_t oh, ow;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (o == NULL) {
        return EL_BAD(ctx, node, "has no Pool2DOptions");
    }
    EL_TRY(el_k_rank(ctx, node, in, "input", 4));
    EL_TRY(el_k_rank(ctx, node, out, "output", 4));
    if (in->type != out->type ||
        (in->type != EL_FLOAT32 && in->type != EL_INT8 && in->type != EL_INT16)) {
        return EL_UNSUP(ctx, node, "input and output must both be FLOAT32, INT8 or INT16");
    }
    if (o->stride_h < 1 || o->stride_w < 1 || o->filter_height < 1 || o->filter_width < 1) {
        return EL_BAD(ctx, node, "strides and filter sizes must be >= 1");
    }
    if (o->padding != EL_PADDING_SAME && o->padding != EL_PADDING_VALID) {
        return EL_UNSUP(ctx, node, "padding %d is not SAME or VALID", (int)o->padding);
    }
    if (node->builtin_code == EL_OP_L2_POOL_2D && in->type != EL_FLOAT32) {
        return EL_UNSUP(ctx, node, "only FLOAT32 is supported");
    }
    d = (pool_data *)el_alloc_op_data(ctx, node, sizeof(pool_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    el_k_dims4(in, &d->in);
    el_k_dims4(out, &d->out);
    oh = el_k_out_size(o->padding, d->in.h, o->filter_height, o->stride_h, 1);
    ow = el_k_out_size(o->padding, d->in.w, o->filter_width, o->stride_w, 1);
    if (oh < 1 || ow < 1 || d->out.h != oh || d->out.w != ow || d->out.n != d->in.n ||
        d->out.c != d->in.c) {
        return EL_BAD(ctx, node, "output is %dx%dx%dx%d, the op computes %dx%dx%dx%d",
                      (int)d->out.n, (int)d->out.h, (int)d->out.w, (int)d->out.c, (int)d->in.n,
                      (int)oh, (int)ow, (int)d->in.c);
    }
    d->p.stride_h = o->stride_h;
    d->p.stride_w = o->stride_w;
    d->p.filter_h = o->filter_height;
    d->p.filter_w = o->filter_width;
    d->p.pad_h = el_k_padding(o->stride_h, 1, d->in.h, o->filter_height, oh);
    d->p.pad_w = el_k_padding(o->stride_w, 1, d->in.w, o->filter_width, ow);
    /* Every window must overlap the input (else an average divides by zero). With TFLite's
     * padding (< filter size) this always holds; checked anyway. */
    if (d->p.pad_h >= o->filter_height || d->p.pad_w >= o->filter_width) {
        return EL_BAD(ctx, node, "padding leaves a window outside the input");
    }
    d->is_float = in->type == EL_FLOAT32;
    d->is16 = in->type == EL_INT16;
    if (d->is_float) {
        return el_k_act_range_f(ctx, node, o->activation, &d->p.act_min_f, &d->p.act_max_f);
    } else {
        float s, is;
        int32_t zp, izp;
        EL_TRY(el_k_qin(ctx, node, 0, &is, &izp));
        EL_TRY(el_k_qout(ctx, node, 0, &s, &zp));
        /* TFLite's integer pools copy/average raw values: parameters must be equal */
        if (is != s || izp != zp) {
            return EL_UNSUP(ctx, node, "input and output need the same scale and zero point");
        }
        return el_k_act_range(ctx, node, o->activation, in->type, s, zp, &d->p.act_min,
                              &d->p.act_max);
    }
}

/* One call of the pool's kernel over the given geometry (a whole layer or a band of rows). */
static void pool_run(el_context *ctx, const pool_data *d, int is_max, const el_pool_params *p,
                     const el_dims *ind, const void *in, const el_dims *outd, void *out)
{
    if (d->is_float) {
        if (is_max) {
            if (!el_opt_maxpool_f32(el_ctx_isa(ctx), p, ind, (const float *)in, outd,
                                    (float *)out)) {
                el_maxpool_f32(p, ind, (const float *)in, outd, (float *)out);
            }
        } else if (!EL_HOSTED_CPU || /* vectors on hosted CPUs only: on microcontrollers it
                                      * would be the reference's loop */
                   !el_opt_avgpool_f32(el_ctx_isa(ctx), p, ind, (const float *)in, outd,
                                       (float *)out)) {
            el_avgpool_f32(p, ind, (const float *)in, outd, (float *)out);
        }
    } else if (d->is16) {
        if (is_max) {
            el_maxpool_s16(p, ind, (const int16_t *)in, outd, (int16_t *)out);
        } else {
            el_avgpool_s16(p, ind, (const int16_t *)in, outd, (int16_t *)out);
        }
    } else if (is_max) {
        if (!el_opt_maxpool_s8(el_ctx_isa(ctx), p, ind, (const int8_t *)in, outd, (int8_t *)out)) {
            el_maxpool_s8(p, ind, (const int8_t *)in, outd, (int8_t *)out);
        }
    } else if (!el_opt_avgpool_s8(el_ctx_isa(ctx), p, ind, (const int8_t *)in, outd,
                                  (int8_t *)out)) {
        el_avgpool_s8(p, ind, (const int8_t *)in, outd, (int8_t *)out);
    }
}

/* Threads (hosted CPUs, one image): output rows in a guided split, each band a call over the
 * input rows from its first window's top (the padding above it, if any, kept), so every
 * output is computed exactly as in one call. Below EL_POOL_SPLIT_MIN window taps the layer
 * runs as one call (MediaPipe's landmark models pool 64x64 maps; their 8x8 ones stay whole). */
#define EL_POOL_SPLIT_MIN 32768
#define EL_POOL_FINE_TASKS 4

typedef struct {
    el_context *ctx;
    const pool_data *d;
    int is_max;
    size_t esize;
    const unsigned char *in;
    unsigned char *out;
    el_guided g;
} pool_job;

static void pool_task(void *arg, int32_t i)
{
    const pool_job *j = (const pool_job *)arg;
    const pool_data *d = j->d;
    el_pool_params p = d->p;
    el_dims ind = d->in, outd = d->out;
    int32_t r0, r1, top, skip;
    el_guided_range(&j->g, i, &r0, &r1);
    if (r1 <= r0) {
        return;
    }
    top = r0 * p.stride_h - p.pad_h; /* the band's first input row */
    skip = top > 0 ? top : 0;
    p.pad_h = skip > 0 ? 0 : -top;
    ind.h = d->in.h - skip;
    outd.h = r1 - r0;
    pool_run(j->ctx, d, j->is_max, &p, &ind,
             j->in + (size_t)skip * (size_t)d->in.w * (size_t)d->in.c * j->esize, &outd,
             j->out + (size_t)r0 * (size_t)d->out.w * (size_t)d->out.c * j->esize);
}

static el_status pool_invoke(el_context *ctx, el_node *node, int is_max)
{
    const pool_data *d = (const pool_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    const int32_t threads = el_ctx_threads(ctx);
    if (EL_HOSTED_CPU && threads > 1 && d->out.n == 1 && d->out.h >= 2 * threads &&
        (double)d->out.h * d->out.w * d->out.c * d->p.filter_h * d->p.filter_w >=
            EL_POOL_SPLIT_MIN) {
        pool_job j;
        j.ctx = ctx;
        j.d = d;
        j.is_max = is_max;
        j.esize = d->is_float ? 4u : (d->is16 ? 2u : 1u);
        j.in = (const unsigned char *)in->data;
        j.out = (unsigned char *)out->data;
        j.g = el_guided_split(d->out.h, 1, threads, EL_POOL_FINE_TASKS);
        el_parallel_for(ctx, el_guided_tasks(&j.g), pool_task, &j);
        return EL_OK;
    }
    pool_run(ctx, d, is_max, &d->p, &d->in, in->data, &d->out, out->data);
    return EL_OK;
}

static el_status avg_invoke(el_context *ctx, el_node *node)
{
    return pool_invoke(ctx, node, 0);
}

static el_status max_invoke(el_context *ctx, el_node *node)
{
    return pool_invoke(ctx, node, 1);
}

static el_status l2_invoke(el_context *ctx, el_node *node)
{
    const pool_data *d = (const pool_data *)node->op_data;
    el_l2pool_f32(&d->p, &d->in, EL_F32(el_input(ctx, node, 0)), &d->out,
                  EL_F32(el_output(ctx, node, 0)));
    return EL_OK;
}

const el_kernel el_kernel_l2_pool_2d = {EL_OP_L2_POOL_2D, 0, pool_prepare, l2_invoke};
const el_kernel el_kernel_average_pool_2d = {EL_OP_AVERAGE_POOL_2D, 0, pool_prepare, avg_invoke};
const el_kernel el_kernel_max_pool_2d = {EL_OP_MAX_POOL_2D, 0, pool_prepare, max_invoke};
