/* Optimized int8 kernels of runtime_micro (kernels/opt/).
 *
 * Each el_opt_* function either computes exactly the bytes the reference kernel of the same
 * op (kernels/reference/) would write and returns 1, or touches nothing and returns 0, in
 * which case the caller runs the reference. They take the same arguments as the reference
 * (see el_nn.h), so the per-op glue is one line:
 *
 *     if (!el_opt_conv2d_s8(el_ctx_isa(ctx), ...)) { el_conv2d_s8(...); }
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

#include "edgelite_micro.h"
#include "../el_nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A constant int8 filter's per-output-channel sums, made once in prepare so CONV_2D and
 * FULLY_CONNECTED do not re-read the whole filter for them on every invoke: bias[c] = the
 * layer's bias + input_offset * sum(filter row c) and sum[c] = sum(filter row c), both wrapped
 * modulo 2^32 as the reference's int32 sums wrap. Hosted builds only (EL_OPT_FILTER_SUMS):
 * the 8 bytes per output channel live in the op data; Cortex-M builds keep their arena as
 * it was and sum on the fly. Pointers start at the channel of the filter passed. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define EL_OPT_FILTER_SUMS 0
#else
#define EL_OPT_FILTER_SUMS 1
#endif
typedef struct {
    const int32_t *bias;
    const int32_t *sum;
    const int8_t *packed; /* CONV_2D: the filter from el_opt_conv2d_s8_pack, or NULL */
} el_opt_sums;

/* A constant int8 CONV_2D filter packed once at prepare the way the fused GEMM reads it (the
 * AVX-512 VNNI kernel's panels of 16 columns, the SDOT kernel's of 8), instead of by every
 * call of every invoke and thread. x86-64 and aarch64 builds reserve the space whatever the
 * CPU, so a model's arena is the same on every CPU of either (a CPU without those kernels
 * leaves it unused): el_opt_conv2d_s8_packed_bytes is that space for n output channels, k
 * bytes per channel and npix output pixels (0: none, the layer packs per call; the answer
 * depends on those figures only), el_opt_conv2d_s8_pack fills it, to pass as
 * el_opt_sums.packed (64-byte aligned: the AVX-512 loads). It returns 0, writing nothing, when
 * `isa`'s kernels read the filter as it is; el_opt_conv2d_s8_cols then ignores
 * el_opt_sums.packed. */
#if (defined(__x86_64__) || defined(__aarch64__)) && EL_OPT_FILTER_SUMS
#define EL_OPT_PACK_S8 1
#else
#define EL_OPT_PACK_S8 0
#endif
#define EL_OPT_PACK_KMAX 1024 /* longest k packed (both kernels take k up to this) */
/* fewer output pixels: the dot-product paths (8: a 3x3 map packs; MobileNetV2-0.35/96 int8 one
 * thread 2 to 4 % faster on AVX2, cortex-a76 3.9 % fewer instructions, cortex-a53 the same) */
#define EL_OPT_PACK_MMIN 8
size_t el_opt_conv2d_s8_packed_bytes(uint32_t isa, int32_t n, int32_t k, int32_t npix);
int el_opt_conv2d_s8_pack(uint32_t isa, int32_t n, int32_t k, const int8_t *filter, int8_t *packed);

/* Fills bias_out[n] and sum_out[n] (see el_opt_sums) for n rows of k bytes (bias may be
 * NULL), with the row-sum kernel of `isa`: the same values on every instruction set. */
void el_opt_filter_sums_s8(uint32_t isa, int32_t n, int32_t k, const int8_t *filter,
                           const int32_t *bias, int32_t input_offset, int32_t *bias_out,
                           int32_t *sum_out);

/* sums: NULL, or the filter's sums from el_opt_filter_sums_s8 (same bytes either way).
 * el_opt_conv2d_s8_cols writes output channels c0 <= c < c1 only (rows stay out_dims->c
 * apart): threads split a weight-heavy layer by channels. An empty window (c0 == c1) asks
 * whether it takes the layer, without touching anything; a window checks only its own
 * channels' multipliers (each call stays cheap), so ask first. */
int el_opt_conv2d_s8_cols(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                          const el_dims *in_dims, const int8_t *in, const el_dims *f_dims,
                          const int8_t *filter, const int32_t *bias, const el_opt_sums *sums,
                          const el_dims *out_dims, int8_t *out, int32_t c0, int32_t c1);
