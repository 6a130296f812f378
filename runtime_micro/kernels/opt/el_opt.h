/* Optimized int8 kernels of runtime_micro (kernels/opt/).
 *
 * Each el_opt_* function either computes exactly the bytes the reference kernel of the same
 * op (kernels/reference/) would write and returns 1, or touches nothing and returns 0, in
 * which case the caller runs the reference. They take the same arguments as the reference
 * (see el_nn.h), so the per-op glue is one line:
 *
 *     if (!el_opt_conv2d_s8(...)) { el_conv2d_s8(...); }
 *
 * Why the results are identical: integer accumulation is exact modulo 2^32 in any order, so
 * the kernels may hoist the input offset out of the inner loop (sum f*(x+off) =
 * sum f*x + off*sum f), zero-pad with the input zero point instead of skipping taps (a padded
 * tap then contributes f*(zp+off) = 0), block, and use SIMD products that never saturate
 * (int8*int8 widened to int16 pairs summed into int32). Requantization is TFLite's double
 * rounding, vectorized lane by lane with the same formula as el_requant.
 *
 * Instruction sets, chosen at run time (one binary serves every CPU of its architecture):
 *   x86-64   AVX2 when __builtin_cpu_supports("avx2"), plus a VNNI GEMM (vpdpbusd) when the
 *            CPU has AVX512-VNNI+VL or AVX-VNNI; else portable C (SSE2 by the compiler)
 *   aarch64  NEON always; SDOT when the CPU has the dot-product extension (HWCAP_ASIMDDP)
 *   Cortex-M chosen at compile time: MVE (__ARM_FEATURE_MVE), DSP (__ARM_FEATURE_DSP), or C
 *
 * Stack use: the drivers keep small fixed tiles on the stack (at most EL_OPT_STACK_BYTES,
 * smaller on Cortex-M); nothing is allocated. A layer whose im2col row would not fit falls
 * back to the reference.
 */
#ifndef EL_OPT_H
#define EL_OPT_H

#include "../el_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

int el_opt_conv2d_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                     const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                     const int32_t *bias, const el_dims *out_dims, int8_t *out);
int el_opt_depthwise_conv2d_s8(const el_conv_params *p, const el_pc_quant *q,
                               const el_dims *in_dims, const int8_t *in, const el_dims *f_dims,
                               const int8_t *filter, const int32_t *bias,
                               const el_dims *out_dims, int8_t *out);
int el_opt_fully_connected_s8(const el_fc_params *p, const el_pc_quant *q, int per_channel,
                              int32_t batches, int32_t depth, const int8_t *in, int32_t units,
                              const int8_t *filter, const int32_t *bias, int8_t *out);

/* float32 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (x86 AVX2, aarch64 NEON): the same
 * bits as the reference (each output keeps the reference's sequence of IEEE operations; the
 * build must not contract a * b + c into fused multiply-adds, as ISO C mode guarantees). */
int el_opt_conv2d_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                      const el_dims *f_dims, const float *filter, const float *bias,
                      const el_dims *out_dims, float *out);
int el_opt_depthwise_conv2d_f32(const el_conv_params *p, const el_dims *in_dims,
                                const float *in, const el_dims *f_dims, const float *filter,
                                const float *bias, const el_dims *out_dims, float *out);
int el_opt_fully_connected_f32(const el_fc_params *p, int32_t batches, int32_t depth,
                               const float *in, int32_t units, const float *filter,
                               const float *bias, float *out);

/* ADD / SUB int8 (el_add_s8's arguments); takes equal shapes (no broadcasting). */
int el_opt_add_s8(int is_sub, const el_arith_params *p, const el_shape *s1, const int8_t *in1,
                  const el_shape *s2, const int8_t *in2, const el_shape *so, int8_t *out);

/* AVERAGE_POOL_2D / MAX_POOL_2D int8 (the reference's arguments). */
int el_opt_avgpool_s8(const el_pool_params *p, const el_dims *in_dims, const int8_t *in,
                      const el_dims *out_dims, int8_t *out);
int el_opt_maxpool_s8(const el_pool_params *p, const el_dims *in_dims, const int8_t *in,
                      const el_dims *out_dims, int8_t *out);

/* PAD / PADV2 (el_pad's arguments), any element size. */
int el_opt_pad(size_t elem, const el_shape *in_shape, const int32_t *pad_before,
               const int32_t *pad_after, const void *pad_value, const void *in, void *out);

/* Instruction-set features (bit mask). */
#define EL_OPT_ISA_AVX2 0x1u
#define EL_OPT_ISA_AVX512VNNI 0x2u /* with AVX512VL: vpdpbusd on 256-bit vectors */
#define EL_OPT_ISA_AVXVNNI 0x4u
#define EL_OPT_ISA_NEON 0x10u
#define EL_OPT_ISA_SDOT 0x20u
#define EL_OPT_ISA_DSP 0x100u
#define EL_OPT_ISA_MVE 0x200u

/* Features detected on this CPU (and compiled in). */
unsigned el_opt_isa_detected(void);
/* Features in use: detected & the mask last given to el_opt_limit_isa (all by default). */
unsigned el_opt_isa_active(void);
/* Restrict the features the kernels may use (tests and benchmarks run every path on one
 * machine). Not thread-safe: call it before invoking. el_opt_limit_isa(~0u) restores.
 * Compile-time paths (Cortex-M DSP/MVE) ignore it. */
void el_opt_limit_isa(unsigned mask);
/* Turn the optimized kernels off entirely (0) or on (1, default): the glue then always runs
 * the reference. For tests and benchmarks. */
void el_opt_enable(int on);
int el_opt_enabled(void);

#ifdef __cplusplus
}
#endif
#endif
