/* The kernel table: el_find_kernel (see src/el_kernel.h). One entry per builtin op code.
 *
 * Firmware that runs known models can keep only their kernels: compile with
 * -DEL_KERNELS_SELECTED and put a header el_kernels_selected.h on the include path that
 * defines EL_KERNEL_LIST(X) as X(conv_2d) X(fully_connected) ... (the kernel names of the op
 * table, src/el_op_table.h); with --gc-sections the other kernels then drop out of the image. A model using an op outside the
 * list fails el_init with EL_ERROR_UNSUPPORTED naming the op. The interpreter's own ops
 * (CALL_ONCE and the resource variables, src/el_control.c) are then left out too unless that
 * header also defines EL_CONTROL_KERNELS. The header may also leave out tensor types and sparse
 * tensors (EL_WITHOUT_FLOAT32, EL_WITHOUT_INT16, EL_WITHOUT_SPARSE) and, with EL_KERNEL_FLAGS
 * and EL_WITH_<name> 1 per kept kernel, the branches of the other ops in a family file
 * (EL_WITH, src/el_kernel.h). `edgelite export` writes the header for a model. */
#include <string.h>

#include "el_kcommon.h"

#define EL_K(name) extern const el_kernel el_kernel_##name;
#define EL_KP(name) &el_kernel_##name,
#ifdef EL_KERNELS_SELECTED
#include "el_kernels_selected.h"
EL_KERNEL_LIST(EL_K)
static const el_kernel *const k_kernels[] = {EL_KERNEL_LIST(EL_KP)};
#else
/* every kernel of the op table (src/el_op_table.h): its KOPT and KOP rows */
#define EL_K_KOPT(NAME, code, kernel, type, st, fields) EL_K(kernel)
#define EL_K_KOP(NAME, code, kernel) EL_K(kernel)
#define EL_KP_KOPT(NAME, code, kernel, type, st, fields) EL_KP(kernel)
#define EL_KP_KOP(NAME, code, kernel) EL_KP(kernel)
#define EL_NO_OPT(NAME, code, type, st, fields)
#define EL_NO_OP(NAME, code)
EL_OP_TABLE(EL_K_KOPT, EL_K_KOP, EL_NO_OPT, EL_NO_OP)
static const el_kernel *const k_kernels[] = {
    EL_OP_TABLE(EL_KP_KOPT, EL_KP_KOP, EL_NO_OPT, EL_NO_OP)};
#endif
#undef EL_K
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