static inline int el_opt_conv2d_s8(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                                   const el_dims *in_dims, const int8_t *in, const el_dims *f_dims,
                                   const int8_t *filter, const int32_t *bias,
                                   const el_opt_sums *sums, const el_dims *out_dims, int8_t *out)
{
    return el_opt_conv2d_s8_cols(isa, p, q, in_dims, in, f_dims, filter, bias, sums, out_dims, out,
                                 0, out_dims->c);
}
/* The int16 kernels below exist on hosted CPUs only; elsewhere the callers skip them at compile
 * time (microcontroller code size). */
#if defined(__x86_64__) || defined(__aarch64__)
#define EL_HOSTED_CPU 1 /* also: the glue's finer thread splits (no pool on a microcontroller) */
#else
#define EL_HOSTED_CPU 0
#endif
#define EL_OPT_S16 EL_HOSTED_CPU
/* int16x8 CONV_2D (int16 activations, int8 filter, bias int64 when bias64 else int32 or NULL,
 * as the reference el_conv2d_s16 takes them): hosted CPUs (conv_s16.c); 0 elsewhere. */
int el_opt_conv2d_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                      const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                      const int8_t *filter, const void *bias, int bias64, const el_dims *out_dims,
                      int16_t *out);
/* int16x8 DEPTHWISE_CONV_2D, depth multiplier 1 (int64 bias or NULL, as the reference takes it):
 * hosted CPUs (conv_s16.c); 0 elsewhere. */
int el_opt_depthwise_conv2d_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                                const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                                const int8_t *filter, const void *bias, const el_dims *out_dims,
                                int16_t *out);
/* int16x8 TRANSPOSE_CONV (arguments as the reference el_transpose_conv_s16's, scratch one int64
 * per output element): hosted CPUs (conv_s16.c); 0 elsewhere. */
int el_opt_transpose_conv_s16(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                              const el_dims *in_dims, const int16_t *in, const el_dims *f_dims,
                              const int8_t *filter, const void *bias, int bias64,
                              const el_dims *out_dims, int64_t *scratch, int16_t *out);
/* int16 ADD (op 0), SUB (1), MUL (2) with TFLite's int16 arithmetic, operands of the output's
 * shape or single values: x86 AVX2 (elementwise_s16.c); 0 for anything else. */
int el_opt_binary_s16(uint32_t isa, int op, const el_arith_params *p, const el_shape *s1,
                      const int16_t *in1, const el_shape *s2, const int16_t *in2,
                      const el_shape *so, int16_t *out);
/* el_opt_depthwise_conv2d_s8_cols writes channels w0 <= c < w1 only (threads split a layer of
 * few rows by channels); an empty window (w0 == w1) asks whether it takes the layer, and a
 * window checks only its own channels' multipliers, as el_opt_conv2d_s8_cols. */
int el_opt_depthwise_conv2d_s8_cols(uint32_t isa, const el_conv_params *p, const el_pc_quant *q,
                                    const el_dims *in_dims, const int8_t *in, const el_dims *f_dims,
                                    const int8_t *filter, const int32_t *bias,
                                    const el_dims *out_dims, int8_t *out, int32_t w0, int32_t w1);
static inline int el_opt_depthwise_conv2d_s8(uint32_t isa, const el_conv_params *p,
                                             const el_pc_quant *q, const el_dims *in_dims,
                                             const int8_t *in, const el_dims *f_dims,
                                             const int8_t *filter, const int32_t *bias,
                                             const el_dims *out_dims, int8_t *out)
{
    return el_opt_depthwise_conv2d_s8_cols(isa, p, q, in_dims, in, f_dims, filter, bias, out_dims,
                                           out, 0, out_dims->c);
}
int el_opt_fully_connected_s8(uint32_t isa, const el_fc_params *p, const el_pc_quant *q,
                              int per_channel, int32_t batches, int32_t depth, const int8_t *in,
                              int32_t units, const int8_t *filter, const int32_t *bias,
                              const el_opt_sums *sums, int8_t *out);

/* float32 CONV_2D / DEPTHWISE_CONV_2D / FULLY_CONNECTED (x86 AVX2+FMA, aarch64 NEON): unlike
 * the integer kernels, NOT the reference's bits: fused multiply-adds, sums started from the
 * bias, FULLY_CONNECTED summed in vector lanes, so results are within rounding of the reference
 * (tests/opt/test_opt_f32.c: 1e-5 of the output scale). Each output's sequence of operations
 * is fixed by the layer, never by the tile, band or thread that computes it, so any thread
 * split gives the same bytes. Infinities and NaNs land where the reference puts them. */
/* el_opt_conv2d_f32_cols: output channels c0 <= c < c1 only (rows stay out_dims->c apart),
 * c0 a multiple of 16: threads split a weight-heavy layer by channels. Returns 0, touching
 * nothing, when it does not take the layer with this window (the same answer for every window
 * with c0 > 0 or c1 < out_dims->c: ask with an empty one, c0 == c1 == 0). */
