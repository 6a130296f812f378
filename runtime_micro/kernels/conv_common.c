/* CONV_2D, DEPTHWISE_CONV_2D, TRANSPOSE_CONV: validation and parameters (padding, per-channel
 * multipliers, activation bounds) computed once here for every kernel variant. */
#include <string.h>

#include "el_kcommon.h"
#include "el_sparse.h"
#include "opt/el_opt.h"

/* The arena keeps only what invoke cannot rebuild cheaply: the op data is one el_conv_params
 * followed, for integer convolutions, by the per-output-channel multipliers then shifts
 * (TFLite Micro keeps the same 8 bytes per channel). Shapes, types and the int16 bias kind
 * come back from the node's tensors at invoke (conv_view). conv_data is prepare's working
 * copy, on the stack. */
typedef struct {
    el_conv_params p;
    el_pc_quant q;
    el_dims in, filter, out;
    int32_t is_float;
    int32_t is16, bias64; /* int16x8: int16 activations, int32/int64 bias */
    int32_t *mult;        /* per output channel (integer only), in the op data */
    int32_t *shift;
    unsigned char *op; /* the op data */
} conv_data;

/* Invoke's view of a convolution: op data plus shapes read from the tensors. */
typedef struct {
    const el_conv_params *p;
    el_pc_quant q;
    el_dims in, filter, out;
    el_opt_sums sums;    /* .bias NULL: none kept (the kernel sums the filter itself) */
    const float *packed; /* float32 CONV_2D: the filter's panels (conv_f32_packed), or NULL */
} conv_view;

/* Hosted builds keep an int8 CONV_2D's filter sums (el_opt_sums, 8 bytes per output channel)
 * after the shifts in the op data when the optimized kernels may take the layer: a constant
 * dense filter without groups, a constant bias or none. Prepare and invoke ask the same. */
static int conv_keeps_sums(const el_context *ctx, const el_node *node, const el_tensor *in,
                           const el_tensor *filter, const el_tensor *bias)
{
    return EL_OPT_FILTER_SUMS && (el_ctx_isa(ctx) & EL_OPT_ON) &&
           node->builtin_code == EL_OP_CONV_2D && in->type == EL_INT8 &&
           (filter->flags & (EL_TENSOR_CONST | EL_TENSOR_SPARSE)) == EL_TENSOR_CONST &&
           filter->data != NULL && in->rank == 4 && filter->rank == 4 &&
           filter->dims[3] == in->dims[3] &&
           (bias == NULL || ((bias->flags & EL_TENSOR_CONST) && bias->data != NULL));
}

/* Hosted x86-64 / aarch64 builds also keep such a conv's filter packed for the fused int8 GEMM
 * (el_opt_conv2d_s8_pack), in the op data after the sums, 64-byte aligned (the AVX-512
 * kernel's loads): the bytes it takes (0: none), from the tensors' shapes, so prepare and
 * invoke ask the same; the same on every CPU of the build's architecture. */
static size_t conv_s8_packed(const el_context *ctx, const el_dims *fd, const el_dims *outd)
{
    return el_opt_conv2d_s8_packed_bytes(el_ctx_isa(ctx), fd->n, fd->h * fd->w * fd->c,
                                         outd->n * outd->h * outd->w);
}

/* An integer conv's op data up to its packed filter: the parameters, then per output channel
 * the multiplier and shift, and with sums kept their two words. */
static size_t conv_int_bytes(int32_t channels, int sums)
{
    return sizeof(el_conv_params) + (sums ? 16u : 8u) * (size_t)channels;
}

#define EL_CONV_PACK_ALIGN 64u
static int8_t *conv_s8_packed_at(const void *op, int32_t channels)
{
    const uintptr_t end = (uintptr_t)op + conv_int_bytes(channels, 1);
    return (int8_t *)(end + ((EL_CONV_PACK_ALIGN - end % EL_CONV_PACK_ALIGN) % EL_CONV_PACK_ALIGN));
}

/* Where a float16 conv keeps its packed weights, and a float32 one its panels, in the op data. */
#define EL_CONV_F16_OFFSET ((sizeof(el_conv_params) + 15u) / 16u * 16u)

/* Hosted float32 CONV_2D with a constant dense filter: the optimized kernel's panels of it
 * (el_opt_conv2d_f32_pack) are made once in prepare and kept in the op data after the
 * parameters, so no invoke and no thread band packs them again (the size of the filter, padded
 * to the kernel's panel width). Returns their bytes, 0 for none; prepare and invoke ask the
 * same (the dims are those of the tensors). */
static size_t conv_f32_packed(const el_context *ctx, const el_node *node, const el_tensor *in,
                              const el_tensor *filter, const el_dims *ind, const el_dims *fd)
{
    if (!EL_KEEP_F32 || node->builtin_code != EL_OP_CONV_2D || in->type != EL_FLOAT32 ||
        filter->type != EL_FLOAT32 || filter->data == NULL ||
        (filter->flags & (EL_TENSOR_CONST | EL_TENSOR_SPARSE | EL_TENSOR_F16)) != EL_TENSOR_CONST) {
        return 0;
    }
    return el_opt_conv2d_f32_packed_bytes(el_ctx_isa(ctx), ind, fd);
}

static void conv_view_of(const el_context *ctx, const el_node *node, const el_tensor *in,
                         const el_tensor *filter, const el_tensor *bias, const el_tensor *out,
                         conv_view *v)
{
    const int32_t *mult =
        (const int32_t *)((const unsigned char *)node->op_data + sizeof(el_conv_params));
    v->p = (const el_conv_params *)node->op_data;
    el_k_dims4(in, &v->in);
    el_k_dims4(filter, &v->filter);
    el_k_dims4(out, &v->out);
    v->q.multiplier = mult;
    v->q.shift = mult + v->out.c;
    v->sums.bias = NULL;
    v->sums.sum = NULL;
    v->sums.packed = NULL;
    if (conv_keeps_sums(ctx, node, in, filter, bias)) {
        v->sums.bias = mult + 2 * v->out.c;
        v->sums.sum = mult + 3 * v->out.c;
        if (conv_s8_packed(ctx, &v->filter, &v->out)) {
            v->sums.packed = conv_s8_packed_at(node->op_data, v->out.c);
        }
    }
    v->packed = conv_f32_packed(ctx, node, in, filter, &v->in, &v->filter)
                    ? (const float *)((const unsigned char *)node->op_data + EL_CONV_F16_OFFSET)
                    : NULL;
}

/* Prepare's last step: the parameters into the op data. */
static el_status conv_store(const conv_data *d)
{
    memcpy(d->op, &d->p, sizeof(el_conv_params));
    return EL_OK;
}

/* Per-channel multipliers: input_scale * filter_scale[c] / output_scale, as TFLite's
 * PopulateConvolutionQuantizationParams (double math). */
static el_status conv_quant(el_context *ctx, el_node *node, conv_data *d, int32_t channels,
                            int32_t channel_dim, int32_t in_idx)
{
    el_quant fq;
    float in_s, out_s;
    int32_t in_zp, out_zp, c;
    el_tensor *filter = el_input(ctx, node, 1);
    EL_TRY(el_k_qin(ctx, node, in_idx, &in_s, &in_zp));
    EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
    EL_TRY(el_get_input_quant(ctx, node, 1, &fq));
    if (fq.count != 1 && fq.count != channels) {
        return EL_UNSUP(ctx, node,
                        "filter has %d scales; expected 1 or one per output channel "
                        "(%d)",
                        (int)fq.count, (int)channels);
    }
    if (fq.count > 1 && fq.quantized_dimension != channel_dim) {
        return EL_UNSUP(ctx, node, "filter is quantized along dim %d; expected dim %d",
                        (int)fq.quantized_dimension, (int)channel_dim);
    }
    (void)filter;
    for (c = 0; c < channels; ++c) {
        const int32_t qi = fq.count > 1 ? c : 0;
        const float fs = el_quant_scale(&fq, qi);
        int sh;
        if (!(fs > 0.0f)) {
            return EL_BAD(ctx, node, "filter scale %d is not positive", (int)qi);
        }
        if (el_quant_zero_point(&fq, qi) != 0) {
            return EL_UNSUP(ctx, node, "filter zero point must be 0 (symmetric int8 weights)");
        }
        el_quantize_multiplier((double)in_s * (double)fs / (double)out_s, &d->mult[c], &sh);
        d->shift[c] = sh;
    }
#if EL_HOSTED_CPU
    d->p.rq_checked = 1;
    for (c = 0; c < channels; ++c) {
        d->p.rq_checked &= d->mult[c] >= 0 && d->shift[c] >= -31 && d->shift[c] <= 31;
    }
#endif
    d->q.multiplier = d->mult;
    d->q.shift = d->shift;
    d->p.input_offset = -in_zp;
    d->p.output_offset = out_zp;
    return EL_OK;
}

