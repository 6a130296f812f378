/*
 * el_kernel.h: the internal interface between runtime_micro's interpreter and its kernels.
 *
 * WHAT THE KERNELS LIBRARY (runtime_micro/kernels/) MUST PROVIDE
 *
 *     const el_kernel *el_find_kernel(int32_t builtin_code);
 *
 * It returns the registration for a TFLite builtin operator code (EL_OP_* in el_ops.h) or NULL
 * when the op has no kernel; the interpreter then fails init with EL_ERROR_UNSUPPORTED naming
 * the op. The returned object must be static const (never freed). The interpreter itself
 * handles CALL_ONCE, VAR_HANDLE, READ_VARIABLE and ASSIGN_VARIABLE (they need its internals);
 * el_find_kernel is never asked for them.
 *
 * LIFE OF A NODE (TFLM's sequence, see micro_interpreter.cc)
 *   el_init: verify model -> build el_tensor / el_node views -> for each node in order:
 *            kernel->prepare(ctx, node) -> plan the arena -> set every tensor's data pointer.
 *   el_invoke: for each node in order: kernel->invoke(ctx, node).
 *
 * prepare (runs once, may be slow):
 *   - validates everything invoke relies on: input/output counts, dtypes, ranks and dims
 *     (output dims are fixed by the model: check they equal what the op computes), quant
 *     params (el_get_quant), constant-ness of inputs that must be constant, option values;
 *     failure -> return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED or
 *     EL_ERROR_INVALID_MODEL, "reason %d", (int)x);
 *   - computes op data (multipliers/shifts, clamping bounds, per-channel arrays...) into memory
 *     from el_alloc_op_data(): persistent, zero-filled, aligned to 8, lives as long as the
 *     interpreter, pointer stored in node->op_data;
 *   - asks for scratch with el_request_scratch(): the planner reserves those bytes for the
 *     duration of this node's invoke only; node->scratch points to them during invoke.
 *   - In prepare, tensor->data is valid only for constant tensors (EL_TENSOR_CONST); for all
 *     others it is NULL (memory is planned after every prepare has run).
 * invoke (runs every inference, must be fast):
 *   - runs blind: no validation of what prepare checked; no allocation.
 *   - reads tensor data through tensor->data (set by then for every tensor), op data through
 *     node->op_data, scratch through node->scratch (NULL if none was requested).
 *   - must still check data-dependent values that prepare could not see (e.g. GATHER indices)
 *     and fail with el_kernel_error(ctx, node, EL_ERROR_INVOKE, ...): never read out of range.
 *
 * IN-PLACE (reshape-like) OPS
 *   Only for ops whose output 0 holds exactly the bytes of input 0 (RESHAPE, SQUEEZE,
 *   EXPAND_DIMS): nothing is written that other readers of input 0 could see change.
 *   A kernel whose registration has EL_KERNEL_INPLACE lets the planner give output 0 the same
 *   memory as input 0 when both have the same byte size and input 0 is neither constant nor a
 *   variable. Its invoke must then work when output->data == input->data (skip the copy;
 *   use memmove, never memcpy, if the pointers may differ but overlap: they never partially
 *   overlap, they are either equal or disjoint).
 *
 * ERROR MESSAGES
 *   el_kernel_error formats "op #<index> <OPNAME>: <reason>" (prefixed "subgraph <n> " outside
 *   subgraph 0) into the interpreter's message buffer and returns the status given. Reasons say
 *   what is wrong and, when useful, what to do: "input 1 must be constant (weights)".
 *   Supported conversions: %d %i (int), %u %x (unsigned), %ld %lu (long), %zu (size_t), %s, %c,
 *   %%. No floating point. Cast int32_t to (int): on arm-none-eabi int32_t is long.
 *
 * MEMORY AND TYPES
 *   No malloc anywhere; everything kernels keep goes into op data. Tensor dims point into the
 *   model (read-only). Constant tensor data points into the model (cast away const only to
 *   match the struct: never write it). Kernels run single-threaded per interpreter and must
 *   keep no mutable static state.
 */
