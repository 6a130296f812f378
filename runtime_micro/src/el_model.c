/* TFLite model structure: verification (no memory) and the views kernels use (in the arena).
 *
 * Schema facts (TFLite schema.fbs, field slots in declaration order):
 *   Model: 0 version, 1 operator_codes, 2 subgraphs, 3 description, 4 buffers
 *   SubGraph: 0 tensors, 1 inputs, 2 outputs, 3 operators, 4 name
 *   Tensor: 0 shape, 1 type, 2 buffer, 3 name, 4 quantization, 5 is_variable, 6 sparsity
 *   Buffer: 0 data, 1 offset, 2 size (offset > 1: data lies outside the flatbuffer, offset
 *           counted from the start of the file)
 *   Operator: 0 opcode_index, 1 inputs, 2 outputs, 3 builtin_options_type, 4 builtin_options,
 *             5 custom_options, 11 builtin_options_2_type
 *   OperatorCode: 0 deprecated_builtin_code (byte), 1 custom_code, 2 version, 3 builtin_code
 *   QuantizationParameters: 0 min, 1 max, 2 scale, 3 zero_point, 4 details_type, 5 details,
 *                           6 quantized_dimension
 *   SparsityParameters: 0 traversal_order, 1 block_map, 2 dim_metadata
 *   DimensionMetadata: 0 format (byte: 0 DENSE, 1 SPARSE_CSR), 1 dense_size,
 *                      2 array_segments_type, 3 array_segments, 4 array_indices_type,
 *                      5 array_indices (SparseIndexVector union: 1 Int32Vector,
 *                      2 Uint16Vector, 3 Uint8Vector; each a table with 0 values)
 */
#include "el_internal.h"
#include "el_options.h"

#define EL_TENSOR_READY 0x80u   /* internal, during build: tensor holds a value at this point */
#define EL_MAX_COUNT 0x00FFFFFF /* cap on tensors/ops/subgraphs/buffers (keeps arithmetic small) */

/* ---------------------------------------------------------------- dtypes */

size_t el_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case EL_FLOAT32:
    case EL_INT32:
    case EL_UINT32:
    case EL_RESOURCE:
        return 4;
    case EL_FLOAT16:
    case EL_INT16:
    case EL_UINT16:
    case EL_BFLOAT16:
        return 2;
    case EL_UINT8:
    case EL_INT8:
    case EL_BOOL:
        return 1;
    case EL_INT64:
    case EL_UINT64:
    case EL_FLOAT64:
        return 8;
    default:
        return 0; /* STRING, COMPLEX*, VARIANT, INT4 and newer: not supported */
    }
}

/* ---------------------------------------------------------------- helpers */

#define TRY(expr)                                                                                  \
    do {                                                                                           \
        el_status st_ = (expr);                                                                    \
        if (st_ != EL_OK)                                                                          \
            return st_;                                                                            \
    } while (0)

static int is_finite_bits(uint32_t bits)
{
    return ((bits >> 23) & 0xFFu) != 0xFFu;
}

/* Builtin code of operator code table oc. */
static el_status opcode_builtin(el_fb *fb, const el_table *oc, int32_t *code, int32_t *version,
                                const char *what)
{
    uint8_t dep;
    int32_t b;
    TRY(el_fb_u8(fb, oc, 0, 0, &dep, what));
    TRY(el_fb_i32(fb, oc, 3, 0, &b, what));
    TRY(el_fb_i32(fb, oc, 2, 1, version, what));
    /* TFLite rule: the larger of the two fields (deprecated byte for codes < 127). */
    *code = b > (int32_t)(int8_t)dep ? b : (int32_t)(int8_t)dep;
    if (*code < 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: negative builtin code %d", what,
                          (int)*code);
    return EL_OK;
}

/* Error messages name their place ("subgraph 0 tensor 3 'sum': ..."), but the place is only
 * formatted when something fails: the checks below pass "" as `what` and the wrappers put
 * the place in front of the message. */