static el_status check_bias(el_context *ctx, el_node *node, int32_t idx, int32_t channels,
                            int32_t type)
{
    el_tensor *bias = el_input(ctx, node, idx);
    if (bias == NULL) {
        return EL_OK;
    }
    if (type == EL_INT64 && bias->type == EL_INT32) {
        type = EL_INT32; /* int16x8 takes either */
    }
    EL_TRY(el_k_type(ctx, node, bias, "bias", type));
    if (el_tensor_elements(bias) != channels) {
        return EL_BAD(ctx, node, "bias has %d elements, expected %d (one per output channel)",
                      (int)el_tensor_elements(bias), (int)channels);
    }
    return EL_OK;
}

/* int16x8: symmetric int16 activations; the bias may be int32 or int64. */
static el_status int16_setup(el_context *ctx, el_node *node, conv_data *d, const el_tensor *in,
                             int32_t out_zp)
{
    el_tensor *bias = el_input(ctx, node, 2);
    if (in->type != EL_INT16) {
        return EL_OK;
    }
    if (d->p.input_offset != 0 || out_zp != 0) {
        return EL_UNSUP(ctx, node, "int16 activations need zero point 0");
    }
    {
        int32_t c;
        for (c = 0; c < d->out.c; ++c) {
            if (d->shift[c] < -31 || d->shift[c] > 7) {
                return EL_UNSUP(ctx, node,
                                "channel %d: scale ratio out of the int16 "
                                "requantize range",
                                (int)c);
            }
        }
    }
    d->is16 = 1;
    /* TFLite Micro takes the 64-bit path without a bias too (checked against it). */
    d->bias64 = bias == NULL || bias->type == EL_INT64;
    if (node->builtin_code == EL_OP_DEPTHWISE_CONV_2D && !d->bias64) {
        return EL_UNSUP(ctx, node, "int16 depthwise convolution needs an int64 bias");
    }
    return EL_OK;
}

/* extra: bytes after the parameters, at a 16-byte offset (float16 weights, conv_pack_f16;
 * float32 panels, conv_f32_packed). s8_packed: int8 packed filter bytes after the sums
 * (conv_s8_packed_at; the alignment slack is added here). */
