/* Pure compute functions of runtime_micro's kernels (CMSIS-NN shape).
 *
 * Naming: el_<op>_<dtype> (_s8 int8, _s16 int16, _f32 float). Every function takes a params
 * struct (computed once in the op's prepare, see <op>_common.c), then (dims, data) pairs,
 * output last. They do no validation: prepare has checked shapes, types and parameters, so
 * an optimized variant (kernels/opt/, one file per instruction set) can replace any of them
 * one for one and must produce identical bytes.
 *
 * Layouts are TFLite's: activations NHWC; CONV_2D filters OHWI; DEPTHWISE_CONV_2D filters
 * 1HW(C*M); FULLY_CONNECTED weights [units, depth]; TRANSPOSE_CONV filters OHWI.
 */
#ifndef EL_NN_H
#define EL_NN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Highest rank the compute functions take (el_shape below). The model reader accepts tensors up
 * to EL_MAX_DIMS (8, edgelite_micro.h) so ops that only move or reinterpret data see them; each
 * op's prepare refuses a rank above EL_NN_MAX_RANK by name (EL_ERROR_UNSUPPORTED), as TFLite's
 * reference kernels stop at 6 for broadcasting, slicing, padding and transposing ops. */
#define EL_NN_MAX_RANK 6

typedef struct {
    int32_t n, h, w, c;
} el_dims;

/* A shape of rank <= EL_NN_MAX_RANK, row-major. */
typedef struct {
    int32_t rank;
    int32_t d[EL_NN_MAX_RANK];
} el_shape;

/* Per-tensor or per-channel requantization: arrays of `count` entries (count 1 = per-tensor). */
typedef struct {
    const int32_t *multiplier;
    const int32_t *shift;
} el_pc_quant;

/* ---- convolution ------------------------------------------------------------------- */

typedef struct {
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_h, pad_w;       /* top / left padding */
    int32_t depth_multiplier;   /* depthwise only */
    int32_t input_offset;       /* -input zero point */
    int32_t output_offset;      /* output zero point */
    int32_t act_min, act_max;   /* quantized activation clamp */
    float act_min_f, act_max_f; /* float activation clamp */
    /* Hosted builds' prepare sets it when every per-channel multiplier is >= 0 and every shift
     * within [-31, 31], what the optimized int8 kernels' requantizers take: they then skip that
     * check, which read all of a layer's multipliers before every split. 0 (a zeroed struct,
     * Cortex-M builds): the kernels check. */
    int32_t rq_checked;
} el_conv_params;

/* filter dims: n = output channels, h/w kernel, c = input channels per group. */
void el_conv2d_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                  const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                  const int32_t *bias, const el_dims *out_dims, int8_t *out);
/* int16x8: int16 activations (zero point 0), int8 weights, int64 bias or none (bias64 = 1)
 * with int64 accumulation and TFLite's 64-bit requantize; CONV_2D also takes an int32 bias
 * (bias64 = 0), which TFLite Micro accumulates in 32 bits with the 32-bit requantize. */
void el_conv2d_s16(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                   const int16_t *in, const el_dims *f_dims, const int8_t *filter, const void *bias,
                   int bias64, const el_dims *out_dims, int16_t *out);
void el_depthwise_conv2d_s16(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                             const int16_t *in, const el_dims *f_dims, const int8_t *filter,
                             const void *bias, int bias64, const el_dims *out_dims, int16_t *out);
void el_conv2d_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                   const el_dims *f_dims, const float *filter, const float *bias,
                   const el_dims *out_dims, float *out);
/* filter dims: n = 1, h/w kernel, c = output channels (= in channels * depth_multiplier). */
void el_depthwise_conv2d_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                            const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                            const int32_t *bias, const el_dims *out_dims, int8_t *out);
void el_depthwise_conv2d_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                             const el_dims *f_dims, const float *filter, const float *bias,
                             const el_dims *out_dims, float *out);
/* TRANSPOSE_CONV int8 (per-channel multipliers along the filter's output channels):
 * `scratch` holds one int32 per output element. */
void el_transpose_conv_s8(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                          const int8_t *in, const el_dims *f_dims, const int8_t *filter,
                          const int32_t *bias, const el_dims *out_dims, int32_t *scratch,
                          int8_t *out);