static el_status located(el_fb *fb, el_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static el_status located(el_fb *fb, el_status st, const char *fmt, ...)
{
    char tail[EL_MESSAGE_SIZE];
    size_t n;
    va_list ap;
    memcpy(tail, fb->msg, EL_MESSAGE_SIZE);
    va_start(ap, fmt);
    el_vformat(fb->msg, EL_MESSAGE_SIZE, fmt, ap);
    va_end(ap);
    n = strlen(fb->msg);
    el_format(fb->msg + n, EL_MESSAGE_SIZE - n, "%s", tail);
    return st;
}

/* ---------------------------------------------------------------- sparsity */

static uint32_t rd_index(const uint8_t *p, uint8_t bytes, uint32_t i)
{
    p += (size_t)i * bytes;
    if (bytes == 4)
        return el_rd_u32(p); /* Int32Vector: a negative value reads huge: refused */
    if (bytes == 2)
        return (uint32_t)p[0] | ((uint32_t)p[1] << 8);
    return p[0];
}

/* One SparseIndexVector (union type at type_slot, table after it). */
static el_status index_vector(el_fb *fb, const el_table *m, int type_slot, const uint8_t **data,
                              uint32_t *count, uint8_t *bytes, const char *what)
{
    uint8_t kind;
    el_table vt;
    el_vec v;
    int present;
    *data = NULL;
    *count = 0;
    *bytes = 0;
    TRY(el_fb_u8(fb, m, type_slot, 0, &kind, what));
    if (kind == 0)
        return EL_OK;
    if (kind > 3)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: SparseIndexVector type %u does not exist", what, (unsigned)kind);
    *bytes = kind == 1 ? 4 : (kind == 2 ? 2 : 1);
    TRY(el_fb_table(fb, m, type_slot + 1, &vt, &present, what));
    if (!present)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: index vector type set but the vector is missing", what);
    TRY(el_fb_vec(fb, &vt, 0, *bytes, 1, &v, what));
    *data = v.count ? fb->buf + v.pos : NULL;
    *count = v.count;
    return EL_OK;
}

/* Parses a tensor's SparsityParameters against its dims; with check != 0 also every entry
 * of the segment and index vectors (O(size of the vectors)). *values: stored values. */
static el_status sparsity_parse(el_fb *fb, const el_table *sp, const int32_t *dims, int32_t rank,
                                int check, uint32_t *values, el_sparsity *out)
{
    const char *what = "";
    el_vec order, blocks, metas;
    int32_t k, n, l, j, size[EL_SPARSE_MAX_LEVELS], bsize[EL_MAX_DIMS];
    uint32_t seen = 0;
    uint64_t positions = 1;
    TRY(el_fb_vec(fb, sp, 0, 4, 1, &order, what));
    TRY(el_fb_vec(fb, sp, 1, 4, 1, &blocks, what));
    TRY(el_fb_vec(fb, sp, 2, 4, 4, &metas, what));
    if (rank < 1)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: a scalar cannot be sparse", what);
    if (blocks.count > (uint32_t)rank)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: sparsity block_map has %lu entries for rank %d", what,
                          (unsigned long)blocks.count, (int)rank);
    k = (int32_t)blocks.count;
    n = rank + k;
    if (order.count != (uint32_t)n || metas.count != (uint32_t)n)
        return el_fb_fail(
            fb, EL_ERROR_INVALID_MODEL,
            "%s: sparsity has %lu traversal_order and %lu dim_metadata entries, expected %d", what,
            (unsigned long)order.count, (unsigned long)metas.count, (int)n);
    for (l = 0; l < rank; ++l)
        bsize[l] = 1;
    if (out) {
        memset(out, 0, sizeof(*out));
        out->rank = rank;
        out->n_levels = n;
        for (l = 0; l < rank; ++l)
            out->block_level[l] = -1;
    }
    for (j = 0; j < k; ++j) {
        int32_t d = el_rd_i32(fb->buf + blocks.pos + 4 * (size_t)j);
        if (d < 0 || d >= rank || (seen & (1u << d)))
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "%s: sparsity block_map[%d] = %d is out of range or repeated", what,
                              (int)j, (int)d);
        seen |= 1u << d;
        if (out)
            out->block_level[d] = (int8_t)(rank + j);
    }
    seen = 0;
    for (l = 0; l < n; ++l) {
        int32_t e = el_rd_i32(fb->buf + order.pos + 4 * (size_t)l);
        if (e < 0 || e >= n || (seen & (1u << e)))
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "%s: sparsity traversal_order is not a permutation of 0..%d", what,
                              (int)(n - 1));
        seen |= 1u << e;
    }
    /* Block sizes: the DENSE level of each block dimension. */
    for (l = 0; l < n; ++l) {
        int32_t e = el_rd_i32(fb->buf + order.pos + 4 * (size_t)l), dense;
        el_table m;
        uint8_t fmt;
        if (e < rank)
            continue;
        TRY(el_fb_vec_table(fb, &metas, (uint32_t)l, &m, what));
        TRY(el_fb_u8(fb, &m, 0, 0, &fmt, what));
        TRY(el_fb_i32(fb, &m, 1, 0, &dense, what));
        j = el_rd_i32(fb->buf + blocks.pos + 4 * (size_t)(e - rank));
        if (fmt != 0 || dense < 1 || dims[j] % dense != 0)
            return el_fb_fail(
                fb, EL_ERROR_INVALID_MODEL,
                "%s: sparsity block of dimension %d must be DENSE with a size dividing %d", what,
                (int)j, (int)dims[j]);
        bsize[j] = dense;
    }
    for (l = 0; l < rank; ++l)
        size[l] = dims[l] / bsize[l];
    for (j = 0; j < k; ++j)
        size[rank + j] = bsize[el_rd_i32(fb->buf + blocks.pos + 4 * (size_t)j)];
    if (out)
        for (l = 0; l < rank; ++l)
            out->block_size[l] = bsize[l];
    for (l = 0; l < n; ++l) {
        int32_t e = el_rd_i32(fb->buf + order.pos + 4 * (size_t)l), dense;
        el_table m;
        uint8_t fmt, seg_bytes, idx_bytes;
        const uint8_t *seg, *idx;
        uint32_t n_seg, n_idx, i;
        TRY(el_fb_vec_table(fb, &metas, (uint32_t)l, &m, what));
        TRY(el_fb_u8(fb, &m, 0, 0, &fmt, what));
        TRY(el_fb_i32(fb, &m, 1, 0, &dense, what));
        TRY(index_vector(fb, &m, 2, &seg, &n_seg, &seg_bytes, what));
        TRY(index_vector(fb, &m, 4, &idx, &n_idx, &idx_bytes, what));
        if (fmt == 0) {
            if (dense != size[e])
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                  "%s: sparsity level %d: dense_size %d, expected %d", what, (int)l,
                                  (int)dense, (int)size[e]);
            positions *= (uint64_t)size[e]; /* <= the tensor's element count: no overflow */
        } else if (fmt == 1) {
            if (seg_bytes == 0 || idx_bytes == 0)
                return el_fb_fail(
                    fb, EL_ERROR_INVALID_MODEL,
                    "%s: sparsity level %d is SPARSE_CSR without segments and indices", what,
                    (int)l);
            if ((uint64_t)n_seg != positions + 1)
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                  "%s: sparsity level %d has %lu segments, expected %lu", what,
                                  (int)l, (unsigned long)n_seg, (unsigned long)(positions + 1));
            if (rd_index(seg, seg_bytes, 0) != 0 || rd_index(seg, seg_bytes, n_seg - 1) != n_idx)
                return el_fb_fail(
                    fb, EL_ERROR_INVALID_MODEL,
                    "%s: sparsity level %d: segments must run from 0 to the %lu indices", what,
                    (int)l, (unsigned long)n_idx);
            if (check) {
                uint32_t s;
                for (s = 0; s + 1 < n_seg; ++s) {
                    uint32_t a = rd_index(seg, seg_bytes, s), b = rd_index(seg, seg_bytes, s + 1);
                    if (b < a || b > n_idx)
                        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                          "%s: sparsity level %d: segment %lu goes down", what,
                                          (int)l, (unsigned long)s);
                    for (i = a; i < b; ++i) {
                        uint32_t x = rd_index(idx, idx_bytes, i);
                        if (x >= (uint32_t)size[e] ||
                            (i > a && x <= rd_index(idx, idx_bytes, i - 1)))
                            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                              "%s: sparsity level %d: index %lu is out of range "
                                              "(size %d) or not rising",
                                              what, (int)l, (unsigned long)i, (int)size[e]);
                    }
                }
            }
            positions = n_idx;
        } else {
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "%s: sparsity level %d has unknown format %u", what, (int)l,
                              (unsigned)fmt);
        }
        if (out) {
            el_sparse_level *lv = &out->level[l];
            lv->segments = seg;
            lv->indices = idx;
            lv->size = size[e];
            lv->dim = (int8_t)e;
            lv->csr = fmt;
            lv->seg_bytes = seg_bytes;
            lv->idx_bytes = idx_bytes;
        }
    }
    *values = (uint32_t)positions;
    if (out)
        out->values = (int32_t)positions;
    return EL_OK;
}

