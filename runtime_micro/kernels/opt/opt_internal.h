/* Internal to kernels/opt: the per-instruction-set building blocks the drivers call. */
#ifndef EL_OPT_INTERNAL_H
#define EL_OPT_INTERNAL_H

#include "el_opt.h"

/* The 32-bit Arm DSP paths (SMLAD, SXTB16) are Thumb-2 inline assembly (LDRD with any register
 * pair): Cortex-M is Thumb only, and ARMv7-A builds must use Thumb too (-mthumb: the default of
 * Debian's armhf compiler and of the Android NDK for armeabi-v7a). */
#if defined(__ARM_FEATURE_DSP) && defined(__arm__) && !defined(__thumb2__)
#error "runtime_micro on 32-bit Arm: compile with -mthumb (the DSP kernels are Thumb-2 assembly)"
#endif

/* Hosted CPUs (x86, aarch64): code the Cortex-M builds leave out (their code size budget). */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define EL_OPT_HOSTED 1
#else
#define EL_OPT_HOSTED 0
#endif

/* Stack tiles of the drivers: EL_OPT_MB output pixels (GEMM rows) per call, EL_OPT_NC output
 * channels per chunk, EL_OPT_COLS bytes of im2col rows (a conv whose one im2col row is larger
 * goes to the reference). Small on Cortex-M, where stacks are a few KB. */
#if defined(__ARM_ARCH_PROFILE) && __ARM_ARCH_PROFILE == 'M'
#define EL_OPT_MB 4
#define EL_OPT_NC 32
#define EL_OPT_COLS 2048
#define EL_OPT_DW_C 32     /* depthwise channels per chunk */
#define EL_OPT_MB_RQ 16    /* GEMM rows per call when the requantization is fused (no tile) */
#define EL_OPT_DW_MB 16    /* depthwise pixels per accumulator tile (2 KB) */
#define EL_OPT_COL_ALIGN 1 /* im2col rows k bytes apart */
#define EL_OPT_DW_ROWBUF 0 /* no padded depthwise row copies (no dw_rq kernel) */
#define EL_OPT_DW_CMAX EL_OPT_DW_C /* depthwise channels of one fused pass (none here) */
#define EL_OPT_STEM_WORDS 0 /* im2col of 3x3 RGB stems by the generic run copy (budgets kept) */
#else
#define EL_OPT_MB 64
#define EL_OPT_NC 64
#define EL_OPT_COLS 32768
#define EL_OPT_DW_C 64
#define EL_OPT_MB_RQ 256 /* no int32 tile: more rows per call share each packed panel */
#define EL_OPT_DW_MB EL_OPT_MB
#define EL_OPT_COL_ALIGN 16 /* im2col rows start 16 bytes apart: vector loads past k stay inside */
#define EL_OPT_DW_ROWBUF 8192 /* bytes of each of the 3 padded input rows of the fused depthwise */
#define EL_OPT_DW_CMAX 2048   /* channels of a whole-layer pass of the fused depthwise */
#define EL_OPT_STEM_WORDS 1   /* im2col of 3x3 RGB stems: each 8..16-byte run as two words */
#endif
#define EL_OPT_DW_TAPS 64 /* largest depthwise kernel (h*w) handled */
/* bytes of the depthwise driver's per-layer kernel state (el_opt_rq.dw_state): the AVX-512 VNNI
 * dw_rq keeps its prepared 64-channel blocks there (2.9 KB each) */
#if defined(__x86_64__)
#define EL_OPT_DW_STATE 65536
#else
#define EL_OPT_DW_STATE 0
#endif

/* Requantization of m rows of n accumulators, per output channel (arrays start at the rows'
 * first channel): out[i * ldout + c] = clamp(requant(acc[i * ldacc + c] + bias[c]) + off). */