static el_status conv_alloc(el_context *ctx, el_node *node, int32_t channels, int sums,
                            size_t extra, size_t s8_packed, conv_data *d)
{
    unsigned char *mem = (unsigned char *)el_alloc_op_data(
        ctx, node,
        extra ? EL_CONV_F16_OFFSET + extra
              : conv_int_bytes(channels, sums) +
                    (s8_packed ? EL_CONV_PACK_ALIGN - 1u + s8_packed : 0u));
    memset(d, 0, sizeof(*d));
    if (mem == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->op = mem;
    d->mult = (int32_t *)(mem + sizeof(el_conv_params));
    d->shift = d->mult + channels;
    return EL_OK;
}

static el_status conv_types(el_context *ctx, el_node *node, el_tensor *in, el_tensor *filter,
                            el_tensor *out, int32_t *is_float)
{
    if (EL_KEEP_F32 && in->type == EL_FLOAT32) {
        EL_TRY(el_k_type(ctx, node, filter, "filter", EL_FLOAT32));
        EL_TRY(el_k_type(ctx, node, out, "output", EL_FLOAT32));
        *is_float = 1;
    } else if (in->type == EL_INT8 || in->type == EL_INT16) {
        EL_TRY(el_k_type(ctx, node, filter, "filter", EL_INT8));
        EL_TRY(el_k_type(ctx, node, out, "output", in->type));
        *is_float = 0;
    } else {
        return EL_UNSUP(ctx, node, "input type %s is not supported (FLOAT32, INT8 or INT16)",
                        el_dtype_name(in->type));
    }
    return EL_OK;
}

/* fold: NULL, or the padding of a PAD folded into the layer (top, bottom, left, right). */
static el_status conv_geometry(el_context *ctx, el_node *node, conv_data *d, int32_t padding,
                               const int32_t *fold, int32_t act, int32_t out_type, float out_s,
                               int32_t out_zp)
{
    int32_t oh, ow;
    (void)fold; /* hosted builds only */
    if (d->p.stride_h < 1 || d->p.stride_w < 1 || d->p.dilation_h < 1 || d->p.dilation_w < 1) {
        return EL_BAD(ctx, node, "strides and dilations must be >= 1");
    }
    if (padding != EL_PADDING_SAME && padding != EL_PADDING_VALID) {
        return EL_UNSUP(ctx, node, "padding %d is not SAME or VALID", (int)padding);
    }
#if EL_HOSTED_CPU
    if (fold != NULL) { /* a folded PAD's padding (el_folded_pad), then VALID */
        oh = el_k_out_size(EL_PADDING_VALID, d->in.h + fold[0] + fold[1], d->filter.h,
                           d->p.stride_h, d->p.dilation_h);
        ow = el_k_out_size(EL_PADDING_VALID, d->in.w + fold[2] + fold[3], d->filter.w,
                           d->p.stride_w, d->p.dilation_w);
    } else
#endif
    {
        oh = el_k_out_size(padding, d->in.h, d->filter.h, d->p.stride_h, d->p.dilation_h);
        ow = el_k_out_size(padding, d->in.w, d->filter.w, d->p.stride_w, d->p.dilation_w);
    }
    if (oh < 1 || ow < 1 || d->out.h != oh || d->out.w != ow || d->out.n != d->in.n) {
        return EL_BAD(ctx, node, "output is %dx%dx%d, the op computes %dx%dx%d", (int)d->out.n,
                      (int)d->out.h, (int)d->out.w, (int)d->in.n, (int)oh, (int)ow);
    }
#if EL_HOSTED_CPU
    if (fold != NULL) {
        d->p.pad_h = fold[0];
        d->p.pad_w = fold[2];
    } else
#endif
    {
        d->p.pad_h = el_k_padding(d->p.stride_h, d->p.dilation_h, d->in.h, d->filter.h, oh);
        d->p.pad_w = el_k_padding(d->p.stride_w, d->p.dilation_w, d->in.w, d->filter.w, ow);
    }
    if (d->is_float) {
        return el_k_act_range_f(ctx, node, act, &d->p.act_min_f, &d->p.act_max_f);
    }
    return el_k_act_range(ctx, node, act, out_type, out_s, out_zp, &d->p.act_min, &d->p.act_max);
}

/* The options CONV_2D and DEPTHWISE_CONV_2D share: alike in name, not in layout. */
typedef struct {
    int32_t padding, stride_w, stride_h, activation, dilation_w, dilation_h;
} conv_opts;
#define CONV_OPTS(o)                                                                               \
    ((o) != NULL ? &(conv_opts){(o)->padding, (o)->stride_w, (o)->stride_h, (o)->activation,       \
                                (o)->dilation_w, (o)->dilation_h}                                  \
                 : NULL)

/* allow_fp16: a float32 CONV_2D whose weights are a skipped DEQUANTIZE's float16 constant
 * (EL_TENSOR_F16, el_interp.c) keeps them packed for kernels/opt/arm_fp16.c in its op data,
 * after the parameters; the filter tensor then points at the panels. A DEPTHWISE_CONV_2D keeps
 * them widened to float32 there (what the DEQUANTIZE would write at every invoke, made once:
 * its float32 kernels and bytes are unchanged; float16 arithmetic would not pay there, each
 * activation being used by one multiply-add per tap only). */
static size_t conv_f16_bytes(const el_tensor *in, const el_tensor *filter, int depthwise)
{
#if EL_OPT_F16W
    if (EL_KEEP_F32 && in->type == EL_FLOAT32 && (filter->flags & EL_TENSOR_F16)) {
        return depthwise
                   ? (size_t)el_tensor_elements(filter) * sizeof(float)
                   : el_opt_f16_packed_bytes(filter->dims[0],
                                             filter->dims[1] * filter->dims[2] * filter->dims[3]);
    }
#endif
    (void)in, (void)filter, (void)depthwise;
    return 0;
}

static void conv_pack_f16(conv_data *d, el_tensor *filter, int depthwise)
{
#if EL_OPT_F16W
    void *dst = d->op + EL_CONV_F16_OFFSET;
    if (depthwise) {
        el_dequantize_f16_f32(el_tensor_elements(filter), (const uint16_t *)filter->data,
                              (float *)dst);
    } else {
        el_opt_f16_pack(d->filter.n, d->filter.h * d->filter.w * d->filter.c,
                        (const uint16_t *)filter->data, (uint16_t *)dst);
    }
    filter->data = dst;
#else
    (void)d, (void)filter, (void)depthwise;
#endif
}

/* CONV_2D and DEPTHWISE_CONV_2D: one prepare; they differ in the filter layout (OHWI, the
 * output channel first; 1HWO, last) and so in the shape rule and the quantized dimension. */
static el_status conv_prepare(el_context *ctx, el_node *node, const conv_opts *o, int32_t depthwise)
{
    const int32_t channel_dim = depthwise ? 3 : 0;
    el_tensor *in, *filter, *out;
    conv_data dd, *d = &dd;
    int32_t is_float = 0;
    float out_s = 0.0f;
    int32_t out_zp = 0;
    int keep_sums;
    size_t f16_bytes, f32_bytes = 0, s8_bytes = 0;
    /* the tensors' shapes: for the packed sizes, then d's (conv_alloc clears d) */
    el_dims ind, fd, outd;
    EL_TRY(el_k_counts(ctx, node, 2, 3, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_in(ctx, node, 1, &filter));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (o == NULL) {
        return EL_BAD(ctx, node,
                      depthwise ? "has no DepthwiseConv2DOptions" : "has no Conv2DOptions");
    }
    EL_TRY(el_k_rank(ctx, node, in, "input", 4));
    EL_TRY(el_k_rank(ctx, node, filter, "filter", 4));
    EL_TRY(el_k_rank(ctx, node, out, "output", 4));
    EL_TRY(conv_types(ctx, node, in, filter, out, &is_float));
    keep_sums = conv_keeps_sums(ctx, node, in, filter, el_input(ctx, node, 2));
    el_k_dims4(in, &ind);
    el_k_dims4(filter, &fd);
    el_k_dims4(out, &outd);
    f16_bytes = conv_f16_bytes(in, filter, depthwise);
    if (!f16_bytes) {
        f32_bytes = conv_f32_packed(ctx, node, in, filter, &ind, &fd);
    }
    if (keep_sums) {
        s8_bytes = conv_s8_packed(ctx, &fd, &outd);
    }
    EL_TRY(conv_alloc(ctx, node, is_float ? 0 : filter->dims[channel_dim], keep_sums,
                      f16_bytes + f32_bytes, s8_bytes, d));
    d->is_float = is_float;
    d->in = ind;
    d->filter = fd;
    d->out = outd;
    if (depthwise) {
        /* The multiplier comes from the shapes (the option is redundant and sometimes 0/stale
         * in converted models; TFLite checks the shapes the same way). */
        if (d->filter.n != 1 || d->filter.c != d->out.c || d->out.c % d->in.c != 0) {
            return EL_BAD(ctx, node,
                          "filter 1x%dx%dx%d does not fit input channels %d and "
                          "output channels %d",
                          (int)d->filter.h, (int)d->filter.w, (int)d->filter.c, (int)d->in.c,
                          (int)d->out.c);
        }
        d->p.depth_multiplier = d->out.c / d->in.c;
    } else if (d->in.c % d->filter.c != 0 || d->filter.n != d->out.c ||
               d->out.c % (d->in.c / d->filter.c) != 0) {
        return EL_BAD(ctx, node,
                      "filter %dx%dx%dx%d does not fit input channels %d and output "
                      "channels %d",
                      (int)d->filter.n, (int)d->filter.h, (int)d->filter.w, (int)d->filter.c,
                      (int)d->in.c, (int)d->out.c);
    }
    EL_TRY(check_bias(ctx, node, 2, d->out.c,
                      is_float ? EL_FLOAT32 : (in->type == EL_INT16 ? EL_INT64 : EL_INT32)));
    d->p.stride_h = o->stride_h;
    d->p.stride_w = o->stride_w;
    d->p.dilation_h = o->dilation_h;
    d->p.dilation_w = o->dilation_w;
    if (!is_float) {
        EL_TRY(conv_quant(ctx, node, d, d->out.c, channel_dim, 0));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        EL_TRY(int16_setup(ctx, node, d, in, out_zp));
    }
    {
        const int32_t *fold = NULL;
#if EL_HOSTED_CPU
        int32_t pads[4];
        if (el_folded_pad(ctx, node, pads))
            fold = pads;
#endif
        EL_TRY(
            conv_geometry(ctx, node, d, o->padding, fold, o->activation, out->type, out_s, out_zp));
    }
    if (keep_sums) {
        const el_tensor *bias = el_input(ctx, node, 2);
        el_opt_filter_sums_s8(el_ctx_isa(ctx), d->out.c, d->filter.h * d->filter.w * d->filter.c,
                              EL_S8(filter), bias ? EL_S32(bias) : NULL, d->p.input_offset,
                              d->mult + 2 * d->out.c, d->mult + 3 * d->out.c);
        if (s8_bytes) {
            (void)el_opt_conv2d_s8_pack(el_ctx_isa(ctx), d->out.c,
                                        d->filter.h * d->filter.w * d->filter.c, EL_S8(filter),
                                        conv_s8_packed_at(d->op, d->out.c));
        }
    }
    if (f16_bytes) {
        conv_pack_f16(d, filter, depthwise);
    }
    if (f32_bytes) {
        el_opt_conv2d_f32_pack(el_ctx_isa(ctx), &d->in, &d->filter, EL_F32(filter),
                               (float *)(d->op + EL_CONV_F16_OFFSET));
    }
    return conv_store(d);
}

static el_status conv2d_prepare(el_context *ctx, el_node *node)
{
    const el_conv_options *o = (const el_conv_options *)node->options;
    return conv_prepare(ctx, node, CONV_OPTS(o), 0);
}

/* One CONV_2D over the given views (the whole layer, or one task's rows of it). */
static void conv2d_run(el_context *ctx, const el_conv_params *p, const el_pc_quant *q,
                       const el_dims *ind, const void *in, const el_tensor *in_t, const el_dims *fd,
                       const el_tensor *filter, const el_tensor *bias, const el_opt_sums *sums,
                       const float *packed, const el_dims *outd, void *out)
{
    if (EL_KEEP_F32 && in_t->type == EL_FLOAT32) {
#if EL_OPT_F16W
        if (filter->flags & EL_TENSOR_F16) { /* allow_fp16: float16 panels (conv_pack_f16) */
            el_opt_conv2d_f16w(p, ind, (const float *)in, fd, (const uint16_t *)filter->data,
                               bias ? EL_F32(bias) : NULL, outd, (float *)out);
            return;
        }
#endif
        if (!el_opt_conv2d_f32(el_ctx_isa(ctx), p, ind, (const float *)in, fd, EL_F32(filter),
                               packed, bias ? EL_F32(bias) : NULL, outd, (float *)out)) {
            el_conv2d_f32(p, ind, (const float *)in, fd, EL_F32(filter), bias ? EL_F32(bias) : NULL,
                          outd, (float *)out);
        }
    } else if (EL_KEEP_S16 && in_t->type == EL_INT16) {
        /* TFLite Micro takes the 64-bit path without a bias too */
        const int bias64 = bias == NULL || bias->type == EL_INT64;
        if (!EL_OPT_S16 ||
            !el_opt_conv2d_s16(el_ctx_isa(ctx), p, q, ind, (const int16_t *)in, fd, EL_S8(filter),
                               bias ? bias->data : NULL, bias64, outd, (int16_t *)out)) {
            el_conv2d_s16(p, q, ind, (const int16_t *)in, fd, EL_S8(filter),
                          bias ? bias->data : NULL, bias64, outd, (int16_t *)out);
        }
    } else {
        /* kernels/opt: identical bytes when it takes the layer, else the reference. */
        if (!el_opt_conv2d_s8(el_ctx_isa(ctx), p, q, ind, (const int8_t *)in, fd, EL_S8(filter),
                              bias ? EL_S32(bias) : NULL, sums, outd, (int8_t *)out)) {
            el_conv2d_s8(p, q, ind, (const int8_t *)in, fd, EL_S8(filter),
                         bias ? EL_S32(bias) : NULL, outd, (int8_t *)out);
        }
    }
}

static void depthwise_run(el_context *ctx, const el_conv_params *p, const el_pc_quant *q,
                          const el_dims *ind, const void *in, const el_tensor *in_t,
                          const el_dims *fd, const el_tensor *filter, const el_tensor *bias,
                          const el_opt_sums *sums, const float *packed, const el_dims *outd,
                          void *out)
{
    (void)sums, (void)packed;
    if (EL_KEEP_F32 && in_t->type == EL_FLOAT32) {
        if (!el_opt_depthwise_conv2d_f32(el_ctx_isa(ctx), p, ind, (const float *)in, fd,
                                         EL_F32(filter), bias ? EL_F32(bias) : NULL, outd,
                                         (float *)out)) {
            el_depthwise_conv2d_f32(p, ind, (const float *)in, fd, EL_F32(filter),
                                    bias ? EL_F32(bias) : NULL, outd, (float *)out);
        }
    } else if (EL_KEEP_S16 && in_t->type == EL_INT16) {
        if (!EL_OPT_S16 || !el_opt_depthwise_conv2d_s16(
                               el_ctx_isa(ctx), p, q, ind, (const int16_t *)in, fd, EL_S8(filter),
                               bias ? bias->data : NULL, outd, (int16_t *)out)) {
            el_depthwise_conv2d_s16(p, q, ind, (const int16_t *)in, fd, EL_S8(filter),
                                    bias ? bias->data : NULL, 1 /* prepare requires int64 */, outd,
                                    (int16_t *)out);
        }
    } else {
        if (!el_opt_depthwise_conv2d_s8(el_ctx_isa(ctx), p, q, ind, (const int8_t *)in, fd,
                                        EL_S8(filter), bias ? EL_S32(bias) : NULL, outd,
                                        (int8_t *)out)) {
            el_depthwise_conv2d_s8(p, q, ind, (const int8_t *)in, fd, EL_S8(filter),
                                   bias ? EL_S32(bias) : NULL, outd, (int8_t *)out);
        }
    }
}

/* Threads: a layer's output is split into bands of rows, per batch. A band is itself a
 * convolution: the input starts at the band's first input row (or stays at row 0 with less
 * top padding), so every output element sees exactly the same inputs, in the same order, and
 * the bytes never depend on the split. The kernels keep no state between calls and these ops
 * use no arena scratch, so tasks share nothing mutable. */
typedef void (*conv_run_fn)(el_context *, const el_conv_params *, const el_pc_quant *,
                            const el_dims *, const void *, const el_tensor *, const el_dims *,
                            const el_tensor *, const el_tensor *, const el_opt_sums *,
                            const float *, const el_dims *, void *);

typedef struct {
    el_context *ctx;
    conv_run_fn run;
    const conv_view *v;
    const el_tensor *in, *filter, *bias;
    el_tensor *out;
    size_t esize;
    int32_t bands, rows; /* bands per batch, output rows per band */
    /* guided (int8 / float32 on hosted CPUs, one batch): a guided split (el_guided_range) of
     * rows, or (chans > 0) of channels in groups of chans */
    int32_t chans;
    int guided;
    el_guided g;
} conv_job;

/* An int8 or float32 CONV_2D with at least as many output channels per filter tap as output
 * pixels (the 1x1 expansions of a 7x7 or 14x14 map) is split by output channels on hosted
 * CPUs: each thread then reads only its share of the filter, where bands of rows would each
 * read all of it, and the 7 rows of a 7x7 map no longer split 4 / 3. Each output is computed
 * as in one call (the kernels' channel blocks start at the window; a channel's arithmetic is
 * its own). Windows are whole groups of 16 channels (the widest GEMM panel), in a guided
 * split (see EL_CONV_FINE_*).
 * MobileNetV2-1.0/224 int8, two threads, interleaved with LiteRT: about 70 us of 2.4 ms. */
static void conv_chan_task(const conv_job *j, int32_t i)
{
    const conv_view *v = j->v;
    int32_t c0, c1;
    el_guided_range(&j->g, i, &c0, &c1);
    if (c1 <= c0)
        return;
    if (j->run == depthwise_run) {
        (void)el_opt_depthwise_conv2d_s8_cols(el_ctx_isa(j->ctx), v->p, &v->q, &v->in,
                                              (const int8_t *)j->in->data, &v->filter,
                                              EL_S8(j->filter), j->bias ? EL_S32(j->bias) : NULL,
                                              &v->out, (int8_t *)j->out->data, c0, c1);
        return;
    }
    if (j->in->type == EL_FLOAT32) {
        (void)el_opt_conv2d_f32_cols(el_ctx_isa(j->ctx), v->p, &v->in, EL_F32(j->in), &v->filter,
                                     EL_F32(j->filter), v->packed, j->bias ? EL_F32(j->bias) : NULL,
                                     &v->out, EL_F32(j->out), c0, c1);
        return;
    }
    (void)el_opt_conv2d_s8_cols(el_ctx_isa(j->ctx), v->p, &v->q, &v->in,
                                (const int8_t *)j->in->data, &v->filter, EL_S8(j->filter),
                                j->bias ? EL_S32(j->bias) : NULL, v->sums.bias ? &v->sums : NULL,
                                &v->out, (int8_t *)j->out->data, c0, c1);
}

static void conv_task(void *arg, int32_t i)
{
    const conv_job *j = (const conv_job *)arg;
    const conv_view *v = j->v;
    el_conv_params p = *v->p;
    el_dims ind = v->in, outd = v->out;
    int32_t b, r0, r1, top, skip;
    const unsigned char *in = (const unsigned char *)j->in->data;
    unsigned char *out = (unsigned char *)j->out->data;
    if (EL_HOSTED_CPU && j->chans > 0) {
        conv_chan_task(j, i);
        return;
    }
    if (EL_HOSTED_CPU && j->guided) { /* one batch */
        b = 0;
        el_guided_range(&j->g, i, &r0, &r1);
    } else {
        b = i / j->bands;
        r0 = (i % j->bands) * j->rows;
        r1 = r0 + j->rows < v->out.h ? r0 + j->rows : v->out.h;
    }
    top = r0 * p.stride_h - p.pad_h; /* first input row the band reads */
    skip = top > 0 ? top : 0;
    if (r1 <= r0)
        return;
    p.pad_h = skip > 0 ? 0 : -top;
    ind.n = 1;
    ind.h = v->in.h - skip;
    outd.n = 1;
    outd.h = r1 - r0;
    in += (((size_t)b * (size_t)v->in.h + (size_t)skip) * (size_t)v->in.w * (size_t)v->in.c) *
          j->esize;
    out += (((size_t)b * (size_t)v->out.h + (size_t)r0) * (size_t)v->out.w * (size_t)v->out.c) *
           j->esize;
    j->run(j->ctx, &p, &v->q, &ind, in, j->in, &v->filter, j->filter, j->bias,
           v->sums.bias ? &v->sums : NULL, v->packed, &outd, out);
}

/* Below this many multiply-adds a layer runs as one call: the hand-off would cost more. */
#define EL_CONV_SPLIT_MIN_MACS 32768
#define EL_CONV_BANDS 4
#define EL_CONV_BAND_PIXELS 256
/* int8 and float32 layers on hosted CPUs split finer, so that a thread that runs slower (on a
 * VM, the vCPU whose sibling is busy, or that idled between invokes) hands its last pieces to
 * the other: a guided split (el_guided_range) of rows (bands of 24 pixels or more on average, up
 * to 8 per thread), of 16-channel groups for channel-split convs, and of 64-channel groups for
 * int8 depthwise layers of 14x14 and smaller (EL_DW_FINE_CHANS). With one task per thread the
 * 28x28, 14x14 and 7x7 layers of MobileNetV2 left the caller waiting up to 1.5 ms per invoke
 * in slow minutes (stop 30: even bands, 64 and 32-channel windows: 4 to 7 % faster in them,
 * up to 2 % slower in good ones). The guided split's decreasing tasks end a layer on small
 * ones and, with fewer of them, repeat less per-call work (borders, im2col setup):
 * MobileNetV2-1.0/224 int8, AVX2 host, two threads 3.5 to 6 % faster than the even split
 * (benchmarks/README.md, stop 31). float32 layers split the same way since stop 31: one
 * window per thread and bands of 256 pixels left the caller waiting 0.7 to 0.9 ms per
 * MobileNetV2-1.0/224 invoke in minutes when one vCPU ran 20 % slower than the other (two
 * threads 0.975 to 1.000 of before). */
#define EL_CONV_FINE_BANDS 8
#define EL_CONV_FINE_BAND_PIXELS 24
/* The int8 depthwise channel groups: whole 64-channel blocks of the AVX-512 kernel. In groups
 * of 32 the guided split cut MobileNetV2-1.0/224's 14x14 and 7x7 layers into windows of 160,
 * 96 and 32 channels, whose 32-channel blocks compute two pixels per vector from half-width
 * loads and whose whole padded maps the windows of 96 channels and fewer copy pixel by pixel:
 * the split tasks run inline took 1.26 to 1.29 times one call's time on the 14x14x576
 * layers, 1.72 times on the stride-2 one to 7x7; in groups of 64 1.07 to 1.10 and 1.22
 * times (stop 41). */
#define EL_DW_FINE_CHANS 64
#define EL_DW_BLOCK_CHANS 16 /* the int8 depthwise kernels' vector block */
#define EL_DW_FINE_PIXELS 196

/* The most items one thread's share holds when `total` items, in units of `unit` (the last
 * one clipped at total), are dealt to `threads` threads: el_guided_split's shares (with one
 * task per thread, task t is thread t's whole share). */
static int32_t largest_share(int32_t total, int32_t unit, int32_t threads)
{
    const el_guided g = el_guided_split(total, unit, threads, 1);
    int32_t t, a, b, most = 0;
    for (t = 0; t < g.threads; t++) {
        el_guided_range(&g, t, &a, &b);
        most = b - a > most ? b - a : most;
    }
    return most;
}

/* Runs job j as a guided split (el_guided_range) of `total` items, at most `most` tasks per
 * thread: rows, or (j->chans > 0) channels in windows of whole groups of j->chans. */
static void guided(el_context *ctx, conv_job *j, int32_t total, int32_t most)
{
    j->guided = 1;
    j->g = el_guided_split(total, j->chans > 0 ? j->chans : 1, el_ctx_threads(ctx), most);
    el_parallel_for(ctx, el_guided_tasks(&j->g), conv_task, j);
}

/* The channel group of an int8 CONV_2D split by channel windows: 64 channels where the layer
 * has at least 4 such groups per thread and they deal every thread the same number, else 32
 * where it has 4 of those per thread, else 16. The AVX-512 VNNI GEMM computes 64
 * channels (4 panels of 16) per pass over the activations; a window of 48, 32 or 16 channels
 * gets narrower tiles that load each activation for fewer multiply-adds. In 16-channel groups
 * the guided split cut MobileNetV2-1.0/224's 7x7 and 14x14 layers into windows of 80, 48 and
 * 32 channels. Its split tasks run inline on one thread (per-op medians, 300 invokes, two
 * runs; stop 39): the 7x7x160 -> 960 layers 45.2-47.2 us against 39.0-39.7 whole, 40.1-41.1
 * in 64-channel groups; 7x7x960 -> 320 65.3-67.9 against 54.7, 58.7-59.7 in 32-channel ones.
 * Unequal shares cost more than the narrower tiles: the 14x14x96 -> 576 layers' nine 64-channel
 * groups went 4 / 5 to two threads, whose tasks (3 + 1 and 3 + 2 groups) left nothing to
 * steal; the worker's half took 24.9 us, the caller's 19.7 (stop 40). In 32-channel groups
 * (9 / 9) two threads took 1.0 to 1.7 us less per layer, a paired run. */
static int32_t s8_chan_unit(int32_t channels, int32_t threads)
{
    if (channels >= 64 * 4 * threads && ((channels + 63) / 64) % threads == 0) {
        return 64;
    }
    return channels >= 32 * 4 * threads ? 32 : 16;
}

static void conv_dispatch(el_context *ctx, conv_run_fn run, const conv_view *v, const el_tensor *in,
                          const el_tensor *filter, const el_tensor *bias, el_tensor *out)
{
    const int32_t threads = el_ctx_threads(ctx);
    conv_job j;
    int fine; /* EL_CONV_FINE_*: an int8 or float32 layer on a hosted CPU */
    /* threads first: microcontrollers never reach the (software) double arithmetic */
    if (threads <= 1 || v->out.h < 1 ||
        (double)v->out.n * v->out.h * v->out.w * v->out.c * v->filter.h * v->filter.w *
                (run == conv2d_run ? v->filter.c : 1) <
            EL_CONV_SPLIT_MIN_MACS) {
        run(ctx, v->p, &v->q, &v->in, in->data, in, &v->filter, filter, bias,
            v->sums.bias ? &v->sums : NULL, v->packed, &v->out, out->data);
        return;
    }
    j.ctx = ctx;
    j.run = run;
    j.v = v;
    j.in = in;
    j.filter = filter;
    j.bias = bias;
    j.out = out;
    j.esize = in->type == EL_FLOAT32 ? 4u : (in->type == EL_INT16 ? 2u : 1u);
    if (EL_HOSTED_CPU) { /* channel windows and guided splits: hosted CPUs only */
        j.chans = 0;
        j.guided = 0;
    }
    fine = EL_HOSTED_CPU && (in->type == EL_INT8 || in->type == EL_FLOAT32);
    if (EL_HOSTED_CPU && run == conv2d_run && v->out.c >= 32 * threads &&
        (double)v->out.c * v->filter.h * v->filter.w >= (double)v->out.n * v->out.h * v->out.w &&
        ((in->type == EL_INT8 &&
          el_opt_conv2d_s8_cols(el_ctx_isa(ctx), v->p, &v->q, &v->in, NULL, &v->filter, NULL, NULL,
                                NULL, &v->out, NULL, 0, 0)) ||
         (EL_KEEP_F32 && in->type == EL_FLOAT32 && !(filter->flags & EL_TENSOR_F16) &&
          el_opt_conv2d_f32_cols(el_ctx_isa(ctx), v->p, &v->in, NULL, &v->filter, NULL, NULL, NULL,
                                 &v->out, NULL, 0, 0)))) {
        j.chans = in->type == EL_INT8 ? s8_chan_unit(v->out.c, threads) : 16;
        guided(ctx, &j, v->out.c, EL_CONV_FINE_BANDS);
        return;
    }
    /* An int8 DEPTHWISE_CONV_2D of fewer than 4 rows per thread (7x7 maps and smaller), or of
     * at most EL_DW_FINE_PIXELS output pixels, with at least one 16-channel block per thread
     * splits by channels, in a guided split of EL_DW_FINE_CHANS-channel groups (the last one
     * may be partial: conv_chan_task clips it): rows would split 4 / 3 (and a 3x3 map 2 / 1),
     * and a 14x14 map's bands would be one per thread. A window of more than 64 channels runs
     * the kernel's one-pass path over all of them. (Until stop 32 the channels had to make
     * whole groups per thread: a layer of 200 or 336 channels ran on one thread.) Where the
     * groups deal unequal shares and the split is too coarse for stealing to even them out,
     * the groups are 16 channels (the kernels' vector block) or, if rows deal a smaller
     * largest share, the layer splits by rows: MobileNetV2-0.35/96's 12x12x96 layers split 32 /
     * 64 channels (the worker's half took 10 to 11 us, the caller's 5) and its 6x6x144 ones
     * 64 / 80 (stop 35). Where rows deal the same largest share as windows narrower than 64
     * channels, rows too (below, stop 41). */
    if (EL_HOSTED_CPU && run == depthwise_run && in->type == EL_INT8 &&
        (v->out.h < 4 * threads || v->out.h * v->out.w <= EL_DW_FINE_PIXELS) &&
        v->out.c >= EL_DW_BLOCK_CHANS * threads &&
        el_opt_depthwise_conv2d_s8_cols(el_ctx_isa(ctx), v->p, &v->q, &v->in, NULL, &v->filter,
                                        NULL, NULL, &v->out, NULL, 0, 0)) {
        int32_t unit = EL_DW_FINE_CHANS;
        if (el_guided_split(v->out.c, unit, threads, EL_CONV_FINE_BANDS).per == 1) {
            /* one task per thread: nothing evens out unequal shares */
            if (largest_share(v->out.c, EL_DW_BLOCK_CHANS, threads) <
                largest_share(v->out.c, unit, threads))
                unit = EL_DW_BLOCK_CHANS;
            /* the largest shares as fractions of the layer: channels / out.c, rows / out.h.
             * Windows narrower than 64 channels cost more than bands of rows: MobileNetV2-0.35
             * /96's 12x12x96 layers in windows of 48 channels took twice one call's time
             * when run inline (3.5 -> 7.1 us), by rows 1.25 times (stop 41). */
            if (v->out.n == 1 && v->out.h >= 2 * threads) {
                const int64_t by_chans = (int64_t)largest_share(v->out.c, unit, threads) * v->out.h;
                const int64_t by_rows = (int64_t)largest_share(v->out.h, 1, threads) * v->out.c;
                if (by_chans > by_rows || (by_chans == by_rows && unit < EL_DW_FINE_CHANS))
                    unit = 0;
            }
        }
        if (unit > 0) {
            j.chans = unit;
            guided(ctx, &j, v->out.c, EL_CONV_FINE_BANDS);
            return;
        }
    }
    {
        /* Up to EL_CONV_BANDS bands per thread of at least EL_CONV_BAND_PIXELS output pixels
         * (the GEMM's row block on hosted CPUs, so no filter panel is packed more often than in
         * one call): a thread that starts late or runs slower then takes fewer of them (the
         * hosted pool deals each thread a contiguous run of bands and lets it take the others'
         * unclaimed ones). */
        const int32_t most = fine ? EL_CONV_FINE_BANDS : EL_CONV_BANDS;
        int32_t m =
            (int32_t)((double)v->out.h * v->out.w /
                      ((double)(fine ? EL_CONV_FINE_BAND_PIXELS : EL_CONV_BAND_PIXELS) * threads));
        m = !EL_HOSTED_CPU || m < 1 ? 1 : (m > most ? most : m);
        if (fine && v->out.n == 1 && v->out.h >= 2 * threads &&
            (v->out.h - 1) * v->p->stride_h - v->p->pad_h < v->in.h) {
            guided(ctx, &j, v->out.h, m);
            return;
        }
        j.rows = (v->out.h + threads * m - 1) / (threads * m);
    }
    j.bands = (v->out.h + j.rows - 1) / j.rows;
    /* every band must start inside the input (always so with SAME / VALID padding) */
    if (j.bands * v->out.n <= 1 ||
        (j.bands - 1) * j.rows * v->p->stride_h - v->p->pad_h >= v->in.h) {
        run(ctx, v->p, &v->q, &v->in, in->data, in, &v->filter, filter, bias,
            v->sums.bias ? &v->sums : NULL, v->packed, &v->out, out->data);
        return;
    }
    el_parallel_for(ctx, j.bands * v->out.n, conv_task, &j);
}

static el_status conv2d_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *filter = el_input(ctx, node, 1);
    el_tensor *bias = el_input(ctx, node, 2), *out = el_output(ctx, node, 0);
    conv_view v, *d = &v;
    conv_view_of(ctx, node, in, filter, bias, out, &v);
    if (EL_KEEP_SPARSE && (filter->flags & EL_TENSOR_SPARSE)) { /* weights read sparse */
        return el_sparse_conv(ctx, node, d->p, &d->q, &d->in, &d->filter, &d->out, 0);
    }
    conv_dispatch(ctx, conv2d_run, d, in, filter, bias, out);
    return EL_OK;
}

static el_status depthwise_prepare(el_context *ctx, el_node *node)
{
    const el_depthwise_options *o = (const el_depthwise_options *)node->options;
    return conv_prepare(ctx, node, CONV_OPTS(o), 1);
}

static el_status depthwise_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *filter = el_input(ctx, node, 1);
    el_tensor *bias = el_input(ctx, node, 2), *out = el_output(ctx, node, 0);
    conv_view v, *d = &v;
    conv_view_of(ctx, node, in, filter, bias, out, &v);
    if (EL_KEEP_SPARSE && (filter->flags & EL_TENSOR_SPARSE)) { /* weights read sparse */
        return el_sparse_conv(ctx, node, d->p, &d->q, &d->in, &d->filter, &d->out, 1);
    }
    conv_dispatch(ctx, depthwise_run, d, in, filter, bias, out);
    return EL_OK;
}