int el_opt_conv2d_f32_cols(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                           const float *in, const el_dims *f_dims, const float *filter,
                           const float *packed, const float *bias, const el_dims *out_dims,
                           float *out, int32_t c0, int32_t c1);
static inline int el_opt_conv2d_f32(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                                    const float *in, const el_dims *f_dims, const float *filter,
                                    const float *packed, const float *bias, const el_dims *out_dims,
                                    float *out)
{
    return el_opt_conv2d_f32_cols(isa, p, in_dims, in, f_dims, filter, packed, bias, out_dims, out,
                                  0, out_dims->c);
}
/* A constant CONV_2D filter packed once (prepare) the way `isa`'s kernel reads it, so invokes
 * and thread bands stop packing it per call: el_opt_conv2d_f32_packed_bytes is the size (0:
 * no packed form for this isa or layer; pass packed = NULL), el_opt_conv2d_f32_pack fills it.
 * The size depends on the shapes only (in_dims: only .c is read). `packed` of
 * el_opt_conv2d_f32: NULL (packed per call) or that buffer; the results are the same. */
size_t el_opt_conv2d_f32_packed_bytes(uint32_t isa, const el_dims *in_dims, const el_dims *f_dims);
void el_opt_conv2d_f32_pack(uint32_t isa, const el_dims *in_dims, const el_dims *f_dims,
                            const float *filter, float *packed);
int el_opt_depthwise_conv2d_f32(uint32_t isa, const el_conv_params *p, const el_dims *in_dims,
                                const float *in, const el_dims *f_dims, const float *filter,
                                const float *bias, const el_dims *out_dims, float *out);
int el_opt_fully_connected_f32(uint32_t isa, const el_fc_params *p, int32_t batches, int32_t depth,
                               const float *in, int32_t units, const float *filter,
                               const float *bias, float *out);
/* float32 MAX_POOL_2D: the reference's bits (same comparisons per output, in vectors). */
int el_opt_maxpool_f32(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                       const float *in, const el_dims *out_dims, float *out);
/* float32 AVERAGE_POOL_2D and RESIZE_BILINEAR (the reference's arguments): the reference's
 * bits, channels in vectors (pool_resize_f32.c). Hosted CPUs only (EL_HOSTED_CPU); 0
 * elsewhere. */
int el_opt_avgpool_f32(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                       const float *in, const el_dims *out_dims, float *out);
int el_opt_resize_bilinear_f32(uint32_t isa, const el_resize_params *p, const el_dims *in_dims,
                               const float *in, const el_dims *out_dims, float *out);
/* Output rows [r0, r1) of every image only (threads): each row as in the whole call. */
int el_opt_resize_bilinear_f32_rows(uint32_t isa, const el_resize_params *p, const el_dims *in_dims,
                                    const float *in, const el_dims *out_dims, float *out,
                                    int32_t r0, int32_t r1);

/* float32 CONV_2D / FULLY_CONNECTED whose weights the model stores as float16 (behind a
 * DEQUANTIZE the interpreter then skips), in half-precision arithmetic (arm_fp16.c): aarch64
 * only (EL_OPT_F16W), called only when the interpreter has EL_ISA_FP16, i.e. the caller set
 * el_config.allow_fp16 and the CPU has FEAT_FP16. Not within float32 rounding of the
 * reference: activations are rounded to float16 and sums run in float16 (error bound in
 * arm_fp16.c); an output that overflows float16 is computed again in float32. Always take the
 * layer (no 0 return): prepare decided. Weights: CONV_2D the panels of el_opt_f16_pack (made
 * at prepare into the op data, el_opt_f16_packed_bytes), FULLY_CONNECTED the model's
 * units x depth halves in place. */
#define EL_OPT_F16_KC 512 /* k per float16 sum; segments then add up in float32 */
/* GCC gives arm_fp16.c's functions the feature with target attributes. clang (Android NDK,
 * Apple, zig cc) rejects the float16 NEON intrinsics there ("needs target feature fullfp16"):
 * its builds compile arm_fp16.c alone with the feature (-march=armv8.2-a+fp16; zig cc
 * -mcpu=generic+fullfp16) and define EL_F16_FILE for every file, as runtime_micro's
 * CMakeLists.txt does when the compiler takes the flag. Nothing else in that file runs on a CPU
 * without FEAT_FP16 (the interpreter calls it only with EL_ISA_FP16). A clang build without
 * EL_F16_FILE keeps the float32 kernels and ignores allow_fp16 (the same results as without). */