typedef struct {
    const int32_t *bias; /* bias + input_offset * sum(filter), wrapped to int32 */
    const int32_t *mult;
    const int32_t *shift;
    int32_t out_offset, act_min, act_max;
    /* nonzero: every row of the GEMM's a may be read up to the next multiple of 16 bytes past
     * k, whatever those bytes hold (im2col rows in the driver's padded buffer), so a fused GEMM
     * needs no partial loads for a k tail; 0: exactly k bytes (rows read in place). */
    int32_t a_padded;
    /* sum_k b[j][k] of each column (the filter sums the conv / FC drivers hold; NULL in other
     * calls; set on hosted builds only, EL_OPT_HOSTED): the AVX-512 VNNI kernels' unsigned
     * activations add 128 times it */
    const int32_t *colsum;
    /* Scratch a dw_rq kernel may keep per-layer state in across its calls (one per output row),
     * dw_state_bytes long, its first 64 bytes zero before the layer's first call; NULL when the
     * driver has none (EL_OPT_DW_STATE 0). Hosted builds only. */
    void *dw_state;
    size_t dw_state_bytes;
    /* The call's n columns of b already in gemm_rq's own layout (the kernel table's
     * gemm_pack, made at prepare; the call's first column a multiple of 16), or NULL: gemm_rq
     * packs them itself. Only for a table with gemm_pack; hosted builds only. */
    const void *packed;
} el_opt_rq;

/* el_requant for a non-negative multiplier (the drivers check), inline: the doubling high
 * multiply with its nudge and truncating division equals floor((x * m + 2^30) / 2^31) for
 * either sign of x (GCC and Clang shift negative values arithmetically). */
static inline int32_t el_opt_requant1(int32_t x, int32_t m, int32_t shift)
{
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int32_t v = (int32_t)((uint32_t)x << left);
    const int32_t h = (int32_t)(((int64_t)v * m + ((int64_t)1 << 30)) >> 31);
    const int32_t mask = (int32_t)(((int64_t)1 << right) - 1);
    const int32_t thr = (mask >> 1) + (h < 0 ? 1 : 0);
    return (h >> right) + ((h & mask) > thr ? 1 : 0);
}