/* Verifies one tensor; fills *t when t != NULL. */
static el_status tensor_check_body(el_context *ctx, const el_table *tt, el_tensor *t)
{
    el_fb *fb = &ctx->fb;
    const char *what = "";
    el_vec shape, data, scales, zps;
    int8_t type;
    uint8_t type_u8, is_var;
    uint32_t buffer;
    uint64_t elems = 1, ext_off, ext_size;
    size_t esize;
    const char *name;
    el_table q, buf, sp;
    int present, sparse;
    uint32_t i, values = 0;
    int32_t dims[EL_MAX_DIMS];
    const uint8_t *const_data = NULL;
    uint64_t const_bytes = 0;

    TRY(el_fb_string(fb, tt, 3, &name, what));
    TRY(el_fb_vec(fb, tt, 0, 4, 4, &shape, what));
    TRY(el_fb_u8(fb, tt, 1, 0, &type_u8, what));
    type = (int8_t)type_u8;
    TRY(el_fb_u32(fb, tt, 2, 0, &buffer, what));
    TRY(el_fb_u8(fb, tt, 5, 0, &is_var, what));
    TRY(el_fb_vec(fb, tt, 7, 4, 1, &data, what)); /* shape_signature: bounds only */
    TRY(el_fb_table(fb, tt, 6, &sp, &sparse, what));
    if (shape.count > EL_MAX_DIMS)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED, "%s: rank %lu exceeds the maximum %d", what,
                          (unsigned long)shape.count, EL_MAX_DIMS);
    esize = el_dtype_size(type);
    if (type < 0 || type > 22)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: unknown tensor type %d", what,
                          (int)type);
    if (esize == 0)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED, "%s: tensor type %s is not supported", what,
                          el_dtype_name(type));
    for (i = 0; i < shape.count; ++i) {
        int32_t d = el_rd_i32(fb->buf + shape.pos + 4 * (size_t)i);
        if (d < 0)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: dimension %lu is negative (%d)",
                              what, (unsigned long)i, (int)d);
        elems *= (uint64_t)d; /* a 0 makes an empty tensor: see the empty-constant note below */
        if (elems * esize > 0x7FFFFFFFu)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: shape has more than 2^31 bytes",
                              what);
        dims[i] = d;
    }
    /* every index entry once, in el_model_verify (t == NULL); the build pass reads counts */
    if (sparse && !EL_KEEP_SPARSE)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED,
                          "%s: sparse tensors are not compiled into this build "
                          "(el_kernels_selected.h: export the model again to include them)",
                          what);
    if (sparse)
        TRY(sparsity_parse(fb, &sp, dims, (int32_t)shape.count, t == NULL, &values, NULL));
    /* Buffer: inline data or data outside the flatbuffer. */
    if (buffer >= ctx->buffers.count)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: buffer index %lu out of range (%lu buffers)", what,
                          (unsigned long)buffer, (unsigned long)ctx->buffers.count);
    TRY(el_fb_vec_table(fb, &ctx->buffers, buffer, &buf, what));
    TRY(el_fb_vec(fb, &buf, 0, 1, 1, &data, what));
    TRY(el_fb_u64(fb, &buf, 1, 0, &ext_off, what));
    TRY(el_fb_u64(fb, &buf, 2, 0, &ext_size, what));
    if (data.count > 0) {
        const_data = fb->buf + data.pos;
        const_bytes = data.count;
    } else if (ext_off > 1) {
        if (ext_off > ctx->model_size || ext_size > ctx->model_size - ext_off)
            return el_fb_fail(
                fb, EL_ERROR_INVALID_MODEL,
                "%s: external buffer %lu (offset %lu, %lu bytes) lies outside the %lu-byte model",
                what, (unsigned long)buffer, (unsigned long)ext_off, (unsigned long)ext_size,
                (unsigned long)ctx->model_size);
        if (ext_size > 0) {
            const_data = ctx->model + ext_off;
            const_bytes = ext_size;
        }
    }
    if (sparse && const_data == NULL)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: a sparse tensor must be a constant",
                          what);
    if (sparse && const_bytes != (uint64_t)values * esize)
        return el_fb_fail(
            fb, EL_ERROR_INVALID_MODEL,
            "%s: buffer %lu holds %lu bytes, the sparsity describes %lu values of %lu bytes", what,
            (unsigned long)buffer, (unsigned long)const_bytes, (unsigned long)values,
            (unsigned long)esize);
    if (const_data != NULL && !sparse) {
        if (const_bytes != elems * esize)
            return el_fb_fail(
                fb, EL_ERROR_INVALID_MODEL, "%s: buffer %lu holds %lu bytes, shape needs %lu", what,
                (unsigned long)buffer, (unsigned long)const_bytes, (unsigned long)(elems * esize));
    }
    if (const_data != NULL) {
        if (((uintptr_t)const_data) % esize != 0)
            return el_fb_fail(
                fb, EL_ERROR_INVALID_MODEL,
                "%s: constant data not aligned to %lu bytes (is the model buffer %d-byte aligned?)",
                what, (unsigned long)esize, EL_MODEL_ALIGN);
        if (type == EL_RESOURCE)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "%s: a RESOURCE tensor cannot be constant", what);
    }
    if (elems == 0) {
        /* An empty tensor holds no value to compute: a constant (TensorFlow writes a reshape to a
     * scalar with an empty shape vector). dataflow_check lets only a RESHAPE's shape input be
     * one, so no kernel ever touches it. */
        static const double k_empty[2] = {0.0, 0.0};
        if (is_var)
            return el_fb_fail(fb, EL_ERROR_UNSUPPORTED, "%s: an empty variable tensor", what);
        const_data = (const uint8_t *)(const void *)k_empty;
    }
    /* Quantization. */
    TRY(el_fb_table(fb, tt, 4, &q, &present, what));
    if (present) {
        uint8_t details;
        int32_t qdim;
        TRY(el_fb_vec(fb, &q, 2, 4, 1, &scales, what));
        TRY(el_fb_vec(fb, &q, 3, 8, 1, &zps, what));
        TRY(el_fb_u8(fb, &q, 4, 0, &details, what));
        TRY(el_fb_i32(fb, &q, 6, 0, &qdim, what));
        if (details != 0)
            return el_fb_fail(fb, EL_ERROR_UNSUPPORTED,
                              "%s: custom quantization details are not supported", what);
        if (zps.count != 0 && zps.count != scales.count)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: %lu zero points for %lu scales",
                              what, (unsigned long)zps.count, (unsigned long)scales.count);
        if (scales.count > 1) {
            if (qdim < 0 || (uint32_t)qdim >= shape.count)
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                  "%s: quantized_dimension %d out of range for rank %lu", what,
                                  (int)qdim, (unsigned long)shape.count);
            if ((uint32_t)el_rd_i32(fb->buf + shape.pos + 4 * (size_t)qdim) != scales.count)
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                  "%s: %lu scales but dimension %d has %d entries", what,
                                  (unsigned long)scales.count, (int)qdim,
                                  (int)el_rd_i32(fb->buf + shape.pos + 4 * (size_t)qdim));
        }
        for (i = 0; i < scales.count; ++i)
            if (!is_finite_bits(el_rd_u32(fb->buf + scales.pos + 4 * (size_t)i)))
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: scale %lu is not finite", what,
                                  (unsigned long)i);
        for (i = 0; i < zps.count; ++i) {
            int32_t lo = el_rd_i32(fb->buf + zps.pos + 8 * (size_t)i);
            int32_t hi = el_rd_i32(fb->buf + zps.pos + 8 * (size_t)i + 4);
            if (hi != (lo < 0 ? -1 : 0))
                return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                                  "%s: zero point %lu does not fit in 32 bits", what,
                                  (unsigned long)i);
        }
    }
    if (t != NULL) {
        t->data = (void *)(uintptr_t)const_data;
        t->dims = shape.count ? (const int32_t *)(const void *)(fb->buf + shape.pos) : NULL;
        t->bytes = (uint32_t)(elems * esize);
        t->type = (uint8_t)type;
        t->rank = (uint8_t)shape.count;
        t->flags = (uint8_t)((const_data ? EL_TENSOR_CONST : 0u) |
                             (is_var ? EL_TENSOR_VARIABLE : 0u) | (sparse ? EL_TENSOR_SPARSE : 0u));
    }
    return EL_OK;
}