#if EL_HOSTED_CPU
int el_conv_fold_activation(el_context *ctx, el_node *conv, int32_t act)
{
    el_conv_params *p = (el_conv_params *)conv->op_data;
    const el_tensor *filter = el_input(ctx, conv, 1), *out = el_output(ctx, conv, 0);
    float lo, hi;
    if ((conv->kernel->invoke != conv2d_invoke && conv->kernel->invoke != depthwise_invoke) ||
        p == NULL || filter == NULL || out == NULL || out->type != EL_FLOAT32 ||
        (filter->flags & EL_TENSOR_SPARSE) || !el_activation_range_float(EL_ACT_NONE, &lo, &hi) ||
        p->act_min_f != lo || p->act_max_f != hi) {
        return 0; /* not a float32 dense convolution, or one with its own activation */
    }
    return el_activation_range_float(act, &p->act_min_f, &p->act_max_f);
}
#endif

#if EL_HOSTED_CPU
/* Hosted float32 TRANSPOSE_CONV / Convolution2DTransposeBias with a dense filter: a GEMM,
 * then col2im. The OHWI filter read as (out_c * taps) rows of in_c is the filter of an
 * unpadded 1x1 conv, so el_opt_conv2d_f32 (its register-blocked GEMM, a constant filter
 * packed once at prepare) gives every input pixel's contribution to every tap of every output channel;
 * col2im then adds each into the output pixel it lands on, input pixel by input pixel (each
 * output's sum in the reference's order of input pixels), and the bias and the clamp follow
 * as in the reference. The reference scatters one multiply-add at a time: MediaPipe selfie
 * segmentation's 128x128x16 -> 256x256x1 upsampling took 2.4 ms of its 7.6. Within rounding
 * of the reference (each tap's dot product over in_c in fused multiply-adds), the same bytes
 * on every run. Bands of input rows bound the scratch that holds C. */
