/* Interpreter: the public API over the handle: init (verify -> build -> resolve -> prepare ->
 * plan), invoke, reset, tensor info. The top of runtime_micro/src: it calls every layer below
 * (el_context.c, el_options.c, el_control.c, el_model.c, el_plan.c) and none calls it. */
#include "el_internal.h"
#include "../kernels/opt/el_opt.h"

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        el_status st_ = (expr);                                                                    \
        if (st_ != EL_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

/* The handle must hold the context (checked at compile time: C99 has no static_assert). */
typedef char el_context_fits_handle[(sizeof(el_context) <= sizeof(el_interpreter)) ? 1 : -1];

static el_context *ctx_of(el_interpreter *it)
{
    return (el_context *)(void *)it;
}
static const el_context *cctx_of(const el_interpreter *it)
{
    return (const el_context *)(const void *)it;
}

/* ---------------------------------------------------------------- init */

static el_status arena_failure(el_context *ctx)
{
    const char *planner = ctx->planner == EL_PLANNER_LINEAR ? "linear" : "greedy";
    if (ctx->required_exact)
        return el_fail(ctx, NULL, EL_ERROR_ARENA_TOO_SMALL,
                       "arena of %lu bytes is too small: this model needs exactly %lu bytes with "
                       "the %s planner",
                       (unsigned long)ctx->arena_size, (unsigned long)ctx->required, planner);
    return el_fail(
        ctx, NULL, EL_ERROR_ARENA_TOO_SMALL,
        "arena of %lu bytes is too small: at least %lu bytes are needed (%s planner; pass an "
        "arena of at least that size to learn the exact size)",
        (unsigned long)ctx->arena_size, (unsigned long)ctx->required, planner);
}

static el_status skipped_invoke(el_context *ctx, el_node *node)
{
    (void)ctx;
    (void)node;
    return EL_OK;
}
static const el_kernel k_skipped_densify = {EL_OP_DENSIFY, 0, NULL, skipped_invoke};

/* Whether tensors a and b have one shape. */
static int same_shape(const el_tensor *a, const el_tensor *b)
{
    return a->rank == b->rank &&
           (a->rank == 0 || memcmp(a->dims, b->dims, sizeof(int32_t) * a->rank) == 0);
}

#if EL_HOSTED_CPU
static const el_kernel k_skipped_dequantize = {EL_OP_DEQUANTIZE, 0, NULL, skipped_invoke};

/* Whether dst, what a DEQUANTIZE of the float16 tensor src writes, is float32 of src's shape
 * and neither a subgraph output nor a constant yet: the folds below may make it one. */
static int f16_to_f32_foldable(const el_tensor *src, const el_tensor *dst)
{
    return src->type == EL_FLOAT16 && dst->type == EL_FLOAT32 &&
           !(dst->flags & (EL_TENSOR_OUTPUT | EL_TENSOR_CONST)) && src->bytes * 2 == dst->bytes &&
           same_shape(src, dst);
}

/* Whether node n of g is a DEQUANTIZE of a constant (dense) float16 tensor into a float32
 * tensor of its shape that is no subgraph output (skip_dequantize_f16, fold_dequantize_f16). */
static int const_f16_dequantize(const el_subgraph *g, const el_node *n)
{
    const el_tensor *src;
    if (n->builtin_code != EL_OP_DEQUANTIZE || n->n_inputs != 1 || n->n_outputs != 1 ||
        n->inputs[0] < 0)
        return 0;
    src = &g->tensors[n->inputs[0]];
    return (src->flags & (EL_TENSOR_CONST | EL_TENSOR_SPARSE | EL_TENSOR_VARIABLE)) ==
               EL_TENSOR_CONST &&
           src->data != NULL && f16_to_f32_foldable(src, &g->tensors[n->outputs[0]]);
}

/* Computes such a DEQUANTIZE once, into persistent arena memory: its output becomes that
 * constant and the node does nothing. */
static void dequantize_once(el_context *ctx, const el_subgraph *g, el_node *n)
{
    el_tensor *dst = &g->tensors[n->outputs[0]];
    float *f = (float *)el_persist(ctx, dst->bytes, 16);
    if (f == NULL)
        return; /* out of arena: init fails and the caller's next arena is larger */
    el_dequantize_f16_f32((int32_t)(dst->bytes / 4),
                          (const uint16_t *)g->tensors[n->inputs[0]].data, f);
    dst->data = f;
    dst->flags |= EL_TENSOR_CONST;
    n->kernel = &k_skipped_dequantize;
}
#endif

/* A DENSIFY of sparse weights read only as weights by ops that take them sparse (input 1 of
 * FULLY_CONNECTED, CONV_2D, DEPTHWISE_CONV_2D): its output becomes the sparse constant itself
 * and the op does nothing, so the dense copy never takes arena memory. */
static el_status skip_densify(el_context *ctx, int32_t sg, el_node *n)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    el_tensor *src, *dst;
    el_sparsity sp;
    int32_t i, k, o, uses = 0;
    if (n->n_inputs != 1 || n->n_outputs != 1 || n->inputs[0] < 0)
        return EL_OK;
    src = &g->tensors[n->inputs[0]];
    o = n->outputs[0];
    dst = &g->tensors[o];
    if (!(src->flags & EL_TENSOR_SPARSE) || (dst->flags & (EL_TENSOR_OUTPUT | EL_TENSOR_CONST)) ||
        src->type != dst->type || !same_shape(src, dst))
        return EL_OK;
    if (el_model_sparsity(ctx, sg, n->inputs[0], &sp) != EL_OK)
        return EL_ERROR_INVALID_MODEL;
    for (i = 0; i < g->n_nodes; ++i) {
        const el_node *m = &g->nodes[i];
        for (k = 0; k < m->n_inputs; ++k) {
            if (m->inputs[k] != o)
                continue;
            if (k != 1 || !el_sparse_weights_ok(ctx, m, &sp))
                return EL_OK;
            ++uses;
        }
    }
    if (uses == 0)
        return EL_OK;
    dst->data = src->data;
    dst->flags |= EL_TENSOR_CONST | EL_TENSOR_SPARSE;
    n->kernel = &k_skipped_densify;
    return EL_OK;
}