static el_status tensor_check(el_context *ctx, int32_t sg, int32_t ti, const el_table *tt,
                              el_tensor *t)
{
    el_status st = tensor_check_body(ctx, tt, t);
    const char *name = "";
    if (st == EL_OK)
        return st;
    if (el_fb_string(&ctx->fb, tt, 3, &name, "") != EL_OK)
        name = "";
    if (name[0] != '\0')
        return located(&ctx->fb, st, "subgraph %d tensor %d '%s'", (int)sg, (int)ti, name);
    return located(&ctx->fb, st, "subgraph %d tensor %d", (int)sg, (int)ti);
}

static el_status index_list(el_fb *fb, const el_vec *v, int32_t n_tensors, int allow_absent,
                            const char *what)
{
    uint32_t i;
    for (i = 0; i < v->count; ++i) {
        int32_t x = el_rd_i32(fb->buf + v->pos + 4 * (size_t)i);
        if (x == -1 && allow_absent)
            continue;
        if (x < 0 || x >= n_tensors)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "%s: tensor index %d out of range (%d tensors)", what, (int)x,
                              (int)n_tensors);
    }
    return EL_OK;
}

/* Verifies one operator; when node != NULL also fills it (options in persistent memory).
 * *code_out: the builtin code once known, else -1. */
static el_status op_check_body(el_context *ctx, int32_t sg, const el_table *ot, int32_t n_tensors,
                               el_node *node, const el_node *first_node, int32_t *code_out)
{
    el_fb *fb = &ctx->fb;
    const char *what = "";
    uint32_t opcode;
    el_table oc;
    el_vec ins, outs;
    int32_t code, version;
    uint8_t opt2_type;

    *code_out = -1;
    TRY(el_fb_u32(fb, ot, 0, 0, &opcode, what));
    if (opcode >= ctx->opcodes.count)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                          "%s: opcode_index %lu out of range (%lu operator codes)", what,
                          (unsigned long)opcode, (unsigned long)ctx->opcodes.count);
    TRY(el_fb_vec_table(fb, &ctx->opcodes, opcode, &oc, what));
    TRY(opcode_builtin(fb, &oc, &code, &version, what));
    if (code > 32767)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED,
                          "%s: builtin code %d is not supported by runtime_micro", what, (int)code);
    *code_out = code;
    TRY(el_fb_vec(fb, ot, 1, 4, 4, &ins, what));
    TRY(el_fb_vec(fb, ot, 2, 4, 4, &outs, what));
    if (ins.count > 0xFFFF || outs.count > 0xFFFF)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "%s: too many inputs/outputs", what);
    TRY(index_list(fb, &ins, n_tensors, 1, what));
    TRY(index_list(fb, &outs, n_tensors, 0, what));
    { /* fields the runtime does not use: bounds only */
        el_vec unused;
        TRY(el_fb_vec(fb, ot, 5, 1, 1, &unused, what)); /* custom_options */
        TRY(el_fb_vec(fb, ot, 7, 1, 1, &unused, what)); /* mutating_variable_inputs */
        TRY(el_fb_vec(fb, ot, 8, 4, 1, &unused, what)); /* intermediates */
    }
    TRY(el_fb_u8(fb, ot, 11, 0, &opt2_type, what));
    if (opt2_type != 0)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED,
                          "%s: builtin_options_2 (StableHLO ops) are not supported", what);
    TRY(el_options_parse(ctx, code, ot, node, first_node, what));
    if (code == EL_OP_CUSTOM) { /* named custom kernels only; their raw options checked */
        const char *custom = NULL;
        el_vec copts;
        TRY(el_fb_string(fb, &oc, 1, &custom, what));
        TRY(el_fb_vec(fb, ot, 5, 1, 1, &copts, what));
        TRY(el_custom_options_parse(ctx, custom, copts.count ? fb->buf + copts.pos : NULL,
                                    (uint32_t)copts.count, node, what));
    }
    if (node != NULL) {
        node->inputs = ins.count ? (const int32_t *)(const void *)(fb->buf + ins.pos) : NULL;
        node->outputs = outs.count ? (const int32_t *)(const void *)(fb->buf + outs.pos) : NULL;
        node->n_inputs = (uint16_t)ins.count;
        node->n_outputs = (uint16_t)outs.count;
        node->builtin_code = (int16_t)code;
        node->subgraph = (uint16_t)sg;
    }
    return EL_OK;
}