typedef struct {
    /* c[i * ldc + j] = sum_k a[i][k] * b[j * ldb + k] for i < m, j < n;
     * bsum[j] = sum_k b[j * ldb + k] (kernels working on unsigned activations need it). */
    void (*gemm)(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                 int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
    /* acc[c] = sum_t x[t][c] * f[t * fstride + c] for c < n. */
    void (*dw)(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride, int32_t n,
               int32_t *acc);
    void (*requant)(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc, int32_t ldacc,
                    int8_t *out, int32_t ldout);
    /* out[j] = sum_k b[j * ldb + k] (wrapping like the reference's int32 sums). */
    void (*rowsum)(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out);
    /* int8 ADD / SUB of n elements, TFLite's arithmetic (el_opt_add1). */
    void (*add)(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a, const int8_t *b,
                int8_t *out);
    /* Optional (NULL: the driver calls dw per pixel). npix output pixels of one row whose taps
     * all lie inside the image, xstep bytes apart, tap t at byte offset toff[t] from the
     * pixel's top-left tap: acc[p * n + c] = sum_t x0[p * xstep + toff[t] + c] * f[t * fstride
     * + c] for p < npix, c < n. One call per run keeps the filter in registers. */
    void (*dw_run)(int32_t taps, const int8_t *x0, const int32_t *toff, int32_t xstep, int32_t npix,
                   const int8_t *f, int32_t fstride, int32_t n, int32_t *acc);
    /* Optional (NULL, or returns 0: gemm then requant): the GEMM with the requantization
     * fused, out[i * ldout + j] = requant(sum_k a[i][k] * b[j * ldb + k]) for i < m, j < n,
     * accumulators never leaving registers. */
    int (*gemm_rq)(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                   int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout);
    /* Optional (NULL: dw / dw_run then requant): 3x3 depthwise pixels requantized in
     * registers, no int32 tile. Pixel p's tap (ky, kx) is at rows[ky] + p * xstep + kx * dstep
     * (every tap inside rows the driver made: padded copies where the layer pads);
     * out[p * ostep + c] = requant(sum of the 9 taps' x[c] * f[t * fstride + c]) for p < npix,
     * c < n (rq's arrays start at channel 0 of the call). Only after dw_rq_ok(f, fstride, n,
     * rq) returned 1 for these channels. */
    int (*dw_rq_ok)(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq);
    void (*dw_rq)(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                  const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq, int8_t *out,
                  int32_t ostep);
    /* Optional (NULL: the driver's loop): a depthwise filter's folded bias, out[c] = bias[c]
     * (0 without one) + off * sum_t f[t * fstride + c] for c < n, modulo 2^32; taps <= 64. */
    void (*dw_sums)(int32_t taps, const int8_t *f, int32_t fstride, int32_t n, const int32_t *bias,
                    int32_t off, int32_t *out);
    /* Optional (NULL: gemm_rq packs b per call, el_opt_rq.packed stays NULL): n rows of k bytes
     * of b into packed, the layout gemm_rq reads, within el_opt_conv2d_s8_packed_bytes;
     * column j (a multiple of 16) starts at j * pack_stride(k) bytes. */
    void (*gemm_pack)(int32_t n, int32_t k, const int8_t *b, int8_t *packed);
    int32_t (*pack_stride)(int32_t k);
} el_opt_kernels;

/* One ADD / SUB element exactly as the reference (multipliers >= 0), clamped but not narrowed:
 * int8 (el_opt_add1) and int16 (elementwise_s16.c) share it. */
static inline int32_t el_opt_addsub1(const el_arith_params *p, int is_sub, int32_t a, int32_t b)
{
    const int32_t s1 = (int32_t)((uint32_t)(a + p->input1_offset) << p->left_shift);
    const int32_t s2 = (int32_t)((uint32_t)(b + p->input2_offset) << p->left_shift);
    const int32_t r1 = el_opt_requant1(s1, p->input1_multiplier, p->input1_shift);
    const int32_t r2 = el_opt_requant1(s2, p->input2_multiplier, p->input2_shift);
    const int32_t raw = is_sub ? r1 - r2 : r1 + r2;
    const int32_t o =
        el_opt_requant1(raw, p->output_multiplier, p->output_shift) + p->output_offset;
    return o < p->act_min ? p->act_min : (o > p->act_max ? p->act_max : o);
}

static inline int8_t el_opt_add1(const el_arith_params *p, int is_sub, int32_t a, int32_t b)
{
    return (int8_t)el_opt_addsub1(p, is_sub, a, b);
}

/* The kernels for the active instruction set (never NULL). */
const el_opt_kernels *el_opt_kernels_for(uint32_t isa); /* isa: an el_ctx_isa() value */

void el_opt_gemm_c(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                   int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
void el_opt_dw_c(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride, int32_t n,
                 int32_t *acc);
void el_opt_dw_run_c(int32_t taps, const int8_t *x0, const int32_t *toff, int32_t xstep,
                     int32_t npix, const int8_t *f, int32_t fstride, int32_t n, int32_t *acc);
void el_opt_requant_c(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc, int32_t ldacc,
                      int8_t *out, int32_t ldout);
/* Cortex-M DSP only (NULL elsewhere): see el_opt_kernels.gemm_rq. */
int el_opt_gemm_rq_dsp(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                       int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout);

void el_opt_rowsum_c(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out);
void el_opt_add_c(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a, const int8_t *b,
                  int8_t *out);

#if defined(__x86_64__) && defined(__GNUC__)
#define EL_OPT_HAVE_AVX2 1
void el_opt_gemm_avx2(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                      int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
void el_opt_dw_avx2(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride,
                    int32_t n, int32_t *acc);
void el_opt_requant_avx2(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                         int32_t ldacc, int8_t *out, int32_t ldout);
void el_opt_rowsum_avx2(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out);
void el_opt_add_avx2(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                     const int8_t *b, int8_t *out);
void el_opt_dw_sums_avx2(int32_t taps, const int8_t *f, int32_t fstride, int32_t n,
                         const int32_t *bias, int32_t off, int32_t *out);
size_t el_opt_sum_rows_avx2(const int8_t *x, size_t r, size_t inner, uint32_t *acc);
size_t el_opt_sum_rows_f32_avx2(const float *x, size_t r, size_t inner, float *acc);
size_t el_opt_mean_out_avx2(const int32_t *sum, size_t n, int32_t sub, int32_t m, int32_t shift,
                            int32_t zp, int8_t *out);
/* x86_avx2_fused.c: see el_opt_kernels.gemm_rq, dw_rq_ok and dw_rq */
int el_opt_gemm_rq_avx2(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                        int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout);
void el_opt_gemm_pack_avx2(int32_t n, int32_t k, const int8_t *b, int8_t *packed);
int32_t el_opt_gemm_pack_stride_avx2(int32_t k);
int el_opt_dw_rq_ok_avx2(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq);
void el_opt_dw_rq_avx2(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                       int8_t *out, int32_t ostep);
#endif

/* SSE4.1 (x86_sse41.c): the int8 GEMM, depthwise taps and requantization on 128-bit vectors,
 * for x86-64 CPUs without AVX2. */
#if defined(__x86_64__) && defined(__GNUC__)
#define EL_OPT_HAVE_SSE41 1
void el_opt_gemm_sse41(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                       int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
void el_opt_dw_sse41(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride,
                     int32_t n, int32_t *acc);
void el_opt_requant_sse41(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                          int32_t ldacc, int8_t *out, int32_t ldout);
#endif

/* AVX-512 VNNI (vpdpbusd on 256-bit vectors, EVEX) and AVX-VNNI (the same, VEX encoded): the
 * compiler must know both extensions (GCC 11, Clang 14). */
#if defined(EL_OPT_HAVE_AVX2) &&                                                                   \
    ((defined(__clang__) && __clang_major__ >= 14) || (!defined(__clang__) && __GNUC__ >= 11))
#define EL_OPT_HAVE_VNNI 1
void el_opt_gemm_vnni512(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                         int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
void el_opt_gemm_avxvnni(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                         int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
/* x86_vnni_fused.c (AVX-512 VNNI + BW on 512-bit vectors): see el_opt_kernels.gemm_rq */
int el_opt_gemm_rq_vnni512(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                           int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout);
void el_opt_gemm_pack_vnni512(int32_t n, int32_t k, const int8_t *b, int8_t *packed);
int32_t el_opt_gemm_pack_stride_vnni512(int32_t k);
void el_opt_dw_rq_vnni512(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                          const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                          int8_t *out, int32_t ostep);
void el_opt_add_vnni512(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                        const int8_t *b, int8_t *out);
#endif

/* The float32 GEMM register tile of each instruction set (f32_body.h drives it):
 * rows i < F_MR of C (c + i * ldc), columns j < F_NP (two vectors), over k:
 *   acc = EL_F32_FIRST ? (init ? init[j] : 0) : c[i][j];  acc = fma(a[i][kk], b[kk * F_NP + j],
 *   acc) for kk < k in order;  EL_F32_LAST: clamp to [lo, hi];  store for i < mr, j < nr.
 * Rows past mr repeat a[mr - 1] (the driver fills a[] to F_MR) and are not stored. */
#define EL_F32_FIRST 1
#define EL_F32_LAST 2

#if defined(EL_OPT_HAVE_AVX2)
int el_opt_conv2d_f32_avx2(const el_conv_params *p, const el_dims *in_dims, const float *in,
                           const el_dims *f_dims, const float *filter, const float *packed,
                           const float *bias, const el_dims *out_dims, float *out, int32_t c0,
                           int32_t c1);
size_t el_opt_conv2d_f32_packed_avx2(const el_dims *in_dims, const el_dims *f_dims);
void el_opt_conv2d_f32_pack_avx2(const el_dims *in_dims, const el_dims *f_dims, const float *filter,
                                 float *packed);
int el_opt_depthwise_f32_avx2(const el_conv_params *p, const el_dims *in_dims, const float *in,
                              const el_dims *f_dims, const float *filter, const float *bias,
                              const el_dims *out_dims, float *out);
int el_opt_fc_f32_avx2(const el_fc_params *p, int32_t batches, int32_t depth, const float *in,
                       int32_t units, const float *filter, const float *bias, float *out);
int el_opt_maxpool_f32_avx2(const el_pool_params *p, const el_dims *in_dims, const float *in,
                            const el_dims *out_dims, float *out);
#endif

/* x86_avx512f.c: the float32 CONV_2D GEMM on 512-bit vectors (AVX2's panels and small-patch
 * conv; EL_OPT_ISA_AVX512F, with AVX2) */
#if defined(EL_OPT_HAVE_AVX2)
#define EL_OPT_HAVE_AVX512F 1
int el_opt_conv2d_f32_avx512f(const el_conv_params *p, const el_dims *in_dims, const float *in,
                              const el_dims *f_dims, const float *filter, const float *packed,
                              const float *bias, const el_dims *out_dims, float *out, int32_t c0,
                              int32_t c1);
size_t el_opt_conv2d_f32_packed_avx512f(const el_dims *in_dims, const el_dims *f_dims);
void el_opt_conv2d_f32_pack_avx512f(const el_dims *in_dims, const el_dims *f_dims,
                                    const float *filter, float *packed);
/* x86_avx512f_dw.c: float32 DEPTHWISE_CONV_2D on 512-bit vectors (layers of 16+ channels) */
int el_opt_depthwise_f32_avx512f(const el_conv_params *p, const el_dims *in_dims, const float *in,
                                 const el_dims *f_dims, const float *filter, const float *bias,
                                 const el_dims *out_dims, float *out);
#endif

#if defined(__aarch64__) && defined(__GNUC__)
#define EL_OPT_HAVE_NEON 1
void el_opt_gemm_neon(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                      int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
void el_opt_gemm_sdot(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                      int32_t ldb, const int32_t *bsum, int32_t *c, int32_t ldc);
void el_opt_dw_neon(int32_t taps, const int8_t *const *x, const int8_t *f, int32_t fstride,
                    int32_t n, int32_t *acc);
void el_opt_dw_run_neon(int32_t taps, const int8_t *x0, const int32_t *toff, int32_t xstep,
                        int32_t npix, const int8_t *f, int32_t fstride, int32_t n, int32_t *acc);
int el_opt_conv2d_f32_neon(const el_conv_params *p, const el_dims *in_dims, const float *in,
                           const el_dims *f_dims, const float *filter, const float *packed,
                           const float *bias, const el_dims *out_dims, float *out, int32_t c0,
                           int32_t c1);
size_t el_opt_conv2d_f32_packed_neon(const el_dims *in_dims, const el_dims *f_dims);
void el_opt_conv2d_f32_pack_neon(const el_dims *in_dims, const el_dims *f_dims, const float *filter,
                                 float *packed);
int el_opt_depthwise_f32_neon(const el_conv_params *p, const el_dims *in_dims, const float *in,
                              const el_dims *f_dims, const float *filter, const float *bias,
                              const el_dims *out_dims, float *out);
int el_opt_fc_f32_neon(const el_fc_params *p, int32_t batches, int32_t depth, const float *in,
                       int32_t units, const float *filter, const float *bias, float *out);
int el_opt_maxpool_f32_neon(const el_pool_params *p, const el_dims *in_dims, const float *in,
                            const el_dims *out_dims, float *out);
void el_opt_requant_neon(const el_opt_rq *rq, int32_t m, int32_t n, const int32_t *acc,
                         int32_t ldacc, int8_t *out, int32_t ldout);
void el_opt_rowsum_neon(int32_t n, int32_t k, const int8_t *b, int32_t ldb, int32_t *out);
void el_opt_dw_sums_neon(int32_t taps, const int8_t *f, int32_t fstride, int32_t n,
                         const int32_t *bias, int32_t off, int32_t *out);
int el_opt_dw_rq_ok_neon(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq);
void el_opt_dw_rq_neon(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                       int8_t *out, int32_t ostep);
int el_opt_dw_rq_ok_sdot(const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq);
void el_opt_dw_rq_sdot(const int8_t *const *rows, int32_t dstep, int32_t xstep, int32_t npix,
                       const int8_t *f, int32_t fstride, int32_t n, const el_opt_rq *rq,
                       int8_t *out, int32_t ostep);
int el_opt_gemm_rq_sdot(int32_t m, int32_t n, int32_t k, const int8_t *const *a, const int8_t *b,
                        int32_t ldb, const el_opt_rq *rq, int8_t *out, int32_t ldout);
void el_opt_gemm_pack_sdot(int32_t n, int32_t k, const int8_t *b, int8_t *packed);
int32_t el_opt_gemm_pack_stride_sdot(int32_t k);
void el_opt_add_neon(const el_arith_params *p, int is_sub, int32_t n, const int8_t *a,
                     const int8_t *b, int8_t *out);
#endif

#endif
