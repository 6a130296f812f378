/* Builtin options: one table row per op says which options table the op uses (TFLite's
 * BuiltinOptions union index) and where each field goes in our struct. Field slots and defaults
 * are the TFLite schema's. Value ranges are checked by the kernels' prepare. */
#include <stddef.h>

#include "el_options.h"

enum { F_I32, F_BYTE, F_BOOL, F_F32, F_VEC_I32, F_STR, F_CONST1 };

typedef struct {
    uint8_t slot, kind;
    uint16_t offset; /* in the struct */
    int32_t def;     /* default for F_I32 / F_BYTE / F_BOOL (F_CONST1 writes 1 always) */
} field_spec;

typedef struct {
    int32_t code;         /* EL_OP_* */
    uint8_t options_type; /* BuiltinOptions union index in the model */
    uint8_t n_fields;
    uint16_t size; /* sizeof our struct */
    const field_spec *fields;
} op_spec;

#define O(s, f) ((uint16_t)offsetof(s, f))

static const field_spec k_conv[] = {{0, F_BYTE, O(el_conv_options, padding), 0},
                                    {1, F_I32, O(el_conv_options, stride_w), 0},
                                    {2, F_I32, O(el_conv_options, stride_h), 0},
                                    {3, F_BYTE, O(el_conv_options, activation), 0},
                                    {4, F_I32, O(el_conv_options, dilation_w), 1},
                                    {5, F_I32, O(el_conv_options, dilation_h), 1},
                                    {6, F_BYTE, O(el_conv_options, quantized_bias_type), 0}};
static const field_spec k_dw[] = {{0, F_BYTE, O(el_depthwise_options, padding), 0},
                                  {1, F_I32, O(el_depthwise_options, stride_w), 0},
                                  {2, F_I32, O(el_depthwise_options, stride_h), 0},
                                  {3, F_I32, O(el_depthwise_options, depth_multiplier), 0},
                                  {4, F_BYTE, O(el_depthwise_options, activation), 0},
                                  {5, F_I32, O(el_depthwise_options, dilation_w), 1},
                                  {6, F_I32, O(el_depthwise_options, dilation_h), 1}};
static const field_spec k_pool[] = {{0, F_BYTE, O(el_pool_options, padding), 0},
                                    {1, F_I32, O(el_pool_options, stride_w), 0},
                                    {2, F_I32, O(el_pool_options, stride_h), 0},
                                    {3, F_I32, O(el_pool_options, filter_width), 0},
                                    {4, F_I32, O(el_pool_options, filter_height), 0},
                                    {5, F_BYTE, O(el_pool_options, activation), 0}};
static const field_spec k_fc[] = {{0, F_BYTE, O(el_fc_options, activation), 0},
                                  {1, F_BYTE, O(el_fc_options, weights_format), 0},
                                  {2, F_BOOL, O(el_fc_options, keep_num_dims), 0},
                                  {3, F_BOOL, O(el_fc_options, asymmetric_quantize_inputs), 0},
                                  {4, F_BYTE, O(el_fc_options, quantized_bias_type), 0}};
static const field_spec k_softmax[] = {{0, F_F32, O(el_softmax_options, beta), 0}};
static const field_spec k_concat[] = {{0, F_I32, O(el_concat_options, axis), 0},
                                      {1, F_BYTE, O(el_concat_options, activation), 0}};
static const field_spec k_addsub[] = {{0, F_BYTE, O(el_arith_options, activation), 0},
                                      {1, F_BOOL, O(el_arith_options, pot_scale_int16), 1}};
static const field_spec k_muldiv[] = {{0, F_BYTE, O(el_arith_options, activation), 0},
                                      {0, F_CONST1, O(el_arith_options, pot_scale_int16), 1}};
