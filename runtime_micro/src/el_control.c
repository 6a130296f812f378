/* Ops that need the interpreter's internals: CALL_ONCE (runs an init subgraph on the first
 * invoke), IF and WHILE (run other subgraphs), and resource variables (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE), whose values
 * persist across invokes in storage of their own (not in the planned arena).
 *
 * A resource is identified by its VAR_HANDLE's (container, shared_name); handles with equal
 * names in different subgraphs are the same variable (that is how an init subgraph sets the
 * initial state the main subgraph reads). Sizes are fixed at prepare: every READ and ASSIGN of
 * a resource must use the same dtype and byte size. */
#include "el_options.h"
#ifdef EL_KERNELS_SELECTED
#include "el_kernels_selected.h" /* defines EL_CONTROL_KERNELS when the model uses these ops */
#endif
#if !defined(EL_KERNELS_SELECTED) || defined(EL_CONTROL_KERNELS)
#define EL_HAVE_CONTROL_KERNELS 1
#else
#define EL_HAVE_CONTROL_KERNELS 0 /* --gc-sections drops them: about 1.5 KB on Cortex-M */
#endif

/* These ops keep their one small state value in node->op_data itself (no arena bytes):
 * CALL_ONCE: NULL until the init subgraph ran; VAR_HANDLE: resource id + 1. */
static int32_t handle_id(const el_node *n)
{
    return (int32_t)((uintptr_t)n->op_data - 1u);
}

/* A VAR_HANDLE's output always holds the same resource id, so it points at this read-only
 * table instead of taking arena bytes (the reader guarantees no other op writes it). */
#define EL_MAX_RESOURCES 64
static const int32_t k_resource_ids[EL_MAX_RESOURCES] = {
#define R4(x) x, x + 1, x + 2, x + 3
#define R16(x) R4(x), R4(x + 4), R4(x + 8), R4(x + 12)
    R16(0), R16(16), R16(32), R16(48)
#undef R16
#undef R4
};

/* ---------------------------------------------------------------- CALL_ONCE */

static el_status call_once_prepare(el_context *ctx, el_node *node)
{
    int32_t target = ((const el_call_once_options *)node->options)->init_subgraph_index;
    const el_subgraph *g = &ctx->subgraphs[target];
    if (node->n_inputs != 0 || node->n_outputs != 0)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL,
                               "expects no inputs and no outputs");
    if (g->n_inputs != 0 || g->n_outputs != 0)
        return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED,
                               "init subgraph %d has inputs or outputs", (int)target);
    return EL_OK;
}

static el_status call_once_invoke(el_context *ctx, el_node *node)
{
    el_status st;
    if (node->op_data != NULL)
        return EL_OK;
    st = el_run_subgraph(ctx, ((const el_call_once_options *)node->options)->init_subgraph_index);
    if (st == EL_OK)
        node->op_data = (void *)(uintptr_t)1u;
    return st;
}

/* ---------------------------------------------------------------- IF / WHILE */

/* Each reachable subgraph has its own planned region (el_plan.c), so a caller copies values
 * into the inputs of the subgraph it runs and copies its outputs back; recursion is refused
 * (el_control_link), so a region is never in use twice. A branch input fed by a constant reads
 * the constant in place (no arena bytes, no copy): onnx-tf passes every weight into its IF
 * branches that way. */

#ifndef EL_MAX_CALL_DEPTH
#define EL_MAX_CALL_DEPTH 16 /* nested IF / WHILE levels: bounds the C stack of invoke */
#endif

int32_t el_control_targets(const el_node *node, int32_t targets[2])
{
    if (node->builtin_code == EL_OP_CALL_ONCE) {
        targets[0] = ((const el_call_once_options *)node->options)->init_subgraph_index;
        return 1;
    }
    if (node->builtin_code == EL_OP_IF) {
        targets[0] = ((const el_if_options *)node->options)->then_subgraph_index;
        targets[1] = ((const el_if_options *)node->options)->else_subgraph_index;
        return 2;
    }
    if (node->builtin_code == EL_OP_WHILE) {
        targets[0] = ((const el_while_options *)node->options)->cond_subgraph_index;
        targets[1] = ((const el_while_options *)node->options)->body_subgraph_index;
        return 2;
    }
    return 0;
}

