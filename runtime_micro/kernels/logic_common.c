/* Comparisons (LESS ... NOT_EQUAL), LOGICAL_AND/OR/NOT, SELECT/SELECT_V2, TILE, BROADCAST_TO,
 * MIRROR_PAD, REVERSE_V2, SHAPE, ZEROS_LIKE, ARG_MAX/ARG_MIN. */
#include <string.h>

#include "el_kcommon.h"

static int kind_of(int32_t type, el_kind *k)
{
    switch (type) {
    case EL_FLOAT32:
        *k = EL_K_F32;
        return 1;
    case EL_INT32:
        *k = EL_K_S32;
        return 1;
    case EL_INT64:
        *k = EL_K_S64;
        return 1;
    case EL_INT8:
        *k = EL_K_S8;
        return 1;
    case EL_UINT8:
        *k = EL_K_U8;
        return 1;
    case EL_INT16:
        *k = EL_K_S16;
        return 1;
    case EL_BOOL:
        *k = EL_K_BOOL;
        return 1;
    default:
        return 0;
    }
}

/* Quantized operands are compared raw, which is exact only with identical parameters. */
static el_status same_quant_inputs(el_context *ctx, el_node *node, int32_t a, int32_t b)
{
    el_quant qa, qb;
    EL_TRY(el_get_input_quant(ctx, node, a, &qa));
    EL_TRY(el_get_input_quant(ctx, node, b, &qb));
    if (qa.count != qb.count || qa.scale != qb.scale || qa.zero_point != qb.zero_point) {
        return EL_UNSUP(ctx, node,
                        "quantized inputs %d and %d need the same scale and zero "
                        "point",
                        (int)a, (int)b);
    }
    return EL_OK;
}

typedef struct {
    el_shape s1, s2, s3, so;
    int32_t kind, op;
    size_t elem;
} logic_data;

static int32_t compare_op_of(int32_t code)
{
    switch (code) {
    case EL_OP_LESS:
        return EL_CMP_LESS;
    case EL_OP_LESS_EQUAL:
        return EL_CMP_LESS_EQUAL;
    case EL_OP_GREATER:
        return EL_CMP_GREATER;
    case EL_OP_GREATER_EQUAL:
        return EL_CMP_GREATER_EQUAL;
    case EL_OP_EQUAL:
        return EL_CMP_EQUAL;
    case EL_OP_NOT_EQUAL:
        return EL_CMP_NOT_EQUAL;
    case EL_OP_LOGICAL_AND:
        return EL_LOGIC_AND;
    default:
        return EL_LOGIC_OR;
    }
}

static el_status compare_prepare(el_context *ctx, el_node *node)
{
    el_tensor *a, *b, *out;
    logic_data *d;
    el_kind k;
    const int logical =
        node->builtin_code == EL_OP_LOGICAL_AND || node->builtin_code == EL_OP_LOGICAL_OR;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &a));
    EL_TRY(el_k_in(ctx, node, 1, &b));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_type(ctx, node, out, "output", EL_BOOL));
    if (a->type != b->type || !kind_of(a->type, &k) || (logical && a->type != EL_BOOL)) {
        return EL_UNSUP(ctx, node, "input types %s and %s are not supported",
                        el_dtype_name(a->type), el_dtype_name(b->type));
    }
    if (a->type == EL_INT8 || a->type == EL_UINT8 || a->type == EL_INT16) {
        EL_TRY(same_quant_inputs(ctx, node, 0, 1));
    }
    d = (logic_data *)el_alloc_op_data(ctx, node, sizeof(logic_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    if (!el_k_broadcast(a, b, &d->s1, &d->s2, &d->so)) {
        return EL_UNSUP(ctx, node, "input shapes do not broadcast (or rank > %d)", EL_NN_MAX_RANK);
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &d->so));
    d->kind = k;
    d->op = compare_op_of(node->builtin_code);
    return EL_OK;
}

static el_status compare_invoke(el_context *ctx, el_node *node)
{
    const logic_data *d = (const logic_data *)node->op_data;
    el_compare((el_compare_op)d->op, (el_kind)d->kind, &d->s1, el_input(ctx, node, 0)->data, &d->s2,
               el_input(ctx, node, 1)->data, &d->so, (uint8_t *)el_output(ctx, node, 0)->data);
    return EL_OK;
}