#if EL_OPT_F16W
/* allow_fp16: a DEQUANTIZE of a constant float16 tensor whose output is read by one float32
 * CONV_2D (dense, input 1), FULLY_CONNECTED (input 1) or DEPTHWISE_CONV_2D (input 1) and
 * nothing else is skipped: its output becomes the float16 constant itself (EL_TENSOR_F16),
 * which the layer packs or reads in half precision (depthwise: widens to float32 once, at
 * prepare), so the float32 copy never takes planned arena memory or invoke time. */
static int f16_consumer_ok(el_context *ctx, const el_node *m, int32_t t)
{
    const el_tensor *in = el_input(ctx, m, 0), *w = el_input(ctx, m, 1);
    const el_tensor *out = el_output(ctx, m, 0);
    if (m->n_inputs < 2 || m->n_inputs > 3 || m->n_outputs != 1 || m->inputs[1] != t ||
        m->inputs[0] == t || (m->n_inputs == 3 && m->inputs[2] == t) || in == NULL || out == NULL ||
        m->options == NULL || in->type != EL_FLOAT32 || out->type != EL_FLOAT32)
        return 0;
    if (m->builtin_code == EL_OP_CONV_2D)
        return in->rank == 4 && w->rank == 4 && w->dims[3] == in->dims[3];
    if (m->builtin_code == EL_OP_DEPTHWISE_CONV_2D) /* widened once at prepare */
        return in->rank == 4 && w->rank == 4;
    if (m->builtin_code == EL_OP_FULLY_CONNECTED)
        return w->rank == 2 && ((const el_fc_options *)m->options)->weights_format == 0;
    return 0;
}

#define EL_F16_FOLD_BYTES 16384u /* small tensors only: persistent, never shared with others */
static void skip_dequantize_f16(el_context *ctx, int32_t sg, el_node *n)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    el_tensor *src, *dst;
    el_node *user = NULL;
    int32_t i, k, o;
    if (!const_f16_dequantize(g, n))
        return;
    src = &g->tensors[n->inputs[0]];
    o = n->outputs[0];
    dst = &g->tensors[o];
    for (i = 0; i < g->n_nodes; ++i) {
        el_node *m = &g->nodes[i];
        for (k = 0; k < m->n_inputs; ++k) {
            if (m->inputs[k] != o)
                continue;
            if (user != NULL && user != m)
                return; /* one reader only: the conv packs the weights in place of the data */
            user = m;
        }
    }
    if (user != NULL && !f16_consumer_ok(ctx, user, o) && dst->bytes <= EL_F16_FOLD_BYTES) {
        /* other readers (a bias, ...): the float32 values made once into persistent memory,
         * exactly what the DEQUANTIZE would write at every invoke */
        dequantize_once(ctx, g, n);
        return;
    }
    if (user == NULL || !f16_consumer_ok(ctx, user, o))
        return;
    dst->data = src->data;
    dst->flags |= EL_TENSOR_CONST | EL_TENSOR_F16;
    n->kernel = &k_skipped_dequantize;
}
#endif

#if EL_HOSTED_CPU
/* A DEQUANTIZE of a constant float16 tensor (MediaPipe's files store all their weights so) is
 * computed once, at el_init, into persistent arena memory: the float32 values it would write
 * at every invoke, by the same conversion, and the node then does nothing. TFLite does the
 * same for a constant input. MediaPipe's face landmark model ran 113 of them per invoke (1.7
 * ms of 8). The arena holds every such tensor at once instead of each one briefly: hosted CPUs
 * only (on a microcontroller the weights would double in RAM); with allow_fp16 the layers that
 * compute in float16 take theirs first (skip_dequantize_f16). Not with an op callback, as
 * fold_pad: that interpreter lays its arena out as other hosts (32-bit ARM) do, which is how
 * `edgelite export` measures theirs (edgelite.runtime.arena_sizes). */