#define EL_TCONV_BAND_FLOATS 32768 /* C per band: 128 KB, read back from L2 by col2im */

typedef struct {
    el_dims in, filter, out; /* the 1x1 conv of one band of `rows` input rows */
    int32_t rows;
} tconv_gemm;

static void tconv_gemm_of(const el_dims *in, const el_dims *f, tconv_gemm *g)
{
    const int64_t n = (int64_t)f->n * f->h * f->w, row = (int64_t)in->w * n;
    const int64_t rows = row > 0 ? EL_TCONV_BAND_FLOATS / row : 0;
    g->rows = rows < 1 ? 1 : (rows > in->h ? in->h : (int32_t)rows);
    g->in.n = g->out.n = 1;
    g->in.h = g->out.h = g->rows;
    g->in.w = g->out.w = in->w;
    g->in.c = in->c;
    g->out.c = (int32_t)n;
    g->filter.n = (int32_t)n;
    g->filter.h = g->filter.w = 1;
    g->filter.c = in->c;
}

/* The bytes of the GEMM's filter packed as el_opt_conv2d_f32 packs it, 0 when the GEMM does
 * not take the layer (it takes a float32 dense filter on a CPU with el_opt_conv2d_f32). */
static size_t tconv_f32_gemm_bytes(const el_context *ctx, const el_tensor *in,
                                   const el_tensor *filter, const el_dims *ind, const el_dims *fd)
{
    tconv_gemm g;
    if (in->type != EL_FLOAT32 || filter->type != EL_FLOAT32 ||
        (filter->flags & (EL_TENSOR_SPARSE | EL_TENSOR_F16)) ||
        (int64_t)fd->n * fd->h * fd->w > 0x7FFFFFF) {
        return 0;
    }
    tconv_gemm_of(ind, fd, &g);
    return el_opt_conv2d_f32_packed_bytes(el_ctx_isa(ctx), &g.in, &g.filter);
}