static int same_shape(const el_tensor *a, const el_tensor *b)
{
    int32_t i;
    if (a->type != b->type || a->rank != b->rank || a->bytes != b->bytes)
        return 0;
    for (i = 0; i < a->rank; ++i)
        if (a->dims[i] != b->dims[i])
            return 0;
    return 1;
}

/* Tensor `t` of the caller (`role` k) against tensor `x` of subgraph sg. */
static el_status match(el_context *ctx, const el_node *node, const el_tensor *t, const char *role,
                       int32_t k, int32_t sg, const char *sg_role, int32_t sk, int32_t x)
{
    const el_tensor *u = &ctx->subgraphs[sg].tensors[x];
    if (t == NULL)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL, "%s %d is absent", role, (int)k);
    if (t->type == EL_RESOURCE || (t->flags & EL_TENSOR_SPARSE))
        return el_fail(ctx, node, EL_ERROR_UNSUPPORTED,
                       "%s %d is a %s tensor: not passed to subgraphs", role, (int)k,
                       t->type == EL_RESOURCE ? "RESOURCE" : "sparse");
    if (!same_shape(t, u))
        return el_fail(
            ctx, node, EL_ERROR_UNSUPPORTED,
            "%s %d (%s, rank %d, %lu bytes) differs from subgraph %d %s %d (%s, rank %d, "
            "%lu bytes): runtime_micro runs subgraphs with static, equal shapes",
            role, (int)k, el_dtype_name(t->type), (int)t->rank, (unsigned long)t->bytes, (int)sg,
            sg_role, (int)sk, el_dtype_name(u->type), (int)u->rank, (unsigned long)u->bytes);
    return EL_OK;
}

/* Node inputs [first, n_inputs) feed subgraph sg's inputs; node outputs (n_out of them, from
 * `outs` or the node's own) take its outputs. */
static el_status check_call(el_context *ctx, const el_node *node, int32_t sg, int32_t first,
                            int32_t n_out, int check_outputs)
{
    const el_subgraph *g = &ctx->subgraphs[sg];
    int32_t k;
    if (g->n_inputs != node->n_inputs - first)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL,
                       "passes %d inputs to subgraph %d, which has %d",
                       (int)(node->n_inputs - first), (int)sg, (int)g->n_inputs);
    if (check_outputs && g->n_outputs != n_out)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL, "has %d outputs, subgraph %d has %d",
                       (int)n_out, (int)sg, (int)g->n_outputs);
    for (k = 0; k < g->n_inputs; ++k) {
        el_status st = match(ctx, node, el_input(ctx, node, first + k), "input", first + k, sg,
                             "input", k, g->inputs[k]);
        if (st != EL_OK)
            return st;
    }
    for (k = 0; check_outputs && k < n_out; ++k) {
        el_status st =
            match(ctx, node, el_output(ctx, node, k), "output", k, sg, "output", k, g->outputs[k]);
        if (st != EL_OK)
            return st;
    }
    return EL_OK;
}

/* IF: a branch input reads the caller's tensor in place. When every caller passes the same
 * constant it becomes that constant (kernels see a constant in prepare); otherwise it is
 * borrowed: no arena bytes, its data pointer set at each invoke. Safe because the IF's inputs
 * stay live and unchanged while the branch runs and no op writes a subgraph input. A
 * subgraph a WHILE runs keeps its own input copies (a body may permute its loop values). */
static void bind_inputs(el_context *ctx, const el_node *node, int32_t sg)
{
    el_subgraph *g = &ctx->subgraphs[sg];
    int32_t k;
    if (g->looped)
        return;
    for (k = 0; k < g->n_inputs; ++k) {
        const el_tensor *t = el_input(ctx, node, 1 + k);
        el_tensor *u = &g->tensors[g->inputs[k]];
        if (u->flags & (EL_TENSOR_BORROWED | EL_TENSOR_VARIABLE))
            continue;
        if ((t->flags & EL_TENSOR_CONST) && (!(u->flags & EL_TENSOR_CONST) || u->data == t->data)) {
            u->data = t->data;
            u->flags |= EL_TENSOR_CONST;
            continue;
        }
        u->data = NULL; /* a computed value, or two callers' different constants */
        u->flags = (uint8_t)((u->flags & ~EL_TENSOR_CONST) | EL_TENSOR_BORROWED);
    }
}