#ifndef EL_KERNEL_H
#define EL_KERNEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgelite_micro.h"
#include "el_ops.h"
#ifdef EL_KERNELS_SELECTED
#include "el_kernels_selected.h"
#endif

/* Tensor types compiled in. A selected-kernels build (kernels/el_kernels.c) may leave out the
 * float32 or int16 paths of its kernels: el_kernels_selected.h then defines EL_WITHOUT_FLOAT32 /
 * EL_WITHOUT_INT16, kernels test EL_KEEP_F32 / EL_KEEP_S16 before those paths, and el_init
 * refuses a model holding such a tensor (el_interp.c), so no kernel ever meets one.
 * EL_WITHOUT_SPARSE (EL_KEEP_SPARSE 0) leaves out sparse tensors the same way: the sparsity
 * reader, the DENSIFY skipping and the sparse kernels; the model reader then refuses a tensor
 * with sparsity parameters (el_model.c). */
#ifdef EL_WITHOUT_FLOAT32
#define EL_KEEP_F32 0
#else
#define EL_KEEP_F32 1
#endif
#ifdef EL_WITHOUT_INT16
#define EL_KEEP_S16 0
#else
#define EL_KEEP_S16 1
#endif
#ifdef EL_WITHOUT_SPARSE
#define EL_KEEP_SPARSE 0
#else
#define EL_KEEP_SPARSE 1
#endif

/* EL_WITH(name), in #if only: whether the kernel `name` (kernels/el_kernels.c's table names) is
 * compiled in, so a family file shared by several ops can leave out the others' branches. A
 * generated el_kernels_selected.h defines EL_KERNEL_FLAGS and EL_WITH_<name> 1 for each kept
 * kernel (an undefined name is 0 in #if); every other build keeps everything. */
#if defined(EL_KERNELS_SELECTED) && defined(EL_KERNEL_FLAGS)
#define EL_WITH(name) EL_WITH_##name
#else
#define EL_WITH(name) 1
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque to kernels: the interpreter's state during prepare and invoke. */
typedef struct el_context el_context;

/* ---------------------------------------------------------------- tensors */

/* el_tensor.flags */
#define EL_TENSOR_CONST 1u    /* data is a model buffer (read-only) */
#define EL_TENSOR_VARIABLE 2u /* is_variable in the model (TFLite "variable tensor") */
#define EL_TENSOR_INPUT 4u    /* an input of its subgraph */
#define EL_TENSOR_OUTPUT 8u   /* an output of its subgraph */
#define EL_TENSOR_SPARSE                                                                           \
    16u /* constant in TFLite's sparse form: data holds only the stored
                                 values (the model checked them against the sparsity, see
                                 el_get_input_sparsity); bytes is the dense size. Only kernels
                                 that accept sparse inputs (el_sparse_node_check) ever see one. */
/* A FLOAT32 constant whose data is the float16 values of a DEQUANTIZE the interpreter skips
 * (el_config.allow_fp16 on a CPU with EL_ISA_FP16): the weights input of one float32 CONV_2D or
 * FULLY_CONNECTED, which then computes in half precision (kernels/opt/arm_fp16.c), or of one
 * DEPTHWISE_CONV_2D (widened to float32 at prepare); no other kernel ever sees one. bytes is
 * still the float32 size. */
#define EL_TENSOR_F16 32u

