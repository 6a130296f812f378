/* el_internal.h: interpreter internals shared by the files of runtime_micro/src (not kernels). */
#ifndef EL_INTERNAL_H
#define EL_INTERNAL_H

#include <stdarg.h>

#include "el_kernel.h"

/* ---------------------------------------------------------------- messages */

/* printf subset (see el_kernel.h); always NUL-terminates when cap > 0. */
void el_vformat(char *dst, size_t cap, const char *fmt, va_list ap);
void el_format(char *dst, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---------------------------------------------------------------- flatbuffer reader */

typedef struct el_fb {
    const uint8_t *buf;
    size_t size;
    char *msg; /* EL_MESSAGE_SIZE bytes */
} el_fb;

typedef struct el_table {
    size_t pos;       /* table start (the soffset to its vtable) */
    size_t vt;        /* vtable start */
    uint16_t vt_size; /* bytes */
    uint16_t size;    /* table bytes (inline part) */
} el_table;

typedef struct el_vec {
    size_t pos; /* first element; meaningless when count == 0 */
    uint32_t count;
} el_vec;

el_status el_fb_fail(el_fb *fb, el_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* Every accessor checks bounds against fb->size and fails with EL_ERROR_INVALID_MODEL and a
 * message naming `what` when the model is malformed. Absent fields give the default. */
el_status el_fb_root(el_fb *fb, el_table *root);
el_status el_fb_u8(el_fb *fb, const el_table *t, int slot, uint8_t def, uint8_t *out,
                   const char *what);
el_status el_fb_i32(el_fb *fb, const el_table *t, int slot, int32_t def, int32_t *out,
                    const char *what);
el_status el_fb_u32(el_fb *fb, const el_table *t, int slot, uint32_t def, uint32_t *out,
                    const char *what);
el_status el_fb_u64(el_fb *fb, const el_table *t, int slot, uint64_t def, uint64_t *out,
                    const char *what);
el_status el_fb_f32(el_fb *fb, const el_table *t, int slot, float def, float *out,
                    const char *what);
/* Sub-table; *present = 0 when the field is absent. */
el_status el_fb_table(el_fb *fb, const el_table *t, int slot, el_table *out, int *present,
                      const char *what);
/* Vector of elem_size-byte scalars whose first element must be aligned to `align` bytes in
 * memory (1 for byte vectors). Absent -> count 0. */
el_status el_fb_vec(el_fb *fb, const el_table *t, int slot, size_t elem_size, size_t align,
                    el_vec *out, const char *what);
/* Element i of a vector of tables. */
el_status el_fb_vec_table(el_fb *fb, const el_vec *v, uint32_t i, el_table *out, const char *what);
/* NUL-terminated string; absent -> "" (a static empty string). */
el_status el_fb_string(el_fb *fb, const el_table *t, int slot, const char **out, const char *what);

/* x rounded up to a multiple of a (a power of two). */
static inline size_t el_align_up(size_t x, size_t a)
{
    return (x + (a - 1)) & ~(a - 1);
}

static inline uint32_t el_rd_u32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline int32_t el_rd_i32(const uint8_t *p)
{
    uint32_t u = el_rd_u32(p);
    int32_t v;
    memcpy(&v, &u, 4);
    return v;
}

/* ---------------------------------------------------------------- interpreter state */

/* An IF branch input that reads its caller's tensor in place: not planned, its data pointer
 * is set by the IF at each invoke (el_control.c). */
#define EL_TENSOR_BORROWED 0x40u
/* The output of a PAD folded into its reader (el_interp.c, fold_pad): never written; its dims
 * and memory are the PAD's input's (el_tensor_info reports the model's shape and no data).
 * el_model.c's EL_TENSOR_READY uses the bit during the build only, before any fold. */
#define EL_TENSOR_FOLDED 0x80u

typedef struct el_subgraph {
    el_tensor *tensors;
    el_node *nodes;
    const int32_t *inputs;  /* in the model */
    const int32_t *outputs; /* in the model */
    int32_t n_tensors, n_nodes, n_inputs, n_outputs;
    el_vec tensor_tables; /* the model's tensors vector (names, quantization) */
    size_t region_offset; /* planned region of this subgraph, from the arena start */
    size_t region_size;
    int32_t reachable; /* subgraph 0 or run by a CALL_ONCE / IF / WHILE of a reachable one
                             (2 once built) */
    int32_t depth;     /* longest chain of IF / WHILE / CALL_ONCE calls reaching it */
    int32_t looped;    /* run by a WHILE: its inputs are copied in, never borrowed */
} el_subgraph;

typedef struct el_resource {
    const char *container;   /* in the model */
    const char *shared_name; /* in the model */
    void *data;              /* persistent, zeroed by el_init / el_reset */
    uint32_t bytes;          /* 0 until an ASSIGN/READ_VARIABLE fixes it in prepare */
    int32_t dtype;           /* -1 until fixed */
} el_resource;

struct el_context {
    el_fb fb;
    const uint8_t *model;
    size_t model_size;
    uint8_t *arena;
    size_t arena_size;
    size_t persist_used;    /* bytes from the arena start (persistent allocations grow up) */
    size_t persist_need;    /* bytes asked for in total (> persist_used once the arena ran out) */
    int32_t persist_failed; /* the arena ran out: persistent allocations only count now */
    int32_t in_prepare;     /* a kernel's prepare is running (see el_alloc_op_data) */
    int32_t prepared;       /* every node's prepare ran (possibly only measuring) */
    size_t prepare_base;    /* persist_used when the prepares started */
    size_t sink_used;       /* measuring after the arena ran out: op data of the current node */
    size_t required;
    int32_t required_exact;
    int32_t ready;
    el_status status;
    el_planner planner;
    el_op_callback callback;
    void *callback_user;
    uint32_t isa; /* EL_ISA_* the kernels may use (see el_ctx_isa) */
    /* el_config's parallel-for (NULL: inline) and split hint (see el_parallel_for) */
    void (*parallel_for)(void *pool, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                         void *arg);
    void *parallel_pool;
    int32_t num_threads;
    el_subgraph *subgraphs;
    int32_t n_subgraphs;
    el_resource *resources;
    int32_t n_resources, max_resources;
    el_vec buffers;        /* the model's buffers vector */
    el_vec opcodes;        /* the model's operator_codes vector */
    el_tensor **variables; /* is_variable tensors (persistent storage), for el_reset */
    int32_t n_variables;
    char message[EL_MESSAGE_SIZE];
};

/* Persistent arena bytes (zeroed, aligned to `align`, a power of two <= 16). NULL when the
 * arena is exhausted; persist_need keeps counting so a lower bound can be reported. */
void *el_persist(el_context *ctx, size_t bytes, size_t align);

/* Sets ctx->message ("subgraph/op" prefix added when node != NULL) and returns st. */
el_status el_fail(el_context *ctx, const el_node *node, el_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* Model reading (el_model.c) ------------------------------------------------------------- */

/* Checks the whole model structure; no memory needed. */
el_status el_model_verify(el_context *ctx);
/* Builds subgraphs, tensors and nodes in persistent memory (after el_model_verify). */
el_status el_model_build(el_context *ctx);
/* Arena lower bounds from the verified model alone (no memory): returns the persistent
 * bookkeeping, *regions gets the planned part. */
size_t el_model_lower_bound(el_context *ctx, size_t *regions);
/* Model tensor table of subgraph sg, tensor index ti (already verified). */
el_status el_model_tensor_table(el_context *ctx, int32_t sg, int32_t ti, el_table *out);
el_status el_model_quant(el_context *ctx, int32_t sg, int32_t ti, el_quant *out);
const char *el_model_tensor_name(el_context *ctx, int32_t sg, int32_t ti);
/* Sparsity of tensor ti (EL_TENSOR_SPARSE in the model; verified): structure only. */
el_status el_model_sparsity(el_context *ctx, int32_t sg, int32_t ti, el_sparsity *out);

/* Control ops handled by the interpreter (el_control.c) ----------------------------------- */

/* The subgraphs node runs (CALL_ONCE: 1, IF / WHILE: 2) into targets; 0 for other ops. */
int32_t el_control_targets(const el_node *node, int32_t targets[2]);
/* After every reachable subgraph is built: refuses recursion and nesting deeper than
 * EL_MAX_CALL_DEPTH, checks every IF / WHILE against the subgraphs it runs (counts, types,
 * shapes) and lets branch inputs fed by constants read the constant in place. */
el_status el_control_link(el_context *ctx);
/* NULL when builtin_code is not one of CALL_ONCE, IF, WHILE, VAR_HANDLE, READ_VARIABLE,
 * ASSIGN_VARIABLE. */
const el_kernel *el_control_kernel(int32_t builtin_code);
/* Before the prepares: the resource table (one entry per VAR_HANDLE, at most). */
el_status el_control_reserve_resources(el_context *ctx);
/* After all prepares: gives each resource its zeroed storage. */
el_status el_control_allocate_resources(el_context *ctx);
void el_control_reset(el_context *ctx);

/* Runs every node of subgraph sg (callback included). */
el_status el_run_subgraph(el_context *ctx, int32_t sg);

/* Planning (el_plan.c) -------------------------------------------------------------------- */

/* Places every non-constant tensor and scratch buffer of the reachable subgraphs; sets
 * ctx->required (exact when the planner's working memory fitted) and, when the arena is large
 * enough, every data / scratch pointer. */
el_status el_plan(el_context *ctx);

#endif /* EL_INTERNAL_H */
