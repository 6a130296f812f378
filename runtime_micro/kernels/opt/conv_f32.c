/* Optimized float32 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED / MAX_POOL_2D: run-time choice between
 * the AVX2 and NEON instances of f32_body.h (CONV_2D and DEPTHWISE_CONV_2D: AVX-512F's where
 * the CPU has it, CONV_2D on AVX2's panel layout); other CPUs keep the reference. */
#include "opt_internal.h"

size_t el_opt_conv2d_f32_packed_bytes(uint32_t isa, const el_dims *in_dims, const el_dims *f_dims)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX512F)
    if ((isa & EL_OPT_ISA_AVX2) && (isa & EL_OPT_ISA_AVX512F)) {
        return el_opt_conv2d_f32_packed_avx512f(in_dims, f_dims) * sizeof(float);
    }
#endif
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return el_opt_conv2d_f32_packed_avx2(in_dims, f_dims) * sizeof(float);
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_NEON) {
        return el_opt_conv2d_f32_packed_neon(in_dims, f_dims) * sizeof(float);
    }
#endif
    (void)in_dims, (void)f_dims;
    return 0;
}

void el_opt_conv2d_f32_pack(uint32_t isa, const el_dims *in_dims, const el_dims *f_dims,
                            const float *filter, float *packed)
{
#if defined(EL_OPT_HAVE_AVX512F)
    if ((isa & EL_OPT_ON) && (isa & EL_OPT_ISA_AVX2) && (isa & EL_OPT_ISA_AVX512F)) {
        el_opt_conv2d_f32_pack_avx512f(in_dims, f_dims, filter, packed);
        return;
    }
#endif
#if defined(EL_OPT_HAVE_AVX2)
    if ((isa & EL_OPT_ON) && (isa & EL_OPT_ISA_AVX2)) {
        el_opt_conv2d_f32_pack_avx2(in_dims, f_dims, filter, packed);
        return;
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if ((isa & EL_OPT_ON) && (isa & EL_OPT_ISA_NEON)) {
        el_opt_conv2d_f32_pack_neon(in_dims, f_dims, filter, packed);
        return;
    }
#endif
    (void)isa, (void)in_dims, (void)f_dims, (void)filter, (void)packed;
}

int el_opt_conv2d_f32_cols(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                           const float *in, const el_dims *f_dims, const float *filter,
                           const float *packed, const float *bias, const el_dims *out_dims,
                           float *out, int32_t c0, int32_t c1)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX512F)
    if ((isa & EL_OPT_ISA_AVX2) && (isa & EL_OPT_ISA_AVX512F)) {
        return el_opt_conv2d_f32_avx512f(p, in_dims, in, f_dims, filter, packed, bias, out_dims,
                                         out, c0, c1);
    }
#endif
#if defined(EL_OPT_HAVE_AVX2)
    if (isa & EL_OPT_ISA_AVX2) {
        return el_opt_conv2d_f32_avx2(p, in_dims, in, f_dims, filter, packed, bias, out_dims, out,
                                      c0, c1);
    }
#endif
#if defined(EL_OPT_HAVE_NEON)
    if (isa & EL_OPT_ISA_NEON) {
        return el_opt_conv2d_f32_neon(p, in_dims, in, f_dims, filter, packed, bias, out_dims, out,
                                      c0, c1);
    }
#endif
    (void)p, (void)in_dims, (void)in, (void)f_dims, (void)filter, (void)packed, (void)bias;
    (void)out_dims, (void)out, (void)c0, (void)c1;
    return 0;
}

int el_opt_depthwise_conv2d_f32(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                                const float *in, const el_dims *f_dims, const float *filter,
                                const float *bias, const el_dims *out_dims, float *out)
{
    if (!(isa & EL_OPT_ON)) {
        return 0;
    }
#if defined(EL_OPT_HAVE_AVX512F)
    /* 16-channel vectors; fewer channels would run in scalar there */
    if ((isa & EL_OPT_ISA_AVX2) && (isa & EL_OPT_ISA_AVX512F) && out_dims->c >= 16) {
        return el_opt_depthwise_f32_avx512f(p, in_dims, in, f_dims, filter, bias, out_dims, out);
    }
#endif
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