static void fold_dequantize_f16(el_context *ctx, int32_t sg, el_node *n)
{
    const el_subgraph *g = &ctx->subgraphs[sg];
    if (n->kernel != &k_skipped_dequantize && const_f16_dequantize(g, n))
        dequantize_once(ctx, g, n);
}

/* The same for a DEQUANTIZE of a DENSIFY of constant sparse float16 weights (MediaPipe's pose
 * detection model keeps 38 of its weights so): the pair is computed once, at el_init, straight
 * to float32 in persistent arena memory, and neither op runs at invoke (they took 19 of its
 * 33 ms per invoke). The DENSIFY's float16 output, read by that DEQUANTIZE alone, then has no
 * data and no arena memory: nothing reads it. Same conditions as fold_dequantize_f16. */
static el_status fold_densify_dequantize_f16(el_context *ctx, int32_t sg, el_node *n)
{
    const el_subgraph *g = &ctx->subgraphs[sg];
    el_node *d = NULL;
    el_tensor *mid, *dst;
    int32_t i, k, readers = 0;
    float *f;
    if (n->builtin_code != EL_OP_DEQUANTIZE || n->kernel == &k_skipped_dequantize ||
        n->n_inputs != 1 || n->n_outputs != 1 || n->inputs[0] < 0)
        return EL_OK;
    for (i = 0; i < g->n_nodes; ++i) {
        el_node *m = &g->nodes[i];
        for (k = 0; k < m->n_inputs; ++k)
            readers += m->inputs[k] == n->inputs[0];
        if (m->builtin_code == EL_OP_DENSIFY && m->kernel != &k_skipped_densify &&
            m->n_inputs == 1 && m->n_outputs == 1 && m->inputs[0] >= 0 &&
            m->outputs[0] == n->inputs[0])
            d = m;
    }
    if (d == NULL || readers != 1)
        return EL_OK;
    mid = &g->tensors[n->inputs[0]];
    dst = &g->tensors[n->outputs[0]];
    {
        const el_tensor *src = &g->tensors[d->inputs[0]];
        if (src->type != EL_FLOAT16 ||
            (src->flags & (EL_TENSOR_CONST | EL_TENSOR_SPARSE)) !=
                (EL_TENSOR_CONST | EL_TENSOR_SPARSE) ||
            src->data == NULL || (mid->flags & (EL_TENSOR_OUTPUT | EL_TENSOR_CONST)) ||
            !f16_to_f32_foldable(mid, dst) || !same_shape(src, dst))
            return EL_OK;
    }
    f = (float *)el_persist(ctx, dst->bytes, 16);
    if (f == NULL)
        return EL_OK; /* out of arena: init fails and the caller's next arena is larger */
    TRY(el_sparse_densify_f16_f32(ctx, d, f));
    dst->data = f;
    dst->flags |= EL_TENSOR_CONST;
    n->kernel = &k_skipped_dequantize;
    d->kernel = &k_skipped_densify;
    mid->flags |= EL_TENSOR_CONST; /* planned no memory; its one reader does not run */
    mid->data = NULL;
    return EL_OK;
}

/* A PAD folded into the convolution that reads it: does nothing, and its output (given its
 * input's shape) shares its input's memory, like a RESHAPE's. */
static const el_kernel k_folded_pad = {EL_OP_PAD, EL_KERNEL_INPLACE, NULL, skipped_invoke};

/* Height and width padding (top, bottom, left, right) of a PAD's constant [4, 2] paddings
 * (int32 or int64) that pad nothing else; 0 when it has other padding or another form. */
static int spatial_pads(const el_tensor *t, int32_t pads[4])
{
    int32_t i, v[8];
    if (t == NULL || !(t->flags & EL_TENSOR_CONST) || (t->flags & EL_TENSOR_SPARSE) ||
        t->data == NULL || t->rank != 2 || t->dims[0] != 4 || t->dims[1] != 2 ||
        (t->type != EL_INT32 && t->type != EL_INT64))
        return 0;
    for (i = 0; i < 8; ++i) {
        int64_t x;
        if (t->type == EL_INT32) {
            int32_t y;
            memcpy(&y, (const uint8_t *)t->data + 4 * (size_t)i, 4);
            x = y;
        } else {
            memcpy(&x, (const uint8_t *)t->data + 8 * (size_t)i, 8);
        }
        if (x < 0 || x > 0xFFFF)
            return 0;
        v[i] = (int32_t)x;
    }
    if (v[0] | v[1] | v[6] | v[7]) /* batch, channels */
        return 0;
    pads[0] = v[2], pads[1] = v[3], pads[2] = v[4], pads[3] = v[5];
    return 1;
}

/* The value a PAD writes is what the convolution reads outside its input: real zero (int8:
 * the zero point, the convolution's input offset cancels it; float32: +0.0). */