static el_status op_check(el_context *ctx, int32_t sg, int32_t oi, const el_table *ot,
                          int32_t n_tensors, el_node *node, const el_node *first_node)
{
    int32_t code;
    el_status st = op_check_body(ctx, sg, ot, n_tensors, node, first_node, &code);
    if (st == EL_OK)
        return st;
    if (code < 0)
        return located(&ctx->fb, st, "subgraph %d op #%d", (int)sg, (int)oi);
    if (sg != 0)
        return located(&ctx->fb, st, "subgraph %d op #%d %s", (int)sg, (int)oi, el_op_name(code));
    return located(&ctx->fb, st, "op #%d %s", (int)oi, el_op_name(code));
}

static el_status subgraph_tables(el_context *ctx, int32_t sg, el_table *st, el_vec *tensors,
                                 el_vec *inputs, el_vec *outputs, el_vec *ops)
{
    el_fb *fb = &ctx->fb;
    el_vec subgraphs;
    el_table root;
    char what[32];
    el_format(what, sizeof(what), "subgraph %d", (int)sg);
    TRY(el_fb_root(fb, &root));
    TRY(el_fb_vec(fb, &root, 2, 4, 4, &subgraphs, "model subgraphs"));
    TRY(el_fb_vec_table(fb, &subgraphs, (uint32_t)sg, st, what));
    TRY(el_fb_vec(fb, st, 0, 4, 4, tensors, what));
    TRY(el_fb_vec(fb, st, 1, 4, 4, inputs, what));
    TRY(el_fb_vec(fb, st, 2, 4, 4, outputs, what));
    TRY(el_fb_vec(fb, st, 3, 4, 4, ops, what));
    if (tensors->count > EL_MAX_COUNT || ops->count > EL_MAX_COUNT)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED, "%s: more than %d tensors or operators", what,
                          EL_MAX_COUNT);
    return EL_OK;
}

/* Parts the runtime does not use (description, metadata, signatures) are still checked, so
 * that a damaged file is reported as damaged wherever the damage is. Model slots: 3
 * description, 5 metadata_buffer, 6 metadata (0 name, 1 buffer), 7 signature_defs (0 inputs,
 * 1 outputs: TensorMap 0 name, 1 tensor_index; 2 signature_key; 4 subgraph_index). */
static el_status verify_extras(el_context *ctx, const el_table *root)
{
    el_fb *fb = &ctx->fb;
    const char *s;
    el_vec v, sigs, maps;
    el_table t, m;
    uint32_t i, j, k, x;
    TRY(el_fb_string(fb, root, 3, &s, "model description"));
    TRY(el_fb_vec(fb, root, 5, 4, 1, &v, "model metadata_buffer"));
    TRY(el_fb_vec(fb, root, 6, 4, 4, &v, "model metadata"));
    for (i = 0; i < v.count; ++i) {
        TRY(el_fb_vec_table(fb, &v, i, &t, "model metadata"));
        TRY(el_fb_string(fb, &t, 0, &s, "model metadata name"));
        TRY(el_fb_u32(fb, &t, 1, 0, &x, "model metadata"));
        if (x >= ctx->buffers.count)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "metadata '%s': buffer index %lu out of range", s, (unsigned long)x);
    }
    TRY(el_fb_vec(fb, root, 7, 4, 4, &sigs, "model signature_defs"));
    for (i = 0; i < sigs.count; ++i) {
        TRY(el_fb_vec_table(fb, &sigs, i, &t, "signature"));
        TRY(el_fb_string(fb, &t, 2, &s, "signature key"));
        TRY(el_fb_u32(fb, &t, 4, 0, &x, "signature"));
        if (x >= (uint32_t)ctx->n_subgraphs)
            return el_fb_fail(fb, EL_ERROR_INVALID_MODEL,
                              "signature '%s': subgraph %lu out of range", s, (unsigned long)x);
        for (k = 0; k < 2; ++k) {
            TRY(el_fb_vec(fb, &t, (int)k, 4, 4, &maps, "signature tensors"));
            for (j = 0; j < maps.count; ++j) {
                const char *name;
                TRY(el_fb_vec_table(fb, &maps, j, &m, "signature tensor"));
                TRY(el_fb_string(fb, &m, 0, &name, "signature tensor name"));
                TRY(el_fb_u32(fb, &m, 1, 0, &x, "signature tensor"));
            }
        }
    }
    return EL_OK;
}

el_status el_model_verify(el_context *ctx)
{
    el_fb *fb = &ctx->fb;
    el_table root;
    el_vec subgraphs;
    uint32_t version, i;
    int32_t sg;

    TRY(el_fb_root(fb, &root));
    TRY(el_fb_u32(fb, &root, 0, 0, &version, "model"));
    if (version != 3)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED, "model schema version %lu, expected 3",
                          (unsigned long)version);
    TRY(el_fb_vec(fb, &root, 1, 4, 4, &ctx->opcodes, "model operator_codes"));
    TRY(el_fb_vec(fb, &root, 2, 4, 4, &subgraphs, "model subgraphs"));
    TRY(el_fb_vec(fb, &root, 4, 4, 4, &ctx->buffers, "model buffers"));
    if (subgraphs.count == 0)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "model has no subgraph");
    if (subgraphs.count > 0xFFFF || ctx->buffers.count > EL_MAX_COUNT ||
        ctx->opcodes.count > EL_MAX_COUNT)
        return el_fb_fail(fb, EL_ERROR_UNSUPPORTED,
                          "model has too many subgraphs, buffers or operator codes");
    ctx->n_subgraphs = (int32_t)subgraphs.count;
    for (i = 0; i < ctx->opcodes.count; ++i) {
        el_table oc;
        int32_t code, ver;
        const char *custom;
        TRY(el_fb_vec_table(fb, &ctx->opcodes, i, &oc, "operator code"));
        TRY(opcode_builtin(fb, &oc, &code, &ver, "operator code"));
        TRY(el_fb_string(fb, &oc, 1, &custom, "operator code custom_code"));
    }
    for (i = 0; i < ctx->buffers.count; ++i) {
        el_table bt;
        el_vec data;
        TRY(el_fb_vec_table(fb, &ctx->buffers, i, &bt, "model buffer"));
        TRY(el_fb_vec(fb, &bt, 0, 1, 1, &data, "model buffer data"));
    }
    TRY(verify_extras(ctx, &root));
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_table st, tt, ot;
        el_vec tensors, inputs, outputs, ops;
        char what[32];
        el_format(what, sizeof(what), "subgraph %d", (int)sg);
        TRY(subgraph_tables(ctx, sg, &st, &tensors, &inputs, &outputs, &ops));
        for (i = 0; i < tensors.count; ++i) {
            TRY(el_fb_vec_table(fb, &tensors, i, &tt, what));
            TRY(tensor_check(ctx, sg, (int32_t)i, &tt, NULL));
        }
        TRY(index_list(fb, &inputs, (int32_t)tensors.count, 0, "subgraph inputs"));
        TRY(index_list(fb, &outputs, (int32_t)tensors.count, 0, "subgraph outputs"));
        for (i = 0; i < ops.count; ++i) {
            TRY(el_fb_vec_table(fb, &ops, i, &ot, what));
            TRY(op_check(ctx, sg, (int32_t)i, &ot, (int32_t)tensors.count, NULL, NULL));
        }
    }
    return EL_OK;
}

