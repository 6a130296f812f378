/* x86-64 AVX-512F: the float32 CONV_2D GEMM (f32_body.h's conv part, F_GEMM_ONLY) with a
 * register tile of 512-bit vectors, compiled for AVX-512 function by function (target
 * attribute) and called only when the CPU has it (conv_f32.c, EL_OPT_ISA_AVX512F), so the
 * library still runs on any x86-64. Depthwise: x86_avx512f_dw.c; FULLY_CONNECTED and pooling
 * stay on AVX2.
 *
 * Why: a CPU with full-width AVX-512 datapaths (AMD Zen 5, Intel server cores) does twice the
 * multiply-adds per instruction of AVX2 on them; XNNPACK's AVX-512 kernels ran MobileNetV2-1.0/224
 * float 1.54x faster than our AVX2 tile on a Zen 5 EPYC (benchmarks/README.md, stop 38).
 *
 * The filter panels are AVX2's (16 columns x k, x86_avx2_f32.h, packed at prepare into the
 * same bytes), so the arena does not depend on which of the two runs; one vector holds a
 * panel's row. Tile: up to 12 rows x 2 panels (24 accumulators, two panel loads and twelve
 * broadcasts per k), shorter row groups in 8- or 4-row tiles. Every output's sequence is
 * AVX2's (acc = bias or the partial sum, fma(a, w, acc) for each k in order, the clamp), so
 * the bytes equal the AVX2 path's and do not depend on the tile an output falls in. */
#include <string.h>

#include "opt_internal.h"

#if defined(EL_OPT_HAVE_AVX512F)
#include <immintrin.h>
#include <math.h>

#include "x86_avx2_f32.h"

#define Z_ATTR __attribute__((target("avx2,fma,avx512f")))
#define Z_INLINE Z_ATTR static inline __attribute__((always_inline))
#define Z_MR 12 /* rows of the tallest tile (the driver's F_MR) */

/* lanes < nr set (nr <= 16) */
Z_INLINE __mmask16 zmask(int32_t nr)
{
    return nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1u);
}

/* R rows x P panels of 16 columns (ldb floats apart), the last panel's columns masked by mlast
 * unless `whole` (every column stored: plain loads and stores, as masked 512-bit stores cost
 * far more on Zen 5: the 112x112x16 -> 96 expansion, all stores, ran 1.8x AVX2's time with
 * them); rows i >= mr repeat a[mr - 1] (the driver fills a[] so) and are not stored. R, P and
 * whole are constants after inlining, so the accumulators live in registers. */
Z_INLINE void ztile(int32_t k, const float *const *a, const float *b, size_t ldb, const float *init,
                    int32_t flags, float lo_f, float hi_f, float *c, int32_t ldc, int32_t mr,
                    __mmask16 mlast, const int R, const int P, const int whole)
{
    __m512 acc[Z_MR][2];
    const float *ar[Z_MR];
    int i, p;
    int32_t kk;
#pragma GCC unroll 12
    for (i = 0; i < R; ++i) {
        ar[i] = a[i];
#pragma GCC unroll 2
        for (p = 0; p < P; ++p) {
            const __mmask16 m = p == P - 1 ? mlast : (__mmask16)0xFFFF;
            if (flags & EL_F32_FIRST) {
                acc[i][p] = !init   ? _mm512_setzero_ps()
                            : whole ? _mm512_loadu_ps(init + 16 * p)
                                    : _mm512_maskz_loadu_ps(m, init + 16 * p);
            } else {
                acc[i][p] = i >= mr ? _mm512_setzero_ps()
                            : whole ? _mm512_loadu_ps(c + (size_t)i * ldc + 16 * p)
                                    : _mm512_maskz_loadu_ps(m, c + (size_t)i * ldc + 16 * p);
            }
        }
    }
    for (kk = 0; kk < k; ++kk) {
        const __m512 w0 = _mm512_loadu_ps(b + (size_t)kk * 16);
        const __m512 w1 = P > 1 ? _mm512_loadu_ps(b + ldb + (size_t)kk * 16) : w0;
#pragma GCC unroll 12
        for (i = 0; i < R; ++i) {
            const __m512 x = _mm512_set1_ps(ar[i][kk]);
            acc[i][0] = _mm512_fmadd_ps(x, w0, acc[i][0]);
            if (P > 1) {
                acc[i][1] = _mm512_fmadd_ps(x, w1, acc[i][1]);
            }
        }
    }
#pragma GCC unroll 12
    for (i = 0; i < R; ++i) {
        if (i >= mr) {
            break;
        }
#pragma GCC unroll 2
        for (p = 0; p < P; ++p) {
            const __mmask16 m = p == P - 1 ? mlast : (__mmask16)0xFFFF;
            __m512 v = acc[i][p];
            if (flags & EL_F32_LAST) { /* clamp8's operand order: a NaN passes through */
                v = _mm512_min_ps(_mm512_set1_ps(hi_f), _mm512_max_ps(_mm512_set1_ps(lo_f), v));
            }
            if (whole) {
                _mm512_storeu_ps(c + (size_t)i * ldc + 16 * p, v);
            } else {
                _mm512_mask_storeu_ps(c + (size_t)i * ldc + 16 * p, m, v);
            }
        }
    }
}