/* One tensor of a subgraph. The interpreter owns it (in the arena); kernels read it. */
typedef struct el_tensor {
    void *data;          /* const tensors: in the model, aligned to the element size; others:
                           in the arena, aligned to 16; NULL in prepare for non-const tensors */
    const int32_t *dims; /* rank entries, each >= 1, in the model (the reader lets a 0 dim
                           reach only a RESHAPE's constant shape input, which kernels never
                           read); may be NULL when rank == 0 (a scalar, one element) */
    uint32_t bytes;      /* element count x element size; fits in 31 bits */
    uint8_t type;        /* el_dtype */
    uint8_t rank;        /* 0..EL_MAX_DIMS */
    uint8_t flags;       /* EL_TENSOR_* */
    uint8_t reserved;
} el_tensor;

/* Quantization parameters of one tensor, read from the model by el_get_quant (prepare only).
 * real = scale * (q - zero_point). Per-channel: count == dims[quantized_dimension]. */
typedef struct el_quant {
    int32_t count;                 /* 0: not quantized (no scales in the model), else >= 1 */
    int32_t quantized_dimension;   /* 0..rank-1 when count > 1 (checked by the reader), else 0 */
    float scale;                   /* entry 0 (0.0f when count == 0) */
    int32_t zero_point;            /* entry 0 (0 when count == 0 or the model has none) */
    const uint8_t *scales_le;      /* count little-endian float32 in the model; may be unaligned */
    const uint8_t *zero_points_le; /* count little-endian int64 in the model, or NULL when the
                                    model has none (all zero); may be unaligned */
} el_quant;

/* Per-channel accessors (i in 0..count-1, not checked). Zero points fit in int32 (checked by
 * the reader); scales are finite (checked by the reader), may be <= 0 (kernels check). */
static inline float el_quant_scale(const el_quant *q, int32_t i)
{
    float v;
    memcpy(&v, q->scales_le + 4 * (size_t)i, 4);
    return v;
}
static inline int32_t el_quant_zero_point(const el_quant *q, int32_t i)
{
    int64_t v;
    if (q->zero_points_le == NULL)
        return 0;
    memcpy(&v, q->zero_points_le + 8 * (size_t)i, 8);
    return (int32_t)v;
}

/* Size in bytes of one element; 0 for types without a fixed size (STRING, VARIANT, INT4...).
 * RESOURCE is 4 (a resource id). */
size_t el_dtype_size(int32_t dtype);
/* "FLOAT32", "INT8", ... ("UNKNOWN" outside the enum). */
const char *el_dtype_name(int32_t dtype);

/* Element count: product of dims (1 for rank 0). Never overflows (bytes fits in 31 bits). */
static inline int32_t el_tensor_elements(const el_tensor *t)
{
    int32_t n = 1, i;
    for (i = 0; i < t->rank; ++i)
        n *= t->dims[i];
    return n;
}

/* ---------------------------------------------------------------- sparse tensors
 * TFLite SparsityParameters, checked by the model reader (every segment and index vector:
 * lengths, rising segments, indices in range and rising inside a segment, values count equal
 * to the buffer): a tensor of rank n with k blocked dimensions is a tree of n + k levels.
 * Expanded dimension e < n counts the blocks of dimension e (dims[e] / block_size[e]); e >= n
 * runs inside the block of original dimension block_dim[e - n]. Level l walks expanded
 * dimension level[l].dim: DENSE (every coordinate 0..size-1: position = parent * size +
 * coordinate) or SPARSE_CSR (positions segments[parent] .. segments[parent + 1] - 1, whose
 * coordinates are indices[position]). The positions of the last level index the values. */

#define EL_SPARSE_MAX_LEVELS (2 * EL_MAX_DIMS)

typedef struct el_sparse_level {
    const uint8_t *segments; /* SPARSE_CSR only: little-endian, seg_bytes each */
    const uint8_t *indices;  /* SPARSE_CSR only: little-endian, idx_bytes each */
    int32_t size;            /* coordinates of the expanded dimension */
    int8_t dim;              /* expanded dimension */
    uint8_t csr, seg_bytes, idx_bytes;
} el_sparse_level;