/* Dataflow checks on a built subgraph: every value is written once, by one op, before it is
 * read; no op writes a constant, a variable or a subgraph input. */
static el_status dataflow_check(el_context *ctx, el_subgraph *g, int32_t sg)
{
    int32_t i, k;
    for (i = 0; i < g->n_tensors; ++i)
        if (g->tensors[i].flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE))
            g->tensors[i].flags |= EL_TENSOR_READY;
    for (i = 0; i < g->n_inputs; ++i) {
        el_tensor *t = &g->tensors[g->inputs[i]];
        if (t->flags & EL_TENSOR_CONST)
            return el_fail(ctx, NULL, EL_ERROR_INVALID_MODEL,
                           "subgraph %d input %d (tensor %d) is a constant", (int)sg, (int)i,
                           (int)g->inputs[i]);
        t->flags |= EL_TENSOR_READY | EL_TENSOR_INPUT;
    }
    for (i = 0; i < g->n_nodes; ++i) {
        el_node *n = &g->nodes[i];
        for (k = 0; k < n->n_inputs + n->n_outputs; ++k) {
            int32_t x = k < n->n_inputs ? n->inputs[k] : n->outputs[k - n->n_inputs];
            if (x >= 0 && g->tensors[x].bytes == 0 && !(n->builtin_code == EL_OP_RESHAPE && k == 1))
                return el_fail(
                    ctx, n, EL_ERROR_UNSUPPORTED,
                    "tensor %d is empty (a 0 dimension): runtime_micro runs no op on empty "
                    "tensors (edgelite convert folds them away)",
                    (int)x);
        }
        for (k = 0; k < n->n_inputs; ++k) {
            int32_t x = n->inputs[k];
            int32_t j;
            if (x < 0)
                continue;
            for (j = 0; j < n->n_outputs; ++j)
                if (n->outputs[j] == x)
                    return el_fail(ctx, n, EL_ERROR_INVALID_MODEL,
                                   "tensor %d is both input %d and output %d", (int)x, (int)k,
                                   (int)j);
            if (!(g->tensors[x].flags & EL_TENSOR_READY))
                return el_fail(ctx, n, EL_ERROR_INVALID_MODEL,
                               "input %d reads tensor %d before any op writes it (ops out of order "
                               "or a cycle)",
                               (int)k, (int)x);
        }
        for (k = 0; k < n->n_outputs; ++k) {
            el_tensor *t = &g->tensors[n->outputs[k]];
            if (t->flags & (EL_TENSOR_CONST | EL_TENSOR_VARIABLE | EL_TENSOR_INPUT))
                return el_fail(
                    ctx, n, EL_ERROR_INVALID_MODEL,
                    "output %d writes tensor %d, which is a constant, variable or subgraph input",
                    (int)k, (int)n->outputs[k]);
            if (t->flags & EL_TENSOR_READY)
                return el_fail(ctx, n, EL_ERROR_INVALID_MODEL,
                               "output %d: tensor %d is written by two ops", (int)k,
                               (int)n->outputs[k]);
            t->flags |= EL_TENSOR_READY;
        }
    }
    for (i = 0; i < g->n_outputs; ++i) {
        el_tensor *t = &g->tensors[g->outputs[i]];
        if (!(t->flags & EL_TENSOR_READY))
            return el_fail(ctx, NULL, EL_ERROR_INVALID_MODEL,
                           "subgraph %d output %d (tensor %d) is never written", (int)sg, (int)i,
                           (int)g->outputs[i]);
        t->flags |= EL_TENSOR_OUTPUT;
    }
    for (i = 0; i < g->n_tensors; ++i)
        g->tensors[i].flags &= (uint8_t)~EL_TENSOR_READY;
    return EL_OK;
}

static el_status build_subgraph(el_context *ctx, int32_t sg)
{
    el_fb *fb = &ctx->fb;
    el_subgraph *g = &ctx->subgraphs[sg];
    el_table st, tt, ot;
    el_vec tensors, inputs, outputs, ops;
    uint32_t i;
    TRY(subgraph_tables(ctx, sg, &st, &tensors, &inputs, &outputs, &ops));
    g->n_tensors = (int32_t)tensors.count;
    g->n_nodes = (int32_t)ops.count;
    g->n_inputs = (int32_t)inputs.count;
    g->n_outputs = (int32_t)outputs.count;
    g->inputs = inputs.count ? (const int32_t *)(const void *)(fb->buf + inputs.pos) : NULL;
    g->outputs = outputs.count ? (const int32_t *)(const void *)(fb->buf + outputs.pos) : NULL;
    g->tensor_tables = tensors;
    g->tensors = (el_tensor *)el_persist(ctx, sizeof(el_tensor) * tensors.count, 8);
    g->nodes = (el_node *)el_persist(ctx, sizeof(el_node) * ops.count, 8);
    if ((tensors.count && !g->tensors) || (ops.count && !g->nodes))
        return EL_ERROR_ARENA_TOO_SMALL;
    for (i = 0; i < tensors.count; ++i) {
        TRY(el_fb_vec_table(fb, &tensors, i, &tt, "tensor"));
        TRY(tensor_check(ctx, sg, (int32_t)i, &tt, &g->tensors[i]));
    }
    for (i = 0; i < ops.count; ++i) {
        TRY(el_fb_vec_table(fb, &ops, i, &ot, "operator"));
        TRY(op_check(ctx, sg, (int32_t)i, &ot, g->n_tensors, &g->nodes[i], g->nodes));
    }
    return dataflow_check(ctx, g, sg);
}