static int pads_with_zero(el_context *ctx, const el_node *n, const el_tensor *x)
{
    const el_tensor *cv = el_input(ctx, n, 2);
    el_quant qi, qo;
    if (x->type == EL_FLOAT32) {
        const float zero = 0.0f;
        return cv == NULL ||
               ((cv->flags & EL_TENSOR_CONST) && cv->data != NULL && cv->type == EL_FLOAT32 &&
                cv->bytes == 4 && memcmp(cv->data, &zero, 4) == 0);
    }
    if (el_get_input_quant(ctx, n, 0, &qi) != EL_OK ||
        el_get_output_quant(ctx, n, 0, &qo) != EL_OK || qi.count != 1 || qo.count != 1 ||
        qi.scale != qo.scale || qi.zero_point != qo.zero_point)
        return 0;
    return cv == NULL ||
           ((cv->flags & EL_TENSOR_CONST) && cv->data != NULL && cv->type == EL_INT8 &&
            cv->bytes == 1 && *(const int8_t *)cv->data == qo.zero_point);
}

/* A PAD of height and width whose output only a VALID CONV_2D / DEPTHWISE_CONV_2D reads (as
 * its input) is folded into it, as XNNPACK does: the convolution reads the PAD's input with
 * that padding (el_folded_pad; conv_common.c) and the PAD does nothing, so the padded copy of
 * the activations is neither written nor given arena memory. Same bytes: every output sees
 * the same values in the same order. Only where the kernels' padding is the SAME-like kind
 * they are all built for (top + bottom < the filter's extent: no window is all padding), with
 * the greedy planner (the linear one keeps every tensor readable) and no op callback (it may
 * read the PAD's output), on hosted CPUs with the optimized kernels on: the reference kernels'
 * arena stays that of Cortex-M builds. */
static void fold_pad(el_context *ctx, int32_t sg, el_node *n)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    el_node *user = NULL;
    el_tensor *x, *o;
    const el_tensor *filter;
    int32_t i, k, pads[4], stride_h, stride_w, dil_h, dil_w, kh, kw;
    if ((n->builtin_code != EL_OP_PAD && n->builtin_code != EL_OP_PADV2) || n->n_outputs != 1 ||
        n->n_inputs != (n->builtin_code == EL_OP_PAD ? 2 : 3) || n->inputs[0] < 0 ||
        n->inputs[0] == n->outputs[0])
        return;
    x = &g->tensors[n->inputs[0]];
    o = &g->tensors[n->outputs[0]];
    if ((x->type != EL_INT8 && x->type != EL_FLOAT32) || o->type != x->type || x->rank != 4 ||
        o->rank != 4 || x->bytes == 0 ||
        (x->flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE | EL_TENSOR_BORROWED)) ||
        (o->flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE | EL_TENSOR_BORROWED | EL_TENSOR_INPUT |
                     EL_TENSOR_OUTPUT)) ||
        !spatial_pads(el_input(ctx, n, 1), pads) || o->dims[0] != x->dims[0] ||
        o->dims[1] != x->dims[1] + pads[0] + pads[1] ||
        o->dims[2] != x->dims[2] + pads[2] + pads[3] || o->dims[3] != x->dims[3] ||
        !pads_with_zero(ctx, n, x))
        return;
    for (i = 0; i < g->n_nodes; ++i) {
        el_node *m = &g->nodes[i];
        for (k = 0; k < m->n_inputs; ++k) {
            if (m->inputs[k] != n->outputs[0])
                continue;
            if (user != NULL || k != 0 || m <= n)
                return; /* one reader, reading it as its input, after the PAD */
            user = m;
        }
    }
    if (user == NULL || user->options == NULL || user->n_inputs < 2 || user->n_outputs != 1)
        return;
    if (user->builtin_code == EL_OP_CONV_2D) {
        const el_conv_options *c = (const el_conv_options *)user->options;
        if (c->padding != EL_PADDING_VALID)
            return;
        stride_h = c->stride_h, stride_w = c->stride_w, dil_h = c->dilation_h,
        dil_w = c->dilation_w;
    } else if (user->builtin_code == EL_OP_DEPTHWISE_CONV_2D) {
        const el_depthwise_options *c = (const el_depthwise_options *)user->options;
        if (c->padding != EL_PADDING_VALID)
            return;
        stride_h = c->stride_h, stride_w = c->stride_w, dil_h = c->dilation_h,
        dil_w = c->dilation_w;
    } else {
        return;
    }
    filter = el_input(ctx, user, 1);
    if (filter == NULL || filter->rank != 4 || (filter->flags & EL_TENSOR_SPARSE) || stride_h < 1 ||
        stride_w < 1 || dil_h < 1 || dil_w < 1 || dil_h > 0xFFFF || dil_w > 0xFFFF)
        return; /* the convolution's prepare reports what is wrong */
    kh = (filter->dims[1] - 1) * dil_h + 1;
    kw = (filter->dims[2] - 1) * dil_w + 1;
    if (pads[0] + pads[1] >= kh || pads[2] + pads[3] >= kw)
        return;
    o->dims = x->dims;
    o->bytes = x->bytes;
    o->flags |= EL_TENSOR_FOLDED;
    n->kernel = &k_folded_pad;
}

