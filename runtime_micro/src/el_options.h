/* Parsing of TFLite builtin options into the el_*_options structs of el_kernel.h. */
#ifndef EL_OPTIONS_H
#define EL_OPTIONS_H

#include "el_internal.h"

/* CALL_ONCE (CallOnceOptions), handled by the interpreter */
typedef struct el_call_once_options {
    int32_t init_subgraph_index;
} el_call_once_options;

/* IF (IfOptions) and WHILE (WhileOptions), handled by the interpreter: subgraph indices,
 * checked by el_model_build (in range, no recursion) */
typedef struct el_if_options {
    int32_t then_subgraph_index, else_subgraph_index;
} el_if_options;
typedef struct el_while_options {
    int32_t cond_subgraph_index, body_subgraph_index;
} el_while_options;

/* VAR_HANDLE (VarHandleOptions), handled by the interpreter; strings live in the model */
typedef struct el_var_handle_options {
    const char *container, *shared_name;
} el_var_handle_options;

/* Checks the options of operator table `op` against builtin `code` (model options type must be
 * the one the op uses, or absent: schema defaults apply). When node != NULL the parsed struct is
 * placed in persistent memory (shared with an earlier node of [first_node, node) with the same
 * op and equal options) and node->options points to it. */
el_status el_options_parse(el_context *ctx, int32_t code, const el_table *op, el_node *node,
                           const el_node *first_node, const char *what);

/* A CUSTOM op: `custom_code` must name a kernel runtime_micro has (el_find_custom_kernel) and
 * its raw custom_options (`bytes`, `count`) must be what that kernel reads; when node != NULL
 * the parsed options go to persistent memory and node->kernel is set. */
el_status el_custom_options_parse(el_context *ctx, const char *custom_code, const uint8_t *bytes,
                                  uint32_t count, el_node *node, const char *what);

#endif /* EL_OPTIONS_H */