/* Whether prepare packs the filter once (in the op data after the parameters, as a CONV_2D's
 * panels) when the GEMM takes the layer: a constant one. A filter computed at invoke (a
 * DEQUANTIZE run then, with an op callback) is packed per call, the same arithmetic. */
static int tconv_f32_prepacked(const el_tensor *filter)
{
    return filter->data != NULL && (filter->flags & EL_TENSOR_CONST);
}

/* Below this many multiply-adds a transposed conv runs as one call (as EL_CONV_SPLIT_MIN_MACS:
 * its GEMM dominates). */
#define EL_TCONV_SPLIT_MIN_MACS 262144

/* How many tasks the layer splits into on `threads` threads: bands of output rows, one per
 * thread (each holds its own GEMM band, so the scratch grows with the tasks; no stealing). */
static int32_t tconv_f32_tasks(int32_t threads, const el_dims *ind, const el_dims *fd,
                               const el_dims *od)
{
    if (threads <= 1 || od->h < 2 * threads ||
        (double)ind->n * ind->h * ind->w * ind->c * fd->n * fd->h * fd->w <
            EL_TCONV_SPLIT_MIN_MACS) {
        return 1;
    }
    return threads;
}

/* Floats of one band's GEMM output (C). */
static size_t tconv_band_floats(const tconv_gemm *g)
{
    return (size_t)g->rows * (size_t)g->out.w * (size_t)g->out.c;
}

static size_t tconv_f32_scratch(const el_dims *ind, const el_dims *fd)
{
    tconv_gemm g;
    tconv_gemm_of(ind, fd, &g);
    return tconv_band_floats(&g) * sizeof(float);
}

/* Adds one filter row's contributions of a row of input pixels to an output row: c holds the
 * GEMM's row of each input pixel (g.out.c floats apart) from the filter row's first tap, whose
 * output channel oc is taps floats apart. Input pixels left to right: each output's sum in the
 * reference's order. */
static void tconv_col2im_row(const float *c, int32_t in_w, int32_t f_w, int32_t taps,
                             int32_t stride, int32_t pad, int32_t out_w, int32_t oc_n, float *o)
{
    const size_t step = (size_t)taps * oc_n;
    int32_t ix, kx, oc;
    for (ix = 0; ix < in_w; ++ix, c += step) {
        const int32_t ox0 = ix * stride - pad;
        if (oc_n == 1 && ox0 >= 0 && ox0 + f_w <= out_w) { /* one channel: runs of f_w */
            for (kx = 0; kx < f_w; ++kx) {
                o[ox0 + kx] += c[kx];
            }
            continue;
        }
        for (kx = 0; kx < f_w; ++kx) {
            float *d = o + (size_t)(ox0 + kx) * oc_n;
            if (ox0 + kx < 0 || ox0 + kx >= out_w) {
                continue;
            }
            for (oc = 0; oc < oc_n; ++oc) {
                d[oc] += c[(size_t)oc * taps + kx];
            }
        }
    }
}