/* TRANSPOSE_CONV int16x8: int16 activations (zero point 0), int8 weights, int32 or int64 bias
 * (bias64) or none; `scratch` holds one int64 per output element. */
void el_transpose_conv_s16(const el_conv_params *p, const el_pc_quant *q, const el_dims *in_dims,
                           const int16_t *in, const el_dims *f_dims, const int8_t *filter,
                           const void *bias, int bias64, const el_dims *out_dims, int64_t *scratch,
                           int16_t *out);
/* TRANSPOSE_CONV (float): filter OHWI with n = output channels; pad_h/pad_w as TFLite
 * computes them for the forward conv. */
void el_transpose_conv_f32(const el_conv_params *p, const el_dims *in_dims, const float *in,
                           const el_dims *f_dims, const float *filter, const float *bias,
                           const el_dims *out_dims, float *out);

/* ---- fully connected / batch matmul ------------------------------------------------ */

typedef struct {
    int32_t input_offset, filter_offset, output_offset;
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
} el_fc_params;

/* batches x depth input, units x depth weights; q per-tensor (1 entry) or per unit. */
void el_fully_connected_s8(const el_fc_params *p, const el_pc_quant *q, int per_channel,
                           int32_t batches, int32_t depth, const int8_t *in, int32_t units,
                           const int8_t *filter, const int32_t *bias, int8_t *out);
void el_fully_connected_s16(const el_fc_params *p, const el_pc_quant *q, int per_channel,
                            int32_t batches, int32_t depth, const int16_t *in, int32_t units,
                            const int8_t *filter, const void *bias, int bias64, int16_t *out);
void el_fully_connected_f32(const el_fc_params *p, int32_t batches, int32_t depth, const float *in,
                            int32_t units, const float *filter, const float *bias, float *out);

/* One matrix product out (rows x cols) = lhs (rows x depth) * rhs (depth x cols); element
 * (i, k) of lhs is lhs[i * lhs_si + k * lhs_sk], (k, j) of rhs is rhs[k * rhs_sk + j * rhs_sj]
 * (so adj_x / adj_y are strides). Batches and their broadcasting are the caller's loop.
 * Quantized: per-tensor multiplier. */
typedef struct {
    int32_t rows, depth, cols;
    int32_t lhs_si, lhs_sk, rhs_sk, rhs_sj;
    float act_min_f, act_max_f;
    int32_t lhs_offset, rhs_offset, output_offset;
    int32_t multiplier;
    int32_t shift;
    int32_t act_min, act_max;
} el_matmul_params;
void el_matmul_s8(const el_matmul_params *p, const int8_t *lhs, const int8_t *rhs, int8_t *out);
/* int16: 64-bit sums and TFLite's 64-bit requantize (shift in [-31, 7]). */
void el_matmul_s16(const el_matmul_params *p, const int16_t *lhs, const int16_t *rhs, int16_t *out);
void el_matmul_f32(const el_matmul_params *p, const float *lhs, const float *rhs, float *out);

/* ---- elementwise binary with broadcasting ------------------------------------------ */

/* All binary functions take the three shapes already extended to the same rank
 * (leading 1s); a dimension of 1 broadcasts. */
typedef struct {
    int32_t left_shift;
    int32_t input1_offset, input2_offset, output_offset;
    int32_t input1_multiplier, input2_multiplier, output_multiplier;
    int32_t input1_shift, input2_shift, output_shift;
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
} el_arith_params;

typedef enum {
    EL_BIN_ADD,
    EL_BIN_SUB,
    EL_BIN_MUL,
    EL_BIN_DIV,
    EL_BIN_POW,
    EL_BIN_MAXIMUM,
    EL_BIN_MINIMUM,
    EL_BIN_SQUARED_DIFFERENCE,
    EL_BIN_FLOOR_DIV,
    EL_BIN_FLOOR_MOD,
    EL_BIN_ATAN2
} el_binary_op;

void el_add_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out);
void el_sub_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out);
void el_add_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                const el_shape *s2, const int16_t *in2, const el_shape *so, int16_t *out);
void el_sub_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                const el_shape *s2, const int16_t *in2, const el_shape *so, int16_t *out);
/* SQUARED_DIFFERENCE int8 (TFLite: inputs scaled to 2 * max scale with left_shift 7). */
void el_squared_difference_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1,
                              const el_shape *s2, const int8_t *in2, const el_shape *so,
                              int8_t *out);