#if defined(__aarch64__) && ((defined(__GNUC__) && !defined(__clang__)) || defined(EL_F16_FILE))
#define EL_OPT_F16W 1
#else
#define EL_OPT_F16W 0
#endif
/* float16 -> float32 DEQUANTIZE with NEON conversions (arm_neon.c): every aarch64 build. */
#if defined(__aarch64__) && defined(__GNUC__)
#define EL_OPT_F16_CVT 1
#else
#define EL_OPT_F16_CVT 0
#endif
size_t el_opt_f16_packed_bytes(int32_t n, int32_t k);
/* DEQUANTIZE float16 -> float32 without any flag: the reference's exact bits (FCVTL; returns 0
 * without NEON, and the caller runs el_dequantize_f16_f32). aarch64 only (EL_OPT_F16_CVT). */
int el_opt_dequantize_f16(uint32_t isa, int32_t n, const uint16_t *in, float *out);
void el_opt_f16_pack(int32_t n, int32_t k, const uint16_t *w, uint16_t *packed);
void el_opt_conv2d_f16w(const el_conv_params *p, const el_dims *in_dims, const float *in,
                        const el_dims *f_dims, const uint16_t *packed, const float *bias,
                        const el_dims *out_dims, float *out);
void el_opt_fully_connected_f16w(const el_fc_params *p, int32_t batches, int32_t depth,
                                 const float *in, int32_t units, const uint16_t *filter,
                                 const float *bias, float *out);

/* ADD / SUB int8 (el_add_s8's arguments); takes equal shapes (no broadcasting). */
int el_opt_add_s8(uint32_t isa, int is_sub, const el_arith_params *p, const el_shape *s1,
                  const int8_t *in1, const el_shape *s2, const int8_t *in2, const el_shape *so,
                  int8_t *out);

/* AVERAGE_POOL_2D / MAX_POOL_2D int8 (the reference's arguments). */
int el_opt_avgpool_s8(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                      const int8_t *in, const el_dims *out_dims, int8_t *out);
int el_opt_maxpool_s8(uint32_t isa, const el_pool_params *p, const el_dims *in_dims,
                      const int8_t *in, const el_dims *out_dims, int8_t *out);

/* MEAN int8 (el_reduce_mean_s8's arguments; scratch: one int32 per output); takes reduced
 * axes that form one run of dims. */
int el_opt_mean_s8(uint32_t isa, const el_reduce_params *p, const el_shape *s, const int8_t *in,
                   int32_t *scratch, int8_t *out);
/* MEAN float32 (el_reduce_mean_f32's arguments), the same bits; takes reduced axes that form
 * one run of dims. */
int el_opt_mean_f32(uint32_t isa, const el_reduce_params *p, const el_shape *s, const float *in,
                    float *out);

/* float32 RELU, RELU6, RELU_N1_TO_1, RELU_0_TO_1, LEAKY_RELU, HARD_SWISH, NEG, ABS, SQUARE
 * (el_unary_f32's arguments), the same bits; LOGISTIC, TANH, EXP within 2 ulps of the
 * reference's libm values (unary_f32.c); 0 for the other ops. Hosted CPUs only. */
int el_opt_unary_f32(uint32_t isa, el_unary_op op, float alpha, int32_t n, const float *in,
                     float *out);

/* PAD / PADV2 (el_pad's arguments), any element size. */
int el_opt_pad(uint32_t isa, size_t elem, const el_shape *in_shape, const int32_t *pad_before,
               const int32_t *pad_after, const void *pad_value, const void *in, void *out);

/* Instruction-set features: the public EL_ISA_* bits (edgelite_micro.h). `isa` of every
 * function above is the interpreter's el_ctx_isa(): EL_OPT_ON plus the features it may use;
 * without EL_OPT_ON the function returns 0 at once (reference kernels only). */
#define EL_OPT_ON EL_ISA_OPT
#define EL_OPT_ISA_AVX2 EL_ISA_AVX2
#define EL_OPT_ISA_AVX512VNNI EL_ISA_AVX512VNNI
#define EL_OPT_ISA_AVXVNNI EL_ISA_AVXVNNI
#define EL_OPT_ISA_AVX512F EL_ISA_AVX512F
#define EL_OPT_ISA_SSE41 EL_ISA_SSE41
#define EL_OPT_ISA_NEON EL_ISA_NEON
#define EL_OPT_ISA_SDOT EL_ISA_SDOT
#define EL_OPT_ISA_FP16 EL_ISA_FP16
#define EL_OPT_ISA_DSP EL_ISA_DSP
#define EL_OPT_ISA_MVE EL_ISA_MVE

/* Features this CPU has (and the build compiled in). Pure: reads the CPU, keeps no state. */
uint32_t el_opt_isa_detected(void);

#ifdef __cplusplus
}
#endif
#endif