static const field_spec k_reshape[] = {{0, F_VEC_I32, O(el_reshape_options, new_shape), 0}};
static const field_spec k_reducer[] = {{0, F_BOOL, O(el_reducer_options, keep_dims), 0}};
static const field_spec k_sslice[] = {{0, F_I32, O(el_strided_slice_options, begin_mask), 0},
                                      {1, F_I32, O(el_strided_slice_options, end_mask), 0},
                                      {2, F_I32, O(el_strided_slice_options, ellipsis_mask), 0},
                                      {3, F_I32, O(el_strided_slice_options, new_axis_mask), 0},
                                      {4, F_I32, O(el_strided_slice_options, shrink_axis_mask), 0},
                                      {5, F_BOOL, O(el_strided_slice_options, offset), 0}};
static const field_spec k_gather[] = {{0, F_I32, O(el_gather_options, axis), 0},
                                      {1, F_I32, O(el_gather_options, batch_dims), 0}};
static const field_spec k_split[] = {{0, F_I32, O(el_split_options, num_splits), 0}};
static const field_spec k_squeeze[] = {{0, F_VEC_I32, O(el_squeeze_options, squeeze_dims), 0}};
static const field_spec k_pack[] = {{0, F_I32, O(el_pack_options, count), 0},
                                    {1, F_I32, O(el_pack_options, axis), 0}};
static const field_spec k_leaky[] = {{0, F_F32, O(el_leaky_relu_options, alpha), 0}};
static const field_spec k_tconv[] = {
    {0, F_BYTE, O(el_transpose_conv_options, padding), 0},
    {1, F_I32, O(el_transpose_conv_options, stride_w), 0},
    {2, F_I32, O(el_transpose_conv_options, stride_h), 0},
    {3, F_BYTE, O(el_transpose_conv_options, activation), 0},
    {4, F_BYTE, O(el_transpose_conv_options, quantized_bias_type), 0}};
static const field_spec k_bilinear[] = {{2, F_BOOL, O(el_resize_options, align_corners), 0},
                                        {3, F_BOOL, O(el_resize_options, half_pixel_centers), 0}};
static const field_spec k_nearest[] = {{0, F_BOOL, O(el_resize_options, align_corners), 0},
                                       {1, F_BOOL, O(el_resize_options, half_pixel_centers), 0}};
static const field_spec k_type[] = {{0, F_BYTE, O(el_type_options, type), 0}};
static const field_spec k_block[] = {{0, F_I32, O(el_block_options, block_size), 0}};
static const field_spec k_cast[] = {{0, F_BYTE, O(el_cast_options, in_data_type), 0},
                                    {1, F_BYTE, O(el_cast_options, out_data_type), 0}};
static const field_spec k_bmm[] = {
    {0, F_BOOL, O(el_batch_matmul_options, adj_x), 0},
    {1, F_BOOL, O(el_batch_matmul_options, adj_y), 0},
    {2, F_BOOL, O(el_batch_matmul_options, asymmetric_quantize_inputs), 0}};
static const field_spec k_mirror[] = {{0, F_BYTE, O(el_mirror_pad_options, mode), 0}};
static const field_spec k_l2norm[] = {{0, F_BYTE, O(el_arith_options, activation), 0},
                                      {0, F_CONST1, O(el_arith_options, pot_scale_int16), 1}};
static const field_spec k_svdf[] = {{0, F_I32, O(el_svdf_options, rank), 0},
                                    {1, F_BYTE, O(el_svdf_options, activation), 0},
                                    {2, F_BOOL, O(el_svdf_options, asymmetric_quantize_inputs), 0}};
static const field_spec k_gelu[] = {{0, F_BOOL, O(el_gelu_options, approximate), 0}};
static const field_spec k_lrn[] = {{0, F_I32, O(el_lrn_options, radius), 0},
                                   {1, F_F32, O(el_lrn_options, bias), 0},
                                   {2, F_F32, O(el_lrn_options, alpha), 0},
                                   {3, F_F32, O(el_lrn_options, beta), 0}};
static const field_spec k_cumsum[] = {{0, F_BOOL, O(el_cumsum_options, exclusive), 0},
                                      {1, F_BOOL, O(el_cumsum_options, reverse), 0}};