/* int16: no left shift (the squared difference of int16 values fits int32). */
void el_squared_difference_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                               const el_shape *s2, const int16_t *in2, const el_shape *so,
                               int16_t *out);
/* DIV int8 (TFLite: reciprocal of the divisor in fixed point, normalized numerator). The
 * caller has checked that no divisor equals its zero point. */
void el_div_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out);
void el_mul_s16(const el_arith_params *p, const el_shape *s1, const int16_t *in1,
                const el_shape *s2, const int16_t *in2, const el_shape *so, int16_t *out);
void el_mul_s8(const el_arith_params *p, const el_shape *s1, const int8_t *in1, const el_shape *s2,
               const int8_t *in2, const el_shape *so, int8_t *out);
/* MAXIMUM / MINIMUM on int8 (no requantization, as TFLite). */
void el_maxmin_s8(int is_max, const el_shape *s1, const int8_t *in1, const el_shape *s2,
                  const int8_t *in2, const el_shape *so, int8_t *out);
void el_maxmin_s16(int is_max, const el_shape *s1, const int16_t *in1, const el_shape *s2,
                   const int16_t *in2, const el_shape *so, int16_t *out);
/* Float binary ops; act clamp applies to ADD/SUB/MUL/DIV only (as their options allow). */
void el_binary_f32(el_binary_op op, const el_arith_params *p, const el_shape *s1, const float *in1,
                   const el_shape *s2, const float *in2, const el_shape *so, float *out);
/* Integer binary ops on int32 (ADD/SUB/MUL/MAXIMUM/MINIMUM; MUL wraps as TFLite). */
void el_binary_s32(el_binary_op op, const el_arith_params *p, const el_shape *s1,
                   const int32_t *in1, const el_shape *s2, const int32_t *in2, const el_shape *so,
                   int32_t *out);

/* ---- pooling ----------------------------------------------------------------------- */

typedef struct {
    int32_t stride_h, stride_w, filter_h, filter_w, pad_h, pad_w;
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
} el_pool_params;

void el_avgpool_s8(const el_pool_params *p, const el_dims *in_dims, const int8_t *in,
                   const el_dims *out_dims, int8_t *out);
void el_avgpool_s16(const el_pool_params *p, const el_dims *in_dims, const int16_t *in,
                    const el_dims *out_dims, int16_t *out);
void el_maxpool_s16(const el_pool_params *p, const el_dims *in_dims, const int16_t *in,
                    const el_dims *out_dims, int16_t *out);
void el_avgpool_f32(const el_pool_params *p, const el_dims *in_dims, const float *in,
                    const el_dims *out_dims, float *out);
void el_maxpool_s8(const el_pool_params *p, const el_dims *in_dims, const int8_t *in,
                   const el_dims *out_dims, int8_t *out);
void el_maxpool_f32(const el_pool_params *p, const el_dims *in_dims, const float *in,
                    const el_dims *out_dims, float *out);

/* ---- activations ------------------------------------------------------------------- */

typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min; /* softmax */
} el_fx_act_params;

void el_logistic_s8(const el_fx_act_params *p, int32_t size, const int8_t *in, int8_t *out);
void el_tanh_s8(const el_fx_act_params *p, int32_t size, const int8_t *in, int8_t *out);
/* int16 LOGISTIC / TANH (TFLite's int16 path): input zero point 0, output scale 2^-15 zero
 * point 0. The input is brought to scale 1/(3 * 4096) by (x * input_multiplier + round) >>
 * input_left_shift (multiplier 0: power-of-two input scale, multiplier 3 << shift), then
 * sigmoid(|x|) is interpolated in el_sigmoid_lut_u16 (tanh(x) = 2 sigmoid(2x) - 1). */
typedef struct {
    int32_t input_multiplier, input_left_shift;
} el_lut16_act_params;
extern const uint16_t el_sigmoid_lut_u16[256];
void el_logistic_s16(const el_lut16_act_params *p, int32_t size, const int16_t *in, int16_t *out);
void el_tanh_s16(const el_lut16_act_params *p, int32_t size, const int16_t *in, int16_t *out);
/* Softmax over the last dimension: outer rows of `depth` values; output int8 (zp -128,
 * scale 1/256) or int16 (zp -32768... as TFLite: zp 0 scale 1/32768 is the int16 variant). */