el_status el_model_build(el_context *ctx)
{
    int32_t sg, i, k, added;
    ctx->subgraphs =
        (el_subgraph *)el_persist(ctx, sizeof(el_subgraph) * (size_t)ctx->n_subgraphs, 8);
    if (!ctx->subgraphs)
        return EL_ERROR_ARENA_TOO_SMALL;
    ctx->subgraphs[0].reachable = 1;
    /* Subgraph 0 and the subgraphs its CALL_ONCE, IF and WHILE ops run (transitively) are the
   * only ones built and run; reachable becomes 2 once a subgraph is built. */
    do {
        added = 0;
        for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
            el_subgraph *g = &ctx->subgraphs[sg];
            if (g->reachable != 1)
                continue;
            TRY(build_subgraph(ctx, sg));
            g->reachable = 2;
            for (i = 0; i < g->n_nodes; ++i) {
                const el_node *n = &g->nodes[i];
                int32_t targets[2], nt = el_control_targets(n, targets);
                if (n->builtin_code == EL_OP_CALL_ONCE && sg != 0)
                    return el_fail(ctx, n, EL_ERROR_UNSUPPORTED,
                                   "CALL_ONCE is supported in subgraph 0 only");
                for (k = 0; k < nt; ++k) {
                    if (targets[k] <= 0 || targets[k] >= ctx->n_subgraphs)
                        return el_fail(ctx, n, EL_ERROR_INVALID_MODEL,
                                       "subgraph index %d out of range (%d subgraphs; subgraph 0 "
                                       "is the main one)",
                                       (int)targets[k], (int)ctx->n_subgraphs);
                    if (!ctx->subgraphs[targets[k]].reachable) {
                        ctx->subgraphs[targets[k]].reachable = 1;
                        added = 1;
                    }
                }
            }
        }
    } while (added);
    TRY(el_control_link(ctx));
    return el_control_reserve_resources(ctx);
}

/* ---------------------------------------------------------------- arena lower bound */

static size_t up(size_t x, size_t a)
{
    return (x + a - 1) & ~(a - 1);
}

/* Bytes of tensor ti of a subgraph whose tensors vector is tv, 0 for constants (verified). */
static size_t planned_bytes(el_context *ctx, const el_vec *tv, int32_t ti)
{
    el_fb *fb = &ctx->fb;
    el_table tt, buf;
    el_vec shape, data;
    uint8_t type;
    uint32_t b, i;
    uint64_t n = 1, off = 0;
    if (el_fb_vec_table(fb, tv, (uint32_t)ti, &tt, "") != EL_OK ||
        el_fb_vec(fb, &tt, 0, 4, 4, &shape, "") != EL_OK || el_fb_u8(fb, &tt, 1, 0, &type, "") ||
        el_fb_u32(fb, &tt, 2, 0, &b, "") != EL_OK ||
        el_fb_vec_table(fb, &ctx->buffers, b, &buf, "") ||
        el_fb_vec(fb, &buf, 0, 1, 1, &data, "") != EL_OK || el_fb_u64(fb, &buf, 1, 0, &off, ""))
        return 0;
    if (data.count > 0 || off > 1 || type == EL_RESOURCE)
        return 0;
    for (i = 0; i < shape.count; ++i)
        n *= (uint64_t)el_rd_i32(fb->buf + shape.pos + 4 * (size_t)i);
    return up((size_t)(n * el_dtype_size((int8_t)type)), 16);
}

/* Lower bounds for a verified model, computed without any memory. Returns the bookkeeping
 * every model needs (subgraphs, tensors, nodes: persistent); *regions_out gets a lower bound on
 * the planned part: the larger of the planner's per-tensor working memory and the sum over
 * subgraphs of the biggest single op's distinct non-constant inputs and outputs (all live while
 * it runs). The two parts are disjoint in the arena, so their sum bounds it. Used when the arena is too small to
 * compute the exact size, so that one more call with this many bytes usually gives it. */
size_t el_model_lower_bound(el_context *ctx, size_t *regions_out)
{
    el_fb *fb = &ctx->fb;
    size_t total = up(sizeof(el_subgraph) * (size_t)ctx->n_subgraphs, 8), regions, live_sum = 0;
    size_t temp_max = 0;
    *regions_out = 0;
    int32_t sg;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_table st, ot, opt, oc;
        el_vec tensors, inputs, outputs, ops, v;
        uint32_t i, k, opcode;
        size_t biggest = 0;
        int reachable = sg == 0, present;
        if (subgraph_tables(ctx, 0, &st, &tensors, &inputs, &outputs, &ops) != EL_OK)
            return total;
        for (i = 0; i < ops.count && !reachable;
             ++i) { /* run by CALL_ONCE, IF, WHILE of subgraph 0? */
            int32_t code, version, target = -1;
            if (el_fb_vec_table(fb, &ops, i, &ot, "") || el_fb_u32(fb, &ot, 0, 0, &opcode, "") ||
                el_fb_vec_table(fb, &ctx->opcodes, opcode, &oc, "") ||
                opcode_builtin(fb, &oc, &code, &version, ""))
                return total;
            if ((code != EL_OP_CALL_ONCE && code != EL_OP_IF && code != EL_OP_WHILE) ||
                el_fb_table(fb, &ot, 4, &opt, &present, "") || !present)
                continue;
            if (el_fb_i32(fb, &opt, 0, 0, &target, "") == EL_OK && target == sg)
                reachable = 1;
            if (code != EL_OP_CALL_ONCE && el_fb_i32(fb, &opt, 1, 0, &target, "") == EL_OK &&
                target == sg)
                reachable = 1;
        }
        if (!reachable)
            continue;
        if (subgraph_tables(ctx, sg, &st, &tensors, &inputs, &outputs, &ops) != EL_OK)
            return total;
        total += up(sizeof(el_tensor) * tensors.count, 8) + up(sizeof(el_node) * ops.count, 8);
        for (i = 0; i < ops.count; ++i) {
            size_t live = 0;
            int32_t code, version, seen[8];
            int n_seen = 0, inplace;
            if (el_fb_vec_table(fb, &ops, i, &ot, "") || el_fb_u32(fb, &ot, 0, 0, &opcode, "") ||
                el_fb_vec_table(fb, &ctx->opcodes, opcode, &oc, "") ||
                opcode_builtin(fb, &oc, &code, &version, ""))
                return total;
            /* reshape-like ops may share one buffer between input and output: count the larger */
            inplace = code == EL_OP_RESHAPE || code == EL_OP_SQUEEZE || code == EL_OP_EXPAND_DIMS;
            for (k = 0; k < 2; ++k) {
                uint32_t j;
                if (el_fb_vec(fb, &ot, 1 + (int)k, 4, 4, &v, ""))
                    return total;
                for (j = 0; j < v.count; ++j) {
                    int32_t x = el_rd_i32(fb->buf + v.pos + 4 * (size_t)j), m;
                    size_t bytes;
                    for (m = 0; m < n_seen && seen[m] != x; ++m) {
                    }
                    if (x < 0 || m < n_seen || n_seen == 8)
                        continue; /* absent, repeated, or enough */
                    /* a DENSIFY output read as weights may never be planned (the weights stay sparse
           * in the model): not counted, so the bound stays a bound */
                    if (code == EL_OP_DENSIFY ||
                        (k == 0 && j == 1 &&
                         (code == EL_OP_FULLY_CONNECTED || code == EL_OP_CONV_2D ||
                          code == EL_OP_DEPTHWISE_CONV_2D)))
                        continue;
                    seen[n_seen++] = x;
                    bytes = planned_bytes(ctx, &tensors, x);
                    if (inplace)
                        live = bytes > live ? bytes : live;
                    else
                        live += bytes;
                }
            }
            if (live > biggest)
                biggest = live;
        }
        live_sum += biggest;
        if (up(16 * (size_t)tensors.count, 16) > temp_max)
            temp_max = up(16 * (size_t)tensors.count, 16);
    }
    regions = live_sum > temp_max ? live_sum : temp_max;
    *regions_out = regions;
    return up(total, 16);
}