static el_status not_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_type(ctx, node, in, "input", EL_BOOL));
    EL_TRY(el_k_type(ctx, node, out, "output", EL_BOOL));
    return el_k_same_elements(ctx, node, in, out);
}

static el_status not_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    const int32_t n = el_tensor_elements(in);
    int32_t i;
    for (i = 0; i < n; ++i) {
        ((uint8_t *)out->data)[i] = !((const uint8_t *)in->data)[i];
    }
    return EL_OK;
}

/* SELECT_V2 broadcasts its three inputs; SELECT (v1) takes equal shapes or a rank-1 condition
 * over the first dimension, which is the same as broadcasting a [n, 1, ...] condition. */
static el_status select_prepare(el_context *ctx, el_node *node)
{
    el_tensor *c, *a, *b, *out;
    logic_data *d;
    int32_t r, i;
    EL_TRY(el_k_counts(ctx, node, 3, 3, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &c));
    EL_TRY(el_k_in(ctx, node, 1, &a));
    EL_TRY(el_k_in(ctx, node, 2, &b));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    EL_TRY(el_k_type(ctx, node, c, "condition", EL_BOOL));
    if (a->type != b->type || a->type != out->type || el_dtype_size(a->type) == 0) {
        return EL_UNSUP(ctx, node, "value inputs and output must share one fixed-size type");
    }
    if (a->type == EL_INT8 || a->type == EL_UINT8 || a->type == EL_INT16) {
        EL_TRY(same_quant_inputs(ctx, node, 1, 2));
    }
    d = (logic_data *)el_alloc_op_data(ctx, node, sizeof(logic_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    r = out->rank;
    if (r > EL_NN_MAX_RANK || c->rank > r || a->rank > r || b->rank > r) {
        return EL_UNSUP(ctx, node, "ranks above the output's or above %d", EL_NN_MAX_RANK);
    }
    if (node->builtin_code == EL_OP_SELECT && c->rank == 1 && r > 1) {
        d->s1.rank = r;
        for (i = 0; i < r; ++i) {
            d->s1.d[i] = i == 0 ? c->dims[0] : 1;
        }
    } else {
        el_k_shape(c, r, &d->s1);
    }
    el_k_shape(a, r, &d->s2);
    el_k_shape(b, r, &d->s3);
    d->so.rank = r;
    for (i = 0; i < r; ++i) {
        const int32_t o = out->dims[i];
        if ((d->s1.d[i] != o && d->s1.d[i] != 1) || (d->s2.d[i] != o && d->s2.d[i] != 1) ||
            (d->s3.d[i] != o && d->s3.d[i] != 1)) {
            return EL_BAD(ctx, node, "inputs do not broadcast to the output at dim %d", (int)i);
        }
        d->so.d[i] = o;
    }
    d->elem = el_dtype_size(a->type);
    return EL_OK;
}

static el_status select_invoke(el_context *ctx, el_node *node)
{
    const logic_data *d = (const logic_data *)node->op_data;
    el_select(d->elem, &d->s1, (const uint8_t *)el_input(ctx, node, 0)->data, &d->s2,
              el_input(ctx, node, 1)->data, &d->s3, el_input(ctx, node, 2)->data, &d->so,
              el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* ---- remapping copies --------------------------------------------------------------- */

typedef struct {
    el_shape in, out;
    el_map_dim map[EL_NN_MAX_RANK];
    size_t elem;
} remap_data;

static el_status const_vals(el_context *ctx, el_node *node, int32_t idx, const char *role,
                            int32_t *vals, int32_t max, int32_t *n)
{
    el_tensor *t;
    int32_t i;
    EL_TRY(el_k_in(ctx, node, idx, &t));
    EL_TRY(el_k_const(ctx, node, t, role));
    *n = el_tensor_elements(t);
    if (*n > max) {
        return EL_UNSUP(ctx, node, "%s has more than %d values", role, (int)max);
    }
    for (i = 0; i < *n; ++i) {
        if (t->type == EL_INT32) {
            memcpy(&vals[i], (const unsigned char *)t->data + 4 * (size_t)i, 4);
        } else if (t->type == EL_INT64) {
            int64_t v;
            memcpy(&v, (const unsigned char *)t->data + 8 * (size_t)i, 8);
            if (v < -2147483647 || v > 2147483647) {
                return EL_BAD(ctx, node, "%s value does not fit in int32", role);
            }
            vals[i] = (int32_t)v;
        } else {
            return EL_UNSUP(ctx, node, "%s must be INT32 or INT64", role);
        }
    }
    return EL_OK;
}

static el_status remap_common(el_context *ctx, el_node *node, el_tensor **in, el_tensor **out,
                              remap_data **dp)
{
    remap_data *d;
    EL_TRY(el_k_in(ctx, node, 0, in));
    EL_TRY(el_k_out(ctx, node, 0, out));
    if ((*in)->type != (*out)->type || el_dtype_size((*in)->type) == 0) {
        return EL_UNSUP(ctx, node, "input and output must share one fixed-size type");
    }
    if ((*out)->rank > EL_NN_MAX_RANK || (*in)->rank > (*out)->rank || (*out)->rank < 1) {
        return EL_UNSUP(ctx, node, "rank must be 1 to %d", EL_NN_MAX_RANK);
    }
    if ((*in)->type == EL_INT8 || (*in)->type == EL_UINT8 || (*in)->type == EL_INT16) {
        el_quant qi, qo;
        EL_TRY(el_get_input_quant(ctx, node, 0, &qi));
        EL_TRY(el_get_output_quant(ctx, node, 0, &qo));
        if (qi.scale != qo.scale || qi.zero_point != qo.zero_point) {
            return EL_UNSUP(ctx, node, "input and output need the same quantization");
        }
    }
    d = (remap_data *)el_alloc_op_data(ctx, node, sizeof(remap_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    el_k_shape(*in, (*out)->rank, &d->in);
    el_k_shape(*out, (*out)->rank, &d->out);
    d->elem = el_dtype_size((*in)->type);
    *dp = d;
    return EL_OK;
}

static el_status tile_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    remap_data *d;
    int32_t m[EL_NN_MAX_RANK], n, i;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(remap_common(ctx, node, &in, &out, &d));
    EL_TRY(const_vals(ctx, node, 1, "multiples", m, EL_NN_MAX_RANK, &n));
    if (n != in->rank || in->rank != out->rank) {
        return EL_BAD(ctx, node, "multiples must have one value per input dim");
    }
    for (i = 0; i < n; ++i) {
        if (m[i] < 1 || (int64_t)in->dims[i] * m[i] != out->dims[i]) {
            return EL_BAD(ctx, node, "output dim %d is not input dim times multiple", (int)i);
        }
        d->map[i].kind = EL_MAP_MOD;
    }
    return EL_OK;
}

static el_status broadcast_to_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    remap_data *d;
    int32_t s[EL_NN_MAX_RANK], n, i;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(remap_common(ctx, node, &in, &out, &d));
    EL_TRY(const_vals(ctx, node, 1, "shape", s, EL_NN_MAX_RANK, &n));
    if (n != out->rank) {
        return EL_BAD(ctx, node, "shape has %d values for an output of rank %d", (int)n,
                      (int)out->rank);
    }
    for (i = 0; i < n; ++i) {
        if (s[i] != out->dims[i] || (d->in.d[i] != 1 && d->in.d[i] != s[i])) {
            return EL_BAD(ctx, node, "input does not broadcast to the shape at dim %d", (int)i);
        }
        d->map[i].kind = EL_MAP_MOD;
    }
    return EL_OK;
}

static el_status mirror_pad_prepare(el_context *ctx, el_node *node)
{
    const el_mirror_pad_options *o = (const el_mirror_pad_options *)node->options;
    el_tensor *in, *out;
    remap_data *d;
    int32_t p[2 * EL_NN_MAX_RANK], n, i;
    const int sym = o && o->mode == 1;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(remap_common(ctx, node, &in, &out, &d));
    EL_TRY(const_vals(ctx, node, 1, "paddings", p, 2 * EL_NN_MAX_RANK, &n));
    if (n != 2 * in->rank || in->rank != out->rank) {
        return EL_BAD(ctx, node, "paddings must be [%d, 2]", (int)in->rank);
    }
    for (i = 0; i < in->rank; ++i) {
        const int32_t lim = sym ? in->dims[i] : in->dims[i] - 1;
        if (p[2 * i] < 0 || p[2 * i + 1] < 0 || p[2 * i] > lim || p[2 * i + 1] > lim ||
            out->dims[i] != in->dims[i] + p[2 * i] + p[2 * i + 1]) {
            return EL_BAD(ctx, node, "paddings of dim %d are invalid for a %s pad of size %d",
                          (int)i, sym ? "SYMMETRIC" : "REFLECT", (int)in->dims[i]);
        }
        d->map[i].kind = sym ? EL_MAP_SYMMETRIC : EL_MAP_REFLECT;
        d->map[i].before = p[2 * i];
    }
    return EL_OK;
}

static el_status reverse_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    remap_data *d;
    int32_t ax[EL_NN_MAX_RANK], n, i;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(remap_common(ctx, node, &in, &out, &d));
    if (!el_k_same_dims(in, out)) {
        return EL_BAD(ctx, node, "output shape differs from the input shape");
    }
    EL_TRY(const_vals(ctx, node, 1, "axis", ax, EL_NN_MAX_RANK, &n));
    for (i = 0; i < in->rank; ++i) {
        d->map[i].kind = EL_MAP_MOD;
    }
    for (i = 0; i < n; ++i) {
        const int32_t a = ax[i] < 0 ? ax[i] + in->rank : ax[i];
        if (a < 0 || a >= in->rank) {
            return EL_BAD(ctx, node, "axis %d is out of range", (int)ax[i]);
        }
        d->map[a].kind = EL_MAP_REVERSE;
    }
    return EL_OK;
}

static el_status remap_invoke(el_context *ctx, el_node *node)
{
    const remap_data *d = (const remap_data *)node->op_data;
    el_remap(d->elem, &d->in, &d->out, d->map, el_input(ctx, node, 0)->data,
             el_output(ctx, node, 0)->data);
    return EL_OK;
}

/* ---- SHAPE, ZEROS_LIKE -------------------------------------------------------------- */

static el_status shape_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if ((out->type != EL_INT32 && out->type != EL_INT64) || el_tensor_elements(out) != in->rank) {
        return EL_BAD(ctx, node, "output must be INT32/INT64 with %d elements", (int)in->rank);
    }
    return EL_OK;
}

static el_status shape_invoke(el_context *ctx, el_node *node)
{
    el_tensor *in = el_input(ctx, node, 0), *out = el_output(ctx, node, 0);
    int32_t i;
    for (i = 0; i < in->rank; ++i) {
        if (out->type == EL_INT32) {
            EL_S32(out)[i] = in->dims[i];
        } else {
            ((int64_t *)out->data)[i] = in->dims[i];
        }
    }
    return EL_OK;
}

static el_status zeros_like_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    EL_TRY(el_k_counts(ctx, node, 1, 1, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (in->type != out->type || in->bytes != out->bytes) {
        return EL_BAD(ctx, node, "output must match the input's type and size");
    }
    return EL_OK;
}

static el_status zeros_like_invoke(el_context *ctx, el_node *node)
{
    el_tensor *out = el_output(ctx, node, 0);
    memset(out->data, 0, out->bytes);
    return EL_OK;
}

/* ---- ARG_MAX / ARG_MIN -------------------------------------------------------------- */

typedef struct {
    int32_t outer, axis_size, inner, kind, out64;
} arg_data;

static el_status arg_prepare(el_context *ctx, el_node *node)
{
    el_tensor *in, *out;
    arg_data *d;
    el_kind k;
    el_shape want;
    int32_t ax[1], n, a, i;
    EL_TRY(el_k_counts(ctx, node, 2, 2, 1, 1));
    EL_TRY(el_k_in(ctx, node, 0, &in));
    EL_TRY(el_k_out(ctx, node, 0, &out));
    if (!kind_of(in->type, &k) || in->type == EL_BOOL || in->rank < 1 ||
        in->rank > EL_NN_MAX_RANK) {
        return EL_UNSUP(ctx, node, "input type %s / rank %d is not supported",
                        el_dtype_name(in->type), (int)in->rank);
    }
    if (out->type != EL_INT32 && out->type != EL_INT64) {
        return EL_UNSUP(ctx, node, "output must be INT32 or INT64");
    }
    EL_TRY(const_vals(ctx, node, 1, "axis", ax, 1, &n));
    if (n != 1) {
        return EL_BAD(ctx, node, "axis must be one value");
    }
    a = ax[0] < 0 ? ax[0] + in->rank : ax[0];
    if (a < 0 || a >= in->rank) {
        return EL_BAD(ctx, node, "axis %d is out of range", (int)ax[0]);
    }
    want.rank = 0;
    for (i = 0; i < in->rank; ++i) {
        if (i != a) {
            want.d[want.rank++] = in->dims[i];
        }
    }
    EL_TRY(el_k_check_out_shape(ctx, node, out, &want));
    d = (arg_data *)el_alloc_op_data(ctx, node, sizeof(arg_data));
    if (d == NULL) {
        return EL_ERROR_ARENA_TOO_SMALL;
    }
    d->outer = 1;
    d->inner = 1;
    for (i = 0; i < in->rank; ++i) {
        if (i < a) {
            d->outer *= in->dims[i];
        } else if (i > a) {
            d->inner *= in->dims[i];
        }
    }
    d->axis_size = in->dims[a];
    d->kind = k;
    d->out64 = out->type == EL_INT64;
    return EL_OK;
}

static el_status arg_invoke(el_context *ctx, el_node *node)
{
    const arg_data *d = (const arg_data *)node->op_data;
    el_arg_minmax(node->builtin_code == EL_OP_ARG_MAX, (el_kind)d->kind, d->outer, d->axis_size,
                  d->inner, el_input(ctx, node, 0)->data, d->out64, el_output(ctx, node, 0)->data);
    return EL_OK;
}

#define EL_CMP_KERNEL(name, code)                                                                  \
    const el_kernel el_kernel_##name = {code, 0, compare_prepare, compare_invoke}
EL_CMP_KERNEL(less, EL_OP_LESS);
EL_CMP_KERNEL(less_equal, EL_OP_LESS_EQUAL);
EL_CMP_KERNEL(greater, EL_OP_GREATER);
EL_CMP_KERNEL(greater_equal, EL_OP_GREATER_EQUAL);
EL_CMP_KERNEL(equal, EL_OP_EQUAL);
EL_CMP_KERNEL(not_equal, EL_OP_NOT_EQUAL);
EL_CMP_KERNEL(logical_and, EL_OP_LOGICAL_AND);
EL_CMP_KERNEL(logical_or, EL_OP_LOGICAL_OR);
const el_kernel el_kernel_logical_not = {EL_OP_LOGICAL_NOT, 0, not_prepare, not_invoke};
const el_kernel el_kernel_select = {EL_OP_SELECT, 0, select_prepare, select_invoke};
const el_kernel el_kernel_select_v2 = {EL_OP_SELECT_V2, 0, select_prepare, select_invoke};
const el_kernel el_kernel_tile = {EL_OP_TILE, 0, tile_prepare, remap_invoke};
const el_kernel el_kernel_broadcast_to = {EL_OP_BROADCAST_TO, 0, broadcast_to_prepare,
                                          remap_invoke};
const el_kernel el_kernel_mirror_pad = {EL_OP_MIRROR_PAD, 0, mirror_pad_prepare, remap_invoke};
const el_kernel el_kernel_reverse_v2 = {EL_OP_REVERSE_V2, 0, reverse_prepare, remap_invoke};
const el_kernel el_kernel_shape = {EL_OP_SHAPE, 0, shape_prepare, shape_invoke};
const el_kernel el_kernel_zeros_like = {EL_OP_ZEROS_LIKE, 0, zeros_like_prepare, zeros_like_invoke};
const el_kernel el_kernel_arg_max = {EL_OP_ARG_MAX, 0, arg_prepare, arg_invoke};
const el_kernel el_kernel_arg_min = {EL_OP_ARG_MIN, 0, arg_prepare, arg_invoke};