void el_softmax_s8(const el_fx_act_params *p, int32_t outer, int32_t depth, const int8_t *in,
                   int8_t *out);
void el_softmax_s8_s16(const el_fx_act_params *p, int32_t outer, int32_t depth, const int8_t *in,
                       int16_t *out);
/* int16 SOFTMAX (TFLite's int16 path): exp and 1/(1+x) through 513-entry int16 tables with
 * linear interpolation (built by el_gen_lut_s16 in prepare); input zero point 0, output
 * scale 2^-15 zero point 0. */
typedef struct {
    int32_t input_multiplier, input_left_shift;
    const int16_t *exp_lut;                 /* 513 entries */
    const int16_t *one_over_one_plus_x_lut; /* 513 entries */
} el_softmax16_params;
void el_softmax_s16(const el_softmax16_params *p, int32_t outer, int32_t depth, const int16_t *in,
                    int16_t *out);
/* TFLite's gen_lut for int16 tables: 512 samples of func over [in_min, in_max] mapped from
 * [out_min, out_max] to int16, each corrected by half the midpoint interpolation error, plus
 * one end value (float math, prepare only). fn: one of el_lut16_fn. */
enum el_lut16_fn {
    EL_LUT16_EXP = 0,
    EL_LUT16_ONE_OVER_ONE_PLUS_X = 1,
    EL_LUT16_GELU = 2,
    EL_LUT16_GELU_APPROX = 3
};
void el_gen_lut_s16(int fn, float in_min, float in_max, float out_min, float out_max, int16_t *lut);
/* Elementwise through a 513-entry table from el_gen_lut_s16 (512 segments over the int16
 * range, 7-bit linear interpolation): TFLite's int16 LUT activations (GELU). */
void el_lut_s16(const int16_t *lut, int32_t size, const int16_t *in, int16_t *out);
/* LOG_SOFTMAX int8 (TFLite's fixed-point path): output scale 16/256, zero point 127. */
typedef struct {
    int32_t input_multiplier, input_left_shift; /* input diffs to Q5.26 */
    int32_t reverse_multiplier, reverse_shift;  /* Q5.26 back to input steps (shift <= 0) */
    int32_t diff_min;
} el_log_softmax_params;
void el_log_softmax_s8(const el_log_softmax_params *p, int32_t outer, int32_t depth,
                       const int8_t *in, int8_t *out);
void el_softmax_f32(float beta, int32_t outer, int32_t depth, const float *in, float *out);
void el_log_softmax_f32(float beta, int32_t outer, int32_t depth, const float *in, float *out);

/* Requantizing clamp used by RELU/RELU6/RELU_N1_TO_1 int8 (TFLite ReluQuantized). */
typedef struct {
    int32_t input_offset, output_offset;
    int32_t multiplier, shift;
    int32_t act_min, act_max;
} el_relu_params;
void el_relu_s8(const el_relu_params *p, int32_t size, const int8_t *in, int8_t *out);
/* ABS int8: |x - in_zp| requantized (the multiplier is skipped when the parameters are equal,
 * as TFLite does). */
void el_abs_s8(const el_relu_params *p, int rescale, int32_t size, const int8_t *in, int8_t *out);
/* RSQRT int8 (TFLite's fixed-point inverse square root): multiplier/shift hold
 * 1 / (sqrt(input_scale) * output_scale); the caller has checked that no input is below its
 * zero point. */
void el_rsqrt_s8(const el_relu_params *p, int32_t size, const int8_t *in, int8_t *out);
void el_rsqrt_s16(const el_relu_params *p, int32_t size, const int16_t *in, int16_t *out);
/* int16 variants (same math, int16 storage limits). */
void el_relu_s16(const el_relu_params *p, int32_t size, const int16_t *in, int16_t *out);
void el_abs_s16(const el_relu_params *p, int rescale, int32_t size, const int16_t *in,
                int16_t *out);

typedef struct {
    int32_t input_offset, output_offset;
    int32_t multiplier_identity, shift_identity;
    int32_t multiplier_alpha, shift_alpha;
} el_leaky_relu_params;
void el_leaky_relu_s8(const el_leaky_relu_params *p, int32_t size, const int8_t *in, int8_t *out);
void el_leaky_relu_s16(const el_leaky_relu_params *p, int32_t size, const int16_t *in,
                       int16_t *out);

