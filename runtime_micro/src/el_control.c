/* Ops that need the interpreter's internals: CALL_ONCE (runs an init subgraph on the first
 * invoke) and resource variables (VAR_HANDLE / READ_VARIABLE / ASSIGN_VARIABLE), whose values
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
static int32_t handle_id(const el_node *n) { return (int32_t)((uintptr_t)n->op_data - 1u); }

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

static el_status call_once_prepare(el_context *ctx, el_node *node) {
  int32_t target = ((const el_call_once_options *)node->options)->init_subgraph_index;
  const el_subgraph *g = &ctx->subgraphs[target];
  if (node->n_inputs != 0 || node->n_outputs != 0)
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects no inputs and no outputs");
  if (g->n_inputs != 0 || g->n_outputs != 0)
    return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED,
                           "init subgraph %d has inputs or outputs", (int)target);
  return EL_OK;
}

static el_status call_once_invoke(el_context *ctx, el_node *node) {
  el_status st;
  if (node->op_data != NULL) return EL_OK;
  st = el_run_subgraph(ctx, ((const el_call_once_options *)node->options)->init_subgraph_index);
  if (st == EL_OK) node->op_data = (void *)(uintptr_t)1u;
  return st;
}

/* ---------------------------------------------------------------- resources */

static int same(const char *a, const char *b) { return strcmp(a, b) == 0; }

static el_status var_handle_prepare(el_context *ctx, el_node *node) {
  const el_var_handle_options *o = (const el_var_handle_options *)node->options;
  el_tensor *out = el_output(ctx, node, 0);
  int32_t i;
  if (node->n_inputs != 0 || node->n_outputs != 1)
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects 0 inputs and 1 output");
  if (out->type != EL_RESOURCE && out->type != EL_INT32)
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "output must be RESOURCE, not %s",
                           el_dtype_name(out->type));
  if (out->bytes != 4)
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "output must hold one resource id");
  for (i = 0; i < ctx->n_resources; ++i)
    if (same(ctx->resources[i].container, o->container) &&
        same(ctx->resources[i].shared_name, o->shared_name))
      break;
  if (i == ctx->n_resources) {
    if (i >= ctx->max_resources || i >= EL_MAX_RESOURCES)
      return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED, "more than %d resource variables",
                             EL_MAX_RESOURCES);
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

static el_status var_handle_invoke(el_context *ctx, el_node *node) {
  (void)ctx;
  (void)node; /* the output already points at its id */
  return EL_OK;
}

/* The resource read by input 0: its producer must be a VAR_HANDLE of the same subgraph. */
static el_status resource_of(el_context *ctx, el_node *node, const el_tensor *value,
                             el_resource **out) {
  const el_subgraph *g = &ctx->subgraphs[node->subgraph];
  int32_t x = node->n_inputs > 0 ? node->inputs[0] : -1;
  int32_t i;
  el_resource *r;
  if (x < 0) return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "missing resource input");
  for (i = 0; i < el_node_index(ctx, node); ++i) {
    const el_node *p = &g->nodes[i];
    if (p->builtin_code == EL_OP_VAR_HANDLE && p->n_outputs == 1 && p->outputs[0] == x) break;
  }
  if (i == el_node_index(ctx, node))
    return el_kernel_error(ctx, node, EL_ERROR_UNSUPPORTED,
                           "input 0 must come from a VAR_HANDLE of the same subgraph");
  r = &ctx->resources[handle_id(&g->nodes[i])];
  if (r->dtype < 0) {
    r->dtype = value->type;
    r->bytes = value->bytes;
  } else if (r->dtype != value->type || r->bytes != value->bytes) {
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL,
                           "variable '%s' is %s of %lu bytes here but %s of %lu bytes elsewhere",
                           r->shared_name, el_dtype_name(value->type), (unsigned long)value->bytes,
                           el_dtype_name(r->dtype), (unsigned long)r->bytes);
  }
  *out = r;
  return EL_OK;
}

static el_status read_variable_prepare(el_context *ctx, el_node *node) {
  el_resource *r;
  if (node->n_inputs != 1 || node->n_outputs != 1)
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects 1 input and 1 output");
  return resource_of(ctx, node, el_output(ctx, node, 0), &r);
}