static el_status check_if(el_context *ctx, el_node *node)
{
    const el_if_options *o = (const el_if_options *)node->options;
    const el_tensor *cond = el_input(ctx, node, 0);
    int32_t b;
    if (node->n_inputs < 1 || cond == NULL)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL, "has no condition input");
    if (cond->type != EL_BOOL || cond->bytes != 1)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL,
                       "condition must be one BOOL, not %s of %lu bytes", el_dtype_name(cond->type),
                       (unsigned long)cond->bytes);
    for (b = 0; b < 2; ++b) {
        int32_t sg = b ? o->else_subgraph_index : o->then_subgraph_index;
        el_status st = check_call(ctx, node, sg, 1, node->n_outputs, 1);
        if (st != EL_OK)
            return st;
        bind_inputs(ctx, node, sg);
    }
    return EL_OK;
}

static el_status check_while(el_context *ctx, el_node *node)
{
    const el_while_options *o = (const el_while_options *)node->options;
    const el_subgraph *c = &ctx->subgraphs[o->cond_subgraph_index];
    const el_tensor *flag;
    int32_t k;
    el_status st;
    if (node->n_inputs != node->n_outputs)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL,
                       "has %d inputs and %d outputs (must be equal)", (int)node->n_inputs,
                       (int)node->n_outputs);
    for (k = 0; k < node->n_inputs; ++k) {
        st = match(ctx, node, el_input(ctx, node, k), "input", k, node->subgraph, "output", k,
                   node->outputs[k]);
        if (st != EL_OK)
            return st;
    }
    st = check_call(ctx, node, o->cond_subgraph_index, 0, 1, 0);
    if (st == EL_OK)
        st = check_call(ctx, node, o->body_subgraph_index, 0, node->n_outputs, 1);
    if (st != EL_OK)
        return st;
    if (c->n_outputs != 1)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL,
                       "condition subgraph %d has %d outputs (needs 1)",
                       (int)o->cond_subgraph_index, (int)c->n_outputs);
    flag = &c->tensors[c->outputs[0]];
    if (flag->type != EL_BOOL || flag->bytes != 1)
        return el_fail(ctx, node, EL_ERROR_INVALID_MODEL,
                       "condition subgraph %d must output one BOOL, not %s of %lu bytes",
                       (int)o->cond_subgraph_index, el_dtype_name(flag->type),
                       (unsigned long)flag->bytes);
    return EL_OK;
}

el_status el_control_link(el_context *ctx)
{
    int32_t sg, i, k, pass, n_reachable = 0, changed = 1;
    const el_node *last = NULL;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg)
        n_reachable += ctx->subgraphs[sg].reachable != 0;
    /* Longest call chain by relaxation: settles within n_reachable passes unless a subgraph
   * reaches itself (no stack, no recursion, bounded work). */
    for (pass = 0; pass <= n_reachable && changed; ++pass) {
        changed = 0;
        for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
            const el_subgraph *g = &ctx->subgraphs[sg];
            if (!g->reachable)
                continue;
            for (i = 0; i < g->n_nodes; ++i) {
                int32_t targets[2], nt = el_control_targets(&g->nodes[i], targets);
                for (k = 0; k < nt; ++k)
                    if (ctx->subgraphs[targets[k]].depth < g->depth + 1) {
                        ctx->subgraphs[targets[k]].depth = g->depth + 1;
                        changed = 1;
                        last = &g->nodes[i];
                    }
            }
        }
    }
    if (changed)
        return el_fail(ctx, last, EL_ERROR_INVALID_MODEL,
                       "subgraphs call each other in a cycle (recursion is not supported)");
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        if (g->depth > EL_MAX_CALL_DEPTH)
            return el_fail(ctx, NULL, EL_ERROR_UNSUPPORTED,
                           "subgraph %d is nested %d calls deep (runtime_micro allows %d)", (int)sg,
                           (int)g->depth, EL_MAX_CALL_DEPTH);
    }
    if (!EL_HAVE_CONTROL_KERNELS)
        return EL_OK; /* el_init refuses IF / WHILE by name */
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        const el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        for (i = 0; i < g->n_nodes; ++i) {
            int32_t targets[2];
            if (g->nodes[i].builtin_code != EL_OP_WHILE)
                continue;
            (void)el_control_targets(&g->nodes[i], targets);
            ctx->subgraphs[targets[0]].looped = ctx->subgraphs[targets[1]].looped = 1;
        }
    }
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        el_subgraph *g = &ctx->subgraphs[sg];
        if (!g->reachable)
            continue;
        for (i = 0; i < g->n_nodes; ++i) {
            el_node *n = &g->nodes[i];
            el_status st = EL_OK;
            if (n->builtin_code == EL_OP_IF)
                st = check_if(ctx, n);
            if (n->builtin_code == EL_OP_WHILE)
                st = check_while(ctx, n);
            if (st != EL_OK)
                return st;
        }
    }
    return EL_OK;
}

