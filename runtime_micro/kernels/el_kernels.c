/* The kernel table: el_find_kernel (see src/el_kernel.h). One entry per builtin op code.
 *
 * Firmware that runs known models can keep only their kernels: compile with
 * -DEL_KERNELS_SELECTED and put a header el_kernels_selected.h on the include path that
 * defines EL_KERNEL_LIST(X) as X(conv_2d) X(fully_connected) ... (names as below); with
 * --gc-sections the other kernels then drop out of the image. A model using an op outside the
 * list fails el_init with EL_ERROR_UNSUPPORTED naming the op. The interpreter's own ops
 * (CALL_ONCE and the resource variables, src/el_control.c) are then left out too unless that
 * header also defines EL_CONTROL_KERNELS. The header may also leave out tensor types and sparse
 * tensors (EL_WITHOUT_FLOAT32, EL_WITHOUT_INT16, EL_WITHOUT_SPARSE) and, with EL_KERNEL_FLAGS
 * and EL_WITH_<name> 1 per kept kernel, the branches of the other ops in a family file
 * (EL_WITH, src/el_kernel.h). `edgelite export` writes the header for a model. */
#include <string.h>

#include "el_kcommon.h"

#define EL_K(name) extern const el_kernel el_kernel_##name;
#ifdef EL_KERNELS_SELECTED
#include "el_kernels_selected.h"
#else
#define EL_KERNEL_LIST(X)                                                                      \
    X(abs) X(add) X(average_pool_2d) X(batch_matmul) X(cast) X(concatenation) X(conv_2d)        \
    X(depth_to_space) X(depthwise_conv_2d) X(dequantize) X(div) X(elu) X(exp) X(expand_dims)   \
    X(fully_connected) X(gather) X(gelu) X(hard_swish) X(leaky_relu) X(log) X(log_softmax)     \
    X(logistic) X(max_pool_2d) X(maximum) X(mean) X(minimum) X(mul) X(neg) X(pad) X(padv2)     \
    X(pow) X(prelu) X(quantize) X(reduce_max) X(relu) X(relu6) X(relu_n1_to_1) X(reshape)      \
    X(resize_bilinear) X(resize_nearest_neighbor) X(rsqrt) X(slice) X(softmax)                 \
    X(space_to_depth) X(split) X(split_v) X(sqrt) X(squared_difference) X(squeeze)             \
    X(strided_slice) X(sub) X(sum) X(tanh) X(transpose) X(transpose_conv)                      \
    X(floor) X(ceil) X(round) X(sin) X(cos) X(square) X(sign) X(relu_0_to_1) X(floor_div)      \
    X(floor_mod) X(atan2) X(reduce_min) X(reduce_prod) X(reduce_any) X(reduce_all) X(less)     \
    X(less_equal) X(greater) X(greater_equal) X(equal) X(not_equal) X(logical_and)             \
    X(logical_or) X(logical_not) X(select) X(select_v2) X(tile) X(broadcast_to) X(mirror_pad)  \
    X(reverse_v2) X(shape) X(zeros_like) X(arg_max) X(arg_min) X(pack) X(unpack)              \
    X(space_to_batch_nd) X(batch_to_space_nd) X(l2_pool_2d) X(l2_normalization) X(gather_nd)   \
    X(topk_v2) X(local_response_normalization) X(cumsum) X(one_hot)  \
    X(densify)
#endif

EL_KERNEL_LIST(EL_K)
#undef EL_K

#define EL_KP(name) &el_kernel_##name,
static const el_kernel *const k_kernels[] = {EL_KERNEL_LIST(EL_KP)};
#undef EL_KP

const el_kernel *el_find_kernel(int32_t builtin_code)
{
    size_t i;
    for (i = 0; i < sizeof(k_kernels) / sizeof(k_kernels[0]); ++i) {
        if (k_kernels[i]->builtin_code == builtin_code) {
            return k_kernels[i];
        }
    }
    return NULL;
}

/* Custom ops: looked up by name. Firmware with -DEL_KERNELS_SELECTED keeps one only when its
 * list header also defines EL_KERNEL_CUSTOM_TCONV_BIAS. */
#if !defined(EL_KERNELS_SELECTED) || defined(EL_KERNEL_CUSTOM_TCONV_BIAS)
extern const el_kernel el_kernel_custom_tconv_bias;
#endif

const el_kernel *el_find_custom_kernel(const char *custom_code)
{
#if !defined(EL_KERNELS_SELECTED) || defined(EL_KERNEL_CUSTOM_TCONV_BIAS)
    if (custom_code != NULL && strcmp(custom_code, "Convolution2DTransposeBias") == 0) {
        return &el_kernel_custom_tconv_bias;
    }
#else
    (void)custom_code;
#endif
    return NULL;
}