/* A RELU, RELU6 or RELU_N1_TO_1 that alone reads a float32 CONV_2D / DEPTHWISE_CONV_2D's
 * output, right after it, becomes the convolution's fused activation, as XNNPACK fuses it:
 * the convolution clamps its outputs (el_conv_fold_activation) and the activation does nothing,
 * its output sharing the convolution's (INPLACE), so that pass over the activations is
 * neither run nor given arena memory. Keras exports write activations apart (MediaPipe's selfie
 * segmentation: 22 RELUs of up to 262,144 elements). The same values, except that the clamp
 * keeps a -0.0 sum where RELU writes +0.0, and clamps a NaN as the convolution's clamp does.
 * Float32 only (an int8 RELU may requantize), after prepare (the convolution's op data holds
 * its clamp), under the conditions of fold_pad (greedy planner, no op callback, hosted CPUs
 * with the optimized kernels). */
static const el_kernel k_folded_act = {EL_OP_RELU, EL_KERNEL_INPLACE, NULL, skipped_invoke};

static void fold_activation(el_context *ctx, int32_t sg, int32_t i)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    el_node *n = &g->nodes[i];
    const el_tensor *x, *y;
    int32_t act, j, k;
    switch (n->builtin_code) {
    case EL_OP_RELU:
        act = EL_ACT_RELU;
        break;
    case EL_OP_RELU6:
        act = EL_ACT_RELU6;
        break;
    case EL_OP_RELU_N1_TO_1:
        act = EL_ACT_RELU_N1_TO_1;
        break;
    default:
        return;
    }
    if (i == 0 || n->n_inputs != 1 || n->n_outputs != 1 || n->inputs[0] < 0 ||
        n->inputs[0] == n->outputs[0] || g->nodes[i - 1].n_outputs != 1 ||
        g->nodes[i - 1].outputs[0] != n->inputs[0])
        return;
    x = &g->tensors[n->inputs[0]];
    y = &g->tensors[n->outputs[0]];
    if (x->type != EL_FLOAT32 || y->type != EL_FLOAT32 || x->bytes != y->bytes || x->bytes == 0 ||
        (x->flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE | EL_TENSOR_BORROWED | EL_TENSOR_INPUT |
                     EL_TENSOR_OUTPUT)) ||
        (y->flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE | EL_TENSOR_BORROWED | EL_TENSOR_INPUT)))
        return;
    for (j = 0; j < g->n_nodes; ++j) { /* the activation is the output's only reader */
        for (k = 0; k < g->nodes[j].n_inputs; ++k)
            if (j != i && g->nodes[j].inputs[k] == n->inputs[0])
                return;
    }
    if (el_conv_fold_activation(ctx, &g->nodes[i - 1], act))
        n->kernel = &k_folded_act;
}

/* The padding of the folded PAD whose output is tensor ti of subgraph sg: 1, or 0 when no
 * folded PAD writes it. */
static int folded_pads_of(el_context *ctx, int32_t sg, int32_t ti, int32_t pads[4])
{
    const el_subgraph *g = &ctx->subgraphs[sg];
    int32_t i;
    for (i = 0; i < g->n_nodes; ++i) {
        const el_node *n = &g->nodes[i];
        if (n->kernel == &k_folded_pad && n->outputs[0] == ti)
            return spatial_pads(el_input(ctx, n, 1), pads);
    }
    return 0;
}

int el_folded_pad(el_context *ctx, const el_node *reader, int32_t pads[4])
{
    return reader->n_inputs >= 1 && reader->inputs[0] >= 0 &&
           folded_pads_of(ctx, reader->subgraph, reader->inputs[0], pads);
}
#endif

#if !EL_KEEP_F32 || !EL_KEEP_S16
/* A build without float32 or int16 kernel paths refuses models with such tensors. */
static el_status check_compiled_types(el_context *ctx, el_node *n)
{
    int32_t i;
    for (i = 0; i < (int32_t)n->n_inputs + (int32_t)n->n_outputs; ++i) {
        const el_tensor *t =
            i < n->n_inputs ? el_input(ctx, n, i) : el_output(ctx, n, i - n->n_inputs);
        if (t != NULL &&
            ((!EL_KEEP_F32 && t->type == EL_FLOAT32) || (!EL_KEEP_S16 && t->type == EL_INT16)))
            return el_fail(ctx, n, EL_ERROR_UNSUPPORTED,
                           "%s tensors are not compiled into this build (el_kernels_selected.h: "
                           "export the model again to include them)",
                           el_dtype_name(t->type));
    }
    return EL_OK;
}
#endif