/* Copies n tensors between two index lists of (possibly different) subgraphs. */
static void copy_tensors(el_context *ctx, int32_t dst_sg, const int32_t *dst, int32_t src_sg,
                         const int32_t *src, int32_t n)
{
    int32_t k;
    for (k = 0; k < n; ++k) {
        el_tensor *d = &ctx->subgraphs[dst_sg].tensors[dst[k]];
        const el_tensor *s = &ctx->subgraphs[src_sg].tensors[src[k]];
        if (d->data != s->data && d->bytes)
            memcpy(d->data, s->data, d->bytes);
    }
}

static el_status if_invoke(el_context *ctx, el_node *node)
{
    const el_if_options *o = (const el_if_options *)node->options;
    const el_tensor *cond = el_input(ctx, node, 0);
    int32_t sg = *(const uint8_t *)cond->data ? o->then_subgraph_index : o->else_subgraph_index;
    const el_subgraph *g = &ctx->subgraphs[sg];
    el_status st;
    int32_t k;
    for (k = 0; k < g->n_inputs; ++k) { /* borrowed inputs point at the caller's tensors */
        el_tensor *d = &g->tensors[g->inputs[k]];
        if (d->flags & EL_TENSOR_BORROWED)
            d->data = el_input(ctx, node, 1 + k)->data;
    }
    copy_tensors(ctx, sg, g->inputs, node->subgraph, node->inputs + 1, g->n_inputs);
    st = el_run_subgraph(ctx, sg);
    if (st != EL_OK)
        return st;
    copy_tensors(ctx, node->subgraph, node->outputs, sg, g->outputs, g->n_outputs);
    return EL_OK;
}

/* Like TFLite, a WHILE loops as long as its condition says; a build may cap the iterations
 * (the fuzzer's does, so a mutated condition cannot hang it): 0 = no cap. */
#ifndef EL_WHILE_MAX_ITERATIONS
#define EL_WHILE_MAX_ITERATIONS 0
#endif

/* The loop values live in the WHILE's outputs between iterations. */
static el_status while_invoke(el_context *ctx, el_node *node)
{
    const el_while_options *o = (const el_while_options *)node->options;
    const el_subgraph *c = &ctx->subgraphs[o->cond_subgraph_index];
    const el_subgraph *b = &ctx->subgraphs[o->body_subgraph_index];
    el_status st;
#if EL_WHILE_MAX_ITERATIONS > 0
    unsigned long n = 0;
#endif
    copy_tensors(ctx, node->subgraph, node->outputs, node->subgraph, node->inputs, node->n_inputs);
    for (;;) {
#if EL_WHILE_MAX_ITERATIONS > 0
        if (n++ >= (unsigned long)EL_WHILE_MAX_ITERATIONS)
            return el_fail(ctx, node, EL_ERROR_INVOKE,
                           "stopped after %lu iterations (EL_WHILE_MAX_ITERATIONS)",
                           (unsigned long)EL_WHILE_MAX_ITERATIONS);
#endif
        copy_tensors(ctx, o->cond_subgraph_index, c->inputs, node->subgraph, node->outputs,
                     c->n_inputs);
        st = el_run_subgraph(ctx, o->cond_subgraph_index);
        if (st != EL_OK)
            return st;
        if (!*(const uint8_t *)c->tensors[c->outputs[0]].data)
            return EL_OK;
        copy_tensors(ctx, o->body_subgraph_index, b->inputs, node->subgraph, node->outputs,
                     b->n_inputs);
        st = el_run_subgraph(ctx, o->body_subgraph_index);
        if (st != EL_OK)
            return st;
        copy_tensors(ctx, node->subgraph, node->outputs, o->body_subgraph_index, b->outputs,
                     b->n_outputs);
    }
}