typedef struct el_sparsity {
    int32_t rank, n_levels, values;
    int32_t block_size[EL_MAX_DIMS]; /* per original dimension (1 when not blocked) */
    int8_t block_level[EL_MAX_DIMS]; /* expanded dimension of its block, -1 when none */
    el_sparse_level level[EL_SPARSE_MAX_LEVELS];
} el_sparsity;

/* ---------------------------------------------------------------- options
 * Parsed builtin options. The reader fills the struct matching the op (see each comment),
 * applying the schema's defaults when the model omits the table or a field, and checks that
 * the model's builtin_options_type is the one the op uses. Enum values are TFLite's. */

enum { EL_PADDING_SAME = 0, EL_PADDING_VALID = 1 };
enum {
    EL_ACT_NONE = 0,
    EL_ACT_RELU = 1,
    EL_ACT_RELU_N1_TO_1 = 2,
    EL_ACT_RELU6 = 3,
    EL_ACT_TANH = 4,
    EL_ACT_SIGN_BIT = 5
};

/* CONV_2D (Conv2DOptions) */
typedef struct el_conv_options {
    int32_t padding, stride_w, stride_h, activation, dilation_w, dilation_h;
    int32_t quantized_bias_type; /* el_dtype, 0 = default */
} el_conv_options;

/* DEPTHWISE_CONV_2D (DepthwiseConv2DOptions) */
typedef struct el_depthwise_options {
    int32_t padding, stride_w, stride_h, depth_multiplier, activation, dilation_w, dilation_h;
} el_depthwise_options;

/* AVERAGE_POOL_2D, MAX_POOL_2D, L2_POOL_2D (Pool2DOptions) */
typedef struct el_pool_options {
    int32_t padding, stride_w, stride_h, filter_width, filter_height, activation;
} el_pool_options;

/* FULLY_CONNECTED (FullyConnectedOptions) */
typedef struct el_fc_options {
    int32_t activation, weights_format, keep_num_dims, asymmetric_quantize_inputs;
    int32_t quantized_bias_type;
} el_fc_options;

/* SOFTMAX (SoftmaxOptions) */
typedef struct el_softmax_options {
    float beta;
} el_softmax_options;

/* CONCATENATION (ConcatenationOptions); axis as in the model (may be negative) */
typedef struct el_concat_options {
    int32_t axis, activation;
} el_concat_options;

/* ADD, SUB (AddOptions / SubOptions), MUL, DIV (MulOptions / DivOptions; pot_scale_int16 = 1),
 * L2_NORMALIZATION (L2NormOptions; activation only) */
typedef struct el_arith_options {
    int32_t activation, pot_scale_int16;
} el_arith_options;

/* RESHAPE (ReshapeOptions): new_shape is informational (the output tensor's dims are what
 * counts); count 0 when absent */
typedef struct el_reshape_options {
    const int32_t *new_shape; /* in the model */
    int32_t new_shape_count;
} el_reshape_options;

/* MEAN, SUM, REDUCE_PROD, REDUCE_MAX, REDUCE_MIN, REDUCE_ANY, REDUCE_ALL (ReducerOptions) */
typedef struct el_reducer_options {
    int32_t keep_dims;
} el_reducer_options;

/* STRIDED_SLICE (StridedSliceOptions) */
typedef struct el_strided_slice_options {
    int32_t begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask, offset;
} el_strided_slice_options;

/* GATHER (GatherOptions) */
typedef struct el_gather_options {
    int32_t axis, batch_dims;
} el_gather_options;

/* SPLIT (SplitOptions), SPLIT_V (SplitVOptions) */
typedef struct el_split_options {
    int32_t num_splits;
} el_split_options;

/* SQUEEZE (SqueezeOptions) */
typedef struct el_squeeze_options {
    const int32_t *squeeze_dims; /* in the model */
    int32_t squeeze_dims_count;
} el_squeeze_options;