static el_status assign_variable_prepare(el_context *ctx, el_node *node) {
  el_resource *r;
  el_tensor *value = el_input(ctx, node, 1);
  if (node->n_inputs != 2 || node->n_outputs != 0 || value == NULL)
    return el_kernel_error(ctx, node, EL_ERROR_INVALID_MODEL, "expects 2 inputs and no output");
  return resource_of(ctx, node, value, &r);
}

/* Resource ids are written by VAR_HANDLE only, yet checked: invoke never trusts memory. */
static el_resource *resource_at(el_context *ctx, el_node *node, size_t bytes) {
  int32_t id;
  memcpy(&id, el_input(ctx, node, 0)->data, 4);
  if (id < 0 || id >= ctx->n_resources || ctx->resources[id].bytes != bytes ||
      ctx->resources[id].data == NULL)
    return NULL;
  return &ctx->resources[id];
}

static el_status read_variable_invoke(el_context *ctx, el_node *node) {
  el_tensor *out = el_output(ctx, node, 0);
  el_resource *r = resource_at(ctx, node, out->bytes);
  if (r == NULL) return el_kernel_error(ctx, node, EL_ERROR_INVOKE, "invalid resource id");
  memcpy(out->data, r->data, out->bytes);
  return EL_OK;
}

static el_status assign_variable_invoke(el_context *ctx, el_node *node) {
  el_tensor *value = el_input(ctx, node, 1);
  el_resource *r = resource_at(ctx, node, value->bytes);
  if (r == NULL) return el_kernel_error(ctx, node, EL_ERROR_INVOKE, "invalid resource id");
  memcpy(r->data, value->data, value->bytes);
  return EL_OK;
}

static const el_kernel k_call_once = {EL_OP_CALL_ONCE, 0, call_once_prepare, call_once_invoke};
static const el_kernel k_var_handle = {EL_OP_VAR_HANDLE, 0, var_handle_prepare, var_handle_invoke};
static const el_kernel k_read = {EL_OP_READ_VARIABLE, 0, read_variable_prepare, read_variable_invoke};
static const el_kernel k_assign = {EL_OP_ASSIGN_VARIABLE, 0, assign_variable_prepare,
                                   assign_variable_invoke};

const el_kernel *el_control_kernel(int32_t builtin_code) {
  if (!EL_HAVE_CONTROL_KERNELS) return NULL; /* then el_init refuses the op by name */
  switch (builtin_code) {
    case EL_OP_CALL_ONCE: return &k_call_once;
    case EL_OP_VAR_HANDLE: return &k_var_handle;
    case EL_OP_READ_VARIABLE: return &k_read;
    case EL_OP_ASSIGN_VARIABLE: return &k_assign;
    default: return NULL;
  }
}

el_status el_control_reserve_resources(el_context *ctx) {
  int32_t sg, i, n = 0;
  for (sg = 0; sg < ctx->n_subgraphs; ++sg) {
    if (!ctx->subgraphs[sg].reachable) continue;
    for (i = 0; i < ctx->subgraphs[sg].n_nodes; ++i)
      if (ctx->subgraphs[sg].nodes[i].builtin_code == EL_OP_VAR_HANDLE) ++n;
  }
  if (n == 0) return EL_OK;
  ctx->resources = (el_resource *)el_persist(ctx, sizeof(el_resource) * (size_t)n, 8);
  if (ctx->resources == NULL) return EL_ERROR_ARENA_TOO_SMALL;
  ctx->max_resources = n;
  return EL_OK;
}

el_status el_control_allocate_resources(el_context *ctx) {
  int32_t i;
  el_status st = EL_OK;
  for (i = 0; i < ctx->n_resources; ++i) {
    el_resource *r = &ctx->resources[i];
    if (r->bytes == 0) continue;
    r->data = el_persist(ctx, r->bytes, 16);
    if (r->data == NULL) st = EL_ERROR_ARENA_TOO_SMALL; /* keep counting the rest */
  }
  return st;
}

void el_control_reset(el_context *ctx) {
  int32_t i;
  const el_subgraph *g = &ctx->subgraphs[0];
  for (i = 0; i < ctx->n_resources; ++i)
    if (ctx->resources[i].data) memset(ctx->resources[i].data, 0, ctx->resources[i].bytes);
  for (i = 0; i < g->n_nodes; ++i)
    if (g->nodes[i].builtin_code == EL_OP_CALL_ONCE) g->nodes[i].op_data = NULL;
}