/* ---------------------------------------------------------------- resources */

static int same(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static el_status var_handle_prepare(el_context *ctx, el_node *node)
{
    const el_var_handle_options *o = (const el_var_handle_options *)node->options;
    el_tensor *out = el_output(ctx, node, 0);
    int32_t i;
    if (node->n_inputs != 0 || node->n_outputs != 1)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects 0 inputs and 1 output");
    if (out->type != EL_RESOURCE && out->type != EL_INT32)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "output must be RESOURCE, not %s",
                               el_dtype_name(out->type));
    if (out->bytes != 4)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL,
                               "output must hold one resource id");
    for (i = 0; i < ctx->n_resources; ++i)
        if (same(ctx->resources[i].container, o->container) &&
            same(ctx->resources[i].shared_name, o->shared_name))
            break;
    if (i == ctx->n_resources) {
        if (i >= ctx->max_resources || i >= EL_MAX_RESOURCES)
            return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED,
                                   "more than %d resource variables", EL_MAX_RESOURCES);
        ctx->resources[i].container = o->container;
        ctx->resources[i].shared_name = o->shared_name;
        ctx->resources[i].dtype = -1;
        ++ctx->n_resources;
    }
    node->op_data = (void *)(uintptr_t)(uint32_t)(i + 1);
    out->data = (void *)(uintptr_t)&k_resource_ids[i];
    out->flags |= EL_TENSOR_CONST; /* not planned: see k_resource_ids */
    return EL_OK;
}

static el_status var_handle_invoke(el_context *ctx, el_node *node)
{
    (void)ctx;
    (void)node; /* the output already points at its id */
    return EL_OK;
}

/* The resource read by input 0: its producer must be a VAR_HANDLE of the same subgraph. */
static el_status resource_of(el_context *ctx, el_node *node, const el_tensor *value,
                             el_resource **out)
{
    const el_subgraph *g = &ctx->subgraphs[node->subgraph];
    int32_t x = node->n_inputs > 0 ? node->inputs[0] : -1;
    int32_t i;
    el_resource *r;
    if (x < 0)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "missing resource input");
    for (i = 0; i < el_node_index(ctx, node); ++i) {
        const el_node *p = &g->nodes[i];
        if (p->builtin_code == EL_OP_VAR_HANDLE && p->n_outputs == 1 && p->outputs[0] == x)
            break;
    }
    if (i == el_node_index(ctx, node))
        return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED,
                               "input 0 must come from a VAR_HANDLE of the same subgraph");
    r = &ctx->resources[handle_id(&g->nodes[i])];
    if (r->dtype < 0) {
        r->dtype = value->type;
        r->bytes = value->bytes;
    } else if (r->dtype != value->type || r->bytes != value->bytes) {
        return el_kernel_error(
            ctx, node, EL_ERROR_INVALID_MODEL,
            "variable '%s' is %s of %lu bytes here but %s of %lu bytes elsewhere", r->shared_name,
            el_dtype_name(value->type), (unsigned long)value->bytes, el_dtype_name(r->dtype),
            (unsigned long)r->bytes);
    }
    *out = r;
    return EL_OK;
}

static el_status read_variable_prepare(el_context *ctx, el_node *node)
{
    el_resource *r;
    if (node->n_inputs != 1 || node->n_outputs != 1)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects 1 input and 1 output");
    return resource_of(ctx, node, el_output(ctx, node, 0), &r);
}

static el_status assign_variable_prepare(el_context *ctx, el_node *node)
{
    el_resource *r;
    el_tensor *value = el_input(ctx, node, 1);
    if (node->n_inputs != 2 || node->n_outputs != 0 || value == NULL)
        return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects 2 inputs and no output");
    return resource_of(ctx, node, value, &r);
}