el_status el_model_tensor_table(el_context *ctx, int32_t sg, int32_t ti, el_table *out)
{
    return el_fb_vec_table(&ctx->fb, &ctx->subgraphs[sg].tensor_tables, (uint32_t)ti, out,
                           "tensor");
}

el_status el_model_quant(el_context *ctx, int32_t sg, int32_t ti, el_quant *out)
{
    el_fb *fb = &ctx->fb;
    el_table tt, q;
    el_vec scales, zps;
    int present;
    memset(out, 0, sizeof(*out));
    TRY(el_model_tensor_table(ctx, sg, ti, &tt));
    TRY(el_fb_table(fb, &tt, 4, &q, &present, "tensor quantization"));
    if (!present)
        return EL_OK;
    TRY(el_fb_vec(fb, &q, 2, 4, 1, &scales, "tensor quantization"));
    TRY(el_fb_vec(fb, &q, 3, 8, 1, &zps, "tensor quantization"));
    if (scales.count == 0)
        return EL_OK;
    out->count = (int32_t)scales.count;
    out->scales_le = fb->buf + scales.pos;
    out->zero_points_le = zps.count ? fb->buf + zps.pos : NULL;
    if (scales.count > 1)
        TRY(el_fb_i32(fb, &q, 6, 0, &out->quantized_dimension, "tensor quantization"));
    out->scale = el_quant_scale(out, 0);
    out->zero_point = el_quant_zero_point(out, 0);
    return EL_OK;
}

const char *el_model_tensor_name(el_context *ctx, int32_t sg, int32_t ti)
{
    el_table tt;
    const char *name = "";
    if (el_model_tensor_table(ctx, sg, ti, &tt) != EL_OK)
        return "";
    if (el_fb_string(&ctx->fb, &tt, 3, &name, "tensor name") != EL_OK)
        return "";
    return name;
}

el_status el_model_sparsity(el_context *ctx, int32_t sg, int32_t ti, el_sparsity *out)
{
    el_fb *fb = &ctx->fb;
    const el_tensor *t = &ctx->subgraphs[sg].tensors[ti];
    el_table tt, sp;
    int32_t dims[EL_MAX_DIMS], i;
    int present;
    uint32_t values;
    TRY(el_model_tensor_table(ctx, sg, ti, &tt));
    TRY(el_fb_table(fb, &tt, 6, &sp, &present, "tensor sparsity"));
    if (!present || !EL_KEEP_SPARSE)
        return el_fb_fail(fb, EL_ERROR_INVALID_MODEL, "tensor %d is not sparse", (int)ti);
    for (i = 0; i < t->rank; ++i)
        dims[i] = t->dims[i];
    /* verified by el_model_verify: only the structure is read again */
    return sparsity_parse(fb, &sp, dims, t->rank, 0, &values, out);
}

/* ---------------------------------------------------------------- kernel context API over the model */

el_status el_get_input_quant(el_context *ctx, const el_node *node, int32_t i, el_quant *out)
{
    memset(out, 0, sizeof(*out));
    if (i < 0 || i >= node->n_inputs || node->inputs[i] < 0)
        return EL_OK;
    return el_model_quant(ctx, node->subgraph, node->inputs[i], out);
}

el_status el_get_output_quant(el_context *ctx, const el_node *node, int32_t i, el_quant *out)
{
    memset(out, 0, sizeof(*out));
    if (i < 0 || i >= node->n_outputs)
        return EL_OK;
    return el_model_quant(ctx, node->subgraph, node->outputs[i], out);
}

/* The model tensor holding the sparsity of tensor ti: itself, or the input of the DENSIFY the
 * interpreter skipped for it (see skip_densify). */
static int32_t sparse_source(el_context *ctx, int32_t sg, int32_t ti)
{
    const el_subgraph *g = &ctx->subgraphs[sg];
    int32_t i;
    for (i = 0; i < g->n_nodes; ++i) {
        const el_node *n = &g->nodes[i];
        if (n->builtin_code == EL_OP_DENSIFY && n->n_outputs == 1 && n->outputs[0] == ti &&
            n->n_inputs == 1 && n->inputs[0] >= 0)
            return n->inputs[0];
    }
    return ti;
}

el_status el_get_input_sparsity(el_context *ctx, const el_node *node, int32_t i, el_sparsity *out)
{
    const el_tensor *t = el_input(ctx, node, i);
    if (t == NULL || !(t->flags & EL_TENSOR_SPARSE))
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL, "input %d is not sparse", (int)i);
    return el_model_sparsity(ctx, node->subgraph,
                             sparse_source(ctx, node->subgraph, node->inputs[i]), out);
}