typedef struct {
    int32_t input_offset, alpha_offset, output_offset;
    int32_t output_multiplier_1, output_shift_1; /* x >= 0 */
    int32_t output_multiplier_2, output_shift_2; /* x < 0 (times alpha) */
} el_prelu_params;
void el_prelu_s8(const el_prelu_params *p, const el_shape *s_in, const int8_t *in,
                 const el_shape *s_alpha, const int8_t *alpha, const el_shape *so, int8_t *out);
void el_prelu_f32(const el_shape *s_in, const float *in, const el_shape *s_alpha,
                  const float *alpha, const el_shape *so, float *out);

typedef struct {
    int16_t input_zero_point, output_zero_point;
    int16_t reluish_multiplier_fixedpoint_int16, output_multiplier_fixedpoint_int16;
    int32_t reluish_multiplier_exponent, output_multiplier_exponent;
} el_hard_swish_params;
void el_hard_swish_s8(const el_hard_swish_params *p, int32_t size, const int8_t *in, int8_t *out);

/* A 256-entry table indexed by (uint8)(x) gives the int8 output: GELU, ELU, EXP... on int8. */
void el_lut_s8(const int8_t *table, int32_t size, const int8_t *in, int8_t *out);

typedef enum {
    EL_UN_RELU,
    EL_UN_RELU6,
    EL_UN_RELU_N1_TO_1,
    EL_UN_LOGISTIC,
    EL_UN_TANH,
    EL_UN_HARD_SWISH,
    EL_UN_ELU,
    EL_UN_GELU,
    EL_UN_GELU_APPROX,
    EL_UN_EXP,
    EL_UN_LOG,
    EL_UN_SQRT,
    EL_UN_RSQRT,
    EL_UN_NEG,
    EL_UN_ABS,
    EL_UN_LEAKY_RELU,
    EL_UN_FLOOR,
    EL_UN_CEIL,
    EL_UN_ROUND, /* half to even, as TFLite's ROUND */
    EL_UN_SIN,
    EL_UN_COS,
    EL_UN_SQUARE,
    EL_UN_SIGN,
    EL_UN_RELU_0_TO_1
} el_unary_op;
/* Float elementwise: `alpha` is LEAKY_RELU's slope, ignored by the others. */
void el_unary_f32(el_unary_op op, float alpha, int32_t size, const float *in, float *out);

/* ---- quantize / dequantize / cast -------------------------------------------------- */

/* float -> integer: q = clamp(round(x / scale) + zp) with TFLite's rounding. */
void el_quantize_f32_s8(float scale, int32_t zp, int32_t size, const float *in, int8_t *out);
void el_quantize_f32_u8(float scale, int32_t zp, int32_t size, const float *in, uint8_t *out);
void el_quantize_f32_s16(float scale, int32_t zp, int32_t size, const float *in, int16_t *out);
/* integer -> integer requantize (int8/uint8/int16 in any pair TFLite supports):
 * out = clamp(MBQM(in - in_zp, m, s) + out_zp). Values passed as int32 through helpers. */
typedef struct {
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift;
    int32_t qmin, qmax;
} el_requant_params;
void el_requantize_s8_s8(const el_requant_params *p, int32_t size, const int8_t *in, int8_t *out);
void el_requantize_s8_u8(const el_requant_params *p, int32_t size, const int8_t *in, uint8_t *out);
void el_requantize_u8_s8(const el_requant_params *p, int32_t size, const uint8_t *in, int8_t *out);
void el_requantize_s8_s16(const el_requant_params *p, int32_t size, const int8_t *in, int16_t *out);
void el_requantize_s16_s8(const el_requant_params *p, int32_t size, const int16_t *in, int8_t *out);
void el_requantize_s16_s16(const el_requant_params *p, int32_t size, const int16_t *in,
                           int16_t *out);
void el_dequantize_s8_f32(float scale, int32_t zp, int32_t size, const int8_t *in, float *out);
void el_dequantize_u8_f32(float scale, int32_t zp, int32_t size, const uint8_t *in, float *out);
void el_dequantize_s16_f32(float scale, int32_t zp, int32_t size, const int16_t *in, float *out);
void el_dequantize_f16_f32(int32_t size, const uint16_t *in, float *out);
float el_f16_to_f32(uint16_t h);