static el_status resolve_and_prepare(el_context *ctx)
{
    int32_t sg, i;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        for (i = 0; i < g->n_nodes; ++i) {
            el_node *n = &g->nodes[i];
            const el_kernel *k = el_control_kernel(n->builtin_code);
            if (k == NULL && n->builtin_code != EL_OP_CUSTOM)
                k = el_find_kernel(n->builtin_code);
            if (k == NULL && n->builtin_code == EL_OP_CUSTOM)
                k = n->kernel; /* set by the reader */
            if (k == NULL || k->invoke == NULL) {
                if (n->builtin_code == EL_OP_CUSTOM)
                    return el_fail(ctx, n, EL_ERROR_UNSUPPORTED,
                                   "custom ops are not supported by runtime_micro");
                if (n->builtin_code >= EL_OP_NAMED_COUNT)
                    return el_fail(ctx, n, EL_ERROR_UNSUPPORTED,
                                   "builtin code %d is not supported by runtime_micro",
                                   (int)n->builtin_code);
                return el_fail(ctx, n, EL_ERROR_UNSUPPORTED,
                               "op not supported by runtime_micro (no kernel)");
            }
            n->kernel = k;
#if !EL_KEEP_F32 || !EL_KEEP_S16
            {
                el_status s = check_compiled_types(ctx, n);
                if (s != EL_OK)
                    return s;
            }
#endif
        }
        for (i = 0; i < g->n_nodes && EL_KEEP_SPARSE; ++i)
            if (g->nodes[i].builtin_code == EL_OP_DENSIFY) {
                el_status st = skip_densify(ctx, sg, &g->nodes[i]);
                if (st != EL_OK)
                    return st;
            }
#if EL_OPT_F16W
        for (i = 0; i < g->n_nodes && (ctx->isa & EL_ISA_FP16); ++i)
            if (g->nodes[i].builtin_code == EL_OP_DEQUANTIZE)
                skip_dequantize_f16(ctx, sg, &g->nodes[i]);
#endif
#if EL_HOSTED_CPU
        for (i = 0; i < g->n_nodes && ctx->callback == NULL && (el_ctx_isa(ctx) & EL_OPT_ON); ++i) {
            fold_dequantize_f16(ctx, sg, &g->nodes[i]);
            TRY(fold_densify_dequantize_f16(ctx, sg, &g->nodes[i]));
        }
        for (i = 0; i < g->n_nodes && ctx->planner == EL_PLANNER_GREEDY && ctx->callback == NULL &&
                    (el_ctx_isa(ctx) & EL_OPT_ON);
             ++i)
            fold_pad(ctx, sg, &g->nodes[i]);
#endif
    }
    ctx->prepare_base = ctx->persist_used;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        for (i = 0; i < g->n_nodes; ++i) {
            el_node *n = &g->nodes[i];
            el_status st;
            int32_t k;
            ctx->message[0] = '\0';
            for (k = 0; k < n->n_inputs && EL_KEEP_SPARSE; ++k) {
                const el_tensor *t = el_input(ctx, n, k);
                if (t != NULL && (t->flags & EL_TENSOR_SPARSE) && n->kernel != &k_skipped_densify) {
                    st = el_sparse_node_check(ctx, n);
                    if (st != EL_OK)
                        return st;
                    break;
                }
            }
            if (n->kernel->prepare == NULL)
                continue;
            ctx->in_prepare = 1;
            ctx->sink_used = 0;
            st = n->kernel->prepare(ctx, n);
            ctx->in_prepare = 0;
            if (st == EL_ERROR_ARENA_TOO_SMALL)
                return st;
            if (st != EL_OK) {
                if (ctx->message[0] == '\0')
                    el_fail(ctx, n, st, "prepare failed (%s)", el_status_name(st));
                return st;
            }
        }
    }
#if EL_HOSTED_CPU
    for (sg = 0;
         sg < ctx->n_subgraphs && !ctx->persist_failed && ctx->planner == EL_PLANNER_GREEDY &&
         ctx->callback == NULL && (el_ctx_isa(ctx) & EL_OPT_ON);
         ++sg) {
        for (i = 0; ctx->subgraphs[sg].reachable && i < ctx->subgraphs[sg].n_nodes; ++i)
            fold_activation(ctx, sg, i);
    }
#endif
    ctx->prepared = 1;
    return ctx->persist_failed ? EL_ERROR_ARENA_TOO_SMALL : EL_OK;
}

/* Old-style TFLite variable tensors (is_variable): own persistent bytes, initial value from
 * the model buffer or zeros. */
static el_status allocate_variables(el_context *ctx)
{
    int32_t sg, i, n = 0;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        for (i = 0; i < g->n_tensors; ++i)
            if (g->tensors[i].flags & EL_TENSOR_VARIABLE)
                ++n;
    }
    if (n == 0)
        return EL_OK;
    ctx->variables = (el_tensor **)el_persist(ctx, sizeof(el_tensor *) * 2 * (size_t)n, 8);
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        for (i = 0; i < g->n_tensors; ++i) {
            el_tensor *t = &g->tensors[i];
            void *p;
            if (!(t->flags & EL_TENSOR_VARIABLE))
                continue;
            p = el_persist(ctx, t->bytes, 16);
            if (p == NULL || ctx->variables == NULL)
                continue; /* out of arena: only count */
            /* pairs: tensor, initial data (NULL = zeros); stored as tensor pointers for alignment */
            ctx->variables[2 * ctx->n_variables] = t;
            ctx->variables[2 * ctx->n_variables + 1] = (el_tensor *)t->data;
            ++ctx->n_variables;
            if (t->data)
                memcpy(p, t->data, t->bytes);
            t->data = p;
            t->flags &= (uint8_t)~EL_TENSOR_CONST;
        }
    }
    return ctx->persist_failed ? EL_ERROR_ARENA_TOO_SMALL : EL_OK;
}