/* PACK (PackOptions: count = values_count), UNPACK (UnpackOptions: count = num) */
typedef struct el_pack_options {
    int32_t count, axis;
} el_pack_options;

/* LEAKY_RELU (LeakyReluOptions) */
typedef struct el_leaky_relu_options {
    float alpha;
} el_leaky_relu_options;

/* TRANSPOSE_CONV (TransposeConvOptions) */
typedef struct el_transpose_conv_options {
    int32_t padding, stride_w, stride_h, activation, quantized_bias_type;
} el_transpose_conv_options;

/* RESIZE_BILINEAR, RESIZE_NEAREST_NEIGHBOR */
typedef struct el_resize_options {
    int32_t align_corners, half_pixel_centers;
} el_resize_options;

/* ARG_MAX, ARG_MIN (output_type), SHAPE (out_type): an el_dtype */
typedef struct el_type_options {
    int32_t type;
} el_type_options;

/* SPACE_TO_DEPTH, DEPTH_TO_SPACE */
typedef struct el_block_options {
    int32_t block_size;
} el_block_options;

/* CAST (CastOptions; 0 = FLOAT32 also when absent: use the tensors' types) */
typedef struct el_cast_options {
    int32_t in_data_type, out_data_type;
} el_cast_options;

/* BATCH_MATMUL (BatchMatMulOptions) */
typedef struct el_batch_matmul_options {
    int32_t adj_x, adj_y, asymmetric_quantize_inputs;
} el_batch_matmul_options;

/* MIRROR_PAD (MirrorPadOptions): 0 REFLECT, 1 SYMMETRIC */
typedef struct el_mirror_pad_options {
    int32_t mode;
} el_mirror_pad_options;

/* SVDF (SVDFOptions) */
typedef struct el_svdf_options {
    int32_t rank, activation, asymmetric_quantize_inputs;
} el_svdf_options;

/* GELU (GeluOptions) */
typedef struct el_gelu_options {
    int32_t approximate;
} el_gelu_options;

/* LOCAL_RESPONSE_NORMALIZATION (LocalResponseNormalizationOptions) */
typedef struct el_lrn_options {
    int32_t radius;
    float bias, alpha, beta;
} el_lrn_options;

/* CUMSUM (CumsumOptions) */
typedef struct el_cumsum_options {
    int32_t exclusive, reverse;
} el_cumsum_options;

/* ONE_HOT (OneHotOptions) */
typedef struct el_one_hot_options {
    int32_t axis;
} el_one_hot_options;

/* ---------------------------------------------------------------- nodes */

struct el_kernel;

/* One operator of a subgraph. The interpreter owns it (in the arena). */
typedef struct el_node {
    const struct el_kernel *kernel;
    const int32_t *inputs;  /* n_inputs tensor indices of this subgraph, in the model; -1 marks
                              an absent optional input. Valid (checked by the reader). */
    const int32_t *outputs; /* n_outputs tensor indices; never -1 (checked by the reader) */
    const void *options;    /* the el_*_options struct for builtin_code (see above), or NULL
                              for ops without options (e.g. LOGISTIC, PAD, QUANTIZE) */
    void *op_data;          /* from el_alloc_op_data in prepare, else NULL */
    void *scratch;          /* during invoke: the el_request_scratch bytes (aligned 16), else NULL.
                              (Before planning the interpreter keeps the requested size here:
                              do not read it in prepare.) */
    int16_t builtin_code;   /* EL_OP_* (codes above 32767 are rejected by the reader) */
    uint16_t subgraph;      /* index of the subgraph the node belongs to */
    uint16_t n_inputs, n_outputs;
} el_node;

/* Position of the node in its subgraph's operator list (the "#<index>" of messages). */
int32_t el_node_index(const el_context *ctx, const el_node *node);

/* EL_ISA_* bits the optimized kernels (kernels/opt) may use in this interpreter: EL_ISA_OPT
 * plus the CPU's instruction sets minus el_config.disable_isa, or 0 for the reference only.
 * Kernels pass it to the el_opt_* functions; there is no process-wide switch. */
