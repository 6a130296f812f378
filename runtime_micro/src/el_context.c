/* The context layer: what every other file of runtime_micro/src and the kernels call on an
 * el_context: error messages (el_fail), the arena's persistent part (el_persist, op data,
 * scratch requests), a node's tensors, threads, and running one subgraph's nodes in order.
 * Below it are only el_format.c and el_ops.c (names), so the files stand in layers:
 * format / flatbuffer -> context -> options -> control -> model -> plan -> interpreter. */
#include "el_internal.h"

/* ---------------------------------------------------------------- messages */

uint32_t el_ctx_isa(const el_context *ctx)
{
    return ctx->isa;
}

int32_t el_ctx_threads(const el_context *ctx)
{
    return ctx->num_threads > 1 ? ctx->num_threads : 1;
}

void el_parallel_for(el_context *ctx, int32_t n_tasks, void (*task)(void *arg, int32_t i),
                     void *arg)
{
    int32_t i;
    if (n_tasks <= 0)
        return;
    if (ctx->parallel_for != NULL && n_tasks > 1) {
        ctx->parallel_for(ctx->parallel_pool, n_tasks, task, arg);
        return;
    }
    for (i = 0; i < n_tasks; i++)
        task(arg, i);
}

int32_t el_node_index(const el_context *ctx, const el_node *node)
{
    return (int32_t)(node - ctx->subgraphs[node->subgraph].nodes);
}

static void vfail(el_context *ctx, const el_node *node, const char *fmt, va_list ap)
{
    size_t n = 0;
    if (node != NULL) {
        if (node->subgraph != 0)
            el_format(ctx->message, sizeof(ctx->message),
                      "subgraph %d op #%d %s: ", (int)node->subgraph, (int)el_node_index(ctx, node),
                      el_op_name(node->builtin_code));
        else
            el_format(ctx->message, sizeof(ctx->message),
                      "op #%d %s: ", (int)el_node_index(ctx, node), el_op_name(node->builtin_code));
        n = strlen(ctx->message);
    }
    el_vformat(ctx->message + n, sizeof(ctx->message) - n, fmt, ap);
}

el_status el_fail(el_context *ctx, const el_node *node, el_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ctx, node, fmt, ap);
    va_end(ap);
    return st;
}

el_status el_kernel_error(el_context *ctx, const el_node *node, el_status status, const char *fmt,
                          ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(ctx, node, fmt, ap);
    va_end(ap);
    return status;
}

const char *el_status_name(el_status status)
{
    switch (status) {
    case EL_OK:
        return "EL_OK";
    case EL_ERROR_BAD_ARGUMENT:
        return "EL_ERROR_BAD_ARGUMENT";
    case EL_ERROR_INVALID_MODEL:
        return "EL_ERROR_INVALID_MODEL";
    case EL_ERROR_UNSUPPORTED:
        return "EL_ERROR_UNSUPPORTED";
    case EL_ERROR_ARENA_TOO_SMALL:
        return "EL_ERROR_ARENA_TOO_SMALL";
    case EL_ERROR_INVOKE:
        return "EL_ERROR_INVOKE";
    case EL_ERROR_STATE:
        return "EL_ERROR_STATE";
    default:
        return "EL_ERROR_UNKNOWN";
    }
}

/* ---------------------------------------------------------------- arena */

void *el_persist(el_context *ctx, size_t bytes, size_t align)
{
    size_t off;
    if (bytes > ((size_t)-1) / 4 || ctx->persist_need > ((size_t)-1) / 4) {
        ctx->persist_need = ((size_t)-1) / 2;
        ctx->persist_failed = 1;
        return NULL;
    }
    off = el_align_up(ctx->persist_need, align);
    ctx->persist_need = off + bytes;
    if (ctx->persist_failed || ctx->arena == NULL || ctx->persist_need > ctx->arena_size) {
        ctx->persist_failed = 1; /* from now on only count */
        return NULL;
    }
    ctx->persist_used = ctx->persist_need;
    memset(ctx->arena + off, 0, bytes);
    return ctx->arena + off;
}

/* ---------------------------------------------------------------- kernel context API */

el_tensor *el_input(el_context *ctx, const el_node *node, int32_t i)
{
    int32_t x;
    if (i < 0 || i >= node->n_inputs)
        return NULL;
    x = node->inputs[i];
    if (x < 0)
        return NULL;
    return &ctx->subgraphs[node->subgraph].tensors[x];
}

el_tensor *el_output(el_context *ctx, const el_node *node, int32_t i)
{
    if (i < 0 || i >= node->n_outputs)
        return NULL;
    return &ctx->subgraphs[node->subgraph].tensors[node->outputs[i]];
}

void *el_alloc_op_data(el_context *ctx, el_node *node, size_t bytes)
{
    void *p = el_persist(ctx, bytes ? bytes : 1, 8);
    if (p == NULL && ctx->in_prepare && ctx->arena != NULL) {
        /* The arena ran out: init will fail, but it keeps preparing to measure the exact
     * persistent size. This node's op data goes to the arena from where op data started (the
     * earlier nodes' op data is dead now), reused by the next node: kernels only read their
     * own op data. */
        size_t start = el_align_up(ctx->prepare_base, 8) + ctx->sink_used;
        bytes = el_align_up(bytes ? bytes : 1, 8);
        if (start <= ctx->arena_size && bytes <= ctx->arena_size - start) {
            p = ctx->arena + start;
            memset(p, 0, bytes);
            ctx->sink_used += bytes;
        }
    }
    node->op_data = p;
    return p;
}

el_status el_request_scratch(el_context *ctx, el_node *node, size_t bytes)
{
    if (bytes > 0x7FFFFFFFu)
        return el_fail(ctx, node, EL_ERROR_UNSUPPORTED, "scratch of %lu bytes requested",
                       (unsigned long)bytes);
    /* the size waits in node->scratch until the planner replaces it with the pointer */
    if (bytes > (uintptr_t)node->scratch)
        node->scratch = (void *)(uintptr_t)bytes;
    return EL_OK;
}

/* ---------------------------------------------------------------- running a subgraph */

el_status el_run_subgraph(el_context *ctx, int32_t sg)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    int32_t i;
    for (i = 0; i < g->n_nodes; ++i) {
        el_node *n = &g->nodes[i];
        el_status st;
        if (ctx->callback) {
            st = ctx->callback(ctx->callback_user, sg, i, n->builtin_code, 0);
            if (st != EL_OK)
                return el_fail(ctx, n, st, "stopped by the callback before the op");
        }
        st = n->kernel->invoke(ctx, n);
        if (st != EL_OK) {
            if (ctx->message[0] == '\0')
                el_fail(ctx, n, st, "invoke failed (%s)", el_status_name(st));
            return st;
        }
        if (ctx->callback) {
            st = ctx->callback(ctx->callback_user, sg, i, n->builtin_code, 1);
            if (st != EL_OK)
                return el_fail(ctx, n, st, "stopped by the callback after the op");
        }
    }
    return EL_OK;
}