el_status el_init(el_interpreter *it, const void *model, size_t model_size, void *arena,
                  size_t arena_size, const el_config *cfg)
{
    el_context *ctx;
    el_status st;
    if (it == NULL)
        return EL_ERROR_BAD_ARGUMENT;
    ctx = ctx_of(it);
    memset(it, 0, sizeof(*it));
    ctx->fb.msg = ctx->message;
    ctx->model = (const uint8_t *)model;
    ctx->model_size = model_size;
    ctx->fb.buf = ctx->model;
    ctx->fb.size = model_size;
    ctx->arena = (uint8_t *)arena;
    ctx->arena_size = arena ? arena_size : 0;
    ctx->planner = cfg ? cfg->planner : EL_PLANNER_GREEDY;
    ctx->callback = cfg ? cfg->callback : NULL;
    ctx->callback_user = cfg ? cfg->callback_user : NULL;
    ctx->isa = (EL_ISA_OPT | el_opt_isa_detected()) & ~(cfg ? cfg->disable_isa : 0u);
    ctx->parallel_for = cfg ? cfg->parallel_for : NULL;
    ctx->parallel_pool = cfg ? cfg->parallel_pool : NULL;
    /* capped so a task count always fits the kernels' int32 arithmetic */
    ctx->num_threads =
        cfg ? (cfg->num_threads < 1 ? 1 : (cfg->num_threads > 256 ? 256 : cfg->num_threads)) : 1;
    if (!cfg || !cfg->allow_fp16)
        ctx->isa &= ~EL_ISA_FP16; /* opt-in: it changes results beyond float32 rounding */
    if (!(ctx->isa & EL_ISA_OPT))
        ctx->isa = 0;
    ctx->status = EL_ERROR_STATE;
    if (model == NULL)
        return ctx->status = el_fail(ctx, NULL, EL_ERROR_BAD_ARGUMENT, "model pointer is NULL");
    if (((uintptr_t)model) % EL_MODEL_ALIGN != 0)
        return ctx->status =
                   el_fail(ctx, NULL, EL_ERROR_BAD_ARGUMENT,
                           "model bytes must start at a %d-byte aligned address", EL_MODEL_ALIGN);
    if (arena != NULL && ((uintptr_t)arena) % EL_ARENA_ALIGN != 0)
        return ctx->status =
                   el_fail(ctx, NULL, EL_ERROR_BAD_ARGUMENT,
                           "arena must start at a %d-byte aligned address", EL_ARENA_ALIGN);
    if (ctx->planner != EL_PLANNER_GREEDY && ctx->planner != EL_PLANNER_LINEAR)
        return ctx->status = el_fail(ctx, NULL, EL_ERROR_BAD_ARGUMENT, "unknown planner %d",
                                     (int)ctx->planner);

    st = el_model_verify(ctx);
    if (st == EL_OK)
        st = el_model_build(ctx);
    if (st == EL_OK)
        st = resolve_and_prepare(ctx);
    /* after an arena shortfall in prepare these still count their bytes */
    if (st == EL_OK || (st == EL_ERROR_ARENA_TOO_SMALL && ctx->prepared)) {
        el_status s1 = allocate_variables(ctx);
        el_status s2 = el_control_allocate_resources(ctx);
        if (st == EL_OK)
            st = s1 != EL_OK ? s1 : s2;
    }
    if (st == EL_ERROR_ARENA_TOO_SMALL && ctx->persist_failed) {
        /* persistent bytes asked so far (or the bookkeeping, if more) + the planned part's bound:
     * with that much, every prepare usually fits (the planned part is free until planning) and
     * the next call reports the exact size */
        size_t regions, lb = el_model_lower_bound(ctx, &regions);
        ctx->required = el_align_up(ctx->persist_need, EL_ARENA_ALIGN);
        if (lb > ctx->required)
            ctx->required = lb;
        ctx->required += regions;
        ctx->required_exact = 0;
        return ctx->status = arena_failure(ctx);
    }
    if (st == EL_OK)
        st = el_plan(ctx);
    if (st == EL_ERROR_ARENA_TOO_SMALL)
        return ctx->status = arena_failure(ctx);
    if (st != EL_OK)
        return ctx->status = st;
    ctx->message[0] = '\0';
    ctx->ready = 1;
    el_control_reset(ctx);
    return ctx->status = EL_OK;
}