uint32_t el_ctx_isa(const el_context *ctx);

/* Threads (el_config.parallel_for). el_ctx_threads: how many tasks a layer may be split into
 * (>= 1). el_parallel_for runs task(arg, i) for i in 0..n_tasks-1 through the caller's hook, or
 * inline in order when there is none, and returns when all are done. Tasks must write disjoint
 * bytes and share no mutable state (node->scratch included) so the bytes never depend on the
 * split or the schedule. */
int32_t el_ctx_threads(const el_context *ctx);
void el_parallel_for(el_context *ctx, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                     void *arg);

/* Guided split of `total` items (rows, channels, elements) in units of `unit` items (a row, a
 * group of 16 channels, a 64-element vector) over `threads` threads, for hosted pools
 * (el_threadpool deals each thread a contiguous run of `per` tasks and lets a thread whose
 * run is done take the others' next unclaimed ones). The units are dealt in equal
 * shares and each share is cut into `per` tasks of decreasing size, in proportion to 2 per - 1,
 * 2 per - 3, ..., 1 (the first j of them end at j (2 per - j) / per^2 of the share): a thread
 * that runs out of work takes the other's largest task left, so a layer ends on the smallest
 * tasks and the threads finish within a small task of each other, not within 1 / per of the
 * share. per is at most `most` and at most sqrt(share), which keeps every task at least one
 * unit. Run el_guided_tasks(g) tasks; task i covers items [a, b) of el_guided_range: whole
 * units, the last one clipped at `total` (empty, b <= a, when the units do not fill it).
 * Inline functions: no code where nothing splits this way (microcontroller builds). */
typedef struct {
    int32_t extent, threads, per; /* extent: units */
    int32_t unit, total;
} el_guided;

static inline el_guided el_guided_split(int32_t total, int32_t unit, int32_t threads, int32_t most)
{
    el_guided g;
    const int32_t extent = (total + unit - 1) / unit;
    const int32_t share = extent / (threads > 1 ? threads : 1);
    g.extent = extent;
    g.unit = unit;
    g.total = total;
    g.threads = threads > 1 ? threads : 1;
    g.per = 1;
    while (g.per < most && (g.per + 1) * (g.per + 1) <= share)
        g.per++;
    return g;
}

static inline int32_t el_guided_tasks(const el_guided *g)
{
    return g->per * g->threads;
}

static inline void el_guided_range(const el_guided *g, int32_t i, int32_t *a, int32_t *b)
{
    const int32_t t = i / g->per, k = i % g->per, m2 = g->per * g->per;
    const int32_t s0 = (int32_t)((int64_t)g->extent * t / g->threads);
    const int64_t share = (int64_t)g->extent * (t + 1) / g->threads - s0;
    const int32_t ub = s0 + (int32_t)(share * (k + 1) * (2 * g->per - k - 1) / m2);
    *a = (s0 + (int32_t)(share * k * (2 * g->per - k) / m2)) * g->unit;
    *b = ub * g->unit < g->total ? ub * g->unit : g->total;
}

/* Tensor i of the node's inputs/outputs: NULL when i is out of range or the input is -1. */
el_tensor *el_input(el_context *ctx, const el_node *node, int32_t i);
el_tensor *el_output(el_context *ctx, const el_node *node, int32_t i);

/* prepare only, hosted builds (x86-64, aarch64). When the interpreter folded a PAD into this
 * CONV_2D / DEPTHWISE_CONV_2D (el_interp.c, fold_pad), returns 1 with the padding the PAD
 * added (top, bottom, left, right): input 0 is then the PAD's input (its shape and memory),
 * to be convolved as if padded with zeros that way under VALID padding. Else returns 0. */
int el_folded_pad(el_context *ctx, const el_node *reader, int32_t pads[4]);

