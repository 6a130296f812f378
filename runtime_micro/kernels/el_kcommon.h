/* Shared prepare-time helpers of the kernels' glue (<op>_common.c files): argument checks
 * with messages that name the problem, shape conversion, quantization parameter access.
 * Everything here runs in prepare only. */
#ifndef EL_KCOMMON_H
#define EL_KCOMMON_H

#include "../src/el_kernel.h"
#include "el_nn.h"
#include "el_quant.h"

#define EL_TRY(expr)                                                                               \
    do {                                                                                           \
        el_status el_try_s_ = (expr);                                                              \
        if (el_try_s_ != EL_OK) {                                                                  \
            return el_try_s_;                                                                      \
        }                                                                                          \
    } while (0)

#define EL_UNSUP(ctx, node, ...) el_kernel_error((ctx), (node), EL_ERROR_UNSUPPORTED, __VA_ARGS__)
#define EL_BAD(ctx, node, ...) el_kernel_error((ctx), (node), EL_ERROR_INVALID_MODEL, __VA_ARGS__)

/* Input/output counts within [min, max]; every listed input except optional ones present. */
el_status el_k_counts(el_context *ctx, el_node *node, int32_t in_min, int32_t in_max,
                      int32_t out_min, int32_t out_max);
/* Input i present (not -1); returns it through *t. */
el_status el_k_in(el_context *ctx, el_node *node, int32_t i, el_tensor **t);
el_status el_k_out(el_context *ctx, el_node *node, int32_t i, el_tensor **t);
/* dtype check with a message naming the tensor role. */
el_status el_k_type(el_context *ctx, el_node *node, const el_tensor *t, const char *role,
                    int32_t dtype);
el_status el_k_rank(el_context *ctx, el_node *node, const el_tensor *t, const char *role,
                    int32_t rank);
el_status el_k_const(el_context *ctx, el_node *node, const el_tensor *t, const char *role);
/* Same element count (and type) between two tensors. */
el_status el_k_same_elements(el_context *ctx, el_node *node, const el_tensor *a,
                             const el_tensor *b);
int el_k_same_dims(const el_tensor *a, const el_tensor *b);

/* Per-tensor quantization of input/output i: present, scale > 0, zero point in the type's
 * range. */
el_status el_k_qin(el_context *ctx, el_node *node, int32_t i, float *scale, int32_t *zp);
el_status el_k_qout(el_context *ctx, el_node *node, int32_t i, float *scale, int32_t *zp);

/* NHWC view of a rank-4 tensor. */
void el_k_dims4(const el_tensor *t, el_dims *d);
/* Shape of a tensor right-aligned into rank `rank` (leading 1s). rank >= t->rank. */
void el_k_shape(const el_tensor *t, int32_t rank, el_shape *s);
/* Broadcast of two shapes; 0 when incompatible. */
int el_k_broadcast(const el_tensor *a, const el_tensor *b, el_shape *s1, el_shape *s2,
                   el_shape *so);
/* Output dims must equal `want` (rank want->rank). */
el_status el_k_check_out_shape(el_context *ctx, el_node *node, const el_tensor *out,
                               const el_shape *want);

/* TFLite ComputeOutSize / ComputePaddingWithOffset (top/left padding). */
int32_t el_k_out_size(int32_t padding, int32_t in, int32_t filter, int32_t stride,
                      int32_t dilation);
int32_t el_k_padding(int32_t stride, int32_t dilation, int32_t in, int32_t filter, int32_t out);

/* Quantized activation bounds of output 0 for int8/int16 outputs. */
el_status el_k_act_range(el_context *ctx, el_node *node, int32_t act, int32_t dtype,
                         float out_scale, int32_t out_zp, int32_t *lo, int32_t *hi);
el_status el_k_act_range_f(el_context *ctx, el_node *node, int32_t act, float *lo, float *hi);

/* Type limits of int8 / uint8 / int16. */
void el_k_qlimits(int32_t dtype, int32_t *qmin, int32_t *qmax);

/* Data of a tensor by type (invoke). */
#define EL_F32(t) ((float *)(t)->data)
#define EL_S8(t) ((int8_t *)(t)->data)
#define EL_U8(t) ((uint8_t *)(t)->data)
#define EL_S16(t) ((int16_t *)(t)->data)
#define EL_S32(t) ((int32_t *)(t)->data)

#endif