/* ---- data movement (dtype-agnostic, element size in bytes) ------------------------- */

void el_copy_bytes(size_t n, const void *in, void *out);
/* CONCATENATION along `axis`: outer = prod(dims before axis), each input contributes
 * `inner_bytes[i]` contiguous bytes per outer index. */
void el_concat(int32_t n_inputs, int32_t outer, const size_t *inner_bytes,
               const void *const *inputs, void *out);
/* SPLIT / SPLIT_V: the inverse of el_concat. */
void el_split(int32_t n_outputs, int32_t outer, const size_t *inner_bytes, const void *in,
              void *const *outputs);

/* STRIDED_SLICE / SLICE on a shape extended to EL_NN_MAX_RANK: start/stop/stride per dim
 * already resolved (TFLite's StridedSliceStartIndex/StopIndex semantics). */
typedef struct {
    int32_t start[EL_NN_MAX_RANK];
    int32_t stop[EL_NN_MAX_RANK];
    int32_t stride[EL_NN_MAX_RANK];
} el_slice_params;
void el_strided_slice(const el_slice_params *p, size_t elem, const el_shape *in_shape,
                      const void *in, void *out);

/* PAD on a shape extended to EL_NN_MAX_RANK; pad_value points at one element. */
void el_pad(size_t elem, const el_shape *in_shape, const int32_t *pad_before,
            const int32_t *pad_after, const void *pad_value, const void *in, void *out);

/* TRANSPOSE: out dim i = in dim perm[i]. */
void el_transpose(size_t elem, const el_shape *in_shape, const int32_t *perm, const void *in,
                  void *out);

/* GATHER: in viewed as [outer, axis_size, inner]; indices already validated. */
void el_gather(size_t elem, int32_t outer, int32_t axis_size, int32_t inner, const int32_t *indices,
               int32_t n_indices, const void *in, void *out);

void el_depth_to_space(size_t elem, int32_t block, const el_dims *in_dims, const void *in,
                       const el_dims *out_dims, void *out);
void el_space_to_depth(size_t elem, int32_t block, const el_dims *in_dims, const void *in,
                       const el_dims *out_dims, void *out);

/* SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND on NHWC (3-D inputs use w = 1): block [bh, bw],
 * pads/crops [top, left]; pad_value points at one element. */
void el_space_to_batch(size_t elem, int32_t bh, int32_t bw, int32_t pad_top, int32_t pad_left,
                       const void *pad_value, const el_dims *in_dims, const void *in,
                       const el_dims *out_dims, void *out);
void el_batch_to_space(size_t elem, int32_t bh, int32_t bw, int32_t crop_top, int32_t crop_left,
                       const el_dims *in_dims, const void *in, const el_dims *out_dims, void *out);

/* RESIZE_*: align_corners / half_pixel_centers as TFLite's options. */
typedef struct {
    int32_t align_corners, half_pixel_centers;
} el_resize_params;
void el_resize_nearest(const el_resize_params *p, size_t elem, const el_dims *in_dims,
                       const void *in, const el_dims *out_dims, void *out);
void el_resize_bilinear_f32(const el_resize_params *p, const el_dims *in_dims, const float *in,
                            const el_dims *out_dims, float *out);
void el_resize_bilinear_s8(const el_resize_params *p, const el_dims *in_dims, const int8_t *in,
                           const el_dims *out_dims, int8_t *out);

/* ---- comparisons, logic, select ---------------------------------------------------- */

typedef enum {
    EL_CMP_LESS,
    EL_CMP_LESS_EQUAL,
    EL_CMP_GREATER,
    EL_CMP_GREATER_EQUAL,
    EL_CMP_EQUAL,
    EL_CMP_NOT_EQUAL,
    EL_LOGIC_AND, /* bool inputs */
    EL_LOGIC_OR
} el_compare_op;

/* Element kinds for dtype-generic arithmetic-free kernels. */
typedef enum { EL_K_F32, EL_K_S32, EL_K_S64, EL_K_S8, EL_K_U8, EL_K_S16, EL_K_BOOL } el_kind;

/* Broadcasting comparison; output bool (one byte, 0 or 1). */
void el_compare(el_compare_op op, el_kind kind, const el_shape *s1, const void *in1,
                const el_shape *s2, const void *in2, const el_shape *so, uint8_t *out);