/* Quantization params of the node's input/output i (prepare only; count 0 if none/absent). */
el_status el_get_input_quant(el_context *ctx, const el_node *node, int32_t i, el_quant *out);
el_status el_get_output_quant(el_context *ctx, const el_node *node, int32_t i, el_quant *out);

/* Sparsity of the node's input i (EL_TENSOR_SPARSE; prepare and invoke: reads the model). */
el_status el_get_input_sparsity(el_context *ctx, const el_node *node, int32_t i, el_sparsity *out);

/* prepare only. Persistent, zero-filled, 8-aligned bytes; also stored in node->op_data (each
 * call replaces node->op_data; memory from earlier calls of the same prepare stays valid).
 * NULL when the arena is exhausted: return EL_ERROR_ARENA_TOO_SMALL then (the interpreter
 * completes the message). A kernel reads only its own node's op data: when the arena has run
 * out, the interpreter keeps preparing to measure the size it needs and reuses op data memory
 * between nodes. */
void *el_alloc_op_data(el_context *ctx, el_node *node, size_t bytes);

/* prepare only. Reserves bytes of scratch for this node's invoke (replaces an earlier request
 * of the same node; the largest of several calls is kept). */
el_status el_request_scratch(el_context *ctx, el_node *node, size_t bytes);

/* Formats "op #<index> <OPNAME>: <reason>" into the interpreter's message; returns status. */
el_status el_kernel_error(el_context *ctx, const el_node *node, el_status status, const char *fmt,
                          ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---------------------------------------------------------------- registration */

#define EL_KERNEL_INPLACE 1u /* output 0 may share input 0's memory (see above) */

typedef struct el_kernel {
    int32_t builtin_code;                                 /* EL_OP_* this kernel runs */
    uint32_t flags;                                       /* EL_KERNEL_* */
    el_status (*prepare)(el_context *ctx, el_node *node); /* may be NULL: nothing to check */
    el_status (*invoke)(el_context *ctx, el_node *node);  /* never NULL */
} el_kernel;

/* Provided by runtime_micro/kernels/ (see top of this file). */
const el_kernel *el_find_kernel(int32_t builtin_code);
/* Hosted CPUs, el_init after prepare: gives the prepared float32 CONV_2D or
 * DEPTHWISE_CONV_2D `conv`, whose fused activation is NONE, the fused activation `act`
 * (EL_ACT_RELU, EL_ACT_RELU_N1_TO_1, EL_ACT_RELU6); returns whether it did
 * (kernels/conv_common.c; el_interp.c folds a RELU that alone reads the conv's output). */
int el_conv_fold_activation(el_context *ctx, el_node *conv, int32_t act);
/* Also provided by the kernels library (kernels/sparse.c), for sparse tensors:
 * el_sparse_node_check runs before the prepare of a node with a sparse input and refuses
 * every op and input that cannot take one; el_sparse_weights_ok says whether `consumer` can
 * read the sparse weights `sp` directly (the interpreter then skips a DENSIFY feeding it). */
el_status el_sparse_node_check(el_context *ctx, el_node *node);
int el_sparse_weights_ok(el_context *ctx, const el_node *consumer, const el_sparsity *sp);
/* Hosted CPUs: the dense float32 values of a DENSIFY of float16 values (zeros where nothing
 * is stored), what a DEQUANTIZE of its output would write, into dst (the tensor's elements),
 * so el_init computes the pair once (el_interp.c, fold_densify_dequantize_f16). */
el_status el_sparse_densify_f16_f32(el_context *ctx, el_node *densify, float *dst);
/* The kernel of a CUSTOM op by its custom_code, or NULL (only MediaPipe's
 * "Convolution2DTransposeBias" today). */
const el_kernel *el_find_custom_kernel(const char *custom_code);

#ifdef __cplusplus
}
#endif

#endif /* EL_KERNEL_H */