/* Resource ids are written by VAR_HANDLE only, yet checked: invoke never trusts memory. */
static el_resource *resource_at(el_context *ctx, el_node *node, size_t bytes)
{
    int32_t id;
    memcpy(&id, el_input(ctx, node, 0)->data, 4);
    if (id < 0 || id >= ctx->n_resources || ctx->resources[id].bytes != bytes ||
        ctx->resources[id].data == NULL)
        return NULL;
    return &ctx->resources[id];
}

static el_status read_variable_invoke(el_context *ctx, el_node *node)
{
    el_tensor *out = el_output(ctx, node, 0);
    el_resource *r = resource_at(ctx, node, out->bytes);
    if (r == NULL)
        return el_kernel_error(ctx, node, EL_ERROR_INVOKE, "invalid resource id");
    memcpy(out->data, r->data, out->bytes);
    return EL_OK;
}

static el_status assign_variable_invoke(el_context *ctx, el_node *node)
{
    el_tensor *value = el_input(ctx, node, 1);
    el_resource *r = resource_at(ctx, node, value->bytes);
    if (r == NULL)
        return el_kernel_error(ctx, node, EL_ERROR_INVOKE, "invalid resource id");
    memcpy(r->data, value->data, value->bytes);
    return EL_OK;
}

static const el_kernel k_call_once = {EL_OP_CALL_ONCE, 0, call_once_prepare, call_once_invoke};
static const el_kernel k_if = {EL_OP_IF, 0, NULL, if_invoke};
static const el_kernel k_while = {EL_OP_WHILE, 0, NULL, while_invoke};
static const el_kernel k_var_handle = {EL_OP_VAR_HANDLE, 0, var_handle_prepare, var_handle_invoke};
static const el_kernel k_read = {EL_OP_READ_VARIABLE, 0, read_variable_prepare,
                                 read_variable_invoke};
static const el_kernel k_assign = {EL_OP_ASSIGN_VARIABLE, 0, assign_variable_prepare,
                                   assign_variable_invoke};

const el_kernel *el_control_kernel(int32_t builtin_code)
{
    if (!EL_HAVE_CONTROL_KERNELS)
        return NULL; /* then el_init refuses the op by name */
    switch (builtin_code) {
    case EL_OP_CALL_ONCE:
        return &k_call_once;
    case EL_OP_IF:
        return &k_if;
    case EL_OP_WHILE:
        return &k_while;
    case EL_OP_VAR_HANDLE:
        return &k_var_handle;
    case EL_OP_READ_VARIABLE:
        return &k_read;
    case EL_OP_ASSIGN_VARIABLE:
        return &k_assign;
    default:
        return NULL;
    }
}

el_status el_control_reserve_resources(el_context *ctx)
{
    int32_t sg, i, n = 0;
    for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
        if (!ctx->subgraphs[sg].reachable)
            continue;
        for (i = 0; i < ctx->subgraphs[sg].n_nodes; ++i)
            if (ctx->subgraphs[sg].nodes[i].builtin_code == EL_OP_VAR_HANDLE)
                ++n;
    }
    if (n == 0)
        return EL_OK;
    ctx->resources = (el_resource *)el_persist(ctx, sizeof(el_resource) * (size_t)n, 8);
    if (ctx->resources == NULL)
        return EL_ERROR_ARENA_TOO_SMALL;
    ctx->max_resources = n;
    return EL_OK;
}

el_status el_control_allocate_resources(el_context *ctx)
{
    int32_t i;
    el_status st = EL_OK;
    for (i = 0; i < ctx->n_resources; ++i) {
        el_resource *r = &ctx->resources[i];
        if (r->bytes == 0)
            continue;
        r->data = el_persist(ctx, r->bytes, 16);
        if (r->data == NULL)
            st = EL_ERROR_ARENA_TOO_SMALL; /* keep counting the rest */
    }
    return st;
}

void el_control_reset(el_context *ctx)
{
    int32_t i;
    const el_subgraph *g = &ctx->subgraphs[0];
    for (i = 0; i < ctx->n_resources; ++i)
        if (ctx->resources[i].data)
            memset(ctx->resources[i].data, 0, ctx->resources[i].bytes);
    for (i = 0; i < g->n_nodes; ++i)
        if (g->nodes[i].builtin_code == EL_OP_CALL_ONCE)
            g->nodes[i].op_data = NULL;
}