/* Output rows [o0, o1) of every image: the input rows that reach them, in bands of `band`
 * (tconv_gemm_of) through the GEMM (into c), each band's contributions to those rows added by col2im in the order one call
 * adds them (input rows, then input pixels, ascending), then the bias and the clamp. A band of
 * output rows gives its rows the same bytes as the whole layer. Returns 0, touching nothing,
 * when the optimized GEMM does not take the layer. */
static int tconv_f32_rows(const el_context *ctx, const conv_view *v, const tconv_gemm *band,
                          const float *in, const float *filter, const float *packed,
                          const float *bias, float *c, float *out, int32_t o0, int32_t o1)
{
    const el_dims *id = &v->in, *fd = &v->filter, *od = &v->out;
    const el_conv_params *p = v->p;
    const int32_t taps = fd->h * fd->w, oc_n = od->c;
    const size_t in_img = (size_t)id->h * id->w * id->c, out_img = (size_t)od->h * od->w * oc_n;
    const size_t out_row = (size_t)od->w * oc_n;
    /* input rows y with y * stride - pad + ky in [o0, o1) for some tap row ky */
    const int32_t lo = o0 + p->pad_h - (fd->h - 1), hi = o1 - 1 + p->pad_h;
    const int32_t y0 = lo <= 0 ? 0 : (lo + p->stride_h - 1) / p->stride_h;
    const int32_t y1 = hi < 0 ? 0 : (hi / p->stride_h + 1 < id->h ? hi / p->stride_h + 1 : id->h);
    el_conv_params gp;
    tconv_gemm g = *band; /* its row count changes for a last, shorter band */
    int32_t b, r0, y, ky, oc;
    size_t i;
    memset(&gp, 0, sizeof(gp));
    gp.stride_h = gp.stride_w = gp.dilation_h = gp.dilation_w = 1;
    (void)el_activation_range_float(EL_ACT_NONE, &gp.act_min_f, &gp.act_max_f);
    for (b = 0; b < id->n; ++b) {
        float *o_img = out + (size_t)b * out_img;
        int cleared = 0;
        for (r0 = y0; r0 < y1 || !cleared; r0 += g.rows) {
            const int32_t rows = y1 - r0 < g.rows ? y1 - r0 : g.rows;
            if (rows > 0) {
                g.in.h = g.out.h = rows;
                if (!el_opt_conv2d_f32(el_ctx_isa(ctx), &gp, &g.in,
                                       in + b * in_img + (size_t)r0 * id->w * id->c, &g.filter,
                                       filter, packed, NULL, &g.out, c)) {
                    return 0; /* the same answer for every band: nothing written yet */
                }
            }
            if (!cleared) {
                memset(o_img + (size_t)o0 * out_row, 0,
                       (size_t)(o1 - o0) * out_row * sizeof(float));
                cleared = 1;
            }
            for (y = 0; y < rows; ++y) {
                for (ky = 0; ky < fd->h; ++ky) {
                    const int32_t oy = (r0 + y) * p->stride_h - p->pad_h + ky;
                    if (oy >= o0 && oy < o1) {
                        tconv_col2im_row(c + (size_t)y * id->w * g.out.c + ky * fd->w, id->w, fd->w,
                                         taps, p->stride_w, p->pad_w, od->w, oc_n,
                                         o_img + (size_t)oy * out_row);
                    }
                }
            }
        }
        for (i = (size_t)o0 * out_row; i < (size_t)o1 * out_row; i += (size_t)oc_n) {
            float *o = o_img + i;
            for (oc = 0; oc < oc_n; ++oc) {
                const float x = bias ? o[oc] + bias[oc] : o[oc];
                o[oc] = x < p->act_min_f ? p->act_min_f : (x > p->act_max_f ? p->act_max_f : x);
            }
        }
    }
    return 1;
}

typedef struct {
    const el_context *ctx;
    const conv_view *v;
    tconv_gemm band; /* each task's GEMM band, tconv_band_floats(&band) of the scratch */
    const float *in, *filter, *packed, *bias;
    float *scratch, *out;
    int32_t tasks;
    unsigned char declined[256]; /* per task: the GEMM did not take the layer */
} tconv_job;

static void tconv_task(void *arg, int32_t i)
{
    tconv_job *j = (tconv_job *)arg;
    const int32_t h = j->v->out.h;
    const int32_t o0 = (int32_t)((int64_t)h * i / j->tasks);
    const int32_t o1 = (int32_t)((int64_t)h * (i + 1) / j->tasks);
    j->declined[i] = (unsigned char)!tconv_f32_rows(
        j->ctx, j->v, &j->band, j->in, j->filter, j->packed, j->bias,
        j->scratch + tconv_band_floats(&j->band) * i, j->out, o0, o1);
}

/* The layer on the hosted pool (tconv_f32_tasks bands of output rows) or in one call; returns
 * 0 when the GEMM does not take it (the output then unspecified: the reference rewrites all). */
static int tconv_f32_run(el_context *ctx, const conv_view *v, const float *in, const float *filter,
                         const float *packed, const float *bias, float *c, float *out)
{
    tconv_job j;
    int32_t i;
    tconv_gemm_of(&v->in, &v->filter, &j.band);
    j.tasks = tconv_f32_tasks(el_ctx_threads(ctx), &v->in, &v->filter, &v->out);
    if (j.tasks <= 1) {
        return tconv_f32_rows(ctx, v, &j.band, in, filter, packed, bias, c, out, 0, v->out.h);
    }
    j.ctx = ctx;
    j.v = v;
    j.in = in;
    j.filter = filter;
    j.packed = packed;
    j.bias = bias;
    j.scratch = c;
    j.out = out;
    el_parallel_for(ctx, j.tasks, tconv_task, &j);
    for (i = 0; i < j.tasks; ++i) {
        if (j.declined[i]) {
            return 0;
        }
    }
    return 1;
}
#endif

/* TRANSPOSE_CONV inputs: 0 output_shape (int32, const), 1 weights OHWI, 2 input, 3 bias.
 * int8 (int32 bias) and int16x8 (int64 bias, zero points 0).
 * MediaPipe's custom Convolution2DTransposeBias: 0 input, 1 weights OHWI, 2 bias (float32),
 * the output's shape given by its tensor; same arithmetic, so one prepare for both. */