/* One instantiation per tile shape: R rows (12, 8, 4) x P panels (2, 1), whole panels (W 1)
 * or a last one of fewer columns (W 0, P 1). */
#define Z_TILE_FN(R, P, W)                                                                         \
    Z_ATTR static void ztile_##R##x##P##_##W(                                                      \
        int32_t k, const float *const *a, const float *b, size_t ldb, const float *init,           \
        int32_t flags, float lo, float hi, float *c, int32_t ldc, int32_t mr, __mmask16 mlast)     \
    {                                                                                              \
        ztile(k, a, b, ldb, init, flags, lo, hi, c, ldc, mr, mlast, R, P, W);                      \
    }
Z_TILE_FN(12, 2, 1)
Z_TILE_FN(12, 1, 1)
Z_TILE_FN(8, 2, 1)
Z_TILE_FN(8, 1, 1)
Z_TILE_FN(4, 2, 1)
Z_TILE_FN(4, 1, 1)
Z_TILE_FN(12, 1, 0)
Z_TILE_FN(8, 1, 0)
Z_TILE_FN(4, 1, 0)
#undef Z_TILE_FN

typedef void (*ztile_fn)(int32_t k, const float *const *a, const float *b, size_t ldb,
                         const float *init, int32_t flags, float lo, float hi, float *c,
                         int32_t ldc, int32_t mr, __mmask16 mlast);

/* The shortest tile holding mr rows, of P whole panels, or of one panel of fewer columns (P 0)
 * (a last group of a few rows computes few repeated ones). */
static ztile_fn ztile_for(int32_t mr, int P)
{
    if (mr > 8) {
        return P == 2 ? ztile_12x2_1 : P == 1 ? ztile_12x1_1 : ztile_12x1_0;
    }
    if (mr > 4) {
        return P == 2 ? ztile_8x2_1 : P == 1 ? ztile_8x1_1 : ztile_8x1_0;
    }
    return P == 2 ? ztile_4x2_1 : P == 1 ? ztile_4x1_1 : ztile_4x1_0;
}

/* f32_body.h's F_FTILE_PANELS: np whole panels of the same rows, two at a time. */
Z_ATTR static void ftile_panels_avx512f(int32_t k, const float *const *a, const float *b,
                                        size_t ldb, int32_t np, const float *init, int32_t flags,
                                        float lo, float hi, float *c, int32_t ldc, int32_t mr)
{
    const ztile_fn two = ztile_for(mr, 2), one = ztile_for(mr, 1);
    int32_t p = 0;
    for (; p + 2 <= np; p += 2) {
        two(k, a, b + (size_t)p * ldb, ldb, init ? init + 16 * p : NULL, flags, lo, hi, c + 16 * p,
            ldc, mr, (__mmask16)0xFFFF);
    }
    if (p < np) {
        one(k, a, b + (size_t)p * ldb, ldb, init ? init + 16 * p : NULL, flags, lo, hi, c + 16 * p,
            ldc, mr, (__mmask16)0xFFFF);
    }
}

/* f32_body.h's F_FN(ftile): a last panel of nr < 16 columns (or a layer of fewer than 16). */
Z_ATTR static void ftile_avx512f(int32_t k, const float *const *a, const float *b,
                                 const float *init, int32_t flags, float lo, float hi, float *c,
                                 int32_t ldc, int32_t mr, int32_t nr)
{
    ztile_for(mr, 0)(k, a, b, 0, init, flags, lo, hi, c, ldc, mr, zmask(nr));
}

#define F_FTILE_PANELS(k, a, b, ldb, np, init, flags, lo, hi, c, ldc, mr)                          \
    ftile_panels_avx512f(k, a, b, ldb, np, init, flags, lo, hi, c, ldc, mr)
#define F_GEMM_ONLY 1
#define F_PACKED_BLOCK 2 /* 1x1 convs of k > 512 (7x7 and 14x14 maps) then get pairs too */
#define F_ATTR Z_ATTR
#define F_FN(x) x##_avx512f
#define F_MR Z_MR
#include "x86_f32_ymm.h" /* the panels' layout and the small-patch conv: AVX2's */
#include "f32_body.h"

#else
/* ISO C forbids an empty translation unit. */
typedef int el_opt_x86_avx512f_unused;
#endif
