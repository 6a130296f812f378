/* MEAN, SUM, REDUCE_MAX over constant axes. */
#include <string.h>

#include "el_kcommon.h"
#include "opt/el_opt.h"

/* The reducers a selected-kernels build keeps (EL_WITH): the others' branches are left out. */
#if EL_WITH(reduce_min)
#define WITH_MIN 1
#else
#define WITH_MIN 0
#endif
#if EL_WITH(reduce_prod)
#define WITH_PROD 1
#else
#define WITH_PROD 0
#endif
#if EL_WITH(reduce_any) || EL_WITH(reduce_all)
#define WITH_ANY_ALL 1
#else
#define WITH_ANY_ALL 0
#endif
#if EL_WITH(sum)
#define WITH_SUM 1
#else
#define WITH_SUM 0
#endif
#if EL_WITH(mean)
#define WITH_MEAN 1
#else
#define WITH_MEAN 0
#endif

typedef struct {
    el_reduce_params p;
    el_shape in;
    int32_t type;
} reduce_data;

static el_status reduce_prepare(el_context *ctx, el_node *node)
{
    const el_reducer_options *o = (const el_reducer_options *)node->options;
    const int32_t code = node->builtin_code;
    el_tensor *in, *axes, *out;
    reduce_data *d;
    el_shape want;
    int32_t n, i, mask = 0, n_out = 1;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_in(ctx, node, 1, &axes));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_const(ctx, node, axes, "axis"));
    EL_TRY(el_k_type(ctx, node, axes, "axis", EL_INT32));
    if (code == EL_OP_REDUCE_ANY || code == EL_OP_REDUCE_ALL) {
        if (in->type != EL_BOOL || out->type != EL_BOOL) {
            return EL_UNSUP(ctx, node, "input and output must be BOOL");
        }
    } else if (in->type != out->type ||
               (in->type != EL_FLOAT32 && in->type != EL_INT8 &&
                !(in->type == EL_INT16 && (code == EL_OP_MEAN || code == EL_OP_SUM))) ||
               (code == EL_OP_REDUCE_PROD && in->type != EL_FLOAT32)) {
        return EL_UNSUP(ctx, node, "input and output must both be FLOAT32%s",
                        code == EL_OP_REDUCE_PROD                 ? ""
                        : code == EL_OP_MEAN || code == EL_OP_SUM ? ", INT8 or INT16"
                                                                  : " or INT8");
    }
    if (in->rank > EL_NN_MAX_RANK || in->rank < 1) {
        return EL_UNSUP(ctx, node, "input rank must be 1 to %d", EL_NN_MAX_RANK);
    }
    n = el_tensor_elements(axes);
    for (i = 0; i < n; ++i) {
        int32_t a;
        memcpy(&a, (const unsigned char *)axes->data + 4 * (size_t)i, 4);
        a = a < 0 ? a + in->rank : a;
        if (a < 0 || a >= in->rank) {
            return EL_BAD(ctx, node, "axis value %d is out of range for rank %d", (int)a,
                          (int)in->rank);
        }
        mask |= 1 << a;
    }
    want.rank = 0;
    for (i = 0; i < in->rank; ++i) {
        if (!(mask & (1 << i))) {
            want.d[want.rank++] = in->dims[i];
            n_out *= in->dims[i];
        } else if (o && o->keep_dims) {
            want.d[want.rank++] = 1;
        }
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    d = (reduce_data *)el_alloc_op_data(ctx, node, sizeof(reduce_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    el_k_shape(in, in->rank, &d->in);
    d->p.axes_mask = mask;
    d->type = in->type;
    if (in->type == EL_INT8 || in->type == EL_INT16) {
        float is, os;
        int32_t iz, oz;
        int sh;
        EL_TRY(el_k_qin(ctx, node, 0, &is, &iz));
        EL_TRY(el_k_qout(ctx, node, 0, &os, &oz));
        if (code == EL_OP_REDUCE_MAX || code == EL_OP_REDUCE_MIN) {
            if (is != os || iz != oz) {
                return EL_UNSUP(ctx, node,
                                "int8 REDUCE_MAX/MIN need equal input/output "
                                "quantization");
            }
            return EL_OK;
        }
        el_quantize_multiplier((double)is / (double)os, &d->p.multiplier, &sh);
        d->p.shift = sh;
        d->p.input_zero_point = iz;
        d->p.output_zero_point = oz;
        return el_request_scratch(ctx, node, 4u * (size_t)n_out);
    }
    return EL_OK;
}

static el_status reduce_invoke(el_context *ctx, el_node *node)
{
    const reduce_data *d = (const reduce_data *)node->op_data;
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    /* prepare refused every type a build leaves out (EL_KEEP_*), and the op came from the
     * kernel table: the branches below that a build drops are never reached */
    if (d->type == EL_BOOL) {
        if (WITH_ANY_ALL) {
            el_reduce_any_all(node->builtin_code == EL_OP_REDUCE_ALL, &d->p, &d->in,
                              (const uint8_t *)in->data, (uint8_t *)out->data);
        }
    } else if (node->builtin_code == EL_OP_REDUCE_MIN) {
        if (!WITH_MIN) {
        } else if (EL_KEEP_F32 && d->type == EL_FLOAT32) {
            el_reduce_min_f32(&d->p, &d->in, EL_F32(in), EL_F32(out));
        } else {
            el_reduce_min_s8(&d->p, &d->in, EL_S8(in), EL_S8(out));
        }
    } else if (node->builtin_code == EL_OP_REDUCE_PROD) {
        if (WITH_PROD && EL_KEEP_F32) {
            el_reduce_prod_f32(&d->p, &d->in, EL_F32(in), EL_F32(out));
        }
    } else if (d->type == EL_FLOAT32) {
        if (!EL_KEEP_F32) {
        } else if (WITH_MEAN && node->builtin_code == EL_OP_MEAN) {
            /* vectors on hosted CPUs only: on microcontrollers it would be the reference's loop */
            if (!EL_HOSTED_CPU ||
                !el_opt_mean_f32(el_ctx_isa(ctx), &d->p, &d->in, EL_F32(in), EL_F32(out))) {
                el_reduce_mean_f32(&d->p, &d->in, EL_F32(in), EL_F32(out));
            }
        } else if (WITH_SUM && node->builtin_code == EL_OP_SUM) {
            el_reduce_sum_f32(&d->p, &d->in, EL_F32(in), EL_F32(out));
        } else {
            el_reduce_max_f32(&d->p, &d->in, EL_F32(in), EL_F32(out));
        }
    } else if (d->type == EL_INT16) {
        if (!EL_KEEP_S16) {
        } else if (WITH_SUM && node->builtin_code == EL_OP_SUM) {
            el_reduce_sum_s16(&d->p, &d->in, EL_S16(in), (int32_t *)node->scratch, EL_S16(out));
        } else if (WITH_MEAN) {
            el_reduce_mean_s16(&d->p, &d->in, EL_S16(in), (int32_t *)node->scratch, EL_S16(out));
        }
    } else if (WITH_MEAN && node->builtin_code == EL_OP_MEAN) {
        if (!el_opt_mean_s8(el_ctx_isa(ctx), &d->p, &d->in, EL_S8(in), (int32_t *)node->scratch,
                            EL_S8(out))) {
            el_reduce_mean_s8(&d->p, &d->in, EL_S8(in), (int32_t *)node->scratch, EL_S8(out));
        }
    } else if (WITH_SUM && node->builtin_code == EL_OP_SUM) {
        el_reduce_sum_s8(&d->p, &d->in, EL_S8(in), (int32_t *)node->scratch, EL_S8(out));
    } else {
        el_reduce_max_s8(&d->p, &d->in, EL_S8(in), EL_S8(out));
    }
    return EL_OK;
}

const el_kernel el_kernel_mean = {EL_OP_MEAN, 0, reduce_prepare, reduce_invoke};
const el_kernel el_kernel_sum = {EL_OP_SUM, 0, reduce_prepare, reduce_invoke};
const el_kernel el_kernel_reduce_max = {EL_OP_REDUCE_MAX, 0, reduce_prepare, reduce_invoke};
const el_kernel el_kernel_reduce_min = {EL_OP_REDUCE_MIN, 0, reduce_prepare, reduce_invoke};
const el_kernel el_kernel_reduce_prod = {EL_OP_REDUCE_PROD, 0, reduce_prepare, reduce_invoke};
const el_kernel el_kernel_reduce_any = {EL_OP_REDUCE_ANY, 0, reduce_prepare, reduce_invoke};
const el_kernel el_kernel_reduce_all = {EL_OP_REDUCE_ALL, 0, reduce_prepare, reduce_invoke};