static el_status tconv_prepare(el_context *ctx, el_node *node, int32_t filter_i, int32_t in_i,
                               int32_t bias_i, int custom)
{
    const el_transpose_conv_options *o = (const el_transpose_conv_options *)node->options;
    el_tensor *shape = NULL, *filter, *in, *out;
    conv_data dd, *d = &dd;
    el_dims ind, fd;
    size_t f32_bytes = 0;
#if EL_HOSTED_CPU
    size_t gemm_bytes;
#endif
    int32_t i;
    EL_TRY(custom ? el_k_counts(ctx, node, 3, 3, 1, 1) : el_k_counts(ctx, node, 3, 4, 1, 1));
    if (!custom)
        EL_TRY(el_k_in(ctx, node, 0, &shape));
    EL_TRY(el_k_in(ctx, node, filter_i, &filter));
    EL_TRY(el_k_in(ctx, node, in_i, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (o == NULL) {
        return EL_BAD(ctx, node, "has no TransposeConvOptions");
    }
    if (in->type != EL_FLOAT32 && (custom || (in->type != EL_INT8 && in->type != EL_INT16))) {
        return EL_UNSUP(ctx, node, "input type %s is not supported (%s)", el_dtype_name(in->type),
                        custom ? "FLOAT32" : "FLOAT32, INT8 or INT16");
    }
    EL_TRY(el_k_type(ctx, node, filter, "filter", in->type == EL_FLOAT32 ? EL_FLOAT32 : EL_INT8));
    EL_TRY(el_k_type(ctx, node, out, "output", in->type));
    EL_TRY(el_k_rank(ctx, node, in, "input", 4));
    EL_TRY(el_k_rank(ctx, node, filter, "filter", 4));
    EL_TRY(el_k_rank(ctx, node, out, "output", 4));
    if (custom && el_input(ctx, node, bias_i) == NULL) {
        return EL_BAD(ctx, node, "has no bias input");
    }
    if (shape != NULL) {
        EL_TRY(el_k_type(ctx, node, shape, "output_shape", EL_INT32));
        EL_TRY(el_k_const(ctx, node, shape, "output_shape"));
        if (el_tensor_elements(shape) != 4) {
            return EL_BAD(ctx, node, "output_shape must have 4 elements");
        }
        for (i = 0; i < 4; ++i) {
            if (EL_S32(shape)[i] != out->dims[i]) {
                return EL_BAD(ctx, node, "output_shape[%d] = %d but the output tensor has %d",
                              (int)i, (int)EL_S32(shape)[i], (int)out->dims[i]);
            }
        }
    }
    el_k_dims4(in, &ind);
    el_k_dims4(filter, &fd);
#if EL_HOSTED_CPU
    gemm_bytes = tconv_f32_gemm_bytes(ctx, in, filter, &ind, &fd);
    f32_bytes = tconv_f32_prepacked(filter) ? gemm_bytes : 0;
#endif
    EL_TRY(conv_alloc(ctx, node, in->type != EL_FLOAT32 ? filter->dims[0] : 0, 0, f32_bytes, 0, d));
    d->is_float = in->type == EL_FLOAT32;
    d->in = ind;
    d->filter = fd;
    el_k_dims4(out, &d->out);
    if (d->filter.n != d->out.c || d->filter.c != d->in.c || d->in.n != d->out.n) {
        return EL_BAD(ctx, node, "filter does not fit input/output channels");
    }
#if EL_HOSTED_CPU
    if (f32_bytes) {
        tconv_gemm g;
        tconv_gemm_of(&ind, &fd, &g);
        el_opt_conv2d_f32_pack(el_ctx_isa(ctx), &g.in, &g.filter, EL_F32(filter),
                               (float *)(d->op + EL_CONV_F16_OFFSET));
    }
    if (gemm_bytes) {
        el_dims od;
        el_k_dims4(out, &od);
        EL_TRY(
            el_request_scratch(ctx, node,
                               tconv_f32_scratch(&ind, &fd) *
                                   (size_t)tconv_f32_tasks(el_ctx_threads(ctx), &ind, &fd, &od)));
    }
#endif
    EL_TRY(check_bias(ctx, node, bias_i, d->out.c,
                      d->is_float ? EL_FLOAT32 : (in->type == EL_INT16 ? EL_INT64 : EL_INT32)));
    if (o->stride_h < 1 || o->stride_w < 1) {
        return EL_BAD(ctx, node, "strides must be >= 1");
    }
    d->p.stride_h = o->stride_h;
    d->p.stride_w = o->stride_w;
    d->p.dilation_h = d->p.dilation_w = 1;
    {
        /* TFLite pads as for the forward conv that maps the output back to the input. */
        const int32_t ih = el_k_out_size(o->padding, d->out.h, d->filter.h, o->stride_h, 1);
        const int32_t iw = el_k_out_size(o->padding, d->out.w, d->filter.w, o->stride_w, 1);
        if (ih != d->in.h || iw != d->in.w) {
            return EL_BAD(ctx, node,
                          "input %dx%d does not match output %dx%d with these "
                          "strides",
                          (int)d->in.h, (int)d->in.w, (int)d->out.h, (int)d->out.w);
        }
        d->p.pad_h = el_k_padding(o->stride_h, 1, d->out.h, d->filter.h, ih);
        d->p.pad_w = el_k_padding(o->stride_w, 1, d->out.w, d->filter.w, iw);
    }
    if (!d->is_float) {
        /* per-channel multipliers as CONV_2D, the sums in a scratch buffer (int32 for int8,
         * int64 for int16x8, as TFLite Micro) */
        float out_s;
        int32_t out_zp;
        EL_TRY(conv_quant(ctx, node, d, d->out.c, 0, 2));
        EL_TRY(el_k_qout(ctx, node, 0, &out_s, &out_zp));
        EL_TRY(el_k_act_range(ctx, node, o->activation, in->type, out_s, out_zp, &d->p.act_min,
                              &d->p.act_max));
        if (in->type == EL_INT16) {
            const el_tensor *bias = el_input(ctx, node, 3);
            if (d->p.input_offset != 0 || out_zp != 0) {
                return EL_UNSUP(ctx, node, "int16 activations need zero point 0");
            }
            /* TFLite Micro reads an int16 TRANSPOSE_CONV's bias as int64 whatever its type
             * (and LiteRT only honours int32 with quantized_bias_type): int64 or none only. */
            if (bias != NULL && bias->type != EL_INT64) {
                return EL_UNSUP(ctx, node, "int16 TRANSPOSE_CONV needs an int64 bias (got %s)",
                                el_dtype_name(bias->type));
            }
            for (i = 0; i < d->out.c; ++i) {
                if (d->shift[i] < -31 || d->shift[i] > 7) {
                    return EL_UNSUP(ctx, node,
                                    "channel %d: scale ratio out of the int16 "
                                    "requantize range",
                                    (int)i);
                }
            }
        }
        EL_TRY(el_request_scratch(
            ctx, node, (in->type == EL_INT16 ? 8u : 4u) * (size_t)el_tensor_elements(out)));
        return conv_store(d);
    }
    EL_TRY(el_k_act_range_f(ctx, node, o->activation, &d->p.act_min_f, &d->p.act_max_f));
    return conv_store(d);
}

static void tconv_f32_invoke(el_context *ctx, const el_node *node, const conv_view *v,
                             const el_tensor *in, const el_tensor *filter, const el_tensor *bias,
                             el_tensor *out)
{
#if EL_HOSTED_CPU
    /* prepare asked the same questions of the same tensors */
    if (tconv_f32_gemm_bytes(ctx, in, filter, &v->in, &v->filter) &&
        tconv_f32_run(
            ctx, v, EL_F32(in), EL_F32(filter),
            tconv_f32_prepacked(filter)
                ? (const float *)((const unsigned char *)node->op_data + EL_CONV_F16_OFFSET)
                : NULL,
            bias ? EL_F32(bias) : NULL, (float *)node->scratch, EL_F32(out))) {
        return;
    }
#else
    (void)ctx, (void)node;
#endif
    el_transpose_conv_f32(v->p, &v->in, EL_F32(in), &v->filter, EL_F32(filter),
                          bias ? EL_F32(bias) : NULL, &v->out, EL_F32(out));
}

static el_status transpose_conv_prepare(el_context *ctx, el_node *node)
{
    return tconv_prepare(ctx, node, 1, 2, 3, 0);
}

static el_status tconv_bias_prepare(el_context *ctx, el_node *node)
{
    return tconv_prepare(ctx, node, 1, 0, 2, 1);
}

static el_status tconv_bias_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *filter = el_input(ctx, node, 1);
    el_tensor *bias = el_input(ctx, node, 2), *out = el_output(ctx, node, 0);
    conv_view v;
    conv_view_of(ctx, node, in, filter, bias, out, &v);
    tconv_f32_invoke(ctx, node, &v, in, filter, bias, out);
    return EL_OK;
}

static el_status transpose_conv_invoke(el_context *ctx, el_node *node)
{
    el_tensor *filter = el_input(ctx, node, 1), *in = el_input(ctx, node, 2);
    el_tensor *bias = el_input(ctx, node, 3), *out = el_output(ctx, node, 0);
    conv_view v, *d = &v;
    conv_view_of(ctx, node, in, filter, bias, out, &v);
    if (in->type == EL_INT8) {
        el_transpose_conv_s8(d->p, &d->q, &d->in, EL_S8(in), &d->filter, EL_S8(filter),
                             bias ? EL_S32(bias) : NULL, &d->out, (int32_t *)node->scratch,
                             EL_S8(out));
        return EL_OK;
    }
    if (in->type == EL_INT16) {
        if (!EL_OPT_S16 ||
            !el_opt_transpose_conv_s16(el_ctx_isa(ctx), d->p, &d->q, &d->in, EL_S16(in), &d->filter,
                                       EL_S8(filter), bias ? bias->data : NULL, 1, &d->out,
                                       (int64_t *)node->scratch, EL_S16(out))) {
            el_transpose_conv_s16(d->p, &d->q, &d->in, EL_S16(in), &d->filter, EL_S8(filter),
                                  bias ? bias->data : NULL, 1, &d->out, (int64_t *)node->scratch,
                                  EL_S16(out));
        }
        return EL_OK;
    }
    tconv_f32_invoke(ctx, node, d, in, filter, bias, out);
    return EL_OK;
}

const el_kernel el_kernel_conv_2d = {EL_OP_CONV_2D, 0, conv2d_prepare, conv2d_invoke};
const el_kernel el_kernel_depthwise_conv_2d = {EL_OP_DEPTHWISE_CONV_2D, 0, depthwise_prepare,
                                               depthwise_invoke};
const el_kernel el_kernel_transpose_conv = {EL_OP_TRANSPOSE_CONV, 0, transpose_conv_prepare,
                                            transpose_conv_invoke};
/* custom op "Convolution2DTransposeBias" (MediaPipe); found by el_find_custom_kernel */
const el_kernel el_kernel_custom_tconv_bias = {EL_OP_CUSTOM, 0, tconv_bias_prepare,
                                               tconv_bias_invoke};