size_t el_arena_required(const el_interpreter *it)
{
    return it ? cctx_of(it)->required : 0;
}
int el_arena_required_exact(const el_interpreter *it)
{
    return it ? cctx_of(it)->required_exact : 0;
}
const char *el_error_message(const el_interpreter *it)
{
    return it ? cctx_of(it)->message : "";
}

/* ---------------------------------------------------------------- invoke */

uint32_t el_kernel_isa(const el_interpreter *it)
{
    if (it == NULL)
        return 0;
    return cctx_of(it)->isa;
}

el_status el_invoke(el_interpreter *it)
{
    el_context *ctx;
    if (it == NULL)
        return EL_ERROR_BAD_ARGUMENT;
    ctx = ctx_of(it);
    if (!ctx->ready)
        return el_fail(ctx, NULL, EL_ERROR_STATE, "el_invoke after a failed or missing el_init");
    ctx->message[0] = '\0';
    return el_run_subgraph(ctx, 0);
}

el_status el_reset(el_interpreter *it)
{
    el_context *ctx;
    int32_t i;
    if (it == NULL)
        return EL_ERROR_BAD_ARGUMENT;
    ctx = ctx_of(it);
    if (!ctx->ready)
        return el_fail(ctx, NULL, EL_ERROR_STATE, "el_reset after a failed or missing el_init");
    for (i = 0; i < ctx->n_variables; ++i) {
        el_tensor *t = ctx->variables[2 * i];
        const void *init = ctx->variables[2 * i + 1];
        if (init)
            memcpy(t->data, init, t->bytes);
        else
            memset(t->data, 0, t->bytes);
    }
    el_control_reset(ctx);
    return EL_OK;
}

/* ---------------------------------------------------------------- tensor info */

static el_status info(const el_interpreter *it, int32_t sg, int32_t ti, el_tensor_info *out)
{
    el_context *ctx = (el_context *)(uintptr_t)cctx_of(it);
    const el_tensor *t = &ctx->subgraphs[sg].tensors[ti];
    el_quant q;
    int32_t i;
    memset(out, 0, sizeof(*out));
    out->name = el_model_tensor_name(ctx, sg, ti);
    out->dtype = (el_dtype)t->type;
    out->rank = t->rank;
    for (i = 0; i < t->rank; ++i)
        out->dims[i] = t->dims[i];
    /* a sparse constant's data is not the dense tensor its shape describes, nor are the
     * float16 (or packed) weights of a skipped DEQUANTIZE float32: not offered */
    out->data = (t->flags & (EL_TENSOR_SPARSE | EL_TENSOR_F16)) ? NULL : t->data;
    out->bytes = (t->flags & (EL_TENSOR_SPARSE | EL_TENSOR_F16)) ? 0 : t->bytes;
#if EL_HOSTED_CPU
    if (t->flags & EL_TENSOR_FOLDED) { /* never written: the model's shape, no data */
        int32_t pads[4];
        if (folded_pads_of(ctx, sg, ti, pads)) {
            out->dims[1] += pads[0] + pads[1];
            out->dims[2] += pads[2] + pads[3];
        }
        out->data = NULL;
        out->bytes = 0;
    }
#endif
    out->is_const = (t->flags & EL_TENSOR_CONST) != 0;
    out->is_variable = (t->flags & EL_TENSOR_VARIABLE) != 0;
    out->index = ti;
    TRY(el_model_quant(ctx, sg, ti, &q));
    out->scale = q.scale;
    out->zero_point = q.zero_point;
    out->quant_count = q.count;
    out->quantized_dimension = q.quantized_dimension;
    return EL_OK;
}

static int ready(const el_interpreter *it)
{
    return it != NULL && cctx_of(it)->ready;
}

int32_t el_input_count(const el_interpreter *it)
{
    return ready(it) ? cctx_of(it)->subgraphs[0].n_inputs : 0;
}
int32_t el_output_count(const el_interpreter *it)
{
    return ready(it) ? cctx_of(it)->subgraphs[0].n_outputs : 0;
}
int32_t el_tensor_count(const el_interpreter *it)
{
    return ready(it) ? cctx_of(it)->subgraphs[0].n_tensors : 0;
}

el_status el_input_info(const el_interpreter *it, int32_t i, el_tensor_info *out)
{
    if (!ready(it) || out == NULL || i < 0 || i >= el_input_count(it))
        return EL_ERROR_BAD_ARGUMENT;
    return info(it, 0, cctx_of(it)->subgraphs[0].inputs[i], out);
}

el_status el_output_info(const el_interpreter *it, int32_t i, el_tensor_info *out)
{
    if (!ready(it) || out == NULL || i < 0 || i >= el_output_count(it))
        return EL_ERROR_BAD_ARGUMENT;
    return info(it, 0, cctx_of(it)->subgraphs[0].outputs[i], out);
}

el_status el_tensor_info_at(const el_interpreter *it, int32_t index, el_tensor_info *out)
{
    if (!ready(it) || out == NULL || index < 0 || index >= el_tensor_count(it))
        return EL_ERROR_BAD_ARGUMENT;
    return info(it, 0, index, out);
}
