/* Optimized float32 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / MAX_POOL_2D: run-time choice between
 * the AVX2 and NEON instances of f32_body.h; other CPUs keep the reference. */
#include "opt_internal.h"

int el_opt_conv2d_f32(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                      const float *in, const el_dims *f_dims, const float *filter,
                      const float *bias, const el_dims *out_dims, float *out)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return el_opt_conv2d_f32_avx2(p, in_dims, in, f_dims, filter, bias, out_dims, out);
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_NEON) {
        return el_opt_conv2d_f32_neon(p, in_dims, in, f_dims, filter, bias, out_dims, out);
    }
#endif
    (void)p, (void)in_dims, (void)in, (void)f_dims, (void)filter, (void)bias, (void)out_dims;
    (void)out;
    return 0;
}

int el_opt_depthwise_conv2d_f32(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                                const float *in, const el_dims *f_dims, const float *filter,
                                const float *bias, const el_dims *out_dims, float *out)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return el_opt_depthwise_f32_avx2(p, in_dims, in, f_dims, filter, bias, out_dims, out);
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_NEON) {
        return el_opt_depthwise_f32_neon(p, in_dims, in, f_dims, filter, bias, out_dims, out);
    }
#endif
    (void)p, (void)in_dims, (void)in, (void)f_dims, (void)filter, (void)bias, (void)out_dims;
    (void)out;
    return 0;
}

int el_opt_fully_connected_f32(uint32_t isa, const el_fc_params *p, int32_t batches, int32_t depth,
                               const float *in, int32_t units, const float *filter,
                               const float *bias, float *out)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return el_opt_fc_f32_avx2(p, batches, depth, in, units, filter, bias, out);
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_NEON) {
        return el_opt_fc_f32_neon(p, batches, depth, in, units, filter, bias, out);
    }
#endif
    (void)p, (void)batches, (void)depth, (void)in, (void)units, (void)filter, (void)bias;
    (void)out;
    return 0;
}

int el_opt_maxpool_f32(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                       const float *in, const el_dims *out_dims, float *out)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return el_opt_maxpool_f32_avx2(p, in_dims, in, out_dims, out);
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_NEON) {
        return el_opt_maxpool_f32_neon(p, in_dims, in, out_dims, out);
    }
#endif
    (void)p, (void)in_dims, (void)in, (void)out_dims, (void)out;
    return 0;
}