/* SELECT_V2: out = cond ? a : b with three-way broadcasting (all shapes rank so->rank). */
void el_select(size_t elem, const el_shape *sc, const uint8_t *cond, const el_shape *s1,
               const void *in1, const el_shape *s2, const void *in2, const el_shape *so, void *out);

/* Generic index remapping copy (TILE, BROADCAST_TO, MIRROR_PAD, REVERSE_V2): output
 * position o along dim d reads input position f(o) given by `map[d]`. Shapes rank-equal. */
typedef enum { EL_MAP_MOD, EL_MAP_REVERSE, EL_MAP_REFLECT, EL_MAP_SYMMETRIC } el_map_kind;
typedef struct {
    int32_t kind;   /* el_map_kind */
    int32_t before; /* MIRROR_PAD: padding before */
} el_map_dim;
void el_remap(size_t elem, const el_shape *in_shape, const el_shape *out_shape,
              const el_map_dim *map, const void *in, void *out);

/* ARG_MAX / ARG_MIN along one axis of [outer, axis, inner]; first index wins ties. */
void el_arg_minmax(int is_max, el_kind kind, int32_t outer, int32_t axis_size, int32_t inner,
                   const void *in, int out_is_64, void *out);

/* ---- misc --------------------------------------------------------------------------- */

/* L2_POOL_2D (float): sqrt of the mean of squares over the valid part of each window. */
void el_l2pool_f32(const el_pool_params *p, const el_dims *in_dims, const float *in,
                   const el_dims *out_dims, float *out);
/* L2_NORMALIZATION (float) over the last dimension, norm floored at 1e-6 as TFLite. */
void el_l2norm_f32(int32_t outer, int32_t depth, const float *in, float *out);
/* L2_NORMALIZATION int8 (TFLite's): output scale 1/128, zero point 0. */
void el_l2norm_s8(int32_t input_zero_point, int32_t outer, int32_t depth, const int8_t *in,
                  int8_t *out);
/* GATHER_ND: `n_idx` index tuples of length `k` (already validated) into params viewed as
 * [prod(dims[:k]) , inner]; strides[j] = elements per step of params dim j. */
void el_gather_nd(size_t elem, int32_t n_idx, int32_t k, const int32_t *indices,
                  const int32_t *strides, int32_t inner, const void *in, void *out);
/* TOPK_V2 (float / int32 / int8 rows): the k largest of each row, descending, lower index
 * first among equal values; indices int32. */
void el_topk(el_kind kind, int32_t rows, int32_t n, int32_t k, const void *in, void *values,
             int32_t *indices);

/* ---- reductions -------------------------------------------------------------------- */

/* Reduce over the dims flagged in `axes_mask` (bit i = dim i of the extended shape);
 * `out` holds prod(non-reduced dims) values in row-major order of the kept dims. */
typedef struct {
    int32_t axes_mask;
    int32_t input_zero_point, output_zero_point;
    int32_t multiplier, shift; /* MEAN/SUM int8: input_scale / output_scale */
} el_reduce_params;
void el_reduce_mean_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out);
void el_reduce_sum_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out);
void el_reduce_max_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out);
void el_reduce_max_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in, int8_t *out);
void el_reduce_min_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out);
void el_reduce_min_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in, int8_t *out);
void el_reduce_prod_f32(const el_reduce_params *p, const el_shape *s, const float *in, float *out);
/* REDUCE_ANY (is_all 0) / REDUCE_ALL (1) on bool. */
void el_reduce_any_all(int is_all, const el_reduce_params *p, const el_shape *s, const uint8_t *in,
                       uint8_t *out);
/* MEAN / SUM int8 (TFLite QuantizedMeanOrSum): accumulates in `scratch` (one int32 per
 * output). */
void el_reduce_mean_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in,
                       int32_t *scratch, int8_t *out);
void el_reduce_sum_s8(const el_reduce_params *p, const el_shape *s, const int8_t *in,
                      int32_t *scratch, int8_t *out);
void el_reduce_sum_s16(const el_reduce_params *p, const el_shape *s, const int16_t *in,
                       int32_t *scratch, int16_t *out);
void el_reduce_mean_s16(const el_reduce_params *p, const el_shape *s, const int16_t *in,
                        int32_t *scratch, int16_t *out);

#ifdef __cplusplus
}
#endif
#endif