static const field_spec k_one_hot[] = {{0, F_I32, O(el_one_hot_options, axis), 0}};
static const field_spec k_call_once[] = {
    {0, F_I32, O(el_call_once_options, init_subgraph_index), 0}};
static const field_spec k_if[] = {{0, F_I32, O(el_if_options, then_subgraph_index), 0},
                                  {1, F_I32, O(el_if_options, else_subgraph_index), 0}};
static const field_spec k_while[] = {{0, F_I32, O(el_while_options, cond_subgraph_index), 0},
                                     {1, F_I32, O(el_while_options, body_subgraph_index), 0}};
static const field_spec k_var_handle[] = {{0, F_STR, O(el_var_handle_options, container), 0},
                                          {1, F_STR, O(el_var_handle_options, shared_name), 0}};

#define N(a) (uint8_t)(sizeof(a) / sizeof(a[0]))
#define ROW(code, type, st, fields) {code, type, N(fields), (uint16_t)sizeof(st), fields}

/* The ops with options we read: the KOPT and OPT rows of the op table (el_op_table.h). */
#define KOPT_ROW(NAME, code, kernel, type, st, fields) ROW(EL_OP_##NAME, type, st, fields),
#define OPT_ROW(NAME, code, type, st, fields) ROW(EL_OP_##NAME, type, st, fields),
#define NO_ROW_KOP(NAME, code, kernel)
#define NO_ROW_OP(NAME, code)
static const op_spec k_ops[] = {EL_OP_TABLE(KOPT_ROW, NO_ROW_KOP, OPT_ROW, NO_ROW_OP)};

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        el_status st_ = (expr);                                                                    \
        if (st_ != EL_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

el_status el_options_parse(el_context *ctx, int32_t code, const el_table *op, el_node *node,
                           const el_node *first_node, const char *what)
{
    el_fb *fb = &ctx->fb;
    const op_spec *spec = NULL;
    uint8_t type;
    el_table opt;
    int present = 0;
    size_t i;
    uint8_t *out = NULL;
    union {
        uint8_t bytes[64];
        void *align_ptr;
        double align_double;
    } tmp;

    for (i = 0; i < sizeof(k_ops) / sizeof(k_ops[0]); ++i)
        if (k_ops[i].code == code)
            spec = &k_ops[i];
    TRY(el_fb_u8(fb, op, 3, 0, &type, what));
    TRY(el_fb_table(fb, op, 4, &opt, &present, what));
    if (present && type == 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: options table present but options type NONE", what);
    if (spec == NULL)
        return EL_OK; /* no options we use: the kernel needs none */
    if (type != 0 && type != spec->options_type)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: builtin_options_type %u, expected %u",
                          what, (unsigned)type, (unsigned)spec->options_type);
    if (node != NULL) {
        memset(&tmp, 0, sizeof(tmp));
        out = tmp.bytes;
    }
    for (i = 0; i < spec->n_fields; ++i) {
        const field_spec *f = &spec->fields[i];
        int32_t v = f->def;
        switch (f->kind) {
        case F_I32:
            if (present)
                TRY(el_fb_i32(fb, &opt, f->slot, f->def, &v, what));
            if (out)
                memcpy(out + f->offset, &v, 4);
            break;
        case F_BYTE:
        case F_BOOL: {
            uint8_t b = (uint8_t)f->def;
            if (present)
                TRY(el_fb_u8(fb, &opt, f->slot, (uint8_t)f->def, &b, what));
            v = f->kind == F_BOOL ? (b != 0) : (int32_t)(int8_t)b;
            if (out)
                memcpy(out + f->offset, &v, 4);
            break;
        }
        case F_CONST1:
            v = 1;
            if (out)
                memcpy(out + f->offset, &v, 4);
            break;
        case F_F32: {
            float x = 0.0f;
            if (present)
                TRY(el_fb_f32(fb, &opt, f->slot, 0.0f, &x, what));
            if (out)
                memcpy(out + f->offset, &x, 4);
            break;
        }
        case F_VEC_I32: {
            el_vec vec = {0, 0};
            const int32_t *p;
            if (present)
                TRY(el_fb_vec(fb, &opt, f->slot, 4, 4, &vec, what));
            if (vec.count > EL_MAX_DIMS * 4)
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: options vector of %lu entries",
                                  what, (unsigned long)vec.count);
            p = vec.count ? (const int32_t *)(const void *)(fb->buf + vec.pos) : NULL;
            v = (int32_t)vec.count;
            /* layout: pointer then count (both structs using this kind declare them so) */
            if (out) {
                memcpy(out + f->offset, &p, sizeof(p));
                memcpy(out + f->offset + sizeof(const int32_t *), &v, 4);
            }
            break;
        }
        case F_STR: {
            const char *s = "";
            if (present)
                TRY(el_fb_string(fb, &opt, f->slot, &s, what));
            if (out)
                memcpy(out + f->offset, &s, sizeof(s));
            break;
        }
        default:
            break;
        }
    }
    if (node != NULL) {
        /* Options never change after parsing: nodes of one op with equal options share one copy. */
        const el_node *p;
        size_t align = 4;
        void *copy;
        /* the last 256 nodes only: bounded work per node on huge crafted models */
        for (p = node - first_node > 256 ? node - 256 : first_node; p < node; ++p)
            if (p->builtin_code == code && p->options &&
                memcmp(p->options, tmp.bytes, spec->size) == 0) {
                node->options = p->options;
                return EL_OK;
            }
        for (i = 0; i < spec->n_fields; ++i)
            if (spec->fields[i].kind == F_VEC_I32 || spec->fields[i].kind == F_STR)
                align = sizeof(void *);
        copy = el_persist(ctx, spec->size, align);
        if (copy == NULL)
            return EL_ERROR_ARENA_TOO_SMALL;
        memcpy(copy, tmp.bytes, spec->size);
        node->options = copy;
    }
    return EL_OK;
}

/* MediaPipe's Convolution2DTransposeBias keeps TfLiteTransposeConvParams as raw bytes: int32
 * padding (1 SAME, 2 VALID), int32 stride_width, int32 stride_height, little endian. */
el_status el_custom_options_parse(el_context *ctx, const char *custom_code, const uint8_t *bytes,
                                  uint32_t count, el_node *node, const char *what)
{
    el_fb *fb = &ctx->fb;
    const el_kernel *k = el_find_custom_kernel(custom_code);
    el_transpose_conv_options o;
    int32_t padding;
    if (k == NULL)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED,
                          "%s: custom op '%s' is not supported by runtime_micro", what,
                          custom_code ? custom_code : "");
    if (count != 12 || bytes == NULL)
        return el_fb_fail(
            fb, EL_ERROR_INVALID_MODEL,
            "%s: Convolution2DTransposeBias options are %lu bytes, expected 12 (padding, "
            "stride_w, stride_h)",
            what, (unsigned long)count);
    padding = el_rd_i32(bytes);
    memset(&o, 0, sizeof(o));
    o.stride_w = el_rd_i32(bytes + 4);
    o.stride_h = el_rd_i32(bytes + 8);
    if (padding != 1 && padding != 2)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: Convolution2DTransposeBias padding %d (1 SAME or 2 VALID)", what,
                          (int)padding);
    if (o.stride_w < 1 || o.stride_h < 1 || o.stride_w > 4096 || o.stride_h > 4096)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: Convolution2DTransposeBias strides %d x %d", what, (int)o.stride_h,
                          (int)o.stride_w);
    o.padding = padding == 1 ? EL_PADDING_SAME : EL_PADDING_VALID;
    if (node != NULL) {
        void *copy = el_persist(ctx, sizeof(o), 4);
        if (copy == NULL)
            return EL_ERROR_ARENA_TOO_SMALL;
        memcpy(copy, &o, sizeof(o));
        node->options = copy;
        node->kernel = k;
    }
    return EL_OK;
}
